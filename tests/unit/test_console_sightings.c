/*
 * test_console_sightings.c - the sightings table behind the console's series (store_console.c,
 * schema 8) on a real store:
 *   - store_sightings_walk answers, bucket by bucket, what a scan of the sighting bodies answers
 *     (accord_store_scan, first_seen else created, count else 1), for one indicator and for a
 *     collection, for the operator and for an account that reads TLP:CLEAR only (a RED sighting,
 *     and a CLEAR sighting of a RED indicator, left out); superseded and revoked versions out;
 *   - paging with any limit adds up to the same, and resumes where the walk stopped;
 *   - a stored version added to a second collection counts there, and no more once deleted from
 *     it or the collection is removed;
 *   - a schema-7 store is migrated with the table filled from the stored rows, a schema-10 one
 *     with the hourly sums and last sightings (schema 11) filled from it;
 *   - each collection's hourly sums (sighting_hours) and each indicator's last sighting and count
 *     (sighted), kept by the insert path and by UPDATE and DELETE triggers (schema 12), equal
 *     what the walk and the sightings_of index give, through new versions, revocations and
 *     membership changes;
 *   - the walks are index range scans (the query plan says so);
 *   - the indicators page's selection counts and orders by last sighting from the table, sighted
 *     and unsighted indicators, across pages of every size;
 *   - thread read markers are per account and only move forward.
 */
#include "accord.h"
#include "accord_account.h"
#include "store.h"
#include "store_console.h"
#include "store_int.h"
#include "t.h"
#include "util/buf.h"
#include "util/json.h"

#include <sqlite3.h>
#include <sys/mman.h>
#include <unistd.h>

#define I1 "indicator--00000000-0000-4000-8000-000000000001"
#define I2 "indicator--00000000-0000-4000-8000-000000000002"
#define I3 "indicator--00000000-0000-4000-8000-000000000003"
#define CLEAR_M "\"object_marking_refs\":[\"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487\"]"
#define RED_M "\"object_marking_refs\":[\"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1\"]"
#define MAXB 64

static char tmpdir[256];

static int import_text(accord_store *s, const char *text, const char *coll)
{
    int fd = memfd_create("t", 0);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        return -1;
    lseek(fd, 0, SEEK_SET);
    accord_import_stats st;
    accord_error err;
    accord_import_options o = {.collection = coll};
    int rc = accord_import_fd(s, fd, &o, &st, &err);
    if (rc)
        fprintf(stderr, "import: %s\n", err.msg);
    close(fd);
    return rc;
}

static void indicator(buf *b, const char *id, const char *marking)
{
    buf_printf(b,
               "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"%s\","
               "\"created\":\"2026-01-01T00:00:00.000Z\",\"modified\":\"2026-01-01T00:00:00.000Z\","
               "\"pattern\":\"[ipv4-addr:value = '192.0.2.1']\",\"pattern_type\":\"stix\","
               "\"valid_from\":\"2026-01-01T00:00:00.000Z\",%s}\n",
               id, marking);
}

/* A sighting; extra holds first_seen, count, revoked... (with a trailing comma) */
static void sighting(buf *b, int n, const char *of, const char *created, const char *modified,
                     const char *extra, const char *marking)
{
    buf_printf(b,
               "{\"type\":\"sighting\",\"spec_version\":\"2.1\","
               "\"id\":\"sighting--00000000-0000-4000-8000-%012d\",\"created\":\"%s\","
               "\"modified\":\"%s\",%s\"sighting_of_ref\":\"%s\",%s}\n",
               n, created, modified, extra, of, marking);
}

static void seed(accord_store *s)
{
    buf b;
    buf_init(&b, 0);
    indicator(&b, I1, CLEAR_M);
    indicator(&b, I2, RED_M);
    indicator(&b, I3, CLEAR_M);
    sighting(&b, 1, I1, "2026-03-02T00:00:00.000Z", "2026-03-02T00:00:00.000Z",
             "\"first_seen\":\"2026-03-02T01:10:00Z\",\"count\":3,", CLEAR_M);
    sighting(&b, 2, I1, "2026-03-02T00:00:00.000Z", "2026-03-02T00:00:00.000Z",
             "\"first_seen\":\"2026-03-02T01:50:00.123456Z\",", CLEAR_M);
    sighting(&b, 3, I1, "2026-03-02T05:00:00.000Z", "2026-03-02T05:00:00.000Z", "\"count\":2,", CLEAR_M);
    sighting(&b, 4, I1, "2026-03-01T00:00:00.000Z", "2026-03-03T00:00:00.000Z",
             "\"first_seen\":\"2026-03-03T23:59:59.999Z\",\"count\":7,", CLEAR_M);
    sighting(&b, 5, I1, "2026-03-01T00:00:00.000Z", "2026-03-01T00:00:00.000Z",
             "\"first_seen\":\"2026-03-01T10:00:00Z\",\"count\":100,\"revoked\":true,", CLEAR_M);
    sighting(&b, 6, I2, "2026-03-02T00:00:00.000Z", "2026-03-02T00:00:00.000Z",
             "\"first_seen\":\"2026-03-02T02:00:00Z\",\"count\":50,", CLEAR_M);
    sighting(&b, 7, I1, "2026-03-02T00:00:00.000Z", "2026-03-02T00:00:00.000Z",
             "\"first_seen\":\"2026-03-02T03:00:00Z\",\"count\":20,", RED_M);
    sighting(&b, 8, I1, "1969-12-31T23:30:00.000Z", "1969-12-31T23:30:00.000Z", "\"count\":0,", CLEAR_M);
    CHECK(import_text(s, b.p, NULL) == 0);
    /* a later version of sighting 4: only it counts */
    buf_reset(&b);
    sighting(&b, 4, I1, "2026-03-01T00:00:00.000Z", "2026-03-04T00:00:00.000Z",
             "\"first_seen\":\"2026-03-03T23:59:59.999Z\",\"count\":4,", CLEAR_M);
    CHECK(import_text(s, b.p, NULL) == 0);
    buf_free(&b);
}

typedef struct series {
    int64_t t[MAXB], n[MAXB];
    int nb;
    int64_t sightings, total;
} series;

static void series_add(series *x, int64_t s, int64_t n)
{
    int64_t t = s - (s % 3600 + 3600) % 3600;
    int i = 0;
    while (i < x->nb && x->t[i] != t)
        i++;
    if (i == x->nb && x->nb < MAXB)
        x->t[x->nb++] = t;
    if (i < MAXB)
        x->n[i] += n;
    x->sightings++;
    x->total += n;
}

static int same(const series *a, const series *b)
{

    if (a->nb != b->nb || a->sightings != b->sightings || a->total != b->total)
        return 0;
    for (int i = 0; i < a->nb; i++) {
        int j = 0;
        while (j < b->nb && b->t[j] != a->t[i])
            j++;
        if (j == b->nb || b->n[j] != a->n[i])
            return 0;
    }
    return 1;
}

static int walk_cb(void *ud, int64_t t, int64_t n)
{
    series_add(ud, t, n);
    return 0;
}

/* The series from the table, page by page of `limit`. */
static void walked(accord_store *s, const accord_viewer *v, const char *of, int64_t cid,
                   uint32_t limit, series *out, int *pages)
{
    memset(out, 0, sizeof(*out));
    int64_t after = 0, last;
    uint32_t n;
    accord_error err;
    *pages = 0;
    do {
        CHECK(store_sightings_walk(s, v, of, cid, after, limit, walk_cb, out, &n, &last, &err) ==
              0);
        CHECK(n == 0 || last > after);
        after = last;
        ++*pages;
    } while (n == limit && *pages < 100);
}

/* The oracle: the bodies a scan hands out, read as the console read them before the table. */
typedef struct oracle_ctx {
    series *x;
    const char *of;
} oracle_ctx;

static int oracle_cb(void *ud, const accord_record *rec)
{
    oracle_ctx *o = ud;
    ajson_arena a;
    ajson_arena_init(&a, 0);
    ajson_error je;
    const ajson_value *obj = ajson_parse(&a, rec->body, rec->body_len, &je);
    const char *of = ajson_str(ajson_get(obj, "sighting_of_ref"));
    if (!o->of || (of && strcmp(of, o->of) == 0)) {
        const char *when = ajson_str(ajson_get(obj, "first_seen"));
        if (!when)
            when = ajson_str(ajson_get(obj, "created"));
        int64_t us = 0, count = 1;
        if (!when || accord_timestamp_parse(when, &us) != 0)
            us = rec->added_us;
        const ajson_value *cv = ajson_get(obj, "count");
        if (cv && (!ajson_int(cv, &count) || count < 0 || count > 999999999))
            count = 1;
        series_add(o->x, us / 1000000 - (us % 1000000 < 0), count);
    }
    ajson_arena_free(&a);
    return 0;
}

static void scanned(accord_store *s, const accord_viewer *v, const char *of, series *out)
{
    memset(out, 0, sizeof(*out));
    static const char *const types[] = {"sighting", NULL};
    accord_scan_filter f = {.collection = of ? NULL : "default", .types = types, .viewer = v};
    oracle_ctx o = {out, of};
    accord_error err;
    CHECK(accord_store_scan(s, &f, oracle_cb, &o, &err) == 0);
}

static int64_t default_cid(accord_store *s)
{
    int64_t cid = -1;
    accord_error err;
    CHECK(store_collection_resolve(s, NULL, &cid, &err) == 0);
    return cid;
}

static int hour_cb(void *ud, int64_t hour, int64_t sightings, int64_t n)
{
    series *x = ud;
    CHECK(hour % 3600 == 0);
    series_add(x, hour, n);
    x->sightings += sightings - 1;
    return 0;
}

/* 1 when collection cid's hourly sums are the operator's walk, hour by hour */
static int hours_match_walk(accord_store *s, int64_t cid)
{
    series a, b;
    int pages;
    accord_error err;
    walked(s, NULL, NULL, cid, 1000, &a, &pages);
    memset(&b, 0, sizeof(b));
    CHECK(store_sighting_hours(s, cid, hour_cb, &b, &err) == 0);
    return same(&a, &b);
}

/* 1 when the sighted table is the aggregate of the sightings_of index it stands for */
static int sighted_matches(sqlite3 *db)
{
    static const char agg[] = "SELECT of_ref, max(added), count(*) FROM sightings WHERE coll = 0"
                              " AND of_ref IS NOT NULL AND (flags & 2) = 0 GROUP BY of_ref";
    char sql[512];
    sqlite3_stmt *st;
    int64_t diff = -1;
    snprintf(sql, sizeof(sql),
             "SELECT (SELECT count(*) FROM (%s EXCEPT SELECT of_ref, last, n FROM sighted))"
             " + (SELECT count(*) FROM (SELECT of_ref, last, n FROM sighted EXCEPT %s))",
             agg, agg);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        diff = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return diff == 0;
}

static void check_series(accord_store *s, const accord_viewer *reader)
{
    /* the precomputed hours and last sightings are what the walks and the index give */
    CHECK(hours_match_walk(s, default_cid(s)));
    CHECK(sighted_matches(s->db));
    series a, b;
    int pages;
    /* the operator: I1's four counted sightings (5 revoked, 4's first version superseded) and
       the RED one */
    walked(s, NULL, I1, 0, 1000, &a, &pages);
    scanned(s, NULL, I1, &b);
    CHECK(same(&a, &b));
    CHECK(a.sightings == 6 && a.total == 3 + 1 + 2 + 4 + 20 + 0);
    /* the reader: no RED sighting */
    walked(s, reader, I1, 0, 1000, &a, &pages);
    scanned(s, reader, I1, &b);
    CHECK(same(&a, &b));
    CHECK(a.sightings == 5 && a.total == 10);
    /* the collection: I2's sighting too for the operator, never for the reader */
    walked(s, NULL, NULL, default_cid(s), 1000, &a, &pages);
    scanned(s, NULL, NULL, &b);
    CHECK(same(&a, &b));
    CHECK(a.sightings == 7 && a.total == 80);
    walked(s, reader, NULL, default_cid(s), 1000, &a, &pages);
    scanned(s, reader, NULL, &b);
    CHECK(same(&a, &b));
    CHECK(a.sightings == 5 && a.total == 10);
    /* pages of every size add up to the same */
    for (uint32_t limit = 1; limit <= 4; limit++) {
        walked(s, NULL, NULL, default_cid(s), limit, &a, &pages);
        scanned(s, NULL, NULL, &b);
        CHECK(same(&a, &b));
        CHECK(pages >= 7 / (int)limit);
        walked(s, reader, I1, 0, limit, &a, &pages);
        scanned(s, reader, I1, &b);
        CHECK(same(&a, &b));
    }
}

static int64_t scalar(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    int64_t v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* 1 when sql's plan searches index `index` and scans nothing */
static int plan_uses(sqlite3 *db, const char *sql, const char *index)
{
    sqlite3_stmt *st;
    char q[1024];
    snprintf(q, sizeof(q), "EXPLAIN QUERY PLAN %s", sql);
    if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK)
        return 0;
    int uses = 0, scan = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *d = (const char *)sqlite3_column_text(st, 3);
        uses += strstr(d, index) != NULL;
        scan += strncmp(d, "SCAN", 4) == 0;
    }
    sqlite3_finalize(st);
    return uses && !scan;
}

/* 1 when the walk of collection ref (operator) counts `sightings` sightings seen `total` times */
static int coll_walk_is(accord_store *s, const char *ref, int64_t sightings, int64_t total)
{
    int64_t cid = 0;
    accord_error err;
    if (store_collection_resolve(s, ref, &cid, &err))
        return 0;
    series a;
    int pages;
    walked(s, NULL, NULL, cid, 1000, &a, &pages);
    return a.sightings == sightings && a.total == total && hours_match_walk(s, cid) &&
           sighted_matches(s->db);
}

/* A version already stored, added to a second collection, counts there; deleted from it or with
 * the collection removed, no more. */
static void test_collections(accord_store *s)
{
    accord_error err;
    CHECK(accord_collection_add(s, NULL, "second", "second", NULL, NULL, &err) == 0);
    buf b;
    buf_init(&b, 0);
    sighting(&b, 3, I1, "2026-03-02T05:00:00.000Z", "2026-03-02T05:00:00.000Z", "\"count\":2,",
             CLEAR_M);
    sighting(&b, 9, I1, "2026-03-05T05:00:00.000Z", "2026-03-05T05:00:00.000Z", "\"count\":6,",
             CLEAR_M);
    CHECK(import_text(s, b.p, "second") == 0);
    buf_free(&b);
    CHECK(coll_walk_is(s, "second", 2, 8));
    CHECK(coll_walk_is(s, NULL, 7, 80)); /* the default collection is as it was */
    int64_t removed = 0;
    CHECK(accord_collection_delete_object(s, "second",
                                          "sighting--00000000-0000-4000-8000-000000000003", NULL,
                                          &removed, &err) == 0);
    CHECK(removed == 1);
    CHECK(coll_walk_is(s, "second", 1, 6));
    CHECK(accord_collection_remove(s, "second", &err) == 0);
    series a;
    int pages;
    walked(s, NULL, I1, 0, 1000, &a, &pages);
    CHECK(a.sightings == 7 && a.total == 36); /* store-wide: the new one stays */
}

/* ------------------------------------------------------------------------------------------ */
/* The indicators page's selection: last sighting and counts from the sightings table          */

typedef struct sel_rows {
    char ids[8][64];
    int64_t last[8], seq[8], n[8];
    int count, limit;
} sel_rows;

static int sel_cb(void *ud, const store_ind_row *r)
{
    sel_rows *x = ud;
    if (x->count == x->limit)
        return 1;
    snprintf(x->ids[x->count], sizeof(x->ids[0]), "%s", r->id);
    x->last[x->count] = r->last_sighting;
    x->seq[x->count] = r->seq;
    x->n[x->count++] = r->sightings;
    return 0;
}

/* the selection's ids joined by ' ', page by page of `limit` through the keyset cursor */
static void select_all(accord_store *s, store_ind_sel f, int limit, char *out, size_t cap)
{
    out[0] = '\0';
    accord_error err;
    for (int pages = 0; pages < 10; pages++) {
        sel_rows x = {.limit = limit};
        int rc = store_ind_select(s, &f, sel_cb, &x, &err);
        CHECK(rc == 0 || rc == 1);
        for (int i = 0; i < x.count; i++) {
            size_t n = strlen(out);
            snprintf(out + n, cap - n, "%s%s:%lld", n ? " " : "", x.ids[i] + 35,
                     (long long)x.n[i]);
        }
        if (rc != 1 || x.count == 0)
            break;
        f.cur_last = x.last[x.count - 1];
        f.cur_seq = x.seq[x.count - 1];
    }
}

static void test_ind_select(accord_store *s)
{
    char all[512];
    store_ind_sel f = {.tlp = -2, .has_sightings = -1, .revoked = -1};
    /* newest first: I3, I2, I1, with their latest sighting versions counted (a superseded one
       not, a revoked one yes) */
    for (int limit = 1; limit <= 4; limit++) {
        select_all(s, f, limit, all, sizeof(all));
        CHECK_STR(all, "000000000003:0 000000000002:1 000000000001:7");
    }
    /* by last sighting: I1 (its sighting 4 stored last), I2, then the unsighted I3 */
    f.by_last_sighting = 1;
    for (int limit = 1; limit <= 4; limit++) {
        select_all(s, f, limit, all, sizeof(all));
        CHECK_STR(all, "000000000001:7 000000000002:1 000000000003:0");
    }
    f.has_sightings = 1;
    select_all(s, f, 1, all, sizeof(all));
    CHECK_STR(all, "000000000001:7 000000000002:1");
    f.has_sightings = 0;
    select_all(s, f, 1, all, sizeof(all));
    CHECK_STR(all, "000000000003:0");
    f.by_last_sighting = 0;
    f.has_sightings = 1;
    select_all(s, f, 1, all, sizeof(all));
    CHECK_STR(all, "000000000002:1 000000000001:7");
    f.has_sightings = 0;
    select_all(s, f, 2, all, sizeof(all));
    CHECK_STR(all, "000000000003:0");
}

static void test_series(void)
{
    char dir[400], path[500];
    snprintf(dir, sizeof(dir), "%s/s", tmpdir);
    accord_store *s = NULL;
    accord_error err;
    CHECK(accord_store_open(dir, 0, &s, &err) == 0);
    if (!s)
        return;
    seed(s);
    CHECK(accord_account_add(s, "reader", NULL, 0, &err) == 0);
    accord_viewer *reader = NULL;
    CHECK(accord_viewer_open(s, "reader", &reader, &err) == 0);
    check_series(s, reader);
    test_ind_select(s);
    accord_viewer_free(reader);
    accord_store_close(s);

    /* a schema-7 store: no table, no triggers (schema 9 has only the UPDATE and DELETE ones);
     * migrated on open with the same answers */
    snprintf(path, sizeof(path), "%s/accord.db", dir);
    sqlite3 *db;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db,
                       "DROP TRIGGER IF EXISTS sightings_obj; DROP TRIGGER sightings_obj_flags;"
                       " DROP TRIGGER IF EXISTS sightings_member; DROP TRIGGER sightings_member_flags;"
                       " DROP TRIGGER sightings_member_del; DROP TABLE sightings;"
                       " DROP TABLE thread_reads; PRAGMA user_version = 7",
                       NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    s = NULL;
    CHECK(accord_store_open(dir, 0, &s, &err) == 0);
    if (!s)
        return;
    CHECK(accord_viewer_open(s, "reader", &reader, &err) == 0);
    check_series(s, reader);
    test_collections(s);
    accord_viewer_free(reader);
    accord_store_close(s);

    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(scalar(db, "PRAGMA user_version") >= 11);
    /* one store-wide row and one default-collection row per sighting version */
    CHECK(scalar(db, "SELECT count(*) FROM sightings WHERE coll = 0") ==
          scalar(db, "SELECT count(*) FROM objects WHERE type = 'sighting'"));
    CHECK(scalar(db, "SELECT count(*) FROM sightings WHERE coll = 1") ==
          scalar(db, "SELECT count(*) FROM members WHERE coll = 1 AND type = 'sighting'"));
    CHECK(plan_uses(db,
                    "SELECT t, n FROM sightings INDEXED BY sightings_of WHERE of_ref = 'x' AND"
                    " coll = 0 AND added > 0 AND (flags & 3) = 0 ORDER BY added LIMIT 10",
                    "USING INDEX sightings_of"));
    CHECK(plan_uses(db,
                    "SELECT t, n FROM sightings WHERE coll = 1 AND added > 0 AND (flags & 3) = 0"
                    " ORDER BY added LIMIT 10",
                    "USING PRIMARY KEY"));
    /* a schema-10 store: no hours, no last sightings, no type indexes; migrated on open, the
       tables filled from the sightings rows */
    CHECK(sqlite3_exec(db,
                       "DROP TABLE sighted; DROP TABLE sighting_hours; DROP INDEX indicators_type;"
                       " DROP INDEX indicators_type_vu; DROP INDEX indicators_vu;"
                       " DROP TRIGGER IF EXISTS sighted_ins; DROP TRIGGER sighted_flags;"
                       " DROP TRIGGER sighted_del; DROP TRIGGER IF EXISTS sighting_hours_ins;"
                       " DROP TRIGGER sighting_hours_flags; DROP TRIGGER sighting_hours_del;"
                       " DROP TRIGGER accounts_console_del; PRAGMA user_version = 10",
                       NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    s = NULL;
    CHECK(accord_store_open(dir, 0, &s, &err) == 0);
    if (!s)
        return;
    CHECK(scalar(s->db, "PRAGMA user_version") >= 11);
    CHECK(scalar(s->db, "SELECT count(*) FROM sighted") == 2);
    CHECK(sighted_matches(s->db));
    CHECK(hours_match_walk(s, default_cid(s)));
    accord_store_close(s);
}

typedef struct marks {
    char text[256];
} marks;

static int mark_cb(void *ud, const char *topic, int64_t seen)
{
    marks *m = ud;
    size_t n = strlen(m->text);
    snprintf(m->text + n, sizeof(m->text) - n, "%s=%lld;", topic, (long long)seen);
    return 0;
}

static void test_reads(void)
{
    char dir[400];
    snprintf(dir, sizeof(dir), "%s/r", tmpdir);
    accord_store *s = NULL;
    accord_error err;
    CHECK(accord_store_open(dir, 0, &s, &err) == 0);
    if (!s)
        return;
    CHECK(store_thread_read_put(s, "ann", "case-1", "widget", 5, &err) == 0);
    CHECK(store_thread_read_put(s, "ann", "case-1", "widget", 3, &err) == 0); /* not back */
    CHECK(store_thread_read_put(s, "ann", "case-1", "general", 9, &err) == 0);
    CHECK(store_thread_read_put(s, "bob", "case-1", "widget", 1, &err) == 0);
    CHECK(store_thread_read_put(s, "ann", "case-2", "widget", 2, &err) == 0);
    marks m = {""};
    CHECK(store_thread_reads(s, "ann", "case-1", mark_cb, &m, &err) == 0);
    CHECK_STR(m.text, "general=9;widget=5;");
    m.text[0] = '\0';
    CHECK(store_thread_reads(s, "bob", "case-1", mark_cb, &m, &err) == 0);
    CHECK_STR(m.text, "widget=1;");
    m.text[0] = '\0';
    CHECK(store_thread_reads(s, "carl", "case-1", mark_cb, &m, &err) == 0);
    CHECK_STR(m.text, "");
    accord_store_close(s);
}

int main(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/accord-test-console-sightings-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_series();
    test_reads();
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", tmpdir);
    return t_done();
}
