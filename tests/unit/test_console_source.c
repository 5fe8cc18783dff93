/*
 * test_console_source.c - the indicators page's filter by source member (created_by_ref) and
 * schema 12 (indicators.created_by, index indicators_src):
 *   - the filter gives, row for row and source for source, what the selection gave when it read
 *     created_by_ref from each body (json_extract on the objects row, the query before schema
 *     12), for every member, alone and with a type, sightings or revocation filter, newest first
 *     and by last sighting, over pages of several sizes; a creator that changed between versions
 *     counts for the latest version only; TLP:CLEAR and TLP:RED indicators too (whose tlp_org
 *     column is empty);
 *   - the query plan of every statement searches indicators_src (or sighted) and never reads
 *     the objects table nor scans or sorts a table;
 *   - a store set back to schema 11 (no column, no index, the INSERT triggers on sightings) is
 *     migrated on open: the same created_by per row, the same selections, the index used, the
 *     INSERT triggers dropped.
 */
#include "accord.h"
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
#include "t_schema.h"
#include "t_trace.h"
#include "t_ind.h"

#define N_IND 1200
#define CLEAR_M                                                                                    \
    "\"object_marking_refs\":[\"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487\"],"
#define RED_M                                                                                      \
    "\"object_marking_refs\":[\"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1\"],"
#define SRC(n) "identity--5c000000-0000-4000-8000-00000000000" #n

static char tmpdir[256];
/* three members, and one that created nothing */
static const char *const sources[] = {SRC(1), SRC(2), SRC(3), SRC(9)};

/* the source of indicator i's first version (-1 none), of its second (every tenth has one) */
static int v1_source(int i)
{
    return i % 4 < 3 ? i % 4 : -1;
}

static int v2_source(int i)
{
    return (i / 10 + 1) % 3;
}

static void indicator(buf *b, int i, const char *modified, const char *by)
{
    char byp[128] = "";
    if (by)
        snprintf(byp, sizeof(byp), "\"created_by_ref\":\"%s\",", by);
    buf_printf(b,
               "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--00000000-"
               "0000-4000-8000-%012d\",\"created\":\"2026-01-01T00:00:00.000Z\",\"modified\":"
               "\"%s\",%s%s\"pattern\":\"[%s:value = 'v%d']\",\"pattern_type\":\"stix\","
               "\"valid_from\":\"2026-01-01T00:00:00Z\"%s}\n",
               i, modified, byp,
               i % 3 == 0   ? CLEAR_M
               : i % 3 == 1 ? RED_M
                            : "",
               i % 2 ? "domain-name" : "url", i, i % 7 == 0 ? ",\"revoked\":true" : "");
}

/* Indicators by sources 1-3 and none, in turn; every tenth gets a second version by another
 * source (v2_source); sightings of indicators 0-39. */
static void seed(accord_store *s)
{
    buf b;
    buf_init(&b, 0);
    for (int i = 0; i < N_IND; i++)
        indicator(&b, i, "2026-01-01T00:00:00.000Z",
                  v1_source(i) < 0 ? NULL : sources[v1_source(i)]);
    for (int i = 0; i < 40; i++)
        buf_printf(&b,
                   "{\"type\":\"sighting\",\"spec_version\":\"2.1\",\"id\":\"sighting--00000000-"
                   "0000-4000-8000-%012d\",\"created\":\"2026-03-01T00:00:00.000Z\",\"modified\":"
                   "\"2026-03-01T00:00:00.000Z\",\"sighting_of_ref\":\"indicator--00000000-0000-"
                   "4000-8000-%012d\"}\n",
                   i, i * 7 % 40);
    CHECK(t_import_text(s, b.p) == 0);
    buf_reset(&b);
    for (int i = 0; i < N_IND; i += 10)
        indicator(&b, i, "2026-02-01T00:00:00.000Z", sources[v2_source(i)]);
    CHECK(t_import_text(s, b.p) == 0);
    buf_free(&b);
}

/* ------------------------------------------------------------------------------------------ */

static int row_cb(void *ud, const store_ind_row *r)
{
    t_rows *x = ud;
    if (t_rows_take(x, r))
        return 1;
    buf_printf(x->out, "%lld=%s ", (long long)r->seq, r->source ? r->source + 34 : "-");
    return 0;
}

/* The rows of f, "seq=source-suffix " each, over pages of `limit`; the plans of the distinct
 * statements they ran into plans (one line each, each statement's ending with a line "-"). */
static void select_all(accord_store *s, store_ind_sel f, int limit, buf *out, char *plans,
                       size_t cap)
{
    buf_reset(out);
    t_ind_pages(s, f, limit, row_cb, out, plans, cap);
}

/* What the selection of a source gave before schema 12: created_by_ref read from each body. */
static void oracle(accord_store *s, const char *source, const char *type, int sighted, buf *out)
{
    char sql[1024];
    snprintf(sql, sizeof(sql),
             "SELECT i.seq, json_extract(o.body, '$.created_by_ref') FROM indicators i JOIN objects"
             " o ON o.seq = i.seq WHERE (i.flags & 2) = 0 AND json_extract(o.body,"
             " '$.created_by_ref') = ?1 AND (?2 IS NULL OR i.pattern LIKE '[' || ?2 || ':%%')"
             " AND (?3 = -1 OR EXISTS (SELECT 1 FROM sighted WHERE of_ref = i.id) = ?3)"
             " ORDER BY i.seq DESC");
    sqlite3_stmt *st;
    buf_reset(out);
    CHECK(sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK);
    sqlite3_bind_text(st, 1, source, -1, SQLITE_STATIC);
    if (type)
        sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, sighted);
    while (sqlite3_step(st) == SQLITE_ROW)
        buf_printf(out, "%lld=%s ", (long long)sqlite3_column_int64(st, 0),
                   (const char *)sqlite3_column_text(st, 1) + 34);
    sqlite3_finalize(st);
}

/* 1 when a and b hold the same "seq=source " tokens */
static int same_set(const char *a, const char *b)
{
    if (strlen(a) != strlen(b))
        return 0;
    char tok[128];
    for (const char *p = a; *p;) {
        size_t n = strcspn(p, " ");
        snprintf(tok, sizeof(tok), " %.*s ", (int)n, p);
        if (strncmp(b, tok + 1, n + 1) != 0 && !strstr(b, tok))
            return 0;
        p += n + (p[n] == ' ');
    }
    return 1;
}

/* 1 when no statement's plan reads the objects table or scans a table, and only a walk of the
 * sighted rows (through sighted_last: as many as there are sighted indicators) sorts */
static int plan_ok(const char *plans)
{
    int sighted = 0, sorts = 0;
    for (const char *p = plans; *p;) {
        size_t n = strcspn(p, "\n");
        if (memmem(p, n, "objects", 7) ||
            (strncmp(p, "SCAN ", 5) == 0 && !memmem(p, n, "sighted_last", 12))) {
            fprintf(stderr, "plan: %.*s\n", (int)n, p);
            return 0;
        }
        sighted |= memmem(p, n, "sighted_last", 12) != NULL;
        sorts |= memmem(p, n, "TEMP B-TREE", 11) != NULL;
        if (n == 1 && *p == '-') { /* a statement's end */
            if (sorts && !sighted) {
                fprintf(stderr, "plan sorts:\n%s", plans);
                return 0;
            }
            sighted = sorts = 0;
        }
        p += n + (p[n] == '\n');
    }
    return 1;
}

/* Every source filter against the oracle and its plans; the rows of all of them into all. */
static void check_sources(accord_store *s, buf *all)
{
    buf got, want;
    char plans[16384];
    buf_init(&got, 0);
    buf_init(&want, 0);
    buf_reset(all);
    static const char *const types[] = {NULL, "domain-name"};
    for (size_t k = 0; k < sizeof(sources) / sizeof(*sources); k++)
        for (int ti = 0; ti < 2; ti++)
            for (int hs = -1; hs <= 1; hs++)
                for (int by_last = 0; by_last <= 1; by_last++) {
                    store_ind_sel f = {.tlp = -2,
                                       .has_sightings = hs,
                                       .revoked = -1,
                                       .source = sources[k],
                                       .obs_type = types[ti],
                                       .by_last_sighting = by_last};
                    select_all(s, f, k == 0 ? 7 : 500, &got, plans, sizeof(plans));
                    CHECK(plan_ok(plans));
                    if (hs != 1)
                        CHECK(strstr(plans, "USING INDEX indicators_src (srch=?)"));
                    oracle(s, sources[k], types[ti], hs, &want);
                    if (by_last) /* the same rows, sighted ones first: compare as sets */
                        CHECK(same_set(got.p, want.p));
                    else
                        CHECK_STR(got.p, want.p);
                    buf_printf(all, "%zu %d %d %d: %s\n", k, ti, hs, by_last, got.p);
                }
    /* each member's count of latest versions, as the seed made them */
    store_ind_sel f = {.tlp = -2, .has_sightings = -1, .revoked = -1};
    for (int k = 0; k < 3; k++) {
        int n = 0, expect = 0;
        for (int i = 0; i < N_IND; i++)
            expect += (i % 10 == 0 ? v2_source(i) : v1_source(i)) == k;
        f.source = sources[k];
        select_all(s, f, 500, &got, plans, sizeof(plans));
        for (const char *p = got.p; (p = strchr(p, '=')); p++)
            n++;
        CHECK(n == expect && n > 0);
    }
    f.source = sources[3];
    select_all(s, f, 500, &got, plans, sizeof(plans));
    CHECK_STR(got.p, "");
    /* revoked only, for the bulk selection */
    f.source = sources[1];
    f.revoked = 1;
    f.no_source = 1;
    select_all(s, f, 100000, &got, plans, sizeof(plans));
    CHECK(got.len > 0 && strstr(got.p, "=-") && !strstr(got.p, "=0"));
    CHECK(plan_ok(plans) && strstr(plans, "indicators_src"));
    buf_free(&got);
    buf_free(&want);
}

static void test_source(void)
{
    char dir[400], path[500];
    snprintf(dir, sizeof(dir), "%s/s", tmpdir);
    snprintf(path, sizeof(path), "%s/accord.db", dir);
    accord_store *s = t_store_open(dir);
    if (!s)
        return;
    seed(s);
    buf before, after;
    buf_init(&before, 0);
    buf_init(&after, 0);
    check_sources(s, &before);
    static const char cols[] = "SELECT group_concat(seq || ':' || coalesce(created_by, '-'), ' ')"
                               " FROM (SELECT seq, created_by FROM indicators ORDER BY seq)";
    char *cols_before = t_scalar_text(s->db, cols);
    CHECK(strstr(cols_before, ":" SRC(3)) && strstr(cols_before, ":-"));
    accord_store_close(s);

    /* back to schema 11: no column, no index, the INSERT triggers on sightings, the indexes on
       the id and the type expression */
    sqlite3 *db;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db,
                       T_SCHEMA13_UNDO "ALTER TABLE indicators DROP COLUMN created_by;"
                       "CREATE TRIGGER sighted_ins AFTER INSERT ON sightings"
                       " WHEN NEW.coll = 0 AND NEW.of_ref IS NOT NULL AND (NEW.flags & 2) = 0 BEGIN"
                       " INSERT INTO sighted VALUES(NEW.of_ref, NEW.added, 1) ON CONFLICT(of_ref)"
                       " DO UPDATE SET last = max(last, excluded.last), n = n + 1; END;"
                       "CREATE TRIGGER sighting_hours_ins AFTER INSERT ON sightings"
                       " WHEN NEW.coll != 0 AND (NEW.flags & 3) = 0 BEGIN SELECT 1; END;"
                       "PRAGMA user_version = 11",
                       NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    if (!(s = t_store_open(dir)))
        return;
    T_CHECK_SCHEMA_CURRENT(s);
    char *cols_after = t_scalar_text(s->db, cols);
    CHECK_STR(cols_after, cols_before);
    check_sources(s, &after);
    CHECK_STR(after.p, before.p);
    char *v = t_scalar_text(s->db, "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND"
                           " tbl_name = 'sightings' AND name LIKE '%_ins'");
    CHECK_STR(v, "0");
    free(v);
    free(cols_before);
    free(cols_after);
    buf_free(&before);
    buf_free(&after);
    accord_store_close(s);
}

int main(void)
{
    if (t_mkdtemp(tmpdir, sizeof(tmpdir), "console-source"))
        return 1;
    test_source();
    t_rmtree(tmpdir);
    return t_done();
}
