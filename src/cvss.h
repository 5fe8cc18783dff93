/*
 * cvss.h - CVSS v3.0, v3.1 and v4.0 vector strings: parsed, checked and scored.
 *
 * A vector is outside input (a case's reporter types it, a vendor's CSAF carries it), so the
 * parser names the metric at fault and its byte offset.  Scores are computed exactly as the
 * FIRST specifications define them (v3.x section 7 formulas with their Roundup; v4.0 by macro
 * vector lookup and interpolation, section 8), never taken from the input.
 */
#ifndef ACCORD_CVSS_H
#define ACCORD_CVSS_H

#include <stddef.h>

typedef enum cvss_version { CVSS_V30 = 30, CVSS_V31 = 31, CVSS_V40 = 40 } cvss_version;

typedef struct cvss_score {
    cvss_version version;
    double base;          /* base score (v4.0: the CVSS-B/BT/BE/BTE score the vector defines) */
    double temporal;      /* v3.x temporal score (the base score when no temporal metric) */
    double environmental; /* v3.x environmental score (the temporal one when none given) */
    const char *severity; /* of base: "NONE", "LOW", "MEDIUM", "HIGH", "CRITICAL" */
    char vector[160];     /* the vector as given */
} cvss_score;

/*
 * Parses and scores vector (NUL-terminated, e.g. "CVSS:3.1/AV:N/AC:L/..." or
 * "CVSS:4.0/AV:N/AC:L/AT:N/..."). Returns 0, or -1 with a message in err (errlen bytes) naming the
 * metric and its offset.  Every mandatory base metric must be present once, in any order for
 * v3.x and in the specification's order for v4.0.
 */
int cvss_parse(const char *vector, cvss_score *out, char *err, size_t errlen);

/* The qualitative severity rating of a score (v3.x and v4.0 share the bands). */
const char *cvss_severity(double score);

#endif
