/*
 * osv.c - an OSV record (https://ossf.github.io/osv-schema/) for one affected package of a case.
 *
 * One record per product that has a package URL of an ecosystem OSV knows: its id is the case's
 * under the "x_" prefix OSV reserves for databases without a registered one ("x_accord-CASE-..."),
 * the CVE is its alias, the affected range is one ECOSYSTEM range whose events come from the
 * product's bounds (">=" gives introduced, else "0"; the fixed version gives fixed, a "<=" bound
 * last_affected), severity carries the CVSS vectors as they are.
 *
 * It does not: write SEMVER or GIT ranges (accord does not know an ecosystem's version order), or
 * records for products without a purl (OSV names packages, not CPEs).
 */
#include "case_ident.h"
#include "case_int.h"

#include <stdio.h>
#include <string.h>


int case_bound(const char *affected, const char *op, char *out, size_t outlen)
{
    size_t n = strlen(op);
    for (const char *p = affected; p && *p;) {
        while (*p == ' ' || *p == ',' || *p == '|')
            p++;
        const char *e = p + strcspn(p, ",|");
        if (strncmp(p, op, n) == 0 && e > p + n) {
            snprintf(out, outlen, "%.*s", (int)(e - p - n), p + n);
            return 0;
        }
        p = e;
    }
    return -1;
}

int osv_render(const case_data *d, const case_product *p, buf *b)
{
    purl pu;
    const char *status = case_product_status(d, p);
    int g_aff = strcmp(status, "affected") == 0 || strcmp(status, "fixed") == 0;
    if (!g_aff || !p->purl || purl_parse(p->purl, &pu, NULL, 0) || !purl_osv_ecosystem(pu.type))
        return -1;
    char name[600], intro[128] = "0", last[128] = "", t[40];
    purl_osv_name(&pu, name, sizeof(name));
    if (p->affected) {
        case_bound(p->affected, ">=", intro, sizeof(intro));
        case_bound(p->affected, "<=", last, sizeof(last));
    }
    buf_adds(b, "{\"schema_version\":\"1.6.0\",");
    char id[300];
    snprintf(id, sizeof(id), "x_accord-%s", d->id);
    case_json_kv(b, "id", id);
    case_time(d->now, t, sizeof(t));
    buf_adds(b, ",");
    case_json_kv(b, "modified", t);
    case_time(d->published ? d->published : d->now, t, sizeof(t));
    buf_adds(b, ",");
    case_json_kv(b, "published", t);
    if (d->cve) {
        buf_adds(b, ",\"aliases\":[");
        buf_json_str(b, d->cve);
        buf_adds(b, "]");
    }
    buf_adds(b, ",");
    case_json_kv(b, "summary", d->title);
    buf_adds(b, ",");
    case_json_kv(b, "details", d->summary && *d->summary ? d->summary : d->title);
    if (d->cvss3 || d->cvss4) {
        buf_adds(b, ",\"severity\":[");
        if (d->cvss3) {
            buf_adds(b, "{\"type\":\"CVSS_V3\",");
            case_json_kv(b, "score", d->cvss3);
            buf_adds(b, "}");
        }
        if (d->cvss4) {
            buf_adds(b, d->cvss3 ? ",{\"type\":\"CVSS_V4\"," : "{\"type\":\"CVSS_V4\",");
            case_json_kv(b, "score", d->cvss4);
            buf_adds(b, "}");
        }
        buf_adds(b, "]");
    }
    buf_adds(b, ",\"affected\":[{\"package\":{");
    case_json_kv(b, "ecosystem", purl_osv_ecosystem(pu.type));
    buf_adds(b, ",");
    case_json_kv(b, "name", name);
    buf_adds(b, ",");
    case_json_kv(b, "purl", pu.base);
    buf_adds(b, "},\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{");
    case_json_kv(b, "introduced", intro);
    buf_adds(b, "}");
    if (p->fixed) {
        buf_adds(b, ",{");
        case_json_kv(b, "fixed", p->fixed);
        buf_adds(b, "}");
    } else if (last[0]) {
        buf_adds(b, ",{");
        case_json_kv(b, "last_affected", last);
        buf_adds(b, "}");
    }
    buf_adds(b, "]}]");
    if (p->statement || d->cwe) {
        buf_adds(b, ",\"database_specific\":{");
        if (d->cwe) {
            buf_adds(b, "\"cwe_ids\":[");
            buf_json_str(b, d->cwe);
            buf_adds(b, "]");
        }
        if (p->statement) {
            buf_adds(b, d->cwe ? "," : "");
            case_json_kv(b, "vendor_statement", p->statement);
        }
        buf_adds(b, "}");
    }
    buf_adds(b, "}]");
    if (d->nrefs) {
        buf_adds(b, ",\"references\":[");
        for (size_t i = 0; i < d->nrefs; i++) {
            buf_adds(b, i ? ",{\"type\":\"ADVISORY\"," : "{\"type\":\"ADVISORY\",");
            case_json_kv(b, "url", d->refs[i]);
            buf_adds(b, "}");
        }
        buf_adds(b, "]");
    }
    if (d->reporter) {
        buf_adds(b, ",\"credits\":[{");
        case_json_kv(b, "name", d->reporter);
        buf_adds(b, ",\"type\":\"FINDER\"}]");
    }
    buf_adds(b, "}");
    return b->failed ? -1 : 0;
}
