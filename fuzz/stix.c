/*
 * fuzz/stix.c - the object parser and validator on arbitrary bytes.
 *
 * Parses the input as one JSON document; when it is an object, validates it as STIX and extracts
 * its observable values.  Checks the validator's contract: a valid object has an id that starts
 * with its type and "--"; a rejection always names a rule and carries a one-line message.
 */
#include "stix.h"
#include "util/json.h"
#include "values.h"

#include <stdint.h>
#include <string.h>

static void count_value(void *ud, const char *value, size_t len)
{
    if (len == 0 || len > VALUE_MAX || strlen(value) != len)
        __builtin_trap();
    (*(size_t *)ud)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ajson_arena arena;
    static int ready;
    if (!ready) {
        ajson_arena_init(&arena, 16u << 20);
        ready = 1;
    }
    ajson_arena_reset(&arena);
    ajson_error jerr;
    const ajson_value *root = ajson_parse(&arena, (const char *)data, size, &jerr);
    if (!root || root->type != AJSON_OBJECT)
        return 0;
    stix_info info;
    stix_problem prob;
    memset(&info, 0, sizeof(info));
    memset(&prob, 0, sizeof(prob));
    if (stix_validate(root, NULL, &info, &prob) == 0) {
        size_t tlen = info.type ? strlen(info.type) : 0;
        if (!info.id || !info.type || strncmp(info.id, info.type, tlen) != 0 ||
            strncmp(info.id + tlen, "--", 2) != 0)
            __builtin_trap();
        size_t n = 0;
        values_extract(root, info.type, count_value, &n);
    } else {
        if (!prob.rule[0] || !prob.message[0] || strchr(prob.message, '\n'))
            __builtin_trap();
    }
    return 0;
}
