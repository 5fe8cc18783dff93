/*
 * taxii.h - the TAXII 2.1 protocol over the store, independent of any HTTP library.
 *
 * The server (server.c) turns each HTTP request into a taxii_request, calls taxii_handle, and
 * sends the taxii_response.  Keeping the protocol here, as plain functions over plain structs,
 * lets the routing and query parsing be fuzzed and unit-tested without sockets.
 */
#ifndef ACCORD_TAXII_H
#define ACCORD_TAXII_H

#include "accord.h"
#include "util/buf.h"

#include <pthread.h>

#define TAXII_MEDIA "application/taxii+json;version=2.1"
#define STIX_MEDIA "application/stix+json;version=2.1"
#define TAXII_DEFAULT_LIMIT 1000
#define TAXII_MAX_LIMIT 10000

typedef struct taxii_param {
    const char *key, *value;
} taxii_param;

typedef struct taxii_request {
    const char *method;        /* "GET", "POST", "DELETE", ... */
    const char *path;          /* the URL path, percent-decoded */
    const taxii_param *query;  /* query parameters, percent-decoded, in order */
    size_t nquery;
    const char *host;          /* Host header or NULL */
    const char *accept;        /* Accept header or NULL */
    const char *accept_encoding; /* Accept-Encoding header or NULL (the console's files) */
    const char *content_type;  /* Content-Type header or NULL */
    const char *authorization; /* Authorization header or NULL */
    const char *if_none_match; /* If-None-Match header or NULL */
    const char *client_addr;   /* the peer's address, for rate limits and logs */
    const char *body;          /* request body (POST) */
    size_t body_len;
    int body_too_large;        /* the body passed the API root's max_content_length */
    const char *cookie;        /* Cookie header or NULL (console sessions, ui.c) */
    const char *origin;        /* Origin header or NULL */
    const char *csrf_token;    /* X-CSRF-Token header or NULL */
    int tls;                   /* 1 when the request came over HTTPS */
} taxii_request;

typedef struct taxii_response {
    int status;
    const char *content_type; /* static string; NULL = no body */
    buf body;
    char date_first[40], date_last[40]; /* X-TAXII-Date-Added-First/Last, "" = none */
    int www_authenticate;     /* send WWW-Authenticate (401) */
    int64_t retry_after_s;    /* send Retry-After (429), 0 = none */
    char allow[32];           /* send Allow (405), "" = none */
    char etag[80];            /* send ETag (quoted entity tag), "" = none */
    const char *endpoint;     /* route name, for metrics and logs */
    char set_cookie[192];     /* send Set-Cookie, "" = none */
    const char *cache_control; /* static string; NULL = "no-store" */
    const char *content_encoding; /* "gzip" or "identity": the body's encoding, chosen by the
                                     request's Accept-Encoding (sends Vary); NULL: not chosen */
} taxii_response;

/* Who is asking, once authenticated. */
typedef struct taxii_principal {
    char account[72];
    int is_admin;
    int64_t retry_after_s; /* when rate-limited */
} taxii_principal;

/* What the protocol needs from the server around it. */
typedef struct taxii_ctx {
    const char *title, *description, *contact;
    const char *public_url;    /* "https://host:port" as clients reach it; NULL = from Host */
    /* Authenticates the request: 0 with *out set, ACCORD_EINVAL for missing or bad
     * credentials, ACCORD_EBUSY when rate-limited (out->retry_after_s set), another code when
     * the store failed. */
    int (*authenticate)(void *ud, accord_store *s, const taxii_request *rq, taxii_principal *out);
    /* Rights of p on collection id. */
    int (*rights)(void *ud, accord_store *s, const taxii_principal *p, const char *collection_id,
                  int *can_read, int *can_write);
    /* Told how many objects a POST stored (may be NULL). */
    void (*on_ingest)(void *ud, uint64_t objects);
    void *ud;
    /* The one writer: POST and DELETE run on this handle, one at a time. */
    accord_store *writer;
    pthread_mutex_t *writer_lock;
    /* The data directory, for the signing key of collections that sign POSTs (NULL: none
     * signs; a POST into one is refused). */
    const char *data_dir;
} taxii_ctx;

void taxii_response_init(taxii_response *rs);
void taxii_response_free(taxii_response *rs);

/*
 * Handles one request: reads go to `reader` (the calling thread's own store handle), writes to
 * ctx->writer.  Always fills rs with a complete response (errors as TAXII error resources).
 */
void taxii_handle(const taxii_ctx *ctx, accord_store *reader, const taxii_request *rq,
                  taxii_response *rs);

/* 1 when an Accept header value admits TAXII 2.1 JSON (absent, any, or the media type). */
int taxii_accepts(const char *accept);
/* 1 when a Content-Type value is TAXII 2.1 JSON (with or without the version parameter). */
int taxii_is_taxii_json(const char *content_type);

/*
 * What POSTs of objects cost in this process so far, for benchmarks: POSTs and objects stored;
 * the thread CPU time of the work done before the writer's lock (preparation: parse, validation,
 * canonical forms, signature checks), which runs on as many cores as there are POSTs; and the
 * wall and thread CPU time the lock was held (storing and commit), which no second core can
 * share (held_sys_ns of it in the kernel).  On idle cores a server ingests at most objects / held_cpu_ns per nanosecond.
 */
typedef struct taxii_post_stats {
    uint64_t posts, objects;
    uint64_t prep_cpu_ns, held_ns, held_cpu_ns, held_sys_ns; /* held_sys_ns: of held_cpu_ns */
} taxii_post_stats;

void taxii_post_stats_get(taxii_post_stats *out);

#endif
