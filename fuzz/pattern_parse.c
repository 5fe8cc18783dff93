/*
 * fuzz/pattern_parse.c - libFuzzer target for the STIX pattern lexer, parser and compiler.
 *
 * The first byte picks the grammar (odd: STIX 2.0); the rest is the pattern.  Besides memory
 * errors and leaks it checks the parser's promises: a result is 0 or one of the documented codes,
 * a failure always carries a message starting "offset N:" with N at most the length + 1, and a
 * pattern that compiles compiles again from its own text.  A broken promise traps.
 *
 * Without ACCORD_FUZZ this file is linked with fuzz/replay.c, which runs it on every file of
 * fuzz/corpus/pattern_parse/.
 */
#include "accord.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_error(const accord_error *err, int rc, size_t len)
{
    char *end;
    unsigned long off;
    if (rc != ACCORD_EINVAL && rc != ACCORD_ELIMIT && rc != ACCORD_ENOMEM)
        __builtin_trap();
    if (rc == ACCORD_ENOMEM)
        return;
    if (strncmp(err->msg, "offset ", 7) != 0)
        __builtin_trap();
    off = strtoul(err->msg + 7, &end, 10);
    if (end == err->msg + 7 || *end != ':' || off < 1 || off > len + 1)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    accord_pattern *p = NULL, *again = NULL;
    accord_error err = {0};
    unsigned flags;
    int rc;
    if (size == 0)
        return 0;
    flags = (data[0] & 1) ? ACCORD_PATTERN_STIX20 : 0;
    rc = accord_pattern_compile((const char *)data + 1, size - 1, flags, &p, &err);
    if (rc) {
        check_error(&err, rc, size - 1);
        if (p)
            __builtin_trap();
        return 0;
    }
    const char *text = accord_pattern_text(p);
    if (accord_pattern_compile(text, strlen(text), flags, &again, &err) != 0 &&
        strlen(text) == size - 1)
        __builtin_trap();
    accord_pattern_free(again);
    accord_pattern_free(p);
    return 0;
}
