/*
 * json.c - a strict recursive-descent JSON parser into an arena.
 *
 * The parser walks the text once.  Items of an array or members of an object are first pushed on
 * a scratch stack owned by the arena (reused across documents); when the container closes they are
 * copied into one exact-size block of the arena, so a tree costs one allocation per container and
 * one per string, all bump allocations.  Strings are unescaped and NUL-terminated; numbers keep the
 * text they were written with, so nothing is lost or rounded before a caller asks for a value.
 *
 * Invariants:
 *   - the parser never reads text[len] or beyond; every pointer comparison is against `end`;
 *   - recursion depth is bounded by AJSON_MAX_DEPTH, so hostile nesting cannot exhaust the C stack;
 *   - arena memory is bounded by the arena's cap, so a huge document fails cleanly;
 *   - on failure the tree built so far is garbage in the arena, and the caller must not use it.
 *
 * While it parses, it also tells for every value whether its text is already in RFC 8785 form
 * (AJSON_CANON, json.h), so a signed object that arrives canonical, as every accord node sends
 * it, is known to be its own signed bytes without being written again or compared (src/jcs.c).
 * The cost is a compare per token and a key comparison per member: see `struct parser`.
 *
 * It does not: accept comments, trailing commas, NaN/Infinity, single quotes, or a BOM; convert
 * numbers eagerly; or keep an index of object keys (STIX objects have tens of members, and a
 * linear ajson_get is faster than building a table for them).
 */
#include "util/json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

_Static_assert(sizeof(ajson_value) == 24, "a value's flags fit in its padding");

#define ARENA_BLOCK (64 * 1024)
#define ARENA_DEFAULT_CAP ((size_t)256 * 1024 * 1024)

struct ajson_block {
    struct ajson_block *next;
    size_t size, used;
    _Alignas(8) unsigned char data[];
};

void ajson_arena_init(ajson_arena *a, size_t cap)
{
    memset(a, 0, sizeof(*a));
    a->cap = cap ? cap : ARENA_DEFAULT_CAP;
}

/* Keeps the most recent block (the largest, since blocks only grow) and frees the others. */
void ajson_arena_reset(ajson_arena *a)
{
    struct ajson_block *b = a->head;
    if (b) {
        struct ajson_block *n = b->next;
        while (n) {
            struct ajson_block *next = n->next;
            free(n);
            n = next;
        }
        b->next = NULL;
        b->used = 0;
    }
    a->used = 0;
    a->stack_len = 0;
}

void ajson_arena_free(ajson_arena *a)
{
    if (!a)
        return;
    ajson_arena_reset(a);
    free(a->head);
    free(a->stack);
    a->head = NULL;
    a->stack = NULL;
    a->stack_cap = 0;
}

void *ajson_arena_alloc(ajson_arena *a, size_t n)
{
    n = (n + 7) & ~(size_t)7;
    if (n > a->cap || a->used > a->cap - n)
        return NULL;
    struct ajson_block *b = a->head;
    if (!b || b->size - b->used < n) {
        size_t size = ARENA_BLOCK;
        if (b && b->size * 2 > size)
            size = b->size * 2;
        if (size < n)
            size = n;
        struct ajson_block *nb = malloc(sizeof(*nb) + size);
        if (!nb)
            return NULL;
        nb->next = b;
        nb->size = size;
        nb->used = 0;
        a->head = b = nb;
    }
    void *p = b->data + b->used;
    b->used += n;
    a->used += n;
    return p;
}

char *ajson_arena_strndup(ajson_arena *a, const char *s, size_t len)
{
    char *p = len < SIZE_MAX ? ajson_arena_alloc(a, len + 1) : NULL;
    if (p) {
        memcpy(p, s, len);
        p[len] = 0;
    }
    return p;
}

/*
 * `odd` counts what the parser has met so far that RFC 8785 writes otherwise (whitespace between
 * tokens, an escape written another way, members out of order, -0, an integer beyond 2^53), and
 * `floats` the numbers with a fraction or an exponent: a value is AJSON_CANON when `odd` did not
 * change while it was parsed, and AJSON_FLOATS when `floats` did.  Counting keeps the common
 * case (nothing odd) to a compare per token instead of a flag merged into every container.
 */
typedef struct parser {
    const char *start, *p, *end;
    ajson_arena *a;
    ajson_error *err;
    int failed;
    unsigned odd, floats;
} parser;

static void fail_at(parser *ps, const char *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail_at(parser *ps, const char *at, const char *fmt, ...)
{
    if (ps->failed)
        return;
    ps->failed = 1;
    if (!ps->err)
        return;
    ps->err->offset = (size_t)(at - ps->start);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ps->err->msg, sizeof(ps->err->msg), fmt, ap);
    va_end(ap);
}

/* A printable description of the byte at p, for "unexpected ..." messages. */
static void describe(const parser *ps, const char *p, char *out, size_t outlen)
{
    if (p >= ps->end)
        snprintf(out, outlen, "end of input");
    else if (*p >= 0x21 && *p < 0x7f)
        snprintf(out, outlen, "'%c'", *p);
    else
        snprintf(out, outlen, "byte 0x%02x", (unsigned char)*p);
}

static void fail_unexpected(parser *ps, const char *what)
{
    char d[32];
    describe(ps, ps->p, d, sizeof(d));
    fail_at(ps, ps->p, "expected %s, found %s", what, d);
}

static void skip_ws_run(parser *ps)
{
    const char *p = ps->p, *end = ps->end;
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    ps->odd += p != ps->p; /* RFC 8785 text has no whitespace between tokens */
    ps->p = p;
}

/* Whitespace is at most ' ', and so is no byte that may start a token: one compare decides. */
static inline void skip_ws(parser *ps)
{
    if (ps->p < ps->end && (unsigned char)*ps->p <= ' ')
        skip_ws_run(ps);
}

static void *stack_push(parser *ps, size_t n)
{
    ajson_arena *a = ps->a;
    if (a->stack_cap - a->stack_len < n) {
        size_t cap = a->stack_cap ? a->stack_cap * 2 : 4096;
        while (cap - a->stack_len < n)
            cap *= 2;
        if (cap > a->cap) {
            fail_at(ps, ps->p, "document too large (limit %zu bytes)", a->cap);
            return NULL;
        }
        unsigned char *s = realloc(a->stack, cap);
        if (!s) {
            fail_at(ps, ps->p, "out of memory");
            return NULL;
        }
        a->stack = s;
        a->stack_cap = cap;
    }
    void *p = a->stack + a->stack_len;
    a->stack_len += n;
    return p;
}

static void *alloc_or_fail(parser *ps, size_t n)
{
    void *p = ajson_arena_alloc(ps->a, n);
    if (!p)
        fail_at(ps, ps->p, "document too large (limit %zu bytes)", ps->a->cap);
    return p;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Reads 4 hex digits at p (p + 4 <= end checked by the caller); -1 when not hex. */
static long read_hex4(const char *p)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(p[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

size_t ajson_utf8_seq(const unsigned char *p, size_t left)
{
    unsigned c = p[0];
    size_t n;
    unsigned lo = 0x80, hi = 0xbf;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else
        return 0;
    if (left < n)
        return 0;
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    return n;
}

static size_t utf8_put(char *out, unsigned long cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/*
 * Decodes the escape at ps->p (just after the backslash) into out; returns bytes written or 0.
 * Counts it odd unless it is the one RFC 8785 writes for that character: \" \\ \b \t \n \f \r,
 * or \u00xx in lower case for the other C0 controls (so never \/ nor any other \u).
 */
static size_t parse_escape(parser *ps, char *out)
{
    const char *p = ps->p;
    if (p >= ps->end) {
        fail_at(ps, p, "unterminated string");
        return 0;
    }
    char c = *p++;
    static const char simple_in[] = "\"\\/bfnrt", simple_out[] = "\"\\/\b\f\n\r\t";
    const char *s = c ? strchr(simple_in, c) : NULL;
    if (s) {
        ps->p = p;
        out[0] = simple_out[s - simple_in];
        ps->odd += c == '/';
        return 1;
    }
    if (c != 'u') {
        fail_at(ps, p - 2, "invalid escape '\\%c' in string", c >= 0x21 && c < 0x7f ? c : '?');
        return 0;
    }
    long cp = ps->end - p >= 4 ? read_hex4(p) : -1;
    if (cp < 0) {
        fail_at(ps, p - 2, "invalid \\u escape: expected 4 hex digits");
        return 0;
    }
    /* 8, 9, 10, 12 and 13 have short names; 0 is refused below */
    if (cp >= 0x20 || (cp >= 8 && cp <= 13 && cp != 11) || (p[3] >= 'A' && p[3] <= 'F'))
        ps->odd++;
    p += 4;
    if (cp == 0) {
        fail_at(ps, p - 6, "\\u0000 is not allowed in strings");
        return 0;
    }
    if (cp >= 0xdc00 && cp <= 0xdfff) {
        fail_at(ps, p - 6, "invalid \\u escape: lone low surrogate \\u%04lx", cp);
        return 0;
    }
    if (cp >= 0xd800 && cp <= 0xdbff) {
        long lo = (ps->end - p >= 6 && p[0] == '\\' && p[1] == 'u') ? read_hex4(p + 2) : -1;
        if (lo < 0xdc00 || lo > 0xdfff) {
            fail_at(ps, p - 6, "invalid \\u escape: high surrogate \\u%04lx without low surrogate",
                    cp);
            return 0;
        }
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        p += 6;
    }
    ps->p = p;
    return utf8_put(out, (unsigned long)cp);
}

/*
 * The first byte of p[0..end) that ends a plain run: a quote, a backslash, a control character
 * (below 0x20) or a byte of a UTF-8 sequence (0x80 and above); end when there is none.  Eight
 * bytes at a time, in one pass (a string of a STIX object is typically 10-90 bytes, where the
 * setup of two memchr calls and a separate range check cost more than the scan): a byte equal to
 * c is found as a zero byte of w ^ c*0x01..01, a byte below 0x20 borrows into its own high bit
 * after subtracting 0x20 from every byte.  Borrows and carries only run upwards, so the lowest
 * byte flagged is a true one (every flag below it would be true too), and it is the one taken.
 * With SSE2 (every x86-64), 16 bytes at a time first: a signed compare with 0x20 flags the
 * control characters and, as negative numbers, the bytes of 0x80 and above in one step.  Long
 * strings (descriptions, patterns, the hashes and signatures of a signed object) go 16 bytes for
 * about what 8 cost in the word at a time.
 */
static const unsigned char *plain_end(const unsigned char *p, const unsigned char *end)
{
#ifdef __SSE2__
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
    const __m128i space = _mm_set1_epi8(0x20);
    for (; end - p >= 16; p += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i m = _mm_or_si128(_mm_cmplt_epi8(x, space),
                                 _mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, bslash)));
        unsigned bits = (unsigned)_mm_movemask_epi8(m);
        if (bits)
            return p + __builtin_ctz(bits);
    }
#endif
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    for (; end - p >= 8; p += 8) {
        uint64_t w, q, b;
        memcpy(&w, p, 8);
        q = w ^ (ones * '"');
        b = w ^ (ones * '\\');
        uint64_t m = (((q - ones) & ~q) | ((b - ones) & ~b) | (w - ones * 0x20) | w) & high;
        if (m)
            return p + (__builtin_ctzll(m) >> 3);
    }
#endif
    for (; p < end; p++)
        if (*p == '"' || *p == '\\' || *p < 0x20 || *p >= 0x80)
            return p;
    return end;
}

/* Parses a string at ps->p (on the opening quote); returns the NUL-terminated copy. */
static const char *parse_string(parser *ps, size_t *len_out)
{
    const char *open = ps->p++;
    const unsigned char *p = (const unsigned char *)ps->p, *end = (const unsigned char *)ps->end;
    /* Most strings are printable ASCII without escapes: when the plain run ends at a quote, the
     * string is the bytes before it. */
    const unsigned char *quote = plain_end(p, end);
    if (quote < end && *quote == '"') {
        size_t len = (size_t)(quote - p);
        char *out = alloc_or_fail(ps, len + 1);
        if (!out)
            return NULL;
        memcpy(out, p, len);
        out[len] = '\0';
        *len_out = len;
        ps->p = (const char *)quote + 1;
        return out;
    }
    /* Fast scan: the length of a plain run bounds the unescaped length. */
    const unsigned char *q = quote;
    while (q < end && *q != '"')
        q += (*q == '\\' && q + 1 < end) ? 2 : 1;
    if (q >= end) {
        fail_at(ps, open, "unterminated string");
        return NULL;
    }
    char *out = alloc_or_fail(ps, (size_t)(q - p) + 1);
    if (!out)
        return NULL;
    size_t n = 0;
    while (p < end) {
        unsigned c = *p;
        if (c == '"') {
            ps->p = (const char *)p + 1;
            out[n] = '\0';
            *len_out = n;
            return out;
        }
        if (c == '\\') {
            ps->p = (const char *)p + 1;
            size_t k = parse_escape(ps, out + n);
            if (!k)
                return NULL;
            n += k;
            p = (const unsigned char *)ps->p;
        } else if (c < 0x20) {
            fail_at(ps, (const char *)p, "control character 0x%02x in string (must be escaped)",
                    c);
            return NULL;
        } else if (c < 0x80) {
            out[n++] = (char)c;
            p++;
        } else {
            size_t k = ajson_utf8_seq(p, (size_t)(end - p));
            if (!k) {
                fail_at(ps, (const char *)p, "invalid UTF-8 in string");
                return NULL;
            }
            memcpy(out + n, p, k);
            n += k;
            p += k;
        }
    }
    fail_at(ps, open, "unterminated string");
    return NULL;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* 2^53, the largest integer magnitude RFC 8785 writes as it is (jcs.c refuses larger ones). */
static const char max_exact_int[] = "9007199254740992";

/* 1 when the integer literal s[0..n) (JSON: no leading zeros) is -0 (written 0) or beyond 2^53. */
static int int_odd(const char *s, size_t n)
{
    size_t neg = s[0] == '-', digits = n - neg, max = sizeof(max_exact_int) - 1;
    return (neg && s[1] == '0') || digits > max ||
           (digits == max && memcmp(s + neg, max_exact_int, max) > 0);
}

static int parse_number(parser *ps, ajson_value *v)
{
    const char *s = ps->p, *p = s, *end = ps->end;
    int plain = 1; /* no fraction, no exponent */
    if (p < end && *p == '-')
        p++;
    if (p < end && *p == '0')
        p++;
    else if (p < end && is_digit(*p))
        while (p < end && is_digit(*p))
            p++;
    else {
        fail_at(ps, s, "invalid number: expected a digit");
        return -1;
    }
    if (p < end && *p == '.') {
        plain = 0;
        p++;
        if (p >= end || !is_digit(*p)) {
            fail_at(ps, p, "invalid number: expected a digit after '.'");
            return -1;
        }
        while (p < end && is_digit(*p))
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        plain = 0;
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || !is_digit(*p)) {
            fail_at(ps, p, "invalid number: expected a digit in the exponent");
            return -1;
        }
        while (p < end && is_digit(*p))
            p++;
    }
    size_t n = (size_t)(p - s);
    if (plain)
        ps->odd += int_odd(s, n);
    else
        ps->floats++;
    char *text = alloc_or_fail(ps, n + 1);
    if (!text)
        return -1;
    memcpy(text, s, n);
    text[n] = '\0';
    v->type = AJSON_NUMBER;
    v->len = n;
    v->u.str = text;
    ps->p = p;
    return 0;
}

static int parse_value(parser *ps, ajson_value *v, int depth);

static int keys_equal(const ajson_member *a, const ajson_member *b)
{
    return a->key_len == b->key_len && memcmp(a->key, b->key, a->key_len) == 0;
}

static int cmp_member_ptr(const void *x, const void *y)
{
    const ajson_member *a = *(const ajson_member *const *)x, *b = *(const ajson_member *const *)y;
    if (a->key_len != b->key_len)
        return a->key_len < b->key_len ? -1 : 1;
    int c = memcmp(a->key, b->key, a->key_len);
    return c ? c : (a < b ? -1 : 1);
}

/* Sets *dup_out to the first member whose key repeats an earlier one (or NULL); -1: no memory. */
static int find_duplicate(const ajson_member *m, size_t n, const ajson_member **dup_out)
{
    *dup_out = NULL;
    if (n <= 32) {
        for (size_t i = 1; i < n; i++)
            for (size_t j = 0; j < i; j++)
                if (keys_equal(&m[i], &m[j])) {
                    *dup_out = &m[i];
                    return 0;
                }
        return 0;
    }
    /* Without memory the check cannot be made, and an unchecked object must not pass. */
    const ajson_member **idx = malloc(n * sizeof(*idx));
    if (!idx)
        return -1;
    for (size_t i = 0; i < n; i++)
        idx[i] = &m[i];
    qsort(idx, n, sizeof(*idx), cmp_member_ptr);
    const ajson_member *dup = NULL;
    for (size_t i = 1; i < n; i++)
        if (keys_equal(idx[i], idx[i - 1]) && (!dup || idx[i] < dup))
            dup = idx[i];
    free(idx);
    *dup_out = dup;
    return 0;
}

/*
 * RFC 8785's key order, by UTF-16 code units.  UTF-8 byte order is code point order, and the two
 * differ only where one key has a character above U+FFFF (lead byte F0-F4; a surrogate pair
 * D800-DBFF in UTF-16) and the other one in U+E000..U+FFFF (lead byte EE or EF) at their first
 * difference.  Both keys are valid UTF-8 with a common prefix, so their first differing bytes
 * are both lead bytes, or both continuation bytes (80-BF) of characters with the same lead
 * byte, where byte order is right.
 */
int ajson_key_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen, i = 0;
    while (i < n && a[i] == b[i])
        i++;
    if (i == n)
        return (alen > n) - (blen > n);
    unsigned x = (unsigned char)a[i], y = (unsigned char)b[i];
    if (x >= 0xf0 && (y == 0xee || y == 0xef))
        return -1;
    if (y >= 0xf0 && (x == 0xee || x == 0xef))
        return 1;
    return x < y ? -1 : 1;
}

static int parse_object(parser *ps, ajson_value *v, int depth)
{
    size_t base = ps->a->stack_len, n = 0;
    const char *prev_key = NULL;
    size_t prev_len = 0;
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
        goto done;
    }
    for (;;) {
        if (ps->p >= ps->end || *ps->p != '"') {
            fail_unexpected(ps, n ? "a string key after ','" : "a string key or '}'");
            return -1;
        }
        size_t klen;
        const char *key = parse_string(ps, &klen);
        if (!key)
            return -1;
        /* members out of RFC 8785 order (duplicates are refused below) */
        if (prev_key && ajson_key_cmp(prev_key, prev_len, key, klen) >= 0)
            ps->odd++;
        prev_key = key;
        prev_len = klen;
        skip_ws(ps);
        if (ps->p >= ps->end || *ps->p != ':') {
            fail_unexpected(ps, "':' after object key");
            return -1;
        }
        ps->p++;
        skip_ws(ps);
        ajson_member *m = stack_push(ps, sizeof(*m));
        if (!m)
            return -1;
        m->key = key;
        m->key_len = klen;
        size_t at = (size_t)((unsigned char *)m - ps->a->stack);
        ajson_value tmp;
        if (parse_value(ps, &tmp, depth + 1))
            return -1;
        m = (ajson_member *)(ps->a->stack + at); /* the stack may have moved */
        m->value = tmp;
        n++;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            skip_ws(ps);
            continue;
        }
        if (ps->p < ps->end && *ps->p == '}') {
            ps->p++;
            break;
        }
        fail_unexpected(ps, "',' or '}' in object");
        return -1;
    }
done:
    v->type = AJSON_OBJECT;
    v->len = n;
    v->u.members = NULL;
    if (n) {
        ajson_member *src = (ajson_member *)(ps->a->stack + base);
        const ajson_member *dup;
        if (find_duplicate(src, n, &dup)) {
            fail_at(ps, ps->start + v->offset, "out of memory checking duplicate keys");
            return -1;
        }
        if (dup) {
            fail_at(ps, ps->start + dup->value.offset, "duplicate key \"%.60s\" in object",
                    dup->key);
            return -1;
        }
        ajson_member *dst = alloc_or_fail(ps, n * sizeof(*dst));
        if (!dst)
            return -1;
        memcpy(dst, src, n * sizeof(*dst));
        v->u.members = dst;
    }
    ps->a->stack_len = base;
    return 0;
}

static int parse_array(parser *ps, ajson_value *v, int depth)
{
    size_t base = ps->a->stack_len, n = 0;
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ']') {
        ps->p++;
        goto done;
    }
    for (;;) {
        ajson_value tmp;
        if (parse_value(ps, &tmp, depth + 1))
            return -1;
        ajson_value *slot = stack_push(ps, sizeof(*slot));
        if (!slot)
            return -1;
        *slot = tmp;
        n++;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            skip_ws(ps);
            continue;
        }
        if (ps->p < ps->end && *ps->p == ']') {
            ps->p++;
            break;
        }
        fail_unexpected(ps, "',' or ']' in array");
        return -1;
    }
done:
    v->type = AJSON_ARRAY;
    v->len = n;
    v->u.items = NULL;
    if (n) {
        ajson_value *dst = alloc_or_fail(ps, n * sizeof(*dst));
        if (!dst)
            return -1;
        memcpy(dst, ps->a->stack + base, n * sizeof(*dst));
        v->u.items = dst;
    }
    ps->a->stack_len = base;
    return 0;
}

static int parse_literal(parser *ps, ajson_value *v, const char *word, ajson_type t)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0) {
        fail_at(ps, ps->p, "invalid literal: expected %s", word);
        return -1;
    }
    ps->p += n;
    v->type = t;
    v->len = 0;
    v->u.str = NULL;
    return 0;
}

static int parse_value(parser *ps, ajson_value *v, int depth)
{
    if (depth > AJSON_MAX_DEPTH) {
        fail_at(ps, ps->p, "nesting deeper than %d levels", AJSON_MAX_DEPTH);
        return -1;
    }
    if (ps->p >= ps->end) {
        fail_at(ps, ps->p, "unexpected end of input, expected a value");
        return -1;
    }
    v->offset = (uint32_t)(ps->p - ps->start);
    unsigned odd = ps->odd, floats = ps->floats;
    int rc;
    switch (*ps->p) {
    case '{':
        rc = parse_object(ps, v, depth);
        break;
    case '[':
        rc = parse_array(ps, v, depth);
        break;
    case '"': {
        size_t n;
        const char *s = parse_string(ps, &n);
        if (!s)
            return -1;
        v->type = AJSON_STRING;
        v->len = n;
        v->u.str = s;
        rc = 0;
        break;
    }
    case 't':
        rc = parse_literal(ps, v, "true", AJSON_TRUE);
        break;
    case 'f':
        rc = parse_literal(ps, v, "false", AJSON_FALSE);
        break;
    case 'n':
        rc = parse_literal(ps, v, "null", AJSON_NULL);
        break;
    default:
        if (*ps->p == '-' || is_digit(*ps->p)) {
            rc = parse_number(ps, v);
            break;
        }
        fail_unexpected(ps, "a value");
        return -1;
    }
    v->flags =
        (uint8_t)((ps->odd == odd ? AJSON_CANON : 0) | (ps->floats != floats ? AJSON_FLOATS : 0));
    return rc;
}

const ajson_value *ajson_parse(ajson_arena *a, const char *text, size_t len, ajson_error *err)
{
    parser ps = {.start = text, .p = text, .end = text + len, .a = a, .err = err};
    if (err) {
        err->offset = 0;
        err->msg[0] = '\0';
    }
    if (len > UINT32_MAX) {
        fail_at(&ps, text, "document larger than 4 GiB");
        return NULL;
    }
    a->stack_len = 0;
    ajson_value *root = alloc_or_fail(&ps, sizeof(*root));
    if (!root)
        return NULL;
    skip_ws(&ps);
    if (parse_value(&ps, root, 1))
        return NULL;
    skip_ws(&ps);
    if (ps.p != ps.end) {
        char d[32];
        describe(&ps, ps.p, d, sizeof(d));
        fail_at(&ps, ps.p, "unexpected %s after the JSON value", d);
        return NULL;
    }
    return root;
}

const ajson_value *ajson_get(const ajson_value *obj, const char *key)
{
    if (!obj || obj->type != AJSON_OBJECT)
        return NULL;
    size_t klen = strlen(key);
    for (size_t i = 0; i < obj->len; i++) {
        const ajson_member *m = &obj->u.members[i];
        if (m->key_len == klen && memcmp(m->key, key, klen) == 0)
            return &m->value;
    }
    return NULL;
}

const char *ajson_str(const ajson_value *v)
{
    return v && v->type == AJSON_STRING ? v->u.str : NULL;
}

int ajson_int(const ajson_value *v, int64_t *out)
{
    if (!v || v->type != AJSON_NUMBER || strpbrk(v->u.str, ".eE"))
        return 0;
    errno = 0;
    char *end;
    long long x = strtoll(v->u.str, &end, 10);
    if (errno || *end)
        return 0;
    *out = x;
    return 1;
}

int ajson_double(const ajson_value *v, double *out)
{
    if (!v || v->type != AJSON_NUMBER)
        return 0;
    char *end;
    *out = strtod(v->u.str, &end);
    return 1;
}

int ajson_bool(const ajson_value *v, int *out)
{
    if (!v || (v->type != AJSON_TRUE && v->type != AJSON_FALSE))
        return 0;
    *out = v->type == AJSON_TRUE;
    return 1;
}

const char *ajson_type_name(ajson_type t)
{
    switch (t) {
    case AJSON_NULL:
        return "null";
    case AJSON_FALSE:
    case AJSON_TRUE:
        return "boolean";
    case AJSON_NUMBER:
        return "number";
    case AJSON_STRING:
        return "string";
    case AJSON_ARRAY:
        return "array";
    case AJSON_OBJECT:
        return "object";
    }
    return "unknown";
}

size_t ajson_minify(const char *text, size_t len, char *out)
{
    size_t n = 0;
    const char *p = text, *end = text + len;
    while (p < end) {
        char c = *p;
        if (c == '"') {
            const char *q = p + 1;
            while (q < end && *q != '"')
                q += (*q == '\\' && q + 1 < end) ? 2 : 1;
            if (q < end)
                q++;
            memcpy(out + n, p, (size_t)(q - p));
            n += (size_t)(q - p);
            p = q;
        } else {
            if (c != ' ' && c != '\n' && c != '\r' && c != '\t')
                out[n++] = c;
            p++;
        }
    }
    return n;
}
