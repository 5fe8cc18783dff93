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
