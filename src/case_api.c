/*
 * case_api.c - disclosure cases over HTTPS: /api/cases (see api.h for the route table).
 *
 *   GET  /api/cases[?after=N&limit=N]                   cases the caller may see, newest first
 *   POST /api/cases                                      open: {"title", "summary", "embargo",
 *                                                        "deadline", "coordinator", "role"}
 *   GET  /api/cases/ID                                   the case
 *   GET  /api/cases/ID/vendors[?after&limit&vendor]      vendors, products, statuses
 *   POST /api/cases/ID/vendors                           {"name", "account", "contact"}
 *   POST /api/cases/ID/participants                      {"account", "role", "vendor"}
 *   POST /api/cases/ID/products                          {"vendor", "name", "purl", "cpe",
 *                                                        "affected", "fixed"}
 *   POST /api/cases/ID/status                            {"vendor", "product", "status",
 *                                                        "statement"}
 *   GET  /api/cases/ID/messages[?after&limit&topic]      messages the caller may read
 *   POST /api/cases/ID/messages                          {"topic", "private_vendor", "body"}
 *   GET  /api/cases/ID/timeline[?after&limit]            events (participants)
 *   POST /api/cases/ID/fields                            {"field", "value"} (accord_case_set)
 *   POST /api/cases/ID/lift                              {"reason"}
 *   POST /api/cases/ID/publish                           publication (refused under embargo)
 *   GET  /api/cases/ID/csaf | osv | cve | stix           published documents (stix: the draft for
 *                                                        participants before publication)
 *
 * Every call runs on the server's writer handle under its lock: reads of unpublished cases write
 * audit records, and case traffic is small beside TAXII's.  Errors: 400 bad input, 403 a role
 * refusal, 404 no such case for this caller (also for an embargoed case it does not take part in:
 * the answer never tells an outsider that a case exists), 413 a body over 1 MiB.  The caller's
 * account is the actor; the opener is reporter unless an admin asks for "coordinator".
 *
 * Request bodies are parsed by case_api_body (pure, fuzzed by fuzz/case_api.c): a JSON object
 * whose members must all be known strings for the route.
 */
#include "case_api.h"
#include "case_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BODY_MAX (1u << 20)

/* The members a route's body may have. */
static const char *const open_keys[] = {"title",       "summary", "embargo", "deadline",
                                        "coordinator", "role",    NULL};
static const char *const vendor_keys[] = {"name", "account", "contact", NULL};
static const char *const part_keys[] = {"account", "role", "vendor", NULL};
static const char *const product_keys[] = {"vendor",   "name",  "purl", "cpe",
                                           "affected", "fixed", NULL};
static const char *const status_keys[] = {"vendor", "product", "status", "statement", NULL};
static const char *const msg_keys[] = {"topic", "private_vendor", "body", NULL};
static const char *const field_keys[] = {"field", "value", NULL};
static const char *const lift_keys[] = {"reason", NULL};

int case_api_body(const char *text, size_t len, const char *const *keys, const char **out,
                  ajson_arena *a, char *err, size_t errlen)
{
    size_t nkeys = 0;
    while (keys[nkeys])
        out[nkeys++] = NULL;
    if (len == 0)
        return 0;
    ajson_error je;
    const ajson_value *v = ajson_parse(a, text, len, &je);
    if (!v) {
        snprintf(err, errlen, "body: %s at byte %zu", je.msg, je.offset);
        return -1;
    }
    if (v->type != AJSON_OBJECT) {
        snprintf(err, errlen, "body: a JSON object expected, not %s", ajson_type_name(v->type));
        return -1;
    }
    for (size_t i = 0; i < v->len; i++) {
        const ajson_member *m = &v->u.members[i];
        size_t k = 0;
        while (k < nkeys && strcmp(keys[k], m->key) != 0)
            k++;
        if (k == nkeys) {
            snprintf(err, errlen, "body: unknown member \"%.64s\" (byte %u)", m->key,
                     m->value.offset);
            return -1;
        }
        if (m->value.type == AJSON_NULL)
            continue;
        if (m->value.type != AJSON_STRING) {
            snprintf(err, errlen, "body: member \"%s\" must be a string, not %s", m->key,
                     ajson_type_name(m->value.type));
            return -1;
        }
        out[k] = m->value.u.str;
    }
    return 0;
}

/* The status of a library error, by its code and, for EINVAL, whether it is a role refusal. */
static void fail_err(api_call *c, int rc, const accord_error *err)
{
    int status = rc == ACCORD_ENOTFOUND                                      ? 404
                 : rc == ACCORD_EINVAL && strstr(err->msg, CASE_NOT_ALLOWED) ? 403
                 : rc == ACCORD_EINVAL || rc == ACCORD_ELIMIT                ? 400
                 : rc == ACCORD_EBUSY                                        ? 503
                                                                             : 500;
    const char *title = status == 404   ? "Not found"
                        : status == 403 ? "Forbidden"
                        : status == 400 ? "Bad request"
                                        : "Server error";
    api_fail(c, status, title, "%s", err->msg);
}

/* Parses ?after and ?limit into pg; 0, or -1 after answering 400. */
static int page_params(api_call *c, accord_case_page *pg)
{
    const char *names[] = {"after", "limit"};
    for (int i = 0; i < 2; i++) {
        const char *v = api_param(c, names[i]);
        if (!v)
            continue;
        char *end;
        errno = 0;
        long long n = strtoll(v, &end, 10);
        if (errno || *end || !*v || n < 0 || (i == 1 && (n < 1 || n > ACCORD_CASE_PAGE_MAX))) {
            api_fail(c, 400, "Bad request", "%s must be %s", names[i],
                     i ? "1..500" : "a non-negative integer");
            return -1;
        }
        if (i)
            pg->limit = (unsigned)n;
        else
            pg->after = n;
    }
    pg->topic = api_param(c, "topic");
    pg->vendor = api_param(c, "vendor");
    return 0;
}

static void answer_json(api_call *c, int status, char *json)
{
    c->rs->status = status;
    c->rs->content_type = API_JSON;
    buf_adds(&c->rs->body, json);
    free(json);
}

static void answer_ok(api_call *c, int status, const char *extra)
{
    c->rs->status = status;
    c->rs->content_type = API_JSON;
    buf_adds(&c->rs->body, extra ? extra : "{\"ok\":true}");
}

/* The views a GET of /api/cases/ID/WHAT serves. */
static int view_of(const char *what)
{
    static const struct {
        const char *name;
        int view;
    } views[] = {{"", ACCORD_CASE_VIEW_CASE},
                 {"vendors", ACCORD_CASE_VIEW_VENDORS},
                 {"messages", ACCORD_CASE_VIEW_MESSAGES},
                 {"timeline", ACCORD_CASE_VIEW_TIMELINE},
                 {"csaf", ACCORD_CASE_VIEW_CSAF},
                 {"osv", ACCORD_CASE_VIEW_OSV},
                 {"stix", ACCORD_CASE_VIEW_STIX},
                 {"cve", ACCORD_CASE_VIEW_CVE}};
    for (size_t i = 0; i < sizeof(views) / sizeof(views[0]); i++)
        if (strcmp(views[i].name, what) == 0)
            return views[i].view;
    return -1;
}

/* Runs one POST on the writer; v holds the body members in the route's key order. */
static int post_action(api_call *c, accord_store *s, const char *id, const char *what,
                       const char **v, accord_error *err, int64_t *seq)
{
    const char *me = c->who.account;
    if (strcmp(what, "vendors") == 0)
        return accord_case_add_vendor(s, id, me, v[0], v[1], v[2], err);
    if (strcmp(what, "participants") == 0)
        return accord_case_add_participant(s, id, me, v[0], v[1], v[2], err);
    if (strcmp(what, "products") == 0) {
        accord_case_product p = {.vendor = v[0],
                                 .name = v[1],
                                 .purl = v[2],
                                 .cpe = v[3],
                                 .affected = v[4],
                                 .fixed = v[5]};
        return accord_case_add_product(s, id, me, &p, NULL, NULL, err);
    }
    if (strcmp(what, "status") == 0)
        return accord_case_status(s, id, me, v[0], v[1], v[2], v[3], err);
    if (strcmp(what, "messages") == 0)
        return accord_case_post(s, id, me, v[0], v[1], v[2], seq, err);
    if (strcmp(what, "fields") == 0)
        return accord_case_set(s, id, me, v[0], v[1], err);
    if (strcmp(what, "lift") == 0)
        return accord_case_lift(s, id, me, v[0], err);
    return accord_case_publish(s, id, me, err);
}

static const char *const *keys_of(const char *what)
{
    static const struct {
        const char *what;
        const char *const *keys;
    } routes[] = {{"vendors", vendor_keys}, {"participants", part_keys}, {"products", product_keys},
                  {"status", status_keys},  {"messages", msg_keys},      {"fields", field_keys},
                  {"lift", lift_keys},      {"publish", lift_keys + 1}};
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        if (strcmp(routes[i].what, what) == 0)
            return routes[i].keys;
    return NULL;
}

static void handle(api_call *c, accord_store *s, const char *id, const char *what, int post,
                   ajson_arena *a)
{
    accord_error err = {0};
    char *json = NULL;
    int rc;
    if (!post) {
        accord_case_page pg = {0};
        if (page_params(c, &pg))
            return;
        if (!id) {
            if ((rc = accord_case_list(s, c->who.account, &pg, &json, &err))) {
                fail_err(c, rc, &err);
                return;
            }
            {
                answer_json(c, 200, json);
                return;
            }
        }
        int view = view_of(what);
        if (view < 0) {
            api_fail(c, 404, "Not found", "no resource %s of a case", what);
            return;
        }
        if ((rc = accord_case_view(s, id, c->who.account, view, &pg, &json, &err))) {
            fail_err(c, rc, &err);
            return;
        }
        {
            answer_json(c, 200, json);
            return;
        }
    }
    const char *const *keys = id ? keys_of(what) : open_keys;
    if (!keys) {
        api_fail(c, 404, "Not found", "no action %s on a case", what);
        return;
    }
    const char *v[8];
    char perr[256];
    if (case_api_body(c->rq->body, c->rq->body_len, keys, v, a, perr, sizeof(perr))) {
        api_fail(c, 400, "Bad request", "%s", perr);
        return;
    }
    if (!id) {
        accord_case_spec spec = {.title = v[0],
                                 .summary = v[1],
                                 .embargo = v[2],
                                 .deadline = v[3],
                                 .coordinator = v[4],
                                 .role = v[5]};
        if (spec.role && strcmp(spec.role, "coordinator") == 0 && !c->who.is_admin) {
            api_fail(c, 403, "Forbidden", "only admins open cases as coordinator");
            return;
        }
        char out[ACCORD_CASE_ID_MAX], body[96];
        if ((rc = accord_case_open(s, c->who.account, &spec, out, &err))) {
            fail_err(c, rc, &err);
            return;
        }
        snprintf(body, sizeof(body), "{\"id\":\"%s\"}", out);
        {
            answer_ok(c, 201, body);
            return;
        }
    }
    int64_t seq = 0;
    if ((rc = post_action(c, s, id, what, v, &err, &seq))) {
        fail_err(c, rc, &err);
        return;
    }
    char body[64];
    snprintf(body, sizeof(body), "{\"ok\":true,\"seq\":%lld}", (long long)seq);
    answer_ok(c, strcmp(what, "messages") == 0 ? 201 : 200, seq ? body : NULL);
}

void case_api_handle(api_call *c)
{
    const char *m = c->rq->method;
    int post = strcmp(m, "POST") == 0;
    if (!post && strcmp(m, "GET") != 0) {
        snprintf(c->rs->allow, sizeof(c->rs->allow), "GET, POST");
        {
            api_fail(c, 405, "Method not allowed", "%s is not served here", m);
            return;
        }
    }
    if (c->rq->body_too_large || c->rq->body_len > BODY_MAX) {
        api_fail(c, 413, "Body too large", "case bodies are at most %u bytes", BODY_MAX);
        return;
    }
    /* rest: "" or "/" (the list), "/ID", "/ID/WHAT" */
    const char *rest = c->rest;
    while (*rest == '/')
        rest++;
    char id[ACCORD_CASE_ID_MAX] = "";
    const char *slash = strchr(rest, '/');
    size_t idlen = slash ? (size_t)(slash - rest) : strlen(rest);
    if (idlen >= sizeof(id)) {
        api_fail(c, 404, "Not found", "no such case");
        return;
    }
    memcpy(id, rest, idlen);
    id[idlen] = '\0';
    const char *what = slash ? slash + 1 : "";
    if (!id[0] && *what) {
        api_fail(c, 404, "Not found", "no such resource");
        return;
    }
    ajson_arena a;
    ajson_arena_init(&a, 4u * BODY_MAX);
    pthread_mutex_lock(c->ctx->writer_lock);
    handle(c, c->ctx->writer, id[0] ? id : NULL, what, post, &a);
    pthread_mutex_unlock(c->ctx->writer_lock);
    ajson_arena_free(&a);
}
