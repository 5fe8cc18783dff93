/*
 * misp_map.c - one MISP event to STIX 2.1 objects, following the mapping of misp-stix (the MISP
 * project's own STIX export), so that a MISP user finds in accord what MISP's export gives.
 *
 * The unit of mapping is a *group*: a standalone attribute, or a MISP object whose name has a
 * table in misp_attr.c (file, domain-ip, ip-port, network-connection, url, email, x509,
 * registry-key), which also turns values into facts, patterns and SCOs.  A group is a list of facts (SCO type, property, value), all about one root SCO type, so that:
 *   - a group with a to_ids attribute becomes one indicator whose STIX pattern is the AND of one
 *     comparison per fact, inside one observation expression;
 *   - any other group becomes one observed-data and the SCOs its facts describe (the root SCO
 *     plus the addresses it refers to).
 * Attributes of a known object whose relation has no table entry, and every attribute of an
 * object without a table, are mapped as standalone attributes labelled with their object, so
 * nothing of an object is lost and each value stays matchable on its own.  Types without a STIX
 * equivalent (text, comment, btc, ...) become x-misp-attribute custom objects and are counted by
 * type; a value that cannot be what its type says (ip-dst "foo") is reported and skipped.
 * Proposals (ShadowAttribute), which MISP has not accepted, become x-misp-proposal custom objects
 * of their proposer, never indicators.
 *
 * Ids are deterministic, so importing the same event twice writes nothing new: SDOs take the
 * MISP uuid of their attribute/object/event/org/cluster (type--uuid, as misp-stix does); SCOs and
 * relationships, which MISP does not name, take UUIDv5 ids over their group's uuid and content.
 * Versions follow MISP's timestamps: modified = the attribute's (or object's, event's) timestamp,
 * so an edited event yields new versions of what changed and duplicates of the rest; a deleted
 * attribute yields a revoked version.  Identities and galaxy clusters carry the event timestamp;
 * the store side (misp_store.c) writes them again only when their content changed.
 *
 * Deviations from misp-stix, on purpose: ip-src/ip-dst patterns are [ipv4-addr:value = '...']
 * (misp-stix writes network-traffic:dst_ref.value), because accord's matcher and defender
 * exports index address comparisons; the direction is kept in the misp:type label.
 *
 * SDOs are written with buf appends rather than printf, and timestamps and UUIDv5 ids by hand
 * (nettle's SHA-1): the mapper writes a few million objects for a large MISP instance.
 *
 * It does not: talk to the store (the caller stores what emit receives), fetch anything, or keep
 * attachments' data (malware-sample content is never stored, its name and hash are).
 */
#include "accord.h"
#include "misp.h"
#include "util/buf.h"
#include "util/timestamp.h"
#include "util/u64map.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <nettle/sha1.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define MISP_NS_LEN 16

/* The namespace of accord's UUIDv5 ids for what MISP does not name (fixed forever). */
static const unsigned char MISP_NS[MISP_NS_LEN] = {0x6f, 0x1c, 0x3e, 0x8a, 0x52, 0x0b, 0x4d, 0x21,
                                                   0x9c, 0x6e, 0x3b, 0x7d, 0x14, 0xa0, 0x58, 0xe2};

typedef misp_ev ev;
typedef misp_group group;
typedef misp_prop prop;


/* ------------------------------------------------------------------------------------------ */
/* Small helpers                                                                              */

static const char *jstr(const ajson_value *o, const char *k)
{
    return ajson_str(ajson_get(o, k));
}

/* MISP writes numbers and booleans as strings or as JSON values, depending on its version. */
static int vint(const ajson_value *v, int64_t *out)
{
    if (!v)
        return 0;
    if (v->type == AJSON_NUMBER)
        return ajson_int(v, out);
    if (v->type != AJSON_STRING || v->len == 0 || v->len > 18)
        return 0;
    int64_t n = 0;
    for (size_t i = 0; i < v->len; i++) {
        if (v->u.str[i] < '0' || v->u.str[i] > '9')
            return 0;
        n = n * 10 + (v->u.str[i] - '0');
    }
    *out = n;
    return 1;
}

static int jint(const ajson_value *o, const char *k, int64_t *out)
{
    return vint(ajson_get(o, k), out);
}

static int vtrue(const ajson_value *v)
{
    int64_t n;
    if (!v)
        return 0;
    if (v->type == AJSON_TRUE)
        return 1;
    if (v->type == AJSON_STRING && strcasecmp(v->u.str, "true") == 0)
        return 1;
    return vint(v, &n) && n != 0;
}

static int jtrue(const ajson_value *o, const char *k)
{
    return vtrue(ajson_get(o, k));
}

/* The last second STIX timestamps can carry: 9999-12-31T23:59:59Z. */
#define MISP_EPOCH_MAX INT64_C(253402300799)

/* A MISP epoch-seconds field; 0 when it is absent or outside 1970..9999, which callers treat as absent. */
static int vepoch(const ajson_value *v, int64_t *out)
{
    int64_t n;
    if (!vint(v, &n) || n < 0 || n > MISP_EPOCH_MAX)
        return 0;
    *out = n;
    return 1;
}

static int jepoch(const ajson_value *o, const char *k, int64_t *out)
{
    return vepoch(ajson_get(o, k), out);
}

/* Copies the string t into out (outlen > 0 bytes), cut to fit. */
static void copy_text(char *out, size_t outlen, const char *t)
{
    size_t n = strlen(t);
    if (n >= outlen)
        n = outlen - 1;
    memcpy(out, t, n);
    out[n] = 0;
}

void misp_epoch_ts(int64_t s, char *out, size_t outlen)
{
    char t[28];
    if (s < 0)
        s = 0;
    if (s > MISP_EPOCH_MAX)
        s = MISP_EPOCH_MAX;
    misp_ts_format(s, 0, t);
    copy_text(out, outlen, t);
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

/*
 * MISP dates and times: "YYYY-MM-DD", or ISO 8601 "YYYY-MM-DDTHH:MM:SS[.frac][Z|+HH:MM|+HHMM]"
 * (first_seen/last_seen are written with +00:00).  Seconds since the epoch in *s, microseconds
 * in *us (may be NULL).
 */
static int iso_parse(const char *t, int64_t *s, int *us)
{
    int y, mo, d, h = 0, mi = 0, se = 0, frac = 0;
    if (!t || strlen(t) < 10 || !digits(t, 4, &y) || t[4] != '-' || !digits(t + 5, 2, &mo) ||
        t[7] != '-' || !digits(t + 8, 2, &d) || mo < 1 || mo > 12 || d < 1 || d > 31)
        return -1;
    const char *p = t + 10;
    if (*p == 'T' || *p == ' ') {
        if (!digits(p + 1, 2, &h) || p[3] != ':' || !digits(p + 4, 2, &mi) || h > 23 || mi > 59)
            return -1;
        p += 6;
        if (*p == ':') {
            if (!digits(p + 1, 2, &se) || se > 60)
                return -1;
            p += 3;
        }
        if (*p == '.') {
            int nd = 0;
            for (p++; isdigit((unsigned char)*p); p++, nd++)
                if (nd < 6)
                    frac = frac * 10 + (*p - '0');
            for (; nd < 6; nd++)
                frac *= 10;
        }
    }
    int64_t off = 0;
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        int sign = *p == '-' ? -1 : 1;
        if (!digits(p + 1, 2, &oh))
            return -1;
        p += 3;
        if (*p == ':')
            p++;
        if (!digits(p, 2, &om))
            return -1;
        p += 2;
        off = sign * (oh * 3600 + om * 60);
    }
    if (*p)
        return -1;
    *s = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se - off;
    if (us)
        *us = frac;
    return 0;
}

/* The first second of year 1 and the last of year 9999, as epoch seconds. */
#define TS_MIN INT64_C(-62135596800)

/* Writes n (< 10^width) as width decimal digits. */
static void put_digits(char *p, unsigned n, int width)
{
    for (int i = width - 1; i >= 0; i--, n /= 10)
        p[i] = (char)('0' + n % 10);
}

void misp_ts_format(int64_t s, int us, char out[28])
{
    if (s < TS_MIN)
        s = TS_MIN, us = 0;
    if (s > MISP_EPOCH_MAX)
        s = MISP_EPOCH_MAX, us = 999999;
    if (us < 0 || us > 999999)
        us = 0;
    int64_t days = s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
    int64_t sec = s - days * 86400;
    /* civil_from_days (H. Hinnant): the proleptic Gregorian date of a day number */
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = (int64_t)yoe + era * 400 + (m <= 2);
    put_digits(out, (unsigned)y, 4);
    out[4] = '-';
    put_digits(out + 5, m, 2);
    out[7] = '-';
    put_digits(out + 8, d, 2);
    out[10] = 'T';
    put_digits(out + 11, (unsigned)(sec / 3600), 2);
    out[13] = ':';
    put_digits(out + 14, (unsigned)(sec / 60 % 60), 2);
    out[16] = ':';
    put_digits(out + 17, (unsigned)(sec % 60), 2);
    out[19] = '.';
    put_digits(out + 20, (unsigned)us, 6);
    out[26] = 'Z';
    out[27] = 0;
}

static void ts_text(int64_t s, int us, char *out, size_t outlen)
{
    char t[28];
    misp_ts_format(s, us, t);
    copy_text(out, outlen, t);
}

/* 1 for the bytes of a hex digit (uuid_ok checks 32 per SDO). */
static const unsigned char is_hex[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
};

static int uuid_ok(const char *u)
{
    if (!u)
        return 0;
    for (int i = 0; i < 36; i++) {
        unsigned char c = (unsigned char)u[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return 0;
        } else if (!is_hex[c]) { /* also stops at the NUL of a short string */
            return 0;
        }
    }
    return u[36] == 0 && u[14] >= '1' && u[14] <= '5' && strchr("89abAB", u[19]) != NULL;
}

void misp_uuid5_id(const char *type, const char *name, size_t len, char *out, size_t outlen)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char h[SHA1_DIGEST_SIZE];
    struct sha1_ctx ctx;
    sha1_init(&ctx);
    sha1_update(&ctx, MISP_NS_LEN, MISP_NS);
    sha1_update(&ctx, len, (const uint8_t *)name);
    sha1_digest(&ctx, sizeof(h), h);
    h[6] = (unsigned char)((h[6] & 0x0f) | 0x50);
    h[8] = (unsigned char)((h[8] & 0x3f) | 0x80);
    char u[37];
    for (int i = 0, k = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            u[k++] = '-';
        u[k++] = hex[h[i] >> 4];
        u[k++] = hex[h[i] & 15];
    }
    u[36] = 0;
    size_t tl = strlen(type);
    if (outlen < tl + 2 + 37) { /* callers pass room for it; keep the contract of snprintf */
        snprintf(out, outlen, "%s--%s", type, u);
        return;
    }
    memcpy(out, type, tl);
    memcpy(out + tl, "--", 2);
    memcpy(out + tl + 2, u, 37);
}

/* A UUIDv5 (text, 37 bytes) for something MISP did not name: a template without uuids. */
static void derived_uuid(const char *name, char out[37])
{
    char id[64];
    misp_uuid5_id("u", name, strlen(name), id, sizeof(id));
    memcpy(out, id + 3, 37);
}

/* A content hash of a JSON tree (keys, values, structure), for events without a uuid. */
static void tree_hash(XXH3_state_t *h, const ajson_value *v, int depth)
{
    unsigned char t = (unsigned char)v->type;
    XXH3_128bits_update(h, &t, 1);
    if (depth > AJSON_MAX_DEPTH)
        return;
    if (v->type == AJSON_STRING || v->type == AJSON_NUMBER)
        XXH3_128bits_update(h, v->u.str, v->len + 1);
    else if (v->type == AJSON_ARRAY)
        for (size_t i = 0; i < v->len; i++)
            tree_hash(h, &v->u.items[i], depth + 1);
    else if (v->type == AJSON_OBJECT)
        for (size_t i = 0; i < v->len; i++) {
            XXH3_128bits_update(h, v->u.members[i].key, v->u.members[i].key_len + 1);
            tree_hash(h, &v->u.members[i].value, depth + 1);
        }
}

/* tree_hash of an event whose lists are spans: the same value as for the whole tree. */
static void event_hash(ev *x, XXH3_state_t *h, const ajson_value *e)
{
    const misp_lists *ls = x->c->lists;
    if (!ls || e->type != AJSON_OBJECT) {
        tree_hash(h, e, 0);
        return;
    }
    unsigned char t = (unsigned char)e->type, at = AJSON_ARRAY;
    XXH3_128bits_update(h, &t, 1);
    for (size_t i = 0; i < e->len; i++) {
        const ajson_member *m = &e->u.members[i];
        int k = strcmp(m->key, "Attribute") == 0 ? 0 : strcmp(m->key, "Object") == 0 ? 1 : -1;
        XXH3_128bits_update(h, m->key, m->key_len + 1);
        if (k < 0 || m->value.type != AJSON_ARRAY) {
            tree_hash(h, &m->value, 1);
            continue;
        }
        XXH3_128bits_update(h, &at, 1);
        for (size_t j = 0; j < ls->n[k]; j++) {
            const misp_span *sp = &ls->v[k][j];
            ajson_error jerr;
            ajson_arena_reset(&x->scratch);
            const ajson_value *v =
                ajson_parse(&x->scratch, ls->text + sp->start, sp->end - sp->start, &jerr);
            if (v)
                tree_hash(h, v, 2);
        }
    }
}

/* "type--uuid" from a MISP uuid (lower-cased), or from UUIDv5 of it when it is not a UUID. */
static void sdo_id(const char *type, const char *uuid, char *out, size_t outlen)
{
    size_t tl = strlen(type);
    if (uuid_ok(uuid) && outlen >= tl + 2 + 37) {
        memcpy(out, type, tl);
        memcpy(out + tl, "--", 2);
        for (int i = 0; i < 37; i++) /* hex digits and hyphens: ASCII lower case */
            out[tl + 2 + i] = (char)(uuid[i] >= 'A' && uuid[i] <= 'Z' ? uuid[i] + 32 : uuid[i]);
    } else {
        misp_uuid5_id(type, uuid ? uuid : "", uuid ? strlen(uuid) : 0, out, outlen);
    }
}

int misp_first_time(ev *x, const char *id)
{
    uint64_t k = u64map_key(XXH3_64bits(id, strlen(id)));
    if (u64map_get(&x->seen, k, NULL))
        return 0;
    u64map_put(&x->seen, k, 1);
    return 1;
}

void misp_add_ref(buf *b, const char *id)
{
    if (b->len)
        misp_put(b, ",", 1);
    misp_put(b, "\"", 1);
    misp_puts(b, id);
    misp_put(b, "\"", 1);
}

static void report_error(ev *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report_error(ev *x, const char *fmt, ...)
{
    char what[600], msg[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    const accord_misp_options *o = x->c->opts;
    snprintf(msg, sizeof(msg), "%s: event %s: %s", o && o->source ? o->source : "input",
             x->uuid[0] ? x->uuid : "(no uuid)", what);
    if (o && o->on_error)
        o->on_error(o->ud, msg);
}

/* A problem that does not stop the element: reported like an error, counted as a warning. */
#define report_warning(x, ...) ((x)->c->st->warnings++, report_error((x), __VA_ARGS__))

/* 1 when to_ids value v is a boolean as MISP versions write one: true/false, 0/1, "0"/"1",
 * "true"/"false" (absent counts as false too). */
static int bool_ok(const ajson_value *v)
{
    if (!v || v->type == AJSON_TRUE || v->type == AJSON_FALSE)
        return 1;
    if (v->type == AJSON_NUMBER || v->type == AJSON_STRING)
        return strcmp(v->u.str, "0") == 0 || strcmp(v->u.str, "1") == 0 ||
               (v->type == AJSON_STRING &&
                (strcasecmp(v->u.str, "true") == 0 || strcasecmp(v->u.str, "false") == 0));
    return 0;
}

/*
 * The checks of an attribute element that do not stop it (path: where it is): its uuid (absent
 * or malformed: it is named by its place and content instead, so it is stored under another id
 * than MISP's) and its to_ids (a value that is no boolean is taken as false: not an indicator).
 */
static void attribute_warnings(ev *x, const ajson_value *u, const ajson_value *t, const char *path)
{
    const char *us = ajson_str(u);
    if (!u)
        report_warning(x, "%s: no uuid; named by its place and content", path);
    else if (!uuid_ok(us))
        report_warning(x, "%s: uuid \"%.60s\" is not a UUID; named by its place and content", path,
                       us ? us : ajson_type_name(u->type));
    if (!bool_ok(t))
        report_warning(x, "%s: to_ids %s%.40s%s is not a boolean; taken as false", path,
                       t->type == AJSON_STRING ? "\"" : "",
                       t->type == AJSON_STRING || t->type == AJSON_NUMBER ? t->u.str
                                                                        : ajson_type_name(t->type),
                       t->type == AJSON_STRING ? "\"" : "");
}

static void count_unmapped(accord_misp_stats *st, const char *type, uint64_t n)
{
    for (unsigned i = 0; i < st->nunmapped; i++)
        if (strcmp(st->unmapped[i].type, type) == 0) {
            st->unmapped[i].n += n;
            return;
        }
    if (st->nunmapped < ACCORD_MISP_MAX_UNMAPPED) {
        snprintf(st->unmapped[st->nunmapped].type, sizeof(st->unmapped[0].type), "%s", type);
        st->unmapped[st->nunmapped++].n = n;
    } else {
        st->unmapped_other += n;
    }
}

void accord_misp_stats_add(accord_misp_stats *a, const accord_misp_stats *b)
{
    a->events += b->events;
    a->events_failed += b->events_failed;
    a->attributes += b->attributes;
    a->objects += b->objects;
    a->indicators += b->indicators;
    a->terms += b->terms;
    a->observed += b->observed;
    a->custom += b->custom;
    a->revoked += b->revoked;
    a->sightings += b->sightings;
    a->clusters += b->clusters;
    a->relationships += b->relationships;
    a->proposals += b->proposals;
    a->bad += b->bad;
    a->unchanged += b->unchanged;
    a->warnings += b->warnings;
    for (unsigned i = 0; i < b->nunmapped; i++)
        count_unmapped(a, b->unmapped[i].type, b->unmapped[i].n);
    a->unmapped_other += b->unmapped_other;
    accord_import_stats *s = &a->store;
    const accord_import_stats *t = &b->store;
    s->read += t->read;
    s->accepted += t->accepted;
    s->versions += t->versions;
    s->duplicates += t->duplicates;
    s->conflicts += t->conflicts;
    s->rejected += t->rejected;
    s->committed += t->committed;
    s->bytes_read += t->bytes_read;
}

/* ------------------------------------------------------------------------------------------ */
/* TLP                                                                                        */

static const struct tlp {
    const char *tag1, *tag2; /* TLP 1 and TLP 2 spellings of the tag */
    const char *color, *name, *id;
} tlps[] = {
    {"tlp:white", "tlp:clear", "clear", "TLP:CLEAR",
     "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"},
    {"tlp:green", NULL, "green", "TLP:GREEN",
     "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"},
    {"tlp:amber", NULL, "amber", "TLP:AMBER",
     "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"},
    {"tlp:amber+strict", NULL, "amber+strict", "TLP:AMBER+STRICT",
     "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"},
    {"tlp:red", NULL, "red", "TLP:RED",
     "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"},
};

int misp_emit(ev *x)
{
    if (x->o.failed)
        return ACCORD_ENOMEM;
    return x->c->emit(x->c->ud, x->o.p, x->o.len);
}

/* The place of marking id t in tlps (its strictness), -1 for none. */
static int tlp_rank(const char *t)
{
    for (int k = 0; t && k < (int)(sizeof(tlps) / sizeof(tlps[0])); k++)
        if (tlps[k].id == t || strcmp(tlps[k].id, t) == 0)
            return k;
    return -1;
}

/* The TLP 2.0 marking of a Tag list (the strictest when several), written once per event. */
static const char *tlp_of(ev *x, const ajson_value *tags, int *rc)
{
    int best = -1;
    for (size_t i = 0; tags && tags->type == AJSON_ARRAY && i < tags->len; i++) {
        const char *name = jstr(&tags->u.items[i], "name");
        for (int k = 0; name && k < (int)(sizeof(tlps) / sizeof(tlps[0])); k++)
            if (strcasecmp(name, tlps[k].tag1) == 0 ||
                (tlps[k].tag2 && strcasecmp(name, tlps[k].tag2) == 0))
                best = k > best ? k : best;
    }
    if (best < 0)
        return NULL;
    const struct tlp *t = &tlps[best];
    if (misp_first_time(x, t->id)) {
        buf_reset(&x->o);
        buf_printf(&x->o,
                   "{\"type\":\"marking-definition\",\"spec_version\":\"2.1\",\"id\":\"%s\","
                   "\"created\":\"2022-10-01T00:00:00.000Z\",\"name\":\"%s\",\"extensions\":{"
                   "\"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d\":{"
                   "\"extension_type\":\"property-extension\",\"tlp_2_0\":\"%s\"}}}",
                   t->id, t->name, t->color);
        *rc = misp_emit(x);
    }
    return t->id;
}


/* ------------------------------------------------------------------------------------------ */
/* SDOs                                                                                       */

/* ,"key":"text" for a text known to need no escaping (ids, timestamps, fixed words). */
static void plain_prop(buf *b, const char *key, const char *text)
{
    misp_put(b, ",\"", 2);
    misp_puts(b, key);
    misp_put(b, "\":\"", 3);
    misp_puts(b, text);
    misp_put(b, "\"", 1);
}

/* ,"key":"text" escaped as JSON, when text is not empty. */
static void text_prop(buf *b, const char *key, const char *text)
{
    if (!text || !*text)
        return;
    misp_put(b, ",\"", 2);
    misp_puts(b, key);
    misp_put(b, "\":", 2);
    misp_json_str(b, text);
}

/*
 * misp_epoch_ts of s, from a cache of the last two: the attributes of an event share a handful
 * of timestamps (created is mostly the event's date), and each SDO writes two or three.
 */
static const char *ev_ts(ev *x, int64_t s)
{
    if (s < 0)
        s = 0;
    if (s > MISP_EPOCH_MAX)
        s = MISP_EPOCH_MAX;
    for (int i = 0; i < 2; i++)
        if (x->tsc[i] == s)
            return x->tsc_text[i];
    int k = x->tsc_next;
    x->tsc_next ^= 1;
    x->tsc[k] = s;
    misp_ts_format(s, 0, x->tsc_text[k]);
    return x->tsc_text[k];
}

/* "type","spec_version","id","created_by_ref","created","modified" of an SDO, opening brace. */
static void sdo_head(ev *x, const char *type, const char *id, int64_t created, int64_t modified)
{
    char cr[28], mo[28];
    memcpy(cr, ev_ts(x, created), sizeof(cr));
    memcpy(mo, ev_ts(x, modified), sizeof(mo));
    buf_reset(&x->o);
    misp_put(&x->o, "{\"type\":\"", 9);
    misp_puts(&x->o, type);
    misp_puts(&x->o, "\",\"spec_version\":\"2.1\"");
    plain_prop(&x->o, "id", id);
    if (x->creator[0])
        plain_prop(&x->o, "created_by_ref", x->creator);
    plain_prop(&x->o, "created", cr);
    plain_prop(&x->o, "modified", mo);
}

/* ,"labels":[...] from the misp: labels and tag names.  A fixed label that starts with '"' is
 * JSON text already (label_kv), any other is a string to escape. */
static void labels(ev *x, const char *const *fixed, size_t nfixed, const ajson_value *tags)
{
    int n = 0;
    misp_puts(&x->o, ",\"labels\":[");
    for (size_t i = 0; i < nfixed; i++) {
        if (n++)
            misp_put(&x->o, ",", 1);
        if (fixed[i][0] == '"')
            misp_puts(&x->o, fixed[i]);
        else
            misp_json_str(&x->o, fixed[i]);
    }
    for (size_t i = 0; tags && tags->type == AJSON_ARRAY && i < tags->len; i++) {
        const char *name = jstr(&tags->u.items[i], "name");
        if (!name || !*name)
            continue;
        if (n++)
            misp_put(&x->o, ",", 1);
        misp_json_str(&x->o, name);
    }
    misp_put(&x->o, "]", 1);
}

static void marking(ev *x, const char *tlp)
{
    if (!tlp)
        return;
    misp_puts(&x->o, ",\"object_marking_refs\":[\"");
    misp_puts(&x->o, tlp);
    misp_put(&x->o, "\"]", 2);
}

/* The identity of an org (Orgc, Organisation of a sighting) once per event; its id into id. */
static int org_identity(ev *x, const ajson_value *org, char *id, size_t idlen)
{
    const char *uuid = jstr(org, "uuid"), *name = jstr(org, "name");
    id[0] = 0;
    if (!name || !*name)
        return 0;
    if (uuid && *uuid)
        sdo_id("identity", uuid, id, idlen);
    else
        misp_uuid5_id("identity", name, strlen(name), id, idlen);
    if (!misp_first_time(x, id))
        return 0;
    char saved[128];
    snprintf(saved, sizeof(saved), "%s", x->creator);
    x->creator[0] = 0;
    sdo_head(x, "identity", id, x->ts, x->ts);
    snprintf(x->creator, sizeof(x->creator), "%s", saved);
    misp_puts(&x->o, ",\"name\":");
    misp_json_str(&x->o, name);
    misp_puts(&x->o, ",\"identity_class\":\"organization\"}");
    return misp_emit(x);
}

/* Galaxy types to STIX SDO types (misp-stix's choices); the rest is x-misp-galaxy-cluster. */
static const char *cluster_type(const char *gtype)
{
    static const struct {
        const char *part, *stix;
    } map[] = {
        {"attack-pattern", "attack-pattern"}, {"intrusion-set", "intrusion-set"},
        {"threat-actor", "threat-actor"},     {"course-of-action", "course-of-action"},
        {"malware", "malware"},               {"tool", "tool"},
        {"ransomware", "malware"},            {"rat", "malware"},
        {"botnet", "malware"},                {"banker", "malware"},
        {"stealer", "malware"},               {"backdoor", "malware"},
        {"exploit-kit", "tool"},
    };
    for (size_t i = 0; gtype && i < sizeof(map) / sizeof(map[0]); i++) {
        const char *p = strstr(gtype, map[i].part);
        size_t n = strlen(map[i].part);
        /* whole hyphen-separated words only: "rat" is not in "pirate" */
        if (p && (p == gtype || p[-1] == '-' || p[-1] == ':') && (p[n] == 0 || p[n] == '-'))
            return map[i].stix;
    }
    return NULL;
}

static int attack_id_ok(const char *s)
{
    size_t n = 0;
    if (!s || !strchr("TGSMC", s[0]))
        return 0;
    const char *p = s + 1 + (s[0] == 'T' && s[1] == 'A');
    for (; isdigit((unsigned char)p[n]) || p[n] == '.'; n++)
        ;
    return n >= 4 && p[n] == 0;
}

/* ,"external_references":[...]: ATT&CK ids from meta.external_id, then the first refs. */
static void cluster_refs(ev *x, const ajson_value *meta, const char *value)
{
    const ajson_value *ext = ajson_get(meta, "external_id"), *refs = ajson_get(meta, "refs");
    int n = 0;
    misp_puts(&x->o, ",\"external_references\":[");
    for (size_t i = 0; ext && ext->type == AJSON_ARRAY && i < ext->len; i++) {
        const char *e = ajson_str(&ext->u.items[i]);
        if (!e || !*e)
            continue;
        buf_printf(&x->o, "%s{\"source_name\":\"%s\",\"external_id\":", n++ ? "," : "",
                   attack_id_ok(e) ? "mitre-attack" : "misp-galaxy");
        misp_json_str(&x->o, e);
        misp_puts(&x->o, "}");
    }
    for (size_t i = 0; refs && refs->type == AJSON_ARRAY && i < refs->len && i < 16; i++) {
        const char *u = ajson_str(&refs->u.items[i]);
        if (!u || strncmp(u, "http", 4) != 0 || strpbrk(u, " \t\r\n"))
            continue;
        buf_printf(&x->o, "%s{\"source_name\":\"url\",\"url\":", n++ ? "," : "");
        misp_json_str(&x->o, u);
        misp_puts(&x->o, "}");
    }
    if (!n) { /* the galaxy itself is the source */
        misp_puts(&x->o, "{\"source_name\":\"misp-galaxy\",\"description\":");
        misp_json_str(&x->o, value);
        misp_puts(&x->o, "}");
    }
    misp_puts(&x->o, "]");
}

/* ,"kill_chain_phases" from MISP's "chain:phase" or "chain:matrix:phase" strings. */
static void kill_chain(ev *x, const ajson_value *kc)
{
    int n = 0;
    for (size_t i = 0; kc && kc->type == AJSON_ARRAY && i < kc->len && i < 32; i++) {
        const char *k = ajson_str(&kc->u.items[i]);
        const char *first = k ? strchr(k, ':') : NULL, *last = k ? strrchr(k, ':') : NULL;
        if (!first || first == k || !last[1] || strpbrk(k, " \t"))
            continue;
        misp_puts(&x->o, n++ ? "," : ",\"kill_chain_phases\":[");
        buf_printf(&x->o, "{\"kill_chain_name\":\"%.*s\",\"phase_name\":", (int)(first - k), k);
        misp_json_str(&x->o, last + 1);
        misp_puts(&x->o, "}");
    }
    if (n)
        misp_puts(&x->o, "]");
}

/* The SDO types of clusters, for the relations between them (cltype holds 1 + an index). */
static const char *const cluster_sdo_types[] = {
    "attack-pattern", "intrusion-set", "threat-actor", "course-of-action",
    "malware",        "tool",          "x-misp-galaxy-cluster",
};

static uint64_t uuid_key(const char *uuid)
{
    char lc[36];
    for (int i = 0; i < 36; i++)
        lc[i] = (char)tolower((unsigned char)uuid[i]);
    return u64map_key(XXH3_64bits(lc, 36));
}

/* A MISP relation type as a STIX relationship_type: lower-case words and hyphens, else
 * related-to. */
static const char *relation_type(const char *t)
{
    size_t n = t ? strlen(t) : 0;
    if (n == 0 || n > 100 || t[0] == '-')
        return "related-to";
    for (size_t i = 0; i < n; i++)
        if (!((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= '0' && t[i] <= '9') || t[i] == '-'))
            return "related-to";
    return t;
}

/*
 * Notes cluster `id` (of SDO type `type`, MISP uuid `uuid`) and its GalaxyClusterRelation list
 * (relations to other clusters: "similar", "uses", ...).  A relation names the other cluster by
 * uuid only, so its STIX id, which holds the type, is known only when the event carries that
 * cluster too: the relations are written once the whole event is read (cluster_relations), and
 * one to a cluster the event does not carry is left out.
 */
static void note_cluster(ev *x, const ajson_value *cl, const char *type, const char *uuid,
                         const char *id)
{
    for (size_t i = 0; uuid_ok(uuid) && i < sizeof(cluster_sdo_types) / sizeof(*cluster_sdo_types);
         i++)
        if (strcmp(type, cluster_sdo_types[i]) == 0)
            u64map_put(&x->cltype, uuid_key(uuid), i + 1);
    const ajson_value *rels = ajson_get(cl, "GalaxyClusterRelation");
    for (size_t i = 0; rels && rels->type == AJSON_ARRAY && i < rels->len && i < 256; i++) {
        const ajson_value *r = &rels->u.items[i];
        const char *to = jstr(r, "referenced_galaxy_cluster_uuid");
        if (!uuid_ok(to))
            continue;
        const char *rt = relation_type(jstr(r, "referenced_galaxy_cluster_type"));
        misp_put(&x->crels, id, strlen(id) + 1);
        misp_put(&x->crels, rt, strlen(rt) + 1);
        misp_put(&x->crels, to, 37);
    }
}

/* The relations noted by note_cluster whose other cluster the event carries, as relationships. */
static int relationship(ev *x, const char *src, const char *type, const char *dst, int64_t ts);

static int cluster_relations(ev *x)
{
    if (x->crels.failed)
        return ACCORD_ENOMEM;
    int rc = 0;
    for (size_t at = 0; at < x->crels.len && rc == 0;) {
        const char *src = x->crels.p + at, *rt = src + strlen(src) + 1, *to = rt + strlen(rt) + 1;
        at = (size_t)(to - x->crels.p) + 37;
        uint64_t t;
        if (!u64map_get(&x->cltype, uuid_key(to), &t))
            continue;
        char dst[128];
        sdo_id(cluster_sdo_types[t - 1], to, dst, sizeof(dst));
        if (strcmp(dst, src) != 0)
            rc = relationship(x, src, rt, dst, x->ts);
    }
    return rc;
}

/* Writes galaxy cluster cl (of galaxy gal) once per event; its id into id, "" when unusable. */
static int write_cluster(ev *x, const ajson_value *gal, const ajson_value *cl, char *id,
                         size_t idlen)
{
    const char *value = jstr(cl, "value"), *uuid = jstr(cl, "uuid");
    const char *gtype = jstr(cl, "type") ? jstr(cl, "type") : jstr(gal, "type");
    const char *gname = jstr(gal, "name");
    id[0] = 0;
    if (!value || !*value)
        return 0;
    const char *st = cluster_type(gtype);
    const char *type = st ? st : "x-misp-galaxy-cluster";
    if (uuid && *uuid) {
        sdo_id(type, uuid, id, idlen);
    } else {
        const char *tag = jstr(cl, "tag_name");
        misp_uuid5_id(type, tag ? tag : value, strlen(tag ? tag : value), id, idlen);
    }
    if (!misp_first_time(x, id))
        return 0;
    note_cluster(x, cl, type, uuid, id);
    x->c->st->clusters++;
    sdo_head(x, type, id, x->ts, x->ts);
    misp_puts(&x->o, ",\"name\":");
    misp_json_str(&x->o, value);
    const char *desc = jstr(cl, "description");
    if (desc && *desc) {
        misp_puts(&x->o, ",\"description\":");
        misp_json_str(&x->o, desc);
    }
    char l1[300], l2[300];
    snprintf(l1, sizeof(l1), "misp:galaxy-name=\"%s\"", gname ? gname : "");
    snprintf(l2, sizeof(l2), "misp:galaxy-type=\"%s\"", gtype ? gtype : "");
    const char *fixed[] = {l1, l2};
    labels(x, fixed, 2, NULL);
    const ajson_value *meta = ajson_get(cl, "meta");
    if (strcmp(type, "malware") == 0)
        misp_puts(&x->o, ",\"is_family\":true");
    const ajson_value *syn = ajson_get(meta, "synonyms");
    if (st && strcmp(type, "course-of-action") && syn && syn->type == AJSON_ARRAY && syn->len) {
        int n = 0;
        misp_puts(&x->o, ",\"aliases\":[");
        for (size_t i = 0; i < syn->len; i++)
            if (ajson_str(&syn->u.items[i]) && syn->u.items[i].len) {
                misp_puts(&x->o, n++ ? "," : "");
                misp_json_str(&x->o, syn->u.items[i].u.str);
            }
        if (!n)
            misp_json_str(&x->o, value);
        misp_puts(&x->o, "]");
    }
    cluster_refs(x, meta, value);
    if (!strcmp(type, "attack-pattern") || !strcmp(type, "malware") || !strcmp(type, "tool"))
        kill_chain(x, ajson_get(meta, "kill_chain"));
    marking(x, x->tlp);
    misp_puts(&x->o, "}");
    misp_add_ref(&x->refs, id);
    return misp_emit(x);
}

static int relationship(ev *x, const char *src, const char *type, const char *dst, int64_t ts)
{
    char id[128], name[300];
    int n = snprintf(name, sizeof(name), "%s|%s|%s", src, type, dst);
    misp_uuid5_id("relationship", name, (size_t)n, id, sizeof(id));
    if (!misp_first_time(x, id))
        return 0;
    x->c->st->relationships++;
    sdo_head(x, "relationship", id, ts, ts);
    buf_printf(&x->o, ",\"relationship_type\":\"%s\",\"source_ref\":\"%s\",\"target_ref\":\"%s\"",
               type, src, dst);
    marking(x, x->tlp);
    misp_puts(&x->o, "}");
    misp_add_ref(&x->refs, id);
    return misp_emit(x);
}

/* The clusters of a Galaxy list; related to `from` (an SDO id) when not NULL. */
static int galaxies(ev *x, const ajson_value *gals, const char *from, int from_indicator,
                    int64_t ts)
{
    int rc = 0;
    for (size_t i = 0; gals && gals->type == AJSON_ARRAY && i < gals->len && rc == 0; i++) {
        const ajson_value *g = &gals->u.items[i], *cls = ajson_get(g, "GalaxyCluster");
        for (size_t k = 0; cls && cls->type == AJSON_ARRAY && k < cls->len && rc == 0; k++) {
            char id[128];
            rc = write_cluster(x, g, &cls->u.items[k], id, sizeof(id));
            if (rc || !id[0] || !from)
                continue;
            int indicates = from_indicator && strncmp(id, "x-misp", 6) != 0 &&
                            strncmp(id, "course-of-action", 16) != 0;
            rc = relationship(x, from, indicates ? "indicates" : "related-to", id, ts);
        }
    }
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Groups to SDOs                                                                             */

/* What the SDO of a group is written from: an attribute, or an object and its attributes. */
/*
 * The members of an attribute or object that the mapper reads, found in one pass over its
 * members: each SDO asked ajson_get for about twenty of them, a scan of some twenty members
 * each time (7% of the mapper's instructions).
 */
enum {
    F_UUID, F_TYPE, F_NAME, F_ID, F_TAG, F_VALUE, F_TO_IDS, F_GALAXY, F_DELETED, F_COMMENT,
    F_CATEGORY, F_SIGHTING, F_TIMESTAMP, F_LAST_SEEN, F_FIRST_SEEN, F_DISTRIBUTION,
    F_META_CATEGORY, F_SHADOW, F_N
};

static void fields_read(const ajson_value *o, const ajson_value *f[F_N])
{
    memset(f, 0, F_N * sizeof(f[0]));
    for (size_t i = 0; o && o->type == AJSON_OBJECT && i < o->len; i++) {
        const ajson_member *m = &o->u.members[i];
        const char *k = m->key;
        int at = -1;
#define F_IS(lit, idx) else if (memcmp(k, lit, sizeof(lit) - 1) == 0) at = idx
        switch (m->key_len) {
        case 2: if (0) {} F_IS("id", F_ID); break;
        case 3: if (0) {} F_IS("Tag", F_TAG); break;
        case 4: if (0) {} F_IS("uuid", F_UUID); F_IS("type", F_TYPE); F_IS("name", F_NAME); break;
        case 5: if (0) {} F_IS("value", F_VALUE); break;
        case 6: if (0) {} F_IS("to_ids", F_TO_IDS); F_IS("Galaxy", F_GALAXY); break;
        case 7: if (0) {} F_IS("deleted", F_DELETED); F_IS("comment", F_COMMENT); break;
        case 8: if (0) {} F_IS("category", F_CATEGORY); F_IS("Sighting", F_SIGHTING); break;
        case 9: if (0) {} F_IS("timestamp", F_TIMESTAMP); F_IS("last_seen", F_LAST_SEEN); break;
        case 10: if (0) {} F_IS("first_seen", F_FIRST_SEEN); break;
        case 12: if (0) {} F_IS("distribution", F_DISTRIBUTION); break;
        case 13: if (0) {} F_IS("meta-category", F_META_CATEGORY); break;
        case 15: if (0) {} F_IS("ShadowAttribute", F_SHADOW); break;
        default: break;
        }
#undef F_IS
        if (at >= 0 && !f[at]) /* the first, as ajson_get (the parser rejects repeats anyway) */
            f[at] = &m->value;
    }
}

typedef struct gsrc {
    const ajson_value *a; /* the attribute, or the object */
    const ajson_value *f[F_N]; /* its members (fields_read) */
    const char *uuid;
    const char *label1, *label2; /* misp:type=... / misp:name=..., misp:category=... */
    int to_ids, deleted;
    int64_t ts;
    const ajson_value *tags;
    const char *tlp;
    int own_tlp; /* an object: tlp comes from its attributes' tags (group_tlp) */
    const ajson_value *proposals; /* ShadowAttribute lists: of the attribute, or its object's */
    int object;                   /* a is a MISP object (its "id" numbers objects, not attributes) */
    char path[64];
} gsrc;

/* first_seen / last_seen of an attribute or object, when they parse. */
typedef struct seen_times {
    int64_t fs, ls;
    int fs_us, ls_us, has_fs, has_ls;
} seen_times;

static void seen_times_of(const gsrc *s, seen_times *t)
{
    t->has_fs = iso_parse(ajson_str(s->f[F_FIRST_SEEN]), &t->fs, &t->fs_us) == 0;
    t->has_ls = iso_parse(ajson_str(s->f[F_LAST_SEEN]), &t->ls, &t->ls_us) == 0;
}

/* created: the event's date when earlier than the attribute's timestamp. */
static int64_t created_of(const ev *x, const gsrc *s)
{
    return x->date && x->date < s->ts ? x->date : s->ts;
}

/* The SDO of type `type` named after s: its id into id, its head into x->o. */
static void sdo_open(ev *x, const gsrc *s, const char *type, char *id, size_t idlen)
{
    sdo_id(type, s->uuid, id, idlen);
    sdo_head(x, type, id, created_of(x, s), s->ts);
}

/* The labels of s: its two misp: labels, `extra` when not NULL, and its tags. */
static void src_labels(ev *x, const gsrc *s, const char *extra)
{
    const char *fixed[] = {s->label1, s->label2, extra};
    labels(x, fixed, extra ? 3 : 2, s->tags);
}

/* ,"x_misp_distribution" of a MISP "distribution" written as a string. */
static void distribution_str(ev *x, const char *dist)
{
    misp_puts(&x->o, ",\"x_misp_distribution\":");
    misp_put(&x->o, misp_uint_ok(dist, 5) ? dist + strlen(dist) - 1 : "5", 1);
}

/* with_attr: the attribute's description and distribution; then revoked and the marking. */
static void common_tail(ev *x, const gsrc *s, int with_attr)
{
    int64_t d;
    if (with_attr) {
        const ajson_value *dist = s->f[F_DISTRIBUTION];
        text_prop(&x->o, "description", ajson_str(s->f[F_COMMENT]));
        if (ajson_str(dist))
            distribution_str(x, dist->u.str);
        else if (vint(dist, &d))
            buf_printf(&x->o, ",\"x_misp_distribution\":%lld", (long long)d);
    }
    if (s->deleted)
        misp_puts(&x->o, ",\"revoked\":true");
    marking(x, s->tlp);
}

static int write_indicator(ev *x, const gsrc *s, const group *g, char *id, size_t idlen)
{
    seen_times t;
    seen_times_of(s, &t);
    sdo_open(x, s, "indicator", id, idlen);
    if (g->pattern_type) {
        misp_puts(&x->o, ",\"pattern\":");
        misp_json_str(&x->o, g->sig);
        plain_prop(&x->o, "pattern_type", g->pattern_type);
    } else {
        misp_pattern(g, &x->tmp);
        if (x->tmp.failed)
            return ACCORD_ENOMEM;
        text_prop(&x->o, "pattern", x->tmp.p);
        misp_puts(&x->o, ",\"pattern_type\":\"stix\",\"pattern_version\":\"2.1\"");
        x->c->st->terms += g->n;
    }
    char vf[40], vu[40];
    if (t.has_fs)
        ts_text(t.fs, t.fs_us, vf, sizeof(vf));
    else
        memcpy(vf, ev_ts(x, created_of(x, s)), 28);
    plain_prop(&x->o, "valid_from", vf);
    if (t.has_ls && (!t.has_fs || t.ls > t.fs || (t.ls == t.fs && t.ls_us > t.fs_us))) {
        ts_text(t.ls, t.ls_us, vu, sizeof(vu));
        if (strcmp(vu, vf) > 0)
            plain_prop(&x->o, "valid_until", vu);
    }
    const char *cat = ajson_str(s->f[F_CATEGORY]) ? ajson_str(s->f[F_CATEGORY])
                                                   : ajson_str(s->f[F_META_CATEGORY]);
    if (cat && *cat) {
        misp_puts(&x->o, ",\"kill_chain_phases\":[{\"kill_chain_name\":\"misp-category\","
                        "\"phase_name\":");
        misp_json_str(&x->o, cat);
        misp_puts(&x->o, "}]");
    }
    src_labels(x, s, "\"misp:to_ids=\\\"True\\\"\""); /* as JSON text: see labels() */
    common_tail(x, s, 1);
    misp_put(&x->o, "}", 1);
    x->c->st->indicators++;
    return misp_emit(x);
}

/* Returns 1 (and writes nothing) when the facts make no valid SCO; *rc the outcome otherwise. */
static int write_observed(ev *x, const gsrc *s, const group *g, char *id, size_t idlen, int *rc)
{
    buf_reset(&x->tmp); /* the SCO ids */
    *rc = misp_scos(x, g, s->uuid, &x->tmp);
    if (*rc)
        return *rc;
    if (x->tmp.failed)
        return *rc = ACCORD_ENOMEM;
    seen_times t;
    seen_times_of(s, &t);
    sdo_open(x, s, "observed-data", id, idlen);
    char fo[40], lo[40];
    if (t.has_fs)
        ts_text(t.fs, t.fs_us, fo, sizeof(fo));
    else
        memcpy(fo, ev_ts(x, s->ts), 28);
    if (t.has_ls)
        ts_text(t.ls, t.ls_us, lo, sizeof(lo));
    if (!t.has_ls || strcmp(lo, fo) < 0)
        copy_text(lo, sizeof(lo), fo);
    plain_prop(&x->o, "first_observed", fo);
    plain_prop(&x->o, "last_observed", lo);
    misp_puts(&x->o, ",\"number_observed\":1,\"object_refs\":[");
    misp_put(&x->o, x->tmp.p, x->tmp.len);
    misp_put(&x->o, "]", 1);
    src_labels(x, s, NULL);
    /* observed-data has no description: the comment goes to x_misp_comment */
    text_prop(&x->o, "x_misp_comment", ajson_str(s->f[F_COMMENT]));
    common_tail(x, s, 0);
    const char *dist = ajson_str(s->f[F_DISTRIBUTION]);
    if (dist)
        distribution_str(x, dist);
    misp_put(&x->o, "}", 1);
    x->c->st->observed++;
    return *rc = misp_emit(x);
}

/* The MISP properties of a custom object: labels, type, category, value, to_ids, comment. */
static void custom_body(ev *x, const gsrc *s, const char *extra_label, const char *type,
                        const char *value)
{
    src_labels(x, s, extra_label);
    misp_puts(&x->o, ",\"x_misp_type\":");
    misp_json_str(&x->o, type);
    const char *cat = ajson_str(s->f[F_CATEGORY]);
    if (cat) {
        misp_puts(&x->o, ",\"x_misp_category\":");
        misp_json_str(&x->o, cat);
    }
    misp_puts(&x->o, ",\"x_misp_value\":");
    misp_json_str(&x->o, value);
    misp_puts(&x->o, s->to_ids ? ",\"x_misp_to_ids\":true" : ",\"x_misp_to_ids\":false");
    text_prop(&x->o, "x_misp_comment", ajson_str(s->f[F_COMMENT]));
}

/* An attribute without a STIX equivalent: the x-misp-attribute custom object. */
static int write_custom(ev *x, const gsrc *s, const char *type, const char *value, char *id,
                        size_t idlen)
{
    sdo_open(x, s, "x-misp-attribute", id, idlen);
    custom_body(x, s, NULL, type, value);
    common_tail(x, s, 0);
    misp_put(&x->o, "}", 1);
    x->c->st->custom++;
    count_unmapped(x->c->st, type, 1);
    return misp_emit(x);
}

static int cve_ok(const char *v)
{
    size_t n = 0;
    if (strncmp(v, "CVE-", 4) != 0)
        return 0;
    for (int i = 4; i < 8; i++) /* the year: four digits (the NUL of a short value stops it) */
        if (!isdigit((unsigned char)v[i]))
            return 0;
    if (v[8] != '-')
        return 0;
    for (const char *p = v + 9; isdigit((unsigned char)*p); p++)
        n++;
    return n >= 4 && v[9 + n] == 0;
}

static int write_vulnerability(ev *x, const gsrc *s, const char *value, char *id, size_t idlen)
{
    sdo_open(x, s, "vulnerability", id, idlen);
    misp_puts(&x->o, ",\"name\":");
    misp_json_str(&x->o, value);
    if (cve_ok(value)) {
        misp_puts(&x->o, ",\"external_references\":[{\"source_name\":\"cve\",\"external_id\":");
        misp_json_str(&x->o, value);
        misp_puts(&x->o, "}]");
    }
    src_labels(x, s, NULL);
    common_tail(x, s, 1);
    misp_put(&x->o, "}", 1);
    return misp_emit(x);
}

/* Sightings of the SDO `of` (type 0: sighting; 1: false positive -> opinion; 2: expiration). */
static int sightings_of(ev *x, const gsrc *s, const ajson_value *list, const char *of,
                        int event_level);

static int sightings(ev *x, const gsrc *s, const char *of)
{
    return sightings_of(x, s, s->f[F_SIGHTING], of, 0);
}

/* The SDO an event-level sighting is about (its attribute_uuid), or "" when none was written. */
static void sighting_target(ev *x, const ajson_value *si, char *of, size_t len)
{
    const char *u = jstr(si, "attribute_uuid");
    uint64_t kind = 0;
    of[0] = 0;
    if (!u || !uuid_ok(u))
        return;
    char lc[37];
    for (int i = 0; i < 37; i++)
        lc[i] = (char)tolower((unsigned char)u[i]);
    if (u64map_get(&x->sdo, u64map_key(XXH3_64bits(lc, 36)), &kind))
        snprintf(of, len, "%s--%s", kind == 1 ? "indicator" : "observed-data", lc);
}

static int sightings_of(ev *x, const gsrc *s, const ajson_value *list, const char *of_attr,
                        int event_level)
{
    int rc = 0;
    char target[128];
    const char *of = of_attr;
    for (size_t i = 0; list && list->type == AJSON_ARRAY && i < list->len && rc == 0; i++) {
        const ajson_value *si = &list->u.items[i];
        if (event_level) {
            sighting_target(x, si, target, sizeof(target));
            if (!target[0]) {
                x->c->st->bad++;
                report_error(x, "Sighting[%zu]: attribute_uuid names no attribute of the event; "
                                "sighting skipped", i);
                continue;
            }
            of = target;
        }
        int64_t when, type = 0;
        char org[128], id[128], t[40];
        if (!jepoch(si, "date_sighting", &when)) {
            x->c->st->bad++;
            report_error(x, "%s%sSighting[%zu]: no date_sighting in 1970..9999; sighting skipped", s->path,
                         s->path[0] ? "." : "", i);
            continue;
        }
        jint(si, "type", &type);
        if (type == 2) /* an expiration is not an observation */
            continue;
        if ((rc = org_identity(x, ajson_get(si, "Organisation"), org, sizeof(org))))
            break;
        const char *uuid = jstr(si, "uuid");
        char name[200];
        if (!uuid_ok(uuid)) {
            int n = snprintf(name, sizeof(name), "%s/%s/%lld/%zu", s->uuid, org, (long long)when,
                             i);
            misp_uuid5_id(type == 1 ? "opinion" : "sighting", name, (size_t)n, id, sizeof(id));
        } else {
            sdo_id(type == 1 ? "opinion" : "sighting", uuid, id, sizeof(id));
        }
        misp_epoch_ts(when, t, sizeof(t));
        char saved[128];
        snprintf(saved, sizeof(saved), "%s", x->creator);
        if (org[0])
            snprintf(x->creator, sizeof(x->creator), "%s", org);
        sdo_head(x, type == 1 ? "opinion" : "sighting", id, when, when);
        snprintf(x->creator, sizeof(x->creator), "%s", saved);
        if (type == 1) {
            buf_printf(&x->o,
                       ",\"opinion\":\"strongly-disagree\",\"explanation\":\"false positive "
                       "(MISP sighting type 1)\",\"object_refs\":[\"%s\"]",
                       of);
        } else {
            buf_printf(&x->o, ",\"first_seen\":\"%s\",\"last_seen\":\"%s\",\"count\":1,"
                              "\"sighting_of_ref\":\"%s\"", t, t, of);
            if (org[0])
                buf_printf(&x->o, ",\"where_sighted_refs\":[\"%s\"]", org);
        }
        const char *src = jstr(si, "source");
        if (src && *src) {
            misp_puts(&x->o, ",\"x_misp_source\":");
            misp_json_str(&x->o, src);
        }
        marking(x, s->tlp);
        misp_puts(&x->o, "}");
        x->c->st->sightings++;
        rc = misp_emit(x);
    }
    return rc;
}

static int proposals(ev *x, const ajson_value *list, const char *of, const char *path,
                     const char *tlp);

/*
 * MISP numbers attributes within its instance ("id"), and an event-level proposal to change an
 * existing attribute names it only by that number ("old_id"; 0 for a proposed new attribute).
 * So the SDO each attribute became is noted under its number, and the event's proposals, mapped
 * after every attribute, look it up.
 */
static void note_attribute_sdo(ev *x, const ajson_value *num, const char *id)
{
    int64_t n;
    if (!x->need_byid || !vint(num, &n) || n <= 0 ||
        u64map_get(&x->byid, u64map_key((uint64_t)n), NULL))
        return;
    size_t at = x->sdo_ids.len;
    if (misp_put(&x->sdo_ids, id, strlen(id) + 1) == 0)
        u64map_put(&x->byid, u64map_key((uint64_t)n), at + 1);
}

/* The SDO of the attribute an event-level proposal names by "old_id", or NULL. */
static const char *proposed_for(ev *x, const ajson_value *p)
{
    int64_t n;
    uint64_t at;
    if (!jint(p, "old_id", &n) || n <= 0 || !u64map_get(&x->byid, u64map_key((uint64_t)n), &at))
        return NULL;
    return x->sdo_ids.p + at - 1;
}

/* Writes group g as an indicator or an observed-data (with SCOs), then its galaxies, sightings
 * and proposals; the SDO's id into id (128 bytes).  type/value name the custom fallback. */
static int write_group(ev *x, const gsrc *s, const group *g, const char *type,
                       const char *value, char *id)
{
    int rc = 0;
    if (s->to_ids && (g->n || g->pattern_type)) {
        rc = write_indicator(x, s, g, id, 128);
    } else if (g->n && write_observed(x, s, g, id, 128, &rc) == 1) {
        rc = write_custom(x, s, type, value, id, 128); /* no valid SCO from the facts */
    } else if (!g->n) {
        rc = write_custom(x, s, type, value, id, 128);
    }
    if (rc)
        return rc;
    if (s->deleted)
        x->c->st->revoked++;
    misp_add_ref(&x->refs, id);
    if (!s->object)
        note_attribute_sdo(x, s->f[F_ID], id);
    if (x->need_sdo && strncmp(id, "x-misp", 6) != 0 && strlen(s->uuid) == 36) {
        char lc[37];
        for (int i = 0; i < 37; i++)
            lc[i] = (char)tolower((unsigned char)s->uuid[i]);
        u64map_put(&x->sdo, u64map_key(XXH3_64bits(lc, 36)), id[0] == 'i' ? 1 : 2);
    }
    rc = galaxies(x, s->f[F_GALAXY], id, strncmp(id, "indicator--", 11) == 0, s->ts);
    if (rc == 0 && strncmp(id, "x-misp", 6) != 0)
        rc = sightings(x, s, id);
    if (rc == 0 && s->proposals)
        rc = proposals(x, s->proposals, id, s->path, s->tlp);
    return rc;
}

/*
 * "prefix" + v + '"' into out (len bytes), cut as snprintf would: misp:type="ip-dst".  When v
 * is printable ASCII without '"' or '\\' and nothing is cut, out is that label as JSON text
 * instead ("\"misp:type=\\\"ip-dst\\\"\""), which labels() copies as it is: escaping the
 * same few labels for every SDO was 4% of the mapper.  prefix ends with its only '"'.
 */
static const char *label_kv(char *out, size_t len, const char *prefix, const char *v)
{
    size_t n = strlen(prefix), k = v ? strlen(v) : 0;
    if (n + k + 6 <= len && misp_ascii_plain(v ? v : "", k) == 1) {
        out[0] = '"';
        memcpy(out + 1, prefix, n - 1);
        memcpy(out + n, "\\\"", 2);
        if (k)
            memcpy(out + n + 2, v, k);
        memcpy(out + n + 2 + k, "\\\"\"", 4); /* and the NUL */
        return out;
    }
    if (n > len - 1)
        n = len - 1;
    memcpy(out, prefix, n);
    if (k > len - 1 - n)
        k = len - 1 - n;
    if (k)
        memcpy(out + n, v, k);
    n += k;
    if (n < len - 1)
        out[n++] = '"';
    out[n] = 0;
    return out;
}

/* The SDO source of an attribute a (tags and TLP its own, else the event's). */
static void attr_src(ev *x, const ajson_value *a, gsrc *s, char *l1, char *l2, size_t llen,
                     int *rc)
{
    memset(s, 0, sizeof(*s));
    s->a = a;
    fields_read(a, s->f);
    s->uuid = ajson_str(s->f[F_UUID]);
    s->label1 = label_kv(l1, llen, "misp:type=\"", ajson_str(s->f[F_TYPE]));
    s->label2 = label_kv(l2, llen, "misp:category=\"", ajson_str(s->f[F_CATEGORY]));
    s->to_ids = vtrue(s->f[F_TO_IDS]);
    s->deleted = vtrue(s->f[F_DELETED]);
    if (!vepoch(s->f[F_TIMESTAMP], &s->ts))
        s->ts = x->ts;
    s->tags = s->f[F_TAG];
    s->tlp = s->tags ? tlp_of(x, s->tags, rc) : NULL;
    if (!s->tlp)
        s->tlp = x->tlp;
}

/* Reports a skipped attribute; ACCORD_ESTIX in strict mode (the event fails), else 0. */
static int skip_attribute(ev *x)
{
    x->c->st->bad++;
    return x->c->strict ? (x->failed = 1, ACCORD_ESTIX) : 0;
}

/*
 * MISP proposals (ShadowAttribute): another organisation's suggested change to an attribute
 * (listed in the attribute, `of` its SDO), or a suggested new attribute (listed in the event).
 * MISP has not accepted them, so they are never indicators, which exports and matching would
 * use: each becomes an x-misp-proposal custom object created by the proposing organisation,
 * with the proposed type, category, value and to_ids, x_misp_attribute_ref to what it would
 * change and x_misp_proposal_to_delete when it proposes a deletion.
 */
static int proposals(ev *x, const ajson_value *list, const char *of, const char *path,
                     const char *tlp)
{
    int rc = 0;
    for (size_t i = 0; list && list->type == AJSON_ARRAY && i < list->len && rc == 0; i++) {
        const ajson_value *p = &list->u.items[i];
        const char *type = jstr(p, "type"), *value = jstr(p, "value");
        char l1[200], l2[200], org[128], id[128], duuid[37], saved[128];
        gsrc s;
        attr_src(x, p, &s, l1, l2, sizeof(l1), &rc);
        if (rc)
            break;
        if (!ajson_get(p, "Tag"))
            s.tlp = tlp;
        if (!type || !value) {
            report_error(x, "%s%sShadowAttribute[%zu]: no type or no value; proposal skipped", path,
                         path[0] ? "." : "", i);
            rc = skip_attribute(x);
            continue;
        }
        if (!uuid_ok(s.uuid)) { /* named by its place and content, like attributes */
            char name[600];
            snprintf(name, sizeof(name), "%s/%s/ShadowAttribute[%zu]/%s/%.400s", x->uuid, path, i,
                     type, value);
            derived_uuid(name, duuid);
            s.uuid = duuid;
        }
        if ((rc = org_identity(x, ajson_get(p, "Org"), org, sizeof(org))))
            break;
        snprintf(saved, sizeof(saved), "%s", x->creator);
        if (org[0])
            snprintf(x->creator, sizeof(x->creator), "%s", org);
        sdo_open(x, &s, "x-misp-proposal", id, sizeof(id));
        snprintf(x->creator, sizeof(x->creator), "%s", saved);
        custom_body(x, &s, "misp:proposal", type, value);
        if (jtrue(p, "proposal_to_delete"))
            misp_puts(&x->o, ",\"x_misp_proposal_to_delete\":true");
        const char *target = of ? of : proposed_for(x, p);
        if (target)
            plain_prop(&x->o, "x_misp_attribute_ref", target);
        common_tail(x, &s, 0);
        misp_put(&x->o, "}", 1);
        x->c->st->proposals++;
        misp_add_ref(&x->refs, id);
        rc = misp_emit(x);
    }
    return rc;
}

/* One standalone attribute (or an object's attribute mapped alone). */
static int map_attribute(ev *x, const ajson_value *a, const char *path)
{
    char l1[200], l2[200];
    gsrc s;
    int rc = 0;
    x->c->st->attributes++;
    attr_src(x, a, &s, l1, l2, sizeof(l1), &rc);
    attribute_warnings(x, s.f[F_UUID], s.f[F_TO_IDS], path); /* members read once, above */
    copy_text(s.path, sizeof(s.path), path);
    if (rc)
        return rc;
    const char *type = ajson_str(s.f[F_TYPE]), *value = ajson_str(s.f[F_VALUE]);
    if (value && x->c->on_value)
        x->c->on_value(x->c->value_ud, x->uuid, value);
    if (!type || !value) {
        report_error(x, "%s (uuid %s): %s; attribute skipped", path, s.uuid ? s.uuid : "none",
                     !type ? "no type" : "no value (a string)");
        return skip_attribute(x);
    }
    char duuid[37];
    if (!uuid_ok(s.uuid)) { /* a template without uuids: named by its place and content */
        char name[600];
        snprintf(name, sizeof(name), "%s/%s/%s/%.400s", x->uuid, path, type, value);
        derived_uuid(name, duuid);
        s.uuid = duuid;
    }
    group g;
    misp_group_init(&g);
    const char *why = NULL;
    if (misp_attr_facts(x, type, value, &g, &why) < 0) {
        report_error(x, "%s (uuid %s): value \"%.200s\" %s for type %s; attribute skipped", path,
                     s.uuid, value, why ? why : "is invalid", type);
        return skip_attribute(x);
    }
    if (g.vulnerability) {
        char id[128];
        rc = write_vulnerability(x, &s, value, id, sizeof(id));
        if (rc == 0) {
            misp_add_ref(&x->refs, id);
            note_attribute_sdo(x, s.f[F_ID], id);
            rc = galaxies(x, s.f[F_GALAXY], id, 0, s.ts);
        }
        if (rc == 0)
            rc = proposals(x, s.f[F_SHADOW], id, path, s.tlp);
        return rc;
    }
    if (g.pattern_type && !s.to_ids)
        g.pattern_type = NULL; /* a rule not for detection: kept as it is */
    char id[128];
    s.proposals = s.f[F_SHADOW];
    return write_group(x, &s, &g, type, value, id);
}

/* The SDO source of MISP object o (the oi-th of its event). */
static void object_src(ev *x, const ajson_value *o, size_t oi, gsrc *s, char *duuid, char *l1,
                       char *l2, size_t llen)
{
    const char *name = jstr(o, "name");
    memset(s, 0, sizeof(*s));
    s->a = o;
    fields_read(o, s->f);
    s->object = 1;
    s->uuid = ajson_str(s->f[F_UUID]);
    if (!uuid_ok(s->uuid)) {
        char nm[200];
        snprintf(nm, sizeof(nm), "%s/Object[%zu]/%s", x->uuid, oi, name ? name : "");
        derived_uuid(nm, duuid);
        s->uuid = duuid;
    }
    s->label1 = label_kv(l1, llen, "misp:name=\"", name);
    s->label2 = label_kv(l2, llen, "misp:meta-category=\"", ajson_str(s->f[F_META_CATEGORY]));
    if (!vepoch(s->f[F_TIMESTAMP], &s->ts))
        s->ts = x->ts;
    s->deleted = vtrue(s->f[F_DELETED]);
    s->tlp = x->tlp;
    snprintf(s->path, sizeof(s->path), "Object[%zu]", oi);
}

/*
 * An object's attributes carry its TLP, as MISP tags them (objects have no tags of their own):
 * the strictest TLP tag of the attributes in its group marks the group's SDO instead of the
 * event's.  s->tlp starts as the event's; the first tag found replaces it, a stricter one after.
 */
static void group_tlp(ev *x, gsrc *s, const ajson_value *tags, int *rc)
{
    const char *t = tags ? tlp_of(x, tags, rc) : NULL;
    if (!t)
        return;
    if (!s->own_tlp || tlp_rank(t) > tlp_rank(s->tlp))
        s->tlp = t;
    s->own_tlp = 1;
}

/* One MISP object: a table's group, and its other attributes one by one. */
static int map_object(ev *x, const ajson_value *o, size_t oi)
{
    const char *name = jstr(o, "name");
    const ajson_value *attrs = ajson_get(o, "Attribute");
    size_t na = attrs && attrs->type == AJSON_ARRAY ? attrs->len : 0;
    char path[64], l1[200], l2[200], duuid[37];
    int rc = 0;
    x->c->st->objects++;
    group g;
    misp_group_init(&g);
    unsigned char *in = calloc(na ? na : 1, 1); /* 1: the attribute went into the group */
    if (!in)
        return ACCORD_ENOMEM;
    gsrc s;
    object_src(x, o, oi, &s, duuid, l1, l2, sizeof(l1));
    size_t ingroup = 0;
    for (size_t i = 0; i < na; i++) {
        const ajson_value *a = &attrs->u.items[i];
        const char *v = jstr(a, "value"), *rel = jstr(a, "object_relation"), *why;
        if (!v || jtrue(a, "deleted"))
            continue;
        if (x->c->on_value) /* told again if mapped on its own: a set sees it once */
            x->c->on_value(x->c->value_ud, x->uuid, v);
        int r = misp_object_fact(&g, name, rel, v, &why);
        if (r > 0)
            continue;
        in[i] = r < 0 ? 2 : 1; /* 2: reported and skipped */
        if (r < 0) {
            x->c->st->attributes++;
            report_error(x, "Object[%zu].Attribute[%zu] (uuid %s, %s): value \"%.200s\" %s; "
                            "attribute skipped",
                         oi, i, jstr(a, "uuid") ? jstr(a, "uuid") : "none", rel, v, why);
            if ((rc = skip_attribute(x)))
                break;
            continue;
        }
        ingroup++;
        snprintf(path, sizeof(path), "Object[%zu].Attribute[%zu]", oi, i);
        const ajson_value *to_ids = ajson_get(a, "to_ids"); /* looked up once for both */
        attribute_warnings(x, ajson_get(a, "uuid"), to_ids, path);
        s.to_ids |= vtrue(to_ids);
        group_tlp(x, &s, ajson_get(a, "Tag"), &rc);
        if (rc) /* the marking's emit failed: nothing more may be emitted */
            break;
        int64_t ats;
        if (jepoch(a, "timestamp", &ats) && ats > s.ts)
            s.ts = ats;
    }
    /* a domain-ip without its domain, a network-traffic without an end: map one by one */
    int usable = rc == 0 && ingroup && !(strcmp(g.root, "domain-name") == 0 && g.f[0].p != P_VALUE);
    if (usable) {
        char id[128];
        x->c->st->attributes += ingroup;
        const char *ot = name ? name : "object";
        rc = write_group(x, &s, &g, ot, ot, id);
        for (size_t i = 0; i < na && rc == 0; i++) { /* proposals about the grouped attributes */
            const ajson_value *sh = ajson_get(&attrs->u.items[i], "ShadowAttribute");
            if (in[i] == 1)
                note_attribute_sdo(x, ajson_get(&attrs->u.items[i], "id"), id);
            if (in[i] != 1 || !sh)
                continue;
            snprintf(path, sizeof(path), "Object[%zu].Attribute[%zu]", oi, i);
            rc = proposals(x, sh, id, path, s.tlp);
        }
    } else {
        memset(in, 0, na ? na : 1);
    }
    for (size_t i = 0; i < na && rc == 0; i++) {
        if (in[i])
            continue;
        snprintf(path, sizeof(path), "Object[%zu].Attribute[%zu]", oi, i);
        rc = map_attribute(x, &attrs->u.items[i], path);
    }
    free(in);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* The event                                                                                  */

static int write_report(ev *x)
{
    int64_t pub = 0, created = x->date && x->date < x->ts ? x->date : x->ts;
    char id[128], pt[40];
    sdo_id("report", x->uuid, id, sizeof(id));
    sdo_head(x, "report", id, created, x->ts);
    const char *info = jstr(x->e, "info");
    misp_puts(&x->o, ",\"name\":");
    misp_json_str(&x->o, info && *info ? info : x->uuid);
    if (!jepoch(x->e, "publish_timestamp", &pub) || pub <= 0)
        pub = x->ts;
    misp_epoch_ts(pub, pt, sizeof(pt));
    buf_printf(&x->o, ",\"published\":\"%s\",\"report_types\":[\"misp-event\"]", pt);
    if (!x->refs.len)
        misp_add_ref(&x->refs, x->creator[0] ? x->creator : id);
    if (x->refs.failed)
        return ACCORD_ENOMEM;
    misp_puts(&x->o, ",\"object_refs\":[");
    misp_put(&x->o, x->refs.p, x->refs.len);
    misp_puts(&x->o, "]");
    buf_free(&x->refs); /* a big event's list: not held twice while the store reads the report */
    char l1[64], l2[64];
    int64_t tl = 0, an = 0;
    jint(x->e, "threat_level_id", &tl);
    jint(x->e, "analysis", &an);
    snprintf(l1, sizeof(l1), "misp:threat_level_id=\"%lld\"", (long long)tl);
    snprintf(l2, sizeof(l2), "misp:analysis=\"%lld\"", (long long)an);
    const char *fixed[] = {l1, l2};
    labels(x, fixed, 2, ajson_get(x->e, "Tag"));
    buf_printf(&x->o, ",\"x_misp_published\":%s", jtrue(x->e, "published") ? "true" : "false");
    int64_t d;
    if (jint(x->e, "distribution", &d))
        buf_printf(&x->o, ",\"x_misp_distribution\":%lld", (long long)d);
    marking(x, x->tlp);
    misp_puts(&x->o, "}");
    return misp_emit(x);
}

/* "key[i]" into out (key at most 20 characters): a place in the event, for messages. */
static void index_path(char out[48], const char *key, size_t i)
{
    char num[24];
    size_t k = sizeof(num), n = strlen(key);
    do
        num[--k] = (char)('0' + i % 10);
    while ((i /= 10) && k);
    if (n > 20)
        n = 20;
    memcpy(out, key, n);
    out[n++] = '[';
    memcpy(out + n, num + k, sizeof(num) - k);
    n += sizeof(num) - k;
    out[n++] = ']';
    out[n] = 0;
}

/* Element i of list `objects` (0 Attribute, 1 Object): from the tree, or parsed from its span
 * into x->scratch (which the caller reset). */
static const ajson_value *list_item(ev *x, const ajson_value *l, int objects, size_t i, int *rc)
{
    const misp_lists *ls = x->c->lists;
    if (!ls)
        return &l->u.items[i];
    const misp_span *sp = &ls->v[objects][i];
    ajson_error jerr;
    const ajson_value *v = ajson_parse(&x->scratch, ls->text + sp->start, sp->end - sp->start, &jerr);
    if (!v && ls->fault) {
        ls->fault->at = sp->start + jerr.offset;
        snprintf(ls->fault->why, sizeof(ls->fault->why), "%s", jerr.msg);
        *rc = ACCORD_EJSON;
    } else if (!v) { /* checked before mapping began: only memory can fail here */
        *rc = ACCORD_ENOMEM;
    }
    return v;
}

static int map_list(ev *x, const char *key, int objects)
{
    const ajson_value *l = ajson_get(x->e, key);
    if (l && l->type != AJSON_ARRAY && !x->c->lists)
        report_warning(x, "%s: is a JSON %s, not a list; ignored", key, ajson_type_name(l->type));
    size_t n = x->c->lists ? x->c->lists->n[objects] : l && l->type == AJSON_ARRAY ? l->len : 0;
    int rc = 0;
    char path[48];
    for (size_t i = 0; i < n && rc == 0; i++) {
        ajson_arena_reset(&x->scratch);
        const ajson_value *it = list_item(x, l, objects, i, &rc);
        if (!it)
            break;
        if (it->type != AJSON_OBJECT) {
            x->c->st->bad++;
            report_error(x, "%s[%zu]: is a JSON %s, not an object; skipped", key, i,
                         ajson_type_name(it->type));
            continue;
        }
        if (objects && !ajson_get(it, "Attribute") && !ajson_get(it, "name") &&
            (ajson_get(it, "type") || ajson_get(it, "value"))) {
            report_warning(x, "%s[%zu]: an attribute (type, value) where an object (name, "
                              "Attribute list) is expected; skipped", key, i);
            continue;
        }
        if (objects) {
            rc = map_object(x, it, i);
        } else {
            index_path(path, key, i);
            rc = map_attribute(x, it, path);
        }
    }
    return rc;
}

int misp_map_event(misp_map_ctx *c, const ajson_value *e, size_t index)
{
    ev x;
    memset(&x, 0, sizeof(x));
    x.c = c;
    x.e = e;
    x.index = index;
    ajson_arena_init(&x.scratch, MISP_ELEMENT_CAP);
    x.tsc[0] = x.tsc[1] = -1;
    const char *uuid = jstr(e, "uuid");
    if (uuid_ok(uuid)) {
        snprintf(x.uuid, sizeof(x.uuid), "%s", uuid);
    } else if (uuid && *uuid) {
        derived_uuid(uuid, x.uuid);
    } else { /* an event template (PyMISP writes them): named by its content */
        XXH3_state_t *h = XXH3_createState();
        if (!h) {
            ajson_arena_free(&x.scratch);
            return ACCORD_ENOMEM;
        }
        XXH3_128bits_reset(h);
        event_hash(&x, h, e);
        XXH128_hash_t d = XXH3_128bits_digest(h);
        XXH3_freeState(h);
        char name[40];
        snprintf(name, sizeof(name), "%016llx%016llx", (unsigned long long)d.high64,
                 (unsigned long long)d.low64);
        derived_uuid(name, x.uuid);
    }
    for (char *p = x.uuid; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    int us;
    if (iso_parse(jstr(e, "date"), &x.date, &us) != 0)
        x.date = 0;
    /* no timestamp (a template): the date, or the publication, or the epoch */
    if (!jepoch(e, "timestamp", &x.ts) && !jepoch(e, "publish_timestamp", &x.ts))
        x.ts = x.date;
    buf_init(&x.o, MISP_OBJ_CAP);
    buf_init(&x.refs, MISP_REFS_CAP);
    buf_init(&x.tmp, MISP_OBJ_CAP);
    buf_init(&x.body, MISP_OBJ_CAP);
    buf_init(&x.hashes, MISP_OBJ_CAP);
    buf_init(&x.srefs, MISP_OBJ_CAP);
    u64map_init_set(&x.seen);
    u64map_init(&x.sdo);
    u64map_init(&x.byid);
    buf_init(&x.sdo_ids, MISP_REFS_CAP);
    u64map_init(&x.cltype);
    buf_init(&x.crels, MISP_REFS_CAP);
    int rc = 0;
    const ajson_value *esi = ajson_get(e, "Sighting"), *esh = ajson_get(e, "ShadowAttribute");
    x.need_sdo = esi && esi->type == AJSON_ARRAY && esi->len;
    x.need_byid = esh && esh->type == AJSON_ARRAY && esh->len;
    x.tlp = tlp_of(&x, ajson_get(e, "Tag"), &rc);
    const ajson_value *org = ajson_get(e, "Orgc") ? ajson_get(e, "Orgc") : ajson_get(e, "Org");
    char creator[sizeof(x.creator)];
    if (rc == 0 && (rc = org_identity(&x, org, creator, sizeof(creator))) == 0)
        memcpy(x.creator, creator, sizeof(creator));
    if (rc == 0)
        rc = map_list(&x, "Attribute", 0);
    if (rc == 0)
        rc = map_list(&x, "Object", 1);
    if (rc == 0) /* proposed new attributes */
        rc = proposals(&x, ajson_get(e, "ShadowAttribute"), NULL, "", x.tlp);
    if (rc == 0)
        rc = galaxies(&x, ajson_get(e, "Galaxy"), NULL, 0, x.ts);
    if (rc == 0) { /* sightings listed at the event level (the API's form) */
        gsrc s;
        memset(&s, 0, sizeof(s));
        s.tlp = x.tlp;
        rc = sightings_of(&x, &s, ajson_get(e, "Sighting"), NULL, 1);
    }
    if (rc == 0)
        rc = cluster_relations(&x);
    if (rc == 0)
        rc = write_report(&x);
    if (rc == 0)
        c->st->events++;
    buf_free(&x.o);
    buf_free(&x.refs);
    buf_free(&x.tmp);
    buf_free(&x.body);
    buf_free(&x.hashes);
    buf_free(&x.srefs);
    ajson_arena_free(&x.scratch);
    u64map_free(&x.seen);
    u64map_free(&x.sdo);
    u64map_free(&x.byid);
    buf_free(&x.sdo_ids);
    u64map_free(&x.cltype);
    buf_free(&x.crels);
    return rc;
}

int misp_event_of(const ajson_value *v, const ajson_value **out)
{
    if (!v || v->type != AJSON_OBJECT)
        return 0;
    const ajson_value *inner = ajson_get(v, "Event");
    if (inner && inner->type == AJSON_OBJECT) {
        *out = inner;
        return 1;
    }
    if (ajson_get(v, "info") || ajson_get(v, "Attribute") || ajson_get(v, "Object")) {
        *out = v;
        return 1;
    }
    return 0;
}

long misp_events(const ajson_value *root, int (*cb)(void *ud, const ajson_value *ev, size_t i),
                 void *ud, int *cb_rc)
{
    const ajson_value *e, *list = root;
    *cb_rc = 0;
    if (misp_event_of(root, &e))
        return (*cb_rc = cb(ud, e, 0)), 1;
    if (root && root->type == AJSON_OBJECT) {
        list = ajson_get(root, "response");
        if (!list || list->type != AJSON_ARRAY)
            return -1;
    }
    if (!list || list->type != AJSON_ARRAY)
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < list->len; i++)
        if (misp_event_of(&list->u.items[i], &e))
            n++;
    if (n == 0 && list->len)
        return -1;
    n = 0;
    for (size_t i = 0; i < list->len && *cb_rc == 0; i++)
        if (misp_event_of(&list->u.items[i], &e))
            *cb_rc = cb(ud, e, n++);
    return (long)n;
}
