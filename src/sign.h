/*
 * sign.h - Ed25519 and DSSE (the contract is in include/accord_trust.h, accord_sign_*; src/sign.c
 * explains the key handling and the PAE table), and the few encodings the trust layer shares:
 * SHA-256 and base64 come from libsodium, which only sign.c, merkle.c and auth.c include.
 */
#ifndef ACCORD_SIGN_H
#define ACCORD_SIGN_H

#include "accord.h"

#define SIGN_SHA256_LEN 32
/* Base64 text length (RFC 4648 section 4, with padding) of n bytes, without the NUL. */
#define SIGN_B64_LEN(n) ((((n) + 2) / 3) * 4)

/* SHA-256 of data[0..len). */
void sign_sha256(const void *data, size_t len, uint8_t out[SIGN_SHA256_LEN]);
/* SHA-256 of the DSSE PAE of (type, body) without building it in memory. */
void sign_sha256_pae(const char *type, const void *body, size_t len, uint8_t out[SIGN_SHA256_LEN]);
/* Writes bin[0..len) as standard base64 with padding and a NUL into out (outlen bytes). */
int sign_b64_encode(const uint8_t *bin, size_t len, char *out, size_t outlen);
/*
 * Decodes standard base64 with padding (the STIX "binary" type, RFC 4648 section 4), exactly
 * want bytes, no whitespace; 0, or -1 when the text is not that.
 */
int sign_b64_decode(const char *text, size_t len, uint8_t *out, size_t want);
/* Writes len bytes as lowercase hex and a NUL into out (2*len+1 bytes). */
void sign_hex(const uint8_t *bin, size_t len, char *out);
/* Compares two buffers in constant time: 0 when equal. */
int sign_memcmp(const void *a, const void *b, size_t len);

#endif
