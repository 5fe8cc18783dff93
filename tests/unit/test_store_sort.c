/*
 * test_store_sort.c - the sort of a transaction's index entries before they become a run
 * (store_entries_sort): the order of qsort with store_entry_cmp, for entries in seq order (the
 * radix path: negative, extreme and repeated keys) and in any order (the qsort path).
 */
#include "store_int.h"
#include "t.h"

#include <stdlib.h>
#include <string.h>

#define T_RNG_SEED 0x2545f4914f6cdd1dULL
#include "t_rng.h"

/* Sorts n entries made by fill both ways and compares. */
static void check(size_t n, int vals_in_order, int key_bits)
{
    entry *a = malloc(n * sizeof(*a)), *b = malloc(n * sizeof(*b));
    CHECK(a && b);
    if (!a || !b)
        goto out;
    for (size_t i = 0; i < n; i++) {
        uint64_t k = t_rnd();
        if (key_bits < 64) /* few distinct keys: repeated ones, their values must stay ordered */
            k = (k & ((1ULL << key_bits) - 1)) - (1ULL << (key_bits - 1));
        if (i % 97 == 0)
            k = i % 2 ? (uint64_t)INT64_MIN : (uint64_t)INT64_MAX;
        a[i].key = (int64_t)k;
        a[i].val = vals_in_order ? (int64_t)(i / 3) : (int64_t)(t_rnd() % 1000) - 500;
    }
    memcpy(b, a, n * sizeof(*a));
    store_entries_sort(a, n);
    qsort(b, n, sizeof(*b), store_entry_cmp);
    CHECK(memcmp(a, b, n * sizeof(*a)) == 0);
out:
    free(a);
    free(b);
}

int main(void)
{
    static const size_t sizes[] = {0, 1, 2, 64, 65, 1000, 100003};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        for (int order = 0; order < 2; order++) {
            check(sizes[i], order, 64);
            check(sizes[i], order, 7);
        }
    return t_done();
}
