/*
 * fuzz/match_fuzz.h - what the matcher's fuzz targets share: a small snapshot built once from a
 * list of patterns (indicator ids numbered from 0, every one named "n", no validity limit).
 */
#ifndef ACCORD_FUZZ_MATCH_FUZZ_H
#define ACCORD_FUZZ_MATCH_FUZZ_H

#include "accord.h"

#include <stdio.h>

static accord_snapshot *fuzz_snapshot(const char *const *pats, size_t n)
{
    accord_snapshot_builder *b = NULL;
    accord_snapshot *s = NULL;
    accord_snapshot_builder_new(1700000000, &b);
    for (size_t i = 0; i < n; i++) {
        char id[64];
        snprintf(id, sizeof id, "indicator--00000000-0000-4000-8000-%012zu", i);
        accord_snapshot_builder_add(b, id, "n", pats[i], 0, 0, NULL);
    }
    accord_snapshot_build(b, &s, NULL);
    accord_snapshot_builder_free(b);
    return s;
}

#endif
