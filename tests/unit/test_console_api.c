/*
 * test_console_api.c - the console's search and object endpoints (src/console_api.c) on a real
 * store, called as the server calls them, and the store lookups behind them (store_console.c):
 *   - relationships of an object come from the endpoint indexes (the query plan says so), in seq
 *     order, paginated without repeats or gaps, latest unrevoked versions only, a self-loop
 *     once, a TLP:RED one invisible to an account without clearance;
 *   - a store written at schema 6 (no endpoint indexes, no sessions table) is migrated on open
 *     with every object kept, and its relationships are then found through the index;
 *   - console sessions in the store: stored, read back, their use recorded only forward, dropped
 *     at logout, expired ones and those beyond the newest STORE_SESSIONS_MAX dropped at a login;
 *   - the batched search of many values answers exactly what one search per value answers
 *     (accord_store_search_as), in the same order, across pages of every size; unknown and
 *     unsearchable values are listed as such.
 */
#include "accord.h"
#include "console_api.h"
#include "store_console.h"
#include "t.h"
#include "util/buf.h"
#include "util/json.h"

#include <sqlite3.h>
#include <sys/mman.h>
#include <unistd.h>

#include "t_import.h"

#define OBJ "malware--00000000-0000-4000-8000-00000000aaaa"
#define ORG "identity--00000000-0000-4000-8000-00000000bbbb"
#define RED "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
#define CLEAR                                                                                      \
    ",\"object_marking_refs\":[\"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487\"]"

static char tmpdir[256];
static int ndirs;

static accord_store *fresh_store(char *dir, size_t cap)
{
    snprintf(dir, cap, "%s/s%d", tmpdir, ndirs++);
    accord_store *s = NULL;
    accord_error err;
    if (accord_store_open(dir, 0, &s, &err) != 0)
        fprintf(stderr, "open: %s\n", err.msg);
    return s;
}

/* A relationship; TLP:CLEAR unless extra has markings (then extra is all that is added). */
static void rel(buf *b, int n, const char *src, const char *dst, const char *modified,
                const char *extra)
{
    buf_printf(b,
               "{\"type\":\"relationship\",\"spec_version\":\"2.1\","
               "\"id\":\"relationship--00000000-0000-4000-8000-%012d\","
               "\"created\":\"2026-01-01T00:00:00.000Z\",\"modified\":\"%s\","
               "\"relationship_type\":\"indicates\",\"source_ref\":\"%s\","
               "\"target_ref\":\"%s\"%s}\n",
               n, modified, src, dst, strstr(extra, "object_marking_refs") ? extra : CLEAR);
}

static void ind(buf *b, int n, const char *value)
{
    buf_printf(b,
               "{\"type\":\"indicator\",\"spec_version\":\"2.1\","
               "\"id\":\"indicator--00000000-0000-4000-8000-%012d\","
               "\"created\":\"2026-01-01T00:00:00.000Z\",\"modified\":\"2026-01-01T00:00:00.000Z\","
               "\"name\":\"i%d\",\"pattern\":\"[domain-name:value = '%s']\",\"pattern_type\":"
               "\"stix\",\"valid_from\":\"2026-01-01T00:00:00.000Z\",\"created_by_ref\":\"" ORG
               "\"}\n",
               n, n, value);
}

/* One request to a console handler; the response body stays in rs (taxii_response_free it). */
static int call(accord_store *s, const char *account, int admin, void (*h)(api_call *),
                const char *method, const char *rest, const taxii_param *q, size_t nq,
                const char *body, taxii_response *rs)
{
    taxii_request rq = {.method = method,
                        .path = "/api/",
                        .query = q,
                        .nquery = nq,
                        .body = body ? body : "",
                        .body_len = body ? strlen(body) : 0};
    taxii_response_init(rs);
    api_call c = {.reader = s, .rq = &rq, .rs = rs, .rest = rest};
    snprintf(c.who.account, sizeof(c.who.account), "%s", account);
    c.who.is_admin = admin;
    h(&c);
    buf_adds(&rs->body, ""); /* NUL-terminated */
    return rs->status;
}

/* ------------------------------------------------------------------------------------------ */

typedef struct page_rows {
    char ids[64][80];
    int64_t seqs[64];
    int n;
} page_rows;

/* Every relationship of OBJ, page by page with `limit`; the number of pages, -1 on an error. */
static int rels_pages(accord_store *s, const char *account, int admin, int limit, page_rows *out)
{
    char lim[16], after[32] = "";
    int pages = 0;
    out->n = 0;
    for (;;) {
        snprintf(lim, sizeof(lim), "%d", limit);
        taxii_param q[2] = {{"limit", lim}, {"after", after}};
        taxii_response rs;
        if (getenv("T_DEBUG"))
            fprintf(stderr, "page after %s\n", after);
        if (call(s, account, admin, console_object, "GET", OBJ "/relationships", q,
                 after[0] ? 2 : 1, NULL, &rs) != 200) {
            fprintf(stderr, "%s\n", rs.body.p);
            taxii_response_free(&rs);
            return -1;
        }
        pages++;
        if (getenv("T_DEBUG"))
            fprintf(stderr, "%s\n", rs.body.p);
        ajson_arena a;
        ajson_arena_init(&a, 0);
        ajson_error je;
        const ajson_value *doc = ajson_parse(&a, rs.body.p, rs.body.len, &je);
        const ajson_value *rows = doc ? ajson_get(doc, "rows") : NULL;
        for (size_t i = 0; rows && i < rows->len && out->n < 64; i++) {
            int64_t seq = 0;
            ajson_int(ajson_get(&rows->u.items[i], "seq"), &seq);
            snprintf(out->ids[out->n], sizeof(out->ids[0]), "%s",
                     ajson_str(ajson_get(&rows->u.items[i], "id")));
            out->seqs[out->n++] = seq;
        }
        const char *next = doc ? ajson_str(ajson_get(doc, "next")) : NULL;
        int more = next != NULL;
        if (next)
            snprintf(after, sizeof(after), "%s", next);
        ajson_arena_free(&a);
        taxii_response_free(&rs);
        if (!more || pages > 50)
            break;
    }
    return pages;
}

static int has_id(const page_rows *p, int n)
{
    char id[80];
    snprintf(id, sizeof(id), "relationship--00000000-0000-4000-8000-%012d", n);
    int k = 0;
    for (int i = 0; i < p->n; i++)
        k += strcmp(p->ids[i], id) == 0;
    return k;
}

/* Relationships of OBJ: 1-4 from it, 5-6 to it, 7 to itself, 8 revoked, 9 moved away by a
 * later version, 10 TLP:RED; 100+ between other objects. */
static void seed_rels(accord_store *s)
{
    buf b;
    buf_init(&b, 1 << 24);
    const char *other = "indicator--00000000-0000-4000-8000-00000000cccc";
    for (int i = 100; i < 1100; i++)
        rel(&b, i, other, "malware--00000000-0000-4000-8000-00000000dddd",
            "2026-01-01T00:00:00.000Z", "");
    for (int i = 1; i <= 4; i++)
        rel(&b, i, OBJ, other, "2026-01-01T00:00:00.000Z", "");
    rel(&b, 5, other, OBJ, "2026-01-01T00:00:00.000Z", "");
    rel(&b, 6, other, OBJ, "2026-01-01T00:00:00.000Z", "");
    rel(&b, 7, OBJ, OBJ, "2026-01-01T00:00:00.000Z", "");
    rel(&b, 8, OBJ, other, "2026-01-01T00:00:00.000Z", "");
    rel(&b, 9, OBJ, other, "2026-01-01T00:00:00.000Z", "");
    rel(&b, 10, OBJ, other, "2026-01-01T00:00:00.000Z", ",\"object_marking_refs\":[\"" RED "\"]");
    CHECK(t_import_text(s, b.p) == 0);
    buf_reset(&b);
    rel(&b, 8, OBJ, other, "2026-02-01T00:00:00.000Z", ",\"revoked\":true" CLEAR);
    rel(&b, 9, other, other, "2026-02-01T00:00:00.000Z", "");
    for (int i = 1100; i < 1200; i++)
        rel(&b, i, other, other, "2026-01-01T00:00:00.000Z", "");
    CHECK(t_import_text(s, b.p) == 0);
    buf_free(&b);
}

static void check_rels(accord_store *s)
{
    page_rows all, paged;
    CHECK(rels_pages(s, "admin", 1, 500, &all) == 1);
    CHECK(all.n == 8); /* 1-7 and 10 */
    for (int i = 1; i <= 7; i++)
        CHECK(has_id(&all, i) == 1);
    CHECK(has_id(&all, 8) == 0 && has_id(&all, 9) == 0 && has_id(&all, 10) == 1);
    for (int i = 1; i < all.n; i++)
        CHECK(all.seqs[i] > all.seqs[i - 1]);
    /* pages of 3: 3 + 3 + 2, the same rows in the same order */
    CHECK(rels_pages(s, "admin", 1, 3, &paged) == 3);
    CHECK(paged.n == all.n);
    for (int i = 0; i < paged.n && i < all.n; i++)
        CHECK(paged.seqs[i] == all.seqs[i]);
    /* a page exactly as long as what is left says there is no next one */
    CHECK(rels_pages(s, "admin", 1, 8, &paged) == 1 && paged.n == 8);
}

static void test_relationships(void)
{
    char dir[400];
    accord_store *s = fresh_store(dir, sizeof(dir));
    CHECK(s != NULL);
    if (!s)
        return;
    seed_rels(s);
    check_rels(s);
    /* an account without RED clearance does not see 10 */
    accord_error err;
    CHECK(accord_account_add(s, "b", NULL, 0, &err) == 0);
    page_rows p;
    CHECK(rels_pages(s, "b", 0, 500, &p) == 1);
    CHECK(p.n == 7 && has_id(&p, 10) == 0);
    /* bad cursors and limits */
    taxii_param q1[1] = {{"after", "12x"}}, q2[1] = {{"limit", "501"}};
    taxii_response rs;
    CHECK(call(s, "admin", 1, console_object, "GET", OBJ "/relationships", q1, 1, NULL, &rs) ==
          400);
    taxii_response_free(&rs);
    CHECK(call(s, "admin", 1, console_object, "GET", OBJ "/relationships", q2, 1, NULL, &rs) ==
          400);
    taxii_response_free(&rs);
    accord_store_close(s);

    /* the lookup is two index searches, whatever the store holds */
    char path[500];
    snprintf(path, sizeof(path), "%s/accord.db", dir);
    sqlite3 *db;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    sqlite3_stmt *st;
    CHECK(sqlite3_prepare_v2(
              db,
              "EXPLAIN QUERY PLAN SELECT seq FROM objects WHERE type = 'relationship'"
              " AND json_extract(body, '$.source_ref') = ?1 AND seq > ?2 AND (flags & 3) = 0"
              " UNION SELECT seq FROM objects WHERE type = 'relationship'"
              " AND json_extract(body, '$.target_ref') = ?1 AND seq > ?2 AND (flags & 3) = 0"
              " ORDER BY seq",
              -1, &st, NULL) == SQLITE_OK);
    int src = 0, dst = 0, scan = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *d = (const char *)sqlite3_column_text(st, 3);
        src += strstr(d, "USING INDEX objects_rel_source") != NULL;
        dst += strstr(d, "USING INDEX objects_rel_target") != NULL;
        scan += strncmp(d, "SCAN", 4) == 0;
    }
    sqlite3_finalize(st);
    CHECK(src == 1 && dst == 1 && scan == 0);
    sqlite3_close(db);
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

static void test_migration(void)
{
    char dir[400], path[500];
    accord_store *s = fresh_store(dir, sizeof(dir));
    CHECK(s != NULL);
    if (!s)
        return;
    seed_rels(s);
    accord_store_close(s);
    snprintf(path, sizeof(path), "%s/accord.db", dir);
    sqlite3 *db;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    int64_t objects = scalar(db, "SELECT count(*) FROM objects");
    /* what schema 6 had: no endpoint indexes, no sessions */
    CHECK(sqlite3_exec(db,
                       "DROP INDEX objects_rel_source; DROP INDEX objects_rel_target;"
                       " DROP TABLE sessions; PRAGMA user_version = 6",
                       NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    /* a read-only open refuses to migrate and changes nothing */
    accord_error err;
    s = NULL;
    CHECK(accord_store_open(dir, ACCORD_STORE_READONLY, &s, &err) == ACCORD_ESCHEMA);
    accord_store_close(s);
    s = NULL;
    CHECK(accord_store_open(dir, 0, &s, &err) == 0);
    if (s) {
        check_rels(s);
        accord_store_close(s);
    }
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(scalar(db, "PRAGMA user_version") >= 11);
    CHECK(scalar(db, "SELECT count(*) FROM objects") == objects);
    CHECK(scalar(db, "SELECT count(*) FROM sqlite_master WHERE name IN ('objects_rel_source',"
                     " 'objects_rel_target', 'sessions', 'sessions_used')") == 4);
    sqlite3_close(db);
}

/* ------------------------------------------------------------------------------------------ */

typedef struct hits {
    char (*rows)[160]; /* "VALUE|ID|SEQ" */
    int n, cap;
} hits;

static int one_cb(void *ud, const accord_record *rec)
{
    hits *h = ud;
    if (h->n < h->cap)
        snprintf(h->rows[h->n++], sizeof(h->rows[0]), "%s|%lld", rec->id, (long long)rec->seq);
    return 0;
}

/* The search's rows as "VALUE|ID|SEQ", page by page with limit; the page count. */
static int search_pages(accord_store *s, const char *body, int limit, hits *out, buf *unknown,
                        buf *invalid)
{
    char lim[16], after[48] = "";
    int pages = 0;
    for (;;) {
        snprintf(lim, sizeof(lim), "%d", limit);
        taxii_param q[2] = {{"limit", lim}, {"after", after}};
        taxii_response rs;
        if (call(s, "admin", 1, console_search, "POST", "", q, after[0] ? 2 : 1, body, &rs) !=
            200) {
            fprintf(stderr, "%s\n", rs.body.p);
            taxii_response_free(&rs);
            return -1;
        }
        pages++;
        ajson_arena a;
        ajson_arena_init(&a, 0);
        ajson_error je;
        const ajson_value *doc = ajson_parse(&a, rs.body.p, rs.body.len, &je);
        const ajson_value *rows = doc ? ajson_get(doc, "rows") : NULL;
        for (size_t i = 0; rows && i < rows->len && out->n < out->cap; i++) {
            const ajson_value *r = &rows->u.items[i];
            int64_t seq = 0;
            ajson_int(ajson_get(r, "seq"), &seq);
            snprintf(out->rows[out->n++], sizeof(out->rows[0]), "%s|%s|%lld",
                     ajson_str(ajson_get(r, "value")), ajson_str(ajson_get(r, "id")),
                     (long long)seq);
        }
        const ajson_value *u = doc ? ajson_get(doc, "unknown") : NULL;
        for (size_t i = 0; u && i < u->len; i++)
            buf_printf(unknown, "%s\n", ajson_str(&u->u.items[i]));
        const ajson_value *inv = doc ? ajson_get(doc, "invalid") : NULL;
        for (size_t i = 0; inv && i < inv->len; i++)
            buf_printf(invalid, "%s\n", ajson_str(&inv->u.items[i]));
        const char *next = doc ? ajson_str(ajson_get(doc, "next")) : NULL;
        if (next)
            snprintf(after, sizeof(after), "%s", next);
        ajson_arena_free(&a);
        taxii_response_free(&rs);
        if (!next || pages > 2000)
            break;
    }
    return pages;
}

static void test_search_many(void)
{
    char dir[400];
    accord_store *s = fresh_store(dir, sizeof(dir));
    CHECK(s != NULL);
    if (!s)
        return;
    /* several imports make several runs of the value index; value k (k < 60) is named by
       (k + batch) % 3 indicators of each batch, so the rows of one value lie in several runs */
    buf b;
    buf_init(&b, 1 << 24);
    int n = 0;
    for (int batch = 0; batch < 5; batch++) {
        buf_reset(&b);
        for (int k = 0; k < 60; k++)
            for (int r = 0; r < (k + batch) % 3; r++) {
                char v[64];
                snprintf(v, sizeof(v), "host%d.example.org", k);
                ind(&b, ++n, v);
            }
        for (int f = 0; f < 1500; f++) { /* filler: other values */
            char v[64];
            snprintf(v, sizeof(v), "filler%d-%d.example.net", batch, f);
            ind(&b, ++n, v);
        }
        CHECK(t_import_text(s, b.p) == 0);
    }
    /* the request: each value of k < 70 (60-69 unknown), one twice, one unsearchable */
    buf body, want, unknown, invalid, wunknown;
    buf_init(&body, 1 << 20);
    buf_init(&want, 1 << 20);
    buf_init(&unknown, 1 << 20);
    buf_init(&invalid, 1 << 20);
    buf_init(&wunknown, 1 << 20);
    buf_adds(&body, "{\"values\":[");
    hits one = {calloc(4096, 160), 0, 4096};
    hits got = {calloc(4096, 160), 0, 4096};
    for (int k = 0; k < 72; k++) {
        char v[64];
        const char *value = v;
        if (k == 70)
            snprintf(v, sizeof(v), "host3.example.org");
        else if (k == 71)
            value = " "; /* not searchable: nothing left once normalised */
        else
            snprintf(v, sizeof(v), "host%d.example.org", k);
        buf_printf(&body, "%s\"%s\"", k ? "," : "", value);
        if (k == 71)
            continue;
        int before = one.n;
        accord_error err;
        CHECK(accord_store_search_as(s, NULL, value, one_cb, &one, &err) == 0);
        for (int i = before; i < one.n; i++)
            buf_printf(&want, "%s|%s\n", value, one.rows[i]);
        if (one.n == before)
            buf_printf(&wunknown, "%s\n", value);
    }
    buf_adds(&body, "]}");
    int limits[] = {500, 1, 2, 3, 7, 40};
    for (size_t l = 0; l < sizeof(limits) / sizeof(limits[0]); l++) {
        got.n = 0;
        buf_reset(&unknown);
        buf_reset(&invalid);
        int pages = search_pages(s, body.p, limits[l], &got, &unknown, &invalid);
        CHECK(pages >= 1);
        buf text;
        buf_init(&text, 1 << 20);
        for (int i = 0; i < got.n; i++)
            buf_printf(&text, "%s\n", got.rows[i]);
        buf_adds(&text, "");
        buf_adds(&want, "");
        buf_adds(&unknown, "");
        buf_adds(&wunknown, "");
        buf_adds(&invalid, "");
        CHECK(want.len > 0 && text.len == want.len && memcmp(text.p, want.p, want.len) == 0);
        CHECK_STR(unknown.p, wunknown.p);
        CHECK_STR(invalid.p, " \n");
        if (limits[l] == 500)
            CHECK(pages == 1);
        buf_free(&text);
    }
    /* one value by GET, and one that cannot be searched */
    taxii_param q[1] = {{"value", "host5.example.org"}};
    taxii_response rs;
    CHECK(call(s, "admin", 1, console_search, "GET", "", q, 1, NULL, &rs) == 200);
    CHECK(strstr(rs.body.p, "\"unknown\":[]") && strstr(rs.body.p, "host5.example.org"));
    taxii_response_free(&rs);
    q[0].value = "\t";
    CHECK(call(s, "admin", 1, console_search, "GET", "", q, 1, NULL, &rs) == 200);
    CHECK(strstr(rs.body.p, "\"rows\":[],\"unknown\":[],\"invalid\":[\"\\t\"]") != NULL);
    taxii_response_free(&rs);
    /* a cursor past the values is refused */
    taxii_param qc[1] = {{"after", "72.0"}};
    CHECK(call(s, "admin", 1, console_search, "POST", "", qc, 1, body.p, &rs) == 400);
    taxii_response_free(&rs);
    free(one.rows);
    free(got.rows);
    buf_free(&b);
    buf_free(&body);
    buf_free(&want);
    buf_free(&unknown);
    buf_free(&invalid);
    buf_free(&wunknown);
    accord_store_close(s);
}

static void test_sessions(void)
{
    char dir[400];
    accord_store *s = fresh_store(dir, sizeof(dir));
    CHECK(s != NULL);
    if (!s)
        return;
    accord_error err;
    unsigned char h[STORE_SESSION_HASH], h2[STORE_SESSION_HASH];
    memset(h, 1, sizeof(h));
    memset(h2, 2, sizeof(h2));
    char account[80];
    int64_t created = 0, used = 0;
    CHECK(store_session_get(s, h, account, sizeof(account), &created, &used, &err) ==
          ACCORD_ENOTFOUND);
    CHECK(store_session_put(s, h, "analyst", 1000, 1000, 0, &err) == 0);
    CHECK(store_session_get(s, h, account, sizeof(account), &created, &used, &err) == 0);
    CHECK_STR(account, "analyst");
    CHECK(created == 1000 && used == 1000);
    CHECK(store_session_touch(s, h, 5000, &err) == 0);
    CHECK(store_session_touch(s, h, 3000, &err) == 0); /* an earlier use changes nothing */
    CHECK(store_session_get(s, h, account, sizeof(account), &created, &used, &err) == 0);
    CHECK(used == 5000);
    /* a login drops the sessions idle since before its bound */
    CHECK(store_session_put(s, h2, "other", 9000, 9000, 6000, &err) == 0);
    CHECK(store_session_get(s, h, account, sizeof(account), &created, &used, &err) ==
          ACCORD_ENOTFOUND);
    CHECK(store_session_get(s, h2, account, sizeof(account), &created, &used, &err) == 0);
    CHECK(store_session_del(s, h2, &err) == 0);
    CHECK(store_session_del(s, h2, &err) == 0);
    CHECK(store_session_get(s, h2, account, sizeof(account), &created, &used, &err) ==
          ACCORD_ENOTFOUND);
    /* at most STORE_SESSIONS_MAX: with that many stored (hash "%032d" of i, used 10000 + i),
       a login drops the least recently used one */
    char path[500];
    snprintf(path, sizeof(path), "%s/accord.db", dir);
    sqlite3 *db;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    char sql[400];
    snprintf(sql, sizeof(sql),
             "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < %d)"
             " INSERT INTO sessions SELECT CAST(printf('%%032d', i) AS BLOB), 'many',"
             " 10000 + i, 10000 + i FROM n",
             STORE_SESSIONS_MAX - 1);
    CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
    CHECK(scalar(db, "SELECT count(*) FROM sessions") == STORE_SESSIONS_MAX);
    memset(h, 'x', sizeof(h));
    CHECK(store_session_put(s, h, "newest", 20000, 20000, 0, &err) == 0);
    CHECK(scalar(db, "SELECT count(*) FROM sessions") == STORE_SESSIONS_MAX);
    unsigned char h0[STORE_SESSION_HASH], h1[STORE_SESSION_HASH];
    memset(h0, '0', sizeof(h0));
    memset(h1, '0', sizeof(h1));
    h1[STORE_SESSION_HASH - 1] = '1';
    CHECK(store_session_get(s, h0, account, sizeof(account), &created, &used, &err) ==
          ACCORD_ENOTFOUND);
    CHECK(store_session_get(s, h1, account, sizeof(account), &created, &used, &err) == 0);
    CHECK(store_session_get(s, h, account, sizeof(account), &created, &used, &err) == 0);
    sqlite3_close(db);
    accord_store_close(s);
}

int main(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/accord-test-console-api-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_relationships();
    test_migration();
    test_sessions();
    test_search_many();
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", tmpdir);
    return t_done();
}
