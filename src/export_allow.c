/*
 * export_allow.c - allow-lists: values no export may ever contain, and the parser of the files
 * they come from.
 *
 * A blocked resolver for a top site or a firewall rule on a public DNS server does more harm than
 * the indicator that asked for it prevents, so every export passes each value through this
 * matcher and leaves out what matches (counted in the summary).  Entries have the kinds of MISP
 * warninglists, and each applies to the export kinds it can touch:
 *
 *   entry kind  matches                                                   export kinds
 *   string      the value itself, normalised as the value index does      every kind
 *   substring   a value containing it (ASCII case-insensitive)            every kind
 *   hostname    the host and every name below it; a domain-suffix whose   domain, domain-suffix,
 *               subtree holds it (blocking *.com would block google.com)  url (its host)
 *   cidr        an address in it, or a network overlapping it             ipv4/6, cidr4/6, url
 *   regex       a value it matches (PCRE2; "/re/i" delimiters allowed)    every kind
 *
 * Built in, always: the IPv4 and IPv6 special-purpose ranges of RFC 1918 and RFC 6890 (private,
 * loopback, link-local, documentation, benchmarking, multicast, reserved), whether or not a list
 * was imported; a network that overlaps one is left out whole rather than split.
 *
 * Structures: exact strings and host names are 64-bit hashes in u64map sets (a hostname also adds
 * every parent name to a second set, for the suffix rule); cidrs are merged, sorted ranges per
 * family, searched by bisection; substrings and regexes are short lists tried in turn.
 *
 * The file parser reads MISP warninglist JSON ({"name", "type", "list": [...]}) with the strict
 * JSON parser, or a plain list: one value a line, '#' starts a comment, each line a cidr, a
 * hostname or a string by its shape.
 */
#include "export.h"

#include "store.h"
#include "util/json.h"
#include "util/u64map.h"
#include "values.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

typedef struct range {
    export_u128 lo, hi;
} range;

typedef struct ranges {
    range *v;
    size_t n, cap;
} ranges;

struct export_allow {
    u64map exact;   /* hash(normalised value) */
    u64map hosts;   /* hash(host name) */
    u64map parents; /* hash(every proper parent name of an allowed host) */
    ranges net[2];  /* [0] IPv4, [1] IPv6; sorted and merged after loading */
    char **subs;
    size_t nsubs;
    pcre2_code **res;
    size_t nres;
};

/* RFC 1918 and the special-purpose registries of RFC 6890 (and their updates). */
static const char *const builtin_cidrs[] = {
    "0.0.0.0/8",     "10.0.0.0/8",      "100.64.0.0/10",  "127.0.0.0/8",    "169.254.0.0/16",
    "172.16.0.0/12", "192.0.0.0/24",    "192.0.2.0/24",   "192.88.99.0/24", "192.168.0.0/16",
    "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4",    "240.0.0.0/4",
    "::/128",        "::1/128",         "::ffff:0:0/96",  "64:ff9b:1::/48", "100::/64",
    "2001::/23",     "2001:db8::/32",   "fc00::/7",       "fe80::/10",      "ff00::/8",
};

static uint64_t h(const char *v, size_t len)
{
    return u64map_key(store_value_hash(v, len));
}

static int ranges_add(ranges *r, export_u128 lo, export_u128 hi)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        range *v = realloc(r->v, cap * sizeof(*v));
        if (!v)
            return ACCORD_ENOMEM;
        r->v = v;
        r->cap = cap;
    }
    r->v[r->n++] = (range){lo, hi};
    return 0;
}

static int range_cmp(const void *pa, const void *pb)
{
    const range *a = pa, *b = pb;
    return a->lo < b->lo ? -1 : a->lo > b->lo;
}

/* Sorts and merges overlapping ranges, so a lookup is one bisection. */
static void ranges_merge(ranges *r)
{
    size_t n = 0;
    if (r->n)
        qsort(r->v, r->n, sizeof(*r->v), range_cmp);
    for (size_t i = 0; i < r->n; i++) {
        if (n && r->v[i].lo <= r->v[n - 1].hi) {
            if (r->v[i].hi > r->v[n - 1].hi)
                r->v[n - 1].hi = r->v[i].hi;
        } else {
            r->v[n++] = r->v[i];
        }
    }
    r->n = n;
}

/* 1 when [lo, hi] overlaps some range of r. */
static int ranges_overlap(const ranges *r, export_u128 lo, export_u128 hi)
{
    size_t a = 0, b = r->n; /* the first range with hi >= lo */
    while (a < b) {
        size_t m = a + (b - a) / 2;
        if (r->v[m].hi < lo)
            a = m + 1;
        else
            b = m;
    }
    return a < r->n && r->v[a].lo <= hi;
}

static int add_cidr(export_allow *a, const char *v)
{
    int fam;
    export_u128 lo, hi;
    if (export_net_range(v, &fam, &lo, &hi) < 0)
        return ACCORD_EINVAL;
    return ranges_add(&a->net[fam == 6], lo, hi);
}

static int add_host(export_allow *a, const char *v, size_t len)
{
    if (u64map_put(&a->hosts, h(v, len), 1))
        return ACCORD_ENOMEM;
    for (const char *p = memchr(v, '.', len); p; p = memchr(p + 1, '.', len - (size_t)(p + 1 - v)))
        if (u64map_put(&a->parents, h(p + 1, len - (size_t)(p + 1 - v)), 1))
            return ACCORD_ENOMEM;
    return 0;
}

static int add_regex(export_allow *a, const char *v)
{
    size_t len = strlen(v);
    uint32_t opts = 0;
    const char *end = len > 1 && v[0] == '/' ? strrchr(v, '/') : NULL;
    if (end && end > v) { /* "/re/flags" */
        opts = strchr(end, 'i') ? PCRE2_CASELESS : 0;
        len = (size_t)(end - v - 1);
        v++;
    }
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)v, len, opts | PCRE2_UTF, &ec, &eo, NULL);
    if (!re)
        return ACCORD_EINVAL;
    pcre2_code **r = realloc(a->res, (a->nres + 1) * sizeof(*r));
    if (!r) {
        pcre2_code_free(re);
        return ACCORD_ENOMEM;
    }
    a->res = r;
    a->res[a->nres++] = re;
    return 0;
}

static int add_sub(export_allow *a, const char *v)
{
    char **s = realloc(a->subs, (a->nsubs + 1) * sizeof(*s));
    if (!s)
        return ACCORD_ENOMEM;
    a->subs = s;
    if (!(a->subs[a->nsubs] = strdup(v)))
        return ACCORD_ENOMEM;
    a->nsubs++;
    return 0;
}

/* Adds one entry; entries that cannot match anything (a bad cidr) are skipped. */
static int allow_add(export_allow *a, const char *kind, const char *value)
{
    char norm[VALUE_MAX + 1];
    long n = value_normalize(value, strlen(value), norm, sizeof(norm));
    if (n < 0)
        return 0;
    if (strcmp(kind, "cidr") == 0)
        return add_cidr(a, norm) == ACCORD_ENOMEM ? ACCORD_ENOMEM : 0;
    if (strcmp(kind, "hostname") == 0) {
        const char *p = norm;
        while (*p == '.' || *p == '*') /* ".example.com", "*.example.com": the same subtree */
            p++;
        return *p ? add_host(a, p, strlen(p)) : 0;
    }
    if (strcmp(kind, "substring") == 0)
        return add_sub(a, value);
    if (strcmp(kind, "regex") == 0)
        return add_regex(a, value) == ACCORD_ENOMEM ? ACCORD_ENOMEM : 0;
    return u64map_put(&a->exact, h(norm, (size_t)n), 1) ? ACCORD_ENOMEM : 0;
}

static int load_one(void *ud, const char *list, const char *kind, const char *value)
{
    (void)list;
    return allow_add(ud, kind, value);
}

void export_allow_free(export_allow *a)
{
    if (!a)
        return;
    u64map_free(&a->exact);
    u64map_free(&a->hosts);
    u64map_free(&a->parents);
    free(a->net[0].v);
    free(a->net[1].v);
    for (size_t i = 0; i < a->nsubs; i++)
        free(a->subs[i]);
    free(a->subs);
    for (size_t i = 0; i < a->nres; i++)
        pcre2_code_free(a->res[i]);
    free(a->res);
    free(a);
}

int export_allow_load(accord_store *store, export_allow **out, accord_error *err)
{
    export_allow *a = calloc(1, sizeof(*a));
    int rc = 0;
    *out = NULL;
    if (!a)
        return accord_err_set(err, ACCORD_ENOMEM, "allow-list: out of memory");
    u64map_init_set(&a->exact);
    u64map_init_set(&a->hosts);
    u64map_init_set(&a->parents);
    for (size_t i = 0; !rc && i < sizeof(builtin_cidrs) / sizeof(builtin_cidrs[0]); i++)
        rc = add_cidr(a, builtin_cidrs[i]);
    if (!rc && store)
        rc = accord_allowlist_each(store, load_one, a, err);
    if (rc) {
        export_allow_free(a);
        return rc == ACCORD_ENOMEM ? accord_err_set(err, rc, "allow-list: out of memory") : rc;
    }
    ranges_merge(&a->net[0]);
    ranges_merge(&a->net[1]);
    *out = a;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Matching                                                                                     */

static int host_or_parent(const export_allow *a, const char *v, size_t len)
{
    if (!a->hosts.n)
        return 0;
    for (const char *p = v; p; p = memchr(p, '.', len - (size_t)(p - v)), p = p ? p + 1 : NULL)
        if (u64map_get(&a->hosts, h(p, len - (size_t)(p - v)), NULL))
            return 1;
    return 0;
}

static int net_match(const export_allow *a, const char *v)
{
    int fam;
    export_u128 lo, hi;
    return export_net_range(v, &fam, &lo, &hi) == 0 && ranges_overlap(&a->net[fam == 6], lo, hi);
}

/* The host of a URL ("scheme://[user@]host[:port]/..."), as a separate string. */
static int url_host(const char *v, char *out, size_t outlen)
{
    const char *p = strstr(v, "://");
    if (!p)
        return -1;
    p += 3;
    size_t n = strcspn(p, "/?#");
    const char *at = memchr(p, '@', n);
    if (at)
        n -= (size_t)(at + 1 - p), p = at + 1;
    if (n && p[0] == '[') { /* [IPv6]:port */
        const char *e = memchr(p, ']', n);
        if (!e)
            return -1;
        p++, n = (size_t)(e - p);
    } else {
        const char *colon = memchr(p, ':', n);
        if (colon)
            n = (size_t)(colon - p);
    }
    if (n == 0 || n >= outlen)
        return -1;
    memcpy(out, p, n);
    out[n] = '\0';
    return 0;
}

static int text_match(const export_allow *a, const char *v, size_t len)
{
    if (a->exact.n && u64map_get(&a->exact, h(v, len), NULL)) /* no list loaded: no hashing */
        return 1;
    for (size_t i = 0; i < a->nsubs; i++)
        if (strcasestr(v, a->subs[i]))
            return 1;
    if (!a->nres)
        return 0;
    pcre2_match_data *md = pcre2_match_data_create(4, NULL);
    int hit = 0;
    for (size_t i = 0; md && !hit && i < a->nres; i++)
        hit = pcre2_match(a->res[i], (PCRE2_SPTR)v, len, 0, 0, md, NULL) >= 0;
    pcre2_match_data_free(md);
    return hit;
}

int export_allow_match_v4(const export_allow *a, const char *v, size_t len, uint32_t lo,
                          uint32_t hi)
{
    return text_match(a, v, len) || ranges_overlap(&a->net[0], lo, hi);
}

/* 1 when a URL's host may be an address literal (digits and dots, or an IPv6 one with ':'):
 * a name is never one, and parsing it as both families was most of a URL's check. */
static int host_may_be_address(const char *host)
{
    if (strchr(host, ':'))
        return 1;
    for (const char *p = host; *p; p++)
        if (!((*p >= '0' && *p <= '9') || *p == '.'))
            return 0;
    return 1;
}

int export_allow_match(const export_allow *a, int kind, const char *v, size_t len)
{
    char host[256];
    if (text_match(a, v, len))
        return 1;
    switch (kind) {
    case ACCORD_EK_IPV4:
    case ACCORD_EK_IPV6:
    case ACCORD_EK_CIDR4:
    case ACCORD_EK_CIDR6:
        return net_match(a, v);
    case ACCORD_EK_DOMAIN:
        return host_or_parent(a, v, len);
    case ACCORD_EK_SUFFIX:
        return host_or_parent(a, v, len) || u64map_get(&a->parents, h(v, len), NULL);
    case ACCORD_EK_URL:
        if (url_host(v, host, sizeof(host)) < 0)
            return 0;
        return (host_may_be_address(host) && net_match(a, host)) ||
               host_or_parent(a, host, strlen(host)) ||
               u64map_get(&a->exact, h(host, strlen(host)), NULL);
    default:
        return 0;
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Allow-list files                                                                             */

static int kind_known(const char *k)
{
    static const char *const kinds[] = {"string", "substring", "hostname", "cidr", "regex"};
    for (size_t i = 0; i < 5; i++)
        if (strcmp(k, kinds[i]) == 0)
            return 1;
    return 0;
}

static int parse_misp(const char *text, size_t len, char **name,
                      int (*cb)(void *ud, const char *kind, const char *value), void *ud,
                      accord_error *err)
{
    ajson_arena ar;
    ajson_error je;
    ajson_arena_init(&ar, 0);
    int rc = 0;
    const ajson_value *root = ajson_parse(&ar, text, len, &je);
    const char *type = ajson_str(ajson_get(root, "type"));
    const ajson_value *list = ajson_get(root, "list");
    if (!root)
        rc = accord_err_set(err, ACCORD_EJSON, "allow-list: offset %zu: %s", je.offset, je.msg);
    else if (!type || !kind_known(type))
        rc = accord_err_set(err, ACCORD_EINVAL, "allow-list: \"type\" must be one of %s",
                            ACCORD_ALLOW_KINDS);
    else if (!list || list->type != AJSON_ARRAY)
        rc = accord_err_set(err, ACCORD_EINVAL, "allow-list: \"list\" must be an array");
    const char *nm = ajson_str(ajson_get(root, "name"));
    if (!rc && nm && !(*name = strdup(nm)))
        rc = ACCORD_ENOMEM;
    for (size_t i = 0; !rc && i < list->len; i++) {
        const char *v = ajson_str(&list->u.items[i]);
        if (!v)
            rc = accord_err_set(err, ACCORD_EINVAL, "allow-list: list[%zu] is not a string", i);
        else if (*v)
            rc = cb(ud, type, v);
    }
    ajson_arena_free(&ar);
    return rc;
}

/* A plain list line's kind by its shape. */
static const char *line_kind(const char *v)
{
    int fam;
    export_u128 lo, hi;
    if (export_net_range(v, &fam, &lo, &hi) == 0)
        return "cidr";
    char norm[VALUE_MAX + 1];
    long n = value_normalize(v, strlen(v), norm, sizeof(norm));
    int dots = 0, host = n > 0;
    for (long i = 0; host && i < n; i++) {
        char c = norm[i];
        dots += c == '.';
        host = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    }
    return host && dots ? "hostname" : "string";
}

static int parse_plain(const char *text, size_t len,
                       int (*cb)(void *ud, const char *kind, const char *value), void *ud)
{
    char line[VALUE_MAX + 1];
    int rc = 0;
    for (size_t i = 0; !rc && i < len;) {
        size_t e = i;
        while (e < len && text[e] != '\n')
            e++;
        size_t a = i, b = e;
        i = e + 1;
        const char *hash = memchr(text + a, '#', b - a);
        if (hash)
            b = (size_t)(hash - text);
        while (a < b && (text[a] == ' ' || text[a] == '\t' || text[a] == '\r'))
            a++;
        while (b > a && (text[b - 1] == ' ' || text[b - 1] == '\t' || text[b - 1] == '\r'))
            b--;
        if (b == a || b - a > VALUE_MAX || memchr(text + a, '\0', b - a))
            continue;
        memcpy(line, text + a, b - a);
        line[b - a] = '\0';
        rc = cb(ud, line_kind(line), line);
    }
    return rc;
}

int accord_allowlist_parse(const char *text, size_t len, char **name,
                           int (*cb)(void *ud, const char *kind, const char *value), void *ud,
                           accord_error *err)
{
    size_t i = 0;
    *name = NULL;
    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n'))
        i++;
    if (i < len && text[i] == '{')
        return parse_misp(text, len, name, cb, ud, err);
    return parse_plain(text, len, cb, ud);
}
