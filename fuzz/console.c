/*
 * fuzz/console.c - the web console's JSON endpoints (src/console_api.c, src/console_ind.c,
 * src/console_pages.c) on arbitrary requests, against a real store in a temporary directory:
 * query strings (limit, cursors, filters, sort, sightings series), search bodies of many values,
 * object paths, bulk preview and apply bodies with their tokens, read markers of case threads.
 *
 * Input: "ROUTE\nMETHOD\nREST\nWHO\n" then query lines "key=value" up to an empty line, then the
 * body.  ROUTE is search, objects, indicators or console (the API's prefixes), REST the path after it,
 * WHO "admin" for an administrator and anything else for an account without clearance.
 *
 * Checks what the pages rely on: the status is one the endpoints document (200, 400, 403, 404,
 * 405, 409, 413; a 500 is a bug here: the store is healthy), the body of every answer is one
 * JSON object, and a list never holds more rows than its limit.
 *
 * The whole input is also an Accept-Encoding header for ui_accepts_gzip (src/ui.c), which may
 * accept gzip only when the text names gzip or "*".
 *
 * The store ($TMPDIR/accord-fuzz-console-PID-XXXXXX) is seeded once and removed at exit.
 */
#include "accord.h"
#include "fuzz_common.h"
#include "console_api.h"
#include "accord_account.h"
#include "accord_case.h"
#include "console_ind.h"
#include "console_pages.h"
#include "ui.h"
#include "util/json.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#define INPUT_MAX 65536

static accord_store *writer, *reader;
static char store_dir[4096];
static pthread_mutex_t writer_lock = PTHREAD_MUTEX_INITIALIZER;

static const char seed[] =
    "{\"type\":\"identity\",\"spec_version\":\"2.1\","
    "\"id\":\"identity--00000000-0000-4000-8000-0000000000aa\",\"created\":\"2026-01-01T00:00:00."
    "000Z\",\"modified\":\"2026-01-01T00:00:00.000Z\",\"name\":\"Org A\"}\n"
    "{\"type\":\"indicator\",\"spec_version\":\"2.1\","
    "\"id\":\"indicator--00000000-0000-4000-8000-000000000001\",\"created\":\"2026-01-01T00:00:00."
    "000Z\",\"modified\":\"2026-01-01T00:00:00.000Z\",\"name\":\"a\",\"pattern\":\"[domain-name:"
    "value = 'evil.example.org']\",\"pattern_type\":\"stix\",\"valid_from\":\"2026-01-01T00:00:"
    "00Z\",\"valid_until\":\"2027-01-01T00:00:00Z\",\"created_by_ref\":\"identity--00000000-0000-"
    "4000-8000-0000000000aa\"}\n"
    "{\"type\":\"indicator\",\"spec_version\":\"2.1\","
    "\"id\":\"indicator--00000000-0000-4000-8000-000000000002\",\"created\":\"2026-01-01T00:00:00."
    "000Z\",\"modified\":\"2026-01-01T00:00:00.000Z\",\"name\":\"b\",\"pattern\":\"[ipv4-addr:"
    "value = '198.51.100.7']\",\"pattern_type\":\"stix\",\"valid_from\":\"2026-01-01T00:00:00Z\","
    "\"object_marking_refs\":[\"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1\"]}\n"
    "{\"type\":\"malware\",\"spec_version\":\"2.1\","
    "\"id\":\"malware--00000000-0000-4000-8000-000000000003\",\"created\":\"2026-01-01T00:00:00."
    "000Z\",\"modified\":\"2026-01-01T00:00:00.000Z\",\"name\":\"m\",\"is_family\":true}\n"
    "{\"type\":\"relationship\",\"spec_version\":\"2.1\","
    "\"id\":\"relationship--00000000-0000-4000-8000-000000000004\",\"created\":\"2026-01-01T00:00:"
    "00.000Z\",\"modified\":\"2026-01-01T00:00:00.000Z\",\"relationship_type\":\"indicates\","
    "\"source_ref\":\"indicator--00000000-0000-4000-8000-000000000001\",\"target_ref\":\"malware--"
    "00000000-0000-4000-8000-000000000003\"}\n"
    "{\"type\":\"sighting\",\"spec_version\":\"2.1\","
    "\"id\":\"sighting--00000000-0000-4000-8000-000000000005\",\"created\":\"2026-01-01T00:00:00."
    "000Z\",\"modified\":\"2026-01-01T00:00:00.000Z\",\"sighting_of_ref\":\"indicator--00000000-"
    "0000-4000-8000-000000000001\"}\n";

static void cleanup(void)
{
    accord_store_close(reader);
    accord_store_close(writer);
    reader = writer = NULL;
    if (store_dir[0])
        fuzz_remove_tree(store_dir);
}

static void setup(void)
{
    accord_error err;
    const char *tmp = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    if ((size_t)snprintf(store_dir, sizeof store_dir, "%s/accord-fuzz-console-%ld-XXXXXX", tmp,
                         (long)getpid()) >= sizeof store_dir ||
        !mkdtemp(store_dir) || atexit(cleanup) || accord_store_open(store_dir, 0, &writer, &err))
        abort();
    int fd = memfd_create("seed", 0);
    accord_import_stats st;
    if (fd < 0 || write(fd, seed, sizeof(seed) - 1) != (ssize_t)(sizeof(seed) - 1) ||
        lseek(fd, 0, SEEK_SET) != 0 || accord_import_fd(writer, fd, NULL, &st, &err) ||
        st.accepted != 6 || accord_account_add(writer, "fuzz-b", NULL, 0, &err) ||
        accord_account_add(writer, "admin", NULL, 1, &err))
        abort();
    /* a case the admin coordinates, for the read markers of its threads */
    accord_case_spec spec = {.title = "fuzz case", .role = "coordinator"};
    char case_id[ACCORD_CASE_ID_MAX];
    if (accord_case_open(writer, "admin", &spec, case_id, &err) ||
        accord_store_open(store_dir, ACCORD_STORE_READONLY, &reader, &err))
        abort();
    close(fd);
}

/* The limit the request asks for, as the endpoints read it (only meaningful on a 200). */
static long limit_of(const taxii_param *q, size_t n)
{
    for (size_t i = 0; i < n; i++) /* the first one counts, as api_param reads it */
        if (strcmp(q[i].key, "limit") == 0)
            return strtol(q[i].value, NULL, 10);
    return CONSOLE_LIMIT_DEFAULT;
}

static void check(const taxii_request *rq, taxii_response *rs, int list)
{
    static const int ok[] = {200, 400, 403, 404, 405, 409, 413};
    int known = 0;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        known |= rs->status == ok[i];
    if (!known)
        __builtin_trap();
    ajson_arena a;
    ajson_arena_init(&a, 0);
    ajson_error je;
    const ajson_value *doc = ajson_parse(&a, rs->body.p ? rs->body.p : "", rs->body.len, &je);
    if (!doc || doc->type != AJSON_OBJECT)
        __builtin_trap();
    const ajson_value *rows = ajson_get(doc, "rows");
    if (rs->status == 200 && list &&
        (!rows || rows->type != AJSON_ARRAY || (long)rows->len > limit_of(rq->query, rq->nquery)))
        __builtin_trap();
    ajson_arena_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!writer)
        setup();
    if (size > INPUT_MAX)
        return 0;
    char *text = malloc(size + 1), *p = text, *end = text + size;
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = 0;
    int gz = ui_accepts_gzip(text);
    if (gz != ui_accepts_gzip(text))
        __builtin_trap();
    if (gz && !strchr(text, '*') && !strcasestr(text, "gzip"))
        __builtin_trap();
    const char *route = fuzz_next_line(&p, end), *method = fuzz_next_line(&p, end);
    const char *rest = fuzz_next_line(&p, end), *who = fuzz_next_line(&p, end);
    taxii_param q[32];
    taxii_request rq = {.client_addr = "127.0.0.1", .query = q, .path = "/api/"};
    char *line;
    while ((line = fuzz_next_line(&p, end)) && *line && rq.nquery < 32) {
        char *eq = strchr(line, '=');
        if (eq)
            *eq = '\0';
        q[rq.nquery].key = line;
        q[rq.nquery++].value = eq ? eq + 1 : "";
    }
    rq.method = method ? method : "GET";
    rq.body = p < end ? p : "";
    rq.body_len = p < end ? (size_t)(end - p) : 0;
    taxii_ctx ctx = {.writer = writer, .writer_lock = &writer_lock};
    taxii_response rs;
    taxii_response_init(&rs);
    api_call c = {.ctx = &ctx, .reader = reader, .rq = &rq, .rs = &rs, .rest = rest ? rest : ""};
    int admin = who && strcmp(who, "admin") == 0;
    snprintf(c.who.account, sizeof(c.who.account), "%s", admin ? "admin" : "fuzz-b");
    c.who.is_admin = admin;
    int list = 0;
    if (route && strcmp(route, "objects") == 0) {
        console_object(&c);
        list = strstr(c.rest, "/relationships") != NULL;
    } else if (route && strcmp(route, "console") == 0) {
        console_pages(&c);
        list = strcmp(c.rest, "object-cases") == 0 || strcmp(c.rest, "collections") == 0 ||
               strcmp(c.rest, "peers") == 0;
    } else if (route && strcmp(route, "indicators") == 0) {
        console_indicators(&c);
        list = !*c.rest;
    } else {
        console_search(&c);
        list = 1;
    }
    check(&rq, &rs, list);
    taxii_response_free(&rs);
    free(text);
    return 0;
}
