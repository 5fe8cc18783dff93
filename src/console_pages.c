/*
 * console_pages.c - the read endpoints of the web console's sightings, cases, members and feeds
 * pages that accord's other APIs do not already answer (see console_pages.h):
 *
 *   GET /api/console/sightings?indicator=ID|collection=REF&bucket=hour|day[&after=CURSOR]
 *       sightings per hour or day: of one indicator, or of every sighting in a collection
 *   GET /api/console/object-cases?object=ID[&after=N&limit=N]
 *       the disclosure cases that link object ID (an indicator, or the case's vulnerability)
 *   GET /api/console/roster            the roster: current members with their keys, proposals
 *   GET /api/console/collections[?after=ID&limit=N]   collections the caller may read
 *   GET /api/console/peers[?after=NAME&limit=N]       peers with the health of each link (admins)
 *   GET|POST /api/console/reads?case=ID                the caller's read markers of case threads
 *
 * Visibility is the one of the read paths these stand beside: a sighting counts only when the
 * caller's viewer reads it (TLP, and the rule that a sighting reads only with what it names), an
 * indicator the caller may not read is 404 like GET /api/objects/ID, a collection needs a read
 * grant like TAXII, and a case is listed only to its participants until published (the rule of
 * GET /api/cases).  Peers carry URLs and the links' errors: admins only.
 *
 * The sightings series is an aggregate, not a list.  A collection's, for a caller who reads every
 * sighting (an admin), is the store's hourly sums (store_sighting_hours): one row per hour, the
 * whole series in one answer.  Otherwise a request walks at most SIGHTINGS_SCAN
 * sighting versions from its cursor through the store's sightings table (an index range: of one
 * indicator, or of one collection, in the order they were added; store_sightings_walk), the
 * cursor the added time of the last one walked, and says where the next request resumes; the
 * page adds the pages up.
 */
#include "console_pages.h"
#include "console_api.h"
#include "member.h"
#include "peer.h"
#include "store.h"
#include "store_console.h"
#include "store_int.h"
#include "util/json.h"
#include "util/timestamp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIGHTINGS_SCAN 100000
#define BUCKETS_MAX 100000 /* distinct hours or days in one answer */
#define ID_MAX 128
#define STOP 1 /* a callback's "page full": positive, unlike every ACCORD_E* code */

/* accord_store_get_as's callback when only "may the caller read it" matters */
static int seen_cb(void *ud, const accord_record *rec)
{
    (void)ud, (void)rec;
    return 0;
}

/* A non-negative decimal integer parameter (default dflt); -1 after answering 400. */
static int64_t int_param(api_call *c, const char *key, int64_t dflt, int64_t max)
{
    const char *s = api_param(c, key);
    if (!s)
        return dflt;
    char *end;
    errno = 0;
    long long n = strtoll(s, &end, 10);
    if (errno || end == s || *end || n < 0 || n > max) {
        api_fail(c, 400, "Bad parameter", "%s must be an integer from 0 to %lld", key,
                 (long long)max);
        return -1;
    }
    return n;
}

static int limit_param(api_call *c)
{
    int64_t n = int_param(c, "limit", CONSOLE_LIMIT_DEFAULT, CONSOLE_LIMIT_MAX);
    if (n == 0) {
        api_fail(c, 400, "Bad limit", "limit must be 1 to %d", CONSOLE_LIMIT_MAX);
        return -1;
    }
    return (int)n;
}

static void answer(api_call *c)
{
    c->rs->status = 200;
    c->rs->content_type = API_JSON;
    if (c->rs->body.failed)
        api_fail(c, 500, "Response too large", "ask for a smaller limit");
}

/* ------------------------------------------------------------------------------------------ */
/* Sightings over time                                                                          */

typedef struct bucket {
    int64_t t; /* start of the hour or day, seconds since the epoch */
    int64_t n;
} bucket;

typedef struct sight_ctx {
    int64_t width; /* seconds */
    bucket *b;
    size_t nb, cap;
    int64_t sightings, total;
    uint32_t hours; /* rows of sighting_hours read */
    int full;
} sight_ctx;

static int bucket_cmp(const void *x, const void *y)
{
    const bucket *p = x, *q = y;
    return p->t < q->t ? -1 : p->t > q->t;
}

/* Adds n at time t, merging equal buckets when the array fills up. */
static int bucket_add(sight_ctx *x, int64_t t, int64_t n)
{
    if (x->nb == x->cap) {
        if (x->nb) /* qsort wants a non-NULL array even when empty */
            qsort(x->b, x->nb, sizeof(*x->b), bucket_cmp);
        size_t w = 0;
        for (size_t i = 0; i < x->nb; i++) {
            if (w && x->b[w - 1].t == x->b[i].t)
                x->b[w - 1].n += x->b[i].n;
            else
                x->b[w++] = x->b[i];
        }
        x->nb = w;
        if (x->cap == 0 || x->nb > x->cap / 2) {
            if (x->cap >= 2 * BUCKETS_MAX)
                return -1;
            size_t cap = x->cap ? 2 * x->cap : 1024;
            bucket *nb = realloc(x->b, cap * sizeof(*nb));
            if (!nb)
                return -1;
            x->b = nb;
            x->cap = cap;
        }
    }
    x->b[x->nb++] = (bucket){t, n};
    return 0;
}

/* One sighting seen at s (seconds since the epoch), count times. */
static int sight_cb(void *ud, int64_t s, int64_t count)
{
    sight_ctx *x = ud;
    /* the table's times are unixepoch() of STIX timestamps (years 0000-9999): no overflow */
    int64_t t = s - (s % x->width + x->width) % x->width;
    if (bucket_add(x, t, count)) {
        x->full = 1;
        return STOP;
    }
    x->sightings++;
    x->total += count;
    return 0;
}

/* One hour of a collection's series: sightings versions seen n times in all. */
static int hour_cb(void *ud, int64_t hour, int64_t sightings, int64_t n)
{
    sight_ctx *x = ud;
    int64_t t = hour - (hour % x->width + x->width) % x->width;
    if (bucket_add(x, t, n)) {
        x->full = 1;
        return STOP;
    }
    x->sightings += sightings;
    x->total += n;
    x->hours++;
    return 0;
}

static void h_sightings(api_call *c)
{
    const char *ind = api_param(c, "indicator");
    const char *coll = api_param(c, "collection");
    const char *bw = api_param(c, "bucket");
    int64_t after = int_param(c, "after", 0, INT64_MAX / 2);
    if (after < 0)
        return;
    if ((!ind) == (!coll)) {
        api_fail(c, 400, "Bad request", "give one of indicator=ID or collection=ID");
        return;
    }
    if (coll && !*coll) {
        api_fail(c, 400, "Bad request", "collection: a collection id or alias expected");
        return;
    }
    if (ind && (strlen(ind) >= ID_MAX || strncmp(ind, "indicator--", 11) != 0)) {
        api_fail(c, 400, "Bad request", "indicator: an indicator id expected");
        return;
    }
    int64_t width = !bw || strcmp(bw, "hour") == 0 ? 3600 : strcmp(bw, "day") == 0 ? 86400 : 0;
    if (!width) {
        api_fail(c, 400, "Bad request", "bucket: hour or day");
        return;
    }
    accord_error err = {0};
    if (coll) {
        int r = 0, w = 0;
        int rc = accord_rights_get(c->reader, c->who.account, coll, &r, &w, &err);
        if (rc == ACCORD_ENOTFOUND || (!rc && !r)) {
            api_fail(c, 404, "Not found", "no collection %s that you may read", coll);
            return;
        }
        if (rc) {
            api_fail(c, 500, "Store error", "%s", err.msg);
            return;
        }
    }
    accord_viewer *v;
    if (console_viewer_of(c, &v))
        return;
    if (ind) { /* the indicator itself must read, as on its object page */
        int rc = accord_store_get_as(c->reader, v, ind, 0, seen_cb, NULL, &err);
        if (rc) {
            accord_viewer_free(v);
            if (rc == ACCORD_ENOTFOUND)
                api_fail(c, 404, "Not found", "no object %s that you may read", ind);
            else
                api_fail(c, 500, "Store error", "%s", err.msg);
            return;
        }
    }
    int64_t cid = 0;
    int rc = coll ? store_collection_resolve(c->reader, coll, &cid, &err) : 0;
    sight_ctx x = {.width = width};
    uint32_t walked = 0;
    int64_t last = 0;
    /* the cursor is the added time (µs) of the last sighting walked, store-wide or in the
       collection */
    /* a collection's whole series for a caller who reads every sighting: its hours, kept by
       the store; else (a viewer to check, an indicator, a cursor) a bounded walk */
    int by_hour = coll && !v && !after;
    if (!rc && by_hour)
        rc = store_sighting_hours(c->reader, cid, hour_cb, &x, &err);
    else if (!rc)
        rc = store_sightings_walk(c->reader, v, ind, cid, after, SIGHTINGS_SCAN, sight_cb, &x,
                                  &walked, &last, &err);
    if (by_hour)
        walked = x.hours;
    accord_viewer_free(v);
    if (rc && rc != STOP) {
        free(x.b);
        api_fail(c, rc == ACCORD_ENOTFOUND ? 404 : 500, "Store error", "%s", err.msg);
        return;
    }
    if (x.full) {
        free(x.b);
        api_fail(c, 400, "Too many buckets", "more than %d distinct %ss: ask by day", BUCKETS_MAX,
                 width == 3600 ? "hour" : "day");
        return;
    }
    if (x.nb)
        qsort(x.b, x.nb, sizeof(*x.b), bucket_cmp);
    buf *b = &c->rs->body;
    buf_printf(b, "{\"bucket\":\"%s\",\"buckets\":[", width == 3600 ? "hour" : "day");
    size_t n = 0;
    for (size_t i = 0; i < x.nb; i++) {
        int64_t sum = x.b[i].n;
        while (i + 1 < x.nb && x.b[i + 1].t == x.b[i].t)
            sum += x.b[++i].n;
        buf_printf(b, "%s[%lld,%lld]", n++ ? "," : "", (long long)x.b[i].t, (long long)sum);
    }
    buf_printf(b, "],\"sightings\":%lld,\"count\":%lld,\"scanned\":%u,\"next\":",
               (long long)x.sightings, (long long)x.total, walked);
    if (!by_hour && walked == SIGHTINGS_SCAN)
        buf_printf(b, "\"%lld\"}", (long long)last);
    else
        buf_adds(b, "null}");
    free(x.b);
    answer(c);
}

/* ------------------------------------------------------------------------------------------ */
/* Cases that link an object                                                                    */

static void h_object_cases(api_call *c)
{
    const char *id = api_param(c, "object");
    if (!id || !strstr(id, "--") || strlen(id) >= ID_MAX) {
        api_fail(c, 400, "Bad request", "object: a STIX id expected");
        return;
    }
    int limit = limit_param(c);
    int64_t after = int_param(c, "after", 0, INT64_MAX / 2);
    if (limit < 0 || after < 0)
        return;
    accord_viewer *v;
    if (console_viewer_of(c, &v))
        return;
    accord_error err = {0};
    int rc = accord_store_get_as(c->reader, v, id, 0, seen_cb, NULL, &err);
    accord_viewer_free(v);
    if (rc) {
        if (rc == ACCORD_ENOTFOUND)
            api_fail(c, 404, "Not found", "no object %s that you may read", id);
        else
            api_fail(c, 500, "Store error", "%s", err.msg);
        return;
    }
    /* the visibility of GET /api/cases: a participant's cases, and published ones */
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(c->reader->db,
                           "SELECT c.cid, c.id, c.title, c.embargo_end, c.lifted, c.published,"
                           " p.role FROM cases c"
                           " LEFT JOIN case_parts p ON p.cid = c.cid AND p.account = ?2"
                           " WHERE c.cid > ?3 AND (p.role IS NOT NULL OR c.published IS NOT NULL)"
                           " AND (c.vuln_id = ?1 OR EXISTS (SELECT 1 FROM case_links l"
                           " WHERE l.cid = c.cid AND l.kind = 'indicator' AND l.value = ?1))"
                           " ORDER BY c.cid LIMIT ?4",
                           -1, &st, NULL)) {
        store_db_fail(c->reader, &err, "preparing the cases of an object");
        api_fail(c, 500, "Store error", "%s", err.msg);
        return;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, c->who.account, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, after);
    sqlite3_bind_int(st, 4, limit + 1);
    buf *b = &c->rs->body;
    buf_adds(b, "{\"rows\":[");
    int n = 0, step;
    int64_t last = 0, now = ts_now_us();
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == limit)
            break;
        int64_t end = sqlite3_column_int64(st, 3), lifted = sqlite3_column_int64(st, 4);
        last = sqlite3_column_int64(st, 0);
        buf_adds(b, n++ ? ",{\"id\":" : "{\"id\":");
        buf_json_str(b, (const char *)sqlite3_column_text(st, 1));
        buf_adds(b, ",\"title\":");
        buf_json_str(b, (const char *)sqlite3_column_text(st, 2));
        buf_printf(b, ",\"embargoed\":%s,\"published\":",
                   end && now < end && !lifted ? "true" : "false");
        console_json_time_or_null(b, sqlite3_column_int64(st, 5));
        buf_adds(b, ",\"role\":");
        console_json_str_or_null(b, (const char *)sqlite3_column_text(st, 6));
        buf_adds(b, "}");
    }
    int more = step == SQLITE_ROW;
    if (step != SQLITE_ROW && step != SQLITE_DONE) {
        store_db_fail(c->reader, &err, "reading the cases of an object");
        sqlite3_finalize(st);
        api_fail(c, 500, "Store error", "%s", err.msg);
        return;
    }
    sqlite3_finalize(st);
    if (more)
        buf_printf(b, "],\"next\":\"%lld\"}", (long long)last);
    else
        buf_adds(b, "],\"next\":null}");
    answer(c);
}

/* ------------------------------------------------------------------------------------------ */
/* Roster and members                                                                           */

typedef struct roster_ctx {
    api_call *c;
    int n;
} roster_ctx;

static void member_json(buf *b, accord_store *s, const char *id, const char *name)
{
    buf_adds(b, "{\"id\":");
    buf_json_str(b, id);
    buf_adds(b, ",\"name\":");
    console_json_str_or_null(b, name);
    buf_adds(b, ",\"keys\":[");
    member_identity *m = calloc(1, sizeof(*m));
    accord_error err = {0};
    if (m && member_keys_of(s, id, m, &err) == 0) {
        for (size_t k = 0; k < m->nkeys; k++) {
            const member_key *key = &m->keys[k];
            buf_adds(b, k ? ",{\"keyid\":" : "{\"keyid\":");
            buf_json_str(b, key->keyid);
            buf_printf(b, ",\"purpose\":\"%s\",\"status\":\"%s\",\"since\":",
                       member_purpose_name(key->purpose), member_status_name(key->status));
            buf_json_str(b, key->since);
            buf_adds(b, "}");
        }
    }
    buf_adds(b, "]}");
    free(m);
}

static int roster_cb(void *ud, const accord_roster_info *r)
{
    roster_ctx *x = ud;
    buf *b = &x->c->rs->body;
    buf_printf(b, "%s{\"version\":%lld,\"hash\":", x->n++ ? "," : "", (long long)r->version);
    buf_json_str(b, r->hash);
    buf_adds(b, ",\"state\":");
    buf_json_str(b, r->state);
    buf_adds(b, ",\"expires\":");
    console_json_str_or_null(b, r->expires);
    buf_printf(b, ",\"threshold\":%lld", (long long)r->threshold);
    if (strcmp(r->state, "proposed") == 0)
        buf_printf(b, ",\"votes\":%zu,\"needed\":%zu,\"new_members\":%zu,\"new_voted\":%zu",
                   r->votes, r->needed, r->new_members, r->new_voted);
    buf_adds(b, ",\"members\":[");
    for (size_t i = 0; i < r->members; i++) {
        buf_adds(b, i ? "," : "");
        member_json(b, x->c->reader, r->member_ids[i], r->member_names[i]);
    }
    buf_adds(b, "]}");
    return 0;
}

static void h_roster(api_call *c)
{
    buf *b = &c->rs->body;
    buf_adds(b, "{\"self\":");
    char self[MEMBER_ID_LEN + 1] = "";
    int has_self = member_self_id(c->reader, self, sizeof(self)) == 0;
    if (has_self)
        buf_json_str(b, self);
    else
        buf_adds(b, "null");
    buf_adds(b, ",\"versions\":[");
    roster_ctx x = {c, 0};
    int halted = 0;
    accord_error err = {0};
    int rc = accord_roster_status(c->reader, roster_cb, &x, &halted, &err);
    if (rc && rc != ACCORD_ENOTFOUND) {
        api_fail(c, 500, "Store error", "%s", err.msg);
        return;
    }
    buf_printf(b, "],\"halted\":%s,\"reason\":", halted ? "true" : "false");
    console_json_str_or_null(b, halted ? err.msg : NULL);
    /* without a roster, this node's own organisation stands alone */
    buf_adds(b, ",\"self_member\":");
    if (!x.n && has_self)
        member_json(b, c->reader, self, NULL);
    else
        buf_adds(b, "null");
    buf_adds(b, "}");
    answer(c);
}

/* ------------------------------------------------------------------------------------------ */
/* Collections and peers                                                                        */

typedef struct coll_ctx {
    api_call *c;
    const char *after;
    int limit, n, more;
} coll_ctx;

/* Collections are listed by the store per root; the page keys on the id, so each call keeps
 * those after the cursor that the caller may read, and the smallest `limit` of them are sorted
 * (collections are configuration: a handful, never a store-sized list). */
typedef struct coll_row {
    char id[64], root[72], alias[72], title[256], desc[512];
    int has_alias, has_desc, can_write;
    int64_t created;
} coll_row;

typedef struct coll_list {
    coll_ctx *x;
    coll_row *rows;
    size_t n, cap;
    int oom;
} coll_list;

static int coll_cb(void *ud, const accord_collection *col)
{
    coll_list *l = ud;
    coll_ctx *x = l->x;
    if (x->after && strcmp(col->id, x->after) <= 0)
        return 0;
    accord_error err = {0};
    int r = 0, w = 0;
    if (accord_rights_get(x->c->reader, x->c->who.account, col->id, &r, &w, &err) || !r)
        return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        coll_row *nr = realloc(l->rows, cap * sizeof(*nr));
        if (!nr) {
            l->oom = 1;
            return STOP;
        }
        l->rows = nr;
        l->cap = cap;
    }
    coll_row *o = &l->rows[l->n++];
    snprintf(o->id, sizeof(o->id), "%s", col->id);
    snprintf(o->root, sizeof(o->root), "%s", col->root);
    snprintf(o->alias, sizeof(o->alias), "%s", col->alias ? col->alias : "");
    snprintf(o->title, sizeof(o->title), "%s", col->title ? col->title : "");
    snprintf(o->desc, sizeof(o->desc), "%s", col->description ? col->description : "");
    o->has_alias = col->alias != NULL;
    o->has_desc = col->description != NULL;
    o->can_write = w;
    o->created = col->created_us;
    return 0;
}

static int coll_cmp(const void *a, const void *b)
{
    return strcmp(((const coll_row *)a)->id, ((const coll_row *)b)->id);
}

static void h_collections(api_call *c)
{
    coll_ctx x = {.c = c, .after = api_param(c, "after")};
    if ((x.limit = limit_param(c)) < 0)
        return;
    coll_list l = {.x = &x};
    accord_error err = {0};
    int rc = accord_collection_list(c->reader, NULL, coll_cb, &l, &err);
    if (l.oom || (rc && rc != STOP)) {
        free(l.rows);
        api_fail(c, 500, "Store error", "%s", l.oom ? "out of memory" : err.msg);
        return;
    }
    if (l.n)
        qsort(l.rows, l.n, sizeof(*l.rows), coll_cmp);
    buf *b = &c->rs->body;
    buf_adds(b, "{\"rows\":[");
    size_t n = l.n < (size_t)x.limit ? l.n : (size_t)x.limit;
    for (size_t i = 0; i < n; i++) {
        const coll_row *o = &l.rows[i];
        buf_adds(b, i ? ",{\"id\":" : "{\"id\":");
        buf_json_str(b, o->id);
        buf_adds(b, ",\"root\":");
        buf_json_str(b, o->root);
        buf_adds(b, ",\"alias\":");
        console_json_str_or_null(b, o->has_alias ? o->alias : NULL);
        buf_adds(b, ",\"title\":");
        buf_json_str(b, o->title);
        buf_adds(b, ",\"description\":");
        console_json_str_or_null(b, o->has_desc ? o->desc : NULL);
        buf_adds(b, ",\"created\":");
        console_json_time_or_null(b, o->created);
        buf_printf(b, ",\"can_write\":%s}", o->can_write ? "true" : "false");
    }
    buf_adds(b, "],\"next\":");
    console_json_str_or_null(b, l.n > n ? l.rows[n - 1].id : NULL);
    buf_adds(b, "}");
    free(l.rows);
    answer(c);
}

typedef struct peer_ctx {
    api_call *c;
    const char *after;
    int limit, n, more;
    char last[64];
    int64_t now;
} peer_ctx;

static int peer_cb(void *ud, const peer_conf *p, const char *cursor)
{
    peer_ctx *x = ud;
    if (x->after && strcmp(p->name, x->after) <= 0)
        return 0;
    if (x->n == x->limit) {
        x->more = 1;
        return STOP;
    }
    peer_status st = {0};
    accord_error err = {0};
    peer_status_get(x->c->reader, p->name, &st, &err);
    buf *b = &x->c->rs->body;
    buf_adds(b, x->n++ ? ",{\"name\":" : "{\"name\":");
    buf_json_str(b, p->name);
    buf_adds(b, ",\"url\":");
    buf_json_str(b, p->url);
    buf_adds(b, ",\"collection\":");
    buf_json_str(b, p->collection);
    buf_printf(b, ",\"pull\":%s,\"push\":%s,\"interval\":%d,\"local\":",
               p->mode & PEER_PULL ? "true" : "false", p->mode & PEER_PUSH ? "true" : "false",
               p->interval);
    console_json_str_or_null(b, p->local[0] ? p->local : NULL);
    buf_adds(b, ",\"org\":");
    console_json_str_or_null(b, p->org[0] ? p->org : NULL);
    buf_adds(b, ",\"cursor\":");
    console_json_str_or_null(b, cursor && *cursor ? cursor : NULL);
    buf_adds(b, ",\"last_attempt\":");
    console_json_time_or_null(b, st.last_attempt_us);
    buf_adds(b, ",\"last_success\":");
    console_json_time_or_null(b, st.last_success_us);
    buf_adds(b, ",\"next_attempt\":");
    console_json_time_or_null(b, st.next_attempt_us);
    /* lag: how long since the link last worked (null when it never did) */
    if (st.last_success_us)
        buf_printf(b, ",\"lag_s\":%lld",
                   (long long)((x->now - st.last_success_us) / 1000000));
    else
        buf_adds(b, ",\"lag_s\":null");
    buf_printf(b, ",\"failures\":%lld,\"pulled\":%llu,\"pushed\":%llu,\"last_error\":",
               (long long)st.failures, (unsigned long long)st.pulled,
               (unsigned long long)st.pushed);
    console_json_str_or_null(b, st.last_error[0] ? st.last_error : NULL);
    buf_adds(b, "}");
    snprintf(x->last, sizeof(x->last), "%s", p->name);
    return 0;
}

static void h_peers(api_call *c)
{
    if (!c->who.is_admin) {
        api_fail(c, 403, "Forbidden", "peers and their links are for admins");
        return;
    }
    peer_ctx x = {.c = c, .after = api_param(c, "after"), .now = ts_now_us()};
    if ((x.limit = limit_param(c)) < 0)
        return;
    buf *b = &c->rs->body;
    buf_adds(b, "{\"rows\":[");
    accord_error err = {0};
    int rc = peer_each(c->reader, peer_cb, &x, &err);
    if (rc && rc != STOP) {
        api_fail(c, 500, "Store error", "%s", err.msg);
        return;
    }
    buf_adds(b, "],\"next\":");
    console_json_str_or_null(b, x.more ? x.last : NULL);
    buf_adds(b, "}");
    answer(c);
}

/* ------------------------------------------------------------------------------------------ */
/* Read markers of case threads                                                                 */

#define READS_BODY_MAX 4096
#define TOPIC_MAX 256

/* 1 when the caller sees case id (the rule of GET /api/cases), 0 after answering 404 or 500. */
static int case_visible(api_call *c, const char *id)
{
    sqlite3_stmt *st = NULL;
    accord_error err = {0};
    if (sqlite3_prepare_v2(c->reader->db,
                           "SELECT 1 FROM cases c LEFT JOIN case_parts p ON p.cid = c.cid AND"
                           " p.account = ?2 WHERE c.id = ?1 AND (p.role IS NOT NULL OR"
                           " c.published IS NOT NULL)",
                           -1, &st, NULL)) {
        store_db_fail(c->reader, &err, "preparing a case lookup");
        api_fail(c, 500, "Store error", "%s", err.msg);
        return 0;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, c->who.account, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE) {
        store_db_fail(c->reader, &err, "reading a case");
        api_fail(c, 500, "Store error", "%s", err.msg);
    } else if (step == SQLITE_DONE) {
        api_fail(c, 404, "Not found", "no case %s that you may read", id);
    }
    sqlite3_finalize(st);
    return step == SQLITE_ROW;
}

static int read_cb(void *ud, const char *topic, int64_t seen)
{
    api_call *c = ud;
    buf *b = &c->rs->body;
    if (b->len && b->p[b->len - 1] != '{')
        buf_adds(b, ",");
    buf_json_str(b, topic);
    buf_printf(b, ":%lld", (long long)seen);
    return 0;
}

/*
 * GET /api/console/reads?case=ID: {"case":ID,"topics":{TOPIC:SEQ,...}}, the last message the
 * caller has read in each thread of the case.  POST {"case":ID,"topic":T,"seen":SEQ} records
 * one (an earlier seq than the stored one changes nothing) and answers the same.  Kept per
 * account in the store, so the markers follow the analyst to another browser.
 */
static void h_reads(api_call *c)
{
    int post = strcmp(c->rq->method, "POST") == 0;
    const char *id = api_param(c, "case"), *topic = NULL;
    int64_t seen = 0;
    ajson_arena a;
    ajson_arena_init(&a, 0);
    if (post) {
        if (c->rq->body_too_large || c->rq->body_len > READS_BODY_MAX) {
            api_fail(c, 413, "Too large", "a read marker is at most %d bytes", READS_BODY_MAX);
            goto out;
        }
        ajson_error je;
        const ajson_value *doc = ajson_parse(&a, c->rq->body, c->rq->body_len, &je);
        const ajson_value *sv = doc ? ajson_get(doc, "seen") : NULL;
        id = doc ? ajson_str(ajson_get(doc, "case")) : NULL;
        topic = doc ? ajson_str(ajson_get(doc, "topic")) : NULL;
        if (!id || !topic || !*topic || strlen(topic) >= TOPIC_MAX || !sv ||
            !ajson_int(sv, &seen) || seen < 0) {
            api_fail(c, 400, "Bad request",
                     "a JSON object with case (an id), topic (a string of 1 to %d bytes) and"
                     " seen (a message seq, 0 or more) expected",
                     TOPIC_MAX - 1);
            goto out;
        }
    }
    if (!id || strlen(id) >= ID_MAX || !console_utf8_ok(id)) {
        api_fail(c, 400, "Bad request", "case: a case id expected");
        goto out;
    }
    if (!case_visible(c, id))
        goto out;
    accord_error err = {0};
    if (post) {
        pthread_mutex_lock(c->ctx->writer_lock);
        int rc = store_thread_read_put(c->ctx->writer, c->who.account, id, topic, seen, &err);
        pthread_mutex_unlock(c->ctx->writer_lock);
        if (rc) {
            api_fail(c, 503, "Store busy", "%s", err.msg);
            goto out;
        }
    }
    buf *b = &c->rs->body;
    buf_adds(b, "{\"case\":");
    buf_json_str(b, id);
    buf_adds(b, ",\"topics\":{");
    if (store_thread_reads(c->reader, c->who.account, id, read_cb, c, &err)) {
        api_fail(c, 500, "Store error", "%s", err.msg);
        goto out;
    }
    buf_adds(b, "}}");
    answer(c);
out:
    ajson_arena_free(&a);
}

/* ------------------------------------------------------------------------------------------ */

void console_pages(api_call *c)
{
    static const struct {
        const char *name;
        void (*fn)(api_call *c);
    } routes[] = {{"sightings", h_sightings},     {"object-cases", h_object_cases},
                  {"roster", h_roster},           {"collections", h_collections},
                  {"peers", h_peers},             {"reads", h_reads}};
    if (strcmp(c->rest, "reads") == 0 && strcmp(c->rq->method, "POST") == 0) {
        h_reads(c);
        return;
    }
    if (strcmp(c->rq->method, "GET") != 0 && strcmp(c->rq->method, "HEAD") != 0) {
        snprintf(c->rs->allow, sizeof(c->rs->allow), "GET");
        api_fail(c, 405, "Method not allowed", "GET");
        return;
    }
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        if (strcmp(c->rest, routes[i].name) == 0) {
            routes[i].fn(c);
            return;
        }
    api_fail(c, 404, "Not found", "no console resource %s", c->rest);
}
