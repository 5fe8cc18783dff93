/*
 * bench/match.c - the matcher's speed: a deterministic generator of Zeek-style JSON telemetry
 * and of an indicator set, then compile time, MB/s and events/s with 1 and 2 threads, peak RSS.
 *
 * Indicators, in the proportions of issue 5 (10M: 4M IPv4, 1M IPv6, 100k CIDRs, 3M domains,
 * 1M URLs, 1M SHA-256), scaled to --indicators N (default 1,000,000; --10m for 10,000,000).
 * Each is one pattern text given to accord_snapshot_builder_add, so compile time covers the
 * pattern engine's parse, the recognition of simple patterns and the table builds.  The texts
 * are written in batches of 4,096 between the timed builder calls; their time is printed apart.
 *
 * Telemetry: --mb M megabytes (default 1024) of JSON lines of about 250 bytes, written to a file
 * in /tmp (deleted at the end) and read back through mmap, so the figure is for data in the page
 * cache: 40% conn, 25% dns, 20% http, 10% files, 5% ssl, one address in ten IPv6.  --hit P: the
 * share of events that carry an indicator value (default 0.01).  Matching covers extraction,
 * normalisation, lookups and collecting matches; not output formatting (the command adds that).
 * Threads take 4 MiB line-aligned chunks from a shared counter, each with its own matcher.
 *
 * --traffic N adds N network-traffic indicators, half a network and a port
 * (`dst_ref.value ISSUBSET 'a.b.c.0/24' AND dst_port = 443`), half a User-Agent LIKE
 * (`User-Agent LIKE '%evilbot-1f2e/%'`), and gives http events one of a few real user agents
 * (or, for a hit, a listed one) and conn events a port of a few.  With --engine those
 * indicators are written with their last comparison repeated (`... AND dst_port = 443 AND
 * dst_port = 443`): the same matches, but a form the fast tables do not take, so the pattern
 * engine evaluates them: the figure without the fast path.
 *
 * Usage: bench_match [--indicators N | --10m] [--mb M] [--hit P] [--threads-max T]
 *        [--traffic N [--engine]]
 *        bench_match --write FILE [--indicators N] [--mb M] [--hit P]   (telemetry only, kept;
 *                    with --write-indicators the indicators too: bench/gen-telemetry)
 *        bench_match --input FILE [--indicators N] ...   (match FILE, written by --write with the
 *                                                         same --indicators and --hit)
 *        --write-indicators FILE also writes the indicators as STIX JSON lines, for
 *        `accord match --indicators FILE`: the command's figure beside the bench's.
 * Indicators lie anywhere in the public IPv4 space (no private, documentation, multicast or
 * reserved addresses, as real feeds) and in 2000::/3; the fresh values of events lie anywhere
 * too, and a fresh IPv4 address that an address or network indicator lists is drawn again, so
 * that the hit rate is the one chosen: the events' fixed addresses (a resolver, a web server,
 * DNS answers) are documentation or private addresses no indicator lists.  An IPv4 hit is a
 * listed address or, in the networks' share, an address inside a listed network.
 *
 * Prints figures (wall and CPU time and the load average: the machine may be shared), for the
 * run and for each thread over its own run (its bytes and events over its own wall and CPU
 * time, not the total divided by the threads), no assertions; the realised hit rate (events with a match) is printed beside the planted one.
 */
#include "accord.h"
#include "bench.h"
#include "util/hugemem.h"

#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (4u << 20)

static uint64_t mix(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ull;
    k ^= k >> 33;
    return k;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static long peak_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024;
}

/* Memory on transparent huge pages (Linux), in MB, or -1 when unknown: the tables ask for them
 * (util/hugemem.c), and without them every probe also misses the TLB. */
static long huge_mb(void)
{
    long kb = hugemem_resident_kb();
    return kb < 0 ? -1 : kb / 1024;
}

/* ------------------------------------------------------------------------------------------ */
/* Values: value i of a kind, with a salt (0 for indicators, 1 for misses)                      */

enum { K_V4, K_V6, K_CIDR, K_DOM, K_URL, K_SHA, K_N };
static const double share[K_N] = {0.4, 0.1, 0.01, 0.3, 0.1, 0.1};
static const char *tlds[] = {"com", "net", "org", "info", "ru", "cn", "io", "xyz"};
static uint64_t traffic_n; /* --traffic */
static int engine_form;    /* --engine */
static const unsigned tports[] = {443, 8443, 4444, 80};
static const char *agents[] = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.2 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "curl/8.5.0",
    "python-requests/2.31.0",
    "Microsoft-CryptoAPI/10.0",
};

/* Addresses real feeds do not list: private, shared, loopback, link-local, documentation,
 * benchmarking, multicast and reserved space.  Indicators avoid them as real lists do; the
 * events' fixed addresses (a resolver, a web server, DNS answers) lie in them. */
static int bogon(uint32_t a)
{
    static const struct {
        uint32_t net;
        int len;
    } b[] = {{0x00000000u, 8},  {0x0A000000u, 8},  {0x64400000u, 10}, {0x7F000000u, 8},
             {0xA9FE0000u, 16}, {0xAC100000u, 12}, {0xC0000000u, 24}, {0xC0000200u, 24},
             {0xC0A80000u, 16}, {0xC6120000u, 15}, {0xC6336400u, 24}, {0xCB007100u, 24},
             {0xE0000000u, 3}};
    for (size_t k = 0; k < sizeof b / sizeof b[0]; k++)
        if ((a & ~(0xFFFFFFFFu >> b[k].len)) == b[k].net)
            return 1;
    return 0;
}

/* A public address from seed x (re-mixed until it is not a bogon). */
static uint32_t public4(uint64_t x)
{
    uint32_t a = (uint32_t)mix(x);
    while (bogon(a))
        a = (uint32_t)mix(a ^ x);
    return a;
}

/* IPv4 indicator i (salt 0) anywhere in the public space; a fresh address (salt 1) anywhere at
 * all, which the caller rejects when it is listed (miss4). */
static uint32_t v4a(uint64_t i, int salt)
{
    return salt ? (uint32_t)mix(i * 4 + 12) : public4(i * 4 + 11);
}

static void fmt4(uint32_t a, char *o, size_t n)
{
    snprintf(o, n, "%u.%u.%u.%u", a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255);
}

static void v4(uint64_t i, int salt, char *o, size_t n)
{
    fmt4(v4a(i, salt), o, n);
}

/* CIDR indicator i: a /16 to /28 anywhere in the public space. */
static uint32_t cidr(uint64_t i, int *len)
{
    *len = 16 + (int)(i % 13);
    return public4(i + 99) & ~(0xFFFFFFFFu >> *len);
}

/* IPv6 indicator i (salt 0) or a fresh address (salt 1): global unicast (2000::/3) as real
 * feeds and traffic are, half with a small interface id, half with a full one. */
static void v6(uint64_t i, int salt, char *o, size_t n)
{
    uint64_t h = mix(i * 4 + (uint64_t)salt + 22), l = mix(h);
    unsigned g0 = 0x2000u | (unsigned)(h >> 48 & 0x1FFF);
    if (l & 1)
        snprintf(o, n, "%x:%x:%x:%x::%x", g0, (unsigned)(h >> 32 & 0xFFFF),
                 (unsigned)(h >> 16 & 0xFFFF), (unsigned)(h & 0xFFFF),
                 (unsigned)(l >> 48 & 0xFFFF) | 1u);
    else
        snprintf(o, n, "%x:%x:%x:%x:%x:%x:%x:%x", g0, (unsigned)(h >> 32 & 0xFFFF),
                 (unsigned)(h >> 16 & 0xFFFF), (unsigned)(h & 0xFFFF),
                 (unsigned)(l >> 48 & 0xFFFF), (unsigned)(l >> 32 & 0xFFFF),
                 (unsigned)(l >> 16 & 0xFFFF), (unsigned)(l & 0xFFFF));
}

static void dom(uint64_t i, int salt, char *o, size_t n)
{
    uint64_t h = mix(i * 4 + (uint64_t)salt + 33);
    snprintf(o, n, "%s%08" PRIx64 ".%s", salt ? "www.m" : "x", (uint64_t)(h & 0xFFFFFFFFu),
             tlds[h >> 61]);
}

static void sha(uint64_t i, int salt, char *o, size_t n)
{
    uint64_t a = mix(i * 4 + (uint64_t)salt + 44), b = mix(a), c = mix(b), d = mix(c);
    snprintf(o, n, "%016" PRIx64 "%016" PRIx64 "%016" PRIx64 "%016" PRIx64, a, b, c, d);
}

static void path(uint64_t i, int salt, char *o, size_t n)
{
    snprintf(o, n, "/%s/%06" PRIx64 ".php", salt ? "static" : "gate",
             (uint64_t)(mix(i + 55) & 0xFFFFFFu));
}

/* ------------------------------------------------------------------------------------------ */
/* Indicators                                                                                   */

/* The network of traffic indicator i (in the public space, like the address indicators). */
static uint32_t tnet(uint64_t i, int *len)
{
    *len = 20 + (int)(i % 9);
    return public4(i + 77) & ~(0xFFFFFFFFu >> *len);
}

static FILE *ind_out; /* --write-indicators: each indicator also as a STIX JSON line */

/*
 * The indicators' texts are written into a batch first and given to the builder a batch at a
 * time, so the compile figures time the builder alone, not this program's snprintf.
 */
enum { BATCH_N = 4096 };
typedef struct ind_text {
    char id[64], pat[512];
    const char *name;
} ind_text;
static ind_text batch[BATCH_N];
static size_t batch_n;
static double add_secs, add_cpu, gen_secs; /* builder wall and CPU; the texts' writing */

/* Gives the batch to b (and to ind_out): patterns hold no '"' or '\\', so no escaping. */
static void batch_flush(accord_snapshot_builder *b)
{
    double t0 = now_s(), c0 = cpu_s();
    for (size_t i = 0; i < batch_n; i++)
        if (accord_snapshot_builder_add(b, batch[i].id, batch[i].name, batch[i].pat, 0, 0,
                                        NULL) != 0)
            fprintf(stderr, "bad pattern %s\n", batch[i].pat);
    add_secs += now_s() - t0;
    add_cpu += cpu_s() - c0;
    for (size_t i = 0; ind_out && i < batch_n; i++)
        fprintf(ind_out,
                "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"%s\",\"created\":"
                "\"2024-01-01T00:00:00.000Z\",\"modified\":\"2024-01-01T00:00:00.000Z\",\"name\":"
                "\"%s\",\"pattern\":\"%s\",\"pattern_type\":\"stix\",\"valid_from\":"
                "\"2024-01-01T00:00:00Z\"}\n",
                batch[i].id, batch[i].name, batch[i].pat);
    batch_n = 0;
}

/* The next slot of the batch, given to b first when the batch is full. */
static ind_text *batch_next(accord_snapshot_builder *b, const char *name)
{
    if (batch_n == BATCH_N)
        batch_flush(b);
    batch[batch_n].name = name;
    return &batch[batch_n++];
}

/* Traffic indicator i (--traffic): a network and a port, or a User-Agent LIKE. */
static void traffic_pattern(uint64_t i, char *pat, size_t n)
{
    static const char ua[] = "network-traffic:extensions.'http-request-ext'.request_header."
                             "'User-Agent'";
    if (i % 2 == 0) {
        int len;
        uint32_t a = tnet(i / 2, &len);
        unsigned port = tports[i / 2 % 4];
        snprintf(pat, n,
                 engine_form ? "[network-traffic:dst_ref.value ISSUBSET '%u.%u.%u.%u/%d' AND "
                               "network-traffic:dst_port = %u AND network-traffic:dst_port = %u]"
                             : "[network-traffic:dst_ref.value ISSUBSET '%u.%u.%u.%u/%d' AND "
                               "network-traffic:dst_port = %u]",
                 a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255, len, port, port);
    } else {
        char like[64];
        uint64_t h = mix(i / 2 + 88);
        if (i / 2 % 50 == 7) /* a few with '_' and no long literal run */
            snprintf(like, sizeof like, "%%b_t/%u._%%", (unsigned)(h % 10));
        else
            snprintf(like, sizeof like, "%%evilbot-%06x/%%", (unsigned)(h & 0xFFFFFF));
        if (engine_form)
            snprintf(pat, n, "[%s LIKE '%s' AND %s LIKE '%s']", ua, like, ua, like);
        else
            snprintf(pat, n, "[%s LIKE '%s']", ua, like);
    }
}

static void add_traffic(accord_snapshot_builder *b)
{
    for (uint64_t i = 0; i < traffic_n; i++) {
        ind_text *t = batch_next(b, "traffic");
        snprintf(t->id, sizeof t->id, "indicator--%08x-0000-4000-8000-%012" PRIx64, 99u, i);
        traffic_pattern(i, t->pat, sizeof t->pat);
    }
}

/*
 * The indicator set, compiled.  *secs and *cpu: the builder's wall and CPU time (its adds and
 * the build); the time spent writing the texts is kept in gen_secs.
 */
static accord_snapshot *build_indicators(uint64_t total, double *secs, double *cpu)
{
    accord_snapshot_builder *b = NULL;
    accord_snapshot *s = NULL;
    double t0 = now_s(), tb, cb;
    char v[200], p[64];
    add_secs = add_cpu = 0;
    accord_snapshot_builder_new(0, &b);
    for (int k = 0; k < K_N; k++) {
        uint64_t count = (uint64_t)(share[k] * (double)total);
        for (uint64_t i = 0; i < count; i++) {
            ind_text *t = batch_next(b, (i % 1000) ? "feed" : "feed sample");
            char *pat = t->pat;
            size_t np = sizeof t->pat;
            snprintf(t->id, sizeof t->id, "indicator--%08" PRIx64 "-0000-4000-8000-%012" PRIx64,
                     (uint64_t)k, i);
            switch (k) {
            case K_V4:
                v4(i, 0, v, sizeof v);
                snprintf(pat, np, "[ipv4-addr:value = '%s']", v);
                break;
            case K_V6:
                v6(i, 0, v, sizeof v);
                snprintf(pat, np, "[ipv6-addr:value = '%s']", v);
                break;
            case K_CIDR: {
                int len;
                uint32_t a = cidr(i, &len);
                snprintf(pat, np, "[ipv4-addr:value ISSUBSET '%u.%u.%u.%u/%d']", a >> 24,
                         a >> 16 & 255, a >> 8 & 255, a & 255, len);
                break;
            }
            case K_DOM:
                dom(i, 0, v, sizeof v);
                snprintf(pat, np,
                         i % 10 ? "[domain-name:value = '%s']" : "[domain-name:value LIKE '%%.%s']",
                         v);
                break;
            case K_URL:
                dom(i, 0, v, sizeof v);
                path(i, 0, p, sizeof p);
                snprintf(pat, np, "[url:value = 'http://%s%s']", v, p);
                break;
            default:
                sha(i, 0, v, sizeof v);
                snprintf(pat, np, "[file:hashes.'SHA-256' = '%s']", v);
                break;
            }
        }
    }
    add_traffic(b);
    batch_flush(b);
    tb = now_s();
    cb = cpu_s();
    if (accord_snapshot_build(b, &s, NULL) != 0)
        s = NULL;
    accord_snapshot_builder_free(b);
    *secs = add_secs + (now_s() - tb);
    *cpu = add_cpu + (cpu_s() - cb);
    gen_secs = (now_s() - t0) - *secs;
    return s;
}

/* ------------------------------------------------------------------------------------------ */
/* Telemetry                                                                                    */

/* What the indicators list, to reject fresh addresses that would match (so the chosen hit rate
 * holds with indicators and misses over the whole space): the IPv4 addresses in an
 * open-addressing set (0, a bogon, marks an empty slot), the networks of the CIDR and traffic
 * indicators as sorted, merged ranges. */
static uint32_t *lset;
static size_t lmask;
typedef struct range {
    uint32_t lo, hi;
} range;
static range *ranges;
static size_t nranges;

static int range_cmp(const void *a, const void *b)
{
    const range *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static void listed_build(uint64_t total)
{
    uint64_t n4 = (uint64_t)(share[K_V4] * (double)total);
    uint64_t nc = (uint64_t)(share[K_CIDR] * (double)total), nt = traffic_n / 2 + 1;
    size_t cap = 16;
    while (cap < 2 * n4)
        cap <<= 1;
    lset = calloc(cap, sizeof *lset);
    ranges = malloc((nc + nt) * sizeof *ranges);
    if (!lset || !ranges) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    lmask = cap - 1;
    for (uint64_t i = 0; i < n4; i++) {
        uint32_t a = v4a(i, 0);
        size_t h = (size_t)mix(a) & lmask;
        while (lset[h] && lset[h] != a)
            h = (h + 1) & lmask;
        lset[h] = a;
    }
    for (uint64_t i = 0; i < nc; i++) {
        int len;
        uint32_t a = cidr(i, &len);
        ranges[nranges++] = (range){a, a | (0xFFFFFFFFu >> len)};
    }
    for (uint64_t i = 0; traffic_n >= 2 && i < traffic_n / 2; i++) {
        int len;
        uint32_t a = tnet(i, &len);
        ranges[nranges++] = (range){a, a | (0xFFFFFFFFu >> len)};
    }
    qsort(ranges, nranges, sizeof *ranges, range_cmp);
    size_t m = 0;
    for (size_t i = 0; i < nranges; i++) {
        if (m && ranges[i].lo <= ranges[m - 1].hi) {
            if (ranges[i].hi > ranges[m - 1].hi)
                ranges[m - 1].hi = ranges[i].hi;
        } else
            ranges[m++] = ranges[i];
    }
    nranges = m;
}

static int listed(uint32_t a)
{
    size_t h = (size_t)mix(a) & lmask, lo = 0, hi = nranges;
    for (; lset[h]; h = (h + 1) & lmask)
        if (lset[h] == a)
            return 1;
    while (lo < hi) { /* the last range starting at or below a */
        size_t mid = lo + (hi - lo) / 2;
        if (ranges[mid].lo <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 && a <= ranges[lo - 1].hi;
}

static void listed_free(void)
{
    free(lset);
    free(ranges);
    lset = NULL;
    ranges = NULL;
    nranges = 0;
}

/* A value of kind k for an event: an indicator's (hit) or a fresh one that no indicator lists.
 * An IPv4 hit is an address of a listed network in the networks' share of the IPv4 indicators. */
static void value(int k, uint64_t total, int hit, char *o, size_t n)
{
    uint64_t count = (uint64_t)(share[k] * (double)total);
    uint64_t i = hit ? rng() % (count ? count : 1) : rng();
    switch (k) {
    case K_V4: {
        uint64_t nc = (uint64_t)(share[K_CIDR] * (double)total);
        if (hit && nc &&
            (double)(rng() % 1000000) < 1e6 * share[K_CIDR] / (share[K_V4] + share[K_CIDR])) {
            int len;
            uint32_t a = cidr(rng() % nc, &len);
            fmt4(a | ((uint32_t)rng() & (0xFFFFFFFFu >> len)), o, n);
        } else if (hit)
            v4(i, 0, o, n);
        else {
            uint32_t a = v4a(i, 1);
            while (listed(a))
                a = v4a(rng(), 1);
            fmt4(a, o, n);
        }
        break;
    }
    case K_V6:
        v6(i, !hit, o, n);
        break;
    case K_DOM: /* a hit on a `LIKE '%.x'` indicator (one in ten) is a name under it */
        if (hit && i % 10 == 0 && n > 4) {
            memcpy(o, "www.", 4);
            dom(i, 0, o + 4, n - 4);
        } else
            dom(i, !hit, o, n);
        break;
    default:
        sha(i, !hit, o, n);
        break;
    }
}

static int gen_line(char *o, size_t cap, uint64_t total, double hit_rate, uint64_t *hits)
{
    int type = (int)(rng() % 100), hit = (double)(rng() % 1000000) < hit_rate * 1e6;
    int v6e = rng() % 10 == 0, which = (int)(rng() % 2);
    char src[64], dst[64], a[200], b[64], uid[20];
    double ts = 1700000000.0 + (double)(rng() % 86400000) / 1000.0;
    snprintf(uid, sizeof uid, "C%016" PRIx64, rng());
    value(v6e ? K_V6 : K_V4, total, 0, src, sizeof src);
    value(v6e ? K_V6 : K_V4, total, hit && type < 40 && which, dst, sizeof dst);
    if (hit && type < 40 && !which)
        value(v6e ? K_V6 : K_V4, total, 1, src, sizeof src);
    *hits += (uint64_t)hit;
    unsigned rport = 443;
    char agent[200];
    snprintf(agent, sizeof agent, "Mozilla/5.0");
    if (traffic_n) { /* ports of a few; a hit is a traffic indicator's network and port */
        uint64_t t = rng();
        rport = tports[t % 4];
        snprintf(agent, sizeof agent, "%s", agents[t % 6]);
        if (hit && type < 40 && which && traffic_n >= 2 && t % 3 == 0) {
            int len;
            uint64_t i = rng() % (traffic_n / 2);
            uint32_t na = tnet(i, &len) | ((uint32_t)rng() & (0xFFFFFFFFu >> len));
            rport = tports[i % 4];
            snprintf(dst, sizeof dst, "%u.%u.%u.%u", na >> 24, na >> 16 & 255, na >> 8 & 255,
                     na & 255);
        } else if (hit && type >= 65 && type < 85 && traffic_n >= 2 && t % 3 == 0) {
            uint64_t i = rng() % (traffic_n / 2);
            snprintf(agent, sizeof agent, "Mozilla/5.0 evilbot-%06x/2.1",
                     (unsigned)(mix(i + 88) & 0xFFFFFF));
        }
    }
    if (type < 40)
        return snprintf(o, cap,
                        "{\"ts\":%.6f,\"uid\":\"%s\",\"id.orig_h\":\"%s\",\"id.orig_p\":%u,\"id."
                        "resp_h\":\"%s\",\"id.resp_p\":%u,\"proto\":\"tcp\",\"service\":\"ssl\","
                        "\"duration\":%.6f,\"orig_bytes\":%u,\"resp_bytes\":%u,\"conn_state\":"
                        "\"SF\",\"history\":\"ShADadFf\",\"orig_pkts\":%u}\n",
                        ts, uid, src, (unsigned)(rng() % 60000 + 1024), dst, rport,
                        (double)(rng() % 100000) / 1000.0, (unsigned)(rng() % 100000),
                        (unsigned)(rng() % 1000000), (unsigned)(rng() % 100));
    if (type < 65) {
        value(K_DOM, total, hit, a, sizeof a);
        return snprintf(o, cap,
                        "{\"ts\":%.6f,\"uid\":\"%s\",\"id.orig_h\":\"%s\",\"id.orig_p\":%u,\"id."
                        "resp_h\":\"10.0.0.53\",\"id.resp_p\":53,\"proto\":\"udp\",\"trans_id\":%u,"
                        "\"query\":\"%s\",\"qtype_name\":\"A\",\"rcode_name\":\"NOERROR\","
                        "\"answers\":[\"203.0.113.%u\"],\"TTLs\":[300.0]}\n",
                        ts, uid, src, (unsigned)(rng() % 60000 + 1024), (unsigned)(rng() % 65536),
                        a, (unsigned)(rng() % 256));
    }
    if (type < 85) {
        uint64_t count = (uint64_t)(share[K_URL] * (double)total), i = hit ? rng() % count : rng();
        dom(i, !hit, a, sizeof a);
        path(i, !hit, b, sizeof b);
        return snprintf(o, cap,
                        "{\"ts\":%.6f,\"uid\":\"%s\",\"id.orig_h\":\"%s\",\"id.orig_p\":%u,\"id."
                        "resp_h\":\"198.51.100.7\",\"id.resp_p\":80,\"method\":\"GET\",\"host\":\"%"
                        "s\",\"uri\":\"%s\",\"user_agent\":\"%s\",\"status_code\":200}\n",
                        ts, uid, src, (unsigned)(rng() % 60000 + 1024), a, b, agent);
    }
    if (type < 95) {
        value(K_SHA, total, hit, a, sizeof a);
        return snprintf(
            o, cap,
            "{\"ts\":%.6f,\"fuid\":\"F%s\",\"tx_hosts\":[\"%s\"],\"source\":\"HTTP\",\"mime_type\":"
            "\"application/x-dosexec\",\"seen_bytes\":%u,\"sha256\":\"%s\"}\n",
            ts, uid + 1, dst, (unsigned)(rng() % 1000000), a);
    }
    value(K_DOM, total, hit, a, sizeof a);
    return snprintf(
        o, cap,
        "{\"ts\":%.6f,\"uid\":\"%s\",\"id.orig_h\":\"%s\",\"id.orig_p\":%u,\"id.resp_h\":\"%s\","
        "\"id.resp_p\":443,\"version\":\"TLSv13\",\"server_name\":\"%s\",\"established\":true}\n",
        ts, uid, src, (unsigned)(rng() % 60000 + 1024), dst, a);
}

static int gen_file(const char *path, uint64_t bytes, uint64_t total, double hit_rate,
                    uint64_t *lines, uint64_t *hits)
{
    FILE *f = fopen(path, "w");
    char line[1024];
    uint64_t written = 0;
    if (!f)
        return -1;
    listed_build(total);
    setvbuf(f, NULL, _IOFBF, 1 << 20);
    while (written < bytes) {
        int n = gen_line(line, sizeof line, total, hit_rate, hits);
        fwrite(line, 1, (size_t)n, f);
        written += (uint64_t)n;
        (*lines)++;
    }
    listed_free();
    return fclose(f);
}

/* ------------------------------------------------------------------------------------------ */
/* Matching                                                                                     */

/* One thread's own figures: its bytes and events, from its start to its end. */
typedef struct tfig {
    uint64_t bytes, events;
    double secs, cpu;
} tfig;

typedef struct job {
    accord_snapshot *s;
    const char *data;
    size_t len;
    atomic_size_t next;
    atomic_uint_fast64_t matches, events, matched; /* matched: events with a match */
    atomic_uint_fast64_t cpu_ns; /* the workers' CPU time */
    atomic_uint nth;             /* the next thread's index into fig */
    tfig fig[16];
} job;

static void *worker(void *arg)
{
    job *j = arg;
    accord_matcher *m = NULL;
    accord_match mt;
    accord_matcher_stats st;
    uint64_t matches = 0, matched = 0, bytes = 0;
    double c0 = thread_cpu_s(), w0 = now_s();
    tfig *fig = &j->fig[atomic_fetch_add(&j->nth, 1)];
    accord_matcher_new(j->s, &m);
    for (;;) {
        size_t start = atomic_fetch_add(&j->next, CHUNK), end;
        if (start >= j->len)
            break;
        end = start + CHUNK < j->len ? start + CHUNK : j->len;
        /* chunks own the lines that start inside them */
        if (start > 0)
            while (start < end && j->data[start - 1] != '\n')
                start++;
        while (end < j->len && j->data[end - 1] != '\n')
            end++;
        if (start >= end)
            continue;
        accord_matcher_match_lines(m, j->data + start, end - start, 0);
        bytes += end - start;
        uint64_t last = 0;
        while (accord_matcher_next(m, &mt) == 1) {
            matches++;
            matched += mt.line != last;
            last = mt.line;
        }
    }
    accord_matcher_stats_get(m, &st);
    atomic_fetch_add(&j->matches, matches);
    atomic_fetch_add(&j->matched, matched);
    atomic_fetch_add(&j->events, st.events);
    accord_matcher_free(m);
    *fig = (tfig){bytes, st.events, now_s() - w0, thread_cpu_s() - c0};
    atomic_fetch_add(&j->cpu_ns, (uint64_t)(fig->cpu * 1e9));
    return NULL;
}

static void run(accord_snapshot *s, const char *data, size_t len, unsigned threads)
{
    job j = {.s = s, .data = data, .len = len};
    pthread_t t[16];
    double t0 = now_s(), secs, cpu;
    atomic_init(&j.next, 0);
    atomic_init(&j.cpu_ns, 0);
    atomic_init(&j.matches, 0);
    atomic_init(&j.events, 0);
    atomic_init(&j.matched, 0);
    atomic_init(&j.nth, 0);
    for (unsigned i = 0; i < threads; i++)
        pthread_create(&t[i], NULL, worker, &j);
    for (unsigned i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    secs = now_s() - t0;
    cpu = (double)atomic_load(&j.cpu_ns) / 1e9;
    uint64_t ev = atomic_load(&j.events), hit = atomic_load(&j.matched);
    double load[3] = {0, 0, 0};
    if (getloadavg(load, 3) < 1)
        load[0] = -1;
    printf("  %u thread%s: %.2f s, %.0f MB/s, %.2f M events/s in total, %" PRIu64
           " matches in %" PRIu64 " events (realised hit rate %.3f%%), peak RSS %ld MB; CPU %.2f "
           "s: %.0f MB per CPU second; load average %.2f\n",
           threads, threads > 1 ? "s" : " ", secs, (double)len / 1e6 / secs,
           (double)ev / 1e6 / secs,
           (uint64_t)atomic_load(&j.matches), hit, 100.0 * (double)hit / (double)(ev ? ev : 1),
           peak_rss_mb(), cpu, (double)len / 1e6 / cpu, load[0]);
    for (unsigned i = 0; i < threads; i++) { /* each thread measured over its own run */
        const tfig *f = &j.fig[i];
        printf("    thread %u: %.0f MB, %.2f M events in %.2f s: %.0f MB/s, %.2f M events/s; CPU "
               "%.2f s: %.0f MB, %.2f M events per CPU second\n",
               i + 1, (double)f->bytes / 1e6, (double)f->events / 1e6, f->secs,
               (double)f->bytes / 1e6 / f->secs, (double)f->events / 1e6 / f->secs, f->cpu,
               (double)f->bytes / 1e6 / f->cpu, (double)f->events / 1e6 / f->cpu);
    }
    fflush(stdout);
}

int main(int argc, char **argv)
{
    uint64_t total = 1000000, mb = 1024, lines = 0, hits = 0;
    double hit_rate = 0.01, csecs, ccpu;
    unsigned tmax = 2;
    char path[] = "/tmp/accord-bench-match-XXXXXX";
    const char *write_to = NULL, *input = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--10m"))
            total = 10000000;
        else if (!strcmp(argv[i], "--indicators") && i + 1 < argc)
            total = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--mb") && i + 1 < argc)
            mb = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--hit") && i + 1 < argc)
            hit_rate = strtod(argv[++i], NULL);
        else if (!strcmp(argv[i], "--write") && i + 1 < argc)
            write_to = argv[++i];
        else if (!strcmp(argv[i], "--input") && i + 1 < argc)
            input = argv[++i];
        else if (!strcmp(argv[i], "--write-indicators") && i + 1 < argc) {
            if (!(ind_out = fopen(argv[++i], "w"))) {
                perror(argv[i]);
                return 1;
            }
        }
        else if (!strcmp(argv[i], "--threads-max") && i + 1 < argc)
            tmax = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--traffic") && i + 1 < argc)
            traffic_n = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--engine"))
            engine_form = 1;
        else {
            fprintf(stderr, "usage: bench_match [--indicators N | --10m] [--mb M] [--hit P] "
                            "[--threads-max T] [--traffic N [--engine]] [--write FILE | --input FILE] "
                            "[--write-indicators FILE]\n");
            return 2;
        }
    }
    if (tmax < 1 || tmax > 16)
        tmax = 2;
    if (write_to && ind_out) { /* the indicators too (bench/gen-telemetry) */
        accord_snapshot *w = build_indicators(total, &csecs, &ccpu);
        accord_snapshot_unref(w);
        if (!w || fclose(ind_out) != 0)
            return 1;
    }
    if (write_to)
        return gen_file(write_to, mb << 20, total, hit_rate, &lines, &hits) != 0;
    accord_snapshot *s = build_indicators(total, &csecs, &ccpu);
    if (ind_out && fclose(ind_out) != 0)
        return 1;
    if (!s)
        return 1;
    accord_snapshot_stats st;
    accord_snapshot_stats_get(s, &st);
    printf("indicators: %" PRIu64 " compiled in %.2f s (the tables built in %.2f s), %.2f CPU s "
           "(%.0f/s; their texts written apart in %.2f s); tables %.1f MB (%.1f bytes per "
           "indicator), %ld MB on huge pages; peak RSS %ld MB\n",
           st.indicators, csecs, st.build_seconds, ccpu, (double)st.indicators / csecs, gen_secs,
           (double)st.memory / 1e6,
           (double)st.memory / (double)(st.indicators ? st.indicators : 1), huge_mb(),
           peak_rss_mb());
    fflush(stdout);
    printf("  ipv4 %" PRIu64 ", ipv4 prefixes %" PRIu64 ", ipv6 %" PRIu64 ", domains %" PRIu64
           " + suffixes %" PRIu64 ", urls %" PRIu64 ", digests %" PRIu64 "\n",
           st.ipv4, st.ipv4_prefixes, st.ipv6, st.domains, st.domain_suffixes, st.urls, st.hashes);
    if (traffic_n)
        printf("  traffic: %" PRIu64 " network-traffic keys, %" PRIu64
               " user-agent patterns, %" PRIu64 " indicators for the pattern engine\n",
               st.ports, st.user_agent_patterns, st.complex);
    double t0 = now_s();
    int fd;
    if (!input) {
        if ((fd = mkstemp(path)) < 0)
            return 1;
        close(fd);
        if (gen_file(path, mb << 20, total, hit_rate, &lines, &hits) != 0) {
            unlink(path);
            return 1;
        }
    }
    fd = open(input ? input : path, O_RDONLY);
    if (fd < 0)
        return 1;
    off_t len = lseek(fd, 0, SEEK_END);
    const char *data = mmap(NULL, (size_t)len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    close(fd);
    if (!input)
        unlink(path); /* the mapping keeps the data; nothing is left behind */
    if (data == MAP_FAILED)
        return 1;
    if (input)
        printf("telemetry: %.0f MB from %s (written with the same --indicators and --hit?)\n",
               (double)len / 1e6, input);
    else
        printf("telemetry: %.0f MB, %" PRIu64 " lines (%.0f bytes/line), %" PRIu64
               " with an indicator value (%.2f%%), generated in %.1f s\n",
               (double)len / 1e6, lines, (double)len / (double)lines, hits,
               100.0 * (double)hits / (double)lines, now_s() - t0);
    madvise((void *)data, (size_t)len, MADV_SEQUENTIAL);
    for (unsigned t = 1; t <= tmax; t++)
        run(s, data, (size_t)len, t);
    munmap((void *)data, (size_t)len);
    accord_snapshot_unref(s);
    return 0;
}
