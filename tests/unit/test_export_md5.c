/*
 * test_export_md5.c - the MD5 of many values at once (export_md5.c, a MISP feed's hashes.csv)
 * against RFC 1321's test suite and nettle's one-at-a-time digests: every length around the
 * block and padding boundaries, values too long for the lanes, groups of every size, with the
 * AVX2 code and the portable vector code.
 */
#include "export.h"
#include "t.h"

#include <nettle/md5.h>

static void md5_one(const char *v, size_t len, unsigned char out[16])
{
    struct md5_ctx c;
    md5_init(&c);
    md5_update(&c, len, (const uint8_t *)v);
    md5_digest(&c, 16, out);
}

static void hex16(const unsigned char *b, char out[33])
{
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* RFC 1321 A.5, through the lanes (all seven in one group, with an eighth lane empty). */
static void test_rfc1321(void)
{
    static const char *const in[] = {
        "",
        "a",
        "abc",
        "message digest",
        "abcdefghijklmnopqrstuvwxyz",
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        "12345678901234567890123456789012345678901234567890123456789012345678901234567890"};
    static const char *const want[] = {
        "d41d8cd98f00b204e9800998ecf8427e", "0cc175b9c0f1b6a831c399e269772661",
        "900150983cd24fb0d6963f7d28e17f72", "f96b697d7cb7938d525a2f31aaf161d0",
        "c3fcd3d76192e4007dfb496cca67e13b", "d174ab98d277d9f5a5611c2c9f419d9f",
        "57edf4a22be3c955ac49da2e2107b67a"};
    const char *v[7];
    size_t len[7];
    unsigned char out[7][16];
    char h[33];
    for (int i = 0; i < 7; i++)
        v[i] = in[i], len[i] = strlen(in[i]);
    for (int scalar = 0; scalar < 2; scalar++) {
        export_md5_scalar = scalar;
        memset(out, 0, sizeof(out));
        export_md5_many(v, len, 7, out);
        for (int i = 0; i < 7; i++) {
            hex16(out[i], h);
            CHECK_STR(h, want[i]);
        }
    }
    export_md5_scalar = 0;
}

/*
 * Random values of every length from 0 to 300 (the lanes take up to 247 bytes; 55/56 and 119/120
 * change the number of padded blocks), in groups of 1 to 70 values, so a group mixes lengths and
 * the last one is partly empty: every digest equals nettle's.
 */
static void test_random(void)
{
    enum { N = 301 * 3 };
    static char data[N][300];
    static const char *v[N];
    static size_t len[N];
    static unsigned char got[N][16];
    uint64_t r = 0x853c49e6748fea9bull;
    for (int i = 0; i < N; i++) {
        len[i] = (size_t)(i % 301);
        for (size_t j = 0; j < len[i]; j++) {
            r ^= r << 13, r ^= r >> 7, r ^= r << 17;
            data[i][j] = (char)(r >> 24);
        }
        v[i] = data[i];
    }
    for (int scalar = 0; scalar < 2; scalar++) {
        export_md5_scalar = scalar;
        int bad = 0;
        for (size_t start = 0, n = 1; start < N; start += n, n = n % 70 + 1) {
            size_t m = start + n > N ? N - start : n;
            memset(got + start, 0, m * 16);
            export_md5_many(v + start, len + start, m, got + start);
        }
        for (int i = 0; i < N; i++) {
            unsigned char want[16];
            md5_one(v[i], len[i], want);
            if (memcmp(want, got[i], 16) != 0 && bad++ < 5)
                fprintf(stderr, "md5 of %zu bytes differs (scalar %d)\n", len[i], scalar);
        }
        CHECK(bad == 0);
    }
    export_md5_scalar = 0;
}

int main(void)
{
    test_rfc1321();
    test_random();
    return t_done();
}
