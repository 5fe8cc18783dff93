/*
 * flow_io.c - the containers flow messages arrive in: pcap files of exporters' UDP datagrams and
 * IPFIX files (RFC 5655).
 *
 * pcap (the classic format, https://www.tcpdump.org/manpages/pcap-savefile.5.html):
 *
 *   offset  size  file header
 *   0       4     magic: a1b2c3d4 (microseconds) or a1b23c4d (nanoseconds), in either order
 *   4       4     version 2.4
 *   16      4     snaplen
 *   20      4     link type (1 Ethernet, 0 BSD loopback, 101/12/228/229 raw IP,
 *                 113 Linux cooked, 276 Linux cooked v2)
 *   then per packet: seconds(4) fraction(4) captured length(4) original length(4) and the bytes
 *
 * pcapng files are read too (pcapng_walk below).
 *
 * Whole UDP datagrams are delivered: packets cut by the snap length are counted and skipped.  An
 * exporter whose datagrams exceed the path MTU (a large template set, an IPFIX message of many
 * records over a tunnel) has them fragmented: IPv4 and IPv6 fragments are reassembled (see
 * frag_add below).  Unfragmented datagrams point into the file's bytes, nothing copied.
 *
 * An IPFIX file is IPFIX messages back to back, each with its length in its header.
 */
#include "flow.h"
#include "accord.h"

#include <stdlib.h>
#include <string.h>

static inline uint32_t be16(const uint8_t *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}
static inline uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

int flow_sniff(const uint8_t *p, size_t len)
{
    if (len >= 4) {
        uint32_t m = le32(p);
        if (m == 0xa1b2c3d4 || m == 0xd4c3b2a1 || m == 0xa1b23c4d || m == 0x4d3cb2a1)
            return 1;
    }
    if (len >= 16 && be16(p) == 10 && be16(p + 2) >= 16)
        return 2;
    if (len >= 12 && le32(p) == 0x0a0d0d0a &&
        (le32(p + 8) == 0x1a2b3c4d || be32(p + 8) == 0x1a2b3c4d))
        return 3;
    return 0;
}

/*
 * IP fragment reassembly.  A datagram is keyed by (family, source, destination, identification,
 * and for IPv4 the protocol) and gathered in one of FRAG_SLOTS slots of 64 KiB, allocated at the
 * first fragment of a walk.  Fragments may come in any order and overlap (a later copy of a
 * byte wins); a fragment other than the last must be a multiple of 8 bytes, and none may reach
 * past 65,535 bytes or past the end the last fragment gave.  A datagram is delivered when every
 * 8-byte block up to its end has come.  One that breaks those rules, that is not complete
 * FRAG_TIMEOUT_US of capture time after its first fragment (Linux's ipfrag_time), that is the
 * oldest when a new datagram needs a slot, or that is incomplete at the end of the file is
 * dropped, its fragments counted in skipped_fragments.
 */
#define FRAG_SLOTS 16
#define FRAG_DATA 65536
#define FRAG_TIMEOUT_US 30000000ll

typedef struct frag {
    int used;
    uint8_t family, proto, has_proto;
    uint8_t src[16], dst[16];
    uint32_t id;
    int64_t first_us;
    uint32_t end;    /* the datagram's length, once its last fragment came; else 0 */
    uint32_t maxend; /* the furthest byte any fragment reached */
    uint32_t blocks; /* distinct 8-byte blocks received */
    uint32_t nfrags;
    uint8_t have[FRAG_DATA / 64]; /* a bit per 8-byte block */
    uint8_t data[FRAG_DATA];
} frag;

typedef struct walker {
    flow_datagram_cb cb;
    void *ud;
    flow_pcap_stats *st;
    frag *frags; /* FRAG_SLOTS of them, NULL until the first fragment */
} walker;

static void frag_drop(walker *w, frag *f)
{
    w->st->skipped_fragments += f->nfrags;
    f->used = 0;
}

/* Adds a fragment: bytes p[0..len) at offset off of the datagram, more = not the last; proto
 * is the protocol of the payload when known from this fragment (IPv6: the offset-0 one).
 * Returns the slot when the datagram is complete (the caller frees it with used = 0). */
static frag *frag_add(walker *w, int family, const uint8_t *src, const uint8_t *dst, uint32_t id,
                      int proto, size_t off, int more, const uint8_t *p, size_t len,
                      int64_t t_us)
{
    size_t alen = family == 4 ? 4 : 16;
    frag *f = NULL, *empty = NULL, *oldest = NULL;
    w->st->fragments++;
    if (!w->frags && !(w->frags = calloc(FRAG_SLOTS, sizeof *w->frags))) {
        w->st->skipped_fragments++;
        return NULL;
    }
    for (int i = 0; i < FRAG_SLOTS; i++) {
        frag *x = &w->frags[i];
        /* both ways (a capture's clock may step back), in unsigned arithmetic: times come from
         * the file */
        uint64_t age = (uint64_t)t_us > (uint64_t)x->first_us
                           ? (uint64_t)t_us - (uint64_t)x->first_us
                           : (uint64_t)x->first_us - (uint64_t)t_us;
        if (x->used && age > (uint64_t)FRAG_TIMEOUT_US)
            frag_drop(w, x);
        if (!x->used) {
            empty = empty ? empty : x;
        } else if (x->family == family && x->id == id && memcmp(x->src, src, alen) == 0 &&
                   memcmp(x->dst, dst, alen) == 0 && (family == 6 || x->proto == proto)) {
            f = x;
        } else if (!oldest || x->first_us < oldest->first_us) {
            oldest = x;
        }
    }
    if (!f) {
        if (!empty)
            frag_drop(w, empty = oldest);
        f = empty;
        f->used = 1;
        f->family = (uint8_t)family;
        memcpy(f->src, src, alen);
        memcpy(f->dst, dst, alen);
        f->id = id;
        f->proto = (uint8_t)(proto < 0 ? 0 : proto);
        f->has_proto = proto >= 0;
        f->first_us = t_us;
        f->end = f->maxend = f->blocks = f->nfrags = 0;
        memset(f->have, 0, sizeof f->have);
    }
    f->nfrags++;
    if ((more && len % 8) || len > FRAG_DATA - 1 - off || (!more && f->end && f->end != off + len) ||
        (!more && f->maxend > off + len) || (f->end && off + len > f->end)) {
        frag_drop(w, f);
        return NULL;
    }
    if (!more)
        f->end = (uint32_t)(off + len);
    if (off + len > f->maxend)
        f->maxend = (uint32_t)(off + len);
    if (proto >= 0 && off == 0) {
        f->proto = (uint8_t)proto;
        f->has_proto = 1;
    }
    memcpy(f->data + off, p, len);
    for (size_t b = off / 8; b < (off + len + 7) / 8; b++) {
        if (!(f->have[b / 8] & (1u << (b % 8)))) {
            f->have[b / 8] |= (uint8_t)(1u << (b % 8));
            f->blocks++;
        }
    }
    if (!f->end || f->blocks != (f->end + 7) / 8 || !f->has_proto)
        return NULL;
    w->st->reassembled++;
    return f;
}

/*
 * The UDP datagram in an IP packet p[0..len) (version from its first nibble): 1 with *dg set (in
 * a reassembly slot, given in *done, when it came in fragments), 2 when p was a fragment that
 * did not complete a datagram, else 0.
 */
static int ip_udp(walker *w, const uint8_t *p, size_t len, int64_t t_us, flow_datagram *dg,
                  frag **done)
{
    size_t off;
    uint8_t proto;
    *done = NULL;
    if (len < 1)
        return 0;
    memset(&dg->src, 0, sizeof dg->src);
    if (p[0] >> 4 == 4) {
        size_t ihl = (size_t)(p[0] & 15) * 4;
        if (len < 20 || ihl < 20 || len < ihl)
            return 0;
        uint32_t fl = be16(p + 6);
        size_t tot = be16(p + 2);
        if (tot >= ihl && tot < len)
            len = tot; /* Ethernet padding */
        proto = p[9];
        dg->src.family = 4;
        memcpy(dg->src.addr, p + 12, 4);
        off = ihl;
        if ((fl & 0x3fff) && proto == 17) { /* more fragments, or an offset */
            if (tot > len || tot < ihl) { /* cut by the snap length, or a lying length */
                w->st->truncated++;
                return 2;
            }
            frag *f = frag_add(w, 4, p + 12, p + 16, be16(p + 4), proto, (size_t)(fl & 0x1fff) * 8,
                               (fl & 0x2000) != 0, p + ihl, len - ihl, t_us);
            if (!f)
                return 2;
            *done = f;
            p = f->data;
            len = f->end;
            off = 0;
        }
    } else if (p[0] >> 4 == 6) {
        if (len < 40)
            return 0;
        size_t plen = be16(p + 4);
        if (40 + plen < len)
            len = 40 + plen;
        int cut = 40 + plen > len;
        proto = p[6];
        dg->src.family = 6;
        memcpy(dg->src.addr, p + 8, 16);
        off = 40;
        /* extension headers before UDP: hop-by-hop, routing, destination options, fragment
         * (after reassembly, the headers that followed the fragment header) */
        for (int n = 0; n < 8 && (proto == 0 || proto == 43 || proto == 60 || proto == 44); n++) {
            if (len - off < 8)
                return 0;
            if (proto == 44) {
                uint32_t fo = be16(p + off + 2);
                if (*done) /* a fragment header inside a reassembled datagram */
                    return 0;
                if (!(fo & 0xfff9)) { /* an atomic fragment (RFC 6946): the packet is whole */
                    proto = p[off];
                    off += 8;
                    continue;
                }
                if (cut) {
                    w->st->truncated++;
                    return 2;
                }
                frag *f = frag_add(w, 6, p + 8, p + 24, be32(p + off + 4),
                                   (fo & 0xfff8) ? -1 : p[off], fo & 0xfff8, fo & 1, p + off + 8,
                                   len - off - 8, t_us);
                if (!f)
                    return 2;
                *done = f;
                proto = f->proto;
                p = f->data;
                len = f->end;
                off = 0;
                continue;
            }
            proto = p[off];
            off += ((size_t)p[off + 1] + 1) * 8;
            if (off > len)
                return 0;
        }
    } else {
        return 0;
    }
    if (proto != 17 || len - off < 8)
        return 0;
    size_t ulen = be16(p + off + 4);
    if (ulen < 8 || ulen > len - off) {
        w->st->truncated++;
        return 0;
    }
    dg->src.port = (uint16_t)be16(p + off);
    dg->dport = (uint16_t)be16(p + off + 2);
    dg->p = p + off + 8;
    dg->len = ulen - 8;
    return 1;
}

/* The IP packet inside a frame of link type lt, or NULL. */
static const uint8_t *link_ip(uint32_t lt, const uint8_t *p, size_t len, size_t *iplen)
{
    size_t off;
    uint32_t et;
    switch (lt) {
    case 1: /* Ethernet, with any number of 802.1Q / 802.1ad tags */
        if (len < 14)
            return NULL;
        et = be16(p + 12);
        off = 14;
        while ((et == 0x8100 || et == 0x88a8) && len - off >= 4) {
            et = be16(p + off + 2);
            off += 4;
        }
        if (et != 0x0800 && et != 0x86dd)
            return NULL;
        break;
    case 0: /* BSD loopback: a 4-byte address family in host order */
        off = 4;
        break;
    case 12:
    case 14:
    case 101:
    case 228:
    case 229:
        off = 0;
        break;
    case 113: /* Linux cooked v1: protocol at 14 */
        if (len < 16)
            return NULL;
        et = be16(p + 14);
        if (et != 0x0800 && et != 0x86dd)
            return NULL;
        off = 16;
        break;
    case 276: /* Linux cooked v2: protocol at 0 */
        if (len < 20)
            return NULL;
        et = be16(p);
        if (et != 0x0800 && et != 0x86dd)
            return NULL;
        off = 20;
        break;
    default:
        return NULL;
    }
    if (off > len)
        return NULL;
    *iplen = len - off;
    return p + off;
}

/* One captured frame of link type lt: its UDP datagram, if any, to cb. */
static void frame(walker *w, uint32_t lt, const uint8_t *fr, size_t caplen, size_t origlen,
                  int64_t time_us)
{
    size_t iplen;
    const uint8_t *ip = link_ip(lt, fr, caplen, &iplen);
    flow_datagram dg;
    frag *done = NULL;
    int got = ip ? ip_udp(w, ip, iplen, time_us, &dg, &done) : 0;
    w->st->packets++;
    if (got != 1) {
        if (got == 0 && caplen < origlen) /* got == 2: a fragment, counted by frag_add */
            w->st->truncated++;
        else if (got == 0)
            w->st->skipped_other++;
        if (done)
            done->used = 0;
        return;
    }
    w->st->udp++;
    dg.time_us = time_us;
    w->cb(w->ud, &dg);
    if (done)
        done->used = 0;
}

/*
 * pcapng (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-02.html): blocks of
 * type(4) length(4) body length(4); the section header (0x0a0d0d0a) gives the byte order by its
 * magic 0x1a2b3c4d; interface descriptions (1) the link type and, by option if_tsresol (9),
 * the timestamp unit; enhanced packets (6) interface(4) time high(4) low(4) caplen(4) len(4)
 * data; simple packets (3) len(4) data, on interface 0.  Other blocks are skipped.
 */
#define PCAPNG_IFS 64
static int pcapng_walk(walker *w, const uint8_t *p, size_t len, const char **why, size_t *offset)
{
    uint32_t (*rd)(const uint8_t *) = le32;
    uint32_t lt[PCAPNG_IFS];
    uint64_t per_s[PCAPNG_IFS]; /* timestamp units per second */
    size_t nif = 0, off = 0;
    while (off < len) {
        if (len - off < 12) {
            *why = "pcapng block header cut short";
            *offset = off;
            return ACCORD_EINVAL;
        }
        uint32_t type = le32(p + off);
        if (type == 0x0a0d0d0a) {
            if (len - off < 28) {
                *why = "pcapng section header cut short";
                *offset = off;
                return ACCORD_EINVAL;
            }
            rd = le32(p + off + 8) == 0x1a2b3c4d ? le32 : be32;
            if (rd(p + off + 8) != 0x1a2b3c4d) {
                *why = "pcapng section header with an unknown byte-order magic";
                *offset = off + 8;
                return ACCORD_EINVAL;
            }
            nif = 0;
        } else {
            type = rd(p + off);
        }
        uint32_t blen = rd(p + off + 4);
        if (blen < 12 || blen % 4 || blen > len - off) {
            *why = "pcapng block length out of range";
            *offset = off + 4;
            return ACCORD_EINVAL;
        }
        const uint8_t *b = p + off + 8;
        size_t body = blen - 12;
        if (type == 1 && body >= 8 && nif < PCAPNG_IFS) {
            lt[nif] = rd(b) & 0xffff;
            per_s[nif] = 1000000;
            for (size_t o = 8; body - o >= 4;) { /* options: code(2) length(2) value, padded */
                uint32_t code = rd == le32 ? (uint32_t)(b[o] | b[o + 1] << 8)
                                           : (uint32_t)(b[o] << 8 | b[o + 1]);
                uint32_t olen = rd == le32 ? (uint32_t)(b[o + 2] | b[o + 3] << 8)
                                           : (uint32_t)(b[o + 2] << 8 | b[o + 3]);
                if (code == 0 || olen > body - o - 4)
                    break;
                if (code == 9 && olen >= 1) {
                    uint8_t r = b[o + 4];
                    uint64_t u = 1;
                    for (unsigned k = 0; k < (r & 0x7f) && u < (1ull << 40); k++)
                        u *= r & 0x80 ? 2 : 10;
                    per_s[nif] = u;
                }
                o += 4 + ((olen + 3) & ~3u);
            }
            nif++;
        } else if ((type == 6 && body >= 20) || (type == 3 && body >= 4)) {
            uint32_t ifc = type == 6 ? rd(b) : 0;
            size_t caplen = type == 6 ? rd(b + 12) : body - 4;
            size_t origlen = type == 6 ? rd(b + 16) : rd(b);
            size_t hdr = type == 6 ? 20 : 4;
            if (caplen > body - hdr) {
                *why = "pcapng packet longer than its block";
                *offset = off + 8;
                return ACCORD_EINVAL;
            }
            if (caplen > origlen)
                caplen = origlen;
            if (ifc < nif) {
                uint64_t ts = type == 6 ? (uint64_t)rd(b + 4) << 32 | rd(b + 8) : 0;
                int64_t us = (int64_t)(ts / per_s[ifc] * 1000000 +
                                       ts % per_s[ifc] * 1000000 / per_s[ifc]);
                frame(w, lt[ifc], b + hdr, caplen, origlen, us);
            } else {
                w->st->packets++;
                w->st->skipped_other++;
            }
        }
        off += blen;
    }
    return 0;
}

static int pcap_walk(walker *w, const uint8_t *p, size_t len, const char **why, size_t *offset)
{
    if (flow_sniff(p, len) == 3)
        return pcapng_walk(w, p, len, why, offset);
    if (flow_sniff(p, len) != 1 || len < 24) {
        *why = "not a pcap or pcapng file";
        return ACCORD_EINVAL;
    }
    uint32_t magic = le32(p);
    int swap = magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1;
    int nano = magic == 0xa1b23c4d || magic == 0x4d3cb2a1;
    uint32_t (*rd)(const uint8_t *) = swap ? be32 : le32;
    uint32_t lt = rd(p + 20) & 0xffff;
    size_t off = 24;
    while (off < len) {
        if (len - off < 16) {
            *why = "packet header cut short";
            *offset = off;
            return ACCORD_EINVAL;
        }
        uint32_t sec = rd(p + off), frac = rd(p + off + 4), caplen = rd(p + off + 8);
        uint32_t origlen = rd(p + off + 12);
        if (caplen > len - off - 16) {
            *why = "packet longer than the rest of the file";
            *offset = off + 8;
            return ACCORD_EINVAL;
        }
        frame(w, lt, p + off + 16, caplen, origlen,
              (int64_t)sec * 1000000 + (nano ? frac / 1000 : frac));
        off += 16 + (size_t)caplen;
    }
    return 0;
}

int flow_pcap_walk(const uint8_t *p, size_t len, flow_datagram_cb cb, void *ud,
                   flow_pcap_stats *st, const char **why, size_t *offset)
{
    flow_pcap_stats local;
    walker w = {cb, ud, st ? st : &local, NULL};
    memset(w.st, 0, sizeof *w.st);
    *why = NULL;
    *offset = 0;
    int rc = pcap_walk(&w, p, len, why, offset);
    for (int i = 0; w.frags && i < FRAG_SLOTS; i++)
        if (w.frags[i].used)
            frag_drop(&w, &w.frags[i]);
    free(w.frags);
    return rc;
}

int flow_ipfix_file(flow_decoder *d, const flow_exporter *exp, const uint8_t *p, size_t len,
                    flow_rec_cb cb, void *ud, const char **why, size_t *offset)
{
    size_t off = 0;
    *why = NULL;
    *offset = 0;
    while (off < len) {
        if (len - off < 16 || be16(p + off) != 10) {
            *why = len - off < 16 ? "IPFIX message header cut short" : "not an IPFIX message";
            *offset = off;
            return ACCORD_EINVAL;
        }
        size_t mlen = be16(p + off + 2);
        if (mlen < 16 || mlen > len - off) {
            *why = mlen < 16 ? "IPFIX message length below its header" : "IPFIX message cut short";
            *offset = off + 2;
            return ACCORD_EINVAL;
        }
        int rc = flow_decode(d, exp, p + off, mlen, cb, ud);
        if (rc == ACCORD_ENOMEM)
            return rc;
        off += mlen;
    }
    return 0;
}
