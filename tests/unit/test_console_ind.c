/*
 * test_console_ind.c - the indicators page's selections (store_console.c) at a size where the
 * choice of index matters, and the store's limits around the console (schema 11):
 *   - the type filter reads the pattern's first observable type, through indicators_type; with a
 *     valid_until bound, through indicators_type_vu (then sorted) while the range holds fewer
 *     than 4,096 rows, else through indicators_type; the same rows, in seq order, over pages;
 *   - every statement a selection runs searches an index: the query plans have no scan of the
 *     indicators, objects or sightings tables and no sort except of a small range, for the list
 *     newest first, by type, by type and valid_until, sorted by last sighting, sighted only, and
 *     the bulk selection;
 *   - removing an account removes its thread read markers and its sessions;
 *   - timestamps past 2262 (beyond 64-bit nanoseconds) are no version instant: ts_ns() is NULL,
 *     a scan for such a version fails with a message naming it, nothing overflows.
 */
#include "accord.h"
#include "accord_account.h"
#include "store.h"
#include "store_console.h"
#include "store_int.h"
#include "t.h"
#include "util/buf.h"

#include <sqlite3.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "t_import.h"
#include "t_trace.h"

#define N_IND 5000 /* ipv4-addr indicators: more than the 4,096 of a sorted range */
#define N_EARLY 100 /* of them, valid until 2026-02-01; the rest until 2027-06-01 */

static char tmpdir[256];

static void seed(accord_store *s)
{
    buf b;
    buf_init(&b, 0);
    for (int i = 0; i < N_IND; i++)
        buf_printf(&b,
                   "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--00000000-"
                   "0000-4000-8000-%012d\",\"created\":\"2026-01-01T00:00:00.000Z\",\"modified\":"
                   "\"2026-01-01T00:00:00.000Z\",\"pattern\":\"[ipv4-addr:value = '10.%d.%d.%d']\","
                   "\"pattern_type\":\"stix\",\"valid_from\":\"2026-01-01T00:00:00Z\","
                   "\"valid_until\":\"%s\"}\n",
                   i, i >> 16 & 255, i >> 8 & 255, i & 255,
                   i % (N_IND / N_EARLY) == 0 ? "2026-02-01T00:00:00Z" : "2027-06-01T00:00:00Z");
    /* a pattern whose first observable is a domain name, the second an address; one with
       spaces inside the bracket; and sightings of two of the addresses */
    buf_adds(&b, "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--00000000-"
                 "0000-4000-8000-100000000001\",\"created\":\"2026-01-01T00:00:00.000Z\","
                 "\"modified\":\"2026-01-01T00:00:00.000Z\",\"pattern\":\"[domain-name:value = "
                 "'a.example'] OR [ipv4-addr:value = '10.9.9.9']\",\"pattern_type\":\"stix\","
                 "\"valid_from\":\"2026-01-01T00:00:00Z\"}\n");
    buf_adds(&b, "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--00000000-"
                 "0000-4000-8000-100000000002\",\"created\":\"2026-01-01T00:00:00.000Z\","
                 "\"modified\":\"2026-01-01T00:00:00.000Z\",\"pattern\":\"[  url :value = "
                 "'http://a.example/']\",\"pattern_type\":\"stix\","
                 "\"valid_from\":\"2026-01-01T00:00:00Z\"}\n");
    for (int i = 0; i < 4; i++)
        buf_printf(&b,
                   "{\"type\":\"sighting\",\"spec_version\":\"2.1\",\"id\":\"sighting--00000000-"
                   "0000-4000-8000-%012d\",\"created\":\"2026-03-0%dT00:00:00.000Z\",\"modified\":"
                   "\"2026-03-0%dT00:00:00.000Z\",\"sighting_of_ref\":\"indicator--00000000-0000-"
                   "4000-8000-%012d\"}\n",
                   i, i + 1, i + 1, i % 2 ? 7 : 4000);
    CHECK(t_import_text(s, b.p) == 0);
    buf_free(&b);
}

typedef struct rows {
    int n, limit, bad_order;
    int64_t seq, last;
    char type[32];
} rows;

static int row_cb(void *ud, const store_ind_row *r)
{
    rows *x = ud;
    if (x->n == x->limit)
        return 1;
    if (x->n && r->seq >= x->seq && r->last_sighting >= x->last)
        x->bad_order = 1;
    x->seq = r->seq;
    x->last = r->last_sighting;
    x->n++;
    return 0;
}

/* Every row of f over pages of `limit` (the keyset cursor); the plans of the statements of the
 * first page joined by '\n' into plans. */
static int select_count(accord_store *s, store_ind_sel f, int limit, char *plans, size_t cap,
                        int *bad_order)
{
    t_traced t = {.n = 0};
    accord_error err;
    int total = 0;
    *bad_order = 0;
    for (int page = 0; page < 10000; page++) {
        rows x = {.limit = limit};
        if (page == 0)
            sqlite3_trace_v2(s->db, SQLITE_TRACE_STMT, t_trace_cb, &t);
        int rc = store_ind_select(s, &f, row_cb, &x, &err);
        sqlite3_trace_v2(s->db, 0, NULL, NULL);
        CHECK(rc == 0 || rc == 1);
        total += x.n;
        *bad_order |= x.bad_order;
        if (rc != 1)
            break;
        f.cur_last = x.last;
        f.cur_seq = x.seq;
    }
    CHECK(t_trace_plans(s->db, &t, plans, cap) == 0);
    return total;
}

/* 1 when no line of plans reads a whole table: a SCAN without an index of indicators (but the
 * newest-first walk, allowed by scan_ok), objects or sightings, or a SCAN of an index that is not
 * an ordered walk the page stops early in */
static int no_full_scan(const char *plans, int scan_ok)
{
    for (const char *p = plans; *p;) {
        size_t n = strcspn(p, "\n");
        char line[512];
        snprintf(line, sizeof(line), "%.*s", (int)(n < sizeof(line) ? n : sizeof(line) - 1), p);
        if (strncmp(line, "SCAN ", 5) == 0 && !(scan_ok && strcmp(line, "SCAN i") == 0) &&
            strncmp(line, "SCAN (subquery", 14) != 0 && !strstr(line, "USING INDEX sighted_last") &&
            !strstr(line, "USING COVERING INDEX sighted_last")) {
            fprintf(stderr, "full scan: %s\n", line);
            return 0;
        }
        p += n + (p[n] == '\n');
    }
    return 1;
}

static int64_t ts(const char *text)
{
    int64_t us = 0;
    CHECK(accord_timestamp_parse(text, &us) == 0);
    return us;
}

static void test_select(void)
{
    char dir[400], plans[8192];
    snprintf(dir, sizeof(dir), "%s/i", tmpdir);
    accord_store *s = NULL;
    accord_error err;
    CHECK(accord_store_open(dir, 0, &s, &err) == 0);
    if (!s)
        return;
    seed(s);
    int bad;
    store_ind_sel f = {.tlp = -2, .has_sightings = -1, .revoked = -1};

    /* newest first: every indicator, a walk of the table by seq */
    CHECK(select_count(s, f, 500, plans, sizeof(plans), &bad) == N_IND + 2 && !bad);
    CHECK(no_full_scan(plans, 1));
    CHECK(strstr(plans, "TEMP B-TREE") == NULL);

    /* the first observable type only, through its index, never sorted */
    f.obs_type = "ipv4-addr";
    CHECK(select_count(s, f, 500, plans, sizeof(plans), &bad) == N_IND && !bad);
    CHECK(strstr(plans, "USING INDEX indicators_type (") != NULL);
    CHECK(strstr(plans, "TEMP B-TREE") == NULL && no_full_scan(plans, 0));
    f.obs_type = "domain-name";
    CHECK(select_count(s, f, 500, plans, sizeof(plans), &bad) == 1);
    f.obs_type = "url";
    CHECK(select_count(s, f, 500, plans, sizeof(plans), &bad) == 1);

    /* with a valid_until bound: a small range sorted, a large one walked by seq */
    f.obs_type = "ipv4-addr";
    f.vu_before = ts("2026-06-01T00:00:00Z");
    for (int limit = 7; limit <= 500; limit += 493) {
        CHECK(select_count(s, f, limit, plans, sizeof(plans), &bad) == N_EARLY && !bad);
        CHECK(strstr(plans, "USING INDEX indicators_type_vu (") != NULL);
        CHECK(no_full_scan(plans, 0));
    }
    f.vu_before = ts("2028-01-01T00:00:00Z");
    CHECK(select_count(s, f, 500, plans, sizeof(plans), &bad) == N_IND && !bad);
    CHECK(strstr(plans, "USING INDEX indicators_type (") != NULL);
    CHECK(strstr(plans, "TEMP B-TREE FOR ORDER BY") == NULL && no_full_scan(plans, 0));
    /* valid_until alone: its own index while the range is small */
    f.obs_type = NULL;
    f.vu_before = ts("2026-06-01T00:00:00Z");
    CHECK(select_count(s, f, 30, plans, sizeof(plans), &bad) == N_EARLY && !bad);
    CHECK(strstr(plans, "USING INDEX indicators_vu (") != NULL && no_full_scan(plans, 0));
    /* the bulk selection of an extend: the same small range, without reading bodies */
    f.vu_before = 0;
    f.obs_type = "ipv4-addr";
    f.extend_to = ts("2026-06-01T00:00:00Z");
    f.no_source = 1;
    CHECK(select_count(s, f, 100000, plans, sizeof(plans), &bad) == N_EARLY && !bad);
    CHECK(strstr(plans, "USING INDEX indicators_type_vu (") != NULL && no_full_scan(plans, 0));
    CHECK(strstr(plans, "objects") == NULL);
    f.extend_to = 0;
    f.no_source = 0;

    /* by last sighting: the two sighted (newest sighting first) through sighted_last, then the
       rest by seq */
    f.obs_type = NULL;
    f.by_last_sighting = 1;
    CHECK(select_count(s, f, 500, plans, sizeof(plans), &bad) == N_IND + 2 && !bad);
    CHECK(strstr(plans, "sighted_last") != NULL && no_full_scan(plans, 1));
    CHECK(strstr(plans, "USE TEMP B-TREE FOR ORDER BY") == NULL);
    f.has_sightings = 1;
    f.obs_type = "ipv4-addr";
    CHECK(select_count(s, f, 1, plans, sizeof(plans), &bad) == 2 && !bad);
    CHECK(strstr(plans, "sighted_last") != NULL && strstr(plans, "indicators_id") != NULL);
    CHECK(no_full_scan(plans, 0) && strstr(plans, "USE TEMP B-TREE FOR ORDER BY") == NULL);
    /* sighted, newest first (the bulk preview's selection): the sighted rows only */
    f.by_last_sighting = 0;
    CHECK(select_count(s, f, 1, plans, sizeof(plans), &bad) == 2 && !bad);
    CHECK(no_full_scan(plans, 0));
    f.has_sightings = 0;
    CHECK(select_count(s, f, 500, plans, sizeof(plans), &bad) == N_IND - 2 && !bad);
    CHECK(strstr(plans, "USING INDEX indicators_type (") != NULL && no_full_scan(plans, 0));
    accord_store_close(s);
}

static int mark_cb(void *ud, const char *topic, int64_t seen)
{
    (void)topic, (void)seen;
    ++*(int *)ud;
    return 0;
}

static int64_t scalar(accord_store *s, const char *sql)
{
    sqlite3_stmt *st;
    int64_t v = -1;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_type(st, 0) == SQLITE_NULL ? -2 : sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static int no_row_cb(void *ud, const accord_record *rec)
{
    (void)rec;
    ++*(int *)ud;
    return 0;
}

static void test_limits(void)
{
    char dir[400];
    snprintf(dir, sizeof(dir), "%s/l", tmpdir);
    accord_store *s = NULL;
    accord_error err;
    CHECK(accord_store_open(dir, 0, &s, &err) == 0);
    if (!s)
        return;
    /* a removed account's read markers and sessions go; another's stay */
    CHECK(accord_account_add(s, "ann", NULL, 0, &err) == 0);
    CHECK(accord_account_add(s, "bob", NULL, 0, &err) == 0);
    CHECK(store_thread_read_put(s, "ann", "case-1", "widget", 5, &err) == 0);
    CHECK(store_thread_read_put(s, "ann", "case-2", "general", 2, &err) == 0);
    CHECK(store_thread_read_put(s, "bob", "case-1", "widget", 1, &err) == 0);
    unsigned char h1[STORE_SESSION_HASH] = {1}, h2[STORE_SESSION_HASH] = {2};
    CHECK(store_session_put(s, h1, "ann", 1, 1, 0, &err) == 0);
    CHECK(store_session_put(s, h2, "bob", 1, 1, 0, &err) == 0);
    CHECK(accord_account_remove(s, "ann", &err) == 0);
    int n = 0;
    CHECK(store_thread_reads(s, "ann", "case-1", mark_cb, &n, &err) == 0 && n == 0);
    CHECK(scalar(s, "SELECT count(*) FROM thread_reads WHERE account = 'ann'") == 0);
    CHECK(store_thread_reads(s, "bob", "case-1", mark_cb, &n, &err) == 0 && n == 1);
    char acct[64];
    int64_t c, u;
    CHECK(store_session_get(s, h1, acct, sizeof(acct), &c, &u, &err) == ACCORD_ENOTFOUND);
    CHECK(store_session_get(s, h2, acct, sizeof(acct), &c, &u, &err) == 0);

    /* the last instant of 64-bit nanoseconds, one past it, and years later */
    CHECK(scalar(s, "SELECT ts_ns('2262-04-11T23:47:16.854775807Z')") == INT64_MAX);
    CHECK(scalar(s, "SELECT ts_ns('2262-04-11T23:47:16.854775808Z')") == -2);
    CHECK(scalar(s, "SELECT ts_ns('9999-12-31T23:59:59.999999999Z')") == -2);
    CHECK(scalar(s, "SELECT ts_ns('1677-09-21T00:12:44Z')") == -9223372036000000000LL);
    CHECK(scalar(s, "SELECT ts_ns('0001-01-01T00:00:00Z')") == -2);
    CHECK(scalar(s, "SELECT ts_ns('2026-01-01T00:00:00.5Z')") == 1767225600500000000LL);
    /* a stored version of year 2300 reads; asked for as a version, a clear error */
    const char *obj = "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--"
                      "00000000-0000-4000-8000-230000000000\",\"created\":\"2300-01-01T00:00:00.000Z\","
                      "\"modified\":\"2300-01-01T00:00:00.000Z\",\"pattern\":\"[ipv4-addr:value = "
                      "'10.0.0.1']\",\"pattern_type\":\"stix\","
                      "\"valid_from\":\"2300-01-01T00:00:00Z\"}";
    CHECK(t_import_text(s, obj) == 0);
    static const char *const far[] = {"2300-01-01T00:00:00.000Z", NULL};
    static const char *const near[] = {"2026-01-01T00:00:00Z", NULL};
    accord_scan_filter sf = {.versions = ACCORD_VERSIONS_LIST, .version_list = far};
    n = 0;
    CHECK(accord_store_scan(s, &sf, no_row_cb, &n, &err) == ACCORD_EINVAL);
    CHECK(strstr(err.msg, "2300-01-01T00:00:00.000Z") && strstr(err.msg, "2262-04-11"));
    sf.version_list = near;
    CHECK(accord_store_scan(s, &sf, no_row_cb, &n, &err) == 0 && n == 0);
    sf.versions = 0;
    CHECK(accord_store_scan(s, &sf, no_row_cb, &n, &err) == 0 && n == 1);
    accord_store_close(s);
}

int main(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/accord-test-console-ind-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_select();
    test_limits();
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", tmpdir);
    return t_done();
}
