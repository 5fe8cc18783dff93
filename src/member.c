/*
 * member.c - this node's organisation (a STIX identity with a signed key list) and the keys of
 * every member, read from the store.
 *
 * The key list format and the key files are tabled in member.h.  Why it is shaped this way:
 *
 *   - The identity is ordinary STIX, so it travels through every relay and TAXII server like any
 *     other object; the key list is a property extension of it, and the whole identity version is
 *     signed by the root key with the signature extension (provenance.h), so a relay can neither
 *     add a key nor hide a revocation.
 *   - Each non-root key carries a delegation signed by a root key over its identity, purpose,
 *     public key and date, so a key copied into another identity's list does not verify there.
 *   - Statuses only move forward (active -> retired -> compromised, or straight to compromised),
 *     and keys are never dropped, so the newest version says everything; the time this node
 *     applied each status (status_us) comes from the date_added of the first stored version that
 *     says it, because "accepted after the revocation" is a fact about this node's store.
 *
 * What it does not do: verify the identity's own signature (provenance.c does that when the
 * version is ingested: a stored version passed it), or decide who is a member (the roster).
 */
#include "member.h"

#include "jcs.h"
#include "provenance.h"
#include "sign.h"
#include "stix.h"
#include "store.h"
#include "util/timestamp.h"
#include "util/uuid.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const purpose_names[] = {NULL, "root", "signing", "node"};
static const char *const status_names[] = {NULL, "active", "retired", "compromised"};

void member_keyid(const uint8_t pk[ACCORD_SIGN_PUBLIC_LEN], char out[MEMBER_KEYID_HEX + 1])
{
    uint8_t h[SIGN_SHA256_LEN];
    sign_sha256(pk, ACCORD_SIGN_PUBLIC_LEN, h);
    sign_hex(h, MEMBER_KEYID_HEX / 2, out);
}

const char *member_purpose_name(member_purpose p)
{
    return p >= MEMBER_ROOT && p <= MEMBER_NODE ? purpose_names[p] : NULL;
}

const char *member_status_name(member_status s)
{
    return s >= MEMBER_ACTIVE && s <= MEMBER_COMPROMISED ? status_names[s] : NULL;
}

member_purpose member_purpose_parse(const char *s)
{
    for (int i = MEMBER_ROOT; s && i <= MEMBER_NODE; i++)
        if (strcmp(s, purpose_names[i]) == 0)
            return (member_purpose)i;
    return 0;
}

member_status member_status_parse(const char *s)
{
    for (int i = MEMBER_ACTIVE; s && i <= MEMBER_COMPROMISED; i++)
        if (strcmp(s, status_names[i]) == 0)
            return (member_status)i;
    return 0;
}

int member_key_path(const char *data_dir, member_purpose p, char *out, size_t outlen)
{
    const char *name = member_purpose_name(p);
    if (!name || (size_t)snprintf(out, outlen, "%s/keys/%s.seed", data_dir, name) >= outlen)
        return ACCORD_ELIMIT;
    return 0;
}

int member_key_load(const char *data_dir, member_purpose p, const char *path, accord_sign_key **out,
                    accord_error *err)
{
    char def[4096];
    if (!path) {
        if (member_key_path(data_dir, p, def, sizeof(def)))
            return accord_err_set(err, ACCORD_ELIMIT, "member: data directory path too long");
        path = def;
    }
    return accord_sign_key_load(path, out, err);
}

const member_key *member_key_find(const member_identity *m, const char *keyid)
{
    for (size_t i = 0; keyid && i < m->nkeys; i++)
        if (strcmp(m->keys[i].keyid, keyid) == 0)
            return &m->keys[i];
    return NULL;
}

const member_key *member_key_active(const member_identity *m, member_purpose p)
{
    const member_key *k = NULL;
    for (size_t i = 0; i < m->nkeys; i++)
        if (m->keys[i].purpose == p && m->keys[i].status == MEMBER_ACTIVE)
            k = &m->keys[i];
    return k;
}

/* ------------------------------------------------------------------------------------------ */
/* Delegations                                                                                  */

/* The delegation statement of a key as canonical JSON (all its fields are plain strings, so the
 * canonical form is written directly: keys in sorted order, strings need no escaping since they
 * are an id, hex, base64, a purpose name and a timestamp; checked by member_parse). */
static int delegation_body(const char *identity, const member_key *k, char *out, size_t outlen)
{
    char pk64[SIGN_B64_LEN(ACCORD_SIGN_PUBLIC_LEN) + 1];
    sign_b64_encode(k->pk, sizeof(k->pk), pk64, sizeof(pk64));
    int n = snprintf(out, outlen,
                     "{\"identity_ref\":\"%s\",\"keyid\":\"%s\",\"public_key\":\"%s\","
                     "\"purpose\":\"%s\",\"since\":\"%s\"}",
                     identity, k->keyid, pk64, member_purpose_name(k->purpose), k->since);
    return n > 0 && (size_t)n < outlen ? n : -1;
}

static int delegation_sign(const accord_sign_key *root, const char *identity, const member_key *k,
                           uint8_t sig[ACCORD_SIGN_SIG_LEN])
{
    char body[512];
    int n = delegation_body(identity, k, body, sizeof(body));
    if (n < 0)
        return ACCORD_ELIMIT;
    return accord_sign_dsse(root, MEMBER_DELEGATION_TYPE, body, (size_t)n, sig);
}

/* 0 when some root key of m signed k's delegation. */
static int delegation_check(const member_identity *m, const member_key *k,
                            const uint8_t sig[ACCORD_SIGN_SIG_LEN])
{
    char body[512];
    int n = delegation_body(m->id, k, body, sizeof(body));
    if (n < 0)
        return ACCORD_EINVAL;
    for (size_t i = 0; i < m->nkeys; i++)
        if (m->keys[i].purpose == MEMBER_ROOT &&
            accord_sign_dsse_verify(m->keys[i].pk, MEMBER_DELEGATION_TYPE, body, (size_t)n, sig) ==
                0)
            return 0;
    return ACCORD_EINVAL;
}

/* ------------------------------------------------------------------------------------------ */
/* Reading a key list                                                                           */

static int plain_text(const char *s)
{
    for (; *s; s++)
        if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20)
            return 0;
    return 1;
}

static int parse_key(const ajson_value *kv, size_t i, member_key *k, uint8_t *deleg,
                     accord_error *err)
{
    const char *keyid = ajson_str(ajson_get(kv, "keyid"));
    const char *purpose = ajson_str(ajson_get(kv, "purpose"));
    const char *pk = ajson_str(ajson_get(kv, "public_key"));
    const char *status = ajson_str(ajson_get(kv, "status"));
    const char *since = ajson_str(ajson_get(kv, "since"));
    const char *dg = ajson_str(ajson_get(kv, "delegation"));
    ts_value t;
    memset(k, 0, sizeof(*k));
    if (!keyid || !purpose || !pk || !status || !since || !dg)
        return accord_err_set(err, ACCORD_EINVAL,
                              "keys[%zu]: keyid, purpose, public_key, status, since and delegation "
                              "are required strings",
                              i);
    k->purpose = member_purpose_parse(purpose);
    k->status = member_status_parse(status);
    if (!k->purpose || !k->status)
        return accord_err_set(err, ACCORD_EINVAL, "keys[%zu]: unknown purpose or status", i);
    if (sign_b64_decode(pk, strlen(pk), k->pk, sizeof(k->pk)) ||
        sign_b64_decode(dg, strlen(dg), deleg, ACCORD_SIGN_SIG_LEN))
        return accord_err_set(err, ACCORD_EINVAL,
                              "keys[%zu]: public_key or delegation is not base64 of 32/64 bytes",
                              i);
    member_keyid(k->pk, k->keyid);
    if (strcmp(k->keyid, keyid) != 0)
        return accord_err_set(err, ACCORD_EINVAL,
                              "keys[%zu].keyid: is not the key id of public_key", i);
    if (strlen(since) >= sizeof(k->since) || ts_parse(since, &t) != 0 || !plain_text(since))
        return accord_err_set(err, ACCORD_EINVAL, "keys[%zu].since: not a timestamp", i);
    memcpy(k->since, since, strlen(since) + 1);
    return 0;
}

int member_parse(const ajson_value *identity, member_identity *out, accord_error *err)
{
    const ajson_value *ext = ajson_get(ajson_get(identity, "extensions"), MEMBER_KEYS_EXT);
    const ajson_value *keys = ajson_get(ext, "keys");
    const char *id = ajson_str(ajson_get(identity, "id"));
    const char *name = ajson_str(ajson_get(identity, "name"));
    const char *mod = ajson_str(ajson_get(identity, "modified"));
    const char *created = ajson_str(ajson_get(identity, "created"));
    uint8_t(*dg)[ACCORD_SIGN_SIG_LEN] = malloc(MEMBER_MAX_KEYS * ACCORD_SIGN_SIG_LEN);
    int rc = 0;
    memset(out, 0, sizeof(*out));
    if (!dg)
        return accord_err_set(err, ACCORD_ENOMEM, "member: out of memory");
    if (!ext || !id || strncmp(id, "identity--", 10) != 0 || strlen(id) != MEMBER_ID_LEN) {
        rc = accord_err_set(err, ACCORD_ENOTFOUND, "%s: no key list", id ? id : "object");
        goto out;
    }
    memcpy(out->id, id, MEMBER_ID_LEN + 1);
    snprintf(out->name, sizeof(out->name), "%s", name ? name : "");
    snprintf(out->modified, sizeof(out->modified), "%s", mod ? mod : "");
    snprintf(out->created, sizeof(out->created), "%s", created ? created : "");
    if (!keys || keys->type != AJSON_ARRAY || keys->len == 0 || keys->len > MEMBER_MAX_KEYS) {
        rc = accord_err_set(err, ACCORD_EINVAL,
                            "%s: extensions.%s.keys: must be a list of 1 to %d keys", id,
                            MEMBER_KEYS_EXT, MEMBER_MAX_KEYS);
        goto out;
    }
    for (size_t i = 0; i < keys->len && !rc; i++) {
        if ((rc = parse_key(&keys->u.items[i], i, &out->keys[i], dg[i], err)))
            break;
        if (member_key_find(out, out->keys[i].keyid))
            rc = accord_err_set(err, ACCORD_EINVAL, "keys[%zu]: key listed twice", i);
        out->nkeys = i + 1;
    }
    for (size_t i = 0; i < out->nkeys && !rc; i++)
        if (delegation_check(out, &out->keys[i], dg[i]))
            rc = accord_err_set(err, ACCORD_EINVAL,
                                "%s: keys[%zu] (%s): delegation not signed by a root key", id, i,
                                out->keys[i].keyid);
    if (!rc && !member_key_active(out, MEMBER_ROOT))
        rc = accord_err_set(err, ACCORD_EINVAL, "%s: the key list has no active root key", id);
    if (rc && rc != ACCORD_ENOTFOUND && err) {
        char m[sizeof(err->msg)];
        snprintf(m, sizeof(m), "%s", err->msg);
        if (strncmp(m, id, strlen(id)) != 0)
            accord_err_set(err, rc, "%s: extensions.%s.%s", id, MEMBER_KEYS_EXT, m);
    }
out:
    free(dg);
    return rc;
}

typedef struct history {
    member_identity *m;
    member_identity scratch;
    ajson_arena arena;
    int found, rc;
    accord_error *err;
} history;

/* One version, oldest first: the newest one's list wins; status times come from the first
 * version that gave each key its current status. */
static int history_version(void *ud, const accord_record *r)
{
    history *h = ud;
    ajson_error jerr;
    ajson_arena_reset(&h->arena);
    const ajson_value *root = ajson_parse(&h->arena, r->body, r->body_len, &jerr);
    if (!root || member_parse(root, &h->scratch, NULL) != 0)
        return 0; /* a version without a (valid) key list says nothing about keys */
    for (size_t i = 0; i < h->scratch.nkeys; i++) {
        member_key *k = &h->scratch.keys[i];
        const member_key *old = h->found ? member_key_find(h->m, k->keyid) : NULL;
        k->status_us = old && old->status == k->status ? old->status_us : r->added_us;
    }
    h->scratch.added_us = r->added_us;
    *h->m = h->scratch;
    h->found = 1;
    return 0;
}

int member_keys_of(accord_store *s, const char *id, member_identity *out, accord_error *err)
{
    history *h = calloc(1, sizeof(*h));
    if (!h)
        return accord_err_set(err, ACCORD_ENOMEM, "member: out of memory");
    h->m = out;
    h->err = err;
    ajson_arena_init(&h->arena, 0);
    memset(out, 0, sizeof(*out));
    int rc = accord_store_get(s, id, ACCORD_GET_ALL_VERSIONS, history_version, h, err);
    if (!rc && !h->found)
        rc = accord_err_set(err, ACCORD_ENOTFOUND, "%s: no stored version has a key list", id);
    else if (rc == ACCORD_ENOTFOUND)
        accord_err_set(err, rc, "%s: identity not stored", id);
    ajson_arena_free(&h->arena);
    free(h);
    return rc;
}

int member_self_id(accord_store *s, char *out, size_t outlen)
{
    char id[128];
    if (store_meta_get(s, "member_identity", id, sizeof(id)) != 0)
        return ACCORD_ENOTFOUND;
    if (strlen(id) != MEMBER_ID_LEN || outlen <= MEMBER_ID_LEN)
        return ACCORD_EINVAL;
    memcpy(out, id, MEMBER_ID_LEN + 1);
    return 0;
}

int member_self(accord_store *s, member_identity *out, accord_error *err)
{
    char id[MEMBER_ID_LEN + 1];
    if (member_self_id(s, id, sizeof(id)))
        return accord_err_set(err, ACCORD_ENOTFOUND,
                              "member: this node has no organisation yet (accord member init)");
    return member_keys_of(s, id, out, err);
}

int member_signer_load(accord_store *s, const char *data_dir, member_signer *out,
                       accord_error *err)
{
    member_identity *m = malloc(sizeof(*m));
    uint8_t pk[ACCORD_SIGN_PUBLIC_LEN];
    int rc = m ? member_self(s, m, err) : accord_err_set(err, ACCORD_ENOMEM, "out of memory");
    memset(out, 0, sizeof(*out));
    if (!rc && !data_dir)
        rc = accord_err_set(err, ACCORD_EINVAL, "member: signing needs the data directory");
    if (!rc)
        rc = member_key_load(data_dir, MEMBER_SIGNING, NULL, &out->key, err);
    if (!rc) {
        const member_key *k = member_key_active(m, MEMBER_SIGNING);
        accord_sign_key_public(out->key, pk);
        if (!k || memcmp(k->pk, pk, sizeof(pk)) != 0) {
            rc = accord_err_set(err, ACCORD_EINVAL,
                                "member: keys/signing.seed is not the active signing key of %s",
                                m->id);
        } else {
            memcpy(out->id, m->id, sizeof(out->id));
            memcpy(out->keyid, k->keyid, sizeof(out->keyid));
        }
    }
    if (rc) {
        accord_sign_key_free(out->key);
        out->key = NULL;
    }
    free(m);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Writing identity versions                                                                    */

static void now_ms(char *out, size_t outlen)
{
    char us[40];
    ts_format_us(ts_now_us(), us, sizeof(us));
    /* YYYY-MM-DDTHH:MM:SS.mmm + Z: the millisecond precision python-stix2 keeps (docs) */
    snprintf(out, outlen, "%.23sZ", us);
}

/* The identity version m as JSON text (not yet signed). */
static int identity_json(const member_identity *m, const char *created, buf *b,
                         const accord_sign_key *root)
{
    int rc = buf_printf(b,
                        "{\"type\":\"identity\",\"spec_version\":\"2.1\",\"id\":\"%s\","
                        "\"created\":\"%s\",\"modified\":\"%s\",\"name\":",
                        m->id, created, m->modified);
    rc = rc ? rc : buf_json_str(b, m->name);
    rc = rc ? rc
            : buf_printf(b,
                         ",\"identity_class\":\"organization\",\"extensions\":{\"%s\":{"
                         "\"extension_type\":\"property-extension\",\"keys\":[",
                         MEMBER_KEYS_EXT);
    for (size_t i = 0; i < m->nkeys && !rc; i++) {
        const member_key *k = &m->keys[i];
        uint8_t sig[ACCORD_SIGN_SIG_LEN];
        char pk64[SIGN_B64_LEN(32) + 1], sig64[SIGN_B64_LEN(64) + 1];
        if ((rc = delegation_sign(root, m->id, k, sig)))
            break;
        sign_b64_encode(k->pk, sizeof(k->pk), pk64, sizeof(pk64));
        sign_b64_encode(sig, sizeof(sig), sig64, sizeof(sig64));
        rc = buf_printf(b,
                        "%s{\"keyid\":\"%s\",\"purpose\":\"%s\",\"public_key\":\"%s\","
                        "\"status\":\"%s\",\"since\":\"%s\",\"delegation\":\"%s\"}",
                        i ? "," : "", k->keyid, member_purpose_name(k->purpose), pk64,
                        member_status_name(k->status), k->since, sig64);
    }
    rc = rc ? rc : buf_adds(b, "]}}}");
    return rc ? ACCORD_ENOMEM : 0;
}

/*
 * Signs the identity text with the root key and stores it in the default collection, with meta
 * and audit, in one transaction.
 */
static int identity_store(accord_store *s, const char *json, size_t len,
                          const accord_sign_key *root, const char *root_keyid, int is_new,
                          accord_error *err)
{
    ajson_arena a;
    ajson_error jerr;
    buf canon, body;
    prov_sigs *sigs = calloc(1, sizeof(*sigs));
    int rc = 0;
    ajson_arena_init(&a, 0);
    buf_init(&canon, (size_t)1 << 24);
    buf_init(&body, (size_t)1 << 24);
    const ajson_value *obj = ajson_parse(&a, json, len, &jerr), *content = NULL, *stored = NULL;
    if (!sigs || !obj) {
        rc = accord_err_set(err, sigs ? ACCORD_EINVAL : ACCORD_ENOMEM,
                            "member: cannot build the identity: %s", obj ? "" : jerr.msg);
        goto out;
    }
    const char *id = ajson_str(ajson_get(obj, "id"));
    if ((rc = prov_parse(&a, obj, &content, sigs, err)) ||
        (rc = prov_canonical(content, &canon, err)))
        goto out;
    if ((rc = prov_sign(root, id, root_keyid, canon.p, canon.len, &sigs->v[0])))
        goto out;
    sigs->n = 1;
    if ((rc = prov_write(&a, content, sigs, &body, err)))
        goto out;
    stored = ajson_parse(&a, body.p, body.len, &jerr);
    stix_info info;
    stix_problem prob;
    memset(&info, 0, sizeof(info));
    if (!stored || stix_validate(stored, NULL, &info, &prob) != 0) {
        rc = accord_err_set(err, ACCORD_ESTIX, "member: the identity is not valid STIX: %s",
                            stored ? prob.message : jerr.msg);
        goto out;
    }
    int64_t cid, seq;
    store_outcome outcome;
    if ((rc = store_collection_resolve(s, NULL, &cid, err)) || (rc = store_begin(s, err)))
        goto out;
    /* the extension-definitions the identity uses, ahead of it in the collection */
    rc = prov_publish(s, cid, err);
    /* the content hash of a signed version is that of its canonical content, as import computes
       it: a copy relayed back by a peer is then the same version, not a conflict */
    if (!rc)
        rc = store_put_hashed(s, cid, &info, body.p, body.len,
                              store_content_hash(canon.p, canon.len), NULL, 0, &outcome, &seq, err);
    if (!rc && outcome != STORE_NEW && outcome != STORE_VERSION)
        rc = accord_err_set(err, ACCORD_EINVAL, "member: %s version %s is already stored", id,
                            info.modified);
    if (!rc && is_new)
        rc = store_meta_set(s, "member_identity", id, err);
    if (!rc)
        rc =
            store_audit(s, "identity applied", seq, id, is_new ? "member init" : "key update", err);
    if (!rc)
        rc = store_commit(s, err);
    else
        store_rollback(s);
out:
    buf_free(&canon);
    buf_free(&body);
    free(sigs);
    ajson_arena_free(&a);
    return rc;
}

static void key_entry(member_key *k, const accord_sign_key *key, member_purpose p,
                      const char *since)
{
    memset(k, 0, sizeof(*k));
    accord_sign_key_public(key, k->pk);
    member_keyid(k->pk, k->keyid);
    k->purpose = p;
    k->status = MEMBER_ACTIVE;
    snprintf(k->since, sizeof(k->since), "%s", since);
}

int member_init(accord_store *s, const char *data_dir, const member_init_options *o,
                member_identity *out, accord_error *err)
{
    char dir[4096], rootp[4096], signp[4096], nodep[4096], created[40], uuid[37];
    accord_sign_key *root = NULL, *signing = NULL, *node = NULL;
    member_identity *m = calloc(1, sizeof(*m));
    int rc = 0, wrote_root = 0, wrote_sign = 0, wrote_node = 0;
    buf b;
    buf_init(&b, (size_t)1 << 20);
    if (!m)
        return accord_err_set(err, ACCORD_ENOMEM, "member: out of memory");
    if (!o || !o->name || !*o->name || strlen(o->name) >= sizeof(m->name)) {
        rc = accord_err_set(err, ACCORD_EINVAL, "member init: a name (--name ORG) is required");
        goto out;
    }
    if (member_self_id(s, uuid, sizeof(uuid)) != ACCORD_ENOTFOUND) {
        rc = accord_err_set(err, ACCORD_EINVAL,
                            "member init: this node already has an organisation");
        goto out;
    }
    if ((size_t)snprintf(dir, sizeof(dir), "%s/keys", data_dir) >= sizeof(dir) ||
        member_key_path(data_dir, MEMBER_ROOT, rootp, sizeof(rootp)) ||
        member_key_path(data_dir, MEMBER_SIGNING, signp, sizeof(signp)) ||
        member_key_path(data_dir, MEMBER_NODE, nodep, sizeof(nodep))) {
        rc = accord_err_set(err, ACCORD_ELIMIT, "member init: data directory path too long");
        goto out;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        rc = accord_err_set(err, ACCORD_EIO, "member init: %s: %s", dir, strerror(errno));
        goto out;
    }
    const char *rp = o->root_out ? o->root_out : rootp;
    if ((rc = accord_sign_key_generate(&root)) || (rc = accord_sign_key_generate(&signing)))
        goto out;
    if (access(nodep, F_OK) == 0) { /* adopt the node key the audit log already uses */
        if ((rc = accord_sign_key_load(nodep, &node, err)))
            goto out;
    } else if ((rc = accord_sign_key_generate(&node)) ||
               (rc = accord_sign_key_save(node, nodep, err))) {
        goto out;
    } else {
        wrote_node = 1;
    }
    if ((rc = accord_sign_key_save(root, rp, err)))
        goto out;
    wrote_root = 1;
    if ((rc = accord_sign_key_save(signing, signp, err)))
        goto out;
    wrote_sign = 1;
    uuid4_make(uuid);
    now_ms(created, sizeof(created));
    snprintf(m->id, sizeof(m->id), "identity--%s", uuid);
    snprintf(m->name, sizeof(m->name), "%s", o->name);
    snprintf(m->modified, sizeof(m->modified), "%s", created);
    key_entry(&m->keys[0], root, MEMBER_ROOT, created);
    key_entry(&m->keys[1], signing, MEMBER_SIGNING, created);
    key_entry(&m->keys[2], node, MEMBER_NODE, created);
    m->nkeys = 3;
    if ((rc = identity_json(m, created, &b, root)) ||
        (rc = identity_store(s, b.p, b.len, root, m->keys[0].keyid, 1, err)))
        goto out;
    if (out)
        rc = member_self(s, out, err);
out:
    if (rc) { /* nothing half-made stays behind; an adopted node key is kept */
        if (wrote_root)
            unlink(o->root_out ? o->root_out : rootp);
        if (wrote_sign)
            unlink(signp);
        if (wrote_node)
            unlink(nodep);
    }
    accord_sign_key_free(root);
    accord_sign_key_free(signing);
    accord_sign_key_free(node);
    buf_free(&b);
    free(m);
    return rc;
}

/* Moves DATA/keys/P.seed aside as P.seed.KEYID and writes key in its place. */
static int replace_seed(const char *path, const char *old_keyid, const accord_sign_key *key,
                        accord_error *err)
{
    char aside[4200];
    snprintf(aside, sizeof(aside), "%s.%s", path, old_keyid);
    if (rename(path, aside) != 0 && errno != ENOENT)
        return accord_err_set(err, ACCORD_EIO, "member: %s: %s", path, strerror(errno));
    return accord_sign_key_save(key, path, err);
}

int member_update(accord_store *s, const char *data_dir, const char *root_path,
                  member_purpose rotate, const char *compromised_keyid, member_identity *out,
                  accord_error *err)
{
    member_identity *m = calloc(1, sizeof(*m));
    accord_sign_key *root = NULL, *fresh = NULL;
    char now[40], created[40], path[4096];
    uint8_t pk[ACCORD_SIGN_PUBLIC_LEN];
    char rkeyid[MEMBER_KEYID_HEX + 1];
    buf b;
    int rc;
    buf_init(&b, (size_t)1 << 20);
    if (!m)
        return accord_err_set(err, ACCORD_ENOMEM, "member: out of memory");
    if ((rc = member_self(s, m, err)) ||
        (rc = member_key_load(data_dir, MEMBER_ROOT, root_path, &root, err)))
        goto out;
    accord_sign_key_public(root, pk);
    member_keyid(pk, rkeyid);
    const member_key *rk = member_key_find(m, rkeyid);
    if (!rk || rk->purpose != MEMBER_ROOT || rk->status != MEMBER_ACTIVE) {
        rc = accord_err_set(err, ACCORD_EINVAL, "member: %s is not an active root key of %s",
                            rkeyid, m->id);
        goto out;
    }
    snprintf(created, sizeof(created), "%s", m->created);
    now_ms(now, sizeof(now));
    if (strcmp(now, m->modified) <= 0) {
        rc = accord_err_set(err, ACCORD_EINVAL, "member: a version was made this millisecond");
        goto out;
    }
    snprintf(m->modified, sizeof(m->modified), "%s", now);
    if (compromised_keyid) {
        member_key *k = (member_key *)member_key_find(m, compromised_keyid);
        if (!k) {
            rc = accord_err_set(err, ACCORD_ENOTFOUND, "member: no key %s in %s", compromised_keyid,
                                m->id);
            goto out;
        }
        k->status = MEMBER_COMPROMISED;
    }
    if (rotate == MEMBER_SIGNING || rotate == MEMBER_NODE) {
        member_key *old = (member_key *)member_key_active(m, rotate);
        if (m->nkeys >= MEMBER_MAX_KEYS) {
            rc = accord_err_set(err, ACCORD_ELIMIT, "member: %s lists %d keys already", m->id,
                                MEMBER_MAX_KEYS);
            goto out;
        }
        if ((rc = accord_sign_key_generate(&fresh)) ||
            (rc = member_key_path(data_dir, rotate, path, sizeof(path))))
            goto out;
        if (old)
            old->status = MEMBER_RETIRED;
        key_entry(&m->keys[m->nkeys++], fresh, rotate, now);
        if ((rc = replace_seed(path, old ? old->keyid : "old", fresh, err)))
            goto out;
    }
    if ((rc = identity_json(m, created, &b, root)) ||
        (rc = identity_store(s, b.p, b.len, root, rkeyid, 0, err)))
        goto out;
    if (out)
        rc = member_self(s, out, err);
out:
    accord_sign_key_free(root);
    accord_sign_key_free(fresh);
    buf_free(&b);
    free(m);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Public API                                                                                   */

static int report(const member_identity *m, accord_member_key_cb cb, void *ud)
{
    for (size_t i = 0; cb && i < m->nkeys; i++) {
        const member_key *k = &m->keys[i];
        char pk64[SIGN_B64_LEN(ACCORD_SIGN_PUBLIC_LEN) + 1];
        sign_b64_encode(k->pk, sizeof(k->pk), pk64, sizeof(pk64));
        accord_member_key ak = {.keyid = k->keyid,
                                .purpose = member_purpose_name(k->purpose),
                                .status = member_status_name(k->status),
                                .since = k->since,
                                .public_key = pk64,
                                .status_us = k->status_us};
        int rc = cb(ud, m->id, m->name, &ak);
        if (rc)
            return rc;
    }
    return 0;
}

ACCORD_API int accord_member_init(accord_store *store, const char *data_dir, const char *name,
                                  const char *root_out, accord_member_key_cb cb, void *ud,
                                  accord_error *err)
{
    member_identity *m = malloc(sizeof(*m));
    member_init_options o = {.name = name, .root_out = root_out};
    int rc = m ? member_init(store, data_dir, &o, m, err)
               : accord_err_set(err, ACCORD_ENOMEM, "out of memory");
    if (!rc)
        rc = report(m, cb, ud);
    free(m);
    return rc;
}

ACCORD_API int accord_member_update(accord_store *store, const char *data_dir,
                                    const char *root_path, const char *rotate,
                                    const char *compromised_keyid, accord_member_key_cb cb,
                                    void *ud, accord_error *err)
{
    member_purpose p = rotate ? member_purpose_parse(rotate) : 0;
    if (rotate && p != MEMBER_SIGNING && p != MEMBER_NODE)
        return accord_err_set(err, ACCORD_EINVAL,
                              "member: can rotate \"signing\" or \"node\" keys, "
                              "not \"%s\" (a root key rotates offline)",
                              rotate);
    if (!rotate && !compromised_keyid)
        return accord_err_set(err, ACCORD_EINVAL, "member: nothing to change");
    member_identity *m = malloc(sizeof(*m));
    int rc = m ? member_update(store, data_dir, root_path, p, compromised_keyid, m, err)
               : accord_err_set(err, ACCORD_ENOMEM, "out of memory");
    if (!rc)
        rc = report(m, cb, ud);
    free(m);
    return rc;
}

ACCORD_API int accord_member_keys(accord_store *store, const char *identity,
                                  accord_member_key_cb cb, void *ud, accord_error *err)
{
    member_identity *m = malloc(sizeof(*m));
    int rc = !m         ? accord_err_set(err, ACCORD_ENOMEM, "out of memory")
             : identity ? member_keys_of(store, identity, m, err)
                        : member_self(store, m, err);
    if (!rc)
        rc = report(m, cb, ud);
    free(m);
    return rc;
}
