/*
 * misp_map.c - one MISP event to STIX 2.1 objects, following the mapping of misp-stix (the MISP
 * project's own STIX export), so that a MISP user finds in accord what MISP's export gives.
 *
 * The unit of mapping is a *group*: a standalone attribute, or a MISP object whose name has a
 * table below (file, domain-ip, ip-port, network-connection, url, email, x509, registry-key).  A
 * group is a list of facts (SCO type, property, value), all about one root SCO type, so that:
 *   - a group with a to_ids attribute becomes one indicator whose STIX pattern is the AND of one
 *     comparison per fact, inside one observation expression;
 *   - any other group becomes one observed-data and the SCOs its facts describe (the root SCO
 *     plus the addresses it refers to).
 * Attributes of a known object whose relation has no table entry, and every attribute of an
 * object without a table, are mapped as standalone attributes labelled with their object, so
 * nothing of an object is lost and each value stays matchable on its own.  Types without a STIX
 * equivalent (text, comment, btc, ...) become x-misp-attribute custom objects and are counted by
 * type; a value that cannot be what its type says (ip-dst "foo") is reported and skipped.
 *
 * Ids are deterministic, so importing the same event twice writes nothing new: SDOs take the
 * MISP uuid of their attribute/object/event/org/cluster (type--uuid, as misp-stix does); SCOs and
 * relationships, which MISP does not name, take UUIDv5 ids over their group's uuid and content.
 * Versions follow MISP's timestamps: modified = the attribute's (or object's, event's) timestamp,
 * so an edited event yields new versions of what changed and duplicates of the rest; a deleted
 * attribute yields a revoked version.  Identities and galaxy clusters carry the event timestamp:
 * the newest event's view of them is their latest version.
 *
 * Deviations from misp-stix, on purpose: ip-src/ip-dst patterns are [ipv4-addr:value = '...']
 * (misp-stix writes network-traffic:dst_ref.value), because accord's matcher and defender
 * exports index address comparisons; the direction is kept in the misp:type label.
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
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define MAX_FACTS 64
#define OBJ_CAP ((size_t)96 << 20)
#define REFS_CAP ((size_t)512 << 20)

/* The namespace of accord's UUIDv5 ids for what MISP does not name (fixed forever). */
static const unsigned char MISP_NS[16] = {0x6f, 0x1c, 0x3e, 0x8a, 0x52, 0x0b, 0x4d, 0x21,
                                          0x9c, 0x6e, 0x3b, 0x7d, 0x14, 0xa0, 0x58, 0xe2};

typedef enum prop {
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
} prop;

typedef struct fact {
    prop p;
    const char *hkey; /* P_HASH: the STIX hash name */
    const char *v;    /* the value as text (numbers too) */
    int num;          /* 1: written as an integer */
    char digits[24];  /* a number's canonical text (no leading zeros: JSON forbids them) */
} fact;

typedef struct group {
    const char *root; /* root SCO type of the facts */
    fact f[MAX_FACTS];
    size_t n;
    const char *pattern_type; /* non-NULL: the value is a pattern in that language (snort...) */
    const char *sig;          /* that pattern */
} group;

/* One event's mapping state. */
typedef struct ev {
    misp_map_ctx *c;
    const ajson_value *e;
    size_t index;
    char uuid[40];
    char creator[128]; /* identity id, "" when the event names no org */
    int64_t ts, date; /* event timestamp; date at midnight (seconds) */
    const char *tlp;  /* the event's marking id, or NULL */
    buf o;            /* the object being written */
    buf refs;         /* the report's object_refs, comma-separated quoted ids */
    buf tmp;          /* scratch: patterns, split values */
    ajson_arena scratch;
    u64map seen; /* ids written in this event (identities, clusters, markings, SCOs) */
    u64map sdo;  /* attribute uuid hash -> 1 indicator, 2 observed-data (for event sightings) */
    int failed;  /* strict mode met a bad attribute */
} ev;

/* ------------------------------------------------------------------------------------------ */
/* Small helpers                                                                              */

static const char *jstr(const ajson_value *o, const char *k)
{
    return ajson_str(ajson_get(o, k));
}

/* MISP writes numbers and booleans as strings or as JSON values, depending on its version. */
static int jint(const ajson_value *o, const char *k, int64_t *out)
{
    const ajson_value *v = ajson_get(o, k);
    if (!v)
        return 0;
    if (v->type == AJSON_NUMBER)
        return ajson_int(v, out);
    if (v->type != AJSON_STRING || v->len == 0 || v->len > 18)
        return 0;
    int64_t n = 0;
    for (size_t i = 0; i < v->len; i++) {
        if (!isdigit((unsigned char)v->u.str[i]))
            return 0;
        n = n * 10 + (v->u.str[i] - '0');
    }
    *out = n;
    return 1;
}

static int jtrue(const ajson_value *o, const char *k)
{
    const ajson_value *v = ajson_get(o, k);
    int64_t n;
    if (!v)
        return 0;
    if (v->type == AJSON_TRUE)
        return 1;
    if (v->type == AJSON_STRING && strcasecmp(v->u.str, "true") == 0)
        return 1;
    return jint(o, k, &n) && n != 0;
}

/* The last second STIX timestamps can carry: 9999-12-31T23:59:59Z. */
#define MISP_EPOCH_MAX INT64_C(253402300799)

/* A MISP epoch-seconds field; 0 when it is absent or outside 1970..9999, which callers treat as absent. */
static int jepoch(const ajson_value *o, const char *k, int64_t *out)
{
    int64_t n;
    if (!jint(o, k, &n) || n < 0 || n > MISP_EPOCH_MAX)
        return 0;
    *out = n;
    return 1;
}

void misp_epoch_ts(int64_t s, char *out, size_t outlen)
{
    if (s < 0)
        s = 0;
    if (s > MISP_EPOCH_MAX)
        s = MISP_EPOCH_MAX;
    ts_format_us(s * 1000000, out, outlen);
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

static void ts_text(int64_t s, int us, char *out, size_t outlen)
{
    ts_format_us(s * 1000000 + us, out, outlen);
}

static int uuid_ok(const char *u)
{
    if (!u || strlen(u) != 36)
        return 0;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (u[i] != '-')
                return 0;
        } else if (!isxdigit((unsigned char)u[i])) {
            return 0;
        }
    }
    return u[14] >= '1' && u[14] <= '5' && strchr("89abAB", u[19]) != NULL;
}

void misp_uuid5_id(const char *type, const char *name, size_t len, char *out, size_t outlen)
{
    unsigned char h[20];
    gnutls_hash_hd_t hd;
    memset(h, 0, sizeof(h));
    if (gnutls_hash_init(&hd, GNUTLS_DIG_SHA1) == 0) {
        gnutls_hash(hd, MISP_NS, sizeof(MISP_NS));
        gnutls_hash(hd, name, len);
        gnutls_hash_deinit(hd, h);
    }
    h[6] = (unsigned char)((h[6] & 0x0f) | 0x50);
    h[8] = (unsigned char)((h[8] & 0x3f) | 0x80);
    snprintf(out, outlen,
             "%s--%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", type,
             h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8], h[9], h[10], h[11], h[12],
             h[13], h[14], h[15]);
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

/* "type--uuid" from a MISP uuid (lower-cased), or from UUIDv5 of it when it is not a UUID. */
static void sdo_id(const char *type, const char *uuid, char *out, size_t outlen)
{
    if (uuid_ok(uuid)) {
        int n = snprintf(out, outlen, "%s--%s", type, uuid);
        for (int i = n - 36; n > 36 && i < n; i++)
            out[i] = (char)tolower((unsigned char)out[i]);
    } else {
        misp_uuid5_id(type, uuid ? uuid : "", uuid ? strlen(uuid) : 0, out, outlen);
    }
}

/* 1 the first time id is seen in this event. */
static int first_time(ev *x, const char *id)
{
    uint64_t k = u64map_key(XXH3_64bits(id, strlen(id)));
    if (u64map_get(&x->seen, k, NULL))
        return 0;
    u64map_put(&x->seen, k, 1);
    return 1;
}

static char *scratch_dup(ev *x, const char *s, size_t len)
{
    char *p = ajson_arena_alloc(&x->scratch, len + 1);
    if (p) {
        memcpy(p, s, len);
        p[len] = 0;
    }
    return p;
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
    a->bad += b->bad;
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

static int emit(ev *x)
{
    if (x->o.failed)
        return ACCORD_ENOMEM;
    return x->c->emit(x->c->ud, x->o.p, x->o.len);
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
    if (first_time(x, t->id)) {
        buf_reset(&x->o);
        buf_printf(&x->o,
                   "{\"type\":\"marking-definition\",\"spec_version\":\"2.1\",\"id\":\"%s\","
                   "\"created\":\"2022-10-01T00:00:00.000Z\",\"name\":\"%s\",\"extensions\":{"
                   "\"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d\":{"
                   "\"extension_type\":\"property-extension\",\"tlp_2_0\":\"%s\"}}}",
                   t->id, t->name, t->color);
        *rc = emit(x);
    }
    return t->id;
}

/* ------------------------------------------------------------------------------------------ */
/* Attribute types                                                                            */

enum kind {
    K_IP = 1, K_IP_PORT, K_DOMAIN, K_DOMAIN_IP, K_HOST_PORT, K_URL, K_EMAIL, K_EMAIL_SUBJECT,
    K_HASH, K_FILE_HASH, K_FILENAME, K_MUTEX, K_REGKEY, K_REGKEY_VALUE, K_AS, K_MAC, K_X509,
    K_PORT, K_UA, K_SIG, K_VULN, K_IMPHASH,
};

static const struct atype {
    const char *name;
    enum kind kind;
    const char *arg; /* hash name, direction, pattern language */
} atypes[] = {
    {"ip-src", K_IP, "src"},
    {"ip-dst", K_IP, "dst"},
    {"ip-src|port", K_IP_PORT, "src"},
    {"ip-dst|port", K_IP_PORT, "dst"},
    {"domain", K_DOMAIN, NULL},
    {"hostname", K_DOMAIN, NULL},
    {"domain|ip", K_DOMAIN_IP, NULL},
    {"hostname|port", K_HOST_PORT, NULL},
    {"url", K_URL, NULL},
    {"uri", K_URL, NULL},
    {"link", K_URL, NULL},
    {"email", K_EMAIL, NULL},
    {"email-src", K_EMAIL, NULL},
    {"email-dst", K_EMAIL, NULL},
    {"email-reply-to", K_EMAIL, NULL},
    {"target-email", K_EMAIL, NULL},
    {"whois-registrant-email", K_EMAIL, NULL},
    {"email-subject", K_EMAIL_SUBJECT, NULL},
    {"md5", K_HASH, "MD5"},
    {"sha1", K_HASH, "SHA-1"},
    {"sha256", K_HASH, "SHA-256"},
    {"sha512", K_HASH, "SHA-512"},
    {"sha3-256", K_HASH, "SHA3-256"},
    {"sha3-512", K_HASH, "SHA3-512"},
    {"ssdeep", K_HASH, "SSDEEP"},
    {"tlsh", K_HASH, "TLSH"},
    {"filename|md5", K_FILE_HASH, "MD5"},
    {"filename|sha1", K_FILE_HASH, "SHA-1"},
    {"filename|sha256", K_FILE_HASH, "SHA-256"},
    {"filename|sha512", K_FILE_HASH, "SHA-512"},
    {"filename|sha3-256", K_FILE_HASH, "SHA3-256"},
    {"filename|sha3-512", K_FILE_HASH, "SHA3-512"},
    {"filename|ssdeep", K_FILE_HASH, "SSDEEP"},
    {"filename|tlsh", K_FILE_HASH, "TLSH"},
    {"malware-sample", K_FILE_HASH, "MD5"},
    {"filename", K_FILENAME, NULL},
    {"email-attachment", K_FILENAME, NULL},
    {"mutex", K_MUTEX, NULL},
    {"regkey", K_REGKEY, NULL},
    {"regkey|value", K_REGKEY_VALUE, NULL},
    {"AS", K_AS, NULL},
    {"mac-address", K_MAC, NULL},
    {"x509-fingerprint-md5", K_X509, "MD5"},
    {"x509-fingerprint-sha1", K_X509, "SHA-1"},
    {"x509-fingerprint-sha256", K_X509, "SHA-256"},
    {"imphash", K_IMPHASH, NULL},
    {"port", K_PORT, NULL},
    {"user-agent", K_UA, NULL},
    {"snort", K_SIG, "snort"},
    {"yara", K_SIG, "yara"},
    {"sigma", K_SIG, "sigma"},
    {"vulnerability", K_VULN, NULL},
};

static const struct atype *atype_find(const char *name)
{
    for (size_t i = 0; name && i < sizeof(atypes) / sizeof(atypes[0]); i++)
        if (strcmp(atypes[i].name, name) == 0)
            return &atypes[i];
    return NULL;
}

/* "ipv4-addr" or "ipv6-addr" for an address or CIDR, NULL for anything else. */
static const char *ip_type(const char *v)
{
    char a[64];
    unsigned char bin[16];
    const char *slash = strchr(v, '/');
    size_t n = slash ? (size_t)(slash - v) : strlen(v);
    if (n == 0 || n >= sizeof(a))
        return NULL;
    memcpy(a, v, n);
    a[n] = 0;
    int fam = strchr(a, ':') ? AF_INET6 : AF_INET;
    if (inet_pton(fam, a, bin) != 1)
        return NULL;
    if (slash) {
        char *end;
        long p = strtol(slash + 1, &end, 10);
        if (*end || end == slash + 1 || p < 0 || p > (fam == AF_INET ? 32 : 128))
            return NULL;
    }
    return fam == AF_INET ? "ipv4-addr" : "ipv6-addr";
}

static int hash_ok(const char *key, const char *v)
{
    static const struct {
        const char *k;
        size_t len;
    } lens[] = {{"MD5", 32},      {"SHA-1", 40},    {"SHA-256", 64},
                {"SHA-512", 128}, {"SHA3-256", 64}, {"SHA3-512", 128}};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        if (strcmp(lens[i].k, key))
            continue;
        if (strlen(v) != lens[i].len)
            return 0;
        for (const char *p = v; *p; p++)
            if (!isxdigit((unsigned char)*p))
                return 0;
        return 1;
    }
    return *v != 0;
}

static int uint_ok(const char *v, uint64_t max)
{
    uint64_t n = 0;
    if (!*v || strlen(v) > 10)
        return 0;
    for (const char *p = v; *p; p++) {
        if (!isdigit((unsigned char)*p))
            return 0;
        n = n * 10 + (uint64_t)(*p - '0');
    }
    return n <= max;
}

static int add_fact(group *g, prop p, const char *hkey, const char *v, int num)
{
    if (g->n >= MAX_FACTS)
        return -1;
    fact *f = &g->f[g->n++];
    memset(f, 0, sizeof(*f));
    f->p = p;
    f->hkey = hkey;
    f->v = v;
    f->num = num;
    if (num) { /* validated digits: "0080" -> "80" */
        snprintf(f->digits, sizeof(f->digits), "%llu", strtoull(v, NULL, 10));
        f->v = f->digits;
    }
    return 0;
}

/* Splits "a|b" (MISP composite values) at the first '|' into scratch copies. */
static int split2(ev *x, const char *v, const char **a, const char **b)
{
    const char *bar = strchr(v, '|');
    if (!bar)
        return -1;
    *a = scratch_dup(x, v, (size_t)(bar - v));
    *b = scratch_dup(x, bar + 1, strlen(bar + 1));
    return *a && *b ? 0 : -1;
}

/*
 * Facts of one attribute value of type t into g (whose root is set when empty).  Returns 0, or
 * -1 with *why set when the value cannot be of the type.
 */
static int attr_facts(ev *x, const struct atype *t, const char *v, group *g, const char **why)
{
    const char *a, *b, *it;
    *why = NULL;
    switch (t->kind) {
    case K_IP:
        if (!(it = ip_type(v)))
            return *why = "is not an IP address or CIDR", -1;
        g->root = it;
        return add_fact(g, P_VALUE, NULL, v, 0);
    case K_IP_PORT:
        if (split2(x, v, &a, &b) || !ip_type(a) || !uint_ok(b, 65535))
            return *why = "is not ADDRESS|PORT", -1;
        g->root = "network-traffic";
        add_fact(g, strcmp(t->arg, "src") ? P_DST : P_SRC, NULL, a, 0);
        return add_fact(g, strcmp(t->arg, "src") ? P_DPORT : P_SPORT, NULL, b, 1);
    case K_DOMAIN:
        if (!*v || strpbrk(v, " /\t"))
            return *why = "is not a domain name", -1;
        g->root = "domain-name";
        return add_fact(g, P_VALUE, NULL, v, 0);
    case K_DOMAIN_IP:
        if (split2(x, v, &a, &b) || !*a || !ip_type(b))
            return *why = "is not DOMAIN|ADDRESS", -1;
        g->root = "domain-name";
        add_fact(g, P_VALUE, NULL, a, 0);
        return add_fact(g, P_RESOLVES, NULL, b, 0);
    case K_HOST_PORT:
        if (split2(x, v, &a, &b) || !*a || !uint_ok(b, 65535))
            return *why = "is not HOST|PORT", -1;
        g->root = "network-traffic";
        add_fact(g, P_DST, NULL, a, 0);
        return add_fact(g, P_DPORT, NULL, b, 1);
    case K_URL:
        if (!*v)
            return *why = "is empty", -1;
        g->root = "url";
        return add_fact(g, P_VALUE, NULL, v, 0);
    case K_EMAIL:
        if (!strchr(v, '@'))
            return *why = "is not an e-mail address", -1;
        g->root = "email-addr";
        return add_fact(g, P_VALUE, NULL, v, 0);
    case K_EMAIL_SUBJECT:
        g->root = "email-message";
        return add_fact(g, P_SUBJECT, NULL, v, 0);
    case K_HASH:
        if (!hash_ok(t->arg, v))
            return *why = "is not a hash of that kind", -1;
        g->root = "file";
        return add_fact(g, P_HASH, t->arg, v, 0);
    case K_FILE_HASH:
        if (split2(x, v, &a, &b) || !hash_ok(t->arg, b))
            return *why = "is not FILENAME|HASH", -1;
        g->root = "file";
        if (*a)
            add_fact(g, P_NAME, NULL, a, 0);
        return add_fact(g, P_HASH, t->arg, b, 0);
    case K_FILENAME:
        if (!*v)
            return *why = "is empty", -1;
        g->root = "file";
        return add_fact(g, P_NAME, NULL, v, 0);
    case K_MUTEX:
        g->root = "mutex";
        return add_fact(g, P_NAME, NULL, v, 0);
    case K_REGKEY:
        g->root = "windows-registry-key";
        return add_fact(g, P_KEY, NULL, v, 0);
    case K_REGKEY_VALUE:
        if (split2(x, v, &a, &b))
            return *why = "is not KEY|DATA", -1;
        g->root = "windows-registry-key";
        add_fact(g, P_KEY, NULL, a, 0);
        return add_fact(g, P_REGDATA, NULL, b, 0);
    case K_AS:
        a = (v[0] == 'A' || v[0] == 'a') && (v[1] == 'S' || v[1] == 's') ? v + 2 : v;
        if (!uint_ok(a, 4294967295u))
            return *why = "is not an AS number", -1;
        g->root = "autonomous-system";
        return add_fact(g, P_ASN, NULL, a, 1);
    case K_MAC: {
        char *m = scratch_dup(x, v, strlen(v));
        if (!m || strlen(m) != 17)
            return *why = "is not a MAC address", -1;
        for (int i = 0; i < 17; i++) {
            m[i] = (char)tolower((unsigned char)(m[i] == '-' ? ':' : m[i]));
            if (i % 3 == 2 ? m[i] != ':' : !isxdigit((unsigned char)m[i]))
                return *why = "is not a MAC address", -1;
        }
        g->root = "mac-addr";
        return add_fact(g, P_VALUE, NULL, m, 0);
    }
    case K_X509:
        if (!hash_ok(t->arg, v))
            return *why = "is not a certificate fingerprint of that kind", -1;
        g->root = "x509-certificate";
        return add_fact(g, P_HASH, t->arg, v, 0);
    case K_PORT:
        if (!uint_ok(v, 65535))
            return *why = "is not a port", -1;
        g->root = "network-traffic";
        return add_fact(g, P_DPORT, NULL, v, 1);
    case K_UA:
        g->root = "network-traffic";
        return add_fact(g, P_UA, NULL, v, 0);
    case K_IMPHASH:
        if (!hash_ok("MD5", v))
            return *why = "is not an MD5 imphash", -1;
        g->root = "file";
        return add_fact(g, P_IMPHASH, NULL, v, 0);
    case K_SIG:
        g->pattern_type = t->arg;
        g->sig = v;
        return 0;
    case K_VULN:
        return 0;
    }
    return *why = "has an unknown type", -1;
}

/* ------------------------------------------------------------------------------------------ */
/* Objects                                                                                    */

static const struct orel {
    const char *object, *relation;
    const char *root;
    prop p;
    const char *hkey;
} orels[] = {
    {"file", "filename", "file", P_NAME, NULL},
    {"file", "md5", "file", P_HASH, "MD5"},
    {"file", "sha1", "file", P_HASH, "SHA-1"},
    {"file", "sha256", "file", P_HASH, "SHA-256"},
    {"file", "sha512", "file", P_HASH, "SHA-512"},
    {"file", "ssdeep", "file", P_HASH, "SSDEEP"},
    {"file", "tlsh", "file", P_HASH, "TLSH"},
    {"file", "size-in-bytes", "file", P_SIZE, NULL},
    {"pe", "imphash", "file", P_IMPHASH, NULL},
    {"domain-ip", "domain", "domain-name", P_VALUE, NULL},
    {"domain-ip", "hostname", "domain-name", P_VALUE, NULL},
    {"domain-ip", "ip", "domain-name", P_RESOLVES, NULL},
    {"url", "url", "url", P_VALUE, NULL},
    {"ip-port", "ip", "network-traffic", P_DST, NULL},
    {"ip-port", "ip-dst", "network-traffic", P_DST, NULL},
    {"ip-port", "ip-src", "network-traffic", P_SRC, NULL},
    {"ip-port", "dst-port", "network-traffic", P_DPORT, NULL},
    {"ip-port", "src-port", "network-traffic", P_SPORT, NULL},
    {"network-connection", "ip-src", "network-traffic", P_SRC, NULL},
    {"network-connection", "ip-dst", "network-traffic", P_DST, NULL},
    {"network-connection", "hostname-dst", "network-traffic", P_DST, NULL},
    {"network-connection", "src-port", "network-traffic", P_SPORT, NULL},
    {"network-connection", "dst-port", "network-traffic", P_DPORT, NULL},
    {"network-connection", "layer4-protocol", "network-traffic", P_PROTO, NULL},
    {"email", "from", "email-message", P_FROM, NULL},
    {"email", "to", "email-message", P_TO, NULL},
    {"email", "subject", "email-message", P_SUBJECT, NULL},
    {"x509", "x509-fingerprint-md5", "x509-certificate", P_HASH, "MD5"},
    {"x509", "x509-fingerprint-sha1", "x509-certificate", P_HASH, "SHA-1"},
    {"x509", "x509-fingerprint-sha256", "x509-certificate", P_HASH, "SHA-256"},
    {"x509", "subject", "x509-certificate", P_SUBJECT, NULL},
    {"x509", "issuer", "x509-certificate", P_ISSUER, NULL},
    {"x509", "serial-number", "x509-certificate", P_SERIAL, NULL},
    {"registry-key", "key", "windows-registry-key", P_KEY, NULL},
    {"registry-key", "data", "windows-registry-key", P_REGDATA, NULL},
};

static const struct orel *orel_find(const char *object, const char *relation)
{
    for (size_t i = 0; object && relation && i < sizeof(orels) / sizeof(orels[0]); i++)
        if (strcmp(orels[i].object, object) == 0 && strcmp(orels[i].relation, relation) == 0)
            return &orels[i];
    return NULL;
}

/* The value check of an object relation's fact; NULL when fine. */
static const char *fact_check(const struct orel *r, const char *v)
{
    switch (r->p) {
    case P_HASH:
        return hash_ok(r->hkey, v) ? NULL : "is not a hash of that kind";
    case P_IMPHASH:
        return hash_ok("MD5", v) ? NULL : "is not an MD5 imphash";
    case P_RESOLVES:
    case P_SRC:
        return ip_type(v) ? NULL : "is not an IP address";
    case P_DST:
        return *v ? NULL : "is empty";
    case P_SPORT:
    case P_DPORT:
        return uint_ok(v, 65535) ? NULL : "is not a port";
    case P_SIZE:
        return uint_ok(v, 9999999999u) ? NULL : "is not a size";
    case P_FROM:
    case P_TO:
        return strchr(v, '@') ? NULL : "is not an e-mail address";
    default:
        return *v ? NULL : "is empty";
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Writing patterns and SCOs                                                                  */

/* The object path of fact f under root (without "root:"). */
static void fact_path(const char *root, const fact *f, char *out, size_t outlen)
{
    const char *p = "value";
    switch (f->p) {
    case P_VALUE: p = "value"; break;
    case P_NAME: p = "name"; break;
    case P_HASH: snprintf(out, outlen, "hashes.'%s'", f->hkey); return;
    case P_SIZE: p = "size"; break;
    case P_KEY: p = "key"; break;
    case P_REGDATA: p = "values[*].data"; break;
    case P_ASN: p = "number"; break;
    case P_SUBJECT: p = "subject"; break;
    case P_FROM: p = "from_ref.value"; break;
    case P_TO: p = "to_refs[*].value"; break;
    case P_RESOLVES: p = "resolves_to_refs[*].value"; break;
    case P_SRC: p = "src_ref.value"; break;
    case P_DST: p = "dst_ref.value"; break;
    case P_SPORT: p = "src_port"; break;
    case P_DPORT: p = "dst_port"; break;
    case P_PROTO: p = "protocols[*]"; break;
    case P_UA: p = "extensions.'http-request-ext'.request_header.'User-Agent'"; break;
    case P_ISSUER: p = "issuer"; break;
    case P_SERIAL: p = "serial_number"; break;
    case P_IMPHASH: p = "extensions.'windows-pebinary-ext'.imphash"; break;
    }
    (void)root;
    snprintf(out, outlen, "%s", p);
}

/* A STIX pattern string literal: quotes and backslashes escaped. */
static void pattern_lit(buf *b, const char *v)
{
    buf_add(b, "'", 1);
    for (const char *p = v; *p; p++) {
        if (*p == '\'' || *p == '\\')
            buf_add(b, "\\", 1);
        buf_add(b, p, 1);
    }
    buf_add(b, "'", 1);
}

/* The group's pattern into x->tmp: [root:path = 'v' AND ...]. */
static void write_pattern(ev *x, const group *g)
{
    buf_reset(&x->tmp);
    buf_add(&x->tmp, "[", 1);
    for (size_t i = 0; i < g->n; i++) {
        char path[96];
        fact_path(g->root, &g->f[i], path, sizeof(path));
        if (i)
            buf_adds(&x->tmp, " AND ");
        buf_printf(&x->tmp, "%s:%s = ", g->root, path);
        if (g->f[i].num)
            buf_adds(&x->tmp, g->f[i].v);
        else if (g->f[i].p == P_PROTO) {
            char lc[32];
            size_t k = 0;
            for (; g->f[i].v[k] && k + 1 < sizeof(lc); k++)
                lc[k] = (char)tolower((unsigned char)g->f[i].v[k]);
            lc[k] = 0;
            pattern_lit(&x->tmp, lc);
        } else
            pattern_lit(&x->tmp, g->f[i].v);
    }
    buf_add(&x->tmp, "]", 1);
}

static void sco_id(const char *type, const char *guuid, const char *v, char *out, size_t outlen)
{
    char name[1024];
    int n = snprintf(name, sizeof(name), "%s/%s/%s", guuid, type, v);
    misp_uuid5_id(type, name, n < (int)sizeof(name) ? (size_t)n : sizeof(name) - 1, out,
                  outlen);
}

/* Writes a value SCO (address, domain, e-mail) once; its id into id. */
static int value_sco(ev *x, const char *type, const char *guuid, const char *v, char *id,
                     size_t idlen)
{
    sco_id(type, guuid, v, id, idlen);
    if (!first_time(x, id))
        return 0;
    buf_reset(&x->o);
    buf_printf(&x->o, "{\"type\":\"%s\",\"spec_version\":\"2.1\",\"id\":\"%s\",\"value\":", type,
               id);
    buf_json_str(&x->o, v);
    buf_adds(&x->o, "}");
    return emit(x);
}

/* The SCO of a network-traffic end: an address, or a domain name. */
static int end_sco(ev *x, const char *guuid, const char *v, char *id, size_t idlen)
{
    const char *t = ip_type(v);
    return value_sco(x, t ? t : "domain-name", guuid, v, id, idlen);
}

/* Appends ,"id" to the list (refs) under construction. */
static void add_ref(buf *b, const char *id)
{
    buf_printf(b, "%s\"%s\"", b->len ? "," : "", id);
}

/*
 * Writes the SCOs of group g (sub-objects first, the root last) and their ids (JSON list items)
 * into ids.  Returns 0; 1 when the facts cannot make a valid SCO (a network-traffic without an
 * end); or an emit error.
 */
static int write_scos(ev *x, const group *g, const char *guuid, buf *ids)
{
    char id[128], sub[128];
    buf body; /* the root's properties after the common ones */
    buf_init(&body, OBJ_CAP);
    buf hashes, refs;
    buf_init(&hashes, 1 << 20);
    buf_init(&refs, OBJ_CAP);
    int rc = 0, have_end = 0;
    const char *first = g->n ? g->f[0].v : "";
    const char *list_prop = NULL;
    for (size_t i = 0; i < g->n && rc == 0; i++) {
        const fact *f = &g->f[i];
        switch (f->p) {
        case P_VALUE:
        case P_NAME:
        case P_KEY:
        case P_SUBJECT:
        case P_ISSUER:
        case P_SERIAL: {
            char path[96];
            fact_path(g->root, f, path, sizeof(path));
            buf_printf(&body, ",\"%s\":", path);
            buf_json_str(&body, f->v);
            break;
        }
        case P_HASH:
            buf_printf(&hashes, "%s\"%s\":", hashes.len ? "," : "", f->hkey);
            buf_json_str(&hashes, f->v);
            break;
        case P_SIZE:
        case P_ASN:
            buf_printf(&body, ",\"%s\":%s", f->p == P_SIZE ? "size" : "number", f->v);
            break;
        case P_SPORT:
        case P_DPORT:
            buf_printf(&body, ",\"%s\":%s", f->p == P_SPORT ? "src_port" : "dst_port", f->v);
            break;
        case P_REGDATA:
            buf_adds(&body, ",\"values\":[{\"data\":");
            buf_json_str(&body, f->v);
            buf_adds(&body, "}]");
            break;
        case P_PROTO:
            break;
        case P_UA:
        case P_IMPHASH: /* the extension needs pe_type, which MISP does not say */
            break;
        case P_RESOLVES:
        case P_TO:
            rc = f->p == P_TO ? value_sco(x, "email-addr", guuid, f->v, sub, sizeof(sub))
                              : end_sco(x, guuid, f->v, sub, sizeof(sub));
            add_ref(&refs, sub);
            add_ref(ids, sub);
            list_prop = f->p == P_TO ? "to_refs" : "resolves_to_refs";
            break;
        case P_FROM:
            rc = value_sco(x, "email-addr", guuid, f->v, sub, sizeof(sub));
            buf_printf(&body, ",\"from_ref\":\"%s\"", sub);
            add_ref(ids, sub);
            break;
        case P_SRC:
        case P_DST:
            rc = end_sco(x, guuid, f->v, sub, sizeof(sub));
            buf_printf(&body, ",\"%s\":\"%s\"", f->p == P_SRC ? "src_ref" : "dst_ref", sub);
            add_ref(ids, sub);
            have_end = 1;
            break;
        }
    }
    if (rc == 0 && strcmp(g->root, "network-traffic") == 0) {
        if (!have_end) {
            rc = 1;
            goto out;
        }
        buf_adds(&body, ",\"protocols\":[");
        int np = 0;
        for (size_t i = 0; i < g->n; i++)
            if (g->f[i].p == P_PROTO) {
                char lc[32];
                size_t k = 0;
                for (; g->f[i].v[k] && k + 1 < sizeof(lc); k++)
                    lc[k] = (char)tolower((unsigned char)g->f[i].v[k]);
                lc[k] = 0;
                buf_printf(&body, "%s", np++ ? "," : "");
                buf_json_str(&body, lc);
            }
        buf_adds(&body, np ? "]" : "\"tcp\"]");
    }
    if (rc == 0 && strcmp(g->root, "file") == 0 && !hashes.len && !strstr(body.p ? body.p : "", "\"name\""))
        rc = 1; /* a file SCO needs a name or hashes */
    if (rc == 0 && strcmp(g->root, "email-message") == 0)
        buf_adds(&body, ",\"is_multipart\":false");
    if (rc)
        goto out;
    sco_id(g->root, guuid, first, id, sizeof(id));
    if (first_time(x, id)) {
        buf_reset(&x->o);
        buf_printf(&x->o, "{\"type\":\"%s\",\"spec_version\":\"2.1\",\"id\":\"%s\"", g->root, id);
        if (body.len)
            buf_add(&x->o, body.p, body.len);
        if (hashes.len)
            buf_printf(&x->o, ",\"hashes\":{%s}", hashes.p);
        if (list_prop)
            buf_printf(&x->o, ",\"%s\":[%s]", list_prop, refs.p);
        buf_adds(&x->o, "}");
        rc = body.failed || hashes.failed || refs.failed ? ACCORD_ENOMEM : emit(x);
    }
    add_ref(ids, id);
out:
    buf_free(&body);
    buf_free(&hashes);
    buf_free(&refs);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* SDOs                                                                                       */

/* "type","spec_version","id","created_by_ref","created","modified" of an SDO, opening brace. */
static void sdo_head(ev *x, const char *type, const char *id, int64_t created, int64_t modified)
{
    char cr[40], mo[40];
    misp_epoch_ts(created, cr, sizeof(cr));
    misp_epoch_ts(modified, mo, sizeof(mo));
    buf_reset(&x->o);
    buf_printf(&x->o, "{\"type\":\"%s\",\"spec_version\":\"2.1\",\"id\":\"%s\"", type, id);
    if (x->creator[0])
        buf_printf(&x->o, ",\"created_by_ref\":\"%s\"", x->creator);
    buf_printf(&x->o, ",\"created\":\"%s\",\"modified\":\"%s\"", cr, mo);
}

/* ,"labels":[...] from the misp: labels and tag names. */
static void labels(ev *x, const char *const *fixed, size_t nfixed, const ajson_value *tags)
{
    int n = 0;
    buf_adds(&x->o, ",\"labels\":[");
    for (size_t i = 0; i < nfixed; i++) {
        buf_adds(&x->o, n++ ? "," : "");
        buf_json_str(&x->o, fixed[i]);
    }
    for (size_t i = 0; tags && tags->type == AJSON_ARRAY && i < tags->len; i++) {
        const char *name = jstr(&tags->u.items[i], "name");
        if (!name || !*name)
            continue;
        buf_adds(&x->o, n++ ? "," : "");
        buf_json_str(&x->o, name);
    }
    buf_adds(&x->o, "]");
}

static void marking(ev *x, const char *tlp)
{
    if (tlp)
        buf_printf(&x->o, ",\"object_marking_refs\":[\"%s\"]", tlp);
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
    if (!first_time(x, id))
        return 0;
    char saved[128];
    snprintf(saved, sizeof(saved), "%s", x->creator);
    x->creator[0] = 0;
    sdo_head(x, "identity", id, x->ts, x->ts);
    snprintf(x->creator, sizeof(x->creator), "%s", saved);
    buf_adds(&x->o, ",\"name\":");
    buf_json_str(&x->o, name);
    buf_adds(&x->o, ",\"identity_class\":\"organization\"}");
    return emit(x);
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
    buf_adds(&x->o, ",\"external_references\":[");
    for (size_t i = 0; ext && ext->type == AJSON_ARRAY && i < ext->len; i++) {
        const char *e = ajson_str(&ext->u.items[i]);
        if (!e || !*e)
            continue;
        buf_printf(&x->o, "%s{\"source_name\":\"%s\",\"external_id\":", n++ ? "," : "",
                   attack_id_ok(e) ? "mitre-attack" : "misp-galaxy");
        buf_json_str(&x->o, e);
        buf_adds(&x->o, "}");
    }
    for (size_t i = 0; refs && refs->type == AJSON_ARRAY && i < refs->len && i < 16; i++) {
        const char *u = ajson_str(&refs->u.items[i]);
        if (!u || strncmp(u, "http", 4) != 0 || strpbrk(u, " \t\r\n"))
            continue;
        buf_printf(&x->o, "%s{\"source_name\":\"url\",\"url\":", n++ ? "," : "");
        buf_json_str(&x->o, u);
        buf_adds(&x->o, "}");
    }
    if (!n) { /* the galaxy itself is the source */
        buf_adds(&x->o, "{\"source_name\":\"misp-galaxy\",\"description\":");
        buf_json_str(&x->o, value);
        buf_adds(&x->o, "}");
    }
    buf_adds(&x->o, "]");
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
        buf_adds(&x->o, n++ ? "," : ",\"kill_chain_phases\":[");
        buf_printf(&x->o, "{\"kill_chain_name\":\"%.*s\",\"phase_name\":", (int)(first - k), k);
        buf_json_str(&x->o, last + 1);
        buf_adds(&x->o, "}");
    }
    if (n)
        buf_adds(&x->o, "]");
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
    if (!first_time(x, id))
        return 0;
    x->c->st->clusters++;
    sdo_head(x, type, id, x->ts, x->ts);
    buf_adds(&x->o, ",\"name\":");
    buf_json_str(&x->o, value);
    const char *desc = jstr(cl, "description");
    if (desc && *desc) {
        buf_adds(&x->o, ",\"description\":");
        buf_json_str(&x->o, desc);
    }
    char l1[300], l2[300];
    snprintf(l1, sizeof(l1), "misp:galaxy-name=\"%s\"", gname ? gname : "");
    snprintf(l2, sizeof(l2), "misp:galaxy-type=\"%s\"", gtype ? gtype : "");
    const char *fixed[] = {l1, l2};
    labels(x, fixed, 2, NULL);
    const ajson_value *meta = ajson_get(cl, "meta");
    if (strcmp(type, "malware") == 0)
        buf_adds(&x->o, ",\"is_family\":true");
    const ajson_value *syn = ajson_get(meta, "synonyms");
    if (st && strcmp(type, "course-of-action") && syn && syn->type == AJSON_ARRAY && syn->len) {
        int n = 0;
        buf_adds(&x->o, ",\"aliases\":[");
        for (size_t i = 0; i < syn->len; i++)
            if (ajson_str(&syn->u.items[i]) && syn->u.items[i].len) {
                buf_adds(&x->o, n++ ? "," : "");
                buf_json_str(&x->o, syn->u.items[i].u.str);
            }
        if (!n)
            buf_json_str(&x->o, value);
        buf_adds(&x->o, "]");
    }
    cluster_refs(x, meta, value);
    if (!strcmp(type, "attack-pattern") || !strcmp(type, "malware") || !strcmp(type, "tool"))
        kill_chain(x, ajson_get(meta, "kill_chain"));
    marking(x, x->tlp);
    buf_adds(&x->o, "}");
    add_ref(&x->refs, id);
    return emit(x);
}

static int relationship(ev *x, const char *src, const char *type, const char *dst, int64_t ts)
{
    char id[128], name[300];
    int n = snprintf(name, sizeof(name), "%s|%s|%s", src, type, dst);
    misp_uuid5_id("relationship", name, (size_t)n, id, sizeof(id));
    if (!first_time(x, id))
        return 0;
    x->c->st->relationships++;
    sdo_head(x, "relationship", id, ts, ts);
    buf_printf(&x->o, ",\"relationship_type\":\"%s\",\"source_ref\":\"%s\",\"target_ref\":\"%s\"",
               type, src, dst);
    marking(x, x->tlp);
    buf_adds(&x->o, "}");
    add_ref(&x->refs, id);
    return emit(x);
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
typedef struct gsrc {
    const ajson_value *a; /* the attribute, or the object */
    const char *uuid;
    const char *label1, *label2; /* misp:type=... / misp:name=..., misp:category=... */
    int to_ids, deleted;
    int64_t ts;
    const ajson_value *tags;
    const char *tlp;
    char path[64];
} gsrc;

static void times(ev *x, const gsrc *s, int64_t *created, int64_t *fs, int *fs_us, int64_t *ls,
                  int *ls_us, int *has_fs, int *has_ls)
{
    *created = x->date && x->date < s->ts ? x->date : s->ts;
    *has_fs = iso_parse(jstr(s->a, "first_seen"), fs, fs_us) == 0;
    *has_ls = iso_parse(jstr(s->a, "last_seen"), ls, ls_us) == 0;
}

static void common_tail(ev *x, const gsrc *s)
{
    const char *comment = jstr(s->a, "comment");
    const char *dist = jstr(s->a, "distribution");
    int64_t d;
    if (comment && *comment) {
        buf_adds(&x->o, ",\"description\":");
        buf_json_str(&x->o, comment);
    }
    if (dist)
        buf_printf(&x->o, ",\"x_misp_distribution\":%ld", uint_ok(dist, 5) ? strtol(dist, NULL, 10) : 5L);
    else if (jint(s->a, "distribution", &d))
        buf_printf(&x->o, ",\"x_misp_distribution\":%lld", (long long)d);
    if (s->deleted)
        buf_adds(&x->o, ",\"revoked\":true");
    marking(x, s->tlp);
}

static int write_indicator(ev *x, const gsrc *s, const group *g, char *id, size_t idlen)
{
    int64_t created, fs, ls;
    int fs_us, ls_us, has_fs, has_ls;
    times(x, s, &created, &fs, &fs_us, &ls, &ls_us, &has_fs, &has_ls);
    sdo_id("indicator", s->uuid, id, idlen);
    sdo_head(x, "indicator", id, created, s->ts);
    if (g->pattern_type) {
        buf_adds(&x->o, ",\"pattern\":");
        buf_json_str(&x->o, g->sig);
        buf_printf(&x->o, ",\"pattern_type\":\"%s\"", g->pattern_type);
    } else {
        write_pattern(x, g);
        if (x->tmp.failed)
            return ACCORD_ENOMEM;
        buf_adds(&x->o, ",\"pattern\":");
        buf_json_str(&x->o, x->tmp.p);
        buf_adds(&x->o, ",\"pattern_type\":\"stix\",\"pattern_version\":\"2.1\"");
        x->c->st->terms += g->n;
    }
    char vf[40], vu[40];
    if (has_fs)
        ts_text(fs, fs_us, vf, sizeof(vf));
    else
        misp_epoch_ts(created, vf, sizeof(vf));
    buf_printf(&x->o, ",\"valid_from\":\"%s\"", vf);
    if (has_ls && (!has_fs || ls > fs || (ls == fs && ls_us > fs_us))) {
        ts_text(ls, ls_us, vu, sizeof(vu));
        if (strcmp(vu, vf) > 0)
            buf_printf(&x->o, ",\"valid_until\":\"%s\"", vu);
    }
    const char *cat = jstr(s->a, "category") ? jstr(s->a, "category") : jstr(s->a, "meta-category");
    if (cat && *cat) {
        buf_adds(&x->o, ",\"kill_chain_phases\":[{\"kill_chain_name\":\"misp-category\","
                        "\"phase_name\":");
        buf_json_str(&x->o, cat);
        buf_adds(&x->o, "}]");
    }
    const char *fixed[] = {s->label1, s->label2, "misp:to_ids=\"True\""};
    labels(x, fixed, 3, s->tags);
    common_tail(x, s);
    buf_adds(&x->o, "}");
    x->c->st->indicators++;
    return emit(x);
}

static int write_observed(ev *x, const gsrc *s, const group *g, char *id, size_t idlen, int *rc)
{
    buf ids;
    buf_init(&ids, REFS_CAP);
    *rc = write_scos(x, g, s->uuid, &ids);
    if (*rc) {
        buf_free(&ids);
        return *rc == 1 ? 1 : *rc;
    }
    int64_t created, fs, ls;
    int fs_us, ls_us, has_fs, has_ls;
    times(x, s, &created, &fs, &fs_us, &ls, &ls_us, &has_fs, &has_ls);
    sdo_id("observed-data", s->uuid, id, idlen);
    sdo_head(x, "observed-data", id, created, s->ts);
    char fo[40], lo[40];
    if (has_fs)
        ts_text(fs, fs_us, fo, sizeof(fo));
    else
        misp_epoch_ts(s->ts, fo, sizeof(fo));
    if (has_ls)
        ts_text(ls, ls_us, lo, sizeof(lo));
    if (!has_ls || strcmp(lo, fo) < 0)
        snprintf(lo, sizeof(lo), "%s", fo);
    buf_printf(&x->o,
               ",\"first_observed\":\"%s\",\"last_observed\":\"%s\",\"number_observed\":1,"
               "\"object_refs\":[%s]",
               fo, lo, ids.p ? ids.p : "");
    const char *fixed[] = {s->label1, s->label2};
    labels(x, fixed, 2, s->tags);
    /* observed-data has no description: the comment goes to x_misp_comment */
    const char *comment = jstr(s->a, "comment");
    if (comment && *comment) {
        buf_adds(&x->o, ",\"x_misp_comment\":");
        buf_json_str(&x->o, comment);
    }
    gsrc s2 = *s;
    s2.a = NULL;
    common_tail(x, &s2);
    const char *dist = jstr(s->a, "distribution");
    if (dist)
        buf_printf(&x->o, ",\"x_misp_distribution\":%ld", uint_ok(dist, 5) ? strtol(dist, NULL, 10) : 5L);
    buf_adds(&x->o, "}");
    buf_free(&ids);
    x->c->st->observed++;
    return *rc = emit(x);
}

/* An attribute without a STIX equivalent: the x-misp-attribute custom object. */
static int write_custom(ev *x, const gsrc *s, const char *type, const char *value, char *id,
                        size_t idlen)
{
    int64_t created, fs, ls;
    int fs_us, ls_us, has_fs, has_ls;
    times(x, s, &created, &fs, &fs_us, &ls, &ls_us, &has_fs, &has_ls);
    sdo_id("x-misp-attribute", s->uuid, id, idlen);
    sdo_head(x, "x-misp-attribute", id, created, s->ts);
    const char *fixed[] = {s->label1, s->label2};
    labels(x, fixed, 2, s->tags);
    buf_adds(&x->o, ",\"x_misp_type\":");
    buf_json_str(&x->o, type);
    const char *cat = jstr(s->a, "category");
    if (cat) {
        buf_adds(&x->o, ",\"x_misp_category\":");
        buf_json_str(&x->o, cat);
    }
    buf_adds(&x->o, ",\"x_misp_value\":");
    buf_json_str(&x->o, value);
    buf_printf(&x->o, ",\"x_misp_to_ids\":%s", s->to_ids ? "true" : "false");
    const char *comment = jstr(s->a, "comment");
    if (comment && *comment) {
        buf_adds(&x->o, ",\"x_misp_comment\":");
        buf_json_str(&x->o, comment);
    }
    gsrc s2 = *s;
    s2.a = NULL;
    common_tail(x, &s2);
    buf_adds(&x->o, "}");
    x->c->st->custom++;
    count_unmapped(x->c->st, type, 1);
    return emit(x);
}

static int cve_ok(const char *v)
{
    size_t n = 0;
    if (strncmp(v, "CVE-", 4) != 0 || !isdigit((unsigned char)v[4]) || v[8] != '-')
        return 0;
    for (const char *p = v + 9; isdigit((unsigned char)*p); p++)
        n++;
    return n >= 4 && v[9 + n] == 0;
}

static int write_vulnerability(ev *x, const gsrc *s, const char *value, char *id, size_t idlen)
{
    int64_t created, fs, ls;
    int fs_us, ls_us, has_fs, has_ls;
    times(x, s, &created, &fs, &fs_us, &ls, &ls_us, &has_fs, &has_ls);
    sdo_id("vulnerability", s->uuid, id, idlen);
    sdo_head(x, "vulnerability", id, created, s->ts);
    buf_adds(&x->o, ",\"name\":");
    buf_json_str(&x->o, value);
    if (cve_ok(value)) {
        buf_adds(&x->o, ",\"external_references\":[{\"source_name\":\"cve\",\"external_id\":");
        buf_json_str(&x->o, value);
        buf_adds(&x->o, "}]");
    }
    const char *fixed[] = {s->label1, s->label2};
    labels(x, fixed, 2, s->tags);
    common_tail(x, s);
    buf_adds(&x->o, "}");
    return emit(x);
}

/* Sightings of the SDO `of` (type 0: sighting; 1: false positive -> opinion; 2: expiration). */
static int sightings_of(ev *x, const gsrc *s, const ajson_value *list, const char *of,
                        int event_level);

static int sightings(ev *x, const gsrc *s, const char *of)
{
    return sightings_of(x, s, ajson_get(s->a, "Sighting"), of, 0);
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
            buf_adds(&x->o, ",\"x_misp_source\":");
            buf_json_str(&x->o, src);
        }
        marking(x, s->tlp);
        buf_adds(&x->o, "}");
        x->c->st->sightings++;
        rc = emit(x);
    }
    return rc;
}

/* Writes group g as an indicator or an observed-data (with SCOs), then its galaxies and
 * sightings.  type/value name the attribute for the custom fallback. */
static int write_group(ev *x, const gsrc *s, const group *g, const char *type,
                       const char *value)
{
    char id[128];
    int rc = 0;
    if (s->to_ids && (g->n || g->pattern_type)) {
        rc = write_indicator(x, s, g, id, sizeof(id));
    } else if (g->n && write_observed(x, s, g, id, sizeof(id), &rc) == 1) {
        rc = write_custom(x, s, type, value, id, sizeof(id)); /* no valid SCO from the facts */
    } else if (!g->n) {
        rc = write_custom(x, s, type, value, id, sizeof(id));
    }
    if (rc)
        return rc;
    if (s->deleted)
        x->c->st->revoked++;
    add_ref(&x->refs, id);
    if (strncmp(id, "x-misp", 6) != 0 && strlen(s->uuid) == 36) {
        char lc[37];
        for (int i = 0; i < 37; i++)
            lc[i] = (char)tolower((unsigned char)s->uuid[i]);
        u64map_put(&x->sdo, u64map_key(XXH3_64bits(lc, 36)), id[0] == 'i' ? 1 : 2);
    }
    rc = galaxies(x, ajson_get(s->a, "Galaxy"), id, strncmp(id, "indicator--", 11) == 0, s->ts);
    if (rc == 0 && strncmp(id, "x-misp", 6) != 0)
        rc = sightings(x, s, id);
    return rc;
}

/* The SDO source of an attribute a (tags and TLP its own, else the event's). */
static void attr_src(ev *x, const ajson_value *a, gsrc *s, char *l1, char *l2, size_t llen,
                     int *rc)
{
    memset(s, 0, sizeof(*s));
    s->a = a;
    s->uuid = jstr(a, "uuid");
    snprintf(l1, llen, "misp:type=\"%s\"", jstr(a, "type") ? jstr(a, "type") : "");
    snprintf(l2, llen, "misp:category=\"%s\"", jstr(a, "category") ? jstr(a, "category") : "");
    s->label1 = l1;
    s->label2 = l2;
    s->to_ids = jtrue(a, "to_ids");
    s->deleted = jtrue(a, "deleted");
    if (!jepoch(a, "timestamp", &s->ts))
        s->ts = x->ts;
    s->tags = ajson_get(a, "Tag");
    s->tlp = tlp_of(x, s->tags, rc);
    if (!s->tlp)
        s->tlp = x->tlp;
}

/* One standalone attribute (or an object's attribute mapped alone). */
static int map_attribute(ev *x, const ajson_value *a, const char *path, const char *object)
{
    char l1[200], l2[200];
    gsrc s;
    int rc = 0;
    x->c->st->attributes++;
    attr_src(x, a, &s, l1, l2, sizeof(l1), &rc);
    snprintf(s.path, sizeof(s.path), "%s", path);
    if (rc)
        return rc;
    const char *type = jstr(a, "type"), *value = jstr(a, "value");
    if (!type || !value) {
        x->c->st->bad++;
        report_error(x, "%s (uuid %s): %s; attribute skipped", path, s.uuid ? s.uuid : "none",
                     !type ? "no type" : "no value (a string)");
        return x->c->strict ? (x->failed = 1, ACCORD_ESTIX) : 0;
    }
    char duuid[37];
    if (!uuid_ok(s.uuid)) { /* a template without uuids: named by its place and content */
        char name[600];
        snprintf(name, sizeof(name), "%s/%s/%s/%.400s", x->uuid, path, type, value);
        derived_uuid(name, duuid);
        s.uuid = duuid;
    }
    (void)object;
    const struct atype *t = atype_find(type);
    group g;
    memset(&g, 0, sizeof(g));
    const char *why = NULL;
    if (t && attr_facts(x, t, value, &g, &why) != 0) {
        x->c->st->bad++;
        report_error(x, "%s (uuid %s): value \"%.200s\" %s for type %s; attribute skipped", path,
                     s.uuid, value, why ? why : "is invalid", type);
        return x->c->strict ? (x->failed = 1, ACCORD_ESTIX) : 0;
    }
    if (t && t->kind == K_VULN) {
        char id[128];
        rc = write_vulnerability(x, &s, value, id, sizeof(id));
        if (rc == 0) {
            add_ref(&x->refs, id);
            rc = galaxies(x, ajson_get(a, "Galaxy"), id, 0, s.ts);
        }
        return rc;
    }
    if (g.pattern_type && !s.to_ids)
        g.pattern_type = NULL; /* a rule not for detection: kept as it is */
    return write_group(x, &s, &g, type, value);
}

/* Properties a SCO can hold several values of (lists); the others take the first attribute. */
static int multi_valued(prop p)
{
    return p == P_RESOLVES || p == P_TO || p == P_PROTO;
}

static int has_fact(const group *g, prop p, const char *hkey)
{
    for (size_t i = 0; i < g->n; i++)
        if (g->f[i].p == p && (!hkey || (g->f[i].hkey && strcmp(g->f[i].hkey, hkey) == 0)))
            return 1;
    return 0;
}

/* One MISP object: a table's group, and its other attributes one by one. */
static int map_object(ev *x, const ajson_value *o, size_t oi)
{
    const char *name = jstr(o, "name");
    const ajson_value *attrs = ajson_get(o, "Attribute");
    size_t na = attrs && attrs->type == AJSON_ARRAY ? attrs->len : 0;
    char path[64], l1[200], l2[200];
    int rc = 0;
    x->c->st->objects++;
    group g;
    memset(&g, 0, sizeof(g));
    unsigned char *in = calloc(na ? na : 1, 1); /* 1: the attribute went into the group */
    if (!in)
        return ACCORD_ENOMEM;
    gsrc s;
    memset(&s, 0, sizeof(s));
    s.a = o;
    s.uuid = jstr(o, "uuid");
    char duuid[37];
    if (!uuid_ok(s.uuid)) {
        char nm[200];
        snprintf(nm, sizeof(nm), "%s/Object[%zu]/%s", x->uuid, oi, name ? name : "");
        derived_uuid(nm, duuid);
        s.uuid = duuid;
    }
    snprintf(l1, sizeof(l1), "misp:name=\"%s\"", name ? name : "");
    snprintf(l2, sizeof(l2), "misp:meta-category=\"%s\"",
             jstr(o, "meta-category") ? jstr(o, "meta-category") : "");
    s.label1 = l1;
    s.label2 = l2;
    if (!jepoch(o, "timestamp", &s.ts))
        s.ts = x->ts;
    s.deleted = jtrue(o, "deleted");
    s.tags = NULL;
    s.tlp = x->tlp;
    snprintf(s.path, sizeof(s.path), "Object[%zu]", oi);
    size_t ingroup = 0;
    for (size_t i = 0; i < na; i++) {
        const ajson_value *a = &attrs->u.items[i];
        const struct orel *r = orel_find(name, jstr(a, "object_relation"));
        const char *v = jstr(a, "value");
        if (!r || !v || jtrue(a, "deleted") || (g.root && strcmp(g.root, r->root)))
            continue;
        const char *why = fact_check(r, v);
        if (why) {
            x->c->st->attributes++;
            x->c->st->bad++;
            in[i] = 1;
            report_error(x, "Object[%zu].Attribute[%zu] (uuid %s, %s): value \"%.200s\" %s; "
                            "attribute skipped",
                         oi, i, jstr(a, "uuid") ? jstr(a, "uuid") : "none", r->relation, v, why);
            if (x->c->strict) {
                free(in);
                return x->failed = 1, ACCORD_ESTIX;
            }
            continue;
        }
        if (!multi_valued(r->p) && has_fact(&g, r->p, r->hkey))
            continue; /* a second sha1 in one file object: mapped on its own */
        if (add_fact(&g, r->p, r->hkey, v, r->p == P_SIZE || r->p == P_SPORT || r->p == P_DPORT))
            continue;
        g.root = r->root;
        in[i] = 1;
        ingroup++;
        s.to_ids |= jtrue(a, "to_ids");
        int64_t ats;
        if (jepoch(a, "timestamp", &ats) && ats > s.ts)
            s.ts = ats;
    }
    /* a domain-ip without its domain, a network-traffic without an end: map one by one */
    int usable = ingroup && !(strcmp(g.root, "domain-name") == 0 && g.f[0].p != P_VALUE);
    if (usable) {
        x->c->st->attributes += ingroup;
        const char *ot = name ? name : "object";
        rc = write_group(x, &s, &g, ot, ot);
    } else {
        memset(in, 0, na ? na : 1);
    }
    for (size_t i = 0; i < na && rc == 0; i++) {
        if (in[i])
            continue;
        snprintf(path, sizeof(path), "Object[%zu].Attribute[%zu]", oi, i);
        rc = map_attribute(x, &attrs->u.items[i], path, name);
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
    buf_adds(&x->o, ",\"name\":");
    buf_json_str(&x->o, info && *info ? info : x->uuid);
    if (!jepoch(x->e, "publish_timestamp", &pub) || pub <= 0)
        pub = x->ts;
    misp_epoch_ts(pub, pt, sizeof(pt));
    buf_printf(&x->o, ",\"published\":\"%s\",\"report_types\":[\"misp-event\"]", pt);
    if (!x->refs.len)
        add_ref(&x->refs, x->creator[0] ? x->creator : id);
    if (x->refs.failed)
        return ACCORD_ENOMEM;
    buf_adds(&x->o, ",\"object_refs\":[");
    buf_add(&x->o, x->refs.p, x->refs.len);
    buf_adds(&x->o, "]");
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
    buf_adds(&x->o, "}");
    return emit(x);
}

static int map_list(ev *x, const char *key, int objects)
{
    const ajson_value *l = ajson_get(x->e, key);
    int rc = 0;
    char path[48];
    for (size_t i = 0; l && l->type == AJSON_ARRAY && i < l->len && rc == 0; i++) {
        ajson_arena_reset(&x->scratch);
        if (l->u.items[i].type != AJSON_OBJECT) {
            x->c->st->bad++;
            report_error(x, "%s[%zu]: is a JSON %s, not an object; skipped", key, i,
                         ajson_type_name(l->u.items[i].type));
            continue;
        }
        if (objects) {
            rc = map_object(x, &l->u.items[i], i);
        } else {
            snprintf(path, sizeof(path), "Attribute[%zu]", i);
            rc = map_attribute(x, &l->u.items[i], path, NULL);
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
    const char *uuid = jstr(e, "uuid");
    if (uuid_ok(uuid)) {
        snprintf(x.uuid, sizeof(x.uuid), "%s", uuid);
    } else if (uuid && *uuid) {
        derived_uuid(uuid, x.uuid);
    } else { /* an event template (PyMISP writes them): named by its content */
        XXH3_state_t *h = XXH3_createState();
        if (!h)
            return ACCORD_ENOMEM;
        XXH3_128bits_reset(h);
        tree_hash(h, e, 0);
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
    buf_init(&x.o, OBJ_CAP);
    buf_init(&x.refs, REFS_CAP);
    buf_init(&x.tmp, OBJ_CAP);
    ajson_arena_init(&x.scratch, (size_t)16 << 20);
    u64map_init_set(&x.seen);
    u64map_init(&x.sdo);
    int rc = 0;
    x.tlp = tlp_of(&x, ajson_get(e, "Tag"), &rc);
    const ajson_value *org = ajson_get(e, "Orgc") ? ajson_get(e, "Orgc") : ajson_get(e, "Org");
    char creator[sizeof(x.creator)];
    if (rc == 0 && (rc = org_identity(&x, org, creator, sizeof(creator))) == 0)
        memcpy(x.creator, creator, sizeof(creator));
    if (rc == 0)
        rc = map_list(&x, "Attribute", 0);
    if (rc == 0)
        rc = map_list(&x, "Object", 1);
    if (rc == 0)
        rc = galaxies(&x, ajson_get(e, "Galaxy"), NULL, 0, x.ts);
    if (rc == 0) { /* sightings listed at the event level (the API's form) */
        gsrc s;
        memset(&s, 0, sizeof(s));
        s.tlp = x.tlp;
        rc = sightings_of(&x, &s, ajson_get(e, "Sighting"), NULL, 1);
    }
    if (rc == 0)
        rc = write_report(&x);
    if (rc == 0)
        c->st->events++;
    buf_free(&x.o);
    buf_free(&x.refs);
    buf_free(&x.tmp);
    ajson_arena_free(&x.scratch);
    u64map_free(&x.seen);
    u64map_free(&x.sdo);
    return rc;
}

static int event_of(const ajson_value *v, const ajson_value **out)
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
    if (event_of(root, &e))
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
        if (event_of(&list->u.items[i], &e))
            n++;
    if (n == 0 && list->len)
        return -1;
    n = 0;
    for (size_t i = 0; i < list->len && *cb_rc == 0; i++)
        if (event_of(&list->u.items[i], &e))
            *cb_rc = cb(ud, e, n++);
    return (long)n;
}
