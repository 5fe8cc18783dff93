/*
 * jcs.c - RFC 8785 JSON Canonicalization Scheme: the exact bytes accord signs.
 *
 * A signature covers bytes, but JSON documents travel through relays that re-serialise them, so
 * accord signs a canonical form that anyone can recompute from the parsed document with other
 * tools: RFC 8785.  Its rules, and where each is implemented here:
 *
 *   1. No insignificant whitespace.                                        (jcs_write)
 *   2. Object members sorted by the UTF-16 code units of their keys, not by
 *      UTF-8 bytes: the two orders differ only when a key holds a character
 *      above U+FFFF (a surrogate pair, 0xD800..0xDBFF) beside one in
 *      U+E000..U+FFFF.                                                 (ajson_key_cmp)
 *   3. Strings: the parsed (unescaped) UTF-8, with only '"', '\\' and the
 *      C0 controls escaped; \b \t \n \f \r by name, the others as \u00xx in
 *      lower-case hex.  Everything else, U+2028 and DEL included, is literal. (write_string)
 *   4. Numbers: the IEEE-754 double nearest the literal, printed as
 *      ECMAScript's Number.prototype.toString does: the shortest digit string
 *      that reads back as the same double (the nearest one when several
 *      lengths tie), in plain notation for 1e-7 <= |x| < 1e21 and exponent
 *      notation "d.ddde+NN" outside; -0 prints as 0.                     (accord_jcs_number)
 *
 * The shortest digits come from the C library: for precision 1..17, "%.*e" gives the correctly
 * rounded decimal of that many digits and strtod reads it back; the first that round-trips is the
 * answer.  17 digits always round-trip.  This is slow beside Ryu (up to 17 formats per number),
 * so integers below 2^53, the common case in STIX (confidence, counts), take a direct path.  The
 * whole method is checked against the 100,000-line ECMAScript reference file of the cyberphone
 * test suite (tests/unit/test_jcs.c).
 *
 * What is rejected, and why (the parser, src/util/json.c, already rejects invalid UTF-8, lone
 * surrogates and duplicate keys, which RFC 8785 requires too):
 *   - numbers that overflow a double, like 1e400: JSON cannot write NaN or Infinity, and this is
 *     the only way to reach one; ECMAScript would print "Infinity", which is not JSON.
 *   - integers beyond 2^53, in two forms.  (a) Integer literals (digits only, no fraction or
 *     exponent) whose magnitude exceeds 2^53: they are the identifiers and counters for which
 *     silent rounding (9007199254740993 becomes ...992) would make the signed bytes differ from
 *     what the producer wrote.  (b) Any number whose value lies beyond 2^53 and below 1e21,
 *     however written (1e20, 9007199254740993.0): every double there is an integer and prints in
 *     plain digits, so its canonical form would be a literal of kind (a).  Rejecting (b) too
 *     keeps the rule closed: canonical output is always accepted again, and jcs(jcs(x)) ==
 *     jcs(x) (fuzz/jcs.c checks it).  From 1e21 up ECMAScript prints exponent notation, which
 *     states a double, and such numbers are accepted, as are fractions and all of |x| <= 2^53.
 *
 * Text that is canonical already is recognised instead of written again: from the flags the
 * parser leaves on a tree (jcs_parsed_canonical; json.c checks whitespace, key order, escapes
 * and integer literals while it parses, this file the spelling of other numbers), else by a
 * comparison of the text with what the writer would write (jcs_is_canonical).
 *
 * What this file does not do: parse (json.c does), or decide what is signed (sign.c, later the
 * signature extension code).
 */
#include "jcs.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* 2^53 as decimal digits: the largest integer literal accepted. */
static const char max_int_digits[] = "9007199254740992";

int jcs_integer_too_big(const char *num, size_t len)
{
    if (len && num[0] == '-') {
        num++;
        len--;
    }
    for (size_t i = 0; i < len; i++)
        if (num[i] < '0' || num[i] > '9')
            return 0; /* a fraction or exponent: a double literal */
    size_t max_len = sizeof(max_int_digits) - 1;
    if (len != max_len)
        return len > max_len; /* JSON integers have no leading zeros */
    return memcmp(num, max_int_digits, len) > 0;
}

/*
 * The ECMAScript layout of a decimal significand `digits` (k digits, no leading or trailing
 * zeros) times 10^(n-k), i.e. with the decimal point after n digits (ECMA-262 Number::toString).
 */
static int es_layout(int neg, const char *digits, int k, int n, char *out, size_t outlen)
{
    char tmp[48];
    size_t len = 0;
    if (neg)
        tmp[len++] = '-';
    if (k <= n && n <= 21) {
        memcpy(tmp + len, digits, (size_t)k);
        len += (size_t)k;
        for (int i = 0; i < n - k; i++)
            tmp[len++] = '0';
    } else if (0 < n && n <= 21) {
        memcpy(tmp + len, digits, (size_t)n);
        len += (size_t)n;
        tmp[len++] = '.';
        memcpy(tmp + len, digits + n, (size_t)(k - n));
        len += (size_t)(k - n);
    } else if (-6 < n && n <= 0) {
        tmp[len++] = '0';
        tmp[len++] = '.';
        for (int i = 0; i < -n; i++)
            tmp[len++] = '0';
        memcpy(tmp + len, digits, (size_t)k);
        len += (size_t)k;
    } else {
        tmp[len++] = digits[0];
        if (k > 1) {
            tmp[len++] = '.';
            memcpy(tmp + len, digits + 1, (size_t)(k - 1));
            len += (size_t)(k - 1);
        }
        int e = n - 1;
        int w = snprintf(tmp + len, sizeof(tmp) - len, "e%c%d", e < 0 ? '-' : '+', e < 0 ? -e : e);
        len += (size_t)w;
    }
    if (len + 1 > outlen)
        return ACCORD_ELIMIT;
    memcpy(out, tmp, len);
    out[len] = '\0';
    return (int)len;
}

/*
 * Reads "%.*e" output "d.ddde[+-]XX" into its digits (trailing zeros dropped) and exponent n
 * (point after n digits).  Returns k, the digit count.
 */
static int split_exp(const char *s, char *digits, int *n)
{
    int k = 0;
    for (; *s && *s != 'e'; s++)
        if (*s >= '0' && *s <= '9')
            digits[k++] = *s;
    while (k > 1 && digits[k - 1] == '0')
        k--;
    digits[k] = '\0';
    *n = (int)strtol(s + 1, NULL, 10) + 1;
    return k;
}

int accord_jcs_number(double d, char *out, size_t outlen)
{
    if (!isfinite(d))
        return ACCORD_EINVAL;
    if (d == 0)
        return es_layout(0, "0", 1, 1, out, outlen);
    int neg = d < 0;
    double a = neg ? -d : d;
    char digits[24];
    if (a < 9007199254740992.0 && a == floor(a)) {
        /* exact integer: its digits are the shortest form */
        int w = snprintf(digits, sizeof(digits), "%.0f", a);
        int k = w;
        while (k > 1 && digits[k - 1] == '0')
            k--;
        digits[k] = '\0';
        return es_layout(neg, digits, k, w, out, outlen);
    }
    char s[40];
    for (int p = 1; p <= 17; p++) {
        snprintf(s, sizeof(s), "%.*e", p - 1, a);
        if (p == 17 || strtod(s, NULL) == a)
            break;
    }
    int n;
    int k = split_exp(s, digits, &n);
    return es_layout(neg, digits, k, n, out, outlen);
}

/* Key order: RFC 8785's, by UTF-16 code units (json.c, which also checks it while parsing). */
static int key_cmp(const ajson_member *a, const ajson_member *b)
{
    return ajson_key_cmp(a->key, a->key_len, b->key, b->key_len);
}

static int member_cmp(const void *x, const void *y)
{
    return key_cmp(*(const ajson_member *const *)x, *(const ajson_member *const *)y);
}

/* buf_add without the call when the bytes fit (the writer's hot path). */
static inline int put(buf *b, const void *data, size_t len)
{
    if (b->p && !b->failed && len < b->cap - b->len && b->len + len <= b->max) {
        memcpy(b->p + b->len, data, len);
        b->len += len;
        b->p[b->len] = '\0';
        return 0;
    }
    return buf_add(b, data, len);
}

/* The bytes RFC 8785 escapes: '"', '\\' and the C0 controls. */
static inline int needs_escape(unsigned char c)
{
    return c < 0x20 || c == '"' || c == '\\';
}

/*
 * Nonzero when one of the 8 bytes of x needs an escape: the classic "has a byte less than n" test
 * (exact as a yes/no answer for n <= 128; bytes >= 0x80 never match), for 0x20 and for a zero
 * byte after XOR with '"' and with '\\'.  Signed objects are mostly long runs of plain text
 * (descriptions, patterns, base64 hashes), so the writer skips them 8 bytes at a time.
 */
static inline uint64_t escape_in8(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
    return ((x - ones * 0x20) & ~x & high) | ((q - ones) & ~q & high) | ((b - ones) & ~b & high);
}

/* escape_in8 for 4 bytes (strings of 4 to 7 bytes: two overlapping words). */
static inline uint32_t escape_in4(uint32_t x)
{
    const uint32_t ones = 0x01010101u, high = 0x80808080u;
    uint32_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
    return ((x - ones * 0x20) & ~x & high) | ((q - ones) & ~q & high) | ((b - ones) & ~b & high);
}

#ifdef __SSE2__
/* Per byte of x, 0xff where it needs an escape: '"', '\\', or at most 0x1f (unsigned). */
static inline __m128i escape_in16(__m128i x)
{
    __m128i low = _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x1f)), x);
    return _mm_or_si128(low, _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')),
                                          _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))));
}
#endif

/*
 * 1 when no byte of s[0..len) needs an escape and, when t is not NULL, t[0..len) holds the same
 * bytes: the writer's test for a string it can copy whole, and jcs_is_canonical's for a string of
 * the text.  Blocks of 16 bytes with SSE2 (every x86-64), else 8 and 4, the last block
 * overlapping the one before, so no byte past len is read; the strings of a STIX object are
 * mostly short (keys, identifiers, timestamps) or long runs of plain text.
 */
static inline int plain_same(const char *s, const char *t, size_t len)
{
    size_t i = 0;
#ifdef __SSE2__
    if (len >= 16) {
        for (;; i += 16) {
            if (i + 16 > len)
                i = len - 16;
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
            __m128i bad = escape_in16(x);
            if (t)
                bad = _mm_or_si128(bad, _mm_xor_si128(_mm_cmpeq_epi8(
                                                          x, _mm_loadu_si128((const __m128i *)(
                                                                 const void *)(t + i))),
                                                      _mm_set1_epi8(-1)));
            if (_mm_movemask_epi8(bad))
                return 0;
            if (i + 16 == len)
                return 1;
        }
    }
#endif
    if (len >= 8) {
        uint64_t x, y;
        for (;; i += 8) {
            if (i + 8 > len)
                i = len - 8;
            memcpy(&x, s + i, 8);
            if (escape_in8(x) || (t && (memcpy(&y, t + i, 8), x != y)))
                return 0;
            if (i + 8 == len)
                return 1;
        }
    }
    if (len >= 4) {
        uint32_t x, y, z, w;
        memcpy(&x, s, 4);
        memcpy(&z, s + len - 4, 4);
        if (escape_in4(x) || escape_in4(z))
            return 0;
        if (!t)
            return 1;
        memcpy(&y, t, 4);
        memcpy(&w, t + len - 4, 4);
        return x == y && z == w;
    }
    for (; i < len; i++)
        if (needs_escape((unsigned char)s[i]) || (t && s[i] != t[i]))
            return 0;
    return 1;
}

static inline int plain_string(const char *s, size_t len)
{
    return plain_same(s, NULL, len);
}

static int write_string(buf *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t run = 0; /* start of the pending literal run */
    /* almost every string of a STIX object: quotes around the bytes as they are, in one step */
    if (plain_string(s, len) && out->p && !out->failed && len + 2 < out->cap - out->len &&
        out->len + len + 2 <= out->max) {
        char *d = out->p + out->len;
        d[0] = '"';
        memcpy(d + 1, s, len);
        d[len + 1] = '"';
        out->len += len + 2;
        out->p[out->len] = '\0';
        return 0;
    }
    if (put(out, "\"", 1))
        return ACCORD_ENOMEM;
    for (size_t i = 0; i < len; i++) {
        uint64_t x;
        while (i + 8 <= len && (memcpy(&x, s + i, 8), !escape_in8(x)))
            i += 8;
        if (i == len)
            break;
        unsigned char c = (unsigned char)s[i];
        if (!needs_escape(c))
            continue;
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t n = 2;
        switch (c) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\t':
            esc[1] = 't';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            n = 6;
        }
        if (put(out, s + run, i - run) || put(out, esc, n))
            return ACCORD_ENOMEM;
        run = i + 1;
    }
    if (put(out, s + run, len - run) || put(out, "\"", 1))
        return ACCORD_ENOMEM;
    return 0;
}

static int write_number(buf *out, const ajson_value *v, const ajson_value **bad)
{
    if (jcs_integer_too_big(v->u.str, v->len)) {
        *bad = v;
        return ACCORD_EJSON;
    }
    /* an integer literal of up to 15 digits is exact as a double and already in ECMAScript's
     * form (JSON has no leading zeros), except that -0 prints as 0 */
    size_t neg = v->len && v->u.str[0] == '-', digits = v->len - neg;
    if (digits && digits <= 15 && strspn(v->u.str + neg, "0123456789") == digits)
        return put(out, v->u.str[neg] == '0' ? "0" : v->u.str, v->u.str[neg] == '0' ? 1 : v->len)
                   ? ACCORD_ENOMEM
                   : 0;
    double d = strtod(v->u.str, NULL);
    char s[40];
    int n = accord_jcs_number(d, s, sizeof(s));
    if (n < 0 || jcs_integer_too_big(s, (size_t)n)) {
        /* non-finite, or a value that prints as an integer literal beyond 2^53 (rule 5) */
        *bad = v;
        return ACCORD_EJSON;
    }
    return put(out, s, (size_t)n) ? ACCORD_ENOMEM : 0;
}

#define SMALL_OBJECT 32

static int write_value(buf *out, const ajson_value *v, const ajson_value **bad, jcs_watch *w,
                       size_t nw);

/* 1 when v is one of the watched values (a handful: tested before note_member is called). */
static inline int watched(const ajson_value *v, const jcs_watch *w, size_t nw)
{
    for (size_t k = 0; k < nw; k++)
        if (w[k].value == v)
            return 1;
    return 0;
}

/* Records where member i of an object of n members, value v, was written (its value ending at
 * `end`), if it is watched. */
static void note_member(size_t end, const ajson_value *v, size_t i, size_t n, size_t key_at,
                        size_t value_at, jcs_watch *w, size_t nw)
{
    for (size_t k = 0; k < nw; k++) {
        if (w[k].value != v)
            continue;
        w[k].found = 1;
        w[k].value_start = value_at;
        w[k].value_end = end;
        w[k].alone = n == 1;
        /* the bytes that drop the member: its key and value with one separating comma */
        w[k].cut_start = i ? key_at - 1 : key_at;
        w[k].cut_end = i || n == 1 ? end : end + 1;
    }
}

static int write_object(buf *out, const ajson_value *v, const ajson_value **bad, jcs_watch *w,
                        size_t nw)
{
    int rc = 0;
    const ajson_member *small[SMALL_OBJECT], **order = small;
    if (v->len > SMALL_OBJECT && !(order = malloc(v->len * sizeof(*order))))
        return ACCORD_ENOMEM;
    for (size_t i = 0; i < v->len; i++)
        order[i] = &v->u.members[i];
    if (v->len > SMALL_OBJECT) {
        qsort(order, v->len, sizeof(*order), member_cmp);
    } else { /* STIX objects have a dozen members, often nearly sorted: insertion sort */
        for (size_t i = 1; i < v->len; i++) {
            const ajson_member *m = order[i];
            size_t j = i;
            for (; j && key_cmp(order[j - 1], m) > 0; j--)
                order[j] = order[j - 1];
            order[j] = m;
        }
    }
    if (put(out, "{", 1)) {
        rc = ACCORD_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < v->len; i++) {
        if (i && put(out, ",", 1)) {
            rc = ACCORD_ENOMEM;
            goto out;
        }
        size_t key_at = out->len;
        if ((rc = write_string(out, order[i]->key, order[i]->key_len)))
            goto out;
        if (put(out, ":", 1)) {
            rc = ACCORD_ENOMEM;
            goto out;
        }
        size_t value_at = out->len;
        if ((rc = write_value(out, &order[i]->value, bad, w, nw)))
            goto out;
        if (nw && watched(&order[i]->value, w, nw))
            note_member(out->len, &order[i]->value, i, v->len, key_at, value_at, w, nw);
    }
    if (put(out, "}", 1))
        rc = ACCORD_ENOMEM;
out:
    if (order != small)
        free(order);
    return rc;
}

static int write_value(buf *out, const ajson_value *v, const ajson_value **bad, jcs_watch *w,
                       size_t nw)
{
    switch (v->type) {
    case AJSON_NULL:
        return put(out, "null", 4) ? ACCORD_ENOMEM : 0;
    case AJSON_FALSE:
        return put(out, "false", 5) ? ACCORD_ENOMEM : 0;
    case AJSON_TRUE:
        return put(out, "true", 4) ? ACCORD_ENOMEM : 0;
    case AJSON_NUMBER:
        return write_number(out, v, bad);
    case AJSON_STRING:
        return write_string(out, v->u.str, v->len);
    case AJSON_OBJECT:
        return write_object(out, v, bad, w, nw);
    case AJSON_ARRAY:
        if (put(out, "[", 1))
            return ACCORD_ENOMEM;
        for (size_t i = 0; i < v->len; i++) {
            if (i && put(out, ",", 1))
                return ACCORD_ENOMEM;
            int rc = write_value(out, &v->u.items[i], bad, w, nw);
            if (rc)
                return rc;
        }
        return put(out, "]", 1) ? ACCORD_ENOMEM : 0;
    }
    return ACCORD_EINVAL;
}

int jcs_write_str(buf *out, const char *s, size_t len)
{
    return write_string(out, s, len);
}

int jcs_write(buf *out, const ajson_value *v, const ajson_value **bad)
{
    return write_value(out, v, bad, NULL, 0);
}

int jcs_write_watch(buf *out, const ajson_value *v, jcs_watch *w, size_t nw,
                    const ajson_value **bad)
{
    for (size_t k = 0; k < nw; k++)
        w[k].found = 0;
    return write_value(out, v, bad, w, nw);
}

/* ------------------------------------------------------------------------------------------ */
/* Text that is canonical already                                                               */

/*
 * jcs_is_canonical compares the text with what write_value would append, byte by byte, without
 * writing: a cursor walks the text while the tree is walked in the writer's order.  Each step
 * either matches exactly the bytes the writer would produce or gives up, so "canonical" is only
 * ever said of a text equal to jcs_write's output (fuzz/jcs.c checks that).  It gives up on
 * what it cannot compare cheaply: members not already in RFC 8785 order (the writer would sort
 * them), strings that need an escape, and numbers other than integer literals of up to 15 digits
 * (the writer's own direct path; "-0" excepted, which it prints as "0").
 */
typedef struct canon_cursor {
    const char *text;
    size_t len, at;
    jcs_watch *w;
    size_t nw;
    int parsed;    /* jcs_is_canonical_parsed: the tree was parsed from this text */
    uint32_t base; /* parsed: the tree's root's offset, where text[0] was in the parsed text */
} canon_cursor;

static int canon_lit(canon_cursor *c, const char *lit, size_t n)
{
    if (c->len - c->at < n || memcmp(c->text + c->at, lit, n) != 0)
        return 0;
    c->at += n;
    return 1;
}

/* The string, as the writer's one-step path writes it: quotes around bytes that need no escape;
 * the comparison and the escape test in one pass (plain_same). */
static int canon_str(canon_cursor *c, const char *s, size_t n)
{
    if (c->len - c->at < n + 2 || c->text[c->at] != '"' || c->text[c->at + n + 1] != '"' ||
        !plain_same(s, c->text + c->at + 1, n))
        return 0;
    c->at += n + 2;
    return 1;
}

/* canon_lit of one byte, the punctuation between values. */
static inline int canon_ch(canon_cursor *c, char ch)
{
    if (c->at >= c->len || c->text[c->at] != ch)
        return 0;
    c->at++;
    return 1;
}

/*
 * A string value of a tree parsed from this text, judged by where it lies instead of by its
 * bytes (offsets counted from the root's, so a tree parsed as part of a larger text, an object
 * of a page, works on that object's bytes alone).  When the parser found v where the cursor
 * is, the text there is v's source: an opening
 * quote, then raw bytes that the parser unescaped into v's len bytes.  An escape sequence is
 * longer than what it stands for, so the source is exactly len bytes long, and holds no escape,
 * when its closing quote is at len + 1: a quote there not preceded by a backslash is that
 * closing quote (inside a string a quote is always escaped).  Raw bytes without escapes are
 * what the writer writes (JSON text holds no raw control character, quote or backslash inside a
 * string).  Anything else is left to canon_str.
 */
static int canon_parsed_str(canon_cursor *c, const ajson_value *v)
{
    size_t n = v->len, at = c->at;
    const char *t = c->text + at;
    if (v->offset - c->base == at && c->len - at >= n + 2 && t[0] == '"' && t[n + 1] == '"' &&
        (n == 0 || t[n] != '\\')) {
        c->at += n + 2;
        return 1;
    }
    return canon_str(c, v->u.str, n);
}

static int canon_num(canon_cursor *c, const ajson_value *v)
{
    size_t neg = v->len && v->u.str[0] == '-', digits = v->len - neg;
    if (!digits || digits > 15 || strspn(v->u.str + neg, "0123456789") != digits ||
        (neg && v->u.str[1] == '0'))
        return 0;
    return canon_lit(c, v->u.str, v->len);
}

static int canon_value(canon_cursor *c, const ajson_value *v, int depth);

static int canon_object(canon_cursor *c, const ajson_value *v, int depth)
{
    if (!canon_ch(c, '{'))
        return 0;
    for (size_t i = 0; i < v->len; i++) {
        const ajson_member *m = &v->u.members[i];
        if (i && key_cmp(&v->u.members[i - 1], m) >= 0)
            return 0; /* the writer would reorder */
        size_t key_at = c->at + (i ? 1 : 0);
        if ((i && !canon_ch(c, ',')) || !canon_str(c, m->key, m->key_len) || !canon_ch(c, ':'))
            return 0;
        size_t value_at = c->at;
        if (!canon_value(c, &m->value, depth + 1))
            return 0;
        if (c->nw && watched(&m->value, c->w, c->nw))
            note_member(c->at, &m->value, i, v->len, key_at, value_at, c->w, c->nw);
    }
    return canon_ch(c, '}');
}

static int canon_value(canon_cursor *c, const ajson_value *v, int depth)
{
    if (depth > AJSON_MAX_DEPTH) /* the parser's limit: deeper is not its output */
        return 0;
    switch (v->type) {
    case AJSON_NULL:
        return canon_lit(c, "null", 4);
    case AJSON_FALSE:
        return canon_lit(c, "false", 5);
    case AJSON_TRUE:
        return canon_lit(c, "true", 4);
    case AJSON_NUMBER:
        return canon_num(c, v);
    case AJSON_STRING:
        return c->parsed ? canon_parsed_str(c, v) : canon_str(c, v->u.str, v->len);
    case AJSON_OBJECT:
        return canon_object(c, v, depth);
    case AJSON_ARRAY:
        if (!canon_ch(c, '['))
            return 0;
        for (size_t i = 0; i < v->len; i++)
            if ((i && !canon_ch(c, ',')) || !canon_value(c, &v->u.items[i], depth + 1))
                return 0;
        return canon_ch(c, ']');
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Text the parser found canonical                                                              */

/*
 * ajson_parse marks each value whose text is RFC 8785 already (AJSON_CANON), except for the
 * spelling of numbers with a fraction or an exponent (AJSON_FLOATS), which is judged here as
 * write_number would write them.  For such a tree the text need not be read again: its length
 * and the places of watched members follow from the parser's offsets, because canonical text
 * has no whitespace and each token's length is known from the tree.
 */

/* A number with a fraction or exponent is canonical when write_number would write its text. */
static int float_canonical(const ajson_value *v)
{
    char s[40];
    int n = accord_jcs_number(strtod(v->u.str, NULL), s, sizeof(s));
    return n > 0 && !jcs_integer_too_big(s, (size_t)n) && (size_t)n == v->len &&
           memcmp(s, v->u.str, v->len) == 0;
}

/* The AJSON_FLOATS numbers under v (a value marked AJSON_CANON) all canonical. */
static int floats_canonical(const ajson_value *v)
{
    if (!(v->flags & AJSON_FLOATS))
        return 1;
    switch (v->type) {
    case AJSON_NUMBER:
        return float_canonical(v);
    case AJSON_OBJECT:
        for (size_t i = 0; i < v->len; i++)
            if (!floats_canonical(&v->u.members[i].value))
                return 0;
        return 1;
    case AJSON_ARRAY:
        for (size_t i = 0; i < v->len; i++)
            if (!floats_canonical(&v->u.items[i]))
                return 0;
        return 1;
    default:
        return 0; /* no other value holds a number */
    }
}

int jcs_parsed_canonical(const ajson_value *v)
{
    return (v->flags & AJSON_CANON) && floats_canonical(v);
}

/* Bytes of the RFC 8785 form of the string s[0..len), quotes excluded (write_string's count). */
static size_t escaped_len(const char *s, size_t len)
{
    size_t n = len;
    if (plain_string(s, len))
        return n;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\' || c == '\b' || c == '\t' || c == '\n' || c == '\f' || c == '\r')
            n += 1;
        else if (c < 0x20)
            n += 5;
    }
    return n;
}

/*
 * The offset just past v's text in the parsed text, for v marked AJSON_CANON: a container ends
 * one byte after its last item (no whitespace between), so only the chain of last items is
 * followed.
 */
static size_t parsed_end(const ajson_value *v)
{
    size_t closers = 0;
    for (;;) {
        switch (v->type) {
        case AJSON_NULL:
        case AJSON_TRUE:
            return v->offset + 4 + closers;
        case AJSON_FALSE:
            return v->offset + 5 + closers;
        case AJSON_NUMBER:
            return v->offset + v->len + closers;
        case AJSON_STRING:
            return v->offset + 2 + escaped_len(v->u.str, v->len) + closers;
        case AJSON_OBJECT:
        case AJSON_ARRAY:
            if (!v->len)
                return v->offset + 2 + closers;
            closers++;
            v = v->type == AJSON_OBJECT ? &v->u.members[v->len - 1].value : &v->u.items[v->len - 1];
            break;
        default:
            return v->offset + closers; /* not a parser's value */
        }
    }
}

/* 1 when some watch is still to be found. */
static int watches_left(const jcs_watch *w, size_t nw)
{
    for (size_t k = 0; k < nw; k++)
        if (!w[k].found)
            return 1;
    return 0;
}

/*
 * Fills the watches for the members under v (marked AJSON_CANON, offsets counted from base) as
 * canon_object would: a member's key starts one byte after its object's '{' or after the end of
 * the member before it (the comma), its value where the parser found it.  Stops when every
 * watch is found.
 */
static void find_watched(const ajson_value *v, uint32_t base, jcs_watch *w, size_t nw)
{
    if (v->type == AJSON_ARRAY) {
        for (size_t i = 0; i < v->len && watches_left(w, nw); i++)
            find_watched(&v->u.items[i], base, w, nw);
        return;
    }
    if (v->type != AJSON_OBJECT)
        return;
    for (size_t i = 0; i < v->len && watches_left(w, nw); i++) {
        const ajson_value *mv = &v->u.members[i].value;
        if (watched(mv, w, nw)) {
            size_t key_at = (i ? parsed_end(&v->u.members[i - 1].value) : v->offset) + 1 - base;
            note_member(parsed_end(mv) - base, mv, i, v->len, key_at, mv->offset - base, w, nw);
        }
        find_watched(mv, base, w, nw);
    }
}

/*
 * For a container v that ajson_parse marked canonical, of which text[0..len) is the text: 1,
 * with the watches filled.  0 when that cannot be said this way (the caller compares then).
 */
static int parsed_is_canonical(const char *text, size_t len, const ajson_value *v, jcs_watch *w,
                               size_t nw)
{
    char open = v->type == AJSON_OBJECT ? '{' : '[', close = open == '{' ? '}' : ']';
    if ((v->type != AJSON_OBJECT && v->type != AJSON_ARRAY) || len < 2 || len > UINT32_MAX ||
        text[0] != open || text[len - 1] != close || !jcs_parsed_canonical(v) ||
        parsed_end(v) - v->offset != len)
        return 0;
    find_watched(v, v->offset, w, nw);
    return 1;
}

static int is_canonical(const char *text, size_t len, const ajson_value *v, jcs_watch *w, size_t nw,
                        int parsed)
{
    /* offsets are 32-bit: beyond that the parser's positions cannot be compared */
    canon_cursor c = {text, len, 0, w, nw, parsed && len <= UINT32_MAX, v->offset};
    for (size_t k = 0; k < nw; k++)
        w[k].found = 0;
    if (parsed && parsed_is_canonical(text, len, v, w, nw))
        return 1;
    return canon_value(&c, v, 0) && c.at == len;
}

int jcs_is_canonical(const char *text, size_t len, const ajson_value *v, jcs_watch *w, size_t nw)
{
    return is_canonical(text, len, v, w, nw, 0);
}

int jcs_is_canonical_parsed(const char *text, size_t len, const ajson_value *v, jcs_watch *w,
                            size_t nw)
{
    return is_canonical(text, len, v, w, nw, 1);
}

static int set_err(accord_error *err, int code, size_t offset, const char *what)
{
    if (err) {
        err->code = code;
        snprintf(err->msg, sizeof(err->msg), "byte %zu: %s", offset, what);
    }
    return code;
}

int accord_jcs(const char *text, size_t len, char **out, size_t *out_len, accord_error *err)
{
    ajson_arena arena;
    ajson_error perr;
    buf b;
    int rc = 0;
    *out = NULL;
    *out_len = 0;
    ajson_arena_init(&arena, 0);
    buf_init(&b, ACCORD_JCS_MAX_OUTPUT);
    const ajson_value *root = ajson_parse(&arena, text, len, &perr);
    if (!root) {
        rc = set_err(err, ACCORD_EJSON, perr.offset, perr.msg);
        goto out;
    }
    const ajson_value *bad = NULL;
    rc = jcs_write(&b, root, &bad);
    if (rc == ACCORD_EJSON) {
        char msg[160];
        const char *why = "is an integer beyond 2^53 (not exact as a double)";
        if (!jcs_integer_too_big(bad->u.str, bad->len))
            why = isfinite(strtod(bad->u.str, NULL))
                      ? "is beyond 2^53 and below 1e21, so its canonical form would be an "
                        "integer beyond 2^53"
                      : "is out of the range of a double";
        snprintf(msg, sizeof(msg), "number %.40s%s %s", bad->u.str, bad->len > 40 ? "..." : "",
                 why);
        set_err(err, rc, bad->offset, msg);
        goto out;
    }
    if (rc) {
        set_err(err, rc, 0, "out of memory, or the canonical form exceeds its cap");
        goto out;
    }
    *out = buf_take(&b, out_len);
out:
    buf_free(&b);
    ajson_arena_free(&arena);
    return rc;
}
