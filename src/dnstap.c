/*
 * dnstap.c - dnstap messages decoded by hand: Frame Streams frames, the protobuf of dnstap.proto
 * (only the fields accord reads), and the DNS messages they carry.
 *
 * Why by hand: a dnstap message is a few varints and length-delimited fields; protobuf-c would
 * allocate a tree per message and unpack fields accord never reads.  The decoder here walks the
 * wire format once, keeps pointers into the frame, and skips unknown fields by their wire type,
 * so newer schema fields (policy, http_protocol) pass through unread.
 *
 * Protobuf wire format (https://protobuf.dev/programming-guides/encoding/):
 *   key = varint (field << 3 | wire type); wire types 0 varint, 1 fixed64, 2 length-delimited,
 *   5 fixed32; 3/4 (groups) are refused.
 *
 *   Dnstap    1 identity (bytes) 2 version 3 extra 14 message (Message) 15 type (enum)
 *   Message   1 type  2 socket_family  3 socket_protocol  4 query_address  5 response_address
 *             6 query_port  7 response_port  8 query_time_sec  9 query_time_nsec (fixed32)
 *             10 query_message  11 query_zone  12 response_time_sec  13 response_time_nsec
 *             14 response_message
 *
 * DNS names are read into fixed buffers: labels are lower-cased and joined with dots; a label
 * holding a dot or a byte outside 0x21..0x7e makes the name unusable for matching, so such names
 * are reported as malformed rather than mangled.
 */
#include "dnstap.h"

#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* Protobuf                                                                                     */

/* Reads a varint at *pos; 0 or -1. */
static int varint(const uint8_t *p, size_t len, size_t *pos, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (*pos >= len)
            return -1;
        uint8_t b = p[(*pos)++];
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

typedef struct pbfield {
    uint32_t num, wt;
    uint64_t v;         /* varint, fixed32, fixed64 */
    const uint8_t *p;   /* length-delimited */
    size_t len;
} pbfield;

/* The next field at *pos; 1, 0 at the end, -1 when malformed. */
static int pb_next(const uint8_t *p, size_t len, size_t *pos, pbfield *f, const char **why)
{
    uint64_t key;
    if (*pos >= len)
        return 0;
    if (varint(p, len, pos, &key) || key >> 3 == 0 || key >> 3 > 0x1fffffff) {
        *why = "protobuf: bad field key";
        return -1;
    }
    f->num = (uint32_t)(key >> 3);
    f->wt = (uint32_t)(key & 7);
    switch (f->wt) {
    case 0:
        if (varint(p, len, pos, &f->v)) {
            *why = "protobuf: varint past the end";
            return -1;
        }
        return 1;
    case 1:
    case 5: {
        size_t n = f->wt == 1 ? 8 : 4;
        if (len - *pos < n) {
            *why = "protobuf: fixed field past the end";
            return -1;
        }
        f->v = 0;
        for (size_t i = n; i-- > 0;)
            f->v = f->v << 8 | p[*pos + i];
        *pos += n;
        return 1;
    }
    case 2: {
        uint64_t n;
        if (varint(p, len, pos, &n) || n > len - *pos) {
            *why = "protobuf: length past the end";
            return -1;
        }
        f->p = p + *pos;
        f->len = (size_t)n;
        *pos += (size_t)n;
        return 1;
    }
    default:
        *why = "protobuf: unsupported wire type";
        return -1;
    }
}

static int decode_message(const uint8_t *p, size_t len, dnstap_msg *m, const char **why)
{
    size_t pos = 0;
    pbfield f;
    int rc;
    while ((rc = pb_next(p, len, &pos, &f, why)) == 1) {
        int bytes = f.wt == 2, num = f.wt == 0 || f.wt == 5 || f.wt == 1;
        switch (f.num) {
        case 1: if (num) m->type = (uint32_t)f.v; break;
        case 2: if (num) m->family = (uint32_t)f.v; break;
        case 3: if (num) m->protocol = (uint32_t)f.v; break;
        case 4: if (bytes) m->query_addr = f.p, m->query_addr_len = f.len; break;
        case 5: if (bytes) m->response_addr = f.p, m->response_addr_len = f.len; break;
        case 6: if (num) m->query_port = (uint32_t)f.v; break;
        case 7: if (num) m->response_port = (uint32_t)f.v; break;
        case 8: if (num) m->query_time_sec = f.v; break;
        case 9: if (num) m->query_time_nsec = (uint32_t)f.v; break;
        case 10: if (bytes) m->query_msg = f.p, m->query_msg_len = f.len; break;
        case 12: if (num) m->response_time_sec = f.v; break;
        case 13: if (num) m->response_time_nsec = (uint32_t)f.v; break;
        case 14: if (bytes) m->response_msg = f.p, m->response_msg_len = f.len; break;
        default: break;
        }
    }
    return rc;
}

int dnstap_decode(const uint8_t *p, size_t len, dnstap_msg *m, const char **why)
{
    size_t pos = 0;
    pbfield f = {0};
    int rc, have = 0;
    memset(m, 0, sizeof *m);
    *why = NULL;
    while ((rc = pb_next(p, len, &pos, &f, why)) == 1) {
        if (f.num == 1 && f.wt == 2) {
            m->identity = f.p;
            m->identity_len = f.len;
        } else if (f.num == 14 && f.wt == 2) {
            if (decode_message(f.p, f.len, m, why) < 0)
                return -1;
            have = 1;
        }
    }
    if (rc < 0)
        return -1;
    if (!have) {
        *why = "dnstap: no Message";
        return -1;
    }
    return 0;
}

int dnstap_is_query(uint32_t type)
{
    return type % 2 == 1;
}

const char *dnstap_type_code(uint32_t type)
{
    static const char *codes[] = {"??", "AQ", "AR", "RQ", "RR", "CQ", "CR", "FQ",
                                  "FR", "SQ", "SR", "TQ", "TR", "UQ", "UR"};
    return type < sizeof codes / sizeof *codes ? codes[type] : "??";
}

const char *dnstap_type_name(uint32_t type)
{
    static const char *names[] = {"UNKNOWN",           "AUTH_QUERY",      "AUTH_RESPONSE",
                                  "RESOLVER_QUERY",    "RESOLVER_RESPONSE", "CLIENT_QUERY",
                                  "CLIENT_RESPONSE",   "FORWARDER_QUERY", "FORWARDER_RESPONSE",
                                  "STUB_QUERY",        "STUB_RESPONSE",   "TOOL_QUERY",
                                  "TOOL_RESPONSE",     "UPDATE_QUERY",    "UPDATE_RESPONSE"};
    return type < sizeof names / sizeof *names ? names[type] : "UNKNOWN";
}

/* ------------------------------------------------------------------------------------------ */
/* DNS                                                                                          */

/*
 * Reads the name at *pos into out (lower case, dotted, no trailing dot); *pos moves past the
 * name as written (the first pointer ends it).  0, 1 when it is a valid name that is not usable
 * as text (odd bytes), -1 when malformed.
 */
static int dns_name(const uint8_t *p, size_t len, size_t *pos, char *out, size_t *outlen)
{
    size_t at = *pos, n = 0, end = 0;
    int jumps = 0, odd = 0;
    for (;;) {
        if (at >= len)
            return -1;
        uint8_t l = p[at];
        if ((l & 0xc0) == 0xc0) {
            if (at + 1 >= len)
                return -1;
            size_t to = (size_t)(l & 0x3f) << 8 | p[at + 1];
            if (!end)
                end = at + 2;
            if (to >= at || ++jumps > 64)
                return -1;
            at = to;
            continue;
        }
        if (l & 0xc0)
            return -1;
        if (l == 0) {
            if (!end)
                end = at + 1;
            break;
        }
        if (len - at - 1 < l || n + l + 1 >= DNS_NAME_MAX)
            return -1;
        if (n)
            out[n++] = '.';
        for (size_t i = 0; i < l; i++) {
            uint8_t c = p[at + 1 + i];
            if (c <= 0x20 || c >= 0x7f || c == '.')
                odd = 1;
            out[n++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
        at += 1 + (size_t)l;
    }
    out[n] = 0;
    *outlen = n;
    *pos = end;
    return odd;
}

const char *dnstap_dns_type(uint16_t type, char *buf, size_t cap)
{
    switch (type) {
    case 1: return "A";
    case 2: return "NS";
    case 5: return "CNAME";
    case 6: return "SOA";
    case 12: return "PTR";
    case 15: return "MX";
    case 16: return "TXT";
    case 28: return "AAAA";
    case 33: return "SRV";
    case 65: return "HTTPS";
    case 255: return "ANY";
    default:
        snprintf(buf, cap, "TYPE%u", type);
        return buf;
    }
}

int dnstap_dns_walk(const uint8_t *p, size_t len, dns_item_cb cb, void *ud, const char **why)
{
    dns_item it;
    size_t pos = 12;
    *why = NULL;
    if (len < 12) {
        *why = "DNS header cut short";
        return -1;
    }
    unsigned qd = (unsigned)p[4] << 8 | p[5], an = (unsigned)p[6] << 8 | p[7];
    char owner[DNS_NAME_MAX];
    size_t owner_len = 0;
    for (unsigned i = 0; i < qd; i++) {
        int rc = dns_name(p, len, &pos, it.name, &it.name_len);
        if (rc < 0 || len - pos < 4) {
            *why = "DNS question malformed";
            return -1;
        }
        it.kind = DNS_QNAME;
        it.qtype = (uint16_t)(p[pos] << 8 | p[pos + 1]);
        it.target_len = 0;
        pos += 4;
        if (rc == 0)
            cb(ud, &it);
    }
    for (unsigned i = 0; i < an; i++) {
        int rc = dns_name(p, len, &pos, owner, &owner_len);
        if (rc < 0 || len - pos < 10) {
            *why = "DNS answer malformed";
            return -1;
        }
        uint16_t type = (uint16_t)(p[pos] << 8 | p[pos + 1]);
        size_t rdlen = (size_t)p[pos + 8] << 8 | p[pos + 9];
        pos += 10;
        if (len - pos < rdlen) {
            *why = "DNS record data past the end";
            return -1;
        }
        size_t rd = pos, rend = pos + rdlen;
        pos = rend;
        if (rc)
            continue;
        it.kind = 0;
        it.target_len = 0;
        if ((type == 1 && rdlen == 4) || (type == 28 && rdlen == 16)) {
            it.kind = type == 1 ? DNS_A : DNS_AAAA;
            memcpy(it.addr, p + rd, rdlen);
        } else if (type == 5 || type == 15 || type == 2 || type == 12) {
            size_t tp = rd + (type == 15 ? 2 : 0);
            if (tp > rend) {
                *why = "DNS MX record cut short";
                return -1;
            }
            int trc = dns_name(p, rend, &tp, it.target, &it.target_len);
            if (trc < 0) {
                *why = "DNS record target malformed";
                return -1;
            }
            if (trc)
                continue;
            it.kind = type == 5 ? DNS_CNAME : type == 15 ? DNS_MX : type == 2 ? DNS_NS : DNS_PTR;
        } else {
            continue;
        }
        memcpy(it.name, owner, owner_len + 1);
        it.name_len = owner_len;
        it.qtype = type;
        cb(ud, &it);
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Frame Streams                                                                                */

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

long dnstap_frame_next(dnstap_reader *r, const uint8_t *p, size_t len, dnstap_frame *f, const char **why)
{
    size_t max = r->max_frame ? r->max_frame : (1u << 20);
    *why = NULL;
    if (len < 4)
        return 0;
    uint32_t n = be32(p);
    if (n) {
        if (n > max) {
            *why = "Frame Streams: data frame larger than the limit";
            return -1;
        }
        if (len - 4 < n)
            return 0;
        f->control = 0;
        f->p = p + 4;
        f->len = n;
        r->frames++;
        return (long)(4 + n);
    }
    if (len < 8)
        return 0;
    uint32_t clen = be32(p + 4);
    if (clen < 4 || clen > 4096) {
        *why = "Frame Streams: control frame length out of range";
        return -1;
    }
    if (len - 8 < clen)
        return 0;
    uint32_t type = be32(p + 8);
    if (type < FSTRM_ACCEPT || type > FSTRM_FINISH) {
        *why = "Frame Streams: unknown control frame";
        return -1;
    }
    /* fields: type 1 (content type), length, text */
    int named = 0, ok = 0;
    for (size_t at = 12; at < 8 + (size_t)clen;) {
        if (8 + (size_t)clen - at < 8) {
            *why = "Frame Streams: control field cut short";
            return -1;
        }
        uint32_t ft = be32(p + at), fl = be32(p + at + 4);
        if (fl > 8 + (size_t)clen - at - 8) {
            *why = "Frame Streams: control field longer than its frame";
            return -1;
        }
        if (ft == 1) {
            named = 1;
            ok |= fl == sizeof DNSTAP_CONTENT_TYPE - 1 &&
                  memcmp(p + at + 8, DNSTAP_CONTENT_TYPE, fl) == 0;
        }
        at += 8 + (size_t)fl;
    }
    if ((type == FSTRM_START || type == FSTRM_READY) && named && !ok) {
        *why = "Frame Streams: content type is not " DNSTAP_CONTENT_TYPE;
        return -1;
    }
    if (type == FSTRM_START) {
        r->started = 1;
        r->content_ok = 1;
    } else if (type == FSTRM_STOP) {
        r->stopped = 1;
    }
    r->controls++;
    f->control = (int)type;
    f->p = NULL;
    f->len = 0;
    return (long)(8 + clen);
}

size_t dnstap_frame_control(int type, uint8_t *out, size_t cap)
{
    size_t ct = sizeof DNSTAP_CONTENT_TYPE - 1;
    int with = type != FSTRM_STOP && type != FSTRM_FINISH;
    size_t clen = 4 + (with ? 8 + ct : 0);
    if (cap < 8 + clen)
        return 0;
    put32(out, 0);
    put32(out + 4, (uint32_t)clen);
    put32(out + 8, (uint32_t)type);
    if (with) {
        put32(out + 12, 1);
        put32(out + 16, (uint32_t)ct);
        memcpy(out + 20, DNSTAP_CONTENT_TYPE, ct);
    }
    return 8 + clen;
}
