/*
 * match_input.c - telemetry lines to fields: the built-in field map and the JSON field extractor.
 *
 * Why not the JSON parser: building a tree of every event caps matching at 34-125 MB/s per core
 * with the usual libraries, and about 550 MB/s with accord's own (util/json.c), while the matcher
 * needs a handful of fields out of ~250-byte lines at ~600 MB/s or more.  So this file walks the
 * line once, left to right, and looks only at the keys of a field map; every other value is
 * skipped by scanning for its end (strings: the next unescaped quote; objects and arrays: the
 * matching bracket).  A line without a backslash is first indexed in one vector pass (bitmaps
 * of quotes and literal ends, see "The line index"), so the ends of its keys, strings and
 * literals are found with a count of trailing zeros instead of a scan.  The matcher indexes
 * ~16 KiB of lines at a time (a window, see "Windows": newlines too, so lines are found
 * without a memchr each, and whether it has a backslash at all, so its lines are looked at for
 * one only when it does) and hands each line's place in it to mjson_extract_win;
 * mjson_extract indexes a line of up to 2 KiB on its own.  Measured on this machine class:
 * ~1.2 GB/s scalar for a 3-field extractor.
 *
 * The field map is a tree of nodes, one per JSON object level that matters.  A node lists its
 * keys; a key has a role (what its value is: an address, a name, a digest ...) and/or a
 * sub-node (the keys of its object value, or of the objects in its array value).  Arrays of
 * strings give one field per string.  A node finds a key through a perfect hash of its
 * 16-byte words (mfmap_find16) or, for a longer key or one near the line's end, a table of
 * MFMAP_HASH slots by (length, first byte, last byte), then memcmp.
 *
 * The built-in map (match_map.c) serves Zeek JSON logs and Suricata eve.json at once: their keys
 * do not collide, so an event is recognised by the keys it has and needs no format detection.
 *
 * Escapes: a key or value with a backslash is unescaped exactly as the strict parser does
 * (\uXXXX with surrogate pairs to UTF-8; \u0000, lone surrogates and unknown escapes make the
 * line malformed), into the caller's scratch arena.  Keys are compared after unescaping, so
 * "id.orig\u005fh" is "id.orig_h".
 *
 * What is checked, and what is not: the skeleton of the line (one object, keys, colons, commas
 * and brackets at every level the map enters, balanced brackets and terminated strings
 * everywhere, nesting at most 128, nothing after the object) and every string that is used.  Not
 * checked: UTF-8, number grammar, duplicate keys, control bytes in strings, the commas inside
 * values that are skipped.  So every line the strict parser accepts is accepted here with the
 * same values (tests/unit/test_match.c and fuzz/match_line.c check this differentially), and
 * some lines it rejects are read anyway: a matcher should not lose an event over a stray byte.
 */
#include "match.h"
#include "util/cpu.h"

#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* Key lookup                                                                                   */

static unsigned slot_of(const char *k, size_t len)
{
    if (len == 0)
        return 0;
    return (unsigned)(len * 7 + (unsigned char)k[0] * 31 + (unsigned char)k[len - 1]) % MFMAP_HASH;
}

/* Fills a node's slot table.  A key that finds its slot full (or whose index does not fit a
 * byte) is left out of the table and the node marked for a scan on a miss: the built-in nodes
 * never need it, a configured node with unlucky keys costs a scan per unmapped key. */
/* The perfect hash of n's keys of 1 to 16 bytes (see mfmap_node.fseed): the first of a few
 * seeds that gives each its own one of the 2^MFMAP_FBITS slots (match.h). */
static void node_fast_index(mfmap_node *n)
{
    n->fseed = 0;
    memset(n->fslot, 0, sizeof n->fslot);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (n->n >= 255)
        return;
    for (size_t i = 0; i < n->n; i++) {
        char pad[16] = {0};
        mfmap_key *k = &n->keys[i];
        if (k->key_len >= 1 && k->key_len <= 16) {
            memcpy(pad, k->key, k->key_len);
            mfmap_words16(pad, k->key_len, k->w);
        }
    }
    for (uint64_t t = 1; t <= 4096; t++) {
        int ok = 1;
        n->fseed = mix64(t) | 1;
        memset(n->fslot, 0, sizeof n->fslot);
        for (size_t i = 0; i < n->n && ok; i++) {
            const mfmap_key *k = &n->keys[i];
            unsigned sl;
            if (k->key_len < 1 || k->key_len > 16)
                continue;
            sl = mfmap_fslot(n, k->w, k->key_len);
            if (n->fslot[sl])
                ok = 0;
            else
                n->fslot[sl] = (uint8_t)(i + 1);
        }
        if (ok)
            return;
    }
    n->fseed = 0;
    memset(n->fslot, 0, sizeof n->fslot);
#endif
}

void mfmap_node_index(mfmap_node *n)
{
    node_fast_index(n);
    memset(n->slot, 0, sizeof n->slot);
    n->linear = 0;
    for (size_t i = 0; i < n->n; i++) {
        uint8_t *s = n->slot[slot_of(n->keys[i].key, n->keys[i].key_len)];
        int j = 0;
        while (j < 4 && s[j])
            j++;
        if (j < 4 && i < 255)
            s[j] = (uint8_t)(i + 1);
        else
            n->linear = 1;
    }
}


/* Keys are short: two overlapping word loads (4 or 8 bytes, never past either key) beat a call
 * to memcmp and a byte loop. */
static inline int same_bytes(const char *a, const char *b, size_t len)
{
    if (len >= 8 && len <= 16) {
        uint64_t a0, a1, b0, b1;
        memcpy(&a0, a, 8);
        memcpy(&b0, b, 8);
        memcpy(&a1, a + len - 8, 8);
        memcpy(&b1, b + len - 8, 8);
        return ((a0 ^ b0) | (a1 ^ b1)) == 0;
    }
    if (len >= 4 && len < 8) {
        uint32_t a0, a1, b0, b1;
        memcpy(&a0, a, 4);
        memcpy(&b0, b, 4);
        memcpy(&a1, a + len - 4, 4);
        memcpy(&b1, b + len - 4, 4);
        return ((a0 ^ b0) | (a1 ^ b1)) == 0;
    }
    for (size_t i = 0; i < len; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

static inline __attribute__((always_inline)) const mfmap_key *node_find(const mfmap_node *n,
                                                                        const char *k, size_t len)
{
    const uint8_t *s = n->slot[slot_of(k, len)];
    for (int j = 0; j < 4 && s[j]; j++) {
        const mfmap_key *mk = &n->keys[s[j] - 1];
        if (mk->key_len == len && same_bytes(mk->key, k, len))
            return mk;
    }
    if (__builtin_expect(n->linear, 0))
        for (size_t i = 0; i < n->n; i++)
            if (n->keys[i].key_len == len && memcmp(n->keys[i].key, k, len) == 0)
                return &n->keys[i];
    return NULL;
}

const mfmap_key *mfmap_find(const mfmap_node *n, const char *k, size_t len)
{
    return node_find(n, k, len);
}

/* ------------------------------------------------------------------------------------------ */
/* Scanning                                                                                     */

#define MAX_NEST 128

typedef struct xs {
    const char *p, *end, *start;
    mfield *out;
    size_t n, max;
    mscratch *sc;
    const char *why;
    const char *at;
    const uint64_t *qm, *dm; /* the line index (see below), or NULL: scan byte by byte */
} xs;

static int force_scalar;

void mjson_force_scalar(int on)
{
    force_scalar = on;
}

static int fail(xs *x, const char *at, const char *why)
{
    if (!x->why) {
        x->why = why;
        x->at = at;
    }
    return -1;
}

static inline void skip_ws(xs *x)
{
    if (x->p < x->end && (unsigned char)*x->p > ' ')
        return;
    while (x->p < x->end && (*x->p == ' ' || *x->p == '\t' || *x->p == '\r' || *x->p == '\n'))
        x->p++;
}

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* Nonzero where a byte of v equals the byte b (exact: no false positives). */
static inline uint64_t eqbytes(uint64_t v, uint64_t b)
{
    uint64_t t = v ^ (b * ONES);
    return ~(((t & ~HIGHS) + ~HIGHS) | t) & HIGHS;
}

/* The first '"' or '\\' in p[0..end), or end: eight bytes at a time. */
static const char *find_special_swar(const char *p, const char *end)
{
    while (end - p >= 8) {
        uint64_t v, m;
        memcpy(&v, p, 8);
        m = eqbytes(v, '"') | eqbytes(v, '\\');
        if (m)
            return p + (__builtin_ctzll(m) >> 3);
        p += 8;
    }
    while (p < end && *p != '"' && *p != '\\')
        p++;
    return p;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

/* The same with AVX2, 32 bytes at a time; only called when the CPU has AVX2. */
__attribute__((target("avx2"))) static const char *find_special_avx2(const char *p, const char *end)
{
    const __m256i q = _mm256_set1_epi8('"'), bs = _mm256_set1_epi8('\\');
    while (end - p >= 32) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)p);
        unsigned m = (unsigned)_mm256_movemask_epi8(
            _mm256_or_si256(_mm256_cmpeq_epi8(v, q), _mm256_cmpeq_epi8(v, bs)));
        if (m)
            return p + __builtin_ctz(m);
        p += 32;
    }
    return find_special_swar(p, end);
}

#endif

static inline const char *find_special(const char *p, const char *end)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (!force_scalar && cpu_has_avx2())
        return find_special_avx2(p, end);
#endif
    return find_special_swar(p, end);
}

/*
 * The line index: one pass over a line (AVX2, 64 bytes per step, or a table-driven scalar
 * loop) gives two bitmaps, bit i for byte i: qm marks '"', dm the bytes that end a literal
 * (, } ] and whitespace).  A line without a backslash has no escaped quote, so every '"' in it
 * delimits a string: the end of a string or literal is then the next set bit, found with a
 * count of trailing zeros instead of a scan.  Lines with a backslash, and lines longer than
 * IDX_MAX, are read with the byte scanners above; both ways give the same result by
 * construction (the bitmaps are exactly the bytes those scanners stop at).
 */
#define IDX_MAX 2048
#define IDX_WORDS (IDX_MAX / 64)

enum { C_QUOTE = 1, C_DELIM = 2, C_BSLASH = 4, C_NL = 8 };
static const uint8_t byte_class[256] = {
    ['"'] = C_QUOTE, ['\\'] = C_BSLASH, [','] = C_DELIM,  ['}'] = C_DELIM,  [']'] = C_DELIM,
    [' '] = C_DELIM, ['\t'] = C_DELIM,  ['\r'] = C_DELIM, ['\n'] = C_DELIM | C_NL,
};

/* The scalar index of s[0..len) (len <= IDX_MAX); 0, or -1 when s has a backslash. */
static int index_scalar(const char *s, size_t len, uint64_t *qm, uint64_t *dm)
{
    unsigned any = 0;
    for (size_t w = 0; w * 64 < len; w++) {
        uint64_t q = 0, d = 0;
        size_t n = len - w * 64 < 64 ? len - w * 64 : 64;
        for (size_t i = 0; i < n; i++) {
            unsigned c = byte_class[(unsigned char)s[w * 64 + i]];
            any |= c;
            q |= (uint64_t)(c & C_QUOTE) << i;
            d |= (uint64_t)((c & C_DELIM) >> 1) << i;
        }
        qm[w] = q;
        dm[w] = d;
    }
    return any & C_BSLASH ? -1 : 0;
}

#if defined(__x86_64__) && defined(__GNUC__)
/*
 * The same with AVX2; only called when the CPU has it.  Quotes by one compare; the other bytes
 * are classified by two table lookups (vpshufb), on the low and on the high nibble, whose AND
 * has a bit of 0x0F set for a literal end and 0x20 for a backslash (after simdjson):
 *
 *   bytes            hi nibble: bits     lo nibble: bits
 *   \t \n \r         0: 0x01             9, A: 0x01   D: 0x01|0x04|0x08
 *   ' ' ','          2: 0x02             0: 0x02      C: 0x02|0x20
 *   ']' '\\'          5: 0x04|0x20
 *   '}'              7: 0x08
 *
 * Every other (hi, lo) pair ANDs to 0 (bytes >= 0x80 have no hi bits); the unit tests compare
 * this with the scalar table on every byte value.
 */
__attribute__((target("avx2"))) static inline __m256i classify_avx2(__m256i v)
{
    const __m256i lo_t =
        _mm256_setr_epi8(0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x01, 0, 0x22, 0x0D, 0, 0, 0x02, 0, 0,
                         0, 0, 0, 0, 0, 0, 0x01, 0x01, 0, 0x22, 0x0D, 0, 0);
    const __m256i hi_t =
        _mm256_setr_epi8(0x01, 0, 0x02, 0, 0, 0x24, 0, 0x08, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0, 0x02,
                         0, 0, 0x24, 0, 0x08, 0, 0, 0, 0, 0, 0, 0, 0);
    const __m256i nib = _mm256_set1_epi8(0x0F);
    __m256i lo = _mm256_shuffle_epi8(lo_t, _mm256_and_si256(v, nib));
    __m256i hi = _mm256_shuffle_epi8(hi_t, _mm256_and_si256(_mm256_srli_epi16(v, 4), nib));
    return _mm256_and_si256(lo, hi);
}

__attribute__((target("avx2"))) static int index_avx2(const char *s, size_t len, uint64_t *qm,
                                                      uint64_t *dm)
{
    const __m256i dbits = _mm256_set1_epi8(0x0F), bsbit = _mm256_set1_epi8(0x20),
                  q = _mm256_set1_epi8('"'), zero = _mm256_setzero_si256();
    __m256i bsany = zero;
    char tail[64];
    for (size_t w = 0; w * 64 < len; w++) {
        const char *p = s + w * 64;
        uint64_t qw = 0, dw = 0;
        if (len - w * 64 < 64) {
            memset(tail, 0, sizeof tail);
            memcpy(tail, p, len - w * 64);
            p = tail;
        }
        for (int h = 0; h < 2; h++) {
            __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32 * h));
            __m256i c = classify_avx2(v);
            bsany = _mm256_or_si256(bsany, _mm256_and_si256(c, bsbit));
            qw |= (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, q)) << (32 * h);
            dw |= (uint64_t)(uint32_t)~_mm256_movemask_epi8(
                      _mm256_cmpeq_epi8(_mm256_and_si256(c, dbits), zero))
                  << (32 * h);
        }
        qm[w] = qw;
        dm[w] = dw;
    }
    return _mm256_testz_si256(bsany, bsany) ? 0 : -1;
}
#endif

static int index_line(const char *s, size_t len, uint64_t *qm, uint64_t *dm)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (!force_scalar && cpu_has_avx2())
        return index_avx2(s, len, qm, dm);
#endif
    return index_scalar(s, len, qm, dm);
}

/* The offset of the first set bit at or after pos (<= len) in m, or len when there is none.
 * Offsets count from x->start: the line's first byte when it was indexed alone, the window's
 * when it lies in one (mjson_extract_win), where the bits of the lines after it are clamped
 * to len like any past a line's end.  m has a sentinel word after the indexed bytes. */
#define next_bit_x(x, m, pos, len) mbits_next(m, pos, len)

/* Scans a string whose opening quote was consumed: *q = its closing quote, *esc = it has a
 * backslash.  0, or -1 when it is not terminated. */
static inline __attribute__((always_inline)) int scan_string(xs *x, const char **q, int *esc)
{
    const char *p = x->p;
    *esc = 0;
    if (x->qm) {
        size_t len = (size_t)(x->end - x->start);
        size_t at = next_bit_x(x, x->qm, (size_t)(p - x->start), len);
        if (at >= len)
            return fail(x, x->p - 1, "unterminated string");
        *q = x->start + at;
        return 0;
    }
    /* most keys and many values are short: look at 16 bytes inline first */
    for (int k = 0; k < 2 && x->end - p >= 8; k++, p += 8) {
        uint64_t v, m;
        memcpy(&v, p, 8);
        m = eqbytes(v, '"') | eqbytes(v, '\\');
        if (m) {
            p += __builtin_ctzll(m) >> 3;
            if (*p == '"') {
                *q = p;
                return 0;
            }
            break;
        }
    }
    for (;;) {
        p = find_special(p, x->end);
        if (p >= x->end)
            return fail(x, x->p - 1, "unterminated string");
        if (*p == '"')
            break;
        *esc = 1;
        p += 2;
    }
    *q = p;
    return 0;
}

static int hex4(const char *p, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return -1;
        v = v << 4 | (uint32_t)d;
    }
    *out = v;
    return 0;
}

static size_t put_utf8(char *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decodes the \u escape at s (s[0] == 'u') of s[0..n); the code point, or -1. *used = bytes. */
static long unicode_escape(const char *s, size_t n, size_t *used)
{
    uint32_t hi, lo;
    if (n < 5 || hex4(s + 1, &hi) < 0 || hi == 0)
        return -1;
    *used = 5;
    if (hi >= 0xDC00 && hi <= 0xDFFF)
        return -1;
    if (hi < 0xD800 || hi > 0xDBFF)
        return (long)hi;
    if (n < 11 || s[5] != '\\' || s[6] != 'u' || hex4(s + 7, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF)
        return -1;
    *used = 11;
    return 0x10000 + (((long)hi - 0xD800) << 10) + ((long)lo - 0xDC00);
}

/* Unescapes s[0..n) into o (room for n bytes); the length, or -1 on a bad escape. */
static long unescape(const char *s, size_t n, char *o)
{
    size_t i = 0, k = 0;
    while (i < n) {
        const char *b = memchr(s + i, '\\', n - i);
        size_t run = b ? (size_t)(b - (s + i)) : n - i, used = 2;
        memcpy(o + k, s + i, run);
        k += run;
        i += run;
        if (i >= n)
            break;
        if (i + 1 >= n)
            return -1;
        switch (s[i + 1]) {
        case '"':
            o[k++] = '"';
            break;
        case '\\':
            o[k++] = '\\';
            break;
        case '/':
            o[k++] = '/';
            break;
        case 'b':
            o[k++] = '\b';
            break;
        case 'f':
            o[k++] = '\f';
            break;
        case 'n':
            o[k++] = '\n';
            break;
        case 'r':
            o[k++] = '\r';
            break;
        case 't':
            o[k++] = '\t';
            break;
        case 'u': {
            long cp = unicode_escape(s + i + 1, n - i - 1, &used);
            if (cp < 0)
                return -1;
            k += put_utf8(o + k, (uint32_t)cp);
            used += 1;
            break;
        }
        default:
            return -1;
        }
        i += used;
    }
    return (long)k;
}

/* The string s[0..n) (escaped when esc) as plain bytes: s itself or a copy in the scratch. */
static inline __attribute__((always_inline)) int
string_bytes(xs *x, const char *s, size_t n, int esc, const char **out, size_t *len)
{
    char *o;
    long k;
    if (!esc) {
        *out = s;
        *len = n;
        return 0;
    }
    o = ajson_arena_alloc(x->sc, n + 1);
    if (!o)
        return fail(x, s, "out of memory");
    k = unescape(s, n, o);
    if (k < 0)
        return fail(x, s, "invalid escape in string");
    o[k] = '\0';
    *out = o;
    *len = (size_t)k;
    return 0;
}

static void emit(xs *x, const mfmap_key *mk, const char *p, size_t len, int str)
{
    if (x->n >= x->max || len > UINT32_MAX)
        return;
    x->out[x->n++] = (mfield){p, (uint32_t)len, mk->role, mk->field, (uint8_t)str};
}

/* Skips a nested object or array at x->p, tracking only strings and brackets. */
static int skip_nested(xs *x, int depth)
{
    char stack[MAX_NEST];
    int sp = 0;
    const char *q;
    int esc;
    while (x->p < x->end) {
        char c = *x->p++;
        if (c == '"') {
            if (scan_string(x, &q, &esc) < 0)
                return -1;
            x->p = q + 1;
        } else if (c == '{' || c == '[') {
            if (sp + depth >= MAX_NEST)
                return fail(x, x->p - 1, "nesting too deep");
            stack[sp++] = c == '{' ? '}' : ']';
        } else if (c == '}' || c == ']') {
            if (sp == 0 || stack[--sp] != c)
                return fail(x, x->p - 1, "mismatched bracket");
            if (sp == 0)
                return 0;
        }
    }
    return fail(x, x->end, "unterminated object or array");
}

static int parse_object(xs *x, const mfmap_node *node, int depth);
static int parse_array(xs *x, const mfmap_key *mk, int depth);

/* Bytes that end a literal: , } ] and whitespace. */
static const uint8_t ends_literal[256] = {
    [','] = 1, ['}'] = 1, [']'] = 1, [' '] = 1, ['\t'] = 1, ['\r'] = 1, ['\n'] = 1,
};

/* A literal (number, true, false, null): its text up to the next delimiter. */
static int parse_literal(xs *x, const mfmap_key *mk)
{
    const char *s = x->p;
    if (x->dm)
        x->p =
            x->start + next_bit_x(x, x->dm, (size_t)(s - x->start), (size_t)(x->end - x->start));
    else
        while (x->p < x->end && !ends_literal[(unsigned char)*x->p])
            x->p++;
    if (x->p == s)
        return fail(x, s, "expected a value");
    if (mk && mk->role)
        emit(x, mk, s, (size_t)(x->p - s), 0);
    return 0;
}

static int parse_string_value(xs *x, const mfmap_key *mk)
{
    const char *q, *v;
    size_t len;
    int esc;
    x->p++;
    if (scan_string(x, &q, &esc) < 0)
        return -1;
    if (mk && mk->role) {
        if (string_bytes(x, x->p, (size_t)(q - x->p), esc, &v, &len) < 0)
            return -1;
        emit(x, mk, v, len, 1);
    }
    x->p = q + 1;
    return 0;
}

static int parse_value(xs *x, const mfmap_key *mk, int depth)
{
    if (x->p >= x->end)
        return fail(x, x->p, "expected a value");
    switch (*x->p) {
    case '"':
        return parse_string_value(x, mk);
    case '{':
        if (mk && mk->sub)
            return parse_object(x, mk->sub, depth + 1);
        return skip_nested(x, depth);
    case '[':
        if (mk)
            return parse_array(x, mk, depth + 1);
        return skip_nested(x, depth);
    default:
        return parse_literal(x, mk);
    }
}

/* Expects ',' (1: go on) or the closer (0: done) after an element. */
static int next_element(xs *x, char closer)
{
    skip_ws(x);
    if (x->p < x->end && *x->p == ',') {
        x->p++;
        skip_ws(x);
        return 1;
    }
    if (x->p < x->end && *x->p == closer) {
        x->p++;
        return 0;
    }
    return fail(x, x->p, closer == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
}

static int parse_array(xs *x, const mfmap_key *mk, int depth)
{
    int more;
    if (depth >= MAX_NEST)
        return fail(x, x->p, "nesting too deep");
    x->p++;
    skip_ws(x);
    if (x->p < x->end && *x->p == ']') {
        x->p++;
        return 0;
    }
    do {
        if (parse_value(x, mk, depth) < 0)
            return -1;
        more = next_element(x, ']');
    } while (more > 0);
    return more;
}

/* A key at x->p (the opening quote): its map entry in *mk (NULL when the map lacks it). */
static int parse_key(xs *x, const mfmap_node *node, const mfmap_key **mk)
{
    const char *q, *k;
    size_t len;
    int esc;
    if (x->p >= x->end || *x->p != '"')
        return fail(x, x->p, "expected a key");
    x->p++;
    if (scan_string(x, &q, &esc) < 0)
        return -1;
    if (string_bytes(x, x->p, (size_t)(q - x->p), esc, &k, &len) < 0)
        return -1;
    *mk = node_find(node, k, len);
    x->p = q + 1;
    skip_ws(x);
    if (x->p >= x->end || *x->p != ':')
        return fail(x, x->p, "expected ':' after a key");
    x->p++;
    skip_ws(x);
    return 0;
}

static inline const char *ws_end(const char *p, const char *end)
{
    if (p < end && (unsigned char)*p > ' ')
        return p;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    return p;
}

/* mbits_next without the clamp: the offset of the first set bit at or after pos, which may lie
 * past the line (in a window, the lines after it; or the sentinel word), for callers that
 * compare it with the line's end anyway. */
static inline size_t bits_from(const uint64_t *m, size_t pos)
{
    size_t w = pos >> 6;
    uint64_t v = m[w] >> (pos & 63);
    if (v)
        return pos + (unsigned)__builtin_ctzll(v);
    do
        v = m[++w];
    while (!v);
    return (w << 6) + (unsigned)__builtin_ctzll(v);
}

/* The two bytes at p as a little-endian number, and the pairs the compact loop looks for. */
static inline uint16_t load16(const char *p)
{
    return (uint16_t)((unsigned char)p[0] | (unsigned)(unsigned char)p[1] << 8);
}
#define COLON_QUOTE (':' | '"' << 8)
#define COMMA_QUOTE (',' | '"' << 8)

/*
 * parse_object for an indexed line (x->qm set): the same grammar, checks, results and error
 * offsets as the parse_key / parse_value / next_element loop, with the position and the fields
 * found in locals and the ends of keys, strings and literals taken from the index.  Nested
 * objects and arrays go through parse_value.  Not inlined into parse_object: the byte-scan loop
 * there would take the registers this loop needs.
 */
/* A compact array of strings and literals at s[*at] of an indexed line ("answers":["a","b"],
 * "TTLs":[300.0]), read from the index; its values are added to x->out[*n..] as parse_array
 * adds them (when mk has a role).  1 with *at past the ']' and *n updated; 0, with neither
 * touched, for anything else (whitespace, nested values, an empty or malformed array), which
 * the caller then reads through parse_value: the same values, or the same error.  Only for a
 * key of the map (mk): an array of another key is skipped by skip_nested, which reads a literal
 * with a quote or a bracket in it another way. */
static inline int compact_array(xs *x, const mfmap_key *mk, size_t *at, size_t *n)
{
    const char *s = x->start;
    size_t len = (size_t)(x->end - s), i = *at + 1, k = *n, q;
    const int take = mk->role != 0;
    for (;;) {
        if (i >= len)
            return 0;
        if (s[i] == '"') {
            q = bits_from(x->qm, i + 1);
            if (q >= len)
                return 0;
            if (take && k < x->max)
                x->out[k++] = (mfield){s + i + 1, (uint32_t)(q - i - 1), mk->role, mk->field, 1};
            i = q + 1;
        } else if (s[i] == '{' || s[i] == '[' || (unsigned char)s[i] <= ' ') {
            return 0;
        } else {
            size_t v = i;
            i = mbits_next(x->dm, v, len);
            if (i == v)
                return 0;
            if (take && k < x->max)
                x->out[k++] = (mfield){s + v, (uint32_t)(i - v), mk->role, mk->field, 0};
        }
        if (i < len && s[i] == ',') {
            i++;
            continue;
        }
        if (i < len && s[i] == ']')
            break;
        return 0;
    }
    *at = i + 1;
    *n = k;
    return 1;
}

static __attribute__((noinline)) int parse_object_idx(xs *x, const mfmap_node *node, int depth)
{
    const char *s = x->start, *end = x->end;
    const uint64_t *qm = x->qm;
    mfield *out = x->out;
    size_t n = x->n, max = x->max;
    size_t len = (size_t)(end - s), i = (size_t)(ws_end(x->p + 1, end) - s), q;
    /* a key at k may take the perfect hash when k <= klim (its 16 bytes lie in the line) */
    size_t klim = node->fseed && len >= 16 ? len - 16 : 0;
    if (i < len && s[i] == '}') {
        x->p = s + i + 1;
        return 0;
    }
    for (;;) {
        const mfmap_key *mk;
        size_t k;
        if (i >= len || s[i] != '"')
            return fail(x, s + i, "expected a key");
    key: /* s[i] is the key's opening quote */
        k = i + 1;
        q = bits_from(qm, k);
        if (q >= len)
            return fail(x, s + i, "unterminated string");
        if (q - k - 1 < 16 && k <= klim) /* the usual key: 1 to 16 bytes */
            mk = mfmap_find16(node, s + k, q - k);
        else
            mk = node_find(node, s + k, q - k);
        i = q + 1;
        if (i + 1 < len && load16(s + i) == COLON_QUOTE) { /* compact JSON, a string value */
            q = bits_from(qm, i + 2);
            if (q >= len)
                return fail(x, s + i + 1, "unterminated string");
            if (mk && mk->role && n < max)
                out[n++] = (mfield){s + i + 2, (uint32_t)(q - i - 2), mk->role, mk->field, 1};
            i = q + 1;
            goto next;
        }
        if (i + 1 < len && s[i] == ':' && (unsigned char)s[i + 1] > ' ') { /* compact JSON */
            i++;
        } else {
            i = (size_t)(ws_end(s + i, end) - s);
            if (i >= len || s[i] != ':')
                return fail(x, s + i, "expected ':' after a key");
            i = (size_t)(ws_end(s + i + 1, end) - s);
            if (i >= len)
                return fail(x, s + i, "expected a value");
        }
        if (s[i] == '"') {
            q = bits_from(qm, i + 1);
            if (q >= len)
                return fail(x, s + i, "unterminated string");
            if (mk && mk->role && n < max)
                out[n++] = (mfield){s + i + 1, (uint32_t)(q - i - 1), mk->role, mk->field, 1};
            i = q + 1;
        } else if (s[i] == '[' && mk && depth + 1 < MAX_NEST && compact_array(x, mk, &i, &n)) {
            /* read */
        } else if (s[i] == '{' || s[i] == '[') {
            x->p = s + i;
            x->n = n;
            if (parse_value(x, mk, depth) < 0)
                return -1;
            n = x->n;
            i = (size_t)(x->p - s);
        } else {
            size_t v = i;
            i = mbits_next(x->dm, v, len);
            if (i == v)
                return fail(x, s + v, "expected a value");
            if (mk && mk->role && n < max)
                out[n++] = (mfield){s + v, (uint32_t)(i - v), mk->role, mk->field, 0};
        }
    next:
        if (i + 1 < len && load16(s + i) == COMMA_QUOTE) { /* compact JSON: the next key */
            i++;
            goto key;
        }
        i = (size_t)(ws_end(s + i, end) - s);
        if (i < len && s[i] == ',') {
            i = (size_t)(ws_end(s + i + 1, end) - s);
            continue;
        }
        if (i < len && s[i] == '}') {
            x->p = s + i + 1;
            x->n = n;
            return 0;
        }
        return fail(x, s + i, "expected ',' or '}'");
    }
}

static int parse_object(xs *x, const mfmap_node *node, int depth)
{
    const mfmap_key *mk;
    int more;
    if (depth >= MAX_NEST)
        return fail(x, x->p, "nesting too deep");
    if (x->qm)
        return parse_object_idx(x, node, depth);
    x->p++;
    skip_ws(x);
    if (x->p < x->end && *x->p == '}') {
        x->p++;
        return 0;
    }
    do {
        if (parse_key(x, node, &mk) < 0 || parse_value(x, mk, depth) < 0)
            return -1;
        more = next_element(x, '}');
    } while (more > 0);
    return more;
}

/* The object at x->p to its end, and the result of the extraction. */
static int extract_run(xs *x, const mfmap *map, const char *line, const char **why, size_t *off)
{
    skip_ws(x);
    if (x->p >= x->end || *x->p != '{') {
        fail(x, x->p, "not a JSON object");
    } else if (parse_object(x, &map->root, 1) == 0) {
        skip_ws(x);
        if (x->p != x->end)
            fail(x, x->p, "bytes after the JSON object");
    }
    if (x->why) {
        *why = x->why;
        *off = (size_t)(x->at - line);
        return -1;
    }
    return (int)x->n;
}

int mjson_extract(const mfmap *map, const char *line, size_t len, mfield *out, size_t max,
                  mscratch *sc, const char **why, size_t *off)
{
    uint64_t qm[IDX_WORDS + 1], dm[IDX_WORDS + 1];
    xs x = {line, line + len, line, out, 0, max, sc, NULL, NULL, NULL, NULL};
    if (len <= IDX_MAX && force_scalar < 2 && index_line(line, len, qm, dm) == 0) {
        x.qm = qm;
        x.dm = dm;
        qm[(len + 63) / 64] = dm[(len + 63) / 64] = 1; /* the sentinel next_bit stops at */
    }
    return extract_run(&x, map, line, why, off);
}

int mjson_extract_win(const mfmap *map, const mjson_win *w, size_t off, size_t len, mfield *out,
                      size_t max, mscratch *sc, const char **why, size_t *erroff)
{
    const char *line = w->p + off;
    /* offsets from the window's start: its maps need no shift */
    xs x = {line, line + len, w->p, out, 0, max, sc, NULL, NULL, w->q, w->d};
    if (force_scalar >= 2) /* byte scans only, as the tests compare */
        return mjson_extract(map, line, len, out, max, sc, why, erroff);
    return extract_run(&x, map, line, why, erroff);
}

/* ------------------------------------------------------------------------------------------ */
/* Windows                                                                                      */

static void win_scalar(const char *s, size_t len, mjson_win *w)
{
    uint64_t any = 0;
    for (size_t k = 0; k * 64 < len; k++) {
        uint64_t q = 0, d = 0, n = 0;
        size_t cnt = len - k * 64 < 64 ? len - k * 64 : 64;
        for (size_t i = 0; i < cnt; i++) {
            uint64_t c = byte_class[(unsigned char)s[k * 64 + i]];
            q |= (c & C_QUOTE) << i;
            d |= (c >> 1 & 1) << i;
            any |= c & C_BSLASH;
            n |= (c >> 3 & 1) << i;
        }
        w->q[k] = q;
        w->d[k] = d;
        w->nl[k] = n;
    }
    w->any_bs = any != 0;
}

#if defined(__x86_64__) && defined(__GNUC__)
/* The three maps of 32 bytes at p (the classification of index_avx2, plus newlines by a
 * compare), and its backslashes ORed into *bs. */
__attribute__((target("avx2"))) static inline void win32_avx2(const char *p, uint32_t *q,
                                                              uint32_t *d, uint32_t *n, __m256i *bs)
{
    const __m256i zero = _mm256_setzero_si256();
    __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)p);
    __m256i c = _mm256_and_si256(classify_avx2(v), _mm256_set1_epi8(0x0F));
    *q = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('"')));
    *d = ~(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(c, zero));
    *n = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('\n')));
    *bs = _mm256_or_si256(*bs, _mm256_cmpeq_epi8(v, _mm256_set1_epi8('\\')));
}

__attribute__((target("avx2"))) static void win_avx2(const char *s, size_t len, mjson_win *w)
{
    char tail[64];
    __m256i bs = _mm256_setzero_si256();
    for (size_t k = 0; k * 64 < len; k++) {
        const char *p = s + k * 64;
        uint32_t q0, d0, n0, q1, d1, n1;
        if (len - k * 64 < 64) {
            memset(tail, 0, sizeof tail);
            memcpy(tail, p, len - k * 64);
            p = tail;
        }
        win32_avx2(p, &q0, &d0, &n0, &bs);
        win32_avx2(p + 32, &q1, &d1, &n1, &bs);
        w->q[k] = (uint64_t)q1 << 32 | q0;
        w->d[k] = (uint64_t)d1 << 32 | d0;
        w->nl[k] = (uint64_t)n1 << 32 | n0;
    }
    w->any_bs = !_mm256_testz_si256(bs, bs);
}
#endif

void mjson_win_index(mjson_win *w, const char *p, size_t len)
{
    size_t end = (len + 63) / 64;
    w->p = p;
    w->len = len;
#if defined(__x86_64__) && defined(__GNUC__)
    if (!force_scalar && cpu_has_avx2())
        win_avx2(p, len, w);
    else
#endif
        win_scalar(p, len, w);
    w->q[end] = w->d[end] = w->nl[end] = 1; /* the sentinels */
}
