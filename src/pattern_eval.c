/*
 * pattern_eval.c - evaluating comparison expressions (the inside of one `[...]`) against one
 * observation, and loading observed-data objects into observations.
 *
 * An observation (pattern_obs) is an observed-data object's times and count and the objects it
 * observed: for STIX 2.1, the objects its object_refs name in the same bundle; for STIX 2.0 and
 * the deprecated 2.1 form, the members of its `objects` dictionary, whose keys are the local
 * references.  A comparison expression is true for an observation when ONE object of it makes
 * every comparison bound to it true: the object path's type must be that object's type, and paths
 * reach other objects only through `_ref`/`_refs` properties, resolved among the objects of the
 * same observation.  So `[a:x = 1 AND b:y = 2]` never matches.
 *
 * Semantics of one comparison (STIX 2.1 section 9, and decisions where the text is silent; each
 * is tested in tests/data/pattern/):
 *   1. The path yields zero or more values ([*] tries every element; an index out of range or
 *      negative yields none; a step into a value of the wrong JSON type yields none).  With no
 *      value the comparison is false, whatever the operator: `!=`, `NOT` and `IN` included.
 *      Only `NOT EXISTS` is true then.
 *   2. With values, the comparison is true when it holds for at least one of them.  `NOT` negates
 *      that whole result: `NOT x[*] = 1` is true when no element equals 1 (decision: NOT applies
 *      after [*]'s "some element", as it applies after the type test, to the comparison result).
 *   3. A type mismatch (a string property against an integer, a number against a string, an
 *      object or list against anything) is false for every operator except `!=`, which is true;
 *      `NOT =` over a mismatch is therefore true.  Integers and floats compare as numbers.
 *   4. Strings compare by code point (UTF-8 byte order), without normalisation, for = != < <= >
 *      >=.  LIKE and MATCHES compare the NFC forms of property and literal.  LIKE is anchored,
 *      `%` is any run of code points and `_` exactly one, both crossing newlines; there is no
 *      escape character.  MATCHES is an unanchored PCRE2 search (UTF, DOTALL) with a match limit;
 *      reaching the limit is an evaluation error.
 *   5. Properties whose name ends in `_bin` (base64) or `_hex` compare as bytes; a property value
 *      that is not valid base64/hex is a type mismatch.  A string literal meets bytes through its
 *      code points as Latin-1 (a literal with a code point above U+00FF is a mismatch), and so
 *      does a b''/h'' literal meet a string property.  MATCHES over bytes sees them as Latin-1
 *      text.
 *   6. A t'' literal parses the property string as a timestamp; a malformed one is an evaluation
 *      error (ACCORD_EINVAL), not false.  Timestamps compare as instants (nanoseconds).
 *   7. ISSUBSET / ISSUPERSET take IPv4 and IPv6 addresses and CIDRs (an address is its /32 or
 *      /128); a property that is not one, or of the other family, is a mismatch.  ISSUBSET is
 *      true when the property's network lies inside the literal's (equal networks included).
 *   8. Booleans compare with = and != only (the parser refuses ordering with a boolean).
 *   9. Inside brackets, AND and OR short-circuit left to right: an evaluation error on the right
 *      of a decided AND/OR is not raised.
 *
 * Memory: nothing here allocates per observation: NFC text and decoded bytes go to the scratch
 * buffers, which only grow (rarely, to the largest value seen); the PCRE2 match data is made once.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "pattern.h"

#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uninorm.h>

#define MATCH_LIMIT 1000000 /* PCRE2 backtracking steps per MATCHES evaluation */

int pattern_scratch_init(pattern_scratch *s)
{
    memset(s, 0, sizeof *s);
    s->md = pcre2_match_data_create(1, NULL);
    s->mctx = pcre2_match_context_create(NULL);
    if (!s->md || !s->mctx) {
        pattern_scratch_free(s);
        return ACCORD_ENOMEM;
    }
    pcre2_set_match_limit(s->mctx, MATCH_LIMIT);
    pcre2_set_depth_limit(s->mctx, 10000);
    return 0;
}

void pattern_scratch_free(pattern_scratch *s)
{
    if (!s)
        return;
    pcre2_match_data_free(s->md);
    pcre2_match_context_free(s->mctx);
    free(s->buf);
    free(s->bin);
    memset(s, 0, sizeof *s);
}

/* Makes *buf hold at least n bytes; 0, or -1. */
static int grow(unsigned char **buf, size_t *cap, size_t n)
{
    size_t c = *cap ? *cap : 256;
    unsigned char *nb;
    if (n <= *cap)
        return 0;
    while (c < n)
        c *= 2;
    nb = realloc(*buf, c);
    if (!nb)
        return -1;
    *buf = nb;
    *cap = c;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Object paths                                                                                 */

/* The object of observation o whose id or local key is `ref`, or NULL. */
static const ajson_value *resolve(const pattern_obs *o, const char *ref)
{
    for (uint32_t k = 0; k < o->nobjs; k++)
        if (strcmp(o->keys[k], ref) == 0)
            return o->objs[k];
    return NULL;
}

typedef struct walker {
    const pattern_cmp *c;
    const pattern_obs *o;
    pattern_value_cb cb;
    void *ud;
} walker;

static int walk(const walker *w, size_t i, const ajson_value *cur, int ref)
{
    const pattern_step *st;
    if (i == w->c->nsteps)
        return w->cb(w->ud, cur);
    st = &w->c->steps[i];
    if (st->kind == PS_KEY) {
        if (ref && cur->type == AJSON_STRING)
            cur = resolve(w->o, cur->u.str);
        if (!cur || cur->type != AJSON_OBJECT || !(cur = ajson_get(cur, st->key)))
            return 0;
        return walk(w, i + 1, cur, st->ref);
    }
    if (cur->type != AJSON_ARRAY)
        return 0;
    if (st->kind == PS_INDEX) {
        if (st->index < 0 || (uint64_t)st->index >= cur->len)
            return 0;
        return walk(w, i + 1, &cur->u.items[st->index], ref);
    }
    for (size_t k = 0; k < cur->len; k++) {
        int rc = walk(w, i + 1, &cur->u.items[k], ref);
        if (rc)
            return rc;
    }
    return 0;
}

int pattern_path_walk(const pattern_cmp *c, const ajson_value *obj, const pattern_obs *o,
                      pattern_value_cb cb, void *ud)
{
    walker w = {c, o, cb, ud};
    return walk(&w, 0, obj, 0);
}

/* ------------------------------------------------------------------------------------------ */
/* Values                                                                                       */

enum { MISMATCH = 2 }; /* a three-way comparison that could not be made */

static int sign(int v)
{
    return (v > 0) - (v < 0);
}

static int cmp_bytes(const unsigned char *a, size_t an, const unsigned char *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    return c ? sign(c) : (an > bn) - (an < bn);
}

/* A string's code points as Latin-1 bytes into s->bin; the length, or -1 when one is > U+00FF. */
static long to_latin1(const char *str, size_t n, pattern_scratch *s)
{
    size_t i = 0, k = 0;
    if (grow(&s->bin, &s->bincap, n + 1) < 0)
        return -1;
    while (i < n) {
        int32_t cp = pattern_utf8_next((const unsigned char *)str, n, &i);
        if (cp < 0 || cp > 0xFF)
            return -1;
        s->bin[k++] = (unsigned char)cp;
    }
    return (long)k;
}

static int hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

static int b64val(int c)
{
    return c >= 'A' && c <= 'Z'   ? c - 'A'
           : c >= 'a' && c <= 'z' ? c - 'a' + 26
           : c >= '0' && c <= '9' ? c - '0' + 52
           : c == '+'             ? 62
           : c == '/'             ? 63
                                  : -1;
}

/* Decodes base64 (padding optional at the end) into s->bin; the length, or -1. */
static long decode_b64(const char *str, size_t n, pattern_scratch *s)
{
    size_t k = 0, bits = 0;
    uint32_t acc = 0;
    if (grow(&s->bin, &s->bincap, n + 1) < 0)
        return -1;
    while (n > 0 && str[n - 1] == '=')
        n--;
    for (size_t i = 0; i < n; i++) {
        int v = b64val((unsigned char)str[i]);
        if (v < 0)
            return -1;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            s->bin[k++] = (unsigned char)(acc >> bits);
        }
    }
    return n % 4 == 1 ? -1 : (long)k;
}

static long decode_hex(const char *str, size_t n, pattern_scratch *s)
{
    if (n % 2 || grow(&s->bin, &s->bincap, n / 2 + 1) < 0)
        return -1;
    for (size_t i = 0; i < n; i += 2) {
        int hi = hexval((unsigned char)str[i]), lo = hexval((unsigned char)str[i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        s->bin[i / 2] = (unsigned char)(hi << 4 | lo);
    }
    return (long)(n / 2);
}

/* The bytes a property value stands for, in s->bin: decoded _bin/_hex, else Latin-1 text. */
static long value_bytes(const pattern_cmp *c, const ajson_value *v, pattern_scratch *s)
{
    if (c->binary == 1)
        return decode_b64(v->u.str, v->len, s);
    if (c->binary == 2)
        return decode_hex(v->u.str, v->len, s);
    return to_latin1(v->u.str, v->len, s);
}

static int set_error(pattern_scratch *s, const char *fmt, const char *what)
{
    char shown[64];
    size_t n = strlen(what), k = 0;
    for (size_t i = 0; i < n && k + 4 < sizeof shown; i++)
        shown[k++] = (unsigned char)what[i] < 0x20 ? '?' : what[i];
    if (k < n)
        shown[k++] = '.', shown[k++] = '.', shown[k++] = '.';
    shown[k] = '\0';
    snprintf(s->msg, sizeof s->msg, fmt, shown);
    return ACCORD_EINVAL;
}

/* Three-way comparison of a string value with a literal: -1/0/1, MISMATCH, or an error. */
static int cmp_string(const pattern_cmp *c, const ajson_value *v, const pattern_lit *l,
                      pattern_scratch *s)
{
    ts_value t;
    long n;
    if (c->binary || l->kind == PL_BINARY) {
        n = value_bytes(c, v, s);
        if (n < 0)
            return MISMATCH;
        if (l->kind == PL_BINARY)
            return cmp_bytes(s->bin, (size_t)n, (const unsigned char *)l->s, l->len);
        if (l->kind != PL_STRING || !l->latin1)
            return MISMATCH;
        return cmp_bytes(s->bin, (size_t)n, l->latin1, l->latin1_len);
    }
    if (l->kind == PL_STRING)
        return cmp_bytes((const unsigned char *)v->u.str, v->len, (const unsigned char *)l->s,
                         l->len);
    if (l->kind != PL_TIMESTAMP)
        return MISMATCH;
    if (ts_parse(v->u.str, &t) < 0)
        return set_error(s, "property value '%s' is not a timestamp (compared with t'')",
                         v->u.str);
    return ts_cmp(&t, &l->ts);
}

static int cmp_number(const ajson_value *v, const pattern_lit *l)
{
    int64_t iv;
    double dv;
    if (l->kind != PL_INT && l->kind != PL_FLOAT)
        return MISMATCH;
    if (l->kind == PL_INT && ajson_int(v, &iv))
        return (iv > l->i) - (iv < l->i);
    if (!ajson_double(v, &dv))
        return MISMATCH;
    return (dv > l->f) - (dv < l->f);
}

/* Three-way comparison of any value with a literal. */
static int cmp_value(const pattern_cmp *c, const ajson_value *v, const pattern_lit *l,
                     pattern_scratch *s)
{
    switch (v->type) {
    case AJSON_STRING:
        return cmp_string(c, v, l, s);
    case AJSON_NUMBER:
        return cmp_number(v, l);
    case AJSON_TRUE:
    case AJSON_FALSE:
        if (l->kind != PL_BOOL)
            return MISMATCH;
        return (v->type == AJSON_TRUE) == (l->i != 0) ? 0 : 1;
    default:
        return MISMATCH;
    }
}

/* The truth of an ordering/equality operator given a three-way result. */
static int order_truth(pattern_op op, int r)
{
    if (r == MISMATCH)
        return op == PO_NEQ;
    switch (op) {
    case PO_EQ: return r == 0;
    case PO_NEQ: return r != 0;
    case PO_LT: return r < 0;
    case PO_LE: return r <= 0;
    case PO_GT: return r > 0;
    default: return r >= 0;
    }
}

/* ------------------------------------------------------------------------------------------ */
/* LIKE, MATCHES, networks                                                                      */

const char *pattern_nfc(const char *str, size_t n, unsigned char **buf, size_t *cap, size_t *outlen)
{
    size_t i = 0, len;
    uint8_t *r;
    while (i < n && (unsigned char)str[i] < 0x80)
        i++;
    *outlen = n;
    if (i == n)
        return str;
    if (grow(buf, cap, n * 3 + 16) < 0)
        return NULL;
    len = *cap;
    r = u8_normalize(UNINORM_NFC, (const uint8_t *)str, n, *buf, &len);
    if (!r)
        return NULL;
    if (r != *buf) {
        int g = grow(buf, cap, len);
        if (g == 0)
            memcpy(*buf, r, len);
        free(r);
        if (g < 0)
            return NULL;
    }
    *outlen = len;
    return (const char *)*buf;
}

/* The NFC form of str[0..n) in s->buf (or str itself when it is ASCII); NULL on failure. */
static const char *nfc(const char *str, size_t n, size_t *outlen, pattern_scratch *s)
{
    return pattern_nfc(str, n, &s->buf, &s->cap, outlen);
}

/* Advances *i past one code point of v (one byte if it is not valid UTF-8). */
static void next_cp(const unsigned char *v, size_t vn, size_t *i)
{
    if (pattern_utf8_next(v, vn, i) < 0)
        (*i)++;
}

/* Anchored LIKE over code points: '%' any run, '_' one code point. */
int pattern_like(const char *vs, size_t vn, const char *ps, size_t pn)
{
    const unsigned char *v = (const unsigned char *)vs, *p = (const unsigned char *)ps;
    size_t vi = 0, pi = 0, star_p = (size_t)-1, star_v = 0;
    while (vi < vn) {
        if (pi < pn && p[pi] == '%') {
            star_p = ++pi;
            star_v = vi;
        } else if (pi < pn && p[pi] == '_') {
            pi++;
            next_cp(v, vn, &vi);
        } else if (pi < pn && p[pi] == v[vi]) {
            pi++;
            vi++;
        } else if (star_p != (size_t)-1) {
            pi = star_p;
            next_cp(v, vn, &star_v);
            vi = star_v;
        } else {
            return 0;
        }
    }
    while (pi < pn && p[pi] == '%')
        pi++;
    return pi == pn;
}

/* Bytes as Latin-1 text in UTF-8, into s->buf. */
static const char *latin1_text(const unsigned char *b, size_t n, size_t *outlen, pattern_scratch *s)
{
    size_t k = 0;
    if (grow(&s->buf, &s->cap, n * 2 + 1) < 0)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (b[i] < 0x80) {
            s->buf[k++] = b[i];
        } else {
            s->buf[k++] = (unsigned char)(0xC0 | b[i] >> 6);
            s->buf[k++] = (unsigned char)(0x80 | (b[i] & 0x3F));
        }
    }
    *outlen = k;
    return (const char *)s->buf;
}

static int text_op(const pattern_cmp *c, const ajson_value *v, pattern_scratch *s)
{
    const char *t;
    size_t n;
    int rc;
    if (v->type != AJSON_STRING)
        return 0;
    if (c->binary) {
        long bn = value_bytes(c, v, s);
        if (bn < 0)
            return 0;
        t = latin1_text(s->bin, (size_t)bn, &n, s);
    } else {
        t = nfc(v->u.str, v->len, &n, s);
    }
    if (!t)
        return ACCORD_ENOMEM;
    if (c->op == PO_LIKE)
        return pattern_like(t, n, c->lits[0].s, c->lits[0].len);
    rc = pcre2_match(c->re, (PCRE2_SPTR)t, n, 0, 0, s->md, s->mctx);
    if (rc >= 0)
        return 1;
    if (rc == PCRE2_ERROR_NOMATCH)
        return 0;
    return set_error(s, "regular expression failed on '%s' (match limit)", v->u.str);
}

static int net_op(const pattern_cmp *c, const ajson_value *v)
{
    pattern_net n;
    const pattern_net *inner, *outer;
    if (v->type != AJSON_STRING || pattern_net_parse(v->u.str, v->len, &n) < 0 ||
        n.family != c->net.family)
        return 0;
    inner = c->op == PO_ISSUBSET ? &n : &c->net;
    outer = c->op == PO_ISSUBSET ? &c->net : &n;
    if (inner->prefix < outer->prefix)
        return 0;
    for (int i = 0; i < outer->prefix; i++) {
        unsigned bit = 0x80u >> (i % 8);
        if ((inner->addr[i / 8] & bit) != (outer->addr[i / 8] & bit))
            return 0;
    }
    return 1;
}

/* The comparison (before NOT) over one value: 1, 0, or an error. */
static int test_value(const pattern_cmp *c, const ajson_value *v, pattern_scratch *s)
{
    int r;
    switch (c->op) {
    case PO_EXISTS:
        return 1;
    case PO_IN:
        for (size_t i = 0; i < c->nlits; i++) {
            r = cmp_value(c, v, &c->lits[i], s);
            if (r < -1)
                return r;
            if (r == 0)
                return 1;
        }
        return 0;
    case PO_LIKE:
    case PO_MATCHES:
        return text_op(c, v, s);
    case PO_ISSUBSET:
    case PO_ISSUPERSET:
        return net_op(c, v);
    default:
        r = cmp_value(c, v, c->lits, s);
        return r < -1 ? r : order_truth(c->op, r);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Comparison expressions                                                                       */

typedef struct cmp_state {
    const pattern_cmp *c;
    pattern_scratch *s;
    int seen; /* values the path reached */
} cmp_state;

static int on_value(void *ud, const ajson_value *v)
{
    cmp_state *st = ud;
    st->seen++;
    return test_value(st->c, v, st->s);
}

/* One comparison against object obj of observation o: 1, 0, or an error. */
static int eval_cmp(const pattern_cmp *c, const ajson_value *obj, const pattern_obs *o,
                    pattern_scratch *s)
{
    cmp_state st = {c, s, 0};
    int rc = pattern_path_walk(c, obj, o, on_value, &st);
    if (rc < 0)
        return rc;
    if (c->op == PO_EXISTS)
        return c->negated ? st.seen == 0 : st.seen > 0;
    if (st.seen == 0)
        return 0;
    return c->negated ? !rc : rc;
}

static int eval_cexpr(const pattern_cexpr *e, const ajson_value *obj, const char *type,
                      const pattern_obs *o, pattern_scratch *s)
{
    int rc;
    if (e->kind == PC_CMP) {
        if (strcmp(type, e->cmp->type) != 0)
            return 0;
        return eval_cmp(e->cmp, obj, o, s);
    }
    rc = eval_cexpr(e->l, obj, type, o, s);
    if (rc < 0 || (e->kind == PC_AND && rc == 0) || (e->kind == PC_OR && rc == 1))
        return rc;
    return eval_cexpr(e->r, obj, type, o, s);
}

int pattern_eval_leaf(const pattern_cexpr *e, const pattern_obs *o, pattern_scratch *s)
{
    for (uint32_t k = 0; k < o->nobjs; k++) {
        int rc = eval_cexpr(e, o->objs[k], o->types[k], o, s);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Loading observed-data                                                                        */

static int load_fail(char *msg, size_t msglen, const char *what)
{
    snprintf(msg, msglen, "%s", what);
    return ACCORD_EINVAL;
}

static int load_times(pattern_obs *o, const ajson_value *od, char *msg, size_t msglen)
{
    const char *f = ajson_str(ajson_get(od, "first_observed"));
    const char *l = ajson_str(ajson_get(od, "last_observed"));
    int64_t n;
    if (!f || ts_parse(f, &o->first) < 0)
        return load_fail(msg, msglen, "observed-data without a valid first_observed");
    if (!l || ts_parse(l, &o->last) < 0)
        return load_fail(msg, msglen, "observed-data without a valid last_observed");
    if (ts_cmp(&o->last, &o->first) < 0)
        return load_fail(msg, msglen, "observed-data with last_observed before first_observed");
    if (!ajson_int(ajson_get(od, "number_observed"), &n) || n < 1)
        return load_fail(msg, msglen, "observed-data without a positive number_observed");
    o->count = (uint64_t)n;
    return 0;
}

static int alloc_objs(pattern_obs *o, size_t n, ajson_arena *a)
{
    o->objs = ajson_arena_alloc(a, (n ? n : 1) * sizeof *o->objs);
    o->keys = ajson_arena_alloc(a, (n ? n : 1) * sizeof *o->keys);
    o->types = ajson_arena_alloc(a, (n ? n : 1) * sizeof *o->types);
    return o->objs && o->keys && o->types ? 0 : ACCORD_ENOMEM;
}

static void add_obj(pattern_obs *o, const char *key, const ajson_value *v)
{
    const char *t = ajson_str(ajson_get(v, "type"));
    o->objs[o->nobjs] = v;
    o->keys[o->nobjs] = key;
    o->types[o->nobjs++] = t ? t : "";
}

int pattern_obs_load(pattern_obs *o, const ajson_value *od,
                     const ajson_value *(*lookup)(void *ud, const char *id), void *ud,
                     ajson_arena *a, char *msg, size_t msglen)
{
    const ajson_value *objs = ajson_get(od, "objects"), *refs = ajson_get(od, "object_refs");
    const char *id = ajson_str(ajson_get(od, "id"));
    int rc;
    memset(o, 0, sizeof *o);
    o->id = id ? id : "";
    if ((rc = load_times(o, od, msg, msglen)) != 0)
        return rc;
    if (objs && objs->type == AJSON_OBJECT) {
        if ((rc = alloc_objs(o, objs->len, a)) != 0)
            return rc;
        o->v20 = 1;
        for (size_t i = 0; i < objs->len; i++)
            if (objs->u.members[i].value.type == AJSON_OBJECT)
                add_obj(o, objs->u.members[i].key, &objs->u.members[i].value);
        return 0;
    }
    if (!refs || refs->type != AJSON_ARRAY)
        return load_fail(msg, msglen, "observed-data without objects or object_refs");
    if ((rc = alloc_objs(o, refs->len, a)) != 0)
        return rc;
    for (size_t i = 0; i < refs->len; i++) {
        const char *ref = ajson_str(&refs->u.items[i]);
        const ajson_value *v = ref && lookup ? lookup(ud, ref) : NULL;
        if (!v) {
            snprintf(msg, msglen, "object_refs[%zu] names an object the input does not hold", i);
            return ACCORD_EINVAL;
        }
        add_obj(o, ref, v);
    }
    return 0;
}
