/*
 * auth.h - the contract of the authentication subsystem inside libaccord.
 *
 * Two files implement it: auth.c (credentials: Argon2id, tokens, the verified-login cache, the
 * failed-login limiter, the header parsers; the only file besides sign.c that includes sodium.h)
 * and store_account.c (the accounts, tokens and rights tables; part of the store subsystem, so it
 * alone of the two includes sqlite3.h).  auth.c calls store_account_*; the store side calls back
 * only the pure auth_name_ok, and receives hashes, never passwords or token secrets.
 *
 * The public API is include/accord_account.h.  What is here is for the server (the parsers) and for
 * tests (the limits setter, the fast-hash switch, the counters).
 */
#ifndef ACCORD_AUTH_H
#define ACCORD_AUTH_H

#include "accord.h"

#include <stddef.h>
#include <stdint.h>

/* The token text format; the table is in auth.c. */
#define AUTH_TOKEN_PREFIX "acc_"
#define AUTH_TOKEN_PREFIX_LEN 4
#define AUTH_ID_BYTES 8
#define AUTH_ID_HEX 16 /* the public id: AUTH_ID_BYTES as lowercase hex */
#define AUTH_SECRET_BYTES 32
#define AUTH_SECRET_B64 43 /* base64url without padding of AUTH_SECRET_BYTES */
#define AUTH_TOKEN_LEN (AUTH_TOKEN_PREFIX_LEN + AUTH_ID_HEX + 1 + AUTH_SECRET_B64)
#define AUTH_HASH_BYTES 32 /* BLAKE2b-256 of the secret, as the tokens table stores it */

/* The longest Basic credentials accepted: the base64 text, and "user:password" decoded. */
#define AUTH_BASIC_B64_MAX 1500
#define AUTH_BASIC_MAX (ACCORD_ACCOUNT_NAME_MAX + 1 + ACCORD_PASSWORD_MAX)

/* 1 when name is a valid account name: 1-64 of [A-Za-z0-9._@-]. */
int auth_name_ok(const char *name, size_t len);

/*
 * Parses the text of a token (len bytes, need not be NUL-terminated).  On success writes its public
 * id (AUTH_ID_HEX + 1 bytes, NUL-terminated) and its secret (AUTH_SECRET_BYTES) and returns 0;
 * ACCORD_EINVAL when the text is not a token.  Pure: no store, no state.
 */
int auth_parse_token(const char *text, size_t len, char *id_out, unsigned char *secret_out);

/*
 * Splits an Authorization header value into its scheme and its parameter (leading and trailing
 * blanks dropped).  Returns 1 for "Basic", 2 for "Bearer" (any case), ACCORD_EINVAL otherwise.
 */
enum { AUTH_SCHEME_BASIC = 1, AUTH_SCHEME_BEARER = 2 };
int auth_parse_scheme(const char *value, size_t len, const char **param, size_t *param_len);

/*
 * Parses an Authorization header value "Basic <base64(user:password)>".  Decodes into buf (cap
 * bytes; AUTH_BASIC_MAX + 1 is always enough; the caller owns it and should wipe it, since it
 * receives the password) and points *user and *pass into it, both NUL-terminated.  ACCORD_EINVAL
 * when the value is not Basic credentials, the base64 is invalid, there is no ':', the user is not
 * a valid account name or the password is empty or too long.  Pure.
 */
int auth_parse_basic(const char *value, size_t len, char *buf, size_t cap, const char **user,
                     const char **pass);

/* ------------------------------------------------------------------------------------------ */
/* Tunables and counters, for tests                                                             */

typedef struct auth_limits {
    int64_t window_us;    /* failures older than this are forgotten */
    uint32_t account_max; /* failures per account within the window before a lockout */
    uint32_t address_max; /* failures per client address within the window */
    int64_t lock_us;      /* the first lockout; each further one doubles it */
    int64_t lock_max_us;  /* the longest lockout */
    int64_t cache_ttl_us; /* how long a verified login is remembered */
} auth_limits;

/* Sets the limits (NULL = the defaults) and forgets every failure, lockout and cached login. */
void auth_limits_set(const auth_limits *limits);

/* 1: hash new passwords with the Argon2id MIN limits instead of INTERACTIVE (tests only). */
void auth_test_fast_hash(int on);

typedef struct auth_counters {
    uint64_t pwhash_verifies; /* Argon2id verifications run (real or dummy) */
    uint64_t ct_compares;     /* constant-time token hash comparisons */
    uint64_t cache_hits, cache_misses;
    uint64_t limited; /* attempts refused by the limiter */
} auth_counters;

void auth_counters_get(auth_counters *out);

/* ------------------------------------------------------------------------------------------ */
/* The store side (store_account.c)                                                             */

/* An account row; pwhash is "" for a token-only account. */
typedef struct store_account_row {
    char name[ACCORD_ACCOUNT_NAME_MAX + 1];
    char pwhash[160];
    int is_admin, disabled;
} store_account_row;

/* A token row joined with its account. */
typedef struct store_token_row {
    char account[ACCORD_ACCOUNT_NAME_MAX + 1];
    unsigned char hash[AUTH_HASH_BYTES];
    int64_t expires_us, revoked_us; /* 0 = never / not revoked */
    int is_admin, disabled;
} store_token_row;

/*
 * What a cached login depends on: the store's identity (its default collection's UUID, random per
 * store) and the account generation (meta key "account_generation"), which every committed change
 * to accounts, tokens or rights increments.
 */
typedef struct store_account_state {
    char ident[40];
    int64_t generation;
} store_account_state;

int store_account_state_get(accord_store *s, store_account_state *out, accord_error *err);
/* The account `name`; ACCORD_ENOTFOUND when there is none. */
int store_account_get(accord_store *s, const char *name, store_account_row *out, accord_error *err);
/* The token with public id `id`; ACCORD_ENOTFOUND when there is none. */
int store_account_token_get(accord_store *s, const char *id, store_token_row *out,
                            accord_error *err);

/*
 * Configuration transactions: begin, any of the writes below, then end, which (when rc is 0)
 * bumps the account generation, appends the audit record (action, ref, detail: never a secret)
 * and commits, or else rolls back.  end returns rc or the first error of its own.
 */
int store_account_begin(accord_store *s, accord_error *err);
int store_account_end(accord_store *s, int rc, const char *action, const char *ref,
                      const char *detail, accord_error *err);
/* Ends a transaction that wrote nothing, without an audit record. */
void store_account_abort(accord_store *s);
/* Accounts in the store (inside a transaction for bootstrap's check-then-create). */
int store_account_count(accord_store *s, int64_t *n, accord_error *err);
/* Inserts an account (pwhash NULL = token-only).  ACCORD_EINVAL when it exists. */
int store_account_insert(accord_store *s, const char *name, const char *pwhash, int is_admin,
                         accord_error *err);
/* Replaces the password hash (NULL = token-only).  ACCORD_ENOTFOUND. */
int store_account_set_pwhash(accord_store *s, const char *name, const char *pwhash,
                             accord_error *err);
/* Inserts a token.  ACCORD_ENOTFOUND when the account does not exist. */
int store_account_token_insert(accord_store *s, const char *id, const char *account,
                               const unsigned char *hash, int64_t expires_us, accord_error *err);

#endif
