/*
 * fuzz/case_api.c - the request body parser of /api/cases on arbitrary bytes, with each route's
 * member list chosen by the first byte.
 *
 * Properties: an accepted body gives only strings from the input's members (each non-NULL output
 * is a NUL-terminated string no longer than the input); a rejected one names the fault.
 */
#include "case_api.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const k0[] = {"title", "summary", "embargo", "deadline", "coordinator",
                                      "role", NULL};
    static const char *const k1[] = {"vendor", "product", "status", "statement", NULL};
    static const char *const k2[] = {"topic", "private_vendor", "body", NULL};
    static const char *const *const sets[] = {k0, k1, k2};
    if (size < 1)
        return 0;
    const char *const *keys = sets[data[0] % 3];
    const char *out[8];
    char err[256] = "";
    ajson_arena a;
    ajson_arena_init(&a, 1u << 22);
    if (case_api_body((const char *)data + 1, size - 1, keys, out, &a, err, sizeof(err)) == 0) {
        for (int i = 0; keys[i]; i++)
            if (out[i] && strlen(out[i]) > size)
                abort();
    } else if (!err[0]) {
        abort();
    }
    ajson_arena_free(&a);
    return 0;
}
