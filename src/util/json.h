/*
 * json.h - a strict, fast JSON parser into an arena-allocated tree.
 *
 * Why not jansson: accord parses every object it imports, and jansson builds its tree at about
 * 34 MB/s per core, which alone caps import below 100,000 objects/s (bench/json measures both).
 * This parser builds a read-only tree in one arena that is reset between documents, and is tested
 * differentially against jansson (tests/unit/test_json.c, fuzz/json_diff.c).
 *
 * Strictness (what jansson in its strict mode rejects too): RFC 8259 grammar only; invalid UTF-8;
 * raw control characters in strings; "\u0000"; lone or mis-ordered surrogate escapes; duplicate
 * keys in one object; nesting deeper than JSON_MAX_DEPTH; trailing bytes after the value.
 *
 * Ownership: every value, string and array lives in the json_arena passed to json_parse, and is
 * valid until that arena is reset or freed.  This module never sees accord types.
 */
#ifndef ACCORD_UTIL_JSON_H
#define ACCORD_UTIL_JSON_H

#include <stddef.h>
#include <stdint.h>

#define JSON_MAX_DEPTH 100

typedef enum json_type {
    JSON_NULL = 0,
    JSON_FALSE,
    JSON_TRUE,
    JSON_NUMBER,
    JSON_STRING,
    JSON_ARRAY,
    JSON_OBJECT,
} json_type;

typedef struct json_value json_value;
typedef struct json_member json_member;

struct json_value {
    json_type type;
    uint32_t offset; /* byte offset of the value's first byte in the parsed text */
    size_t len;      /* STRING: bytes; NUMBER: bytes of its text; ARRAY: items; OBJECT: members */
    union {
        const char *str;      /* STRING: unescaped UTF-8, NUL-terminated (never contains NUL);
                                 NUMBER: the number's text exactly as written, NUL-terminated */
        json_value *items;    /* ARRAY */
        json_member *members; /* OBJECT, in document order */
    } u;
};

struct json_member {
    const char *key; /* unescaped, NUL-terminated */
    size_t key_len;
    json_value value;
};

/* A bump allocator in blocks; reset keeps the first block for reuse. */
typedef struct json_arena {
    struct json_block *head;
    size_t cap;  /* hard cap on total bytes; 0 = 256 MiB */
    size_t used; /* bytes handed out since the last reset */
    unsigned char *stack; /* scratch stack for the items of open arrays and objects */
    size_t stack_len, stack_cap;
} json_arena;

typedef struct json_error {
    size_t offset; /* byte offset in the parsed text where the error was found */
    char msg[160];
} json_error;

void json_arena_init(json_arena *a, size_t cap);
void json_arena_reset(json_arena *a);
void json_arena_free(json_arena *a);
/* Allocates n bytes aligned to 8 from the arena; NULL when the cap is reached or malloc fails. */
void *json_arena_alloc(json_arena *a, size_t n);

/*
 * Parses exactly one JSON value spanning text[0..len) (whitespace around it allowed).  On success
 * returns the root (in arena a); on failure NULL, with err->offset and err->msg set
 * ("expected ':' after object key", "duplicate key \"id\"", "invalid UTF-8 in string", ...).
 */
const json_value *json_parse(json_arena *a, const char *text, size_t len, json_error *err);

/* Member `key` of an object, or NULL (also when obj is NULL or not an object). */
const json_value *json_get(const json_value *obj, const char *key);
/* The string of a STRING value, or NULL when v is NULL or not a string. */
const char *json_str(const json_value *v);
/* 1 when v is a NUMBER written as an integer (no fraction/exponent) that fits int64, stored in *out. */
int json_int(const json_value *v, int64_t *out);
/* 1 when v is a NUMBER, its value as a double in *out. */
int json_double(const json_value *v, double *out);
/* 1 for JSON_TRUE / JSON_FALSE, with the truth in *out. */
int json_bool(const json_value *v, int *out);
/* The type's name: "null", "boolean", "number", "string", "array", "object". */
const char *json_type_name(json_type t);

/*
 * Copies text[0..len) to out without insignificant whitespace (out must hold len bytes); returns
 * the new length.  The input must be valid JSON: strings are copied byte for byte.
 */
size_t json_minify(const char *text, size_t len, char *out);

#endif
