/*
 * match_port.c - network-traffic keys: a side's port, a side's address or network, or both
 * together.
 *
 * Feeds write ports as `network-traffic:dst_port = 4444`, C2 endpoints as
 * `network-traffic:dst_ref.value = '198.51.100.7' AND network-traffic:dst_port = 443`, and
 * hosting ranges as `network-traffic:dst_ref.value ISSUBSET '198.51.100.0/24' AND
 * network-traffic:dst_port = 443`.  The pattern engine would evaluate every such indicator
 * against every event's observation; here each is one key of a hash table, looked up with the
 * event's network-traffic object (mtraffic_of: the first source and destination address and
 * their ports):
 *
 *   key (side, family, length, address, port)     pattern
 *   (dst, 0, 0, -, 443)                            network-traffic:dst_port = 443
 *   (dst, 4, 32, 198.51.100.7, ANY)                network-traffic:dst_ref.value = '198.51.100.7'
 *   (dst, 4, 32, 198.51.100.7, 443)                ... AND network-traffic:dst_port = 443
 *   (dst, 4, 24, 198.51.100.0, 443)                dst_ref.value ISSUBSET '198.51.100.0/24' AND
 *                                                  dst_port = 443
 *
 * The address of a key is masked to its length (an exact address is its /32 or /128), so an
 * event's address meets a network of length L when the address masked to L is a key: a lookup
 * probes, for each length some key of its side and family has, the masked address with the
 * event's port and without one.  Feeds use few lengths (/32, /24, /16), so that is a few probes;
 * the lengths present are bit masks, per side and family, one for keys with a port and one for
 * keys without, so no probe is made for a length or shape no key has.
 *
 * A bitmap of (side, port) over every key with a port lets a side whose port no key names skip
 * the port probes without hashing: most traffic goes to ports no indicator lists.  Keys are
 * unique after the build (indicators of one key share a ref, as in every kind).
 *
 * Not here: ranges of ports (`dst_port >= 1024`) and addresses of the other family (an IPv4
 * network never holds an IPv6 address, IPv4-mapped or not, as in the evaluator).
 */
#include "match.h"

#include <stdlib.h>
#include <string.h>

void mport_builder_free(mport_builder *b)
{
    mpairs_free(&b->p);
}

/* The address as two words, big-endian (IPv4 in the first), masked to its first plen bits. */
static void addr_words(int family, const uint8_t *a, int plen, uint64_t *w0, uint64_t *w1)
{
    *w0 = *w1 = 0;
    if (family == 4) {
        *w0 = (uint64_t)a[0] << 24 | (uint64_t)a[1] << 16 | (uint64_t)a[2] << 8 | a[3];
        *w0 &= plen >= 32 ? 0xFFFFFFFFull : plen <= 0 ? 0 : 0xFFFFFFFFull << (32 - plen);
    } else if (family == 6) {
        for (int i = 0; i < 8; i++) {
            *w0 = *w0 << 8 | a[i];
            *w1 = *w1 << 8 | a[8 + i];
        }
        *w0 &= plen >= 64 ? ~0ull : plen <= 0 ? 0 : ~0ull << (64 - plen);
        *w1 &= plen >= 128 ? ~0ull : plen <= 64 ? 0 : ~0ull << (128 - plen);
    }
}

/* aux: port in bits 0-16 (MPORT_ANY = none), family 0/1/2 (none/4/6) in 17-18, side in 19,
 * prefix length in 20-27. */
static uint32_t aux_of(int side, int fam, int plen, unsigned port)
{
    return (uint32_t)plen << 20 | (uint32_t)side << 19 | (uint32_t)fam << 17 | port;
}

static int fam_of(int family)
{
    return family == 4 ? 1 : family == 6 ? 2 : 0;
}

int mport_add(mport_builder *b, int side, int family, const uint8_t *addr, int plen, unsigned port,
              uint32_t ind)
{
    uint64_t w0, w1;
    int full = family == 4 ? 32 : family == 6 ? 128 : 0;
    if ((side != MPORT_SRC && side != MPORT_DST) || port > MPORT_ANY ||
        (family != 0 && family != 4 && family != 6) || (family == 0) != (addr == NULL) ||
        (family == 0 && port == MPORT_ANY) || plen < 0 || plen > full)
        return ACCORD_EINVAL;
    addr_words(family, addr, plen, &w0, &w1);
    return mpairs_push(&b->p, w0, w1, ind, aux_of(side, fam_of(family), plen, port));
}

static uint64_t key_hash(uint64_t aux, uint64_t w0, uint64_t w1)
{
    return mix64(aux * 0x9e3779b97f4a7c15ull ^ mix64(w0 ^ 0x2545f4914f6cdd1dull) ^
                 (w1 * 0xc2b2ae3d27d4eb4full));
}

static void count_key(mportset *set, uint32_t aux)
{
    unsigned port = aux & 0x1FFFF, fam = aux >> 17 & 3, side = aux >> 19 & 1, plen = aux >> 20;
    if (port != MPORT_ANY)
        set->bits[(side << 16 | port) >> 6] |= 1ull << (port & 63);
    if (fam == 0) {
        set->n_port++;
        return;
    }
    if (port == MPORT_ANY)
        set->n_addr++, set->lens_any[side][fam - 1][plen / 64] |= 1ull << (plen % 64);
    else
        set->n_both++, set->lens_port[side][fam - 1][plen / 64] |= 1ull << (plen % 64);
    if (plen != (fam == 1 ? 32u : 128u))
        set->n_net++;
}

int mport_build(mport_builder *b, mrefs *refs, mportset *set)
{
    const mpair *v = b->p.v;
    size_t n = b->p.n;
    uint32_t *tmp = NULL;
    uint64_t *h = NULL;
    int rc = 0;
    memset(set, 0, sizeof *set);
    if (n == 0)
        return 0;
    qsort(b->p.v, n, sizeof *b->p.v, mpair_cmp);
    tmp = malloc(n * sizeof *tmp);
    h = malloc(n * sizeof *h);
    set->key = malloc(n * 3 * sizeof *set->key);
    set->ref = malloc(n * sizeof *set->ref);
    set->bits = calloc(2 * 65536 / 64, sizeof *set->bits);
    if (!tmp || !h || !set->key || !set->ref || !set->bits)
        rc = ACCORD_ENOMEM;
    for (size_t i = 0; i < n && rc == 0;) {
        size_t j = i, k = 0;
        for (; j < n && v[j].aux == v[i].aux && v[j].k[0] == v[i].k[0] && v[j].k[1] == v[i].k[1];
             j++)
            if (k == 0 || tmp[k - 1] != v[j].ind)
                tmp[k++] = v[j].ind;
        set->key[3 * set->n] = v[i].aux;
        set->key[3 * set->n + 1] = v[i].k[0];
        set->key[3 * set->n + 2] = v[i].k[1];
        h[set->n] = key_hash(v[i].aux, v[i].k[0], v[i].k[1]);
        count_key(set, v[i].aux);
        rc = mrefs_add(refs, tmp, k, &set->ref[set->n]);
        set->n++;
        i = j;
    }
    if (rc == 0)
        rc = mtab_build(&set->t, h, set->n);
    free(tmp);
    free(h);
    mport_builder_free(b);
    if (rc)
        mport_free(set);
    return rc;
}

void mport_free(mportset *set)
{
    mtab_free(&set->t);
    free(set->key);
    free(set->ref);
    free(set->bits);
    memset(set, 0, sizeof *set);
}

static uint32_t find(const mportset *set, uint32_t aux, uint64_t w0, uint64_t w1)
{
    uint64_t h = key_hash(aux, w0, w1);
    size_t pos = 0;
    uint32_t e;
    while (mtab_next(&set->t, h, &pos, &e)) {
        const uint64_t *k = &set->key[3 * (size_t)e];
        if (k[0] == aux && k[1] == w0 && k[2] == w1)
            return set->ref[e];
    }
    return MREF_NONE;
}

/* Probes the address keys of one shape (with port p, or MPORT_ANY) at every length in lens. */
static size_t probe_lens(const mportset *set, int side, int family, const uint8_t *addr,
                         const uint64_t lens[3], unsigned p, uint8_t sh, uint32_t *out,
                         uint8_t *shape, size_t n, size_t max)
{
    for (int w = 0; w < 3; w++)
        for (uint64_t bits = lens[w]; bits && n < max; bits &= bits - 1) {
            int plen = w * 64 + __builtin_ctzll(bits);
            uint64_t w0, w1;
            uint32_t r;
            addr_words(family, addr, plen, &w0, &w1);
            r = find(set, aux_of(side, fam_of(family), plen, p), w0, w1);
            if (r != MREF_NONE) {
                shape[n] = sh;
                out[n++] = r;
            }
        }
    return n;
}

size_t mport_lookup(const mportset *set, int side, int family, const uint8_t *addr, long port,
                    uint32_t *out, uint8_t *shape, size_t max)
{
    size_t n = 0;
    uint32_t r;
    int fi = fam_of(family) - 1;
    if (set->n == 0 || max == 0)
        return 0;
    if (!addr)
        fi = -1;
    if (port >= 0 && port <= 65535 &&
        (set->bits[((unsigned)side << 16 | (unsigned)port) >> 6] >> (port & 63) & 1)) {
        if ((r = find(set, aux_of(side, 0, 0, (unsigned)port), 0, 0)) != MREF_NONE) {
            shape[n] = MPORT_PORT;
            out[n++] = r;
        }
        if (fi >= 0)
            n = probe_lens(set, side, family, addr, set->lens_port[side][fi], (unsigned)port,
                           MPORT_BOTH, out, shape, n, max);
    }
    if (fi >= 0)
        n = probe_lens(set, side, family, addr, set->lens_any[side][fi], MPORT_ANY, MPORT_ADDR, out,
                       shape, n, max);
    return n;
}

/* The port bitmap, the per-length masks and the shape counts of the keys already in set (a
 * snapshot loaded from its serialised form, match_serial.c); the keys' aux words must be
 * valid (mport_aux_ok).  0 or ACCORD_ENOMEM. */
int mport_index(mportset *set)
{
    set->bits = calloc(2 * 65536 / 64, sizeof *set->bits);
    if (!set->bits)
        return ACCORD_ENOMEM;
    set->n_port = set->n_addr = set->n_both = set->n_net = 0;
    memset(set->lens_port, 0, sizeof set->lens_port);
    memset(set->lens_any, 0, sizeof set->lens_any);
    for (size_t i = 0; i < set->n; i++)
        count_key(set, (uint32_t)set->key[3 * i]);
    return 0;
}

/* 1 when aux is a key's aux word mport_add could have made (side, family, a prefix length
 * within the family, a port or none, and not neither address nor port). */
int mport_aux_ok(uint64_t aux)
{
    unsigned port = aux & 0x1FFFF, fam = aux >> 17 & 3, plen = (unsigned)(aux >> 20);
    if (aux >> 28 || port > MPORT_ANY || fam > 2)
        return 0;
    if (fam == 0)
        return plen == 0 && port != MPORT_ANY;
    return plen <= (fam == 1 ? 32u : 128u);
}
