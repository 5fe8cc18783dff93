/*
 * export_suricata.c - Suricata datasets and the rules that use them.
 *
 * `suricata-dataset` writes the dataset files; `suricata-rules` writes the same files plus
 * accord.rules.  Put the files in Suricata's data directory (default-data-dir, where relative
 * `load` paths resolve) and the rules file in its rule path.
 *
 *   file                  dataset type  kinds      one line is
 *   accord-ipv4.lst       ipv4          ipv4       the address
 *   accord-ipv6.lst       ip            ipv6       the address
 *   accord-domain.lst     string        domain     base64 of the name
 *   accord-cert-sha1.lst  string        cert-sha1  base64 of "aa:bb:..." (tls.cert_fingerprint)
 *   accord-md5.lst        md5           md5        hex (also a filemd5 list)
 *   accord-sha1.lst       (file list)   sha1       hex (a filesha1 list; datasets have no sha1)
 *   accord-sha256.lst     sha256        sha256     hex (also a filesha256 list)
 *
 * Every file is written, empty or not, so the rules always load.  Values are unique per file.
 *
 * Rules.  Values a dataset holds are matched by fixed rules, one per (dataset, buffer), with SIDs
 * SID_FIXED + n from the table below.  Values a dataset cannot hold get one rule each:
 *
 *   kind           rule
 *   cidr4, cidr6   alert ip any any <> NET any
 *   domain-suffix  dns.query, tls.sni and http.host each: content:".SUFFIX"; endswith; nocase
 *   url            http.host; content:"HOST"; startswith; endswith;
 *                  http.uri.raw; content:"PATH"; startswith; endswith   (exact host and path)
 *
 * Their SIDs are stable across nodes: SID_DYN + XXH3-64(indicator id, 0, purpose, 0, value) mod
 * SID_DYN_RANGE.  The range [1,900,000,000, 2,100,000,000) lies above the SIDs of public rule sets
 * (ET: 2,000,000-2,999,999; ET Pro 2.8M; Snort community < 1,000,000) and below 2^31, for tools
 * that keep SIDs in a signed int.  Two rules of one export that hash to the same SID (expected
 * about n^2 / 4e8 times: 25 at 100,000 rules) are resolved by taking the next free SID in the
 * sorted order of the export, which every node with the same set repeats; only those colliding
 * rules' SIDs depend on the rest of the set.
 *
 * Not expressible: email, sha512, cert-sha256 (no dataset type or buffer to match them on).
 */
#include "export.h"

#include "util/u64map.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define SID_FIXED 1900000000u
#define SID_DYN 1900001000u
#define SID_DYN_RANGE 200000000u
#define VALUE_KEY_MAX 4096

enum { DS_IPV4, DS_IPV6, DS_DOMAIN, DS_CERT, DS_MD5, DS_SHA1, DS_SHA256, DS_COUNT };

static const struct {
    const char *file, *name, *type;
    int kind;
    int base64;
} datasets[DS_COUNT] = {
    {"accord-ipv4.lst", "accord-ipv4", "ipv4", ACCORD_EK_IPV4, 0},
    {"accord-ipv6.lst", "accord-ipv6", "ip", ACCORD_EK_IPV6, 0},
    {"accord-domain.lst", "accord-domain", "string", ACCORD_EK_DOMAIN, 1},
    {"accord-cert-sha1.lst", "accord-cert-sha1", "string", ACCORD_EK_CERT_SHA1, 1},
    {"accord-md5.lst", "accord-md5", "md5", ACCORD_EK_MD5, 0},
    {"accord-sha1.lst", NULL, NULL, ACCORD_EK_SHA1, 0},
    {"accord-sha256.lst", "accord-sha256", "sha256", ACCORD_EK_SHA256, 0},
};

/* The fixed rules: SID_FIXED + index.  Append only: a published SID keeps its meaning. */
static const struct {
    const char *proto, *what, *buffer;
    int ds;
    const char *keyword; /* file-list keyword instead of a dataset, or NULL */
} fixed_rules[] = {
    {"ip", "IPv4 source", "ip.src", DS_IPV4, NULL},
    {"ip", "IPv4 destination", "ip.dst", DS_IPV4, NULL},
    {"ip", "IPv6 source", "ip.src", DS_IPV6, NULL},
    {"ip", "IPv6 destination", "ip.dst", DS_IPV6, NULL},
    {"dns", "DNS query", "dns.query", DS_DOMAIN, NULL},
    {"tls", "TLS SNI", "tls.sni", DS_DOMAIN, NULL},
    {"http", "HTTP host", "http.host", DS_DOMAIN, NULL},
    {"tls", "TLS certificate", "tls.cert_fingerprint", DS_CERT, NULL},
    {"http", "file MD5", NULL, DS_MD5, "filemd5"},
    {"http", "file SHA-1", NULL, DS_SHA1, "filesha1"},
    {"http", "file SHA-256", NULL, DS_SHA256, "filesha256"},
    {"smtp", "file MD5", NULL, DS_MD5, "filemd5"},
    {"smtp", "file SHA-1", NULL, DS_SHA1, "filesha1"},
    {"smtp", "file SHA-256", NULL, DS_SHA256, "filesha256"},
};

static unsigned dataset_kinds(void)
{
    unsigned k = 0;
    for (int i = 0; i < DS_COUNT; i++)
        k |= ACCORD_EK_BIT(datasets[i].kind);
    return k;
}

static int add_base64(export_out *w, const char *s, size_t len)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char out[4];
    for (size_t i = 0; i < len && !w->rc; i += 3) {
        unsigned v = (unsigned)(unsigned char)s[i] << 16;
        if (i + 1 < len)
            v |= (unsigned)(unsigned char)s[i + 1] << 8;
        if (i + 2 < len)
            v |= (unsigned char)s[i + 2];
        out[0] = tab[v >> 18 & 63];
        out[1] = tab[v >> 12 & 63];
        out[2] = i + 1 < len ? tab[v >> 6 & 63] : '=';
        out[3] = i + 2 < len ? tab[v & 63] : '=';
        export_add(w, out, 4);
    }
    return w->rc;
}

/* "aabbcc..." -> "aa:bb:cc:..." as tls.cert_fingerprint prints it. */
static int add_fingerprint(export_out *w, const char *hex, size_t len)
{
    char fp[128];
    size_t n = 0;
    for (size_t i = 0; i + 1 < len && n + 3 < sizeof(fp); i += 2) {
        if (n)
            fp[n++] = ':';
        fp[n++] = hex[i];
        fp[n++] = hex[i + 1];
    }
    return add_base64(w, fp, n);
}

static int write_dataset(export_out *w, int ds)
{
    const accord_export_set *s = w->set;
    export_file(w, datasets[ds].file);
    for (size_t i = 0; i < s->nitems && !w->rc; i++) {
        const export_item *it = &s->items[i];
        if (it->kind != datasets[ds].kind || !export_item_ok(w, i))
            continue;
        if (export_item_dup(s, i)) {
            w->sum->duplicates++;
            continue;
        }
        const char *v = export_str(s, it->value);
        if (ds == DS_CERT)
            add_fingerprint(w, v, it->len);
        else if (datasets[ds].base64)
            add_base64(w, v, it->len);
        else
            export_add(w, v, it->len);
        export_add(w, "\n", 1);
        w->sum->values++;
    }
    return w->rc;
}

static int write_datasets(export_out *w)
{
    for (int ds = 0; ds < DS_COUNT && !w->rc; ds++)
        write_dataset(w, ds);
    return w->rc;
}

int export_suricata_dataset(export_out *w)
{
    w->supported = dataset_kinds();
    write_datasets(w);
    return w->rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Rules                                                                                        */

static int write_fixed_rules(export_out *w)
{
    for (size_t i = 0; i < sizeof(fixed_rules) / sizeof(fixed_rules[0]) && !w->rc; i++) {
        int ds = fixed_rules[i].ds;
        export_printf(w, "alert %s any any -> any any (msg:\"accord %s indicator\"; ",
                      fixed_rules[i].proto, fixed_rules[i].what);
        if (fixed_rules[i].keyword)
            export_printf(w, "%s:%s; ", fixed_rules[i].keyword, datasets[ds].file);
        else
            export_printf(w, "%s; dataset:isset,%s,type %s,load %s; ", fixed_rules[i].buffer,
                          datasets[ds].name, datasets[ds].type, datasets[ds].file);
        export_printf(w, "classtype:bad-unknown; sid:%u; rev:1;)\n", SID_FIXED + (unsigned)i);
    }
    return w->rc;
}

/* A content string with the bytes rule syntax reserves written as |hex|. */
static int add_content(export_out *w, const char *s, size_t len)
{
    for (size_t i = 0; i < len && !w->rc; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == ';' || c == '\\' || c == '|' || c < 0x20 || c >= 0x7f)
            export_printf(w, "|%02X|", c);
        else
            export_add(w, (const char *)&c, 1);
    }
    return w->rc;
}

typedef struct sids {
    u64map used;
} sids;

/* The stable SID of (indicator, purpose, value); the next free one on a collision. */
static uint32_t sid_for(sids *t, const char *id, const char *purpose, const char *v, size_t len)
{
    char key[VALUE_KEY_MAX];
    size_t a = strlen(id) + 1, b = strlen(purpose) + 1;
    if (len > sizeof(key) - a - b)
        len = sizeof(key) - a - b; /* ids and purposes are short; values are at most 2 KiB */
    memcpy(key, id, a);
    memcpy(key + a, purpose, b);
    memcpy(key + a + b, v, len);
    uint64_t slot = XXH3_64bits(key, a + b + len) % SID_DYN_RANGE;
    while (u64map_get(&t->used, slot + 1, NULL))
        slot = (slot + 1) % SID_DYN_RANGE;
    u64map_put(&t->used, slot + 1, 1);
    return SID_DYN + (uint32_t)slot;
}

static int rule_end(export_out *w, sids *t, const char *id, const char *purpose, const char *v,
                    size_t len)
{
    char sid[16];
    *export_u32_text(sid, sid_for(t, id, purpose, v, len)) = '\0';
    export_adds(w, "classtype:bad-unknown; metadata:accord_indicator ");
    export_adds(w, id);
    export_adds(w, "; sid:");
    export_adds(w, sid);
    export_adds(w, "; rev:1;)\n");
    w->sum->values++;
    return w->rc;
}

static int rule_net(export_out *w, sids *t, const char *id, const char *v, size_t len)
{
    export_adds(w, "alert ip any any <> ");
    export_adds(w, v);
    export_adds(w, " any (msg:\"accord ");
    export_adds(w, id);
    export_adds(w, " network\"; ");
    return rule_end(w, t, id, "net", v, len);
}

static int rule_suffix(export_out *w, sids *t, const char *id, const char *v, size_t len)
{
    static const struct {
        const char *proto, *buffer, *purpose;
    } bufs[] = {
        {"dns", "dns.query", "dns"}, {"tls", "tls.sni", "sni"}, {"http", "http.host", "host"}};
    for (size_t i = 0; i < 3 && !w->rc; i++) {
        export_adds(w, "alert ");
        export_adds(w, bufs[i].proto);
        export_adds(w, " any any -> any any (msg:\"accord ");
        export_adds(w, id);
        export_adds(w, " domain suffix\"; ");
        export_adds(w, bufs[i].buffer);
        export_adds(w, "; content:\".");
        add_content(w, v, len);
        export_adds(w, "\"; endswith; nocase; ");
        rule_end(w, t, id, bufs[i].purpose, v, len);
    }
    return w->rc;
}

static int rule_url(export_out *w, sids *t, const char *id, const char *v, size_t len)
{
    const char *host = strstr(v, "://") + 3;
    size_t hlen = strcspn(host, "/?#");
    const char *at = memchr(host, '@', hlen);
    if (at)
        hlen -= (size_t)(at + 1 - host), host = at + 1;
    const char *colon = host[0] == '[' ? NULL : memchr(host, ':', hlen);
    size_t hostlen = colon ? (size_t)(colon - host) : hlen;
    const char *path = host + hlen;
    export_adds(w, "alert http any any -> any any (msg:\"accord ");
    export_adds(w, id);
    export_adds(w, " URL\"; http.host; content:\"");
    add_content(w, host, hostlen);
    export_adds(w, "\"; startswith; endswith; nocase; http.uri.raw; content:\"");
    add_content(w, *path ? path : "/", *path ? strlen(path) : 1);
    export_adds(w, "\"; startswith; endswith; ");
    return rule_end(w, t, id, "url", v, len);
}

int export_suricata_rules(export_out *w)
{
    const accord_export_set *s = w->set;
    sids t;
    u64map_init_set(&t.used);
    w->supported = dataset_kinds() | ACCORD_EK_BIT(ACCORD_EK_CIDR4) |
                   ACCORD_EK_BIT(ACCORD_EK_CIDR6) | ACCORD_EK_BIT(ACCORD_EK_SUFFIX) |
                   ACCORD_EK_BIT(ACCORD_EK_URL);
    write_datasets(w);
    export_file(w, "accord.rules");
    export_printf(w, "# accord indicators for Suricata; datasets in default-data-dir\n");
    write_fixed_rules(w);
    for (size_t i = 0; i < s->nitems && !w->rc; i++) {
        const export_item *it = &s->items[i];
        int k = it->kind;
        if ((k != ACCORD_EK_CIDR4 && k != ACCORD_EK_CIDR6 && k != ACCORD_EK_SUFFIX &&
             k != ACCORD_EK_URL) ||
            !export_item_ok(w, i))
            continue;
        if (export_item_dup(s, i) && s->items[i - 1].ind == it->ind)
            continue;
        const char *id = export_str(s, export_item_ind(s, i)->id), *v = export_str(s, it->value);
        if (k == ACCORD_EK_SUFFIX)
            rule_suffix(w, &t, id, v, it->len);
        else if (k == ACCORD_EK_URL)
            rule_url(w, &t, id, v, it->len);
        else
            rule_net(w, &t, id, v, it->len);
    }
    u64map_free(&t.used);
    return w->rc;
}
