/*
 * bench/sightings.c - what the import of indicators and of sightings costs the store.
 *
 * Generates --indicators indicators (default 10,000; each created by one of 8 identities, with
 * created_by_ref, which the console's source filter reads) and --sightings sightings (default
 * 100,000) of the first 1,000 of them over 90 days, one in ten of them followed later in the file
 * by a second version, then imports, into an empty store and the default collection, the
 * indicators (function import_indicators) and then the sightings (import_sightings), and prints
 * each phase's wall and CPU time (user+sys).  The per-object work that matters here is a few
 * SQLite statements, so the figure to compare between builds is the instruction count of each
 * phase, from callgrind:
 *
 *   valgrind --tool=callgrind --collect-atstart=no --toggle-collect=import_sightings \
 *       bench_sightings --indicators 2000 --sightings 20000
 *
 * (and --toggle-collect=import_indicators for the first phase).
 *
 * usage: bench_sightings [--indicators N] [--sightings N] [--dir DIR]
 */
#include "accord.h"
#include "bench.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define SIGHTED 1000
#define SOURCES 8

static void indicator_id(long i, char *out, size_t cap)
{
    snprintf(out, cap, "indicator--5a000000-0000-4000-8000-%012ld", i);
}

static int write_indicators(const char *path, long n)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    for (long i = 0; i < n; i++) {
        char id[64];
        indicator_id(i, id, sizeof(id));
        fprintf(f,
                "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"%s\",\"created\":"
                "\"2026-01-01T00:00:00.000Z\",\"modified\":\"2026-01-01T00:00:00.000Z\","
                "\"created_by_ref\":\"identity--5c000000-0000-4000-8000-%012ld\",\"pattern\":"
                "\"[ipv4-addr:value = '10.%ld.%ld.%ld']\",\"pattern_type\":\"stix\","
                "\"valid_from\":\"2026-01-01T00:00:00Z\"}\n",
                id, i % SOURCES, i >> 16 & 255, i >> 8 & 255, i & 255);
    }
    return fclose(f);
}

static void sighting(FILE *f, long i, int version, long nind)
{
    char ts[40], id[64];
    int64_t t = (1772409600LL + (i * 7919) % (90 * 86400)) * 1000000;
    accord_timestamp_format(t, ts, sizeof(ts));
    indicator_id(i % (nind < SIGHTED ? nind : SIGHTED), id, sizeof(id));
    fprintf(f,
            "{\"type\":\"sighting\",\"spec_version\":\"2.1\",\"id\":\"sighting--5b000000-0000-"
            "4000-8000-%012ld\",\"created\":\"%s\",\"modified\":\"%s\",\"first_seen\":\"%s\","
            "\"count\":%ld,\"sighting_of_ref\":\"%s\"}\n",
            i, ts, version ? "2026-12-01T00:00:00.000Z" : ts, ts, i % 5 + 1 + version, id);
}

static int write_sightings(const char *path, long n, long nind)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    for (long i = 0; i < n; i++) {
        sighting(f, i, 0, nind);
        if (i >= 100 && (i - 100) % 10 == 0) /* a second version of an earlier one */
            sighting(f, i - 100, 1, nind);
    }
    return fclose(f);
}

static int import_path(accord_store *st, const char *path, accord_import_stats *stats)
{
    accord_error err;
    int fd = open(path, O_RDONLY), rc = -1;
    if (fd >= 0) {
        rc = accord_import_fd(st, fd, NULL, stats, &err);
        close(fd);
    }
    if (rc)
        fprintf(stderr, "import %s: %s\n", path, fd < 0 ? "cannot open" : err.msg);
    return rc;
}

/* the phases, by name for callgrind's --toggle-collect */
__attribute__((noinline)) int import_indicators(accord_store *st, const char *path,
                                                accord_import_stats *stats);
__attribute__((noinline)) int import_sightings(accord_store *st, const char *path,
                                               accord_import_stats *stats);

__attribute__((noinline)) int import_indicators(accord_store *st, const char *path,
                                                accord_import_stats *stats)
{
    return import_path(st, path, stats);
}

__attribute__((noinline)) int import_sightings(accord_store *st, const char *path,
                                               accord_import_stats *stats)
{
    return import_path(st, path, stats);
}

static void phase(const char *label, int (*fn)(accord_store *, const char *, accord_import_stats *),
                  accord_store *st, const char *path)
{
    accord_import_stats stats = {0};
    double w = now_s(), c = cpu_s();
    int rc = fn(st, path, &stats);
    w = now_s() - w;
    c = cpu_s() - c;
    printf("%-11s %8lld objects  %7.2f s wall  %7.2f s CPU  %9.0f objects/CPU-s%s\n", label,
           (long long)stats.accepted, w, c, c > 0 ? (double)stats.accepted / c : 0.0,
           rc ? "  (failed)" : "");
}

int main(int argc, char **argv)
{
    long nind = 10000, nsight = 100000;
    const char *dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--indicators") && i + 1 < argc)
            nind = strtol(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--sightings") && i + 1 < argc)
            nsight = strtol(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
            dir = argv[++i];
        else {
            fprintf(stderr,
                    "usage: bench_sightings [--indicators N] [--sightings N] [--dir DIR]\n");
            return 2;
        }
    }
    if (nind < 1 || nind > 100000000 || nsight < 0 || nsight > 100000000) {
        fprintf(stderr, "bench_sightings: counts out of range\n");
        return 2;
    }
    char tmp[] = "/tmp/bench-sightings-XXXXXX", data[4200], ind[4200], sig[4200], cmd[4300];
    if (!dir && !(dir = mkdtemp(tmp))) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(data, sizeof(data), "%s/data", dir);
    snprintf(ind, sizeof(ind), "%s/indicators.json", dir);
    snprintf(sig, sizeof(sig), "%s/sightings.json", dir);
    if (write_indicators(ind, nind) || write_sightings(sig, nsight, nind)) {
        fprintf(stderr, "bench_sightings: cannot write the inputs in %s\n", dir);
        return 1;
    }
    accord_store *st;
    accord_error err;
    if (accord_store_open(data, 0, &st, &err)) {
        fprintf(stderr, "bench_sightings: %s\n", err.msg);
        return 1;
    }
    phase("indicators", import_indicators, st, ind);
    phase("sightings", import_sightings, st, sig);
    accord_store_close(st);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (dir == tmp && system(cmd) != 0)
        fprintf(stderr, "bench_sightings: cannot remove %s\n", dir);
    return 0;
}
