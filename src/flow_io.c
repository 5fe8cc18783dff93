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
 * Only whole UDP datagrams are delivered: IP fragments and packets cut by the snap length are
 * counted and skipped (exporters send datagrams below the path MTU; reassembly is not done).
 * The walk works on the file's bytes in memory and copies nothing.
 *
 * An IPFIX file is IPFIX messages back to back, each with its length in its header.
 */
#include "flow.h"
#include "accord.h"

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

/* The UDP datagram in an IP packet p[0..len) (version from its first nibble), or 0. */
static int ip_udp(const uint8_t *p, size_t len, flow_datagram *dg, flow_pcap_stats *st)
{
    size_t off;
    uint8_t proto;
    if (len < 1)
        return 0;
    memset(&dg->src, 0, sizeof dg->src);
    if (p[0] >> 4 == 4) {
        size_t ihl = (size_t)(p[0] & 15) * 4;
        if (len < 20 || ihl < 20 || len < ihl)
            return 0;
        uint32_t frag = be16(p + 6);
        if (frag & 0x3fff) { /* more fragments, or an offset */
            st->skipped_fragments++;
            return 0;
        }
        size_t tot = be16(p + 2);
        if (tot >= ihl && tot < len)
            len = tot; /* Ethernet padding */
        proto = p[9];
        dg->src.family = 4;
        memcpy(dg->src.addr, p + 12, 4);
        off = ihl;
    } else if (p[0] >> 4 == 6) {
        if (len < 40)
            return 0;
        size_t plen = be16(p + 4);
        if (40 + plen < len)
            len = 40 + plen;
        proto = p[6];
        dg->src.family = 6;
        memcpy(dg->src.addr, p + 8, 16);
        off = 40;
        /* extension headers before UDP: hop-by-hop, routing, destination options, fragment */
        for (int n = 0; n < 8 && (proto == 0 || proto == 43 || proto == 60 || proto == 44); n++) {
            if (len - off < 8)
                return 0;
            if (proto == 44) {
                st->skipped_fragments++;
                return 0;
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
        st->truncated++;
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
static void frame(uint32_t lt, const uint8_t *fr, size_t caplen, size_t origlen, int64_t time_us,
                  flow_datagram_cb cb, void *ud, flow_pcap_stats *st)
{
    size_t iplen;
    const uint8_t *ip = link_ip(lt, fr, caplen, &iplen);
    flow_datagram dg;
    st->packets++;
    if (!ip || !ip_udp(ip, iplen, &dg, st)) {
        if (caplen < origlen)
            st->truncated++;
        else
            st->skipped_other++;
        return;
    }
    st->udp++;
    dg.time_us = time_us;
    cb(ud, &dg);
}

/*
 * pcapng (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-02.html): blocks of
 * type(4) length(4) body length(4); the section header (0x0a0d0d0a) gives the byte order by its
 * magic 0x1a2b3c4d; interface descriptions (1) the link type and, by option if_tsresol (9),
 * the timestamp unit; enhanced packets (6) interface(4) time high(4) low(4) caplen(4) len(4)
 * data; simple packets (3) len(4) data, on interface 0.  Other blocks are skipped.
 */
#define PCAPNG_IFS 64
static int pcapng_walk(const uint8_t *p, size_t len, flow_datagram_cb cb, void *ud,
                       flow_pcap_stats *st, const char **why, size_t *offset)
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
                frame(lt[ifc], b + hdr, caplen, origlen, us, cb, ud, st);
            } else {
                st->packets++;
                st->skipped_other++;
            }
        }
        off += blen;
    }
    return 0;
}

int flow_pcap_walk(const uint8_t *p, size_t len, flow_datagram_cb cb, void *ud,
                   flow_pcap_stats *st, const char **why, size_t *offset)
{
    flow_pcap_stats local;
    if (!st)
        st = &local;
    memset(st, 0, sizeof *st);
    *why = NULL;
    *offset = 0;
    if (flow_sniff(p, len) == 3)
        return pcapng_walk(p, len, cb, ud, st, why, offset);
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
        frame(lt, p + off + 16, caplen, origlen,
              (int64_t)sec * 1000000 + (nano ? frac / 1000 : frac), cb, ud, st);
        off += 16 + (size_t)caplen;
    }
    return 0;
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
