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
    buf *gal;            /* where the galaxy parts are put together (descriptions are long) */
} event_head;

/* ------------------------------------------------------------------------------------------ */
/* Galaxy links (misp_links.c): ATT&CK techniques, malware, tools ... of the attributes' indicators
 * and of their reports, as MISP writes them: Galaxy lists and "misp-galaxy:" tags.             */

/* The event's galaxy tags inside its Tag list (first: no tag before them). */
static void galaxy_event_tags(export_out *w, const event_head *h, int first)
{
    buf *tmp = h->gal;
    buf_reset(tmp);
    misp_links_event_tags(h->links, first, tmp);
    if (tmp->failed)
        w->rc = ACCORD_ENOMEM;
    else
        export_add(w, tmp->p, tmp->len);
}

/* The event's ,"Galaxy":[...]. */
static void galaxy_event(export_out *w, const event_head *h)
{
    buf *tmp = h->gal;
    buf_reset(tmp);
    misp_links_event(h->links, tmp);
    if (tmp->failed)
        w->rc = ACCORD_ENOMEM;
    else
        export_add(w, tmp->p, tmp->len);
}

/* The end of an attribute of an indicator with galaxy links: its Tag list (its TLP first when
 * the attributes' TLPs differ) and Galaxy list, and the closing brace. */
static void galaxy_attribute(export_out *w, const event_head *h, const export_ind *d, uint32_t ind)
{
    buf *tmp = h->gal;
    const char *tag = h->mixed ? tlp_tags[d->tlp <= ACCORD_TLP_RED ? d->tlp : ACCORD_TLP_RED]
                               : NULL;
    buf_reset(tmp);
    misp_links_attribute(h->links, ind, tag, tmp);
    buf_adds(tmp, "}");
    if (tmp->failed)
        w->rc = ACCORD_ENOMEM;
    else
        export_add(w, tmp->p, tmp->len);
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

/* The general form of an attribute: any name, any length. */
static void write_attribute_slow(export_out *w, buf *tmp, size_t i, const event_head *h,
                                 const char *uuid)
{
    const accord_export_set *s = w->set;
    const export_item *it = &s->items[i];
    const export_ind *d = export_item_ind(s, i);
    const char *id = export_str(s, d->id), *name = export_str(s, d->name);
    size_t idlen = strlen(id);
    const struct misp_type *t = &misp_types[it->kind];
    ADDS(w, "\n{\"uuid\":\"");
    export_add(w, uuid, 36);
    ADDS(w, "\",\"type\":\"");
    export_add(w, t->type, strlen(t->type));
    ADDS(w, "\",\"category\":\"");
    export_add(w, t->category, strlen(t->category));
    ADDS(w, "\",\"to_ids\":true,\"timestamp\":\"");
    export_add(w, h->ts_text, strlen(h->ts_text));
    ADDS(w, "\",\"value\":");
    add_json(w, tmp, export_str(s, it->value));
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
    if (misp_links_has(h->links, it->ind)) {
        galaxy_attribute(w, h, d, it->ind);
        return;
    }
    if (!h->mixed) {
        ADDS(w, "}"); /* the event's tag says it for every attribute */
        return;
    }
    const char *tag = tlp_tags[d->tlp <= ACCORD_TLP_RED ? d->tlp : ACCORD_TLP_RED];
    ADDS(w, ",\"Tag\":[{\"name\":\"");
    export_add(w, tag, strlen(tag));
    ADDS(w, "\",\"colour\":\"#ffffff\",\"exportable\":true}]}");
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
        const char *tag = tlp_tags[d->tlp <= ACCORD_TLP_RED ? d->tlp : ACCORD_TLP_RED];
        PUTS(p, ",\"Tag\":[{\"name\":\"");
        memcpy(p, tag, strlen(tag)), p += strlen(tag);
        PUTS(p, "\",\"colour\":\"#ffffff\",\"exportable\":true}]");
    }
    *p++ = '}';
    export_add(w, line, (size_t)(p - line));
}

/* The strictest TLP of the attributes (h->tlp), and whether they differ (h->mixed).  Every
 * attribute of a whole-GREEN export carrying its own "tlp:green" tag was a fifth of the event
 * file; MISP applies the event's tags to what it holds. */
static void event_tlp(export_out *w, event_head *h)
{
    const accord_export_set *s = w->set;
    for (size_t i = 0; i < s->nitems; i++) {
        /* counts and names what is left out, once (export_item_ok) */
        if (!(h->attr[i] = (unsigned char)attribute_ok(w, i)))
            continue;
        int tlp = s->items[i].tlp; /* the item's copy: items in order, no indicator looked up */
        tlp = tlp > ACCORD_TLP_RED ? ACCORD_TLP_RED : tlp;
        if (h->tlp >= 0 && tlp != h->tlp)
            h->mixed = 1;
        if (tlp > h->tlp)
            h->tlp = tlp;
    }
}

#define HASH_BATCH 64 /* values hashed together (export_md5_many: eight lanes at a time) */

/* hashes.csv: "md5(value),event uuid" per attribute, in the event's order. */
static void write_hashes(export_out *w, const event_head *h)
{
    const accord_export_set *s = w->set;
    const char *v[HASH_BATCH];
    size_t len[HASH_BATCH], n = 0;
    unsigned char md5[HASH_BATCH][16];
    char lines[HASH_BATCH * 70];
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
        export_md5_many(v, len, n, md5);
        for (size_t k = 0; k < n; k++) {
            char *line = lines + 70 * k;
            hex(line, md5[k], 16);
            line[32] = ',';
            memcpy(line + 33, h->uuid, 36);
            line[69] = '\n';
        }
        export_add(w, lines, 70 * n);
        n = 0;
    }
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
    event_tlp(w, &h);
    buf gal;
    buf_init(&gal, (size_t)1 << 30);
    h.gal = &gal;
    accord_error lerr;
    if ((w->rc = misp_links_load(s, &h.links, &lerr)) != 0) {
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
    ADDS(w, "\n],");
    write_head(w, &tmp, &h);
    galaxy_event(w, &h);
    ADDS(w, "}}\n");

    export_file(w, "hashes.csv");
    write_hashes(w, &h);

    export_file(w, "manifest.json");
    export_printf(w, "{\"%s\":{", h.uuid);
    write_head(w, &tmp, &h);
    ADDS(w, "}}\n");
    misp_links_free(h.links);
    buf_free(&gal);
    free(h.attr);
    buf_free(&tmp);
    return w->rc;
}
