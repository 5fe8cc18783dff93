/*
 * provenance.c - signed STIX objects: who produced an object, whoever relayed it.
 *
 * A signature lives in one STIX property extension that accord ships (PROV_SIG_EXT, its
 * extension-definition below), as a list of entries; the signed bytes never include that list,
 * so signatures can accumulate (endorsements) without a new STIX version:
 *
 *   "extensions": { "extension-definition--53c7b8eb-425d-4c94-b293-1a9751b00c31": {
 *       "extension_type": "property-extension",
 *       "signatures": [ {"keyid": ..., "sig": ..., "signer_ref": ...}, ... ] } }
 *
 *   | field       | single signature                  | batch signature                      |
 *   |-------------|-----------------------------------|--------------------------------------|
 *   | signer_ref  | the signing member's identity id  | the same                             |
 *   | keyid       | member_keyid of the key (member.h)| the same                             |
 *   | sig         | base64 Ed25519 signature of       | base64 Ed25519 signature of          |
 *   |             | PAE(PROV_OBJECT_TYPE, JCS(object  | PAE(PROV_BATCH_TYPE, root || size as |
 *   |             | without this extension))          | 8 bytes big-endian)                  |
 *   | batch_size  | absent                            | leaves in the batch's Merkle tree    |
 *   | batch_index | absent                            | this object's leaf index             |
 *   | batch_path  | absent                            | RFC 9162 inclusion path, base64      |
 *   |             |                                   | hashes, leaf side first              |
 *
 * "Object without this extension": the member PROV_SIG_EXT is removed from `extensions`, and
 * `extensions` itself when that leaves it empty.  Everything else is signed, markings included,
 * so no relay can lower a TLP.  The leaf of a batch is the RFC 6962 leaf hash of the object hash
 * SHA-256(PAE(PROV_OBJECT_TYPE, JCS(...))), so a batch and a single signature bind the same bytes
 * under the same media type; the batch root's own media type keeps the two kinds apart.
 *
 * Stored form: a signed object is stored as JCS of the whole object with the list sorted by keyid
 * (one signature per key), so two nodes with the same signature set hold the same bytes, and an
 * endorsement rewrites the list in place (store_sig_merge) rather than making a version.
 *
 * Verification caches what Ed25519 proved: SHA-256 over (kind, message hash, public key,
 * signature) of each signature that verified, kept in full (a 64-bit map key finds it, the whole
 * digest must match), so an attacker cannot aim a cheap collision at the cache.  A batch costs one
 * Ed25519 verification for its root; each object costs its canonical form, two hashes and the
 * path.  Keys, their statuses and whose they are are checked on every use, never cached past a
 * change of identity (prov_verifier_forget_keys).
 *
 * What it does not do: store (import.c and store.c do, in the object's transaction), or decide
 * who is a member (the roster).
 */
#include "provenance.h"

#include "jcs.h"
#include "merkle.h"
#include "sign.h"
#include "store.h"
#include "util/u64map.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char prov_sig_extdef_json[] =
    "{\"type\":\"extension-definition\",\"spec_version\":\"2.1\","
    "\"id\":\"" PROV_SIG_EXT "\","
    "\"created_by_ref\":\"" PROV_ACCORD_IDENTITY "\","
    "\"created\":\"2026-11-30T00:00:00.000Z\",\"modified\":\"2026-11-30T00:00:00.000Z\","
    "\"object_marking_refs\":[\"" PROV_TLP_CLEAR "\"],"
    "\"name\":\"accord signatures\","
    "\"description\":\"Ed25519 signatures over PAE(application/vnd.accord.stix-object+json, "
    "RFC 8785 JCS of the object without this extension), single or over a Merkle batch root.\","
    "\"schema\":\"{\\\"$schema\\\":\\\"https://json-schema.org/draft/2020-12/schema\\\","
    "\\\"type\\\":\\\"object\\\",\\\"required\\\":[\\\"extension_type\\\",\\\"signatures\\\"],"
    "\\\"additionalProperties\\\":false,\\\"properties\\\":{\\\"extension_type\\\":{\\\"const\\\":"
    "\\\"property-extension\\\"},\\\"signatures\\\":{\\\"type\\\":\\\"array\\\",\\\"minItems\\\":1,"
    "\\\"maxItems\\\":16,\\\"items\\\":{\\\"type\\\":\\\"object\\\",\\\"required\\\":[\\\"signer_"
    "ref"
    "\\\",\\\"keyid\\\",\\\"sig\\\"],\\\"additionalProperties\\\":false,\\\"properties\\\":{"
    "\\\"signer_ref\\\":{\\\"type\\\":\\\"string\\\",\\\"pattern\\\":\\\"^identity--[0-9a-f-]{36}$"
    "\\\"},\\\"keyid\\\":{\\\"type\\\":\\\"string\\\",\\\"pattern\\\":\\\"^[0-9a-f]{32}$\\\"},"
    "\\\"sig\\\":{\\\"type\\\":\\\"string\\\",\\\"contentEncoding\\\":\\\"base64\\\"},"
    "\\\"batch_size\\\":{\\\"type\\\":\\\"integer\\\",\\\"minimum\\\":1},\\\"batch_index\\\":{"
    "\\\"type\\\":\\\"integer\\\",\\\"minimum\\\":0},\\\"batch_path\\\":{\\\"type\\\":"
    "\\\"array\\\","
    "\\\"items\\\":{\\\"type\\\":\\\"string\\\",\\\"contentEncoding\\\":\\\"base64\\\"}}}}}}}\","
    "\"version\":\"1.0.0\",\"extension_types\":[\"property-extension\"]}";

const char prov_keys_extdef_json[] =
    "{\"type\":\"extension-definition\",\"spec_version\":\"2.1\","
    "\"id\":\"" MEMBER_KEYS_EXT "\","
    "\"created_by_ref\":\"" PROV_ACCORD_IDENTITY "\","
    "\"created\":\"2026-11-30T00:00:00.000Z\",\"modified\":\"2026-11-30T00:00:00.000Z\","
    "\"object_marking_refs\":[\"" PROV_TLP_CLEAR "\"],"
    "\"name\":\"accord member keys\","
    "\"description\":\"The Ed25519 keys of an organisation (root, signing, node), each delegated "
    "by a root key, with status active, retired or compromised.\","
    "\"schema\":\"{\\\"$schema\\\":\\\"https://json-schema.org/draft/2020-12/schema\\\","
    "\\\"type\\\":\\\"object\\\",\\\"required\\\":[\\\"extension_type\\\",\\\"keys\\\"],"
    "\\\"properties\\\":{\\\"extension_type\\\":{\\\"const\\\":\\\"property-extension\\\"},"
    "\\\"keys\\\":{\\\"type\\\":\\\"array\\\",\\\"minItems\\\":1,\\\"items\\\":{\\\"type\\\":"
    "\\\"object\\\",\\\"required\\\":[\\\"keyid\\\",\\\"purpose\\\",\\\"public_key\\\",\\\"status"
    "\\\",\\\"since\\\",\\\"delegation\\\"],\\\"properties\\\":{\\\"keyid\\\":{\\\"type\\\":"
    "\\\"string\\\"},\\\"purpose\\\":{\\\"enum\\\":[\\\"root\\\",\\\"signing\\\",\\\"node\\\"]},"
    "\\\"public_key\\\":{\\\"type\\\":\\\"string\\\"},\\\"status\\\":{\\\"enum\\\":[\\\"active"
    "\\\",\\\"retired\\\",\\\"compromised\\\"]},\\\"since\\\":{\\\"type\\\":\\\"string\\\"},"
    "\\\"delegation\\\":{\\\"type\\\":\\\"string\\\"}}}}}}\","
    "\"version\":\"1.0.0\",\"extension_types\":[\"property-extension\"]}";

const char *prov_status_name(prov_status s)
{
    switch (s) {
    case PROV_AUTHORED:
        return "authored";
    case PROV_ENDORSED:
        return "endorsed";
    case PROV_INVALID:
        return "invalid";
    default:
        return "unverified";
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Parsing the extension                                                                        */

static int sig_fail(accord_error *err, size_t i, const char *what)
{
    return accord_err_set(err, ACCORD_EINVAL, "extensions.%s.signatures[%zu]%s", PROV_SIG_EXT, i,
                          what);
}

/* A non-negative integer member.  The literals accord writes (batch_size, batch_index) are
 * short runs of digits, read here directly; anything else goes through ajson_int (strtoll). */
static int parse_u64(const ajson_value *v, uint64_t *out)
{
    if (v->type == AJSON_NUMBER && v->len > 0 && v->len <= 15) {
        uint64_t x = 0;
        size_t k = 0;
        for (; k < v->len && v->u.str[k] >= '0' && v->u.str[k] <= '9'; k++)
            x = x * 10 + (uint64_t)(v->u.str[k] - '0');
        if (k == v->len) {
            *out = x;
            return 0;
        }
    }
    int64_t x;
    if (!ajson_int(v, &x) || x < 0)
        return -1;
    *out = (uint64_t)x;
    return 0;
}

/* The members of one signature entry (the parser has refused duplicate keys). */
typedef struct entry_members {
    const ajson_value *signer, *keyid, *sig, *size, *index, *path;
} entry_members;

/* Where member key[0..len) of an entry goes in em, or NULL for a name no entry has. */
static const ajson_value **member_slot(entry_members *em, const char *key, size_t len)
{
#define PROV_IS(name) (len == sizeof(name) - 1 && memcmp(key, name, len) == 0)
    if (PROV_IS("sig"))
        return &em->sig;
    if (PROV_IS("keyid"))
        return &em->keyid;
    if (PROV_IS("signer_ref"))
        return &em->signer;
    if (PROV_IS("batch_path"))
        return &em->path;
    if (PROV_IS("batch_size"))
        return &em->size;
    if (PROV_IS("batch_index"))
        return &em->index;
    return NULL;
#undef PROV_IS
}

/*
 * The base64 path hashes last decoded, by their level in the path.  Consecutive objects of a batch
 * share their inclusion paths above the lowest level where their indexes differ (objects 2k and
 * 2k+1 differ in the first hash only), so most hashes of a path are the text decoded for the
 * object before; comparing 44 bytes is cheaper than decoding them.  Per thread: parsing has no
 * other state to keep it in.
 */
#define PATH_B64 SIGN_B64_LEN(ACCORD_MERKLE_HASH_LEN)
static _Thread_local struct {
    int valid;
    char text[PATH_B64];
    uint8_t bin[ACCORD_MERKLE_HASH_LEN];
} path_memo[PROV_MAX_PATH];

/* sign_b64_decode of path hash `level` (a string of len bytes) into out: 0, or -1 when it is not
 * base64 of 32 bytes. */
static int path_hash(size_t level, const char *text, size_t len, uint8_t *out)
{
    if (len != PATH_B64)
        return -1;
    if (path_memo[level].valid && memcmp(path_memo[level].text, text, PATH_B64) == 0) {
        memcpy(out, path_memo[level].bin, ACCORD_MERKLE_HASH_LEN);
        return 0;
    }
    if (sign_b64_decode(text, len, out, ACCORD_MERKLE_HASH_LEN))
        return -1;
    memcpy(path_memo[level].text, text, PATH_B64);
    memcpy(path_memo[level].bin, out, ACCORD_MERKLE_HASH_LEN);
    path_memo[level].valid = 1;
    return 0;
}

/* The signature text last decoded: the objects of a batch carry the same one. */
#define SIG_B64 SIGN_B64_LEN(ACCORD_SIGN_SIG_LEN)
static _Thread_local struct {
    int valid;
    char text[SIG_B64];
    uint8_t bin[ACCORD_SIGN_SIG_LEN];
} sig_memo;

/* sign_b64_decode of a signature (a string of len bytes) into out: 0, or -1 when it is not
 * base64 of 64 bytes. */
static int sig_bytes(const char *text, size_t len, uint8_t *out)
{
    if (len != SIG_B64)
        return -1;
    if (sig_memo.valid && memcmp(sig_memo.text, text, SIG_B64) == 0) {
        memcpy(out, sig_memo.bin, ACCORD_SIGN_SIG_LEN);
        return 0;
    }
    if (sign_b64_decode(text, len, out, ACCORD_SIGN_SIG_LEN))
        return -1;
    memcpy(sig_memo.text, text, SIG_B64);
    memcpy(sig_memo.bin, out, ACCORD_SIGN_SIG_LEN);
    sig_memo.valid = 1;
    return 0;
}

static int parse_batch(const entry_members *em, size_t i, prov_sig *s, accord_error *err)
{
    const ajson_value *size = em->size, *index = em->index, *path = em->path;
    if (!size && !index && !path)
        return 0;
    s->batch = 1;
    if (!size || !index || !path || parse_u64(size, &s->size) || parse_u64(index, &s->index) ||
        s->size == 0 || s->index >= s->size)
        return sig_fail(err, i,
                        ": batch_size, batch_index and batch_path go together, "
                        "index < size");
    if (path->type != AJSON_ARRAY || path->len > PROV_MAX_PATH)
        return sig_fail(err, i, ".batch_path: must be a list of at most 32 hashes");
    s->npath = path->len;
    for (size_t j = 0; j < path->len; j++)
        if (path->u.items[j].type != AJSON_STRING ||
            path_hash(j, path->u.items[j].u.str, path->u.items[j].len, s->path + 32 * j))
            return sig_fail(err, i, ".batch_path: each hash is base64 of 32 bytes");
    return 0;
}

static int is_hex(const char *p, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (!((p[k] >= '0' && p[k] <= '9') || (p[k] >= 'a' && p[k] <= 'f')))
            return 0;
    return 1;
}

static int parse_entry(const ajson_value *e, size_t i, prov_sig *s, accord_error *err)
{
    entry_members em = {0};
    memset(s, 0, offsetof(prov_sig, path)); /* the path is written as far as npath says */
    if (e->type != AJSON_OBJECT)
        return sig_fail(err, i, ": must be an object");
    /* one pass over the members, each taken by its name; anything else is refused */
    for (size_t m = 0; m < e->len; m++) {
        const ajson_member *mb = &e->u.members[m];
        const ajson_value **slot = member_slot(&em, mb->key, mb->key_len);
        if (!slot)
            return sig_fail(err, i, ": unknown property");
        *slot = &mb->value;
    }
    const ajson_value *signer = em.signer, *keyid = em.keyid, *sig = em.sig;
    if (!signer || signer->type != AJSON_STRING || signer->len != MEMBER_ID_LEN ||
        strncmp(signer->u.str, "identity--", 10) != 0)
        return sig_fail(err, i, ".signer_ref: must be an identity id");
    if (!keyid || keyid->type != AJSON_STRING || keyid->len != MEMBER_KEYID_HEX ||
        !is_hex(keyid->u.str, MEMBER_KEYID_HEX))
        return sig_fail(err, i, ".keyid: must be 32 lowercase hex digits");
    if (!sig || sig->type != AJSON_STRING || sig_bytes(sig->u.str, sig->len, s->sig))
        return sig_fail(err, i, ".sig: must be base64 of a 64-byte Ed25519 signature");
    memcpy(s->signer_ref, signer->u.str, MEMBER_ID_LEN + 1);
    memcpy(s->keyid, keyid->u.str, MEMBER_KEYID_HEX + 1);
    return parse_batch(&em, i, s, err);
}

static int parse_list(const ajson_value *ext, prov_sigs *sigs, accord_error *err)
{
    const ajson_value *list = ajson_get(ext, "signatures");
    const char *et = ajson_str(ajson_get(ext, "extension_type"));
    if (ext->type != AJSON_OBJECT || ext->len != 2 || !et || strcmp(et, "property-extension") != 0)
        return accord_err_set(err, ACCORD_EINVAL,
                              "extensions.%s: must hold extension_type \"property-extension\" and "
                              "signatures, nothing else",
                              PROV_SIG_EXT);
    if (!list || list->type != AJSON_ARRAY || list->len == 0 || list->len > PROV_MAX_SIGS)
        return accord_err_set(err, ACCORD_EINVAL,
                              "extensions.%s.signatures: must be a list of 1 to %d signatures",
                              PROV_SIG_EXT, PROV_MAX_SIGS);
    for (size_t i = 0; i < list->len; i++) {
        int rc = parse_entry(&list->u.items[i], i, &sigs->v[sigs->n], err);
        if (rc)
            return rc;
        if (!prov_sigs_add(sigs, &sigs->v[sigs->n]))
            return sig_fail(err, i, ".keyid: a second signature by the same key");
    }
    return 0;
}

int prov_sigs_add(prov_sigs *sigs, const prov_sig *s)
{
    if (sigs->n >= PROV_MAX_SIGS)
        return 0;
    for (size_t i = 0; i < sigs->n; i++)
        if (strcmp(sigs->v[i].keyid, s->keyid) == 0)
            return 0;
    if (&sigs->v[sigs->n] != s)
        sigs->v[sigs->n] = *s;
    sigs->n++;
    return 1;
}

int prov_parse(ajson_arena *a, const ajson_value *obj, const ajson_value **content, prov_sigs *sigs,
               accord_error *err)
{
    sigs->n = 0;
    *content = obj;
    const ajson_value *exts = ajson_get(obj, "extensions");
    if (!exts || exts->type != AJSON_OBJECT)
        return 0;
    size_t at = exts->len;
    for (size_t i = 0; i < exts->len; i++)
        if (strcmp(exts->u.members[i].key, PROV_SIG_EXT) == 0)
            at = i;
    if (at == exts->len)
        return 0;
    int rc = parse_list(&exts->u.members[at].value, sigs, err);
    if (rc)
        return rc;
    /* the shallow copy: obj's members, with extensions less the signature (or without it) */
    ajson_value *c = ajson_arena_alloc(a, sizeof(*c));
    ajson_member *m = ajson_arena_alloc(a, obj->len * sizeof(*m));
    ajson_member *em = exts->len > 1 ? ajson_arena_alloc(a, (exts->len - 1) * sizeof(*em)) : NULL;
    if (!c || !m || (exts->len > 1 && !em))
        return accord_err_set(err, ACCORD_ENOMEM, "out of memory");
    size_t n = 0, en = 0;
    for (size_t i = 0; i < exts->len; i++)
        if (i != at)
            em[en++] = exts->u.members[i];
    for (size_t i = 0; i < obj->len; i++) {
        if (&obj->u.members[i].value != exts) {
            m[n++] = obj->u.members[i];
        } else if (en) {
            m[n] = obj->u.members[i];
            m[n].value.len = en;
            m[n++].value.u.members = em;
        }
    }
    *c = *obj;
    c->len = n;
    c->u.members = m;
    *content = c;
    return 0;
}

int prov_canonical(const ajson_value *content, buf *out, accord_error *err)
{
    const ajson_value *bad = NULL;
    int rc = jcs_write(out, content, &bad);
    if (rc == ACCORD_EJSON)
        return accord_err_set(err, rc, "number %.40s at byte %u cannot be canonicalised (RFC 8785)",
                              bad ? bad->u.str : "?", bad ? bad->offset : 0);
    if (rc)
        return accord_err_set(err, rc, "out of memory canonicalising");
    return 0;
}

void prov_object_hash(const char *jcs, size_t len, uint8_t out[32])
{
    sign_sha256_pae(PROV_OBJECT_TYPE, jcs, len, out);
}

/* ------------------------------------------------------------------------------------------ */
/* Writing the extension                                                                        */

static ajson_value *new_str(ajson_arena *a, ajson_value *v, const char *s, size_t len)
{
    char *p = ajson_arena_alloc(a, len + 1);
    if (!p)
        return NULL;
    memcpy(p, s, len);
    p[len] = 0;
    memset(v, 0, sizeof(*v));
    v->type = AJSON_STRING;
    v->len = len;
    v->u.str = p;
    return v;
}

static ajson_value *new_b64(ajson_arena *a, ajson_value *v, const uint8_t *bin, size_t len)
{
    char text[SIGN_B64_LEN(64) + 1];
    sign_b64_encode(bin, len, text, sizeof(text));
    return new_str(a, v, text, strlen(text));
}

static ajson_value *new_num(ajson_arena *a, ajson_value *v, uint64_t n)
{
    char text[24];
    int len = snprintf(text, sizeof(text), "%llu", (unsigned long long)n);
    if (!new_str(a, v, text, (size_t)len))
        return NULL;
    v->type = AJSON_NUMBER;
    return v;
}

static int set_member(ajson_member *m, const char *key, ajson_value *v)
{
    if (!v)
        return -1;
    m->key = key;
    m->key_len = strlen(key);
    m->value = *v;
    return 0;
}

/* The JSON value of one signature entry. */
static int entry_value(ajson_arena *a, const prov_sig *s, ajson_value *out)
{
    size_t n = s->batch ? 6 : 3;
    ajson_member *m = ajson_arena_alloc(a, n * sizeof(*m));
    ajson_value v;
    if (!m)
        return -1;
    if (set_member(&m[0], "signer_ref", new_str(a, &v, s->signer_ref, strlen(s->signer_ref))) ||
        set_member(&m[1], "keyid", new_str(a, &v, s->keyid, strlen(s->keyid))) ||
        set_member(&m[2], "sig", new_b64(a, &v, s->sig, sizeof(s->sig))))
        return -1;
    if (s->batch) {
        ajson_value *items = s->npath ? ajson_arena_alloc(a, s->npath * sizeof(*items)) : NULL;
        if (s->npath && !items)
            return -1;
        for (size_t j = 0; j < s->npath; j++)
            if (!new_b64(a, &items[j], s->path + 32 * j, 32))
                return -1;
        memset(&v, 0, sizeof(v));
        v.type = AJSON_ARRAY;
        v.len = s->npath;
        v.u.items = items;
        if (set_member(&m[3], "batch_path", &v) ||
            set_member(&m[4], "batch_size", new_num(a, &v, s->size)) ||
            set_member(&m[5], "batch_index", new_num(a, &v, s->index)))
            return -1;
    }
    memset(out, 0, sizeof(*out));
    out->type = AJSON_OBJECT;
    out->len = n;
    out->u.members = m;
    return 0;
}

static int keyid_cmp(const void *x, const void *y)
{
    return strcmp(((const prov_sig *)x)->keyid, ((const prov_sig *)y)->keyid);
}

/* The extension's value: extension_type and the sorted list. */
static int ext_value(ajson_arena *a, const prov_sigs *sigs, ajson_value *out)
{
    prov_sig *sorted = malloc(sigs->n * sizeof(*sorted));
    ajson_value *items = ajson_arena_alloc(a, sigs->n * sizeof(*items));
    ajson_member *m = ajson_arena_alloc(a, 2 * sizeof(*m));
    ajson_value v, list;
    int rc = -1;
    if (!sorted || !items || !m)
        goto out;
    memcpy(sorted, sigs->v, sigs->n * sizeof(*sorted));
    qsort(sorted, sigs->n, sizeof(*sorted), keyid_cmp);
    for (size_t i = 0; i < sigs->n; i++)
        if (entry_value(a, &sorted[i], &items[i]))
            goto out;
    memset(&list, 0, sizeof(list));
    list.type = AJSON_ARRAY;
    list.len = sigs->n;
    list.u.items = items;
    if (set_member(&m[0], "extension_type", new_str(a, &v, "property-extension", 18)) ||
        set_member(&m[1], "signatures", &list))
        goto out;
    memset(out, 0, sizeof(*out));
    out->type = AJSON_OBJECT;
    out->len = 2;
    out->u.members = m;
    rc = 0;
out:
    free(sorted);
    return rc;
}

/*
 * The tree of content with extensions.PROV_SIG_EXT set to *ext (a shallow copy in a); *sig_at and
 * *exts_at get the addresses of that member's value and of the extensions member's value, for
 * jcs_write_watch.
 */
static int with_ext(ajson_arena *a, const ajson_value *content, const ajson_value *ext,
                    ajson_value *root, const ajson_value **sig_at, const ajson_value **exts_at)
{
    const ajson_value *exts = ajson_get(content, "extensions");
    size_t en = exts && exts->type == AJSON_OBJECT ? exts->len : 0;
    ajson_member *em = ajson_arena_alloc(a, (en + 1) * sizeof(*em));
    ajson_member *m = ajson_arena_alloc(a, (content->len + 1) * sizeof(*m));
    ajson_value extsv;
    if (!em || !m)
        return ACCORD_ENOMEM;
    for (size_t i = 0; i < en; i++)
        em[i] = exts->u.members[i];
    set_member(&em[en], PROV_SIG_EXT, (ajson_value *)ext);
    memset(&extsv, 0, sizeof(extsv));
    extsv.type = AJSON_OBJECT;
    extsv.len = en + 1;
    extsv.u.members = em;
    size_t n = 0;
    for (size_t i = 0; i < content->len; i++)
        if (strcmp(content->u.members[i].key, "extensions") != 0)
            m[n++] = content->u.members[i];
    set_member(&m[n++], "extensions", &extsv);
    *root = *content;
    root->len = n;
    root->u.members = m;
    *sig_at = &em[en].value;
    *exts_at = &m[n - 1].value;
    return 0;
}

int prov_write(ajson_arena *a, const ajson_value *content, const prov_sigs *sigs, buf *out,
               accord_error *err)
{
    if (!sigs->n)
        return prov_canonical(content, out, err);
    ajson_value ev, root;
    const ajson_value *sig_at, *exts_at, *exts = ajson_get(content, "extensions");
    if (exts && exts->type != AJSON_OBJECT)
        return accord_err_set(err, ACCORD_EINVAL, "extensions: not an object, cannot be signed");
    if (ext_value(a, sigs, &ev) || with_ext(a, content, &ev, &root, &sig_at, &exts_at))
        return accord_err_set(err, ACCORD_ENOMEM, "out of memory writing signatures");
    return prov_canonical(&root, out, err);
}

int prov_forms(ajson_arena *a, const ajson_value *content, prov_form *f, accord_error *err)
{
    return prov_forms_as(a, content, NULL, NULL, f, err);
}

/*
 * 1 when JCS(ext), ext being the signature extension's value that prov_parse accepted and split
 * into sigs, is byte for byte write_ext(sigs): prov_parse admits exactly the members write_ext
 * writes (extension_type "property-extension" and a list; per entry signer_ref, keyid, sig, and
 * the three batch members all or none), base64 only in its one canonical text, integer literals
 * that JCS and "%llu" print alike (up to 2^53: JCS refuses larger ones), and JCS orders members
 * as write_ext does; what remains is the order of the entries, which write_ext sorts by key id
 * (unique within a list).
 */
static int ext_as_stored(const prov_sigs *sigs)
{
    for (size_t i = 0; i < sigs->n; i++)
        if ((i && strcmp(sigs->v[i - 1].keyid, sigs->v[i].keyid) >= 0) ||
            sigs->v[i].size > ((uint64_t)1 << 53))
            return 0;
    return sigs->n > 0;
}

int prov_forms_as(ajson_arena *a, const ajson_value *content, const ajson_value *ext,
                  const prov_sigs *sigs, prov_form *f, accord_error *err)
{
    ajson_value hole, root;
    jcs_watch w[2] = {{0}};
    const ajson_value *bad = NULL;
    memset(&hole, 0, sizeof(hole));
    hole.type = AJSON_NULL;
    buf_reset(&f->skel);
    buf_reset(&f->canon);
    f->as_stored = 0;
    const ajson_value *exts = ajson_get(content, "extensions");
    if (exts && exts->type != AJSON_OBJECT) { /* no place for signatures (STIX refuses it) */
        f->hole_start = f->hole_end = SIZE_MAX;
        return prov_canonical(content, &f->canon, err);
    }
    if (ext && sigs && ext_as_stored(sigs))
        f->as_stored = 1;
    else
        ext = &hole;
    if (with_ext(a, content, ext, &root, &w[0].value, &w[1].value))
        return accord_err_set(err, ACCORD_ENOMEM, "out of memory canonicalising");
    int rc = jcs_write_watch(&f->skel, &root, w, 2, &bad);
    if (rc == ACCORD_EJSON)
        return accord_err_set(err, rc, "number %.40s at byte %u cannot be canonicalised (RFC 8785)",
                              bad ? bad->u.str : "?", bad ? bad->offset : 0);
    if (rc || !w[0].found || !w[1].found)
        return accord_err_set(err, rc ? rc : ACCORD_EINVAL, "out of memory canonicalising");
    f->hole_start = w[0].value_start;
    f->hole_end = w[0].value_end;
    /* the signed bytes: the skeleton less the signature member, or less `extensions` when the
     * signature was its only member (an empty `extensions` of the content itself stays) */
    const jcs_watch *cut = w[0].alone && !exts ? &w[1] : &w[0];
    if (buf_add(&f->canon, f->skel.p, cut->cut_start) ||
        buf_add(&f->canon, f->skel.p + cut->cut_end, f->skel.len - cut->cut_end))
        return accord_err_set(err, ACCORD_ENOMEM, "out of memory canonicalising");
    return 0;
}

int prov_forms_text(ajson_arena *a, const ajson_value *root, const char *text, size_t len,
                    const ajson_value *content, const ajson_value *ext, const prov_sigs *sigs,
                    prov_form *f, accord_error *err)
{
    jcs_watch w[2] = {{0}};
    w[0].value = ext;
    w[1].value = ajson_get(root, "extensions");
    /* the stored form is the text itself when it is canonical with the list in stored order;
     * the signed bytes are the text less the signature member (or less `extensions` when that
     * was its only member), exactly as prov_forms_as cuts its skeleton */
    if (!text || !ext || !sigs || !ext_as_stored(sigs) || !w[1].value ||
        w[1].value->type != AJSON_OBJECT || !jcs_is_canonical_parsed(text, len, root, w, 2) ||
        !w[0].found || !w[1].found)
        return prov_forms_as(a, content, ext, sigs, f, err);
    const jcs_watch *cut = w[0].alone ? &w[1] : &w[0];
    buf_reset(&f->skel);
    buf_reset(&f->canon);
    f->as_stored = 1;
    f->hole_start = w[0].value_start;
    f->hole_end = w[0].value_end;
    if (buf_add(&f->skel, text, len) || buf_add(&f->canon, text, cut->cut_start) ||
        buf_add(&f->canon, text + cut->cut_end, len - cut->cut_end))
        return accord_err_set(err, ACCORD_ENOMEM, "out of memory canonicalising");
    return 0;
}

/* Appends the JCS form of the extension's value for sigs (sorted by keyid) to out. */
static int write_ext(const prov_sigs *sigs, buf *out)
{
    const prov_sig *order[PROV_MAX_SIGS];
    char b64[SIGN_B64_LEN(ACCORD_SIGN_SIG_LEN) + 1], num[48];
    int rc = buf_adds(out, "{\"extension_type\":\"property-extension\",\"signatures\":[");
    for (size_t i = 0; i < sigs->n; i++) {
        const prov_sig *x = &sigs->v[i];
        size_t j = i;
        for (; j && strcmp(order[j - 1]->keyid, x->keyid) > 0; j--)
            order[j] = order[j - 1];
        order[j] = x;
    }
    for (size_t i = 0; i < sigs->n && !rc; i++) {
        const prov_sig *x = order[i];
        rc |= buf_adds(out, i ? ",{" : "{");
        if (x->batch) { /* member names in RFC 8785 order */
            snprintf(num, sizeof(num), "\"batch_index\":%llu,\"batch_path\":[",
                     (unsigned long long)x->index);
            rc |= buf_adds(out, num);
            for (size_t j = 0; j < x->npath; j++) {
                sign_b64_encode(x->path + 32 * j, 32, b64, sizeof(b64));
                rc |= buf_adds(out, j ? ",\"" : "\"") | buf_add(out, b64, SIGN_B64_LEN(32)) |
                      buf_add(out, "\"", 1);
            }
            snprintf(num, sizeof(num), "],\"batch_size\":%llu,", (unsigned long long)x->size);
            rc |= buf_adds(out, num);
        }
        sign_b64_encode(x->sig, sizeof(x->sig), b64, sizeof(b64));
        rc |= buf_adds(out, "\"keyid\":") | jcs_write_str(out, x->keyid, strlen(x->keyid)) |
              buf_adds(out, ",\"sig\":\"") | buf_adds(out, b64) |
              buf_adds(out, "\",\"signer_ref\":") |
              jcs_write_str(out, x->signer_ref, strlen(x->signer_ref)) | buf_add(out, "}", 1);
    }
    return rc | buf_add(out, "]}", 2) ? ACCORD_ENOMEM : 0;
}

int prov_stored(const prov_form *f, const prov_sigs *sigs, buf *out, accord_error *err)
{
    if (!sigs->n)
        return buf_add(out, f->canon.p, f->canon.len)
                   ? accord_err_set(err, ACCORD_ENOMEM, "out of memory writing signatures")
                   : 0;
    if (f->hole_start == SIZE_MAX)
        return accord_err_set(err, ACCORD_EINVAL, "extensions: not an object, cannot be signed");
    if (buf_add(out, f->skel.p, f->hole_start) || write_ext(sigs, out) ||
        buf_add(out, f->skel.p + f->hole_end, f->skel.len - f->hole_end))
        return accord_err_set(err, ACCORD_ENOMEM, "out of memory writing signatures");
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Signing                                                                                      */

int prov_sign(const accord_sign_key *key, const char *signer_ref, const char *keyid,
              const char *jcs, size_t len, prov_sig *out)
{
    memset(out, 0, sizeof(*out));
    if (strlen(signer_ref) != MEMBER_ID_LEN || strlen(keyid) != MEMBER_KEYID_HEX)
        return ACCORD_EINVAL;
    memcpy(out->signer_ref, signer_ref, MEMBER_ID_LEN + 1);
    memcpy(out->keyid, keyid, MEMBER_KEYID_HEX + 1);
    return accord_sign_dsse(key, PROV_OBJECT_TYPE, jcs, len, out->sig);
}

static void batch_message(const uint8_t root[32], uint64_t size, uint8_t msg[40])
{
    memcpy(msg, root, 32);
    for (int i = 0; i < 8; i++)
        msg[32 + i] = (uint8_t)(size >> (56 - 8 * i));
}

int prov_sign_batch(const accord_sign_key *key, const char *signer_ref, const char *keyid,
                    const uint8_t *hashes, size_t n, prov_sig *out)
{
    if (n == 0 || n > PROV_MAX_BATCH || strlen(signer_ref) != MEMBER_ID_LEN ||
        strlen(keyid) != MEMBER_KEYID_HEX)
        return ACCORD_EINVAL;
    uint8_t *leaves = malloc(n * 32), msg[40], sig[ACCORD_SIGN_SIG_LEN];
    accord_merkle_tree *t = NULL;
    accord_merkle_hash root;
    int rc = leaves ? 0 : ACCORD_ENOMEM;
    for (size_t i = 0; i < n && !rc; i++)
        accord_merkle_leaf_hash(hashes + 32 * i, 32, leaves + 32 * i);
    if (!rc)
        rc = accord_merkle_tree_new(leaves, n, &t);
    if (!rc) {
        accord_merkle_tree_root(t, root);
        batch_message(root, n, msg);
        rc = accord_sign_dsse(key, PROV_BATCH_TYPE, msg, sizeof(msg), sig);
    }
    for (size_t i = 0; i < n && !rc; i++) {
        uint8_t path[ACCORD_MERKLE_MAX_PROOF * 32];
        size_t plen = 0;
        prov_sig *s = &out[i];
        memset(s, 0, offsetof(prov_sig, path));
        memcpy(s->signer_ref, signer_ref, MEMBER_ID_LEN + 1);
        memcpy(s->keyid, keyid, MEMBER_KEYID_HEX + 1);
        memcpy(s->sig, sig, sizeof(sig));
        s->batch = 1;
        s->index = i;
        s->size = n;
        if ((rc = accord_merkle_tree_inclusion(t, i, path, &plen)) || plen > PROV_MAX_PATH)
            rc = rc ? rc : ACCORD_ELIMIT;
        else
            memcpy(s->path, path, plen * 32), s->npath = plen;
    }
    accord_merkle_tree_free(t);
    free(leaves);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Verifying                                                                                    */

#define KEY_CACHE 64

struct prov_verifier {
    accord_store *store;
    member_identity *ids[KEY_CACHE]; /* NULL id[0] = known absent */
    char absent[KEY_CACHE][MEMBER_ID_LEN + 1];
    size_t nids, nabsent;
    u64map seen;     /* first 8 bytes of a proven digest -> 1 + its index in proven */
    uint8_t *proven; /* 32-byte digests of verified (kind, message, key, signature) */
    size_t nproven, cap;
    uint64_t hits;
    /* the objects of a batch arrive together: the batch root last proven (message, key,
     * signature), compared whole, and the node hashes of the last inclusion paths */
    uint8_t last_batch[40 + 32 + 64];
    int have_last_batch;
    merkle_memo memo;
};

int prov_verifier_new(accord_store *s, prov_verifier **out)
{
    prov_verifier *v = calloc(1, sizeof(*v));
    *out = v;
    if (!v)
        return ACCORD_ENOMEM;
    v->store = s;
    u64map_init(&v->seen);
    return 0;
}

void prov_verifier_forget_keys(prov_verifier *v)
{
    for (size_t i = 0; i < v->nids; i++)
        free(v->ids[i]);
    v->nids = v->nabsent = 0;
}

void prov_verifier_rebind(prov_verifier *v, accord_store *s)
{
    prov_verifier_forget_keys(v);
    v->store = s;
}

void prov_verifier_free(prov_verifier *v)
{
    if (!v)
        return;
    prov_verifier_forget_keys(v);
    u64map_free(&v->seen);
    free(v->proven);
    free(v);
}

uint64_t prov_verifier_hits(const prov_verifier *v)
{
    return v->hits;
}

/* The keys of identity id (cached), or NULL when it has none here. */
static const member_identity *keys_of(prov_verifier *v, const char *id, accord_error *err, int *rc)
{
    *rc = 0;
    for (size_t i = 0; i < v->nids; i++)
        if (strcmp(v->ids[i]->id, id) == 0)
            return v->ids[i];
    for (size_t i = 0; i < v->nabsent; i++)
        if (strcmp(v->absent[i], id) == 0)
            return NULL;
    if (!v->store)
        return NULL;
    member_identity *m = malloc(sizeof(*m));
    if (!m) {
        *rc = ACCORD_ENOMEM;
        return NULL;
    }
    int r = member_keys_of(v->store, id, m, err);
    if (r) {
        free(m);
        if (r != ACCORD_ENOTFOUND)
            *rc = r;
        else if (v->nabsent < KEY_CACHE)
            memcpy(v->absent[v->nabsent++], id, MEMBER_ID_LEN + 1);
        return NULL;
    }
    if (v->nids == KEY_CACHE)
        prov_verifier_forget_keys(v);
    v->ids[v->nids++] = m;
    return m;
}

int prov_verifier_learn(prov_verifier *v, const ajson_value *content, int64_t added_us,
                        accord_error *err)
{
    member_identity *m = malloc(sizeof(*m));
    int rc = m ? member_parse(content, m, err) : ACCORD_ENOMEM;
    if (rc) {
        free(m);
        return rc == ACCORD_ENOTFOUND ? 0 : rc;
    }
    const member_identity *prev = keys_of(v, m->id, err, &rc);
    for (size_t i = 0; i < m->nkeys; i++) {
        const member_key *old = prev ? member_key_find(prev, m->keys[i].keyid) : NULL;
        m->keys[i].status_us = old && old->status == m->keys[i].status ? old->status_us : added_us;
    }
    m->added_us = added_us;
    for (size_t i = 0; i < v->nids; i++) /* replace the cached version */
        if (strcmp(v->ids[i]->id, m->id) == 0) {
            free(v->ids[i]);
            v->ids[i] = m;
            return 0;
        }
    for (size_t i = 0; i < v->nabsent; i++)
        if (strcmp(v->absent[i], m->id) == 0)
            memcpy(v->absent[i], v->absent[--v->nabsent], MEMBER_ID_LEN + 1);
    if (v->nids == KEY_CACHE)
        prov_verifier_forget_keys(v);
    v->ids[v->nids++] = m;
    return 0;
}

static void proof_digest(int kind, const uint8_t *msg, size_t len, const uint8_t *pk,
                         const uint8_t *sig, uint8_t out[32])
{
    uint8_t b[1 + 40 + 32 + 64];
    b[0] = (uint8_t)kind;
    memcpy(b + 1, msg, len);
    memcpy(b + 1 + len, pk, 32);
    memcpy(b + 1 + len + 32, sig, 64);
    sign_sha256(b, 1 + len + 32 + 64, out);
}

static int proven(prov_verifier *v, const uint8_t d[32])
{
    uint64_t k, at;
    memcpy(&k, d, 8);
    if (u64map_get(&v->seen, u64map_key(k), &at) && memcmp(v->proven + 32 * (at - 1), d, 32) == 0) {
        v->hits++;
        return 1;
    }
    return 0;
}

static void remember(prov_verifier *v, const uint8_t d[32])
{
    uint64_t k;
    memcpy(&k, d, 8);
    if (u64map_get(&v->seen, u64map_key(k), NULL))
        return;
    if (v->nproven == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 1024;
        uint8_t *p = realloc(v->proven, cap * 32);
        if (!p)
            return; /* a cache: failing to remember costs only time */
        v->proven = p;
        v->cap = cap;
    }
    memcpy(v->proven + 32 * v->nproven, d, 32);
    if (u64map_put(&v->seen, u64map_key(k), ++v->nproven))
        v->nproven--;
}

/* 0 when s's Ed25519 signature over the object (its canonical form jcs, hash) holds under pk. */
static int check_sig(prov_verifier *v, const prov_sig *s, const char *jcs, size_t len,
                     const uint8_t hash[32], const uint8_t *pk)
{
    uint8_t msg[40], d[32];
    size_t mlen = 32;
    int kind = 1, rc;
    if (s->batch) {
        uint8_t leaf[32], root[32];
        accord_merkle_leaf_hash(hash, 32, leaf);
        /* the path must lead from this leaf to the root that was signed: recompute that root */
        if (merkle_root_from_path_memo(leaf, s->index, s->size, s->path, s->npath, &v->memo, root))
            return ACCORD_EINVAL;
        batch_message(root, s->size, msg);
        mlen = 40;
        kind = 2;
        if (v->have_last_batch && memcmp(v->last_batch, msg, 40) == 0 &&
            memcmp(v->last_batch + 40, pk, 32) == 0 &&
            memcmp(v->last_batch + 72, s->sig, 64) == 0) {
            v->hits++;
            return 0;
        }
    } else {
        memcpy(msg, hash, 32);
    }
    proof_digest(kind, msg, mlen, pk, s->sig, d);
    if (proven(v, d))
        return 0;
    if (s->batch)
        rc = accord_sign_dsse_verify(pk, PROV_BATCH_TYPE, msg, mlen, s->sig);
    else
        rc = accord_sign_dsse_verify(pk, PROV_OBJECT_TYPE, jcs, len, s->sig);
    if (!rc)
        remember(v, d);
    if (!rc && s->batch) {
        memcpy(v->last_batch, msg, 40);
        memcpy(v->last_batch + 40, pk, 32);
        memcpy(v->last_batch + 72, s->sig, 64);
        v->have_last_batch = 1;
    }
    return rc;
}

static int invalid(prov_result *out, size_t i, const prov_sig *s, const char *why)
{
    out->status = PROV_INVALID;
    snprintf(out->reason, sizeof(out->reason), "signature %zu by %s (key %s): %s", i, s->signer_ref,
             s->keyid, why);
    return 0;
}

/* Judges signature i against the keys m of its signer. */
static int judge(prov_verifier *v, size_t i, const prov_sig *s, const member_identity *m,
                 const char *jcs, size_t len, const uint8_t hash[32], int64_t accepted_us,
                 prov_result *out)
{
    const member_key *k = member_key_find(m, s->keyid);
    char why[160];
    if (!k)
        return invalid(out, i, s, "not a key of the signer");
    if (k->status == MEMBER_COMPROMISED && (!k->status_us || accepted_us >= k->status_us)) {
        char when[40];
        accord_timestamp_format(k->status_us, when, sizeof(when));
        snprintf(why, sizeof(why), "the key is compromised (revocation applied here %s)",
                 k->status_us ? when : "by the object itself");
        return invalid(out, i, s, why);
    }
    int proven = s->proven && memcmp(s->proven_pk, k->pk, 32) == 0; /* prov_prove */
    if (!proven && check_sig(v, s, jcs, len, hash, k->pk))
        return invalid(out, i, s,
                       s->batch ? "does not verify (content changed, or not in the signed batch)"
                                : "does not verify (content changed, or not the signer's)");
    out->valid++;
    return 1;
}

int prov_prove(prov_verifier *v, const char *jcs, size_t len, const uint8_t hash[32],
               prov_sigs *sigs, accord_error *err)
{
    int rc = 0;
    for (size_t i = 0; i < sigs->n; i++) {
        prov_sig *s = &sigs->v[i];
        const member_identity *m = keys_of(v, s->signer_ref, err, &rc);
        if (rc)
            return rc;
        const member_key *k = m ? member_key_find(m, s->keyid) : NULL;
        s->proven = k && check_sig(v, s, jcs, len, hash, k->pk) == 0;
        if (s->proven)
            memcpy(s->proven_pk, k->pk, 32);
    }
    return 0;
}

int prov_verify(prov_verifier *v, const char *jcs, size_t len, const uint8_t hash[32],
                const char *created_by, const prov_sigs *sigs, int64_t accepted_us,
                prov_result *out, accord_error *err)
{
    int authored = 0, rc = 0;
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < sigs->n && out->status != PROV_INVALID; i++) {
        const prov_sig *s = &sigs->v[i];
        const member_identity *m = keys_of(v, s->signer_ref, err, &rc);
        if (rc)
            return rc;
        if (!m) {
            out->unknown++;
            continue;
        }
        if (judge(v, i, s, m, jcs, len, hash, accepted_us, out) == 1 && created_by &&
            strcmp(created_by, s->signer_ref) == 0)
            authored = 1;
    }
    if (out->status != PROV_INVALID)
        out->status = authored ? PROV_AUTHORED : out->valid ? PROV_ENDORSED : PROV_UNVERIFIED;
    return 0;
}

int prov_verify_identity(prov_verifier *v, const ajson_value *content, const char *jcs, size_t len,
                         const uint8_t hash[32], const prov_sigs *sigs, int64_t accepted_us,
                         prov_result *out, accord_error *err)
{
    member_identity *next = malloc(sizeof(*next));
    int rc = 0, signed_by_root = 0;
    memset(out, 0, sizeof(*out));
    if (!next)
        return accord_err_set(err, ACCORD_ENOMEM, "out of memory");
    accord_error perr;
    if ((rc = member_parse(content, next, &perr))) {
        if (rc == ACCORD_ENOTFOUND) {
            rc = 0;
            goto out; /* no key list: an ordinary identity */
        }
        out->status = PROV_INVALID;
        snprintf(out->reason, sizeof(out->reason), "key list: %.300s", perr.msg);
        rc = 0;
        goto out;
    }
    /* which root keys may sign this version: the stored version's, else its own */
    const member_identity *prev = keys_of(v, next->id, err, &rc);
    if (rc)
        goto out;
    const member_identity *auth = prev ? prev : next;
    for (size_t i = 0; i < sigs->n && out->status != PROV_INVALID; i++) {
        const prov_sig *s = &sigs->v[i];
        if (strcmp(s->signer_ref, next->id) != 0)
            continue;
        if (judge(v, i, s, auth, jcs, len, hash, accepted_us, out) != 1)
            break;
        const member_key *k = member_key_find(auth, s->keyid);
        signed_by_root |= k->purpose == MEMBER_ROOT && k->status == MEMBER_ACTIVE;
    }
    if (out->status == PROV_INVALID)
        goto out;
    if (!signed_by_root) {
        out->status = PROV_INVALID;
        snprintf(out->reason, sizeof(out->reason),
                 "%s: a key list must be signed by an active root key of %s", next->id,
                 prev ? "the identity's stored version" : "its own list");
        goto out;
    }
    if (prev) /* a status never moves back: compromised stays compromised */
        for (size_t i = 0; i < prev->nkeys; i++) {
            const member_key *nk = member_key_find(next, prev->keys[i].keyid);
            if (!nk || nk->status < prev->keys[i].status) {
                out->status = PROV_INVALID;
                snprintf(out->reason, sizeof(out->reason),
                         "%s: key %s dropped or its status moved back", next->id,
                         prev->keys[i].keyid);
                goto out;
            }
        }
    out->status = PROV_AUTHORED;
out:
    free(next);
    return rc;
}
