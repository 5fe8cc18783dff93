/*
 * match.c - the matcher: telemetry lines in, matches out, over an immutable snapshot.
 *
 * A matcher is one thread's state: scratch memory, the current batch, the results of the last
 * call, and a pattern-engine matcher when the snapshot has complex patterns.  The snapshot itself
 * is shared read-only, so N threads run N matchers over one snapshot without any lock.
 *
 * The pipeline of one call, per batch of BATCH lines:
 *
 *   A. read   the buffer ~16 KiB at a time through one vector pass (mjson_win: quotes, literal
 *             ends, newlines, whether any byte is a backslash), which gives the line ends; then
 *             each line: JSON (first byte '{') through the field extractor (match_input.c),
 *             from the window's index when the line has no backslash,
 *             anything else as one plain-text value; a line that cannot be read is recorded as
 *             malformed (line, offset, reason) and skipped.  Fields become items
 *             (match_event.c); each item's hash is computed and the cache line(s) its lookup
 *             will read are prefetched.
 *   B. match  each item is looked up in its kind's table (by then its cache lines are in, or on
 *             their way: the batch is the prefetch distance); the refs found are expanded to
 *             indicator numbers, those not valid now are dropped, and what is left is one
 *             result.  Then, when the snapshot has complex patterns, the event's observation is
 *             written and fed to the pattern engine, each pattern it completes one result.
 *
 * Almost every lookup misses, and a miss costs one cache line per table probed, so the cost that
 * remains is reading the line; the batch hides memory latency behind that work.
 *
 * Results (matches and malformed lines) point into the caller's buffer and the matcher's scratch,
 * both unchanged until the next call.  Memory is bounded by the buffer given: scratch holds at
 * most a copy of each value, results one record per match.
 *
 * Not here: reading files, threads, output formats (cli/cmd_match.c); temporal state of complex
 * patterns shared between matchers (each matcher has its own: with several threads, a FOLLOWEDBY
 * whose events land in different threads' chunks is not seen).  A matcher's state does move to
 * its successor over a reloaded snapshot (accord_matcher_carry), for the indicators both
 * snapshots hold unchanged.
 */
#include "match.h"
#include "pattern.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH 32
#define HX_MAX (BATCH * 64)
#define REFS_MAX 64

typedef struct mline {
    const char *p;
    uint32_t len;
    uint32_t item0, nitems;
    uint32_t field0, nfields;
    uint64_t line;
} mline;

typedef struct mres {
    uint64_t line;
    const char *event, *value, *time;
    uint32_t event_len, value_len, time_len;
    const char *fname; /* the field's name for decoded values, else NULL (see field) */
    uint32_t ind0, nind;
    uint16_t field;
    uint8_t time_str, complex;
} mres;

struct accord_matcher {
    accord_snapshot *s;
    const mfmap *map;
    mscratch sc;
    mfield fields[BATCH * MFIELDS_MAX];
    mitem items[BATCH * MITEMS_MAX];
    const char *vnames[BATCH * MITEMS_MAX]; /* decoded values: the name of items[i]'s field */
    uint64_t hx[HX_MAX]; /* domain suffix hashes, from prepare() to lookup_domain() */
    uint8_t hxo[HX_MAX]; /* and their offsets in the name (names are at most 253 bytes) */
    size_t nfields, nitems, nhx;
    mline lines[BATCH];
    size_t nlines;
    mjson_win win; /* the index of the lines being read (accord_matcher_match_lines) */
    mres *res;
    size_t nres, res_cap, res_pos;
    uint32_t *inds;
    size_t ninds, inds_cap;
    accord_match_malformed *bad;
    size_t nbad, bad_cap, bad_pos;
    accord_pattern_matcher *pm;
    mlike_scratch like;  /* User-Agent LIKE rules */
    uint32_t *like_refs; /* room for the refs of every rule */
    mtsv tsv; /* the Zeek TSV header in effect */
    buf obs;
    const mline *cur; /* the line whose complex hits are being collected */
    uint32_t now;
    int oom;
    int unfiltered; /* every event goes to the pattern engine (tests compare with the filter) */
    mleaf_cb leaf_cb; /* mmatcher_leaf_hits */
    void *leaf_ud;
    accord_matcher_stats st;
};

ACCORD_API int accord_matcher_new(accord_snapshot *s, accord_matcher **out)
{
    accord_matcher *m = calloc(1, sizeof *m);
    *out = NULL;
    if (!m)
        return ACCORD_ENOMEM;
    m->s = accord_snapshot_ref(s);
    m->map = mfmap_builtin();
    mtsv_reset(&m->tsv);
    ajson_arena_init(&m->sc, 0);
    buf_init(&m->obs, 1u << 20);
    if ((s->complex && accord_pattern_matcher_new(s->complex, &m->pm) != 0) ||
        mlike_scratch_init(&m->like, &s->ua_like) != 0 ||
        (s->ua_like.rules.n &&
         !(m->like_refs = malloc(s->ua_like.rules.n * sizeof *m->like_refs)))) {
        accord_matcher_free(m);
        return ACCORD_ENOMEM;
    }
    *out = m;
    return 0;
}

void mmatcher_unfiltered(accord_matcher *m, int on)
{
    m->unfiltered = on;
}

ACCORD_API void accord_matcher_set_field_map(accord_matcher *m, const accord_field_map *fm)
{
    m->map = mfmap_of(fm);
    mtsv_reset(&m->tsv);
}

ACCORD_API void accord_matcher_free(accord_matcher *m)
{
    if (!m)
        return;
    accord_pattern_matcher_free(m->pm);
    mlike_scratch_free(&m->like);
    free(m->like_refs);
    accord_snapshot_unref(m->s);
    ajson_arena_free(&m->sc);
    buf_free(&m->obs);
    free(m->res);
    free(m->inds);
    free(m->bad);
    free(m);
}

/* ------------------------------------------------------------------------------------------ */
/* Results                                                                                      */

static int grow(void **v, size_t *cap, size_t need, size_t size)
{
    size_t c = *cap ? *cap : 256;
    void *nv;
    if (need <= *cap)
        return 0;
    while (c < need)
        c *= 2;
    nv = realloc(*v, c * size);
    if (!nv)
        return ACCORD_ENOMEM;
    *v = nv;
    *cap = c;
    return 0;
}

static void add_malformed(accord_matcher *m, uint64_t line, size_t off, const char *why)
{
    m->st.malformed++;
    if (grow((void **)&m->bad, &m->bad_cap, m->nbad + 1, sizeof *m->bad)) {
        m->oom = 1;
        return;
    }
    m->bad[m->nbad++] = (accord_match_malformed){line, off, why};
}

/* The first time field of line l. */
static void line_time(const accord_matcher *m, const mline *l, mres *r)
{
    for (uint32_t i = 0; i < l->nfields; i++) {
        const mfield *f = &m->fields[l->field0 + i];
        if (f->role == MR_TIME) {
            r->time = f->p;
            r->time_len = f->len;
            r->time_str = f->str;
            return;
        }
    }
}

/* Appends a result for line l with the indicators inds[ind0..ninds). */
static void add_result(accord_matcher *m, const mline *l, const mitem *it, uint32_t ind0)
{
    mres *r;
    if (grow((void **)&m->res, &m->res_cap, m->nres + 1, sizeof *m->res)) {
        m->oom = 1;
        return;
    }
    r = &m->res[m->nres++];
    memset(r, 0, sizeof *r);
    r->line = l->line;
    r->event = l->p;
    r->event_len = l->len;
    r->ind0 = ind0;
    r->nind = (uint32_t)(m->ninds - ind0);
    if (it) {
        r->value = it->text;
        r->value_len = it->len;
        r->field = it->field;
        if (it->field == MFIELD_NAMED)
            r->fname = m->vnames[it - m->items];
    } else {
        r->complex = 1;
    }
    line_time(m, l, r);
    m->st.matches++;
}

static int valid_now(const accord_matcher *m, uint32_t ind)
{
    const mind *r = &m->s->inds[ind];
    return r->valid_from <= m->now && m->now < r->valid_until;
}

/* Appends the indicators of refs[0..n) that are valid now and not yet listed since ind0. */
static void expand_refs(accord_matcher *m, const uint32_t *refs, size_t n, uint32_t ind0)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t tmp;
        size_t k;
        const uint32_t *v = mrefs_get(&m->s->refs, refs[i], &tmp, &k);
        for (size_t j = 0; j < k; j++) {
            int dup = 0;
            if (!valid_now(m, v[j])) {
                m->st.expired++;
                continue;
            }
            for (size_t x = ind0; x < m->ninds && !dup; x++)
                dup = m->inds[x] == v[j];
            if (dup)
                continue;
            if (grow((void **)&m->inds, &m->inds_cap, m->ninds + 1, sizeof *m->inds)) {
                m->oom = 1;
                return;
            }
            m->inds[m->ninds++] = v[j];
        }
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Lookups                                                                                      */

static const mstrset *strset_of(const accord_snapshot *s, int kind)
{
    return kind == MK_URL ? &s->url : kind == MK_EMAIL ? &s->email : &s->ua;
}

/* Computes the hashes of an item and prefetches what its lookup reads. */
static void prepare(accord_matcher *m, mitem *it)
{
    const accord_snapshot *s = m->s;
    switch (it->kind) {
    case MK_IPV4:
        mip_prefetch4(&s->ip, it->k.v4);
        break;
    case MK_IPV6:
        mip_prefetch6(&s->ip, it->k.v6);
        break;
    case MK_DOMAIN: {
        uint32_t offs[MDOMAIN_LABELS];
        size_t n;
        it->hx = UINT32_MAX; /* no suffixes prepared */
        it->nhx = 0;
        if (s->domain.n == 0)
            break;
        it->h = mstr_hash(&s->domain, it->text, it->len);
        mtab_prefetch(&s->domain.t, it->h);
        if (!s->sfx) { /* no `%.suffix` keys: no suffix to probe */
            it->hx = (uint32_t)m->nhx;
            break;
        }
        n = mdomain_suffixes(it->text, it->len, offs);
        if (m->nhx + n > HX_MAX)
            break;
        it->hx = (uint32_t)m->nhx;
        it->nhx = (uint8_t)n;
        for (size_t i = 0; i < n; i++) { /* filtered by prefetch_late */
            uint64_t h = mstr_hash(&s->domain, it->text + offs[i], it->len - offs[i]);
            m->hxo[m->nhx] = (uint8_t)offs[i];
            m->hx[m->nhx++] = h;
            __builtin_prefetch(msfx_word(s, h));
        }
        break;
    }
    case MK_URL:
    case MK_EMAIL:
    case MK_UA: {
        const mstrset *set = strset_of(s, it->kind);
        if (set->n == 0)
            break;
        it->h = mstr_hash(set, it->text, it->len);
        mtab_prefetch(&set->t, it->h);
        break;
    }
    default:
        if (s->hash[it->kind - MK_HASH_FIRST].n == 0)
            break;
        it->h = mhash_hash(it->k.digest);
        mtab_prefetch(&s->hash[it->kind - MK_HASH_FIRST].t, it->h);
        break;
    }
}

static size_t lookup_domain(const accord_matcher *m, const mitem *it, uint32_t *refs)
{
    const mstrset *set = &m->s->domain;
    const mstr_entry *e;
    uint32_t offs[MDOMAIN_LABELS];
    size_t n = 0, ns;
    if (set->n == 0)
        return 0;
    if ((e = mstr_find(set, it->h, it->text, it->len)) && e->ref != MREF_NONE)
        refs[n++] = e->ref;
    if (it->hx != UINT32_MAX) { /* the usual case: prepare() found the suffixes */
        for (size_t i = 0; i < it->nhx; i++) {
            size_t o = m->hxo[it->hx + i];
            if ((e = mstr_find(set, m->hx[it->hx + i], it->text + o, it->len - o)) &&
                e->ref2 != MREF_NONE)
                refs[n++] = e->ref2;
        }
        return n;
    }
    ns = mdomain_suffixes(it->text, it->len, offs);
    for (size_t i = 0; i < ns; i++) {
        size_t sl = it->len - offs[i];
        uint64_t h = mstr_hash(set, it->text + offs[i], sl);
        if (msfx_may(m->s, h) && (e = mstr_find(set, h, it->text + offs[i], sl)) &&
            e->ref2 != MREF_NONE)
            refs[n++] = e->ref2;
    }
    return n;
}

/* The refs of every key item matches, into refs[0..REFS_MAX). */
static size_t lookup(const accord_matcher *m, const mitem *it, uint32_t *refs)
{
    const accord_snapshot *s = m->s;
    const mstr_entry *e;
    uint32_t r;
    switch (it->kind) {
    case MK_IPV4:
        return mip_lookup4(&s->ip, it->k.v4, refs, REFS_MAX);
    case MK_IPV6:
        return mip_lookup6(&s->ip, it->k.v6, refs, REFS_MAX);
    case MK_DOMAIN:
        return lookup_domain(m, it, refs);
    case MK_URL:
    case MK_EMAIL:
    case MK_UA: {
        const mstrset *set = strset_of(s, it->kind);
        if (set->n == 0 || !(e = mstr_find(set, it->h, it->text, it->len)))
            return 0;
        refs[0] = e->ref;
        return 1;
    }
    default:
        if (s->hash[it->kind - MK_HASH_FIRST].n == 0)
            return 0;
        r = mhash_find(&s->hash[it->kind - MK_HASH_FIRST], it->h, it->k.digest);
        refs[0] = r;
        return r != MREF_NONE;
    }
}

/* The indicators of the User-Agent LIKE rules user agent it matches, after those of ind0. */
static void match_ua_like(accord_matcher *m, const mitem *it, uint32_t ind0)
{
    long n = mlike_match(&m->s->ua_like, &m->like, it->text, it->len, m->like_refs);
    if (n < 0)
        m->oom = 1;
    else
        expand_refs(m, m->like_refs, (size_t)n, ind0);
}

/* ------------------------------------------------------------------------------------------ */
/* network-traffic keys                                                                         */

/* A result of a network-traffic key: the address item's field (else the port's), the value
 * "ADDR", "PORT" or "ADDR:PORT" ("[V6]:PORT"). */
static void add_traffic_result(accord_matcher *m, const mline *l, mitem *a, const mfield *pf,
                               long port, uint32_t ind0)
{
    char *t = ajson_arena_alloc(&m->sc, 64);
    mres *r;
    int n;
    if (a && a->kind == MK_IPV6 && mitem_canon6(a, &m->sc) < 0)
        m->oom = 1;
    if (!t || m->oom) {
        m->oom = 1;
        return;
    }
    if (a && port >= 0)
        n = snprintf(t, 64, a->kind == MK_IPV6 ? "[%.*s]:%ld" : "%.*s:%ld", (int)a->len, a->text,
                     port);
    else if (a)
        n = snprintf(t, 64, "%.*s", (int)a->len, a->text);
    else
        n = snprintf(t, 64, "%ld", port);
    /* a port alone: named after its field (decoded values: "sport" / "dport", set below) */
    add_result(m, l, a ? a : &(mitem){.field = pf->field == MFIELD_NAMED ? 0 : pf->field}, ind0);
    if (m->oom)
        return;
    r = &m->res[m->nres - 1];
    r->value = t;
    r->value_len = (uint32_t)(n > 0 && n < 64 ? n : 0);
    if (!a) {
        r->field = pf->field;
        r->fname = pf->field == MFIELD_NAMED ? (pf->role == MR_SRC_PORT ? "sport" : "dport") : NULL;
    }
}

/* The keys of one side of the event's network-traffic object. */
static void match_side(accord_matcher *m, const mline *l, int side, long ai, long port,
                       const mfield *pf)
{
    uint32_t refs[MPORT_OUT_MAX];
    uint8_t shape[MPORT_OUT_MAX], v4[4];
    mitem *a = ai >= 0 ? &m->items[l->item0 + ai] : NULL;
    const uint8_t *addr = NULL;
    size_t n;
    if (a && a->kind == MK_IPV4) {
        v4[0] = (uint8_t)(a->k.v4 >> 24), v4[1] = (uint8_t)(a->k.v4 >> 16);
        v4[2] = (uint8_t)(a->k.v4 >> 8), v4[3] = (uint8_t)a->k.v4;
        addr = v4;
    } else if (a) {
        addr = a->k.v6;
    }
    n = mport_lookup(&m->s->port, side, a ? (a->kind == MK_IPV4 ? 4 : 6) : 0, addr, port, refs,
                     shape, MPORT_OUT_MAX);
    for (size_t i = 0; i < n; i++) {
        uint32_t ind0 = (uint32_t)m->ninds;
        expand_refs(m, &refs[i], 1, ind0);
        if (m->ninds > ind0)
            add_traffic_result(m, l, shape[i] == MPORT_PORT ? NULL : a, pf,
                               shape[i] == MPORT_ADDR ? -1 : port, ind0);
    }
}

/* The network-traffic keys an event meets (the object exists: it has an address or a user
 * agent). */
static void match_traffic(accord_matcher *m, const mline *l)
{
    mtraffic t;
    const mitem *it = &m->items[l->item0];
    mtraffic_of(it, l->nitems, &m->fields[l->field0], l->nfields, &t);
    if (t.src < 0 && t.dst < 0 && t.ua < 0)
        return;
    match_side(m, l, MPORT_SRC, t.src, t.sport, t.sport_f);
    match_side(m, l, MPORT_DST, t.dst, t.dport, t.dport_f);
}

/* ------------------------------------------------------------------------------------------ */
/* Complex patterns                                                                             */

static void on_complex_hit(void *ud, uint64_t tag, size_t index)
{
    accord_matcher *m = ud;
    uint32_t ind = (uint32_t)tag, ind0 = (uint32_t)m->ninds;
    (void)index;
    if (!valid_now(m, ind)) {
        m->st.expired++;
        return;
    }
    if (grow((void **)&m->inds, &m->inds_cap, m->ninds + 1, sizeof *m->inds)) {
        m->oom = 1;
        return;
    }
    m->inds[m->ninds++] = ind;
    add_result(m, m->cur, NULL, ind0);
}

static void on_leaf_hit(void *ud, uint64_t tag, size_t index, uint64_t leaves,
                        const pattern_tobs *t)
{
    accord_matcher *m = ud;
    mres r;
    mleaf_hit h;
    if (!valid_now(m, (uint32_t)tag)) {
        m->st.expired++;
        return;
    }
    memset(&r, 0, sizeof r);
    line_time(m, m->cur, &r);
    h = (mleaf_hit){m->cur->line, (uint32_t)tag, (uint32_t)index, leaves, t, m->cur->p,
                    r.time, m->cur->len, r.time_len, r.time_str};
    m->leaf_cb(m->leaf_ud, &h);
}

int mmatcher_leaf_hits(accord_matcher *m, mleaf_cb cb, void *ud)
{
    m->leaf_cb = cb;
    m->leaf_ud = ud;
    return m->pm ? pattern_matcher_leaves(m->pm, cb ? on_leaf_hit : NULL, m) : 0;
}

static void match_complex(accord_matcher *m, const mline *l)
{
    const mfield *f = &m->fields[l->field0];
    if (!m->unfiltered && !mcf_pass(&m->s->cfilter, &m->items[l->item0], l->nitems))
        return; /* no leaf of any pattern-engine indicator can be true for it */
    buf_reset(&m->obs);
    if (mobs_write(&m->items[l->item0], l->nitems, f, l->nfields, mevent_time_us(f, l->nfields),
                   &m->obs) < 0) {
        m->st.complex_errors++;
        return;
    }
    m->cur = l;
    if (accord_pattern_matcher_feed(m->pm, m->obs.p, m->obs.len, on_complex_hit, m, NULL) != 0)
        m->st.complex_errors++;
}

/* ------------------------------------------------------------------------------------------ */
/* Batches                                                                                      */

/* Stage A for one line; wo is its offset in m->win when the window holds it, else -1. */
static void read_line(accord_matcher *m, const char *p, size_t len, uint64_t lineno, long wo)
{
    mline *l = &m->lines[m->nlines];
    mfield *f = &m->fields[m->nfields];
    const char *why = NULL;
    size_t off = 0, i = 0;
    int nf;
    while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r'))
        i++;
    if (i == len)
        return;
    if (p[i] == '#') { /* a Zeek TSV header line that cannot be used is reported once, here */
        if (mtsv_header(&m->tsv, m->map, p + i, len - i, &why) && why)
            add_malformed(m, lineno, i, why);
        return;
    }
    if (p[i] == '{' && wo >= 0 &&
        !(m->win.any_bs && memchr(p, '\\', len))) {
        nf = mjson_extract_win(m->map, &m->win, (size_t)wo, len, f, MFIELDS_MAX, &m->sc, &why,
                               &off); /* no backslash: straight from the window's index */
    } else if (p[i] == '{') {
        nf = mjson_extract(m->map, p, len, f, MFIELDS_MAX, &m->sc, &why, &off);
    } else if (m->tsv.active) {
        nf = mtsv_extract(&m->tsv, p, len, f, MFIELDS_MAX, &m->sc, &why, &off);
    } else {
        f[0] = (mfield){p, (uint32_t)len, MR_ANY, MFIELD_VALUE, 1};
        nf = 1;
    }
    if (nf < 0) {
        add_malformed(m, lineno, off, why);
        return;
    }
    *l = (mline){p,     (uint32_t)len, (uint32_t)m->nitems, 0, (uint32_t)m->nfields, (uint32_t)nf,
                 lineno};
    l->nitems =
        (uint32_t)mitems_from_fields(f, (size_t)nf, &m->items[m->nitems], MITEMS_MAX, &m->sc);
    if (p[i] != '{' && !m->tsv.active && l->nitems == 0) {
        add_malformed(m, lineno, i, "not an address, domain name, URL, e-mail address or digest");
        return;
    }
    m->st.events++; /* a line read as an event: malformed ones are counted apart */
    for (uint32_t k = 0; k < l->nitems; k++)
        prepare(m, &m->items[m->nitems + k]);
    m->st.values += l->nitems;
    m->nitems += l->nitems;
    m->nfields += (size_t)nf;
    m->nlines++;
}

/* The second prefetch pass over a batch, for lookups that first read a small filter whose word
 * prepare() prefetched: an IPv4 address's /24 bit (mip_prefetch4_late), and a domain's suffixes,
 * of which only those that may be `%.suffix` keys are kept and their table lines fetched. */
static void prefetch_late(accord_matcher *m)
{
    const accord_snapshot *s = m->s;
    for (size_t i = 0; i < m->nitems; i++) {
        mitem *it = &m->items[i];
        if (it->kind == MK_IPV4 && (s->ip.x24 || s->ip.p24)) {
            mip_prefetch4_late(&s->ip, it->k.v4);
        } else if (it->kind == MK_DOMAIN && it->hx != UINT32_MAX) {
            size_t w = it->hx;
            for (size_t k = it->hx; k < it->hx + it->nhx; k++) {
                if (!msfx_may(s, m->hx[k])) /* no `%.suffix` key: no table line needed */
                    continue;
                m->hx[w] = m->hx[k];
                m->hxo[w++] = m->hxo[k];
                mtab_prefetch(&s->domain.t, m->hx[k]);
            }
            it->nhx = (uint8_t)(w - it->hx);
        }
    }
}

/* Stage B for the batch. */
static void match_batch(accord_matcher *m)
{
    uint32_t refs[REFS_MAX];
    prefetch_late(m);
    for (size_t li = 0; li < m->nlines; li++) {
        const mline *l = &m->lines[li];
        for (uint32_t k = 0; k < l->nitems; k++) {
            mitem *it = &m->items[l->item0 + k];
            size_t n = lookup(m, it, refs);
            uint32_t ind0 = (uint32_t)m->ninds;
            if (it->kind == MK_UA && m->s->ua_like.rules.n)
                match_ua_like(m, it, ind0);
            else if (n == 0)
                continue;
            expand_refs(m, refs, n, ind0);
            if (m->ninds > ind0 && it->kind == MK_IPV6 && mitem_canon6(it, &m->sc) < 0)
                m->oom = 1;
            if (m->ninds > ind0)
                add_result(m, l, it, ind0);
        }
        if (m->s->port.n)
            match_traffic(m, l);
        if (m->pm)
            match_complex(m, l);
    }
    m->nlines = m->nitems = m->nfields = m->nhx = 0;
}

static uint32_t clamp_now(int64_t now_s)
{
    if (now_s == 0)
        now_s = (int64_t)time(NULL);
    return now_s <= 0 ? 0 : now_s >= 0xFFFFFFFEll ? 0xFFFFFFFEu : (uint32_t)now_s;
}

/* One line of the buffer: its bytes without the newline (and a '\r' before it). */
static void one_line(accord_matcher *m, const char *p, size_t n, uint64_t lineno, long wo)
{
    if (n && p[n - 1] == '\r')
        n--;
    m->st.lines++;
    read_line(m, p, n, lineno, wo);
    if (m->nlines == BATCH)
        match_batch(m);
}

/*
 * Lines are found through the window's newline map: the window covers up to MWIN_BYTES from the
 * start of a line, every line that ends inside it is read from its index, and the first line
 * that does not is where the next window starts.  A line longer than a window is found by
 * memchr and read on its own.
 */
ACCORD_API long accord_matcher_match_lines(accord_matcher *m, const char *b, size_t len,
                                           int64_t now_s)
{
    mjson_win *w = &m->win;
    size_t pos = 0, wpos = 0; /* wpos: the window's offset in b */
    uint64_t lineno = 0;
    ajson_arena_reset(&m->sc);
    m->nres = m->res_pos = m->ninds = m->nbad = m->bad_pos = 0;
    m->oom = 0;
    m->now = clamp_now(now_s);
    m->st.bytes += len;
    w->len = 0;
    while (pos < len) {
        size_t rel, e;
        if (pos >= wpos + w->len || w->len == 0) {
            wpos = pos;
            mjson_win_index(w, b + pos, len - pos < MWIN_BYTES ? len - pos : MWIN_BYTES);
        }
        rel = pos - wpos;
        e = mbits_next(w->nl, rel, w->len);
        if (e == w->len && wpos + w->len < len) { /* the line goes on past the window */
            const char *nl;
            size_t n;
            if (rel > 0) {
                w->len = 0; /* a new window from this line */
                continue;
            }
            nl = memchr(b + pos + w->len, '\n', len - pos - w->len);
            n = nl ? (size_t)(nl - (b + pos)) : len - pos;
            one_line(m, b + pos, n, ++lineno, -1);
            pos += n + 1;
            w->len = 0;
            continue;
        }
        one_line(m, b + pos, e - rel, ++lineno, (long)rel);
        pos = wpos + e + 1; /* past the newline, or len + 1 after the last line without one */
    }
    match_batch(m);
    return m->oom ? ACCORD_ENOMEM : (long)m->nres;
}

/* ------------------------------------------------------------------------------------------ */
/* Decoded values                                                                               */

static const char *value_name(const accord_value *v)
{
    if (v->field)
        return v->field;
    switch (v->type) {
    case ACCORD_VALUE_DOMAIN:
        return "domain";
    case ACCORD_VALUE_URL:
        return "url";
    default:
        return v->role == ACCORD_ROLE_SRC ? "src" : v->role == ACCORD_ROLE_DST ? "dst" : "ip";
    }
}

/* A number field written in the scratch as JSON would have it: an integer, or with micro >= 0
 * "WHOLE.MICRO" (a time in seconds). */
static int number_field(accord_matcher *m, mfield *f, int role, int64_t whole, long micro)
{
    char *t = ajson_arena_alloc(&m->sc, 32);
    int n;
    if (!t)
        return 0;
    n = micro >= 0 ? snprintf(t, 32, "%lld.%06ld", (long long)whole, micro)
                   : snprintf(t, 32, "%lld", (long long)whole);
    *f = (mfield){t, (uint32_t)n, (uint16_t)role, 0, 0};
    return 1;
}

/* Stage A for one event of decoded values: the fields (time, protocol, ports) and items a JSON
 * line with these values would give. */
static void read_event(accord_matcher *m, const accord_value_event *ev, uint64_t no)
{
    mline *l = &m->lines[m->nlines];
    mfield *f = &m->fields[m->nfields];
    mitem *it = &m->items[m->nitems];
    size_t nf = 0, ni = 0;
    int sp = 0, dp = 0;
    m->st.events++;
    if (ev->time_us > 0)
        nf += (size_t)number_field(m, &f[nf], MR_TIME, ev->time_us / 1000000,
                                   (long)(ev->time_us % 1000000));
    if (ev->proto)
        f[nf++] = (mfield){ev->proto, (uint32_t)strlen(ev->proto), MR_PROTO, 0, 1};
    for (size_t i = 0; i < ev->nvalues && ni < MITEMS_MAX; i++) {
        const accord_value *v = &ev->values[i];
        if (!mitem_from_value(v, &it[ni], &m->sc))
            continue;
        m->vnames[m->nitems + ni] = value_name(v);
        ni++;
        if ((v->type != ACCORD_VALUE_IPV4 && v->type != ACCORD_VALUE_IPV6) || v->port < 0 ||
            v->port > 65535 || nf + 1 >= MFIELDS_MAX)
            continue;
        if (v->role == ACCORD_ROLE_SRC && !sp++ &&
            number_field(m, &f[nf], MR_SRC_PORT, v->port, -1))
            f[nf++].field = MFIELD_NAMED; /* named "sport" in a match */
        else if (v->role == ACCORD_ROLE_DST && !dp++ &&
                 number_field(m, &f[nf], MR_DST_PORT, v->port, -1))
            f[nf++].field = MFIELD_NAMED;
    }
    *l =
        (mline){NULL, 0, (uint32_t)m->nitems, (uint32_t)ni, (uint32_t)m->nfields, (uint32_t)nf, no};
    for (size_t k = 0; k < ni; k++)
        prepare(m, &it[k]);
    m->st.values += ni;
    m->nitems += ni;
    m->nfields += nf;
    m->nlines++;
}

ACCORD_API long accord_matcher_match_values(accord_matcher *m, const accord_value_event *ev,
                                            size_t nev, int64_t now_s)
{
    ajson_arena_reset(&m->sc);
    m->nres = m->res_pos = m->ninds = m->nbad = m->bad_pos = 0;
    m->oom = 0;
    m->now = clamp_now(now_s);
    for (size_t i = 0; i < nev; i++) {
        read_event(m, &ev[i], i + 1);
        if (m->nlines == BATCH)
            match_batch(m);
    }
    match_batch(m);
    return m->oom ? ACCORD_ENOMEM : (long)m->nres;
}

ACCORD_API void accord_matcher_set_header(accord_matcher *m, const char *text, size_t len)
{
    const char *p = text, *end = text ? text + len : NULL;
    mtsv_reset(&m->tsv);
    while (p && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = (size_t)((nl ? nl : end) - p);
        if (n && p[n - 1] == '\r')
            n--;
        if (n && p[0] == '#')
            mtsv_header(&m->tsv, m->map, p, n, NULL); /* reported where it was read */
        p = nl ? nl + 1 : end;
    }
}

ACCORD_API int accord_matcher_next(accord_matcher *m, accord_match *out)
{
    const mres *r;
    if (m->res_pos >= m->nres)
        return 0;
    r = &m->res[m->res_pos++];
    out->line = r->line;
    out->field = r->complex ? NULL : r->fname ? r->fname : mfield_name(m->map, r->field);
    out->value = r->value;
    out->value_len = r->value_len;
    out->time = r->time;
    out->time_len = r->time_len;
    out->time_is_string = r->time_str;
    out->event = r->event;
    out->event_len = r->event_len;
    out->indicators = &m->inds[r->ind0];
    out->nindicators = r->nind;
    out->bytes = out->packets = 0;
    out->sampling = 0;
    return 1;
}

ACCORD_API int accord_matcher_next_malformed(accord_matcher *m, accord_match_malformed *out)
{
    if (m->bad_pos >= m->nbad)
        return 0;
    *out = m->bad[m->bad_pos++];
    return 1;
}

ACCORD_API void accord_matcher_stats_get(const accord_matcher *m, accord_matcher_stats *out)
{
    *out = m->st;
}

/* ------------------------------------------------------------------------------------------ */
/* Carrying partial matches to a new snapshot                                                   */

ACCORD_API long accord_matcher_carry(accord_matcher *to, const accord_matcher *from)
{
    const accord_snapshot *ts = to->s, *fs = from->s;
    size_t tn, fn;
    u64map byver;
    long *map = NULL, rc = ACCORD_ENOMEM;
    uint64_t v;
    if (!to->pm || !from->pm)
        return 0;
    tn = accord_pattern_set_count(ts->complex);
    fn = accord_pattern_set_count(fs->complex);
    u64map_init(&byver);
    map = malloc(tn * sizeof *map);
    if (!map || u64map_reserve(&byver, fn) < 0)
        goto out;
    for (size_t i = 0; i < fn; i++)
        if (u64map_put(&byver, u64map_key(fs->cver[i]), i) < 0)
            goto out;
    for (size_t i = 0; i < tn; i++)
        map[i] = u64map_get(&byver, u64map_key(ts->cver[i]), &v) ? (long)v : -1;
    rc = pattern_matcher_carry(to->pm, from->pm, map);
out:
    free(map);
    u64map_free(&byver);
    return rc;
}
