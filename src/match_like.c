/*
 * match_like.c - User-Agent LIKE patterns: a multi-literal prefilter, then the evaluator's LIKE.
 *
 * Feeds name tools by a part of their user agent:
 * `network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' LIKE '%curl/%'`.
 * Left to the pattern engine, every such indicator is evaluated against every event that has a
 * network-traffic object (LIKE is not an equality, so the engine's index cannot select it).
 * Here each distinct LIKE pattern is a rule, and a rule can only match a text that contains
 * each run of literal bytes between its wildcards: the rule is listed under one 4-byte window
 * (a gram) of its longest run, and a user agent selects the rules of the grams it contains.
 *
 *   rules   the distinct patterns and their indicators: an mstrset, rule i = entry i
 *   filt    one bit per gram hash (16 bits per gram at least): a window of the text whose bit
 *           is clear is no gram, which is nearly every window, at the cost of a cached word
 *   grams   distinct grams in a cache-line hash table (match_table.c), each naming its rules
 *           in byrule[start .. start + count)
 *   always  rules with no run of 4 literal bytes ('%Go%', '_%'), tried on every text
 *
 * A candidate is then decided by pattern_like, the evaluator's own LIKE, over the text as the
 * evaluator sees it: the observation holds the value with each invalid UTF-8 byte replaced by
 * U+FFFD (match_event.c), and LIKE compares NFC forms.  Patterns are ASCII (others stay with
 * the engine), so their NFC form is themselves, and an ASCII text, nearly every user agent, is
 * used as it is.  So the fast path and the engine agree exactly, which the differential test
 * in tests/unit/test_match.c checks; the grams only prune.
 *
 * Not here: `MATCHES` (regular expressions), LIKE on other properties (URLs, names: the engine
 * keeps them).
 */
#include "match.h"
#include "pattern.h"

#include <stdlib.h>
#include <string.h>

#define GRAM 4

void mlike_builder_init(mlike_builder *b)
{
    mstr_builder_init(&b->s, 0x6c696b6575610005ull);
}

void mlike_builder_free(mlike_builder *b)
{
    mstr_builder_free(&b->s);
}

int mlike_add(mlike_builder *b, const char *pat, size_t len, uint32_t ind)
{
    return mstr_add(&b->s, pat, len, ind, 0);
}

static uint32_t gram_at(const char *p)
{
    uint32_t g;
    memcpy(&g, p, sizeof g);
    return g;
}

static uint64_t gram_hash(uint32_t g)
{
    return mix64((uint64_t)g ^ 0x6c696b656772616dull);
}

/* The filter bit of a gram: the top bits of a multiplicative hash (cheap: it runs per byte). */
static uint32_t filt_bit(const mlike *l, uint32_t g)
{
    return (uint32_t)((g * 0x9E3779B1u) >> l->fshift);
}

/* The offset of the last gram of the longest literal run of pat, or -1 when no run has GRAM
 * bytes.  The run's end is taken as the more telling part ("curl/", "requests/"). */
static long pick_gram(const char *pat, size_t len)
{
    size_t best = 0, best_end = 0, run = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && pat[i] != '%' && pat[i] != '_') {
            run++;
            continue;
        }
        if (run > best) {
            best = run;
            best_end = i;
        }
        run = 0;
    }
    return best >= GRAM ? (long)(best_end - GRAM) : -1;
}

typedef struct gpair {
    uint32_t gram, rule;
} gpair;

static int gpair_cmp(const void *a, const void *b)
{
    const gpair *x = a, *y = b;
    if (x->gram != y->gram)
        return x->gram < y->gram ? -1 : 1;
    return (x->rule > y->rule) - (x->rule < y->rule);
}

static const char *rule_text(const mlike *l, size_t i, size_t *len)
{
    const mstrset *r = &l->rules;
    size_t end = i + 1 < r->n ? r->e[i + 1].off : r->pool_len;
    *len = end - r->e[i].off;
    return r->pool + r->e[i].off;
}

/* The gram tables over rules[] already built. */
static int build_grams(mlike *l, gpair *gp, size_t ng, uint64_t *h)
{
    size_t bits = 4096;
    int shift = 32 - 12;
    while (bits < ng * 16 && bits < (1u << 30))
        bits *= 2, shift--;
    l->fshift = shift;
    l->filt = calloc(bits / 64, sizeof *l->filt);
    l->gram = malloc((ng ? ng : 1) * sizeof *l->gram);
    l->start = malloc((ng + 1) * sizeof *l->start);
    l->byrule = malloc((ng ? ng : 1) * sizeof *l->byrule);
    if (!l->filt || !l->gram || !l->start || !l->byrule)
        return ACCORD_ENOMEM;
    qsort(gp, ng, sizeof *gp, gpair_cmp);
    for (size_t i = 0; i < ng; i++) {
        if (i == 0 || gp[i].gram != gp[i - 1].gram) {
            l->gram[l->ngram] = gp[i].gram;
            l->start[l->ngram] = (uint32_t)i;
            h[l->ngram++] = gram_hash(gp[i].gram);
            l->filt[filt_bit(l, gp[i].gram) >> 6] |= 1ull << (filt_bit(l, gp[i].gram) & 63);
        }
        l->byrule[i] = gp[i].rule;
    }
    l->start[l->ngram] = (uint32_t)ng;
    return mtab_build(&l->t, h, l->ngram);
}

int mlike_build(mlike_builder *b, mrefs *refs, mlike *l)
{
    int rc;
    memset(l, 0, sizeof *l);
    rc = mstr_build(&b->s, refs, &l->rules);
    if (rc == 0)
        rc = mlike_index(l);
    if (rc)
        mlike_free(l);
    return rc;
}

void mlike_free(mlike *l)
{
    mstr_free(&l->rules);
    mtab_free(&l->t);
    free(l->filt);
    free(l->gram);
    free(l->start);
    free(l->byrule);
    free(l->always);
    memset(l, 0, sizeof *l);
}

size_t mlike_bytes(const mlike *l)
{
    if (l->rules.n == 0)
        return 0;
    return (l->t.b ? l->t.nb * sizeof(mtab_bucket) : 0) + l->rules.n * sizeof(mstr_entry) +
           l->rules.pool_len + ((size_t)1 << (32 - l->fshift)) / 8 + l->ngram * 8 + l->rules.n * 8;
}

/* ------------------------------------------------------------------------------------------ */
/* Matching                                                                                     */

int mlike_scratch_init(mlike_scratch *sc, const mlike *l)
{
    memset(sc, 0, sizeof *sc);
    if (l->rules.n == 0)
        return 0;
    sc->stamp = calloc(l->rules.n, sizeof *sc->stamp);
    sc->cand = malloc(l->rules.n * sizeof *sc->cand);
    return sc->stamp && sc->cand ? 0 : ACCORD_ENOMEM;
}

void mlike_scratch_free(mlike_scratch *sc)
{
    free(sc->stamp);
    free(sc->cand);
    free(sc->fix);
    free(sc->nfc);
    memset(sc, 0, sizeof *sc);
}

/* The text the evaluator sees for v[0..len): invalid UTF-8 bytes as U+FFFD, then NFC.  NULL
 * when memory runs out. */
static const char *eval_text(mlike_scratch *sc, const char *v, size_t len, size_t *out)
{
    const unsigned char *u = (const unsigned char *)v;
    size_t i = 0, k = 0;
    while (i < len && u[i] < 0x80)
        i++;
    *out = len;
    if (i == len)
        return v;
    if (len > SIZE_MAX / 3 - 16 || sc->fix_cap < len * 3) {
        unsigned char *nb = len > SIZE_MAX / 3 - 16 ? NULL : realloc(sc->fix, len * 3 + 16);
        if (!nb)
            return NULL;
        sc->fix = nb;
        sc->fix_cap = len * 3 + 16;
    }
    for (i = 0; i < len;) {
        size_t j = i;
        if (u[i] < 0x80 || pattern_utf8_next(u, len, &i) >= 0) {
            if (u[j] < 0x80)
                i++;
            memcpy(sc->fix + k, u + j, i - j);
            k += i - j;
        } else {
            i = j + 1;
            memcpy(sc->fix + k, "\xEF\xBF\xBD", 3);
            k += 3;
        }
    }
    return pattern_nfc((const char *)sc->fix, k, &sc->nfc, &sc->nfc_cap, out);
}

static void add_cand(mlike_scratch *sc, uint32_t rule, size_t *n)
{
    if (sc->stamp[rule] == sc->gen)
        return;
    sc->stamp[rule] = sc->gen;
    sc->cand[(*n)++] = rule;
}

/* The candidates of text t[0..n): the always rules and those of each gram it holds. */
static size_t candidates(const mlike *l, mlike_scratch *sc, const char *t, size_t n)
{
    size_t nc = 0;
    for (size_t i = 0; i < l->nalways; i++)
        add_cand(sc, l->always[i], &nc);
    for (size_t i = 0; i + GRAM <= n; i++) {
        uint32_t g = gram_at(t + i), fb = filt_bit(l, g), e;
        size_t pos = 0;
        if (!(l->filt[fb >> 6] >> (fb & 63) & 1))
            continue;
        while (mtab_next(&l->t, gram_hash(g), &pos, &e))
            if (l->gram[e] == g)
                for (uint32_t k = l->start[e]; k < l->start[e + 1]; k++)
                    add_cand(sc, l->byrule[k], &nc);
    }
    return nc;
}

long mlike_match(const mlike *l, mlike_scratch *sc, const char *v, size_t len, uint32_t *out)
{
    size_t n = 0, tn, nc;
    const char *t;
    if (l->rules.n == 0)
        return 0;
    if (!(t = eval_text(sc, v, len, &tn)))
        return ACCORD_ENOMEM;
    if (++sc->gen == 0) { /* the stamps wrapped: start them again */
        memset(sc->stamp, 0, l->rules.n * sizeof *sc->stamp);
        sc->gen = 1;
    }
    nc = candidates(l, sc, t, tn);
    for (size_t i = 0; i < nc; i++) {
        size_t pn;
        const char *p = rule_text(l, sc->cand[i], &pn);
        if (pattern_like(t, tn, p, pn))
            out[n++] = l->rules.e[sc->cand[i]].ref;
    }
    return (long)n;
}

/* The gram tables of the rules in l->rules: after mlike_build's string set, or for a snapshot
 * loaded from its serialised form (match_serial.c: the rules travel, their grams are derived
 * again).  0 or ACCORD_ENOMEM. */
int mlike_index(mlike *l)
{
    gpair *gp;
    uint64_t *h;
    size_t ng = 0;
    int rc = 0;
    if (l->rules.n == 0)
        return 0;
    gp = malloc(l->rules.n * sizeof *gp);
    h = malloc(l->rules.n * sizeof *h);
    l->always = malloc(l->rules.n * sizeof *l->always);
    if (!gp || !h || !l->always)
        rc = ACCORD_ENOMEM;
    for (size_t i = 0; rc == 0 && i < l->rules.n; i++) {
        size_t len;
        const char *p = rule_text(l, i, &len);
        long at = pick_gram(p, len);
        if (at < 0)
            l->always[l->nalways++] = (uint32_t)i;
        else
            gp[ng++] = (gpair){gram_at(p + at), (uint32_t)i};
    }
    if (rc == 0)
        rc = build_grams(l, gp, ng, h);
    free(gp);
    free(h);
    return rc;
}
