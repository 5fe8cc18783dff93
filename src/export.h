/*
 * export.h - defender exports: the active indicators of the store, as the files firewalls, DNS
 * resolvers and IDS load (Zeek intel, Suricata datasets and rules, DNS RPZ, nftables sets, CSV,
 * plain lists), with allow-lists that keep what must never be blocked out of every export.
 *
 * Two steps, so one selection can be written in several formats:
 *
 *   accord_export_select   scans the store once: the latest, non-revoked version of each
 *                          indicator, valid at the export time, passing the filters; turns each
 *                          pattern into (kind, value) items through the pattern engine's tree;
 *                          drops allow-listed items.  The result is an immutable set.
 *   accord_export_write    writes a set in one format through a callback, counting what the
 *                          format cannot express (whole indicators, never half of one).
 *
 * Allow-lists live in the store (store_allow.c) and are read by accord_export_select.
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

/* ------------------------------------------------------------------------------------------ */
/* What an indicator becomes: kinds of exportable values                                       */

#define EXPORT_KINDS(XX)                                                                           \
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
#define EXPORT_XX_(name, text) ACCORD_EK_##name,
    EXPORT_KINDS(EXPORT_XX_)
#undef EXPORT_XX_
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
    int min_confidence; /* 0..100; -1 = no threshold (else indicators without one fail) */
    int max_tlp;        /* ACCORD_TLP_*; -1 = no limit.  Unmarked counts as AMBER. */
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
 * The RPZ serial of a set: the second (since the epoch) of the last change that can alter an
 * export at its time: the newest date_added, the newest allow-list change, the newest
 * valid_from/valid_until passed.  It increases whenever the output may change.
 */
ACCORD_API uint32_t accord_export_set_serial(const accord_export_set *set);

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
                                plain */
    int rpz_action;          /* ACCORD_RPZ_* */
    const char *rpz_cname;   /* ACCORD_RPZ_CNAME: the walled-garden host name */
    const char *csv_columns; /* comma-separated column names; NULL = the default set */
    const char *nft_table;   /* nft table name (inet family); NULL = "accord" */
    const char *source;      /* a name for feeds that carry one (zeek meta.source); NULL =
                                "accord" */
} accord_export_options;

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

/* ------------------------------------------------------------------------------------------ */
/* What the format files share (export_<format>.c)                                              */

#include "util/buf.h"
#include "util/json.h"

/*
 * The members of an indicator body that selection reads, as an ajson object in arena a (the
 * subset of ajson_parse's tree), or NULL when the body needs the full parser (escapes, unexpected
 * shapes): the caller then parses it with ajson_parse.  export_fields.c.
 */
const ajson_value *export_fields_parse(ajson_arena *a, const char *body, size_t len);

/* One selected indicator. */
typedef struct export_ind {
    uint64_t id, name;      /* offsets of NUL-terminated strings in set->str */
    int64_t valid_until;    /* microseconds; INT64_MAX when none */
    int32_t confidence;     /* -1 when none */
    uint8_t tlp;            /* ACCORD_TLP_* (unmarked: AMBER) */
    uint8_t untranslatable; /* 0, or an export_why reason: no format can express it */
    uint32_t kinds;         /* ACCORD_EK_BIT of every kind its pattern holds */
} export_ind;

/* One exportable value of one indicator. */
typedef struct export_item {
    uint64_t value;  /* offset of the normalised value in set->str */
    uint64_t prefix; /* the first 8 bytes of the value, big-endian: the sort key */
    uint32_t ind;    /* index into set->inds */
    uint32_t len;    /* bytes of the value */
    uint8_t kind;    /* accord_export_kind */
} export_item;

struct accord_export_set {
    char *str; /* every string, NUL-terminated, one after the other */
    size_t str_len, str_cap;
    export_ind *inds;
    size_t ninds, inds_cap;
    export_item *items; /* sorted by (kind, value, indicator id) */
    size_t nitems, items_cap;
    accord_export_stats stats;
    int64_t serial_us;
    size_t nuntr; /* the first indicators no format can express: "id: reason" */
    char untr[ACCORD_EXPORT_NAMES][160];
};

/* Writer state handed to each format. */
typedef struct export_out {
    const accord_export_set *set;
    const accord_export_options *o;
    accord_export_write_cb cb;
    void *ud;
    const char *file; /* the current file (NULL: the one stream) */
    buf b;            /* pending bytes of the current file */
    int rc;           /* the first failure; writes stop after it */
    accord_export_summary *sum;
    unsigned supported;  /* ACCORD_EK_BIT of the kinds the format expresses */
    unsigned char *mark; /* per indicator: 0 not yet asked, 1 written, 2 unexportable */
    const char *format;
} export_out;

static inline const char *export_str(const accord_export_set *s, uint64_t off)
{
    return s->str + off;
}

/* Starts file `name` (NULL: the one stream), flushing the previous one. */
int export_file(export_out *w, const char *name);
/* Appends to the current file, flushing to the callback past 64 KiB. */
int export_printf(export_out *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int export_add(export_out *w, const char *s, size_t len);
/* Flushes what is pending. */
int export_flush(export_out *w);
/*
 * 1 when item i may be written: its indicator is expressible in the format (every kind it holds
 * is supported, and it is translatable); counts and names an indicator that is not, the first
 * time one of its items is asked about.  Indicators no writer asked about are counted the same
 * way after the writer returns, so an indicator of a kind a format ignores is still named.
 */
int export_item_ok(export_out *w, size_t i);
/* 1 when item i has the same kind and value as item i-1 (a duplicate value). */
int export_item_dup(const accord_export_set *s, size_t i);
/* The indicator of item i. */
const export_ind *export_item_ind(const accord_export_set *s, size_t i);

/* The format writers; each returns 0 or the first error. */
int export_zeek(export_out *w);
int export_suricata_dataset(export_out *w);
int export_suricata_rules(export_out *w);
int export_rpz(export_out *w);
int export_nft(export_out *w);
int export_csv(export_out *w, accord_error *err);
int export_plain(export_out *w);

/* Parses an IPv4/IPv6 address or CIDR into 16 bytes (IPv4 in the first 4) and a prefix. */
int export_net_parse(const char *s, int *family, unsigned char addr[16], int *prefix);
/* Addresses as numbers: the first and last address of a network, IPv4 in the low 32 bits. */
__extension__ typedef unsigned __int128 export_u128;
int export_net_range(const char *s, int *family, export_u128 *lo, export_u128 *hi);

/* ------------------------------------------------------------------------------------------ */
/* The allow-list matcher (export_allow.c)                                                      */

typedef struct export_allow export_allow;

/* Loads the store's allow-lists and the built-in special-purpose ranges. */
int export_allow_load(accord_store *store, export_allow **out, accord_error *err);
void export_allow_free(export_allow *a);
/* 1 when a value of this kind is allow-listed (or covers an allow-listed value). */
int export_allow_match(const export_allow *a, int kind, const char *value, size_t len);

#endif
