/*
 * nats_temporal.h - multi-observation indicators (FOLLOWEDBY, REPEATS, WITHIN, AND/OR of
 * observations) over telemetry that many workers matched in chunks.
 *
 * A worker does not combine the observations of such an indicator itself (it sees only some
 * chunks of a source): it reports each event that matched some of its observation expressions
 * as an observation line among the chunk's results, and once per chunk and pattern the
 * pattern's text.  The collector feeds those lines, per source in the order of the source
 * (chunks by byte offset, lines in chunk order), to one temporal state per (source, pattern),
 * which is the pattern engine's own (pattern_history: the same rings, expiry and binding search
 * as a single accord match), and reports what they complete.
 *
 * Result lines (one JSON object per line, beside the match lines of nats_msg.h):
 *
 *   line          members
 *   observation   "obs": {"key": K, "leaves": L, "t": [FIRST_S, FIRST_NS, LAST_S, LAST_NS, COUNT]}
 *                 and, as a match line, "line", "time", "indicators" (one), "event"
 *   pattern       "pattern": {"key": K, "v20": 0|1, "text": "<the STIX pattern>"}
 *
 * K is the pattern's version hash (its indicator's id, modified and pattern: the snapshot's
 * cver), 16 lower-case hex digits, so state carries over a snapshot that keeps the indicator
 * unchanged, as accord match carries it over a reload; L the leaves matched, bit i = the i-th
 * observation expression in the text, as hex (1-16 digits); times are seconds since the epoch
 * (|s| <= 10^12) and nanoseconds (0..999999999); COUNT is number_observed (>= 1).
 */
#ifndef ACCORD_NATS_TEMPORAL_H
#define ACCORD_NATS_TEMPORAL_H

#include "pattern.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/u64map.h"

#include <stddef.h>
#include <stdint.h>

typedef struct ntemp_obs {
    uint64_t key, leaves;
    pattern_tobs t;
} ntemp_obs;

/* The "obs" member of result line o: 1 with *out set, 0 when o has none, -1 with the reason
 * (static text) in *why when it is not as above. */
int ntemp_obs_read(const ajson_value *o, ntemp_obs *out, const char **why);
/* The "pattern" member of result line o: 1 with key, text (in o) and v20 set, 0 when o has
 * none, -1 with the reason in *why. */
int ntemp_pattern_read(const ajson_value *o, uint64_t *key, const char **text, size_t *len,
                       int *v20, const char **why);
/* Writes o's "obs" member (without braces around the line) to out; 0 or -1 (out's cap). */
int ntemp_obs_write(const ntemp_obs *o, buf *out);

typedef struct ntemporal ntemporal;

int ntemporal_new(ntemporal **out);
void ntemporal_free(ntemporal *t);
/* 1 when pattern key is defined. */
int ntemporal_known(const ntemporal *t, uint64_t key);
/* Compiles text[0..len) as pattern key (STIX 2.0 grammar when v20).  0 (also when it was
 * defined), ACCORD_EINVAL with the reason in err (not a multi-observation pattern, or it does
 * not compile), ACCORD_ENOMEM. */
int ntemporal_define(ntemporal *t, uint64_t key, const char *text, size_t len, int v20,
                     accord_error *err);
/*
 * Feeds observation o of source (in source order): 1 when it completes a combination of its
 * pattern, 0 when not; ACCORD_ENOTFOUND when its pattern is not defined, ACCORD_EINVAL when it
 * names a leaf the pattern does not have, ACCORD_ELIMIT, ACCORD_ENOMEM.
 */
int ntemporal_add(ntemporal *t, const char *source, const ntemp_obs *o);
/*
 * How many of obs[0..n), the observations of pattern key fed to one source in that order, no
 * state holds any more nor ever will: the longest prefix each of whose members started at or
 * before the end of an observation at or after it minus the pattern's outermost WITHIN (the
 * history dropped it when that observation came, and a ring drops its oldest first).  Feeding
 * obs[k..n) to an empty state leaves the state that feeding obs[0..n) left, so what later
 * observations complete is the same; the collector deletes those k and rebuilds from the rest.
 * 0 when the pattern is not defined or has no outermost WITHIN (its rings drop by count only).
 */
size_t ntemporal_prunable(const ntemporal *t, uint64_t key, const pattern_tobs *obs, size_t n);
/* Forgets the state of every source (they are fed again from their start). */
void ntemporal_reset(ntemporal *t);
/* 1 when source has state here (it was fed since the last reset or ntemporal_mark). */
int ntemporal_has_source(const ntemporal *t, const char *source);
/* Records that source has state here (fed from its start), even when nothing of it was fed. */
int ntemporal_mark(ntemporal *t, const char *source);

#endif
