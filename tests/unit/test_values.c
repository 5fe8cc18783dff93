/*
 * test_values.c - value normalisation (one table row per rule and edge) and value extraction
 * from SCOs, STIX 2.0 observed-data and indicator patterns, asserting the exact set of values.
 */
#include "values.h"
#include "util/json.h"

#include "t.h"

#include <dirent.h>
#include <stdlib.h>

/* ---- normalisation ---- */

#define UNCHANGED NULL /* the expected output is the input, trimmed */
#define REJECTED ""    /* value_normalize returns -1 */

static const struct norm_case {
    const char *in;
    const char *out;
} norm_cases[] = {
    /* IPv4 */
    {"1.2.3.4", "1.2.3.4"},
    {" \t1.2.3.4\r\n", "1.2.3.4"},
    {"0.0.0.0", "0.0.0.0"},
    {"255.255.255.255", "255.255.255.255"},
    {"1.2.3.256", UNCHANGED},
    {"01.2.3.4", UNCHANGED}, /* leading zeros: octal or decimal? neither */
    {"1.2.3.04", UNCHANGED},
    {"1.2.3", UNCHANGED},
    {"1.2.3.4.5", UNCHANGED},
    {"1..3.4", UNCHANGED},
    {"1.2.3.4.", UNCHANGED},
    {"10.1.2.3/8", "10.0.0.0/8"},
    {"192.168.1.77/24", "192.168.1.0/24"},
    {"223.167.255.1/15", "223.166.0.0/15"},
    {"172.16.5.4/12", "172.16.0.0/12"},
    {"1.2.3.4/31", "1.2.3.4/31"},
    {"1.2.3.5/31", "1.2.3.4/31"},
    {"1.2.3.4/32", "1.2.3.4"},
    {"1.2.3.4/0", "0.0.0.0/0"},
    {"1.2.3.4/33", UNCHANGED},
    {"1.2.3.4/08", UNCHANGED},
    {"1.2.3.4/", UNCHANGED},
    {"1.2.3.256/24", UNCHANGED},
    /* IPv6 */
    {"2001:DB8::1", "2001:db8::1"},
    {"2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"},
    {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},
    {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},
    {"::", "::"},
    {"::1", "::1"},
    {"::ffff:1.2.3.4", "::ffff:1.2.3.4"},
    {"::FFFF:0102:0304", "::ffff:1.2.3.4"},
    {"2001:db8::1/32", "2001:db8::/32"},
    {"2001:db8:ffff::1/33", "2001:db8:8000::/33"},
    {"2001:db8::1/128", "2001:db8::1"},
    {"2001:db8::1/127", "2001:db8::/127"},
    {"::1/0", "::/0"},
    {"2001:db8::1/129", UNCHANGED},
    {"fe80::1%eth0", UNCHANGED},
    {"2001:db8::g", UNCHANGED},
    {"1:2:3:4:5:6:7:8:9", UNCHANGED},
    {"::ffff:1.2.3.256", UNCHANGED},
    /* byte strings: MAC addresses, certificate serial numbers */
    {"00:1A:2B:3C:4D:5E", "00:1a:2b:3c:4d:5e"},
    {"00-1A-2B-3C-4D-5E", "00:1a:2b:3c:4d:5e"},
    {"00:1A-2B:3C:4D:5E", UNCHANGED},
    {"00:1A:2B:3C:4D", UNCHANGED},
    {"4C:0B:1D:19:74:86:A7:66:B4:1A:BF:40:27:21:76:28",
     "4c:0b:1d:19:74:86:a7:66:b4:1a:bf:40:27:21:76:28"},
    {"01:02:03:04:05:06:07:08", "01:02:03:04:05:06:07:08"}, /* not the address 1:2:3:4:5:6:7:8 */
    /* autonomous systems */
    {"AS15169", "AS15169"},
    {"as015169", "AS15169"},
    {"As0", "AS0"},
    {"AS4294967295", "AS4294967295"},
    {"AS4294967296", UNCHANGED},
    {"AS", UNCHANGED},
    {"AS15169x", UNCHANGED},
    {"15169", UNCHANGED},
    /* hex digests */
    {"001DD76872D80801692FF942308C64E6", "001dd76872d80801692ff942308c64e6"},
    {"DA39A3EE5E6B4B0D3255BFEF95601890AFD80709", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
    {"EF537F25C895BFA782526529A9B63D97AA631564D5D789C2B765448C8635FB6C",
     "ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c"},
    {"CF83E1357EEFB8BDF1542850D66D8007D620E4050B5715DC83F4A921D36CE9CE"
     "47D0D13C5D85F2B0FF8318D2877EEC2F63B931BD47417A81A538327AF927DA3E",
     "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
     "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"},
    {"001DD76872D80801692FF942308C64E", UNCHANGED}, /* 31 digits */
    {"001DD76872D80801692FF942308C64EG", UNCHANGED},
    /* URLs */
    {"HTTP://Example.COM:80/Path?Q", "http://example.com/Path?Q"},
    {"https://Example.com:443", "https://example.com/"},
    {"https://example.com:8443/A", "https://example.com:8443/A"},
    {"http://example.com:443/", "http://example.com:443/"},
    {"http://example.com:/x", "http://example.com/x"},
    {"HTTP://example.com?Q=A", "http://example.com/?Q=A"},
    {"http://example.com:80#Frag", "http://example.com/#Frag"},
    {"http://User:Pass@Example.COM/", "http://User:Pass@example.com/"},
    {"http://a@b@Example.COM/", "http://a@b@example.com/"},
    {"http://[2001:DB8::1]:8080/x", "http://[2001:db8::1]:8080/x"},
    {"http://[2001:DB8::1]:80", "http://[2001:db8::1]/"},
    {"FTP://Files.Example.com:21/pub", "ftp://files.example.com/pub"},
    {"hxxp://Evil.COM:80", "hxxp://evil.com:80"}, /* no defaults for unknown schemes */
    {"file:///C:/Windows", "file:///C:/Windows"},
    {"http://x4z9arb.cn/4712", "http://x4z9arb.cn/4712"},
    {"http://exa mple.com/", UNCHANGED},
    {"Example.com/Path", UNCHANGED},
    {"1http://example.com/", UNCHANGED},
    /* e-mail addresses */
    {"John.Smith@Example.COM", "john.smith@example.com"},
    {"a@b", UNCHANGED},
    {"a@b@example.com", UNCHANGED},
    {"@example.com", UNCHANGED},
    {"john smith@example.com", UNCHANGED},
    {"john@example.com.", UNCHANGED},
    /* domain names */
    {"Example.COM.", "example.com"},
    {"WWW.Example.com", "www.example.com"},
    {"_dmarc.Example.com", "_dmarc.example.com"},
    {"xn--BCHER-KVA.Example", "xn--bcher-kva.example"},
    {"B\303\274cher.Example", UNCHANGED}, /* IDN in Unicode stays as it is */
    {"Invoice.EXE", "invoice.exe"},
    {"localhost", UNCHANGED},
    {"EVILHOST", UNCHANGED},
    {"example..com", UNCHANGED},
    {"example.com..", UNCHANGED},
    {".example.com", UNCHANGED},
    {"com.", UNCHANGED},
    {"domain autuo.xicp.net", UNCHANGED},
    {"a234567890123456789012345678901234567890123456789012345678901234.com", UNCHANGED},
    {"A23456789012345678901234567890123456789012345678901234567890123.com",
     "a23456789012345678901234567890123456789012345678901234567890123.com"},
    /* registry keys */
    {"HKEY_LOCAL_MACHINE\\Software\\Evil", "hkey_local_machine\\software\\evil"},
    {"hkey_Current_User\\Run", "hkey_current_user\\run"},
    /* anything else */
    {"  CBricksDoc  ", "CBricksDoc"},
    {"Hello World", UNCHANGED},
    {"CN=WEBMAIL", UNCHANGED},
    {"C:\\Windows\\System32", UNCHANGED},
    /* rejected */
    {"", REJECTED},
    {" \t\r\n ", REJECTED},
};

static void test_normalize_table(void)
{
    char out[VALUE_MAX + 2], again[VALUE_MAX + 2];
    for (size_t i = 0; i < sizeof norm_cases / sizeof norm_cases[0]; i++) {
        const struct norm_case *c = &norm_cases[i];
        long n = value_normalize(c->in, strlen(c->in), out, sizeof out);
        if (c->out && !c->out[0]) {
            CHECK(n == -1);
            continue;
        }
        if (n < 0) {
            fprintf(stderr, "case %zu \"%s\": rejected\n", i, c->in);
            CHECK(n >= 0);
            continue;
        }
        CHECK((size_t)n == strlen(out));
        if (c->out) {
            CHECK_STR(out, c->out);
        } else {
            /* unchanged but for surrounding whitespace */
            const char *p = c->in;
            size_t len = strlen(p);
            while (*p == ' ' || *p == '\t')
                p++, len--;
            CHECK((size_t)n == len && memcmp(out, p, len) == 0);
            if ((size_t)n != len)
                fprintf(stderr, "case %zu \"%s\" -> \"%s\"\n", i, c->in, out);
        }
        /* idempotent: normalising a normalised value changes nothing */
        CHECK(value_normalize(out, (size_t)n, again, sizeof again) == n);
        CHECK_STR(again, out);
    }
}

static void test_normalize_limits(void)
{
    char out[64];
    char big[VALUE_MAX + 2];
    CHECK(value_normalize("example.com", 11, out, 11) == -1); /* no room for the NUL */
    CHECK(value_normalize("example.com", 11, out, 12) == 11);
    CHECK(value_normalize("Example.com", 11, out, 0) == -1);
    CHECK(value_normalize("http://a.bc", 11, out, 12) == -1); /* grows by the "/" */
    CHECK(value_normalize("http://a.bc", 11, out, 13) == 12);
    CHECK_STR(out, "http://a.bc/");
    CHECK(value_normalize("10.0.0.0/8", 10, out, 10) == -1);
    CHECK(value_normalize("2001:db8::/32", 13, out, 13) == -1);
    CHECK(value_normalize("a\0b", 3, out, sizeof out) == -1);   /* NUL inside */
    CHECK(value_normalize("1.2.3.4", 3, out, sizeof out) == 3); /* only len bytes are read */
    CHECK_STR(out, "1.2");
    CHECK(value_normalize(NULL, 0, out, sizeof out) == -1);
    /* the input need not be NUL-terminated */
    memset(big, 'A', sizeof big);
    CHECK(value_normalize(big, 5, out, sizeof out) == 5);
    CHECK_STR(out, "AAAAA");
    memcpy(big, "HTTP://X.Y", 10);
    CHECK(value_normalize(big, 10, out, sizeof out) == 11);
    CHECK_STR(out, "http://x.y/");
}

/* ---- extraction ---- */

#define MAX_SEEN 4096

typedef struct seen {
    char *v[MAX_SEEN];
    size_t n;
    size_t calls;
    int bad; /* a value with the wrong length or over VALUE_MAX */
} seen;

static void on_value(void *ud, const char *value, size_t len)
{
    seen *s = ud;
    s->calls++;
    if (len != strlen(value) || len > VALUE_MAX || len == 0)
        s->bad = 1;
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->v[i], value) == 0)
            return;
    }
    if (s->n < MAX_SEEN)
        s->v[s->n++] = strdup(value);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void seen_free(seen *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    s->n = 0;
}

/* The set as "a|b|c", sorted. */
static void seen_join(seen *s, char *out, size_t outlen)
{
    size_t used = 0;
    qsort(s->v, s->n, sizeof s->v[0], cmp_str);
    out[0] = '\0';
    for (size_t i = 0; i < s->n && used < outlen; i++) {
        int n = snprintf(out + used, outlen - used, "%s%s", i ? "|" : "", s->v[i]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

/* Sorts the '|'-separated items of `set` into out. */
static void sort_set(const char *set, char *out, size_t outlen)
{
    seen s = {0};
    const char *p = set;
    while (*p) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        char *item = strndup(p, len);
        on_value(&s, item, len);
        free(item);
        p += len + (bar != NULL);
    }
    seen_join(&s, out, outlen);
    seen_free(&s);
}

/* Parses json, extracts its values (as `type`, or the object's own when NULL), compares the set. */
static void check_values(int line, const char *json, const char *type, const char *expect)
{
    ajson_arena a;
    ajson_error err;
    seen s = {0};
    char got[VALUE_MAX + 4096], want[VALUE_MAX + 4096];
    ajson_arena_init(&a, 0);
    const ajson_value *root = ajson_parse(&a, json, strlen(json), &err);
    if (!root) {
        fprintf(stderr, "line %d: bad test JSON: %s\n", line, err.msg);
        CHECK(root != NULL);
        ajson_arena_free(&a);
        return;
    }
    values_extract(root, type, on_value, &s);
    seen_join(&s, got, sizeof got);
    sort_set(expect, want, sizeof want);
    if (strcmp(got, want) != 0)
        fprintf(stderr, "line %d: %s\n", line, json);
    CHECK_STR(got, want);
    CHECK(!s.bad);
    seen_free(&s);
    ajson_arena_free(&a);
}

#define VALUES(json, expect) check_values(__LINE__, json, NULL, expect)

static void test_extract_scos(void)
{
    VALUES("{\"type\":\"ipv4-addr\",\"value\":\"10.1.2.3/32\"}", "10.1.2.3");
    VALUES("{\"type\":\"ipv6-addr\",\"value\":\"2001:DB8::0:1\"}", "2001:db8::1");
    VALUES("{\"type\":\"domain-name\",\"value\":\"Example.COM\"}", "example.com");
    VALUES("{\"type\":\"url\",\"value\":\"HTTP://Example.COM:80/Path?Q\"}",
           "http://example.com/Path?Q");
    VALUES("{\"type\":\"email-addr\",\"value\":\"Alice@Example.com\",\"display_name\":\"Alice\"}",
           "alice@example.com");
    VALUES("{\"type\":\"mac-addr\",\"value\":\"d2:fb:49:24:37:18\"}", "d2:fb:49:24:37:18");
    VALUES("{\"type\":\"file\",\"hashes\":{\"MD5\":\"001DD76872D80801692FF942308C64E6\","
           "\"SHA-256\":\"ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c\"},"
           "\"name\":\"Evil.EXE\",\"size\":25536,\"parent_directory_ref\":\"directory--1\"}",
           "001dd76872d80801692ff942308c64e6|evil.exe|"
           "ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c");
    VALUES("{\"type\":\"file\",\"name\":\"CBricksDoc\"}", "CBricksDoc");
    VALUES("{\"type\":\"artifact\",\"hashes\":{\"SHA-1\":"
           "\"DA39A3EE5E6B4B0D3255BFEF95601890AFD80709\"},"
           "\"url\":\"https://Evil.example/a.bin\",\"mime_type\":\"application/zip\"}",
           "da39a3ee5e6b4b0d3255bfef95601890afd80709|https://evil.example/a.bin");
    VALUES("{\"type\":\"x509-certificate\",\"serial_number\":\"36:F7:D4:32:F4:AB:70:EA\","
           "\"issuer\":\"C=ZA, O=Thawte\",\"subject\":\"C=US, CN=www.example.com\","
           "\"hashes\":{\"SHA-256\":\"" /* 64 hex digits */
           "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}}",
           "36:f7:d4:32:f4:ab:70:ea|C=US, CN=www.example.com|"
           "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    VALUES("{\"type\":\"autonomous-system\",\"number\":15169,\"name\":\"Google\"}", "AS15169");
    VALUES("{\"type\":\"autonomous-system\",\"number\":4294967295}", "AS4294967295");
    VALUES("{\"type\":\"autonomous-system\",\"number\":4294967296}", "");
    VALUES("{\"type\":\"autonomous-system\",\"number\":-1}", "");
    VALUES("{\"type\":\"autonomous-system\",\"number\":15169.5}", "");
    VALUES("{\"type\":\"autonomous-system\",\"number\":\"15169\"}", "");
    VALUES("{\"type\":\"mutex\",\"name\":\"__CLEANSWEEP__\"}", "__CLEANSWEEP__");
    VALUES("{\"type\":\"windows-registry-key\",\"key\":\"HKEY_LOCAL_MACHINE\\\\System\\\\Foo\"}",
           "hkey_local_machine\\system\\foo");
    VALUES("{\"type\":\"software\",\"name\":\"Word\",\"cpe\":\"cpe:2.3:a:microsoft:word:2000:*\","
           "\"swid\":\"com.acme.rms-ce-v4-1-5-0\"}",
           "cpe:2.3:a:microsoft:word:2000:*");
    VALUES("{\"type\":\"user-account\",\"user_id\":\"1001\",\"account_login\":\"jdoe\","
           "\"display_name\":\"John Doe\"}",
           "1001|jdoe");
    VALUES("{\"type\":\"email-message\",\"is_multipart\":false,\"subject\":\"Hi\","
           "\"from_ref\":\"email-addr--1\"}",
           "");
    VALUES("{\"type\":\"network-traffic\",\"dst_port\":443,\"protocols\":[\"tcp\"]}", "");
    VALUES("{\"type\":\"malware\",\"name\":\"evil.example\"}", "");
    VALUES("{\"type\":\"x-custom\",\"value\":\"1.2.3.4\"}", "");
    /* wrong property types are ignored */
    VALUES("{\"type\":\"ipv4-addr\",\"value\":17}", "");
    VALUES("{\"type\":\"file\",\"hashes\":{\"MD5\":1,\"x\":[\"a\"]},\"name\":[\"a\"]}", "");
    VALUES("{\"type\":\"ipv4-addr\",\"value\":\"   \"}", "");
    /* the type argument wins over the object's */
    check_values(__LINE__, "{\"type\":\"url\",\"value\":\"Example.COM\"}", "domain-name",
                 "example.com");
    check_values(__LINE__, "[\"1.2.3.4\"]", "ipv4-addr", "");
    check_values(__LINE__, "{\"value\":\"1.2.3.4\"}", NULL, "");
}

static void test_extract_long(void)
{
    size_t n = VALUE_MAX + 64;
    char *json = malloc(n + 64);
    char *expect = malloc(VALUE_MAX + 1);
    int head = snprintf(json, n + 64, "{\"type\":\"mutex\",\"name\":\"");
    memset(json + head, 'x', VALUE_MAX);
    snprintf(json + head + VALUE_MAX, 64, "\"}");
    memset(expect, 'x', VALUE_MAX);
    expect[VALUE_MAX] = '\0';
    VALUES(json, expect); /* exactly VALUE_MAX: indexed */
    memset(json + head, 'x', VALUE_MAX + 1);
    snprintf(json + head + VALUE_MAX + 1, 64, "\"}");
    VALUES(json, ""); /* one more: skipped */
    free(json);
    free(expect);
}

static void test_extract_observed_data(void)
{
    VALUES("{\"type\":\"observed-data\",\"number_observed\":1,\"objects\":{"
           "\"0\":{\"type\":\"ipv4-addr\",\"value\":\"198.51.100.3\"},"
           "\"1\":{\"type\":\"file\",\"name\":\"A.DLL\",\"hashes\":{\"MD5\":"
           "\"001DD76872D80801692FF942308C64E6\"}},"
           "\"2\":{\"type\":\"network-traffic\",\"src_ref\":\"0\"},"
           "\"3\":{\"value\":\"no-type.example\"},"
           "\"4\":\"not an object\","
           "\"5\":{\"type\":\"observed-data\",\"objects\":{\"0\":{\"type\":\"ipv4-addr\","
           "\"value\":\"9.9.9.9\"}}}}}",
           "198.51.100.3|a.dll|001dd76872d80801692ff942308c64e6");
    VALUES("{\"type\":\"observed-data\",\"object_refs\":[\"ipv4-addr--1\"]}", "");
    VALUES(
        "{\"type\":\"observed-data\",\"objects\":[{\"type\":\"ipv4-addr\",\"value\":\"1.1.1.1\"}]}",
        "");
}

/* An indicator JSON with `pattern` (a C string; quotes and backslashes are JSON-escaped here). */
static void check_pattern(int line, const char *pattern, const char *expect)
{
    char json[8192];
    size_t n = (size_t)snprintf(json, sizeof json, "{\"type\":\"indicator\",\"pattern\":\"");
    for (const char *p = pattern; *p && n + 8 < sizeof json; p++) {
        if (*p == '"' || *p == '\\')
            json[n++] = '\\';
        json[n++] = *p;
    }
    snprintf(json + n, sizeof json - n, "\"}");
    check_values(line, json, NULL, expect);
}

#define PATTERN(pattern, expect) check_pattern(__LINE__, pattern, expect)

static void test_extract_patterns(void)
{
    PATTERN("[ipv4-addr:value = '1.2.3.4']", "1.2.3.4");
    PATTERN("[ ipv4-addr:value = '10.0.0.0' ]", "10.0.0.0");
    PATTERN("[ipv4-addr:value='10.0.0.1/32']", "10.0.0.1");
    PATTERN("[ipv4-addr:value == '1.1.1.1']", "1.1.1.1");
    PATTERN("[ipv4-addr:value != '1.1.1.1']", "1.1.1.1");
    PATTERN("[domain-name:value = 'A.Example' OR ipv4-addr:value = '223.167.0.0/15']",
            "a.example|223.166.0.0/15");
    PATTERN("[ipv4-addr:value IN ('1.2.3.4', '5.6.7.8' , '9.9.9.9/32')]",
            "1.2.3.4|5.6.7.8|9.9.9.9");
    PATTERN("[ipv4-addr:value in ('1.2.3.4')]", "1.2.3.4");
    PATTERN("[file:hashes.'SHA-256' = "
            "'EF537F25C895BFA782526529A9B63D97AA631564D5D789C2B765448C8635FB6C']",
            "ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c");
    PATTERN("[file:hashes.MD5 = '001dd76872d80801692ff942308c64e6' AND file:size = 100]",
            "001dd76872d80801692ff942308c64e6");
    PATTERN("[file:name = 'it\\'s']", "it's");
    PATTERN("[file:name = 'back\\\\slash' OR file:name = '\\'']", "back\\slash|'");
    PATTERN("[windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\Software\\\\Evil']",
            "hkey_local_machine\\software\\evil");
    PATTERN("[file:name = 'a.exe' OR file:name = 'b\\x' OR file:name = 'c.exe']", "a.exe");
    PATTERN("[ipv4-addr:value = '1.2.3.4'] REPEATS 2 TIMES WITHIN 300 SECONDS", "1.2.3.4");
    PATTERN("[url:value = 'HTTP://Evil.example'] START t'2016-01-01T00:00:00Z' "
            "STOP t'2016-01-02T00:00:00Z'",
            "http://evil.example/");
    PATTERN(
        "[ipv4-addr:value = '1.1.1.1'] FOLLOWEDBY [ipv4-addr:value = '2.2.2.2'] WITHIN 5 SECONDS",
        "1.1.1.1|2.2.2.2");
    PATTERN("([ipv4-addr:value = '1.1.1.1'] AND ([domain-name:value = 'X.example'] OR "
            "([url:value = 'http://x.example/A' AND url:value != 'http://y.example/']))) ",
            "1.1.1.1|x.example|http://x.example/A|http://y.example/");
    PATTERN("[(file:name = 'a' OR file:name = 'b') AND file:size > 10]", "a|b");
    PATTERN("[file:name NOT IN ('a.exe', 'b.exe')]", "a.exe|b.exe");
    PATTERN("[file:name NOT = 'x.exe']", "x.exe");
    PATTERN("[domain-name:value LIKE '%.example.com']", "");
    PATTERN("[domain-name:value NOT LIKE '%example.com']", "");
    PATTERN("[email-message:subject MATCHES '^[IMPORTANT] Please Review Before']", "");
    PATTERN("[file:size > '100' OR file:size >= 1 OR file:size < 'a' OR file:size <= 'b']", "");
    PATTERN("[network-traffic:dst_port = 443 AND network-traffic:src_port IN (1, 2)]", "");
    PATTERN("[autonomous-system:number = 15169]", "AS15169");
    PATTERN("[autonomous-system:number IN (15169, 013335)]", "AS15169|AS13335");
    PATTERN("[autonomous-system:number = 15169.0 OR autonomous-system:number = -5]", "");
    PATTERN("[autonomous-system:number = 99999999999]", "");
    PATTERN("[autonomous-system:name = 'GOOGLE']", "GOOGLE");
    PATTERN("[artifact:payload_bin = b'ZXZpbA==' OR file:hashes.MD5 = h'00ff']", "");
    PATTERN("[file:created = t'2016-01-01T00:00:00Z']", "");
    PATTERN("[ipv4-addr:value ISSUBSET '198.51.100.7/24']", "198.51.100.0/24");
    PATTERN("[ipv6-addr:value ISSUPERSET '2001:DB8::1']", "2001:db8::1");
    PATTERN("[email-message:body_multipart[*].body_raw_ref.name = 'Evil.PDF']", "evil.pdf");
    PATTERN("[email-message:to_refs[0].value = 'Bob@Example.com']", "bob@example.com");
    PATTERN("[x509-certificate:issuer = 'CN=WEBMAIL' AND x509-certificate:serial_number = "
            "'4c:0b:1d:19:74:86:a7:66:b4:1a:bf:40:27:21:76:28']",
            "CN=WEBMAIL|4c:0b:1d:19:74:86:a7:66:b4:1a:bf:40:27:21:76:28");
    PATTERN("[x-custom-obj:x_prop = 'Value']", "Value");
    PATTERN("[file:extensions.'windows-pebinary-ext'.sections[*].name = '.Text']", ".Text");
    PATTERN("[x-foo:flag = true AND x-foo:n = 'ok']", "ok");
    PATTERN("['a' = 'b']", "");
    PATTERN("[file:name = '   ']", "");
    /* malformed or truncated: what was found so far, nothing beyond */
    PATTERN("[ipv4-addr:value = '1.2.3.4' OR domain-name:value = 'evil", "1.2.3.4");
    PATTERN("[ipv4-addr:value = '1.1.1.1'] ~ [ipv4-addr:value = '2.2.2.2']", "1.1.1.1");
    PATTERN("[ipv4-addr:value = '1.1.1.1' ! ipv4-addr:value = '2.2.2.2']", "1.1.1.1");
    PATTERN("[ipv4-addr:value = ", "");
    PATTERN("[ipv4-addr:value IN ('1.1.1.1', '2.2.2.2'", "1.1.1.1|2.2.2.2");
    PATTERN("[ipv4-addr:value IN ('1.1.1.1' '2.2.2.2')]", "1.1.1.1|2.2.2.2");
    PATTERN("[file:", "");
    PATTERN("[file:hashes.", "");
    PATTERN("[file:hashes.'SHA-256", "");
    PATTERN("[file:name = 'x\\", "");
    PATTERN("[file:name = 'x'\\", "x");
    PATTERN("[file:name = t'", "");
    PATTERN("'", "");
    PATTERN("", "");
    PATTERN("]]]]((((", "");
    PATTERN("[file:name[", "");
    PATTERN("[file:name[*", "");
    PATTERN("[file:name[*] = 'a']", "a");
    PATTERN("= 'a'", "");
    PATTERN("[ipv4-addr:value = '1.1.1.1'", "1.1.1.1");
}

static void test_extract_indicator_fields(void)
{
    VALUES("{\"type\":\"indicator\",\"pattern_type\":\"stix\",\"name\":\"evil.example\","
           "\"pattern\":\"[ipv4-addr:value = '1.2.3.4']\"}",
           "1.2.3.4");
    VALUES("{\"type\":\"indicator\",\"pattern_type\":\"sigma\","
           "\"pattern\":\"[ipv4-addr:value = '1.2.3.4']\"}",
           "");
    VALUES("{\"type\":\"indicator\",\"pattern\":42}", "");
    VALUES("{\"type\":\"indicator\",\"description\":\"[ipv4-addr:value = '1.2.3.4']\"}", "");
    /* a constant longer than VALUE_MAX is skipped, the next one is not */
    {
        char json[VALUE_MAX + 256];
        int n = snprintf(json, sizeof json, "{\"type\":\"indicator\",\"pattern\":\"[file:name = '");
        memset(json + n, 'a', VALUE_MAX + 1);
        snprintf(json + n + VALUE_MAX + 1, sizeof json - (size_t)n - VALUE_MAX - 1,
                 "' OR file:name = 'b']\"}");
        VALUES(json, "b");
    }
}

/* Extracts the values of every object of the bundle at path into s; 1 when it parsed. */
static int extract_bundle(const char *path, seen *s, size_t *objects)
{
    FILE *f = fopen(path, "rb");
    ajson_arena a;
    ajson_error err;
    const ajson_value *root, *objs;
    char *text = NULL;
    long size;
    size_t got;
    int rc = 0;
    if (!f)
        return 0;
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        goto out;
    text = malloc((size_t)size + 1);
    if (!text)
        goto out;
    got = fread(text, 1, (size_t)size, f);
    ajson_arena_init(&a, 0);
    root = ajson_parse(&a, text, got, &err);
    objs = ajson_get(root, "objects");
    rc = root != NULL;
    for (size_t i = 0; objs && objs->type == AJSON_ARRAY && i < objs->len; i++) {
        values_extract(&objs->u.items[i], NULL, on_value, s);
        (*objects)++;
    }
    ajson_arena_free(&a);
out:
    free(text);
    fclose(f);
    return rc;
}

/* Every object of every bundle in the OASIS examples: no crash, sane values, known constants. */
static void test_shared_examples(void)
{
    static const char *want[] = {
        "223.166.0.0/15",
        "hugesoft.org",
        "001dd76872d80801692ff942308c64e6",
        "4c:0b:1d:19:74:86:a7:66:b4:1a:bf:40:27:21:76:28",
        "CN=WEBMAIL",
        "10.0.0.0",
        "www.webserver.dynssl.com",
        "98.126.148.114",
        "CBricksDoc",
        "domain autuo.xicp.net",
    };
    const char *data = t_shared_data();
    char dir[1024], path[2048];
    seen s = {0};
    size_t files = 0, objects = 0;
    if (!data) {
        printf("shared data not found, skipping the OASIS examples\n");
        return;
    }
    for (int sub = 0; sub < 2; sub++) {
        snprintf(dir, sizeof dir, "%s/stix2-json-schemas/examples%s", data,
                 sub ? "/threat-reports" : "");
        DIR *d = opendir(dir);
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL) {
            size_t nl = strlen(e->d_name);
            if (nl < 5 || strcmp(e->d_name + nl - 5, ".json") != 0)
                continue;
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            CHECK(extract_bundle(path, &s, &objects));
            files++;
        }
        if (d)
            closedir(d);
    }
    CHECK(files >= 7);
    CHECK(objects > 50);
    CHECK(!s.bad);
    CHECK(s.n < MAX_SEEN);
    for (size_t w = 0; w < sizeof want / sizeof want[0]; w++) {
        int found = 0;
        for (size_t i = 0; i < s.n; i++)
            found |= strcmp(s.v[i], want[w]) == 0;
        if (!found)
            fprintf(stderr, "not found in the OASIS examples: %s\n", want[w]);
        CHECK(found);
    }
    printf("OASIS examples: %zu files, %zu objects, %zu values\n", files, objects, s.calls);
    seen_free(&s);
}

int main(void)
{
    test_normalize_table();
    test_normalize_limits();
    test_extract_scos();
    test_extract_long();
    test_extract_observed_data();
    test_extract_patterns();
    test_extract_indicator_fields();
    test_shared_examples();
    return t_done();
}
