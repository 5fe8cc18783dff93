/*
 * export.h - what the files of the export subsystem share (export*.c, store_allow.c): the set's
 * layout, the writer state each format receives, the allow-list matcher, the field extractor.
 * The contract is include/accord_export.h; nothing here is part of the public API.
 */
#ifndef ACCORD_EXPORT_INT_H
#define ACCORD_EXPORT_INT_H

#include "accord.h"
#include "accord_export.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

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
    uint8_t tlp;            /* ACCORD_TLP_* (unmarked: the store's default, tlp.h) */
    uint8_t untranslatable; /* 0, or an export_why reason: no format can express it */
    uint32_t kinds;         /* ACCORD_EK_BIT of every kind its pattern holds */
    uint8_t allowlisted;    /* 1 when the allow-list dropped one of its values (stix leaves such
                               an indicator out whole) */
    uint32_t nitems;        /* its items (after the allow-list) */
    int64_t seq;            /* the selected version's seq in the store (stix reads its body) */
} export_ind;

/* One exportable value of one indicator. */
typedef struct export_item {
    uint64_t value;  /* offset of the normalised value in set->str */
    uint64_t prefix; /* the first 8 bytes of the value, big-endian: the sort key */
    uint32_t ind;    /* index into set->inds */
    uint32_t len;    /* bytes of the value */
    uint8_t kind;    /* accord_export_kind */
    uint16_t ikinds; /* the kinds of its indicator (export_ind.kinds), kept here so that writers
                        decide per item without a random access to the indicator */
    uint8_t tlp;     /* its indicator's (export_ind.tlp), for the same reason (misp-feed) */
} export_item;

struct accord_export_set {
    char *str; /* every string, NUL-terminated, one after the other */
    size_t str_len, str_cap;
    export_ind *inds;
    size_t ninds, inds_cap;
    export_item *items; /* sorted by (kind, value, indicator id) */
    size_t nitems, items_cap;
    /* Active indicators that passed the filters but whose pattern no value format expresses
     * (untranslatable = the reason; no items): counted and named as not translatable all the
     * same, kept for the formats that express whole patterns (misp-feed: MISP objects and
     * composite attributes).  Scan order; none when the filter selects kinds. */
    export_ind *others;
    size_t nothers, others_cap;
    accord_export_stats stats;
    int64_t serial_us;
    int64_t boundary_us; /* the newest valid_from/valid_until at or before the export time */
    int64_t next_us;     /* the first one after it (INT64_MAX: none): the selection may change
                            then without any change to the store */
    /*
     * Per kind (accord_export_kind), the newest instant at or before the export time, and the
     * newest date_added, that changed which values of that kind are selected (INT64_MIN: none):
     * a selected indicator's valid_from and date_added, an expired one's valid_until, and the
     * date_added of every version that replaced or revoked an older one (all kinds: the older
     * one may have held any).  The store as it was at the newest date_added of some kinds,
     * selected at their newest instant, selects the same values of those kinds; and the two do
     * not move when only other kinds change, so an nft cursor (address kinds) stays the same
     * while the addresses do (accord_export_nft_cursor).
     */
    int64_t kind_at[ACCORD_EK_COUNT], kind_added[ACCORD_EK_COUNT];
    int64_t at_us;       /* the export time */
    int64_t stamp;       /* the store's change stamp (store_feed_stamp) of the snapshot selected */
    int64_t added_us;    /* the newest date_added the selection could see (its cursor's) */
    accord_store *store; /* where it was selected from (stix reads bodies there) */
    const char *collection;      /* the filter's (borrowed, as the store is), or NULL */
    int max_tlp, dflt_tlp;       /* the filter's max_tlp (-1: none), the store's default TLP */
    const accord_viewer *viewer; /* the clearance it was selected for (stix: the markings) */
    size_t nuntr;                /* the first indicators no format can express: "id: reason" */
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
    unsigned char *mark; /* per indicator: 1 once counted and named as unexportable */
    const char *format;
    uint64_t written; /* bytes handed to the callback */
    int capped;       /* 1 once the output would pass o->max_bytes */
} export_out;

static inline const char *export_str(const accord_export_set *s, uint64_t off)
{
    return s->str + off;
}

#define EXPORT_FLUSH_AT (64 * 1024) /* bytes held before they go to the callback */

/* Starts file `name` (NULL: the one stream), flushing the previous one. */
int export_file(export_out *w, const char *name);
/* Appends to the current file, flushing to the callback past 64 KiB. */
int export_printf(export_out *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int export_add_slow(export_out *w, const char *s, size_t len);
/* Writers append a few bytes at a time, tens of millions of times: the common case (room in the
 * buffer, far below its cap and the flush point) is a copy here, the rest export_add_slow. */
static inline int export_add(export_out *w, const char *s, size_t len)
{
    buf *b = &w->b;
    if (len == 0) /* s may be NULL then (an empty buffer's), which memcpy may not receive */
        return w->rc;
    if (w->rc || b->failed || !b->p || len >= b->cap - b->len || b->len + len >= EXPORT_FLUSH_AT)
        return export_add_slow(w, s, len);
    memcpy(b->p + b->len, s, len);
    b->len += len;
    b->p[b->len] = '\0';
    return 0;
}
/* export_add of a NUL-terminated string. */
static inline int export_adds(export_out *w, const char *s)
{
    return export_add(w, s, strlen(s));
}
/* Writes v in decimal at p (at most 10 bytes, no NUL); returns the end. */
static inline char *export_u32_text(char *p, uint32_t v)
{
    char tmp[10];
    size_t n = 0;
    do
        tmp[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    while (n)
        *p++ = tmp[--n];
    return p;
}
/* Flushes what is pending. */
int export_flush(export_out *w);
/*
 * 1 when item i may be written: its indicator is expressible in the format (every kind it holds
 * is supported, and it is translatable); counts and names an indicator that is not, the first
 * time one of its items is asked about.  Indicators no writer asked about are counted the same
 * way after the writer returns, so an indicator of a kind a format ignores is still named.
 */
int export_item_ok(export_out *w, size_t i);
/* 1 when the indicator of item i is expressible in the format (no counting, no naming). */
static inline int export_item_fits(const export_out *w, size_t i)
{
    return !(w->set->items[i].ikinds & ~w->supported);
}
/* The export order of two items: kind, value, indicator id (<0, 0, >0). */
int export_item_cmp(const accord_export_set *s, const export_item *a, const export_item *b);
/* Advises huge pages under p[0..len) when it is large (a few MiB or more). */
void export_huge(void *p, size_t len);
/* Grows *p, an array of *cap elements of `size` bytes, to hold at least `need` (doubling, from
 * 1024; huge pages once large); 0, or ACCORD_ENOMEM with *p and *cap as they were. */
int export_grow(void **p, size_t *cap, size_t need, size_t size);
/* Puts s->items in that order (export_sort.c); 0 or ACCORD_ENOMEM. */
int export_sort(accord_export_set *s);
/*
 * Items are in value order, their indicators and strings in scan order: a writer's walk touches
 * three or four unrelated cache lines per item (the value, the indicator, its id and name), which
 * at ten million items costs more than the writing.  Called with each item index, this fetches
 * them a few items ahead (the indicator first, its strings once it has arrived).
 */
static inline void export_prefetch(const accord_export_set *s, size_t i)
{
    if (i + 16 < s->nitems) {
        __builtin_prefetch(&s->inds[s->items[i + 16].ind]);
        __builtin_prefetch(s->str + s->items[i + 16].value);
    }
    if (i + 8 < s->nitems) {
        const export_ind *d = &s->inds[s->items[i + 8].ind];
        __builtin_prefetch(s->str + d->id);
        __builtin_prefetch(s->str + d->name);
    }
}
/* 1 when item i has the same kind and value as item i-1 (a duplicate value). */
int export_item_dup(const accord_export_set *s, size_t i);
/* The indicator of item i. */
const export_ind *export_item_ind(const accord_export_set *s, size_t i);

/* "a.b.c.d" or "a.b.c.d/n" written canonically (decimal parts 0-255, a prefix 0-32, no leading
 * zeros): 0 with the address (host order) and the prefix (32 without one), else -1. */
int export_ipv4_parse(const char *v, size_t len, uint32_t *addr, int *prefix);
/* 1 when v[0..len) is an IPv4 address as value_normalize writes one (a.b.c.d, no leading
 * zeros): the normaliser would return it unchanged. */
int export_ipv4_canonical(const char *v, size_t len);

/* Tests: 1 makes every pattern go through the pattern compiler (export.c reads the simplest
 * shape itself otherwise); both ways must give the same set. */
extern int export_force_compile;
/* Tests: 1 makes selection read every indicator's body, as it does for the filters the store's
 * indicators table cannot answer (labels, indicator_types, creators); both ways must give the
 * same set. */
extern int export_force_body;
/* Tests: 1 makes every value go through value_normalize (export.c takes values that the
 * normaliser would give back unchanged as they are otherwise); both ways must give the same set. */
extern int export_force_normalize;
/*
 * Fuzzing: the kind of value v[0..len) (NUL-terminated) compared with object path `path` (0
 * ipv4-addr:value, 1 ipv6-addr, 2 domain-name, 3 url, 4 email-addr, 5-8 file:hashes MD5, SHA-1,
 * SHA-256, SHA-512, 9-10 x509-certificate:hashes SHA-1, SHA-256), by the quick path (slow 0: -1
 * when it leaves the value to the normaliser) or the normaliser (slow 1), and the value it
 * exports in out (outlen > VALUE_MAX); -1 when not exportable.
 */
int export_value_kind(int path, const char *v, size_t len, int slow, char *out, size_t outlen);

/*
 * MD5 digests of v[i][0..len[i]) into out[i], i < n (export_md5.c): eight values at a time in
 * vector lanes, so a MISP feed's hashes.csv costs a third of one-at-a-time digests.
 */
void export_md5_many(const char *const *v, const size_t *len, size_t n, unsigned char (*out)[16]);
/* Tests: 1 makes export_md5_many use the portable vector code even where AVX2 exists. */
extern int export_md5_scalar;

/* The store meta key under which the serial of an RPZ zone is kept (export_serial.c); 0 or
 * ACCORD_ENOMEM. */
int export_rpz_serial_key(const char *scope, const accord_export_filter *f,
                          const accord_export_options *o, char *out, size_t outlen);

/* A version-4-shaped UUID (36 characters and a NUL) from XXH3-128 of data[0..len) with seed
 * (export_misp.c): names that stay the same while what they name does. */
void export_uuid_of(const void *data, size_t len, uint64_t seed, char out[37]);

/*
 * Fuzzing: the marking-definition ids body[0..len) references, as the stix writer notes them
 * (export_stix.c): cb receives each distinct one (NUL-terminated), the first 1024; returns how
 * many distinct ones it found, or ACCORD_ENOMEM.
 */
int export_stix_markings(const char *body, size_t len, void (*cb)(void *ud, const char *id),
                         void *ud);

/* The format writers; each returns 0 or the first error. */
int export_zeek(export_out *w);
int export_suricata_dataset(export_out *w);
int export_suricata_rules(export_out *w);
int export_rpz(export_out *w);
int export_nft(export_out *w);
int export_csv(export_out *w, accord_error *err);
int export_plain(export_out *w);
int export_misp_feed(export_out *w);
int export_stix(export_out *w);
/* The stix bundle of what changed from prev's bundle to w->set's (export_stix.c). */
int export_stix_delta(export_out *w, const accord_export_set *prev);
/* The nft delta from prev's elements to w->set's (export_nft.c). */
int export_nft_delta(export_out *w, const accord_export_set *prev);
/* The digest of a set's nft elements (see accord_export_cursor); 0 or ACCORD_ENOMEM. */
int export_nft_digest(const accord_export_set *s, uint64_t *out);

/* Parses an IPv4/IPv6 address or CIDR into 16 bytes (IPv4 in the first 4) and a prefix. */
int export_net_parse(const char *s, int *family, unsigned char addr[16], int *prefix);
/* Addresses as numbers: the first and last address of a network, IPv4 in the low 32 bits. */
__extension__ typedef unsigned __int128 export_u128;
int export_net_range(const char *s, int *family, export_u128 *lo, export_u128 *hi);

/* The store's change stamp for feed caching (store_feed.c): grows with every committed change;
 * -1 when the store fails. */
int64_t store_feed_stamp(accord_store *s);
/* One snapshot for a selection (store_feed.c): 1 when a read transaction was begun, 0 when the
 * caller's holds, -1 on failure; *stamp = its change stamp.  End it with store_feed_snapshot_end
 * (the value begin returned). */
int store_feed_snapshot_begin(accord_store *s, int64_t *stamp);
void store_feed_snapshot_end(accord_store *s, int begun);
/* Computes a meta row's new value from its kept one (NULL: none) into out[0..outlen): 1 to write
 * it, 0 to leave the row as it is, -1 on failure. */
typedef int (*store_feed_decide_cb)(void *ud, const char *kept, char *out, size_t outlen);
/* Reads meta row key, decides, writes: one BEGIN IMMEDIATE transaction (store_feed.c), so
 * concurrent updates of one key from several processes are serialised. */
int store_feed_meta_update(accord_store *s, const char *key, store_feed_decide_cb decide, void *ud,
                           accord_error *err);

/* Receives body i of store_feed_bodies (not NUL-terminated); 0 to go on. */
typedef int (*store_feed_body_cb)(void *ud, size_t i, const char *body, size_t len);
/* Calls cb with the body of each version seqs[0..n) (ascending), in order (store_feed.c);
 * ACCORD_ENOTFOUND when one is no longer stored. */
int store_feed_bodies(accord_store *s, const int64_t *seqs, size_t n, store_feed_body_cb cb,
                      void *ud, accord_error *err);

/* ------------------------------------------------------------------------------------------ */
/* The allow-list matcher (export_allow.c)                                                      */

typedef struct export_allow export_allow;

/* Loads the store's allow-lists and the built-in special-purpose ranges. */
int export_allow_load(accord_store *store, export_allow **out, accord_error *err);
void export_allow_free(export_allow *a);
/* 1 when a value of this kind is allow-listed (or covers an allow-listed value). */
int export_allow_match(const export_allow *a, int kind, const char *value, size_t len);
/* export_allow_match of an ipv4 or cidr4 value v[0..len), whose addresses lo..hi (host order)
 * the caller parsed already. */
int export_allow_match_v4(const export_allow *a, const char *v, size_t len, uint32_t lo,
                          uint32_t hi);

#endif
