/*
 * nats_msg.c - chunk ids, result parts and the snapshot pointer (see nats_msg.h).  Everything
 * here reads text that came over the network from any publisher with access to the subjects,
 * so each reader checks lengths and overflow and names what was wrong.
 */
#include "nats_msg.h"
#include "util/json.h"

#include <nettle/sha2.h>
#include <stdio.h>
#include <string.h>

int nats_u64_parse(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    if (len == 0 || len > 19)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0'); /* 19 digits never overflow 64 bits */
    }
    *out = v;
    return 0;
}

static int source_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-';
}

int nats_source_valid(const char *s, size_t len)
{
    if (len == 0 || len > NATS_SOURCE_MAX)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!source_byte((unsigned char)s[i]))
            return 0;
    return 1;
}

void nats_source_from(const char *path, char *out)
{
    size_t len = strlen(path), skip = len > NATS_SOURCE_MAX ? len - NATS_SOURCE_MAX : 0;
    size_t n = 0;
    for (size_t i = skip; i < len; i++)
        out[n++] = source_byte((unsigned char)path[i]) ? path[i] : '_';
    if (n == 0)
        out[n++] = '_';
    out[n] = '\0';
}

int nats_chunk_id_parse(const char *s, size_t len, nats_chunk_id *out, const char **why)
{
    const char *colon = len ? memchr(s, ':', len) : NULL;
    size_t slen;
    if (!colon) {
        *why = "no ':' between source and offset";
        return -1;
    }
    slen = (size_t)(colon - s);
    if (!nats_source_valid(s, slen)) {
        *why = "source is not 1-128 bytes of [A-Za-z0-9_-]";
        return -1;
    }
    if (nats_u64_parse(colon + 1, len - slen - 1, &out->offset) != 0) {
        *why = "offset is not a decimal number";
        return -1;
    }
    memcpy(out->source, s, slen);
    out->source[slen] = '\0';
    return 0;
}

int nats_part_parse(const char *s, size_t len, uint32_t *part, uint32_t *parts)
{
    const char *slash = len ? memchr(s, '/', len) : NULL;
    uint64_t a, b;
    if (!slash || nats_u64_parse(s, (size_t)(slash - s), &a) != 0 ||
        nats_u64_parse(slash + 1, len - (size_t)(slash - s) - 1, &b) != 0 || a < 1 || a > b ||
        b > NATS_PARTS_MAX)
        return -1;
    *part = (uint32_t)a;
    *parts = (uint32_t)b;
    return 0;
}

static int get_u64(const ajson_value *o, const char *key, uint64_t *out)
{
    int64_t v;
    if (ajson_int(ajson_get(o, key), &v) != 1 || v < 0)
        return -1;
    *out = (uint64_t)v;
    return 0;
}

int nats_pointer_parse(const char *json, size_t len, nats_pointer *out, const char **why)
{
    ajson_arena a;
    ajson_error je;
    const ajson_value *o;
    const char *h;
    uint64_t parts;
    int rc = -1;
    ajson_arena_init(&a, 1 << 16);
    memset(out, 0, sizeof *out);
    if (!(o = ajson_parse(&a, json, len, &je)) || o->type != AJSON_OBJECT)
        *why = "not a JSON object";
    else if (get_u64(o, "version", &out->version) != 0 || out->version == 0)
        *why = "version is not a positive integer";
    else if (get_u64(o, "parts", &parts) != 0 || parts == 0 || parts > NATS_PARTS_MAX)
        *why = "parts is not an integer in 1..4096";
    else if (get_u64(o, "bytes", &out->bytes) != 0 || out->bytes > (uint64_t)parts << 20)
        *why = "bytes is not an integer of at most parts MiB";
    else if (!(h = ajson_str(ajson_get(o, "sha256"))) || strlen(h) != 64 ||
             strspn(h, "0123456789abcdef") != 64)
        *why = "sha256 is not 64 lower-case hex digits";
    else {
        out->parts = (uint32_t)parts;
        memcpy(out->sha256, h, 65);
        rc = 0;
    }
    ajson_arena_free(&a);
    return rc;
}

int nats_pointer_format(const nats_pointer *p, char *out, size_t outlen)
{
    int n = snprintf(out, outlen,
                     "{\"version\":%llu,\"parts\":%u,\"bytes\":%llu,\"sha256\":\"%s\"}",
                     (unsigned long long)p->version, (unsigned)p->parts,
                     (unsigned long long)p->bytes, p->sha256);
    return n < 0 || (size_t)n >= outlen ? -1 : n;
}

void nats_sha256_hex(const void *data, size_t len, char out[65])
{
    struct sha256_ctx c;
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_init(&c);
    sha256_update(&c, len, data);
    sha256_digest(&c, sizeof d, d);
    for (int i = 0; i < SHA256_DIGEST_SIZE; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* ------------------------------------------------------------------------------------------ */
/* nkeys: prefix byte(s), key, CRC-16/XMODEM (little-endian), base32 (RFC 4648, unpadded)      */

#define NKEY_PREFIX_SEED (18u << 3)
#define NKEY_PREFIX_USER (20u << 3)

static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

static uint16_t crc16(const uint8_t *p, size_t n)
{
    uint16_t c = 0;
    for (size_t i = 0; i < n; i++) {
        c ^= (uint16_t)(p[i] << 8);
        for (int k = 0; k < 8; k++)
            c = (uint16_t)(c & 0x8000 ? (c << 1) ^ 0x1021 : c << 1);
    }
    return c;
}

/* 58 base32 characters into 36 bytes; -1 on a character outside the alphabet. */
static int b32_decode(const char *s, size_t n, uint8_t *out, size_t outlen)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *c = s[i] ? strchr(b32, s[i]) : NULL;
        if (!c)
            return -1;
        acc = (acc << 5) | (uint32_t)(c - b32);
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            if (k < outlen)
                out[k++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    return k == outlen ? 0 : -1;
}

static void b32_encode(const uint8_t *p, size_t n, char *out)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        acc = (acc << 8) | p[i];
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            out[k++] = b32[(acc >> bits) & 31];
        }
        acc &= (1u << bits) - 1;
    }
    if (bits)
        out[k++] = b32[(acc << (5 - bits)) & 31];
    out[k] = '\0';
}

int nats_nkey_seed_find(const char *text, size_t len, uint8_t seed[32], const char **why)
{
    uint8_t raw[36];
    *why = "no user nkey seed (a line of 58 characters starting with SU)";
    for (size_t i = 0; i < len;) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t n = nl ? (size_t)(nl - text) - i : len - i;
        const char *l = text + i;
        while (n && (l[n - 1] == '\r' || l[n - 1] == ' ' || l[n - 1] == '\t'))
            n--;
        while (n && (*l == ' ' || *l == '\t')) {
            l++;
            n--;
        }
        i += (nl ? (size_t)(nl - (text + i)) + 1 : len - i);
        if (n != NATS_NKEY_SEED_LEN || l[0] != 'S' || l[1] != 'U')
            continue;
        if (b32_decode(l, n, raw, sizeof raw) != 0) {
            *why = "nkey seed is not base32";
            return -1;
        }
        if ((uint16_t)(raw[34] | raw[35] << 8) != crc16(raw, 34)) {
            *why = "nkey seed fails its checksum";
            return -1;
        }
        if ((raw[0] & 0xF8) != NKEY_PREFIX_SEED ||
            (((raw[0] & 7u) << 5) | ((raw[1] & 0xF8u) >> 3)) != NKEY_PREFIX_USER) {
            *why = "not a user nkey seed";
            return -1;
        }
        memcpy(seed, raw + 2, 32);
        return 0;
    }
    return -1;
}

void nats_nkey_user_public(const uint8_t pub[32], char out[NATS_NKEY_PUBLIC_LEN + 1])
{
    uint8_t raw[35];
    uint16_t c;
    raw[0] = NKEY_PREFIX_USER;
    memcpy(raw + 1, pub, 32);
    c = crc16(raw, 33);
    raw[33] = (uint8_t)c;
    raw[34] = (uint8_t)(c >> 8);
    b32_encode(raw, sizeof raw, out);
}

/* ------------------------------------------------------------------------------------------ */
/* Record chunks                                                                               */

int nats_rec_next(const uint8_t *p, size_t len, size_t *off, const uint8_t **rec, size_t *rlen,
                  const char **why)
{
    uint32_t n;
    if (*off >= len)
        return 0;
    if (len - *off < 4) {
        *why = "record length cut short";
        return -1;
    }
    n = (uint32_t)p[*off] << 24 | (uint32_t)p[*off + 1] << 16 | (uint32_t)p[*off + 2] << 8 |
        p[*off + 3];
    if (n > NATS_REC_MAX || n > len - *off - 4) {
        *why = "record longer than what is left of the chunk";
        return -1;
    }
    *rec = p + *off + 4;
    *rlen = n;
    *off += 4 + (size_t)n;
    return 1;
}

void nats_rec_len(uint32_t rlen, uint8_t out[4])
{
    out[0] = (uint8_t)(rlen >> 24);
    out[1] = (uint8_t)(rlen >> 16);
    out[2] = (uint8_t)(rlen >> 8);
    out[3] = (uint8_t)rlen;
}

static uint8_t *put_le(uint8_t *o, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        *o++ = (uint8_t)(v >> (8 * i));
    return o;
}

static uint64_t get_le(const uint8_t **p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)(*p)[i] << (8 * i);
    *p += n;
    return v;
}

/* layout: version family proto nat_family has_ports has_nat_ports nat_event exporter_family,
 * src dst xsrc xdst exporter_addr (16 each), sport dport xsport xdport exporter_port template_id
 * (2 each), bytes packets start_ms end_ms export_s (8 each), sampling domain (4 each) */
void nats_flow_put(const flow_rec *r, uint8_t out[NATS_FLOW_REC_LEN])
{
    static const uint8_t zero[16];
    const flow_exporter *e = r->exporter;
    uint8_t *o = out;
    *o++ = r->version;
    *o++ = r->family;
    *o++ = r->proto;
    *o++ = r->nat_family;
    *o++ = r->has_ports;
    *o++ = r->has_nat_ports;
    *o++ = r->nat_event;
    *o++ = e ? e->family : 0;
    memcpy(o, r->src, 16);
    memcpy(o + 16, r->dst, 16);
    memcpy(o + 32, r->xsrc, 16);
    memcpy(o + 48, r->xdst, 16);
    memcpy(o + 64, e ? e->addr : zero, 16);
    o += 80;
    o = put_le(o, r->sport, 2);
    o = put_le(o, r->dport, 2);
    o = put_le(o, r->xsport, 2);
    o = put_le(o, r->xdport, 2);
    o = put_le(o, e ? e->port : 0, 2);
    o = put_le(o, r->template_id, 2);
    o = put_le(o, r->bytes, 8);
    o = put_le(o, r->packets, 8);
    o = put_le(o, (uint64_t)r->start_ms, 8);
    o = put_le(o, (uint64_t)r->end_ms, 8);
    o = put_le(o, (uint64_t)r->export_s, 8);
    o = put_le(o, r->sampling, 4);
    put_le(o, r->domain, 4);
}

static int family_ok(uint8_t f)
{
    return f == 0 || f == 4 || f == 6;
}

int nats_flow_get(const uint8_t *p, size_t len, flow_rec *r, flow_exporter *e, const char **why)
{
    memset(r, 0, sizeof *r);
    memset(e, 0, sizeof *e);
    if (len != NATS_FLOW_REC_LEN) {
        *why = "flow record of the wrong length";
        return -1;
    }
    if (p[0] != 5 && p[0] != 9 && p[0] != 10) {
        *why = "flow record of an unknown version";
        return -1;
    }
    if (!family_ok(p[1]) || !family_ok(p[3]) || !family_ok(p[7])) {
        *why = "flow record with an unknown address family";
        return -1;
    }
    r->version = p[0];
    r->family = p[1];
    r->proto = p[2];
    r->nat_family = p[3];
    r->has_ports = p[4] != 0;
    r->has_nat_ports = p[5] != 0;
    r->nat_event = p[6];
    e->family = p[7];
    p += 8;
    memcpy(r->src, p, 16);
    memcpy(r->dst, p + 16, 16);
    memcpy(r->xsrc, p + 32, 16);
    memcpy(r->xdst, p + 48, 16);
    memcpy(e->addr, p + 64, 16);
    p += 80;
    r->sport = (uint16_t)get_le(&p, 2);
    r->dport = (uint16_t)get_le(&p, 2);
    r->xsport = (uint16_t)get_le(&p, 2);
    r->xdport = (uint16_t)get_le(&p, 2);
    e->port = (uint16_t)get_le(&p, 2);
    r->template_id = (uint16_t)get_le(&p, 2);
    r->bytes = get_le(&p, 8);
    r->packets = get_le(&p, 8);
    r->start_ms = (int64_t)get_le(&p, 8);
    r->end_ms = (int64_t)get_le(&p, 8);
    r->export_s = (int64_t)get_le(&p, 8);
    r->sampling = (uint32_t)get_le(&p, 4);
    r->domain = (uint32_t)get_le(&p, 4);
    r->exporter = e->family ? e : NULL;
    /* times stay where the matcher's arithmetic on them (ms, us) cannot overflow */
    if (r->start_ms < -1000000000000000LL || r->start_ms > 1000000000000000LL ||
        r->end_ms < -1000000000000000LL || r->end_ms > 1000000000000000LL ||
        r->export_s < -1000000000000LL || r->export_s > 1000000000000LL) {
        *why = "flow record with a time out of range";
        return -1;
    }
    return 0;
}
