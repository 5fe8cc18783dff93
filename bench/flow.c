/*
 * bench/flow.c - flow records and dnstap messages per second per core, and the UDP collector.
 *
 *   1. decode only: generated IPFIX messages (20 records of IPv4 5-tuple, counters and times
 *      each, one template) through the template engine, records counted by the callback;
 *   2. decode + match: the same against a snapshot of --indicators N (default 1,000,000; --10m
 *      for 10,000,000: 60% IPv4, 10% IPv6, 1% IPv4 CIDRs, 29% domain names, one in ten of them
 *      LIKE '%.name'), with --hit P of the records (default 0.01) carrying an indicator address;
 *   3. dnstap decode + match: Frame Streams frames of CLIENT_QUERY messages (one question each,
 *      --hit P of them for an indicator's domain) against the same snapshot;
 *   4. the UDP collector: the accord binary beside this program runs `match --listen-flows` on
 *      127.0.0.1 with --collector-indicators N indicators (default 10,000), this program sends
 *      --collector-records R records (default 2,000,000) as fast as sendmmsg goes, and the
 *      collector's own report gives the records it decoded and the kernel's drop count.
 *
 * CPU seconds (this process's, user + system) are printed beside wall seconds: the machine may
 * be shared.  Prints figures, no assertions.
 *
 * With --complex N, N pattern-engine indicators (address, port and protocol together) are added;
 * the decode + match figures are then given twice: with the prefilter of pattern-engine
 * indicators (a record goes to the engine only when it carries one of their addresses) and
 * without it (every record is an observation for the engine, as before the prefilter).
 *
 * Usage: bench_flow [--indicators N | --10m] [--records R] [--hit P] [--collector-records R]
 *                   [--collector-indicators N] [--no-collector] [--complex N] [--no-dnstap]
 */
#include "accord.h"
#include "dnstap.h"
#include "flow.h"
#include "flow_match.h"

#include "../tests/unit/dnstapgen.h"
#include "../tests/unit/flowgen.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PER_MSG 20

static uint64_t mix(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ull;
    k ^= k >> 33;
    return k;
}

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Indicator i of kind: IPv4 addresses are 10.x.y.z spread by mix(), never 10.255.x.x, which the
 * traffic uses for misses. */
static uint32_t ind_v4(uint64_t i)
{
    return 0x0a000000u | (uint32_t)(mix(i) % 0xfeffffu);
}
static void ind_domain(uint64_t i, char *out, size_t cap)
{
    snprintf(out, cap, "h%" PRIx64 ".example%u.com", (uint64_t)(mix(i) & 0xffffffffffull), (unsigned)(i % 97));
}

typedef struct sizes {
    uint64_t v4, v6, cidr, dom;
} sizes;

static sizes split(uint64_t total)
{
    sizes s = {total * 60 / 100, total * 10 / 100, total / 100, 0};
    s.dom = total - s.v4 - s.v6 - s.cidr;
    return s;
}

static int add(accord_snapshot_builder *b, uint64_t n, const char *pat)
{
    char id[80];
    snprintf(id, sizeof id, "indicator--00000000-0000-4000-8000-%012" PRIx64, n);
    return accord_snapshot_builder_add(b, id, "bench", pat, 0, 0, NULL);
}

/* --complex N: that many pattern-engine indicators (address and port together) besides */
static uint64_t n_complex;

static accord_snapshot *make_snapshot(uint64_t total, FILE *json)
{
    accord_snapshot_builder *b = NULL;
    accord_snapshot *s = NULL;
    sizes z = split(total);
    char pat[300], d[200];
    uint64_t n = 0;
    if (!json && accord_snapshot_builder_new(0, &b) != 0)
        return NULL;
    for (uint64_t i = 0; i < z.v4; i++, n++) {
        uint32_t a = ind_v4(i);
        snprintf(pat, sizeof pat, "[ipv4-addr:value = '%u.%u.%u.%u']", a >> 24, a >> 16 & 255,
                 a >> 8 & 255, a & 255);
        if (json)
            fprintf(json,
                    "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--00000000-"
                    "0000-4000-8000-%012" PRIx64 "\",\"created\":\"2024-01-01T00:00:00.000Z\","
                    "\"modified\":\"2024-01-01T00:00:00.000Z\",\"pattern\":\"%s\",\"pattern_type\""
                    ":\"stix\",\"valid_from\":\"2000-01-01T00:00:00Z\"}\n",
                    n, pat);
        else
            add(b, n, pat);
    }
    if (json)
        return NULL;
    for (uint64_t i = 0; i < z.v6; i++, n++) {
        snprintf(pat, sizeof pat, "[ipv6-addr:value = '2001:db8:%x:%x::%x']",
                 (unsigned)(mix(i) & 0xffff), (unsigned)(mix(i) >> 16 & 0xffff), (unsigned)(i & 0xffff));
        add(b, n, pat);
    }
    for (uint64_t i = 0; i < z.cidr; i++, n++) {
        uint32_t a = 0x80000000u | (uint32_t)mix(i + 7);
        int len = 16 + (int)(i % 13);
        a &= ~(0xffffffffu >> len);
        snprintf(pat, sizeof pat, "[ipv4-addr:value ISSUBSET '%u.%u.%u.%u/%d']", a >> 24,
                 a >> 16 & 255, a >> 8 & 255, a & 255, len);
        add(b, n, pat);
    }
    for (uint64_t i = 0; i < z.dom; i++, n++) {
        ind_domain(i, d, sizeof d);
        snprintf(pat, sizeof pat,
                 i % 10 ? "[domain-name:value = '%s']" : "[domain-name:value LIKE '%%.%s']", d);
        add(b, n, pat);
    }
    for (uint64_t i = 0; i < n_complex; i++, n++) {
        uint32_t a = ind_v4(i);
        snprintf(pat, sizeof pat,
                 "[network-traffic:dst_ref.value = '%u.%u.%u.%u' AND network-traffic:dst_port = "
                 "%u AND network-traffic:protocols[*] = 'tcp']",
                 a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255, 1024 + (unsigned)(i % 60000));
        add(b, n, pat);
    }
    if (accord_snapshot_build(b, &s, NULL) != 0)
        s = NULL;
    accord_snapshot_builder_free(b);
    return s;
}

/* ------------------------------------------------------------------------------------------ */
/* Generated IPFIX                                                                              */

typedef struct msgs {
    uint8_t *p;
    size_t *off, n, len;
} msgs;

/* n_records records in messages of PER_MSG, the template in the first; hit share of the
 * destinations are indicator addresses (of the first v4_count). */
static msgs make_ipfix(uint64_t n_records, double hit, uint64_t v4_count)
{
    msgs m = {0};
    size_t nmsg = (size_t)((n_records + PER_MSG - 1) / PER_MSG);
    fgen *g = malloc(sizeof *g);
    m.p = malloc(nmsg * (16 + 8 + FG_V4_N * 4 + 4 + PER_MSG * FG_V4_LEN));
    m.off = malloc((nmsg + 1) * sizeof *m.off);
    uint64_t r = 0, seed = 1;
    for (size_t i = 0; i < nmsg; i++) {
        fg_ipfix(g, 1700000000u + (uint32_t)(i / 1000), (uint32_t)r, 1);
        if (i == 0) {
            fg_set(g, 2);
            fg_template(g, 256, FG_V4_N, fg_v4_fields);
            fg_end_set(g);
        }
        fg_set(g, 256);
        for (int k = 0; k < PER_MSG; k++, r++) {
            seed = mix(seed + r);
            int is_hit = (double)(seed % 1000000) < hit * 1e6;
            uint32_t dst = is_hit ? ind_v4(seed % v4_count) : 0x0aff0000u | (uint32_t)(seed & 0xffff);
            fg_v4_record(g, 0x64400000u | (uint32_t)(seed >> 40 & 0x3fffff), dst,
                         (unsigned)(seed >> 16 & 0xffff), 443, 6, 1500, 3,
                         1700000000000ull + r);
        }
        fg_end_set(g);
        fg_end(g);
        m.off[i] = m.len;
        memcpy(m.p + m.len, g->b, g->len);
        m.len += g->len;
    }
    m.off[nmsg] = m.len;
    m.n = nmsg;
    free(g);
    return m;
}

static void count_rec(void *ud, const flow_rec *r)
{
    (void)r;
    (*(uint64_t *)ud)++;
}

static void match_rec(void *ud, const flow_rec *r)
{
    fmatch_flow(ud, r);
}

static void on_match(void *ud, const accord_match *mt)
{
    (void)mt;
    (*(uint64_t *)ud)++;
}

static const flow_exporter EXP = {.family = 4, .addr = {192, 0, 2, 1}, .port = 2055};

static void bench_decode(const msgs *m, uint64_t records)
{
    flow_decoder *d;
    uint64_t got = 0;
    flow_decoder_new(NULL, &d);
    double w = wall(), c = cpu();
    for (size_t i = 0; i < m->n; i++)
        flow_decode(d, &EXP, m->p + m->off[i], m->off[i + 1] - m->off[i], count_rec, &got);
    w = wall() - w, c = cpu() - c;
    printf("IPFIX decode only: %" PRIu64 " records in %.3f s wall, %.3f s CPU: %.1f M records/s "
           "per core (%.1f MB/s)\n",
           got, w, c, (double)got / c / 1e6, (double)m->len / c / 1e6);
    if (got != records)
        printf("  (expected %" PRIu64 ")\n", records);
    flow_decoder_free(d);
}

static void bench_match(accord_snapshot *s, const msgs *m, int unfiltered)
{
    flow_decoder *d;
    fmatch *fm;
    uint64_t matches = 0;
    fmatch_stats st;
    flow_decoder_new(NULL, &d);
    fmatch_new(s, 0, on_match, &matches, &fm);
    if (unfiltered)
        fmatch_unfiltered(fm);
    double w = wall(), c = cpu();
    for (size_t i = 0; i < m->n; i++)
        flow_decode(d, &EXP, m->p + m->off[i], m->off[i + 1] - m->off[i], match_rec, fm);
    fmatch_flush(fm);
    w = wall() - w, c = cpu() - c;
    fmatch_stats_get(fm, &st);
    printf("IPFIX decode + match%s: %" PRIu64 " records in %.3f s wall, %.3f s CPU: %.2f M "
           "records/s per core, %" PRIu64 " matches\n",
           unfiltered ? " (no prefilter)" : "", st.records, w, c, (double)st.records / c / 1e6,
           matches);
    fmatch_free(fm);
    flow_decoder_free(d);
}

static void bench_dnstap(accord_snapshot *s, uint64_t n, double hit, uint64_t dom_count)
{
    uint8_t dns[600];
    dgen g;
    char name[200];
    size_t cap = (size_t)n * 200, len = 0;
    uint8_t *buf = malloc(cap);
    static const uint8_t client[4] = {100, 64, 0, 1};
    for (uint64_t i = 0; i < n; i++) {
        uint64_t seed = mix(i + 12345);
        if ((double)(seed % 1000000) < hit * 1e6)
            ind_domain(seed % dom_count, name, sizeof name);
        else
            snprintf(name, sizeof name, "www%" PRIu64 ".clean-site%u.net", seed % 100000,
                     (unsigned)(seed >> 20) % 1000);
        size_t dl = dg_dns(dns, sizeof dns, (uint16_t)i, 0, name, 1, NULL, NULL);
        dg_dnstap(&g, 5, client, 40000 + (unsigned)(i % 20000), 1700000000 + i / 10000, 0, dns,
                  dl);
        if (len + g.len + 4 > cap)
            break;
        buf[len] = (uint8_t)(g.len >> 24), buf[len + 1] = (uint8_t)(g.len >> 16);
        buf[len + 2] = (uint8_t)(g.len >> 8), buf[len + 3] = (uint8_t)g.len;
        memcpy(buf + len + 4, g.b, g.len);
        len += 4 + g.len;
    }
    fmatch *fm;
    uint64_t matches = 0, msgs_n = 0;
    dnstap_reader r = {0};
    dnstap_frame f;
    const char *why;
    fmatch_new(s, 0, on_match, &matches, &fm);
    double w = wall(), c = cpu();
    size_t off = 0;
    long k;
    while ((k = dnstap_frame_next(&r, buf + off, len - off, &f, &why)) > 0) {
        dnstap_msg m;
        off += (size_t)k;
        if (dnstap_decode(f.p, f.len, &m, &why) == 0 && fmatch_dnstap(fm, &m) == 0)
            msgs_n++;
    }
    fmatch_flush(fm);
    w = wall() - w, c = cpu() - c;
    printf("dnstap decode + match: %" PRIu64 " messages in %.3f s wall, %.3f s CPU: %.2f M "
           "messages/s per core, %" PRIu64 " matches\n",
           msgs_n, w, c, (double)msgs_n / c / 1e6, matches);
    fmatch_free(fm);
    free(buf);
}

/* ------------------------------------------------------------------------------------------ */
/* The collector, run as `accord match --listen-flows`                                          */

/* Bytes waiting in the receive queues of the UDP sockets bound to 127.0.0.1:port (the
 * collector's), from /proc/net/udp; -1 when none is found. */
static long rx_queue(unsigned port)
{
    char line[512], want[32];
    long total = -1;
    FILE *f = fopen("/proc/net/udp", "r");
    snprintf(want, sizeof want, "0100007F:%04X", port);
    while (f && fgets(line, sizeof line, f)) {
        char local[64];
        unsigned long tx, rx;
        if (sscanf(line, "%*s %63s %*s %*s %lx:%lx", local, &tx, &rx) == 3 &&
            strcmp(local, want) == 0)
            total = (total < 0 ? 0 : total) + (long)rx;
    }
    if (f)
        fclose(f);
    return total;
}

static void bench_collector(const msgs *m, uint64_t n_ind)
{
    char ind[] = "/tmp/bench-flow-ind.XXXXXX", errf[] = "/tmp/bench-flow-err.XXXXXX";
    int fd = mkstemp(ind), efd = mkstemp(errf);
    char accord[1024], portarg[64], line[1024];
    FILE *f = fdopen(fd, "w");
    snprintf(accord, sizeof accord, "%s/accord", BENCH_DIR);
    make_snapshot(n_ind, f);
    fclose(f);
    unsigned port = 20000 + (unsigned)(getpid() % 20000);
    snprintf(portarg, sizeof portarg, "127.0.0.1:%u", port);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(efd, 2);
        int null = open("/dev/null", 1);
        dup2(null, 1);
        execl(accord, accord, "match", "--indicators", ind, "--listen-flows", portarg,
              "--listen-seconds", "30", "--no-progress", (char *)NULL);
        _exit(127);
    }
    /* wait for the collector's first line */
    for (int i = 0; i < 600; i++) {
        FILE *e = fopen(errf, "r");
        int up = 0;
        while (e && fgets(line, sizeof line, e))
            up |= strstr(line, "collecting flows") != NULL;
        if (e)
            fclose(e);
        if (up)
            break;
        usleep(100000);
    }
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    struct mmsghdr mm[64];
    struct iovec iov[64];
    double w = wall();
    size_t i = 0;
    while (i < m->n) {
        unsigned k = 0;
        for (; k < 64 && i + k < m->n; k++) {
            iov[k] = (struct iovec){m->p + m->off[i + k], m->off[i + k + 1] - m->off[i + k]};
            mm[k].msg_hdr = (struct msghdr){.msg_name = &to, .msg_namelen = sizeof to,
                                            .msg_iov = &iov[k], .msg_iovlen = 1};
        }
        int sent = sendmmsg(s, mm, k, 0);
        if (sent <= 0)
            continue;
        i += (size_t)sent;
    }
    double sent = wall() - w;
    /* the collector is done when its queue is empty: its rate is the records over the time
     * from the first datagram sent to the last one read (the 64 MiB buffer may hold much) */
    for (int k = 0; k < 30000 && rx_queue(port) > 0; k++)
        usleep(1000);
    w = wall() - w;
    close(s);
    sleep(1);
    kill(pid, SIGTERM);
    int status;
    struct rusage ru;
    wait4(pid, &status, 0, &ru);
    double ccpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                  (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    uint64_t records = 0, drops = 0, datagrams = 0;
    FILE *e = fopen(errf, "r");
    while (e && fgets(line, sizeof line, e)) {
        char *p = strstr(line, " flow records in ");
        if (p) {
            while (p > line && p[-1] != ' ')
                p--;
            sscanf(p, "%" SCNu64, &records);
        }
        if ((p = strstr(line, " datagrams, "))) {
            while (p > line && p[-1] != ' ')
                p--;
            sscanf(p, "%" SCNu64 " datagrams, %" SCNu64, &datagrams, &drops);
        }
    }
    if (e)
        fclose(e);
    if (getenv("BENCH_FLOW_DEBUG")) {
        e = fopen(errf, "r");
        while (e && fgets(line, sizeof line, e))
            fputs(line, stderr);
        if (e)
            fclose(e);
    }
    printf("UDP collector (1 socket, %" PRIu64 " IPv4 indicators): %zu datagrams of %d records "
           "(%.1f MB) sent in %.3f s, all read by %.3f s; collector decoded %" PRIu64
           " records (%" PRIu64 " datagrams), kernel dropped %" PRIu64
           ": %.2f M records/s wall; collector CPU %.3f s including its start "
           "(%.2f M records/s per core, %.0f ns CPU per record)\n",
           split(n_ind).v4, m->n, PER_MSG, (double)m->len / 1e6, sent, w, records, datagrams,
           drops, (double)records / w / 1e6, ccpu,
           ccpu > 0 ? (double)records / ccpu / 1e6 : 0.0,
           records ? ccpu * 1e9 / (double)records : 0.0);
    unlink(ind);
    unlink(errf);
    close(efd);
}

int main(int argc, char **argv)
{
    uint64_t total = 1000000, records = 5000000, coll_records = 2000000, coll_ind = 10000;
    double hit = 0.01;
    int collector = 1, dnstap = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--10m"))
            total = 10000000;
        else if (!strcmp(argv[i], "--indicators") && i + 1 < argc)
            total = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--records") && i + 1 < argc)
            records = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--hit") && i + 1 < argc)
            hit = strtod(argv[++i], NULL);
        else if (!strcmp(argv[i], "--collector-records") && i + 1 < argc)
            coll_records = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--collector-indicators") && i + 1 < argc)
            coll_ind = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--no-collector"))
            collector = 0;
        else if (!strcmp(argv[i], "--no-dnstap"))
            dnstap = 0;
        else if (!strcmp(argv[i], "--complex") && i + 1 < argc)
            n_complex = strtoull(argv[++i], NULL, 10);
        else {
            fprintf(stderr,
                    "usage: bench_flow [--indicators N | --10m] [--records R] [--hit P]\n"
                    "                  [--collector-records R] [--collector-indicators N] "
                    "[--no-collector] [--complex N] [--no-dnstap]\n");
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    sizes z = split(total);
    msgs m = make_ipfix(records, hit, z.v4 ? z.v4 : 1);
    printf("generated %" PRIu64 " records in %zu IPFIX messages (%.1f MB), hit rate %.3f\n",
           records, m.n, (double)m.len / 1e6, hit);
    bench_decode(&m, records);
    double w = wall(), c = cpu();
    accord_snapshot *s = make_snapshot(total, NULL);
    printf("snapshot of %" PRIu64 " indicators built in %.1f s wall, %.1f s CPU\n", total,
           wall() - w, cpu() - c);
    if (s) {
        bench_match(s, &m, 0);
        if (n_complex)
            bench_match(s, &m, 1);
        if (dnstap)
            bench_dnstap(s, records / 5, hit, z.dom ? z.dom : 1);
    }
    accord_snapshot_unref(s);
    free(m.p);
    free(m.off);
    if (collector) {
        msgs cm = make_ipfix(coll_records, hit, split(coll_ind).v4 ? split(coll_ind).v4 : 1);
        bench_collector(&cm, coll_ind);
        free(cm.p);
        free(cm.off);
    }
    return 0;
}
