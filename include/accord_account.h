/*
 * accord_account.h - accounts, API tokens and collection rights (part of the public API;
 * included by accord.h).
 *
 * An account is a name (1-64 of [A-Za-z0-9._@-]) with an optional password (stored as an Argon2id
 * hash; an account without one is token-only), an admin flag, and per-collection rights.  API
 * tokens belong to an account; the text of a token is shown once, when it is created, and only a
 * hash of its secret is stored.  Admins may read and write every collection.  Every change is one
 * transaction with its audit record; no secret or hash ever reaches the audit log.
 *
 * Authentication results, for the server (accord_auth_*):
 *   0               authenticated; *out names the account
 *   ACCORD_EINVAL   unauthenticated: no such account, wrong password, token unknown, malformed,
 *                   expired or revoked, account disabled (deliberately one code: the caller must
 * not tell a client which of these it was) ACCORD_EBUSY    rate-limited: too many failed attempts
 * for this account or from this address; refused without checking the credentials;
 * out->retry_after_s says when to retry other           the store failed (ACCORD_ESTORE,
 * ACCORD_ENOMEM, ...): answer 500, not 401
 */
#ifndef ACCORD_ACCOUNT_H
#define ACCORD_ACCOUNT_H

#include "accord.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ACCORD_ACCOUNT_NAME_MAX 64 /* bytes of an account name, without the NUL */
#define ACCORD_PASSWORD_MAX 1024   /* bytes of a password */
#define ACCORD_TOKEN_BUFLEN 65     /* a buffer for the text of a token, with its NUL */
#define ACCORD_TOKEN_ID_BUFLEN 17  /* a buffer for a token's public id, with its NUL */

/* Who a request is from, as accord_auth_* found it. */
typedef struct accord_principal {
    char name[ACCORD_ACCOUNT_NAME_MAX + 1]; /* the account */
    int is_admin;
    int64_t retry_after_s; /* on ACCORD_EBUSY: seconds until the limit lifts (at least 1) */
} accord_principal;

/* One account, as accord_account_list reports it. */
typedef struct accord_account {
    const char *name;
    int is_admin;
    int has_password; /* 0: token-only */
    int disabled;
    int64_t created_us;
    int64_t live_tokens; /* tokens neither revoked nor expired */
    const char *org;     /* its organisation's STIX identity id, or NULL */
    int community;       /* a community account (cleared for TLP:GREEN) */
} accord_account;

/* One API token, as accord_token_list reports it (never its secret). */
typedef struct accord_token_info {
    const char *id; /* public id: 16 lowercase hex digits */
    const char *account;
    int64_t created_us;
    int64_t expires_us; /* 0 = never */
    int64_t revoked_us; /* 0 = not revoked */
} accord_token_info;

/* One grant of rights, as accord_rights_list reports it. */
typedef struct accord_right {
    const char *account;
    const char *collection; /* the collection's id (UUID) */
    const char *alias;      /* its alias, or NULL */
    int can_read, can_write;
} accord_right;

typedef int (*accord_account_cb)(void *ud, const accord_account *a);
typedef int (*accord_token_cb)(void *ud, const accord_token_info *t);
typedef int (*accord_right_cb)(void *ud, const accord_right *r);

/*
 * Adds account `name`.  password is a NUL-terminated string of 1 to ACCORD_PASSWORD_MAX bytes, or
 * NULL for a token-only account; it is hashed with Argon2id (interactive limits: ~0.1-0.5 s, 64
 * MiB) before the store is locked.  Errors: ACCORD_EINVAL (bad name or password, or the account
 * exists), store errors.  Audited as "account-add".
 */
ACCORD_API int accord_account_add(accord_store *store, const char *name, const char *password,
                                  int is_admin, accord_error *err);
/*
 * Removes an account with its tokens and rights.  ACCORD_ENOTFOUND when there is none.  Cached
 * logins of the account end at once, in this process and in others.  Audited "account-remove".
 */
ACCORD_API int accord_account_remove(accord_store *store, const char *name, accord_error *err);
/* Calls cb for every account, by name. */
ACCORD_API int accord_account_list(accord_store *store, accord_account_cb cb, void *ud,
                                   accord_error *err);
/*
 * Sets (or with NULL, removes: the account becomes token-only) the password of an account.
 * Cached logins end at once.  ACCORD_ENOTFOUND, ACCORD_EINVAL.  Audited "account-password".
 */
ACCORD_API int accord_account_set_password(accord_store *store, const char *name,
                                           const char *password, accord_error *err);

/*
 * Creates an API token for `account`, valid until expires_us (microseconds since the epoch; 0 =
 * no expiry).  Writes its text (64 characters; see auth.c for the format) into token_out (len >=
 * ACCORD_TOKEN_BUFLEN) and its public id into id_out (ACCORD_TOKEN_ID_BUFLEN bytes; may be NULL).
 * The text is the only copy of the secret: show it once and wipe the buffer.  ACCORD_ENOTFOUND (no
 * such account), ACCORD_EINVAL (expiry in the past), ACCORD_ELIMIT (len too small).  Audited
 * "token-create" with the id, never the secret.
 */
ACCORD_API int accord_token_create(accord_store *store, const char *account, int64_t expires_us,
                                   char *token_out, size_t len, char *id_out, accord_error *err);
/*
 * Revokes a token by its public id (or by its whole text).  Takes effect for the next request.
 * ACCORD_ENOTFOUND; revoking a revoked token is ACCORD_EINVAL.  Audited "token-revoke".
 */
ACCORD_API int accord_token_revoke(accord_store *store, const char *token_id, accord_error *err);
/* Calls cb for the tokens of `account` (NULL = of every account), newest first. */
ACCORD_API int accord_token_list(accord_store *store, const char *account, accord_token_cb cb,
                                 void *ud, accord_error *err);

/*
 * Sets the rights of `account` on a collection (id or alias, see accord_collection_list);
 * 0/0 removes the grant.  ACCORD_ENOTFOUND for an unknown account or collection.  Audited
 * "rights-set".
 */
ACCORD_API int accord_rights_set(accord_store *store, const char *account,
                                 const char *collection_ref, int can_read, int can_write,
                                 accord_error *err);
/*
 * The rights of `account` on a collection (id or alias): 1/1 for admins, 0/0 without a grant.
 * ACCORD_ENOTFOUND for an unknown account or collection (both outputs are 0 then).
 */
ACCORD_API int accord_rights_get(accord_store *store, const char *account,
                                 const char *collection_ref, int *can_read, int *can_write,
                                 accord_error *err);
/* Calls cb for every grant of `account` (NULL = of every account). */
ACCORD_API int accord_rights_list(accord_store *store, const char *account, accord_right_cb cb,
                                  void *ud, accord_error *err);

/*
 * For the first start of a server: when the store has no account at all, creates account "admin"
 * (admin, token-only) and a token for it in one transaction, writes the token's text to token_out
 * (len >= ACCORD_TOKEN_BUFLEN) and sets *created = 1; otherwise does nothing and sets *created = 0.
 */
ACCORD_API int accord_account_bootstrap(accord_store *store, char *token_out, size_t len,
                                        int *created, accord_error *err);

/*
 * Checks HTTP Basic credentials (the decoded user and password).  client_addr names the peer for
 * rate limiting (may be NULL: then only the per-account limit applies).  Returns 0, ACCORD_EINVAL
 * or ACCORD_EBUSY as described at the top of this file.  A successful check is remembered for a few
 * minutes (a keyed hash of the credentials, never the password), so that later requests need no
 * Argon2id; the memory ends when any account, token or right changes.
 */
ACCORD_API int accord_auth_basic(accord_store *store, const char *user, const char *password,
                                 const char *client_addr, accord_principal *out, accord_error *err);
/* Checks an API token's text (the part after "Bearer ").  Same results as accord_auth_basic. */
ACCORD_API int accord_auth_bearer(accord_store *store, const char *token, const char *client_addr,
                                  accord_principal *out, accord_error *err);
/*
 * Checks the value of an HTTP Authorization header: "Basic <base64 of user:password>" or "Bearer
 * <token>" (scheme names in any case).  NULL or another scheme is ACCORD_EINVAL.  Same results as
 * accord_auth_basic.
 */
ACCORD_API int accord_auth_header(accord_store *store, const char *header_value,
                                  const char *client_addr, accord_principal *out,
                                  accord_error *err);

/* ------------------------------------------------------------------------------------------ */
/* TLP 2.0 clearance                                                                            */
/*
 * Each object version reads at its most restrictive TLP marking (object-level or granular; TLP
 * 1.0 WHITE = CLEAR); an unmarked one at the store's default (AMBER unless set).  An account
 * reads:
 *   CLEAR          always
 *   GREEN          when it is a community account, or its organisation is on the current
 *                  roster (every organisation while no roster is kept), or it reads it as AMBER
 *   AMBER          when its organisation produced it (created_by_ref) or is named in the
 *                  object's "x_accord_recipients" (an array of identity ids)
 *   AMBER+STRICT   when its organisation produced it
 *   RED            when it is on the RED list of the collection the version is read from (for
 *                  reads across the store: of a collection holding it)
 * Admin accounts read everything; so does the local operator (a NULL viewer).  A sighting reads
 * only when the objects it names (sighting_of_ref, observed_data_refs) held here read too.
 */
#define ACCORD_TLP_UNMARKED (-1)

/*
 * Loads the clearance of `account` (its organisation, flags, RED lists and the store's default).
 * ACCORD_ENOTFOUND for an unknown account.  A disabled account's viewer reads TLP:CLEAR only.
 */
ACCORD_API int accord_viewer_open(accord_store *store, const char *account, accord_viewer **out,
                                  accord_error *err);
/* Frees a viewer; accepts NULL. */
ACCORD_API void accord_viewer_free(accord_viewer *viewer);
/*
 * Sets the organisation of an account: a STIX identity id ("identity--<uuid>"), or NULL for none.
 * ACCORD_EINVAL (not an identity id), ACCORD_ENOTFOUND.  Audited "account-org".
 */
ACCORD_API int accord_account_set_org(accord_store *store, const char *name, const char *org,
                                      accord_error *err);
/* Marks an account as a community account (cleared for GREEN) or not.  Audited
 * "account-community". */
ACCORD_API int accord_account_set_community(accord_store *store, const char *name, int on,
                                            accord_error *err);

/*
 * Adds (on = 1) or removes an account on the RED list of a collection (id or alias).
 * ACCORD_ENOTFOUND for an unknown account or collection.  Audited "red-add" / "red-remove".
 */
ACCORD_API int accord_red_set(accord_store *store, const char *collection_ref, const char *account,
                              int on, accord_error *err);
/* Calls cb(ud, collection_id, account) for the RED lists of one collection (NULL = of all). */
ACCORD_API int accord_red_list(accord_store *store, const char *collection_ref,
                               int (*cb)(void *ud, const char *collection, const char *account),
                               void *ud, accord_error *err);

/* The level unmarked objects read as (ACCORD_TLP_*; AMBER until set). */
ACCORD_API int accord_tlp_default_get(accord_store *store, int *level, accord_error *err);
/* Sets it (CLEAR..RED).  Audited "tlp-default". */
ACCORD_API int accord_tlp_default_set(accord_store *store, int level, accord_error *err);

#ifdef __cplusplus
}
#endif

#endif
