/*
 * test_hugemem.c - huge-page advice leaves the memory as it was: every byte of a filled region
 * reads back after the collapse, regions too small or not aligned are left alone, and the
 * memory is freed with free().  Whether the kernel granted huge pages is printed, not asserted:
 * it may decline (THP off, memory fragmented) and the tables work the same.
 */
#include "util/hugemem.h"

#include "t.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A region filled with a pattern of its offsets, advised (collapsed when now), then checked. */
static void check_region(size_t len, size_t skew, int now)
{
    unsigned char *base = malloc(len + skew), *p = base + skew;
    size_t bad = 0;
    CHECK(base != NULL);
    if (!base)
        return;
    for (size_t i = 0; i < len; i++)
        p[i] = (unsigned char)(i * 131 + i / 4096);
    hugemem_advise(p, len, now);
    for (size_t i = 0; i < len; i++)
        bad += p[i] != (unsigned char)(i * 131 + i / 4096);
    CHECK(bad == 0);
    free(base);
}

/* hugemem_alloc: zeroed, 64-byte aligned, writable to its last byte, freed by hugemem_free;
 * large regions are 2 MiB-aligned mappings of their own. */
static void check_alloc(size_t len)
{
    unsigned char *p = hugemem_alloc(len);
    size_t nonzero = 0;
    CHECK(p != NULL);
    if (!p)
        return;
    CHECK(((uintptr_t)p & 63) == 0);
    if (len >= ((size_t)2 << 20))
        CHECK(((uintptr_t)p & (((uintptr_t)2 << 20) - 1)) == 0);
    for (size_t i = 0; i < len; i += 4093)
        nonzero += p[i] != 0;
    CHECK(nonzero == 0 && p[len - 1] == 0);
    memset(p, 0x5A, len);
    CHECK(p[0] == 0x5A && p[len - 1] == 0x5A);
    hugemem_free(p, len);
}

int main(void)
{
    long before = hugemem_resident_kb(), during;
    unsigned char *big;
    hugemem_advise(NULL, 1u << 30, 1); /* no region: nothing happens */
    CHECK(hugemem_alloc(0) == NULL);
    hugemem_free(NULL, 123);
    check_alloc(100);
    check_alloc(((size_t)2 << 20) - 64);
    check_alloc((size_t)2 << 20);
    check_alloc(((size_t)7 << 20) + 4160);
    check_region(100, 0, 1);           /* far below a huge page: left alone */
    check_region((size_t)3 << 20, 5, 1);
    check_region((size_t)9 << 20, 0, 0);
    check_region((size_t)9 << 20, 77, 1);
    /* a table as the matcher builds one: advised before it is written */
    big = malloc((size_t)16 << 20);
    CHECK(big != NULL);
    if (big) {
        hugemem_advise(big, (size_t)16 << 20, 1);
        memset(big, 0xA5, (size_t)16 << 20);
        during = hugemem_resident_kb();
        CHECK(big[0] == 0xA5 && big[((size_t)16 << 20) - 1] == 0xA5);
        printf("huge pages: %ld kB before, %ld kB with a 16 MiB table advised\n", before, during);
        free(big);
    }
    return t_done();
}
