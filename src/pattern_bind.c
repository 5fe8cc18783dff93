/*
 * pattern_bind.c - the binding search: which observations satisfy a pattern's observation
 * expressions together (AND, OR, FOLLOWEDBY, WITHIN, REPEATS, START/STOP).
 *
 * Input: a list of timed observations (first_observed, last_observed, number_observed) and, for
 * each leaf `[...]` of the pattern, which of them it matches (a callback; the comparison
 * expressions were evaluated already, once per observation).  Output: one binding, the multiset
 * of observations that satisfies the whole pattern, or none.
 *
 * Method: bottom-up over the expression tree, each node yields the list of its candidate
 * bindings.  A binding is a multiset of observation indices with the earliest first_observed
 * (lo) and latest last_observed (hi) of its members.
 *   LEAF        one binding per matching observation
 *   A AND B     a ∪ b for a in A, b in B when the union uses no observation more often than its
 *               number_observed (an observation with number_observed = k counts as k distinct
 *               observations; otherwise observation operators need distinct observations)
 *   A OR B      A then B
 *   A FOLLOWEDBY B   a ∪ b when a.hi <= b.lo (inclusive: the right may start the instant the
 *               left ends)
 *   E WITHIN d  bindings with hi - lo < d (strict; the span from the earliest first_observed to
 *               the latest last_observed of the binding)
 *   E START s STOP t  bindings with s <= lo and hi < t (half-open; every observation inside)
 *   E REPEATS k the unions of k bindings of E (a binding may repeat when the counts allow)
 *
 * Bounds: every list holds at most PATTERN_MAX_BINDINGS bindings, a binding at most
 * PATTERN_MAX_BINDING_OBS observations, and the pairs examined are budgeted; past any of these
 * the search stops with ACCORD_ELIMIT instead of guessing.  Memory comes from the caller's arena,
 * reset at the start, so a warm arena allocates nothing.
 *
 * It does not deduplicate equal bindings reached two ways (OR of overlapping branches): that only
 * costs list space, never correctness.
 */
#include "pattern.h"

#include <string.h>

#define WORK_BUDGET (1u << 24) /* pairs examined per search */

typedef struct bnd {
    ts_value lo, hi;
    uint32_t n;
    uint32_t last; /* REPEATS: the index of the last child binding in the union */
    uint32_t *ids;
} bnd;

typedef struct blist {
    bnd *v;
    size_t n, cap;
} blist;

typedef struct bctx {
    const accord_pattern *p;
    const pattern_tobs *obs;
    size_t nobs;
    int (*leafmatch)(void *ud, uint32_t leaf, size_t i);
    void *ud;
    ajson_arena *a;
    uint64_t work;
    int rc;
} bctx;

static int fail(bctx *c, int rc)
{
    if (!c->rc)
        c->rc = rc;
    return c->rc;
}

/* An empty list with room for cap bindings (it grows when needed). */
static int list_init(bctx *c, blist *l, size_t cap)
{
    if (cap > PATTERN_MAX_BINDINGS)
        cap = PATTERN_MAX_BINDINGS;
    if (cap < 4)
        cap = 4;
    l->n = 0;
    l->cap = cap;
    l->v = ajson_arena_alloc(c->a, cap * sizeof *l->v);
    return l->v ? 0 : fail(c, ACCORD_ENOMEM);
}

/* Makes room for one more binding: ELIMIT past PATTERN_MAX_BINDINGS. */
static int list_room(bctx *c, blist *l)
{
    bnd *nv;
    if (l->n < l->cap)
        return 0;
    if (l->n >= PATTERN_MAX_BINDINGS)
        return fail(c, ACCORD_ELIMIT);
    nv = ajson_arena_alloc(c->a, l->cap * 2 * sizeof *nv);
    if (!nv)
        return fail(c, ACCORD_ENOMEM);
    memcpy(nv, l->v, l->n * sizeof *nv);
    l->v = nv;
    l->cap *= 2;
    return 0;
}

/* Appends a binding of n ids (copied); 0, or an error. */
static int push(bctx *c, blist *l, const uint32_t *ids, uint32_t n, ts_value lo, ts_value hi,
                uint32_t last)
{
    bnd *b;
    if (list_room(c, l))
        return c->rc;
    if (n > PATTERN_MAX_BINDING_OBS)
        return fail(c, ACCORD_ELIMIT);
    b = &l->v[l->n];
    b->ids = ajson_arena_alloc(c->a, n * sizeof *ids);
    if (!b->ids)
        return fail(c, ACCORD_ENOMEM);
    memcpy(b->ids, ids, n * sizeof *ids);
    b->n = n;
    b->lo = lo;
    b->hi = hi;
    b->last = last;
    l->n++;
    return 0;
}

static const ts_value *ts_min(const ts_value *a, const ts_value *b)
{
    return ts_cmp(a, b) <= 0 ? a : b;
}

static const ts_value *ts_max(const ts_value *a, const ts_value *b)
{
    return ts_cmp(a, b) >= 0 ? a : b;
}

/* 1 when a ∪ b uses no observation more often than its number_observed. */
static int compatible(const bctx *c, const bnd *a, const bnd *b)
{
    for (uint32_t i = 0; i < b->n; i++) {
        uint32_t x = b->ids[i];
        uint64_t used = 0;
        for (uint32_t j = 0; j < a->n; j++)
            used += a->ids[j] == x;
        for (uint32_t j = 0; j < b->n; j++)
            used += b->ids[j] == x;
        if (used > c->obs[x].count)
            return 0;
    }
    return 1;
}

/* Pushes a ∪ b onto out when compatible. */
static int join(bctx *c, blist *out, const bnd *a, const bnd *b, uint32_t last)
{
    uint32_t ids[2 * PATTERN_MAX_BINDING_OBS];
    if (++c->work > WORK_BUDGET)
        return fail(c, ACCORD_ELIMIT);
    if (!compatible(c, a, b))
        return 0;
    memcpy(ids, a->ids, a->n * sizeof *ids);
    memcpy(ids + a->n, b->ids, b->n * sizeof *ids);
    return push(c, out, ids, a->n + b->n, *ts_min(&a->lo, &b->lo), *ts_max(&a->hi, &b->hi),
                last);
}

static int eval(bctx *c, const pattern_oexpr *e, blist *out);

static int eval_leaf(bctx *c, const pattern_oexpr *e, blist *out)
{
    size_t n = 0;
    for (size_t i = 0; i < c->nobs; i++)
        n += c->leafmatch(c->ud, e->leaf_id, i) > 0;
    if (list_init(c, out, n))
        return c->rc;
    for (size_t i = 0; i < c->nobs; i++) {
        uint32_t id = (uint32_t)i;
        if (c->leafmatch(c->ud, e->leaf_id, i) > 0 &&
            push(c, out, &id, 1, c->obs[i].first, c->obs[i].last, 0))
            return c->rc;
    }
    return 0;
}

static int eval_pair(bctx *c, const pattern_oexpr *e, blist *out)
{
    blist l, r;
    if (eval(c, e->l, &l) || eval(c, e->r, &r))
        return c->rc;
    if (e->kind == PX_OR) {
        if (list_init(c, out, l.n + r.n))
            return c->rc;
        for (size_t i = 0; i < l.n + r.n; i++) {
            if (list_room(c, out))
                return c->rc;
            out->v[out->n++] = i < l.n ? l.v[i] : r.v[i - l.n];
        }
        return 0;
    }
    if (list_init(c, out, 16))
        return c->rc;
    for (size_t i = 0; i < l.n; i++)
        for (size_t j = 0; j < r.n; j++) {
            if (e->kind == PX_FOLLOWEDBY && ts_cmp(&l.v[i].hi, &r.v[j].lo) > 0)
                continue;
            if (join(c, out, &l.v[i], &r.v[j], 0))
                return c->rc;
        }
    return 0;
}

/* hi - lo < d */
static int span_within(const ts_value *lo, const ts_value *hi, const ts_value *d)
{
    int64_t s = hi->sec - lo->sec;
    int64_t ns = (int64_t)hi->nsec - lo->nsec;
    if (ns < 0)
        s--, ns += 1000000000;
    return s < d->sec || (s == d->sec && ns < d->nsec);
}

static int keep(const pattern_oexpr *e, const bnd *b)
{
    if (e->kind == PX_WITHIN)
        return span_within(&b->lo, &b->hi, &e->within);
    return ts_cmp(&b->lo, &e->start) >= 0 && ts_cmp(&b->hi, &e->stop) < 0;
}

static int eval_filter(bctx *c, const pattern_oexpr *e, blist *out)
{
    blist in;
    if (eval(c, e->l, &in))
        return c->rc;
    *out = in;
    out->n = 0;
    for (size_t i = 0; i < in.n; i++)
        if (keep(e, &in.v[i]))
            out->v[out->n++] = in.v[i];
    return 0;
}

static int eval_repeats(bctx *c, const pattern_oexpr *e, blist *out)
{
    blist child, cur, next;
    if (eval(c, e->l, &child))
        return c->rc;
    if (list_init(c, &cur, child.n))
        return c->rc;
    for (size_t i = 0; i < child.n; i++) {
        cur.v[cur.n] = child.v[i];
        cur.v[cur.n++].last = (uint32_t)i;
    }
    for (uint32_t k = 1; k < e->repeats && cur.n > 0; k++) {
        if (list_init(c, &next, 16))
            return c->rc;
        for (size_t i = 0; i < cur.n; i++)
            for (size_t j = cur.v[i].last; j < child.n; j++)
                if (join(c, &next, &cur.v[i], &child.v[j], (uint32_t)j))
                    return c->rc;
        cur = next;
    }
    *out = cur;
    return 0;
}

static int eval(bctx *c, const pattern_oexpr *e, blist *out)
{
    switch (e->kind) {
    case PX_LEAF:
        return eval_leaf(c, e, out);
    case PX_AND:
    case PX_OR:
    case PX_FOLLOWEDBY:
        return eval_pair(c, e, out);
    case PX_WITHIN:
    case PX_STARTSTOP:
        return eval_filter(c, e, out);
    default:
        return eval_repeats(c, e, out);
    }
}

static int has(const bnd *b, long must)
{
    for (uint32_t i = 0; i < b->n; i++)
        if (b->ids[i] == (uint32_t)must)
            return 1;
    return 0;
}

int pattern_bind(const accord_pattern *p, const pattern_tobs *obs, size_t n,
                 int (*leafmatch)(void *ud, uint32_t leaf, size_t i), void *ud, long must,
                 ajson_arena *a, uint32_t *out, size_t *nout)
{
    bctx c = {p, obs, n, leafmatch, ud, a, 0, 0};
    blist root;
    ajson_arena_reset(a);
    if (n > UINT32_MAX)
        return ACCORD_ELIMIT;
    if (eval(&c, p->root, &root))
        return c.rc;
    for (size_t i = 0; i < root.n; i++) {
        if (must >= 0 && !has(&root.v[i], must))
            continue;
        if (out) {
            memcpy(out, root.v[i].ids, root.v[i].n * sizeof *out);
            *nout = root.v[i].n;
        }
        return 1;
    }
    return 0;
}
