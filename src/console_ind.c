/*
 * console_ind.c - the web console's indicators page: a filtered, keyset-paginated list and bulk
 * revoke / extend with a preview (see console_ind.h).
 *
 * A preview answers the count and a token "MAXSEQ.DIGEST": the newest seq stored when it ran and
 * a hash of the seqs it selected.  The apply selects again inside its write transaction, among
 * versions up to MAXSEQ only (so indicators stored since are never touched), and changes nothing
 * unless the digest is the same (409 otherwise: a selected indicator got a new version or was
 * revoked meanwhile).  It therefore changes exactly the rows the preview counted, or none.  New
 * versions go through the import pipeline into every collection the old version is in, so TAXII
 * clients see them like any other new version; one transaction with an audit record.
 */
#include "console_ind.h"
#include "console_api.h"
#include "import.h"
#include "store.h"
#include "store_console.h"
#include "tlp.h"
#include "util/json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BULK_BODY_MAX ((size_t)64 * 1024)
#define BULK_ROWS_MAX 100000
#define BULK_COLLS_MAX 16
#define STOP 1

/* ------------------------------------------------------------------------------------------ */
/* Filters                                                                                      */

typedef const char *(*getter)(const void *src, const char *key);

static const char *query_get(const void *src, const char *key)
{
    return api_param(src, key);
}

static const char *json_get(const void *src, const char *key)
{
    return src ? ajson_str(ajson_get(src, key)) : NULL;
}

static int tlp_parse(const char *s)
{
    static const char *const names[] = {"clear", "green", "amber", "amber+strict", "red"};
    for (int i = 0; i < 5; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

/* The filters of f from get(src, key); 0, or answered 400. */
static int filter_of(api_call *c, getter get, const void *src, store_ind_sel *f)
{
    const char *t = get(src, "type"), *tlp = get(src, "tlp"), *by = get(src, "source");
    const char *vb = get(src, "valid_until_before"), *va = get(src, "valid_until_after");
    const char *hs = get(src, "has_sightings"), *rv = get(src, "revoked");
    const char *sort = get(src, "sort");
    f->obs_type = t && *t ? t : NULL;
    f->source = by && *by ? by : NULL;
    f->tlp = -2;
    f->has_sightings = f->revoked = -1;
    if (f->obs_type &&
        strspn(f->obs_type, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(f->obs_type)) {
        api_fail(c, 400, "Bad filter", "type: an observable type such as ipv4-addr expected");
        return -1;
    }
    if (tlp && *tlp && (f->tlp = tlp_parse(tlp)) < 0) {
        api_fail(c, 400, "Bad filter", "tlp: clear, green, amber, amber+strict or red expected");
        return -1;
    }
    if ((vb && *vb && accord_timestamp_parse(vb, &f->vu_before)) ||
        (va && *va && accord_timestamp_parse(va, &f->vu_after))) {
        api_fail(c, 400, "Bad filter", "valid_until_before/after: a timestamp expected");
        return -1;
    }
    const char *bools[] = {hs, rv};
    int *outs[] = {&f->has_sightings, &f->revoked};
    for (int i = 0; i < 2; i++) {
        if (!bools[i] || !*bools[i])
            continue;
        if (strcmp(bools[i], "true") && strcmp(bools[i], "false")) {
            api_fail(c, 400, "Bad filter", "%s: true or false expected",
                     i ? "revoked" : "has_sightings");
            return -1;
        }
        *outs[i] = strcmp(bools[i], "true") == 0;
    }
    if (sort && *sort && strcmp(sort, "added") && strcmp(sort, "last_sighting")) {
        api_fail(c, 400, "Bad sort", "sort: added or last_sighting expected");
        return -1;
    }
    f->by_last_sighting = sort && strcmp(sort, "last_sighting") == 0;
    f->dflt = ACCORD_TLP_AMBER;
    accord_error err;
    accord_tlp_default_get(c->reader, &f->dflt, &err);
    return 0;
}

/* "LAST.SEQ" */
static int cursor_of(const char *s, int64_t *last, int64_t *seq)
{
    char *end;
    errno = 0;
    long long a = strtoll(s, &end, 10);
    if (errno || end == s || *end != '.' || a < 0)
        return -1;
    const char *p = end + 1;
    long long b = strtoll(p, &end, 10);
    if (errno || end == p || *end || b < 1)
        return -1;
    *last = a;
    *seq = b;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* The list                                                                                     */

/* A viewer's page reads at most this many indicators it may not see before it answers with
 * what it found and a cursor, so that a page's work stays bounded whatever the clearance. */
#define LIST_SCAN_MAX 5000

typedef struct list_ctx {
    api_call *c;
    accord_viewer *v;
    int dflt, limit, rows, more, hidden;
    int64_t last, seq;
} list_ctx;

static int seen_cb(void *ud, const accord_record *rec)
{
    (void)rec;
    *(int *)ud = 1;
    return 0;
}

/* The pattern's first observable type: "[ipv4-addr:value = ...]" -> "ipv4-addr", the text
 * between the first '[' and the next ':' less spaces, as the type filter reads it
 * (STORE_IND_TYPE); "" when there is none. */
static void obs_type_of(const char *pattern, char *out, size_t cap)
{
    const char *p = pattern ? strchr(pattern, '[') : NULL;
    const char *e = p ? strchr(p + 1, ':') : NULL;
    if (!e) {
        snprintf(out, cap, "%s", "");
        return;
    }
    for (p++; p < e && *p == ' '; p++)
        ;
    while (e > p && e[-1] == ' ')
        e--;
    size_t n = (size_t)(e - p);
    snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), p);
}

static int list_cb(void *ud, const store_ind_row *r)
{
    list_ctx *x = ud;
    if (x->v) { /* the viewer's clearance, exactly as for TAXII */
        int seen = 0;
        accord_error err;
        accord_store_get_as(x->c->reader, x->v, r->id, 0, seen_cb, &seen, &err);
        if (!seen && ++x->hidden < LIST_SCAN_MAX)
            return 0;
        if (!seen) { /* the next page goes on after this row */
            x->more = 1;
            x->last = r->last_sighting;
            x->seq = r->seq;
            return STOP;
        }
    }
    if (x->rows == x->limit) {
        x->more = 1;
        return STOP;
    }
    buf *b = &x->c->rs->body;
    char type[64];
    obs_type_of(r->pattern, type, sizeof(type));
    buf_adds(b, x->rows ? ",{\"id\":" : "{\"id\":");
    buf_json_str(b, r->id);
    buf_adds(b, ",\"modified\":");
    console_json_str_or_null(b, r->modified);
    buf_adds(b, ",\"type\":");
    buf_json_str(b, type);
    buf_adds(b, ",\"name\":");
    console_json_str_or_null(b, r->name);
    buf_adds(b, ",\"pattern\":");
    console_json_str_or_null(b, r->pattern);
    buf_adds(b, ",\"source\":");
    console_json_str_or_null(b, r->source);
    buf_printf(b, ",\"tlp\":\"%s\",\"revoked\":%s,\"valid_until\":",
               tlp_level_name(tlp_effective(r->tlp, x->dflt)), r->revoked ? "true" : "false");
    console_json_time_or_null(b, r->valid_until);
    /* the sighting figures count sightings whatever their TLP: for unrestricted callers only */
    if (x->v) {
        buf_adds(b, ",\"sightings\":null,\"last_sighting\":null");
    } else {
        buf_printf(b, ",\"sightings\":%lld,\"last_sighting\":", (long long)r->sightings);
        console_json_time_or_null(b, r->last_sighting);
    }
    buf_printf(b, ",\"seq\":%lld}", (long long)r->seq);
    x->rows++;
    x->last = r->last_sighting;
    x->seq = r->seq;
    return 0;
}

static void ind_list(api_call *c)
{
    store_ind_sel f = {0};
    list_ctx x = {.c = c};
    const char *after = api_param(c, "after");
    if (filter_of(c, query_get, c, &f) || console_limit(c, &x.limit))
        return;
    if (after && cursor_of(after, &f.cur_last, &f.cur_seq)) {
        api_fail(c, 400, "Bad cursor", "after: expected the \"next\" of a previous page");
        return;
    }
    x.dflt = f.dflt;
    if (!c->who.is_admin && (f.has_sightings != -1 || f.by_last_sighting)) {
        api_fail(c, 403, "Forbidden",
                 "sighting filters and sort count sightings of every TLP: "
                 "admins only");
        return;
    }
    if (!c->who.is_admin) {
        accord_error err = {0};
        if (accord_viewer_open(c->reader, c->who.account, &x.v, &err)) {
            api_fail(c, 500, "Store error", "the caller's clearance: %s", err.msg);
            return;
        }
    }
    buf *b = &c->rs->body;
    buf_adds(b, "{\"rows\":[");
    accord_error err = {0};
    int rc = store_ind_select(c->reader, &f, list_cb, &x, &err);
    accord_viewer_free(x.v);
    if (rc && rc != STOP) {
        api_fail(c, 500, "Store error", "%s", err.msg);
        return;
    }
    if (x.more)
        buf_printf(b, "],\"next\":\"%lld.%lld\"}", (long long)x.last, (long long)x.seq);
    else
        buf_adds(b, "],\"next\":null}");
    c->rs->status = 200;
    c->rs->content_type = API_JSON;
    if (b->failed)
        api_fail(c, 500, "Response too large", "ask for a smaller limit");
}

/* ------------------------------------------------------------------------------------------ */
/* Bulk changes                                                                                 */

typedef struct sel_ctx {
    int64_t *seqs;
    size_t n;
    int over;
} sel_ctx;

static int sel_cb(void *ud, const store_ind_row *r)
{
    sel_ctx *x = ud;
    if (x->n == BULK_ROWS_MAX) {
        x->over = 1;
        return STOP;
    }
    x->seqs[x->n++] = r->seq;
    return 0;
}

/* The selection of f on s into x; its digest. 0, or answered. */
static int select_all(api_call *c, accord_store *s, const store_ind_sel *f, sel_ctx *x,
                      uint64_t *digest)
{
    accord_error err = {0};
    int rc = store_ind_select(s, f, sel_cb, x, &err);
    if (x->over) {
        api_fail(c, 413, "Selection too large",
                 "at most %d indicators per bulk change; narrow "
                 "the filters",
                 BULK_ROWS_MAX);
        return -1;
    }
    if (rc) {
        api_fail(c, 500, "Store error", "%s", err.msg);
        return -1;
    }
    *digest = store_content_hash(x->seqs, x->n * sizeof(x->seqs[0]));
    return 0;
}

typedef struct bulk_req {
    ajson_arena a;
    const ajson_value *doc;
    int revoke;          /* else extend */
    int64_t valid_until; /* extend: the new valid_until */
    int64_t max_seq;     /* apply: from the token */
    uint64_t digest;
    store_ind_sel f;
} bulk_req;

/* Parses the body {"action","valid_until","filter":{...},"token"}; 0, or answered 400. */
static int bulk_parse(api_call *c, bulk_req *q, int apply)
{
    if (c->rq->body_too_large || c->rq->body_len > BULK_BODY_MAX) {
        api_fail(c, 413, "Body too large", "at most %zu bytes", BULK_BODY_MAX);
        return -1;
    }
    ajson_error je;
    q->doc = ajson_parse(&q->a, c->rq->body, c->rq->body_len, &je);
    if (!q->doc || q->doc->type != AJSON_OBJECT) {
        api_fail(c, 400, "Invalid JSON", "body, byte %zu: %s", je.offset,
                 q->doc ? "an object expected" : je.msg);
        return -1;
    }
    const char *action = ajson_str(ajson_get(q->doc, "action"));
    if (!action || (strcmp(action, "revoke") && strcmp(action, "extend"))) {
        api_fail(c, 400, "Bad action", "body.action: \"revoke\" or \"extend\" expected");
        return -1;
    }
    q->revoke = strcmp(action, "revoke") == 0;
    const char *vu = ajson_str(ajson_get(q->doc, "valid_until"));
    if (!q->revoke && (!vu || accord_timestamp_parse(vu, &q->valid_until))) {
        api_fail(c, 400, "Bad valid_until", "body.valid_until: a timestamp expected to extend");
        return -1;
    }
    const ajson_value *filter = ajson_get(q->doc, "filter");
    if (filter && filter->type != AJSON_OBJECT) {
        api_fail(c, 400, "Bad filter", "body.filter: an object of strings expected");
        return -1;
    }
    if (filter_of(c, json_get, filter, &q->f))
        return -1;
    q->f.by_last_sighting = 0; /* the digest is over seqs in one fixed order */
    q->f.no_source = 1;        /* only the seqs count */
    if (q->revoke)
        q->f.revoked = 0;
    else
        q->f.extend_to = q->valid_until;
    if (apply) {
        const char *tok = ajson_str(ajson_get(q->doc, "token"));
        char *end;
        unsigned long long d;
        errno = 0;
        long long m = tok ? strtoll(tok, &end, 10) : 0;
        if (!tok || errno || m < 1 || *end != '.' ||
            (d = strtoull(end + 1, &end, 16), errno || *end)) {
            api_fail(c, 400, "Bad token", "body.token: the token of a preview expected");
            return -1;
        }
        q->max_seq = m;
        q->digest = d;
        q->f.max_seq = m;
    }
    return 0;
}

static int64_t newest_seq(accord_store *s)
{
    accord_store_stats st;
    accord_error err;
    accord_store_stats_light(s, &st, &err);
    return st.versions;
}

static void bulk_preview(api_call *c)
{
    bulk_req q = {0};
    sel_ctx x = {0};
    ajson_arena_init(&q.a, 8 * BULK_BODY_MAX);
    /* the snapshot bound first: the selection may only be larger than what seq <= it gives */
    int64_t max = newest_seq(c->reader);
    if (bulk_parse(c, &q, 0))
        goto out;
    q.f.max_seq = max;
    if (!(x.seqs = malloc(BULK_ROWS_MAX * sizeof(*x.seqs)))) {
        api_fail(c, 500, "Out of memory", "bulk preview");
        goto out;
    }
    uint64_t digest;
    if (select_all(c, c->reader, &q.f, &x, &digest))
        goto out;
    c->rs->status = 200;
    c->rs->content_type = API_JSON;
    buf_printf(&c->rs->body, "{\"action\":\"%s\",\"count\":%zu,\"token\":\"%lld.%016llx\"}",
               q.revoke ? "revoke" : "extend", x.n, (long long)max, (unsigned long long)digest);
out:
    free(x.seqs);
    ajson_arena_free(&q.a);
}

/* Replaces [at, at+len) of *body with rep (a new heap copy). */
static int splice(char **body, size_t *blen, size_t at, size_t len, const char *rep)
{
    size_t rl = strlen(rep), n = *blen - len + rl;
    char *p = malloc(n + 1);
    if (!p)
        return -1;
    memcpy(p, *body, at);
    memcpy(p + at, rep, rl);
    memcpy(p + at + rl, *body + at + len, *blen - at - len);
    p[n] = '\0';
    free(*body);
    *body = p;
    *blen = n;
    return 0;
}

/* The raw extent of top-level member key's value in body (a string or a literal). */
static int member_span(const char *body, const ajson_value *obj, const char *key, size_t *at,
                       size_t *len)
{
    const ajson_value *v = ajson_get(obj, key);
    if (!v)
        return 0;
    *at = v->offset;
    if (v->type == AJSON_STRING) {
        const char *q = body + v->offset + 1;
        while (*q && *q != '"')
            q += *q == '\\' ? 2 : 1;
        *len = (size_t)(q + 1 - (body + v->offset));
    } else {
        *len = v->type == AJSON_TRUE ? 4 : v->type == AJSON_FALSE ? 5 : 0;
        if (!*len)
            return -1;
    }
    return 1;
}

/* The next version of body: modified later, and revoked true or the new valid_until.  Edits go
 * from the end of the text backwards so offsets stay valid. */
static int next_version(const bulk_req *q, char **body, size_t *blen, accord_error *err)
{
    ajson_arena a;
    ajson_arena_init(&a, 8 * *blen + 4096);
    ajson_error je;
    const ajson_value *o = ajson_parse(&a, *body, *blen, &je);
    int rc = 0;
    size_t mat, mlen, cat = 0, clen = 0;
    int64_t old = 0, now = accord_timestamp_now();
    const char *mod = o ? ajson_str(ajson_get(o, "modified")) : NULL;
    if (!mod || accord_timestamp_parse(mod, &old) ||
        member_span(*body, o, "modified", &mat, &mlen) != 1) {
        ajson_arena_free(&a);
        return accord_err_set(err, ACCORD_ESTIX, "a stored indicator without a readable modified");
    }
    char ts[40], rep[80];
    accord_timestamp_format(now > old ? now : old + 1, ts, sizeof(ts));
    const char *key = q->revoke ? "revoked" : "valid_until";
    char val[48];
    if (q->revoke) {
        snprintf(val, sizeof(val), "true");
    } else {
        char t[40];
        accord_timestamp_format(q->valid_until, t, sizeof(t));
        snprintf(val, sizeof(val), "\"%s\"", t);
    }
    int has = member_span(*body, o, key, &cat, &clen);
    ajson_arena_free(&a);
    if (has < 0)
        return accord_err_set(err, ACCORD_ESTIX, "%s of a stored indicator is not a literal", key);
    /* two edits: the later one in the text first */
    size_t eat = has ? cat : *blen - 1, elen = has ? clen : 0;
    char ins[96];
    if (has)
        snprintf(ins, sizeof(ins), "%s", val);
    else
        snprintf(ins, sizeof(ins), ",\"%s\":%s", key, val);
    snprintf(rep, sizeof(rep), "\"%s\"", ts);
    if (eat > mat)
        rc = splice(body, blen, eat, elen, ins) || splice(body, blen, mat, mlen, rep);
    else
        rc = splice(body, blen, mat, mlen, rep) || splice(body, blen, eat, elen, ins);
    return rc ? accord_err_set(err, ACCORD_ENOMEM, "bulk change: out of memory") : 0;
}

/* The bundles of new versions, one per collection (NULL id: the default one). */
typedef struct bundles {
    size_t n;
    char *coll[BULK_COLLS_MAX];
    buf b[BULK_COLLS_MAX];
    const char *body;
    size_t nbody;
    int over;
} bundles;

static int add_to(bundles *bs, const char *coll)
{
    size_t i = 0;
    while (i < bs->n &&
           !((!coll && !bs->coll[i]) || (coll && bs->coll[i] && strcmp(coll, bs->coll[i]) == 0)))
        i++;
    if (i == bs->n) {
        if (bs->n == BULK_COLLS_MAX) {
            bs->over = 1;
            return STOP;
        }
        bs->coll[i] = coll ? strdup(coll) : NULL;
        buf_init(&bs->b[i], 0);
        buf_adds(&bs->b[i], "[");
        bs->n++;
    }
    if (bs->b[i].len > 1)
        buf_adds(&bs->b[i], ",");
    buf_add(&bs->b[i], bs->body, bs->nbody);
    return 0;
}

static int coll_cb(void *ud, const char *coll)
{
    return add_to(ud, coll);
}

static int import_bundle(accord_store *s, const char *coll, buf *b, accord_error *err)
{
    buf_adds(b, "]");
    if (b->failed)
        return accord_err_set(err, ACCORD_ENOMEM, "bulk change: out of memory");
    FILE *f = tmpfile();
    if (!f)
        return accord_err_set(err, ACCORD_EIO, "bulk change: no temporary file");
    int fd = fileno(f), rc = 0;
    if (write(fd, b->p, b->len) != (ssize_t)b->len || lseek(fd, 0, SEEK_SET) != 0)
        rc = accord_err_set(err, ACCORD_EIO, "bulk change: writing the new versions failed");
    accord_import_options o = {
        .flags = ACCORD_IMPORT_STRICT, .source = "console bulk change", .collection = coll};
    accord_import_stats st;
    if (!rc)
        rc = import_fd_in_txn(s, fd, &o, &st, err);
    fclose(f);
    return rc;
}

static void bulk_apply(api_call *c)
{
    bulk_req q = {0};
    sel_ctx x = {0};
    bundles bs = {0};
    ajson_arena_init(&q.a, 8 * BULK_BODY_MAX);
    if (bulk_parse(c, &q, 1))
        goto out;
    if (!(x.seqs = malloc(BULK_ROWS_MAX * sizeof(*x.seqs)))) {
        api_fail(c, 500, "Out of memory", "bulk change");
        goto out;
    }
    accord_store *s = c->ctx->writer;
    accord_error err = {0};
    pthread_mutex_lock(c->ctx->writer_lock);
    int rc = store_begin(s, &err);
    if (rc) {
        pthread_mutex_unlock(c->ctx->writer_lock);
        api_fail(c, 503, "Store busy", "%s", err.msg);
        goto out;
    }
    uint64_t digest;
    if (select_all(c, s, &q.f, &x, &digest)) {
        store_rollback(s);
        pthread_mutex_unlock(c->ctx->writer_lock);
        goto out;
    }
    if (digest != q.digest) {
        store_rollback(s);
        pthread_mutex_unlock(c->ctx->writer_lock);
        api_fail(c, 409, "Selection changed",
                 "the indicators selected changed since the preview "
                 "(a new version or a revocation): nothing was changed; preview again");
        goto out;
    }
    for (size_t i = 0; i < x.n && !rc; i++) {
        char *body = NULL;
        size_t blen = 0;
        rc = store_body_get(s, x.seqs[i], &body, &blen, &err);
        if (!rc)
            rc = next_version(&q, &body, &blen, &err);
        if (!rc) {
            bs.body = body;
            bs.nbody = blen;
            size_t before = bs.n;
            size_t lens[BULK_COLLS_MAX];
            for (size_t k = 0; k < bs.n; k++)
                lens[k] = bs.b[k].len;
            rc = store_seq_collections(s, x.seqs[i], coll_cb, &bs, &err);
            int added = bs.n > before;
            for (size_t k = 0; k < before && !added; k++)
                added = bs.b[k].len != lens[k];
            if (!rc && !added) /* in no collection: the default one */
                rc = add_to(&bs, NULL);
            if (bs.over)
                rc = accord_err_set(&err, ACCORD_ELIMIT,
                                    "the selection spans more than %d "
                                    "collections",
                                    BULK_COLLS_MAX);
        }
        free(body);
    }
    for (size_t k = 0; k < bs.n && !rc; k++)
        rc = import_bundle(s, bs.coll[k], &bs.b[k], &err);
    char detail[512];
    snprintf(detail, sizeof(detail), "%s %zu indicators%s%s by %s",
             q.revoke ? "revoked" : "extended", x.n, q.revoke ? "" : " to ",
             q.revoke ? "" : ajson_str(ajson_get(q.doc, "valid_until")), c->who.account);
    if (!rc)
        rc = store_audit(s, q.revoke ? "console-bulk-revoke" : "console-bulk-extend", 0, NULL,
                         detail, &err);
    if (!rc)
        rc = store_commit(s, &err);
    else
        store_rollback(s);
    pthread_mutex_unlock(c->ctx->writer_lock);
    if (rc) {
        api_fail(c, 500, "Bulk change failed", "nothing was changed: %s", err.msg);
        goto out;
    }
    c->rs->status = 200;
    c->rs->content_type = API_JSON;
    buf_printf(&c->rs->body, "{\"action\":\"%s\",\"changed\":%zu}", q.revoke ? "revoke" : "extend",
               x.n);
out:
    for (size_t k = 0; k < bs.n; k++) {
        free(bs.coll[k]);
        buf_free(&bs.b[k]);
    }
    free(x.seqs);
    ajson_arena_free(&q.a);
}

void console_indicators(api_call *c)
{
    const char *m = c->rq->method;
    if (!*c->rest) {
        if (strcmp(m, "GET") && strcmp(m, "HEAD")) {
            snprintf(c->rs->allow, sizeof(c->rs->allow), "GET");
            api_fail(c, 405, "Method not allowed", "GET");
            return;
        }
        ind_list(c);
        return;
    }
    int preview = strcmp(c->rest, "bulk/preview") == 0, apply = strcmp(c->rest, "bulk") == 0;
    if (!preview && !apply) {
        api_fail(c, 404, "Not found", "no such resource");
        return;
    }
    if (strcmp(m, "POST")) {
        snprintf(c->rs->allow, sizeof(c->rs->allow), "POST");
        api_fail(c, 405, "Method not allowed", "POST");
        return;
    }
    if (!c->who.is_admin) {
        api_fail(c, 403, "Forbidden", "bulk changes to indicators need an admin account");
        return;
    }
    if (preview)
        bulk_preview(c);
    else
        bulk_apply(c);
}
