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
 *      U+E000..U+FFFF.                                                     (utf16_cmp)
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
 * What this file does not do: parse (json.c does), or decide what is signed (sign.c, later the
 * signature extension code).
 */
#include "jcs.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* The next UTF-16 code unit of the UTF-8 key at *p (< end), keeping a pending low surrogate. */
static unsigned next_unit(const unsigned char **p, const unsigned char *end, unsigned *pending)
{
    if (*pending) {
        unsigned u = *pending;
        *pending = 0;
        return u;
    }
    const unsigned char *s = *p;
    unsigned c = s[0];
    size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if ((size_t)(end - s) < n)
        n = (size_t)(end - s); /* cannot happen for parser output; stay in bounds */
    if (n == 2)
        c = ((c & 0x1F) << 6) | (s[1] & 0x3F);
    else if (n == 3)
        c = ((c & 0x0F) << 12) | ((unsigned)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
    else if (n == 4)
        c = ((c & 0x07) << 18) | ((unsigned)(s[1] & 0x3F) << 12) | ((unsigned)(s[2] & 0x3F) << 6) |
            (s[3] & 0x3F);
    *p = s + n;
    if (c >= 0x10000) {
        c -= 0x10000;
        *pending = 0xDC00 | (c & 0x3FF);
        return 0xD800 | (c >> 10);
    }
    return c;
}

/* Compares two UTF-8 strings by their UTF-16 code units, as RFC 8785 section 3.2.3 orders keys. */
static int utf16_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    const unsigned char *p = (const unsigned char *)a, *pe = p + alen;
    const unsigned char *q = (const unsigned char *)b, *qe = q + blen;
    unsigned pp = 0, qp = 0;
    while ((p < pe || pp) && (q < qe || qp)) {
        unsigned x = next_unit(&p, pe, &pp), y = next_unit(&q, qe, &qp);
        if (x != y)
            return x < y ? -1 : 1;
    }
    int a_more = p < pe || pp, b_more = q < qe || qp;
    return a_more - b_more;
}

static int member_cmp(const void *x, const void *y)
{
    const ajson_member *a = *(const ajson_member *const *)x;
    const ajson_member *b = *(const ajson_member *const *)y;
    return utf16_cmp(a->key, a->key_len, b->key, b->key_len);
}

static int write_string(buf *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t run = 0; /* start of the pending literal run */
    if (buf_add(out, "\"", 1))
        return ACCORD_ENOMEM;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
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
        if (buf_add(out, s + run, i - run) || buf_add(out, esc, n))
            return ACCORD_ENOMEM;
        run = i + 1;
    }
    if (buf_add(out, s + run, len - run) || buf_add(out, "\"", 1))
        return ACCORD_ENOMEM;
    return 0;
}

static int write_number(buf *out, const ajson_value *v, const ajson_value **bad)
{
    if (jcs_integer_too_big(v->u.str, v->len)) {
        *bad = v;
        return ACCORD_EJSON;
    }
    double d = strtod(v->u.str, NULL);
    char s[40];
    int n = accord_jcs_number(d, s, sizeof(s));
    if (n < 0 || jcs_integer_too_big(s, (size_t)n)) {
        /* non-finite, or a value that prints as an integer literal beyond 2^53 (rule 5) */
        *bad = v;
        return ACCORD_EJSON;
    }
    return buf_add(out, s, (size_t)n) ? ACCORD_ENOMEM : 0;
}

static int write_object(buf *out, const ajson_value *v, const ajson_value **bad)
{
    int rc = 0;
    const ajson_member **order = NULL;
    if (v->len) {
        order = malloc(v->len * sizeof(*order));
        if (!order)
            return ACCORD_ENOMEM;
        for (size_t i = 0; i < v->len; i++)
            order[i] = &v->u.members[i];
        qsort(order, v->len, sizeof(*order), member_cmp);
    }
    if (buf_add(out, "{", 1)) {
        rc = ACCORD_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < v->len; i++) {
        if (i && buf_add(out, ",", 1)) {
            rc = ACCORD_ENOMEM;
            goto out;
        }
        if ((rc = write_string(out, order[i]->key, order[i]->key_len)))
            goto out;
        if (buf_add(out, ":", 1)) {
            rc = ACCORD_ENOMEM;
            goto out;
        }
        if ((rc = jcs_write(out, &order[i]->value, bad)))
            goto out;
    }
    if (buf_add(out, "}", 1))
        rc = ACCORD_ENOMEM;
out:
    free(order);
    return rc;
}

int jcs_write(buf *out, const ajson_value *v, const ajson_value **bad)
{
    switch (v->type) {
    case AJSON_NULL:
        return buf_add(out, "null", 4) ? ACCORD_ENOMEM : 0;
    case AJSON_FALSE:
        return buf_add(out, "false", 5) ? ACCORD_ENOMEM : 0;
    case AJSON_TRUE:
        return buf_add(out, "true", 4) ? ACCORD_ENOMEM : 0;
    case AJSON_NUMBER:
        return write_number(out, v, bad);
    case AJSON_STRING:
        return write_string(out, v->u.str, v->len);
    case AJSON_OBJECT:
        return write_object(out, v, bad);
    case AJSON_ARRAY:
        if (buf_add(out, "[", 1))
            return ACCORD_ENOMEM;
        for (size_t i = 0; i < v->len; i++) {
            if (i && buf_add(out, ",", 1))
                return ACCORD_ENOMEM;
            int rc = jcs_write(out, &v->u.items[i], bad);
            if (rc)
                return rc;
        }
        return buf_add(out, "]", 1) ? ACCORD_ENOMEM : 0;
    }
    return ACCORD_EINVAL;
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
