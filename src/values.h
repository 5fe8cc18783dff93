/*
 * values.h - the observable values an object mentions, for the value index.
 *
 * An object mentions a value when one of its SCO properties holds it (ipv4-addr.value,
 * file.hashes.'SHA-256', ...) or when an indicator's pattern compares an object path with it as a
 * constant ([domain-name:value = 'evil.example']).  Every value is normalised by one rule that
 * does not depend on where it came from, so that `accord search VALUE` finds it without being told
 * the kind: canonical IPv4/IPv6 address and CIDR text, lower-case domain names, e-mail addresses
 * and hex hashes, URLs with lower-case scheme and host.
 */
#ifndef ACCORD_VALUES_H
#define ACCORD_VALUES_H

#include <stddef.h>
#include "util/json.h"

#define VALUE_MAX 2048 /* longer values are not indexed */

/* Receives one normalised value (NUL-terminated, len bytes). */
typedef void (*value_cb)(void *ud, const char *value, size_t len);

/*
 * Calls cb once per normalised value that obj (a valid STIX object of type `type`) mentions.
 * The same value may be reported more than once.  Values longer than VALUE_MAX are skipped.
 */
void values_extract(const ajson_value *obj, const char *type, value_cb cb, void *ud);

/*
 * Normalises in[0..len) into out (outlen bytes, NUL-terminated).  Returns the length written, or
 * -1 when it does not fit or the value is empty.
 */
long value_normalize(const char *in, size_t len, char *out, size_t outlen);

#endif
