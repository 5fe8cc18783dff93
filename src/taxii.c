/*
 * taxii.c - TAXII 2.1 (OASIS Standard, 10 June 2021) over the store.
 *
 * Routes are data (routes[] below): a path pattern, the methods it answers, and one handler per
 * method.  taxii_handle matches the path, checks the method (405), content negotiation (406,
 * 415), authentication (401, 429 when rate-limited) and the collection rights the route needs
 * (403, 404), then runs the handler.  Every error is a TAXII error resource.
 *
 * Pagination: the cursor is the date_added of the last object of a page.  date_added values are
 * unique and increase strictly across commits (store.c), so a page "added after the cursor" never
 * misses or repeats a version, even while other requests add objects; `next` is that cursor as
 * decimal microseconds, and added_after narrows it further.  A page asks the store for limit+1
 * rows to know whether there are more.
 *
 * Bodies of stored objects are copied into responses as they were stored (compact JSON), never
 * re-serialised.
 *
 * TLP: every route that lists objects, ids or versions (objects, object, versions, manifest, and
 * DELETE, whose 200/404 would tell whether an id exists) reads through the caller's viewer
 * (tlp.h), loaded once per request; the store filters inside its scan, so a page holds `limit`
 * objects the caller may read and `next` resumes after the last of them.  A withheld object
 * answers 404 exactly like one that does not exist.  Admin accounts read everything.  A status
 * is shown only to the account that posted it (and admins): it lists only ids that account sent.
 *
 * Writes (POST objects, DELETE object) run on the context's one writer handle under its lock: the
 * store has one writer at a time anyway, and one handle keeps one set of dedup caches.  What a
 * POST's import does without writing (parsing, validation, canonical forms, signature checks) is
 * done before the lock is taken (import_prepare), on the request's own reader handle.  A POST is
 * processed before the response is sent; the 202 carries a status that is already complete, and
 * the status stays answerable at /{root}/status/{id}/: it is written in the transaction that
 * stores the objects (one commit per POST; a crash keeps both or neither).  A POST into a
 * collection that signs (accord_collection_sign_set) goes through the same import with
 * ACCORD_IMPORT_SIGN: each object is signed with this node's organisation in the transaction that
 * stores it; when the key cannot be loaded, nothing is stored and the answer is 500 naming why.
 *
 * It does not: speak HTTP (server.c does), decide who may log in (the ctx's authenticate does),
 * or serve STIX 2.0 media types (an Accept that asks only for those gets 406).
 */
#include "taxii.h"

#include "import.h"
#include "store.h"
#include "util/timestamp.h"
#include "util/uuid.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define MAX_LIST 100 /* values of one match[] field */
/* A POST body up to this size is prepared (import_prepare) before the writer's lock is taken;
 * its parsed trees take a few times its size in memory.  Larger ones are imported under the lock
 * as they are read. */
#define PREPARE_MAX_BODY ((size_t)16 << 20)

/* What a path names, once matched. */
typedef struct route_args {
    char root[72];
    char id[80]; /* status id or collection id */
    char object[300];
} route_args;

/* The parsed query. */
typedef struct query {
    int64_t added_after;
    uint32_t limit;
    int has_limit;
    const char *ids[MAX_LIST + 1], *types[MAX_LIST + 1], *specs[MAX_LIST + 1];
    const char *vlist[MAX_LIST + 1];
    int nids, ntypes, nspecs, nvlist;
    unsigned versions; /* ACCORD_VERSIONS_* */
    char *store;       /* the copied values the lists point into */
} query;

/* A request being handled. */
typedef struct call {
    const taxii_ctx *ctx;
    accord_store *reader;
    const taxii_request *rq;
    taxii_response *rs;
    route_args a;
    taxii_principal who;
    accord_collection coll; /* for collection routes: the collection (strings in coll_buf) */
    char coll_buf[1024];
    int can_read, can_write;
    int64_t max_content_length;
    accord_viewer *viewer; /* the caller's TLP clearance, NULL for admins (load_viewer) */
} call;

typedef void (*handler)(call *c);

static void h_discovery(call *c);
static void h_root(call *c);
static void h_status(call *c);
static void h_collections(call *c);
static void h_collection(call *c);
static void h_manifest(call *c);
static void h_objects_get(call *c);
static void h_objects_post(call *c);
static void h_object_get(call *c);
static void h_object_delete(call *c);
static void h_versions(call *c);

/*
 * Path patterns: literal segments, or {root}, {id}, {object}; one handler per method (NULL: 405).
 * Every route needs an authenticated account; collection routes check the account's rights.
 */
static const struct route {
    const char *name;
    const char *pattern;
    handler get, post, del;
} routes[] = {
    {"discovery", "/taxii2/", h_discovery, NULL, NULL},
    {"api_root", "/{root}/", h_root, NULL, NULL},
    {"status", "/{root}/status/{id}/", h_status, NULL, NULL},
    {"collections", "/{root}/collections/", h_collections, NULL, NULL},
    {"collection", "/{root}/collections/{id}/", h_collection, NULL, NULL},
    {"manifest", "/{root}/collections/{id}/manifest/", h_manifest, NULL, NULL},
    {"objects", "/{root}/collections/{id}/objects/", h_objects_get, h_objects_post, NULL},
    {"object", "/{root}/collections/{id}/objects/{object}/", h_object_get, NULL, h_object_delete},
    {"versions", "/{root}/collections/{id}/objects/{object}/versions/", h_versions, NULL, NULL},
};

void taxii_response_init(taxii_response *rs)
{
    memset(rs, 0, sizeof(*rs));
    buf_init(&rs->body, (size_t)256 * 1024 * 1024);
}

void taxii_response_free(taxii_response *rs)
{
    if (rs)
        buf_free(&rs->body);
}

/* ------------------------------------------------------------------------------------------ */
/* Errors and small writers                                                                   */

static void fail(call *c, int status, const char *title, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void fail(call *c, int status, const char *title, const char *fmt, ...)
{
    taxii_response *rs = c->rs;
    char desc[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(desc, sizeof(desc), fmt, ap);
    va_end(ap);
    rs->status = status;
    rs->content_type = TAXII_MEDIA;
    rs->date_first[0] = rs->date_last[0] = '\0';
    buf_reset(&rs->body);
    buf_adds(&rs->body, "{\"title\":");
    buf_json_str(&rs->body, title);
    buf_adds(&rs->body, ",\"description\":");
    buf_json_str(&rs->body, desc);
    buf_printf(&rs->body, ",\"http_status\":\"%d\"}", status);
}

static void ok(call *c, int status)
{
    c->rs->status = status;
    c->rs->content_type = TAXII_MEDIA;
}

static void fmt_added(int64_t us, char *out, size_t len)
{
    accord_timestamp_format(us, out, len);
}

/* ------------------------------------------------------------------------------------------ */
/* Content negotiation                                                                        */

/* Compares one media range (trimmed) with TAXII 2.1 JSON; wildcards allowed when `ranges`. */
static int media_match(const char *m, size_t len, int ranges)
{
    while (len && (*m == ' ' || *m == '\t'))
        m++, len--;
    const char *semi = memchr(m, ';', len);
    size_t tlen = semi ? (size_t)(semi - m) : len;
    while (tlen && (m[tlen - 1] == ' ' || m[tlen - 1] == '\t'))
        tlen--;
    int type_ok = (tlen == 22 && strncasecmp(m, "application/taxii+json", 22) == 0) ||
                  (ranges && tlen == 3 && strncmp(m, "*/*", 3) == 0) ||
                  (ranges && tlen == 13 && strncasecmp(m, "application/*", 13) == 0);
    if (!type_ok)
        return 0;
    /* parameters: a version, if given, must be 2.1; q=0 refuses */
    for (const char *p = semi; p && p < m + len;
         p = memchr(p + 1, ';', (size_t)(m + len - p - 1))) {
        const char *q = p + 1;
        while (q < m + len && *q == ' ')
            q++;
        size_t rest = (size_t)(m + len - q);
        if (rest >= 8 && strncasecmp(q, "version=", 8) == 0 &&
            !(rest >= 11 && strncmp(q + 8, "2.1", 3) == 0 &&
              (rest == 11 || q[11] == ';' || q[11] == ' ')))
            return 0;
        if (rest >= 2 && strncasecmp(q, "q=", 2) == 0 && strtod(q + 2, NULL) <= 0.0)
            return 0;
    }
    return 1;
}

int taxii_accepts(const char *accept)
{
    if (!accept || !*accept)
        return 1;
    const char *p = accept;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (media_match(p, len, 1))
            return 1;
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

int taxii_is_taxii_json(const char *ct)
{
    return ct && !strchr(ct, ',') && media_match(ct, strlen(ct), 0);
}

/* ------------------------------------------------------------------------------------------ */
/* Routing                                                                                      */

/* Copies segment [s, e) into out (NUL-terminated); 0, or -1 when empty or too long. */
static int take_segment(const char *s, const char *e, char *out, size_t outlen)
{
    size_t n = (size_t)(e - s);
    if (n == 0 || n >= outlen)
        return -1;
    memcpy(out, s, n);
    out[n] = '\0';
    return 0;
}

/* Matches path against pattern; fills a.  A missing trailing slash is tolerated. */
static int route_match(const char *pattern, const char *path, route_args *a)
{
    const char *p = pattern, *s = path;
    while (*p) {
        if (*p == '{') {
            const char *pe = strchr(p, '}');
            const char *se = strchr(s, '/');
            if (!se)
                se = s + strlen(s);
            char *out = p[1] == 'r' ? a->root : p[1] == 'i' ? a->id : a->object;
            size_t outlen = p[1] == 'r'   ? sizeof(a->root)
                            : p[1] == 'i' ? sizeof(a->id)
                                          : sizeof(a->object);
            if (take_segment(s, se, out, outlen))
                return 0;
            p = pe + 1;
            s = se;
        } else if (*p == *s) {
            p++;
            s++;
        } else if (*p == '/' && p[1] == '\0' && *s == '\0') {
            p++;
        } else {
            return 0;
        }
    }
    return *s == '\0';
}

static const struct route *route_find(const char *path, route_args *a)
{
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        memset(a, 0, sizeof(*a));
        if (route_match(routes[i].pattern, path, a))
            return &routes[i];
    }
    return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Query parameters                                                                            */

static void query_free(query *q)
{
    free(q->store);
}

/* Splits a comma list into list (appending); -1 when there are too many or an empty item. */
static int split_list(char *v, const char **list, int *n)
{
    for (char *item = v;;) {
        char *comma = strchr(item, ',');
        if (comma)
            *comma = '\0';
        if (!*item || *n >= MAX_LIST)
            return -1;
        list[(*n)++] = item;
        list[*n] = NULL;
        if (!comma)
            return 0;
        item = comma + 1;
    }
}

static int parse_versions(call *c, query *q, char *v)
{
    const char *items[MAX_LIST + 1];
    int n = 0;
    if (split_list(v, items, &n)) {
        fail(c, 400, "Bad match[version]", "match[version]: an empty value or more than %d",
             MAX_LIST);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        int64_t us;
        if (strcmp(items[i], "last") == 0) {
            q->versions |= ACCORD_VERSIONS_LAST;
        } else if (strcmp(items[i], "first") == 0) {
            q->versions |= ACCORD_VERSIONS_FIRST;
        } else if (strcmp(items[i], "all") == 0) {
            q->versions |= ACCORD_VERSIONS_ALL;
        } else if (accord_timestamp_parse(items[i], &us) == 0) {
            q->versions |= ACCORD_VERSIONS_LIST;
            q->vlist[q->nvlist++] = items[i];
            q->vlist[q->nvlist] = NULL;
        } else {
            fail(c, 400, "Bad match[version]",
                 "match[version]: \"%.80s\" is not last, first, all or a timestamp", items[i]);
            return -1;
        }
    }
    return 0;
}

static int parse_uint(const char *v, uint64_t max, uint64_t *out)
{
    if (!*v || *v == '-' || *v == '+')
        return -1;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || *end || x > max)
        return -1;
    *out = x;
    return 0;
}

/* One key=value; `allowed` is the set of match fields this route takes ("id,type,..."). */
static int parse_param(call *c, query *q, const char *key, char *v, const char *allowed)
{
    uint64_t x;
    if (strcmp(key, "added_after") == 0) {
        int64_t us;
        if (accord_timestamp_parse(v, &us)) {
            fail(c, 400, "Bad added_after", "added_after: \"%.80s\" is not an RFC 3339 timestamp",
                 v);
            return -1;
        }
        if (us > q->added_after)
            q->added_after = us;
    } else if (strcmp(key, "limit") == 0) {
        if (parse_uint(v, UINT32_MAX, &x) || x == 0) {
            fail(c, 400, "Bad limit", "limit: \"%.40s\" is not a positive integer", v);
            return -1;
        }
        q->limit = x > TAXII_MAX_LIMIT ? TAXII_MAX_LIMIT : (uint32_t)x;
        q->has_limit = 1;
    } else if (strcmp(key, "next") == 0) {
        if (parse_uint(v, INT64_MAX, &x)) {
            fail(c, 400, "Bad next", "next: \"%.80s\" is not a value this server gave", v);
            return -1;
        }
        if ((int64_t)x > q->added_after)
            q->added_after = (int64_t)x;
    } else if (strncmp(key, "match[", 6) == 0) {
        const char *field = key + 6;
        size_t flen = strcspn(field, "]");
        char name[24];
        if (field[flen] != ']' || field[flen + 1] || flen == 0 || flen >= sizeof(name)) {
            fail(c, 400, "Bad match", "\"%.80s\" is not a match[field] parameter", key);
            return -1;
        }
        memcpy(name, field, flen);
        name[flen] = '\0';
        const char *hit = strstr(allowed, name);
        if (!hit || (hit[flen] != ',' && hit[flen] != '\0') || (hit != allowed && hit[-1] != ',')) {
            fail(c, 400, "Bad match", "match[%s] is not a filter of this endpoint", name);
            return -1;
        }
        int bad = 0;
        if (strcmp(name, "id") == 0)
            bad = split_list(v, q->ids, &q->nids);
        else if (strcmp(name, "type") == 0)
            bad = split_list(v, q->types, &q->ntypes);
        else if (strcmp(name, "spec_version") == 0)
            bad = split_list(v, q->specs, &q->nspecs);
        else if (strcmp(name, "version") == 0)
            return parse_versions(c, q, v);
        if (bad) {
            fail(c, 400, "Bad match", "match[%s]: an empty value or more than %d values", name,
                 MAX_LIST);
            return -1;
        }
    }
    return 0; /* other parameters are ignored */
}

static int parse_query(call *c, query *q, const char *allowed)
{
    memset(q, 0, sizeof(*q));
    size_t total = 0;
    for (size_t i = 0; i < c->rq->nquery; i++)
        total += strlen(c->rq->query[i].value ? c->rq->query[i].value : "") + 1;
    q->store = malloc(total + 1);
    if (!q->store) {
        fail(c, 500, "Out of memory", "out of memory parsing the query");
        return -1;
    }
    char *p = q->store;
    for (size_t i = 0; i < c->rq->nquery; i++) {
        const char *v = c->rq->query[i].value ? c->rq->query[i].value : "";
        size_t n = strlen(v);
        memcpy(p, v, n + 1);
        if (parse_param(c, q, c->rq->query[i].key, p, allowed))
            return -1;
        p += n + 1;
    }
    if (!q->has_limit)
        q->limit = TAXII_DEFAULT_LIMIT;
    return 0;
}

static void filter_from_query(const call *c, const query *q, accord_scan_filter *f)
{
    memset(f, 0, sizeof(*f));
    f->viewer = c->viewer;
    f->collection = c->coll.id;
    f->types = q->ntypes ? q->types : NULL;
    f->ids = q->nids ? q->ids : NULL;
    f->spec_versions = q->nspecs ? q->specs : NULL;
    f->versions = q->versions;
    f->version_list = q->nvlist ? q->vlist : NULL;
    f->added_after_us = q->added_after;
    f->include_revoked = 1;
    f->limit = q->limit + 1;
}

/* ------------------------------------------------------------------------------------------ */
/* Discovery, API roots, collections                                                          */

static void base_url(call *c, buf *b)
{
    if (c->ctx->public_url)
        buf_adds(b, c->ctx->public_url);
    else
        buf_printf(b, "https://%s", c->rq->host ? c->rq->host : "localhost");
}

static int add_root_url(void *ud, const accord_root *r)
{
    call *c = ud;
    buf *b = &c->rs->body;
    buf_adds(b, b->p[b->len - 1] == '[' ? "\"" : ",\"");
    base_url(c, b);
    buf_printf(b, "/%s/\"", r->name);
    return 0;
}

static void h_discovery(call *c)
{
    buf *b = &c->rs->body;
    accord_error err;
    ok(c, 200);
    buf_adds(b, "{\"title\":");
    buf_json_str(b, c->ctx->title ? c->ctx->title : "accord");
    if (c->ctx->description) {
        buf_adds(b, ",\"description\":");
        buf_json_str(b, c->ctx->description);
    }
    if (c->ctx->contact) {
        buf_adds(b, ",\"contact\":");
        buf_json_str(b, c->ctx->contact);
    }
    buf_adds(b, ",\"default\":\"");
    base_url(c, b);
    buf_adds(b, "/accord/\",\"api_roots\":[");
    if (accord_root_list(c->reader, add_root_url, c, &err)) {
        fail(c, 500, "Store error", "%s", err.msg);
        return;
    }
    buf_adds(b, "]}");
}

typedef struct root_find {
    const char *name;
    int found;
    call *c;
} root_find;

static int find_root(void *ud, const accord_root *r)
{
    root_find *f = ud;
    if (strcmp(r->name, f->name) != 0)
        return 0;
    f->found = 1;
    f->c->max_content_length = r->max_content_length;
    if (f->c->rs->status == 200) { /* writing the API root resource */
        buf *b = &f->c->rs->body;
        buf_adds(b, "{\"title\":");
        buf_json_str(b, r->title);
        if (r->description) {
            buf_adds(b, ",\"description\":");
            buf_json_str(b, r->description);
        }
        buf_printf(b, ",\"versions\":[\"" TAXII_MEDIA "\"],\"max_content_length\":%lld}",
                   (long long)r->max_content_length);
    }
    return 0;
}

/* Looks up c->a.root; when `write` the API root resource is written to the response. */
static int load_root(call *c, int write)
{
    root_find f = {.name = c->a.root, .c = c};
    accord_error err;
    c->rs->status = write ? 200 : 0;
    if (accord_root_list(c->reader, find_root, &f, &err)) {
        fail(c, 500, "Store error", "%s", err.msg);
        return -1;
    }
    if (!f.found) {
        fail(c, 404, "Unknown API root", "there is no API root \"%.64s\"", c->a.root);
        return -1;
    }
    return 0;
}

static void h_root(call *c)
{
    if (load_root(c, 1) == 0)
        ok(c, 200);
}

static void write_collection(call *c, const accord_collection *k, int can_read, int can_write)
{
    buf *b = &c->rs->body;
    buf_adds(b, "{\"id\":");
    buf_json_str(b, k->id);
    buf_adds(b, ",\"title\":");
    buf_json_str(b, k->title);
    if (k->description) {
        buf_adds(b, ",\"description\":");
        buf_json_str(b, k->description);
    }
    if (k->alias) {
        buf_adds(b, ",\"alias\":");
        buf_json_str(b, k->alias);
    }
    buf_printf(b, ",\"can_read\":%s,\"can_write\":%s,\"media_types\":[\"" STIX_MEDIA "\"]}",
               can_read ? "true" : "false", can_write ? "true" : "false");
}

static int list_one(void *ud, const accord_collection *k)
{
    call *c = ud;
    int r = 0, w = 0;
    if (c->ctx->rights(c->ctx->ud, c->reader, &c->who, k->id, &r, &w) || (!r && !w))
        return 0;
    buf *b = &c->rs->body;
    buf_adds(b, b->p[b->len - 1] == '[' ? "" : ",");
    write_collection(c, k, r, w);
    return 0;
}

static void h_collections(call *c)
{
    if (load_root(c, 0))
        return;
    accord_error err;
    ok(c, 200);
    buf_adds(&c->rs->body, "{\"collections\":[");
    size_t empty_len = c->rs->body.len;
    if (accord_collection_list(c->reader, c->a.root, list_one, c, &err)) {
        fail(c, 500, "Store error", "%s", err.msg);
        return;
    }
    if (c->rs->body.len == empty_len) { /* none readable: the property is left out */
        buf_reset(&c->rs->body);
        buf_adds(&c->rs->body, "{}");
    } else {
        buf_adds(&c->rs->body, "]}");
    }
}

typedef struct coll_find {
    call *c;
    int found;
} coll_find;

static int find_coll(void *ud, const accord_collection *k)
{
    coll_find *f = ud;
    call *c = f->c;
    if (f->found || (strcmp(k->id, c->a.id) != 0 && (!k->alias || strcmp(k->alias, c->a.id))))
        return 0;
    f->found = 1;
    /* keep copies: the strings die with the callback */
    size_t off = 0;
    const char *src[] = {k->id, k->root, k->alias, k->title, k->description};
    const char **dst[] = {&c->coll.id, &c->coll.root, &c->coll.alias, &c->coll.title,
                          &c->coll.description};
    for (int i = 0; i < 5; i++) {
        *dst[i] = NULL;
        if (!src[i])
            continue;
        size_t n = strlen(src[i]);
        if (off + n + 1 > sizeof(c->coll_buf))
            n = sizeof(c->coll_buf) - off - 1;
        memcpy(c->coll_buf + off, src[i], n);
        c->coll_buf[off + n] = '\0';
        *dst[i] = c->coll_buf + off;
        off += n + 1;
    }
    c->coll.cid = k->cid;
    return 0;
}

/* Resolves the route's collection and the caller's rights on it; `need` is 'r' or 'w'. */
static int load_collection(call *c, int need)
{
    if (load_root(c, 0))
        return -1;
    coll_find f = {.c = c};
    accord_error err;
    if (accord_collection_list(c->reader, c->a.root, find_coll, &f, &err)) {
        fail(c, 500, "Store error", "%s", err.msg);
        return -1;
    }
    if (!f.found ||
        c->ctx->rights(c->ctx->ud, c->reader, &c->who, c->coll.id, &c->can_read, &c->can_write)) {
        fail(c, 404, "Unknown collection", "API root %.64s has no collection \"%.80s\"", c->a.root,
             c->a.id);
        return -1;
    }
    if (!c->can_read && !c->can_write) {
        fail(c, 404, "Unknown collection", "API root %.64s has no collection \"%.80s\"", c->a.root,
             c->a.id);
        return -1;
    }
    if ((need == 'r' && !c->can_read) || (need == 'w' && !c->can_write)) {
        fail(c, 403, "Forbidden", "account %s may not %s collection %s", c->who.account,
             need == 'r' ? "read" : "write to", c->coll.id);
        return -1;
    }
    return 0;
}

/* Loads the caller's TLP clearance (nothing for admins, who read everything). */
static int load_viewer(call *c)
{
    accord_error err;
    if (c->who.is_admin || c->viewer)
        return 0;
    int rc = accord_viewer_open(c->reader, c->who.account, &c->viewer, &err);
    if (rc == ACCORD_ENOTFOUND) { /* removed since it authenticated */
        fail(c, 401, "Unauthorized", "account %s no longer exists", c->who.account);
        return -1;
    }
    if (rc) { /* the account authenticated a moment ago: a failure here is the store's */
        fail(c, 500, "Store error", "cannot read the clearance of %s: %s", c->who.account,
             err.msg);
        return -1;
    }
    return 0;
}

static void h_collection(call *c)
{
    if (load_collection(c, 0))
        return;
    ok(c, 200);
    write_collection(c, &c->coll, c->can_read, c->can_write);
}

/* ------------------------------------------------------------------------------------------ */
/* Pages: manifest, objects, versions                                                         */

typedef struct page {
    call *c;
    uint32_t limit, n;
    int more;
    int64_t first, last;
    int kind; /* 'm' manifest, 'o' objects, 'v' versions */
} page;

static void write_version(buf *b, const accord_record *r)
{
    if (r->modified && *r->modified) {
        buf_json_str(b, r->modified);
    } else {
        char ts[40];
        fmt_added(r->added_us, ts, sizeof(ts));
        buf_printf(b, "\"%s\"", ts);
    }
}

static int page_add(void *ud, const accord_record *r)
{
    page *p = ud;
    if (p->n == p->limit) {
        p->more = 1;
        return 1; /* stop: the extra row only says there is more */
    }
    buf *b = &p->c->rs->body;
    buf_adds(b, p->n ? "," : "");
    if (p->kind == 'o') {
        buf_add(b, r->body, r->body_len);
    } else if (p->kind == 'v') {
        write_version(b, r);
    } else {
        char ts[40];
        fmt_added(r->added_us, ts, sizeof(ts));
        buf_adds(b, "{\"id\":");
        buf_json_str(b, r->id);
        buf_printf(b, ",\"date_added\":\"%s\",\"version\":", ts);
        write_version(b, r);
        buf_printf(b, ",\"media_type\":\"application/stix+json;version=%s\"}",
                   strcmp(r->spec_version, "2.0") == 0 ? "2.0" : "2.1");
    }
    if (!p->n)
        p->first = r->added_us;
    p->last = r->added_us;
    p->n++;
    return b->failed ? ACCORD_ENOMEM : 0;
}

/* Runs a paged scan and writes the envelope-like resource around it. */
static void run_page(call *c, query *q, int kind, const char *list_name, int not_found_if_empty)
{
    accord_scan_filter f;
    filter_from_query(c, q, &f);
    buf *b = &c->rs->body;
    page p = {.c = c, .limit = q->limit, .kind = kind};
    accord_error err;
    ok(c, 200);
    buf_printf(b, "{\"%s\":[", list_name);
    int rc = accord_store_scan(c->reader, &f, page_add, &p, &err);
    if (rc < 0 || b->failed) {
        fail(c, 500, "Store error", "%s", rc < 0 ? err.msg : "response too large");
        return;
    }
    if (p.n == 0 && not_found_if_empty) {
        fail(c, 404, "Not found", "collection %s has no object %.200s matching the filter",
             c->coll.id, c->a.object);
        return;
    }
    if (p.n == 0) {
        buf_reset(b);
        buf_adds(b, "{\"more\":false}");
        return;
    }
    buf_printf(b, "],\"more\":%s", p.more ? "true" : "false");
    if (p.more)
        buf_printf(b, ",\"next\":\"%lld\"", (long long)p.last);
    buf_adds(b, "}");
    fmt_added(p.first, c->rs->date_first, sizeof(c->rs->date_first));
    fmt_added(p.last, c->rs->date_last, sizeof(c->rs->date_last));
}

static void h_manifest(call *c)
{
    query q = {0};
    if (load_collection(c, 'r') == 0 && parse_query(c, &q, "id,type,version,spec_version") == 0 &&
        load_viewer(c) == 0)
        run_page(c, &q, 'm', "objects", 0);
    query_free(&q);
}

static void h_objects_get(call *c)
{
    query q = {0};
    if (load_collection(c, 'r') == 0 && parse_query(c, &q, "id,type,version,spec_version") == 0 &&
        load_viewer(c) == 0)
        run_page(c, &q, 'o', "objects", 0);
    query_free(&q);
}

/* The object routes: the path's object id is an implicit match[id]. */
static int object_query(call *c, query *q, const char *allowed)
{
    if (parse_query(c, q, allowed))
        return -1;
    q->ids[0] = c->a.object;
    q->ids[1] = NULL;
    q->nids = 1;
    return 0;
}

static void h_object_get(call *c)
{
    query q = {0};
    if (load_collection(c, 'r') == 0 && object_query(c, &q, "version,spec_version") == 0 &&
        load_viewer(c) == 0)
        run_page(c, &q, 'o', "objects", 1);
    query_free(&q);
}

static void h_versions(call *c)
{
    query q = {0};
    if (load_collection(c, 'r') == 0 && object_query(c, &q, "spec_version") == 0 &&
        load_viewer(c) == 0) {
        q.versions = ACCORD_VERSIONS_ALL;
        run_page(c, &q, 'v', "versions", 1);
    }
    query_free(&q);
}

static void h_object_delete(call *c)
{
    query q = {0};
    if (load_collection(c, 'w') || object_query(c, &q, "version,spec_version") ||
        load_viewer(c)) {
        query_free(&q);
        return;
    }
    accord_scan_filter f;
    filter_from_query(c, &q, &f);
    if (!q.versions)
        f.versions = ACCORD_VERSIONS_ALL; /* a DELETE without match[version] removes them all */
    int64_t removed = 0;
    accord_error err;
    pthread_mutex_lock(c->ctx->writer_lock);
    int rc = accord_collection_delete_object(c->ctx->writer, c->coll.id, c->a.object, &f, &removed,
                                             &err);
    pthread_mutex_unlock(c->ctx->writer_lock);
    query_free(&q);
    if (rc) {
        fail(c, 500, "Store error", "%s", err.msg);
        return;
    }
    if (!removed) {
        fail(c, 404, "Not found", "collection %s has no object %.200s matching the filter",
             c->coll.id, c->a.object);
        return;
    }
    c->rs->status = 200;
    c->rs->content_type = NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* POST objects and status                                                                     */

typedef struct post_ctx {
    buf ok, bad;
    uint64_t n_ok, n_bad;
} post_ctx;

static void post_ok(void *ud, const char *id, const char *modified, int written)
{
    post_ctx *p = ud;
    (void)written;
    buf_adds(&p->ok, p->n_ok++ ? ",{\"id\":" : "{\"id\":");
    buf_json_str(&p->ok, id);
    if (*modified) {
        buf_adds(&p->ok, ",\"version\":");
        buf_json_str(&p->ok, modified);
    }
    buf_adds(&p->ok, "}");
}

static void post_bad(void *ud, const accord_reject *r)
{
    post_ctx *p = ud;
    buf_adds(&p->bad, p->n_bad++ ? ",{" : "{");
    if (r->id) {
        buf_adds(&p->bad, "\"id\":");
        buf_json_str(&p->bad, r->id);
        buf_adds(&p->bad, ",");
    }
    buf_adds(&p->bad, "\"message\":");
    buf_json_str(&p->bad, r->message);
    buf_adds(&p->bad, "}");
}

/* What the status of a POST is written from, inside the import's transaction. */
typedef struct post_status {
    call *c;
    post_ctx *p;
    const char *sid, *ts;
} post_status;

/*
 * The import's before_commit hook: the 202 response (the status resource, complete) and its row
 * in the statuses table, in the transaction that commits the objects it reports, so a status is
 * kept exactly when its objects are and a POST costs one commit.
 */
static int post_status_write(void *ud, accord_store *s, accord_error *err)
{
    post_status *ps = ud;
    call *c = ps->c;
    post_ctx *p = ps->p;
    buf *b = &c->rs->body;
    ok(c, 202);
    buf_adds(b, "{\"id\":");
    buf_json_str(b, ps->sid);
    buf_printf(b,
               ",\"status\":\"complete\",\"request_timestamp\":\"%s\",\"total_count\":%llu,"
               "\"success_count\":%llu,\"failure_count\":%llu,\"pending_count\":0",
               ps->ts, (unsigned long long)(p->n_ok + p->n_bad), (unsigned long long)p->n_ok,
               (unsigned long long)p->n_bad);
    if (p->n_ok)
        buf_printf(b, ",\"successes\":[%s]", p->ok.p);
    if (p->n_bad)
        buf_printf(b, ",\"failures\":[%s]", p->bad.p);
    buf_adds(b, "}");
    if (b->failed || p->ok.failed || p->bad.failed)
        return accord_err_set(err, ACCORD_ENOMEM, "out of memory writing the status");
    return store_status_add(s, ps->sid, c->a.root, c->who.account, b->p, b->len, err);
}

/* 400 for a body whose skeleton is broken (why: the reader's message). */
static void bad_envelope(call *c, const char *why)
{
    fail(c, 400, "Bad envelope", "the body is not a TAXII envelope: %s", why);
}

/* Writes the body to a memory file and, unless `checked_later`, checks its skeleton; the fd or
 * -1 after a failure (answered). */
static int body_fd(call *c, int checked_later)
{
    const taxii_request *rq = c->rq;
    size_t i = 0;
    while (i < rq->body_len && strchr(" \t\r\n", rq->body[i]))
        i++;
    if (i == rq->body_len || rq->body[i] != '{') {
        fail(c, 400, "Bad envelope", "the body must be a TAXII envelope: {\"objects\": [...]}");
        return -1;
    }
    int fd = memfd_create("taxii-post", MFD_CLOEXEC);
    if (fd < 0 || write(fd, rq->body, rq->body_len) != (ssize_t)rq->body_len) {
        if (fd >= 0)
            close(fd);
        fail(c, 500, "Server error", "cannot buffer the request body");
        return -1;
    }
    uint64_t n;
    accord_error err;
    lseek(fd, 0, SEEK_SET);
    if (!checked_later && import_check_skeleton(fd, &n, &err)) {
        close(fd);
        bad_envelope(c, err.msg);
        return -1;
    }
    lseek(fd, 0, SEEK_SET);
    return fd;
}

/* taxii_post_stats: what POSTs cost so far */
static _Atomic uint64_t post_posts, post_objects, post_prep_cpu, post_held, post_held_cpu,
    post_held_sys;

/* The calling thread's system CPU time so far, in nanoseconds. */
static uint64_t thread_sys_ns(void)
{
    struct rusage ru;
    getrusage(RUSAGE_THREAD, &ru);
    return (uint64_t)ru.ru_stime.tv_sec * 1000000000u + (uint64_t)ru.ru_stime.tv_usec * 1000u;
}

static uint64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void taxii_post_stats_get(taxii_post_stats *out)
{
    out->posts = atomic_load(&post_posts);
    out->objects = atomic_load(&post_objects);
    out->prep_cpu_ns = atomic_load(&post_prep_cpu);
    out->held_ns = atomic_load(&post_held);
    out->held_cpu_ns = atomic_load(&post_held_cpu);
    out->held_sys_ns = atomic_load(&post_held_sys);
}

static void h_objects_post(call *c)
{
    if (load_collection(c, 'w'))
        return;
    if (!taxii_is_taxii_json(c->rq->content_type)) {
        fail(c, 415, "Unsupported media type", "POST bodies must be " TAXII_MEDIA ", not %.100s",
             c->rq->content_type ? c->rq->content_type : "(none)");
        return;
    }
    if (c->rq->body_too_large || (int64_t)c->rq->body_len > c->max_content_length) {
        fail(c, 413, "Request too large", "the body exceeds max_content_length (%lld)",
             (long long)c->max_content_length);
        return;
    }
    /* parsing, validation, canonical forms and signature checks need no writer: done here, so
     * that concurrent POSTs use every core and only the storing waits for the lock; the
     * preparation reads the whole body, so it finds a broken skeleton too */
    int prepare = c->rq->body_len <= PREPARE_MAX_BODY, bad = 0;
    uint64_t cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    int fd = body_fd(c, prepare);
    if (fd < 0)
        return;
    import_prep *prep = NULL;
    accord_error perr;
    if (prepare && import_prepare(c->reader, fd, NULL, &prep, &perr) == 0) {
        bad = import_prep_stream_ok(prep, &perr) != 0;
    } else if (prepare) { /* out of memory: the import reads the body itself, checked first */
        uint64_t n;
        lseek(fd, 0, SEEK_SET);
        bad = import_check_skeleton(fd, &n, &perr) != 0;
        lseek(fd, 0, SEEK_SET);
    }
    if (bad) {
        import_prep_free(prep);
        close(fd);
        bad_envelope(c, perr.msg);
        return;
    }
    char sid[37], ts[40];
    uuid4_make(sid);
    fmt_added(accord_timestamp_now(), ts, sizeof(ts));
    post_ctx p;
    memset(&p, 0, sizeof(p));
    buf_init(&p.ok, 0);
    buf_init(&p.bad, 0);
    /* a conflict's audit record names who sent the other copy: the account a peer pushes as */
    char source[120];
    snprintf(source, sizeof(source), "TAXII POST by account %s", c->who.account);
    accord_import_options o = {.source = source,
                               .collection = c->coll.id,
                               .on_object = post_ok,
                               .on_reject = post_bad,
                               .ud = &p};
    accord_import_stats st = {0};
    accord_error err;
    int sign = 0;
    uint64_t cpu1 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    pthread_mutex_lock(c->ctx->writer_lock);
    uint64_t held0 = clock_ns(CLOCK_MONOTONIC), held_cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID),
             held_sys0 = thread_sys_ns();
    /* a collection that signs: this node's organisation signs each object in the transaction
     * that stores it (import.c); without the key nothing is stored */
    int rc = accord_collection_sign_get(c->ctx->writer, c->coll.id, &sign, &err);
    if (!rc && sign && !c->ctx->data_dir) {
        rc = ACCORD_EINVAL;
        snprintf(err.msg, sizeof(err.msg), "collection %s signs, and no key is at hand",
                 c->coll.id);
    }
    if (!rc && sign) {
        o.flags |= ACCORD_IMPORT_SIGN;
        o.data_dir = c->ctx->data_dir;
    }
    if (rc) {
        pthread_mutex_unlock(c->ctx->writer_lock);
        close(fd);
        import_prep_free(prep);
        buf_free(&p.ok);
        buf_free(&p.bad);
        fail(c, 500, "Store error", "%s", err.msg);
        return;
    }
    post_status ps = {.c = c, .p = &p, .sid = sid, .ts = ts};
    import_hooks h = {.before_commit = post_status_write, .ud = &ps};
    rc = import_fd_hooked(c->ctx->writer, prep, fd, &o, &h, &st, &err);
    import_prep_free(prep);
    close(fd);
    buf_free(&p.ok);
    buf_free(&p.bad);
    if (c->ctx->on_ingest)
        c->ctx->on_ingest(c->ctx->ud, st.accepted + st.versions);
    atomic_fetch_add(&post_held_cpu, clock_ns(CLOCK_THREAD_CPUTIME_ID) - held_cpu0);
    atomic_fetch_add(&post_held, clock_ns(CLOCK_MONOTONIC) - held0);
    atomic_fetch_add(&post_held_sys, thread_sys_ns() - held_sys0);
    pthread_mutex_unlock(c->ctx->writer_lock);
    atomic_fetch_add(&post_posts, 1);
    atomic_fetch_add(&post_objects, st.accepted + st.versions + st.duplicates);
    atomic_fetch_add(&post_prep_cpu, cpu1 - cpu0);
    /* the writer leaves WAL checkpoints to others (store_wal_defer): this thread copies the WAL
     * into the database on its own handle, outside the lock, while the writer goes on */
    if (store_wal_frames(c->ctx->writer) >= STORE_WAL_CHECKPOINT)
        store_wal_checkpoint(c->reader);
    if (rc && rc != ACCORD_ESTIX)
        fail(c, 500, "Store error", "%s", err.msg);
}

static int status_body(void *ud, const char *account, const char *json, size_t len)
{
    call *c = ud;
    if (!c->who.is_admin && (!account || strcmp(account, c->who.account) != 0)) {
        fail(c, 404, "Unknown status", "there is no status %.64s", c->a.id);
        return 1;
    }
    ok(c, 200);
    buf_add(&c->rs->body, json, len);
    return 0;
}

static void h_status(call *c)
{
    if (load_root(c, 0))
        return;
    accord_error err;
    int rc = accord_status_get(c->reader, c->a.id, c->a.root, status_body, c, &err);
    if (rc == ACCORD_ENOTFOUND)
        fail(c, 404, "Unknown status", "there is no status %.64s", c->a.id);
    else if (rc < 0)
        fail(c, 500, "Store error", "%s", err.msg);
}

/* ------------------------------------------------------------------------------------------ */

void taxii_handle(const taxii_ctx *ctx, accord_store *reader, const taxii_request *rq,
                  taxii_response *rs)
{
    call c;
    memset(&c, 0, sizeof(c));
    c.ctx = ctx;
    c.reader = reader;
    c.rq = rq;
    c.rs = rs;
    const struct route *r = route_find(rq->path ? rq->path : "", &c.a);
    rs->endpoint = r ? r->name : "unknown";
    if (!r) {
        fail(&c, 404, "Not found", "no TAXII endpoint at %.200s", rq->path);
        return;
    }
    handler h = strcmp(rq->method, "GET") == 0      ? r->get
                : strcmp(rq->method, "POST") == 0   ? r->post
                : strcmp(rq->method, "DELETE") == 0 ? r->del
                                                    : NULL;
    if (!h) {
        snprintf(rs->allow, sizeof(rs->allow), "%s%s%s", r->get ? "GET" : "",
                 r->post ? ", POST" : "", r->del ? ", DELETE" : "");
        fail(&c, 405, "Method not allowed", "%.16s is not allowed on %s (allowed: %s)", rq->method,
             r->name, rs->allow);
        return;
    }
    if (!taxii_accepts(rq->accept)) {
        fail(&c, 406, "Not acceptable",
             "this server answers " TAXII_MEDIA "; the Accept header asked for %.200s", rq->accept);
        return;
    }
    int rc = ctx->authenticate(ctx->ud, reader, rq, &c.who);
    if (rc == ACCORD_EBUSY) {
        fail(&c, 429, "Too many failed logins", "try again in %lld s",
             (long long)c.who.retry_after_s);
        rs->retry_after_s = c.who.retry_after_s > 0 ? c.who.retry_after_s : 1;
        return;
    }
    if (rc && rc != ACCORD_EINVAL) {
        fail(&c, 500, "Server error", "the account store failed: %s", accord_strerror(rc));
        return;
    }
    if (rc) {
        fail(&c, 401, "Unauthorized", "valid credentials are required (Basic or Bearer)");
        rs->www_authenticate = 1;
        return;
    }
    h(&c);
    accord_viewer_free(c.viewer);
}
