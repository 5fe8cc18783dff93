/*
 * test_session.c - the console's sessions (src/session.c): create, look up, expire, log out,
 * eviction when full, a session brought back after a restart (same CSRF token, same limits,
 * times from outside never overflowing), the once-a-minute write of its use, and the header
 * parsers (Cookie, Origin, CSRF token, methods).
 */
#include "session.h"
#include "t.h"

#include <stdint.h>

#define SEC 1000000LL

static void test_lifecycle(void)
{
    session_table *t = session_table_new();
    CHECK(t != NULL);
    char id[SESSION_TOKEN_LEN + 1], csrf[SESSION_TOKEN_LEN + 1];
    char id2[SESSION_TOKEN_LEN + 1], csrf2[SESSION_TOKEN_LEN + 1];
    int64_t now = 1000 * SEC;
    CHECK(session_create(t, "analyst", now, id, csrf) == 0);
    CHECK(session_create(t, "other", now, id2, csrf2) == 0);
    CHECK(strlen(id) == SESSION_TOKEN_LEN && session_token_shape(id, strlen(id)));
    CHECK(strcmp(id, id2) != 0 && strcmp(id, csrf) != 0);
    CHECK(session_create(t, "bad name!", now, id2, csrf2) == ACCORD_EINVAL);
    CHECK(session_create(t, "", now, id2, csrf2) == ACCORD_EINVAL);

    session_info si;
    CHECK(session_lookup(t, id, strlen(id), now + SEC, &si) == 0);
    CHECK_STR(si.account, "analyst");
    CHECK_STR(si.csrf, csrf);
    CHECK(si.expires_us == now + SEC + SESSION_IDLE_US);
    CHECK(session_csrf_ok(&si, csrf));
    CHECK(!session_csrf_ok(&si, csrf2));
    CHECK(!session_csrf_ok(&si, NULL));
    CHECK(!session_csrf_ok(&si, ""));
    char shorter[SESSION_TOKEN_LEN + 1];
    memcpy(shorter, csrf, sizeof(shorter));
    shorter[SESSION_TOKEN_LEN - 1] = '\0';
    CHECK(!session_csrf_ok(&si, shorter));

    /* a wrong id, a truncated one, one with a changed character */
    char wrong[SESSION_TOKEN_LEN + 1];
    memcpy(wrong, id, sizeof(wrong));
    wrong[5] = wrong[5] == 'A' ? 'B' : 'A';
    CHECK(session_lookup(t, wrong, SESSION_TOKEN_LEN, now, &si) == ACCORD_ENOTFOUND);
    CHECK(session_lookup(t, id, SESSION_TOKEN_LEN - 1, now, &si) == ACCORD_ENOTFOUND);
    CHECK(session_lookup(t, "", 0, now, &si) == ACCORD_ENOTFOUND);

    /* idle expiry restarts on use; the absolute limit does not */
    int64_t at = now;
    for (int i = 0; i < 30; i++) {
        at += SESSION_IDLE_US - SEC;
        if (at - now >= SESSION_MAX_US)
            break;
        CHECK(session_lookup(t, id, SESSION_TOKEN_LEN, at, &si) == 0);
    }
    CHECK(session_lookup(t, id, SESSION_TOKEN_LEN, now + SESSION_MAX_US, &si) == ACCORD_ENOTFOUND);
    /* unused for the idle time: gone */
    CHECK(session_lookup(t, id2, SESSION_TOKEN_LEN, now + SESSION_IDLE_US, &si) ==
          ACCORD_ENOTFOUND);
    /* a clock that went back does not extend a session */
    CHECK(session_create(t, "analyst", now, id, csrf) == 0);
    CHECK(session_lookup(t, id, SESSION_TOKEN_LEN, now - SEC, &si) == ACCORD_ENOTFOUND);

    /* logout */
    CHECK(session_create(t, "analyst", now, id, csrf) == 0);
    CHECK(session_destroy(t, id, SESSION_TOKEN_LEN) == 0);
    CHECK(session_lookup(t, id, SESSION_TOKEN_LEN, now, &si) == ACCORD_ENOTFOUND);
    CHECK(session_destroy(t, id, SESSION_TOKEN_LEN) == ACCORD_ENOTFOUND);
    session_table_free(t);
}

static void test_full_table(void)
{
    session_table *t = session_table_new();
    char first[SESSION_TOKEN_LEN + 1], csrf[SESSION_TOKEN_LEN + 1], id[SESSION_TOKEN_LEN + 1];
    int64_t now = 5000 * SEC;
    CHECK(session_create(t, "first", now, first, csrf) == 0);
    for (int i = 1; i < SESSION_MAX; i++)
        session_create(t, "many", now + i, id, csrf);
    CHECK(session_count(t) == SESSION_MAX);
    session_info si;
    CHECK(session_lookup(t, first, SESSION_TOKEN_LEN, now + SESSION_MAX, &si) == 0);
    /* full: the least recently used goes (not "first", just used) */
    CHECK(session_create(t, "newest", now + SESSION_MAX + 1, id, csrf) == 0);
    CHECK(session_count(t) == SESSION_MAX);
    CHECK(session_lookup(t, first, SESSION_TOKEN_LEN, now + SESSION_MAX + 2, &si) == 0);
    CHECK(session_lookup(t, id, SESSION_TOKEN_LEN, now + SESSION_MAX + 2, &si) == 0);
    CHECK_STR(si.account, "newest");
    session_table_free(t);
}

static void test_restore(void)
{
    session_table *t = session_table_new(), *t2 = session_table_new();
    char id[SESSION_TOKEN_LEN + 1], csrf[SESSION_TOKEN_LEN + 1];
    int64_t now = 9000 * SEC;
    CHECK(session_create(t, "analyst", now, id, csrf) == 0);
    session_info si;
    /* written at login: not due again until SESSION_PERSIST_US later */
    CHECK(session_lookup(t, id, SESSION_TOKEN_LEN, now + SEC, &si) == 0 && !si.persist_due);
    CHECK(si.created_us == now && si.used_us == now + SEC);
    CHECK(session_lookup(t, id, SESSION_TOKEN_LEN, now + SESSION_PERSIST_US, &si) == 0 &&
          si.persist_due);
    CHECK(session_lookup(t, id, SESSION_TOKEN_LEN, now + SESSION_PERSIST_US + SEC, &si) == 0 &&
          !si.persist_due);

    /* "restart": a new table gets it back from what the store kept, with the same token */
    int64_t later = now + 10 * 60 * SEC;
    CHECK(session_lookup(t2, id, SESSION_TOKEN_LEN, later, &si) == ACCORD_ENOTFOUND);
    CHECK(session_restore(t2, id, SESSION_TOKEN_LEN, "analyst", now, now + SESSION_PERSIST_US,
                          later) == 0);
    CHECK(session_lookup(t2, id, SESSION_TOKEN_LEN, later, &si) == 0);
    CHECK_STR(si.account, "analyst");
    CHECK_STR(si.csrf, csrf);
    CHECK(si.created_us == now);
    /* restoring again changes nothing; a different id is another session */
    CHECK(session_restore(t2, id, SESSION_TOKEN_LEN, "other", now, now, later) == 0);
    CHECK(session_lookup(t2, id, SESSION_TOKEN_LEN, later, &si) == 0);
    CHECK_STR(si.account, "analyst");
    CHECK(session_count(t2) == 1);
    /* the absolute limit still counts from the login */
    CHECK(session_lookup(t2, id, SESSION_TOKEN_LEN, now + SESSION_MAX_US, &si) == ACCORD_ENOTFOUND);

    /* what the store says cannot bring back an expired or malformed session */
    session_table *t3 = session_table_new();
    CHECK(session_restore(t3, id, SESSION_TOKEN_LEN, "analyst", now, now, now + SESSION_IDLE_US) ==
          ACCORD_ENOTFOUND);
    CHECK(session_restore(t3, id, SESSION_TOKEN_LEN, "analyst", now, now, now + SESSION_MAX_US) ==
          ACCORD_ENOTFOUND);
    CHECK(session_restore(t3, id, SESSION_TOKEN_LEN, "analyst", now + SEC, now, now + SEC) ==
          ACCORD_ENOTFOUND); /* used before its login */
    CHECK(session_restore(t3, id, SESSION_TOKEN_LEN, "analyst", now + SEC, now + SEC, now) ==
          ACCORD_ENOTFOUND); /* a login after now */
    CHECK(session_restore(t3, id, SESSION_TOKEN_LEN - 1, "analyst", now, now, now) ==
          ACCORD_EINVAL);
    CHECK(session_restore(t3, id, SESSION_TOKEN_LEN, "bad name!", now, now, now) == ACCORD_EINVAL);
    CHECK(session_count(t3) == 0);
    /* extreme times (a damaged row): expired, and no signed overflow */
    CHECK(session_expired(INT64_MIN, INT64_MIN, INT64_MAX));
    CHECK(session_expired(INT64_MIN, INT64_MAX, INT64_MAX));
    CHECK(session_expired(INT64_MAX, INT64_MAX, INT64_MIN));
    CHECK(session_expired(0, INT64_MAX, INT64_MAX - 1) == 1);
    CHECK(!session_expired(INT64_MAX - SEC, INT64_MAX - SEC, INT64_MAX));
    CHECK(session_restore(t3, id, SESSION_TOKEN_LEN, "analyst", INT64_MIN, INT64_MAX, now) ==
          ACCORD_ENOTFOUND);
    /* the hash is a function of the id only */
    unsigned char h1[SESSION_HASH_LEN], h2[SESSION_HASH_LEN];
    session_id_hash(id, SESSION_TOKEN_LEN, h1);
    session_id_hash(id, SESSION_TOKEN_LEN, h2);
    CHECK(memcmp(h1, h2, sizeof(h1)) == 0);
    session_id_hash(csrf, SESSION_TOKEN_LEN, h2);
    CHECK(memcmp(h1, h2, sizeof(h1)) != 0);
    session_table_free(t);
    session_table_free(t2);
    session_table_free(t3);
}

static int cookie_is(const char *header, const char *want)
{
    const char *v;
    size_t n;
    if (!session_cookie_find(header, strlen(header), SESSION_COOKIE, &v, &n))
        return want == NULL;
    return want && strlen(want) == n && memcmp(v, want, n) == 0;
}

static void test_parsers(void)
{
    CHECK(cookie_is("__Host-accord=abc", "abc"));
    CHECK(cookie_is("a=1; __Host-accord=abc; b=2", "abc"));
    CHECK(cookie_is("a=1;__Host-accord = \"abc\" ;b=2", "abc"));
    CHECK(cookie_is("__Host-accord=first; __Host-accord=second", "first"));
    CHECK(cookie_is("__Host-accord=", ""));
    CHECK(cookie_is("x__Host-accord=abc", NULL));
    CHECK(cookie_is("__Host-accordx=abc", NULL));
    CHECK(cookie_is("__host-accord=abc", NULL));
    CHECK(cookie_is("__Host-accord", NULL));
    CHECK(cookie_is("", NULL));
    CHECK(cookie_is(";;; ;", NULL));

    CHECK(session_token_shape("abcdefghijklmnopqrstuvwxyzABCDEFGHIJ-_01234", 43));
    CHECK(!session_token_shape("abcdefghijklmnopqrstuvwxyzABCDEFGHIJ-_0123=", 43));
    CHECK(!session_token_shape("abc", 3));

    CHECK(!session_method_unsafe("GET"));
    CHECK(!session_method_unsafe("HEAD"));
    CHECK(!session_method_unsafe("OPTIONS"));
    CHECK(session_method_unsafe("POST"));
    CHECK(session_method_unsafe("DELETE"));
    CHECK(session_method_unsafe("PUT"));
    CHECK(session_method_unsafe("get"));
    CHECK(session_method_unsafe(NULL));

    CHECK(session_origin_ok("https://localhost:8443", "https", "localhost:8443", NULL));
    CHECK(session_origin_ok("https://LocalHost:8443", "https", "localhost:8443", NULL));
    CHECK(!session_origin_ok("http://localhost:8443", "https", "localhost:8443", NULL));
    CHECK(!session_origin_ok("https://localhost:8444", "https", "localhost:8443", NULL));
    CHECK(!session_origin_ok("https://localhost:8443.evil", "https", "localhost:8443", NULL));
    CHECK(!session_origin_ok("https://evil.example", "https", "localhost:8443", NULL));
    CHECK(!session_origin_ok("null", "https", "localhost:8443", NULL));
    CHECK(!session_origin_ok(NULL, "https", "localhost:8443", NULL));
    CHECK(!session_origin_ok("", "https", "", NULL));
    CHECK(!session_origin_ok("https://", "https", "", NULL));
    CHECK(session_origin_ok("https://intel.example.org", "https", "10.0.0.1:8443",
                            "https://intel.example.org/"));
    CHECK(session_origin_ok("https://intel.example.org", "https", NULL,
                            "https://intel.example.org/accord"));
    CHECK(!session_origin_ok("https://intel.example.org.evil", "https", NULL,
                             "https://intel.example.org"));
    CHECK(!session_origin_ok("http://intel.example.org", "https", NULL,
                             "https://intel.example.org"));
}

int main(void)
{
    test_lifecycle();
    test_full_table();
    test_restore();
    test_parsers();
    printf("%d passed, %d failed\n", t_passed, t_failed);
    return t_failed != 0;
}
