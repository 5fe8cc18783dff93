/*
 * export.c - which indicators a defender export holds, and what each of them becomes.
 *
 * An export is taken at one instant `at` (now, or --at).  An indicator is active at `at` when its
 * latest stored version is not revoked and valid_from <= at < valid_until (valid_until absent =
 * forever).  Active indicators pass through the filters (indicator_types, labels, creator,
 * confidence, TLP, collection, kind), and then their pattern is compiled by the pattern engine
 * and its tree walked.  Only patterns that *mean* "one of these values" are translated:
 *
 *   pattern shape                                   items
 *   [ipv4-addr:value = 'a']  [ipv6-addr:value = 'a']   ipv4 / ipv6, or cidr4 / cidr6 when 'a/n'
 *   [ipv4-addr:value ISSUBSET 'n/p']                cidr4 (cidr6), or the address for /32 (/128)
 *   [domain-name:value = 'd']                       domain
 *   [domain-name:value LIKE '%.d']                  domain-suffix d (strict subdomains of d)
 *   [url:value = 'u']                               url
 *   [email-addr:value = 'e']                        email
 *   [file:hashes.'MD5' = 'h'] (SHA-1, SHA-256, SHA-512)            md5, sha1, sha256, sha512
 *   [x509-certificate:hashes.'SHA-1' = 'h'] (SHA-256)              cert-sha1, cert-sha256
 *   x IN ('a', 'b'), c1 OR c2 inside [ ], [..] OR [..] between      the union of the above
 *
 * Anything else - comparisons joined by AND, observation expressions joined by AND or
 * FOLLOWEDBY, qualifiers, negation, other operators or object paths, other pattern types - makes
 * the whole indicator untranslatable: it is counted and named, never half-translated (an AND of
 * two comparisons is not the union of their values).  A format that expresses only some kinds
 * (nft: addresses) leaves out, counts and names each indicator that holds another kind.
 *
 * Values are normalised by values.c's rule (the value index uses the same one), then checked for
 * the kind's shape (a domain is labels of [a-z0-9_-], 1-63 bytes, at most 253 in all), so every
 * writer may print them without quoting surprises.  Allow-listed values are dropped here and
 * counted (export_allow.c decides).
 *
 * The set is sorted by (kind, value, indicator id), so an export depends only on what is active,
 * never on import order: two nodes with the same intelligence write the same bytes.
 *
 * Memory: every string of the set lives in one growing array (offsets, not pointers, so it can
 * be reallocated); about 120 bytes per indicator with one value.  What this file does not do:
 * write any format (export_<format>.c), or read the allow-lists' SQL (store_allow.c).
 */
#include "export.h"

#include "pattern.h"
#include "store.h"
#include "tlp.h"
#include "util/json.h"
#include "util/u64map.h"
#include "values.h"

#include <xxhash.h>

#include <arpa/inet.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>

/* Why no format can express an indicator. */
#define EXPORT_WHY(XX)                                                                             \
    XX(NONE, "")                                                                                   \
    XX(PATTERN_TYPE, "pattern_type is not stix")                                                   \
    XX(INVALID, "pattern does not compile")                                                        \
    XX(OBS_AND, "observation expressions joined by AND or FOLLOWEDBY")                             \
    XX(QUALIFIER, "WITHIN, REPEATS or START/STOP qualifier")                                       \
    XX(CMP_AND, "comparisons joined by AND")                                                       \
    XX(NEGATED, "negated comparison")                                                              \
    XX(OPERATOR, "operator other than =, IN, ISSUBSET or LIKE '%.domain'")                         \
    XX(PATH, "object path with no exportable kind")                                                \
    XX(VALUE, "value not valid for its kind")

enum {
#define WHY_XX_(name, text) WHY_##name,
    EXPORT_WHY(WHY_XX_)
#undef WHY_XX_
};

static const char *const why_text[] = {
#define WHY_XX_(name, text) text,
    EXPORT_WHY(WHY_XX_)
#undef WHY_XX_
};

static const char *const kind_names[] = {
#define ACCORD_EK_XX_(name, text) text,
    ACCORD_EXPORT_KINDS(ACCORD_EK_XX_)
#undef ACCORD_EK_XX_
};

const char *accord_export_kind_name(int kind)
{
    return kind >= 0 && kind < ACCORD_EK_COUNT ? kind_names[kind] : NULL;
}

int accord_export_kind_parse(const char *name)
{
    for (int k = 0; k < ACCORD_EK_COUNT; k++)
        if (strcmp(kind_names[k], name) == 0)
            return k;
    return -1;
}

int accord_export_tlp_parse(const char *name)
{
    static const char *const names[] = {"clear", "green", "amber", "amber+strict", "red"};
    if (strncasecmp(name, "tlp:", 4) == 0)
        name += 4;
    if (strcasecmp(name, "white") == 0)
        return ACCORD_TLP_CLEAR;
    for (int i = 0; i < 5; i++)
        if (strcasecmp(name, names[i]) == 0)
            return i;
    return -1;
}

/* ------------------------------------------------------------------------------------------ */
/* The set's arrays                                                                             */

/*
 * (export.h) Asks for huge pages under a large array.  A set's arrays reach a gigabyte at ten
 * million indicators, and the sort and every writer walk them in value order, that is at random
 * in scan order: with 4 KiB pages nearly every step is a TLB miss.  Linux gives huge pages only
 * to ranges advised so (transparent_hugepage "madvise"); an old or other kernel ignores it.
 */
void export_huge(void *p, size_t len)
{
#ifdef MADV_HUGEPAGE
    if (len < ((size_t)4 << 20))
        return;
    uintptr_t a = ((uintptr_t)p + 4095) & ~(uintptr_t)4095,
              e = ((uintptr_t)p + len) & ~(uintptr_t)4095;
    if (e > a)
        (void)madvise((void *)a, e - a, MADV_HUGEPAGE);
#else
    (void)p, (void)len;
#endif
}

/* (export.h) Grows an array of `size`-byte elements to hold `need`, doubling from 1024. */
int export_grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 1024;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, n * size);
    if (!q)
        return ACCORD_ENOMEM;
    export_huge(q, n * size); /* before the new part is touched */
    *p = q;
    *cap = n;
    return 0;
}

/* Appends s[0..len) and a NUL; *off receives its offset. */
static int str_add(accord_export_set *s, const char *v, size_t len, uint64_t *off)
{
    if (export_grow((void **)&s->str, &s->str_cap, s->str_len + len + 1, 1))
        return ACCORD_ENOMEM;
    memcpy(s->str + s->str_len, v, len);
    s->str[s->str_len + len] = '\0';
    *off = s->str_len;
    s->str_len += len + 1;
    return 0;
}

void accord_export_set_free(accord_export_set *set)
{
    if (!set)
        return;
    free(set->str);
    free(set->inds);
    free(set->items);
    free(set->others);
    free(set);
}

void accord_export_set_stats(const accord_export_set *set, accord_export_stats *out)
{
    *out = set->stats;
}

uint32_t accord_export_set_serial(const accord_export_set *set)
{
    int64_t s = set->serial_us / 1000000;
    if (s < 1)
        return 1;
    uint32_t v = (uint32_t)(uint64_t)s; /* RFC 1982: serials wrap; the difference is what counts */
    return v ? v : 1;
}

/* ------------------------------------------------------------------------------------------ */
/* Values of each kind                                                                          */

/* (export.h) The form nearly every stored address has, read without the general parser (and
 * inet_pton). */
int export_ipv4_parse(const char *v, size_t len, uint32_t *addr, int *prefix)
{
    uint32_t a = 0;
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        size_t start = i;
        unsigned n = 0;
        for (; i < len && v[i] >= '0' && v[i] <= '9' && i - start < 3; i++)
            n = n * 10 + (unsigned)(v[i] - '0');
        if (i == start || n > 255 || (v[start] == '0' && i - start > 1))
            return -1;
        a = a << 8 | n;
        if (part < 3 && (i >= len || v[i++] != '.'))
            return -1;
    }
    *prefix = 32;
    if (i < len) {
        size_t start = ++i;
        unsigned n = 0;
        if (v[start - 1] != '/')
            return -1;
        for (; i < len && v[i] >= '0' && v[i] <= '9' && i - start < 2; i++)
            n = n * 10 + (unsigned)(v[i] - '0');
        if (i == start || i != len || n > 32 || (v[start] == '0' && i - start > 1))
            return -1;
        *prefix = (int)n;
    }
    *addr = a;
    return 0;
}

int export_net_range(const char *s, int *family, export_u128 *lo, export_u128 *hi)
{
    int prefix;
    unsigned char a[16];
    uint32_t v4;
    if (export_ipv4_parse(s, strlen(s), &v4, &prefix) == 0) {
        uint32_t host = prefix == 0 ? 0xffffffffu : (uint32_t)((1ull << (32 - prefix)) - 1);
        *family = 4;
        *lo = v4 & ~host;
        *hi = *lo | host;
        return 0;
    }
    if (export_net_parse(s, family, a, &prefix) < 0)
        return -1;
    int bits = *family == 4 ? 32 : 128;
    export_u128 v = 0;
    for (int i = 0; i < bits / 8; i++)
        v = v << 8 | a[i];
    export_u128 host = prefix == 0 ? ~(export_u128)0 : ((export_u128)1 << (bits - prefix)) - 1;
    if (bits == 32)
        host &= 0xffffffffu;
    *lo = v & ~host;
    *hi = *lo | host;
    return 0;
}

int export_net_parse(const char *s, int *family, unsigned char addr[16], int *prefix)
{
    pattern_net n;
    if (pattern_net_parse(s, strlen(s), &n) < 0)
        return -1;
    *family = n.family;
    memcpy(addr, n.addr, 16);
    *prefix = n.prefix;
    return 0;
}

/* Labels of [a-z0-9_-], 1-63 bytes, at most 253 in all, the last not all digits. */
static int domain_ok(const char *d, size_t len)
{
    size_t label = 0;
    int digits = 1;
    if (len == 0 || len > 253)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = d[i];
        if (c == '.') {
            if (label == 0)
                return 0;
            label = 0;
            digits = 1;
        } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_') {
            if (++label > 63)
                return 0;
            digits &= c >= '0' && c <= '9';
        } else {
            return 0;
        }
    }
    return label > 0 && !digits;
}

/* Printable ASCII without spaces and quotes: safe in every format's line syntax. */
static int printable(const char *v, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)v[i] <= ' ' || (unsigned char)v[i] >= 0x7f || v[i] == '"')
            return 0;
    return 1;
}

static int url_ok(const char *v, size_t len)
{
    const char *p = strstr(v, "://");
    return p && p > v && p[3] && p[3] != '/' && printable(v, len);
}

static int email_ok(const char *v, size_t len)
{
    const char *at = strchr(v, '@');
    return at && at > v && !strchr(at + 1, '@') && domain_ok(at + 1, len - (size_t)(at + 1 - v)) &&
           printable(v, len);
}

static int hex_ok(const char *v, size_t len, size_t want)
{
    if (len != want)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f')))
            return 0;
    return 1;
}

/* An address or CIDR of the family `fam`: its kind, or -1. */
static int addr_kind(const char *v, int fam)
{
    int family, prefix;
    unsigned char a[16];
    if (export_net_parse(v, &family, a, &prefix) < 0 || family != fam)
        return -1;
    if (fam == 4)
        return prefix == 32 ? ACCORD_EK_IPV4 : ACCORD_EK_CIDR4;
    return prefix == 128 ? ACCORD_EK_IPV6 : ACCORD_EK_CIDR6;
}

/* What an object path compares: a "family" the value then refines into a kind. */
enum { P_NONE, P_IPV4, P_IPV6, P_DOMAIN, P_URL, P_EMAIL, P_FILE, P_CERT };

static int hash_kind(const char *key, int cert)
{
    char k[16];
    size_t n = 0;
    for (const char *p = key; *p && n < sizeof(k) - 1; p++)
        if (*p != '-')
            k[n++] = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
    k[n] = '\0';
    if (cert)
        return strcmp(k, "SHA1") == 0     ? ACCORD_EK_CERT_SHA1
               : strcmp(k, "SHA256") == 0 ? ACCORD_EK_CERT_SHA256
                                          : -1;
    return strcmp(k, "MD5") == 0      ? ACCORD_EK_MD5
           : strcmp(k, "SHA1") == 0   ? ACCORD_EK_SHA1
           : strcmp(k, "SHA256") == 0 ? ACCORD_EK_SHA256
           : strcmp(k, "SHA512") == 0 ? ACCORD_EK_SHA512
                                      : -1;
}

/* The path family of a comparison; for hashes, *hkind gets the hash kind. */
static int path_family(const pattern_cmp *c, int *hkind)
{
    static const struct {
        const char *type;
        int fam;
    } value_types[] = {{"ipv4-addr", P_IPV4},
                       {"ipv6-addr", P_IPV6},
                       {"domain-name", P_DOMAIN},
                       {"url", P_URL},
                       {"email-addr", P_EMAIL}};
    if (c->nsteps == 1 && c->steps[0].kind == PS_KEY && strcmp(c->steps[0].key, "value") == 0) {
        for (size_t i = 0; i < sizeof(value_types) / sizeof(value_types[0]); i++)
            if (strcmp(c->type, value_types[i].type) == 0)
                return value_types[i].fam;
        return P_NONE;
    }
    if (c->nsteps != 2 || c->steps[0].kind != PS_KEY || c->steps[1].kind != PS_KEY ||
        strcmp(c->steps[0].key, "hashes") != 0)
        return P_NONE;
    int cert = strcmp(c->type, "x509-certificate") == 0;
    if (!cert && strcmp(c->type, "file") != 0)
        return P_NONE;
    *hkind = hash_kind(c->steps[1].key, cert);
    return *hkind < 0 ? P_NONE : cert ? P_CERT : P_FILE;
}

/* The kind of normalised value v of path family fam, or -1. */
static int value_kind(int fam, int hkind, const char *v, size_t len)
{
    static const size_t hex_len[ACCORD_EK_COUNT] = {
        [ACCORD_EK_MD5] = 32,     [ACCORD_EK_SHA1] = 40,      [ACCORD_EK_SHA256] = 64,
        [ACCORD_EK_SHA512] = 128, [ACCORD_EK_CERT_SHA1] = 40, [ACCORD_EK_CERT_SHA256] = 64};
    switch (fam) {
    case P_IPV4:
        return addr_kind(v, 4);
    case P_IPV6:
        return addr_kind(v, 6);
    case P_DOMAIN:
        return domain_ok(v, len) ? ACCORD_EK_DOMAIN : -1;
    case P_URL:
        return url_ok(v, len) ? ACCORD_EK_URL : -1;
    case P_EMAIL:
        return email_ok(v, len) ? ACCORD_EK_EMAIL : -1;
    default:
        return hex_ok(v, len, hex_len[hkind]) ? hkind : -1;
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Pattern -> items                                                                             */

typedef struct sel {
    accord_export_set *set;
    const accord_export_filter *f;
    export_allow *allow;
    uint32_t ind;   /* the indicator being translated */
    unsigned kinds; /* the kinds its pattern holds */
    ajson_arena arena;
    int64_t at;
    int quiet;   /* 1: an untranslatable pattern is not counted or named */
    int allowed; /* 1 once the allow-list dropped a value of the indicator being translated */
    int why;     /* WHY_* of the indicator being translated */
    int dflt;    /* the level of unmarked indicators: the store's default TLP (tlp.h) */
} sel;

static uint64_t prefix_key(const char *v, size_t len)
{
    uint64_t k = 0;
    if (len >= 8) { /* nearly every value: one load */
        memcpy(&k, v, 8);
        return __builtin_bswap64(k);
    }
    for (size_t i = 0; i < 8; i++)
        k = k << 8 | (i < len ? (unsigned char)v[i] : 0);
    return k;
}

/* One value of one kind: checked against the allow-list (allowed: 1 or 0 when the caller knows,
 * -1 when it does not), then added. */
static int add_item_as(sel *x, int kind, const char *v, size_t len, int allowed)
{
    x->kinds |= ACCORD_EK_BIT(kind);
    if (allowed < 0)
        allowed = x->allow && export_allow_match(x->allow, kind, v, len);
    if (allowed) {
        x->set->stats.allowlisted++;
        x->allowed = 1;
        return 0;
    }
    accord_export_set *s = x->set;
    if (export_grow((void **)&s->items, &s->items_cap, s->nitems + 1, sizeof(*s->items)))
        return ACCORD_ENOMEM;
    export_item *it = &s->items[s->nitems];
    if (str_add(s, v, len, &it->value))
        return ACCORD_ENOMEM;
    it->prefix = prefix_key(v, len);
    it->ind = x->ind;
    it->len = (uint32_t)len;
    it->kind = (uint8_t)kind;
    s->nitems++;
    return 0;
}

static int add_item(sel *x, int kind, const char *v, size_t len)
{
    return add_item_as(x, kind, v, len, -1);
}

/*
 * (export.h) 1 when v is an IPv4 address written canonically (four decimal parts 0-255 without
 * leading zeros): value_normalize would give it back unchanged, as an ACCORD_EK_IPV4 value.  Nearly
 * half of shared indicators are such addresses, and this check costs a tenth of the normaliser's
 * parse-and-print round trip.
 */
int export_ipv4_canonical(const char *v, size_t len)
{
    uint32_t a;
    int prefix;
    return export_ipv4_parse(v, len, &a, &prefix) == 0 && !memchr(v, '/', len);
}

/*
 * The kind of v when value_normalize would give it back unchanged as a value of path family fam
 * (checked by shape, an order of magnitude cheaper than the normaliser's parse and rewrite), or
 * -1 when only the normaliser can tell.  The shapes are those shared indicators nearly always
 * have: canonical IPv4 addresses and networks, lower-case domain names and hex digests, URLs with
 * a lower-case scheme and host, no port, userinfo or IPv6 literal, and a path.
 */
int export_force_normalize;

static int unchanged_kind(int fam, int hkind, const char *v, size_t len)
{
    static const size_t hex_len[ACCORD_EK_COUNT] = {
        [ACCORD_EK_MD5] = 32,     [ACCORD_EK_SHA1] = 40,      [ACCORD_EK_SHA256] = 64,
        [ACCORD_EK_SHA512] = 128, [ACCORD_EK_CERT_SHA1] = 40, [ACCORD_EK_CERT_SHA256] = 64};
    uint32_t a;
    int prefix;
    size_t i = 0;
    if (export_force_normalize)
        return -1;
    switch (fam) {
    case P_IPV4: /* a network only with its host bits clear (the normaliser clears them) */
        if (export_ipv4_parse(v, len, &a, &prefix) != 0 || (prefix == 32 && memchr(v, '/', len)) ||
            (prefix < 32 && (a & (uint32_t)((1ull << (32 - prefix)) - 1))))
            return -1;
        return prefix == 32 ? ACCORD_EK_IPV4 : ACCORD_EK_CIDR4;
    case P_DOMAIN: /* two or more labels: a single one could be another rule's (bytes, ASN);
                      domain_ok takes only [a-z0-9_-] and dots, so upper case goes on */
        return memchr(v, '.', len) && domain_ok(v, len) ? ACCORD_EK_DOMAIN : -1;
    case P_FILE:
    case P_CERT:
        if (len != hex_len[hkind])
            return -1;
        for (i = 0; i < len; i++)
            if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f')))
                return -1;
        return hkind;
    case P_URL: {
        if (len == 0 || v[0] < 'a' || v[0] > 'z')
            return -1;
        while (i < len && ((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= '0' && v[i] <= '9') ||
                           v[i] == '+' || v[i] == '-' || v[i] == '.'))
            i++;
        size_t scheme = i, host = i + 3;
        if (len < host || memcmp(v + i, "://", 3) != 0)
            return -1;
        for (i = host; i < len && v[i] != '/' && v[i] != '?' && v[i] != '#'; i++)
            if ((v[i] >= 'A' && v[i] <= 'Z') || v[i] == ':' || v[i] == '@' || v[i] == '[')
                return -1;
        /* the schemes whose empty path the normaliser writes as "/" must have a path */
        int dflt = (scheme == 4 && memcmp(v, "http", 4) == 0) ||
                   (scheme == 5 && memcmp(v, "https", 5) == 0) ||
                   (scheme == 2 && memcmp(v, "ws", 2) == 0) ||
                   (scheme == 3 && (memcmp(v, "wss", 3) == 0 || memcmp(v, "ftp", 3) == 0));
        if (i == host || (dflt && (i == len || v[i] != '/')))
            return -1;
        return url_ok(v, len) ? ACCORD_EK_URL : -1;
    }
    default:
        return -1;
    }
}

int export_value_kind(int path, const char *v, size_t len, int slow, char *out, size_t outlen)
{
    static const struct {
        int fam, hkind;
    } paths[] = {{P_IPV4, -1},
                 {P_IPV6, -1},
                 {P_DOMAIN, -1},
                 {P_URL, -1},
                 {P_EMAIL, -1},
                 {P_FILE, ACCORD_EK_MD5},
                 {P_FILE, ACCORD_EK_SHA1},
                 {P_FILE, ACCORD_EK_SHA256},
                 {P_FILE, ACCORD_EK_SHA512},
                 {P_CERT, ACCORD_EK_CERT_SHA1},
                 {P_CERT, ACCORD_EK_CERT_SHA256}};
    if (path < 0 || path >= (int)(sizeof(paths) / sizeof(paths[0])) || outlen <= VALUE_MAX)
        return -1;
    int fam = paths[path].fam, hkind = paths[path].hkind;
    if (!slow) {
        int kind = len <= VALUE_MAX ? unchanged_kind(fam, hkind, v, len) : -1;
        if (kind >= 0)
            memcpy(out, v, len), out[len] = '\0';
        return kind;
    }
    long n = value_normalize(v, len, out, outlen);
    return n < 0 ? -1 : value_kind(fam, hkind, out, (size_t)n);
}

/* A string constant compared with path family fam. */
static int add_literal(sel *x, int fam, int hkind, const pattern_lit *l)
{
    char norm[VALUE_MAX + 1];
    uint32_t a;
    int prefix;
    if (l->kind != PL_STRING)
        return x->why = WHY_VALUE, 0;
    /* nearly half of all values: a canonical IPv4 address or network, parsed once for both
     * the shape (unchanged_kind's rule) and the allow-list */
    if (fam == P_IPV4 && !export_force_normalize &&
        export_ipv4_parse(l->s, l->len, &a, &prefix) == 0) {
        uint32_t host = prefix == 0 ? 0xffffffffu : (uint32_t)((1ull << (32 - prefix)) - 1);
        int slash = memchr(l->s, '/', l->len) != NULL;
        if (prefix == 32 ? !slash : !(a & host))
            return add_item_as(
                x, prefix == 32 ? ACCORD_EK_IPV4 : ACCORD_EK_CIDR4, l->s, l->len,
                x->allow && export_allow_match_v4(x->allow, l->s, l->len, a & ~host, a | host));
    }
    int quick = unchanged_kind(fam, hkind, l->s, l->len);
    if (quick >= 0)
        return add_item(x, quick, l->s, l->len);
    long n = value_normalize(l->s, l->len, norm, sizeof(norm));
    int kind = n < 0 ? -1 : value_kind(fam, hkind, norm, (size_t)n);
    if (kind < 0)
        return x->why = WHY_VALUE, 0;
    return add_item(x, kind, norm, (size_t)n);
}

/* ISSUBSET 'net': the network, or the address when it is a host. */
static int add_subset(sel *x, int fam, const pattern_net *net)
{
    char a[INET6_ADDRSTRLEN], v[INET6_ADDRSTRLEN + 8];
    int full = net->family == 4 ? 32 : 128;
    if ((fam == P_IPV4) != (net->family == 4) ||
        !inet_ntop(net->family == 4 ? AF_INET : AF_INET6, net->addr, a, sizeof(a)))
        return x->why = WHY_VALUE, 0;
    if (net->prefix == full)
        return add_item(x, net->family == 4 ? ACCORD_EK_IPV4 : ACCORD_EK_IPV6, a, strlen(a));
    int n = snprintf(v, sizeof(v), "%s/%d", a, net->prefix);
    return add_item(x, net->family == 4 ? ACCORD_EK_CIDR4 : ACCORD_EK_CIDR6, v, (size_t)n);
}

/* LIKE '%.suffix' (no other wildcard) on a domain: the suffix; LIKE without wildcards: =. */
static int add_like(sel *x, const pattern_lit *l)
{
    char norm[VALUE_MAX + 1];
    const char *s = l->s;
    size_t len = l->len;
    int suffix = len > 2 && s[0] == '%' && s[1] == '.';
    if (suffix)
        s += 2, len -= 2;
    if (memchr(s, '%', len) || memchr(s, '_', len))
        return x->why = WHY_OPERATOR, 0;
    long n = value_normalize(s, len, norm, sizeof(norm));
    if (n < 0 || !domain_ok(norm, (size_t)n))
        return x->why = WHY_VALUE, 0;
    return add_item(x, suffix ? ACCORD_EK_SUFFIX : ACCORD_EK_DOMAIN, norm, (size_t)n);
}

static int walk_cmp(sel *x, const pattern_cmp *c)
{
    int hkind = -1, rc = 0;
    if (c->negated)
        return x->why = WHY_NEGATED, 0;
    int fam = path_family(c, &hkind);
    if (fam == P_NONE)
        return x->why = WHY_PATH, 0;
    if (c->op == PO_EQ || c->op == PO_IN) {
        for (size_t i = 0; i < c->nlits && !rc && !x->why; i++)
            rc = add_literal(x, fam, hkind, &c->lits[i]);
        return rc;
    }
    if (c->op == PO_ISSUBSET && (fam == P_IPV4 || fam == P_IPV6))
        return add_subset(x, fam, &c->net);
    if (c->op == PO_LIKE && fam == P_DOMAIN && c->lits[0].kind == PL_STRING)
        return add_like(x, &c->lits[0]);
    return x->why = WHY_OPERATOR, 0;
}

static int walk_cexpr(sel *x, const pattern_cexpr *e)
{
    if (e->kind == PC_CMP)
        return walk_cmp(x, e->cmp);
    if (e->kind == PC_AND)
        return x->why = WHY_CMP_AND, 0;
    int rc = walk_cexpr(x, e->l);
    return rc || x->why ? rc : walk_cexpr(x, e->r);
}

static int walk_oexpr(sel *x, const pattern_oexpr *o)
{
    switch (o->kind) {
    case PX_LEAF:
        return walk_cexpr(x, o->leaf);
    case PX_OR: {
        int rc = walk_oexpr(x, o->l);
        return rc || x->why ? rc : walk_oexpr(x, o->r);
    }
    case PX_AND:
    case PX_FOLLOWEDBY:
        return x->why = WHY_OBS_AND, 0;
    default:
        return x->why = WHY_QUALIFIER, 0;
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Filters                                                                                      */

static int in_list(const char *const *list, const char *s)
{
    for (; s && *list; list++)
        if (strcmp(*list, s) == 0)
            return 1;
    return 0;
}

/* 1 when some string of JSON array arr is in list. */
static int any_in(const char *const *list, const ajson_value *arr)
{
    if (!arr || arr->type != AJSON_ARRAY)
        return 0;
    for (size_t i = 0; i < arr->len; i++)
        if (in_list(list, ajson_str(&arr->u.items[i])))
            return 1;
    return 0;
}

/*
 * One indicator version as selection reads it: from the store's indicators table (store.h), or
 * from its parsed body when a filter needs a property that table does not hold (labels,
 * indicator_types, created_by_ref).
 */
typedef struct ind_view {
    const accord_record *r;
    int64_t from, until; /* from INT64_MIN: none; INT64_MAX: unreadable (never active) */
    int conf;            /* -1 when none */
    const char *name, *ptype, *pattern; /* NULL when absent */
    size_t plen;
    const ajson_value *o; /* the parsed body (the body filters), or NULL */
} ind_view;

/* 1 when the filter needs the body: a property the indicators table does not keep. */
static int needs_body(const accord_export_filter *f)
{
    return f->labels || f->indicator_types || f->creators;
}

/* 1 when the indicator passes the filters that need no pattern. */
static int passes(const accord_export_filter *f, const ind_view *v, int tlp)
{
    if (f->labels && !any_in(f->labels, ajson_get(v->o, "labels")))
        return 0;
    if (f->indicator_types && !any_in(f->indicator_types, ajson_get(v->o, "indicator_types")))
        return 0;
    if (f->creators && !in_list(f->creators, ajson_str(ajson_get(v->o, "created_by_ref"))))
        return 0;
    if (f->min_confidence >= 0 && v->conf < f->min_confidence)
        return 0;
    return f->max_tlp < 0 || tlp <= f->max_tlp;
}

/* Parses an optional timestamp property; *us = dflt when absent, -1 when malformed. */
static int time_of(const ajson_value *o, const char *key, int64_t dflt, int64_t *us)
{
    const char *t = ajson_str(ajson_get(o, key));
    *us = dflt;
    return t && accord_timestamp_parse(t, us) != 0 ? -1 : 0;
}

/* The view of a parsed body o of record r (the path of the body filters). */
static void view_of_body(ind_view *v, const accord_record *r, const ajson_value *o)
{
    int64_t c;
    const ajson_value *pv = ajson_get(o, "pattern");
    memset(v, 0, sizeof(*v));
    v->r = r;
    v->o = o;
    if (time_of(o, "valid_from", INT64_MIN, &v->from) ||
        time_of(o, "valid_until", INT64_MAX, &v->until))
        v->from = INT64_MAX; /* the validator guarantees both; a malformed one is never active */
    v->conf = ajson_int(ajson_get(o, "confidence"), &c) && c >= 0 && c <= 100 ? (int)c : -1;
    v->name = ajson_str(ajson_get(o, "name"));
    v->ptype = ajson_str(ajson_get(o, "pattern_type"));
    if (pv && pv->type == AJSON_STRING)
        v->pattern = pv->u.str, v->plen = pv->len;
}

/* ------------------------------------------------------------------------------------------ */
/* The scan                                                                                     */

static void note_untranslatable(sel *x, const char *id, int why)
{
    accord_export_set *s = x->set;
    s->stats.not_translatable++;
    if (s->nuntr < ACCORD_EXPORT_NAMES)
        snprintf(s->untr[s->nuntr++], sizeof(s->untr[0]), "%s: %s", id, why_text[why]);
}

/* 1 when the eight bytes at p are all printable ASCII (0x20-0x7e) other than a quote and a
 * backslash (the bit tricks of "Bit Twiddling Hacks": a byte below n, a byte equal to c). */
static int word_plain(const char *p)
{
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    uint64_t w, q, b;
    memcpy(&w, p, 8);
    q = w ^ (ones * '\'');
    b = w ^ (ones * '\\');
    uint64_t below = (w - ones * 0x20) & ~w & high;  /* a byte < 0x20 */
    uint64_t above = ((w + ones * 0x01) | w) & high; /* a byte >= 0x7f */
    uint64_t quote = (q - ones) & ~q & high;         /* a byte == '\'' */
    uint64_t slash = (b - ones) & ~b & high;         /* a byte == '\\' */
    return !(below | above | quote | slash);
}

/*
 * The shape nearly every shared indicator has, "[type:value = 'v']" or "[file:hashes.'K' = 'v']",
 * read without the pattern engine (whose compile is most of a selection's time): the comparison
 * is built as the compiler would build it and walked the same way.  Only the plainest form is
 * taken - known object types, printable ASCII, no escapes, no other operator or term; anything
 * else returns 0 and goes through the compiler, so the result never depends on the path.
 * 1 when the pattern was handled (x->why says whether it translated).
 */
int export_force_compile;

static int simple_pattern(sel *x, const char *p, size_t len, int *rc)
{
    /* the object types, with the path family of their "value" (path_family's table) and, for
     * "hashes.'K'", whether they are certificates (-1: no hashes) */
    static const struct {
        const char *name;
        size_t len;
        int value_fam, cert;
    } types[] = {{"ipv4-addr", 9, P_IPV4, -1},       {"ipv6-addr", 9, P_IPV6, -1},
                 {"domain-name", 11, P_DOMAIN, -1},  {"url", 3, P_URL, -1},
                 {"email-addr", 10, P_EMAIL, -1},    {"file", 4, P_NONE, 0},
                 {"x509-certificate", 16, P_NONE, 1}};
    /* the bytes a value may hold here: printable ASCII but the quote and the backslash */
    static const unsigned char plain[256] = {
        /* 0x00-0x7f; the rest 0 */
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0,
    };
    char key[16], value[VALUE_MAX + 1];
    const char *e = p + len, *q;
    size_t k = 0, t = 0, ntypes = sizeof(types) / sizeof(types[0]);
    int fam, hkind = -1;
    if (export_force_compile || len < 8 || p[0] != '[' || e[-1] != ']')
        return 0;
    const char *colon = memchr(p + 1, ':', len - 1 < 20 ? len - 1 : 20);
    size_t n = colon ? (size_t)(colon - p - 1) : 0;
    while (colon && t < ntypes && !(types[t].len == n && memcmp(types[t].name, p + 1, n) == 0))
        t++;
    if (!colon || t == ntypes)
        return 0;
    p = colon + 1;
    if (e - p > 6 && memcmp(p, "value ", 6) == 0) {
        p += 5;
        fam = types[t].value_fam;
    } else if (e - p > 9 && memcmp(p, "hashes.'", 8) == 0) {
        p += 8;
        for (; p < e && ((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-'); p++)
            if (k == sizeof(key) - 1)
                return 0;
            else
                key[k++] = *p;
        if (k == 0 || p >= e || *p++ != '\'')
            return 0;
        key[k] = '\0';
        hkind = types[t].cert < 0 ? -1 : hash_kind(key, types[t].cert);
        fam = hkind < 0 ? P_NONE : types[t].cert ? P_CERT : P_FILE;
    } else {
        return 0;
    }
    if (e - p < 6 || memcmp(p, " = '", 4) != 0)
        return 0;
    /* printable ASCII up to the closing quote, without escapes: eight bytes at a time while
     * they all are, then byte by byte */
    for (p += 4, q = p; e - 2 - q >= 8 && word_plain(q); q += 8)
        ;
    for (; q < e - 2 && plain[(unsigned char)*q]; q++)
        ;
    size_t v = (size_t)(q - p);
    if (q != e - 2 || *q != '\'' || v > VALUE_MAX)
        return 0;
    memcpy(value, p, v);
    value[v] = '\0';
    /* what walk_cmp does with the comparison the compiler would build: one literal, = */
    pattern_lit lit = {.kind = PL_STRING, .s = value, .len = v};
    if (fam == P_NONE)
        x->why = WHY_PATH, *rc = 0;
    else
        *rc = add_literal(x, fam, hkind, &lit);
    return 1;
}

/* Translates the pattern of indicator v into items; an untranslatable one is rolled back (and,
 * unless x->quiet, counted and named). */
static int translate(sel *x, const ind_view *v)
{
    accord_export_set *s = x->set;
    size_t items0 = s->nitems, str0 = s->str_len;
    uint64_t allow0 = s->stats.allowlisted;
    x->why = WHY_NONE;
    x->kinds = 0;
    x->allowed = 0;
    int rc = 0;
    if (v->ptype && strcmp(v->ptype, "stix") != 0) {
        x->why = WHY_PATTERN_TYPE;
    } else if (!v->pattern) {
        x->why = WHY_INVALID;
    } else if (!simple_pattern(x, v->pattern, v->plen, &rc)) {
        accord_pattern *p = NULL;
        unsigned flags = strcmp(v->r->spec_version, "2.0") == 0 ? ACCORD_PATTERN_STIX20 : 0;
        if (accord_pattern_compile(v->pattern, v->plen, flags, &p, NULL) != 0)
            x->why = WHY_INVALID;
        else
            rc = walk_oexpr(x, p->root);
        accord_pattern_free(p);
    }
    if (rc || x->why) {
        s->nitems = items0;
        s->str_len = str0;
        s->stats.allowlisted = allow0;
        if (!rc && !x->quiet)
            note_untranslatable(x, v->r->id, x->why);
    }
    return rc;
}

static void note_boundary(sel *x, int64_t t)
{
    accord_export_set *s = x->set;
    if (t > x->at) {
        if (t < s->next_us)
            s->next_us = t;
        return;
    }
    if (t > s->serial_us)
        s->serial_us = t;
    if (t > s->boundary_us)
        s->boundary_us = t;
}

/* Raises the change stamps (export.h: kind_at, kind_added) of the kinds in `kinds`. */
static void note_kinds(accord_export_set *s, unsigned kinds, int64_t at, int64_t added)
{
    for (kinds &= ACCORD_EK_BIT(ACCORD_EK_COUNT) - 1; kinds; kinds &= kinds - 1) {
        int k = __builtin_ctz(kinds);
        if (at > s->kind_at[k])
            s->kind_at[k] = at;
        if (added > s->kind_added[k])
            s->kind_added[k] = added;
    }
}

/* The kinds of an indicator that is not selected (expired), without counting anything. */
static int kinds_quietly(sel *x, const ind_view *v, unsigned *kinds)
{
    accord_export_set *s = x->set;
    size_t items0 = s->nitems, str0 = s->str_len;
    uint64_t allow0 = s->stats.allowlisted;
    x->quiet = 1;
    int rc = translate(x, v);
    x->quiet = 0;
    *kinds = x->why ? 0 : x->kinds;
    s->nitems = items0;
    s->str_len = str0;
    s->stats.allowlisted = allow0;
    return rc;
}

/* Keeps untranslatable indicator *ind (its strings stay in the set) in s->others. */
static int keep_other(accord_export_set *s, const export_ind *ind, int why, int64_t seq)
{
    if (export_grow((void **)&s->others, &s->others_cap, s->nothers + 1, sizeof(*s->others)))
        return ACCORD_ENOMEM;
    export_ind *o = &s->others[s->nothers++];
    *o = *ind;
    o->untranslatable = (uint8_t)why;
    o->seq = seq;
    return 0;
}

/*
 * Adds indicator v when active and passing; 0 or an error.  Besides, it keeps for each kind the
 * newest instant at or before the export time and the newest date_added that can make a
 * difference to that kind's values (kind_at, kind_added; export.h says why): the start of what
 * is selected, the end of what expired, the arrival of what is selected, and any version that
 * replaced or revoked an older one.
 */
static int consider(sel *x, const ind_view *v)
{
    accord_export_set *s = x->set;
    const accord_record *r = v->r;
    if (!r->first) /* its older version may have held any kind */
        note_kinds(s, ~0u, INT64_MIN, r->added_us);
    if (r->revoked)
        return 0;
    s->stats.scanned++;
    if (v->from == INT64_MAX)
        return 0;
    note_boundary(x, v->from);
    note_boundary(x, v->until);
    if (v->from > x->at)
        return s->stats.not_yet_valid++, 0;
    /* the store's label: object and granular markings, decided once at import (tlp.h) */
    int tlp = tlp_effective(r->tlp, x->dflt);
    if (!passes(x->f, v, tlp))
        return s->stats.filtered++, 0;
    if (v->until <= x->at) {
        unsigned kinds;
        int rc = kinds_quietly(x, v, &kinds);
        note_kinds(s, kinds, v->until, INT64_MIN);
        return rc ? rc : (s->stats.expired++, 0);
    }
    if (export_grow((void **)&s->inds, &s->inds_cap, s->ninds + 1, sizeof(*s->inds)))
        return ACCORD_ENOMEM;
    export_ind *ind = &s->inds[s->ninds];
    memset(ind, 0, sizeof(*ind));
    size_t str_before = s->str_len;
    if (str_add(s, r->id, strlen(r->id), &ind->id) ||
        str_add(s, v->name ? v->name : "", v->name ? strlen(v->name) : 0, &ind->name))
        return ACCORD_ENOMEM;
    ind->valid_until = v->until;
    ind->confidence = v->conf;
    ind->tlp = (uint8_t)tlp;
    x->ind = (uint32_t)s->ninds;
    size_t items0 = s->nitems;
    int rc = translate(x, v);
    if (!rc && x->why && !x->f->kinds) /* kept aside for misp-feed (export.h: others) */
        return keep_other(s, ind, x->why, r->seq);
    if (rc || x->why)
        return s->str_len = str_before, rc; /* untranslatable: not selected */
    if (x->f->kinds && (x->kinds & ~x->f->kinds)) {
        s->nitems = items0;
        s->str_len = str_before;
        return s->stats.filtered++, 0;
    }
    note_kinds(s, x->kinds, v->from, r->added_us);
    ind->kinds = x->kinds;
    ind->allowlisted = (uint8_t)x->allowed;
    ind->seq = r->seq;
    ind->nitems = (uint32_t)(s->nitems - items0);
    for (size_t i = items0; i < s->nitems; i++)
        s->items[i].ikinds = (uint16_t)x->kinds, s->items[i].tlp = ind->tlp;
    s->ninds++;
    s->stats.selected++;
    return 0;
}

/* A record of the body scan (filters on labels, indicator_types or creators). */
static int on_record(void *ud, const accord_record *r)
{
    sel *x = ud;
    ajson_error jerr;
    ind_view v;
    ajson_arena_reset(&x->arena);
    const ajson_value *o = export_fields_parse(&x->arena, r->body, r->body_len);
    if (!o) /* an escape or an unexpected shape: the strict parser decides */
        o = ajson_parse(&x->arena, r->body, r->body_len, &jerr);
    if (!o)
        return 0; /* stored bodies were validated; an unreadable one cannot be exported */
    view_of_body(&v, r, o);
    return consider(x, &v);
}

/* A row of the indicators table. */
static int on_ind(void *ud, const store_ind *d)
{
    ind_view v = {.r = &d->r,
                  .from = d->valid_from,
                  .until = d->valid_until,
                  .conf = d->confidence,
                  .name = d->name,
                  .ptype = d->pattern_type,
                  .pattern = d->pattern,
                  .plen = d->pattern_len};
    return consider(ud, &v);
}

static const accord_export_filter no_filter = {.min_confidence = -1, .max_tlp = -1};

/*
 * The walk over the indicators: the latest version of each (revoked ones too: a revocation is a
 * change), or every version with `all`; cb receives an accord_record and, from the indicators
 * table, the store_ind around it (body filters: NULL, the record carries the body).
 */
typedef int (*walk_cb)(void *ud, const accord_record *r, const store_ind *d);

typedef struct walk {
    walk_cb cb;
    void *ud;
} walk;

static int walk_rec(void *ud, const accord_record *r)
{
    walk *w = ud;
    return w->cb(w->ud, r, NULL);
}

static int walk_ind(void *ud, const store_ind *d)
{
    walk *w = ud;
    return w->cb(w->ud, &d->r, d);
}

int export_force_body;

static int walk_indicators(accord_store *store, const accord_export_filter *f, int all, walk_cb cb,
                           void *ud, accord_error *err)
{
    static const char *const types[] = {"indicator", NULL};
    walk w = {cb, ud};
    if (!needs_body(f) && !export_force_body)
        return store_ind_scan(store, f->collection, f->viewer, all, walk_ind, &w, err);
    accord_scan_filter sf = {.collection = f->collection,
                             .types = types,
                             .versions = all ? ACCORD_VERSIONS_ALL : ACCORD_VERSIONS_LAST,
                             .include_revoked = 1,
                             .viewer = f->viewer};
    return accord_store_scan(store, &sf, walk_rec, &w, err);
}

static int sel_one(void *ud, const accord_record *r, const store_ind *d)
{
    return d ? on_ind(ud, d) : on_record(ud, r);
}

/*
 * The store as it was at date_added `limit` (for a cursor): every version added up to then, the
 * latest of each id by modified (the later added on a tie), unless that one is revoked.  Two
 * passes in added order: the first picks each id's version (a map id hash -> pick), the second
 * hands the picked versions to consider.  The walk stops at the first version added after limit.
 */
typedef struct asof {
    sel *x;
    int64_t limit;
    u64map ids; /* hash(id) -> index in picks */
    struct pick {
        int64_t modified, seq;
        int revoked;
    } * picks;
    size_t n, cap;
} asof;

#define ASOF_STOP 1 /* a positive callback value: stop the walk, no error */

static int asof_pick(void *ud, const accord_record *r, const store_ind *d)
{
    asof *a = ud;
    uint64_t key = u64map_key(XXH3_64bits(r->id, strlen(r->id))), i;
    int64_t mod = 0;
    (void)d;
    if (r->added_us > a->limit)
        return ASOF_STOP;
    if (r->modified[0] && accord_timestamp_parse(r->modified, &mod) != 0)
        mod = 0;
    if (!u64map_get(&a->ids, key, &i)) {
        if (export_grow((void **)&a->picks, &a->cap, a->n + 1, sizeof(*a->picks)) ||
            u64map_put(&a->ids, key, a->n))
            return ACCORD_ENOMEM;
        i = a->n++;
    } else if (mod < a->picks[i].modified) {
        return 0;
    }
    a->picks[i] = (struct pick){mod, r->seq, r->revoked};
    return 0;
}

static int asof_take(void *ud, const accord_record *r, const store_ind *d)
{
    asof *a = ud;
    uint64_t i;
    if (r->added_us > a->limit)
        return ASOF_STOP;
    if (!u64map_get(&a->ids, u64map_key(XXH3_64bits(r->id, strlen(r->id))), &i) ||
        a->picks[i].seq != r->seq || a->picks[i].revoked)
        return 0;
    /* as the store was then: this version was the latest, and not a replacement of anything the
     * set's change stamps need (they are of the current store only) */
    accord_record then = *r;
    then.latest = then.first = 1;
    then.revoked = 0;
    if (!d)
        return on_record(a->x, &then);
    store_ind dt = *d;
    dt.r = then;
    return on_ind(a->x, &dt);
}

static int scan_as_of(accord_store *store, sel *x, accord_error *err)
{
    asof a = {.x = x, .limit = x->f->as_of_added_us};
    u64map_init(&a.ids);
    int rc = walk_indicators(store, x->f, 1, asof_pick, &a, err);
    if (rc == ASOF_STOP || rc == 0)
        rc = walk_indicators(store, x->f, 1, asof_take, &a, err);
    if (rc == ASOF_STOP)
        rc = 0;
    u64map_free(&a.ids);
    free(a.picks);
    return rc;
}

int accord_export_select(accord_store *store, const accord_export_filter *f,
                         accord_export_set **out, accord_error *err)
{
    sel x = {.f = f ? f : &no_filter};
    *out = NULL;
    if (!(x.set = calloc(1, sizeof(*x.set))))
        return accord_err_set(err, ACCORD_ENOMEM, "export: out of memory");
    ajson_arena_init(&x.arena, 0);
    accord_store_stats st;
    /* one snapshot: a set and its change stamp must agree (accord_export_rpz_serial orders
     * exports of one zone by it) */
    int snap = store_feed_snapshot_begin(store, &x.set->stamp);
    x.at = x.f->at_us ? x.f->at_us : accord_timestamp_now(); /* after: later snapshot, later now */
    int rc = snap < 0 ? accord_err_set(err, ACCORD_ESTORE, "export: the store cannot be read")
                      : accord_store_stats_light(store, &st, err);
    if (!rc)
        rc = accord_tlp_default_get(store, &x.dflt, err);
    if (!rc)
        rc = export_allow_load(store, &x.allow, err);
    if (!rc) {
        x.set->at_us = x.at;
        x.set->store = store;
        x.set->viewer = x.f->viewer;
        x.set->collection = x.f->collection;
        x.set->max_tlp = x.f->max_tlp;
        x.set->dflt_tlp = x.dflt;
        x.set->boundary_us = INT64_MIN;
        x.set->next_us = INT64_MAX;
        for (int k = 0; k < ACCORD_EK_COUNT; k++)
            x.set->kind_at[k] = x.set->kind_added[k] = INT64_MIN;
        x.set->added_us = st.last_added_us;
        if (x.f->as_of_added_us && x.f->as_of_added_us < st.last_added_us)
            x.set->added_us = x.f->as_of_added_us;
        x.set->serial_us = x.set->added_us;
        int64_t ch = accord_allowlist_changed(store);
        if (ch > x.set->serial_us)
            x.set->serial_us = ch;
        if (x.f->as_of_added_us)
            rc = scan_as_of(store, &x, err);
        else
            rc = walk_indicators(store, x.f, 0, sel_one, &x, err);
        if (rc == ACCORD_ENOMEM)
            accord_err_set(err, rc, "export: out of memory");
    }
    store_feed_snapshot_end(store, snap);
    ajson_arena_free(&x.arena);
    export_allow_free(x.allow);
    if (rc) {
        accord_export_set_free(x.set);
        return rc;
    }
    if ((rc = export_sort(x.set))) {
        accord_err_set(err, rc, "export: out of memory");
        accord_export_set_free(x.set);
        return rc;
    }
    x.set->stats.items = x.set->nitems;
    *out = x.set;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Writing: the helpers every format uses, and the dispatcher                                  */

int export_flush(export_out *w)
{
    if (w->rc)
        return w->rc;
    if (w->b.failed)
        return w->rc = ACCORD_ENOMEM;
    if (w->b.len) {
        if (w->o->max_bytes && w->b.len > w->o->max_bytes - w->written) {
            w->capped = 1; /* nothing past the cap leaves: the caller sees a whole refusal */
            return w->rc = ACCORD_ELIMIT;
        }
        w->written += w->b.len;
        int rc = w->cb(w->ud, w->file, w->b.p, w->b.len);
        if (rc)
            return w->rc = rc;
    }
    buf_reset(&w->b);
    return 0;
}

int export_file(export_out *w, const char *name)
{
    if (export_flush(w))
        return w->rc;
    w->file = name;
    int rc = w->cb(w->ud, name, "", 0);
    return rc ? (w->rc = rc) : 0;
}

int export_add_slow(export_out *w, const char *s, size_t len)
{
    if (w->rc)
        return w->rc;
    if (buf_add(&w->b, s, len))
        return w->rc = ACCORD_ENOMEM;
    return w->b.len >= EXPORT_FLUSH_AT ? export_flush(w) : 0;
}

int export_printf(export_out *w, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    if (w->rc)
        return w->rc;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0)
        return w->rc = ACCORD_EINVAL;
    if ((size_t)n < sizeof(tmp))
        return export_add(w, tmp, (size_t)n);
    char *big = malloc((size_t)n + 1); /* a long line: format it again on the heap */
    if (!big)
        return w->rc = ACCORD_ENOMEM;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    int rc = export_add(w, big, (size_t)n);
    free(big);
    return rc;
}

const export_ind *export_item_ind(const accord_export_set *s, size_t i)
{
    return &s->inds[s->items[i].ind];
}

int export_item_dup(const accord_export_set *s, size_t i)
{
    const export_item *a = &s->items[i], *b = i ? &s->items[i - 1] : NULL;
    return b && a->kind == b->kind && a->len == b->len &&
           memcmp(s->str + a->value, s->str + b->value, a->len) == 0;
}

int export_item_ok(export_out *w, size_t i)
{
    if (export_item_fits(w, i))
        return 1; /* the common case: counted once per indicator by run_writer */
    const accord_export_set *s = w->set;
    uint32_t ind = s->items[i].ind;
    if (w->mark[ind])
        return 0;
    const export_ind *d = &s->inds[ind];
    unsigned bad = d->kinds & ~w->supported;
    w->mark[ind] = 1;
    w->sum->unexportable++;
    if (w->sum->nnames < ACCORD_EXPORT_NAMES) {
        int k = __builtin_ctz(bad);
        snprintf(w->sum->names[w->sum->nnames++], sizeof(w->sum->names[0]),
                 "%s: %s values cannot be expressed in %s", s->str + d->id, kind_names[k],
                 w->format);
    }
    return 0;
}

typedef struct format_def {
    const char *name;
    int files; /* writes several files */
} format_def;

static const format_def formats[] = {
    {"zeek-intel", 0},
    {"suricata-dataset", 1},
    {"suricata-rules", 1},
    {"rpz", 0},
    {"nft", 0},
    {"csv", 0},
    {"plain", 0},
    {"misp-feed", 1},
    {"stix", 0},
};

int accord_export_format_files(const char *format)
{
    for (size_t i = 0; format && i < sizeof(formats) / sizeof(formats[0]); i++)
        if (strcmp(formats[i].name, format) == 0)
            return formats[i].files;
    return -1;
}

static int dispatch(export_out *w, accord_error *err)
{
    const char *f = w->format;
    if (strcmp(f, "zeek-intel") == 0)
        return export_zeek(w);
    if (strcmp(f, "suricata-dataset") == 0)
        return export_suricata_dataset(w);
    if (strcmp(f, "suricata-rules") == 0)
        return export_suricata_rules(w);
    if (strcmp(f, "rpz") == 0)
        return export_rpz(w);
    if (strcmp(f, "nft") == 0)
        return export_nft(w);
    if (strcmp(f, "csv") == 0)
        return export_csv(w, err);
    if (strcmp(f, "plain") == 0)
        return export_plain(w);
    if (strcmp(f, "misp-feed") == 0)
        return export_misp_feed(w);
    if (strcmp(f, "stix") == 0)
        return export_stix(w);
    return accord_err_set(err, ACCORD_EINVAL,
                          "export: unknown format \"%s\" (zeek-intel, suricata-dataset, "
                          "suricata-rules, rpz, nft, csv, plain, misp-feed, stix)",
                          f);
}

/* Runs one writer over set: dispatch (prev NULL) or the nft delta from prev. */
static int run_writer(const accord_export_set *set, const accord_export_set *prev,
                      const accord_export_options *o, accord_export_write_cb cb, void *ud,
                      accord_export_summary *sum, accord_error *err)
{
    accord_export_summary local;
    if (!sum)
        sum = &local;
    memset(sum, 0, sizeof(*sum));
    if (!o || !o->format || accord_export_format_files(o->format) < 0)
        return dispatch(&(export_out){.format = o && o->format ? o->format : "(none)"}, err);
    export_out w = {.set = set, .o = o, .cb = cb, .ud = ud, .sum = sum, .format = o->format};
    buf_init(&w.b, 16u << 20);
    /* what no format expresses is named first */
    sum->unexportable = set->stats.not_translatable;
    for (size_t i = 0; i < set->nuntr; i++)
        memcpy(sum->names[sum->nnames++], set->untr[i], sizeof(set->untr[i]));
    w.mark = calloc(set->ninds ? set->ninds : 1, 1);
    int rc = !w.mark                                  ? ACCORD_ENOMEM
             : prev && strcmp(o->format, "stix") == 0 ? export_stix_delta(&w, prev)
             : prev                                   ? export_nft_delta(&w, prev)
                                                      : dispatch(&w, err);
    if (!rc)
        rc = export_flush(&w);
    for (size_t i = 0; !rc && i < set->nitems; i++)
        if (!export_item_fits(&w, i))
            export_item_ok(&w, i); /* count and name what the writer never looked at */
    for (size_t i = 0; !rc && i < set->ninds; i++)
        sum->indicators +=
            set->inds[i].nitems && !(set->inds[i].kinds & ~w.supported) && !w.mark[i];
    free(w.mark);
    buf_free(&w.b);
    if (rc && w.capped)
        accord_err_set(err, rc,
                       "export %s: the output passes %llu bytes, its cap (a feed serves at most "
                       "%llu MiB); narrow the selection (--type, --min-confidence, --max-tlp, "
                       "--collection, --label) or split it into several feeds",
                       o->format, (unsigned long long)o->max_bytes,
                       (unsigned long long)(ACCORD_FEED_MAX_BYTES >> 20));
    else if (rc && err && !err->msg[0])
        accord_err_set(err, rc, "export %s: %s", o->format, accord_strerror(rc));
    return rc;
}

int accord_export_write(const accord_export_set *set, const accord_export_options *o,
                        accord_export_write_cb cb, void *ud, accord_export_summary *sum,
                        accord_error *err)
{
    return run_writer(set, NULL, o, cb, ud, sum, err);
}

int accord_export_nft_delta(const accord_export_set *prev, const accord_export_set *set,
                            const accord_export_options *o, accord_export_write_cb cb, void *ud,
                            accord_export_summary *sum, accord_error *err)
{
    accord_export_options nft = {.format = "nft"};
    if (o) {
        nft = *o;
        nft.format = "nft";
    }
    return run_writer(set, prev, &nft, cb, ud, sum, err);
}

int accord_export_stix_delta(const accord_export_set *prev, const accord_export_set *set,
                             const accord_export_options *o, accord_export_write_cb cb, void *ud,
                             accord_export_summary *sum, accord_error *err)
{
    accord_export_options stix = {.format = "stix"};
    if (o) {
        stix = *o;
        stix.format = "stix";
    }
    return run_writer(set, prev, &stix, cb, ud, sum, err);
}

/* ------------------------------------------------------------------------------------------ */
/* Cursors                                                                                      */

int accord_export_nft_cursor(const accord_export_set *set, accord_export_cursor *out)
{
    /* The newest instant and date_added that made a difference to an address value (export.h):
     * the store as it was then, selected then, gives this set's elements; and neither moves
     * while the elements stay as they are, whatever else passes or arrives. */
    out->at_us = 1;
    out->added_us = 1;
    for (int k = 0; k < ACCORD_EK_COUNT; k++) {
        if (!(ACCORD_EK_IP_BITS & ACCORD_EK_BIT(k)))
            continue;
        if (set->kind_at[k] > out->at_us)
            out->at_us = set->kind_at[k];
        if (set->kind_added[k] > out->added_us)
            out->added_us = set->kind_added[k];
    }
    return export_nft_digest(set, &out->digest);
}

void accord_export_cursor_format(const accord_export_cursor *c, char *out, size_t outlen)
{
    snprintf(out, outlen, "v1.%lld.%lld.%016llx", (long long)c->at_us, (long long)c->added_us,
             (unsigned long long)c->digest);
}

/* A decimal field of a cursor ending at `stop`; *p moves past the stop byte. */
static int cursor_num(const char **p, char stop, int hex, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    size_t n = 0;
    for (; *s && *s != stop; s++, n++) {
        int d = *s >= '0' && *s <= '9'          ? *s - '0'
                : hex && *s >= 'a' && *s <= 'f' ? *s - 'a' + 10
                                                : -1;
        if (d < 0 || n >= (hex ? 16u : 18u))
            return -1;
        v = v * (hex ? 16u : 10u) + (unsigned)d;
    }
    if (n == 0 || *s != stop)
        return -1;
    *p = *s ? s + 1 : s;
    *out = v;
    return 0;
}

int accord_export_cursor_parse(const char *text, accord_export_cursor *out)
{
    uint64_t at, added, digest;
    const char *p = text;
    if (!text || strncmp(p, "v1.", 3) != 0)
        return ACCORD_EINVAL;
    p += 3;
    if (cursor_num(&p, '.', 0, &at) || cursor_num(&p, '.', 0, &added) || added == 0 ||
        cursor_num(&p, '\0', 1, &digest) || p - text > ACCORD_EXPORT_CURSOR_MAX)
        return ACCORD_EINVAL;
    out->at_us = (int64_t)at;
    out->added_us = (int64_t)added;
    out->digest = digest;
    return 0;
}
