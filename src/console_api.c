/*
 * console_api.c - the JSON endpoints of the web console's search and object pages (see
 * console_api.h).
 *
 * Cursors are keys, never offsets: a search page resumes at (value index, seq), an object's
 * versions at a modified timestamp, its relationships at a seq.  A page therefore costs the same
 * however deep into a list it is, and rows added meanwhile neither repeat nor vanish.
 *
 * Relationships come from the store's index by endpoint (store_rels_of): a page reads its rows
 * and one more, never the relationships of other objects.
 */
#include "console_api.h"
#include "store.h"
#include "store_console.h"
#include "tlp.h"
#include "util/json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEARCH_BODY_MAX ((size_t)1024 * 1024)
#define VALUE_TEXT_MAX 2048
#define SOURCES_CACHED 32
#define ID_TEXT_MAX 80 /* an id longer than this is never looked up (sources.v[].id) */
#define STOP 1 /* a callback's "page full": positive, unlike every ACCORD_E* code */

/* ------------------------------------------------------------------------------------------ */
/* Shared                                                                                       */

/* The caller's clearance: NULL for admins (they read everything). 0, or answered an error. */
int console_viewer_of(api_call *c, accord_viewer **v)
{
    *v = NULL;
    if (c->who.is_admin)
        return 0;
    accord_error err = {0};
    if (accord_viewer_open(c->reader, c->who.account, v, &err) != 0) {
        api_fail(c, 500, "Store error", "the caller's clearance could not be read: %s", err.msg);
        return -1;
    }
    return 0;
}

int console_limit(api_call *c, int *limit)
{
    const char *s = api_param(c, "limit");
    *limit = CONSOLE_LIMIT_DEFAULT;
    if (!s)
        return 0;
    char *end;
    errno = 0;
    long n = strtol(s, &end, 10);
    if (errno || end == s || *end || n < 1 || n > CONSOLE_LIMIT_MAX) {
        api_fail(c, 400, "Bad limit", "limit must be 1 to %d", CONSOLE_LIMIT_MAX);
        return -1;
    }
    *limit = (int)n;
    return 0;
}

int console_utf8_ok(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t left = strlen(s);
    while (left) {
        size_t k = ajson_utf8_seq(p, left);
        if (!k)
            return 0;
        p += k;
        left -= k;
    }
    return 1;
}

/* 1 when id has the characters of a STIX id (TYPE--UUID: letters, digits and '-'), so that it
 * may be echoed in an answer. */
static int id_chars_ok(const char *id)
{
    static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-";
    return strspn(id, ok) == strlen(id) && strstr(id, "--") != NULL;
}

/* A non-negative decimal integer of the whole text [s, e); -1 when it is not one. */
static int64_t nonneg(const char *s, const char *e)
{
    if (s == e || e - s > 18)
        return -1;
    int64_t n = 0;
    for (; s < e; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        n = n * 10 + (*s - '0');
    }
    return n;
}

static int tlp_default(accord_store *s)
{
    int lvl = ACCORD_TLP_AMBER;
    accord_error err;
    accord_tlp_default_get(s, &lvl, &err);
    return lvl;
}

void console_json_str_or_null(buf *b, const char *s)
{
    if (s)
        buf_json_str(b, s);
    else
        buf_adds(b, "null");
}

void console_json_time_or_null(buf *b, int64_t us)
{
    char t[40];
    if (!us) {
        buf_adds(b, "null");
        return;
    }
    accord_timestamp_format(us, t, sizeof(t));
    buf_json_str(b, t);
}

/* A short text to recognise an object by: its name, an SCO's value, a pattern. */
static const char *label_of(const ajson_value *obj)
{
    static const char *const keys[] = {"name", "value", "pattern", "path", "body", "subject"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const char *s = ajson_str(ajson_get(obj, keys[i]));
        if (s)
            return s;
    }
    return NULL;
}

/* The names of the objects rows point to (identities, relationship endpoints), looked up once per
 * request. */
typedef struct sources {
    size_t n;
    struct {
        char id[ID_TEXT_MAX];
        char name[160];
        int found;
    } v[SOURCES_CACHED];
} sources;

typedef struct name_ud {
    char *out;
    size_t cap;
    int found;
    int any; /* label_of's text, not only a name */
} name_ud;

static int name_cb(void *ud, const accord_record *rec)
{
    name_ud *n = ud;
    ajson_arena a;
    ajson_arena_init(&a, 4 * rec->body_len + 4096);
    ajson_error je;
    const ajson_value *obj = ajson_parse(&a, rec->body, rec->body_len, &je);
    const char *name = !obj ? NULL : n->any ? label_of(obj) : ajson_str(ajson_get(obj, "name"));
    if (name) {
        snprintf(n->out, n->cap, "%s", name);
        n->found = 1;
    }
    ajson_arena_free(&a);
    return 0;
}

/* The name of object id (any: or label_of's text) as the viewer may read it, or NULL. */
static const char *cached_name(sources *src, accord_store *s, const accord_viewer *v,
                               const char *id, int any)
{
    if (!id || strlen(id) >= sizeof(src->v[0].id))
        return NULL;
    for (size_t i = 0; i < src->n; i++)
        if (strcmp(src->v[i].id, id) == 0)
            return src->v[i].found ? src->v[i].name : NULL;
    size_t i = src->n < SOURCES_CACHED ? src->n++ : SOURCES_CACHED - 1;
    snprintf(src->v[i].id, sizeof(src->v[i].id), "%s", id);
    name_ud n = {src->v[i].name, sizeof(src->v[i].name), 0, any};
    accord_error err;
    accord_store_get_as(s, v, id, 0, name_cb, &n, &err);
    src->v[i].found = n.found;
    return n.found ? src->v[i].name : NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Search                                                                                       */

typedef struct search_ctx {
    api_call *c;
    const accord_viewer *v;
    int dflt;
    const char *const *vals;
    char *state; /* per value: 0 no row yet, 1 a row, 2 not searchable */
    int limit, rows;
    int more;
    size_t next_vi;
    int64_t next_seq;
    size_t last_vi;
    int64_t last_seq;
    sources src;
    ajson_arena a;
} search_ctx;

static int search_cb(void *ud, size_t vi, const accord_record *rec)
{
    search_ctx *x = ud;
    if (!rec) {
        x->state[vi] = 2;
        return 0;
    }
    if (x->rows == x->limit) {
        /* the page is full: the next one starts after the last row shown, or at this value
           when every row of the value shown last is on this page */
        x->more = 1;
        x->next_vi = vi == x->last_vi ? x->last_vi : vi;
        x->next_seq = vi == x->last_vi ? x->last_seq : 0;
        return STOP;
    }
    x->state[vi] = 1;
    buf *b = &x->c->rs->body;
    ajson_arena_reset(&x->a);
    ajson_error je;
    const ajson_value *obj = ajson_parse(&x->a, rec->body, rec->body_len, &je);
    const char *by = obj ? ajson_str(ajson_get(obj, "created_by_ref")) : NULL;
    buf_adds(b, x->rows ? ",{\"value\":" : "{\"value\":");
    buf_json_str(b, x->vals[vi]);
    buf_adds(b, ",\"id\":");
    buf_json_str(b, rec->id);
    buf_adds(b, ",\"type\":");
    buf_json_str(b, rec->type);
    buf_adds(b, ",\"modified\":");
    buf_json_str(b, rec->modified);
    buf_printf(b, ",\"seq\":%lld,\"tlp\":\"%s\",\"revoked\":%s,\"latest\":%s,\"name\":",
               (long long)rec->seq, tlp_level_name(tlp_effective(rec->tlp, x->dflt)),
               rec->revoked ? "true" : "false", rec->latest ? "true" : "false");
    console_json_str_or_null(b, obj ? label_of(obj) : NULL);
    buf_adds(b, ",\"created_by_ref\":");
    console_json_str_or_null(b, by);
    buf_adds(b, ",\"source\":");
    console_json_str_or_null(b, cached_name(&x->src, x->c->reader, x->v, by, 0));
    buf_adds(b, "}");
    x->rows++;
    x->last_vi = vi;
    x->last_seq = rec->seq;
    return 0;
}

/* "VI.SEQ" */
static int search_cursor(const char *s, size_t *vi, int64_t *seq)
{
    const char *dot = strchr(s, '.');
    if (!dot)
        return -1;
    int64_t a = nonneg(s, dot), b = nonneg(dot + 1, dot + strlen(dot));
    if (a < 0 || b < 0 || a > CONSOLE_SEARCH_VALUES_MAX)
        return -1;
    *vi = (size_t)a;
    *seq = b;
    return 0;
}

/* The values asked for: ?value=V, or the body's "values" array (strings, at most 1,000). */
static int search_values(api_call *c, ajson_arena *a, const char **vals, size_t *n)
{
    *n = 0;
    if (strcmp(c->rq->method, "GET") == 0) {
        const char *v = api_param(c, "value");
        if (!v || !*v) {
            api_fail(c, 400, "No value", "search needs ?value=V (or POST {\"values\":[...]})");
            return -1;
        }
        if (!console_utf8_ok(v)) {
            api_fail(c, 400, "Bad value", "value: not UTF-8");
            return -1;
        }
        vals[(*n)++] = v;
        return 0;
    }
    if (c->rq->body_too_large || c->rq->body_len > SEARCH_BODY_MAX) {
        api_fail(c, 413, "Body too large", "a search body is at most %zu bytes", SEARCH_BODY_MAX);
        return -1;
    }
    ajson_error je;
    const ajson_value *doc = ajson_parse(a, c->rq->body, c->rq->body_len, &je);
    if (!doc) {
        api_fail(c, 400, "Invalid JSON", "body, byte %zu: %s", je.offset, je.msg);
        return -1;
    }
    const ajson_value *arr = ajson_get(doc, "values");
    if (!arr || arr->type != AJSON_ARRAY) {
        api_fail(c, 400, "No values", "body: expected {\"values\":[\"...\", ...]}");
        return -1;
    }
    if (arr->len > CONSOLE_SEARCH_VALUES_MAX) {
        api_fail(c, 400, "Too many values", "body.values: %zu values, at most %d", arr->len,
                 CONSOLE_SEARCH_VALUES_MAX);
        return -1;
    }
    for (size_t i = 0; i < arr->len; i++) {
        const char *s = ajson_str(&arr->u.items[i]);
        if (!s || !*s || arr->u.items[i].len > VALUE_TEXT_MAX) {
            api_fail(c, 400, "Bad value", "body.values[%zu]: a string of 1 to %d bytes expected", i,
                     VALUE_TEXT_MAX);
            return -1;
        }
        vals[(*n)++] = s;
    }
    return 0;
}

/* The values in [from, to) in a state (0 no row, 1 rows, 2 not searchable) as JSON array items. */
static void values_with(buf *b, const search_ctx *x, size_t from, size_t to, char state)
{
    int n = 0;
    for (size_t i = from; i < to; i++)
        if (x->state[i] == state) {
            buf_adds(b, n++ ? "," : "");
            buf_json_str(b, x->vals[i]);
        }
}

void console_search(api_call *c)
{
    if (strcmp(c->rq->method, "GET") != 0 && strcmp(c->rq->method, "POST") != 0) {
        snprintf(c->rs->allow, sizeof(c->rs->allow), "GET, POST");
        api_fail(c, 405, "Method not allowed", "GET or POST");
        return;
    }
    if (*c->rest) {
        api_fail(c, 404, "Not found", "no such resource");
        return;
    }
    const char **vals = calloc(CONSOLE_SEARCH_VALUES_MAX, sizeof(*vals));
    search_ctx x = {.c = c, .state = calloc(CONSOLE_SEARCH_VALUES_MAX, 1)};
    size_t n = 0, start = 0;
    int64_t start_seq = 0;
    ajson_arena body;
    ajson_arena_init(&body, 8 * SEARCH_BODY_MAX);
    ajson_arena_init(&x.a, 0);
    const char *after = api_param(c, "after");
    if (!vals || !x.state) {
        api_fail(c, 500, "Out of memory", "search");
        goto out;
    }
    if (console_limit(c, &x.limit) || search_values(c, &body, vals, &n))
        goto out;
    if (after && (search_cursor(after, &start, &start_seq) || start >= n)) {
        api_fail(c, 400, "Bad cursor", "after: expected the \"next\" of a previous page");
        goto out;
    }
    accord_viewer *v;
    if (console_viewer_of(c, &v))
        goto out;
    x.v = v;
    x.vals = vals;
    x.dflt = tlp_default(c->reader);
    c->rs->status = 200;
    c->rs->content_type = API_JSON;
    buf *b = &c->rs->body;
    buf_adds(b, "{\"rows\":[");
    accord_error err = {0};
    int rc = store_search_many(c->reader, v, vals, n, start, start_seq, search_cb, &x, &err);
    accord_viewer_free(v);
    if (rc && rc != STOP) {
        api_fail(c, 500, "Store error", "search: %s", err.msg);
        goto out;
    }
    /* values before the one the page stopped in are complete; the cursor's own value had rows
       on an earlier page */
    size_t done = x.more ? x.next_vi : n;
    if (start_seq > 0 && x.state[start] == 0)
        x.state[start] = 1;
    buf_adds(b, "],\"unknown\":[");
    values_with(b, &x, start, done, 0);
    buf_adds(b, "],\"invalid\":[");
    values_with(b, &x, start, done, 2);
    buf_printf(b, "],\"values\":%zu,\"next\":", n);
    if (x.more)
        buf_printf(b, "\"%zu.%lld\"}", x.next_vi, (long long)x.next_seq);
    else
        buf_adds(b, "null}");
    if (b->failed)
        api_fail(c, 500, "Response too large", "ask for fewer values or a smaller limit");
out:
    free(vals);
    free(x.state);
    ajson_arena_free(&body);
    ajson_arena_free(&x.a);
}

/* ------------------------------------------------------------------------------------------ */
/* One object                                                                                   */

typedef struct versions_ctx {
    api_call *c;
    int dflt, limit, rows, more;
    int64_t after_us;
    char (*shown)[40]; /* modified of each version on the page, for its signatures */
    char next[40];
    char type[64];
} versions_ctx;

static int version_cb(void *ud, const accord_record *rec)
{
    versions_ctx *x = ud;
    int64_t us = 0;
    if (rec->modified[0] && accord_timestamp_parse(rec->modified, &us) == 0 && x->after_us &&
        us <= x->after_us)
        return 0;
    if (x->rows == x->limit) {
        x->more = 1;
        return STOP;
    }
    buf *b = &x->c->rs->body;
    char added[40];
    accord_timestamp_format(rec->added_us, added, sizeof(added));
    snprintf(x->type, sizeof(x->type), "%s", rec->type);
    buf_adds(b, x->rows ? ",{\"modified\":" : "{\"modified\":");
    buf_json_str(b, rec->modified);
    buf_printf(b,
               ",\"added\":\"%s\",\"seq\":%lld,\"revoked\":%s,\"latest\":%s,\"tlp\":\"%s\","
               "\"object\":",
               added, (long long)rec->seq, rec->revoked ? "true" : "false",
               rec->latest ? "true" : "false", tlp_level_name(tlp_effective(rec->tlp, x->dflt)));
    buf_add(b, rec->body, rec->body_len);
    buf_adds(b, "}");
    snprintf(x->shown[x->rows], sizeof(x->shown[0]), "%s", rec->modified);
    snprintf(x->next, sizeof(x->next), "%s", rec->modified);
    x->rows++;
    return 0;
}

typedef struct sigs_ctx {
    versions_ctx *x;
    buf *b;
    int n;
} sigs_ctx;

static int sig_cb(void *ud, const accord_verify_result *r)
{
    sigs_ctx *s = ud;
    for (int i = 0; i < s->x->rows; i++) {
        if (strcmp(s->x->shown[i], r->modified ? r->modified : "") != 0)
            continue;
        buf_adds(s->b, s->n++ ? ",{\"modified\":" : "{\"modified\":");
        buf_json_str(s->b, r->modified);
        buf_adds(s->b, ",\"status\":");
        buf_json_str(s->b, r->status);
        buf_printf(s->b, ",\"valid\":%zu,\"unknown\":%zu,\"reason\":", r->valid, r->unknown);
        buf_json_str(s->b, r->reason ? r->reason : "");
        buf_adds(s->b, "}");
        break;
    }
    return 0;
}

static void object_versions(api_call *c, const char *id, const accord_viewer *v)
{
    versions_ctx x = {.c = c, .dflt = tlp_default(c->reader)};
    if (console_limit(c, &x.limit))
        return;
    const char *after = api_param(c, "after");
    if (after && accord_timestamp_parse(after, &x.after_us) != 0) {
        api_fail(c, 400, "Bad cursor", "after: a modified timestamp expected");
        return;
    }
    x.shown = calloc((size_t)x.limit, sizeof(*x.shown));
    if (!x.shown) {
        api_fail(c, 500, "Out of memory", "versions");
        return;
    }
    buf *b = &c->rs->body;
    buf_adds(b, "{\"id\":");
    buf_json_str(b, id);
    buf_adds(b, ",\"versions\":[");
    accord_error err = {0};
    int rc = accord_store_get_as(c->reader, v, id, ACCORD_GET_ALL_VERSIONS, version_cb, &x, &err);
    if (rc == ACCORD_ENOTFOUND || (rc == 0 && x.rows == 0 && !after)) {
        api_fail(c, 404, "Not found", "no object %s that you may read", id);
    } else if (rc && rc != STOP) {
        api_fail(c, 500, "Store error", "%s", err.msg);
    } else {
        buf_adds(b, "],\"type\":");
        buf_json_str(b, x.type);
        buf_adds(b, ",\"signatures\":[");
        sigs_ctx s = {&x, b, 0};
        accord_error verr = {0};
        if (x.rows)
            accord_verify_id(c->reader, id, ACCORD_GET_ALL_VERSIONS, sig_cb, &s, &verr);
        buf_adds(b, "],\"next\":");
        console_json_str_or_null(b, x.more ? x.next : NULL);
        buf_adds(b, "}");
        c->rs->status = 200;
        c->rs->content_type = API_JSON;
        if (b->failed)
            api_fail(c, 500, "Response too large", "ask for a smaller limit");
    }
    free(x.shown);
}

typedef struct rels_ctx {
    api_call *c;
    const accord_viewer *v;
    int dflt, limit, rows, more;
    int64_t last_row_seq;
    ajson_arena a;
    sources names; /* of the endpoints, for the graph's labels */
} rels_ctx;

static int rel_cb(void *ud, const accord_record *rec)
{
    rels_ctx *x = ud;
    ajson_arena_reset(&x->a);
    ajson_error je;
    const ajson_value *obj = ajson_parse(&x->a, rec->body, rec->body_len, &je);
    const char *src = obj ? ajson_str(ajson_get(obj, "source_ref")) : NULL;
    const char *dst = obj ? ajson_str(ajson_get(obj, "target_ref")) : NULL;
    if (!src || !dst)
        return 0;
    if (x->rows == x->limit) {
        x->more = 1;
        return STOP;
    }
    buf *b = &x->c->rs->body;
    buf_adds(b, x->rows ? ",{\"id\":" : "{\"id\":");
    buf_json_str(b, rec->id);
    buf_adds(b, ",\"relationship_type\":");
    console_json_str_or_null(b, ajson_str(ajson_get(obj, "relationship_type")));
    buf_adds(b, ",\"source_ref\":");
    buf_json_str(b, src);
    buf_adds(b, ",\"target_ref\":");
    buf_json_str(b, dst);
    buf_adds(b, ",\"modified\":");
    buf_json_str(b, rec->modified);
    buf_printf(b, ",\"seq\":%lld,\"tlp\":\"%s\"", (long long)rec->seq,
               tlp_level_name(tlp_effective(rec->tlp, x->dflt)));
    x->rows++;
    x->last_row_seq = rec->seq;
    /* what the graph labels its nodes with, when the caller may read the endpoint; last, as
       the lookups reuse the statement rec's memory belongs to (rec is invalid after them) */
    char ends[2][ID_TEXT_MAX];
    snprintf(ends[0], sizeof(ends[0]), "%s", src);
    snprintf(ends[1], sizeof(ends[1]), "%s", dst);
    int long0 = strlen(src) >= ID_TEXT_MAX, long1 = strlen(dst) >= ID_TEXT_MAX;
    buf_adds(b, ",\"source_name\":");
    console_json_str_or_null(b, cached_name(&x->names, x->c->reader, x->v,
                                            long0 ? NULL : ends[0], 1));
    buf_adds(b, ",\"target_name\":");
    console_json_str_or_null(b, cached_name(&x->names, x->c->reader, x->v,
                                            long1 ? NULL : ends[1], 1));
    buf_adds(b, "}");
    return 0;
}

static void object_relationships(api_call *c, const char *id, const accord_viewer *v)
{
    rels_ctx x = {.c = c, .v = v, .dflt = tlp_default(c->reader)};
    if (console_limit(c, &x.limit))
        return;
    const char *after = api_param(c, "after");
    int64_t after_seq = after ? nonneg(after, after + strlen(after)) : 0;
    if (after_seq < 0) {
        api_fail(c, 400, "Bad cursor", "after: a seq expected");
        return;
    }
    ajson_arena_init(&x.a, 0);
    buf *b = &c->rs->body;
    buf_adds(b, "{\"rows\":[");
    accord_error err = {0};
    int rc = store_rels_of(c->reader, v, id, after_seq, rel_cb, &x, &err);
    ajson_arena_free(&x.a);
    if (rc && rc != STOP) {
        api_fail(c, 500, "Store error", "%s", err.msg);
        return;
    }
    /* a next page only when a row beyond this one exists */
    if (x.more)
        buf_printf(b, "],\"next\":\"%lld\"}", (long long)x.last_row_seq);
    else
        buf_adds(b, "],\"next\":null}");
    c->rs->status = 200;
    c->rs->content_type = API_JSON;
    if (b->failed)
        api_fail(c, 500, "Response too large", "ask for a smaller limit");
}

void console_object(api_call *c)
{
    if (strcmp(c->rq->method, "GET") != 0 && strcmp(c->rq->method, "HEAD") != 0) {
        snprintf(c->rs->allow, sizeof(c->rs->allow), "GET");
        api_fail(c, 405, "Method not allowed", "GET");
        return;
    }
    char id[128];
    const char *slash = strchr(c->rest, '/');
    size_t len = slash ? (size_t)(slash - c->rest) : strlen(c->rest);
    const char *what = slash ? slash + 1 : "";
    if (len == 0 || len >= sizeof(id)) {
        api_fail(c, 404, "Not found", "expected /api/objects/TYPE--UUID");
        return;
    }
    memcpy(id, c->rest, len);
    id[len] = '\0';
    if (!id_chars_ok(id)) {
        api_fail(c, 404, "Not found", "expected /api/objects/TYPE--UUID");
        return;
    }
    if (*what && strcmp(what, "relationships") != 0) {
        api_fail(c, 404, "Not found", "no such resource of an object");
        return;
    }
    accord_viewer *v;
    if (console_viewer_of(c, &v))
        return;
    if (*what)
        object_relationships(c, id, v);
    else
        object_versions(c, id, v);
    accord_viewer_free(v);
}
