/*
 * match_table.c - the hash table every indicator kind uses, and indicator reference lists.
 *
 * Almost every lookup the matcher makes is a miss: a customer's traffic rarely touches a listed
 * address.  The table is therefore shaped for misses.  A bucket is one 64-byte cache line of
 * eight 32-bit fingerprints and eight 32-bit entry numbers; a key's hash picks the bucket and the
 * fingerprint, so a miss costs one cache line (prefetched ahead by the caller across a batch of
 * events) and eight compares, and never touches the keys themselves.  Measured on this machine
 * class: 85 M lookups/s at 10M keys with buckets and prefetch, against 8.9 M with plain open
 * addressing.
 *
 * Invariants:
 *   1. There are ceil(n/6) buckets, so they are loaded to 6 of 8 slots on average and overflow
 *      chains stay short.  A key's home bucket is its hash's low 32 bits scaled to the bucket
 *      count (multiply and shift), so the count need not be a power of two: a power of two
 *      would leave the table between 3/8 and 6/8 full, and the entries 10.7 to 21 bytes each
 *      instead of 10.7.
 *   2. Slots of a bucket fill from slot 0; a bucket with an empty slot ends every probe sequence
 *      that reaches it (there is no deletion, so this stays true), and so does a full bucket
 *      without MTAB_PASSED, set on every full bucket a key was carried past.  So a miss reads a
 *      second line only where keys really overflowed (at 6 of 8 slots, about 1 home bucket in
 *      7), not wherever the home bucket is full.
 *   3. Fingerprints are never 0 (the low bit is forced), 0 marking an empty slot.
 *
 * Reference lists (mrefs): most keys name one indicator, so an entry stores the indicator
 * number itself; a key named by several stores MREF_LIST | offset of a counted list.
 *
 * The pair arrays (mpairs) are the common first step of every build: each kind pushes (key,
 * indicator) pairs, sorts them and groups them by key.  This file does not know the kinds.
 */
#include "match.h"
#include "util/hugemem.h"

#include <stdlib.h>
#include <string.h>

int mtab_build(mtab *t, const uint64_t *h, size_t n)
{
    size_t nb = (n + 5) / 6;
    memset(t, 0, sizeof *t);
    if (n == 0)
        return 0;
    if (nb > UINT32_MAX || n >= MTAB_PASSED)
        return ACCORD_ELIMIT;
    t->b = hugemem_alloc(nb * sizeof(mtab_bucket)); /* probed at random: util/hugemem.c */
    if (!t->b)
        return ACCORD_ENOMEM;
    t->nb = nb;
    for (size_t i = 0; i < n; i++) {
        size_t bi = mtab_home(t, h[i]);
        for (;;) {
            mtab_bucket *b = &t->b[bi];
            unsigned s = 0;
            while (s < MTAB_SLOTS && b->fp[s])
                s++;
            if (s < MTAB_SLOTS) {
                b->fp[s] = mtab_fp(h[i]);
                b->ent[s] = (uint32_t)i;
                break;
            }
            b->ent[MTAB_SLOTS - 1] |= MTAB_PASSED;
            bi = bi + 1 == nb ? 0 : bi + 1;
        }
    }
    t->n = n;
    return 0;
}

void mtab_free(mtab *t)
{
    hugemem_free(t->b, t->nb * sizeof(mtab_bucket));
    memset(t, 0, sizeof *t);
}

/* Makes room for `more` further words in r. */
static int mrefs_grow(mrefs *r, size_t more)
{
    size_t cap = r->cap ? r->cap : 1024;
    uint32_t *v;
    if (r->n + more <= r->cap)
        return 0;
    if (r->n + more > MREF_LIST - 1)
        return ACCORD_ELIMIT;
    while (cap < r->n + more)
        cap *= 2;
    v = realloc(r->v, cap * sizeof *v);
    if (!v)
        return ACCORD_ENOMEM;
    r->v = v;
    r->cap = cap;
    return 0;
}

int mrefs_add(mrefs *r, const uint32_t *inds, size_t n, uint32_t *ref)
{
    int rc;
    if (n == 1) {
        *ref = inds[0];
        return 0;
    }
    if (n > UINT32_MAX)
        return ACCORD_ELIMIT;
    rc = mrefs_grow(r, n + 1);
    if (rc)
        return rc;
    *ref = MREF_LIST | (uint32_t)r->n;
    r->v[r->n++] = (uint32_t)n;
    memcpy(&r->v[r->n], inds, n * sizeof *inds);
    r->n += n;
    return 0;
}

void mrefs_free(mrefs *r)
{
    free(r->v);
    memset(r, 0, sizeof *r);
}

int mpairs_push(mpairs *p, uint64_t k0, uint64_t k1, uint32_t ind, uint32_t aux)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 256;
        mpair *v = realloc(p->v, cap * sizeof *v);
        if (!v)
            return ACCORD_ENOMEM;
        p->v = v;
        p->cap = cap;
    }
    p->v[p->n++] = (mpair){{k0, k1}, ind, aux};
    return 0;
}

int mpair_cmp(const void *a, const void *b)
{
    const mpair *x = a, *y = b;
    if (x->aux != y->aux)
        return x->aux < y->aux ? -1 : 1;
    if (x->k[0] != y->k[0])
        return x->k[0] < y->k[0] ? -1 : 1;
    if (x->k[1] != y->k[1])
        return x->k[1] < y->k[1] ? -1 : 1;
    return (x->ind > y->ind) - (x->ind < y->ind);
}

int mpair_cmp_r(const void *a, const void *b, void *unused)
{
    (void)unused;
    return mpair_cmp(a, b);
}

/* A pair's primary key and its place, sorted in place of the pair (16 bytes, not 24). */
typedef struct rkey {
    uint64_t k;
    uint32_t i;
} rkey;

enum { RBITS = 11, RBUCKETS = 1 << RBITS, RPASSES = (64 + RBITS - 1) / RBITS };

/* Radix passes over a[0..n) by the digits where the keys differ; the result in *a. */
static void radix_keys(rkey **a, rkey **tmp, size_t n, size_t (*hist)[RBUCKETS])
{
    for (int p = 0; p < RPASSES; p++) {
        size_t *h = hist[p], sum = 0;
        int shift = p * RBITS;
        if (h[((*a)[0].k >> shift) & (RBUCKETS - 1)] == n)
            continue; /* every key has the same digit here */
        for (size_t d = 0; d < RBUCKETS; d++) {
            size_t c = h[d];
            h[d] = sum;
            sum += c;
        }
        for (size_t j = 0; j < n; j++)
            (*tmp)[h[((*a)[j].k >> shift) & (RBUCKETS - 1)]++] = (*a)[j];
        rkey *t = *a;
        *a = *tmp;
        *tmp = t;
    }
}

int mpairs_sort_qsort;

void mpairs_sort(mpair *v, size_t n, uint64_t (*pkey)(const mpair *, const void *),
                 const void *kctx, int (*cmp)(const void *, const void *, void *), void *cctx)
{
    rkey *a = NULL, *tmp = NULL;
    mpair *out = NULL;
    size_t(*hist)[RBUCKETS] = NULL;
    if (n >= 1024 && n <= UINT32_MAX && !mpairs_sort_qsort) { /* below, qsort is as quick */
        a = malloc(n * sizeof *a);
        tmp = malloc(n * sizeof *tmp);
        hist = calloc(RPASSES, sizeof *hist);
    }
    if (!a || !tmp || !hist) { /* or out of memory: the same order, more slowly */
        free(a);
        free(tmp);
        free(hist);
        qsort_r(v, n, sizeof *v, cmp, cctx);
        return;
    }
    for (size_t j = 0; j < n; j++) {
        uint64_t k = pkey(&v[j], kctx);
        a[j] = (rkey){k, (uint32_t)j};
        for (int p = 0; p < RPASSES; p++)
            hist[p][(k >> (p * RBITS)) & (RBUCKETS - 1)]++;
    }
    radix_keys(&a, &tmp, n, hist);
    free(tmp); /* before out: the pairs, their keys and the sorted copy at most at once */
    free(hist);
    out = malloc(n * sizeof *out);
    if (!out) {
        free(a);
        qsort_r(v, n, sizeof *v, cmp, cctx);
        return;
    }
    for (size_t j = 0; j < n; j++)
        out[j] = v[a[j].i];
    memcpy(v, out, n * sizeof *v);
    free(out);
    for (size_t j = 0, e; j < n; j = e) { /* runs of one primary key: in cmp's order */
        for (e = j + 1; e < n && a[e].k == a[j].k; e++)
            ;
        if (e - j > 1)
            qsort_r(v + j, e - j, sizeof *v, cmp, cctx);
    }
    free(a);
}

void mpairs_free(mpairs *p)
{
    free(p->v);
    memset(p, 0, sizeof *p);
}
