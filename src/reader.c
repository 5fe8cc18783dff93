/*
 * reader.c - finds the objects of a STIX input stream by scanning, not parsing.
 *
 * Import must stream inputs of many gigabytes with bounded memory, yet a bundle is one JSON value.
 * The reader therefore scans the structure only: it tracks strings, escapes and bracket depth, and
 * hands each element of a bundle's "objects" array (or of a top-level array, or a top-level
 * object) to the caller as a byte range.  The caller parses each object on its own with the strict
 * parser (util/json.c), so every object is checked in full; the reader checks the skeleton around
 * them (commas, brackets, the bundle's keys) and names the byte offset of anything wrong.
 *
 * Buffer: buf[0..len) holds input from absolute offset `base`; `keep` is the first byte still
 * needed (the start of the item being scanned).  A refill moves buf[keep..len) to the front and
 * reads more; when the item alone fills the buffer, the buffer doubles up to the object cap.
 *
 * A top-level object is a bundle when it has an "objects" member whose value is an array; the
 * bytes before that member are then dropped.  Otherwise it is one STIX object and is produced
 * whole.  Top-level values follow one another with only whitespace between (JSON lines).
 */
#include "reader.h"

#include "accord.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define READ_CHUNK (256 * 1024)

enum state {
    ST_TOP,         /* between top-level values */
    ST_ARRAY_FIRST, /* just after '[' of a top-level array or of a bundle's objects */
    ST_ARRAY_NEXT,  /* after an element: expect ',' or ']' */
    ST_DONE,
    ST_ERROR,
};

struct reader {
    gzFile gz;
    char *buf;
    size_t len, cap, keep, pos, max_object;
    uint64_t base; /* absolute offset of buf[0] */
    uint64_t index;
    int eof;
    enum state st;
    int in_bundle;        /* the current array is a bundle's objects */
    char bundle_type[32]; /* "type" of the enclosing top-level object, when seen */
    char bundle_spec[32];
    int have_spec;
    char err[256];
};

static int fail(reader *r, int rc, uint64_t off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(reader *r, int rc, uint64_t off, const char *fmt, ...)
{
    int n = snprintf(r->err, sizeof(r->err), "byte %llu: ", (unsigned long long)off);
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof(r->err))
        vsnprintf(r->err + n, sizeof(r->err) - (size_t)n, fmt, ap);
    va_end(ap);
    r->st = ST_ERROR;
    return rc;
}

int reader_open(int fd, size_t max_object, reader **out)
{
    *out = NULL;
    reader *r = calloc(1, sizeof(*r));
    if (!r)
        return ACCORD_ENOMEM;
    int dfd = dup(fd);
    if (dfd < 0) {
        free(r);
        return ACCORD_EIO;
    }
    r->gz = gzdopen(dfd, "rb");
    if (!r->gz) {
        close(dfd);
        free(r);
        return ACCORD_ENOMEM;
    }
    gzbuffer(r->gz, READ_CHUNK);
    r->max_object = max_object ? max_object : (size_t)64 * 1024 * 1024;
    r->cap = READ_CHUNK * 4;
    r->buf = malloc(r->cap);
    if (!r->buf) {
        reader_close(r);
        return ACCORD_ENOMEM;
    }
    *out = r;
    return 0;
}

void reader_close(reader *r)
{
    if (!r)
        return;
    if (r->gz)
        gzclose(r->gz);
    free(r->buf);
    free(r);
}

const char *reader_errmsg(const reader *r)
{
    return r->err;
}

uint64_t reader_bytes_in(const reader *r)
{
    return r->gz ? (uint64_t)gzoffset(r->gz) : 0;
}

/*
 * Makes more input available after buf[len).  Returns 1 when bytes were added, 0 at end of input,
 * negative on error.  Positions before `keep` are discarded.
 */
static int refill(reader *r)
{
    if (r->eof)
        return 0;
    if (r->keep > 0) {
        memmove(r->buf, r->buf + r->keep, r->len - r->keep);
        r->len -= r->keep;
        r->pos -= r->keep;
        r->base += r->keep;
        r->keep = 0;
    }
    if (r->cap - r->len < READ_CHUNK) {
        if (r->len > r->max_object + 1024)
            return fail(r, ACCORD_ELIMIT, r->base, "object %llu is larger than the %zu-byte limit",
                        (unsigned long long)r->index, r->max_object);
        size_t ncap = r->cap * 2;
        char *nb = realloc(r->buf, ncap);
        if (!nb)
            return fail(r, ACCORD_ENOMEM, r->base, "out of memory reading object %llu",
                        (unsigned long long)r->index);
        r->buf = nb;
        r->cap = ncap;
    }
    int n = gzread(r->gz, r->buf + r->len, (unsigned)(r->cap - r->len));
    if (n < 0) {
        int zerr;
        const char *msg = gzerror(r->gz, &zerr);
        return fail(r, ACCORD_EIO, r->base + r->len, "read error: %s",
                    zerr == Z_ERRNO ? strerror(errno) : msg);
    }
    if (n == 0) {
        int zerr;
        const char *msg = gzerror(r->gz, &zerr);
        if (zerr == Z_BUF_ERROR) /* zlib's "unexpected end of file" */
            return fail(r, ACCORD_EIO, r->base + r->len,
                        "gzip: the compressed data ends before its stream does (truncated file?)");
        if (zerr != Z_OK)
            return fail(r, ACCORD_EIO, r->base + r->len, "gzip error: %s", msg);
        r->eof = 1;
        return 0;
    }
    r->len += (size_t)n;
    return 1;
}

/*
 * Skips whitespace; returns the next byte (not consumed), -1 at end of input, -2 on error.
 * Bytes from r->keep on stay in the buffer.
 */
static int peek(reader *r)
{
    for (;;) {
        while (r->pos < r->len) {
            char c = r->buf[r->pos];
            if (c != ' ' && c != '\n' && c != '\r' && c != '\t')
                return (unsigned char)c;
            r->pos++;
        }
        int rc = refill(r);
        if (rc < 0)
            return -2;
        if (rc == 0)
            return -1;
    }
}

/*
 * Finds the end of the JSON value starting at r->pos (its first byte), without checking its
 * grammar.  On success r->pos is just past it.  `what` names the value in messages.
 */
static int scan_value(reader *r, const char *what)
{
    uint64_t start_abs = r->base + r->pos;
    int depth = 0, in_str = 0, esc = 0;
    char first = r->buf[r->pos];
    int scalar = first != '{' && first != '[' && first != '"';
    for (;;) {
        const char *b = r->buf;
        size_t i = r->pos, len = r->len;
        for (; i < len; i++) {
            char c = b[i];
            if (in_str && !esc && c != '"' && c != '\\') {
                /* inside a string only '"' and '\\' matter: jump to the first of them */
                const char *q = memchr(b + i, '"', len - i);
                const char *bs = memchr(b + i, '\\', (size_t)((q ? q : b + len) - (b + i)));
                const char *next = bs ? bs : q;
                if (!next) {
                    i = len - 1; /* none in the buffer: refill */
                    continue;
                }
                i = (size_t)(next - b);
                c = *next;
            }
            if (in_str) {
                if (esc)
                    esc = 0;
                else if (c == '\\')
                    esc = 1;
                else if (c == '"') {
                    in_str = 0;
                    if (depth == 0) {
                        r->pos = i + 1;
                        return 0;
                    }
                }
            } else if (scalar) {
                if (c == ',' || c == ']' || c == '}' || c == ' ' || c == '\n' || c == '\r' ||
                    c == '\t' || c == '{' || c == '[' || c == '"') {
                    r->pos = i;
                    return 0;
                }
            } else if (c == '"') {
                in_str = 1;
            } else if (c == '{' || c == '[') {
                depth++;
            } else if ((c == '}' || c == ']') && --depth == 0) {
                r->pos = i + 1;
                return 0;
            }
        }
        r->pos = i;
        int rc = refill(r);
        if (rc < 0)
            return rc;
        if (rc == 0) {
            if (scalar)
                return 0;
            return fail(r, ACCORD_EJSON, start_abs,
                        "unexpected end of input inside %s (truncated file?)", what);
        }
    }
}

/* Reads the JSON string at r->pos into out (raw bytes, truncated to outlen-1). */
static int read_short_string(reader *r, char *out, size_t outlen)
{
    uint64_t start_abs = r->base + r->pos;
    int rc = scan_value(r, "a string");
    if (rc)
        return rc;
    size_t s = (size_t)(start_abs - r->base);
    size_t n = r->pos - s;
    n = n >= 2 ? n - 2 : 0;
    if (n >= outlen)
        n = outlen - 1;
    memcpy(out, r->buf + s + 1, n);
    out[n] = '\0';
    return 0;
}

static int eof_in_top(reader *r, uint64_t obj_abs)
{
    return fail(r, ACCORD_EJSON, obj_abs,
                "unexpected end of input in the top-level object starting here (truncated file?)");
}

/*
 * In a top-level object at r->pos (on '{', with r->keep == r->pos): scans members until an
 * "objects" array (returns 1, positioned just after its '[') or the object's end (returns 0;
 * buf[keep..pos) is the whole object).  Negative on error.
 */
static int scan_top_object(reader *r)
{
    uint64_t obj_abs = r->base + r->pos;
    r->pos++;
    r->bundle_type[0] = '\0';
    r->have_spec = 0;
    for (int first = 1;; first = 0) {
        int c = peek(r);
        if (c < 0)
            return c == -2 ? ACCORD_EIO : eof_in_top(r, obj_abs);
        if (c == '}') {
            r->pos++;
            return 0;
        }
        if (!first) {
            if (c != ',')
                return fail(r, ACCORD_EJSON, r->base + r->pos,
                            "expected ',' or '}' in the top-level object");
            r->pos++;
            c = peek(r);
        }
        if (c != '"')
            return fail(r, ACCORD_EJSON, r->base + r->pos,
                        "expected a string key in the top-level object");
        char key[16];
        int rc = read_short_string(r, key, sizeof(key));
        if (rc)
            return rc;
        if ((c = peek(r)) != ':')
            return fail(r, ACCORD_EJSON, r->base + r->pos, "expected ':' after key \"%s\"", key);
        r->pos++;
        if ((c = peek(r)) < 0)
            return c == -2 ? ACCORD_EIO : eof_in_top(r, obj_abs);
        if (strcmp(key, "objects") == 0 && c == '[' &&
            (!r->bundle_type[0] || strcmp(r->bundle_type, "bundle") == 0)) {
            r->pos++;
            return 1;
        }
        if ((strcmp(key, "type") == 0 || strcmp(key, "spec_version") == 0) && c == '"') {
            char val[32];
            if ((rc = read_short_string(r, val, sizeof(val))))
                return rc;
            if (key[0] == 't') {
                snprintf(r->bundle_type, sizeof(r->bundle_type), "%s", val);
            } else {
                snprintf(r->bundle_spec, sizeof(r->bundle_spec), "%s", val);
                r->have_spec = 1;
            }
            continue;
        }
        if ((rc = scan_value(r, "the top-level object")))
            return rc;
    }
}

/* Produces the value at r->pos (r->keep == r->pos) as the next item. */
static int produce(reader *r, reader_item *item, const char *what)
{
    int rc = scan_value(r, what);
    if (rc)
        return rc;
    item->text = r->buf + r->keep;
    item->len = r->pos - r->keep;
    item->offset = r->base + r->keep;
    item->index = r->index++;
    item->bundle_spec = r->in_bundle && r->have_spec ? r->bundle_spec : NULL;
    return 1;
}

/* After a bundle's objects array: the rest of its members, up to its closing '}'. */
static int finish_bundle(reader *r)
{
    for (;;) {
        r->keep = r->pos;
        int c = peek(r);
        if (c < 0)
            return c == -2 ? ACCORD_EIO
                           : fail(r, ACCORD_EJSON, r->base + r->pos,
                                  "unexpected end of input: the bundle is not closed (truncated "
                                  "file?)");
        r->pos++;
        if (c == '}')
            break;
        if (c != ',')
            return fail(r, ACCORD_EJSON, r->base + r->pos - 1,
                        "expected ',' or '}' after the bundle's objects");
        if ((c = peek(r)) != '"')
            return fail(r, ACCORD_EJSON, r->base + r->pos, "expected a key in the bundle");
        char key[16];
        int rc = read_short_string(r, key, sizeof(key));
        if (rc)
            return rc;
        if ((c = peek(r)) != ':')
            return fail(r, ACCORD_EJSON, r->base + r->pos, "expected ':' after key \"%s\"", key);
        r->pos++;
        if ((c = peek(r)) < 0)
            return fail(r, ACCORD_EJSON, r->base + r->pos, "unexpected end of input in bundle");
        if (strcmp(key, "type") == 0 && c == '"') {
            if ((rc = read_short_string(r, r->bundle_type, sizeof(r->bundle_type))))
                return rc;
        } else if ((rc = scan_value(r, "the bundle"))) {
            return rc;
        }
    }
    if (r->bundle_type[0] && strcmp(r->bundle_type, "bundle") != 0)
        return fail(r, ACCORD_EJSON, r->base + r->pos,
                    "a top-level object with an \"objects\" list has type \"%s\", not \"bundle\"",
                    r->bundle_type);
    return 0;
}

int reader_next(reader *r, reader_item *item)
{
    for (;;) {
        int c, rc;
        switch (r->st) {
        case ST_DONE:
            return 0;
        case ST_ERROR:
            return ACCORD_EJSON;
        case ST_TOP:
            r->keep = r->pos;
            c = peek(r);
            if (c == -2)
                return ACCORD_EIO;
            if (c == -1) {
                r->st = ST_DONE;
                return 0;
            }
            r->keep = r->pos;
            if (c == '[') {
                r->pos++;
                r->in_bundle = 0;
                r->st = ST_ARRAY_FIRST;
                continue;
            }
            if (c != '{')
                return fail(r, ACCORD_EJSON, r->base + r->pos,
                            "expected a STIX bundle, an array or an object, found '%c'",
                            c >= 0x21 && c < 0x7f ? c : '?');
            rc = scan_top_object(r);
            if (rc < 0)
                return rc;
            if (rc == 1) {
                r->in_bundle = 1;
                r->st = ST_ARRAY_FIRST;
                continue;
            }
            item->text = r->buf + r->keep;
            item->len = r->pos - r->keep;
            item->offset = r->base + r->keep;
            item->index = r->index++;
            item->bundle_spec = NULL;
            return 1;
        case ST_ARRAY_FIRST:
        case ST_ARRAY_NEXT:
            r->keep = r->pos;
            c = peek(r);
            if (c < 0)
                return c == -2 ? ACCORD_EIO
                               : fail(r, ACCORD_EJSON, r->base + r->pos,
                                      "unexpected end of input after object %llu: the %s is not "
                                      "closed (truncated file?)",
                                      (unsigned long long)r->index,
                                      r->in_bundle ? "bundle's objects list" : "array");
            if (c == ']') {
                r->pos++;
                if (r->in_bundle) {
                    if ((rc = finish_bundle(r)))
                        return rc;
                }
                r->st = ST_TOP;
                continue;
            }
            if (r->st == ST_ARRAY_NEXT) {
                if (c != ',')
                    return fail(r, ACCORD_EJSON, r->base + r->pos,
                                "expected ',' or ']' after object %llu",
                                (unsigned long long)(r->index - 1));
                r->pos++;
                c = peek(r);
                if (c < 0)
                    return c == -2 ? ACCORD_EIO
                                   : fail(r, ACCORD_EJSON, r->base + r->pos,
                                          "unexpected end of input after ','");
                if (c == ']')
                    return fail(r, ACCORD_EJSON, r->base + r->pos, "trailing ',' before ']'");
            }
            r->keep = r->pos;
            r->st = ST_ARRAY_NEXT;
            return produce(r, item, "an object");
        }
    }
}
