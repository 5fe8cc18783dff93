/*
 * timestamp.h - RFC 3339 UTC timestamps as STIX writes them: YYYY-MM-DDTHH:MM:SS[.fraction]Z.
 */
#ifndef ACCORD_UTIL_TIMESTAMP_H
#define ACCORD_UTIL_TIMESTAMP_H

#include <stddef.h>
#include <stdint.h>

typedef struct ts_value {
    int64_t sec;  /* seconds since 1970-01-01T00:00:00Z */
    int32_t nsec; /* nanoseconds; fraction digits past 9 are ignored */
    int digits;   /* fraction digits as written */
} ts_value;

/* Parses s (exactly, no trailing bytes); 0, or -1 when it is not a valid UTC timestamp. */
int ts_parse(const char *s, ts_value *out);
/* <0, 0, >0 as a is before, equal to, after b. */
int ts_cmp(const ts_value *a, const ts_value *b);
/* Writes microseconds since the epoch as YYYY-MM-DDTHH:MM:SS.ffffffZ (out: at least 28 bytes). */
void ts_format_us(int64_t us, char *out, size_t outlen);
/* Current time in microseconds since the epoch. */
int64_t ts_now_us(void);

#endif
