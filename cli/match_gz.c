/*
 * match_gz.c - the telemetry input of `accord match`: plain bytes, or gzip inflated.
 *
 * zlib's gzread reads both, but a call that meets a fault returns -1 and drops what it inflated
 * in that call (up to the whole request: megabytes of good lines).  Here inflate writes straight
 * into the caller's buffer, and a fault is returned on the call after the bytes inflated before
 * it, so a corrupt or cut file gives everything inflate could make of it, exactly what
 * `gzip -dc` writes before it stops.  Otherwise it reads as gzread does:
 *
 *   - the input is gzip when its first two bytes are 1f 8b (whatever its name), else it is given
 *     as it is;
 *   - members follow one another (a concatenation, as `cat a.gz b.gz` makes); what follows a
 *     member and is not another one (trailing garbage, zero padding) is ignored;
 *   - a stream that ends inside a member is a fault: "unexpected end of file".
 *
 * A failed CRC or length check (the end of a member) is told apart: inflate found nothing wrong
 * with the stream's structure, so every byte of the member was given, but some are damaged.
 */
#include "match_gz.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define IN_BYTES (1u << 20)

enum { MGZ_OK, MGZ_END, MGZ_FAULT };

struct mgz {
    int fd;
    int gzip;
    int state;       /* MGZ_*: MGZ_FAULT once the bytes before a fault were given */
    int fault;       /* a fault is due (after what this call gave) */
    int between;     /* a member ended: another one, or the end, follows */
    int eof;         /* read gave 0 */
    int err;         /* errno of a failed read, or 0 */
    int checksum;    /* the fault is a failed check of a member's CRC or length */
    const char *why; /* zlib's reason, or NULL */
    uint64_t given;
    z_stream zs;
    unsigned char in[IN_BYTES];
};

/* Reads more input after the avail_in bytes left (moved to the start): 1 when some came, 0 at
 * the end, -1 on an error (err set). */
static int more_input(mgz *z)
{
    ssize_t n;
    if (z->eof)
        return 0;
    if (z->zs.avail_in && z->zs.next_in != z->in)
        memmove(z->in, z->zs.next_in, z->zs.avail_in);
    z->zs.next_in = z->in;
    do
        n = read(z->fd, z->in + z->zs.avail_in, IN_BYTES - z->zs.avail_in);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        z->err = errno;
        return -1;
    }
    if (n == 0) {
        z->eof = 1;
        return 0;
    }
    z->zs.avail_in += (uInt)n;
    return 1;
}

/* At least two bytes of input unless it ends first: 0, or -1 on a read error. */
static int two_bytes(mgz *z)
{
    int rc = 1;
    while (z->zs.avail_in < 2 && rc > 0)
        rc = more_input(z);
    return rc < 0 ? -1 : 0;
}

static int is_magic(const mgz *z)
{
    return z->zs.avail_in >= 2 && z->zs.next_in[0] == 0x1f && z->zs.next_in[1] == 0x8b;
}

int mgz_open(int fd, mgz **out)
{
    mgz *z = calloc(1, sizeof *z);
    *out = NULL;
    if (!z) {
        close(fd);
        errno = ENOMEM;
        return -1;
    }
    z->fd = fd;
    z->zs.next_in = z->in;
    if (two_bytes(z) < 0) {
        errno = z->err;
        mgz_close(z);
        return -1;
    }
    z->gzip = is_magic(z);
    if (z->gzip && inflateInit2(&z->zs, 15 + 16) != Z_OK) { /* 16: gzip only */
        z->gzip = 0;
        mgz_close(z);
        errno = ENOMEM;
        return -1;
    }
    *out = z;
    return 0;
}

/* Plain input: what is buffered, then straight from the descriptor. */
static long read_plain(mgz *z, char *p, size_t len)
{
    ssize_t n;
    if (z->zs.avail_in) {
        n = (ssize_t)(z->zs.avail_in < len ? z->zs.avail_in : len);
        memcpy(p, z->zs.next_in, (size_t)n);
        z->zs.next_in += n;
        z->zs.avail_in -= (uInt)n;
        return n;
    }
    do
        n = read(z->fd, p, len);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        z->err = errno;
        z->state = MGZ_FAULT;
        return -1;
    }
    if (n == 0)
        z->state = MGZ_END;
    return n;
}

/* Between members: the next one starts (1), or the input ends here (0), or -1. */
static int next_member(mgz *z)
{
    if (two_bytes(z) < 0)
        return -1;
    if (!is_magic(z)) { /* the end, or trailing bytes that are not gzip: ignored */
        z->state = MGZ_END;
        return 0;
    }
    z->between = 0;
    return inflateReset(&z->zs) == Z_OK ? 1 : -1;
}

/* Inflates into the output space of z->zs until it is full, the input ends or a fault comes
 * (z->fault set). */
static void inflate_some(mgz *z)
{
    while (z->zs.avail_out && z->state == MGZ_OK && !z->fault) {
        int rc;
        if (z->between) {
            if (next_member(z) < 0)
                z->fault = 1;
            continue;
        }
        if (z->zs.avail_in == 0) {
            int got = more_input(z);
            if (got == 0) /* the input ends inside a member: it is cut */
                z->why = "unexpected end of file";
            if (got <= 0) {
                z->fault = 1;
                continue;
            }
        }
        rc = inflate(&z->zs, Z_NO_FLUSH);
        if (rc == Z_STREAM_END) {
            z->between = 1;
        } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
            z->why = rc == Z_MEM_ERROR ? "out of memory" : z->zs.msg ? z->zs.msg : "corrupt data";
            z->checksum = z->zs.msg && (strcmp(z->zs.msg, "incorrect data check") == 0 ||
                                        strcmp(z->zs.msg, "incorrect length check") == 0);
            z->fault = 1;
        }
    }
}

long mgz_read(mgz *z, char *p, size_t len)
{
    long got;
    if (z->state != MGZ_OK || z->fault) {
        if (z->fault)
            z->state = MGZ_FAULT;
        return z->state == MGZ_FAULT ? -1 : 0;
    }
    if (len > INT_MAX)
        len = INT_MAX;
    if (!z->gzip) {
        got = read_plain(z, p, len);
    } else {
        z->zs.next_out = (unsigned char *)p;
        z->zs.avail_out = (uInt)len;
        inflate_some(z);
        got = (long)(len - z->zs.avail_out);
        if (got == 0 && z->fault) {
            z->state = MGZ_FAULT;
            got = -1;
        }
    }
    if (got > 0)
        z->given += (uint64_t)got;
    return got;
}

const char *mgz_error(const mgz *z, int *err, int *checksum)
{
    *err = z->err;
    *checksum = z->checksum;
    return z->err ? NULL : z->why;
}

int mgz_is_gzip(const mgz *z)
{
    return z->gzip;
}

uint64_t mgz_given(const mgz *z)
{
    return z->given;
}

void mgz_close(mgz *z)
{
    if (!z)
        return;
    if (z->gzip)
        inflateEnd(&z->zs);
    close(z->fd);
    free(z);
}

int mgz_sniff(const char *path)
{
    unsigned char b[2];
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    ssize_t n = fd >= 0 ? read(fd, b, 2) : -1;
    if (fd >= 0)
        close(fd);
    return n == 2 && b[0] == 0x1f && b[1] == 0x8b;
}
