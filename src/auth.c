/*
 * auth.c - credentials: passwords, API tokens, the verified-login cache and the failed-login
 * limiter.  With sign.c, the only file that includes sodium.h.
 *
 * Passwords are hashed with Argon2id (crypto_pwhash_str, INTERACTIVE limits: 2 passes, 64 MiB)
 * and checked with crypto_pwhash_str_verify.  A check against an unknown or token-only account runs
 * the same verification against a dummy hash, so the answer takes as long whether the account
 * exists or not.
 *
 * API tokens.  A token is 32 random bytes (the secret) plus 8 random bytes (the public id, which
 * finds the row without revealing anything).  Its text, shown once at creation, is 64 ASCII
 * characters (a format that outlives the process: clients keep it in their configuration):
 *
 *   offset  size  content
 *   0       4     "acc_"                  fixed prefix (lets secret scanners recognise leaks)
 *   4       16    public id               the 8 id bytes as lowercase hex; tokens.id
 *   20      1     "_"
 *   21      43    secret                  the 32 secret bytes, base64url without padding
 *                                         (RFC 4648 section 5), canonical (unused bits zero)
 *
 * The store keeps only BLAKE2b-256(secret) (crypto_generichash, no key) in tokens.hash; a check
 * hashes the presented secret and compares with sodium_memcmp (constant time).  An unknown id is
 * compared against a zero hash the same way.  Tokens are not cached: their check is one hash and
 * one indexed row read, so a revocation counts from the next request.
 *
 * The verified-login cache (HTTP Basic sends the password on every request, and Argon2id costs
 * ~0.1 s of CPU and 64 MiB) remembers successful Basic checks in a fixed table of CACHE_SLOTS
 * entries, CACHE_WAYS-way set-associative.  An entry's key is BLAKE2b-256 keyed with a random
 * per-process key of (store identity, user, password): no password is kept, and a key means nothing
 * outside this process.  An entry holds the account's name, its admin flag, the account generation
 * it was verified at (store_account.c: a counter in the meta table that every committed change to
 * accounts, tokens or rights increments, from any process) and its expiry
 * (auth_limits.cache_ttl_us, 5 minutes).  A lookup reads the current generation (one row read) and
 * trusts an entry only when it is equal: a password change, a removal, a disabled account end
 * cached logins at the next request, even when the CLI made the change while a server runs.
 *
 * The failed-login limiter counts failures per account (password checks only: tokens are not
 * guessable, and a token user must not be locked out by someone guessing the account's password)
 * and per client address (passwords and tokens), in a fixed table of LIMIT_SLOTS entries,
 * LIMIT_WAYS-way set-associative, keyed by a keyed hash (so a flood of addresses cannot aim at one
 * set).  Per key: failures within the window; account_max (5) failures for an account or
 * address_max (20) for an address within window_us (15 min) lock the key for lock_us (30 s),
 * doubled at each further lockout up to lock_max_us (15 min).  A locked key is refused before any
 * credential is checked, even a right one: ACCORD_EBUSY with the seconds to wait.  Checks under way
 * count as failures until they finish, so parallel guesses cannot overrun the limit.  A success
 * clears its account's failures; an address's failures only age out (one valid account must not
 * clear an address that guesses others).  When a set is full the entry seen longest ago that is
 * neither locked nor busy is replaced.
 *
 * Invariants: the cache and limiter tables are touched only under `lock`; Argon2id and the store
 * are never called with `lock` held.  Secrets (the process key, the cache, decoded passwords, token
 * secrets) live in sodium_malloc memory or on the stack and are wiped after use.
 *
 * It does not: read or write tables (store_account.c), parse HTTP beyond the Authorization value,
 * or decide what an authenticated account may do (accord_rights_get).
 */
#include "auth.h"
#include "store.h"
#include "util/timestamp.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

_Static_assert(AUTH_TOKEN_LEN + 1 == ACCORD_TOKEN_BUFLEN, "token text and its buffer disagree");
_Static_assert(AUTH_ID_HEX + 1 == ACCORD_TOKEN_ID_BUFLEN, "token id and its buffer disagree");
_Static_assert(AUTH_HASH_BYTES == crypto_generichash_BYTES, "token hash is BLAKE2b-256");
_Static_assert(sizeof(((store_account_row *)0)->pwhash) > crypto_pwhash_STRBYTES, "pwhash room");

#define CACHE_SLOTS 1024
#define CACHE_WAYS 4
#define LIMIT_SLOTS 4096
#define LIMIT_WAYS 8

typedef struct cache_entry {
    unsigned char key[32];
    char name[ACCORD_ACCOUNT_NAME_MAX + 1];
    int is_admin;
    int64_t generation;
    int64_t expires; /* monotonic µs; 0 = empty */
} cache_entry;

typedef struct limit_entry {
    unsigned char key[16];
    int used;
    uint32_t failures, busy, lockouts;
    int64_t window_start, locked_until, last_seen; /* monotonic µs */
} limit_entry;

static const auth_limits default_limits = {
    .window_us = 15 * 60 * INT64_C(1000000),
    .account_max = 5,
    .address_max = 20,
    .lock_us = 30 * INT64_C(1000000),
    .lock_max_us = 15 * 60 * INT64_C(1000000),
    .cache_ttl_us = 5 * 60 * INT64_C(1000000),
};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int init_rc;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER; /* cache, limiter, limits */
static pthread_mutex_t dummy_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned char *proc_key; /* crypto_generichash_KEYBYTES, sodium_malloc */
static cache_entry *cache;      /* CACHE_SLOTS, sodium_malloc */
static limit_entry limiter[LIMIT_SLOTS];
static auth_limits limits = {0};
static char dummy_hash[crypto_pwhash_STRBYTES];
static atomic_int fast_hash;
static _Atomic uint64_t n_verifies, n_compares, n_hits, n_misses, n_limited;

/* ------------------------------------------------------------------------------------------ */
/* Setup, tunables, counters                                                                    */

static void init_once(void)
{
    if (sodium_init() < 0) {
        init_rc = ACCORD_ENOMEM;
        return;
    }
    proc_key = sodium_malloc(crypto_generichash_KEYBYTES);
    cache = sodium_malloc(sizeof(cache_entry) * CACHE_SLOTS);
    if (!proc_key || !cache) {
        init_rc = ACCORD_ENOMEM;
        return;
    }
    randombytes_buf(proc_key, crypto_generichash_KEYBYTES);
    sodium_memzero(cache, sizeof(cache_entry) * CACHE_SLOTS);
    pthread_mutex_lock(&lock);
    if (!limits.window_us)
        limits = default_limits;
    pthread_mutex_unlock(&lock);
}

static int ensure_init(accord_error *err)
{
    pthread_once(&once, init_once);
    if (init_rc)
        return accord_err_set(err, init_rc, "auth: libsodium could not be initialised");
    return 0;
}

void auth_limits_set(const auth_limits *l)
{
    pthread_once(&once, init_once);
    pthread_mutex_lock(&lock);
    limits = l ? *l : default_limits;
    memset(limiter, 0, sizeof(limiter));
    if (cache)
        sodium_memzero(cache, sizeof(cache_entry) * CACHE_SLOTS);
    pthread_mutex_unlock(&lock);
}

void auth_test_fast_hash(int on)
{
    atomic_store(&fast_hash, on ? 1 : 0);
    pthread_mutex_lock(&dummy_lock);
    dummy_hash[0] = '\0'; /* recomputed with the new limits */
    pthread_mutex_unlock(&dummy_lock);
}

void auth_counters_get(auth_counters *out)
{
    out->pwhash_verifies = atomic_load(&n_verifies);
    out->ct_compares = atomic_load(&n_compares);
    out->cache_hits = atomic_load(&n_hits);
    out->cache_misses = atomic_load(&n_misses);
    out->limited = atomic_load(&n_limited);
}

static int64_t mono_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* ------------------------------------------------------------------------------------------ */
/* Parsers: pure functions of their input (fuzzed by fuzz/auth.c)                              */

int auth_name_ok(const char *name, size_t len)
{
    if (len == 0 || len > ACCORD_ACCOUNT_NAME_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '@' || c == '-'))
            return 0;
    }
    return 1;
}

static int is_lower_hex(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
            return 0;
    return 1;
}

int auth_parse_token(const char *text, size_t len, char *id_out, unsigned char *secret_out)
{
    char again[AUTH_SECRET_B64 + 1];
    size_t n = 0;
    if (!text || len != AUTH_TOKEN_LEN)
        return ACCORD_EINVAL;
    const char *id = text + AUTH_TOKEN_PREFIX_LEN, *b64 = id + AUTH_ID_HEX + 1, *end = NULL;
    if (memcmp(text, AUTH_TOKEN_PREFIX, AUTH_TOKEN_PREFIX_LEN) != 0 ||
        !is_lower_hex(id, AUTH_ID_HEX) || id[AUTH_ID_HEX] != '_')
        return ACCORD_EINVAL;
    if (sodium_base642bin(secret_out, AUTH_SECRET_BYTES, b64, AUTH_SECRET_B64, NULL, &n, &end,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        n != AUTH_SECRET_BYTES || end != b64 + AUTH_SECRET_B64)
        goto bad;
    /* canonical only: one text per secret, whatever libsodium does with unused bits */
    sodium_bin2base64(again, sizeof(again), secret_out, AUTH_SECRET_BYTES,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    if (memcmp(again, b64, AUTH_SECRET_B64) != 0)
        goto bad;
    memcpy(id_out, id, AUTH_ID_HEX);
    id_out[AUTH_ID_HEX] = '\0';
    return 0;
bad:
    sodium_memzero(secret_out, AUTH_SECRET_BYTES);
    return ACCORD_EINVAL;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

int auth_parse_scheme(const char *value, size_t len, const char **param, size_t *param_len)
{
    size_t i = 0, n;
    while (i < len && is_blank(value[i]))
        i++;
    const char *scheme = value + i;
    while (i < len && !is_blank(value[i]))
        i++;
    n = (size_t)(value + i - scheme);
    while (i < len && is_blank(value[i]))
        i++;
    while (len > i && is_blank(value[len - 1]))
        len--;
    *param = value + i;
    *param_len = len - i;
    if (n == 5 && strncasecmp(scheme, "Basic", 5) == 0)
        return AUTH_SCHEME_BASIC;
    if (n == 6 && strncasecmp(scheme, "Bearer", 6) == 0)
        return AUTH_SCHEME_BEARER;
    return ACCORD_EINVAL;
}

int auth_parse_basic(const char *value, size_t len, char *buf, size_t cap, const char **user,
                     const char **pass)
{
    const char *b64, *end = NULL;
    size_t b64_len, n = 0;
    if (cap < 2 || auth_parse_scheme(value, len, &b64, &b64_len) != AUTH_SCHEME_BASIC ||
        b64_len == 0 || b64_len > AUTH_BASIC_B64_MAX)
        return ACCORD_EINVAL;
    int variant =
        b64_len % 4 ? sodium_base64_VARIANT_ORIGINAL_NO_PADDING : sodium_base64_VARIANT_ORIGINAL;
    if (sodium_base642bin((unsigned char *)buf, cap - 1, b64, b64_len, NULL, &n, &end, variant) ||
        end != b64 + b64_len)
        goto bad;
    buf[n] = '\0';
    char *colon = memchr(buf, ':', n);
    if (!colon || !auth_name_ok(buf, (size_t)(colon - buf)))
        goto bad;
    size_t plen = n - (size_t)(colon - buf) - 1;
    if (plen == 0 || plen > ACCORD_PASSWORD_MAX || memchr(colon + 1, '\0', plen))
        goto bad;
    *colon = '\0';
    *user = buf;
    *pass = colon + 1;
    return 0;
bad:
    sodium_memzero(buf, cap);
    return ACCORD_EINVAL;
}

/* ------------------------------------------------------------------------------------------ */
/* Passwords                                                                                    */

static int password_checked(const char *password, accord_error *err)
{
    size_t n = password ? strlen(password) : 0;
    if (n == 0 || n > ACCORD_PASSWORD_MAX)
        return accord_err_set(err, ACCORD_EINVAL, "a password has 1 to %d bytes",
                              ACCORD_PASSWORD_MAX);
    return 0;
}

/* Hashes password into out (crypto_pwhash_STRBYTES). */
static int hash_password(const char *password, char *out, accord_error *err)
{
    int fast = atomic_load(&fast_hash);
    unsigned long long ops = fast ? crypto_pwhash_OPSLIMIT_MIN : crypto_pwhash_OPSLIMIT_INTERACTIVE;
    size_t mem = fast ? crypto_pwhash_MEMLIMIT_MIN : crypto_pwhash_MEMLIMIT_INTERACTIVE;
    if (crypto_pwhash_str(out, password, strlen(password), ops, mem) != 0)
        return accord_err_set(err, ACCORD_ENOMEM, "auth: out of memory hashing a password");
    return 0;
}

/* Verifies against hash, or against the dummy hash when hash is NULL or "" (then fails). */
static int verify_password(const char *hash, const char *password)
{
    atomic_fetch_add(&n_verifies, 1);
    if (hash && *hash)
        return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
    pthread_mutex_lock(&dummy_lock);
    if (!dummy_hash[0] && hash_password("accord-dummy-password", dummy_hash, NULL) != 0)
        dummy_hash[0] = '\0';
    char copy[crypto_pwhash_STRBYTES];
    memcpy(copy, dummy_hash, sizeof(copy));
    pthread_mutex_unlock(&dummy_lock);
    /* the same work as a real check; its result says nothing (the dummy's password is unknown
     * to the caller), and the check fails regardless */
    volatile int sink = copy[0] ? crypto_pwhash_str_verify(copy, password, strlen(password)) : -1;
    (void)sink;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* The verified-login cache (callers hold `lock`)                                               */

static void cache_key(const store_account_state *st, const char *user, const char *password,
                      unsigned char key[32])
{
    crypto_generichash_state h;
    crypto_generichash_init(&h, proc_key, crypto_generichash_KEYBYTES, 32);
    crypto_generichash_update(&h, (const unsigned char *)st->ident, strlen(st->ident) + 1);
    crypto_generichash_update(&h, (const unsigned char *)user, strlen(user) + 1);
    crypto_generichash_update(&h, (const unsigned char *)password, strlen(password));
    crypto_generichash_final(&h, key, 32);
    sodium_memzero(&h, sizeof(h));
}

static cache_entry *cache_set(const unsigned char key[32])
{
    uint32_t v;
    memcpy(&v, key, sizeof(v));
    return cache + (v % (CACHE_SLOTS / CACHE_WAYS)) * CACHE_WAYS;
}

static int cache_lookup(const unsigned char key[32], int64_t generation, accord_principal *out)
{
    cache_entry *set = cache_set(key);
    int64_t now = mono_us();
    for (int i = 0; i < CACHE_WAYS; i++) {
        cache_entry *e = &set[i];
        if (sodium_memcmp(e->key, key, 32) != 0 || e->expires <= now)
            continue;
        if (e->generation != generation) {
            sodium_memzero(e, sizeof(*e));
            continue;
        }
        memcpy(out->name, e->name, sizeof(out->name));
        out->is_admin = e->is_admin;
        return 1;
    }
    return 0;
}

static void cache_insert(const unsigned char key[32], int64_t generation, const accord_principal *p)
{
    cache_entry *set = cache_set(key), *victim = set;
    for (int i = 0; i < CACHE_WAYS; i++) {
        if (sodium_memcmp(set[i].key, key, 32) == 0) {
            victim = &set[i];
            break;
        }
        if (set[i].expires < victim->expires)
            victim = &set[i];
    }
    memcpy(victim->key, key, 32);
    memcpy(victim->name, p->name, sizeof(victim->name));
    victim->is_admin = p->is_admin;
    victim->generation = generation;
    victim->expires = mono_us() + limits.cache_ttl_us;
}

/* ------------------------------------------------------------------------------------------ */
/* The failed-login limiter (callers hold `lock`)                                               */

/* The limiter key of an account ('u', within store ident) or a client address ('a'). */
static void limit_key(char kind, const char *ident, const char *what, unsigned char key[16])
{
    crypto_generichash_state h;
    crypto_generichash_init(&h, proc_key, crypto_generichash_KEYBYTES, 16);
    crypto_generichash_update(&h, (const unsigned char *)&kind, 1);
    crypto_generichash_update(&h, (const unsigned char *)ident, strlen(ident) + 1);
    crypto_generichash_update(&h, (const unsigned char *)what, strlen(what));
    crypto_generichash_final(&h, key, 16);
}

/* Whether a is a better entry to replace than b: unused, else idle and seen longer ago. */
static int better_victim(const limit_entry *a, const limit_entry *b, int64_t now)
{
    if (!a->used || !b->used)
        return !a->used && b->used;
    int a_held = a->busy || a->locked_until > now, b_held = b->busy || b->locked_until > now;
    if (a_held != b_held)
        return !a_held;
    return a->last_seen < b->last_seen;
}

/* The entry of key, created when absent; its window and lockout count brought up to date. */
static limit_entry *limit_find(const unsigned char key[16], int64_t now)
{
    uint32_t v;
    memcpy(&v, key, sizeof(v));
    limit_entry *set = limiter + (v % (LIMIT_SLOTS / LIMIT_WAYS)) * LIMIT_WAYS, *e = NULL;
    for (int i = 0; i < LIMIT_WAYS && !e; i++)
        if (set[i].used && memcmp(set[i].key, key, 16) == 0)
            e = &set[i];
    if (!e) {
        e = set;
        for (int i = 1; i < LIMIT_WAYS; i++)
            if (better_victim(&set[i], e, now))
                e = &set[i];
        memset(e, 0, sizeof(*e));
        memcpy(e->key, key, 16);
        e->used = 1;
        e->window_start = now;
    }
    if (now - e->window_start > limits.window_us) {
        e->failures = 0;
        e->window_start = now;
    }
    if (e->lockouts && e->locked_until <= now && now - e->locked_until > limits.window_us)
        e->lockouts = 0;
    e->last_seen = now;
    return e;
}

/* 0 when key may try now; else the µs to wait. */
static int64_t limit_wait(const limit_entry *e, uint32_t max, int64_t now)
{
    if (e->locked_until > now)
        return e->locked_until - now;
    if (e->failures + e->busy >= max)
        return 1000000; /* as many checks under way as failures allowed: wait for them */
    return 0;
}

static void limit_failed(limit_entry *e, uint32_t max, int64_t now)
{
    if (++e->failures < max)
        return;
    int64_t lock_us = limits.lock_us;
    for (uint32_t i = 0; i < e->lockouts && lock_us < limits.lock_max_us; i++)
        lock_us *= 2;
    e->lockouts++;
    e->locked_until = now + (lock_us < limits.lock_max_us ? lock_us : limits.lock_max_us);
    e->failures = 0;
    e->window_start = now;
}

/* The keys of one attempt: an account key (password checks) and an address key, each optional. */
typedef struct attempt {
    unsigned char acct[16], addr[16];
    int has_acct, has_addr;
} attempt;

static void attempt_init(attempt *a, const char *ident, const char *user, const char *client)
{
    memset(a, 0, sizeof(*a));
    if (user) {
        limit_key('u', ident, user, a->acct);
        a->has_acct = 1;
    }
    if (client) {
        limit_key('a', "", client, a->addr);
        a->has_addr = 1;
    }
}

/*
 * Starts an attempt: 0 and the keys marked busy, or ACCORD_EBUSY (nothing marked) with the seconds
 * to wait in out->retry_after_s.
 */
static int attempt_begin(const attempt *a, accord_principal *out, accord_error *err)
{
    pthread_mutex_lock(&lock);
    int64_t now = mono_us(), wait = 0, w;
    limit_entry *ea = a->has_acct ? limit_find(a->acct, now) : NULL;
    limit_entry *ed = a->has_addr ? limit_find(a->addr, now) : NULL;
    if (ea && (w = limit_wait(ea, limits.account_max, now)) > wait)
        wait = w;
    if (ed && (w = limit_wait(ed, limits.address_max, now)) > wait)
        wait = w;
    if (!wait) {
        if (ea)
            ea->busy++;
        if (ed)
            ed->busy++;
    }
    pthread_mutex_unlock(&lock);
    if (!wait)
        return 0;
    atomic_fetch_add(&n_limited, 1);
    out->retry_after_s = (wait + 999999) / 1000000;
    return accord_err_set(err, ACCORD_EBUSY, "too many failed logins; retry in %lld s",
                          (long long)out->retry_after_s);
}

/* Ends an attempt: outcome 1 success, 0 failure, -1 not decided (a store error). */
static void attempt_end(const attempt *a, int outcome)
{
    pthread_mutex_lock(&lock);
    int64_t now = mono_us();
    limit_entry *ea = a->has_acct ? limit_find(a->acct, now) : NULL;
    limit_entry *ed = a->has_addr ? limit_find(a->addr, now) : NULL;
    if (ea && ea->busy)
        ea->busy--;
    if (ed && ed->busy)
        ed->busy--;
    if (outcome == 0 && ea)
        limit_failed(ea, limits.account_max, now);
    if (outcome == 0 && ed)
        limit_failed(ed, limits.address_max, now);
    if (outcome == 1 && ea) {
        ea->failures = 0;
        ea->lockouts = 0;
    }
    pthread_mutex_unlock(&lock);
}

/* ------------------------------------------------------------------------------------------ */
/* Checks                                                                                       */

static int unauthenticated(accord_error *err)
{
    return accord_err_set(err, ACCORD_EINVAL, "authentication failed");
}

/* Checks user/password against the store (cache miss path): 1 ok, 0 wrong, < 0 store error. */
static int basic_verify(accord_store *s, const char *user, const char *password,
                        accord_principal *out, accord_error *err)
{
    store_account_row row;
    int rc = store_account_get(s, user, &row, err);
    if (rc && rc != ACCORD_ENOTFOUND)
        return rc;
    int usable = !rc && row.pwhash[0] && !row.disabled;
    int ok = verify_password(usable ? row.pwhash : NULL, password) && usable;
    if (ok) {
        memcpy(out->name, row.name, sizeof(out->name));
        out->is_admin = row.is_admin;
    }
    sodium_memzero(&row, sizeof(row));
    return ok;
}

int accord_auth_basic(accord_store *s, const char *user, const char *password,
                      const char *client_addr, accord_principal *out, accord_error *err)
{
    store_account_state st;
    attempt a;
    unsigned char key[32];
    memset(out, 0, sizeof(*out));
    int rc = ensure_init(err);
    if (rc || (rc = store_account_state_get(s, &st, err)))
        return rc;
    int valid = user && password && auth_name_ok(user, strlen(user)) && *password &&
                strlen(password) <= ACCORD_PASSWORD_MAX;
    attempt_init(&a, st.ident, valid ? user : NULL, client_addr);
    if ((rc = attempt_begin(&a, out, err)))
        return rc;
    int ok = 0;
    if (valid) {
        pthread_mutex_lock(&lock);
        cache_key(&st, user, password, key);
        ok = cache_lookup(key, st.generation, out);
        pthread_mutex_unlock(&lock);
        atomic_fetch_add(ok ? &n_hits : &n_misses, 1);
    }
    if (valid && !ok && (ok = basic_verify(s, user, password, out, err)) == 1) {
        pthread_mutex_lock(&lock);
        cache_insert(key, st.generation, out);
        pthread_mutex_unlock(&lock);
    }
    sodium_memzero(key, sizeof(key));
    attempt_end(&a, ok < 0 ? -1 : ok);
    if (ok < 0)
        return ok;
    return ok ? 0 : unauthenticated(err);
}

/* Whether a token row accepts the presented secret, comparing in constant time. */
static int token_matches(const store_token_row *row, int found, const unsigned char *secret)
{
    static const unsigned char zero[AUTH_HASH_BYTES];
    unsigned char h[AUTH_HASH_BYTES];
    crypto_generichash(h, sizeof(h), secret, AUTH_SECRET_BYTES, NULL, 0);
    atomic_fetch_add(&n_compares, 1);
    int same = sodium_memcmp(h, found ? row->hash : zero, AUTH_HASH_BYTES) == 0;
    sodium_memzero(h, sizeof(h));
    int64_t now = ts_now_us();
    return found && same && !row->revoked_us && !row->disabled &&
           (!row->expires_us || now < row->expires_us);
}

/* accord_auth_bearer on a token text of len bytes. */
static int bearer_check(accord_store *s, const char *text, size_t len, const char *client_addr,
                        accord_principal *out, accord_error *err)
{
    attempt a;
    char id[AUTH_ID_HEX + 1];
    unsigned char secret[AUTH_SECRET_BYTES];
    store_token_row row;
    memset(out, 0, sizeof(*out));
    int rc = ensure_init(err);
    if (rc)
        return rc;
    attempt_init(&a, "", NULL, client_addr);
    if ((rc = attempt_begin(&a, out, err)))
        return rc;
    int ok = 0;
    if (text && auth_parse_token(text, len, id, secret) == 0) {
        rc = store_account_token_get(s, id, &row, err);
        if (rc && rc != ACCORD_ENOTFOUND)
            ok = -1;
        else if ((ok = token_matches(&row, rc == 0, secret))) {
            memcpy(out->name, row.account, sizeof(out->name));
            out->is_admin = row.is_admin;
        }
        sodium_memzero(secret, sizeof(secret));
        sodium_memzero(&row, sizeof(row));
    }
    attempt_end(&a, ok);
    if (ok < 0)
        return rc;
    return ok ? 0 : unauthenticated(err);
}

int accord_auth_bearer(accord_store *s, const char *token, const char *client_addr,
                       accord_principal *out, accord_error *err)
{
    return bearer_check(s, token, token ? strlen(token) : 0, client_addr, out, err);
}

int accord_auth_header(accord_store *s, const char *header_value, const char *client_addr,
                       accord_principal *out, accord_error *err)
{
    const char *param, *user, *pass;
    size_t len, vlen = header_value ? strlen(header_value) : 0;
    int rc = ensure_init(err);
    if (rc)
        return rc;
    int scheme = header_value ? auth_parse_scheme(header_value, vlen, &param, &len) : 0;
    if (scheme == AUTH_SCHEME_BEARER)
        return bearer_check(s, param, len, client_addr, out, err);
    if (scheme != AUTH_SCHEME_BASIC) {
        memset(out, 0, sizeof(*out));
        return unauthenticated(err);
    }
    char *buf = sodium_malloc(AUTH_BASIC_MAX + 1);
    if (!buf)
        return accord_err_set(err, ACCORD_ENOMEM, "auth: out of memory");
    if (auth_parse_basic(header_value, vlen, buf, AUTH_BASIC_MAX + 1, &user, &pass) == 0)
        rc = accord_auth_basic(s, user, pass, client_addr, out, err);
    else /* malformed credentials count as a failure of the address */
        rc = accord_auth_basic(s, NULL, NULL, client_addr, out, err);
    sodium_free(buf);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Changes                                                                                      */

static int name_checked(const char *name, accord_error *err)
{
    if (name && auth_name_ok(name, strlen(name)))
        return 0;
    return accord_err_set(err, ACCORD_EINVAL,
                          "account name \"%.80s\": use 1 to 64 of A-Z, a-z, 0-9, '.', '_', '@' "
                          "and '-'",
                          name ? name : "");
}

int accord_account_add(accord_store *s, const char *name, const char *password, int is_admin,
                       accord_error *err)
{
    char *hash = NULL;
    int rc = ensure_init(err);
    if (!rc)
        rc = name_checked(name, err);
    if (!rc && password)
        rc = password_checked(password, err);
    if (!rc && password && !(hash = sodium_malloc(crypto_pwhash_STRBYTES)))
        rc = accord_err_set(err, ACCORD_ENOMEM, "auth: out of memory");
    if (!rc && password)
        rc = hash_password(password, hash, err);
    if (!rc && !(rc = store_account_begin(s, err))) {
        rc = store_account_insert(s, name, hash, is_admin, err);
        rc = store_account_end(s, rc, "account-add", name,
                               is_admin ? (hash ? "admin, password" : "admin, token-only")
                                        : (hash ? "password" : "token-only"),
                               err);
    }
    sodium_free(hash);
    return rc;
}

int accord_account_set_password(accord_store *s, const char *name, const char *password,
                                accord_error *err)
{
    char *hash = NULL;
    int rc = ensure_init(err);
    if (!rc)
        rc = name_checked(name, err);
    if (!rc && password)
        rc = password_checked(password, err);
    if (!rc && password && !(hash = sodium_malloc(crypto_pwhash_STRBYTES)))
        rc = accord_err_set(err, ACCORD_ENOMEM, "auth: out of memory");
    if (!rc && password)
        rc = hash_password(password, hash, err);
    if (!rc && !(rc = store_account_begin(s, err))) {
        rc = store_account_set_pwhash(s, name, hash, err);
        rc = store_account_end(s, rc, "account-password", name,
                               hash ? "password set" : "password removed: token-only", err);
    }
    sodium_free(hash);
    return rc;
}

/* A new token: its text into text (AUTH_TOKEN_LEN + 1), id, and the hash of its secret. */
static int token_make(char *text, char id[AUTH_ID_HEX + 1], unsigned char hash[AUTH_HASH_BYTES],
                      accord_error *err)
{
    unsigned char idb[AUTH_ID_BYTES];
    unsigned char *secret = sodium_malloc(AUTH_SECRET_BYTES);
    if (!secret)
        return accord_err_set(err, ACCORD_ENOMEM, "auth: out of memory");
    randombytes_buf(idb, sizeof(idb));
    randombytes_buf(secret, AUTH_SECRET_BYTES);
    sodium_bin2hex(id, AUTH_ID_HEX + 1, idb, sizeof(idb));
    memcpy(text, AUTH_TOKEN_PREFIX, AUTH_TOKEN_PREFIX_LEN);
    memcpy(text + AUTH_TOKEN_PREFIX_LEN, id, AUTH_ID_HEX);
    text[AUTH_TOKEN_PREFIX_LEN + AUTH_ID_HEX] = '_';
    sodium_bin2base64(text + AUTH_TOKEN_PREFIX_LEN + AUTH_ID_HEX + 1, AUTH_SECRET_B64 + 1, secret,
                      AUTH_SECRET_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    crypto_generichash(hash, AUTH_HASH_BYTES, secret, AUTH_SECRET_BYTES, NULL, 0);
    sodium_free(secret);
    return 0;
}

/* Creates a token inside an open transaction; detail receives the audit line. */
static int token_insert_new(accord_store *s, const char *account, int64_t expires_us,
                            char *token_out, char id[AUTH_ID_HEX + 1], char *detail,
                            size_t detail_len, accord_error *err)
{
    unsigned char hash[AUTH_HASH_BYTES];
    char when[32] = "never";
    int rc = token_make(token_out, id, hash, err);
    if (!rc)
        rc = store_account_token_insert(s, id, account, hash, expires_us, err);
    if (expires_us)
        ts_format_us(expires_us, when, sizeof(when));
    snprintf(detail, detail_len, "account %s, expires %s", account, when);
    sodium_memzero(hash, sizeof(hash));
    return rc;
}

int accord_token_create(accord_store *s, const char *account, int64_t expires_us, char *token_out,
                        size_t len, char *id_out, accord_error *err)
{
    char id[AUTH_ID_HEX + 1] = "", detail[160];
    int rc = ensure_init(err);
    if (!rc)
        rc = name_checked(account, err);
    if (!rc && (!token_out || len < ACCORD_TOKEN_BUFLEN))
        rc = accord_err_set(err, ACCORD_ELIMIT, "token: the output buffer needs %d bytes",
                            ACCORD_TOKEN_BUFLEN);
    if (!rc && expires_us && (expires_us < 0 || expires_us <= ts_now_us()))
        rc = accord_err_set(err, ACCORD_EINVAL, "token: the expiry is in the past");
    if (rc || (rc = store_account_begin(s, err)))
        return rc;
    rc = token_insert_new(s, account, expires_us, token_out, id, detail, sizeof(detail), err);
    rc = store_account_end(s, rc, "token-create", id, detail, err);
    if (rc)
        sodium_memzero(token_out, len);
    else if (id_out)
        memcpy(id_out, id, sizeof(id));
    return rc;
}

int accord_account_bootstrap(accord_store *s, char *token_out, size_t len, int *created,
                             accord_error *err)
{
    char id[AUTH_ID_HEX + 1] = "", detail[160];
    int64_t n = 0;
    *created = 0;
    int rc = ensure_init(err);
    if (!rc && (!token_out || len < ACCORD_TOKEN_BUFLEN))
        rc = accord_err_set(err, ACCORD_ELIMIT, "token: the output buffer needs %d bytes",
                            ACCORD_TOKEN_BUFLEN);
    if (rc || (rc = store_account_begin(s, err)))
        return rc;
    rc = store_account_count(s, &n, err);
    if (!rc && n > 0) { /* nothing to do: end the transaction without writing */
        store_account_abort(s);
        return 0;
    }
    if (!rc)
        rc = store_account_insert(s, "admin", NULL, 1, err);
    if (!rc)
        rc = store_audit(s, "account-add", 0, "admin", "admin, token-only (first start)", err);
    if (!rc)
        rc = token_insert_new(s, "admin", 0, token_out, id, detail, sizeof(detail), err);
    rc = store_account_end(s, rc, "token-create", id, detail, err);
    if (rc)
        sodium_memzero(token_out, len);
    else
        *created = 1;
    return rc;
}
