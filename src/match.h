/*
 * match.h - what the files of the indicator matcher share (match*.c).
 *
 * The matcher applies a compiled indicator set (a snapshot) to telemetry lines.  One dispatcher
 * and one file per indicator kind, after Suricata's datasets:
 *   match_table.c     the cache-line hash table every kind uses, and indicator reference lists
 *   match_ip.c        IPv4/IPv6 addresses and prefixes (hash sets, DIR-24-8, per-length sets)
 *   match_domain.c    domain names, exact and `LIKE '%.suffix'` per label boundary
 *   match_hash.c      file and certificate digests, keyed by their bytes
 *   match_string.c    exact strings (URLs, e-mail addresses, user agents; the domain table too)
 *   match_port.c      network-traffic ports, alone or with the address or network of their side
 *   match_like.c      User-Agent LIKE patterns: grams of their literal runs, then LIKE itself
 *   match_complex.c   which events may interest the pattern-engine indicators
 *   match_input.c     telemetry lines -> fields: field maps and the hand-written JSON extractor
 *   match_snapshot.c  indicators -> snapshot: recognising simple patterns, building the kinds
 *   match.c           the matcher: batches of lines -> items -> lookups -> matches; events as
 *                     observations for the pattern engine
 *
 * Everything a lookup touches is immutable once built, so any number of threads read it without
 * locks.  Keys are normalised by one function per kind (declared here), used both on indicator
 * literals when the snapshot is built and on telemetry values when they are matched.
 */
#ifndef ACCORD_MATCH_INT_H
#define ACCORD_MATCH_INT_H

#include "accord.h"
#include "accord_match.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/u64map.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* ------------------------------------------------------------------------------------------ */
/* The cache-line hash table (match_table.c)                                                    */

/*
 * An open-addressing table of entry numbers, designed for misses: a bucket is one cache line of
 * eight (fingerprint, entry) slots.  A key's 64-bit hash picks the bucket (low bits) and the
 * fingerprint (high 32 bits, never 0; 0 marks an empty slot).  A lookup reads one line, compares
 * eight fingerprints, and verifies the key of a matching slot against the kind's entry array (a
 * second access only on a fingerprint hit: about 1 in 500 million misses).  A full bucket
 * overflows into the next; a lookup stops at the first bucket with an empty slot, or at a full
 * one that no key went past (MTAB_PASSED).  No deletion.
 */
#define MTAB_SLOTS 8
typedef struct mtab_bucket {
    uint32_t fp[MTAB_SLOTS];
    uint32_t ent[MTAB_SLOTS];
} mtab_bucket;
_Static_assert(sizeof(mtab_bucket) == 64, "a bucket is one cache line");
/* In the last slot's entry number of a full bucket: some key was placed past this bucket, so a
 * probe that misses here goes on to the next one; without it a probe ends here (entry numbers
 * are below 2^31). */
#define MTAB_PASSED 0x80000000u

typedef struct mtab {
    mtab_bucket *b; /* 64-byte aligned; NULL when empty */
    size_t nb;      /* buckets (any number up to 2^32, not only powers of two) */
    size_t n;       /* entries */
} mtab;

/* Builds t over n entries, entry i having hash h[i] (keys unique).  0 or ACCORD_ENOMEM. */
int mtab_build(mtab *t, const uint64_t *h, size_t n);
void mtab_free(mtab *t);

static inline uint32_t mtab_fp(uint64_t h)
{
    return (uint32_t)(h >> 32) | 1u;
}

/* The home bucket of hash h: its low 32 bits scaled to the bucket count (a multiply and a
 * shift, so the table need not be a power of two); the fingerprint takes the high bits. */
static inline size_t mtab_home(const mtab *t, uint64_t h)
{
    return (size_t)(((h & 0xFFFFFFFFu) * (uint64_t)t->nb) >> 32);
}

static inline void mtab_prefetch(const mtab *t, uint64_t h)
{
    if (t->b)
        __builtin_prefetch(&t->b[mtab_home(t, h)]);
}

/* Bit s of *m set where slot s of b holds fingerprint fp, of *e where it is empty: the eight
 * compares at once (SSE2 on x86-64), so that a probe costs no branch per slot; where the first
 * match or empty slot lies differs from probe to probe, and a loop that stops there is
 * mispredicted about once per probe. */
static inline void mtab_scan(const mtab_bucket *b, uint32_t fp, unsigned *m, unsigned *e)
{
#if defined(__SSE2__)
    const __m128i f = _mm_set1_epi32((int)fp), z = _mm_setzero_si128();
    const __m128i lo = _mm_loadu_si128((const __m128i *)(const void *)b->fp);
    const __m128i hi = _mm_loadu_si128((const __m128i *)(const void *)(b->fp + 4));
    *m = (unsigned)_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(lo, f))) |
         (unsigned)_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(hi, f))) << 4;
    *e = (unsigned)_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(lo, z))) |
         (unsigned)_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(hi, z))) << 4;
#else
    unsigned mm = 0, ee = 0;
    for (unsigned s = 0; s < MTAB_SLOTS; s++) {
        mm |= (unsigned)(b->fp[s] == fp) << s;
        ee |= (unsigned)(b->fp[s] == 0) << s;
    }
    *m = mm;
    *e = ee;
#endif
}

/* Walks the candidate entries of hash h: call with *pos = 0; 1 with *ent set, 0 at the end.
 * Slots fill from the first, so the candidates of a bucket are the matching slots before its
 * first empty one (fingerprints are never 0). */
static inline int mtab_next(const mtab *t, uint64_t h, size_t *pos, uint32_t *ent)
{
    uint32_t fp = mtab_fp(h);
    size_t p = *pos, home;
    if (!t->b)
        return 0;
    home = mtab_home(t, h);
    for (;;) {
        size_t bi = home + p / MTAB_SLOTS; /* p / MTAB_SLOTS < nb: one wrap at most */
        const mtab_bucket *b = &t->b[bi >= t->nb ? bi - t->nb : bi];
        unsigned s0 = (unsigned)(p % MTAB_SLOTS), m, e;
        mtab_scan(b, fp, &m, &e);
        m &= ~0u << s0;
        e &= ~0u << s0;
        m &= e ? (e & (0u - e)) - 1 : ~0u; /* before the first empty slot */
        if (m) {
            unsigned s = (unsigned)__builtin_ctz(m);
            *pos = p - s0 + s + 1;
            *ent = b->ent[s] & ~MTAB_PASSED;
            return 1;
        }
        if (e || !(b->ent[MTAB_SLOTS - 1] & MTAB_PASSED)) /* an empty slot, or no key went past */
            return 0;
        p = p - s0 + MTAB_SLOTS;
        if (p / MTAB_SLOTS >= t->nb)
            return 0;
    }
}

/* A 64-bit mix of a 64-bit value (the murmur3 finaliser). */
static inline uint64_t mix64(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ull;
    k ^= k >> 33;
    return k;
}

/*
 * Indicator references: an entry of a kind names the indicators of its key by one uint32 `ref`.
 * A ref without the top bit is one indicator number; with it, (ref & MREF_LIST) indexes
 * v[] where v[i] is the count and v[i+1..] the indicator numbers.  MREF_NONE: no indicator.
 */
#define MREF_LIST 0x80000000u
#define MREF_NONE 0xFFFFFFFFu
typedef struct mrefs {
    uint32_t *v;
    size_t n, cap;
} mrefs;

/* The ref for inds[0..n) (n >= 1), appending a list when n > 1.  0 or ACCORD_ENOMEM/ELIMIT. */
int mrefs_add(mrefs *r, const uint32_t *inds, size_t n, uint32_t *ref);
void mrefs_free(mrefs *r);
/* The indicators of ref: a pointer to *n numbers (tmp holds a single one). */
static inline const uint32_t *mrefs_get(const mrefs *r, uint32_t ref, uint32_t *tmp, size_t *n)
{
    if (ref == MREF_NONE) {
        *n = 0;
        return tmp;
    }
    if (!(ref & MREF_LIST)) {
        *tmp = ref;
        *n = 1;
        return tmp;
    }
    *n = r->v[ref & ~MREF_LIST];
    return &r->v[(ref & ~MREF_LIST) + 1];
}

/* (key, indicator) pairs sorted and grouped by key: the common step of every kind's build. */
typedef struct mpair {
    uint64_t k[2]; /* the key or, for variable keys, (hash, offset) */
    uint32_t ind;
    uint32_t aux; /* kind-specific (a length, a flag) */
} mpair;
typedef struct mpairs {
    mpair *v;
    size_t n, cap;
} mpairs;
int mpairs_push(mpairs *p, uint64_t k0, uint64_t k1, uint32_t ind, uint32_t aux);
void mpairs_free(mpairs *p);
/* qsort order of pairs with fixed keys: by aux, key words, indicator. */
int mpair_cmp(const void *a, const void *b);
/* mpair_cmp for qsort_r and mpairs_sort (the last argument is not used). */
int mpair_cmp_r(const void *a, const void *b, void *unused);
/*
 * Sorts v[0..n) into the order of cmp (a total order, as for qsort_r with cctx), given a
 * primary key that agrees with it: pkey(x, kctx) < pkey(y, kctx) only when cmp(x, y, cctx) < 0.
 * A radix sort by the primary keys (digits all pairs share are skipped), then cmp over each run
 * of pairs with the same primary key; the result is the one qsort_r gives.  Small arrays, and
 * any for which memory runs short, are sorted with qsort_r.
 */
void mpairs_sort(mpair *v, size_t n, uint64_t (*pkey)(const mpair *, const void *),
                 const void *kctx, int (*cmp)(const void *, const void *, void *), void *cctx);
/* Nonzero: mpairs_sort is qsort_r (for tests that compare the two on whole snapshots). */
extern int mpairs_sort_qsort;

/* ------------------------------------------------------------------------------------------ */
/* Kinds of telemetry values and indicator keys                                                 */

typedef enum mkind {
    MK_NONE = 0,
    MK_IPV4,
    MK_IPV6,
    MK_DOMAIN,
    MK_URL,
    MK_EMAIL,
    MK_UA,       /* an HTTP User-Agent header, exact */
    MK_FILE_MD5, /* the digest kinds, in mhash_kinds order */
    MK_FILE_SHA1,
    MK_FILE_SHA256,
    MK_FILE_SHA512,
    MK_X509_MD5,
    MK_X509_SHA1,
    MK_X509_SHA256,
    MK_COUNT
} mkind;

#define MK_HASH_FIRST MK_FILE_MD5
#define MK_HASH_N (MK_X509_SHA256 - MK_FILE_MD5 + 1)

/* The STIX object type and hashes key of a digest kind, and its length in bytes. */
typedef struct mhash_kind {
    const char *type; /* "file", "x509-certificate" */
    const char *algo; /* "MD5", "SHA-1", "SHA-256", "SHA-512" */
    unsigned len;     /* digest bytes */
} mhash_kind;
extern const mhash_kind mhash_kinds[MK_HASH_N];

/* ------------------------------------------------------------------------------------------ */
/* IP addresses and prefixes (match_ip.c)                                                       */

/* s[0..len) (7 <= len <= 15) as two little-endian words, zero past len, read by loads that stay
 * inside the text: s[0..8) and s[8..len) from the load that ends at len, or for seven bytes
 * s[0..4) and s[3..7) (byte 3 comes from both, the same). */
static inline void mtext_load15(const char *s, size_t len, uint64_t *lo, uint64_t *hi)
{
    uint64_t w0, w1 = 0;
    if (len >= 8) {
        memcpy(&w0, s, 8);
        if (len > 8) {
            memcpy(&w1, s + len - 8, 8);
            w1 >>= 8 * (16 - len);
        }
    } else {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + 3, 4);
        w0 = (uint64_t)a | (uint64_t)b << 24;
    }
    *lo = w0;
    *hi = w1;
}

/* Parses a dotted-quad IPv4 address (no leading zeros, no CIDR); 0 or -1. */
int mip_parse4(const char *s, size_t len, uint32_t *out);
/* Which mip_parse4 runs: 0 as the CPU allows (SSSE3 where present), 2 the portable one (tests
 * compare them).  Call it while no other thread parses. */
void mip_parse4_force(int mode);
/* Parses an IPv6 address (inet_pton syntax, no zone, no CIDR) into 16 bytes; 0 or -1. */
int mip_parse6(const char *s, size_t len, uint8_t out[16]);
/* Canonical text of an address (inet_ntop); returns the length. out >= 46 bytes. */
size_t mip_format(int family, const uint8_t *addr, char *out, size_t outlen);

typedef struct mip_builder {
    mpairs v4;    /* (addr, -) exact */
    mpairs v4pfx; /* (addr, len) prefixes of length < 32 */
    mpairs v6;    /* (hi, lo) with aux = prefix length (128 = exact) */
} mip_builder;

typedef struct mip {
    /* exact IPv4 */
    mtab t4;
    uint32_t *key4, *ref4;
    uint64_t *x24; /* bit a >> 8: some exact key lies in that /24 (MIP_X24_BYTES), or NULL below
                      MIP_X24_MIN keys, where the table mostly stays in cache */
    /* IPv4 prefixes: DIR-24-8 over "cover sets" (see match_ip.c), its 2^24 /24 cells stored
     * compressed: only the cells of /24s that a prefix covers in part or whole (cell24, in /24
     * order), found through a bitmap of those /24s (p24) and the count of set bits before each
     * 512 /24s (rank24, one per cache line of p24).  All NULL when there are no prefixes. */
    uint64_t *p24;    /* MIP_X24_BYTES */
    uint32_t *rank24; /* MIP_RANK24 entries */
    uint32_t *cell24; /* ncell24 cells */
    size_t ncell24;
    uint32_t *tbl24; /* the 2^24 cells uncompressed: only while building */
    uint32_t *tbl8;  /* groups of 256 cells: only while building or loading */
    size_t ntbl8;
    /* tbl8 compressed (a group holds a few distinct cells): cell j of group g is
     * val8[off8[g] + idx8[256 g + j]], 260 bytes per group and 4 per distinct cell, not 1 KiB */
    uint8_t *idx8;
    uint32_t *off8, *val8;
    size_t nval8;
    uint32_t *cover; /* cover set i: cover[2i] = parent set (0 = none), cover[2i+1] = ref */
    size_t ncover;
    /* IPv6 by prefix length */
    struct mip6_len {
        int len;
        mtab t;
        uint64_t *key; /* 2 words per entry */
        uint32_t *ref;
    } * v6;
    size_t nv6;
    size_t n_exact4, n_prefix4, n_exact6, n_prefix6;
} mip;

/* The size of mip.x24, and the exact IPv4 keys from which it is made: from 256k keys the table
 * (2.7 MB) outgrows a core's share of cache, and the bitmap costs at most 8 bytes per key
 * (0.2 per indicator at 10M in the mix, 2 at 1M). */
#define MIP_X24_BYTES (((size_t)1 << 24) / 8)
#define MIP_X24_MIN ((size_t)1 << 18)
/* Sets the key count from which snapshots built or loaded afterwards get x24 (tests use small
 * sets); 0 restores MIP_X24_MIN.  Not thread-safe: call it before building any. */
void mip_set_x24_min(size_t n);
/* The size of mip.tbl24, allocated with hugemem_alloc; rank24's entries. */
#define MIP_TBL24_BYTES (((size_t)1 << 24) * sizeof(uint32_t))
#define MIP_RANK24 ((size_t)1 << 15)

void mip_builder_init(mip_builder *b);
void mip_builder_free(mip_builder *b);
int mip_add4(mip_builder *b, uint32_t addr, int plen, uint32_t ind);
int mip_add6(mip_builder *b, const uint8_t addr[16], int plen, uint32_t ind);
/* Builds ip from b (b is emptied).  0, ACCORD_ENOMEM or ACCORD_ELIMIT. */
int mip_build(mip_builder *b, mrefs *refs, mip *ip);
void mip_free(mip *ip);

static inline uint64_t mip_hash4(uint32_t a)
{
    return mix64((uint64_t)a ^ 0x5bd1e9955bd1e995ull);
}
/* Makes ip->x24 from ip->key4[0..n_exact4) (nothing below MIP_X24_MIN keys), and the
 * compressed tbl8 groups (idx8, off8, val8) from ip->tbl8, which it frees.  Called once the
 * exact keys and the prefixes are in place.  0 or ACCORD_ENOMEM. */
int mip_index4(mip *ip);
/* The compressed /24 cells, made from the non-zero cells in /24 order: begin (room for n
 * cells; 0 or ACCORD_ENOMEM), put each, end (the ranks). */
int mip_cells24_begin(mip *ip, size_t n);
static inline void mip_cells24_put(mip *ip, uint32_t c, uint32_t v)
{
    ip->p24[c >> 6] |= 1ull << (c & 63);
    ip->cell24[ip->ncell24++] = v;
}
void mip_cells24_end(mip *ip);
/* The DIR-24-8 cell of /24 number c (0: no prefix covers any of it), and cell j of tbl8 group g
 * (g < ntbl8, j < 256). */
uint32_t mip_cell24(const mip *ip, uint32_t c);
static inline uint32_t mip_cell8(const mip *ip, size_t g, unsigned j)
{
    return ip->val8[ip->off8[g] + ip->idx8[g * 256 + j]];
}
/* Prefetches what a lookup of a will read: the x24 word when there is one (mip_prefetch4_late
 * then prefetches the hash bucket if the bit says that a probe is needed), else the bucket; and
 * the p24 word (mip_prefetch4_late then prefetches the /24's cell when its bit is set). */
void mip_prefetch4(const mip *ip, uint32_t a);
static inline int mip_x24(const mip *ip, uint32_t a)
{
    return !ip->x24 || (ip->x24[a >> 14] >> (a >> 8 & 63) & 1);
}
static inline int mip_p24(const mip *ip, uint32_t a)
{
    return ip->p24 && (ip->p24[a >> 14] >> (a >> 8 & 63) & 1);
}
void mip_prefetch4_late(const mip *ip, uint32_t a);
void mip_prefetch6(const mip *ip, const uint8_t a[16]);
/* The refs of every indicator key that matches a (exact, and each containing prefix) into
 * out[0..max); returns how many (at most max). */
size_t mip_lookup4(const mip *ip, uint32_t a, uint32_t *out, size_t max);
size_t mip_lookup6(const mip *ip, const uint8_t a[16], uint32_t *out, size_t max);

/* ------------------------------------------------------------------------------------------ */
/* Exact strings (match_string.c)                                                               */

typedef struct mstr_entry {
    uint32_t off;      /* the key in pool: pool[off .. the next entry's off, or pool_len) */
    uint32_t ref;      /* indicators matching the key exactly */
    uint32_t ref2;     /* a second relation (domains: indicators of `%.key`), or MREF_NONE */
} mstr_entry;
_Static_assert(sizeof(mstr_entry) == 12, "a string entry is 12 bytes");

typedef struct mstrset {
    mtab t;
    mstr_entry *e;
    char *pool;
    size_t n, pool_len;
    uint64_t seed;
} mstrset;

typedef struct mstr_builder {
    mpairs p; /* (hash, pool offset) with aux = (len << 1) | relation */
    char *pool;
    size_t pool_len, pool_cap;
    uint64_t seed;
} mstr_builder;

void mstr_builder_init(mstr_builder *b, uint64_t seed);
void mstr_builder_free(mstr_builder *b);
/* Adds key s[0..len) for indicator ind, relation 0 (ref) or 1 (ref2). */
int mstr_add(mstr_builder *b, const char *s, size_t len, uint32_t ind, int rel);
int mstr_build(mstr_builder *b, mrefs *refs, mstrset *set);
void mstr_free(mstrset *set);
uint64_t mstr_hash(const mstrset *set, const char *s, size_t len);
/* The entry of key s (hash h = mstr_hash(set, s, len)), or NULL. */
const mstr_entry *mstr_find(const mstrset *set, uint64_t h, const char *s, size_t len);

/* Normalises a URL in place-free form into out (cap outlen): scheme and host lower case, default
 * port dropped, empty path "/".  Returns the length, or -1 when it is not scheme://host... or
 * does not fit. */
long murl_norm(const char *s, size_t len, char *out, size_t outlen);
/* E-mail addresses: lower case; -1 when there is no '@' or it does not fit. */
long memail_norm(const char *s, size_t len, char *out, size_t outlen);

/* ------------------------------------------------------------------------------------------ */
/* network-traffic ports (match_port.c)                                                         */

/*
 * Keys of the network-traffic object an event makes (match_event.c): the port of one side
 * (`dst_port = 443`), the address or network of one side (`dst_ref.value = 'a'`,
 * `dst_ref.value ISSUBSET 'n/24'`), or both together (`... AND dst_port = 443`).  A key is three
 * words: the aux word (side, family, prefix length, port; see match_port.c) and the address
 * masked to its length (IPv4 in the first word, IPv6 as two big-endian words); family 0 is no
 * address, port MPORT_ANY no port.
 */
#define MPORT_ANY 0x10000u
enum { MPORT_SRC = 0, MPORT_DST = 1 };
/* The most refs one side's lookup gives: the port, and per prefix length (0..128) the
 * network with the port and without. */
#define MPORT_OUT_MAX (1 + 2 * 129)

typedef struct mport_builder {
    mpairs p; /* (address words) with aux as above */
} mport_builder;

typedef struct mportset {
    mtab t;
    uint64_t *key; /* 3 words per entry */
    uint32_t *ref;
    size_t n;
    size_t n_port, n_addr, n_both; /* keys of each shape */
    size_t n_net;                  /* keys whose address is a network shorter than /32, /128 */
    uint64_t *bits;                /* 2 x 65536 bits: (side, port) appears in some key */
    /* [side][IPv4, IPv6]: bit L set when some address key of length L has a port / has none */
    uint64_t lens_port[2][2][3], lens_any[2][2][3];
} mportset;

void mport_builder_free(mport_builder *b);
/* Adds a key for indicator ind: family 0 (addr NULL, plen 0) or 4/6 with the network
 * addr/plen (an address: plen 32 or 128; bits past plen are ignored); port 0..65535 or
 * MPORT_ANY.  0, ACCORD_EINVAL or ACCORD_ENOMEM. */
int mport_add(mport_builder *b, int side, int family, const uint8_t *addr, int plen, unsigned port,
              uint32_t ind);
int mport_build(mport_builder *b, mrefs *refs, mportset *set);
void mport_free(mportset *set);
/* The refs of the keys that (side, family, addr, port) meets (port -1: the side has none; addr
 * NULL: no address) into out[0..max), the shape of each key in shape[]; returns how many (all
 * of them when max >= MPORT_OUT_MAX; max 1 answers whether any key is met). */
enum { MPORT_PORT, MPORT_BOTH, MPORT_ADDR };
size_t mport_lookup(const mportset *set, int side, int family, const uint8_t *addr, long port,
                    uint32_t *out, uint8_t *shape, size_t max);
/* For a set loaded from a serialised snapshot (match_serial.c): whether a key's aux word is
 * valid, and the derived bitmap, masks and counts.  mport_index: 0 or ACCORD_ENOMEM. */
int mport_aux_ok(uint64_t aux);
int mport_index(mportset *set);

/* ------------------------------------------------------------------------------------------ */
/* User-Agent LIKE patterns (match_like.c)                                                      */

typedef struct mlike_builder {
    mstr_builder s; /* the patterns, as keys */
} mlike_builder;

typedef struct mlike {
    mstrset rules;  /* rule i = entry i: the pattern text and its indicators (ref) */
    uint64_t *filt; /* 2^(32 - fshift) bits: a gram's bit (see match_like.c) */
    int fshift;
    mtab t;          /* distinct grams */
    uint32_t *gram;  /* per gram entry: its 4 bytes */
    uint32_t *start; /* per gram entry: its rules are byrule[start[e] .. start[e + 1]) */
    uint32_t *byrule;
    size_t ngram;
    uint32_t *always; /* rules without a 4-byte literal run */
    size_t nalways;
} mlike;

/* One matcher's working memory for mlike_match. */
typedef struct mlike_scratch {
    uint32_t *stamp, gen; /* per rule: gen when it became a candidate */
    uint32_t *cand;
    unsigned char *fix, *nfc; /* a non-ASCII text as the evaluator sees it */
    size_t fix_cap, nfc_cap;
} mlike_scratch;

void mlike_builder_init(mlike_builder *b);
void mlike_builder_free(mlike_builder *b);
/* Adds LIKE pattern pat[0..len) (ASCII) for indicator ind.  0 or ACCORD_ENOMEM/ELIMIT. */
int mlike_add(mlike_builder *b, const char *pat, size_t len, uint32_t ind);
/* Builds l from b (b is emptied).  0 or ACCORD_ENOMEM/ELIMIT. */
int mlike_build(mlike_builder *b, mrefs *refs, mlike *l);
void mlike_free(mlike *l);
size_t mlike_bytes(const mlike *l);
int mlike_scratch_init(mlike_scratch *sc, const mlike *l);
void mlike_scratch_free(mlike_scratch *sc);
/* The refs of the rules user agent v[0..len) matches into out (room for l->rules.n); returns
 * how many, or ACCORD_ENOMEM. */
long mlike_match(const mlike *l, mlike_scratch *sc, const char *v, size_t len, uint32_t *out);
/* The grams of the rules already in l (a snapshot loaded by match_serial.c).  0 or
 * ACCORD_ENOMEM. */
int mlike_index(mlike *l);

/* ------------------------------------------------------------------------------------------ */
/* Domain names (match_domain.c)                                                                */

#define MDOMAIN_MAX 253
#define MDOMAIN_LABELS 32 /* suffixes probed per name */

/* Lower-cases ASCII and drops one trailing dot into out; the length, or -1 (empty, too long,
 * an empty label, a byte below 0x21). */
long mdomain_norm(const char *s, size_t len, char *out, size_t outlen);
/* 1 when s[0..len) is a valid name that mdomain_norm would leave unchanged (no upper case, no
 * trailing dot), so it can be used where it is; else 0. */
int mdomain_is_norm(const char *s, size_t len);
/* The offsets in name[0..len) of each proper suffix at a label boundary (after each dot), at
 * most MDOMAIN_LABELS; returns how many. */
size_t mdomain_suffixes(const char *name, size_t len, uint32_t *offs);

typedef struct mdomain_builder {
    mstr_builder s;
} mdomain_builder;

/* exact: rel 0; suffix ("%.key" matches names ending in ".key"): rel 1 */
int mdomain_add(mdomain_builder *b, const char *name, size_t len, int suffix, uint32_t ind);

/* ------------------------------------------------------------------------------------------ */
/* Digests (match_hash.c)                                                                       */

typedef struct mhashset {
    mtab t;
    uint8_t *key; /* len bytes per entry */
    uint32_t *ref;
    size_t n;
    unsigned len;
} mhashset;

typedef struct mhash_builder {
    mpairs p[MK_HASH_N]; /* (offset into keys, -) */
    uint8_t *keys[MK_HASH_N];
    size_t keys_len[MK_HASH_N], keys_cap[MK_HASH_N];
} mhash_builder;

/* Hex digit values plus one, 0 for a byte that is no hex digit (either case). */
extern const uint8_t mhex_v1[256];
/* Decodes hex text of exactly 2*len digits (either case) into out; 0 or -1. */
int mhash_decode(const char *s, size_t slen, uint8_t *out, unsigned len);
static inline uint64_t mhash_hash(const uint8_t *d)
{
    uint64_t k;
    __builtin_memcpy(&k, d, 8);
    return mix64(k ^ 0x2545f4914f6cdd1dull);
}
void mhash_builder_init(mhash_builder *b);
void mhash_builder_free(mhash_builder *b);
int mhash_add(mhash_builder *b, int kind, const uint8_t *digest, uint32_t ind);
int mhash_build(mhash_builder *b, mrefs *refs, mhashset sets[MK_HASH_N]);
void mhash_free(mhashset sets[MK_HASH_N]);
/* The ref of digest d in set, or MREF_NONE. */
uint32_t mhash_find(const mhashset *set, uint64_t h, const uint8_t *d);

/* ------------------------------------------------------------------------------------------ */
/* Telemetry fields (match_input.c)                                                             */

/* What a field of an event holds; decides how its values become items. */
typedef enum mrole {
    MR_NONE = 0,
    MR_TIME,   /* event time: epoch seconds (number) or RFC 3339 text */
    MR_SRC_IP, /* an address; also the network-traffic source */
    MR_DST_IP,
    MR_SRC_PORT, /* numbers, for the network-traffic object */
    MR_DST_PORT,
    MR_PROTO,
    MR_IP,    /* an address */
    MR_NAME,  /* a domain name, or an address */
    MR_HOST,  /* an HTTP host: a name or address, and the host part of the URL */
    MR_URI,   /* an HTTP request target: with the host, the URL */
    MR_URL,   /* a whole URL */
    MR_EMAIL, /* an e-mail address, angle brackets allowed */
    MR_MD5,
    MR_SHA1,
    MR_SHA256,
    MR_SHA512,
    MR_CERT_FP, /* a certificate fingerprint: SHA-1 or SHA-256 by length, ':' allowed */
    MR_CERT_SHA1,
    MR_UA,  /* an HTTP User-Agent header */
    MR_ANY, /* plain text: the kind is decided by the value's shape */
    MR_URL_HOST, /* a whole URL, and its host as a name or address (a referrer, a redirect) */
    MR_FQDN,     /* a host's own name (DHCP, HELO): a domain name only when it has a dot */
    MR_HDR_NAME, /* a header's name in a list of {name, value} objects: no item of its own */
    MR_HDR_HOST, /* that header's value: a host (name or address) when the name was
                    ":authority" (HTTP/2 request headers), else nothing */
} mrole;

/* A node of a field map: the keys of one JSON object level that matter. */
typedef struct mfmap_key {
    const char *key;
    uint32_t key_len;
    uint16_t role;          /* MR_* for a value, MR_NONE when only `sub` matters */
    uint16_t field;         /* index of the field's name in mfmap.names */
    struct mfmap_node *sub; /* the keys of an object value (or of objects in an array) */
    uint64_t w[2];          /* a key of up to 16 bytes as two little-endian words, zero-padded
                               (mfmap_node_index sets them): compared with a key read from a line
                               without a pointer chase or a byte loop */
} mfmap_key;

/* The slot table's size: 128 keep the built-in root's ~70 keys at one or two a slot (with 64, a
 * key looked up near a line's end compared ~10 more instructions per line on bench_match). */
#define MFMAP_HASH 128
/* The perfect hash's table has 2^MFMAP_FBITS slots: 512 give the built-in root's ~70 keys a
 * seed in the first few hundred tried (256 did for ~45 keys; at 70 one seed in ~34,000 would). */
#define MFMAP_FBITS 9
typedef struct mfmap_node {
    mfmap_key *keys;
    size_t n;
    uint8_t slot[MFMAP_HASH][4]; /* key index + 1 by (len, first, last) hash; 0 = none */
    uint8_t linear; /* some key has no slot (a full slot, or index past 254): a miss in the slot
                       table is confirmed by a scan of every key */
    /* A perfect hash of the keys of 1 to 16 bytes (mfmap_find16): fslot[h(words) >> 55] = key
     * index + 1, 0 = none; fseed 0 when no seed in the few tried gave every key its own slot
     * (or on a big-endian machine). */
    uint64_t fseed;
    uint8_t fslot[1u << MFMAP_FBITS];
} mfmap_node;

typedef struct mfmap {
    mfmap_node root;
    const char **names; /* "id.orig_h", "dns.rrname", ... */
    size_t nnames;
} mfmap;

/* Fills the slot table of n (keys[0..n) set) and its linear flag. */
void mfmap_node_index(mfmap_node *n);

/* The built-in map: Zeek JSON (conn, dns, http, ssl, files, x509, smtp, notice) and Suricata
 * eve.json; one map serves both because their keys do not collide. */
const mfmap *mfmap_builtin(void);
/* The map of a field map read from a configuration file (match_fieldmap.c). */
const mfmap *mfmap_of(const accord_field_map *fm);

/* The key k[0..len) of node n, or NULL. */
const mfmap_key *mfmap_find(const mfmap_node *n, const char *k, size_t len);

/* The bytes k[0..len) (len <= 16) as two words, zero-padded: k[0..16) must be readable. */
static inline void mfmap_words16(const char *k, size_t len, uint64_t w[2])
{
    /* the bytes of each word that lie inside the key, by its length: a load, not a shift and
     * two branches */
#define MW_(n) ((n) >= 8 ? ~0ull : (1ull << (8 * (n))) - 1)
    static const uint64_t m0[17] = {MW_(0), MW_(1), MW_(2), MW_(3), MW_(4), MW_(5),
                                    MW_(6), MW_(7), MW_(8), ~0ull,  ~0ull,  ~0ull,
                                    ~0ull,  ~0ull,  ~0ull,  ~0ull,  ~0ull};
    static const uint64_t m1[17] = {0,      0,      0,      0,      0,      0,      0,      0,    0,
                                    MW_(1), MW_(2), MW_(3), MW_(4), MW_(5), MW_(6), MW_(7), ~0ull};
#undef MW_
    uint64_t a, b;
    memcpy(&a, k, 8);
    memcpy(&b, k + 8, 8);
    w[0] = a & m0[len];
    w[1] = b & m1[len];
}

static inline unsigned mfmap_fslot(const mfmap_node *n, const uint64_t w[2], size_t len)
{
    return (unsigned)(((w[0] ^ (w[1] * 0x9E3779B97F4A7C15ull) ^ len) * n->fseed) >>
                      (64 - MFMAP_FBITS));
}

/* mfmap_find for a key of 1 to 16 bytes in a node with n->fseed, where k[0..16) is readable
 * (the key lies inside a longer line): one hash, one slot, one compare of two words. */
static inline const mfmap_key *mfmap_find16(const mfmap_node *n, const char *k, size_t len)
{
    uint64_t w[2];
    const mfmap_key *mk;
    unsigned i;
    mfmap_words16(k, len, w);
    i = n->fslot[mfmap_fslot(n, w, len)];
    if (!i)
        return NULL;
    mk = &n->keys[i - 1];
    return mk->key_len == len && mk->w[0] == w[0] && mk->w[1] == w[1] ? mk : NULL;
}

/* One value the extractor found. */
typedef struct mfield {
    const char *p; /* the value: unescaped string bytes, or a literal's text */
    uint32_t len;
    uint16_t role;
    uint16_t field;
    uint8_t str; /* 1 for a string, 0 for a number or literal */
} mfield;

#define MFIELDS_MAX 64 /* values taken from one line; further ones are ignored */

/* Scratch for unescaped strings and normalised copies: an arena, so earlier bytes never move
 * while later ones are added; reset per batch. */
typedef ajson_arena mscratch;

/*
 * Extracts the fields of map from the JSON object line[0..len).  Values with escapes are
 * unescaped into sc (valid until sc is reset; out[].p may point into line or into sc).  Returns
 * the number of fields (at most max), or -1 with *why (static text) and *off (byte offset) when
 * the line is not a well-formed JSON object.  It checks structure, strings and escapes, not
 * everything the strict parser checks (UTF-8, number grammar, duplicate keys): a line the strict
 * parser accepts is always accepted, with the same values.
 */
int mjson_extract(const mfmap *map, const char *line, size_t len, mfield *out, size_t max,
                  mscratch *sc, const char **why, size_t *off);
/* The scalar and (when the CPU has it) vector scanners; tests force each: 0 = vector when the
 * CPU has it, 1 = scalar, 2 = scalar without the line index (byte scans only). */
void mjson_force_scalar(int on);

/* The offset of the first set bit at or after pos in bitmap m (bit i of byte i), clamped to
 * len; m must have a set bit at or after pos somewhere (a sentinel word after its last byte). */
static inline size_t mbits_next(const uint64_t *m, size_t pos, size_t len)
{
    size_t w = pos >> 6, r;
    uint64_t v = m[w] >> (pos & 63);
    if (v) {
        r = pos + (size_t)__builtin_ctzll(v);
    } else {
        do
            v = m[++w];
        while (!v);
        r = (w << 6) + (size_t)__builtin_ctzll(v);
    }
    return r < len ? r : len;
}

/*
 * A structural index of a stretch of a buffer of lines (a window): bit i of each map for byte
 * p[i], quotes (q), the bytes that end a literal (d: , } ] and whitespace) and newlines (nl),
 * each with a sentinel word (bit 0 set) after its last byte, and whether any byte is a
 * backslash.  The matcher indexes ~16 KiB of lines in one vector pass instead of each line on
 * its own: the line ends come from nl (no memchr per line), and a line without a backslash
 * (every line, unless any_bs) is extracted straight from q and d (mjson_extract_win).
 */
#define MWIN_BYTES ((size_t)16 << 10)
#define MWIN_WORDS (MWIN_BYTES / 64)
typedef struct mjson_win {
    const char *p;
    size_t len; /* p[0..len) indexed, len <= MWIN_BYTES */
    int any_bs; /* some byte is a backslash */
    uint64_t q[MWIN_WORDS + 1], d[MWIN_WORDS + 1], nl[MWIN_WORDS + 1];
} mjson_win;

/* Indexes p[0..len) (len <= MWIN_BYTES) into w. */
void mjson_win_index(mjson_win *w, const char *p, size_t len);
/* mjson_extract for the line w->p[off..off + len), which must hold no backslash. */
int mjson_extract_win(const mfmap *map, const mjson_win *w, size_t off, size_t len, mfield *out,
                      size_t max, mscratch *sc, const char **why, size_t *erroff);

/* ------------------------------------------------------------------------------------------ */
/* Zeek TSV logs (match_tsv.c)                                                                  */

#define MTSV_COLS 1024 /* a #fields line naming more is rejected (Zeek's logs name < 100) */
typedef struct mtsv_col {
    uint16_t role, field; /* from the field map, by column name; role 0 = not used */
    uint8_t str;          /* given as a string (else a number) */
    uint8_t set;          /* a set[..] or vector[..]: one field per element */
} mtsv_col;

typedef struct mtsv {
    int active; /* a #fields line is in effect */
    char sep, set_sep;
    char empty[32], unset[32];
    uint8_t empty_len, unset_len;
    const char *bad;     /* a header line was rejected: why each row under it is malformed */
    const char *sep_bad; /* #separator or #set_separator rejected (until the next #separator) */
    size_t ncols;
    mtsv_col cols[MTSV_COLS];
} mtsv;

/* No header: TSV rows are not recognised until a #fields line. */
void mtsv_reset(mtsv *t);
/* Reads a '#' line: 1 when it is a header line (the state is updated), 0 for another comment.
 * A header line that cannot be used (#separator not one byte, #fields without column names or
 * with more than MTSV_COLS, #types not one per column) sets *why (when why is not NULL) to the
 * reason, and the rows under it are malformed (mtsv_extract says why) until a new header. */
int mtsv_header(mtsv *t, const mfmap *map, const char *line, size_t len, const char **why);
/* The fields of a row (as mjson_extract), or -1 with *why, *off when its column count is not
 * the header's, or its header was rejected. */
int mtsv_extract(const mtsv *t, const char *line, size_t len, mfield *out, size_t max, mscratch *sc,
                 const char **why, size_t *off);

/* ------------------------------------------------------------------------------------------ */
/* Whether suffix hash h may be a `%.suffix` key of s (no false negatives). */
static inline int msfx_may(const struct accord_snapshot *s, uint64_t h);

/* ------------------------------------------------------------------------------------------ */
/* The prefilter of pattern-engine indicators (match_complex.c)                                 */

/* The object types of the observations events make, as bits. */
enum {
    MCT_IPV4 = 1,
    MCT_IPV6 = 2,
    MCT_DOMAIN = 4,
    MCT_URL = 8,
    MCT_EMAIL = 16,
    MCT_FILE = 32,
    MCT_X509 = 64,
    MCT_TRAFFIC = 128
};

typedef struct mcfilter {
    unsigned types; /* MCT_*: a leaf is met by any object of such a type */
    u64map keys;    /* a leaf is met only by an address (mcf_addr_key) or text (mcf_text_key) */
    unsigned all_types; /* every type some comparison names: values of other types can be left
                           out of an event without changing what the engine says */
    size_t patterns;
} mcfilter;

void mcf_init(mcfilter *f);
void mcf_free(mcfilter *f);
/* Adds what the leaves of p need.  0 or ACCORD_ENOMEM. */
int mcf_add_pattern(mcfilter *f, const accord_pattern *p);
/* The MCT_* bit of an object type, 0 for a type events never make. */
unsigned mcf_type_bit(const char *type);
uint64_t mcf_addr_key(int family, const uint8_t *a);
uint64_t mcf_text_key(int kind, const char *s, size_t len);

/* ------------------------------------------------------------------------------------------ */
/* The snapshot (match_snapshot.c)                                                              */

typedef struct mind {
    uint8_t uuid[16]; /* the id's UUID; with MIND_ODD_ID, the first 4 bytes are instead the pool
                         offset of the id text (an id that is not "indicator--<uuid>") */
    uint32_t desc;    /* pool offset of the name, labels and TLP (see name_put), | MIND_ODD_ID */
    uint32_t valid_from, valid_until; /* seconds since the epoch, clamped; until 0xFFFFFFFF =
                                         no end */
} mind;
#define MIND_ODD_ID 0x80000000u /* pool offsets stay below it */
_Static_assert(sizeof(mind) == 28, "an indicator record is 28 bytes");

struct accord_snapshot {
    atomic_uint refcount;
    mind *inds;
    size_t ninds;
    char *pool; /* names and odd ids, NUL-terminated */
    size_t pool_len;
    mrefs refs;
    mip ip;
    mstrset domain, url, email, ua;
    mlike ua_like; /* User-Agent LIKE patterns */
    /* Names that are a `%.suffix` key, as a filter of two bits per key hash in one 64-bit word:
     * most suffixes of a name (".com", "clean-site.net") are no key, and the filter, ~1 byte
     * per suffix key, answers in cache where the domain table would cost a line from memory. */
    uint64_t *sfx;
    size_t sfx_mask; /* words - 1 (a power of two) */
    mhashset hash[MK_HASH_N];
    mportset port;
    accord_pattern_set *complex; /* patterns the fast path does not take, or NULL */
    uint64_t *cver; /* per pattern of complex: a hash of its indicator's id, modified and
                       pattern, which says whether a reloaded snapshot holds it unchanged */
    mcfilter cfilter;            /* which events may interest them */
    accord_snapshot_stats stats;
};

/* The table counts and memory figure of a snapshot loaded by match_serial.c. */
void msnap_fill_stats(struct accord_snapshot *s);

static inline uint64_t msfx_bits(uint64_t h)
{
    return 1ull << (h >> 40 & 63) | 1ull << (h >> 46 & 63);
}

/* The filter word of suffix hash h (s->sfx set). */
static inline const uint64_t *msfx_word(const struct accord_snapshot *s, uint64_t h)
{
    return &s->sfx[(h >> 52 ^ h >> 20) & s->sfx_mask];
}

static inline int msfx_may(const struct accord_snapshot *s, uint64_t h)
{
    uint64_t b = msfx_bits(h);
    return s->sfx && (*msfx_word(s, h) & b) == b;
}

/* ------------------------------------------------------------------------------------------ */
/* Items and observations (match.c)                                                             */

/* One value of an event, normalised for its kind. */
typedef struct mitem {
    uint8_t kind;     /* mkind */
    uint8_t role;     /* the field's role (source/destination for network-traffic) */
    uint16_t field;   /* the field's name: mfmap.names[field], or MFIELD_URL / MFIELD_VALUE */
    uint32_t len;     /* bytes of text */
    const char *text; /* normalised text (output, observations; domain/URL/e-mail keys);
                         IPv6: as written until mitem_canon6 */
    union {
        uint32_t v4;
        uint8_t v6[16];
        const uint8_t *digest;
    } k;
    uint64_t h;  /* the lookup hash (strings and digests) */
    uint32_t hx; /* domains: where the suffix hashes start in the matcher's array (UINT32_MAX:
                    not prepared) */
    uint8_t nhx; /* domains: how many suffix hashes (after the second prefetch pass: only
                    those that may be keys, msfx_may) */
} mitem;

#define MFIELD_NAMED 0xFFFD /* a decoded value: the matcher keeps the field's name */
#define MFIELD_URL 0xFFFE   /* an item made from a host and a request target */
#define MFIELD_VALUE 0xFFFF /* a plain-text line */
#define MITEMS_MAX 64       /* items taken from one event */

/* The name of field f of map (handles MFIELD_URL and MFIELD_VALUE). */
const char *mfield_name(const mfmap *map, unsigned f);

/* Turns the fields of one event into items (at most max); text copies go to sc.  Returns the
 * item count. */
size_t mitems_from_fields(const mfield *f, size_t nf, mitem *out, size_t max, mscratch *sc);
/* IPv6 items carry the text as written; this replaces it with the canonical text (in sc), as
 * matches show it.  0, or -1 when sc is full. */
int mitem_canon6(mitem *it, mscratch *sc);
/* 1: items are made on the portable paths only (digests, dotted quads); 0: as the CPU allows
 * (SSSE3 where present).  For tests; call it while no other thread makes items. */
void mitems_force_portable(int on);
/* The item of a plain-text line (role MR_ANY): 1 with *out set, 0 when it is no value. */
size_t mitem_from_text(const char *s, size_t len, mitem *out, mscratch *sc);

/* The item of a decoded value (accord_matcher_match_values): 1 with *out set (field
 * MFIELD_NAMED, text in sc), 0 when the value is not valid for its type. */
int mitem_from_value(const accord_value *v, mitem *out, mscratch *sc);

/* The network-traffic object of an event (see match_event.c): the first source and destination
 * address items (-1: none), the ports (-1: none) and the fields they came from, the first
 * user-agent item.  It exists when it has an address or a user agent. */
typedef struct mtraffic {
    long src, dst, ua;
    long sport, dport;
    const mfield *sport_f, *dport_f, *proto;
} mtraffic;
void mtraffic_of(const mitem *it, size_t n, const mfield *f, size_t nf, mtraffic *t);

/* The event time of fields f[0..nf) as microseconds since the epoch; 0 when there is none. */
int64_t mevent_time_us(const mfield *f, size_t nf);

/*
 * Appends to out the STIX observed-data (the 2.0-style "objects" form, which the pattern
 * engine reads) that stands for an event: one SCO per item (ipv4-addr, ipv6-addr, domain-name,
 * url, email-addr; digests as file / x509-certificate hashes), a network-traffic object over the
 * source and destination addresses with ports and protocol, first/last_observed the event time.
 * 0, or -1 when out fails (its cap).
 */
int mobs_write(const mitem *it, size_t n, const mfield *f, size_t nf, int64_t time_us, buf *out);

/* 1 when an event of items it[0..n) may match a pattern-engine indicator. */
int mcf_pass(const mcfilter *f, const mitem *it, size_t n);
/*
 * A hit of leaves of a multi-observation pattern-engine indicator (FOLLOWEDBY, REPEATS, AND/OR
 * of observations, WITHIN), reported instead of combined in this matcher, so that hits found
 * by several matchers over parts of one source can be combined in source order elsewhere
 * (nats_temporal.c).  line is the line number within the accord_matcher_match_lines call, pat
 * the pattern's number in the snapshot's complex set, leaves its leaves the event matched (bit
 * i = leaf i), t the observation's times (a struct pattern_tobs); event and time as in
 * accord_match.  Only indicators valid now are reported.
 */
typedef struct mleaf_hit {
    uint64_t line;
    uint32_t ind, pat;
    uint64_t leaves;
    const struct pattern_tobs *t;
    const char *event, *time;
    uint32_t event_len, time_len;
    int time_is_string;
} mleaf_hit;
typedef void (*mleaf_cb)(void *ud, const mleaf_hit *h);
/* Leaf hits of matcher m go to cb (NULL: combined here, as by default).  0 or ACCORD_ENOMEM. */
int mmatcher_leaf_hits(accord_matcher *m, mleaf_cb cb, void *ud);

/* Turns the filter off for matcher m (on = 1): every event goes to the pattern engine, as the
 * tests compare. */
void mmatcher_unfiltered(accord_matcher *m, int on);

#endif
