/*
 * util/hugemem.h - asking the kernel for huge pages behind large lookup tables.
 */
#ifndef ACCORD_UTIL_HUGEMEM_H
#define ACCORD_UTIL_HUGEMEM_H

#include <stddef.h>

/*
 * Advises the kernel to back the 2 MiB-aligned part of p[0..len) with transparent huge pages
 * (Linux MADV_HUGEPAGE; a no-op elsewhere, for regions under 4 MiB, and when the kernel
 * declines).  Pages touched after the call come as huge pages.  With now set, pages already
 * there are also collapsed into huge pages at once (MADV_COLLAPSE, Linux 6.1 and later), and the
 * whole region becomes resident: for memory malloc may have handed out before, and for tables
 * that are about to be filled anyway.  Nothing changes for the caller: p is still freed with
 * free().
 */
void hugemem_advise(void *p, size_t len, int now);

/* This process's memory on transparent huge pages in KiB (AnonHugePages of
 * /proc/self/smaps_rollup), or -1 when the system does not say. */
long hugemem_resident_kb(void);

#endif
