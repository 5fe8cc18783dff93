/*
 * test_flow_match.c - flow records and dnstap messages against a snapshot (src/flow_match.c):
 * which fields match, the CGNAT public side, the event text, times with and without
 * pattern-engine indicators, and batches larger than one.
 */
#include "accord.h"
#include "dnstapgen.h"
#include "flow_match.h"
#include "t.h"

#include <arpa/inet.h>
#include <stdlib.h>

typedef struct hit {
    char field[32], value[64], event[1024], time[40];
    size_t nind;
} hit;

typedef struct hits {
    hit v[2048];
    size_t n;
} hits;

static void on_match(void *ud, const accord_match *mt)
{
    hits *h = ud;
    if (h->n >= 2048)
        return;
    hit *x = &h->v[h->n++];
    snprintf(x->field, sizeof x->field, "%s", mt->field ? mt->field : "(complex)");
    snprintf(x->value, sizeof x->value, "%.*s", (int)mt->value_len, mt->value ? mt->value : "");
    snprintf(x->event, sizeof x->event, "%.*s", (int)mt->event_len, mt->event);
    snprintf(x->time, sizeof x->time, "%.*s", (int)mt->time_len, mt->time ? mt->time : "");
    x->nind = mt->nindicators;
}

static accord_snapshot *snap(const char **patterns, size_t n)
{
    accord_snapshot_builder *b = NULL;
    accord_snapshot *s = NULL;
    CHECK(accord_snapshot_builder_new(0, &b) == 0);
    for (size_t i = 0; i < n; i++) {
        char id[80];
        snprintf(id, sizeof id, "indicator--00000000-0000-4000-8000-%012zu", i + 1);
        CHECK(accord_snapshot_builder_add(b, id, "t", patterns[i], 0, 0, NULL) == 0);
    }
    CHECK(accord_snapshot_build(b, &s, NULL) == 0);
    accord_snapshot_builder_free(b);
    return s;
}

static const flow_exporter EXP = {.family = 4, .addr = {192, 0, 2, 1}, .port = 2055};

static flow_rec rec4(const char *src, const char *dst, unsigned sport, unsigned dport)
{
    flow_rec r;
    memset(&r, 0, sizeof r);
    r.version = 10;
    r.family = 4;
    r.proto = 6;
    inet_pton(AF_INET, src, r.src);
    inet_pton(AF_INET, dst, r.dst);
    r.sport = (uint16_t)sport;
    r.dport = (uint16_t)dport;
    r.has_ports = 1;
    r.bytes = 1500;
    r.packets = 3;
    r.sampling = 100;
    r.end_ms = 1700000000123ll;
    r.exporter = &EXP;
    return r;
}

static void test_flows(void)
{
    static const char *pats[] = {"[ipv4-addr:value = '198.51.100.7']",
                                 "[ipv4-addr:value ISSUBSET '203.0.113.0/24']",
                                 "[ipv6-addr:value ISSUBSET '2001:db8:bad::/48']"};
    accord_snapshot *s = snap(pats, 3);
    hits *h = calloc(1, sizeof *h);
    fmatch *fm;
    CHECK(fmatch_new(s, 0, on_match, h, &fm) == 0);
    /* more records than one batch: the hits are found wherever they fall */
    for (int i = 0; i < 1500; i++) {
        flow_rec r = rec4("10.0.0.1", i % 500 == 7 ? "198.51.100.7" : "192.0.2.55", 40000, 443);
        CHECK(fmatch_flow(fm, &r) == 0);
    }
    /* CGNAT: inside 100.64.0.1:5555, public 203.0.113.9:40000 */
    flow_rec r = rec4("100.64.0.1", "192.0.2.80", 5555, 443);
    r.nat_family = 4;
    inet_pton(AF_INET, "203.0.113.9", r.xsrc);
    inet_pton(AF_INET, "192.0.2.80", r.xdst);
    r.xsport = 40000;
    r.xdport = 443;
    r.has_nat_ports = 1;
    r.nat_event = 1;
    CHECK(fmatch_flow(fm, &r) == 0);
    /* IPv6, by prefix */
    flow_rec r6 = rec4("10.0.0.1", "10.0.0.2", 1, 2);
    r6.family = 6;
    inet_pton(AF_INET6, "2001:db8:bad::5", r6.src);
    inet_pton(AF_INET6, "2001:db8:900d::5", r6.dst);
    CHECK(fmatch_flow(fm, &r6) == 0);
    inet_pton(AF_INET6, "2001:db8:900d::6", r6.src);
    CHECK(fmatch_flow(fm, &r6) == 0);
    CHECK(fmatch_flush(fm) == 0);
    CHECK(h->n == 5);
    CHECK(strcmp(h->v[4].field, "src") == 0 && strcmp(h->v[4].value, "2001:db8:bad::5") == 0);
    CHECK(strcmp(h->v[0].field, "dst") == 0 && strcmp(h->v[0].value, "198.51.100.7") == 0);
    CHECK(strcmp(h->v[0].time, "1700000000.123000") == 0);
    CHECK(strstr(h->v[0].event, "\"exporter\":\"192.0.2.1\"") != NULL);
    CHECK(strstr(h->v[0].event, "\"bytes\":1500,\"packets\":3,\"sampling\":100") != NULL);
    const hit *n = &h->v[3];
    CHECK(strcmp(n->field, "nat.src") == 0 && strcmp(n->value, "203.0.113.9") == 0);
    CHECK(strstr(n->event, "\"src\":\"100.64.0.1\"") && strstr(n->event, "\"sport\":5555"));
    CHECK(strstr(n->event, "\"nat\":{\"src\":\"203.0.113.9\",\"dst\":\"192.0.2.80\",\"sport\":40000"));
    fmatch_stats st;
    fmatch_stats_get(fm, &st);
    CHECK(st.records == 1503 && st.events == 1504 && st.matches == 5);
    fmatch_free(fm);
    accord_snapshot_unref(s);
    free(h);
}

/* Address and port in the fast tables: the flow's ports reach them (the prefilter passes the
 * record for its port), and the match names the address and port. */
static void test_fast_ports(void)
{
    static const char *pats[] = {
        "[network-traffic:dst_ref.value = '198.51.100.7' AND network-traffic:dst_port = 443]",
        "[network-traffic:dst_port = 4444]"};
    accord_snapshot *s = snap(pats, 2);
    hits *h = calloc(1, sizeof *h);
    fmatch *fm;
    CHECK(fmatch_new(s, 0, on_match, h, &fm) == 0);
    flow_rec a = rec4("10.0.0.1", "198.51.100.7", 40000, 443);
    flow_rec b = rec4("10.0.0.1", "198.51.100.7", 40000, 22);
    flow_rec c = rec4("10.0.0.2", "192.0.2.9", 4444, 4444);
    CHECK(fmatch_flow(fm, &a) == 0 && fmatch_flow(fm, &b) == 0 && fmatch_flow(fm, &c) == 0 &&
          fmatch_flush(fm) == 0);
    CHECK(h->n == 2);
    CHECK(strcmp(h->v[0].field, "dst") == 0 && strcmp(h->v[0].value, "198.51.100.7:443") == 0);
    CHECK(strcmp(h->v[1].field, "dport") == 0 && strcmp(h->v[1].value, "4444") == 0);
    CHECK(strstr(h->v[1].event, "\"sport\":4444,\"dport\":4444") != NULL);
    fmatch_free(fm);
    accord_snapshot_unref(s);
    free(h);
}

/* A network-traffic pattern the fast tables do not take: the pattern engine sees the flow as an
 * observation, ports included. */
static void test_ports(void)
{
    static const char *pats[] = {
        "[network-traffic:dst_ref.value = '198.51.100.7' AND network-traffic:dst_port = 443 AND "
        "network-traffic:protocols[*] = 'tcp']"};
    accord_snapshot *s = snap(pats, 1);
    hits *h = calloc(1, sizeof *h);
    fmatch *fm;
    CHECK(fmatch_new(s, 0, on_match, h, &fm) == 0);
    flow_rec a = rec4("10.0.0.1", "198.51.100.7", 40000, 443);
    flow_rec b = rec4("10.0.0.1", "198.51.100.7", 40000, 22);
    CHECK(fmatch_flow(fm, &a) == 0 && fmatch_flow(fm, &b) == 0 && fmatch_flush(fm) == 0);
    CHECK(h->n == 1 && strcmp(h->v[0].field, "(complex)") == 0);
    CHECK(strstr(h->v[0].event, "\"dport\":443") != NULL);
    CHECK(strncmp(h->v[0].time, "1700000000.123", 14) == 0);
    fmatch_free(fm);
    accord_snapshot_unref(s);
    free(h);
}

static void test_dnstap(void)
{
    static const char *pats[] = {"[domain-name:value LIKE '%.evil.example']",
                                 "[ipv4-addr:value = '198.51.100.9']",
                                 "[domain-name:value = 'cdn.bad.example']"};
    accord_snapshot *s = snap(pats, 3);
    hits *h = calloc(1, sizeof *h);
    fmatch *fm;
    uint8_t dns[600];
    static const uint8_t client[4] = {10, 9, 8, 7}, a[4] = {198, 51, 100, 9};
    dgen g;
    dnstap_msg m;
    const char *why;
    CHECK(fmatch_new(s, 0, on_match, h, &fm) == 0);
    size_t n = dg_dns(dns, sizeof dns, 1, 0, "WWW.Evil.Example", 1, NULL, NULL);
    dg_dnstap(&g, 5, client, 5353, 1700000000, 250000000, dns, n);
    CHECK(dnstap_decode(g.b, g.len, &m, &why) == 0 && fmatch_dnstap(fm, &m) == 0);
    n = dg_dns(dns, sizeof dns, 1, 1, "www.evil.example", 1, a, NULL); /* its response */
    dg_dnstap(&g, 6, client, 5353, 1700000000, 260000000, dns, n);
    CHECK(dnstap_decode(g.b, g.len, &m, &why) == 0 && fmatch_dnstap(fm, &m) == 0);
    n = dg_dns(dns, sizeof dns, 2, 1, "www.example.org", 1, NULL, "cdn.bad.example");
    dg_dnstap(&g, 6, client, 5354, 1700000001, 0, dns, n);
    CHECK(dnstap_decode(g.b, g.len, &m, &why) == 0 && fmatch_dnstap(fm, &m) == 0);
    dns[5] = 9; /* a question count that lies */
    dg_dnstap(&g, 5, client, 5355, 1700000001, 0, dns, n);
    CHECK(dnstap_decode(g.b, g.len, &m, &why) == 0 && fmatch_dnstap(fm, &m) == ACCORD_EINVAL);
    CHECK(fmatch_flush(fm) == 0);
    CHECK(h->n == 3);
    CHECK(strcmp(h->v[0].field, "dns.qname") == 0 && strcmp(h->v[0].value, "www.evil.example") == 0);
    CHECK(strstr(h->v[0].event, "\"client\":\"10.9.8.7\",\"client_port\":5353") != NULL);
    CHECK(strcmp(h->v[0].time, "1700000000.250000") == 0);
    CHECK(strcmp(h->v[1].field, "dns.answer") == 0 && strcmp(h->v[1].value, "198.51.100.9") == 0);
    CHECK(strstr(h->v[1].event, "CLIENT_RESPONSE") != NULL);
    CHECK(strcmp(h->v[2].field, "dns.cname") == 0 && strcmp(h->v[2].value, "cdn.bad.example") == 0);
    fmatch_stats st;
    fmatch_stats_get(fm, &st);
    CHECK(st.records == 4 && st.dns_malformed == 1);
    fmatch_free(fm);
    accord_snapshot_unref(s);
    free(h);
}

/* Matches carry their record's bytes, packets and sampling into sightings: summed per group,
 * the interval kept while every record agrees, estimates scaled by it and saturated. */
typedef struct sctx {
    accord_sightings *sg;
    uint64_t bytes, packets;
    uint32_t sampling;
    size_t n;
} sctx;

static void on_sight(void *ud, const accord_match *mt)
{
    sctx *c = ud;
    c->n++;
    c->bytes += mt->bytes, c->packets += mt->packets, c->sampling = mt->sampling;
    CHECK(accord_sightings_add_match(c->sg, mt, 0) == 0);
}

static void test_sightings(void)
{
    static const char *pats[] = {"[ipv4-addr:value = '198.51.100.7']",
                                 "[ipv4-addr:value = '203.0.113.9']",
                                 "[ipv4-addr:value = '192.0.2.99']",
                                 "[domain-name:value = 'evil.example']"};
    accord_snapshot *s = snap(pats, 4);
    sctx c = {0};
    fmatch *fm;
    char *json = NULL;
    size_t len = 0;
    CHECK(accord_sightings_new(s, 3600, &c.sg) == 0);
    CHECK(fmatch_new(s, 0, on_sight, &c, &fm) == 0);
    flow_rec a = rec4("10.0.0.1", "198.51.100.7", 40000, 443); /* 1500 B, 3 pkts, 1 in 100 */
    flow_rec b = rec4("10.0.0.2", "198.51.100.7", 40001, 443);
    b.bytes = 1000, b.packets = 2;
    flow_rec c1 = rec4("10.0.0.3", "203.0.113.9", 40002, 443);
    flow_rec c2 = rec4("10.0.0.3", "203.0.113.9", 40003, 443);
    c2.bytes = 40, c2.packets = 1, c2.sampling = 0; /* no options data from that exporter yet */
    flow_rec d = rec4("10.0.0.4", "192.0.2.99", 40004, 443);
    d.bytes = 1ull << 60, d.packets = 5, d.sampling = 1000;
    flow_rec clean = rec4("10.0.0.5", "192.0.2.1", 1, 2);
    CHECK(fmatch_flow(fm, &a) == 0 && fmatch_flow(fm, &b) == 0 && fmatch_flow(fm, &c1) == 0);
    CHECK(fmatch_flow(fm, &clean) == 0 && fmatch_flow(fm, &c2) == 0 && fmatch_flow(fm, &d) == 0);
    CHECK(fmatch_flush(fm) == 0);
    CHECK(c.n == 5 && c.packets == 3 + 2 + 3 + 1 + 5 && c.sampling == 1000);
    /* a match of the JSON path carries no traffic: its group has no traffic properties */
    accord_matcher *m;
    accord_match mt;
    static const char line[] = "{\"ts\":1700000000.5,\"query\":\"evil.example\"}\n";
    CHECK(accord_matcher_new(s, &m) == 0);
    CHECK(accord_matcher_match_lines(m, line, sizeof line - 1, 0) == 1);
    CHECK(accord_matcher_next(m, &mt) == 1 && mt.bytes == 0 && mt.packets == 0 && mt.sampling == 0);
    CHECK(accord_sightings_add_match(c.sg, &mt, 0) == 0);
    accord_matcher_free(m);
    CHECK(accord_sightings_count(c.sg) == 4);
    CHECK(accord_sightings_bundle(c.sg, "identity--00000000-0000-4000-8000-000000000000", &json,
                                  &len) == 0);
    CHECK(strstr(json, "\"count\":2,") != NULL);
    CHECK(strstr(json, "000000000001\",\"where_sighted_refs\":[\"identity--00000000-0000-4000-"
                       "8000-000000000000\"],\"x_accord_bytes\":2500,\"x_accord_packets\":5,"
                       "\"x_accord_sampling_interval\":100,\"x_accord_estimated_bytes\":250000,"
                       "\"x_accord_estimated_packets\":500}") != NULL);
    /* 1 in 100 and unknown: no interval; the unknown record counts once */
    CHECK(strstr(json, "000000000002\",\"where_sighted_refs\":[\"identity--00000000-0000-4000-"
                       "8000-000000000000\"],\"x_accord_bytes\":1540,\"x_accord_packets\":4,"
                       "\"x_accord_estimated_bytes\":150040,\"x_accord_estimated_packets\":301}") !=
          NULL);
    /* 2^60 bytes: saturated at 2^53 - 1, exact in JSON */
    CHECK(strstr(json, "\"x_accord_bytes\":9007199254740991,\"x_accord_packets\":5,"
                       "\"x_accord_sampling_interval\":1000,\"x_accord_estimated_bytes\":"
                       "9007199254740991,\"x_accord_estimated_packets\":5000}") != NULL);
    CHECK(strstr(json, "000000000004\",\"where_sighted_refs\":[\"identity--00000000-0000-4000-"
                       "8000-000000000000\"]}") != NULL);
    /* every sighting is valid STIX, the custom properties included (objects hold no braces) */
    size_t nsight = 0;
    for (const char *o = strstr(json, "{\"type\":\"sighting\""); o;
         o = strstr(o + 1, "{\"type\":\"sighting\"")) {
        accord_error err;
        const char *end = strchr(o, '}');
        CHECK(end && accord_validate_json(o, (size_t)(end + 1 - o), &err) == 0);
        nsight++;
    }
    CHECK(nsight == 4);
    free(json);
    fmatch_free(fm);
    accord_sightings_free(c.sg);
    accord_snapshot_unref(s);
}

int main(void)
{
    test_sightings();
    test_flows();
    test_ports();
    test_fast_ports();
    test_dnstap();
    return t_done();
}
