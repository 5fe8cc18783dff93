/*
 * store_allow.c - allow-lists in the store: the SQL behind `accord allowlist` and the exports.
 *
 * The table (schema comment in store.c):
 *
 *   allowlist    list TEXT     the list's name (a MISP warninglist's "name", or the file name)
 *                kind TEXT     string | substring | hostname | cidr | regex
 *                value TEXT    the entry as given (export_allow.c normalises when it loads)
 *                PK (list, kind, value), WITHOUT ROWID
 *
 * A list is always replaced whole: importing a newer version of a warninglist deletes the
 * entries of the old one and inserts the new ones in one transaction, with one audit record
 * ("allowlist-replace", ref = the list, detail = the entry count).  The time of the last change
 * is kept in meta('allowlist_changed') so exports can fold it into their RPZ serial without
 * reading the audit log; it only ever increases.
 *
 * Entries are checked before anything is written: an unknown kind, an invalid cidr or regex
 * rejects the whole list, naming the entry.  Stores created before the table existed (the
 * schema was not yet released) read as having no allow-list.
 */
#include "store_int.h"

#include "export.h"
#include "util/timestamp.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <string.h>

static int check_entry(const char *kind, const char *value, size_t i, accord_error *err)
{
    int fam;
    export_u128 lo, hi;
    if (!kind || !value)
        return accord_err_set(err, ACCORD_EINVAL, "allow-list entry %zu: missing", i);
    if (strcmp(kind, "cidr") == 0) {
        if (export_net_range(value, &fam, &lo, &hi) < 0)
            return accord_err_set(err, ACCORD_EINVAL,
                                  "allow-list entry %zu: \"%.100s\" is not an address or CIDR", i,
                                  value);
        return 0;
    }
    if (strcmp(kind, "regex") == 0) {
        int ec;
        PCRE2_SIZE eo;
        pcre2_code *re = pcre2_compile((PCRE2_SPTR)value, PCRE2_ZERO_TERMINATED, 0, &ec, &eo, NULL);
        pcre2_code_free(re);
        return re ? 0
                  : accord_err_set(err, ACCORD_EINVAL,
                                   "allow-list entry %zu: \"%.100s\" is not a valid regex", i,
                                   value);
    }
    if (strcmp(kind, "string") && strcmp(kind, "substring") && strcmp(kind, "hostname"))
        return accord_err_set(err, ACCORD_EINVAL,
                              "allow-list entry %zu: kind \"%.40s\" is not one of %s", i, kind,
                              ACCORD_ALLOW_KINDS);
    return *value ? 0 : accord_err_set(err, ACCORD_EINVAL, "allow-list entry %zu: empty", i);
}

static int insert_entries(accord_store *s, const char *list, const char *const *kinds,
                          const char *const *values, size_t n, accord_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT OR IGNORE INTO allowlist(list, kind, value)"
                           " VALUES(?1, ?2, ?3)",
                           -1, &st, NULL))
        return store_db_fail(s, err, "preparing an allow-list insert");
    int rc = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        sqlite3_bind_text(st, 1, list, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, kinds[i], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, values[i], -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = store_db_fail(s, err, "writing an allow-list entry");
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return rc;
}

static int delete_list(accord_store *s, const char *list, accord_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "DELETE FROM allowlist WHERE list = ?1", -1, &st, NULL))
        return store_db_fail(s, err, "preparing an allow-list delete");
    sqlite3_bind_text(st, 1, list, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : store_db_fail(s, err, "removing a list");
    sqlite3_finalize(st);
    return rc;
}

/* meta('allowlist_changed') = max(now, its value + 1): strictly increasing. */
static int touch_changed(accord_store *s, accord_error *err)
{
    char sql[200];
    int64_t now = ts_now_us(), last = accord_allowlist_changed(s);
    snprintf(sql, sizeof(sql),
             "INSERT OR REPLACE INTO meta(key, value) VALUES('allowlist_changed',"
             " %lld)",
             (long long)(now > last ? now : last + 1));
    return store_exec(s, sql, err);
}

int accord_allowlist_replace(accord_store *s, const char *list, const char *const *kinds,
                             const char *const *values, size_t n, accord_error *err)
{
    char detail[64];
    if (!list || !*list || strlen(list) > 200)
        return accord_err_set(err, ACCORD_EINVAL, "allow-list: a list needs a name of 1-200 bytes");
    if (s->readonly)
        return accord_err_set(err, ACCORD_EINVAL, "store: opened read-only");
    for (size_t i = 0; i < n; i++) {
        int rc = check_entry(kinds[i], values[i], i, err);
        if (rc)
            return rc;
    }
    int rc = store_exec(s, "BEGIN IMMEDIATE", err);
    if (rc)
        return rc;
    rc = delete_list(s, list, err);
    if (!rc)
        rc = insert_entries(s, list, kinds, values, n, err);
    if (!rc)
        rc = touch_changed(s, err);
    snprintf(detail, sizeof(detail), "%zu entries", n);
    if (!rc)
        rc = store_audit(s, n ? "allowlist-replace" : "allowlist-remove", 0, list, detail, err);
    if (!rc)
        rc = store_exec(s, "COMMIT", err);
    if (rc)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

int accord_allowlist_each(accord_store *s,
                          int (*cb)(void *ud, const char *list, const char *kind,
                                    const char *value),
                          void *ud, accord_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT list, kind, value FROM allowlist ORDER BY list, kind,"
                           " value",
                           -1, &st, NULL)) {
        if (strstr(sqlite3_errmsg(s->db), "no such table"))
            return 0; /* a store from before the table */
        return store_db_fail(s, err, "reading the allow-lists");
    }
    int rc = 0, step;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW)
        rc = cb(ud, (const char *)sqlite3_column_text(st, 0),
                (const char *)sqlite3_column_text(st, 1), (const char *)sqlite3_column_text(st, 2));
    if (!rc && step != SQLITE_DONE)
        rc = store_db_fail(s, err, "reading the allow-lists");
    sqlite3_finalize(st);
    return rc;
}

int64_t accord_allowlist_changed(accord_store *s)
{
    return store_scalar(s, "SELECT value FROM meta WHERE key = 'allowlist_changed'");
}
