/*
 * jcs.h - RFC 8785 canonical JSON of an already parsed tree (the contract; src/jcs.c explains).
 *
 * The signing code canonicalises objects it has parsed and edited (an object without its
 * signature extension), so the serialiser works on an ajson_value tree; accord_jcs() in
 * accord_trust.h is the parse-then-serialise convenience for text.
 */
#ifndef ACCORD_JCS_H
#define ACCORD_JCS_H

#include "accord.h"
#include "util/buf.h"
#include "util/json.h"

/*
 * Appends the canonical form of v to out.  Returns 0, ACCORD_EJSON for a number that cannot be
 * canonicalised (overflow, integer literal beyond 2^53: *bad is then that value), ACCORD_ENOMEM
 * when out fails (its cap or memory).  Messages are the caller's to write from *bad.
 */
int jcs_write(buf *out, const ajson_value *v, const ajson_value **bad);

/* 1 when the NUMBER text is an integer literal (no '.', 'e', 'E') of magnitude above 2^53. */
int jcs_integer_too_big(const char *num, size_t len);

#endif
