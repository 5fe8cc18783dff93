/*
 * provenance_verify.c - `accord verify`: the provenance status of each object of a file or of a
 * stored object's versions (the public accord_verify_* of include/accord_trust.h).
 *
 * The same judgement as ingest (provenance.c: prov_verify, prov_verify_identity), without
 * storing anything.  For a file, identities with key lists met earlier in the input are trusted
 * the way an import would store them (a first version must be signed by its own root key, a later
 * one by the root key of the version before), so a bundle that carries its producer's identity
 * verifies on a node that has never seen it.  For a stored version, "accepted" is its date_added
 * here, so a key compromised afterwards leaves it valid.
 */
#include "provenance.h"
#include "reader.h"
#include "stix.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct verify_ctx {
    prov_verifier *pv;
    ajson_arena arena;
    buf canon;
    prov_sigs sigs;
    accord_verify_cb cb;
    void *ud;
    int invalid;
    char reason[520];
} verify_ctx;

/* Judges one object's text; fills r (its strings live in x->arena or x->reason). */
static int judge_text(verify_ctx *x, const char *text, size_t len, int64_t accepted_us, int learn,
                      accord_verify_result *r, accord_error *err)
{
    ajson_error jerr;
    accord_error perr = {0};
    const ajson_value *root, *content;
    prov_result res;
    uint8_t hash[32];
    ajson_arena_reset(&x->arena);
    r->status = "invalid";
    r->reason = x->reason;
    x->reason[0] = 0;
    if (!(root = ajson_parse(&x->arena, text, len, &jerr)) || root->type != AJSON_OBJECT) {
        snprintf(x->reason, sizeof(x->reason), "not a JSON object: %s", root ? "" : jerr.msg);
        return 0;
    }
    r->id = ajson_str(ajson_get(root, "id"));
    r->modified = ajson_str(ajson_get(root, "modified"));
    if (!r->modified)
        r->modified = "";
    int rc = prov_parse(&x->arena, root, &content, &x->sigs, &perr);
    if (rc == ACCORD_ENOMEM)
        return accord_err_set(err, rc, "out of memory");
    buf_reset(&x->canon);
    if (rc || (rc = prov_canonical(content, &x->canon, &perr)) != 0) {
        if (rc == ACCORD_ENOMEM)
            return rc;
        snprintf(x->reason, sizeof(x->reason), "%s", perr.msg);
        return 0;
    }
    prov_object_hash(x->canon.p, x->canon.len, hash);
    const char *type = ajson_str(ajson_get(root, "type"));
    int keys = type && strcmp(type, "identity") == 0 &&
               ajson_get(ajson_get(content, "extensions"), MEMBER_KEYS_EXT);
    const char *by = ajson_str(ajson_get(root, "created_by_ref"));
    if (keys && !by)
        by = r->id; /* an organisation's identity is authored by itself */
    if (keys && learn)
        rc = prov_verify_identity(x->pv, content, x->canon.p, x->canon.len, hash, &x->sigs,
                                  accepted_us, &res, err);
    else
        rc = prov_verify(x->pv, x->canon.p, x->canon.len, hash, by, &x->sigs, accepted_us, &res,
                         err);
    if (rc)
        return rc;
    if (keys && learn && res.status == PROV_AUTHORED &&
        (rc = prov_verifier_learn(x->pv, content, accepted_us, err)))
        return rc;
    r->status = prov_status_name(res.status);
    r->valid = res.valid;
    r->unknown = res.unknown;
    snprintf(x->reason, sizeof(x->reason), "%s", res.status == PROV_INVALID ? res.reason : "");
    return 0;
}

static int ctx_init(verify_ctx *x, accord_store *store, accord_verify_cb cb, void *ud)
{
    memset(x, 0, sizeof(*x));
    ajson_arena_init(&x->arena, 0);
    buf_init(&x->canon, (size_t)1 << 27);
    x->cb = cb;
    x->ud = ud;
    return prov_verifier_new(store, &x->pv);
}

static void ctx_free(verify_ctx *x)
{
    prov_verifier_free(x->pv);
    ajson_arena_free(&x->arena);
    buf_free(&x->canon);
}

/* Reports r; remembers whether any object was invalid. */
static int report(verify_ctx *x, const accord_verify_result *r)
{
    x->invalid |= strcmp(r->status, "invalid") == 0;
    return x->cb ? x->cb(x->ud, r) : 0;
}

ACCORD_API int accord_verify_fd(accord_store *store, int fd, accord_verify_cb cb, void *ud,
                                accord_error *err)
{
    verify_ctx *x = malloc(sizeof(*x));
    reader *r = NULL;
    int rc = x ? ctx_init(x, store, cb, ud) : ACCORD_ENOMEM;
    if (rc) {
        free(x);
        return accord_err_set(err, ACCORD_ENOMEM, "verify: out of memory");
    }
    if ((rc = reader_open(fd, 0, &r))) {
        accord_err_set(err, rc, "verify: cannot read the input: %s", accord_strerror(rc));
        goto out;
    }
    reader_item it;
    int n;
    while (!rc && (n = reader_next(r, &it)) == 1) {
        accord_verify_result res = {.index = it.index};
        if (!(rc = judge_text(x, it.text, it.len, accord_timestamp_now(), 1, &res, err)))
            rc = report(x, &res);
    }
    if (!rc && n < 0)
        rc = accord_err_set(err, n, "verify: %s", reader_errmsg(r));
    if (!rc && x->invalid)
        rc = accord_err_set(err, ACCORD_ESTIX, "verify: some objects are invalid");
out:
    reader_close(r);
    ctx_free(x);
    free(x);
    return rc;
}

typedef struct id_walk {
    verify_ctx *x;
    accord_error *err;
    int rc;
} id_walk;

static int verify_record(void *ud, const accord_record *rec)
{
    id_walk *w = ud;
    accord_verify_result res = {0};
    w->rc = judge_text(w->x, rec->body, rec->body_len, rec->added_us, 0, &res, w->err);
    return w->rc ? w->rc : report(w->x, &res);
}

ACCORD_API int accord_verify_id(accord_store *store, const char *id, unsigned flags,
                                accord_verify_cb cb, void *ud, accord_error *err)
{
    verify_ctx *x = malloc(sizeof(*x));
    int rc = x ? ctx_init(x, store, cb, ud) : ACCORD_ENOMEM;
    if (rc) {
        free(x);
        return accord_err_set(err, ACCORD_ENOMEM, "verify: out of memory");
    }
    id_walk w = {x, err, 0};
    rc = accord_store_get(store, id, flags & ACCORD_GET_ALL_VERSIONS, verify_record, &w, err);
    if (rc == ACCORD_ENOTFOUND)
        accord_err_set(err, rc, "verify: %s is not stored", id);
    if (!rc && x->invalid)
        rc = accord_err_set(err, ACCORD_ESTIX, "verify: %s: a version is invalid", id);
    ctx_free(x);
    free(x);
    return rc;
}
