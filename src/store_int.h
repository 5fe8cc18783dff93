/*
 * store_int.h - what the files of the store subsystem share: the handle, the prepared statements,
 * the sorted-run index.  Only store*.c include this file (and sqlite3.h).
 */
#ifndef ACCORD_STORE_INT_H
#define ACCORD_STORE_INT_H

#include "store.h"
#include "util/u64map.h"

#include <sqlite3.h>
#include <stdatomic.h>
#include <stdint.h>

#define CHUNK_ENTRIES 1024
#define MERGE_FANOUT 4
#define FLAG_REVOKED 1
#define FLAG_SUPERSEDED 2
#define FLAG_NOT_FIRST 4

/* The export_rows row (store.c's schema table has the layout): its header's size and the layout
 * number in its first byte, and the bits of its second. */
#define XROW_HEAD 40
#define XROW_LAYOUT 1
#define XROW_SPEC20 1     /* spec '2.0' */
#define XROW_PTYPE 2      /* pattern_type present */
#define XROW_PTYPE_STIX 4 /* ... and it is 'stix' */
#define XROW_PATTERN 8    /* pattern present */
#define XROW_NAME 16      /* name present */

/* An indicator's first observable type: the pattern's text between its first '[' and the next
 * ':', spaces trimmed ("[ipv4-addr:value = ...]" -> "ipv4-addr").  Schema 13 keeps it in column
 * indicators.otype (store_ind_otype, indexes indicators_type and indicators_type_vu); schemas 11
 * and 12 indexed the expression STORE_IND_TYPE_V11, whose value store_ind_otype reproduces. */
#define STORE_IND_TYPE "otype"
#define STORE_IND_TYPE_V11                                                                         \
    "trim(substr(pattern, instr(pattern, '[') + 1,"                                               \
    " instr(substr(pattern, instr(pattern, '[') + 1), ':') - 1))"

/* The first observable type of pattern p (n bytes) as STORE_IND_TYPE_V11 gives it: *off and *len
 * locate it in p.  SQLite's substr stops at a NUL byte, and a '[' with no ':' after it gives
 * "[" (a negative substr length reads the character before). */
void store_ind_otype(const char *p, size_t n, size_t *off, size_t *len);

struct buf;
struct ts_value;

/* t as nanoseconds since the epoch (what SQL ts_ns() gives); -1 when it is outside what 64 bits
 * of nanoseconds hold (before 1677-09-21T00:12:44Z or after 2262-04-11T23:47:16Z). */
int store_ts_ns(const struct ts_value *t, int64_t *ns);

enum { KIND_ID = 0, KIND_VALUE = 1, KIND_VERSION = 2, KIND_COUNT = 3 };

typedef struct entry {
    int64_t key, val;
} entry;

typedef struct entries {
    entry *v;
    size_t n, cap;
} entries;

enum stmt_id {
    S_INS_OBJ,
    S_INS_AUDIT,
    S_ROW_VERSION,
    S_SET_FLAGS,
    S_LAST_ROW,
    S_CLOCK_SET,
    S_ROW_CHASH,
    S_MEMBER_GET,
    S_MEMBER_FLAGS,
    S_INS_MEMBER,
    S_ROWS_AFTER,
    S_RUNS_OF_KIND,
    S_RUNS_AT_LEVEL,
    S_CHUNK_FIND,
    S_CHUNK_GET,
    S_CHUNK_INS,
    S_RUN_INS,
    S_RUN_DEL,
    S_CHUNK_DEL,
    S_MAX_RUN,
    S_CHUNKS_OF_KIND,
    S_RECORD,
    S_AUDIT_LAST,
    S_LABEL,
    S_RED_ANY,
    S_SIG_GET,
    S_SIG_ANY,
    S_INS_IND,
    S_INS_XROW,
    S_AUDIT_TAIL,
    S_SIGHT_OBJ,
    S_SIGHT_INS,
    S_SIGHT_OBJ_MEMBERS,
    S_SIGHT_MEMBER,
    S_SIGHT_ROWS,
    S_SIGHTED_ADD,
    S_HOURS_ADD,
    S_COUNT
};

/* The tables whose rows a bulk writer defers (store_rows.c). */
enum {
    STORE_ROWS_OBJECTS,
    STORE_ROWS_MEMBERS,
    STORE_ROWS_AUDIT,
    STORE_ROWS_INDICATORS,
    STORE_ROWS_XROWS,
    STORE_ROWS_COUNT
};

struct store_rows;

struct accord_store {
    sqlite3 *db;
    sqlite3_stmt *st[S_COUNT];
    int readonly;
    /* writer state, valid between store_begin and store_commit/rollback */
    int in_txn;
    int64_t last_seq, last_added;
    entries pend[KIND_COUNT]; /* index entries of the open transaction */
    u64map pend_id;           /* id hash -> 1 + index in pend[KIND_ID] of its newest entry */
    size_t *pend_prev;        /* per pend[KIND_ID] entry: 1 + index of the previous same-id one */
    size_t pend_prev_cap;
    /* writer caches, kept across transactions while no other process writes */
    int sets_loaded;
    int64_t sets_seq; /* the sets cover every row with seq <= sets_seq */
    u64map idset;     /* XXH3(id) -> 1 */
    u64map verset;    /* vkey -> seq */
    /* audit log (store_audit.c) */
    char *dir;                /* the data directory: DIR/keys/node.seed signs checkpoints */
    int64_t audit_next;       /* inside a store_begin transaction: the next record's seq, 0 = ask */
    struct buf *leafbuf;      /* the leaf bytes of the record being written (util/buf.h) */
    accord_sign_key *node_key; /* loaded (or created) at the first checkpoint */
    struct audit_cache *afront; /* the Merkle frontier of the records written, kept while
                                   afront_ok (store_audit.c says when) */
    int afront_ok;
    /* WAL frames after the last commit on this handle, kept when its checkpoints are deferred
     * (store_wal_defer); read by other threads without the writer's lock */
    _Atomic int wal_frames;
    /* deferred rows (store_rows.c): on for the open transaction when its writer asked */
    struct store_rows *rows;
    int rows_defer;
    size_t rows_pending;
};

/* One row being written to one of the STORE_ROWS_* tables: bound to its insert statement, or,
 * when the transaction defers rows, copied into the pending rows.  Columns count from 0 (the
 * insert's ?1).  Text and blobs are borrowed until store_row_end. */
typedef struct store_row {
    accord_store *s;
    int table, failed;
    sqlite3_stmt *st;
    struct cell *cells;
} store_row;

/* The text of statement id (for the bulk form of the inserts). */
const char *store_stmt_sql(enum stmt_id id);

/* Registers the pending rows' virtual tables on s->db; 0 or ACCORD_ENOMEM / ACCORD_ESTORE. */
int store_rows_init(accord_store *s);
/* Finalizes the flush statements and frees the pending rows (before the connection closes). */
void store_rows_free(accord_store *s);
/* Drops the pending rows and ends deferring (a rollback, or after the commit). */
void store_rows_discard(accord_store *s);
/* Writes the pending rows, each table by one statement.  store_rows_flush_quiet: without an
 * error message, ACCORD_ESTORE on failure. */
int store_rows_flush(accord_store *s, accord_error *err);
int store_rows_flush_quiet(accord_store *s);
/* Starts a row of table (STORE_ROWS_*): 0, ACCORD_ENOMEM or ACCORD_ESTORE (no statement). */
int store_row_begin(accord_store *s, int table, store_row *r);
void store_row_int(store_row *r, int col, int64_t v);
void store_row_text(store_row *r, int col, const char *p, size_t len);
void store_row_blob(store_row *r, int col, const void *p, size_t len);
/* Writes the row (or adds it to the pending ones, flushing when they are many); what names the
 * step in an error message. */
int store_row_end(store_row *r, const char *what, accord_error *err);


/* Sets err from the connection's last error ("store: WHAT: sqlite message"); returns the code. */
int store_db_fail(accord_store *s, accord_error *err, const char *what);
/* The prepared statement id, reset and unbound; NULL when it cannot be prepared. */
sqlite3_stmt *store_stmt(accord_store *s, enum stmt_id id);
/* Steps st to completion and resets it; 0, or -1 on an error. */
int store_step_done(sqlite3_stmt *st);
/* Runs SQL without results. */
int store_exec(accord_store *s, const char *sql, accord_error *err);
/* The first column of the first row of SQL, 0 when none. */
int64_t store_scalar(accord_store *s, const char *sql);

uint64_t store_id_hash(const char *id);
/* Calls cb for the row `seq` when it exists (and, when id is not NULL, has that id; when
 * latest_only, is the latest version) and v may read it (NULL: anyone); counts it in *emitted
 * (store_read.c). */
int store_emit_seq(accord_store *s, const accord_viewer *v, int64_t seq, const char *id,
                   int latest_only, accord_record_cb cb, void *ud, int *emitted, accord_error *err);
/* The TLP rule over a version's label columns for v (not NULL), RED by collection cid (0: any
 * collection holding version seq): 1 in *ok when v reads it (store_read.c). */
int store_label_clears(accord_store *s, const accord_viewer *v, int64_t seq, int level,
                       const char *org, const char *to, int64_t cid, int *ok, accord_error *err);
/* 1 in *ok when the latest stored version of id (len bytes) is readable by v, or none is stored:
 * the rule a sighting follows for what it names (store_read.c). */
int store_dep_clears(accord_store *s, const accord_viewer *v, const char *id, size_t len, int *ok,
                     accord_error *err);
/* Creates the default API root and collection of a new store (inside the migration). */
int store_coll_create_defaults(accord_store *s, accord_error *err);
/* The version key: the id and the instant of modified ("...00Z" and "...00.000Z" are equal). */
uint64_t store_version_key(uint64_t idh, const char *modified);

int store_entries_push(entries *e, int64_t key, int64_t val);
int store_entry_cmp(const void *a, const void *b);
/* Sorts v[0..n) in store_entry_cmp's order (a radix sort when the values do not decrease). */
void store_entries_sort(entry *v, size_t n);
/* Sorts e and writes it as a new level-0 run of kind, merging runs when due. */
int store_run_write(accord_store *s, int kind, entries *e, accord_error *err);
/* Appends the value of every committed entry of kind with this key to out. */
int store_runs_lookup(accord_store *s, int kind, int64_t key, entries *out, accord_error *err);
/* The same for n keys sorted ascending (repeats allowed) in one pass over the runs: each run's
 * chunk list is sought once per chunk the keys fall in, not once per key.  Appends (key, value)
 * pairs in no particular order. */
int store_runs_lookup_many(accord_store *s, int kind, const int64_t *keys, size_t n, entries *out,
                           accord_error *err);

/* Signs the checkpoint of the first `size` audit records inside the open transaction, unless one
 * of that size or larger exists (store_audit.c). */
int store_audit_checkpoint_at(accord_store *s, int64_t size, accord_error *err);
/* The frontier cache (store_audit.c): after BEGIN of a store_begin transaction, record `seq`'s
 * leaf hash written, and after a rollback or an audit write outside such a transaction. */
void store_audit_txn_begin(accord_store *s);
void store_audit_leaf_added(accord_store *s, int64_t seq, const uint8_t leaf[32]);
void store_audit_forget(accord_store *s);
/* Computes the leaf hash of every record that has none (stores from before leaves existed). */
int store_audit_backfill(accord_store *s, accord_error *err);

#endif
