/*
 * fuzz/provenance.c - the signature extension parser (src/provenance.c) on arbitrary JSON.
 *
 * For every object the strict parser accepts: prov_parse either rejects it with a message naming
 * the extension, or splits it into content and signatures; then the stored form (prov_write) must
 * parse again, split into the same content bytes (JCS) and the same number of signatures, and
 * writing it again must give the same bytes (equal signature sets serialise identically).  The
 * one-pass forms the importer uses (prov_forms, prov_forms_as, prov_stored) must equal
 * prov_canonical's and prov_write's bytes exactly, and when prov_forms_as says the received list
 * is in stored order, its skeleton must be prov_write's bytes; prov_forms_text, which cuts the
 * forms from a text that is canonical already, must give the same bytes and hole.  The
 * signatures are then checked against a verifier without a store (every signer is unknown), which
 * must say "unverified" and never crash.  prov_is_shipped (a relay's test for accord's own
 * extension-definitions) must never take another type for them.  Each parsed entry must hold
 * what its text says read the plain way (sign_b64_decode of sig, ajson_int of batch_index and
 * batch_size): the parser's memo of the last signature and its digit loop are shortcuts only.
 */
#include "provenance.h"
#include "sign.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static prov_sigs sigs, again;

/* 0 when every entry of ext's list reads as s says, decoded without the parser's shortcuts. */
static int entries_plain(const ajson_value *ext, const prov_sigs *s)
{
    const ajson_value *list = ajson_get(ext, "signatures");
    for (size_t i = 0; i < s->n; i++) {
        const ajson_value *e = &list->u.items[i], *sig = ajson_get(e, "sig");
        const ajson_value *index = ajson_get(e, "batch_index"), *size = ajson_get(e, "batch_size");
        uint8_t bin[ACCORD_SIGN_SIG_LEN];
        int64_t x, y;
        if (sign_b64_decode(sig->u.str, sig->len, bin, sizeof(bin)) ||
            memcmp(bin, s->v[i].sig, sizeof(bin)))
            return -1;
        if (s->v[i].batch && (!ajson_int(index, &x) || (uint64_t)x != s->v[i].index ||
                              !ajson_int(size, &y) || (uint64_t)y != s->v[i].size))
            return -1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ajson_arena a;
    ajson_error jerr;
    accord_error err;
    buf c1, c2, w1, w2;
    const ajson_value *content, *content2;
    ajson_arena_init(&a, 1 << 24);
    buf_init(&c1, 1 << 24);
    buf_init(&c2, 1 << 24);
    buf_init(&w1, 1 << 24);
    buf_init(&w2, 1 << 24);
    const ajson_value *v = ajson_parse(&a, (const char *)data, size, &jerr);
    if (!v || v->type != AJSON_OBJECT)
        goto out;
    int rc = prov_parse(&a, v, &content, &sigs, &err);
    if (rc) {
        if (rc != ACCORD_ENOMEM && !strstr(err.msg, PROV_SIG_EXT))
            abort(); /* a rejection names the extension */
        goto out;
    }
    /* only accord's own extension-definitions pass a relay unsigned */
    const char *type = ajson_str(ajson_get(content, "type"));
    if (prov_is_shipped(content) && (!type || strcmp(type, "extension-definition") != 0))
        abort();
    if (prov_canonical(content, &c1, &err) || prov_write(&a, content, &sigs, &w1, &err))
        goto out; /* numbers JCS refuses */
    prov_form f;
    buf_init(&f.canon, 1 << 24);
    buf_init(&f.skel, 1 << 24);
    buf_reset(&w2);
    if (prov_forms(&a, content, &f, &err) || f.canon.len != c1.len ||
        memcmp(f.canon.p, c1.p, c1.len) || prov_stored(&f, &sigs, &w2, &err) || w2.len != w1.len ||
        memcmp(w2.p, w1.p, w1.len))
        abort();
    /* the importer's form of the object as received: its own list in the skeleton is, when
     * in stored order, exactly the stored form */
    buf_reset(&w2);
    const ajson_value *ext = ajson_get(ajson_get(v, "extensions"), PROV_SIG_EXT);
    if (sigs.n && entries_plain(ext, &sigs))
        abort();
    if (prov_forms_as(&a, content, sigs.n ? ext : NULL, &sigs, &f, &err) ||
        f.canon.len != c1.len || memcmp(f.canon.p, c1.p, c1.len) ||
        (f.as_stored && (f.skel.len != w1.len || memcmp(f.skel.p, w1.p, w1.len))) ||
        prov_stored(&f, &sigs, &w2, &err) || w2.len != w1.len || memcmp(w2.p, w1.p, w1.len))
        abort();
    /* the same from the text itself (cut from it when it is canonical): the same bytes */
    size_t hs = f.hole_start, he = f.hole_end;
    int as = f.as_stored;
    buf_reset(&w2);
    if (prov_forms_text(&a, v, (const char *)data, size, content, sigs.n ? ext : NULL, &sigs, &f,
                        &err) ||
        f.canon.len != c1.len || memcmp(f.canon.p, c1.p, c1.len) || f.as_stored != as ||
        (as && (f.skel.len != w1.len || memcmp(f.skel.p, w1.p, w1.len) || f.hole_start != hs ||
                f.hole_end != he)) ||
        prov_stored(&f, &sigs, &w2, &err) || w2.len != w1.len || memcmp(w2.p, w1.p, w1.len))
        abort();
    buf_free(&f.canon);
    buf_free(&f.skel);
    buf_reset(&w2);
    const ajson_value *v2 = ajson_parse(&a, w1.p, w1.len, &jerr);
    if (!v2 || prov_parse(&a, v2, &content2, &again, &err) != 0 || again.n != sigs.n)
        abort();
    if (prov_canonical(content2, &c2, &err) || c1.len != c2.len || memcmp(c1.p, c2.p, c1.len))
        abort();
    if (prov_write(&a, content2, &again, &w2, &err) || w1.len != w2.len ||
        memcmp(w1.p, w2.p, w1.len))
        abort();
    prov_verifier *pv = NULL;
    if (prov_verifier_new(NULL, &pv) == 0) {
        uint8_t hash[32];
        prov_result res;
        prov_object_hash(c1.p, c1.len, hash);
        if (prov_verify(pv, c1.p, c1.len, hash, NULL, &sigs, 0, &res, &err) == 0 &&
            (res.status != PROV_UNVERIFIED || res.unknown != sigs.n))
            abort();
    }
    prov_verifier_free(pv);
out:
    buf_free(&c1);
    buf_free(&c2);
    buf_free(&w1);
    buf_free(&w2);
    ajson_arena_free(&a);
    return 0;
}
