/*
 * store_console.c - indicator selections for the web console (see store_console.h).
 *
 * An indicator's sightings (its last one, their count) come from table sighted (schema 11):
 * the sighted indicators are its rows joined to the latest indicators by the hash of their id
 * (indicators_id, schema 13), the others a probe each.  Its source (created_by_ref) is the
 * indicators row's created_by (schema 12), and a filter by source walks that member's latest
 * indicators through indicators_src (the hash of created_by, schema 13) in seq order: no
 * selection reads a body.

 * The relationships of an object come from two partial expression indexes on the relationship
 * rows (objects_rel_source, objects_rel_target: the endpoint and seq, schema 7), merged in seq
 * order by one compound SELECT, so a page costs its rows whatever the size of the store.
 *
 * A search of many values hashes them all, looks the hashes up in one pass over the value
 * index's runs (store_runs_lookup_many: sorted keys share the chunks they fall in), then reads
 * the rows value by value in seq order, which is the order of the search's cursor.
 *
 * The sightings series reads the sightings table (schema 8, kept by store.c's insert path): one
 * row per sighting version store-wide and per collection holding it, with its time, count and
 * what it sights (the label columns are read from the objects row only for a viewer that needs
 * them checked), so a series is a range of the table's key (a collection) or
 * of sightings_of (an indicator) and never reads a body.  Visibility is the read paths' rule
 * (store_label_clears, store_dep_clears), what a sighting names checked once per distinct list.
 *
 * Console sessions (table sessions, schema 7) are rows keyed by the hash of their id; the
 * server's memory holds them while it runs (session.c), this table across restarts.
 */
#include "store_console.h"
#include "store_int.h"
#include "util/u64map.h"
#include "values.h"

#include <xxhash.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SQL_MAX 8192

static void add(char *sql, const char *s)
{
    size_t n = strlen(sql);
    snprintf(sql + n, SQL_MAX - n, "%s", s);
}

/* The sighted objects: each one's newest sighting (added) and count of latest sighting versions,
 * kept by triggers (table sighted, schema 11). */
#define SIGHTED_FROM                                                                               \
    "sighted ls CROSS JOIN indicators i INDEXED BY indicators_id"                                 \
    " ON i.idh = id_hash(ls.of_ref) AND i.id = ls.of_ref"
#define SIGHTED_BY_LAST                                                                            \
    "sighted ls INDEXED BY sighted_last CROSS JOIN indicators i INDEXED BY indicators_id"         \
    " ON i.idh = id_hash(ls.of_ref) AND i.id = ls.of_ref"
#define NO_SIGHTING "NOT EXISTS (SELECT 1 FROM sighted WHERE of_ref = i.id)"
/* Below this many candidates in a valid_until range, a page sorts them by seq; above it, it
 * walks the type's (or every) latest indicator by seq and filters: either way a page reads at most
 * about this many index entries while matches are at least this dense. */
#define RANGE_SORT_MAX 4096

/* One SELECT of the selection: from `from`, with its last sighting and count as last_e and n_e,
 * the filters of f and `extra`. */
static void arm(char *sql, const store_ind_sel *f, const char *from, const char *last_e,
                const char *n_e, const char *extra)
{
    char head[1024];
    snprintf(head, sizeof(head),
             "SELECT i.seq AS seq, i.added, i.id, i.modified, i.tlp, i.valid_until, i.pattern,"
             " i.name, i.flags, %s AS last, %s, i.created_by FROM %s WHERE (i.flags & 2) = 0",
             last_e, n_e, from);
    add(sql, head);
    if (extra)
        add(sql, extra);
    if (f->obs_type)
        add(sql, " AND " STORE_IND_TYPE " = ?2");
    if (f->tlp != -2)
        add(sql, " AND (CASE WHEN i.tlp = -1 THEN ?1 ELSE i.tlp END) = ?3");
    if (f->source)
        add(sql, " AND i.srch = ?11 AND i.created_by = ?4");
    if (f->vu_before)
        add(sql, " AND i.valid_until IS NOT NULL AND i.valid_until < ?5");
    if (f->vu_after)
        add(sql, " AND (i.valid_until IS NULL OR i.valid_until > ?6)");
    if (f->revoked == 1)
        add(sql, " AND (i.flags & 1) = 1");
    else if (f->revoked == 0)
        add(sql, " AND (i.flags & 1) = 0");
    if (f->max_seq)
        add(sql, " AND i.seq <= ?9");
    if (f->extend_to)
        add(sql, " AND (i.flags & 1) = 0 AND i.valid_until IS NOT NULL AND i.valid_until < ?10");
    if (f->cur_seq && f->by_last_sighting) {
        /* the range on last first, so that sighted_last bounds the walk */
        snprintf(head, sizeof(head), " AND %s <= ?7 AND (%s < ?7 OR i.seq < ?8)", last_e, last_e);
        add(sql, head);
    } else if (f->cur_seq) {
        add(sql, " AND i.seq < ?8");
    }
}

/* Runs one SELECT of the selection (sql) for f, calling cb for each row until it returns
 * non-zero (returned). */
static int run_sel(accord_store *s, const char *sql, const store_ind_sel *f,
                   int (*cb)(void *ud, const store_ind_row *r), void *ud, accord_error *err)
{
    if (strlen(sql) >= SQL_MAX - 1)
        return accord_err_set(err, ACCORD_ELIMIT, "indicator selection: query too long");
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL))
        return store_db_fail(s, err, "preparing an indicator selection");
    /* binding an index the query does not use is harmless (SQLITE_RANGE, ignored) */
    sqlite3_bind_int(st, 1, f->dflt);
    if (f->obs_type)
        sqlite3_bind_text(st, 2, f->obs_type, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, f->tlp);
    if (f->source) {
        sqlite3_bind_text(st, 4, f->source, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 11, (int64_t)store_id_hash(f->source));
    }
    sqlite3_bind_int64(st, 5, f->vu_before);
    sqlite3_bind_int64(st, 6, f->vu_after);
    sqlite3_bind_int64(st, 7, f->cur_last);
    sqlite3_bind_int64(st, 8, f->cur_seq);
    sqlite3_bind_int64(st, 9, f->max_seq);
    sqlite3_bind_int64(st, 10, f->extend_to);
    int rc = 0, step;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        int flags = sqlite3_column_int(st, 8);
        store_ind_row r = {
            .seq = sqlite3_column_int64(st, 0),
            .added = sqlite3_column_int64(st, 1),
            .id = (const char *)sqlite3_column_text(st, 2),
            .modified = (const char *)sqlite3_column_text(st, 3),
            .tlp = sqlite3_column_int(st, 4),
            .valid_until = sqlite3_column_int64(st, 5),
            .pattern = (const char *)sqlite3_column_text(st, 6),
            .name = (const char *)sqlite3_column_text(st, 7),
            .revoked = (flags & FLAG_REVOKED) != 0,
            .last_sighting = sqlite3_column_int64(st, 9),
            .sightings = sqlite3_column_int64(st, 10),
        };
        if (!f->no_source)
            r.source = (const char *)sqlite3_column_text(st, 11);
        rc = cb(ud, &r);
    }
    if (!rc && step != SQLITE_DONE)
        rc = store_db_fail(s, err, "selecting indicators");
    sqlite3_finalize(st);
    return rc;
}

/* Whether fewer than RANGE_SORT_MAX latest indicators (of type f->obs_type, when given) have a
 * valid_until before ub: one bounded range of indicators_type_vu / indicators_vu. */
static int range_is_small(accord_store *s, const store_ind_sel *f, int64_t ub, int *small,
                          accord_error *err)
{
    char sql[512];
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM (SELECT 1 FROM indicators INDEXED BY %s WHERE %s"
             " valid_until < ?2 AND (flags & 2) = 0 LIMIT %d)",
             f->obs_type ? "indicators_type_vu" : "indicators_vu",
             f->obs_type ? STORE_IND_TYPE " = ?1 AND" : "", RANGE_SORT_MAX);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL))
        return store_db_fail(s, err, "preparing an indicator count");
    if (f->obs_type)
        sqlite3_bind_text(st, 1, f->obs_type, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, ub);
    int rc = 0;
    if (sqlite3_step(st) == SQLITE_ROW)
        *small = sqlite3_column_int(st, 0) < RANGE_SORT_MAX;
    else
        rc = store_db_fail(s, err, "counting indicators");
    sqlite3_finalize(st);
    return rc;
}

/* The indicators table as the selection of f walks it in seq order: through the index of its
 * valid_until range when that range is small (then sorted), else of its source, of its type, or
 * whole.  With both a source and a type, the source's walk filters the type: either walk stops
 * once a page is full, and which one reads fewer entries depends on the data. */
static int ind_from(accord_store *s, const store_ind_sel *f, const char **from, accord_error *err)
{
    int64_t ub = f->vu_before;
    if (f->extend_to && (!ub || f->extend_to < ub))
        ub = f->extend_to;
    int small = 0, rc = ub ? range_is_small(s, f, ub, &small, err) : 0;
    if (rc)
        return rc;
    if (small)
        *from = f->obs_type ? "indicators i INDEXED BY indicators_type_vu"
                            : "indicators i INDEXED BY indicators_vu";
    else if (f->source)
        *from = "indicators i INDEXED BY indicators_src";
    else
        *from = f->obs_type ? "indicators i INDEXED BY indicators_type" : "indicators i";
    return 0;
}

int store_ind_select(accord_store *s, const store_ind_sel *f,
                     int (*cb)(void *ud, const store_ind_row *r), void *ud, accord_error *err)
{
    /* Sighted indicators come from the sighted table (one row per sighted object, joined by id);
       the others from the indicators table in seq order (through the index of the filters),
       with a probe of sighted per row.  Ordered by last sighting, the sighted ones come first
       through sighted_last, then the rest (last 0) by seq, each from its own statement (one
       compound SELECT would sort every indicator); so a page costs its own rows. */
    char sql[SQL_MAX] = "";
    int rc = 0;
    if (f->by_last_sighting && f->has_sightings != 0) {
        /* a cursor at last 0 is past every sighted one */
        if (!(f->cur_seq && f->cur_last == 0)) {
            arm(sql, f, SIGHTED_BY_LAST, "ls.last", "ls.n", NULL);
            add(sql, " ORDER BY last DESC, seq DESC");
            rc = run_sel(s, sql, f, cb, ud, err);
        }
        if (rc || f->has_sightings == 1)
            return rc;
        sql[0] = '\0';
    }
    const char *from = NULL;
    if (f->has_sightings != 1 && (rc = ind_from(s, f, &from, err)))
        return rc;
    if (f->has_sightings == 1)
        arm(sql, f, SIGHTED_FROM, "ls.last", "ls.n", NULL);
    else if (f->has_sightings == 0 || f->by_last_sighting)
        arm(sql, f, from, "0", "0", " AND " NO_SIGHTING);
    else
        arm(sql, f, from, "coalesce((SELECT last FROM sighted WHERE of_ref = i.id), 0)",
            "coalesce((SELECT n FROM sighted WHERE of_ref = i.id), 0)", NULL);
    /* the unsighted rows of a by-last-sighting order all have last 0: by seq */
    add(sql, " ORDER BY seq DESC");
    return run_sel(s, sql, f, cb, ud, err);
}

int store_seq_collections(accord_store *s, int64_t seq, int (*cb)(void *ud, const char *coll),
                          void *ud, accord_error *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT c.id FROM members m INDEXED BY members_seq"
                           " JOIN collections c ON c.cid = m.coll WHERE m.seq = ?1 ORDER BY c.cid",
                           -1, &st, NULL))
        return store_db_fail(s, err, "preparing a collection lookup");
    sqlite3_bind_int64(st, 1, seq);
    int rc = 0, step;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW)
        rc = cb(ud, (const char *)sqlite3_column_text(st, 0));
    if (!rc && step != SQLITE_DONE)
        rc = store_db_fail(s, err, "reading an object's collections");
    sqlite3_finalize(st);
    return rc;
}

int store_rels_of(accord_store *s, const accord_viewer *v, const char *id, int64_t after_seq,
                  accord_record_cb cb, void *ud, accord_error *err)
{
    /* the expressions are the indexes' own, so the planner uses them; UNION drops the second
       row of a relationship from id to itself */
    static const char sql[] =
        "SELECT seq FROM objects INDEXED BY objects_rel_source WHERE type = 'relationship'"
        " AND json_extract(body, '$.source_ref') = ?1 AND seq > ?2 AND (flags & 3) = 0"
        " UNION SELECT seq FROM objects INDEXED BY objects_rel_target"
        " WHERE type = 'relationship' AND json_extract(body, '$.target_ref') = ?1 AND seq > ?2"
        " AND (flags & 3) = 0 ORDER BY seq";
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL))
        return store_db_fail(s, err, "preparing a relationships lookup");
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, after_seq);
    int rc = 0, step, emitted = 0;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW)
        rc = store_emit_seq(s, v, sqlite3_column_int64(st, 0), NULL, 1, cb, ud, &emitted, err);
    if (!rc && step != SQLITE_DONE)
        rc = store_db_fail(s, err, "reading the relationships of an object");
    sqlite3_finalize(st);
    return rc;
}

typedef struct hit_ud {
    store_hit_cb cb;
    void *ud;
    size_t vi;
} hit_ud;

static int hit_cb(void *ud, const accord_record *rec)
{
    hit_ud *h = ud;
    return h->cb(h->ud, h->vi, rec);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The first entry of e (sorted by key, then value) with this key, or e->n. */
static size_t first_of(const entries *e, int64_t key)
{
    size_t lo = 0, hi = e->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (e->v[mid].key < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int store_search_many(accord_store *s, const accord_viewer *v, const char *const *values, size_t n,
                      size_t from, int64_t from_seq, store_hit_cb cb, void *ud, accord_error *err)
{
    int rc = 0;
    entries hits = {0};
    int64_t *hash = calloc(n ? n : 1, sizeof(*hash)), *keys = calloc(n ? n : 1, sizeof(*keys));
    char *valid = calloc(n ? n : 1, 1), *norm = malloc(VALUE_MAX + 1);
    if (!hash || !keys || !valid || !norm) {
        rc = accord_err_set(err, ACCORD_ENOMEM, "search: out of memory");
        goto out;
    }
    size_t nkeys = 0;
    for (size_t i = from; i < n; i++) {
        long len = value_normalize(values[i], strlen(values[i]), norm, VALUE_MAX + 1);
        if (len < 0)
            continue;
        valid[i] = 1;
        keys[nkeys++] = hash[i] = (int64_t)store_value_hash(norm, (size_t)len);
    }
    qsort(keys, nkeys, sizeof(*keys), cmp_i64);
    if ((rc = store_runs_lookup_many(s, KIND_VALUE, keys, nkeys, &hits, err)))
        goto out;
    if (hits.n) /* hits.v is NULL when nothing was found */
        qsort(hits.v, hits.n, sizeof(entry), store_entry_cmp);
    int emitted = 0;
    for (size_t i = from; i < n && !rc; i++) {
        hit_ud h = {cb, ud, i};
        if (!valid[i]) {
            rc = cb(ud, i, NULL);
            continue;
        }
        for (size_t j = first_of(&hits, hash[i]); j < hits.n && hits.v[j].key == hash[i] && !rc;
             j++)
            if ((j == 0 || hits.v[j].val != hits.v[j - 1].val ||
                 hits.v[j].key != hits.v[j - 1].key) &&
                (i != from || hits.v[j].val > from_seq))
                rc = store_emit_seq(s, v, hits.v[j].val, NULL, 0, hit_cb, &h, &emitted, err);
    }
out:
    free(hits.v);
    free(hash);
    free(keys);
    free(valid);
    free(norm);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Sightings series                                                                             */

/* Whether v reads the sighting row st is on (columns 3 seq, then the objects row's 4 tlp,
 * 5 tlp_org, 6 tlp_to, 7 tlp_dep); deps caches the verdict of each list of named objects (XXH3 -> 1 + ok). */
static int sighting_clears(accord_store *s, const accord_viewer *v, sqlite3_stmt *st, int64_t cid,
                           u64map *deps, int *ok, accord_error *err)
{
    int rc = store_label_clears(s, v, sqlite3_column_int64(st, 3), sqlite3_column_int(st, 4),
                                (const char *)sqlite3_column_text(st, 5),
                                (const char *)sqlite3_column_text(st, 6), cid, ok, err);
    const char *dep = (const char *)sqlite3_column_text(st, 7);
    if (rc || !*ok || !dep || !*dep)
        return rc;
    uint64_t key = u64map_key(XXH3_64bits(dep, strlen(dep))), val;
    if (u64map_get(deps, key, &val)) {
        *ok = (int)val - 1;
        return 0;
    }
    while (!rc && *ok && *dep) {
        size_t n = strcspn(dep, " ");
        rc = store_dep_clears(s, v, dep, n, ok, err);
        dep += n + (dep[n] == ' ');
    }
    if (!rc && u64map_put(deps, key, (uint64_t)*ok + 1))
        rc = accord_err_set(err, ACCORD_ENOMEM, "sightings: out of memory");
    return rc;
}

int store_sightings_walk(accord_store *s, const accord_viewer *v, const char *of_ref, int64_t cid,
                         int64_t after, uint32_t limit,
                         int (*cb)(void *ud, int64_t t, int64_t n), void *ud, uint32_t *walked,
                         int64_t *last, accord_error *err)
{
    /* the latest unrevoked versions (store-wide or within the collection: the row's flags) */
    /* the label columns (for a viewer to check) are the objects row's */
    int check = v && !v->all;
    char sql[512];
    snprintf(sql, sizeof(sql),
             "SELECT g.t, g.n, g.added, g.seq%s FROM sightings g%s%s WHERE %s AND g.added > ?2"
             " AND (g.flags & 3) = 0 ORDER BY g.added LIMIT ?3",
             check ? ", o.tlp, o.tlp_org, o.tlp_to, o.tlp_dep" : "",
             of_ref ? " INDEXED BY sightings_of" : "",
             check ? " JOIN objects o ON o.seq = g.seq" : "",
             of_ref ? "g.of_ref = ?1 AND g.coll = 0" : "g.coll = ?4");
    *walked = 0;
    *last = after;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL))
        return store_db_fail(s, err, "preparing a sightings series");
    if (of_ref)
        sqlite3_bind_text(st, 1, of_ref, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, after);
    sqlite3_bind_int64(st, 3, limit);
    sqlite3_bind_int64(st, 4, cid);
    u64map deps;
    u64map_init(&deps);
    int rc = 0, step, ok = 1;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        *walked += 1;
        *last = sqlite3_column_int64(st, 2);
        if (check && ((rc = sighting_clears(s, v, st, of_ref ? 0 : cid, &deps, &ok, err)) || !ok))
            continue;
        rc = cb(ud, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1));
    }
    if (!rc && step != SQLITE_DONE)
        rc = store_db_fail(s, err, "reading a sightings series");
    sqlite3_finalize(st);
    u64map_free(&deps);
    return rc;
}

int store_sighting_hours(accord_store *s, int64_t cid,
                         int (*cb)(void *ud, int64_t hour, int64_t sightings, int64_t n), void *ud,
                         accord_error *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT hour, sightings, n FROM sighting_hours WHERE coll = ?1"
                           " AND sightings != 0 ORDER BY hour",
                           -1, &st, NULL))
        return store_db_fail(s, err, "preparing a collection's sightings per hour");
    sqlite3_bind_int64(st, 1, cid);
    int rc = 0, step;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW)
        rc = cb(ud, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
                sqlite3_column_int64(st, 2));
    if (!rc && step != SQLITE_DONE)
        rc = store_db_fail(s, err, "reading a collection's sightings per hour");
    sqlite3_finalize(st);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Thread read markers                                                                          */

int store_thread_reads(accord_store *s, const char *account, const char *case_id,
                       int (*cb)(void *ud, const char *topic, int64_t seen), void *ud,
                       accord_error *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT topic, seen FROM thread_reads WHERE account = ?1 AND"
                           " case_id = ?2 ORDER BY topic",
                           -1, &st, NULL))
        return store_db_fail(s, err, "preparing a read markers lookup");
    sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, case_id, -1, SQLITE_STATIC);
    int rc = 0, step;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW)
        rc = cb(ud, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1));
    if (!rc && step != SQLITE_DONE)
        rc = store_db_fail(s, err, "reading read markers");
    sqlite3_finalize(st);
    return rc;
}

int store_thread_read_put(accord_store *s, const char *account, const char *case_id,
                          const char *topic, int64_t seen, accord_error *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO thread_reads(account, case_id, topic, seen)"
                           " VALUES(?1, ?2, ?3, ?4) ON CONFLICT(account, case_id, topic)"
                           " DO UPDATE SET seen = max(seen, excluded.seen)",
                           -1, &st, NULL))
        return store_db_fail(s, err, "preparing a read marker");
    sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, case_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, topic, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, seen);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : store_db_fail(s, err, "storing a read marker");
    sqlite3_finalize(st);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Console sessions                                                                             */

/* Prepares sql, binds the hash as ?1; NULL (err set) on a failure. */
static sqlite3_stmt *session_stmt(accord_store *s, const char *sql, const unsigned char *hash,
                                  accord_error *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL)) {
        store_db_fail(s, err, "preparing a session statement");
        return NULL;
    }
    if (hash)
        sqlite3_bind_blob(st, 1, hash, STORE_SESSION_HASH, SQLITE_STATIC);
    return st;
}

/* Steps a statement without rows to its end and finalizes it. */
static int session_done(accord_store *s, sqlite3_stmt *st, const char *what, accord_error *err)
{
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : store_db_fail(s, err, what);
    sqlite3_finalize(st);
    return rc;
}

int store_session_put(accord_store *s, const unsigned char *hash, const char *account,
                      int64_t created_us, int64_t used_us, int64_t older_than_us, accord_error *err)
{
    int rc = store_exec(s, "BEGIN IMMEDIATE", err);
    if (rc)
        return rc;
    sqlite3_stmt *st = session_stmt(
        s, "INSERT OR REPLACE INTO sessions(hash, account, created, used) VALUES(?1, ?2, ?3, ?4)",
        hash, err);
    if (!st) {
        rc = ACCORD_ESTORE;
        goto out;
    }
    sqlite3_bind_text(st, 2, account, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, created_us);
    sqlite3_bind_int64(st, 4, used_us);
    if ((rc = session_done(s, st, "storing a session", err)))
        goto out;
    /* the expired ones, and those used less recently than the STORE_SESSIONS_MAX-th most recent
       (ties with it stay) */
    st = session_stmt(s,
                      "DELETE FROM sessions WHERE used < ?2 OR used < (SELECT used FROM"
                      " sessions ORDER BY used DESC LIMIT 1 OFFSET ?3 - 1)",
                      NULL, err);
    if (!st) {
        rc = ACCORD_ESTORE;
        goto out;
    }
    sqlite3_bind_int64(st, 2, older_than_us);
    sqlite3_bind_int(st, 3, STORE_SESSIONS_MAX);
    if ((rc = session_done(s, st, "dropping expired sessions", err)))
        goto out;
    rc = store_exec(s, "COMMIT", err);
out:
    if (rc)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

int store_session_get(accord_store *s, const unsigned char *hash, char *account, size_t cap,
                      int64_t *created_us, int64_t *used_us, accord_error *err)
{
    sqlite3_stmt *st =
        session_stmt(s, "SELECT account, created, used FROM sessions WHERE hash = ?1", hash, err);
    if (!st)
        return ACCORD_ESTORE;
    int step = sqlite3_step(st), rc = 0;
    if (step == SQLITE_ROW) {
        snprintf(account, cap, "%s", (const char *)sqlite3_column_text(st, 0));
        *created_us = sqlite3_column_int64(st, 1);
        *used_us = sqlite3_column_int64(st, 2);
    } else if (step == SQLITE_DONE) {
        rc = accord_err_set(err, ACCORD_ENOTFOUND, "no such session");
    } else {
        rc = store_db_fail(s, err, "reading a session");
    }
    sqlite3_finalize(st);
    return rc;
}

int store_session_touch(accord_store *s, const unsigned char *hash, int64_t used_us,
                        accord_error *err)
{
    sqlite3_stmt *st =
        session_stmt(s, "UPDATE sessions SET used = max(used, ?2) WHERE hash = ?1", hash, err);
    if (!st)
        return ACCORD_ESTORE;
    sqlite3_bind_int64(st, 2, used_us);
    return session_done(s, st, "recording a session's use", err);
}

int store_session_del(accord_store *s, const unsigned char *hash, accord_error *err)
{
    sqlite3_stmt *st = session_stmt(s, "DELETE FROM sessions WHERE hash = ?1", hash, err);
    if (!st)
        return ACCORD_ESTORE;
    return session_done(s, st, "dropping a session", err);
}
