/*
 * export_misp.c - a MISP feed: the directory layout MISP's feed loader (Sync Actions > Feeds,
 * "MISP Feed" source format) fetches over HTTP(S).
 *
 *   file             content
 *   <uuid>.json      {"Event": {uuid, info, date, timestamp, publish_timestamp, published,
 *                    analysis, threat_level_id, Orgc {name, uuid}, Tag [...], Attribute [...]}}
 *   hashes.csv       one line per attribute: md5(value),<event uuid>  (MISP's cache and
 *                    correlation look-ups read it)
 *   manifest.json    {"<uuid>": {info, date, timestamp, analysis, threat_level_id, Orgc, Tag}}:
 *                    the loader fetches an event only when its manifest timestamp is newer
 *
 * One event holds the whole selection; each exported value is one attribute, to_ids true:
 *
 *   export kind                 type                      category
 *   ipv4, ipv6, cidr4, cidr6    ip-dst                    Network activity
 *   domain                      domain                    Network activity
 *   url                         url                       Network activity
 *   email                       email-src                 Payload delivery
 *   md5, sha1, sha256, sha512   md5, sha1, sha256, sha512 Payload delivery
 *   cert-sha1, cert-sha256      x509-fingerprint-sha1/256 Network activity
 *
 * Indicators whose pattern no value format expresses (export.h: set->others) are read from their
 * bodies and written whole when MISP holds the pattern: one attribute (filename, ssdeep, mutex,
 * regkey, snort/yara/sigma rules ...), a composite attribute (filename|sha256, domain|ip,
 * ip-dst|port, hostname|port, regkey|value) or a MISP object (file, pe, domain-ip, url, ip-port,
 * network-connection, email, x509, registry-key) - the form the importer maps back to the same
 * pattern (misp_form_of, misp_attr.c).  Their attributes follow the values' in the Attribute
 * list, objects go in the event's Object list (TLP tags on their attributes, galaxies on the
 * object), in indicator id order; a whole holding an allow-listed address, name or URL is left
 * out and named.  What MISP cannot hold (OR inside an observation, qualifiers, FOLLOWEDBY,
 * operators other than =) is still left out, counted and named.
 *
 * Not expressible: domain-suffix (MISP attribute types match whole names; a "*.x" value would be
 * a literal).  The event's tag is the strictest TLP of its attributes; when their TLPs differ,
 * each attribute carries its indicator's as a tag too ("tlp:amber").  Each has a comment with
 * the indicator id and name.  A
 * value held by several indicators is one attribute (MISP refuses duplicates in one event): the
 * first indicator in id order names it, the others count as duplicates.
 *
 * Stability: the event uuid is derived from the source name (options.source, "accord" unless
 * set) and each attribute uuid from (indicator id, kind, value), both as XXH3-128 shaped as
 * version-4 UUIDs, so every export of the same intelligence names the same objects and MISP
 * updates rather than duplicates them.  Timestamps (event, attributes, manifest) are the set's
 * serial (accord_export_set_serial): they advance exactly when the content may have changed,
 * which is what the loader's "newer timestamp" test needs.
 */
#include "export.h"
#include "misp.h"
#include "pattern.h"
#include "util/u64map.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>

static const struct misp_type {
    const char *type, *category;
    size_t type_len, category_len;
} misp_types[ACCORD_EK_COUNT] = {
#define MT_(t, c)                                                                                  \
    {                                                                                              \
        t, c, sizeof(t) - 1, sizeof(c) - 1                                                         \
    }
    [ACCORD_EK_IPV4] = MT_("ip-dst", "Network activity"),
    [ACCORD_EK_IPV6] = MT_("ip-dst", "Network activity"),
    [ACCORD_EK_CIDR4] = MT_("ip-dst", "Network activity"),
    [ACCORD_EK_CIDR6] = MT_("ip-dst", "Network activity"),
    [ACCORD_EK_DOMAIN] = MT_("domain", "Network activity"),
    [ACCORD_EK_URL] = MT_("url", "Network activity"),
    [ACCORD_EK_EMAIL] = MT_("email-src", "Payload delivery"),
    [ACCORD_EK_MD5] = MT_("md5", "Payload delivery"),
    [ACCORD_EK_SHA1] = MT_("sha1", "Payload delivery"),
    [ACCORD_EK_SHA256] = MT_("sha256", "Payload delivery"),
    [ACCORD_EK_SHA512] = MT_("sha512", "Payload delivery"),
    [ACCORD_EK_CERT_SHA1] = MT_("x509-fingerprint-sha1", "Network activity"),
    [ACCORD_EK_CERT_SHA256] = MT_("x509-fingerprint-sha256", "Network activity"),
#undef MT_
};

static const char *const tlp_tags[] = {"tlp:clear", "tlp:green", "tlp:amber", "tlp:amber+strict",
                                       "tlp:red"};

/* The tag of TLP level tlp (a level past RED reads as RED). */
static const char *tlp_tag(int tlp)
{
    return tlp_tags[tlp <= ACCORD_TLP_RED ? tlp : ACCORD_TLP_RED];
}

/* Appends a string literal. */
#define ADDS(w, lit) export_add((w), (lit), sizeof(lit) - 1)

/* Two hex digits per byte value: one copy per byte (a digit at a time was a tenth of the
 * feed's instructions: every attribute has a uuid and an MD5 in hex). */
static const char hex_pairs[513] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
    "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
    "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
    "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
    "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
    "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
    "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

static void hex(char *out, const unsigned char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        memcpy(out + 2 * i, hex_pairs + 2 * b[i], 2);
}

/* (export.h) A version-4-shaped UUID from XXH3-128 of data. */
void export_uuid_of(const void *data, size_t len, uint64_t seed, char out[37])
{
    XXH128_hash_t h = XXH3_128bits_withSeed(data, len, seed);
    unsigned char b[16];
    for (int i = 0; i < 8; i++) {
        b[i] = (unsigned char)(h.high64 >> (56 - 8 * i));
        b[8 + i] = (unsigned char)(h.low64 >> (56 - 8 * i));
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    hex(out, b, 4);
    out[8] = '-';
    hex(out + 9, b + 4, 2);
    out[13] = '-';
    hex(out + 14, b + 6, 2);
    out[18] = '-';
    hex(out + 19, b + 8, 2);
    out[23] = '-';
    hex(out + 24, b + 10, 6);
    out[36] = '\0';
}

/* 1 when s[0..n) needs no JSON escaping. */
static int plain_json(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && s[i] != '\\' && s[i] != '"' && (unsigned char)s[i] >= 0x20)
        i++;
    return i == n;
}

/* Appends s as a JSON string (quotes included); values without a backslash or a control byte
 * (every exported value: export.c checks them) go as they are. */
static int add_json(export_out *w, buf *tmp, const char *s)
{
    size_t n = strlen(s);
    if (plain_json(s, n)) {
        ADDS(w, "\"");
        export_add(w, s, n);
        return ADDS(w, "\"");
    }
    buf_reset(tmp);
    if (buf_json_str(tmp, s))
        return w->rc = ACCORD_ENOMEM;
    return export_add(w, tmp->p, tmp->len);
}

/* 1 when item i becomes an attribute: expressible, and not a value an earlier item holds. */
static int attribute_ok(export_out *w, size_t i)
{
    if (!export_item_ok(w, i))
        return 0;
    const accord_export_set *s = w->set;
    for (size_t j = i; j > 0 && export_item_dup(s, j); j--)
        if (export_item_fits(w, j - 1))
            return 0; /* an earlier indicator's attribute already holds the value */
    return 1;
}

typedef struct event_head {
    char uuid[37], org_uuid[37], date[16], ts_text[16];
    size_t ts_len;
    const char *source;
    uint32_t ts;
    int tlp;             /* the strictest TLP of the attributes, -1 when none */
    int mixed;           /* 1 when the attributes' TLPs differ: each then carries its own tag */
    unsigned char *attr; /* per item: 1 when it is an attribute (attribute_ok, decided once) */
    misp_links *links;   /* the galaxy links of the indicators and their reports, or NULL */
    struct wholes *wh;   /* the indicators written whole (composite attributes, objects) */
    buf *gal;            /* where the galaxy parts are put together (descriptions are long) */
} event_head;

/* ------------------------------------------------------------------------------------------ */
/* Galaxy links (misp_links.c): ATT&CK techniques, malware, tools ... of the attributes' indicators
 * and of their reports, as MISP writes them: Galaxy lists and "misp-galaxy:" tags.             */

/* Writes what a misp_links_* call put together in h->gal (a failure to put it: ENOMEM). */
static void galaxy_put(export_out *w, const event_head *h)
{
    if (h->gal->failed)
        w->rc = ACCORD_ENOMEM;
    else
        export_add(w, h->gal->p, h->gal->len);
}

/* The event's galaxy tags inside its Tag list (first: no tag before them). */
static void galaxy_event_tags(export_out *w, const event_head *h, int first)
{
    buf_reset(h->gal);
    misp_links_event_tags(h->links, first, h->gal);
    galaxy_put(w, h);
}

/* The event's ,"Galaxy":[...]. */
static void galaxy_event(export_out *w, const event_head *h)
{
    buf_reset(h->gal);
    misp_links_event(h->links, h->gal);
    galaxy_put(w, h);
}

/* The Tag list (tag first, when not NULL) and Galaxy list of indicator ind, which has galaxy
 * links, and then `close` ("}" for an attribute, "" for an object). */
static void galaxy_lists(export_out *w, const event_head *h, uint32_t ind, const char *tag,
                         const char *close)
{
    buf_reset(h->gal);
    misp_links_attribute(h->links, ind, tag, h->gal);
    buf_adds(h->gal, close);
    galaxy_put(w, h);
}
/* ------------------------------------------------------------------------------------------ */

/* The members the event and its manifest entry share (no braces). */
static void write_head(export_out *w, buf *tmp, const event_head *h)
{
    ADDS(w, "\"info\":");
    char info[200];
    snprintf(info, sizeof(info), "%s indicators", h->source);
    add_json(w, tmp, info);
    export_printf(w,
                  ",\"date\":\"%s\",\"timestamp\":\"%u\",\"analysis\":\"2\","
                  "\"threat_level_id\":\"4\",\"Orgc\":{\"name\":",
                  h->date, h->ts);
    add_json(w, tmp, h->source);
    export_printf(w, ",\"uuid\":\"%s\"},\"Tag\":[", h->org_uuid);
    if (h->tlp >= 0)
        export_printf(w, "{\"name\":\"%s\",\"colour\":\"#ffffff\",\"exportable\":true}",
                      tlp_tags[h->tlp]);
    galaxy_event_tags(w, h, h->tlp < 0);
    ADDS(w, "]");
}

/* The attribute's uuid: XXH3-128 of its indicator id, a letter for its kind and XXH3-128 of its
 * value, shaped as a version-4 UUID (see the file's comment: it must never change). */
static void attribute_uuid(const accord_export_set *s, const export_item *it, const char *id,
                           size_t idlen, char uuid[37])
{
    char key[512];
    size_t n = 0;
    if (idlen + 1 + sizeof(XXH128_hash_t) <= sizeof(key)) {
        XXH128_hash_t vh = XXH3_128bits(export_str(s, it->value), it->len);
        memcpy(key, id, idlen);
        key[idlen] = (char)('a' + it->kind);
        memcpy(key + idlen + 1, &vh, sizeof(vh));
        n = idlen + 1 + sizeof(vh);
    }
    export_uuid_of(key, n, 0, uuid);
}

/* Appends lit to p (a string literal). */
#define PUTS(p, lit) (memcpy((p), (lit), sizeof(lit) - 1), (p) += sizeof(lit) - 1)

/* 1 when item i's value may be written without escaping: export.c lets only URLs and e-mail
 * addresses hold a backslash (and nothing else a JSON string must escape). */
static int value_plain(const accord_export_set *s, const export_item *it)
{
    if (it->kind != ACCORD_EK_URL && it->kind != ACCORD_EK_EMAIL)
        return 1;
    return memchr(export_str(s, it->value), '\\', it->len) == NULL;
}

/* ,"comment":"ID NAME" of indicator d (the id alone when it has no name). */
static void write_comment(export_out *w, buf *tmp, const export_ind *d)
{
    const accord_export_set *s = w->set;
    const char *id = export_str(s, d->id), *name = export_str(s, d->name);
    size_t idlen = strlen(id);
    ADDS(w, ",\"comment\":");
    if (*name) { /* "ID NAME", at most 399 bytes (ids need no escaping; export.c checks them) */
        char comment[400];
        size_t room = sizeof(comment) - 1 - idlen - 1, nl = strlen(name);
        if (idlen + 1 >= sizeof(comment) || nl > room || !plain_json(name, nl)) {
            snprintf(comment, sizeof(comment), "%s %s", id, name);
            add_json(w, tmp, comment);
        } else {
            ADDS(w, "\"");
            export_add(w, id, idlen);
            ADDS(w, " ");
            export_add(w, name, nl);
            ADDS(w, "\"");
        }
    } else {
        add_json(w, tmp, id);
    }
}

/* ,"Tag":[its TLP] when the attributes' TLPs differ, and the closing brace. */
static void write_tlp_tail(export_out *w, const event_head *h, const export_ind *d)
{
    if (!h->mixed) {
        ADDS(w, "}"); /* the event's tag says it for every attribute */
        return;
    }
    const char *tag = tlp_tag(d->tlp);
    ADDS(w, ",\"Tag\":[{\"name\":\"");
    export_add(w, tag, strlen(tag));
    ADDS(w, "\",\"colour\":\"#ffffff\",\"exportable\":true}]}");
}

/* The end of an attribute of indicator d (ind: its index for the galaxy links). */
static void write_tail(export_out *w, const event_head *h, const export_ind *d, uint32_t ind)
{
    if (misp_links_has(h->links, ind)) /* its TLP first when the attributes' TLPs differ */
        galaxy_lists(w, h, ind, h->mixed ? tlp_tag(d->tlp) : NULL, "}");
    else
        write_tlp_tail(w, h, d);
}

/* The head of an attribute, up to its value: {"uuid":..,"type":..,"category":..,...,"value": */
static void write_attr_head(export_out *w, const event_head *h, const char *uuid,
                            const char *type, const char *category)
{
    ADDS(w, "\n{\"uuid\":\"");
    export_add(w, uuid, 36);
    ADDS(w, "\",\"type\":\"");
    export_adds(w, type);
    ADDS(w, "\",\"category\":\"");
    export_adds(w, category);
    ADDS(w, "\",\"to_ids\":true,\"timestamp\":\"");
    export_add(w, h->ts_text, strlen(h->ts_text));
    ADDS(w, "\",\"value\":");
}

/* The general form of an attribute: any name, any length. */
static void write_attribute_slow(export_out *w, buf *tmp, size_t i, const event_head *h,
                                 const char *uuid)
{
    const accord_export_set *s = w->set;
    const export_item *it = &s->items[i];
    const export_ind *d = export_item_ind(s, i);
    const struct misp_type *t = &misp_types[it->kind];
    write_attr_head(w, h, uuid, t->type, t->category);
    add_json(w, tmp, export_str(s, it->value));
    write_comment(w, tmp, d);
    write_tail(w, h, d, it->ind);
}

/*
 * One attribute.  Ten million of them: the common case (a value that needs no escaping, a short
 * plain name) is put together in one line buffer and appended once; the rest takes the general
 * path, which writes the same bytes.
 */
static void write_attribute(export_out *w, buf *tmp, size_t i, const event_head *h, int first)
{
    const accord_export_set *s = w->set;
    const export_item *it = &s->items[i];
    const export_ind *d = export_item_ind(s, i);
    const char *id = export_str(s, d->id), *name = export_str(s, d->name);
    size_t idlen = strlen(id), nl = strlen(name);
    char uuid[37], line[1536]; /* the fast path's longest line is about 1,060 bytes */
    attribute_uuid(s, it, id, idlen, uuid);
    if (!first)
        ADDS(w, ",");
    if (it->len > 400 || idlen + 1 + nl > 399 || !value_plain(s, it) || !plain_json(name, nl) ||
        misp_links_has(h->links, it->ind)) {
        write_attribute_slow(w, tmp, i, h, uuid);
        return;
    }
    const struct misp_type *t = &misp_types[it->kind];
    char *p = line;
    PUTS(p, "\n{\"uuid\":\"");
    memcpy(p, uuid, 36), p += 36;
    PUTS(p, "\",\"type\":\"");
    memcpy(p, t->type, t->type_len), p += t->type_len;
    PUTS(p, "\",\"category\":\"");
    memcpy(p, t->category, t->category_len), p += t->category_len;
    PUTS(p, "\",\"to_ids\":true,\"timestamp\":\"");
    memcpy(p, h->ts_text, h->ts_len), p += h->ts_len;
    PUTS(p, "\",\"value\":\"");
    memcpy(p, export_str(s, it->value), it->len), p += it->len;
    PUTS(p, "\",\"comment\":\"");
    memcpy(p, id, idlen), p += idlen;
    if (nl) {
        *p++ = ' ';
        memcpy(p, name, nl), p += nl;
    }
    *p++ = '"';
    if (h->mixed) {
        const char *tag = tlp_tag(d->tlp);
        PUTS(p, ",\"Tag\":[{\"name\":\"");
        memcpy(p, tag, strlen(tag)), p += strlen(tag);
        PUTS(p, "\",\"colour\":\"#ffffff\",\"exportable\":true}]");
    }
    *p++ = '}';
    export_add(w, line, (size_t)(p - line));
}

/* ------------------------------------------------------------------------------------------ */
/* Whole patterns: indicators no value format expresses (set->others: an AND of comparisons, a   */
/* file name, an ssdeep, a snort rule ...) that MISP holds as one attribute, a composite         */
/* attribute (filename|sha256, domain|ip, ip-dst|port ...) or an object (file, network-          */
/* connection ...): the form the importer maps back to the same pattern (misp_form_of).          */

typedef struct whole_part {
    const char *relation, *type, *category; /* static strings (misp_attr.c's tables) */
    size_t value;                           /* offset of the value in wholes.text */
} whole_part;

typedef struct whole {
    const char *id;            /* its indicator's id (in the set's strings): the output order */
    uint32_t other;            /* index into set->others */
    const char *object, *meta; /* NULL: one attribute whose value is its parts joined by '|' */
    uint32_t part, n;          /* its parts: wholes.parts[part .. part + n) */
    int dup;                   /* 1: an earlier whole has the same attribute (MISP refuses it) */
    int allowed;               /* 1: it holds an allow-listed value: left out whole, named */
} whole;

typedef struct wholes {
    const accord_export_set *set;
    whole *w;
    size_t n, cap;
    whole_part *parts;
    size_t nparts, partcap;
    buf text;          /* the values, NUL-terminated */
    ajson_arena arena; /* one body's tree at a time */
    const uint32_t *order; /* body i of the read is others[order[i]] */
    export_allow *allow;   /* a whole holding an allow-listed value is left out whole */
    int rc;
} wholes;

/* A comparison's object path as misp_pattern writes it ("hashes.'SHA-1'", "values[*].data"). */
static int path_text(const pattern_cmp *c, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < c->nsteps; i++) {
        const pattern_step *st = &c->steps[i];
        int k = 0;
        if (st->kind == PS_STAR) {
            k = snprintf(out + n, cap - n, "[*]");
        } else if (st->kind == PS_KEY) {
            size_t plain = strspn(st->key, "abcdefghijklmnopqrstuvwxyz0123456789_");
            k = snprintf(out + n, cap - n, plain == st->key_len ? "%s%s" : "%s'%s'",
                         i ? "." : "", st->key);
        } else {
            return -1;
        }
        if (k < 0 || (size_t)k >= cap - n)
            return -1;
        n += (size_t)k;
    }
    return 0;
}

/* The facts of comparison expression e (an AND of '=' comparisons) into g; -1 otherwise. */
static int whole_terms(misp_group *g, const pattern_cexpr *e)
{
    if (e->kind == PC_AND)
        return whole_terms(g, e->l) || whole_terms(g, e->r) ? -1 : 0;
    if (e->kind != PC_CMP)
        return -1;
    const pattern_cmp *c = e->cmp;
    char path[256], digits[24];
    if (c->op != PO_EQ || c->negated || c->nlits != 1 || path_text(c, path, sizeof(path)))
        return -1;
    const pattern_lit *l = &c->lits[0];
    if (l->kind == PL_STRING && strlen(l->s) == l->len)
        return misp_group_term(g, c->type, path, l->s, 0);
    if (l->kind != PL_INT || l->i < 0)
        return -1;
    snprintf(digits, sizeof(digits), "%lld", (long long)l->i);
    return misp_group_term(g, c->type, path, digits, 1); /* copied into the fact */
}

/* 1 when value v of MISP type t is allow-listed (addresses, names, URLs: their kinds' rules;
 * other values: the allow-list's exact values). */
static int whole_allowed(const export_allow *a, const char *t, const char *v)
{
    char lc[256];
    size_t n = strlen(v);
    int kind = -1;
    if (strncmp(t, "ip-", 3) == 0) {
        const char *fam = misp_ip_type(v);
        int cidr = strchr(v, '/') != NULL;
        kind = !fam ? -1
               : fam[3] == '4' ? (cidr ? ACCORD_EK_CIDR4 : ACCORD_EK_IPV4)
                               : (cidr ? ACCORD_EK_CIDR6 : ACCORD_EK_IPV6);
    } else if ((strcmp(t, "domain") == 0 || strcmp(t, "hostname") == 0) && n < sizeof(lc)) {
        for (size_t i = 0; i <= n; i++)
            lc[i] = (char)(v[i] >= 'A' && v[i] <= 'Z' ? v[i] + 32 : v[i]);
        v = lc;
        kind = ACCORD_EK_DOMAIN;
    } else if (strcmp(t, "url") == 0) {
        kind = ACCORD_EK_URL;
    }
    return export_allow_match(a, kind, v, n);
}

/* The MISP type of part i of form f (a composite's parts: the types of its halves). */
static const char *part_type(const misp_form *f, size_t i)
{
    const char *t = f->a[i].type, *bar = strchr(t, '|');
    if (f->object || !bar)
        return t;
    if (i == 0) /* ip-dst|port, domain|ip, hostname|port: the first half names the value */
        return strncmp(t, "ip-", 3) == 0 ? "ip-" : strncmp(t, "domain", 6) == 0 ? "domain"
               : strncmp(t, "hostname", 8) == 0 ? "hostname" : "";
    return strcmp(bar + 1, "ip") == 0 ? "ip-" : "";
}

/* Notes indicator others[k]'s MISP form f as a whole. */
static int whole_add(wholes *x, uint32_t k, const misp_form *f)
{
    int allowed = 0;
    for (size_t i = 0; x->allow && i < f->n && !allowed; i++)
        allowed = whole_allowed(x->allow, part_type(f, i), f->a[i].v);
    if (export_grow((void **)&x->w, &x->cap, x->n + 1, sizeof(*x->w)) ||
        export_grow((void **)&x->parts, &x->partcap, x->nparts + f->n, sizeof(*x->parts)))
        return ACCORD_ENOMEM;
    whole *o = &x->w[x->n++];
    *o = (whole){.id = export_str(x->set, x->set->others[k].id), .other = k, .object = f->object, .meta = f->meta,
                 .part = (uint32_t)x->nparts, .n = (uint32_t)f->n, .allowed = allowed};
    if (allowed) /* left out whole, as the stix format leaves such an indicator */
        return 0;
    for (size_t i = 0; i < f->n; i++) {
        whole_part *p = &x->parts[x->nparts++];
        *p = (whole_part){f->a[i].relation, f->a[i].type, f->a[i].category, x->text.len};
        buf_add(&x->text, f->a[i].v, strlen(f->a[i].v) + 1);
    }
    return x->text.failed ? ACCORD_ENOMEM : 0;
}

/* One indicator body (store_feed_bodies): its pattern as a whole, when MISP can hold it. */
static int whole_body(void *ud, size_t i, const char *body, size_t len)
{
    static const char *const rules[] = {"snort", "yara", "sigma"};
    wholes *x = ud;
    ajson_arena_reset(&x->arena);
    const ajson_value *o = ajson_parse(&x->arena, body, len, NULL);
    const char *pt = ajson_str(ajson_get(o, "pattern_type"));
    const char *pat = ajson_str(ajson_get(o, "pattern"));
    const char *sv = ajson_str(ajson_get(o, "spec_version"));
    misp_form f;
    memset(&f, 0, sizeof(f));
    if (!pat)
        return 0;
    if (pt && strcmp(pt, "stix") != 0) { /* a rule: the attribute of its language */
        for (size_t k = 0; k < sizeof(rules) / sizeof(rules[0]); k++)
            if (strcmp(pt, rules[k]) == 0) {
                f.n = 1;
                f.a[0].type = rules[k];
                f.a[0].category = k == 0 ? "Network activity" : "Payload installation";
                f.a[0].v = pat;
                return x->rc = whole_add(x, x->order[i], &f);
            }
        return 0;
    }
    accord_pattern *p = NULL;
    unsigned flags = sv && strcmp(sv, "2.0") == 0 ? ACCORD_PATTERN_STIX20 : 0;
    int rc = 0;
    if (accord_pattern_compile(pat, strlen(pat), flags, &p, NULL) == 0 &&
        p->root->kind == PX_LEAF) {
        misp_group g;
        misp_group_init(&g);
        if (whole_terms(&g, p->root->leaf) == 0 && misp_form_of(&g, &f) == 0)
            rc = x->rc = whole_add(x, x->order[i], &f);
    }
    accord_pattern_free(p);
    return rc;
}

/* The read order: others by seq (store_feed_bodies wants them ascending). */
typedef struct seq_ix {
    int64_t seq;
    uint32_t i;
} seq_ix;

static int by_seq(const void *a, const void *b)
{
    int64_t x = ((const seq_ix *)a)->seq, y = ((const seq_ix *)b)->seq;
    return x < y ? -1 : x > y;
}

static int by_id(const void *a, const void *b)
{
    return strcmp(((const whole *)a)->id, ((const whole *)b)->id);
}

static void wholes_free(wholes *x)
{
    if (!x)
        return;
    export_allow_free(x->allow);
    free(x->w);
    free(x->parts);
    buf_free(&x->text);
    ajson_arena_free(&x->arena);
    free(x);
}

/* The value of whole o's attribute (its parts joined by '|') into b. */
static void whole_value(const wholes *x, const whole *o, buf *b)
{
    buf_reset(b);
    for (uint32_t i = 0; i < o->n; i++) {
        if (i)
            buf_add(b, "|", 1);
        buf_adds(b, x->text.p + x->parts[o->part + i].value);
    }
}

/* Marks the wholes whose attribute (type and value) an earlier one has. */
static int wholes_dedup(wholes *x)
{
    u64map seen;
    buf v;
    int rc = 0;
    u64map_init_set(&seen);
    buf_init(&v, (size_t)1 << 30);
    for (size_t i = 0; i < x->n && !rc; i++) {
        const whole *o = &x->w[i];
        if (o->object || o->allowed)
            continue;
        whole_value(x, o, &v);
        buf_adds(&v, x->parts[o->part].type);
        uint64_t k = u64map_key(XXH3_64bits(v.p, v.len));
        if (v.failed)
            rc = ACCORD_ENOMEM;
        else if (u64map_get(&seen, k, NULL))
            x->w[i].dup = 1;
        else if (u64map_put(&seen, k, 1))
            rc = ACCORD_ENOMEM;
    }
    u64map_free(&seen);
    buf_free(&v);
    return rc;
}

/* Reads the bodies of set->others and keeps those MISP holds, in indicator id order. */
static int wholes_load(const accord_export_set *s, wholes **out, accord_error *err)
{
    *out = NULL;
    if (!s->nothers || !s->store)
        return 0;
    wholes *x = calloc(1, sizeof(*x));
    uint32_t *order = malloc(s->nothers * sizeof(*order));
    int64_t *seqs = malloc(s->nothers * sizeof(*seqs));
    seq_ix *si = malloc(s->nothers * sizeof(*si));
    int rc = 0;
    if (!x || !order || !seqs || !si) {
        rc = ACCORD_ENOMEM;
        goto out;
    }
    x->set = s;
    buf_init(&x->text, (size_t)1 << 31);
    ajson_arena_init(&x->arena, 0);
    for (size_t i = 0; i < s->nothers; i++)
        si[i] = (seq_ix){s->others[i].seq, (uint32_t)i};
    qsort(si, s->nothers, sizeof(*si), by_seq);
    for (size_t i = 0; i < s->nothers; i++)
        seqs[i] = si[i].seq, order[i] = si[i].i;
    x->order = order;
    rc = export_allow_load(s->store, &x->allow, err);
    if (!rc)
        rc = store_feed_bodies(s->store, seqs, s->nothers, whole_body, x, err);
    if (!rc)
        rc = x->rc;
    if (!rc) {
        if (x->n)
            qsort(x->w, x->n, sizeof(*x->w), by_id);
        rc = wholes_dedup(x);
    }
out:
    free(si);
    free(order);
    free(seqs);
    if (x)
        x->order = NULL;
    if (rc)
        wholes_free(x);
    else
        *out = x;
    return rc;
}

/* The uuid of whole o's attribute (part < 0) or object, or of the object's attribute part. */
static void whole_uuid(const event_head *h, const whole *o, long part, const buf *value,
                       char uuid[37])
{
    const accord_export_set *s = h->wh->set;
    const char *id = export_str(s, s->others[o->other].id);
    buf key;
    buf_init(&key, 1 << 20);
    buf_printf(&key, "misp-feed whole|%s|%ld|", id, part);
    if (value)
        buf_add(&key, value->p, value->len);
    export_uuid_of(key.p ? key.p : "", key.len, 0, uuid);
    buf_free(&key);
}

/* Whole o as one attribute of the event's Attribute list. */
static void write_whole_attribute(export_out *w, buf *tmp, const event_head *h, const whole *o,
                                  int first)
{
    const wholes *x = h->wh;
    const export_ind *d = &x->set->others[o->other];
    const whole_part *p = &x->parts[o->part];
    char uuid[37];
    buf v;
    buf_init(&v, (size_t)1 << 30);
    whole_value(x, o, &v);
    whole_uuid(h, o, -1, &v, uuid);
    if (!first)
        ADDS(w, ",");
    write_attr_head(w, h, uuid, p->type, p->category);
    add_json(w, tmp, v.failed ? "" : v.p);
    write_comment(w, tmp, d);
    write_tail(w, h, d, (uint32_t)(x->set->ninds + o->other));
    if (v.failed)
        w->rc = ACCORD_ENOMEM;
    buf_free(&v);
}

/* Whole o as one MISP object: its attributes carry the TLP tag, the object its galaxies. */
static void write_whole_object(export_out *w, buf *tmp, const event_head *h, const whole *o,
                               int first)
{
    const wholes *x = h->wh;
    const export_ind *d = &x->set->others[o->other];
    uint32_t ind = (uint32_t)(x->set->ninds + o->other);
    char uuid[37];
    whole_uuid(h, o, -2, NULL, uuid);
    if (!first)
        ADDS(w, ",");
    ADDS(w, "\n{\"uuid\":\"");
    export_add(w, uuid, 36);
    export_printf(w, "\",\"name\":\"%s\",\"meta-category\":\"%s\",\"timestamp\":\"%s\"", o->object,
                  o->meta, h->ts_text);
    write_comment(w, tmp, d);
    ADDS(w, ",\"Attribute\":[");
    for (uint32_t i = 0; i < o->n; i++) {
        const whole_part *p = &x->parts[o->part + i];
        buf v = {0};
        v.p = x->text.p + p->value;
        v.len = strlen(v.p);
        whole_uuid(h, o, (long)i, &v, uuid);
        if (i)
            ADDS(w, ",");
        write_attr_head(w, h, uuid, p->type, p->category);
        add_json(w, tmp, v.p);
        ADDS(w, ",\"object_relation\":");
        add_json(w, tmp, p->relation);
        write_tlp_tail(w, h, d);
    }
    ADDS(w, "]");
    if (misp_links_has(h->links, ind))
        galaxy_lists(w, h, ind, NULL, "");
    ADDS(w, "}");
}

/* The wholes' attributes (after the values'), counted as written; returns the new `first`. */
static int write_whole_attributes(export_out *w, buf *tmp, const event_head *h, int first)
{
    const wholes *x = h->wh;
    for (size_t i = 0; x && i < x->n && !w->rc; i++) {
        const whole *o = &x->w[i];
        if (o->object || o->allowed)
            continue;
        if (o->dup) {
            w->sum->duplicates++;
            continue;
        }
        write_whole_attribute(w, tmp, h, o, first);
        first = 0;
        w->sum->values++;
    }
    return first;
}

/* ,"Object":[...] of the wholes that are objects. */
static void write_whole_objects(export_out *w, buf *tmp, const event_head *h)
{
    const wholes *x = h->wh;
    int first = 1;
    for (size_t i = 0; x && i < x->n && !w->rc; i++) {
        const whole *o = &x->w[i];
        if (!o->object || o->allowed)
            continue;
        if (first)
            ADDS(w, ",\"Object\":[");
        write_whole_object(w, tmp, h, o, first);
        first = 0;
        w->sum->values += o->n;
    }
    if (!first)
        ADDS(w, "\n]");
}

/* The summary: a whole written is an indicator exported, no longer one left out. */
static void wholes_count(export_out *w, const wholes *x)
{
    accord_export_summary *sum = w->sum;
    for (size_t i = 0; x && i < x->n; i++) {
        const char *id = export_str(x->set, x->set->others[x->w[i].other].id);
        size_t n = strlen(id), k = 0;
        while (k < sum->nnames && !(strncmp(sum->names[k], id, n) == 0 && sum->names[k][n] == ':'))
            k++;
        if (x->w[i].allowed) { /* still left out, for another reason than its pattern */
            if (k < sum->nnames)
                snprintf(sum->names[k], sizeof(sum->names[k]), "%s: holds an allow-listed value",
                         id);
            continue;
        }
        sum->indicators++;
        if (sum->unexportable)
            sum->unexportable--;
        if (k < sum->nnames) {
            memmove(sum->names[k], sum->names[k + 1], (sum->nnames - k - 1) * sizeof(sum->names[0]));
            sum->nnames--;
        }
    }
}

/* Notes one attribute's TLP in h->tlp and h->mixed (event_tlp). */
static void event_tlp_note(event_head *h, int tlp)
{
    tlp = tlp > ACCORD_TLP_RED ? ACCORD_TLP_RED : tlp;
    if (h->tlp >= 0 && tlp != h->tlp)
        h->mixed = 1;
    if (tlp > h->tlp)
        h->tlp = tlp;
}

/* The strictest TLP of the attributes (h->tlp), and whether they differ (h->mixed).  Every
 * attribute of a whole-GREEN export carrying its own "tlp:green" tag was a fifth of the event
 * file; MISP applies the event's tags to what it holds. */
static void event_tlp(export_out *w, event_head *h)
{
    const accord_export_set *s = w->set;
    for (size_t i = 0; i < s->nitems; i++)
        /* counts and names what is left out, once (export_item_ok); the item's copy of the TLP:
         * items in order, no indicator looked up */
        if ((h->attr[i] = (unsigned char)attribute_ok(w, i)))
            event_tlp_note(h, s->items[i].tlp);
    for (size_t i = 0; h->wh && i < h->wh->n; i++)
        if (!h->wh->w[i].allowed)
            event_tlp_note(h, s->others[h->wh->w[i].other].tlp);
}

#define HASH_BATCH 64 /* values hashed together (export_md5_many: eight lanes at a time) */

/* The hashes.csv lines of v[0..n) (lengths len). */
static void hash_lines(export_out *w, const event_head *h, const char *const *v,
                       const size_t *len, size_t n)
{
    unsigned char md5[HASH_BATCH][16];
    char lines[HASH_BATCH * 70];
    export_md5_many(v, len, n, md5);
    for (size_t k = 0; k < n; k++) {
        char *line = lines + 70 * k;
        hex(line, md5[k], 16);
        line[32] = ',';
        memcpy(line + 33, h->uuid, 36);
        line[69] = '\n';
    }
    export_add(w, lines, 70 * n);
}

/* The hashes.csv lines of the wholes: each part of a composite value (as MISP lists them), each
 * attribute of an object. */
static void write_whole_hashes(export_out *w, const event_head *h)
{
    const wholes *x = h->wh;
    const char *v[HASH_BATCH];
    size_t len[HASH_BATCH], n = 0;
    for (size_t i = 0; x && i < x->n && !w->rc; i++) {
        if (x->w[i].dup || x->w[i].allowed)
            continue;
        for (uint32_t k = 0; k < x->w[i].n; k++) {
            v[n] = x->text.p + x->parts[x->w[i].part + k].value;
            len[n] = strlen(v[n]);
            if (++n == HASH_BATCH)
                hash_lines(w, h, v, len, n), n = 0;
        }
    }
    if (n)
        hash_lines(w, h, v, len, n);
}

/* hashes.csv: "md5(value),event uuid" per attribute, in the event's order. */
static void write_hashes(export_out *w, const event_head *h)
{
    const accord_export_set *s = w->set;
    const char *v[HASH_BATCH];
    size_t len[HASH_BATCH], n = 0;
    for (size_t i = 0; i <= s->nitems && !w->rc; i++) {
        if (i < s->nitems) {
            if (i + 16 < s->nitems)
                __builtin_prefetch(s->str + s->items[i + 16].value);
            if (!h->attr[i])
                continue;
            v[n] = export_str(s, s->items[i].value);
            len[n++] = s->items[i].len;
            if (n < HASH_BATCH)
                continue;
        }
        hash_lines(w, h, v, len, n);
        n = 0;
    }
    write_whole_hashes(w, h);
}

int export_misp_feed(export_out *w)
{
    const accord_export_set *s = w->set;
    event_head h = {.source = w->o->source ? w->o->source : "accord", .tlp = -1};
    char file[48], seed[300];
    buf tmp;
    w->supported = ~0u & ~ACCORD_EK_BIT(ACCORD_EK_SUFFIX);
    snprintf(seed, sizeof(seed), "accord misp-feed event|%s", h.source);
    export_uuid_of(seed, strlen(seed), 0, h.uuid);
    snprintf(seed, sizeof(seed), "accord misp-feed org|%s", h.source);
    export_uuid_of(seed, strlen(seed), 0, h.org_uuid);
    h.ts = accord_export_set_serial(s);
    snprintf(h.ts_text, sizeof(h.ts_text), "%u", h.ts);
    h.ts_len = strlen(h.ts_text);
    time_t t = (time_t)h.ts;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(h.date, sizeof(h.date), "%Y-%m-%d", &tm);
    buf_init(&tmp, 64 * 1024);
    if (!(h.attr = malloc(s->nitems ? s->nitems : 1)))
        return w->rc = ACCORD_ENOMEM;
    accord_error lerr;
    if ((w->rc = wholes_load(s, &h.wh, &lerr)) != 0) {
        free(h.attr);
        buf_free(&tmp);
        return w->rc;
    }
    event_tlp(w, &h);
    buf gal;
    buf_init(&gal, (size_t)1 << 30);
    h.gal = &gal;
    if ((w->rc = misp_links_load(s, &h.links, &lerr)) != 0) {
        wholes_free(h.wh);
        buf_free(&gal);
        free(h.attr);
        buf_free(&tmp);
        return w->rc;
    }

    snprintf(file, sizeof(file), "%s.json", h.uuid);
    export_file(w, file);
    export_printf(w,
                  "{\"Event\":{\"uuid\":\"%s\",\"published\":true,\"publish_timestamp\":\"%u\","
                  "\"extends_uuid\":\"\",",
                  h.uuid, h.ts);
    ADDS(w, "\"Attribute\":[");
    int first = 1;
    for (size_t i = 0; i < s->nitems && !w->rc; i++) {
        export_prefetch(s, i);
        if (!h.attr[i]) {
            if (export_item_fits(w, i))
                w->sum->duplicates++;
            continue;
        }
        write_attribute(w, &tmp, i, &h, first);
        first = 0;
        w->sum->values++;
    }
    write_whole_attributes(w, &tmp, &h, first);
    ADDS(w, "\n]");
    write_whole_objects(w, &tmp, &h);
    ADDS(w, ",");
    write_head(w, &tmp, &h);
    galaxy_event(w, &h);
    ADDS(w, "}}\n");

    export_file(w, "hashes.csv");
    write_hashes(w, &h);

    export_file(w, "manifest.json");
    export_printf(w, "{\"%s\":{", h.uuid);
    write_head(w, &tmp, &h);
    ADDS(w, "}}\n");
    if (!w->rc)
        wholes_count(w, h.wh);
    misp_links_free(h.links);
    wholes_free(h.wh);
    buf_free(&gal);
    free(h.attr);
    buf_free(&tmp);
    return w->rc;
}
