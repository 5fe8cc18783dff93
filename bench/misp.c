/*
 * bench/misp.c - MISP import throughput and memory.
 *
 * Generates MISP events shaped like the CIRCL OSINT and vendor events (about 60% to_ids
 * attributes over IPs, domains, URLs, hashes and filename|hash pairs; 30% observed values; 5%
 * text; 5% of the attributes grouped in file and domain-ip objects; tags, a TLP tag and a galaxy
 * per event) and imports them into an empty store, each case in a child process so its peak RSS
 * is its own:
 *   1. ATTRS attributes spread over events of PER attributes (default 1,000,000 in events of
 *      1,000): the bulk import of a MISP instance's history;
 *   2. one event of BIG attributes (default 350,000): the events MISP itself struggles with;
 *   3. re-import of case 1's events, unchanged: each event's text was imported cleanly before, so
 *      it is counted, not mapped (docs/MISP.md "Unchanged events");
 *   4. re-import of case 1's events with one byte of each event's text changed in a property the
 *      mapping ignores: every event mapped again, every object a duplicate (what an edited event
 *      costs for its unchanged attributes);
 *   5. NEW attributes (default ATTRS / 10) in new events into the store of case 1: an incremental
 *      import into a store that holds a large one already, to compare with case 1's rate;
 *   6. SQLite alone: the rows case 1 wrote (objects, collection members, indicators, export
 *      rows, audit records and their checkpoints, the sorted runs, meta) copied into an empty
 *      store by one INSERT ... SELECT per table in one transaction, with the store's settings:
 *      what storing those rows costs SQLite with no mapping, parsing, hashing or other accord
 *      work, in the most favourable order.  No import of the same rows can beat it.
 * Prints events/s and attributes/s per wall second and per CPU second (user+sys), and peak RSS
 * (the child's: the generated JSON it reads is part of it) with its ratio to the JSON's size.
 * No assertions: the figures are for reading.
 *
 * usage: bench_misp [--attributes N] [--per-event N] [--big N] [--new N] [--dir DIR]
 *                   [--map-only] [--import-only] [--edited-only] [--floor] [--dump FILE]
 *   --map-only: case 0 alone (the mapper without a store), for profiling it;
 *   --import-only: case 1 alone (in this process, not a child), for profiling the import;
 *   --edited-only: cases 1 and 4 in this process, for profiling case 4 (callgrind
 *                  --dump-before=run_case puts each case in a file of its own);
 *   --floor: cases 1 and 6 alone;
 *   --dump FILE: also writes case 1's generated MISP JSON to FILE (to compare the mapper's
 *                output across builds: accord misp convert FILE).
 */
#include "accord.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
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

typedef struct gen {
    char *p;
    size_t len, cap;
} gen;

static void put(gen *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(gen *g, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(g->p + g->len, g->cap - g->len, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < g->cap - g->len) {
            g->len += (size_t)n;
            return;
        }
        g->cap = g->cap * 2 + (size_t)n + 1024;
        g->p = realloc(g->p, g->cap);
        if (!g->p) {
            perror("realloc");
            exit(1);
        }
    }
}

static void uuid(char out[37], uint64_t a, uint64_t b)
{
    snprintf(out, 37, "%08x-%04x-4%03x-8%03x-%012llx", (unsigned)(a >> 32), (unsigned)(a & 0xffff),
             (unsigned)(b >> 52) & 0xfff, (unsigned)(b >> 40) & 0xfff,
             (unsigned long long)(b & 0xffffffffffffull));
}

static void hex(char *out, int n)
{
    static const char h[] = "0123456789abcdef";
    for (int i = 0; i < n; i++)
        out[i] = h[rnd() & 15];
    out[n] = 0;
}

static void attribute(gen *g, uint64_t ev, uint64_t i, int first, const char *relation)
{
    char u[37], v[200], h[129];
    uuid(u, ev << 32 | 0xa77, i);
    unsigned k = (unsigned)(rnd() % 100);
    const char *type, *cat = "Network activity";
    int to_ids = k < 60;
    uint64_t r = rnd();
    if (k % 10 < 3) {
        type = to_ids ? "ip-dst" : "ip-src";
        snprintf(v, sizeof(v), "%u.%u.%u.%u", 11 + (unsigned)(r % 200), (unsigned)(r >> 8) & 255,
                 (unsigned)(r >> 16) & 255, (unsigned)(r >> 24) & 255);
    } else if (k % 10 < 5) {
        type = "domain";
        snprintf(v, sizeof(v), "h%llx.example%u.com", (unsigned long long)(r >> 20),
                 (unsigned)(r % 97));
    } else if (k % 10 < 6) {
        type = "url";
        snprintf(v, sizeof(v), "http://d%llx.example.net/p/%u.php", (unsigned long long)(r >> 24),
                 (unsigned)(r % 1000));
    } else if (k % 10 < 8) {
        type = k & 1 ? "sha256" : "md5";
        cat = "Payload delivery";
        hex(h, k & 1 ? 64 : 32);
        snprintf(v, sizeof(v), "%s", h);
    } else if (k < 95) {
        type = "filename|md5";
        cat = "Payload delivery";
        hex(h, 32);
        snprintf(v, sizeof(v), "f%u.exe|%s", (unsigned)(r % 100000), h);
    } else {
        type = "text";
        cat = "Other";
        to_ids = 0;
        snprintf(v, sizeof(v), "note %llu", (unsigned long long)r);
    }
    if (relation) { /* inside a file object: filename, md5, sha1, sha256, size-in-bytes */
        static const struct {
            const char *rel;
            int hexlen;
        } rels[] = {{"filename", 0}, {"md5", 32}, {"sha1", 40}, {"sha256", 64},
                    {"size-in-bytes", 0}};
        int a = (int)(i % 5);
        type = relation = rels[a].rel;
        cat = "Payload delivery";
        if (rels[a].hexlen) {
            hex(h, rels[a].hexlen);
            snprintf(v, sizeof(v), "%s", h);
        } else if (a == 0) {
            snprintf(v, sizeof(v), "sample%llu.dll", (unsigned long long)r % 100000);
        } else {
            snprintf(v, sizeof(v), "%llu", (unsigned long long)(r % 5000000));
        }
    }
    put(g,
        "%s{\"id\":\"%llu\",\"type\":\"%s\",\"category\":\"%s\",\"to_ids\":%s,\"uuid\":\"%s\","
        "\"event_id\":\"%llu\",\"distribution\":\"5\",\"timestamp\":\"%llu\",\"comment\":\"\","
        "\"sharing_group_id\":\"0\",\"deleted\":false,\"disable_correlation\":false,"
        "\"object_id\":\"0\",\"object_relation\":%s%s%s,\"first_seen\":null,\"last_seen\":null,"
        "\"value\":\"%s\",\"Galaxy\":[],\"ShadowAttribute\":[]}",
        first ? "" : ",", (unsigned long long)i, type, cat, to_ids ? "true" : "false", u,
        (unsigned long long)ev, 1600000000ull + i % 100000, relation ? "\"" : "",
        relation ? relation : "null", relation ? "\"" : "", v);
}

/* One event of n attributes (5% of them in file objects of 5). */
static void event(gen *g, uint64_t ev, uint64_t n, uint64_t *first_attr)
{
    char u[37], ou[37];
    uuid(u, ev << 32 | 0xe7e, ev);
    put(g,
        "{\"Event\":{\"id\":\"%llu\",\"orgc_id\":\"2\",\"org_id\":\"2\",\"date\":\"2020-09-13\","
        "\"threat_level_id\":\"2\",\"info\":\"OSINT - generated campaign %llu\",\"published\":true,"
        "\"uuid\":\"%s\",\"attribute_count\":\"%llu\",\"analysis\":\"2\",\"timestamp\":\"%llu\","
        "\"distribution\":\"3\",\"publish_timestamp\":\"1600100000\",\"Orgc\":{\"id\":\"2\","
        "\"name\":\"CIRCL\",\"uuid\":\"55f6ea5e-2c60-40e5-964f-47a8950d210f\"},"
        "\"Tag\":[{\"name\":\"tlp:white\"},{\"name\":\"type:OSINT\"},"
        "{\"name\":\"misp-galaxy:threat-actor=\\\"Sofacy\\\"\"}],"
        "\"Galaxy\":[{\"name\":\"Threat Actor\",\"type\":\"threat-actor\",\"GalaxyCluster\":[{"
        "\"uuid\":\"7cdd1a7e-1111-4f32-8b77-0f3b6d4a9c21\",\"type\":\"threat-actor\","
        "\"value\":\"Sofacy\",\"description\":\"A threat actor.\",\"meta\":{\"synonyms\":"
        "[\"APT28\"]}}]}],\"Attribute\":[",
        (unsigned long long)ev, (unsigned long long)ev, u, (unsigned long long)n,
        1600000000ull + ev);
    uint64_t in_objects = n / 20 / 5 * 5, plain = n - in_objects;
    for (uint64_t i = 0; i < plain; i++)
        attribute(g, ev, (*first_attr)++, i == 0, NULL);
    put(g, "],\"Object\":[");
    for (uint64_t o = 0; o < in_objects / 5; o++) {
        uuid(ou, ev << 32 | 0x0b1, o);
        put(g,
            "%s{\"id\":\"%llu\",\"name\":\"file\",\"meta-category\":\"file\",\"uuid\":\"%s\","
            "\"timestamp\":\"1600000000\",\"distribution\":\"5\",\"comment\":\"\",\"deleted\":false,"
            "\"Attribute\":[",
            o ? "," : "", (unsigned long long)o, ou);
        for (int a = 0; a < 5; a++)
            attribute(g, ev, (*first_attr)++, a == 0, "file");
        put(g, "]}");
    }
    put(g, "]}}");
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_error(void *ud, const char *msg)
{
    static int n;
    (void)ud;
    if (n++ < 3)
        fprintf(stderr, "%s\n", msg);
}

static int count_obj(void *ud, const char *json, size_t len)
{
    (void)json;
    ((uint64_t *)ud)[0]++;
    ((uint64_t *)ud)[1] += len;
    return 0;
}

/* Maps `text` without a store: the mapper's own cost. */
static void map_case(const char *text, size_t len, uint64_t attrs)
{
    uint64_t n[2] = {0, 0};
    struct rusage r0, r1;
    getrusage(RUSAGE_SELF, &r0);
    double t0 = now_s();
    accord_misp_map_mem(text, len, NULL, count_obj, n, NULL, NULL);
    double dt = now_s() - t0;
    getrusage(RUSAGE_SELF, &r1);
    double cpu = (double)(r1.ru_utime.tv_sec - r0.ru_utime.tv_sec) +
                 (double)(r1.ru_utime.tv_usec - r0.ru_utime.tv_usec) / 1e6 +
                 (double)(r1.ru_stime.tv_sec - r0.ru_stime.tv_sec) +
                 (double)(r1.ru_stime.tv_usec - r0.ru_stime.tv_usec) / 1e6;
    printf("%-34s %9llu attributes  %6.2f s wall %6.2f s cpu  %9.0f attributes/s (%9.0f per "
           "cpu-s)  -> %llu STIX objects, %.1f MiB\n",
           "0. mapping only (no store)", (unsigned long long)attrs, dt, cpu, (double)attrs / dt,
           (double)attrs / cpu, (unsigned long long)n[0], (double)n[1] / 1048576.0);
}

/* Imports `text` (a JSON array of events) into the store in dir; prints the figures. */
static void run_case(const char *label, const char *dir, const char *text, size_t len,
                     uint64_t events, uint64_t attrs, int child)
{
    fflush(stdout);
    pid_t pid = child ? fork() : 0;
    if (pid == 0) {
        struct rusage r0;
        getrusage(RUSAGE_SELF, &r0);
        accord_store *s = NULL;
        accord_error err;
        if (accord_store_open(dir, 0, &s, &err) != 0) {
            fprintf(stderr, "%s\n", err.msg);
            _exit(1);
        }
        accord_misp_stats st;
        accord_misp_options opts = {0};
        opts.on_error = on_error;
        double t0 = now_s();
        int rc = accord_misp_import_mem(s, text, len, &opts, &st, &err);
        double dt = now_s() - t0;
        accord_store_close(s);
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        double cpu = (double)(ru.ru_utime.tv_sec - r0.ru_utime.tv_sec) +
                     (double)(ru.ru_utime.tv_usec - r0.ru_utime.tv_usec) / 1e6 +
                     (double)(ru.ru_stime.tv_sec - r0.ru_stime.tv_sec) +
                     (double)(ru.ru_stime.tv_usec - r0.ru_stime.tv_usec) / 1e6;
        printf("%-34s %8llu events %9llu attributes  %6.2f s wall %6.2f s cpu  "
               "%9.0f attributes/s (%9.0f per cpu-s)  %7.1f events/s  peak RSS %.0f MiB "
               "(%.1fx the JSON)  (STIX: %llu objects, %llu accepted, %llu duplicates, rc %d)\n",
               label, (unsigned long long)events, (unsigned long long)attrs, dt, cpu,
               (double)attrs / dt, (double)attrs / cpu, (double)events / dt,
               (double)ru.ru_maxrss / 1024.0, (double)ru.ru_maxrss * 1024.0 / (double)len,
               (unsigned long long)st.store.read,
               (unsigned long long)st.store.accepted, (unsigned long long)st.store.duplicates,
               rc);
        fflush(stdout);
        if (!child)
            return;
        _exit(rc == 0 ? 0 : 1);
    }
    int status;
    waitpid(pid, &status, 0);
}

/* CPU seconds (user + sys) this process has used. */
static double cpu_used(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Case 6: the rows of the store in `from` copied into a new store in dir by SQLite alone. */
static void floor_case(const char *from, const char *dir, uint64_t attrs)
{
    accord_store *s = NULL;
    accord_error err;
    sqlite3 *db = NULL;
    char path[4300], *sql, *msg = NULL;
    if (accord_store_open(dir, 0, &s, &err) != 0) { /* the schema and its defaults */
        fprintf(stderr, "%s\n", err.msg);
        return;
    }
    accord_store_close(s);
    snprintf(path, sizeof(path), "%s/accord.db", dir);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_URI, NULL) != SQLITE_OK) {
        fprintf(stderr, "%s: %s\n", path, sqlite3_errmsg(db));
        sqlite3_close(db);
        return;
    }
    double t0 = now_s(), c0 = cpu_used();
    /* the store's settings (src/store.c), the source attached read-only */
    sql = sqlite3_mprintf(
        "PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536; PRAGMA wal_autocheckpoint=2500;"
        "PRAGMA temp_store=MEMORY; PRAGMA mmap_size=8589934592;"
        "ATTACH 'file:%q/accord.db?mode=ro' AS s; BEGIN;"
        "INSERT INTO main.objects SELECT * FROM s.objects ORDER BY seq;"
        "INSERT INTO main.members SELECT * FROM s.members ORDER BY coll, added;"
        "INSERT INTO main.indicators SELECT * FROM s.indicators ORDER BY seq;"
        "INSERT INTO main.export_rows SELECT * FROM s.export_rows ORDER BY seq;"
        "INSERT INTO main.audit SELECT * FROM s.audit ORDER BY seq;"
        "INSERT INTO main.checkpoints SELECT * FROM s.checkpoints ORDER BY size;"
        "INSERT INTO main.runs SELECT * FROM s.runs;"
        "INSERT INTO main.chunks SELECT * FROM s.chunks;"
        "INSERT OR REPLACE INTO main.meta SELECT * FROM s.meta; COMMIT;",
        from);
    int rc = sql ? sqlite3_exec(db, sql, NULL, NULL, &msg) : SQLITE_NOMEM;
    sqlite3_free(sql);
    if (rc != SQLITE_OK)
        fprintf(stderr, "6. copying the rows: %s\n", msg ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    sqlite3_close(db); /* its last checkpoint counted, as case 1 counts the store's close */
    double dt = now_s() - t0, cpu = cpu_used() - c0;
    if (rc == SQLITE_OK)
        printf("%-34s %8s %9llu attributes  %6.2f s wall %6.2f s cpu  %9.0f attributes/s "
               "(%9.0f per cpu-s)  the same rows copied by SQLite alone\n",
               "6. SQLite alone, case 1's rows", "", (unsigned long long)attrs, dt, cpu,
               (double)attrs / dt, (double)attrs / cpu);
}

/* One byte of each event's text changed in a property the mapping ignores (orgc_id). */
static void edit_events(gen *g)
{
    for (char *p = g->p; (p = strstr(p, "\"orgc_id\":\"2\"")) != NULL; p += 13)
        p[11] = '3';
}

int main(int argc, char **argv)
{
    uint64_t attrs = 1000000, per = 1000, big = 350000, fresh = 0;
    const char *base = BENCH_DIR, *dump = NULL;
    int map_only = 0, import_only = 0, edited_only = 0, floor_only = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--map-only") == 0)
            map_only = 1;
        else if (strcmp(argv[i], "--import-only") == 0)
            import_only = 1;
        else if (strcmp(argv[i], "--floor") == 0)
            floor_only = 1;
        else if (strcmp(argv[i], "--edited-only") == 0)
            edited_only = 1;
    }
    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--map-only") == 0 || strcmp(argv[i], "--import-only") == 0 ||
            strcmp(argv[i], "--edited-only") == 0 || strcmp(argv[i], "--floor") == 0)
            continue;
        if (strcmp(argv[i], "--attributes") == 0)
            attrs = strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--per-event") == 0)
            per = strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--big") == 0)
            big = strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--new") == 0)
            fresh = strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--dir") == 0)
            base = argv[i + 1];
        else if (strcmp(argv[i], "--dump") == 0)
            dump = argv[i + 1];
        else
            continue;
        i++;
    }
    if (per == 0)
        per = 1;
    char dir[4096], cmd[4200];
    snprintf(dir, sizeof(dir), "%s/bench-misp.XXXXXX", base);
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    gen g = {malloc(1 << 20), 0, 1 << 20};
    uint64_t events = (attrs + per - 1) / per, next = 0;
    put(&g, "[");
    for (uint64_t e = 0; e < events; e++) {
        if (e)
            put(&g, ",");
        event(&g, e + 1, attrs - e * per < per ? attrs - e * per : per, &next);
    }
    put(&g, "]");
    printf("generated %llu events, %llu attributes, %.1f MiB of MISP JSON\n",
           (unsigned long long)events, (unsigned long long)next, (double)g.len / 1048576.0);
    if (dump) {
        FILE *f = fopen(dump, "wb");
        if (!f || fwrite(g.p, 1, g.len, f) != g.len || fclose(f) != 0) {
            perror(dump);
            return 1;
        }
    }
    char d1[4200], d2[4200], d3[4200];
    snprintf(d1, sizeof(d1), "%s/a", dir);
    snprintf(d2, sizeof(d2), "%s/b", dir);
    snprintf(d3, sizeof(d3), "%s/c", dir);
    if (import_only || edited_only || floor_only) {
        run_case("1. events into an empty store", d1, g.p, g.len, events, next, 0);
        if (floor_only)
            floor_case(d1, d3, next);
        if (edited_only) {
            edit_events(&g);
            run_case("4. edited text (duplicates)", d1, g.p, g.len, events, next, 0);
        }
        free(g.p);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        return system(cmd) == 0 ? 0 : 1;
    }
    map_case(g.p, g.len, next);
    if (map_only) {
        free(g.p);
        rmdir(dir);
        return 0;
    }
    run_case("1. events into an empty store", d1, g.p, g.len, events, next, 1);
    floor_case(d1, d3, next);
    run_case("3. the same again (unchanged)", d1, g.p, g.len, events, next, 1);
    edit_events(&g);
    run_case("4. edited text (duplicates)", d1, g.p, g.len, events, next, 1);
    /* events numbered after case 1's, so their uuids and attribute uuids are new */
    if (!fresh)
        fresh = attrs / 10 ? attrs / 10 : 1;
    uint64_t nev = (fresh + per - 1) / per, first_new = next;
    g.len = 0;
    put(&g, "[");
    for (uint64_t e = 0; e < nev; e++) {
        if (e)
            put(&g, ",");
        event(&g, events + e + 1, fresh - e * per < per ? fresh - e * per : per, &next);
    }
    put(&g, "]");
    run_case("5. new events, store of case 1", d1, g.p, g.len, nev, next - first_new, 1);
    g.len = 0;
    uint64_t first = 0;
    put(&g, "[");
    event(&g, 999999, big, &first);
    put(&g, "]");
    printf("generated 1 event of %llu attributes, %.1f MiB of MISP JSON\n",
           (unsigned long long)first, (double)g.len / 1048576.0);
    run_case("2. one big event", d2, g.p, g.len, 1, first, 1);
    free(g.p);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : 1;
}
