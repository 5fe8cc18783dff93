/*
 * provenance_sign.c - `accord sign`: a producer signs the objects of a STIX document with this
 * node's organisation, one signature per object or one per batch (accord_sign_fd).
 *
 * Output: one bundle, each object in its stored form (RFC 8785 with the signature list sorted,
 * prov_write), one per line, in input order:
 *
 *   {"type":"bundle","id":"bundle--<uuid4>","objects":[
 *   <object 0>,
 *   ...
 *   <object n-1>
 *   ]}
 *
 * Single signatures (batch 0): each object gets {signer_ref, keyid, sig} over PAE(object type,
 * JCS(object without the extension)).  Batches of N: the object hashes of N consecutive objects
 * are the leaves of one RFC 6962 tree, its root is signed once (PAE(batch type, root || size)),
 * and each object carries that signature with its leaf index and inclusion path (provenance.c
 * tables the fields), so a verifier checks one Ed25519 signature per batch and a path per
 * object, and an object altered after signing fails alone: its leaf no longer leads to the root.
 *
 * Signatures already on an object are kept (this one joins them: an endorsement); an object
 * already signed by this very key keeps that signature.  An identity carrying a key list is
 * written unchanged, outside any batch: it is signed by its own root key (`accord member`); so
 * are accord's own extension-definitions, which every node publishes unsigned.
 *
 * Every object must be valid STIX (stix_validate): a producer must not sign what no node would
 * accept.  The first invalid object ends the run with an error naming its index and id; what was
 * written before it is a truncated document, which the caller discards (the CLI writes to a
 * temporary file and renames it only on success).
 *
 * Memory: a batch holds its objects' texts until its root is signed (at most PROV_MAX_BATCH
 * objects, SIGN_MAX_HELD bytes in all); single signatures hold one object.
 */
#include "member.h"
#include "provenance.h"
#include "reader.h"
#include "stix.h"
#include "store.h"
#include "util/uuid.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SIGN_MAX_HELD ((size_t)1 << 30)
#define SIGN_FLUSH ((size_t)1 << 20)

/* One object waiting for its batch's signature. */
typedef struct held {
    size_t off, len; /* its text in sign_ctx.texts, as read */
    int keep;        /* written unchanged (an identity with a key list) */
} held;

typedef struct sign_ctx {
    member_signer me;
    uint32_t batch;
    int fd;
    ajson_arena a;
    buf canon, out, texts;
    held *h;
    uint8_t *hashes; /* of the held objects that are signed, in order */
    prov_sig *sigs;
    prov_sigs *have;
    size_t n, nhash;
    accord_sign_stats st;
} sign_ctx;

static int out_flush(sign_ctx *x, accord_error *err)
{
    for (size_t off = 0; off < x->out.len;) {
        ssize_t w = write(x->fd, x->out.p + off, x->out.len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return accord_err_set(err, ACCORD_EIO, "sign: cannot write the output: %s",
                                  strerror(errno));
        off += (size_t)w;
    }
    buf_reset(&x->out);
    return 0;
}

/* Appends the separator before an object and the object's text to the output. */
static int emit(sign_ctx *x, const char *text, size_t len, accord_error *err)
{
    int rc = buf_adds(&x->out, x->st.objects++ ? ",\n" : "\n");
    rc = rc ? rc : buf_add(&x->out, text, len);
    if (rc)
        return accord_err_set(err, ACCORD_ENOMEM, "sign: out of memory");
    return x->out.len >= SIGN_FLUSH ? out_flush(x, err) : 0;
}

/* Parses object text into x->a: its content and signatures (in x->have). */
static int split(sign_ctx *x, const char *text, size_t len, const ajson_value **root,
                 const ajson_value **content, accord_error *err)
{
    ajson_error jerr;
    ajson_arena_reset(&x->a);
    if (!(*root = ajson_parse(&x->a, text, len, &jerr)))
        return accord_err_set(err, ACCORD_EJSON, "invalid JSON at byte %zu: %s", jerr.offset,
                              jerr.msg);
    return prov_parse(&x->a, *root, content, x->have, err);
}

/* Writes an object with signature s joined to the ones it carries. */
static int emit_signed(sign_ctx *x, const ajson_value *content, const prov_sig *s,
                       accord_error *err)
{
    x->st.signed_objects += (uint64_t)prov_sigs_add(x->have, s);
    buf_reset(&x->canon);
    int rc = prov_write(&x->a, content, x->have, &x->canon, err);
    return rc ? rc : emit(x, x->canon.p, x->canon.len, err);
}

/* Writes an object that is not signed here (an identity's key list) in its stored form. */
static int emit_kept(sign_ctx *x, const ajson_value *content, accord_error *err)
{
    buf_reset(&x->canon);
    int rc = prov_write(&x->a, content, x->have, &x->canon, err);
    return rc ? rc : emit(x, x->canon.p, x->canon.len, err);
}

/* Signs the held objects' root and writes them all. */
static int flush_batch(sign_ctx *x, accord_error *err)
{
    int rc = 0;
    if (x->nhash) {
        if ((rc = prov_sign_batch(x->me.key, x->me.id, x->me.keyid, x->hashes, x->nhash, x->sigs)))
            return accord_err_set(err, rc, "sign: cannot sign a batch of %zu", x->nhash);
        x->st.signatures++;
    }
    for (size_t i = 0, j = 0; i < x->n && !rc; i++) {
        const ajson_value *root, *content;
        if ((rc = split(x, x->texts.p + x->h[i].off, x->h[i].len, &root, &content, err)))
            break;
        rc = x->h[i].keep ? emit_kept(x, content, err) : emit_signed(x, content, &x->sigs[j++], err);
    }
    x->n = x->nhash = 0;
    buf_reset(&x->texts);
    return rc;
}

/* Fails the run at object `it` (its id when it has one): the message names both. */
static int fail_at(const reader_item *it, const char *id, int rc, const accord_error *why,
                   accord_error *err)
{
    char what[sizeof(why->msg)];
    snprintf(what, sizeof(what), "%s", why->msg);
    if (id)
        return accord_err_set(err, rc, "sign: object %llu (%.100s): %s",
                              (unsigned long long)it->index, id, what);
    return accord_err_set(err, rc, "sign: object %llu at byte %llu: %s",
                          (unsigned long long)it->index, (unsigned long long)it->offset, what);
}

/* One object of the input: checked, then signed now (single) or held for its batch. */
static int sign_item(sign_ctx *x, const reader_item *it, accord_error *err)
{
    const ajson_value *root, *content;
    accord_error why = {0};
    stix_info info;
    stix_problem prob;
    int rc = split(x, it->text, it->len, &root, &content, &why);
    x->st.read++;
    memset(&info, 0, sizeof(info));
    if (rc)
        return fail_at(it, root ? ajson_str(ajson_get(root, "id")) : NULL, rc, &why, err);
    if (stix_validate(root, it->bundle_spec, &info, &prob) != 0) {
        snprintf(why.msg, sizeof(why.msg), "%s", prob.message);
        return fail_at(it, info.id ? info.id : ajson_str(ajson_get(root, "id")), ACCORD_ESTIX,
                       &why, err);
    }
    int keep = (strcmp(info.type, "identity") == 0 &&
                ajson_get(ajson_get(content, "extensions"), MEMBER_KEYS_EXT)) ||
               prov_is_shipped(content);
    uint8_t hash[32];
    if (!keep) {
        buf_reset(&x->canon);
        if ((rc = prov_canonical(content, &x->canon, &why)))
            return fail_at(it, info.id, rc, &why, err);
        prov_object_hash(x->canon.p, x->canon.len, hash);
    }
    if (!x->batch) { /* single signatures: one object at a time */
        if (keep) {
            x->st.kept++;
            return emit_kept(x, content, err);
        }
        prov_sig s;
        if ((rc = prov_sign(x->me.key, x->me.id, x->me.keyid, x->canon.p, x->canon.len, &s)))
            return accord_err_set(err, rc, "sign: cannot sign %s", info.id);
        x->st.signatures++;
        return emit_signed(x, content, &s, err);
    }
    /* a batch: keep the text until the root is signed */
    held *h = &x->h[x->n++];
    *h = (held){.off = x->texts.len, .len = it->len, .keep = keep};
    x->st.kept += (uint64_t)keep;
    if (buf_add(&x->texts, it->text, it->len))
        return accord_err_set(err, ACCORD_ENOMEM,
                              "sign: the batch passes %zu bytes; use a smaller --batch",
                              SIGN_MAX_HELD);
    if (!keep)
        memcpy(x->hashes + 32 * x->nhash++, hash, 32);
    return x->n == x->batch ? flush_batch(x, err) : 0;
}

static int ctx_open(sign_ctx *x, accord_store *store, const char *data_dir, int fd,
                    uint32_t batch, accord_error *err)
{
    memset(x, 0, sizeof(*x));
    x->batch = batch;
    x->fd = fd;
    ajson_arena_init(&x->a, 0);
    buf_init(&x->canon, (size_t)1 << 27);
    buf_init(&x->out, (size_t)1 << 28);
    buf_init(&x->texts, SIGN_MAX_HELD);
    if (batch > PROV_MAX_BATCH)
        return accord_err_set(err, ACCORD_EINVAL, "sign: a batch holds at most %d objects",
                              PROV_MAX_BATCH);
    if (!store)
        return accord_err_set(err, ACCORD_EINVAL, "sign: no store (accord member init first)");
    size_t n = batch ? batch : 1;
    x->have = malloc(sizeof(*x->have));
    x->h = calloc(n, sizeof(*x->h));
    x->hashes = malloc(32 * n);
    x->sigs = batch ? calloc(n, sizeof(*x->sigs)) : NULL;
    if (!x->have || !x->h || !x->hashes || (batch && !x->sigs))
        return accord_err_set(err, ACCORD_ENOMEM, "sign: out of memory");
    return member_signer_load(store, data_dir, &x->me, err);
}

static void ctx_close(sign_ctx *x)
{
    accord_sign_key_free(x->me.key);
    ajson_arena_free(&x->a);
    buf_free(&x->canon);
    buf_free(&x->out);
    buf_free(&x->texts);
    free(x->have);
    free(x->h);
    free(x->hashes);
    free(x->sigs);
}

ACCORD_API int accord_sign_fd(accord_store *store, const char *data_dir, int in_fd, int out_fd,
                              uint32_t batch, accord_sign_stats *st, accord_error *err)
{
    sign_ctx *x = malloc(sizeof(*x));
    reader *r = NULL;
    char bid[37];
    int rc = x ? ctx_open(x, store, data_dir, out_fd, batch, err)
               : accord_err_set(err, ACCORD_ENOMEM, "sign: out of memory");
    if (rc)
        goto out;
    if ((rc = reader_open(in_fd, 0, &r))) {
        accord_err_set(err, rc, "sign: cannot read the input: %s", accord_strerror(rc));
        goto out;
    }
    uuid4_make(bid);
    if (buf_printf(&x->out, "{\"type\":\"bundle\",\"id\":\"bundle--%s\",\"objects\":[", bid)) {
        rc = accord_err_set(err, ACCORD_ENOMEM, "sign: out of memory");
        goto out;
    }
    reader_item it;
    int n;
    while (!rc && (n = reader_next(r, &it)) == 1)
        rc = sign_item(x, &it, err);
    if (!rc && n < 0)
        rc = accord_err_set(err, n, "sign: %s", reader_errmsg(r));
    if (!rc && x->n)
        rc = flush_batch(x, err);
    if (!rc && buf_adds(&x->out, "\n]}\n"))
        rc = accord_err_set(err, ACCORD_ENOMEM, "sign: out of memory");
    if (!rc)
        rc = out_flush(x, err);
out:
    if (x && st)
        *st = x->st;
    reader_close(r);
    if (x)
        ctx_close(x);
    free(x);
    return rc;
}
