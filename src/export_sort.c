/*
 * export_sort.c - puts a selection's items in export order: by kind, then value (bytewise), then
 * indicator id, the order every writer relies on (export.h: export_item).
 *
 * A comparison sort of ten million 32-byte items costs about as much as the whole store scan
 * before it (qsort_r's merge sort: some 23 comparisons per item, most of them strcmp of values
 * that share their first bytes, such as URLs).  So the order is built with radix passes instead:
 *
 *   1. a counting pass splits the items by kind, keeping an array of (key, item index) pairs;
 *   2. within a kind, an LSD radix sort over the 8-byte key: the value's next 8 bytes, big-endian,
 *      zero past its end (values hold no NUL, so a shorter value sorts before its extensions, as
 *      with strcmp); a byte position every key shares is skipped without a pass;
 *   3. a run of equal keys whose values go on (the key's last byte is not 0) is sorted again by
 *      the following 8 bytes, recursively; a run whose values all ended is one value held by
 *      several indicators, ordered by indicator id; short runs go to insertion sort with the
 *      full comparison;
 *   4. the items are gathered into a new array in that order.
 *
 * Invariant: the result is the order of export_item_cmp, exactly (the unit test compares both on
 * the fixtures; bench/export --check compares whole exports).  Memory: two 16-byte keys and one
 * 32-byte item per item while it runs, beside the set.
 */
#include "export.h"

#include <stdlib.h>
#include <string.h>

typedef struct skey {
    uint64_t k; /* 8 bytes of the value from the current depth, big-endian */
    uint32_t i; /* the item */
    uint32_t pad;
} skey;

int export_item_cmp(const accord_export_set *s, const export_item *a, const export_item *b)
{
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    if (a->prefix != b->prefix)
        return a->prefix < b->prefix ? -1 : 1;
    int c = strcmp(s->str + a->value, s->str + b->value);
    if (c)
        return c;
    return strcmp(s->str + s->inds[a->ind].id, s->str + s->inds[b->ind].id);
}

/* The 8 bytes of item it's value from byte depth, big-endian, 0 past its end. */
static uint64_t key_at(const accord_export_set *s, const export_item *it, size_t depth)
{
    const unsigned char *v = (const unsigned char *)s->str + it->value;
    uint64_t k = 0;
    if (depth == 0)
        return it->prefix;
    for (size_t j = 0; j < 8; j++)
        k = k << 8 | (depth + j < it->len ? v[depth + j] : 0);
    return k;
}

/* Stable LSD radix sort of a[0..n) by k, using b as scratch; the result is in a. */
static void radix(skey *a, skey *b, size_t n)
{
    size_t count[8][256];
    memset(count, 0, sizeof(count));
    for (size_t i = 0; i < n; i++)
        for (int d = 0; d < 8; d++)
            count[d][(a[i].k >> (8 * d)) & 255]++;
    skey *src = a, *dst = b;
    for (int d = 0; d < 8; d++) {
        size_t *c = count[d];
        if (c[(src[0].k >> (8 * d)) & 255] == n)
            continue; /* every key has this byte: nothing moves */
        size_t sum = 0;
        for (int v = 0; v < 256; v++) {
            size_t t = c[v];
            c[v] = sum;
            sum += t;
        }
        for (size_t i = 0; i < n; i++)
            dst[c[(src[i].k >> (8 * d)) & 255]++] = src[i];
        skey *t = src;
        src = dst;
        dst = t;
    }
    if (src != a)
        memcpy(a, src, n * sizeof(*a));
}

/* The order of two items whose values agree on their first `depth` bytes (both are at least
 * that long): export_item_cmp without comparing those bytes again. */
static int cmp_from(const accord_export_set *s, uint32_t x, uint32_t y, size_t depth)
{
    const export_item *a = &s->items[x], *b = &s->items[y];
    int c = strcmp(s->str + a->value + depth, s->str + b->value + depth);
    return c ? c : strcmp(s->str + s->inds[a->ind].id, s->str + s->inds[b->ind].id);
}

static void insertion(const accord_export_set *s, skey *a, size_t n, size_t depth)
{
    for (size_t i = 1; i < n; i++) {
        skey x = a[i];
        size_t j = i;
        while (j > 0 && cmp_from(s, x.i, a[j - 1].i, depth) < 0) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = x;
    }
}

static int by_id(const void *pa, const void *pb, void *ud)
{
    const skey *a = pa, *b = pb;
    const accord_export_set *s = ud;
    return strcmp(s->str + s->inds[s->items[a->i].ind].id, s->str + s->inds[s->items[b->i].ind].id);
}

/* Sorts a[0..n), whose values agree on their first `depth` bytes, by the rest of the order. */
static void sort_range(const accord_export_set *s, skey *a, skey *b, size_t n, size_t depth)
{
    if (n < 2)
        return;
    if (n <= 16) {
        insertion(s, a, n, depth);
        return;
    }
    for (size_t i = 0; i < n; i++)
        a[i].k = key_at(s, &s->items[a[i].i], depth);
    radix(a, b, n);
    for (size_t lo = 0, hi; lo < n; lo = hi) {
        for (hi = lo + 1; hi < n && a[hi].k == a[lo].k;)
            hi++;
        if (hi - lo < 2)
            continue;
        if (a[lo].k & 255) /* the values go on past these 8 bytes */
            sort_range(s, a + lo, b + lo, hi - lo, depth + 8);
        else /* the same value in every item of the run: indicator id decides */
            qsort_r(a + lo, hi - lo, sizeof(*a), by_id, (void *)s);
    }
}

int export_sort(accord_export_set *s)
{
    size_t n = s->nitems, start[ACCORD_EK_COUNT + 1] = {0};
    if (n < 2)
        return 0;
    skey *a = malloc(n * sizeof(*a)), *b = malloc(n * sizeof(*b));
    export_item *out = NULL;
    int rc = ACCORD_ENOMEM;
    if (!a || !b)
        goto out;
    export_huge(a, n * sizeof(*a));
    export_huge(b, n * sizeof(*b));
    for (size_t i = 0; i < n; i++)
        start[s->items[i].kind + 1]++;
    for (int k = 0; k < ACCORD_EK_COUNT; k++)
        start[k + 1] += start[k];
    size_t next[ACCORD_EK_COUNT];
    memcpy(next, start, sizeof(next));
    for (size_t i = 0; i < n; i++)
        a[next[s->items[i].kind]++].i = (uint32_t)i;
    for (int k = 0; k < ACCORD_EK_COUNT; k++)
        sort_range(s, a + start[k], b + start[k], start[k + 1] - start[k], 0);
    free(b);
    b = NULL;
    if (!(out = malloc(n * sizeof(*out))))
        goto out;
    export_huge(out, n * sizeof(*out));
    for (size_t i = 0; i < n; i++)
        out[i] = s->items[a[i].i];
    free(s->items);
    s->items = out;
    s->items_cap = n;
    rc = 0;
out:
    free(a);
    free(b);
    return rc;
}
