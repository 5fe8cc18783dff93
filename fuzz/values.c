/*
 * fuzz/values.c - libFuzzer target for value normalisation and the indicator pattern scanner.
 *
 * Each input is used three ways: as a value for value_normalize(); as the pattern of an
 * indicator {"type":"indicator","pattern":"<input>"} (the input JSON-escaped, bytes outside
 * printable ASCII as \u00XX, NUL as a space) given to values_extract(); and, when it happens to be
 * a JSON object, as an object of its own type given to values_extract().  Besides memory errors it
 * checks the promises the value index relies on: every reported value is NUL-terminated with the
 * reported length, non-empty, at most VALUE_MAX bytes, and normalising it again changes nothing.
 * A broken promise traps.
 *
 * Without ACCORD_FUZZ this file is linked with fuzz/replay.c, which runs it on every file of
 * fuzz/corpus/values/.
 */
#include "values.h"
#include "util/json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define INPUT_MAX 65536 /* longer inputs are cut: nothing new happens past this */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Traps unless value[0..len) is a normalised value as the index expects it. */
static void check_normalised(const char *value, size_t len)
{
    char again[VALUE_MAX + 2];
    long n;
    if (len == 0 || len > VALUE_MAX || strlen(value) != len)
        __builtin_trap();
    n = value_normalize(value, len, again, sizeof again);
    if (n < 0 || (size_t)n != len || memcmp(again, value, len) != 0)
        __builtin_trap();
}

static void on_value(void *ud, const char *value, size_t len)
{
    size_t *count = ud;
    (*count)++;
    check_normalised(value, len);
}

static void fuzz_normalize(const uint8_t *data, size_t size)
{
    char out[VALUE_MAX + 2];
    long n = value_normalize((const char *)data, size, out, sizeof out);
    if (n >= 0 && (size_t)n <= VALUE_MAX)
        check_normalised(out, (size_t)n);
    /* a buffer too small must be refused, never overrun */
    n = value_normalize((const char *)data, size, out, 4);
    if (n > 3)
        __builtin_trap();
}

/* Writes {"type":"indicator","pattern":"<data escaped>"} into out; returns its length. */
static size_t indicator_json(const uint8_t *data, size_t size, char *out)
{
    static const char head[] = "{\"type\":\"indicator\",\"pattern\":\"";
    static const char hex[] = "0123456789abcdef";
    size_t n = sizeof head - 1;
    memcpy(out, head, n);
    for (size_t i = 0; i < size; i++) {
        uint8_t c = data[i];
        if (c == '"' || c == '\\') {
            out[n++] = '\\';
            out[n++] = (char)c;
        } else if (c == 0) {
            out[n++] = ' ';
        } else if (c < 0x20 || c >= 0x7f) {
            memcpy(out + n, "\\u00", 4);
            out[n + 4] = hex[c >> 4];
            out[n + 5] = hex[c & 15];
            n += 6;
        } else {
            out[n++] = (char)c;
        }
    }
    memcpy(out + n, "\"}", 2);
    return n + 2;
}

static void fuzz_extract(ajson_arena *a, const char *text, size_t len)
{
    ajson_error err;
    size_t count = 0;
    const ajson_value *root = ajson_parse(a, text, len, &err);
    if (root)
        values_extract(root, NULL, on_value, &count);
    ajson_arena_reset(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ajson_arena a;
    char *json;
    if (size > INPUT_MAX)
        size = INPUT_MAX;
    fuzz_normalize(data, size);
    json = malloc(6 * size + 64);
    if (!json)
        return 0;
    ajson_arena_init(&a, 0);
    fuzz_extract(&a, json, indicator_json(data, size, json));
    fuzz_extract(&a, (const char *)data, size);
    ajson_arena_free(&a);
    free(json);
    return 0;
}
