/*
 * case_ident.c - package URLs, CPE 2.3 formatted strings, CVE and CWE ids (see case_ident.h).
 *
 * Package URLs are parsed as the purl specification's "how to parse" section says: subpath and
 * qualifiers are cut from the right, the type is the first segment after "pkg:", the version
 * follows the last '@', the name is the last path segment and the namespace what precedes it.
 * Segments are percent-decoded, then re-encoded one canonical way, so "pkg:npm/@acme/x" and
 * "pkg:NPM/%40acme/x@1.0" have the same base, which is what vendor profiles and cases compare.
 *
 * CPE strings are checked against the formatted-string grammar (the one the CSAF schema's
 * pattern encodes): printable characters other than alphanumerics, '-', '.' and '_' must be
 * quoted with '\', '*' and '?' only lead or trail a value, and the language component is an
 * RFC 5646 tag.  Nothing is matched against the NVD dictionary.
 */
#include "case_ident.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static int fail(char *err, size_t errlen, const char *fmt, const char *what, size_t off)
{
    if (err && errlen)
        snprintf(err, errlen, fmt, what, off);
    return -1;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decodes s[0..len) into out; -1 on a bad escape (its offset in *bad) or overflow. */
static int decode(const char *s, size_t len, char *out, size_t cap, size_t *bad)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '%') {
            int h = i + 1 < len ? hexval(s[i + 1]) : -1;
            int l = i + 2 < len ? hexval(s[i + 2]) : -1;
            if (h < 0 || l < 0 || (h == 0 && l == 0)) {
                *bad = i;
                return -1;
            }
            c = (char)(h * 16 + l);
            i += 2;
        }
        if (o + 1 >= cap) {
            *bad = i;
            return -1;
        }
        out[o++] = c;
    }
    out[o] = '\0';
    return 0;
}

/* Appends s percent-encoded (all but unreserved characters and, when keep_slash, '/'). */
static int encode(const char *s, int keep_slash, char *out, size_t cap, size_t *o)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        int plain =
            isalnum(c) || c == '.' || c == '-' || c == '_' || c == '~' || (keep_slash && c == '/');
        int n = plain ? snprintf(out + *o, cap - *o, "%c", c)
                      : snprintf(out + *o, cap - *o, "%%%02X", c);
        if (n < 0 || (size_t)n >= cap - *o)
            return -1;
        *o += (size_t)n;
    }
    return 0;
}

int purl_parse(const char *s, purl *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    size_t len = strlen(s);
    if (len >= PURL_MAX)
        return fail(err, errlen, "purl: longer than %s%zu bytes", "", (size_t)PURL_MAX - 1);
    if (strncmp(s, "pkg:", 4) != 0)
        return fail(err, errlen, "purl: must start with \"pkg:\"%s (offset %zu)", "", 0);
    size_t end = len;
    const char *hash = memchr(s, '#', end);
    if (hash)
        end = (size_t)(hash - s);
    const char *q = memchr(s, '?', end);
    if (q)
        end = (size_t)(q - s);
    size_t i = 4;
    while (i < end && s[i] == '/')
        i++;
    size_t t0 = i;
    while (i < end && s[i] != '/')
        i++;
    if (i == t0 || i - t0 >= sizeof(out->type))
        return fail(err, errlen, "purl: missing or overlong type%s at offset %zu", "", t0);
    for (size_t k = t0; k < i; k++) {
        char c = s[k];
        if (!(isalnum((unsigned char)c) || c == '.' || c == '+' || c == '-') ||
            (k == t0 && isdigit((unsigned char)c)))
            return fail(err, errlen, "purl: invalid character in type%s at offset %zu", "", k);
        out->type[k - t0] = (char)tolower((unsigned char)c);
    }
    /* the rest: namespace/name@version, with empty segments ignored */
    size_t rest = i + 1 <= end ? i + 1 : end;
    const char *at = NULL;
    /* an '@' opening a segment is npm's scope ("@acme"), not the version separator */
    for (size_t k = rest; k < end; k++)
        if (s[k] == '@' && k > rest && s[k - 1] != '/')
            at = s + k;
    size_t path_end = at ? (size_t)(at - s) : end;
    size_t bad;
    if (at && decode(at + 1, end - (size_t)(at + 1 - s), out->version, sizeof(out->version), &bad))
        return fail(err, errlen, "purl: bad percent-encoding in version%s at offset %zu", "",
                    (size_t)(at + 1 - s) + bad);
    while (path_end > rest && s[path_end - 1] == '/')
        path_end--;
    size_t name0 = path_end;
    while (name0 > rest && s[name0 - 1] != '/')
        name0--;
    if (name0 == path_end)
        return fail(err, errlen, "purl: missing name%s at offset %zu", "", path_end);
    if (decode(s + name0, path_end - name0, out->name, sizeof(out->name), &bad))
        return fail(err, errlen, "purl: bad percent-encoding in name%s at offset %zu", "",
                    name0 + bad);
    /* namespace segments, decoded one by one, empty ones dropped */
    size_t o = 0;
    for (size_t k = rest; k < name0;) {
        size_t e = k;
        while (e < name0 && s[e] != '/')
            e++;
        if (e > k) {
            char seg[256];
            if (decode(s + k, e - k, seg, sizeof(seg), &bad) || strchr(seg, '/'))
                return fail(err, errlen, "purl: bad namespace segment%s at offset %zu", "", k);
            int n = snprintf(out->ns + o, sizeof(out->ns) - o, "%s%s", o ? "/" : "", seg);
            if (n < 0 || (size_t)n >= sizeof(out->ns) - o)
                return fail(err, errlen, "purl: namespace too long%s at offset %zu", "", k);
            o += (size_t)n;
        }
        k = e + 1;
    }
    if (strcmp(out->type, "pypi") == 0)
        for (char *c = out->name; *c; c++)
            *c = *c == '_' ? '-' : (char)tolower((unsigned char)*c);
    if (strcmp(out->type, "npm") == 0 || strcmp(out->type, "github") == 0 ||
        strcmp(out->type, "golang") == 0)
        for (char *c = out->ns; *c; c++)
            *c = (char)tolower((unsigned char)*c);
    size_t b = 0;
    int n = snprintf(out->base, sizeof(out->base), "pkg:%s/", out->type);
    b = (size_t)n;
    if ((out->ns[0] && (encode(out->ns, 1, out->base, sizeof(out->base), &b) ||
                        encode("/", 1, out->base, sizeof(out->base), &b))) ||
        encode(out->name, 0, out->base, sizeof(out->base), &b))
        return fail(err, errlen, "purl: too long%s (offset %zu)", "", len);
    return 0;
}

int purl_covers(const char *prefix, const char *base)
{
    size_t n = strlen(prefix);
    while (n && prefix[n - 1] == '/')
        n--;
    return strncmp(prefix, base, n) == 0 && (base[n] == '\0' || base[n] == '/');
}

const char *purl_osv_ecosystem(const char *type)
{
    static const char *const map[][2] = {{"npm", "npm"},         {"pypi", "PyPI"},
                                         {"maven", "Maven"},     {"golang", "Go"},
                                         {"cargo", "crates.io"}, {"gem", "RubyGems"},
                                         {"nuget", "NuGet"},     {"composer", "Packagist"},
                                         {"hex", "Hex"},         {"pub", "Pub"},
                                         {"swift", "SwiftURL"},  {"cran", "CRAN"},
                                         {"hackage", "Hackage"}, {NULL, NULL}};
    for (int i = 0; map[i][0]; i++)
        if (strcmp(map[i][0], type) == 0)
            return map[i][1];
    return NULL;
}

void purl_osv_name(const purl *p, char *out, size_t outlen)
{
    if (!p->ns[0])
        snprintf(out, outlen, "%s", p->name);
    else if (strcmp(p->type, "maven") == 0)
        snprintf(out, outlen, "%s:%s", p->ns, p->name);
    else
        snprintf(out, outlen, "%s/%s", p->ns, p->name);
}

/* ------------------------------------------------------------------------------------------ */
/* CPE 2.3                                                                                      */

static const char *const cpe_names[] = {"part",      "vendor",    "product",  "version",
                                        "update",    "edition",   "language", "sw_edition",
                                        "target_sw", "target_hw", "other"};

/* One avstring component: "*", "-", or [?*]-led/trailed quoted/unreserved characters. */
static int cpe_value_ok(const char *v, size_t len)
{
    if (len == 1 && (v[0] == '*' || v[0] == '-'))
        return 1;
    size_t i = 0, body = 0;
    if (i < len && v[i] == '*')
        i++;
    else
        while (i < len && v[i] == '?')
            i++;
    while (i < len) {
        char c = v[i];
        if (isalnum((unsigned char)c) || c == '-' || c == '.' || c == '_') {
            i++, body++;
        } else if (c == '\\' && i + 1 < len && ispunct((unsigned char)v[i + 1])) {
            i += 2, body++;
        } else {
            break;
        }
    }
    if (i < len && v[i] == '*')
        i++;
    else
        while (i < len && v[i] == '?')
            i++;
    return i == len && body > 0;
}

static int cpe_lang_ok(const char *v, size_t len)
{
    if (len == 1 && (v[0] == '*' || v[0] == '-'))
        return 1;
    size_t i = 0;
    while (i < len && isalpha((unsigned char)v[i]))
        i++;
    if (i < 2 || i > 3)
        return 0;
    if (i == len)
        return 1;
    if (v[i] != '-')
        return 0;
    size_t r = len - i - 1;
    const char *t = v + i + 1;
    if (r == 2)
        return isalpha((unsigned char)t[0]) && isalpha((unsigned char)t[1]);
    return r == 3 && isdigit((unsigned char)t[0]) && isdigit((unsigned char)t[1]) &&
           isdigit((unsigned char)t[2]);
}

int cpe23_check(const char *s, char *err, size_t errlen)
{
    if (strncmp(s, "cpe:2.3:", 8) != 0)
        return fail(err, errlen, "cpe: must start with \"cpe:2.3:\"%s (offset %zu)", "", 0);
    const char *p = s + 8;
    for (int comp = 0; comp < 11; comp++) {
        const char *e = p;
        while (*e && *e != ':') {
            if (*e == '\\' && e[1])
                e++;
            e++;
        }
        size_t len = (size_t)(e - p), off = (size_t)(p - s);
        int ok = comp == 0   ? len == 1 && strchr("aho*-", *p)
                 : comp == 6 ? cpe_lang_ok(p, len)
                             : cpe_value_ok(p, len);
        if (!ok)
            return fail(err, errlen, "cpe: invalid %s component at offset %zu", cpe_names[comp],
                        off);
        if (comp < 10 && *e != ':')
            return fail(err, errlen,
                        "cpe: 13 colon-separated components expected, %s is the last "
                        "(offset %zu)",
                        cpe_names[comp], (size_t)(e - s));
        if (comp == 10 && *e)
            return fail(err, errlen, "cpe: text after the %s component at offset %zu",
                        cpe_names[comp], (size_t)(e - s));
        p = e + 1;
    }
    return 0;
}

/* Copies component idx of a valid CPE 2.3 string. */
static void cpe_component(const char *s, int idx, char *out, size_t outlen)
{
    const char *p = s + 8;
    for (int comp = 0; comp < idx; comp++) {
        while (*p && *p != ':')
            p += *p == '\\' && p[1] ? 2 : 1;
        if (*p)
            p++;
    }
    const char *e = p;
    while (*e && *e != ':')
        e += *e == '\\' && e[1] ? 2 : 1;
    snprintf(out, outlen, "%.*s", (int)(e - p), p);
}

void cpe23_vendor_product(const char *s, char *vendor, size_t vlen, char *product, size_t plen)
{
    cpe_component(s, 1, vendor, vlen);
    cpe_component(s, 2, product, plen);
}

/* ------------------------------------------------------------------------------------------ */

static int digits(const char *s, size_t min)
{
    size_t n = 0;
    while (isdigit((unsigned char)s[n]))
        n++;
    return n >= min && s[n] == '\0' ? (int)n : 0;
}

int cve_id_check(const char *s, char *err, size_t errlen)
{
    if (strncmp(s, "CVE-", 4) == 0 && isdigit((unsigned char)s[4]) &&
        isdigit((unsigned char)s[5]) && isdigit((unsigned char)s[6]) &&
        isdigit((unsigned char)s[7]) && s[8] == '-' && digits(s + 9, 4) &&
        (strlen(s + 9) == 4 || s[9] != '0')) /* the CVE format: no leading 0 past 4 digits */
        return 0;
    return fail(err, errlen,
                "cve: \"%s\" is not CVE-YYYY-NNNN (4 digits, or more without a leading 0)%.0zu", s,
                0);
}

int cwe_id_check(const char *s, char *err, size_t errlen)
{
    if (strncmp(s, "CWE-", 4) == 0 && digits(s + 4, 1) && s[4] != '0')
        return 0;
    return fail(err, errlen, "cwe: \"%s\" is not CWE-N%.0zu", s, 0);
}
