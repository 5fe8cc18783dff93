/*
 * fuzz/taxii.c - TAXII request routing, query parsing, content negotiation and the handlers, on
 * arbitrary requests, against a real store in a temporary directory.
 *
 * Input: "METHOD\nPATH\n" then query lines "key=value" up to an empty line, then header lines
 * "Accept: ...", "Content-Type: ...", "Authorization: ..." up to an empty line, then the body.
 * Checks the handler's contract: every response has a status in 200..599, and every error
 * response is a JSON TAXII error resource with http_status.
 */
#include "taxii.h"

#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static accord_store *store;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static int fake_auth(void *ud, accord_store *s, const taxii_request *rq, taxii_principal *out)
{
    (void)ud;
    (void)s;
    memset(out, 0, sizeof(*out));
    if (rq->authorization && strcmp(rq->authorization, "busy") == 0)
        return ACCORD_EBUSY;
    if (rq->authorization && strcmp(rq->authorization, "bad") == 0)
        return ACCORD_EINVAL;
    snprintf(out->account, sizeof(out->account), "fuzz");
    out->is_admin = !rq->authorization;
    return 0;
}

static int fake_rights(void *ud, accord_store *s, const taxii_principal *p, const char *coll,
                       int *r, int *w)
{
    (void)ud;
    (void)s;
    (void)coll;
    *r = 1;
    *w = p->is_admin;
    return 0;
}

/* Cuts the next line out of [*p, end); NULL at the end. */
static char *next_line(char **p, char *end)
{
    if (*p >= end)
        return NULL;
    char *s = *p, *nl = memchr(s, '\n', (size_t)(end - s));
    if (!nl)
        nl = end;
    *nl = '\0';
    *p = nl + 1;
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!store) {
        char dir[] = "/tmp/accord-fuzz-taxii-XXXXXX";
        accord_error err;
        if (!mkdtemp(dir) || accord_store_open(dir, 0, &store, &err))
            abort();
    }
    char *text = malloc(size + 1), *p = text, *end = text + size;
    memcpy(text, data, size);
    text[size] = 0;
    taxii_param q[32];
    taxii_request rq = {.client_addr = "127.0.0.1", .query = q};
    rq.method = next_line(&p, end);
    rq.path = next_line(&p, end);
    char *line;
    while ((line = next_line(&p, end)) && *line && rq.nquery < 32) {
        char *eq = strchr(line, '=');
        q[rq.nquery].key = line;
        q[rq.nquery].value = eq ? eq + 1 : "";
        if (eq)
            *eq = '\0';
        rq.nquery++;
    }
    while ((line = next_line(&p, end)) && *line) {
        if (strncmp(line, "Accept: ", 8) == 0)
            rq.accept = line + 8;
        else if (strncmp(line, "Content-Type: ", 14) == 0)
            rq.content_type = line + 14;
        else if (strncmp(line, "Authorization: ", 15) == 0)
            rq.authorization = line + 15;
    }
    rq.body = p < end ? p : "";
    rq.body_len = p < end ? (size_t)(end - p) : 0;
    if (!rq.method || !rq.path) {
        free(text);
        return 0;
    }
    taxii_ctx ctx = {.title = "fuzz",
                     .authenticate = fake_auth,
                     .rights = fake_rights,
                     .writer = store,
                     .writer_lock = &lock};
    taxii_response rs;
    taxii_response_init(&rs);
    taxii_handle(&ctx, store, &rq, &rs);
    if (rs.status < 200 || rs.status > 599)
        __builtin_trap();
    if (rs.status >= 400 && (!rs.body.p || !strstr(rs.body.p, "\"http_status\"")))
        __builtin_trap();
    taxii_response_free(&rs);
    free(text);
    return 0;
}
