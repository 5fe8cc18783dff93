/*
 * bench/pattern.c - the pattern engine's throughput: many IOC patterns against a stream of
 * one-SCO observations.
 *
 * For each pattern count (1,000 and 100,000 single-comparison IOC patterns, a quarter each
 * ipv4-addr, domain-name, file SHA-256 and url, plus a fixed mix of 100 complex patterns: AND/OR
 * inside brackets, FOLLOWEDBY ... WITHIN, REPEATS ... WITHIN, MATCHES, ISSUBSET + LIKE) it
 * compiles the set, then feeds N observations (STIX 2.1 bundles of one observed-data and one SCO,
 * one second apart) of which 5% carry a value some IOC pattern names.  It prints compile
 * patterns/s, observations/s, pattern-observation pairs/s (patterns x observations / time), the
 * hits, and peak RSS.  Observations are pre-generated JSON text; the timing covers parsing them.
 *
 * Usage: bench_pattern [--quick]   N = 20,000 and 1,000,000 (about 16 s); --quick: 20,000 only.
 * Peak RSS is the process's high-water mark so far, pre-generated observation text included.
 * No assertions: this prints figures.
 */
#include "accord.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long peak_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* The i-th IOC value of a kind: 0 ipv4, 1 domain, 2 sha256, 3 url.  `salt` separates misses. */
static void ioc_value(int kind, uint64_t i, uint64_t salt, char *out, size_t cap)
{
    uint64_t h = (i + 1) * 0x9E3779B97F4A7C15ull ^ salt;
    switch (kind) {
    case 0:
        snprintf(out, cap, "%u.%u.%u.%u", (unsigned)(h >> 56) | 1, (unsigned)(h >> 48) & 255,
                 (unsigned)(h >> 40) & 255, (unsigned)(h >> 32) & 255);
        break;
    case 1:
        snprintf(out, cap, "h%016" PRIx64 ".example.com", h);
        break;
    case 2:
        snprintf(out, cap, "%016" PRIx64 "%016" PRIx64 "%016" PRIx64 "%016" PRIx64, h, h * 3,
                 h * 5, h * 7);
        break;
    default:
        snprintf(out, cap, "http://u%016" PRIx64 ".example.net/path/%" PRIu64, h, i);
        break;
    }
}

static const char *const kind_path[] = {"ipv4-addr:value", "domain-name:value",
                                        "file:hashes.'SHA-256'", "url:value"};

static int add_iocs(accord_pattern_set *set, size_t n, accord_error *err)
{
    char v[200], pat[320];
    for (size_t i = 0; i < n; i++) {
        int kind = (int)(i % 4);
        ioc_value(kind, i / 4, 0, v, sizeof v);
        int len = snprintf(pat, sizeof pat, "[%s = '%s']", kind_path[kind], v);
        if (accord_pattern_set_add(set, pat, (size_t)len, 0, i, err))
            return -1;
    }
    return 0;
}

static int add_complex(accord_pattern_set *set, size_t base, accord_error *err)
{
    char a[200], b[200], pat[800];
    for (size_t i = 0; i < 100; i++) {
        int len;
        ioc_value(0, i, 0, a, sizeof a);
        ioc_value(1, i, 0, b, sizeof b);
        switch (i % 5) {
        case 0:
            len = snprintf(pat, sizeof pat, "[ipv4-addr:value = '%s' OR domain-name:value = '%s']",
                           a, b);
            break;
        case 1:
            len = snprintf(pat, sizeof pat,
                           "([ipv4-addr:value = '%s'] FOLLOWEDBY [domain-name:value = '%s']) "
                           "WITHIN 300 SECONDS",
                           a, b);
            break;
        case 2:
            len = snprintf(pat, sizeof pat,
                           "[domain-name:value = '%s'] REPEATS 3 TIMES WITHIN 600 SECONDS", b);
            break;
        case 3:
            len = snprintf(pat, sizeof pat,
                           "[url:value MATCHES '^http://u0{3}%zx[0-9a-f]+\\\\.example\\\\.net/']",
                           i);
            break;
        default:
            len = snprintf(pat, sizeof pat,
                           "[ipv4-addr:value ISSUBSET '%zu.0.0.0/8'] AND "
                           "[domain-name:value LIKE 'h0%%.example.com']",
                           i + 1);
            break;
        }
        if (accord_pattern_set_add(set, pat, (size_t)len, 0, base + i, err))
            return -1;
    }
    return 0;
}

/* N observations as JSON lines; 5% name an IOC among the first npat patterns. */
static char **make_observations(size_t n, size_t npat)
{
    char **obs = calloc(n, sizeof *obs), v[200], ts[40], sco[400];
    for (size_t i = 0; obs && i < n; i++) {
        int kind = (int)(rng() % 4);
        int hit = rng() % 100 < 5;
        uint64_t k = hit ? rng() % (npat / 4) : rng();
        time_t t = (time_t)(1577836800 + i);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
        ioc_value(kind, k, hit ? 0 : 0x5A5A5A5A5A5A5A5Aull, v, sizeof v);
        if (kind == 2)
            snprintf(sco, sizeof sco,
                     "{\"type\":\"file\",\"id\":\"file--%zu\",\"hashes\":{\"SHA-256\":\"%s\"}}", i, v);
        else
            snprintf(sco, sizeof sco, "{\"type\":\"%s\",\"id\":\"x--%zu\",\"value\":\"%s\"}",
                     kind == 0 ? "ipv4-addr" : kind == 1 ? "domain-name" : "url", i, v);
        const char *id = strstr(sco, "\"id\":\"") + 6;
        size_t idlen = (size_t)(strchr(id, '"') - id);
        char line[1024];
        snprintf(line, sizeof line,
                 "{\"type\":\"bundle\",\"id\":\"bundle--%zu\",\"objects\":[%s,{\"type\":"
                 "\"observed-data\",\"id\":\"observed-data--%zu\",\"first_observed\":\"%s\","
                 "\"last_observed\":\"%s\",\"number_observed\":1,\"object_refs\":[\"%.*s\"]}]}",
                 i, sco, i, ts, ts, (int)idlen, id);
        obs[i] = strdup(line);
    }
    return obs;
}

static void count_hit(void *ud, uint64_t tag, size_t index)
{
    (void)tag;
    (void)index;
    ++*(uint64_t *)ud;
}

static int run(size_t npat, size_t nobs, int complex)
{
    accord_pattern_set *set = NULL;
    accord_pattern_matcher *m = NULL;
    accord_error err = {0};
    accord_pattern_stats st;
    uint64_t hits = 0;
    char **obs = make_observations(nobs, npat);
    double t0 = now(), t1, t2;
    size_t total;
    if (!obs || accord_pattern_set_new(&set) || add_iocs(set, npat, &err) ||
        (complex && add_complex(set, npat, &err)) || accord_pattern_set_build(set, &err) ||
        accord_pattern_matcher_new(set, &m)) {
        fprintf(stderr, "bench_pattern: setup failed: %s\n", err.msg);
        return 1;
    }
    total = accord_pattern_set_count(set);
    t1 = now();
    for (size_t i = 0; i < nobs; i++)
        if (accord_pattern_matcher_feed(m, obs[i], strlen(obs[i]), count_hit, &hits, &err)) {
            fprintf(stderr, "bench_pattern: feed failed: %s\n", err.msg);
            return 1;
        }
    t2 = now();
    accord_pattern_matcher_stats(m, &st);
    printf("patterns %7zu (%s)  observations %8zu  compile %10.0f patterns/s  "
           "%10.0f observations/s  %14.0f pairs/s  hits %6" PRIu64 "  candidates/obs %.2f  "
           "errors %" PRIu64 "  peak RSS %ld MiB\n",
           total, complex ? "IOC + 100 complex" : "IOC", nobs, (double)total / (t1 - t0),
           (double)nobs / (t2 - t1), (double)total * (double)nobs / (t2 - t1), hits,
           (double)st.candidates / (double)nobs, st.errors, peak_rss_kb() / 1024);
    accord_pattern_matcher_free(m);
    accord_pattern_set_free(set);
    for (size_t i = 0; i < nobs; i++)
        free(obs[i]);
    free(obs);
    return 0;
}

int main(int argc, char **argv)
{
    int full = !(argc > 1 && strcmp(argv[1], "--quick") == 0);
    static const size_t pats[] = {1000, 100000};
    size_t nobs[2] = {20000, 1000000};
    int rc = 0;
    printf("bench_pattern: one core, observations are STIX 2.1 bundles of one SCO (5%% hits)%s\n",
           full ? "" : "; --quick: 20,000 observations only");
    for (int o = 0; o < (full ? 2 : 1); o++)
        for (int p = 0; p < 2; p++) {
            rc |= run(pats[p], nobs[o], 0);
            rc |= run(pats[p], nobs[o], 1);
        }
    return rc;
}
