/*
 * test_match_values.c - accord_matcher_match_values (decoded values, no JSON) against the JSON
 * path: random indicators (fast tables and pattern-engine patterns over network-traffic ports
 * and protocols) and random events, each given once as typed values and once as the Zeek JSON
 * line with the same values; both must give the same matches (line, field, value, time,
 * indicators), in the same order.  Also: default field names, invalid values, validity.
 */
#include "accord.h"
#include "t.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t_rng.h"

static unsigned rndn(unsigned n)
{
    return (unsigned)(t_rnd() % n);
}

#define NV4 40
#define NV6 16
#define NDOM 40

static uint8_t v4[NV4][4], v6[NV6][16];
static char doms[NDOM][64];

static const char *labels[] = {"a", "b", "evil", "example", "com", "net", "x-y", "badexample"};

static void make_pools(void)
{
    for (int i = 0; i < NV4; i++) {
        v4[i][0] = 10;
        v4[i][1] = (uint8_t)rndn(3);
        v4[i][2] = (uint8_t)rndn(4);
        v4[i][3] = (uint8_t)rndn(256);
    }
    for (int i = 0; i < NV6; i++) {
        memset(v6[i], 0, 16);
        v6[i][0] = 0x20;
        v6[i][1] = 0x01;
        v6[i][2] = (uint8_t)rndn(3);
        v6[i][15] = (uint8_t)rndn(32);
    }
    for (int i = 0; i < NDOM; i++) {
        size_t n = 0, k = 1 + rndn(4);
        for (size_t j = 0; j < k; j++)
            n += (size_t)snprintf(doms[i] + n, sizeof doms[i] - n, "%s%s", j ? "." : "",
                                  labels[rndn(8)]);
    }
}

static void fmt4(const uint8_t *a, char *out, size_t cap)
{
    snprintf(out, cap, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
}

static void fmt6(const uint8_t *a, char *out, size_t cap)
{
    /* the pool only uses words 0, 1 and 7: 2001:X::Y (or 2001:X:: / 2001::Y forms) */
    unsigned w1 = a[2] << 8 | a[3], w7 = a[14] << 8 | a[15];
    if (w1 && w7)
        snprintf(out, cap, "2001:%x::%x", w1, w7);
    else if (w1)
        snprintf(out, cap, "2001:%x::", w1);
    else if (w7)
        snprintf(out, cap, "2001::%x", w7);
    else
        snprintf(out, cap, "2001::");
}

static void addr_text(int six, int i, char *out, size_t cap)
{
    if (six)
        fmt6(v6[i], out, cap);
    else
        fmt4(v4[i], out, cap);
}

static char *rnd_pattern(void)
{
    char a[64], buf[512];
    int six = rndn(4) == 0;
    addr_text(six, six ? (int)rndn(NV6) : (int)rndn(NV4), a, sizeof a);
    switch (rndn(9)) {
    case 0:
        snprintf(buf, sizeof buf, "[%s:value = '%s']", six ? "ipv6-addr" : "ipv4-addr", a);
        break;
    case 1:
        snprintf(buf, sizeof buf, "[%s:value ISSUBSET '%s/%d']", six ? "ipv6-addr" : "ipv4-addr",
                 six ? "2001::" : "10.1.0.0", six ? 16 : 16);
        break;
    case 2:
        snprintf(buf, sizeof buf, "[domain-name:value = '%s']", doms[rndn(NDOM)]);
        break;
    case 3:
        snprintf(buf, sizeof buf, "[domain-name:value LIKE '%%.%s']", doms[rndn(NDOM)]);
        break;
    case 4:
        snprintf(buf, sizeof buf, "[url:value = 'http://%s/x']", doms[rndn(NDOM)]);
        break;
    case 5:
        snprintf(buf, sizeof buf,
                 "[network-traffic:dst_ref.value = '%s' AND network-traffic:dst_port = %u]", a,
                 rndn(2) ? 53 : 443);
        break;
    case 6:
        snprintf(buf, sizeof buf,
                 "[network-traffic:src_port > 30000 AND network-traffic:protocols[*] = 'udp' AND "
                 "network-traffic:src_ref.value = '%s']",
                 a);
        break;
    case 7:
        snprintf(buf, sizeof buf, "[domain-name:value = '%s' AND ipv4-addr:value = '%s']",
                 doms[rndn(NDOM)], a);
        break;
    default:
        snprintf(buf, sizeof buf, "[ipv4-addr:value = '%s' OR domain-name:value = '%s']", a,
                 doms[rndn(NDOM)]);
        break;
    }
    return strdup(buf);
}

/* One random event as values (into v, fields named as Zeek names them) and as a Zeek JSON line
 * (appended to json). */
typedef struct ev_store {
    accord_value v[8];
    char text[4][96];
} ev_store;

static void rnd_event(ev_store *s, accord_value_event *ev, char *json, size_t cap)
{
    static const char *protos[] = {"tcp", "udp", "icmp"};
    size_t n = 0, k = 0;
    char a[64];
    memset(ev, 0, sizeof *ev);
    memset(s->v, 0, sizeof s->v);
    ev->time_us = rndn(5) == 0 ? 0 : 1600000000ll * 1000000 + (int64_t)rndn(1000000000);
    if (ev->time_us)
        n += (size_t)snprintf(json + n, cap - n, "{\"ts\":%lld.%06lld",
                              (long long)(ev->time_us / 1000000),
                              (long long)(ev->time_us % 1000000));
    else
        n += (size_t)snprintf(json + n, cap - n, "{\"uid\":\"C1\"");
    for (int r = 0; r < 2; r++) {
        accord_value *v;
        int six = rndn(4) == 0, i = six ? (int)rndn(NV6) : (int)rndn(NV4);
        if (rndn(4) == 0)
            continue;
        v = &s->v[k++];
        v->type = six ? ACCORD_VALUE_IPV6 : ACCORD_VALUE_IPV4;
        v->role = r == 0 ? ACCORD_ROLE_SRC : ACCORD_ROLE_DST;
        v->field = r == 0 ? "id.orig_h" : "id.resp_h";
        memcpy(v->addr, six ? v6[i] : v4[i], six ? 16 : 4);
        v->port = rndn(5) == 0 ? -1 : r == 1 && rndn(2) ? (rndn(2) ? 53 : 443) : (int)rndn(65536);
        addr_text(six, i, a, sizeof a);
        n += (size_t)snprintf(json + n, cap - n, ",\"%s\":\"%s\"", v->field, a);
        if (v->port >= 0)
            n += (size_t)snprintf(json + n, cap - n, ",\"%s\":%d",
                                  r == 0 ? "id.orig_p" : "id.resp_p", (int)v->port);
    }
    if (rndn(3)) {
        ev->proto = protos[rndn(3)];
        n += (size_t)snprintf(json + n, cap - n, ",\"proto\":\"%s\"", ev->proto);
    }
    if (rndn(2)) { /* a query name, sometimes upper case, with a trailing dot, or an address */
        accord_value *v = &s->v[k++];
        char *t = s->text[0];
        int form = (int)rndn(6);
        if (form == 0)
            fmt4(v4[rndn(NV4)], t, sizeof s->text[0]);
        else
            snprintf(t, sizeof s->text[0], "%s%s", doms[rndn(NDOM)], form == 1 ? "." : "");
        if (form == 2)
            for (char *c = t; *c; c++)
                *c = *c >= 'a' && *c <= 'z' ? (char)(*c - 32) : *c;
        if (form == 3)
            snprintf(t, sizeof s->text[0], "bad..name");
        v->type = ACCORD_VALUE_DOMAIN;
        v->field = "query";
        v->text = t;
        v->text_len = strlen(t);
        n += (size_t)snprintf(json + n, cap - n, ",\"query\":\"%s\"", t);
    }
    if (rndn(3) == 0) { /* an absolute URL */
        accord_value *v = &s->v[k++];
        char *t = s->text[1];
        snprintf(t, sizeof s->text[1], "http://%s%s/x", doms[rndn(NDOM)], rndn(2) ? ":80" : "");
        v->type = ACCORD_VALUE_URL;
        v->text = t;
        v->text_len = strlen(t);
        n += (size_t)snprintf(json + n, cap - n, ",\"uri\":\"%s\"", t);
    }
    snprintf(json + n, cap - n, "}\n");
    ev->values = s->v;
    ev->nvalues = k;
}

/* The matches of the last call as text: one line each. */
static void results(accord_matcher *m, char *out, size_t cap)
{
    accord_match mt;
    size_t k = 0;
    out[0] = '\0';
    while (accord_matcher_next(m, &mt) == 1 && k + 512 < cap) {
        k += (size_t)snprintf(out + k, cap - k, "%llu %s %.*s t=%.*s(%d) [",
                              (unsigned long long)mt.line, mt.field ? mt.field : "-",
                              (int)mt.value_len, mt.value ? mt.value : "", (int)mt.time_len,
                              mt.time ? mt.time : "", mt.time_is_string);
        for (size_t i = 0; i < mt.nindicators; i++)
            k += (size_t)snprintf(out + k, cap - k, "%s%u", i ? "," : "", mt.indicators[i]);
        k += (size_t)snprintf(out + k, cap - k, "]\n");
    }
}

static void test_against_json(void)
{
    enum { NP = 400, NE = 3000, PER = 150 };
    static char *pats[NP];
    static ev_store st[PER];
    static accord_value_event evs[PER];
    static char lines[PER * 512], want[1 << 20], got[1 << 20];
    accord_snapshot_builder *b = NULL;
    accord_snapshot *s = NULL;
    accord_matcher *mj = NULL, *mv = NULL;
    accord_snapshot_stats ss;
    accord_matcher_stats ms;
    long total = 0, bad = 0, complex = 0;
    make_pools();
    CHECK(accord_snapshot_builder_new(0, &b) == 0);
    for (int i = 0; i < NP; i++) {
        char id[64];
        accord_error err = {0};
        pats[i] = rnd_pattern();
        snprintf(id, sizeof id, "indicator--00000000-0000-4000-8000-%012d", i);
        if (accord_snapshot_builder_add(b, id, "n", pats[i], 0, 0, &err) != 0)
            fprintf(stderr, "pattern %s: %s\n", pats[i], err.msg);
    }
    CHECK(accord_snapshot_build(b, &s, NULL) == 0);
    accord_snapshot_builder_free(b);
    accord_snapshot_stats_get(s, &ss);
    CHECK(ss.simple > 0 && ss.complex > 0);
    CHECK(accord_matcher_new(s, &mj) == 0);
    CHECK(accord_matcher_new(s, &mv) == 0);
    for (int round = 0; round < NE / PER; round++) {
        size_t n = 0;
        long rj, rv;
        for (int e = 0; e < PER; e++) {
            rnd_event(&st[e], &evs[e], lines + n, sizeof lines - n);
            n += strlen(lines + n);
        }
        rj = accord_matcher_match_lines(mj, lines, n, 0);
        rv = accord_matcher_match_values(mv, evs, PER, 0);
        results(mj, want, sizeof want);
        results(mv, got, sizeof got);
        CHECK(rj >= 0 && rj == rv);
        total += rj;
        for (const char *p = want; (p = strstr(p, " - ")); p++)
            complex++;
        if (strcmp(want, got) != 0 && bad++ < 2)
            fprintf(stderr, "JSON path:\n%s\nvalues:\n%s\nlines:\n%s\n", want, got, lines);
    }
    printf("values vs JSON: %d events, %ld matches (%ld by the pattern engine), %ld rounds "
           "disagree\n",
           NE, total, complex, bad);
    CHECK(bad == 0);
    CHECK(total > NE / 5);
    CHECK(complex > 20);
    accord_matcher_stats_get(mv, &ms);
    CHECK(ms.events == NE);
    accord_matcher_free(mj);
    accord_matcher_free(mv);
    accord_snapshot_unref(s);
    for (int i = 0; i < NP; i++)
        free(pats[i]);
}

static void test_names_and_validity(void)
{
    accord_snapshot_builder *b = NULL;
    accord_snapshot *s = NULL;
    accord_matcher *m = NULL;
    accord_value v[5] = {{0}};
    accord_value_event ev = {v, 5, 0, NULL};
    char out[4096];
    CHECK(accord_snapshot_builder_new(1700000000, &b) == 0);
    CHECK(accord_snapshot_builder_add(b, "indicator--00000000-0000-4000-8000-000000000000", "a",
                                      "[ipv4-addr:value = '192.0.2.1']", 0, 1800000000, NULL) == 0);
    CHECK(accord_snapshot_builder_add(b, "indicator--00000000-0000-4000-8000-000000000001", "b",
                                      "[ipv6-addr:value ISSUBSET '2001:db8::/32']", 0, 0,
                                      NULL) == 0);
    CHECK(accord_snapshot_builder_add(b, "indicator--00000000-0000-4000-8000-000000000002", "c",
                                      "[domain-name:value LIKE '%.evil.example']", 0, 0,
                                      NULL) == 0);
    CHECK(accord_snapshot_build(b, &s, NULL) == 0);
    accord_snapshot_builder_free(b);
    CHECK(accord_matcher_new(s, &m) == 0);
    v[0] = (accord_value){ACCORD_VALUE_IPV4, ACCORD_ROLE_SRC, NULL, {192, 0, 2, 1}, 5353, NULL, 0};
    v[1] =
        (accord_value){ACCORD_VALUE_IPV6, ACCORD_ROLE_DST, NULL, {0x20, 1, 0xd, 0xb8}, -1, NULL, 0};
    v[1].addr[15] = 1;
    v[2] = (accord_value){ACCORD_VALUE_DOMAIN, 0, NULL, {0}, -1, "WWW.Evil.Example.", 17};
    v[3] = (accord_value){ACCORD_VALUE_DOMAIN, 0, "qname", {0}, -1, "a..b", 4}; /* invalid */
    v[4] = (accord_value){99, 0, NULL, {0}, -1, NULL, 0};                       /* unknown type */
    CHECK(accord_matcher_match_values(m, &ev, 1, 1750000000) == 3);
    results(m, out, sizeof out);
    CHECK_STR(out, "1 src 192.0.2.1 t=(0) [0]\n1 dst 2001:db8::1 t=(0) [1]\n"
                   "1 domain www.evil.example t=(0) [2]\n");
    /* after the first indicator's valid_until, only the others */
    ev.time_us = 1850000000000001;
    CHECK(accord_matcher_match_values(m, &ev, 1, 1850000000) == 2);
    results(m, out, sizeof out);
    CHECK_STR(out, "1 dst 2001:db8::1 t=1850000000.000001(0) [1]\n"
                   "1 domain www.evil.example t=1850000000.000001(0) [2]\n");
    CHECK(accord_matcher_match_values(m, &ev, 0, 0) == 0);
    accord_matcher_free(m);
    accord_snapshot_unref(s);
}

/* Sightings counted under two snapshots are merged per indicator id and interval. */
static void test_sightings_across_snapshots(void)
{
    accord_snapshot *s[2];
    accord_sightings *sg = NULL;
    accord_matcher *m = NULL;
    accord_match mt;
    char *json = NULL;
    size_t len = 0;
    for (int k = 0; k < 2; k++) { /* the second snapshot numbers the indicators differently */
        accord_snapshot_builder *b = NULL;
        accord_snapshot_builder_new(0, &b);
        if (k)
            accord_snapshot_builder_add(b, "indicator--00000000-0000-4000-8000-000000000009", "z",
                                        "[ipv4-addr:value = '192.0.2.9']", 0, 0, NULL);
        accord_snapshot_builder_add(b, "indicator--00000000-0000-4000-8000-000000000001", "a",
                                    "[ipv4-addr:value = '192.0.2.1']", 0, 0, NULL);
        CHECK(accord_snapshot_build(b, &s[k], NULL) == 0);
        accord_snapshot_builder_free(b);
    }
    CHECK(accord_sightings_new(s[0], 3600, &sg) == 0);
    for (int k = 0; k < 2; k++) {
        const char *lines = "{\"ts\":1700000000,\"id.resp_h\":\"192.0.2.1\"}\n"
                            "{\"ts\":1700000001,\"id.resp_h\":\"192.0.2.9\"}\n";
        CHECK(accord_sightings_set_snapshot(sg, s[k]) == 0);
        CHECK(accord_matcher_new(s[k], &m) == 0);
        accord_matcher_match_lines(m, lines, strlen(lines), 0);
        while (accord_matcher_next(m, &mt) == 1)
            CHECK(accord_sightings_add_match(sg, &mt, 0) == 0);
        accord_matcher_free(m);
    }
    CHECK(accord_sightings_count(sg) == 2);
    CHECK(accord_sightings_bundle(sg, "identity--00000000-0000-4000-8000-000000000000", &json,
                                  &len) == 0);
    CHECK(json && strstr(json, "\"count\":2,\"first_seen\":\"2023-11-14T22:13:20.000000Z\"") &&
          strstr(json, "000000000001\""));
    CHECK(json && strstr(json, "\"count\":1,") && strstr(json, "000000000009\""));
    free(json);
    accord_sightings_free(sg);
    accord_snapshot_unref(s[0]);
    accord_snapshot_unref(s[1]);
}

int main(void)
{
    test_sightings_across_snapshots();
    test_names_and_validity();
    test_against_json();
    return t_done();
}
