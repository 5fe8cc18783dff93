/*
 * store_feed.c - feeds in the store: the SQL behind `accord feed` and /feeds/NAME.
 *
 * The table (schema comment in store.c):
 *
 *   feeds     name TEXT PK    the feed's name, the last part of its URL
 *             args TEXT       the export words, as a JSON array of strings:
 *                             ["--format","nft","--max-tlp","amber"]
 *             changed INTEGER when it was added or last replaced (microseconds)
 *             WITHOUT ROWID
 *
 * The words are checked with accord_export_spec_parse before anything is written, so every stored
 * feed can be read back by the server; each change is one transaction with its audit record
 * ("feed-put" / "feed-remove", ref = the name, detail = the words).  A store created before the
 * table existed gets it at its first feed; until then it reads as having none.
 */
#include "store_int.h"

#include "export.h"
#include "util/timestamp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FEEDS_TABLE                                                                                \
    "CREATE TABLE IF NOT EXISTS feeds(name TEXT PRIMARY KEY, args TEXT NOT NULL,"                  \
    " changed INTEGER NOT NULL) WITHOUT ROWID"

static int name_ok(const char *n)
{
    size_t len = n ? strlen(n) : 0;
    if (len == 0 || len > 64 || n[0] == '.')
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= 'A' && n[i] <= 'Z') ||
              (n[i] >= '0' && n[i] <= '9') || n[i] == '_' || n[i] == '-' || n[i] == '.'))
            return 0;
    return 1;
}

static int check_name(const char *name, accord_error *err)
{
    return name_ok(name) ? 0
                         : accord_err_set(err, ACCORD_EINVAL,
                                          "feed name \"%.80s\": expected 1-64 of [A-Za-z0-9_.-],"
                                          " not starting with '.'",
                                          name ? name : "");
}

/* Runs one change (the statement sql with the name and maybe args) with its audit record. */
static int change(accord_store *s, const char *sql, const char *name, const char *args,
                  const char *action, accord_error *err)
{
    if (s->readonly)
        return accord_err_set(err, ACCORD_EINVAL, "store: opened read-only");
    int rc = store_exec(s, "BEGIN IMMEDIATE", err);
    if (!rc)
        rc = store_exec(s, FEEDS_TABLE, err);
    sqlite3_stmt *st = NULL;
    if (!rc && sqlite3_prepare_v2(s->db, sql, -1, &st, NULL))
        rc = store_db_fail(s, err, "preparing a feed change");
    if (!rc) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        if (args) {
            sqlite3_bind_text(st, 2, args, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 3, ts_now_us());
        }
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = store_db_fail(s, err, "writing a feed");
        else if (sqlite3_changes(s->db) == 0)
            rc = accord_err_set(err, ACCORD_ENOTFOUND, "feed %s: no such feed", name);
    }
    sqlite3_finalize(st);
    if (!rc)
        rc = store_audit(s, action, 0, name, args, err);
    if (!rc)
        rc = store_exec(s, "COMMIT", err);
    if (rc)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

int accord_feed_put(accord_store *s, const char *name, size_t argc, const char *const *argv,
                    accord_error *err)
{
    accord_export_spec sp;
    int rc = check_name(name, err);
    if (!rc)
        rc = accord_export_spec_parse(&sp, argc, argv, err);
    if (rc)
        return rc;
    buf b;
    buf_init(&b, 64 * 1024);
    buf_adds(&b, "[");
    for (size_t i = 0; i < argc; i++) {
        buf_adds(&b, i ? "," : "");
        buf_json_str(&b, argv[i]);
    }
    if (buf_adds(&b, "]"))
        return accord_err_set(err, ACCORD_ELIMIT, "feed %s: its words pass 64 KiB", name);
    rc = change(s, "INSERT OR REPLACE INTO feeds(name, args, changed) VALUES(?1, ?2, ?3)", name,
                b.p, "feed-put", err);
    buf_free(&b);
    return rc;
}

int accord_feed_remove(accord_store *s, const char *name, accord_error *err)
{
    int rc = check_name(name, err);
    return rc ? rc : change(s, "DELETE FROM feeds WHERE name = ?1", name, NULL, "feed-remove", err);
}

/* One row: its words decoded, then the callback. */
static int row(sqlite3_stmt *st, int (*cb)(void *, const accord_feed *), void *ud,
               accord_error *err)
{
    const char *name = (const char *)sqlite3_column_text(st, 0);
    const char *args = (const char *)sqlite3_column_text(st, 1);
    ajson_arena a;
    ajson_error jerr;
    const char *argv[4 * ACCORD_EXPORT_SPEC_MAX];
    ajson_arena_init(&a, 0);
    const ajson_value *v = ajson_parse(&a, args, strlen(args), &jerr);
    int rc = 0;
    if (!v || v->type != AJSON_ARRAY || v->len > sizeof(argv) / sizeof(argv[0]))
        rc = accord_err_set(err, ACCORD_ESTORE, "feed %s: stored words are not a JSON array", name);
    for (size_t i = 0; !rc && i < v->len; i++)
        if (!(argv[i] = ajson_str(&v->u.items[i])))
            rc = accord_err_set(err, ACCORD_ESTORE, "feed %s: word %zu is not a string", name, i);
    if (!rc) {
        accord_feed f = {
            .name = name, .argc = v->len, .argv = argv, .changed_us = sqlite3_column_int64(st, 2)};
        rc = cb(ud, &f);
    }
    ajson_arena_free(&a);
    return rc;
}

int accord_feed_each(accord_store *s, const char *name,
                     int (*cb)(void *ud, const accord_feed *feed), void *ud, accord_error *err)
{
    sqlite3_stmt *st;
    const char *sql = name ? "SELECT name, args, changed FROM feeds WHERE name = ?1"
                           : "SELECT name, args, changed FROM feeds ORDER BY name";
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL)) {
        if (!strstr(sqlite3_errmsg(s->db), "no such table"))
            return store_db_fail(s, err, "reading the feeds");
        /* a store from before the table: no feeds */
        return name ? accord_err_set(err, ACCORD_ENOTFOUND, "feed %s: no such feed", name) : 0;
    }
    if (name)
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = 0, step, n = 0;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        rc = row(st, cb, ud, err);
        n++;
    }
    if (!rc && step != SQLITE_DONE)
        rc = store_db_fail(s, err, "reading the feeds");
    if (!rc && name && n == 0)
        rc = accord_err_set(err, ACCORD_ENOTFOUND, "feed %s: no such feed", name);
    sqlite3_finalize(st);
    return rc;
}

/*
 * (export.h) The store's change stamp: the length of its audit log, which every committed change
 * extends in the same transaction.  The audit table's seq is its INTEGER PRIMARY KEY, so this is
 * one look-up at the end of the table however long the log is.  -1 when the store fails.
 */
int64_t store_feed_stamp(accord_store *s)
{
    sqlite3_stmt *st;
    int64_t v = -1;
    if (sqlite3_prepare_v2(s->db, "SELECT coalesce(max(seq), 0) FROM audit", -1, &st, NULL) ==
        SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    return v;
}

/*
 * (export.h) Reads meta row `key`, lets decide() compute its new value, and writes that, as one
 * write transaction: BEGIN IMMEDIATE takes the database's write lock before the read, so two
 * processes (or connections) updating the same key run one after the other and the second reads
 * what the first wrote.  Not audited: a kept serial is bookkeeping of exports, not a change of
 * the store's content (and the audit log's length is the feeds' change stamp: an audit record
 * here would make every rpz fetch rebuild every feed).  A store opened read-only only reads;
 * decide() then must not ask for a write (ACCORD_EINVAL says so).
 */
int store_feed_meta_update(accord_store *s, const char *key, store_feed_decide_cb decide, void *ud,
                           accord_error *err)
{
    char kept[256], value[256];
    int rc = 0, begun = 0;
    if (!s->readonly) {
        if ((rc = store_exec(s, "BEGIN IMMEDIATE", err)))
            return rc;
        begun = 1;
    }
    int got = store_meta_get(s, key, kept, sizeof(kept));
    if (got != 0 && got != ACCORD_ENOTFOUND)
        rc = accord_err_set(err, ACCORD_ESTORE, "store: reading meta %s", key);
    int write = rc ? 0 : decide(ud, got == 0 ? kept : NULL, value, sizeof(value));
    if (!rc && write < 0)
        rc = accord_err_set(err, ACCORD_ENOMEM, "store: meta %s: no value", key);
    else if (!rc && write && !begun)
        rc = accord_err_set(err, ACCORD_EINVAL, "store: opened read-only, cannot update %s", key);
    else if (!rc && write)
        rc = store_meta_set(s, key, value, err);
    if (begun && !rc)
        rc = store_exec(s, "COMMIT", err);
    if (begun && rc)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/*
 * (export.h) The bodies of versions seqs[0..n) (ascending), in that order.  One statement walks
 * the objects table forward from the first; a wanted version a few rows ahead is reached by
 * stepping (rows stepped over are not decoded: their body is never asked for), one farther away
 * by seeking again (the statement reset at the new seq), so a dense selection reads the table
 * once in order and a sparse one costs a look-up per version.
 */
#define BODY_STEP_MAX 64 /* rows to step over before seeking is cheaper */

int store_feed_bodies(accord_store *s, const int64_t *seqs, size_t n, store_feed_body_cb cb,
                      void *ud, accord_error *err)
{
    sqlite3_stmt *st;
    if (n == 0)
        return 0;
    if (sqlite3_prepare_v2(s->db, "SELECT seq, body FROM objects WHERE seq >= ?1 ORDER BY seq", -1,
                           &st, NULL))
        return store_db_fail(s, err, "preparing a read of bodies");
    int rc = 0, step;
    size_t i = 0;
    sqlite3_bind_int64(st, 1, seqs[0]);
    while (!rc && i < n) {
        if ((step = sqlite3_step(st)) != SQLITE_ROW) {
            rc = step == SQLITE_DONE
                     ? accord_err_set(err, ACCORD_ENOTFOUND, "store: version %lld is gone",
                                      (long long)seqs[i])
                     : store_db_fail(s, err, "reading bodies");
            break;
        }
        int64_t seq = sqlite3_column_int64(st, 0);
        if (seq < seqs[i])
            continue;
        if (seq > seqs[i]) {
            rc = accord_err_set(err, ACCORD_ENOTFOUND, "store: version %lld is gone",
                                (long long)seqs[i]);
            break;
        }
        rc = cb(ud, i, (const char *)sqlite3_column_blob(st, 1),
                (size_t)sqlite3_column_bytes(st, 1));
        if (!rc && ++i < n && seqs[i] - seq > BODY_STEP_MAX) {
            sqlite3_reset(st);
            sqlite3_bind_int64(st, 1, seqs[i]);
        }
    }
    sqlite3_finalize(st);
    return rc;
}

/*
 * (export.h) Starts a read transaction unless one is open, so that what a selection reads (the
 * clock, the allow-lists, the default TLP, the indicators) is one snapshot of the store, and
 * *stamp receives that snapshot's change stamp.  1 when it began one (end it with
 * store_feed_snapshot_end), 0 when the caller's transaction holds, -1 on failure.
 */
int store_feed_snapshot_begin(accord_store *s, int64_t *stamp)
{
    int begun = 0;
    if (sqlite3_get_autocommit(s->db)) {
        if (sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
            return -1;
        begun = 1;
    }
    /* the first read starts the snapshot; the stamp is of that same snapshot */
    if ((*stamp = store_feed_stamp(s)) < 0) {
        store_feed_snapshot_end(s, begun);
        return -1;
    }
    return begun;
}

void store_feed_snapshot_end(accord_store *s, int begun)
{
    if (begun > 0)
        sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
}
