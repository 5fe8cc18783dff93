/*
 * csaf.c - a case as a CSAF 2.0 csaf_security_advisory (OASIS CSAF 2.0, sections 3 and 4.5).
 *
 * The product tree has one vendor branch per vendor; a product with an affected version range
 * and a fixed version becomes a product_name branch with a product_version_range leaf (the
 * affected versions, in vers syntax when it has a purl) and a product_version leaf (the fixed
 * one); other products are product_name leaves; a vendor that answered for itself only (no
 * products) is one "vendor products" leaf.  Product ids are "CSAFPID-<n>" (product numbers of the
 * case), "-fixed" for fixed versions, "CSAFPID-V<n>" for vendor leaves: stable across revisions.
 *
 * The rules of the mandatory tests (section 6.1) hold by construction: every referenced product
 * id is defined once (6.1.1, 6.1.2); a product is in one status group (6.1.6); one score per CVSS
 * version and product, with the base score accord computed from the vector (6.1.7, 6.1.9, 6.1.10);
 * the CWE name is the CWE list's (6.1.11; an id accord has no name for is left out of the cwe
 * field and named in a note); revision numbers are 1..N, dated in order, the last equal to the
 * version (6.1.14, 6.1.16, 6.1.21); remediations name their products (6.1.29).  TLP:CLEAR is
 * written as CSAF 2.0's WHITE (the TLP 1.0 label the 2.0 schema allows).
 *
 * It does not: write csaf_vex (the vendors' statements are not VEX justifications), CVSS v4.0
 * scores (CSAF 2.0 has no cvss_v4; the vector goes into a note), or sign documents.
 */
#include "case_ident.h"
#include "case_int.h"
#include "cvss.h"
#include "store.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *id, *name;
} cwe_names[] = {
    {"CWE-20", "Improper Input Validation"},
    {"CWE-22", "Improper Limitation of a Pathname to a Restricted Directory ('Path Traversal')"},
    {"CWE-77",
     "Improper Neutralization of Special Elements used in a Command ('Command Injection')"},
    {"CWE-78",
     "Improper Neutralization of Special Elements used in an OS Command ('OS Command Injection')"},
    {"CWE-79",
     "Improper Neutralization of Input During Web Page Generation ('Cross-site Scripting')"},
    {"CWE-89",
     "Improper Neutralization of Special Elements used in an SQL Command ('SQL Injection')"},
    {"CWE-94", "Improper Control of Generation of Code ('Code Injection')"},
    {"CWE-119", "Improper Restriction of Operations within the Bounds of a Memory Buffer"},
    {"CWE-120", "Buffer Copy without Checking Size of Input ('Classic Buffer Overflow')"},
    {"CWE-121", "Stack-based Buffer Overflow"},
    {"CWE-122", "Heap-based Buffer Overflow"},
    {"CWE-125", "Out-of-bounds Read"},
    {"CWE-190", "Integer Overflow or Wraparound"},
    {"CWE-200", "Exposure of Sensitive Information to an Unauthorized Actor"},
    {"CWE-269", "Improper Privilege Management"},
    {"CWE-284", "Improper Access Control"},
    {"CWE-287", "Improper Authentication"},
    {"CWE-295", "Improper Certificate Validation"},
    {"CWE-306", "Missing Authentication for Critical Function"},
    {"CWE-327", "Use of a Broken or Risky Cryptographic Algorithm"},
    {"CWE-330", "Use of Insufficiently Random Values"},
    {"CWE-352", "Cross-Site Request Forgery (CSRF)"},
    {"CWE-362",
     "Concurrent Execution using Shared Resource with Improper Synchronization ('Race Condition')"},
    {"CWE-400", "Uncontrolled Resource Consumption"},
    {"CWE-401", "Missing Release of Memory after Effective Lifetime"},
    {"CWE-415", "Double Free"},
    {"CWE-416", "Use After Free"},
    {"CWE-426", "Untrusted Search Path"},
    {"CWE-427", "Uncontrolled Search Path Element"},
    {"CWE-434", "Unrestricted Upload of File with Dangerous Type"},
    {"CWE-476", "NULL Pointer Dereference"},
    {"CWE-502", "Deserialization of Untrusted Data"},
    {"CWE-532", "Insertion of Sensitive Information into Log File"},
    {"CWE-601", "URL Redirection to Untrusted Site ('Open Redirect')"},
    {"CWE-611", "Improper Restriction of XML External Entity Reference"},
    {"CWE-617", "Reachable Assertion"},
    {"CWE-639", "Authorization Bypass Through User-Controlled Key"},
    {"CWE-674", "Uncontrolled Recursion"},
    {"CWE-755", "Improper Handling of Exceptional Conditions"},
    {"CWE-770", "Allocation of Resources Without Limits or Throttling"},
    {"CWE-776",
     "Improper Restriction of Recursive Entity References in DTDs ('XML Entity Expansion')"},
    {"CWE-787", "Out-of-bounds Write"},
    {"CWE-798", "Use of Hard-coded Credentials"},
    {"CWE-835", "Loop with Unreachable Exit Condition ('Infinite Loop')"},
    {"CWE-843", "Access of Resource Using Incompatible Type ('Type Confusion')"},
    {"CWE-862", "Missing Authorization"},
    {"CWE-863", "Incorrect Authorization"},
    {"CWE-908", "Use of Uninitialized Resource"},
    {"CWE-915", "Improperly Controlled Modification of Dynamically-Determined Object Attributes"},
    {"CWE-918", "Server-Side Request Forgery (SSRF)"},
    {"CWE-1321",
     "Improperly Controlled Modification of Object Prototype Attributes ('Prototype Pollution')"},
    {"CWE-1333", "Inefficient Regular Expression Complexity"},
};

const char *case_cwe_name(const char *id)
{
    for (size_t i = 0; id && i < sizeof(cwe_names) / sizeof(cwe_names[0]); i++)
        if (strcmp(cwe_names[i].id, id) == 0)
            return cwe_names[i].name;
    return NULL;
}


void case_csaf_filename(const char *tracking_id, char *out, size_t outlen)
{
    size_t n = 0;
    for (const char *c = tracking_id; *c && n + 6 < outlen; c++) {
        char l = (char)tolower((unsigned char)*c);
        out[n++] = (l >= 'a' && l <= 'z') || (l >= '0' && l <= '9') || l == '+' || l == '-' ? l
                                                                                          : '_';
    }
    snprintf(out + n, outlen - n, ".json");
}

void case_csaf_url(const case_data *d, char *out, size_t outlen)
{
    char name[128], year[8];
    case_csaf_filename(d->id, name, sizeof(name));
    case_time(d->nrevs ? d->revs[0].date : d->now, year, sizeof(year));
    size_t nl = strlen(d->publisher_namespace);
    while (nl && d->publisher_namespace[nl - 1] == '/')
        nl--;
    snprintf(out, outlen, "%.*s/.well-known/csaf/white/%.4s/%s", (int)nl, d->publisher_namespace,
             year, name);
}

static void ts(buf *b, const char *key, int64_t us)
{
    char t[40];
    case_time(us, t, sizeof(t));
    case_json_kv(b, key, t);
}

/* The affected range in vers syntax ("vers:npm/>=1.0.0|<2.1.0") when p has a purl. */
static void range_name(const case_product *p, char *out, size_t outlen)
{
    purl pu;
    if (p->purl && purl_parse(p->purl, &pu, NULL, 0) == 0) {
        size_t n = (size_t)snprintf(out, outlen, "vers:%s/", pu.type);
        for (const char *c = p->affected; *c && n + 1 < outlen; c++)
            if (*c != ' ')
                out[n++] = *c == ',' ? '|' : *c;
        out[n < outlen ? n : outlen - 1] = '\0';
    } else {
        snprintf(out, outlen, "%s", p->affected);
    }
}

static void product_leaf(buf *b, const case_product *p, const char *suffix, const char *version)
{
    char name[600];
    snprintf(name, sizeof(name), "%s %s%s%s", p->vendor, p->name, version ? " " : "",
             version ? version : "");
    buf_adds(b, "\"product\":{");
    case_json_kv(b, "name", name);
    buf_printf(b, ",\"product_id\":\"CSAFPID-%lld%s\"", (long long)p->pid, suffix);
    if (p->purl || p->cpe) {
        buf_adds(b, ",\"product_identification_helper\":{");
        if (p->cpe)
            case_json_kv(b, "cpe", p->cpe);
        if (p->purl) {
            char pu[1200];
            snprintf(pu, sizeof(pu), "%s%s%s", p->purl, version ? "@" : "", version ? version : "");
            buf_adds(b, p->cpe ? "," : "");
            case_json_kv(b, "purl", pu);
        }
        buf_adds(b, "}");
    }
    buf_adds(b, "}");
}

static int has_products(const case_data *d, const char *vendor)
{
    for (size_t i = 0; i < d->np; i++)
        if (strcmp(d->p[i].vendor, vendor) == 0)
            return 1;
    return 0;
}

static void product_tree(const case_data *d, buf *b)
{
    buf_adds(b, "\"product_tree\":{\"branches\":[");
    for (size_t i = 0; i < d->nv; i++) {
        const case_vendor *v = &d->v[i];
        buf_adds(b, i ? ",{\"category\":\"vendor\"," : "{\"category\":\"vendor\",");
        case_json_kv(b, "name", v->name);
        if (!has_products(d, v->name)) {
            buf_adds(b, ",\"product\":{");
            char name[300];
            snprintf(name, sizeof(name), "%s products", v->name);
            case_json_kv(b, "name", name);
            buf_printf(b, ",\"product_id\":\"CSAFPID-V%lld\"}}", (long long)v->vid);
            continue;
        }
        buf_adds(b, ",\"branches\":[");
        int n = 0;
        for (size_t k = 0; k < d->np; k++) {
            const case_product *p = &d->p[k];
            if (strcmp(p->vendor, v->name) != 0)
                continue;
            buf_adds(b,
                     n++ ? ",{\"category\":\"product_name\"," : "{\"category\":\"product_name\",");
            case_json_kv(b, "name", p->name);
            buf_adds(b, ",");
            if (!p->affected && !p->fixed) {
                product_leaf(b, p, "", NULL);
                buf_adds(b, "}");
                continue;
            }
            buf_adds(b, "\"branches\":[");
            if (p->affected) {
                char range[600];
                range_name(p, range, sizeof(range));
                buf_adds(b, "{\"category\":\"product_version_range\",");
                case_json_kv(b, "name", range);
                buf_adds(b, ",");
                product_leaf(b, p, "", NULL);
                buf_adds(b, "}");
            }
            if (p->fixed) {
                buf_adds(b, p->affected ? ",{\"category\":\"product_version\","
                                        : "{\"category\":\"product_version\",");
                case_json_kv(b, "name", p->fixed);
                buf_adds(b, ",");
                product_leaf(b, p, p->affected ? "-fixed" : "", p->fixed);
                buf_adds(b, "}");
            }
            buf_adds(b, "]}");
        }
        buf_adds(b, "]}");
    }
    buf_adds(b, "]}");
}

/* Status groups: the ids of every product (and vendor leaf) in each CSAF status. */
enum { G_AFFECTED, G_NOT_AFFECTED, G_FIXED, G_INVESTIGATION, G_COUNT };
static const char *const group_names[] = {"known_affected", "known_not_affected", "fixed",
                                          "under_investigation"};

static int group_of(const char *status)
{
    if (strcmp(status, "affected") == 0)
        return G_AFFECTED;
    if (strcmp(status, "not_affected") == 0)
        return G_NOT_AFFECTED;
    if (strcmp(status, "fixed") == 0)
        return G_FIXED;
    if (strcmp(status, "under_investigation") == 0)
        return G_INVESTIGATION;
    return -1;
}

/* Calls emit for each (group, product id) pair; returns how many. */
static int walk_status(const case_data *d, int want, buf *b, int *n)
{
    char id[64];
    for (size_t i = 0; i < d->nv; i++) {
        const case_vendor *v = &d->v[i];
        if (has_products(d, v->name) || group_of(v->status) != want)
            continue;
        snprintf(id, sizeof(id), "CSAFPID-V%lld", (long long)v->vid);
        buf_printf(b, "%s\"%s\"", (*n)++ ? "," : "", id);
    }
    for (size_t i = 0; i < d->np; i++) {
        const case_product *p = &d->p[i];
        int g = group_of(case_product_status(d, p));
        /* a fixed product with a range: the range is affected, the fixed version fixed */
        int split = g == G_FIXED && p->affected && p->fixed;
        int aff_split = g == G_AFFECTED && p->affected && p->fixed;
        if (split || aff_split) {
            if (want == G_AFFECTED)
                buf_printf(b, "%s\"CSAFPID-%lld\"", (*n)++ ? "," : "", (long long)p->pid);
            if (want == G_FIXED)
                buf_printf(b, "%s\"CSAFPID-%lld-fixed\"", (*n)++ ? "," : "", (long long)p->pid);
            continue;
        }
        if (g == want)
            buf_printf(b, "%s\"CSAFPID-%lld\"", (*n)++ ? "," : "", (long long)p->pid);
    }
    return *n;
}

static void vendor_note(const case_data *d, buf *b)
{
    buf out;
    buf_init(&out, 1u << 24);
    for (size_t i = 0; i < d->nv; i++) {
        const case_vendor *v = &d->v[i];
        buf_printf(&out, "%s%s: %s", i ? "\n" : "", v->name, case_vendor_shown_status(d, v));
        if (v->statement)
            buf_printf(&out, " - %s", v->statement);
        for (size_t k = 0; k < d->np; k++)
            if (strcmp(d->p[k].vendor, v->name) == 0)
                buf_printf(&out, "\n  %s: %s%s%s", d->p[k].name, d->p[k].status,
                           d->p[k].statement ? " - " : "",
                           d->p[k].statement ? d->p[k].statement : "");
    }
    buf_adds(b, ",{\"category\":\"other\",\"title\":\"Vendor status\",");
    case_json_kv(b, "text", out.p ? out.p : "");
    buf_adds(b, "}");
    buf_free(&out);
}

static void vulnerability(const case_data *d, buf *b)
{
    buf_adds(b, "\"vulnerabilities\":[{");
    if (d->cve) {
        case_json_kv(b, "cve", d->cve);
        buf_adds(b, ",");
    }
    const char *cwe = case_cwe_name(d->cwe);
    if (cwe) {
        buf_adds(b, "\"cwe\":{");
        case_json_kv(b, "id", d->cwe);
        buf_adds(b, ",");
        case_json_kv(b, "name", cwe);
        buf_adds(b, "},");
    }
    buf_adds(b, "\"ids\":[{\"system_name\":\"accord case\",");
    case_json_kv(b, "text", d->id);
    buf_adds(b, "}],");
    case_json_kv(b, "title", d->title);
    buf_adds(b, ",\"notes\":[{\"category\":\"description\",\"title\":\"Description\",");
    case_json_kv(b, "text", d->summary && *d->summary ? d->summary : d->title);
    buf_adds(b, "}");
    vendor_note(d, b);
    if (d->cvss4) {
        buf_adds(b, ",{\"category\":\"other\",\"title\":\"CVSS v4.0\",");
        cvss_score sc;
        char t[300];
        if (cvss_parse(d->cvss4, &sc, NULL, 0) == 0)
            snprintf(t, sizeof(t), "%s (base score %.1f, %s)", d->cvss4, sc.base, sc.severity);
        else
            snprintf(t, sizeof(t), "%s", d->cvss4);
        case_json_kv(b, "text", t);
        buf_adds(b, "}");
    }
    if (d->cwe && !cwe) {
        buf_adds(b, ",{\"category\":\"other\",\"title\":\"CWE\",");
        case_json_kv(b, "text", d->cwe);
        buf_adds(b, "}");
    }
    if (d->x_notes) {
        buf_adds(b, ",");
        buf_adds(b, d->x_notes);
    }
    buf_adds(b, "],\"product_status\":{");
    int groups = 0;
    for (int g = 0; g < G_COUNT; g++) {
        buf probe;
        int n = 0;
        buf_init(&probe, 1u << 24);
        if (walk_status(d, g, &probe, &n)) {
            buf_printf(b, "%s\"%s\":[%s]", groups++ ? "," : "", group_names[g], probe.p);
        }
        buf_free(&probe);
    }
    buf_adds(b, "}");
    /* scores and remediations concern the affected products */
    buf aff;
    int naff = 0;
    buf_init(&aff, 1u << 24);
    walk_status(d, G_AFFECTED, &aff, &naff);
    cvss_score sc;
    if (naff && d->cvss3 && cvss_parse(d->cvss3, &sc, NULL, 0) == 0) {
        buf_adds(b, ",\"scores\":[{\"cvss_v3\":{");
        buf_printf(b, "\"version\":\"%s\",", sc.version == CVSS_V30 ? "3.0" : "3.1");
        case_json_kv(b, "vectorString", d->cvss3);
        buf_printf(b, ",\"baseScore\":%.1f,\"baseSeverity\":\"%s\"},\"products\":[%s]}]", sc.base,
                   sc.severity, aff.p);
    }
    int nrem = 0;
    for (size_t i = 0; i < d->np; i++) {
        const case_product *p = &d->p[i];
        int g = group_of(case_product_status(d, p));
        if (!p->fixed || (g != G_AFFECTED && g != G_FIXED))
            continue;
        buf_adds(b, nrem++ ? "," : ",\"remediations\":[");
        buf_adds(b, "{\"category\":\"vendor_fix\",");
        char details[800];
        snprintf(details, sizeof(details), "Update %s %s to version %s or later.", p->vendor,
                 p->name, p->fixed);
        case_json_kv(b, "details", details);
        buf_printf(b, ",\"product_ids\":[\"CSAFPID-%lld\"]}", (long long)p->pid);
    }
    if (d->x_remediations) {
        buf_adds(b, nrem++ ? "," : ",\"remediations\":[");
        buf_adds(b, d->x_remediations);
    }
    if (nrem)
        buf_adds(b, "]");
    buf_free(&aff);
    int nthr = 0;
    for (size_t i = 0; i < d->np; i++) {
        const case_product *p = &d->p[i];
        if (group_of(case_product_status(d, p)) != G_NOT_AFFECTED || !p->statement)
            continue;
        buf_adds(b, nthr++ ? "," : ",\"threats\":[");
        buf_adds(b, "{\"category\":\"impact\",");
        case_json_kv(b, "details", p->statement);
        buf_printf(b, ",\"product_ids\":[\"CSAFPID-%lld\"]}", (long long)p->pid);
    }
    for (size_t i = 0; i < d->nv; i++) {
        const case_vendor *v = &d->v[i];
        if (has_products(d, v->name) || group_of(v->status) != G_NOT_AFFECTED || !v->statement)
            continue;
        buf_adds(b, nthr++ ? "," : ",\"threats\":[");
        buf_adds(b, "{\"category\":\"impact\",");
        case_json_kv(b, "details", v->statement);
        buf_printf(b, ",\"product_ids\":[\"CSAFPID-V%lld\"]}", (long long)v->vid);
    }
    if (d->x_threats) {
        buf_adds(b, nthr++ ? "," : ",\"threats\":[");
        buf_adds(b, d->x_threats);
    }
    if (nthr)
        buf_adds(b, "]");
    buf_adds(b, "}]");
}

static void document(const case_data *d, buf *b)
{
    buf_adds(b, "\"document\":{\"category\":\"csaf_security_advisory\",\"csaf_version\":\"2.0\",");
    buf_adds(b, "\"distribution\":{\"tlp\":{\"label\":\"WHITE\"}},\"lang\":\"en\",");
    buf_adds(b, "\"notes\":[{\"category\":\"summary\",\"title\":\"Summary\",");
    case_json_kv(b, "text", d->summary && *d->summary ? d->summary : d->title);
    buf_adds(b, "}],\"publisher\":{\"category\":\"coordinator\",");
    case_json_kv(b, "name", d->publisher_name);
    buf_adds(b, ",");
    case_json_kv(b, "namespace", d->publisher_namespace);
    buf_adds(b, "}");
    if (d->nrefs) {
        buf_adds(b, ",\"references\":[");
        for (size_t i = 0; i < d->nrefs; i++) {
            buf_adds(b, i ? ",{\"category\":\"external\"," : "{\"category\":\"external\",");
            case_json_kv(b, "summary", d->refs[i]);
            buf_adds(b, ",");
            case_json_kv(b, "url", d->refs[i]);
            buf_adds(b, "}");
        }
        buf_adds(b, "]");
    }
    if (d->reporter) {
        buf_adds(b, ",\"acknowledgments\":[{\"names\":[");
        buf_json_str(b, d->reporter);
        buf_adds(b, "],\"summary\":\"reporting the vulnerability\"}]");
    }
    buf_adds(b, ",");
    case_json_kv(b, "title", d->title);
    buf_adds(b, ",\"tracking\":{");
    ts(b, "current_release_date", d->revs[d->nrevs - 1].date);
    buf_adds(b,
             ",\"generator\":{\"engine\":{\"name\":\"accord\",\"version\":\"" ACCORD_VERSION_STRING
             "\"}},");
    case_json_kv(b, "id", d->id);
    buf_adds(b, ",");
    ts(b, "initial_release_date", d->revs[0].date);
    buf_adds(b, ",\"revision_history\":[");
    for (size_t i = 0; i < d->nrevs; i++) {
        buf_adds(b, i ? ",{" : "{");
        ts(b, "date", d->revs[i].date);
        buf_printf(b, ",\"number\":\"%d\",\"summary\":\"%s\"}", d->revs[i].number,
                   i ? "Updated vendor status and remediations." : "Initial public release.");
    }
    buf_printf(b, "],\"status\":\"final\",\"version\":\"%d\"}}", d->revs[d->nrevs - 1].number);
}

int csaf_render(const case_data *d, buf *out, accord_error *err)
{
    if (!d->nrevs)
        return accord_err_set(err, ACCORD_EINVAL, "csaf: %s has no revision to publish", d->id);
    if (!d->nv)
        return accord_err_set(err, ACCORD_EINVAL,
                              "csaf: %s has no vendor; an advisory needs a product tree", d->id);
    int known = 0;
    for (int g = 0; g < G_COUNT; g++) {
        buf probe;
        buf_init(&probe, 1u << 24);
        walk_status(d, g, &probe, &known);
        buf_free(&probe);
    }
    if (!known)
        return accord_err_set(err, ACCORD_EINVAL,
                              "csaf: %s: no vendor or product has a known status yet; an "
                              "advisory needs at least one (CSAF test 6.1.27.6)",
                              d->id);
    buf_adds(out, "{");
    document(d, out);
    buf_adds(out, ",");
    product_tree(d, out);
    buf_adds(out, ",");
    vulnerability(d, out);
    buf_adds(out, "}");
    return out->failed ? accord_err_set(err, ACCORD_ENOMEM, "csaf: out of memory") : 0;
}
