/*
 * test_jcs.c - RFC 8785 canonical JSON against its published vectors.
 *
 * Four sets of cases:
 *   1. The cyberphone test suite (../shared/data/jcs-cyberphone): each input/ file must
 *      canonicalise to its output/ file byte for byte (checked against outhex/ too).
 *   2. RFC 8785 Appendix B: IEEE-754 bit patterns and their canonical numbers.
 *   3. The ECMAScript number reference file of the same suite, regenerated here by the README's
 *      algorithm (168 edge values, 2,000 subnormal-boundary values, then doubles drawn from a
 *      SHA-256 chain): the first 1,000 / 10,000 / 100,000 lines "hex,expected\n" must hash to the
 *      published SHA-256 sums, so every line is right (ACCORD_JCS_ES6_LINES=10000000 goes on to
 *      the 10^6 and 10^7 sums).
 *   4. Rejections and edge cases: duplicate keys, lone surrogates, overflowing numbers, integer
 *      literals beyond 2^53, key order by UTF-16 code units.
 *   5. jcs_is_canonical: canonical text is recognised, any difference from the writer's output
 *      is not, and a watched member's positions are the writer's.
 *   6. The same, differentially on random documents (strings of every length around the 4-, 8-
 *      and 16-byte blocks the comparison works in, escapes, non-ASCII keys, numbers, nesting,
 *      whitespace), their minified forms, their canonical forms inside a page parsed whole, and
 *      one-byte mutations of their canonical forms,
 *      against their own trees and against the original's: jcs_is_canonical says yes only of
 *      jcs_write's output, and says it of every output it can tell cheaply;
 *      jcs_is_canonical_parsed answers as it does wherever the tree is the text's.
 */
#include "accord.h"
#include "jcs.h"
#include "t.h"

#include <math.h>
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define T_RNG_SEED 0x243f6a8885a308d3ULL
#include "t_rng.h"

/* Canonicalises text; returns the malloc'd output or NULL (err filled). */
static char *jcs(const char *text, accord_error *err)
{
    char *out = NULL;
    size_t len = 0;
    if (accord_jcs(text, strlen(text), &out, &len, err) != 0)
        return NULL;
    return out;
}

static void expect_jcs(const char *in, const char *want)
{
    accord_error err = {0};
    char *got = jcs(in, &err);
    if (!got)
        fprintf(stderr, "jcs(%s): %s\n", in, err.msg);
    CHECK_STR(got, want);
    free(got);
}

static void expect_reject(const char *in, const char *msg_part)
{
    accord_error err = {0};
    char *got = jcs(in, &err);
    CHECK(got == NULL);
    CHECK(err.code == ACCORD_EJSON);
    if (!strstr(err.msg, msg_part)) {
        fprintf(stderr, "jcs(%s): message \"%s\" lacks \"%s\"\n", in, err.msg, msg_part);
        t_failed++;
    } else {
        t_passed++;
    }
    free(got);
}

/* jcs_parsed_canonical of the tree of text[0..len) (which may end in a newline, outside the
 * value), or -1 when it does not parse. */
static int parsed_canonical(const char *text, size_t len)
{
    ajson_arena a;
    ajson_error perr;
    if (!text)
        return -1;
    ajson_arena_init(&a, 0);
    const ajson_value *v = ajson_parse(&a, text, len, &perr);
    int r = v ? jcs_parsed_canonical(v) : -1;
    ajson_arena_free(&a);
    return r;
}

static void test_cyberphone(void)
{
    const char *base = t_shared_data();
    if (!base) {
        fprintf(stderr, "skip: ../shared/data not found\n");
        return;
    }
    static const char *names[] = {"arrays", "french", "structures", "unicode", "values", "weird"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char path[512];
        size_t in_len = 0, want_len = 0, hex_len = 0, got_len = 0;
        snprintf(path, sizeof(path), "%s/jcs-cyberphone/input/%s.json", base, names[i]);
        char *in = t_slurp(path, &in_len);
        snprintf(path, sizeof(path), "%s/jcs-cyberphone/output/%s.json", base, names[i]);
        char *want = t_slurp(path, &want_len);
        snprintf(path, sizeof(path), "%s/jcs-cyberphone/outhex/%s.txt", base, names[i]);
        char *hex = t_slurp(path, &hex_len);
        CHECK(in && want && hex);
        char *got = NULL;
        accord_error err = {0};
        int rc = in ? accord_jcs(in, in_len, &got, &got_len, &err) : -1;
        if (rc)
            fprintf(stderr, "%s: %s\n", names[i], err.msg);
        CHECK(rc == 0);
        int same = got && want && got_len == want_len && memcmp(got, want, got_len) == 0;
        if (!same)
            fprintf(stderr, "%s: got %s\n   want %s\n", names[i], got ? got : "-",
                    want ? want : "-");
        CHECK(same);
        /* the hex form says the same bytes */
        size_t k = 0, j = 0;
        int hex_ok = hex != NULL;
        while (hex_ok && j < hex_len) {
            unsigned v;
            if (hex[j] == ' ' || hex[j] == '\n' || hex[j] == '\r') {
                j++;
                continue;
            }
            if (sscanf(hex + j, "%2x", &v) != 1 || k >= got_len || (unsigned char)got[k] != v)
                hex_ok = 0;
            k++;
            j += 2;
        }
        CHECK(hex_ok && k == got_len);
        /* the parser's flags: every output is canonical (escapes, numbers of every kind), an
         * input exactly when it is its output */
        CHECK(parsed_canonical(want, want_len) == 1);
        CHECK(parsed_canonical(in, in_len) ==
              (in && want && in_len == want_len && memcmp(in, want, in_len) == 0));
        free(in);
        free(want);
        free(hex);
        free(got);
    }
}

static double from_bits(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof(d));
    return d;
}

static void test_appendix_b(void)
{
    static const struct {
        uint64_t bits;
        const char *want;
    } rows[] = {
        {0x0000000000000000ULL, "0"},
        {0x8000000000000000ULL, "0"},
        {0x0000000000000001ULL, "5e-324"},
        {0x8000000000000001ULL, "-5e-324"},
        {0x7fefffffffffffffULL, "1.7976931348623157e+308"},
        {0xffefffffffffffffULL, "-1.7976931348623157e+308"},
        {0x4340000000000000ULL, "9007199254740992"},
        {0xc340000000000000ULL, "-9007199254740992"},
        {0x4430000000000000ULL, "295147905179352830000"},
        {0x44b52d02c7e14af5ULL, "9.999999999999997e+22"},
        {0x44b52d02c7e14af6ULL, "1e+23"},
        {0x44b52d02c7e14af7ULL, "1.0000000000000001e+23"},
        {0x444b1ae4d6e2ef4eULL, "999999999999999700000"},
        {0x444b1ae4d6e2ef4fULL, "999999999999999900000"},
        {0x444b1ae4d6e2ef50ULL, "1e+21"},
        {0x3eb0c6f7a0b5ed8cULL, "9.999999999999997e-7"},
        {0x3eb0c6f7a0b5ed8dULL, "0.000001"},
        {0x41b3de4355555553ULL, "333333333.3333332"},
        {0x41b3de4355555554ULL, "333333333.33333325"},
        {0x41b3de4355555555ULL, "333333333.3333333"},
        {0x41b3de4355555556ULL, "333333333.3333334"},
        {0x41b3de4355555557ULL, "333333333.33333343"},
        {0xbecbf647612f3696ULL, "-0.0000033333333333333333"},
        {0x43143ff3c1cb0959ULL, "1424953923781206.2"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char s[40];
        int n = accord_jcs_number(from_bits(rows[i].bits), s, sizeof(s));
        CHECK(n > 0);
        CHECK_STR(s, rows[i].want);
    }
    char s[40];
    CHECK(accord_jcs_number(from_bits(0x7fffffffffffffffULL), s, sizeof(s)) == ACCORD_EINVAL);
    CHECK(accord_jcs_number(from_bits(0x7ff0000000000000ULL), s, sizeof(s)) == ACCORD_EINVAL);
    CHECK(accord_jcs_number(-INFINITY, s, sizeof(s)) == ACCORD_EINVAL);
    /* through the parser: the literal's nearest double */
    expect_jcs("[1.7976931348623157e308,5e-324,-0,0.0,1E0,100e-2,9007199254740992]",
               "[1.7976931348623157e+308,5e-324,0,0,1,1,9007199254740992]");
    expect_jcs("[1e21,1e15,1.2345678901234568e15,1e-7,1.5e-7,0.000001]",
               "[1e+21,1000000000000000,1234567890123456.8,1e-7,1.5e-7,0.000001]");
}

/* The ECMAScript number file generator of the cyberphone README, in C. */
static const uint64_t static_u64s[] = {
    0x0000000000000000ULL, 0x8000000000000000ULL, 0x0000000000000001ULL, 0x8000000000000001ULL,
    0xc46696695dbd1cc3ULL, 0xc43211ede4974a35ULL, 0xc3fce97ca0f21056ULL, 0xc3c7213080c1a6acULL,
    0xc39280f39a348556ULL, 0xc35d9b1f5d20d557ULL, 0xc327af4c4a80aaacULL, 0xc2f2f2a36ecd5556ULL,
    0xc2be51057e155558ULL, 0xc28840d131aaaaacULL, 0xc253670dc1555557ULL, 0xc21f0b4935555557ULL,
    0xc1e8d5d42aaaaaacULL, 0xc1b3de4355555556ULL, 0xc17fca0555555556ULL, 0xc1496e6aaaaaaaabULL,
    0xc114585555555555ULL, 0xc0e046aaaaaaaaabULL, 0xc0aa0aaaaaaaaaaaULL, 0xc074d55555555555ULL,
    0xc040aaaaaaaaaaabULL, 0xc00aaaaaaaaaaaabULL, 0xbfd5555555555555ULL, 0xbfa1111111111111ULL,
    0xbf6b4e81b4e81b4fULL, 0xbf35d867c3ece2a5ULL, 0xbf0179ec9cbd821eULL, 0xbecbf647612f3696ULL,
    0xbe965e9f80f29212ULL, 0xbe61e54c672874dbULL, 0xbe2ca213d840baf8ULL, 0xbdf6e80fe033c8c6ULL,
    0xbdc2533fe68fd3d2ULL, 0xbd8d51ffd74c861cULL, 0xbd5774ccac3d3817ULL, 0xbd22c3d6f030f9acULL,
    0xbcee0624b3818f79ULL, 0xbcb804ea293472c7ULL, 0xbc833721ba905bd3ULL, 0xbc4ebe9c5db3c61eULL,
    0xbc18987d17c304e5ULL, 0xbbe3ad30dfcf371dULL, 0xbbaf7b816618582fULL, 0xbb792f9ab81379bfULL,
    0xbb442615600f9499ULL, 0xbb101e77800c76e1ULL, 0xbad9ca58cce0be35ULL, 0xbaa4a1e0a3e6fe90ULL,
    0xba708180831f320dULL, 0xba3a68cd9e985016ULL, 0x446696695dbd1cc3ULL, 0x443211ede4974a35ULL,
    0x43fce97ca0f21056ULL, 0x43c7213080c1a6acULL, 0x439280f39a348556ULL, 0x435d9b1f5d20d557ULL,
    0x4327af4c4a80aaacULL, 0x42f2f2a36ecd5556ULL, 0x42be51057e155558ULL, 0x428840d131aaaaacULL,
    0x4253670dc1555557ULL, 0x421f0b4935555557ULL, 0x41e8d5d42aaaaaacULL, 0x41b3de4355555556ULL,
    0x417fca0555555556ULL, 0x41496e6aaaaaaaabULL, 0x4114585555555555ULL, 0x40e046aaaaaaaaabULL,
    0x40aa0aaaaaaaaaaaULL, 0x4074d55555555555ULL, 0x4040aaaaaaaaaaabULL, 0x400aaaaaaaaaaaabULL,
    0x3fd5555555555555ULL, 0x3fa1111111111111ULL, 0x3f6b4e81b4e81b4fULL, 0x3f35d867c3ece2a5ULL,
    0x3f0179ec9cbd821eULL, 0x3ecbf647612f3696ULL, 0x3e965e9f80f29212ULL, 0x3e61e54c672874dbULL,
    0x3e2ca213d840baf8ULL, 0x3df6e80fe033c8c6ULL, 0x3dc2533fe68fd3d2ULL, 0x3d8d51ffd74c861cULL,
    0x3d5774ccac3d3817ULL, 0x3d22c3d6f030f9acULL, 0x3cee0624b3818f79ULL, 0x3cb804ea293472c7ULL,
    0x3c833721ba905bd3ULL, 0x3c4ebe9c5db3c61eULL, 0x3c18987d17c304e5ULL, 0x3be3ad30dfcf371dULL,
    0x3baf7b816618582fULL, 0x3b792f9ab81379bfULL, 0x3b442615600f9499ULL, 0x3b101e77800c76e1ULL,
    0x3ad9ca58cce0be35ULL, 0x3aa4a1e0a3e6fe90ULL, 0x3a708180831f320dULL, 0x3a3a68cd9e985016ULL,
    0x4024000000000000ULL, 0x4014000000000000ULL, 0x3fe0000000000000ULL, 0x3fa999999999999aULL,
    0x3f747ae147ae147bULL, 0x3f40624dd2f1a9fcULL, 0x3f0a36e2eb1c432dULL, 0x3ed4f8b588e368f1ULL,
    0x3ea0c6f7a0b5ed8dULL, 0x3e6ad7f29abcaf48ULL, 0x3e35798ee2308c3aULL, 0x3ed539223589fa95ULL,
    0x3ed4ff26cd5a7781ULL, 0x3ed4f95a762283ffULL, 0x3ed4f8c60703520cULL, 0x3ed4f8b72f19cd0dULL,
    0x3ed4f8b5b31c0c8dULL, 0x3ed4f8b58d1c461aULL, 0x3ed4f8b5894f7f0eULL, 0x3ed4f8b588ee37f3ULL,
    0x3ed4f8b588e47da4ULL, 0x3ed4f8b588e3849cULL, 0x3ed4f8b588e36bb5ULL, 0x3ed4f8b588e36937ULL,
    0x3ed4f8b588e368f8ULL, 0x3ed4f8b588e368f1ULL, 0x3ff0000000000000ULL, 0xbff0000000000000ULL,
    0xbfeffffffffffffaULL, 0xbfeffffffffffffbULL, 0x3feffffffffffffaULL, 0x3feffffffffffffbULL,
    0x3feffffffffffffcULL, 0x3feffffffffffffeULL, 0xbfefffffffffffffULL, 0xbfefffffffffffffULL,
    0x3fefffffffffffffULL, 0x3fefffffffffffffULL, 0x3fd3333333333332ULL, 0x3fd3333333333333ULL,
    0x3fd3333333333334ULL, 0x0010000000000000ULL, 0x000ffffffffffffdULL, 0x000fffffffffffffULL,
    0x7fefffffffffffffULL, 0xffefffffffffffffULL, 0x4340000000000000ULL, 0xc340000000000000ULL,
    0x4430000000000000ULL, 0x44b52d02c7e14af5ULL, 0x44b52d02c7e14af6ULL, 0x44b52d02c7e14af7ULL,
    0x444b1ae4d6e2ef4eULL, 0x444b1ae4d6e2ef4fULL, 0x444b1ae4d6e2ef50ULL, 0x3eb0c6f7a0b5ed8cULL,
    0x3eb0c6f7a0b5ed8dULL, 0x41b3de4355555553ULL, 0x41b3de4355555554ULL, 0x41b3de4355555555ULL,
    0x41b3de4355555556ULL, 0x41b3de4355555557ULL, 0xbecbf647612f3696ULL, 0x43143ff3c1cb0959ULL,
};

typedef struct numgen {
    uint64_t idx;
    unsigned char block[32];
    size_t avail; /* doubles left in block, taken from the front */
} numgen;

static double numgen_next(numgen *g)
{
    size_t nstatic = sizeof(static_u64s) / sizeof(static_u64s[0]);
    double f = 0.0;
    if (g->idx < nstatic) {
        f = from_bits(static_u64s[g->idx]);
    } else if (g->idx < nstatic + 2000) {
        f = from_bits(0x0010000000000000ULL + (g->idx - nstatic));
    } else {
        while (f == 0.0 || !isfinite(f)) {
            if (g->avail == 0) {
                crypto_hash_sha256(g->block, g->block, sizeof(g->block));
                g->avail = 4;
            }
            uint64_t u = 0;
            const unsigned char *b = g->block + (4 - g->avail) * 8;
            for (int i = 7; i >= 0; i--)
                u = (u << 8) | b[i]; /* Float64Array reads little-endian */
            f = from_bits(u);
            g->avail--;
        }
    }
    g->idx++;
    return f;
}

static void test_es6_numbers(void)
{
    static const struct {
        unsigned long lines;
        const char *sha256;
    } sums[] = {
        {1000, "be18b62b6f69cdab33a7e0dae0d9cfa869fda80ddc712221570f9f40a5878687"},
        {10000, "b9f7a8e75ef22a835685a52ccba7f7d6bdc99e34b010992cbc5864cd12be6892"},
        {100000, "22776e6d4b49fa294a0d0f349268e5c28808fe7e0cb2bcbe28f63894e494d4c7"},
        {1000000, "49415fee2c56c77864931bd3624faad425c3c577d6d74e89a83bc725506dad16"},
        {10000000, "b9f8a44a91d46813b21b9602e72f112613c91408db0b8341fb94603d9db135e0"},
        {100000000, "0f7dda6b0837dde083c5d6b896f7d62340c8a2415b0c7121d83145e08a755272"},
    };
    /* ACCORD_JCS_ES6_LINES=1000000 (or 10^7, 10^8) checks further down the file; default 10^5 */
    unsigned long total = 100000;
    const char *env = getenv("ACCORD_JCS_ES6_LINES");
    if (env && *env) {
        char *end;
        unsigned long v = strtoul(env, &end, 10);
        if (!*end && (v == 1000000 || v == 10000000 || v == 100000000))
            total = v;
    }
    numgen g;
    memset(&g, 0, sizeof(g));
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    size_t next = 0;
    unsigned long bytes = 0;
    for (unsigned long line = 1; line <= total; line++) {
        double f = numgen_next(&g);
        uint64_t u;
        memcpy(&u, &f, sizeof(u));
        char num[40], row[64];
        int n = accord_jcs_number(f, num, sizeof(num));
        if (n < 0) {
            CHECK(n >= 0);
            return;
        }
        int w = snprintf(row, sizeof(row), "%llx,%s\n", (unsigned long long)u, num);
        crypto_hash_sha256_update(&st, (const unsigned char *)row, (unsigned long long)w);
        bytes += (unsigned long)w;
        if (next < sizeof(sums) / sizeof(sums[0]) && line == sums[next].lines) {
            crypto_hash_sha256_state copy = st;
            unsigned char h[32];
            char hex[65];
            crypto_hash_sha256_final(&copy, h);
            for (int i = 0; i < 32; i++)
                snprintf(hex + 2 * i, 3, "%02x", h[i]);
            if (strcmp(hex, sums[next].sha256) != 0)
                fprintf(stderr, "ES6 numbers: first %lu lines (%lu bytes) hash %s\n", line, bytes,
                        hex);
            CHECK_STR(hex, sums[next].sha256);
            next++;
        }
    }
    if (total == 100000)
        CHECK(bytes == 4031728);
    CHECK(next >= 3);
}

static void test_rejections(void)
{
    expect_reject("{\"a\":1,\"a\":2}", "duplicate");
    expect_reject("[\"\\ud800\"]", "byte 2: invalid");
    expect_reject("[\"\\udc00x\"]", "byte");
    expect_reject("[1e400]", "byte 1: number 1e400 is out of the range");
    expect_reject("{\"x\":[0,-1e999]}", "byte 8: number -1e999");
    expect_reject("[9007199254740993]", "beyond 2^53");
    expect_reject("[-9007199254740993]", "beyond 2^53");
    expect_reject("[123456789012345678901234567890]", "beyond 2^53");
    expect_reject("{\"a\" 1}", "byte 5");
    expect_reject("", "byte 0");
    expect_reject("[1,]", "byte");
    expect_reject("\"\xff\"", "UTF-8");
    /* the boundary and double literals are fine */
    expect_jcs("[9007199254740992,-9007199254740992,9007199254740992.0,9007199254740993.0]",
               "[9007199254740992,-9007199254740992,9007199254740992,9007199254740992]");
    /* values beyond 2^53 below 1e21 would print as integer literals beyond 2^53 */
    expect_reject("[9007199254740994.0]", "byte 1: number 9007199254740994.0 is beyond 2^53");
    expect_reject("[1e20]", "below 1e21");
    expect_reject("[-1.5e17]", "below 1e21");
    expect_reject("[9001478227343789583593078e-7]", "below 1e21"); /* found by fuzz/jcs.c */
    expect_jcs("[1e21,-1E30,1.7976931348623157e308]", "[1e+21,-1e+30,1.7976931348623157e+308]");
    expect_jcs("[1e-400]", "[0]");
    CHECK(jcs_integer_too_big("9007199254740992", 16) == 0);
    CHECK(jcs_integer_too_big("9007199254740993", 16) == 1);
    CHECK(jcs_integer_too_big("10000000000000000", 17) == 1);
    CHECK(jcs_integer_too_big("1e16", 4) == 0);
}

static void test_order_and_strings(void)
{
    /* U+FB33 (UTF-8 EF AC B3) sorts after U+1F602 (F0 9F 98 82) by UTF-16, before by UTF-8 */
    expect_jcs(
        "{\"\xef\xac\xb3\":1,\"\xf0\x9f\x98\x82\":2,\"a\":3,\"\":4,\"ab\":5,\"\\u0080\":6}",
        "{\"\":4,\"a\":3,\"ab\":5,\"\xc2\x80\":6,\"\xf0\x9f\x98\x82\":2,\"\xef\xac\xb3\":1}");
    expect_jcs("\"\\u001f\\u007f\\u2028\\b\\t\\n\\f\\r\\/\\\"\\\\\"",
               "\"\\u001f\x7f\xe2\x80\xa8\\b\\t\\n\\f\\r/\\\"\\\\\"");
    expect_jcs(" { \"b\" : [ true , false , null , { } , [ ] ] , \"a\" : \"x\" } ",
               "{\"a\":\"x\",\"b\":[true,false,null,{},[]]}");
    expect_jcs("{\"z\":{\"b\":1,\"a\":{\"d\":1,\"c\":2}}}",
               "{\"z\":{\"a\":{\"c\":2,\"d\":1},\"b\":1}}");
    expect_jcs("-12.50", "-12.5");
    /* idempotence on the cyberphone outputs is covered by the fuzz target; one case here */
    expect_jcs("{\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27]}",
               "{\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27]}");
}

/*
 * The string writer skips 8 bytes at a time when none needs an escape: every character JCS
 * escapes, and a few it does not (DEL, 0x80, '!', '#', ']' next to '"' and '\\'), at every place of
 * strings of 1 to 24 characters, against a byte-by-byte reference.
 */
static void test_escape_places(void)
{
    static const unsigned char probes[] = {0x01, 0x08, 0x09, 0x0a, 0x1f, '"', '\\', 0x20, '!',
                                            '#',  '[',  ']',  0x7f, 0xc2, 'a'};
    int wrong = 0;
    for (size_t len = 1; len <= 24; len++)
        for (size_t at = 0; at < len; at++)
            for (size_t k = 0; k < sizeof(probes); k++) {
                /* the JSON input (escaped as JSON allows) and the JCS output expected */
                char in[200], want[200];
                size_t i = 0, w = 0;
                in[i++] = want[w++] = '"';
                for (size_t j = 0; j < len; j++) {
                    unsigned c = j == at ? probes[k] : 'a' + (unsigned)(j % 26);
                    if (c == 0xc2) { /* U+0080: two bytes, written as they are */
                        memcpy(in + i, "\\u0080", 6), i += 6;
                        memcpy(want + w, "\xc2\x80", 2), w += 2;
                    } else if (c < 0x20 || c == '"' || c == '\\') {
                        const char *named = c == '"'    ? "\\\""
                                            : c == '\\' ? "\\\\"
                                            : c == 0x08 ? "\\b"
                                            : c == 0x09 ? "\\t"
                                            : c == 0x0a ? "\\n"
                                                        : NULL;
                        char u[8];
                        snprintf(u, sizeof(u), "\\u%04x", c);
                        memcpy(in + i, u, 6), i += 6;
                        size_t n = named ? 2 : 6;
                        memcpy(want + w, named ? named : u, n), w += n;
                    } else {
                        in[i++] = want[w++] = (char)c;
                    }
                }
                in[i++] = want[w++] = '"';
                in[i] = want[w] = '\0';
                accord_error err = {0};
                char *got = jcs(in, &err);
                wrong += !got || strcmp(got, want) != 0;
                free(got);
            }
    CHECK(wrong == 0);
}

/* jcs_is_canonical(text) for text parsed; -1 when it does not parse. */
static int is_canonical(const char *text)
{
    ajson_arena a;
    ajson_error perr;
    ajson_arena_init(&a, 0);
    const ajson_value *v = ajson_parse(&a, text, strlen(text), &perr);
    int r = v ? jcs_is_canonical(text, strlen(text), v, NULL, 0) : -1;
    ajson_arena_free(&a);
    return r;
}

/*
 * 5. Text that is canonical already: accord's own output and the cyberphone outputs without
 *    escapes or long numbers are recognised; a text that differs from the writer's output in
 *    any way (whitespace, member order, an escape written otherwise, a number written otherwise)
 *    is not; and the positions of a watched member are the writer's.
 */
static void test_canonical_text(void)
{
    static const char *yes[] = {
        "{}",
        "[]",
        "{\"a\":1,\"b\":[true,false,null,\"x\"],\"c\":{\"d\":-5,\"e\":\"f\"}}",
        "{\"\u20ac\":1,\"\U0001f600\":2}",
        "[0,-1,123456789012345]",
        "{\"a\":\"caf\xc3\xa9 \xe2\x82\xac\"}"};
    static const char *no[] = {
        " {}",       "{} ",   "{\"b\":1,\"a\":2}",  "{\"a\" :1}",    "[1.0]",
        "[-0]",      "[1e2]", "[1234567890123456]", "[\"\\u0041\"]", "[\"a\\/b\"]",
        "[\"\\n\"]", "[ 1]",  "{\"a\":[1,2 ]}"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        char *c = jcs(yes[i], NULL); /* the writer agrees: it writes the text unchanged */
        CHECK(is_canonical(yes[i]) == 1 && c && strcmp(c, yes[i]) == 0);
        free(c);
    }
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        CHECK(is_canonical(no[i]) == 0);
    /* the parser's flags tell exactly, escapes and numbers of any kind included */
    static const char *flag_yes[] = {"[\"\\n\\u001f\\b\\\"\\\\\"]",
                                     "[1.5,0.1,5e-324,1e-7,0.000001,1e+21]",
                                     "[9007199254740992,-9007199254740992]",
                                     "{\"\xf0\x9f\x98\x80\":1,\"\xef\xbd\xa1\":2}",
                                     "{\"a\\tb\":[],\"b\":{}}",
                                     "[\"\x7f\xe2\x80\xa8\"]"};
    static const char *flag_no[] = {"[\"\\u001F\"]",
                                    "[\"\\u0008\"]",
                                    "[\"\\/\"]",
                                    "[\"\\u00e9\"]",
                                    "[1e21]",
                                    "[1E2]",
                                    "[1e-6]",
                                    "[-0]",
                                    "[9007199254740993]",
                                    "[1.50]",
                                    "{\"\xef\xbd\xa1\":1,\"\xf0\x9f\x98\x80\":2}",
                                    "{\"\\ud83d\\ude00\":1}",
                                    "{\"b\":1,\"a\":2}",
                                    "[1,\n2]",
                                    "{\"a\": 1}"};
    for (size_t i = 0; i < sizeof(flag_yes) / sizeof(flag_yes[0]); i++) {
        char *c = jcs(flag_yes[i], NULL);
        CHECK(parsed_canonical(flag_yes[i], strlen(flag_yes[i])) == 1 && c &&
              strcmp(c, flag_yes[i]) == 0);
        free(c);
    }
    for (size_t i = 0; i < sizeof(flag_no) / sizeof(flag_no[0]); i++)
        CHECK(parsed_canonical(flag_no[i], strlen(flag_no[i])) == 0);
    /* strings whose source has a quote where an unescaped string of that length would end: the
     * parsed-tree variant must not take it for the closing quote */
    static const char *quotes[] = {"[\"a\\\"\"]", "{\"a\":\"x\\\"\",\"b\":1}", "[\"\\\"\",\"\\\"\"]",
                                   "[\"ab\\\\\\\"c\"]", "[\"\\n\\\"\"]", "[\"\\u0041\\\"\"]"};
    for (size_t i = 0; i < sizeof(quotes) / sizeof(quotes[0]); i++) {
        ajson_arena qa;
        ajson_error qerr;
        ajson_arena_init(&qa, 0);
        const ajson_value *qv = ajson_parse(&qa, quotes[i], strlen(quotes[i]), &qerr);
        char *c = jcs(quotes[i], NULL);
        int canonical = c && strcmp(c, quotes[i]) == 0;
        free(c);
        CHECK(qv && jcs_is_canonical(quotes[i], strlen(quotes[i]), qv, NULL, 0) == 0);
        /* from the parser's flags: exactly when the writer writes the text back */
        CHECK(qv &&
              jcs_is_canonical_parsed(quotes[i], strlen(quotes[i]), qv, NULL, 0) == canonical);
        /* and by comparison, on a copy of the root without the flags */
        if (qv) {
            ajson_value bare = *qv;
            bare.flags = 0;
            CHECK(jcs_is_canonical_parsed(quotes[i], strlen(quotes[i]), &bare, NULL, 0) == 0);
        }
        ajson_arena_free(&qa);
    }
    /* a watched member: positions as jcs_write_watch reports them */
    const char *t = "{\"a\":1,\"ext\":{\"s\":[\"x\"]},\"z\":true}";
    ajson_arena a;
    ajson_error perr;
    ajson_arena_init(&a, 0);
    const ajson_value *v = ajson_parse(&a, t, strlen(t), &perr);
    jcs_watch w[1] = {{0}}, ww[1] = {{0}};
    w[0].value = ww[0].value = ajson_get(v, "ext");
    buf b;
    const ajson_value *bad = NULL;
    buf_init(&b, 1 << 20);
    CHECK(jcs_is_canonical(t, strlen(t), v, w, 1) == 1);
    CHECK(jcs_write_watch(&b, v, ww, 1, &bad) == 0 && b.len == strlen(t) &&
          memcmp(b.p, t, b.len) == 0);
    CHECK(w[0].found && ww[0].found && w[0].value_start == ww[0].value_start &&
          w[0].value_end == ww[0].value_end && w[0].cut_start == ww[0].cut_start &&
          w[0].cut_end == ww[0].cut_end && w[0].alone == ww[0].alone);
    CHECK(w[0].value_start == 13 && t[w[0].value_end] == ',');
    buf_free(&b);
    ajson_arena_free(&a);
}

/* ------------------------------------------------------------------------------------------ */
/* Random documents                                                                             */

/* What a generated document holds beyond what jcs_is_canonical compares (it gives up there). */
typedef struct gen_doc {
    buf b;
    int slow; /* a string that needs an escape, or a number other than a short integer */
} gen_doc;

static void gen_ws(gen_doc *g, int ws)
{
    if (ws && t_rnd_below(6) == 0)
        buf_adds(&g->b, t_rnd_below(2) ? " " : "\n\t ");
}

/* A JSON string: plain bytes mostly, sometimes characters that must be escaped, escapes the
 * canonical form writes differently, or UTF-8 of 2 to 4 bytes. */
static void gen_string(gen_doc *g, size_t len, int odd)
{
    static const char *multi[] = {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xe2\x80\xa8"};
    buf_add(&g->b, "\"", 1);
    for (size_t i = 0; i < len; i++) {
        size_t k = odd ? t_rnd_below(40) : 10;
        if (k == 0) {
            buf_adds(&g->b, t_rnd_below(2) ? "\\\"" : "\\\\");
            g->slow = 1;
        } else if (k == 1) {
            buf_adds(&g->b, t_rnd_below(2) ? "\\n" : "\\u001f");
            g->slow = 1;
        } else if (k == 2) {
            buf_adds(&g->b, t_rnd_below(2) ? "\\u0041" : "\\/"); /* written back as "A" and "/" */
        } else if (k == 4) {
            /* escapes the canonical form writes otherwise (\b, \u001f, raw DEL, raw U+00E9) or
             * the same (\b, \t, \u0001) */
            static const char *esc[] = {"\\u0008", "\\u001F", "\\u007f", "\\u00e9",
                                        "\\b",     "\\t",     "\\u0001", "\\u000a"};
            size_t e = t_rnd_below(8);
            buf_adds(&g->b, esc[e]);
            g->slow |= e != 2 && e != 3;
        } else if (k == 3) {
            buf_adds(&g->b, multi[t_rnd_below(4)]);
        } else {
            char c = (char)(' ' + 1 + t_rnd_below(94)); /* printable ASCII, no space */
            if (c == '"' || c == '\\')
                c = 'q';
            buf_add(&g->b, &c, 1);
        }
    }
    buf_add(&g->b, "\"", 1);
}

static void gen_number(gen_doc *g)
{
    static const char *odd[] = {"-0",
                                "1.5",
                                "1e2",
                                "-2.5e-3",
                                "123456789012345678",
                                "0.1",
                                "9007199254740992",
                                "-9007199254740992",
                                "9007199254740993",
                                "1E2",
                                "1.50",
                                "1e21",
                                "1e+21",
                                "1e-7",
                                "1e-6",
                                "5e-324",
                                "-0.0",
                                "0.5",
                                "1e400",
                                "1.7976931348623157e+308",
                                "1234567890123456",
                                "100",
                                "2.5e-7",
                                "0.000001"};
    char num[32];
    if (t_rnd_below(8)) {
        snprintf(num, sizeof(num), "%s%llu", t_rnd_below(4) ? "" : "-",
                 (unsigned long long)(t_rnd() % 100000000000ULL));
        buf_adds(&g->b, num);
        return;
    }
    buf_adds(&g->b, odd[t_rnd_below(sizeof(odd) / sizeof(odd[0]))]);
    g->slow = 1;
}

static void gen_value(gen_doc *g, int depth, int ws, int odd);

static void gen_object(gen_doc *g, int depth, int ws, int odd)
{
    /* distinct keys from a pool whose order by UTF-16 code units differs from UTF-8 byte order
     * (U+1F600 before U+FFxx), shuffled or sorted */
    static const char *keys[] = {"a",  "b",         "id",       "type",         "created",
                                 "ab", "\xc3\xa9",  "\xef\xbd\xa1", "\xf0\x9f\x98\x80", "extensions",
                                 "",   "spec_version", "Z",     "a_b",          "labels"};
    size_t nk = sizeof(keys) / sizeof(keys[0]), order[16], n = t_rnd_below(depth > 3 ? 3 : 8);
    for (size_t i = 0; i < nk; i++)
        order[i] = i;
    for (size_t i = nk - 1; i > 0; i--) {
        size_t j = t_rnd_below(i + 1), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    if (t_rnd_below(2)) { /* often already in canonical order, as accord writes it */
        for (size_t i = 1; i < n; i++)
            for (size_t j = i; j && strcmp(keys[order[j - 1]], keys[order[j]]) > 0; j--) {
                size_t t = order[j];
                order[j] = order[j - 1];
                order[j - 1] = t;
            }
    }
    buf_add(&g->b, "{", 1);
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_add(&g->b, ",", 1);
        gen_ws(g, ws);
        buf_adds(&g->b, "\"");
        buf_adds(&g->b, keys[order[i]]);
        buf_adds(&g->b, "\"");
        gen_ws(g, ws);
        buf_add(&g->b, ":", 1);
        gen_ws(g, ws);
        gen_value(g, depth + 1, ws, odd);
        gen_ws(g, ws);
    }
    buf_add(&g->b, "}", 1);
}

static void gen_value(gen_doc *g, int depth, int ws, int odd)
{
    size_t k = t_rnd_below(depth > 4 ? 5 : 8);
    if (k <= 1) {
        size_t len = t_rnd_below(4) ? t_rnd_below(40) : t_rnd_below(300);
        gen_string(g, len, odd);
    } else if (k == 2) {
        gen_number(g);
    } else if (k == 3) {
        static const char *lits[] = {"true", "false", "null"};
        buf_adds(&g->b, lits[t_rnd_below(3)]);
    } else if (k == 4 || k == 5) {
        gen_object(g, depth, ws, odd);
    } else {
        size_t n = t_rnd_below(5);
        buf_add(&g->b, "[", 1);
        for (size_t i = 0; i < n; i++) {
            if (i)
                buf_add(&g->b, ",", 1);
            gen_ws(g, ws);
            gen_value(g, depth + 1, ws, odd);
        }
        buf_add(&g->b, "]", 1);
    }
}

/* jcs_write_watch of v into out, watching the root's last member; the watch in *w. */
static int write_watched(const ajson_value *v, buf *out, jcs_watch *w)
{
    const ajson_value *bad = NULL;
    memset(w, 0, sizeof(*w));
    if (v->type == AJSON_OBJECT && v->len)
        w->value = &v->u.members[v->len - 1].value;
    buf_reset(out);
    return jcs_write_watch(out, v, w, 1, &bad);
}

static int same_watch(const jcs_watch *a, const jcs_watch *b)
{
    return a->found == b->found &&
           (!a->found || (a->value_start == b->value_start && a->value_end == b->value_end &&
                          a->cut_start == b->cut_start && a->cut_end == b->cut_end &&
                          a->alone == b->alone));
}

/*
 * text (v: the tree of text, or of the text it was minified from) against the writer: when
 * jcs_is_canonical says yes, the writer's output is the text and the watched positions agree,
 * and jcs_is_canonical_parsed answers the same with the same positions.  Returns
 * jcs_is_canonical's answer, or -1 when the writer refuses the tree.
 */
static int differential(const char *text, size_t len, const ajson_value *v, int own, buf *out)
{
    jcs_watch w, ww, wp;
    int wrc = write_watched(v, out, &ww);
    int same = wrc == 0 && out->len == len && memcmp(out->p, text, len) == 0;
    /* the parser's flags, for a tree of this very text (no whitespace around it), say exactly
     * whether the writer writes the text back */
    if (own && len && text[0] != ' ' && text[len - 1] != ' ' && jcs_parsed_canonical(v) != same) {
        fprintf(stderr, "jcs_parsed_canonical says %d, the writer %d: %.*s\n",
                jcs_parsed_canonical(v), same, (int)(len < 300 ? len : 300), text);
        t_failed++;
    }
    if (wrc != 0)
        return -1;
    w = wp = ww;
    w.found = wp.found = 0;
    int yes = jcs_is_canonical(text, len, v, &w, 1);
    /* the parsed-tree variant says yes wherever the comparison does, and only of the writer's
     * output, with the writer's positions */
    int p = jcs_is_canonical_parsed(text, len, v, &wp, 1);
    if ((yes && !p) || (p && !(same && same_watch(&wp, &ww)))) {
        fprintf(stderr, "jcs_is_canonical_parsed disagrees (%d, %d): %.*s\n", yes, p,
                (int)(len < 300 ? len : 300), text);
        t_failed++;
    }
    if (yes && !(same && same_watch(&w, &ww))) {
        fprintf(stderr, "jcs_is_canonical said yes of a text the writer writes otherwise: %.*s\n",
                (int)(len < 300 ? len : 300), text);
        t_failed++;
    }
    return yes;
}

static void test_canonical_random(void)
{
    ajson_arena a;
    buf canon, again;
    size_t docs = 0, yes_canon = 0, yes_text = 0, mutants = 0, bad = 0;
    ajson_arena_init(&a, 0);
    buf_init(&canon, (size_t)1 << 24);
    buf_init(&again, (size_t)1 << 24);
    for (int round = 0; round < 6000; round++) {
        gen_doc g = {.slow = 0};
        buf_init(&g.b, (size_t)1 << 24);
        int ws = t_rnd_below(3) == 0, odd = t_rnd_below(3) == 0;
        gen_object(&g, 0, ws, odd);
        ajson_error perr;
        ajson_arena_reset(&a);
        const ajson_value *v = ajson_parse(&a, g.b.p, g.b.len, &perr);
        if (!v) {
            fprintf(stderr, "generated text does not parse (%s): %.*s\n", perr.msg,
                    (int)(g.b.len < 300 ? g.b.len : 300), g.b.p);
            t_failed++;
            buf_free(&g.b);
            continue;
        }
        docs++;
        int r = differential(g.b.p, g.b.len, v, 1, &canon);
        if (r < 0) {
            buf_free(&g.b);
            continue;
        }
        yes_text += r == 1;
        /* its minified form against the same tree (what the importer stores unsigned objects as) */
        char *mini = malloc(g.b.len + 1);
        size_t mlen = ajson_minify(g.b.p, g.b.len, mini);
        yes_text += differential(mini, mlen, v, 0, &again) == 1;
        free(mini);
        /* the canonical form, parsed: recognised whenever it holds only what the comparison
         * handles (no string needing an escape, integers of up to 15 digits) */
        const ajson_value *cv = ajson_parse(&a, canon.p, canon.len, &perr);
        int cr = cv ? differential(canon.p, canon.len, cv, 1, &again) : -1;
        yes_canon += cr == 1;
        /* the canonical form as the second item of a page parsed whole (a peer's page): its
         * tree's offsets count from the page's start */
        buf page;
        buf_init(&page, (size_t)1 << 24);
        buf_adds(&page, "[0,");
        buf_add(&page, canon.p, canon.len);
        buf_adds(&page, "]");
        const ajson_value *pv = ajson_parse(&a, page.p, page.len, &perr);
        if (!pv || pv->len != 2 || pv->u.items[1].offset != 3 ||
            jcs_is_canonical_parsed(canon.p, canon.len, &pv->u.items[1], NULL, 0) != 1) {
            fprintf(stderr, "canonical form inside a page judged otherwise\n");
            t_failed++;
        }
        buf_free(&page);
        if (!cv || cr < 0 || (!g.slow && cr != 1)) {
            fprintf(stderr, "canonical form not recognised (slow %d): %.*s\n", g.slow,
                    (int)(canon.len < 300 ? canon.len : 300), canon.p);
            t_failed++;
        }
        /* one byte of the canonical form changed: whatever parses is judged soundly */
        for (int m = 0; m < 4 && canon.len; m++) {
            static const char repl[] = " \"\\{}[],:0-eaz\x01\xc3";
            char *mut = malloc(canon.len);
            memcpy(mut, canon.p, canon.len);
            mut[t_rnd_below(canon.len)] = repl[t_rnd_below(sizeof(repl) - 1)];
            /* against the tree of the canonical form, whose output it no longer is */
            if (cr == 1 && memcmp(mut, canon.p, canon.len) != 0)
                bad += jcs_is_canonical(mut, canon.len, cv, NULL, 0) != 0;
            const ajson_value *mv = ajson_parse(&a, mut, canon.len, &perr);
            if (mv) {
                mutants++;
                bad += differential(mut, canon.len, mv, 1, &again) == 1 &&
                       (again.len != canon.len || memcmp(again.p, mut, canon.len) != 0);
            }
            free(mut);
        }
        buf_free(&g.b);
    }
    CHECK(docs == 6000);
    CHECK(bad == 0);
    /* the cases are not vacuous: most canonical forms and some generated texts are recognised,
     * and mutants are exercised */
    CHECK(yes_canon > docs / 2 && yes_text > docs / 20 && mutants > docs);
    buf_free(&canon);
    buf_free(&again);
    ajson_arena_free(&a);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    test_cyberphone();
    test_appendix_b();
    test_es6_numbers();
    test_rejections();
    test_order_and_strings();
    test_escape_places();
    test_canonical_text();
    test_canonical_random();
    return t_done();
}
