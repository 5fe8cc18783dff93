/*
 * peer_int.h - what the files of the federation subsystem share (peer.c: peers, the HTTP client
 * and the pull walk; peer_push.c: the push half; peer_sync.c: rounds, link state, backoff and the
 * background threads).  Only peer*.c include this file.
 */
#ifndef ACCORD_PEER_INT_H
#define ACCORD_PEER_INT_H

#include "peer.h"
#include "tlp.h"

#include "util/buf.h"
#include "util/json.h"

#include <curl/curl.h>

struct import_prep;

#define PEER_MAX_PAGE_BYTES ((size_t)256 << 20)

/* One response being read: body (capped), the date-added range and Retry-After headers. */
typedef struct peer_fetch {
    char *body;
    size_t len, cap;
    int too_big;
    char first[PEER_TS_LEN], last[PEER_TS_LEN];
    int bad_header;
    int64_t retry_after; /* seconds, -1 when absent */
} peer_fetch;

/* A libcurl handle set up for one peer: TLS verification, bearer token, keep-alive. */
typedef struct peer_http {
    CURL *c;
    struct curl_slist *hdrs;
    const peer_conf *p;
    const atomic_int *cancel;
    peer_fetch f;
    char ebuf[CURL_ERROR_SIZE];
} peer_http;

/* 1 when a TAXII status failure message names a reason that passes (busy, locked, overloaded,
 * timed out, try again, 429/503): peer_push.c sends such versions again, a bounded number of
 * times; 0 for a permanent failure. */
int peer_push_transient(const char *msg);

/* Creates and migrates the peer tables.  0 or a store error. */
int peer_tables(accord_store *s, accord_error *err);

/* Opens h for p (reads the token file).  0, ACCORD_EIO/EINVAL/ENOMEM naming the peer. */
int peer_http_open(peer_http *h, const peer_conf *p, const atomic_int *cancel, accord_error *err);
void peer_http_close(peer_http *h);
/*
 * GET url (body NULL) or POST body[0..len) as TAXII JSON; the response lands in h->f, its status
 * in *status.  ACCORD_EIO naming the peer, the method and the URL on transport errors (refused,
 * TLS, timeout, too big, cancelled); st->http_status/retry_after_s are set on any status >= 400.
 */
int peer_http_do(peer_http *h, const char *url, const char *body, size_t len, long *status,
                 peer_sync_stats *st, accord_error *err);
/* The title and description of a TAXII error resource in f, as ": title: description". */
void peer_fetch_error_text(const peer_fetch *f, char *out, size_t cap);
/* peer_fetch_error_text of h->f. */
void peer_http_error_text(const peer_http *h, char *out, size_t cap);
/* curl_easy_escape into out. */
void peer_url_escape(peer_http *h, const char *in, char *out, size_t cap);

/*
 * Records, in the open transaction, that the versions listed in text came from peer: entry i
 * at text + at[i] is "id\0modified\0".  Many rows go in one statement.  0 or a store error.
 */
int peer_origins_add(accord_store *s, const char *peer, const char *text, const size_t *at,
                     size_t n, accord_error *err);

/*
 * peer_page_parse into the caller's arena a, which then holds the parsed envelope: *objs gets its
 * "objects" array (NULL when absent), for the walk to hand on without parsing the page again.
 */
int peer_page_read(ajson_arena *a, const char *body, size_t len, peer_page *pg,
                   const ajson_value **objs, accord_error *err);
/* The byte just past objs[i] in the page t[0..len) that objs was parsed from. */
size_t peer_object_end(const char *t, size_t len, const ajson_value *objs, size_t i);

/*
 * The over-share half of the accept policy: this node's organisation as a reader of TLP
 * markings, read from a store by peer_tlp_gate_open (its identity and default TLP level, which
 * no import changes).  peer_tlp_refuses: 1 when obj's marking does not clear this node (RED
 * always: it never leaves its node), with the reason in why; 0 when it may be taken (unmarked
 * objects carry no restriction from their sender).
 */
typedef struct peer_tlp_gate {
    accord_viewer self;
    int have_self;
    buf recip, deps;
} peer_tlp_gate;

void peer_tlp_gate_open(peer_tlp_gate *g, accord_store *s);
void peer_tlp_gate_close(peer_tlp_gate *g);
int peer_tlp_refuses(peer_tlp_gate *g, const ajson_value *obj, char *why, size_t cap);

/*
 * One GET of a pull walk and what is done with its answer before the page is stored
 * (peer_pipe.c).  The caller fills the inputs; the rest belongs to the fetch thread from
 * peer_pipe_run until peer_pipe_wait returns.  Zero it and ajson_arena_init(a) before first use.
 */
typedef struct peer_page_job {
    char url[3000]; /* in */
    int prepare;    /* in: prepare the objects for import_fd_hooked (not on a dry run) */
    unsigned flags; /* in: the import's flags (IMPORT_VERIFIED from a member's node) */
    int rc;         /* peer_http_do's outcome (err) */
    long status;
    peer_sync_stats st; /* http_status and retry_after_s of a failed answer */
    accord_error err;
    peer_fetch f; /* the answer */
    int parse_rc; /* a 200 answer's envelope: 0, or ACCORD_EJSON with the cause in perr */
    accord_error perr;
    peer_page pg;
    const ajson_value *objs; /* its "objects" (in a), NULL when absent */
    ajson_arena a;
    struct import_prep *prep; /* the objects prepared; NULL: store them from objs */
    /* the over-share check of each object, done with the fetch thread's view of this node
     * (tlp_judged 0: not done, the storing thread does it) */
    int tlp_judged;
    unsigned char *tlp_refused; /* [objs->len]: 1 when refused */
    size_t tlp_cap;
} peer_page_job;

typedef struct peer_pipe peer_pipe;
/* Starts the fetch thread of a walk on h (jobs then run on the caller's thread if it cannot
 * start), with a read-only handle of its own on store s (NULL: none) for the keys that prove
 * signatures.  0 or ACCORD_ENOMEM. */
int peer_pipe_open(peer_pipe **out, peer_http *h, accord_store *s, accord_error *err);
/* Starts j (the pipe is idle: after open or peer_pipe_wait). */
void peer_pipe_run(peer_pipe *pp, peer_page_job *j);
/* Returns when the job started last is done (at once when none runs). */
void peer_pipe_wait(peer_pipe *pp);
/* The fetch thread's CPU time so far, in microseconds (0 when jobs run on the caller's). */
uint64_t peer_pipe_cpu_us(peer_pipe *pp);
/* Waits, frees the prepared pages of jobs[0..n) and stops the thread; accepts NULL. */
void peer_pipe_close(peer_pipe *pp, peer_page_job *jobs, size_t n);

/*
 * For the length of a pull: the store's WAL checkpoints run on a thread of their own (a second
 * connection) instead of inside the walk's commits (peer_ckpt.c).  NULL when that cannot be set
 * up: the store then checkpoints as it always does.  peer_ckpt_stop puts the store's own
 * checkpointing back; accepts NULL.
 */
typedef struct peer_ckpt peer_ckpt;
peer_ckpt *peer_ckpt_start(accord_store *s);
void peer_ckpt_stop(peer_ckpt *c);

#endif
