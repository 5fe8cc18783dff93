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

/* The 6-bit value of each base64 character (RFC 4648 table 1) plus one; 0 for anything else. */
static const uint8_t b64_value[256] = {
    ['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6, ['G'] = 7, ['H'] = 8,
    ['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16,
    ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24,
    ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32,
    ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40,
    ['o'] = 41, ['p'] = 42, ['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48,
    ['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56,
    ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['+'] = 63, ['/'] = 64,
};

/* The value of c, or a number with bits above 63 set when c is not a base64 character. */
static inline uint32_t b64_val(unsigned char c)
{
    return (uint32_t)b64_value[c] - 1;
}

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
    size_t full = want / 3;
    uint32_t bad = 0;
    for (size_t i = 0; i < full; i++, t += 4, out += 3) {
        uint32_t a = b64_val(t[0]), b = b64_val(t[1]), c = b64_val(t[2]), d = b64_val(t[3]);
        bad |= a | b | c | d;
        uint32_t v = a << 18 | b << 12 | c << 6 | d;
        out[0] = (uint8_t)(v >> 16);
        out[1] = (uint8_t)(v >> 8);
        out[2] = (uint8_t)v;
    }
    if (bad & ~63u) /* a character outside the alphabet ('=' included) */
        return -1;
    size_t rest = want - 3 * full;
    if (rest == 1) {
        uint32_t a = b64_val(t[0]), b = b64_val(t[1]);
        if ((a | b) & ~63u || (b & 15) || t[2] != '=' || t[3] != '=')
            return -1;
        out[0] = (uint8_t)(a << 2 | b >> 4);
    } else if (rest == 2) {
        uint32_t a = b64_val(t[0]), b = b64_val(t[1]), c = b64_val(t[2]);
        if ((a | b | c) & ~63u || (c & 3) || t[3] != '=')
            return -1;
        out[0] = (uint8_t)(a << 2 | b >> 4);
        out[1] = (uint8_t)((b & 15) << 4 | c >> 2);
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
