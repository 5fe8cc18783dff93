/*
 * test_nats_temporal.c - multi-observation patterns combined from leaf hits
 * (src/nats_temporal.c, pattern_matcher_leaves and pattern_history in src/pattern_index.c).
 *
 * Generated observations (one a second, addresses and domains drawn from small sets) are fed to
 * one pattern matcher, which combines them itself, and, cut into chunks of 7, to two matchers
 * in leaf mode that take the chunks alternately (as two workers would); their leaf hits, put
 * back in observation order, go through ntemporal.  Both must report the same (observation,
 * pattern) hits, for FOLLOWEDBY, REPEATS, AND, OR and WITHIN patterns.  The observations that
 * ntemporal_prunable lets the collector delete change nothing that later ones complete.
 */
#include "nats_temporal.h"
#include "t.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const pats[] = {
    "[ipv4-addr:value = '10.0.0.1'] FOLLOWEDBY [domain-name:value = 'evil.example']",
    "([ipv4-addr:value = '10.0.0.2'] FOLLOWEDBY [domain-name:value = 'evil.example']) WITHIN 5 "
    "SECONDS",
    "[ipv4-addr:value = '10.0.0.3'] REPEATS 3 TIMES WITHIN 20 SECONDS",
    "[ipv4-addr:value = '10.0.0.1'] AND [domain-name:value = 'bad.example']",
    "([ipv4-addr:value = '10.0.0.3'] OR [domain-name:value = 'bad.example']) REPEATS 2 TIMES",
    "[ipv4-addr:value = '10.0.0.4']", /* one observation: reported by the matchers themselves */
};
#define NPATS (sizeof pats / sizeof pats[0])
#define NOBS 600
#define CHUNK 7

typedef struct hit {
    uint32_t obs, pat;
} hit;

typedef struct hits {
    hit v[NOBS * NPATS * 4];
    size_t n;
    uint32_t cur; /* the observation being fed */
} hits;

typedef struct leafhit {
    uint32_t obs, pat;
    ntemp_obs o;
} leafhit;

typedef struct leafhits {
    leafhit v[NOBS * NPATS];
    size_t n;
    uint32_t cur;
} leafhits;

static void on_hit(void *ud, uint64_t tag, size_t index)
{
    hits *h = ud;
    (void)index;
    h->v[h->n++] = (hit){h->cur, (uint32_t)tag};
}

static void on_leaf(void *ud, uint64_t tag, size_t pat, uint64_t leaves, const pattern_tobs *t)
{
    leafhits *l = ud;
    (void)pat;
    l->v[l->n++] = (leafhit){l->cur, (uint32_t)tag, {1000 + tag, leaves, *t}};
}

static int hit_cmp(const void *a, const void *b)
{
    const hit *x = a, *y = b;
    return x->obs != y->obs ? (x->obs > y->obs) - (x->obs < y->obs)
                            : (x->pat > y->pat) - (x->pat < y->pat);
}

static int leaf_cmp(const void *a, const void *b)
{
    const leafhit *x = a, *y = b;
    return x->obs != y->obs ? (x->obs > y->obs) - (x->obs < y->obs)
                            : (x->pat > y->pat) - (x->pat < y->pat);
}

/* Observation i: an observed-data object with an address and a domain, one second apart. */
static int obs_json(uint32_t i, unsigned seed, char *out, size_t len)
{
    static const char *const ips[] = {"10.0.0.1", "10.0.0.2", "10.0.0.3",
                                      "10.0.0.4", "10.9.9.9", "10.9.9.8"};
    static const char *const doms[] = {"evil.example", "bad.example", "fine.example", "ok.example",
                                       "ok.example"};
    unsigned r = (i * 2654435761u) ^ seed;
    int64_t t = 1700000000 + i;
    char ts[40];
    snprintf(ts, sizeof ts, "%04d-11-14T22:%02d:%02dZ", 2023, (int)((t / 60) % 60), (int)(t % 60));
    return snprintf(
        out, len,
        "{\"type\":\"observed-data\",\"id\":\"observed-data--%08u-0000-4000-8000-000000000000\","
        "\"first_observed\":\"%s\",\"last_observed\":\"%s\",\"number_observed\":1,"
        "\"objects\":{\"0\":{\"type\":\"ipv4-addr\",\"value\":\"%s\"},"
        "\"1\":{\"type\":\"domain-name\",\"value\":\"%s\"}}}",
        i, ts, ts, ips[(r >> 3) % 6], doms[(r >> 11) % 5]);
}

static accord_pattern_set *set_of(void)
{
    accord_pattern_set *s = NULL;
    accord_error err;
    CHECK(accord_pattern_set_new(&s) == 0);
    for (size_t i = 0; i < NPATS; i++)
        CHECK(accord_pattern_set_add(s, pats[i], strlen(pats[i]), 0, i, &err) == 0);
    CHECK(accord_pattern_set_build(s, &err) == 0);
    return s;
}

static void test_split_equals_whole(unsigned seed)
{
    static hits whole, split;
    static leafhits leaves;
    accord_pattern_set *set = set_of();
    accord_pattern_matcher *one = NULL, *w[2] = {NULL, NULL};
    ntemporal *nt = NULL;
    char doc[1024];
    accord_error err;
    size_t combined = 0;
    whole.n = split.n = leaves.n = 0;
    CHECK(accord_pattern_matcher_new(set, &one) == 0);
    for (int k = 0; k < 2; k++) {
        CHECK(accord_pattern_matcher_new(set, &w[k]) == 0);
        CHECK(pattern_matcher_leaves(w[k], on_leaf, &leaves) == 0);
    }
    for (uint32_t i = 0; i < NOBS; i++) {
        int n = obs_json(i, seed, doc, sizeof doc);
        whole.cur = split.cur = leaves.cur = i;
        CHECK(accord_pattern_matcher_feed(one, doc, (size_t)n, on_hit, &whole, &err) == 0);
        /* chunks of CHUNK observations, alternately to the two leaf matchers */
        CHECK(accord_pattern_matcher_feed(w[(i / CHUNK) % 2], doc, (size_t)n, on_hit, &split,
                                          &err) == 0);
    }
    /* the combination, in observation order */
    CHECK(ntemporal_new(&nt) == 0);
    for (size_t i = 0; i < NPATS; i++)
        if (strstr(pats[i], "FOLLOWEDBY") || strstr(pats[i], "REPEATS") || strstr(pats[i], "AND"))
            CHECK(ntemporal_define(nt, 1000 + i, pats[i], strlen(pats[i]), 0, &err) == 0);
    qsort(leaves.v, leaves.n, sizeof *leaves.v, leaf_cmp);
    for (size_t i = 0; i < leaves.n; i++) {
        int rc = ntemporal_add(nt, "src", &leaves.v[i].o);
        CHECK(rc == 0 || rc == 1);
        if (rc == 1) {
            split.v[split.n++] = (hit){leaves.v[i].obs, leaves.v[i].pat};
            combined++;
        }
    }
    qsort(whole.v, whole.n, sizeof *whole.v, hit_cmp);
    qsort(split.v, split.n, sizeof *split.v, hit_cmp);
    CHECK(whole.n > 50);
    CHECK(split.n == whole.n);
    CHECK(whole.n == split.n && memcmp(whole.v, split.v, whole.n * sizeof *whole.v) == 0);
    for (size_t p = 0; p < NPATS; p++) { /* every pattern hits, so each one is compared */
        size_t k = 0;
        for (size_t i = 0; i < whole.n; i++)
            k += whole.v[i].pat == p;
        CHECK(k > 0);
    }
    /* another source starts empty: the same leaf hits fed there again combine the same */
    {
        size_t again = 0;
        for (size_t i = 0; i < leaves.n; i++)
            again += ntemporal_add(nt, "other", &leaves.v[i].o) == 1;
        CHECK(again == combined && combined > 0);
    }
    ntemporal_free(nt);
    for (int k = 0; k < 2; k++)
        accord_pattern_matcher_free(w[k]);
    accord_pattern_matcher_free(one);
    accord_pattern_set_free(set);
}

static void test_lines(void)
{
    ajson_arena a;
    ajson_error je;
    const ajson_value *o;
    ntemp_obs in = {0x0123456789abcdefull, 0x5, {{-5, 7, 9}, {1700000000, 999999999, 9}, 3}}, out;
    buf b;
    const char *why = NULL, *text;
    uint64_t key;
    size_t len;
    int v20;
    static const char *const bad[] = {
        "{\"obs\":1}",
        "{\"obs\":{\"key\":\"xyz\",\"leaves\":\"1\",\"t\":[0,0,0,0,1]}}",
        "{\"obs\":{\"key\":\"1\",\"leaves\":\"0\",\"t\":[0,0,0,0,1]}}",
        "{\"obs\":{\"key\":\"1\",\"leaves\":\"1\",\"t\":[0,0,0,0]}}",
        "{\"obs\":{\"key\":\"1\",\"leaves\":\"1\",\"t\":[0,1000000000,0,0,1]}}",
        "{\"obs\":{\"key\":\"1\",\"leaves\":\"1\",\"t\":[0,0,0,0,0]}}",
        "{\"obs\":{\"key\":\"1\",\"leaves\":\"1\",\"t\":[1000000000001,0,0,0,1]}}",
        "{\"obs\":{\"key\":\"11112222333344445\",\"leaves\":\"1\",\"t\":[0,0,0,0,1]}}",
        "{\"obs\":{\"key\":\"1\",\"leaves\":\"1\",\"t\":[0.5,0,0,0,1]}}",
    };
    ajson_arena_init(&a, 1 << 16);
    buf_init(&b, 1 << 12);
    CHECK(buf_adds(&b, "{") == 0 && ntemp_obs_write(&in, &b) == 0 && buf_adds(&b, "}") == 0);
    o = ajson_parse(&a, b.p, b.len, &je);
    CHECK(o && ntemp_obs_read(o, &out, &why) == 1);
    CHECK(out.key == in.key && out.leaves == in.leaves && out.t.count == 3);
    CHECK(out.t.first.sec == -5 && out.t.first.nsec == 7 && out.t.last.nsec == 999999999);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        o = ajson_parse(&a, bad[i], strlen(bad[i]), &je);
        why = NULL;
        CHECK(o && ntemp_obs_read(o, &out, &why) == -1 && why != NULL);
    }
    o = ajson_parse(&a, "{\"line\":1}", 10, &je);
    CHECK(ntemp_obs_read(o, &out, &why) == 0);
    CHECK(ntemp_pattern_read(o, &key, &text, &len, &v20, &why) == 0);
    o = ajson_parse(&a, "{\"pattern\":{\"key\":\"ff\",\"v20\":false,\"text\":\"[a:b = 1]\"}}", 55,
                    &je);
    CHECK(o && ntemp_pattern_read(o, &key, &text, &len, &v20, &why) == 1);
    CHECK(key == 0xff && v20 == 0 && len == 9 && memcmp(text, "[a:b = 1]", 9) == 0);
    o = ajson_parse(&a, "{\"pattern\":{\"key\":\"ff\",\"v20\":0,\"text\":\"x\"}}", 43, &je);
    CHECK(o && ntemp_pattern_read(o, &key, &text, &len, &v20, &why) == -1 && strstr(why, "v20"));
    buf_free(&b);
    ajson_arena_free(&a);
}

static void test_state_errors(void)
{
    ntemporal *nt = NULL;
    accord_error err;
    ntemp_obs o = {7, 1, {{1, 0, 9}, {1, 0, 9}, 1}};
    const char *fb = "[ipv4-addr:value = '1.2.3.4'] FOLLOWEDBY [ipv4-addr:value = '1.2.3.5']";
    CHECK(ntemporal_new(&nt) == 0);
    CHECK(ntemporal_add(nt, "s", &o) == ACCORD_ENOTFOUND);
    CHECK(ntemporal_define(nt, 7, "[ipv4-addr:value = '1.2.3.4']", 29, 0, &err) == ACCORD_EINVAL);
    CHECK(strstr(err.msg, "multi-observation") != NULL);
    CHECK(ntemporal_define(nt, 7, "[nonsense", 9, 0, &err) == ACCORD_EINVAL);
    CHECK(ntemporal_define(nt, 7, fb, strlen(fb), 0, &err) == 0);
    CHECK(ntemporal_known(nt, 7) && !ntemporal_known(nt, 8));
    CHECK(!ntemporal_has_source(nt, "s"));
    CHECK(ntemporal_add(nt, "s", &o) == 0); /* the first half */
    CHECK(ntemporal_has_source(nt, "s"));
    o.leaves = 4; /* a third leaf the pattern does not have */
    CHECK(ntemporal_add(nt, "s", &o) == ACCORD_EINVAL);
    o.leaves = 2;
    o.t.first.sec = o.t.last.sec = 2;
    CHECK(ntemporal_add(nt, "s", &o) == 1);     /* completes it */
    CHECK(ntemporal_add(nt, "other", &o) == 0); /* another source saw no first half */
    ntemporal_reset(nt);
    CHECK(!ntemporal_has_source(nt, "s") && ntemporal_known(nt, 7));
    CHECK(ntemporal_add(nt, "s", &o) == 0); /* state gone with the reset */
    ntemporal_free(nt);
    ntemporal_free(NULL);
}

/*
 * Pruning (ntemporal_prunable): leaf hits of one source with times that mostly rise, some out of
 * order, fed whole to one state; and cut at c, the prunable prefix of obs[0..c) left out, the
 * rest fed to another state, then both fed obs[c..n): every later observation must complete in
 * both or in neither.
 */
static void test_prune_keeps_state(unsigned seed)
{
    static const char *const wp[] = {
        "([ipv4-addr:value = '10.0.0.2'] FOLLOWEDBY [domain-name:value = 'evil.example']) WITHIN 5 "
        "SECONDS",
        "[ipv4-addr:value = '10.0.0.3'] REPEATS 3 TIMES WITHIN 20 SECONDS",
        "([ipv4-addr:value = '10.0.0.3'] AND [domain-name:value = 'a.example'] AND "
        "[domain-name:value = 'b.example']) WITHIN 30 SECONDS",
        "[ipv4-addr:value = '10.0.0.1'] FOLLOWEDBY [domain-name:value = 'evil.example']",
    };
    enum { N = 900 };
    static ntemp_obs o[N];
    static int whole[N];
    static pattern_tobs t[N];
    accord_error err;
    size_t pruned = 0, nhits = 0;
    unsigned r = seed;
    for (uint64_t key = 0; key < 4; key++) {
        ntemporal *a = NULL;
        uint32_t nleaves = key == 2 ? 3 : key == 1 ? 1 : 2;
        CHECK(ntemporal_new(&a) == 0);
        CHECK(ntemporal_define(a, key, wp[key], strlen(wp[key]), 0, &err) == 0);
        for (size_t i = 0; i < N; i++) {
            int64_t s;
            r = r * 1103515245u + 12345u;
            s = 1700000000 + (int64_t)i - (int64_t)((r >> 8) % 8); /* up to 7 s out of order */
            o[i].key = key;
            o[i].leaves = 1 + (r >> 16) % ((1u << nleaves) - 1);
            o[i].t.first = (ts_value){s, (int32_t)((r >> 4) % 1000) * 1000000, 9};
            o[i].t.last = (ts_value){s + (int64_t)((r >> 20) % 3), 0, 9};
            o[i].t.count = 1;
            t[i] = o[i].t;
            whole[i] = ntemporal_add(a, "a", &o[i]);
            CHECK(whole[i] == 0 || whole[i] == 1);
            nhits += whole[i] == 1;
        }
        for (size_t c = 0; c <= N; c += 113) {
            ntemporal *b = NULL;
            size_t k = ntemporal_prunable(a, key, t, c);
            int same = 1;
            CHECK(k <= c);
            CHECK(ntemporal_new(&b) == 0);
            CHECK(ntemporal_define(b, key, wp[key], strlen(wp[key]), 0, &err) == 0);
            for (size_t i = k; i < c; i++)
                ntemporal_add(b, "b", &o[i]);
            for (size_t i = c; i < N; i++)
                same &= ntemporal_add(b, "b", &o[i]) == whole[i];
            CHECK(same);
            if (key == 3)
                CHECK(k == 0); /* no outermost WITHIN: nothing is pruned */
            pruned += k;
            ntemporal_free(b);
        }
        ntemporal_free(a);
    }
    CHECK(nhits > 100);
    CHECK(pruned > 1000); /* most of each WITHIN pattern's prefix goes */
}

int main(void)
{
    test_lines();
    test_state_errors();
    test_split_equals_whole(1);
    test_split_equals_whole(0x5bd1e995u);
    test_prune_keeps_state(1);
    test_prune_keeps_state(0x9e3779b9u);
    return t_done();
}
