/*
 * match_serial.c - a compiled snapshot as bytes (format version 1), and back.
 *
 * Compiling indicators is the expensive part of a snapshot: every pattern parsed, literals
 * normalised, pairs sorted and grouped, hash tables filled.  A node that feeds many matching
 * hosts does it once and ships the tables; a host loads them with copies and one checking pass,
 * never parsing a fast-path pattern.  The tables are pointer-free already (entry numbers, pool
 * offsets, refs), so the bytes are their memory images:
 *
 *   header (48 bytes, little-endian)
 *     0  magic "ACCORDSN"            8  u32 format version (1)     12  u32 0x01020304 (order)
 *    16  u32 header bytes (48)      20  u32 section count         24  u64 total bytes
 *    32  u64 XXH3-64 of the section table, seeded with XXH3-64 of bytes 0..32
 *    40  u64 0
 *   section table: per section 32 bytes: u32 id, u32 0, u64 offset, u64 length,
 *                  u64 XXH3-64 of the section's bytes
 *   sections: a sequence of fields, each a u64 or an array (u64 count, count * size bytes,
 *             zero padding to 8)
 *
 * Sections (each once; ids above SEC_LAST are skipped, for later versions to add):
 *   1 meta      u64 simple, complex, skipped, normalised (the builder's counts)
 *   2 inds      indicator records (28 bytes: mind)          3 pool   names, labels, odd ids
 *   4 refs      the reference lists (u32)
 *   5 ip4       exact IPv4: keys, refs, table image          6 ip4net: prefixes (below)
 *   7 ip6       u64 lengths, then per length: u64 length, keys (2 u64), refs, table image
 *   8-11        domain, url, email, user-agent string sets: u64 seed, entries (12 bytes),
 *               pool, table image
 *   12 sfx      the suffix filter words                      13 ualike: its rules, a string set
 *   14 port     keys (3 u64), refs, table image              15 hash: per digest kind keys,
 *                                                               refs, table image
 *   16 complex  u64 count, then per pattern: u64 indicator, u64 version hash, u64 flags, text
 *
 * A table image is the bucket array of match_table.c (64-byte buckets); the loader copies it
 * and checks every slot (entry numbers below the entry count, MTAB_PASSED only on a last
 * slot, as many used slots as entries, the bucket count mtab_build would choose).  IPv4
 * prefixes travel as their DIR-24-8 parts: the cover sets, the tbl8 groups and the non-zero
 * runs of tbl24 (start, count, cell), since 16 M mostly-empty cells would be 64 MiB.  The
 * User-Agent LIKE rules travel and their grams are derived again (a few hundred rules at most);
 * patterns for the pattern engine travel as their text and are compiled on load: they are few
 * and their compiled form holds pointers.
 *
 * Byte order: the writer refuses to write on a big-endian host and the loader refuses a file
 * whose order mark reads otherwise, rather than swap every word.  The SHA-256 of the whole file
 * (published beside it) guards transport; the checksums here catch damage and a wrong section
 * boundary with a message naming the section.  Neither makes the loader trust the contents:
 * every count, offset, reference and cover chain is checked before use, so a damaged or hostile
 * file is refused, never read past.
 */
#include "match_serial.h"

#include "match.h"
#include "pattern.h"
#include "util/hugemem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>

#define HDR_BYTES 48u
#define SEC_BYTES 32u
#define SEC_MAX 64u
#define ORDER_MARK 0x01020304u
#define TBL8 0x80000000u /* as match_ip.c */
#define CELLS24 (1u << 24)

enum {
    SEC_META = 1,
    SEC_INDS,
    SEC_POOL,
    SEC_REFS,
    SEC_IP4,
    SEC_IP4NET,
    SEC_IP6,
    SEC_DOMAIN,
    SEC_URL,
    SEC_EMAIL,
    SEC_UA,
    SEC_SFX,
    SEC_UALIKE,
    SEC_PORT,
    SEC_HASH,
    SEC_COMPLEX,
    SEC_LAST = SEC_COMPLEX
};

static const char *const sec_names[] = {"",      "meta",   "inds",  "pool",  "refs",   "ip4",
                                        "ip4net", "ip6",    "domain", "url",  "email",  "ua",
                                        "sfx",    "ualike", "port",  "hash",  "complex"};

static int host_little(void)
{
    uint32_t v = ORDER_MARK;
    uint8_t b[4];
    memcpy(b, &v, 4);
    return b[0] == 0x04;
}

/* ------------------------------------------------------------------------------------------ */
/* Writing                                                                                      */

typedef struct wr {
    buf *b;
    size_t base; /* where the file starts in b */
    int rc;
} wr;

static void w_bytes(wr *w, const void *p, size_t n)
{
    static const uint8_t zero[8];
    if (w->rc == 0 && n && buf_add(w->b, p, n) != 0)
        w->rc = ACCORD_ENOMEM;
    if (w->rc == 0 && (w->b->len - w->base) % 8 && buf_add(w->b, zero, 8 - (w->b->len - w->base) % 8) != 0)
        w->rc = ACCORD_ENOMEM;
}

static void w_u64(wr *w, uint64_t v)
{
    w_bytes(w, &v, 8);
}

static void w_arr(wr *w, const void *p, size_t n, size_t size)
{
    w_u64(w, n);
    w_bytes(w, p, n * size);
}

static void w_mtab(wr *w, const mtab *t)
{
    w_arr(w, t->b, t->b ? t->nb : 0, sizeof(mtab_bucket));
}

static void w_strset(wr *w, const mstrset *s)
{
    w_u64(w, s->seed);
    w_arr(w, s->e, s->n, sizeof *s->e);
    w_arr(w, s->pool, s->n ? s->pool_len : 0, 1);
    w_mtab(w, &s->t);
}

static void w_ip4net(wr *w, const mip *ip)
{
    size_t nruns = 0;
    uint32_t *runs = NULL;
    w_u64(w, ip->n_prefix4);
    w_arr(w, ip->cover, ip->p24 ? ip->ncover * 2 : 0, 4);
    size_t n8 = ip->p24 ? ip->ntbl8 * 256 : 0; /* the groups as they were built */
    uint32_t *t8 = n8 ? malloc(n8 * sizeof *t8) : NULL;
    if (n8 && !t8) {
        if (w->rc == 0)
            w->rc = ACCORD_ENOMEM;
        n8 = 0;
    }
    for (size_t i = 0; i < n8; i++)
        t8[i] = mip_cell8(ip, i / 256, (unsigned)(i % 256));
    w_arr(w, t8, n8, 4);
    free(t8);
    if (ip->p24) { /* the /24s of p24's set bits, in order, with their cells: runs of equal ones */
        size_t cap = 1024, k = 0;
        runs = malloc(cap * 3 * sizeof *runs);
        for (size_t wi = 0; runs && wi < MIP_X24_BYTES / 8; wi++) {
            for (uint64_t bits = ip->p24[wi]; runs && bits; bits &= bits - 1) {
                uint32_t c = (uint32_t)(wi * 64 + (size_t)__builtin_ctzll(bits));
                uint32_t v = ip->cell24[k++];
                uint32_t *last = nruns ? &runs[3 * (nruns - 1)] : NULL;
                if (last && last[0] + last[1] == c && last[2] == v) {
                    last[1]++;
                    continue;
                }
                if (nruns == cap) {
                    uint32_t *r = realloc(runs, cap * 2 * 3 * sizeof *runs);
                    if (!r) {
                        free(runs);
                        runs = NULL;
                        break;
                    }
                    runs = r;
                    cap *= 2;
                }
                runs[3 * nruns] = c;
                runs[3 * nruns + 1] = 1;
                runs[3 * nruns++ + 2] = v;
            }
        }
        if (!runs) {
            nruns = 0;
            if (w->rc == 0)
                w->rc = ACCORD_ENOMEM;
        }
    }
    w_arr(w, runs, nruns, 12);
    free(runs);
}

static void w_complex(wr *w, const accord_snapshot *s)
{
    size_t n = accord_pattern_set_count(s->complex);
    w_u64(w, n);
    for (size_t i = 0; i < n; i++) {
        uint64_t tag = 0;
        const accord_pattern *p = pattern_set_at(s->complex, i, &tag);
        w_u64(w, tag);
        w_u64(w, s->cver[i]);
        w_u64(w, p->v20 ? ACCORD_PATTERN_STIX20 : 0);
        w_arr(w, p->text, p->text_len, 1);
    }
}

static void w_section(wr *w, const accord_snapshot *s, int id)
{
    const mip *ip = &s->ip;
    switch (id) {
    case SEC_META:
        w_u64(w, s->stats.simple);
        w_u64(w, s->stats.complex);
        w_u64(w, s->stats.skipped);
        w_u64(w, s->stats.normalised);
        break;
    case SEC_INDS:
        w_arr(w, s->inds, s->ninds, sizeof *s->inds);
        break;
    case SEC_POOL:
        w_arr(w, s->pool, s->pool_len, 1);
        break;
    case SEC_REFS:
        w_arr(w, s->refs.v, s->refs.n, 4);
        break;
    case SEC_IP4:
        w_arr(w, ip->key4, ip->n_exact4, 4);
        w_arr(w, ip->ref4, ip->n_exact4, 4);
        w_mtab(w, &ip->t4);
        break;
    case SEC_IP4NET:
        w_ip4net(w, ip);
        break;
    case SEC_IP6:
        w_u64(w, ip->nv6);
        for (size_t i = 0; i < ip->nv6; i++) {
            w_u64(w, (uint64_t)ip->v6[i].len);
            w_arr(w, ip->v6[i].key, ip->v6[i].t.n, 16);
            w_arr(w, ip->v6[i].ref, ip->v6[i].t.n, 4);
            w_mtab(w, &ip->v6[i].t);
        }
        break;
    case SEC_DOMAIN:
        w_strset(w, &s->domain);
        break;
    case SEC_URL:
        w_strset(w, &s->url);
        break;
    case SEC_EMAIL:
        w_strset(w, &s->email);
        break;
    case SEC_UA:
        w_strset(w, &s->ua);
        break;
    case SEC_SFX:
        w_arr(w, s->sfx, s->sfx ? s->sfx_mask + 1 : 0, 8);
        break;
    case SEC_UALIKE:
        w_strset(w, &s->ua_like.rules);
        break;
    case SEC_PORT:
        w_arr(w, s->port.key, s->port.n, 24);
        w_arr(w, s->port.ref, s->port.n, 4);
        w_mtab(w, &s->port.t);
        break;
    case SEC_HASH:
        for (int k = 0; k < MK_HASH_N; k++) {
            const mhashset *h = &s->hash[k];
            w_arr(w, h->key, h->n * mhash_kinds[k].len, 1);
            w_arr(w, h->ref, h->n, 4);
            w_mtab(w, &h->t);
        }
        break;
    default:
        w_complex(w, s);
        break;
    }
}

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

int msnap_serialise(const accord_snapshot *s, buf *out)
{
    wr w = {out, out->len, 0};
    uint8_t head[HDR_BYTES + SEC_LAST * SEC_BYTES];
    uint64_t off[SEC_LAST + 1], len[SEC_LAST + 1];
    uint8_t *h;
    if (!host_little())
        return ACCORD_EINVAL;
    memset(head, 0, sizeof head);
    w_bytes(&w, head, sizeof head); /* filled in below */
    for (int id = 1; id <= SEC_LAST; id++) {
        off[id] = out->len - w.base;
        w_section(&w, s, id);
        len[id] = out->len - w.base - off[id];
    }
    if (w.rc)
        return w.rc;
    h = (uint8_t *)out->p + w.base;
    memcpy(h, MSER_MAGIC, 8);
    put32(h + 8, MSER_VERSION);
    put32(h + 12, ORDER_MARK);
    put32(h + 16, HDR_BYTES);
    put32(h + 20, SEC_LAST);
    put64(h + 24, out->len - w.base);
    for (int id = 1; id <= SEC_LAST; id++) {
        uint8_t *e = h + HDR_BYTES + (size_t)(id - 1) * SEC_BYTES;
        put32(e, (uint32_t)id);
        put64(e + 8, off[id]);
        put64(e + 16, len[id]);
        put64(e + 24, XXH3_64bits(h + off[id], (size_t)len[id]));
    }
    put64(h + 32, XXH3_64bits_withSeed(h + HDR_BYTES, SEC_LAST * SEC_BYTES, XXH3_64bits(h, 32)));
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Loading                                                                                      */

typedef struct rd {
    const uint8_t *p; /* the section */
    size_t len, at;
    const char *sec;
    size_t base; /* the section's offset in the file, for messages */
    accord_error *err;
    int rc;
} rd;

static int bad(rd *r, const char *what)
{
    if (r->rc == 0) {
        r->rc = ACCORD_EINVAL;
        if (r->err) {
            r->err->code = ACCORD_EINVAL;
            snprintf(r->err->msg, sizeof r->err->msg,
                     "snapshot: section %s, byte %zu: %s", r->sec, r->base + r->at, what);
        }
    }
    return r->rc;
}

static int oom(rd *r)
{
    if (r->rc == 0) {
        r->rc = ACCORD_ENOMEM;
        if (r->err) {
            r->err->code = ACCORD_ENOMEM;
            snprintf(r->err->msg, sizeof r->err->msg, "snapshot: out of memory");
        }
    }
    return r->rc;
}

static uint64_t r_u64(rd *r)
{
    uint64_t v = 0;
    if (r->rc)
        return 0;
    if (r->len - r->at < 8) {
        bad(r, "ends inside a field");
        return 0;
    }
    memcpy(&v, r->p + r->at, 8);
    r->at += 8;
    return v;
}

/* An array of at most max elements of size bytes: its bytes (in the section) and count. */
static const uint8_t *r_arr(rd *r, size_t size, size_t max, size_t *n)
{
    uint64_t c = r_u64(r), bytes, padded;
    const uint8_t *p;
    *n = 0;
    if (r->rc)
        return NULL;
    if (c > max || c > (r->len - r->at) / size) {
        bad(r, c > max ? "an array longer than its kind allows" : "an array past the section's end");
        return NULL;
    }
    bytes = c * size;
    padded = (bytes + 7) & ~(uint64_t)7;
    if (padded > r->len - r->at) {
        bad(r, "an array's padding past the section's end");
        return NULL;
    }
    for (uint64_t i = bytes; i < padded; i++)
        if (r->p[r->at + i]) {
            bad(r, "non-zero padding");
            return NULL;
        }
    p = r->p + r->at;
    r->at += (size_t)padded;
    *n = (size_t)c;
    return p;
}

/* A copy of an array of at most max elements (none: NULL), its count in *n. */
static void *r_copy(rd *r, size_t size, size_t max, size_t *n)
{
    const uint8_t *p = r_arr(r, size, max, n);
    void *v;
    if (r->rc || *n == 0)
        return NULL;
    v = malloc(*n * size);
    if (!v) {
        oom(r);
        return NULL;
    }
    memcpy(v, p, *n * size);
    return v;
}

/* A copy of an array of exactly want elements. */
static void *r_copy_n(rd *r, size_t size, size_t want, const char *what)
{
    size_t n;
    void *v = r_copy(r, size, want, &n);
    if (r->rc == 0 && n != want)
        bad(r, what);
    return v;
}

/* The reference lists: which offsets start a list (a bitmap), checked once so that each ref
 * is then checked in constant time. */
typedef struct refcheck {
    const mrefs *refs;
    uint64_t *starts;
    size_t ninds;
} refcheck;

static int ref_ok(const refcheck *c, uint32_t ref)
{
    uint32_t off = ref & ~MREF_LIST;
    if (ref == MREF_NONE)
        return 1;
    if (!(ref & MREF_LIST))
        return ref < c->ninds;
    return off < c->refs->n && (c->starts[off / 64] >> (off % 64) & 1);
}

static int refs_check(rd *r, refcheck *c)
{
    const uint32_t *v = c->refs->v;
    size_t n = c->refs->n;
    c->starts = calloc(n / 64 + 1, sizeof *c->starts);
    if (!c->starts)
        return oom(r);
    for (size_t i = 0; i < n;) {
        uint32_t k = v[i];
        if (k < 2 || k > n - i - 1)
            return bad(r, "a reference list whose count is below 2 or past the end");
        c->starts[i / 64] |= 1ull << (i % 64);
        for (size_t j = i + 1; j <= i + k; j++)
            if (v[j] >= c->ninds)
                return bad(r, "a reference list naming an indicator past the last");
        i += 1 + (size_t)k;
    }
    return 0;
}

static int refs_all_ok(rd *r, const refcheck *c, const uint32_t *ref, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!ref_ok(c, ref[i]))
            return bad(r, "an entry's reference is no indicator and no list");
    return 0;
}

/* A table image over n entries: checked slot by slot. */
static void r_mtab(rd *r, mtab *t, size_t n)
{
    size_t nb, used = 0;
    const uint8_t *p = r_arr(r, sizeof(mtab_bucket), (size_t)UINT32_MAX, &nb);
    memset(t, 0, sizeof *t);
    if (r->rc)
        return;
    if (nb != (n + 5) / 6 || n >= MTAB_PASSED) {
        bad(r, "a table whose bucket count is not the one its entries take");
        return;
    }
    if (nb == 0)
        return;
    t->b = hugemem_alloc(nb * sizeof(mtab_bucket)); /* as a compiled table: match_table.c */
    if (!t->b) {
        oom(r);
        return;
    }
    t->nb = nb;
    memcpy(t->b, p, nb * sizeof(mtab_bucket));
    t->n = n;
    for (size_t i = 0; i < nb; i++)
        for (unsigned s = 0; s < MTAB_SLOTS; s++) {
            uint32_t fp = t->b[i].fp[s], e = t->b[i].ent[s];
            if ((e & MTAB_PASSED) && s != MTAB_SLOTS - 1) {
                bad(r, "a table slot marked passed that is not a bucket's last");
                return;
            }
            e &= ~MTAB_PASSED;
            if (fp ? e >= n : e != 0) {
                bad(r, fp ? "a table slot naming an entry past the last" : "an empty slot with an entry");
                return;
            }
            used += fp != 0;
        }
    if (used != n)
        bad(r, "a table holding another number of entries than it has");
}

static void r_strset(rd *r, const refcheck *c, mstrset *s)
{
    size_t plen;
    memset(s, 0, sizeof *s);
    s->seed = r_u64(r);
    s->e = r_copy(r, sizeof *s->e, 0x7FFFFFFF, &s->n);
    s->pool = r_copy(r, 1, 0xFFFFFFFFu, &plen);
    s->pool_len = plen;
    if (r->rc)
        return;
    if (s->n && !s->pool && !(s->pool = malloc(1))) { /* keys all empty: still a pool */
        oom(r);
        return;
    }
    if (!s->n && plen) {
        bad(r, "a string pool without entries");
        return;
    }
    for (size_t i = 0; i < s->n; i++) {
        size_t end = i + 1 < s->n ? s->e[i + 1].off : plen;
        if (s->e[i].off > end || end > plen) {
            bad(r, "string entries whose offsets are out of order or past the pool");
            return;
        }
        if (!ref_ok(c, s->e[i].ref) || !ref_ok(c, s->e[i].ref2)) {
            bad(r, "a string entry's reference is no indicator and no list");
            return;
        }
    }
    r_mtab(r, &s->t, s->n);
}

static void r_ip4(rd *r, const refcheck *c, mip *ip)
{
    ip->key4 = r_copy(r, 4, 0x7FFFFFFF, &ip->n_exact4);
    ip->ref4 = r_copy_n(r, 4, ip->n_exact4, "exact IPv4 keys and refs of different counts");
    if (r->rc == 0)
        refs_all_ok(r, c, ip->ref4, ip->n_exact4);
    r_mtab(r, &ip->t4, ip->n_exact4);
}

/* The cell of a tbl24 or tbl8 cell: a cover set, or (tbl24 only) a tbl8 group. */
static int cell_ok(const mip *ip, uint32_t v, int in24)
{
    if (v & TBL8)
        return in24 && (v & ~TBL8) < ip->ntbl8;
    return v < ip->ncover;
}

static void r_ip4net(rd *r, const refcheck *c, mip *ip)
{
    size_t ncov2, ncell8, nruns;
    const uint8_t *runs;
    uint32_t at = 0;
    ip->n_prefix4 = (size_t)r_u64(r);
    ip->cover = r_copy(r, 4, 2 * (size_t)0x7FFFFFFF, &ncov2);
    ip->tbl8 = r_copy(r, 4, 256 * (size_t)0x7FFFFFFF, &ncell8);
    runs = r_arr(r, 12, CELLS24, &nruns);
    if (r->rc)
        return;
    ip->ncover = ncov2 / 2;
    ip->ntbl8 = ncell8 / 256;
    if (ncov2 % 2 || ncell8 % 256)
        bad(r, "cover sets or tbl8 groups of an odd size");
    else if (ncov2 == 0 && (ncell8 || nruns || ip->n_prefix4))
        bad(r, "prefix cells without cover sets");
    else if (ncov2 && (ip->cover[0] || ip->cover[1] || ip->n_prefix4 == 0))
        bad(r, "cover set 0 is not the empty set");
    for (size_t i = 1; r->rc == 0 && i < ip->ncover; i++)
        if (ip->cover[2 * i] >= i || !ref_ok(c, ip->cover[2 * i + 1]))
            bad(r, "a cover set whose parent is not an earlier set, or whose ref is invalid");
    for (size_t i = 0; r->rc == 0 && i < ncell8; i++)
        if (!cell_ok(ip, ip->tbl8[i], 0))
            bad(r, "a tbl8 cell that is no cover set");
    for (size_t i = 0; r->rc == 0 && i < nruns; i++) { /* all checked before 64 MiB are taken */
        uint32_t v[3];
        memcpy(v, runs + 12 * i, 12);
        if (v[0] < at || v[0] >= CELLS24 || v[1] == 0 || v[1] > CELLS24 - v[0] || v[2] == 0 ||
            !cell_ok(ip, v[2], 1))
            bad(r, "a tbl24 run out of order, past 2^24 cells, or of an invalid cell");
        at = v[0] + v[1];
    }
    if (r->rc || ncov2 == 0)
        return;
    size_t cells = 0;
    for (size_t i = 0; i < nruns; i++) {
        uint32_t v[3];
        memcpy(v, runs + 12 * i, 12);
        cells += v[1]; /* disjoint runs: at most 2^24 in all */
    }
    if (mip_cells24_begin(ip, cells) != 0) {
        oom(r);
        return;
    }
    for (size_t i = 0; i < nruns; i++) { /* in order, so the cells come in /24 order */
        uint32_t v[3];
        memcpy(v, runs + 12 * i, 12);
        for (uint32_t k = 0; k < v[1]; k++)
            mip_cells24_put(ip, v[0] + k, v[2]);
    }
    mip_cells24_end(ip);
}

static void r_ip6(rd *r, const refcheck *c, mip *ip)
{
    uint64_t n = r_u64(r);
    int prev = 129;
    if (r->rc)
        return;
    if (n > 129) {
        bad(r, "more IPv6 prefix lengths than there are");
        return;
    }
    if (n && !(ip->v6 = calloc((size_t)n, sizeof *ip->v6))) {
        oom(r);
        return;
    }
    for (size_t i = 0; i < n && r->rc == 0; i++) {
        struct mip6_len *l = &ip->v6[i];
        uint64_t len = r_u64(r);
        size_t nk;
        ip->nv6 = i + 1; /* freed with the snapshot from here */
        if (r->rc == 0 && (len > 128 || (int)len >= prev)) {
            bad(r, "IPv6 prefix lengths not in descending order within 0..128");
            return;
        }
        l->len = prev = (int)len;
        l->key = r_copy(r, 16, 0x7FFFFFFF, &nk);
        l->ref = r_copy_n(r, 4, nk, "IPv6 keys and refs of different counts");
        if (r->rc == 0 && nk == 0)
            bad(r, "an IPv6 prefix length without keys");
        if (r->rc == 0)
            refs_all_ok(r, c, l->ref, nk);
        r_mtab(r, &l->t, nk);
        if (len == 128)
            ip->n_exact6 += nk;
        else
            ip->n_prefix6 += nk;
    }
}

static void r_sfx(rd *r, accord_snapshot *s)
{
    size_t words;
    s->sfx = r_copy(r, 8, (size_t)1 << 40, &words);
    if (r->rc == 0 && words & (words - 1))
        bad(r, "a suffix filter whose size is not a power of two");
    s->sfx_mask = words ? words - 1 : 0;
}

static void r_port(rd *r, const refcheck *c, mportset *p)
{
    size_t nk;
    memset(p, 0, sizeof *p);
    p->key = r_copy(r, 24, 0x7FFFFFFF, &nk);
    p->n = nk;
    p->ref = r_copy_n(r, 4, nk, "port keys and refs of different counts");
    if (r->rc == 0)
        refs_all_ok(r, c, p->ref, nk);
    for (size_t i = 0; r->rc == 0 && i < nk; i++)
        if (!mport_aux_ok(p->key[3 * i]))
            bad(r, "a port key of no valid side, family, length and port");
    r_mtab(r, &p->t, nk);
    if (r->rc == 0 && nk && mport_index(p) != 0)
        oom(r);
}

static void r_hash(rd *r, const refcheck *c, mhashset *sets)
{
    for (int k = 0; k < MK_HASH_N && r->rc == 0; k++) {
        mhashset *h = &sets[k];
        unsigned dl = mhash_kinds[k].len;
        size_t nb;
        h->len = dl;
        h->key = r_copy(r, 1, (size_t)dl * 0x7FFFFFFF, &nb);
        if (r->rc == 0 && nb % dl)
            bad(r, "digest keys that are not whole digests");
        h->n = nb / dl;
        h->ref = r_copy_n(r, 4, h->n, "digest keys and refs of different counts");
        if (r->rc == 0)
            refs_all_ok(r, c, h->ref, h->n);
        r_mtab(r, &h->t, h->n);
    }
}

static void r_complex(rd *r, accord_snapshot *s)
{
    uint64_t n = r_u64(r);
    accord_error perr = {0};
    if (r->rc || n == 0)
        return;
    if (n > s->ninds) {
        bad(r, "more pattern-engine patterns than indicators");
        return;
    }
    if (accord_pattern_set_new(&s->complex) != 0 || !(s->cver = malloc((size_t)n * 8))) {
        oom(r);
        return;
    }
    for (size_t i = 0; i < n && r->rc == 0; i++) {
        uint64_t tag = r_u64(r), ver = r_u64(r), flags = r_u64(r);
        size_t len;
        const char *text = (const char *)r_arr(r, 1, (size_t)1 << 20, &len);
        accord_pattern *p = NULL;
        int rc;
        if (r->rc)
            return;
        if (tag >= s->ninds || (flags & ~(uint64_t)ACCORD_PATTERN_STIX20)) {
            bad(r, "a pattern naming no indicator, or with unknown flags");
            return;
        }
        s->cver[i] = ver;
        rc = accord_pattern_compile(text, len, (unsigned)flags, &p, &perr);
        if (rc == 0)
            rc = mcf_add_pattern(&s->cfilter, p);
        accord_pattern_free(p);
        if (rc == 0)
            rc = accord_pattern_set_add(s->complex, text, len, (unsigned)flags, tag, &perr);
        if (rc == ACCORD_ENOMEM) {
            oom(r);
        } else if (rc) {
            char why[200];
            snprintf(why, sizeof why, "pattern %zu does not compile: %.120s", i, perr.msg);
            bad(r, why);
        }
    }
    if (r->rc == 0 && accord_pattern_set_build(s->complex, &perr) != 0)
        oom(r);
}

/* Indicator records: each description and odd id a run of NUL-terminated strings in the pool. */
static int strings_at(const char *pool, size_t len, uint32_t off, int k)
{
    for (; k > 0; k--) {
        const char *z;
        if (off >= len || !(z = memchr(pool + off, '\0', len - off)))
            return 0;
        off = (uint32_t)(z - pool) + 1;
    }
    return 1;
}

static void r_inds(rd *r, const accord_snapshot *s)
{
    for (size_t i = 0; i < s->ninds; i++) {
        const mind *m = &s->inds[i];
        uint32_t odd;
        memcpy(&odd, m->uuid, 4);
        if (!strings_at(s->pool, s->pool_len, m->desc & ~MIND_ODD_ID, 3) ||
            ((m->desc & MIND_ODD_ID) && !strings_at(s->pool, s->pool_len, odd, 1))) {
            bad(r, "an indicator record whose name, labels, TLP or id are not in the pool");
            return;
        }
    }
}

typedef struct sec {
    uint64_t off, len, sum;
} sec;

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Reads the header and section table into secs[1..SEC_LAST]. */
static int r_header(rd *r, sec *secs)
{
    const uint8_t *h = r->p;
    uint32_t ver, order, hb, nsec;
    uint64_t total, sum;
    memset(secs, 0, (SEC_LAST + 1) * sizeof *secs);
    if (r->len < HDR_BYTES || memcmp(h, MSER_MAGIC, 8) != 0)
        return bad(r, "not a compiled snapshot (magic)");
    memcpy(&ver, h + 8, 4);
    memcpy(&order, h + 12, 4);
    memcpy(&hb, h + 16, 4);
    memcpy(&nsec, h + 20, 4);
    memcpy(&total, h + 24, 8);
    memcpy(&sum, h + 32, 8);
    if (order != ORDER_MARK)
        return bad(r, "written with the other byte order");
    if (ver != MSER_VERSION) {
        r->at = 8;
        return bad(r, "a format version this build does not read");
    }
    if (hb != HDR_BYTES || nsec == 0 || nsec > SEC_MAX || total != r->len ||
        r->len - HDR_BYTES < (size_t)nsec * SEC_BYTES) {
        r->at = 16;
        return bad(r, "header sizes that do not fit the file");
    }
    if (XXH3_64bits_withSeed(h + HDR_BYTES, (size_t)nsec * SEC_BYTES, XXH3_64bits(h, 32)) != sum) {
        r->at = 32;
        return bad(r, "the section table's checksum differs");
    }
    for (uint32_t i = 0; i < nsec; i++) {
        const uint8_t *e = h + HDR_BYTES + (size_t)i * SEC_BYTES;
        uint32_t id;
        sec x;
        memcpy(&id, e, 4);
        memcpy(&x.off, e + 8, 8);
        memcpy(&x.len, e + 16, 8);
        memcpy(&x.sum, e + 24, 8);
        r->at = HDR_BYTES + (size_t)i * SEC_BYTES;
        if (x.off < HDR_BYTES + (uint64_t)nsec * SEC_BYTES || x.off > total || x.len > total - x.off)
            return bad(r, "a section outside the file");
        if (id == 0 || id > SEC_LAST)
            continue; /* a later version's section */
        if (secs[id].off)
            return bad(r, "a section given twice");
        if (XXH3_64bits(h + x.off, (size_t)x.len) != x.sum)
            return bad(r, "a section's checksum differs");
        secs[id] = x;
    }
    for (int id = 1; id <= SEC_LAST; id++)
        if (!secs[id].off) {
            r->sec = sec_names[id];
            r->at = 0;
            return bad(r, "missing");
        }
    return 0;
}

/* Points r at section id. */
static void r_enter(rd *r, const uint8_t *file, const sec *secs, int id)
{
    r->p = file + secs[id].off;
    r->len = (size_t)secs[id].len;
    r->at = 0;
    r->base = (size_t)secs[id].off;
    r->sec = sec_names[id];
}

static void r_leave(rd *r)
{
    if (r->rc == 0 && r->at != r->len)
        bad(r, "bytes after the section's last field");
}

int msnap_load(const void *p, size_t len, accord_snapshot **out, accord_error *err)
{
    double t0 = mono_s();
    sec secs[SEC_LAST + 1];
    rd r = {.p = p, .len = len, .sec = "header", .err = err};
    refcheck rc = {0};
    accord_snapshot *s;
    mstrset *sets[4];
    *out = NULL;
    if (r_header(&r, secs) != 0)
        return r.rc;
    if (!(s = calloc(1, sizeof *s)))
        return oom(&r);
    atomic_init(&s->refcount, 1);
    mcf_init(&s->cfilter);
    sets[0] = &s->domain, sets[1] = &s->url, sets[2] = &s->email, sets[3] = &s->ua;

    r_enter(&r, p, secs, SEC_META);
    s->stats.simple = r_u64(&r);
    s->stats.complex = r_u64(&r);
    s->stats.skipped = r_u64(&r);
    s->stats.normalised = r_u64(&r);
    r_leave(&r);
    r_enter(&r, p, secs, SEC_INDS);
    s->inds = r_copy(&r, sizeof *s->inds, MREF_LIST - 1, &s->ninds);
    r_leave(&r);
    r_enter(&r, p, secs, SEC_POOL);
    s->pool = r_copy(&r, 1, MIND_ODD_ID - 1, &s->pool_len);
    r_leave(&r);
    if (r.rc == 0)
        r_inds(&r, s);
    r_enter(&r, p, secs, SEC_REFS);
    s->refs.v = r_copy(&r, 4, MREF_LIST - 1, &s->refs.n);
    s->refs.cap = s->refs.n;
    rc.refs = &s->refs;
    rc.ninds = s->ninds;
    if (r.rc == 0)
        refs_check(&r, &rc);
    r_leave(&r);
    r_enter(&r, p, secs, SEC_IP4);
    r_ip4(&r, &rc, &s->ip);
    r_leave(&r);
    r_enter(&r, p, secs, SEC_IP4NET);
    r_ip4net(&r, &rc, &s->ip);
    if (r.rc == 0 && mip_index4(&s->ip) != 0) /* x24, and tbl8 compressed */
        oom(&r);
    r_leave(&r);
    r_enter(&r, p, secs, SEC_IP6);
    r_ip6(&r, &rc, &s->ip);
    r_leave(&r);
    for (int i = 0; i < 4; i++) {
        r_enter(&r, p, secs, SEC_DOMAIN + i);
        r_strset(&r, &rc, sets[i]);
        r_leave(&r);
    }
    r_enter(&r, p, secs, SEC_SFX);
    r_sfx(&r, s);
    r_leave(&r);
    r_enter(&r, p, secs, SEC_UALIKE);
    r_strset(&r, &rc, &s->ua_like.rules);
    if (r.rc == 0 && mlike_index(&s->ua_like) != 0)
        oom(&r);
    r_leave(&r);
    r_enter(&r, p, secs, SEC_PORT);
    r_port(&r, &rc, &s->port);
    r_leave(&r);
    r_enter(&r, p, secs, SEC_HASH);
    r_hash(&r, &rc, s->hash);
    r_leave(&r);
    r_enter(&r, p, secs, SEC_COMPLEX);
    r_complex(&r, s);
    r_leave(&r);
    free(rc.starts);
    if (r.rc == 0 && accord_pattern_set_count(s->complex) != s->stats.complex) {
        r_enter(&r, p, secs, SEC_META);
        bad(&r, "a pattern-engine count other than the patterns the snapshot holds");
    }
    if (r.rc) {
        accord_snapshot_unref(s);
        return r.rc;
    }
    msnap_fill_stats(s);
    s->stats.build_seconds = mono_s() - t0;
    *out = s;
    return 0;
}

int msnap_is_serialised(const void *p, size_t len)
{
    return len >= 8 && memcmp(p, MSER_MAGIC, 8) == 0;
}

int msnap_reseal(void *p, size_t len)
{
    uint8_t *h = p;
    uint32_t nsec;
    if (len < HDR_BYTES || memcmp(h, MSER_MAGIC, 8) != 0)
        return -1;
    memcpy(&nsec, h + 20, 4);
    if (nsec == 0 || nsec > SEC_MAX || len - HDR_BYTES < (size_t)nsec * SEC_BYTES)
        return -1;
    for (uint32_t i = 0; i < nsec; i++) {
        uint8_t *e = h + HDR_BYTES + (size_t)i * SEC_BYTES;
        uint64_t off, n;
        memcpy(&off, e + 8, 8);
        memcpy(&n, e + 16, 8);
        if (off <= len && n <= len - off)
            put64(e + 24, XXH3_64bits(h + off, (size_t)n));
    }
    put64(h + 32, XXH3_64bits_withSeed(h + HDR_BYTES, (size_t)nsec * SEC_BYTES, XXH3_64bits(h, 32)));
    return 0;
}
