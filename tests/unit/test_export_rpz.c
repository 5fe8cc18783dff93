/*
 * test_export_rpz.c - the SOA serial of RPZ zones (export_serial.c): over a sequence of changes
 * made back to back (several within one second), every export whose records changed carries a
 * serial greater, in RFC 1982 arithmetic, than the one before, and an export whose records did
 * not change carries the same serial and the same bytes; the serial survives closing and
 * reopening the store; zones of other selections keep their own serials; a kept serial near
 * 2^32 wraps and still compares greater; RFC 1982 comparison itself; several processes that
 * change the store and export the same zone at once never give one serial to two different sets
 * of records, and a zone holding more records than another always has the greater serial.
 */
#include "accord.h"
#include "export.h"
#include "store.h"
#include "t.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "t_import.h"

static char tmpdir[256];

/* Indicator n (version `modified`) with pattern p and the extra members x. */
static int add(accord_store *s, int n, const char *modified, const char *p, const char *x)
{
    char doc[1024];
    snprintf(doc, sizeof(doc),
             "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--7e57a000-0000-"
             "4000-8000-%012d\",\"created\":\"2025-01-01T00:00:00.000Z\",\"modified\":\"%s\","
             "\"pattern\":\"%s\",\"pattern_type\":\"stix\",\"valid_from\":\"2025-01-01T00:00:00Z\""
             "%s}",
             n, modified, p, x);
    return t_import_text(s, doc);
}

typedef struct zone {
    char *text;
    size_t len;
} zone;

static int zone_cb(void *ud, const char *file, const char *data, size_t len)
{
    zone *z = ud;
    (void)file;
    char *p = realloc(z->text, z->len + len + 1);
    if (!p)
        return ACCORD_ENOMEM;
    memcpy(p + z->len, data, len);
    z->len += len;
    p[z->len] = '\0';
    z->text = p;
    return 0;
}

/* Exports the rpz zone of s at `at` (scope "test", filter kinds), as `accord export` does; the
 * zone's text into *text (free it); returns its serial, 0 on failure. */
static uint32_t zone_export(accord_store *s, int64_t at, unsigned kinds, char **text)
{
    accord_export_filter f = {.at_us = at, .kinds = kinds, .min_confidence = -1, .max_tlp = -1};
    accord_export_options o = {.format = "rpz"};
    accord_export_set *set = NULL;
    accord_error err = {0};
    zone z = {0};
    uint32_t serial = 0;
    int rc = ACCORD_EBUSY;
    /* EBUSY: another export of the zone saw a newer state of the store; select again, as
     * `accord export` and feeds do */
    for (int tries = 0; rc == ACCORD_EBUSY && tries < 50; tries++) {
        accord_export_set_free(set);
        set = NULL;
        rc = accord_export_select(s, &f, &set, &err);
        if (!rc)
            rc = accord_export_rpz_serial(s, "test", &f, set, &o, &o.rpz_serial, &err);
    }
    if (rc == 0 && accord_export_write(set, &o, zone_cb, &z, NULL, &err) == 0) {
        unsigned got = 0;
        const char *soa = z.text ? strstr(z.text, "hostmaster.localhost. ") : NULL;
        if (soa && sscanf(soa + 22, "%u", &got) == 1 && got == o.rpz_serial)
            serial = got; /* the zone carries the serial it was given */
    }
    if (!serial)
        fprintf(stderr, "rpz export failed: %s\n", err.msg);
    accord_export_set_free(set);
    *text = z.text;
    return serial;
}

static void test_rfc1982(void)
{
    CHECK(accord_export_serial_gt(2, 1));
    CHECK(!accord_export_serial_gt(1, 2));
    CHECK(!accord_export_serial_gt(7, 7));
    CHECK(accord_export_serial_gt(1, 0xffffffffu));  /* wrapped: 1 follows 2^32-1 */
    CHECK(accord_export_serial_gt(0x7fffffffu, 0));  /* the largest step */
    CHECK(!accord_export_serial_gt(0x80000000u, 0)); /* 2^31 apart: undefined, never */
    CHECK(!accord_export_serial_gt(0, 0x80000000u));
    CHECK(accord_export_serial_gt(1800000000u, 4000000000u)); /* 2106 wraps past 2^32 */
}

/*
 * A sequence of changes made as fast as the store takes them (most land in the same second, so
 * a serial of the newest change's second would repeat): after each, one export; after some, a
 * second export with no change in between.  Changes of kinds the zone does not hold (a URL, a
 * hash) and a second export of the same state must keep the serial and the bytes.
 */
static void test_sequence(void)
{
    char dir[300];
    snprintf(dir, sizeof(dir), "%s/seq", tmpdir);
    accord_store *s = t_store_open(dir);
    accord_error err = {0};
    if (!s)
        return;
    static const struct {
        int n;
        const char *modified, *pattern, *extra;
        int changes; /* 1: the zone's records change */
    } steps[] = {
        {1, "2025-01-01T00:00:00.000Z", "[domain-name:value = 'a.serial.top']", "", 1},
        {2, "2025-01-01T00:00:00.000Z", "[domain-name:value = 'b.serial.top']", "", 1},
        {3, "2025-01-01T00:00:00.000Z", "[url:value = 'http://c.serial.top/x']", "", 0},
        {4, "2025-01-01T00:00:00.000Z", "[ipv4-addr:value = '77.9.0.1']", "", 1},
        {2, "2025-02-01T00:00:00.000Z", "[domain-name:value = 'b.serial.top']", ",\"revoked\":true",
         1},
        {5, "2025-01-01T00:00:00.000Z",
         "[file:hashes.'SHA-256' = '" /* a hash: not in a zone */
         "0000000000000000000000000000000000000000000000000000000000000001']",
         "", 0},
        {1, "2025-02-01T00:00:00.000Z", "[domain-name:value = 'a2.serial.top']", "", 1},
        {6, "2025-01-01T00:00:00.000Z", "[domain-name:value LIKE '%.d.serial.top']", "", 1},
        {4, "2025-02-01T00:00:00.000Z", "[ipv4-addr:value = '77.9.0.1']",
         ",\"valid_until\":\"2025-05-01T00:00:00Z\"", 1}, /* expired at the export time */
    };
    int64_t at = t_us("2025-06-01T00:00:00Z");
    char *text = NULL, *again = NULL;
    uint32_t prev = zone_export(s, at, 0, &text); /* an empty zone has a serial too */
    CHECK(prev != 0);
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        CHECK(add(s, steps[i].n, steps[i].modified, steps[i].pattern, steps[i].extra) == 0);
        free(text);
        uint32_t now = zone_export(s, at, 0, &text);
        if (steps[i].changes)
            CHECK(accord_export_serial_gt(now, prev));
        else
            CHECK(now == prev);
        if (steps[i].changes ? !accord_export_serial_gt(now, prev) : now != prev)
            fprintf(stderr, "step %zu: serial %u after %u\n", i, now, prev);
        /* nothing changed since: the same serial, the same bytes */
        CHECK(zone_export(s, at, 0, &again) == now && again && text && strcmp(again, text) == 0);
        free(again);
        prev = now;
    }
    CHECK(text && strstr(text, "\na2.serial.top CNAME .\n") && !strstr(text, "b.serial.top") &&
          !strstr(text, "77.9.0.1") && strstr(text, "\n*.d.serial.top CNAME .\n"));
    /* another selection (addresses only) is another zone, with its own serial */
    uint32_t ips = zone_export(s, at, ACCORD_EK_IP_BITS, &again);
    free(again);
    CHECK(ips != 0 && zone_export(s, at, 0, &again) == prev);
    free(again);
    CHECK(add(s, 7, "2025-01-01T00:00:00.000Z", "[domain-name:value = 'e.serial.top']", "") == 0);
    CHECK(zone_export(s, at, ACCORD_EK_IP_BITS, &again) == ips); /* its records are the same */
    free(again);
    /* the serial survives a restart: the same records, the same serial; then a change, larger */
    uint32_t before = zone_export(s, at, 0, &again);
    free(again);
    CHECK(accord_export_serial_gt(before, prev));
    accord_store_close(s);
    s = NULL;
    CHECK(accord_store_open(dir, 0, &s, &err) == 0);
    if (!s) {
        free(text);
        return;
    }
    CHECK(zone_export(s, at, 0, &again) == before);
    free(again);
    CHECK(add(s, 8, "2025-01-01T00:00:00.000Z", "[ipv4-addr:value = '77.9.0.8']", "") == 0);
    uint32_t after = zone_export(s, at, 0, &again);
    free(again);
    CHECK(accord_export_serial_gt(after, before));
    /* a store opened read-only gives the kept serial while the records are the same */
    accord_store_close(s);
    s = NULL;
    CHECK(accord_store_open(dir, ACCORD_STORE_READONLY, &s, &err) == 0);
    if (s)
        CHECK(zone_export(s, at, 0, &again) == after);
    free(again);
    free(text);
    accord_store_close(s);
}

/* A kept serial at the top of the 32-bit range: the next one wraps and is still greater; a kept
 * serial ahead of the clock (bumped by changes within one second) goes on by one. */
static void test_wrap(void)
{
    char dir[300], key[64], value[64];
    snprintf(dir, sizeof(dir), "%s/wrap", tmpdir);
    accord_store *s = t_store_open(dir);
    accord_error err = {0};
    if (!s)
        return;
    int64_t at = t_us("2025-06-01T00:00:00Z");
    accord_export_filter f = {.at_us = at, .min_confidence = -1, .max_tlp = -1};
    accord_export_options o = {.format = "rpz"};
    char *text = NULL;
    CHECK(add(s, 1, "2025-01-01T00:00:00.000Z", "[domain-name:value = 'w.serial.top']", "") == 0);
    uint32_t first = zone_export(s, at, 0, &text);
    free(text);
    CHECK(export_rpz_serial_key("test", &f, &o, key, sizeof(key)) == 0);
    for (int round = 0; round < 2; round++) {
        /* the zone's row, with a planted serial (and a digest its records no longer have) */
        uint32_t plant = round == 0 ? 0xffffffffu : first + 1000;
        snprintf(value, sizeof(value), "%u %016llx", plant, 0x1234ull);
        CHECK(store_meta_set(s, key, value, &err) == 0);
        CHECK(add(s, 2 + round, "2025-01-01T00:00:00.000Z",
                  round ? "[domain-name:value = 'y.serial.top']"
                        : "[domain-name:value = 'x.serial.top']",
                  "") == 0);
        uint32_t next = zone_export(s, at, 0, &text);
        free(text);
        CHECK(accord_export_serial_gt(next, plant));
        if (round == 1)
            CHECK(next == plant + 1);
        else
            CHECK(next != 0 && next < 0x80000000u); /* the clock's second, past the wrap */
    }
    accord_store_close(s);
}

/*
 * The race: RACE_PROCS processes, each with its own connection to one store, each RACE_ROUNDS
 * times adds a domain of its own and exports the zone (as `accord export` and a feed refresh
 * would, at once).  The records only grow, so each zone is a set of those domains (a bit each):
 * one serial must never name two different sets, a zone with more records than another must have
 * the greater serial (RFC 1982), and each process's serials strictly increase.  With the kept
 * serial read and written outside one transaction, two processes took the same "kept + 1" for
 * different records.
 */
#define RACE_PROCS 4
#define RACE_ROUNDS 12

typedef struct race_row {
    uint32_t serial;
    uint64_t mask; /* bit p * RACE_ROUNDS + r: domain r of process p is in the zone */
} race_row;

static void race_child(const char *dir, int p, int start_fd, int out_fd)
{
    accord_store *s = NULL;
    accord_error err = {0};
    char go, pat[128];
    int64_t at = t_us("2025-06-01T00:00:00Z");
    if (accord_store_open(dir, 0, &s, &err) || read(start_fd, &go, 1) != 1)
        _exit(2);
    for (int r = 0; r < RACE_ROUNDS; r++) {
        char *text = NULL;
        snprintf(pat, sizeof(pat), "[domain-name:value = 'p%dr%d.race.top']", p, r);
        if (add(s, 1000 + p * RACE_ROUNDS + r, "2025-01-01T00:00:00.000Z", pat, ""))
            _exit(3);
        race_row row = {.serial = zone_export(s, at, 0, &text)};
        for (int q = 0; q < RACE_PROCS && text; q++)
            for (int k = 0; k < RACE_ROUNDS; k++) {
                char line[64];
                snprintf(line, sizeof(line), "\np%dr%d.race.top CNAME .\n", q, k);
                if (strstr(text, line))
                    row.mask |= 1ull << (q * RACE_ROUNDS + k);
            }
        free(text);
        if (!row.serial || write(out_fd, &row, sizeof(row)) != (ssize_t)sizeof(row))
            _exit(4);
    }
    accord_store_close(s);
    _exit(0);
}

static void test_race(void)
{
    char dir[300];
    snprintf(dir, sizeof(dir), "%s/race", tmpdir);
    accord_store_close(t_store_open(dir)); /* created before the processes start */
    int start[2], out[RACE_PROCS][2];
    pid_t pid[RACE_PROCS];
    CHECK(pipe(start) == 0);
    for (int p = 0; p < RACE_PROCS; p++) {
        CHECK(pipe(out[p]) == 0);
        if ((pid[p] = fork()) == 0) {
            close(start[1]);
            close(out[p][0]);
            race_child(dir, p, start[0], out[p][1]);
        }
        close(out[p][1]);
    }
    close(start[0]);
    CHECK(write(start[1], "gggg", RACE_PROCS) == RACE_PROCS); /* all at once */
    close(start[1]);
    static race_row rows[RACE_PROCS * RACE_ROUNDS];
    size_t n = 0;
    for (int p = 0; p < RACE_PROCS; p++) {
        int status = 0;
        size_t mine = 0;
        while (mine < RACE_ROUNDS &&
               read(out[p][0], &rows[n], sizeof(rows[n])) == (ssize_t)sizeof(rows[n])) {
            /* each process's own serials strictly increase */
            if (mine)
                CHECK(accord_export_serial_gt(rows[n].serial, rows[n - 1].serial));
            n++, mine++;
        }
        close(out[p][0]);
        CHECK(waitpid(pid[p], &status, 0) == pid[p] && WIFEXITED(status) &&
              WEXITSTATUS(status) == 0);
        CHECK(mine == RACE_ROUNDS);
    }
    int bad = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            const race_row *a = &rows[i], *b = &rows[j];
            int same = a->serial == b->serial && a->mask != b->mask;
            int order = (a->mask & b->mask) == a->mask && a->mask != b->mask &&
                        !accord_export_serial_gt(b->serial, a->serial);
            if ((same || order) && bad++ < 5)
                fprintf(stderr, "race: serial %u for %016llx, %u for %016llx\n", a->serial,
                        (unsigned long long)a->mask, b->serial, (unsigned long long)b->mask);
        }
    CHECK(bad == 0);
}

int main(void)
{
    if (t_mkdtemp(tmpdir, sizeof(tmpdir), "export-rpz"))
        return 1;
    test_rfc1982();
    test_sequence();
    test_wrap();
    test_race();
    t_rmtree(tmpdir);
    return t_done();
}
