/*
 * test_store_schema13.c - schema 13: the indicators table's indexes on columns written by the
 * insert path (otype, idh, srch) instead of the type expression, the id and the creator's id:
 *   - store_ind_otype gives what schema 11's index expression (STORE_IND_TYPE_V11: SQLite's
 *     instr, substr and trim) gives, for ordinary patterns and for the odd ones: no '[', no ':',
 *     spaces, several brackets, multi-byte text, an empty pattern and NUL bytes before, inside
 *     and after the type;
 *   - a store set back to schema 12 (its columns, its four indexes) migrates on open to the
 *     same columns as the import path writes, and every console selection (by type, by source,
 *     sighted or not, by last sighting, with a valid_until bound, over pages) gives the rows it
 *     gave before, which are also the rows schema 12's indexes and expression give (an oracle
 *     query on the set-back store); the plans search the new indexes.
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

#define N_IND 600
#define SRC(n) "identity--5c000000-0000-4000-8000-00000000000" #n

static char tmpdir[256];
static const char *const sources[] = {SRC(1), SRC(2), SRC(3)};
static const char *const types[] = {NULL, "ipv4-addr", "url", "domain-name", "[", ""};

/* ------------------------------------------------------------------------------------------ */

static void test_otype(void)
{
    static const struct {
        const char *p;
        size_t n;
    } cases[] = {
#define C(s) {s, sizeof(s) - 1}
        C("[ipv4-addr:value = '10.0.0.1']"),
        C("[  url :value = 'http://a.example/']"),
        C("[domain-name:value = 'a'] OR [ipv4-addr:value = 'b']"),
        C("no bracket: here"),
        C("no bracket"),
        C("[no colon]"),
        C(""),
        C("["),
        C(":"),
        C("[:]"),
        C("[ :]"),
        C("[ a b :x]"),
        C("x[y[z:w]"),
        C("   [   ]"),
        C("[\xc3\xa9t\xc3\xa9:value = 'x']"),
        C("\xe2\x82\xac[x-y:z]"),
        C("ab\0[c:d]"),
        C("[ab\0c:d]"),
        C("[abc:\0d]"),
        C("[abc\0]"),
        C("\0"),
#undef C
    };
    sqlite3 *db;
    sqlite3_stmt *st;
    CHECK(sqlite3_open(":memory:", &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "CREATE TABLE t(pattern TEXT)", NULL, NULL, NULL) == SQLITE_OK);
    CHECK(sqlite3_prepare_v2(db, "SELECT " STORE_IND_TYPE_V11 " FROM (SELECT ?1 AS pattern)", -1,
                             &st, NULL) == SQLITE_OK);
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        size_t off, len;
        store_ind_otype(cases[i].p, cases[i].n, &off, &len);
        sqlite3_bind_text(st, 1, cases[i].p, (int)cases[i].n, SQLITE_STATIC);
        CHECK(sqlite3_step(st) == SQLITE_ROW);
        const char *want = (const char *)sqlite3_column_text(st, 0);
        int wlen = sqlite3_column_bytes(st, 0);
        if (!want || (size_t)wlen != len || memcmp(want, cases[i].p + off, len) != 0) {
            fprintf(stderr, "otype of case %zu: \"%.*s\", SQL \"%.*s\"\n", i, (int)len,
                    cases[i].p + off, wlen, want ? want : "");
            CHECK(0);
        }
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* ------------------------------------------------------------------------------------------ */

static const char *pattern_of(int i)
{
    static const char *const p[] = {
        "[ipv4-addr:value = '10.0.0.%d']",
        "[url:value = 'http://%d.example/']",
        "[domain-name:value = 'a%d.example'] OR [ipv4-addr:value = '10.9.9.9']",
        "[ url :value = 'http://b%d.example/']",
        "[no colon %d]", /* not STIX: pattern_type sigma */
    };
    return p[i % 5];
}

static void indicator(buf *b, int i, const char *modified, const char *by)
{
    char byp[128] = "", pat[128];
    if (by)
        snprintf(byp, sizeof(byp), "\"created_by_ref\":\"%s\",", by);
    snprintf(pat, sizeof(pat), pattern_of(i), i);
    buf_printf(b,
               "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--00000000-"
               "0000-4000-8000-%012d\",\"created\":\"2026-01-01T00:00:00.000Z\",\"modified\":"
               "\"%s\",%s\"pattern\":\"%s\",\"pattern_type\":\"%s\","
               "\"valid_from\":\"2026-01-01T00:00:00Z\",\"valid_until\":\"%s\"%s}\n",
               i, modified, byp, pat, i % 5 == 4 ? "sigma" : "stix",
               i % 11 == 0 ? "2026-02-01T00:00:00Z" : "2027-06-01T00:00:00Z",
               i % 7 == 0 ? ",\"revoked\":true" : "");
}

/* Indicators by sources 1-3 and none, every ninth with a second version by another source, and
 * sightings of some of them. */
static void seed(accord_store *s)
{
    buf b;
    buf_init(&b, 0);
    for (int i = 0; i < N_IND; i++)
        indicator(&b, i, "2026-01-01T00:00:00.000Z", i % 4 < 3 ? sources[i % 4] : NULL);
    for (int i = 0; i < 30; i++)
        buf_printf(&b,
                   "{\"type\":\"sighting\",\"spec_version\":\"2.1\",\"id\":\"sighting--00000000-"
                   "0000-4000-8000-%012d\",\"created\":\"2026-03-01T00:00:00.000Z\",\"modified\":"
                   "\"2026-03-01T00:00:00.000Z\",\"sighting_of_ref\":\"indicator--00000000-0000-"
                   "4000-8000-%012d\"}\n",
                   i, i * 13 % N_IND);
    CHECK(t_import_text(s, b.p) == 0);
    buf_reset(&b);
    for (int i = 0; i < N_IND; i += 9)
        indicator(&b, i, "2026-02-01T00:00:00.000Z", sources[(i / 9) % 3]);
    CHECK(t_import_text(s, b.p) == 0);
    buf_free(&b);
}

static int row_cb(void *ud, const store_ind_row *r)
{
    t_rows *x = ud;
    if (t_rows_take(x, r))
        return 1;
    buf_printf(x->out, "%lld/%lld/%lld ", (long long)r->seq, (long long)r->last_sighting,
               (long long)r->sightings);
    return 0;
}

/* The rows of f over pages of 17, a line, and the plans of the statements that gave them. */
static void select_all(accord_store *s, store_ind_sel f, buf *out, char *plans, size_t cap)
{
    t_ind_pages(s, f, 17, row_cb, out, plans, cap);
    buf_adds(out, "\n");
}

/* Every selection's rows into all; with plans, a CHECK that each searches the new indexes. */
static void selections(accord_store *s, buf *all, int check_plans)
{
    char plans[16384];
    buf_reset(all);
    for (size_t ti = 0; ti < sizeof(types) / sizeof(*types); ti++)
        for (int k = -1; k < 3; k++)
            for (int hs = -1; hs <= 1; hs++)
                for (int by_last = 0; by_last <= 1; by_last++)
                    for (int vu = 0; vu <= 1; vu++) {
                        store_ind_sel f = {.tlp = -2,
                                           .has_sightings = hs,
                                           .revoked = -1,
                                           .obs_type = types[ti],
                                           .source = k < 0 ? NULL : sources[k],
                                           .by_last_sighting = by_last,
                                           .vu_before = vu ? 1780000000000000LL : 0};
                        buf_printf(all, "%zu %d %d %d %d: ", ti, k, hs, by_last, vu);
                        select_all(s, f, all, plans, sizeof(plans));
                        if (!check_plans)
                            continue;
                        if (hs == 1 || (by_last && hs != 0))
                            CHECK(strstr(plans, "indicators_id (idh=?)"));
                        if (k >= 0 && hs != 1 && !vu)
                            CHECK(strstr(plans, "indicators_src (srch=?)"));
                        if (types[ti] && k < 0 && hs != 1 && !vu)
                            CHECK(strstr(plans, "indicators_type (otype=?)"));
                        if (strstr(plans, "SCAN i") && !strstr(plans, "USING")) {
                            fprintf(stderr, "plan:\n%s", plans);
                            CHECK(0);
                        }
                    }
}

/* What schema 12's indexes and expression select: latest versions of a type (the expression),
 * of a source (created_by), sighted (joined by id); seq order. */
static void oracle(sqlite3 *db, buf *out)
{
    static const char sql[] =
        "SELECT group_concat(seq, ' ') FROM (SELECT i.seq FROM indicators i WHERE (i.flags & 2) = 0"
        " AND (?1 IS NULL OR " STORE_IND_TYPE_V11 " = ?1) AND (?2 IS NULL OR i.created_by = ?2)"
        " AND (?3 = -1 OR EXISTS (SELECT 1 FROM sighted WHERE of_ref = i.id) = ?3)"
        " ORDER BY i.seq DESC)";
    sqlite3_stmt *st;
    buf_reset(out);
    CHECK(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK);
    for (size_t ti = 0; ti < sizeof(types) / sizeof(*types); ti++)
        for (int k = -1; k < 3; k++)
            for (int hs = -1; hs <= 1; hs++) {
                sqlite3_reset(st);
                sqlite3_clear_bindings(st);
                if (types[ti])
                    sqlite3_bind_text(st, 1, types[ti], -1, SQLITE_STATIC);
                if (k >= 0)
                    sqlite3_bind_text(st, 2, sources[k], -1, SQLITE_STATIC);
                sqlite3_bind_int(st, 3, hs);
                CHECK(sqlite3_step(st) == SQLITE_ROW);
                const char *v = (const char *)sqlite3_column_text(st, 0);
                buf_printf(out, "%zu %d %d: %s\n", ti, k, hs, v ? v : "");
            }
    sqlite3_finalize(st);
}

/* The same (type, source, sighted) selections through store_ind_select, seq order, in the
 * oracle's form. */
static void oracle_of_store(accord_store *s, buf *out)
{
    char plans[16384];
    buf page;
    buf_init(&page, 0);
    buf_reset(out);
    for (size_t ti = 0; ti < sizeof(types) / sizeof(*types); ti++)
        for (int k = -1; k < 3; k++)
            for (int hs = -1; hs <= 1; hs++) {
                store_ind_sel f = {.tlp = -2,
                                   .has_sightings = hs,
                                   .revoked = -1,
                                   .obs_type = types[ti],
                                   .source = k < 0 ? NULL : sources[k]};
                buf_reset(&page);
                select_all(s, f, &page, plans, sizeof(plans));
                buf_printf(out, "%zu %d %d: ", ti, k, hs);
                int first = 1;
                for (char *p = page.p; *p && *p != '\n'; p = strchr(p, ' ') + 1) {
                    buf_printf(out, "%s%lld", first ? "" : " ", strtoll(p, NULL, 10));
                    first = 0;
                }
                buf_adds(out, "\n");
            }
    buf_free(&page);
}

static void test_migrate(void)
{
    char dir[400], path[500];
    snprintf(dir, sizeof(dir), "%s/m", tmpdir);
    snprintf(path, sizeof(path), "%s/accord.db", dir);
    accord_store *s = t_store_open(dir);
    if (!s)
        return;
    seed(s);
    buf before, after, want, got;
    buf_init(&before, 0);
    buf_init(&after, 0);
    buf_init(&want, 0);
    buf_init(&got, 0);
    selections(s, &before, 1);
    static const char cols[] =
        "SELECT group_concat(seq || ':' || quote(otype) || ':' || idh || ':' || quote(srch), ' ')"
        " FROM (SELECT * FROM indicators ORDER BY seq)";
    char *cols_before = t_scalar_text(s->db, cols);
    CHECK(strstr(cols_before, ":'ipv4-addr':") && strstr(cols_before, ":'url':") &&
          strstr(cols_before, ":'[':") && strstr(cols_before, ":NULL"));
    accord_store_close(s);

    /* back to schema 12: its columns and its indexes */
    sqlite3 *db;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db,
                       T_SCHEMA13_UNDO
                       "CREATE INDEX indicators_src ON indicators(created_by)"
                       " WHERE (flags & 2) = 0 AND created_by IS NOT NULL;"
                       "PRAGMA user_version = 12",
                       NULL, NULL, NULL) == SQLITE_OK);
    oracle(db, &want);
    sqlite3_close(db);

    if (!(s = t_store_open(dir)))
        return;
    T_CHECK_SCHEMA_CURRENT(s);
    char *cols_after = t_scalar_text(s->db, cols);
    CHECK_STR(cols_after, cols_before);
    selections(s, &after, 1);
    CHECK_STR(after.p, before.p);
    oracle_of_store(s, &got);
    CHECK_STR(got.p, want.p);
    CHECK(strstr(want.p, "0 -1 -1: ") && strlen(want.p) > 1000);

    /* a new version after the migration moves the latest-only indexes too */
    buf b;
    buf_init(&b, 0);
    indicator(&b, 3, "2026-03-01T00:00:00.000Z", sources[0]);
    CHECK(t_import_text(s, b.p) == 0);
    buf_free(&b);
    char *v = t_scalar_text(s->db, "SELECT count(*) FROM indicators INDEXED BY indicators_id"
                           " WHERE idh = id_hash('indicator--00000000-0000-4000-8000-000000000003')"
                           " AND (flags & 2) = 0");
    CHECK_STR(v, "1");
    free(v);
    free(cols_before);
    free(cols_after);
    buf_free(&before);
    buf_free(&after);
    buf_free(&want);
    buf_free(&got);
    accord_store_close(s);
}

int main(void)
{
    if (t_mkdtemp(tmpdir, sizeof(tmpdir), "store-schema13"))
        return 1;
    test_otype();
    test_migrate();
    t_rmtree(tmpdir);
    return t_done();
}
