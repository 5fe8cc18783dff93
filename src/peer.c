/*
 * peer.c - federation peers and the pull half of sync: a libcurl TAXII 2.1 client.
 *
 * A pull round walks GET {api root}collections/{id}/objects/?match[version]=all&added_after=
 * CURSOR&limit=N (every version: each has its own date_added) and follows `next` within the walk (never persisted: a server may forget it).  Each page goes
 * through the import pipeline (accord_import_fd: validation, signature verification, audit
 * records) with the batch size above the page size, so the page is one transaction; the new
 * cursor is written from the pipeline's per-object callback when the page's last object was
 * taken, i.e. inside that same transaction.  A crash therefore replays at most one page, and a
 * replayed page stores nothing (same id and version: a duplicate).
 *
 * The cursor after a page is X-TAXII-Date-Added-Last when the walk ends, and the microsecond
 * before it while more pages follow: objects added at that same instant may continue on the next
 * page.  A full page whose first and last date_added are equal (a server with coarse timestamps)
 * is asked again with a doubled limit instead of being skipped.
 */
#include "peer.h"
#include "store.h"
#include "store_int.h"
#include "util/json.h"
#include "util/timestamp.h"

#include <curl/curl.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#define PEER_TABLES                                                                                \
    "CREATE TABLE IF NOT EXISTS peers(name TEXT PRIMARY KEY, url TEXT NOT NULL,"                   \
    " collection TEXT NOT NULL, token_file TEXT NOT NULL, cacert TEXT NOT NULL, pin TEXT NOT NULL," \
    " page INTEGER NOT NULL, added INTEGER NOT NULL) WITHOUT ROWID;"                               \
    "CREATE TABLE IF NOT EXISTS peer_cursors(peer TEXT NOT NULL, collection TEXT NOT NULL,"        \
    " cursor TEXT NOT NULL, PRIMARY KEY(peer, collection)) WITHOUT ROWID;"

#define MAX_PAGE_BYTES ((size_t)256 << 20)
#define MAX_TOKEN 4096

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
    if (strncmp(p->url, "https://", 8) != 0 || n < 10 || p->url[n - 1] != '/')
        return accord_err_set(err, ACCORD_EINVAL,
                              "peer %s: URL \"%.200s\" is not an https:// TAXII API root ending "
                              "in '/'",
                              p->name, p->url);
    if (!p->collection[0] || strspn(p->collection, "abcdefghijklmnopqrstuvwxyz"
                                                   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") !=
                                 strlen(p->collection))
        return accord_err_set(err, ACCORD_EINVAL, "peer %s: collection \"%.100s\" is not an id",
                              p->name, p->collection);
    if (!p->token_file[0])
        return accord_err_set(err, ACCORD_EINVAL, "peer %s: a token file is required", p->name);
    if (!!p->cacert[0] == !!p->pin[0])
        return accord_err_set(err, ACCORD_EINVAL,
                              "peer %s: give exactly one of a CA file and a pinned key", p->name);
    if (p->pin[0] && (strncmp(p->pin, "sha256//", 8) != 0 || strlen(p->pin) != 8 + 44))
        return accord_err_set(err, ACCORD_EINVAL,
                              "peer %s: pin \"%.100s\" is not sha256//BASE64 (44 characters) of "
                              "the certificate's public key",
                              p->name, p->pin);
    if (p->page < 1 || p->page > PEER_MAX_PAGE)
        return accord_err_set(err, ACCORD_EINVAL, "peer %s: page size %d is not in 1..%d",
                              p->name, p->page, PEER_MAX_PAGE);
    return 0;
}

static int ensure_tables(accord_store *s, accord_error *err)
{
    return store_exec(s, PEER_TABLES, err);
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
                               "INSERT OR REPLACE INTO peers VALUES(?1,?2,?3,?4,?5,?6,?7,?8)", -1,
                               &st, NULL))
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
            if (sqlite3_step(st) != SQLITE_DONE)
                rc = store_db_fail(s, err, "writing a peer");
        }
        sqlite3_finalize(st);
    }
    if (!rc) {
        char detail[1400];
        snprintf(detail, sizeof(detail), "peer added: %s collection %s", p->url, p->collection);
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
    if (!rc) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(s->db, "DELETE FROM peer_cursors WHERE peer = ?1", -1, &st, NULL))
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
}

#define PEER_SELECT                                                                                \
    "SELECT p.name, p.url, p.collection, p.token_file, p.cacert, p.pin, p.page,"                   \
    " coalesce(c.cursor, '') FROM peers p LEFT JOIN peer_cursors c"                                \
    " ON c.peer = p.name AND c.collection = p.collection"

/* Prepares sql; 1 when the peer tables do not exist yet (no peer was ever added). */
static int prepare(accord_store *s, const char *sql, sqlite3_stmt **st, accord_error *err)
{
    if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) == SQLITE_OK)
        return 0;
    if (strstr(sqlite3_errmsg(s->db), "no such table"))
        return 1;
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

static int cursor_get(accord_store *s, const peer_conf *p, char *out, size_t cap,
                      accord_error *err)
{
    sqlite3_stmt *st = NULL;
    out[0] = 0;
    int rc = prepare(s, "SELECT cursor FROM peer_cursors WHERE peer = ?1 AND collection = ?2",
                     &st, err);
    if (rc)
        return rc == 1 ? 0 : rc;
    sqlite3_bind_text(st, 1, p->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, p->collection, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        copy_col(out, cap, st, 0);
    sqlite3_finalize(st);
    return 0;
}

/* Writes the cursor in the open transaction. */
static int cursor_set(accord_store *s, const peer_conf *p, const char *cursor, accord_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO peer_cursors(peer, collection, cursor) VALUES(?1,?2,?3)"
                           " ON CONFLICT(peer, collection) DO UPDATE SET cursor = excluded.cursor",
                           -1, &st, NULL))
        rc = store_db_fail(s, err, "preparing a cursor write");
    else {
        sqlite3_bind_text(st, 1, p->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, p->collection, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, cursor, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = store_db_fail(s, err, "writing a cursor");
    }
    sqlite3_finalize(st);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* what a peer sends                                                                           */

int peer_page_parse(const char *body, size_t len, peer_page *pg, accord_error *err)
{
    memset(pg, 0, sizeof(*pg));
    ajson_arena a;
    ajson_arena_init(&a, 0);
    ajson_error je;
    int rc = 0;
    const ajson_value *v = ajson_parse(&a, body, len, &je);
    if (!v) {
        rc = accord_err_set(err, ACCORD_EJSON, "envelope: byte %zu: %s", je.offset, je.msg);
        goto done;
    }
    if (v->type != AJSON_OBJECT) {
        rc = accord_err_set(err, ACCORD_EJSON, "envelope: a JSON %s, not an object",
                            ajson_type_name(v->type));
        goto done;
    }
    const ajson_value *m = ajson_get(v, "more"), *n = ajson_get(v, "next"),
                      *o = ajson_get(v, "objects");
    if (m && !ajson_bool(m, &pg->more)) {
        rc = accord_err_set(err, ACCORD_EJSON, "envelope: \"more\" at byte %u is not a boolean",
                            m->offset);
        goto done;
    }
    if (n) {
        const char *s = ajson_str(n);
        if (!s || !*s || n->len >= sizeof(pg->next) || strlen(s) != n->len) {
            rc = accord_err_set(err, ACCORD_EJSON,
                                "envelope: \"next\" at byte %u is not a string of 1 to %zu bytes",
                                n->offset, sizeof(pg->next) - 1);
            goto done;
        }
        memcpy(pg->next, s, n->len + 1);
    }
    if (o) {
        if (o->type != AJSON_ARRAY) {
            rc = accord_err_set(err, ACCORD_EJSON,
                                "envelope: \"objects\" at byte %u is not an array", o->offset);
            goto done;
        }
        for (size_t i = 0; i < o->len; i++)
            if (o->u.items[i].type != AJSON_OBJECT) {
                rc = accord_err_set(err, ACCORD_EJSON, "envelope: objects[%zu] is not an object",
                                    i);
                goto done;
            }
        pg->objects = o->len;
    }
done:
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
    int64_t us = ts_us(&l);
    if (l.nsec % 1000 == 0)
        us--;
    ts_format_us(us, out, outlen);
    return ts_parse(out, &f) ? -1 : 0;
}

/* ------------------------------------------------------------------------------------------ */
/* the walk                                                                                    */

typedef struct fetch {
    char *body;
    size_t len, cap;
    int too_big;
    char first[PEER_TS_LEN], last[PEER_TS_LEN];
    int bad_header;
} fetch;

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    fetch *f = ud;
    size_t n = size * nmemb;
    if (f->len + n + 1 > MAX_PAGE_BYTES) {
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
    fetch *f = ud;
    size_t n = size * nmemb;
    if (n >= 5 && strncmp(ptr, "HTTP/", 5) == 0) /* a new response (after a redirect/100) */
        f->first[0] = f->last[0] = 0, f->bad_header = 0;
    if (peer_header_parse(ptr, n, f->first, f->last) < 0)
        f->bad_header = 1;
    return n;
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
                              "peer %s: token file %s must hold one token on one line", p->name,
                              p->token_file);
    return 0;
}

/* The title and description of a TAXII error resource, or a piece of the body. */
static void error_text(const fetch *f, char *out, size_t cap)
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

typedef struct page_ctx {
    accord_store *s;
    const peer_conf *p;
    const char *cursor;
    size_t want, seen;
    int written, failed;
} page_ctx;

static void page_count(page_ctx *c)
{
    if (++c->seen == c->want && !c->written) {
        accord_error e;
        if (cursor_set(c->s, c->p, c->cursor, &e) == 0)
            c->written = 1;
        else
            c->failed = 1;
    }
}

static void on_object(void *ud, const char *id, const char *modified, int written)
{
    (void)id, (void)modified, (void)written;
    page_count(ud);
}

static void on_reject(void *ud, const accord_reject *r)
{
    (void)r;
    page_count(ud);
}

/* Imports one page and commits the cursor with it. */
static int import_page(accord_store *s, const peer_conf *p, const fetch *f, size_t nobjects,
                       const char *cursor, peer_sync_stats *st, accord_error *err)
{
    int fd = memfd_create("accord-peer-page", MFD_CLOEXEC);
    if (fd < 0)
        return accord_err_set(err, ACCORD_EIO, "peer %s: memfd: %s", p->name, strerror(errno));
    size_t off = 0;
    while (off < f->len) {
        ssize_t w = write(fd, f->body + off, f->len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(fd);
            return accord_err_set(err, ACCORD_EIO, "peer %s: memfd: %s", p->name, strerror(errno));
        }
        off += (size_t)w;
    }
    lseek(fd, 0, SEEK_SET);
    char source[200];
    snprintf(source, sizeof(source), "peer %s", p->name);
    page_ctx pc = {.s = s, .p = p, .cursor = cursor, .want = nobjects};
    accord_import_options o = {.batch_objects = UINT32_MAX,
                               .source = source,
                               .on_reject = on_reject,
                               .on_object = on_object,
                               .ud = &pc};
    accord_import_stats is;
    memset(&is, 0, sizeof(is));
    int rc = accord_import_fd(s, fd, &o, &is, err);
    close(fd);
    st->objects += is.read;
    st->stored += is.accepted + is.versions;
    st->duplicates += is.duplicates;
    st->rejected += is.rejected;
    st->conflicts += is.conflicts;
    if (rc && rc != ACCORD_ESTIX)
        return rc; /* the cursor stays where it was unless the page was complete */
    if (!pc.written) { /* the callbacks did not see every object: commit the cursor after it */
        accord_error e2;
        int r2 = store_begin(s, &e2);
        if (!r2 && !(r2 = cursor_set(s, p, cursor, &e2)))
            r2 = store_commit(s, &e2);
        else if (r2)
            store_rollback(s);
        if (r2) {
            if (err)
                *err = e2;
            return r2;
        }
    }
    return rc;
}

static void url_escape(CURL *c, const char *in, char *out, size_t cap)
{
    char *e = curl_easy_escape(c, in, 0);
    snprintf(out, cap, "%s", e ? e : "");
    curl_free(e);
}

int peer_pull(accord_store *s, const peer_conf *p, peer_sync_stats *st, accord_error *err)
{
    memset(st, 0, sizeof(*st));
    int rc = peer_conf_check(p, err);
    if (rc)
        return rc;
    if ((rc = store_exec(s, PEER_TABLES, err)))
        return rc;
    char token[MAX_TOKEN], auth[MAX_TOKEN + 32];
    if ((rc = read_token(p, token, sizeof(token), err)))
        return rc;
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
    char start[PEER_TS_LEN];
    if ((rc = cursor_get(s, p, start, sizeof(start), err)))
        return rc;
    snprintf(st->cursor, sizeof(st->cursor), "%s", start);

    CURL *c = curl_easy_init();
    struct curl_slist *hdrs = NULL;
    hdrs = curl_slist_append(hdrs, "Accept: application/taxii+json;version=2.1");
    hdrs = curl_slist_append(hdrs, auth);
    if (!c || !hdrs) {
        curl_easy_cleanup(c);
        curl_slist_free_all(hdrs);
        return accord_err_set(err, ACCORD_ENOMEM, "peer %s: cannot start libcurl", p->name);
    }
    char ebuf[CURL_ERROR_SIZE];
    fetch f;
    memset(&f, 0, sizeof(f));
    /* one handle for the whole walk: the connection stays open between pages */
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &f);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &f);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(c, CURLOPT_USERAGENT, "accord/" ACCORD_VERSION_STRING);
    if (p->cacert[0]) {
        curl_easy_setopt(c, CURLOPT_CAINFO, p->cacert);
    } else {
        /* the pinned public key is the whole verification: a self-signed peer has no CA */
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
        curl_easy_setopt(c, CURLOPT_PINNEDPUBLICKEY, p->pin);
    }

    char coll[400], after[200], next[800], url[3000];
    url_escape(c, p->collection, coll, sizeof(coll));
    url_escape(c, start, after, sizeof(after));
    long limit = p->page;
    next[0] = 0;
    for (;;) {
        snprintf(url, sizeof(url), "%scollections/%s/objects/?match%%5Bversion%%5D=all&limit=%ld%s%s%s%s", p->url, coll,
                 limit, start[0] ? "&added_after=" : "", start[0] ? after : "",
                 next[0] ? "&next=" : "", next);
        f.len = 0;
        f.too_big = f.bad_header = 0;
        f.first[0] = f.last[0] = 0;
        ebuf[0] = 0;
        curl_easy_setopt(c, CURLOPT_URL, url);
        CURLcode cc = curl_easy_perform(c);
        long status = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        if (cc != CURLE_OK) {
            rc = accord_err_set(err, ACCORD_EIO, "peer %s: GET %s: %s", p->name, url,
                                f.too_big ? "page larger than 256 MiB"
                                : ebuf[0] ? ebuf
                                          : curl_easy_strerror(cc));
            break;
        }
        if (status != 200) {
            char why[600];
            error_text(&f, why, sizeof(why));
            rc = accord_err_set(err, ACCORD_EIO, "peer %s: GET %s: HTTP %ld%s", p->name, url,
                                status, why);
            break;
        }
        peer_page pg;
        accord_error pe;
        if (peer_page_parse(f.body ? f.body : "", f.len, &pg, &pe)) {
            rc = accord_err_set(err, ACCORD_EJSON, "peer %s: GET %s: %s", p->name, url, pe.msg);
            break;
        }
        if (pg.more && !pg.next[0]) {
            rc = accord_err_set(err, ACCORD_EJSON,
                                "peer %s: GET %s: \"more\" is true but there is no \"next\"",
                                p->name, url);
            break;
        }
        st->pages++;
        if (pg.objects == 0) {
            if (pg.more) { /* an empty page that says more: follow it */
                url_escape(c, pg.next, next, sizeof(next));
                continue;
            }
            break;
        }
        if (f.bad_header || !f.first[0] || !f.last[0]) {
            rc = accord_err_set(err, ACCORD_EJSON,
                                "peer %s: GET %s: missing or invalid X-TAXII-Date-Added-First/Last "
                                "headers on a page of %zu objects",
                                p->name, url, pg.objects);
            break;
        }
        char cursor[PEER_TS_LEN];
        int nc = peer_next_cursor(f.first, f.last, pg.more, cursor, sizeof(cursor));
        if (nc < 0) {
            rc = accord_err_set(err, ACCORD_EJSON,
                                "peer %s: GET %s: X-TAXII-Date-Added-First %s after -Last %s",
                                p->name, url, f.first, f.last);
            break;
        }
        if (nc == 1) { /* every object of a full page was added at one instant: widen */
            st->pages--;
            if (limit >= PEER_MAX_PAGE) {
                rc = accord_err_set(err, ACCORD_ELIMIT,
                                    "peer %s: more than %d objects share date_added %s", p->name,
                                    PEER_MAX_PAGE, f.first);
                break;
            }
            limit = limit * 2 > PEER_MAX_PAGE ? PEER_MAX_PAGE : limit * 2;
            st->widened++;
            continue;
        }
        int ir = import_page(s, p, &f, pg.objects, cursor, st, err);
        if (ir && ir != ACCORD_ESTIX) {
            rc = ir;
            break;
        }
        if (ir)
            rc = ir;
        snprintf(st->cursor, sizeof(st->cursor), "%s", cursor);
        if (!pg.more)
            break;
        url_escape(c, pg.next, next, sizeof(next));
        limit = p->page;
    }
    if (rc == ACCORD_ESTIX)
        accord_err_set(err, ACCORD_ESTIX, "peer %s: %llu object(s) rejected, %llu conflict(s)",
                       p->name, (unsigned long long)st->rejected,
                       (unsigned long long)st->conflicts);
    free(f.body);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
    explicit_bzero(token, sizeof(token));
    explicit_bzero(auth, sizeof(auth));
    return rc;
}
