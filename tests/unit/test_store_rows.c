/*
 * test_store_rows.c - deferred row writes (src/store_rows.c): a transaction that defers its rows
 * stores exactly what one that writes each row at once stores.
 *   - the same sequence of puts (new ids, newer and older versions of an id, a revoked version,
 *     a duplicate, a link into a second collection, a sighting, rows of several flushes)
 *     into two stores, one deferring: every table's rows are equal but for the clock's values
 *     (date_added, audit times and the audit leaves, which hash them);
 *   - reads inside the deferring transaction see its rows (a get after puts, a body read, the
 *     indicator scan), and a version stored earlier in the transaction is superseded in place;
 *   - a rollback drops the pending rows: nothing of the transaction is stored, the next
 *     transaction stores its own, and the audit log verifies;
 *   - a bulk insert that fails part way (INSERT OR FAIL keeps the rows before the failing one)
 *     fails the read that flushed it; every later flush fails without writing ("an earlier bulk
 *     insert failed"), and so does the commit: nothing of the transaction is stored, and the
 *     next one stores its own.
 */
#include "accord.h"
#include "stix.h"
#include "store.h"
#include "store_int.h"
#include "t.h"
#include "util/buf.h"
#include "values.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "t_import.h"

static char tmpdir[256];

#define IND                                                                                        \
    "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--%08x-0000-4000-8000-" \
    "000000000000\",\"created\":\"2024-01-01T00:00:00.000Z\",\"modified\":\"%s\",\"name\":\"n%u\"," \
    "\"pattern\":\"[ipv4-addr:value = '10.0.%u.%u']\",\"pattern_type\":\"stix\","                 \
    "\"valid_from\":\"2024-01-01T00:00:00Z\"%s}"
#define SIGHTING                                                                                   \
    "{\"type\":\"sighting\",\"spec_version\":\"2.1\",\"id\":\"sighting--%08x-0000-4000-8000-"   \
    "000000000000\",\"created\":\"2024-01-01T00:00:00.000Z\",\"modified\":\"2024-01-01T00:00:00." \
    "000Z\",\"count\":3,\"sighting_of_ref\":\"indicator--00000001-0000-4000-8000-000000000000\"}"

typedef struct vals {
    uint64_t v[64];
    size_t n;
} vals;

static void add_val(void *ud, const char *value, size_t len)
{
    vals *x = ud;
    if (x->n < 64)
        x->v[x->n++] = store_value_hash(value, len);
}

/* Validates and stores one object in collection cid; the outcome, or -1 on an error. */
static int put(accord_store *s, int64_t cid, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int put(accord_store *s, int64_t cid, const char *fmt, ...)
{
    char text[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    ajson_arena a;
    ajson_error jerr;
    ajson_arena_init(&a, 0);
    const ajson_value *root = ajson_parse(&a, text, strlen(text), &jerr);
    stix_info info;
    stix_problem prob;
    int rc = -1;
    if (root && stix_validate(root, NULL, &info, &prob) == 0) {
        vals v = {.n = 0};
        values_extract(root, info.type, add_val, &v);
        store_outcome out;
        int64_t seq;
        accord_error err;
        if (store_put(s, cid, &info, text, strlen(text), v.v, v.n, &out, &seq, &err) == 0)
            rc = (int)out;
        else
            fprintf(stderr, "put: %s\n", err.msg);
    } else {
        fprintf(stderr, "invalid: %s\n", root ? prob.message : jerr.msg);
    }
    ajson_arena_free(&a);
    return rc;
}

static int64_t second_coll(accord_store *s)
{
    accord_error err;
    char id[64];
    int64_t cid = 0;
    if (accord_collection_add(s, NULL, "second", NULL, NULL, id, &err) == 0)
        store_collection_resolve(s, id, &cid, &err);
    return cid;
}

/* The sequence of puts of the comparison, in one transaction (deferring or not). */
static void puts_all(accord_store *s, int defer, int64_t c2)
{
    accord_error err;
    int64_t c1 = 0;
    CHECK(store_collection_resolve(s, NULL, &c1, &err) == 0 && c1 > 0);
    CHECK(store_begin(s, &err) == 0);
    if (defer)
        store_rows_defer(s);
    /* several flushes' rows: each audit checkpoint (every 1000 records) flushes the pending rows,
     * before any table reaches store_rows.c's ROWS_MAX */
    unsigned n = 5000;
    int ok = 1;
    for (unsigned i = 1; i <= n; i++)
        ok &= put(s, c1, IND, i, "2024-02-01T00:00:00.000Z", i, i >> 8 & 255, i & 255, "") ==
              STORE_NEW;
    CHECK(ok);
    /* deferring, the last rows (since the last flush: an audit checkpoint's) are still in
     * memory; not deferring, each was written at once */
    CHECK(defer ? s->rows_pending > 0 : s->rows_pending == 0);
    /* versions of ids written earlier in this transaction, a duplicate, a link, a revocation */
    CHECK(put(s, c1, IND, 1u, "2024-03-01T00:00:00.000Z", 1u, 0u, 1u, "") == STORE_VERSION);
    CHECK(put(s, c1, IND, 2u, "2024-01-15T00:00:00.000Z", 2u, 0u, 2u, "") == STORE_VERSION);
    CHECK(put(s, c1, IND, 3u, "2024-02-01T00:00:00.000Z", 3u, 0u, 3u, "") == STORE_DUPLICATE);
    CHECK(put(s, c2, IND, 4u, "2024-02-01T00:00:00.000Z", 4u, 0u, 4u, "") == STORE_LINKED);
    CHECK(put(s, c1, IND, 5u, "2024-04-01T00:00:00.000Z", 5u, 0u, 5u, ",\"revoked\":true") ==
          STORE_VERSION);
    CHECK(put(s, c1, SIGHTING, 1u) == STORE_NEW);
    CHECK(put(s, c1, IND, 6000u, "2024-02-01T00:00:00.000Z", 6u, 0u, 6u, "") == STORE_NEW);
    CHECK(store_commit(s, &err) == 0); /* that it wrote the pending rows: the dumps compared */
}

/* Every table's rows as text, without the clock's values. */
static void dump(accord_store *s, buf *out)
{
    static const char *const sql =
        "SELECT seq, id, type, modified, spec, flags, chash, hex(body), tlp, tlp_org, tlp_to,"
        " tlp_dep, typeof(tlp_org) FROM objects ORDER BY seq;"
        "SELECT coll, seq, type, flags FROM members ORDER BY coll, added;"
        "SELECT seq, action, object_seq, ref, detail FROM audit WHERE object_seq IS NOT NULL"
        " ORDER BY seq;"
        "SELECT seq, id, modified, spec, flags, tlp, tlp_org, tlp_to, valid_from, valid_until,"
        " confidence, pattern_type, pattern, name, created_by, otype, idh, srch FROM indicators"
        " ORDER BY seq;"
        "SELECT seq, flags, hex(substr(row, 1, 16)) || hex(substr(row, 25)) FROM export_rows"
        " ORDER BY seq;"
        "SELECT coll, seq, flags, t, n, of_ref FROM sightings ORDER BY coll, seq;"
        "SELECT of_ref, n FROM sighted ORDER BY of_ref;"
        "SELECT count(*) FROM objects INDEXED BY objects_type WHERE type = 'indicator';"
        "SELECT count(*) FROM indicators INDEXED BY indicators_id WHERE (flags & 2) = 0;"
        "PRAGMA integrity_check;";
    const char *tail = sql;
    while (tail && *tail) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(s->db, tail, -1, &st, &tail) != SQLITE_OK || !st)
            break;
        while (sqlite3_step(st) == SQLITE_ROW) {
            for (int i = 0; i < sqlite3_column_count(st); i++) {
                const unsigned char *v = sqlite3_column_text(st, i);
                buf_adds(out, v ? (const char *)v : "NULL");
                buf_adds(out, "|");
            }
            buf_adds(out, "\n");
        }
        sqlite3_finalize(st);
    }
}

static accord_store *open_at(const char *name)
{
    char dir[400];
    snprintf(dir, sizeof(dir), "%s/%s", tmpdir, name);
    return t_store_open(dir);
}

static void test_same_rows(void)
{
    accord_store *a = open_at("direct"), *b = open_at("deferred");
    if (!a || !b)
        return;
    int64_t ca = second_coll(a), cb = second_coll(b);
    CHECK(ca > 0 && ca == cb);
    puts_all(a, 0, ca);
    puts_all(b, 1, cb);
    buf da, db;
    buf_init(&da, 1u << 30);
    buf_init(&db, 1u << 30);
    dump(a, &da);
    dump(b, &db);
    CHECK(da.len > 5000 * 100 && da.len == db.len && memcmp(da.p, db.p, da.len) == 0);
    CHECK(strstr(db.p, "\nok|\n") != NULL);
    buf_free(&da);
    buf_free(&db);
    accord_store_close(a);
    accord_store_close(b);
}

typedef struct seen {
    int n, latest;
    char name[32];
} seen;

static int on_rec(void *ud, const accord_record *r)
{
    seen *x = ud;
    x->n++;
    if (r->latest) {
        x->latest++;
        const char *p = strstr(r->body, "\"name\":\"");
        snprintf(x->name, sizeof(x->name), "%.*s", p ? (int)(strchr(p + 8, '"') - p - 8) : 0,
                 p ? p + 8 : "");
    }
    return 0;
}

static int on_ind(void *ud, const store_ind *d)
{
    (void)d;
    ++*(int *)ud;
    return 0;
}

/* A store in tmpdir/name inside a deferring transaction; *c1 its default collection. */
static accord_store *open_deferring(const char *name, int64_t *c1)
{
    accord_store *s = open_at(name);
    accord_error err;
    if (!s)
        return NULL;
    CHECK(store_collection_resolve(s, NULL, c1, &err) == 0 && *c1 > 0);
    CHECK(store_begin(s, &err) == 0);
    store_rows_defer(s);
    return s;
}

static void test_reads_and_rollback(void)
{
    accord_error err;
    int64_t c1 = 0;
    accord_store *s = open_deferring("reads", &c1);
    if (!s)
        return;
    CHECK(put(s, c1, IND, 7u, "2024-02-01T00:00:00.000Z", 70u, 0u, 7u, "") == STORE_NEW);
    CHECK(put(s, c1, IND, 8u, "2024-02-01T00:00:00.000Z", 80u, 0u, 8u, "") == STORE_NEW);
    CHECK(s->rows_pending > 0);
    /* the id index is written at the commit, so a read inside the transaction walks the
     * collection (members and objects rows) */
    accord_scan_filter all = {.collection = "default", .versions = ACCORD_VERSIONS_ALL};
    seen x = {0};
    CHECK(accord_store_scan(s, &all, on_rec, &x, &err) == 0);
    CHECK(x.n == 2 && x.latest == 2);
    CHECK(s->rows_pending == 0); /* the read flushed */
    CHECK(put(s, c1, IND, 7u, "2024-03-01T00:00:00.000Z", 71u, 0u, 7u, "") == STORE_VERSION);
    memset(&x, 0, sizeof(x));
    CHECK(accord_store_scan(s, &all, on_rec, &x, &err) == 0);
    CHECK(x.n == 3 && x.latest == 2 && strcmp(x.name, "n71") == 0);
    int n = 0;
    CHECK(put(s, c1, IND, 9u, "2024-02-01T00:00:00.000Z", 90u, 0u, 9u, "") == STORE_NEW);
    CHECK(store_ind_scan(s, NULL, NULL, 0, on_ind, &n, &err) == 0 && n == 3);
    char *body = NULL;
    size_t len = 0;
    CHECK(put(s, c1, IND, 10u, "2024-02-01T00:00:00.000Z", 100u, 0u, 10u, "") == STORE_NEW);
    CHECK(store_body_get(s, s->last_seq, &body, &len, &err) == 0 && body &&
          strstr(body, "\"n100\"") != NULL);
    free(body);
    CHECK(put(s, c1, IND, 11u, "2024-02-01T00:00:00.000Z", 110u, 0u, 11u, "") == STORE_NEW);
    store_rollback(s);
    CHECK(s->rows_pending == 0 && s->rows_defer == 0);
    memset(&x, 0, sizeof(x));
    CHECK(accord_store_scan(s, &all, on_rec, &x, &err) == 0 && x.n == 0);
    CHECK(store_begin(s, &err) == 0);
    store_rows_defer(s);
    CHECK(put(s, c1, IND, 11u, "2024-02-01T00:00:00.000Z", 111u, 0u, 11u, "") == STORE_NEW);
    CHECK(store_commit(s, &err) == 0);
    accord_store_stats st;
    CHECK(accord_store_stats_get(s, &st, NULL, NULL, &err) == 0);
    CHECK(st.versions == 1 && st.audit_records == 1);
    accord_store_close(s);
}

static long long count_of(accord_store *s, const char *table)
{
    char sql[256];
    sqlite3_stmt *st = NULL;
    long long n = -1;
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static void test_failed_flush(void)
{
    accord_error err;
    int64_t c1 = 0;
    accord_store *s = open_deferring("fail", &c1);
    if (!s)
        return;
    for (unsigned i = 1; i <= 3; i++)
        CHECK(put(s, c1, IND, 20u + i, "2024-02-01T00:00:00.000Z", 200u + i, 0u, 20u + i, "") ==
              STORE_NEW);
    /* the second indicator's export row is taken, behind the pending rows' back: its flush
     * writes the first row, then fails */
    char sql[128];
    snprintf(sql, sizeof(sql), "INSERT INTO export_rows VALUES(%lld, 0, x'00')",
             (long long)(s->last_seq - 1));
    CHECK(sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK);
    CHECK(s->rows_pending > 0);
    /* a read flushes the pending rows and fails; the rows stay pending, the transaction open */
    char *body = NULL;
    size_t len = 0;
    CHECK(store_body_get(s, s->last_seq, &body, &len, &err) != 0 && !body);
    CHECK(s->rows_pending > 0 && s->in_txn);
    /* the next flush does not try again: the rows before the failing one may be written */
    memset(&err, 0, sizeof(err));
    CHECK(store_body_get(s, s->last_seq, &body, &len, &err) != 0 && !body);
    CHECK(strstr(err.msg, "an earlier bulk insert failed") != NULL);
    CHECK(store_commit(s, &err) != 0);
    CHECK(s->rows_pending == 0 && !s->in_txn);
    accord_scan_filter all = {.collection = "default", .versions = ACCORD_VERSIONS_ALL};
    seen x = {0};
    CHECK(accord_store_scan(s, &all, on_rec, &x, &err) == 0 && x.n == 0);
    CHECK(count_of(s, "export_rows") == 0 && count_of(s, "objects") == 0);
    CHECK(store_begin(s, &err) == 0);
    store_rows_defer(s);
    CHECK(put(s, c1, IND, 24u, "2024-02-01T00:00:00.000Z", 204u, 0u, 24u, "") == STORE_NEW);
    CHECK(store_commit(s, &err) == 0);
    accord_store_stats st;
    CHECK(accord_store_stats_get(s, &st, NULL, NULL, &err) == 0);
    CHECK(st.versions == 1 && st.audit_records == 1);
    CHECK(count_of(s, "export_rows") == 1 && count_of(s, "objects") == 1);
    accord_store_close(s);
}

/* An empty value as the first bytes a table's pending rows hold (no byte buffer yet) is written
 * as an empty value, not NULL: export_rows.row is NOT NULL, so a NULL fails the commit. */
static void test_empty_first(void)
{
    accord_error err;
    int64_t c1 = 0;
    accord_store *s = open_deferring("empty", &c1);
    if (!s)
        return;
    store_row r;
    CHECK(store_row_begin(s, STORE_ROWS_XROWS, &r) == 0);
    store_row_int(&r, 0, 424242);
    store_row_int(&r, 1, 0);
    store_row_blob(&r, 2, "", 0);
    CHECK(store_row_end(&r, "an export row", &err) == 0);
    CHECK(s->rows_pending == 1);
    CHECK(store_commit(s, &err) == 0);
    CHECK(count_of(s, "export_rows WHERE seq = 424242 AND typeof(row) = 'blob' AND"
                      " length(row) = 0") == 1);
    accord_store_close(s);
}

int main(void)
{
    if (t_mkdtemp(tmpdir, sizeof(tmpdir), "store_rows"))
        return 1;
    test_same_rows();
    test_reads_and_rollback();
    test_failed_flush();
    test_empty_first();
    t_rmtree(tmpdir);
    return t_done();
}
