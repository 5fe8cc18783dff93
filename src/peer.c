/*
 * peer.c - federation peers and the pull half of sync: a libcurl TAXII 2.1 client.
 *
 * A pull round walks GET {api root}collections/{id}/objects/?match[version]=all&added_after=
 * CURSOR&limit=N (every version: each has its own date_added) and follows `next` within the walk
 * (never persisted: a server may forget it).  Each page is one import (validation, the accept
 * policy, audit records) in one transaction, and the page's origin records and new cursor are
 * written in its last step before COMMIT.  A crash therefore replays at most one page, and a
 * replayed page stores nothing (same id and version: a duplicate).
 *
 * Two threads share a walk.  The fetch thread (peer_pipe.c) fetches page N+1, parses it once
 * and prepares its objects on that parse (import_prepare_parsed: validation, canonical forms,
 * hashes, signature proofs; the over-share check) while this thread stores page N
 * (import_fd_hooked on the prepared page).  The accept policy runs inside the import's pass as
 * its accept hook, on the pass's own canonical form, object hash and proven signature list, with
 * keys and roster as the page's transaction sees them; so every decision that depends on the
 * store is taken in order, and the cursor is never ahead of the data.  For the length of the walk
 * the store's WAL checkpoints run on a third thread (peer_ckpt.c) instead of inside this thread's
 * commits.
 *
 * The cursor after a page is X-TAXII-Date-Added-Last when the walk ends, and the microsecond
 * before it while more pages follow: objects added at that same instant may continue on the next
 * page.  A full page whose first and last date_added are equal (a server with coarse timestamps)
 * is asked again with a doubled limit instead of being skipped; when the server will not serve a
 * wider page (its own page maximum), the page is taken with the cursor just before its instant
 * and the walk goes on by `next`.
 */
#include "import.h"
#include "member.h"
#include "peer_int.h"
#include "provenance.h"
#include "roster.h"
#include "store.h"
#include "store_int.h"
#include "tlp.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/timestamp.h"

#include <curl/curl.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/*
 * Tables (the columns after `added` came with push and background sync; older stores get them
 * by ALTER TABLE with the defaults of a pull-only peer synced by hand):
 *
 *   peers         name, url, collection, token_file, cacert, pin, page, added (us),
 *                 mode (1 pull, 2 push, 3 both), interval (s, 0 = by hand), local (collection
 *                 ref or ""), org (identity id or ""), low_speed (bytes/s) and low_speed_time
 *                 (s): a transfer slower than that for that long fails, flags (PEER_BASIC:
 *                 token_file holds HTTP Basic credentials; PEER_INSECURE_HTTP: plain http://)
 *   peer_cursors  (peer, collection) -> cursor: the peer's X-TAXII-Date-Added-Last committed last
 *   peer_state    peer -> last_attempt, last_success, next_attempt (us), failures, last_error,
 *                 pulled, pushed, push_after (local date_added us of the last version pushed)
 *   peer_origin   (peer, id, modified): versions received from that peer, never pushed back to it
 */
#define PEER_TABLES                                                                                \
    "CREATE TABLE IF NOT EXISTS peers(name TEXT PRIMARY KEY, url TEXT NOT NULL,"                   \
    " collection TEXT NOT NULL, token_file TEXT NOT NULL, cacert TEXT NOT NULL, pin TEXT NOT "     \
    "NULL,"                                                                                        \
    " page INTEGER NOT NULL, added INTEGER NOT NULL) WITHOUT ROWID;"                               \
    "CREATE TABLE IF NOT EXISTS peer_cursors(peer TEXT NOT NULL, collection TEXT NOT NULL,"        \
    " cursor TEXT NOT NULL, PRIMARY KEY(peer, collection)) WITHOUT ROWID;"                         \
    "CREATE TABLE IF NOT EXISTS peer_state(peer TEXT PRIMARY KEY, last_attempt INTEGER NOT NULL"   \
    " DEFAULT 0, last_success INTEGER NOT NULL DEFAULT 0, next_attempt INTEGER NOT NULL DEFAULT "  \
    "0,"                                                                                           \
    " failures INTEGER NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '',"                   \
    " pulled INTEGER NOT NULL DEFAULT 0, pushed INTEGER NOT NULL DEFAULT 0,"                       \
    " push_after INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"                                       \
    "CREATE TABLE IF NOT EXISTS peer_origin(peer TEXT NOT NULL, id TEXT NOT NULL,"                 \
    " modified TEXT NOT NULL, PRIMARY KEY(peer, id, modified)) WITHOUT ROWID;"

#define PEER_COLUMNS                                                                               \
    "ALTER TABLE peers ADD COLUMN mode INTEGER NOT NULL DEFAULT 1;"                                \
    "ALTER TABLE peers ADD COLUMN interval INTEGER NOT NULL DEFAULT 0;"                            \
    "ALTER TABLE peers ADD COLUMN local TEXT NOT NULL DEFAULT '';"                                 \
    "ALTER TABLE peers ADD COLUMN org TEXT NOT NULL DEFAULT '';"

/* the slow-transfer limit came later still */
#define PEER_COLUMNS_SPEED                                                                         \
    "ALTER TABLE peers ADD COLUMN low_speed INTEGER NOT NULL DEFAULT 64;"                          \
    "ALTER TABLE peers ADD COLUMN low_speed_time INTEGER NOT NULL DEFAULT 30;"

/* and HTTP Basic credentials and plain http:// last */
#define PEER_COLUMNS_FLAGS "ALTER TABLE peers ADD COLUMN flags INTEGER NOT NULL DEFAULT 0;"

#define MAX_TOKEN 4096
#define PEER_MAX_EMPTY_PAGES 100

/* ------------------------------------------------------------------------------------------ */
/* configuration                                                                               */

int peer_conf_check(const peer_conf *p, accord_error *err)
{
    if (!p->name[0] || strlen(p->name) > 60)
        return accord_err_set(err, ACCORD_EINVAL, "peer name: 1 to 60 characters");
    for (const char *c = p->name; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_' && *c != '.')
            return accord_err_set(err, ACCORD_EINVAL,
                                  "peer name \"%s\": only letters, digits, '-', '_' and '.'",
                                  p->name);
    size_t n = strlen(p->url);
    int plain = (p->flags & PEER_INSECURE_HTTP) && strncmp(p->url, "http://", 7) == 0;
    if ((strncmp(p->url, "https://", 8) != 0 && !plain) || n < 10 || p->url[n - 1] != '/')
        return accord_err_set(err, ACCORD_EINVAL,
                              "peer %s: URL \"%.200s\" is not an https:// TAXII API root ending "
                              "in '/'%s",
                              p->name, p->url,
                              strncmp(p->url, "http://", 7) == 0
                                  ? " (plain http:// only with --insecure-http)"
                                  : "");
    if (p->flags & ~(PEER_BASIC | PEER_INSECURE_HTTP))
        return accord_err_set(err, ACCORD_EINVAL, "peer %s: unknown flags %d", p->name, p->flags);
    if (!p->collection[0] ||
        strspn(p->collection, "abcdefghijklmnopqrstuvwxyz"
                              "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != strlen(p->collection))
        return accord_err_set(err, ACCORD_EINVAL, "peer %s: collection \"%.100s\" is not an id",
                              p->name, p->collection);
    if (!p->token_file[0])
        return accord_err_set(err, ACCORD_EINVAL,
                              "peer %s: a token file (or a user file for HTTP Basic) is required",
                              p->name);
    if (plain && (p->cacert[0] || p->pin[0]))
        return accord_err_set(err, ACCORD_EINVAL,
                              "peer %s: a CA file or pin means nothing over plain http://", p->name);
    if (!plain && !!p->cacert[0] == !!p->pin[0])
        return accord_err_set(err, ACCORD_EINVAL,
                              "peer %s: give exactly one of a CA file and a pinned key", p->name);
    if (p->pin[0] && (strncmp(p->pin, "sha256//", 8) != 0 || strlen(p->pin) != 8 + 44))
        return accord_err_set(err, ACCORD_EINVAL,
                              "peer %s: pin \"%.100s\" is not sha256//BASE64 (44 characters) of "
                              "the certificate's public key",
                              p->name, p->pin);
    if (p->mode < PEER_PULL || p->mode > (PEER_PULL | PEER_PUSH))
        return accord_err_set(err, ACCORD_EINVAL, "peer %s: give --pull, --push or --both",
                              p->name);
    if (p->interval < 0 || p->interval > PEER_MAX_INTERVAL)
        return accord_err_set(err, ACCORD_EINVAL, "peer %s: interval %d is not in 0..%d seconds",
                              p->name, p->interval, PEER_MAX_INTERVAL);
    if (p->org[0] && (strncmp(p->org, "identity--", 10) != 0 || strlen(p->org) != 46))
        return accord_err_set(err, ACCORD_EINVAL,
                              "peer %s: organisation \"%.100s\" is not an identity id", p->name,
                              p->org);
    if (strspn(p->local, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") !=
        strlen(p->local))
        return accord_err_set(err, ACCORD_EINVAL,
                              "peer %s: local collection \"%.100s\" is not an id or alias", p->name,
                              p->local);
    if (p->low_speed < 0 || p->low_speed > (1 << 30) || p->low_speed_time < 0 ||
        p->low_speed_time > PEER_MAX_LOW_SPEED_TIME || !p->low_speed != !p->low_speed_time)
        return accord_err_set(err, ACCORD_EINVAL,
                              "peer %s: low speed %d bytes/s for %d s is not in 1..2^30 bytes/s "
                              "for 1..%d s",
                              p->name, p->low_speed, p->low_speed_time, PEER_MAX_LOW_SPEED_TIME);
    if (p->page < 1 || p->page > PEER_MAX_PAGE)
        return accord_err_set(err, ACCORD_EINVAL, "peer %s: page size %d is not in 1..%d", p->name,
                              p->page, PEER_MAX_PAGE);
    return 0;
}

/* 1 when table peers has column `col` (older stores lack the later ones). */
static int has_column(accord_store *s, const char *col)
{
    sqlite3_stmt *st = NULL;
    int found = 0;
    if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM pragma_table_info('peers') WHERE name = ?1", -1,
                           &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, col, -1, SQLITE_STATIC);
        found = sqlite3_step(st) == SQLITE_ROW;
    }
    sqlite3_finalize(st);
    return found;
}

int peer_tables(accord_store *s, accord_error *err)
{
    if (s->readonly)
        return 0;
    int rc = store_exec(s, PEER_TABLES, err);
    if (!rc && !has_column(s, "mode"))
        rc = store_exec(s, PEER_COLUMNS, err);
    if (!rc && !has_column(s, "low_speed"))
        rc = store_exec(s, PEER_COLUMNS_SPEED, err);
    if (!rc && !has_column(s, "flags"))
        rc = store_exec(s, PEER_COLUMNS_FLAGS, err);
    return rc;
}

static int ensure_tables(accord_store *s, accord_error *err)
{
    return peer_tables(s, err);
}

int peer_add(accord_store *s, const peer_conf *p, accord_error *err)
{
    int rc = peer_conf_check(p, err);
    if (rc)
        return rc;
    if (s->readonly)
        return accord_err_set(err, ACCORD_EINVAL, "store: opened read-only");
    if ((rc = store_begin(s, err)))
        return rc;
    if (!(rc = ensure_tables(s, err))) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(s->db,
                               "INSERT OR REPLACE INTO peers(name, url, collection, token_file,"
                               " cacert, pin, page, added, mode, interval, local, org,"
                               " low_speed, low_speed_time, flags)"
                               " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15)",
                               -1, &st, NULL))
            rc = store_db_fail(s, err, "preparing a peer change");
        else {
            sqlite3_bind_text(st, 1, p->name, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, p->url, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 3, p->collection, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 4, p->token_file, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 5, p->cacert, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 6, p->pin, -1, SQLITE_STATIC);
            sqlite3_bind_int(st, 7, p->page);
            sqlite3_bind_int64(st, 8, ts_now_us());
            sqlite3_bind_int(st, 9, p->mode);
            sqlite3_bind_int(st, 10, p->interval);
            sqlite3_bind_text(st, 11, p->local, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 12, p->org, -1, SQLITE_STATIC);
            sqlite3_bind_int(st, 13, p->low_speed);
            sqlite3_bind_int(st, 14, p->low_speed_time);
            sqlite3_bind_int(st, 15, p->flags);
            if (sqlite3_step(st) != SQLITE_DONE)
                rc = store_db_fail(s, err, "writing a peer");
        }
        sqlite3_finalize(st);
    }
    if (!rc) {
        char detail[1400];
        snprintf(detail, sizeof(detail), "peer added: %s collection %s%s%s%s%s%s%s", p->url,
                 p->collection, p->mode & PEER_PULL ? " pull" : "",
                 p->mode & PEER_PUSH ? " push" : "", p->org[0] ? " org " : "", p->org,
                 p->flags & PEER_BASIC ? " basic-auth" : "",
                 p->flags & PEER_INSECURE_HTTP ? " insecure-http" : "");
        rc = store_audit(s, "peer", 0, p->name, detail, err);
    }
    if (!rc)
        return store_commit(s, err);
    store_rollback(s);
    return rc;
}

int peer_remove(accord_store *s, const char *name, accord_error *err)
{
    int rc = store_begin(s, err);
    if (rc)
        return rc;
    if (!(rc = ensure_tables(s, err))) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(s->db, "DELETE FROM peers WHERE name = ?1", -1, &st, NULL))
            rc = store_db_fail(s, err, "preparing a peer change");
        else {
            sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
            if (sqlite3_step(st) != SQLITE_DONE)
                rc = store_db_fail(s, err, "removing a peer");
            else if (sqlite3_changes(s->db) == 0)
                rc = accord_err_set(err, ACCORD_ENOTFOUND, "peer %s: no such peer", name);
        }
        sqlite3_finalize(st);
    }
    static const char *const forget[] = {"DELETE FROM peer_cursors WHERE peer = ?1",
                                         "DELETE FROM peer_state WHERE peer = ?1",
                                         "DELETE FROM peer_origin WHERE peer = ?1"};
    for (size_t i = 0; !rc && i < sizeof(forget) / sizeof(forget[0]); i++) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(s->db, forget[i], -1, &st, NULL))
            rc = store_db_fail(s, err, "preparing a peer change");
        else {
            sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
            if (sqlite3_step(st) != SQLITE_DONE)
                rc = store_db_fail(s, err, "removing a peer's cursors");
        }
        sqlite3_finalize(st);
    }
    if (!rc)
        rc = store_audit(s, "peer", 0, name, "peer removed", err);
    if (!rc)
        return store_commit(s, err);
    store_rollback(s);
    return rc;
}

static void copy_col(char *dst, size_t cap, sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(dst, cap, "%s", t ? (const char *)t : "");
}

static void row_conf(sqlite3_stmt *st, peer_conf *p)
{
    memset(p, 0, sizeof(*p));
    copy_col(p->name, sizeof(p->name), st, 0);
    copy_col(p->url, sizeof(p->url), st, 1);
    copy_col(p->collection, sizeof(p->collection), st, 2);
    copy_col(p->token_file, sizeof(p->token_file), st, 3);
    copy_col(p->cacert, sizeof(p->cacert), st, 4);
    copy_col(p->pin, sizeof(p->pin), st, 5);
    p->page = sqlite3_column_int(st, 6);
    p->mode = sqlite3_column_int(st, 8);
    p->interval = sqlite3_column_int(st, 9);
    copy_col(p->local, sizeof(p->local), st, 10);
    copy_col(p->org, sizeof(p->org), st, 11);
    p->low_speed = sqlite3_column_int(st, 12);
    p->low_speed_time = sqlite3_column_int(st, 13);
    p->flags = sqlite3_column_int(st, 14);
}

#define PEER_SELECT                                                                                \
    "SELECT p.name, p.url, p.collection, p.token_file, p.cacert, p.pin, p.page,"                   \
    " coalesce(c.cursor, ''), p.mode, p.interval, p.local, p.org, p.low_speed, p.low_speed_time,"  \
    " p.flags FROM peers p LEFT JOIN peer_cursors c ON c.peer = p.name"                            \
    " AND c.collection = p.collection"

/* what stores from before the later columns hold, opened read-only (not migrated) */
#define PEER_SELECT_OLD                                                                            \
    "SELECT p.name, p.url, p.collection, p.token_file, p.cacert, p.pin, p.page,"                   \
    " coalesce(c.cursor, ''), 1, 0, '', '', 64, 30, 0"                                             \
    " FROM peers p LEFT JOIN peer_cursors c ON c.peer = p.name AND c.collection = p.collection"
#define PEER_SELECT_MID                                                                            \
    "SELECT p.name, p.url, p.collection, p.token_file, p.cacert, p.pin, p.page,"                   \
    " coalesce(c.cursor, ''), p.mode, p.interval, p.local, p.org, 64, 30, 0"                       \
    " FROM peers p LEFT JOIN peer_cursors c ON c.peer = p.name AND c.collection = p.collection"
#define PEER_SELECT_SPEED                                                                          \
    "SELECT p.name, p.url, p.collection, p.token_file, p.cacert, p.pin, p.page,"                   \
    " coalesce(c.cursor, ''), p.mode, p.interval, p.local, p.org, p.low_speed, p.low_speed_time,"  \
    " 0 FROM peers p LEFT JOIN peer_cursors c ON c.peer = p.name AND c.collection = p.collection"
_Static_assert(PEER_LOW_SPEED == 64 && PEER_LOW_SPEED_TIME == 30, "the SQL defaults above");

/* Prepares sql; 1 when the peer tables do not exist yet (no peer was ever added). */
static int prepare(accord_store *s, const char *sql, sqlite3_stmt **st, accord_error *err)
{
    if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) == SQLITE_OK)
        return 0;
    if (strstr(sqlite3_errmsg(s->db), "no such table"))
        return 1;
    /* a store from before the later columns, opened read-only: before push, its peers pull by
       hand; before the slow-transfer limit, they have the default one */
    static const char *const older[] = {PEER_SELECT_SPEED, PEER_SELECT_MID, PEER_SELECT_OLD};
    for (size_t i = 0; i < 3 && strstr(sqlite3_errmsg(s->db), "no such column") &&
                       strncmp(sql, PEER_SELECT, strlen(PEER_SELECT)) == 0;
         i++) {
        char old[1024];
        snprintf(old, sizeof(old), "%s%s", older[i], sql + strlen(PEER_SELECT));
        if (sqlite3_prepare_v2(s->db, old, -1, st, NULL) == SQLITE_OK)
            return 0;
    }
    return store_db_fail(s, err, "reading peers");
}

int peer_each(accord_store *s, int (*fn)(void *ud, const peer_conf *p, const char *cursor),
              void *ud, accord_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare(s, PEER_SELECT " ORDER BY p.name", &st, err);
    if (rc)
        return rc == 1 ? 0 : rc;
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        peer_conf p;
        row_conf(st, &p);
        if ((rc = fn(ud, &p, (const char *)sqlite3_column_text(st, 7))))
            break;
    }
    if (!rc && r != SQLITE_DONE)
        rc = store_db_fail(s, err, "reading peers");
    sqlite3_finalize(st);
    return rc;
}

int peer_get(accord_store *s, const char *name, peer_conf *p, accord_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare(s, PEER_SELECT " WHERE p.name = ?1", &st, err);
    if (rc == 1)
        return accord_err_set(err, ACCORD_ENOTFOUND, "peer %s: no such peer", name);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW)
        row_conf(st, p);
    else if (r == SQLITE_DONE)
        rc = accord_err_set(err, ACCORD_ENOTFOUND, "peer %s: no such peer", name);
    else
        rc = store_db_fail(s, err, "reading peers");
    sqlite3_finalize(st);
    return rc;
}

static int cursor_get(accord_store *s, const peer_conf *p, char *out, size_t cap, accord_error *err)
{
    sqlite3_stmt *st = NULL;
    out[0] = 0;
    int rc =
        prepare(s, "SELECT cursor FROM peer_cursors WHERE peer = ?1 AND collection = ?2", &st, err);
    if (rc)
        return rc == 1 ? 0 : rc;
    sqlite3_bind_text(st, 1, p->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, p->collection, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        copy_col(out, cap, st, 0);
    sqlite3_finalize(st);
    return 0;
}

/* Writes the cursor in the open transaction, with a "peer-cursor" audit record when it moved
 * (a change like any other; a page that leaves it where it was writes nothing). */
static int cursor_set(accord_store *s, const peer_conf *p, const char *cursor, accord_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = 0, moved = 0;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO peer_cursors(peer, collection, cursor) VALUES(?1,?2,?3)"
                           " ON CONFLICT(peer, collection) DO UPDATE SET cursor = excluded.cursor"
                           " WHERE cursor IS NOT excluded.cursor",
                           -1, &st, NULL))
        rc = store_db_fail(s, err, "preparing a cursor write");
    else {
        sqlite3_bind_text(st, 1, p->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, p->collection, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, cursor, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = store_db_fail(s, err, "writing a cursor");
        else
            moved = sqlite3_changes(s->db) > 0;
    }
    sqlite3_finalize(st);
    if (!rc && moved) {
        char detail[400];
        snprintf(detail, sizeof(detail), "pull cursor of collection %.100s: %.60s", p->collection,
                 cursor);
        rc = store_audit(s, "peer-cursor", 0, p->name, detail, err);
    }
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* what a peer sends                                                                           */

int peer_page_read(ajson_arena *a, const char *body, size_t len, peer_page *pg,
                   const ajson_value **objs, accord_error *err)
{
    memset(pg, 0, sizeof(*pg));
    *objs = NULL;
    ajson_error je;
    const ajson_value *v = ajson_parse(a, body, len, &je);
    if (!v)
        return accord_err_set(err, ACCORD_EJSON, "envelope: byte %zu: %s", je.offset, je.msg);
    if (v->type != AJSON_OBJECT)
        return accord_err_set(err, ACCORD_EJSON, "envelope: a JSON %s, not an object",
                              ajson_type_name(v->type));
    const ajson_value *m = ajson_get(v, "more"), *n = ajson_get(v, "next"),
                      *o = ajson_get(v, "objects");
    if (m && !ajson_bool(m, &pg->more))
        return accord_err_set(err, ACCORD_EJSON, "envelope: \"more\" at byte %u is not a boolean",
                              m->offset);
    if (n) {
        const char *str = ajson_str(n);
        if (!str || !*str || n->len >= sizeof(pg->next) || strlen(str) != n->len)
            return accord_err_set(err, ACCORD_EJSON,
                                  "envelope: \"next\" at byte %u is not a string of 1 to %zu bytes",
                                  n->offset, sizeof(pg->next) - 1);
        memcpy(pg->next, str, n->len + 1);
    }
    if (o) {
        if (o->type != AJSON_ARRAY)
            return accord_err_set(err, ACCORD_EJSON,
                                  "envelope: \"objects\" at byte %u is not an array", o->offset);
        for (size_t i = 0; i < o->len; i++)
            if (o->u.items[i].type != AJSON_OBJECT)
                return accord_err_set(err, ACCORD_EJSON, "envelope: objects[%zu] is not an object",
                                      i);
        pg->objects = o->len;
        *objs = o;
    }
    return 0;
}

int peer_page_parse(const char *body, size_t len, peer_page *pg, accord_error *err)
{
    ajson_arena a;
    ajson_arena_init(&a, 0);
    const ajson_value *objs;
    int rc = peer_page_read(&a, body, len, pg, &objs, err);
    ajson_arena_free(&a);
    return rc;
}

int peer_header_parse(const char *line, size_t len, char *first, char *last)
{
    static const char pfx[] = "X-TAXII-Date-Added-";
    size_t pl = sizeof(pfx) - 1;
    if (len < pl || strncasecmp(line, pfx, pl) != 0)
        return 0;
    const char *p = line + pl, *end = line + len;
    char *dst;
    if ((size_t)(end - p) >= 6 && strncasecmp(p, "First:", 6) == 0)
        dst = first, p += 6;
    else if ((size_t)(end - p) >= 5 && strncasecmp(p, "Last:", 5) == 0)
        dst = last, p += 5;
    else
        return 0;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    while (end > p && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    size_t n = (size_t)(end - p);
    char tmp[PEER_TS_LEN];
    ts_value tv;
    if (n == 0 || n >= sizeof(tmp))
        return -1;
    memcpy(tmp, p, n);
    tmp[n] = 0;
    if (ts_parse(tmp, &tv))
        return -1;
    memcpy(dst, tmp, n + 1);
    return 1;
}

static int64_t ts_us(const ts_value *t)
{
    return t->sec * 1000000 + t->nsec / 1000;
}

/* The last microsecond before l (l itself when l has digits beyond the microsecond): 0 or -1. */
static int cursor_before(const ts_value *l, char *out, size_t outlen)
{
    int64_t us = ts_us(l);
    if (l->nsec % 1000 == 0)
        us--;
    ts_format_us(us, out, outlen);
    ts_value check;
    return ts_parse(out, &check) ? -1 : 0;
}

int peer_next_cursor(const char *first, const char *last, int more, char *out, size_t outlen)
{
    ts_value f, l;
    if (ts_parse(first, &f) || ts_parse(last, &l) || ts_cmp(&f, &l) > 0 || f.sec < 0)
        return -1; /* date_added is never before 1970 */
    if (!more) {
        snprintf(out, outlen, "%s", last);
        return 0;
    }
    if (ts_cmp(&f, &l) == 0)
        return 1;
    /* everything added before `last` was on this page or an earlier one */
    return cursor_before(&l, out, outlen);
}

/* An IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") as seconds since 1970; -1 when it is not. */
static int64_t http_date(const char *v)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    char wd[4], mon[4], tz[4];
    int d, y, h, mi, sec, n = 0;
    if (sscanf(v, "%3s, %2d %3s %4d %2d:%2d:%2d %3s%n", wd, &d, mon, &y, &h, &mi, &sec, tz, &n) !=
            8 ||
        v[n] || strcmp(tz, "GMT") != 0 || strlen(wd) != 3 || strlen(mon) != 3)
        return -1;
    const char *mp = strstr(months, mon);
    if (!mp || (mp - months) % 3 || d < 0 || y < 0 || h < 0 || mi < 0 || sec < 0)
        return -1;
    /* the RFC 3339 parser checks the ranges (day of month, leap years, seconds) */
    char rfc[80];
    ts_value tv;
    snprintf(rfc, sizeof(rfc), "%04d-%02d-%02dT%02d:%02d:%02dZ", y, (int)((mp - months) / 3) + 1, d,
             h, mi, sec);
    if (ts_parse(rfc, &tv) || tv.sec < 0)
        return -1;
    return tv.sec;
}

int peer_retry_after_parse(const char *line, size_t len, int64_t now_s, int64_t *secs)
{
    static const char pfx[] = "Retry-After:";
    size_t pl = sizeof(pfx) - 1;
    if (len < pl || strncasecmp(line, pfx, pl) != 0)
        return 0;
    const char *p = line + pl, *end = line + len;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    while (end > p && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    char v[64];
    size_t n = (size_t)(end - p);
    if (n == 0 || n >= sizeof(v))
        return -1;
    memcpy(v, p, n);
    v[n] = 0;
    int64_t s;
    if (strspn(v, "0123456789") == n) {
        /* delta-seconds: more than a day's digits saturate instead of overflowing */
        s = n > 6 ? 86400 : strtol(v, NULL, 10);
    } else {
        int64_t at = http_date(v);
        if (at < 0)
            return -1;
        s = at <= now_s ? 0 : at - now_s;
    }
    *secs = s > 86400 ? 86400 : s;
    return 1;
}

/* ------------------------------------------------------------------------------------------ */
/* the HTTP client                                                                             */

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    peer_fetch *f = ud;
    size_t n = size * nmemb;
    if (f->len + n + 1 > PEER_MAX_PAGE_BYTES) {
        f->too_big = 1;
        return 0;
    }
    if (f->len + n + 1 > f->cap) {
        size_t cap = f->cap ? f->cap : 65536;
        while (cap < f->len + n + 1)
            cap *= 2;
        char *b = realloc(f->body, cap);
        if (!b)
            return 0;
        f->body = b;
        f->cap = cap;
    }
    memcpy(f->body + f->len, ptr, n);
    f->len += n;
    f->body[f->len] = 0;
    return n;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
    peer_fetch *f = ud;
    size_t n = size * nmemb;
    if (n >= 5 && strncmp(ptr, "HTTP/", 5) == 0) /* a new response (after a redirect/100) */
        f->first[0] = f->last[0] = 0, f->bad_header = 0, f->retry_after = -1;
    if (peer_header_parse(ptr, n, f->first, f->last) < 0)
        f->bad_header = 1;
    int64_t ra;
    if (peer_retry_after_parse(ptr, n, ts_now_us() / 1000000, &ra) == 1)
        f->retry_after = ra;
    return n;
}

/* Aborts a transfer when the syncer stops. */
static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt, (void)dn, (void)ut, (void)un;
    const atomic_int *cancel = ud;
    return cancel && *cancel;
}

static int read_token(const peer_conf *p, char *tok, size_t cap, accord_error *err)
{
    FILE *fp = fopen(p->token_file, "r");
    if (!fp)
        return accord_err_set(err, ACCORD_EIO, "peer %s: cannot read token file %s: %s", p->name,
                              p->token_file, strerror(errno));
    size_t n = fread(tok, 1, cap - 1, fp);
    fclose(fp);
    tok[n] = 0;
    while (n && isspace((unsigned char)tok[n - 1]))
        tok[--n] = 0;
    size_t lead = strspn(tok, " \t\r\n");
    memmove(tok, tok + lead, n - lead + 1);
    if (!tok[0] || strpbrk(tok, " \t\r\n"))
        return accord_err_set(err, ACCORD_EINVAL,
                              "peer %s: %s file %s must hold one %s on one line", p->name,
                              p->flags & PEER_BASIC ? "user" : "token", p->token_file,
                              p->flags & PEER_BASIC ? "user:password" : "token");
    if ((p->flags & PEER_BASIC) && (tok[0] == ':' || !strchr(tok, ':')))
        return accord_err_set(err, ACCORD_EINVAL,
                              "peer %s: user file %s must hold user:password on one line", p->name,
                              p->token_file);
    return 0;
}

void peer_http_error_text(const peer_http *h, char *out, size_t cap)
{
    peer_fetch_error_text(&h->f, out, cap);
}

void peer_fetch_error_text(const peer_fetch *f, char *out, size_t cap)
{
    out[0] = 0;
    if (!f->body)
        return;
    ajson_arena a;
    ajson_arena_init(&a, 1 << 20);
    ajson_error je;
    const ajson_value *v = ajson_parse(&a, f->body, f->len, &je);
    const char *t = ajson_str(ajson_get(v, "title")), *d = ajson_str(ajson_get(v, "description"));
    if (t)
        snprintf(out, cap, ": %.200s%s%.300s", t, d ? ": " : "", d ? d : "");
    ajson_arena_free(&a);
}

void peer_url_escape(peer_http *h, const char *in, char *out, size_t cap)
{
    char *e = curl_easy_escape(h->c, in, 0);
    snprintf(out, cap, "%s", e ? e : "");
    curl_free(e);
}

int peer_http_open(peer_http *h, const peer_conf *p, const atomic_int *cancel, accord_error *err)
{
    memset(h, 0, sizeof(*h));
    h->p = p;
    h->cancel = cancel;
    h->f.retry_after = -1;
    char token[MAX_TOKEN], auth[MAX_TOKEN + 32];
    int rc = read_token(p, token, sizeof(token), err);
    if (rc)
        return rc;
    h->c = curl_easy_init();
    struct curl_slist *l = curl_slist_append(NULL, "Accept: application/taxii+json;version=2.1");
    h->hdrs = l;
    if (p->flags & PEER_BASIC) {
        /* HTTP Basic (a TAXII server such as medallion): libcurl encodes the pair, sent with
           every request; libcurl keeps its own copy, this one is wiped below */
        char *colon = strchr(token, ':');
        *colon = 0;
        if (h->c) {
            curl_easy_setopt(h->c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
            curl_easy_setopt(h->c, CURLOPT_USERNAME, token);
            curl_easy_setopt(h->c, CURLOPT_PASSWORD, colon + 1);
        }
    } else {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
        if (l && (l = curl_slist_append(h->hdrs, auth)))
            h->hdrs = l;
    }
    explicit_bzero(token, sizeof(token));
    explicit_bzero(auth, sizeof(auth));
    if (!h->c || !l) {
        peer_http_close(h);
        return accord_err_set(err, ACCORD_ENOMEM, "peer %s: cannot start libcurl", p->name);
    }
    CURL *c = h->c;
    /* one handle for the whole round: the connection stays open between requests */
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h->hdrs);
    /* plain http only for a peer added with --insecure-http (and its http:// URL) */
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR,
                     p->flags & PEER_INSECURE_HTTP ? "http,https" : "https");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &h->f);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &h->f);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->ebuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
    /* a peer trickling bytes (a slow or hostile server) fails the round rather than holding its
       thread: under low_speed bytes/s for low_speed_time s (64 for 30 by default), or 15
       minutes for one request */
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT,
                     (long)(p->low_speed ? p->low_speed : PEER_LOW_SPEED));
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME,
                     (long)(p->low_speed_time ? p->low_speed_time : PEER_LOW_SPEED_TIME));
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 900L);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(c, CURLOPT_USERAGENT, "accord/" ACCORD_VERSION_STRING);
    if (cancel) {
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)(uintptr_t)cancel);
    }
    if (p->cacert[0]) {
        curl_easy_setopt(c, CURLOPT_CAINFO, p->cacert);
    } else if (p->pin[0]) {
        /* the pinned public key is the whole verification: a self-signed peer has no CA */
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
        curl_easy_setopt(c, CURLOPT_PINNEDPUBLICKEY, p->pin);
    }
    return 0;
}

void peer_http_close(peer_http *h)
{
    free(h->f.body);
    curl_slist_free_all(h->hdrs);
    curl_easy_cleanup(h->c);
    memset(h, 0, sizeof(*h));
}

int peer_http_do(peer_http *h, const char *url, const char *body, size_t len, long *status,
                 peer_sync_stats *st, accord_error *err)
{
    peer_fetch *f = &h->f;
    f->len = 0;
    f->too_big = f->bad_header = 0;
    f->first[0] = f->last[0] = 0;
    f->retry_after = -1;
    if (f->body)
        f->body[0] = 0;
    h->ebuf[0] = 0;
    *status = 0;
    curl_easy_setopt(h->c, CURLOPT_URL, url);
    if (body) {
        curl_easy_setopt(h->c, CURLOPT_POST, 1L);
        curl_easy_setopt(h->c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h->c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    } else {
        curl_easy_setopt(h->c, CURLOPT_HTTPGET, 1L);
    }
    struct curl_slist *extra = NULL, *all = h->hdrs;
    if (body) {
        /* the Content-Type joins the handle's headers for this request only */
        extra = curl_slist_append(NULL, "Content-Type: application/taxii+json;version=2.1");
        if (!extra)
            return accord_err_set(err, ACCORD_ENOMEM, "peer %s: out of memory", h->p->name);
        extra->next = h->hdrs;
        all = extra;
    }
    curl_easy_setopt(h->c, CURLOPT_HTTPHEADER, all);
    CURLcode cc = curl_easy_perform(h->c);
    if (extra) {
        extra->next = NULL;
        curl_slist_free_all(extra);
        curl_easy_setopt(h->c, CURLOPT_HTTPHEADER, h->hdrs);
    }
    curl_easy_getinfo(h->c, CURLINFO_RESPONSE_CODE, status);
    if (cc != CURLE_OK)
        return accord_err_set(err, ACCORD_EIO, "peer %s: %s %s: %s", h->p->name,
                              body ? "POST" : "GET", url,
                              f->too_big                        ? "answer larger than 256 MiB"
                              : cc == CURLE_ABORTED_BY_CALLBACK ? "stopped"
                              : h->ebuf[0]                      ? h->ebuf
                                                                : curl_easy_strerror(cc));
    if (*status >= 400) {
        st->http_status = *status;
        st->retry_after_s = f->retry_after;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* the accept policy                                                                           */

/*
 * The byte just past the JSON value starting at t[off] (the text is valid JSON: ajson parsed
 * it), so that objects are handed to the import pipeline exactly as the peer sent them.
 */
static size_t json_end(const char *t, size_t len, size_t off)
{
    int depth = 0, in_str = 0;
    for (size_t i = off; i < len; i++) {
        char ch = t[i];
        if (in_str) {
            if (ch == '\\')
                i++;
            else if (ch == '"')
                in_str = 0;
            continue;
        }
        if (ch == '"')
            in_str = 1;
        else if (ch == '{' || ch == '[')
            depth++;
        else if ((ch == '}' || ch == ']') && --depth == 0)
            return i + 1;
    }
    return len;
}

/* The next item starts after objs[i], so only the separator between them is read back over; the
 * last item is scanned (json_end). */
size_t peer_object_end(const char *t, size_t len, const ajson_value *objs, size_t i)
{
    if (i + 1 >= objs->len)
        return json_end(t, len, objs->u.items[i].offset);
    size_t e = objs->u.items[i + 1].offset;
    while (e > objs->u.items[i].offset && t[e - 1] != '}')
        e--;
    return e;
}

/* Roster answers kept for one page: signers of a page are few (a relay's page holds the objects
 * of a handful of organisations), and the roster does not change inside a page's transaction
 * (an import stores no roster). */
#define POLICY_MEMBERS 16

/*
 * The accept policy of one page: opened for the page, inside or before its transaction, so keys
 * and roster are read as the page's store sees them.
 */
typedef struct policy {
    accord_store *s;
    const peer_conf *p;
    prov_verifier *pv;
    peer_tlp_gate tlp;
    int roster; /* 1 when this node keeps a roster */
    struct {
        char org[MEMBER_ID_LEN + 1];
        int member;
    } members[POLICY_MEMBERS]; /* roster_is_member answers, oldest replaced first */
    size_t nmembers, next_member;
    ajson_arena a;
    buf canon;
} policy;

/* roster_is_member(org), remembered for the page: 1, 0, or a negative store error. */
static int policy_member(policy *pl, const char *org)
{
    for (size_t i = 0; i < pl->nmembers; i++)
        if (strcmp(pl->members[i].org, org) == 0)
            return pl->members[i].member;
    int m = roster_is_member(pl->s, org);
    if (m < 0 || strlen(org) > MEMBER_ID_LEN)
        return m;
    size_t at = pl->nmembers < POLICY_MEMBERS ? pl->nmembers++ : pl->next_member++ % POLICY_MEMBERS;
    memcpy(pl->members[at].org, org, strlen(org) + 1);
    pl->members[at].member = m;
    return m;
}

void peer_tlp_gate_open(peer_tlp_gate *g, accord_store *s)
{
    memset(g, 0, sizeof(*g));
    buf_init(&g->recip, 1 << 20);
    buf_init(&g->deps, 1 << 20);
    char self[MEMBER_ID_LEN + 1];
    if (member_self_id(s, self, sizeof(self)) == 0) {
        snprintf(g->self.org, sizeof(g->self.org), "%s", self);
        g->self.member = 1;
        g->have_self = 1;
    }
    int d = TLP_DEFAULT_LEVEL;
    accord_tlp_default_get(s, &d, NULL);
    g->self.dflt = d;
}

void peer_tlp_gate_close(peer_tlp_gate *g)
{
    buf_free(&g->recip);
    buf_free(&g->deps);
}

static int policy_open(policy *pl, accord_store *s, const peer_conf *p, accord_error *err)
{
    memset(pl, 0, sizeof(*pl));
    pl->s = s;
    pl->p = p;
    ajson_arena_init(&pl->a, 64 << 20);
    buf_init(&pl->canon, PEER_MAX_PAGE_BYTES);
    peer_tlp_gate_open(&pl->tlp, s);
    pl->roster = roster_kept(s) > 0;
    if (p->org[0] && prov_verifier_new(s, &pl->pv))
        return accord_err_set(err, ACCORD_ENOMEM, "peer %s: out of memory", p->name);
    return 0;
}

static void policy_close(policy *pl)
{
    prov_verifier_free(pl->pv);
    ajson_arena_free(&pl->a);
    buf_free(&pl->canon);
    peer_tlp_gate_close(&pl->tlp);
}

/*
 * 1 when a signature by a member of the roster verified (or no roster is kept), 0 when none did
 * (the signer named in why), negative on errors.  res is the verification of the whole list:
 * when it counted no unknown signer, every signature in sigs verified and any member's will do.
 * A signature by an identity whose keys this node does not hold is counted unknown, not invalid,
 * so beside a valid signature of a non-member it proves nothing: then each member's signature is
 * verified on its own and only one that holds counts.
 */
static int signed_by_member(policy *pl, const prov_sigs *sigs, const prov_result *res,
                            const char *jcs, size_t len, const uint8_t hash[32], int64_t now,
                            char *why, size_t cap, accord_error *err)
{
    if (!pl->roster)
        return 1;
    const char *unproven = NULL;
    for (size_t i = 0; i < sigs->n; i++) {
        const prov_sig *s = &sigs->v[i];
        int m = policy_member(pl, s->signer_ref);
        if (m < 0)
            return accord_err_set(err, m, "peer %s: cannot read the roster", pl->p->name);
        if (!m)
            continue;
        if (!res->unknown)
            return 1;
        prov_sigs *one = ajson_arena_alloc(&pl->a, sizeof(*one));
        if (!one)
            return accord_err_set(err, ACCORD_ENOMEM, "peer %s: out of memory", pl->p->name);
        one->n = 1;
        one->v[0] = *s;
        prov_result r1;
        int rc = prov_verify(pl->pv, jcs, len, hash, NULL, one, now, &r1, err);
        if (rc)
            return rc;
        if (r1.valid == 1)
            return 1;
        unproven = s->signer_ref;
    }
    if (unproven)
        snprintf(why, cap,
                 "no valid signature by a member of the roster (%s's keys are not known here)",
                 unproven);
    else
        snprintf(why, cap, "signed by no member of the roster");
    return 0;
}

/*
 * The TLP half of the accept policy (peer_int.h): what the marking says is read from obj alone,
 * whom it clears from this node's organisation as g was opened with.
 */
int peer_tlp_refuses(peer_tlp_gate *g, const ajson_value *obj, char *why, size_t cap)
{
    tlp_label l;
    tlp_label_json(obj, &l);
    if (l.level == TLP_UNMARKED)
        return 0;
    buf_reset(&g->recip);
    buf_reset(&g->deps);
    tlp_label_text(&l, &g->recip, &g->deps);
    int cleared = l.level != ACCORD_TLP_RED &&
                  (!g->have_self ||
                   tlp_clears(&g->self, l.level, l.org, g->recip.len ? g->recip.p : NULL, 0));
    if (cleared)
        return 0;
    snprintf(why, cap, "over-share: TLP:%s not cleared for %s", tlp_level_name(l.level),
             g->have_self ? g->self.org : "this node");
    return 1;
}

/*
 * The signature half: from a member peer, a valid signature by a known key of a roster member
 * (a public feed's objects are taken as they are, unverified unless signed).  content and sigs
 * are prov_parse's; jcs[0..len) the canonical form of content when the caller has it (the import
 * pass), NULL to compute it here.  0 yes, 1 no with the reason in why, negative on errors.
 */
static int policy_sigs(policy *pl, const ajson_value *obj, const ajson_value *content,
                       const prov_sigs *sigs, const char *jcs, size_t len, const uint8_t *ohash,
                       char *why, size_t cap, accord_error *err)
{
    if (!pl->p->org[0])
        return 0;
    const char *type = ajson_str(ajson_get(obj, "type"));
    int keys = type && strcmp(type, "identity") == 0 &&
               ajson_get(ajson_get(content, "extensions"), MEMBER_KEYS_EXT);
    if (!sigs->n && prov_is_shipped(content))
        return 0; /* accord's own extension-definitions travel unsigned (provenance_publish.c) */
    if (!sigs->n) {
        snprintf(why, cap, "unsigned: a member's node relays only signed objects");
        return 1;
    }
    accord_error pe = {0};
    int rc;
    if (!jcs) {
        buf_reset(&pl->canon);
        if ((rc = prov_canonical(content, &pl->canon, &pe)) == ACCORD_ENOMEM)
            return accord_err_set(err, rc, "peer %s: %s", pl->p->name, pe.msg);
        if (rc) {
            snprintf(why, cap, "canonical form: %.300s", pe.msg);
            return 1;
        }
        jcs = pl->canon.p;
        len = pl->canon.len;
    }
    uint8_t hash[32];
    if (ohash) /* the import's preparation hashed it (and proved its signatures) */
        memcpy(hash, ohash, 32);
    else
        prov_object_hash(jcs, len, hash);
    prov_result res;
    int64_t now = ts_now_us();
    rc = keys ? prov_verify_identity(pl->pv, content, jcs, len, hash, sigs, now, &res, err)
              : prov_verify(pl->pv, jcs, len, hash, ajson_str(ajson_get(obj, "created_by_ref")),
                            sigs, now, &res, err);
    if (rc)
        return rc;
    if (res.status == PROV_INVALID) {
        snprintf(why, cap, "signature: %s", res.reason);
        return 1;
    }
    if (res.status == PROV_UNVERIFIED) {
        snprintf(why, cap, "unverified: no signature by a key this node knows");
        return 1;
    }
    if (!keys) {
        rc = signed_by_member(pl, sigs, &res, jcs, len, hash, now, why, cap, err);
        if (rc <= 0)
            return rc < 0 ? rc : 1;
    }
    if (keys && (rc = prov_verifier_learn(pl->pv, content, now, err)))
        return rc; /* later objects of the page may be signed by these keys */
    return 0;
}

/*
 * Whether obj may be taken from the peer, judged on its own (a dry run, which imports nothing):
 * 0 yes; 1 no, with the reason in why.  Negative on errors.
 */
static int policy_check(policy *pl, const ajson_value *obj, char *why, size_t cap,
                        accord_error *err)
{
    ajson_arena_reset(&pl->a); /* what the previous object needed */
    if (peer_tlp_refuses(&pl->tlp, obj, why, cap))
        return 1;
    if (!pl->p->org[0])
        return 0;
    const ajson_value *content;
    prov_sigs *sigs = ajson_arena_alloc(&pl->a, sizeof(*sigs));
    if (!sigs)
        return accord_err_set(err, ACCORD_ENOMEM, "peer %s: out of memory", pl->p->name);
    accord_error pe = {0};
    int rc = prov_parse(&pl->a, obj, &content, sigs, &pe);
    if (rc == ACCORD_ENOMEM)
        return accord_err_set(err, rc, "peer %s: out of memory", pl->p->name);
    if (rc) {
        snprintf(why, cap, "signature extension: %.300s", pe.msg);
        return 1;
    }
    return policy_sigs(pl, obj, content, sigs, NULL, 0, NULL, why, cap, err);
}

/* ------------------------------------------------------------------------------------------ */
/* the walk                                                                                    */

/*
 * What came from the peer on one page, recorded when the page commits (page_commit): sorted by
 * id, the rows go into peer_origin's B-tree in key order instead of at random places.
 */
typedef struct origin_list {
    buf text;   /* "id\0modified\0" per object */
    size_t *at; /* where each object's id starts in text */
    size_t n, cap;
} origin_list;

/* One page being imported: the accept policy runs inside the import pass (accept_object). */
typedef struct page_ctx {
    accord_store *s;
    const peer_conf *p;
    const peer_round_opts *ro;
    peer_sync_stats *st;
    const char *cursor; /* committed with the page */
    const peer_page_job *job;
    policy pl;
    int failed;             /* recording an origin failed (out of memory) */
    uint64_t equivocations; /* of the page's conflicts */
    origin_list *origins;
} page_ctx;

static void on_object(void *ud, const char *id, const char *modified, int written)
{
    (void)written;
    page_ctx *c = ud;
    origin_list *o = c->origins;
    if (o->n == o->cap) {
        size_t cap = o->cap ? 2 * o->cap : 1024;
        size_t *at = realloc(o->at, cap * sizeof(*at));
        if (!at) {
            c->failed = 1;
            return;
        }
        o->at = at;
        o->cap = cap;
    }
    o->at[o->n] = o->text.len;
    if (buf_add(&o->text, id, strlen(id) + 1) ||
        buf_add(&o->text, modified ? modified : "", (modified ? strlen(modified) : 0) + 1))
        c->failed = 1;
    else
        o->n++;
}

/* qsort_r order of two entries of an origin list (ud: its text) by id, then modified. */
static int origin_cmp(const void *x, const void *y, void *ud)
{
    const char *text = ud;
    const char *a = text + *(const size_t *)x, *b = text + *(const size_t *)y;
    int d = strcmp(a, b);
    return d ? d : strcmp(a + strlen(a) + 1, b + strlen(b) + 1);
}

/*
 * The end of a page inside its transaction (the import's before_commit hook, or called before an
 * import session closes): what came from the peer, so that it is never pushed back to it, and the
 * cursor, so that the cursor commits with the data it follows and never without it.
 */
static int page_commit(void *ud, accord_store *s, accord_error *err)
{
    page_ctx *c = ud;
    if (c->failed)
        return accord_err_set(err, ACCORD_ENOMEM, "peer %s: cannot record the page's origin",
                              c->p->name);
    origin_list *o = c->origins;
    if (o->n > 1)
        qsort_r(o->at, o->n, sizeof(*o->at), origin_cmp, o->text.p);
    int rc = o->n ? peer_origins_add(s, c->p->name, o->text.p, o->at, o->n, err) : 0;
    return rc ? rc : cursor_set(s, c->p, c->cursor, err);
}

/* An equivocation is counted apart from the plain conflicts the import counts with it. */
static void on_reject(void *ud, const accord_reject *r)
{
    page_ctx *c = ud;
    if (r->rule && strcmp(r->rule, "equivocation") == 0)
        c->equivocations++;
}

/*
 * The accept policy as the import pass's hook: judged on the pass's own parse, signature list and
 * canonical form.  A refused object is audited (peer-refused) in the page's transaction, so a
 * crash before the page commits audits it again with the replayed page, never twice.
 */
static int accept_object(void *ud, const import_object *o, accord_error *err)
{
    page_ctx *c = ud;
    char why[400];
    ajson_arena_reset(&c->pl.a); /* what the previous object needed */
    /* the fetch thread judged the marking already (j->tlp_refused): an object it cleared is not
     * read again here; one it refused is judged again, for the reason, with this page's view */
    const peer_page_job *j = c->job;
    int r = j && j->tlp_judged && o->index < j->objs->len && !j->tlp_refused[o->index]
                ? 0
                : peer_tlp_refuses(&c->pl.tlp, o->root, why, sizeof(why));
    if (!r)
        r = policy_sigs(&c->pl, o->root, o->content, o->sigs, o->canon, o->canon_len, o->hash, why,
                        sizeof(why), err);
    if (r <= 0)
        return r;
    c->st->refused++;
    char detail[700];
    snprintf(detail, sizeof(detail), "refused from peer %s: %s%s%s", c->p->name, why,
             o->modified ? " version " : "", o->modified ? o->modified : "");
    if (c->ro->on_refused)
        c->ro->on_refused(c->ro->ud, o->id, o->modified ? o->modified : "", why);
    int rc = store_audit(c->s, "peer-refused", 0, o->id, detail, err);
    return rc ? rc : 1;
}

/* Dry run: reports each object of the page this store does not hold yet. */
typedef struct have_ctx {
    const char *modified;
    int found;
} have_ctx;

static int have_version(void *ud, const accord_record *r)
{
    have_ctx *h = ud;
    if (strcmp(r->modified, h->modified) == 0)
        h->found = 1;
    return h->found;
}

static int dry_page(accord_store *s, const peer_conf *p, const ajson_value *objs,
                    const peer_round_opts *o, peer_sync_stats *st, accord_error *err)
{
    policy pl;
    int rc = policy_open(&pl, s, p, err);
    for (size_t i = 0; !rc && i < objs->len; i++) {
        const ajson_value *v = &objs->u.items[i];
        const char *id = ajson_str(ajson_get(v, "id")), *mod = ajson_str(ajson_get(v, "modified"));
        char why[400];
        int r = policy_check(&pl, v, why, sizeof(why), err);
        if (r < 0)
            rc = r;
        if (r)
            st->refused += r > 0;
        if (r || !id)
            continue;
        have_ctx h = {.modified = mod ? mod : ""};
        accord_store_get(s, id, ACCORD_GET_ALL_VERSIONS, have_version, &h, NULL);
        if (h.found) {
            st->duplicates++;
            continue;
        }
        st->would_move++;
        if (o->on_item)
            o->on_item(o->ud, "pull", id, h.modified);
    }
    policy_close(&pl);
    return rc;
}

/* The page's objects through an import session, each as parsed by the walk (a page the fetch
 * thread could not prepare). */
static int import_parsed(accord_store *s, const peer_page_job *j, const accord_import_options *io,
                         const import_hooks *hooks, page_ctx *pc, accord_import_stats *is,
                         accord_error *err)
{
    import_session *sess = NULL;
    int rc = import_session_open(s, io, &sess, err);
    if (rc)
        return rc;
    import_session_hooks(sess, hooks);
    for (size_t i = 0; !rc && i < j->objs->len; i++) {
        const ajson_value *v = &j->objs->u.items[i];
        size_t off = v->offset, end = peer_object_end(j->f.body, j->f.len, j->objs, i);
        rc = import_session_parsed(sess, v, j->f.body + off, end - off, err);
    }
    if (!rc)
        rc = page_commit(pc, s, err);
    return import_session_close(sess, rc, is, err); /* the cursor stays unless the page commits */
}

/*
 * Imports one page (j->objs: its parsed "objects", never empty) and commits the cursor with it,
 * in one transaction (nothing but reports on a dry run).  The objects are those the fetch thread
 * prepared (j->prep), else the walk's parse, as the peer sent their bytes; the accept policy runs
 * inside the import's pass, the origins and the cursor in its last step before COMMIT.
 */
static int import_page(accord_store *s, const peer_conf *p, const peer_page_job *j,
                       const peer_round_opts *o, const char *cursor, origin_list *origins,
                       peer_sync_stats *st, accord_error *err)
{
    if (o->dry_run) {
        st->objects += j->objs->len;
        return dry_page(s, p, j->objs, o, st, err);
    }
    page_ctx pc = {
        .s = s, .p = p, .ro = o, .st = st, .cursor = cursor, .job = j, .origins = origins};
    char source[1200]; /* conflict records name where the other copy came from */
    snprintf(source, sizeof(source), "peer %s (%s)", p->name, p->url);
    /* from a member's node the accept policy verifies every object it keeps: not the import */
    accord_import_options io = {.flags = p->org[0] ? IMPORT_VERIFIED : 0,
                                .batch_objects = UINT32_MAX, /* the page is one transaction */
                                .source = source,
                                .collection = p->local[0] ? p->local : NULL,
                                .on_object = on_object,
                                .on_reject = on_reject,
                                .ud = &pc};
    import_hooks hooks = {
        .accept = accept_object, .before_commit = page_commit, .ud = &pc, .spaced = 1};
    accord_import_stats is;
    memset(&is, 0, sizeof(is));
    origins->n = 0;
    buf_reset(&origins->text);
    int rc = policy_open(&pc.pl, s, p, err);
    if (!rc && j->prep)
        rc = import_fd_hooked(s, j->prep, -1, &io, &hooks, &is, err);
    else if (!rc)
        rc = import_parsed(s, j, &io, &hooks, &pc, &is, err);
    st->objects += is.read;
    st->stored += is.accepted + is.versions;
    st->duplicates += is.duplicates;
    st->rejected += is.rejected;
    st->conflicts += is.conflicts - pc.equivocations;
    st->equivocations += pc.equivocations;
    policy_close(&pc.pl);
    return rc;
}

static void page_url(char *url, size_t cap, const peer_conf *p, const char *coll, long limit,
                     const char *after, const char *next)
{
    snprintf(url, cap, "%scollections/%s/objects/?match%%5Bversion%%5D=all&limit=%ld%s%s%s%s",
             p->url, coll, limit, after[0] ? "&added_after=" : "", after,
             next[0] ? "&next=" : "", next);
}

/* A fetched page's transport, status and envelope: 0 when it is a page to walk. */
static int page_check(const peer_conf *p, peer_page_job *j, peer_sync_stats *st,
                      accord_error *err)
{
    if (j->st.http_status) {
        st->http_status = j->st.http_status;
        st->retry_after_s = j->st.retry_after_s;
    }
    if (j->rc) {
        *err = j->err;
        return j->rc;
    }
    if (j->status != 200) {
        char why[600];
        peer_fetch_error_text(&j->f, why, sizeof(why));
        return accord_err_set(err, ACCORD_EIO, "peer %s: GET %s: HTTP %ld%s", p->name, j->url,
                              j->status, why);
    }
    if (j->parse_rc)
        return accord_err_set(err, ACCORD_EJSON, "peer %s: GET %s: %s", p->name, j->url,
                              j->perr.msg);
    if (j->pg.more && !j->pg.next[0])
        return accord_err_set(err, ACCORD_EJSON,
                              "peer %s: GET %s: \"more\" is true but there is no \"next\"",
                              p->name, j->url);
    return 0;
}

/*
 * The walk: pages from the cursor on, each checked, imported and committed with its cursor.
 * Page N+1 is fetched and prepared on the fetch thread (peer_pipe.c) while page N is stored
 * here: only work on bytes overlaps, so the cursor is never ahead of the data, and a page that
 * fails to store discards what was fetched after it.  jobs[2] are the two pages in flight.
 */
static int walk(accord_store *s, const peer_conf *p, const peer_round_opts *o, peer_http *h,
                peer_pipe *pp, peer_page_job *jobs, const char *start, peer_sync_stats *st,
                accord_error *err)
{
    char coll[400], after[200], next[800];
    peer_url_escape(h, p->collection, coll, sizeof(coll));
    peer_url_escape(h, start, after, sizeof(after));
    if (!start[0])
        after[0] = 0;
    long limit = p->page, most = PEER_MAX_PAGE; /* most: the largest page the peer serves */
    int empty = 0;                              /* empty pages in a row that said more */
    int rc = 0, k = 0, started = 0; /* started: jobs[k] runs for the url of this turn */
    origin_list origins = {.at = NULL};
    buf_init(&origins.text, PEER_MAX_PAGE_BYTES);
    next[0] = 0;
    for (;;) {
        peer_page_job *j = &jobs[k];
        if (!started) {
            page_url(j->url, sizeof(j->url), p, coll, limit, after, next);
            peer_pipe_run(pp, j);
        }
        peer_pipe_wait(pp);
        started = 0;
        if ((rc = page_check(p, j, st, err)))
            break;
        const peer_fetch *f = &j->f;
        const peer_page *pg = &j->pg;
        st->pages++;
        if (pg->objects == 0) {
            /* an empty page that says more: follow it, but not forever (a server that keeps
               answering so would hold the round and hammer itself) */
            if (pg->more && ++empty > PEER_MAX_EMPTY_PAGES) {
                rc = accord_err_set(err, ACCORD_EJSON,
                                    "peer %s: GET %s: %d pages in a row without objects say "
                                    "\"more\"",
                                    p->name, j->url, PEER_MAX_EMPTY_PAGES + 1);
                break;
            }
            if (pg->more) {
                peer_url_escape(h, pg->next, next, sizeof(next));
                continue;
            }
            break;
        }
        empty = 0;
        if (f->bad_header || !f->first[0] || !f->last[0]) {
            rc = accord_err_set(err, ACCORD_EJSON,
                                "peer %s: GET %s: missing or invalid X-TAXII-Date-Added-First/Last "
                                "headers on a page of %zu objects",
                                p->name, j->url, pg->objects);
            break;
        }
        char cursor[PEER_TS_LEN];
        int nc = peer_next_cursor(f->first, f->last, pg->more, cursor, sizeof(cursor));
        if (nc < 0) {
            rc = accord_err_set(err, ACCORD_EJSON,
                                "peer %s: GET %s: X-TAXII-Date-Added-First %s after -Last %s",
                                p->name, j->url, f->first, f->last);
            break;
        }
        /* a page shorter than asked that says more: the server's own page maximum */
        if (pg->more && pg->objects < (size_t)limit)
            most = (long)pg->objects;
        if (nc == 1 && limit < most) { /* a full page all added at one instant: widen */
            st->pages--;
            limit = limit * 2 > most ? most : limit * 2;
            st->widened++;
            continue;
        }
        if (nc == 1) {
            /* the server gives no wider page: take this one with the cursor just before its
               instant (never ahead of the data) and go on by `next`; a crash here replays the
               objects of that instant, as duplicates */
            ts_value l;
            if (ts_parse(f->last, &l) || cursor_before(&l, cursor, sizeof(cursor))) {
                rc = accord_err_set(err, ACCORD_EJSON,
                                    "peer %s: GET %s: bad X-TAXII-Date-Added-Last %s", p->name,
                                    j->url, f->last);
                break;
            }
        }
        if (pg->more) { /* the next page is fetched and prepared while this one is stored */
            peer_url_escape(h, pg->next, next, sizeof(next));
            limit = p->page;
            page_url(jobs[k ^ 1].url, sizeof(jobs[k ^ 1].url), p, coll, limit, after, next);
            peer_pipe_run(pp, &jobs[k ^ 1]);
            started = 1;
        }
        int ir = import_page(s, p, j, o, cursor, &origins, st, err);
        if (ir && ir != ACCORD_ESTIX) {
            rc = ir;
            break;
        }
        if (ir)
            rc = ir;
        if (!o->dry_run)
            snprintf(st->cursor, sizeof(st->cursor), "%s", cursor);
        if (!pg->more)
            break;
        k ^= 1;
    }
    peer_pipe_wait(pp); /* a page fetched after one that failed is dropped */
    free(origins.at);
    buf_free(&origins.text);
    return rc;
}

int peer_pull(accord_store *s, const peer_conf *p, const peer_round_opts *o, peer_sync_stats *st,
              accord_error *err)
{
    static const peer_round_opts none;
    if (!o)
        o = &none;
    int rc = peer_conf_check(p, err);
    if (rc)
        return rc;
    if ((rc = peer_tables(s, err)))
        return rc;
    char start[PEER_TS_LEN];
    if ((rc = cursor_get(s, p, start, sizeof(start), err)))
        return rc;
    snprintf(st->cursor, sizeof(st->cursor), "%s", start);
    peer_http h;
    if ((rc = peer_http_open(&h, p, o->cancel, err)))
        return rc;
    peer_page_job *jobs = calloc(2, sizeof(*jobs));
    peer_pipe *pp = NULL;
    if (!jobs)
        rc = accord_err_set(err, ACCORD_ENOMEM, "peer %s: out of memory", p->name);
    else
        rc = peer_pipe_open(&pp, &h, o->dry_run ? NULL : s, err);
    for (int i = 0; jobs && i < 2; i++) {
        ajson_arena_init(&jobs[i].a, 0);
        jobs[i].prepare = !o->dry_run;
        jobs[i].flags = p->org[0] ? IMPORT_VERIFIED : 0;
    }
    peer_ckpt *ck = !rc && !o->dry_run ? peer_ckpt_start(s) : NULL;
    if (!rc)
        rc = walk(s, p, o, &h, pp, jobs, start, st, err);
    st->fetch_cpu_us += peer_pipe_cpu_us(pp);
    peer_ckpt_stop(ck);
    if (rc == ACCORD_ESTIX)
        accord_err_set(err, ACCORD_ESTIX,
                       "peer %s: %llu object(s) rejected, %llu conflict(s), %llu equivocation(s)",
                       p->name, (unsigned long long)st->rejected,
                       (unsigned long long)st->conflicts, (unsigned long long)st->equivocations);
    if (jobs) {
        peer_pipe_close(pp, jobs, 2);
        for (int i = 0; i < 2; i++) {
            ajson_arena_free(&jobs[i].a);
            free(jobs[i].f.body);
            free(jobs[i].tlp_refused);
        }
        free(jobs);
    }
    peer_http_close(&h);
    return rc;
}
