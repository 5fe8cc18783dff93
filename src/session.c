/*
 * session.c - the console's browser sessions and the parsers of the headers they use (see
 * session.h).
 *
 * The table is a fixed array searched linearly under one mutex: at most SESSION_MAX sessions,
 * each a 32-byte BLAKE2b hash of its id compared with sodium_memcmp, so that neither a timing
 * difference nor a copy of the server's memory gives a usable id away.  Browsers hold a few
 * hundred sessions at most; a scan of the array costs microseconds.
 *
 * The CSRF token is BLAKE2b of the id keyed with a constant naming its purpose: a session
 * brought back from the store after a restart has the same token as before, and the store
 * needs to keep only the id's (unkeyed) hash.
 */
#include "session.h"
#include "auth.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HASH_BYTES SESSION_HASH_LEN
#define CSRF_KEY "accord console CSRF token v1" /* domain separation, not a secret */

typedef struct entry {
    unsigned char hash[HASH_BYTES];
    char account[ACCORD_ACCOUNT_NAME_MAX + 1];
    char csrf[SESSION_TOKEN_LEN + 1];
    int64_t created_us, used_us;
    int64_t persisted_us; /* the last use written to the store (or the login) */
    int used;             /* 1 = the slot holds a session */
} entry;

struct session_table {
    pthread_mutex_t lock;
    entry v[SESSION_MAX];
};

session_table *session_table_new(void)
{
    if (sodium_init() < 0)
        return NULL;
    session_table *t = calloc(1, sizeof(*t));
    if (t)
        pthread_mutex_init(&t->lock, NULL);
    return t;
}

void session_table_free(session_table *t)
{
    if (!t)
        return;
    pthread_mutex_destroy(&t->lock);
    sodium_memzero(t, sizeof(*t));
    free(t);
}

static void random_token(char out[SESSION_TOKEN_LEN + 1])
{
    unsigned char raw[32];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(out, SESSION_TOKEN_LEN + 1, raw, sizeof(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof(raw));
}

void session_id_hash(const char *id, size_t len, unsigned char out[HASH_BYTES])
{
    crypto_generichash(out, HASH_BYTES, (const unsigned char *)id, len, NULL, 0);
}

/* The CSRF token of the session id (len bytes). */
static void csrf_of(const char *id, size_t len, char out[SESSION_TOKEN_LEN + 1])
{
    unsigned char raw[32];
    crypto_generichash(raw, sizeof(raw), (const unsigned char *)id, len,
                       (const unsigned char *)CSRF_KEY, sizeof(CSRF_KEY) - 1);
    sodium_bin2base64(out, SESSION_TOKEN_LEN + 1, raw, sizeof(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof(raw));
}

int session_expired(int64_t created_us, int64_t used_us, int64_t now_us)
{
    /* times read back from the store are outside numbers: differences taken unsigned, after
       checking their order, cannot overflow */
    if (now_us < created_us || used_us < created_us)
        return 1;
    if ((uint64_t)now_us - (uint64_t)created_us >= (uint64_t)SESSION_MAX_US)
        return 1;
    return now_us >= used_us && (uint64_t)now_us - (uint64_t)used_us >= (uint64_t)SESSION_IDLE_US;
}

static int expired(const entry *e, int64_t now_us)
{
    return session_expired(e->created_us, e->used_us, now_us);
}

/* t + d, or INT64_MAX when that would not fit (times restored from the store are outside
 * numbers). */
static int64_t add_sat(int64_t t, int64_t d)
{
    return t > INT64_MAX - d ? INT64_MAX : t + d;
}

static int64_t expiry(const entry *e)
{
    int64_t idle = add_sat(e->used_us, SESSION_IDLE_US),
            max = add_sat(e->created_us, SESSION_MAX_US);
    return idle < max ? idle : max;
}

/* Stores a session in a free or expired slot, else the one used least recently; called with
 * the lock held. */
static void put(session_table *t, const char *id, const char *account, int64_t created_us,
                int64_t used_us, int64_t now_us)
{
    entry *slot = NULL;
    for (size_t i = 0; i < SESSION_MAX; i++) {
        entry *e = &t->v[i];
        if (!e->used || expired(e, now_us)) {
            slot = e;
            break;
        }
        if (!slot || e->used_us < slot->used_us)
            slot = e;
    }
    memset(slot, 0, sizeof(*slot));
    session_id_hash(id, SESSION_TOKEN_LEN, slot->hash);
    memcpy(slot->account, account, strlen(account) + 1);
    csrf_of(id, SESSION_TOKEN_LEN, slot->csrf);
    slot->created_us = created_us;
    slot->used_us = slot->persisted_us = used_us;
    slot->used = 1;
}

int session_create(session_table *t, const char *account, int64_t now_us,
                   char id_out[SESSION_TOKEN_LEN + 1], char csrf_out[SESSION_TOKEN_LEN + 1])
{
    if (!account || !auth_name_ok(account, strlen(account)))
        return ACCORD_EINVAL;
    random_token(id_out);
    csrf_of(id_out, SESSION_TOKEN_LEN, csrf_out);
    pthread_mutex_lock(&t->lock);
    put(t, id_out, account, now_us, now_us, now_us);
    pthread_mutex_unlock(&t->lock);
    return 0;
}

/* The slot holding the id; called with the lock held. */
static entry *find(session_table *t, const char *id, size_t len)
{
    if (!session_token_shape(id, len))
        return NULL;
    unsigned char h[HASH_BYTES];
    session_id_hash(id, len, h);
    for (size_t i = 0; i < SESSION_MAX; i++)
        if (t->v[i].used && sodium_memcmp(t->v[i].hash, h, HASH_BYTES) == 0)
            return &t->v[i];
    return NULL;
}

int session_lookup(session_table *t, const char *id, size_t len, int64_t now_us, session_info *out)
{
    int rc = ACCORD_ENOTFOUND;
    pthread_mutex_lock(&t->lock);
    entry *e = find(t, id, len);
    if (e && expired(e, now_us)) {
        sodium_memzero(e, sizeof(*e));
    } else if (e) {
        e->used_us = now_us;
        memcpy(out->account, e->account, sizeof(out->account));
        memcpy(out->csrf, e->csrf, sizeof(out->csrf));
        out->expires_us = expiry(e);
        out->created_us = e->created_us;
        out->used_us = now_us;
        out->persist_due =
            now_us < e->persisted_us ||
            (uint64_t)now_us - (uint64_t)e->persisted_us >= (uint64_t)SESSION_PERSIST_US;
        if (out->persist_due)
            e->persisted_us = now_us;
        rc = 0;
    }
    pthread_mutex_unlock(&t->lock);
    return rc;
}

int session_restore(session_table *t, const char *id, size_t len, const char *account,
                    int64_t created_us, int64_t used_us, int64_t now_us)
{
    if (!session_token_shape(id, len) || !account || !auth_name_ok(account, strlen(account)))
        return ACCORD_EINVAL;
    if (session_expired(created_us, used_us, now_us))
        return ACCORD_ENOTFOUND;
    pthread_mutex_lock(&t->lock);
    if (!find(t, id, len))
        put(t, id, account, created_us, used_us, now_us);
    pthread_mutex_unlock(&t->lock);
    return 0;
}

int session_destroy(session_table *t, const char *id, size_t len)
{
    pthread_mutex_lock(&t->lock);
    entry *e = find(t, id, len);
    if (e)
        sodium_memzero(e, sizeof(*e));
    pthread_mutex_unlock(&t->lock);
    return e ? 0 : ACCORD_ENOTFOUND;
}

size_t session_count(session_table *t)
{
    size_t n = 0;
    pthread_mutex_lock(&t->lock);
    for (size_t i = 0; i < SESSION_MAX; i++)
        n += t->v[i].used != 0;
    pthread_mutex_unlock(&t->lock);
    return n;
}

/* ------------------------------------------------------------------------------------------ */
/* Parsers                                                                                      */

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

int session_cookie_find(const char *header, size_t len, const char *name, const char **val,
                        size_t *vlen)
{
    size_t nlen = strlen(name);
    size_t i = 0;
    while (i < len) {
        while (i < len && (is_ows(header[i]) || header[i] == ';'))
            i++;
        size_t start = i;
        while (i < len && header[i] != ';')
            i++;
        /* one "name=value" pair in [start, i) */
        const char *p = header + start;
        size_t plen = i - start;
        while (plen && is_ows(p[plen - 1]))
            plen--;
        const char *eq = memchr(p, '=', plen);
        if (!eq)
            continue;
        size_t klen = (size_t)(eq - p);
        while (klen && is_ows(p[klen - 1]))
            klen--;
        if (klen != nlen || memcmp(p, name, nlen) != 0)
            continue;
        const char *v = eq + 1;
        size_t n = plen - (size_t)(v - p);
        while (n && is_ows(*v)) {
            v++;
            n--;
        }
        if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
            v++;
            n -= 2;
        }
        *val = v;
        *vlen = n;
        return 1;
    }
    return 0;
}

int session_token_shape(const char *text, size_t len)
{
    if (len != SESSION_TOKEN_LEN)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

int session_method_unsafe(const char *method)
{
    return !method || (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 &&
                       strcmp(method, "OPTIONS") != 0);
}

/* 1 when origin is exactly prefix followed by rest (case-insensitive), nothing after. */
static int origin_is(const char *origin, const char *scheme, const char *host, size_t hlen)
{
    size_t slen = strlen(scheme);
    if (strncmp(origin, scheme, slen) != 0 || strncmp(origin + slen, "://", 3) != 0)
        return 0;
    const char *o = origin + slen + 3;
    return strlen(o) == hlen && hlen > 0 && strncasecmp(o, host, hlen) == 0;
}

int session_origin_ok(const char *origin, const char *scheme, const char *host,
                      const char *public_url)
{
    if (!origin || !*origin || strcmp(origin, "null") == 0)
        return 0;
    if (host && scheme && origin_is(origin, scheme, host, strlen(host)))
        return 1;
    if (public_url) {
        const char *sep = strstr(public_url, "://");
        if (!sep || (size_t)(sep - public_url) > 8)
            return 0;
        char scheme2[9];
        memcpy(scheme2, public_url, (size_t)(sep - public_url));
        scheme2[sep - public_url] = '\0';
        const char *h = sep + 3;
        return origin_is(origin, scheme2, h, strcspn(h, "/")); /* the origin has no path */
    }
    return 0;
}

int session_csrf_ok(const session_info *s, const char *header)
{
    if (!header || strlen(header) != SESSION_TOKEN_LEN || strlen(s->csrf) != SESSION_TOKEN_LEN)
        return 0;
    return sodium_memcmp(header, s->csrf, SESSION_TOKEN_LEN) == 0;
}
