/*
 * test_peer.c - what the pull client reads from a peer (envelopes, X-TAXII-Date-Added headers),
 * the cursor rule (never ahead of the data; widen a page of equal timestamps), and the peer table.
 */
#include "peer.h"
#include "t.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_page_parse(void)
{
    peer_page pg;
    accord_error err;
    const char *e1 = "{\"more\":true,\"next\":\"1796010711899282\",\"objects\":[{\"a\":1},{}]}";
    CHECK(peer_page_parse(e1, strlen(e1), &pg, &err) == 0);
    CHECK(pg.more == 1);
    CHECK_STR(pg.next, "1796010711899282");
    CHECK(pg.objects == 2);
    CHECK(peer_page_parse("{}", 2, &pg, &err) == 0);
    CHECK(pg.more == 0 && pg.objects == 0 && pg.next[0] == 0);
    const char *bad[] = {"", "[]", "{\"more\":\"yes\"}", "{\"objects\":{}}",
                         "{\"objects\":[1]}", "{\"next\":\"\"}", "{\"next\":7}",
                         "{\"objects\":[{}]", "{\"more\":true,\"more\":false}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&err, 0, sizeof(err));
        CHECK(peer_page_parse(bad[i], strlen(bad[i]), &pg, &err) == ACCORD_EJSON);
        CHECK(strncmp(err.msg, "envelope: ", 10) == 0);
    }
    char longnext[400] = "{\"next\":\"";
    memset(longnext + 9, 'x', 300);
    memcpy(longnext + 309, "\"}", 3);
    CHECK(peer_page_parse(longnext, strlen(longnext), &pg, &err) == ACCORD_EJSON);
}

static void test_headers(void)
{
    char f[PEER_TS_LEN] = "", l[PEER_TS_LEN] = "";
    const char *h1 = "X-TAXII-Date-Added-First: 2026-01-10T09:10:00.123456Z\r\n";
    CHECK(peer_header_parse(h1, strlen(h1), f, l) == 1);
    CHECK_STR(f, "2026-01-10T09:10:00.123456Z");
    const char *h2 = "x-taxii-date-added-last:2026-01-10T09:10:01Z\r\n";
    CHECK(peer_header_parse(h2, strlen(h2), f, l) == 1);
    CHECK_STR(l, "2026-01-10T09:10:01Z");
    const char *h3 = "Content-Type: application/taxii+json;version=2.1\r\n";
    CHECK(peer_header_parse(h3, strlen(h3), f, l) == 0);
    const char *h4 = "X-TAXII-Date-Added-Last: yesterday\r\n";
    CHECK(peer_header_parse(h4, strlen(h4), f, l) == -1);
    CHECK_STR(l, "2026-01-10T09:10:01Z"); /* a bad value leaves the last good one */
    const char *h5 = "X-TAXII-Date-Added-Last:   \r\n";
    CHECK(peer_header_parse(h5, strlen(h5), f, l) == -1);
}

static void test_cursor(void)
{
    char c[PEER_TS_LEN];
    /* the walk is done: the last date_added */
    CHECK(peer_next_cursor("2026-01-10T09:10:00.000001Z", "2026-01-10T09:10:00.5Z", 0, c,
                           sizeof(c)) == 0);
    CHECK_STR(c, "2026-01-10T09:10:00.5Z");
    /* more pages follow: one microsecond before the last, so objects added at that instant on
     * the next page are not skipped when the walk resumes from the cursor */
    CHECK(peer_next_cursor("2026-01-10T09:10:00.000001Z", "2026-01-10T09:10:00.500000Z", 1, c,
                           sizeof(c)) == 0);
    CHECK_STR(c, "2026-01-10T09:10:00.499999Z");
    CHECK(peer_next_cursor("2026-01-10T09:09:59Z", "2026-01-10T09:10:00Z", 1, c, sizeof(c)) == 0);
    CHECK_STR(c, "2026-01-10T09:09:59.999999Z");
    /* a full page at one instant: widen */
    CHECK(peer_next_cursor("2026-01-10T09:10:00Z", "2026-01-10T09:10:00Z", 1, c, sizeof(c)) == 1);
    /* ...but as the walk's last page it is complete */
    CHECK(peer_next_cursor("2026-01-10T09:10:00Z", "2026-01-10T09:10:00Z", 0, c, sizeof(c)) == 0);
    CHECK(peer_next_cursor("2026-01-10T09:10:01Z", "2026-01-10T09:10:00Z", 0, c, sizeof(c)) == -1);
    CHECK(peer_next_cursor("x", "2026-01-10T09:10:00Z", 0, c, sizeof(c)) == -1);
    CHECK(peer_next_cursor("1013-01-10T09:10:00Z", "1013-02-10T09:10:00Z", 1, c, sizeof(c)) == -1);
}

static peer_conf conf(const char *name)
{
    peer_conf p;
    memset(&p, 0, sizeof(p));
    snprintf(p.name, sizeof(p.name), "%s", name);
    snprintf(p.url, sizeof(p.url), "https://peer.example:8443/accord/");
    snprintf(p.collection, sizeof(p.collection), "0b5d1b2c-2fd4-4a4d-8c38-6e7a1b0c9d11");
    snprintf(p.token_file, sizeof(p.token_file), "/etc/accord/peer.token");
    snprintf(p.pin, sizeof(p.pin), "sha256//%s", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    p.page = 500;
    p.mode = PEER_PULL;
    return p;
}

static int count(void *ud, const peer_conf *p, const char *cursor)
{
    (void)p;
    CHECK(cursor && cursor[0] == 0);
    (*(int *)ud)++;
    return 0;
}

static void test_conf_and_table(void)
{
    accord_error err;
    peer_conf p = conf("alpha");
    CHECK(peer_conf_check(&p, &err) == 0);
    peer_conf q = p;
    snprintf(q.url, sizeof(q.url), "http://peer.example/accord/");
    CHECK(peer_conf_check(&q, &err) == ACCORD_EINVAL);
    q = p;
    snprintf(q.cacert, sizeof(q.cacert), "/etc/ca.pem");
    CHECK(peer_conf_check(&q, &err) == ACCORD_EINVAL); /* both */
    q = p;
    q.pin[0] = 0;
    CHECK(peer_conf_check(&q, &err) == ACCORD_EINVAL); /* neither */
    q = p;
    snprintf(q.name, sizeof(q.name), "a b");
    CHECK(peer_conf_check(&q, &err) == ACCORD_EINVAL);
    q = p;
    snprintf(q.collection, sizeof(q.collection), "../x?y");
    CHECK(peer_conf_check(&q, &err) == ACCORD_EINVAL);

    char dir[] = "/tmp/accord-test-peer.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    accord_store *s = NULL;
    CHECK(accord_store_open(dir, 0, &s, &err) == 0);
    if (!s)
        return;
    int n = 0;
    CHECK(peer_each(s, count, &n, &err) == 0 && n == 0); /* no table yet */
    CHECK(peer_get(s, "alpha", &q, &err) == ACCORD_ENOTFOUND);
    CHECK(peer_add(s, &p, &err) == 0);
    peer_conf b = conf("beta");
    CHECK(peer_add(s, &b, &err) == 0);
    p.page = 42;
    CHECK(peer_add(s, &p, &err) == 0); /* replaces */
    n = 0;
    CHECK(peer_each(s, count, &n, &err) == 0 && n == 2);
    CHECK(peer_get(s, "alpha", &q, &err) == 0);
    CHECK(q.page == 42);
    CHECK_STR(q.pin, p.pin);
    CHECK_STR(q.url, p.url);
    CHECK(peer_remove(s, "alpha", &err) == 0);
    CHECK(peer_remove(s, "alpha", &err) == ACCORD_ENOTFOUND);
    CHECK(peer_get(s, "alpha", &q, &err) == ACCORD_ENOTFOUND);
    n = 0;
    CHECK(peer_each(s, count, &n, &err) == 0 && n == 1);
    accord_store_close(s);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

static void test_retry_after(void)
{
    int64_t secs = -7;
    const int64_t now = 784111777; /* Sun, 06 Nov 1994 08:49:37 GMT */
    const char *h1 = "Retry-After: 120\r\n";
    CHECK(peer_retry_after_parse(h1, strlen(h1), now, &secs) == 1 && secs == 120);
    const char *h2 = "retry-after:Sun, 06 Nov 1994 08:50:07 GMT\r\n";
    CHECK(peer_retry_after_parse(h2, strlen(h2), now, &secs) == 1 && secs == 30);
    const char *h3 = "Retry-After: Sun, 06 Nov 1994 08:00:00 GMT\r\n"; /* past: now */
    CHECK(peer_retry_after_parse(h3, strlen(h3), now, &secs) == 1 && secs == 0);
    const char *h4 = "Retry-After: 99999999999999999999999\r\n"; /* saturates at a day */
    CHECK(peer_retry_after_parse(h4, strlen(h4), now, &secs) == 1 && secs == 86400);
    const char *h5 = "Retry-After: Fri, 31 Dec 9999 23:59:59 GMT\r\n";
    CHECK(peer_retry_after_parse(h5, strlen(h5), now, &secs) == 1 && secs == 86400);
    const char *bad[] = {"Retry-After: soon\r\n", "Retry-After: -5\r\n", "Retry-After:\r\n",
                         "Retry-After: Sun, 06 Nov 1994 08:49:37 CET\r\n",
                         "Retry-After: Sun, 32 Nov 1994 08:49:37 GMT\r\n",
                         "Retry-After: Sun, 06 Nox 1994 08:49:37 GMT\r\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(peer_retry_after_parse(bad[i], strlen(bad[i]), now, &secs) == -1);
    const char *other = "Content-Length: 5\r\n";
    CHECK(peer_retry_after_parse(other, strlen(other), now, &secs) == 0);
}

static void test_backoff(void)
{
    /* success: the interval */
    CHECK(peer_next_delay_ms(30, 0, -1, 0) == 30000);
    /* failures double from 1 s, jitter scales into [1/2, 1] */
    CHECK(peer_next_delay_ms(600, 1, -1, 0xffff) == 1000);
    CHECK(peer_next_delay_ms(600, 1, -1, 0) == 500);
    CHECK(peer_next_delay_ms(600, 4, -1, 0xffff) == 8000);
    int64_t prev = 0;
    for (int64_t f = 1; f < 12; f++) { /* never shrinks as failures grow */
        int64_t d = peer_next_delay_ms(600, f, -1, 0xffff);
        CHECK(d >= prev);
        prev = d;
    }
    /* capped by the interval (at least 8 s), and by an hour */
    CHECK(peer_next_delay_ms(20, 50, -1, 0xffff) == 20000);
    CHECK(peer_next_delay_ms(1, 50, -1, 0xffff) == PEER_BACKOFF_FLOOR_MS);
    CHECK(peer_next_delay_ms(0, 1000000, -1, 0xffff) == PEER_BACKOFF_FLOOR_MS);
    CHECK(peer_next_delay_ms(86400, INT64_MAX, -1, 0xffff) == PEER_BACKOFF_MAX_MS);
    /* a peer's Retry-After is honoured, up to a day */
    CHECK(peer_next_delay_ms(600, 1, 120, 0xffff) == 120000);
    CHECK(peer_next_delay_ms(600, 1, INT64_MAX, 0) == 86400000);
    for (uint32_t j = 0; j < 65536; j += 4099) {
        int64_t d = peer_next_delay_ms(3600, 3, -1, j);
        CHECK(d >= 2000 && d <= 4000);
    }
}

int main(void)
{
    test_retry_after();
    test_backoff();
    test_page_parse();
    test_headers();
    test_cursor();
    test_conf_and_table();
    return t_done();
}
