/*
 * misp_store.c - the store side of a MISP import: the STIX objects the mapper writes, stored one
 * transaction per event with their index entries and audit records.
 *
 * Why not the ordinary import pipeline (import.c): that pipeline takes objects from anyone, so
 * it validates every object against the whole of STIX 2.1 and runs the provenance step, which
 * together cost more than storing the object.  The objects here are accord's own: misp_map.c
 * and misp_attr.c write them from a closed set of shapes, and every shape is checked by
 * construction elsewhere - fuzz/misp.c runs accord's full validation over every object the
 * mapper writes for any input, tests/unit/test_misp.c compares this file's reading of the
 * mapper's objects with the validator's, and a build without NDEBUG (the sanitizer build) or
 * ACCORD_MISP_VALIDATE=1 in the environment validates each object fully here as well.  So an
 * object is parsed once (the store needs its values and an indicator's columns from the tree)
 * and its properties are read, not checked.
 *
 * Everything else is as import.c does it, so MISP content is stored exactly like any STIX input:
 *   - an object stored before unsigned and arriving the same is a duplicate; a stored version
 *     with other content, or stored signed, is a conflict (reported, audited, the stored one
 *     kept);
 *   - an object that does not parse or is not valid (validating builds) is rejected: reported
 *     through on_reject and audited, or, with ACCORD_IMPORT_STRICT, the end of the import;
 *   - one audit record per stored version (store_put_ref writes it).
 *
 * What it does not do: sign or verify signatures (MISP content arrives unsigned; a signed import
 * goes through import.c), or commit on its own: open, objects, close is one transaction.
 */
#include "misp.h"

#include "stix.h"
#include "store.h"
#include "values.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define SINK_MAX_VALUES 4096

struct misp_sink {
    accord_store *store;
    const accord_import_options *opts;
    accord_import_stats st;
    ajson_arena arena;
    ajson_arena stored; /* the stored version an identity or cluster is compared with */
    int64_t cid;
    int strict;
    int validate; /* validate each object fully (see the top of the file) */
    int failed;   /* an object failed with an error: only a rollback remains */
    uint64_t offset;
    uint64_t values[SINK_MAX_VALUES];
    size_t nvalues;
    u64map shared; /* identity/cluster id hash -> shared_hash of what this sink stored or kept */
};

static int validate_all(void)
{
#ifndef NDEBUG
    return 1;
#else
    const char *e = getenv("ACCORD_MISP_VALIDATE");
    return e && *e && strcmp(e, "0") != 0;
#endif
}

static int is_true(const ajson_value *v)
{
    return v && v->type == AJSON_TRUE;
}

int misp_stix_info(const ajson_value *obj, stix_info *info)
{
    memset(info, 0, sizeof(*info));
    if (!obj || obj->type != AJSON_OBJECT)
        return -1;
    info->id = ajson_str(ajson_get(obj, "id"));
    info->type = ajson_str(ajson_get(obj, "type"));
    info->spec_version = ajson_str(ajson_get(obj, "spec_version"));
    if (!info->id || !info->type || !info->spec_version || strcmp(info->spec_version, "2.1") != 0)
        return -1; /* not one of the mapper's shapes: the validator decides */
    info->kind = stix_type_kind(info->type);
    info->revoked = is_true(ajson_get(obj, "revoked"));
    if (info->kind != STIX_KIND_SCO) {
        info->created = ajson_str(ajson_get(obj, "created"));
        if (strcmp(info->type, "marking-definition") != 0)
            info->modified = ajson_str(ajson_get(obj, "modified"));
    }
    tlp_label_json(obj, &info->label);
    info->obj = obj;
    return 0;
}

int misp_sink_open(accord_store *store, const accord_import_options *opts, misp_sink **out,
                   accord_error *err)
{
    *out = NULL;
    misp_sink *s = calloc(1, sizeof(*s));
    if (!s)
        return accord_err_set(err, ACCORD_ENOMEM, "misp: out of memory");
    s->store = store;
    s->opts = opts;
    s->strict = (opts->flags & ACCORD_IMPORT_STRICT) != 0;
    s->validate = validate_all();
    ajson_arena_init(&s->arena, 0);
    ajson_arena_init(&s->stored, 0);
    u64map_init(&s->shared);
    int rc = store_collection_resolve(store, opts->collection, &s->cid, err);
    if (!rc)
        rc = store_begin(store, err);
    if (!rc)
        store_rows_defer(store); /* a batch adds many versions: their rows in bulk */
    if (rc) {
        ajson_arena_free(&s->arena);
        ajson_arena_free(&s->stored);
        u64map_free(&s->shared);
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}

/* Reports object `index` (id may be NULL) as rejected: to the caller and the audit log, or, in
 * strict mode, as the import's end. */
static int reject(misp_sink *s, uint64_t index, uint64_t offset, const char *id,
                  const char *property, const char *rule, const char *what, accord_error *err)
{
    char msg[768];
    if (id)
        snprintf(msg, sizeof(msg), "object %llu (%.100s): %s", (unsigned long long)index, id, what);
    else
        snprintf(msg, sizeof(msg), "object %llu at byte %llu: %s", (unsigned long long)index,
                 (unsigned long long)offset, what);
    s->st.rejected++;
    if (s->opts->on_reject) {
        accord_reject r = {.index = index,
                           .offset = offset,
                           .id = id,
                           .property = property,
                           .rule = rule,
                           .message = msg};
        s->opts->on_reject(s->opts->ud, &r);
    }
    if (s->strict)
        return accord_err_set(err, ACCORD_ESTRICT, "%s", msg);
    return store_audit(s->store, "rejected", 0, id, msg, err);
}

/* A version stored already with other content, or signed: the stored one is kept. */
static int conflict(misp_sink *s, uint64_t index, uint64_t offset, const stix_info *info,
                    const char *why, accord_error *err)
{
    char what[320];
    s->st.conflicts++;
    snprintf(what, sizeof(what),
             "version modified=%s is already stored %s; the stored one is kept "
             "(rule version-conflict)",
             info->modified ? info->modified : "(none)", why);
    if (s->opts->on_reject) {
        char msg[480];
        snprintf(msg, sizeof(msg), "object %llu (%.100s): %s", (unsigned long long)index,
                 info->id, what);
        accord_reject r = {.index = index,
                           .offset = offset,
                           .id = info->id,
                           .property = "modified",
                           .rule = "version-conflict",
                           .message = msg};
        s->opts->on_reject(s->opts->ud, &r);
    }
    if (s->strict)
        return accord_err_set(err, ACCORD_ESTRICT, "object %llu (%s): %s",
                              (unsigned long long)index, info->id, what);
    return store_audit(s->store, "conflict", 0, info->id, what, err);
}

static void add_value(void *ud, const char *value, size_t len)
{
    misp_sink *s = ud;
    if (s->nvalues < SINK_MAX_VALUES)
        s->values[s->nvalues++] = store_value_hash(value, len);
}

/* ------------------------------------------------------------------------------------------ */
/* Identities and galaxy clusters: a new version only when the content changed                  */

/*
 * Every event writes its creator's identity and its galaxy clusters again, with the event's
 * timestamp as created and modified.  Stored as they come, each event would add a version of the
 * same organisation and the same ATT&CK technique, and each new version is ranked against every
 * stored one: over a MISP instance's history (thousands of events by one org) that is quadratic.
 * So an identity or cluster whose latest stored version says the same, apart from created and
 * modified, is not written again: the stored one is what the event names.  One id lookup and one
 * body parse per identity and cluster of an event.
 */

static int shared_type(const char *type)
{
    static const char *const t[] = {"identity",    "attack-pattern",   "intrusion-set",
                                    "threat-actor", "malware",          "tool",
                                    "course-of-action", "x-misp-galaxy-cluster"};
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (strcmp(type, t[i]) == 0)
            return 1;
    return 0;
}

/* 1 when a and b are the same JSON value; members in the same order (the mapper's), and for
 * objects at the top level (top 1), created and modified skipped. */
static int same_json(const ajson_value *a, const ajson_value *b, int top)
{
    if (a->type != b->type || a->len != b->len)
        return 0;
    switch (a->type) {
    case AJSON_NUMBER:
    case AJSON_STRING: return memcmp(a->u.str, b->u.str, a->len) == 0;
    case AJSON_ARRAY:
        for (size_t i = 0; i < a->len; i++)
            if (!same_json(&a->u.items[i], &b->u.items[i], 0))
                return 0;
        return 1;
    case AJSON_OBJECT:
        for (size_t i = 0; i < a->len; i++) {
            const ajson_member *x = &a->u.members[i], *y = &b->u.members[i];
            if (x->key_len != y->key_len || memcmp(x->key, y->key, x->key_len) != 0)
                return 0;
            if (top && (!strcmp(x->key, "created") || !strcmp(x->key, "modified")))
                continue;
            if (!same_json(&x->value, &y->value, 0))
                return 0;
        }
        return 1;
    default: return 1;
    }
}

typedef struct latest_cmp {
    misp_sink *s;
    const ajson_value *obj;
    int same;
} latest_cmp;

static int on_latest(void *ud, const accord_record *rec)
{
    latest_cmp *c = ud;
    ajson_error jerr;
    ajson_arena_reset(&c->s->stored);
    const ajson_value *o = ajson_parse(&c->s->stored, rec->body, rec->body_len, &jerr);
    c->same = o && same_json(c->obj, o, 1);
    return 0;
}

/*
 * A hash of an identity's or cluster's text without its created and modified values, so that two
 * events' copies of one organisation or cluster hash alike.  The store finds by id only what was
 * committed (its id index is written at commit), so within one transaction - a batch of events -
 * the copies are compared by this hash instead.  The mapper writes "created" and "modified" as
 * the first top-level keys of those names (sdo_head), 24-character timestamps, and a quote inside
 * a string is escaped, so the first unescaped "created":" is the top-level one.
 */
static uint64_t shared_hash(const char *text, size_t len)
{
    static const char *const keys[] = {"\"created\":\"", "\"modified\":\""};
    uint64_t h = 0;
    size_t from = 0;
    for (int k = 0; k < 2; k++) {
        size_t kl = strlen(keys[k]);
        const char *p = NULL;
        for (const char *q = text + from; q + kl <= text + len; q++)
            if (*q == '"' && memcmp(q, keys[k], kl) == 0) {
                p = q;
                break;
            }
        if (!p || (size_t)(p - text) + kl + 24 > len)
            break;
        size_t at = (size_t)(p - text) + kl;
        h = XXH3_64bits_withSeed(text + from, at - from, h);
        from = at + 24;
    }
    return XXH3_64bits_withSeed(text + from, len - from, h);
}

/* 1 when obj (an identity or cluster) says what its latest stored version says. */
static int same_as_stored(misp_sink *s, const stix_info *info)
{
    latest_cmp c = {s, info->obj, 0};
    accord_error e;
    return accord_store_get(s->store, info->id, 0, on_latest, &c, &e) == 0 && c.same;
}

/* Parses and stores one object; 0 also for an object rejected and reported (unless strict). */
static int put_object(misp_sink *s, const char *text, size_t len, uint64_t index, uint64_t offset,
                      accord_error *err)
{
    ajson_error jerr;
    ajson_arena_reset(&s->arena);
    const ajson_value *root = ajson_parse(&s->arena, text, len, &jerr);
    if (!root || root->type != AJSON_OBJECT) {
        char what[256];
        snprintf(what, sizeof(what), "invalid JSON at byte %llu: %s (rule json-syntax)",
                 (unsigned long long)(offset + (root ? 0 : jerr.offset)),
                 root ? "not an object" : jerr.msg);
        return reject(s, index, offset, NULL, NULL, "json-syntax", what, err);
    }
    stix_info info;
    stix_problem prob;
    if ((s->validate || misp_stix_info(root, &info) != 0) &&
        stix_validate(root, NULL, &info, &prob) != 0) {
        const char *id = info.id ? info.id : ajson_str(ajson_get(root, "id"));
        return reject(s, index, offset, id, prob.property[0] ? prob.property : NULL, prob.rule,
                      prob.message, err);
    }
    /* a signed copy of this version stored before is another claim (import.c's rule) */
    int64_t seq;
    store_vref ref; /* looked up once here, for the check below and the put */
    int known = store_version_ref(s->store, &info, &ref);
    if (known) {
        int sgn = store_sig_any(s->store, ref.seq);
        if (sgn < 0)
            return accord_err_set(err, sgn, "misp: cannot read the stored version of %s", info.id);
        if (sgn)
            return conflict(s, index, offset, &info, "signed, and this copy is unsigned", err);
    }
    uint64_t idk = 0, sh = 0, kept;
    if (shared_type(info.type)) {
        idk = u64map_key(XXH3_64bits(info.id, strlen(info.id)));
        sh = shared_hash(text, len);
        int seen = u64map_get(&s->shared, idk, &kept);
        if ((seen && kept == sh) || (!seen && same_as_stored(s, &info))) {
            if (!seen && u64map_put(&s->shared, idk, sh))
                return accord_err_set(err, ACCORD_ENOMEM, "misp: out of memory");
            s->st.duplicates++;
            if (s->opts->on_object)
                s->opts->on_object(s->opts->ud, info.id, info.modified ? info.modified : "", 0);
            return 0;
        }
    }
    s->nvalues = 0;
    if (!known) /* a stored version is compared by content hash: its values are indexed already */
        values_extract(root, info.type, add_value, s);
    store_outcome outcome;
    int rc = store_put_ref(s->store, s->cid, &info, &ref, text, len,
                           store_content_hash(text, len), s->values, s->nvalues, &outcome, &seq,
                           err);
    if (rc)
        return rc;
    if (idk && outcome != STORE_CONFLICT && u64map_put(&s->shared, idk, sh))
        return accord_err_set(err, ACCORD_ENOMEM, "misp: out of memory");
    switch (outcome) {
    case STORE_NEW:
    case STORE_LINKED: s->st.accepted++; break;
    case STORE_VERSION: s->st.versions++; break;
    case STORE_DUPLICATE: s->st.duplicates++; break;
    case STORE_CONFLICT: return conflict(s, index, offset, &info, "with other content", err);
    }
    if (s->opts->on_object)
        s->opts->on_object(s->opts->ud, info.id, info.modified ? info.modified : "",
                           outcome != STORE_DUPLICATE);
    return 0;
}

int misp_sink_object(misp_sink *s, const char *text, size_t len, accord_error *err)
{
    if (s->failed)
        return accord_err_set(err, ACCORD_EINVAL, "misp: an earlier object failed");
    uint64_t index = s->st.read++, offset = s->offset;
    s->offset += len + 1;
    int rc = put_object(s, text, len, index, offset, err);
    s->failed = rc != 0;
    return rc;
}

void misp_sink_stats(const misp_sink *s, accord_import_stats *out)
{
    *out = s->st;
    out->bytes_read = s->offset;
}

/* After a strict import failed: one audit record for the whole input, in its own transaction. */
static void audit_strict_failure(misp_sink *s, const char *why)
{
    accord_error e2;
    if (store_begin(s->store, &e2) != 0)
        return;
    char detail[700];
    snprintf(detail, sizeof(detail), "%s: whole input rejected (--strict): %s",
             s->opts->source ? s->opts->source : "input", why);
    if (store_audit(s->store, "rejected", 0, NULL, detail, &e2) == 0)
        store_commit(s->store, &e2);
    else
        store_rollback(s->store);
}

int misp_sink_close(misp_sink *s, int rc, accord_import_stats *out, accord_error *err)
{
    if (!s)
        return rc;
    if (s->strict && rc) {
        store_rollback(s->store);
        audit_strict_failure(s, err ? err->msg : "rejected");
        s->st.committed = s->st.accepted = s->st.versions = s->st.duplicates = s->st.conflicts = 0;
        s->st.rejected = s->st.read;
        if (err) {
            char why[sizeof(err->msg)];
            snprintf(why, sizeof(why), "%s", err->msg);
            accord_err_set(err, ACCORD_ESTRICT, "%s: whole input rejected (--strict): %s",
                           s->opts->source ? s->opts->source : "input", why);
        }
        rc = ACCORD_ESTRICT;
    } else if (rc) {
        store_rollback(s->store);
    } else if ((rc = store_commit(s->store, err)) == 0) {
        s->st.committed = s->st.read;
        if (s->st.rejected || s->st.conflicts)
            rc = accord_err_set(err, ACCORD_ESTIX, "%llu object(s) rejected, %llu conflict(s)",
                                (unsigned long long)s->st.rejected,
                                (unsigned long long)s->st.conflicts);
    }
    s->st.bytes_read = s->offset;
    if (out)
        *out = s->st;
    ajson_arena_free(&s->arena);
    ajson_arena_free(&s->stored);
    u64map_free(&s->shared);
    free(s);
    return rc;
}
