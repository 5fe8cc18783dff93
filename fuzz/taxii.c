/*
 * fuzz/taxii.c - TAXII request routing, query parsing, content negotiation and the handlers, on
 * arbitrary requests, against a real store in a temporary directory.
 *
 * Input: "METHOD\nPATH\n" then query lines "key=value" up to an empty line, then header lines
 * "Accept: ...", "Content-Type: ...", "Authorization: ..." up to an empty line, then the body.
 * Checks the handler's contract: every response has a status in 200..599, and every error
 * response is a JSON TAXII error resource with http_status.
 *
 * The store's directory is $TMPDIR/accord-fuzz-taxii-PID-XXXXXX (TMPDIR: /tmp when unset),
 * removed at exit; a process that died without exiting (a crash, a timeout) leaves its
 * directory, which the next run removes once that PID is gone, so replays and fuzzing jobs do
 * not pile directories up.
 */
#include "fuzz_common.h"
#include "taxii.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DIR_PREFIX "accord-fuzz-taxii-"

static accord_store *store;
static char store_dir[4096];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void cleanup(void)
{
    accord_store_close(store);
    store = NULL;
    if (store_dir[0])
        fuzz_remove_tree(store_dir);
}

/* Removes the directories in tmp of runs whose process is gone. */
static void sweep_stale(const char *tmp)
{
    DIR *d = opendir(tmp);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char *end;
        if (strncmp(e->d_name, DIR_PREFIX, sizeof DIR_PREFIX - 1) != 0)
            continue;
        long pid = strtol(e->d_name + sizeof DIR_PREFIX - 1, &end, 10);
        if (pid <= 0 || *end != '-' || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue; /* not ours, or its process lives */
        char path[4096];
        if ((size_t)snprintf(path, sizeof path, "%s/%s", tmp, e->d_name) < sizeof path)
            fuzz_remove_tree(path);
    }
    if (d)
        closedir(d);
}

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!store) {
        accord_error err;
        const char *tmp = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
        sweep_stale(tmp);
        if ((size_t)snprintf(store_dir, sizeof store_dir, "%s/" DIR_PREFIX "%ld-XXXXXX", tmp,
                             (long)getpid()) >= sizeof store_dir ||
            !mkdtemp(store_dir) || atexit(cleanup) ||
            accord_store_open(store_dir, 0, &store, &err))
            abort();
    }
    char *text = malloc(size + 1), *p = text, *end = text + size;
    memcpy(text, data, size);
    text[size] = 0;
    taxii_param q[32];
    taxii_request rq = {.client_addr = "127.0.0.1", .query = q};
    rq.method = fuzz_next_line(&p, end);
    rq.path = fuzz_next_line(&p, end);
    char *line;
    while ((line = fuzz_next_line(&p, end)) && *line && rq.nquery < 32) {
        char *eq = strchr(line, '=');
        q[rq.nquery].key = line;
        q[rq.nquery].value = eq ? eq + 1 : "";
        if (eq)
            *eq = '\0';
        rq.nquery++;
    }
    while ((line = fuzz_next_line(&p, end)) && *line) {
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
