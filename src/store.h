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

/*
 * Appends an audit record: action ("accepted", "version", "rejected", "conflict", ...), the
 * object's seq (0 when not stored), its id (may be NULL) and a detail line (may be NULL).
 */
int store_audit(accord_store *s, const char *action, int64_t object_seq, const char *ref,
                const char *detail, accord_error *err);

/* Writes the transaction's index runs, compacts them when due, and commits. */
int store_commit(accord_store *s, accord_error *err);
/* Abandons the transaction; nothing of it is kept. */
void store_rollback(accord_store *s);

/*
 * The collection named by ref (its id, or its alias when that is unique; NULL or "" = the default
 * collection) as *cid.  ACCORD_ENOTFOUND when there is none.
 */
int store_collection_resolve(accord_store *s, const char *ref, int64_t *cid, accord_error *err);

/* meta(key) into out: 0, ACCORD_ENOTFOUND, ACCORD_ELIMIT (too long), ACCORD_ESTORE. */
int store_meta_get(accord_store *s, const char *key, char *out, size_t outlen);
/* Sets meta(key) (inside the caller's transaction when one is open). */
int store_meta_set(accord_store *s, const char *key, const char *value, accord_error *err);

/* The 64-bit hash the value index uses for a normalised value. */
uint64_t store_value_hash(const char *value, size_t len);

/* Sets err (may be NULL) to code rc with a formatted message; returns rc. */
int accord_err_set(accord_error *err, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
