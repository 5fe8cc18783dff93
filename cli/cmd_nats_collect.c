/*
 * cmd_nats_collect.c - `accord nats collect`: the workers' results into a results database
 * (exactly once per chunk) and from there into sightings in the store.
 *
 * JetStream delivers each result message at least once, and a chunk may be matched more than
 * once (a worker killed after publishing, a redelivery after a snapshot swap), so the same
 * chunk can arrive as several copies, even under different snapshot versions.  The collector
 * keeps, per chunk, the first version whose parts are all there, in a SQLite database next to
 * the store (DATA/nats-results.db unless --db), one transaction per result message:
 *
 *   table    key                       what
 *   parts    (chunk, version, part)    parts of chunks not yet complete
 *   chunks   chunk                     the chunks done: version, counts (a chunk id found here
 *                                      makes every later copy a no-op)
 *   matches  -                         one row per (match, indicator) of the chunks done
 *
 * The message is acknowledged only after its transaction committed; a crash in between means
 * one more delivery, which the chunks table turns into a no-op.  Sightings are computed from
 * the whole matches table each time they are written (at the end, and every
 * --sightings-every seconds), so each match is counted once however often results came.
 */
#include "cmd_nats.h"
#include "nats_temporal.h"
#include "util/json.h"
#include "util/u64map.h"

#include <inttypes.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <xxhash.h>

static const char *const schema =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=FULL;"
    "CREATE TABLE IF NOT EXISTS parts(chunk TEXT NOT NULL, version INTEGER NOT NULL,"
    " part INTEGER NOT NULL, parts INTEGER NOT NULL, body BLOB NOT NULL,"
    " PRIMARY KEY(chunk, version, part));"
    "CREATE TABLE IF NOT EXISTS chunks(chunk TEXT PRIMARY KEY, version INTEGER NOT NULL,"
    " input TEXT, lines INTEGER, events INTEGER, matches INTEGER, malformed INTEGER,"
    " bytes INTEGER, at INTEGER);"
    "CREATE TABLE IF NOT EXISTS matches(chunk TEXT NOT NULL, version INTEGER NOT NULL,"
    " line INTEGER, indicator TEXT NOT NULL, time TEXT, time_is_string INTEGER, field TEXT,"
    " value TEXT, event TEXT);"
    /* multi-observation indicators (nats_temporal.h): the observation lines of the chunks
     * done (less those pruned: no state can use them any more), the patterns they name, and
     * per source where its combined part ends */
    "CREATE TABLE IF NOT EXISTS observations(source TEXT NOT NULL, offset INTEGER NOT NULL,"
    " ord INTEGER NOT NULL, chunk TEXT NOT NULL, version INTEGER NOT NULL, body TEXT NOT NULL,"
    " PRIMARY KEY(source, offset, ord));"
    "CREATE TABLE IF NOT EXISTS patterns(key INTEGER PRIMARY KEY, v20 INTEGER NOT NULL,"
    " text TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS sources(source TEXT PRIMARY KEY, next INTEGER NOT NULL);"
    /* chunks moved to the dead-letter subject: done without matches, so that their source's
     * later chunks are combined past them; what they held was not matched */
    "CREATE TABLE IF NOT EXISTS gaps(chunk TEXT PRIMARY KEY, reason TEXT NOT NULL,"
    " bytes INTEGER, at INTEGER);";

typedef struct collector {
    const char *cmd;
    sqlite3 *db;
    nats_link l;
    int print;
    natsSubscription *sub;
    char stream[160]; /* the tenant's results stream */
    ntemporal *tmp;   /* multi-observation indicators: state per source, rebuilt on demand */
    uint64_t messages, dups, chunks, matches, rejected, combined, pruned;
    u64map advanced; /* XXH3(source) -> times it advanced since its last prune */
} collector;

/* a source's combined observations are pruned every PRUNE_EVERY times it advances, and every
 * source's when the collector stops */
#define PRUNE_EVERY 16

static const char *hdr(natsMsg *m, const char *key)
{
    const char *v = NULL;
    return natsMsgHeader_Get(m, key, &v) == NATS_OK ? v : NULL;
}

static int exec1(collector *c, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(c->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        cli_error(c->cmd, "results database: %s", msg ? msg : "error");
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

static sqlite3_stmt *prep(collector *c, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK)
        cli_error(c->cmd, "results database: %s", sqlite3_errmsg(c->db));
    return st;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s, size_t len)
{
    if (s)
        sqlite3_bind_text(st, i, s, (int)len, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

/* A pattern line (nats_temporal.h) into the patterns table; 0, -1 when it is not one. */
static int store_pattern(collector *c, const char *chunk, const ajson_value *o)
{
    uint64_t key;
    const char *text, *why = NULL;
    size_t len;
    int v20, rc = -1;
    sqlite3_stmt *st;
    if (ntemp_pattern_read(o, &key, &text, &len, &v20, &why) != 1) {
        cli_error(c->cmd, "chunk %s: %s", chunk, why ? why : "not a pattern line");
        return -1;
    }
    if ((st = prep(c, "INSERT OR IGNORE INTO patterns VALUES(?1,?2,?3)"))) {
        sqlite3_bind_int64(st, 1, (int64_t)key);
        sqlite3_bind_int(st, 2, v20);
        sqlite3_bind_text(st, 3, text, (int)len, SQLITE_TRANSIENT);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
        sqlite3_finalize(st);
    }
    return rc;
}

/* An observation line into the observations table, as the ord-th of its chunk; 0 or -1. */
static int store_obs(collector *c, const nats_chunk_id *cid, const char *chunk, int64_t version,
                     int64_t ord, const ajson_value *o, const char *line, size_t n)
{
    ntemp_obs ob;
    const char *why = NULL;
    sqlite3_stmt *st;
    int rc = -1;
    if (ntemp_obs_read(o, &ob, &why) != 1 || cid->offset > INT64_MAX) {
        cli_error(c->cmd, "chunk %s: %s", chunk, why ? why : "offset out of range");
        return -1;
    }
    if ((st = prep(c, "INSERT OR IGNORE INTO observations VALUES(?1,?2,?3,?4,?5,?6)"))) {
        sqlite3_bind_text(st, 1, cid->source, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (int64_t)cid->offset);
        sqlite3_bind_int64(st, 3, ord);
        sqlite3_bind_text(st, 4, chunk, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, version);
        sqlite3_bind_text(st, 6, line, (int)n, SQLITE_TRANSIENT);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
        sqlite3_finalize(st);
    }
    return rc;
}

/* The match lines of one part into the matches table (observation and pattern lines into
 * theirs, *ord counting the chunk's observations); -1 when a line is not a result. */
static int store_lines(collector *c, sqlite3_stmt *ins, const nats_chunk_id *cid,
                       const char *chunk, int64_t version, const char *body, size_t len,
                       int64_t *ord)
{
    ajson_arena a;
    int rc = 0;
    ajson_arena_init(&a, 16u << 20);
    for (size_t i = 0; i < len && rc == 0;) {
        const char *nl = memchr(body + i, '\n', len - i);
        size_t n = nl ? (size_t)(nl - body) - i : len - i;
        ajson_error je;
        const ajson_value *o, *t, *inds;
        int64_t line = 0;
        ajson_arena_reset(&a);
        if (n == 0) {
            i++;
            continue;
        }
        o = ajson_parse(&a, body + i, n, &je);
        if (o && (ajson_get(o, "pattern") || ajson_get(o, "obs"))) {
            rc = ajson_get(o, "pattern") ? store_pattern(c, chunk, o)
                                         : store_obs(c, cid, chunk, version, (*ord)++, o, body + i, n);
            i += n + 1;
            continue;
        }
        inds = ajson_get(o, "indicators");
        if (!o || !inds || inds->type != AJSON_ARRAY || ajson_int(ajson_get(o, "line"), &line) != 1) {
            cli_error(c->cmd, "chunk %s: result at byte %zu is not a match line", chunk, i);
            rc = -1;
            break;
        }
        t = ajson_get(o, "time");
        for (size_t k = 0; k < inds->len && rc == 0; k++) {
            const char *id = ajson_str(ajson_get(&inds->u.items[k], "id"));
            const char *f = ajson_str(ajson_get(o, "field")), *v = ajson_str(ajson_get(o, "value")),
                       *ev = ajson_str(ajson_get(o, "event"));
            if (!id) {
                rc = -1;
                break;
            }
            sqlite3_reset(ins);
            sqlite3_bind_text(ins, 1, chunk, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(ins, 2, version);
            sqlite3_bind_int64(ins, 3, line);
            sqlite3_bind_text(ins, 4, id, -1, SQLITE_TRANSIENT);
            bind_text(ins, 5, t && (t->type == AJSON_STRING || t->type == AJSON_NUMBER) ? t->u.str : NULL,
                      t && t->u.str ? strlen(t->u.str) : 0);
            sqlite3_bind_int(ins, 6, t && t->type == AJSON_STRING);
            bind_text(ins, 7, f, f ? strlen(f) : 0);
            bind_text(ins, 8, v, v ? strlen(v) : 0);
            bind_text(ins, 9, ev, ev ? strlen(ev) : 0);
            if (sqlite3_step(ins) != SQLITE_DONE)
                rc = -1;
            c->matches++;
        }
        if (rc == 0 && c->print) {
            fwrite(body + i, 1, n, stdout);
            fputc('\n', stdout);
        }
        i += n + 1;
    }
    ajson_arena_free(&a);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Multi-observation indicators, combined per source in source order                            */

/* Defines pattern key in c->tmp from the patterns table; 0, or -1 when it is not there or does
 * not compile (its observations complete nothing then, and are reported). */
static int pattern_load(collector *c, uint64_t key)
{
    sqlite3_stmt *st = prep(c, "SELECT v20, text FROM patterns WHERE key = ?1");
    accord_error err = {0};
    int rc = -1;
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, (int64_t)key);
    if (sqlite3_step(st) == SQLITE_ROW) {
        rc = ntemporal_define(c->tmp, key, (const char *)sqlite3_column_text(st, 1),
                              (size_t)sqlite3_column_bytes(st, 1), sqlite3_column_int(st, 0), &err);
        if (rc != 0)
            cli_error(c->cmd, "pattern %016" PRIx64 ": %s", key, err.msg[0] ? err.msg : "no memory");
    } else {
        cli_error(c->cmd, "pattern %016" PRIx64 " named by an observation is not known", key);
    }
    sqlite3_finalize(st);
    return rc ? -1 : 0;
}

/* A combination completed by observation line o of chunk (version): one match. */
static int combined_match(collector *c, const char *chunk, int64_t version, const ajson_value *o,
                          const char *body, size_t len)
{
    const ajson_value *t = ajson_get(o, "time"), *inds = ajson_get(o, "indicators");
    const char *id = inds && inds->type == AJSON_ARRAY && inds->len == 1
                         ? ajson_str(ajson_get(&inds->u.items[0], "id"))
                         : NULL,
               *ev = ajson_str(ajson_get(o, "event"));
    int64_t line = 0;
    sqlite3_stmt *st;
    int rc = -1;
    if (!id || ajson_int(ajson_get(o, "line"), &line) != 1) {
        cli_error(c->cmd, "chunk %s: an observation without its indicator or line", chunk);
        return 0; /* stored as it came: it completes nothing */
    }
    if (!(st = prep(c, "INSERT INTO matches VALUES(?1,?2,?3,?4,?5,?6,NULL,NULL,?7)")))
        return -1;
    sqlite3_bind_text(st, 1, chunk, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, version);
    sqlite3_bind_int64(st, 3, line);
    sqlite3_bind_text(st, 4, id, -1, SQLITE_TRANSIENT);
    bind_text(st, 5, t && (t->type == AJSON_STRING || t->type == AJSON_NUMBER) ? t->u.str : NULL,
              t && t->u.str ? strlen(t->u.str) : 0);
    sqlite3_bind_int(st, 6, t && t->type == AJSON_STRING);
    bind_text(st, 7, ev, ev ? strlen(ev) : 0);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    c->matches++;
    c->combined++;
    if (rc == 0 && c->print) {
        fwrite(body, 1, len, stdout);
        fputc('\n', stdout);
    }
    return rc;
}

/* Feeds the observations of source at offsets [from, to) in source order; completed
 * combinations become matches when emit.  0, or -2 on a database error. */
static int feed(collector *c, const char *source, int64_t from, int64_t to, int emit)
{
    sqlite3_stmt *st = prep(c, "SELECT chunk, version, body FROM observations WHERE source = ?1"
                               " AND offset >= ?2 AND offset < ?3 ORDER BY offset, ord");
    ajson_arena a;
    int rc = 0, s;
    if (!st)
        return -2;
    ajson_arena_init(&a, 16u << 20);
    sqlite3_bind_text(st, 1, source, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, from);
    sqlite3_bind_int64(st, 3, to);
    while (rc == 0 && (s = sqlite3_step(st)) == SQLITE_ROW) {
        const char *chunk = (const char *)sqlite3_column_text(st, 0), *why = NULL;
        const char *body = (const char *)sqlite3_column_text(st, 2);
        size_t n = (size_t)sqlite3_column_bytes(st, 2);
        const ajson_value *o;
        ajson_error je;
        ntemp_obs ob;
        int hit;
        ajson_arena_reset(&a);
        if (!(o = ajson_parse(&a, body, n, &je)) || ntemp_obs_read(o, &ob, &why) != 1)
            continue; /* checked when stored */
        if (!ntemporal_known(c->tmp, ob.key) && pattern_load(c, ob.key) != 0)
            continue;
        hit = ntemporal_add(c->tmp, source, &ob);
        if (hit < 0 && hit != ACCORD_ELIMIT)
            cli_error(c->cmd, "chunk %s: observation of pattern %016" PRIx64 ": %s", chunk,
                      ob.key, hit == ACCORD_EINVAL ? "a leaf the pattern does not have" : "no memory");
        if (hit == 1 && emit && combined_match(c, chunk, sqlite3_column_int64(st, 1), o, body, n) != 0)
            rc = -2;
        if (hit == ACCORD_ENOMEM)
            rc = -2;
    }
    if (rc == 0 && s != SQLITE_DONE)
        rc = -2;
    sqlite3_finalize(st);
    ajson_arena_free(&a);
    return rc;
}

typedef struct pobs {
    uint64_t key;
    size_t seq; /* order in the source */
    int64_t rowid;
    pattern_tobs t;
} pobs;

static int pobs_cmp(const void *a, const void *b)
{
    const pobs *x = a, *y = b;
    return x->key != y->key ? (x->key > y->key) - (x->key < y->key)
                            : (x->seq > y->seq) - (x->seq < y->seq);
}

/*
 * Deletes the observations of source before next (those combined) that no temporal state
 * holds any more nor ever will (ntemporal_prunable, per pattern: what its outermost WITHIN has
 * left behind every later observation), so the table keeps about a window's worth per source
 * and pattern.  A rebuild from what is left reaches the same state.  0, or -2.
 */
static int prune(collector *c, const char *source, int64_t next)
{
    sqlite3_stmt *st = prep(c, "SELECT rowid, body FROM observations WHERE source = ?1"
                               " AND offset < ?2 ORDER BY offset, ord"),
                 *del = st ? prep(c, "DELETE FROM observations WHERE rowid = ?1") : NULL;
    ajson_arena a;
    pobs *v = NULL;
    size_t n = 0, cap = 0;
    int rc = 0, s;
    if (!st || !del) {
        sqlite3_finalize(st);
        return -2;
    }
    ajson_arena_init(&a, 1u << 20);
    sqlite3_bind_text(st, 1, source, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, next);
    while (rc == 0 && (s = sqlite3_step(st)) == SQLITE_ROW) {
        const ajson_value *o;
        const char *why;
        ajson_error je;
        ntemp_obs ob;
        ajson_arena_reset(&a);
        o = ajson_parse(&a, (const char *)sqlite3_column_text(st, 1),
                        (size_t)sqlite3_column_bytes(st, 1), &je);
        if (!o || ntemp_obs_read(o, &ob, &why) != 1)
            continue; /* checked when stored */
        if (n == cap) {
            pobs *nv = realloc(v, (cap = cap ? cap * 2 : 256) * sizeof *v);
            if (!nv) {
                rc = -2;
                break;
            }
            v = nv;
        }
        v[n] = (pobs){ob.key, n, sqlite3_column_int64(st, 0), ob.t};
        n++;
    }
    sqlite3_finalize(st);
    ajson_arena_free(&a);
    if (n)
        qsort(v, n, sizeof *v, pobs_cmp);
    for (size_t i = 0, j; rc == 0 && i < n; i = j) {
        pattern_tobs *t;
        size_t k = 0;
        for (j = i; j < n && v[j].key == v[i].key; j++)
            ;
        if (!ntemporal_known(c->tmp, v[i].key) && pattern_load(c, v[i].key) != 0)
            continue;
        if (!(t = malloc((j - i) * sizeof *t))) {
            rc = -2;
            break;
        }
        for (size_t q = i; q < j; q++)
            t[q - i] = v[q].t;
        k = ntemporal_prunable(c->tmp, v[i].key, t, j - i);
        free(t);
        for (size_t q = i; rc == 0 && q < i + k; q++) {
            sqlite3_reset(del);
            sqlite3_bind_int64(del, 1, v[q].rowid);
            rc = sqlite3_step(del) == SQLITE_DONE ? 0 : -2;
        }
        c->pruned += rc == 0 ? k : 0;
    }
    sqlite3_finalize(del);
    free(v);
    return rc;
}

/*
 * After a chunk of source was done: combines the observations of every chunk that now follows
 * the source's combined part without a gap (the chunk at offset `next`, then the one at its end,
 * ...), and moves `next` on.  A chunk not yet done holds back the ones after it, so each
 * source's observations are combined in its order whatever order chunks were done in.  The
 * state in memory is rebuilt from the database (everything before `next`, nothing reported)
 * when this process has none for the source.  0, or -2 on a database error.
 */
static int advance(collector *c, const char *source)
{
    sqlite3_stmt *st = prep(c, "SELECT next FROM sources WHERE source = ?1"), *ck;
    int64_t next = 0, start;
    char id[NATS_SOURCE_MAX + 32];
    int rc = 0;
    if (!st)
        return -2;
    sqlite3_bind_text(st, 1, source, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        next = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (!ntemporal_has_source(c->tmp, source)) {
        rc = feed(c, source, 0, next, 0);
        if (rc == 0 && ntemporal_mark(c->tmp, source) != 0)
            rc = -2;
    }
    start = next;
    if (rc || !(ck = prep(c, "SELECT bytes FROM chunks WHERE chunk = ?1")))
        return -2;
    for (;;) {
        int64_t bytes;
        snprintf(id, sizeof id, "%s:%" PRId64, source, next);
        sqlite3_reset(ck);
        sqlite3_bind_text(ck, 1, id, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(ck) != SQLITE_ROW || sqlite3_column_type(ck, 0) != SQLITE_INTEGER ||
            (bytes = sqlite3_column_int64(ck, 0)) <= 0 || bytes > INT64_MAX - next)
            break;
        if ((rc = feed(c, source, next, next + 1, 1)) != 0)
            break;
        next += bytes;
    }
    sqlite3_finalize(ck);
    if (rc == 0 && next != start &&
        (st = prep(c, "INSERT OR REPLACE INTO sources VALUES(?1, ?2)"))) {
        sqlite3_bind_text(st, 1, source, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, next);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -2;
        sqlite3_finalize(st);
        if (rc == 0) {
            uint64_t h = u64map_key(XXH3_64bits(source, strlen(source))), k = 0;
            u64map_get(&c->advanced, h, &k);
            if (++k >= PRUNE_EVERY) {
                k = 0;
                rc = prune(c, source, next);
            }
            if (u64map_put(&c->advanced, h, k) != 0)
                rc = -2;
        }
    }
    return rc;
}

/* One result message in one transaction: 0 (stored or a duplicate), -1 when the message is
 * not a result (it is acknowledged and counted as rejected), -2 on a database error (not
 * acknowledged: delivered again). */
static int take(collector *c, natsMsg *m)
{
    const char *chunk = hdr(m, "Accord-Chunk"), *vs = hdr(m, "Accord-Snapshot"),
               *ps = hdr(m, "Accord-Part");
    uint64_t version;
    uint32_t part, parts;
    nats_chunk_id cid;
    const char *why;
    sqlite3_stmt *st = NULL, *ins = NULL;
    int rc = 0, done = 0;
    if (!chunk || nats_chunk_id_parse(chunk, strlen(chunk), &cid, &why) != 0 || !vs ||
        nats_u64_parse(vs, strlen(vs), &version) != 0 || version > INT64_MAX || !ps ||
        nats_part_parse(ps, strlen(ps), &part, &parts) != 0) {
        cli_error(c->cmd, "result (stream seq %" PRIu64 ") without a valid Accord-Chunk, "
                          "Accord-Snapshot or Accord-Part; dropped",
                  natsMsg_GetSequence(m));
        return -1;
    }
    if (exec1(c, "BEGIN IMMEDIATE") != 0)
        return -2;
    if ((st = prep(c, "SELECT 1 FROM chunks WHERE chunk = ?1"))) {
        sqlite3_bind_text(st, 1, chunk, -1, SQLITE_STATIC);
        done = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_finalize(st);
    } else {
        rc = -2;
    }
    if (rc == 0 && done)
        c->dups++;
    if (rc == 0 && !done && (st = prep(c, "INSERT OR IGNORE INTO parts VALUES(?1,?2,?3,?4,?5)"))) {
        sqlite3_bind_text(st, 1, chunk, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (int64_t)version);
        sqlite3_bind_int(st, 3, (int)part);
        sqlite3_bind_int(st, 4, (int)parts);
        sqlite3_bind_blob(st, 5, natsMsg_GetData(m) ? natsMsg_GetData(m) : "",
                          natsMsg_GetDataLength(m), SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = -2;
        sqlite3_finalize(st);
        /* complete? then its matches go in and the chunk is done */
        st = rc ? NULL
                : prep(c, "SELECT body FROM parts WHERE chunk = ?1 AND version = ?2 ORDER BY part");
        ins = st ? prep(c, "INSERT INTO matches VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)") : NULL;
        if (st && ins) {
            uint32_t have = 0;
            sqlite3_bind_text(st, 1, chunk, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 2, (int64_t)version);
            while (sqlite3_step(st) == SQLITE_ROW)
                have++;
            if (have == parts) {
                int64_t ord = 0;
                sqlite3_reset(st);
                while (rc == 0 && sqlite3_step(st) == SQLITE_ROW)
                    if (store_lines(c, ins, &cid, chunk, (int64_t)version,
                                    sqlite3_column_blob(st, 0),
                                    (size_t)sqlite3_column_bytes(st, 0), &ord) != 0)
                        rc = -1;
                done = 1;
            }
        } else if (rc == 0) {
            rc = -2;
        }
        sqlite3_finalize(st);
        sqlite3_finalize(ins);
        if (rc == 0 && done) {
            const char *cols[] = {"Accord-Lines", "Accord-Events", "Accord-Matches",
                                  "Accord-Malformed", "Accord-Bytes"};
            st = prep(c, "INSERT INTO chunks VALUES(?1,?2,?3,?4,?5,?6,?7,?8,"
                         "CAST(strftime('%s','now') AS INTEGER))");
            if (!st)
                rc = -2;
            if (st) {
                const char *inp = hdr(m, "Accord-Input");
                sqlite3_bind_text(st, 1, chunk, -1, SQLITE_STATIC);
                sqlite3_bind_int64(st, 2, (int64_t)version);
                bind_text(st, 3, inp, inp ? strlen(inp) : 0);
                for (int k = 0; k < 5; k++) {
                    const char *v = hdr(m, cols[k]);
                    uint64_t n = 0;
                    if (v && nats_u64_parse(v, strlen(v), &n) == 0 && n <= INT64_MAX)
                        sqlite3_bind_int64(st, 4 + k, (int64_t)n);
                }
                if (sqlite3_step(st) != SQLITE_DONE)
                    rc = -2;
                sqlite3_finalize(st);
            }
            if (rc == 0 && (st = prep(c, "DELETE FROM parts WHERE chunk = ?1"))) {
                sqlite3_bind_text(st, 1, chunk, -1, SQLITE_STATIC);
                rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -2;
                sqlite3_finalize(st);
            }
            if (rc == 0 && hdr(m, "Accord-Dead") &&
                (st = prep(c, "INSERT OR IGNORE INTO gaps VALUES(?1, ?2, ?3,"
                              " CAST(strftime('%s','now') AS INTEGER))"))) {
                const char *reason = hdr(m, "Accord-Dead"), *nb = hdr(m, "Accord-Bytes");
                uint64_t n = 0;
                sqlite3_bind_text(st, 1, chunk, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 2, reason, -1, SQLITE_STATIC);
                if (nb && nats_u64_parse(nb, strlen(nb), &n) == 0 && n <= INT64_MAX)
                    sqlite3_bind_int64(st, 3, (int64_t)n);
                rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -2;
                sqlite3_finalize(st);
                if (rc == 0)
                    fprintf(stderr, "accord %s: chunk %s was dead-lettered (%s): a gap in its source,"
                                    " the later chunks combined past it\n", c->cmd, chunk, reason);
            }
            if (rc == 0)
                rc = advance(c, cid.source);
            c->chunks += rc == 0;
        }
    }
    if (rc == 0 && exec1(c, "COMMIT") == 0)
        return 0;
    if (rc == -2)
        cli_error(c->cmd, "results database: %s", sqlite3_errmsg(c->db));
    exec1(c, "ROLLBACK");
    ntemporal_reset(c->tmp); /* what it was fed is rolled back: rebuilt from the database */
    return rc ? rc : -2;
}

/* ------------------------------------------------------------------------------------------ */
/* Sightings                                                                                    */

typedef struct snap_ids {
    accord_snapshot *snap;
    u64map ids; /* XXH3(id) -> indicator number + 1 */
} snap_ids;

/* The current snapshot and its indicator ids: sightings name indicators by id, and the
 * results database holds ids, so any snapshot that has an indicator can count its matches. */
static int snap_ids_load(collector *c, snap_ids *s)
{
    nats_pointer p;
    memset(s, 0, sizeof *s);
    u64map_init(&s->ids);
    if (nats_pointer_get(c->cmd, &c->l, &p, NULL) != 0)
        return -1;
    if (nats_snapshot_fetch(c->cmd, &c->l, &p, 0, &s->snap) != 0)
        return -1;
    for (size_t i = 0, n = accord_snapshot_count(s->snap); i < n; i++) {
        accord_indicator_info info;
        accord_snapshot_indicator(s->snap, i, &info);
        if (u64map_put(&s->ids, u64map_key(XXH3_64bits(info.id, strlen(info.id))), i + 1) != 0)
            return -1;
    }
    return 0;
}

static int write_sightings(collector *c, const char *report, int64_t interval_s)
{
    snap_ids si;
    accord_sightings *sg = NULL;
    sqlite3_stmt *st;
    accord_store *store;
    accord_import_stats ist = {0};
    accord_error err = {0};
    uint64_t counted = 0, unknown = 0;
    int rc = 0;
    if (snap_ids_load(c, &si) != 0 || accord_sightings_new(si.snap, interval_s, &sg) != 0) {
        u64map_free(&si.ids);
        accord_snapshot_unref(si.snap);
        cli_error(c->cmd, "sightings: no snapshot to name the indicators");
        return -1;
    }
    st = prep(c, "SELECT indicator, time, time_is_string FROM matches");
    while (st && sqlite3_step(st) == SQLITE_ROW && rc == 0) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        const char *t = (const char *)sqlite3_column_text(st, 1);
        uint64_t v;
        uint32_t ind;
        accord_match mt;
        if (!id || u64map_get(&si.ids, u64map_key(XXH3_64bits(id, strlen(id))), &v) != 1) {
            unknown++; /* an indicator the current snapshot no longer has */
            continue;
        }
        ind = (uint32_t)(v - 1);
        memset(&mt, 0, sizeof mt);
        mt.time = t;
        mt.time_len = t ? strlen(t) : 0;
        mt.time_is_string = sqlite3_column_int(st, 2);
        mt.indicators = &ind;
        mt.nindicators = 1;
        rc = accord_sightings_add_match(sg, &mt, 0);
        counted++;
    }
    sqlite3_finalize(st);
    if (rc == 0 && (store = cli_open_store(0))) {
        rc = accord_sightings_store(sg, store, cli_data_dir(), report, &ist, &err);
        if (rc)
            cli_error(c->cmd, "sightings: %s", err.msg[0] ? err.msg : "could not be stored");
        else
            fprintf(stderr,
                    "accord %s: %zu sightings of %" PRIu64 " matches to %s (%" PRIu64
                    " objects new or updated)%s\n",
                    c->cmd, accord_sightings_count(sg), counted,
                    report ? report : "the default collection", ist.accepted + ist.versions,
                    unknown ? "; matches of indicators no longer in the snapshot left out" : "");
        accord_store_close(store);
    } else if (rc == 0) {
        rc = -1;
    }
    accord_sightings_free(sg);
    u64map_free(&si.ids);
    accord_snapshot_unref(si.snap);
    return rc ? -1 : 0;
}

/* ------------------------------------------------------------------------------------------ */

typedef struct collect_cfg {
    const char *db, *report;
    double idle, every;
    int64_t interval_s;
    int sightings, print, drain;
} collect_cfg;

/* Opens the results database (created with its tables when new) and binds to the tenant's
 * results.  0, or -1 after printing why (everything closed). */
static int collect_open(collector *c, const nats_opts *o, const collect_cfg *cfg)
{
    char path[4096];
    const char *db = cfg->db;
    nats_names nm;
    c->print = cfg->print;
    if (!db) {
        mkdir(cli_data_dir(), 0700); /* a worker-side host may have no store yet */
        snprintf(path, sizeof path, "%s/nats-results.db", cli_data_dir());
        db = path;
    }
    if (sqlite3_open_v2(db, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        cli_error(c->cmd, "%s: %s", db, c->db ? sqlite3_errmsg(c->db) : "cannot open");
        sqlite3_close(c->db);
        return -1;
    }
    sqlite3_busy_timeout(c->db, 30000);
    u64map_init(&c->advanced);
    if (exec1(c, schema) != 0 || ntemporal_new(&c->tmp) != 0 ||
        nats_link_open(c->cmd, o, 1, &c->l) != 0) {
        ntemporal_free(c->tmp);
        sqlite3_close(c->db);
        return -1;
    }
    nats_names_of(o->tenant, &nm);
    snprintf(c->stream, sizeof c->stream, "%s", nm.res);
    if (nats_pull(c->cmd, &c->l, nm.res, NATS_CONSUMER_COLLECTOR, nm.res_subj, &c->sub) != 0) {
        nats_link_close(&c->l);
        ntemporal_free(c->tmp);
        sqlite3_close(c->db);
        return -1;
    }
    return 0;
}

/* Takes results until nats_stop is set (or nothing came for cfg->idle seconds, or with
 * cfg->drain the consumer has nothing left), writing the sightings every cfg->every seconds. */
static void collect_loop(collector *c, const collect_cfg *cfg)
{
    double last = nats_mono(), last_sg = last;
    while (!nats_stop) {
        natsMsgList list = {NULL, 0};
        jsErrCode jerr = 0;
        natsStatus s = natsSubscription_Fetch(&list, c->sub, 64, 500, &jerr);
        if (cfg->drain && (s == NATS_TIMEOUT || (s == NATS_OK && list.Count == 0)) &&
            nats_consumer_done(&c->l, c->stream, NATS_CONSUMER_COLLECTOR) == 1)
            break; /* every result taken, and acknowledged after its commit */
        if (s == NATS_OK) {
            for (int i = 0; i < list.Count; i++) {
                int t = take(c, list.Msgs[i]);
                c->messages++;
                if (t == -2) {
                    natsMsg_NakWithDelay(list.Msgs[i], 1000, NULL);
                    continue;
                }
                c->rejected += t == -1;
                /* committed: a lost acknowledgement only brings a copy the chunks table drops */
                natsMsg_Ack(list.Msgs[i], NULL);
            }
            if (list.Count)
                last = nats_mono();
            natsMsgList_Destroy(&list);
            fflush(stdout);
        } else if (s != NATS_TIMEOUT) {
            nats_Sleep(200);
        }
        if (cfg->sightings && cfg->every > 0 && nats_mono() - last_sg > cfg->every) {
            write_sightings(c, cfg->report, cfg->interval_s);
            last_sg = nats_mono();
        }
        if (cfg->idle > 0 && nats_mono() - last > cfg->idle)
            break;
    }
}

/* Prunes every source (one transaction); what fails stays for the next time. */
static void prune_all(collector *c)
{
    sqlite3_stmt *st;
    int rc = 0;
    if (exec1(c, "BEGIN IMMEDIATE") != 0)
        return;
    if ((st = prep(c, "SELECT source, next FROM sources"))) {
        while (rc == 0 && sqlite3_step(st) == SQLITE_ROW)
            rc = prune(c, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1));
        sqlite3_finalize(st);
    }
    exec1(c, rc == 0 && st ? "COMMIT" : "ROLLBACK");
}

/* Reports, writes the sightings a last time, closes.  0 or -1. */
static int collect_close(collector *c, const collect_cfg *cfg)
{
    int rc = 0;
    natsConnection_FlushTimeout(c->l.nc, 2000); /* the last acknowledgements */
    prune_all(c);
    fprintf(stderr,
            "accord %s: %" PRIu64 " result messages, %" PRIu64 " chunks done, %" PRIu64
            " duplicates, %" PRIu64 " matches (%" PRIu64 " of multi-observation indicators), %" PRIu64
            " rejected, %" PRIu64 " observations pruned\n",
            c->cmd, c->messages, c->chunks, c->dups, c->matches, c->combined, c->rejected,
            c->pruned);
    if (cfg->sightings && write_sightings(c, cfg->report, cfg->interval_s) != 0)
        rc = -1;
    natsSubscription_Destroy(c->sub);
    nats_link_close(&c->l);
    ntemporal_free(c->tmp);
    u64map_free(&c->advanced);
    sqlite3_close(c->db);
    return rc;
}

/* The collector's options at argv[i] (--db, --report, ...): the arguments used, 0 when not
 * one, -1 when its value is bad. */
static int collect_arg(collect_cfg *cfg, int argc, char **argv, int i, const char *prefix)
{
    static const char *const names[] = {"print", "sightings", "drain", "db", "report", "idle",
                                        "sightings-every", "sightings-interval"};
    size_t pl = strlen(prefix), k = 0;
    char *end;
    if (strncmp(argv[i], prefix, pl) != 0)
        return 0;
    while (k < sizeof names / sizeof names[0] && strcmp(argv[i] + pl, names[k]) != 0)
        k++;
    if (k <= 2) {
        *(k == 0 ? &cfg->print : k == 1 ? &cfg->sightings : &cfg->drain) = 1;
        return 1;
    }
    if (k == sizeof names / sizeof names[0])
        return 0;
    if (i + 1 >= argc)
        return -1;
    if (k == 3) {
        cfg->db = argv[i + 1];
    } else if (k == 4) {
        cfg->sightings = 1;
        cfg->report = argv[i + 1];
    } else if (k == 5) {
        cfg->idle = strtod(argv[i + 1], &end);
        if (*end || !(cfg->idle >= 0 && cfg->idle < 1e6))
            return -1;
    } else if (k == 6) {
        cfg->every = strtod(argv[i + 1], &end);
        if (*end || !(cfg->every >= 1 && cfg->every < 1e6))
            return -1;
    } else {
        long v = strtol(argv[i + 1], &end, 10);
        if (*end || v < 1 || v > 31 * 86400)
            return -1;
        cfg->interval_s = v;
    }
    return 2;
}

int cmd_nats_collect(const nats_opts *o, int argc, char **argv)
{
    collector c = {.cmd = "nats collect"};
    collect_cfg cfg = {.interval_s = 3600};
    for (int i = 2, k; i < argc; i += k)
        if ((k = collect_arg(&cfg, argc, argv, i, "--")) <= 0)
            return EXIT_USAGE;
    nats_signals();
    if (collect_open(&c, o, &cfg) != 0)
        return EXIT_FAIL;
    collect_loop(&c, &cfg);
    return collect_close(&c, &cfg) ? EXIT_FAIL : EXIT_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* accord serve --nats: the collector in a thread beside the server                            */

struct nats_serve {
    nats_opts o;
    collect_cfg cfg;
    collector c;
    pthread_t tid;
    int running;
};

int nats_serve_args(int *argc, char **argv, nats_serve **out)
{
    nats_serve *ns = calloc(1, sizeof *ns);
    int n = 1, rc = 0;
    *out = NULL;
    if (!ns)
        return -1;
    ns->o.tenant = "default";
    ns->cfg.interval_s = 3600;
    ns->cfg.sightings = 1;
    ns->cfg.every = 60;
    ns->c.cmd = "serve";
    /* --nats* and --tenant are the connection's, --nats-report and the like the collector's;
     * the rest stay for serve */
    for (int i = 1; i < *argc && rc == 0;) {
        /* a server's collector runs until the server stops, and prints nothing */
        int k = strcmp(argv[i], "--nats-print") == 0 || strcmp(argv[i], "--nats-idle") == 0 ||
                        strcmp(argv[i], "--nats-drain") == 0
                    ? -1
                    : collect_arg(&ns->cfg, *argc, argv, i, "--nats-");
        if (k == 0)
            k = nats_opt_arg(&ns->o, *argc, argv, i);
        if (k < 0)
            rc = -1;
        else if (k == 0)
            argv[n++] = argv[i++];
        else
            i += k;
    }
    argv[n] = NULL;
    *argc = n;
    if (rc != 0 || !ns->o.url) {
        free(ns);
        return rc;
    }
    *out = ns;
    return 0;
}

static void *serve_main(void *arg)
{
    nats_serve *ns = arg;
    collect_loop(&ns->c, &ns->cfg);
    return NULL;
}

int nats_serve_start(nats_serve *ns)
{
    if (collect_open(&ns->c, &ns->o, &ns->cfg) != 0)
        return -1;
    if (pthread_create(&ns->tid, NULL, serve_main, ns) != 0) {
        cli_error(ns->c.cmd, "NATS collector: cannot start a thread");
        collect_close(&ns->c, &ns->cfg);
        return -1;
    }
    ns->running = 1;
    fprintf(stderr, "accord serve: collecting results of tenant %s from %s\n", ns->o.tenant,
            ns->o.url);
    return 0;
}

void nats_serve_stop(nats_serve *ns)
{
    if (!ns)
        return;
    if (ns->running) {
        nats_stop = 1;
        pthread_join(ns->tid, NULL);
        collect_close(&ns->c, &ns->cfg);
        nats_Close();
    }
    free(ns);
}
