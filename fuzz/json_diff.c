/*
 * fuzz/json_diff.c - libFuzzer target: util/json.c against jansson on the same bytes.
 *
 * Each input is parsed by ajson_parse() and by jansson's json_loadb() in its strict mode
 * (JSON_REJECT_DUPLICATES | JSON_DECODE_ANY).  Both must accept or both reject; accepted trees
 * must be equal: same types, same member order, same string bytes, the same int64 or double for
 * every number, and every value's offset must point at its first byte.  An accepted input is then
 * minified, and the minified text must parse to the same tree and minify to itself.  Anything
 * else traps.
 *
 * Three differences are design choices, documented with the differential test in
 * tests/unit/test_json.c, and are let through only after checking that they are exactly that:
 *   - a number outside jansson's range (an integer beyond int64, a real beyond DBL_MAX): jansson
 *     rejects the document, ajson keeps the number as text;
 *   - nesting deeper than AJSON_MAX_DEPTH (100) but within jansson's 2048;
 *   - a NUL byte right after a number or literal, which jansson's lexer loses when it un-reads
 *     it and so accepts: without that byte, the rest must agree.
 *
 * This file shares no code with the unit test on purpose: a fuzz target stands alone.  Without
 * ACCORD_FUZZ it is linked with fuzz/replay.c, which runs it on every file of
 * fuzz/corpus/json_diff/.
 */
#include "util/json.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define INPUT_MAX (1024 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ajson_arena arena; /* lives for the process, reset for every parse */

static const ajson_value *parse(const char *text, size_t len, ajson_error *err)
{
    static int ready;
    if (!ready) {
        ajson_arena_init(&arena, 0);
        ready = 1;
    }
    ajson_arena_reset(&arena);
    return ajson_parse(&arena, text, len, err);
}

static int is_int_text(const char *num)
{
    return strpbrk(num, ".eE") == NULL;
}

static int same(const char *text, const ajson_value *v, json_t *j);

static int same_number(const ajson_value *v, json_t *j)
{
    if (json_is_integer(j)) {
        int64_t x;
        return is_int_text(v->u.str) && ajson_int(v, &x) && x == json_integer_value(j);
    }
    double d, r = json_real_value(j);
    return json_is_real(j) && !is_int_text(v->u.str) && ajson_double(v, &d) &&
           memcmp(&d, &r, sizeof d) == 0;
}

static int same_container(const char *text, const ajson_value *v, json_t *j)
{
    if (v->type == AJSON_ARRAY) {
        if (!json_is_array(j) || json_array_size(j) != v->len)
            return 0;
        for (size_t i = 0; i < v->len; i++)
            if (!same(text, &v->u.items[i], json_array_get(j, i)))
                return 0;
        return 1;
    }
    if (!json_is_object(j) || json_object_size(j) != v->len)
        return 0;
    void *it = json_object_iter(j); /* jansson keeps insertion order */
    for (size_t i = 0; i < v->len; i++, it = json_object_iter_next(j, it)) {
        const ajson_member *m = &v->u.members[i];
        if (!it || json_object_iter_key_len(it) != m->key_len || strlen(m->key) != m->key_len ||
            memcmp(json_object_iter_key(it), m->key, m->key_len) != 0 ||
            !same(text, &m->value, json_object_iter_value(it)))
            return 0;
    }
    return 1;
}

/* 1 when our tree v, parsed from text, equals jansson's j. */
static int same(const char *text, const ajson_value *v, json_t *j)
{
    static const char first[] = "nft0\"[{"; /* by type; numbers are checked in full */
    if (v->type != AJSON_NUMBER && text[v->offset] != first[v->type])
        return 0;
    switch (v->type) {
    case AJSON_NULL:
        return json_is_null(j);
    case AJSON_FALSE:
        return json_is_false(j);
    case AJSON_TRUE:
        return json_is_true(j);
    case AJSON_NUMBER:
        return strlen(v->u.str) == v->len && memcmp(text + v->offset, v->u.str, v->len) == 0 &&
               same_number(v, j);
    case AJSON_STRING:
        return json_is_string(j) && json_string_length(j) == v->len && strlen(v->u.str) == v->len &&
               memcmp(json_string_value(j), v->u.str, v->len) == 0;
    case AJSON_ARRAY:
    case AJSON_OBJECT:
        return same_container(text, v, j);
    }
    return 0;
}

static size_t jansson_depth(json_t *j)
{
    size_t d = 0, k;
    const char *key;
    json_t *m;
    if (json_is_array(j))
        for (size_t i = 0; i < json_array_size(j); i++)
            if ((k = jansson_depth(json_array_get(j, i))) > d)
                d = k;
    if (json_is_object(j))
        json_object_foreach(j, key, m)
        {
            if ((k = jansson_depth(m)) > d)
                d = k;
        }
    return d + 1;
}

static int has_big_number(const ajson_value *v)
{
    if (v->type == AJSON_NUMBER) {
        errno = 0;
        if (is_int_text(v->u.str)) {
            (void)strtoll(v->u.str, NULL, 10);
            return errno == ERANGE;
        }
        return isinf(strtod(v->u.str, NULL)) && errno == ERANGE;
    }
    for (size_t i = 0; i < v->len; i++)
        if ((v->type == AJSON_ARRAY && has_big_number(&v->u.items[i])) ||
            (v->type == AJSON_OBJECT && has_big_number(&v->u.members[i].value)))
            return 1;
    return 0;
}

static void check(int ok)
{
    if (!ok)
        __builtin_trap();
}

/* Minified text parses to jansson's tree and is a fixed point of ajson_minify. */
static void check_minify(const char *text, size_t len, json_t *j)
{
    char *once = malloc(len + 1), *twice = malloc(len + 1);
    if (!once || !twice)
        abort();
    size_t n1 = ajson_minify(text, len, once);
    size_t n2 = ajson_minify(once, n1, twice);
    check(n1 <= len && n2 == n1 && memcmp(once, twice, n1) == 0);
    ajson_error err;
    const ajson_value *v = parse(once, n1, &err);
    check(v && same(once, v, j));
    free(once);
    free(twice);
}

static int ends_token(char c)
{
    return c != '\0' && strchr("0123456789el", c) != NULL;
}

/* Jansson accepted, we did not: only the documented differences may explain it. */
static void check_we_reject(char *text, size_t len, ajson_error *err, json_t *j)
{
    for (;;) {
        if (strstr(err->msg, "nesting deeper than") && jansson_depth(j) > AJSON_MAX_DEPTH)
            return;
        size_t at = err->offset;
        check(at > 0 && at < len && text[at] == '\0' && ends_token(text[at - 1]));
        memmove(text + at, text + at + 1, len - at - 1); /* text is our own copy */
        len--;
        const ajson_value *v = parse(text, len, err);
        if (v) {
            check(same(text, v, j));
            return;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > INPUT_MAX)
        return 0;
    char *text = malloc(size ? size : 1); /* a copy of exactly size bytes: ASan sees overreads */
    if (!text)
        abort();
    memcpy(text, data, size);
    json_error_t jerr;
    json_t *j = json_loadb(text, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    ajson_error err;
    const ajson_value *v = parse(text, size, &err);
    if (v && j) {
        check(same(text, v, j));
        check_minify(text, size, j);
    } else if (v) {
        check(json_error_code(&jerr) == json_error_numeric_overflow && has_big_number(v));
    } else if (j) {
        check_we_reject(text, size, &err, j);
    } else {
        check(err.offset <= size && err.msg[0] != '\0');
    }
    json_decref(j);
    free(text);
    return 0;
}
