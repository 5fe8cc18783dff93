/*
 * misp_attr.c - MISP values to STIX: what an attribute's type and value (or a MISP object's
 * relation and value) say about an observable, as *facts* (root SCO type, property, value); a
 * group of facts as a STIX pattern; a group of facts as SCOs.
 *
 * The tables below are the mapping of docs/MISP.md ("Attribute types", "Objects").  A value that
 * cannot be what its type says (ip-dst "foo", an md5 of 31 digits) is refused here with a reason,
 * so the caller can report it with the event and attribute; nothing is written for it.
 *
 * Patterns and SCOs are written by hand, not with printf: an import of a million attributes
 * writes a few million of them, and formatting was most of the mapper's cost.
 *
 * It does not write SDOs, decide between indicator and observed-data, or know about events
 * (misp_map.c does); SCO ids are UUIDv5 over the group's uuid, type and first value, so the same
 * attribute always names the same SCOs.
 */
#include "accord.h"
#include "misp.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef misp_ev ev;
typedef misp_group group;
typedef misp_prop prop;

/* ------------------------------------------------------------------------------------------ */
/* Attribute types                                                                            */

enum kind {
    K_IP = 1, K_IP_PORT, K_DOMAIN, K_DOMAIN_IP, K_HOST_PORT, K_URL, K_EMAIL, K_EMAIL_SUBJECT,
    K_HASH, K_FILE_HASH, K_FILENAME, K_MUTEX, K_REGKEY, K_REGKEY_VALUE, K_AS, K_MAC, K_X509,
    K_PORT, K_UA, K_SIG, K_VULN, K_IMPHASH, K_NETFP,
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
    {"pehash", K_HASH, "PEHASH"},
    {"filename|md5", K_FILE_HASH, "MD5"},
    {"filename|sha1", K_FILE_HASH, "SHA-1"},
    {"filename|sha256", K_FILE_HASH, "SHA-256"},
    {"filename|sha512", K_FILE_HASH, "SHA-512"},
    {"filename|sha3-256", K_FILE_HASH, "SHA3-256"},
    {"filename|sha3-512", K_FILE_HASH, "SHA3-512"},
    {"filename|ssdeep", K_FILE_HASH, "SSDEEP"},
    {"filename|tlsh", K_FILE_HASH, "TLSH"},
    {"filename|pehash", K_FILE_HASH, "PEHASH"},
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
    /* network fingerprints: STIX has no property for them and misp-stix writes them as custom
     * objects; a custom network-traffic property keeps them indicators (docs/MISP.md) */
    {"ja3-fingerprint-md5", K_NETFP, "x_misp_ja3_fingerprint_md5"},
    {"jarm-fingerprint", K_NETFP, "x_misp_jarm_fingerprint"},
    {"hassh-md5", K_NETFP, "x_misp_hassh_md5"},
    {"hasshserver-md5", K_NETFP, "x_misp_hasshserver_md5"},
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
const char *misp_ip_type(const char *v)
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
    } lens[] = {{"MD5", 32},      {"SHA-1", 40},    {"SHA-256", 64},   {"SHA-512", 128},
                {"SHA3-256", 64}, {"SHA3-512", 128}, {"PEHASH", 40}, {"JARM", 62}};
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

int misp_uint_ok(const char *v, uint64_t max)
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

void misp_group_init(misp_group *g)
{
    g->root = NULL;
    g->n = 0;
    g->pattern_type = g->sig = NULL;
    g->vulnerability = 0;
}

static int add_fact(misp_group *g, misp_prop p, const char *hkey, const char *v, int num)
{
    if (g->n >= MISP_MAX_FACTS)
        return -1;
    misp_fact *f = &g->f[g->n++];
    f->p = p;
    f->hkey = hkey;
    f->v = v;
    f->num = num;
    if (num) { /* validated digits (at most 10): "0080" -> "80" */
        while (v[0] == '0' && v[1])
            v++;
        size_t n = strlen(v);
        if (n >= sizeof(f->digits))
            n = sizeof(f->digits) - 1;
        memcpy(f->digits, v, n);
        f->digits[n] = 0;
        f->v = f->digits;
    }
    return 0;
}

/* Splits "a|b" (MISP composite values) at the first '|' into scratch copies. */
static int split2(misp_ev *x, const char *v, const char **a, const char **b)
{
    const char *bar = strchr(v, '|');
    if (!bar)
        return -1;
    *a = ajson_arena_strndup(&x->scratch, v, (size_t)(bar - v));
    *b = ajson_arena_strndup(&x->scratch, bar + 1, strlen(bar + 1));
    return *a && *b ? 0 : -1;
}

/*
 * Facts of one attribute value of type t into g (whose root is set when empty).  Returns 0, or
 * -1 with *why set when the value cannot be of the type.
 */
static int type_facts(misp_ev *x, const struct atype *t, const char *v, misp_group *g,
                      const char **why)
{
    const char *a, *b, *it;
    *why = NULL;
    switch (t->kind) {
    case K_IP:
        if (!(it = misp_ip_type(v)))
            return *why = "is not an IP address or CIDR", -1;
        g->root = it;
        return add_fact(g, P_VALUE, NULL, v, 0);
    case K_IP_PORT:
        if (split2(x, v, &a, &b) || !misp_ip_type(a) || !misp_uint_ok(b, 65535))
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
        if (split2(x, v, &a, &b) || !*a || !misp_ip_type(b))
            return *why = "is not DOMAIN|ADDRESS", -1;
        g->root = "domain-name";
        add_fact(g, P_VALUE, NULL, a, 0);
        return add_fact(g, P_RESOLVES, NULL, b, 0);
    case K_HOST_PORT:
        if (split2(x, v, &a, &b) || !*a || !misp_uint_ok(b, 65535))
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
        if (!misp_uint_ok(a, 4294967295u))
            return *why = "is not an AS number", -1;
        g->root = "autonomous-system";
        return add_fact(g, P_ASN, NULL, a, 1);
    case K_MAC: {
        char *m = ajson_arena_strndup(&x->scratch, v, strlen(v));
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
        if (!misp_uint_ok(v, 65535))
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
    case K_NETFP: /* JARM: 62 hex digits; JA3, HASSH: an MD5 */
        if (!hash_ok(strstr(t->arg, "jarm") ? "JARM" : "MD5", v))
            return *why = "is not a fingerprint of that kind", -1;
        g->root = "network-traffic";
        return add_fact(g, P_XPROP, t->arg, v, 0);
    case K_SIG:
        g->pattern_type = t->arg;
        g->sig = v;
        return 0;
    case K_VULN:
        g->vulnerability = 1;
        return 0;
    }
    return *why = "has an unknown type", -1;
}

int misp_attr_facts(misp_ev *x, const char *type, const char *v, misp_group *g, const char **why)
{
    const struct atype *t = atype_find(type);
    *why = NULL;
    if (!t)
        return 1;
    return type_facts(x, t, v, g, why);
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
        return misp_ip_type(v) ? NULL : "is not an IP address";
    case P_DST:
        return *v ? NULL : "is empty";
    case P_SPORT:
    case P_DPORT:
        return misp_uint_ok(v, 65535) ? NULL : "is not a port";
    case P_SIZE:
        return misp_uint_ok(v, 9999999999u) ? NULL : "is not a size";
    case P_FROM:
    case P_TO:
        return strchr(v, '@') ? NULL : "is not an e-mail address";
    default:
        return *v ? NULL : "is empty";
    }
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

int misp_object_fact(misp_group *g, const char *object, const char *relation, const char *v,
                     const char **why)
{
    const struct orel *r = orel_find(object, relation);
    *why = NULL;
    if (!r || (g->root && strcmp(g->root, r->root)))
        return 1;
    if ((*why = fact_check(r, v)))
        return -1;
    if (!multi_valued(r->p) && has_fact(g, r->p, r->hkey))
        return 1; /* a second sha1 in one file object: mapped on its own */
    if (add_fact(g, r->p, r->hkey, v, r->p == P_SIZE || r->p == P_SPORT || r->p == P_DPORT))
        return 1;
    g->root = r->root;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Writing patterns and SCOs                                                                  */

/* The path of fact f under its root (without "root:"); P_HASH adds its key to it. */
static const char *fact_path(const misp_fact *f)
{
    switch (f->p) {
    case P_VALUE: return "value";
    case P_NAME: return "name";
    case P_HASH: return "hashes";
    case P_SIZE: return "size";
    case P_KEY: return "key";
    case P_REGDATA: return "values[*].data";
    case P_ASN: return "number";
    case P_SUBJECT: return "subject";
    case P_FROM: return "from_ref.value";
    case P_TO: return "to_refs[*].value";
    case P_RESOLVES: return "resolves_to_refs[*].value";
    case P_SRC: return "src_ref.value";
    case P_DST: return "dst_ref.value";
    case P_SPORT: return "src_port";
    case P_DPORT: return "dst_port";
    case P_PROTO: return "protocols[*]";
    case P_UA: return "extensions.'http-request-ext'.request_header.'User-Agent'";
    case P_ISSUER: return "issuer";
    case P_SERIAL: return "serial_number";
    case P_IMPHASH: return "extensions.'windows-pebinary-ext'.imphash";
    case P_XPROP: return f->hkey;
    }
    return "value";
}

/* ------------------------------------------------------------------------------------------ */
/* The way back: pattern terms to MISP attributes and objects (the misp-feed export)           */

/* The hash names of the tables above, so that a fact's hkey is one of their strings. */
static const char *const hash_keys[] = {"MD5",      "SHA-1",    "SHA-256", "SHA-512", "SHA3-256",
                                        "SHA3-512", "SSDEEP",   "TLSH",    "PEHASH"};

int misp_group_term(misp_group *g, const char *root, const char *path, const char *v, int num)
{
    const char *hkey = NULL;
    misp_prop p;
    size_t n = strlen(path);
    if (g->root && strcmp(g->root, root) != 0)
        return -1;
    if (n > 9 && memcmp(path, "hashes.'", 8) == 0 && path[n - 1] == '\'') {
        for (size_t k = 0; !hkey && k < sizeof(hash_keys) / sizeof(hash_keys[0]); k++)
            if (strlen(hash_keys[k]) == n - 9 && memcmp(hash_keys[k], path + 8, n - 9) == 0)
                hkey = hash_keys[k];
        if (!hkey)
            return -1;
        p = P_HASH;
    } else if (strncmp(path, "x_misp_", 7) == 0) {
        for (size_t k = 0; !hkey && k < sizeof(atypes) / sizeof(atypes[0]); k++)
            if (atypes[k].kind == K_NETFP && strcmp(atypes[k].arg, path) == 0)
                hkey = atypes[k].arg;
        if (!hkey)
            return -1;
        p = P_XPROP;
    } else {
        for (p = P_VALUE; p < P_XPROP; p++)
            if (p != P_HASH && strcmp(fact_path(&(misp_fact){.p = p}), path) == 0)
                break;
        if (p == P_XPROP)
            return -1;
    }
    if (add_fact(g, p, hkey, v, num))
        return -1;
    g->root = root;
    return 0;
}

/* The category MISP files an attribute of type t under. */
static const char *type_category(const char *t)
{
    static const char *const cats[][2] = {
        {"ip-", "Network activity"},        {"domain", "Network activity"},
        {"hostname", "Network activity"},   {"url", "Network activity"},
        {"port", "Network activity"},       {"AS", "Network activity"},
        {"user-agent", "Network activity"}, {"x509-", "Network activity"},
        {"ja3-", "Network activity"},       {"jarm-", "Network activity"},
        {"hassh", "Network activity"},      {"mac-", "Network activity"},
        {"mutex", "Artifacts dropped"},     {"regkey", "Persistence mechanism"},
        {"text", "Other"},                  {"size-in-bytes", "Other"},
    };
    for (size_t i = 0; i < sizeof(cats) / sizeof(cats[0]); i++)
        if (strncmp(t, cats[i][0], strlen(cats[i][0])) == 0)
            return cats[i][1];
    return "Payload delivery"; /* hashes, file names, e-mail */
}

/* The attribute type of an object relation (MISP's object templates). */
static const char *relation_type(const struct orel *r)
{
    static const char *const types[][3] = {
        {"domain-ip", "ip", "ip-dst"},          {"ip-port", "ip", "ip-dst"},
        {NULL, "dst-port", "port"},             {NULL, "src-port", "port"},
        {NULL, "hostname-dst", "hostname"},     {NULL, "layer4-protocol", "text"},
        {NULL, "from", "email-src"},            {NULL, "to", "email-dst"},
        {"email", "subject", "email-subject"},  {"x509", "subject", "text"},
        {NULL, "issuer", "text"},               {NULL, "serial-number", "text"},
        {NULL, "key", "regkey"},                {NULL, "data", "text"},
    };
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if ((!types[i][0] || strcmp(types[i][0], r->object) == 0) &&
            strcmp(types[i][1], r->relation) == 0)
            return types[i][2];
    return r->relation;
}

/* The one attribute type of a one-fact group, NULL when there is none. */
static const char *single_type(const misp_group *g)
{
    const misp_fact *f = &g->f[0];
    const char *root = g->root;
    for (size_t i = 0; i < sizeof(atypes) / sizeof(atypes[0]); i++) {
        const struct atype *t = &atypes[i];
        int same_key = f->hkey && t->arg && strcmp(f->hkey, t->arg) == 0;
        if ((t->kind == K_HASH && f->p == P_HASH && same_key && !strcmp(root, "file") &&
             hash_ok(t->arg, f->v)) ||
            (t->kind == K_X509 && f->p == P_HASH && same_key &&
             !strcmp(root, "x509-certificate") && hash_ok(t->arg, f->v)) ||
            (t->kind == K_NETFP && f->p == P_XPROP && same_key))
            return t->name;
    }
    static const struct {
        const char *root;
        misp_prop p;
        const char *type;
    } one[] = {
        {"ipv4-addr", P_VALUE, "ip-dst"},         {"ipv6-addr", P_VALUE, "ip-dst"},
        {"domain-name", P_VALUE, "domain"},       {"url", P_VALUE, "url"},
        {"email-addr", P_VALUE, "email-src"},     {"email-message", P_SUBJECT, "email-subject"},
        {"file", P_NAME, "filename"},             {"file", P_IMPHASH, "imphash"},
        {"mutex", P_NAME, "mutex"},               {"windows-registry-key", P_KEY, "regkey"},
        {"autonomous-system", P_ASN, "AS"},       {"mac-addr", P_VALUE, "mac-address"},
        {"network-traffic", P_DPORT, "port"},     {"network-traffic", P_UA, "user-agent"},
    };
    size_t i = 0;
    for (; i < sizeof(one) / sizeof(one[0]); i++)
        if (one[i].p == f->p && strcmp(one[i].root, root) == 0)
            break;
    if (i == sizeof(one) / sizeof(one[0]))
        return NULL;
    /* a value the importer would refuse for the type (type_facts) is not written as one */
    const char *t = one[i].type;
    if ((!strcmp(t, "ip-dst") && !misp_ip_type(f->v)) ||
        (!strcmp(t, "domain") && (!*f->v || strpbrk(f->v, " /\t"))) ||
        (!strcmp(t, "email-src") && !strchr(f->v, '@')) || !*f->v)
        return NULL;
    return t;
}

/* The composite type ("a|b") of a two-fact group; *swap 1 when its parts go the other way. */
static const char *pair_type(const misp_group *g, int *swap)
{
    static const struct {
        const char *root;
        misp_prop a, b;
        const char *type; /* NULL: filename|<hash> */
    } pairs[] = {
        {"file", P_NAME, P_HASH, NULL},
        {"domain-name", P_VALUE, P_RESOLVES, "domain|ip"},
        {"network-traffic", P_SRC, P_SPORT, "ip-src|port"},
        {"network-traffic", P_DST, P_DPORT, "ip-dst|port"}, /* hostname|port: not an address */
        {"windows-registry-key", P_KEY, P_REGDATA, "regkey|value"},
    };
    const misp_fact *f = g->f;
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        if (strcmp(pairs[i].root, g->root) != 0)
            continue;
        if (f[0].p == pairs[i].a && f[1].p == pairs[i].b)
            *swap = 0;
        else if (f[1].p == pairs[i].a && f[0].p == pairs[i].b)
            *swap = 1;
        else
            continue;
        const misp_fact *a = &f[*swap], *b = &f[!*swap];
        if (strchr(a->v, '|') || !*a->v)
            return NULL; /* the importer splits at the first '|' */
        if (pairs[i].a == P_SRC && !misp_ip_type(a->v))
            return NULL;
        if (pairs[i].a == P_DST)
            return misp_ip_type(a->v) ? "ip-dst|port" : "hostname|port";
        if (pairs[i].a == P_VALUE && !misp_ip_type(b->v))
            return NULL;
        if (pairs[i].type)
            return pairs[i].type;
        for (size_t k = 0; k < sizeof(atypes) / sizeof(atypes[0]); k++)
            if (atypes[k].kind == K_FILE_HASH && strcmp(atypes[k].arg, b->hkey) == 0 &&
                hash_ok(b->hkey, b->v))
                return atypes[k].name; /* filename|md5 comes before malware-sample */
        return NULL;
    }
    return NULL;
}

/* The object of the table whose relations hold every fact of g, in out; -1 when none does. */
static int object_form(const misp_group *g, misp_form *out)
{
    static const char *const objects[][2] = {
        {"file", "file"},       {"pe", "file"},         {"domain-ip", "network"},
        {"url", "network"},     {"ip-port", "network"}, {"network-connection", "network"},
        {"email", "network"},   {"x509", "network"},    {"registry-key", "misc"},
    };
    for (size_t o = 0; o < sizeof(objects) / sizeof(objects[0]); o++) {
        size_t i = 0, first = 0;
        for (; i < g->n; i++) {
            const misp_fact *f = &g->f[i];
            const struct orel *r = NULL;
            for (size_t k = 0; !r && k < sizeof(orels) / sizeof(orels[0]); k++)
                if (strcmp(orels[k].object, objects[o][0]) == 0 && orels[k].p == f->p &&
                    strcmp(orels[k].root, g->root) == 0 &&
                    (!f->hkey || (orels[k].hkey && strcmp(orels[k].hkey, f->hkey) == 0)))
                    r = &orels[k];
            if (!r || fact_check(r, f->v))
                break;
            for (size_t j = 0; j < i && !multi_valued(f->p); j++)
                if (g->f[j].p == f->p && (!f->hkey || g->f[j].hkey == f->hkey))
                    goto next; /* a second sha1: the importer maps it on its own */
            if (r->p == P_DST && !misp_ip_type(f->v) && strcmp(r->object, "network-connection") == 0)
                r = orel_find(r->object, "hostname-dst");
            out->a[i].relation = r->relation;
            out->a[i].type = relation_type(r);
            out->a[i].category = type_category(out->a[i].type);
            out->a[i].v = f->v;
            if (f->p == P_VALUE)
                first = i;
        }
        if (i < g->n)
            continue;
        out->object = objects[o][0];
        out->meta = objects[o][1];
        out->n = g->n;
        if (first) { /* a domain-ip begins with its domain (misp_map.c maps it so only then) */
            __typeof__(out->a[0]) t = out->a[0];
            out->a[0] = out->a[first];
            out->a[first] = t;
        }
        return 0;
    next:;
    }
    return -1;
}

int misp_form_of(const misp_group *g, misp_form *out)
{
    int swap = 0;
    const char *t = NULL;
    memset(out, 0, sizeof(*out));
    if (!g->root || g->n == 0)
        return -1;
    if (g->n == 1)
        t = single_type(g);
    else if (g->n == 2)
        t = pair_type(g, &swap);
    if (!t)
        return object_form(g, out);
    out->n = g->n;
    for (size_t i = 0; i < g->n; i++) {
        out->a[i].type = t;
        out->a[i].category = type_category(t);
        out->a[i].v = g->f[i ^ (size_t)swap].v;
    }
    return 0;
}

/* A STIX pattern string literal: quotes and backslashes escaped, runs copied whole. */
static void pattern_lit(buf *b, const char *v)
{
    misp_put(b, "'", 1);
    for (;;) {
        size_t n = strcspn(v, "'\\");
        misp_put(b, v, n);
        if (!v[n])
            break;
        misp_put(b, "\\", 1);
        misp_put(b, v + n, 1);
        v += n + 1;
    }
    misp_put(b, "'", 1);
}

/* A protocol name in lower case (MISP writes TCP, STIX wants tcp). */
static void lower_proto(const char *v, char lc[32])
{
    size_t k = 0;
    for (; v[k] && k + 1 < 32; k++)
        lc[k] = (char)tolower((unsigned char)v[k]);
    lc[k] = 0;
}

void misp_pattern(const group *g, buf *out)
{
    buf_reset(out);
    misp_put(out, "[", 1);
    for (size_t i = 0; i < g->n; i++) {
        const misp_fact *f = &g->f[i];
        if (i)
            misp_put(out, " AND ", 5);
        misp_puts(out, g->root);
        misp_put(out, ":", 1);
        misp_puts(out, fact_path(f));
        if (f->p == P_HASH) {
            misp_put(out, ".'", 2);
            misp_puts(out, f->hkey);
            misp_put(out, "'", 1);
        }
        misp_put(out, " = ", 3);
        if (f->num) {
            misp_puts(out, f->v);
        } else if (f->p == P_PROTO) {
            char lc[32];
            lower_proto(f->v, lc);
            pattern_lit(out, lc);
        } else {
            pattern_lit(out, f->v);
        }
    }
    misp_put(out, "]", 1);
}

/* "type--UUIDv5(group uuid/type/value)": the SCO's id, the same for the same attribute. */
static void sco_id(const char *type, const char *guuid, const char *v, char *out, size_t outlen)
{
    char name[1024];
    size_t n = 0, k;
    const char *parts[] = {guuid, "/", type, "/", v};
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]) && n < sizeof(name); i++) {
        k = strlen(parts[i]);
        if (k > sizeof(name) - n)
            k = sizeof(name) - n;
        memcpy(name + n, parts[i], k);
        n += k;
    }
    if (n == sizeof(name)) /* long values: the first 1023 bytes name them, as before */
        n--;
    misp_uuid5_id(type, name, n, out, outlen);
}

/* ,"key": */
static void key(buf *b, const char *k)
{
    misp_put(b, ",\"", 2);
    misp_puts(b, k);
    misp_put(b, "\":", 2);
}

/* ,"key":"id" */
static void key_id(buf *b, const char *k, const char *id)
{
    key(b, k);
    misp_put(b, "\"", 1);
    misp_puts(b, id);
    misp_put(b, "\"", 1);
}

/* {"type":"T","spec_version":"2.1","id":"ID" into x->o (reset first). */
static void sco_head(ev *x, const char *type, const char *id)
{
    buf_reset(&x->o);
    misp_put(&x->o, "{\"type\":\"", 9);
    misp_puts(&x->o, type);
    misp_puts(&x->o, "\",\"spec_version\":\"2.1\"");
    key_id(&x->o, "id", id);
}

/* Writes a value SCO (address, domain, e-mail) once; its id into id. */
static int value_sco(ev *x, const char *type, const char *guuid, const char *v, char *id,
                     size_t idlen)
{
    sco_id(type, guuid, v, id, idlen);
    if (!misp_first_time(x, id))
        return 0;
    sco_head(x, type, id);
    key(&x->o, "value");
    misp_json_str(&x->o, v);
    misp_put(&x->o, "}", 1);
    return misp_emit(x);
}

/* The SCO of a network-traffic end: an address, or a domain name. */
static int end_sco(ev *x, const char *guuid, const char *v, char *id, size_t idlen)
{
    const char *t = misp_ip_type(v);
    return value_sco(x, t ? t : "domain-name", guuid, v, id, idlen);
}

/* One fact into the root SCO's properties (body, hashes) or its sub-objects. */
static int sco_fact(ev *x, const misp_fact *f, const char *guuid, buf *ids, const char **list_prop,
                    int *have_end)
{
    char sub[128];
    int rc = 0;
    buf *body = &x->body;
    switch (f->p) {
    case P_VALUE:
    case P_NAME:
    case P_KEY:
    case P_SUBJECT:
    case P_ISSUER:
    case P_SERIAL:
        key(body, fact_path(f));
        misp_json_str(body, f->v);
        break;
    case P_HASH:
        misp_puts(&x->hashes, x->hashes.len ? ",\"" : "\"");
        misp_puts(&x->hashes, f->hkey);
        misp_put(&x->hashes, "\":", 2);
        misp_json_str(&x->hashes, f->v);
        break;
    case P_SIZE:
    case P_ASN:
    case P_SPORT:
    case P_DPORT:
        key(body, fact_path(f));
        misp_puts(body, f->v);
        break;
    case P_REGDATA:
        misp_puts(body, ",\"values\":[{\"data\":");
        misp_json_str(body, f->v);
        misp_put(body, "}]", 2);
        break;
    case P_PROTO:
    case P_UA:
    case P_XPROP:
    case P_IMPHASH: /* the extension needs pe_type, which MISP does not say */
        break;
    case P_RESOLVES:
    case P_TO:
        rc = f->p == P_TO ? value_sco(x, "email-addr", guuid, f->v, sub, sizeof(sub))
                          : end_sco(x, guuid, f->v, sub, sizeof(sub));
        misp_add_ref(&x->srefs, sub);
        misp_add_ref(ids, sub);
        *list_prop = f->p == P_TO ? "to_refs" : "resolves_to_refs";
        break;
    case P_FROM:
        rc = value_sco(x, "email-addr", guuid, f->v, sub, sizeof(sub));
        key_id(body, "from_ref", sub);
        misp_add_ref(ids, sub);
        break;
    case P_SRC:
    case P_DST:
        rc = end_sco(x, guuid, f->v, sub, sizeof(sub));
        key_id(body, f->p == P_SRC ? "src_ref" : "dst_ref", sub);
        misp_add_ref(ids, sub);
        *have_end = 1;
        break;
    }
    return rc;
}

int misp_scos(ev *x, const group *g, const char *guuid, buf *ids)
{
    char id[128];
    buf_reset(&x->body);
    buf_reset(&x->hashes);
    buf_reset(&x->srefs);
    int rc = 0, have_end = 0, has_name = 0;
    const char *first = g->n ? g->f[0].v : "";
    const char *list_prop = NULL;
    for (size_t i = 0; i < g->n && rc == 0; i++) {
        rc = sco_fact(x, &g->f[i], guuid, ids, &list_prop, &have_end);
        has_name |= g->f[i].p == P_NAME;
    }
    if (rc)
        return rc;
    if (strcmp(g->root, "network-traffic") == 0) {
        if (!have_end)
            return 1;
        misp_puts(&x->body, ",\"protocols\":[");
        int np = 0;
        for (size_t i = 0; i < g->n; i++)
            if (g->f[i].p == P_PROTO) {
                char lc[32];
                lower_proto(g->f[i].v, lc);
                if (np++)
                    misp_put(&x->body, ",", 1);
                misp_json_str(&x->body, lc);
            }
        misp_puts(&x->body, np ? "]" : "\"tcp\"]");
    }
    if (strcmp(g->root, "file") == 0 && !x->hashes.len && !has_name)
        return 1; /* a file SCO needs a name or hashes */
    if (strcmp(g->root, "email-message") == 0)
        misp_puts(&x->body, ",\"is_multipart\":false");
    sco_id(g->root, guuid, first, id, sizeof(id));
    if (misp_first_time(x, id)) {
        sco_head(x, g->root, id);
        if (x->body.len)
            misp_put(&x->o, x->body.p, x->body.len);
        if (x->hashes.len) {
            misp_puts(&x->o, ",\"hashes\":{");
            misp_put(&x->o, x->hashes.p, x->hashes.len);
            misp_put(&x->o, "}", 1);
        }
        if (list_prop) {
            key(&x->o, list_prop);
            misp_put(&x->o, "[", 1);
            misp_put(&x->o, x->srefs.p, x->srefs.len);
            misp_put(&x->o, "]", 1);
        }
        misp_put(&x->o, "}", 1);
        rc = x->body.failed || x->hashes.failed || x->srefs.failed ? ACCORD_ENOMEM : misp_emit(x);
    }
    misp_add_ref(ids, id);
    return rc;
}
