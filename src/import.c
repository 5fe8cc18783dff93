/*
 * import.c - the ingest pipeline: input stream -> objects -> parse -> validate -> store.
 *
 * One code path for every ingest: reader.c cuts the stream into objects, util/json.c parses each
 * strictly, stix.c validates it, values.c finds its observable values, and store.c appends it with
 * its index entries and audit record.  Objects are committed in batches (one SQLite transaction
 * each); a batch is reported through on_progress only after its COMMIT returned, so a caller that
 * prints "committed N" never claims an object that a crash could lose.
 *
 * Failure policy:
 *   - an object that is not valid JSON or not valid STIX is rejected with a message naming its
 *     index, id, property and rule; an audit record says so; the import goes on (default) or the
 *     whole input is rolled back (ACCORD_IMPORT_STRICT: everything is one transaction);
 *   - a broken stream skeleton (a truncated file, garbage between objects) ends the import: the
 *     objects before it stay committed (default) or nothing is kept (strict);
 *   - store errors abandon the open batch, never a committed one.
 *
 * It does not read files by name (the caller opens them), print, or decide exit codes.
 */
#include "accord.h"
#include "import.h"
#include "member.h"
#include "provenance.h"
#include "reader.h"
#include "stix.h"
#include "store.h"
#include "util/json.h"
#include "util/timestamp.h"
#include "util/uuid.h"
#include "values.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_BATCH 20000
/* A default batch also ends after this many bytes of input, so that the rows of one transaction
 * stay well inside SQLite's page cache (64 MiB, store.c); past it SQLite spills dirty pages to
 * the WAL in the middle of the transaction and reads them back.  Measured on 20,000 batch-signed
 * indicators (29 MB as received): 5.7-11.8 us of system time per object in one transaction,
 * 3.7-4.7 in transactions of 12 MB (unsigned ones, 17 MB: 1.4-2.6 either way). */
#define DEFAULT_BATCH_BYTES ((uint64_t)12 << 20)
#define MAX_VALUES 4096

typedef struct import_ctx {
    accord_store *store;
    const accord_import_options *opts;
    accord_import_stats st;
    ajson_arena arena;
    char *body;
    size_t body_cap;
    uint64_t values[MAX_VALUES];
    size_t nvalues;
    uint64_t in_batch;
    /* input bytes of the objects in the open batch */
    uint64_t batch_bytes;
    int64_t cid; /* the collection objects go to */
    int strict;
    int outer;   /* the caller's transaction holds the objects: no BEGIN, COMMIT or ROLLBACK here */
    int compact; /* objects arrive as compact JSON (no whitespace outside strings) */
    /* provenance: verification of signed objects, signing with ACCORD_IMPORT_SIGN */
    prov_verifier *pv;
    prov_sigs *sigs, *known; /* the object's signatures; those stored already */
    prov_form form;          /* its signed bytes (form.canon) and stored form with a hole */
    buf sbody;
    accord_sign_key *skey;
    char signer[MEMBER_ID_LEN + 1], keyid[MEMBER_KEYID_HEX + 1];
    int published; /* accord's extension-definitions are in the collection (prov_publish) */
    import_hooks hooks;
    const struct prep_item *cur; /* import_fd_prepared: what was done for this object already */
} import_ctx;

/* What provenance() decided for one object. */
typedef struct signed_obj {
    int is_signed;               /* body is the canonical form with a signature list */
    int identity_keys;           /* an identity with a key list: keys change when stored */
    const ajson_value *content;  /* the object without its signatures */
    uint64_t chash;              /* content hash for the store */
    const char *conflict;        /* why this copy conflicts with the stored version, or NULL */
    const buf *body;             /* is_signed: the stored form (c->sbody or c->form.skel) */
    const buf *canon;            /* JCS(content) when the signature step wrote it, else NULL */
} signed_obj;

static void add_value(void *ud, const char *value, size_t len)
{
    import_ctx *c = ud;
    if (c->nvalues < MAX_VALUES)
        c->values[c->nvalues++] = store_value_hash(value, len);
}

/* Reports one rejected object to the caller and the audit log. */
static int reject(import_ctx *c, const reader_item *it, const char *id, const char *property,
                  const char *rule, const char *what, accord_error *err)
{
    char msg[768];
    char where[160];
    if (id)
        snprintf(where, sizeof(where), "object %llu (%.100s)", (unsigned long long)it->index, id);
    else
        snprintf(where, sizeof(where), "object %llu at byte %llu", (unsigned long long)it->index,
                 (unsigned long long)it->offset);
    snprintf(msg, sizeof(msg), "%s: %s", where, what);
    c->st.rejected++;
    if (c->opts->on_reject) {
        accord_reject r = {.index = it->index,
                           .offset = it->offset,
                           .id = id,
                           .property = property,
                           .rule = rule,
                           .message = msg};
        c->opts->on_reject(c->opts->ud, &r);
    }
    if (c->strict)
        return accord_err_set(err, ACCORD_ESTRICT, "%s", msg);
    return c->store ? store_audit(c->store, "rejected", 0, id, msg, err) : 0;
}

static int ensure_body(import_ctx *c, size_t len)
{
    if (c->body_cap >= len)
        return 0;
    size_t cap = c->body_cap ? c->body_cap : 65536;
    while (cap < len)
        cap *= 2;
    char *b = realloc(c->body, cap);
    if (!b)
        return ACCORD_ENOMEM;
    c->body = b;
    c->body_cap = cap;
    return 0;
}

/* 1 for an object rejected and reported, or reject()'s error (strict mode, the audit write). */
static int rejected(int rc)
{
    return rc ? rc : 1;
}

/*
 * Reports a copy of a stored version that is not that version (other content, or signed where the
 * stored one is not or the other way round): the stored one is kept, an audit record says why and
 * where the copy came from (opts->source: "peer NAME (URL)" for a pull).  An equivocation, both
 * differing copies signed by their creator, gets its own audit action and rule: it is evidence
 * against the creator, where a plain conflict may be anyone's doing.
 */
static int conflict(import_ctx *c, const reader_item *it, const stix_info *info, const char *why,
                    int equivocation, accord_error *err)
{
    const char *rule = equivocation ? "equivocation" : "version-conflict";
    char what[640];
    c->st.conflicts++;
    snprintf(what, sizeof(what),
             "version modified=%s is already stored %s; the stored one is kept (rule %s)%s%.300s",
             info->modified ? info->modified : "(none)", why, rule,
             c->opts->source ? "; received from " : "", c->opts->source ? c->opts->source : "");
    if (c->opts->on_reject) {
        char msg[800];
        snprintf(msg, sizeof(msg), "object %llu (%.100s): %s", (unsigned long long)it->index,
                 info->id, what);
        accord_reject r = {.index = it->index,
                           .offset = it->offset,
                           .id = info->id,
                           .property = "modified",
                           .rule = rule,
                           .message = msg};
        c->opts->on_reject(c->opts->ud, &r);
    }
    if (c->strict)
        return accord_err_set(err, ACCORD_ESTRICT, "object %llu (%s): %s",
                              (unsigned long long)it->index, info->id, what);
    return store_audit(c->store, equivocation ? "equivocation" : "conflict", 0, info->id, what,
                       err);
}

/*
 * Whether an unsigned copy whose bytes differ from the stored version's is that version after
 * all: unsigned objects are stored as received, so a relay that reorders keys or re-serialises
 * changes the bytes (and their hash) without changing the object.  Compares RFC 8785 canonical
 * forms (signed copies are hashed over theirs already).  1 when equal, with *stored_hash the
 * stored version's content hash (to store the copy as the duplicate it is); 0 when not; negative
 * on errors.
 */
static int same_canonical(import_ctx *c, const stix_info *info, const ajson_value *root,
                          uint64_t *stored_hash, accord_error *err)
{
    int64_t seq;
    char *old = NULL;
    size_t olen = 0;
    if (!store_version_find(c->store, info, &seq, stored_hash))
        return 0;
    int rc = store_body_get(c->store, seq, &old, &olen, err);
    if (rc)
        return rc;
    buf a, b;
    buf_init(&a, (size_t)1 << 27);
    buf_init(&b, (size_t)1 << 27);
    ajson_error jerr;
    const ajson_value *stored = ajson_parse(&c->arena, old, olen, &jerr);
    if (!stored)
        rc = accord_err_set(err, ACCORD_ECORRUPT, "import: stored version %lld is unreadable",
                            (long long)seq);
    else if (prov_canonical(stored, &a, NULL) || prov_canonical(root, &b, NULL))
        rc = 0; /* a number JCS refuses: no canonical form, the bytes decided */
    else
        rc = a.len == b.len && memcmp(a.p, b.p, a.len) == 0;
    buf_free(&a);
    buf_free(&b);
    free(old);
    return rc;
}

/*
 * 1 when sigs hold a valid signature by creator over the content with canonical form
 * jcs[0..len), 0 when not, negative on errors.  Each of creator's signatures is checked on its
 * own, so a valid one is not hidden by an invalid or unknown one beside it.
 */
static int creator_signed(import_ctx *c, const char *creator, const char *jcs, size_t len,
                          const prov_sigs *sigs, accord_error *err)
{
    uint8_t hash[32];
    int rc = 0;
    prov_sigs *one = malloc(sizeof(*one));
    if (!one)
        return accord_err_set(err, ACCORD_ENOMEM, "import: out of memory");
    prov_object_hash(jcs, len, hash);
    for (size_t i = 0; !rc && i < sigs->n; i++) {
        if (strcmp(sigs->v[i].signer_ref, creator) != 0)
            continue;
        prov_result res;
        one->n = 1;
        one->v[0] = sigs->v[i];
        if (!(rc = prov_verify(c->pv, jcs, len, hash, creator, one, ts_now_us(), &res, err)))
            rc = res.status == PROV_AUTHORED;
    }
    free(one);
    return rc;
}

/*
 * Whether a signed copy that conflicts with the stored version is an equivocation: the creator
 * (created_by_ref) validly signed both differing copies.  The incoming copy's canonical form is
 * c->form.canon and its signatures c->sigs; the stored one is read back.  1, 0, or negative.
 */
static int equivocation(import_ctx *c, const stix_info *info, const ajson_value *root,
                        accord_error *err)
{
    const char *creator = ajson_str(ajson_get(root, "created_by_ref"));
    int64_t seq;
    uint64_t stored_hash;
    if (!creator || !store_version_find(c->store, info, &seq, &stored_hash))
        return 0;
    int rc = creator_signed(c, creator, c->form.canon.p, c->form.canon.len, c->sigs, err);
    if (rc <= 0)
        return rc;
    char *old = NULL;
    size_t olen = 0;
    if ((rc = store_body_get(c->store, seq, &old, &olen, err)))
        return rc;
    prov_sigs *have = malloc(sizeof(*have));
    const ajson_value *stored, *content;
    ajson_error jerr;
    buf canon;
    buf_init(&canon, (size_t)1 << 27);
    if (!have)
        rc = accord_err_set(err, ACCORD_ENOMEM, "import: out of memory");
    else if (!(stored = ajson_parse(&c->arena, old, olen, &jerr)) ||
             prov_parse(&c->arena, stored, &content, have, NULL) != 0 ||
             prov_canonical(content, &canon, NULL) != 0)
        rc = accord_err_set(err, ACCORD_ECORRUPT, "import: stored version %lld is unreadable",
                            (long long)seq);
    else
        rc = creator_signed(c, creator, canon.p, canon.len, have, err);
    buf_free(&canon);
    free(have);
    free(old);
    return rc;
}

/*
 * A signed and an unsigned copy of one version are two claims, not one: whoever strips the
 * signatures from a signed object, or offers a signed copy of what was stored unsigned, changes
 * what a reader can tell about who produced it.  So either way round it is a conflict, whatever
 * the bytes, and the stored copy stays.  Sets so->conflict; negative on store errors.
 */
static int signed_mismatch(import_ctx *c, const stix_info *info, int incoming_signed,
                           signed_obj *so)
{
    int64_t seq;
    uint64_t stored_hash;
    if (!store_version_find(c->store, info, &seq, &stored_hash))
        return 0;
    int stored_signed = store_sig_any(c->store, seq);
    if (stored_signed < 0)
        return stored_signed;
    if (stored_signed && !incoming_signed)
        so->conflict = "signed, and this copy is unsigned";
    else if (!stored_signed && incoming_signed)
        so->conflict = "unsigned, and this copy is signed";
    return 0;
}

/* Moves the signatures version seq already holds out of c->sigs into c->known. */
static void drop_known(import_ctx *c, int64_t seq)
{
    size_t n = 0;
    c->known->n = 0;
    for (size_t i = 0; i < c->sigs->n; i++) {
        const prov_sig *s = &c->sigs->v[i];
        if (store_sig_has(c->store, seq, s->keyid, s->sig))
            c->known->v[c->known->n++] = *s;
        else if (n++ != i)
            c->sigs->v[n - 1] = *s;
    }
    c->sigs->n = n;
}

/*
 * What import_prepare did for one object before the store's lock was taken, so that storing it
 * does not do it again (import_fd_prepared).  Everything points into the prepared import's arena.
 */
typedef struct prep_item {
    reader_item it;          /* it.text: minified when it is stored as received (root set,
                                not signed), the stored form when signed (forms), else as read */
    const ajson_value *root; /* NULL: not valid JSON or STIX, checked again and reported when
                                stored (a rejection is reported in input order, under the lock) */
    stix_info info;
    const uint64_t *values; /* the observable values' hashes (values_extract) */
    size_t nvalues;
    int forms; /* a signed object: its signed bytes and stored form below */
    const char *canon, *skel;
    size_t canon_len, skel_len, hole_start, hole_end;
    int as_stored;
    uint8_t hash[32];           /* forms: the object hash (prov_object_hash of canon) */
    uint64_t chash;             /* forms: store_content_hash of canon */
    const ajson_value *content; /* forms: root without its signatures (prov_parse) */
    const prov_sig *sigs;       /* forms: its signatures as prov_parse read them */
    size_t nsigs;
} prep_item;

/* prov_object_hash of the object being stored, or what import_prepare computed. */
static void object_hash(const import_ctx *c, const buf *canon, uint8_t out[32])
{
    if (c->cur && c->cur->forms)
        memcpy(out, c->cur->hash, 32);
    else
        prov_object_hash(canon->p, canon->len, out);
}

/* The forms of the object being stored (prov_forms_text), or a copy of what import_prepare
 * computed. */
static int forms_of(import_ctx *c, const reader_item *it, const ajson_value *root,
                    const ajson_value *content, const ajson_value *ext, accord_error *err)
{
    const prep_item *x = c->cur;
    if (!x || !x->forms)
        return prov_forms_text(&c->arena, root, it->text, it->len, content, ext, c->sigs, &c->form,
                               err);
    buf_reset(&c->form.canon);
    buf_reset(&c->form.skel);
    c->form.hole_start = x->hole_start;
    c->form.hole_end = x->hole_end;
    c->form.as_stored = x->as_stored;
    if (buf_add(&c->form.canon, x->canon, x->canon_len) ||
        buf_add(&c->form.skel, x->skel, x->skel_len))
        return accord_err_set(err, ACCORD_ENOMEM, "out of memory canonicalising");
    return 0;
}

/* prov_parse of the object being stored into c->sigs, or a copy of what import_prepare read. */
static int parse_sigs(import_ctx *c, const ajson_value *root, const ajson_value **content,
                      accord_error *err)
{
    const prep_item *x = c->cur;
    if (!x || !x->forms)
        return prov_parse(&c->arena, root, content, c->sigs, err);
    *content = x->content;
    c->sigs->n = x->nsigs;
    memcpy(c->sigs->v, x->sigs, x->nsigs * sizeof(*x->sigs));
    return 0;
}

/*
 * The signature step of one valid object: parses the signature extension, verifies it (an
 * identity's key list by the rotation rules), signs with ACCORD_IMPORT_SIGN, and points so->body
 * at the stored form (canonical, sorted list): c->form.skel when the list is stored as received
 * in that form, else c->sbody, written here.  Returns 0, 1 when the object was rejected
 * (reported and audited), or a negative error.
 */
static int provenance(import_ctx *c, const reader_item *it, const ajson_value *root,
                      const stix_info *info, signed_obj *so, accord_error *err)
{
    accord_error perr = {0};
    memset(so, 0, sizeof(*so));
    int rc = parse_sigs(c, root, &so->content, &perr);
    if (rc == ACCORD_ENOMEM)
        return accord_err_set(err, rc, "import: out of memory");
    if (rc)
        return rejected(reject(c, it, info->id, "extensions", "signature-format", perr.msg, err));
    so->identity_keys = strcmp(info->type, "identity") == 0 &&
                        ajson_get(ajson_get(so->content, "extensions"), MEMBER_KEYS_EXT);
    /* accord's own extension-definitions are published unsigned (provenance_publish.c) */
    const accord_sign_key *skey = c->skey && !prov_is_shipped(so->content) ? c->skey : NULL;
    if (!c->sigs->n && !skey && !so->identity_keys) {
        if ((rc = signed_mismatch(c, info, 0, so)))
            return accord_err_set(err, rc, "import: cannot read the stored version of %s",
                                  info->id);
        return 0;
    }
    /* the received list in the skeleton: when it is stored as it came (the common case), the
     * skeleton is the stored form and nothing is written twice */
    const ajson_value *ext = c->sigs->n ? ajson_get(ajson_get(root, "extensions"), PROV_SIG_EXT)
                                        : NULL;
    if ((rc = forms_of(c, it, root, so->content, ext, &perr)) == ACCORD_ENOMEM)
        return accord_err_set(err, rc, "import: out of memory");
    if (rc)
        return rejected(reject(c, it, info->id, NULL, "canonical-json", perr.msg, err));
    const buf *canon = so->canon = &c->form.canon;
    so->chash = c->cur && c->cur->forms ? c->cur->chash : store_content_hash(canon->p, canon->len);
    /* signatures this node verified when it stored this very content are not checked again
     * (and a key compromised since does not undo what was accepted before) */
    int64_t seq;
    uint64_t stored_hash;
    int found = store_version_find(c->store, info, &seq, &stored_hash);
    int known = found && stored_hash == so->chash;
    if (found && (c->sigs->n || skey)) {
        int stored_signed = store_sig_any(c->store, seq);
        if (stored_signed < 0)
            return accord_err_set(err, stored_signed,
                                  "import: cannot read the stored version of %s", info->id);
        if (!stored_signed) {
            so->conflict = "unsigned, and this copy is signed";
            return 0;
        }
    }
    prov_result res = {.status = PROV_ENDORSED}; /* IMPORT_VERIFIED: the caller checked */
    if (!(c->opts->flags & IMPORT_VERIFIED)) {
        uint8_t hash[32];
        object_hash(c, canon, hash);
        if (known && c->sigs->n)
            drop_known(c, seq);
        if (so->identity_keys && !known) /* a stored key list was vetted when it was stored */
            rc = prov_verify_identity(c->pv, so->content, canon->p, canon->len, hash, c->sigs,
                                      ts_now_us(), &res, err);
        else
            rc = prov_verify(c->pv, canon->p, canon->len, hash,
                             ajson_str(ajson_get(root, "created_by_ref")), c->sigs, ts_now_us(),
                             &res, err);
        if (rc)
            return rc;
    }
    if (res.status == PROV_INVALID) {
        char what[400];
        snprintf(what, sizeof(what), "%s (rule signature)", res.reason);
        return rejected(reject(c, it, info->id, "extensions", "signature", what, err));
    }
    for (size_t i = 0; i < c->known->n; i++)
        prov_sigs_add(c->sigs, &c->known->v[i]);
    c->known->n = 0;
    int grew = 0; /* the list is no longer the one received */
    if (skey) {
        prov_sig mine;
        if ((rc = prov_sign(skey, c->signer, c->keyid, canon->p, canon->len, &mine)))
            return accord_err_set(err, rc, "import: cannot sign %s", info->id);
        grew = prov_sigs_add(c->sigs, &mine);
    }
    so->is_signed = c->sigs->n > 0;
    so->body = NULL;
    buf_reset(&c->sbody);
    if (!so->is_signed) {
        so->chash = 0;
        return 0;
    }
    if (c->form.as_stored && !grew) { /* c->sigs holds what was received, known ones back in */
        so->body = &c->form.skel;
        return 0;
    }
    so->body = &c->sbody;
    return prov_stored(&c->form, c->sigs, &c->sbody, err);
}

/*
 * Records the signatures of a version stored before: the union with its stored list (verified
 * when it was stored), the body rewritten in place when that list grew.  (A new version's list
 * is in the body it was stored with.)
 */
static int store_endorsements(import_ctx *c, int64_t seq, const char *id, accord_error *err)
{
    store_sig rows[PROV_MAX_SIGS];
    size_t n = 0;
    char *old = NULL;
    size_t olen = 0;
    int rc = 0;
    prov_sigs *have = malloc(sizeof(*have));
    const ajson_value *stored, *content;
    ajson_error jerr;
    if (!have)
        return accord_err_set(err, ACCORD_ENOMEM, "import: out of memory");
    if ((rc = store_body_get(c->store, seq, &old, &olen, err)))
        goto out;
    if (!(stored = ajson_parse(&c->arena, old, olen, &jerr)) ||
        prov_parse(&c->arena, stored, &content, have, NULL) != 0) {
        rc = accord_err_set(err, ACCORD_ECORRUPT, "import: stored version %lld is unreadable",
                            (long long)seq);
        goto out;
    }
    for (size_t i = 0; i < c->sigs->n; i++)
        if (prov_sigs_add(have, &c->sigs->v[i]))
            rows[n++] = (store_sig){c->sigs->v[i].keyid, c->sigs->v[i].signer_ref,
                                    c->sigs->v[i].sig};
    if (!n)
        goto out;
    buf_reset(&c->sbody);
    if (!(rc = prov_write(&c->arena, content, have, &c->sbody, err)))
        rc = store_signatures_endorse(c->store, seq, id, c->sbody.p, c->sbody.len, rows, n, err);
out:
    free(old);
    free(have);
    return rc;
}

/* Loads the signing key and this node's organisation for ACCORD_IMPORT_SIGN. */
static int load_signer(import_ctx *c, accord_error *err)
{
    member_signer ms;
    int rc = member_signer_load(c->store, c->opts->data_dir, &ms, err);
    if (!rc) {
        c->skey = ms.key;
        memcpy(c->signer, ms.id, sizeof(c->signer));
        memcpy(c->keyid, ms.keyid, sizeof(c->keyid));
    }
    return rc;
}

/* The caller's accept hook on one object: 0 go on, 1 dropped, negative errors. */
static int accept_hook(import_ctx *c, const reader_item *it, const ajson_value *root,
                       const stix_info *info, const signed_obj *so, accord_error *err)
{
    import_object o = {.root = root,
                       .content = so->content ? so->content : root,
                       .id = info->id,
                       .modified = info->modified,
                       .sigs = c->sigs,
                       .canon = so->canon ? so->canon->p : NULL,
                       .canon_len = so->canon ? so->canon->len : 0,
                       .hash = so->canon && c->cur && c->cur->forms ? c->cur->hash : NULL,
                       .index = it->index};
    return c->hooks.accept(c->hooks.ud, &o, err);
}

static int import_value(import_ctx *c, const reader_item *it, const ajson_value *root,
                        accord_error *err);
static int store_item(import_ctx *c, const reader_item *it, const ajson_value *root,
                      const stix_info *valid, accord_error *err);

/* Parses, validates and stores one item.  Returns 0 also for rejected objects (unless strict). */
static int import_item(import_ctx *c, const reader_item *it, accord_error *err)
{
    ajson_error jerr;
    ajson_arena_reset(&c->arena);
    c->st.read++;
    if (c->cur && c->cur->root) /* parsed and validated by import_prepare */
        return store_item(c, it, c->cur->root, &c->cur->info, err);
    const ajson_value *root = ajson_parse(&c->arena, it->text, it->len, &jerr);
    if (!root) {
        char what[256];
        snprintf(what, sizeof(what), "invalid JSON at byte %llu: %s (rule json-syntax)",
                 (unsigned long long)(it->offset + jerr.offset), jerr.msg);
        return reject(c, it, NULL, NULL, "json-syntax", what, err);
    }
    return import_value(c, it, root, err);
}

/* import_item's steps after the parse (root: it->text parsed, in any arena). */
static int import_value(import_ctx *c, const reader_item *it, const ajson_value *root,
                        accord_error *err)
{
    if (root->type != AJSON_OBJECT) {
        char what[128];
        snprintf(what, sizeof(what), "is a JSON %s, not a STIX object (rule object-type)",
                 ajson_type_name(root->type));
        return reject(c, it, NULL, NULL, "object-type", what, err);
    }
    stix_info info;
    stix_problem prob;
    memset(&info, 0, sizeof(info));
    if (stix_validate(root, it->bundle_spec, &info, &prob) != 0) {
        const char *id = info.id ? info.id : ajson_str(ajson_get(root, "id"));
        return reject(c, it, id, prob.property[0] ? prob.property : NULL, prob.rule, prob.message,
                      err);
    }
    if (!c->store) { /* validation only */
        c->st.accepted++;
        return 0;
    }
    return store_item(c, it, root, &info, err);
}

/* Stores one valid object: its provenance step, the store, the signatures, the counts. */
static int store_item(import_ctx *c, const reader_item *it, const ajson_value *root,
                      const stix_info *valid, accord_error *err)
{
    stix_info info = *valid;
    signed_obj so;
    int rc = provenance(c, it, root, &info, &so, err);
    if (rc)
        return rc > 0 ? 0 : rc; /* > 0: rejected and reported */
    if (c->hooks.accept && (rc = accept_hook(c, it, root, &info, &so, err)))
        return rc > 0 ? 0 : rc; /* > 0: dropped and reported by the hook */
    if (so.conflict)
        return conflict(c, it, &info, so.conflict, 0, err);
    const char *body = so.is_signed ? so.body->p : NULL;
    size_t blen = so.is_signed ? so.body->len : 0;
    if (!so.is_signed) {
        if ((c->compact && !c->hooks.spaced) || c->cur) {
            body = it->text;
            blen = it->len;
        } else {
            if ((rc = ensure_body(c, it->len)))
                return accord_err_set(err, rc, "import: out of memory");
            blen = ajson_minify(it->text, it->len, c->body);
            body = c->body;
        }
        so.chash = store_content_hash(body, blen);
    }
    if ((so.is_signed || so.identity_keys) && !c->published &&
        (rc = prov_publish(c->store, c->cid, err)) == 0)
        c->published = 1;
    if (rc)
        return rc;
    c->nvalues = 0;
    if (c->cur) {
        memcpy(c->values, c->cur->values, c->cur->nvalues * sizeof(c->values[0]));
        c->nvalues = c->cur->nvalues;
    } else {
        values_extract(root, info.type, add_value, c);
    }
    store_outcome outcome;
    int64_t seq;
    rc = store_put_hashed(c->store, c->cid, &info, body, blen, so.chash, c->values, c->nvalues,
                          &outcome, &seq, err);
    uint64_t stored_hash;
    if (!rc && outcome == STORE_CONFLICT && !so.is_signed &&
        (rc = same_canonical(c, &info, root, &stored_hash, err)) == 1)
        rc = store_put_hashed(c->store, c->cid, &info, body, blen, stored_hash, c->values,
                              c->nvalues, &outcome, &seq, err);
    if (rc < 0)
        return rc;
    if (!rc && so.is_signed && outcome != STORE_CONFLICT && outcome != STORE_NEW &&
        outcome != STORE_VERSION)
        rc = store_endorsements(c, seq, info.id, err);
    if (!rc && so.identity_keys && (outcome == STORE_NEW || outcome == STORE_VERSION))
        rc = prov_verifier_learn(c->pv, so.content, ts_now_us(), err);
    if (rc)
        return rc;
    if (outcome != STORE_CONFLICT && c->opts->on_object)
        c->opts->on_object(c->opts->ud, info.id, info.modified ? info.modified : "",
                           outcome != STORE_DUPLICATE);
    switch (outcome) {
    case STORE_NEW:
    case STORE_LINKED:
        c->st.accepted++;
        break;
    case STORE_VERSION:
        c->st.versions++;
        break;
    case STORE_DUPLICATE:
        c->st.duplicates++;
        break;
    case STORE_CONFLICT:
        if (so.is_signed && (rc = equivocation(c, &info, root, err)) < 0)
            return rc;
        return conflict(c, it, &info,
                        so.is_signed && rc ? "with other content, and both copies are signed by "
                                             "their creator"
                                           : "with other content",
                        so.is_signed && rc, err);
    }
    return 0;
}

static int commit_batch(import_ctx *c, reader *r, accord_error *err)
{
    int rc = c->store && !c->outer ? store_commit(c->store, err) : 0;
    if (rc)
        return rc;
    c->st.committed = c->st.read;
    if (r)
        c->st.bytes_read = reader_bytes_in(r);
    c->in_batch = 0;
    c->batch_bytes = 0;
    if (c->opts->on_progress)
        c->opts->on_progress(c->opts->ud, &c->st);
    return 0;
}

/* After a strict import failed: one audit record for the whole input. */
static void audit_strict_failure(import_ctx *c, const char *why)
{
    accord_error e2;
    if (c->store && store_begin(c->store, &e2) == 0) {
        char detail[700];
        snprintf(detail, sizeof(detail), "%s: whole input rejected (--strict): %s",
                 c->opts->source ? c->opts->source : "input", why);
        if (store_audit(c->store, "rejected", 0, NULL, detail, &e2) == 0)
            store_commit(c->store, &e2);
        else
            store_rollback(c->store);
    }
}

/* Opens an import transaction; a batch adds many versions, so their rows are written in bulk
 * (store_rows.c: every other statement on the store writes them first). */
static int begin(accord_store *store, accord_error *err)
{
    int rc = store ? store_begin(store, err) : 0;
    if (!rc && store)
        store_rows_defer(store);
    return rc;
}

static void rollback(accord_store *store)
{
    if (store)
        store_rollback(store);
}

/* Sets up c for an import into store (NULL validates only); ctx_free undoes it. */
static int ctx_init(import_ctx *c, accord_store *store, int outer,
                    const accord_import_options *opts, accord_error *err)
{
    static const accord_import_options dflt = {0};
    memset(c, 0, sizeof(*c));
    c->store = store;
    c->opts = opts ? opts : &dflt;
    c->outer = outer;
    c->strict = outer || (c->opts->flags & ACCORD_IMPORT_STRICT) != 0;
    ajson_arena_init(&c->arena, 0);
    buf_init(&c->form.canon, (size_t)1 << 27);
    buf_init(&c->form.skel, (size_t)1 << 27);
    buf_init(&c->sbody, (size_t)1 << 27);
    if (!store)
        return 0;
    int rc = store_collection_resolve(store, c->opts->collection, &c->cid, err);
    if (rc)
        return rc;
    if (prov_verifier_new(store, &c->pv) || !(c->sigs = malloc(sizeof(*c->sigs))) ||
        !(c->known = calloc(1, sizeof(*c->known))))
        return accord_err_set(err, ACCORD_ENOMEM, "import: out of memory");
    if ((c->opts->flags & ACCORD_IMPORT_SIGN) && (rc = load_signer(c, err)))
        return rc;
    return 0;
}

static void ctx_free(import_ctx *c)
{
    ajson_arena_free(&c->arena);
    free(c->body);
    buf_free(&c->form.canon);
    buf_free(&c->form.skel);
    buf_free(&c->sbody);
    free(c->sigs);
    free(c->known);
    prov_verifier_free(c->pv);
    accord_sign_key_free(c->skey);
}

/*
 * The end of an import whose objects are all read (or whose reading failed with stream_rc, or
 * whose last object failed with rc): commits, or rolls back and audits a strict failure, and sets
 * the outcome as accord_import_fd describes it.
 */
static int finish(import_ctx *c, reader *r, int rc, int stream_rc, accord_error *err)
{
    if (c->strict && (rc || stream_rc)) {
        /* nothing of this input is kept: every object read counts as rejected (in the caller's
         * transaction, the caller rolls back and records the failure) */
        if (!c->outer) {
            rollback(c->store);
            audit_strict_failure(c, err ? err->msg : "rejected");
        }
        c->st.committed = c->st.accepted = c->st.versions = c->st.duplicates = c->st.conflicts = 0;
        c->st.rejected = c->st.read;
        if (err) {
            char why[sizeof(err->msg)];
            snprintf(why, sizeof(why), "%s", err->msg);
            accord_err_set(err, ACCORD_ESTRICT, "%s: whole input rejected (--strict): %s",
                           c->opts->source ? c->opts->source : "input", why);
        }
        return ACCORD_ESTRICT;
    }
    if (!rc && c->hooks.before_commit && c->store)
        rc = c->hooks.before_commit(c->hooks.ud, c->store, err);
    if (rc) {
        if (!c->outer)
            rollback(c->store);
        return rc;
    }
    if ((rc = commit_batch(c, r, err)))
        return rc;
    if (stream_rc)
        return stream_rc;
    if (c->st.rejected || c->st.conflicts)
        return accord_err_set(err, ACCORD_ESTIX, "%llu object(s) rejected, %llu conflict(s)",
                              (unsigned long long)c->st.rejected,
                              (unsigned long long)c->st.conflicts);
    return 0;
}

static int next_prepared(import_ctx *c, import_prep *p, size_t *at, reader_item *it);
static void adopt_verifier(import_ctx *c, import_prep *p);
static const char *prepared_errmsg(const import_prep *p);
static uint64_t prepared_bytes(const import_prep *p);

/* The pipeline; store NULL validates only.  Objects come from fd, or from p when not NULL (what
 * import_prepare read and did; fd is not read then). */
static int run_import(accord_store *store, int outer, int fd, import_prep *p,
                      const accord_import_options *opts, const import_hooks *h,
                      accord_import_stats *out, accord_error *err)
{
    import_ctx c;
    int rc = ctx_init(&c, store, outer, opts, err), stream_rc = 0;
    if (h)
        c.hooks = *h;
    uint64_t batch = c.opts->batch_objects ? c.opts->batch_objects : DEFAULT_BATCH;
    /* the byte bound applies to default batches of an import without hooks: a caller with a
     * before_commit hook (a TAXII POST) relies on one transaction for its input */
    uint64_t batch_bytes = c.opts->batch_objects || h ? UINT64_MAX : DEFAULT_BATCH_BYTES;
    reader *r = NULL;
    size_t at = 0;
    if (rc)
        goto done;
    if (p) {
        adopt_verifier(&c, p);
    } else if ((rc = reader_open(fd, 0, &r))) {
        accord_err_set(err, rc, "import: cannot read the input: %s", accord_strerror(rc));
        goto done;
    }
    if (!outer && (rc = begin(store, err)))
        goto done;
    for (;;) {
        reader_item it;
        int n = p ? next_prepared(&c, p, &at, &it) : reader_next(r, &it);
        if (n < 0) {
            stream_rc = n;
            accord_err_set(err, n, "%s: %s (rule %s)", c.opts->source ? c.opts->source : "input",
                           p ? prepared_errmsg(p) : reader_errmsg(r),
                           n == ACCORD_ELIMIT ? "object-size"
                           : n == ACCORD_EIO  ? "io"
                                              : "json-syntax");
            break;
        }
        if (n == 0)
            break;
        if ((rc = import_item(&c, &it, err)))
            break;
        c.batch_bytes += it.len;
        if (!c.strict && (++c.in_batch >= batch || c.batch_bytes >= batch_bytes) &&
            (rc = commit_batch(&c, r, err)) == 0)
            rc = begin(store, err);
        if (rc)
            break;
    }
    rc = finish(&c, r, rc, stream_rc, err);
done:
    if (r)
        c.st.bytes_read = reader_bytes_in(r);
    else if (p)
        c.st.bytes_read = prepared_bytes(p);
    if (out)
        *out = c.st;
    reader_close(r);
    ctx_free(&c);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Objects handed over one at a time (import.h)                                                */

struct import_session {
    import_ctx c;
    uint64_t offset; /* where the next object would start in the equivalent JSON-lines stream */
    int failed;      /* an object failed with an error: only a rollback remains */
};

int import_session_open(accord_store *store, const accord_import_options *opts,
                        import_session **out, accord_error *err)
{
    *out = NULL;
    if (!store)
        return accord_err_set(err, ACCORD_EINVAL, "import: no store");
    import_session *s = malloc(sizeof(*s));
    if (!s)
        return accord_err_set(err, ACCORD_ENOMEM, "import: out of memory");
    int rc = ctx_init(&s->c, store, 0, opts, err);
    s->offset = 0;
    s->failed = 0;
    s->c.compact = 1;
    if (!rc)
        rc = begin(store, err);
    if (rc) {
        ctx_free(&s->c);
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}

int import_session_object(import_session *s, const char *text, size_t len, accord_error *err)
{
    if (s->failed)
        return accord_err_set(err, ACCORD_EINVAL, "import: an earlier object failed");
    reader_item it = {.text = text, .len = len, .offset = s->offset, .index = s->c.st.read};
    s->offset += len + 1;
    int rc = import_item(&s->c, &it, err);
    s->failed = rc != 0;
    return rc;
}

void import_session_hooks(import_session *s, const import_hooks *h)
{
    s->c.hooks = *h;
}

int import_session_parsed(import_session *s, const ajson_value *root, const char *text, size_t len,
                          accord_error *err)
{
    if (s->failed)
        return accord_err_set(err, ACCORD_EINVAL, "import: an earlier object failed");
    reader_item it = {.text = text, .len = len, .offset = s->offset, .index = s->c.st.read};
    s->offset += len + 1;
    ajson_arena_reset(&s->c.arena);
    s->c.st.read++;
    int rc = import_value(&s->c, &it, root, err);
    s->failed = rc != 0;
    return rc;
}

int import_session_close(import_session *s, int rc, accord_import_stats *out, accord_error *err)
{
    if (!s)
        return rc;
    rc = finish(&s->c, NULL, rc, 0, err);
    s->c.st.bytes_read = s->offset;
    if (out)
        *out = s->c.st;
    ctx_free(&s->c);
    free(s);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Work before the store's lock (import.h: import_prepare, import_fd_prepared)                  */

struct import_prep {
    ajson_arena arena; /* the trees, texts, values and forms of every object */
    prep_item *items;
    size_t n, cap;
    int stream_rc; /* how the stream ended: 0, or the reader's error after the items */
    char stream_msg[200];
    uint64_t bytes_read;
    prov_verifier *pv; /* what was proven: handed to the import that stores the objects */
    int prove;         /* prove signatures under IMPORT_VERIFIED too (import_prepare_parsed) */
    prov_sigs sigs;    /* scratch */
    prov_form form;    /* scratch */
    uint64_t values[MAX_VALUES];
    size_t nvalues;
};

static void prep_value(void *ud, const char *value, size_t len)
{
    import_prep *p = ud;
    if (p->nvalues < MAX_VALUES)
        p->values[p->nvalues++] = store_value_hash(value, len);
}

/*
 * The signed bytes and stored form of a signed object, and its signatures checked (the proofs
 * land in p->pv's cache; whether they are judged valid is decided when the object is stored, with
 * the keys as they are then).  An identity carrying a key list is left whole to that step: how it
 * is checked depends on what is stored.  Objects this cannot read are left to it as well, which
 * reports them.
 */
static int prep_signed(import_prep *p, prep_item *x, unsigned flags, accord_error *err)
{
    const ajson_value *content, *ext;
    accord_error perr;
    if (prov_parse(&p->arena, x->root, &content, &p->sigs, &perr) || !p->sigs.n ||
        (strcmp(x->info.type, "identity") == 0 &&
         ajson_get(ajson_get(content, "extensions"), MEMBER_KEYS_EXT)))
        return 0;
    ext = ajson_get(ajson_get(x->root, "extensions"), PROV_SIG_EXT);
    if (prov_forms_text(&p->arena, x->root, x->it.text, x->it.len, content, ext, &p->sigs, &p->form,
                        &perr))
        return 0;
    if (!(x->canon = ajson_arena_strndup(&p->arena, p->form.canon.p, p->form.canon.len)) ||
        !(x->skel = ajson_arena_strndup(&p->arena, p->form.skel.p, p->form.skel.len)))
        return accord_err_set(err, ACCORD_ENOMEM, "import: out of memory");
    x->canon_len = p->form.canon.len;
    x->skel_len = p->form.skel.len;
    x->hole_start = p->form.hole_start;
    x->hole_end = p->form.hole_end;
    x->as_stored = p->form.as_stored;
    prov_object_hash(x->canon, x->canon_len, x->hash);
    x->chash = store_content_hash(x->canon, x->canon_len);
    /* the signatures' cryptography, done here once: the store step judges each proven one by
     * its key's status then and does not hash or verify again (prov_prove) */
    int rc = flags & IMPORT_VERIFIED && !p->prove
                 ? 0
                 : prov_prove(p->pv, x->canon, x->canon_len, x->hash, &p->sigs, err);
    prov_sig *sigs = ajson_arena_alloc(&p->arena, p->sigs.n * sizeof(*sigs));
    if (rc || !sigs)
        return rc ? rc : accord_err_set(err, ACCORD_ENOMEM, "import: out of memory");
    memcpy(sigs, p->sigs.v, p->sigs.n * sizeof(*sigs));
    x->sigs = sigs;
    x->nsigs = p->sigs.n;
    x->content = content;
    x->forms = 1;
    return 0;
}

/* Parses (unless the caller did: parsed, from in->text), validates and prepares one object. */
static int prep_one(import_prep *p, const reader_item *in, const ajson_value *parsed,
                    unsigned flags, accord_error *err)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 256;
        prep_item *v = realloc(p->items, cap * sizeof(*v));
        if (!v)
            return accord_err_set(err, ACCORD_ENOMEM, "import: out of memory");
        p->items = v;
        p->cap = cap;
    }
    prep_item *x = &p->items[p->n];
    ajson_error jerr;
    stix_problem prob;
    memset(x, 0, sizeof(*x));
    x->it = *in;
    if (in->bundle_spec &&
        !(x->it.bundle_spec = ajson_arena_strndup(&p->arena, in->bundle_spec, strlen(in->bundle_spec))))
        return accord_err_set(err, ACCORD_ENOMEM, "import: out of memory");
    const ajson_value *root = parsed ? parsed : ajson_parse(&p->arena, in->text, in->len, &jerr);
    p->n++;
    if (!root || root->type != AJSON_OBJECT ||
        stix_validate(root, in->bundle_spec, &x->info, &prob) != 0) {
        x->root = NULL; /* checked again, and reported, when stored */
        return (x->it.text = ajson_arena_strndup(&p->arena, in->text, in->len))
                   ? 0
                   : accord_err_set(err, ACCORD_ENOMEM, "import: out of memory");
    }
    x->root = root;
    p->nvalues = 0;
    values_extract(root, x->info.type, prep_value, p);
    uint64_t *values = ajson_arena_alloc(&p->arena, p->nvalues * sizeof(*values) + 1);
    if (!values)
        return accord_err_set(err, ACCORD_ENOMEM, "import: out of memory");
    memcpy(values, p->values, p->nvalues * sizeof(*values));
    x->values = values;
    x->nvalues = p->nvalues;
    int rc = prep_signed(p, x, flags, err); /* on the text as read (x->it.text is in->text) */
    if (rc)
        return rc;
    if (x->forms) { /* stored in its canonical form, which is all the store step reads */
        x->it.text = x->skel;
        x->it.len = x->skel_len;
        return 0;
    }
    char *text = ajson_arena_alloc(&p->arena, in->len + 1); /* stored as received, minified */
    if (!text)
        return accord_err_set(err, ACCORD_ENOMEM, "import: out of memory");
    x->it.len = ajson_minify(in->text, in->len, text);
    text[x->it.len] = 0;
    x->it.text = text;
    return 0;
}

/*
 * Each thread keeps the last prepared import it freed (a thread-specific value): its arena keeps
 * its largest block across the reset, so a server thread preparing POST after POST writes into
 * memory it has touched before, where a fresh arena would fault every page of a few megabytes in
 * again for each request (measured: about a tenth of a signed POST's CPU time).  One whose arena
 * grew past PREP_KEEP is not kept; a thread's is freed when the thread ends.
 */
#define PREP_KEEP ((size_t)32 << 20)

static pthread_key_t prep_key;
static pthread_once_t prep_once = PTHREAD_ONCE_INIT;
static int prep_key_ok;

static void prep_destroy(void *ud)
{
    import_prep *p = ud;
    ajson_arena_free(&p->arena);
    free(p->items);
    prov_verifier_free(p->pv);
    buf_free(&p->form.canon);
    buf_free(&p->form.skel);
    free(p);
}

static void prep_key_init(void)
{
    prep_key_ok = pthread_key_create(&prep_key, prep_destroy) == 0;
}

void import_prep_free(import_prep *p)
{
    if (!p)
        return;
    pthread_once(&prep_once, prep_key_init);
    if (prep_key_ok && p->arena.used <= PREP_KEEP && !pthread_getspecific(prep_key)) {
        ajson_arena_reset(&p->arena);
        prov_verifier_free(p->pv);
        p->pv = NULL;
        p->n = 0;
        p->stream_rc = 0;
        p->bytes_read = 0;
        if (pthread_setspecific(prep_key, p) == 0)
            return;
    }
    prep_destroy(p);
}

/* This thread's kept prepared import, or a new one; NULL when out of memory. */
static import_prep *prep_take(void)
{
    import_prep *p = NULL;
    pthread_once(&prep_once, prep_key_init);
    if (prep_key_ok && (p = pthread_getspecific(prep_key)) != NULL) {
        pthread_setspecific(prep_key, NULL);
        return p;
    }
    if ((p = calloc(1, sizeof(*p))) != NULL) {
        ajson_arena_init(&p->arena, 0);
        buf_init(&p->form.canon, (size_t)1 << 27);
        buf_init(&p->form.skel, (size_t)1 << 27);
    }
    return p;
}

int import_prepare(accord_store *reader_store, int fd, const accord_import_options *opts,
                   import_prep **out, accord_error *err)
{
    import_prep *p = prep_take();
    reader *r = NULL;
    int rc = p ? 0 : ACCORD_ENOMEM;
    unsigned flags = opts ? opts->flags : 0;
    *out = NULL;
    if (!rc)
        rc = prov_verifier_new(reader_store, &p->pv);
    if (!rc)
        rc = reader_open(fd, 0, &r);
    if (rc) {
        accord_err_set(err, rc, "import: cannot prepare the input: %s", accord_strerror(rc));
        goto out;
    }
    reader_item it;
    int n;
    while ((n = reader_next(r, &it)) == 1)
        if ((rc = prep_one(p, &it, NULL, flags, err)))
            goto out;
    if (n < 0) {
        p->stream_rc = n;
        snprintf(p->stream_msg, sizeof(p->stream_msg), "%s", reader_errmsg(r));
    }
    p->bytes_read = reader_bytes_in(r);
out:
    reader_close(r);
    if (rc)
        import_prep_free(p);
    else
        *out = p;
    return rc;
}

int import_prepare_parsed(accord_store *reader_store, const import_text *objs, size_t n,
                          const accord_import_options *opts, import_prep **out,
                          accord_error *err)
{
    import_prep *p = prep_take();
    unsigned flags = opts ? opts->flags : 0;
    int rc = p ? prov_verifier_new(reader_store, &p->pv) : ACCORD_ENOMEM;
    uint64_t offset = 0;
    *out = NULL;
    if (rc) {
        import_prep_free(p);
        return accord_err_set(err, rc, "import: cannot prepare the input: %s", accord_strerror(rc));
    }
    p->prove = reader_store != NULL;
    for (size_t i = 0; !rc && i < n; i++) {
        /* offsets and indexes as in a JSON-lines stream of the same texts */
        reader_item it = {.text = objs[i].text, .len = objs[i].len, .offset = offset, .index = i};
        offset += objs[i].len + 1;
        rc = prep_one(p, &it, objs[i].root, flags, err);
    }
    p->bytes_read = offset;
    p->prove = 0;
    if (rc)
        import_prep_free(p);
    else
        *out = p;
    return rc;
}

/* The next prepared object as the reader gave it (1), the end (0), or the stream's error. */
static int next_prepared(import_ctx *c, import_prep *p, size_t *at, reader_item *it)
{
    if (*at == p->n) {
        c->cur = NULL;
        return p->stream_rc;
    }
    c->cur = &p->items[(*at)++];
    *it = c->cur->it;
    return 1;
}

/* The import takes over what the preparation proved; the keys are looked up again, on its own
 * store handle and under its transaction, when each object is judged. */
static void adopt_verifier(import_ctx *c, import_prep *p)
{
    if (!c->store || !p->pv)
        return;
    prov_verifier_free(c->pv);
    c->pv = p->pv;
    p->pv = NULL;
    prov_verifier_rebind(c->pv, c->store);
}

int import_prep_stream_ok(const import_prep *p, accord_error *err)
{
    return p->stream_rc ? accord_err_set(err, p->stream_rc, "%s", p->stream_msg) : 0;
}

static const char *prepared_errmsg(const import_prep *p)
{
    return p->stream_msg;
}

static uint64_t prepared_bytes(const import_prep *p)
{
    return p->bytes_read;
}

int import_fd_prepared(accord_store *store, import_prep *p, const accord_import_options *opts,
                       accord_import_stats *out, accord_error *err)
{
    if (!store || !p)
        return accord_err_set(err, ACCORD_EINVAL, "import: no store");
    return run_import(store, 0, -1, p, opts, NULL, out, err);
}

int import_fd_hooked(accord_store *store, import_prep *p, int fd, const accord_import_options *opts,
                     const import_hooks *h, accord_import_stats *out, accord_error *err)
{
    if (!store)
        return accord_err_set(err, ACCORD_EINVAL, "import: no store");
    return run_import(store, 0, p ? -1 : fd, p, opts, h, out, err);
}

int accord_import_fd(accord_store *store, int fd, const accord_import_options *opts,
                     accord_import_stats *out, accord_error *err)
{
    if (!store)
        return accord_err_set(err, ACCORD_EINVAL, "import: no store");
    return run_import(store, 0, fd, NULL, opts, NULL, out, err);
}

int import_fd_in_txn(accord_store *store, int fd, const accord_import_options *opts,
                     accord_import_stats *out, accord_error *err)
{
    if (!store)
        return accord_err_set(err, ACCORD_EINVAL, "import: no store");
    return run_import(store, 1, fd, NULL, opts, NULL, out, err);
}

int accord_validate_fd(int fd, const accord_import_options *opts, accord_import_stats *out,
                       accord_error *err)
{
    return run_import(NULL, 0, fd, NULL, opts, NULL, out, err);
}

int accord_validate_json(const char *text, size_t len, accord_error *err)
{
    ajson_arena a;
    ajson_arena_init(&a, 0);
    ajson_error jerr;
    int rc = 0;
    const ajson_value *root = ajson_parse(&a, text, len, &jerr);
    if (!root) {
        rc = accord_err_set(err, ACCORD_EJSON, "invalid JSON at byte %zu: %s", jerr.offset,
                            jerr.msg);
    } else if (root->type != AJSON_OBJECT) {
        rc = accord_err_set(err, ACCORD_ESTIX, "a JSON %s is not a STIX object",
                            ajson_type_name(root->type));
    } else {
        stix_info info;
        stix_problem prob;
        memset(&info, 0, sizeof(info));
        if (stix_validate(root, NULL, &info, &prob) != 0)
            rc = accord_err_set(err, ACCORD_ESTIX, "%s%s%s", info.id ? info.id : "",
                                info.id ? ": " : "", prob.message);
    }
    ajson_arena_free(&a);
    return rc;
}

int accord_value_normalize(const char *value, char *out, size_t outlen)
{
    long n = value_normalize(value, strlen(value), out, outlen);
    return n < 0 ? ACCORD_ELIMIT : 0;
}

int accord_timestamp_parse(const char *text, int64_t *us)
{
    ts_value t;
    if (!text || ts_parse(text, &t) != 0)
        return ACCORD_EINVAL;
    *us = t.sec * 1000000 + t.nsec / 1000;
    return 0;
}

void accord_timestamp_format(int64_t us, char *out, size_t outlen)
{
    ts_format_us(us, out, outlen);
}

int import_check_skeleton(int fd, uint64_t *objects, accord_error *err)
{
    reader *r = NULL;
    int rc = reader_open(fd, 0, &r);
    *objects = 0;
    if (rc)
        return accord_err_set(err, rc, "cannot read the input: %s", accord_strerror(rc));
    reader_item it;
    while ((rc = reader_next(r, &it)) == 1)
        (*objects)++;
    if (rc < 0)
        accord_err_set(err, rc, "%s", reader_errmsg(r));
    reader_close(r);
    return rc < 0 ? rc : 0;
}

int64_t accord_timestamp_now(void)
{
    return ts_now_us();
}

void accord_uuid4(char *out)
{
    uuid4_make(out);
}
