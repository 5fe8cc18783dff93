/*
 * bench/sync.c - federation pull throughput between two nodes on this machine.
 *
 * Usage: bench_sync [N] [--page OBJECTS] [--unsigned-only] [--signed-only]
 *
 * Node A: a store of N (default 100,000) generated indicators, served by accord_server_start on
 * 127.0.0.1 over HTTPS (its self-signed certificate).  Node B: an empty store that pulls A's
 * default collection with peer_pull in pages of PEER_DEFAULT_PAGE objects (--page: another size)
 * (the `accord sync` path: the fetch thread preparing page N+1 while page N is stored, the accept
 * policy, the import pipeline with signature verification and audit records, the cursor in each
 * page's transaction).  Two runs, each with fresh stores:
 *
 *   unsigned   plain objects; A is a public feed to B (no organisation: taken as they are)
 *   signed     objects batch-signed by A's organisation (one Ed25519 signature per 500 objects
 *              and an inclusion path each); A is a member's node to B (--org): every object is
 *              parsed, canonicalised, hashed and verified once: the accept policy runs inside
 *              the import pass on what the pass computed, and the pass does not verify again
 *
 * Printed for each: objects/s of wall time; objects per CPU second of the whole process (both
 * nodes run in this process: server threads, TLS, client threads, import); and objects per CPU
 * second of the thread that stores the pages, the part of a pull that cannot run in parallel
 * (what the wall rate approaches on idle cores).  Then the CPU time per object of the storing
 * thread, of the fetch thread (transfers, parse, validation, canonical forms, signature proofs,
 * the over-share check) and of the rest (node A's server threads, the WAL checkpoints), with the
 * load average.  The bench asserts that B ends with every
 * object A holds.  "started" lines on stderr mark each pull, for a profiler to attach to.
 */
#include "accord.h"
#include "member.h"
#include "peer.h"
#include "provenance.h"
#include "util/buf.h"
#include "util/json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define SIGN_BATCH 500

static void die(const char *what)
{
    fprintf(stderr, "bench_sync: %s\n", what);
    exit(1);
}

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_of_who(int who)
{
    struct rusage ru;
    getrusage(who, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double cpu(void)
{
    return cpu_of_who(RUSAGE_SELF);
}

/* The 1-minute load average (figures mean little without it). */
static double load1(void)
{
    double l = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &l) != 1)
            l = -1;
        fclose(f);
    }
    return l;
}

/* Indicator i of a fixed set: about 600 bytes, CLEAR, created by org. */
static int indicator(buf *out, size_t i, const char *org)
{
    return buf_printf(out,
                      "{\"type\":\"indicator\",\"spec_version\":\"2.1\","
                      "\"id\":\"indicator--%08zx-5a1e-4c0d-8b2f-%012zx\",\"created_by_ref\":\"%s\","
                      "\"created\":\"2026-10-01T08:00:00.000Z\",\"modified\":\"2026-10-0%zuT08:"
                      "%02zu:00.000Z\",\"name\":\"sync bench %zu\",\"description\":\"beacon to a "
                      "rotating command-and-control host seen by several members\","
                      "\"indicator_types\":[\"malicious-activity\"],\"pattern\":\"[ipv4-addr:value "
                      "= '10.%zu.%zu.%zu'] OR [domain-name:value = 'c2-%zx.example.org']\","
                      "\"pattern_type\":\"stix\",\"valid_from\":\"2026-10-01T00:00:00Z\","
                      "\"confidence\":%zu,\"object_marking_refs\":[\"marking-definition--94868c89-"
                      "83c2-464b-929b-a1a8aa3c8487\"]}",
                      i * 2654435761u % 0xffffffffu, i, org, 1 + i % 9, i % 60, i, (i >> 16) & 255,
                      (i >> 8) & 255, i & 255, i * 40503u, i % 100);
}

/* JSON lines of n indicators; signed: in batches of SIGN_BATCH by A's signing key. */
static int objects_fd(size_t n, const char *data_dir, const member_identity *me, int sign)
{
    accord_sign_key *key = NULL;
    accord_error err;
    const member_key *sk = member_key_active(me, MEMBER_SIGNING);
    if (sign && (!sk || member_key_load(data_dir, MEMBER_SIGNING, NULL, &key, &err)))
        die("signing key");
    buf all, one, canon;
    buf_init(&all, (size_t)1 << 34);
    buf_init(&one, 1 << 16);
    buf_init(&canon, 1 << 16);
    prov_sig *sigs = calloc(SIGN_BATCH, sizeof(*sigs));
    uint8_t *hashes = malloc((size_t)SIGN_BATCH * 32);
    const ajson_value **content = calloc(SIGN_BATCH, sizeof(*content));
    if (!sigs || !hashes || !content)
        die("out of memory");
    for (size_t at = 0; at < n; at += SIGN_BATCH) {
        size_t k = n - at < SIGN_BATCH ? n - at : SIGN_BATCH;
        ajson_arena a;
        ajson_arena_init(&a, 0);
        for (size_t i = 0; i < k; i++) {
            ajson_error je;
            prov_sigs none;
            buf_reset(&one);
            buf_reset(&canon);
            indicator(&one, at + i, me->id);
            /* the arena keeps its own copy: ajson strings point into the arena, not the text */
            char *text = ajson_arena_alloc(&a, one.len + 1);
            memcpy(text, one.p, one.len + 1);
            const ajson_value *v = ajson_parse(&a, text, one.len, &je);
            if (!v || prov_parse(&a, v, &content[i], &none, &err) ||
                prov_canonical(content[i], &canon, &err))
                die("canonical form");
            prov_object_hash(canon.p, canon.len, hashes + 32 * i);
        }
        if (sign && prov_sign_batch(key, me->id, sk->keyid, hashes, k, sigs))
            die("batch signature");
        for (size_t i = 0; i < k; i++) {
            prov_sigs set = {.n = sign ? 1 : 0};
            if (sign)
                set.v[0] = sigs[i];
            if (prov_write(&a, content[i], &set, &all, &err) || buf_add(&all, "\n", 1))
                die("writing an object");
        }
        ajson_arena_free(&a);
    }
    int fd = memfd_create("bench-sync", MFD_CLOEXEC);
    if (fd < 0 || all.failed || write(fd, all.p, all.len) != (ssize_t)all.len)
        die("memfd");
    lseek(fd, 0, SEEK_SET);
    buf_free(&all);
    buf_free(&one);
    buf_free(&canon);
    free(sigs);
    free(hashes);
    free(content);
    accord_sign_key_free(key);
    return fd;
}

static int default_id(void *ud, const accord_collection *c)
{
    if (c->alias && strcmp(c->alias, "default") == 0)
        snprintf(ud, 64, "%s", c->id);
    return 0;
}

/* The CPU seconds of the last run of each kind, for the ratio printed at the end. */
static double cpu_of[2];

static void run(const char *dir, size_t n, int sign, int page)
{
    char a_dir[600], b_dir[600], token_file[700], cacert[700];
    snprintf(a_dir, sizeof(a_dir), "%s/%s-a", dir, sign ? "signed" : "plain");
    snprintf(b_dir, sizeof(b_dir), "%s/%s-b", dir, sign ? "signed" : "plain");
    accord_store *a, *b;
    accord_error err;
    member_identity me;
    member_init_options mo = {.name = "Bench node A"};
    if (accord_store_open(a_dir, 0, &a, &err) || member_init(a, a_dir, &mo, &me, &err))
        die(err.msg);
    int fd = objects_fd(n, a_dir, &me, sign);
    accord_import_stats is;
    if (accord_import_fd(a, fd, NULL, &is, &err) || is.accepted != n)
        die("import into A");
    close(fd);
    accord_store_stats as; /* the n objects, A's identity and what its signatures need */
    if (accord_store_stats_light(a, &as, &err))
        die(err.msg);
    accord_store_close(a);

    accord_server *srv;
    char token[160];
    accord_server_options so = {.data_dir = a_dir, .listen = "127.0.0.1:0", .log_fd = -1};
    if (accord_server_start(&so, &srv, token, sizeof(token), &err))
        die(err.msg);
    snprintf(token_file, sizeof(token_file), "%s/token", a_dir);
    snprintf(cacert, sizeof(cacert), "%s/tls/cert.pem", a_dir);
    FILE *tf = fopen(token_file, "w");
    if (!tf || fprintf(tf, "%s\n", token) < 0 || fclose(tf))
        die("token file");
    char coll[64] = "";
    if (accord_store_open(a_dir, ACCORD_STORE_READONLY, &a, &err) ||
        accord_collection_list(a, NULL, default_id, coll, &err) || !coll[0])
        die("A's default collection");
    accord_store_close(a);

    peer_conf p;
    memset(&p, 0, sizeof(p));
    snprintf(p.name, sizeof(p.name), "a");
    snprintf(p.url, sizeof(p.url), "https://localhost:%d/accord/", accord_server_port(srv));
    snprintf(p.token_file, sizeof(p.token_file), "%s", token_file);
    snprintf(p.cacert, sizeof(p.cacert), "%s", cacert);
    snprintf(p.collection, sizeof(p.collection), "%s", coll);
    p.page = page;
    p.mode = PEER_PULL;
    if (sign)
        snprintf(p.org, sizeof(p.org), "%s", me.id);
    if (accord_store_open(b_dir, 0, &b, &err))
        die(err.msg);
    peer_sync_stats st;
    memset(&st, 0, sizeof(st));
    /* on stderr, for a profiler to attach to the pull alone (perf record -p) */
    fprintf(stderr, "bench_sync: pull %s: started\n", sign ? "signed" : "unsigned");
    double w0 = wall(), c0 = cpu(), t0 = cpu_of_who(RUSAGE_THREAD);
    int rc = peer_pull(b, &p, NULL, &st, &err);
    double w = wall() - w0, c = cpu() - c0, t = cpu_of_who(RUSAGE_THREAD) - t0;
    if (rc)
        die(err.msg);
    accord_store_stats bs;
    if (accord_store_stats_light(b, &bs, &err) || bs.versions != as.versions)
        die("B does not hold every object of A");
    double f = (double)st.fetch_cpu_us / 1e6;
    printf("pull %-8s %zu objects in %llu pages: %9.0f objects/s wall, %9.0f objects/s per CPU "
           "second (both nodes), %9.0f objects/s of the storing thread's CPU, %.1f s\n",
           sign ? "signed" : "unsigned", n, (unsigned long long)st.pages, (double)n / w,
           (double)n / c, (double)n / t, w);
    printf("pull %-8s CPU us per object: storing thread %.1f, fetch thread %.1f, the rest (A's "
           "server, checkpoints) %.1f; load average %.2f\n",
           sign ? "signed" : "unsigned", t * 1e6 / (double)n, f * 1e6 / (double)n,
           (c - t - f) * 1e6 / (double)n, load1());
    cpu_of[sign] = c;
    fflush(stdout);
    accord_store_close(b);
    accord_server_stop(srv, 1000);
}

int main(int argc, char **argv)
{
    size_t n = 100000;
    int want_plain = 1, want_signed = 1, page = PEER_DEFAULT_PAGE;
    for (int i = 1; i < argc; i++) {
        char *end;
        unsigned long long v = strtoull(argv[i], &end, 10);
        if (strcmp(argv[i], "--page") == 0 && i + 1 < argc) {
            long pv = strtol(argv[++i], &end, 10);
            if (*end || pv < 1 || pv > PEER_MAX_PAGE)
                die("--page: 1 to 100000 objects");
            page = (int)pv;
        } else if (strcmp(argv[i], "--unsigned-only") == 0)
            want_signed = 0;
        else if (strcmp(argv[i], "--signed-only") == 0)
            want_plain = 0;
        else if (*end || v == 0 || v > 10000000)
            die("usage: bench_sync [N] [--page OBJECTS] [--unsigned-only] [--signed-only]");
        else
            n = (size_t)v;
    }
    char dir[] = "/tmp/bench-sync-XXXXXX";
    if (!mkdtemp(dir))
        die("mkdtemp");
    if (want_plain)
        run(dir, n, 0, page);
    if (want_signed)
        run(dir, n, 1, page);
    if (want_plain && want_signed)
        printf("pull signed/unsigned: %.2fx CPU of both nodes\n", cpu_of[1] / cpu_of[0]);
    char cmd[700];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_sync: could not remove %s\n", dir);
    return 0;
}
