/*
 * nats_temporal.c - the observations of multi-observation indicators, found by workers in
 * chunks, combined per source in source order (see nats_temporal.h for the lines).
 *
 * State: the patterns, compiled once from the text the workers sent (by version hash), and per
 * (source, pattern) one pattern_history, the pattern engine's rings of that pattern's leaves.
 * Fed in the order of the source, a history sees exactly what the one matcher of a single
 * accord match over that source sees for the pattern, so it completes the same combinations,
 * bounded state included (HISTORY entries per leaf, the outermost WITHIN's expiry).
 *
 * Not here: the order itself (the collector holds a source's chunks back until the ones before
 * them are done, cli/cmd_nats_collect.c) and anything durable: the collector keeps the lines and
 * feeds a source again from its start after a restart.
 */
#include "nats_temporal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define SEC_MAX 1000000000000LL

typedef struct tpat {
    uint64_t key;
    accord_pattern *p;
} tpat;

typedef struct tent {
    char *source;
    uint64_t key;
    pattern_history *h;
} tent;

struct ntemporal {
    tpat *pats;
    size_t npats, pats_cap;
    u64map pat_of; /* key -> index + 1 */
    tent *ents;
    size_t nents, ents_cap;
    u64map ent_of;  /* XXH3(source, seed key) -> index + 1 */
    u64map sources; /* XXH3(source): sources with state */
};

/* ------------------------------------------------------------------------------------------ */
/* Lines                                                                                        */

/* 1-16 lower-case hex digits into *out; 0 or -1. */
static int hex_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 16)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int d = s[i] >= '0' && s[i] <= '9'   ? s[i] - '0'
                : s[i] >= 'a' && s[i] <= 'f' ? s[i] - 'a' + 10
                                             : -1;
        if (d < 0)
            return -1;
        v = v << 4 | (uint64_t)d;
    }
    *out = v;
    return 0;
}

int ntemp_obs_read(const ajson_value *o, ntemp_obs *out, const char **why)
{
    const ajson_value *ob = ajson_get(o, "obs"), *t;
    int64_t v[5];
    if (!ob)
        return 0;
    memset(out, 0, sizeof *out);
    if (ob->type != AJSON_OBJECT) {
        *why = "obs is not an object";
        return -1;
    }
    if (hex_u64(ajson_str(ajson_get(ob, "key")), &out->key) != 0) {
        *why = "obs.key is not 1-16 hex digits";
        return -1;
    }
    if (hex_u64(ajson_str(ajson_get(ob, "leaves")), &out->leaves) != 0 || out->leaves == 0) {
        *why = "obs.leaves is not a non-zero hex number";
        return -1;
    }
    t = ajson_get(ob, "t");
    if (!t || t->type != AJSON_ARRAY || t->len != 5) {
        *why = "obs.t is not an array of 5 integers";
        return -1;
    }
    for (size_t i = 0; i < 5; i++)
        if (ajson_int(&t->u.items[i], &v[i]) != 1) {
            *why = "obs.t is not an array of 5 integers";
            return -1;
        }
    if (v[0] < -SEC_MAX || v[0] > SEC_MAX || v[2] < -SEC_MAX || v[2] > SEC_MAX || v[1] < 0 ||
        v[1] > 999999999 || v[3] < 0 || v[3] > 999999999 || v[4] < 1) {
        *why = "obs.t: a time or count out of range";
        return -1;
    }
    out->t.first = (ts_value){v[0], (int32_t)v[1], 9};
    out->t.last = (ts_value){v[2], (int32_t)v[3], 9};
    out->t.count = (uint64_t)v[4];
    return 1;
}

int ntemp_pattern_read(const ajson_value *o, uint64_t *key, const char **text, size_t *len,
                       int *v20, const char **why)
{
    const ajson_value *p = ajson_get(o, "pattern"), *tx;
    if (!p)
        return 0;
    if (p->type != AJSON_OBJECT) {
        *why = "pattern is not an object";
        return -1;
    }
    if (hex_u64(ajson_str(ajson_get(p, "key")), key) != 0) {
        *why = "pattern.key is not 1-16 hex digits";
        return -1;
    }
    if (ajson_bool(ajson_get(p, "v20"), v20) != 1) {
        *why = "pattern.v20 is not a boolean";
        return -1;
    }
    tx = ajson_get(p, "text");
    if (!tx || tx->type != AJSON_STRING) {
        *why = "pattern.text is not a string";
        return -1;
    }
    *text = tx->u.str;
    *len = tx->len;
    return 1;
}

int ntemp_obs_write(const ntemp_obs *o, buf *out)
{
    return buf_printf(out,
                      "\"obs\":{\"key\":\"%016" PRIx64 "\",\"leaves\":\"%" PRIx64
                      "\",\"t\":[%" PRId64 ",%d,%" PRId64 ",%d,%" PRIu64 "]}",
                      o->key, o->leaves, o->t.first.sec, (int)o->t.first.nsec, o->t.last.sec,
                      (int)o->t.last.nsec, o->t.count);
}

/* ------------------------------------------------------------------------------------------ */
/* State                                                                                        */

int ntemporal_new(ntemporal **out)
{
    ntemporal *t = calloc(1, sizeof *t);
    *out = t;
    if (!t)
        return ACCORD_ENOMEM;
    u64map_init(&t->pat_of);
    u64map_init(&t->ent_of);
    u64map_init_set(&t->sources);
    return 0;
}

void ntemporal_reset(ntemporal *t)
{
    for (size_t i = 0; i < t->nents; i++) {
        pattern_history_free(t->ents[i].h);
        free(t->ents[i].source);
    }
    t->nents = 0;
    u64map_free(&t->ent_of);
    u64map_free(&t->sources);
    u64map_init(&t->ent_of);
    u64map_init_set(&t->sources);
}

void ntemporal_free(ntemporal *t)
{
    if (!t)
        return;
    ntemporal_reset(t);
    for (size_t i = 0; i < t->npats; i++)
        accord_pattern_free(t->pats[i].p);
    free(t->pats);
    free(t->ents);
    u64map_free(&t->pat_of);
    u64map_free(&t->ent_of);
    u64map_free(&t->sources);
    free(t);
}

static const accord_pattern *pattern_of(const ntemporal *t, uint64_t key)
{
    uint64_t i;
    return u64map_get(&t->pat_of, u64map_key(key), &i) ? t->pats[i - 1].p : NULL;
}

int ntemporal_known(const ntemporal *t, uint64_t key)
{
    return pattern_of(t, key) != NULL;
}

int ntemporal_define(ntemporal *t, uint64_t key, const char *text, size_t len, int v20,
                     accord_error *err)
{
    accord_pattern *p;
    int rc;
    if (pattern_of(t, key))
        return 0;
    if ((rc = accord_pattern_compile(text, len, v20 ? ACCORD_PATTERN_STIX20 : 0, &p, err)) != 0)
        return rc == ACCORD_ENOMEM ? rc : ACCORD_EINVAL;
    if (p->simple) {
        accord_pattern_free(p);
        if (err) {
            err->code = ACCORD_EINVAL;
            snprintf(err->msg, sizeof err->msg, "not a multi-observation pattern");
        }
        return ACCORD_EINVAL;
    }
    if (t->npats == t->pats_cap) {
        size_t cap = t->pats_cap ? t->pats_cap * 2 : 16;
        tpat *np = realloc(t->pats, cap * sizeof *np);
        if (!np) {
            accord_pattern_free(p);
            return ACCORD_ENOMEM;
        }
        t->pats = np;
        t->pats_cap = cap;
    }
    if (u64map_put(&t->pat_of, u64map_key(key), t->npats + 1) != 0) {
        accord_pattern_free(p);
        return ACCORD_ENOMEM;
    }
    t->pats[t->npats++] = (tpat){key, p};
    return 0;
}

static uint64_t source_hash(const char *source)
{
    return u64map_key(XXH3_64bits(source, strlen(source)));
}

int ntemporal_has_source(const ntemporal *t, const char *source)
{
    return u64map_get(&t->sources, source_hash(source), NULL);
}

int ntemporal_mark(ntemporal *t, const char *source)
{
    return u64map_put(&t->sources, source_hash(source), 1) == 0 ? 0 : ACCORD_ENOMEM;
}

/* The history of (source, key), made when new; NULL when memory runs out. */
static pattern_history *history_of(ntemporal *t, const char *source, const accord_pattern *p,
                                   uint64_t key)
{
    uint64_t h = u64map_key(XXH3_64bits_withSeed(source, strlen(source), key)), i;
    tent *e;
    if (u64map_get(&t->ent_of, h, &i)) {
        e = &t->ents[i - 1];
        if (e->key == key && strcmp(e->source, source) == 0)
            return e->h;
        /* two (source, pattern) pairs with one hash: the later one goes without a slot in the
         * map and is found by a scan (2^-64 per pair) */
        for (size_t k = 0; k < t->nents; k++)
            if (t->ents[k].key == key && strcmp(t->ents[k].source, source) == 0)
                return t->ents[k].h;
    }
    if (t->nents == t->ents_cap) {
        size_t cap = t->ents_cap ? t->ents_cap * 2 : 64;
        tent *ne = realloc(t->ents, cap * sizeof *ne);
        if (!ne)
            return NULL;
        t->ents = ne;
        t->ents_cap = cap;
    }
    e = &t->ents[t->nents];
    e->key = key;
    if (!(e->source = strdup(source)))
        return NULL;
    if (pattern_history_new(p, &e->h) != 0) {
        free(e->source);
        return NULL;
    }
    if (!u64map_get(&t->ent_of, h, NULL) && u64map_put(&t->ent_of, h, t->nents + 1) != 0) {
        pattern_history_free(e->h);
        free(e->source);
        return NULL;
    }
    t->nents++;
    return e->h;
}

int ntemporal_add(ntemporal *t, const char *source, const ntemp_obs *o)
{
    const accord_pattern *p = pattern_of(t, o->key);
    pattern_history *h;
    if (!p)
        return ACCORD_ENOTFOUND;
    if (p->nleaves < 64 && (o->leaves >> p->nleaves) != 0)
        return ACCORD_EINVAL;
    if (ntemporal_mark(t, source) != 0 || !(h = history_of(t, source, p, o->key)))
        return ACCORD_ENOMEM;
    return pattern_history_add(h, o->leaves, &o->t);
}

size_t ntemporal_prunable(const ntemporal *t, uint64_t key, const pattern_tobs *obs, size_t n)
{
    const accord_pattern *p = pattern_of(t, key);
    ts_value *lim;
    size_t k = 0;
    if (!p || p->root->kind != PX_WITHIN || n == 0 || !(lim = malloc(n * sizeof *lim)))
        return 0;
    /* lim[i]: the latest end at or after i, less the window; what started at or before it is
     * gone from the rings */
    for (size_t i = n; i-- > 0;) {
        const ts_value *e = i + 1 < n && ts_cmp(&lim[i + 1], &obs[i].last) > 0 ? &lim[i + 1]
                                                                               : &obs[i].last;
        lim[i] = *e;
    }
    for (size_t i = 0; i < n; i++) {
        ts_value l = {lim[i].sec - p->root->within.sec, lim[i].nsec - p->root->within.nsec, 0};
        if (l.nsec < 0)
            l.sec--, l.nsec += 1000000000;
        if (ts_cmp(&obs[i].first, &l) > 0)
            break;
        k = i + 1;
    }
    free(lim);
    return k;
}
