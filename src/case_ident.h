/*
 * case_ident.h - identifiers of vulnerable things and of vulnerabilities: package URLs, CPE 2.3
 * formatted strings, CVE and CWE ids.  All of them come from outside (reporters, vendors, imported
 * advisories), so each check names what is wrong and where.
 */
#ifndef ACCORD_CASE_IDENT_H
#define ACCORD_CASE_IDENT_H

#include <stddef.h>

#define PURL_MAX 1024

/* A parsed package URL; the strings are decoded and NUL-terminated. */
typedef struct purl {
    char type[32]; /* lower-cased */
    char ns[256];  /* namespace, "" when none (segments joined by '/') */
    char name[256];
    char version[128];   /* "" when none */
    char base[PURL_MAX]; /* canonical "pkg:type/namespace/name" without version, qualifiers,
                            subpath: what vendor profiles register and cases compare */
} purl;

/*
 * Parses a package URL (https://github.com/package-url/purl-spec):
 * pkg:type/namespace/name@version?qualifiers#subpath.  0, or -1 with err naming the component and
 * the byte offset.
 */
int purl_parse(const char *s, purl *out, char *err, size_t errlen);

/* 1 when prefix (a canonical base, maybe of a namespace only: "pkg:npm/%40acme") covers base:
 * equal, or a prefix ending at a '/' boundary. */
int purl_covers(const char *prefix, const char *base);

/* The OSV ecosystem of a purl type ("npm" -> "npm", "pypi" -> "PyPI", ...), NULL when OSV has none
 * accord maps; and the OSV package name (namespace and name joined as the ecosystem spells it). */
const char *purl_osv_ecosystem(const char *type);
void purl_osv_name(const purl *p, char *out, size_t outlen);

/*
 * Checks a CPE 2.3 formatted string (NISTIR 7695 section 6.2): "cpe:2.3:" part and ten more
 * components of quoted or wildcard values.  0, or -1 with err naming the component.
 */
int cpe23_check(const char *s, char *err, size_t errlen);
/* The vendor and product components of a valid CPE 2.3 string (still quoted). */
void cpe23_vendor_product(const char *s, char *vendor, size_t vlen, char *product, size_t plen);

/* 0 when s is "CVE-YYYY-NNNN..." (4 digits, or more without a leading 0), else -1 with err. */
int cve_id_check(const char *s, char *err, size_t errlen);
/* 0 when s is "CWE-N", else -1 with err. */
int cwe_id_check(const char *s, char *err, size_t errlen);

#endif
