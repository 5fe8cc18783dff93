/*
 * store_runs.c - the store's lookup indexes as sorted runs: an LSM tree kept in SQLite rows.
 *
 * A transaction's index entries (key, value pairs of 64-bit integers) are sorted in memory and
 * appended as one level-0 run, cut into chunks of CHUNK_ENTRIES entries, one row each.  When a
 * level holds MERGE_FANOUT runs they are merged into one run of the next level, in the same
 * transaction, so every committed state is complete.  Appending costs a sort and sequential row
 * inserts; merging costs each entry about log4(N / batch) rewrites over its life.  A lookup reads
 * at most one or two chunks per run, found through the (kind, run, last) index.
 *
 * Merges read their inputs one chunk at a time with a statement that is stepped and reset before
 * any write, so no read cursor is open on the table while it changes.
 */
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* Sorted runs                                                                                  */

int store_entries_push(entries *e, int64_t key, int64_t val)
{
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 4096;
        entry *v = realloc(e->v, cap * sizeof(*v));
        if (!v)
            return ACCORD_ENOMEM;
        e->v = v;
        e->cap = cap;
    }
    e->v[e->n].key = key;
    e->v[e->n].val = val;
    e->n++;
    return 0;
}

int store_entry_cmp(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return (x->val > y->val) - (x->val < y->val);
}

/* Appends chunk `chunk` of run (kind, run) holding v[0..n). */
static int chunk_write(accord_store *s, int kind, int64_t run, int64_t chunk, const entry *v,
                       size_t n, accord_error *err)
{
    sqlite3_stmt *st = store_stmt(s, S_CHUNK_INS);
    if (!st)
        return store_db_fail(s, err, "preparing a chunk insert");
    sqlite3_bind_int(st, 1, kind);
    sqlite3_bind_int64(st, 2, run);
    sqlite3_bind_int64(st, 3, chunk);
    sqlite3_bind_int64(st, 4, v[0].key);
    sqlite3_bind_int64(st, 5, v[n - 1].key);
    sqlite3_bind_blob(st, 6, v, (int)(n * sizeof(*v)), SQLITE_STATIC);
    return store_step_done(st) ? store_db_fail(s, err, "writing an index chunk") : 0;
}

static int run_register(accord_store *s, int kind, int64_t run, int level, int64_t n,
                        int64_t chunks, accord_error *err)
{
    sqlite3_stmt *st = store_stmt(s, S_RUN_INS);
    if (!st)
        return store_db_fail(s, err, "preparing a run insert");
    sqlite3_bind_int(st, 1, kind);
    sqlite3_bind_int64(st, 2, run);
    sqlite3_bind_int(st, 3, level);
    sqlite3_bind_int64(st, 4, n);
    sqlite3_bind_int64(st, 5, chunks);
    return store_step_done(st) ? store_db_fail(s, err, "writing an index run") : 0;
}

static int next_run_number(accord_store *s, int64_t *out, accord_error *err)
{
    sqlite3_stmt *st = store_stmt(s, S_MAX_RUN);
    if (!st || sqlite3_step(st) != SQLITE_ROW)
        return store_db_fail(s, err, "reading the run counter");
    *out = sqlite3_column_int64(st, 0) + 1;
    sqlite3_reset(st);
    return 0;
}

/* Reads chunk `chunk` of a run into buf (CHUNK_ENTRIES entries); *n gets the count, 0 past end. */
static int chunk_read(accord_store *s, int kind, int64_t run, int64_t chunk, entry *buf, size_t *n,
                      accord_error *err)
{
    sqlite3_stmt *st = store_stmt(s, S_CHUNK_GET);
    if (!st)
        return store_db_fail(s, err, "preparing a chunk read");
    sqlite3_bind_int(st, 1, kind);
    sqlite3_bind_int64(st, 2, run);
    sqlite3_bind_int64(st, 3, chunk);
    *n = 0;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        size_t bytes = (size_t)sqlite3_column_bytes(st, 0);
        if (bytes % sizeof(entry) || bytes > CHUNK_ENTRIES * sizeof(entry)) {
            sqlite3_reset(st);
            return accord_err_set(err, ACCORD_ECORRUPT, "store: index chunk %d/%lld/%lld: bad size",
                                  kind, (long long)run, (long long)chunk);
        }
        memcpy(buf, sqlite3_column_blob(st, 0), bytes);
        *n = bytes / sizeof(entry);
    } else if (rc != SQLITE_DONE) {
        return store_db_fail(s, err, "reading an index chunk");
    }
    sqlite3_reset(st);
    return 0;
}

typedef struct run_cursor {
    int64_t run, chunk;
    entry buf[CHUNK_ENTRIES];
    size_t n, pos;
} run_cursor;

static int cursor_fill(accord_store *s, int kind, run_cursor *c, accord_error *err)
{
    if (c->pos < c->n)
        return 0;
    c->pos = 0;
    return chunk_read(s, kind, c->run, c->chunk++, c->buf, &c->n, err);
}

/* Merges runs[0..k) of `kind` into one new run at `level`, then deletes them. */
static int merge_runs(accord_store *s, int kind, const int64_t *runs, int k, int level,
                      accord_error *err)
{
    int rc = 0;
    run_cursor *cur = calloc((size_t)k, sizeof(*cur));
    entry *out = malloc(CHUNK_ENTRIES * sizeof(*out));
    int64_t run = 0, chunk = 0, total = 0;
    size_t n = 0;
    if (!cur || !out) {
        rc = accord_err_set(err, ACCORD_ENOMEM, "store: out of memory merging index runs");
        goto out;
    }
    if ((rc = next_run_number(s, &run, err)))
        goto out;
    for (int i = 0; i < k; i++) {
        cur[i].run = runs[i];
        if ((rc = cursor_fill(s, kind, &cur[i], err)))
            goto out;
    }
    for (;;) {
        int best = -1;
        for (int i = 0; i < k; i++)
            if (cur[i].pos < cur[i].n &&
                (best < 0 || store_entry_cmp(&cur[i].buf[cur[i].pos], &cur[best].buf[cur[best].pos]) < 0))
                best = i;
        if (best < 0)
            break;
        out[n++] = cur[best].buf[cur[best].pos++];
        if ((rc = cursor_fill(s, kind, &cur[best], err)))
            goto out;
        if (n == CHUNK_ENTRIES) {
            if ((rc = chunk_write(s, kind, run, chunk++, out, n, err)))
                goto out;
            total += (int64_t)n;
            n = 0;
        }
    }
    if (n) {
        if ((rc = chunk_write(s, kind, run, chunk++, out, n, err)))
            goto out;
        total += (int64_t)n;
    }
    if ((rc = run_register(s, kind, run, level, total, chunk, err)))
        goto out;
    for (int i = 0; i < k; i++) {
        for (int which = S_RUN_DEL; which <= S_CHUNK_DEL; which++) {
            sqlite3_stmt *st = store_stmt(s, (enum stmt_id)which);
            if (!st)
                return store_db_fail(s, err, "preparing a run delete");
            sqlite3_bind_int(st, 1, kind);
            sqlite3_bind_int64(st, 2, runs[i]);
            if (store_step_done(st)) {
                rc = store_db_fail(s, err, "deleting a merged run");
                goto out;
            }
        }
    }
out:
    free(cur);
    free(out);
    return rc;
}

/* Merges MERGE_FANOUT runs of a level into the next while some level has that many. */
static int compact(accord_store *s, int kind, accord_error *err)
{
    for (int level = 0; level < 32; level++) {
        int64_t runs[MERGE_FANOUT];
        int k = 0;
        sqlite3_stmt *st = store_stmt(s, S_RUNS_AT_LEVEL);
        if (!st)
            return store_db_fail(s, err, "preparing a run listing");
        sqlite3_bind_int(st, 1, kind);
        sqlite3_bind_int(st, 2, level);
        while (k < MERGE_FANOUT && sqlite3_step(st) == SQLITE_ROW)
            runs[k++] = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        if (k < MERGE_FANOUT)
            return 0;
        int rc = merge_runs(s, kind, runs, k, level + 1, err);
        if (rc)
            return rc;
    }
    return 0;
}

/*
 * Sorts v[0..n) as store_entry_cmp orders them.  A transaction's entries arrive in seq order, so
 * their values do not decrease: then a stable radix sort of the keys (six passes of 11 bits, the
 * sign bit flipped so that keys compare as signed) gives that order at a tenth of qsort's cost
 * (callgrind: ~700 instructions per entry, the comparison called through a pointer ~17 times).
 * Anything else, or no memory for the second buffer, goes to qsort.
 */
void store_entries_sort(entry *v, size_t n)
{
    enum { BITS = 11, PASSES = 6, BUCKETS = 1 << BITS };
    int sorted_vals = 1;
    for (size_t i = 1; i < n && sorted_vals; i++)
        sorted_vals = v[i - 1].val <= v[i].val;
    /* the second buffer, then the passes' counts */
    size_t (*count)[BUCKETS] = NULL;
    entry *tmp = sorted_vals && n > 64
                     ? calloc(1, n * sizeof(*tmp) + sizeof(size_t[PASSES][BUCKETS]))
                     : NULL;
    if (!tmp) {
        qsort(v, n, sizeof(entry), store_entry_cmp);
        return;
    }
    count = (size_t (*)[BUCKETS])(void *)(tmp + n);
    for (size_t i = 0; i < n; i++) {
        uint64_t k = (uint64_t)v[i].key ^ (1ULL << 63);
        for (int p = 0; p < PASSES; p++)
            count[p][(k >> (p * BITS)) & (BUCKETS - 1)]++;
    }
    entry *from = v, *to = tmp;
    for (int p = 0; p < PASSES; p++) {
        size_t sum = 0;
        for (size_t b = 0; b < BUCKETS; b++) {
            size_t c = count[p][b];
            count[p][b] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++) {
            uint64_t k = (uint64_t)from[i].key ^ (1ULL << 63);
            to[count[p][(k >> (p * BITS)) & (BUCKETS - 1)]++] = from[i];
        }
        entry *t = from;
        from = to;
        to = t;
    }
    /* an even number of passes leaves the result in v */
    free(tmp);
}

/* Writes a sorted batch as a new level-0 run of `kind`. */
int store_run_write(accord_store *s, int kind, entries *e, accord_error *err)
{
    if (!e->n)
        return 0; /* also keeps qsort away from a NULL array */
    store_entries_sort(e->v, e->n);
    int64_t run = 0, chunk = 0;
    int rc = next_run_number(s, &run, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < e->n; i += CHUNK_ENTRIES) {
        size_t n = e->n - i < CHUNK_ENTRIES ? e->n - i : CHUNK_ENTRIES;
        if ((rc = chunk_write(s, kind, run, chunk++, e->v + i, n, err)))
            return rc;
    }
    if ((rc = run_register(s, kind, run, 0, (int64_t)e->n, chunk, err)))
        return rc;
    return compact(s, kind, err);
}

/* First index in v[0..n) whose key is >= key. */
static size_t lower_bound(const entry *v, size_t n, int64_t key)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid].key < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The chunk a batched lookup read last in one run, kept for the next (larger) keys. */
typedef struct chunk_cache {
    entry *v;
    size_t n;
    int64_t first;
} chunk_cache;

/* Looks key up in run `run` of kind: seeks the first chunk whose last key is >= key through the
 * (kind, run, last) index and reads on while equal keys continue.  With a cache c (may be NULL),
 * reuses it when the key lies inside it (after its first key, which may continue an earlier
 * chunk) and its entries do not run on into the next chunk, and keeps the last chunk read. */
static int lookup_in_run(accord_store *s, int kind, int64_t run, int64_t key, chunk_cache *c,
                         entries *out, accord_error *err)
{
    int rc = 0;
    size_t mark = out->n;
    if (c && c->n && key > c->first && key <= c->v[c->n - 1].key) {
        size_t i = lower_bound(c->v, c->n, key);
        for (; i < c->n && c->v[i].key == key && !rc; i++)
            rc = store_entries_push(out, key, c->v[i].val);
        if (rc || i < c->n)
            return rc;
        out->n = mark; /* equal keys go on into the next chunk: read them all from the run */
    }
    sqlite3_stmt *st = store_stmt(s, S_CHUNK_FIND);
    if (!st)
        return store_db_fail(s, err, "preparing a chunk search");
    sqlite3_bind_int(st, 1, kind);
    sqlite3_bind_int64(st, 2, run);
    sqlite3_bind_int64(st, 3, key);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t first = sqlite3_column_int64(st, 0);
        if (first > key)
            break;
        const entry *v = sqlite3_column_blob(st, 1);
        size_t n = (size_t)sqlite3_column_bytes(st, 1) / sizeof(entry);
        if (c && n && n <= CHUNK_ENTRIES) {
            memcpy(c->v, v, n * sizeof(entry));
            c->n = n;
            c->first = first;
        }
        size_t i = lower_bound(v, n, key);
        for (; i < n && v[i].key == key && !rc; i++)
            rc = store_entries_push(out, key, v[i].val);
        if (i < n)
            break;
    }
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        rc = store_db_fail(s, err, "searching an index run");
    sqlite3_reset(st);
    return rc;
}

/* The runs of kind (at most 256) into runs, their number into *nruns. */
static int runs_of(accord_store *s, int kind, int64_t runs[256], int *nruns, accord_error *err)
{
    *nruns = 0;
    sqlite3_stmt *st = store_stmt(s, S_RUNS_OF_KIND);
    if (!st)
        return store_db_fail(s, err, "preparing a run listing");
    sqlite3_bind_int(st, 1, kind);
    while (*nruns < 256 && sqlite3_step(st) == SQLITE_ROW)
        runs[(*nruns)++] = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return 0;
}

/* Appends to out the values of every committed entry of `kind` with this key. */
int store_runs_lookup(accord_store *s, int kind, int64_t key, entries *out, accord_error *err)
{
    int64_t runs[256];
    int nruns, rc = runs_of(s, kind, runs, &nruns, err);
    for (int r = 0; r < nruns && !rc; r++)
        rc = lookup_in_run(s, kind, runs[r], key, NULL, out, err);
    return rc;
}

int store_runs_lookup_many(accord_store *s, int kind, const int64_t *keys, size_t n, entries *out,
                           accord_error *err)
{
    int64_t runs[256];
    int nruns, rc = runs_of(s, kind, runs, &nruns, err);
    if (rc)
        return rc;
    chunk_cache c = {.v = malloc(CHUNK_ENTRIES * sizeof(entry))};
    if (!c.v)
        return accord_err_set(err, ACCORD_ENOMEM, "store: out of memory");
    for (int r = 0; r < nruns && !rc; r++) {
        c.n = 0;
        for (size_t i = 0; i < n && !rc; i++)
            if (i == 0 || keys[i] != keys[i - 1])
                rc = lookup_in_run(s, kind, runs[r], keys[i], &c, out, err);
    }
    free(c.v);
    return rc;
}
