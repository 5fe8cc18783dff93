/*
 * match_gz.h - the telemetry input of `accord match` (match_gz.c): a file or pipe read as it is,
 * or inflated when its first bytes are gzip's, as zlib's gzread reads it, except that a fault
 * loses nothing inflate produced before it.
 */
#ifndef ACCORD_CLI_MATCH_GZ_H
#define ACCORD_CLI_MATCH_GZ_H

#include <stddef.h>
#include <stdint.h>

typedef struct mgz mgz;

/* A reader of fd (taken: closed by mgz_close, also on failure), looking at its first bytes to
 * tell gzip from plain input.  0, or -1 (errno: from read, or ENOMEM). */
int mgz_open(int fd, mgz **out);
/* Up to len bytes of the input (inflated) into p: how many, 0 at the end, -1 on a fault (see
 * mgz_error).  The bytes inflated before a fault are given first; the next call returns -1. */
long mgz_read(mgz *z, char *p, size_t len);
/* The fault of the last -1: zlib's reason ("invalid block type", "unexpected end of file" for a
 * cut stream, ...), or NULL when it is read's, in *err (errno).  *checksum is 1 when the
 * reason is a failed check of a whole member: the data before it was given, damaged. */
const char *mgz_error(const mgz *z, int *err, int *checksum);
/* 1 when the input is gzip (by its first bytes). */
int mgz_is_gzip(const mgz *z);
/* The bytes given so far. */
uint64_t mgz_given(const mgz *z);
void mgz_close(mgz *z);

/* 1 when the file at path starts with gzip's magic bytes (1f 8b); 0 otherwise or when it cannot
 * be read. */
int mgz_sniff(const char *path);

#endif
