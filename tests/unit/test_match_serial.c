/*
 * test_match_serial.c - a compiled snapshot written as bytes and loaded back matches exactly
 * what the snapshot it came from matches; damaged bytes are refused, never read past.
 *
 * Indicators of every kind are generated (IPv4/IPv6 addresses and networks of many lengths,
 * domains and `%.suffix` names, URLs, e-mail addresses, every digest kind, ports alone and with
 * addresses or networks, User-Agent strings and LIKE patterns, odd ids, names, labels and TLP
 * markings, and patterns for the pattern engine: AND, NOT, FOLLOWEDBY with WITHIN, REPEATS,
 * a STIX 2.0 pattern), then generated events are matched by the snapshot compiled directly and
 * by the one loaded from its bytes, with every match written out (line, field, value, time,
 * indicator ids) and compared as text.
 */
#include "match.h"
#include "match_serial.h"
#include "t.h"

#include <stdint.h>

#include "t_rng.h"

static unsigned rn(unsigned n)
{
    return (unsigned)t_rnd_below(n);
}

static const char *const doms[] = {"evil.example", "c2.bad.net", "x.y.z.org", "mail.corp.test",
                                   "cdn.example.com", "a.b", "tracker.ads.io", "bad.net"};
static const char *const uas[] = {"curl/8.5.0", "Mozilla/5.0 (X11; Linux)", "python-requests/2.31",
                                  "DavClnt", "Go-http-client/1.1"};
static const char *const likes[] = {"%curl%", "Mozilla%Linux)", "%requests/2._1", "D_vClnt", "%Go%"};
static const unsigned ports[] = {22, 53, 80, 443, 4444, 8080};

static void addr4(char *o, size_t n)
{
    snprintf(o, n, "%u.%u.%u.%u", rn(4) ? 10u : 192u, rn(4), rn(8), rn(16));
}

static void addr6(char *o, size_t n)
{
    snprintf(o, n, "2001:db8:%x::%x", rn(4), rn(16));
}

static void hexs(char *o, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i++)
        snprintf(o + 2 * i, 3, "%02x", (unsigned)(i < 2 ? rn(3) : (i * 37u) & 255));
}

/* One indicator's pattern into b. */
static void pattern(buf *b, int i)
{
    char a[64], h[160];
    buf_reset(b);
    switch (i % 24) {
    case 0:
        addr4(a, sizeof a);
        buf_printf(b, "[ipv4-addr:value = '%s']", a);
        break;
    case 1: {
        static const int l[] = {8, 16, 20, 24, 28, 31};
        buf_printf(b, "[ipv4-addr:value ISSUBSET '10.%u.%u.0/%d']", rn(4), rn(8), l[rn(6)]);
        break;
    }
    case 2:
        addr6(a, sizeof a);
        buf_printf(b, "[ipv6-addr:value = '%s']", a);
        break;
    case 3:
        buf_printf(b, "[ipv6-addr:value ISSUBSET '2001:db8:%x::/%d']", rn(4), rn(2) ? 48 : 64);
        break;
    case 4:
        buf_printf(b, "[domain-name:value = '%s']", doms[rn(8)]);
        break;
    case 5:
        buf_printf(b, "[domain-name:value LIKE '%%.%s']", doms[rn(8)]);
        break;
    case 6:
        buf_printf(b, "[url:value = 'http://%s/p%u']", doms[rn(8)], rn(3));
        break;
    case 7:
        buf_printf(b, "[email-addr:value = 'u%u@%s']", rn(3), doms[rn(8)]);
        break;
    case 8:
        hexs(h, 16);
        buf_printf(b, "[file:hashes.'MD5' = '%s']", h);
        break;
    case 9:
        hexs(h, 20);
        buf_printf(b, "[file:hashes.'SHA-1' = '%s' OR x509-certificate:hashes.'SHA-1' = '%s']", h,
                   h);
        break;
    case 10:
        hexs(h, 32);
        buf_printf(b, "[file:hashes.'SHA-256' = '%s']", h);
        break;
    case 11:
        hexs(h, 64);
        buf_printf(b, "[file:hashes.'SHA-512' = '%s']", h);
        break;
    case 12:
        buf_printf(b, "[network-traffic:dst_port = %u]", ports[rn(6)]);
        break;
    case 13:
        addr4(a, sizeof a);
        buf_printf(b, "[network-traffic:dst_ref.value = '%s' AND network-traffic:dst_port = %u]", a,
                   ports[rn(6)]);
        break;
    case 14:
        buf_printf(b, "[network-traffic:src_ref.value ISSUBSET '10.%u.0.0/16' AND "
                      "network-traffic:src_port IN (%u, %u)]", rn(4), ports[rn(6)], ports[rn(6)]);
        break;
    case 15:
        buf_printf(b, "[network-traffic:extensions.'http-request-ext'.request_header."
                      "'User-Agent' = '%s']", uas[rn(5)]);
        break;
    case 16:
        buf_printf(b, "[network-traffic:extensions.'http-request-ext'.request_header."
                      "'User-Agent' LIKE '%s']", likes[rn(5)]);
        break;
    case 17: /* the pattern engine from here */
        addr4(a, sizeof a);
        buf_printf(b, "[ipv4-addr:value = '%s' AND ipv4-addr:value != '1.1.1.1']", a);
        break;
    case 18:
        buf_printf(b, "[domain-name:value = '%s'] FOLLOWEDBY [domain-name:value = '%s'] WITHIN "
                      "300 SECONDS", doms[rn(8)], doms[rn(8)]);
        break;
    case 19:
        addr4(a, sizeof a);
        buf_printf(b, "[ipv4-addr:value = '%s'] REPEATS 2 TIMES WITHIN 600 SECONDS", a);
        break;
    case 20:
        buf_printf(b, "[network-traffic:dst_port > %u AND network-traffic:dst_port < 1000]",
                   ports[rn(6)]);
        break;
    case 21:
        buf_printf(b, "[url:value LIKE '%%%s%%']", doms[rn(8)]);
        break;
    case 22: /* STIX 2.0 only: the compiled form must remember the grammar */
        buf_printf(b, "[domain-name:value MATCHES '^c2\\\\.']");
        break;
    default:
        addr6(a, sizeof a);
        buf_printf(b, "[ipv6-addr:value = '%s' OR ipv6-addr:value ISSUBSET '2001:db8:3::/48']", a);
        break;
    }
}

static void event(buf *b, int i)
{
    char a[64], c[64], h[160];
    buf_reset(b);
    addr4(a, sizeof a);
    if (rn(4) == 0)
        addr6(a, sizeof a);
    addr4(c, sizeof c);
    buf_printf(b, "{\"ts\":%d.25,\"id.orig_h\":\"%s\",\"id.orig_p\":%u,\"id.resp_h\":\"%s\","
                  "\"id.resp_p\":%u,\"proto\":\"tcp\"",
               1700000000 + i * 7, a, ports[rn(6)], c, ports[rn(6)]);
    if (rn(2))
        buf_printf(b, ",\"query\":\"%s%s\"", rn(3) ? "" : "www.", doms[rn(8)]);
    if (rn(3) == 0)
        buf_printf(b, ",\"host\":\"%s\",\"uri\":\"/p%u\",\"user_agent\":\"%s\"", doms[rn(8)], rn(3),
                   uas[rn(5)]);
    if (rn(4) == 0)
        buf_printf(b, ",\"mailfrom\":\"<u%u@%s>\"", rn(3), doms[rn(8)]);
    if (rn(3) == 0) {
        static const unsigned len[] = {16, 20, 32, 64};
        static const char *const key[] = {"md5", "sha1", "sha256", "sha512"};
        unsigned k = rn(4);
        hexs(h, len[k]);
        buf_printf(b, ",\"%s\":\"%s\"", key[k], h);
    }
    if (rn(5) == 0) {
        hexs(h, 20);
        buf_printf(b, ",\"cert_chain_fps\":[\"%s\"]", h);
    }
    buf_adds(b, "}\n");
}

/* Every match of the lines in text, as text. */
static void run(accord_snapshot *s, const char *text, size_t len, buf *out)
{
    accord_matcher *m = NULL;
    accord_match mt;
    CHECK(accord_matcher_new(s, &m) == 0);
    CHECK(accord_matcher_match_lines(m, text, len, 0) >= 0);
    buf_reset(out);
    while (accord_matcher_next(m, &mt) == 1) {
        buf_printf(out, "%zu %s %.*s %.*s:", (size_t)mt.line, mt.field ? mt.field : "-",
                   (int)mt.value_len, mt.value ? mt.value : "", (int)mt.time_len,
                   mt.time ? mt.time : "");
        for (size_t i = 0; i < mt.nindicators; i++) {
            accord_indicator_info ii;
            CHECK(accord_snapshot_indicator(s, mt.indicators[i], &ii) == 0);
            buf_printf(out, " %s/%s/%s/%s/%lld", ii.id, ii.name, ii.labels, ii.tlp,
                       (long long)ii.valid_until_s);
        }
        buf_adds(out, "\n");
    }
    accord_matcher_free(m);
}

static accord_snapshot *generated(int n)
{
    accord_snapshot_builder *b = NULL;
    accord_snapshot *s = NULL;
    buf p, js;
    buf_init(&p, 1 << 16);
    buf_init(&js, 1 << 16);
    CHECK(accord_snapshot_builder_new(1690000000, &b) == 0);
    for (int i = 0; i < n; i++) {
        pattern(&p, i);
        buf_reset(&js);
        /* odd ids, labels, TLP and an end of validity on some */
        buf_printf(&js,
                   "{\"type\":\"indicator\",\"id\":\"indicator--%s%08x-0000-4000-8000-%012d\","
                   "\"name\":\"n%d\",\"labels\":[\"l%d\"],\"pattern_type\":\"stix\",\"pattern\":",
                   i % 50 == 7 ? "X" : "", (unsigned)i, i, i % 9, i % 3);
        buf_json_str(&js, p.p);
        buf_printf(&js, ",\"valid_from\":\"2020-01-01T00:00:00Z\"%s%s}",
                   i % 11 == 3 ? ",\"valid_until\":\"2031-01-01T00:00:00Z\"" : "",
                   i % 5 == 0 ? ",\"object_marking_refs\":[\"marking-definition--34098fce-860f-"
                                "48ae-8e50-ebd3cc5e41da\"]"
                              : "");
        accord_snapshot_builder_add_json(b, js.p, js.len, NULL);
    }
    CHECK(accord_snapshot_build(b, &s, NULL) == 0);
    accord_snapshot_builder_free(b);
    buf_free(&p);
    buf_free(&js);
    return s;
}

static void test_differential(void)
{
    accord_snapshot *s = generated(1200), *l = NULL;
    accord_snapshot_stats a, c;
    accord_error err = {0};
    buf bytes, again, ev, m1, m2;
    size_t nmatch = 0;
    buf_init(&bytes, (size_t)1 << 30);
    buf_init(&again, (size_t)1 << 30);
    buf_init(&ev, (size_t)1 << 26);
    buf_init(&m1, (size_t)1 << 28);
    buf_init(&m2, (size_t)1 << 28);
    CHECK(msnap_serialise(s, &bytes) == 0);
    CHECK(msnap_is_serialised(bytes.p, bytes.len));
    CHECK(msnap_load(bytes.p, bytes.len, &l, &err) == 0);
    if (!l) {
        fprintf(stderr, "load: %s\n", err.msg);
        return;
    }
    accord_snapshot_stats_get(s, &a);
    accord_snapshot_stats_get(l, &c);
    printf("serialised: %zu bytes; %llu indicators (%llu fast, %llu engine), ipv4 %llu/%llu, "
           "ipv6 %llu/%llu, domains %llu/%llu, hashes %llu, ports %llu, ua %llu/%llu\n",
           bytes.len, (unsigned long long)c.indicators, (unsigned long long)c.simple,
           (unsigned long long)c.complex, (unsigned long long)c.ipv4,
           (unsigned long long)c.ipv4_prefixes, (unsigned long long)c.ipv6,
           (unsigned long long)c.ipv6_prefixes, (unsigned long long)c.domains,
           (unsigned long long)c.domain_suffixes, (unsigned long long)c.hashes,
           (unsigned long long)c.ports, (unsigned long long)c.user_agents,
           (unsigned long long)c.user_agent_patterns);
    CHECK(a.indicators == c.indicators && a.simple == c.simple && a.complex == c.complex &&
          a.skipped == c.skipped && a.ipv4 == c.ipv4 && a.ipv4_prefixes == c.ipv4_prefixes &&
          a.ipv6 == c.ipv6 && a.ipv6_prefixes == c.ipv6_prefixes && a.domains == c.domains &&
          a.domain_suffixes == c.domain_suffixes && a.urls == c.urls && a.emails == c.emails &&
          a.hashes == c.hashes && a.ports == c.ports && a.user_agents == c.user_agents &&
          a.user_agent_patterns == c.user_agent_patterns && a.memory == c.memory);
    /* every kind present */
    CHECK(c.ipv4 && c.ipv4_prefixes && c.ipv6 && c.ipv6_prefixes && c.domains &&
          c.domain_suffixes && c.urls && c.emails && c.hashes && c.ports && c.user_agents &&
          c.user_agent_patterns && c.complex > 50);
    CHECK(accord_snapshot_count(s) == accord_snapshot_count(l));
    /* written again from the loaded snapshot: the same bytes */
    CHECK(msnap_serialise(l, &again) == 0);
    CHECK(again.len == bytes.len && memcmp(again.p, bytes.p, bytes.len) == 0);

    buf_reset(&ev);
    for (int i = 0; i < 2000; i++) {
        buf line;
        buf_init(&line, 1 << 16);
        event(&line, i);
        buf_add(&ev, line.p, line.len);
        buf_free(&line);
    }
    run(s, ev.p, ev.len, &m1);
    run(l, ev.p, ev.len, &m2);
    for (size_t i = 0; i < m1.len; i++)
        nmatch += m1.p[i] == '\n';
    printf("differential: %zu matches over 2000 events\n", nmatch);
    CHECK(nmatch > 400);
    CHECK(m1.len == m2.len && memcmp(m1.p, m2.p, m1.len) == 0);
    if (m1.len != m2.len || memcmp(m1.p, m2.p, m1.len) != 0) {
        size_t k = 0;
        while (k < m1.len && k < m2.len && m1.p[k] == m2.p[k])
            k++;
        fprintf(stderr, "first difference at byte %zu: direct '%.200s' loaded '%.200s'\n", k,
                m1.p + k, m2.p + k);
    }
    /* partial matches carry from the compiled snapshot's matcher to the loaded one's */
    {
        accord_matcher *from = NULL, *to = NULL, *same = NULL;
        long carried, direct;
        CHECK(accord_matcher_new(s, &from) == 0 && accord_matcher_new(l, &to) == 0);
        CHECK(accord_matcher_new(s, &same) == 0);
        carried = accord_matcher_carry(to, from);
        direct = accord_matcher_carry(same, from);
        CHECK(carried > 0 && carried == direct); /* every multi-observation pattern */
        accord_matcher_free(from);
        accord_matcher_free(to);
        accord_matcher_free(same);
    }
    accord_snapshot_unref(l);
    accord_snapshot_unref(s);
    buf_free(&bytes);
    buf_free(&again);
    buf_free(&ev);
    buf_free(&m1);
    buf_free(&m2);
}

/* Damaged bytes: every single-byte change of a small snapshot is refused by a checksum; with the
 * checksums recomputed, changes reach the checks of the contents and are refused with a
 * message, or load into a snapshot that matches without reading past its tables (ASan). */
static void test_damage(void)
{
    accord_snapshot *s = generated(120), *l = NULL;
    accord_error err = {0};
    buf bytes, out;
    size_t refused = 0, loaded = 0;
    const char *line = "{\"id.orig_h\":\"10.1.2.3\",\"id.resp_h\":\"2001:db8:1::5\",\"id.resp_p\":443,"
                       "\"query\":\"www.evil.example\",\"user_agent\":\"curl/8.5.0\"}\n";
    buf_init(&bytes, (size_t)1 << 26);
    buf_init(&out, (size_t)1 << 20);
    CHECK(msnap_serialise(s, &bytes) == 0);
    char *copy = malloc(bytes.len);
    for (size_t i = 0; i < bytes.len; i += 1 + bytes.len / 3000) {
        memcpy(copy, bytes.p, bytes.len);
        copy[i] ^= (char)(1 + rn(255));
        if (msnap_load(copy, bytes.len, &l, &err) == 0) {
            accord_snapshot_unref(l); /* a byte the format does not use (the reserved word) */
            continue;
        }
        refused++;
        CHECK(strncmp(err.msg, "snapshot: ", 10) == 0);
    }
    CHECK(refused > 2000);
    for (int k = 0; k < 400; k++) { /* a loaded IPv4 prefix table is 64 MiB of address space */
        size_t at = 48 + rn((unsigned)(bytes.len - 48));
        memcpy(copy, bytes.p, bytes.len);
        for (int j = 0, nb = 1 + (int)rn(3); j < nb; j++)
            copy[(at + (size_t)j * rn(64)) % bytes.len] ^= (char)(1 + rn(255));
        msnap_reseal(copy, bytes.len); /* fails when the magic itself was hit */
        err.msg[0] = '\0';
        if (msnap_load(copy, bytes.len, &l, &err) == 0) {
            loaded++;
            run(l, line, strlen(line), &out);
            accord_snapshot_unref(l);
        } else {
            refused++;
            CHECK(err.msg[0] != '\0');
        }
    }
    /* truncated and empty */
    CHECK(msnap_load(bytes.p, bytes.len - 8, &l, &err) == ACCORD_EINVAL);
    CHECK(msnap_load(bytes.p, 0, &l, &err) == ACCORD_EINVAL);
    CHECK(strstr(err.msg, "magic") != NULL);
    printf("damage: %zu refused, %zu loaded after resealing\n", refused, loaded);
    free(copy);
    buf_free(&bytes);
    buf_free(&out);
    accord_snapshot_unref(s);
}

/* Enough exact IPv4 keys for the /24 occupancy bitmap: the loaded snapshot makes the same
 * bitmap from its keys and matches the same events (keys, their neighbours, empty /24s). */
static void test_ip4_bitmap(void)
{
    enum { N = 70000, E = 3000 };
    accord_snapshot_builder *b = NULL;
    accord_snapshot *s = NULL, *l = NULL;
    buf bytes, ev, a, c;
    char pat[80], id[64];
    buf_init(&bytes, 1u << 28);
    buf_init(&ev, 1u << 20);
    buf_init(&a, 1u << 24);
    buf_init(&c, 1u << 24);
    mip_set_x24_min(N);
    CHECK(accord_snapshot_builder_new(0, &b) == 0);
    for (uint32_t i = 0; i < N; i++) { /* 10.x.y.z with y even: the odd /24s stay empty */
        snprintf(id, sizeof id, "indicator--%08x-0000-4000-8000-000000000000", i);
        snprintf(pat, sizeof pat, "[ipv4-addr:value = '10.%u.%u.%u']", i >> 15 & 255,
                 (i >> 7 & 255) & ~1u, (i * 37) & 255);
        CHECK(accord_snapshot_builder_add(b, id, "n", pat, 0, 0, NULL) == 0);
    }
    CHECK(accord_snapshot_build(b, &s, NULL) == 0);
    accord_snapshot_builder_free(b);
    for (int i = 0; i < E; i++)
        buf_printf(&ev, "{\"id.orig_h\":\"10.%u.%u.%u\",\"id.resp_h\":\"10.%u.%u.%u\"}\n", rn(3),
                   rn(256) & ~1u, rn(256), rn(3), rn(256), rn(256));
    CHECK(s && s->ip.x24 != NULL);
    CHECK(s && msnap_serialise(s, &bytes) == 0);
    CHECK(msnap_load(bytes.p, bytes.len, &l, NULL) == 0);
    CHECK(l && l->ip.x24 && s->ip.x24 && memcmp(l->ip.x24, s->ip.x24, MIP_X24_BYTES) == 0);
    if (s && l) {
        run(s, ev.p, ev.len, &a);
        run(l, ev.p, ev.len, &c);
        CHECK(a.len > 1000 && a.len == c.len && memcmp(a.p, c.p, a.len) == 0);
    }
    mip_set_x24_min(0);
    accord_snapshot_unref(l);
    accord_snapshot_unref(s);
    buf_free(&bytes);
    buf_free(&ev);
    buf_free(&a);
    buf_free(&c);
}

/* An empty snapshot round-trips too. */
static void test_empty(void)
{
    accord_snapshot_builder *b = NULL;
    accord_snapshot *s = NULL, *l = NULL;
    buf bytes;
    buf_init(&bytes, 1 << 20);
    CHECK(accord_snapshot_builder_new(0, &b) == 0);
    CHECK(accord_snapshot_build(b, &s, NULL) == 0);
    accord_snapshot_builder_free(b);
    CHECK(msnap_serialise(s, &bytes) == 0);
    CHECK(msnap_load(bytes.p, bytes.len, &l, NULL) == 0);
    CHECK(l && accord_snapshot_count(l) == 0);
    accord_snapshot_unref(l);
    accord_snapshot_unref(s);
    buf_free(&bytes);
}

int main(void)
{
    test_differential();
    test_damage();
    test_empty();
    test_ip4_bitmap();
    printf("%d passed, %d failed\n", t_passed, t_failed);
    return t_failed != 0;
}
