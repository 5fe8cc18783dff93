/*
 * bench/console.c - latency of the API calls the web console's pages make, and of its files.
 *
 * Starts `accord serve` in this process (self-signed TLS on 127.0.0.1, any free port, the console
 * from BUILD_DIR/ui), fills the store with --objects generated objects (default 1,000,000;
 * bench_import's mix: 45% indicators, 30% SCOs, 20% relationships, 5% malware), then times, each
 * --loads times (default 100) with one client:
 *   - GET /api/search?value=V          one value an indicator mentions (the search page, one value)
 *   - POST /api/search                 1,000 pasted values, half of them unknown
 *   - GET /api/objects/ID              an indicator with its versions and signatures
 *   - GET /api/objects/ID/relationships  the relationships table's first page
 *   - GET /ui/ and its script          what a page load fetches before its API calls
 * and prints p50/p99 in milliseconds, with the process's CPU time (server and client together).
 * Targets (docs/console.md): API p99 <= 150 ms.  Page loads in a browser: bench/console_pages.mjs.
 *
 * usage: bench_console [--objects N] [--loads N] [--dir DIR]
 */
#include "accord.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define SAMPLES 2000

static char base_url[256], auth_header[256], cacert[4096];

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

typedef struct sink {
    char *p;
    size_t len, cap;
} sink;

static size_t on_data(char *ptr, size_t size, size_t n, void *ud)
{
    sink *s = ud;
    size_t add = size * n;
    if (s->len + add + 1 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 65536;
        while (cap < s->len + add + 1)
            cap *= 2;
        char *p = realloc(s->p, cap);
        if (!p)
            return 0;
        s->p = p;
        s->cap = cap;
    }
    memcpy(s->p + s->len, ptr, add);
    s->len += add;
    s->p[s->len] = '\0';
    return add;
}

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

static long request(CURL *c, const char *path, const char *post, sink *s)
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
    printf("%-44s p50 %8.2f ms  p99 %8.2f ms  (%d calls, %d failed, CPU %.2f s)\n", label,
           ms[n / 2], ms[p99], n, failures, cpu);
}

/* What the store holds to ask about: indicator ids and the values their patterns name. */
typedef struct samples {
    char ids[SAMPLES][64];
    char values[SAMPLES][168];
    int n;
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

typedef long (*call_fn)(CURL *c, int i, const samples *s, sink *out);

static long call_search_one(CURL *c, int i, const samples *s, sink *out)
{
    char path[512];
    char *v = curl_easy_escape(c, s->values[(i * 7919) % s->n], 0);
    snprintf(path, sizeof(path), "/api/search?value=%s&limit=200", v);
    curl_free(v);
    return request(c, path, NULL, out);
}

static char *many_body;

static long call_search_many(CURL *c, int i, const samples *s, sink *out)
{
    (void)i;
    (void)s;
    return request(c, "/api/search?limit=500", many_body, out);
}

static long call_object(CURL *c, int i, const samples *s, sink *out)
{
    char path[256];
    snprintf(path, sizeof(path), "/api/objects/%s?limit=500", s->ids[(i * 104729) % s->n]);
    return request(c, path, NULL, out);
}

static long call_relationships(CURL *c, int i, const samples *s, sink *out)
{
    char path[256];
    snprintf(path, sizeof(path), "/api/objects/%s/relationships?limit=50",
             s->ids[(i * 15485863) % s->n]);
    return request(c, path, NULL, out);
}

static char asset_path[256];

static long call_index(CURL *c, int i, const samples *s, sink *out)
{
    (void)i;
    (void)s;
    return request(c, "/ui/", NULL, out);
}

static long call_asset(CURL *c, int i, const samples *s, sink *out)
{
    (void)i;
    (void)s;
    return request(c, asset_path, NULL, out);
}

static void measure(const char *label, call_fn f, int loads, const samples *s)
{
    struct curl_slist *h;
    CURL *c = client(&h);
    sink out = {0};
    double *ms = calloc((size_t)loads, sizeof(double));
    int failures = 0;
    double cpu0 = cpu_s();
    for (int i = 0; i < loads; i++) {
        double t0 = now_s();
        long code = f(c, i, s, &out);
        ms[i] = (now_s() - t0) * 1e3;
        failures += code != 200;
    }
    report(label, ms, loads, failures, cpu_s() - cpu0);
    free(ms);
    free(out.p);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
}

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
    accord_store *st;
    accord_error err;
    if (accord_store_open(data, 0, &st, &err) ||
        accord_account_add(st, "bench-analyst", "bench-console-pass", 1, &err)) {
        printf("page loads: no account: %s\n", err.msg);
        return;
    }
    accord_store_close(st);
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

int main(int argc, char **argv)
{
    long n = 1000000;
    int loads = 100;
    const char *dir = "/tmp/accord-bench-console";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--objects") == 0)
            n = strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--loads") == 0)
            loads = (int)strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--dir") == 0)
            dir = argv[i + 1];
    }
    if (n < 1000 || loads < 1) {
        fprintf(stderr, "usage: bench_console [--objects N>=1000] [--loads N] [--dir DIR]\n");
        return 2;
    }
    char cmd[4200], data[3000], ui[3000];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", dir, dir);
    if (system(cmd) != 0)
        return 1;
    snprintf(data, sizeof(data), "%s/data", dir);
    snprintf(ui, sizeof(ui), "%s/ui", BENCH_DIR);
    snprintf(cacert, sizeof(cacert), "%s/tls/cert.pem", data);
    grow(dir, data, n);

    samples *s = calloc(1, sizeof(*s));
    accord_store *st;
    accord_error err;
    static const char *const types[] = {"indicator", NULL};
    accord_scan_filter f = {.types = types, .limit = 200000};
    if (accord_store_open(data, 0, &st, &err) || accord_store_scan(st, &f, sample_cb, s, &err) < 0 ||
        s->n == 0) {
        fprintf(stderr, "no indicators to ask about: %s\n", err.msg);
        return 1;
    }
    accord_store_close(st);
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
    char token[200];
    if (accord_server_start(&o, &srv, token, sizeof(token), &err)) {
        fprintf(stderr, "%s (build the console: ninja console)\n", err.msg);
        return 1;
    }
    snprintf(base_url, sizeof(base_url), "https://localhost:%d", accord_server_port(srv));
    snprintf(auth_header, sizeof(auth_header), "Authorization: Bearer %s", token);
    printf("accord console API benchmark over HTTPS (%s), %ld objects, %d loads each\n", base_url,
           n, loads);

    /* the script index.html loads */
    struct curl_slist *h;
    CURL *c = client(&h);
    sink out = {0};
    if (request(c, "/ui/", NULL, &out) == 200 && out.p) {
        const char *a = strstr(out.p, "/ui/assets/");
        const char *e = a ? strchr(a, '"') : NULL;
        if (e && e - a < (long)sizeof(asset_path))
            snprintf(asset_path, sizeof(asset_path), "%.*s", (int)(e - a), a);
    }
    free(out.p);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);

    measure("GET /api/search?value=V", call_search_one, loads, s);
    measure("POST /api/search (1,000 values)", call_search_many, loads, s);
    measure("GET /api/objects/ID", call_object, loads, s);
    measure("GET /api/objects/ID/relationships", call_relationships, loads, s);
    measure("GET /ui/", call_index, loads, s);
    if (asset_path[0])
        measure("GET /ui/assets/index-*.js", call_asset, loads, s);
    pages(data, dir, s, loads);
    accord_server_stop(srv, 1000);
    free(many_body);
    free(s);
    curl_global_cleanup();
    return 0;
}
