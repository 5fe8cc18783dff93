/*
 * test_match_sort.c - mpairs_sort (src/match_table.c), the radix sort the snapshot's tables are
 * built with, against qsort_r with the same comparator: for IPv4-, IPv6- and hash-like pairs
 * with many equal keys and equal indicators, primary keys that tell every pair apart, that tell
 * few apart (long runs left to the comparator) and that are all equal, the sorted arrays are
 * byte for byte the same.
 */
#include "match.h"
#include "t.h"
#include "t_rng.h"

#include <stdlib.h>
#include <string.h>

/* Primary keys of the kinds the tables use, and coarser ones. */
static uint64_t pk_v4(const mpair *p, const void *u)
{
    (void)u;
    return (uint64_t)p->aux << 32 | (uint32_t)p->k[0];
}

static uint64_t pk_v6(const mpair *p, const void *u)
{
    (void)u;
    return (uint64_t)p->aux << 56 | p->k[0] >> 8;
}

static uint64_t pk_coarse(const mpair *p, const void *u)
{
    (void)u;
    return (uint64_t)p->aux << 32 | (uint32_t)p->k[0] >> 24;
}

static uint64_t pk_none(const mpair *p, const void *u)
{
    (void)p;
    (void)u;
    return 7;
}

/* Hash-like pairs: k[0] an offset of a 16-byte digest in a pool, compared by its bytes. */
typedef struct pool {
    const uint8_t *b;
} pool;

static int digest_cmp(const void *a, const void *b, void *ud)
{
    const mpair *x = a, *y = b;
    const pool *p = ud;
    int r = memcmp(p->b + x->k[0], p->b + y->k[0], 16);
    return r ? r : (x->ind > y->ind) - (x->ind < y->ind);
}

static uint64_t pk_digest(const mpair *p, const void *ud)
{
    const uint8_t *d = ((const pool *)ud)->b + p->k[0];
    uint64_t k = 0;
    for (int i = 0; i < 8; i++)
        k = k << 8 | d[i];
    return k;
}

/* n pairs for the fixed-key comparator: keys from `keys` values, lengths from `lens`. */
static mpair *gen(size_t n, uint64_t keys, uint32_t lens, int wide)
{
    mpair *v = malloc(n * sizeof *v);
    for (size_t i = 0; v && i < n; i++) {
        uint64_t k = t_rnd_below(keys);
        v[i].k[0] = wide ? k * 0x9E3779B97F4A7C15ull : (uint32_t)(k * 2654435761u);
        v[i].k[1] = wide ? t_rnd_below(3) : 0;
        v[i].ind = (uint32_t)t_rnd_below(n / 4 + 1); /* equal indicators too */
        v[i].aux = (uint32_t)t_rnd_below(lens);
    }
    return v;
}

/* Sorts a copy of v both ways and compares them. */
static int same_as_qsort(const mpair *v, size_t n, uint64_t (*pk)(const mpair *, const void *),
                         const void *kctx, int (*cmp)(const void *, const void *, void *),
                         void *cctx)
{
    mpair *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    int same;
    if (!a || !b) {
        free(a);
        free(b);
        return 0;
    }
    memcpy(a, v, n * sizeof *a);
    memcpy(b, v, n * sizeof *b);
    mpairs_sort(a, n, pk, kctx, cmp, cctx);
    qsort_r(b, n, sizeof *b, cmp, cctx);
    same = memcmp(a, b, n * sizeof *a) == 0;
    free(a);
    free(b);
    return same;
}

static void test_fixed_keys(void)
{
    static const size_t sizes[] = {0, 1, 1023, 1024, 5000, 200000};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        size_t n = sizes[s];
        mpair *v4 = gen(n, n / 3 + 1, 33, 0), *v6 = gen(n, n / 2 + 1, 129, 1);
        CHECK(n == 0 || (v4 && v6));
        CHECK(same_as_qsort(v4, n, pk_v4, NULL, mpair_cmp_r, NULL));
        CHECK(same_as_qsort(v4, n, pk_coarse, NULL, mpair_cmp_r, NULL));
        CHECK(same_as_qsort(v4, n, pk_none, NULL, mpair_cmp_r, NULL));
        CHECK(same_as_qsort(v6, n, pk_v6, NULL, mpair_cmp_r, NULL));
        free(v4);
        free(v6);
    }
}

static void test_digests(void)
{
    size_t n = 50000, ndig = 20000;
    uint8_t *b = malloc(ndig * 16);
    mpair *v = malloc(n * sizeof *v);
    CHECK(b && v);
    if (!b || !v) {
        free(b);
        free(v);
        return;
    }
    for (size_t i = 0; i < ndig * 16; i++)
        b[i] = (uint8_t)t_rnd();
    for (size_t i = 0; i < ndig; i += 5) /* digests that differ only after their eighth byte */
        memcpy(b + i * 16, b, 8);
    for (size_t i = 0; i < n; i++)
        v[i] = (mpair){{t_rnd_below(ndig) * 16, 0}, (uint32_t)t_rnd_below(n), 0};
    pool p = {b};
    CHECK(same_as_qsort(v, n, pk_digest, &p, digest_cmp, &p));
    free(b);
    free(v);
}

int main(void)
{
    test_fixed_keys();
    test_digests();
    return t_done();
}
