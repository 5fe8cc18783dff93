/*
 * store_console.c - indicator selections for the web console (see store_console.h).
 *
 * Sightings name what they sight in objects.tlp_dep (sighting_of_ref first), so the last
 * sighting of each indicator is one GROUP BY over the sighting rows (objects_type index), joined
 * to the indicators table; no body is read except for created_by_ref, which the indicators table
 * does not keep.
 */
#include "store_console.h"
#include "store_int.h"

#include <stdio.h>
#include <string.h>

#define SQL_MAX 2048

static void add(char *sql, const char *s)
{
    size_t n = strlen(sql);
    snprintf(sql + n, SQL_MAX - n, "%s", s);
}

int store_ind_select(accord_store *s, const store_ind_sel *f,
                     int (*cb)(void *ud, const store_ind_row *r), void *ud, accord_error *err)
{
    char sql[SQL_MAX] =
        "WITH ls(ind, last, n) AS (SELECT substr(tlp_dep, 1, instr(tlp_dep || ' ', ' ') - 1),"
        " max(added), count(*) FROM objects WHERE type = 'sighting' AND (flags & 2) = 0"
        " AND tlp_dep IS NOT NULL GROUP BY 1)"
        " SELECT i.seq, i.added, i.id, i.modified, i.tlp, i.valid_until, i.pattern, i.name,"
        " i.flags, coalesce(ls.last, 0) AS last, coalesce(ls.n, 0),"
        " json_extract(o.body, '$.created_by_ref')"
        " FROM indicators i JOIN objects o ON o.seq = i.seq LEFT JOIN ls ON ls.ind = i.id"
        " WHERE (i.flags & 2) = 0";
    if (f->obs_type)
        add(sql, " AND (i.pattern LIKE '[' || ?2 || ':%' OR i.pattern LIKE '%[' || ?2 || ':%')");
    if (f->tlp != -2)
        add(sql, " AND (CASE WHEN i.tlp = -1 THEN ?1 ELSE i.tlp END) = ?3");
    if (f->source)
        add(sql, " AND json_extract(o.body, '$.created_by_ref') = ?4");
    if (f->vu_before)
        add(sql, " AND i.valid_until IS NOT NULL AND i.valid_until < ?5");
    if (f->vu_after)
        add(sql, " AND (i.valid_until IS NULL OR i.valid_until > ?6)");
    if (f->has_sightings == 1)
        add(sql, " AND ls.last IS NOT NULL");
    else if (f->has_sightings == 0)
        add(sql, " AND ls.last IS NULL");
    if (f->revoked == 1)
        add(sql, " AND (i.flags & 1) = 1");
    else if (f->revoked == 0)
        add(sql, " AND (i.flags & 1) = 0");
    if (f->max_seq)
        add(sql, " AND i.seq <= ?9");
    if (f->extend_to)
        add(sql, " AND (i.flags & 1) = 0 AND i.valid_until IS NOT NULL AND i.valid_until < ?10");
    if (f->cur_seq && f->by_last_sighting)
        add(sql, " AND (last < ?7 OR (last = ?7 AND i.seq < ?8))");
    else if (f->cur_seq)
        add(sql, " AND i.seq < ?8");
    add(sql, f->by_last_sighting ? " ORDER BY last DESC, i.seq DESC" : " ORDER BY i.seq DESC");
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
    if (f->source)
        sqlite3_bind_text(st, 4, f->source, -1, SQLITE_STATIC);
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
            .source = (const char *)sqlite3_column_text(st, 11),
        };
        rc = cb(ud, &r);
    }
    if (!rc && step != SQLITE_DONE)
        rc = store_db_fail(s, err, "selecting indicators");
    sqlite3_finalize(st);
    return rc;
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
