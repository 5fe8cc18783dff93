/*
 * accord_export.h - defender exports (part of the public API; included by accord.h): the active
 * indicators of a store as the files firewalls, DNS resolvers and IDS load (Zeek intel, Suricata
 * datasets and rules, DNS RPZ, nftables sets and their incremental updates, CSV, plain lists),
 * with allow-lists that keep what must never be blocked out of every export.
 *
 * Two steps, so one selection can be written in several formats:
 *
 *   accord_export_select   scans the store once: the latest, non-revoked version of each
 *                          indicator, valid at the export time, passing the filters; turns each
 *                          pattern into (kind, value) items through the pattern engine; drops
 *                          allow-listed items.  The result is an immutable set.
 *   accord_export_write    writes a set in one format through a callback, counting what the
 *                          format cannot express (whole indicators, never half of one).
 *
 * Ownership follows accord.h: arguments are borrowed; a set belongs to the caller and is freed
 * with accord_export_set_free (which accepts NULL).  The library writes nothing itself: every
 * byte goes through the caller's callback.
 */
#ifndef ACCORD_EXPORT_H
#define ACCORD_EXPORT_H

#include "accord.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------ */
/* What an indicator becomes: kinds of exportable values                                       */

#define ACCORD_EXPORT_KINDS(XX)                                                                    \
    XX(IPV4, "ipv4")                                                                               \
    XX(IPV6, "ipv6")                                                                               \
    XX(CIDR4, "cidr4")                                                                             \
    XX(CIDR6, "cidr6")                                                                             \
    XX(DOMAIN, "domain")                                                                           \
    XX(SUFFIX, "domain-suffix")                                                                    \
    XX(URL, "url")                                                                                 \
    XX(EMAIL, "email")                                                                             \
    XX(MD5, "md5")                                                                                 \
    XX(SHA1, "sha1")                                                                               \
    XX(SHA256, "sha256")                                                                           \
    XX(SHA512, "sha512")                                                                           \
    XX(CERT_SHA1, "cert-sha1")                                                                     \
    XX(CERT_SHA256, "cert-sha256")

typedef enum accord_export_kind {
#define ACCORD_EK_XX_(name, text) ACCORD_EK_##name,
    ACCORD_EXPORT_KINDS(ACCORD_EK_XX_)
#undef ACCORD_EK_XX_
        ACCORD_EK_COUNT
} accord_export_kind;

#define ACCORD_EK_BIT(k) (1u << (k))
#define ACCORD_EK_IP_BITS                                                                          \
    (ACCORD_EK_BIT(ACCORD_EK_IPV4) | ACCORD_EK_BIT(ACCORD_EK_IPV6) |                               \
     ACCORD_EK_BIT(ACCORD_EK_CIDR4) | ACCORD_EK_BIT(ACCORD_EK_CIDR6))

/* The kind's name ("ipv4", "domain-suffix", ...); NULL when out of range. */
ACCORD_API const char *accord_export_kind_name(int kind);
/* The kind named `name`, or -1. */
ACCORD_API int accord_export_kind_parse(const char *name);

/* TLP levels, ordered: a destination cleared for one level receives every lower one. */
enum {
    ACCORD_TLP_CLEAR = 0,
    ACCORD_TLP_GREEN,
    ACCORD_TLP_AMBER,
    ACCORD_TLP_AMBER_STRICT,
    ACCORD_TLP_RED
};
/* "clear"/"white", "green", "amber", "amber+strict", "red" (any case) -> level, or -1. */
ACCORD_API int accord_export_tlp_parse(const char *name);

/* ------------------------------------------------------------------------------------------ */
/* Selection                                                                                    */

typedef struct accord_export_filter {
    const char *collection;      /* collection id or alias; NULL = the whole store */
    int64_t at_us;               /* the export time; 0 = now */
    unsigned kinds;              /* ACCORD_EK_BIT() of the kinds wanted; 0 = all */
    const char *const *labels;   /* NULL-terminated: the indicator has one of them; NULL = any */
    const char *const *creators; /* NULL-terminated created_by_ref ids; NULL = any */
    const char *const *indicator_types; /* NULL-terminated; NULL = any */
    int min_confidence;          /* 0..100; -1 = no threshold (else indicators without one fail) */
    int max_tlp;                 /* ACCORD_TLP_*; -1 = no limit.  Unmarked counts as the store's
                                    default level (accord_tlp_default_get; AMBER unless set). */
    int64_t as_of_added_us;      /* the store as it was then: only versions added at or before this
                                    (microseconds of date_added); 0 = the store as it is */
    const accord_viewer *viewer; /* only what this TLP clearance may read (accord_viewer_open);
                                    NULL = everything (the node's operator) */
} accord_export_filter;

typedef struct accord_export_set accord_export_set;

/* What a selection saw. */
typedef struct accord_export_stats {
    uint64_t scanned;       /* latest non-revoked indicator versions read */
    uint64_t not_yet_valid; /* valid_from after the export time */
    uint64_t expired;       /* valid_until at or before the export time */
    uint64_t filtered;      /* left out by a filter (label, creator, type, confidence, TLP, kind) */
    uint64_t selected;      /* active indicators that passed every filter */
    uint64_t items;         /* exportable values they hold (after the allow-list) */
    uint64_t allowlisted;   /* values left out because an allow-list holds them */
    uint64_t not_translatable; /* indicators no format can express (AND, qualifiers, ...) */
} accord_export_stats;

/*
 * Selects the active indicators of store under filter f (NULL = no filter, now) into *out.
 * Errors: ACCORD_ENOTFOUND (collection), ACCORD_ESTORE, ACCORD_ENOMEM, ACCORD_EINVAL.
 */
ACCORD_API int accord_export_select(accord_store *store, const accord_export_filter *f,
                                    accord_export_set **out, accord_error *err);
ACCORD_API void accord_export_set_free(accord_export_set *set);
ACCORD_API void accord_export_set_stats(const accord_export_set *set, accord_export_stats *out);
/*
 * The time-based serial of a set: the second (since the epoch, modulo 2^32 as RFC 1982 serials
 * wrap; never 0) of the last change that can alter an export at its time: the newest date_added,
 * the newest allow-list change, the newest valid_from/valid_until passed.  It stays put while
 * none of them moves; two changes within one second share it, and some changes (a default-TLP
 * change) do not move it: an RPZ zone takes its serial from accord_export_rpz_serial, which
 * builds on this one.  misp-feed timestamps use it as it is.
 */
ACCORD_API uint32_t accord_export_set_serial(const accord_export_set *set);

/* 1 when serial a is greater than serial b in RFC 1982 arithmetic (32 bits):
 * 0 < (a - b) mod 2^32 < 2^31.  Serials that far apart (exactly 2^31) compare as neither. */
ACCORD_API int accord_export_serial_gt(uint32_t a, uint32_t b);

/* ------------------------------------------------------------------------------------------ */
/* Writing                                                                                      */

enum {
    ACCORD_RPZ_NXDOMAIN = 0,
    ACCORD_RPZ_NODATA,
    ACCORD_RPZ_PASSTHRU,
    ACCORD_RPZ_DROP,
    ACCORD_RPZ_CNAME
};

typedef struct accord_export_options {
    const char *format;      /* zeek-intel, suricata-dataset, suricata-rules, rpz, nft, csv,
                                plain, misp-feed, stix (the selected indicators as stored, and
                                the marking-definitions they reference; reads their bodies from
                                the store the set was selected from, which must be open) */
    int rpz_action;          /* ACCORD_RPZ_* */
    const char *rpz_cname;   /* ACCORD_RPZ_CNAME: the walled-garden host name */
    const char *csv_columns; /* comma-separated column names; NULL = the default set */
    const char *nft_table;   /* nft table name (inet family); NULL = "accord" */
    const char *source;      /* a name for feeds that carry one (zeek meta.source); NULL =
                                "accord" */
    uint32_t rpz_serial;     /* rpz: the SOA serial (accord_export_rpz_serial); 0 = the set's
                                time-based serial (accord_export_set_serial) */
    const char *nft_cursor;  /* nft: a cursor printed as "# cursor C" on the second line, so a
                                fetch over HTTPS carries the --since for the next one; NULL =
                                none */
    uint64_t max_bytes;      /* the most bytes the output may hold, all files together; past it
                                the write stops with ACCORD_ELIMIT, before handing those bytes
                                on (err names the cap).  0 = no cap.  A feed is always capped
                                at ACCORD_FEED_MAX_BYTES. */
} accord_export_options;

/* The most a feed served by `accord serve` may hold (all its files): 256 MiB, the size of one
 * HTTPS response body.  A feed past it is answered 507 "Feed too large". */
#define ACCORD_FEED_MAX_BYTES ((uint64_t)256 * 1024 * 1024)

/*
 * Receives the output: `file` is NULL for the one stream of single-file formats, or a file name
 * (no directory part) for formats that write several files; each file's bytes arrive in order,
 * and every file is announced by a first call (maybe with len 0).  Return 0 to go on.
 */
typedef int (*accord_export_write_cb)(void *ud, const char *file, const char *data, size_t len);

#define ACCORD_EXPORT_NAMES 32

/* What one format could not express. */
typedef struct accord_export_summary {
    uint64_t indicators;   /* indicators written */
    uint64_t values;       /* values (lines, elements, rules) written */
    uint64_t duplicates;   /* values merged into another (same value, overlapping ranges) */
    uint64_t unexportable; /* indicators the format cannot express: left out whole */
    size_t nnames;         /* the first ACCORD_EXPORT_NAMES of them: id and reason */
    char names[ACCORD_EXPORT_NAMES][160];
} accord_export_summary;

/* 1 when the format writes several files (the callback gets their names), 0 when one stream,
 * -1 for an unknown format. */
ACCORD_API int accord_export_format_files(const char *format);

/*
 * Writes set in o->format through cb.  *sum (may be NULL) receives the counts.  Errors:
 * ACCORD_EINVAL (unknown format, bad option, with the reason), ACCORD_ENOMEM, or the callback's
 * non-zero return value.
 */
ACCORD_API int accord_export_write(const accord_export_set *set, const accord_export_options *o,
                                   accord_export_write_cb cb, void *ud, accord_export_summary *sum,
                                   accord_error *err);

/*
 * The SOA serial of the RPZ zone that set and o write (export_serial.c): the serial kept in store
 * for this zone when its records are the same as at the last export, else a new one, larger in
 * RFC 1982 terms (the set's time-based serial when that is larger, else the kept one plus 1),
 * which is kept with a digest of the records.  A zone is named by `scope` (the caller's: "cli",
 * a feed's name and the reader's clearance), filter f (NULL: none) and o's rpz action.  Put the
 * result in o->rpz_serial for accord_export_write.  Needs a store opened for writing, unless the
 * records did not change.  Errors: ACCORD_ESTORE, ACCORD_ENOMEM.
 */
ACCORD_API int accord_export_rpz_serial(accord_store *store, const char *scope,
                                        const accord_export_filter *f, const accord_export_set *set,
                                        const accord_export_options *o, uint32_t *serial,
                                        accord_error *err);

/* ------------------------------------------------------------------------------------------ */
/* A selection and format as words (export_spec.c): what `accord feed add` stores               */

/*
 * The options of `accord export` that pick a format and a selection, as words, so a feed can be
 * stored as its arguments and read back by the server the same way the command line reads them:
 *
 *   format F, collection C, type KIND (repeatable), label L (rep.), creator ID (rep.),
 *   indicator-type T (rep.), min-confidence N, max-tlp TLP, rpz-action A, columns LIST,
 *   nft-table NAME, source NAME
 *
 * Values are borrowed: they must outlive the spec.
 */
#define ACCORD_EXPORT_SPEC_MAX 64

typedef struct accord_export_spec {
    accord_export_filter filter;
    accord_export_options opts;
    const char *labels[ACCORD_EXPORT_SPEC_MAX + 1], *creators[ACCORD_EXPORT_SPEC_MAX + 1],
        *itypes[ACCORD_EXPORT_SPEC_MAX + 1];
    int nlabels, ncreators, nitypes;
} accord_export_spec;

/* An empty spec: no filter, no format. */
ACCORD_API void accord_export_spec_init(accord_export_spec *sp);
/*
 * Sets option `name` (without "--") to value.  ACCORD_ENOTFOUND when the name is not one of the
 * spec's (the caller may know it), ACCORD_EINVAL for a bad value (err says what was expected),
 * ACCORD_ELIMIT past ACCORD_EXPORT_SPEC_MAX repetitions.
 */
ACCORD_API int accord_export_spec_set(accord_export_spec *sp, const char *name, const char *value,
                                      accord_error *err);
/*
 * Reads argv[0..argc) as "--name value" or "--name=value" words into sp (initialised first).
 * A format is required and must be a defender format.  ACCORD_EINVAL naming the word.
 */
ACCORD_API int accord_export_spec_parse(accord_export_spec *sp, size_t argc,
                                        const char *const *argv, accord_error *err);

/* ------------------------------------------------------------------------------------------ */
/* Feeds (store_feed.c): named exports `accord serve` publishes at /feeds/NAME                  */

/*
 * A feed is a name and the export words that define it (accord_export_spec_parse accepts them).
 * Names: 1-64 of [A-Za-z0-9_.-], not starting with '.'.
 */
typedef struct accord_feed {
    const char *name;
    size_t argc;
    const char *const *argv;
    int64_t changed_us; /* when it was last added or replaced */
} accord_feed;

/* Adds feed `name`, or replaces it; argv is checked first.  Audited.  ACCORD_EINVAL. */
ACCORD_API int accord_feed_put(accord_store *store, const char *name, size_t argc,
                               const char *const *argv, accord_error *err);
/* Removes feed `name`.  Audited.  ACCORD_ENOTFOUND when there is none. */
ACCORD_API int accord_feed_remove(accord_store *store, const char *name, accord_error *err);
/*
 * Calls cb for feed `name` (ACCORD_ENOTFOUND when there is none), or for every feed by name when
 * name is NULL.  The feed is valid during the call only.  The callback's non-zero value stops
 * the walk and is returned.
 */
ACCORD_API int accord_feed_each(accord_store *store, const char *name,
                                int (*cb)(void *ud, const accord_feed *feed), void *ud,
                                accord_error *err);

/* ------------------------------------------------------------------------------------------ */
/* Incremental exports (nft): cursors                                                           */

/*
 * A cursor names the state an export showed, so the next one can send only the difference.  An
 * export prints its cursor; `--since CURSOR` rebuilds the state at that cursor from the store's
 * history (the versions added up to `added`, active at `at`, under the same filters and the
 * current allow-lists), checks it against `digest`, and writes `delete element` for what left
 * (expired, revoked, superseded, newly allow-listed) and `add element` for what arrived.  When the
 * digest does not match (allow-lists or filters changed, or the cursor is from another store),
 * the full script is written instead: it flushes the sets, so it is always correct.
 *
 * Text form, fields separated by '.':
 *
 *   field    example            meaning
 *   version  v1                 the cursor format; a later one gets a new letter-number
 *   at       1748736000000000   an instant at which the selection's addresses were the export's,
 *                               microseconds since the epoch (decimal): the newest validity
 *                               boundary at or before the export time that changed which
 *                               addresses are selected (1 when none)
 *   added    1764464770123456   the newest date_added that changed them (1 when none),
 *                               microseconds; so an export prints the same cursor, and the same
 *                               bytes, for as long as its elements stay the same, whatever else
 *                               expires or arrives (another kind, another object)
 *   digest   9f1c03a2b4d5e6f7   XXH3-64 of the exported elements (16 lower-case hex digits):
 *                               each merged range as family (1 byte: 4 or 6), first and last
 *                               address (16 bytes each, big-endian), IPv4 ranges first, in order
 *
 * e.g. "v1.1748736000000000.1764464770123456.9f1c03a2b4d5e6f7" (at most ACCORD_EXPORT_CURSOR_MAX
 * bytes with the NUL).
 */
typedef struct accord_export_cursor {
    int64_t at_us;
    int64_t added_us;
    uint64_t digest;
} accord_export_cursor;

#define ACCORD_EXPORT_CURSOR_MAX 64

/* Parses the text form; ACCORD_EINVAL when it is not one. */
ACCORD_API int accord_export_cursor_parse(const char *text, accord_export_cursor *out);
/* Writes the text form into out (outlen >= ACCORD_EXPORT_CURSOR_MAX). */
ACCORD_API void accord_export_cursor_format(const accord_export_cursor *c, char *out,
                                            size_t outlen);
/* The cursor of set's nft export (its time, its newest date_added, its elements' digest).
 * ACCORD_ENOMEM. */
ACCORD_API int accord_export_nft_cursor(const accord_export_set *set, accord_export_cursor *out);
/*
 * Writes the nft statements that turn the sets of prev's export into those of set's: `delete
 * element` first (so a range that changed shape never overlaps its successor), then `add
 * element`.  Counts as accord_export_write does (sum->values: elements added and deleted).  Apply
 * it only on top of prev's export (check prev against the cursor's digest first).
 */
ACCORD_API int accord_export_nft_delta(const accord_export_set *prev, const accord_export_set *set,
                                       const accord_export_options *o, accord_export_write_cb cb,
                                       void *ud, accord_export_summary *sum, accord_error *err);

/*
 * The stix form of the same (export_stix.c).  The cursor of a stix bundle: `at` and `added` are
 * the newest validity boundary and date_added that changed any kind (not only addresses), and
 * `digest` is XXH3-64 of the seqs of the versions the bundle holds.  The delta is a bundle of
 * the versions set holds and prev did not (new indicators, new versions), and the revoking
 * version of each indicator prev held that was revoked since (when the reader may read it, its
 * TLP passes the filter's max_tlp; for a collection's selection, the collection's latest version);
 * an indicator that
 * left otherwise (expired, filtered, allow-listed) cannot be retracted in STIX: it is counted in
 * sum->unexportable and named.  Reading bodies needs the store set was selected from, open.
 */
ACCORD_API int accord_export_stix_cursor(const accord_export_set *set, accord_export_cursor *out);
ACCORD_API int accord_export_stix_delta(const accord_export_set *prev, const accord_export_set *set,
                                        const accord_export_options *o, accord_export_write_cb cb,
                                        void *ud, accord_export_summary *sum, accord_error *err);

/* ------------------------------------------------------------------------------------------ */
/* Allow-lists (store_allow.c, export_allow.c)                                                  */

/* Entry kinds, as MISP warninglists name them. */
#define ACCORD_ALLOW_KINDS "string, substring, hostname, cidr, regex"

/*
 * Parses an allow-list file: MISP warninglist JSON ({"name", "type", "list": [...]}) or a plain
 * list (one value per line, '#' comments; each line is a cidr, a hostname, or a string by its
 * shape).  Calls cb(ud, kind, value) per entry; *name receives the list's name (the JSON "name",
 * else NULL), owned by the caller (free()).  ACCORD_EJSON / ACCORD_EINVAL with the offset.
 */
ACCORD_API int accord_allowlist_parse(const char *text, size_t len, char **name,
                                      int (*cb)(void *ud, const char *kind, const char *value),
                                      void *ud, accord_error *err);

/*
 * Replaces the entries of allow-list `list` with kinds[i], values[i] (i < n), in one
 * transaction with its audit record.  n = 0 removes the list.  ACCORD_EINVAL for an unknown
 * kind or an invalid regex/cidr (naming the entry).
 */
ACCORD_API int accord_allowlist_replace(accord_store *store, const char *list,
                                        const char *const *kinds, const char *const *values,
                                        size_t n, accord_error *err);
/* Calls cb for every stored entry (list, kind, value), by list then kind then value. */
ACCORD_API int accord_allowlist_each(accord_store *store,
                                     int (*cb)(void *ud, const char *list, const char *kind,
                                               const char *value),
                                     void *ud, accord_error *err);
/* The time of the newest allow-list change (microseconds), 0 when none. */
ACCORD_API int64_t accord_allowlist_changed(accord_store *store);

#ifdef __cplusplus
}
#endif

#endif /* ACCORD_EXPORT_H */
