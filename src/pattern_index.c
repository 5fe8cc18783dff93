/*
 * pattern_index.c - many patterns at once: the pattern set, its (type, property, constant) index,
 * and the streaming matcher.
 *
 * A set holds compiled patterns.  Building it indexes every leaf `[...]` of every pattern:
 *   - An indexable leaf is one whose truth implies that the SCO has a string property, at a fixed
 *     object path, equal to one of a few constants: a positive `=` or `IN` of string literals on a
 *     path that does not dereference, or an AND with such a side, or an OR whose sides both are.
 *     Each (type, path, constant) becomes a key XXH3(constant, seed = XXH3(type, path)) in
 *     `keys`, mapping to the leaves that need it.
 *   - Every other leaf is listed under each object type it names (`scan`): it can only be true
 *     for an object of one of those types.
 *   - The distinct (type, path) pairs of the keys are the `probes` of that type.
 * For an observation, each object's type selects its probes and its scan list; each probe walks
 * its path in the object and looks each string value up.  The leaves found are the candidates,
 * evaluated exactly (the index only prunes; a hash collision costs an evaluation, never a wrong
 * answer).  So the cost per observation grows with the probes of its types and the candidates,
 * not with the number of patterns.
 *
 * Tables, all built once (sorted arrays addressed through u64map ranges start << 32 | count):
 *   keys:       key hash   -> key_leaves[start .. start+count)   global leaf ids
 *   type_probe: type hash  -> probe_ids[...]                      probes of a type
 *   type_scan:  type hash  -> scan_leaves[...]                    unindexed leaves of a type
 *
 * The matcher is one thread's state over a built (immutable) set: the JSON arena, evaluation
 * scratch, a generation stamp per leaf (candidate dedup without clearing), and for each pattern
 * with observation operators or qualifiers a ring per leaf of the last HISTORY observations that
 * matched it (time, count, sequence number).  When an observation matches a leaf of such a
 * pattern, the rings are merged into a small observation list and the binding search is asked for
 * a binding that uses the new observation.  State is bounded: HISTORY entries per leaf, and for a
 * pattern whose outermost qualifier is WITHIN d, entries that started d or more before the new
 * observation ended are dropped (they can no longer share a binding with anything newer, given
 * observations arrive in time order).  A binding that would need an observation older than the
 * rings hold is not found: that is the price of bounded state, written here on purpose.  The
 * state can be carried to a matcher over another set (a reloaded snapshot) for the patterns
 * both sets hold (pattern_matcher_carry).
 *
 * Steady state allocates nothing per observation: the arena and scratch buffers are reused.
 */
#include "pattern.h"
#include "util/u64map.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define HISTORY 16         /* ring entries per leaf of a temporal pattern */
#define MAX_KEYS_PER_LEAF 256

typedef struct leafref {
    uint32_t pat, leaf;
} leafref;

typedef struct probe {
    const pattern_cmp *cmp; /* walks the path (borrowed from a pattern of the set) */
    uint64_t seed;          /* XXH3(type, path) */
} probe;

typedef struct pair {
    uint64_t h;
    uint32_t v;
} pair;

typedef struct pvec {
    pair *v;
    size_t n, cap;
} pvec;

struct accord_pattern_set {
    accord_pattern **pats;
    uint64_t *tags;
    size_t n, cap;
    int built;
    leafref *leaves; /* global leaf id -> (pattern, leaf) */
    uint32_t *leaf_base; /* pattern -> its first global leaf id */
    size_t nleaves;
    probe *probes;
    size_t nprobes;
    u64map keys, type_probe, type_scan;
    uint32_t *key_leaves, *probe_ids, *scan_leaves;
};

/* ------------------------------------------------------------------------------------------ */
/* Building                                                                                     */

static int pv_push(pvec *pv, uint64_t h, uint32_t v)
{
    if (pv->n == pv->cap) {
        size_t cap = pv->cap ? pv->cap * 2 : 64;
        pair *nv = realloc(pv->v, cap * sizeof *nv);
        if (!nv)
            return ACCORD_ENOMEM;
        pv->v = nv;
        pv->cap = cap;
    }
    pv->v[pv->n].h = h;
    pv->v[pv->n++].v = v;
    return 0;
}

static int pair_cmp(const void *a, const void *b)
{
    const pair *x = a, *y = b;
    if (x->h != y->h)
        return x->h < y->h ? -1 : 1;
    return (x->v > y->v) - (x->v < y->v);
}

/* Sorts pv and turns it into map (hash -> range) and vals (the v's in order, deduplicated). */
static int pv_table(pvec *pv, u64map *map, uint32_t **vals)
{
    size_t k = 0, start = 0;
    if (pv->n > 0)
        qsort(pv->v, pv->n, sizeof *pv->v, pair_cmp);
    *vals = malloc((pv->n ? pv->n : 1) * sizeof **vals);
    if (!*vals || u64map_reserve(map, pv->n) < 0)
        return ACCORD_ENOMEM;
    for (size_t i = 0; i < pv->n; i++) {
        if (i > 0 && pv->v[i].h == pv->v[i - 1].h && pv->v[i].v == pv->v[i - 1].v)
            continue;
        if (i == 0 || pv->v[i].h != pv->v[i - 1].h)
            start = k;
        (*vals)[k++] = pv->v[i].v;
        if (u64map_put(map, u64map_key(pv->v[i].h), (uint64_t)start << 32 | (k - start)) < 0)
            return ACCORD_ENOMEM;
    }
    return 0;
}

static uint64_t type_hash(const char *type)
{
    return XXH3_64bits(type, strlen(type));
}

/* A hash of the type and each path step, chained: the probe's seed. */
static uint64_t path_seed(const pattern_cmp *c)
{
    uint64_t h = XXH3_64bits(c->type, strlen(c->type));
    for (size_t i = 0; i < c->nsteps; i++) {
        const pattern_step *s = &c->steps[i];
        uint64_t kind = (uint64_t)s->kind;
        h = XXH3_64bits_withSeed(&kind, sizeof kind, h);
        if (s->kind == PS_KEY)
            h = XXH3_64bits_withSeed(s->key, s->key_len, h);
        else if (s->kind == PS_INDEX)
            h = XXH3_64bits_withSeed(&s->index, sizeof s->index, h);
    }
    return h;
}

typedef struct keyset {
    const pattern_cmp *cmp[MAX_KEYS_PER_LEAF];
    const pattern_lit *lit[MAX_KEYS_PER_LEAF];
    size_t n;
} keyset;

/* 1 when comparison c alone implies an equality key: positive = / IN of strings, no deref. */
static int cmp_keys(const pattern_cmp *c, keyset *ks)
{
    if (c->negated || c->binary || (c->op != PO_EQ && c->op != PO_IN))
        return 0;
    for (size_t i = 0; i + 1 < c->nsteps; i++)
        if (c->steps[i].ref)
            return 0;
    if (c->nlits == 0 || ks->n + c->nlits > MAX_KEYS_PER_LEAF)
        return 0;
    for (size_t i = 0; i < c->nlits; i++)
        if (c->lits[i].kind != PL_STRING)
            return 0;
    for (size_t i = 0; i < c->nlits; i++) {
        ks->cmp[ks->n] = c;
        ks->lit[ks->n++] = &c->lits[i];
    }
    return 1;
}

/* Collects keys one of which every true evaluation of e must meet; 0 when there are none. */
static int leaf_keys(const pattern_cexpr *e, keyset *ks)
{
    size_t mark = ks->n;
    if (e->kind == PC_CMP)
        return cmp_keys(e->cmp, ks);
    if (e->kind == PC_AND) {
        if (leaf_keys(e->l, ks))
            return 1;
        ks->n = mark;
        if (leaf_keys(e->r, ks))
            return 1;
        ks->n = mark;
        return 0;
    }
    if (leaf_keys(e->l, ks) && leaf_keys(e->r, ks))
        return 1;
    ks->n = mark;
    return 0;
}

/* Every object type a comparison of e names, into pv as (type hash, gid). */
static int leaf_types(const pattern_cexpr *e, uint32_t gid, pvec *pv)
{
    if (e->kind == PC_CMP)
        return pv_push(pv, type_hash(e->cmp->type), gid);
    int rc = leaf_types(e->l, gid, pv);
    return rc ? rc : leaf_types(e->r, gid, pv);
}

typedef struct builder {
    pvec keys, tprobe, tscan;
    u64map seen_probe; /* seed -> probe index + 1 */
} builder;

static int add_probe(accord_pattern_set *set, builder *b, const pattern_cmp *c, uint64_t seed)
{
    uint64_t idx;
    if (u64map_get(&b->seen_probe, u64map_key(seed), &idx))
        return 0;
    probe *np = realloc(set->probes, (set->nprobes + 1) * sizeof *np);
    if (!np)
        return ACCORD_ENOMEM;
    set->probes = np;
    np[set->nprobes].cmp = c;
    np[set->nprobes].seed = seed;
    if (u64map_put(&b->seen_probe, u64map_key(seed), set->nprobes) < 0 ||
        pv_push(&b->tprobe, type_hash(c->type), (uint32_t)set->nprobes) < 0)
        return ACCORD_ENOMEM;
    set->nprobes++;
    return 0;
}

static int index_leaf(accord_pattern_set *set, builder *b, const pattern_cexpr *e, uint32_t gid)
{
    keyset ks;
    int rc = 0;
    ks.n = 0;
    if (!leaf_keys(e, &ks))
        return leaf_types(e, gid, &b->tscan);
    for (size_t i = 0; rc == 0 && i < ks.n; i++) {
        uint64_t seed = path_seed(ks.cmp[i]);
        rc = add_probe(set, b, ks.cmp[i], seed);
        if (rc == 0)
            rc = pv_push(&b->keys, XXH3_64bits_withSeed(ks.lit[i]->s, ks.lit[i]->len, seed), gid);
    }
    return rc;
}

static int build_index(accord_pattern_set *set, builder *b)
{
    int rc = 0;
    for (size_t i = 0; i < set->n; i++)
        set->nleaves += set->pats[i]->nleaves;
    set->leaves = malloc((set->nleaves ? set->nleaves : 1) * sizeof *set->leaves);
    set->leaf_base = malloc((set->n ? set->n : 1) * sizeof *set->leaf_base);
    if (!set->leaves || !set->leaf_base)
        return ACCORD_ENOMEM;
    for (size_t i = 0, g = 0; rc == 0 && i < set->n; i++) {
        set->leaf_base[i] = (uint32_t)g;
        for (uint32_t l = 0; rc == 0 && l < set->pats[i]->nleaves; l++, g++) {
            set->leaves[g].pat = (uint32_t)i;
            set->leaves[g].leaf = l;
            rc = index_leaf(set, b, set->pats[i]->leaves[l]->leaf, (uint32_t)g);
        }
    }
    if (rc == 0)
        rc = pv_table(&b->keys, &set->keys, &set->key_leaves);
    if (rc == 0)
        rc = pv_table(&b->tprobe, &set->type_probe, &set->probe_ids);
    if (rc == 0)
        rc = pv_table(&b->tscan, &set->type_scan, &set->scan_leaves);
    return rc;
}

ACCORD_API int accord_pattern_set_build(accord_pattern_set *set, accord_error *err)
{
    builder b;
    int rc;
    if (set->built)
        return 0;
    if (set->n > UINT32_MAX / PATTERN_MAX_LEAVES)
        return ACCORD_ELIMIT;
    memset(&b, 0, sizeof b);
    u64map_init(&b.seen_probe);
    rc = build_index(set, &b);
    free(b.keys.v);
    free(b.tprobe.v);
    free(b.tscan.v);
    u64map_free(&b.seen_probe);
    if (rc && err) {
        err->code = rc;
        snprintf(err->msg, sizeof err->msg, "out of memory building the pattern index");
    }
    set->built = rc == 0;
    return rc;
}

ACCORD_API int accord_pattern_set_new(accord_pattern_set **out)
{
    *out = calloc(1, sizeof **out);
    if (!*out)
        return ACCORD_ENOMEM;
    u64map_init(&(*out)->keys);
    u64map_init(&(*out)->type_probe);
    u64map_init(&(*out)->type_scan);
    return 0;
}

ACCORD_API void accord_pattern_set_free(accord_pattern_set *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->n; i++)
        accord_pattern_free(set->pats[i]);
    free(set->pats);
    free(set->tags);
    free(set->leaves);
    free(set->leaf_base);
    free(set->probes);
    u64map_free(&set->keys);
    u64map_free(&set->type_probe);
    u64map_free(&set->type_scan);
    free(set->key_leaves);
    free(set->probe_ids);
    free(set->scan_leaves);
    free(set);
}

ACCORD_API int accord_pattern_set_add(accord_pattern_set *set, const char *text, size_t len,
                                      unsigned flags, uint64_t tag, accord_error *err)
{
    accord_pattern *p;
    int rc;
    if (set->built) {
        if (err) {
            err->code = ACCORD_EINVAL;
            snprintf(err->msg, sizeof err->msg, "the pattern set is built: no more patterns");
        }
        return ACCORD_EINVAL;
    }
    if (set->n == set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 64;
        accord_pattern **np = realloc(set->pats, cap * sizeof *np);
        uint64_t *nt = np ? realloc(set->tags, cap * sizeof *nt) : NULL;
        if (np)
            set->pats = np;
        if (!nt)
            return ACCORD_ENOMEM;
        set->tags = nt;
        set->cap = cap;
    }
    if ((rc = accord_pattern_compile(text, len, flags, &p, err)) != 0)
        return rc;
    set->pats[set->n] = p;
    set->tags[set->n++] = tag;
    return 0;
}

ACCORD_API size_t accord_pattern_set_count(const accord_pattern_set *set)
{
    return set ? set->n : 0;
}

/* ------------------------------------------------------------------------------------------ */
/* The matcher                                                                                  */

typedef struct hist {
    uint64_t seq;
    pattern_tobs t;
} hist;

typedef struct ring {
    hist e[HISTORY];
    uint32_t n, head; /* entries held; next slot to write */
} ring;

typedef struct tview {
    pattern_tobs t[HISTORY * PATTERN_MAX_LEAVES];
    uint64_t seq[HISTORY * PATTERN_MAX_LEAVES];
    uint64_t mask[HISTORY * PATTERN_MAX_LEAVES]; /* leaves each observation matched */
    size_t n;
} tview;

struct accord_pattern_matcher {
    const accord_pattern_set *set;
    ajson_arena arena, bind_arena;
    pattern_scratch s;
    uint64_t gen, seq;
    uint64_t *leaf_stamp; /* global leaf id -> gen when it became a candidate */
    uint64_t *pat_stamp;  /* pattern -> gen when its temporal search ran */
    uint32_t *cand;       /* candidates of the current observation */
    size_t ncand;
    ring **rings;         /* global leaf id -> ring (temporal patterns only), or NULL */
    tview *view;          /* the merged rings of one temporal pattern */
    accord_pattern_stats stats;
    accord_pattern_hit_cb cb;
    void *ud;
    int rc;
    pattern_leaf_cb leaf_cb; /* pattern_matcher_leaves: leaf hits reported, not combined here */
    void *leaf_ud;
    uint64_t *pat_mask; /* pattern -> leaves the current observation matched (leaf_cb only) */
};

ACCORD_API int accord_pattern_matcher_new(const accord_pattern_set *set,
                                          accord_pattern_matcher **out)
{
    accord_pattern_matcher *m;
    size_t nl = set->nleaves ? set->nleaves : 1;
    *out = NULL;
    if (!set->built)
        return ACCORD_EINVAL;
    if (!(m = calloc(1, sizeof *m)))
        return ACCORD_ENOMEM;
    m->set = set;
    ajson_arena_init(&m->arena, 0);
    ajson_arena_init(&m->bind_arena, 0);
    m->leaf_stamp = calloc(nl, sizeof *m->leaf_stamp);
    m->pat_stamp = calloc(set->n ? set->n : 1, sizeof *m->pat_stamp);
    m->cand = malloc(nl * sizeof *m->cand);
    m->rings = calloc(nl, sizeof *m->rings);
    m->view = malloc(sizeof *m->view);
    if (!m->leaf_stamp || !m->pat_stamp || !m->cand || !m->rings || !m->view ||
        pattern_scratch_init(&m->s)) {
        accord_pattern_matcher_free(m);
        return ACCORD_ENOMEM;
    }
    for (size_t g = 0; g < set->nleaves; g++)
        if (!set->pats[set->leaves[g].pat]->simple && !(m->rings[g] = calloc(1, sizeof(ring)))) {
            accord_pattern_matcher_free(m);
            return ACCORD_ENOMEM;
        }
    *out = m;
    return 0;
}

ACCORD_API void accord_pattern_matcher_free(accord_pattern_matcher *m)
{
    if (!m)
        return;
    if (m->rings)
        for (size_t g = 0; g < m->set->nleaves; g++)
            free(m->rings[g]);
    free(m->rings);
    free(m->view);
    free(m->leaf_stamp);
    free(m->pat_stamp);
    free(m->cand);
    free(m->pat_mask);
    pattern_scratch_free(&m->s);
    ajson_arena_free(&m->arena);
    ajson_arena_free(&m->bind_arena);
    free(m);
}

ACCORD_API void accord_pattern_matcher_stats(const accord_pattern_matcher *m,
                                             accord_pattern_stats *out)
{
    *out = m->stats;
}

static void add_cand(accord_pattern_matcher *m, uint32_t gid)
{
    if (m->leaf_stamp[gid] == m->gen)
        return;
    m->leaf_stamp[gid] = m->gen;
    m->cand[m->ncand++] = gid;
}

static void add_range(accord_pattern_matcher *m, const uint32_t *vals, uint64_t range)
{
    uint32_t start = (uint32_t)(range >> 32), n = (uint32_t)range;
    for (uint32_t i = 0; i < n; i++)
        add_cand(m, vals[start + i]);
}

typedef struct probe_ctx {
    accord_pattern_matcher *m;
    uint64_t seed;
} probe_ctx;

static int on_probe_value(void *ud, const ajson_value *v)
{
    probe_ctx *pc = ud;
    uint64_t range;
    if (v->type == AJSON_STRING &&
        u64map_get(&pc->m->set->keys, u64map_key(XXH3_64bits_withSeed(v->u.str, v->len, pc->seed)),
                   &range))
        add_range(pc->m, pc->m->set->key_leaves, range);
    return 0;
}

/* The candidates of observation o: probes and scan lists of its objects' types. */
static void collect(accord_pattern_matcher *m, const pattern_obs *o)
{
    const accord_pattern_set *set = m->set;
    m->ncand = 0;
    for (uint32_t k = 0; k < o->nobjs; k++) {
        uint64_t th = u64map_key(type_hash(o->types[k])), range;
        if (u64map_get(&set->type_scan, th, &range))
            add_range(m, set->scan_leaves, range);
        if (!u64map_get(&set->type_probe, th, &range))
            continue;
        for (uint32_t i = 0; i < (uint32_t)range; i++) {
            const probe *pr = &set->probes[set->probe_ids[(range >> 32) + i]];
            probe_ctx pc = {m, pr->seed};
            pattern_path_walk(pr->cmp, o->objs[k], o, on_probe_value, &pc);
        }
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Temporal patterns                                                                            */

static void ring_add(ring *r, uint64_t seq, const pattern_obs *o)
{
    hist *h = &r->e[r->head];
    h->seq = seq;
    h->t.first = o->first;
    h->t.last = o->last;
    h->t.count = o->count;
    r->head = (r->head + 1) % HISTORY;
    if (r->n < HISTORY)
        r->n++;
}

/* Drops entries that started at or before o.last - d (the outermost WITHIN's window). */
static void ring_expire(ring *r, const pattern_obs *o, const ts_value *d)
{
    ts_value lim = {o->last.sec - d->sec, o->last.nsec - d->nsec, 0};
    uint32_t keep = 0;
    hist tmp[HISTORY];
    if (lim.nsec < 0)
        lim.sec--, lim.nsec += 1000000000;
    for (uint32_t i = 0; i < r->n; i++) {
        const hist *h = &r->e[(r->head + HISTORY - r->n + i) % HISTORY];
        if (ts_cmp(&h->t.first, &lim) > 0)
            tmp[keep++] = *h;
    }
    memcpy(r->e, tmp, keep * sizeof *tmp);
    r->n = keep;
    r->head = keep % HISTORY;
}

static int view_leafmatch(void *ud, uint32_t leaf, size_t i)
{
    const tview *v = ud;
    return (int)((v->mask[i] >> leaf) & 1);
}

/* Merges rings rs[0..nleaves) into v (one entry per observation); the index of seq, or -1. */
static long merge_view(ring *const *rs, uint32_t nleaves, uint64_t seq, tview *v)
{
    long must = -1;
    v->n = 0;
    for (uint32_t l = 0; l < nleaves; l++) {
        const ring *r = rs[l];
        for (uint32_t i = 0; i < r->n; i++) {
            const hist *h = &r->e[i];
            size_t j = 0;
            while (j < v->n && v->seq[j] != h->seq)
                j++;
            if (j == v->n) {
                v->t[j] = h->t;
                v->seq[j] = h->seq;
                v->mask[j] = 0;
                v->n++;
            }
            v->mask[j] |= (uint64_t)1 << l;
            if (h->seq == seq)
                must = (long)j;
        }
    }
    return must;
}

/* Merges the pattern's rings into v; the index of the current observation, or -1. */
static long merge_rings(accord_pattern_matcher *m, uint32_t pat, tview *v)
{
    return merge_view(&m->rings[m->set->leaf_base[pat]], m->set->pats[pat]->nleaves, m->seq, v);
}

static void temporal(accord_pattern_matcher *m, uint32_t pat, const pattern_obs *o)
{
    const accord_pattern *p = m->set->pats[pat];
    tview *v = m->view;
    long must;
    int rc;
    if (p->root->kind == PX_WITHIN)
        for (uint32_t l = 0; l < p->nleaves; l++)
            ring_expire(m->rings[m->set->leaf_base[pat] + l], o, &p->root->within);
    must = merge_rings(m, pat, v);
    if (must < 0)
        return;
    rc = pattern_bind(p, v->t, v->n, view_leafmatch, v, must, &m->bind_arena, NULL, NULL);
    if (rc > 0) {
        m->stats.hits++;
        if (m->cb)
            m->cb(m->ud, m->set->tags[pat], pat);
    } else if (rc < 0) {
        m->stats.errors++;
    }
}

/* With pattern_matcher_leaves: the leaves of pattern pat that o matched, to the callback. */
static void leaf_report(accord_pattern_matcher *m, uint32_t pat, const pattern_obs *o)
{
    pattern_tobs t = {o->first, o->last, o->count};
    uint64_t mask = m->pat_mask[pat];
    if (!mask)
        return;
    m->pat_mask[pat] = 0;
    m->leaf_cb(m->leaf_ud, m->set->tags[pat], pat, mask, &t);
}

/* ------------------------------------------------------------------------------------------ */
/* Feeding                                                                                      */

/* Evaluates the candidates of o; reports simple patterns, records temporal ones. */
static int on_obs(void *ud, pattern_obs *o)
{
    accord_pattern_matcher *m = ud;
    const accord_pattern_set *set = m->set;
    m->gen++;
    m->seq++;
    m->stats.observations++;
    collect(m, o);
    m->stats.candidates += m->ncand;
    for (size_t i = 0; i < m->ncand; i++) {
        const leafref *lr = &set->leaves[m->cand[i]];
        const accord_pattern *p = set->pats[lr->pat];
        int rc = pattern_eval_leaf(p->leaves[lr->leaf]->leaf, o, &m->s);
        if (rc < 0)
            m->stats.errors++;
        if (rc <= 0)
            continue;
        if (p->simple) {
            m->stats.hits++;
            if (m->cb)
                m->cb(m->ud, set->tags[lr->pat], lr->pat);
            continue;
        }
        if (m->leaf_cb) {
            m->pat_mask[lr->pat] |= (uint64_t)1 << lr->leaf;
            continue;
        }
        ring_add(m->rings[m->cand[i]], m->seq, o);
    }
    /* Temporal searches after every leaf has recorded this observation, once per pattern. */
    for (size_t i = 0; i < m->ncand; i++) {
        const leafref *lr = &set->leaves[m->cand[i]];
        if (set->pats[lr->pat]->simple || m->pat_stamp[lr->pat] == m->gen)
            continue;
        m->pat_stamp[lr->pat] = m->gen;
        if (m->leaf_cb)
            leaf_report(m, lr->pat, o);
        else
            temporal(m, lr->pat, o);
    }
    return 0;
}

ACCORD_API int accord_pattern_matcher_feed(accord_pattern_matcher *m, const char *json,
                                           size_t len, accord_pattern_hit_cb cb, void *ud,
                                           accord_error *err)
{
    ajson_error je;
    char msg[200];
    const ajson_value *root;
    int rc;
    ajson_arena_reset(&m->arena);
    root = ajson_parse(&m->arena, json, len, &je);
    if (!root) {
        if (err) {
            err->code = ACCORD_EJSON;
            snprintf(err->msg, sizeof err->msg, "offset %zu: %s", je.offset, je.msg);
        }
        return ACCORD_EJSON;
    }
    m->cb = cb;
    m->ud = ud;
    rc = pattern_doc_load(&m->arena, root, on_obs, m, msg, sizeof msg);
    if (rc && err) {
        err->code = rc;
        snprintf(err->msg, sizeof err->msg, "%s", rc == ACCORD_ENOMEM ? "out of memory" : msg);
    }
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Carrying state to a matcher over another set                                                 */

/*
 * Moves the temporal state of patterns from `from` into `to` (a matcher that has seen nothing):
 * map[i] (i < to's pattern count) names the pattern of from's set that pattern i continues, or
 * is -1.  A pair whose texts differ is left alone (map is a hint, the text decides).  The
 * sequence numbers go on from from's, so the carried ring entries stay older than anything `to`
 * records.  Returns the number of patterns carried, or ACCORD_EINVAL when `to` has fed.
 */
long pattern_matcher_carry(accord_pattern_matcher *to, const accord_pattern_matcher *from,
                           const long *map)
{
    const accord_pattern_set *ts = to->set, *fs = from->set;
    long n = 0;
    if (to->stats.observations != 0)
        return ACCORD_EINVAL;
    to->seq = from->seq;
    for (size_t i = 0; i < ts->n; i++) {
        const accord_pattern *tp = ts->pats[i], *fp;
        if (map[i] < 0 || (size_t)map[i] >= fs->n || tp->simple)
            continue;
        fp = fs->pats[map[i]];
        if (fp->nleaves != tp->nleaves || fp->text_len != tp->text_len ||
            memcmp(fp->text, tp->text, tp->text_len) != 0 || fp->v20 != tp->v20)
            continue;
        for (uint32_t l = 0; l < tp->nleaves; l++)
            *to->rings[ts->leaf_base[i] + l] = *from->rings[fs->leaf_base[map[i]] + l];
        n++;
    }
    return n;
}

const accord_pattern *pattern_set_at(const accord_pattern_set *set, size_t i, uint64_t *tag)
{
    if (!set || i >= set->n)
        return NULL;
    *tag = set->tags[i];
    return set->pats[i];
}

/* ------------------------------------------------------------------------------------------ */
/* Leaf hits combined elsewhere                                                                 */

int pattern_matcher_leaves(accord_pattern_matcher *m, pattern_leaf_cb cb, void *ud)
{
    if (cb && !m->pat_mask && !(m->pat_mask = calloc(m->set->n ? m->set->n : 1, sizeof(uint64_t))))
        return ACCORD_ENOMEM;
    m->leaf_cb = cb;
    m->leaf_ud = ud;
    return 0;
}

/*
 * One temporal pattern's rings outside a matcher, for the leaf hits of one ordered stream of
 * observations that several matchers found (pattern_matcher_leaves): the same rings, expiry
 * and binding search as a matcher's, so the same observations in the same order complete the
 * same combinations.
 */
struct pattern_history {
    const accord_pattern *p;
    uint64_t seq;
    ajson_arena a;
    tview *v;
    ring rings[];
};

int pattern_history_new(const accord_pattern *p, pattern_history **out)
{
    pattern_history *h = calloc(1, sizeof *h + p->nleaves * sizeof(ring));
    *out = NULL;
    if (!h || !(h->v = malloc(sizeof *h->v))) {
        free(h);
        return ACCORD_ENOMEM;
    }
    h->p = p;
    ajson_arena_init(&h->a, 0);
    *out = h;
    return 0;
}

void pattern_history_free(pattern_history *h)
{
    if (!h)
        return;
    ajson_arena_free(&h->a);
    free(h->v);
    free(h);
}

int pattern_history_add(pattern_history *h, uint64_t leaves, const pattern_tobs *t)
{
    const accord_pattern *p = h->p;
    ring *rs[PATTERN_MAX_LEAVES];
    pattern_obs o;
    long must;
    memset(&o, 0, sizeof o);
    o.first = t->first;
    o.last = t->last;
    o.count = t->count;
    h->seq++;
    for (uint32_t l = 0; l < p->nleaves; l++) {
        rs[l] = &h->rings[l];
        if ((leaves >> l) & 1)
            ring_add(rs[l], h->seq, &o);
    }
    if (p->root->kind == PX_WITHIN)
        for (uint32_t l = 0; l < p->nleaves; l++)
            ring_expire(rs[l], &o, &p->root->within);
    must = merge_view(rs, p->nleaves, h->seq, h->v);
    if (must < 0)
        return 0;
    return pattern_bind(p, h->v->t, h->v->n, view_leafmatch, h->v, must, &h->a, NULL, NULL);
}
