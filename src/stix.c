/*
 * stix.c - validation of one STIX 2.x object by the MUST rules of STIX 2.1 (OASIS Standard,
 * 10 June 2021), and by the looser STIX 2.0 rules for objects that carry no spec_version.
 *
 * Every ingest path (import, TAXII, federation) hands each parsed object to stix_validate and
 * stores it only when it returns 0.  The answer is the first broken rule: a JSON path to the
 * property at fault, a stable kebab-case rule name, and a one-line message that quotes the
 * offending value (escaped and truncated, so any input is safe to print).
 *
 * The specification is written down as data, not as code (the tables and the per-type rules are
 * in stix_types.c; this file is the machinery that applies them, and stix_int.h is what the two
 * share):
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
#include "stix_int.h"

#include "accord.h"
#include "util/timestamp.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

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
void stix_path_key(char *out, const char *base, const char *key)
{
    sbuf b;
    sb_init(&b, out, PATH_LEN);
    sb_puts(&b, base);
    if (*base)
        sb_putn(&b, ".", 1);
    sb_esc(&b, key, strlen(key), 72);
}

void stix_path_index(char *out, const char *base, size_t i)
{
    sbuf b;
    sb_init(&b, out, PATH_LEN);
    sb_puts(&b, base);
    sb_printf(&b, "[%zu]", i);
}

/* ------------------------------------------------------------------------------------------ */
/* Failure reports                                                                           */

/* Records the problem (stix_int.h). */
int stix_fail(vctx *c, const char *path, const char *rule, const ajson_value *v, const char *fmt,
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

/* ------------------------------------------------------------------------------------------ */
/* Property kinds                                                                             */

typedef int (*kind_fn)(vctx *c, const char *path, const ajson_value *v, const prop *p);

static int check_object(vctx *c, const char *path, const ajson_value *o, const prop *t1,
                        const ptable *t2);

int stix_want(vctx *c, const char *path, const ajson_value *v, ajson_type t, const char *what)
{
    if (v->type == t)
        return 0;
    return stix_fail(c, path, "property-type", v, "is not %s", what);
}

static int k_any(vctx *c, const char *path, const ajson_value *v, const prop *p)
{
    (void)c, (void)path, (void)v, (void)p;
    return 0;
}

static int k_str(vctx *c, const char *path, const ajson_value *v, const prop *p)
{
    (void)p;
    return stix_want(c, path, v, AJSON_STRING, "a string");
}

static int k_int(vctx *c, const char *path, const ajson_value *v, const prop *p)
{
    int64_t n;
    if (!ajson_int(v, &n))
        return stix_fail(c, path, "property-type", v, "is not an integer");
    if ((p->flags & F_RANGE) && (n < p->min || n > p->max))
        return stix_fail(c, path, "value-range", v, "is outside %" PRId64 "..%" PRId64, p->min,
                         p->max);
    return 0;
}

static int k_num(vctx *c, const char *path, const ajson_value *v, const prop *p)
{
    double d;
    if (!ajson_double(v, &d))
        return stix_fail(c, path, "property-type", v, "is not a number");
    if ((p->flags & F_RANGE) && (d < (double)p->min || d > (double)p->max))
        return stix_fail(c, path, "value-range", v, "is outside %" PRId64 "..%" PRId64, p->min,
                         p->max);
    return 0;
}

static int k_bool(vctx *c, const char *path, const ajson_value *v, const prop *p)
{
    (void)p;
    if (v->type == AJSON_TRUE || v->type == AJSON_FALSE)
        return 0;
    return stix_fail(c, path, "property-type", v, "is not a boolean");
}

static int k_ts(vctx *c, const char *path, const ajson_value *v, const prop *p)
{
    ts_value t;
    int rc = k_str(c, path, v, p);
    if (rc == 0 && ts_parse(v->u.str, &t) != 0)
        rc = stix_fail(c, path, "timestamp-format", v,
                       "is not an RFC 3339 UTC timestamp YYYY-MM-DDTHH:MM:SS[.s+]Z");
    return rc;
}

/* created and modified: STIX 2.1 requires at least millisecond precision. */
static int k_tsms(vctx *c, const char *path, const ajson_value *v, const prop *p)
{
    ts_value t;
    int rc = k_ts(c, path, v, p);
    if (rc == 0 && !c->v20 && ts_parse(v->u.str, &t) == 0 && t.digits < 3)
        rc = stix_fail(c, path, "timestamp-precision", v, "is not precise to the millisecond");
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
        return stix_fail(c, path, "ref-format", v, "is not a key of the observed-data objects");
    if (type && p->arg && !target_ok(p->arg, type)) {
        char shown[72];
        sbuf b;
        sb_init(&b, shown, sizeof shown);
        sb_esc(&b, type, strlen(type), 60); /* not checked yet: it may hold anything */
        return stix_fail(c, path, "ref-type", v, "refers to a %s; allowed: %s", shown, p->arg);
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
        return stix_fail(c, path, "ref-format", v, "is not an identifier type--UUID");
    memcpy(type, v->u.str, tl);
    type[tl] = '\0';
    if (p->arg && !target_ok(p->arg, type))
        return stix_fail(c, path, "ref-type", v, "may only refer to: %s", p->arg);
    return 0;
}

/* Checks each item of a non-empty list with stix_check_value(item_kind). */
static int check_list(vctx *c, const char *path, const ajson_value *v, const prop *p, int item_kind)
{
    prop item = *p;
    char sub[PATH_LEN];
    int rc = stix_want(c, path, v, AJSON_ARRAY, "a list");
    if (rc)
        return rc;
    if (v->len == 0)
        return stix_fail(c, path, "empty-list", NULL, "is an empty list");
    item.kind = (unsigned char)item_kind;
    for (size_t i = 0; i < v->len && rc == 0; i++) {
        stix_path_index(sub, path, i);
        rc = stix_check_value(c, sub, &v->u.items[i], &item);
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
        rc = strlen(p->arg) < 100 ? stix_fail(c, path, "enum-value", v, "is not one of: %s", p->arg)
                                  : stix_fail(c, path, "enum-value", v, "is not an allowed value");
    return rc;
}

static int k_enums(vctx *c, const char *path, const ajson_value *v, const prop *p)
{
    return check_list(c, path, v, p, K_ENUM);
}

static int k_dict(vctx *c, const char *path, const ajson_value *v, const prop *p)
{
    int rc = stix_want(c, path, v, AJSON_OBJECT, "a dictionary");
    (void)p;
    if (rc == 0 && v->len == 0)
        rc = stix_fail(c, path, "empty-dictionary", NULL, "is an empty dictionary");
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
    int rc = stix_want(c, path, &m->value, AJSON_STRING, "a string");
    if (rc)
        return rc;
    if (!hash_key_ok(m->key, m->key_len))
        return stix_fail(c, path, "hash-key", NULL,
                         "is not a hash name of 3-250 characters a-z, A-Z, 0-9, '-', '_'");
    for (size_t i = 0; i < sizeof hash_algos / sizeof hash_algos[0]; i++) {
        if (strcmp(m->key, hash_algos[i].name) != 0)
            continue;
        if (m->value.len != hash_algos[i].hex_len || !hex_ok(m->value.u.str, m->value.len))
            return stix_fail(c, path, "hash-format", &m->value,
                             "is not a %s digest (%zu hex digits)", hash_algos[i].name,
                             hash_algos[i].hex_len);
    }
    return 0;
}

static int k_hashes(vctx *c, const char *path, const ajson_value *v, const prop *p)
{
    char sub[PATH_LEN];
    int rc = k_dict(c, path, v, p);
    for (size_t i = 0; i < v->len && rc == 0; i++) {
        stix_path_key(sub, path, v->u.members[i].key);
        rc = check_hash(c, sub, &v->u.members[i]);
    }
    return rc;
}

static int k_bin(vctx *c, const char *path, const ajson_value *v, const prop *p)
{
    int rc = k_str(c, path, v, p);
    if (rc == 0 && !base64_ok(v->u.str, v->len))
        rc = stix_fail(c, path, "value-format", v, "is not base64");
    return rc;
}

static int k_hex(vctx *c, const char *path, const ajson_value *v, const prop *p)
{
    int rc = k_str(c, path, v, p);
    if (rc == 0 && !hex_ok(v->u.str, v->len))
        rc = stix_fail(c, path, "value-format", v, "is not an even number of hex digits");
    return rc;
}

static int k_sub(vctx *c, const char *path, const ajson_value *v, const prop *p)
{
    int rc = stix_want(c, path, v, AJSON_OBJECT, "an object");
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

int stix_check_value(vctx *c, const char *path, const ajson_value *v, const prop *p)
{
    return kinds[p->kind](c, path, v, p);
}

/* ------------------------------------------------------------------------------------------ */
/* Objects: members against tables, custom properties, required properties                    */

/* Linear, but the first byte decides most comparisons without a call. */
const prop *stix_prop_find(const prop *t, const char *key)
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
    return stix_fail(c, path, "custom-property-name", NULL,
                     c->v20 ? "is not a property name of 3-250 characters a-z, 0-9, '_'"
                            : "is not a property name of 3-250 characters a-z, A-Z, 0-9, '_' "
                              "starting with a letter");
}

int stix_check_required(vctx *c, const char *base, const ajson_value *o, const prop *t)
{
    char path[PATH_LEN];
    for (; t && t->name; t++) {
        int req = (t->flags & F_REQ) || ((t->flags & F_REQ21) && !c->v20);
        if (!req || ajson_get(o, t->name))
            continue;
        stix_path_key(path, base, t->name);
        return stix_fail(c, path, "required-property", NULL, "is missing");
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
        const prop *p = stix_prop_find(t1, m->key);
        if (!p)
            p = stix_prop_find(t2->props, m->key);
        stix_path_key(path, base, m->key);
        rc = p ? stix_check_value(c, path, &m->value, p) : check_custom(c, path, m);
    }
    if (rc == 0)
        rc = stix_check_required(c, base, o, t1);
    if (rc == 0)
        rc = stix_check_required(c, base, o, t2->props);
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

/* sub = path + "." + key, or "" while paths are not built (path NULL: see check_extdef_ext). */
static void lazy_path_key(char *sub, const char *path, const char *key)
{
    if (path)
        stix_path_key(sub, path, key);
    else
        sub[0] = '\0';
}

/* check_extdef_ext's checks; with path NULL, the failures name no property. */
static int extdef_ext(vctx *c, const char *path, const ajson_member *m)
{
    static const prop et_prop = PA("extension_type", K_ENUM, 0, EXTENSION_TYPES);
    char sub[PATH_LEN];
    const char *at = path ? path : "";
    const ajson_value *et;
    int rc;

    if (id_type_len(m->key) != strlen("extension-definition"))
        return stix_fail(c, at, "extension-key", NULL,
                         "is not an extension-definition identifier");
    rc = stix_want(c, at, &m->value, AJSON_OBJECT, "an object");
    if (rc)
        return rc;
    et = ajson_get(&m->value, "extension_type");
    lazy_path_key(sub, path, "extension_type");
    if (!et)
        return c->v20 ? 0 : stix_fail(c, sub, "required-property", NULL, "is missing");
    rc = stix_check_value(c, sub, et, &et_prop);
    if (rc == 0 && strncmp(et->u.str, "new-", 4) == 0 &&
        stix_type_kind(c->type) != STIX_KIND_CUSTOM)
        return stix_fail(c, sub, "extension-type", et,
                         "may not redefine the specification's type \"%.60s\"", c->type);
    for (size_t i = 0; i < m->value.len && rc == 0; i++) {
        const ajson_member *pm = &m->value.u.members[i];
        if (strcmp(pm->key, "extension_type") != 0) {
            lazy_path_key(sub, path, pm->key);
            rc = check_custom(c, sub, pm);
        }
    }
    return rc;
}

/*
 * An extension-definition extension m of the object, at base.extensions.  Every signed object
 * has one (the signature), and its key is a 58-byte identifier, so its paths cost more to build
 * than its checks: they are built for a report only.  The checks run first without paths, and
 * again with them when one fails; stix_fail writes the whole problem, so the report is the one a
 * first run with paths would have written.
 */
static int check_extdef_ext(vctx *c, const char *base, const ajson_member *m)
{
    char path[PATH_LEN];
    int rc = extdef_ext(c, NULL, m);
    if (rc) {
        stix_path_key(path, base, m->key);
        rc = extdef_ext(c, path, m);
    }
    return rc;
}

static int check_predefined_ext(vctx *c, const char *path, const ajson_member *m)
{
    for (size_t i = 0; i < stix_n_predefined_exts; i++) {
        const ext_def *e = &stix_predefined_exts[i];
        ptable t = {e->props, NULL};
        int rc;
        if (strcmp(e->name, m->key) != 0)
            continue;
        if (strcmp(e->owner, c->type) != 0)
            return stix_fail(c, path, "extension-key", NULL, "is an extension of %s, not of %.60s",
                             e->owner, c->type);
        rc = stix_want(c, path, &m->value, AJSON_OBJECT, "an object");
        return rc ? rc : check_object(c, path, &m->value, NULL, &t);
    }
    /* STIX 2.0 let producers name their own observable extensions. */
    if (c->v20 && type_name_ok(m->key, m->key_len) && ends_with(m->key, "-ext"))
        return stix_want(c, path, &m->value, AJSON_OBJECT, "an object");
    return stix_fail(c, path, "extension-key", NULL,
                     "is neither an extension-definition id nor a predefined extension");
}

static int k_exts(vctx *c, const char *path, const ajson_value *v, const prop *p)
{
    char sub[PATH_LEN];
    int rc = k_dict(c, path, v, p);
    for (size_t i = 0; i < v->len && rc == 0; i++) {
        const ajson_member *m = &v->u.members[i];
        if (strncmp(m->key, EXTDEF_PREFIX, sizeof EXTDEF_PREFIX - 1) == 0) {
            rc = check_extdef_ext(c, path, m);
        } else {
            stix_path_key(sub, path, m->key);
            rc = check_predefined_ext(c, sub, m);
        }
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
    int rc = stix_want(c, path, o, AJSON_OBJECT, "an object");

    stix_path_key(sub, path, "type");
    if (rc == 0 && !tv)
        rc = stix_fail(c, sub, "required-property", NULL, "is missing");
    if (rc == 0)
        rc = stix_want(c, sub, tv, AJSON_STRING, "a string");
    if (rc == 0 && !type_name_ok(tv->u.str, tv->len))
        rc = stix_fail(c, sub, "type-name", tv, "is not a valid type name");
    if (rc)
        return rc;
    td = stix_type_find(tv->u.str);
    if (td && td->kind != STIX_KIND_SCO)
        return stix_fail(c, sub, "type-name", tv, "is not a cyber-observable type");
    c->type = tv->u.str;
    return check_object(c, path, o, stix_sco_common, td ? &td->t : &stix_custom_table);
}

static int k_objmap(vctx *c, const char *path, const ajson_value *v, const prop *p)
{
    char sub[PATH_LEN];
    const char *type = c->type;
    int rc = k_dict(c, path, v, p);
    c->locals = v;
    for (size_t i = 0; i < v->len && rc == 0; i++) {
        stix_path_key(sub, path, v->u.members[i].key);
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
int stix_check_order(vctx *c, const char *base, const ajson_value *o, const char *early,
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
    stix_path_key(path, base, late);
    sb_init(&ob, other, sizeof other);
    sb_value(&ob, a);
    return stix_fail(c, path, rule, b, "is %s %s %s", strict && cmp == 0 ? "not after" : "before",
                     early, other);
}

/* Fails with rule "at-least-one" unless o has one of the space-separated properties. */
int stix_need_one_of(vctx *c, const char *base, const ajson_value *o, const char *names)
{
    for (size_t i = 0; i < o->len; i++)
        if (word_in(names, o->u.members[i].key, o->u.members[i].key_len))
            return 0;
    return stix_fail(c, base, "at-least-one", NULL, "needs at least one of: %s", names);
}

/* Fails with rule "mutually-exclusive" when o has both properties. */
int stix_not_both(vctx *c, const char *base, const ajson_value *o, const char *a, const char *b)
{
    char path[PATH_LEN];
    if (!ajson_get(o, a) || !ajson_get(o, b))
        return 0;
    stix_path_key(path, base, b);
    return stix_fail(c, path, "mutually-exclusive", NULL, "may not be present together with %s", a);
}

/* Fails with rule "co-required" when o has property `a` but not `b`. */
int stix_needs(vctx *c, const char *base, const ajson_value *o, const char *a, const char *b,
               const char *why)
{
    char path[PATH_LEN];
    if (!ajson_get(o, a) || ajson_get(o, b))
        return 0;
    stix_path_key(path, base, b);
    return stix_fail(c, path, "co-required", NULL, "is missing (required when %s)", why);
}

int stix_is_true(const ajson_value *v)
{
    return v && v->type == AJSON_TRUE;
}

/* ------------------------------------------------------------------------------------------ */
/* The object                                                                                 */

static int check_type(vctx *c, const ajson_value *obj, stix_info *info)
{
    const ajson_value *tv = ajson_get(obj, "type");
    int rc;
    if (!tv)
        return stix_fail(c, "type", "required-property", NULL, "is missing");
    rc = stix_want(c, "type", tv, AJSON_STRING, "a string");
    if (rc)
        return rc;
    if (!type_name_ok(tv->u.str, tv->len) || strcmp(tv->u.str, "bundle") == 0)
        return stix_fail(
            c, "type", "type-name", tv,
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
        return stix_fail(c, "id", "required-property", NULL, "is missing");
    rc = stix_want(c, "id", iv, AJSON_STRING, "a string");
    if (rc)
        return rc;
    tl = id_type_len(iv->u.str);
    if (tl == 0)
        return stix_fail(c, "id", "id-format", iv, "is not an identifier type--UUID (RFC 4122)");
    if (tl != strlen(c->type) || memcmp(iv->u.str, c->type, tl) != 0)
        return stix_fail(c, "id", "id-type", iv,
                         "does not start with the object's type \"%.60s--\"", c->type);
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
        rc = stix_want(c, "spec_version", sv, AJSON_STRING, "a string");
        if (rc)
            return rc;
        if (strcmp(sv->u.str, "2.1") != 0 && strcmp(sv->u.str, "2.0") != 0)
            return stix_fail(c, "spec_version", "spec-version", sv, "is not \"2.1\"");
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
            return stix_fail(c, "spec_version", "required-property", NULL,
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
        return stix_sco_common;
    if (td && strcmp(td->type, "marking-definition") == 0)
        return stix_md_common;
    return stix_sdo_common;
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
        return stix_fail(&c, "", "property-type", obj, "is not a JSON object");
    rc = check_type(&c, obj, info);
    if (rc == 0)
        rc = check_id(&c, obj, info);
    if (rc)
        goto out;
    td = stix_type_find(c.type);
    et = td ? NULL : new_object_ext(obj);
    sco_like = td ? td->kind == STIX_KIND_SCO : et && strcmp(et, "new-sco") == 0;
    rc = check_spec(&c, obj, bundle_spec, sco_like, &td, info);
    if (rc == 0)
        rc =
            check_object(&c, "", obj, common_props(td, sco_like), td ? &td->t : &stix_custom_table);
    if (rc == 0)
        rc = stix_check_order(&c, "", obj, "created", "modified", 0, "modified-before-created");
    if (rc)
        goto out;
    info->kind = td ? td->kind : STIX_KIND_CUSTOM;
    info->revoked = stix_is_true(ajson_get(obj, "revoked"));
    if (!sco_like)
        info->created = ajson_str(ajson_get(obj, "created"));
    if (!sco_like && !(td && strcmp(td->type, "marking-definition") == 0))
        info->modified = ajson_str(ajson_get(obj, "modified"));
    tlp_label_json(obj, &info->label);
    info->obj = obj;
out:
    return rc;
}
