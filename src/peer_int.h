/*
 * peer_int.h - what the files of the federation subsystem share (peer.c: peers, the HTTP client
 * and the pull walk; peer_push.c: the push half; peer_sync.c: rounds, link state, backoff and the
 * background threads).  Only peer*.c include this file.
 */
#ifndef ACCORD_PEER_INT_H
#define ACCORD_PEER_INT_H

#include "peer.h"

#include <curl/curl.h>

struct sqlite3_stmt;

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
/* The title and description of a TAXII error resource in h->f, as ": title: description". */
void peer_http_error_text(const peer_http *h, char *out, size_t cap);
/* curl_easy_escape into out. */
void peer_url_escape(peer_http *h, const char *in, char *out, size_t cap);

/*
 * Records that (id, modified) came from peer (in the open transaction).  *st caches the statement
 * across calls (NULL at first; the caller finalizes it).  0 or a store error.
 */
int peer_origin_add(accord_store *s, struct sqlite3_stmt **st, const char *peer, const char *id,
                    const char *modified, accord_error *err);

#endif
