/*
 * match_hash.c - file and certificate digests: MD5, SHA-1, SHA-256, SHA-512.
 *
 * One set per (object type, algorithm) - file MD5 / SHA-1 / SHA-256 / SHA-512, x509-certificate
 * MD5 / SHA-1 / SHA-256 - because a pattern on file:hashes.'MD5' must not match a certificate's
 * MD5, and the evaluator keeps them apart by object type.  Keys are the digest bytes, not their
 * hex text: half the memory, and the hex case question disappears (a digest written in upper
 * case is the same key; the evaluator compares text, so that is one of the documented places
 * where the fast path is more lenient).  Digests are uniformly random already, so the table hash
 * is the first 8 bytes mixed with a constant, not a hash of the whole digest.
 *
 * Entries: keys[i * len .. +len) and refs[i], in sorted order; the cache-line table over them.
 * Measured on this machine class: 46 M lookups/s at 10M SHA-256 keys, misses, with prefetch.
 */
#include "match.h"

#include <stdlib.h>
#include <string.h>

const mhash_kind mhash_kinds[MK_HASH_N] = {
    {"file", "MD5", 16},
    {"file", "SHA-1", 20},
    {"file", "SHA-256", 32},
    {"file", "SHA-512", 64},
    {"x509-certificate", "MD5", 16},
    {"x509-certificate", "SHA-1", 20},
    {"x509-certificate", "SHA-256", 32},
};

const uint8_t mhex_v1[256] = {
    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,  ['7'] = 8,
    ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
    ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

int mhash_decode(const char *s, size_t slen, uint8_t *out, unsigned len)
{
    if (slen != (size_t)len * 2)
        return -1;
    for (unsigned i = 0; i < len; i++) {
        unsigned hi = mhex_v1[(unsigned char)s[2 * i]], lo = mhex_v1[(unsigned char)s[2 * i + 1]];
        if (!hi || !lo)
            return -1;
        out[i] = (uint8_t)((hi - 1) << 4 | (lo - 1));
    }
    return 0;
}

void mhash_builder_init(mhash_builder *b)
{
    memset(b, 0, sizeof *b);
}

void mhash_builder_free(mhash_builder *b)
{
    for (int i = 0; i < MK_HASH_N; i++) {
        mpairs_free(&b->p[i]);
        free(b->keys[i]);
    }
    memset(b, 0, sizeof *b);
}

int mhash_add(mhash_builder *b, int kind, const uint8_t *digest, uint32_t ind)
{
    int k = kind - MK_HASH_FIRST;
    unsigned len;
    if (k < 0 || k >= MK_HASH_N)
        return ACCORD_EINVAL;
    len = mhash_kinds[k].len;
    if (b->keys_len[k] + len > b->keys_cap[k]) {
        size_t cap = b->keys_cap[k] ? b->keys_cap[k] * 2 : 4096;
        uint8_t *p = realloc(b->keys[k], cap);
        if (!p)
            return ACCORD_ENOMEM;
        b->keys[k] = p;
        b->keys_cap[k] = cap;
    }
    memcpy(b->keys[k] + b->keys_len[k], digest, len);
    b->keys_len[k] += len;
    return mpairs_push(&b->p[k], b->keys_len[k] - len, 0, ind, 0);
}

typedef struct sort_ctx {
    const uint8_t *keys;
    unsigned len;
} sort_ctx;

static int pair_cmp(const void *a, const void *b, void *ud)
{
    const mpair *x = a, *y = b;
    const sort_ctx *c = ud;
    int r = memcmp(c->keys + x->k[0], c->keys + y->k[0], c->len);
    return r ? r : (x->ind > y->ind) - (x->ind < y->ind);
}

/* The primary key for mpairs_sort: the digest's first eight bytes (big-endian, as memcmp
 * orders them). */
static uint64_t pkey_digest(const mpair *p, const void *ud)
{
    const sort_ctx *c = ud;
    const uint8_t *d = c->keys + p->k[0];
    uint64_t k = 0;
    for (unsigned i = 0; i < 8; i++)
        k = k << 8 | (i < c->len ? d[i] : 0);
    return k;
}

/* Groups the sorted pairs of one kind into set (keys, refs, table). */
static int build_one(const mpair *v, size_t n, const sort_ctx *c, mrefs *refs, mhashset *set)
{
    uint32_t *tmp = malloc(n * sizeof *tmp);
    uint64_t *h = malloc(n * sizeof *h);
    int rc = 0;
    set->len = c->len;
    set->key = malloc(n * c->len);
    set->ref = malloc(n * sizeof *set->ref);
    if (!tmp || !h || !set->key || !set->ref)
        rc = ACCORD_ENOMEM;
    for (size_t i = 0; i < n && rc == 0;) {
        const uint8_t *key = c->keys + v[i].k[0];
        size_t j = i, k = 0;
        for (; j < n && memcmp(c->keys + v[j].k[0], key, c->len) == 0; j++)
            if (k == 0 || tmp[k - 1] != v[j].ind)
                tmp[k++] = v[j].ind;
        memcpy(set->key + set->n * c->len, key, c->len);
        h[set->n] = mhash_hash(key);
        rc = mrefs_add(refs, tmp, k, &set->ref[set->n]);
        set->n++;
        i = j;
    }
    if (rc == 0)
        rc = mtab_build(&set->t, h, set->n);
    free(tmp);
    free(h);
    return rc;
}

int mhash_build(mhash_builder *b, mrefs *refs, mhashset sets[MK_HASH_N])
{
    int rc = 0;
    memset(sets, 0, sizeof(mhashset) * MK_HASH_N);
    for (int k = 0; k < MK_HASH_N && rc == 0; k++) {
        sort_ctx c = {b->keys[k], mhash_kinds[k].len};
        sets[k].len = c.len;
        if (b->p[k].n == 0)
            continue;
        mpairs_sort(b->p[k].v, b->p[k].n, pkey_digest, &c, pair_cmp, &c);
        rc = build_one(b->p[k].v, b->p[k].n, &c, refs, &sets[k]);
    }
    mhash_builder_free(b);
    if (rc)
        mhash_free(sets);
    return rc;
}

void mhash_free(mhashset sets[MK_HASH_N])
{
    for (int k = 0; k < MK_HASH_N; k++) {
        mtab_free(&sets[k].t);
        free(sets[k].key);
        free(sets[k].ref);
        memset(&sets[k], 0, sizeof sets[k]);
    }
}

uint32_t mhash_find(const mhashset *set, uint64_t h, const uint8_t *d)
{
    size_t pos = 0;
    uint32_t e;
    while (mtab_next(&set->t, h, &pos, &e))
        if (memcmp(set->key + (size_t)e * set->len, d, set->len) == 0)
            return set->ref[e];
    return MREF_NONE;
}
