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
 * SOURCE is 1..NATS_SOURCE_MAX bytes of [A-Za-z0-9_-], so it is also a subject token.
 */
#ifndef ACCORD_NATS_MSG_H
#define ACCORD_NATS_MSG_H

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
/* SHA-256 of data[0..len) as lower-case hex into out[65]. */
void nats_sha256_hex(const void *data, size_t len, char out[65]);

#endif
