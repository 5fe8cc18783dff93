/*
 * provenance_publish.c - accord's extension-definitions in the collections that use them, and
 * the collections whose TAXII POSTs this node signs.
 *
 * A signed object names the signature extension by its extension-definition id; an identity with
 * a key list names the member-keys one; a roster is a new SDO defined by a third.  A TAXII client
 * that reads a collection must be able to resolve them, so they are STIX objects of the
 * collection like any other, marked TLP:CLEAR so that every reader of the collection sees them:
 *
 *   | id (extension-definition--)           | defines                  | text                  |
 *   |---------------------------------------|--------------------------|-----------------------|
 *   | 53c7b8eb-425d-4c94-b293-1a9751b00c31  | the signature list       | prov_sig_extdef_json  |
 *   | d199fcc8-2064-4b35-a710-3bbd6393645a  | an organisation's keys   | prov_keys_extdef_json |
 *   | 0c6f4d8e-7a43-4b5e-9f0e-2d1c8b6a5e37  | the accord-roster SDO    | roster_extdef_json    |
 *
 * When: the signature one is in every collection (accord_collection_extdef_publish, run by
 * `accord collection add` and at `accord serve`'s start), so a client can resolve a signature
 * in whatever collection an object reaches it through, and anyone reading a collection learns
 * that its objects may carry them.  Both store it in every collection that lacks it, so a
 * store's default collection, made with the store by whichever command opens it first, gets it
 * at the first `accord serve` or `accord collection add`: a TAXII client reads a collection only
 * through a server, which publishes it before it answers, and a store only the other commands
 * have used holds exactly what was put in it (`accord import` then `accord export` gives the
 * same objects back).  A peer that pulls into a collection which lacks it gets
 * it like any other object (prov_is_shipped lets it in unsigned).
 *
 * All three: import stores them in a collection, in the transaction of the first signed object
 * (or key list) it puts there in a run, ahead of that object (prov_publish); `accord member
 * init` with the identity; `accord collection sign COLL on` when it turns signing on.  The
 * key-list and roster ones are not published in a collection that never held such an object:
 * nothing in it needs them.
 *
 * The texts are constants with one `modified`, so every node stores the same bytes and a copy
 * relayed by a peer is a duplicate, never a new version.  They are not signed (their producer
 * is accord, not a member); prov_is_shipped lets a relay's accept policy pass them unsigned when
 * they are exactly the shipped bytes and nothing else.  If another object with the same id and
 * modified is stored already (a forgery posted before), it stays and is not replaced: that is a
 * conflict like any other, and the shipped text is what `accord jcs` of these constants shows.
 *
 * Collection signing is a setting of the store (meta 'collection_sign:<cid>' = 1; cid is never
 * reused), changed in one transaction with its audit record; taxii.c reads it for each POST, and
 * `accord serve` refuses to start while a collection signs and the key does not load
 * (accord_collection_sign_check).
 */
#include "member.h"
#include "provenance.h"
#include "roster.h"
#include "stix.h"
#include "store.h"

#include <stdio.h>
#include <string.h>

static const char *const shipped[] = {prov_sig_extdef_json, prov_keys_extdef_json,
                                      roster_extdef_json};
#define NSHIPPED (sizeof(shipped) / sizeof(shipped[0]))

/* Stores one shipped text in collection cid; a conflicting stored copy is left alone. */
static int publish_one(accord_store *s, int64_t cid, ajson_arena *a, const char *json,
                       accord_error *err)
{
    ajson_error jerr;
    stix_info info;
    stix_problem prob;
    store_outcome outcome;
    int64_t seq;
    size_t len = strlen(json);
    const ajson_value *o = ajson_parse(a, json, len, &jerr);
    memset(&info, 0, sizeof(info));
    if (!o || stix_validate(o, NULL, &info, &prob) != 0) /* the constants are tested */
        return accord_err_set(err, ACCORD_EINVAL, "provenance: a shipped extension-definition "
                                                  "is not valid STIX: %s",
                              o ? prob.message : jerr.msg);
    return store_put(s, cid, &info, json, len, NULL, 0, &outcome, &seq, err);
}

int prov_publish(accord_store *s, int64_t cid, accord_error *err)
{
    ajson_arena a;
    int rc = 0;
    ajson_arena_init(&a, 0);
    for (size_t i = 0; i < NSHIPPED && !rc; i++) {
        ajson_arena_reset(&a);
        rc = publish_one(s, cid, &a, shipped[i], err);
    }
    ajson_arena_free(&a);
    return rc;
}

typedef struct extdef_scan {
    accord_store *s;
    ajson_arena a;
    int rc;
    accord_error *err;
} extdef_scan;

static int extdef_one(void *ud, const accord_collection *c)
{
    extdef_scan *x = ud;
    ajson_arena_reset(&x->a);
    x->rc = publish_one(x->s, c->cid, &x->a, prov_sig_extdef_json, x->err);
    return x->rc;
}

ACCORD_API int accord_collection_extdef_publish(accord_store *s, accord_error *err)
{
    extdef_scan x = {.s = s, .err = err};
    int rc = store_begin(s, err);
    if (rc)
        return rc;
    ajson_arena_init(&x.a, 0);
    rc = accord_collection_list(s, NULL, extdef_one, &x, err);
    ajson_arena_free(&x.a);
    if (!rc)
        rc = x.rc;
    if (!rc)
        return store_commit(s, err);
    store_rollback(s);
    return rc;
}

int prov_is_shipped(const ajson_value *obj)
{
    const char *type = ajson_str(ajson_get(obj, "type"));
    const char *id = ajson_str(ajson_get(obj, "id"));
    if (!type || !id || strcmp(type, "extension-definition") != 0)
        return 0;
    const char *text = NULL;
    for (size_t i = 0; i < NSHIPPED && !text; i++) {
        const char *p = strstr(shipped[i], "\"id\":\"");
        if (p && strncmp(p + 6, id, strlen(id)) == 0 && p[6 + strlen(id)] == '"')
            text = shipped[i];
    }
    if (!text)
        return 0;
    ajson_arena a;
    ajson_error jerr;
    buf mine, theirs;
    int same = 0;
    ajson_arena_init(&a, 0);
    buf_init(&mine, (size_t)1 << 20);
    buf_init(&theirs, (size_t)1 << 20);
    const ajson_value *o = ajson_parse(&a, text, strlen(text), &jerr);
    if (o && prov_canonical(o, &mine, NULL) == 0 && prov_canonical(obj, &theirs, NULL) == 0)
        same = mine.len == theirs.len && memcmp(mine.p, theirs.p, mine.len) == 0;
    buf_free(&mine);
    buf_free(&theirs);
    ajson_arena_free(&a);
    return same;
}

/* ------------------------------------------------------------------------------------------ */
/* Collections that sign                                                                        */

static void sign_key(int64_t cid, char *out, size_t outlen)
{
    snprintf(out, outlen, "collection_sign:%lld", (long long)cid);
}

ACCORD_API int accord_collection_sign_get(accord_store *s, const char *ref, int *on,
                                          accord_error *err)
{
    int64_t cid;
    char key[64], v[8];
    int rc = store_collection_resolve(s, ref, &cid, err);
    *on = 0;
    if (rc)
        return rc;
    sign_key(cid, key, sizeof(key));
    *on = store_meta_get(s, key, v, sizeof(v)) == 0 && strcmp(v, "1") == 0;
    return 0;
}

ACCORD_API int accord_collection_sign_set(accord_store *s, const char *data_dir, const char *ref,
                                          int on, accord_error *err)
{
    member_signer me = {0};
    int64_t cid = 0;
    char key[64];
    int rc = 0;
    /* a collection that signs must be able to: the key is loaded and checked now, so a POST
     * never meets a missing or mismatched key for the first time */
    if (on && (rc = member_signer_load(s, data_dir, &me, err)))
        return rc;
    accord_sign_key_free(me.key);
    if ((rc = store_begin(s, err)))
        return rc;
    rc = store_collection_resolve(s, ref, &cid, err);
    sign_key(cid, key, sizeof(key));
    if (!rc && on)
        rc = prov_publish(s, cid, err);
    if (!rc)
        rc = store_meta_set(s, key, on ? "1" : "0", err);
    if (!rc)
        rc = store_audit(s, "collection-sign", 0, ref, on ? "on" : "off", err);
    if (!rc)
        return store_commit(s, err);
    store_rollback(s);
    return rc;
}

typedef struct sign_scan {
    accord_store *s;
    char first[40]; /* a collection that signs, "" when none */
} sign_scan;

static int scan_one(void *ud, const accord_collection *c)
{
    sign_scan *x = ud;
    int on = 0;
    if (!x->first[0] && accord_collection_sign_get(x->s, c->id, &on, NULL) == 0 && on)
        snprintf(x->first, sizeof(x->first), "%s", c->id);
    return 0;
}

ACCORD_API int accord_collection_sign_check(accord_store *s, const char *data_dir,
                                            accord_error *err)
{
    sign_scan x = {.s = s};
    member_signer me;
    accord_error why = {0};
    int rc = accord_collection_list(s, NULL, scan_one, &x, err);
    if (rc || !x.first[0])
        return rc;
    if ((rc = member_signer_load(s, data_dir, &me, &why)) == 0) {
        accord_sign_key_free(me.key);
        return 0;
    }
    return accord_err_set(err, rc, "collection %s signs TAXII POSTs, and the key cannot: %s",
                          x.first, why.msg);
}
