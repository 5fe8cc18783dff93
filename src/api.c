/*
 * api.c - dispatch of accord's own HTTPS routes (see api.h).
 */
#include "api.h"
#include "case_api.h"
#include "console_api.h"
#include "console_ind.h"
#include "console_pages.h"
#include "export_feed.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void h_whoami(api_call *c);

/*
 * One line per feature: path prefix, route name (metrics and access log), handler, and 1 for a
 * public route (no credentials asked; the handler serves only what anyone may read).  A prefix
 * ending in '/' matches everything below it; otherwise the path must equal it.
 */
static const struct api_route {
    const char *prefix;
    const char *name;
    api_handler handler;
    int public_route;
} api_routes[] = {
    {"/api/whoami", "api", h_whoami, 0},
    {"/feeds/", "feeds", export_feed_handle, 0},
    {"/api/cases", "cases", case_api_handle, 0},
    {"/api/cases/", "cases", case_api_handle, 0},
    {"/api/search", "console", console_search, 0},
    {"/api/objects/", "console", console_object, 0},
    {"/api/indicators", "console", console_indicators, 0},
    {"/api/indicators/", "console", console_indicators, 0},
    {"/api/console/", "console", console_pages, 0},
    {"/.well-known/csaf/", "csaf", csaf_provider_handle, 1},
};

void api_fail(api_call *c, int status, const char *title, const char *fmt, ...)
{
    char desc[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(desc, sizeof(desc), fmt, ap);
    va_end(ap);
    api_error_body(c->rs, status, title, desc);
}

void api_error_body(taxii_response *rs, int status, const char *title, const char *desc)
{
    rs->status = status;
    rs->content_type = API_JSON;
    buf_reset(&rs->body);
    buf_adds(&rs->body, "{\"title\":");
    buf_json_str(&rs->body, title);
    buf_adds(&rs->body, ",\"description\":");
    buf_json_str(&rs->body, desc);
    buf_printf(&rs->body, ",\"http_status\":\"%d\"}", status);
}

const char *api_param(const api_call *c, const char *key)
{
    for (size_t i = 0; i < c->rq->nquery; i++)
        if (strcmp(c->rq->query[i].key, key) == 0)
            return c->rq->query[i].value;
    return NULL;
}

int api_etag_matches(const taxii_request *rq, const char *etag)
{
    const char *h = rq->if_none_match;
    if (!h || !etag || !*etag)
        return 0;
    size_t n = strlen(etag);
    while (*h) {
        while (*h == ' ' || *h == '\t' || *h == ',')
            h++;
        if (*h == '*')
            return 1;
        if (strncmp(h, "W/", 2) == 0)
            h += 2;
        const char *end = strchr(h, ',');
        size_t len = end ? (size_t)(end - h) : strlen(h);
        while (len && (h[len - 1] == ' ' || h[len - 1] == '\t'))
            len--;
        if (len == n && memcmp(h, etag, n) == 0)
            return 1;
        if (!end)
            break;
        h = end;
    }
    return 0;
}

static void h_whoami(api_call *c)
{
    taxii_response *rs = c->rs;
    rs->status = 200;
    rs->content_type = API_JSON;
    buf_adds(&rs->body, "{\"account\":");
    buf_json_str(&rs->body, c->who.account);
    buf_printf(&rs->body, ",\"admin\":%s}", c->who.is_admin ? "true" : "false");
}

int api_handle(const taxii_ctx *ctx, accord_store *reader, const taxii_request *rq,
               taxii_response *rs)
{
    const struct api_route *r = NULL;
    const char *rest = NULL;
    for (size_t i = 0; i < sizeof(api_routes) / sizeof(api_routes[0]) && !r; i++) {
        size_t n = strlen(api_routes[i].prefix);
        if (strncmp(rq->path, api_routes[i].prefix, n) != 0)
            continue;
        if (api_routes[i].prefix[n - 1] == '/' || rq->path[n] == '\0') {
            r = &api_routes[i];
            rest = rq->path + n;
        }
    }
    if (!r)
        return 0;
    api_call c = {.ctx = ctx, .reader = reader, .rq = rq, .rs = rs, .rest = rest};
    rs->endpoint = r->name;
    int rc = r->public_route ? 0 : ctx->authenticate(ctx->ud, reader, rq, &c.who);
    if (rc == ACCORD_EINVAL) {
        rs->www_authenticate = 1;
        api_fail(&c, 401, "Authentication required", "send a bearer token or basic credentials");
    } else if (rc == ACCORD_EBUSY) {
        rs->retry_after_s = c.who.retry_after_s;
        api_fail(&c, 429, "Too many failed logins", "retry after %lld s",
                 (long long)c.who.retry_after_s);
    } else if (rc) {
        api_fail(&c, 500, "Store error", "authentication could not be checked");
    } else {
        r->handler(&c);
    }
    return 1;
}
