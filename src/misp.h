/*
 * misp.h - what the MISP files share: the mapper (misp_map.c) and the helpers of the import
 * (misp_import.c) that the feed follower (misp_feed.c) reuses.
 */
#ifndef ACCORD_MISP_INT_H
#define ACCORD_MISP_INT_H

#include "accord.h"
#include "util/json.h"

#include "util/buf.h"
#include "util/u64map.h"

#include <stdint.h>
#include <string.h>

/*
 * The version of the mapping: bumped whenever the mapper writes other objects for the same event
 * text, so that an import does not take an event for unchanged on the word of an earlier mapping
 * (misp_import.c, "Unchanged events").
 */
#define MISP_MAP_VERSION 2

/*
 * buf_add and buf_adds with their common case - room in the buffer - inline: the mapper appends a
 * few dozen short pieces per object, and the calls and checks of buf_add were 3% of an import's
 * instructions.  Same contract as buf_add, which takes every other case (growth, the cap, a
 * failed buffer): len + 1 < cap <= max + 1 keeps the cap.
 */
static inline int misp_put(buf *b, const void *data, size_t len)
{
    if (!b->failed && len < b->cap - b->len) {
        memcpy(b->p + b->len, data, len);
        b->len += len;
        b->p[b->len] = 0;
        return 0;
    }
    return buf_add(b, data, len);
}

static inline int misp_puts(buf *b, const char *s)
{
    return misp_put(b, s, strlen(s));
}

/*
 * buf_json_str for the mapper's common case, without its per-byte UTF-8 decoding and per-run
 * buf_add calls: a string of printable ASCII (nearly every id, label, hash, address and URL of
 * a MISP event) is copied with only '"' and '\\' escaped.  Any other string (a control
 * character, a byte >= 0x80) goes to buf_json_str, so the output is the same byte for byte.
 * Labels ("misp:type=\"ip-dst\"") made buf_json_str's slow path 5% of the mapper.
 */
/* 0 when s[0..n) holds a byte < 0x20 or >= 0x80; else 1, or 2 when it holds '"' or '\\'. */
static inline int misp_ascii_plain(const char *s, size_t n)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t quotes = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x, q, b;
        memcpy(&x, s + i, 8);
        if (((x - ones * 0x20) | x) & highs) /* the lowest such byte borrows: exact */
            return 0;
        q = x ^ (ones * '"');
        b = x ^ (ones * '\\');
        quotes |= ((q - ones) & ~q) | ((b - ones) & ~b);
    }
    for (; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c >= 0x80)
            return 0;
        quotes |= c == '"' || c == '\\' ? highs : 0;
    }
    return quotes & highs ? 2 : 1;
}

static inline int misp_json_str(buf *b, const char *s)
{
    size_t n = strlen(s);
    int plain = misp_ascii_plain(s, n);
    if (!plain)
        return buf_json_str(b, s);
    misp_put(b, "\"", 1);
    while (plain == 2) {
        size_t k = 0;
        while (k < n && s[k] != '"' && s[k] != '\\')
            k++;
        misp_put(b, s, k);
        if (k == n)
            break;
        char esc[2] = {'\\', s[k]};
        misp_put(b, esc, 2);
        s += k + 1;
        n -= k + 1;
    }
    if (plain == 1)
        misp_put(b, s, n);
    return misp_put(b, "\"", 1);
}

/* Receives each STIX object (compact JSON); non-zero stops the mapping with that code. */
typedef int (*misp_emit_fn)(void *ud, const char *json, size_t len);

/* A byte range [start, end) of the input text. */
typedef struct misp_span {
    size_t start, end;
} misp_span;

/*
 * The Attribute and Object lists of one event kept as text: the event's tree then holds them
 * empty, and the mapper parses one element at a time, so memory holds one attribute's tree
 * instead of the event's.
 */
/* Where an element that was not checked before mapping turned out not to be JSON. */
typedef struct misp_list_fault {
    size_t at;     /* byte offset in the whole input */
    char why[160]; /* the parser's message */
} misp_list_fault;

typedef struct misp_lists {
    const char *text; /* the whole input: spans index it */
    misp_span *v[2];  /* 0: the elements of "Attribute", 1: of "Object" */
    size_t n[2], cap[2];
    /* NULL: every element was parsed once already, so only memory can fail.  Else the elements
     * are parsed first when mapped, and one that is not JSON stops the mapping with
     * ACCORD_EJSON and its place here (the import then rolls the event back) */
    misp_list_fault *fault;
} misp_lists;

/* Sees each attribute value of each event as it is mapped; event_uuid lower case. */
typedef void (*misp_value_fn)(void *ud, const char *event_uuid, const char *value);

typedef struct misp_map_ctx {
    const accord_misp_options *opts;
    accord_misp_stats *st;
    misp_emit_fn emit;
    void *ud;
    int strict;               /* a bad attribute fails the event (and the caller's whole input) */
    const misp_lists *lists;  /* NULL: the lists are in the event's tree */
    misp_value_fn on_value;   /* NULL, or told every attribute value */
    void *value_ud;
} misp_map_ctx;

/*
 * Maps one MISP event (the object inside {"Event": ...}) to STIX objects, the report last.
 * index is the event's position in its input (for messages).  Bad attributes are reported
 * through opts->on_error, counted in st->bad and skipped (in strict mode they fail the event).
 * Returns 0; ACCORD_ESTIX when the event is unusable (no uuid) or strict mode met a bad
 * attribute; or the emit callback's code.
 */
int misp_map_event(misp_map_ctx *c, const ajson_value *ev, size_t index);

/*
 * The events of a parsed MISP document: {"Event": E}, E itself, an array of either, or
 * {"response": [...]} of either.  Calls cb for each event object in order; returns the number of
 * events, or -1 when the document has none of these shapes (cb is then never called).
 */
long misp_events(const ajson_value *root, int (*cb)(void *ud, const ajson_value *ev, size_t i),
                 void *ud, int *cb_rc);
/* 1 with *out when v is one event ({"Event": E} or a bare event object), else 0. */
int misp_event_of(const ajson_value *v, const ajson_value **out);

/* "type--UUIDv5(accord MISP namespace, name)" into out (at least strlen(type) + 39 bytes). */
void misp_uuid5_id(const char *type, const char *name, size_t len, char *out, size_t outlen);

/* Epoch seconds as a STIX timestamp (out >= 28 bytes). */
void misp_epoch_ts(int64_t s, char *out, size_t outlen);

/* accord_misp_import_mem with on_value told every attribute value mapped (NULL: none). */
int misp_import_mem_values(accord_store *store, const char *text, size_t len,
                           const accord_misp_options *opts, accord_misp_stats *st,
                           misp_value_fn on_value, void *value_ud, accord_error *err);

/*
 * The store side of an import (misp_store.c): the mapper's objects stored in one transaction,
 * as import.h's import_session does for any STIX input, without re-validating what the mapper
 * built (see misp_store.c).
 *   misp_sink_open    resolves opts->collection and begins the transaction; 0 or an error.
 *   misp_sink_object  one object as compact JSON; 0 also for an object rejected and reported
 *                     (unless ACCORD_IMPORT_STRICT), else an error after which only close remains.
 *   misp_sink_close   commits when rc is 0, rolls back otherwise; returns the outcome as
 *                     import_session_close does, *out the counts.  Accepts NULL (returns rc).
 */
typedef struct misp_sink misp_sink;
int misp_sink_open(accord_store *store, const accord_import_options *opts, misp_sink **out,
                   accord_error *err);
int misp_sink_object(misp_sink *s, const char *text, size_t len, accord_error *err);
int misp_sink_close(misp_sink *s, int rc, accord_import_stats *out, accord_error *err);
/* The counts so far of an open sink (committed stays 0 until close). */
void misp_sink_stats(const misp_sink *s, accord_import_stats *out);
/*
 * What the store needs of one of the mapper's objects, read without validating it: 0, or -1 when
 * the object is not of a shape the mapper writes (no id, type or spec_version 2.1), which the
 * validator must then judge.  Equal to what stix_validate fills for every object the mapper
 * writes (tests/unit/test_misp.c).
 */
struct stix_info;
int misp_stix_info(const ajson_value *obj, struct stix_info *info);
/* Reads all of fd (inflating gzip) into a malloc'd buffer of at most max bytes.  A gzip stream
 * that ends before its end (a cut file) or does not inflate is an error (ACCORD_EIO), never text
 * handed on to the JSON parser. */
int misp_read_all(int fd, size_t max, char **out, size_t *len, accord_error *err);
/* Prefixes err's message with "source: " (source may be NULL: unchanged); returns rc. */
int misp_err_named(accord_error *err, const char *source, int rc);

/* Line and column (1-based) of byte offset off in text. */
void misp_line_col(const char *text, size_t len, size_t off, unsigned long *line,
                   unsigned long *col);

/* ------------------------------------------------------------------------------------------ */
/* Between misp_map.c (events, SDOs) and misp_attr.c (values: facts, patterns, SCOs)           */

#define MISP_MAX_FACTS 64
#define MISP_OBJ_CAP ((size_t)96 << 20)
#define MISP_REFS_CAP ((size_t)512 << 20)
#define MISP_ELEMENT_CAP ((size_t)1 << 30) /* the tree of one attribute or MISP object */

/* The STIX property a MISP value gives its root SCO (the pattern path in the comment). */
typedef enum misp_prop {
    P_VALUE,    /* ROOT:value */
    P_NAME,     /* file:name, mutex:name */
    P_HASH,     /* file:hashes.'K', x509-certificate:hashes.'K' */
    P_SIZE,     /* file:size */
    P_KEY,      /* windows-registry-key:key */
    P_REGDATA,  /* windows-registry-key:values[*].data */
    P_ASN,      /* autonomous-system:number */
    P_SUBJECT,  /* email-message:subject, x509-certificate:subject */
    P_FROM,     /* email-message:from_ref.value */
    P_TO,       /* email-message:to_refs[*].value */
    P_RESOLVES, /* domain-name:resolves_to_refs[*].value */
    P_SRC,      /* network-traffic:src_ref.value */
    P_DST,      /* network-traffic:dst_ref.value */
    P_SPORT,    /* network-traffic:src_port */
    P_DPORT,    /* network-traffic:dst_port */
    P_PROTO,    /* network-traffic:protocols[*] */
    P_UA,       /* network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' */
    P_ISSUER,   /* x509-certificate:issuer */
    P_SERIAL,   /* x509-certificate:serial_number */
    P_IMPHASH,  /* file:extensions.'windows-pebinary-ext'.imphash (patterns only) */
    P_XPROP,    /* a custom property of the root, named by hkey (x_misp_...; patterns only) */
} misp_prop;

typedef struct misp_fact {
    misp_prop p;
    const char *hkey; /* P_HASH: the STIX hash name */
    const char *v;    /* the value as text (numbers too) */
    int num;          /* 1: written as an integer */
    char digits[24];  /* a number's canonical text (no leading zeros: JSON forbids them) */
} misp_fact;

/* A group: the facts of one attribute, or of one MISP object, all about one root SCO type. */
typedef struct misp_group {
    const char *root; /* root SCO type of the facts */
    size_t n;
    const char *pattern_type; /* non-NULL: the value is a pattern in that language (snort...) */
    const char *sig;          /* that pattern */
    int vulnerability;        /* a vulnerability attribute (its own SDO, no facts) */
    misp_fact f[MISP_MAX_FACTS];
} misp_group;

/* One event's mapping state. */
typedef struct misp_ev {
    misp_map_ctx *c;
    const ajson_value *e;
    size_t index;
    char uuid[40];
    char creator[128]; /* identity id, "" when the event names no org */
    int64_t ts, date;  /* event timestamp; date at midnight (seconds) */
    int64_t tsc[2];          /* the last two epochs formatted (-1: none), their text */
    char tsc_text[2][28];
    int tsc_next;            /* the slot the next one replaces */
    const char *tlp;   /* the event's marking id, or NULL */
    buf o;             /* the object being written */
    buf refs;          /* the report's object_refs, comma-separated quoted ids */
    buf tmp;           /* scratch: patterns */
    buf body, hashes, srefs; /* scratch of misp_scos */
    ajson_arena scratch;     /* split values; reset per attribute */
    u64map seen; /* ids written in this event (identities, clusters, markings, SCOs) */
    u64map sdo;  /* attribute uuid hash -> 1 indicator, 2 observed-data (for event sightings) */
    u64map byid; /* attribute numeric id -> 1 + offset in sdo_ids (for event-level proposals) */
    buf sdo_ids; /* the SDO ids byid points at, NUL-terminated */
    u64map cltype; /* cluster uuid hash -> 1 + its STIX type's index (misp_map.c) */
    buf crels;     /* cluster relations to write once every cluster is known: "src\0type\0uuid\0" */
    int failed;  /* strict mode met a bad attribute */
    /* the event lists sightings (sdo) / proposals (byid, sdo_ids) at its level: only then are
     * those maps kept (a million-attribute event would hold them for nothing) */
    int need_sdo, need_byid;
} misp_ev;

/* misp_map.c: 1 the first time id is written in this event; emits x->o. */
int misp_first_time(misp_ev *x, const char *id);
int misp_emit(misp_ev *x);
/* Appends "id" (quoted, comma-separated) to a list under construction. */
void misp_add_ref(buf *b, const char *id);

/* misp_attr.c */
/* An empty group. */
void misp_group_init(misp_group *g);
/*
 * The facts of an attribute of MISP type `type` with value v, into g.  Returns 0; 1 when the
 * type has no STIX equivalent (g stays empty: a custom object); -1 with *why when the value
 * cannot be of the type.  Split values are copied into x->scratch.
 */
int misp_attr_facts(misp_ev *x, const char *type, const char *v, misp_group *g, const char **why);
/*
 * Adds the fact of relation `relation` of a MISP object named `object` (value v) to g.  Returns
 * 0 when added; 1 when the object table has no such relation, it is about another root SCO, or g
 * holds that single-valued property already (the attribute is then mapped on its own); -1 with
 * *why when the value cannot be what the relation says.
 */
int misp_object_fact(misp_group *g, const char *object, const char *relation, const char *v,
                     const char **why);
/* g's STIX pattern, [root:path = 'v' AND ...], into out (reset first). */
void misp_pattern(const misp_group *g, buf *out);
/*
 * Writes the SCOs of g (sub-objects first, the root last; each once per event) and appends their
 * ids to ids.  guuid names the group (UUIDv5 ids).  Returns 0; 1 when the facts cannot make a
 * valid SCO (a network-traffic without an end, a file without name or hash); or an emit error.
 */
int misp_scos(misp_ev *x, const misp_group *g, const char *guuid, buf *ids);
/*
 * The way back, for the misp-feed export: adds to g the fact a comparison "root:path = v" of a
 * STIX pattern states (path as misp_pattern writes it, keys with other bytes than [a-z0-9_]
 * quoted: "hashes.'SHA-1'", "values[*].data"; num: v is an integer literal's digits).  v is
 * borrowed.  0, or -1 when no MISP value says it, g is full or its root is another.
 */
int misp_group_term(misp_group *g, const char *root, const char *path, const char *v, int num);

/* How MISP holds a group (misp_form_of): one attribute, or one object of attributes. */
typedef struct misp_form {
    const char *object; /* the object's name; NULL: one attribute of type a[0].type whose value
                           is the parts a[0..n).v joined by '|' (a composite when n is 2) */
    const char *meta;   /* the object's meta-category */
    size_t n;
    struct {
        const char *relation, *type, *category, *v; /* relation: NULL for a lone attribute */
    } a[MISP_MAX_FACTS];
} misp_form;
/*
 * The MISP attribute (ip-dst, filename|sha256, domain|ip, ...) or object (file, domain-ip,
 * network-connection, ...) that the importer maps to exactly g's facts, into out: 0, or -1 when
 * none does (a fact no object's table holds, a composite part with a '|', a bad value).
 */
int misp_form_of(const misp_group *g, misp_form *out);
/* 1 when v is decimal digits (at most 10) of a number <= max. */
int misp_uint_ok(const char *v, uint64_t max);
/* "ipv4-addr" or "ipv6-addr" for an address or CIDR, NULL for anything else. */
const char *misp_ip_type(const char *v);
/* A STIX timestamp (27 characters and a NUL) of s seconds and us microseconds, clamped to
 * 0001..9999. */
void misp_ts_format(int64_t s, int us, char out[28]);

/* ------------------------------------------------------------------------------------------ */
/* The galaxy links of a misp-feed export (misp_links.c)                                       */

/*
 * The clusters (attack-pattern, malware, tool, ...) linked to the indicators of an export set by
 * relationships, and to the reports that name them, read from the set's store as its viewer and
 * max TLP allow.  *out is NULL when there are none.  0 or an error.
 */
typedef struct misp_links misp_links;
struct accord_export_set;
int misp_links_load(const struct accord_export_set *s, misp_links **out, accord_error *err);
void misp_links_free(misp_links *l);
/* 1 when indicator ind (an index into the set's indicators) has clusters (l may be NULL). */
int misp_links_has(const misp_links *l, uint32_t ind);
/* ,"Tag":[the TLP tag (tlp_tag, when not NULL), one galaxy tag per cluster],"Galaxy":[...] of an
 * attribute of indicator ind, appended to out. */
void misp_links_attribute(const misp_links *l, uint32_t ind, const char *tlp_tag, buf *out);
/* The event's galaxy tags ({"name":...} objects, comma-separated, a comma first unless first). */
void misp_links_event_tags(const misp_links *l, int first, buf *out);
/* ,"Galaxy":[...] of the event (nothing when it has none). */
void misp_links_event(const misp_links *l, buf *out);

#endif
