/*
 * fuzz/match_items.c - libFuzzer target for the making of items from telemetry values
 * (src/match_event.c, src/match_ip.c).
 *
 * Each line of an input is checked six ways.  As a dotted quad: mip_parse4 on the CPU's path
 * (SSSE3 where present) and on the portable one must agree with inet_pton, the address
 * included; as an IPv6 address, mip_parse6 too.  As an HTTP host and request target (the line
 * cut at its first '/', the target from there): the URL item mitems_from_fields makes must be
 * murl_norm of "http://" host target, byte for byte, and exist exactly when murl_norm accepts
 * that text.  A line of 32, 40, 64 or 128 bytes as a file digest: the CPU's path (SSSE3) and
 * the portable one must make the same item.  As a domain name: mdomain_is_norm must agree with
 * mdomain_norm, and mdomain_suffixes with a byte loop.  As a plain-text value: mitem_from_text
 * must not fail on it.  As a referrer (role URL_HOST): the URL item must be murl_norm of the
 * line, present exactly when murl_norm accepts it, and the host item after it a name or address
 * lying in that URL's authority.  As the value after an HTTP/2 header name: after ":authority"
 * the item a HOST field makes of it, after any other name none.  As a host's own name (FQDN): a
 * domain name only with a dot, else the item a NAME field makes of it.
 *
 * Without ACCORD_FUZZ this file is linked with fuzz/replay.c, which runs it on every file of
 * fuzz/corpus/match_items/.
 */
#include "match.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

/* A line of a digest's length as that digest: the item made on the CPU's path and on the
 * portable one must be the same (present or not, text, bytes). */
static void check_digest(const char *s, size_t len, mscratch *sc)
{
    mfield f = {s, (uint32_t)len, 0, 0, 1};
    mitem it[2];
    size_t n[2];
    f.role = len == 32 ? MR_MD5 : len == 40 ? MR_SHA1 : len == 64 ? MR_SHA256 : MR_SHA512;
    if (len != 32 && len != 40 && len != 64 && len != 128)
        return;
    for (int m = 0; m < 2; m++) {
        mitems_force_portable(m);
        n[m] = mitems_from_fields(&f, 1, &it[m], 1, sc);
    }
    mitems_force_portable(0);
    if (n[0] != n[1] || (n[0] && (it[0].len != len || it[1].len != len ||
                                  memcmp(it[0].text, it[1].text, len + 1) != 0 ||
                                  memcmp(it[0].k.digest, it[1].k.digest, len / 2) != 0)))
        __builtin_trap();
}

/* A line as a domain name: mdomain_is_norm must say whether mdomain_norm leaves it as it is,
 * and mdomain_suffixes must give the offsets after each dot but a final one. */
static void check_name(const char *s, size_t len)
{
    char o[MDOMAIN_MAX + 2];
    uint32_t offs[MDOMAIN_LABELS];
    size_t n = mdomain_suffixes(s, len, offs), w = 0;
    int norm = mdomain_norm(s, len, o, sizeof o) == (long)len && memcmp(o, s, len) == 0;
    if (mdomain_is_norm(s, len) != norm)
        __builtin_trap();
    for (size_t i = 0; i + 1 < len && w < MDOMAIN_LABELS; i++)
        if (s[i] == '.' && (w >= n || offs[w++] != i + 1))
            __builtin_trap();
    if (w != n)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* mip_parse6 must agree with inet_pton(AF_INET6), the address included. */
static void check_six(const char *s, size_t len)
{
    char z[64];
    uint8_t a[16], p[16];
    int ra = mip_parse6(s, len, a), rp = -1;
    if (len < sizeof z && !memchr(s, 0, len)) {
        memcpy(z, s, len);
        z[len] = '\0';
        rp = inet_pton(AF_INET6, z, p) == 1 ? 0 : -1;
    }
    if (ra != rp || (ra == 0 && memcmp(a, p, 16) != 0))
        __builtin_trap();
}

static void check_quad(const char *s, size_t len)
{
    char z[16];
    uint8_t p[4];
    uint32_t a = 1, b = 2;
    int ra, rb, rp = -1;
    mip_parse4_force(0);
    ra = mip_parse4(s, len, &a);
    mip_parse4_force(2);
    rb = mip_parse4(s, len, &b);
    mip_parse4_force(0);
    if (len < sizeof z && !memchr(s, 0, len)) {
        memcpy(z, s, len);
        z[len] = '\0';
        rp = inet_pton(AF_INET, z, p) == 1 ? 0 : -1;
    }
    if (ra != rb || ra != rp ||
        (ra == 0 && (a != b || a != ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
                                     (uint32_t)p[2] << 8 | p[3]))))
        __builtin_trap();
}

static void check_url(const char *s, size_t len, mscratch *sc)
{
    const char *slash = memchr(s, '/', len);
    size_t hl = slash ? (size_t)(slash - s) : len, ul = len - hl;
    char *url, *want;
    mfield f[2];
    mitem it[2];
    size_t n;
    long wl;
    if (!slash || hl == 0)
        return;
    f[0] = (mfield){s, (uint32_t)hl, MR_HOST, 0, 1};
    f[1] = (mfield){slash, (uint32_t)ul, MR_URI, 1, 1};
    n = mitems_from_fields(f, 2, it, 2, sc);
    url = malloc(len + 8);
    want = malloc(len + 16);
    if (!url || !want)
        __builtin_trap();
    memcpy(url, "http://", 7);
    memcpy(url + 7, s, len);
    wl = murl_norm(url, len + 7, want, len + 16);
    if (n == 0 || it[n - 1].kind != MK_URL) {
        if (wl >= 0)
            __builtin_trap();
    } else if (wl < 0 || it[n - 1].len != (uint32_t)wl ||
               memcmp(it[n - 1].text, want, (size_t)wl) != 0 || it[n - 1].text[wl] != '\0') {
        __builtin_trap();
    }
    free(url);
    free(want);
}

static int same_item(const mitem *a, const mitem *b)
{
    return a->kind == b->kind && a->len == b->len && memcmp(a->text, b->text, a->len) == 0;
}

static void check_url_host(const char *s, size_t len, mscratch *sc)
{
    mfield f = {s, (uint32_t)len, MR_URL_HOST, 0, 1};
    mitem it[3];
    char *want = malloc(len + 2);
    long wl;
    size_t n;
    if (!want)
        __builtin_trap();
    wl = murl_norm(s, len, want, len + 2);
    n = mitems_from_fields(&f, 1, it, 3, sc);
    if (n > 2 || (wl >= 0) != (n >= 1))
        __builtin_trap();
    if (n >= 1 && (it[0].kind != MK_URL || it[0].len != (uint32_t)wl ||
                   memcmp(it[0].text, want, (size_t)wl) != 0))
        __builtin_trap();
    if (n == 2) { /* the host: in the authority, between "://" and the next '/' */
        const char *a = memmem(it[0].text, it[0].len, "://", 3), *e;
        if (!a || (it[1].kind != MK_DOMAIN && it[1].kind != MK_IPV4 && it[1].kind != MK_IPV6))
            __builtin_trap();
        a += 3;
        e = memchr(a, '/', (size_t)(it[0].text + it[0].len - a));
        if (!e || !memmem(a, (size_t)(e - a), it[1].text, it[1].len))
            __builtin_trap();
    }
    free(want);
}

static void check_headers(const char *s, size_t len, mscratch *sc)
{
    mfield f[2] = {{":authority", 10, MR_HDR_NAME, 0, 1}, {s, (uint32_t)len, MR_HDR_HOST, 0, 1}};
    mfield h = {s, (uint32_t)len, MR_HOST, 0, 1};
    mitem it[3];
    size_t n = mitems_from_fields(f, 2, it, 2, sc), nh = mitems_from_fields(&h, 1, &it[2], 1, sc);
    if (n != nh || (n && !same_item(&it[0], &it[2])))
        __builtin_trap();
    f[0] = (mfield){":path", 5, MR_HDR_NAME, 0, 1};
    if (mitems_from_fields(f, 2, it, 2, sc) != 0 || mitems_from_fields(&f[1], 1, it, 2, sc) != 0)
        __builtin_trap();
}

static void check_fqdn(const char *s, size_t len, mscratch *sc)
{
    mfield q = {s, (uint32_t)len, MR_FQDN, 0, 1}, d = {s, (uint32_t)len, MR_NAME, 0, 1};
    mitem a, b;
    size_t na = mitems_from_fields(&q, 1, &a, 1, sc), nb = mitems_from_fields(&d, 1, &b, 1, sc);
    int bare = nb && b.kind == MK_DOMAIN && !memchr(b.text, '.', b.len);
    if (na != (nb && !bare) || (na && !same_item(&a, &b)))
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static mscratch sc;
    static int init;
    const char *p = (const char *)data, *end = p + size;
    if (!init) {
        ajson_arena_init(&sc, 1u << 26);
        init = 1;
    }
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = (size_t)((nl ? nl : end) - p);
        mitem it;
        ajson_arena_reset(&sc);
        check_quad(p, len);
        check_six(p, len);
        check_url(p, len, &sc);
        check_digest(p, len, &sc);
        check_name(p, len);
        check_url_host(p, len, &sc);
        check_headers(p, len, &sc);
        check_fqdn(p, len, &sc);
        (void)mitem_from_text(p, len, &it, &sc);
        p += len + 1;
    }
    return 0;
}
