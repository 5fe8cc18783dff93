/*
 * peer.h - federation peers: other TAXII 2.1 servers this node pulls from and pushes to.
 *
 * A peer is a name, the URL of a TAXII API root, a collection id there, a file holding the
 * bearer token, how its TLS certificate is verified (a CA file, or a pinned public key
 * "sha256//BASE64"), the directions (pull, push), the interval of `accord serve`'s background
 * rounds, the local collection it feeds and is fed from, and the peer's organisation (an identity
 * id: a member's node; "" for a public feed).  Peers live in the store (table peers); the pull
 * cursor of each (peer, collection) in table peer_cursors, written in the same transaction as the
 * page it follows; the push position and the health of the link in table peer_state; what came
 * from each peer in table peer_origin (src/peer_sync.c has the tables).
 */
#ifndef ACCORD_PEER_H
#define ACCORD_PEER_H

#include "accord.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

enum { PEER_DEFAULT_PAGE = 1000, PEER_MAX_PAGE = 100000, PEER_TS_LEN = 40 };
enum { PEER_PULL = 1, PEER_PUSH = 2 };
enum { PEER_DEFAULT_INTERVAL = 60, PEER_MAX_INTERVAL = 86400 };
/* A transfer slower than low_speed bytes/s for low_speed_time s fails the round (a peer that
   trickles, 1 byte/s, would otherwise hold the walk for the 15-minute request limit). */
enum { PEER_LOW_SPEED = 64, PEER_LOW_SPEED_TIME = 30, PEER_MAX_LOW_SPEED_TIME = 3600 };

typedef struct peer_conf {
    char name[64];
    char url[1024];       /* the API root, ending in '/' */
    char collection[128]; /* the collection id on the peer */
    char token_file[1024];
    char cacert[1024];  /* "" when pinned */
    char pin[128];      /* "sha256//BASE64" or "" */
    int page;           /* objects per request */
    int mode;           /* PEER_PULL | PEER_PUSH */
    int interval;       /* seconds between background rounds; 0 = only `accord sync` */
    char local[128];    /* local collection (id or alias) pulled into and pushed from; "" = the
                           default collection for pulls, the whole store for pushes */
    char org[80];       /* the peer's organisation (identity id); "" = not a member */
    int low_speed;      /* bytes/s, 1..2^30: slower than that ...                     */
    int low_speed_time; /* ... for this many seconds (1..PEER_MAX_LOW_SPEED_TIME) fails;
                           both 0: the defaults PEER_LOW_SPEED / PEER_LOW_SPEED_TIME */
    int flags;          /* PEER_BASIC: token_file holds "user:password" for HTTP Basic instead
                           of a bearer token; PEER_INSECURE_HTTP: an http:// URL is allowed */
} peer_conf;

#define PEER_BASIC 1
#define PEER_INSECURE_HTTP 2

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
    uint64_t pages, objects, stored, duplicates, rejected, widened;
    uint64_t conflicts;     /* a stored version's id and modified, other content: not stored */
    uint64_t equivocations; /* such a copy whose creator signed both (not in conflicts) */
    uint64_t refused; /* dropped before import: unsigned from a member, over-shared */
    uint64_t pushed, push_failed, echoes, push_envelopes; /* push half */
    uint64_t would_move;      /* dry run: objects that would be stored / pushed */
    char cursor[PEER_TS_LEN]; /* the cursor after the round */
    long http_status;         /* of the request that failed, 0 when none */
    int64_t retry_after_s;    /* the peer's Retry-After on that failure, -1 when none */
    uint64_t fetch_cpu_us;    /* CPU time of the pull's fetch thread (transfers, preparation) */
} peer_sync_stats;

/* What a round does besides its work (all optional). */
typedef struct peer_round_opts {
    int dry_run; /* walk and report, store and send nothing, move no cursor */
    /* dry run: each object that would move ("pull" or "push") */
    void (*on_item)(void *ud, const char *dir, const char *id, const char *modified);
    /* each object the accept policy refused (also audited as peer-refused), with the reason */
    void (*on_refused)(void *ud, const char *id, const char *modified, const char *why);
    void *ud;
    const atomic_int *cancel; /* non-zero aborts transfers in flight (server shutdown) */
} peer_round_opts;

/*
 * One pull round from p: pages from the cursor on, each imported and committed with its new
 * cursor in one transaction.  From a member peer (p->org set) only objects with a valid
 * signature by a known key (authored or endorsed) are taken; from any peer, an object whose TLP
 * marking does not clear this node's organisation is dropped as an over-share.  Both are audited.
 * 0, ACCORD_ESTIX (some objects rejected; the rest and the cursor are committed), or an error
 * naming the peer, the URL and the cause.  o may be NULL.
 */
int peer_pull(accord_store *s, const peer_conf *p, const peer_round_opts *o, peer_sync_stats *st,
              accord_error *err);

/*
 * One push round to p: the local versions added since the push position that p's organisation is
 * cleared to read (RED never), except those that came from p, POSTed in envelopes within the
 * peer's max_content_length; the position advances after each envelope's status is complete.
 * Objects the peer refused are audited as permanent failures.  0 or an error.  o may be NULL.
 */
int peer_push(accord_store *s, const peer_conf *p, const peer_round_opts *o, peer_sync_stats *st,
              accord_error *err);

/*
 * One round with p in its directions (pull first), recorded in peer_state (last attempt, last
 * success, consecutive failures, last error, next attempt) unless dry.  *delay_ms gets the wait
 * before the next background round (peer_next_delay_ms).  Returns the first error.
 */
int peer_round(accord_store *s, const peer_conf *p, const peer_round_opts *o, peer_sync_stats *st,
               int64_t *delay_ms, accord_error *err);

/* The health of one link as peer_state keeps it. */
typedef struct peer_status {
    int64_t last_attempt_us, last_success_us, next_attempt_us; /* 0 = never */
    int64_t push_after_us;   /* local date_added of the last version pushed, 0 = none */
    int64_t failures;        /* consecutive failed rounds */
    uint64_t pulled, pushed; /* objects stored from / accepted by the peer, all time */
    char last_error[512];    /* of the last round, "" when it succeeded */
} peer_status;

/* The status of peer name (zeroes when it never ran).  0 or a store error. */
int peer_status_get(accord_store *s, const char *name, peer_status *out, accord_error *err);

/*
 * The wait before the next round: the interval after a success; after `failures` (>= 1)
 * consecutive failures, PEER_BACKOFF_BASE_MS doubled per failure up to the interval (at least
 * PEER_BACKOFF_FLOOR_MS, at most PEER_BACKOFF_MAX_MS), scaled into [1/2, 1] by
 * jitter (0..65535); never less than retry_after_s (-1 = none) when the peer asked for it, up to
 * a day.
 */
enum {
    PEER_BACKOFF_BASE_MS = 1000,
    PEER_BACKOFF_FLOOR_MS = 8000,
    PEER_BACKOFF_MAX_MS = 3600 * 1000
};
int64_t peer_next_delay_ms(int interval_s, int64_t failures, int64_t retry_after_s,
                           uint32_t jitter);

/*
 * If line is a "Retry-After:" header, its value in seconds from now_s (delta-seconds or an
 * HTTP-date; a date in the past is 0, anything beyond a day is a day) into *secs: 1.  0 for other
 * headers, -1 for a Retry-After that does not parse.
 */
int peer_retry_after_parse(const char *line, size_t len, int64_t now_s, int64_t *secs);

/* Background rounds inside `accord serve`: one thread per peer with an interval. */
typedef struct peer_syncer peer_syncer;
/* Starts the supervisor thread on the store in data_dir.  0 or ACCORD_ENOMEM/EIO. */
int peer_syncer_start(const char *data_dir, peer_syncer **out, accord_error *err);
/* Stops every thread (transfers in flight are aborted) and frees sy; accepts NULL. */
void peer_syncer_stop(peer_syncer *sy);

/* --- what is parsed from a peer's answer (exposed for tests and fuzzing) --- */

typedef struct peer_page {
    int more;
    char next[256]; /* "" when absent */
    size_t objects; /* items of "objects" */
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
