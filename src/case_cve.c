/*
 * case_cve.c - a case as a CVE JSON 5 record (CVE Record Format 5.1, state PUBLISHED) with its
 * CNA container, for the CNA that assigned the case's CVE id to submit through CVE Services.
 *
 * The container carries: the title and summary (descriptions), one "affected" entry per product
 * (vendor and product name; the package name and its collection when the product has a package
 * URL of a known registry; the CPE; the versions from the product's bounds and fixed version, or
 * only a default status), the CWE (problemTypes), the CVSS v3.1 / v4.0 vectors with the scores
 * accord computes from them, the references, and the reporter as finder.  A product whose status
 * is affected or fixed becomes a version range: ">=X" (else "0") up to its fixed version, or up
 * to and including a "<=" bound; not_affected becomes defaultStatus "unaffected"; anything else
 * "unknown".  CVE requires at least one reference: without any, the record points at the CSAF
 * advisory's place in the provider directory (case_csaf_url).
 *
 * The orgId is the CNA's UUID in the CVE Program (accord_case_cna_set).  A node that has not set
 * it gets a stable UUID derived from its publisher namespace, which the CVE Services would refuse:
 * it keeps the record well-formed for review before the real one is configured.
 *
 * It does not: write ADP containers, timelines, or records for cases without a CVE id.
 */
#include "case_ident.h"
#include "case_int.h"
#include "cvss.h"
#include "sign.h"
#include "store.h"

#include <stdio.h>
#include <string.h>

/* The registry a purl type names, as CVE's collectionURL (its examples); NULL when unknown. */
static const char *collection_url(const char *type)
{
    static const struct {
        const char *type, *url;
    } map[] = {{"npm", "https://www.npmjs.com"},
               {"pypi", "https://pypi.python.org"},
               {"maven", "https://repo.maven.apache.org/maven2"},
               {"cargo", "https://crates.io"},
               {"gem", "https://rubygems.org"},
               {"nuget", "https://nuget.org/packages"},
               {"composer", "https://packagist.org"},
               {"golang", "https://pkg.go.dev"},
               {"hex", "https://hex.pm"},
               {"pub", "https://pub.dev/packages"}};
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(type, map[i].type) == 0)
            return map[i].url;
    return NULL;
}

/* A version 4 shaped UUID derived from text (SHA-256, version and variant bits set). */
static void derived_uuid(const char *text, char out[37])
{
    uint8_t h[SIGN_SHA256_LEN];
    sign_sha256(text, strlen(text), h);
    h[6] = (uint8_t)((h[6] & 0x0f) | 0x40);
    h[8] = (uint8_t)((h[8] & 0x3f) | 0x80);
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[n++] = '-';
        out[n++] = hex[h[i] >> 4];
        out[n++] = hex[h[i] & 15];
    }
    out[n] = '\0';
}

static void versions(const case_product *p, const char *status, buf *b)
{
    int aff = strcmp(status, "affected") == 0 || strcmp(status, "fixed") == 0;
    char intro[128] = "0", last[128] = "", below[128] = "";
    if (p->affected) {
        case_bound(p->affected, ">=", intro, sizeof(intro));
        case_bound(p->affected, "<=", last, sizeof(last));
        if (case_bound(p->affected, "<", below, sizeof(below)) == 0 && below[0] == '=')
            below[0] = '\0'; /* that was the "<=" bound */
    }
    if (!aff || (!p->fixed && !p->affected)) {
        /* no range to state: the product as a whole */
        buf_adds(b, ",\"defaultStatus\":");
        buf_json_str(b, aff                                   ? "affected"
                        : strcmp(status, "not_affected") == 0 ? "unaffected"
                                                              : "unknown");
        return;
    }
    buf_adds(b, ",\"versions\":[{");
    case_json_kv(b, "version", intro);
    buf_adds(b, ",\"status\":\"affected\",\"versionType\":\"custom\",");
    if (p->fixed || below[0])
        case_json_kv(b, "lessThan", p->fixed ? p->fixed : below);
    else
        case_json_kv(b, "lessThanOrEqual", last[0] ? last : "*");
    buf_adds(b, "}");
    if (p->fixed) {
        buf_adds(b, ",{");
        case_json_kv(b, "version", p->fixed);
        buf_adds(b, ",\"status\":\"unaffected\",\"versionType\":\"custom\"}");
    }
    buf_adds(b, "],\"defaultStatus\":\"unknown\"");
}

static void affected(const case_data *d, buf *b)
{
    buf_adds(b, ",\"affected\":[");
    size_t n = 0;
    for (size_t i = 0; i < d->np; i++) {
        const case_product *p = &d->p[i];
        buf_adds(b, n++ ? ",{" : "{");
        case_json_kv(b, "vendor", p->vendor);
        buf_adds(b, ",");
        case_json_kv(b, "product", p->name);
        purl pu;
        const char *coll;
        if (p->purl && purl_parse(p->purl, &pu, NULL, 0) == 0 &&
            (coll = collection_url(pu.type))) {
            char name[600];
            purl_osv_name(&pu, name, sizeof(name));
            buf_adds(b, ",");
            case_json_kv(b, "collectionURL", coll);
            buf_adds(b, ",");
            case_json_kv(b, "packageName", name);
        }
        if (p->cpe) {
            buf_adds(b, ",\"cpes\":[");
            buf_json_str(b, p->cpe);
            buf_adds(b, "]");
        }
        versions(p, case_product_status(d, p), b);
        buf_adds(b, "}");
    }
    /* vendors without a product of their own stand for their whole product line */
    for (size_t i = 0; i < d->nv; i++) {
        const case_vendor *v = &d->v[i];
        int has = 0;
        for (size_t k = 0; k < d->np && !has; k++)
            has = strcmp(d->p[k].vendor, v->name) == 0;
        if (has)
            continue;
        case_product whole = {.vendor = v->name, .name = "all products"};
        buf_adds(b, n++ ? ",{" : "{");
        case_json_kv(b, "vendor", v->name);
        buf_adds(b, ",\"product\":\"all products\"");
        versions(&whole, case_vendor_shown_status(d, v), b);
        buf_adds(b, "}");
    }
    buf_adds(b, "]");
}

static void metric(buf *b, const char *vector, int *n)
{
    cvss_score sc;
    if (!vector || cvss_parse(vector, &sc, NULL, 0))
        return;
    const char *key = sc.version == CVSS_V40   ? "cvssV4_0"
                      : sc.version == CVSS_V31 ? "cvssV3_1"
                                               : "cvssV3_0";
    const char *ver = sc.version == CVSS_V40 ? "4.0" : sc.version == CVSS_V31 ? "3.1" : "3.0";
    buf_printf(b, "%s{\"%s\":{\"version\":\"%s\",", (*n)++ ? "," : "", key, ver);
    case_json_kv(b, "vectorString", vector);
    buf_printf(b, ",\"baseScore\":%.1f,\"baseSeverity\":\"%s\"}}", sc.base, sc.severity);
}

int case_cve_render(const case_data *d, buf *b, accord_error *err)
{
    if (!d->cve)
        return accord_err_set(err, ACCORD_EINVAL, "cve: %s has no CVE id", d->id);
    if (!d->np && !d->nv)
        return accord_err_set(err, ACCORD_EINVAL,
                              "cve: %s has no vendor or product; a CVE record needs one", d->id);
    char org[37], t[40], pub[40];
    if (d->cve_org[0])
        snprintf(org, sizeof(org), "%s", d->cve_org);
    else
        derived_uuid(d->publisher_namespace, org);
    case_time(d->now, t, sizeof(t));
    case_time(d->published ? d->published : d->now, pub, sizeof(pub));
    buf_adds(b, "{\"dataType\":\"CVE_RECORD\",\"dataVersion\":\"5.1\",\"cveMetadata\":{");
    case_json_kv(b, "cveId", d->cve);
    buf_adds(b, ",");
    case_json_kv(b, "assignerOrgId", org);
    if (d->cve_short[0]) {
        buf_adds(b, ",");
        case_json_kv(b, "assignerShortName", d->cve_short);
    }
    buf_adds(b, ",\"state\":\"PUBLISHED\",");
    case_json_kv(b, "datePublished", pub);
    buf_adds(b, ",");
    case_json_kv(b, "dateUpdated", t);
    buf_adds(b, "},\"containers\":{\"cna\":{\"providerMetadata\":{");
    case_json_kv(b, "orgId", org);
    if (d->cve_short[0]) {
        buf_adds(b, ",");
        case_json_kv(b, "shortName", d->cve_short);
    }
    buf_adds(b, ",");
    case_json_kv(b, "dateUpdated", t);
    buf_adds(b, "},");
    case_json_kv(b, "title", d->title);
    buf_adds(b, ",");
    case_json_kv(b, "datePublic", pub);
    buf_adds(b, ",\"descriptions\":[{\"lang\":\"en\",");
    case_json_kv(b, "value", d->summary && *d->summary ? d->summary : d->title);
    buf_adds(b, "}]");
    affected(d, b);
    if (d->cwe) {
        const char *name = case_cwe_name(d->cwe);
        char desc[300];
        snprintf(desc, sizeof(desc), "%s%s%s", d->cwe, name ? " " : "", name ? name : "");
        buf_adds(b, ",\"problemTypes\":[{\"descriptions\":[{\"lang\":\"en\",");
        case_json_kv(b, "cweId", d->cwe);
        buf_adds(b, ",");
        case_json_kv(b, "description", desc);
        buf_adds(b, ",\"type\":\"CWE\"}]}]");
    }
    int nm = 0;
    buf_adds(b, ",\"metrics\":[");
    metric(b, d->cvss4, &nm);
    metric(b, d->cvss3, &nm);
    if (!nm) /* an empty list is invalid: drop it */
        b->len -= strlen(",\"metrics\":[");
    else
        buf_adds(b, "]");
    buf_adds(b, ",\"references\":[");
    for (size_t i = 0; i < d->nrefs; i++) {
        buf_adds(b, i ? ",{" : "{");
        case_json_kv(b, "url", d->refs[i]);
        buf_adds(b, "}");
    }
    if (!d->nrefs) {
        char url[512];
        case_csaf_url(d, url, sizeof(url));
        buf_adds(b, "{");
        case_json_kv(b, "url", url);
        buf_adds(b, ",\"tags\":[\"vendor-advisory\"]}");
    }
    buf_adds(b, "]");
    if (d->reporter) {
        buf_adds(b, ",\"credits\":[{\"lang\":\"en\",");
        case_json_kv(b, "value", d->reporter);
        buf_adds(b, ",\"type\":\"finder\"}]");
    }
    buf_adds(b, "}}}");
    return b->failed ? accord_err_set(err, ACCORD_ENOMEM, "cve: out of memory") : 0;
}
