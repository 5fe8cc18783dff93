/*
 * test_match_sort.c - mpairs_sort (src/match_table.c), the radix sort the snapshot's tables are
 * built with, against qsort_r with the same comparator: for IPv4-, IPv6- and hash-like pairs
 * with many equal keys and equal indicators, primary keys that tell every pair apart, that tell
 * few apart (long runs left to the comparator) and that are all equal, the sorted arrays are
 * byte for byte the same; and a snapshot of every kind of table, built both ways (with each
 * table's own primary key), serialises to the same bytes.
 */
#include "match.h"
#include "match_serial.h"
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
    static const size_t sizes[] = {1024, 5000, 200000}; /* below 1,024 it is qsort_r itself */
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        size_t n = sizes[s];
        mpair *v4 = gen(n, n / 3 + 1, 33, 0), *v6 = gen(n, n / 2 + 1, 129, 1);
        CHECK(v4 && v6);
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

/* Pattern i of the snapshot test: every kind of sorted table, values repeated across
 * indicators (runs of equal keys). */
static void pattern_of(unsigned i, char *out, size_t n)
{
    static const char *const hashes[] = {"MD5", "SHA-1", "SHA-256", "SHA-512"};
    static const int hexlen[] = {32, 40, 64, 128};
    unsigned v = (unsigned)t_rnd_below(3000), k = i % 9;
    char hex[129];
    switch (k) {
    case 0:
        snprintf(out, n, "[ipv4-addr:value = '10.%u.%u.%u']", v >> 8 & 255, v & 255, v % 7);
        break;
    case 1:
        snprintf(out, n, "[ipv4-addr:value = '%u.%u.%u.0/%u']", 20 + v % 200, v & 255,
                 v >> 4 & 255, 16 + v % 9);
        break;
    case 2:
        snprintf(out, n, "[ipv6-addr:value = '2001:db8:%x::%x']", v, v % 5);
        break;
    case 3:
        snprintf(out, n, "[ipv6-addr:value = '2001:db8:%x::/%u']", v, 32 + v % 80);
        break;
    case 4:
        snprintf(out, n, v % 3 ? "[domain-name:value = 'h%u.example.com']"
                               : "[domain-name:value LIKE '%%.z%u.example.net']",
                 v);
        break;
    case 5:
        snprintf(out, n, "[url:value = 'http://u%u.example/p/%u']", v, v % 11);
        break;
    case 6:
        snprintf(out, n, "[email-addr:value = 'm%u@example.org']", v);
        break;
    case 7: {
        int h = (int)(v % 4);
        for (int j = 0; j < hexlen[h]; j++)
            hex[j] = "0123456789abcdef"[(v * 2654435761u >> (j % 28)) & 15];
        hex[hexlen[h]] = '\0';
        snprintf(out, n, "[file:hashes.'%s' = '%s']", hashes[h], hex);
        break;
    }
    default:
        snprintf(out, n,
                 "[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = "
                 "'agent/%u']",
                 v);
        break;
    }
}

/* The serialised form of a snapshot of n indicators drawn from seed. */
static buf snapshot_bytes(unsigned n, uint64_t seed)
{
    accord_snapshot_builder *b = NULL;
    accord_snapshot *s = NULL;
    buf out;
    char id[64], pat[256];
    buf_init(&out, (size_t)1 << 30);
    t_rng_state = seed;
    CHECK(accord_snapshot_builder_new(1700000000, &b) == 0);
    for (unsigned i = 0; b && i < n; i++) {
        snprintf(id, sizeof id, "indicator--00000000-0000-4000-8000-%012u", i);
        pattern_of(i, pat, sizeof pat);
        CHECK(accord_snapshot_builder_add(b, id, "n", pat, 0, 0, NULL) == 0);
    }
    CHECK(b && accord_snapshot_build(b, &s, NULL) == 0);
    accord_snapshot_builder_free(b);
    CHECK(s && msnap_serialise(s, &out) == 0);
    accord_snapshot_unref(s);
    return out;
}

static void test_snapshot(void)
{
    enum { N = 9 * 1500 }; /* each kind past mpairs_sort's 1,024 */
    buf radix = snapshot_bytes(N, 12345), q;
    mpairs_sort_qsort = 1;
    q = snapshot_bytes(N, 12345);
    mpairs_sort_qsort = 0;
    CHECK(radix.len > 0 && radix.len == q.len && memcmp(radix.p, q.p, radix.len) == 0);
    buf_free(&radix);
    buf_free(&q);
}

int main(void)
{
    test_fixed_keys();
    test_digests();
    test_snapshot();
    return t_done();
}
