/*
 * store_console.h - the indicator selections of the web console's indicators page and its bulk
 * changes: the indicators table (latest versions) with the filters the page offers, sorted by
 * seq or by last sighting, keyset-paginated.
 */
#ifndef ACCORD_STORE_CONSOLE_H
#define ACCORD_STORE_CONSOLE_H

#include "accord.h"

#include <stdint.h>

typedef struct store_ind_sel {
    const char *obs_type; /* the pattern's first observable type ("ipv4-addr"), or NULL */
    const char *source;   /* created_by_ref, or NULL */
    int tlp;              /* effective level (ACCORD_TLP_*), or -2 for any */
    int dflt;             /* the store's level for unmarked indicators */
    int64_t vu_before;    /* valid_until < this (µs; absent valid_until never matches); 0 any */
    int64_t vu_after;     /* valid_until > this or absent; 0 any */
    int has_sightings;    /* 1 with, 0 without, -1 any */
    int revoked;          /* 1 revoked only, 0 not revoked, -1 any */
    int by_last_sighting; /* order by (last sighting, seq) descending, else by seq descending */
    int64_t cur_last, cur_seq; /* keyset cursor: rows after (cur_last, cur_seq); cur_seq 0 none */
    int64_t max_seq;           /* only versions with seq <= this (a snapshot); 0 any */
    int64_t extend_to;         /* only unrevoked rows with a valid_until before this (µs); 0 any */
    int no_source;             /* rows without their source (created_by_ref) */
} store_ind_sel;

typedef struct store_ind_row {
    int64_t seq, added, valid_until; /* valid_until: 0 when absent */
    int64_t last_sighting;           /* added (µs) of the newest sighting of it, 0 when none */
    int64_t sightings;               /* latest sighting versions naming it */
    const char *id, *modified, *pattern, *name, *source; /* NULL when absent */
    int tlp, revoked;                                    /* tlp as stored (TLP_UNMARKED possible) */
} store_ind_row;

/* Calls cb for each latest indicator version matching f in f's order until cb returns non-zero
 * (that value is returned).  No viewer: the caller checks clearance. */
int store_ind_select(accord_store *s, const store_ind_sel *f,
                     int (*cb)(void *ud, const store_ind_row *r), void *ud, accord_error *err);

/* Calls cb with the id of each collection version seq belongs to. */
int store_seq_collections(accord_store *s, int64_t seq, int (*cb)(void *ud, const char *coll),
                          void *ud, accord_error *err);

/*
 * Calls cb, in seq order after after_seq, for each latest unrevoked relationship version whose
 * source_ref or target_ref is id and that v may read (NULL: every one), until cb returns non-zero
 * (that value is returned).  Two index lookups, never a scan.
 */
int store_rels_of(accord_store *s, const accord_viewer *v, const char *id, int64_t after_seq,
                  accord_record_cb cb, void *ud, accord_error *err);

/* A hit of store_search_many: vi is the value's index; rec is NULL (once) for a value that is not
 * searchable (value_normalize refused it).  Non-zero stops the search and is returned. */
typedef int (*store_hit_cb)(void *ud, size_t vi, const accord_record *rec);

/*
 * Searches values[from..n) at once: calls cb for every stored version mentioning each value that
 * v may read (NULL: all), value by value, each value's versions in seq order, skipping those of
 * values[from] up to from_seq (a cursor).  One pass over the value index for all of them.
 */
int store_search_many(accord_store *s, const accord_viewer *v, const char *const *values, size_t n,
                      size_t from, int64_t from_seq, store_hit_cb cb, void *ud, accord_error *err);

/*
 * The sightings series: calls cb(ud, t, n) with the time (seconds) and count of each latest
 * unrevoked sighting version that v may read (NULL: all), in the order they were added, of
 * indicator of_ref across the store (cid 0), or every one in collection cid (of_ref NULL), after
 * the added time (µs) after, walking at most limit versions.  *walked and *last (the added time
 * of the last one walked: the next call's after) say how far it went.  An index range scan of the
 * sightings table (schema 8), no body read.  Non-zero from cb stops the walk and is returned.
 */
int store_sightings_walk(accord_store *s, const accord_viewer *v, const char *of_ref, int64_t cid,
                         int64_t after, uint32_t limit,
                         int (*cb)(void *ud, int64_t t, int64_t n), void *ud, uint32_t *walked,
                         int64_t *last, accord_error *err);

/*
 * A collection's series for a caller who reads every sighting: cb(ud, hour, sightings, n) for
 * each hour (its start, seconds) holding latest unrevoked sighting versions of collection cid,
 * oldest first: how many, and the sum of their counts.  Table sighting_hours (schema 11, kept by
 * triggers on sightings), one row per hour: no sighting is read.
 */
int store_sighting_hours(accord_store *s, int64_t cid,
                         int (*cb)(void *ud, int64_t hour, int64_t sightings, int64_t n), void *ud,
                         accord_error *err);

/* The last message seq account has read in each topic of case_id: cb(ud, topic, seen). */
int store_thread_reads(accord_store *s, const char *account, const char *case_id,
                       int (*cb)(void *ud, const char *topic, int64_t seen), void *ud,
                       accord_error *err);

/* Records that account has read topic of case_id up to message seq seen (an earlier seq changes
 * nothing).  Needs a writable handle. */
int store_thread_read_put(accord_store *s, const char *account, const char *case_id,
                          const char *topic, int64_t seen, accord_error *err);

/* ------------------------------------------------------------------------------------------ */
/* Console sessions (ui.c): rows keyed by the BLAKE2b-256 of the session id                     */

#define STORE_SESSION_HASH 32
#define STORE_SESSIONS_MAX 4096

/*
 * Stores a session (replacing one with the same hash), then drops the sessions last used before
 * older_than_us and all but the STORE_SESSIONS_MAX used most recently; one transaction.  Needs a
 * writable handle with no transaction open.
 */
int store_session_put(accord_store *s, const unsigned char *hash, const char *account,
                      int64_t created_us, int64_t used_us, int64_t older_than_us,
                      accord_error *err);

/* The session with this hash: its account (into cap bytes) and times; ACCORD_ENOTFOUND. */
int store_session_get(accord_store *s, const unsigned char *hash, char *account, size_t cap,
                      int64_t *created_us, int64_t *used_us, accord_error *err);

/* Records a later use of the session (an earlier time changes nothing); none is not an error. */
int store_session_touch(accord_store *s, const unsigned char *hash, int64_t used_us,
                        accord_error *err);

/* Drops the session (logout); none is not an error. */
int store_session_del(accord_store *s, const unsigned char *hash, accord_error *err);

#endif
