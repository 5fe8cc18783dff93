/*
 * store_account.c - the store side of accounts, API tokens and collection rights.
 *
 * Three tables of the schema (store.c) hold them:
 *
 *   accounts(name PK, pwhash, is_admin, created, disabled, org, community)
 *       pwhash is the Argon2id string crypto_pwhash_str wrote ("$argon2id$v=19$m=...,t=...,p=1$
 *       salt$hash"), NULL for a token-only account.  org is the STIX identity id of the
 *       account's organisation (NULL = none) and community marks a community account: the two
 *       facts TLP clearance (tlp.h) reads besides is_admin and the RED lists.
 *   tokens(id PK, account, hash UNIQUE, created, expires, revoked)
 *       id is the token's public id (16 lowercase hex digits); hash is the 32-byte BLAKE2b-256 of
 *       its secret; expires and revoked are microseconds since the epoch, NULL = never / live.
 *   rights(account, coll PK, can_read, can_write)
 *       coll is collections.cid; no row means no rights.  Admins need no rows.
 *
 * and one key of the meta table:
 *
 *   account_generation   incremented by every committed change to the three tables.  auth.c
 *                        remembers verified logins together with the generation they were
 *                        verified at, and trusts them only while it is unchanged, so a password
 *                        change, a removal or a revocation ends cached logins at once, also in a
 *                        server process other than the one (the CLI) that made the change.
 *
 * Every change is one transaction (store_account_begin ... store_account_end) with its audit
 * record.  This file never sees a password or a token secret: auth.c hands it hashes, and audit
 * records name accounts, token ids and collections only.
 *
 * Viewers (accord_viewer_open) are an account's TLP clearance read in one go: its organisation,
 * flags, the collections whose RED list names it, and the store's default level for unmarked
 * objects (meta key "tlp_default").
 *
 * It does not: hash or compare credentials (auth.c), cache anything, or decide who may do what
 * beyond reporting the stored rights and clearances (the server maps rights to its endpoints,
 * tlp.c decides what a clearance reads).  The only call it makes into auth.c is the pure
 * auth_name_ok.
 */
#include "auth.h"
#include "roster.h"
#include "store_int.h"
#include "tlp.h"
#include "util/timestamp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* Helpers                                                                                      */

static int prep(accord_store *s, const char *sql, sqlite3_stmt **st, accord_error *err)
{
    if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK) {
        *st = NULL;
        return store_db_fail(s, err, "preparing an account statement");
    }
    return 0;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

/* Steps a statement without results and finalizes it. */
static int step_done(accord_store *s, sqlite3_stmt *st, const char *what, accord_error *err)
{
    int step = sqlite3_step(st);
    int rc = step == SQLITE_DONE || step == SQLITE_ROW ? 0 : store_db_fail(s, err, what);
    sqlite3_finalize(st);
    return rc;
}

/* Copies a text column into a fixed buffer; "" for NULL.  -1 when it does not fit. */
static int column_copy(sqlite3_stmt *st, int col, char *out, size_t cap)
{
    const unsigned char *v = sqlite3_column_text(st, col);
    size_t n = v ? (size_t)sqlite3_column_bytes(st, col) : 0;
    if (n >= cap)
        return -1;
    if (n)
        memcpy(out, v, n);
    out[n] = '\0';
    return 0;
}

static int bad_name(const char *name, accord_error *err)
{
    return accord_err_set(err, ACCORD_EINVAL,
                          "account name \"%.80s\": use 1 to 64 of A-Z, a-z, 0-9, '.', '_', '@' "
                          "and '-'",
                          name ? name : "");
}

static int name_checked(const char *name, accord_error *err)
{
    return name && auth_name_ok(name, strlen(name)) ? 0 : bad_name(name, err);
}

/* ------------------------------------------------------------------------------------------ */
/* Transactions                                                                                 */

int store_account_begin(accord_store *s, accord_error *err)
{
    if (s->readonly)
        return accord_err_set(err, ACCORD_EINVAL, "store: opened read-only");
    if (s->in_txn)
        return accord_err_set(err, ACCORD_EINVAL, "store: a transaction is already open");
    return store_exec(s, "BEGIN IMMEDIATE", err);
}

int store_account_end(accord_store *s, int rc, const char *action, const char *ref,
                      const char *detail, accord_error *err)
{
    if (!rc)
        rc = store_exec(s,
                        "INSERT INTO meta(key, value) VALUES('account_generation', 1)"
                        " ON CONFLICT(key) DO UPDATE SET value = value + 1",
                        err);
    if (!rc)
        rc = store_audit(s, action, 0, ref, detail, err);
    if (!rc)
        rc = store_exec(s, "COMMIT", err);
    if (rc)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

void store_account_abort(accord_store *s)
{
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/* ------------------------------------------------------------------------------------------ */
/* Reads for auth.c                                                                             */

int store_account_state_get(accord_store *s, store_account_state *out, accord_error *err)
{
    sqlite3_stmt *st;
    int rc = prep(s,
                  "SELECT (SELECT value FROM meta WHERE key = 'default_collection'),"
                  " coalesce((SELECT value FROM meta WHERE key = 'account_generation'), 0)",
                  &st, err);
    if (rc)
        return rc;
    memset(out, 0, sizeof(*out));
    if (sqlite3_step(st) != SQLITE_ROW)
        rc = store_db_fail(s, err, "reading the account generation");
    else if (column_copy(st, 0, out->ident, sizeof(out->ident)))
        rc = accord_err_set(err, ACCORD_ECORRUPT, "store: meta default_collection is too long");
    else
        out->generation = sqlite3_column_int64(st, 1);
    sqlite3_finalize(st);
    return rc;
}

int store_account_get(accord_store *s, const char *name, store_account_row *out, accord_error *err)
{
    sqlite3_stmt *st;
    int rc =
        prep(s, "SELECT name, pwhash, is_admin, disabled FROM accounts WHERE name = ?1", &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    memset(out, 0, sizeof(*out));
    int step = sqlite3_step(st);
    if (step == SQLITE_DONE)
        rc = accord_err_set(err, ACCORD_ENOTFOUND, "account %.80s: no such account", name);
    else if (step != SQLITE_ROW)
        rc = store_db_fail(s, err, "reading an account");
    else if (column_copy(st, 0, out->name, sizeof(out->name)) ||
             column_copy(st, 1, out->pwhash, sizeof(out->pwhash)))
        rc = accord_err_set(err, ACCORD_ECORRUPT, "store: account %.80s: oversized row", name);
    if (step == SQLITE_ROW) {
        out->is_admin = sqlite3_column_int(st, 2) != 0;
        out->disabled = sqlite3_column_int(st, 3) != 0;
    }
    sqlite3_finalize(st);
    return rc;
}

int store_account_token_get(accord_store *s, const char *id, store_token_row *out,
                            accord_error *err)
{
    sqlite3_stmt *st;
    int rc = prep(s,
                  "SELECT t.account, t.hash, coalesce(t.expires, 0), coalesce(t.revoked, 0),"
                  " a.is_admin, a.disabled FROM tokens t JOIN accounts a ON a.name = t.account"
                  " WHERE t.id = ?1",
                  &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    memset(out, 0, sizeof(*out));
    int step = sqlite3_step(st);
    if (step == SQLITE_DONE)
        rc = accord_err_set(err, ACCORD_ENOTFOUND, "token %.40s: no such token", id);
    else if (step != SQLITE_ROW)
        rc = store_db_fail(s, err, "reading a token");
    else if (column_copy(st, 0, out->account, sizeof(out->account)) ||
             sqlite3_column_bytes(st, 1) != AUTH_HASH_BYTES)
        rc = accord_err_set(err, ACCORD_ECORRUPT, "store: token %.40s: malformed row", id);
    if (step == SQLITE_ROW && !rc) {
        memcpy(out->hash, sqlite3_column_blob(st, 1), AUTH_HASH_BYTES);
        out->expires_us = sqlite3_column_int64(st, 2);
        out->revoked_us = sqlite3_column_int64(st, 3);
        out->is_admin = sqlite3_column_int(st, 4) != 0;
        out->disabled = sqlite3_column_int(st, 5) != 0;
    }
    sqlite3_finalize(st);
    return rc;
}

int store_account_count(accord_store *s, int64_t *n, accord_error *err)
{
    sqlite3_stmt *st;
    int rc = prep(s, "SELECT count(*) FROM accounts", &st, err);
    if (rc)
        return rc;
    if (sqlite3_step(st) == SQLITE_ROW)
        *n = sqlite3_column_int64(st, 0);
    else
        rc = store_db_fail(s, err, "counting accounts");
    sqlite3_finalize(st);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Writes for auth.c (inside store_account_begin/end)                                           */

int store_account_insert(accord_store *s, const char *name, const char *pwhash, int is_admin,
                         accord_error *err)
{
    store_account_row row;
    int rc = store_account_get(s, name, &row, NULL);
    if (rc == 0)
        return accord_err_set(err, ACCORD_EINVAL, "account %s already exists", name);
    if (rc != ACCORD_ENOTFOUND)
        return store_account_get(s, name, &row, err);
    sqlite3_stmt *st;
    if ((rc = prep(s,
                   "INSERT INTO accounts(name, pwhash, is_admin, created, disabled)"
                   " VALUES(?1, ?2, ?3, ?4, 0)",
                   &st, err)))
        return rc;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    bind_text_or_null(st, 2, pwhash);
    sqlite3_bind_int(st, 3, is_admin ? 1 : 0);
    sqlite3_bind_int64(st, 4, ts_now_us());
    return step_done(s, st, "adding an account", err);
}

int store_account_set_pwhash(accord_store *s, const char *name, const char *pwhash,
                             accord_error *err)
{
    sqlite3_stmt *st;
    int rc = prep(s, "UPDATE accounts SET pwhash = ?2 WHERE name = ?1", &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    bind_text_or_null(st, 2, pwhash);
    if ((rc = step_done(s, st, "setting a password", err)))
        return rc;
    if (sqlite3_changes(s->db) == 0)
        return accord_err_set(err, ACCORD_ENOTFOUND, "account %.80s: no such account", name);
    return 0;
}

int store_account_token_insert(accord_store *s, const char *id, const char *account,
                               const unsigned char *hash, int64_t expires_us, accord_error *err)
{
    store_account_row row;
    int rc = store_account_get(s, account, &row, err);
    if (rc)
        return rc;
    sqlite3_stmt *st;
    if ((rc = prep(s,
                   "INSERT INTO tokens(id, account, hash, created, expires, revoked)"
                   " VALUES(?1, ?2, ?3, ?4, ?5, NULL)",
                   &st, err)))
        return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, account, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, hash, AUTH_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, ts_now_us());
    if (expires_us)
        sqlite3_bind_int64(st, 5, expires_us);
    return step_done(s, st, "adding a token", err);
}

/* ------------------------------------------------------------------------------------------ */
/* Public functions that need no cryptography                                                   */

/* Runs `sql` with ?1 = name inside the open transaction. */
static int exec_named(accord_store *s, const char *sql, const char *name, accord_error *err)
{
    sqlite3_stmt *st;
    int rc = prep(s, sql, &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    return step_done(s, st, "removing an account", err);
}

int accord_account_remove(accord_store *s, const char *name, accord_error *err)
{
    int rc = name_checked(name, err);
    if (rc || (rc = store_account_begin(s, err)))
        return rc;
    store_account_row row;
    rc = store_account_get(s, name, &row, err);
    if (!rc)
        rc = exec_named(s, "DELETE FROM tokens WHERE account = ?1", name, err);
    if (!rc)
        rc = exec_named(s, "DELETE FROM rights WHERE account = ?1", name, err);
    if (!rc)
        rc = exec_named(s, "DELETE FROM red WHERE account = ?1", name, err);
    if (!rc)
        rc = exec_named(s, "DELETE FROM accounts WHERE name = ?1", name, err);
    return store_account_end(s, rc, "account-remove", name, NULL, err);
}

int accord_account_list(accord_store *s, accord_account_cb cb, void *ud, accord_error *err)
{
    sqlite3_stmt *st;
    int rc = prep(s,
                  "SELECT name, is_admin, pwhash IS NOT NULL, disabled, created,"
                  " (SELECT count(*) FROM tokens t WHERE t.account = a.name AND t.revoked IS NULL"
                  " AND (t.expires IS NULL OR t.expires > ?1)), org, community"
                  " FROM accounts a ORDER BY name",
                  &st, err);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, ts_now_us());
    int step = SQLITE_DONE;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        accord_account a = {
            .name = (const char *)sqlite3_column_text(st, 0),
            .is_admin = sqlite3_column_int(st, 1),
            .has_password = sqlite3_column_int(st, 2),
            .disabled = sqlite3_column_int(st, 3),
            .created_us = sqlite3_column_int64(st, 4),
            .live_tokens = sqlite3_column_int64(st, 5),
            .org = (const char *)sqlite3_column_text(st, 6),
            .community = sqlite3_column_int(st, 7),
        };
        rc = cb(ud, &a);
    }
    if (!rc && step != SQLITE_DONE)
        rc = store_db_fail(s, err, "listing accounts");
    sqlite3_finalize(st);
    return rc;
}

/* The public id of a token given by id or by its whole text ("acc_<id>_<secret>"). */
static int token_id_of(const char *ref, char id[AUTH_ID_HEX + 1], accord_error *err)
{
    size_t n = ref ? strlen(ref) : 0;
    if (n > AUTH_ID_HEX && memcmp(ref, AUTH_TOKEN_PREFIX, AUTH_TOKEN_PREFIX_LEN) == 0) {
        ref += AUTH_TOKEN_PREFIX_LEN;
        n = n - AUTH_TOKEN_PREFIX_LEN > AUTH_ID_HEX ? AUTH_ID_HEX : n - AUTH_TOKEN_PREFIX_LEN;
    }
    if (n != AUTH_ID_HEX || strspn(ref, "0123456789abcdef") < AUTH_ID_HEX)
        return accord_err_set(err, ACCORD_EINVAL, "token id \"%.40s\": expected %d hex digits",
                              ref ? ref : "", AUTH_ID_HEX);
    memcpy(id, ref, AUTH_ID_HEX);
    id[AUTH_ID_HEX] = '\0';
    return 0;
}

int accord_token_revoke(accord_store *s, const char *token_id, accord_error *err)
{
    char id[AUTH_ID_HEX + 1], detail[100];
    int rc = token_id_of(token_id, id, err);
    if (rc || (rc = store_account_begin(s, err)))
        return rc;
    store_token_row row = {0};
    rc = store_account_token_get(s, id, &row, err);
    if (!rc && row.revoked_us)
        rc = accord_err_set(err, ACCORD_EINVAL, "token %s is already revoked", id);
    sqlite3_stmt *st = NULL;
    if (!rc && !(rc = prep(s, "UPDATE tokens SET revoked = ?2 WHERE id = ?1", &st, err))) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, ts_now_us());
        rc = step_done(s, st, "revoking a token", err);
    }
    snprintf(detail, sizeof(detail), "account %s", row.account);
    return store_account_end(s, rc, "token-revoke", id, detail, err);
}

int accord_token_list(accord_store *s, const char *account, accord_token_cb cb, void *ud,
                      accord_error *err)
{
    sqlite3_stmt *st;
    int rc = prep(s,
                  "SELECT id, account, created, coalesce(expires, 0), coalesce(revoked, 0)"
                  " FROM tokens WHERE ?1 IS NULL OR account = ?1 ORDER BY created DESC, id",
                  &st, err);
    if (rc)
        return rc;
    bind_text_or_null(st, 1, account);
    int step = SQLITE_DONE;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        accord_token_info t = {
            .id = (const char *)sqlite3_column_text(st, 0),
            .account = (const char *)sqlite3_column_text(st, 1),
            .created_us = sqlite3_column_int64(st, 2),
            .expires_us = sqlite3_column_int64(st, 3),
            .revoked_us = sqlite3_column_int64(st, 4),
        };
        rc = cb(ud, &t);
    }
    if (!rc && step != SQLITE_DONE)
        rc = store_db_fail(s, err, "listing tokens");
    sqlite3_finalize(st);
    return rc;
}

/* Writes (or with 0/0 deletes) the rights row of account on cid. */
static int rights_write(accord_store *s, const char *account, int64_t cid, int r, int w,
                        accord_error *err)
{
    sqlite3_stmt *st;
    int rc = prep(s,
                  r || w ? "INSERT OR REPLACE INTO rights(account, coll, can_read, can_write)"
                           " VALUES(?1, ?2, ?3, ?4)"
                         : "DELETE FROM rights WHERE account = ?1 AND coll = ?2",
                  &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, cid);
    if (r || w) {
        sqlite3_bind_int(st, 3, r ? 1 : 0);
        sqlite3_bind_int(st, 4, w ? 1 : 0);
    }
    return step_done(s, st, "writing rights", err);
}

/* The UUID of collection cid, for audit records that must stay unambiguous. */
static int collection_uuid(accord_store *s, int64_t cid, char *out, size_t cap, accord_error *err)
{
    sqlite3_stmt *st;
    int rc = prep(s, "SELECT id FROM collections WHERE cid = ?1", &st, err);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, cid);
    if (sqlite3_step(st) != SQLITE_ROW || column_copy(st, 0, out, cap))
        rc = store_db_fail(s, err, "reading a collection id");
    sqlite3_finalize(st);
    return rc;
}

int accord_rights_set(accord_store *s, const char *account, const char *collection_ref,
                      int can_read, int can_write, accord_error *err)
{
    int rc = name_checked(account, err);
    if (!rc && (!collection_ref || !*collection_ref))
        rc = accord_err_set(err, ACCORD_EINVAL, "rights: no collection given");
    if (rc || (rc = store_account_begin(s, err)))
        return rc;
    store_account_row row;
    int64_t cid = 0;
    char detail[160];
    rc = store_account_get(s, account, &row, err);
    if (!rc)
        rc = store_collection_resolve(s, collection_ref, &cid, err);
    if (!rc)
        rc = rights_write(s, account, cid, can_read, can_write, err);
    char uuid[40] = "";
    if (!rc)
        rc = collection_uuid(s, cid, uuid, sizeof(uuid), err);
    snprintf(detail, sizeof(detail), "collection %s read=%d write=%d", uuid, can_read ? 1 : 0,
             can_write ? 1 : 0);
    return store_account_end(s, rc, "rights-set", account, detail, err);
}

int accord_rights_get(accord_store *s, const char *account, const char *collection_ref,
                      int *can_read, int *can_write, accord_error *err)
{
    *can_read = *can_write = 0;
    int64_t cid = 0;
    int rc = name_checked(account, err);
    if (!rc && (!collection_ref || !*collection_ref))
        rc = accord_err_set(err, ACCORD_EINVAL, "rights: no collection given");
    if (rc || (rc = store_collection_resolve(s, collection_ref, &cid, err)))
        return rc;
    sqlite3_stmt *st;
    if ((rc =
             prep(s,
                  "SELECT a.is_admin, a.disabled, coalesce(r.can_read, 0), coalesce(r.can_write, 0)"
                  " FROM accounts a LEFT JOIN rights r ON r.account = a.name AND r.coll = ?2"
                  " WHERE a.name = ?1",
                  &st, err)))
        return rc;
    sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, cid);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW && !sqlite3_column_int(st, 1)) {
        int admin = sqlite3_column_int(st, 0) != 0;
        *can_read = admin || sqlite3_column_int(st, 2);
        *can_write = admin || sqlite3_column_int(st, 3);
    } else if (step == SQLITE_DONE) {
        rc = accord_err_set(err, ACCORD_ENOTFOUND, "account %s: no such account", account);
    } else if (step != SQLITE_ROW) {
        rc = store_db_fail(s, err, "reading rights");
    }
    sqlite3_finalize(st);
    return rc;
}

int accord_rights_list(accord_store *s, const char *account, accord_right_cb cb, void *ud,
                       accord_error *err)
{
    sqlite3_stmt *st;
    int rc = prep(s,
                  "SELECT r.account, c.id, c.alias, r.can_read, r.can_write FROM rights r"
                  " JOIN collections c ON c.cid = r.coll WHERE ?1 IS NULL OR r.account = ?1"
                  " ORDER BY r.account, c.cid",
                  &st, err);
    if (rc)
        return rc;
    bind_text_or_null(st, 1, account);
    int step = SQLITE_DONE;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        accord_right r = {
            .account = (const char *)sqlite3_column_text(st, 0),
            .collection = (const char *)sqlite3_column_text(st, 1),
            .alias = (const char *)sqlite3_column_text(st, 2),
            .can_read = sqlite3_column_int(st, 3),
            .can_write = sqlite3_column_int(st, 4),
        };
        rc = cb(ud, &r);
    }
    if (!rc && step != SQLITE_DONE)
        rc = store_db_fail(s, err, "listing rights");
    sqlite3_finalize(st);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* TLP clearance                                                                                */

/* "identity--" and a UUID in lower case: the form accord compares organisations in. */
static int identity_id_ok(const char *id)
{
    static const char pattern[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
    if (!id || strncmp(id, "identity--", 10) != 0 || strlen(id) != 10 + sizeof(pattern) - 1)
        return 0;
    for (size_t i = 0; pattern[i]; i++) {
        char c = id[10 + i];
        if (pattern[i] == '-' ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return 0;
    }
    return 1;
}

/* Runs UPDATE accounts SET <set> WHERE name = ?1 with ?2 = text or integer. */
static int account_update(accord_store *s, const char *sql, const char *name, const char *text,
                          int value, accord_error *err)
{
    sqlite3_stmt *st;
    int rc = prep(s, sql, &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (text)
        bind_text_or_null(st, 2, *text ? text : NULL);
    else
        sqlite3_bind_int(st, 2, value);
    if ((rc = step_done(s, st, "updating an account", err)))
        return rc;
    if (sqlite3_changes(s->db) == 0)
        return accord_err_set(err, ACCORD_ENOTFOUND, "account %.80s: no such account", name);
    return 0;
}

int accord_account_set_org(accord_store *s, const char *name, const char *org, accord_error *err)
{
    int rc = name_checked(name, err);
    if (!rc && org && !identity_id_ok(org))
        rc = accord_err_set(err, ACCORD_EINVAL,
                            "organisation \"%.80s\": expected a STIX identity id "
                            "(identity--<uuid>, lower case)",
                            org);
    if (rc || (rc = store_account_begin(s, err)))
        return rc;
    rc = account_update(s, "UPDATE accounts SET org = ?2 WHERE name = ?1", name, org ? org : "", 0,
                        err);
    return store_account_end(s, rc, "account-org", name, org ? org : "none", err);
}

int accord_account_set_community(accord_store *s, const char *name, int on, accord_error *err)
{
    int rc = name_checked(name, err);
    if (rc || (rc = store_account_begin(s, err)))
        return rc;
    rc = account_update(s, "UPDATE accounts SET community = ?2 WHERE name = ?1", name, NULL,
                        on ? 1 : 0, err);
    return store_account_end(s, rc, "account-community", name, on ? "on" : "off", err);
}

int accord_tlp_default_get(accord_store *s, int *level, accord_error *err)
{
    sqlite3_stmt *st;
    int rc = prep(s, "SELECT value FROM meta WHERE key = 'tlp_default'", &st, err);
    if (rc)
        return rc;
    *level = TLP_DEFAULT_LEVEL;
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        int v = sqlite3_column_int(st, 0);
        /* anything else than a level is not what was set: read it as RED, withholding */
        *level = v >= ACCORD_TLP_CLEAR && v <= ACCORD_TLP_RED ? v : ACCORD_TLP_RED;
    } else if (step != SQLITE_DONE) {
        rc = store_db_fail(s, err, "reading the default TLP");
    }
    sqlite3_finalize(st);
    return rc;
}

int accord_tlp_default_set(accord_store *s, int level, accord_error *err)
{
    if (level < ACCORD_TLP_CLEAR || level > ACCORD_TLP_RED)
        return accord_err_set(err, ACCORD_EINVAL, "default TLP: %d is not a TLP level", level);
    int rc = store_account_begin(s, err);
    if (rc)
        return rc;
    sqlite3_stmt *st;
    if (!(rc = prep(s, "INSERT OR REPLACE INTO meta(key, value) VALUES('tlp_default', ?1)", &st,
                    err))) {
        sqlite3_bind_int(st, 1, level);
        rc = step_done(s, st, "setting the default TLP", err);
    }
    return store_account_end(s, rc, "tlp-default", NULL, tlp_level_name(level), err);
}

/* Loads the collections whose RED list names v->account into v->red (sorted). */
static int viewer_red_load(accord_store *s, accord_viewer *v, accord_error *err)
{
    sqlite3_stmt *st;
    int rc = prep(s, "SELECT coll FROM red WHERE account = ?1 ORDER BY coll", &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, v->account, -1, SQLITE_STATIC);
    size_t cap = 0;
    int step;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        if (v->nred == cap) {
            cap = cap ? cap * 2 : 8;
            int64_t *red = realloc(v->red, cap * sizeof(*red));
            if (!red) {
                rc = accord_err_set(err, ACCORD_ENOMEM, "viewer: out of memory");
                break;
            }
            v->red = red;
        }
        v->red[v->nred++] = sqlite3_column_int64(st, 0);
    }
    if (!rc && step != SQLITE_DONE)
        rc = store_db_fail(s, err, "reading RED lists");
    sqlite3_finalize(st);
    return rc;
}

/* Whether v's organisation is a member: the roster decides once one is kept; until then every
 * organisation an account names is one (accounts are made by this node's admins). */
static int viewer_member(accord_store *s, accord_viewer *v, accord_error *err)
{
    int kept = roster_kept(s), member = kept > 0 ? roster_is_member(s, v->org) : 1;
    if (kept < 0 || member < 0)
        return accord_err_set(err, ACCORD_ESTORE, "viewer %.80s: cannot read the roster",
                              v->account);
    v->member = member > 0;
    return 0;
}

int accord_viewer_open(accord_store *s, const char *account, accord_viewer **out,
                       accord_error *err)
{
    *out = NULL;
    int rc = name_checked(account, err);
    if (rc)
        return rc;
    accord_viewer *v = calloc(1, sizeof(*v));
    if (!v)
        return accord_err_set(err, ACCORD_ENOMEM, "viewer: out of memory");
    snprintf(v->account, sizeof(v->account), "%s", account);
    sqlite3_stmt *st = NULL;
    if ((rc = prep(s, "SELECT is_admin, disabled, org, community FROM accounts WHERE name = ?1",
                   &st, err)))
        goto out;
    sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_DONE) {
        rc = accord_err_set(err, ACCORD_ENOTFOUND, "account %.80s: no such account", account);
    } else if (step != SQLITE_ROW) {
        rc = store_db_fail(s, err, "reading an account");
    } else if (!sqlite3_column_int(st, 1)) { /* a disabled account keeps CLEAR only */
        v->all = sqlite3_column_int(st, 0) != 0;
        if (column_copy(st, 2, v->org, sizeof(v->org)))
            rc = accord_err_set(err, ACCORD_ECORRUPT, "store: account %.80s: oversized org",
                                account);
        v->community = sqlite3_column_int(st, 3) != 0;
    }
    sqlite3_finalize(st);
    if (!rc && v->org[0] && !v->all)
        rc = viewer_member(s, v, err);
    if (!rc)
        rc = viewer_red_load(s, v, err);
    if (!rc)
        rc = accord_tlp_default_get(s, &v->dflt, err);
out:
    if (rc)
        accord_viewer_free(v);
    else
        *out = v;
    return rc;
}

void accord_viewer_free(accord_viewer *v)
{
    if (!v)
        return;
    free(v->red);
    free(v);
}
