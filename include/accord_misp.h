/*
 * accord_misp.h - MISP events and feeds into the store (included by accord.h).
 *
 * MISP event JSON ({"Event": {...}}, a JSON array of them, or the API's {"response": [...]},
 * also gzip-compressed) is mapped to STIX 2.1 the way the MISP project's own STIX export
 * (misp-stix) does, with ids taken from the MISP UUIDs, and stored through the ordinary import
 * pipeline: every object is validated, a re-import changes nothing, a newer event timestamp adds
 * new versions.  docs/MISP.md has the mapping table.
 *
 * A MISP feed (a directory or HTTPS URL holding manifest.json, one EVENT-UUID.json per event
 * and hashes.csv) is followed incrementally: an event is fetched only when the store does not
 * already hold its report at the manifest's timestamp, so a pull is idempotent and an
 * interrupted pull resumes where it stopped (each event is committed in its own transaction).
 */
#ifndef ACCORD_MISP_H
#define ACCORD_MISP_H

#include "accord.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ACCORD_MISP_MAX_UNMAPPED 32

/* What a MISP import did.  Counters add up over the events of one call. */
typedef struct accord_misp_stats {
    uint64_t events;        /* events mapped */
    uint64_t events_failed; /* events not imported (unusable event, or rejected by the store) */
    uint64_t attributes;    /* attributes read (standalone and inside objects) */
    uint64_t objects;       /* MISP objects read */
    uint64_t indicators;    /* indicators written (to_ids attributes and objects) */
    uint64_t terms;         /* comparison terms in those indicators' STIX patterns */
    uint64_t observed;      /* observed-data written */
    uint64_t custom;        /* attributes kept as x-misp-attribute (no STIX equivalent) */
    uint64_t revoked;       /* deleted attributes written as revoked */
    uint64_t sightings;     /* sightings (and false-positive opinions) written */
    uint64_t clusters;      /* galaxy clusters written as SDOs */
    uint64_t relationships; /* relationships written */
    uint64_t proposals;     /* proposals (ShadowAttribute) written as x-misp-proposal */
    uint64_t bad;           /* attributes or sightings skipped for a bad value (each reported) */
    uint64_t unchanged;     /* events of `events` not mapped again: this store took the same
                               text cleanly before (docs/MISP.md "Unchanged events") */
    uint64_t warnings;      /* things taken in but not as MISP writes them (each reported):
                               an attribute without a uuid or with a malformed one, a to_ids
                               that is no boolean, an attribute where an object is expected,
                               an Attribute or Object member that is not a list */
    /* Attribute types kept as x-misp-attribute, with counts; further types add to `other`. */
    struct {
        char type[48];
        uint64_t n;
    } unmapped[ACCORD_MISP_MAX_UNMAPPED];
    unsigned nunmapped;
    uint64_t unmapped_other;
    accord_import_stats store; /* what the store did with the STIX objects */
} accord_misp_stats;

typedef struct accord_misp_options {
    unsigned flags;         /* ACCORD_IMPORT_STRICT: any error rejects the whole input */
    const char *source;     /* name of the input in messages ("-" = stdin) */
    const char *collection; /* collection id or alias; NULL = the default collection */
    /* One line per problem: a bad attribute, an unusable event, an object the store rejected.
       Messages name the source, the event uuid and the attribute's path. */
    void (*on_error)(void *ud, const char *msg);
    /* After each event was stored (or failed): its uuid and info (may be NULL). */
    void (*on_event)(void *ud, const char *uuid, const char *info, int failed);
    void *ud;
} accord_misp_options;

/*
 * Imports every MISP event in text[0..len) (JSON, not compressed).  Returns 0 when everything
 * was stored; ACCORD_ESTIX when some attributes or events were skipped or rejected (the rest is
 * stored, each problem reported through on_error); ACCORD_EJSON when the text is not JSON or holds
 * no MISP event; ACCORD_ESTRICT when the STRICT flag rejected the input (nothing stored).
 */
ACCORD_API int accord_misp_import_mem(accord_store *store, const char *text, size_t len,
                                      const accord_misp_options *opts, accord_misp_stats *st,
                                      accord_error *err);
/* The same for a whole input read from fd (gzip recognised by its magic bytes). */
ACCORD_API int accord_misp_import_fd(accord_store *store, int fd,
                                     const accord_misp_options *opts, accord_misp_stats *st,
                                     accord_error *err);

/*
 * Maps without a store: calls emit(ud, json, len) with each STIX object (compact JSON, one
 * object) produced from the events of text[0..len).  The stats' store part stays zero.  Same
 * return codes as accord_misp_import_mem; emit returning non-zero stops the walk with that code.
 */
ACCORD_API int accord_misp_map_mem(const char *text, size_t len, const accord_misp_options *opts,
                                   int (*emit)(void *ud, const char *json, size_t len), void *ud,
                                   accord_misp_stats *st, accord_error *err);

/* Reads all of fd (gzip recognised by its magic bytes) into *text (free() it), NUL-terminated. */
ACCORD_API int accord_misp_read_fd(int fd, char **text, size_t *len, accord_error *err);

/* Adds stats `b` into `a` (unmapped types merged). */
ACCORD_API void accord_misp_stats_add(accord_misp_stats *a, const accord_misp_stats *b);

/* ---- feeds ------------------------------------------------------------------------------ */

typedef struct accord_misp_feed {
    const char *name;    /* 1-64 of [A-Za-z0-9_.-] */
    const char *url;     /* a directory, or an https:// URL (http:// only to a loopback host) */
    const char *ca_file; /* PEM CA bundle for HTTPS, or NULL for the system's */
    const char *pin;     /* "sha256//BASE64" public key pin for HTTPS, or NULL */
    int64_t last_pull_us; /* when the last pull ended, 0 = never */
    uint64_t last_events; /* events in the manifest at the last pull */
} accord_misp_feed;

/*
 * Adds or replaces feed `f` (name, url, ca_file, pin) in data directory dir's feed list
 * (DIR/misp-feeds.json, written atomically), with one audit record in store (the store of dir;
 * action "misp-feed-add", ref the feed's name, detail "added: URL" or "replaced: URL").
 * Errors: ACCORD_EINVAL (name, url, no store), ACCORD_EIO, the store's.
 */
ACCORD_API int accord_misp_feed_add(accord_store *store, const char *dir,
                                    const accord_misp_feed *f, accord_error *err);
/* Removes feed `name`, with one audit record ("misp-feed-remove"); ACCORD_ENOTFOUND when there
 * is none (nothing recorded). */
ACCORD_API int accord_misp_feed_remove(accord_store *store, const char *dir, const char *name,
                                       accord_error *err);
/* Calls cb for every feed of dir, in name order; cb returning non-zero stops the walk. */
ACCORD_API int accord_misp_feed_list(const char *dir,
                                     int (*cb)(void *ud, const accord_misp_feed *f), void *ud,
                                     accord_error *err);

/* What one pull did, per feed. */
typedef struct accord_misp_pull_stats {
    uint64_t listed;    /* events in the manifest */
    uint64_t current;   /* already stored at the manifest's timestamp: not fetched */
    uint64_t fetched;   /* fetched and imported */
    uint64_t missing;   /* listed but absent from the feed (reported, not fatal) */
    uint64_t failed;    /* fetched but unusable or rejected */
    uint64_t hashes;    /* lines of the feed's hashes.csv (0: the feed has none) */
    uint64_t out_of_step; /* fetched events whose values hashes.csv does not list, or whose
                             hashes.csv lines match none of their values (reported, imported) */
    accord_misp_stats misp;
} accord_misp_pull_stats;

/*
 * Pulls feed `name` (NULL = every feed of dir) into store: reads manifest.json, and imports each
 * event whose report the store does not hold at the manifest's timestamp, one transaction per
 * event.  Problems go to opts->on_error; each event's outcome to opts->on_event.  Returns 0, or
 * ACCORD_ESTIX when some events were missing or failed, ACCORD_EIO / ACCORD_EJSON when the
 * manifest cannot be read (that feed is skipped), ACCORD_ENOTFOUND for an unknown name.
 */
ACCORD_API int accord_misp_feed_pull(accord_store *store, const char *dir, const char *name,
                                     const accord_misp_options *opts,
                                     accord_misp_pull_stats *st, accord_error *err);

#ifdef __cplusplus
}
#endif

#endif /* ACCORD_MISP_H */
