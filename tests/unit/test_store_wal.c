/*
 * test_store_wal.c - WAL checkpoints taken off the writer (store_wal_defer), as the server runs
 * them: its one writer only records the WAL's size, and another handle on the same store copies
 * the WAL into the database outside the writer's lock.
 *
 * 1. A deferring writer never checkpoints below the backstop: the WAL's size in frames grows with
 *    every commit and the -wal file holds them.  A handle that does not defer reports 0.
 * 2. A PASSIVE checkpoint on a second handle copies every frame: the writer's next commit starts
 *    the WAL over (its size falls back to that commit's frames), and every object written before
 *    and after reads back through a third, fresh handle.
 */
#include "accord.h"
#include "store.h"
#include "t.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "t_import.h"

static char tmpdir[256];

static int import_one(accord_store *s, int i)
{
    char text[600];
    snprintf(text, sizeof(text),
             "{\"type\":\"indicator\",\"spec_version\":\"2.1\","
             "\"id\":\"indicator--00000000-0000-4000-8000-%012d\","
             "\"created\":\"2024-01-01T00:00:00.000Z\",\"modified\":\"2024-01-01T00:00:00.000Z\","
             "\"name\":\"wal %d\",\"pattern\":\"[ipv4-addr:value = '198.51.100.%d']\","
             "\"pattern_type\":\"stix\",\"valid_from\":\"2024-01-01T00:00:00Z\"}",
             i, i, i % 250);
    accord_import_stats st;
    int rc = t_import_with(s, text, NULL, &st, NULL);
    return rc == 0 && st.accepted == 1 ? 0 : -1;
}

static long long wal_bytes(const char *dir)
{
    char path[400];
    struct stat sb;
    snprintf(path, sizeof(path), "%s/accord.db-wal", dir);
    return stat(path, &sb) == 0 ? (long long)sb.st_size : -1;
}

static int count_cb(void *ud, const accord_record *r)
{
    (void)r;
    ++*(int *)ud;
    return 0;
}

/* How many of the objects 0 .. n-1 a fresh handle on dir reads. */
static int count_objects(const char *dir, int n)
{
    accord_store *s;
    accord_error err;
    int found = 0;
    if (accord_store_open(dir, ACCORD_STORE_READONLY, &s, &err))
        return -1;
    for (int i = 0; i < n; i++) {
        char id[80];
        int hits = 0;
        snprintf(id, sizeof(id), "indicator--00000000-0000-4000-8000-%012d", i);
        if (accord_store_get(s, id, 0, count_cb, &hits, &err) == 0 && hits == 1)
            found++;
    }
    accord_store_close(s);
    return found;
}

int main(void)
{
    if (t_mkdtemp(tmpdir, sizeof(tmpdir), "wal"))
        return 1;
    accord_store *w = t_store_open(tmpdir), *other = t_store_open(tmpdir);
    if (!w || !other)
        return t_done();
    store_wal_defer(w);

    /* 1 */
    int last = 0, grew = 1;
    for (int i = 0; i < 20; i++) {
        CHECK(import_one(w, i) == 0);
        int f = store_wal_frames(w);
        grew &= f > last;
        last = f;
    }
    CHECK(grew);
    CHECK(last > 20 && last < STORE_WAL_CHECKPOINT);
    CHECK(wal_bytes(tmpdir) >= (long long)last * 16384);
    CHECK(store_wal_frames(other) == 0);

    /* 2 */
    store_wal_checkpoint(other);
    CHECK(import_one(w, 20) == 0);
    int after = store_wal_frames(w);
    CHECK(after > 0 && after < last);
    CHECK(count_objects(tmpdir, 21) == 21);

    accord_store_close(other);
    accord_store_close(w);
    CHECK(count_objects(tmpdir, 21) == 21);
    t_rmtree(tmpdir);
    return t_done();
}
