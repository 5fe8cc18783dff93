/*
 * peer_push.c - the push half of federation sync: POSTs this node's new versions to a peer.
 *
 * What is sent: the versions of the peer's local collection (or of the whole store) added after
 * the push position, read through the clearance of the peer's organisation (tlp.h: the same rule
 * that serves a member's account over TAXII; RED never leaves this node; a peer without an
 * organisation receives only CLEAR), every version including revoked ones, in added order, and
 * never a version that came from that peer (table peer_origin): the echo rule.  Echoes also die
 * on their own: a node gives a version a new date_added only when it stored something new, so a
 * version pushed to a peer and pulled back is a duplicate that nothing pushes again.
 *
 * How: envelopes of at most the peer's page size and its API root's max_content_length; each
 * POST's status resource is polled until complete.  A failure the status reports for a reason
 * that passes (push_transient: the server busy, locked, overloaded, timed out, or asking to try
 * again) is sent again, alone with the other such versions of the envelope, after 0.2, 0.4 and
 * 0.8 s, at most PUSH_ATTEMPTS times in all; any other failure is permanent (sending it again
 * would be refused again).  Then the position moves past the envelope in one transaction with an
 * audit record of each version the peer refused for good (a transient failure that outlived its
 * attempts included, named so).  A transport error, a 4xx/5xx answer or a
 * status still pending after the polling budget leaves the position where it was: the next round
 * sends the envelope again, which the peer stores as duplicates.  A single version larger than
 * max_content_length is a permanent failure too (audited, skipped).
 */
#include "peer_int.h"
#include "roster.h"
#include "store.h"
#include "store_int.h"
#include "tlp.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/timestamp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_MAX_CONTENT ((int64_t)10 << 20)
#define STATUS_POLLS 20
#define PUSH_ATTEMPTS 4 /* sends of a version whose failures are transient, the first included */

/* Where one version sits in the envelope being built, to send it again on its own. */
typedef struct push_item {
    size_t off, len;
    char id[128], modified[40];
} push_item;

typedef struct push_ctx {
    accord_store *s;
    const peer_conf *p;
    const peer_round_opts *o;
    peer_sync_stats *st;
    sqlite3_stmt *origin;
    buf env;
    size_t n, limit;
    int64_t max_len;
    int64_t last_us; /* added_us of the last record taken into (or skipped for) this envelope */
    int full;
    buf skipped; /* versions too large for the peer, "id modified\n" each */
    push_item *items; /* the envelope's versions, in order (n of them) */
    size_t items_cap;
} push_ctx;

/*
 * 1 when a failure message of a status resource names a reason that passes: the server was busy
 * or locked (a database lock, a full queue), overloaded, timed out, or asks to try again / says
 * the service is unavailable (HTTP 429 or 503 quoted in the message).  The TAXII status
 * resource has no field for this, so the words decide; anything else is permanent.
 */
int peer_push_transient(const char *msg)
{
    static const char *const words[] = {"busy",        "locked",  "lock timeout", "timed out",
                                        "timeout",     "try again", "retry",      "temporar",
                                        "unavailable", "overload",  "too many requests",
                                        "throttl",     "429",       "503"};
    char low[320];
    size_t n = 0;
    for (; msg && msg[n] && n < sizeof(low) - 1; n++)
        low[n] = (char)(msg[n] >= 'A' && msg[n] <= 'Z' ? msg[n] - 'A' + 'a' : msg[n]);
    low[n] = 0;
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (strstr(low, words[i]))
            return 1;
    return 0;
}

static int is_echo(push_ctx *c, const accord_record *r)
{
    sqlite3_reset(c->origin);
    sqlite3_bind_text(c->origin, 2, r->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(c->origin, 3, r->modified, -1, SQLITE_STATIC);
    return sqlite3_step(c->origin) == SQLITE_ROW;
}

static int take(void *ud, const accord_record *r)
{
    push_ctx *c = ud;
    if (is_echo(c, r)) {
        c->st->echoes++;
        c->last_us = r->added_us;
        return 0;
    }
    if (r->body_len + 16 > (size_t)c->max_len) {
        buf_printf(&c->skipped, "%s %s\n", r->id, r->modified);
        c->last_us = r->added_us;
        return 0;
    }
    if ((int64_t)(c->env.len + r->body_len + 4) > c->max_len) {
        c->full = 1;
        return 1; /* this one opens the next envelope */
    }
    if (c->o->dry_run) {
        c->st->would_move++;
        if (c->o->on_item)
            c->o->on_item(c->o->ud, "push", r->id, r->modified);
    }
    if (buf_add(&c->env, c->n ? "," : "", c->n ? 1 : 0))
        return ACCORD_ENOMEM;
    if (c->n == c->items_cap) {
        size_t cap = c->items_cap ? 2 * c->items_cap : 64;
        push_item *v = realloc(c->items, cap * sizeof(*v));
        if (!v)
            return ACCORD_ENOMEM;
        c->items = v;
        c->items_cap = cap;
    }
    push_item *it = &c->items[c->n];
    it->off = c->env.len;
    it->len = r->body_len;
    snprintf(it->id, sizeof(it->id), "%s", r->id);
    snprintf(it->modified, sizeof(it->modified), "%s", r->modified ? r->modified : "");
    if (buf_add(&c->env, r->body, r->body_len))
        return ACCORD_ENOMEM;
    c->n++;
    c->last_us = r->added_us;
    if (c->n >= c->limit) {
        c->full = 1;
        return 1;
    }
    return 0;
}

/* The API root's max_content_length (a default when it does not say). */
static int max_content(peer_http *h, peer_sync_stats *st, int64_t *out, accord_error *err)
{
    long status;
    int rc = peer_http_do(h, h->p->url, NULL, 0, &status, st, err);
    if (rc)
        return rc;
    if (status != 200) {
        char why[600];
        peer_http_error_text(h, why, sizeof(why));
        return accord_err_set(err, ACCORD_EIO, "peer %s: GET %s: HTTP %ld%s", h->p->name, h->p->url,
                              status, why);
    }
    ajson_arena a;
    ajson_arena_init(&a, 1 << 20);
    ajson_error je;
    const ajson_value *v = ajson_parse(&a, h->f.body ? h->f.body : "", h->f.len, &je);
    int64_t m = 0;
    if (!ajson_int(ajson_get(v, "max_content_length"), &m) || m < 1024)
        m = DEFAULT_MAX_CONTENT;
    ajson_arena_free(&a);
    *out = m > (int64_t)PEER_MAX_PAGE_BYTES ? (int64_t)PEER_MAX_PAGE_BYTES : m;
    return 0;
}

static void sleep_ms(long ms)
{
    struct timespec t = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/*
 * Parses a status resource; *done is 1 when it is complete.  Each failure is appended to
 * failures as "id\tversion\tmessage\n".
 */
static int read_status(const peer_http *h, char *id, size_t idcap, int *done, uint64_t *ok,
                       buf *failures, accord_error *err)
{
    ajson_arena a;
    ajson_arena_init(&a, 64 << 20);
    ajson_error je;
    const ajson_value *v = ajson_parse(&a, h->f.body ? h->f.body : "", h->f.len, &je);
    const char *sid = ajson_str(ajson_get(v, "id")), *stat = ajson_str(ajson_get(v, "status"));
    int64_t n = 0;
    int rc = 0;
    if (!sid || !stat || strlen(sid) >= idcap ||
        strspn(sid, "abcdefghijklmnopqrstuvwxyz"
                    "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                    "0123456789-_.") != strlen(sid)) {
        rc = accord_err_set(err, ACCORD_EJSON,
                            "peer %s: the answer to a POST is not a TAXII status resource%s%s",
                            h->p->name, v ? "" : ": ", v ? "" : je.msg);
        goto out;
    }
    memcpy(id, sid, strlen(sid) + 1);
    *done = strcmp(stat, "complete") == 0;
    *ok = ajson_int(ajson_get(v, "success_count"), &n) && n > 0 ? (uint64_t)n : 0;
    const ajson_value *f = ajson_get(v, "failures");
    buf_reset(failures);
    for (size_t i = 0; *done && f && f->type == AJSON_ARRAY && i < f->len; i++) {
        const ajson_value *e = &f->u.items[i];
        const char *fid = ajson_str(ajson_get(e, "id")), *ver = ajson_str(ajson_get(e, "version")),
                   *msg = ajson_str(ajson_get(e, "message"));
        buf_printf(failures, "%.100s\t%.40s\t%.300s\n", fid ? fid : "?", ver ? ver : "",
                   msg ? msg : "");
    }
out:
    ajson_arena_free(&a);
    return rc;
}

/* POSTs env and waits for its status.  0 when complete. */
static int post_envelope(push_ctx *c, peer_http *h, const char *url, const buf *env,
                         buf *failures, accord_error *err)
{
    const peer_conf *p = c->p;
    long status;
    int rc = peer_http_do(h, url, env->p, env->len, &status, c->st, err);
    if (rc)
        return rc;
    if (status != 202 && status != 200) {
        char why[600];
        peer_http_error_text(h, why, sizeof(why));
        return accord_err_set(err, ACCORD_EIO, "peer %s: POST %s: HTTP %ld%s", p->name, url, status,
                              why);
    }
    char sid[128], surl[1400];
    int done = 0;
    uint64_t ok = 0;
    if ((rc = read_status(h, sid, sizeof(sid), &done, &ok, failures, err)))
        return rc;
    for (int i = 0; !done && i < STATUS_POLLS; i++) {
        if (c->o->cancel && atomic_load(c->o->cancel))
            return accord_err_set(err, ACCORD_EIO, "peer %s: stopped", p->name);
        sleep_ms(i < 10 ? 100L << (i / 3) : 2000);
        snprintf(surl, sizeof(surl), "%sstatus/%s/", p->url, sid);
        if ((rc = peer_http_do(h, surl, NULL, 0, &status, c->st, err)))
            return rc;
        if (status != 200)
            return accord_err_set(err, ACCORD_EIO, "peer %s: GET %s: HTTP %ld", p->name, surl,
                                  status);
        if ((rc = read_status(h, sid, sizeof(sid), &done, &ok, failures, err)))
            return rc;
    }
    if (!done)
        return accord_err_set(err, ACCORD_EIO,
                              "peer %s: status %s still pending after %d polls; sent again next "
                              "round",
                              p->name, sid, STATUS_POLLS);
    c->st->pushed += ok;
    return 0;
}

/* The envelope item that a failure line "id\tversion\t..." names, or NULL. */
static const push_item *item_of(const push_ctx *c, const char *line, size_t len)
{
    const char *tab = memchr(line, '\t', len);
    if (!tab)
        return NULL;
    size_t idl = (size_t)(tab - line);
    const char *ver = tab + 1, *tab2 = memchr(ver, '\t', len - idl - 1);
    size_t vl = tab2 ? (size_t)(tab2 - ver) : 0;
    for (size_t i = 0; i < c->n; i++) {
        const push_item *it = &c->items[i];
        if (strlen(it->id) == idl && memcmp(it->id, line, idl) == 0 &&
            (vl == 0 || (strlen(it->modified) == vl && memcmp(it->modified, ver, vl) == 0)))
            return it;
    }
    return NULL;
}

/*
 * Sends again, alone, the versions whose failures in `failures` are transient, up to
 * PUSH_ATTEMPTS sends in all; on return `failures` holds the permanent failures and those of
 * the last attempt, each transient one that outlived its attempts marked so.
 */
static int retry_transient(push_ctx *c, peer_http *h, const char *url, buf *failures,
                           accord_error *err)
{
    buf env, keep;
    buf_init(&env, PEER_MAX_PAGE_BYTES);
    buf_init(&keep, 16 << 20);
    int rc = 0;
    for (int attempt = 1; !rc; attempt++) {
        buf_reset(&env);
        buf_adds(&env, "{\"objects\":[");
        size_t n = 0;
        const char *line = failures->len ? failures->p : "";
        while (*line) {
            const char *nl = strchr(line, '\n');
            size_t len = nl ? (size_t)(nl - line) : strlen(line);
            const char *msg = memchr(line, '\t', len);
            msg = msg ? memchr(msg + 1, '\t', len - (size_t)(msg + 1 - line)) : NULL;
            char m[320];
            snprintf(m, sizeof(m), "%.*s", msg ? (int)(len - (size_t)(msg + 1 - line)) : 0,
                     msg ? msg + 1 : "");
            const push_item *it = peer_push_transient(m) ? item_of(c, line, len) : NULL;
            if (it && attempt < PUSH_ATTEMPTS) {
                if (n++)
                    buf_adds(&env, ",");
                buf_add(&env, c->env.p + it->off, it->len);
            } else {
                buf_add(&keep, line, len);
                if (it)
                    buf_printf(&keep, " (transient, %d attempts)", PUSH_ATTEMPTS);
                buf_adds(&keep, "\n");
            }
            line += len + (nl != NULL);
        }
        if (!n)
            break;
        if (env.failed || keep.failed || buf_adds(&env, "]}")) {
            rc = accord_err_set(err, ACCORD_ENOMEM, "peer %s: out of memory", c->p->name);
            break;
        }
        sleep_ms(100L << attempt);
        if (c->o->cancel && atomic_load(c->o->cancel))
            rc = accord_err_set(err, ACCORD_EIO, "peer %s: stopped", c->p->name);
        else
            rc = post_envelope(c, h, url, &env, failures, err);
    }
    if (!rc) {
        buf_reset(failures);
        if (keep.len && buf_add(failures, keep.p, keep.len))
            rc = accord_err_set(err, ACCORD_ENOMEM, "peer %s: out of memory", c->p->name);
    }
    buf_free(&env);
    buf_free(&keep);
    return rc;
}

/* Moves the push position to pos and audits the refused versions, in one transaction. */
static int advance(push_ctx *c, int64_t pos, const buf *failures, accord_error *err)
{
    accord_store *s = c->s;
    int rc = store_begin(s, err);
    if (rc)
        return rc;
    sqlite3_stmt *q = NULL;
    int moved = 0;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO peer_state(peer, push_after) VALUES(?1, ?2)"
                           " ON CONFLICT(peer) DO UPDATE SET push_after = excluded.push_after"
                           " WHERE push_after != excluded.push_after",
                           -1, &q, NULL))
        rc = store_db_fail(s, err, "preparing the push position");
    else {
        sqlite3_bind_text(q, 1, c->p->name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 2, pos);
        if (sqlite3_step(q) != SQLITE_DONE)
            rc = store_db_fail(s, err, "writing the push position");
        else
            moved = sqlite3_changes(s->db) > 0;
    }
    sqlite3_finalize(q);
    if (!rc && moved) { /* a federation cursor: audited like the pull's (peer.c cursor_set) */
        char detail[120], ts[40];
        ts_format_us(pos, ts, sizeof(ts));
        snprintf(detail, sizeof(detail), "push position: %s", ts);
        rc = store_audit(s, "peer-cursor", 0, c->p->name, detail, err);
    }
    const buf *lists[2] = {failures, &c->skipped};
    for (int k = 0; k < 2 && !rc; k++) {
        const char *line = lists[k]->len ? lists[k]->p : "";
        while (!rc && *line) {
            const char *nl = strchr(line, '\n');
            size_t n = nl ? (size_t)(nl - line) : strlen(line);
            char one[600], detail[800];
            snprintf(one, sizeof(one), "%.*s", (int)(n < 599 ? n : 599), line);
            char *tab = strchr(one, k ? ' ' : '\t');
            if (tab)
                *tab++ = 0;
            snprintf(detail, sizeof(detail), "push to peer %s refused: %s", c->p->name,
                     k ? "larger than the peer's max_content_length" : (tab ? tab : ""));
            rc = store_audit(s, "peer-push-failed", 0, one, detail, err);
            c->st->push_failed++;
            line += n + (nl != NULL);
        }
    }
    if (!rc)
        return store_commit(s, err);
    store_rollback(s);
    return rc;
}

int peer_push(accord_store *s, const peer_conf *p, const peer_round_opts *o, peer_sync_stats *st,
              accord_error *err)
{
    static const peer_round_opts none;
    if (!o)
        o = &none;
    int rc = peer_conf_check(p, err);
    if (rc || (rc = peer_tables(s, err)))
        return rc;
    peer_status ps;
    if ((rc = peer_status_get(s, p->name, &ps, err)))
        return rc;
    accord_viewer v;
    memset(&v, 0, sizeof(v));
    snprintf(v.org, sizeof(v.org), "%s", p->org);
    /* GREEN: an organisation on the roster, or any organisation while no roster is kept */
    if (p->org[0])
        v.member = roster_kept(s) > 0 ? roster_is_member(s, p->org) > 0 : 1;
    int dflt = TLP_DEFAULT_LEVEL;
    accord_tlp_default_get(s, &dflt, NULL);
    v.dflt = dflt;

    push_ctx c = {.s = s, .p = p, .o = o, .st = st, .limit = (size_t)p->page};
    buf failures;
    buf_init(&failures, 16 << 20);
    buf_init(&c.env, PEER_MAX_PAGE_BYTES);
    buf_init(&c.skipped, 16 << 20);
    peer_http h;
    memset(&h, 0, sizeof(h));
    if (sqlite3_prepare_v2(
            s->db, "SELECT 1 FROM peer_origin WHERE peer = ?1 AND id = ?2 AND modified = ?3", -1,
            &c.origin, NULL)) {
        rc = store_db_fail(s, err, "reading origins");
        goto out;
    }
    sqlite3_bind_text(c.origin, 1, p->name, -1, SQLITE_STATIC);
    if ((rc = peer_http_open(&h, p, o->cancel, err)) || (rc = max_content(&h, st, &c.max_len, err)))
        goto out;
    char coll[400], url[1600];
    peer_url_escape(&h, p->collection, coll, sizeof(coll));
    snprintf(url, sizeof(url), "%scollections/%s/objects/", p->url, coll);
    int64_t pos = ps.push_after_us;
    for (;;) {
        buf_reset(&c.env);
        buf_reset(&c.skipped);
        buf_reset(&failures);
        buf_add(&c.env, "{\"objects\":[", 12);
        c.n = 0;
        c.full = 0;
        c.last_us = pos;
        accord_scan_filter f = {.collection = p->local[0] ? p->local : NULL,
                                .versions = ACCORD_VERSIONS_ALL,
                                .include_revoked = 1,
                                .added_after_us = pos,
                                .viewer = &v};
        rc = accord_store_scan(s, &f, take, &c, err);
        if (rc == 1)
            rc = 0;
        if (rc)
            goto out;
        if (c.last_us == pos)
            break; /* nothing after the position */
        if (c.n && !o->dry_run) {
            st->push_envelopes++;
            if (buf_add(&c.env, "]}", 2)) {
                rc = accord_err_set(err, ACCORD_ENOMEM, "peer %s: out of memory", p->name);
                goto out;
            }
            if ((rc = post_envelope(&c, &h, url, &c.env, &failures, err)) ||
                (rc = retry_transient(&c, &h, url, &failures, err)))
                goto out;
        }
        if (!o->dry_run && (rc = advance(&c, c.last_us, &failures, err)))
            goto out;
        pos = c.last_us;
        if (!c.full)
            break;
    }
out:
    sqlite3_finalize(c.origin);
    peer_http_close(&h);
    buf_free(&c.env);
    buf_free(&c.skipped);
    buf_free(&failures);
    free(c.items);
    return rc;
}
