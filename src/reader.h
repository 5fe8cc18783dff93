/*
 * reader.h - splits a stream of STIX JSON into single objects without building a tree of it.
 *
 * Accepts, in any mix and concatenated (so JSON lines work): bundles {"type":"bundle",
 * "objects":[...]}, JSON arrays of objects, and single objects; gzip input is inflated on the fly.
 * Memory is bounded by the largest single object (capped), never by the size of the input.
 */
#ifndef ACCORD_READER_H
#define ACCORD_READER_H

#include <stddef.h>
#include <stdint.h>

typedef struct reader reader;

/* One object found in the input; the bytes stay valid until the next reader_next call. */
typedef struct reader_item {
    const char *text;
    size_t len;
    uint64_t offset;          /* byte offset of text[0] in the (uncompressed) input */
    uint64_t index;           /* 0-based count of items produced before this one */
    const char *bundle_spec;  /* spec_version of the enclosing bundle when seen before "objects" */
} reader_item;

/*
 * Opens a reader on fd (not closed by the reader).  max_object caps the size of one object
 * (0 = 64 MiB).  Returns 0 or ACCORD_ENOMEM / ACCORD_EIO.
 */
int reader_open(int fd, size_t max_object, reader **out);
/*
 * Produces the next object: 1 with *item filled, 0 at the clean end of input, or a negative
 * ACCORD_E* code (ACCORD_EJSON for structure errors, ACCORD_ELIMIT for an oversized object,
 * ACCORD_EIO) with a message naming the byte offset in reader_errmsg().  After an error the reader
 * produces nothing more.
 */
int reader_next(reader *r, reader_item *item);
const char *reader_errmsg(const reader *r);
/* Bytes consumed from fd so far (compressed bytes for gzip input). */
uint64_t reader_bytes_in(const reader *r);
void reader_close(reader *r);

#endif
