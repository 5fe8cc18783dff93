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

/*
 * A zeroed region of len bytes, 64-byte aligned, for a table probed at random: from 2 MiB on, a
 * private mapping of its own, 2 MiB-aligned and advised for huge pages before any page of it is
 * touched (memory malloc hands out may have been faulted in as small pages before, and then
 * stays so: the kernel could not collapse it on a fragmented machine); smaller regions come from
 * the heap.  NULL when out of memory or len is 0.  Free it with hugemem_free and the same len.
 */
void *hugemem_alloc(size_t len);
/* Frees a region from hugemem_alloc(len); NULL is fine. */
void hugemem_free(void *p, size_t len);

/* This process's memory on transparent huge pages in KiB (AnonHugePages of
 * /proc/self/smaps_rollup), or -1 when the system does not say. */
long hugemem_resident_kb(void);

#endif
