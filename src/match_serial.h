/*
 * match_serial.h - a compiled indicator snapshot as bytes, and back (match_serial.c).
 *
 * One node compiles the indicators once and ships the result; the hosts that match load it
 * without parsing or compiling a single fast-path pattern (docs/scale-out.md, "The snapshot
 * format", describes the bytes).
 */
#ifndef ACCORD_MATCH_SERIAL_H
#define ACCORD_MATCH_SERIAL_H

#include "accord.h"
#include "util/buf.h"

#include <stddef.h>

#define MSER_MAGIC "ACCORDSN"
#define MSER_VERSION 1u

/* Appends the serialised form of s to out.  0, ACCORD_ENOMEM (out's cap included), or
 * ACCORD_EINVAL on a big-endian host (the format is little-endian, written as the tables lie
 * in memory). */
int msnap_serialise(const accord_snapshot *s, buf *out);

/*
 * Loads a snapshot from p[0..len), which may come from anywhere: every count, length, offset,
 * table slot and reference is checked before it is used.  0 with *out (one reference), or
 * ACCORD_EINVAL with err->msg naming the section and byte offset of the first fault (or the
 * pattern-engine pattern that does not compile), or ACCORD_ENOMEM.
 */
int msnap_load(const void *p, size_t len, accord_snapshot **out, accord_error *err);

/* 1 when p[0..len) starts with the magic of the format (any version), else 0. */
int msnap_is_serialised(const void *p, size_t len);

/* Recomputes the section and table checksums of p[0..len) in place, so that tests and the
 * fuzz target reach the checks behind them with altered contents.  0, or -1 when p has no
 * readable header. */
int msnap_reseal(void *p, size_t len);

#endif
