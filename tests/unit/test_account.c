/*
 * test_account.c - accounts, API tokens, rights and authentication (src/auth.c,
 * src/store_account.c): the account lifecycle, password and token checks (right, wrong, expired,
 * garbage, one character changed), the constant-time paths, the verified-login cache and its
 * invalidation (also by another store handle, as when the CLI changes a running server's store),
 * the failed-login limiter, rights with the admin override, the first-start bootstrap, and the
 * audit log (every change recorded, no secret in it).
 *
 * Speed: auth_test_fast_hash(1) makes new password hashes use the Argon2id MIN limits, and
 * auth_limits_set shrinks the limiter's lockouts to a few hundred milliseconds.
 */
#include "accord.h"
#include "auth.h"
#include "t.h"

#include <sodium.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "t_import.h"

static char tmpdir[256];
static int store_no;
static char last_dir[300];

static const auth_limits test_limits = {
    .window_us = 10000000,
    .account_max = 3,
    .address_max = 6,
    .lock_us = 300000,
    .lock_max_us = 2000000,
    .cache_ttl_us = 60000000,
};

static accord_store *new_store(void)
{
    snprintf(last_dir, sizeof(last_dir), "%s/s%d", tmpdir, store_no++);
    return t_store_open(last_dir);
}

static void sleep_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static auth_counters counters(void)
{
    auth_counters c;
    auth_counters_get(&c);
    return c;
}

static int basic(accord_store *s, const char *user, const char *pw, const char *addr)
{
    accord_principal p;
    accord_error err;
    return accord_auth_basic(s, user, pw, addr, &p, &err);
}

static int bearer(accord_store *s, const char *token, const char *addr)
{
    accord_principal p;
    accord_error err;
    return accord_auth_bearer(s, token, addr, &p, &err);
}

/* ------------------------------------------------------------------------------------------ */

typedef struct listing {
    int n;
    char names[8][80];
    int admin[8], has_pw[8];
    int64_t tokens[8];
} listing;

static int on_account(void *ud, const accord_account *a)
{
    listing *l = ud;
    if (l->n < 8) {
        snprintf(l->names[l->n], sizeof(l->names[0]), "%s", a->name);
        l->admin[l->n] = a->is_admin;
        l->has_pw[l->n] = a->has_password;
        l->tokens[l->n] = a->live_tokens;
    }
    l->n++;
    return 0;
}

static void test_accounts(void)
{
    accord_store *s = new_store();
    accord_error err;
    CHECK(accord_account_add(s, "alice", "correct horse", 0, &err) == 0);
    CHECK(accord_account_add(s, "bob@example.org", NULL, 0, &err) == 0);
    CHECK(accord_account_add(s, "root.admin-1_x", "pw", 1, &err) == 0);
    CHECK(accord_account_add(s, "alice", "other", 0, &err) == ACCORD_EINVAL);
    CHECK(accord_account_add(s, "", "pw", 0, &err) == ACCORD_EINVAL);
    CHECK(accord_account_add(s, "a b", "pw", 0, &err) == ACCORD_EINVAL);
    CHECK(accord_account_add(s, "a:b", "pw", 0, &err) == ACCORD_EINVAL);
    CHECK(accord_account_add(s, "x", "", 0, &err) == ACCORD_EINVAL);
    char long_name[70];
    memset(long_name, 'n', 65);
    long_name[65] = '\0';
    CHECK(accord_account_add(s, long_name, "pw", 0, &err) == ACCORD_EINVAL);
    long_name[64] = '\0';
    CHECK(accord_account_add(s, long_name, NULL, 0, &err) == 0);

    listing l = {0};
    CHECK(accord_account_list(s, on_account, &l, &err) == 0);
    CHECK(l.n == 4);
    CHECK_STR(l.names[0], "alice");
    CHECK(l.has_pw[0] == 1 && l.admin[0] == 0);
    CHECK_STR(l.names[1], "bob@example.org");
    CHECK(l.has_pw[1] == 0);
    CHECK(l.admin[3] == 1);

    CHECK(accord_account_remove(s, "bob@example.org", &err) == 0);
    CHECK(accord_account_remove(s, "bob@example.org", &err) == ACCORD_ENOTFOUND);
    CHECK(accord_account_remove(s, "no body", &err) == ACCORD_EINVAL);
    memset(&l, 0, sizeof(l));
    accord_account_list(s, on_account, &l, &err);
    CHECK(l.n == 3);
    accord_store_close(s);
}

static void test_passwords(void)
{
    auth_limits_set(&test_limits);
    accord_store *s = new_store();
    accord_error err;
    accord_principal p;
    CHECK(accord_account_add(s, "alice", "correct horse", 0, &err) == 0);
    CHECK(accord_account_add(s, "tok", NULL, 1, &err) == 0);
    CHECK(accord_auth_basic(s, "alice", "correct horse", "10.0.0.1", &p, &err) == 0);
    CHECK_STR(p.name, "alice");
    CHECK(p.is_admin == 0);
    CHECK(basic(s, "alice", "correct horsE", "10.0.0.1") == ACCORD_EINVAL);
    CHECK(basic(s, "alice", "", "10.0.0.1") == ACCORD_EINVAL);
    CHECK(basic(s, "alice", NULL, "10.0.0.1") == ACCORD_EINVAL);

    /* an unknown or token-only account runs a dummy Argon2id verification too */
    auth_counters before = counters();
    CHECK(basic(s, "nobody", "correct horse", "10.0.0.2") == ACCORD_EINVAL);
    CHECK(counters().pwhash_verifies == before.pwhash_verifies + 1);
    CHECK(basic(s, "tok", "anything", "10.0.0.2") == ACCORD_EINVAL);
    CHECK(counters().pwhash_verifies == before.pwhash_verifies + 2);

    /* set and remove a password */
    CHECK(accord_account_set_password(s, "tok", "now one", &err) == 0);
    CHECK(accord_auth_basic(s, "tok", "now one", NULL, &p, &err) == 0);
    CHECK(p.is_admin == 1);
    CHECK(accord_account_set_password(s, "tok", NULL, &err) == 0);
    CHECK(basic(s, "tok", "now one", NULL) == ACCORD_EINVAL);
    CHECK(accord_account_set_password(s, "ghost", "pw", &err) == ACCORD_ENOTFOUND);
    accord_store_close(s);
}

static void test_cache(void)
{
    auth_limits_set(&test_limits);
    accord_store *s = new_store();
    accord_error err;
    CHECK(accord_account_add(s, "carol", "pw-one", 0, &err) == 0);
    CHECK(accord_account_add(s, "dave", "pw-dave", 0, &err) == 0);
    auth_counters c0 = counters();
    CHECK(basic(s, "carol", "pw-one", NULL) == 0);
    auth_counters c1 = counters();
    CHECK(c1.pwhash_verifies == c0.pwhash_verifies + 1 && c1.cache_misses == c0.cache_misses + 1);
    CHECK(basic(s, "carol", "pw-one", NULL) == 0);
    CHECK(basic(s, "carol", "pw-one", NULL) == 0);
    auth_counters c2 = counters();
    CHECK(c2.pwhash_verifies == c1.pwhash_verifies && c2.cache_hits == c1.cache_hits + 2);
    /* a wrong password is never a hit */
    CHECK(basic(s, "carol", "pw-two", NULL) == ACCORD_EINVAL);
    CHECK(counters().pwhash_verifies == c2.pwhash_verifies + 1);

    /* a password change through another handle (another process) ends the cached login */
    accord_store *other = t_store_open(last_dir);
    CHECK(accord_account_set_password(other, "carol", "pw-two", &err) == 0);
    auth_counters c3 = counters();
    CHECK(basic(s, "carol", "pw-one", NULL) == ACCORD_EINVAL);
    CHECK(counters().cache_hits == c3.cache_hits);
    CHECK(basic(s, "carol", "pw-two", NULL) == 0);
    CHECK(basic(s, "carol", "pw-two", NULL) == 0);
    CHECK(counters().cache_hits == c3.cache_hits + 1);

    /* a revocation (any account change) drops cached logins too; a removal ends them for good */
    CHECK(basic(s, "dave", "pw-dave", NULL) == 0);
    char tok[ACCORD_TOKEN_BUFLEN], id[ACCORD_TOKEN_ID_BUFLEN];
    CHECK(accord_token_create(other, "dave", 0, tok, sizeof(tok), id, &err) == 0);
    CHECK(accord_token_revoke(other, id, &err) == 0);
    auth_counters c4 = counters();
    CHECK(basic(s, "dave", "pw-dave", NULL) == 0);
    CHECK(counters().pwhash_verifies == c4.pwhash_verifies + 1);
    CHECK(accord_account_remove(other, "carol", &err) == 0);
    CHECK(basic(s, "carol", "pw-two", NULL) == ACCORD_EINVAL);
    /* re-created with the same password: a new account, verified afresh */
    CHECK(accord_account_add(other, "carol", "pw-two", 0, &err) == 0);
    auth_counters c5 = counters();
    CHECK(basic(s, "carol", "pw-two", NULL) == 0);
    CHECK(counters().pwhash_verifies == c5.pwhash_verifies + 1);
    accord_store_close(other);

    /* the cache is per store: the same credentials in another store are checked there */
    accord_store *s2 = new_store();
    CHECK(basic(s2, "carol", "pw-two", NULL) == ACCORD_EINVAL);
    accord_store_close(s2);
    accord_store_close(s);
}

static int count_tokens(void *ud, const accord_token_info *t)
{
    int *n = ud;
    (*n)++;
    return t->id && strlen(t->id) == 16 ? 0 : -100;
}

static void test_tokens(void)
{
    auth_limits_set(&test_limits);
    accord_store *s = new_store();
    accord_error err;
    accord_principal p;
    char tok[ACCORD_TOKEN_BUFLEN], id[ACCORD_TOKEN_ID_BUFLEN], tok2[ACCORD_TOKEN_BUFLEN];
    CHECK(accord_account_add(s, "erin", NULL, 0, &err) == 0);
    CHECK(accord_token_create(s, "erin", 0, tok, sizeof(tok), id, &err) == 0);
    CHECK(strlen(tok) == 64 && strncmp(tok, "acc_", 4) == 0 && tok[20] == '_');
    CHECK(strncmp(tok + 4, id, 16) == 0);
    CHECK(accord_token_create(s, "nobody", 0, tok2, sizeof(tok2), NULL, &err) == ACCORD_ENOTFOUND);
    CHECK(accord_token_create(s, "erin", 0, tok2, 10, NULL, &err) == ACCORD_ELIMIT);
    CHECK(accord_token_create(s, "erin", 1000, tok2, sizeof(tok2), NULL, &err) == ACCORD_EINVAL);

    auth_counters c0 = counters();
    CHECK(accord_auth_bearer(s, tok, "10.1.0.1", &p, &err) == 0);
    CHECK_STR(p.name, "erin");
    CHECK(counters().ct_compares == c0.ct_compares + 1);
    CHECK(counters().pwhash_verifies == c0.pwhash_verifies);

    /* garbage, and every kind of single-character change */
    CHECK(bearer(s, NULL, "10.1.0.1") == ACCORD_EINVAL);
    CHECK(bearer(s, "", "10.1.0.2") == ACCORD_EINVAL);
    CHECK(bearer(s, "acc_", "10.1.0.2") == ACCORD_EINVAL);
    CHECK(bearer(s, "\x01\xff garbage", "10.1.0.3") == ACCORD_EINVAL);
    static const int positions[] = {0, 5, 19, 20, 21, 40, 62, 63};
    for (size_t i = 0; i < sizeof(positions) / sizeof(positions[0]); i++) {
        memcpy(tok2, tok, sizeof(tok));
        tok2[positions[i]] = tok2[positions[i]] == 'A' ? 'B' : 'A';
        CHECK(bearer(s, tok2, NULL) == ACCORD_EINVAL);
    }
    memcpy(tok2, tok, sizeof(tok));
    tok2[63] = tok[63] == 'Q' ? 'R' : 'Q'; /* often a non-canonical alias of the same bytes */
    CHECK(bearer(s, tok2, NULL) == ACCORD_EINVAL);
    /* a well-formed token with an unknown id still takes the constant-time comparison */
    memcpy(tok2, tok, sizeof(tok));
    tok2[4] = tok[4] == '0' ? '1' : '0';
    auth_counters c1 = counters();
    CHECK(bearer(s, tok2, NULL) == ACCORD_EINVAL);
    CHECK(counters().ct_compares == c1.ct_compares + 1);

    /* the header form */
    char header[200];
    snprintf(header, sizeof(header), "bearer  %s ", tok);
    CHECK(accord_auth_header(s, header, NULL, &p, &err) == 0);
    CHECK(accord_auth_header(s, "Digest abc", NULL, &p, &err) == ACCORD_EINVAL);
    CHECK(accord_auth_header(s, NULL, NULL, &p, &err) == ACCORD_EINVAL);

    /* expiry */
    char tok3[ACCORD_TOKEN_BUFLEN];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    CHECK(accord_token_create(s, "erin", now_us + 300000, tok3, sizeof(tok3), NULL, &err) == 0);
    CHECK(bearer(s, tok3, NULL) == 0);
    int n = 0;
    CHECK(accord_token_list(s, "erin", count_tokens, &n, &err) == 0);
    CHECK(n == 2);
    sleep_ms(350);
    CHECK(bearer(s, tok3, NULL) == ACCORD_EINVAL);

    /* revocation by id or by the whole text */
    CHECK(accord_token_revoke(s, id, &err) == 0);
    CHECK(bearer(s, tok, NULL) == ACCORD_EINVAL);
    CHECK(accord_token_revoke(s, id, &err) == ACCORD_EINVAL);
    CHECK(accord_token_revoke(s, "0123456789abcdef", &err) == ACCORD_ENOTFOUND);
    CHECK(accord_token_revoke(s, "xyz", &err) == ACCORD_EINVAL);
    char tok4[ACCORD_TOKEN_BUFLEN];
    CHECK(accord_token_create(s, "erin", 0, tok4, sizeof(tok4), NULL, &err) == 0);
    CHECK(bearer(s, tok4, NULL) == 0);
    CHECK(accord_token_revoke(s, tok4, &err) == 0);
    CHECK(bearer(s, tok4, NULL) == ACCORD_EINVAL);

    /* removing the account removes its tokens */
    char tok5[ACCORD_TOKEN_BUFLEN];
    CHECK(accord_token_create(s, "erin", 0, tok5, sizeof(tok5), NULL, &err) == 0);
    CHECK(accord_account_remove(s, "erin", &err) == 0);
    CHECK(bearer(s, tok5, NULL) == ACCORD_EINVAL);
    n = 0;
    CHECK(accord_token_list(s, NULL, count_tokens, &n, &err) == 0);
    CHECK(n == 0);
    accord_store_close(s);
}

static void test_basic_header(void)
{
    auth_limits_set(&test_limits);
    accord_store *s = new_store();
    accord_error err;
    accord_principal p;
    CHECK(accord_account_add(s, "frank", "pa:ss word", 0, &err) == 0);
    char b64[100], header[120];
    const char *cred = "frank:pa:ss word";
    sodium_bin2base64(b64, sizeof(b64), (const unsigned char *)cred, strlen(cred),
                      sodium_base64_VARIANT_ORIGINAL);
    snprintf(header, sizeof(header), "Basic %s", b64);
    CHECK(accord_auth_header(s, header, "::1", &p, &err) == 0);
    CHECK_STR(p.name, "frank");
    snprintf(header, sizeof(header), "BASIC %s", b64);
    CHECK(accord_auth_header(s, header, "::1", &p, &err) == 0);
    CHECK(accord_auth_header(s, "Basic !!!", "::1", &p, &err) == ACCORD_EINVAL);
    CHECK(accord_auth_header(s, "Basic ", "::1", &p, &err) == ACCORD_EINVAL);

    /* the parser alone */
    char buf[AUTH_BASIC_MAX + 1];
    const char *user, *pass;
    CHECK(auth_parse_basic(header, strlen(header), buf, sizeof(buf), &user, &pass) == 0);
    CHECK_STR(user, "frank");
    CHECK_STR(pass, "pa:ss word");
    static const char *bad[] = {"Basic Zm9v",       /* "foo": no colon */
                                "Basic OnBhc3M=",   /* ":pass": no user */
                                "Basic dXNlcjo=",   /* "user:": no password */
                                "Basic dSB2OnA=",   /* "u v:p": bad user */
                                "Bearer dXNlcjpw",  /* wrong scheme */
                                "Basic dXNlcjpw=",  /* bad padding */
                                "Basic dXNl cjpw"}; /* space inside */
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(auth_parse_basic(bad[i], strlen(bad[i]), buf, sizeof(buf), &user, &pass) ==
              ACCORD_EINVAL);
    CHECK(auth_parse_basic("Basic dXNlcjpw", 14, buf, sizeof(buf), &user, &pass) == 0);
    CHECK_STR(pass, "p");
    accord_store_close(s);
}

static void test_rate_limit(void)
{
    auth_limits_set(&test_limits);
    accord_store *s = new_store();
    accord_error err;
    accord_principal p;
    CHECK(accord_account_add(s, "gina", "right", 0, &err) == 0);
    CHECK(accord_account_add(s, "hank", "right", 0, &err) == 0);
    char tok[ACCORD_TOKEN_BUFLEN];
    CHECK(accord_token_create(s, "gina", 0, tok, sizeof(tok), NULL, &err) == 0);

    /* per account: 3 failures, then even the right password is refused, from any address */
    for (int i = 0; i < 3; i++)
        CHECK(basic(s, "gina", "wrong", "192.0.2.1") == ACCORD_EINVAL);
    auth_counters c0 = counters();
    CHECK(accord_auth_basic(s, "gina", "right", "192.0.2.1", &p, &err) == ACCORD_EBUSY);
    CHECK(p.retry_after_s >= 1);
    CHECK(basic(s, "gina", "right", "192.0.2.99") == ACCORD_EBUSY);
    CHECK(counters().pwhash_verifies == c0.pwhash_verifies); /* refused before any check */
    CHECK(counters().limited == c0.limited + 2);
    CHECK(basic(s, "hank", "right", "192.0.2.1") == 0); /* other accounts are not affected */
    CHECK(bearer(s, tok, "192.0.2.1") == 0);            /* nor the account's tokens */
    sleep_ms(350);
    CHECK(basic(s, "gina", "right", "192.0.2.1") == 0);

    /* without a success in between, the second lockout lasts twice as long */
    for (int i = 0; i < 3; i++)
        CHECK(basic(s, "gina", "wrong", "192.0.2.2") == ACCORD_EINVAL);
    CHECK(basic(s, "gina", "wrong", "192.0.2.2") == ACCORD_EBUSY);
    sleep_ms(350);
    for (int i = 0; i < 3; i++)
        CHECK(basic(s, "gina", "wrong", "192.0.2.3") == ACCORD_EINVAL);
    sleep_ms(350);
    CHECK(basic(s, "gina", "right", "192.0.2.3") == ACCORD_EBUSY);
    sleep_ms(300);
    CHECK(basic(s, "gina", "right", "192.0.2.3") == 0);

    /* per address: 6 failures across accounts and tokens, then the address is refused */
    auth_limits_set(&test_limits);
    static const char *users[] = {"u1", "u2", "u3", "u4", "u5"};
    for (int i = 0; i < 5; i++)
        CHECK(basic(s, users[i], "x", "198.51.100.7") == ACCORD_EINVAL);
    CHECK(bearer(s, "acc_garbage", "198.51.100.7") == ACCORD_EINVAL);
    CHECK(basic(s, "hank", "right", "198.51.100.7") == ACCORD_EBUSY);
    CHECK(bearer(s, tok, "198.51.100.7") == ACCORD_EBUSY);
    CHECK(basic(s, "hank", "right", "198.51.100.8") == 0);
    CHECK(bearer(s, tok, "198.51.100.8") == 0);
    sleep_ms(350);
    CHECK(basic(s, "hank", "right", "198.51.100.7") == 0);
    auth_limits_set(&test_limits);
    accord_store_close(s);
}

static void test_rights(void)
{
    accord_store *s = new_store();
    accord_error err;
    int r = -1, w = -1;
    char cid[37];
    CHECK(accord_account_add(s, "ivy", NULL, 0, &err) == 0);
    CHECK(accord_account_add(s, "boss", NULL, 1, &err) == 0);
    CHECK(accord_collection_add(s, NULL, "Second", "second", NULL, cid, &err) == 0);
    CHECK(accord_rights_get(s, "ivy", "default", &r, &w, &err) == 0);
    CHECK(r == 0 && w == 0);
    CHECK(accord_rights_set(s, "ivy", "default", 1, 0, &err) == 0);
    CHECK(accord_rights_get(s, "ivy", "default", &r, &w, &err) == 0);
    CHECK(r == 1 && w == 0);
    CHECK(accord_rights_set(s, "ivy", cid, 0, 1, &err) == 0);
    CHECK(accord_rights_get(s, "ivy", "second", &r, &w, &err) == 0);
    CHECK(r == 0 && w == 1);
    CHECK(accord_rights_set(s, "ivy", "default", 1, 1, &err) == 0);
    CHECK(accord_rights_get(s, "ivy", "default", &r, &w, &err) == 0);
    CHECK(r == 1 && w == 1);
    CHECK(accord_rights_set(s, "ivy", "second", 0, 0, &err) == 0);
    CHECK(accord_rights_get(s, "ivy", "second", &r, &w, &err) == 0);
    CHECK(r == 0 && w == 0);
    /* admins may read and write everything without a grant */
    CHECK(accord_rights_get(s, "boss", cid, &r, &w, &err) == 0);
    CHECK(r == 1 && w == 1);
    CHECK(accord_rights_get(s, "ghost", "default", &r, &w, &err) == ACCORD_ENOTFOUND);
    CHECK(r == 0 && w == 0);
    CHECK(accord_rights_get(s, "ivy", "nonesuch", &r, &w, &err) == ACCORD_ENOTFOUND);
    CHECK(accord_rights_set(s, "ghost", "default", 1, 1, &err) == ACCORD_ENOTFOUND);
    CHECK(accord_rights_set(s, "ivy", "nonesuch", 1, 1, &err) == ACCORD_ENOTFOUND);
    /* removing the account removes its grants */
    CHECK(accord_account_remove(s, "ivy", &err) == 0);
    CHECK(accord_account_add(s, "ivy", NULL, 0, &err) == 0);
    CHECK(accord_rights_get(s, "ivy", "default", &r, &w, &err) == 0);
    CHECK(r == 0 && w == 0);
    accord_store_close(s);
}

static void test_bootstrap(void)
{
    auth_limits_set(&test_limits);
    accord_store *s = new_store();
    accord_error err;
    accord_principal p;
    char tok[ACCORD_TOKEN_BUFLEN], tok2[ACCORD_TOKEN_BUFLEN] = "";
    int created = -1;
    CHECK(accord_account_bootstrap(s, tok, sizeof(tok), &created, &err) == 0);
    CHECK(created == 1);
    CHECK(accord_auth_bearer(s, tok, NULL, &p, &err) == 0);
    CHECK_STR(p.name, "admin");
    CHECK(p.is_admin == 1);
    CHECK(accord_account_bootstrap(s, tok2, sizeof(tok2), &created, &err) == 0);
    CHECK(created == 0 && tok2[0] == '\0');
    listing l = {0};
    accord_account_list(s, on_account, &l, &err);
    CHECK(l.n == 1 && l.has_pw[0] == 0 && l.tokens[0] == 1);
    accord_store_close(s);

    /* a store that has accounts is left alone */
    s = new_store();
    CHECK(accord_account_add(s, "someone", NULL, 0, &err) == 0);
    CHECK(accord_account_bootstrap(s, tok2, sizeof(tok2), &created, &err) == 0);
    CHECK(created == 0);
    memset(&l, 0, sizeof(l));
    accord_account_list(s, on_account, &l, &err);
    CHECK(l.n == 1);
    accord_store_close(s);
}

/* Several threads, each with its own store handle, share the cache and the limiter. */
typedef struct worker {
    int id, ok, refused, other;
} worker;

static void *work(void *ud)
{
    worker *w = ud;
    accord_store *s = NULL;
    accord_error err;
    char addr[32];
    if (accord_store_open(last_dir, 0, &s, &err) != 0)
        w->other++; /* no CHECK here: the harness counters are not thread-safe */
    for (int i = 0; i < 40 && s; i++) {
        snprintf(addr, sizeof(addr), "203.0.113.%d", w->id);
        int rc = basic(s, "kim", i % 4 == 3 ? "wrong" : "kim-pw", addr);
        if (rc == 0)
            w->ok++;
        else if (rc == ACCORD_EINVAL || rc == ACCORD_EBUSY)
            w->refused++;
        else
            w->other++;
    }
    accord_store_close(s);
    return NULL;
}

static void test_threads(void)
{
    auth_limits l = test_limits;
    l.account_max = 1000;
    l.address_max = 1000;
    auth_limits_set(&l);
    accord_store *s = new_store();
    accord_error err;
    CHECK(accord_account_add(s, "kim", "kim-pw", 0, &err) == 0);
    pthread_t t[4];
    worker w[4] = {{.id = 1}, {.id = 2}, {.id = 3}, {.id = 4}};
    for (int i = 0; i < 4; i++)
        CHECK(pthread_create(&t[i], NULL, work, &w[i]) == 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < 4; i++)
        CHECK(w[i].ok == 30 && w[i].refused == 10 && w[i].other == 0);
    accord_store_close(s);
    auth_limits_set(&test_limits);
}

/* Every audit record of the store at dir: "action|ref|detail" lines. */
static char *audit_text(const char *dir)
{
    char path[400];
    snprintf(path, sizeof(path), "%s/accord.db", dir);
    sqlite3 *db;
    sqlite3_stmt *st;
    static char out[16384];
    size_t n = 0;
    out[0] = '\0';
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        return out;
    if (sqlite3_prepare_v2(db, "SELECT action, ref, detail FROM audit ORDER BY seq", -1, &st,
                           NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW && n < sizeof(out) - 400)
            n += (size_t)snprintf(
                out + n, sizeof(out) - n, "%s|%s|%s\n", (const char *)sqlite3_column_text(st, 0),
                sqlite3_column_text(st, 1) ? (const char *)sqlite3_column_text(st, 1) : "",
                sqlite3_column_text(st, 2) ? (const char *)sqlite3_column_text(st, 2) : "");
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return out;
}

static void test_audit(void)
{
    accord_store *s = new_store();
    accord_error err;
    char tok[ACCORD_TOKEN_BUFLEN], id[ACCORD_TOKEN_ID_BUFLEN], boot[ACCORD_TOKEN_BUFLEN];
    int created;
    CHECK(accord_account_bootstrap(s, boot, sizeof(boot), &created, &err) == 0);
    CHECK(accord_account_add(s, "jack", "s3cret-Pa55", 0, &err) == 0);
    CHECK(accord_account_set_password(s, "jack", "n3w-Pa55", &err) == 0);
    CHECK(accord_token_create(s, "jack", 0, tok, sizeof(tok), id, &err) == 0);
    CHECK(accord_rights_set(s, "jack", "default", 1, 0, &err) == 0);
    CHECK(accord_token_revoke(s, id, &err) == 0);
    CHECK(accord_account_remove(s, "jack", &err) == 0);
    accord_store_close(s);
    const char *a = audit_text(last_dir);
    static const char *expect[] = {"account-add|admin|",          "token-create|",
                                   "account-add|jack|",           "account-password|jack|",
                                   "rights-set|jack|collection ", "token-revoke|",
                                   "account-remove|jack|"};
    for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
        CHECK(strstr(a, expect[i]) != NULL);
        if (!strstr(a, expect[i]))
            fprintf(stderr, "missing audit record %s in:\n%s", expect[i], a);
    }
    CHECK(strstr(a, id) != NULL);
    /* no secret: neither passwords, nor token secrets, nor hashes */
    CHECK(strstr(a, "s3cret") == NULL && strstr(a, "n3w-Pa55") == NULL);
    CHECK(strstr(a, tok + 21) == NULL && strstr(a, boot + 21) == NULL);
    CHECK(strstr(a, "argon2") == NULL && strstr(a, "acc_") == NULL);
}

int main(void)
{
    if (t_mkdtemp(tmpdir, sizeof(tmpdir), "account"))
        return 1;
    auth_test_fast_hash(1);
    auth_limits_set(&test_limits);
    test_accounts();
    test_passwords();
    test_cache();
    test_tokens();
    test_basic_header();
    test_rate_limit();
    test_rights();
    test_bootstrap();
    test_threads();
    test_audit();
    t_rmtree(tmpdir);
    return t_done();
}
