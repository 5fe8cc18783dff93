/*
 * store_rows.c - deferred row writes: a bulk writer's append-only rows, kept in memory and
 * written by one INSERT ... SELECT per table.
 *
 * Why: a one-row INSERT pays, besides the B-tree work, a statement's run (bind, the program's
 * prologue, a cursor opened per table and index, each seek from the root, halt, reset), about
 * 0.85 µs natively for the membership row of a bulk import, which costs 2.4 µs in all
 * (measured: 1M rows into the members table with its two indexes, 2.36 µs per row one INSERT
 * each, 1.51 µs per row by INSERT ... SELECT).  One statement that inserts many rows keeps its
 * cursors open, and SQLite then finds the place of an appended key from the last page it wrote
 * without descending from the root.  The five tables a new version writes one row each
 * (objects, members, audit, indicators, export_rows) are appended in key order, so a writer
 * that adds many versions in one transaction collects their rows here and writes each table's
 * rows in one statement.
 *
 * Data structures: per table, the pending rows as cells (ncols per row: NULL, integer, or text
 * or blob bytes at an offset in the table's byte buffer).  An eponymous virtual table per table
 * (store_rows_objects, ...) reads them; the flush statement is the table's one-row INSERT with
 * "SELECT * FROM store_rows_T" in place of its VALUES.
 *
 * Invariant: while rows are pending, no statement on the connection other than the five
 * inserts reads or changes those tables.  So rows are deferred only when the writer asks for it
 * (store_rows_defer, for one store_begin transaction: an import's or a MISP import's), and
 * every other statement the store runs flushes first: store_stmt for any statement but these
 * inserts and the sorted runs', store_exec, store_scalar, and the store's reads that prepare
 * their own statements (store_rows_flush calls in store.c and store_read.c).  A commit flushes before it
 * writes the runs, a rollback drops the pending rows.
 *
 * It does not: defer anything outside such a transaction, or rows other statements would read
 * back (sightings, signatures, the sorted runs).
 */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Flushed when a table holds this many rows or its bytes pass ROWS_BYTES_MAX: a flush's fixed
 * cost is spread over many rows well before these, and the memory stays small. */
#define ROWS_MAX 4096
#define ROWS_BYTES_MAX (16u << 20)

typedef struct cell {
    int type; /* SQLITE_NULL, SQLITE_INTEGER, SQLITE_TEXT, SQLITE_BLOB */
    int64_t i;
    size_t off, len; /* text and blob: bytes[off .. off + len) */
} cell;

typedef struct table_rows {
    const char *name;  /* the virtual table's name */
    enum stmt_id ins;  /* the one-row insert */
    int ncols;
    cell *cells; /* n rows of ncols cells */
    size_t n, cap;
    char *bytes;
    size_t blen, bcap;
    sqlite3_stmt *flush; /* INSERT INTO ... SELECT * FROM name */
} table_rows;

struct store_rows {
    table_rows t[STORE_ROWS_COUNT];
    int failed; /* a flush failed: the rows before its failing row may be written (OR FAIL) */
};

static const struct {
    const char *name;
    enum stmt_id ins;
    int ncols;
} tables[STORE_ROWS_COUNT] = {
    [STORE_ROWS_OBJECTS] = {"store_rows_objects", S_INS_OBJ, 13},
    [STORE_ROWS_MEMBERS] = {"store_rows_members", S_INS_MEMBER, 5},
    [STORE_ROWS_AUDIT] = {"store_rows_audit", S_INS_AUDIT, 7},
    [STORE_ROWS_INDICATORS] = {"store_rows_indicators", S_INS_IND, 19},
    [STORE_ROWS_XROWS] = {"store_rows_xrows", S_INS_XROW, 3},
};

/* ------------------------------------------------------------------------------------------ */
/* The virtual tables: the pending rows of one table, in the order they were added             */

typedef struct rows_vtab {
    sqlite3_vtab base;
    table_rows *t;
} rows_vtab;

typedef struct rows_cursor {
    sqlite3_vtab_cursor base;
    size_t row;
} rows_cursor;

static int vt_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
                      sqlite3_vtab **out, char **errmsg)
{
    (void)argc;
    (void)argv;
    (void)errmsg;
    table_rows *t = aux;
    char sql[256];
    size_t len = (size_t)snprintf(sql, sizeof(sql), "CREATE TABLE x(");
    for (int i = 0; i < t->ncols; i++)
        len += (size_t)snprintf(sql + len, sizeof(sql) - len, "%sc%d", i ? "," : "", i);
    snprintf(sql + len, sizeof(sql) - len, ")");
    int rc = sqlite3_declare_vtab(db, sql);
    if (rc != SQLITE_OK)
        return rc;
    rows_vtab *v = sqlite3_malloc(sizeof(*v));
    if (!v)
        return SQLITE_NOMEM;
    memset(v, 0, sizeof(*v));
    v->t = t;
    *out = &v->base;
    return SQLITE_OK;
}

static int vt_disconnect(sqlite3_vtab *v)
{
    sqlite3_free(v);
    return SQLITE_OK;
}

static int vt_best_index(sqlite3_vtab *v, sqlite3_index_info *info)
{
    (void)v;
    info->estimatedCost = 1e6;
    return SQLITE_OK;
}

static int vt_open(sqlite3_vtab *v, sqlite3_vtab_cursor **out)
{
    (void)v;
    rows_cursor *c = sqlite3_malloc(sizeof(*c));
    if (!c)
        return SQLITE_NOMEM;
    memset(c, 0, sizeof(*c));
    *out = &c->base;
    return SQLITE_OK;
}

static int vt_close(sqlite3_vtab_cursor *c)
{
    sqlite3_free(c);
    return SQLITE_OK;
}

static int vt_filter(sqlite3_vtab_cursor *c, int idx, const char *idxstr, int argc,
                     sqlite3_value **argv)
{
    (void)idx;
    (void)idxstr;
    (void)argc;
    (void)argv;
    ((rows_cursor *)c)->row = 0;
    return SQLITE_OK;
}

static int vt_next(sqlite3_vtab_cursor *c)
{
    ((rows_cursor *)c)->row++;
    return SQLITE_OK;
}

static int vt_eof(sqlite3_vtab_cursor *c)
{
    const table_rows *t = ((rows_vtab *)c->pVtab)->t;
    return ((rows_cursor *)c)->row >= t->n;
}

static int vt_column(sqlite3_vtab_cursor *c, sqlite3_context *ctx, int col)
{
    const table_rows *t = ((rows_vtab *)c->pVtab)->t;
    const cell *x = &t->cells[((rows_cursor *)c)->row * (size_t)t->ncols + (size_t)col];
    /* the bytes stay put until the flush statement is reset; a table whose values so far are
     * all empty has no buffer yet, and an empty value must stay '' (not NULL) */
    const char *at = t->bytes ? t->bytes + x->off : "";
    switch (x->type) {
    case SQLITE_INTEGER: sqlite3_result_int64(ctx, x->i); break;
    case SQLITE_TEXT: sqlite3_result_text(ctx, at, (int)x->len, SQLITE_STATIC); break;
    case SQLITE_BLOB: sqlite3_result_blob(ctx, at, (int)x->len, SQLITE_STATIC); break;
    default: sqlite3_result_null(ctx); break;
    }
    return SQLITE_OK;
}

static int vt_rowid(sqlite3_vtab_cursor *c, sqlite3_int64 *rowid)
{
    *rowid = (sqlite3_int64)((rows_cursor *)c)->row;
    return SQLITE_OK;
}

static const sqlite3_module rows_module = {
    .iVersion = 1,
    .xCreate = NULL, /* eponymous only */
    .xConnect = vt_connect,
    .xBestIndex = vt_best_index,
    .xDisconnect = vt_disconnect,
    .xDestroy = vt_disconnect,
    .xOpen = vt_open,
    .xClose = vt_close,
    .xFilter = vt_filter,
    .xNext = vt_next,
    .xEof = vt_eof,
    .xColumn = vt_column,
    .xRowid = vt_rowid,
};

/* ------------------------------------------------------------------------------------------ */
/* Pending rows                                                                                 */

int store_rows_init(accord_store *s)
{
    if (!(s->rows = calloc(1, sizeof(*s->rows))))
        return ACCORD_ENOMEM;
    for (int k = 0; k < STORE_ROWS_COUNT; k++) {
        table_rows *t = &s->rows->t[k];
        t->name = tables[k].name;
        t->ins = tables[k].ins;
        t->ncols = tables[k].ncols;
        if (sqlite3_create_module(s->db, t->name, &rows_module, t) != SQLITE_OK)
            return ACCORD_ESTORE;
    }
    return 0;
}

static void rows_clear(table_rows *t)
{
    t->n = 0;
    t->blen = 0;
}

void store_rows_free(accord_store *s)
{
    if (!s || !s->rows)
        return;
    for (int k = 0; k < STORE_ROWS_COUNT; k++) {
        sqlite3_finalize(s->rows->t[k].flush);
        free(s->rows->t[k].cells);
        free(s->rows->t[k].bytes);
    }
    free(s->rows);
    s->rows = NULL;
}

void store_rows_discard(accord_store *s)
{
    for (int k = 0; s->rows && k < STORE_ROWS_COUNT; k++)
        rows_clear(&s->rows->t[k]);
    if (s->rows)
        s->rows->failed = 0;
    s->rows_pending = 0;
    s->rows_defer = 0;
}

void store_rows_defer(accord_store *s)
{
    if (s->in_txn && s->rows)
        s->rows_defer = 1;
}

/*
 * The flush statement of t: its insert's text up to VALUES as INSERT OR FAIL, then SELECT * FROM
 * its rows.  OR FAIL, not the default ABORT: a statement that writes many rows and may abort
 * keeps a statement journal, a copy of every page it touches before its first change (SQLite's
 * sub-journal; callgrind: 114,862 page copies of 16 KiB for 200,000 MISP attributes, about 9 KiB
 * copied per attribute).  FAIL stops at a failing row and keeps the rows before it, which needs
 * no journal; a failed flush fails the whole transaction (its caller rolls back), so no
 * half-written flush is ever committed.
 */
static int flush_prepare(accord_store *s, table_rows *t)
{
    static const char ins_kw[] = "INSERT INTO ";
    const char *ins = store_stmt_sql(t->ins), *values = strstr(ins, " VALUES(");
    size_t kw = sizeof(ins_kw) - 1;
    char sql[1024];
    if (!values || strncmp(ins, ins_kw, kw) != 0 ||
        (size_t)snprintf(sql, sizeof(sql), "INSERT OR FAIL INTO %.*s SELECT * FROM %s",
                         (int)(values - ins - kw), ins + kw, t->name) >= sizeof(sql))
        return -1;
    return sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &t->flush, NULL);
}

static int flush_table(accord_store *s, table_rows *t, accord_error *err)
{
    if (!t->n)
        return 0;
    if (s->rows->failed) /* only a rollback remains */
        return accord_err_set(err, ACCORD_ESTORE, "store: an earlier bulk insert failed");
    if (!t->flush && flush_prepare(s, t) != SQLITE_OK)
        return store_db_fail(s, err, "preparing a bulk insert");
    int step = sqlite3_step(t->flush);
    sqlite3_reset(t->flush);
    if (step != SQLITE_DONE) {
        s->rows->failed = 1;
        return store_db_fail(s, err, "writing rows in bulk");
    }
    s->rows_pending -= t->n;
    rows_clear(t);
    return 0;
}

int store_rows_flush(accord_store *s, accord_error *err)
{
    int rc = 0;
    for (int k = 0; k < STORE_ROWS_COUNT && !rc && s->rows_pending; k++)
        rc = flush_table(s, &s->rows->t[k], err);
    return rc;
}

int store_rows_flush_quiet(accord_store *s)
{
    accord_error e;
    return store_rows_flush(s, &e);
}

/* ------------------------------------------------------------------------------------------ */
/* Writing one row                                                                              */

int store_row_begin(accord_store *s, int table, store_row *r)
{
    memset(r, 0, sizeof(*r));
    r->s = s;
    r->table = table;
    if (s->rows_defer) {
        table_rows *t = &s->rows->t[table];
        if (t->n == t->cap) {
            size_t cap = t->cap ? t->cap * 2 : 256;
            cell *c = realloc(t->cells, cap * (size_t)t->ncols * sizeof(*c));
            if (!c)
                return ACCORD_ENOMEM;
            t->cells = c;
            t->cap = cap;
        }
        r->cells = &t->cells[t->n * (size_t)t->ncols];
        memset(r->cells, 0, (size_t)t->ncols * sizeof(*r->cells)); /* type 0: NULL */
        return 0;
    }
    r->st = store_stmt(s, tables[table].ins);
    return r->st ? 0 : ACCORD_ESTORE;
}

void store_row_int(store_row *r, int col, int64_t v)
{
    if (r->st) {
        sqlite3_bind_int64(r->st, col + 1, v);
        return;
    }
    r->cells[col].type = SQLITE_INTEGER;
    r->cells[col].i = v;
}

static void row_bytes(store_row *r, int col, int type, const void *p, size_t len)
{
    table_rows *t = &r->s->rows->t[r->table];
    if (r->failed)
        return;
    if (t->blen + len > t->bcap) {
        size_t cap = t->bcap ? t->bcap : 65536;
        while (cap < t->blen + len)
            cap *= 2;
        char *b = realloc(t->bytes, cap);
        if (!b) {
            r->failed = 1;
            return;
        }
        t->bytes = b;
        t->bcap = cap;
    }
    if (len)
        memcpy(t->bytes + t->blen, p, len);
    r->cells[col].type = type;
    r->cells[col].off = t->blen;
    r->cells[col].len = len;
    t->blen += len;
}

void store_row_text(store_row *r, int col, const char *p, size_t len)
{
    if (r->st)
        sqlite3_bind_text(r->st, col + 1, p, (int)len, SQLITE_STATIC);
    else
        row_bytes(r, col, SQLITE_TEXT, p, len);
}

void store_row_blob(store_row *r, int col, const void *p, size_t len)
{
    if (r->st)
        sqlite3_bind_blob(r->st, col + 1, p, (int)len, SQLITE_STATIC);
    else
        row_bytes(r, col, SQLITE_BLOB, p, len);
}

int store_row_end(store_row *r, const char *what, accord_error *err)
{
    accord_store *s = r->s;
    if (r->st)
        return store_step_done(r->st) ? store_db_fail(s, err, what) : 0;
    table_rows *t = &s->rows->t[r->table];
    if (r->failed)
        return accord_err_set(err, ACCORD_ENOMEM, "store: out of memory %s", what);
    t->n++;
    s->rows_pending++;
    return t->n >= ROWS_MAX || t->blen >= ROWS_BYTES_MAX ? flush_table(s, t, err) : 0;
}
