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
 * keys in one object; nesting deeper than AJSON_MAX_DEPTH; trailing bytes after the value.
 *
 * Ownership: every value, string and array lives in the ajson_arena passed to ajson_parse, and is
 * valid until that arena is reset or freed.  This module never sees accord types.
 */
#ifndef ACCORD_UTIL_JSON_H
#define ACCORD_UTIL_JSON_H

#include <stddef.h>
#include <stdint.h>

#define AJSON_MAX_DEPTH 100

/* One byte (a GNU attribute both gcc and clang take), so a value keeps its 24 bytes with flags. */
typedef enum __attribute__((packed)) ajson_type {
    AJSON_NULL = 0,
    AJSON_FALSE,
    AJSON_TRUE,
    AJSON_NUMBER,
    AJSON_STRING,
    AJSON_ARRAY,
    AJSON_OBJECT,
} ajson_type;

typedef struct ajson_value ajson_value;
typedef struct ajson_member ajson_member;

/*
 * Flags ajson_parse sets on every value it makes (a value built otherwise has none):
 *   AJSON_CANON   the value's bytes in the parsed text are already in RFC 8785 form, as far as
 *                 the parser tells: no whitespace between its tokens, object members in the
 *                 order of the UTF-16 code units of their keys, strings escaped exactly as RFC
 *                 8785 escapes them (only '"', '\\' and C0 controls; \b \t \n \f \r by name,
 *                 the others as \u00xx in lower case), integer literals other than -0 of at
 *                 most 2^53 in magnitude; numbers with a fraction or exponent are left to
 *   AJSON_FLOATS  the value holds a number with a fraction or an exponent, whose spelling the
 *                 parser does not judge (src/jcs.c does, jcs_parsed_canonical).
 * A copy of a value keeps its flags, so they speak of a tree only as ajson_parse returned it.
 */
#define AJSON_CANON 0x01u
#define AJSON_FLOATS 0x02u

struct ajson_value {
    ajson_type type;
    uint8_t flags;   /* AJSON_CANON, AJSON_FLOATS */
    uint32_t offset; /* byte offset of the value's first byte in the parsed text */
    size_t len;      /* STRING: bytes; NUMBER: bytes of its text; ARRAY: items; OBJECT: members */
    union {
        const char *str;      /* STRING: unescaped UTF-8, NUL-terminated (never contains NUL);
                                 NUMBER: the number's text exactly as written, NUL-terminated */
        ajson_value *items;    /* ARRAY */
        ajson_member *members; /* OBJECT, in document order */
    } u;
};

struct ajson_member {
    const char *key; /* unescaped, NUL-terminated */
    size_t key_len;
    ajson_value value;
};

/* A bump allocator in blocks; reset keeps the first block for reuse. */
typedef struct ajson_arena {
    struct ajson_block *head;
    size_t cap;  /* hard cap on total bytes; 0 = 256 MiB */
    size_t used; /* bytes handed out since the last reset */
    unsigned char *stack; /* scratch stack for the items of open arrays and objects */
    size_t stack_len, stack_cap;
} ajson_arena;

typedef struct ajson_error {
    size_t offset; /* byte offset in the parsed text where the error was found */
    char msg[160];
} ajson_error;

void ajson_arena_init(ajson_arena *a, size_t cap);
void ajson_arena_reset(ajson_arena *a);
void ajson_arena_free(ajson_arena *a);
/* Allocates n bytes aligned to 8 from the arena; NULL when the cap is reached or malloc fails. */
void *ajson_arena_alloc(ajson_arena *a, size_t n);
/* Copies s[0..len) into the arena with a terminating NUL; NULL as ajson_arena_alloc. */
char *ajson_arena_strndup(ajson_arena *a, const char *s, size_t len);

/*
 * Parses exactly one JSON value spanning text[0..len) (whitespace around it allowed).  On success
 * returns the root (in arena a); on failure NULL, with err->offset and err->msg set
 * ("expected ':' after object key", "duplicate key \"id\"", "invalid UTF-8 in string", ...).
 */
const ajson_value *ajson_parse(ajson_arena *a, const char *text, size_t len, ajson_error *err);

/* RFC 8785 key order (UTF-16 code units) of UTF-8 keys a and b: <0, 0 or >0. */
int ajson_key_cmp(const char *a, size_t alen, const char *b, size_t blen);
/* Member `key` of an object, or NULL (also when obj is NULL or not an object). */
const ajson_value *ajson_get(const ajson_value *obj, const char *key);
/* The string of a STRING value, or NULL when v is NULL or not a string. */
const char *ajson_str(const ajson_value *v);
/* 1 when v is a NUMBER written as an integer (no fraction/exponent) that fits int64, stored in *out. */
int ajson_int(const ajson_value *v, int64_t *out);
/* 1 when v is a NUMBER, its value as a double in *out. */
int ajson_double(const ajson_value *v, double *out);
/* 1 for AJSON_TRUE / AJSON_FALSE, with the truth in *out. */
int ajson_bool(const ajson_value *v, int *out);
/* The type's name: "null", "boolean", "number", "string", "array", "object". */
const char *ajson_type_name(ajson_type t);

/*
 * Copies text[0..len) to out without insignificant whitespace (out must hold len bytes); returns
 * the new length.  The input must be valid JSON: strings are copied byte for byte.
 */
size_t ajson_minify(const char *text, size_t len, char *out);

/*
 * Length of the valid UTF-8 sequence at p (left bytes available, left >= 1): 1 for ASCII, 0 when p
 * starts no valid sequence (overlong forms, UTF-16 surrogates, code points above U+10FFFF, a
 * sequence cut short; RFC 3629).
 */
size_t ajson_utf8_seq(const unsigned char *p, size_t left);

#endif
