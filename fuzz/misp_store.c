/*
 * fuzz/misp_store.c - MISP events on arbitrary bytes through the store side of the import
 * (misp_store.c), which stores the mapper's objects without the general import's validation.
 *
 * One store in a temporary directory for the whole run; each input is mapped into one
 * transaction that is rolled back at the end, so the store stays empty and an input costs its
 * own objects only.  The mapper's objects go to the sink twice in that transaction.  Checks:
 * the sink takes every object of the first pass (nothing rejected: what the mapper writes is
 * what the store reads, and a build without NDEBUG validates each object fully there too);
 * nothing fails but memory and limits; the second pass stores nothing new (every object is the
 * duplicate of the first pass's copy, or an identity or cluster equal to its stored version),
 * which is what makes a re-import or a repeated feed pull write nothing.
 */
#include "accord.h"
#include "misp.h"

#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static accord_store *store;
static char dir[64];

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void cleanup(void)
{
    accord_store_close(store);
    store = NULL;
    if (dir[0])
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static accord_store *the_store(void)
{
    if (store)
        return store;
    snprintf(dir, sizeof(dir), "/tmp/fuzz-misp-store-XXXXXX");
    accord_error err;
    if (!mkdtemp(dir) || accord_store_open(dir, 0, &store, &err) != 0) {
        fprintf(stderr, "cannot open a store in %s\n", dir);
        abort();
    }
    atexit(cleanup);
    return store;
}

typedef struct pass {
    misp_sink *sink;
    accord_error *err;
    int rc;
} pass;

static int to_sink(void *ud, const char *json, size_t len)
{
    pass *p = ud;
    return p->rc = misp_sink_object(p->sink, json, len, p->err);
}

typedef struct events {
    misp_map_ctx *map;
    int rc;
} events;

static int map_one(void *ud, const ajson_value *ev, size_t i)
{
    events *e = ud;
    int rc = misp_map_event(e->map, ev, i);
    if (rc && rc != ACCORD_ESTIX) /* an unusable event (no uuid) is the mapper's to report */
        e->rc = rc;
    return 0;
}

/* Maps every event of root into the sink; the first store error, or 0. */
static int map_all(const ajson_value *root, misp_sink *sink, accord_misp_stats *st,
                   accord_error *err)
{
    accord_misp_options opts = {0};
    opts.source = "fuzz";
    pass p = {sink, err, 0};
    misp_map_ctx map = {&opts, st, to_sink, &p, 0, NULL, NULL, NULL};
    events e = {&map, 0};
    int cb_rc = 0;
    misp_events(root, map_one, &e, &cb_rc);
    return p.rc ? p.rc : e.rc;
}

static int limit_rc(int rc)
{
    return rc == 0 || rc == ACCORD_ENOMEM || rc == ACCORD_ELIMIT;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    accord_store *s = the_store();
    ajson_arena arena;
    ajson_error jerr;
    ajson_arena_init(&arena, 64u << 20);
    const ajson_value *root = ajson_parse(&arena, (const char *)data, size, &jerr);
    if (!root) {
        ajson_arena_free(&arena);
        return 0;
    }
    accord_import_options io = {0};
    io.source = "fuzz";
    misp_sink *sink = NULL;
    accord_error err;
    if (misp_sink_open(s, &io, &sink, &err) != 0)
        __builtin_trap();
    accord_misp_stats st1, st2;
    memset(&st1, 0, sizeof(st1));
    memset(&st2, 0, sizeof(st2));
    int rc = map_all(root, sink, &st1, &err);
    if (!limit_rc(rc)) {
        fprintf(stderr, "first pass: %s\n", err.msg);
        __builtin_trap();
    }
    accord_import_stats a;
    /* the counts so far: the sink's are read at close, so a second sink would need a commit;
     * instead both passes share one and the difference is what the second added */
    uint64_t read1 = 0;
    if (rc == 0) {
        misp_sink_stats(sink, &a);
        read1 = a.read;
        if (a.rejected != 0) {
            fprintf(stderr, "the sink rejected %llu of the mapper's objects\n",
                    (unsigned long long)a.rejected);
            __builtin_trap();
        }
        uint64_t stored = a.accepted + a.versions;
        rc = map_all(root, sink, &st2, &err);
        if (!limit_rc(rc))
            __builtin_trap();
        misp_sink_stats(sink, &a);
        if (rc == 0 && (a.accepted + a.versions != stored || a.rejected != 0)) {
            fprintf(stderr, "the second pass stored %llu new object(s) of %llu\n",
                    (unsigned long long)(a.accepted + a.versions - stored),
                    (unsigned long long)(a.read - read1));
            __builtin_trap();
        }
    }
    misp_sink_close(sink, ACCORD_EINVAL, NULL, NULL); /* rolled back: the store stays empty */
    ajson_arena_free(&arena);
    return 0;
}
