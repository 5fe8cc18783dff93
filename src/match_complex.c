/*
 * match_complex.c - which events can interest the pattern engine at all.
 *
 * Every event handed to the pattern engine costs its observation: written as JSON, parsed, loaded
 * and indexed (match_event.c, pattern_index.c), about 9 µs; a snapshot with 100 pattern-engine
 * indicators among 100,000 made flow matching 70 times slower, although almost no record could
 * meet any of them.  So the snapshot keeps, for its pattern-engine indicators, what an event must
 * have for one of their observation expressions (`[...]`, a leaf) to be true, and the matcher
 * writes an observation only for events that have it.
 *
 * What a leaf needs is a disjunction of atoms, derived from its comparison expression:
 *
 *   comparison                                                atoms
 *   positive = / IN of strings on ipv4-addr:value,            the address, as bytes (one per
 *     ipv6-addr:value, network-traffic:src_ref.value,         literal; a literal that is no
 *     network-traffic:dst_ref.value                           address can never be met)
 *   positive = / IN of strings on domain-name:value,          the text, exact (the observation
 *     url:value, email-addr:value                             holds the items' normalised text)
 *   a positive comparison on a custom property (x_...)       none: events never have one
 *   any other comparison on type T                            "some object of type T"
 *   A AND B                                                   the atoms of one side: the one
 *                                                             without type atoms if there is one
 *   A OR B                                                    the atoms of both
 *
 * Every comparison needs an object of its type (the pattern index relies on this too), so a
 * type atom is always a correct, if weak, requirement; a type no event observation has
 * (`process`, `file:name` on a type we never write) is never met.  An event passes when one of
 * its object types is a type atom of some leaf, or one of its address or text items is a value
 * atom.  The filter only ever lets through more than the engine would match, never less: the
 * engine still decides.  Temporal patterns lose nothing either: an observation that matches no
 * leaf of a pattern changes none of its state.
 */
#include "match.h"
#include "pattern.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

void mcf_init(mcfilter *f)
{
    memset(f, 0, sizeof *f);
    u64map_init_set(&f->keys);
}

void mcf_free(mcfilter *f)
{
    u64map_free(&f->keys);
    memset(f, 0, sizeof *f);
}

unsigned mcf_type_bit(const char *type)
{
    static const char *const names[] = {"ipv4-addr", "ipv6-addr",        "domain-name",
                                        "url",       "email-addr",       "file",
                                        "x509-certificate", "network-traffic"};
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(type, names[i]) == 0)
            return 1u << i;
    return 0;
}

uint64_t mcf_addr_key(int family, const uint8_t *a)
{
    uint64_t w0 = 0, w1 = 0;
    if (family == 4)
        return u64map_key(mix64(((uint64_t)a[0] << 24 | (uint64_t)a[1] << 16 |
                                 (uint64_t)a[2] << 8 | a[3]) ^
                                0x6a09e667f3bcc908ull));
    for (int i = 0; i < 8; i++) {
        w0 = w0 << 8 | a[i];
        w1 = w1 << 8 | a[8 + i];
    }
    return u64map_key(mix64(w0 ^ mix64(w1 ^ 0xbb67ae8584caa73bull)));
}

uint64_t mcf_text_key(int kind, const char *s, size_t len)
{
    return u64map_key(XXH3_64bits_withSeed(s, len, (uint64_t)kind * 0x9e3779b97f4a7c15ull));
}

/* The requirement of a leaf being derived: type atoms and value atoms. */
typedef struct req {
    unsigned types;
    uint64_t *keys;
    size_t n, cap;
    int oom;
} req;

static void req_key(req *r, uint64_t k)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        uint64_t *v = realloc(r->keys, cap * sizeof *v);
        if (!v) {
            r->oom = 1;
            return;
        }
        r->keys = v;
        r->cap = cap;
    }
    r->keys[r->n++] = k;
}

static void req_merge(req *into, req *from)
{
    into->types |= from->types;
    for (size_t i = 0; i < from->n; i++)
        req_key(into, from->keys[i]);
    into->oom |= from->oom;
    free(from->keys);
}

static int key_is(const pattern_step *s, const char *k)
{
    return s->kind == PS_KEY && strcmp(s->key, k) == 0;
}

/* The value atoms of comparison c: 1 when it has such a form (atoms added, maybe none), else 0. */
static int cmp_values(const pattern_cmp *c, req *r)
{
    int kind = MK_NONE;
    if (c->negated || c->binary || (c->op != PO_EQ && c->op != PO_IN))
        return 0;
    for (size_t i = 0; i < c->nlits; i++)
        if (c->lits[i].kind != PL_STRING)
            return 0;
    if (c->nsteps == 1 && key_is(&c->steps[0], "value")) {
        if (!strcmp(c->type, "ipv4-addr") || !strcmp(c->type, "ipv6-addr"))
            kind = MK_IPV4;
        else if (!strcmp(c->type, "domain-name"))
            kind = MK_DOMAIN;
        else if (!strcmp(c->type, "url"))
            kind = MK_URL;
        else if (!strcmp(c->type, "email-addr"))
            kind = MK_EMAIL;
    } else if (c->nsteps == 2 && !strcmp(c->type, "network-traffic") &&
               (key_is(&c->steps[0], "src_ref") || key_is(&c->steps[0], "dst_ref")) &&
               key_is(&c->steps[1], "value")) {
        kind = MK_IPV4;
    }
    if (kind == MK_NONE)
        return 0;
    for (size_t i = 0; i < c->nlits; i++) {
        const pattern_lit *l = &c->lits[i];
        uint32_t a4;
        uint8_t a[16];
        if (kind != MK_IPV4) {
            req_key(r, mcf_text_key(kind, l->s, l->len));
        } else if (mip_parse4(l->s, l->len, &a4) == 0) {
            a[0] = (uint8_t)(a4 >> 24), a[1] = (uint8_t)(a4 >> 16);
            a[2] = (uint8_t)(a4 >> 8), a[3] = (uint8_t)a4;
            req_key(r, mcf_addr_key(4, a));
        } else if (mip_parse6(l->s, l->len, a) == 0) {
            req_key(r, mcf_addr_key(6, a));
        } /* else: no address's text equals it */
    }
    return 1;
}

/* A comparison that no observation of an event can meet: a positive one on a custom property
 * (x_...: an indicator imported from MISP's ja3-fingerprint-md5, say), which events never have. */
static int cmp_never(const pattern_cmp *c)
{
    return !c->negated && c->op != PO_NEQ && c->nsteps >= 1 && c->steps[0].kind == PS_KEY &&
           strncmp(c->steps[0].key, "x_", 2) == 0;
}

static void cexpr_req(const pattern_cexpr *e, req *r)
{
    req a = {0}, b = {0};
    if (e->kind == PC_CMP) {
        if (!cmp_never(e->cmp) && !cmp_values(e->cmp, r))
            r->types |= mcf_type_bit(e->cmp->type);
        return;
    }
    cexpr_req(e->l, &a);
    cexpr_req(e->r, &b);
    if (e->kind == PC_OR) {
        req_merge(r, &a);
        req_merge(r, &b);
    } else if (a.types == 0 ? (b.types != 0 || a.n <= b.n)
                            : b.types != 0 && __builtin_popcount(a.types) <= __builtin_popcount(b.types)) {
        req_merge(r, &a); /* AND: either side's requirement is the whole one's; the narrower */
        free(b.keys);
    } else {
        req_merge(r, &b);
        free(a.keys);
    }
}

/* Every type a comparison of e names. */
static unsigned cexpr_types(const pattern_cexpr *e)
{
    if (e->kind == PC_CMP)
        return mcf_type_bit(e->cmp->type);
    return cexpr_types(e->l) | cexpr_types(e->r);
}

int mcf_add_pattern(mcfilter *f, const accord_pattern *p)
{
    int rc = 0;
    for (uint32_t i = 0; i < p->nleaves && rc == 0; i++) {
        req r = {0};
        f->all_types |= cexpr_types(p->leaves[i]->leaf);
        cexpr_req(p->leaves[i]->leaf, &r);
        f->types |= r.types;
        for (size_t k = 0; k < r.n && !r.oom; k++)
            if (u64map_put(&f->keys, r.keys[k], 1) < 0)
                r.oom = 1;
        rc = r.oom ? ACCORD_ENOMEM : 0;
        free(r.keys);
    }
    f->patterns++;
    return rc;
}

int mcf_pass(const mcfilter *f, const mitem *it, size_t n)
{
    unsigned types = 0;
    int traffic = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t a[4];
        int kind = it[i].kind;
        switch (kind) {
        case MK_IPV4:
            types |= MCT_IPV4;
            traffic |= it[i].role == MR_SRC_IP || it[i].role == MR_DST_IP;
            a[0] = (uint8_t)(it[i].k.v4 >> 24), a[1] = (uint8_t)(it[i].k.v4 >> 16);
            a[2] = (uint8_t)(it[i].k.v4 >> 8), a[3] = (uint8_t)it[i].k.v4;
            if (f->keys.n && u64map_get(&f->keys, mcf_addr_key(4, a), NULL))
                return 1;
            break;
        case MK_IPV6:
            types |= MCT_IPV6;
            traffic |= it[i].role == MR_SRC_IP || it[i].role == MR_DST_IP;
            if (f->keys.n && u64map_get(&f->keys, mcf_addr_key(6, it[i].k.v6), NULL))
                return 1;
            break;
        case MK_DOMAIN:
        case MK_URL:
        case MK_EMAIL:
            types |= kind == MK_DOMAIN ? MCT_DOMAIN : kind == MK_URL ? MCT_URL : MCT_EMAIL;
            if (f->keys.n && u64map_get(&f->keys, mcf_text_key(kind, it[i].text, it[i].len), NULL))
                return 1;
            break;
        case MK_UA:
            traffic = 1;
            break;
        default:
            types |= kind >= MK_X509_MD5 ? MCT_X509 : MCT_FILE;
            break;
        }
    }
    if (traffic)
        types |= MCT_TRAFFIC;
    return (types & f->types) != 0;
}
