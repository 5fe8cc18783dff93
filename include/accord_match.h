/*
 * accord_match.h - applying indicators to telemetry (part of the public API; included by
 * accord.h).
 *
 * Two objects:
 *   accord_snapshot   a compiled indicator set: immutable once built and reference-counted, so
 *                     any number of matchers in any threads share it without locks; a new one is
 *                     built beside it and swapped in by the caller
 *   accord_matcher    one thread's matching state over a snapshot: feed it telemetry lines,
 *                     iterate the matches and malformed lines of each call
 *
 * A snapshot is made by a builder: add indicators (from the store, from STIX files, or one at a
 * time), then build.  Indicator patterns that are single comparisons, or ORs of equality
 * comparisons, on one observable value (ipv4-addr / ipv6-addr addresses and CIDRs, domain-name
 * including LIKE '%.example.com', url, email-addr, file and x509-certificate hashes) are compiled
 * into specialised tables; every other pattern goes to the pattern engine (accord_pattern.h),
 * evaluated against each event as an observation.
 *
 * Telemetry: JSON lines (Zeek JSON logs, Suricata eve.json, recognised by their keys), Zeek TSV
 * logs (by their header), and plain text, one value per line; or events of values already decoded
 * (accord_matcher_match_values). What an event is, field by field, and how its values are
 * normalised is documented in src/match.c and src/match_input.c.
 *
 * Ownership follows accord.h.  A matcher holds a reference to its snapshot; the snapshot is freed
 * when its last reference is dropped.
 */
#ifndef ACCORD_MATCH_H
#define ACCORD_MATCH_H

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
struct accord_store;

typedef struct accord_snapshot accord_snapshot;
typedef struct accord_snapshot_builder accord_snapshot_builder;
typedef struct accord_matcher accord_matcher;
typedef struct accord_field_map accord_field_map;

/* ------------------------------------------------------------------------------------------ */
/* Snapshots                                                                                    */

/* What a snapshot holds. */
typedef struct accord_snapshot_stats {
    uint64_t indicators; /* indicators taken */
    uint64_t simple;     /* compiled into the fast tables */
    uint64_t complex;    /* evaluated by the pattern engine */
    uint64_t skipped;    /* not taken: revoked, expired, not a STIX pattern, invalid pattern */
    uint64_t ipv4, ipv4_prefixes, ipv6, ipv6_prefixes; /* distinct keys per table */
    uint64_t domains, domain_suffixes, urls, emails, hashes;
    uint64_t normalised; /* literals the fast path matches in their normalised form (upper-case
                            hashes and domain names, non-canonical IPv6 text, CIDR by `=`) */
    uint64_t memory;     /* bytes held by the tables and indicator records */
    double build_seconds;
    uint64_t ports;       /* network-traffic keys: a side's port, address, or both */
    uint64_t user_agents; /* HTTP User-Agent strings */
    uint64_t user_agent_patterns; /* distinct HTTP User-Agent LIKE patterns */
} accord_snapshot_stats;

/* One indicator of a snapshot. */
typedef struct accord_indicator_info {
    char id[160];          /* "indicator--<uuid>" */
    const char *name;      /* owned by the snapshot; "" when the indicator has none */
    int64_t valid_from_s;  /* seconds since the epoch */
    int64_t valid_until_s; /* INT64_MAX when it has no end */
    const char *labels;    /* owned by the snapshot: its labels as a JSON array text, "[]" when
                              none (or when added by accord_snapshot_builder_add) */
    const char *tlp;       /* owned by the snapshot: the strictest TLP marking of its
                              object_marking_refs ("clear", "green", "amber", "amber+strict",
                              "red"; TLP 1.0 WHITE is "clear"), "" when unmarked */
} accord_indicator_info;

/* A new, empty builder in *out.  `now_s` (seconds since the epoch; 0 = the current time) decides
 * which indicators have expired. */
ACCORD_API int accord_snapshot_builder_new(int64_t now_s, accord_snapshot_builder **out);
ACCORD_API void accord_snapshot_builder_free(accord_snapshot_builder *b);

/*
 * Adds one indicator: id ("indicator--<uuid>"), name (may be NULL), its STIX pattern, and its
 * validity (seconds; valid_until_s 0 = no end).  An indicator already expired at now_s is
 * skipped; an indicator added twice keeps the last.  ACCORD_EINVAL with the compile error in err
 * when the pattern is not valid, or with the reason when the id is empty or longer than 159
 * bytes (accord_indicator_info.id could not give it back); the builder stays usable.
 */
ACCORD_API int accord_snapshot_builder_add(accord_snapshot_builder *b, const char *id,
                                           const char *name, const char *pattern,
                                           int64_t valid_from_s, int64_t valid_until_s,
                                           struct accord_error *err);
/*
 * Adds one STIX indicator object given as JSON.  Other object types, revoked and expired
 * indicators and patterns that are not pattern_type "stix" are counted as skipped and return 0.
 * ACCORD_EJSON / ACCORD_EINVAL for invalid JSON or pattern.
 */
ACCORD_API int accord_snapshot_builder_add_json(accord_snapshot_builder *b, const char *json,
                                                size_t len, struct accord_error *err);
/* Adds the active indicators of the store: the latest version of each, not revoked, valid now.
 * Invalid ones are counted as skipped. */
ACCORD_API int accord_snapshot_builder_add_store(accord_snapshot_builder *b,
                                                 struct accord_store *store,
                                                 struct accord_error *err);
/*
 * Adds the indicators of a STIX input read from fd (bundles, arrays, JSON lines, .gz), as
 * accord_import_fd reads them.  Where one id appears more than once, the greatest `modified`
 * wins.  Invalid objects are counted as skipped; ACCORD_EJSON / ACCORD_EIO when the input
 * itself is broken (what came before is kept).
 */
ACCORD_API int accord_snapshot_builder_add_fd(accord_snapshot_builder *b, int fd,
                                              struct accord_error *err);
/* Compiles what was added into a snapshot (*out holds one reference).  The builder is then
 * empty and may be freed or reused. */
ACCORD_API int accord_snapshot_build(accord_snapshot_builder *b, accord_snapshot **out,
                                     struct accord_error *err);

/* Takes another reference (atomic); returns s. */
ACCORD_API accord_snapshot *accord_snapshot_ref(accord_snapshot *s);
/* Drops a reference; the last one frees the snapshot.  Accepts NULL. */
ACCORD_API void accord_snapshot_unref(accord_snapshot *s);
ACCORD_API void accord_snapshot_stats_get(const accord_snapshot *s, accord_snapshot_stats *out);
ACCORD_API size_t accord_snapshot_count(const accord_snapshot *s);
/* Indicator number i (as in accord_match.indicators); ACCORD_ENOTFOUND when out of range. */
ACCORD_API int accord_snapshot_indicator(const accord_snapshot *s, size_t i,
                                         accord_indicator_info *out);

/* ------------------------------------------------------------------------------------------ */
/* Matchers                                                                                     */

/* One match: an event value that some indicators name, or an event a complex pattern matched. */
typedef struct accord_match {
    uint64_t line;     /* 1-based line number within the buffer given */
    const char *field; /* the event's field ("id.resp_h", "dns.rrname", "url", "value"), or
                          NULL for a complex pattern */
    const char *value; /* the matched value, normalised (not NUL-terminated), or NULL */
    size_t value_len;
    const char *time; /* the event's time as written (not NUL-terminated), or NULL */
    size_t time_len;
    int time_is_string; /* the time was a JSON string (else a number) */
    const char *event;  /* the event line (not NUL-terminated, no newline) */
    size_t event_len;
    const uint32_t *indicators; /* indicator numbers (see accord_snapshot_indicator) */
    size_t nindicators;
    /* Traffic of the event, for flow records (0 = unknown; accord_matcher_next sets 0, the flow
     * inputs set them): octets and packets as the exporter counted them, and its 1-in-N packet
     * sampling interval.  Sightings sum them per group (accord_sightings_add_match). */
    uint64_t bytes, packets;
    uint32_t sampling;
} accord_match;

/* A line that was skipped because it could not be read. */
typedef struct accord_match_malformed {
    uint64_t line;      /* 1-based line number within the buffer given */
    uint64_t offset;    /* byte offset of the fault within the line */
    const char *reason; /* static text */
} accord_match_malformed;

/* A matcher's counters (accord_matcher_stats_get).  Every line given is one of: empty, a '#'
 * line (a header or a comment), an event or malformed; so lines >= events + malformed. */
typedef struct accord_matcher_stats {
    uint64_t lines;          /* lines given, empty and '#' lines too */
    uint64_t events;         /* lines read as events (JSON objects, TSV rows, plain values), and
                                events given to accord_matcher_match_values; not malformed lines */
    uint64_t bytes;          /* bytes given to accord_matcher_match_lines */
    uint64_t values;         /* values looked up (addresses, names, URLs, digests ...) */
    uint64_t matches;        /* results reported */
    uint64_t malformed;      /* lines skipped because they could not be read */
    uint64_t expired;        /* hits of indicators not valid at the time given, not reported */
    uint64_t complex_errors; /* events the pattern engine could not take (no memory) */
} accord_matcher_stats;

/* A matcher over s (it takes a reference). */
ACCORD_API int accord_matcher_new(accord_snapshot *s, accord_matcher **out);
ACCORD_API void accord_matcher_free(accord_matcher *m);
/*
 * Carries the partial matches of pattern-engine indicators (the events a FOLLOWEDBY, WITHIN or
 * REPEATS pattern has seen so far) from `from` into `to`, a new matcher over a reloaded
 * snapshot that has matched nothing yet, for each indicator both snapshots hold unchanged: the
 * same id, `modified` and pattern.  An indicator revoked, expired or changed at the reload
 * starts afresh.  Call it before freeing `from`.  Returns how many indicators were carried,
 * ACCORD_EINVAL when `to` has matched events already, or ACCORD_ENOMEM (nothing is carried).
 */
ACCORD_API long accord_matcher_carry(accord_matcher *to, const accord_matcher *from);

/*
 * Matches every line of buf[0..len) (lines end in '\n'; a last line without one counts; empty
 * lines and lines starting with '#' are skipped).  The matches and malformed lines of this call
 * are then iterated with accord_matcher_next / accord_matcher_next_malformed; they stay valid
 * until the next call and point into buf, which must stay unchanged until then.  Indicators
 * whose validity does not include now_s (0 = the current time) are not reported.  Returns the
 * number of matches, or ACCORD_ENOMEM (the matches so far are kept).  A malformed line never
 * stops the call.
 */
ACCORD_API long accord_matcher_match_lines(accord_matcher *m, const char *buf, size_t len,
                                           int64_t now_s);
/*
 * Zeek TSV logs: a line starting with '#' that is a Zeek header line (#separator,
 * #set_separator, #empty_field, #unset_field, #fields, #types; #close ends it) sets the header
 * in effect, kept across calls: the lines that follow (other than '{' JSON lines) are rows of
 * that log, their columns read as the keys of the same names in Zeek JSON.  When a log is cut
 * into buffers matched by different matchers, each matcher is given the header in effect at the
 * start of its buffer with accord_matcher_set_header: it forgets the header it had and reads
 * the '#' lines of text[0..len) (NULL: none; plain values and JSON lines again).
 */
ACCORD_API void accord_matcher_set_header(accord_matcher *m, const char *text, size_t len);
/* The next match of the last call: 1 with *out set, 0 when there are no more. */
ACCORD_API int accord_matcher_next(accord_matcher *m, accord_match *out);
/* The next malformed line of the last call: 1 with *out set, 0 when there are no more. */
ACCORD_API int accord_matcher_next_malformed(accord_matcher *m, accord_match_malformed *out);
/* Counters since the matcher was made. */
ACCORD_API void accord_matcher_stats_get(const accord_matcher *m, accord_matcher_stats *out);

/* ------------------------------------------------------------------------------------------ */
/* Field maps                                                                                   */

/*
 * A field map says which keys of JSON lines (and columns of Zeek TSV logs, by name) hold which
 * kind of value.  The built-in map knows Zeek JSON logs and Suricata eve.json; a configured map
 * is the built-in one plus the entries of a text, one per line:
 *
 *     # comment
 *     PATH = ROLE
 *
 * PATH names a key and the keys of the objects under it, joined by '.' ("event.dst.ip"); a key
 * holding '.', '=', '#', '"', a space or a tab is written in double quotes, in which \" and \\
 * stand for '"' and '\' ("id.orig_h" = src-ip maps the flat key of Zeek JSON); an array
 * on the way is entered element by element.  ROLE is one of: time, src-ip, dst-ip, src-port,
 * dst-port, proto, ip, domain, host, uri, url, email, md5, sha1, sha256, sha512, cert-fingerprint,
 * user-agent, text (the kind is decided by the value's shape, as for plain-text lines), url-host
 * (a URL, and its host as a domain name or address), fqdn (a host's own name: a domain name only
 * when it has a dot), or none (the key is ignored, also where the built-in map names it).  A host and a uri of one event make
 * a URL.  The
 * field name matches show is PATH without quotes.
 */

/* Parses a field map from text[0..len).  `source` (a file name, or NULL) names it in errors:
 * ACCORD_EINVAL with "SOURCE:LINE: what" in err, also for more than 4096 entries, 16 levels
 * or 4096 bytes in a line; ACCORD_ENOMEM. */
ACCORD_API int accord_field_map_parse(const char *text, size_t len, const char *source,
                                      accord_field_map **out, struct accord_error *err);
/* Accepts NULL. */
ACCORD_API void accord_field_map_free(accord_field_map *fm);
/* Reads lines of later calls with fm (NULL: the built-in map) instead of the map in use, and
 * forgets the Zeek TSV header in effect.  fm is borrowed: it must outlive m's use of it, and the
 * field names of matches point into it. */
ACCORD_API void accord_matcher_set_field_map(accord_matcher *m, const accord_field_map *fm);

/* ------------------------------------------------------------------------------------------ */
/* Decoded values                                                                               */

/*
 * For telemetry that is already decoded (flow records, dnstap, packet metadata): events given
 * as typed values, matched exactly as the JSON path would match an event with the same values
 * (the same normalisation, tables, validity and pattern-engine observation), without writing
 * or parsing any text.
 */
enum {
    ACCORD_VALUE_IPV4 = 1,   /* addr[0..4), network byte order */
    ACCORD_VALUE_IPV6 = 2,   /* addr[0..16), network byte order */
    ACCORD_VALUE_DOMAIN = 3, /* text: a domain name in text form (any case, a trailing dot
                                allowed); text that is an address is taken as the address */
    ACCORD_VALUE_URL = 4     /* text: an absolute URL ("http://host/path") */
};
enum {
    ACCORD_ROLE_NONE = 0,
    ACCORD_ROLE_SRC = 1, /* addresses: the source of the event's network-traffic */
    ACCORD_ROLE_DST = 2  /* addresses: the destination */
};

typedef struct accord_value {
    int type;          /* ACCORD_VALUE_* */
    int role;          /* ACCORD_ROLE_*; the first source and first destination address make
                          the network-traffic object complex patterns see */
    const char *field; /* shown as accord_match.field (NUL-terminated, must stay valid until the
                          next call on the matcher); NULL = "src", "dst", "ip", "domain" or
                          "url" by role and type */
    uint8_t addr[16];  /* IPV4, IPV6 */
    int32_t port;      /* with ROLE_SRC / ROLE_DST: the port, 0-65535; -1 = none */
    const char *text;  /* DOMAIN, URL (not NUL-terminated) */
    size_t text_len;
} accord_value;

/* One event: its values (at most 64 are taken) and what the network-traffic object gets. */
typedef struct accord_value_event {
    const accord_value *values;
    size_t nvalues;
    int64_t time_us;   /* the event time in microseconds since the epoch; 0 = none */
    const char *proto; /* "tcp", "udp" ... (NUL-terminated), or NULL */
} accord_value_event;

/*
 * Matches events ev[0..nev) like accord_matcher_match_lines matches lines: iterate the results
 * with accord_matcher_next.  In each match, line is the 1-based event number, event is NULL
 * (event_len 0), value is the normalised text (addresses in canonical form), and time is the
 * event time as "SECONDS.MICROSECONDS" (a number, time_is_string 0) or NULL.  Values that are
 * not valid for their type (an unknown type, a domain name that is not one) are ignored.  The
 * results point into the matcher and the caller's values (field names, text), which must stay
 * unchanged until the next call.  Returns the number of matches, or ACCORD_ENOMEM (the matches so
 * far are kept).
 */
ACCORD_API long accord_matcher_match_values(accord_matcher *m, const accord_value_event *ev,
                                            size_t nev, int64_t now_s);

/* ------------------------------------------------------------------------------------------ */
/* Sightings                                                                                    */

/*
 * Matches aggregated into STIX 2.1 sightings: per indicator and per interval of event time,
 * the count and the first and last times (src/match_sighting.c documents the objects and their
 * ids).  Not thread-safe: one per thread, or a lock around accord_sightings_add_match.
 */
typedef struct accord_sightings accord_sightings;
struct accord_import_stats;

/* A new aggregation over the indicators of snap (it takes a reference), in intervals of
 * interval_s seconds.  ACCORD_EINVAL, ACCORD_ENOMEM. */
ACCORD_API int accord_sightings_new(accord_snapshot *snap, int64_t interval_s,
                                    accord_sightings **out);
ACCORD_API void accord_sightings_free(accord_sightings *sg);
/* Counts match m (each of its indicators) at the event's time, or at default_us (0 = now) when
 * the event has none; its bytes, packets and sampling (when not 0) are added to the group's.  ACCORD_ENOMEM, or ACCORD_ELIMIT past 16M (indicator, interval) groups. */
ACCORD_API int accord_sightings_add_match(accord_sightings *sg, const accord_match *m,
                                          int64_t default_us);
/* Matches added from now on name indicators of snap (it takes a reference), e.g. after a new
 * snapshot was swapped in; the counts so far are kept and merged by indicator id.  0 (also when
 * snap is the current one), ACCORD_EINVAL, ACCORD_ENOMEM. */
ACCORD_API int accord_sightings_set_snapshot(accord_sightings *sg, accord_snapshot *snap);
/* The number of (indicator id, interval) groups, i.e. of sightings to write. */
ACCORD_API size_t accord_sightings_count(const accord_sightings *sg);
/* This node's identity id for data directory data_dir (the same on every run): "identity--"
 * and a UUID into out (outlen >= 47).  ACCORD_EINVAL. */
ACCORD_API int accord_node_identity(const char *data_dir, char *out, size_t outlen);
/* A STIX bundle of the node identity `identity` and one sighting per group, NUL-terminated, in
 * *out (the caller frees it with free()); *len its length.  ACCORD_EINVAL, ACCORD_ENOMEM. */
ACCORD_API int accord_sightings_bundle(const accord_sightings *sg, const char *identity, char **out,
                                       size_t *len);
/* Writes that bundle (identity of data_dir) to the store through accord_import_fd, into
 * `collection` (id or alias; NULL = the default collection).  Returns what the import
 * returns; *st (may be NULL) gets its counts. */
ACCORD_API int accord_sightings_store(const accord_sightings *sg, struct accord_store *store,
                                      const char *data_dir, const char *collection,
                                      struct accord_import_stats *st, struct accord_error *err);
/* 1 when a group counted since it was last written by accord_sightings_store_closed lies in an
 * interval that ended at or before before_us (microseconds since the epoch): a cheap test of
 * whether that call has something to write. */
ACCORD_API int accord_sightings_due(const accord_sightings *sg, int64_t before_us);
/* Writes, as accord_sightings_store does, the groups of the intervals that ended at or before
 * before_us (INT64_MAX: every interval) that were counted since they were last written by this
 * function, with their whole counts so far (the sighting ids are stable, so a group written
 * again is a new version of its sighting); they are then clean until counted again.  For a
 * long run (following logs) to write each interval as it closes.  *nstored: how many were
 * written; none due writes nothing.  On failure nothing is marked written. */
ACCORD_API int accord_sightings_store_closed(accord_sightings *sg, struct accord_store *store,
                                             const char *data_dir, const char *collection,
                                             int64_t before_us, size_t *nstored,
                                             struct accord_import_stats *st,
                                             struct accord_error *err);
/* 0 when `collection` (id or alias; NULL = the default collection) exists in store, so that
 * sightings can be written to it; ACCORD_ENOTFOUND (or ACCORD_EINVAL for an alias of several
 * API roots) with err naming it.  A long run checks it before it starts. */
ACCORD_API int accord_sightings_check_collection(struct accord_store *store, const char *collection,
                                                 struct accord_error *err);

#ifdef __cplusplus
}
#endif

#endif
