/*
 * fuzz_common.h - what several fuzz targets share: cutting a request into lines, removing the
 * temporary store directory of a run.
 */
#ifndef ACCORD_FUZZ_COMMON_H
#define ACCORD_FUZZ_COMMON_H

#include <ftw.h>
#include <stdio.h>
#include <string.h>

/* Cuts the next line out of [*p, end) (its '\n' becomes NUL); NULL at the end. */
static inline char *fuzz_next_line(char **p, char *end)
{
    if (*p >= end)
        return NULL;
    char *s = *p, *nl = memchr(s, '\n', (size_t)(end - s));
    if (!nl)
        nl = end;
    *nl = '\0';
    *p = nl + 1;
    return s;
}

static inline int fuzz_remove_entry(const char *path, const struct stat *st, int flag,
                                    struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/* Removes dir and everything below it. */
static inline void fuzz_remove_tree(const char *dir)
{
    nftw(dir, fuzz_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
