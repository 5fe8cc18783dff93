/*
 * nats_msg.h - the texts accord puts into NATS JetStream messages, written and read without the
 * NATS client (so they are fuzzed and unit-tested alone; the client lives in cli/cmd_nats*.c).
 *
 *   what                      where                       form
 *   chunk id                  Nats-Msg-Id of a chunk      SOURCE ":" OFFSET (decimal byte offset
 *                                                         of the chunk in its source)
 *   result part               Accord-Part of a result     PART "/" PARTS (1-based, PARTS <= 4096)
 *   snapshot pointer          KV key "current"            {"version":N,"parts":P,"bytes":B,
 *                                                         "sha256":"<64 hex>"}
 *
 *   record chunk payload      Accord-Kind flow / dnstap   records, each a 4-byte big-endian
 *                                                         length and its bytes: a flow record
 *                                                         (below) or a dnstap protobuf
 *   flow record               in a flow chunk             NATS_FLOW_REC_LEN bytes, little-endian
 *                                                         fields of flow_rec and its exporter
 *   nkey seed (user)          --nats-nkey file            "SU" + base32 of 2 prefix bytes, the
 *                                                         32-byte Ed25519 seed and a CRC-16
 *   nkey public key (user)    server's users list         "U" + base32 of 1 prefix byte, the
 *                                                         32-byte public key and a CRC-16
 *
 * SOURCE is 1..NATS_SOURCE_MAX bytes of [A-Za-z0-9_-], so it is also a subject token.
 */
#ifndef ACCORD_NATS_MSG_H
#define ACCORD_NATS_MSG_H

#include "flow.h"

#include <stddef.h>
#include <stdint.h>

#define NATS_SOURCE_MAX 128
#define NATS_PARTS_MAX 4096

typedef struct nats_chunk_id {
    char source[NATS_SOURCE_MAX + 1];
    uint64_t offset;
} nats_chunk_id;

typedef struct nats_pointer {
    uint64_t version; /* 1, 2, ... */
    uint32_t parts;   /* messages of at most 1 MiB on subject accord.snap.<version> */
    uint64_t bytes;   /* total payload */
    char sha256[65];  /* lower-case hex of the concatenated parts */
} nats_pointer;

/* A decimal number of s[0..len) (1..19 digits, no sign) into *out; 0 or -1. */
int nats_u64_parse(const char *s, size_t len, uint64_t *out);
/* 1 when s[0..len) is a valid SOURCE. */
int nats_source_valid(const char *s, size_t len);
/* A SOURCE made from a path or name: every other byte becomes '_', cut to NATS_SOURCE_MAX
 * (keeping the end, where names differ); out has NATS_SOURCE_MAX + 1 bytes. */
void nats_source_from(const char *path, char *out);
/* Reads a chunk id; 0, or -1 with the reason (static text) in *why. */
int nats_chunk_id_parse(const char *s, size_t len, nats_chunk_id *out, const char **why);
/* Reads "PART/PARTS"; 0 or -1. */
int nats_part_parse(const char *s, size_t len, uint32_t *part, uint32_t *parts);
/* Reads a snapshot pointer; 0, or -1 with the reason (static text) in *why. */
int nats_pointer_parse(const char *json, size_t len, nats_pointer *out, const char **why);
/* Writes p as JSON into out (NUL-terminated); the length, or -1 when it does not fit. */
int nats_pointer_format(const nats_pointer *p, char *out, size_t outlen);
#define NATS_FLOW_REC_LEN 148
#define NATS_REC_MAX (1u << 20)
/* The next record of a record chunk p[0..len) from *off: 1 with rec/rlen set and *off moved
 * past it, 0 at the end, -1 with the reason in *why (a length past the end or over
 * NATS_REC_MAX). */
int nats_rec_next(const uint8_t *p, size_t len, size_t *off, const uint8_t **rec, size_t *rlen,
                  const char **why);
/* Appends the length prefix of a record of rlen bytes to out[4]. */
void nats_rec_len(uint32_t rlen, uint8_t out[4]);
/* r (with its exporter, if any) as a flow record. */
void nats_flow_put(const flow_rec *r, uint8_t out[NATS_FLOW_REC_LEN]);
/* Reads a flow record into *r, its exporter into *e (r->exporter = e, or NULL when it had
 * none).  0, or -1 with the reason in *why. */
int nats_flow_get(const uint8_t *p, size_t len, flow_rec *r, flow_exporter *e, const char **why);

#define NATS_NKEY_SEED_LEN 58
#define NATS_NKEY_PUBLIC_LEN 56
/* The first user nkey seed in text[0..len) (a seed file: the seed alone, or among other lines as
 * nsc writes them) into seed.  0, or -1 with the reason (static text) in *why. */
int nats_nkey_seed_find(const char *text, size_t len, uint8_t seed[32], const char **why);
/* The text form of user public key pub into out. */
void nats_nkey_user_public(const uint8_t pub[32], char out[NATS_NKEY_PUBLIC_LEN + 1]);
/* SHA-256 of data[0..len) as lower-case hex into out[65]. */
void nats_sha256_hex(const void *data, size_t len, char out[65]);

#endif
