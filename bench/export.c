/*
 * bench/export.c - defender export throughput.
 *
 * Generates N indicators (default 1,000,000; --objects 10000000 for the target) as JSON
 * lines - 40% IPv4 addresses, 5% IPv4 networks, 25% domains, 15% URLs, 15% SHA-256 hashes, 5%
 * of them expired, TLP:GREEN, confidence 80 - imports them into a temporary store with
 * accord_import_fd, then measures:
 *   1. accord_export_select: the store scan, pattern translation, allow-list and sort, once;
 *   2. accord_export_write for each format into a sink that counts bytes (stix reads the
 *      indicators' bodies back from the store as it writes).
 * A format's full export time is (1) + its (2); the target is under 20 s for 10 million.
 *
 * --check also prints a 64-bit FNV-1a digest of each format's output (file names and bytes), so
 * that a change meant to make exports faster can be shown to write the same bytes: run it before
 * and after on the same store (--dir DIR --keep) and compare the digests.  The digest is taken in
 * the sink, so the write times of a --check run include it.
 *
 * usage: bench_export [--objects N] [--dir DIR] [--keep] [--check] [--formats F,F,...|none]
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

static uint64_t rng_state = 0x2545f4914f6cdd1dULL;

static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

/* The pattern of indicator i. */
static void pattern(char *out, size_t outlen)
{
    uint64_t r = rnd();
    unsigned k = (unsigned)(r % 100);
    unsigned a = (unsigned)(r >> 8), b = (unsigned)(r >> 40);
    if (k < 40)
        snprintf(out, outlen, "[ipv4-addr:value = '%u.%u.%u.%u']", 11 + a % 180, (a >> 8) & 255,
                 (a >> 16) & 255, 1 + (a >> 24) % 254);
    else if (k < 45)
        snprintf(out, outlen, "[ipv4-addr:value = '%u.%u.%u.0/24']", 11 + a % 180, (a >> 8) & 255,
                 (a >> 16) & 255);
    else if (k < 70)
        snprintf(out, outlen, "[domain-name:value = 'h%x.bench%u.net']", a, b % 4096);
    else if (k < 85)
        snprintf(out, outlen, "[url:value = 'http://c%u.bench.net/p/%x']", b % 65536, a);
    else
        snprintf(out, outlen, "[file:hashes.'SHA-256' = '%016llx%016llx%016llx%016llx']",
                 (unsigned long long)r, (unsigned long long)rnd(), (unsigned long long)rnd(),
                 (unsigned long long)rnd());
}

static int generate(FILE *f, uint64_t n)
{
    char p[256];
    for (uint64_t i = 0; i < n; i++) {
        pattern(p, sizeof(p));
        int expired = rnd() % 20 == 0;
        fprintf(f,
                "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--%08llx-"
                "0000-4000-8000-%012llx\",\"created\":\"2025-01-01T00:00:00.000Z\","
                "\"modified\":\"2025-01-01T00:00:00.000Z\",\"name\":\"bench %llu\","
                "\"pattern\":\"%s\",\"pattern_type\":\"stix\","
                "\"valid_from\":\"2025-01-01T00:00:00Z\"%s,\"confidence\":80,"
                "\"object_marking_refs\":[\"marking-definition--"
                "34098fce-860f-48ae-8e50-ebd3cc5e41da\"]}\n",
                (unsigned long long)(i >> 16), (unsigned long long)(rnd() & 0xffffffffffffULL),
                (unsigned long long)i, p,
                expired ? ",\"valid_until\":\"2025-03-01T00:00:00Z\"" : "");
    }
    return ferror(f) ? -1 : 0;
}

typedef struct sink {
    uint64_t bytes;
    int check;       /* --check: digest what is written */
    uint64_t digest; /* FNV-1a over each file's name and bytes */
} sink;

static uint64_t fnv(uint64_t h, const void *p, size_t len)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < len; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

static int count_cb(void *ud, const char *file, const char *data, size_t len)
{
    sink *k = ud;
    k->bytes += len;
    if (k->check && len == 0 && file) /* a new file starts: its name is part of the output */
        k->digest = fnv(k->digest, file, strlen(file) + 1);
    if (k->check)
        k->digest = fnv(k->digest, data, len);
    return 0;
}

/* CPU seconds (user + system) of this process so far: the machine is shared, so wall time
 * alone says little. */
/* The system part of cpu_s (page faults of a growing selection, reads of the store's pages): on
 * a virtual machine under load it is a large and variable share, so it is printed apart. */
static double sys_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static long peak_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024;
}

int main(int argc, char **argv)
{
    uint64_t n = 1000000;
    const char *dir = NULL;
    int keep = 0, check = 0;
    const char *only = NULL; /* --formats: a comma-separated subset ("none": select only) */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--objects") == 0 && i + 1 < argc) {
            char *end;
            n = strtoull(argv[++i], &end, 10);
        } else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
            dir = argv[++i];
        } else if (strcmp(argv[i], "--formats") == 0 && i + 1 < argc) {
            only = argv[++i];
        } else if (strcmp(argv[i], "--keep") == 0) {
            keep = 1;
        } else if (strcmp(argv[i], "--check") == 0) {
            check = 1;
        } else {
            fprintf(stderr, "usage: bench_export [--objects N] [--dir DIR] [--keep] [--check] "
                            "[--formats F,F,...|none]\n");
            return 2;
        }
    }
    char tmp[256] = BENCH_DIR "/bench-export-XXXXXX";
    if (!dir && !(dir = mkdtemp(tmp))) {
        perror("mkdtemp");
        return 1;
    }
    char store_dir[512], input[512];
    snprintf(store_dir, sizeof(store_dir), "%s/store", dir);
    snprintf(input, sizeof(input), "%s/indicators.jsonl", dir);
    accord_store *s = NULL;
    accord_error err = {0};
    if (accord_store_open(store_dir, 0, &s, &err)) {
        fprintf(stderr, "open: %s\n", err.msg);
        return 1;
    }
    accord_store_stats st0;
    accord_store_stats_light(s, &st0, &err);
    if (st0.versions < (int64_t)n) {
        double t = now_s();
        FILE *f = fopen(input, "w");
        if (!f || generate(f, n) || fclose(f)) {
            perror(input);
            return 1;
        }
        int fd = open(input, O_RDONLY);
        accord_import_options o = {.batch_objects = 50000};
        accord_import_stats ist;
        int rc = accord_import_fd(s, fd, &o, &ist, &err);
        close(fd);
        unlink(input);
        if (rc) {
            fprintf(stderr, "import: %s\n", err.msg);
            return 1;
        }
        printf("generated and imported %llu indicators in %.1f s\n", (unsigned long long)n,
               now_s() - t);
    }
    /* exports read the store as `accord export` does: read-only (a memory map measured no
     * faster in CPU time and counts every mapped page in RSS) */
    accord_store_close(s);
    if (accord_store_open(store_dir, ACCORD_STORE_READONLY, &s, &err)) {
        fprintf(stderr, "open: %s\n", err.msg);
        return 1;
    }
    accord_export_filter f = {.at_us = 0, .min_confidence = -1, .max_tlp = -1};
    accord_export_set *set = NULL;
    double t0 = now_s(), c0 = cpu_s(), s0 = sys_s();
    if (accord_export_select(s, &f, &set, &err)) {
        fprintf(stderr, "select: %s\n", err.msg);
        return 1;
    }
    double sel = now_s() - t0, csel = cpu_s() - c0, ssel = sys_s() - s0;
    accord_export_stats es;
    accord_export_set_stats(set, &es);
    printf("select: %llu indicators scanned, %llu active, %llu values in %.2f s "
           "(CPU %.2f s of which system %.2f s, %.0f indicators/s), peak RSS %ld MB\n",
           (unsigned long long)es.scanned, (unsigned long long)es.selected,
           (unsigned long long)es.items, sel, csel, ssel, (double)es.scanned / sel, peak_rss_mb());
    static const char *const formats[] = {"zeek-intel",
                                          "suricata-dataset",
                                          "suricata-rules",
                                          "rpz",
                                          "nft",
                                          "csv",
                                          "plain",
                                          "misp-feed",
                                          "stix"};
    /* total = select + write: the time of one `accord export --format F` */
    printf("%-18s %9s %9s %9s %9s %10s %14s %9s\n", "format", "write s", "write cpu", "total s",
           "total cpu", "MB", "indicators/s", "write sys");
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        accord_export_options o = {.format = formats[i]};
        sink k = {.check = check, .digest = 0xcbf29ce484222325ULL};
        size_t fl = strlen(formats[i]);
        const char *hit = only ? strstr(only, formats[i]) : NULL;
        if (only && !(hit && (hit == only || hit[-1] == ',') && (!hit[fl] || hit[fl] == ',')))
            continue;
        double t = now_s(), c = cpu_s(), sy = sys_s();
        if (accord_export_write(set, &o, count_cb, &k, NULL, &err)) {
            fprintf(stderr, "%s: %s\n", formats[i], err.msg);
            return 1;
        }
        double w = now_s() - t, cw = cpu_s() - c;
        printf("%-18s %9.2f %9.2f %9.2f %9.2f %10.1f %14.0f %9.2f", formats[i], w, cw, sel + w,
               csel + cw, (double)k.bytes / 1e6, (double)es.scanned / (sel + w), sys_s() - sy);
        if (check)
            printf("  digest %016llx", (unsigned long long)k.digest);
        printf("\n");
    }
    printf("peak RSS %ld MB\n", peak_rss_mb());
    accord_export_set_free(set);
    accord_store_close(s);
    if (!keep && dir == tmp) {
        char cmd[600];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", dir);
    }
    return 0;
}
