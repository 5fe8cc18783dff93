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
#include "util/json.h"
#include "util/u64map.h"

#include <inttypes.h>
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
    " value TEXT, event TEXT);";

typedef struct collector {
    const char *cmd;
    sqlite3 *db;
    nats_link l;
    int print;
    uint64_t messages, dups, chunks, matches, rejected;
} collector;

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

/* The match lines of one part into the matches table; -1 when a line is not a result. */
static int store_lines(collector *c, sqlite3_stmt *ins, const char *chunk, int64_t version,
                       const char *body, size_t len)
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
                sqlite3_reset(st);
                while (rc == 0 && sqlite3_step(st) == SQLITE_ROW)
                    if (store_lines(c, ins, chunk, (int64_t)version, sqlite3_column_blob(st, 0),
                                    (size_t)sqlite3_column_bytes(st, 0)) != 0)
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
            c->chunks += rc == 0;
        }
    }
    if (rc == 0 && exec1(c, "COMMIT") == 0)
        return 0;
    if (rc == -2)
        cli_error(c->cmd, "results database: %s", sqlite3_errmsg(c->db));
    exec1(c, "ROLLBACK");
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
                    "accord nats collect: %zu sightings of %" PRIu64 " matches to %s (%" PRIu64
                    " objects new or updated)%s\n",
                    accord_sightings_count(sg), counted,
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

int cmd_nats_collect(const nats_opts *o, int argc, char **argv)
{
    collector c = {.cmd = "nats collect"};
    const char *db = NULL, *report = NULL;
    char path[4096];
    double idle = 0, every = 0, last = 0, last_sg;
    int64_t interval_s = 3600;
    int sightings = 0, rc = 0;
    natsSubscription *sub = NULL;
    for (int i = 2; i < argc; i++) {
        char *end;
        if (strcmp(argv[i], "--print") == 0) {
            c.print = 1;
        } else if (strcmp(argv[i], "--sightings") == 0) {
            sightings = 1;
        } else if (i + 1 >= argc) {
            return EXIT_USAGE;
        } else if (strcmp(argv[i], "--db") == 0) {
            db = argv[++i];
        } else if (strcmp(argv[i], "--report") == 0) {
            sightings = 1;
            report = argv[++i];
        } else if (strcmp(argv[i], "--idle") == 0) {
            idle = strtod(argv[++i], &end);
            if (*end || !(idle >= 0 && idle < 1e6))
                return EXIT_USAGE;
        } else if (strcmp(argv[i], "--sightings-every") == 0) {
            every = strtod(argv[++i], &end);
            if (*end || !(every >= 1 && every < 1e6))
                return EXIT_USAGE;
        } else if (strcmp(argv[i], "--sightings-interval") == 0) {
            long v = strtol(argv[++i], &end, 10);
            if (*end || v < 1 || v > 31 * 86400)
                return EXIT_USAGE;
            interval_s = v;
        } else {
            return EXIT_USAGE;
        }
    }
    if (!db) {
        mkdir(cli_data_dir(), 0700); /* a worker-side host may have no store yet */
        snprintf(path, sizeof path, "%s/nats-results.db", cli_data_dir());
        db = path;
    }
    if (sqlite3_open_v2(db, &c.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        cli_error(c.cmd, "%s: %s", db, c.db ? sqlite3_errmsg(c.db) : "cannot open");
        sqlite3_close(c.db);
        return EXIT_FAIL;
    }
    sqlite3_busy_timeout(c.db, 30000);
    nats_signals();
    if (exec1(&c, schema) != 0 || nats_link_open(c.cmd, o, 1, &c.l) != 0) {
        sqlite3_close(c.db);
        return EXIT_FAIL;
    }
    if (nats_pull(c.cmd, &c.l, NATS_STREAM_RES, NATS_CONSUMER_COLLECTOR, "accord.res.>", &sub) != 0)
        rc = -1;
    last = last_sg = nats_mono();
    while (rc == 0 && !nats_stop) {
        natsMsgList list = {NULL, 0};
        jsErrCode jerr = 0;
        natsStatus s = natsSubscription_Fetch(&list, sub, 64, 500, &jerr);
        if (s == NATS_OK) {
            for (int i = 0; i < list.Count; i++) {
                int t = take(&c, list.Msgs[i]);
                c.messages++;
                if (t == -2) {
                    natsMsg_NakWithDelay(list.Msgs[i], 1000, NULL);
                    continue;
                }
                c.rejected += t == -1;
                natsMsg_AckSync(list.Msgs[i], NULL, NULL);
            }
            if (list.Count)
                last = nats_mono();
            natsMsgList_Destroy(&list);
            fflush(stdout);
        } else if (s != NATS_TIMEOUT) {
            nats_Sleep(200);
        }
        if (sightings && every > 0 && nats_mono() - last_sg > every) {
            write_sightings(&c, report, interval_s);
            last_sg = nats_mono();
        }
        if (idle > 0 && nats_mono() - last > idle)
            break;
    }
    fprintf(stderr,
            "accord nats collect: %" PRIu64 " result messages, %" PRIu64 " chunks done, %" PRIu64
            " duplicates, %" PRIu64 " matches, %" PRIu64 " rejected\n",
            c.messages, c.chunks, c.dups, c.matches, c.rejected);
    if (rc == 0 && sightings && write_sightings(&c, report, interval_s) != 0)
        rc = -1;
    natsSubscription_Destroy(sub);
    nats_link_close(&c.l);
    sqlite3_close(c.db);
    return rc ? EXIT_FAIL : EXIT_OK;
}
