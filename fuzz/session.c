/*
 * fuzz/session.c - libFuzzer target for the header parsers of the console's sessions
 * (src/session.c): the Cookie header (session_cookie_find), the Origin check
 * (session_origin_ok, against a Host header and a public URL taken from the input too), the
 * session id shape and the CSRF comparison.  Pure functions: no table, no store.
 *
 * Besides memory errors it traps when a promise the server relies on is broken:
 *   - a found cookie value lies inside the header and holds no ';';
 *   - an Origin accepted is exactly "SCHEME://" + the Host (any case) or the public URL's origin;
 *   - session_csrf_ok accepts only the session's own token;
 *   - times read back from the store (the input's first 24 bytes as three int64) never overflow
 *     session_expired, and a session restored with them is found exactly when they are live;
 *   - parsing is deterministic.
 *
 * Without ACCORD_FUZZ this file is linked with fuzz/replay.c, which runs it on every file of
 * fuzz/corpus/session/.
 */
#include "session.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define INPUT_MAX 8192

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_cookie(const char *h, size_t len)
{
    const char *v, *v2;
    size_t n, n2;
    int found = session_cookie_find(h, len, SESSION_COOKIE, &v, &n);
    if (found != session_cookie_find(h, len, SESSION_COOKIE, &v2, &n2))
        __builtin_trap();
    if (!found)
        return;
    if (v != v2 || n != n2 || v < h || v + n > h + len || memchr(v, ';', n))
        __builtin_trap();
    if (session_token_shape(v, n) && n != SESSION_TOKEN_LEN)
        __builtin_trap();
}

/* input split at the first two NULs: origin, host, public URL */
static void check_origin(const char *p, size_t len)
{
    char *copy = malloc(len + 3);
    if (!copy)
        return;
    memcpy(copy, p, len);
    copy[len] = copy[len + 1] = copy[len + 2] = '\0';
    const char *origin = copy;
    const char *host = origin + strlen(origin) + 1;
    const char *pub = host + strlen(host) + 1;
    if (pub > copy + len)
        pub = NULL;
    if (host > copy + len)
        host = "";
    int ok = session_origin_ok(origin, "https", host, pub);
    if (ok != session_origin_ok(origin, "https", host, pub))
        __builtin_trap();
    if (ok) {
        int via_host = strncmp(origin, "https://", 8) == 0 && *host &&
                       strcasecmp(origin + 8, host) == 0;
        int via_pub = 0;
        if (pub) {
            const char *sep = strstr(pub, "://");
            if (sep) {
                size_t slen = (size_t)(sep - pub), hlen = strcspn(sep + 3, "/");
                via_pub = strncmp(origin, pub, slen + 3) == 0 && strlen(origin) == slen + 3 + hlen &&
                          hlen > 0 && strncasecmp(origin + slen + 3, sep + 3, hlen) == 0;
            }
        }
        if (!via_host && !via_pub)
            __builtin_trap();
    }
    free(copy);
}

static void check_csrf(const char *p, size_t len)
{
    session_info si;
    memset(&si, 0, sizeof(si));
    memcpy(si.csrf, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFG", SESSION_TOKEN_LEN);
    char *copy = malloc(len + 1);
    if (!copy)
        return;
    memcpy(copy, p, len);
    copy[len] = '\0';
    if (session_csrf_ok(&si, copy) && strcmp(copy, si.csrf) != 0)
        __builtin_trap();
    free(copy);
}

static void check_restore(const uint8_t *p, size_t len)
{
    static session_table *t;
    int64_t v[3];
    if (len < sizeof(v))
        return;
    memcpy(v, p, sizeof(v));
    if (!t && !(t = session_table_new()))
        return;
    static const char id[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFG";
    session_destroy(t, id, SESSION_TOKEN_LEN);
    int live = !session_expired(v[0], v[1], v[2]);
    int rc = session_restore(t, id, SESSION_TOKEN_LEN, "analyst", v[0], v[1], v[2]);
    session_info si;
    if ((rc == 0) != live || (live && session_lookup(t, id, SESSION_TOKEN_LEN, v[2], &si) != 0))
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > INPUT_MAX)
        size = INPUT_MAX;
    const char *p = (const char *)data;
    check_cookie(p, size);
    check_origin(p, size);
    check_csrf(p, size);
    check_restore(data, size);
    return 0;
}
