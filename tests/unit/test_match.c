/*
 * test_match.c - the indicator matcher: each table against a naive reference, CIDR and domain
 * suffix edge cases, the JSON field extractor against the strict parser (real Zeek and Suricata
 * lines from ../shared/data when present, and fuzzed lines), and the whole fast path against the
 * pattern evaluator on random indicators and random events; the extractor's three modes (vector
 * index, scalar index, byte scans) against each other; sightings aggregation and their bundle.
 */
#include "match.h"
#include "pattern.h"
#include "t.h"
#include "util/cpu.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>
#if defined(__linux__) && defined(__x86_64__)
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#endif

#define T_RNG_SEED 0x243F6A8885A308D3ull
#include "t_rng.h"

static unsigned rndn(unsigned n)
{
    return (unsigned)(t_rnd() % n);
}

/* Sorted, distinct indicator numbers of refs[0..n). */
static size_t expand(const mrefs *r, const uint32_t *refs, size_t n, uint32_t *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t tmp;
        size_t c;
        const uint32_t *v = mrefs_get(r, refs[i], &tmp, &c);
        for (size_t j = 0; j < c; j++)
            out[k++] = v[j];
    }
    for (size_t i = 1; i < k; i++)
        for (size_t j = i; j > 0 && out[j - 1] > out[j]; j--) {
            uint32_t t = out[j];
            out[j] = out[j - 1];
            out[j - 1] = t;
        }
    size_t d = 0;
    for (size_t i = 0; i < k; i++)
        if (d == 0 || out[d - 1] != out[i])
            out[d++] = out[i];
    return d;
}

static int same_sets(const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
    return na == nb && (na == 0 || memcmp(a, b, na * sizeof *a) == 0);
}

/* ------------------------------------------------------------------------------------------ */
/* IPv4 and IPv6 against a naive list                                                           */

typedef struct ref4 {
    uint32_t a;
    int plen;
} ref4;

static int contains4(const ref4 *r, uint32_t a)
{
    uint32_t m = r->plen == 0 ? 0 : r->plen >= 32 ? 0xFFFFFFFFu : ~(0xFFFFFFFFu >> r->plen);
    return ((a ^ r->a) & m) == 0;
}

static uint32_t rnd_addr4(void)
{
    /* a small space so that random queries hit: 10.x.y.z with few x, y */
    return 0x0A000000u | (rndn(4) << 16) | (rndn(8) << 8) | rndn(256);
}

static void test_ip4_random(void)
{
    enum { N = 3000, Q = 20000 };
    static ref4 refs[N];
    static uint32_t want[N + 1], got[N + 1], rr[64];
    mip_builder b;
    mrefs r = {0};
    mip ip;
    int bad = 0;
    mip_builder_init(&b);
    for (uint32_t i = 0; i < N; i++) {
        int kind = rndn(10);
        refs[i].plen = kind < 6 ? 32 : kind < 9 ? 16 + (int)rndn(17) : (int)rndn(16);
        refs[i].a = rnd_addr4();
        if (rndn(50) == 0)
            refs[i].plen = 0;
        CHECK(mip_add4(&b, refs[i].a, refs[i].plen, i) == 0);
    }
    CHECK(mip_build(&b, &r, &ip) == 0);
    for (int q = 0; q < Q; q++) {
        uint32_t a = q % 3 == 0 ? refs[rndn(N)].a : rnd_addr4();
        size_t nw = 0, n = mip_lookup4(&ip, a, rr, 64);
        for (uint32_t i = 0; i < N; i++)
            if (contains4(&refs[i], a))
                want[nw++] = i;
        size_t ng = expand(&r, rr, n, got);
        if (!same_sets(want, nw, got, ng))
            bad++;
    }
    CHECK(bad == 0);
    mip_free(&ip);
    mrefs_free(&r);
}

/* Prefixes spread over the whole space, as real feeds are: the compressed /24 cells (p24, rank24,
 * cell24) hold exactly the /24s that a prefix touches, and lookups anywhere, inside the prefixes
 * and at their edges agree with the naive list. */
static void test_ip4_p24(void)
{
    enum { N = 4000, Q = 40000 };
    static ref4 refs[N];
    static uint32_t want[N + 1], got[N + 1], rr[64];
    mip_builder b;
    mrefs r = {0};
    mip ip;
    size_t bad = 0, bits = 0, touched = 0;
    mip_builder_init(&b);
    for (uint32_t i = 0; i < N; i++) {
        refs[i].plen = 8 + (int)rndn(24); /* /32s are exact keys, not cells */
        refs[i].a = (uint32_t)t_rnd();
        CHECK(mip_add4(&b, refs[i].a, refs[i].plen, i) == 0);
    }
    CHECK(mip_build(&b, &r, &ip) == 0);
    CHECK(ip.p24 != NULL && ip.rank24 != NULL && ip.tbl24 == NULL);
    if (!ip.p24)
        return;
    for (size_t w = 0; w < MIP_X24_BYTES / 8; w++)
        bits += (size_t)__builtin_popcountll(ip.p24[w]);
    CHECK(bits == ip.ncell24);
    for (uint32_t c = 0; c < (1u << 24); c += 1 + rndn(64)) { /* bit set <=> some prefix touches c */
        int any = 0;
        for (uint32_t i = 0; i < N && !any; i++) {
            uint32_t lo = refs[i].a & ~(0xFFFFFFFFu >> refs[i].plen);
            uint32_t hi = lo | (0xFFFFFFFFu >> refs[i].plen);
            any = (lo >> 8) <= c && c <= (hi >> 8);
        }
        touched += (size_t)any;
        bad += (size_t)(any != (mip_cell24(&ip, c) != 0));
    }
    CHECK(touched > 0);
    for (int q = 0; q < Q; q++) {
        const ref4 *p = &refs[rndn(N)];
        uint32_t m = 0xFFFFFFFFu >> p->plen;
        uint32_t a = q % 4 == 0   ? (uint32_t)t_rnd()
                     : q % 4 == 1 ? (p->a & ~m) | ((uint32_t)t_rnd() & m)
                     : q % 4 == 2 ? (p->a & ~m) - 1 /* just below, just above */
                                  : (p->a | m) + 1;
        size_t nw = 0, n;
        mip_prefetch4(&ip, a);
        mip_prefetch4_late(&ip, a);
        n = mip_lookup4(&ip, a, rr, 64);
        for (uint32_t i = 0; i < N; i++)
            if (contains4(&refs[i], a))
                want[nw++] = i;
        bad += !same_sets(want, nw, got, expand(&r, rr, n, got));
    }
    CHECK(bad == 0);
    mip_free(&ip);
    CHECK(ip.p24 == NULL && ip.cell24 == NULL);
    mrefs_free(&r);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Enough exact keys for the /24 occupancy bitmap (x24): its bits are exactly the /24s of the
 * keys, and lookups of keys, of neighbours in occupied /24s and of addresses in empty ones
 * agree with a sorted list of (key, indicator) and the prefixes. */
static void test_ip4_x24(void)
{
    enum { N = 70000, NP = 40, Q = 60000 };
    static uint32_t keys[N], rr[64], got[N + NP], want[64 + NP];
    static uint64_t sorted[N], x24[(1u << 24) / 64];
    static ref4 pfx[NP];
    mip_builder b;
    mrefs r = {0};
    mip ip;
    size_t bits = 0, bad = 0;
    mip_set_x24_min(N - 5000); /* duplicates take a few */
    mip_builder_init(&b);
    for (uint32_t i = 0; i < N; i++) { /* in 10/8, one /24 in eight: the others stay empty */
        uint64_t v = t_rnd();
        keys[i] = 0x0A000000u | (uint32_t)(v >> 40 & 0xFFF8) << 8 | (uint32_t)(v >> 8 & 0xFF);
        sorted[i] = (uint64_t)keys[i] << 32 | i;
        x24[keys[i] >> 14] |= 1ull << (keys[i] >> 8 & 63);
        CHECK(mip_add4(&b, keys[i], 32, i) == 0);
    }
    for (uint32_t i = 0; i < NP; i++) {
        pfx[i].plen = 16 + (int)rndn(13);
        pfx[i].a = (0x0A000000u | rndn(65536) << 8) & ~(0xFFFFFFFFu >> pfx[i].plen);
        CHECK(mip_add4(&b, pfx[i].a, pfx[i].plen, N + i) == 0);
    }
    qsort(sorted, N, sizeof *sorted, cmp_u64);
    CHECK(mip_build(&b, &r, &ip) == 0);
    CHECK(ip.x24 != NULL);
    if (!ip.x24) {
        printf("x24: %zu exact keys\n", ip.n_exact4);
        return;
    }
    CHECK(memcmp(ip.x24, x24, sizeof x24) == 0);
    for (size_t w = 0; w < sizeof x24 / 8; w++)
        bits += (size_t)__builtin_popcountll(x24[w]);
    CHECK(bits > 4000 && bits <= 8192);
    for (int q = 0; q < Q; q++) {
        uint32_t a = q % 3 == 0   ? keys[rndn(N)]
                     : q % 3 == 1 ? (keys[rndn(N)] & ~0xFFu) | rndn(256) /* an occupied /24 */
                                  : 0x0A000000u | rndn(1u << 24);
        size_t nw = 0, n, ng, lo = 0, hi = N;
        mip_prefetch4(&ip, a);
        mip_prefetch4_late(&ip, a);
        n = mip_lookup4(&ip, a, rr, 64);
        while (lo < hi) { /* the first (key, indicator) >= (a, 0) */
            size_t mid = (lo + hi) / 2;
            if (sorted[mid] >> 32 < a)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (; lo < N && sorted[lo] >> 32 == a && nw < 64; lo++)
            want[nw++] = (uint32_t)sorted[lo];
        for (uint32_t i = 0; i < NP; i++)
            if (contains4(&pfx[i], a))
                want[nw++] = N + i;
        ng = expand(&r, rr, n, got);
        bad += !same_sets(want, nw, got, ng);
    }
    CHECK(bad == 0);
    mip_free(&ip);
    CHECK(ip.x24 == NULL);
    mrefs_free(&r);
    mip_set_x24_min(0);
}

/* The byte-loop dotted-quad parser the unrolled mip_parse4 replaced: the reference. */
static int ref_parse4(const char *s, size_t len, uint32_t *out)
{
    uint32_t a = 0;
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        unsigned v = 0, digits = 0;
        if (part && (i >= len || s[i++] != '.'))
            return -1;
        while (i < len && s[i] >= '0' && s[i] <= '9' && digits < 4) {
            if (digits == 1 && v == 0)
                return -1;
            v = v * 10 + (unsigned)(s[i++] - '0');
            digits++;
        }
        if (digits == 0 || v > 255)
            return -1;
        a = a << 8 | v;
    }
    if (i != len)
        return -1;
    *out = a;
    return 0;
}

/* One text through both mip_parse4 paths (the CPU's and the portable one), the reference and
 * inet_pton: 0 when all four agree (address included), else 1. */
static int parse4_disagree(const char *t, size_t len, long *ok)
{
    char z[32];
    uint32_t a = 1, b = 2, c = 3;
    uint8_t p[4];
    int ra, rb, rc, rp;
    mip_parse4_force(0);
    ra = mip_parse4(t, len, &a);
    mip_parse4_force(2);
    rc = mip_parse4(t, len, &c);
    mip_parse4_force(0);
    rb = ref_parse4(t, len, &b);
    memcpy(z, t, len < sizeof z ? len : sizeof z - 1);
    z[len < sizeof z ? len : sizeof z - 1] = '\0';
    rp = len < sizeof z && !memchr(t, 0, len) && inet_pton(AF_INET, z, p) == 1 ? 0 : -1;
    *ok += ra == 0;
    return ra != rb || ra != rc || ra != rp ||
           (ra == 0 && (a != b || a != c ||
                        a != ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | p[2] << 8 | p[3])));
}

static void test_parse4_random(void)
{
    static const char alpha[] = "0123456789...12a";
    static const char *edges[] = {
        "0.0.0.0",          "255.255.255.255", "256.0.0.0",    "1.2.3.256",  "01.2.3.4",
        "1.2.3.04",         "1.2.3.0",         "0.0.0.00",     "1.2.3",      "1.2.3.4.",
        ".1.2.3.4",         "1..2.3",          "1.2.3.4.5",    "1234.1.1.1", "1.1.1.1234",
        "999.999.999.999",  "100.200.250.255", "9.99.199.249", "1.2.3.4 ",   " 1.2.3.4",
        "1.2.3.-4",         "1.2.3./4",        "1.2.3.:4",     "1.2.3.4\n",  "00.0.0.0",
        "255.255.255.2555", "1:2.3.4.5",       "300.1.1.1"};
    long bad = 0, ok = 0;
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
        bad += parse4_disagree(edges[i], strlen(edges[i]), &ok);
    for (int k = 0; k < 300000; k++) {
        char t[20];
        size_t len = rndn(19);
        if (k % 3 == 0) {
            len = (size_t)snprintf(t, sizeof t, "%u.%u.%u.%u", rndn(300), rndn(300), rndn(1100),
                                   rndn(256));
        } else if (k % 3 == 1) { /* four parts of 0 to 4 digits, leading zeros, odd separators */
            len = 0;
            for (int p = 0; p < 4; p++) {
                size_t nd = rndn(5) + (rndn(4) ? 1 : 0);
                if (p && len < 19)
                    t[len++] = rndn(40) ? '.' : "0:/."[rndn(4)];
                for (size_t i = 0; i < nd && len < 19; i++)
                    t[len++] = (char)('0' + (i == 0 ? rndn(4) : rndn(10)));
            }
        } else {
            for (size_t i = 0; i < len; i++)
                t[i] = alpha[rndn(sizeof alpha - 1)];
        }
        bad += parse4_disagree(t, len, &ok);
    }
    printf("mip_parse4 (%s and portable) vs reference and inet_pton: %ld valid, %ld disagree\n",
           cpu_has_ssse3() ? "SSSE3" : "portable", ok, bad);
    CHECK(ok > 10000);
    CHECK(bad == 0);
}

/* The URL item of a host and a request target against murl_norm of "http://" host target, on
 * random hosts (case, ports, userinfo, brackets, separators, high bytes) and targets. */
static void test_url_items(void)
{
    static const char hostc[] = "abcXYZ09.-.:@[]/?#\x80\xff";
    ajson_arena sc;
    long bad = 0, plain = 0;
    ajson_arena_init(&sc, 0);
    for (int k = 0; k < 200000; k++) {
        char host[24], uri[24], url[64], want[80];
        size_t hl = 1 + rndn(20), ul = 1 + rndn(20);
        mitem it[4];
        mfield f[2];
        size_t n;
        long wl;
        for (size_t i = 0; i < hl; i++)
            host[i] = rndn(4) ? "abcdefghijKLMNOPQRSTuvwxyz0123456789.-"[rndn(38)]
                              : hostc[rndn(sizeof hostc - 1)];
        uri[0] = '/';
        for (size_t i = 1; i < ul; i++)
            uri[i] = "aB/?#%:.=&"[rndn(10)];
        f[0] = (mfield){host, (uint32_t)hl, MR_HOST, 0, 1};
        f[1] = (mfield){uri, (uint32_t)ul, MR_URI, 1, 1};
        ajson_arena_reset(&sc);
        n = mitems_from_fields(f, 2, it, 4, &sc);
        memcpy(url, "http://", 7);
        memcpy(url + 7, host, hl);
        memcpy(url + 7 + hl, uri, ul);
        wl = murl_norm(url, 7 + hl + ul, want, sizeof want);
        if (n == 0 || it[n - 1].kind != MK_URL) {
            bad += wl >= 0;
            continue;
        }
        plain += !memchr(host, ':', hl) && !memchr(host, '@', hl);
        bad += wl < 0 || it[n - 1].len != (uint32_t)wl ||
               memcmp(it[n - 1].text, want, (size_t)wl) != 0 || it[n - 1].text[wl] != '\0';
    }
    ajson_arena_free(&sc);
    printf("URL items vs murl_norm: %ld without port or userinfo, %ld disagree\n", plain, bad);
    CHECK(plain > 10000);
    CHECK(bad == 0);
}

/* Digest items made on the SSSE3 path and the portable one against mhash_decode, on random
 * digests of every length in mixed case, some with a byte that is no hex digit. */
static void test_digest_items(void)
{
    static const int roles[] = {MR_MD5, MR_SHA1, MR_SHA256, MR_SHA512};
    static const unsigned lens[] = {16, 20, 32, 64};
    static const char odd[] = "gG:/@`\x80 \0";
    ajson_arena sc;
    long bad = 0, valid = 0;
    ajson_arena_init(&sc, 0);
    for (int k = 0; k < 100000; k++) {
        int r = (int)rndn(4);
        size_t n = 2 * lens[r];
        char hex[129], lower[129];
        uint8_t want[64];
        mitem it[2][2];
        size_t got[2];
        mfield f;
        int ok;
        for (size_t i = 0; i < n; i++)
            hex[i] = "0123456789abcdefABCDEF"[rndn(22)];
        if (rndn(3) == 0)
            hex[rndn((unsigned)n)] = odd[rndn(sizeof odd - 1)];
        for (size_t i = 0; i < n; i++)
            lower[i] = hex[i] >= 'A' && hex[i] <= 'F' ? (char)(hex[i] + 32) : hex[i];
        ok = mhash_decode(hex, n, want, lens[r]) == 0;
        f = (mfield){hex, (uint32_t)n, (uint16_t)roles[r], 0, 1};
        ajson_arena_reset(&sc);
        for (int m = 0; m < 2; m++) {
            mitems_force_portable(m);
            got[m] = mitems_from_fields(&f, 1, it[m], 2, &sc);
        }
        mitems_force_portable(0);
        valid += ok;
        for (int m = 0; m < 2; m++)
            bad += got[m] != (size_t)ok ||
                   (ok && (it[m][0].len != n || memcmp(it[m][0].text, lower, n) != 0 ||
                           it[m][0].text[n] != '\0' ||
                           memcmp(it[m][0].k.digest, want, lens[r]) != 0));
    }
    ajson_arena_free(&sc);
    printf("digest items (%s and portable) vs mhash_decode: %ld valid, %ld disagree\n",
           cpu_has_ssse3() ? "SSSE3" : "portable", valid, bad);
    CHECK(valid > 30000);
    CHECK(bad == 0);
}

/* mip_parse6 against inet_pton on random texts of hex digits, colons and dots, and on mutated
 * real addresses. */
static void test_parse6_random(void)
{
    static const char alpha[] = "0123456789abcdefABCDEF::::...g";
    static const char *seeds[] = {"2001:db8::1",
                                  "::",
                                  "::1",
                                  "1::",
                                  "::ffff:1.2.3.4",
                                  "1:2:3:4:5:6:7:8",
                                  "fe80::1:2:3:4:5",
                                  "1:2:3:4:5:6:1.2.3.4",
                                  "::1.2.3.4",
                                  "0:0:0:0:0:0:0:0"};
    long bad = 0, ok = 0;
    for (int k = 0; k < 300000; k++) {
        char t[48], z[49];
        size_t len;
        uint8_t a[16], b[16];
        int ra, rb;
        if (k % 2) {
            const char *sd = seeds[rndn(sizeof seeds / sizeof seeds[0])];
            len = strlen(sd);
            memcpy(t, sd, len);
            for (int e = (int)rndn(3); e > 0 && len; e--) {
                size_t at = rndn((unsigned)len);
                if (rndn(2))
                    t[at] = alpha[rndn(sizeof alpha - 1)];
                else if (len + 1 < sizeof t) {
                    memmove(t + at + 1, t + at, len - at);
                    t[at] = alpha[rndn(sizeof alpha - 1)];
                    len++;
                }
            }
        } else {
            len = rndn(40);
            for (size_t i = 0; i < len; i++)
                t[i] = alpha[rndn(sizeof alpha - 1)];
        }
        memcpy(z, t, len);
        z[len] = '\0';
        ra = mip_parse6(t, len, a);
        rb = strchr(z, ':') && len >= 2 && inet_pton(AF_INET6, z, b) == 1 ? 0 : -1;
        if (ra != rb || (ra == 0 && memcmp(a, b, 16) != 0)) {
            if (++bad <= 3)
                fprintf(stderr, "mip_parse6 %d, inet_pton %d on '%s'\n", ra, rb, z);
        }
        ok += ra == 0;
    }
    printf("mip_parse6 vs inet_pton: %ld valid, %ld disagree\n", ok, bad);
    CHECK(bad == 0);
}

static void test_cidr_edges(void)
{
    mip_builder b;
    mrefs r = {0};
    mip ip;
    uint32_t rr[64], got[16];
    uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8}, q6[16];
    mip_builder_init(&b);
    CHECK(mip_add4(&b, 0, 0, 0) == 0);                /* /0: everything */
    CHECK(mip_add4(&b, 0xC0A80101u, 32, 1) == 0);     /* 192.168.1.1/32 */
    CHECK(mip_add4(&b, 0xC0A80000u, 16, 2) == 0);     /* 192.168.0.0/16 */
    CHECK(mip_add4(&b, 0xC0A80100u, 24, 3) == 0);     /* 192.168.1.0/24 */
    CHECK(mip_add4(&b, 0xC0A80180u, 25, 4) == 0);     /* 192.168.1.128/25 */
    CHECK(mip_add4(&b, 0xC0A801FFu, 31, 5) == 0);     /* host bits set: 192.168.1.254/31 */
    CHECK(mip_add6(&b, a6, 32, 6) == 0);              /* 2001:db8::/32 */
    CHECK(mip_add6(&b, (uint8_t[16]){0}, 0, 7) == 0); /* ::/0 */
    memcpy(q6, a6, 16);
    q6[15] = 1;
    CHECK(mip_add6(&b, q6, 128, 8) == 0); /* 2001:db8::1 */
    CHECK(mip_build(&b, &r, &ip) == 0);
    CHECK(expand(&r, rr, mip_lookup4(&ip, 0x01020304u, rr, 64), got) == 1 && got[0] == 0);
    size_t n = expand(&r, rr, mip_lookup4(&ip, 0xC0A80101u, rr, 64), got);
    CHECK(n == 4 && got[0] == 0 && got[1] == 1 && got[2] == 2 && got[3] == 3);
    n = expand(&r, rr, mip_lookup4(&ip, 0xC0A801FEu, rr, 64), got);
    CHECK(n == 5 && got[4] == 5);
    n = expand(&r, rr, mip_lookup4(&ip, 0xC0A801FFu, rr, 64), got);
    CHECK(n == 5 && got[3] == 4 && got[4] == 5);
    n = expand(&r, rr, mip_lookup4(&ip, 0xC0A80201u, rr, 64), got);
    CHECK(n == 2 && got[1] == 2);
    n = expand(&r, rr, mip_lookup6(&ip, q6, rr, 64), got);
    CHECK(n == 3 && got[0] == 6 && got[1] == 7 && got[2] == 8);
    q6[15] = 2;
    CHECK(expand(&r, rr, mip_lookup6(&ip, q6, rr, 64), got) == 2);
    q6[1] = 2;
    CHECK(expand(&r, rr, mip_lookup6(&ip, q6, rr, 64), got) == 1);
    mip_free(&ip);
    mrefs_free(&r);
    /* parsing */
    uint32_t v;
    CHECK(mip_parse4("1.2.3.4", 7, &v) == 0 && v == 0x01020304u);
    CHECK(mip_parse4("01.2.3.4", 8, &v) < 0);
    CHECK(mip_parse4("1.2.3.256", 9, &v) < 0);
    CHECK(mip_parse4("1.2.3", 5, &v) < 0);
    CHECK(mip_parse4("1.2.3.4.5", 9, &v) < 0);
    CHECK(mip_parse4("0.0.0.0", 7, &v) == 0 && v == 0);
}

typedef struct ref6 {
    uint8_t a[16];
    int plen;
} ref6;

static int contains6(const ref6 *r, const uint8_t *a)
{
    for (int i = 0; i < r->plen; i++) {
        unsigned bit = 0x80u >> (i % 8);
        if ((r->a[i / 8] & bit) != (a[i / 8] & bit))
            return 0;
    }
    return 1;
}

static void rnd_addr6(uint8_t *a)
{
    memset(a, 0, 16);
    a[0] = 0x20;
    a[1] = 0x01;
    a[2] = (uint8_t)rndn(3);
    a[7] = (uint8_t)rndn(4);
    a[15] = (uint8_t)rndn(64);
}

static void test_ip6_random(void)
{
    enum { N = 1000, Q = 5000 };
    static ref6 refs[N];
    static uint32_t want[N + 1], got[N + 1], rr[64];
    static const int lens[] = {128, 128, 128, 64, 48, 32, 16, 127, 65, 0};
    mip_builder b;
    mrefs r = {0};
    mip ip;
    int bad = 0;
    mip_builder_init(&b);
    for (uint32_t i = 0; i < N; i++) {
        rnd_addr6(refs[i].a);
        refs[i].plen = lens[rndn(10)];
        if (refs[i].plen == 0 && rndn(5))
            refs[i].plen = 128;
        CHECK(mip_add6(&b, refs[i].a, refs[i].plen, i) == 0);
    }
    CHECK(mip_build(&b, &r, &ip) == 0);
    for (int q = 0; q < Q; q++) {
        uint8_t a[16];
        size_t nw = 0;
        if (q % 3 == 0)
            memcpy(a, refs[rndn(N)].a, 16);
        else
            rnd_addr6(a);
        size_t n = mip_lookup6(&ip, a, rr, 64);
        for (uint32_t i = 0; i < N; i++)
            if (contains6(&refs[i], a))
                want[nw++] = i;
        if (!same_sets(want, nw, got, expand(&r, rr, n, got)))
            bad++;
    }
    CHECK(bad == 0);
    mip_free(&ip);
    mrefs_free(&r);
}

/* ------------------------------------------------------------------------------------------ */
/* Domains, strings and digests                                                                 */

static const char *labels[] = {"a", "b", "evil", "example", "com", "net", "x-y", "badexample"};

static size_t rnd_domain(char *out)
{
    size_t n = 0, k = 1 + rndn(4);
    for (size_t i = 0; i < k; i++) {
        const char *l = labels[rndn(8)];
        if (i)
            out[n++] = '.';
        memcpy(out + n, l, strlen(l));
        n += strlen(l);
    }
    out[n] = '\0';
    return n;
}

/* Naive LIKE '%.s' / = s. */
static int domain_matches(const char *name, const char *key, int suffix)
{
    size_t n = strlen(name), k = strlen(key);
    if (!suffix)
        return strcmp(name, key) == 0;
    return n > k + 1 && name[n - k - 1] == '.' && strcmp(name + n - k, key) == 0;
}

static size_t domain_lookup(const mstrset *set, const char *name, uint32_t *refs)
{
    uint32_t offs[MDOMAIN_LABELS];
    size_t len = strlen(name), n = 0, ns = mdomain_suffixes(name, len, offs);
    const mstr_entry *e = mstr_find(set, mstr_hash(set, name, len), name, len);
    if (e && e->ref != MREF_NONE)
        refs[n++] = e->ref;
    for (size_t i = 0; i < ns; i++) {
        const char *s = name + offs[i];
        e = mstr_find(set, mstr_hash(set, s, len - offs[i]), s, len - offs[i]);
        if (e && e->ref2 != MREF_NONE)
            refs[n++] = e->ref2;
    }
    return n;
}

static void test_domain_random(void)
{
    enum { N = 400, Q = 5000 };
    static char keys[N][64];
    static int suf[N];
    static uint32_t want[N + 1], got[N + 1], rr[64];
    mdomain_builder b;
    mrefs r = {0};
    mstrset set;
    int bad = 0;
    mstr_builder_init(&b.s, 7);
    for (uint32_t i = 0; i < N; i++) {
        size_t n = rnd_domain(keys[i]);
        suf[i] = (int)rndn(2);
        CHECK(mdomain_add(&b, keys[i], n, suf[i], i) == 0);
    }
    CHECK(mstr_build(&b.s, &r, &set) == 0);
    for (int q = 0; q < Q; q++) {
        char name[128];
        size_t nw = 0;
        rnd_domain(name);
        for (uint32_t i = 0; i < N; i++)
            if (domain_matches(name, keys[i], suf[i]))
                want[nw++] = i;
        if (!same_sets(want, nw, got, expand(&r, rr, domain_lookup(&set, name, rr), got)))
            bad++;
    }
    CHECK(bad == 0);
    mstr_free(&set);
    mrefs_free(&r);
}

/* mdomain_is_norm (words of eight bytes) against its definition: a valid name that
 * mdomain_norm leaves as it is; on random texts of the bytes that decide it (dots, upper case
 * and its neighbours, control bytes, DEL, UTF-8). */
static int ref_is_norm(const char *s, size_t len)
{
    char o[MDOMAIN_MAX + 2];
    return mdomain_norm(s, len, o, sizeof o) == (long)len && memcmp(o, s, len) == 0;
}

/* mdomain_suffixes against the byte loop it replaced: 1 when they agree. */
static int same_suffixes(const char *s, size_t len)
{
    uint32_t got[MDOMAIN_LABELS], want[MDOMAIN_LABELS];
    size_t n = mdomain_suffixes(s, len, got), w = 0;
    for (size_t i = 0; i + 1 < len && w < MDOMAIN_LABELS; i++)
        if (s[i] == '.')
            want[w++] = (uint32_t)(i + 1);
    return n == w && memcmp(got, want, n * sizeof *got) == 0;
}

static void test_domain_is_norm(void)
{
    static const char alpha[] = "abz09-..@[`{AZ\x20\x21\x7f\x80\xc3\xff\x01";
    long bad = 0, yes = 0, sbad = 0;
    char t[300];
    for (int k = 0; k < 400000; k++) {
        size_t len = k % 4 ? rndn(40) : rndn(300);
        for (size_t i = 0; i < len; i++)
            t[i] = rndn(4) ? (char)('a' + rndn(26)) : alpha[rndn(sizeof alpha - 1)];
        bad += mdomain_is_norm(t, len) != ref_is_norm(t, len);
        yes += ref_is_norm(t, len);
        sbad += !same_suffixes(t, len);
    }
    printf("mdomain_is_norm vs mdomain_norm: %ld normal, %ld disagree; suffixes: %ld disagree\n",
           yes, bad, sbad);
    CHECK(bad == 0 && yes > 1000);
    CHECK(sbad == 0);
}

static void test_domain_edges(void)
{
    mdomain_builder b;
    mrefs r = {0};
    mstrset set;
    uint32_t rr[64], got[8];
    char o[300];
    mstr_builder_init(&b.s, 1);
    CHECK(mdomain_add(&b, "example.com", 11, 1, 0) == 0);
    CHECK(mdomain_add(&b, "example.com", 11, 0, 1) == 0);
    CHECK(mdomain_add(&b, "com", 3, 1, 2) == 0);
    CHECK(mstr_build(&b.s, &r, &set) == 0);
    CHECK(expand(&r, rr, domain_lookup(&set, "a.example.com", rr), got) == 2 && got[0] == 0 &&
          got[1] == 2);
    CHECK(expand(&r, rr, domain_lookup(&set, "a.b.example.com", rr), got) == 2);
    CHECK(expand(&r, rr, domain_lookup(&set, "badexample.com", rr), got) == 1 && got[0] == 2);
    CHECK(expand(&r, rr, domain_lookup(&set, "example.com", rr), got) == 2 && got[0] == 1);
    CHECK(expand(&r, rr, domain_lookup(&set, "com", rr), got) == 0);
    CHECK(expand(&r, rr, domain_lookup(&set, "example.org", rr), got) == 0);
    mstr_free(&set);
    mrefs_free(&r);
    CHECK(mdomain_norm("Evil.EXAMPLE.com.", 17, o, sizeof o) == 16 &&
          !strcmp(o, "evil.example.com"));
    CHECK(mdomain_norm("a..b", 4, o, sizeof o) < 0);
    CHECK(mdomain_norm(".a", 2, o, sizeof o) < 0);
    CHECK(mdomain_norm("a b", 3, o, sizeof o) < 0);
    CHECK(mdomain_norm("", 0, o, sizeof o) < 0);
    CHECK(murl_norm("HTTP://Ex.COM:80", 16, o, sizeof o) > 0 && !strcmp(o, "http://ex.com/"));
    CHECK(murl_norm("http://u:P@Ex.com:8080/A?b#C", 28, o, sizeof o) > 0 &&
          !strcmp(o, "http://u:P@ex.com:8080/A?b#C"));
    CHECK(murl_norm("https://x.org:443?q", 19, o, sizeof o) > 0 && !strcmp(o, "https://x.org/?q"));
    CHECK(murl_norm("x.org/a", 7, o, sizeof o) < 0);
    CHECK(memail_norm("<John@X.org>", 12, o, sizeof o) == 10 && !strcmp(o, "john@x.org"));
}

static void test_hash_random(void)
{
    enum { N = 2000, Q = 6000 };
    static uint8_t keys[N][32];
    static int kinds[N];
    static uint32_t want[N + 1], got[N + 1];
    mhash_builder b;
    mrefs r = {0};
    mhashset sets[MK_HASH_N];
    int bad = 0;
    mhash_builder_init(&b);
    for (uint32_t i = 0; i < N; i++) {
        kinds[i] = MK_FILE_MD5 + (int)rndn(3);
        for (int j = 0; j < 32; j++)
            keys[i][j] = (uint8_t)(j < 2 ? rndn(4) : t_rnd());
        if (i > 10 && rndn(10) == 0) /* some keys named twice, some by two kinds */
            memcpy(keys[i], keys[rndn(i)], 32);
        CHECK(mhash_add(&b, kinds[i], keys[i], i) == 0);
    }
    CHECK(mhash_build(&b, &r, sets) == 0);
    for (int q = 0; q < Q; q++) {
        uint8_t d[32];
        int kind = MK_FILE_MD5 + (int)rndn(3);
        unsigned len = mhash_kinds[kind - MK_HASH_FIRST].len;
        size_t nw = 0, n;
        uint32_t ref;
        if (q % 2)
            memcpy(d, keys[rndn(N)], 32);
        else
            for (int j = 0; j < 32; j++)
                d[j] = (uint8_t)t_rnd();
        for (uint32_t i = 0; i < N; i++)
            if (kinds[i] == kind && memcmp(keys[i], d, len) == 0)
                want[nw++] = i;
        ref = mhash_find(&sets[kind - MK_HASH_FIRST], mhash_hash(d), d);
        n = ref == MREF_NONE ? 0 : expand(&r, &ref, 1, got);
        if (!same_sets(want, nw, got, n))
            bad++;
    }
    CHECK(bad == 0);
    mhash_free(sets);
    mrefs_free(&r);
}

/* ------------------------------------------------------------------------------------------ */
/* The field extractor against the strict parser                                                */

#define FMAX MFIELDS_MAX

typedef struct ref_fields {
    mfield f[FMAX];
    size_t n;
} ref_fields;

static const mfmap_key *ref_find(const mfmap_node *node, const char *k, size_t len)
{
    for (size_t i = 0; i < node->n; i++)
        if (node->keys[i].key_len == len && memcmp(node->keys[i].key, k, len) == 0)
            return &node->keys[i];
    return NULL;
}

static void ref_emit(ref_fields *r, const mfmap_key *mk, const char *p, size_t len, int str)
{
    if (r->n < FMAX)
        r->f[r->n++] = (mfield){p, (uint32_t)len, mk->role, mk->field, (uint8_t)str};
}

static void ref_obj(ref_fields *r, const mfmap_node *node, const ajson_value *o);

static void ref_value(ref_fields *r, const mfmap_key *mk, const ajson_value *v)
{
    if (!mk)
        return;
    switch (v->type) {
    case AJSON_STRING:
    case AJSON_NUMBER:
        if (mk->role)
            ref_emit(r, mk, v->u.str, v->len, v->type == AJSON_STRING);
        break;
    case AJSON_TRUE:
    case AJSON_FALSE:
    case AJSON_NULL:
        if (mk->role) {
            const char *t = v->type == AJSON_TRUE    ? "true"
                            : v->type == AJSON_FALSE ? "false"
                                                     : "null";
            ref_emit(r, mk, t, strlen(t), 0);
        }
        break;
    case AJSON_OBJECT:
        if (mk->sub)
            ref_obj(r, mk->sub, v);
        break;
    case AJSON_ARRAY:
        for (size_t i = 0; i < v->len; i++)
            ref_value(r, mk, &v->u.items[i]);
        break;
    }
}

static void ref_obj(ref_fields *r, const mfmap_node *node, const ajson_value *o)
{
    for (size_t i = 0; i < o->len; i++)
        ref_value(r, ref_find(node, o->u.members[i].key, o->u.members[i].key_len),
                  &o->u.members[i].value);
}

typedef struct diff_stats {
    long lines, strict_ok, agree, disagree, extra_accepted, fields;
} diff_stats;

/* One line through both; counts agreement. */
static void diff_line(diff_stats *d, const char *line, size_t len)
{
    static ajson_arena a, sc;
    static int init;
    ajson_error je;
    mfield f[FMAX];
    ref_fields r = {.n = 0};
    const char *why;
    size_t off;
    const ajson_value *root;
    int n, ok = 1;
    if (!init) {
        ajson_arena_init(&a, 0);
        ajson_arena_init(&sc, 0);
        init = 1;
    }
    ajson_arena_reset(&a);
    ajson_arena_reset(&sc);
    d->lines++;
    root = ajson_parse(&a, line, len, &je);
    n = mjson_extract(mfmap_builtin(), line, len, f, FMAX, &sc, &why, &off);
    if (!root || root->type != AJSON_OBJECT) {
        if (n >= 0)
            d->extra_accepted++;
        return;
    }
    d->strict_ok++;
    ref_obj(&r, &mfmap_builtin()->root, root);
    if (n < 0 || (size_t)n != r.n) {
        ok = 0;
    } else {
        for (int i = 0; i < n && ok; i++)
            ok = f[i].len == r.f[i].len && f[i].role == r.f[i].role && f[i].field == r.f[i].field &&
                 f[i].str == r.f[i].str && memcmp(f[i].p, r.f[i].p, f[i].len) == 0;
    }
    if (ok) {
        d->agree++;
        d->fields += n;
    } else {
        d->disagree++;
        if (d->disagree <= 3)
            fprintf(stderr, "extractor disagrees (%d vs %zu fields%s%s) on: %.*s\n", n, r.n,
                    n < 0 ? ": " : "", n < 0 ? why : "", (int)(len > 300 ? 300 : len), line);
    }
}

/* Calls fn on each line of a (maybe gzipped) file. */
static void each_line(const char *path, void (*fn)(void *, const char *, size_t), void *ud)
{
    gzFile gz = gzopen(path, "rb");
    static char line[1 << 20];
    if (!gz)
        return;
    while (gzgets(gz, line, sizeof line)) {
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            n--;
        if (n && line[0] == '{')
            fn(ud, line, n);
    }
    gzclose(gz);
}

typedef struct corpus {
    char **lines;
    size_t n, cap;
} corpus;

static void corpus_add(void *ud, const char *line, size_t len)
{
    corpus *c = ud;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 1024;
        c->lines = realloc(c->lines, c->cap * sizeof *c->lines);
    }
    c->lines[c->n] = malloc(len + 1);
    memcpy(c->lines[c->n], line, len);
    c->lines[c->n++][len] = '\0';
}

static void corpus_dir(corpus *c, const char *dir, const char *must)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        char path[4600];
        if (e->d_name[0] == '.' || !strstr(e->d_name, must))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        each_line(path, corpus_add, c);
    }
    closedir(d);
}

static void load_corpus(corpus *c)
{
    const char *root = t_shared_data();
    char dir[4096];
    static const char *dirs[][2] = {
        {"zeek-otrf-apt29-day1", ".log"},
        {"zeek-zed-sample-data/zeek-json", ".json"},
        {"telemetry-slips/test9-mixed-zeek-dir", ".log"},
        {"telemetry-slips", ".json"},
        {"suricata-fever/util/testdata", ".json"},
        {"suricata-fever/cmd/fever/cmds/testdata", ".json"},
    };
    if (!root)
        return;
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        snprintf(dir, sizeof dir, "%s/%s", root, dirs[i][0]);
        corpus_dir(c, dir, dirs[i][1]);
    }
}

static const char *hand_lines[] = {
    "{\"id.orig\\u005fh\":\"10.0.0.\\u0031\",\"query\":\"a\\/b\\\"c\",\"answers\":[\"x\\\\y\","
    "\"\\ud83d\\ude00\",1,null,[\"n\"]],\"ts\":1.5e3}",
    "{\"dns\":{\"queries\":[{\"rrname\":\"q.example\"}],\"answers\":[{\"rrname\":\"r\",\"rdata\":"
    "\"1.2.3.4\"},{\"x\":{}}]},\"http\":{\"hostname\":\"H\",\"url\":\"\\/p\"},\"tls\":[]}",
    "  {\"a\":{\"b\":[1,{\"c\":\"}\"}]},\"host\":\"\"}  ",
    "{\"quic\":{\"sni\":\"q.example\",\"ja3\":{\"sni\":\"no\"}},\"dns\":{\"grouped\":{\"A\":"
    "[\"1.2.3.4\",\"5.6.7.8\"],\"AAAA\":[\"::1\"],\"CNAME\":[\"c.example\"],\"TXT\":[\"t\"],"
    "\"SRV\":[{\"port\":1,\"name\":\"s.example\"}],\"SOA\":[{\"mname\":\"m\",\"rname\":\"r\"}],"
    "\"MX\":[],\"NS\":\"ns.example\",\"PTR\":[\"p\\u002eexample\"]}}}",
    "{\"dns\":{\"grouped\":{\"A\":{\"x\":\"1.2.3.4\"},\"SRV\":{\"name\":\"s\"},\"SOA\":[[{}]]}},"
    "\"quic\":[\"sni\"]}",
    "{}",
    "{\"query\":{\"nested\":\"no\"},\"id\":{\"orig_h\":\"::1\",\"resp_p\":-0.5E-3}}",
    "{\"query\":\"a\"",
    "{\"query\":\"a\",}",
    "{\"query\" \"a\"}",
    "[{\"query\":\"a\"}]",
    "{\"query\":\"\\u0000\"}",
    "{\"query\":\"\\ud800\"}",
    "{\"query\":\"\\x41\"}",
    "{\"a\":[}",
    "{\"query\":\"a\"} x",
};

static void mutate(char *dst, size_t *len, const char *src, size_t n, size_t cap)
{
    static const char pool[] = "{}[]\",:\\u0aZ \x01\xc3\xa9";
    size_t pos = n ? rndn((unsigned)n) : 0;
    memcpy(dst, src, n);
    *len = n;
    switch (rndn(6)) {
    case 0:
        if (n)
            dst[pos] = pool[rndn(sizeof pool - 1)];
        break;
    case 1:
        if (n) {
            memmove(dst + pos, dst + pos + 1, n - pos - 1);
            (*len)--;
        }
        break;
    case 2:
        *len = pos;
        break;
    case 3:
        if (n + 6 < cap) {
            static const char *esc[] = {"\\u00e9", "\\/", "\\\"", "\\\\", "\\n", "\\ud83d"};
            const char *e = esc[rndn(6)];
            size_t el = strlen(e);
            memmove(dst + pos + el, dst + pos, n - pos);
            memcpy(dst + pos, e, el);
            *len = n + el;
        }
        break;
    case 4:
        if (n + 1 < cap) {
            memmove(dst + pos + 1, dst + pos, n - pos);
            dst[pos] = pool[rndn(sizeof pool - 1)];
            *len = n + 1;
        }
        break;
    default: {
        size_t a = n ? rndn((unsigned)n) : 0, l = n - a < 20 ? n - a : 20;
        if (n + l < cap) {
            memmove(dst + pos + l, dst + pos, n - pos);
            memmove(dst + pos, dst + a + (a >= pos ? l : 0), l);
            *len = n + l;
        }
    }
    }
}

/* One line through the three extractor modes (vector index, scalar index, byte scans): the
 * same fields, or the same error at the same offset. */
static int modes_agree(const char *line, size_t len)
{
    static ajson_arena sc[3];
    static int init;
    mfield f[3][FMAX];
    const char *why[3] = {NULL, NULL, NULL};
    size_t off[3] = {0, 0, 0};
    int n[3];
    if (!init) {
        for (int m = 0; m < 3; m++)
            ajson_arena_init(&sc[m], 0);
        init = 1;
    }
    for (int m = 0; m < 3; m++) {
        ajson_arena_reset(&sc[m]);
        mjson_force_scalar(m);
        n[m] = mjson_extract(mfmap_builtin(), line, len, f[m], FMAX, &sc[m], &why[m], &off[m]);
    }
    mjson_force_scalar(0);
    for (int m = 1; m < 3; m++) {
        if (n[m] != n[0])
            return 0;
        if (n[0] < 0 && (off[m] != off[0] || strcmp(why[m], why[0]) != 0))
            return 0;
        for (int i = 0; i < n[0]; i++)
            if (f[m][i].len != f[0][i].len || f[m][i].field != f[0][i].field ||
                f[m][i].str != f[0][i].str || memcmp(f[m][i].p, f[0][i].p, f[0][i].len) != 0)
                return 0;
    }
    return 1;
}

static void test_extractor_modes(void)
{
    corpus c = {0};
    static char b1[70000], b2[70000];
    long lines = 0, bad = 0;
    for (int b = 0; b < 256; b++) { /* every byte value in a literal, a string and a key */
        char l[160];
        int n = snprintf(l, sizeof l,
                         "{\"ts\":12%c5,\"query\":\"a%cb\",\"x%c\":[1%c],\"proto\":7%c}"
                         " {\"uri\":\"0123456789012345678901234567890123456789012345678901%c\"}",
                         b, b, b, b, b, b);
        lines++;
        for (int cut = 0; cut <= n; cut += 7)
            if (!modes_agree(l, (size_t)cut))
                bad++;
        if (!modes_agree(l, (size_t)n) || !modes_agree(l + 1, (size_t)n - 1))
            bad++;
    }
    load_corpus(&c);
    for (size_t i = 0; i < sizeof hand_lines / sizeof hand_lines[0]; i++)
        corpus_add(&c, hand_lines[i], strlen(hand_lines[i]));
    for (int k = 0; k < 40000 && c.n; k++) {
        const char *src = c.lines[rndn((unsigned)c.n)];
        size_t n = strlen(src), len, l2;
        if (n > 60000)
            continue;
        mutate(b1, &len, src, n, sizeof b1);
        if (k & 1) {
            mutate(b2, &l2, b1, len, sizeof b2);
            memcpy(b1, b2, l2);
            len = l2;
        }
        lines++;
        if (!modes_agree(b1, len)) {
            if (++bad <= 3)
                fprintf(stderr, "extractor modes disagree on: %.*s\n", (int)(len > 300 ? 300 : len),
                        b1);
        }
    }
    printf("extractor modes (vector index, scalar index, byte scans): %ld lines, %ld disagree\n",
           lines, bad);
    CHECK(bad == 0);
    for (size_t i = 0; i < c.n; i++)
        free(c.lines[i]);
    free(c.lines);
}

/* Strings and literals of every length from 0 to 200 bytes, starting at every offset within a
 * 64-byte word of the line index, so that their ends fall in the same word, the next one, and
 * two words on; as keys too, and in lines padded past the index limit; with and without
 * escapes, non-ASCII text and nested values.  All three modes agree, and agree with the strict
 * parser. */
static void test_extractor_lengths(void)
{
    static char l[4200], v[260];
    diff_stats d = {0};
    long lines = 0, bad = 0;
    for (int pad = 0; pad < 64; pad++) {
        for (int len = 0; len <= 200; len += len < 70 ? 1 : 7) {
            for (int form = 0; form < 6; form++) {
                int n;
                for (int i = 0; i < len; i++)
                    v[i] = (char)('a' + (i * 7 + pad) % 26);
                v[len] = '\0';
                if (form == 2 && len >= 6)
                    memcpy(v + len / 2 - 3, "\\u00e9", 6); /* an escape */
                if (form == 3 && len >= 2)
                    memcpy(v + len / 2 - 1, "\xc3\xa9", 2); /* UTF-8 as it is */
                switch (form) {
                case 0:
                case 2:
                case 3:
                    n = snprintf(l, sizeof l,
                                 "{\"uid\":\"%.*s\",\"query\":\"%s\",\"uri\":\"/%s\","
                                 "\"id.orig_p\":%d}",
                                 pad, "0123456789012345678901234567890123456789012345678901234567890123",
                                 v, v, len);
                    break;
                case 1: /* literals of that length, and the string as a key */
                    n = snprintf(l, sizeof l, "{\"ts\":%.*s1,\"%s\":\"x\",\"id.resp_p\":%.*s7}",
                                 pad, "123456789012345678901234567890123456789012345678901234567890123",
                                 v, len, "12345678901234567890123456789012345678901234567890123456789012"
                                 "34567890123456789012345678901234567890123456789012345678901234567"
                                 "89012345678901234567890123456789012345678901234567890123456789012"
                                 "3456789");
                    break;
                case 4: /* nested: an object and an array of the values */
                    n = snprintf(l, sizeof l,
                                 "{\"x\":\"%.*s\",\"id\":{\"orig_h\":\"%s\",\"resp_p\":%d},"
                                 "\"answers\":[\"%s\",{\"a\":[\"%s\"]},\"1.2.3.4\"]}",
                                 pad, "0123456789012345678901234567890123456789012345678901234567890123",
                                 v, len, v, v);
                    break;
                default: /* past the index limit: byte scans in every mode */
                    n = snprintf(l, sizeof l, "{\"uid\":\"%.*s%0*d\",\"query\":\"%s\"}", pad,
                                 "0123456789012345678901234567890123456789012345678901234567890123",
                                 2100, 0, v);
                    break;
                }
                if (n <= 0 || (size_t)n >= sizeof l)
                    continue;
                lines++;
                for (int cut = n; cut >= n - 3 && cut >= 0; cut--)
                    if (!modes_agree(l, (size_t)cut) && ++bad <= 3)
                        fprintf(stderr, "extractor modes disagree on: %.*s\n", cut, l);
                for (int m = 0; m < 3; m++) {
                    mjson_force_scalar(m);
                    diff_line(&d, l, (size_t)n);
                }
                mjson_force_scalar(0);
            }
        }
    }
    printf("extractor lengths and offsets: %ld lines, %ld modes disagree; strict parser: %ld "
           "valid, %ld agree, %ld disagree\n",
           lines, bad, d.strict_ok, d.agree, d.disagree);
    CHECK(bad == 0);
    CHECK(d.disagree == 0);
    CHECK(d.strict_ok == 3 * lines);
    CHECK(d.agree == d.strict_ok);
}

static void test_extractor(int scalar)
{
    corpus c = {0};
    diff_stats d = {0}, fz = {0};
    static char buf_[70000];
    mjson_force_scalar(scalar);
    load_corpus(&c);
    for (size_t i = 0; i < sizeof hand_lines / sizeof hand_lines[0]; i++)
        corpus_add(&c, hand_lines[i], strlen(hand_lines[i]));
    for (size_t i = 0; i < c.n; i++)
        diff_line(&d, c.lines[i], strlen(c.lines[i]));
    for (int k = 0; k < 60000 && c.n; k++) {
        const char *src = c.lines[rndn((unsigned)c.n)];
        size_t n = strlen(src), len;
        if (n > 60000)
            continue;
        mutate(buf_, &len, src, n, sizeof buf_);
        for (int again = rndn(3); again > 0; again--) {
            static char b2[70000];
            size_t l2;
            mutate(b2, &l2, buf_, len, sizeof b2);
            memcpy(buf_, b2, l2);
            len = l2;
        }
        diff_line(&fz, buf_, len);
    }
    printf("extractor (%s): %ld real lines, %ld strict-valid, %ld agree (%ld fields), %ld "
           "disagree; fuzzed: %ld lines, %ld strict-valid, %ld agree, %ld disagree, %ld read "
           "though the strict parser rejects them\n",
           scalar == 2 ? "byte scans"
           : scalar    ? "scalar"
                       : "vector",
           d.lines, d.strict_ok, d.agree, d.fields, d.disagree, fz.lines, fz.strict_ok, fz.agree,
           fz.disagree, fz.extra_accepted);
    CHECK(d.disagree == 0);
    CHECK(fz.disagree == 0);
    CHECK(d.agree == d.strict_ok);
    if (t_shared_data())
        CHECK(d.strict_ok > 1000);
    for (size_t i = 0; i < c.n; i++)
        free(c.lines[i]);
    free(c.lines);
    mjson_force_scalar(0);
}

/* ------------------------------------------------------------------------------------------ */
/* The fast path against the pattern evaluator                                                  */

#define NV4 60
#define NV6 20
#define NDOM 60
#define NHASH 20

static char v4s[NV4][20], v6s[NV6][48], doms[NDOM][64], md5s[NHASH][33], sha1s[NHASH][41],
    sha256s[NHASH][65];

static void hex(char *out, size_t bytes)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < bytes; i++) {
        unsigned v = (unsigned)t_rnd() & 0xFF;
        out[2 * i] = d[v >> 4];
        out[2 * i + 1] = d[v & 15];
    }
    out[2 * bytes] = '\0';
}

static void make_pools(void)
{
    for (int i = 0; i < NV4; i++) {
        uint32_t a = rnd_addr4();
        snprintf(v4s[i], sizeof v4s[i], "%u.%u.%u.%u", a >> 24, a >> 16 & 255, a >> 8 & 255,
                 a & 255);
    }
    for (int i = 0; i < NV6; i++) {
        uint8_t a[16];
        rnd_addr6(a);
        mip_format(6, a, v6s[i], sizeof v6s[i]);
    }
    for (int i = 0; i < NDOM; i++)
        rnd_domain(doms[i]);
    for (int i = 0; i < NHASH; i++) {
        hex(md5s[i], 16);
        hex(sha1s[i], 20);
        hex(sha256s[i], 32);
    }
}

static const char *paths[] = {"/", "/x", "/a/b?q=1"};
static const unsigned ports[] = {22, 53, 80, 443, 4444, 8080, 0, 65535};
#define NPORTS (sizeof ports / sizeof ports[0])
/* User agents as JSON text: the first four are also `=` literals; then escapes, a quote, a
 * backslash, a precomposed and a decomposed e-acute (NFC makes them equal), wildcard characters
 * in the text, invalid UTF-8 bytes (the observation has U+FFFD for each). */
static const char *uas[] = {"Mozilla/5.0",
                            "curl/8.5.0",
                            "DavClnt",
                            "Mozilla/5.0 (X11; Linux)",
                            "O'Reilly \\\\ agent/1.0",
                            "caf\\u00e9/2",
                            "cafe\\u0301/2",
                            "100% sure_x",
                            "\377curl\376", /* bytes 0xff and 0xfe */
                            "python-requests/2.31",
                            "Go-http-client/1.1",
                            "\\\"quoted\\\" curl/7.1",
                            "curl",
                            "caf\xc3\xa9/2",
                            "Mozilla/5.0 (X11; Linux) curl/8.5.0"};
#define NUAS (sizeof uas / sizeof uas[0])
/* User-Agent LIKE literals as STIX text (\' is a quote, \\ a backslash), all ASCII. */
static const char *likes[] = {"%curl%",
                              "curl/%",
                              "%/5.0",
                              "Mozilla/5.0 (X11; Linux)",
                              "%Linux_",
                              "%(X11; _inux)",
                              "_url/8.5.0",
                              "%",
                              "_%",
                              "",
                              "%caf_/2",
                              "%cafe%",
                              "caf_/_",
                              "%O\\'Reilly%",
                              "%\\\\%",
                              "%100_ sure%",
                              "%sure\\\\_x",
                              "%requests/2._1",
                              "%Go-http-client%",
                              "D_vClnt",
                              "_curl_",
                              "%\"quoted\"%",
                              "%ozilla/5.0 (X11%",
                              "Mozilla%Linux)",
                              "curl",
                              "%url",
                              "____",
                              "%curl/8.5.0",
                              "%%",
                              "caf%/2"};
#define NLIKES (sizeof likes / sizeof likes[0])

static const char *rnd_addr(void)
{
    return rndn(4) ? v4s[rndn(NV4)] : v6s[rndn(NV6)];
}

/* A random network of an address of the pools (host bits left set at times: the evaluator
 * compares the first `length` bits only), as "ADDR/LEN". */
static void rnd_net(buf *b)
{
    static const int l4[] = {0, 1, 8, 16, 24, 31, 32}, l6[] = {0, 1, 32, 64, 127, 128};
    int wide = rndn(12) == 0; /* /0 and /1 hold half the addresses or more: rarely */
    if (rndn(4)) {
        uint32_t a;
        const char *s = v4s[rndn(NV4)];
        int pl = l4[wide ? rndn(2) : 2 + rndn(5)];
        mip_parse4(s, strlen(s), &a);
        if (rndn(3))
            a &= pl == 0 ? 0 : pl == 32 ? 0xFFFFFFFFu : ~(0xFFFFFFFFu >> pl);
        buf_printf(b, "%u.%u.%u.%u/%d", a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255, pl);
    } else {
        buf_printf(b, "%s/%d", v6s[rndn(NV6)], l6[wide ? rndn(2) : 2 + rndn(4)]);
    }
}

/* A traffic network comparison, alone or with a port: CIDR table, then port. */
static void rnd_traffic_net(buf *b)
{
    const char *side = rndn(2) ? "dst" : "src";
    int form = (int)rndn(6);
    if (form == 5) { /* a superset of a network is only an address of full length */
        const char *a = rnd_addr();
        buf_printf(b, "network-traffic:%s_ref.value ISSUPERSET '%s/%s'", side, a,
                   strchr(a, ':') ? (rndn(2) ? "128" : "64") : (rndn(2) ? "32" : "24"));
        return;
    }
    if (form == 4)
        buf_printf(b, "network-traffic:%s_port = %u AND ", side, ports[rndn(NPORTS)]);
    buf_printf(b, "network-traffic:%s_ref.value ISSUBSET '", side);
    rnd_net(b);
    buf_adds(b, "'");
    if (form == 1)
        buf_printf(b, " AND network-traffic:%s_port = %u", side, ports[rndn(NPORTS)]);
    else if (form == 2)
        buf_printf(b, " AND network-traffic:%s_port IN (%u, %u)", side, ports[rndn(NPORTS)],
                   ports[rndn(NPORTS)]);
}

/* One random comparison (canonical literals) appended to b. */
static void rnd_cmp(buf *b)
{
    switch (rndn(22)) {
    case 18:
    case 19:
        rnd_traffic_net(b);
        break;
    case 20:
    case 21:
        buf_printf(b,
                   "network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' "
                   "LIKE '%s'",
                   likes[rndn(NLIKES)]);
        break;
    case 12:
        buf_printf(b, "network-traffic:%s_port = %u", rndn(2) ? "dst" : "src", ports[rndn(NPORTS)]);
        break;
    case 13:
        buf_printf(b, "network-traffic:dst_port IN (%u, %u)", ports[rndn(NPORTS)],
                   ports[rndn(NPORTS)]);
        break;
    case 14:
        buf_printf(b, "network-traffic:%s_ref.value = '%s'", rndn(2) ? "dst" : "src", rnd_addr());
        break;
    case 15: {
        const char *side = rndn(2) ? "dst" : "src";
        if (rndn(2))
            buf_printf(b, "network-traffic:%s_ref.value = '%s' AND network-traffic:%s_port = %u",
                       side, rnd_addr(), side, ports[rndn(NPORTS)]);
        else
            buf_printf(b, "network-traffic:%s_port IN (%u, %u) AND network-traffic:%s_ref.value "
                          "= '%s'", side, ports[rndn(NPORTS)], ports[rndn(NPORTS)], side,
                       rnd_addr());
        break;
    }
    case 16:
    case 17:
        buf_printf(b, "network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = "
                      "'%s'", uas[rndn(4)]);
        break;
    case 0:
        buf_printf(b, "ipv4-addr:value = '%s'", v4s[rndn(NV4)]);
        break;
    case 1: {
        uint32_t a;
        const char *s = v4s[rndn(NV4)];
        mip_parse4(s, strlen(s), &a);
        int pl = rndn(20) == 0 ? (int)rndn(8) : 12 + (int)rndn(21);
        uint32_t m = pl == 0 ? 0 : pl == 32 ? 0xFFFFFFFFu : ~(0xFFFFFFFFu >> pl);
        a &= m;
        buf_printf(b, "ipv4-addr:value ISSUBSET '%u.%u.%u.%u/%d'", a >> 24, a >> 16 & 255,
                   a >> 8 & 255, a & 255, pl);
        break;
    }
    case 2:
        buf_printf(b, "ipv6-addr:value = '%s'", v6s[rndn(NV6)]);
        break;
    case 3: {
        static const int l6[] = {128, 64, 48, 32, 0, 120};
        buf_printf(b, "ipv6-addr:value ISSUBSET '%s/%d'", v6s[rndn(NV6)], l6[rndn(6)]);
        break;
    }
    case 4:
        buf_printf(b, "domain-name:value = '%s'", doms[rndn(NDOM)]);
        break;
    case 5:
        buf_printf(b, "domain-name:value LIKE '%%.%s'", doms[rndn(NDOM)]);
        break;
    case 6:
        buf_printf(b, "url:value = 'http://%s%s'", doms[rndn(NDOM)], paths[rndn(3)]);
        break;
    case 7:
        buf_printf(b, "email-addr:value = 'u@%s'", doms[rndn(NDOM)]);
        break;
    case 8:
        buf_printf(b, "file:hashes.'MD5' = '%s'", md5s[rndn(NHASH)]);
        break;
    case 9:
        buf_printf(b, "file:hashes.'SHA-256' IN ('%s', '%s')", sha256s[rndn(NHASH)],
                   sha256s[rndn(NHASH)]);
        break;
    case 10:
        buf_printf(b, "x509-certificate:hashes.'SHA-1' = '%s'", sha1s[rndn(NHASH)]);
        break;
    default:
        buf_printf(b, "file:hashes.'SHA-1' = '%s'", sha1s[rndn(NHASH)]);
        break;
    }
}

static char *rnd_pattern(int complex)
{
    buf b;
    buf_init(&b, 1 << 16);
    if (complex) {
        static const char *c[] = {
            "[ipv4-addr:value = '%s' AND ipv4-addr:value != '1.1.1.1']",
            "[network-traffic:dst_ref.value = '%s' AND network-traffic:dst_port = 443 AND "
            "network-traffic:protocols[*] = 'tcp']",
            "[network-traffic:src_ref.value IN ('%s', '2001:0:0:1::12') AND "
            "network-traffic:src_port < 1024]",
            "[file:hashes.'MD5' != '%s']",
            "[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' LIKE "
            "'Mozilla%%' AND network-traffic:dst_ref.value = '%s']",
            "[network-traffic:dst_ref.value = '%s' AND network-traffic:src_port > 1000]",
            "[domain-name:value LIKE '%%e_il%%' OR ipv4-addr:value = '%s']",
            "[ipv4-addr:value = '%s'] OR [domain-name:value LIKE 'b%%']",
            ("[network-traffic:src_ref.value ISSUBSET '10.0.0.0/14' AND network-traffic:dst_port > "
             "1000 AND ipv4-addr:value = '%s']"),
        };
        int k = (int)rndn(11);
        if (k == 9) /* a text atom: a domain or URL the events carry */
            buf_printf(&b, "[domain-name:value IN ('%s', 'x.invalid') AND domain-name:value LIKE "
                           "'%%e%%']", doms[rndn(NDOM)]);
        else if (k == 10)
            buf_printf(&b, "[url:value = 'http://%s%s' AND url:value NOT LIKE '%%.php']",
                       doms[rndn(NDOM)], paths[rndn(3)]);
        else
            buf_printf(&b, c[k], v4s[rndn(NV4)]);
        return buf_take(&b, NULL);
    }
    int n = 1 + (int)rndn(3), obs = rndn(4) == 0;
    buf_adds(&b, "[");
    for (int i = 0; i < n; i++) {
        if (i)
            buf_adds(&b, obs ? "] OR [" : " OR ");
        rnd_cmp(&b);
    }
    buf_adds(&b, "]");
    return buf_take(&b, NULL);
}

/* One random Zeek/Suricata-style event line. */
static void rnd_event(buf *b)
{
    buf_reset(b);
    buf_printf(b, "{\"ts\":%u.5", 1600000000u + rndn(1000));
    if (rndn(2))
        buf_printf(b, ",\"id.orig_h\":\"%s\",\"id.orig_p\":%u", rnd_addr(),
                   rndn(2) ? ports[rndn(NPORTS)] : rndn(65536));
    if (rndn(2))
        buf_printf(b, ",\"id.resp_h\":\"%s\",\"id.resp_p\":%u,\"proto\":\"tcp\"", rnd_addr(),
                   rndn(3) ? ports[rndn(NPORTS)] : rndn(65536));
    else if (rndn(3) == 0)
        buf_printf(b, ",\"id.resp_p\":%u", ports[rndn(NPORTS)]);
    if (rndn(3) == 0)
        buf_printf(b, ",\"user_agent\":\"%s\"", uas[rndn(NUAS)]);
    if (rndn(8) == 0)
        buf_printf(b, ",\"http\":{\"http_user_agent\":\"%s\"},\"dest_port\":%u", uas[rndn(NUAS)],
                   ports[rndn(NPORTS)]);
    if (rndn(3) == 0)
        buf_printf(b, ",\"query\":\"%s\",\"answers\":[\"%s\",\"%s\"]", doms[rndn(NDOM)],
                   v4s[rndn(NV4)], doms[rndn(NDOM)]);
    if (rndn(3) == 0)
        buf_printf(b, ",\"host\":\"%s\",\"uri\":\"%s\"", doms[rndn(NDOM)], paths[rndn(3)]);
    if (rndn(4) == 0)
        buf_printf(b, ",\"md5\":\"%s\",\"sha1\":\"%s\",\"sha256\":\"%s\"", md5s[rndn(NHASH)],
                   sha1s[rndn(NHASH)], sha256s[rndn(NHASH)]);
    if (rndn(6) == 0)
        buf_printf(b, ",\"mailfrom\":\"<u@%s>\"", doms[rndn(NDOM)]);
    if (rndn(6) == 0)
        buf_printf(b, ",\"cert_chain_fps\":[\"%s\"]", sha1s[rndn(NHASH)]);
    if (rndn(6) == 0)
        buf_printf(b, ",\"dns\":{\"rrname\":\"%s\"},\"src_ip\":\"%s\"", doms[rndn(NDOM)],
                   v4s[rndn(NV4)]);
    buf_adds(b, "}");
}

/* The indicators the evaluator says match the event line. */
static size_t reference(char **pats, size_t np, const char *line, size_t len, uint32_t *out)
{
    static ajson_arena sc;
    static int init;
    mfield f[MFIELDS_MAX];
    mitem it[MITEMS_MAX];
    const char *why;
    size_t off, k = 0;
    buf obs;
    accord_pattern_obs *o = NULL;
    if (!init) {
        ajson_arena_init(&sc, 0);
        init = 1;
    }
    ajson_arena_reset(&sc);
    int nf = mjson_extract(mfmap_builtin(), line, len, f, MFIELDS_MAX, &sc, &why, &off);
    if (nf < 0)
        return 0;
    size_t ni = mitems_from_fields(f, (size_t)nf, it, MITEMS_MAX, &sc);
    buf_init(&obs, 1 << 20);
    mobs_write(it, ni, f, (size_t)nf, mevent_time_us(f, (size_t)nf), &obs);
    accord_pattern_obs_new(&o);
    if (accord_pattern_obs_add_json(o, obs.p, obs.len, NULL) != 0)
        fprintf(stderr, "observation rejected: %s\n", obs.p);
    for (size_t i = 0; i < np; i++) {
        accord_pattern *p = NULL;
        int matched = 0;
        accord_pattern_compile(pats[i], strlen(pats[i]), 0, &p, NULL);
        if (p && accord_pattern_match(p, o, &matched, NULL, NULL) == 0 && matched)
            out[k++] = (uint32_t)i;
        accord_pattern_free(p);
    }
    accord_pattern_obs_free(o);
    buf_free(&obs);
    return k;
}

static void test_differential(void)
{
    enum { NP = 300, NE = 1500 };
    static char *pats[NP];
    static uint32_t want[NP], got[NP];
    accord_snapshot_builder *b = NULL;
    accord_snapshot *s = NULL;
    accord_matcher *m = NULL;
    accord_snapshot_stats st;
    buf ev;
    long bad = 0, matched_events = 0;
    make_pools();
    CHECK(accord_snapshot_builder_new(0, &b) == 0);
    for (int i = 0; i < NP; i++) {
        char id[64];
        accord_error err = {0};
        pats[i] = rnd_pattern(i % 10 == 9);
        snprintf(id, sizeof id, "indicator--00000000-0000-4000-8000-%012d", i);
        if (accord_snapshot_builder_add(b, id, "n", pats[i], 0, 0, &err) != 0)
            fprintf(stderr, "pattern %s: %s\n", pats[i], err.msg);
    }
    CHECK(accord_snapshot_build(b, &s, NULL) == 0);
    accord_snapshot_builder_free(b);
    accord_snapshot_stats_get(s, &st);
    CHECK(st.simple == NP - NP / 10 && st.complex == NP / 10 && st.normalised == 0);
    CHECK(accord_matcher_new(s, &m) == 0);
    buf_init(&ev, 1 << 20);
    for (int e = 0; e < NE; e++) {
        accord_match mt;
        size_t nw, ng = 0;
        rnd_event(&ev);
        nw = reference(pats, NP, ev.p, ev.len, want);
        CHECK(accord_matcher_match_lines(m, ev.p, ev.len, 0) >= 0);
        while (accord_matcher_next(m, &mt) == 1)
            for (size_t i = 0; i < mt.nindicators; i++)
                got[ng++] = mt.indicators[i];
        ng = expand(&(mrefs){0}, got, ng,
                    got); /* sort and dedupe: single refs expand to themselves */
        matched_events += nw > 0;
        if (!same_sets(want, nw, got, ng) && bad++ < 3) {
            fprintf(stderr, "fast path %zu vs evaluator %zu indicators on %s\n", ng, nw, ev.p);
            for (size_t i = 0; i < nw; i++)
                fprintf(stderr, "  evaluator: %s\n", pats[want[i]]);
            for (size_t i = 0; i < ng; i++)
                fprintf(stderr, "  fast:      %s\n", pats[got[i]]);
        }
    }
    printf("differential: %d patterns (%llu fast, %llu engine), %d events, %ld with matches, %ld "
           "disagree\n",
           NP, (unsigned long long)st.simple, (unsigned long long)st.complex, NE, matched_events,
           bad);
    CHECK(bad == 0);
    CHECK(matched_events > NE / 10);
    buf_free(&ev);
    accord_matcher_free(m);
    accord_snapshot_unref(s);
    for (int i = 0; i < NP; i++)
        free(pats[i]);
}

/* ------------------------------------------------------------------------------------------ */
/* Snapshot behaviour: lenient literals, validity, malformed lines, JSON indicators             */

static accord_snapshot *snap_of(const char *const *pats, size_t n, int64_t now)
{
    accord_snapshot_builder *b = NULL;
    accord_snapshot *s = NULL;
    accord_snapshot_builder_new(now, &b);
    for (size_t i = 0; i < n; i++) {
        char id[64];
        snprintf(id, sizeof id, "indicator--00000000-0000-4000-8000-%012zu", i);
        accord_snapshot_builder_add(b, id, "", pats[i], 0, 0, NULL);
    }
    accord_snapshot_build(b, &s, NULL);
    accord_snapshot_builder_free(b);
    return s;
}

/* The indicator numbers matched by text, joined as "0,2,..." per match, ";" between matches. */
static void matches_of(accord_snapshot *s, const char *text, int64_t now, char *out, size_t cap)
{
    accord_matcher *m = NULL;
    accord_match mt;
    size_t k = 0;
    out[0] = '\0';
    accord_matcher_new(s, &m);
    accord_matcher_match_lines(m, text, strlen(text), now);
    while (accord_matcher_next(m, &mt) == 1) {
        for (size_t i = 0; i < mt.nindicators && k + 16 < cap; i++)
            k += (size_t)snprintf(out + k, cap - k, "%s%u", i ? "," : "", mt.indicators[i]);
        if (k + 2 < cap)
            out[k++] = ';', out[k] = '\0';
    }
    accord_matcher_free(m);
}

static void test_lenient_and_validity(void)
{
    static const char *const pats[] = {
        "[file:hashes.'MD5' = 'CC85D7649546D3C0B1607F761B73FEC2']",
        "[ipv4-addr:value = '10.0.0.0/8']",
        "[domain-name:value = 'Evil.Example.']",
        "[ipv6-addr:value = '2001:0DB8::1']",
        "[url:value = 'HTTP://X.org:80']",
    };
    char out[256];
    accord_snapshot *s = snap_of(pats, 5, 0);
    accord_snapshot_stats st;
    accord_snapshot_stats_get(s, &st);
    CHECK(st.simple == 5 && st.normalised == 5);
    matches_of(s,
               "cc85d7649546d3c0b1607f761b73fec2\n10.9.8.7\nevil.example\n2001:db8::1\n"
               "http://x.org/\n11.0.0.1\n",
               0, out, sizeof out);
    CHECK_STR(out, "0;1;2;3;4;");
    accord_snapshot_unref(s);

    /* validity: one indicator valid from 2030, one expired after 2020 */
    accord_snapshot_builder *b = NULL;
    accord_snapshot_builder_new(1700000000, &b);
    CHECK(accord_snapshot_builder_add(b, "indicator--00000000-0000-4000-8000-000000000000", "f",
                                      "[ipv4-addr:value = '1.2.3.4']", 1900000000, 0, NULL) == 0);
    CHECK(accord_snapshot_builder_add(b, "indicator--00000000-0000-4000-8000-000000000001", "u",
                                      "[ipv4-addr:value = '1.2.3.4']", 0, 1800000000, NULL) == 0);
    CHECK(accord_snapshot_builder_add(b, "indicator--00000000-0000-4000-8000-000000000002", "x",
                                      "[ipv4-addr:value = '1.2.3.4']", 0, 1600000000, NULL) == 0);
    CHECK(accord_snapshot_build(b, &s, NULL) == 0);
    accord_snapshot_builder_free(b);
    CHECK(accord_snapshot_count(s) == 2);
    matches_of(s, "1.2.3.4", 1700000000, out, sizeof out);
    CHECK_STR(out, "1;");
    matches_of(s, "1.2.3.4", 1850000000, out, sizeof out);
    CHECK_STR(out, "");
    matches_of(s, "1.2.3.4", 1950000000, out, sizeof out);
    CHECK_STR(out, "0;");
    accord_snapshot_unref(s);
}

/* Ports and user agents in the fast tables: which forms go there, and what a match names. */
static void test_traffic_keys(void)
{
    static const char *const pats[] = {
        "[network-traffic:dst_port = 4444]",
        "[network-traffic:dst_ref.value = '198.51.100.7' AND network-traffic:dst_port IN (443, 8443)]",
        "[network-traffic:src_port = 53 AND network-traffic:src_ref.value = '2001:db8::1']",
        "[network-traffic:dst_ref.value = '203.0.113.5']",
        "[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = 'DavClnt']",
        "[network-traffic:dst_port > 1000]",                         /* the pattern engine's */
        "[network-traffic:dst_ref.value = '10.0.0.0/8' AND network-traffic:dst_port = 1]", /* too */
    };
    static const char *lines[] = {
        "{\"id.orig_h\":\"10.0.0.1\",\"id.resp_h\":\"192.0.2.1\",\"id.resp_p\":4444}",
        "{\"src_ip\":\"10.0.0.1\",\"dest_ip\":\"198.51.100.7\",\"dest_port\":8443}",
        "{\"id.orig_h\":\"2001:DB8::1\",\"id.orig_p\":53,\"id.resp_h\":\"10.0.0.2\"}",
        "{\"id.resp_h\":\"203.0.113.5\",\"id.resp_p\":80}",
        "{\"user_agent\":\"DavClnt\",\"host\":\"x.example\"}",
        "{\"id.resp_h\":\"198.51.100.7\",\"id.resp_p\":22,\"id.orig_p\":4444}",
        "{\"id.resp_p\":4444}", /* no address, no user agent: no network-traffic object */
    };
    static const char *want[][2] = {
        {"id.resp_p", "4444"},         {"dest_ip", "198.51.100.7:8443"},
        {"id.orig_h", "[2001:db8::1]:53"}, {"id.resp_h", "203.0.113.5"},
        {"user_agent", "DavClnt"},     {NULL, NULL},
        {NULL, NULL},
    };
    accord_snapshot *s = snap_of(pats, 7, 0);
    accord_snapshot_stats st;
    accord_matcher *m = NULL;
    accord_snapshot_stats_get(s, &st);
    CHECK(st.simple == 5 && st.complex == 2 && st.ports == 5 && st.user_agents == 1);
    CHECK(accord_matcher_new(s, &m) == 0);
    for (int i = 0; i < 7; i++) {
        accord_match mt;
        int n = 0;
        CHECK(accord_matcher_match_lines(m, lines[i], strlen(lines[i]), 0) >= 0);
        while (accord_matcher_next(m, &mt) == 1) {
            if (mt.field == NULL) /* the pattern engine's > 1000 */
                continue;
            n++;
            CHECK(want[i][0] && mt.nindicators == 1 && mt.indicators[0] == (uint32_t)i);
            CHECK(want[i][0] && strcmp(mt.field, want[i][0]) == 0);
            CHECK(want[i][1] && mt.value_len == strlen(want[i][1]) &&
                  memcmp(mt.value, want[i][1], mt.value_len) == 0);
        }
        CHECK(n == (want[i][0] != NULL));
    }
    accord_matcher_free(m);
    accord_snapshot_unref(s);
}

/* Networks with ports and User-Agent LIKE patterns in the fast tables (edges: /0, IPv6, ports 0
 * and 65535, '_' over a decomposed character that NFC composes). */
static void test_nets_and_likes(void)
{
    static const char *const pats[] = {
        "[network-traffic:dst_ref.value ISSUBSET '198.51.100.0/24' AND network-traffic:dst_port = "
        "443]",
        "[network-traffic:src_ref.value ISSUBSET '0.0.0.0/0']",
        "[network-traffic:dst_port IN (0, 65535) AND network-traffic:dst_ref.value ISSUBSET "
        "'2001:db8::/32']",
        "[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' LIKE "
        "'%curl/%']",
        "[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' LIKE 'caf_']",
    };
    static const char *lines[] = {
        "{\"id.orig_h\":\"10.0.0.1\",\"id.resp_h\":\"198.51.100.9\",\"id.resp_p\":443}",
        "{\"id.orig_h\":\"2001:db8::5\",\"id.resp_h\":\"198.51.100.9\",\"id.resp_p\":444}",
        "{\"id.orig_h\":\"10.0.0.1\",\"id.resp_h\":\"2001:db8:ffff::1\",\"id.resp_p\":65535}",
        "{\"user_agent\":\"x curl/8\",\"id.resp_h\":\"2001:db9::1\",\"id.resp_p\":0}",
        "{\"user_agent\":\"cafe\\u0301\"}",
    };
    static const unsigned want[] = {1u << 0 | 1u << 1, 0, 1u << 1 | 1u << 2, 1u << 3, 1u << 4};
    accord_snapshot *s = snap_of(pats, 5, 0);
    accord_snapshot_stats st;
    accord_matcher *m = NULL;
    accord_snapshot_stats_get(s, &st);
    CHECK(st.simple == 5 && st.complex == 0 && st.ports == 4 && st.user_agent_patterns == 2);
    CHECK(accord_matcher_new(s, &m) == 0);
    for (int i = 0; i < 5; i++) {
        accord_match mt;
        unsigned got = 0;
        CHECK(accord_matcher_match_lines(m, lines[i], strlen(lines[i]), 0) >= 0);
        while (accord_matcher_next(m, &mt) == 1)
            for (size_t k = 0; k < mt.nindicators; k++)
                got |= 1u << mt.indicators[k];
        if (got != want[i])
            fprintf(stderr, "line %d: indicators %#x, want %#x\n", i, got, want[i]);
        CHECK(got == want[i]);
    }
    accord_matcher_free(m);
    accord_snapshot_unref(s);
}

/* An indicator object as JSON: id number n, version `modified` (a year), pattern, revoked. */
static void add_ind(accord_snapshot_builder *b, int n, int year, const char *pattern, int revoked)
{
    char j[1024];
    snprintf(j, sizeof j,
             "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--00000000-0000-"
             "4000-8000-%012d\",\"created\":\"2020-01-01T00:00:00Z\",\"modified\":\"%d-01-01T00:"
             "00:00Z\",\"name\":\"i%d\",\"pattern\":\"%s\",\"pattern_type\":\"stix\","
             "\"valid_from\":\"2020-01-01T00:00:00Z\",\"revoked\":%s}",
             n, year, n, pattern, revoked ? "true" : "false");
    CHECK(accord_snapshot_builder_add_json(b, j, strlen(j), NULL) == 0);
}

/* The indicators (the numbers of their ids, as bits) matcher m over s reports for text. */
static unsigned reported(accord_matcher *m, const accord_snapshot *s, const char *text)
{
    accord_match mt;
    unsigned got = 0;
    CHECK(accord_matcher_match_lines(m, text, strlen(text), 1700000000) >= 0);
    while (accord_matcher_next(m, &mt) == 1)
        for (size_t k = 0; k < mt.nindicators; k++) {
            accord_indicator_info info;
            CHECK(accord_snapshot_indicator(s, mt.indicators[k], &info) == 0);
            got |= 1u << strtol(info.id + strlen(info.id) - 12, NULL, 10);
        }
    return got;
}

/* A snapshot of indicators 0..4 in the versions years[i] (0: absent; negative: revoked). */
static accord_snapshot *versions(const char *const *pats, const int *years)
{
    accord_snapshot_builder *b = NULL;
    accord_snapshot *s = NULL;
    CHECK(accord_snapshot_builder_new(1700000000, &b) == 0);
    for (int i = 0; i < 5; i++)
        if (years[i])
            add_ind(b, i, years[i] < 0 ? -years[i] : years[i], pats[i], years[i] < 0);
    CHECK(accord_snapshot_build(b, &s, NULL) == 0);
    accord_snapshot_builder_free(b);
    return s;
}

/*
 * Partial matches survive a reload for the indicators that did not change.  Indicators 0..3 are
 * FOLLOWEDBY sequences (an address, then a name); the first halves of all are seen, then the
 * snapshot is rebuilt: 0 unchanged (and an unrelated indicator added), 1 revoked, 2 a new
 * version of the same pattern, 3 unchanged.  The second halves then complete 0 and 3 only; a
 * matcher over the new snapshot without the carried state completes none.  A third snapshot
 * brings 1 back (a newer version, not revoked): its state was dropped at the revocation, so its
 * second half alone completes nothing.
 */
static void test_carry(void)
{
    static const char *const seq[] = {
        "[ipv4-addr:value = '198.51.100.1'] FOLLOWEDBY [domain-name:value = 'a.example']",
        "[ipv4-addr:value = '198.51.100.2'] FOLLOWEDBY [domain-name:value = 'b.example']",
        "[ipv4-addr:value = '198.51.100.3'] FOLLOWEDBY [domain-name:value = 'c.example'] WITHIN "
        "600 SECONDS",
        "([ipv4-addr:value = '198.51.100.4'] FOLLOWEDBY [domain-name:value = 'd.example']) "
        "WITHIN 600 SECONDS",
        "[ipv4-addr:value = '203.0.113.9']",
    };
    static const int v1[] = {2024, 2024, 2024, 2024, 0}, v2[] = {2024, -2025, 2025, 2024, 2024},
                     v3[] = {2024, 2026, 2025, 2024, 2024};
    const char *first = "{\"ts\":1600000000,\"id.resp_h\":\"198.51.100.1\"}\n"
                        "{\"ts\":1600000001,\"id.resp_h\":\"198.51.100.2\"}\n"
                        "{\"ts\":1600000002,\"id.resp_h\":\"198.51.100.3\"}\n"
                        "{\"ts\":1600000003,\"id.resp_h\":\"198.51.100.4\"}\n";
    const char *second = "{\"ts\":1600000010,\"query\":\"a.example\"}\n"
                         "{\"ts\":1600000011,\"query\":\"b.example\"}\n"
                         "{\"ts\":1600000012,\"query\":\"c.example\"}\n"
                         "{\"ts\":1600000013,\"query\":\"d.example\"}\n";
    accord_snapshot *s1 = versions(seq, v1), *s2 = versions(seq, v2), *s3 = versions(seq, v3);
    accord_matcher *m1 = NULL, *m2 = NULL, *fresh = NULL, *m3 = NULL;
    CHECK(accord_matcher_new(s1, &m1) == 0);
    CHECK(reported(m1, s1, first) == 0);
    /* the reload: 0 and 3 unchanged, 1 revoked, 2 a new version, 4 added */
    CHECK(accord_matcher_new(s2, &m2) == 0);
    CHECK(accord_matcher_new(s2, &fresh) == 0);
    CHECK(accord_matcher_carry(m2, m1) == 2);
    accord_matcher_free(m1);
    CHECK(reported(fresh, s2, second) == 0);
    CHECK(reported(m2, s2, second) == (1u << 0 | 1u << 3));
    CHECK(accord_matcher_carry(fresh, m2) == ACCORD_EINVAL); /* fresh has matched */
    /* 1 comes back: nothing of its first half is left */
    CHECK(accord_matcher_new(s3, &m3) == 0);
    CHECK(accord_matcher_carry(m3, m2) == 3); /* 0, 2 (its 2025 version) and 3 */
    CHECK(reported(m3, s3, "{\"ts\":1600000020,\"query\":\"b.example\"}\n") == 0);
    CHECK(reported(m3, s3,
                   "{\"ts\":1600000021,\"id.resp_h\":\"198.51.100.2\"}\n"
                   "{\"ts\":1600000022,\"query\":\"b.example\"}\n") == 1u << 1);
    accord_matcher_free(m2);
    accord_matcher_free(fresh);
    accord_matcher_free(m3);
    accord_snapshot_unref(s1);
    accord_snapshot_unref(s2);
    accord_snapshot_unref(s3);
}

/* The prefilter of pattern-engine indicators changes no match: a matcher with it and one without
 * give the same results over a stream of events, temporal patterns included; and it lets
 * through few events when the patterns name values. */
static void test_complex_filter(void)
{
    enum { NP = 60, NE = 3000 };
    static char *pats[NP];
    accord_snapshot_builder *b = NULL;
    accord_snapshot *s = NULL;
    accord_matcher *m[2] = {NULL, NULL};
    buf ev, all[2];
    long passed = 0, events = 0;
    CHECK(accord_snapshot_builder_new(0, &b) == 0);
    for (int i = 0; i < NP; i++) {
        char id[64];
        if (i % 6 == 5) { /* temporal and observation-operator patterns */
            buf t;
            buf_init(&t, 1 << 12);
            buf_printf(&t, i % 12 == 5 ? "[ipv4-addr:value = '%s'] FOLLOWEDBY [domain-name:value = "
                                         "'%s'] WITHIN 600 SECONDS"
                                       : "[ipv4-addr:value = '%s'] AND [url:value = 'http://%s/']",
                       v4s[rndn(NV4)], doms[rndn(NDOM)]);
            pats[i] = buf_take(&t, NULL);
        } else {
            pats[i] = rnd_pattern(1);
        }
        snprintf(id, sizeof id, "indicator--00000000-0000-4000-8000-%012d", i);
        CHECK(accord_snapshot_builder_add(b, id, "n", pats[i], 0, 0, NULL) == 0);
    }
    CHECK(accord_snapshot_build(b, &s, NULL) == 0);
    accord_snapshot_builder_free(b);
    CHECK(accord_matcher_new(s, &m[0]) == 0 && accord_matcher_new(s, &m[1]) == 0);
    mmatcher_unfiltered(m[1], 1);
    buf_init(&ev, 1 << 20);
    for (int k = 0; k < 2; k++)
        buf_init(&all[k], 1 << 26);
    for (int e = 0; e < NE; e++) {
        accord_match mt;
        rnd_event(&ev);
        for (int k = 0; k < 2; k++) {
            CHECK(accord_matcher_match_lines(m[k], ev.p, ev.len, 0) >= 0);
            while (accord_matcher_next(m[k], &mt) == 1) {
                buf_printf(&all[k], "%d:%s:", e, mt.field ? mt.field : "-");
                for (size_t i = 0; i < mt.nindicators; i++)
                    buf_printf(&all[k], "%u,", mt.indicators[i]);
                buf_adds(&all[k], ";");
            }
        }
        { /* how many events the filter lets through */
            ajson_arena sc;
            mfield f[MFIELDS_MAX];
            mitem it[MITEMS_MAX];
            const char *why;
            size_t off;
            ajson_arena_init(&sc, 0);
            int nf = mjson_extract(mfmap_builtin(), ev.p, ev.len, f, MFIELDS_MAX, &sc, &why, &off);
            size_t ni = nf < 0 ? 0 : mitems_from_fields(f, (size_t)nf, it, MITEMS_MAX, &sc);
            events++;
            passed += mcf_pass(&s->cfilter, it, ni);
            ajson_arena_free(&sc);
        }
    }
    CHECK(all[0].len > 1000);
    CHECK(all[0].len == all[1].len && memcmp(all[0].p, all[1].p, all[0].len) == 0);
    printf("complex filter: %d patterns, %ld events, %ld passed the filter, results %s\n", NP,
           events, passed, all[0].len == all[1].len ? "equal" : "differ");
    CHECK(passed < events); /* the MD5 != leaves pass every event with a digest, not others */
    for (int k = 0; k < 2; k++) {
        buf_free(&all[k]);
        accord_matcher_free(m[k]);
    }
    buf_free(&ev);
    accord_snapshot_unref(s);
    for (int i = 0; i < NP; i++)
        free(pats[i]);
}

static void test_json_indicators(void)
{
    static const char *objs[] = {
        "{\"type\":\"indicator\",\"id\":\"indicator--00000000-0000-4000-8000-000000000001\","
        "\"modified\":\"2024-01-01T00:00:00Z\",\"name\":\"old\",\"pattern\":\"[ipv4-addr:value = "
        "'1.1.1.1']\",\"pattern_type\":\"stix\",\"valid_from\":\"2024-01-01T00:00:00Z\"}",
        "{\"type\":\"indicator\",\"id\":\"indicator--00000000-0000-4000-8000-000000000001\","
        "\"modified\":\"2024-02-01T00:00:00Z\",\"name\":\"new\",\"pattern\":\"[ipv4-addr:value = "
        "'2.2.2.2']\",\"pattern_type\":\"stix\",\"valid_from\":\"2024-01-01T00:00:00Z\"}",
        "{\"type\":\"indicator\",\"id\":\"indicator--00000000-0000-4000-8000-000000000002\","
        "\"modified\":\"2024-01-01T00:00:00Z\",\"revoked\":true,\"pattern\":\"[ipv4-addr:value = "
        "'3.3.3.3']\",\"pattern_type\":\"stix\",\"valid_from\":\"2024-01-01T00:00:00Z\"}",
        "{\"type\":\"indicator\",\"id\":\"indicator--00000000-0000-4000-8000-000000000003\","
        "\"modified\":\"2024-01-01T00:00:00Z\",\"pattern\":\"alert tcp any any\","
        "\"pattern_type\":\"snort\",\"valid_from\":\"2024-01-01T00:00:00Z\"}",
        "{\"type\":\"malware\",\"id\":\"malware--00000000-0000-4000-8000-000000000003\"}",
    };
    accord_snapshot_builder *b = NULL;
    accord_snapshot *s = NULL;
    accord_snapshot_stats st;
    accord_indicator_info info;
    char out[128];
    accord_snapshot_builder_new(0, &b);
    for (size_t i = 0; i < 5; i++)
        CHECK(accord_snapshot_builder_add_json(b, objs[i], strlen(objs[i]), NULL) == 0);
    CHECK(accord_snapshot_builder_add_json(b, "{", 1, NULL) == ACCORD_EJSON);
    CHECK(accord_snapshot_build(b, &s, NULL) == 0);
    accord_snapshot_builder_free(b);
    accord_snapshot_stats_get(s, &st);
    CHECK(st.skipped == 3);
    matches_of(s, "1.1.1.1\n2.2.2.2\n3.3.3.3\n", 0, out, sizeof out);
    CHECK_STR(out, "1;");
    CHECK(accord_snapshot_indicator(s, 1, &info) == 0);
    CHECK_STR(info.id, "indicator--00000000-0000-4000-8000-000000000001");
    CHECK_STR(info.name, "new");
    accord_snapshot_unref(s);
}

static void test_malformed(void)
{
    static const char *const pats[] = {"[domain-name:value = 'a.example']"};
    static const char text[] =
        "{\"query\":\"a.example\"}\n{\"query\":\"a.exa\n\n# comment\n"
        "not a value\n{\"query\":\"A.Example.\"}\r\n{\"query\":\"a.example\"}";
    accord_snapshot *s = snap_of(pats, 1, 0);
    accord_matcher *m = NULL;
    accord_match mt;
    accord_match_malformed bm;
    accord_matcher_stats st;
    uint64_t lines[8];
    int n = 0;
    accord_matcher_new(s, &m);
    long nm = accord_matcher_match_lines(m, text, sizeof text - 1, 0);
    CHECK(nm == 3);
    while (accord_matcher_next(m, &mt) == 1 && n < 8)
        lines[n++] = mt.line;
    CHECK(n == 3 && lines[0] == 1 && lines[1] == 6 && lines[2] == 7);
    if (n != 3)
        fprintf(stderr, "malformed test: %ld matches\n", nm);
    CHECK(accord_matcher_next_malformed(m, &bm) == 1 && bm.line == 2);
    CHECK(accord_matcher_next_malformed(m, &bm) == 1 && bm.line == 5);
    CHECK(accord_matcher_next_malformed(m, &bm) == 0);
    accord_matcher_stats_get(m, &st);
    /* 7 lines: 3 events, 2 malformed (not events), an empty line and a comment */
    CHECK(st.lines == 7 && st.events == 3 && st.malformed == 2 && st.matches == 3);
    accord_matcher_free(m);
    accord_snapshot_unref(s);
}

/* ------------------------------------------------------------------------------------------ */
/* Windows and batches: a buffer read in one call against each of its lines read alone          */

/* Matches (into out) and malformed lines (into bad) of text[0..len) as text, line numbers
 * counted from base. */
static void results_of(accord_matcher *m, const char *text, size_t len, uint64_t base, buf *out,
                       buf *bad)
{
    accord_match mt;
    accord_match_malformed bm;
    char t[96];
    CHECK(accord_matcher_match_lines(m, text, len, 1700000000) >= 0);
    while (accord_matcher_next(m, &mt) == 1) {
        snprintf(t, sizeof t, "%llu %s %.*s %u+%zu|", (unsigned long long)(base + mt.line),
                 mt.field ? mt.field : "-", (int)(mt.value_len < 40 ? mt.value_len : 40),
                 mt.value ? mt.value : "", mt.nindicators ? mt.indicators[0] : 0u, mt.nindicators);
        buf_add(out, t, strlen(t));
    }
    while (accord_matcher_next_malformed(m, &bm) == 1) {
        snprintf(t, sizeof t, "bad %llu @%llu %s|", (unsigned long long)(base + bm.line),
                 (unsigned long long)bm.offset, bm.reason);
        buf_add(bad, t, strlen(t));
    }
}

/* A line of one of the shapes the window code must get right: ordinary events (some matching),
 * events padded to lengths around a window (MWIN_BYTES), escapes, CRLF, blank, comment and
 * malformed lines. */
static void window_line(buf *b, int i)
{
    static const char *const vals[] = {"w.example", "10.9.8.7", "clean.example", "192.0.2.1"};
    char t[256];
    unsigned shape = rndn(20);
    const char *v = vals[rndn(4)];
    if (shape == 0) { /* a long line: just under, at, or past a window, or several windows */
        static const size_t around[] = {MWIN_BYTES - 40, MWIN_BYTES - 1, MWIN_BYTES,
                                        MWIN_BYTES + 1, 2 * MWIN_BYTES + 77, 3000};
        size_t want = around[rndn(6)], n;
        n = (size_t)snprintf(t, sizeof t, "{\"query\":\"%s\",\"pad\":\"", v);
        buf_add(b, t, n);
        for (; n + 3 < want; n++)
            buf_add(b, "x", 1);
        buf_add(b, "\"}\n", 3);
        return;
    }
    switch (shape) {
    case 1:
        snprintf(t, sizeof t, "{\"query\":\"w.exa\\u006dple\",\"id.orig_h\":\"%s\"}\n", v);
        break;
    case 2:
        snprintf(t, sizeof t, "{\"id.resp_h\":\"%s\", \"n\": %d}\r\n", v, i);
        break;
    case 3:
        snprintf(t, sizeof t, "%s", rndn(2) ? "\n" : "   \n");
        break;
    case 4:
        snprintf(t, sizeof t, "# comment %d\n", i);
        break;
    case 5:
        snprintf(t, sizeof t, "{\"query\":\"%s\",\"x\":[1,2\n", v);
        break;
    case 6:
        snprintf(t, sizeof t, "%s\n", v);
        break;
    default:
        snprintf(t, sizeof t, "{\"ts\":%d.5,\"query\":\"%s\",\"answers\":[\"%s\"]}\n", i,
                 v, vals[rndn(4)]);
        break;
    }
    buf_add(b, t, strlen(t));
}

static void test_windows(void)
{
    static const char *const pats[] = {"[domain-name:value = 'w.example']",
                                       "[ipv4-addr:value = '10.9.8.7']",
                                       "[ipv4-addr:value ISSUBSET '192.0.2.0/24']"};
    accord_snapshot *s = snap_of(pats, 3, 0);
    accord_matcher *m = NULL;
    buf text, whole, alone, wbad, abad;
    long bad = 0, lines = 0;
    buf_init(&text, 1u << 26);
    buf_init(&whole, 1u << 26);
    buf_init(&alone, 1u << 26);
    buf_init(&wbad, 1u << 26);
    buf_init(&abad, 1u << 26);
    CHECK(accord_matcher_new(s, &m) == 0);
    for (int round = 0; round < 6; round++) {
        size_t nl = 200 + rndn(400);
        uint64_t no = 0;
        buf_reset(&text);
        for (size_t i = 0; i < nl; i++)
            window_line(&text, (int)i);
        if (round % 2 && text.len && text.p[text.len - 1] == '\n')
            text.len--; /* the last line without its newline */
        for (int mode = 0; mode < 3; mode++) {
            mjson_force_scalar(mode);
            buf_reset(&whole);
            buf_reset(&alone);
            buf_reset(&wbad);
            buf_reset(&abad);
            results_of(m, text.p, text.len, 0, &whole, &wbad);
            /* the same lines one call each: batches of one, no window past the line */
            no = 0;
            for (size_t a = 0; a < text.len;) {
                const char *e = memchr(text.p + a, '\n', text.len - a);
                size_t z = e ? (size_t)(e - text.p) : text.len;
                results_of(m, text.p + a, z - a, no, &alone, &abad);
                no++;
                a = z + 1;
            }
            buf_add(&whole, wbad.p, wbad.len);
            buf_add(&alone, abad.p, abad.len);
            if ((whole.len != alone.len || memcmp(whole.p, alone.p, whole.len) != 0) &&
                bad++ < 2)
            {
                size_t d = 0;
                while (d < whole.len && d < alone.len && whole.p[d] == alone.p[d])
                    d++;
                d = d > 100 ? d - 100 : 0;
                fprintf(stderr, "windows: mode %d round %d differ (%zu, %zu bytes):\n  %.*s\n  %.*s\n",
                        mode, round, whole.len, alone.len, (int)(whole.len - d < 300 ? whole.len - d : 300),
                        whole.p + d, (int)(alone.len - d < 300 ? alone.len - d : 300), alone.p + d);
            }
        }
        mjson_force_scalar(0);
        lines += (long)no;
    }
    printf("windows: %ld lines in one call and alone, %ld differ\n", lines, bad);
    CHECK(bad == 0);
    CHECK(whole.len > 1000 && wbad.len > 100); /* matches and malformed lines were seen */
    buf_free(&text);
    buf_free(&whole);
    buf_free(&alone);
    buf_free(&wbad);
    buf_free(&abad);
    accord_matcher_free(m);
    accord_snapshot_unref(s);
}

/* ------------------------------------------------------------------------------------------ */
/* Huge pages refused: the tables work the same on small pages                                  */

/* The matches and malformed lines of a fixed set of events over a snapshot whose tables are
 * big enough for mappings of their own (util/hugemem.c: from 2 MiB): 60,000 exact IPv4
 * addresses with the /24 bitmap in front of them (from 1,000 keys here) and a few networks. */
static void big_tables_results(buf *out)
{
    enum { N = 60000 };
    accord_snapshot_builder *b = NULL;
    accord_snapshot *s = NULL;
    accord_matcher *m = NULL;
    buf bad, text;
    char pat[96], id[64];
    buf_init(&bad, 1u << 24);
    buf_init(&text, 1u << 24);
    mip_set_x24_min(1000);
    CHECK(accord_snapshot_builder_new(0, &b) == 0);
    for (unsigned i = 0; i < N + 8; i++) {
        uint32_t a = (uint32_t)(mix64(i) >> 8) | 0x01000000u;
        if (i < N)
            snprintf(pat, sizeof pat, "[ipv4-addr:value = '%u.%u.%u.%u']", a >> 24, a >> 16 & 255,
                     a >> 8 & 255, a & 255);
        else
            snprintf(pat, sizeof pat, "[ipv4-addr:value ISSUBSET '%u.%u.0.0/%u']", a >> 24,
                     a >> 16 & 255, 16 + i % 8);
        snprintf(id, sizeof id, "indicator--00000000-0000-4000-8000-%012u", i);
        CHECK(accord_snapshot_builder_add(b, id, "n", pat, 0, 0, NULL) == 0);
    }
    CHECK(accord_snapshot_build(b, &s, NULL) == 0);
    accord_snapshot_builder_free(b);
    mip_set_x24_min(0);
    for (unsigned i = 0; i < 20000; i++) { /* one event in four carries a listed address */
        uint32_t a = i % 4 ? (uint32_t)mix64(i + 7777) : (uint32_t)(mix64(i % N) >> 8) | 0x01000000u;
        buf_printf(&text, "{\"id.orig_h\":\"%u.%u.%u.%u\",\"n\":%u}\n", a >> 24, a >> 16 & 255,
                   a >> 8 & 255, a & 255, i);
    }
    CHECK(accord_matcher_new(s, &m) == 0);
    results_of(m, text.p, text.len, 0, out, &bad);
    buf_add(out, bad.p, bad.len);
    accord_matcher_free(m);
    accord_snapshot_unref(s);
    buf_free(&bad);
    buf_free(&text);
}

/* In a child whose madvise calls all fail (a seccomp filter answers EINVAL), the snapshot is
 * built and matched as in this process: huge pages are advice, never a condition. */
static void test_madvise_refused(void)
{
#if defined(__linux__) && defined(__x86_64__)
    struct sock_filter filt[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_madvise, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 22 /* EINVAL */),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof filt / sizeof filt[0], filt};
    buf here, there;
    int fd[2], st = 0;
    pid_t pid;
    buf_init(&here, 1u << 26);
    buf_init(&there, 1u << 26);
    big_tables_results(&here);
    CHECK(pipe(fd) == 0);
    fflush(NULL);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(fd[0]);
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
            prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
            _exit(3);
        if (madvise(NULL, 0, MADV_HUGEPAGE) == 0) /* the filter is in force */
            _exit(4);
        big_tables_results(&there);
        for (size_t k = 0; k < there.len;) {
            ssize_t w = write(fd[1], there.p + k, there.len - k);
            if (w <= 0)
                _exit(5);
            k += (size_t)w;
        }
        _exit(0);
    }
    close(fd[1]);
    for (;;) {
        char t[65536];
        ssize_t r = read(fd[0], t, sizeof t);
        if (r <= 0)
            break;
        buf_add(&there, t, (size_t)r);
    }
    close(fd[0]);
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    printf("madvise refused: %zu bytes of results, %s\n", there.len,
           there.len == here.len && memcmp(there.p, here.p, here.len) == 0 ? "the same" : "differ");
    CHECK(here.len > 10000);
    CHECK(there.len == here.len && memcmp(there.p, here.p, here.len) == 0);
    buf_free(&here);
    buf_free(&there);
#endif
}

/* ------------------------------------------------------------------------------------------ */
/* Sightings                                                                                    */

static size_t count_of(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void test_sightings(void)
{
    static const char *pats[] = {"[ipv4-addr:value = '198.51.100.7']",
                                 "[domain-name:value LIKE '%.evil.example']"};
    static const char lines[] =
        "{\"ts\":1700000000.5,\"id.resp_h\":\"198.51.100.7\"}\n" /* 22:13:20.5 */
        "{\"ts\":1700000100,\"id.resp_h\":\"198.51.100.7\",\"query\":\"a.evil.example\"}\n"
        "{\"timestamp\":\"2023-11-14T23:00:00.000000+0000\",\"src_ip\":\"198.51.100.7\"}\n"
        "198.51.100.7\n"; /* no time: the default */
    accord_snapshot *s = snap_of(pats, 2, 1700000000);
    accord_matcher *m = NULL;
    accord_sightings *sg = NULL;
    accord_match mt;
    char id1[64], id2[64], id3[64], *json = NULL, *json2 = NULL;
    size_t len = 0, len2 = 0;
    CHECK(accord_sightings_new(s, 0, &sg) == ACCORD_EINVAL && sg == NULL);
    CHECK(accord_sightings_new(s, 3600, &sg) == 0);
    CHECK(accord_matcher_new(s, &m) == 0);
    CHECK(accord_matcher_match_lines(m, lines, sizeof lines - 1, 1700000000) == 5);
    while (accord_matcher_next(m, &mt) == 1)
        CHECK(accord_sightings_add_match(sg, &mt, 1700001000ll * 1000000) == 0);
    /* 198.51.100.7: hour 22 (2 events + the untimed one at 22:30), hour 23 (1); domain: 1 */
    CHECK(accord_sightings_count(sg) == 3);
    /* due once the first interval with counts (hour 22) has ended: at 23:00:00, not before */
    CHECK(accord_sightings_due(sg, 1700002799999999ll) == 0);
    CHECK(accord_sightings_due(sg, 1700002800ll * 1000000) == 1);
    CHECK(accord_sightings_due(sg, -1) == 0 && accord_sightings_due(NULL, INT64_MAX) == 0);
    {
        size_t n = 1;
        CHECK(accord_sightings_store_closed(NULL, NULL, NULL, NULL, 0, &n, NULL, NULL) ==
                  ACCORD_EINVAL &&
              n == 0);
    }

    CHECK(accord_node_identity("/nonexistent/accord-a", id1, sizeof id1) == 0);
    CHECK(accord_node_identity("/nonexistent/accord-a", id2, sizeof id2) == 0);
    CHECK(accord_node_identity("/nonexistent/accord-b", id3, sizeof id3) == 0);
    CHECK(strcmp(id1, id2) == 0 && strcmp(id1, id3) != 0 && strlen(id1) == 46);
    CHECK(strncmp(id1, "identity--", 10) == 0 && id1[24] == '4');
    CHECK(accord_node_identity("/x", id3, 20) == ACCORD_EINVAL);

    CHECK(accord_sightings_bundle(sg, "identity--bad", &json, &len) == ACCORD_EINVAL);
    CHECK(accord_sightings_bundle(sg, id1, &json, &len) == 0 && json && strlen(json) == len);
    CHECK(accord_sightings_bundle(sg, id1, &json2, &len2) == 0 && len2 == len);
    if (json && json2) {
        accord_error err = {0};
        CHECK(memcmp(json, json2, len) == 0); /* deterministic ids and content */
        CHECK(count_of(json, "\"type\":\"sighting\"") == 3);
        CHECK(count_of(json, "\"type\":\"identity\"") == 1);
        CHECK(count_of(json, "\"count\":3,\"first_seen\":\"2023-11-14T22:13:20.500000Z\","
                             "\"last_seen\":\"2023-11-14T22:30:00.000000Z\"") == 1);
        CHECK(count_of(json, "\"count\":1,\"first_seen\":\"2023-11-14T23:00:00.000000Z\"") == 1);
        CHECK(count_of(json, "\"sighting_of_ref\":\"indicator--00000000-0000-4000-8000-"
                             "000000000001\"") == 1);
        CHECK(count_of(json, id1) == 1 + 3 * 2); /* its id; created_by and where_sighted */
        /* every object is valid STIX 2.1 for the store's validator */
        {
            int fd = memfd_create("t", 0);
            accord_import_stats st = {0};
            CHECK(fd >= 0 && write(fd, json, len) == (ssize_t)len && lseek(fd, 0, SEEK_SET) == 0);
            CHECK(accord_validate_fd(fd, NULL, &st, &err) == 0 && st.accepted == 4);
            close(fd);
        }
    }
    free(json);
    free(json2);
    accord_sightings_free(sg);
    accord_sightings_free(NULL);
    accord_matcher_free(m);
    accord_snapshot_unref(s);
}

/* Ids that are not "indicator--<uuid>" keep their text in the pool (the record's flag bit),
 * beside records holding the UUID itself; both give back their id, name and validity. */
static void test_odd_ids(void)
{
    accord_snapshot_builder *b = NULL;
    accord_snapshot *s = NULL;
    accord_indicator_info info;
    CHECK(accord_snapshot_builder_new(1700000000, &b) == 0);
    CHECK(accord_snapshot_builder_add(b, "indicator--custom-One", "odd",
                                      "[ipv4-addr:value = '192.0.2.1']", 0, 0, NULL) == 0);
    CHECK(accord_snapshot_builder_add(b, "indicator--0A5C3F46-2F0E-4D8A-8D43-6F3E2C1B0A01", NULL,
                                      "[ipv4-addr:value = '192.0.2.2']", 1000, 4000000000,
                                      NULL) == 0);
    CHECK(accord_snapshot_builder_add(b, "indicator--0a5c3f46-2f0e-4d8a-8d43-6f3e2c1b0a02",
                                      "plain", "[ipv4-addr:value = '192.0.2.3']", 0, 0,
                                      NULL) == 0);
    CHECK(accord_snapshot_build(b, &s, NULL) == 0);
    accord_snapshot_builder_free(b);
    CHECK(accord_snapshot_count(s) == 3);
    CHECK(accord_snapshot_indicator(s, 0, &info) == 0);
    CHECK_STR(info.id, "indicator--custom-One");
    CHECK_STR(info.name, "odd");
    CHECK(info.valid_until_s == INT64_MAX);
    CHECK(accord_snapshot_indicator(s, 1, &info) == 0);
    CHECK_STR(info.id, "indicator--0A5C3F46-2F0E-4D8A-8D43-6F3E2C1B0A01"); /* as given */
    CHECK_STR(info.name, "");
    CHECK(info.valid_from_s == 1000 && info.valid_until_s == 4000000000);
    CHECK(accord_snapshot_indicator(s, 2, &info) == 0);
    CHECK_STR(info.id, "indicator--0a5c3f46-2f0e-4d8a-8d43-6f3e2c1b0a02");
    CHECK_STR(info.name, "plain");
    CHECK_STR(info.labels, "[]");
    CHECK(accord_snapshot_indicator(s, 3, &info) == ACCORD_ENOTFOUND);
    accord_snapshot_unref(s);
}

/* An id the snapshot could not give back whole (empty, or 160 bytes and more) is refused with
 * the reason, by the API and in an indicator file; 159 bytes are kept whole. */
static void test_id_lengths(void)
{
    accord_snapshot_builder *b = NULL;
    accord_snapshot *s = NULL;
    accord_indicator_info info;
    accord_error err = {0};
    accord_snapshot_stats st;
    char id[200];
    static const char file[] =
        "{\"type\":\"indicator\",\"id\":\"\",\"pattern\":\"[ipv4-addr:value = '192.0.2.9']\"}\n";
    memset(id, 'a', sizeof id);
    memcpy(id, "indicator--", 11);
    id[159] = '\0';
    CHECK(accord_snapshot_builder_new(1700000000, &b) == 0);
    CHECK(accord_snapshot_builder_add(b, "", "n", "[ipv4-addr:value = '192.0.2.1']", 0, 0, &err) ==
          ACCORD_EINVAL);
    CHECK(strstr(err.msg, "empty") != NULL);
    CHECK(accord_snapshot_builder_add(b, id, "n", "[ipv4-addr:value = '192.0.2.2']", 0, 0, NULL) ==
          0);
    id[159] = 'b';
    id[160] = '\0';
    CHECK(accord_snapshot_builder_add(b, id, "n", "[ipv4-addr:value = '192.0.2.3']", 0, 0, &err) ==
          ACCORD_EINVAL);
    CHECK(strstr(err.msg, "longer than 159 bytes") != NULL);
    CHECK(accord_snapshot_builder_add_json(b, file, sizeof file - 1, NULL) == 0);
    CHECK(accord_snapshot_build(b, &s, NULL) == 0);
    accord_snapshot_builder_free(b);
    CHECK(accord_snapshot_count(s) == 1);
    accord_snapshot_stats_get(s, &st);
    CHECK(st.skipped == 3);
    CHECK(accord_snapshot_indicator(s, 0, &info) == 0);
    CHECK(strlen(info.id) == 159 && info.id[158] == 'a');
    accord_snapshot_unref(s);
}

int main(void)
{
    test_odd_ids();
    test_id_lengths();
    test_parse4_random();
    test_url_items();
    test_digest_items();
    test_parse6_random();
    test_cidr_edges();
    test_ip4_random();
    test_ip4_x24();
    test_ip4_p24();
    test_ip6_random();
    test_domain_edges();
    test_domain_is_norm();
    test_domain_random();
    test_hash_random();
    test_extractor(1);
    test_extractor(0);
    test_extractor(2);
    test_extractor_modes();
    test_extractor_lengths();
    test_differential();
    test_traffic_keys();
    test_nets_and_likes();
    test_carry();
    test_complex_filter();
    test_lenient_and_validity();
    test_json_indicators();
    test_malformed();
    test_windows();
    test_madvise_refused();
    test_sightings();
    return t_done();
}
