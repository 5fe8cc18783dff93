/*
 * fuzz/misp.c - the MISP event mapper on arbitrary bytes.
 *
 * The input is MISP JSON as `accord misp import` reads it.  Checks: every STIX object the mapper
 * produces passes accord's own validation (so a MISP event can never make the import write, or
 * try to write, an invalid object); the mapping is deterministic (the same bytes twice give the
 * same objects, which is what makes re-imports idempotent); every object is compact JSON (the
 * import stores the mapper's bytes as they are); an invalid document is reported with a line
 * and column; a document that is one object maps to the same objects as the list [document],
 * whose element the skeleton walk measures and scans in one pass (misp_import.c pre_scan)
 * where a whole document is scanned by read_cut alone; and an emit callback that fails stops the
 * mapping with its code (ACCORD_ESTIX too, which is no bad event of the input), and is never
 * called again (the mapping holds an event's objects back until its list elements have parsed,
 * and passes them on after: misp_import.c map_event); every bad value and every warning (no
 * uuid, a to_ids that is no boolean, an attribute where an object is expected) is told through
 * on_error.
 */
#include "accord.h"
#include "util/json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct seen {
    uint64_t h, n;
} seen;

static int check(void *ud, const char *json, size_t len)
{
    seen *s = ud;
    accord_error err;
    if (accord_validate_json(json, len, &err) != 0) {
        fprintf(stderr, "invalid object: %s\n%.*s\n", err.msg, (int)len, json);
        __builtin_trap();
    }
    char *min = malloc(len + 1);
    if (min && (ajson_minify(json, len, min) != len || memcmp(min, json, len) != 0)) {
        fprintf(stderr, "not compact JSON:\n%.*s\n", (int)len, json);
        __builtin_trap();
    }
    free(min);
    for (size_t i = 0; i < len; i++) /* FNV-1a */
        s->h = (s->h ^ (unsigned char)json[i]) * 1099511628211ull;
    s->n++;
    return 0;
}

typedef struct stopper {
    size_t left; /* objects to accept before failing */
    int code;    /* the failure: ACCORD_EIO, or ACCORD_ESTIX (which the walk must not take for
                  * a bad event of the input and go on to the next) */
    int stopped;
} stopper;

static int stop_after(void *ud, const char *json, size_t len)
{
    stopper *s = ud;
    (void)json;
    (void)len;
    if (s->stopped)
        __builtin_trap(); /* called again after it failed */
    if (s->left == 0) {
        s->stopped = 1;
        return s->code;
    }
    s->left--;
    return 0;
}

/* Counts the problems told (every bad value and every warning is one message). */
static void count_msg(void *ud, const char *msg)
{
    (void)msg;
    (*(uint64_t *)ud)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    seen a = {1469598103934665603ull, 0}, b = {1469598103934665603ull, 0};
    accord_misp_stats st;
    accord_error err;
    memset(&err, 0, sizeof(err));
    accord_misp_options opts = {0};
    opts.source = "fuzz";
    uint64_t told = 0;
    opts.on_error = count_msg;
    opts.ud = &told;
    int rc = accord_misp_map_mem((const char *)data, size, &opts, check, &a, &st, &err);
    if (rc == ACCORD_EJSON && strncmp(err.msg, "fuzz", 4) != 0)
        __builtin_trap();
    if (told < st.warnings + st.bad) /* a warning or a bad value that nobody was told of */
        __builtin_trap();
    if (rc != 0 && rc != ACCORD_ESTIX && rc != ACCORD_EJSON && rc != ACCORD_ENOMEM &&
        rc != ACCORD_ELIMIT)
        __builtin_trap();
    if (st.events == 0 && a.n != 0 && rc != ACCORD_ESTIX)
        __builtin_trap();
    accord_misp_map_mem((const char *)data, size, &opts, check, &b, &st, &err);
    if (a.h != b.h || a.n != b.n)
        __builtin_trap();
    if (a.n) {
        stopper sp = {(size_t)(a.h % a.n), (a.h >> 63) ? ACCORD_ESTIX : ACCORD_EIO, 0};
        int rs = accord_misp_map_mem((const char *)data, size, &opts, stop_after, &sp, &st, &err);
        if (!sp.stopped || rs != sp.code)
            __builtin_trap();
    }
    size_t p = 0;
    while (p < size && (data[p] == ' ' || data[p] == '\n' || data[p] == '\r' || data[p] == '\t'))
        p++;
    char *list = p < size && data[p] == '{' ? malloc(size + 3) : NULL;
    if (list && rc == 0) {
        seen c = {1469598103934665603ull, 0};
        list[0] = '[';
        memcpy(list + 1, data, size);
        list[size + 1] = ']';
        list[size + 2] = 0;
        if (accord_misp_map_mem(list, size + 2, &opts, check, &c, &st, &err) == 0 &&
            (c.h != a.h || c.n != a.n))
            __builtin_trap();
    }
    free(list);
    return 0;
}
