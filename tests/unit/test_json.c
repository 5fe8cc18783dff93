/*
 * test_json.c - the JSON parser against RFC 8259, against its own promises, and against jansson.
 *
 * Three kinds of cases.  Tables: every grammar, string and UTF-8 edge case is one row with the
 * exact byte offset and a substring of the message the parser must report, or the bytes a string
 * must decode to.  Properties: accessors, offsets, member order, duplicate keys, depth, the arena
 * cap, ajson_minify.  Differential: every table row, every *.json file of the shared data set and a
 * few thousand seeded mutations of small documents are parsed by both this parser and jansson
 * (JSON_REJECT_DUPLICATES | JSON_DECODE_ANY); both must accept or both reject, and accepted trees
 * must be equal in structure, member order, string bytes and numeric values.  Every accepted input
 * is also minified, and the minified text must parse to the same tree.
 *
 * The differences from jansson that are design choices, each classified and counted by
 * diff_one() rather than ignored:
 *
 *   big numbers      an integer outside int64 or a real beyond DBL_MAX: jansson rejects the
 *                    document ("too big integer", "real number overflow"); this parser accepts it,
 *                    because it keeps every number as its text (RFC 8259 sets no range) and lets
 *                    ajson_int() refuse it and ajson_double() return +-inf.
 *   depth            jansson nests up to 2048 values, this parser up to AJSON_MAX_DEPTH (100).
 *                    Both count every value, the root being level 1, so a scalar inside 100
 *                    arrays is level 101.
 *   NUL after token  jansson accepts one NUL byte right after a number or a literal ("1\0",
 *                    "[true\0]"): its lexer un-reads the byte that ends the token, and an un-read
 *                    NUL is lost in its stream buffer.  This parser rejects the NUL as any other
 *                    stray byte.  The check removes the NUL and requires the rest to agree.
 *
 * Anything else that differs fails the test and prints the input in hex.
 */
#include "util/json.h"

#include <jansson.h>

#include "t.h"

#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "t_rng.h"

#define T(s) s, sizeof(s) - 1 /* a literal and its length, embedded NUL bytes included */
#define JANSSON_FLAGS (JSON_REJECT_DUPLICATES | JSON_DECODE_ANY)
#define SHARED_FILE_MAX ((size_t)50 * 1024 * 1024)
#define MUTATIONS 6000
#define LINES_PER_FILE_MAX 20000

static ajson_arena g_arena; /* reset before each parse by parse_text() */

static const ajson_value *parse_text(const char *text, size_t len, ajson_error *err)
{
    ajson_arena_reset(&g_arena);
    return ajson_parse(&g_arena, text, len, err);
}

/* Prints text[0..len) in a form that survives control bytes and invalid UTF-8. */
static void print_input(const char *label, const char *text, size_t len)
{
    fprintf(stderr, "  %s (%zu bytes): ", label, len);
    for (size_t i = 0; i < len && i < 400; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c >= 0x20 && c < 0x7f && c != '\\')
            fputc(c, stderr);
        else
            fprintf(stderr, "\\x%02x", c);
    }
    fprintf(stderr, "%s\n", len > 400 ? "..." : "");
}

/* ---- the differential check ---- */

typedef enum diff_outcome {
    DIFF_BOTH_ACCEPT,
    DIFF_BOTH_REJECT,
    DIFF_BIG_NUMBER,      /* documented: jansson refuses a number out of its range */
    DIFF_DEPTH,           /* documented: deeper than AJSON_MAX_DEPTH, within jansson's 2048 */
    DIFF_NUL_AFTER_TOKEN, /* documented: jansson drops a NUL that ends a number or literal */
    DIFF_MISMATCH,        /* a bug */
    DIFF_N
} diff_outcome;

static const char *const diff_names[DIFF_N] = {"both accept", "both reject",     "big number",
                                               "depth",       "NUL after token", "MISMATCH"};
static unsigned long diff_counts[DIFF_N];

typedef struct why {
    char msg[300];
} why;

static int mismatch(why *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Records why two trees differ; returns 0 so that callers can `return mismatch(...)`. */
static int mismatch(why *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->msg, sizeof(w->msg), fmt, ap);
    va_end(ap);
    return 0;
}

static int text_is_integer(const char *num)
{
    return strpbrk(num, ".eE") == NULL;
}

/* A NUMBER agrees with jansson's integer or real, by accessor and by parsing its text anew. */
static int same_number(const ajson_value *v, json_t *j, why *w)
{
    const char *num = v->u.str;
    if (json_is_integer(j)) {
        int64_t x = 0;
        char *end;
        errno = 0;
        long long y = strtoll(num, &end, 10);
        if (!text_is_integer(num) || errno || *end || !ajson_int(v, &x))
            return mismatch(w, "number %s: jansson integer, ours not an int64", num);
        if (x != json_integer_value(j) || y != json_integer_value(j))
            return mismatch(w, "number %s: %lld vs jansson %lld", num, (long long)x,
                            (long long)json_integer_value(j));
        return 1;
    }
    if (!json_is_real(j) || text_is_integer(num))
        return mismatch(w, "number %s: jansson type %d", num, (int)json_typeof(j));
    double d = 0, r = json_real_value(j), e = strtod(num, NULL);
    if (!ajson_double(v, &d) || memcmp(&d, &r, sizeof d) != 0 || memcmp(&e, &r, sizeof e) != 0)
        return mismatch(w, "number %s: %.17g vs jansson %.17g", num, d, r);
    return 1;
}

static int same_tree(const char *text, const ajson_value *v, json_t *j, why *w);

static int same_array(const char *text, const ajson_value *v, json_t *j, why *w)
{
    if (!json_is_array(j) || json_array_size(j) != v->len)
        return mismatch(w, "array at %u: %zu items, jansson differs", v->offset, v->len);
    for (size_t i = 0; i < v->len; i++)
        if (!same_tree(text, &v->u.items[i], json_array_get(j, i), w))
            return 0;
    return 1;
}

/* Same members in the same order: jansson 2.14 iterates objects in insertion order. */
static int same_object(const char *text, const ajson_value *v, json_t *j, why *w)
{
    if (!json_is_object(j) || json_object_size(j) != v->len)
        return mismatch(w, "object at %u: %zu members, jansson differs", v->offset, v->len);
    void *it = json_object_iter(j);
    for (size_t i = 0; i < v->len; i++, it = json_object_iter_next(j, it)) {
        const ajson_member *m = &v->u.members[i];
        if (!it || json_object_iter_key_len(it) != m->key_len ||
            memcmp(json_object_iter_key(it), m->key, m->key_len) != 0 ||
            strlen(m->key) != m->key_len)
            return mismatch(w, "object at %u: member %zu key \"%.40s\" differs", v->offset, i,
                            m->key);
        if (!same_tree(text, &m->value, json_object_iter_value(it), w))
            return 0;
    }
    return 1;
}

/* The first byte at a value's offset must start a value of its type. */
static int offset_fits(const char *text, const ajson_value *v)
{
    char c = text[v->offset];
    switch (v->type) {
    case AJSON_NULL:
        return c == 'n';
    case AJSON_FALSE:
        return c == 'f';
    case AJSON_TRUE:
        return c == 't';
    case AJSON_NUMBER:
        return memcmp(text + v->offset, v->u.str, v->len) == 0 && strlen(v->u.str) == v->len;
    case AJSON_STRING:
        return c == '"';
    case AJSON_ARRAY:
        return c == '[';
    case AJSON_OBJECT:
        return c == '{';
    }
    return 0;
}

/* 1 when our tree v (parsed from text) equals jansson's j; otherwise 0 with the reason in w. */
static int same_tree(const char *text, const ajson_value *v, json_t *j, why *w)
{
    if (!offset_fits(text, v))
        return mismatch(w, "value at offset %u does not start there", v->offset);
    switch (v->type) {
    case AJSON_NULL:
        return json_is_null(j) ? 1 : mismatch(w, "null at %u", v->offset);
    case AJSON_FALSE:
        return json_is_false(j) ? 1 : mismatch(w, "false at %u", v->offset);
    case AJSON_TRUE:
        return json_is_true(j) ? 1 : mismatch(w, "true at %u", v->offset);
    case AJSON_NUMBER:
        return same_number(v, j, w);
    case AJSON_STRING:
        if (!json_is_string(j) || json_string_length(j) != v->len ||
            memcmp(json_string_value(j), v->u.str, v->len) != 0 || strlen(v->u.str) != v->len)
            return mismatch(w, "string at %u differs", v->offset);
        return 1;
    case AJSON_ARRAY:
        return same_array(text, v, j, w);
    case AJSON_OBJECT:
        return same_object(text, v, j, w);
    }
    return mismatch(w, "unknown type %d", (int)v->type);
}

/* Levels of jansson's tree, counted as both parsers count them: the root is level 1. */
static size_t jansson_depth(json_t *j)
{
    size_t d = 0, k;
    if (json_is_array(j)) {
        for (size_t i = 0; i < json_array_size(j); i++)
            if ((k = jansson_depth(json_array_get(j, i))) > d)
                d = k;
    } else if (json_is_object(j)) {
        const char *key;
        json_t *m;
        json_object_foreach(j, key, m)
        {
            if ((k = jansson_depth(m)) > d)
                d = k;
        }
    }
    return d + 1;
}

/* 1 when our tree holds a number that jansson's range refuses. */
static int has_big_number(const ajson_value *v)
{
    if (v->type == AJSON_NUMBER) {
        errno = 0;
        if (text_is_integer(v->u.str)) {
            (void)strtoll(v->u.str, NULL, 10);
            return errno == ERANGE;
        }
        double d = strtod(v->u.str, NULL);
        return errno == ERANGE && isinf(d);
    }
    for (size_t i = 0; i < v->len; i++)
        if ((v->type == AJSON_ARRAY && has_big_number(&v->u.items[i])) ||
            (v->type == AJSON_OBJECT && has_big_number(&v->u.members[i].value)))
            return 1;
    return 0;
}

/*
 * ajson_minify promises: the minified text parses to the tree jansson built from the original,
 * minifying again changes nothing, and it is never longer.
 */
static int minify_agrees(const char *text, size_t len, json_t *j, why *w)
{
    char *once = malloc(len + 1), *twice = malloc(len + 1);
    int ok = 0;
    if (!once || !twice) {
        mismatch(w, "out of memory");
        goto out;
    }
    size_t n1 = ajson_minify(text, len, once);
    size_t n2 = ajson_minify(once, n1, twice);
    ajson_error err;
    const ajson_value *v = parse_text(once, n1, &err);
    if (n1 > len || n2 != n1 || memcmp(once, twice, n1) != 0)
        mismatch(w, "ajson_minify is not idempotent");
    else if (!v)
        mismatch(w, "minified text rejected at %zu: %s", err.offset, err.msg);
    else
        ok = same_tree(once, v, j, w);
    if (!ok)
        print_input("minified", once, n1);
out:
    free(once);
    free(twice);
    return ok;
}

/* The last byte of a number or a literal: where jansson's lexer un-reads the next byte. */
static int ends_token(char c)
{
    return c != '\0' && strchr("0123456789el", c) != NULL;
}

/*
 * Jansson accepted and we rejected: the documented differences are nesting beyond our limit, and
 * NUL bytes that end numbers or literals.  Such a NUL is removed and the rest compared again.
 */
static diff_outcome diff_we_reject(const char *text, size_t len, const ajson_error *first,
                                   json_t *j, why *w)
{
    char *copy = malloc(len);
    diff_outcome rc = DIFF_MISMATCH, seen = DIFF_MISMATCH;
    ajson_error err = *first;
    if (!copy)
        return DIFF_MISMATCH;
    memcpy(copy, text, len);
    for (;;) {
        size_t at = err.offset;
        if (strstr(err.msg, "nesting deeper than") && jansson_depth(j) > AJSON_MAX_DEPTH) {
            rc = seen == DIFF_MISMATCH ? DIFF_DEPTH : seen;
            break;
        }
        if (at == 0 || at >= len || copy[at] != '\0' || !ends_token(copy[at - 1])) {
            mismatch(w, "jansson accepts; ours rejects at %zu: %s", at, err.msg);
            break;
        }
        seen = DIFF_NUL_AFTER_TOKEN;
        memmove(copy + at, copy + at + 1, len - at - 1);
        len--;
        const ajson_value *v = parse_text(copy, len, &err);
        if (v) {
            if (same_tree(copy, v, j, w))
                rc = DIFF_NUL_AFTER_TOKEN;
            break;
        }
    }
    free(copy);
    return rc;
}

/* Parses text with both parsers and classifies the result (see the essay at the top). */
static diff_outcome diff_one(const char *text, size_t len, why *w)
{
    json_error_t jerr;
    ajson_error err;
    json_t *j = json_loadb(text, len, JANSSON_FLAGS, &jerr);
    const ajson_value *v = parse_text(text, len, &err);
    diff_outcome rc;
    w->msg[0] = '\0';
    if (!v && !j)
        rc = DIFF_BOTH_REJECT;
    else if (!v)
        rc = diff_we_reject(text, len, &err, j, w);
    else if (!j) {
        rc = json_error_code(&jerr) == json_error_numeric_overflow && has_big_number(v)
                 ? DIFF_BIG_NUMBER
                 : DIFF_MISMATCH;
        if (rc == DIFF_MISMATCH)
            mismatch(w, "ours accepts; jansson rejects at %d: %s", jerr.position, jerr.text);
    } else if (!same_tree(text, v, j, w))
        rc = DIFF_MISMATCH;
    else
        rc = minify_agrees(text, len, j, w) ? DIFF_BOTH_ACCEPT : DIFF_MISMATCH;
    json_decref(j);
    return rc;
}

/* Runs diff_one, counts its outcome, and reports a mismatch with the input. */
static diff_outcome diff_check(const char *label, const char *text, size_t len)
{
    why w;
    diff_outcome rc = diff_one(text, len, &w);
    diff_counts[rc]++;
    CHECK(rc != DIFF_MISMATCH);
    if (rc == DIFF_MISMATCH) {
        fprintf(stderr, "  %s: differs from jansson: %s\n", label, w.msg);
        print_input("input", text, len);
    }
    return rc;
}

/* ---- grammar and strings: rejected inputs ---- */

static const struct reject_case {
    const char *text;
    size_t len;
    size_t offset;
    const char *msg;
} reject_cases[] = {
    /* numbers */
    {T("01"), 1, "unexpected '1' after the JSON value"},
    {T("-01"), 2, "unexpected '1' after the JSON value"},
    {T("00"), 1, "unexpected '0' after"},
    {T("[01]"), 2, "expected ',' or ']' in array, found '1'"},
    {T("-"), 0, "invalid number: expected a digit"},
    {T("-a"), 0, "invalid number: expected a digit"},
    {T("--1"), 0, "invalid number: expected a digit"},
    {T("-.5"), 0, "invalid number: expected a digit"},
    {T("-Infinity"), 0, "invalid number: expected a digit"},
    {T("1."), 2, "expected a digit after '.'"},
    {T("1.e5"), 2, "expected a digit after '.'"},
    {T("[1.]"), 3, "expected a digit after '.'"},
    {T(".5"), 0, "expected a value, found '.'"},
    {T("[.5]"), 1, "expected a value, found '.'"},
    {T("1e"), 2, "expected a digit in the exponent"},
    {T("1e+"), 3, "expected a digit in the exponent"},
    {T("1E-x"), 3, "expected a digit in the exponent"},
    {T("+1"), 0, "expected a value, found '+'"},
    {T("0x10"), 1, "unexpected 'x' after the JSON value"},
    {T("1_000"), 1, "unexpected '_' after"},
    {T("1.5.2"), 3, "unexpected '.' after"},
    {T("1e5e5"), 3, "unexpected 'e' after"},
    /* trailing and missing commas */
    {T("[1,]"), 3, "expected a value, found ']'"},
    {T("{\"a\":1,}"), 7, "expected a string key after ',', found '}'"},
    {T("[,1]"), 1, "expected a value, found ','"},
    {T("[1,,2]"), 3, "expected a value, found ','"},
    {T("{,}"), 1, "expected a string key or '}', found ','"},
    {T("[1 2]"), 3, "expected ',' or ']' in array, found '2'"},
    {T("{\"a\":1 \"b\":2}"), 7, "expected ',' or '}' in object, found '\"'"},
    /* comments, quotes, words, NaN */
    {T("// c\n1"), 0, "expected a value, found '/'"},
    {T("/* c */ 1"), 0, "expected a value, found '/'"},
    {T("1 // c"), 2, "unexpected '/' after the JSON value"},
    {T("[1/*c*/]"), 2, "expected ',' or ']' in array, found '/'"},
    {T("'a'"), 0, "expected a value, found '''"},
    {T("{'a':1}"), 1, "expected a string key or '}', found '''"},
    {T("NaN"), 0, "expected a value, found 'N'"},
    {T("[NaN]"), 1, "expected a value, found 'N'"},
    {T("nan"), 0, "invalid literal: expected null"},
    {T("Infinity"), 0, "expected a value, found 'I'"},
    {T("hello"), 0, "expected a value, found 'h'"},
    {T("True"), 0, "expected a value, found 'T'"},
    {T("undefined"), 0, "expected a value, found 'u'"},
    {T("nul"), 0, "invalid literal: expected null"},
    {T("tru"), 0, "invalid literal: expected true"},
    {T("fals"), 0, "invalid literal: expected false"},
    {T("n"), 0, "invalid literal: expected null"},
    {T("t\xff\xff\xff"), 0, "invalid literal: expected true"},
    {T("nulls"), 4, "unexpected 's' after the JSON value"},
    {T("[truefalse]"), 5, "expected ',' or ']' in array, found 'f'"},
    {T("{a:1}"), 1, "expected a string key or '}', found 'a'"},
    /* BOM, empty, whitespace, trailing garbage */
    {T("\xEF\xBB\xBF{}"), 0, "expected a value, found byte 0xef"},
    {T(""), 0, "unexpected end of input, expected a value"},
    {T(" \t\r\n "), 5, "unexpected end of input, expected a value"},
    {T("\f1"), 0, "expected a value, found byte 0x0c"},
    {T("\v1"), 0, "expected a value, found byte 0x0b"},
    {T("\xC2\xA0"
       "1"),
     0, "expected a value, found byte 0xc2"},
    {T("\0"), 0, "expected a value, found byte 0x00"},
    {T("{} x"), 3, "unexpected 'x' after the JSON value"},
    {T("1 2"), 2, "unexpected '2' after the JSON value"},
    {T("[] []"), 3, "unexpected '[' after the JSON value"},
    {T("\"a\" \"b\""), 4, "unexpected '\"' after the JSON value"},
    {T("{}}"), 2, "unexpected '}' after the JSON value"},
    {T("[]]"), 2, "unexpected ']' after the JSON value"},
    {T("{\"a\":1}\0"), 7, "unexpected byte 0x00 after the JSON value"},
    {T("\"a\"\0"), 3, "unexpected byte 0x00 after the JSON value"},
    /* objects and arrays left open or malformed */
    {T("{\"a\" 1}"), 5, "expected ':' after object key, found '1'"},
    {T("{\"a\"}"), 4, "expected ':' after object key, found '}'"},
    {T("{\"a\":}"), 5, "expected a value, found '}'"},
    {T("{1:2}"), 1, "expected a string key or '}', found '1'"},
    {T("[1"), 2, "expected ',' or ']' in array, found end of input"},
    {T("{\"a\":1"), 6, "expected ',' or '}' in object, found end of input"},
    {T("["), 1, "unexpected end of input, expected a value"},
    {T("{"), 1, "expected a string key or '}', found end of input"},
    {T("{\"a\":"), 5, "unexpected end of input, expected a value"},
    {T("[1,"), 3, "unexpected end of input, expected a value"},
    {T("[}"), 1, "expected a value, found '}'"},
    {T("{]"), 1, "expected a string key or '}', found ']'"},
    {T("[1}"), 2, "expected ',' or ']' in array, found '}'"},
    /* escapes */
    {T("\"\\u0000\""), 1, "\\u0000 is not allowed in strings"},
    {T("\"a\\u0000b\""), 2, "\\u0000 is not allowed in strings"},
    {T("{\"\\u0000\":1}"), 2, "\\u0000 is not allowed in strings"},
    {T("\"\\ud800\""), 1, "high surrogate \\ud800 without low surrogate"},
    {T("\"\\uDBFF\""), 1, "high surrogate \\udbff without low surrogate"},
    {T("\"\\ud800\\u0041\""), 1, "high surrogate \\ud800 without low surrogate"},
    {T("\"\\ud800\\ud800\""), 1, "high surrogate \\ud800 without low surrogate"},
    {T("\"\\ud800x\""), 1, "high surrogate \\ud800 without low surrogate"},
    {T("\"\\ud800\\u12\""), 1, "high surrogate \\ud800 without low surrogate"},
    {T("\"\\ud800\\n\""), 1, "high surrogate \\ud800 without low surrogate"},
    {T("\"\\udc00\""), 1, "lone low surrogate \\udc00"},
    {T("\"x\\udfff\\ud800\""), 2, "lone low surrogate \\udfff"},
    {T("\"\\x\""), 1, "invalid escape '\\x' in string"},
    {T("\"\\a\""), 1, "invalid escape '\\a' in string"},
    {T("\"\\'\""), 1, "invalid escape '\\'' in string"},
    {T("\"\\U0041\""), 1, "invalid escape '\\U' in string"},
    {T("\"\\\xC3\xA9\""), 1, "invalid escape '\\?' in string"},
    {T("\"\\u12\""), 1, "invalid \\u escape: expected 4 hex digits"},
    {T("\"\\u12G4\""), 1, "invalid \\u escape: expected 4 hex digits"},
    {T("\"\\u-123\""), 1, "invalid \\u escape: expected 4 hex digits"},
    {T("\"\\u 123\""), 1, "invalid \\u escape: expected 4 hex digits"},
    {T("\"\\u\""), 1, "invalid \\u escape: expected 4 hex digits"},
    {T("\"\\ude0\""), 1, "invalid \\u escape: expected 4 hex digits"},
    {T("\"\\\0\""), 1, "invalid escape '\\?' in string"},
    {T("\"\\\x7f\""), 1, "invalid escape '\\?' in string"},
    /* raw control characters and NUL */
    {T("\"a\x01"
       "b\""),
     2, "control character 0x01 in string"},
    {T("\"a\nb\""), 2, "control character 0x0a in string"},
    {T("\"\t\""), 1, "control character 0x09 in string"},
    {T("\"\x1f\""), 1, "control character 0x1f in string"},
    {T("\"a\0b\""), 2, "control character 0x00 in string"},
    {T("{\"k\0\":1}"), 3, "control character 0x00 in string"},
    /* invalid UTF-8 in strings */
    {T("\"\xC0\x80\""), 1, "invalid UTF-8 in string"},
    {T("\"\xC1\xBF\""), 1, "invalid UTF-8 in string"},
    {T("\"\xE0\x80\x80\""), 1, "invalid UTF-8 in string"},
    {T("\"\xE0\x9F\xBF\""), 1, "invalid UTF-8 in string"},
    {T("\"\xED\xA0\x80\""), 1, "invalid UTF-8 in string"},
    {T("\"\xED\xBF\xBF\""), 1, "invalid UTF-8 in string"},
    {T("\"\xF0\x80\x80\x80\""), 1, "invalid UTF-8 in string"},
    {T("\"\xF0\x8F\xBF\xBF\""), 1, "invalid UTF-8 in string"},
    {T("\"\xF4\x90\x80\x80\""), 1, "invalid UTF-8 in string"},
    {T("\"\xF5\x80\x80\x80\""), 1, "invalid UTF-8 in string"},
    {T("\"\xF8\x88\x80\x80\x80\""), 1, "invalid UTF-8 in string"},
    {T("\"\xFE\""), 1, "invalid UTF-8 in string"},
    {T("\"\xFF\""), 1, "invalid UTF-8 in string"},
    {T("\"\x80\""), 1, "invalid UTF-8 in string"},
    {T("\"a\xBF\""), 2, "invalid UTF-8 in string"},
    {T("\"\xC3\""), 1, "invalid UTF-8 in string"},
    {T("\"\xE2\x82\""), 1, "invalid UTF-8 in string"},
    {T("\"\xF0\x9F\x98\""), 1, "invalid UTF-8 in string"},
    {T("\"\xE2\x82x\""), 1, "invalid UTF-8 in string"},
    {T("\"\xE2\x28\xA1\""), 1, "invalid UTF-8 in string"},
    {T("\"\xC3\xA9\xC3\""), 3, "invalid UTF-8 in string"},
    {T("{\"\xC0\xAF\":1}"), 2, "invalid UTF-8 in string"},
    {T("\xC3\xA9"), 0, "expected a value, found byte 0xc3"},
    /* unterminated strings: reported at the opening quote */
    {T("\""), 0, "unterminated string"},
    {T("\"abc"), 0, "unterminated string"},
    {T("\"abc\\"), 0, "unterminated string"},
    {T("\"abc\\\""), 0, "unterminated string"},
    {T("\"\\u"), 0, "unterminated string"},
    {T("\"\\u00"), 0, "unterminated string"},
    {T("\"\xC3"), 0, "unterminated string"},
    {T("[\"a"), 1, "unterminated string"},
    {T("{\"a"), 1, "unterminated string"},
    {T("{\"a\":\"b"), 5, "unterminated string"},
    /* duplicate keys: reported at the value of the repeated key */
    {T("{\"a\":1,\"a\":2}"), 11, "duplicate key \"a\" in object"},
    {T("{\"a\":1,\"b\":2,\"a\":3}"), 17, "duplicate key \"a\" in object"},
    {T("{\"a\":1,\"\\u0061\":2}"), 16, "duplicate key \"a\" in object"},
    {T("{\"\":1,\"\":2}"), 9, "duplicate key \"\" in object"},
    {T("[{\"x\":{\"y\":1,\"y\":1}}]"), 17, "duplicate key \"y\" in object"},
    {T("{\"\xC3\xA9\":1,\"\\u00e9\":2}"), 17, "duplicate key \"\xC3\xA9\" in object"},
};

static void test_rejects(void)
{
    for (size_t i = 0; i < sizeof(reject_cases) / sizeof(reject_cases[0]); i++) {
        const struct reject_case *c = &reject_cases[i];
        ajson_error err;
        const ajson_value *v = parse_text(c->text, c->len, &err);
        int ok = !v && err.offset == c->offset && strstr(err.msg, c->msg) != NULL;
        CHECK(ok);
        if (!ok) {
            fprintf(stderr, "  reject case %zu: want offset %zu \"%s\", got %s offset %zu \"%s\"\n",
                    i, c->offset, c->msg, v ? "accepted," : "", err.offset, err.msg);
            print_input("input", c->text, c->len);
        }
        diff_check("reject case", c->text, c->len);
    }
}

/* ---- accepted inputs ---- */

static const struct accept_case {
    const char *text;
    size_t len;
    ajson_type type;
} accept_cases[] = {
    {T("0"), AJSON_NUMBER},
    {T("-0"), AJSON_NUMBER},
    {T("0.0"), AJSON_NUMBER},
    {T("-0.0e-0"), AJSON_NUMBER},
    {T("1E+2"), AJSON_NUMBER},
    {T("1e2"), AJSON_NUMBER},
    {T("123456789"), AJSON_NUMBER},
    {T("-12.5e-3"), AJSON_NUMBER},
    {T("1e-400"), AJSON_NUMBER},
    {T("4.9e-324"), AJSON_NUMBER},
    {T("1.7976931348623157e308"), AJSON_NUMBER},
    {T("9223372036854775807"), AJSON_NUMBER},
    {T("-9223372036854775808"), AJSON_NUMBER},
    {T("0.1000000000000000055511151231257827021181583404541015625"), AJSON_NUMBER},
    {T(" 7 "), AJSON_NUMBER},
    {T("\t\r\n 7\t\r\n "), AJSON_NUMBER},
    {T("null"), AJSON_NULL},
    {T("true"), AJSON_TRUE},
    {T("false"), AJSON_FALSE},
    {T("\"\""), AJSON_STRING},
    {T("[]"), AJSON_ARRAY},
    {T(" [ ] "), AJSON_ARRAY},
    {T("[[]]"), AJSON_ARRAY},
    {T("[null,true,false,0,\"\",[],{}]"), AJSON_ARRAY},
    {T("{}"), AJSON_OBJECT},
    {T("{\"\":0}"), AJSON_OBJECT},
    {T("{\"a\":{\"a\":{\"a\":1}}}"), AJSON_OBJECT},
    {T("{\"a\":1,\"A\":2,\"a \":3,\"ab\":4,\"b\":5}"), AJSON_OBJECT},
    {T("{ \"a\" : [ 1 , { \"b\" : null } ] }"), AJSON_OBJECT},
    {T("{\"id\":\"x\",\"x\":{\"id\":\"y\"}}"), AJSON_OBJECT},
};

static void test_accepts(void)
{
    for (size_t i = 0; i < sizeof(accept_cases) / sizeof(accept_cases[0]); i++) {
        const struct accept_case *c = &accept_cases[i];
        ajson_error err;
        const ajson_value *v = parse_text(c->text, c->len, &err);
        CHECK(v && v->type == c->type);
        if (!v || v->type != c->type) {
            fprintf(stderr, "  accept case %zu: %s at %zu\n", i, v ? "wrong type" : err.msg,
                    err.offset);
            print_input("input", c->text, c->len);
        }
        diff_check("accept case", c->text, c->len);
    }
}

/* Strings decode to exactly these bytes. */
static const struct string_case {
    const char *json;
    const char *bytes;
    size_t len;
} string_cases[] = {
    {"\"\"", T("")},
    {"\"abc\"", T("abc")},
    {"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", T("\"\\/\b\f\n\r\t")},
    {"\"\\/\"", T("/")},
    {"\"a\\u0062c\"", T("abc")},
    {"\"\\u0001\\u001f\\u007f\"", T("\x01\x1f\x7f")},
    {"\"\\u0080\"", T("\xC2\x80")},
    {"\"\\u07FF\"", T("\xDF\xBF")},
    {"\"\\u0800\"", T("\xE0\xA0\x80")},
    {"\"\\u00e9\\u20AC\"", T("\xC3\xA9\xE2\x82\xAC")},
    {"\"\\ud7ff\\ue000\\uFFFF\"", T("\xED\x9F\xBF\xEE\x80\x80\xEF\xBF\xBF")},
    {"\"\\ud83d\\ude00\"", T("\xF0\x9F\x98\x80")},
    {"\"\\uD800\\uDC00\"", T("\xF0\x90\x80\x80")},
    {"\"\\uDBFF\\uDFFF\"", T("\xF4\x8F\xBF\xBF")},
    {"\"\\ud83d\\ude00x\\ud83d\\ude00\"", T("\xF0\x9F\x98\x80x\xF0\x9F\x98\x80")},
    {"\"\\\\u0000\"", T("\\u0000")},
    {"\"\\\\\"", T("\\")},
    {"\"\x7f\"", T("\x7f")},
    {"\"\xC2\x80\xDF\xBF\"", T("\xC2\x80\xDF\xBF")},
    {"\"\xED\x9F\xBF\xEE\x80\x80\"", T("\xED\x9F\xBF\xEE\x80\x80")},
    {"\"\xF0\x90\x80\x80\xF4\x8F\xBF\xBF\"", T("\xF0\x90\x80\x80\xF4\x8F\xBF\xBF")},
    {"\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"",
     T("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80")},
};

static void test_strings(void)
{
    for (size_t i = 0; i < sizeof(string_cases) / sizeof(string_cases[0]); i++) {
        const struct string_case *c = &string_cases[i];
        ajson_error err;
        const ajson_value *v = parse_text(c->json, strlen(c->json), &err);
        int ok = v && v->type == AJSON_STRING && v->len == c->len &&
                 memcmp(v->u.str, c->bytes, c->len) == 0 && v->u.str[c->len] == '\0' &&
                 ajson_str(v) == v->u.str;
        CHECK(ok);
        if (!ok) {
            fprintf(stderr, "  string case %zu: %s\n", i, v ? "wrong bytes" : err.msg);
            print_input("input", c->json, strlen(c->json));
        }
        diff_check("string case", c->json, strlen(c->json));
    }
    /* a key decodes like a value */
    ajson_error err;
    const ajson_value *v = parse_text(T("{\"\\u00e9\\n\":1}"), &err);
    CHECK(v && v->len == 1 && v->u.members[0].key_len == 3);
    CHECK(v && ajson_get(v, "\xC3\xA9\n") != NULL);
}

/*
 * The plain-run scan reads strings eight bytes at a time: a quote, a backslash, a control
 * character or a UTF-8 lead byte at every position of strings of 0-24 bytes (each word offset,
 * the tail after the last whole word), each compared with jansson.  A control character must be
 * refused, the others decoded exactly.
 */
static void test_string_positions(void)
{
    static const char *const specials[] = {"\\\"", "\\\\", "\x01", "\x1f", "\xC3\xA9", "\\n"};
    static const char *const want[] = {"\"", "\\", NULL, NULL, "\xC3\xA9", "\n"};
    char text[64], bytes[64];
    for (size_t n = 0; n <= 24; n++)
        for (size_t at = 0; at <= n; at++)
            for (size_t k = 0; k < sizeof(specials) / sizeof(specials[0]); k++) {
                size_t len = 0, blen = 0;
                text[len++] = '"';
                for (size_t i = 0; i < n; i++) {
                    if (i == at) {
                        memcpy(text + len, specials[k], strlen(specials[k]));
                        len += strlen(specials[k]);
                        if (want[k]) {
                            memcpy(bytes + blen, want[k], strlen(want[k]));
                            blen += strlen(want[k]);
                        }
                    }
                    text[len++] = (char)('a' + i % 26);
                    bytes[blen++] = (char)('a' + i % 26);
                }
                text[len++] = '"';
                ajson_error err;
                const ajson_value *v = parse_text(text, len, &err);
                int ok = want[k] || at == n ? v && v->type == AJSON_STRING && v->len == blen &&
                                                  memcmp(v->u.str, bytes, blen) == 0
                                            : !v;
                CHECK(ok);
                if (!ok)
                    print_input("string position case", text, len);
                diff_check("string position case", text, len);
            }
}

/* ---- documented differences from jansson ---- */

static const struct diff_case {
    const char *text;
    size_t len;
    diff_outcome want;
} diff_cases[] = {
    {T("9223372036854775808"), DIFF_BIG_NUMBER},
    {T("-9223372036854775809"), DIFF_BIG_NUMBER},
    {T("[1,100000000000000000000000000000]"), DIFF_BIG_NUMBER},
    {T("1e400"), DIFF_BIG_NUMBER},
    {T("-1e400"), DIFF_BIG_NUMBER},
    {T("{\"x\":1.8e308}"), DIFF_BIG_NUMBER},
    {T("1\0"), DIFF_NUL_AFTER_TOKEN},
    {T("-1.5e3\0"), DIFF_NUL_AFTER_TOKEN},
    {T("[true\0]"), DIFF_NUL_AFTER_TOKEN},
    {T("{\"a\":null\0}"), DIFF_NUL_AFTER_TOKEN},
    {T("[1\0,false\0]"), DIFF_NUL_AFTER_TOKEN},
    /* where jansson does not drop the NUL, both reject */
    {T("1\0\0"), DIFF_BOTH_REJECT},
    {T("1\0.5"), DIFF_BOTH_REJECT},
    {T("\"a\"\0"), DIFF_BOTH_REJECT},
    {T("[1.\0]"), DIFF_BOTH_REJECT},
    {T("1.5e400x"), DIFF_BOTH_REJECT},
};

static void test_documented_differences(void)
{
    for (size_t i = 0; i < sizeof(diff_cases) / sizeof(diff_cases[0]); i++) {
        why w;
        diff_outcome rc = diff_one(diff_cases[i].text, diff_cases[i].len, &w);
        CHECK(rc == diff_cases[i].want);
        if (rc != diff_cases[i].want) {
            fprintf(stderr, "  diff case %zu: want \"%s\", got \"%s\" %s\n", i,
                    diff_names[diff_cases[i].want], diff_names[rc], w.msg);
            print_input("input", diff_cases[i].text, diff_cases[i].len);
        }
    }
    /* found by fuzzing: 33 levels, a NUL that jansson drops, then 68 levels more */
    char deep[205];
    memset(deep, '[', 33);
    memcpy(deep + 33, "8\0,", 3);
    memset(deep + 36, '[', 68);
    memset(deep + 104, ']', 101);
    why w;
    CHECK(diff_one(deep, sizeof(deep), &w) == DIFF_NUL_AFTER_TOKEN);
}

/* ---- accessors, offsets, order ---- */

static const ajson_value *number(const char *text)
{
    ajson_error err;
    const ajson_value *v = parse_text(text, strlen(text), &err);
    return v && v->type == AJSON_NUMBER ? v : NULL;
}

static void test_int(void)
{
    int64_t x = 42;
    CHECK(ajson_int(number("0"), &x) && x == 0);
    CHECK(ajson_int(number("-0"), &x) && x == 0);
    CHECK(ajson_int(number("-17"), &x) && x == -17);
    CHECK(ajson_int(number("9223372036854775807"), &x) && x == INT64_MAX);
    CHECK(ajson_int(number("-9223372036854775808"), &x) && x == INT64_MIN);
    x = 42;
    CHECK(!ajson_int(number("9223372036854775808"), &x));
    CHECK(!ajson_int(number("-9223372036854775809"), &x));
    CHECK(!ajson_int(number("100000000000000000000000"), &x));
    CHECK(!ajson_int(number("1e2"), &x));
    CHECK(!ajson_int(number("1E2"), &x));
    CHECK(!ajson_int(number("1.0"), &x));
    CHECK(!ajson_int(number("-0.0"), &x));
    CHECK(x == 42);
    ajson_error err;
    CHECK(!ajson_int(parse_text(T("\"1\""), &err), &x));
    CHECK(!ajson_int(parse_text(T("true"), &err), &x));
    CHECK(!ajson_int(NULL, &x));
}

static void test_double(void)
{
    double d = 0;
    CHECK(ajson_double(number("1e2"), &d) && d == 100.0);
    CHECK(ajson_double(number("1.5"), &d) && d == 1.5);
    CHECK(ajson_double(number("-0"), &d) && d == 0 && signbit(d));
    CHECK(ajson_double(number("-0.0"), &d) && d == 0 && signbit(d));
    CHECK(ajson_double(number("0.1"), &d) && d == 0.1);
    CHECK(ajson_double(number("9007199254740993"), &d) && d == 9007199254740992.0);
    CHECK(ajson_double(number("1e400"), &d) && isinf(d) && d > 0);
    CHECK(ajson_double(number("-1e400"), &d) && isinf(d) && d < 0);
    CHECK(ajson_double(number("1e-400"), &d) && d == 0);
    CHECK(ajson_double(number("4.9e-324"), &d) && d > 0);
    ajson_error err;
    CHECK(!ajson_double(parse_text(T("null"), &err), &d));
    CHECK(!ajson_double(NULL, &d));
}

static void test_scalars(void)
{
    ajson_error err;
    int b = -1;
    CHECK(ajson_bool(parse_text(T("true"), &err), &b) && b == 1);
    CHECK(ajson_bool(parse_text(T("false"), &err), &b) && b == 0);
    CHECK(!ajson_bool(parse_text(T("null"), &err), &b));
    CHECK(!ajson_bool(parse_text(T("0"), &err), &b));
    CHECK(!ajson_bool(NULL, &b));
    CHECK_STR(ajson_str(parse_text(T("\"x\""), &err)), "x");
    CHECK(ajson_str(parse_text(T("1"), &err)) == NULL);
    CHECK(ajson_str(parse_text(T("null"), &err)) == NULL);
    CHECK(ajson_str(NULL) == NULL);
    const ajson_value *v = parse_text(T("12.50"), &err);
    CHECK(v && v->len == 5);
    CHECK_STR(v ? v->u.str : NULL, "12.50"); /* the text as written */
    CHECK_STR(ajson_type_name(AJSON_NULL), "null");
    CHECK_STR(ajson_type_name(AJSON_TRUE), "boolean");
    CHECK_STR(ajson_type_name(AJSON_FALSE), "boolean");
    CHECK_STR(ajson_type_name(AJSON_NUMBER), "number");
    CHECK_STR(ajson_type_name(AJSON_STRING), "string");
    CHECK_STR(ajson_type_name(AJSON_ARRAY), "array");
    CHECK_STR(ajson_type_name(AJSON_OBJECT), "object");
}

static void test_get_and_order(void)
{
    static const char text[] = "{\"z\":1,\"a\":2,\"m\":{\"k\":\"v\"},\"\":3,\"a\\u0062\":4}";
    ajson_error err;
    const ajson_value *o = parse_text(text, sizeof(text) - 1, &err);
    CHECK(o && o->type == AJSON_OBJECT && o->len == 5);
    if (!o || o->len != 5)
        return;
    static const char *const order[] = {"z", "a", "m", "", "ab"};
    for (size_t i = 0; i < 5; i++)
        CHECK_STR(o->u.members[i].key, order[i]);
    int64_t x = 0;
    CHECK(ajson_int(ajson_get(o, "a"), &x) && x == 2);
    CHECK(ajson_int(ajson_get(o, ""), &x) && x == 3);
    CHECK(ajson_int(ajson_get(o, "ab"), &x) && x == 4);
    CHECK_STR(ajson_str(ajson_get(ajson_get(o, "m"), "k")), "v");
    CHECK(ajson_get(o, "b") == NULL);
    CHECK(ajson_get(o, "A") == NULL);
    CHECK(ajson_get(o, "a ") == NULL);
    CHECK(ajson_get(o, "k") == NULL); /* not found through a nested object */
    CHECK(ajson_get(ajson_get(o, "z"), "a") == NULL);
    CHECK(ajson_get(NULL, "a") == NULL);
    const ajson_value *arr = parse_text(T("[3,1,2]"), &err);
    CHECK(arr && arr->len == 3 && ajson_get(arr, "0") == NULL);
    CHECK(arr && ajson_int(&arr->u.items[0], &x) && x == 3);
    CHECK(arr && ajson_int(&arr->u.items[2], &x) && x == 2);
}

static void test_offsets(void)
{
    static const char text[] = "{\"a\": [1, \"x\"], \"b\" : true, \"c\":{\"d\":null}}";
    ajson_error err;
    const ajson_value *o = parse_text(text, sizeof(text) - 1, &err);
    CHECK(o && o->offset == 0);
    const ajson_value *a = ajson_get(o, "a");
    CHECK(a && a->offset == 6 && a->len == 2);
    CHECK(a && a->u.items[0].offset == 7 && a->u.items[1].offset == 10);
    CHECK(ajson_get(o, "b") && ajson_get(o, "b")->offset == 22);
    CHECK(ajson_get(o, "c") && ajson_get(o, "c")->offset == 32);
    CHECK(ajson_get(ajson_get(o, "c"), "d") && ajson_get(ajson_get(o, "c"), "d")->offset == 37);
    const ajson_value *v = parse_text(T("  \n [1]"), &err);
    CHECK(v && v->offset == 4 && v->u.items[0].offset == 5);
}

/* ---- duplicate keys, depth, the arena cap ---- */

/* Writes {"k0":0,...,"k<n-1>":n-1} (and a repeat of key "k<dup>" when dup >= 0) into buf. */
static size_t object_with_keys(char *buf, size_t cap, int n, int dup)
{
    size_t len = 0;
    buf[len++] = '{';
    for (int i = 0; i < n && len + 32 < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s\"k%d\":%d", i ? "," : "", i, i);
    if (dup >= 0)
        len += (size_t)snprintf(buf + len, cap - len, ",\"k%d\":-1", dup);
    buf[len++] = '}';
    return len;
}

static void test_duplicates(void)
{
    static char buf[64 * 1024];
    ajson_error err;
    int sizes[] = {2, 31, 32, 33, 40, 1000};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        size_t len = object_with_keys(buf, sizeof(buf), sizes[i], -1);
        const ajson_value *v = parse_text(buf, len, &err);
        CHECK(v && v->len == (size_t)sizes[i]);
        diff_check("distinct keys", buf, len);
        int dup = sizes[i] / 2;
        len = object_with_keys(buf, sizeof(buf), sizes[i], dup);
        v = parse_text(buf, len, &err);
        char want[32];
        snprintf(want, sizeof(want), "duplicate key \"k%d\"", dup);
        CHECK(!v && strstr(err.msg, want) && err.offset == len - 3);
        diff_check("repeated key", buf, len);
    }
    /* with several repeats the first one in the text is reported, small object or large */
    for (int n = 4; n <= 400; n *= 10) {
        size_t len = object_with_keys(buf, sizeof(buf), n, -1);
        len--; /* drop '}' */
        len += (size_t)snprintf(buf + len, sizeof(buf) - len, ",\"k3\":7,\"k1\":8,\"k3\":9}");
        CHECK(!parse_text(buf, len, &err) && strstr(err.msg, "duplicate key \"k3\"") &&
              err.offset == len - 16);
    }
}

/* Writes depth levels of nesting: [[[...]]] or {"a":{"a":...}}; inner is placed in the middle. */
static size_t nested(char *buf, size_t cap, size_t depth, int objects, const char *inner)
{
    static const char open_object[] = "{\"a\":";
    const char *open = objects ? open_object : "[";
    size_t len = 0, in = strlen(inner), k = strlen(open);
    for (size_t i = 0; i < depth && len + k < cap; i++, len += k)
        memcpy(buf + len, open, k);
    if (len + in < cap) {
        memcpy(buf + len, inner, in);
        len += in;
    }
    for (size_t i = 0; i < depth && len < cap; i++)
        buf[len++] = objects ? '}' : ']';
    return len;
}

static void test_depth(void)
{
    static char buf[64 * 1024];
    ajson_error err;
    for (int objects = 0; objects <= 1; objects++) {
        size_t len = nested(buf, sizeof(buf), AJSON_MAX_DEPTH, objects, objects ? "1" : "");
        if (objects) { /* {"a":1} nested: 100 objects plus the number is 101 levels */
            CHECK(!parse_text(buf, len, &err));
            len = nested(buf, sizeof(buf), AJSON_MAX_DEPTH - 1, objects, "1");
        }
        CHECK(parse_text(buf, len, &err) != NULL);
        diff_check("depth max", buf, len);
        len = nested(buf, sizeof(buf), AJSON_MAX_DEPTH + 1, objects, objects ? "1" : "");
        CHECK(!parse_text(buf, len, &err) && strstr(err.msg, "nesting deeper than 100 levels"));
        CHECK(diff_check("depth max + 1", buf, len) == DIFF_DEPTH);
    }
    /* the error is at the first value too deep */
    size_t len = nested(buf, sizeof(buf), AJSON_MAX_DEPTH + 1, 0, "");
    CHECK(!parse_text(buf, len, &err) && err.offset == AJSON_MAX_DEPTH);
    len = nested(buf, sizeof(buf), AJSON_MAX_DEPTH, 0, "7");
    CHECK(!parse_text(buf, len, &err) && err.offset == AJSON_MAX_DEPTH);
    /* jansson's own limit: 2048 levels; beyond it both reject */
    len = nested(buf, sizeof(buf), 2048, 0, "");
    CHECK(diff_check("depth 2048", buf, len) == DIFF_DEPTH);
    len = nested(buf, sizeof(buf), 2049, 0, "");
    CHECK(diff_check("depth 2049", buf, len) == DIFF_BOTH_REJECT);
    /* hostile depth: rejected without deep recursion, closed or not */
    for (int objects = 0; objects <= 1; objects++) {
        len = nested(buf, sizeof(buf), 10000, objects, "0");
        CHECK(len > 20000 && !parse_text(buf, len, &err) && strstr(err.msg, "nesting deeper"));
        CHECK(!parse_text(buf, len / 2, &err) && strstr(err.msg, "nesting deeper"));
        diff_check("depth 10000", buf, len);
    }
}

static void test_arena_cap(void)
{
    static char big[10 * 1024 + 3];
    ajson_arena a;
    ajson_error err;
    ajson_arena_init(&a, 4096);
    big[0] = '"';
    memset(big + 1, 'x', sizeof(big) - 3);
    big[sizeof(big) - 2] = '"';
    const ajson_value *v = ajson_parse(&a, big, sizeof(big) - 1, &err);
    CHECK(!v && strstr(err.msg, "too large") && err.offset == 1);
    /* the same arena parses a small document after a reset, and after no reset */
    v = ajson_parse(&a, T("{\"a\":[1,2]}"), &err);
    CHECK(v && v->len == 1);
    ajson_arena_reset(&a);
    v = ajson_parse(&a, T("\"short\""), &err);
    CHECK_STR(ajson_str(v), "short");
    /* many small values exhaust the cap as surely as one big one */
    size_t len = 0;
    big[len++] = '[';
    while (len + 3 < sizeof(big)) {
        big[len++] = '1';
        big[len++] = ',';
    }
    big[len++] = '1';
    big[len++] = ']';
    ajson_arena_reset(&a);
    CHECK(!ajson_parse(&a, big, len, &err) && strstr(err.msg, "too large"));
    ajson_arena_free(&a);
    /* the default cap takes the same documents */
    ajson_arena_init(&a, 0);
    CHECK(ajson_parse(&a, big, len, &err) != NULL);
    ajson_arena_free(&a);
    ajson_arena_free(NULL);
    /* a fresh arena, allocation alignment and the cap on ajson_arena_alloc itself */
    ajson_arena_init(&a, 4096);
    void *p = ajson_arena_alloc(&a, 3), *q = ajson_arena_alloc(&a, 5);
    CHECK(p && q && ((uintptr_t)q & 7) == 0 && (char *)q - (char *)p == 8);
    CHECK(ajson_arena_alloc(&a, 4096) == NULL);
    CHECK(ajson_arena_alloc(&a, 4000) != NULL);
    ajson_arena_free(&a);
}

/* ---- ajson_minify ---- */

static const struct minify_case {
    const char *in, *out;
} minify_cases[] = {
    {"", ""},
    {" \t\r\n", ""},
    {"{ \"a\" : [ 1 , 2 ] }", "{\"a\":[1,2]}"},
    {"\n{\n\t\"a\": true,\r\n\t\"b\": null\n}\n", "{\"a\":true,\"b\":null}"},
    {"\" a  b \"", "\" a  b \""},
    {"[ \"x \\\" y\" , \"z\" ]", "[\"x \\\" y\",\"z\"]"},
    {"{ \"k\" : \"\\\\\" , \"l\" : \" \" }", "{\"k\":\"\\\\\",\"l\":\" \"}"},
    {"[ \"\\\\\\\" \" , 1 ]", "[\"\\\\\\\" \",1]"},
    {"[\"\\\\\" , \"\\\\\\\\\" ]", "[\"\\\\\",\"\\\\\\\\\"]"},
    {"{ \"caf\xC3\xA9 \" : \" \xE2\x82\xAC \" }", "{\"caf\xC3\xA9 \":\" \xE2\x82\xAC \"}"},
    {"[ \"\\u0020\" ,\"\\t\" ]", "[\"\\u0020\",\"\\t\"]"},
    {"[1 , -2.5e+3 ]", "[1,-2.5e+3]"},
};

static void test_minify(void)
{
    char out[256];
    for (size_t i = 0; i < sizeof(minify_cases) / sizeof(minify_cases[0]); i++) {
        const struct minify_case *c = &minify_cases[i];
        size_t n = ajson_minify(c->in, strlen(c->in), out);
        CHECK(n == strlen(c->out) && memcmp(out, c->out, n) == 0);
        if (n != strlen(c->out) || memcmp(out, c->out, n) != 0) {
            fprintf(stderr, "  minify case %zu:\n", i);
            print_input("got", out, n);
        }
        if (*c->in)
            diff_check("minify case", c->in, strlen(c->in)); /* round trip through minify */
    }
}

/* ---- mutations ---- */

static const char *const seeds[] = {
    "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--8e2e2d2b-17d4-4cbf-938f-"
    "98ee46b3cd3f\",\"created\":\"2016-04-06T20:03:48.000Z\",\"modified\":\"2016-04-06T20:03:48."
    "000Z\",\"name\":\"Poison Ivy\",\"pattern\":\"[file:hashes.'SHA-256' = '4bac27393bdd9777ce0245"
    "3256c5577cd02275510b2227f473d03f533924f877']\",\"pattern_type\":\"stix\",\"valid_from\":"
    "\"2016-01-01T00:00:00Z\",\"labels\":[\"malicious-activity\"],\"confidence\":85}",
    "{\"type\":\"ipv4-addr\",\"id\":\"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd\","
    "\"value\":\"198.51.100.3\"}",
    "{\"type\":\"relationship\",\"source_ref\":\"a--1\",\"target_ref\":\"b--2\",\"x\":[1,-2.5e+3,"
    "0.0,-0,1E9,true,false,null]}",
    "[\"\\u00e9\\ud83d\\ude00\",\"caf\xC3\xA9\",\"\\\"\\\\\\/"
    "\\b\\f\\n\\r\\t\",\"\xF4\x8F\xBF\xBF\"]",
    "{\"a\":{\"b\":[{\"c\":\"d\"},[[]],{}]},\"e\":\"\"}",
    " [ 1 , 2 ] ",
    "\"\\ud800\\udc00\"",
    "-12.5e-3",
    "{\"k0\":0,\"k1\":1,\"k2\":2,\"k3\":3,\"k4\":4,\"k5\":5,\"k6\":6,\"k7\":7,\"k8\":8,\"k9\":9,"
    "\"k10\":0,\"k11\":1,\"k12\":2,\"k13\":3,\"k14\":4,\"k15\":5,\"k16\":6,\"k17\":7,\"k18\":8,"
    "\"k19\":9,\"k20\":0,\"k21\":1,\"k22\":2,\"k23\":3,\"k24\":4,\"k25\":5,\"k26\":6,\"k27\":7,"
    "\"k28\":8,\"k29\":9,\"k30\":0,\"k31\":1,\"k32\":2,\"k33\":3}",
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
    "[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
    "]]]]]]]]]]]]]]]]",
    "9223372036854775807",
    "true",
};

static const char interesting[] = "{}[],:\"\\ 0123456789-+.eEu\0\x7f\x80\xbf\xc0\xc3\xed\xa0\xf4"
                                  "\x90\xff\ntrfalsnd/x";

/* Applies one random edit to buf[0..*len) (capacity cap). */
static void mutate_once(char *buf, size_t *len, size_t cap)
{
    size_t n = *len, at = t_rnd_below(n + 1);
    char c = interesting[t_rnd_below(sizeof(interesting) - 1)];
    switch (t_rnd_below(6)) {
    case 0: /* flip a bit */
        if (at < n)
            buf[at] = (char)(buf[at] ^ (1 << t_rnd_below(8)));
        break;
    case 1: /* overwrite with an interesting byte */
        if (at < n)
            buf[at] = c;
        break;
    case 2: /* insert an interesting byte */
    case 3:
        if (n < cap) {
            memmove(buf + at + 1, buf + at, n - at);
            buf[at] = (t_rnd() & 7) ? c : (char)t_rnd();
            n++;
        }
        break;
    case 4: /* delete a run */
        if (at < n) {
            size_t k = 1 + t_rnd_below(n - at < 4 ? n - at : 4);
            memmove(buf + at, buf + at + k, n - at - k);
            n -= k;
        }
        break;
    default: { /* copy a slice of the buffer over another place */
        size_t from = t_rnd_below(n), k = t_rnd_below(16);
        if (from + k <= n && at + k <= n)
            memmove(buf + at, buf + from, k);
        break;
    }
    }
    *len = n;
}

static void test_mutations(void)
{
    static char buf[4096];
    size_t nseeds = sizeof(seeds) / sizeof(seeds[0]);
    unsigned long before[DIFF_N];
    memcpy(before, diff_counts, sizeof(before));
    for (int i = 0; i < MUTATIONS; i++) {
        const char *seed = seeds[t_rnd_below(nseeds)];
        size_t len = strlen(seed);
        memcpy(buf, seed, len);
        for (size_t k = 1 + t_rnd_below(3); k > 0; k--)
            mutate_once(buf, &len, sizeof(buf));
        diff_check("mutation", buf, len);
    }
    printf("mutations: %d inputs:", MUTATIONS);
    for (int k = 0; k < DIFF_N; k++)
        printf(" %s %lu%s", diff_names[k], diff_counts[k] - before[k], k + 1 < DIFF_N ? "," : "\n");
    CHECK(diff_counts[DIFF_BOTH_ACCEPT] > before[DIFF_BOTH_ACCEPT] + MUTATIONS / 20);
}

/* ---- the shared data set ---- */

static struct {
    unsigned long files, skipped, lines;
} shared;

static char *read_file(const char *path, size_t size)
{
    FILE *f = fopen(path, "rb");
    char *buf = malloc(size ? size : 1);
    if (!f || !buf || fread(buf, 1, size, f) != size) {
        free(buf);
        buf = NULL;
    }
    if (f)
        fclose(f);
    return buf;
}

/* A file both parsers reject whole may be JSON lines: compare each line as well. */
static void diff_lines(const char *path, const char *text, size_t len)
{
    const char *p = text, *end = text + len;
    for (int n = 0; p < end && n < LINES_PER_FILE_MAX; n++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        if (eol > p) {
            diff_check(path, p, (size_t)(eol - p));
            shared.lines++;
        }
        p = eol + 1;
    }
}

/* JSON lines: a file whose first line alone is a JSON value but that has more lines. */
static int first_line_is_json(const char *text, size_t len)
{
    const char *nl = memchr(text, '\n', len);
    ajson_error err;
    return nl && parse_text(text, (size_t)(nl - text), &err) != NULL;
}

static int visit(const char *path, const struct stat *st, int kind, struct FTW *ftw)
{
    size_t n = strlen(path);
    (void)ftw;
    if (kind != FTW_F || n < 5 || strcmp(path + n - 5, ".json") != 0)
        return 0;
    if ((size_t)st->st_size > SHARED_FILE_MAX) {
        shared.skipped++;
        return 0;
    }
    char *text = read_file(path, (size_t)st->st_size);
    CHECK(text != NULL);
    if (!text)
        return 0;
    shared.files++;
    if (diff_check(path, text, (size_t)st->st_size) == DIFF_BOTH_REJECT &&
        first_line_is_json(text, (size_t)st->st_size))
        diff_lines(path, text, (size_t)st->st_size);
    free(text);
    return 0;
}

static void test_shared_data(void)
{
    const char *dir = t_shared_data();
    if (!dir) {
        printf("shared data: not found, skipped\n");
        return;
    }
    unsigned long before[DIFF_N];
    memcpy(before, diff_counts, sizeof(before));
    CHECK(nftw(dir, visit, 16, FTW_PHYS) == 0);
    printf("shared data: %lu files (%lu over 50 MB skipped), %lu lines of rejected files:",
           shared.files, shared.skipped, shared.lines);
    for (int k = 0; k < DIFF_N; k++)
        printf(" %s %lu%s", diff_names[k], diff_counts[k] - before[k], k + 1 < DIFF_N ? "," : "\n");
}

int main(void)
{
    ajson_arena_init(&g_arena, 0);
    test_rejects();
    test_accepts();
    test_strings();
    test_string_positions();
    test_documented_differences();
    test_int();
    test_double();
    test_scalars();
    test_get_and_order();
    test_offsets();
    test_duplicates();
    test_depth();
    test_arena_cap();
    test_minify();
    test_mutations();
    test_shared_data();
    ajson_arena_free(&g_arena);
    return t_done();
}
