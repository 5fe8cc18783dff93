/*
 * dnstapgen.h - writes dnstap messages (protobuf by hand), the DNS messages inside them and
 * Frame Streams files, for the dnstap decoder's tests, benchmark and fuzz seeds.  Header-only.
 */
#ifndef ACCORD_TEST_DNSTAPGEN_H
#define ACCORD_TEST_DNSTAPGEN_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef struct dgen {
    uint8_t b[4096];
    size_t len;
} dgen;

static inline void dg_byte(dgen *g, unsigned v)
{
    if (g->len < sizeof g->b)
        g->b[g->len++] = (uint8_t)v;
}
static inline void dg_varint(dgen *g, uint64_t v)
{
    while (v >= 0x80) {
        dg_byte(g, (unsigned)(v & 0x7f) | 0x80);
        v >>= 7;
    }
    dg_byte(g, (unsigned)v);
}
static inline void dg_key(dgen *g, unsigned field, unsigned wt)
{
    dg_varint(g, (uint64_t)field << 3 | wt);
}
static inline void dg_bytes(dgen *g, unsigned field, const void *p, size_t n)
{
    dg_key(g, field, 2);
    dg_varint(g, n);
    for (size_t i = 0; i < n; i++)
        dg_byte(g, ((const uint8_t *)p)[i]);
}
static inline void dg_uint(dgen *g, unsigned field, uint64_t v)
{
    dg_key(g, field, 0);
    dg_varint(g, v);
}
static inline void dg_fixed32(dgen *g, unsigned field, uint32_t v)
{
    dg_key(g, field, 5);
    for (int i = 0; i < 4; i++)
        dg_byte(g, (v >> (8 * i)) & 0xff);
}

/* A DNS message: one question for name/qtype and, when addr4 is given, one A answer (with
 * compression), or a CNAME answer when cname is given. */
static inline size_t dg_dns(uint8_t *out, size_t cap, uint16_t id, int response, const char *name,
                            uint16_t qtype, const uint8_t *addr4, const char *cname)
{
    size_t n = 0;
    uint8_t h[12] = {(uint8_t)(id >> 8), (uint8_t)id, response ? 0x81 : 0x01, response ? 0x80 : 0,
                     0, 1, 0, (uint8_t)(response && (addr4 || cname) ? 1 : 0), 0, 0, 0, 0};
    if (cap < 600)
        return 0;
    memcpy(out, h, 12);
    n = 12;
    for (const char *s = name; *s;) {
        const char *dot = strchr(s, '.');
        size_t l = dot ? (size_t)(dot - s) : strlen(s);
        out[n++] = (uint8_t)l;
        memcpy(out + n, s, l);
        n += l;
        s += l + (dot ? 1 : 0);
    }
    out[n++] = 0;
    out[n++] = (uint8_t)(qtype >> 8), out[n++] = (uint8_t)qtype;
    out[n++] = 0, out[n++] = 1;
    if (response && (addr4 || cname)) {
        out[n++] = 0xc0, out[n++] = 12; /* the question's name */
        out[n++] = 0, out[n++] = cname ? 5 : 1;
        out[n++] = 0, out[n++] = 1;
        out[n++] = 0, out[n++] = 0, out[n++] = 1, out[n++] = 0;
        if (cname) {
            size_t at = n;
            n += 2;
            for (const char *s = cname; *s;) {
                const char *dot = strchr(s, '.');
                size_t l = dot ? (size_t)(dot - s) : strlen(s);
                out[n++] = (uint8_t)l;
                memcpy(out + n, s, l);
                n += l;
                s += l + (dot ? 1 : 0);
            }
            out[n++] = 0;
            out[at] = (uint8_t)((n - at - 2) >> 8);
            out[at + 1] = (uint8_t)(n - at - 2);
        } else {
            out[n++] = 0, out[n++] = 4;
            memcpy(out + n, addr4, 4);
            n += 4;
        }
    }
    return n;
}

/* A Dnstap protobuf: CLIENT_QUERY (5) or CLIENT_RESPONSE (6) from client4:port. */
static inline void dg_dnstap(dgen *g, unsigned type, const uint8_t client4[4], unsigned port,
                             uint64_t sec, uint32_t nsec, const uint8_t *dns, size_t dns_len)
{
    dgen m = {.len = 0};
    static const uint8_t server[4] = {127, 0, 0, 1};
    dg_uint(&m, 1, type);
    dg_uint(&m, 2, 1);
    dg_uint(&m, 3, 1);
    dg_bytes(&m, 4, client4, 4);
    dg_bytes(&m, 5, server, 4);
    dg_uint(&m, 6, port);
    dg_uint(&m, 7, 53);
    if (type % 2) {
        dg_uint(&m, 8, sec);
        dg_fixed32(&m, 9, nsec);
        dg_bytes(&m, 10, dns, dns_len);
    } else {
        dg_uint(&m, 12, sec);
        dg_fixed32(&m, 13, nsec);
        dg_bytes(&m, 14, dns, dns_len);
    }
    g->len = 0;
    dg_bytes(g, 1, "accord-test", 11);
    dg_bytes(g, 14, m.b, m.len);
    dg_uint(g, 15, 1);
}

/* Frame Streams file framing. */
static inline void dg_fstrm_start(FILE *f)
{
    static const char ct[] = "protobuf:dnstap.Dnstap";
    uint8_t h[12 + 8 + sizeof ct - 1];
    uint32_t clen = (uint32_t)(4 + 8 + sizeof ct - 1), ctl = (uint32_t)(sizeof ct - 1);
    memset(h, 0, 4);
    h[4] = (uint8_t)(clen >> 24), h[5] = (uint8_t)(clen >> 16), h[6] = (uint8_t)(clen >> 8),
    h[7] = (uint8_t)clen;
    h[8] = 0, h[9] = 0, h[10] = 0, h[11] = 2;
    h[12] = 0, h[13] = 0, h[14] = 0, h[15] = 1;
    h[16] = (uint8_t)(ctl >> 24), h[17] = (uint8_t)(ctl >> 16), h[18] = (uint8_t)(ctl >> 8),
    h[19] = (uint8_t)ctl;
    memcpy(h + 20, ct, sizeof ct - 1);
    fwrite(h, sizeof h, 1, f);
}
static inline void dg_fstrm_frame(FILE *f, const uint8_t *p, size_t n)
{
    uint8_t l[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
    fwrite(l, 4, 1, f);
    fwrite(p, 1, n, f);
}
static inline void dg_fstrm_stop(FILE *f)
{
    static const uint8_t stop[12] = {0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 3};
    fwrite(stop, sizeof stop, 1, f);
}

#endif
