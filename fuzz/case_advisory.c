/*
 * fuzz/case_advisory.c - the vendor advisory readers (CSAF 2.0 and OSV -> STIX, csaf_import.c) on
 * arbitrary bytes; the first byte picks the format.
 *
 * Properties checked beyond "no crash": a refused document has a message naming its rule; an
 * accepted one becomes a JSON bundle whose every object passes the STIX validator (what the
 * readers write is always importable).
 */
#include "case_int.h"
#include "stix.h"
#include "util/json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    int format = data[0] & 1 ? ACCORD_ADVISORY_OSV : ACCORD_ADVISORY_CSAF;
    buf out;
    buf_init(&out, 1u << 24);
    char err[600] = "";
    if (advisory_to_stix(format, (const char *)data + 1, size - 1, &out, err, sizeof(err))) {
        if (!strstr(err, "(rule "))
            abort();
        buf_free(&out);
        return 0;
    }
    ajson_arena a;
    ajson_arena_init(&a, 0);
    ajson_error je;
    const ajson_value *root = ajson_parse(&a, out.p, out.len, &je);
    const ajson_value *objs = root ? ajson_get(root, "objects") : NULL;
    if (!objs || objs->type != AJSON_ARRAY)
        abort();
    for (size_t i = 0; i < objs->len; i++) {
        stix_info info;
        stix_problem prob;
        memset(&info, 0, sizeof(info));
        if (stix_validate(&objs->u.items[i], NULL, &info, &prob) != 0)
            abort();
    }
    ajson_arena_free(&a);
    buf_free(&out);
    return 0;
}
