/*
 * bench/import.c - import throughput and memory of the store.
 *
 * Generates a STIX 2.1 bundle of N objects (default 1,000,000) in realistic proportions (45%
 * indicators with patterns over IPs, domains, URLs and hashes, 30% SCOs, 20% relationships, 5%
 * malware/identity/report), then measures, each phase in a child process so its peak RSS is its
 * own:
 *   1. import of the bundle into an empty store;
 *   2. import of N/10 new objects into the store that now holds N (the append case);
 *   3. re-import of the N/10 file (all duplicates);
 *   4. import of a bundle a tenth the size into an empty store (peak RSS against file size);
 *   5. the ATT&CK bundles of ../shared/data, when present.
 * It prints objects/s (wall and per CPU-second) and peak RSS for each; no assertions.
 *
 * usage: bench_import [--objects N] [--dir DIR]
 *        bench_import --generate FILE [--objects N] [--seed S]    (only write the bundle)
 */
#include "accord.h"
#include "bench.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static void uuid(char *out)
{
    uint64_t a = rnd(), b = rnd();
    snprintf(out, 37, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32),
             (unsigned)(a >> 16) & 0xffff, (unsigned)a & 0xfff, (unsigned)(0x8000 | (b >> 50)),
             (unsigned long long)(b & 0xffffffffffffULL));
}

static void hex(char *out, int n)
{
    static const char d[] = "0123456789abcdef";
    for (int i = 0; i < n; i++)
        out[i] = d[rnd() & 15];
    out[n] = '\0';
}

static void observable(char *type, char *value, char *path)
{
    uint64_t r = rnd();
    switch (r % 4) {
    case 0:
        snprintf(type, 32, "ipv4-addr");
        snprintf(path, 64, "ipv4-addr:value");
        snprintf(value, 160, "%u.%u.%u.%u", (unsigned)(r >> 8) & 255, (unsigned)(r >> 16) & 255,
                 (unsigned)(r >> 24) & 255, (unsigned)(r >> 32) & 255);
        break;
    case 1:
        snprintf(type, 32, "domain-name");
        snprintf(path, 64, "domain-name:value");
        snprintf(value, 160, "h%llx.example%u.com", (unsigned long long)(r >> 20),
                 (unsigned)(r >> 8) & 1023);
        break;
    case 2:
        snprintf(type, 32, "url");
        snprintf(path, 64, "url:value");
        snprintf(value, 160, "http://c%u.example.net/p/%llx", (unsigned)(r >> 8) & 65535,
                 (unsigned long long)(r >> 24));
        break;
    default: {
        char h[65];
        hex(h, 64);
        snprintf(type, 32, "file");
        snprintf(path, 64, "file:hashes.'SHA-256'");
        snprintf(value, 160, "%s", h);
    }
    }
}

/* Writes one object of the generated mix. */
static void write_object(FILE *f, uint64_t i, char ids[][64], size_t nids)
{
    char u[40], ts[32], type[32], value[160], path[64];
    uuid(u);
    snprintf(ts, sizeof(ts), "2025-%02u-%02uT%02u:%02u:%02u.%03uZ", (unsigned)(1 + i % 12),
             (unsigned)(1 + i % 28), (unsigned)(i % 24), (unsigned)(i % 60),
             (unsigned)(i / 60 % 60), (unsigned)(i % 1000));
    unsigned kind = (unsigned)(rnd() % 100);
    if (kind < 45) {
        observable(type, value, path);
        fprintf(f,
                "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--%s\","
                "\"created\":\"%s\",\"modified\":\"%s\",\"name\":\"Malicious %s\","
                "\"description\":\"Observed in campaign %llu; block at the perimeter.\","
                "\"indicator_types\":[\"malicious-activity\"],\"pattern\":\"[%s = '%s']\","
                "\"pattern_type\":\"stix\",\"valid_from\":\"%s\",\"labels\":[\"coalition\"],"
                "\"confidence\":80,\"object_marking_refs\":[\"marking-definition--"
                "34098fce-860f-48ae-8e50-ebd3cc5e41da\"]}",
                u, ts, ts, type, (unsigned long long)(rnd() % 5000), path, value, ts);
        snprintf(ids[i % nids], 64, "indicator--%s", u);
    } else if (kind < 75) {
        observable(type, value, path);
        if (strcmp(type, "file") == 0)
            fprintf(f, "{\"type\":\"file\",\"spec_version\":\"2.1\",\"id\":\"file--%s\","
                       "\"hashes\":{\"SHA-256\":\"%s\"},\"name\":\"payload%llu.bin\"}",
                    u, value, (unsigned long long)i);
        else
            fprintf(f, "{\"type\":\"%s\",\"spec_version\":\"2.1\",\"id\":\"%s--%s\","
                       "\"value\":\"%s\"}",
                    type, type, u, value);
    } else if (kind < 95) {
        const char *src = ids[rnd() % nids], *dst = ids[rnd() % nids];
        fprintf(f,
                "{\"type\":\"relationship\",\"spec_version\":\"2.1\",\"id\":\"relationship--%s\","
                "\"created\":\"%s\",\"modified\":\"%s\",\"relationship_type\":\"related-to\","
                "\"source_ref\":\"%s\",\"target_ref\":\"%s\"}",
                u, ts, ts, src[0] ? src : "malware--8ae20dde-5e7c-4d47-9b1a-2f2c2e3c1c11",
                dst[0] ? dst : "malware--8ae20dde-5e7c-4d47-9b1a-2f2c2e3c1c11");
    } else {
        fprintf(f,
                "{\"type\":\"malware\",\"spec_version\":\"2.1\",\"id\":\"malware--%s\","
                "\"created\":\"%s\",\"modified\":\"%s\",\"name\":\"Family %llu\","
                "\"is_family\":true,\"malware_types\":[\"trojan\"],"
                "\"description\":\"A remote access trojan distributed through phishing.\"}",
                u, ts, ts, (unsigned long long)i);
        snprintf(ids[i % nids], 64, "malware--%s", u);
    }
}

static int generate(const char *path, uint64_t n)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    static char ids[4096][64];
    memset(ids, 0, sizeof(ids));
    fprintf(f, "{\"type\":\"bundle\",\"id\":\"bundle--6ba7b810-9dad-41d1-80b4-00c04fd430c8\","
               "\"objects\":[\n");
    for (uint64_t i = 0; i < n; i++) {
        write_object(f, i, ids, 4096);
        fputs(i + 1 < n ? ",\n" : "\n", f);
    }
    fputs("]}\n", f);
    return fclose(f);
}

static char count_file[600] = "/tmp/accord-bench-count";

/* Imports `file` into the store at `dir` in a child; prints one line. */
static void phase(const char *label, const char *dir, const char *file)
{
    fflush(stdout);
    double t0 = now_s();
    pid_t pid = fork();
    if (pid == 0) {
        accord_store *s;
        accord_error err;
        if (accord_store_open(dir, 0, &s, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            _exit(1);
        }
        int fd = open(file, O_RDONLY);
        accord_import_stats st;
        int rc = accord_import_fd(s, fd, NULL, &st, &err);
        accord_store_close(s);
        if (rc && rc != ACCORD_ESTIX)
            fprintf(stderr, "%s: %s\n", label, err.msg);
        printf("  %-44s %9llu read %9llu new %9llu dup %6llu rejected", label,
               (unsigned long long)st.read, (unsigned long long)st.accepted,
               (unsigned long long)st.duplicates, (unsigned long long)st.rejected);
        /* the objects count travels to the parent in the exit status's place: a pipe is overkill */
        FILE *f = fopen(count_file, "w");
        if (f) {
            fprintf(f, "%llu\n", (unsigned long long)st.read);
            fclose(f);
        }
        fflush(stdout);
        _exit(rc && rc != ACCORD_ESTIX ? 1 : 0);
    }
    int status;
    struct rusage ru;
    wait4(pid, &status, 0, &ru);
    double wall = now_s() - t0;
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    struct stat st;
    double mb = stat(file, &st) == 0 ? (double)st.st_size / 1e6 : 0;
    unsigned long long n = 0;
    FILE *f = fopen(count_file, "r");
    if (f) {
        if (fscanf(f, "%llu", &n) != 1)
            n = 0;
        fclose(f);
    }
    printf("\n  %-44s %.2f s wall, %.2f s CPU, %.0f MB input, peak RSS %.1f MB, %.0f objects/s "
           "(%.0f per CPU-second)\n",
           "", wall, cpu, mb, (double)ru.ru_maxrss / 1024.0, wall > 0 ? (double)n / wall : 0,
           cpu > 0 ? (double)n / cpu : 0);
    (void)status;
}

/* Counts objects in a file by a quick scan, for objects/s lines. */
static uint64_t count_objects(const char *dir)
{
    accord_store *s;
    accord_error err;
    accord_store_stats st = {0};
    if (accord_store_open(dir, ACCORD_STORE_READONLY, &s, &err) == 0) {
        accord_store_stats_get(s, &st, NULL, NULL, &err);
        accord_store_close(s);
    }
    return (uint64_t)st.versions;
}

static void timed_phase(const char *label, const char *dir, const char *file, uint64_t expect)
{
    uint64_t before = count_objects(dir);
    double t0 = now_s();
    phase(label, dir, file);
    double dt = now_s() - t0;
    uint64_t stored = count_objects(dir) - before;
    printf("  %-44s => %.0f objects/s (%llu of %llu objects stored)\n", "",
           dt > 0 ? (double)expect / dt : 0, (unsigned long long)stored,
           (unsigned long long)expect);
}

int main(int argc, char **argv)
{
    uint64_t n = 1000000;
    const char *base = "/tmp", *gen = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--objects") == 0)
            n = strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--dir") == 0)
            base = argv[i + 1];
        else if (strcmp(argv[i], "--generate") == 0)
            gen = argv[i + 1];
        else if (strcmp(argv[i], "--seed") == 0)
            rng_state ^= strtoull(argv[i + 1], NULL, 10) * 0x2545f4914f6cdd1dULL;
    }
    if (gen)
        return generate(gen, n) ? 1 : 0;
    char cmd[512], big[512], small[512], tenth[512], store[512], store2[512];
    base = bench_workdir(base, "accord-bench");
    snprintf(big, sizeof(big), "%s/bundle-%llu.json", base, (unsigned long long)n);
    snprintf(small, sizeof(small), "%s/append-%llu.json", base, (unsigned long long)(n / 10));
    snprintf(tenth, sizeof(tenth), "%s/tenth-%llu.json", base, (unsigned long long)(n / 10));
    snprintf(store, sizeof(store), "%s/store", base);
    snprintf(store2, sizeof(store2), "%s/store-small", base);
    snprintf(count_file, sizeof(count_file), "%s/count", base);
    double t0 = now_s();
    if (generate(big, n) || generate(small, n / 10) || generate(tenth, n / 10))
        return 1;
    printf("accord import benchmark: generated %llu + %llu + %llu objects in %.1f s\n",
           (unsigned long long)n, (unsigned long long)(n / 10), (unsigned long long)(n / 10),
           now_s() - t0);
    timed_phase("1. empty store <- generated bundle", store, big, n);
    timed_phase("2. append to the full store", store, small, n / 10);
    timed_phase("3. re-import (all duplicates)", store, small, n / 10);
    timed_phase("4. empty store <- bundle a tenth the size", store2, tenth, n / 10);
    const char *attack[] = {"enterprise-attack", "ics-attack", "mobile-attack"};
    for (int i = 0; i < 3; i++) {
        char dir[512];
        snprintf(dir, sizeof(dir), ACCORD_SOURCE_DIR "/../shared/data/attack-stix-data/%s",
                 attack[i]);
        DIR *d = opendir(dir);
        if (!d)
            continue;
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strstr(e->d_name, ".json"))
                continue;
            char file[1024], st[600], label[128];
            snprintf(file, sizeof(file), "%s/%s", dir, e->d_name);
            snprintf(st, sizeof(st), "%s/attack-%s", base, e->d_name);
            snprintf(label, sizeof(label), "5. ATT&CK %.100s", e->d_name);
            phase(label, st, file);
        }
        closedir(d);
    }
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
    return system(cmd) == 0 ? 0 : 1;
}
