/*
 * store.h - the write side of the store, for the ingest paths inside libaccord.
 *
 * The public read API (accord_store_get/search/scan/stats) is in include/accord.h.  Writers work
 * in transactions: store_begin, any number of store_put / store_audit, then store_commit or
 * store_rollback.  One transaction is one SQLite write transaction: the objects, their index
 * entries and their audit records become durable together or not at all.
 */
#ifndef ACCORD_STORE_H
#define ACCORD_STORE_H

#include "accord.h"
#include "stix.h"

typedef enum store_outcome {
    STORE_NEW = 1,   /* first version of an id */
    STORE_VERSION,   /* another version of a stored id */
    STORE_DUPLICATE, /* this version is stored with identical content: nothing written */
    STORE_CONFLICT,  /* this version is stored with other content: nothing written */
    STORE_LINKED,    /* this version is stored, and was now added to the collection too */
} store_outcome;

/* Starts a write transaction (waits for other writers up to the busy timeout). */
int store_begin(accord_store *s, accord_error *err);

/*
 * Stores one validated object in collection cid (see store_collection_resolve).  body is its
 * compact JSON; values are the XXH3 hashes of the
 * normalised observable values it mentions (see values.h).  *outcome says what happened; *seq is
 * the new version's seq (or the stored one's for duplicates/conflicts, 0 when unknown).
 */
int store_put(accord_store *s, int64_t cid, const stix_info *info, const char *body, size_t len,
              const uint64_t *values, size_t nvalues, store_outcome *outcome, int64_t *seq,
              accord_error *err);

/* store_put with the content hash given: for signed objects, the hash of their canonical form
 * without signatures, so the same content with another signature set is the same version
 * (STORE_DUPLICATE or STORE_LINKED, then store_signatures_add merges the sets). */
int store_put_hashed(accord_store *s, int64_t cid, const stix_info *info, const char *body,
                     size_t len, uint64_t chash, const uint64_t *values, size_t nvalues,
                     store_outcome *outcome, int64_t *seq, accord_error *err);
/* The content hash store_put uses (XXH3-64). */
uint64_t store_content_hash(const void *data, size_t len);

/* The version (id, modified) of an object: its index keys, and its seq when it is stored. */
typedef struct store_vref {
    uint64_t idh, vkey; /* store_id_hash(id), store_version_key(idh, modified) */
    int64_t seq;        /* the stored version, 0 when none (or outside a transaction) */
} store_vref;

/* Fills *ref for info's version from the in-memory version set (no SQL): 1 when it is stored. */
int store_version_ref(accord_store *s, const stix_info *info, store_vref *ref);

/* store_put_hashed for a version whose *ref store_version_ref filled in this transaction with no
 * put since: the version is hashed and looked up once, not once by the caller and once here. */
int store_put_ref(accord_store *s, int64_t cid, const stix_info *info, const store_vref *ref,
                  const char *body, size_t len, uint64_t chash, const uint64_t *values,
                  size_t nvalues, store_outcome *outcome, int64_t *seq, accord_error *err);

/* 1 with *seq and *chash when the version (id, modified) of info is stored (inside a
 * transaction), else 0. */
int store_version_find(accord_store *s, const stix_info *info, int64_t *seq, uint64_t *chash);
/* A copy of version seq's body (free() it), NUL-terminated.  ACCORD_ENOTFOUND. */
int store_body_get(accord_store *s, int64_t seq, char **body, size_t *len, accord_error *err);

typedef struct store_sig {
    const char *keyid, *signer;
    const uint8_t *sig; /* 64 bytes */
} store_sig;

/* 1 when version seq's stored list holds a signature by keyid with exactly these bytes (it was
 * verified before). */
int store_sig_has(accord_store *s, int64_t seq, const char *keyid, const uint8_t sig[64]);
/* 1 when version seq holds any signature (it was stored signed), 0 when not, or ACCORD_ESTORE. */
int store_sig_any(accord_store *s, int64_t seq);
/*
 * An endorsement of version seq (STIX id `id`), stored before: body is its new form with the
 * merged signature list, which replaces the old in place (no new version; ACCORD_ENOTFOUND when
 * seq is not stored); each of the n new signatures gets a "signature added" audit record naming
 * id, and the version gets a new date_added in each of its
 * collections (the caller calls this only when the set grew: an equal set changes nothing).
 * A new version's signatures need no call: its body holds the list (the signatures view).
 */
int store_signatures_endorse(accord_store *s, int64_t seq, const char *id, const char *body,
                             size_t len, const store_sig *sigs, size_t n, accord_error *err);

/*
 * Appends an audit record: action ("accepted", "version", "rejected", "conflict", ...), the
 * object's seq (0 when not stored), its id (may be NULL) and a detail line (may be NULL).
 */
int store_audit(accord_store *s, const char *action, int64_t object_seq, const char *ref,
                const char *detail, accord_error *err);
/*
 * Ends a change begun with BEGIN IMMEDIATE outside store_begin (configuration, cases): appends
 * its audit record (action, ref, detail) and commits, or rolls back when rc or either step
 * fails.  Returns the first failure.
 */
int store_audit_commit(accord_store *s, int rc, const char *action, const char *ref,
                       const char *detail, accord_error *err);

/* A TAXII status resource (accord_status_put's row and audit record) inside the caller's open
 * transaction, so that it commits with the objects it reports. */
int store_status_add(accord_store *s, const char *id, const char *root, const char *account,
                     const char *json, size_t len, accord_error *err);

/*
 * Defers the rows of the open transaction's new versions (objects, memberships, audit records,
 * indicators' rows) and writes them in bulk, each table by one statement, before any other
 * statement of the store reads or changes those tables, and at the commit (store_rows.c).  For
 * a writer that adds many versions in one transaction; ends with the transaction.
 */
void store_rows_defer(accord_store *s);

/* Writes the transaction's index runs, compacts them when due, and commits. */
int store_commit(accord_store *s, accord_error *err);
/* Abandons the transaction; nothing of it is kept. */
void store_rollback(accord_store *s);

/*
 * The collection named by ref (its id, or its alias when that is unique; NULL or "" = the default
 * collection) as *cid.  ACCORD_ENOTFOUND when there is none.
 */
int store_collection_resolve(accord_store *s, const char *ref, int64_t *cid, accord_error *err);

/* An indicator version as the indicators table holds it (store.c's schema): the record without
 * its body, and the properties exports read. */
typedef struct store_ind {
    accord_record r;          /* body NULL, body_len 0 */
    int64_t valid_from;       /* µs; INT64_MIN when absent, INT64_MAX when unreadable */
    int64_t valid_until;      /* µs; INT64_MAX when absent */
    int confidence;           /* 0-100, -1 when absent */
    const char *pattern_type; /* NULL when absent */
    const char *pattern;      /* NULL when absent; pattern_len bytes (NUL-terminated) */
    size_t pattern_len;
    const char *name; /* NULL when absent */
} store_ind;

typedef int (*store_ind_cb)(void *ud, const store_ind *ind);

/*
 * Calls cb for the indicators of collection `collection` (NULL: the whole store) that viewer v
 * (NULL: everything) may read, in added order: the latest version of each id (a revoked one
 * too: r.revoked says), or, with all_versions, every version.  Reads the indicators table only,
 * never a body.
 */
int store_ind_scan(accord_store *s, const char *collection, const accord_viewer *v,
                   int all_versions, store_ind_cb cb, void *ud, accord_error *err);

/* meta(key) into out: 0, ACCORD_ENOTFOUND, ACCORD_ELIMIT (too long), ACCORD_ESTORE. */
int store_meta_get(accord_store *s, const char *key, char *out, size_t outlen);
/* Sets meta(key) (inside the caller's transaction when one is open). */
int store_meta_set(accord_store *s, const char *key, const char *value, accord_error *err);

/* The 64-bit hash the value index uses for a normalised value. */
uint64_t store_value_hash(const char *value, size_t len);

/* Sets err (may be NULL) to code rc with a formatted message; returns rc. */
int accord_err_set(accord_error *err, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * WAL checkpoints off the writer (store.c says why): store_wal_defer makes handle s (a server's
 * one writer) leave checkpoints to others until its WAL passes a backstop size;
 * store_wal_frames is the WAL's size in frames after the last commit on s (0 before any), safe to
 * read from any thread; store_wal_checkpoint runs a PASSIVE checkpoint on handle s (any handle on
 * the same store but the writer's, so that the copy runs outside the writer's lock; it waits for
 * nothing, and errors are left to the next one).  STORE_WAL_CHECKPOINT is the size at which
 * callers should run one.
 */
#define STORE_WAL_CHECKPOINT 2500
void store_wal_defer(accord_store *s);
int store_wal_frames(accord_store *s);
void store_wal_checkpoint(accord_store *s);

#endif
