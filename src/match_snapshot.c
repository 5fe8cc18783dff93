/*
 * match_snapshot.c - indicators to a snapshot: which patterns are simple, and the tables they
 * compile into.
 *
 * A builder takes indicators one at a time (from the store, from STIX files, or directly),
 * compiles each pattern with the pattern engine and inspects the tree (src/pattern.h).  A pattern
 * is simple when it is one observation expression, or an OR of them, whose comparison
 * expressions are comparisons or ORs of comparisons, each of them one of:
 *
 *   path                                   operators            key
 *   ipv4-addr:value, ipv6-addr:value       =, IN                address; CIDR text = prefix (*)
 *                                          ISSUBSET             prefix (an address: /32, /128)
 *                                          ISSUPERSET           the address of a full-length net
 *   domain-name:value                      =, IN                name (*)
 *                                          LIKE 'name'          name (*)
 *                                          LIKE '%.name'        every name below `name`
 *   url:value, email-addr:value            =, IN                normalised text (*)
 *   file:hashes.'MD5'|'SHA-1'|'SHA-256'|'SHA-512'   =, IN       digest bytes (*)
 *   x509-certificate:hashes.'MD5'|'SHA-1'|'SHA-256' =, IN       digest bytes (*)
 *   network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'
 *                                          =, IN                the ASCII string, exact
 *                                          LIKE                 an ASCII pattern (match_like.c)
 *   network-traffic:dst_port, src_port     =, IN                (side, port)
 *   network-traffic:dst_ref.value, src_ref.value  =, IN         (side, address) (*)
 *                                          ISSUBSET             (side, network)
 *                                          ISSUPERSET           (side, address) of a full length
 *   network-traffic:dst_ref.value = .. AND network-traffic:dst_port = ..  (either order, IN on
 *                                          either side, ISSUBSET for =; likewise src)
 *                                                               (side, address or network, port)
 *
 * without NOT.  An OR of such comparisons matches an event when any one of them does, so each
 * becomes an independent key naming the same indicator.  Every other pattern (AND, NOT, other
 * operators or paths, observation operators and qualifiers) goes whole to a pattern set
 * (pattern_index.c), evaluated against each event's observation.
 *
 * (*) Where the fast path is more lenient than the evaluator, on purpose: literals are
 * normalised the way telemetry values are (match_domain.c, match_string.c): upper-case digests
 * and domain names, non-canonical IPv6 text, URLs with upper-case hosts or default ports, and
 * `ipv4-addr:value = '10.0.0.0/8'` meaning the network.  The evaluator compares such literals as
 * text, so they would never match normalised telemetry; a feed that writes them means the value.
 * stats.normalised counts them.  For literals already in normal form the two agree exactly,
 * which tests/unit/test_match.c checks differentially.  A literal that cannot be a value of its
 * path (an integer, a malformed address or digest) can never match and is dropped.
 *
 * Indicator records (mind) are 32 bytes: the id's UUID as bytes (ids that are not
 * "indicator--<lower-case uuid>" go to the pool as text), the name (deduplicated in the pool:
 * feeds give thousands of indicators one name), validity in seconds.  An id added again replaces
 * the earlier record: the old one stays with an empty validity, so its keys never report, which
 * is cheaper than removing keys from tables that are not built yet.
 *
 * The snapshot is immutable once built and reference-counted (atomic): accord_snapshot_unref of
 * the last reference frees it, whichever thread drops it.
 */
#include "match.h"
#include "pattern.h"
#include "reader.h"
#include "util/u64map.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>

#define MAX_KEYS_PER_PATTERN 65536
#define NO_END 0xFFFFFFFFu

struct accord_snapshot_builder {
    int64_t now_s;
    mind *inds;
    int64_t *modified_us; /* per indicator, for files: the newest version of an id wins */
    size_t n, cap;
    char *pool;
    size_t pool_len, pool_cap;
    u64map byid;  /* XXH3(id) -> indicator index */
    u64map names; /* XXH3(name) -> pool offset */
    mip_builder ip;
    mdomain_builder domain;
    mstr_builder url, email, ua;
    mlike_builder ua_like;
    mhash_builder hash;
    mport_builder port;
    accord_pattern_set *complex;
    uint64_t *cver; /* see accord_snapshot.cver */
    size_t ncver, cver_cap;
    mcfilter cf;
    accord_snapshot_stats st;
    ajson_arena tmp;
    ajson_arena json; /* the object being added (accord_snapshot_builder_add_json) */
    buf labels;       /* its labels as a JSON array text */
};

/* A key a simple pattern compiles to. */
typedef struct plan_key {
    uint8_t kind, rel;
    int16_t plen;    /* IP prefixes */
    uint8_t net;     /* network-traffic: the address's prefix length */
    uint8_t bin[64]; /* addresses, digests */
    const char *s;   /* strings (in the builder's tmp arena) */
    size_t len;
} plan_key;

typedef struct plan {
    plan_key *v;
    size_t n, cap;
    int normalised;
} plan;

enum { SIMPLE = 0, NOT_SIMPLE = 1 };

/* plan_key.kind of a network-traffic key: rel = side, plen = family (0: none), net = prefix
 * length, len = port */
#define PK_TRAFFIC 0x80

/* ------------------------------------------------------------------------------------------ */
/* Recognising simple patterns                                                                  */

static int plan_push(plan *pl, const plan_key *k)
{
    if (pl->n == pl->cap) {
        size_t cap = pl->cap ? pl->cap * 2 : 16;
        plan_key *v;
        if (cap > MAX_KEYS_PER_PATTERN)
            return NOT_SIMPLE;
        v = realloc(pl->v, cap * sizeof *v);
        if (!v)
            return ACCORD_ENOMEM;
        pl->v = v;
        pl->cap = cap;
    }
    pl->v[pl->n++] = *k;
    return SIMPLE;
}

/* The kind a comparison's (type, path) names, or MK_NONE. */
static int path_kind(const pattern_cmp *c)
{
    static const char *const ua[] = {"extensions", "http-request-ext", "request_header",
                                     "User-Agent"};
    static const struct {
        const char *type;
        int kind;
    } v[] = {{"ipv4-addr", MK_IPV4},
             {"ipv6-addr", MK_IPV6},
             {"domain-name", MK_DOMAIN},
             {"url", MK_URL},
             {"email-addr", MK_EMAIL}};
    if (c->binary)
        return MK_NONE;
    if (c->nsteps == 1 && c->steps[0].kind == PS_KEY && strcmp(c->steps[0].key, "value") == 0) {
        for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
            if (strcmp(c->type, v[i].type) == 0)
                return v[i].kind;
        return MK_NONE;
    }
    if (c->nsteps == 2 && c->steps[0].kind == PS_KEY && c->steps[1].kind == PS_KEY &&
        strcmp(c->steps[0].key, "hashes") == 0)
        for (int k = 0; k < MK_HASH_N; k++)
            if (strcmp(c->type, mhash_kinds[k].type) == 0 &&
                strcmp(c->steps[1].key, mhash_kinds[k].algo) == 0)
                return MK_HASH_FIRST + k;
    if (c->nsteps == 4 && strcmp(c->type, "network-traffic") == 0) {
        for (int i = 0; i < 4; i++)
            if (c->steps[i].kind != PS_KEY || strcmp(c->steps[i].key, ua[i]) != 0)
                return MK_NONE;
        return MK_UA;
    }
    return MK_NONE;
}

/* Parses "a.b.c.d/n" (n without leading zeros); 0 or -1. */
static int parse_cidr4(const char *s, size_t len, uint32_t *a, int *plen)
{
    const char *sl = memchr(s, '/', len);
    size_t nl;
    int v = 0;
    if (!sl || mip_parse4(s, (size_t)(sl - s), a) < 0)
        return -1;
    nl = len - (size_t)(sl - s) - 1;
    if (nl == 0 || nl > 2 || (nl == 2 && sl[1] == '0'))
        return -1;
    for (size_t i = 1; i <= nl; i++) {
        if (sl[i] < '0' || sl[i] > '9')
            return -1;
        v = v * 10 + (sl[i] - '0');
    }
    *plen = v;
    return v <= 32 ? 0 : -1;
}

static int plan_ip_literal(plan *pl, int kind, const pattern_lit *l)
{
    plan_key k = {.kind = (uint8_t)kind, .plen = 128};
    pattern_net net;
    char canon[64];
    if (kind == MK_IPV4) {
        uint32_t a;
        int plen = 32;
        if (mip_parse4(l->s, l->len, &a) < 0) {
            if (parse_cidr4(l->s, l->len, &a, &plen) < 0)
                return SIMPLE; /* never equal to an address */
            pl->normalised = 1;
        }
        k.plen = (int16_t)plen;
        memcpy(k.bin, &a, 4);
        return plan_push(pl, &k);
    }
    if (pattern_net_parse(l->s, l->len, &net) < 0 || net.family != 6)
        return SIMPLE;
    if (memchr(l->s, '/', l->len) || mip_format(6, net.addr, canon, sizeof canon) != l->len ||
        memcmp(canon, l->s, l->len) != 0)
        pl->normalised = 1;
    k.plen = (int16_t)net.prefix;
    memcpy(k.bin, net.addr, 16);
    return plan_push(pl, &k);
}

/* A normalised string key of kind into the builder's tmp arena. */
static int plan_string(plan *pl, ajson_arena *tmp, int kind, const char *s, size_t len, int rel)
{
    plan_key k = {.kind = (uint8_t)kind, .rel = (uint8_t)rel};
    char *o = ajson_arena_alloc(tmp, len + 2);
    long n;
    if (!o)
        return ACCORD_ENOMEM;
    if (kind == MK_UA)
        memcpy(o, s, len); /* compared exactly */
    n = kind == MK_DOMAIN ? mdomain_norm(s, len, o, len + 2)
        : kind == MK_URL  ? murl_norm(s, len, o, len + 2)
        : kind == MK_UA   ? (long)len
                          : memail_norm(s, len, o, len + 2);
    if (n < 0)
        return SIMPLE; /* no telemetry value normalises to it */
    if ((size_t)n != len || memcmp(o, s, len) != 0)
        pl->normalised = 1;
    k.s = o;
    k.len = (size_t)n;
    return plan_push(pl, &k);
}

static int is_ascii(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] >= 0x80)
            return 0;
    return 1;
}

static int plan_literal(plan *pl, ajson_arena *tmp, int kind, const pattern_lit *l)
{
    if (l->kind != PL_STRING)
        return SIMPLE; /* a number or boolean is never equal to these string values */
    if (kind == MK_IPV4 || kind == MK_IPV6)
        return plan_ip_literal(pl, kind, l);
    if (kind == MK_UA) /* the evaluator compares text in NFC: ASCII needs no normalising */
        return is_ascii(l->s, l->len) ? plan_string(pl, tmp, kind, l->s, l->len, 0) : NOT_SIMPLE;
    if (kind >= MK_HASH_FIRST) {
        plan_key k = {.kind = (uint8_t)kind};
        const mhash_kind *hk = &mhash_kinds[kind - MK_HASH_FIRST];
        if (mhash_decode(l->s, l->len, k.bin, hk->len) < 0)
            return SIMPLE;
        for (size_t i = 0; i < l->len; i++)
            if (l->s[i] >= 'A' && l->s[i] <= 'F')
                pl->normalised = 1;
        return plan_push(pl, &k);
    }
    return plan_string(pl, tmp, kind, l->s, l->len, 0);
}

/* domain-name:value LIKE: 'name' or '%.name' without further wildcards. */
static int plan_like(plan *pl, ajson_arena *tmp, const pattern_lit *l)
{
    const char *s = l->s;
    size_t len = l->len;
    int suffix = 0;
    if (l->kind != PL_STRING || !is_ascii(s, len))
        return NOT_SIMPLE;
    if (len >= 2 && s[0] == '%' && s[1] == '.') {
        suffix = 1;
        s += 2;
        len -= 2;
    }
    if (memchr(s, '%', len) || memchr(s, '_', len) || (suffix && len && s[len - 1] == '.'))
        return NOT_SIMPLE;
    return plan_string(pl, tmp, MK_DOMAIN, s, len, suffix);
}

static int plan_net(plan *pl, int kind, const pattern_cmp *c)
{
    plan_key k = {.kind = (uint8_t)kind, .plen = (int16_t)c->net.prefix};
    int full = kind == MK_IPV4 ? 32 : 128;
    if (c->net.family != (kind == MK_IPV4 ? 4 : 6))
        return SIMPLE; /* never true for this type */
    if (c->op == PO_ISSUPERSET && c->net.prefix != full)
        return SIMPLE; /* an address is a superset only of itself */
    if (kind == MK_IPV4) {
        uint32_t a = (uint32_t)c->net.addr[0] << 24 | (uint32_t)c->net.addr[1] << 16 |
                     (uint32_t)c->net.addr[2] << 8 | c->net.addr[3];
        memcpy(k.bin, &a, 4);
    } else {
        memcpy(k.bin, c->net.addr, 16);
    }
    return plan_push(pl, &k);
}

/* ------------------------------------------------------------------------------------------ */
/* network-traffic ports and addresses                                                          */

enum { TP_NONE, TP_PORT, TP_ADDR };

/* What a positive comparison on network-traffic names: TP_PORT (`dst_port =` / `IN`), TP_ADDR
 * (`dst_ref.value` with = / IN, or ISSUBSET / ISSUPERSET a network) with its side, or TP_NONE. */
static int traffic_path(const pattern_cmp *c, int *side)
{
    const char *k0 = c->nsteps >= 1 && c->steps[0].kind == PS_KEY ? c->steps[0].key : "";
    int net = c->op == PO_ISSUBSET || c->op == PO_ISSUPERSET;
    if (c->negated || c->binary || (c->op != PO_EQ && c->op != PO_IN && !net) ||
        strcmp(c->type, "network-traffic") != 0)
        return TP_NONE;
    if (c->nsteps == 1 && !net && (!strcmp(k0, "dst_port") || !strcmp(k0, "src_port"))) {
        *side = k0[0] == 'd' ? MPORT_DST : MPORT_SRC;
        return TP_PORT;
    }
    if (c->nsteps == 2 && (!strcmp(k0, "dst_ref") || !strcmp(k0, "src_ref")) &&
        c->steps[1].kind == PS_KEY && !strcmp(c->steps[1].key, "value")) {
        *side = k0[0] == 'd' ? MPORT_DST : MPORT_SRC;
        return TP_ADDR;
    }
    return TP_NONE;
}

/* A port literal: 1 with *port, 0 when it can never equal a port (an integer out of range),
 * -1 when the evaluator should decide (not an integer). */
static int traffic_port(const pattern_lit *l, unsigned *port)
{
    if (l->kind != PL_INT)
        return -1;
    if (l->i < 0 || l->i > 65535)
        return 0;
    *port = (unsigned)l->i;
    return 1;
}

/* The network of an ISSUBSET / ISSUPERSET on an address into k (family in plen, bytes in bin,
 * length in net): 1, or 0 when no address can meet it (a superset of a network shorter than
 * an address: an address is its /32 or /128, a superset only of itself). */
static int traffic_net(const pattern_cmp *c, plan_key *k)
{
    int full = c->net.family == 4 ? 32 : 128;
    if (c->op == PO_ISSUPERSET && c->net.prefix != full)
        return 0;
    k->plen = (int16_t)c->net.family;
    k->net = (uint8_t)c->net.prefix;
    memcpy(k->bin, c->net.addr, c->net.family == 4 ? 4 : 16);
    return 1;
}

/* The address literal i of c (or its network) into k (family in plen, bytes in bin, length in
 * net): 1, 0 when it meets no address, or -1 when it is not one address (a CIDR text, a name:
 * the evaluator decides). */
static int traffic_addr(plan *pl, const pattern_cmp *c, size_t i, plan_key *k)
{
    const pattern_lit *l = &c->lits[i];
    uint32_t a;
    char canon[64];
    if (c->op == PO_ISSUBSET || c->op == PO_ISSUPERSET)
        return traffic_net(c, k);
    if (l->kind != PL_STRING)
        return -1;
    if (mip_parse4(l->s, l->len, &a) == 0) {
        k->plen = 4;
        k->net = 32;
        k->bin[0] = (uint8_t)(a >> 24), k->bin[1] = (uint8_t)(a >> 16);
        k->bin[2] = (uint8_t)(a >> 8), k->bin[3] = (uint8_t)a;
        return 1;
    }
    if (mip_parse6(l->s, l->len, k->bin) < 0)
        return -1;
    k->plen = 6;
    k->net = 128;
    if (mip_format(6, k->bin, canon, sizeof canon) != l->len || memcmp(canon, l->s, l->len) != 0)
        pl->normalised = 1;
    return 1;
}

/* addr (may be NULL) AND port (may be NULL) on one side: a key per pair of their literals. */
static int plan_traffic(plan *pl, int side, const pattern_cmp *addr, const pattern_cmp *port)
{
    int anet = addr && (addr->op == PO_ISSUBSET || addr->op == PO_ISSUPERSET);
    size_t na = addr && !anet ? addr->nlits : 1, np = port ? port->nlits : 1;
    int rc = SIMPLE;
    for (size_t i = 0; i < na && rc == SIMPLE; i++) {
        plan_key k = {.kind = PK_TRAFFIC, .rel = (uint8_t)side, .len = MPORT_ANY};
        int has = addr ? traffic_addr(pl, addr, i, &k) : 1;
        if (has < 0)
            return NOT_SIMPLE;
        if (has == 0)
            continue; /* never true: no key */
        for (size_t j = 0; j < np && rc == SIMPLE; j++) {
            unsigned p = MPORT_ANY;
            int ok = port ? traffic_port(&port->lits[j], &p) : 1;
            if (ok < 0)
                return NOT_SIMPLE;
            k.len = p;
            if (ok)
                rc = plan_push(pl, &k);
        }
    }
    return rc;
}

/* A comparison of the form traffic_path takes, alone. */
static int plan_traffic_cmp(plan *pl, const pattern_cmp *c)
{
    int side = 0, what = traffic_path(c, &side);
    if (what == TP_NONE)
        return NOT_SIMPLE;
    return plan_traffic(pl, side, what == TP_ADDR ? c : NULL, what == TP_PORT ? c : NULL);
}

/* `side_ref.value = .. AND side_port = ..` (either order). */
static int plan_traffic_and(plan *pl, const pattern_cexpr *e)
{
    int sl = 0, sr = 0, wl, wr;
    if (e->l->kind != PC_CMP || e->r->kind != PC_CMP)
        return NOT_SIMPLE;
    wl = traffic_path(e->l->cmp, &sl);
    wr = traffic_path(e->r->cmp, &sr);
    if (wl == TP_NONE || wr == TP_NONE || wl == wr || sl != sr)
        return NOT_SIMPLE;
    return wl == TP_ADDR ? plan_traffic(pl, sl, e->l->cmp, e->r->cmp)
                         : plan_traffic(pl, sl, e->r->cmp, e->l->cmp);
}

static int plan_cmp(plan *pl, ajson_arena *tmp, const pattern_cmp *c)
{
    int kind = path_kind(c), rc = SIMPLE;
    if (!c->negated && kind == MK_NONE && strcmp(c->type, "network-traffic") == 0)
        return plan_traffic_cmp(pl, c);
    if (c->negated || kind == MK_NONE)
        return NOT_SIMPLE;
    switch (c->op) {
    case PO_EQ:
    case PO_IN:
        for (size_t i = 0; i < c->nlits && rc == SIMPLE; i++)
            rc = plan_literal(pl, tmp, kind, &c->lits[i]);
        return rc;
    case PO_ISSUBSET:
    case PO_ISSUPERSET:
        return kind == MK_IPV4 || kind == MK_IPV6 ? plan_net(pl, kind, c) : NOT_SIMPLE;
    case PO_LIKE:
        if (kind == MK_UA) /* any LIKE: a rule of match_like.c, ASCII (NFC is itself) */
            return c->lits[0].kind == PL_STRING && is_ascii(c->lits[0].s, c->lits[0].len)
                       ? plan_string(pl, tmp, MK_UA, c->lits[0].s, c->lits[0].len, 1)
                       : NOT_SIMPLE;
        return kind == MK_DOMAIN ? plan_like(pl, tmp, &c->lits[0]) : NOT_SIMPLE;
    default:
        return NOT_SIMPLE;
    }
}

static int plan_cexpr(plan *pl, ajson_arena *tmp, const pattern_cexpr *e)
{
    int rc;
    if (e->kind == PC_CMP)
        return plan_cmp(pl, tmp, e->cmp);
    if (e->kind == PC_AND)
        return plan_traffic_and(pl, e);
    if (e->kind != PC_OR)
        return NOT_SIMPLE;
    rc = plan_cexpr(pl, tmp, e->l);
    return rc == SIMPLE ? plan_cexpr(pl, tmp, e->r) : rc;
}

static int plan_oexpr(plan *pl, ajson_arena *tmp, const pattern_oexpr *e)
{
    int rc;
    if (e->kind == PX_LEAF)
        return plan_cexpr(pl, tmp, e->leaf);
    if (e->kind != PX_OR)
        return NOT_SIMPLE;
    rc = plan_oexpr(pl, tmp, e->l);
    return rc == SIMPLE ? plan_oexpr(pl, tmp, e->r) : rc;
}

/* ------------------------------------------------------------------------------------------ */
/* The builder                                                                                  */

ACCORD_API int accord_snapshot_builder_new(int64_t now_s, accord_snapshot_builder **out)
{
    accord_snapshot_builder *b = calloc(1, sizeof *b);
    *out = NULL;
    if (!b)
        return ACCORD_ENOMEM;
    b->now_s = now_s ? now_s : (int64_t)time(NULL);
    u64map_init(&b->byid);
    u64map_init(&b->names);
    mip_builder_init(&b->ip);
    mstr_builder_init(&b->domain.s, 0x646f6d61696e0001ull);
    mstr_builder_init(&b->url, 0x75726c0000000002ull);
    mstr_builder_init(&b->email, 0x656d61696c000003ull);
    mstr_builder_init(&b->ua, 0x7573657261676504ull);
    mlike_builder_init(&b->ua_like);
    mhash_builder_init(&b->hash);
    ajson_arena_init(&b->tmp, 0);
    ajson_arena_init(&b->json, 0);
    buf_init(&b->labels, 1u << 20);
    mcf_init(&b->cf);
    if (accord_pattern_set_new(&b->complex) != 0) {
        accord_snapshot_builder_free(b);
        return ACCORD_ENOMEM;
    }
    *out = b;
    return 0;
}

ACCORD_API void accord_snapshot_builder_free(accord_snapshot_builder *b)
{
    if (!b)
        return;
    free(b->inds);
    free(b->modified_us);
    free(b->pool);
    u64map_free(&b->byid);
    u64map_free(&b->names);
    mip_builder_free(&b->ip);
    mstr_builder_free(&b->domain.s);
    mstr_builder_free(&b->url);
    mstr_builder_free(&b->email);
    mstr_builder_free(&b->ua);
    mlike_builder_free(&b->ua_like);
    mhash_builder_free(&b->hash);
    mport_builder_free(&b->port);
    accord_pattern_set_free(b->complex);
    free(b->cver);
    mcf_free(&b->cf);
    ajson_arena_free(&b->tmp);
    ajson_arena_free(&b->json);
    buf_free(&b->labels);
    free(b);
}

/* Appends s (NUL-terminated) to the pool; its offset in *off. */
static int pool_put(accord_snapshot_builder *b, const char *s, size_t len, uint32_t *off)
{
    if (b->pool_len + len + 1 >= MIND_ODD_ID) /* offsets leave the flag bit free */
        return ACCORD_ELIMIT;
    if (b->pool_len + len + 1 > b->pool_cap) {
        size_t cap = b->pool_cap ? b->pool_cap : 4096;
        char *p;
        while (cap < b->pool_len + len + 1)
            cap *= 2;
        p = realloc(b->pool, cap);
        if (!p)
            return ACCORD_ENOMEM;
        b->pool = p;
        b->pool_cap = cap;
    }
    *off = (uint32_t)b->pool_len;
    memcpy(b->pool + b->pool_len, s, len);
    b->pool[b->pool_len + len] = '\0';
    b->pool_len += len + 1;
    return 0;
}

/* What an indicator record describes besides its id and validity. */
typedef struct ind_desc {
    const char *name;   /* or NULL */
    const char *labels; /* a JSON array text */
    const char *tlp;    /* a TLP name, or "" */
} ind_desc;

/*
 * The pool offset of an indicator's description: name, NUL, labels (a JSON array text), NUL,
 * TLP name, NUL; shared with earlier indicators that have the same three.
 */
static int name_put(accord_snapshot_builder *b, const char *name, const char *labels,
                    const char *tlp, uint32_t *off)
{
    size_t nl = name ? strlen(name) : 0, ll = strlen(labels), tl = strlen(tlp);
    size_t len = nl + 1 + ll + 1 + tl;
    char stack[256], *blob = len < sizeof stack ? stack : malloc(len + 1);
    uint64_t key, v;
    int rc = 0;
    if (!blob)
        return ACCORD_ENOMEM;
    memcpy(blob, name ? name : "", nl);
    blob[nl] = '\0';
    memcpy(blob + nl + 1, labels, ll + 1);
    memcpy(blob + nl + 1 + ll + 1, tlp, tl + 1);
    key = u64map_key(XXH3_64bits(blob, len));
    if (u64map_get(&b->names, key, &v) && v + len < b->pool_len &&
        memcmp(b->pool + v, blob, len + 1) == 0) {
        *off = (uint32_t)v;
    } else {
        rc = pool_put(b, blob, len, off);
        if (rc == 0 && u64map_put(&b->names, key, *off) < 0)
            rc = ACCORD_ENOMEM;
    }
    if (blob != stack)
        free(blob);
    return rc;
}

static int hexdig(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* "indicator--" + a lower-case UUID into 16 bytes; 0 or -1. */
static int parse_id(const char *id, uint8_t uuid[16])
{
    static const char pfx[] = "indicator--";
    const char *u = id + sizeof pfx - 1;
    int k = 0;
    if (strncmp(id, pfx, sizeof pfx - 1) != 0 || strlen(u) != 36)
        return -1;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (u[i] != '-')
                return -1;
            continue;
        }
        int hi = hexdig(u[i]), lo = hexdig(u[i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        uuid[k++] = (uint8_t)(hi << 4 | lo);
        i++;
    }
    return 0;
}

static uint32_t clamp_s(int64_t s)
{
    return s <= 0 ? 0 : s >= (int64_t)NO_END ? NO_END - 1 : (uint32_t)s;
}

static int grow_inds(accord_snapshot_builder *b)
{
    size_t cap = b->cap ? b->cap * 2 : 1024;
    mind *v;
    int64_t *m;
    if (b->n < b->cap)
        return 0;
    if (cap >= MREF_LIST)
        return ACCORD_ELIMIT;
    v = realloc(b->inds, cap * sizeof *v);
    if (v)
        b->inds = v;
    m = realloc(b->modified_us, cap * sizeof *m);
    if (m)
        b->modified_us = m;
    if (!v || !m)
        return ACCORD_ENOMEM;
    b->cap = cap;
    return 0;
}

/* The key of an indicator id in the builder's byid map. */
static uint64_t id_key(const char *id)
{
    return u64map_key(XXH3_64bits(id, strlen(id)));
}

/*
 * Makes the record of a new indicator (number *ind), whose id has key (id_key).  When the id is
 * known: the newer version (by modified_us; on a tie the later) replaces the older, whose record
 * is emptied; *ind is UINT32_MAX when the new one is the older and must be skipped.
 */
static int ind_new(accord_snapshot_builder *b, const char *id, uint64_t key, const ind_desc *d,
                   int64_t from, int64_t until, int64_t modified_us, uint32_t *ind)
{
    uint64_t old;
    mind *r;
    int odd, rc = grow_inds(b);
    if (rc)
        return rc;
    if (u64map_get(&b->byid, key, &old)) {
        if (b->modified_us[old] > modified_us) {
            *ind = UINT32_MAX;
            return 0;
        }
        b->inds[old].valid_from = NO_END; /* never valid: its keys stay, silent */
        b->inds[old].valid_until = 0;
    }
    r = &b->inds[b->n];
    memset(r, 0, sizeof *r);
    odd = parse_id(id, r->uuid) < 0;
    if (odd) {
        uint32_t off = 0;
        rc = pool_put(b, id, strlen(id), &off);
        memset(r->uuid, 0, sizeof r->uuid);
        memcpy(r->uuid, &off, sizeof off);
    }
    if (rc == 0)
        rc = name_put(b, d->name, d->labels, d->tlp, &r->desc);
    if (odd)
        r->desc |= MIND_ODD_ID;
    if (rc == 0 && u64map_put(&b->byid, key, b->n) < 0)
        rc = ACCORD_ENOMEM;
    if (rc)
        return rc;
    r->valid_from = clamp_s(from);
    r->valid_until = until ? clamp_s(until) : NO_END;
    b->modified_us[b->n] = modified_us;
    *ind = (uint32_t)b->n++;
    return 0;
}

/* Adds the keys of a simple pattern's plan for indicator ind. */
static int apply_plan(accord_snapshot_builder *b, const plan *pl, uint32_t ind)
{
    int rc = 0;
    for (size_t i = 0; i < pl->n && rc == 0; i++) {
        const plan_key *k = &pl->v[i];
        uint32_t a;
        switch (k->kind) {
        case MK_IPV4:
            memcpy(&a, k->bin, 4);
            rc = mip_add4(&b->ip, a, k->plen, ind);
            break;
        case MK_IPV6:
            rc = mip_add6(&b->ip, k->bin, k->plen, ind);
            break;
        case MK_DOMAIN:
            rc = mdomain_add(&b->domain, k->s, k->len, k->rel, ind);
            break;
        case MK_URL:
            rc = mstr_add(&b->url, k->s, k->len, ind, 0);
            break;
        case MK_EMAIL:
            rc = mstr_add(&b->email, k->s, k->len, ind, 0);
            break;
        case MK_UA:
            rc = k->rel ? mlike_add(&b->ua_like, k->s, k->len, ind)
                        : mstr_add(&b->ua, k->s, k->len, ind, 0);
            break;
        case PK_TRAFFIC:
            rc = mport_add(&b->port, k->rel, k->plen, k->plen ? k->bin : NULL, k->net,
                           (unsigned)k->len, ind);
            break;
        default:
            rc = mhash_add(&b->hash, k->kind, k->bin, ind);
            break;
        }
    }
    return rc;
}

/* Records the version of the next complex pattern: a hash of the indicator's id, its modified
 * time and the pattern, the same in every snapshot that holds this version (the temporal state
 * of a matcher is carried across a reload by it, see accord_matcher_carry). */
static int cver_push(accord_snapshot_builder *b, const char *id, int64_t modified_us,
                     const char *pattern, size_t len)
{
    uint64_t h = XXH3_64bits(id, strlen(id) + 1);
    h = XXH3_64bits_withSeed(&modified_us, sizeof modified_us, h);
    if (b->ncver == b->cver_cap) {
        size_t cap = b->cver_cap ? b->cver_cap * 2 : 64;
        uint64_t *v = realloc(b->cver, cap * sizeof *v);
        if (!v)
            return ACCORD_ENOMEM;
        b->cver = v;
        b->cver_cap = cap;
    }
    b->cver[b->ncver++] = XXH3_64bits_withSeed(pattern, len, h);
    return 0;
}

/* Compiles pattern and files the indicator as simple or complex. */
static int add_pattern(accord_snapshot_builder *b, const char *id, const ind_desc *d,
                       const char *pattern, int64_t from, int64_t until, int64_t modified_us,
                       accord_error *err)
{
    accord_pattern *p = NULL;
    plan pl = {0};
    uint32_t ind;
    size_t len = strlen(pattern);
    unsigned flags = 0;
    uint64_t key = id_key(id);
    u64map_prefetch(&b->byid, key); /* a miss in a large map, hidden behind the compile */
    int rc = accord_pattern_compile(pattern, len, 0, &p, err);
    if (rc == ACCORD_EINVAL &&
        accord_pattern_compile(pattern, len, ACCORD_PATTERN_STIX20, &p, NULL) == 0) {
        rc = 0;
        flags = ACCORD_PATTERN_STIX20;
    }
    if (rc) {
        b->st.skipped++;
        return rc;
    }
    ajson_arena_reset(&b->tmp);
    int simple = plan_oexpr(&pl, &b->tmp, p->root);
    if (simple == NOT_SIMPLE && mcf_add_pattern(&b->cf, p) != 0)
        simple = ACCORD_ENOMEM;
    accord_pattern_free(p);
    rc = simple < 0 ? simple : ind_new(b, id, key, d, from, until, modified_us, &ind);
    if (rc == 0 && ind == UINT32_MAX) {
        b->st.skipped++;
    } else if (rc == 0 && simple == SIMPLE) {
        rc = apply_plan(b, &pl, ind);
        b->st.simple++;
        b->st.normalised += pl.normalised ? 1 : 0;
    } else if (rc == 0) {
        rc = cver_push(b, id, modified_us, pattern, len);
        if (rc == 0 && (rc = accord_pattern_set_add(b->complex, pattern, len, flags, ind, err)))
            b->ncver--; /* one version per pattern of the set */
        b->st.complex++;
    }
    free(pl.v);
    return rc;
}

/* An id the snapshot can give back whole (accord_indicator_info.id): 1 to 159 bytes. */
static int id_ok(const char *id)
{
    const size_t cap = sizeof(((accord_indicator_info *)0)->id);
    return id[0] && strnlen(id, cap) < cap;
}

ACCORD_API int accord_snapshot_builder_add(accord_snapshot_builder *b, const char *id,
                                           const char *name, const char *pattern,
                                           int64_t valid_from_s, int64_t valid_until_s,
                                           accord_error *err)
{
    if (!b || !id || !pattern)
        return ACCORD_EINVAL;
    if (!id_ok(id)) {
        b->st.skipped++;
        if (err) {
            err->code = ACCORD_EINVAL;
            snprintf(err->msg, sizeof err->msg, "indicator id \"%.40s%s\": %s", id,
                     strlen(id) > 40 ? "..." : "", id[0] ? "longer than 159 bytes" : "empty");
        }
        return ACCORD_EINVAL;
    }
    if (valid_until_s && valid_until_s <= b->now_s) {
        b->st.skipped++;
        return 0;
    }
    ind_desc d = {name, "[]", ""};
    return add_pattern(b, id, &d, pattern, valid_from_s, valid_until_s, INT64_MAX, err);
}

/* A timestamp property in microseconds (*us unchanged when absent); -1 when invalid. */
static int ts_prop(const ajson_value *obj, const char *key, int64_t *us)
{
    const char *t = ajson_str(ajson_get(obj, key));
    if (!t)
        return 0;
    return accord_timestamp_parse(t, us) == 0 ? 0 : -1;
}

/* The TLP markings (1.0 and 2.0 marking definitions) and their names. */
static const struct {
    const char *id, *name;
    int rank;
} tlps[] = {
    {"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", "clear", 0}, /* 1.0 WHITE */
    {"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", "clear", 0},
    {"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", "green", 1},
    {"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", "green", 1},
    {"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", "amber", 2},
    {"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", "amber", 2},
    {"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", "amber+strict", 3},
    {"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", "red", 4},
    {"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", "red", 4},
};

/* The strictest TLP of an object's object_marking_refs, or "" when it has none. */
static const char *tlp_of(const ajson_value *o)
{
    const ajson_value *refs = ajson_get(o, "object_marking_refs");
    const char *best = "";
    int rank = -1;
    if (!refs || refs->type != AJSON_ARRAY)
        return best;
    for (size_t i = 0; i < refs->len; i++) {
        const char *r = ajson_str(&refs->u.items[i]);
        for (size_t k = 0; r && k < sizeof tlps / sizeof tlps[0]; k++)
            if (strcmp(r, tlps[k].id) == 0 && tlps[k].rank > rank) {
                best = tlps[k].name;
                rank = tlps[k].rank;
            }
    }
    return best;
}

/* The labels of an object as a JSON array text into out (string labels only). */
static int labels_of(const ajson_value *o, buf *out)
{
    const ajson_value *l = ajson_get(o, "labels");
    int rc = buf_add(out, "[", 1);
    size_t n = 0;
    for (size_t i = 0; rc == 0 && l && l->type == AJSON_ARRAY && i < l->len; i++) {
        const char *t = ajson_str(&l->u.items[i]);
        if (!t)
            continue;
        rc = n++ ? buf_add(out, ",", 1) : 0;
        rc = rc ? rc : buf_json_str(out, t);
    }
    return rc ? rc : buf_add(out, "]", 2); /* with the NUL */
}

/* Adds a parsed indicator object; 0 also for objects that are skipped. */
static int add_object(accord_snapshot_builder *b, const ajson_value *o, accord_error *err)
{
    const char *type = ajson_str(ajson_get(o, "type")), *id = ajson_str(ajson_get(o, "id"));
    const char *pattern = ajson_str(ajson_get(o, "pattern"));
    const char *ptype = ajson_str(ajson_get(o, "pattern_type"));
    int64_t from = 0, until = 0, modified = 0;
    int revoked = 0;
    if (!type || strcmp(type, "indicator") != 0)
        return 0;
    ajson_bool(ajson_get(o, "revoked"), &revoked);
    if (!id || !id_ok(id) || !pattern || revoked || (ptype && strcmp(ptype, "stix") != 0) ||
        ts_prop(o, "valid_from", &from) < 0 || ts_prop(o, "valid_until", &until) < 0 ||
        ts_prop(o, "modified", &modified) < 0 || (until && until / 1000000 <= b->now_s)) {
        b->st.skipped++;
        return 0;
    }
    until = until ? (until + 999999) / 1000000 : 0;
    ind_desc d = {ajson_str(ajson_get(o, "name")), NULL, tlp_of(o)};
    buf_reset(&b->labels);
    if (labels_of(o, &b->labels) != 0)
        return ACCORD_ENOMEM;
    d.labels = b->labels.p;
    return add_pattern(b, id, &d, pattern, from / 1000000, until, modified, err);
}

ACCORD_API int accord_snapshot_builder_add_json(accord_snapshot_builder *b, const char *json,
                                                size_t len, accord_error *err)
{
    ajson_error je;
    const ajson_value *root;
    ajson_arena_reset(&b->json); /* one arena for every object: no malloc and free per object */
    root = ajson_parse(&b->json, json, len, &je);
    if (!root) {
        if (err) {
            err->code = ACCORD_EJSON;
            snprintf(err->msg, sizeof err->msg, "offset %zu: %s", je.offset, je.msg);
        }
        b->st.skipped++;
        return ACCORD_EJSON;
    }
    return add_object(b, root, err);
}

static int on_store_record(void *ud, const accord_record *rec)
{
    accord_snapshot_builder *b = ud;
    int rc = accord_snapshot_builder_add_json(b, rec->body, rec->body_len, NULL);
    return rc == ACCORD_ENOMEM || rc == ACCORD_ELIMIT ? rc : 0;
}

ACCORD_API int accord_snapshot_builder_add_store(accord_snapshot_builder *b,
                                                 struct accord_store *store, accord_error *err)
{
    static const char *const types[] = {"indicator", NULL};
    accord_scan_filter f = {0};
    f.types = types;
    f.versions = ACCORD_VERSIONS_LAST;
    return accord_store_scan(store, &f, on_store_record, b, err);
}

ACCORD_API int accord_snapshot_builder_add_fd(accord_snapshot_builder *b, int fd, accord_error *err)
{
    reader *r = NULL;
    reader_item it;
    int rc = reader_open(fd, 0, &r);
    while (rc == 0 && (rc = reader_next(r, &it)) == 1) {
        rc = accord_snapshot_builder_add_json(b, it.text, it.len, NULL);
        if (rc != ACCORD_ENOMEM && rc != ACCORD_ELIMIT)
            rc = 0;
    }
    if (rc < 0 && err) {
        err->code = rc;
        snprintf(err->msg, sizeof err->msg, "%s", r ? reader_errmsg(r) : accord_strerror(rc));
    }
    reader_close(r);
    return rc < 0 ? rc : 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Building and sharing snapshots                                                               */

static uint64_t mtab_bytes(const mtab *t)
{
    return t->b ? t->nb * sizeof(mtab_bucket) : 0;
}

static void count_memory(accord_snapshot *s)
{
    uint64_t m = s->ninds * sizeof(mind) + s->pool_len + s->refs.n * 4;
    const mip *ip = &s->ip;
    const mstrset *sets[] = {&s->domain, &s->url, &s->email, &s->ua};
    m += mtab_bytes(&ip->t4) + ip->n_exact4 * 8 + ip->ntbl8 * 260 + ip->nval8 * 4 + ip->ncover * 8 +
         (ip->x24 ? MIP_X24_BYTES : 0) +
         (ip->p24 ? MIP_X24_BYTES + MIP_RANK24 * 4 + ip->ncell24 * 4 : 0);
    for (size_t i = 0; i < ip->nv6; i++)
        m += mtab_bytes(&ip->v6[i].t) + ip->v6[i].t.n * 20;
    for (int i = 0; i < 4; i++)
        m += mtab_bytes(&sets[i]->t) + sets[i]->n * sizeof(mstr_entry) + sets[i]->pool_len;
    if (s->sfx)
        m += (s->sfx_mask + 1) * 8;
    if (s->port.n)
        m += mtab_bytes(&s->port.t) + s->port.n * 28 + 2 * 65536 / 8;
    m += mlike_bytes(&s->ua_like);
    for (int k = 0; k < MK_HASH_N; k++)
        m += mtab_bytes(&s->hash[k].t) + s->hash[k].n * (s->hash[k].len + 4);
    s->stats.memory = m;
}

static void fill_stats(accord_snapshot *s)
{
    accord_snapshot_stats *st = &s->stats;
    st->indicators = st->simple + st->complex;
    st->ipv4 = s->ip.n_exact4;
    st->ipv4_prefixes = s->ip.n_prefix4;
    st->ipv6 = s->ip.n_exact6;
    st->ipv6_prefixes = s->ip.n_prefix6;
    st->domains = st->domain_suffixes = 0;
    for (size_t i = 0; i < s->domain.n; i++) {
        st->domains += s->domain.e[i].ref != MREF_NONE;
        st->domain_suffixes += s->domain.e[i].ref2 != MREF_NONE;
    }
    st->urls = s->url.n;
    st->emails = s->email.n;
    st->user_agents = s->ua.n;
    st->user_agent_patterns = s->ua_like.rules.n;
    st->ports = s->port.n;
    st->hashes = 0;
    for (int k = 0; k < MK_HASH_N; k++)
        st->hashes += s->hash[k].n;
    count_memory(s);
}

/* The filter of `%.suffix` keys (see accord_snapshot.sfx): 8 bits per key, at least a word. */
static int build_sfx(accord_snapshot *s)
{
    const mstrset *d = &s->domain;
    size_t n = 0, words = 1;
    for (size_t i = 0; i < d->n; i++)
        n += d->e[i].ref2 != MREF_NONE;
    if (n == 0)
        return 0;
    while (words * 8 < n)
        words *= 2;
    s->sfx = calloc(words, sizeof *s->sfx);
    if (!s->sfx)
        return ACCORD_ENOMEM;
    s->sfx_mask = words - 1;
    for (size_t i = 0; i < d->n; i++) {
        size_t end = i + 1 < d->n ? d->e[i + 1].off : d->pool_len;
        uint64_t h;
        if (d->e[i].ref2 == MREF_NONE)
            continue;
        h = mstr_hash(d, d->pool + d->e[i].off, end - d->e[i].off);
        s->sfx[(h >> 52 ^ h >> 20) & s->sfx_mask] |= msfx_bits(h);
    }
    return 0;
}

static int build_tables(accord_snapshot_builder *b, accord_snapshot *s, accord_error *err)
{
    int rc = mip_build(&b->ip, &s->refs, &s->ip);
    if (rc == 0)
        rc = mstr_build(&b->domain.s, &s->refs, &s->domain);
    if (rc == 0)
        rc = build_sfx(s);
    if (rc == 0)
        rc = mstr_build(&b->url, &s->refs, &s->url);
    if (rc == 0)
        rc = mstr_build(&b->email, &s->refs, &s->email);
    if (rc == 0)
        rc = mstr_build(&b->ua, &s->refs, &s->ua);
    if (rc == 0)
        rc = mlike_build(&b->ua_like, &s->refs, &s->ua_like);
    if (rc == 0)
        rc = mport_build(&b->port, &s->refs, &s->port);
    if (rc == 0)
        rc = mhash_build(&b->hash, &s->refs, s->hash);
    if (rc == 0 && accord_pattern_set_count(b->complex) > 0) {
        rc = accord_pattern_set_build(b->complex, err);
        if (rc == 0) {
            s->complex = b->complex;
            b->complex = NULL;
            s->cver = b->cver;
            b->cver = NULL;
            b->ncver = b->cver_cap = 0;
            s->cfilter = b->cf;
            mcf_init(&b->cf);
        }
    }
    return rc;
}

static double mono_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

ACCORD_API int accord_snapshot_build(accord_snapshot_builder *b, accord_snapshot **out,
                                     accord_error *err)
{
    double t0 = mono_seconds();
    accord_snapshot *s = calloc(1, sizeof *s);
    int rc;
    *out = NULL;
    if (!s)
        return ACCORD_ENOMEM;
    atomic_init(&s->refcount, 1);
    rc = build_tables(b, s, err);
    s->inds = b->inds;
    s->ninds = b->n;
    s->pool = b->pool;
    s->pool_len = b->pool_len;
    if (rc == 0 && b->n) { /* grown by doubling: give the slack back (the memory figure is real) */
        mind *v = realloc(s->inds, b->n * sizeof *v);
        char *p = s->pool_len ? realloc(s->pool, s->pool_len) : NULL;
        s->inds = v ? v : s->inds;
        s->pool = p ? p : s->pool;
    }
    s->stats = b->st;
    b->inds = NULL;
    b->pool = NULL;
    b->n = b->cap = b->pool_len = b->pool_cap = 0;
    if (rc) {
        if (err && err->code != rc) {
            err->code = rc;
            snprintf(err->msg, sizeof err->msg, "building the snapshot: %s", accord_strerror(rc));
        }
        accord_snapshot_unref(s);
        return rc;
    }
    fill_stats(s);
    s->stats.build_seconds = mono_seconds() - t0;
    *out = s;
    return 0;
}

ACCORD_API accord_snapshot *accord_snapshot_ref(accord_snapshot *s)
{
    if (s)
        atomic_fetch_add_explicit(&s->refcount, 1, memory_order_relaxed);
    return s;
}

ACCORD_API void accord_snapshot_unref(accord_snapshot *s)
{
    if (!s || atomic_fetch_sub_explicit(&s->refcount, 1, memory_order_acq_rel) != 1)
        return;
    free(s->inds);
    free(s->pool);
    mrefs_free(&s->refs);
    mip_free(&s->ip);
    mstr_free(&s->domain);
    free(s->sfx);
    mstr_free(&s->url);
    mstr_free(&s->email);
    mstr_free(&s->ua);
    mlike_free(&s->ua_like);
    mport_free(&s->port);
    mhash_free(s->hash);
    accord_pattern_set_free(s->complex);
    free(s->cver);
    mcf_free(&s->cfilter);
    free(s);
}

ACCORD_API void accord_snapshot_stats_get(const accord_snapshot *s, accord_snapshot_stats *out)
{
    *out = s->stats;
}

ACCORD_API size_t accord_snapshot_count(const accord_snapshot *s)
{
    return s->ninds;
}

ACCORD_API int accord_snapshot_indicator(const accord_snapshot *s, size_t i,
                                         accord_indicator_info *out)
{
    const mind *r;
    const uint8_t *u;
    if (i >= s->ninds)
        return ACCORD_ENOTFOUND;
    r = &s->inds[i];
    u = r->uuid;
    if (r->desc & MIND_ODD_ID) {
        uint32_t off;
        memcpy(&off, u, sizeof off);
        snprintf(out->id, sizeof out->id, "%s", s->pool + off);
    } else
        snprintf(out->id, sizeof out->id,
                 "indicator--%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
                 u[13], u[14], u[15]);
    out->name = s->pool + (r->desc & ~MIND_ODD_ID);
    out->labels = out->name + strlen(out->name) + 1;
    out->tlp = out->labels + strlen(out->labels) + 1;
    out->valid_from_s = r->valid_from;
    out->valid_until_s = r->valid_until == NO_END ? INT64_MAX : r->valid_until;
    return 0;
}

/* The statistics of a snapshot loaded from its serialised form (match_serial.c): the
 * builder's counts are set, the table counts and the memory figure are derived here. */
void msnap_fill_stats(accord_snapshot *s)
{
    fill_stats(s);
}
