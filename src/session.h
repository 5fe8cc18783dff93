/*
 * session.h - browser sessions of the web console: a server-side table of logged-in sessions,
 * each with a CSRF token, and the pure parsers of the request headers they depend on.
 *
 * A login (ui.c, POST /api/session) creates a session and hands the browser its id in a
 * `__Host-` cookie (Secure, HttpOnly, SameSite=Strict) and its CSRF token in the JSON body.  The
 * CSRF token is derived from the id (a keyed BLAKE2b of it), so whoever holds the id can
 * compute it and nobody else can.  The table keeps a hash of each id, never the id itself, and
 * compares tokens in constant time.
 *
 * This table is the server's cache of sessions; ui.c also writes each session (its id's hash,
 * account, login and last-use times) to the store, so that sessions survive a restart: a
 * session the table does not hold is looked up there and brought back with session_restore.
 * Nothing that would let a session be replayed is ever written to disk.
 *
 * Bearer tokens and Basic credentials (auth.c) are untouched by all this: they stay the way
 * TAXII clients and scripts authenticate, and requests carrying them need no CSRF token (a
 * browser never adds an Authorization header on its own).
 */
#ifndef ACCORD_SESSION_H
#define ACCORD_SESSION_H

#include "accord.h"

#include <stddef.h>
#include <stdint.h>

#define SESSION_COOKIE "__Host-accord"
#define SESSION_CSRF_HEADER "X-CSRF-Token"
#define SESSION_TOKEN_LEN 43                   /* base64url without padding of 32 random bytes */
#define SESSION_IDLE_US (30LL * 60 * 1000000)  /* unused this long: expired */
#define SESSION_MAX_US (12LL * 3600 * 1000000) /* at most this long after the login */
#define SESSION_MAX 4096                       /* sessions at once; the oldest goes first */
#define SESSION_PERSIST_US (60LL * 1000000)    /* last use written to the store this often */
#define SESSION_HASH_LEN 32                    /* BLAKE2b-256 of the id */

typedef struct session_table session_table;

/* What a valid session says. */
typedef struct session_info {
    char account[ACCORD_ACCOUNT_NAME_MAX + 1];
    char csrf[SESSION_TOKEN_LEN + 1];
    int64_t expires_us; /* when it expires unless used again (idle limit), capped by the max */
    int64_t created_us, used_us; /* the login; this use */
    int persist_due;             /* 1 once per SESSION_PERSIST_US: write used_us to the store */
} session_info;

/* A new, empty table; NULL when out of memory. */
session_table *session_table_new(void);
void session_table_free(session_table *t);

/*
 * Creates a session for account at time now_us: writes its id and CSRF token (each
 * SESSION_TOKEN_LEN characters and a NUL).  When the table is full, the session used least
 * recently is dropped.  0, or ACCORD_EINVAL for an invalid account name.
 */
int session_create(session_table *t, const char *account, int64_t now_us,
                   char id_out[SESSION_TOKEN_LEN + 1], char csrf_out[SESSION_TOKEN_LEN + 1]);

/*
 * Looks up the session whose id is the len bytes at id (not NUL-terminated): 0 with *out filled
 * and its idle timer restarted, ACCORD_ENOTFOUND when there is none or it expired (it is then
 * dropped).
 */
int session_lookup(session_table *t, const char *id, size_t len, int64_t now_us,
                   session_info *out);

/*
 * Puts back a session read from the store (the id's text, its account and times): 0, or
 * ACCORD_ENOTFOUND when it has expired at now_us, ACCORD_EINVAL for a bad account name or id.
 * A session the table already holds is left as it is.
 */
int session_restore(session_table *t, const char *id, size_t len, const char *account,
                    int64_t created_us, int64_t used_us, int64_t now_us);

/* 1 when a session with these times has expired at now_us: idle too long, logged in too long
 * ago, or with a login later than its use or than now. */
int session_expired(int64_t created_us, int64_t used_us, int64_t now_us);

/* The hash under which the id (len bytes) is kept, here and in the store. */
void session_id_hash(const char *id, size_t len, unsigned char out[SESSION_HASH_LEN]);

/* Drops the session with that id (logout); 0, or ACCORD_ENOTFOUND. */
int session_destroy(session_table *t, const char *id, size_t len);

/* Sessions in the table (expired ones not yet dropped included). */
size_t session_count(session_table *t);

/* ------------------------------------------------------------------------------------------ */
/* Pure parsers of request headers                                                              */

/*
 * Finds the value of the cookie named `name` in a Cookie header value (len bytes): "a=1; b=2".
 * 1 with *val and *vlen pointing into header (quotes around the value removed), 0 when absent.  The
 * first of several cookies with the name wins.
 */
int session_cookie_find(const char *header, size_t len, const char *name, const char **val,
                        size_t *vlen);

/* 1 when the session id text has the shape of one (SESSION_TOKEN_LEN base64url characters). */
int session_token_shape(const char *text, size_t len);

/* 1 when the method changes state (anything but GET, HEAD and OPTIONS). */
int session_method_unsafe(const char *method);

/*
 * 1 when an Origin header value names this server: "SCHEME://HOST" equal (host case-insensitive)
 * to scheme ("https" or "http") and the request's Host header, or equal to public_url (may be
 * NULL; a trailing '/' ignored).  NULL or "null" origin: 0.
 */
int session_origin_ok(const char *origin, const char *scheme, const char *host,
                      const char *public_url);

/* 1 when header (may be NULL) equals the session's CSRF token; constant time in its length. */
int session_csrf_ok(const session_info *s, const char *header);

#endif
