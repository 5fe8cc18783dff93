/*
 * store_coll.c - API roots and collections: the TAXII 2.1 structure over the store.
 *
 * An API root is a name (the URL path segment the server serves it under) with a title and a
 * max_content_length.  A collection belongs to one API root and has a UUID id, an optional alias
 * unique within its root, a title and a description.  Object versions belong to collections
 * through the members table (store.c): one version can be in several collections, each with its
 * own date_added.  A new store has one root ("accord") with one collection (alias "default"), which
 * is where `accord import` puts objects unless told otherwise.
 *
 * A collection's RED list (table red) names the accounts cleared for its TLP:RED versions
 * (tlp.h); it is kept here because it belongs to the collection, not to the account's rights.
 *
 * Every change here is one transaction with its audit record.  Removing a collection removes its
 * memberships, the grants on it and its RED list, never object versions: they stay findable by
 * id and value.
 */
#include "store_int.h"
#include "util/timestamp.h"
#include "util/uuid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_CONTENT_LENGTH (100 * 1024 * 1024)


/* Root names are URL path segments: 1-64 of [a-z0-9_-]. */
static int root_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
              name[i] == '-' || name[i] == '_'))
            return 0;
    return 1;
}

/* Runs one prepared-on-the-fly statement with text/int binds given as a format string. */
static int run_sql(accord_store *s, const char *sql, const char *types, const void *const *args,
                   accord_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL))
        return store_db_fail(s, err, "preparing");
    for (int i = 0; types[i]; i++) {
        if (types[i] == 't')
            sqlite3_bind_text(st, i + 1, args[i], -1, SQLITE_STATIC);
        else
            sqlite3_bind_int64(st, i + 1, *(const int64_t *)args[i]);
    }
    int step = sqlite3_step(st);
    sqlite3_finalize(st);
    if (step != SQLITE_DONE && step != SQLITE_ROW)
        return store_db_fail(s, err, "writing the configuration");
    return 0;
}

static int insert_root(accord_store *s, const char *name, const char *title,
                       const char *description, int64_t max_len, accord_error *err)
{
    int64_t now = ts_now_us();
    const void *args[] = {name, title, description, &max_len, &now};
    return run_sql(s,
                   "INSERT INTO roots(name, title, description, max_content_length, created)"
                   " VALUES(?1, ?2, ?3, ?4, ?5)",
                   "tttii", args, err);
}

static int insert_collection(accord_store *s, const char *id, const char *root, const char *alias,
                             const char *title, const char *description, accord_error *err)
{
    int64_t now = ts_now_us();
    const void *args[] = {id, root, alias, title, description, &now};
    return run_sql(s,
                   "INSERT INTO collections(id, root, alias, title, description, created)"
                   " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
                   "ttttti", args, err);
}

int store_coll_create_defaults(accord_store *s, accord_error *err)
{
    char id[37], meta[160];
    uuid4_make(id);
    int rc = insert_root(s, "accord", "accord", "This node's intelligence",
                         DEFAULT_MAX_CONTENT_LENGTH, err);
    if (!rc)
        rc = insert_collection(s, id, "accord", "default", "Default collection",
                               "Objects imported without a collection", err);
    snprintf(meta, sizeof(meta),
             "INSERT INTO meta VALUES('created', %lld);"
             " INSERT INTO meta VALUES('default_collection', '%s')",
             (long long)ts_now_us(), id);
    if (!rc)
        rc = store_exec(s, meta, err);
    return rc;
}

int store_collection_resolve(accord_store *s, const char *ref, int64_t *cid, accord_error *err)
{
    sqlite3_stmt *st;
    const char *sql =
        ref && *ref ? "SELECT cid FROM collections WHERE id = ?1 OR alias = ?1 ORDER BY id = ?1 DESC"
                    : "SELECT cid FROM collections WHERE id = (SELECT value FROM meta"
                      " WHERE key = 'default_collection')";
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL))
        return store_db_fail(s, err, "preparing a collection lookup");
    if (ref && *ref)
        sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
    int n = 0;
    while (sqlite3_step(st) == SQLITE_ROW && n < 2) {
        if (n == 0)
            *cid = sqlite3_column_int64(st, 0);
        n++;
    }
    sqlite3_finalize(st);
    if (n == 0)
        return accord_err_set(err, ACCORD_ENOTFOUND, "collection %s: no such collection",
                              ref && *ref ? ref : "(default)");
    if (n > 1 && strlen(ref) != 36)
        return accord_err_set(err, ACCORD_EINVAL,
                              "collection %s: the alias names collections in several API roots; "
                              "give the collection's id",
                              ref);
    return 0;
}

/* Wraps a configuration change in a transaction with its audit record. */
static int begin_config(accord_store *s, accord_error *err)
{
    if (s->readonly)
        return accord_err_set(err, ACCORD_EINVAL, "store: opened read-only");
    return store_exec(s, "BEGIN IMMEDIATE", err);
}

int accord_root_add(accord_store *s, const char *name, const char *title, const char *description,
                    int64_t max_content_length, accord_error *err)
{
    if (!name || !root_name_ok(name))
        return accord_err_set(err, ACCORD_EINVAL,
                              "root name \"%.80s\": use 1 to 64 of a-z, 0-9, '-' and '_'",
                              name ? name : "");
    if (max_content_length < 0)
        return accord_err_set(err, ACCORD_EINVAL, "root %s: max_content_length must be >= 0",
                              name);
    int rc = begin_config(s, err);
    if (rc)
        return rc;
    char q[200];
    snprintf(q, sizeof(q), "SELECT count(*) FROM roots WHERE name = '%s'", name);
    if (store_scalar(s, q))
        rc = accord_err_set(err, ACCORD_EINVAL, "root %s already exists", name);
    if (!rc)
        rc = insert_root(s, name, title && *title ? title : name, description,
                         max_content_length ? max_content_length : DEFAULT_MAX_CONTENT_LENGTH,
                         err);
    return store_audit_commit(s, rc, "root-add", name, title, err);
}

int accord_root_list(accord_store *s, accord_root_cb cb, void *ud, accord_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT name, title, description, max_content_length, created"
                           " FROM roots ORDER BY name",
                           -1, &st, NULL))
        return store_db_fail(s, err, "listing roots");
    int rc = 0;
    while (!rc && sqlite3_step(st) == SQLITE_ROW) {
        accord_root r = {
            .name = (const char *)sqlite3_column_text(st, 0),
            .title = (const char *)sqlite3_column_text(st, 1),
            .description = (const char *)sqlite3_column_text(st, 2),
            .max_content_length = sqlite3_column_int64(st, 3),
            .created_us = sqlite3_column_int64(st, 4),
        };
        rc = cb(ud, &r);
    }
    sqlite3_finalize(st);
    return rc;
}

int accord_collection_add(accord_store *s, const char *root, const char *title, const char *alias,
                          const char *description, char *id_out, accord_error *err)
{
    if (!root || !*root)
        root = "accord";
    if (!title || !*title)
        return accord_err_set(err, ACCORD_EINVAL, "a collection needs a title");
    if (alias && (!*alias || strlen(alias) > 64 || strlen(alias) == 36))
        return accord_err_set(err, ACCORD_EINVAL,
                              "alias \"%.80s\": 1 to 64 characters, and not id-shaped", alias);
    int rc = begin_config(s, err);
    if (rc)
        return rc;
    sqlite3_stmt *st;
    int exists = 0, taken = 0;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT (SELECT count(*) FROM roots WHERE name = ?1),"
                           " (SELECT count(*) FROM collections WHERE root = ?1 AND alias = ?2)",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, root, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, alias ? alias : "", -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            exists = sqlite3_column_int(st, 0);
            taken = sqlite3_column_int(st, 1);
        }
        sqlite3_finalize(st);
    }
    char id[37];
    uuid4_make(id);
    if (!exists)
        rc = accord_err_set(err, ACCORD_ENOTFOUND, "API root %s: no such root", root);
    else if (taken)
        rc = accord_err_set(err, ACCORD_EINVAL, "alias %s is taken in API root %s", alias, root);
    if (!rc)
        rc = insert_collection(s, id, root, alias, title, description, err);
    rc = store_audit_commit(s, rc, "collection-add", id, title, err);
    if (!rc && id_out)
        memcpy(id_out, id, 37);
    return rc;
}

int accord_collection_list(accord_store *s, const char *root, accord_collection_cb cb, void *ud,
                           accord_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT id, root, alias, title, description, created, cid"
                           " FROM collections c WHERE ?1 IS NULL OR root = ?1 ORDER BY cid",
                           -1, &st, NULL))
        return store_db_fail(s, err, "listing collections");
    if (root)
        sqlite3_bind_text(st, 1, root, -1, SQLITE_STATIC);
    int rc = 0;
    while (!rc && sqlite3_step(st) == SQLITE_ROW) {
        accord_collection c = {
            .id = (const char *)sqlite3_column_text(st, 0),
            .root = (const char *)sqlite3_column_text(st, 1),
            .alias = (const char *)sqlite3_column_text(st, 2),
            .title = (const char *)sqlite3_column_text(st, 3),
            .description = (const char *)sqlite3_column_text(st, 4),
            .created_us = sqlite3_column_int64(st, 5),
            .cid = sqlite3_column_int64(st, 6),
        };
        rc = cb(ud, &c);
    }
    sqlite3_finalize(st);
    return rc;
}

int accord_collection_remove(accord_store *s, const char *ref, accord_error *err)
{
    int rc = begin_config(s, err);
    if (rc)
        return rc;
    int64_t cid = 0, dflt = 0;
    rc = store_collection_resolve(s, ref, &cid, err);
    if (!rc)
        rc = store_collection_resolve(s, NULL, &dflt, err);
    if (!rc && cid == dflt)
        rc = accord_err_set(err, ACCORD_EINVAL, "collection %s is the default; it stays", ref);
    if (!rc) {
        const void *args[] = {&cid};
        rc = run_sql(s, "DELETE FROM members WHERE coll = ?1", "i", args, err);
        if (!rc)
            rc = run_sql(s, "DELETE FROM rights WHERE coll = ?1", "i", args, err);
        if (!rc)
            rc = run_sql(s, "DELETE FROM red WHERE coll = ?1", "i", args, err);
        if (!rc) /* its signing setting (provenance_publish.c) */
            rc = run_sql(s, "DELETE FROM meta WHERE key = 'collection_sign:' || ?1", "i", args,
                         err);
        if (!rc)
            rc = run_sql(s, "DELETE FROM collections WHERE cid = ?1", "i", args, err);
    }
    return store_audit_commit(s, rc, "collection-remove", ref, NULL, err);
}

/* The statuses row of a POST (no audit record: the callers write it). */
static int status_insert(accord_store *s, const char *id, const char *root, const char *account,
                         const char *json, size_t len, accord_error *err)
{
    sqlite3_stmt *st;
    int rc = 0;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO statuses(id, root, account, created, body)"
                           " VALUES(?1, ?2, ?3, ?4, ?5)",
                           -1, &st, NULL))
        return store_db_fail(s, err, "preparing a status insert");
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, root, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, account, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, ts_now_us());
    sqlite3_bind_blob(st, 5, json, (int)len, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = store_db_fail(s, err, "storing a status");
    sqlite3_finalize(st);
    return rc;
}

int store_status_add(accord_store *s, const char *id, const char *root, const char *account,
                     const char *json, size_t len, accord_error *err)
{
    if (!s->in_txn)
        return accord_err_set(err, ACCORD_EINVAL, "store: no transaction is open");
    int rc = status_insert(s, id, root, account, json, len, err);
    return rc ? rc : store_audit(s, "status", 0, id, root, err);
}

int accord_status_put(accord_store *s, const char *id, const char *root, const char *account,
                      const char *json, size_t len, accord_error *err)
{
    int rc = begin_config(s, err);
    if (rc)
        return rc;
    rc = status_insert(s, id, root, account, json, len, err);
    return store_audit_commit(s, rc, "status", id, root, err);
}

int accord_status_get(accord_store *s, const char *id, const char *root,
                      int (*cb)(void *ud, const char *account, const char *json, size_t len),
                      void *ud, accord_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT account, body FROM statuses WHERE id = ?1 AND root = ?2",
                           -1, &st, NULL))
        return store_db_fail(s, err, "preparing a status read");
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, root, -1, SQLITE_STATIC);
    int rc;
    if (sqlite3_step(st) == SQLITE_ROW)
        rc = cb(ud, (const char *)sqlite3_column_text(st, 0), sqlite3_column_blob(st, 1),
                (size_t)sqlite3_column_bytes(st, 1));
    else
        rc = accord_err_set(err, ACCORD_ENOTFOUND, "status %.64s: no such status", id);
    sqlite3_finalize(st);
    return rc;
}

/* The memberships of one object in one collection, for deletion and re-ranking. */
typedef struct member_list {
    struct member_item {
        int64_t added;
        int flags;
        ts_value mod;
    } *v;
    size_t n, cap;
    int failed;
} member_list;

static int collect_member(void *ud, const accord_record *r)
{
    member_list *l = ud;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        struct member_item *v = realloc(l->v, cap * sizeof(*v));
        if (!v)
            return ACCORD_ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    struct member_item *it = &l->v[l->n++];
    it->added = r->added_us;
    it->flags = (r->revoked ? FLAG_REVOKED : 0) | (r->latest ? 0 : FLAG_SUPERSEDED) |
                (r->first ? 0 : FLAG_NOT_FIRST);
    memset(&it->mod, 0, sizeof(it->mod));
    ts_parse(r->modified, &it->mod);
    return 0;
}

static int member_write(accord_store *s, int64_t cid, int64_t added, int flags, int del,
                        accord_error *err)
{
    int64_t f64 = flags;
    const void *args[] = {&cid, &added, &f64};
    return run_sql(s,
                   del ? "DELETE FROM members WHERE coll = ?1 AND added = ?2"
                       : "UPDATE members SET flags = ?3 WHERE coll = ?1 AND added = ?2",
                   del ? "ii" : "iii", args, err);
}

/* After a deletion: exactly one latest and one first version of the object again. */
static int rerank(accord_store *s, int64_t cid, const member_list *l, accord_error *err)
{
    size_t newest = 0, oldest = 0;
    for (size_t i = 1; i < l->n; i++) {
        if (ts_cmp(&l->v[i].mod, &l->v[newest].mod) > 0)
            newest = i;
        if (ts_cmp(&l->v[i].mod, &l->v[oldest].mod) < 0)
            oldest = i;
    }
    int rc = 0;
    for (size_t i = 0; i < l->n && !rc; i++) {
        int f = l->v[i].flags & FLAG_REVOKED;
        if (i != newest)
            f |= FLAG_SUPERSEDED;
        if (i != oldest)
            f |= FLAG_NOT_FIRST;
        if (f != l->v[i].flags)
            rc = member_write(s, cid, l->v[i].added, f, 0, err);
    }
    return rc;
}

int accord_collection_delete_object(accord_store *s, const char *collection, const char *id,
                                    const accord_scan_filter *filter, int64_t *removed,
                                    accord_error *err)
{
    *removed = 0;
    int rc = begin_config(s, err);
    if (rc)
        return rc;
    int64_t cid = 0;
    const char *ids[] = {id, NULL};
    accord_scan_filter f = filter ? *filter : (accord_scan_filter){.versions = ACCORD_VERSIONS_ALL};
    f.collection = collection;
    f.ids = ids;
    f.include_revoked = 1;
    f.limit = 0;
    f.added_after_us = 0;
    member_list gone = {0}, left = {0};
    rc = store_collection_resolve(s, collection, &cid, err);
    if (!rc)
        rc = accord_store_scan(s, &f, collect_member, &gone, err);
    for (size_t i = 0; i < gone.n && !rc; i++)
        rc = member_write(s, cid, gone.v[i].added, 0, 1, err);
    f.versions = ACCORD_VERSIONS_ALL;
    f.spec_versions = NULL;
    f.viewer = NULL; /* the versions that stay are ranked whoever may read them */
    if (!rc && gone.n)
        rc = accord_store_scan(s, &f, collect_member, &left, err);
    if (!rc && left.n)
        rc = rerank(s, cid, &left, err);
    *removed = rc ? 0 : (int64_t)gone.n;
    char detail[64];
    snprintf(detail, sizeof(detail), "%zu version(s) removed from the collection", gone.n);
    free(gone.v);
    free(left.v);
    return store_audit_commit(s, rc, "object-delete", id, detail, err);
}

int accord_collection_count(accord_store *s, const char *ref, int64_t *versions, accord_error *err)
{
    int64_t cid;
    int rc = store_collection_resolve(s, ref, &cid, err);
    if (rc)
        return rc;
    char sql[96];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM members WHERE coll = %lld", (long long)cid);
    *versions = store_scalar(s, sql);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* RED lists                                                                                    */

/* 1 when account exists, 0 when not, -1 when the store failed. */
static int account_exists(accord_store *s, const char *account)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM accounts WHERE name = ?1", -1, &st, NULL))
        return -1;
    sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    sqlite3_finalize(st);
    return step == SQLITE_ROW ? 1 : step == SQLITE_DONE ? 0 : -1;
}

int accord_red_set(accord_store *s, const char *collection_ref, const char *account, int on,
                   accord_error *err)
{
    if (!collection_ref || !*collection_ref || !account || !*account)
        return accord_err_set(err, ACCORD_EINVAL, "red: a collection and an account are needed");
    int rc = begin_config(s, err);
    if (rc)
        return rc;
    int64_t cid = 0;
    int known = account_exists(s, account);
    rc = store_collection_resolve(s, collection_ref, &cid, err);
    if (!rc && known < 0)
        rc = store_db_fail(s, err, "reading an account");
    if (!rc && !known)
        rc = accord_err_set(err, ACCORD_ENOTFOUND, "account %.80s: no such account", account);
    if (!rc) {
        const void *args[] = {&cid, account};
        rc = run_sql(s,
                     on ? "INSERT OR IGNORE INTO red(coll, account) VALUES(?1, ?2)"
                        : "DELETE FROM red WHERE coll = ?1 AND account = ?2",
                     "it", args, err);
    }
    char detail[200];
    snprintf(detail, sizeof(detail), "account %.80s, collection %.80s", account, collection_ref);
    return store_audit_commit(s, rc, on ? "red-add" : "red-remove", account, detail, err);
}

int accord_red_list(accord_store *s, const char *collection_ref,
                    int (*cb)(void *ud, const char *collection, const char *account), void *ud,
                    accord_error *err)
{
    int64_t cid = 0;
    int rc = collection_ref ? store_collection_resolve(s, collection_ref, &cid, err) : 0;
    if (rc)
        return rc;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT c.id, r.account FROM red r JOIN collections c ON c.cid = r.coll"
                           " WHERE ?1 = 0 OR r.coll = ?1 ORDER BY r.coll, r.account",
                           -1, &st, NULL))
        return store_db_fail(s, err, "preparing a RED list read");
    sqlite3_bind_int64(st, 1, cid);
    int step = SQLITE_DONE;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW)
        rc = cb(ud, (const char *)sqlite3_column_text(st, 0),
                (const char *)sqlite3_column_text(st, 1));
    if (!rc && step != SQLITE_DONE)
        rc = store_db_fail(s, err, "reading RED lists");
    sqlite3_finalize(st);
    return rc;
}
