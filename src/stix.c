/*
 * stix.c - validation of one STIX 2.x object by the MUST rules of STIX 2.1 (OASIS Standard,
 * 10 June 2021), and by the looser STIX 2.0 rules for objects that carry no spec_version.
 *
 * Every ingest path (import, TAXII, federation) hands each parsed object to stix_validate and
 * stores it only when it returns 0.  The answer is the first broken rule: a JSON path to the
 * property at fault, a stable kebab-case rule name, and a one-line message that quotes the
 * offending value (escaped and truncated, so any input is safe to print).
 *
 * The specification is written down here as data, not as code:
 *   - a property table per object type (and per nested structure: external references, granular
 *     markings, kill-chain phases, the predefined SCO extensions, MIME parts, ...): each row names
 *     a property, its kind, whether it is required, and for references the object types it may
 *     point to (type names, or the classes SDO, SRO, SCO, META, CUSTOM);
 *   - a table of property kinds (string, integer, timestamp, reference, list of references,
 *     hashes, ...), each with the one function that checks a value of that kind;
 *   - the type table: every type of the specification, its kind, whether STIX 2.0 knew it, its
 *     property table, and a function for the rules that relate several properties (valid_until
 *     after valid_from, exactly one of objects/object_refs, the fixed TLP marking ids, ...).
 * Members are checked in document order against the common table of the object's kind, then its
 * type's table; a member that neither names is a custom property, and only its name is checked.
 * Then missing required properties, then the type's own rules, then modified >= created.
 *
 * Rule names (stable; callers and tests match them): required-property, property-type,
 * type-name, id-format, id-type, spec-version, timestamp-format, timestamp-precision,
 * modified-before-created, time-order, ref-format, ref-type, empty-list, empty-dictionary,
 * value-range, value-format, enum-value, at-least-one, mutually-exclusive, co-required,
 * custom-property-name, hash-key, hash-format, external-id-format, selector-unresolved,
 * extension-key, extension-type, extension-properties, tlp-id, pattern-syntax.
 *
 * Invariants: nothing here allocates; every string written goes through sbuf, which never
 * overflows and never cuts a UTF-8 sequence; prob->property and prob->message contain no control
 * bytes.  Pointers put into stix_info point into the caller's JSON tree or at string literals.
 *
 * What this file deliberately does not do: it does not resolve references against other objects
 * (a reference names a well-formed id of an allowed type; whether that object exists is the
 * store's business); it parses indicator patterns only to reject invalid STIX ones (rule
 * pattern-syntax, through the pattern engine); it does not check SHOULD rules or open
 * vocabularies (deterministic UUIDv5 ids of SCOs, "x_" prefixes, lower-case dictionary keys);
 * it does not validate custom content beyond the naming rules (custom *_ref properties included:
 * public content uses that suffix for values that are not ids); it checks dictionary keys only in
 * hashes; the non-empty rule for lists and dictionaries applies to the properties the
 * specification defines; and under STIX 2.0 rules it checks the common properties, value kinds
 * and timestamps but not the per-type required properties or co-constraints.
 */
#include "stix.h"

#include "accord.h"
#include "util/timestamp.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define PATH_LEN sizeof(((stix_problem *)0)->property)

#if defined(__GNUC__)
#define PRINTF_LIKE(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define PRINTF_LIKE(fmt, args)
#endif

/* ------------------------------------------------------------------------------------------ */
/* Bounded, escaping string building                                                          */

typedef struct sbuf {
    char *p;
    size_t cap, len;
} sbuf;

static void sb_init(sbuf *b, char *p, size_t cap)
{
    b->p = p;
    b->cap = cap;
    b->len = 0;
    p[0] = '\0';
}

static void sb_putn(sbuf *b, const char *s, size_t n)
{
    if (b->len + n >= b->cap)
        return; /* all or nothing, so a UTF-8 sequence is never cut */
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_puts(sbuf *b, const char *s)
{
    size_t n = strlen(s);
    if (b->len + n < b->cap) {
        sb_putn(b, s, n);
        return;
    }
    while (*s) /* does not fit: as much as fits, byte by byte */
        sb_putn(b, s++, 1);
}

static void sb_printf(sbuf *b, const char *fmt, ...) PRINTF_LIKE(2, 3);

static void sb_printf(sbuf *b, const char *fmt, ...)
{
    char tmp[160];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        sb_puts(b, tmp); /* callers format only ASCII */
}

/* Length of the UTF-8 sequence led by byte c (the parser guarantees valid UTF-8). */
static size_t utf8_len(unsigned char c)
{
    if (c < 0x80)
        return 1;
    if (c >= 0xf0)
        return 4;
    if (c >= 0xe0)
        return 3;
    return 2;
}

/*
 * Appends s[0..len) with '"', '\\' and control bytes escaped, writing at most `max` bytes of
 * output; a longer input is cut at a character boundary and marked with "...".
 */
static void sb_esc(sbuf *b, const char *s, size_t len, size_t max)
{
    size_t out = 0, i = 0;
    /* fast path, the common case of property names: nothing to escape and it all fits */
    while (i < len && i < max && (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f &&
           s[i] != '"' && s[i] != '\\')
        i++;
    if (i == len && b->len + len < b->cap) {
        sb_putn(b, s, len);
        return;
    }
    i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        char tmp[8];
        size_t n = utf8_len(c);
        if (c < 0x20 || c == 0x7f) {
            n = (size_t)snprintf(tmp, sizeof tmp, "\\x%02x", c);
        } else if (c == '"' || c == '\\') {
            tmp[0] = '\\';
            tmp[1] = (char)c;
            n = 2;
        } else {
            if (i + n > len)
                n = len - i;
            memcpy(tmp, s + i, n);
        }
        if (out + n > max) {
            sb_puts(b, "...");
            return;
        }
        sb_putn(b, tmp, n);
        out += n;
        i += c < 0x80 ? 1 : utf8_len(c);
    }
}

/* Appends a short, printable rendering of a JSON value. */
static void sb_value(sbuf *b, const ajson_value *v)
{
    switch (v->type) {
    case AJSON_STRING:
        sb_putn(b, "\"", 1);
        sb_esc(b, v->u.str, v->len, 64);
        sb_putn(b, "\"", 1);
        break;
    case AJSON_NUMBER:
        sb_esc(b, v->u.str, v->len, 32);
        break;
    case AJSON_TRUE:
        sb_puts(b, "true");
        break;
    case AJSON_FALSE:
        sb_puts(b, "false");
        break;
    case AJSON_NULL:
        sb_puts(b, "null");
        break;
    case AJSON_ARRAY:
        sb_puts(b, "an array");
        break;
    case AJSON_OBJECT:
        sb_puts(b, "an object");
        break;
    }
}

/* JSON paths: base + ".key" (or "key" at the root), base + "[i]". */
static void path_key(char *out, const char *base, const char *key)
{
    sbuf b;
    sb_init(&b, out, PATH_LEN);
    sb_puts(&b, base);
    if (*base)
        sb_putn(&b, ".", 1);
    sb_esc(&b, key, strlen(key), 72);
}

static void path_index(char *out, const char *base, size_t i)
{
    sbuf b;
    sb_init(&b, out, PATH_LEN);
    sb_puts(&b, base);
    sb_printf(&b, "[%zu]", i);
}

/* ------------------------------------------------------------------------------------------ */
/* Validation context and failure reports                                                     */

typedef struct vctx {
    const ajson_value *root;   /* the top-level object: granular marking selectors start here */
    const char *type;         /* type of the object being checked (an embedded one, inside
                                 observed-data "objects") */
    const ajson_value *locals; /* observed-data "objects" while its observables are checked: their
                                 references are keys of this dictionary, not ids */
    stix_problem *prob;
    int v20; /* checking by STIX 2.0 rules */
} vctx;

/*
 * Records the problem: the property path, the rule, and the message
 * `property "<path>": <value> <detail> (rule <rule>)`.  Returns ACCORD_ESTIX.
 */
static int fail(vctx *c, const char *path, const char *rule, const ajson_value *v, const char *fmt,
                ...) PRINTF_LIKE(5, 6);

static int fail(vctx *c, const char *path, const char *rule, const ajson_value *v, const char *fmt,
                ...)
{
    stix_problem *pr = c->prob;
    sbuf b;
    char detail[160];
    va_list ap;

    snprintf(pr->property, sizeof pr->property, "%s", path);
    snprintf(pr->rule, sizeof pr->rule, "%s", rule);
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);

    sb_init(&b, pr->message, sizeof pr->message);
    if (*path) {
        sb_puts(&b, "property \"");
        sb_puts(&b, path);
        sb_puts(&b, "\": ");
    } else {
        sb_puts(&b, "object: ");
    }
    if (v) {
        sb_value(&b, v);
        sb_putn(&b, " ", 1);
    }
    sb_puts(&b, detail);
    sb_puts(&b, " (rule ");
    sb_puts(&b, rule);
    sb_puts(&b, ")");
    return ACCORD_ESTIX;
}

/* ------------------------------------------------------------------------------------------ */
/* Lexical rules: type names, identifiers, property names, encodings                          */

static int is_lower(int ch)
{
    return ch >= 'a' && ch <= 'z';
}

static int is_digit(int ch)
{
    return ch >= '0' && ch <= '9';
}

static int is_alpha(int ch)
{
    return is_lower(ch) || (ch >= 'A' && ch <= 'Z');
}

static int is_hex(int ch)
{
    return is_digit(ch) || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

/*
 * Object type names (spec 2.1 section 11.2 for custom types, and the schema's pattern): 3-250 of
 * a-z, 0-9 and '-', starting with a letter, no "--" (it separates type and UUID in ids) and no
 * trailing '-'.
 */
static int type_name_ok(const char *s, size_t len)
{
    if (len < 3 || len > 250 || !is_lower((unsigned char)s[0]) || s[len - 1] == '-')
        return 0;
    for (size_t i = 0; i < len; i++) {
        int ch = (unsigned char)s[i];
        if (ch == '-' ? s[i + 1] == '-' : !is_lower(ch) && !is_digit(ch))
            return 0;
    }
    return 1;
}

/* An RFC 4122 UUID, exactly 36 characters to the end of u (version 1-5, variant 10xx). */
static int uuid_ok(const char *u)
{
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (u[i] != '-')
                return 0;
        } else if (!is_hex((unsigned char)u[i])) {
            return 0;
        }
    }
    return u[36] == '\0' && u[14] >= '1' && u[14] <= '5' && strchr("89abAB", u[19]) != NULL;
}

/* The length of the type part of identifier s ("type--uuid"), or 0 when s is not one. */
static size_t id_type_len(const char *s)
{
    const char *sep = strstr(s, "--");
    if (!sep || !type_name_ok(s, (size_t)(sep - s)) || !uuid_ok(sep + 2))
        return 0;
    return (size_t)(sep - s);
}

/*
 * Property names.  STIX 2.1: ASCII a-z, A-Z, 0-9 and '_', 3-250 characters, starting with a
 * letter.  STIX 2.0 (custom properties): a-z, 0-9 and '_', 3-250 characters.
 */
static int prop_name_ok(const char *s, int v20)
{
    size_t len = strlen(s);
    if (len < 3 || len > 250 || (!v20 && !is_alpha((unsigned char)s[0])))
        return 0;
    for (size_t i = 0; i < len; i++) {
        int ch = (unsigned char)s[i];
        if (!(v20 ? is_lower(ch) : is_alpha(ch)) && !is_digit(ch) && ch != '_')
            return 0;
    }
    return 1;
}

/* The hex type: an even number of hexadecimal characters. */
static int hex_ok(const char *s, size_t len)
{
    if (len % 2)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!is_hex((unsigned char)s[i]))
            return 0;
    return 1;
}

/* The binary type: base64 (RFC 4648 section 4) with padding. */
static int base64_ok(const char *s, size_t len)
{
    if (len % 4)
        return 0;
    for (size_t i = 0; i < len; i++) {
        int ch = (unsigned char)s[i];
        if (ch == '=') {
            if (i + 2 < len || (i + 2 == len && s[i + 1] != '='))
                return 0;
        } else if (!is_alpha(ch) && !is_digit(ch) && ch != '+' && ch != '/') {
            return 0;
        }
    }
    return 1;
}

/* Parses a decimal in [0, max] spanning s[0..len) without leading zeros; -1 when it is not. */
static long small_uint(const char *s, size_t len, long max)
{
    long n = 0;
    if (len == 0 || len > 3 || (len > 1 && s[0] == '0'))
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (!is_digit((unsigned char)s[i]))
            return -1;
        n = n * 10 + (s[i] - '0');
    }
    return n <= max ? n : -1;
}

/* A CIDR prefix "/n" at s (or nothing), n <= max. */
static int prefix_ok(const char *s, long max)
{
    return *s == '\0' || (*s == '/' && small_uint(s + 1, strlen(s + 1), max) >= 0);
}

/* ipv4-addr value: a dotted quad, optionally with a CIDR prefix. */
static int ipv4_ok(const char *s)
{
    for (int part = 0; part < 4; part++) {
        size_t n = 0;
        while (is_digit((unsigned char)s[n]))
            n++;
        if (small_uint(s, n, 255) < 0)
            return 0;
        s += n;
        if (part < 3 && *s++ != '.')
            return 0;
    }
    return prefix_ok(s, 32);
}

/* ipv6-addr value: an RFC 4291 address, optionally with a CIDR prefix. */
static int ipv6_ok(const char *s)
{
    char addr[INET6_ADDRSTRLEN];
    unsigned char bin[16];
    size_t n = strcspn(s, "/");
    if (n >= sizeof addr)
        return 0;
    memcpy(addr, s, n);
    addr[n] = '\0';
    return inet_pton(AF_INET6, addr, bin) == 1 && prefix_ok(s + n, 128);
}

/* mac-addr value: colon-delimited, lower-case MAC-48 with leading zeros. */
static int mac_ok(const char *s)
{
    for (int i = 0; i < 17; i++) {
        int ch = (unsigned char)s[i];
        if (i % 3 == 2 ? ch != ':' : !is_digit(ch) && !(ch >= 'a' && ch <= 'f'))
            return 0;
    }
    return s[17] == '\0';
}

/* 1 when word (len bytes) is one of the space-separated words of list. */
static int word_in(const char *list, const char *word, size_t len)
{
    while (*list) {
        size_t n = strcspn(list, " ");
        if (n == len && memcmp(list, word, len) == 0)
            return 1;
        list += n;
        while (*list == ' ')
            list++;
    }
    return 0;
}

/* The tables are data, one row per line: clang-format leaves them alone. */
/* clang-format off */

/* ------------------------------------------------------------------------------------------ */
/* Property tables                                                                            */

enum pkind {
    K_ANY,     /* checked elsewhere, or anything goes */
    K_STR,     /* string */
    K_INT,     /* integer (F_RANGE: within min..max) */
    K_NUM,     /* number (F_RANGE: within min..max) */
    K_BOOL,    /* boolean */
    K_TS,      /* timestamp */
    K_TSMS,    /* created / modified: a timestamp precise to the millisecond (2.1) */
    K_REF,     /* identifier of an object of an allowed type (arg) */
    K_REFS,    /* non-empty list of K_REF */
    K_STRS,    /* non-empty list of strings */
    K_ENUM,    /* one of the words of arg */
    K_ENUMS,   /* non-empty list of K_ENUM */
    K_DICT,    /* non-empty dictionary */
    K_HASHES,  /* hashes dictionary */
    K_BIN,     /* base64 */
    K_HEX,     /* hex */
    K_SUB,     /* an object with the properties of table sub */
    K_SUBS,    /* non-empty list of K_SUB */
    K_EXTS,    /* the extensions dictionary */
    K_OBJMAP,  /* observed-data objects: a dictionary of embedded observables */
    K_NKINDS
};

enum {
    F_REQ = 1,   /* required by STIX 2.0 and 2.1 */
    F_REQ21 = 2, /* required by STIX 2.1 */
    F_RANGE = 4, /* min..max apply */
};

typedef struct ptable ptable;

typedef struct prop {
    const char *name;
    unsigned char kind;  /* enum pkind */
    unsigned char flags; /* F_* */
    const char *arg;     /* K_REF(S): allowed target types and classes; K_ENUM(S): the values */
    const ptable *sub;   /* K_SUB(S): the nested object's table */
    int64_t min, max;    /* F_RANGE */
} prop;

/* A set of properties and the rule relating them (may be NULL), called once the members pass. */
struct ptable {
    const prop *props; /* ends with a row whose name is NULL */
    int (*rule)(vctx *c, const char *path, const ajson_value *o);
};

#define P(n, k, f) {.name = (n), .kind = (k), .flags = (f)}
#define PA(n, k, f, a) {.name = (n), .kind = (k), .flags = (f), .arg = (a)}
#define PR(n, k, f, lo, hi) {.name = (n), .kind = (k), .flags = (f) | F_RANGE, .min = (lo), .max = (hi)}
#define PS(n, k, f, s) {.name = (n), .kind = (k), .flags = (f), .sub = (s)}
#define PEND {.name = NULL}

/* Reference targets: type names, and the classes of stix_type_kind. */
#define T_SDO_SCO "SDO SCO CUSTOM"
#define T_ANY "SDO SRO SCO META CUSTOM"

static int gm_rule(vctx *c, const char *path, const ajson_value *o);
static int extref_rule(vctx *c, const char *path, const ajson_value *o);

static const prop kcp_props[] = {
    P("kill_chain_name", K_STR, F_REQ),
    P("phase_name", K_STR, F_REQ),
    PEND,
};
static const ptable kcp_table = {kcp_props, NULL};

static const prop extref_props[] = {
    P("source_name", K_STR, F_REQ),
    P("description", K_STR, 0),
    P("url", K_STR, 0),
    P("hashes", K_HASHES, 0),
    P("external_id", K_STR, 0),
    PEND,
};
static const ptable extref_table = {extref_props, extref_rule};

static const prop gm_props[] = {
    P("selectors", K_STRS, F_REQ),
    PA("marking_ref", K_REF, 0, "marking-definition"),
    P("lang", K_STR, 0),
    PEND,
};
static const ptable gm_table = {gm_props, gm_rule};

/* Common properties of SDOs, SROs, language-content, extension-definition and custom objects. */
static const prop sdo_common[] = {
    P("type", K_ANY, 0),
    P("spec_version", K_ANY, 0),
    P("id", K_ANY, 0),
    PA("created_by_ref", K_REF, 0, "identity"),
    P("created", K_TSMS, F_REQ),
    P("modified", K_TSMS, F_REQ),
    P("revoked", K_BOOL, 0),
    P("labels", K_STRS, 0),
    PR("confidence", K_INT, 0, 0, 100),
    P("lang", K_STR, 0),
    PS("external_references", K_SUBS, 0, &extref_table),
    PA("object_marking_refs", K_REFS, 0, "marking-definition"),
    PS("granular_markings", K_SUBS, 0, &gm_table),
    P("extensions", K_EXTS, 0),
    PEND,
};

/* Common properties of SCOs. */
static const prop sco_common[] = {
    P("type", K_ANY, 0),
    P("spec_version", K_ANY, 0),
    P("id", K_ANY, 0),
    PA("object_marking_refs", K_REFS, 0, "marking-definition"),
    PS("granular_markings", K_SUBS, 0, &gm_table),
    P("defanged", K_BOOL, 0),
    P("extensions", K_EXTS, 0),
    PEND,
};

/* The properties of marking-definition (it has no modified: markings are never versioned). */
static const prop md_common[] = {
    P("type", K_ANY, 0),
    P("spec_version", K_ANY, 0),
    P("id", K_ANY, 0),
    PA("created_by_ref", K_REF, 0, "identity"),
    P("created", K_TSMS, F_REQ),
    PS("external_references", K_SUBS, 0, &extref_table),
    PA("object_marking_refs", K_REFS, 0, "marking-definition"),
    PS("granular_markings", K_SUBS, 0, &gm_table),
    P("extensions", K_EXTS, 0),
    P("name", K_STR, 0),
    P("definition_type", K_STR, 0),
    P("definition", K_SUB, 0),
    PEND,
};

/* --- SDOs --- */

static int seen_rule(vctx *c, const char *path, const ajson_value *o);
static int indicator_rule(vctx *c, const char *path, const ajson_value *o);
static int location_rule(vctx *c, const char *path, const ajson_value *o);
static int malware_rule(vctx *c, const char *path, const ajson_value *o);
static int analysis_rule(vctx *c, const char *path, const ajson_value *o);
static int observed_rule(vctx *c, const char *path, const ajson_value *o);
static int relationship_rule(vctx *c, const char *path, const ajson_value *o);
static int sighting_rule(vctx *c, const char *path, const ajson_value *o);

static const prop attack_pattern_props[] = {
    P("name", K_STR, F_REQ21),
    P("description", K_STR, 0),
    P("aliases", K_STRS, 0),
    PS("kill_chain_phases", K_SUBS, 0, &kcp_table),
    PEND,
};

static const prop campaign_props[] = {
    P("name", K_STR, F_REQ21),
    P("description", K_STR, 0),
    P("aliases", K_STRS, 0),
    P("first_seen", K_TS, 0),
    P("last_seen", K_TS, 0),
    P("objective", K_STR, 0),
    PEND,
};

static const prop name_desc_props[] = { /* course-of-action, vulnerability */
    P("name", K_STR, F_REQ21),
    P("description", K_STR, 0),
    PEND,
};

static const prop grouping_props[] = {
    P("name", K_STR, 0),
    P("description", K_STR, 0),
    P("context", K_STR, F_REQ21),
    PA("object_refs", K_REFS, F_REQ21, T_ANY),
    PEND,
};

static const prop identity_props[] = {
    P("name", K_STR, F_REQ21),
    P("description", K_STR, 0),
    P("roles", K_STRS, 0),
    P("identity_class", K_STR, 0),
    P("sectors", K_STRS, 0),
    P("contact_information", K_STR, 0),
    PEND,
};

static const prop incident_props[] = {
    P("name", K_STR, F_REQ21),
    P("description", K_STR, 0),
    PS("kill_chain_phases", K_SUBS, 0, &kcp_table),
    PEND,
};

static const prop indicator_props[] = {
    P("name", K_STR, 0),
    P("description", K_STR, 0),
    P("indicator_types", K_STRS, 0),
    P("pattern", K_STR, F_REQ21),
    P("pattern_type", K_STR, F_REQ21),
    P("pattern_version", K_STR, 0),
    P("valid_from", K_TS, F_REQ21),
    P("valid_until", K_TS, 0),
    PS("kill_chain_phases", K_SUBS, 0, &kcp_table),
    PEND,
};

static const prop infrastructure_props[] = {
    P("name", K_STR, F_REQ21),
    P("description", K_STR, 0),
    P("infrastructure_types", K_STRS, 0),
    P("aliases", K_STRS, 0),
    PS("kill_chain_phases", K_SUBS, 0, &kcp_table),
    P("first_seen", K_TS, 0),
    P("last_seen", K_TS, 0),
    PEND,
};

static const prop intrusion_set_props[] = {
    P("name", K_STR, F_REQ21),
    P("description", K_STR, 0),
    P("aliases", K_STRS, 0),
    P("first_seen", K_TS, 0),
    P("last_seen", K_TS, 0),
    P("goals", K_STRS, 0),
    P("resource_level", K_STR, 0),
    P("primary_motivation", K_STR, 0),
    P("secondary_motivations", K_STRS, 0),
    PEND,
};

static const prop location_props[] = {
    P("name", K_STR, 0),
    P("description", K_STR, 0),
    PR("latitude", K_NUM, 0, -90, 90),
    PR("longitude", K_NUM, 0, -180, 180),
    P("precision", K_NUM, 0),
    P("region", K_STR, 0),
    P("country", K_STR, 0),
    P("administrative_area", K_STR, 0),
    P("city", K_STR, 0),
    P("street_address", K_STR, 0),
    P("postal_code", K_STR, 0),
    PEND,
};

static const prop malware_props[] = {
    P("name", K_STR, 0),
    P("description", K_STR, 0),
    P("malware_types", K_STRS, 0),
    P("is_family", K_BOOL, F_REQ21),
    P("aliases", K_STRS, 0),
    PS("kill_chain_phases", K_SUBS, 0, &kcp_table),
    P("first_seen", K_TS, 0),
    P("last_seen", K_TS, 0),
    PA("operating_system_refs", K_REFS, 0, "software"),
    P("architecture_execution_envs", K_STRS, 0),
    P("implementation_languages", K_STRS, 0),
    P("capabilities", K_STRS, 0),
    PA("sample_refs", K_REFS, 0, "file artifact"),
    PEND,
};

static const prop malware_analysis_props[] = {
    P("product", K_STR, F_REQ21),
    P("version", K_STR, 0),
    PA("host_vm_ref", K_REF, 0, "software"),
    PA("operating_system_ref", K_REF, 0, "software"),
    PA("installed_software_refs", K_REFS, 0, "software"),
    P("configuration_version", K_STR, 0),
    P("modules", K_STRS, 0),
    P("analysis_engine_version", K_STR, 0),
    P("analysis_definition_version", K_STR, 0),
    P("submitted", K_TS, 0),
    P("analysis_started", K_TS, 0),
    P("analysis_ended", K_TS, 0),
    P("result_name", K_STR, 0),
    P("result", K_STR, 0),
    PA("analysis_sco_refs", K_REFS, 0, "SCO CUSTOM"),
    PA("sample_ref", K_REF, 0, "file network-traffic artifact"),
    PEND,
};

static const prop note_props[] = {
    P("abstract", K_STR, 0),
    P("content", K_STR, F_REQ21),
    P("authors", K_STRS, 0),
    PA("object_refs", K_REFS, F_REQ21, T_ANY),
    PEND,
};

static const prop observed_data_props[] = {
    P("first_observed", K_TS, F_REQ21),
    P("last_observed", K_TS, F_REQ21),
    PR("number_observed", K_INT, F_REQ21, 1, 999999999),
    P("objects", K_OBJMAP, 0),
    PA("object_refs", K_REFS, 0, "SCO SRO CUSTOM"),
    PEND,
};

static const prop opinion_props[] = {
    P("explanation", K_STR, 0),
    P("authors", K_STRS, 0),
    PA("opinion", K_ENUM, F_REQ21, "strongly-disagree disagree neutral agree strongly-agree"),
    PA("object_refs", K_REFS, F_REQ21, T_ANY),
    PEND,
};

static const prop report_props[] = {
    P("name", K_STR, F_REQ21),
    P("description", K_STR, 0),
    P("report_types", K_STRS, 0),
    P("published", K_TS, F_REQ21),
    PA("object_refs", K_REFS, F_REQ21, T_ANY),
    PEND,
};

static const prop threat_actor_props[] = {
    P("name", K_STR, F_REQ21),
    P("description", K_STR, 0),
    P("threat_actor_types", K_STRS, 0),
    P("aliases", K_STRS, 0),
    P("first_seen", K_TS, 0),
    P("last_seen", K_TS, 0),
    P("roles", K_STRS, 0),
    P("goals", K_STRS, 0),
    P("sophistication", K_STR, 0),
    P("resource_level", K_STR, 0),
    P("primary_motivation", K_STR, 0),
    P("secondary_motivations", K_STRS, 0),
    P("personal_motivations", K_STRS, 0),
    PEND,
};

static const prop tool_props[] = {
    P("name", K_STR, F_REQ21),
    P("description", K_STR, 0),
    P("tool_types", K_STRS, 0),
    P("aliases", K_STRS, 0),
    PS("kill_chain_phases", K_SUBS, 0, &kcp_table),
    P("tool_version", K_STR, 0),
    PEND,
};

/* --- SROs --- */

static const prop relationship_props[] = {
    P("relationship_type", K_STR, F_REQ21),
    P("description", K_STR, 0),
    PA("source_ref", K_REF, F_REQ21, T_SDO_SCO),
    PA("target_ref", K_REF, F_REQ21, T_SDO_SCO),
    P("start_time", K_TS, 0),
    P("stop_time", K_TS, 0),
    PEND,
};

static const prop sighting_props[] = {
    P("description", K_STR, 0),
    P("first_seen", K_TS, 0),
    P("last_seen", K_TS, 0),
    PR("count", K_INT, 0, 0, 999999999),
    PA("sighting_of_ref", K_REF, F_REQ21, "SDO CUSTOM"),
    PA("observed_data_refs", K_REFS, 0, "observed-data"),
    PA("where_sighted_refs", K_REFS, 0, "identity location"),
    P("summary", K_BOOL, 0),
    PEND,
};

/* --- SCOs --- */

static int artifact_rule(vctx *c, const char *path, const ajson_value *o);
static int file_rule(vctx *c, const char *path, const ajson_value *o);
static int email_rule(vctx *c, const char *path, const ajson_value *o);
static int traffic_rule(vctx *c, const char *path, const ajson_value *o);
static int ip_rule(vctx *c, const char *path, const ajson_value *o);
static int mac_rule(vctx *c, const char *path, const ajson_value *o);
static int some_prop_rule(vctx *c, const char *path, const ajson_value *o);

static const prop artifact_props[] = {
    P("mime_type", K_STR, 0),
    P("payload_bin", K_BIN, 0),
    P("url", K_STR, 0),
    P("hashes", K_HASHES, 0),
    PA("encryption_algorithm", K_ENUM, 0, "AES-256-GCM ChaCha20-Poly1305 mime-type-indicated"),
    P("decryption_key", K_STR, 0),
    PEND,
};

static const prop autonomous_system_props[] = {
    P("number", K_INT, F_REQ21),
    P("name", K_STR, 0),
    P("rir", K_STR, 0),
    PEND,
};

static const prop directory_props[] = {
    P("path", K_STR, F_REQ21),
    P("path_enc", K_STR, 0),
    P("ctime", K_TS, 0),
    P("mtime", K_TS, 0),
    P("atime", K_TS, 0),
    PA("contains_refs", K_REFS, 0, "file directory"),
    PEND,
};

static const prop domain_name_props[] = {
    P("value", K_STR, F_REQ21),
    PA("resolves_to_refs", K_REFS, 0, "ipv4-addr ipv6-addr domain-name"),
    PEND,
};

static const prop email_addr_props[] = {
    P("value", K_STR, F_REQ21),
    P("display_name", K_STR, 0),
    PA("belongs_to_ref", K_REF, 0, "user-account"),
    PEND,
};

static const prop mime_part_props[] = {
    P("body", K_STR, 0),
    PA("body_raw_ref", K_REF, 0, "artifact file"),
    P("content_type", K_STR, 0),
    P("content_disposition", K_STR, 0),
    PEND,
};
static const ptable mime_part_table = {mime_part_props, NULL};

static const prop email_message_props[] = {
    P("is_multipart", K_BOOL, F_REQ21),
    P("date", K_TS, 0),
    P("content_type", K_STR, 0),
    PA("from_ref", K_REF, 0, "email-addr"),
    PA("sender_ref", K_REF, 0, "email-addr"),
    PA("to_refs", K_REFS, 0, "email-addr"),
    PA("cc_refs", K_REFS, 0, "email-addr"),
    PA("bcc_refs", K_REFS, 0, "email-addr"),
    P("message_id", K_STR, 0),
    P("subject", K_STR, 0),
    P("received_lines", K_STRS, 0),
    P("additional_header_fields", K_DICT, 0),
    P("body", K_STR, 0),
    PS("body_multipart", K_SUBS, 0, &mime_part_table),
    PA("raw_email_ref", K_REF, 0, "artifact"),
    PEND,
};

static const prop file_props[] = {
    P("hashes", K_HASHES, 0),
    PR("size", K_INT, 0, 0, INT64_MAX),
    P("name", K_STR, 0),
    P("name_enc", K_STR, 0),
    P("magic_number_hex", K_HEX, 0),
    P("mime_type", K_STR, 0),
    P("ctime", K_TS, 0),
    P("mtime", K_TS, 0),
    P("atime", K_TS, 0),
    PA("parent_directory_ref", K_REF, 0, "directory"),
    PA("contains_refs", K_REFS, 0, "SCO CUSTOM"),
    PA("content_ref", K_REF, 0, "artifact"),
    PEND,
};

static const prop ip_addr_props[] = { /* ipv4-addr, ipv6-addr */
    P("value", K_STR, F_REQ21),
    PA("resolves_to_refs", K_REFS, 0, "mac-addr"),
    PA("belongs_to_refs", K_REFS, 0, "autonomous-system"),
    PEND,
};

static const prop value_props[] = { /* mac-addr, url */
    P("value", K_STR, F_REQ21),
    PEND,
};

static const prop mutex_props[] = {
    P("name", K_STR, F_REQ21),
    PEND,
};

static const prop network_traffic_props[] = {
    P("start", K_TS, 0),
    P("end", K_TS, 0),
    P("is_active", K_BOOL, 0),
    PA("src_ref", K_REF, 0, "ipv4-addr ipv6-addr mac-addr domain-name"),
    PA("dst_ref", K_REF, 0, "ipv4-addr ipv6-addr mac-addr domain-name"),
    PR("src_port", K_INT, 0, 0, 65535),
    PR("dst_port", K_INT, 0, 0, 65535),
    P("protocols", K_STRS, F_REQ21),
    PR("src_byte_count", K_INT, 0, 0, INT64_MAX),
    PR("dst_byte_count", K_INT, 0, 0, INT64_MAX),
    PR("src_packets", K_INT, 0, 0, INT64_MAX),
    PR("dst_packets", K_INT, 0, 0, INT64_MAX),
    P("ipfix", K_DICT, 0),
    PA("src_payload_ref", K_REF, 0, "artifact"),
    PA("dst_payload_ref", K_REF, 0, "artifact"),
    PA("encapsulates_refs", K_REFS, 0, "network-traffic"),
    PA("encapsulated_by_ref", K_REF, 0, "network-traffic"),
    PEND,
};

static const prop process_props[] = {
    P("is_hidden", K_BOOL, 0),
    P("pid", K_INT, 0),
    P("created_time", K_TS, 0),
    P("cwd", K_STR, 0),
    P("command_line", K_STR, 0),
    P("environment_variables", K_DICT, 0),
    PA("opened_connection_refs", K_REFS, 0, "network-traffic"),
    PA("creator_user_ref", K_REF, 0, "user-account"),
    PA("image_ref", K_REF, 0, "file"),
    PA("parent_ref", K_REF, 0, "process"),
    PA("child_refs", K_REFS, 0, "process"),
    PEND,
};

static const prop software_props[] = {
    P("name", K_STR, F_REQ21),
    P("cpe", K_STR, 0),
    P("swid", K_STR, 0),
    P("languages", K_STRS, 0),
    P("vendor", K_STR, 0),
    P("version", K_STR, 0),
    PEND,
};

static const prop user_account_props[] = {
    P("user_id", K_STR, 0),
    P("credential", K_STR, 0),
    P("account_login", K_STR, 0),
    P("account_type", K_STR, 0),
    P("display_name", K_STR, 0),
    P("is_service_account", K_BOOL, 0),
    P("is_privileged", K_BOOL, 0),
    P("can_escalate_privs", K_BOOL, 0),
    P("is_disabled", K_BOOL, 0),
    P("account_created", K_TS, 0),
    P("account_expires", K_TS, 0),
    P("credential_last_changed", K_TS, 0),
    P("account_first_login", K_TS, 0),
    P("account_last_login", K_TS, 0),
    PEND,
};

static const prop registry_value_props[] = {
    P("name", K_STR, 0),
    P("data", K_STR, 0),
    PA("data_type", K_ENUM, 0,
       "REG_NONE REG_SZ REG_EXPAND_SZ REG_BINARY REG_DWORD REG_DWORD_BIG_ENDIAN "
       "REG_DWORD_LITTLE_ENDIAN REG_LINK REG_MULTI_SZ REG_RESOURCE_LIST "
       "REG_FULL_RESOURCE_DESCRIPTION REG_RESOURCE_REQUIREMENTS_LIST REG_QWORD REG_INVALID_TYPE"),
    PEND,
};
static const ptable registry_value_table = {registry_value_props, NULL};

static const prop registry_key_props[] = {
    P("key", K_STR, 0),
    PS("values", K_SUBS, 0, &registry_value_table),
    P("modified_time", K_TS, 0),
    PA("creator_user_ref", K_REF, 0, "user-account"),
    PR("number_of_subkeys", K_INT, 0, 0, INT64_MAX),
    PEND,
};

static const prop x509_ext_props[] = {
    P("basic_constraints", K_STR, 0),
    P("name_constraints", K_STR, 0),
    P("policy_constraints", K_STR, 0),
    P("key_usage", K_STR, 0),
    P("extended_key_usage", K_STR, 0),
    P("subject_key_identifier", K_STR, 0),
    P("authority_key_identifier", K_STR, 0),
    P("subject_alternative_name", K_STR, 0),
    P("issuer_alternative_name", K_STR, 0),
    P("subject_directory_attributes", K_STR, 0),
    P("crl_distribution_points", K_STR, 0),
    P("inhibit_any_policy", K_STR, 0),
    P("private_key_usage_period_not_before", K_TS, 0),
    P("private_key_usage_period_not_after", K_TS, 0),
    P("certificate_policies", K_STR, 0),
    P("policy_mappings", K_STR, 0),
    PEND,
};
static const ptable x509_ext_table = {x509_ext_props, NULL};

static const prop x509_props[] = {
    P("is_self_signed", K_BOOL, 0),
    P("hashes", K_HASHES, 0),
    P("version", K_STR, 0),
    P("serial_number", K_STR, 0),
    P("signature_algorithm", K_STR, 0),
    P("issuer", K_STR, 0),
    P("validity_not_before", K_TS, 0),
    P("validity_not_after", K_TS, 0),
    P("subject", K_STR, 0),
    P("subject_public_key_algorithm", K_STR, 0),
    P("subject_public_key_modulus", K_STR, 0),
    P("subject_public_key_exponent", K_INT, 0),
    PS("x509_v3_extensions", K_SUB, 0, &x509_ext_table),
    PEND,
};

/* --- meta objects --- */

static int langcontent_rule(vctx *c, const char *path, const ajson_value *o);
static int extdef_rule(vctx *c, const char *path, const ajson_value *o);
static int marking_rule(vctx *c, const char *path, const ajson_value *o);

#define EXTENSION_TYPES "new-sdo new-sco new-sro property-extension toplevel-property-extension"

static const prop language_content_props[] = {
    PA("object_ref", K_REF, F_REQ21, T_ANY),
    P("object_modified", K_TS, 0),
    P("contents", K_DICT, F_REQ21),
    PEND,
};

static const prop extension_definition_props[] = {
    P("name", K_STR, F_REQ21),
    P("description", K_STR, 0),
    P("schema", K_STR, F_REQ21),
    P("version", K_STR, F_REQ21),
    PA("extension_types", K_ENUMS, F_REQ21, EXTENSION_TYPES),
    P("extension_properties", K_STRS, 0),
    PEND,
};

static const prop no_props[] = {PEND}; /* marking-definition: everything is in md_common */

/* Custom objects: no properties beyond the common ones are known. */
static const ptable custom_table = {no_props, NULL};

/* ------------------------------------------------------------------------------------------ */
/* The predefined extensions of SCOs                                                          */

static const prop archive_ext_props[] = {
    PA("contains_refs", K_REFS, F_REQ21, "file directory"),
    P("comment", K_STR, 0),
    PEND,
};

static const prop ads_props[] = {
    P("name", K_STR, F_REQ21),
    P("hashes", K_HASHES, 0),
    PR("size", K_INT, 0, 0, INT64_MAX),
    PEND,
};
static const ptable ads_table = {ads_props, NULL};

static const prop ntfs_ext_props[] = {
    P("sid", K_STR, 0),
    PS("alternate_data_streams", K_SUBS, 0, &ads_table),
    PEND,
};

static const prop pdf_ext_props[] = {
    P("version", K_STR, 0),
    P("is_optimized", K_BOOL, 0),
    P("document_info_dict", K_DICT, 0),
    P("pdfid0", K_STR, 0),
    P("pdfid1", K_STR, 0),
    PEND,
};

static const prop raster_ext_props[] = {
    P("image_height", K_INT, 0),
    P("image_width", K_INT, 0),
    P("bits_per_pixel", K_INT, 0),
    P("exif_tags", K_DICT, 0),
    PEND,
};

static const prop pe_section_props[] = {
    P("name", K_STR, F_REQ21),
    PR("size", K_INT, 0, 0, INT64_MAX),
    P("entropy", K_NUM, 0),
    P("hashes", K_HASHES, 0),
    PEND,
};
static const ptable pe_section_table = {pe_section_props, NULL};

static const prop pe_ext_props[] = {
    P("pe_type", K_STR, F_REQ21),
    P("imphash", K_STR, 0),
    P("machine_hex", K_HEX, 0),
    PR("number_of_sections", K_INT, 0, 0, INT64_MAX),
    P("time_date_stamp", K_TS, 0),
    P("pointer_to_symbol_table_hex", K_HEX, 0),
    PR("number_of_symbols", K_INT, 0, 0, INT64_MAX),
    PR("size_of_optional_header", K_INT, 0, 0, INT64_MAX),
    P("characteristics_hex", K_HEX, 0),
    P("file_header_hashes", K_HASHES, 0),
    P("optional_header", K_DICT, 0),
    PS("sections", K_SUBS, 0, &pe_section_table),
    PEND,
};

static const prop http_ext_props[] = {
    P("request_method", K_STR, F_REQ21),
    P("request_value", K_STR, F_REQ21),
    P("request_version", K_STR, 0),
    P("request_header", K_DICT, 0),
    PR("message_body_length", K_INT, 0, 0, INT64_MAX),
    PA("message_body_data_ref", K_REF, 0, "artifact"),
    PEND,
};

static const prop icmp_ext_props[] = {
    P("icmp_type_hex", K_HEX, F_REQ21),
    P("icmp_code_hex", K_HEX, F_REQ21),
    PEND,
};

static const prop socket_ext_props[] = {
    PA("address_family", K_ENUM, F_REQ21,
       "AF_UNSPEC AF_INET AF_IPX AF_APPLETALK AF_NETBIOS AF_INET6 AF_IRDA AF_BTH"),
    P("is_blocking", K_BOOL, 0),
    P("is_listening", K_BOOL, 0),
    P("options", K_DICT, 0),
    PA("socket_type", K_ENUM, 0, "SOCK_STREAM SOCK_DGRAM SOCK_RAW SOCK_RDM SOCK_SEQPACKET"),
    PR("socket_descriptor", K_INT, 0, 0, INT64_MAX),
    P("socket_handle", K_INT, 0),
    PEND,
};

static const prop tcp_ext_props[] = {
    P("src_flags_hex", K_HEX, 0),
    P("dst_flags_hex", K_HEX, 0),
    PEND,
};

static const prop winproc_ext_props[] = {
    P("aslr_enabled", K_BOOL, 0),
    P("dep_enabled", K_BOOL, 0),
    P("priority", K_STR, 0),
    P("owner_sid", K_STR, 0),
    P("window_title", K_STR, 0),
    P("startup_info", K_DICT, 0),
    PA("integrity_level", K_ENUM, 0, "low medium high system"),
    PEND,
};

static const prop winsvc_ext_props[] = {
    P("service_name", K_STR, 0),
    P("descriptions", K_STRS, 0),
    P("display_name", K_STR, 0),
    P("group_name", K_STR, 0),
    PA("start_type", K_ENUM, 0,
       "SERVICE_AUTO_START SERVICE_BOOT_START SERVICE_DEMAND_START SERVICE_DISABLED "
       "SERVICE_SYSTEM_ALERT"),
    PA("service_dll_refs", K_REFS, 0, "file"),
    PA("service_type", K_ENUM, 0,
       "SERVICE_KERNEL_DRIVER SERVICE_FILE_SYSTEM_DRIVER SERVICE_WIN32_OWN_PROCESS "
       "SERVICE_WIN32_SHARE_PROCESS"),
    PA("service_status", K_ENUM, 0,
       "SERVICE_CONTINUE_PENDING SERVICE_PAUSE_PENDING SERVICE_PAUSED SERVICE_RUNNING "
       "SERVICE_START_PENDING SERVICE_STOP_PENDING SERVICE_STOPPED"),
    PEND,
};

static const prop unix_account_ext_props[] = {
    P("gid", K_INT, 0),
    P("groups", K_STRS, 0),
    P("home_dir", K_STR, 0),
    P("shell", K_STR, 0),
    PEND,
};

typedef struct ext_def {
    const char *name;
    const char *owner; /* the SCO type it extends */
    const prop *props;
} ext_def;

static const ext_def predefined_exts[] = {
    {"archive-ext", "file", archive_ext_props},
    {"ntfs-ext", "file", ntfs_ext_props},
    {"pdf-ext", "file", pdf_ext_props},
    {"raster-image-ext", "file", raster_ext_props},
    {"windows-pebinary-ext", "file", pe_ext_props},
    {"http-request-ext", "network-traffic", http_ext_props},
    {"icmp-ext", "network-traffic", icmp_ext_props},
    {"socket-ext", "network-traffic", socket_ext_props},
    {"tcp-ext", "network-traffic", tcp_ext_props},
    {"windows-process-ext", "process", winproc_ext_props},
    {"windows-service-ext", "process", winsvc_ext_props},
    {"unix-account-ext", "user-account", unix_account_ext_props},
};

/* clang-format on */

/* ------------------------------------------------------------------------------------------ */
/* The type table                                                                             */

typedef struct type_def {
    const char *type;
    stix_kind kind;
    int in20; /* the type exists in STIX 2.0 */
    ptable t;
} type_def;

static const type_def types[] = {
    {"attack-pattern", STIX_KIND_SDO, 1, {attack_pattern_props, NULL}},
    {"campaign", STIX_KIND_SDO, 1, {campaign_props, seen_rule}},
    {"course-of-action", STIX_KIND_SDO, 1, {name_desc_props, NULL}},
    {"grouping", STIX_KIND_SDO, 0, {grouping_props, NULL}},
    {"identity", STIX_KIND_SDO, 1, {identity_props, NULL}},
    {"incident", STIX_KIND_SDO, 0, {incident_props, NULL}},
    {"indicator", STIX_KIND_SDO, 1, {indicator_props, indicator_rule}},
    {"infrastructure", STIX_KIND_SDO, 0, {infrastructure_props, seen_rule}},
    {"intrusion-set", STIX_KIND_SDO, 1, {intrusion_set_props, seen_rule}},
    {"location", STIX_KIND_SDO, 0, {location_props, location_rule}},
    {"malware", STIX_KIND_SDO, 1, {malware_props, malware_rule}},
    {"malware-analysis", STIX_KIND_SDO, 0, {malware_analysis_props, analysis_rule}},
    {"note", STIX_KIND_SDO, 0, {note_props, NULL}},
    {"observed-data", STIX_KIND_SDO, 1, {observed_data_props, observed_rule}},
    {"opinion", STIX_KIND_SDO, 0, {opinion_props, NULL}},
    {"report", STIX_KIND_SDO, 1, {report_props, NULL}},
    {"threat-actor", STIX_KIND_SDO, 1, {threat_actor_props, seen_rule}},
    {"tool", STIX_KIND_SDO, 1, {tool_props, NULL}},
    {"vulnerability", STIX_KIND_SDO, 1, {name_desc_props, NULL}},
    {"relationship", STIX_KIND_SRO, 1, {relationship_props, relationship_rule}},
    {"sighting", STIX_KIND_SRO, 1, {sighting_props, sighting_rule}},
    {"artifact", STIX_KIND_SCO, 1, {artifact_props, artifact_rule}},
    {"autonomous-system", STIX_KIND_SCO, 1, {autonomous_system_props, NULL}},
    {"directory", STIX_KIND_SCO, 1, {directory_props, NULL}},
    {"domain-name", STIX_KIND_SCO, 1, {domain_name_props, NULL}},
    {"email-addr", STIX_KIND_SCO, 1, {email_addr_props, NULL}},
    {"email-message", STIX_KIND_SCO, 1, {email_message_props, email_rule}},
    {"file", STIX_KIND_SCO, 1, {file_props, file_rule}},
    {"ipv4-addr", STIX_KIND_SCO, 1, {ip_addr_props, ip_rule}},
    {"ipv6-addr", STIX_KIND_SCO, 1, {ip_addr_props, ip_rule}},
    {"mac-addr", STIX_KIND_SCO, 1, {value_props, mac_rule}},
    {"mutex", STIX_KIND_SCO, 1, {mutex_props, NULL}},
    {"network-traffic", STIX_KIND_SCO, 1, {network_traffic_props, traffic_rule}},
    {"process", STIX_KIND_SCO, 1, {process_props, some_prop_rule}},
    {"software", STIX_KIND_SCO, 1, {software_props, NULL}},
    {"url", STIX_KIND_SCO, 1, {value_props, NULL}},
    {"user-account", STIX_KIND_SCO, 1, {user_account_props, some_prop_rule}},
    {"windows-registry-key", STIX_KIND_SCO, 1, {registry_key_props, some_prop_rule}},
    {"x509-certificate", STIX_KIND_SCO, 1, {x509_props, some_prop_rule}},
    {"language-content", STIX_KIND_META, 0, {language_content_props, langcontent_rule}},
    {"marking-definition", STIX_KIND_META, 1, {no_props, marking_rule}},
    {"extension-definition", STIX_KIND_META, 0, {extension_definition_props, extdef_rule}},
};

static const type_def *type_find(const char *type)
{
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (types[i].type[0] == type[0] && strcmp(types[i].type, type) == 0)
            return &types[i];
    return NULL;
}

stix_kind stix_type_kind(const char *type)
{
    const type_def *td = type ? type_find(type) : NULL;
    return td ? td->kind : STIX_KIND_CUSTOM;
}

/* ------------------------------------------------------------------------------------------ */
/* Property kinds                                                                             */

typedef int (*kind_fn)(vctx *c, const char *path, const ajson_value *v, const prop *p);

static int check_value(vctx *c, const char *path, const ajson_value *v, const prop *p);
static int check_object(vctx *c, const char *path, const ajson_value *o, const prop *t1,
                        const ptable *t2);

static int want(vctx *c, const char *path, const ajson_value *v, ajson_type t, const char *what)
{
    if (v->type == t)
        return 0;
    return fail(c, path, "property-type", v, "is not %s", what);
}

static int k_any(vctx *c, const char *path, const ajson_value *v, const prop *p)
{
    (void)c, (void)path, (void)v, (void)p;
    return 0;
}

static int k_str(vctx *c, const char *path, const ajson_value *v, const prop *p)
{
    (void)p;
    return want(c, path, v, AJSON_STRING, "a string");
}

static int k_int(vctx *c, const char *path, const ajson_value *v, const prop *p)
{
    int64_t n;
    if (!ajson_int(v, &n))
        return fail(c, path, "property-type", v, "is not an integer");
    if ((p->flags & F_RANGE) && (n < p->min || n > p->max))
        return fail(c, path, "value-range", v, "is outside %" PRId64 "..%" PRId64, p->min, p->max);
    return 0;
}

static int k_num(vctx *c, const char *path, const ajson_value *v, const prop *p)
{
    double d;
    if (!ajson_double(v, &d))
        return fail(c, path, "property-type", v, "is not a number");
    if ((p->flags & F_RANGE) && (d < (double)p->min || d > (double)p->max))
        return fail(c, path, "value-range", v, "is outside %" PRId64 "..%" PRId64, p->min, p->max);
    return 0;
}

static int k_bool(vctx *c, const char *path, const ajson_value *v, const prop *p)
{
    (void)p;
    if (v->type == AJSON_TRUE || v->type == AJSON_FALSE)
        return 0;
    return fail(c, path, "property-type", v, "is not a boolean");
}

static int k_ts(vctx *c, const char *path, const ajson_value *v, const prop *p)
{
    ts_value t;
    int rc = k_str(c, path, v, p);
    if (rc == 0 && ts_parse(v->u.str, &t) != 0)
        rc = fail(c, path, "timestamp-format", v,
                  "is not an RFC 3339 UTC timestamp YYYY-MM-DDTHH:MM:SS[.s+]Z");
    return rc;
}

/* created and modified: STIX 2.1 requires at least millisecond precision. */
static int k_tsms(vctx *c, const char *path, const ajson_value *v, const prop *p)
{
    ts_value t;
    int rc = k_ts(c, path, v, p);
    if (rc == 0 && !c->v20 && ts_parse(v->u.str, &t) == 0 && t.digits < 3)
        rc = fail(c, path, "timestamp-precision", v, "is not precise to the millisecond");
    return rc;
}

/* 1 when an object of type `type` may be the target of a reference with allowed targets arg. */
static int target_ok(const char *arg, const char *type)
{
    static const char *const class_names[] = {
        [STIX_KIND_SDO] = "SDO",   [STIX_KIND_SRO] = "SRO",       [STIX_KIND_SCO] = "SCO",
        [STIX_KIND_META] = "META", [STIX_KIND_CUSTOM] = "CUSTOM",
    };
    if (word_in(arg, type, strlen(type)))
        return 1;
    if (strcmp(type, "bundle") == 0) /* a bundle is not an object */
        return 0;
    const char *cls = class_names[stix_type_kind(type)];
    return word_in(arg, cls, strlen(cls));
}

/* A reference inside observed-data "objects": a key of that dictionary. */
static int local_ref(vctx *c, const char *path, const ajson_value *v, const prop *p)
{
    const ajson_value *target = ajson_get(c->locals, v->u.str);
    const char *type = ajson_str(ajson_get(target, "type"));
    if (!target)
        return fail(c, path, "ref-format", v, "is not a key of the observed-data objects");
    if (type && p->arg && !target_ok(p->arg, type)) {
        char shown[72];
        sbuf b;
        sb_init(&b, shown, sizeof shown);
        sb_esc(&b, type, strlen(type), 60); /* not checked yet: it may hold anything */
        return fail(c, path, "ref-type", v, "refers to a %s; allowed: %s", shown, p->arg);
    }
    return 0;
}

static int k_ref(vctx *c, const char *path, const ajson_value *v, const prop *p)
{
    char type[256];
    size_t tl;
    int rc = k_str(c, path, v, p);
    if (rc)
        return rc;
    if (c->locals)
        return local_ref(c, path, v, p);
    tl = id_type_len(v->u.str);
    if (tl == 0)
        return fail(c, path, "ref-format", v, "is not an identifier type--UUID");
    memcpy(type, v->u.str, tl);
    type[tl] = '\0';
    if (p->arg && !target_ok(p->arg, type))
        return fail(c, path, "ref-type", v, "may only refer to: %s", p->arg);
    return 0;
}

/* Checks each item of a non-empty list with check_value(item_kind). */
static int check_list(vctx *c, const char *path, const ajson_value *v, const prop *p, int item_kind)
{
    prop item = *p;
    char sub[PATH_LEN];
    int rc = want(c, path, v, AJSON_ARRAY, "a list");
    if (rc)
        return rc;
    if (v->len == 0)
        return fail(c, path, "empty-list", NULL, "is an empty list");
    item.kind = (unsigned char)item_kind;
    for (size_t i = 0; i < v->len && rc == 0; i++) {
        path_index(sub, path, i);
        rc = check_value(c, sub, &v->u.items[i], &item);
    }
    return rc;
}

static int k_refs(vctx *c, const char *path, const ajson_value *v, const prop *p)
{
    return check_list(c, path, v, p, K_REF);
}

static int k_strs(vctx *c, const char *path, const ajson_value *v, const prop *p)
{
    return check_list(c, path, v, p, K_STR);
}

static int k_enum(vctx *c, const char *path, const ajson_value *v, const prop *p)
{
    int rc = k_str(c, path, v, p);
    if (rc == 0 && !word_in(p->arg, v->u.str, v->len))
        rc = strlen(p->arg) < 100 ? fail(c, path, "enum-value", v, "is not one of: %s", p->arg)
                                  : fail(c, path, "enum-value", v, "is not an allowed value");
    return rc;
}

static int k_enums(vctx *c, const char *path, const ajson_value *v, const prop *p)
{
    return check_list(c, path, v, p, K_ENUM);
}

static int k_dict(vctx *c, const char *path, const ajson_value *v, const prop *p)
{
    int rc = want(c, path, v, AJSON_OBJECT, "a dictionary");
    (void)p;
    if (rc == 0 && v->len == 0)
        rc = fail(c, path, "empty-dictionary", NULL, "is an empty dictionary");
    return rc;
}

/* Hash algorithms of hash-algorithm-ov whose values are hex digests of a fixed length. */
static const struct {
    const char *name;
    size_t hex_len;
} hash_algos[] = {
    {"MD5", 32},      {"SHA-1", 40},    {"SHA-256", 64},
    {"SHA-512", 128}, {"SHA3-256", 64}, {"SHA3-512", 128},
};

/* A hashes key: 3-250 of a-z, A-Z, 0-9, '-' and '_'. */
static int hash_key_ok(const char *k, size_t len)
{
    if (len < 3 || len > 250)
        return 0;
    for (size_t i = 0; i < len; i++) {
        int ch = (unsigned char)k[i];
        if (!is_alpha(ch) && !is_digit(ch) && ch != '-' && ch != '_')
            return 0;
    }
    return 1;
}

static int check_hash(vctx *c, const char *path, const ajson_member *m)
{
    int rc = want(c, path, &m->value, AJSON_STRING, "a string");
    if (rc)
        return rc;
    if (!hash_key_ok(m->key, m->key_len))
        return fail(c, path, "hash-key", NULL,
                    "is not a hash name of 3-250 characters a-z, A-Z, 0-9, '-', '_'");
    for (size_t i = 0; i < sizeof hash_algos / sizeof hash_algos[0]; i++) {
        if (strcmp(m->key, hash_algos[i].name) != 0)
            continue;
        if (m->value.len != hash_algos[i].hex_len || !hex_ok(m->value.u.str, m->value.len))
            return fail(c, path, "hash-format", &m->value, "is not a %s digest (%zu hex digits)",
                        hash_algos[i].name, hash_algos[i].hex_len);
    }
    return 0;
}

static int k_hashes(vctx *c, const char *path, const ajson_value *v, const prop *p)
{
    char sub[PATH_LEN];
    int rc = k_dict(c, path, v, p);
    for (size_t i = 0; i < v->len && rc == 0; i++) {
        path_key(sub, path, v->u.members[i].key);
        rc = check_hash(c, sub, &v->u.members[i]);
    }
    return rc;
}

static int k_bin(vctx *c, const char *path, const ajson_value *v, const prop *p)
{
    int rc = k_str(c, path, v, p);
    if (rc == 0 && !base64_ok(v->u.str, v->len))
        rc = fail(c, path, "value-format", v, "is not base64");
    return rc;
}

static int k_hex(vctx *c, const char *path, const ajson_value *v, const prop *p)
{
    int rc = k_str(c, path, v, p);
    if (rc == 0 && !hex_ok(v->u.str, v->len))
        rc = fail(c, path, "value-format", v, "is not an even number of hex digits");
    return rc;
}

static int k_sub(vctx *c, const char *path, const ajson_value *v, const prop *p)
{
    int rc = want(c, path, v, AJSON_OBJECT, "an object");
    if (rc == 0 && p->sub)
        rc = check_object(c, path, v, NULL, p->sub);
    return rc;
}

static int k_subs(vctx *c, const char *path, const ajson_value *v, const prop *p)
{
    return check_list(c, path, v, p, K_SUB);
}

static int k_exts(vctx *c, const char *path, const ajson_value *v, const prop *p);
static int k_objmap(vctx *c, const char *path, const ajson_value *v, const prop *p);

/* The table of property kinds: kind -> the function that checks a value of that kind. */
static const kind_fn kinds[K_NKINDS] = {
    [K_ANY] = k_any,   [K_STR] = k_str,       [K_INT] = k_int,   [K_NUM] = k_num,
    [K_BOOL] = k_bool, [K_TS] = k_ts,         [K_TSMS] = k_tsms, [K_REF] = k_ref,
    [K_REFS] = k_refs, [K_STRS] = k_strs,     [K_ENUM] = k_enum, [K_ENUMS] = k_enums,
    [K_DICT] = k_dict, [K_HASHES] = k_hashes, [K_BIN] = k_bin,   [K_HEX] = k_hex,
    [K_SUB] = k_sub,   [K_SUBS] = k_subs,     [K_EXTS] = k_exts, [K_OBJMAP] = k_objmap,
};

static int check_value(vctx *c, const char *path, const ajson_value *v, const prop *p)
{
    return kinds[p->kind](c, path, v, p);
}

/* ------------------------------------------------------------------------------------------ */
/* Objects: members against tables, custom properties, required properties                    */

/* Linear, but the first byte decides most comparisons without a call. */
static const prop *prop_find(const prop *t, const char *key)
{
    for (; t && t->name; t++)
        if (t->name[0] == key[0] && strcmp(t->name, key) == 0)
            return t;
    return NULL;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

/*
 * A custom property: only its name is checked.  Custom *_ref and *_refs properties are not held
 * to the identifier format: the specification constrains the references it defines, and public
 * content (ATT&CK's x_mitre_data_source_ref "", Attack Flow's tactic_ref "T1136.002") uses the
 * suffix for other values.
 */
static int check_custom(vctx *c, const char *path, const ajson_member *m)
{
    if (prop_name_ok(m->key, c->v20))
        return 0;
    return fail(c, path, "custom-property-name", NULL,
                c->v20 ? "is not a property name of 3-250 characters a-z, 0-9, '_'"
                       : "is not a property name of 3-250 characters a-z, A-Z, 0-9, '_' "
                         "starting with a letter");
}

static int check_required(vctx *c, const char *base, const ajson_value *o, const prop *t)
{
    char path[PATH_LEN];
    for (; t && t->name; t++) {
        int req = (t->flags & F_REQ) || ((t->flags & F_REQ21) && !c->v20);
        if (!req || ajson_get(o, t->name))
            continue;
        path_key(path, base, t->name);
        return fail(c, path, "required-property", NULL, "is missing");
    }
    return 0;
}

/*
 * Checks object o (at path base): each member against table t1 (common properties, may be NULL)
 * or t2's properties, else as a custom property; then the required properties; then t2's rule.
 */
static int check_object(vctx *c, const char *base, const ajson_value *o, const prop *t1,
                        const ptable *t2)
{
    char path[PATH_LEN];
    int rc = 0;
    for (size_t i = 0; i < o->len && rc == 0; i++) {
        const ajson_member *m = &o->u.members[i];
        const prop *p = prop_find(t1, m->key);
        if (!p)
            p = prop_find(t2->props, m->key);
        path_key(path, base, m->key);
        rc = p ? check_value(c, path, &m->value, p) : check_custom(c, path, m);
    }
    if (rc == 0)
        rc = check_required(c, base, o, t1);
    if (rc == 0)
        rc = check_required(c, base, o, t2->props);
    if (rc == 0 && t2->rule)
        rc = t2->rule(c, base, o);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Extensions                                                                                 */

static const char EXTDEF_PREFIX[] = "extension-definition--";

/* The "new-*" extension_type an extension-definition extension of o declares, or NULL. */
static const char *new_object_ext(const ajson_value *o)
{
    const ajson_value *exts = ajson_get(o, "extensions");
    for (size_t i = 0; exts && exts->type == AJSON_OBJECT && i < exts->len; i++) {
        const char *et = ajson_str(ajson_get(&exts->u.members[i].value, "extension_type"));
        if (et && strncmp(et, "new-", 4) == 0)
            return et;
    }
    return NULL;
}

static int check_extdef_ext(vctx *c, const char *path, const ajson_member *m)
{
    static const prop et_prop = PA("extension_type", K_ENUM, 0, EXTENSION_TYPES);
    char sub[PATH_LEN];
    const ajson_value *et;
    int rc;

    if (id_type_len(m->key) != strlen("extension-definition"))
        return fail(c, path, "extension-key", NULL, "is not an extension-definition identifier");
    rc = want(c, path, &m->value, AJSON_OBJECT, "an object");
    if (rc)
        return rc;
    et = ajson_get(&m->value, "extension_type");
    path_key(sub, path, "extension_type");
    if (!et)
        return c->v20 ? 0 : fail(c, sub, "required-property", NULL, "is missing");
    rc = check_value(c, sub, et, &et_prop);
    if (rc == 0 && strncmp(et->u.str, "new-", 4) == 0 &&
        stix_type_kind(c->type) != STIX_KIND_CUSTOM)
        return fail(c, sub, "extension-type", et,
                    "may not redefine the specification's type \"%.60s\"", c->type);
    for (size_t i = 0; i < m->value.len && rc == 0; i++) {
        const ajson_member *pm = &m->value.u.members[i];
        path_key(sub, path, pm->key);
        if (strcmp(pm->key, "extension_type") != 0)
            rc = check_custom(c, sub, pm);
    }
    return rc;
}

static int check_predefined_ext(vctx *c, const char *path, const ajson_member *m)
{
    for (size_t i = 0; i < sizeof predefined_exts / sizeof predefined_exts[0]; i++) {
        const ext_def *e = &predefined_exts[i];
        ptable t = {e->props, NULL};
        int rc;
        if (strcmp(e->name, m->key) != 0)
            continue;
        if (strcmp(e->owner, c->type) != 0)
            return fail(c, path, "extension-key", NULL, "is an extension of %s, not of %.60s",
                        e->owner, c->type);
        rc = want(c, path, &m->value, AJSON_OBJECT, "an object");
        return rc ? rc : check_object(c, path, &m->value, NULL, &t);
    }
    /* STIX 2.0 let producers name their own observable extensions. */
    if (c->v20 && type_name_ok(m->key, m->key_len) && ends_with(m->key, "-ext"))
        return want(c, path, &m->value, AJSON_OBJECT, "an object");
    return fail(c, path, "extension-key", NULL,
                "is neither an extension-definition id nor a predefined extension");
}

static int k_exts(vctx *c, const char *path, const ajson_value *v, const prop *p)
{
    char sub[PATH_LEN];
    int rc = k_dict(c, path, v, p);
    for (size_t i = 0; i < v->len && rc == 0; i++) {
        const ajson_member *m = &v->u.members[i];
        path_key(sub, path, m->key);
        if (strncmp(m->key, EXTDEF_PREFIX, sizeof EXTDEF_PREFIX - 1) == 0)
            rc = check_extdef_ext(c, sub, m);
        else
            rc = check_predefined_ext(c, sub, m);
    }
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* observed-data "objects": embedded observables whose references are keys of the dictionary  */

static int check_embedded(vctx *c, const char *path, const ajson_value *o)
{
    char sub[PATH_LEN];
    const ajson_value *tv = ajson_get(o, "type");
    const type_def *td;
    int rc = want(c, path, o, AJSON_OBJECT, "an object");

    path_key(sub, path, "type");
    if (rc == 0 && !tv)
        rc = fail(c, sub, "required-property", NULL, "is missing");
    if (rc == 0)
        rc = want(c, sub, tv, AJSON_STRING, "a string");
    if (rc == 0 && !type_name_ok(tv->u.str, tv->len))
        rc = fail(c, sub, "type-name", tv, "is not a valid type name");
    if (rc)
        return rc;
    td = type_find(tv->u.str);
    if (td && td->kind != STIX_KIND_SCO)
        return fail(c, sub, "type-name", tv, "is not a cyber-observable type");
    c->type = tv->u.str;
    return check_object(c, path, o, sco_common, td ? &td->t : &custom_table);
}

static int k_objmap(vctx *c, const char *path, const ajson_value *v, const prop *p)
{
    char sub[PATH_LEN];
    const char *type = c->type;
    int rc = k_dict(c, path, v, p);
    c->locals = v;
    for (size_t i = 0; i < v->len && rc == 0; i++) {
        path_key(sub, path, v->u.members[i].key);
        rc = check_embedded(c, sub, &v->u.members[i].value);
    }
    c->locals = NULL;
    c->type = type;
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Rules relating several properties                                                          */

/*
 * Fails with `rule` unless property `late` is after (strict) or not before property `early`.
 * Both have passed their timestamp checks already; absent ones are not compared.
 */
static int check_order(vctx *c, const char *base, const ajson_value *o, const char *early,
                       const char *late, int strict, const char *rule)
{
    const ajson_value *a = ajson_get(o, early), *b = ajson_get(o, late);
    ts_value ta, tb;
    char path[PATH_LEN], other[96];
    sbuf ob;
    if (!ajson_str(a) || !ajson_str(b) || ts_parse(a->u.str, &ta) || ts_parse(b->u.str, &tb))
        return 0;
    int cmp = ts_cmp(&tb, &ta);
    if (cmp > 0 || (cmp == 0 && !strict))
        return 0;
    path_key(path, base, late);
    sb_init(&ob, other, sizeof other);
    sb_value(&ob, a);
    return fail(c, path, rule, b, "is %s %s %s", strict && cmp == 0 ? "not after" : "before", early,
                other);
}

/* Fails with rule "at-least-one" unless o has one of the space-separated properties. */
static int need_one_of(vctx *c, const char *base, const ajson_value *o, const char *names)
{
    for (size_t i = 0; i < o->len; i++)
        if (word_in(names, o->u.members[i].key, o->u.members[i].key_len))
            return 0;
    return fail(c, base, "at-least-one", NULL, "needs at least one of: %s", names);
}

/* Fails with rule "mutually-exclusive" when o has both properties. */
static int not_both(vctx *c, const char *base, const ajson_value *o, const char *a, const char *b)
{
    char path[PATH_LEN];
    if (!ajson_get(o, a) || !ajson_get(o, b))
        return 0;
    path_key(path, base, b);
    return fail(c, path, "mutually-exclusive", NULL, "may not be present together with %s", a);
}

/* Fails with rule "co-required" when o has property `a` but not `b`. */
static int needs(vctx *c, const char *base, const ajson_value *o, const char *a, const char *b,
                 const char *why)
{
    char path[PATH_LEN];
    if (!ajson_get(o, a) || ajson_get(o, b))
        return 0;
    path_key(path, base, b);
    return fail(c, path, "co-required", NULL, "is missing (required when %s)", why);
}

static int is_true(const ajson_value *v)
{
    return v && v->type == AJSON_TRUE;
}

/*
 * Selectors (spec 7.2.3.1): components separated by '.', each a property name or a list index
 * "[n]"; the path is walked from the root of the object and must end on existing content.
 */
static int selector_ok(const ajson_value *root, const char *sel)
{
    const ajson_value *cur = root;
    for (const char *p = sel;; p++) {
        size_t n = strcspn(p, "."), idx = 0;
        const ajson_value *next = NULL;
        if (n == 0)
            return 0;
        if (p[0] == '[') {
            if (n < 3 || p[n - 1] != ']' || cur->type != AJSON_ARRAY)
                return 0;
            for (size_t i = 1; i + 1 < n; i++) {
                if (!is_digit((unsigned char)p[i]) || idx > cur->len)
                    return 0;
                idx = idx * 10 + (size_t)(p[i] - '0');
            }
            next = idx < cur->len ? &cur->u.items[idx] : NULL;
        } else if (cur->type == AJSON_OBJECT) {
            for (size_t i = 0; i < cur->len && !next; i++)
                if (cur->u.members[i].key_len == n && memcmp(cur->u.members[i].key, p, n) == 0)
                    next = &cur->u.members[i].value;
        }
        if (!next)
            return 0;
        cur = next;
        p += n;
        if (*p == '\0')
            return 1;
    }
}

/* A granular marking: exactly one of marking_ref and lang (2.0: marking_ref), live selectors. */
static int gm_rule(vctx *c, const char *path, const ajson_value *o)
{
    const ajson_value *sel = ajson_get(o, "selectors");
    char sub[PATH_LEN];
    int rc;
    if (c->v20)
        rc = check_required(c, path, o, (const prop[]){P("marking_ref", K_REF, F_REQ), PEND});
    else if (!ajson_get(o, "marking_ref") && !ajson_get(o, "lang"))
        rc = fail(c, path, "at-least-one", NULL, "needs one of: marking_ref lang");
    else
        rc = not_both(c, path, o, "marking_ref", "lang");
    for (size_t i = 0; sel && i < sel->len && rc == 0; i++) {
        const ajson_value *s = &sel->u.items[i];
        char base[PATH_LEN];
        path_key(base, path, "selectors");
        path_index(sub, base, i);
        if (!selector_ok(c->root, s->u.str))
            rc = fail(c, sub, "selector-unresolved", s, "selects nothing in this object");
    }
    return rc;
}

/* "CVE-" 4 digits "-" then 4 digits (no leading zero past 4), or "CAPEC-" digits. */
static int cve_id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 13 || strncmp(s, "CVE-", 4) != 0 || s[8] != '-' || (n > 13 && s[9] == '0'))
        return 0;
    for (size_t i = 4; i < n; i++)
        if (i != 8 && !is_digit((unsigned char)s[i]))
            return 0;
    return 1;
}

static int capec_id_ok(const char *s)
{
    if (strncmp(s, "CAPEC-", 6) != 0 || s[6] == '\0')
        return 0;
    for (s += 6; *s; s++)
        if (!is_digit((unsigned char)*s))
            return 0;
    return 1;
}

/* An external reference: source_name and one of description/url/external_id; CVE/CAPEC ids. */
static int extref_rule(vctx *c, const char *path, const ajson_value *o)
{
    const char *src = ajson_str(ajson_get(o, "source_name"));
    const ajson_value *xv = ajson_get(o, "external_id");
    int cve = strcmp(src, "cve") == 0, capec = strcmp(src, "capec") == 0;
    char sub[PATH_LEN];
    int rc = need_one_of(c, path, o, "description url external_id");
    path_key(sub, path, "external_id");
    if (rc == 0 && (cve || capec) && !xv)
        rc = fail(c, sub, "required-property", NULL, "is missing (required for source %s)", src);
    if (rc == 0 && cve && !cve_id_ok(xv->u.str))
        rc = fail(c, sub, "external-id-format", xv, "is not a CVE id CVE-YYYY-NNNN");
    if (rc == 0 && capec && !capec_id_ok(xv->u.str))
        rc = fail(c, sub, "external-id-format", xv, "is not a CAPEC id CAPEC-N");
    return rc;
}

/* campaign, infrastructure, intrusion-set, threat-actor: last_seen >= first_seen. */
static int seen_rule(vctx *c, const char *path, const ajson_value *o)
{
    if (c->v20)
        return 0;
    return check_order(c, path, o, "first_seen", "last_seen", 0, "time-order");
}

/* A STIX pattern (pattern_type "stix", or none) must parse by its version's grammar. */
static int pattern_rule(vctx *c, const char *path, const ajson_value *o)
{
    const ajson_value *pat = ajson_get(o, "pattern");
    const char *pt = ajson_str(ajson_get(o, "pattern_type"));
    accord_error err = {0};
    char ppath[PATH_LEN];
    if (!ajson_str(pat) || (pt && strcmp(pt, "stix") != 0))
        return 0;
    if (accord_pattern_check(pat->u.str, pat->len, c->v20 ? ACCORD_PATTERN_STIX20 : 0, &err) == 0)
        return 0;
    path_key(ppath, path, "pattern");
    return fail(c, ppath, "pattern-syntax", NULL, "is not a valid STIX pattern: %s", err.msg);
}

static int indicator_rule(vctx *c, const char *path, const ajson_value *o)
{
    int rc = pattern_rule(c, path, o);
    if (rc || c->v20)
        return rc;
    return check_order(c, path, o, "valid_from", "valid_until", 1, "time-order");
}

static int malware_rule(vctx *c, const char *path, const ajson_value *o)
{
    int rc = 0;
    if (c->v20)
        return 0;
    if (is_true(ajson_get(o, "is_family")))
        rc = needs(c, path, o, "is_family", "name", "is_family is true");
    return rc ? rc : seen_rule(c, path, o);
}

static int analysis_rule(vctx *c, const char *path, const ajson_value *o)
{
    return c->v20 ? 0 : need_one_of(c, path, o, "result analysis_sco_refs");
}

static int location_rule(vctx *c, const char *path, const ajson_value *o)
{
    int rc;
    if (c->v20)
        return 0;
    rc = needs(c, path, o, "latitude", "longitude", "latitude is present");
    if (rc == 0)
        rc = needs(c, path, o, "longitude", "latitude", "longitude is present");
    if (rc == 0)
        rc = needs(c, path, o, "precision", "latitude", "precision is present");
    if (rc == 0)
        rc = need_one_of(c, path, o, "region country latitude");
    return rc;
}

static int observed_rule(vctx *c, const char *path, const ajson_value *o)
{
    int rc = not_both(c, path, o, "objects", "object_refs");
    if (rc == 0 && c->v20)
        rc = check_required(c, path, o, (const prop[]){P("objects", K_OBJMAP, F_REQ), PEND});
    else if (rc == 0)
        rc = need_one_of(c, path, o, "objects object_refs");
    if (rc == 0 && !c->v20)
        rc = check_order(c, path, o, "first_observed", "last_observed", 0, "time-order");
    return rc;
}

static int relationship_rule(vctx *c, const char *path, const ajson_value *o)
{
    const ajson_value *rt = ajson_get(o, "relationship_type");
    char sub[PATH_LEN];
    if (c->v20 || !ajson_str(rt))
        return 0;
    path_key(sub, path, "relationship_type");
    for (size_t i = 0; i < rt->len; i++) {
        int ch = (unsigned char)rt->u.str[i];
        if (!is_lower(ch) && !is_digit(ch) && ch != '-')
            return fail(c, sub, "value-format", rt, "is not made of a-z, 0-9 and '-'");
    }
    return check_order(c, path, o, "start_time", "stop_time", 1, "time-order");
}

static int sighting_rule(vctx *c, const char *path, const ajson_value *o)
{
    return c->v20 ? 0 : check_order(c, path, o, "first_seen", "last_seen", 0, "time-order");
}

static int artifact_rule(vctx *c, const char *path, const ajson_value *o)
{
    int rc;
    if (c->v20)
        return 0;
    rc = not_both(c, path, o, "payload_bin", "url");
    if (rc == 0)
        rc = need_one_of(c, path, o, "payload_bin url");
    if (rc == 0)
        rc = needs(c, path, o, "url", "hashes", "url is present");
    if (rc == 0)
        rc = needs(c, path, o, "decryption_key", "encryption_algorithm",
                   "decryption_key is present");
    return rc;
}

static int file_rule(vctx *c, const char *path, const ajson_value *o)
{
    return c->v20 ? 0 : need_one_of(c, path, o, "hashes name");
}

static int email_rule(vctx *c, const char *path, const ajson_value *o)
{
    int multi = is_true(ajson_get(o, "is_multipart"));
    const char *wrong = multi ? "body" : "body_multipart";
    char sub[PATH_LEN];
    if (c->v20 || !ajson_get(o, wrong))
        return 0;
    path_key(sub, path, wrong);
    return fail(c, sub, "mutually-exclusive", NULL, "may not be present when is_multipart is %s",
                multi ? "true" : "false");
}

static int traffic_rule(vctx *c, const char *path, const ajson_value *o)
{
    int rc;
    if (c->v20)
        return 0;
    rc = need_one_of(c, path, o, "src_ref dst_ref");
    if (rc == 0 && is_true(ajson_get(o, "is_active")))
        rc = not_both(c, path, o, "is_active", "end");
    if (rc == 0)
        rc = check_order(c, path, o, "start", "end", 0, "time-order");
    return rc;
}

static int ip_rule(vctx *c, const char *path, const ajson_value *o)
{
    const ajson_value *v = ajson_get(o, "value");
    int v4 = strcmp(c->type, "ipv4-addr") == 0;
    char sub[PATH_LEN];
    if (!ajson_str(v) || (v4 ? ipv4_ok(v->u.str) : ipv6_ok(v->u.str)))
        return 0;
    path_key(sub, path, "value");
    return fail(c, sub, "value-format", v, "is not an %s address or CIDR block",
                v4 ? "IPv4" : "IPv6");
}

static int mac_rule(vctx *c, const char *path, const ajson_value *o)
{
    const ajson_value *v = ajson_get(o, "value");
    char sub[PATH_LEN];
    if (!ajson_str(v) || mac_ok(v->u.str))
        return 0;
    path_key(sub, path, "value");
    return fail(c, sub, "value-format", v, "is not a lower-case MAC-48 address aa:bb:cc:dd:ee:ff");
}

/* process, user-account, windows-registry-key, x509-certificate: all optional, one required. */
static int some_prop_rule(vctx *c, const char *path, const ajson_value *o)
{
    if (c->v20)
        return 0;
    for (size_t i = 0; i < o->len; i++)
        if (!prop_find(sco_common, o->u.members[i].key) ||
            strcmp(o->u.members[i].key, "extensions") == 0)
            return 0;
    return fail(c, path, "at-least-one", NULL, "needs at least one property of its type");
}

/* language-content: contents maps language tags to dictionaries of translated properties. */
static int langcontent_rule(vctx *c, const char *path, const ajson_value *o)
{
    const ajson_value *ct = ajson_get(o, "contents");
    char base[PATH_LEN], sub[PATH_LEN];
    static const prop dict = P("", K_DICT, 0);
    int rc = 0;
    path_key(base, path, "contents");
    for (size_t i = 0; ct && ct->type == AJSON_OBJECT && i < ct->len && rc == 0; i++) {
        path_key(sub, base, ct->u.members[i].key);
        rc = check_value(c, sub, &ct->u.members[i].value, &dict);
    }
    return rc;
}

static int extdef_rule(vctx *c, const char *path, const ajson_value *o)
{
    const ajson_value *ets = ajson_get(o, "extension_types");
    char sub[PATH_LEN];
    int rc = check_required(c, path, o,
                            (const prop[]){PA("created_by_ref", K_REF, F_REQ21, "identity"), PEND});
    if (rc || !ajson_get(o, "extension_properties"))
        return rc;
    for (size_t i = 0; ets && ets->type == AJSON_ARRAY && i < ets->len; i++)
        if (ajson_str(&ets->u.items[i]) &&
            strcmp(ets->u.items[i].u.str, "toplevel-property-extension") == 0)
            return 0;
    path_key(sub, path, "extension_properties");
    return fail(c, sub, "extension-properties", NULL,
                "may only be used when extension_types has toplevel-property-extension");
}

/* ------------------------------------------------------------------------------------------ */
/* Marking definitions: statements and the fixed TLP markings                                  */

typedef struct tlp_def {
    const char *color, *name, *id;
} tlp_def;

/* TLP 1.0 (spec 7.2.1.4): four fixed objects, created 2017-01-20T00:00:00.000Z. */
static const tlp_def tlp1[] = {
    {"white", "TLP:WHITE", "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"},
    {"green", "TLP:GREEN", "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"},
    {"amber", "TLP:AMBER", "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"},
    {"red", "TLP:RED", "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"},
};

/* TLP 2.0: the objects of the OASIS extension-definition below (stix-common-objects). */
static const char TLP2_EXT[] = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";
static const tlp_def tlp2[] = {
    {"clear", "TLP:CLEAR", "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"},
    {"green", "TLP:GREEN", "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"},
    {"amber", "TLP:AMBER", "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"},
    {"amber+strict", "TLP:AMBER+STRICT",
     "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"},
    {"red", "TLP:RED", "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"},
};

static const tlp_def *tlp_by_color(const tlp_def *t, size_t n, const char *color)
{
    for (size_t i = 0; color && i < n; i++)
        if (strcmp(t[i].color, color) == 0)
            return &t[i];
    return NULL;
}

static const tlp_def *tlp_by_id(const tlp_def *t, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(t[i].id, id) == 0)
            return &t[i];
    return NULL;
}

/*
 * A marking claiming TLP colour `color` (held by value cv at path cpath) must be the fixed
 * object: its id, and its name when present.
 */
static int check_tlp(vctx *c, const ajson_value *o, const tlp_def *t, size_t n, const char *cpath,
                     const ajson_value *cv, const char *version)
{
    const tlp_def *d = tlp_by_color(t, n, ajson_str(cv));
    const ajson_value *id = ajson_get(o, "id"), *name = ajson_get(o, "name");
    if (!d)
        return fail(c, cpath, "enum-value", cv, "is not a TLP %s colour", version);
    if (strcasecmp(id->u.str, d->id) != 0)
        return fail(c, "id", "tlp-id", NULL, "is not the id of %s (TLP %s): %s", d->name, version,
                    d->id);
    if (ajson_str(name) && strcmp(name->u.str, d->name) != 0)
        return fail(c, "name", "tlp-id", name, "is not the name of %s", d->name);
    return 0;
}

/* TLP 1.0 definitions also carry the fixed creation time. */
static int check_tlp1_created(vctx *c, const ajson_value *o)
{
    const ajson_value *cr = ajson_get(o, "created");
    ts_value got, want_ts;
    if (ts_parse(cr->u.str, &got) || ts_parse("2017-01-20T00:00:00.000Z", &want_ts) ||
        ts_cmp(&got, &want_ts) == 0)
        return 0;
    return fail(c, "created", "tlp-id", cr,
                "is not the TLP 1.0 creation time "
                "2017-01-20T00:00:00.000Z");
}

static int marking_tlp_rule(vctx *c, const ajson_value *o, const char *dt)
{
    const ajson_value *id = ajson_get(o, "id");
    const ajson_value *ext = ajson_get(ajson_get(o, "extensions"), TLP2_EXT);
    const tlp_def *d;
    char path[PATH_LEN];
    int rc = 0;
    if (dt && strcmp(dt, "tlp") == 0) {
        rc = check_tlp(c, o, tlp1, 4, "definition.tlp", ajson_get(ajson_get(o, "definition"), "tlp"),
                       "1.0");
        return rc ? rc : check_tlp1_created(c, o);
    }
    if (ext) {
        path_key(path, "extensions", TLP2_EXT);
        path_key(path, path, "tlp_2_0");
        return check_tlp(c, o, tlp2, 5, path, ajson_get(ext, "tlp_2_0"), "2.0");
    }
    /* The reverse: an object bearing a fixed TLP id must be that marking. */
    d = tlp_by_id(tlp1, 4, id->u.str);
    if (!d)
        d = tlp_by_id(tlp2, 5, id->u.str);
    if (d)
        rc = fail(c, "id", "tlp-id", NULL, "is the id of %s but the object is not that marking",
                  d->name);
    return rc;
}

static int marking_rule(vctx *c, const char *path, const ajson_value *o)
{
    const char *dt = ajson_str(ajson_get(o, "definition_type"));
    int rc = needs(c, path, o, "definition_type", "definition", "definition_type is present");
    if (rc == 0)
        rc = needs(c, path, o, "definition", "definition_type", "definition is present");
    if (rc == 0 && !dt && (c->v20 || !ajson_get(o, "extensions")))
        rc = fail(c, "definition_type", "required-property", NULL,
                  "is missing (required when the marking has no extensions)");
    if (rc == 0 && dt && strcmp(dt, "statement") == 0) {
        const ajson_value *st = ajson_get(ajson_get(o, "definition"), "statement");
        rc = st ? want(c, "definition.statement", st, AJSON_STRING, "a string")
                : fail(c, "definition.statement", "required-property", NULL, "is missing");
    }
    return rc ? rc : marking_tlp_rule(c, o, dt);
}

/* ------------------------------------------------------------------------------------------ */
/* The object                                                                                 */

static int check_type(vctx *c, const ajson_value *obj, stix_info *info)
{
    const ajson_value *tv = ajson_get(obj, "type");
    int rc;
    if (!tv)
        return fail(c, "type", "required-property", NULL, "is missing");
    rc = want(c, "type", tv, AJSON_STRING, "a string");
    if (rc)
        return rc;
    if (!type_name_ok(tv->u.str, tv->len) || strcmp(tv->u.str, "bundle") == 0)
        return fail(c, "type", "type-name", tv,
                    "is not an object type name (3-250 characters a-z, 0-9, '-', starting with "
                    "a letter, no \"--\", no trailing '-')");
    info->type = c->type = tv->u.str;
    return 0;
}

static int check_id(vctx *c, const ajson_value *obj, stix_info *info)
{
    const ajson_value *iv = ajson_get(obj, "id");
    size_t tl;
    int rc;
    if (!iv)
        return fail(c, "id", "required-property", NULL, "is missing");
    rc = want(c, "id", iv, AJSON_STRING, "a string");
    if (rc)
        return rc;
    tl = id_type_len(iv->u.str);
    if (tl == 0)
        return fail(c, "id", "id-format", iv, "is not an identifier type--UUID (RFC 4122)");
    if (tl != strlen(c->type) || memcmp(iv->u.str, c->type, tl) != 0)
        return fail(c, "id", "id-type", iv, "does not start with the object's type \"%.60s--\"",
                    c->type);
    info->id = iv->u.str;
    return 0;
}

/*
 * Decides the rules: 2.1 when spec_version says so or for observables (their spec_version is
 * optional and defaults to 2.1); 2.0 for other objects without it.  A type new in 2.1 without
 * spec_version is an error, except inside a STIX 2.0 bundle, where it can only be a custom object
 * of that name (then *td becomes NULL).
 */
static int check_spec(vctx *c, const ajson_value *obj, const char *bundle_spec, int sco_like,
                      const type_def **td, stix_info *info)
{
    const ajson_value *sv = ajson_get(obj, "spec_version");
    int rc;
    if (sv) {
        rc = want(c, "spec_version", sv, AJSON_STRING, "a string");
        if (rc)
            return rc;
        if (strcmp(sv->u.str, "2.1") != 0 && strcmp(sv->u.str, "2.0") != 0)
            return fail(c, "spec_version", "spec-version", sv, "is not \"2.1\"");
        c->v20 = sv->u.str[2] == '0';
        info->spec_version = sv->u.str;
        return 0;
    }
    if (sco_like) {
        info->spec_version = "2.1";
        return 0;
    }
    if (*td && !(*td)->in20) {
        if (!bundle_spec || strcmp(bundle_spec, "2.0") != 0)
            return fail(c, "spec_version", "required-property", NULL,
                        "is missing (%s is new in STIX 2.1)", (*td)->type);
        *td = NULL;
    }
    c->v20 = 1;
    info->spec_version = "2.0";
    return 0;
}

static const prop *common_props(const type_def *td, int sco_like)
{
    if (sco_like)
        return sco_common;
    if (td && strcmp(td->type, "marking-definition") == 0)
        return md_common;
    return sdo_common;
}

int stix_validate(const ajson_value *obj, const char *bundle_spec, stix_info *info,
                  stix_problem *prob)
{
    vctx c = {.root = obj, .prob = prob};
    const type_def *td;
    const char *et;
    int sco_like, rc;

    memset(info, 0, sizeof *info);
    memset(prob, 0, sizeof *prob);
    if (!obj || obj->type != AJSON_OBJECT)
        return fail(&c, "", "property-type", obj, "is not a JSON object");
    rc = check_type(&c, obj, info);
    if (rc == 0)
        rc = check_id(&c, obj, info);
    if (rc)
        goto out;
    td = type_find(c.type);
    et = td ? NULL : new_object_ext(obj);
    sco_like = td ? td->kind == STIX_KIND_SCO : et && strcmp(et, "new-sco") == 0;
    rc = check_spec(&c, obj, bundle_spec, sco_like, &td, info);
    if (rc == 0)
        rc = check_object(&c, "", obj, common_props(td, sco_like), td ? &td->t : &custom_table);
    if (rc == 0)
        rc = check_order(&c, "", obj, "created", "modified", 0, "modified-before-created");
    if (rc)
        goto out;
    info->kind = td ? td->kind : STIX_KIND_CUSTOM;
    info->revoked = is_true(ajson_get(obj, "revoked"));
    if (!sco_like)
        info->created = ajson_str(ajson_get(obj, "created"));
    if (!sco_like && !(td && strcmp(td->type, "marking-definition") == 0))
        info->modified = ajson_str(ajson_get(obj, "modified"));
    tlp_label_json(obj, &info->label);
    info->obj = obj;
out:
    return rc;
}
