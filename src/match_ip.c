/*
 * match_ip.c - IPv4 and IPv6 addresses and prefixes: which indicators name an address.
 *
 * Three structures, each chosen by a measurement on this machine class (1M keys, misses):
 *
 *   exact IPv4     the cache-line hash table (match_table.c) over the 32-bit addresses;
 *                  keys4[] and refs4[] are the entries, in address order.  From MIP_X24_MIN
 *                  keys on, a bitmap of the /24s that hold a key (x24, 2 MiB, one bit per
 *                  /24) comes first: a lookup probes the table only when its /24's bit is
 *                  set.  4M keys spread at random occupy ~21% of the /24s, so most misses
 *                  cost a bitmap word (cache-resident, often) instead of a table line from
 *                  memory; the matcher prefetches the word first and the line only when the
 *                  bit is set (mip_prefetch4, mip_prefetch4_late).
 *   IPv4 prefixes  DIR-24-8: tbl24 has one 32-bit cell per /24.  47-68 M lookups/s against
 *                  0.9-1.5 M for a binary trie.  A cell holds a "cover set" number, or
 *                  TBL8 | g for a /24 that holds longer prefixes, whose 256 cells are group g
 *                  of tbl8 (1 KiB each: exact /32s never go here, they are in the hash table;
 *                  once built, a group is stored as 256 one-byte indexes into its few distinct
 *                  cells).
 *                  Once built, tbl24 (64 MiB, all of it resident when the prefixes of a feed
 *                  are spread over the address space, as real ones are) is compressed to the
 *                  cells that are not 0 (cell24), indexed by a bitmap of their /24s (p24,
 *                  2 MiB) and the rank of each 512 /24s (rank24): 100k prefixes of /16 to /28
 *                  cover ~3.5M /24s, 14 MB of cells.  A lookup reads the p24 word first, like
 *                  the x24 word, so an address in no listed network (most of them) costs one
 *                  bitmap word, not a random line of 64 MiB.
 *   IPv6           one hash table per prefix length present (128 = exact addresses), probed
 *                  longest first.  Feeds use few lengths (/128, /64, /48, /32), so a lookup is
 *                  a handful of probes; a trie would be deeper for the same job.
 *
 * Every containing prefix matches, not only the longest: an indicator on 10.0.0.0/8 and one on
 * 10.1.0.0/16 both match 10.1.2.3, as the pattern evaluator says.  So a DIR-24-8 cell cannot hold
 * "the" prefix; it holds a cover set, the set of all prefixes containing the cell, written as a
 * chain: cover set s is (parent set, one prefix's ref), set 0 is empty.  Building inserts the
 * prefixes shortest first; a cell holding set s that a prefix p covers moves to the set (s, p),
 * made once and shared through a memo (a u64map from (s, p)).  A lookup walks the chain of its
 * cell: its length is the nesting depth of the prefixes, not their number.
 *
 * Invariants: tbl24 cells with TBL8 set exist only after every prefix of length <= 24 was
 * inserted (insertion is by ascending length); cover set numbers stay below TBL8.
 *
 * Not here: longest-prefix semantics, ranges that are not CIDR blocks, IPv4-mapped IPv6
 * addresses as IPv4 (an event's "::ffff:1.2.3.4" is an IPv6 address, as the evaluator sees it).
 */
#include "match.h"
#include "util/cpu.h"
#include "util/hugemem.h"
#include "util/u64map.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#define TBL8 0x80000000u

/* Bits set in x: the instruction when the build may use it, else a few multiplies (the
 * compiler's fallback is a library call). */
static inline size_t pop64(uint64_t x)
{
#if defined(__POPCNT__)
    return (size_t)__builtin_popcountll(x);
#else
    x -= x >> 1 & 0x5555555555555555ull;
    x = (x & 0x3333333333333333ull) + (x >> 2 & 0x3333333333333333ull);
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0Full;
    return (size_t)((x * 0x0101010101010101ull) >> 56);
#endif
}

/* One part of a dotted quad: q is just past its last digit, n its digits (b + 4 holds the text,
 * so q[-3] is readable); sets *bad for no digit or more than three, a leading zero, or > 255. */
static inline unsigned part4(const unsigned char *q, unsigned n, unsigned *bad)
{
    unsigned v = (unsigned)(q[-1] - '0') + (n >= 2 ? (unsigned)(q[-2] - '0') * 10 : 0) +
                 (n >= 3 ? (unsigned)(q[-3] - '0') * 100 : 0);
    *bad |= (n - 1 > 2) | (n >= 2 && q[-(ptrdiff_t)n] == '0') | (v > 255);
    return v & 255;
}

/* The portable parse (SSE2 classification where the build has it); len is 7..15. */
__attribute__((noinline)) static int parse4_sse2(const char *s, size_t len, uint32_t *out)
{
    /* This runs for every address field of every event, so without a branch per byte: the text
     * is read by two overlapping word loads (no copy of a variable length), classified sixteen
     * bytes at once (digits, dots), the three dots are found by clearing the lowest set bit
     * three times, and each part is read right-aligned from its last digit, its length choosing
     * which of the three digits before count.  A part of no digit or of four, a leading zero
     * (octal to some, decimal to others) or a part above 255 rejects the text. */
    unsigned char b[24] = {0}; /* the text at b + 4: three readable bytes before any part */
    unsigned dots = 0, digs = 0, all, e0, e1, e2, bad = 0;
    uint32_t a;
    uint64_t w0, w1 = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    mtext_load15(s, len, &w0, &w1);
    memcpy(b + 4, &w0, 8);
    memcpy(b + 12, &w1, 8);
#else
    (void)w0;
    (void)w1;
    memcpy(b + 4, s, len);
#endif
    all = (1u << len) - 1;
#if defined(__SSE2__)
    {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(b + 4));
        __m128i d = _mm_sub_epi8(v, _mm_set1_epi8('0'));
        dots = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('.')));
        digs = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d));
    }
#else
    for (unsigned i = 0; i < 16; i++) {
        dots |= (unsigned)(b[4 + i] == '.') << i;
        digs |= (unsigned)((unsigned)b[4 + i] - '0' <= 9) << i;
    }
#endif
    dots &= all;
    if ((dots | (digs & all)) != all || dots == 0)
        return -1;
    e0 = (unsigned)__builtin_ctz(dots);
    dots &= dots - 1;
    if (dots == 0)
        return -1;
    e1 = (unsigned)__builtin_ctz(dots);
    dots &= dots - 1;
    if (dots == 0 || (dots & (dots - 1)) != 0) /* exactly three dots */
        return -1;
    e2 = (unsigned)__builtin_ctz(dots);
    a = part4(b + 4 + e0, e0, &bad) << 24 | part4(b + 4 + e1, e1 - e0 - 1, &bad) << 16 |
        part4(b + 4 + e2, e2 - e1 - 1, &bad) << 8 |
        part4(b + 4 + len, (unsigned)len - e2 - 1, &bad);
    if (bad)
        return -1;
    *out = a;
    return 0;
}

#if defined(__x86_64__) && defined(__GNUC__)
#define MIP_PARSE4_SSSE3 1
#include <tmmintrin.h>

/* The shapes of a dotted quad: part lengths a, b, c, d of 1 to 3 digits, 81 shapes.  A shape's
 * key is its dot mask with bit len added; a multiplicative hash (the multiplier found by a search)
 * gives the 81 keys 81 different slots of 256, so one compare with the key stored at the slot
 * checks the dots and the part lengths at once.  The designated initialisers below would repeat
 * a slot if two keys shared one, which -Werror (-Woverride-init) stops at compile time.
 *
 * shuf4[row] moves part i's hundreds, tens and ones digit to bytes 4i, 4i+1, 4i+2 (0x80, a
 * zero, where the part has no such digit); byte 4i+3 is zero. */
#define P4KEY(a, b, c, d)                                                                          \
    (1u << (a) | 1u << ((a) + (b) + 1) | 1u << ((a) + (b) + (c) + 2) |                             \
     1u << ((a) + (b) + (c) + (d) + 3))
#define P4SLOT(k) ((uint32_t)((k)*0x86E5B70Du) >> 24)
#define P4ROW(a, b, c, d) (((a)-1) * 27 + ((b)-1) * 9 + ((c)-1) * 3 + (d)-1)
#define P4EACH3(F, a, b, c) F(a, b, c, 1), F(a, b, c, 2), F(a, b, c, 3)
#define P4EACH9(F, a, b) P4EACH3(F, a, b, 1), P4EACH3(F, a, b, 2), P4EACH3(F, a, b, 3)
#define P4EACH27(F, a) P4EACH9(F, a, 1), P4EACH9(F, a, 2), P4EACH9(F, a, 3)
#define P4EACH(F) P4EACH27(F, 1), P4EACH27(F, 2), P4EACH27(F, 3)
#define P4KEY_AT(a, b, c, d) [P4SLOT(P4KEY(a, b, c, d))] = (uint16_t)P4KEY(a, b, c, d)
#define P4ROW_AT(a, b, c, d) [P4SLOT(P4KEY(a, b, c, d))] = (uint8_t)P4ROW(a, b, c, d)
#define SH4B(l, st, k) ((l) >= (k) ? (st) + (l) - (k) : 0x80)
#define SH4(l, st) SH4B(l, st, 3), SH4B(l, st, 2), SH4B(l, st, 1), 0x80
#define SH4ROW(a, b, c, d)                                                                         \
    {                                                                                              \
        SH4(a, 0), SH4(b, a + 1), SH4(c, a + b + 2), SH4(d, a + b + c + 3)                         \
    }
static const uint16_t key4[256] = {P4EACH(P4KEY_AT)};
static const uint8_t row4[256] = {P4EACH(P4ROW_AT)};
static const uint8_t shuf4[81][16] __attribute__((aligned(16))) = {P4EACH(SH4ROW)};

/*
 * The same result as parse4_sse2 with the parts converted together: the key of the dot mask
 * checks the shape, the shape's shuffle puts each part's digits right-aligned into a 32-bit
 * lane, and two multiply-adds (x100, x10, x1, then the sum of the lane's halves) give the four
 * values; one compare rejects a value above 255, and a leading zero is a '0' that starts a part
 * of two or more digits, found on the bit masks.  About half the instructions of parse4_sse2,
 * whose per-part arithmetic is scalar.
 */
__attribute__((target("ssse3"))) static int parse4_ssse3(const char *s, size_t len, uint32_t *out)
{
    uint64_t w0, w1;
    unsigned all = (1u << len) - 1, dots, digs, zero, key, slot;
    __m128i v, d, x;
    mtext_load15(s, len, &w0, &w1);
    v = _mm_set_epi64x((long long)w1, (long long)w0);
    d = _mm_sub_epi8(v, _mm_set1_epi8('0'));
    dots = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('.'))) & all;
    digs = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d));
    zero = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(d, _mm_setzero_si128()));
    key = dots | 1u << len;
    slot = P4SLOT(key);
    if (key4[slot] != key || ((dots | digs) & all) != all ||
        (zero & (1u | dots << 1) & (all & ~dots) >> 1)) /* a leading zero */
        return -1;
    x = _mm_shuffle_epi8(d, _mm_load_si128((const __m128i *)(const void *)shuf4[row4[slot]]));
    x = _mm_maddubs_epi16(x, _mm_set1_epi32(0x00010A64)); /* bytes 100, 10, 1, 0 */
    x = _mm_madd_epi16(x, _mm_set1_epi16(1));
    if (_mm_movemask_epi8(_mm_cmpgt_epi32(x, _mm_set1_epi32(255))))
        return -1;
    x = _mm_shuffle_epi8(x, _mm_set_epi8(-128, -128, -128, -128, -128, -128, -128, -128, -128, -128,
                                         -128, -128, 0, 4, 8, 12));
    *out = (uint32_t)_mm_cvtsi128_si32(x);
    return 0;
}
#endif

/* 0: not yet asked, 1: the SSSE3 parse, 2: the portable one.  Relaxed atomics: every thread
 * that asks stores the same answer. */
static int parse4_mode;

void mip_parse4_force(int mode)
{
    __atomic_store_n(&parse4_mode, mode, __ATOMIC_RELAXED);
}

int mip_parse4(const char *s, size_t len, uint32_t *out)
{
    if (len < 7 || len > 15)
        return -1;
#if defined(MIP_PARSE4_SSSE3)
    int mode = __atomic_load_n(&parse4_mode, __ATOMIC_RELAXED);
    if (mode == 0) {
        mode = cpu_has_ssse3() ? 1 : 2;
        __atomic_store_n(&parse4_mode, mode, __ATOMIC_RELAXED);
    }
    if (mode == 1)
        return parse4_ssse3(s, len, out);
#endif
    return parse4_sse2(s, len, out);
}

/* The dotted quad ending an IPv6 text (inet_pton's rules: 1-3 digits, no leading zero). */
static int parse6_tail4(const char *s, size_t len, uint8_t *out)
{
    uint32_t a;
    if (mip_parse4(s, len, &a) < 0)
        return -1;
    out[0] = (uint8_t)(a >> 24);
    out[1] = (uint8_t)(a >> 16);
    out[2] = (uint8_t)(a >> 8);
    out[3] = (uint8_t)a;
    return 0;
}

/*
 * Accepts what inet_pton(AF_INET6) accepts, without its copy to a NUL-terminated buffer: groups
 * of 1-4 hex digits, one "::", a dotted quad in the last 32 bits.  (It did run for every address
 * field; the unit tests compare the two on random texts.)
 */
int mip_parse6(const char *s, size_t len, uint8_t out[16])
{
    uint8_t tmp[16] = {0};
    size_t tp = 0, colon = SIZE_MAX, i = 0, tok = 0;
    unsigned val = 0, nd = 0;
    if (len < 2 || len >= 64 || memchr(s, ':', len) == NULL)
        return -1;
    if (s[0] == ':' && s[++i] != ':')
        return -1;
    tok = i;
    while (i < len) {
        unsigned char c = (unsigned char)s[i++];
        unsigned d = mhex_v1[c];
        if (d) {
            if (nd == 4)
                return -1;
            val = val << 4 | (d - 1);
            nd++;
            continue;
        }
        if (c == ':') {
            tok = i;
            if (nd == 0) {
                if (colon != SIZE_MAX)
                    return -1;
                colon = tp;
                continue;
            }
            if (i == len || tp + 2 > 16)
                return -1;
            tmp[tp++] = (uint8_t)(val >> 8);
            tmp[tp++] = (uint8_t)val;
            nd = val = 0;
            continue;
        }
        if (c == '.' && tp + 4 <= 16 && parse6_tail4(s + tok, len - tok, tmp + tp) == 0) {
            tp += 4;
            nd = 0;
            break;
        }
        return -1;
    }
    if (nd > 0) {
        if (tp + 2 > 16)
            return -1;
        tmp[tp++] = (uint8_t)(val >> 8);
        tmp[tp++] = (uint8_t)val;
    }
    if (colon != SIZE_MAX) {
        size_t n = tp - colon;
        if (tp == 16)
            return -1;
        memmove(tmp + 16 - n, tmp + colon, n);
        memset(tmp + colon, 0, 16 - n - colon);
        tp = 16;
    }
    if (tp != 16)
        return -1;
    memcpy(out, tmp, 16);
    return 0;
}

size_t mip_format(int family, const uint8_t *addr, char *out, size_t outlen)
{
    if (!inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, out, (socklen_t)outlen)) {
        if (outlen)
            out[0] = '\0';
        return 0;
    }
    return strlen(out);
}

void mip_builder_init(mip_builder *b)
{
    memset(b, 0, sizeof *b);
}

void mip_builder_free(mip_builder *b)
{
    mpairs_free(&b->v4);
    mpairs_free(&b->v4pfx);
    mpairs_free(&b->v6);
}

static uint32_t mask4(int plen)
{
    return plen <= 0 ? 0 : plen >= 32 ? 0xFFFFFFFFu : ~(0xFFFFFFFFu >> plen);
}

int mip_add4(mip_builder *b, uint32_t addr, int plen, uint32_t ind)
{
    if (plen < 0 || plen > 32)
        return ACCORD_EINVAL;
    if (plen == 32)
        return mpairs_push(&b->v4, addr, 0, ind, 0);
    return mpairs_push(&b->v4pfx, addr & mask4(plen), 0, ind, (uint32_t)plen);
}

static void load6(const uint8_t a[16], uint64_t *hi, uint64_t *lo)
{
    uint64_t h = 0, l = 0;
    for (int i = 0; i < 8; i++) {
        h = h << 8 | a[i];
        l = l << 8 | a[8 + i];
    }
    *hi = h;
    *lo = l;
}

static void mask6(uint64_t *hi, uint64_t *lo, int plen)
{
    if (plen <= 64) {
        *lo = 0;
        *hi &= plen == 0 ? 0 : plen == 64 ? ~0ull : ~(~0ull >> plen);
    } else if (plen < 128) {
        *lo &= ~(~0ull >> (plen - 64));
    }
}

int mip_add6(mip_builder *b, const uint8_t addr[16], int plen, uint32_t ind)
{
    uint64_t hi, lo;
    if (plen < 0 || plen > 128)
        return ACCORD_EINVAL;
    load6(addr, &hi, &lo);
    mask6(&hi, &lo, plen);
    return mpairs_push(&b->v6, hi, lo, ind, (uint32_t)plen);
}

static int same_key(const mpair *x, const mpair *y)
{
    return x->aux == y->aux && x->k[0] == y->k[0] && x->k[1] == y->k[1];
}

/*
 * Groups sorted pairs v[0..n) by key: calls emit(ud, first pair, ref) once per distinct key,
 * with the ref of its (distinct) indicators.  Returns the number of keys, or a negative code.
 */
static long group_pairs(const mpair *v, size_t n, mrefs *refs,
                        int (*emit)(void *ud, const mpair *p, uint32_t ref), void *ud)
{
    uint32_t *inds = NULL;
    size_t cap = 0;
    long keys = 0;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0;) {
        size_t j = i, k = 0;
        while (j < n && same_key(&v[i], &v[j]))
            j++;
        if (j - i > cap) {
            uint32_t *ni = realloc(inds, (j - i) * sizeof *ni);
            if (!ni) {
                rc = ACCORD_ENOMEM;
                break;
            }
            inds = ni;
            cap = j - i;
        }
        for (size_t x = i; x < j; x++)
            if (k == 0 || inds[k - 1] != v[x].ind)
                inds[k++] = v[x].ind;
        uint32_t ref;
        rc = mrefs_add(refs, inds, k, &ref);
        if (rc == 0)
            rc = emit(ud, &v[i], ref);
        keys++;
        i = j;
    }
    free(inds);
    return rc ? rc : keys;
}

/* ------------------------------------------------------------------------------------------ */
/* Exact IPv4                                                                                   */

typedef struct fill4 {
    mip *ip;
    size_t n;
} fill4;

static int emit4(void *ud, const mpair *p, uint32_t ref)
{
    fill4 *f = ud;
    f->ip->key4[f->n] = (uint32_t)p->k[0];
    f->ip->ref4[f->n++] = ref;
    return 0;
}

/* The primary key of an IPv4 pair for mpairs_sort: its length (aux), then its address. */
static uint64_t pkey4(const mpair *p, const void *unused)
{
    (void)unused;
    return (uint64_t)p->aux << 32 | (uint32_t)p->k[0];
}

/* Of an IPv6 pair: its length, then the top 56 bits of its address. */
static uint64_t pkey6(const mpair *p, const void *unused)
{
    (void)unused;
    return (uint64_t)p->aux << 56 | p->k[0] >> 8;
}

static int build_exact4(mip_builder *b, mrefs *refs, mip *ip)
{
    fill4 f = {ip, 0};
    uint64_t *h;
    long n;
    int rc;
    if (b->v4.n == 0)
        return 0;
    mpairs_sort(b->v4.v, b->v4.n, pkey4, NULL, mpair_cmp_r, NULL);
    ip->key4 = malloc(b->v4.n * sizeof *ip->key4);
    ip->ref4 = malloc(b->v4.n * sizeof *ip->ref4);
    if (!ip->key4 || !ip->ref4)
        return ACCORD_ENOMEM;
    n = group_pairs(b->v4.v, b->v4.n, refs, emit4, &f);
    if (n < 0)
        return (int)n;
    h = malloc((size_t)n * sizeof *h);
    if (!h)
        return ACCORD_ENOMEM;
    for (long i = 0; i < n; i++)
        h[i] = mip_hash4(ip->key4[i]);
    rc = mtab_build(&ip->t4, h, (size_t)n);
    free(h);
    ip->n_exact4 = (size_t)n;
    mpairs_free(&b->v4);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* IPv4 prefixes: DIR-24-8 over cover sets                                                      */

typedef struct dir_builder {
    mip *ip;
    size_t cover_cap, tbl8_cap;
    u64map memo;
    uint32_t last_old, last_p, last_new; /* one-entry cache in front of the memo */
    uint32_t pidx;                       /* the prefix being inserted */
    uint32_t pref;                       /* its ref */
} dir_builder;

/* The cover set "old plus the current prefix"; 0 (never a valid result) on failure. */
static uint32_t cover_with(dir_builder *d, uint32_t old)
{
    uint64_t key, val;
    mip *ip = d->ip;
    if (d->last_new && d->last_old == old && d->last_p == d->pidx)
        return d->last_new;
    key = mix64(((uint64_t)old << 32 | d->pidx) + 1);
    if (!u64map_get(&d->memo, key, &val)) {
        if (ip->ncover == d->cover_cap) {
            size_t cap = d->cover_cap * 2;
            uint32_t *c = cap < TBL8 ? realloc(ip->cover, cap * 2 * sizeof *c) : NULL;
            if (!c)
                return 0;
            ip->cover = c;
            d->cover_cap = cap;
        }
        val = ip->ncover++;
        ip->cover[2 * val] = old;
        ip->cover[2 * val + 1] = d->pref;
        if (u64map_put(&d->memo, key, val) < 0)
            return 0;
    }
    d->last_old = old;
    d->last_p = d->pidx;
    d->last_new = (uint32_t)val;
    return (uint32_t)val;
}

/* Applies the current prefix to cells[0..n). */
static int cover_cells(dir_builder *d, uint32_t *cells, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t s = cover_with(d, cells[i]);
        if (!s)
            return ACCORD_ENOMEM;
        cells[i] = s;
    }
    return 0;
}

/* The tbl8 group of /24 cell c, made from the cell's cover set when it has none yet. */
static long group_of(dir_builder *d, uint32_t c)
{
    mip *ip = d->ip;
    uint32_t cell = ip->tbl24[c];
    if (cell & TBL8)
        return (long)(cell & ~TBL8);
    if (ip->ntbl8 == d->tbl8_cap) {
        size_t cap = d->tbl8_cap ? d->tbl8_cap * 2 : 64;
        uint32_t *t = cap < TBL8 ? realloc(ip->tbl8, cap * 256 * sizeof *t) : NULL;
        if (!t)
            return ACCORD_ENOMEM;
        ip->tbl8 = t;
        d->tbl8_cap = cap;
    }
    for (int j = 0; j < 256; j++)
        ip->tbl8[ip->ntbl8 * 256 + j] = cell;
    ip->tbl24[c] = TBL8 | (uint32_t)ip->ntbl8;
    return (long)ip->ntbl8++;
}

static int insert_prefix(dir_builder *d, uint32_t addr, int plen)
{
    mip *ip = d->ip;
    if (plen <= 24)
        return cover_cells(d, &ip->tbl24[addr >> 8], (size_t)1 << (24 - plen));
    long g = group_of(d, addr >> 8);
    if (g < 0)
        return (int)g;
    return cover_cells(d, &ip->tbl8[(size_t)g * 256 + (addr & 0xFF)], (size_t)1 << (32 - plen));
}

static int emit_prefix(void *ud, const mpair *p, uint32_t ref)
{
    dir_builder *d = ud;
    d->pref = ref;
    d->pidx++;
    return insert_prefix(d, (uint32_t)p->k[0], (int)p->aux);
}

int mip_cells24_begin(mip *ip, size_t n)
{
    ip->p24 = hugemem_alloc(MIP_X24_BYTES);
    ip->rank24 = malloc(MIP_RANK24 * sizeof *ip->rank24);
    ip->cell24 = n ? hugemem_alloc(n * sizeof *ip->cell24) : NULL;
    if (!ip->p24 || !ip->rank24 || (n && !ip->cell24)) {
        hugemem_free(ip->cell24, n * sizeof *ip->cell24);
        ip->cell24 = NULL; /* ncell24 stays 0: what mip_free frees */
        return ACCORD_ENOMEM;
    }
    ip->ncell24 = 0;
    return 0;
}

void mip_cells24_end(mip *ip)
{
    size_t r = 0;
    for (size_t w = 0; w < MIP_X24_BYTES / 8; w++) {
        if (w % 8 == 0)
            ip->rank24[w / 8] = (uint32_t)r;
        r += pop64(ip->p24[w]);
    }
}

static int range_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* tbl24 -> p24, rank24, cell24 (tbl24 freed), reading only the /24s the prefixes v[0..n)
 * touch: a few prefixes cost a few cells, not a pass over 2^24. */
static int compress24(mip *ip, const mpair *v, size_t n)
{
    uint64_t *rg = malloc((n ? n : 1) * sizeof *rg); /* (first /24) << 32 | last /24 */
    size_t m = 0, cells = 0;
    int rc;
    if (!rg)
        return ACCORD_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        uint32_t a = (uint32_t)v[i].k[0], last = a | (0xFFFFFFFFu >> v[i].aux);
        rg[i] = (uint64_t)(a >> 8) << 32 | (last >> 8);
    }
    qsort(rg, n, sizeof *rg, range_cmp);
    for (size_t i = 0; i < n; i++) { /* merged: disjoint, in order */
        if (m && (rg[i] >> 32) <= (rg[m - 1] & 0xFFFFFFFFu) + 1) {
            if ((rg[i] & 0xFFFFFFFFu) > (rg[m - 1] & 0xFFFFFFFFu))
                rg[m - 1] = (rg[m - 1] & ~0xFFFFFFFFull) | (rg[i] & 0xFFFFFFFFu);
        } else {
            rg[m++] = rg[i];
        }
    }
    for (size_t i = 0; i < m; i++)
        for (uint32_t c = (uint32_t)(rg[i] >> 32); c <= (uint32_t)rg[i]; c++)
            cells += ip->tbl24[c] != 0;
    rc = mip_cells24_begin(ip, cells);
    for (size_t i = 0; rc == 0 && i < m; i++)
        for (uint32_t c = (uint32_t)(rg[i] >> 32); c <= (uint32_t)rg[i]; c++)
            if (ip->tbl24[c])
                mip_cells24_put(ip, c, ip->tbl24[c]);
    free(rg);
    if (rc)
        return rc;
    mip_cells24_end(ip);
    hugemem_free(ip->tbl24, MIP_TBL24_BYTES);
    ip->tbl24 = NULL;
    return 0;
}

static int build_prefix4(mip_builder *b, mrefs *refs, mip *ip)
{
    dir_builder d = {.ip = ip, .cover_cap = 1024};
    long n;
    if (b->v4pfx.n == 0)
        return 0;
    mpairs_sort(b->v4pfx.v, b->v4pfx.n, pkey4, NULL, mpair_cmp_r, NULL); /* by length first */
    ip->tbl24 = hugemem_alloc(MIP_TBL24_BYTES); /* probed at random: util/hugemem.c */
    ip->cover = malloc(d.cover_cap * 2 * sizeof *ip->cover);
    if (!ip->tbl24 || !ip->cover)
        return ACCORD_ENOMEM;
    ip->cover[0] = ip->cover[1] = 0;
    ip->ncover = 1;
    u64map_init(&d.memo);
    n = group_pairs(b->v4pfx.v, b->v4pfx.n, refs, emit_prefix, &d);
    u64map_free(&d.memo);
    if (n < 0)
        return (int)n;
    ip->n_prefix4 = (size_t)n;
    n = compress24(ip, b->v4pfx.v, b->v4pfx.n);
    mpairs_free(&b->v4pfx);
    return (int)n;
}

/* ------------------------------------------------------------------------------------------ */
/* IPv6 per prefix length                                                                       */

static uint64_t hash6(uint64_t hi, uint64_t lo, int plen)
{
    return mix64(hi ^ mix64(lo ^ (uint64_t)plen * 0x9E3779B97F4A7C15ull));
}

typedef struct fill6 {
    struct mip6_len *l;
    size_t n;
} fill6;

static int emit6(void *ud, const mpair *p, uint32_t ref)
{
    fill6 *f = ud;
    f->l->key[2 * f->n] = p->k[0];
    f->l->key[2 * f->n + 1] = p->k[1];
    f->l->ref[f->n++] = ref;
    return 0;
}

/* Builds the table of one prefix length from pairs v[0..n) (all of that length). */
static int build_len6(struct mip6_len *l, const mpair *v, size_t n, mrefs *refs)
{
    fill6 f = {l, 0};
    uint64_t *h;
    long keys;
    int rc;
    l->len = (int)v[0].aux;
    l->key = malloc(n * 2 * sizeof *l->key);
    l->ref = malloc(n * sizeof *l->ref);
    if (!l->key || !l->ref)
        return ACCORD_ENOMEM;
    keys = group_pairs(v, n, refs, emit6, &f);
    if (keys < 0)
        return (int)keys;
    h = malloc((size_t)keys * sizeof *h);
    if (!h)
        return ACCORD_ENOMEM;
    for (long i = 0; i < keys; i++)
        h[i] = hash6(l->key[2 * i], l->key[2 * i + 1], l->len);
    rc = mtab_build(&l->t, h, (size_t)keys);
    free(h);
    return rc ? rc : (int)(keys > INT32_MAX ? INT32_MAX : keys);
}

static int build_v6(mip_builder *b, mrefs *refs, mip *ip)
{
    mpair *v = b->v6.v;
    size_t n = b->v6.n;
    if (n == 0)
        return 0;
    mpairs_sort(v, n, pkey6, NULL, mpair_cmp_r, NULL);
    ip->v6 = calloc(129, sizeof *ip->v6);
    if (!ip->v6)
        return ACCORD_ENOMEM;
    /* longest first: exact addresses are the common case */
    for (size_t end = n; end > 0;) {
        size_t start = end;
        while (start > 0 && v[start - 1].aux == v[end - 1].aux)
            start--;
        int keys = build_len6(&ip->v6[ip->nv6++], v + start, end - start, refs);
        if (keys < 0)
            return keys;
        if (v[start].aux == 128)
            ip->n_exact6 += (size_t)keys;
        else
            ip->n_prefix6 += (size_t)keys;
        end = start;
    }
    mpairs_free(&b->v6);
    return 0;
}

int mip_build(mip_builder *b, mrefs *refs, mip *ip)
{
    int rc;
    memset(ip, 0, sizeof *ip);
    rc = build_exact4(b, refs, ip);
    if (rc == 0)
        rc = build_prefix4(b, refs, ip);
    if (rc == 0)
        rc = mip_index4(ip);
    if (rc == 0)
        rc = build_v6(b, refs, ip);
    mip_builder_free(b);
    if (rc)
        mip_free(ip);
    return rc;
}

void mip_free(mip *ip)
{
    if (!ip)
        return;
    mtab_free(&ip->t4);
    free(ip->key4);
    free(ip->ref4);
    hugemem_free(ip->x24, MIP_X24_BYTES);
    hugemem_free(ip->tbl24, MIP_TBL24_BYTES);
    hugemem_free(ip->p24, MIP_X24_BYTES);
    free(ip->rank24);
    hugemem_free(ip->cell24, ip->ncell24 * sizeof *ip->cell24);
    free(ip->tbl8);
    free(ip->idx8);
    free(ip->off8);
    free(ip->val8);
    free(ip->cover);
    for (size_t i = 0; i < ip->nv6; i++) {
        mtab_free(&ip->v6[i].t);
        free(ip->v6[i].key);
        free(ip->v6[i].ref);
    }
    free(ip->v6);
    memset(ip, 0, sizeof *ip);
}

/* ------------------------------------------------------------------------------------------ */
/* Lookups                                                                                      */

static size_t x24_min = MIP_X24_MIN;

void mip_set_x24_min(size_t n)
{
    x24_min = n ? n : MIP_X24_MIN;
}

/* tbl8 -> idx8, off8, val8 (tbl8 freed).  Cells come in runs (a prefix covers consecutive
 * ones), so the previous cell's index is tried before a search of the group's values. */
static int compress8(mip *ip)
{
    size_t ng = ip->ntbl8, nv = 0, cap = ng * 4;
    if (ng == 0)
        return 0;
    ip->idx8 = malloc(ng * 256);
    ip->off8 = malloc(ng * sizeof *ip->off8);
    ip->val8 = malloc(cap * sizeof *ip->val8);
    if (!ip->idx8 || !ip->off8 || !ip->val8)
        return ACCORD_ENOMEM;
    for (size_t g = 0; g < ng; g++) {
        const uint32_t *t = &ip->tbl8[g * 256];
        ip->off8[g] = (uint32_t)nv;
        for (unsigned j = 0; j < 256; j++) {
            size_t k = 0, n = nv - ip->off8[g];
            const uint32_t *v = &ip->val8[ip->off8[g]];
            if (j && t[j] == t[j - 1]) {
                ip->idx8[g * 256 + j] = ip->idx8[g * 256 + j - 1];
                continue;
            }
            while (k < n && v[k] != t[j])
                k++;
            if (k == n) {
                if (nv == cap) {
                    uint32_t *nv8 = realloc(ip->val8, cap * 2 * sizeof *nv8);
                    if (!nv8)
                        return ACCORD_ENOMEM;
                    ip->val8 = nv8;
                    cap *= 2;
                }
                ip->val8[nv++] = t[j];
            }
            ip->idx8[g * 256 + j] = (uint8_t)k; /* k < 256: a group has 256 cells */
        }
        if (nv > UINT32_MAX)
            return ACCORD_ELIMIT;
    }
    ip->nval8 = nv;
    free(ip->tbl8);
    ip->tbl8 = NULL;
    return 0;
}

int mip_index4(mip *ip)
{
    if (ip->tbl8) {
        int rc = compress8(ip);
        if (rc)
            return rc;
    }
    if (ip->n_exact4 < x24_min)
        return 0;
    ip->x24 = hugemem_alloc(MIP_X24_BYTES);
    if (!ip->x24)
        return ACCORD_ENOMEM;
    for (size_t i = 0; i < ip->n_exact4; i++)
        ip->x24[ip->key4[i] >> 14] |= 1ull << (ip->key4[i] >> 8 & 63);
    return 0;
}

/* The index in cell24 of a /24 whose p24 bit is set: the rank of its cache line of p24, plus
 * the bits set before it in that line. */
static inline size_t cell_rank(const mip *ip, uint32_t c)
{
    size_t w = c >> 6, r = ip->rank24[c >> 9];
    for (size_t k = w & ~(size_t)7; k < w; k++)
        r += pop64(ip->p24[k]);
    return r + pop64(ip->p24[w] & ((1ull << (c & 63)) - 1));
}

static inline uint32_t cell_at(const mip *ip, uint32_t c)
{
    return ip->cell24[cell_rank(ip, c)];
}

uint32_t mip_cell24(const mip *ip, uint32_t c)
{
    if (c >= (uint32_t)1 << 24 || !ip->p24 || !(ip->p24[c >> 6] >> (c & 63) & 1))
        return 0;
    return cell_at(ip, c);
}

void mip_prefetch4(const mip *ip, uint32_t a)
{
    if (ip->x24)
        __builtin_prefetch(&ip->x24[a >> 14]);
    else
        mtab_prefetch(&ip->t4, mip_hash4(a));
    if (ip->p24)
        __builtin_prefetch(&ip->p24[a >> 14]);
}

void mip_prefetch4_late(const mip *ip, uint32_t a)
{
    if (ip->x24 && mip_x24(ip, a))
        mtab_prefetch(&ip->t4, mip_hash4(a));
    if (mip_p24(ip, a)) /* rank24 (128 KiB) is mostly in cache; the cell line (one of MBs) not */
        __builtin_prefetch(&ip->cell24[cell_rank(ip, a >> 8)]);
}

void mip_prefetch6(const mip *ip, const uint8_t a[16])
{
    uint64_t hi0, lo0;
    load6(a, &hi0, &lo0);
    for (size_t i = 0; i < ip->nv6; i++) {
        uint64_t hi = hi0, lo = lo0;
        mask6(&hi, &lo, ip->v6[i].len);
        mtab_prefetch(&ip->v6[i].t, hash6(hi, lo, ip->v6[i].len));
    }
}

size_t mip_lookup4(const mip *ip, uint32_t a, uint32_t *out, size_t max)
{
    size_t n = 0, pos = 0;
    uint32_t e;
    uint64_t h = mip_hash4(a);
    if (mip_x24(ip, a)) /* most addresses lie in a /24 without any key: no probe */
        while (mtab_next(&ip->t4, h, &pos, &e))
            if (ip->key4[e] == a && n < max) {
                out[n++] = ip->ref4[e];
                break;
            }
    if (mip_p24(ip, a)) { /* most addresses lie in no listed network */
        uint32_t s = cell_at(ip, a >> 8);
        if (s & TBL8)
            s = mip_cell8(ip, s & ~TBL8, a & 0xFF);
        for (; s && n < max; s = ip->cover[2 * s])
            out[n++] = ip->cover[2 * s + 1];
    }
    return n;
}

size_t mip_lookup6(const mip *ip, const uint8_t a[16], uint32_t *out, size_t max)
{
    uint64_t hi0, lo0;
    size_t n = 0;
    load6(a, &hi0, &lo0);
    for (size_t i = 0; i < ip->nv6 && n < max; i++) {
        const struct mip6_len *l = &ip->v6[i];
        uint64_t hi = hi0, lo = lo0, h;
        size_t pos = 0;
        uint32_t e;
        mask6(&hi, &lo, l->len);
        h = hash6(hi, lo, l->len);
        while (mtab_next(&l->t, h, &pos, &e))
            if (l->key[2 * e] == hi && l->key[2 * e + 1] == lo) {
                out[n++] = l->ref[e];
                break;
            }
    }
    return n;
}
