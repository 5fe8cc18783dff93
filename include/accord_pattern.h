/*
 * accord_pattern.h - STIX patterning in libaccord (part of the public API; included by accord.h).
 *
 * Three objects:
 *   accord_pattern          one compiled pattern (immutable once compiled: share it freely
 *                           between threads)
 *   accord_pattern_obs      a set of observations (observed-data objects and the objects they
 *                           observed), loaded from JSON, to evaluate single patterns against
 *   accord_pattern_set      many compiled patterns, indexed by the (object type, property,
 *                           constant) they require; immutable once built
 *   accord_pattern_matcher  one thread's streaming state over a set: feed it observations one at
 *                           a time; it reports the patterns each one completes
 *
 * Ownership follows accord.h: arguments are borrowed, handles are allocated by the library and
 * freed by their _free function, which accepts NULL.  A matcher borrows its set: free the matcher
 * first.
 *
 * Errors: ACCORD_EINVAL for an invalid pattern or observation (the message names the byte offset,
 * counted from 1, the token found and what was expected), or for an evaluation error (a malformed
 * timestamp in the data compared with a t'' literal, a regular expression over its match limit);
 * ACCORD_ELIMIT when a pattern or a search exceeds a documented limit; ACCORD_ENOMEM.
 */
#ifndef ACCORD_PATTERN_H
#define ACCORD_PATTERN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef ACCORD_API
#if defined(ACCORD_BUILDING) && defined(__GNUC__)
#define ACCORD_API __attribute__((visibility("default")))
#else
#define ACCORD_API
#endif
#endif

struct accord_error;

typedef struct accord_pattern accord_pattern;
typedef struct accord_pattern_obs accord_pattern_obs;
typedef struct accord_pattern_set accord_pattern_set;
typedef struct accord_pattern_matcher accord_pattern_matcher;

enum {
    ACCORD_PATTERN_STIX20 = 1 << 0, /* the STIX 2.0 grammar (default: STIX 2.1) */
};

/*
 * Compiles text[0..len) (need not be NUL-terminated).  On success *out owns the pattern; free it
 * with accord_pattern_free.  ACCORD_EINVAL with "offset N: expected X, found Y" in err when the
 * pattern is invalid; ACCORD_ELIMIT past the engine's limits (nesting 64, 64 observation
 * expressions, 1024 comparisons, 1 MiB).
 */
ACCORD_API int accord_pattern_compile(const char *text, size_t len, unsigned flags,
                                      accord_pattern **out, struct accord_error *err);
/* Frees a compiled pattern; accepts NULL. */
ACCORD_API void accord_pattern_free(accord_pattern *p);
/* Compiles and discards: 0 when text is a valid pattern, else the compile error. */
ACCORD_API int accord_pattern_check(const char *text, size_t len, unsigned flags,
                                    struct accord_error *err);
/* The pattern's source text (NUL-terminated, owned by the pattern). */
ACCORD_API const char *accord_pattern_text(const accord_pattern *p);

/* ------------------------------------------------------------------------------------------ */
/* A set of observations, and one pattern against it                                          */

/* A new, empty observation set in *out (free with accord_pattern_obs_free). */
ACCORD_API int accord_pattern_obs_new(accord_pattern_obs **out);
ACCORD_API void accord_pattern_obs_free(accord_pattern_obs *obs);
/* Empties the set, keeping its memory for reuse. */
ACCORD_API void accord_pattern_obs_clear(accord_pattern_obs *obs);

/*
 * Adds the observed-data of one JSON document: a bundle (its observed-data objects; their 2.1
 * object_refs resolve to the bundle's other objects), a JSON array of objects (treated like a
 * bundle's objects), or one observed-data object carrying `objects` (STIX 2.0, or the deprecated
 * STIX 2.1 form).  Other objects are ignored.  ACCORD_EJSON for invalid JSON, ACCORD_EINVAL for
 * an observed-data object that lacks first_observed, last_observed or number_observed, or whose
 * object_refs name an object the document does not hold.  The text is copied.
 */
ACCORD_API int accord_pattern_obs_add_json(accord_pattern_obs *obs, const char *json, size_t len,
                                           struct accord_error *err);
/* Observations in the set. */
ACCORD_API size_t accord_pattern_obs_count(const accord_pattern_obs *obs);
/* The id of observation i (the observed-data id), owned by the set; NULL when i is out of range. */
ACCORD_API const char *accord_pattern_obs_id(const accord_pattern_obs *obs, size_t i);

#define ACCORD_PATTERN_BINDING_MAX 64

/* The observations of one binding: indices into the observation set, in pattern leaf order. */
typedef struct accord_pattern_binding {
    size_t n;
    uint32_t obs[ACCORD_PATTERN_BINDING_MAX];
} accord_pattern_binding;

/*
 * Evaluates p against every observation of obs.  *matched is 1 when some binding satisfies the
 * pattern, else 0; when binding is not NULL and there was a match, it receives the observations
 * of the first binding found.  Returns 0, or ACCORD_EINVAL (evaluation error, with the
 * message), ACCORD_ELIMIT (the search exceeded its bounds), ACCORD_ENOMEM.
 */
ACCORD_API int accord_pattern_match(const accord_pattern *p, const accord_pattern_obs *obs,
                                    int *matched, accord_pattern_binding *binding,
                                    struct accord_error *err);

/* ------------------------------------------------------------------------------------------ */
/* Many patterns, streaming                                                                     */

/* A new, empty pattern set in *out (free with accord_pattern_set_free). */
ACCORD_API int accord_pattern_set_new(accord_pattern_set **out);
/* Frees the set and the patterns it holds; accepts NULL. */
ACCORD_API void accord_pattern_set_free(accord_pattern_set *set);
/*
 * Compiles text and adds it with the caller's `tag` (reported on matches).  Fails with
 * ACCORD_EINVAL once the set is built.  Compile errors as accord_pattern_compile.
 */
ACCORD_API int accord_pattern_set_add(accord_pattern_set *set, const char *text, size_t len,
                                      unsigned flags, uint64_t tag, struct accord_error *err);
/* Builds the index; after it the set is immutable and may be shared by matchers of any thread. */
ACCORD_API int accord_pattern_set_build(accord_pattern_set *set, struct accord_error *err);
/* Patterns in the set. */
ACCORD_API size_t accord_pattern_set_count(const accord_pattern_set *set);

/* Called for each pattern an observation completes: its tag and its index in add order. */
typedef void (*accord_pattern_hit_cb)(void *ud, uint64_t tag, size_t index);

/* Per-matcher counters. */
typedef struct accord_pattern_stats {
    uint64_t observations; /* observations fed */
    uint64_t candidates;   /* (observation, pattern leaf) pairs evaluated after the index */
    uint64_t hits;         /* patterns reported */
    uint64_t errors;       /* evaluations that failed (counted as no match) */
} accord_pattern_stats;

/*
 * A new matcher over a built set (borrowed: it must outlive the matcher).  The matcher holds the
 * temporal state of the set's multi-observation patterns, bounded per pattern.
 */
ACCORD_API int accord_pattern_matcher_new(const accord_pattern_set *set,
                                          accord_pattern_matcher **out);
ACCORD_API void accord_pattern_matcher_free(accord_pattern_matcher *m);
/*
 * Feeds one JSON document (as accord_pattern_obs_add_json reads it; usually one observed-data
 * object, or a bundle of one observed-data and its objects) and calls cb for every pattern that
 * it completes.  Observations should arrive roughly in time order: temporal state older than the
 * patterns' windows is dropped.  Evaluation errors of single patterns are counted, not returned.
 * Returns 0, ACCORD_EJSON, ACCORD_EINVAL (not observed-data), ACCORD_ENOMEM.
 */
ACCORD_API int accord_pattern_matcher_feed(accord_pattern_matcher *m, const char *json,
                                           size_t len, accord_pattern_hit_cb cb, void *ud,
                                           struct accord_error *err);
ACCORD_API void accord_pattern_matcher_stats(const accord_pattern_matcher *m,
                                             accord_pattern_stats *out);

#ifdef __cplusplus
}
#endif

#endif
