/*
 * export_md5.c - MD5 of many short values at once, for the hashes.csv of a MISP feed.
 *
 * MISP's feed cache and its correlation look-ups key each attribute by the MD5 of its value (the
 * UTF-8 bytes, hex), so the algorithm is fixed by the reader.  One MD5 is a chain of 64 dependent
 * steps per 64-byte block and cannot be made faster on its own; but an export hashes millions of
 * independent values, so eight of them go through the steps together, one per 32-bit lane of a
 * vector (GCC/Clang vector extensions: AVX2 when the CPU has it, else the compiler's split into
 * SSE2 halves).  That is about a third of the instructions of eight one-at-a-time digests.
 *
 * Each lane's value is padded into its own blocks (0x80, zeros, the bit length), at most
 * MD5_LANE_BLOCKS of them; a group runs as many blocks as its longest value needs, and a lane
 * whose value has ended keeps its state (a per-lane select).  A value too long for the lanes
 * (rare: a long URL) is hashed alone by nettle.  The unit test compares every path with nettle.
 *
 * What this file does not do: streaming input, or anything but MD5.
 */
#include "export.h"
#include "util/cpu.h"

#include <nettle/md5.h>
#include <stdint.h>
#include <string.h>

#define LANES 8
#define MD5_LANE_BLOCKS 4 /* values up to 4*64-9 = 247 bytes go through the lanes */

typedef uint32_t v8 __attribute__((vector_size(32)));

static const uint32_t K[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391};

/* The per-lane blocks of one group: lane l's block b is in[l][b*64 ...]. */
typedef struct md5_group {
    unsigned char in[LANES][MD5_LANE_BLOCKS * 64];
    int nblocks[LANES]; /* 0: an empty lane (no value) */
} md5_group;

#define ROTL(x, n) (((x) << (n)) | ((x) >> (32 - (n))))
#define F1(b, c, d) ((d) ^ ((b) & ((c) ^ (d))))
#define F2(b, c, d) ((c) ^ ((d) & ((b) ^ (c))))
#define F3(b, c, d) ((b) ^ (c) ^ (d))
#define F4(b, c, d) ((c) ^ ((b) | ~(d)))
#define STEP(f, a, b, c, d, i, g, s)                                                               \
    a += f(b, c, d) + w[g] + K[i];                                                                 \
    a = ROTL(a, s) + b

/* The sixteen little-endian words of a block. */
static inline void load_words(uint32_t x[16], const unsigned char *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(x, p, 64);
#else
    for (int i = 0; i < 16; i++)
        x[i] = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 | (uint32_t)p[4 * i + 2] << 16 |
               (uint32_t)p[4 * i + 3] << 24;
#endif
}

/* Runs every block of the group through the eight lanes; out[l] receives lane l's digest. */
static inline __attribute__((always_inline)) void md5_lanes(const md5_group *g,
                                                            unsigned char out[][16])
{
    v8 a = {0}, b = {0}, c = {0}, d = {0}, w[16];
    a += 0x67452301, b += 0xefcdab89, c += 0x98badcfe, d += 0x10325476;
    int most = 0;
    for (int l = 0; l < LANES; l++)
        most = g->nblocks[l] > most ? g->nblocks[l] : most;
    for (int blk = 0; blk < most; blk++) {
        v8 live; /* all ones in the lanes whose value has this block */
        for (int l = 0; l < LANES; l++) {
            live[l] = blk < g->nblocks[l] ? 0xffffffffu : 0;
            uint32_t x[16] = {0};
            if (blk < g->nblocks[l])
                load_words(x, g->in[l] + blk * 64);
            for (int i = 0; i < 16; i++)
                w[i][l] = x[i];
        }
        v8 a0 = a, b0 = b, c0 = c, d0 = d;
        STEP(F1, a, b, c, d, 0, 0, 7), STEP(F1, d, a, b, c, 1, 1, 12);
        STEP(F1, c, d, a, b, 2, 2, 17), STEP(F1, b, c, d, a, 3, 3, 22);
        STEP(F1, a, b, c, d, 4, 4, 7), STEP(F1, d, a, b, c, 5, 5, 12);
        STEP(F1, c, d, a, b, 6, 6, 17), STEP(F1, b, c, d, a, 7, 7, 22);
        STEP(F1, a, b, c, d, 8, 8, 7), STEP(F1, d, a, b, c, 9, 9, 12);
        STEP(F1, c, d, a, b, 10, 10, 17), STEP(F1, b, c, d, a, 11, 11, 22);
        STEP(F1, a, b, c, d, 12, 12, 7), STEP(F1, d, a, b, c, 13, 13, 12);
        STEP(F1, c, d, a, b, 14, 14, 17), STEP(F1, b, c, d, a, 15, 15, 22);
        STEP(F2, a, b, c, d, 16, 1, 5), STEP(F2, d, a, b, c, 17, 6, 9);
        STEP(F2, c, d, a, b, 18, 11, 14), STEP(F2, b, c, d, a, 19, 0, 20);
        STEP(F2, a, b, c, d, 20, 5, 5), STEP(F2, d, a, b, c, 21, 10, 9);
        STEP(F2, c, d, a, b, 22, 15, 14), STEP(F2, b, c, d, a, 23, 4, 20);
        STEP(F2, a, b, c, d, 24, 9, 5), STEP(F2, d, a, b, c, 25, 14, 9);
        STEP(F2, c, d, a, b, 26, 3, 14), STEP(F2, b, c, d, a, 27, 8, 20);
        STEP(F2, a, b, c, d, 28, 13, 5), STEP(F2, d, a, b, c, 29, 2, 9);
        STEP(F2, c, d, a, b, 30, 7, 14), STEP(F2, b, c, d, a, 31, 12, 20);
        STEP(F3, a, b, c, d, 32, 5, 4), STEP(F3, d, a, b, c, 33, 8, 11);
        STEP(F3, c, d, a, b, 34, 11, 16), STEP(F3, b, c, d, a, 35, 14, 23);
        STEP(F3, a, b, c, d, 36, 1, 4), STEP(F3, d, a, b, c, 37, 4, 11);
        STEP(F3, c, d, a, b, 38, 7, 16), STEP(F3, b, c, d, a, 39, 10, 23);
        STEP(F3, a, b, c, d, 40, 13, 4), STEP(F3, d, a, b, c, 41, 0, 11);
        STEP(F3, c, d, a, b, 42, 3, 16), STEP(F3, b, c, d, a, 43, 6, 23);
        STEP(F3, a, b, c, d, 44, 9, 4), STEP(F3, d, a, b, c, 45, 12, 11);
        STEP(F3, c, d, a, b, 46, 15, 16), STEP(F3, b, c, d, a, 47, 2, 23);
        STEP(F4, a, b, c, d, 48, 0, 6), STEP(F4, d, a, b, c, 49, 7, 10);
        STEP(F4, c, d, a, b, 50, 14, 15), STEP(F4, b, c, d, a, 51, 5, 21);
        STEP(F4, a, b, c, d, 52, 12, 6), STEP(F4, d, a, b, c, 53, 3, 10);
        STEP(F4, c, d, a, b, 54, 10, 15), STEP(F4, b, c, d, a, 55, 1, 21);
        STEP(F4, a, b, c, d, 56, 8, 6), STEP(F4, d, a, b, c, 57, 15, 10);
        STEP(F4, c, d, a, b, 58, 6, 15), STEP(F4, b, c, d, a, 59, 13, 21);
        STEP(F4, a, b, c, d, 60, 4, 6), STEP(F4, d, a, b, c, 61, 11, 10);
        STEP(F4, c, d, a, b, 62, 2, 15), STEP(F4, b, c, d, a, 63, 9, 21);
        /* the block's result is added to the state, except in a lane whose value has ended */
        a = a0 + (a & live), b = b0 + (b & live);
        c = c0 + (c & live), d = d0 + (d & live);
    }
    for (int l = 0; l < LANES; l++) {
        uint32_t h[4] = {a[l], b[l], c[l], d[l]};
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
                out[l][4 * i + j] = (unsigned char)(h[i] >> (8 * j));
    }
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2"))) static void md5_lanes_avx2(const md5_group *g,
                                                           unsigned char out[][16])
{
    md5_lanes(g, out);
}

#endif

static void md5_lanes_any(const md5_group *g, unsigned char out[][16])
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (cpu_has_avx2() && !export_md5_scalar) {
        md5_lanes_avx2(g, out);
        return;
    }
#endif
    md5_lanes(g, out);
}

int export_md5_scalar;

/* Pads v[0..len) into lane l; 0, or -1 when it needs more blocks than a lane holds. */
static int pad_lane(md5_group *g, int l, const void *v, size_t len)
{
    size_t nb = (len + 8) / 64 + 1;
    if (nb > MD5_LANE_BLOCKS)
        return -1;
    unsigned char *p = g->in[l];
    memcpy(p, v, len);
    p[len] = 0x80;
    memset(p + len + 1, 0, nb * 64 - 8 - len - 1);
    uint64_t bits = (uint64_t)len * 8;
    for (int i = 0; i < 8; i++)
        p[nb * 64 - 8 + i] = (unsigned char)(bits >> (8 * i));
    g->nblocks[l] = (int)nb;
    return 0;
}

void export_md5_many(const char *const *v, const size_t *len, size_t n, unsigned char (*out)[16])
{
    md5_group g;
    unsigned char dig[LANES][16];
    for (size_t i = 0; i < n; i += LANES) {
        size_t m = n - i < LANES ? n - i : LANES;
        int any = 0;
        for (int l = 0; l < LANES; l++) {
            g.nblocks[l] = 0;
            if ((size_t)l < m && pad_lane(&g, l, v[i + l], len[i + l]) == 0)
                any = 1;
        }
        if (any)
            md5_lanes_any(&g, dig);
        for (size_t l = 0; l < m; l++) {
            if (g.nblocks[l]) {
                memcpy(out[i + l], dig[l], 16);
                continue;
            }
            struct md5_ctx ctx; /* too long for the lanes */
            md5_init(&ctx);
            md5_update(&ctx, len[i + l], (const uint8_t *)v[i + l]);
            md5_digest(&ctx, 16, out[i + l]);
        }
    }
}
