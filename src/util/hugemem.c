/*
 * util/hugemem.c - transparent huge pages for large, randomly probed tables.
 *
 * The matcher's tables (tens to hundreds of MB at millions of indicators) are read at random
 * addresses, one cache line per probe.  With 4 KiB pages each probe also misses the TLB (a
 * second-level TLB covers a few MB), and the page walk costs about as much as the line itself;
 * with 2 MiB pages the TLB covers gigabytes.  Most kernels run THP in "madvise" mode, so a table
 * has to ask.  The advice covers only the 2 MiB-aligned interior of the region, so memory of
 * other allocations next to it is never affected.  malloc serves such sizes from fresh mappings
 * until frees raise its mmap threshold (glibc: up to 32 MiB), and from reused heap memory after
 * that: pages already faulted in as small ones stay so unless collapsed, hence MADV_COLLAPSE.
 * Collapsing needs free huge pages at that moment and often finds none on a busy machine (a
 * bench at 10M indicators got 106 of 170 MB of probed tables), so hugemem_alloc gives large
 * tables a mapping of their own instead, advised before its first page fault: each fault then
 * takes a huge page straight away when the kernel has one.
 */
#include "util/hugemem.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__linux__)
#include <sys/mman.h>
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25 /* Linux 6.1; older kernels answer EINVAL, which is fine */
#endif
#endif

#define HUGE_PAGE ((uintptr_t)2 << 20)

void hugemem_advise(void *p, size_t len, int now)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    uintptr_t a = (uintptr_t)p, lo = (a + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1),
              hi = (a + len) & ~(HUGE_PAGE - 1);
    if (!p || len < 2 * HUGE_PAGE || hi <= lo)
        return;
    /* advice: when the kernel declines, the table works the same on small pages */
    (void)madvise((void *)lo, (size_t)(hi - lo), MADV_HUGEPAGE);
    if (now)
        (void)madvise((void *)lo, (size_t)(hi - lo), MADV_COLLAPSE);
#else
    (void)p;
    (void)len;
    (void)now;
#endif
}

#define OWN_MAPPING HUGE_PAGE

void *hugemem_alloc(size_t len)
{
    void *p;
    if (len == 0)
        return NULL;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (len >= OWN_MAPPING && len <= SIZE_MAX - 2 * HUGE_PAGE) {
        /* map a huge page more than needed, then unmap the slack before and after the aligned
         * part: mmap itself only promises 4 KiB alignment */
        size_t span = (len + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE, head, tail;
        char *m = mmap(NULL, span + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                       -1, 0);
        uintptr_t a;
        if (m == MAP_FAILED)
            return NULL;
        a = ((uintptr_t)m + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
        head = (size_t)(a - (uintptr_t)m);
        tail = HUGE_PAGE - head;
        if (head)
            munmap(m, head);
        if (tail)
            munmap((char *)a + span, tail);
        (void)madvise((void *)a, span, MADV_HUGEPAGE); /* advice: small pages work the same */
        return (void *)a;
    }
#endif
    len = (len + 63) / 64 * 64;
    p = aligned_alloc(64, len);
    if (p)
        memset(p, 0, len);
    return p;
}

void hugemem_free(void *p, size_t len)
{
    if (!p)
        return;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (len >= OWN_MAPPING && len <= SIZE_MAX - 2 * HUGE_PAGE) {
        munmap(p, (len + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE);
        return;
    }
#endif
    free(p);
}

long hugemem_resident_kb(void)
{
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
    char line[256];
    long kb = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "AnonHugePages:", 14))
            kb = strtol(line + 14, NULL, 10);
    fclose(f);
    return kb;
}
