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
