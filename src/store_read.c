/*
 * store_read.c - the read side of the store: get by id, search by value, scans in added order,
 * statistics.  Records are handed to callbacks straight from the rows' bytes, never re-serialised.
 *
 * TLP: reads given a viewer (tlp.h) decide each row from its label columns before the row counts
 * for anything: a scan's limit counts rows handed out, so a page filled around withheld rows is
 * as long as one without them and its last row is where the next page starts.  Rows of a
 * sighting also look up the objects it names (their latest version) and are withheld when one of
 * them would be.
 */
#include "store_int.h"
#include "tlp.h"
#include "util/buf.h"
#include "util/timestamp.h"
#include "values.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* Readers                                                                                      */

static void record_from_row(sqlite3_stmt *st, accord_record *r)
{
    r->seq = sqlite3_column_int64(st, 0);
    r->added_us = sqlite3_column_int64(st, 1);
    r->id = (const char *)sqlite3_column_text(st, 2);
    r->type = (const char *)sqlite3_column_text(st, 3);
    r->modified = (const char *)sqlite3_column_text(st, 4);
    r->spec_version = (const char *)sqlite3_column_text(st, 5);
    int flags = sqlite3_column_int(st, 6);
    r->revoked = (flags & FLAG_REVOKED) != 0;
    r->latest = (flags & FLAG_SUPERSEDED) == 0;
    r->first = (flags & FLAG_NOT_FIRST) == 0;
    r->body = sqlite3_column_blob(st, 7);
    r->body_len = (size_t)sqlite3_column_bytes(st, 7);
    r->tlp = sqlite3_column_int(st, 8);
}

/* ------------------------------------------------------------------------------------------ */
/* TLP                                                                                          */

/* 1 in *ok when v is on the RED list of a collection holding version seq. */
static int red_anywhere(accord_store *s, const accord_viewer *v, int64_t seq, int *ok,
                        accord_error *err)
{
    *ok = 0;
    if (!v->nred)
        return 0;
    sqlite3_stmt *st = store_stmt(s, S_RED_ANY);
    if (!st)
        return store_db_fail(s, err, "preparing a RED list check");
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_text(st, 2, v->account, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    *ok = step == SQLITE_ROW;
    sqlite3_reset(st);
    return step == SQLITE_ROW || step == SQLITE_DONE ? 0 : store_db_fail(s, err, "RED lists");
}

/* The rule for one version: its label columns, RED by collection cid (0: any collection). */
int store_label_clears(accord_store *s, const accord_viewer *v, int64_t seq, int level,
                        const char *org, const char *to, int64_t cid, int *ok, accord_error *err)
{
    int red = 0, rc = 0;
    level = tlp_effective(level, v->dflt);
    if (level == ACCORD_TLP_RED)
        rc = cid ? (red = tlp_viewer_red(v, cid), 0) : red_anywhere(s, v, seq, &red, err);
    *ok = !rc && tlp_clears(v, level, org, to, red);
    return rc;
}

/* 1 in *ok when the latest stored version of id is readable by v, or none is stored. */
int store_dep_clears(accord_store *s, const accord_viewer *v, const char *id, size_t len,
                      int *ok, accord_error *err)
{
    char key[300];
    *ok = 0;
    if (len >= sizeof(key))
        return 0; /* no stored id is that long, but withhold rather than guess */
    memcpy(key, id, len);
    key[len] = '\0';
    entries seqs = {0};
    int rc = store_runs_lookup(s, KIND_ID, (int64_t)store_id_hash(key), &seqs, err), found = 0;
    for (size_t i = 0; i < seqs.n && !rc && !found; i++) {
        sqlite3_stmt *st = store_stmt(s, S_LABEL);
        if (!st) {
            rc = store_db_fail(s, err, "preparing a label read");
            break;
        }
        sqlite3_bind_int64(st, 1, seqs.v[i].val);
        if (sqlite3_step(st) == SQLITE_ROW &&
            strcmp((const char *)sqlite3_column_text(st, 0), key) == 0 &&
            !(sqlite3_column_int(st, 1) & FLAG_SUPERSEDED)) {
            found = 1;
            rc = store_label_clears(s, v, seqs.v[i].val, sqlite3_column_int(st, 2),
                              (const char *)sqlite3_column_text(st, 3),
                              (const char *)sqlite3_column_text(st, 4), 0, ok, err);
        }
        sqlite3_reset(st);
    }
    if (!found)
        *ok = 1;
    free(seqs.v);
    return rc;
}

/*
 * Whether viewer v may read the row st is on (columns as record_from_row, then 9 tlp_org,
 * 10 tlp_to, 11 tlp_dep), read from collection cid (0: across the store).
 */
static int row_clears(accord_store *s, const accord_viewer *v, sqlite3_stmt *st, int64_t cid,
                      int *ok, accord_error *err)
{
    if (!v || v->all) {
        *ok = 1;
        return 0;
    }
    int rc = store_label_clears(s, v, sqlite3_column_int64(st, 0), sqlite3_column_int(st, 8),
                          (const char *)sqlite3_column_text(st, 9),
                          (const char *)sqlite3_column_text(st, 10), cid, ok, err);
    const char *dep = (const char *)sqlite3_column_text(st, 11);
    while (!rc && *ok && dep && *dep) {
        size_t n = strcspn(dep, " ");
        rc = store_dep_clears(s, v, dep, n, ok, err);
        dep += n + (dep[n] == ' ');
    }
    return rc;
}

/* Calls cb for the row `seq` when it exists (and, when id is not NULL, has that id) and v may
 * read it (store_int.h). */
int store_emit_seq(accord_store *s, const accord_viewer *v, int64_t seq, const char *id,
                   int latest_only, accord_record_cb cb, void *ud, int *emitted, accord_error *err)
{
    sqlite3_stmt *st = store_stmt(s, S_RECORD);
    if (!st)
        return store_db_fail(s, err, "preparing a record read");
    sqlite3_bind_int64(st, 1, seq);
    int rc = 0, ok = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        accord_record r;
        record_from_row(st, &r);
        if ((!id || strcmp(r.id, id) == 0) && (!latest_only || r.latest) &&
            !(rc = row_clears(s, v, st, 0, &ok, err)) && ok) {
            *emitted += 1;
            rc = cb(ud, &r);
        }
    }
    sqlite3_reset(st);
    return rc;
}

static int val_cmp(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    return (x->val > y->val) - (x->val < y->val);
}

/* Record callbacks of accord_store_get for all versions: collects then orders by modified. */
typedef struct version_list {
    struct vitem {
        ts_value mod;
        int64_t seq;
    } * v;
    size_t n, cap;
} version_list;

static int collect_version(void *ud, const accord_record *r)
{
    version_list *l = ud;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct vitem *v = realloc(l->v, cap * sizeof(*v));
        if (!v)
            return ACCORD_ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    memset(&l->v[l->n].mod, 0, sizeof(ts_value));
    ts_parse(r->modified, &l->v[l->n].mod);
    l->v[l->n++].seq = r->seq;
    return 0;
}

static int vitem_cmp(const void *a, const void *b)
{
    const struct vitem *x = a, *y = b;
    int c = ts_cmp(&x->mod, &y->mod);
    return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

int accord_store_get(accord_store *s, const char *id, unsigned flags, accord_record_cb cb, void *ud,
                     accord_error *err)
{
    return accord_store_get_as(s, NULL, id, flags, cb, ud, err);
}

int accord_store_get_as(accord_store *s, const accord_viewer *v, const char *id, unsigned flags,
                        accord_record_cb cb, void *ud, accord_error *err)
{
    entries seqs = {0};
    version_list list = {0};
    int rc = store_runs_lookup(s, KIND_ID, (int64_t)store_id_hash(id), &seqs, err), emitted = 0;
    if (rc)
        goto out;
    if (seqs.n)
        qsort(seqs.v, seqs.n, sizeof(entry), val_cmp);
    int all = (flags & ACCORD_GET_ALL_VERSIONS) != 0;
    for (size_t i = 0; i < seqs.n && !rc; i++)
        rc = store_emit_seq(s, v, seqs.v[i].val, id, !all, all ? collect_version : cb,
                            all ? &list : ud, &emitted, err);
    if (!rc && all && list.n) {
        qsort(list.v, list.n, sizeof(*list.v), vitem_cmp);
        int dummy = 0;
        for (size_t i = 0; i < list.n && !rc; i++)
            rc = store_emit_seq(s, NULL, list.v[i].seq, NULL, 0, cb, ud, &dummy, err);
    }
    if (!rc && !emitted)
        rc = accord_err_set(err, ACCORD_ENOTFOUND, "%s: no such object in the store", id);
out:
    free(seqs.v);
    free(list.v);
    return rc;
}

int accord_store_search(accord_store *s, const char *value, accord_record_cb cb, void *ud,
                        accord_error *err)
{
    return accord_store_search_as(s, NULL, value, cb, ud, err);
}

int accord_store_search_as(accord_store *s, const accord_viewer *v, const char *value,
                           accord_record_cb cb, void *ud, accord_error *err)
{
    char norm[VALUE_MAX + 1];
    long n = value_normalize(value, strlen(value), norm, sizeof(norm));
    if (n < 0)
        return accord_err_set(err, ACCORD_EINVAL, "search: \"%.80s\" is not a value to search for",
                              value);
    entries seqs = {0};
    int rc =
        store_runs_lookup(s, KIND_VALUE, (int64_t)store_value_hash(norm, (size_t)n), &seqs, err);
    int emitted = 0;
    if (!rc && seqs.n)
        qsort(seqs.v, seqs.n, sizeof(entry), val_cmp);
    for (size_t i = 0; i < seqs.n && !rc; i++)
        if (i == 0 || seqs.v[i].val != seqs.v[i - 1].val)
            rc = store_emit_seq(s, v, seqs.v[i].val, NULL, 0, cb, ud, &emitted, err);
    free(seqs.v);
    return rc;
}

/* Values bound to a scan's numbered parameters, in order. */
typedef struct binds {
    int n;
    struct bind {
        const char *text; /* NULL: an integer */
        int64_t i;
    } v[600];
} binds;

/* Appends ",?N" for a new text or integer parameter. */
static int bind_text(binds *b, buf *sql, const char *sep, const char *text)
{
    if (b->n >= (int)(sizeof(b->v) / sizeof(b->v[0])))
        return -1;
    b->v[b->n].text = text;
    b->v[b->n].i = 0;
    b->n++;
    return buf_printf(sql, "%s?%d", sep, b->n);
}

static int bind_int(binds *b, buf *sql, const char *sep, int64_t i)
{
    if (b->n >= (int)(sizeof(b->v) / sizeof(b->v[0])))
        return -1;
    b->v[b->n].text = NULL;
    b->v[b->n].i = i;
    b->n++;
    return buf_printf(sql, "%s?%d", sep, b->n);
}

/* " AND col IN (?a,?b,...)" for a NULL-terminated list (at most max entries). */
static int bind_list(binds *b, buf *sql, const char *col, const char *const *list, int max)
{
    if (!list)
        return 0;
    if (buf_printf(sql, " AND %s IN (", col))
        return -1;
    for (int i = 0; list[i]; i++)
        if (i >= max || bind_text(b, sql, i ? "," : "", list[i]))
            return -1;
    return buf_adds(sql, list[0] ? ")" : "NULL)");
}

/* The seqs of every stored version of the given ids, as " AND seqcol IN (...)". */
static int bind_ids(accord_store *s, binds *b, buf *sql, const char *seqcol, const char *const *ids,
                    accord_error *err)
{
    entries seqs = {0};
    int rc = 0, n = 0;
    for (int i = 0; ids[i] && !rc; i++)
        if (i >= 100)
            rc = accord_err_set(err, ACCORD_ELIMIT, "scan: more than 100 ids");
        else
            rc = store_runs_lookup(s, KIND_ID, (int64_t)store_id_hash(ids[i]), &seqs, err);
    if (!rc && buf_printf(sql, " AND %s IN (", seqcol))
        rc = ACCORD_ENOMEM;
    for (size_t i = 0; i < seqs.n && !rc; i++)
        if (bind_int(b, sql, n++ ? "," : "", seqs.v[i].val))
            rc = accord_err_set(err, ACCORD_ELIMIT, "scan: the ids have too many versions");
    if (!rc && buf_adds(sql, seqs.n ? ")" : "NULL)"))
        rc = ACCORD_ENOMEM;
    free(seqs.v);
    return rc;
}

/*
 * Builds the scan's SQL.  Over the whole store it walks objects by seq; in a collection it walks
 * members by (coll, added), or by (coll, type, added) for a type filter, joining the objects by
 * seq; an id filter becomes a list of seqs from the id index, so it never scans.
 */
static int scan_sql(accord_store *s, const accord_scan_filter *f, int64_t cid, buf *sql, binds *b,
                    accord_error *err)
{
    int in_coll = f->collection != NULL, rc = 0;
    const char *m = in_coll ? "m." : "";
    if (in_coll) {
        /* the index is named: the planner, left alone, may walk the whole collection */
        const char *index = f->ids     ? "INDEXED BY members_seq"
                            : f->types ? "INDEXED BY members_type"
                                       : "NOT INDEXED";
        buf_printf(sql,
                   "SELECT o.seq, m.added, o.id, o.type, o.modified, o.spec, m.flags, o.body,"
                   " o.tlp, o.tlp_org, o.tlp_to, o.tlp_dep"
                   " FROM members m %s JOIN objects o ON o.seq = m.seq WHERE m.coll = ",
                   index);
        bind_int(b, sql, "", cid);
    } else {
        /* one type, no ids: its (type, seq) range, in seq order already.  Left alone, the planner
         * walks every object by seq when the statistics say one type holds nearly all of them,
         * so a probe for a type the store lacks read the whole table */
        int one_type = f->types && f->types[0] && !f->types[1] && !f->ids;
        buf_printf(sql, "SELECT seq, added, id, type, modified, spec, flags, body, tlp, tlp_org,"
                        " tlp_to, tlp_dep FROM objects%s WHERE seq > ",
                   one_type ? " INDEXED BY objects_type" : "");
        bind_int(b, sql, "", f->after_seq);
    }
    buf_printf(sql, " AND %sadded > ", m);
    bind_int(b, sql, "", f->added_after_us);
    if (bind_list(b, sql, in_coll ? "m.type" : "type", f->types, 64) ||
        bind_list(b, sql, in_coll ? "o.spec" : "spec", f->spec_versions, 8))
        return accord_err_set(err, ACCORD_ELIMIT, "scan: too many types or spec versions");
    if (f->ids && (rc = bind_ids(s, b, sql, in_coll ? "m.seq" : "seq", f->ids, err)))
        return rc;
    if (f->ids && bind_list(b, sql, in_coll ? "o.id" : "id", f->ids, 100))
        return accord_err_set(err, ACCORD_ELIMIT, "scan: more than 100 ids");
    unsigned v = f->versions ? f->versions : ACCORD_VERSIONS_LAST;
    if (!(v & ACCORD_VERSIONS_ALL)) {
        const char * or = "";
        buf_adds(sql, " AND (");
        if (v & ACCORD_VERSIONS_LAST) {
            buf_printf(sql, "(%sflags & %d) = 0", m, FLAG_SUPERSEDED);
            or = " OR ";
        }
        if (v & ACCORD_VERSIONS_FIRST) {
            buf_printf(sql, "%s(%sflags & %d) = 0", or, m, FLAG_NOT_FIRST);
            or = " OR ";
        }
        if (v & ACCORD_VERSIONS_LIST) {
            if (!f->version_list)
                return accord_err_set(err, ACCORD_EINVAL, "scan: no version list");
            buf_printf(sql, "%sts_ns(%smodified) IN (", or, in_coll ? "o." : "");
            for (int i = 0; f->version_list[i]; i++) {
                ts_value t;
                int64_t ns;
                if (i >= 100 || ts_parse(f->version_list[i], &t))
                    return accord_err_set(err, ACCORD_EINVAL,
                                          "scan: more than 100 versions, or not a timestamp");
                if (store_ts_ns(&t, &ns))
                    return accord_err_set(err, ACCORD_EINVAL,
                                          "scan: version %s is outside 1677-09-21T00:12:44Z to"
                                          " 2262-04-11T23:47:16Z, where versions are matched",
                                          f->version_list[i]);
                if (bind_int(b, sql, i ? "," : "", ns))
                    return accord_err_set(err, ACCORD_ELIMIT, "scan: too many parameters");
            }
            buf_adds(sql, ")");
        }
        buf_adds(sql, ")");
    }
    if (!f->include_revoked)
        buf_printf(sql, " AND (%sflags & %d) = 0", m, FLAG_REVOKED);
    /* with a viewer that may not read everything the limit counts in accord_store_scan */
    int filtered = f->viewer && !f->viewer->all;
    buf_printf(sql, " ORDER BY %s LIMIT ", in_coll ? "m.added" : "seq");
    bind_int(b, sql, "", f->limit && !filtered ? (int64_t)f->limit : -1);
    return sql->failed ? accord_err_set(err, ACCORD_ENOMEM, "scan: out of memory") : 0;
}

int accord_store_scan(accord_store *s, const accord_scan_filter *f, accord_record_cb cb, void *ud,
                      accord_error *err)
{
    static const accord_scan_filter dflt = {0};
    if (!f)
        f = &dflt;
    int64_t cid = 0;
    int rc, step = SQLITE_DONE;
    if (f->collection && (rc = store_collection_resolve(s, f->collection, &cid, err)))
        return rc;
    buf sql;
    buf_init(&sql, 64 * 1024);
    binds *b = calloc(1, sizeof(*b));
    sqlite3_stmt *st = NULL;
    if (!b) {
        rc = accord_err_set(err, ACCORD_ENOMEM, "scan: out of memory");
        goto out;
    }
    if ((rc = scan_sql(s, f, cid, &sql, b, err)))
        goto out;
    if ((rc = store_rows_flush(s, err)))
        goto out;
    if (sqlite3_prepare_v2(s->db, sql.p, -1, &st, NULL)) {
        rc = store_db_fail(s, err, "preparing a scan");
        goto out;
    }
    for (int i = 0; i < b->n; i++)
        if (b->v[i].text)
            sqlite3_bind_text(st, i + 1, b->v[i].text, -1, SQLITE_STATIC);
        else
            sqlite3_bind_int64(st, i + 1, b->v[i].i);
    uint32_t n = 0;
    int ok = 1;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        if (f->viewer && (rc = row_clears(s, f->viewer, st, cid, &ok, err)))
            break;
        if (!ok)
            continue;
        accord_record r;
        record_from_row(st, &r);
        rc = cb(ud, &r);
        if (f->limit && ++n == f->limit)
            break;
    }
    if (!rc && step != SQLITE_DONE && step != SQLITE_ROW)
        rc = store_db_fail(s, err, "scanning objects");
out:
    sqlite3_finalize(st);
    buf_free(&sql);
    free(b);
    return rc;
}

/* The columns of store_ind_scan's rows with a viewer or every version: record_from_row's (body
 * and tlp_dep NULL, so row_clears reads them), then the indicator's from column 12. */
#define IND_COLS                                                                                   \
    " i.modified, i.spec, %sflags, NULL, i.tlp, i.tlp_org, i.tlp_to, NULL, i.valid_from,"          \
    " i.valid_until, i.confidence, i.pattern_type, i.pattern, i.name"

/*
 * Rows are read through sqlite3_column_value and the sqlite3_value_* readers: each
 * sqlite3_column_* call takes and releases the connection's mutex and checks for a failed
 * allocation, which at ten million rows of a dozen columns was a tenth of a selection.  The values
 * are read before the next step, on the thread that owns the connection.
 */
static int64_t val_or(sqlite3_value *v, int64_t dflt)
{
    return sqlite3_value_type(v) == SQLITE_NULL ? dflt : sqlite3_value_int64(v);
}

/* The indicator's columns, from column c on: valid_from, valid_until, confidence, pattern_type,
 * pattern, name. */
static void ind_tail(sqlite3_stmt *st, int c, store_ind *d)
{
    sqlite3_value *pat = sqlite3_column_value(st, c + 4);
    d->valid_from = val_or(sqlite3_column_value(st, c), INT64_MIN);
    d->valid_until = val_or(sqlite3_column_value(st, c + 1), INT64_MAX);
    d->confidence = (int)val_or(sqlite3_column_value(st, c + 2), -1);
    d->pattern_type = (const char *)sqlite3_value_text(sqlite3_column_value(st, c + 3));
    d->pattern = (const char *)sqlite3_value_text(pat);
    d->pattern_len = (size_t)sqlite3_value_bytes(pat);
    d->name = (const char *)sqlite3_value_text(sqlite3_column_value(st, c + 5));
}

static void ind_from_row(sqlite3_stmt *st, store_ind *d)
{
    record_from_row(st, &d->r);
    d->r.body = NULL;
    d->r.body_len = 0;
    ind_tail(st, 12, d);
}

/* A little-endian field of a packed row (store.c refuses big-endian hosts). */
static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static uint32_t get_u32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/*
 * A lean row: seq, the collection's added (NULL: the store's, from the packed row), flags, and the
 * export_rows row (store.c's schema table has its layout), whose strings are handed on in place.
 * -1 when the packed row is malformed.
 */
static int ind_from_xrow(sqlite3_stmt *st, store_ind *d)
{
    sqlite3_value *added = sqlite3_column_value(st, 1), *x = sqlite3_column_value(st, 3);
    const unsigned char *p = sqlite3_value_blob(x);
    size_t n = (size_t)sqlite3_value_bytes(x);
    if (!p || n < XROW_HEAD + 3 || p[0] != XROW_LAYOUT)
        return -1;
    size_t len[3];
    for (int i = 0; i < 3; i++)
        len[i] = get_u32(p + 4 + 4 * i);
    if (len[0] > n || len[1] > n || len[2] > n ||
        XROW_HEAD + len[0] + len[1] + len[2] + 3 != n || p[XROW_HEAD + len[0]] ||
        p[XROW_HEAD + len[0] + 1 + len[1]] || p[n - 1])
        return -1;
    int flags = sqlite3_value_int(sqlite3_column_value(st, 2)), bits = p[1];
    const char *str = (const char *)p + XROW_HEAD;
    d->r = (accord_record){.seq = sqlite3_value_int64(sqlite3_column_value(st, 0)),
                           .added_us = sqlite3_value_type(added) == SQLITE_NULL
                                           ? (int64_t)get_u64(p + 16)
                                           : sqlite3_value_int64(added),
                           .id = str,
                           .type = "indicator",
                           .modified = "",
                           .spec_version = bits & XROW_SPEC20 ? "2.0" : "2.1",
                           .revoked = (flags & FLAG_REVOKED) != 0,
                           .latest = (flags & FLAG_SUPERSEDED) == 0,
                           .first = (flags & FLAG_NOT_FIRST) == 0,
                           .tlp = (signed char)p[2]};
    d->valid_from = (int64_t)get_u64(p + 24);
    d->valid_until = (int64_t)get_u64(p + 32);
    d->confidence = p[3] == 255 ? -1 : p[3];
    /* the type's text matters only as 'stix' or not (export.c) */
    d->pattern_type = !(bits & XROW_PTYPE) ? NULL : bits & XROW_PTYPE_STIX ? "stix" : "";
    d->pattern = bits & XROW_PATTERN ? str + len[0] + 1 : NULL;
    d->pattern_len = len[1];
    d->name = bits & XROW_NAME ? str + len[0] + 1 + len[1] + 1 : NULL;
    return 0;
}

int store_ind_scan(accord_store *s, const char *collection, const accord_viewer *v,
                   int all_versions, store_ind_cb cb, void *ud, accord_error *err)
{
    int64_t cid = 0;
    int rc = 0, step = SQLITE_DONE, ok = 1, lean = !all_versions && (!v || v->all);
    char sql[1024], cols[512], where[64] = "";
    const char *m = collection ? "m." : "i.";
    if (collection && (rc = store_collection_resolve(s, collection, &cid, err)))
        return rc;
    if (!all_versions && !lean) /* lean rows are filtered here, from the flags read anyway */
        snprintf(where, sizeof(where), " AND (%sflags & %d) = 0", m, FLAG_SUPERSEDED);
    snprintf(cols, sizeof(cols), IND_COLS, m);
    if (lean && collection) /* the collection's indicators by (coll, type, added), by seq */
        snprintf(sql, sizeof(sql),
                 "SELECT e.seq, m.added, m.flags, e.row"
                 " FROM members m INDEXED BY members_type JOIN export_rows e ON e.seq = m.seq"
                 " WHERE m.coll = ?1 AND m.type = 'indicator' ORDER BY m.added");
    else if (lean) /* without a viewer, of the latest versions: one packed value a row */
        snprintf(sql, sizeof(sql),
                 "SELECT seq, NULL, flags, row FROM export_rows WHERE ?1 = 0 ORDER BY seq");
    else if (collection)
        snprintf(sql, sizeof(sql),
                 "SELECT i.seq, m.added, i.id, 'indicator',%s"
                 " FROM members m INDEXED BY members_type JOIN indicators i ON i.seq = m.seq"
                 " WHERE m.coll = ?1 AND m.type = 'indicator'%s ORDER BY m.added",
                 cols, where);
    else
        snprintf(sql, sizeof(sql),
                 "SELECT i.seq, i.added, i.id, 'indicator',%s FROM indicators i WHERE ?1 = 0%s"
                 " ORDER BY i.seq",
                 cols, where);
    sqlite3_stmt *st = NULL;
    if ((rc = store_rows_flush(s, err)))
        return rc;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL))
        return store_db_fail(s, err, "preparing an indicator scan");
    sqlite3_bind_int64(st, 1, cid);
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        if (!lean && v && (rc = row_clears(s, v, st, cid, &ok, err)))
            break;
        if (!ok)
            continue;
        store_ind d;
        if (!lean) {
            ind_from_row(st, &d);
        } else if (ind_from_xrow(st, &d)) {
            rc = accord_err_set(err, ACCORD_ECORRUPT, "store: the export row of version %lld"
                                " is malformed", (long long)sqlite3_column_int64(st, 0));
            break;
        }
        if (!all_versions && !d.r.latest)
            continue;
        rc = cb(ud, &d);
    }
    if (!rc && step != SQLITE_DONE && step != SQLITE_ROW)
        rc = store_db_fail(s, err, "scanning indicators");
    sqlite3_finalize(st);
    return rc;
}

int64_t store_scalar(accord_store *s, const char *sql)
{
    sqlite3_stmt *st;
    int64_t v = 0;
    if (store_rows_flush_quiet(s) == 0 && sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    return v;
}

int accord_store_stats_get(accord_store *s, accord_store_stats *out, accord_type_count_cb cb,
                           void *ud, accord_error *err)
{
    memset(out, 0, sizeof(*out));
    int rc = store_exec(s, "BEGIN", err); /* one consistent snapshot for every figure */
    if (rc)
        return rc;
    out->versions = store_scalar(s, "SELECT count(*) FROM objects");
    out->objects = store_scalar(s, "SELECT count(*) FROM objects WHERE (flags & 2) = 0");
    out->revoked = store_scalar(s, "SELECT count(*) FROM objects WHERE (flags & 3) = 1");
    out->body_bytes = store_scalar(s, "SELECT coalesce(sum(length(body)), 0) FROM objects");
    out->audit_records = store_scalar(s, "SELECT count(*) FROM audit");
    out->index_runs = store_scalar(s, "SELECT count(*) FROM runs");
    out->index_entries = store_scalar(s, "SELECT coalesce(sum(entries), 0) FROM runs");
    out->last_added_us = store_scalar(s, "SELECT coalesce(max(added), 0) FROM objects");
    out->file_bytes = store_scalar(s, "SELECT page_count * page_size FROM pragma_page_count(),"
                                      " pragma_page_size()");
    if (cb) {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(s->db,
                               "SELECT type, sum((flags & 2) = 0), count(*) FROM objects"
                               " GROUP BY type ORDER BY type",
                               -1, &st, NULL) == SQLITE_OK) {
            while (sqlite3_step(st) == SQLITE_ROW)
                cb(ud, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1),
                   sqlite3_column_int64(st, 2));
            sqlite3_finalize(st);
        } else {
            rc = store_db_fail(s, err, "counting types");
        }
    }
    sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    return rc;
}

int accord_store_stats_light(accord_store *s, accord_store_stats *out, accord_error *err)
{
    (void)err;
    memset(out, 0, sizeof(*out));
    out->versions = store_scalar(s, "SELECT coalesce(max(seq), 0) FROM objects");
    out->last_added_us = store_scalar(s, "SELECT last_added FROM clock");
    return 0;
}
