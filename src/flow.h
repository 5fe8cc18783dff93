/*
 * flow.h - flow records from routers and CGNAT boxes: NetFlow v5, NetFlow v9 (RFC 3954) and
 * IPFIX (RFC 7011), decoded into one fixed record the matcher reads (flow.c), and their
 * containers: pcap files of exporters' UDP datagrams, IPFIX files (RFC 5655), a UDP socket
 * (flow_io.c).
 *
 * A decoder keeps the state of every exporter it has heard: templates keyed by (exporter
 * address, observation domain / source id, template id), sampling from options data, the next
 * expected sequence number, and data sets waiting for their template.  It is one thread's
 * object; a collector with several threads gives each its own (SO_REUSEPORT sends one exporter
 * to one socket, so an exporter's templates and data meet in one decoder).
 *
 * Nothing is allocated per record: a record is a struct on the decoder's stack handed to a
 * callback, valid only during the call.
 */
#ifndef ACCORD_FLOW_H
#define ACCORD_FLOW_H

#include <stddef.h>
#include <stdint.h>

/* Who sent a message: the exporter's address (IPv4 in the first 4 bytes) and port. */
typedef struct flow_exporter {
    uint8_t family; /* 4 or 6 */
    uint8_t addr[16];
    uint16_t port;
} flow_exporter;

/* One decoded flow record.  Address families are 0 when the record had no such field. */
typedef struct flow_rec {
    uint8_t version;    /* 5, 9 or 10 */
    uint8_t family;     /* 4 or 6: of src/dst (IEs 8/12 or 27/28) */
    uint8_t proto;      /* protocolIdentifier (4) */
    uint8_t nat_family; /* 4 or 6 when post-NAT addresses (225/226, 281/282) are present */
    uint8_t has_ports, has_nat_ports;
    uint8_t nat_event; /* natEvent (230), 0 when absent */
    uint8_t src[16], dst[16];
    uint16_t sport, dport;         /* sourceTransportPort (7), destinationTransportPort (11) */
    uint8_t xsrc[16], xdst[16];    /* post-NAT source / destination address */
    uint16_t xsport, xdport;       /* postNAPTSource/DestinationTransportPort (227, 228) */
    uint64_t bytes, packets;       /* octetDeltaCount (1) / packetDeltaCount (2), or totals */
    int64_t start_ms, end_ms;      /* flow start / end, ms since the epoch; 0 when unknown */
    int64_t export_s;              /* the message's export time */
    uint32_t sampling;             /* 1-in-N packet sampling of the exporter; 0 = unknown */
    uint32_t domain;               /* observation domain / source id */
    uint16_t template_id;          /* 0 for NetFlow v5 */
    const flow_exporter *exporter; /* the sender */
} flow_rec;

typedef void (*flow_rec_cb)(void *ud, const flow_rec *r);

/* Counters of a decoder (since it was made). */
typedef struct flow_stats {
    uint64_t messages, records, bytes;
    uint64_t templates, templates_replaced, templates_withdrawn, templates_expired;
    uint64_t options_records;
    uint64_t malformed;        /* messages or sets that could not be read (the rest was kept) */
    uint64_t no_template;      /* data sets that never met their template */
    uint64_t pending;          /* data sets that came before their template */
    uint64_t pending_dropped;  /* of those, dropped: larger than the buffer, or pushed out */
    uint64_t pending_replayed; /* buffered data sets decoded once their template came */
    uint64_t seq_lost;         /* records (IPFIX, v5) or packets (v9) missing by sequence */
    uint64_t seq_reordered;    /* messages whose sequence number went backwards */
    uint64_t exporters;        /* (exporter, domain) sources seen */
    uint64_t not_flow;         /* datagrams that are not NetFlow v5/v9 or IPFIX */
} flow_stats;

typedef struct flow_decoder flow_decoder;

/* Limits and behaviour of a decoder; zeroes take the defaults. */
typedef struct flow_opts {
    int udp;                   /* templates expire (the sender resends them over UDP) */
    uint32_t template_timeout; /* seconds of export time; default 1800 (RFC 7011 8.4) */
    size_t pending_max_bytes;  /* data sets waiting for a template; default 1 MiB */
    size_t max_templates;      /* default 65536 */
} flow_opts;

/* A new decoder (opts may be NULL).  0, or ACCORD_ENOMEM. */
int flow_decoder_new(const flow_opts *opts, flow_decoder **out);
void flow_decoder_free(flow_decoder *d);

/*
 * Decodes one message: a UDP datagram's payload, or one message of an IPFIX file, from exporter
 * `exp`, calling cb for every data record (cb may be NULL).  Returns 0, or ACCORD_EINVAL when
 * some of the message could not be read: what came before is kept, the reason (static text) and
 * the byte offset are in flow_decoder_error.  Never reads outside p[0..len).
 */
int flow_decode(flow_decoder *d, const flow_exporter *exp, const uint8_t *p, size_t len,
                flow_rec_cb cb, void *ud);
/* The reason and offset of the last ACCORD_EINVAL. */
const char *flow_decoder_error(const flow_decoder *d, size_t *offset);
void flow_decoder_stats(const flow_decoder *d, flow_stats *out);
/* The sampling interval recorded for (exporter, domain), 0 when none. */
uint32_t flow_decoder_sampling(const flow_decoder *d, const flow_exporter *exp, uint32_t domain);

/* ------------------------------------------------------------------------------------------ */
/* Containers (flow_io.c)                                                                       */

/* One UDP datagram found in a capture. */
typedef struct flow_datagram {
    flow_exporter src;
    uint16_t dport;
    int64_t time_us; /* capture time */
    const uint8_t *p;
    size_t len;
} flow_datagram;

typedef struct flow_pcap_stats {
    uint64_t packets, udp, skipped_other, truncated;
    uint64_t fragments;         /* IP fragments seen */
    uint64_t reassembled;       /* UDP datagrams made of fragments (counted in udp too) */
    uint64_t skipped_fragments; /* fragments of datagrams that could not be reassembled */
} flow_pcap_stats;

typedef void (*flow_datagram_cb)(void *ud, const flow_datagram *dg);

/*
 * Walks a pcap or pcapng file held in p[0..len) (either byte order, micro- or nanosecond; link
 * types Ethernet with VLAN tags, Linux cooked v1/v2, raw IP, BSD loopback) and calls cb for every
 * UDP datagram over IPv4 or IPv6, fragmented ones once reassembled (dg->p then points into the
 * walk's own buffer, valid during the call).  Returns 0, or ACCORD_EINVAL with why (static
 * text) and *offset set when the file is not a pcap or is cut short (datagrams before the fault
 * were delivered).
 */
int flow_pcap_walk(const uint8_t *p, size_t len, flow_datagram_cb cb, void *ud,
                   flow_pcap_stats *st, const char **why, size_t *offset);

/*
 * Walks an IPFIX file (RFC 5655: IPFIX messages back to back) in p[0..len), calling
 * flow_decode for each with exporter exp.  Returns 0, or ACCORD_EINVAL with why and *offset
 * when a message header is broken or a message is cut short (the messages before it are
 * decoded; a message that fails inside is counted and skipped by its length).
 */
int flow_ipfix_file(flow_decoder *d, const flow_exporter *exp, const uint8_t *p, size_t len,
                    flow_rec_cb cb, void *ud, const char **why, size_t *offset);

/* 1 when the bytes look like the start of a pcap file, 2 like an IPFIX message, 3 like a
 * pcapng file, else 0. */
int flow_sniff(const uint8_t *p, size_t len);

#endif
