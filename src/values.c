/*
 * values.c - the observable values an object mentions, and the one rule that normalises them.
 *
 * The value index maps every value an object mentions to the object, so that `accord search
 * 1.2.3.4` lists every object that mentions that address whichever feed it came from.  Search is
 * given a bare string and no kind, so value_normalize() decides by the shape of the string alone,
 * and the same function runs on both sides: on every value this file extracts, and on every
 * search query.  Whatever it does, it must therefore be idempotent (normalising a normalised value
 * changes nothing; fuzz/values.c checks this) and it must never make two values that a person
 * would call different collide on purpose.
 *
 * Normalisation, tried in this order after trimming surrounding ASCII whitespace:
 *
 *   1. Byte string: six or more groups of exactly two hex digits, all separated by ':' or all by
 *      '-' (MAC and EUI-64 addresses, certificate serial numbers): lower case, ':' separators.
 *      This comes before IPv6 because "01:02:03:04:05:06:07:08" is a valid IPv6 address too, but
 *      in practice it is a serial number and nobody writes an address that way.
 *   2. IPv4 address: exactly four decimal octets 0..255.  An octet with a leading zero ("01") is
 *      not accepted: inet_aton() reads it as octal and most other tools as decimal, so there is no
 *      right answer; such a string is left as it is (rule 10), and matches only itself.
 *      "a.b.c.d/n" (n 0..32, no leading zero) is a CIDR block: host bits are cleared and "/32"
 *      becomes the plain address, so '10.1.2.3/8' is "10.0.0.0/8".
 *   3. IPv6 address and IPv6 CIDR: whatever inet_pton() accepts, written back by inet_ntop() in
 *      RFC 5952 form (lower case, longest zero run as "::"); IPv4-mapped addresses stay mapped
 *      ("::ffff:1.2.3.4"), because the store keeps what the source said.  Host bits of a prefix
 *      are cleared and "/128" becomes the plain address.  Zone ids ("%eth0") are not addresses.
 *   4. "AS" + decimal number up to 2^32-1, any case: "AS" followed by the number without leading
 *      zeros ("as015169" is "AS15169"), the form values_extract reports autonomous systems in.
 *   5. Hex digest: 32, 40, 64 or 128 hex digits (MD5, SHA-1, SHA-256, SHA-512): lower case.
 *   6. URL "scheme://...": the scheme and the host are lower-cased; userinfo, path, query and
 *      fragment are case-sensitive and kept.  The port is dropped when it is empty or the default
 *      of the scheme (http 80, https 443, ws 80, wss 443, ftp 21), and an empty path of those
 *      schemes becomes "/" (RFC 3986 section 6.2.3): "HTTP://Example.COM:80" is
 *      "http://example.com/".  No percent-decoding, no dot-segment removal, no IDN conversion.
 *      A URL containing whitespace or control characters is left as it is (rule 10).
 *   7. E-mail address "local@domain" (local part printable ASCII without '@', domain as rule 8,
 *      without trailing dot): lower case as a whole.  RFC 5321 lets the local part be
 *      case-sensitive, but no real mail system treats it so, and a search that misses
 *      "John.Smith@x" for "john.smith@x" would be the worse failure.
 *   8. Domain name: two or more dot-separated labels of 1..63 letters, digits, '-' or '_', at most
 *      253 bytes, last label not all digits (so "1.2.3.256" is not a domain): lower case, one
 *      trailing dot removed.  Internationalised names in Unicode are not converted to punycode
 *      and not case-folded; they fall to rule 10.  File names such as "Invoice.EXE" have this
 *      shape too and are lower-cased: both sides of a search are, so matching still works, at the
 *      price of conflating names that differ only in case.
 *   9. Windows registry key "HKEY_...": lower case (the registry is case-insensitive).
 *  10. Anything else: trimmed, otherwise unchanged (no Unicode case folding, no NFC).
 *
 * A value that contains a NUL byte cannot come from JSON and cannot be searched for; it is
 * rejected (-1), like an empty value.
 *
 * What values_extract reports (each value normalised; a value over VALUE_MAX bytes, before or
 * after normalising, is skipped; a NULL type means the object's own "type"):
 *
 *   ipv4-addr, ipv6-addr, domain-name, url, email-addr, mac-addr   value
 *   file                    hashes.* (every string of the dict, SSDEEP and TLSH too), name
 *   artifact                hashes.*, url
 *   x509-certificate        hashes.*, serial_number, subject
 *   autonomous-system       number, as "AS<number>"
 *   mutex                   name
 *   windows-registry-key    key
 *   software                cpe
 *   user-account            user_id, account_login
 *   observed-data           each object of a STIX 2.0 embedded "objects" dict, by its own type
 *   indicator (stix)        the string constants of its pattern, see below
 *
 * Left out on purpose: an x509 issuer (shared by every certificate a CA signs, so a hot key with no
 * pivot value), software swid, e-mail messages and network traffic (they only hold references),
 * process command lines, directory paths and free text such as names and descriptions.  The
 * pattern scanner is wider than this table on purpose (see below), so an indicator on
 * [x509-certificate:issuer = '...'] is found by that issuer although a certificate is not.
 * STIX 2.1 observed-data holds object_refs, not objects: its values belong to the SCOs it names.
 *
 * Indicator patterns (pattern_type "stix", or none) are scanned by a small lexer, not parsed: this
 * is not the pattern engine.  It follows the current object path ("file:hashes.'SHA-256'") and
 * reports the string constant of every comparison "=", "==", "!=", "IN", "ISSUBSET" and
 * "ISSUPERSET", and every string of a parenthesised IN list, whatever the path: a constant in a
 * pattern is a value its author chose to match on, which is exactly what search is for.  Integer
 * constants are skipped, except for autonomous-system:number, reported as "AS<number>".  "LIKE"
 * and "MATCHES" constants are wildcards and regular expressions, not values, and "<", ">" and
 * their "=" forms compare ranges: all are skipped.  Timestamps t'...', binary b'...' and hex h'...'
 * constants are skipped.  The lexer stops at the first thing it cannot read (an unterminated
 * string, an escape other than \\ and \', a stray character), keeping what it already reported;
 * it reads only inside the pattern string and keeps no state beyond one token.  Keywords are
 * matched without regard to case.  An indicator's name and description are not looked at.
 */
#include "values.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define NOT_MINE (-2) /* a rule's return: the string does not have this rule's shape */

/* ---- ASCII character classes: locale-independent on purpose ---- */

static int is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_hex(int c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int to_lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

static int span_all_digits(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (!is_digit((unsigned char)s[i]))
            return 0;
    }
    return len > 0;
}

static int span_eq_nocase(const char *s, size_t len, const char *lit)
{
    size_t n = strlen(lit);
    if (len != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (to_lower((unsigned char)s[i]) != to_lower((unsigned char)lit[i]))
            return 0;
    }
    return 1;
}

/* ---- a capped output writer: every rule writes through it, so none can overrun `out` ---- */

typedef struct writer {
    char *out;
    size_t cap; /* bytes of out, including room for the NUL */
    size_t n;
    int full; /* something did not fit */
} writer;

static void w_init(writer *w, char *out, size_t outlen)
{
    w->out = out;
    w->cap = outlen;
    w->n = 0;
    w->full = outlen == 0;
}

static void w_put(writer *w, const char *s, size_t len, int lower)
{
    if (w->full || len >= w->cap - w->n) {
        w->full = 1;
        return;
    }
    for (size_t i = 0; i < len; i++)
        w->out[w->n + i] = lower ? (char)to_lower((unsigned char)s[i]) : s[i];
    w->n += len;
}

/* NUL-terminates; the length, or -1 when something did not fit or nothing was written. */
static long w_finish(writer *w)
{
    if (w->full || w->n == 0)
        return -1;
    w->out[w->n] = '\0';
    return (long)w->n;
}

static long emit(const char *s, size_t len, int lower, char *out, size_t outlen)
{
    writer w;
    w_init(&w, out, outlen);
    w_put(&w, s, len, lower);
    return w_finish(&w);
}

/* ---- rules 2 and 3: IP addresses and CIDR blocks ---- */

/* A decimal number 0..max without leading zeros (what a CIDR prefix length is). */
static int parse_small(const char *s, size_t len, unsigned max, unsigned *out)
{
    unsigned v = 0;
    if (len == 0 || len > 3 || !span_all_digits(s, len) || (len > 1 && s[0] == '0'))
        return 0;
    for (size_t i = 0; i < len; i++)
        v = v * 10 + (unsigned)(s[i] - '0');
    if (v > max)
        return 0;
    *out = v;
    return 1;
}

/* A strict dotted quad, network byte order in b[4]. */
static int parse_ipv4(const char *s, size_t len, unsigned char b[4])
{
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        size_t start = i;
        unsigned v;
        while (i < len && s[i] != '.')
            i++;
        if (!parse_small(s + start, i - start, 255, &v))
            return 0;
        b[part] = (unsigned char)v;
        if (part < 3 && (i >= len || s[i] != '.'))
            return 0;
        i++;
    }
    return i == len + 1;
}

/* Clears the bits after the first `prefix` bits of b[0..nbytes). */
static void mask_bits(unsigned char *b, size_t nbytes, unsigned prefix)
{
    for (size_t i = 0; i < nbytes; i++) {
        unsigned keep = prefix >= 8 * (i + 1) ? 8 : (prefix > 8 * i ? prefix - 8 * (unsigned)i : 0);
        b[i] &= (unsigned char)(0xff00u >> keep);
    }
}

/* Writes an address (after masking) and "/prefix" when it is not a single host. */
static long write_net(int af, unsigned char *b, unsigned prefix, int has_prefix, char *out,
                      size_t outlen)
{
    char text[INET6_ADDRSTRLEN];
    unsigned bits = af == AF_INET ? 32 : 128;
    writer w;
    if (has_prefix)
        mask_bits(b, bits / 8, prefix);
    if (!inet_ntop(af, b, text, sizeof text))
        return -1;
    w_init(&w, out, outlen);
    w_put(&w, text, strlen(text), 0);
    if (has_prefix && prefix < bits) {
        char suffix[8];
        int n = snprintf(suffix, sizeof suffix, "/%u", prefix);
        w_put(&w, suffix, (size_t)n, 0);
    }
    return w_finish(&w);
}

static long norm_ip(const char *s, size_t len, char *out, size_t outlen)
{
    const char *slash = memchr(s, '/', len);
    size_t alen = slash ? (size_t)(slash - s) : len;
    int v6 = memchr(s, ':', alen) != NULL;
    unsigned prefix = 0;
    unsigned char b[16];
    if (slash && !parse_small(slash + 1, len - alen - 1, v6 ? 128 : 32, &prefix))
        return NOT_MINE;
    if (!v6) {
        if (!parse_ipv4(s, alen, b))
            return NOT_MINE;
        return write_net(AF_INET, b, prefix, slash != NULL, out, outlen);
    }
    char text[INET6_ADDRSTRLEN + 1];
    if (alen >= sizeof text)
        return NOT_MINE;
    memcpy(text, s, alen);
    text[alen] = '\0';
    if (inet_pton(AF_INET6, text, b) != 1)
        return NOT_MINE;
    return write_net(AF_INET6, b, prefix, slash != NULL, out, outlen);
}

/* ---- rule 1: byte strings (MAC addresses, serial numbers) ---- */

static long norm_bytes(const char *s, size_t len, char *out, size_t outlen)
{
    char sep;
    writer w;
    if (len < 17 || (len + 1) % 3 != 0 || (s[2] != ':' && s[2] != '-'))
        return NOT_MINE;
    sep = s[2];
    for (size_t i = 0; i < len; i++) {
        int ok = (i % 3 == 2) ? s[i] == sep : is_hex((unsigned char)s[i]);
        if (!ok)
            return NOT_MINE;
    }
    w_init(&w, out, outlen);
    for (size_t i = 0; i < len; i++)
        w_put(&w, i % 3 == 2 ? ":" : s + i, 1, 1);
    return w_finish(&w);
}

/* ---- rule 4: autonomous system numbers ---- */

/* 1 when s[0..len) is a decimal number 0..2^32-1 (leading zeros allowed), in *out. */
static int parse_asn(const char *s, size_t len, unsigned long *out)
{
    unsigned long v = 0;
    size_t i = 0;
    if (!span_all_digits(s, len))
        return 0;
    while (i + 1 < len && s[i] == '0')
        i++;
    if (len - i > 10)
        return 0;
    for (; i < len; i++)
        v = v * 10 + (unsigned long)(s[i] - '0');
    if (v > 4294967295ul)
        return 0;
    *out = v;
    return 1;
}

static long write_asn(unsigned long asn, char *out, size_t outlen)
{
    char text[16];
    int n = snprintf(text, sizeof text, "AS%lu", asn);
    return emit(text, (size_t)n, 0, out, outlen);
}

static long norm_asn(const char *s, size_t len, char *out, size_t outlen)
{
    unsigned long asn;
    if (len < 3 || to_lower((unsigned char)s[0]) != 'a' || to_lower((unsigned char)s[1]) != 's' ||
        !parse_asn(s + 2, len - 2, &asn))
        return NOT_MINE;
    return write_asn(asn, out, outlen);
}

/* ---- rule 5: hex digests ---- */

static long norm_digest(const char *s, size_t len, char *out, size_t outlen)
{
    if (len != 32 && len != 40 && len != 64 && len != 128)
        return NOT_MINE;
    for (size_t i = 0; i < len; i++) {
        if (!is_hex((unsigned char)s[i]))
            return NOT_MINE;
    }
    return emit(s, len, 1, out, outlen);
}

/* ---- rule 8: domain names (before URLs and e-mail, which use it) ---- */

static int is_label_char(int c)
{
    return is_alpha(c) || is_digit(c) || c == '-' || c == '_';
}

/* 1 when s[0..len) is a domain name without trailing dot, by the shape of rule 8. */
static int is_domain(const char *s, size_t len)
{
    size_t labels = 0, i = 0, start = 0;
    if (len == 0 || len > 253)
        return 0;
    for (i = 0; i <= len; i++) {
        if (i < len && s[i] != '.') {
            if (!is_label_char((unsigned char)s[i]))
                return 0;
            continue;
        }
        if (i == start || i - start > 63)
            return 0;
        labels++;
        if (i == len && span_all_digits(s + start, i - start))
            return 0;
        start = i + 1;
    }
    return labels >= 2;
}

static long norm_domain(const char *s, size_t len, char *out, size_t outlen)
{
    if (len > 1 && s[len - 1] == '.')
        len--;
    if (!is_domain(s, len))
        return NOT_MINE;
    return emit(s, len, 1, out, outlen);
}

/* ---- rule 6: URLs ---- */

/* Where a URL's parts are, as offsets into the string. */
typedef struct url_parts {
    size_t scheme_end; /* the ':' of "://" */
    size_t host;       /* first byte of the host, after any userinfo */
    size_t host_end;   /* the ':' before the port, or auth_end */
    size_t auth_end;   /* the '/', '?' or '#' after the authority, or the length */
} url_parts;

static int url_split(const char *s, size_t len, url_parts *u)
{
    size_t i = 0;
    if (len == 0 || !is_alpha((unsigned char)s[0]))
        return 0;
    while (i < len && (is_alpha((unsigned char)s[i]) || is_digit((unsigned char)s[i]) ||
                       s[i] == '+' || s[i] == '-' || s[i] == '.'))
        i++;
    if (len - i < 3 || memcmp(s + i, "://", 3) != 0)
        return 0;
    for (size_t k = 0; k < len; k++) {
        unsigned char c = (unsigned char)s[k];
        if (c <= 0x20 || c == 0x7f)
            return 0;
    }
    u->scheme_end = i;
    u->host = i + 3;
    u->auth_end = u->host;
    while (u->auth_end < len && s[u->auth_end] != '/' && s[u->auth_end] != '?' &&
           s[u->auth_end] != '#')
        u->auth_end++;
    for (size_t k = u->host; k < u->auth_end; k++) {
        if (s[k] == '@')
            u->host = k + 1;
    }
    u->host_end = u->auth_end;
    if (u->host < u->auth_end && s[u->host] == '[') {
        const char *close = memchr(s + u->host, ']', u->auth_end - u->host);
        size_t from = close ? (size_t)(close - s) : u->auth_end;
        const char *colon = memchr(s + from, ':', u->auth_end - from);
        u->host_end = colon ? (size_t)(colon - s) : u->auth_end;
    } else {
        const char *colon = memchr(s + u->host, ':', u->auth_end - u->host);
        u->host_end = colon ? (size_t)(colon - s) : u->auth_end;
    }
    return 1;
}

/* The default port of the schemes whose empty path means "/", or NULL. */
static const char *default_port(const char *scheme, size_t len)
{
    static const struct {
        const char *scheme, *port;
    } ports[] = {{"http", "80"}, {"https", "443"}, {"ws", "80"}, {"wss", "443"}, {"ftp", "21"}};
    for (size_t i = 0; i < sizeof ports / sizeof ports[0]; i++) {
        if (span_eq_nocase(scheme, len, ports[i].scheme))
            return ports[i].port;
    }
    return NULL;
}

static long norm_url(const char *s, size_t len, char *out, size_t outlen)
{
    url_parts u;
    writer w;
    if (!url_split(s, len, &u))
        return NOT_MINE;
    const char *dport = default_port(s, u.scheme_end);
    const char *port = s + u.host_end + 1;
    size_t port_len = u.auth_end > u.host_end ? u.auth_end - u.host_end - 1 : 0;
    int keep_port = u.host_end < u.auth_end && port_len > 0 &&
                    !(dport && port_len == strlen(dport) && memcmp(port, dport, port_len) == 0);
    w_init(&w, out, outlen);
    w_put(&w, s, u.scheme_end, 1);
    w_put(&w, s + u.scheme_end, u.host - u.scheme_end, 0); /* "://" and userinfo */
    w_put(&w, s + u.host, u.host_end - u.host, 1);
    if (keep_port)
        w_put(&w, s + u.host_end, u.auth_end - u.host_end, 0);
    if (dport && (u.auth_end == len || s[u.auth_end] != '/'))
        w_put(&w, "/", 1, 0);
    w_put(&w, s + u.auth_end, len - u.auth_end, 0);
    return w_finish(&w);
}

/* ---- rule 7: e-mail addresses ---- */

static long norm_email(const char *s, size_t len, char *out, size_t outlen)
{
    const char *at = memchr(s, '@', len);
    size_t local = at ? (size_t)(at - s) : 0;
    if (!at || local == 0 || local > 64 || !is_domain(at + 1, len - local - 1))
        return NOT_MINE;
    for (size_t i = 0; i < local; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7f)
            return NOT_MINE;
    }
    return emit(s, len, 1, out, outlen);
}

/* ---- rule 9: registry keys ---- */

static long norm_regkey(const char *s, size_t len, char *out, size_t outlen)
{
    if (len < 6 || !span_eq_nocase(s, 5, "HKEY_"))
        return NOT_MINE;
    return emit(s, len, 1, out, outlen);
}

typedef long (*norm_rule)(const char *s, size_t len, char *out, size_t outlen);

long value_normalize(const char *in, size_t len, char *out, size_t outlen)
{
    static const norm_rule rules[] = {norm_bytes, norm_ip,    norm_asn,    norm_digest,
                                      norm_url,   norm_email, norm_domain, norm_regkey};
    if (!in || !out)
        return -1;
    while (len > 0 && is_space((unsigned char)in[0])) {
        in++;
        len--;
    }
    while (len > 0 && is_space((unsigned char)in[len - 1]))
        len--;
    if (len == 0 || memchr(in, '\0', len))
        return -1;
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        long rc = rules[i](in, len, out, outlen);
        if (rc != NOT_MINE)
            return rc;
    }
    return emit(in, len, 0, out, outlen);
}

/* ---- reporting ---- */

typedef struct sink {
    value_cb cb;
    void *ud;
} sink;

/* Normalises s[0..len) and hands it to the callback, unless it is too long or empty. */
static void report(const sink *k, const char *s, size_t len)
{
    char buf[VALUE_MAX + 1];
    long n;
    if (len > VALUE_MAX)
        return;
    n = value_normalize(s, len, buf, sizeof buf);
    if (n >= 0)
        k->cb(k->ud, buf, (size_t)n);
}

static void report_asn(const sink *k, unsigned long asn)
{
    char buf[16];
    long n = write_asn(asn, buf, sizeof buf);
    if (n >= 0)
        k->cb(k->ud, buf, (size_t)n);
}

/* Reports a string property, or each string member of an object property (hashes). */
static void report_prop(const sink *k, const ajson_value *v)
{
    if (!v)
        return;
    if (v->type == AJSON_STRING) {
        report(k, v->u.str, v->len);
    } else if (v->type == AJSON_OBJECT) {
        for (size_t i = 0; i < v->len; i++) {
            const ajson_value *m = &v->u.members[i].value;
            if (m->type == AJSON_STRING)
                report(k, m->u.str, m->len);
        }
    }
}

/* The SCO properties that hold values; an object property reports its string members. */
static const struct sco_props {
    const char *type;
    const char *props[3];
} sco_table[] = {
    {"ipv4-addr", {"value"}},
    {"ipv6-addr", {"value"}},
    {"domain-name", {"value"}},
    {"url", {"value"}},
    {"email-addr", {"value"}},
    {"mac-addr", {"value"}},
    {"file", {"hashes", "name"}},
    {"artifact", {"hashes", "url"}},
    {"x509-certificate", {"hashes", "serial_number", "subject"}},
    {"mutex", {"name"}},
    {"windows-registry-key", {"key"}},
    {"software", {"cpe"}},
    {"user-account", {"user_id", "account_login"}},
};

static void extract_sco(const sink *k, const ajson_value *obj, const char *type)
{
    int64_t asn;
    if (strcmp(type, "autonomous-system") == 0) {
        const ajson_value *number = ajson_get(obj, "number");
        if (number && ajson_int(number, &asn) && asn >= 0 && asn <= 4294967295)
            report_asn(k, (unsigned long)asn);
        return;
    }
    for (size_t i = 0; i < sizeof sco_table / sizeof sco_table[0]; i++) {
        if (strcmp(type, sco_table[i].type) != 0)
            continue;
        for (size_t p = 0; p < 3 && sco_table[i].props[p]; p++)
            report_prop(k, ajson_get(obj, sco_table[i].props[p]));
        return;
    }
}

/* A STIX 2.0 observed-data carries its observables in an "objects" dict. */
static void extract_observed(const sink *k, const ajson_value *obj)
{
    const ajson_value *objects = ajson_get(obj, "objects");
    if (!objects || objects->type != AJSON_OBJECT)
        return;
    for (size_t i = 0; i < objects->len; i++) {
        const ajson_value *o = &objects->u.members[i].value;
        const char *type = ajson_str(ajson_get(o, "type"));
        if (type)
            extract_sco(k, o, type);
    }
}

/* ---- the pattern lexer ---- */

typedef enum tok_kind {
    T_END,
    T_ERROR,
    T_PATH,   /* type:prop.path, raw text in tok */
    T_STRING, /* '...', unescaped in lit */
    T_TYPED,  /* t'...', b'...', h'...' */
    T_NUMBER, /* raw text in tok */
    T_WORD,   /* keyword or identifier, raw text in tok */
    T_EQ,     /* = == != */
    T_CMP,    /* < <= > >= */
    T_LPAREN,
    T_RPAREN,
    T_COMMA,
    T_PUNCT, /* [ ] */
} tok_kind;

typedef struct lexer {
    const char *p, *end;
    const char *tok; /* raw text of a PATH, NUMBER or WORD token */
    size_t tok_len;
    size_t type_len; /* PATH: length of the object type before ':' */
    char lit[VALUE_MAX + 1];
    size_t lit_len;
    int lit_long; /* the string constant was longer than VALUE_MAX */
} lexer;

static void lit_add(lexer *lx, char c)
{
    if (lx->lit_len < VALUE_MAX)
        lx->lit[lx->lit_len++] = c;
    else
        lx->lit_long = 1;
}

/* Reads a quoted string at lx->p (a quote) into lit; \\ and \' are the only escapes. */
static tok_kind lex_string(lexer *lx)
{
    lx->lit_len = 0;
    lx->lit_long = 0;
    lx->p++;
    while (lx->p < lx->end) {
        char c = *lx->p++;
        if (c == '\'') {
            lx->lit[lx->lit_len] = '\0';
            return T_STRING;
        }
        if (c == '\\') {
            if (lx->p >= lx->end || (*lx->p != '\\' && *lx->p != '\''))
                return T_ERROR;
            c = *lx->p++;
        }
        lit_add(lx, c);
    }
    return T_ERROR;
}

static int is_word_char(int c)
{
    return is_alpha(c) || is_digit(c) || c == '_' || c == '-';
}

static size_t word_len(const lexer *lx)
{
    const char *q = lx->p;
    while (q < lx->end && is_word_char((unsigned char)*q))
        q++;
    return (size_t)(q - lx->p);
}

/* Reads one path component: a word or a quoted string. */
static int lex_component(lexer *lx)
{
    size_t n;
    if (lx->p < lx->end && *lx->p == '\'')
        return lex_string(lx) == T_STRING;
    n = word_len(lx);
    lx->p += n;
    return n > 0;
}

/* Reads a list index "[*]" or "[digits]" right after a path component; 0 when there is none. */
static int lex_index(lexer *lx)
{
    const char *q = lx->p;
    if (q >= lx->end || *q != '[')
        return 0;
    q++;
    if (q < lx->end && *q == '*') {
        q++;
    } else {
        const char *digits = q;
        while (q < lx->end && is_digit((unsigned char)*q))
            q++;
        if (q == digits)
            return 0;
    }
    if (q >= lx->end || *q != ']')
        return 0;
    lx->p = q + 1;
    return 1;
}

/* Reads the property path after "type:"; lx->p is on the first component. */
static tok_kind lex_path(lexer *lx)
{
    if (!lex_component(lx))
        return T_ERROR;
    for (;;) {
        if (lx->p < lx->end && *lx->p == '.') {
            lx->p++;
            if (!lex_component(lx))
                return T_ERROR;
        } else if (!lex_index(lx)) {
            break;
        }
    }
    lx->tok_len = (size_t)(lx->p - lx->tok);
    return T_PATH;
}

/* A word: a typed constant's prefix, an object type, a number or a keyword. */
static tok_kind lex_word(lexer *lx)
{
    size_t n = word_len(lx);
    lx->tok = lx->p;
    lx->p += n;
    int typed = n == 1 && (lx->tok[0] == 't' || lx->tok[0] == 'b' || lx->tok[0] == 'h');
    if (typed && lx->p < lx->end && *lx->p == '\'')
        return lex_string(lx) == T_STRING ? T_TYPED : T_ERROR;
    if (lx->p < lx->end && *lx->p == ':') {
        lx->type_len = n;
        lx->p++;
        return lex_path(lx);
    }
    lx->tok_len = n;
    if (!span_all_digits(lx->tok + (lx->tok[0] == '-'), n - (lx->tok[0] == '-')))
        return T_WORD;
    if (lx->p + 1 < lx->end && lx->p[0] == '.' && is_digit((unsigned char)lx->p[1])) {
        lx->p++;
        lx->p += word_len(lx);
        lx->tok_len = (size_t)(lx->p - lx->tok);
    }
    return T_NUMBER;
}

/* An operator made of '=', '!', '<' and '>'. */
static tok_kind lex_operator(lexer *lx)
{
    char c = *lx->p++;
    int eq = lx->p < lx->end && *lx->p == '=';
    if (eq)
        lx->p++;
    if (c == '=')
        return T_EQ;
    if (c == '!')
        return eq ? T_EQ : T_ERROR;
    return T_CMP;
}

static tok_kind lex_next(lexer *lx)
{
    while (lx->p < lx->end && is_space((unsigned char)*lx->p))
        lx->p++;
    if (lx->p >= lx->end)
        return T_END;
    switch (*lx->p) {
    case '\'':
        return lex_string(lx);
    case '(':
        lx->p++;
        return T_LPAREN;
    case ')':
        lx->p++;
        return T_RPAREN;
    case ',':
        lx->p++;
        return T_COMMA;
    case '[':
    case ']':
        lx->p++;
        return T_PUNCT;
    case '=':
    case '!':
    case '<':
    case '>':
        return lex_operator(lx);
    default:
        break;
    }
    if (is_word_char((unsigned char)*lx->p))
        return lex_word(lx);
    return T_ERROR;
}

/* ---- the pattern scanner: what to report, one token at a time ---- */

typedef enum scan_state {
    S_IDLE,     /* between comparisons */
    S_PATH,     /* after an object path, before its operator */
    S_CONSTANT, /* after an operator whose constant is a value */
    S_LIST,     /* inside the parenthesised list of IN */
} scan_state;

typedef struct scanner {
    lexer lx;
    scan_state state;
    int asn_path; /* the current path is autonomous-system:number */
    const sink *k;
} scanner;

static int path_is_asn(const lexer *lx)
{
    static const char type[] = "autonomous-system", prop[] = "number";
    return lx->type_len == sizeof type - 1 && memcmp(lx->tok, type, sizeof type - 1) == 0 &&
           lx->tok_len == lx->type_len + sizeof prop &&
           memcmp(lx->tok + lx->type_len + 1, prop, sizeof prop - 1) == 0;
}

/* Reports a constant: a string as itself, an integer only on autonomous-system:number. */
static void scan_constant(scanner *sc, tok_kind kind)
{
    unsigned long asn;
    if (kind == T_STRING && !sc->lx.lit_long)
        report(sc->k, sc->lx.lit, sc->lx.lit_len);
    else if (kind == T_NUMBER && sc->asn_path && parse_asn(sc->lx.tok, sc->lx.tok_len, &asn))
        report_asn(sc->k, asn);
}

/* The state after the operator (or keyword) that follows a path. */
static scan_state scan_operator(const scanner *sc, tok_kind kind)
{
    const lexer *lx = &sc->lx;
    if (kind == T_EQ)
        return S_CONSTANT;
    if (kind != T_WORD)
        return S_IDLE;
    if (span_eq_nocase(lx->tok, lx->tok_len, "NOT"))
        return S_PATH;
    if (span_eq_nocase(lx->tok, lx->tok_len, "IN") ||
        span_eq_nocase(lx->tok, lx->tok_len, "ISSUBSET") ||
        span_eq_nocase(lx->tok, lx->tok_len, "ISSUPERSET"))
        return S_CONSTANT;
    return S_IDLE; /* LIKE, MATCHES, EXISTS, ... */
}

static scan_state scan_step(scanner *sc, tok_kind kind)
{
    if (kind == T_PATH) {
        sc->asn_path = path_is_asn(&sc->lx);
        return S_PATH;
    }
    switch (sc->state) {
    case S_PATH:
        return scan_operator(sc, kind);
    case S_CONSTANT:
        if (kind == T_LPAREN)
            return S_LIST;
        scan_constant(sc, kind);
        return S_IDLE;
    case S_LIST:
        if (kind == T_COMMA)
            return S_LIST;
        if (kind != T_STRING && kind != T_NUMBER)
            return S_IDLE;
        scan_constant(sc, kind);
        return S_LIST;
    case S_IDLE:
        break;
    }
    return S_IDLE;
}

static void scan_pattern(const sink *k, const char *pattern, size_t len)
{
    scanner sc;
    sc.lx.p = pattern;
    sc.lx.end = pattern + len;
    sc.lx.tok = pattern;
    sc.lx.tok_len = 0;
    sc.lx.type_len = 0;
    sc.lx.lit_len = 0;
    sc.lx.lit_long = 0;
    sc.state = S_IDLE;
    sc.asn_path = 0;
    sc.k = k;
    for (;;) {
        tok_kind kind = lex_next(&sc.lx);
        if (kind == T_END || kind == T_ERROR)
            break;
        sc.state = scan_step(&sc, kind);
    }
}

static void extract_indicator(const sink *k, const ajson_value *obj)
{
    const ajson_value *pattern = ajson_get(obj, "pattern");
    const char *ptype = ajson_str(ajson_get(obj, "pattern_type"));
    if (ptype && strcmp(ptype, "stix") != 0)
        return;
    if (pattern && pattern->type == AJSON_STRING)
        scan_pattern(k, pattern->u.str, pattern->len);
}

void values_extract(const ajson_value *obj, const char *type, value_cb cb, void *ud)
{
    sink k = {cb, ud};
    if (!obj || obj->type != AJSON_OBJECT || !cb)
        return;
    if (!type)
        type = ajson_str(ajson_get(obj, "type"));
    if (!type)
        return;
    if (strcmp(type, "indicator") == 0)
        extract_indicator(&k, obj);
    else if (strcmp(type, "observed-data") == 0)
        extract_observed(&k, obj);
    else
        extract_sco(&k, obj, type);
}
