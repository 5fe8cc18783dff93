/*
 * flowgen.h - writes NetFlow v5/v9 and IPFIX messages and pcap files of them, for the flow
 * decoder's tests, benchmark and fuzz seeds.  Header-only so each program includes it as is.
 *
 *   fgen g; fg_ipfix(&g, export_s, seq, domain);
 *   fg_set(&g, 2); fg_u16(&g, 256); fg_u16(&g, nfields); fg_u16(&g, ie); fg_u16(&g, len) ...
 *   fg_end_set(&g);
 *   fg_set(&g, 256); ... values ...; fg_end_set(&g);
 *   fg_end(&g);   -> g.b[0..g.len) is the message
 */
#ifndef ACCORD_TEST_FLOWGEN_H
#define ACCORD_TEST_FLOWGEN_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef struct fgen {
    uint8_t b[65536 + 64];
    size_t len, set_at;
    int version;
    unsigned count; /* v9: records in the packet */
} fgen;

static inline void fg_u8(fgen *g, unsigned v)
{
    if (g->len < sizeof g->b)
        g->b[g->len++] = (uint8_t)v;
}
static inline void fg_u16(fgen *g, unsigned v)
{
    fg_u8(g, v >> 8);
    fg_u8(g, v);
}
static inline void fg_u32(fgen *g, uint32_t v)
{
    fg_u16(g, v >> 16);
    fg_u16(g, v & 0xffff);
}
static inline void fg_u64(fgen *g, uint64_t v)
{
    fg_u32(g, (uint32_t)(v >> 32));
    fg_u32(g, (uint32_t)v);
}
static inline void fg_bytes(fgen *g, const void *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fg_u8(g, ((const uint8_t *)p)[i]);
}
static inline void fg_ipfix(fgen *g, uint32_t export_s, uint32_t seq, uint32_t domain)
{
    g->len = 0;
    g->version = 10;
    fg_u16(g, 10);
    fg_u16(g, 0);
    fg_u32(g, export_s);
    fg_u32(g, seq);
    fg_u32(g, domain);
}
static inline void fg_v9(fgen *g, uint32_t uptime_ms, uint32_t secs, uint32_t seq, uint32_t id)
{
    g->len = 0;
    g->version = 9;
    g->count = 0;
    fg_u16(g, 9);
    fg_u16(g, 0);
    fg_u32(g, uptime_ms);
    fg_u32(g, secs);
    fg_u32(g, seq);
    fg_u32(g, id);
}
static inline void fg_set(fgen *g, unsigned id)
{
    g->set_at = g->len;
    fg_u16(g, id);
    fg_u16(g, 0);
}
static inline void fg_end_set(fgen *g)
{
    size_t n = g->len - g->set_at;
    g->b[g->set_at + 2] = (uint8_t)(n >> 8);
    g->b[g->set_at + 3] = (uint8_t)n;
}
static inline void fg_end(fgen *g)
{
    if (g->version == 10) {
        g->b[2] = (uint8_t)(g->len >> 8);
        g->b[3] = (uint8_t)g->len;
    } else if (g->version == 9) {
        g->b[2] = (uint8_t)(g->count >> 8);
        g->b[3] = (uint8_t)g->count;
    }
}
/* A template record: id, then n (ie, len) pairs. */
static inline void fg_template(fgen *g, unsigned tid, unsigned n, const uint16_t *ie_len)
{
    fg_u16(g, tid);
    fg_u16(g, n);
    for (unsigned i = 0; i < n; i++) {
        fg_u16(g, ie_len[2 * i]);
        fg_u16(g, ie_len[2 * i + 1]);
    }
}

/* The record layout the benchmark and several tests use: IPv4 5-tuple, counters, times. */
static const uint16_t fg_v4_fields[] = {8, 4, 12, 4, 7, 2, 11, 2, 4, 1, 1, 8, 2, 8, 152, 8, 153, 8};
#define FG_V4_N 9
#define FG_V4_LEN 45
static inline void fg_v4_record(fgen *g, uint32_t src, uint32_t dst, unsigned sport,
                                unsigned dport, unsigned proto, uint64_t bytes, uint64_t pkts,
                                uint64_t start_ms)
{
    fg_u32(g, src);
    fg_u32(g, dst);
    fg_u16(g, sport);
    fg_u16(g, dport);
    fg_u8(g, proto);
    fg_u64(g, bytes);
    fg_u64(g, pkts);
    fg_u64(g, start_ms);
    fg_u64(g, start_ms + 1000);
}

/* pcap: a file header (Ethernet) and frames of IPv4/UDP datagrams. */
static inline void fg_pcap_header(FILE *f)
{
    uint32_t h[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1};
    fwrite(h, sizeof h, 1, f);
}
static inline void fg_pcap_udp4(FILE *f, uint32_t ts_s, uint32_t src, unsigned sport,
                                uint32_t dst, unsigned dport, const uint8_t *p, size_t len)
{
    uint8_t hdr[42] = {0};
    uint32_t caplen = (uint32_t)(42 + len);
    uint32_t ph[4] = {ts_s, 0, caplen, caplen};
    size_t iplen = 28 + len, ulen = 8 + len;
    hdr[12] = 0x08;
    hdr[14] = 0x45;
    hdr[16] = (uint8_t)(iplen >> 8);
    hdr[17] = (uint8_t)iplen;
    hdr[22] = 64;
    hdr[23] = 17;
    for (int i = 0; i < 4; i++) {
        hdr[26 + i] = (uint8_t)(src >> (24 - 8 * i));
        hdr[30 + i] = (uint8_t)(dst >> (24 - 8 * i));
    }
    hdr[34] = (uint8_t)(sport >> 8);
    hdr[35] = (uint8_t)sport;
    hdr[36] = (uint8_t)(dport >> 8);
    hdr[37] = (uint8_t)dport;
    hdr[38] = (uint8_t)(ulen >> 8);
    hdr[39] = (uint8_t)ulen;
    fwrite(ph, sizeof ph, 1, f);
    fwrite(hdr, sizeof hdr, 1, f);
    fwrite(p, 1, len, f);
}

/* A UDP datagram (header, checksum 0, and p[0..len)) into out; its length. */
static inline size_t fg_udp(uint8_t *out, unsigned sport, unsigned dport, const uint8_t *p,
                            size_t len)
{
    size_t ulen = 8 + len;
    out[0] = (uint8_t)(sport >> 8), out[1] = (uint8_t)sport;
    out[2] = (uint8_t)(dport >> 8), out[3] = (uint8_t)dport;
    out[4] = (uint8_t)(ulen >> 8), out[5] = (uint8_t)ulen, out[6] = out[7] = 0;
    memcpy(out + 8, p, len);
    return ulen;
}

/* An Ethernet frame of one IP fragment of a UDP datagram: bytes p[0..len) at byte offset off
 * (a multiple of 8) of the IP payload, more = not the last.  family 4: src/dst are 4 bytes and
 * id the 16-bit identification; 6: 16 bytes, a fragment header with the 32-bit id. */
static inline void fg_pcap_frag(FILE *f, int family, uint32_t ts_s, const uint8_t *src,
                                const uint8_t *dst, uint32_t id, size_t off, int more,
                                const uint8_t *p, size_t len)
{
    uint8_t hdr[14 + 48] = {0};
    size_t hl = family == 4 ? 20 : 48;
    uint32_t caplen = (uint32_t)(14 + hl + len);
    uint32_t ph[4] = {ts_s, 0, caplen, caplen};
    uint8_t *ip = hdr + 14;
    hdr[12] = family == 4 ? 0x08 : 0x86;
    hdr[13] = family == 4 ? 0x00 : 0xdd;
    if (family == 4) {
        size_t tot = 20 + len;
        unsigned fl = (unsigned)(off / 8) | (more ? 0x2000u : 0);
        ip[0] = 0x45, ip[2] = (uint8_t)(tot >> 8), ip[3] = (uint8_t)tot;
        ip[4] = (uint8_t)(id >> 8), ip[5] = (uint8_t)id;
        ip[6] = (uint8_t)(fl >> 8), ip[7] = (uint8_t)fl, ip[8] = 64, ip[9] = 17;
        memcpy(ip + 12, src, 4);
        memcpy(ip + 16, dst, 4);
    } else {
        size_t plen = 8 + len;
        unsigned fo = (unsigned)off | (more ? 1u : 0);
        ip[0] = 0x60, ip[4] = (uint8_t)(plen >> 8), ip[5] = (uint8_t)plen, ip[6] = 44, ip[7] = 64;
        memcpy(ip + 8, src, 16);
        memcpy(ip + 24, dst, 16);
        ip[40] = 17, ip[42] = (uint8_t)(fo >> 8), ip[43] = (uint8_t)fo;
        ip[44] = (uint8_t)(id >> 24), ip[45] = (uint8_t)(id >> 16), ip[46] = (uint8_t)(id >> 8);
        ip[47] = (uint8_t)id;
    }
    fwrite(ph, sizeof ph, 1, f);
    fwrite(hdr, 14 + hl, 1, f);
    fwrite(p, 1, len, f);
}

#endif
