/*
 * sign.c - Ed25519 keys and signatures, and the DSSE pre-authentication encoding.
 *
 * The only file that uses libsodium's signing API (auth.c uses its password hashing; merkle.c
 * its SHA-256).  Every member signature in accord is a pure Ed25519 signature (RFC 8032 section
 * 5.1, never Ed25519ph: the pre-hashed variant signs a digest an attacker could aim a collision
 * at, and gains nothing here since messages are small) over the DSSE pre-authentication encoding
 * of a media type and a body.  PAE binds the signature to the type, so bytes signed as one kind
 * of message can never be replayed as another, and its lengths leave no ambiguity about where
 * the type ends and the body begins.
 *
 * PAE (DSSE v1, github.com/secure-systems-lab/dsse, "protocol.md"); it outlives the process,
 * since every stored signature covers it:
 *
 *   | field      | bytes               | meaning                                             |
 *   |------------|---------------------|-----------------------------------------------------|
 *   | "DSSEv1"   | 6                   | literal, ASCII                                      |
 *   | SP         | 1                   | 0x20                                                |
 *   | LEN(type)  | 1..20               | byte length of type, ASCII decimal, no leading zero |
 *   | SP         | 1                   | 0x20                                                |
 *   | type       | LEN(type)           | the media type, e.g. application/vnd.accord.stix+json|
 *   | SP         | 1                   | 0x20                                                |
 *   | LEN(body)  | 1..20               | byte length of body, ASCII decimal                  |
 *   | SP         | 1                   | 0x20                                                |
 *   | body       | LEN(body)           | the signed bytes (for objects: their RFC 8785 form) |
 *
 * Keys.  accord_sign_key holds the 64-byte libsodium secret key (seed || public key) in memory
 * from sodium_malloc: guard pages around it, locked out of swap, made read-only once derived, and
 * wiped by sodium_free.  Seeds on disk are 32 raw bytes (RFC 8032's secret key) in a regular file
 * of mode 0600 or stricter; a file any group or other user may read, write or run is refused,
 * since a key others could read is no longer secret and one they could write is no longer ours.
 * Seeds read from disk pass through sodium_malloc memory too and are wiped at once.
 *
 * What this file does not do: decide what is signed or by whom (the signature extension, the
 * roster and the audit checkpoints do), or cache verifications.
 */
#include "sign.h"

#include <errno.h>
#include <fcntl.h>
#include <nettle/sha2.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

_Static_assert(crypto_sign_ed25519_SEEDBYTES == ACCORD_SIGN_SEED_LEN, "seed size");
_Static_assert(crypto_sign_ed25519_PUBLICKEYBYTES == ACCORD_SIGN_PUBLIC_LEN, "public key size");
_Static_assert(crypto_sign_ed25519_BYTES == ACCORD_SIGN_SIG_LEN, "signature size");

struct accord_sign_key {
    unsigned char sk[crypto_sign_ed25519_SECRETKEYBYTES]; /* seed || public key */
};

static int set_err(accord_error *err, int code, const char *fmt, const char *path,
                   const char *detail)
{
    if (err) {
        err->code = code;
        snprintf(err->msg, sizeof(err->msg), fmt, path, detail);
    }
    return code;
}

int accord_sign_key_from_seed(const uint8_t seed[ACCORD_SIGN_SEED_LEN], accord_sign_key **out)
{
    *out = NULL;
    if (sodium_init() < 0)
        return ACCORD_ENOMEM;
    accord_sign_key *k = sodium_malloc(sizeof(*k));
    if (!k)
        return ACCORD_ENOMEM;
    unsigned char pk[crypto_sign_ed25519_PUBLICKEYBYTES];
    crypto_sign_ed25519_seed_keypair(pk, k->sk, seed);
    sodium_mprotect_readonly(k);
    *out = k;
    return 0;
}

int accord_sign_key_generate(accord_sign_key **out)
{
    *out = NULL;
    if (sodium_init() < 0)
        return ACCORD_ENOMEM;
    unsigned char *seed = sodium_malloc(ACCORD_SIGN_SEED_LEN);
    if (!seed)
        return ACCORD_ENOMEM;
    randombytes_buf(seed, ACCORD_SIGN_SEED_LEN);
    int rc = accord_sign_key_from_seed(seed, out);
    sodium_free(seed);
    return rc;
}

/* Reads exactly n bytes, or fails; one more byte available counts as failure (wrong size). */
static int read_exact(int fd, unsigned char *p, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    unsigned char extra;
    ssize_t r;
    do
        r = read(fd, &extra, 1);
    while (r < 0 && errno == EINTR);
    return r == 0 ? 0 : -1;
}

int accord_sign_key_load(const char *path, accord_sign_key **out, accord_error *err)
{
    int rc = 0;
    unsigned char *seed = NULL;
    *out = NULL;
    if (sodium_init() < 0) /* sodium_malloc needs it, below */
        return set_err(err, ACCORD_ENOMEM, "key file %s: %s", path, "libsodium failed to start");
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return set_err(err, ACCORD_EIO, "key file %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = set_err(err, ACCORD_EIO, "key file %s: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = set_err(err, ACCORD_EINVAL, "key file %s: %s", path, "not a regular file");
        goto out;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        char detail[96];
        snprintf(detail, sizeof(detail), "mode %04o gives group or others access (chmod 600)",
                 (unsigned)(st.st_mode & 07777));
        rc = set_err(err, ACCORD_EINVAL, "key file %s: %s", path, detail);
        goto out;
    }
    if (st.st_size != ACCORD_SIGN_SEED_LEN) {
        rc = set_err(err, ACCORD_EINVAL, "key file %s: %s", path, "not a 32-byte Ed25519 seed");
        goto out;
    }
    if (!(seed = sodium_malloc(ACCORD_SIGN_SEED_LEN))) {
        rc = set_err(err, ACCORD_ENOMEM, "key file %s: %s", path, "out of memory");
        goto out;
    }
    if (read_exact(fd, seed, ACCORD_SIGN_SEED_LEN) != 0) {
        rc = set_err(err, ACCORD_EIO, "key file %s: %s", path, "short read or size changed");
        goto out;
    }
    if ((rc = accord_sign_key_from_seed(seed, out)))
        set_err(err, rc, "key file %s: %s", path, "out of memory");
out:
    sodium_free(seed); /* wipes */
    close(fd);
    return rc;
}

int accord_sign_key_save(const accord_sign_key *key, const char *path, accord_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return set_err(err, ACCORD_EIO, "key file %s: %s", path, strerror(errno));
    /* the seed is the first half of libsodium's secret key */
    const unsigned char *p = key->sk;
    size_t done = 0;
    int rc = 0;
    while (done < ACCORD_SIGN_SEED_LEN) {
        ssize_t w = write(fd, p + done, ACCORD_SIGN_SEED_LEN - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = set_err(err, ACCORD_EIO, "key file %s: %s", path, strerror(errno));
            break;
        }
        done += (size_t)w;
    }
    if (!rc && fsync(fd) != 0)
        rc = set_err(err, ACCORD_EIO, "key file %s: %s", path, strerror(errno));
    if (close(fd) != 0 && !rc)
        rc = set_err(err, ACCORD_EIO, "key file %s: %s", path, strerror(errno));
    if (rc)
        unlink(path);
    return rc;
}

void accord_sign_key_free(accord_sign_key *key)
{
    if (key)
        sodium_free(key);
}

void accord_sign_key_public(const accord_sign_key *key, uint8_t pk[ACCORD_SIGN_PUBLIC_LEN])
{
    crypto_sign_ed25519_sk_to_pk(pk, key->sk);
}

void accord_sign(const accord_sign_key *key, const void *msg, size_t len,
                 uint8_t sig[ACCORD_SIGN_SIG_LEN])
{
    crypto_sign_ed25519_detached(sig, NULL, msg, len, key->sk);
}

int accord_sign_verify(const uint8_t pk[ACCORD_SIGN_PUBLIC_LEN], const void *msg, size_t len,
                       const uint8_t sig[ACCORD_SIGN_SIG_LEN])
{
    return crypto_sign_ed25519_verify_detached(sig, msg, len, pk) == 0 ? 0 : ACCORD_EINVAL;
}

int accord_sign_pae(const char *type, const void *body, size_t body_len, char **out,
                    size_t *out_len)
{
    size_t tlen = strlen(type);
    char head[64];
    *out = NULL;
    *out_len = 0;
    int h = snprintf(head, sizeof(head), "DSSEv1 %zu ", tlen);
    char mid[32];
    int m = snprintf(mid, sizeof(mid), " %zu ", body_len);
    if (tlen > SIZE_MAX / 2 || body_len > SIZE_MAX / 2)
        return ACCORD_ELIMIT;
    size_t len = (size_t)h + tlen + (size_t)m + body_len;
    char *p = malloc(len + 1);
    if (!p)
        return ACCORD_ENOMEM;
    memcpy(p, head, (size_t)h);
    memcpy(p + h, type, tlen);
    memcpy(p + (size_t)h + tlen, mid, (size_t)m);
    if (body_len)
        memcpy(p + (size_t)h + tlen + (size_t)m, body, body_len);
    p[len] = '\0';
    *out = p;
    *out_len = len;
    return 0;
}

int accord_sign_dsse(const accord_sign_key *key, const char *type, const void *body,
                     size_t body_len, uint8_t sig[ACCORD_SIGN_SIG_LEN])
{
    char *pae;
    size_t len;
    int rc = accord_sign_pae(type, body, body_len, &pae, &len);
    if (rc)
        return rc;
    accord_sign(key, pae, len, sig);
    free(pae);
    return 0;
}

int accord_sign_dsse_verify(const uint8_t pk[ACCORD_SIGN_PUBLIC_LEN], const char *type,
                            const void *body, size_t body_len,
                            const uint8_t sig[ACCORD_SIGN_SIG_LEN])
{
    char *pae;
    size_t len;
    int rc = accord_sign_pae(type, body, body_len, &pae, &len);
    if (rc)
        return rc;
    rc = accord_sign_verify(pk, pae, len, sig);
    free(pae);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Encodings shared by the trust layer                                                          */

/*
 * SHA-256 by nettle, not libsodium: nettle picks the CPU's SHA extensions (or its assembly), about
 * five times libsodium's portable C here, and every signed object on every ingest path is hashed
 * once as a whole.
 */
void sign_sha256(const void *data, size_t len, uint8_t out[SIGN_SHA256_LEN])
{
    struct sha256_ctx st;
    sha256_init(&st);
    sha256_update(&st, len, data);
    sha256_digest(&st, SIGN_SHA256_LEN, out);
}

/* Writes " N " (N in decimal) ending at end; returns where it starts. */
static uint8_t *decimal_field(uint64_t n, uint8_t *end)
{
    *--end = ' ';
    do
        *--end = (uint8_t)('0' + n % 10);
    while (n /= 10);
    *--end = ' ';
    return end;
}

void sign_sha256_pae(const char *type, const void *body, size_t len, uint8_t out[SIGN_SHA256_LEN])
{
    /* every signed object is hashed here once per ingest: the two lengths are written by hand
     * (snprintf cost as much as hashing a short object with the CPU's SHA extensions) */
    struct sha256_ctx st;
    uint8_t head[32], *h;
    size_t tlen = strlen(type);
    sha256_init(&st);
    sha256_update(&st, 6, (const uint8_t *)"DSSEv1");
    h = decimal_field(tlen, head + sizeof(head));
    sha256_update(&st, (size_t)(head + sizeof(head) - h), h);
    sha256_update(&st, tlen, (const uint8_t *)type);
    h = decimal_field(len, head + sizeof(head));
    sha256_update(&st, (size_t)(head + sizeof(head) - h), h);
    sha256_update(&st, len, body);
    sha256_digest(&st, SIGN_SHA256_LEN, out);
}

int sign_b64_encode(const uint8_t *bin, size_t len, char *out, size_t outlen)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (outlen < SIGN_B64_LEN(len) + 1)
        return ACCORD_ELIMIT;
    size_t i = 0, o = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)bin[i] << 16 | (uint32_t)bin[i + 1] << 8 | bin[i + 2];
        out[o++] = abc[v >> 18];
        out[o++] = abc[(v >> 12) & 63];
        out[o++] = abc[(v >> 6) & 63];
        out[o++] = abc[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)bin[i] << 16 | (i + 1 < len ? (uint32_t)bin[i + 1] << 8 : 0);
        out[o++] = abc[v >> 18];
        out[o++] = abc[(v >> 12) & 63];
        out[o++] = i + 1 < len ? abc[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    out[o] = '\0';
    return 0;
}

/* The base64 alphabet (RFC 4648 table 1): X(character, 6-bit value). */
#define B64_ALPHABET(X)                                                                            \
    X('A', 0) X('B', 1) X('C', 2) X('D', 3) X('E', 4) X('F', 5) X('G', 6) X('H', 7) X('I', 8)     \
    X('J', 9) X('K', 10) X('L', 11) X('M', 12) X('N', 13) X('O', 14) X('P', 15) X('Q', 16)        \
    X('R', 17) X('S', 18) X('T', 19) X('U', 20) X('V', 21) X('W', 22) X('X', 23) X('Y', 24)       \
    X('Z', 25) X('a', 26) X('b', 27) X('c', 28) X('d', 29) X('e', 30) X('f', 31) X('g', 32)       \
    X('h', 33) X('i', 34) X('j', 35) X('k', 36) X('l', 37) X('m', 38) X('n', 39) X('o', 40)       \
    X('p', 41) X('q', 42) X('r', 43) X('s', 44) X('t', 45) X('u', 46) X('v', 47) X('w', 48)       \
    X('x', 49) X('y', 50) X('z', 51) X('0', 52) X('1', 53) X('2', 54) X('3', 55) X('4', 56)       \
    X('5', 57) X('6', 58) X('7', 59) X('8', 60) X('9', 61) X('+', 62) X('/', 63)

/*
 * For character position k of a group of four, each character's value already shifted into
 * place (18 - 6k bits) with bit 31 set; 0 for anything outside the alphabet.  A group decodes to
 * the OR of its four entries, and is valid when bit 31 survives their AND.
 */
#define B64_AT0(c, v) [c] = 0x80000000u | (uint32_t)(v) << 18,
#define B64_AT1(c, v) [c] = 0x80000000u | (uint32_t)(v) << 12,
#define B64_AT2(c, v) [c] = 0x80000000u | (uint32_t)(v) << 6,
#define B64_AT3(c, v) [c] = 0x80000000u | (uint32_t)(v),
static const uint32_t b64_at[4][256] = {{B64_ALPHABET(B64_AT0)}, {B64_ALPHABET(B64_AT1)},
                                        {B64_ALPHABET(B64_AT2)}, {B64_ALPHABET(B64_AT3)}};

/*
 * A table decoder rather than sodium_base642bin: every batch-signed object carries a dozen
 * base64 hashes, and libsodium's constant-time decoder cost more than verifying the object.
 * Nothing here is secret.  Strict: exactly the canonical text of want bytes (padding as RFC 4648
 * section 4 requires, unused bits zero), so one byte string has one accepted text.
 */
int sign_b64_decode(const char *text, size_t len, uint8_t *out, size_t want)
{
    const unsigned char *t = (const unsigned char *)text;
    if (len != SIGN_B64_LEN(want))
        return -1;
    size_t full = want / 3, rest = want - 3 * full;
    uint32_t ok = 0x80000000u;
    for (size_t i = 0; i < full; i++, t += 4, out += 3) {
        uint32_t a = b64_at[0][t[0]], b = b64_at[1][t[1]], c = b64_at[2][t[2]],
                 d = b64_at[3][t[3]];
        uint32_t v = a | b | c | d;
        ok &= a & b & c & d;
        out[0] = (uint8_t)(v >> 16);
        out[1] = (uint8_t)(v >> 8);
        out[2] = (uint8_t)v;
    }
    if (!ok) /* a character outside the alphabet ('=' included) */
        return -1;
    if (rest == 1) {
        uint32_t a = b64_at[0][t[0]], b = b64_at[1][t[1]], v = a | b;
        if (!(a & b) || (v & 0xffff) || t[2] != '=' || t[3] != '=')
            return -1;
        out[0] = (uint8_t)(v >> 16);
    } else if (rest == 2) {
        uint32_t a = b64_at[0][t[0]], b = b64_at[1][t[1]], c = b64_at[2][t[2]], v = a | b | c;
        if (!(a & b & c) || (v & 0xff) || t[3] != '=')
            return -1;
        out[0] = (uint8_t)(v >> 16);
        out[1] = (uint8_t)(v >> 8);
    }
    return 0;
}

void sign_hex(const uint8_t *bin, size_t len, char *out)
{
    sodium_bin2hex(out, len * 2 + 1, bin, len);
}

int sign_memcmp(const void *a, const void *b, size_t len)
{
    return sodium_memcmp(a, b, len);
}
