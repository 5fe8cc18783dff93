/*
 * bench/cvd.c - disclosure case reads at scale: one embargoed case with N vendors (default 500,
 * each a member account with a product) and M messages (default 10,000; a tenth of them in
 * vendors' private threads), then the latency of the reads that page loads make:
 *   1. the coordinator: the case, the case list, the first vendors page (500), the messages page;
 *   2. each vendor: the case, its own vendor entry (?vendor=), the first messages page (100).
 * Every read of the embargoed case writes its audit record, as in production, and is timed with
 * it.  Prints p50/p99/max of wall time per kind, p50/p99 of the thread's CPU time per read (what
 * a read costs, apart from waiting for a shared machine's cores), and the process CPU time; the
 * target is p99 < 50 ms.
 *
 * usage: bench_cvd [--vendors N] [--messages M] [--dir DIR]
 */
#include "accord.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double *cpu; /* the CPU time of each read, beside lat */

static void report(const char *what, double *v, size_t n)
{
    qsort(v, n, sizeof(*v), cmp_double);
    qsort(cpu, n, sizeof(*cpu), cmp_double);
    size_t p99 = (size_t)((double)(n - 1) * 0.99);
    printf("%-30s n=%-4zu wall p50 %6.2f p99 %6.2f max %6.2f ms | cpu p50 %5.2f p99 %5.2f ms\n",
           what, n, v[n / 2], v[p99], v[n - 1], cpu[n / 2], cpu[p99]);
}

static int die(const char *what, const accord_error *err)
{
    fprintf(stderr, "bench_cvd: %s: %s\n", what, err->msg);
    return 1;
}

int main(int argc, char **argv)
{
    int nv = 500, nm = 10000;
    const char *dir = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--vendors") == 0)
            nv = (int)strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--messages") == 0)
            nm = (int)strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--dir") == 0)
            dir = argv[i + 1];
    }
    char tmp[] = "/tmp/accord-bench-cvd-XXXXXX";
    if (!dir && !(dir = mkdtemp(tmp)))
        return 1;
    accord_store *s = NULL;
    accord_error err = {0};
    if (accord_store_open(dir, 0, &s, &err))
        return die("open", &err);
    double t0 = now_ms();
    char id[ACCORD_CASE_ID_MAX], name[64], vendor[64];
    accord_case_spec spec = {.title = "Bench case",
                             .summary = "many vendors",
                             .embargo = "2099-01-01T00:00:00Z",
                             .role = "coordinator"};
    if (accord_account_add(s, "coord", NULL, 0, &err) ||
        accord_case_open(s, "coord", &spec, id, &err))
        return die("case", &err);
    for (int v = 0; v < nv; v++) {
        snprintf(name, sizeof(name), "vendor%d", v);
        snprintf(vendor, sizeof(vendor), "Vendor %d", v);
        char purl[96];
        snprintf(purl, sizeof(purl), "pkg:npm/vendor%d-lib", v);
        accord_case_product p = {
            .vendor = vendor, .purl = purl, .affected = "<2.0.0", .fixed = "2.0.0"};
        if (accord_account_add(s, name, NULL, 0, &err) ||
            accord_case_add_vendor(s, id, "coord", vendor, name, NULL, &err) ||
            accord_case_add_product(s, id, "coord", &p, NULL, NULL, &err))
            return die("vendor", &err);
    }
    for (int m = 0; m < nm; m++) {
        int v = m % nv, priv = m % 10 == 0;
        snprintf(name, sizeof(name), "vendor%d", v);
        snprintf(vendor, sizeof(vendor), "Vendor %d", v);
        if (accord_case_post(s, id, priv ? name : "coord", "general", priv ? vendor : NULL,
                             "A message of a realistic length about the state of the fix and "
                             "when the release is planned.",
                             NULL, &err))
            return die("post", &err);
    }
    printf("setup: %d vendors, %d messages in %.1f s\n", nv, nm, (now_ms() - t0) / 1e3);

    double *lat = malloc(sizeof(double) * (size_t)(nv > 200 ? nv : 200));
    cpu = malloc(sizeof(double) * (size_t)(nv > 200 ? nv : 200));
    char *json = NULL;
    const struct {
        const char *what;
        int view;
        unsigned limit;
    } coord_reads[] = {{"coordinator: case", ACCORD_CASE_VIEW_CASE, 0},
                       {"coordinator: vendors (500)", ACCORD_CASE_VIEW_VENDORS, 500},
                       {"coordinator: messages (100)", ACCORD_CASE_VIEW_MESSAGES, 100}};
    for (size_t k = 0; k < 3; k++) {
        for (int r = 0; r < 200; r++) {
            accord_case_page pg = {.limit = coord_reads[k].limit};
            double a = now_ms(), ca = cpu_ms();
            if (accord_case_view(s, id, "coord", coord_reads[k].view, &pg, &json, &err))
                return die(coord_reads[k].what, &err);
            lat[r] = now_ms() - a;
            cpu[r] = cpu_ms() - ca;
            free(json);
        }
        report(coord_reads[k].what, lat, 200);
    }
    for (int r = 0; r < 200; r++) {
        double a = now_ms(), ca = cpu_ms();
        if (accord_case_list(s, "coord", NULL, &json, &err))
            return die("list", &err);
        lat[r] = now_ms() - a;
        cpu[r] = cpu_ms() - ca;
        free(json);
    }
    report("coordinator: case list", lat, 200);
    const char *vend_what[] = {"vendor: case", "vendor: own vendor entry",
                               "vendor: messages (100)"};
    const int vend_view[] = {ACCORD_CASE_VIEW_CASE, ACCORD_CASE_VIEW_VENDORS,
                             ACCORD_CASE_VIEW_MESSAGES};
    for (int k = 0; k < 3; k++) {
        for (int v = 0; v < nv; v++) {
            snprintf(name, sizeof(name), "vendor%d", v);
            snprintf(vendor, sizeof(vendor), "Vendor %d", v);
            accord_case_page pg = {.limit = 100, .vendor = k == 1 ? vendor : NULL};
            double a = now_ms(), ca = cpu_ms();
            if (accord_case_view(s, id, name, vend_view[k], &pg, &json, &err))
                return die(vend_what[k], &err);
            lat[v] = now_ms() - a;
            cpu[v] = cpu_ms() - ca;
            free(json);
        }
        report(vend_what[k], lat, (size_t)nv);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("cpu: user %.2f s, sys %.2f s\n", ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
           ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
    free(lat), free(cpu);
    accord_store_close(s);
    if (dir == tmp) {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", tmp);
    }
    return 0;
}
