/*
 * bench/taxii.c - TAXII 2.1 server throughput and latency over HTTPS, with libcurl.
 *
 * Starts `accord serve` in this process (self-signed TLS on 127.0.0.1, any free port), then:
 *   1. ingest: N indicators (default 100,000) POSTed as envelopes of 500 by 2 client threads;
 *   2. read: every object of the collection paged with limit=1000 (next), one client: as the
 *      admin (who reads everything) and as a member account, whose every row passes the TLP
 *      filter (the objects are unmarked, AMBER by default, produced by its organisation);
 *   3. grows the store to --big objects (default 1,000,000) with a direct import;
 *   4. p50/p99 latency of 1,000-object pages at random positions: alone, while a writer POSTs,
 *      and with a selective match[type] filter (5% of the objects).
 * Prints objects/s and milliseconds; no assertions.
 *
 * usage: bench_taxii [--objects N] [--big N] [--dir DIR]
 */
#include "accord.h"
#include "bench.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BENCH_ORG "identity--b3c4d5e6-0000-4000-8000-000000000001"

static char base_url[256], auth_header[256], cacert[4096];
static atomic_ullong uuid_counter;

static CURL *client(struct curl_slist **hdrs)
{
    CURL *c = curl_easy_init();
    *hdrs = curl_slist_append(NULL, auth_header);
    *hdrs = curl_slist_append(*hdrs, "Accept: application/taxii+json;version=2.1");
    *hdrs = curl_slist_append(*hdrs, "Content-Type: application/taxii+json;version=2.1");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, *hdrs);
    curl_easy_setopt(c, CURLOPT_CAINFO, cacert);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    return c;
}

/* One request; returns the HTTP status (body in s). */
static long request(CURL *c, const char *url, const char *post, size_t post_len, http_body *s)
{
    s->len = 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
    if (post) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, post);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)post_len);
    } else {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    }
    long code = 0;
    if (curl_easy_perform(c) != CURLE_OK)
        return -1;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    return code;
}

/* An envelope of n new indicators. */
static size_t envelope(char *out, size_t cap, int n)
{
    size_t len = (size_t)snprintf(out, cap, "{\"objects\":[");
    for (int i = 0; i < n; i++) {
        unsigned long long k = atomic_fetch_add(&uuid_counter, 1);
        len += (size_t)snprintf(
            out + len, cap - len,
            "%s{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--%08llx-"
            "4b1c-4d2e-8f3a-%012llx\",\"created\":\"2026-01-01T00:00:00.000Z\",\"modified\":"
            "\"2026-01-01T00:00:00.000Z\",\"name\":\"bench %llu\",\"indicator_types\":"
            "[\"malicious-activity\"],\"pattern\":\"[ipv4-addr:value = '10.%llu.%llu.%llu']\","
            "\"pattern_type\":\"stix\",\"valid_from\":\"2026-01-01T00:00:00Z\","
            "\"created_by_ref\":\"" BENCH_ORG "\"}",
            i ? "," : "", k >> 16, k * 2654435761ULL % 1000000000000ULL, k, (k >> 16) & 255,
            (k >> 8) & 255, k & 255);
    }
    len += (size_t)snprintf(out + len, cap - len, "]}");
    return len;
}

typedef struct ingest_arg {
    int envelopes;
    int failures;
    volatile int *stop; /* when set, post until it becomes 1 (background writer) */
} ingest_arg;

static void *ingest_thread(void *ud)
{
    ingest_arg *a = ud;
    struct curl_slist *h;
    CURL *c = client(&h);
    http_body s = {0};
    size_t cap = 600 * 1024;
    char *body = malloc(cap), url[512];
    snprintf(url, sizeof(url), "%s/accord/collections/default/objects/", base_url);
    for (int i = 0; a->stop ? !*a->stop : i < a->envelopes; i++) {
        size_t len = envelope(body, cap, 500);
        if (request(c, url, body, len, &s) != 202)
            a->failures++;
    }
    free(body);
    free(s.p);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return NULL;
}

static void phase_ingest(int n)
{
    int per = n / 500 / 2;
    ingest_arg a[2] = {{per, 0, NULL}, {per, 0, NULL}};
    pthread_t t[2];
    double t0 = now_s();
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, ingest_thread, &a[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    double dt = now_s() - t0;
    printf("ingest  %d objects in envelopes of 500, 2 clients: %.2f s, %.0f objects/s (%d failed "
           "requests)\n",
           per * 2 * 500, dt, per * 2 * 500 / dt, a[0].failures + a[1].failures);
}

/* Pages through the collection with next; returns objects read. */
static long walk(const char *filter, double *secs)
{
    struct curl_slist *h;
    CURL *c = client(&h);
    http_body s = {0};
    char url[1024], next[64] = "";
    long total = 0;
    double t0 = now_s();
    for (;;) {
        snprintf(url, sizeof(url), "%s/accord/collections/default/objects/?limit=1000%s%s%s",
                 base_url, filter, next[0] ? "&next=" : "", next);
        if (request(c, url, NULL, 0, &s) != 200)
            break;
        for (const char *p = s.p; (p = strstr(p, "\"spec_version\":")); p++)
            total++;
        const char *n = strstr(s.p, "\"next\":\"");
        if (!n)
            break;
        snprintf(next, sizeof(next), "%.*s", (int)strcspn(n + 8, "\""), n + 8);
    }
    *secs = now_s() - t0;
    free(s.p);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return total;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* p50/p99 of `n` 1,000-object pages starting at random date_added positions. */
static void page_latency(const char *label, const char *filter, int64_t lo, int64_t hi, int n)
{
    struct curl_slist *h;
    CURL *c = client(&h);
    http_body s = {0};
    double *ms = calloc((size_t)n, sizeof(double));
    char url[1024], ts[40];
    int ok = 0;
    for (int i = 0; i < n; i++) {
        double frac = (double)((unsigned)i * 2654435761u % 1000) / 1000.0;
        int64_t at = lo + (int64_t)((double)(hi - lo) * 0.95 * frac);
        accord_timestamp_format(at, ts, sizeof(ts));
        snprintf(url, sizeof(url),
                 "%s/accord/collections/default/objects/?limit=1000&added_after=%s%s", base_url,
                 ts, filter);
        double t0 = now_s();
        if (request(c, url, NULL, 0, &s) == 200)
            ms[ok++] = (now_s() - t0) * 1000;
    }
    qsort(ms, (size_t)ok, sizeof(double), cmp_double);
    if (ok)
        printf("latency %-40s p50 %.2f ms  p99 %.2f ms  (%d pages)\n", label, ms[ok / 2],
               ms[ok * 99 / 100], ok);
    free(ms);
    free(s.p);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
}

/* Creates account "member" of BENCH_ORG with read rights and makes auth_header its token's. */
static int member_login(const char *data)
{
    accord_store *s;
    accord_error err;
    char token[ACCORD_TOKEN_BUFLEN];
    int rc = accord_store_open(data, 0, &s, &err);
    if (!rc)
        rc = accord_account_add(s, "member", NULL, 0, &err);
    if (!rc)
        rc = accord_account_set_org(s, "member", BENCH_ORG, &err);
    if (!rc)
        rc = accord_rights_set(s, "member", "default", 1, 0, &err);
    if (!rc)
        rc = accord_token_create(s, "member", 0, token, sizeof(token), NULL, &err);
    accord_store_close(s);
    if (rc) {
        printf("member: %s\n", err.msg);
        return rc;
    }
    snprintf(auth_header, sizeof(auth_header), "Authorization: Bearer %s", token);
    return 0;
}

static void grow(const char *dir, long target, long have)
{
    char gen[4300], cmd[4400];
    snprintf(gen, sizeof(gen), "%s/grow.json", dir);
    /* the import benchmark's generator writes a realistic mix (5% malware) */
    snprintf(cmd, sizeof(cmd), "%s/bench_import --generate '%s' --objects %ld --seed 99", BENCH_DIR,
             gen, target - have);
    double t0 = now_s();
    if (system(cmd) != 0) {
        printf("grow: cannot run %s\n", cmd);
        return;
    }
    accord_store *s;
    accord_error err;
    char data[4200];
    snprintf(data, sizeof(data), "%s/data", dir);
    if (accord_store_open(data, 0, &s, &err) == 0) {
        int fd = open(gen, O_RDONLY);
        accord_import_stats st;
        accord_import_fd(s, fd, NULL, &st, &err);
        close(fd);
        accord_store_close(s);
        printf("grow    store to %ld objects: %.1f s\n", have + (long)st.accepted, now_s() - t0);
    }
    unlink(gen);
}

int main(int argc, char **argv)
{
    long n = 100000, big = 1000000;
    const char *dir = "/tmp";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--objects") == 0)
            n = strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--big") == 0)
            big = strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--dir") == 0)
            dir = argv[i + 1];
    }
    char cmd[4200], data[3000];
    dir = bench_workdir(dir, "accord-bench-taxii");
    snprintf(data, sizeof(data), "%s/data", dir);
    snprintf(cacert, sizeof(cacert), "%s/tls/cert.pem", data);
    curl_global_init(CURL_GLOBAL_ALL);
    accord_server_options o = {.data_dir = data, .listen = "127.0.0.1:0", .log_fd = -1};
    accord_server *srv;
    accord_error err;
    char token[200];
    if (accord_server_start(&o, &srv, token, sizeof(token), &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    snprintf(base_url, sizeof(base_url), "https://localhost:%d", accord_server_port(srv));
    snprintf(auth_header, sizeof(auth_header), "Authorization: Bearer %s", token);
    printf("accord TAXII benchmark over HTTPS (%s), %ld objects, store grown to %ld\n", base_url,
           n, big);
    int64_t start = accord_timestamp_now();
    phase_ingest((int)n);
    double secs;
    long got = walk("", &secs);
    printf("read    %ld objects, pages of 1000, admin: %.2f s, %.0f objects/s\n", got, secs,
           got / secs);
    char admin_header[256];
    snprintf(admin_header, sizeof(admin_header), "%s", auth_header);
    if (member_login(data) == 0) {
        got = walk("", &secs);
        printf("read    %ld objects, pages of 1000, member (TLP filter): %.2f s, %.0f objects/s\n",
               got, secs, got / secs);
    }
    snprintf(auth_header, sizeof(auth_header), "%s", admin_header);
    if (big > n)
        grow(dir, big, n);
    int64_t hi = accord_timestamp_now(); /* pages start between `start` and here */
    page_latency("1,000-object page, alone", "", start, hi, 200);
    volatile int stop = 0;
    ingest_arg bg = {0, 0, &stop};
    pthread_t t;
    pthread_create(&t, NULL, ingest_thread, &bg);
    page_latency("1,000-object page, writer ingesting", "", start, hi, 200);
    stop = 1;
    pthread_join(t, NULL);
    page_latency("1,000-object page, match[type]=malware", "&match[type]=malware", start, hi, 200);
    accord_server_stop(srv, 2000);
    curl_global_cleanup();
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : 1;
}
