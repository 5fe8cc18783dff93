/*
 * dnstap.h - DNS resolver traffic as dnstap (https://dnstap.info): Frame Streams framing, the
 * dnstap protobuf message (schema: dnstap.proto) and the DNS wire format inside it, decoded by
 * hand without allocation (dnstap.c).
 *
 * Everything points into the caller's bytes; nothing is copied except domain names, which are
 * written as lower-case text into caller-provided buffers.
 */
#ifndef ACCORD_DNSTAP_H
#define ACCORD_DNSTAP_H

#include <stddef.h>
#include <stdint.h>

#define DNSTAP_CONTENT_TYPE "protobuf:dnstap.Dnstap"

/* Frame Streams control frame types. */
enum { FSTRM_ACCEPT = 1, FSTRM_START = 2, FSTRM_STOP = 3, FSTRM_READY = 4, FSTRM_FINISH = 5 };

/* One dnstap Message (fields absent are 0 / NULL). */
typedef struct dnstap_msg {
    uint32_t type;   /* Message.Type: 1 AUTH_QUERY ... 6 CLIENT_RESPONSE ... 14 */
    uint32_t family; /* 1 INET, 2 INET6 */
    uint32_t protocol;
    const uint8_t *query_addr, *response_addr; /* 4 or 16 bytes */
    size_t query_addr_len, response_addr_len;
    uint32_t query_port, response_port;
    uint64_t query_time_sec, response_time_sec;
    uint32_t query_time_nsec, response_time_nsec;
    const uint8_t *query_msg, *response_msg; /* DNS wire format */
    size_t query_msg_len, response_msg_len;
    const uint8_t *identity;
    size_t identity_len;
} dnstap_msg;

/* Decodes one Dnstap protobuf p[0..len) into *m.  0, or -1 with *why when it is not one (wire
 * type errors, lengths past the end, a missing Message). */
int dnstap_decode(const uint8_t *p, size_t len, dnstap_msg *m, const char **why);

/* 1 for the *_QUERY types, 0 for responses. */
int dnstap_is_query(uint32_t type);
/* "CQ", "CR", "RQ" ... as dnstap-ldns prints them; "??" for unknown types. */
const char *dnstap_type_code(uint32_t type);
/* "CLIENT_QUERY" ..., "UNKNOWN". */
const char *dnstap_type_name(uint32_t type);

/* ------------------------------------------------------------------------------------------ */
/* DNS wire format                                                                              */

#define DNS_NAME_MAX 256 /* text of a name, with room for the NUL */

enum { DNS_QNAME = 1, DNS_A, DNS_AAAA, DNS_CNAME, DNS_MX, DNS_NS, DNS_PTR };

/* One value found in a DNS message: a name (question, CNAME/MX/NS/PTR target) or an address. */
typedef struct dns_item {
    int kind;           /* DNS_* */
    uint16_t qtype;     /* DNS_QNAME: the question's type */
    char name[DNS_NAME_MAX]; /* the owner name (DNS_A/AAAA) or the name itself, lower case,
                                no trailing dot, "" for the root */
    size_t name_len;
    char target[DNS_NAME_MAX]; /* CNAME/MX/NS/PTR target */
    size_t target_len;
    uint8_t addr[16]; /* DNS_A: 4 bytes, DNS_AAAA: 16 */
} dns_item;

typedef void (*dns_item_cb)(void *ud, const dns_item *it);

/*
 * Walks DNS message p[0..len): the question and the answer section's A, AAAA, CNAME, MX, NS and
 * PTR records, calling cb for each.  Names follow compression pointers (at most 64 jumps, only
 * backwards).  Returns 0, or -1 with *why when the message is malformed (the items before the
 * fault were delivered).
 */
int dnstap_dns_walk(const uint8_t *p, size_t len, dns_item_cb cb, void *ud, const char **why);
/* The mnemonic of an RR type ("A", "AAAA", "TYPE65" into buf otherwise). */
const char *dnstap_dns_type(uint16_t type, char *buf, size_t cap);

/* ------------------------------------------------------------------------------------------ */
/* Frame Streams                                                                                */

/*
 * An incremental Frame Streams reader: feed bytes as they come (a file, a socket), get data
 * frames and control frames.  A data frame is a 4-byte big-endian length > 0 and its bytes; a
 * control frame is a 0 length, a 4-byte control length, a 4-byte type and fields (type 1 =
 * content type: 4-byte length and text).
 */
typedef struct dnstap_reader {
    size_t max_frame; /* frames above this are an error; default 1 MiB */
    int started;      /* a START was seen */
    int stopped;      /* a STOP was seen */
    int content_ok;   /* START/READY named DNSTAP_CONTENT_TYPE (or no content type) */
    uint64_t frames, controls;
} dnstap_reader;

typedef struct dnstap_frame {
    int control;       /* 0 data, else the FSTRM_* type */
    const uint8_t *p;  /* data frame payload */
    size_t len;
} dnstap_frame;

/*
 * Reads the next frame of p[0..len) into *f.  Returns the bytes it took (> 0), 0 when more bytes
 * are needed, or -1 with *why when the stream is broken (a frame over max_frame, a control frame
 * that lies about its length, a START of another content type).
 */
long dnstap_frame_next(dnstap_reader *r, const uint8_t *p, size_t len, dnstap_frame *f, const char **why);
/* Writes a control frame of type `type` with the dnstap content type into out (cap >= 64);
 * returns its length. */
size_t dnstap_frame_control(int type, uint8_t *out, size_t cap);

#endif
