/*
 * peer.h - federation peers: other TAXII 2.1 servers this node pulls from.
 *
 * A peer is a name, the URL of a TAXII API root, a collection id there, a file holding the
 * bearer token, and how its TLS certificate is verified (a CA file, or a pinned public key
 * "sha256//BASE64").  Peers live in the store (table peers); the pull cursor of each (peer,
 * collection) in table peer_cursors, written in the same transaction as the page it follows.
 */
#ifndef ACCORD_PEER_H
#define ACCORD_PEER_H

#include "accord.h"

#include <stddef.h>
#include <stdint.h>

enum { PEER_DEFAULT_PAGE = 1000, PEER_MAX_PAGE = 100000, PEER_TS_LEN = 40 };

typedef struct peer_conf {
    char name[64];
    char url[1024];       /* the API root, ending in '/' */
    char collection[128]; /* the collection id on the peer */
    char token_file[1024];
    char cacert[1024]; /* "" when pinned */
    char pin[128];     /* "sha256//BASE64" or "" */
    int page;          /* objects per request */
} peer_conf;

/* Checks a configuration (name, URL, pin syntax, one of cacert/pin): 0 or ACCORD_EINVAL. */
int peer_conf_check(const peer_conf *p, accord_error *err);
/* Adds (or replaces) a peer; audited. */
int peer_add(accord_store *s, const peer_conf *p, accord_error *err);
/* Removes a peer and its cursors; ACCORD_ENOTFOUND. */
int peer_remove(accord_store *s, const char *name, accord_error *err);
/* Calls fn for each peer in name order with its cursor ("" when none); stops at fn's non-zero. */
int peer_each(accord_store *s, int (*fn)(void *ud, const peer_conf *p, const char *cursor),
              void *ud, accord_error *err);
/* The peer called name; ACCORD_ENOTFOUND. */
int peer_get(accord_store *s, const char *name, peer_conf *p, accord_error *err);

typedef struct peer_sync_stats {
    uint64_t pages, objects, stored, duplicates, rejected, conflicts, widened;
    char cursor[PEER_TS_LEN]; /* the cursor after the round */
} peer_sync_stats;

/*
 * One pull round from p: pages from the cursor on, each imported and committed with its new
 * cursor in one transaction.  0, ACCORD_ESTIX (some objects rejected; the rest and the cursor
 * are committed), or an error naming the peer, the URL and the cause.
 */
int peer_pull(accord_store *s, const peer_conf *p, peer_sync_stats *st, accord_error *err);

/* --- what is parsed from a peer's answer (exposed for tests and fuzzing) --- */

typedef struct peer_page {
    int more;
    char next[256];   /* "" when absent */
    size_t objects;   /* items of "objects" */
} peer_page;

/* Parses a TAXII envelope: 0, or ACCORD_EJSON with the byte offset and cause in err. */
int peer_page_parse(const char *body, size_t len, peer_page *pg, accord_error *err);

/*
 * If line is an "X-TAXII-Date-Added-First:" or "-Last:" header with a valid timestamp, copies
 * the value to first or last (PEER_TS_LEN bytes each) and returns 1; 0 for other headers, -1 for
 * one of these two with a bad value.
 */
int peer_header_parse(const char *line, size_t len, char *first, char *last);

/*
 * The cursor to commit after a page whose date_added range is [first, last]: last when the walk
 * is done; when more pages follow, the microsecond before last (objects added at last may continue
 * on the next page, and a crash must not skip them).  1 when more pages follow and first == last:
 * the page must be widened (asked again with a larger limit) or the walk could not advance.
 * -1 for timestamps that do not parse.
 */
int peer_next_cursor(const char *first, const char *last, int more, char *out, size_t outlen);

#endif
