/*
 * match_string.c - exact string keys: URLs, e-mail addresses, and the table under domain names.
 *
 * A string set is the cache-line hash table (match_table.c) over XXH3 hashes of the keys, an
 * entry array (offset and length of the key in one pool, and two indicator refs) and the pool.
 * Each key appears once; `ref` lists the indicators that name it in relation 0 and `ref2` in
 * relation 1 (the domain table uses relation 1 for `LIKE '%.key'`; URLs and e-mails use only 0).
 * A lookup compares the fingerprint in the bucket, then length and bytes of the candidate entry.
 *
 * The normalisation functions for URL and e-mail values live here because they decide what the
 * keys are; each runs on indicator literals when the snapshot is built and on telemetry values
 * when they are matched, so both sides always agree.
 *
 *   URL      scheme and host lower case; the port dropped when it is the scheme's default
 *            (http 80, https 443, ftp 21); an empty path becomes "/" (so "HTTP://Example.COM:80"
 *            is "http://example.com/").  Userinfo, path, query and fragment are kept as they
 *            are: they are case-sensitive.  No percent-decoding, no dot-segment removal.
 *   e-mail   lower case as a whole (local parts are case-insensitive in practice, see values.c),
 *            surrounding angle brackets removed.
 *
 * Not here: substring or prefix matching of URLs (those patterns go to the pattern engine).
 */
#include "match.h"

#include <stdlib.h>
#include <string.h>
/* XXH3 compiled into this file: the same hashes as the library's, without a call through the
 * PLT and the library's dispatch for every domain suffix and URL of every event. */
#define XXH_INLINE_ALL
#include <xxhash.h>

#define POOL_MAX 0xFFFFFFF0u /* offsets are 32-bit */

void mstr_builder_init(mstr_builder *b, uint64_t seed)
{
    memset(b, 0, sizeof *b);
    b->seed = seed;
}

void mstr_builder_free(mstr_builder *b)
{
    mpairs_free(&b->p);
    free(b->pool);
    b->pool = NULL;
    b->pool_len = b->pool_cap = 0;
}

static int pool_add(char **pool, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (*len + n > POOL_MAX)
        return ACCORD_ELIMIT;
    if (*len + n > *cap || !*pool) { /* allocated even for an empty key: pool + 0 is valid */
        size_t c = *cap ? *cap : 4096;
        char *p;
        while (c < *len + n)
            c *= 2;
        p = realloc(*pool, c);
        if (!p)
            return ACCORD_ENOMEM;
        *pool = p;
        *cap = c;
    }
    memcpy(*pool + *len, s, n);
    *len += n;
    return 0;
}

uint64_t mstr_hash(const mstrset *set, const char *s, size_t len)
{
    return XXH3_64bits_withSeed(s, len, set->seed);
}

int mstr_add(mstr_builder *b, const char *s, size_t len, uint32_t ind, int rel)
{
    size_t off = b->pool_len;
    int rc;
    if (len > 0xFFFFFF)
        return ACCORD_ELIMIT;
    rc = pool_add(&b->pool, &b->pool_len, &b->pool_cap, s, len);
    if (rc)
        return rc;
    return mpairs_push(&b->p, XXH3_64bits_withSeed(s, len, b->seed), off, ind,
                       (uint32_t)len << 1 | (rel ? 1u : 0u));
}

/* Orders pairs by hash, then key bytes, then relation and indicator. */
static int pair_cmp(const void *a, const void *b, void *ud)
{
    const mpair *x = a, *y = b;
    const char *pool = ud;
    size_t xl = x->aux >> 1, yl = y->aux >> 1;
    int c;
    if (x->k[0] != y->k[0])
        return x->k[0] < y->k[0] ? -1 : 1;
    if (xl != yl)
        return xl < yl ? -1 : 1;
    c = memcmp(pool + x->k[1], pool + y->k[1], xl);
    if (c)
        return c;
    if ((x->aux & 1) != (y->aux & 1))
        return (x->aux & 1) ? 1 : -1;
    return (x->ind > y->ind) - (x->ind < y->ind);
}

/* The primary key for mpairs_sort: the hash pair_cmp orders by first. */
static uint64_t pkey_hash(const mpair *p, const void *unused)
{
    (void)unused;
    return p->k[0];
}

static int same_key(const mpair *x, const mpair *y, const char *pool)
{
    return x->k[0] == y->k[0] && x->aux >> 1 == y->aux >> 1 &&
           memcmp(pool + x->k[1], pool + y->k[1], x->aux >> 1) == 0;
}

/* The ref of the distinct indicators of v[i..j) with relation rel, or MREF_NONE. */
static int ref_of(const mpair *v, size_t i, size_t j, int rel, uint32_t *tmp, mrefs *refs,
                  uint32_t *ref)
{
    size_t k = 0;
    for (size_t x = i; x < j; x++)
        if ((int)(v[x].aux & 1) == rel && (k == 0 || tmp[k - 1] != v[x].ind))
            tmp[k++] = v[x].ind;
    if (k == 0) {
        *ref = MREF_NONE;
        return 0;
    }
    return mrefs_add(refs, tmp, k, ref);
}

/* Appends the entry of the key group v[i..j) to set. */
static int add_entry(mstrset *set, const char *bpool, const mpair *v, size_t i, size_t j,
                     uint32_t *tmp, mrefs *refs, size_t *pool_cap)
{
    mstr_entry *e = &set->e[set->n];
    int rc;
    e->off = (uint32_t)set->pool_len;
    rc = pool_add(&set->pool, &set->pool_len, pool_cap, bpool + v[i].k[1], v[i].aux >> 1);
    if (rc == 0)
        rc = ref_of(v, i, j, 0, tmp, refs, &e->ref);
    if (rc == 0)
        rc = ref_of(v, i, j, 1, tmp, refs, &e->ref2);
    if (rc == 0)
        set->n++;
    return rc;
}

static int group(mstr_builder *b, mrefs *refs, mstrset *set, uint64_t *h)
{
    const mpair *v = b->p.v;
    size_t n = b->p.n, pool_cap = 0;
    uint32_t *tmp = malloc(n * sizeof *tmp);
    int rc = tmp ? 0 : ACCORD_ENOMEM;
    for (size_t i = 0; i < n && rc == 0;) {
        size_t j = i + 1;
        while (j < n && same_key(&v[i], &v[j], b->pool))
            j++;
        h[set->n] = v[i].k[0];
        rc = add_entry(set, b->pool, v, i, j, tmp, refs, &pool_cap);
        i = j;
    }
    free(tmp);
    return rc;
}

int mstr_build(mstr_builder *b, mrefs *refs, mstrset *set)
{
    uint64_t *h = NULL;
    int rc = 0;
    memset(set, 0, sizeof *set);
    set->seed = b->seed;
    if (b->p.n == 0)
        goto out;
    mpairs_sort(b->p.v, b->p.n, pkey_hash, NULL, pair_cmp, b->pool);
    set->e = malloc(b->p.n * sizeof *set->e);
    h = malloc(b->p.n * sizeof *h);
    if (!set->e || !h) {
        rc = ACCORD_ENOMEM;
        goto out;
    }
    rc = group(b, refs, set, h);
    if (rc == 0)
        rc = mtab_build(&set->t, h, set->n);
    if (rc == 0) { /* entries were sized for every pair, the pool by doubling: trim both */
        mstr_entry *e = realloc(set->e, set->n * sizeof *e);
        char *p = realloc(set->pool, set->pool_len ? set->pool_len : 1);
        set->e = e ? e : set->e;
        set->pool = p ? p : set->pool;
    }
out:
    free(h);
    mstr_builder_free(b);
    if (rc)
        mstr_free(set);
    return rc;
}

void mstr_free(mstrset *set)
{
    if (!set)
        return;
    mtab_free(&set->t);
    free(set->e);
    free(set->pool);
    memset(set, 0, sizeof *set);
}

const mstr_entry *mstr_find(const mstrset *set, uint64_t h, const char *s, size_t len)
{
    size_t pos = 0;
    uint32_t e;
    while (mtab_next(&set->t, h, &pos, &e)) {
        const mstr_entry *x = &set->e[e];
        size_t end = e + 1 < set->n ? set->e[e + 1].off : set->pool_len;
        if (end - x->off == len && memcmp(set->pool + x->off, s, len) == 0)
            return x;
    }
    return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Normalisation                                                                                */

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

static int default_port(const char *scheme, size_t slen, const char *port, size_t plen)
{
    static const struct {
        const char *scheme, *port;
    } d[] = {{"http", "80"}, {"https", "443"}, {"ftp", "21"}, {"ws", "80"}, {"wss", "443"}};
    if (plen == 0)
        return 1;
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++)
        if (strlen(d[i].scheme) == slen && memcmp(d[i].scheme, scheme, slen) == 0)
            return strlen(d[i].port) == plen && memcmp(d[i].port, port, plen) == 0;
    return 0;
}

/* Where the host of the authority a[0..n) ends (before ":port"; IPv6 literals in brackets). */
static size_t host_end(const char *a, size_t n)
{
    const char *at = memchr(a, '@', n);
    size_t start = at ? (size_t)(at - a) + 1 : 0, i = start;
    if (i < n && a[i] == '[') {
        while (i < n && a[i] != ']')
            i++;
        return i < n ? i + 1 : n;
    }
    while (i < n && a[i] != ':')
        i++;
    return i;
}

long murl_norm(const char *s, size_t len, char *out, size_t outlen)
{
    size_t i = 0, k = 0, auth, aend, hstart, hend;
    const char *at;
    while (i < len && s[i] != ':' && s[i] != '/')
        i++;
    if (i == 0 || i + 3 > len || s[i] != ':' || s[i + 1] != '/' || s[i + 2] != '/' ||
        len + 1 > outlen)
        return -1;
    for (size_t j = 0; j < i; j++)
        out[k++] = lower(s[j]);
    memcpy(out + k, "://", 3);
    k += 3;
    auth = i + 3;
    aend = auth;
    while (aend < len && s[aend] != '/' && s[aend] != '?' && s[aend] != '#')
        aend++;
    at = memchr(s + auth, '@', aend - auth);
    hstart = at ? (size_t)(at - s) + 1 : auth;
    hend = auth + host_end(s + auth, aend - auth);
    memcpy(out + k, s + auth, hstart - auth); /* userinfo as it is */
    k += hstart - auth;
    for (size_t j = hstart; j < hend; j++)
        out[k++] = lower(s[j]);
    if (hend < aend && !default_port(out, i, s + hend + 1, aend - hend - 1)) {
        memcpy(out + k, s + hend, aend - hend);
        k += aend - hend;
    }
    if (aend == len || s[aend] != '/')
        out[k++] = '/';
    if (k + (len - aend) + 1 > outlen)
        return -1;
    memcpy(out + k, s + aend, len - aend);
    k += len - aend;
    out[k] = '\0';
    return (long)k;
}

long memail_norm(const char *s, size_t len, char *out, size_t outlen)
{
    /* <addr>, or a header's "Display Name" <addr> (Suricata email.from/to): the address */
    const char *lt = len >= 2 && s[len - 1] == '>' ? memrchr(s, '<', len) : NULL;
    if (lt) {
        len = (size_t)(s + len - 1 - (lt + 1));
        s = lt + 1;
    }
    if (len == 0 || len + 1 > outlen || !memchr(s, '@', len))
        return -1;
    for (size_t i = 0; i < len; i++)
        out[i] = lower(s[i]);
    out[len] = '\0';
    return (long)len;
}
