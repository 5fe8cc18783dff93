/*
 * pattern_parse.c - the recursive-descent parser and compiler of STIX patterns (STIX 2.1
 * section 9 and the STIX 2.0 patterning grammar), and accord_pattern_compile.
 *
 * Grammar, as parsed here (one function per rule; precedence from loose to tight):
 *
 *   pattern    := obs_fby EOF
 *   obs_fby    := obs_or  (FOLLOWEDBY obs_or)*          left-associative
 *   obs_or     := obs_and (OR obs_and)*
 *   obs_and    := obs_qual (AND obs_qual)*
 *   obs_qual   := obs_prim qualifier*                   qualifiers bind to the nearest expression
 *   obs_prim   := '[' cmp_or ']' | '(' obs_fby ')'
 *   qualifier  := WITHIN num SECONDS | REPEATS int TIMES | START ts STOP ts
 *   cmp_or     := cmp_and (OR cmp_and)*
 *   cmp_and    := cmp_test (AND cmp_test)*
 *   cmp_test   := '(' cmp_or ')' | NOT? EXISTS path | path NOT? op literal
 *   path       := type ':' (ident | string) ('.' (ident | string) | '[' (int | '*') ']')*
 *
 * The tree built is the compiled form the evaluator runs: literals are decoded (escapes, base64,
 * hex, timestamps), LIKE patterns NFC-normalised, MATCHES expressions compiled by PCRE2 (UTF,
 * DOTALL) and ISSUBSET/ISSUPERSET networks parsed, all once.  Everything lives in the pattern's
 * arena.
 *
 * Semantic MUST checks made here: one qualifier of each type per expression (a parenthesised
 * expression starts afresh, so qualifiers stack that way); ordering operators only with
 * orderable literals (not booleans); IN sets homogeneous (integers and floats count as one
 * kind, numbers); timestamps valid calendar instants; b'' valid padded base64 and h'' whole
 * bytes; WITHIN and REPEATS positive; STOP after START; MATCHES a valid PCRE2 expression;
 * ISSUBSET/ISSUPERSET an IPv4 or IPv6 address or CIDR; integers within 64 bits.
 *
 * Error messages name the byte offset counted from 1 (the first byte of the pattern is offset 1,
 * the end of a 28-byte pattern offset 29), what was expected, and the token found:
 * "offset 29: expected ']', found end of pattern".  Only the first error is reported.
 *
 * Decisions where the grammar is loose: keywords are accepted as property names after ':' and
 * '.' (STIX 2.0 keywords are case-insensitive, so `network-traffic:start` would otherwise be
 * unparsable); in STIX 2.0 mode EXISTS is not a keyword and t'' literals are allowed in
 * comparisons, and START/STOP take string literals holding timestamps.
 *
 * Limits (ACCORD_ELIMIT): nesting depth PATTERN_MAX_DEPTH, PATTERN_MAX_LEAVES observation
 * expressions, PATTERN_MAX_CMPS comparisons, PATTERN_MAX_LEN bytes of source.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "pattern.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uninorm.h>

#define PATTERN_MAX_CMPS 1024

typedef struct parser {
    pattern_lexer lx;
    pattern_token tok; /* the lookahead */
    accord_pattern *p;
    accord_error *err;
    int rc;    /* the first error, 0 while there is none */
    int depth; /* open brackets and parentheses */
    size_t ncmps;
} parser;

/* ------------------------------------------------------------------------------------------ */
/* Errors                                                                                       */

static int perr_code(parser *ps, int code, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Records the first error as "offset N: <message>"; returns its code. */
static int perr_code(parser *ps, int code, size_t off, const char *fmt, ...)
{
    va_list ap;
    char msg[400];
    if (ps->rc)
        return ps->rc;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ps->rc = code;
    if (ps->err) {
        ps->err->code = code;
        snprintf(ps->err->msg, sizeof ps->err->msg, "offset %zu: %s", off + 1, msg);
    }
    return code;
}

#define perr(ps, off, ...) perr_code((ps), ACCORD_EINVAL, (off), __VA_ARGS__)

/* The current token as a message shows it: end of pattern, or its text quoted and shortened. */
static const char *found(parser *ps, char *buf, size_t cap)
{
    size_t n = ps->tok.len, k = 0;
    if (ps->tok.kind == PT_EOF)
        return "end of pattern";
    if (n > 40)
        n = 40;
    buf[k++] = '\'';
    for (size_t i = 0; i < n && k + 5 < cap; i++) {
        unsigned char c = (unsigned char)ps->lx.src[ps->tok.off + i];
        buf[k++] = c < 0x20 || c == 0x7F ? '?' : (char)c;
    }
    if (n < ps->tok.len && k + 5 < cap) {
        memcpy(buf + k, "...", 3);
        k += 3;
    }
    buf[k++] = '\'';
    buf[k] = '\0';
    return buf;
}

/* "expected X, found Y" at the current token (or the lexer's complaint at an invalid one). */
static int expected(parser *ps, const char *what)
{
    char buf[64];
    if (ps->tok.kind == PT_INVALID)
        return perr(ps, ps->tok.off, "%s", ps->tok.why);
    return perr(ps, ps->tok.off, "expected %s, found %s", what, found(ps, buf, sizeof buf));
}

static void advance(parser *ps)
{
    pattern_lex_next(&ps->lx, &ps->tok);
}

/* Consumes a token of kind k or fails with "expected <k>". */
static int expect(parser *ps, pattern_tok_kind k)
{
    if (ps->tok.kind != k)
        return expected(ps, pattern_tok_name(k));
    advance(ps);
    return 0;
}

struct pattern_block {
    struct pattern_block *next;
    size_t size, used;
    _Alignas(16) unsigned char data[];
};

/* n bytes, 8-aligned, from the pattern's blocks; NULL when memory runs out. */
static void *mem_alloc(pattern_mem *m, size_t n)
{
    struct pattern_block *b = m->head;
    n = (n + 7) & ~(size_t)7;
    if (!b || b->size - b->used < n) {
        size_t size = m->next > n ? m->next : n;
        if (size > SIZE_MAX / 2 - sizeof *b || !(b = malloc(sizeof *b + size)))
            return NULL;
        b->next = m->head;
        b->size = size;
        b->used = 0;
        m->head = b;
        m->next = size * 2;
    }
    b->used += n;
    return b->data + b->used - n;
}

static void mem_free(pattern_mem *m)
{
    while (m->head) {
        struct pattern_block *next = m->head->next;
        free(m->head);
        m->head = next;
    }
}

static void *palloc(parser *ps, size_t n)
{
    void *m = mem_alloc(&ps->p->mem, n ? n : 1);
    if (!m) {
        perr_code(ps, ACCORD_ENOMEM, ps->tok.off, "out of memory");
        return NULL;
    }
    memset(m, 0, n);
    return m;
}

static char *pstrdup(parser *ps, const char *s, size_t len)
{
    char *d = palloc(ps, len + 1);
    if (d)
        memcpy(d, s, len);
    return d;
}

/* ------------------------------------------------------------------------------------------ */
/* Literals                                                                                     */

/* Unescapes a string token into the arena; checks UTF-8 and computes the Latin-1 form. */
static int decode_string(parser *ps, const pattern_token *t, pattern_lit *lit)
{
    const char *s = ps->lx.src + t->off + 1;
    size_t n = t->len - 2, k = 0, i = 0, nl = 0;
    char *d = palloc(ps, n + 1);
    unsigned char *l1 = palloc(ps, n + 1);
    int latin = 1;
    if (!d || !l1)
        return ps->rc;
    for (size_t j = 0; j < n; j++) {
        if (s[j] == '\\')
            j++;
        if (s[j] == '\0')
            return perr(ps, t->off + 1 + j, "NUL byte in string");
        d[k++] = s[j];
    }
    while (i < k) {
        int32_t cp = pattern_utf8_next((const unsigned char *)d, k, &i);
        if (cp < 0)
            return perr(ps, t->off, "invalid UTF-8 in string");
        if (cp > 0xFF)
            latin = 0;
        else
            l1[nl++] = (unsigned char)cp;
    }
    lit->kind = PL_STRING;
    lit->s = d;
    lit->len = k;
    lit->latin1 = latin ? l1 : NULL;
    lit->latin1_len = latin ? nl : 0;
    return 0;
}

static int b64val(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/*
 * Decodes strict, padded base64 s[0..n) into out (n/4*3 bytes); returns the byte count or -1.
 * Padding only at the end; the unused bits of the last symbol must be zero.
 */
static long b64_decode(const char *s, size_t n, unsigned char *out)
{
    size_t k = 0;
    if (n % 4)
        return -1;
    for (size_t i = 0; i < n; i += 4) {
        int v[4], pad = 0;
        for (int j = 0; j < 4; j++) {
            v[j] = s[i + j] == '=' && i + 4 == n && j >= 2 ? -2 : b64val((unsigned char)s[i + j]);
            if (v[j] == -1 || (pad && v[j] != -2))
                return -1;
            if (v[j] == -2)
                pad++, v[j] = 0;
        }
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        if ((pad == 1 && (w & 0xFF)) || (pad == 2 && (w & 0xFFFF)))
            return -1;
        out[k++] = (unsigned char)(w >> 16);
        if (pad < 2)
            out[k++] = (unsigned char)(w >> 8);
        if (pad < 1)
            out[k++] = (unsigned char)w;
    }
    return (long)k;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int decode_binary(parser *ps, const pattern_token *t, pattern_lit *lit)
{
    const char *s = ps->lx.src + t->off + 2;
    size_t n = t->len - 3;
    unsigned char *d = palloc(ps, n + 1);
    long k = 0;
    if (!d)
        return ps->rc;
    if (t->kind == PT_HEX) {
        for (size_t i = 0; i + 1 < n; i += 2) {
            int hi = hexval((unsigned char)s[i]), lo = hexval((unsigned char)s[i + 1]);
            if (hi < 0 || lo < 0)
                return perr(ps, t->off, "invalid hex literal (two hex digits per byte)");
            d[k++] = (unsigned char)(hi << 4 | lo);
        }
        if (n % 2)
            return perr(ps, t->off, "invalid hex literal (odd number of hex digits)");
    } else {
        k = b64_decode(s, n, d);
        if (k < 0 || (n == 0 && !ps->p->v20))
            return perr(ps, t->off, "invalid base64 in binary literal");
    }
    lit->kind = PL_BINARY;
    lit->s = (const char *)d;
    lit->len = (size_t)k;
    return 0;
}

/* Parses a timestamp in s[0..n); 0, or -1. */
static int parse_ts(const char *s, size_t n, ts_value *out)
{
    char buf[64];
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return ts_parse(buf, out);
}

static int decode_number(parser *ps, const pattern_token *t, pattern_lit *lit)
{
    char buf[400], *end;
    if (t->len >= sizeof buf)
        return perr(ps, t->off, "number too long");
    memcpy(buf, ps->lx.src + t->off, t->len);
    buf[t->len] = '\0';
    errno = 0;
    if (t->kind == PT_INT) {
        lit->kind = PL_INT;
        lit->i = strtoll(buf, &end, 10);
        lit->f = (double)lit->i;
    } else {
        lit->kind = PL_FLOAT;
        lit->f = strtod(buf, &end);
    }
    if (errno == ERANGE || *end != '\0')
        return perr(ps, t->off, "number out of range");
    return 0;
}

/* Parses one literal at the current token into lit and consumes it. */
static int parse_literal(parser *ps, pattern_lit *lit)
{
    pattern_token t = ps->tok;
    int rc = 0;
    switch (t.kind) {
    case PT_INT:
    case PT_FLOAT:
        rc = decode_number(ps, &t, lit);
        break;
    case PT_STRING:
        rc = decode_string(ps, &t, lit);
        break;
    case PT_TRUE:
    case PT_FALSE:
        lit->kind = PL_BOOL;
        lit->i = t.kind == PT_TRUE;
        break;
    case PT_BINARY:
    case PT_HEX:
        rc = decode_binary(ps, &t, lit);
        break;
    case PT_TIMESTAMP:
        lit->kind = PL_TIMESTAMP;
        if (parse_ts(ps->lx.src + t.off + 2, t.len - 3, &lit->ts) < 0)
            rc = perr(ps, t.off, "invalid timestamp literal (YYYY-MM-DDTHH:MM:SS[.s+]Z)");
        break;
    default:
        return expected(ps, "a literal");
    }
    if (rc == 0)
        advance(ps);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Object paths                                                                                 */

static int ends_with(const char *s, size_t n, const char *suf)
{
    size_t k = strlen(suf);
    return n >= k && memcmp(s + n - k, suf, k) == 0;
}

static int is_keyword(pattern_tok_kind k)
{
    return k >= PT_AND && k <= PT_FALSE;
}

/* A key after ':' or '.': identifier (keywords allowed) or quoted string. */
static int parse_key(parser *ps, pattern_step *st)
{
    pattern_lit lit;
    if (ps->tok.kind == PT_STRING) {
        pattern_token t = ps->tok;
        if (decode_string(ps, &t, &lit))
            return ps->rc;
        st->key = lit.s;
        st->key_len = lit.len;
    } else if (ps->tok.kind == PT_IDENT || is_keyword(ps->tok.kind) ||
               (ps->tok.kind == PT_EXISTS)) {
        st->key = pstrdup(ps, ps->lx.src + ps->tok.off, ps->tok.len);
        st->key_len = ps->tok.len;
        if (!st->key)
            return ps->rc;
    } else {
        return expected(ps, "a property name");
    }
    st->kind = PS_KEY;
    st->ref = ends_with(st->key, st->key_len, "_ref") || ends_with(st->key, st->key_len, "_refs");
    advance(ps);
    return 0;
}

/* '[' int | '*' ']' after a path component. */
static int parse_index(parser *ps, pattern_step *st)
{
    advance(ps);
    if (ps->tok.kind == PT_STAR) {
        st->kind = PS_STAR;
    } else if (ps->tok.kind == PT_INT) {
        pattern_lit lit;
        pattern_token t = ps->tok;
        if (decode_number(ps, &t, &lit))
            return ps->rc;
        st->kind = PS_INDEX;
        st->index = lit.i;
    } else {
        return expected(ps, "a list index or '*'");
    }
    advance(ps);
    return expect(ps, PT_RBRACK);
}

static int parse_path(parser *ps, pattern_cmp *c)
{
    pattern_step steps[64];
    size_t n = 0;
    if (ps->tok.kind != PT_IDENT && ps->tok.kind != PT_IDENT_HYPHEN)
        return expected(ps, "an object type");
    c->type = pstrdup(ps, ps->lx.src + ps->tok.off, ps->tok.len);
    if (!c->type)
        return ps->rc;
    advance(ps);
    if (expect(ps, PT_COLON))
        return ps->rc;
    memset(steps, 0, sizeof steps);
    if (parse_key(ps, &steps[n++]))
        return ps->rc;
    while (ps->tok.kind == PT_DOT || ps->tok.kind == PT_LBRACK) {
        if (n == sizeof steps / sizeof steps[0])
            return perr_code(ps, ACCORD_ELIMIT, ps->tok.off, "object path longer than 64 steps");
        if (ps->tok.kind == PT_DOT) {
            advance(ps);
            if (parse_key(ps, &steps[n++]))
                return ps->rc;
        } else if (parse_index(ps, &steps[n++])) {
            return ps->rc;
        }
    }
    c->steps = palloc(ps, n * sizeof *c->steps);
    if (!c->steps)
        return ps->rc;
    memcpy(c->steps, steps, n * sizeof *c->steps);
    c->nsteps = n;
    for (size_t i = n; i-- > 0;)
        if (steps[i].kind == PS_KEY) {
            c->binary = ends_with(steps[i].key, steps[i].key_len, "_bin")   ? 1
                        : ends_with(steps[i].key, steps[i].key_len, "_hex") ? 2
                                                                            : 0;
            break;
        }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Comparisons                                                                                  */

static int lit_family(pattern_lit_kind k)
{
    return k == PL_FLOAT ? PL_INT : (int)k;
}

/* '(' literal (',' literal)* ')' or '(' ')': a homogeneous set. */
static int parse_set(parser *ps, pattern_cmp *c)
{
    pattern_lit tmp[256];
    size_t n = 0;
    if (expect(ps, PT_LPAREN))
        return ps->rc;
    while (ps->tok.kind != PT_RPAREN) {
        size_t off = ps->tok.off;
        if (n > 0 && expect(ps, PT_COMMA))
            return ps->rc;
        if (n == sizeof tmp / sizeof tmp[0])
            return perr_code(ps, ACCORD_ELIMIT, off, "set of more than 256 literals");
        memset(&tmp[n], 0, sizeof tmp[n]);
        off = ps->tok.off;
        if (parse_literal(ps, &tmp[n]))
            return ps->rc;
        if (n > 0 && lit_family(tmp[n].kind) != lit_family(tmp[0].kind))
            return perr(ps, off, "set literals must all be of one type");
        n++;
        if (ps->tok.kind != PT_COMMA && ps->tok.kind != PT_RPAREN)
            return expected(ps, "',' or ')'");
    }
    advance(ps);
    c->lits = palloc(ps, n * sizeof *c->lits);
    if (!c->lits)
        return ps->rc;
    memcpy(c->lits, tmp, n * sizeof *c->lits);
    c->nlits = n;
    return 0;
}

/* NFC-normalises a string literal in place (into the arena) for LIKE and MATCHES. */
static int nfc_literal(parser *ps, pattern_lit *lit)
{
    size_t n = 0;
    uint8_t *r = u8_normalize(UNINORM_NFC, (const uint8_t *)lit->s, lit->len, NULL, &n);
    char *d;
    if (!r)
        return perr_code(ps, ACCORD_ENOMEM, ps->tok.off, "out of memory");
    d = pstrdup(ps, (const char *)r, n);
    free(r);
    if (!d)
        return ps->rc;
    lit->s = d;
    lit->len = n;
    return 0;
}

static int keep_code(parser *ps, pcre2_code *re)
{
    accord_pattern *p = ps->p;
    if (p->ncodes == p->codes_cap) {
        size_t cap = p->codes_cap ? p->codes_cap * 2 : 4;
        void **nc = realloc(p->codes, cap * sizeof *nc);
        if (!nc) {
            pcre2_code_free(re);
            return perr_code(ps, ACCORD_ENOMEM, ps->tok.off, "out of memory");
        }
        p->codes = nc;
        p->codes_cap = cap;
    }
    p->codes[p->ncodes++] = re;
    return 0;
}

static int compile_regex(parser *ps, pattern_cmp *c, size_t off)
{
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)c->lits[0].s, c->lits[0].len,
                                   PCRE2_UTF | PCRE2_DOTALL, &ec, &eo, NULL);
    if (!re) {
        PCRE2_UCHAR msg[160];
        if (pcre2_get_error_message(ec, msg, sizeof msg) < 0)
            snprintf((char *)msg, sizeof msg, "error %d", ec);
        return perr(ps, off, "invalid regular expression: %s at its offset %zu", (char *)msg,
                    (size_t)eo);
    }
    (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    c->re = re;
    return keep_code(ps, re);
}

/* The literal operand of c->op; checks what the operator accepts. */
static int parse_operand(parser *ps, pattern_cmp *c)
{
    size_t off = ps->tok.off;
    if (c->op == PO_IN)
        return parse_set(ps, c);
    c->lits = palloc(ps, sizeof *c->lits);
    if (!c->lits)
        return ps->rc;
    c->nlits = 1;
    if (c->op >= PO_LIKE && ps->tok.kind != PT_STRING)
        return expected(ps, "a string literal");
    if (c->op >= PO_LT && c->op <= PO_GE && ps->tok.kind >= PT_TRUE && ps->tok.kind <= PT_FALSE)
        return perr(ps, off, "ordering comparison with a boolean (not orderable)");
    if (parse_literal(ps, c->lits))
        return ps->rc;
    if (c->op == PO_LIKE || c->op == PO_MATCHES)
        if (nfc_literal(ps, c->lits))
            return ps->rc;
    if (c->op == PO_MATCHES)
        return compile_regex(ps, c, off);
    if ((c->op == PO_ISSUBSET || c->op == PO_ISSUPERSET) &&
        pattern_net_parse(c->lits[0].s, c->lits[0].len, &c->net) < 0)
        return perr(ps, off, "not an IPv4 or IPv6 address or CIDR");
    return 0;
}

static pattern_op tok_op(pattern_tok_kind k)
{
    switch (k) {
    case PT_EQ: return PO_EQ;
    case PT_NEQ: return PO_NEQ;
    case PT_LT: return PO_LT;
    case PT_LE: return PO_LE;
    case PT_GT: return PO_GT;
    case PT_GE: return PO_GE;
    case PT_IN: return PO_IN;
    case PT_LIKE: return PO_LIKE;
    case PT_MATCHES: return PO_MATCHES;
    case PT_ISSUBSET: return PO_ISSUBSET;
    case PT_ISSUPERSET: return PO_ISSUPERSET;
    default: return 0;
    }
}

static pattern_cexpr *new_cmp_node(parser *ps, size_t off)
{
    pattern_cexpr *e = palloc(ps, sizeof *e);
    if (!e)
        return NULL;
    if (++ps->ncmps > PATTERN_MAX_CMPS) {
        perr_code(ps, ACCORD_ELIMIT, off, "more than %d comparisons", PATTERN_MAX_CMPS);
        return NULL;
    }
    e->kind = PC_CMP;
    e->cmp = palloc(ps, sizeof *e->cmp);
    if (!e->cmp)
        return NULL;
    e->cmp->off = off;
    return e;
}

static pattern_cexpr *parse_cmp_or(parser *ps);

/* cmp_test := '(' cmp_or ')' | NOT? EXISTS path | path NOT? op literal */
static pattern_cexpr *parse_cmp_test(parser *ps)
{
    size_t off = ps->tok.off;
    pattern_cexpr *e;
    int neg = 0;
    if (ps->tok.kind == PT_LPAREN) {
        if (++ps->depth > PATTERN_MAX_DEPTH) {
            perr_code(ps, ACCORD_ELIMIT, off, "nesting deeper than %d", PATTERN_MAX_DEPTH);
            return NULL;
        }
        advance(ps);
        e = parse_cmp_or(ps);
        ps->depth--;
        return e && expect(ps, PT_RPAREN) == 0 ? e : NULL;
    }
    if (!(e = new_cmp_node(ps, off)))
        return NULL;
    if (ps->tok.kind == PT_NOT && !ps->p->v20) {
        pattern_lexer save = ps->lx;
        pattern_token t = ps->tok;
        advance(ps);
        if (ps->tok.kind != PT_EXISTS) {
            ps->lx = save;
            ps->tok = t;
        } else {
            neg = 1;
        }
    }
    if (ps->tok.kind == PT_EXISTS) {
        advance(ps);
        e->cmp->op = PO_EXISTS;
        e->cmp->negated = neg;
        return parse_path(ps, e->cmp) ? NULL : e;
    }
    if (parse_path(ps, e->cmp))
        return NULL;
    if (ps->tok.kind == PT_NOT) {
        e->cmp->negated = 1;
        advance(ps);
    }
    if (!(e->cmp->op = tok_op(ps->tok.kind))) {
        expected(ps, "a comparison operator");
        return NULL;
    }
    advance(ps);
    return parse_operand(ps, e->cmp) ? NULL : e;
}

static pattern_cexpr *cbin(parser *ps, pattern_cexpr_kind k, pattern_cexpr *l, pattern_cexpr *r)
{
    pattern_cexpr *e = palloc(ps, sizeof *e);
    if (!e)
        return NULL;
    e->kind = k;
    e->l = l;
    e->r = r;
    return e;
}

static pattern_cexpr *parse_cmp_and(parser *ps)
{
    pattern_cexpr *l = parse_cmp_test(ps), *r;
    while (l && ps->tok.kind == PT_AND) {
        advance(ps);
        if (!(r = parse_cmp_test(ps)))
            return NULL;
        l = cbin(ps, PC_AND, l, r);
    }
    return l;
}

static pattern_cexpr *parse_cmp_or(parser *ps)
{
    pattern_cexpr *l = parse_cmp_and(ps), *r;
    while (l && ps->tok.kind == PT_OR) {
        advance(ps);
        if (!(r = parse_cmp_and(ps)))
            return NULL;
        l = cbin(ps, PC_OR, l, r);
    }
    return l;
}

/* ------------------------------------------------------------------------------------------ */
/* Observation expressions                                                                      */

static pattern_oexpr *obin(parser *ps, pattern_oexpr_kind k, pattern_oexpr *l, pattern_oexpr *r)
{
    pattern_oexpr *e = palloc(ps, sizeof *e);
    if (!e)
        return NULL;
    e->kind = k;
    e->l = l;
    e->r = r;
    return e;
}

static pattern_oexpr *parse_obs_fby(parser *ps);

/* '[' cmp_or ']' | '(' obs_fby ')' */
static pattern_oexpr *parse_obs_prim(parser *ps)
{
    size_t off = ps->tok.off;
    pattern_oexpr *e = NULL;
    int open = ps->tok.kind;
    if (open != PT_LBRACK && open != PT_LPAREN) {
        expected(ps, "'[' or '('");
        return NULL;
    }
    if (++ps->depth > PATTERN_MAX_DEPTH) {
        perr_code(ps, ACCORD_ELIMIT, off, "nesting deeper than %d", PATTERN_MAX_DEPTH);
        return NULL;
    }
    advance(ps);
    if (open == PT_LPAREN) {
        e = parse_obs_fby(ps);
    } else if ((e = obin(ps, PX_LEAF, NULL, NULL)) != NULL) {
        if (ps->p->nleaves == PATTERN_MAX_LEAVES) {
            perr_code(ps, ACCORD_ELIMIT, off, "more than %d observation expressions",
                      PATTERN_MAX_LEAVES);
            return NULL;
        }
        e->leaf_id = ps->p->nleaves;
        ps->p->leaves[ps->p->nleaves++] = e;
        e->leaf = parse_cmp_or(ps);
        if (!e->leaf)
            return NULL;
    }
    ps->depth--;
    if (!e || expect(ps, open == PT_LPAREN ? PT_RPAREN : PT_RBRACK))
        return NULL;
    return e;
}

/* WITHIN n SECONDS, n a positive integer or float. */
static int parse_within(parser *ps, pattern_oexpr *q)
{
    pattern_lit lit;
    pattern_token t = ps->tok;
    if ((t.kind != PT_INT && t.kind != PT_FLOAT) || ps->lx.src[t.off] == '-')
        return expected(ps, "a positive number of seconds");
    if (decode_number(ps, &t, &lit))
        return ps->rc;
    if (!(lit.f > 0) || lit.f > 1e15)
        return perr(ps, t.off, "WITHIN needs a positive number of seconds");
    if (lit.kind == PL_INT) {
        q->within.sec = lit.i;
    } else {
        double whole = (double)(int64_t)lit.f;
        q->within.sec = (int64_t)lit.f;
        q->within.nsec = (int32_t)((lit.f - whole) * 1e9 + 0.5);
        if (q->within.nsec >= 1000000000)
            q->within.sec++, q->within.nsec -= 1000000000;
    }
    advance(ps);
    return expect(ps, PT_SECONDS);
}

static int parse_repeats(parser *ps, pattern_oexpr *q)
{
    pattern_lit lit;
    pattern_token t = ps->tok;
    if (t.kind != PT_INT || ps->lx.src[t.off] == '-')
        return expected(ps, "a positive integer");
    if (decode_number(ps, &t, &lit))
        return ps->rc;
    if (lit.i < 1 || lit.i > UINT32_MAX)
        return perr(ps, t.off, "REPEATS needs a positive integer");
    q->repeats = (uint32_t)lit.i;
    advance(ps);
    return expect(ps, PT_TIMES);
}

/* One START/STOP timestamp: t'...' (2.1) or '...' (2.0). */
static int parse_qual_ts(parser *ps, ts_value *out)
{
    pattern_token t = ps->tok;
    pattern_tok_kind want = ps->p->v20 ? PT_STRING : PT_TIMESTAMP;
    size_t skip = ps->p->v20 ? 1 : 2;
    if (t.kind != want)
        return expected(ps, ps->p->v20 ? "a timestamp string" : "a timestamp literal t'...'");
    if (parse_ts(ps->lx.src + t.off + skip, t.len - skip - 1, out) < 0)
        return perr(ps, t.off, "invalid timestamp (YYYY-MM-DDTHH:MM:SS[.s+]Z)");
    advance(ps);
    return 0;
}

static int parse_startstop(parser *ps, pattern_oexpr *q)
{
    size_t off = ps->tok.off;
    if (parse_qual_ts(ps, &q->start) || expect(ps, PT_STOP) || parse_qual_ts(ps, &q->stop))
        return ps->rc;
    if (ts_cmp(&q->stop, &q->start) <= 0)
        return perr(ps, off, "STOP must be later than START");
    return 0;
}

/* obs_prim qualifier*: each qualifier wraps what precedes it; one of each type. */
static pattern_oexpr *parse_obs_qual(parser *ps)
{
    pattern_oexpr *e = parse_obs_prim(ps), *q;
    int seen = 0;
    while (e && (ps->tok.kind == PT_WITHIN || ps->tok.kind == PT_REPEATS ||
                 ps->tok.kind == PT_START)) {
        pattern_tok_kind k = ps->tok.kind;
        int bit = k == PT_WITHIN ? 1 : k == PT_REPEATS ? 2 : 4;
        if (seen & bit) {
            perr(ps, ps->tok.off, "a second %s qualifier on one expression (parenthesise to stack)",
                 pattern_tok_name(k));
            return NULL;
        }
        seen |= bit;
        if (!(q = obin(ps, k == PT_WITHIN ? PX_WITHIN : k == PT_REPEATS ? PX_REPEATS : PX_STARTSTOP,
                       e, NULL)))
            return NULL;
        advance(ps);
        if ((k == PT_WITHIN ? parse_within(ps, q)
             : k == PT_REPEATS ? parse_repeats(ps, q)
                               : parse_startstop(ps, q)))
            return NULL;
        e = q;
    }
    return e;
}

static pattern_oexpr *parse_obs_and(parser *ps)
{
    pattern_oexpr *l = parse_obs_qual(ps), *r;
    while (l && ps->tok.kind == PT_AND) {
        advance(ps);
        if (!(r = parse_obs_qual(ps)))
            return NULL;
        l = obin(ps, PX_AND, l, r);
    }
    return l;
}

static pattern_oexpr *parse_obs_or(parser *ps)
{
    pattern_oexpr *l = parse_obs_and(ps), *r;
    while (l && ps->tok.kind == PT_OR) {
        advance(ps);
        if (!(r = parse_obs_and(ps)))
            return NULL;
        l = obin(ps, PX_OR, l, r);
    }
    return l;
}

static pattern_oexpr *parse_obs_fby(parser *ps)
{
    pattern_oexpr *l = parse_obs_or(ps), *r;
    while (l && ps->tok.kind == PT_FOLLOWEDBY) {
        advance(ps);
        if (!(r = parse_obs_or(ps)))
            return NULL;
        l = obin(ps, PX_FOLLOWEDBY, l, r);
    }
    return l;
}

int pattern_parse(accord_pattern *p, const char *src, size_t len, accord_error *err)
{
    parser ps;
    memset(&ps, 0, sizeof ps);
    ps.p = p;
    ps.err = err;
    if (len > PATTERN_MAX_LEN)
        return perr_code(&ps, ACCORD_ELIMIT, 0, "pattern longer than %u bytes", PATTERN_MAX_LEN);
    pattern_lex_init(&ps.lx, src, len, p->v20);
    advance(&ps);
    p->root = parse_obs_fby(&ps);
    if (p->root && ps.tok.kind != PT_EOF) {
        const char *what = ps.tok.kind == PT_RPAREN || ps.tok.kind == PT_RBRACK
                               ? "end of pattern (unbalanced brackets)"
                               : "AND, OR, FOLLOWEDBY, a qualifier or end of pattern";
        expected(&ps, what);
    }
    if (ps.rc == 0 && !p->root)
        perr(&ps, ps.tok.off, "invalid pattern");
    if (ps.rc == 0)
        p->simple = p->root->kind == PX_LEAF;
    return ps.rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Networks                                                                                     */

int pattern_net_parse(const char *s, size_t len, pattern_net *out)
{
    char buf[64], *slash, *end;
    long bits;
    memset(out, 0, sizeof *out);
    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    slash = strchr(buf, '/');
    if (slash)
        *slash = '\0';
    if (inet_pton(AF_INET, buf, out->addr) == 1)
        out->family = 4;
    else if (inet_pton(AF_INET6, buf, out->addr) == 1)
        out->family = 6;
    else
        return -1;
    out->prefix = out->family == 4 ? 32 : 128;
    if (slash) {
        if (slash[1] < '0' || slash[1] > '9' || (slash[1] == '0' && slash[2] != '\0'))
            return -1;
        errno = 0;
        bits = strtol(slash + 1, &end, 10);
        if (errno || *end || bits > out->prefix)
            return -1;
        out->prefix = (int)bits;
    }
    for (int i = out->prefix; i < (out->family == 4 ? 32 : 128); i++)
        out->addr[i / 8] &= (unsigned char)~(0x80u >> (i % 8));
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Public API                                                                                   */

ACCORD_API int accord_pattern_compile(const char *text, size_t len, unsigned flags,
                                      accord_pattern **out, accord_error *err)
{
    accord_pattern *p;
    int rc;
    *out = NULL;
    if (!text || (flags & ~(unsigned)ACCORD_PATTERN_STIX20)) {
        if (err) {
            err->code = ACCORD_EINVAL;
            snprintf(err->msg, sizeof err->msg, "invalid argument");
        }
        return ACCORD_EINVAL;
    }
    p = calloc(1, sizeof *p);
    if (!p)
        return ACCORD_ENOMEM;
    p->mem.next = 512 + 4 * len;
    p->v20 = (flags & ACCORD_PATTERN_STIX20) != 0;
    p->text = malloc(len + 1);
    rc = p->text ? pattern_parse(p, text, len, err) : ACCORD_ENOMEM;
    if (rc) {
        accord_pattern_free(p);
        return rc;
    }
    memcpy(p->text, text, len);
    p->text[len] = '\0';
    p->text_len = len;
    *out = p;
    return 0;
}

ACCORD_API void accord_pattern_free(accord_pattern *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->ncodes; i++)
        pcre2_code_free(p->codes[i]);
    free(p->codes);
    free(p->text);
    mem_free(&p->mem);
    free(p);
}

ACCORD_API int accord_pattern_check(const char *text, size_t len, unsigned flags,
                                    accord_error *err)
{
    accord_pattern *p = NULL;
    int rc = accord_pattern_compile(text, len, flags, &p, err);
    accord_pattern_free(p);
    return rc;
}

ACCORD_API const char *accord_pattern_text(const accord_pattern *p)
{
    return p ? p->text : NULL;
}
