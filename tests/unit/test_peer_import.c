/*
 * test_peer_import.c - the import entry points the pull walk uses, on a real store: objects
 * handed over already parsed (import_session_parsed), the accept hook that runs inside the
 * import's pass (what it is given, what dropping an object and failing do), and the rule that
 * decides a duplicate from a conflict for unsigned copies of one version (canonical forms, not
 * bytes), with the conflict record naming where the copy came from.
 */
#include "accord.h"
#include "import.h"
#include "store.h"
#include "t.h"
#include "util/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ID_A "indicator--0000000a-0000-4000-8000-000000000001"
#define ID_B "indicator--0000000b-0000-4000-8000-000000000002"
#define HEAD(id)                                                                                   \
    "\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"" id "\","                           \
    "\"created\":\"2026-01-10T09:10:00.000Z\",\"modified\":\"2026-01-10T09:10:00.000Z\","
#define TAIL                                                                                       \
    "\"pattern\":\"[ipv4-addr:value = '203.0.113.7']\",\"pattern_type\":\"stix\","                 \
    "\"valid_from\":\"2026-01-10T09:10:00Z\""

/* What the hook saw, and what it answers. */
typedef struct hook_log {
    int calls, with_canon, fail;
    char ids[4][64];
} hook_log;

static int hook(void *ud, const import_object *o, accord_error *err)
{
    hook_log *h = ud;
    if (h->calls < 4)
        snprintf(h->ids[h->calls], sizeof(h->ids[0]), "%s", o->id);
    h->calls++;
    h->with_canon += o->canon != NULL;
    if (h->fail)
        return accord_err_set(err, ACCORD_EIO, "hook failed on %s", o->id);
    const char *name = ajson_str(ajson_get(o->root, "name"));
    return name && strcmp(name, "drop me") == 0;
}

typedef struct reject_log {
    int n;
    char rule[64], msg[1024];
} reject_log;

static void on_reject(void *ud, const accord_reject *r)
{
    reject_log *l = ud;
    l->n++;
    snprintf(l->rule, sizeof(l->rule), "%s", r->rule ? r->rule : "");
    snprintf(l->msg, sizeof(l->msg), "%s", r->message ? r->message : "");
}

typedef struct body_of {
    char body[4096];
    int n;
} body_of;

static int keep_body(void *ud, const accord_record *r)
{
    body_of *b = ud;
    b->n++;
    snprintf(b->body, sizeof(b->body), "%.*s", (int)r->body_len, r->body);
    return 0;
}

/* One session over texts, each parsed here first; returns the close's outcome. */
static int import_parsed(accord_store *s, const accord_import_options *io, const import_hooks *h,
                         const char **texts, size_t n, accord_import_stats *st)
{
    import_session *sess;
    accord_error err;
    int rc = import_session_open(s, io, &sess, &err);
    if (rc)
        return rc;
    if (h)
        import_session_hooks(sess, h);
    ajson_arena a;
    ajson_arena_init(&a, 0);
    for (size_t i = 0; !rc && i < n; i++) {
        ajson_error je;
        ajson_arena_reset(&a);
        const ajson_value *v = ajson_parse(&a, texts[i], strlen(texts[i]), &je);
        if (!v)
            return -1000;
        rc = import_session_parsed(sess, v, texts[i], strlen(texts[i]), &err);
    }
    rc = import_session_close(sess, rc, st, &err);
    ajson_arena_free(&a);
    return rc;
}

static void test_hook(accord_store *s)
{
    /* A with whitespace outside strings (a server that pretty-prints), B dropped by the hook */
    const char *texts[] = {"{ " HEAD(ID_A) " \"name\" : \"kept\",\n  " TAIL " }",
                           "{" HEAD(ID_B) "\"name\":\"drop me\"," TAIL "}"};
    hook_log h = {0};
    import_hooks hooks = {.accept = hook, .ud = &h, .spaced = 1};
    accord_import_options io = {.source = "unit source"};
    accord_import_stats st;
    CHECK(import_parsed(s, &io, &hooks, texts, 2, &st) == 0);
    CHECK(h.calls == 2);
    CHECK_STR(h.ids[0], ID_A);
    CHECK_STR(h.ids[1], ID_B);
    CHECK(h.with_canon == 0); /* unsigned: the pass computed no canonical form */
    CHECK(st.read == 2 && st.accepted == 1 && st.rejected == 0 && st.conflicts == 0);
    body_of b = {0};
    accord_error err;
    CHECK(accord_store_get(s, ID_A, 0, keep_body, &b, &err) == 0 && b.n == 1);
    CHECK(strchr(b.body, ' ') != NULL && strstr(b.body, "\n") == NULL); /* minified */
    CHECK(strncmp(b.body, "{\"type\":\"indicator\"", 19) == 0);
    body_of none = {0};
    CHECK(accord_store_get(s, ID_B, 0, keep_body, &none, &err) == ACCORD_ENOTFOUND);

    /* a hook error ends the session: nothing of it is kept */
    const char *c1[] = {"{" HEAD("indicator--0000000c-0000-4000-8000-000000000003") "\"name\":\"c\","
                        TAIL "}"};
    hook_log hf = {.fail = 1};
    import_hooks failing = {.accept = hook, .ud = &hf};
    CHECK(import_parsed(s, &io, &failing, c1, 1, &st) == ACCORD_EIO);
    CHECK(accord_store_get(s, "indicator--0000000c-0000-4000-8000-000000000003", 0, keep_body,
                           &none, &err) == ACCORD_ENOTFOUND);
}

static void test_canonical_duplicate(accord_store *s)
{
    reject_log rl = {0};
    accord_import_options io = {.source = "peer unit (https://unit.example/api/)",
                                .on_reject = on_reject,
                                .ud = &rl};
    import_hooks spaced = {.spaced = 1};
    accord_import_stats st;
    /* the version test_hook stored, "name" moved first and the whole indented: a duplicate */
    const char *reordered[] = {"{\n  \"name\": \"kept\",\n  " HEAD(ID_A) TAIL "\n}"};
    CHECK(import_parsed(s, &io, &spaced, reordered, 1, &st) == 0);
    CHECK(st.duplicates == 1 && st.conflicts == 0 && rl.n == 0);
    /* one value changed: a conflict, named with where it came from; the stored copy is kept */
    const char *changed[] = {"{\"name\":\"kept!\"," HEAD(ID_A) TAIL "}"};
    CHECK(import_parsed(s, &io, &spaced, changed, 1, &st) == ACCORD_ESTIX);
    CHECK(st.conflicts == 1 && st.duplicates == 0 && rl.n == 1);
    CHECK_STR(rl.rule, "version-conflict");
    CHECK(strstr(rl.msg, "with other content; the stored one is kept (rule version-conflict); "
                         "received from peer unit (https://unit.example/api/)") != NULL);
    body_of b = {0};
    accord_error err;
    CHECK(accord_store_get(s, ID_A, 0, keep_body, &b, &err) == 0 && b.n == 1);
    CHECK(strstr(b.body, "\"kept\"") != NULL && strstr(b.body, "kept!") == NULL);
}

int main(void)
{
    char dir[] = "/tmp/accord-test-peer-import-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    accord_store *s;
    accord_error err;
    if (accord_store_open(dir, 0, &s, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    test_hook(s);
    test_canonical_duplicate(s);
    accord_store_close(s);
    char cmd[200];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    printf("%d passed, %d failed\n", t_passed, t_failed);
    return t_failed != 0;
}
