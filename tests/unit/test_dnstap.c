/*
 * test_dnstap.c - the dnstap decoder (src/dnstap.c): Frame Streams, the protobuf, DNS messages.
 *
 * The reference is dnsdist's capture from go-dnscollector (a client query and response for
 * www.google.com A), whose content dnstap-ldns prints as checked below; the rest is generated
 * with dnstapgen.h, including every cut of a valid frame.
 */
#include "dnstap.h"
#include "dnstapgen.h"
#include "t.h"

#include <stdlib.h>

typedef struct items {
    dns_item v[16];
    size_t n;
} items;

static void take(void *ud, const dns_item *it)
{
    items *s = ud;
    if (s->n < 16)
        s->v[s->n++] = *it;
}

/*
 * dnstap-ldns -r dnstap.fstrm:
 *   2024-06-05 18:49:49.590209 CQ 172.19.0.1 UDP 55b "www.google.com." IN A
 *   2024-06-05 18:49:49.601953 CR 172.19.0.1 UDP 59b "www.google.com." IN A
 * and -y shows the answer www.google.com. 273 IN A 216.58.213.68, ports 46390 -> 53.
 */
static void test_dnscollector(void)
{
    const char *data = getenv("ACCORD_SHARED_DATA") ? getenv("ACCORD_SHARED_DATA") : t_shared_data();
    char path[1024];
    size_t len = 0;
    if (!data) {
        fprintf(stderr, "skip: shared data not found\n");
        return;
    }
    snprintf(path, sizeof path, "%s/telemetry-dnstap-dnscollector/dnstap.fstrm", data);
    uint8_t *p = (uint8_t *)t_slurp(path, &len);
    CHECK(p != NULL);
    if (!p)
        return;
    dnstap_reader r = {0};
    dnstap_frame f;
    const char *why;
    size_t off = 0;
    long n;
    dnstap_msg m[4];
    size_t nm = 0;
    while ((n = dnstap_frame_next(&r, p + off, len - off, &f, &why)) > 0) {
        off += (size_t)n;
        if (!f.control && nm < 4)
            CHECK(dnstap_decode(f.p, f.len, &m[nm++], &why) == 0);
    }
    CHECK(n == 0 && off == len);
    CHECK(r.started && r.stopped && r.content_ok);
    CHECK(nm == 2);
    CHECK(m[0].type == 5 && m[1].type == 6);
    CHECK(strcmp(dnstap_type_code(m[0].type), "CQ") == 0 &&
          strcmp(dnstap_type_code(m[1].type), "CR") == 0);
    CHECK(m[0].family == 1 && m[0].protocol == 1);
    CHECK(m[0].query_addr_len == 4 && memcmp(m[0].query_addr, "\xac\x13\x00\x01", 4) == 0);
    CHECK(m[0].query_port == 46390 && m[0].response_port == 53);
    CHECK(m[0].query_time_sec == 1717613389 && m[0].query_time_nsec / 1000 == 590209);
    CHECK(m[1].response_time_sec == 1717613389 && m[1].response_time_nsec / 1000 == 601953);
    CHECK(m[0].query_msg_len == 55 && m[1].response_msg_len == 59);
    CHECK(m[0].identity_len == 7 && memcmp(m[0].identity, "dnsdist", 7) == 0);
    items it = {0};
    CHECK(dnstap_dns_walk(m[0].query_msg, m[0].query_msg_len, take, &it, &why) == 0);
    CHECK(it.n == 1 && it.v[0].kind == DNS_QNAME && strcmp(it.v[0].name, "www.google.com") == 0);
    CHECK(it.v[0].qtype == 1);
    it.n = 0;
    CHECK(dnstap_dns_walk(m[1].response_msg, m[1].response_msg_len, take, &it, &why) == 0);
    CHECK(it.n == 2 && it.v[1].kind == DNS_A && memcmp(it.v[1].addr, "\xd8\x3a\xd5\x44", 4) == 0);
    CHECK(strcmp(it.v[1].name, "www.google.com") == 0);
    /* fed one byte at a time, the reader waits and then gives the same frames */
    dnstap_reader r2 = {0};
    size_t have = 0, used = 0, frames = 0;
    for (have = 1; have <= len; have++) {
        while ((n = dnstap_frame_next(&r2, p + used, have - used, &f, &why)) > 0) {
            used += (size_t)n;
            frames++;
        }
        CHECK(n == 0);
    }
    CHECK(used == len && frames == 4);
    free(p);
}

static void test_generated(void)
{
    uint8_t dns[600];
    static const uint8_t client[4] = {10, 1, 2, 3}, a[4] = {198, 51, 100, 7};
    dgen g;
    items it = {0};
    const char *why;
    dnstap_msg m;
    size_t n = dg_dns(dns, sizeof dns, 7, 1, "Evil.Example.COM", 1, a, NULL);
    dg_dnstap(&g, 6, client, 5353, 1700000000, 5000, dns, n);
    CHECK(dnstap_decode(g.b, g.len, &m, &why) == 0);
    CHECK(m.type == 6 && m.query_port == 5353 && m.response_msg_len == n);
    CHECK(dnstap_dns_walk(m.response_msg, m.response_msg_len, take, &it, &why) == 0);
    CHECK(it.n == 2 && strcmp(it.v[0].name, "evil.example.com") == 0);
    CHECK(it.v[1].kind == DNS_A && memcmp(it.v[1].addr, a, 4) == 0);
    /* CNAME target */
    n = dg_dns(dns, sizeof dns, 8, 1, "www.example.org", 1, NULL, "cdn.bad.example");
    it.n = 0;
    CHECK(dnstap_dns_walk(dns, n, take, &it, &why) == 0);
    CHECK(it.n == 2 && it.v[1].kind == DNS_CNAME && strcmp(it.v[1].target, "cdn.bad.example") == 0);
    /* every cut of the protobuf and of the DNS message: errors, never a crash */
    dg_dnstap(&g, 6, client, 5353, 1700000000, 5000, dns, n);
    int bad = 0;
    for (size_t cut = 0; cut < g.len; cut++)
        bad += dnstap_decode(g.b, cut, &m, &why) != 0;
    CHECK(bad > 0);
    for (size_t cut = 0; cut < n; cut++) {
        it.n = 0;
        (void)dnstap_dns_walk(dns, cut, take, &it, &why);
    }
    /* a compression pointer loop */
    uint8_t loop[] = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1};
    CHECK(dnstap_dns_walk(loop, sizeof loop, take, &it, &why) == -1 && why);
    /* a length byte that lies */
    uint8_t lie[] = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 60, 'a', 'b', 0, 0, 1, 0, 1};
    CHECK(dnstap_dns_walk(lie, sizeof lie, take, &it, &why) == -1);
    /* a wire type that protobuf does not allow here */
    uint8_t grp[] = {0x0b, 0x0c};
    CHECK(dnstap_decode(grp, sizeof grp, &m, &why) == -1 && strstr(why, "wire type"));
}

static void test_fstrm_control(void)
{
    uint8_t b[128];
    dnstap_reader r = {0};
    dnstap_frame f;
    const char *why;
    size_t n = dnstap_frame_control(FSTRM_READY, b, sizeof b);
    CHECK(n == 8 + 4 + 8 + 22);
    CHECK(dnstap_frame_next(&r, b, n, &f, &why) == (long)n && f.control == FSTRM_READY);
    n = dnstap_frame_control(FSTRM_FINISH, b, sizeof b);
    CHECK(n == 12 && dnstap_frame_next(&r, b, n, &f, &why) == 12 && f.control == FSTRM_FINISH);
    /* another content type */
    n = dnstap_frame_control(FSTRM_START, b, sizeof b);
    b[20] = 'X';
    CHECK(dnstap_frame_next(&r, b, n, &f, &why) == -1 && strstr(why, "content type"));
    /* a frame over the limit */
    uint8_t big[8] = {0, 0x10, 0, 1, 0, 0, 0, 0};
    CHECK(dnstap_frame_next(&r, big, sizeof big, &f, &why) == -1);
    /* a control length that lies */
    uint8_t lie[16] = {0, 0, 0, 0, 0, 0, 0x20, 0, 0, 0, 0, 2};
    CHECK(dnstap_frame_next(&r, lie, sizeof lie, &f, &why) == -1);
}

int main(void)
{
    test_generated();
    test_fstrm_control();
    test_dnscollector();
    return t_done();
}
