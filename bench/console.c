/*
 * bench/console.c - latency of every API call the web console's pages make, and of its files.
 *
 * Starts `accord serve` in this process (self-signed TLS on 127.0.0.1, any free port, the console
 * from BUILD_DIR/ui), fills the store with --objects generated objects (default 1,000,000;
 * bench_import's mix: 45% indicators, 30% SCOs, 20% relationships, 5% malware), --sightings
 * sightings (default 15% of the objects: 150,000) of 1,000 of its indicators over 90 days, 1,000
 * indicators created by one identity (for the source filter; the generated ones have none), 20
 * disclosure cases linking the first indicator (the first with 121 vendors, a product each, and
 * 60 messages in 6 threads), this node's organisation with a roster, and a peer whose link fails;
 * then times, each --loads times (default 100) with one client, every call of every page:
 *   search      GET /api/search?value=V, POST /api/search with 1,000 values (half unknown)
 *   object      GET /api/objects/ID (versions for the diff), its relationships page, its cases
 *   graph       GET /api/objects/ID?limit=1, expand: GET /api/objects/ID/relationships?limit=100
 *   sightings   the series of one indicator (hour) and of the whole feed (day, every page)
 *   indicators  the list newest first, filtered (by type, by source), sorted by last sighting; a
 *               bulk preview
 *   cases       the list, one case, its vendors, its threads, the account's read markers
 *   members     the roster; feeds: collections, peers; the session; /ui/ and its script
 * and prints p50/p99 in milliseconds, with the CPU time (user+sys) of this process, server and
 * client together, per call.  Targets (docs/console.md): API p99 <= 150 ms.  Page loads in a
 * browser, navigation to data rendered, for every page: bench/console_pages.mjs (run from here
 * when node, chromium and playwright-core are there).
 *
 * usage: bench_console [--objects N] [--sightings N] [--loads N] [--dir DIR] [--no-pages]
 */
#include "accord.h"
#include "bench.h"
#include "accord_account.h"
#include "accord_case.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define SAMPLES 2000
#define SIGHTED 1000 /* indicators with sightings */
#define SOURCED 1000 /* indicators created by SOURCE, for the source filter */
#define SOURCE "identity--5c000000-0000-4000-8000-000000000001"
#define CASES 20

static char base_url[256], auth_header[320], cacert[4096], accord_bin[4300];

static CURL *client(struct curl_slist **hdrs)
{
    CURL *c = curl_easy_init();
    *hdrs = curl_slist_append(NULL, auth_header);
    *hdrs = curl_slist_append(*hdrs, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, *hdrs);
    curl_easy_setopt(c, CURLOPT_CAINFO, cacert);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    return c;
}

static long request(CURL *c, const char *path, const char *post, http_body *s)
{
    char url[8192];
    snprintf(url, sizeof(url), "%s%s", base_url, path);
    s->len = 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
    if (post) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, post);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(post));
    } else {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    }
    long code = 0;
    if (curl_easy_perform(c) != CURLE_OK)
        return -1;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    return code;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void report(const char *label, double *ms, int n, int failures, double cpu)
{
    qsort(ms, (size_t)n, sizeof(double), cmp_double);
    int p99 = (int)((double)n * 0.99);
    if (p99 >= n)
        p99 = n - 1;
    printf("%-56s p50 %8.2f ms  p99 %8.2f ms  CPU %6.2f ms/call%s\n", label, ms[n / 2], ms[p99],
           cpu * 1e3 / n, failures ? "  (FAILED)" : "");
    if (failures)
        printf("%56s %d of %d calls failed\n", "", failures, n);
}

/* What the store holds to ask about: indicator ids and the values their patterns name, objects
 * with relationships (graph nodes), cases. */
typedef struct samples {
    char ids[SAMPLES][64];
    char values[SAMPLES][168];
    int n;
    char nodes[SAMPLES][64];
    int nnodes;
    char cases[CASES][ACCORD_CASE_ID_MAX];
    int ncases;
} samples;

static int sample_cb(void *ud, const accord_record *rec)
{
    samples *s = ud;
    const char *p = memmem(rec->body, rec->body_len, "= '", 3);
    const char *e = p ? memchr(p + 3, '\'', rec->body_len - (size_t)(p + 3 - rec->body)) : NULL;
    if (!e || e - (p + 3) >= 160 || s->n == SAMPLES)
        return s->n == SAMPLES;
    snprintf(s->ids[s->n], sizeof(s->ids[0]), "%s", rec->id);
    memcpy(s->values[s->n], p + 3, (size_t)(e - (p + 3)));
    s->values[s->n][e - (p + 3)] = '\0';
    s->n++;
    return 0;
}

/* the source_ref of relationships: objects the graph can expand */
static int node_cb(void *ud, const accord_record *rec)
{
    samples *s = ud;
    const char *p = memmem(rec->body, rec->body_len, "\"source_ref\":\"", 14);
    const char *e = p ? memchr(p + 14, '"', rec->body_len - (size_t)(p + 14 - rec->body)) : NULL;
    if (!e || e - (p + 14) >= 64 || s->nnodes == SAMPLES)
        return s->nnodes == SAMPLES;
    snprintf(s->nodes[s->nnodes++], sizeof(s->nodes[0]), "%.*s", (int)(e - (p + 14)), p + 14);
    return 0;
}

static int exists_cb(void *ud, const accord_record *rec)
{
    (void)ud, (void)rec;
    return 0;
}

static int import_file(accord_store *st, const char *path, accord_import_stats *stats)
{
    accord_error err;
    int fd = open(path, O_RDONLY);
    int rc = fd < 0 ? -1 : accord_import_fd(st, fd, NULL, stats, &err);
    if (fd >= 0)
        close(fd);
    if (rc)
        printf("import %s: %s\n", path, fd < 0 ? "cannot open" : err.msg);
    return rc;
}

/* imports the generated file at path into the store at data, then removes the file; returns
   the number of objects accepted */
static long long import_generated(const char *data, const char *path)
{
    accord_store *st;
    accord_error err;
    accord_import_stats stats = {0};
    if (accord_store_open(data, 0, &st, &err) == 0) {
        import_file(st, path, &stats);
        accord_store_close(st);
    } else {
        printf("open %s: %s\n", data, err.msg);
    }
    unlink(path);
    return (long long)stats.accepted;
}

/* nsight sightings of the first SIGHTED sampled indicators, over 90 days from 2026-03-02 */
static void add_sightings(const char *dir, const char *data, const samples *s, long nsight)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/sightings.json", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return;
    int nind = s->n < SIGHTED ? s->n : SIGHTED;
    double t0 = now_s();
    for (long i = 0; i < nsight; i++) {
        char ts[40];
        accord_timestamp_format((1772409600LL + (i * 7919) % (90 * 86400)) * 1000000, ts,
                                sizeof(ts));
        fprintf(f,
                "{\"type\":\"sighting\",\"spec_version\":\"2.1\",\"id\":\"sighting--5b000000-"
                "0000-4000-8000-%012ld\",\"created\":\"%s\",\"modified\":\"%s\",\"first_seen\":"
                "\"%s\",\"count\":%ld,\"sighting_of_ref\":\"%s\"}\n",
                i, ts, ts, ts, i % 5 + 1, s->ids[i % nind]);
    }
    fclose(f);
    long long accepted = import_generated(data, path);
    printf("store   %lld sightings of %d indicators imported in %.1f s\n", accepted, nind,
           now_s() - t0);
}

/* SOURCED indicators created by SOURCE (the generated ones have no creator) */
static void add_sourced(const char *dir, const char *data)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/sourced.json", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return;
    for (int i = 0; i < SOURCED; i++)
        fprintf(f,
                "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--5d000000-"
                "0000-4000-8000-%012d\",\"created\":\"2026-03-01T00:00:00.000Z\",\"modified\":"
                "\"2026-03-01T00:00:00.000Z\",\"created_by_ref\":\"" SOURCE "\",\"pattern\":"
                "\"[ipv4-addr:value = '198.18.%d.%d']\",\"pattern_type\":\"stix\","
                "\"valid_from\":\"2026-03-01T00:00:00Z\"}\n",
                i, i >> 8 & 255, i & 255);
    fclose(f);
    printf("store   %lld indicators of one source imported\n", import_generated(data, path));
}

/* CASES cases linking the first indicator; the first with 121 vendors (a product each) and 60
 * messages in 6 threads, the account a coordinator of each */
static void add_cases(const char *data, samples *s, const char *account)
{
    accord_store *st;
    accord_error err;
    if (accord_store_open(data, 0, &st, &err))
        return;
    double t0 = now_s();
    int rc = 0;
    for (int k = 0; k < CASES && !rc; k++) {
        char title[64];
        snprintf(title, sizeof(title), "bench case %d", k + 1);
        accord_case_spec spec = {.title = title,
                                 .embargo = k % 2 ? "2030-01-15T09:00:00+09:00" : NULL,
                                 .deadline = "2026-01-01T00:00:00Z",
                                 .role = "coordinator"};
        char *id = s->cases[s->ncases];
        rc = accord_case_open(st, account, &spec, id, &err);
        if (!rc)
            s->ncases++;
        if (!rc)
            rc = accord_case_set(st, id, account, "indicator", s->ids[0], &err);
        for (int v = 0; k == 0 && v < 121 && !rc; v++) {
            char vendor[64], contact[64], product[64];
            snprintf(vendor, sizeof(vendor), "Vendor %03d", v);
            snprintf(contact, sizeof(contact), "psirt@vendor%03d.example", v);
            snprintf(product, sizeof(product), "product %03d", v);
            rc = accord_case_add_vendor(st, id, account, vendor, NULL, contact, &err);
            accord_case_product p = {.vendor = vendor, .name = product, .affected = "<2.0.0",
                                     .fixed = "2.0.0"};
            if (!rc)
                rc = accord_case_add_product(st, id, account, &p, NULL, NULL, &err);
            if (!rc && v % 3 == 0)
                rc = accord_case_status(st, id, account, vendor, NULL,
                                        v % 2 ? "affected" : "not_affected", "bench", &err);
        }
        for (int m = 0; k == 0 && m < 60 && !rc; m++) {
            char topic[32], body[64];
            snprintf(topic, sizeof(topic), "product %03d", m % 6);
            snprintf(body, sizeof(body), "message %d of the bench", m);
            int64_t seq;
            rc = accord_case_post(st, id, account, topic, NULL, body, &seq, &err);
        }
    }
    if (rc)
        printf("cases: %s\n", err.msg);
    accord_store_close(st);
    printf("store   %d cases (121 vendors in the first) in %.1f s\n", s->ncases, now_s() - t0);
}

/* accord's CLI on the store, its output thrown away; 0 on success */
static int cli(const char *data, const char *args)
{
    static char cmd[40000];
    snprintf(cmd, sizeof(cmd), "( '%s' --data '%s' %s ) >/dev/null 2>&1", accord_bin, data, args);
    return system(cmd);
}

static void grow(const char *dir, const char *data, long n)
{
    char gen[4300], cmd[4400];
    snprintf(gen, sizeof(gen), "%s/grow.json", dir);
    snprintf(cmd, sizeof(cmd), "%s/bench_import --generate '%s' --objects %ld --seed 7", BENCH_DIR,
             gen, n);
    double t0 = now_s();
    if (system(cmd) != 0) {
        printf("grow: cannot run %s (build bench_import)\n", cmd);
        exit(1);
    }
    accord_store *s;
    accord_error err;
    if (accord_store_open(data, 0, &s, &err) == 0) {
        int fd = open(gen, O_RDONLY);
        accord_import_stats st;
        accord_import_fd(s, fd, NULL, &st, &err);
        close(fd);
        accord_store_close(s);
        printf("store   %lld objects imported in %.1f s\n", (long long)st.accepted, now_s() - t0);
    }
    unlink(gen);
}

/* One kind of call: method, path (its one %s filled from a sample list, escaped), body. */
typedef enum { ARG_NONE, ARG_VALUE, ARG_ID, ARG_SIGHTED, ARG_NODE, ARG_CASE1, ARG_CASE } arg_kind;

typedef struct call_def {
    const char *label;
    const char *method;
    const char *fmt;
    arg_kind arg;
    const char *body;
} call_def;

static const char *arg_of(const samples *s, arg_kind k, int i)
{
    int nsighted = s->n < SIGHTED ? s->n : SIGHTED;
    switch (k) {
    case ARG_VALUE:
        return s->values[(i * 7919) % s->n];
    case ARG_ID:
        return s->ids[(i * 104729) % s->n];
    case ARG_SIGHTED:
        return s->ids[(i * 15485863) % nsighted];
    case ARG_NODE:
        return s->nnodes ? s->nodes[(i * 7919) % s->nnodes] : s->ids[0];
    case ARG_CASE1:
        return s->ncases ? s->cases[0] : "CASE-0";
    case ARG_CASE:
        return s->ncases ? s->cases[i % s->ncases] : "CASE-0";
    default:
        return NULL;
    }
}

static long call_one(CURL *c, const call_def *d, int i, const samples *s, http_body *out)
{
    char path[2048];
    const char *arg = arg_of(s, d->arg, i);
    if (arg) {
        char *esc = curl_easy_escape(c, arg, 0);
        snprintf(path, sizeof(path), d->fmt, esc);
        curl_free(esc);
    } else {
        snprintf(path, sizeof(path), "%s", d->fmt);
    }
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, NULL);
    return request(c, path, d->body, out);
}

static void measure(const call_def *d, int loads, const samples *s)
{
    struct curl_slist *h;
    CURL *c = client(&h);
    http_body out = {0};
    double *ms = calloc((size_t)loads, sizeof(double));
    int failures = 0;
    double cpu0 = cpu_s();
    for (int i = 0; i < loads; i++) {
        double t0 = now_s();
        long code = call_one(c, d, i, s, &out);
        ms[i] = (now_s() - t0) * 1e3;
        failures += code != 200;
        if (code != 200 && failures == 1)
            printf("  %s: HTTP %ld %.200s\n", d->label, code, out.p ? out.p : "");
    }
    report(d->label, ms, loads, failures, cpu_s() - cpu0);
    free(ms);
    free(out.p);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
}

/* The feed's whole series: every page of it, as the sightings page asks (one "call" each). */
static void measure_feed_series(int loads)
{
    struct curl_slist *h;
    CURL *c = client(&h);
    http_body out = {0};
    double *ms = calloc((size_t)loads, sizeof(double));
    int failures = 0, pages = 0;
    double cpu0 = cpu_s();
    for (int i = 0; i < loads; i++) {
        double t0 = now_s();
        char path[256] = "/api/console/sightings?collection=default&bucket=day";
        for (int p = 0; p < 50; p++) {
            long code = request(c, path, NULL, &out);
            failures += code != 200;
            pages += i == 0;
            const char *nx = out.p ? strstr(out.p, "\"next\":\"") : NULL;
            if (code != 200 || !nx)
                break;
            snprintf(path, sizeof(path),
                     "/api/console/sightings?collection=default&bucket=day&after=%lld",
                     strtoll(nx + 8, NULL, 10));
        }
        ms[i] = (now_s() - t0) * 1e3;
    }
    char label[80];
    snprintf(label, sizeof(label), "  the feed's whole series (%d request%s)", pages,
             pages == 1 ? "" : "s");
    report(label, ms, loads, failures, cpu_s() - cpu0);
    free(ms);
    free(out.p);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
}

static char asset_path[256];
static char *many_body;

/* Page loads in chromium (bench/console_pages.mjs), when node, chromium and playwright-core are
 * there. */
static void pages(const char *data, const char *dir, const samples *s, int loads)
{
    const char *chromium = getenv("CHROMIUM") ? getenv("CHROMIUM") : "/usr/bin/chromium";
    char pw[4200];
    snprintf(pw, sizeof(pw), "%s/web/node_modules/playwright-core", ACCORD_SOURCE_DIR);
    if (access(chromium, X_OK) != 0 || access(pw, R_OK) != 0 || system("node --version >/dev/null") != 0) {
        printf("page loads: skipped (needs node, %s and %s)\n", chromium, pw);
        return;
    }
    (void)data;
    char path[4200];
    snprintf(path, sizeof(path), "%s/samples.json", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return;
    fputs("{\"values\":[", f);
    for (int i = 0; i < s->n && i < 500; i++)
        fprintf(f, "%s\"%s\"", i ? "," : "", s->values[i]);
    fputs("],\"ids\":[", f);
    for (int i = 0; i < s->n && i < 500; i++)
        fprintf(f, "%s\"%s\"", i ? "," : "", s->ids[i]);
    fputs("],\"sighted\":[", f); /* the first SIGHTED ids have sightings */
    for (int i = 0; i < s->n && i < SIGHTED && i < 500; i++)
        fprintf(f, "%s\"%s\"", i ? "," : "", s->ids[i]);
    fputs("],\"nodes\":[", f);
    for (int i = 0; i < s->nnodes && i < 500; i++)
        fprintf(f, "%s\"%s\"", i ? "," : "", s->nodes[i]);
    fputs("],\"cases\":[", f);
    for (int i = 0; i < s->ncases; i++)
        fprintf(f, "%s\"%s\"", i ? "," : "", s->cases[i]);
    fputs("]}\n", f);
    fclose(f);
    fflush(stdout);
    char cmd[16384];
    snprintf(cmd, sizeof(cmd),
             "ACCORD_URL='%s' ACCORD_USER=bench-analyst ACCORD_PASS=bench-console-pass "
             "CHROMIUM='%s' PLAYWRIGHT_CORE='%s' LOADS=%d SAMPLES='%s' node '%s/bench/console_pages.mjs'",
             base_url, chromium, pw, loads, path, ACCORD_SOURCE_DIR);
    if (system(cmd) != 0)
        printf("page loads: bench/console_pages.mjs failed\n");
}

#define ACCOUNT "bench-analyst"

/* Every API call the pages make (web/src/pages/ *.jsx), with the page sizes they ask for. */
static const call_def calls[] = {
    {"GET /api/search?value=V (search, one value)", "GET", "/api/search?value=%s&limit=200",
     ARG_VALUE, NULL},
    {"POST /api/search (1,000 values, half unknown)", "POST", "/api/search?limit=200", ARG_NONE,
     NULL},
    {"GET /api/objects/ID (object: versions, diff)", "GET", "/api/objects/%s?limit=500", ARG_ID,
     NULL},
    {"GET /api/objects/ID/relationships (table)", "GET",
     "/api/objects/%s/relationships?limit=50", ARG_NODE, NULL},
    {"GET /api/console/object-cases (object)", "GET", "/api/console/object-cases?object=%s",
     ARG_SIGHTED, NULL},
    {"GET /api/objects/ID?limit=1 (graph)", "GET", "/api/objects/%s?limit=1", ARG_NODE, NULL},
    {"GET /api/objects/ID/relationships (graph expand)", "GET",
     "/api/objects/%s/relationships?limit=100", ARG_NODE, NULL},
    {"GET /api/console/sightings?indicator (hour)", "GET",
     "/api/console/sightings?indicator=%s&bucket=hour", ARG_SIGHTED, NULL},
    {"GET /api/console/sightings?collection (day, 1 page)", "GET",
     "/api/console/sightings?collection=default&bucket=day", ARG_NONE, NULL},
    {"GET /api/console/collections (sightings, feeds)", "GET",
     "/api/console/collections?limit=100", ARG_NONE, NULL},
    {"GET /api/indicators (newest first)", "GET", "/api/indicators?limit=100", ARG_NONE, NULL},
    {"GET /api/indicators?type&valid_until_before", "GET",
     "/api/indicators?type=ipv4-addr&valid_until_before=2030-01-01T00:00:00Z&limit=100", ARG_NONE,
     NULL},
    {"GET /api/indicators?sort=last_sighting", "GET",
     "/api/indicators?sort=last_sighting&limit=100", ARG_NONE, NULL},
    {"GET /api/indicators?has_sightings&type&sort=last", "GET",
     "/api/indicators?has_sightings=true&type=ipv4-addr&sort=last_sighting&limit=100", ARG_NONE,
     NULL},
    {"GET /api/indicators?source (a member's)", "GET",
     "/api/indicators?source=" SOURCE "&limit=100", ARG_NONE, NULL},
    {"POST /api/indicators/bulk/preview (sighted ipv4)", "POST", "/api/indicators/bulk/preview",
     ARG_NONE, "{\"action\":\"revoke\",\"filter\":{\"type\":\"ipv4-addr\",\"has_sightings\":\"true\"}}"},
    {"GET /api/cases (list)", "GET", "/api/cases?limit=100", ARG_NONE, NULL},
    {"GET /api/cases/ID (case)", "GET", "/api/cases/%s", ARG_CASE, NULL},
    {"GET /api/cases/ID/vendors (121 vendors)", "GET", "/api/cases/%s/vendors?limit=100",
     ARG_CASE1, NULL},
    {"GET /api/cases/ID/messages (threads)", "GET", "/api/cases/%s/messages?limit=500", ARG_CASE1,
     NULL},
    {"GET /api/console/reads?case (unread markers)", "GET", "/api/console/reads?case=%s",
     ARG_CASE1, NULL},
    {"GET /api/console/roster (members)", "GET", "/api/console/roster", ARG_NONE, NULL},
    {"GET /api/console/peers (feeds)", "GET", "/api/console/peers?limit=100", ARG_NONE, NULL},
    {"GET /ui/", "GET", "/ui/", ARG_NONE, NULL},
};

int main(int argc, char **argv)
{
    long n = 1000000, nsight = -1;
    int loads = 100, no_pages = 0;
    const char *dir = "/tmp";
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--no-pages") == 0) { /* the API calls only */
            no_pages = 1;
            memmove(argv + i, argv + i + 1, (size_t)(argc - i) * sizeof(*argv));
            argc--;
            break;
        }
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--objects") == 0)
            n = strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--sightings") == 0)
            nsight = strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--loads") == 0)
            loads = (int)strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--dir") == 0)
            dir = argv[i + 1];
    }
    if (n < 1000 || loads < 1 || nsight < -1) {
        fprintf(stderr, "usage: bench_console [--objects N>=1000] [--sightings N] [--loads N] "
                        "[--dir DIR] [--no-pages]\n");
        return 2;
    }
    if (nsight < 0)
        nsight = n * 15 / 100;
    char cmd[4200], data[3000], ui[3000];
    dir = bench_workdir(dir, "accord-bench-console");
    snprintf(data, sizeof(data), "%s/data", dir);
    snprintf(ui, sizeof(ui), "%s/ui", BENCH_DIR);
    snprintf(cacert, sizeof(cacert), "%s/tls/cert.pem", data);
    snprintf(accord_bin, sizeof(accord_bin), "%s/accord", BENCH_DIR);
    grow(dir, data, n);

    samples *s = calloc(1, sizeof(*s));
    accord_store *st;
    accord_error err;
    static const char *const types[] = {"indicator", NULL}, *const rels[] = {"relationship", NULL};
    accord_scan_filter f = {.types = types, .limit = 200000};
    accord_scan_filter fr = {.types = rels, .limit = SAMPLES};
    if (accord_store_open(data, 0, &st, &err) || accord_store_scan(st, &f, sample_cb, s, &err) < 0 ||
        accord_store_scan(st, &fr, node_cb, s, &err) < 0 || s->n == 0) {
        fprintf(stderr, "no indicators to ask about: %s\n", err.msg);
        return 1;
    }
    /* graph nodes: only the endpoints that are stored (generated relationships may name others) */
    int kept = 0;
    for (int i = 0; i < s->nnodes; i++)
        if (accord_store_get(st, s->nodes[i], 0, exists_cb, NULL, &err) == 0)
            memmove(s->nodes[kept++], s->nodes[i], sizeof(s->nodes[0]));
    s->nnodes = kept;
    char token[256] = "";
    if (accord_account_add(st, ACCOUNT, "bench-console-pass", 1, &err) ||
        accord_token_create(st, ACCOUNT, 0, token, sizeof(token), NULL, &err)) {
        fprintf(stderr, "account: %s\n", err.msg);
        return 1;
    }
    accord_store_close(st);
    add_sightings(dir, data, s, nsight);
    add_sourced(dir, data);
    add_cases(data, s, ACCOUNT);
    /* this node's organisation and a roster of it; a peer nothing listens for */
    snprintf(cmd, sizeof(cmd), "%s/self.json", dir);
    static char args[32768];
    snprintf(args, sizeof(args), "member init --name 'Bench Org' && '%s' --data '%s' get "
             "\"$('%s' --data '%s' member show | awk 'NR==1{print $2}')\" >'%s' && '%s' --data "
             "'%s' roster create --threshold 1 '%s'",
             accord_bin, data, accord_bin, data, cmd, accord_bin, data, cmd);
    if (cli(data, args) != 0)
        printf("roster: not created\n");

    /* 1,000 values: every other one an indicator's, the rest unknown */
    size_t cap = 1000 * 180 + 64, len = 0;
    many_body = malloc(cap);
    len += (size_t)snprintf(many_body, cap, "{\"values\":[");
    for (int i = 0; i < 1000; i++) {
        if (i % 2 == 0)
            len += (size_t)snprintf(many_body + len, cap - len, "%s\"%s\"", i ? "," : "",
                                    s->values[(i * 31) % s->n]);
        else
            len += (size_t)snprintf(many_body + len, cap - len, ",\"unknown%d.example.org\"", i);
    }
    snprintf(many_body + len, cap - len, "]}");

    curl_global_init(CURL_GLOBAL_ALL);
    accord_server_options o = {
        .data_dir = data, .listen = "127.0.0.1:0", .log_fd = -1, .ui_dir = ui};
    accord_server *srv;
    if (accord_server_start(&o, &srv, NULL, 0, &err)) {
        fprintf(stderr, "%s (build the console: ninja console)\n", err.msg);
        return 1;
    }
    snprintf(base_url, sizeof(base_url), "https://localhost:%d", accord_server_port(srv));
    snprintf(auth_header, sizeof(auth_header), "Authorization: Bearer %s", token);
    snprintf(cmd, sizeof(cmd), "%s/peer.token", dir);
    snprintf(args, sizeof(args), "peer add upstream https://127.0.0.1:9/accord/ --collection "
             "11111111-2222-4333-8444-555555555555 --pull --interval 0 --token-file '%s' "
             "--cacert '%s'",
             cmd, cacert);
    FILE *tf = fopen(cmd, "w");
    if (tf) {
        fputs("not-a-token\n", tf);
        fclose(tf);
    }
    if (cli(data, args) != 0)
        printf("peer: not added\n");
    cli(data, "sync upstream"); /* fails: its error is what the feeds page shows */
    printf("accord console API benchmark over HTTPS (%s), %ld objects, %ld sightings, %d loads "
           "each; CPU: this process (server and client) per call\n",
           base_url, n, nsight, loads);

    /* the script index.html loads */
    struct curl_slist *h;
    CURL *c = client(&h);
    http_body out = {0};
    if (request(c, "/ui/", NULL, &out) == 200 && out.p) {
        const char *a = strstr(out.p, "/ui/assets/");
        const char *e = a ? strchr(a, '"') : NULL;
        if (e && e - a < (long)sizeof(asset_path))
            snprintf(asset_path, sizeof(asset_path), "%.*s", (int)(e - a), a);
    }
    free(out.p);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);

    for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
        call_def d = calls[i];
        if (strcmp(d.method, "POST") == 0 && !d.body)
            d.body = many_body;
        measure(&d, loads, s);
        if (strstr(d.fmt, "collection=default"))
            measure_feed_series(loads);
    }
    if (asset_path[0]) {
        call_def d = {"GET /ui/assets/index-*.js", "GET", asset_path, ARG_NONE, NULL};
        measure(&d, loads, s);
    }
    if (!no_pages)
        pages(data, dir, s, loads);
    accord_server_stop(srv, 1000);
    free(many_body);
    free(s);
    curl_global_cleanup();
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : 1;
}
