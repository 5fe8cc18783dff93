/*
 * csaf_import.c - vendors' advisories into the store: a CSAF 2.0 document or an OSV record becomes
 * STIX 2.1, so that members match their asset inventories against what vendors publish.
 *
 * Per CSAF vulnerability (per OSV record): a `vulnerability` named by its CVE id (else the
 * vulnerability's title, the OSV id or the tracking id) with the advisory's text as description;
 * external references for the CVE, each CWE, the advisory itself (publisher or "osv", tracking
 * or OSV id, its self URL) and every reference URL; the affected products in `x_accord_products`
 * ({product_id, name, vendor, version, purl, cpe, status: affected | fixed | not_affected |
 * under_investigation | recommended, fixed: the fixed versions (OSV) or vendor fix (CSAF),
 * introduced}); the CVSS vectors with accord's scores in `x_accord_cvss`; and a `note` per
 * vulnerability note (CSAF) or for the summary (OSV), referring to it.  The marking is the
 * document's TLP (WHITE and CLEAR -> CLEAR, GREEN, AMBER, RED; none: unmarked, which the store
 * reads as its default); OSV records are public (CLEAR).  created/modified are the initial and
 * current release dates (OSV: published, modified), and ids are UUIDv5 of the publisher namespace,
 * tracking id and CVE or position, so re-importing a document changes nothing and a new revision
 * is a new version of the same objects.
 *
 * Checks before anything is stored, each naming the JSON path and the rule: the members accord
 * needs (rule "schema"), CSAF mandatory tests 6.1.1 (missing definition of a product id), 6.1.2
 * (multiple definition of a product id), 6.1.4 / 6.1.5 (the same for group ids), 6.1.8 (invalid
 * CVSS vector), 6.1.9 (base score other than the vector's) and 6.1.11 (CWE id and name), then
 * every other mandatory test 6.1.x (csaf_check.c); the OSV schema's shape of affected packages,
 * ranges and events.  The STIX objects then go through the import pipeline, strictly: one
 * document is one transaction.
 *
 * It does not fetch documents from provider directories or verify their OpenPGP signatures.
 */
#include "case_ident.h"
#include "case_int.h"
#include "cvss.h"
#include "misp.h"
#include "store.h"
#include "util/json.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define TLP_CLEAR "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
#define TLP_GREEN "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
#define TLP_AMBER "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
#define TLP_RED "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"

#define DOC_MAX (64u << 20) /* the largest document and the largest STIX bundle made of it */

/* A product the product tree defines. */
typedef struct prod {
    const char *id, *name, *vendor, *version, *purl, *cpe;
} prod;

typedef struct conv {
    ajson_arena *a;
    buf *out;
    char *err;
    size_t errlen;
    prod *p;
    size_t np, cap;
    const char **groups;
    size_t ng, gcap;
    const char *marking; /* NULL = unmarked */
    char created[40], modified[40];
    const char *source, *ns, *doc_id, *self_url, *title;
    int nobj;
    buf refs; /* the report's object_refs: the ids written so far, as JSON strings */
} conv;

static int fail(conv *c, const char *path, const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(conv *c, const char *path, const char *rule, const char *fmt, ...)
{
    char m[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof(m), fmt, ap);
    va_end(ap);
    snprintf(c->err, c->errlen, "%s: %s (rule %s)", path, m, rule);
    return -1;
}

static const ajson_value *get(const ajson_value *o, const char *k)
{
    return ajson_get(o, k);
}

static const char *str(const ajson_value *o, const char *k)
{
    return ajson_str(ajson_get(o, k));
}

/* A required string member: its value, or NULL with the error set. */
static const char *need_str(conv *c, const ajson_value *o, const char *path, const char *k)
{
    const char *v = str(o, k);
    if (!v || !*v)
        fail(c, path, "schema", "%s is required (a non-empty string)", k);
    return v && *v ? v : NULL;
}

static size_t arr_len(const ajson_value *v)
{
    return v && v->type == AJSON_ARRAY ? v->len : 0;
}

/* "type" is an array when present; an error naming path when it is something else. */
static int arr_ok(conv *c, const ajson_value *v, const char *path)
{
    if (v && v->type != AJSON_ARRAY)
        return fail(c, path, "schema", "an array is expected, not a %s", ajson_type_name(v->type));
    return 0;
}

/* An RFC 3339 date of the document as a STIX timestamp. */
static int stix_date(conv *c, const char *v, const char *path, char *out, size_t outlen)
{
    int64_t us;
    if (!v || accord_instant_parse(v, &us))
        return fail(c, path, "schema", "\"%.60s\" is not an RFC 3339 date-time", v ? v : "");
    if (us < INT64_C(-62135596800000000) || us > INT64_C(253402300799000000)) /* years 1..9999 */
        return fail(c, path, "schema", "\"%.60s\" is out of range", v);
    if (us < 0) /* whole seconds before 1970 (the formatter prints positive fractions only) */
        us -= ((us % 1000000) + 1000000) % 1000000;
    accord_timestamp_format(us, out, outlen);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* CSAF product tree                                                                            */

static const prod *find_prod(const conv *c, const char *id)
{
    for (size_t i = 0; i < c->np; i++)
        if (strcmp(c->p[i].id, id) == 0)
            return &c->p[i];
    return NULL;
}

static int add_prod(conv *c, const ajson_value *fpn, const char *vendor, const char *version,
                    const char *path)
{
    char sub[300];
    snprintf(sub, sizeof(sub), "%s.product_id", path);
    const char *id = str(fpn, "product_id");
    if (!id || !*id)
        return fail(c, sub, "schema", "product_id is required");
    if (find_prod(c, id))
        return fail(c, sub, "6.1.2", "product id %.100s is defined more than once", id);
    if (c->np == c->cap) {
        size_t n = c->cap ? c->cap * 2 : 16;
        prod *np = realloc(c->p, n * sizeof(*np));
        if (!np)
            return fail(c, path, "memory", "out of memory");
        c->p = np, c->cap = n;
    }
    const ajson_value *h = get(fpn, "product_identification_helper");
    c->p[c->np++] = (prod){id, str(fpn, "name"), vendor, version, str(h, "purl"), str(h, "cpe")};
    return 0;
}

static int walk_branches(conv *c, const ajson_value *br, const char *vendor, const char *version,
                         const char *path, int depth)
{
    if (arr_ok(c, br, path))
        return -1;
    if (depth > 30)
        return fail(c, path, "schema", "branches nested deeper than 30");
    for (size_t i = 0; i < arr_len(br); i++) {
        const ajson_value *b = &br->u.items[i];
        char sub[300];
        snprintf(sub, sizeof(sub), "%.200s[%zu]", path, i);
        const char *cat = str(b, "category"), *name = str(b, "name");
        const char *v = vendor, *ver = version;
        if (cat && name && strcmp(cat, "vendor") == 0)
            v = name;
        else if (cat && name &&
                 (strcmp(cat, "product_version") == 0 || strcmp(cat, "product_version_range") == 0))
            ver = name;
        const ajson_value *fpn = get(b, "product");
        char p2[320];
        if (fpn) {
            snprintf(p2, sizeof(p2), "%s.product", sub);
            if (add_prod(c, fpn, v, ver, p2))
                return -1;
        }
        snprintf(p2, sizeof(p2), "%s.branches", sub);
        if (get(b, "branches") && walk_branches(c, get(b, "branches"), v, ver, p2, depth + 1))
            return -1;
    }
    return 0;
}

static int group_known(const conv *c, const char *id)
{
    for (size_t i = 0; i < c->ng; i++)
        if (strcmp(c->groups[i], id) == 0)
            return 1;
    return 0;
}

/* Every element of the array at o[k] names a defined product (groups: a defined group). */
static int refs_defined(conv *c, const ajson_value *o, const char *k, const char *path, int groups)
{
    const ajson_value *v = get(o, k);
    char sub[300];
    snprintf(sub, sizeof(sub), "%.250s.%s", path, k);
    if (arr_ok(c, v, sub))
        return -1;
    for (size_t i = 0; i < arr_len(v); i++) {
        const char *id = ajson_str(&v->u.items[i]);
        snprintf(sub, sizeof(sub), "%.250s.%s[%zu]", path, k, i);
        if (!id)
            return fail(c, sub, "schema", "a string is expected");
        if (groups ? !group_known(c, id) : !find_prod(c, id))
            return fail(c, sub, groups ? "6.1.4" : "6.1.1", "%s id %.100s is not defined",
                        groups ? "group" : "product", id);
    }
    return 0;
}

static int product_tree(conv *c, const ajson_value *pt)
{
    if (!pt)
        return 0;
    const ajson_value *fpn = get(pt, "full_product_names"), *rel = get(pt, "relationships"),
                      *grp = get(pt, "product_groups");
    if (arr_ok(c, fpn, "$.product_tree.full_product_names") ||
        arr_ok(c, rel, "$.product_tree.relationships") ||
        arr_ok(c, grp, "$.product_tree.product_groups") ||
        walk_branches(c, get(pt, "branches"), NULL, NULL, "$.product_tree.branches", 0))
        return -1;
    char path[300];
    for (size_t i = 0; i < arr_len(fpn); i++) {
        snprintf(path, sizeof(path), "$.product_tree.full_product_names[%zu]", i);
        if (add_prod(c, &fpn->u.items[i], NULL, NULL, path))
            return -1;
    }
    for (size_t i = 0; i < arr_len(rel); i++) {
        snprintf(path, sizeof(path), "$.product_tree.relationships[%zu].full_product_name", i);
        if (add_prod(c, get(&rel->u.items[i], "full_product_name"), NULL, NULL, path))
            return -1;
    }
    for (size_t i = 0; i < arr_len(rel); i++) {
        const ajson_value *r = &rel->u.items[i];
        static const char *const keys[] = {"product_reference", "relates_to_product_reference"};
        for (int k = 0; k < 2; k++) {
            const char *id = str(r, keys[k]);
            snprintf(path, sizeof(path), "$.product_tree.relationships[%zu].%s", i, keys[k]);
            if (!id || !find_prod(c, id))
                return fail(c, path, "6.1.1", "product id %.100s is not defined", id ? id : "");
        }
    }
    c->groups = calloc(arr_len(grp) + 1, sizeof(*c->groups));
    if (!c->groups)
        return fail(c, "$.product_tree.product_groups", "memory", "out of memory");
    for (size_t i = 0; i < arr_len(grp); i++) {
        const ajson_value *g = &grp->u.items[i];
        const char *id = str(g, "group_id");
        snprintf(path, sizeof(path), "$.product_tree.product_groups[%zu].group_id", i);
        if (!id || !*id)
            return fail(c, path, "schema", "group_id is required");
        if (group_known(c, id))
            return fail(c, path, "6.1.5", "group id %.100s is defined more than once", id);
        c->groups[c->ng++] = id;
        snprintf(path, sizeof(path), "$.product_tree.product_groups[%zu]", i);
        if (refs_defined(c, g, "product_ids", path, 0))
            return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* STIX output                                                                                  */

static void kv(buf *b, const char *k, const char *v)
{
    buf_adds(b, ",\"");
    buf_adds(b, k);
    buf_adds(b, "\":");
    buf_json_str(b, v);
}

static void common(conv *c, const char *type, const char *id)
{
    buf *b = c->out;
    buf_adds(b, c->nobj++ ? ",{" : "{");
    buf_adds(&c->refs, c->refs.len ? "," : "");
    buf_json_str(&c->refs, id);
    buf_adds(b, "\"type\":");
    buf_json_str(b, type);
    buf_adds(b, ",\"spec_version\":\"2.1\"");
    kv(b, "id", id);
    kv(b, "created", c->created);
    kv(b, "modified", c->modified);
    if (c->marking) {
        buf_adds(b, ",\"object_marking_refs\":[");
        buf_json_str(b, c->marking);
        buf_adds(b, "]");
    }
}

static void ext_ref(buf *b, int *n, const char *source, const char *id, const char *url,
                    const char *desc)
{
    buf_adds(b, (*n)++ ? ",{\"source_name\":" : "{\"source_name\":");
    buf_json_str(b, source);
    if (id)
        kv(b, "external_id", id);
    if (url)
        kv(b, "url", url);
    if (desc && *desc)
        kv(b, "description", desc);
    buf_adds(b, "}");
}

static void make_id(const conv *c, const char *type, const char *what, char *out, size_t outlen)
{
    char name[1200];
    snprintf(name, sizeof(name), "advisory|%.300s|%.300s|%.500s", c->ns, c->doc_id, what);
    misp_uuid5_id(type, name, strlen(name), out, outlen);
}

/* The notes of a vulnerability (CSAF notes, or an OSV summary) about vuln_id. */
static void notes(conv *c, const char *vuln_id, const char *what, const ajson_value *ns)
{
    for (size_t i = 0; i < arr_len(ns); i++) {
        const ajson_value *n = &ns->u.items[i];
        const char *text = str(n, "text");
        if (!text || !*text)
            continue;
        char id[80], w[700];
        snprintf(w, sizeof(w), "%.500s|note|%zu", what, i);
        make_id(c, "note", w, id, sizeof(id));
        common(c, "note", id);
        const char *t = str(n, "title"), *cat = str(n, "category");
        if (t || cat)
            kv(c->out, "abstract", t ? t : cat);
        kv(c->out, "content", text);
        buf_adds(c->out, ",\"authors\":[");
        buf_json_str(c->out, c->source);
        buf_adds(c->out, "],\"object_refs\":[");
        buf_json_str(c->out, vuln_id);
        buf_adds(c->out, "]}");
    }
}

/* ------------------------------------------------------------------------------------------ */
/* CSAF                                                                                         */

static const char *const status_keys[] = {"known_affected", "first_affected", "last_affected",
                                          "fixed",          "first_fixed",    "known_not_affected",
                                          "under_investigation", "recommended", NULL};
static const char *const status_names[] = {"affected",     "affected",
                                           "affected",     "fixed",
                                           "fixed",        "not_affected",
                                           "under_investigation", "recommended"};

static int check_scores(conv *c, const ajson_value *v, const char *path)
{
    const ajson_value *sc = get(v, "scores");
    char sub[300];
    snprintf(sub, sizeof(sub), "%s.scores", path);
    if (arr_ok(c, sc, sub))
        return -1;
    for (size_t i = 0; i < arr_len(sc); i++) {
        const ajson_value *s = &sc->u.items[i];
        snprintf(sub, sizeof(sub), "%s.scores[%zu]", path, i);
        if (refs_defined(c, s, "products", sub, 0))
            return -1;
        const ajson_value *v3 = get(s, "cvss_v3");
        if (!v3)
            continue;
        const char *vec = str(v3, "vectorString");
        cvss_score cs;
        char e[200];
        snprintf(sub, sizeof(sub), "%s.scores[%zu].cvss_v3.vectorString", path, i);
        if (!vec || cvss_parse(vec, &cs, e, sizeof(e)))
            return fail(c, sub, "6.1.8", "invalid CVSS vector: %s", vec ? e : "missing");
        double given;
        snprintf(sub, sizeof(sub), "%s.scores[%zu].cvss_v3.baseScore", path, i);
        if (!ajson_double(get(v3, "baseScore"), &given))
            return fail(c, sub, "schema", "baseScore is required (a number)");
        if (fabs(given - cs.base) > 0.05)
            return fail(c, sub, "6.1.9", "baseScore %.1f, but %s scores %.1f", given, vec,
                        cs.base);
    }
    return 0;
}

static int check_vuln(conv *c, const ajson_value *v, const char *path)
{
    char sub[300];
    const ajson_value *ps = get(v, "product_status");
    snprintf(sub, sizeof(sub), "%s.product_status", path);
    for (int k = 0; status_keys[k]; k++)
        if (refs_defined(c, ps, status_keys[k], sub, 0))
            return -1;
    static const char *const lists[] = {"remediations", "threats", "flags"};
    for (int l = 0; l < 3; l++) {
        const ajson_value *r = get(v, lists[l]);
        snprintf(sub, sizeof(sub), "%s.%s", path, lists[l]);
        if (arr_ok(c, r, sub))
            return -1;
        for (size_t i = 0; i < arr_len(r); i++) {
            snprintf(sub, sizeof(sub), "%s.%s[%zu]", path, lists[l], i);
            if (refs_defined(c, &r->u.items[i], "product_ids", sub, 0) ||
                refs_defined(c, &r->u.items[i], "group_ids", sub, 1))
                return -1;
        }
    }
    const ajson_value *cwe = get(v, "cwe");
    if (cwe) {
        const char *id = str(cwe, "id"), *name = str(cwe, "name");
        char e[200];
        snprintf(sub, sizeof(sub), "%s.cwe.id", path);
        if (!id || cwe_id_check(id, e, sizeof(e)))
            return fail(c, sub, "6.1.11", "invalid CWE id %.40s", id ? id : "(missing)");
        const char *known = case_cwe_name(id);
        snprintf(sub, sizeof(sub), "%s.cwe.name", path);
        if (known && name && strcmp(known, name) != 0)
            return fail(c, sub, "6.1.11", "%s is \"%s\", not \"%.100s\"", id, known, name);
    }
    const char *cve = str(v, "cve");
    char e[200];
    snprintf(sub, sizeof(sub), "%s.cve", path);
    if (cve && cve_id_check(cve, e, sizeof(e)))
        return fail(c, sub, "schema", "%s", e);
    return check_scores(c, v, path);
}

/* The vendor fix remediation that covers product id, or NULL. */
static const char *vendor_fix(const ajson_value *v, const char *id)
{
    const ajson_value *r = get(v, "remediations");
    for (size_t i = 0; i < arr_len(r); i++) {
        const ajson_value *m = &r->u.items[i];
        const char *cat = str(m, "category");
        if (!cat || strcmp(cat, "vendor_fix") != 0)
            continue;
        const ajson_value *ids = get(m, "product_ids");
        for (size_t j = 0; j < arr_len(ids); j++) {
            const char *p = ajson_str(&ids->u.items[j]);
            if (p && strcmp(p, id) == 0)
                return str(m, "details");
        }
    }
    return NULL;
}

/* Ends the products list and adds x_accord_cvss: the vectors (scored by
 * accord) of arr[i].obj.key (obj NULL: arr[i].key); vectors accord cannot parse are left out. */
static void cvss_json(buf *b, const ajson_value *arr, const char *obj, const char *key)
{
    buf_adds(b, "],\"x_accord_cvss\":[");
    int n = 0;
    for (size_t i = 0; i < arr_len(arr); i++) {
        const ajson_value *o = obj ? get(&arr->u.items[i], obj) : &arr->u.items[i];
        const char *vec = str(o, key);
        cvss_score cs;
        char e[200];
        if (!vec || cvss_parse(vec, &cs, e, sizeof(e)))
            continue;
        buf_adds(b, n++ ? ",{\"vector\":" : "{\"vector\":");
        buf_json_str(b, vec);
        buf_printf(b, ",\"base_score\":%.1f}", cs.base);
    }
    buf_adds(b, "]");
}

static void product_json(buf *b, int *n, const prod *p, const char *status, const char *fixed,
                         const char *introduced)
{
    buf_adds(b, (*n)++ ? ",{\"product_id\":" : "{\"product_id\":");
    buf_json_str(b, p->id);
    const char *keys[] = {"name", "vendor", "version", "purl", "cpe"};
    const char *vals[] = {p->name, p->vendor, p->version, p->purl, p->cpe};
    for (int i = 0; i < 5; i++)
        if (vals[i])
            kv(b, keys[i], vals[i]);
    kv(b, "status", status);
    if (fixed)
        kv(b, "fixed", fixed);
    if (introduced)
        kv(b, "introduced", introduced);
    buf_adds(b, "}");
}

/* The product ids o (a remediation or threat) names, directly and through its groups. */
static void named_products(buf *b, const ajson_value *root, const ajson_value *o)
{
    const ajson_value *grp = get(get(root, "product_tree"), "product_groups"),
                      *gids = get(o, "group_ids");
    const ajson_value *lists[64];
    size_t nl = 0;
    lists[nl++] = get(o, "product_ids");
    for (size_t i = 0; i < arr_len(gids) && nl < 64; i++)
        for (size_t j = 0; j < arr_len(grp); j++) {
            const char *g = str(&grp->u.items[j], "group_id");
            if (g && ajson_str(&gids->u.items[i]) && strcmp(g, ajson_str(&gids->u.items[i])) == 0)
                lists[nl++] = get(&grp->u.items[j], "product_ids");
        }
    buf_adds(b, ",\"products\":[");
    int n = 0;
    for (size_t l = 0; l < nl; l++)
        for (size_t i = 0; i < arr_len(lists[l]); i++) {
            const char *id = ajson_str(&lists[l]->u.items[i]);
            if (!id)
                continue;
            buf_adds(b, n++ ? "," : "");
            buf_json_str(b, id);
        }
    buf_adds(b, "]");
}

/* What a re-published advisory carries over (csaf_republish.c): the vulnerability's notes,
 * remediations and threats, in x_accord_csaf_notes / _remediations / _threats, with the product
 * ids of the source document (groups resolved to their products). */
static void csaf_extras(buf *b, const ajson_value *root, const ajson_value *v)
{
    static const char *const lists[] = {"notes", "remediations", "threats"};
    static const char *const keys[3][4] = {{"category", "title", "text", NULL},
                                           {"category", "details", "url", "date"},
                                           {"category", "details", "date", NULL}};
    for (int l = 0; l < 3; l++) {
        const ajson_value *arr = get(v, lists[l]);
        int n = 0;
        for (size_t i = 0; i < arr_len(arr); i++) {
            const ajson_value *o = &arr->u.items[i];
            if (!str(o, "category") || !str(o, l ? "details" : "text"))
                continue;
            buf_printf(b, n++ ? ",{" : ",\"x_accord_csaf_%s\":[{", lists[l]);
            for (int k = 0; k < 4 && keys[l][k]; k++)
                if (str(o, keys[l][k])) {
                    buf_adds(b, k ? ",\"" : "\"");
                    buf_adds(b, keys[l][k]);
                    buf_adds(b, "\":");
                    buf_json_str(b, str(o, keys[l][k]));
                }
            if (l)
                named_products(b, root, o);
            buf_adds(b, "}");
        }
        if (n)
            buf_adds(b, "]");
    }
}

static void csaf_vuln(conv *c, const ajson_value *doc, const ajson_value *v, size_t idx)
{
    buf *b = c->out;
    const char *cve = str(v, "cve"), *title = str(v, "title");
    char what[300], id[80];
    if (cve)
        snprintf(what, sizeof(what), "%s", cve);
    else
        snprintf(what, sizeof(what), "#%zu", idx);
    make_id(c, "vulnerability", what, id, sizeof(id));
    common(c, "vulnerability", id);
    kv(b, "name", cve ? cve : title ? title : c->doc_id);
    const char *desc = NULL;
    const ajson_value *ns = get(v, "notes");
    for (size_t i = 0; i < arr_len(ns) && !desc; i++) {
        const char *cat = str(&ns->u.items[i], "category");
        if (cat && (strcmp(cat, "description") == 0 || strcmp(cat, "summary") == 0))
            desc = str(&ns->u.items[i], "text");
    }
    kv(b, "description", desc ? desc : title ? title : c->title);
    buf_adds(b, ",\"external_references\":[");
    int n = 0;
    if (cve)
        ext_ref(b, &n, "cve", cve, NULL, NULL);
    if (get(v, "cwe"))
        ext_ref(b, &n, "cwe", str(get(v, "cwe"), "id"), NULL, str(get(v, "cwe"), "name"));
    ext_ref(b, &n, c->source, c->doc_id, c->self_url, c->title);
    const ajson_value *lists[] = {get(v, "references"), get(get(doc, "document"), "references")};
    for (int l = 0; l < 2; l++)
        for (size_t i = 0; i < arr_len(lists[l]); i++) {
            const ajson_value *r = &lists[l]->u.items[i];
            const char *url = str(r, "url"), *cat = str(r, "category");
            if (url && !(l == 1 && cat && strcmp(cat, "self") == 0))
                ext_ref(b, &n, "csaf-reference", NULL, url, str(r, "summary"));
        }
    buf_adds(b, "],\"x_accord_products\":[");
    n = 0;
    const ajson_value *ps = get(v, "product_status");
    for (int k = 0; status_keys[k]; k++) {
        const ajson_value *ids = get(ps, status_keys[k]);
        for (size_t i = 0; i < arr_len(ids); i++) {
            const prod *p = find_prod(c, ajson_str(&ids->u.items[i]));
            if (p)
                product_json(b, &n, p, status_names[k], vendor_fix(v, p->id), NULL);
        }
    }
    cvss_json(b, get(v, "scores"), "cvss_v3", "vectorString");
    csaf_extras(b, doc, v);
    buf_adds(b, "}");
    notes(c, id, what, ns);
}

static int csaf_doc(conv *c, const ajson_value *root)
{
    const ajson_value *doc = get(root, "document");
    if (!doc || doc->type != AJSON_OBJECT)
        return fail(c, "$.document", "schema", "document is required (an object)");
    const char *ver = str(doc, "csaf_version");
    if (!ver || strcmp(ver, "2.0") != 0)
        return fail(c, "$.document.csaf_version", "schema", "\"2.0\" is required");
    const ajson_value *pub = get(doc, "publisher"), *tr = get(doc, "tracking");
    if (!(c->title = need_str(c, doc, "$.document", "title")) ||
        !need_str(c, doc, "$.document", "category") ||
        !(c->source = need_str(c, pub, "$.document.publisher", "name")) ||
        !(c->ns = need_str(c, pub, "$.document.publisher", "namespace")) ||
        !(c->doc_id = need_str(c, tr, "$.document.tracking", "id")))
        return -1;
    if (stix_date(c, str(tr, "initial_release_date"), "$.document.tracking.initial_release_date",
                  c->created, sizeof(c->created)) ||
        stix_date(c, str(tr, "current_release_date"), "$.document.tracking.current_release_date",
                  c->modified, sizeof(c->modified)))
        return -1;
    if (strcmp(c->created, c->modified) > 0) /* the same format: text order is time order */
        memcpy(c->created, c->modified, sizeof(c->created));
    const char *tlp = str(get(get(doc, "distribution"), "tlp"), "label");
    c->marking = !tlp                                                      ? NULL
                 : strcmp(tlp, "WHITE") == 0 || strcmp(tlp, "CLEAR") == 0 ? TLP_CLEAR
                 : strcmp(tlp, "GREEN") == 0                              ? TLP_GREEN
                 : strcmp(tlp, "AMBER") == 0                              ? TLP_AMBER
                 : strcmp(tlp, "RED") == 0                                ? TLP_RED
                                                                          : "";
    if (c->marking && !*c->marking)
        return fail(c, "$.document.distribution.tlp.label", "schema", "unknown TLP label %.20s",
                    tlp);
    const ajson_value *refs = get(doc, "references");
    if (arr_ok(c, refs, "$.document.references"))
        return -1;
    for (size_t i = 0; i < arr_len(refs); i++) {
        const char *cat = str(&refs->u.items[i], "category");
        if (cat && strcmp(cat, "self") == 0 && !c->self_url)
            c->self_url = str(&refs->u.items[i], "url");
    }
    if (product_tree(c, get(root, "product_tree")))
        return -1;
    const ajson_value *vs = get(root, "vulnerabilities");
    if (arr_ok(c, vs, "$.vulnerabilities"))
        return -1;
    char path[64];
    for (size_t i = 0; i < arr_len(vs); i++) {
        snprintf(path, sizeof(path), "$.vulnerabilities[%zu]", i);
        if (check_vuln(c, &vs->u.items[i], path))
            return -1;
    }
    if (csaf_mandatory_check(root, c->err, c->errlen)) /* the other mandatory tests */
        return -1;
    /* the advisory itself: its publisher and a report of everything above */
    char pub_id[80], rep_id[80];
    make_id(c, "identity", "publisher", pub_id, sizeof(pub_id));
    common(c, "identity", pub_id);
    kv(c->out, "name", c->source);
    kv(c->out, "identity_class", "organization");
    buf_adds(c->out, "}");
    for (size_t i = 0; i < arr_len(vs); i++)
        csaf_vuln(c, root, &vs->u.items[i], i);
    make_id(c, "report", "report", rep_id, sizeof(rep_id));
    buf_adds(c->out, ",{");
    c->nobj++;
    buf_adds(c->out, "\"type\":\"report\",\"spec_version\":\"2.1\"");
    kv(c->out, "id", rep_id);
    kv(c->out, "created", c->created);
    kv(c->out, "modified", c->modified);
    kv(c->out, "created_by_ref", pub_id);
    if (c->marking) {
        buf_adds(c->out, ",\"object_marking_refs\":[");
        buf_json_str(c->out, c->marking);
        buf_adds(c->out, "]");
    }
    kv(c->out, "name", c->title);
    kv(c->out, "published", c->modified);
    buf_adds(c->out, ",\"report_types\":[\"vulnerability\"],\"external_references\":[");
    int n = 0;
    ext_ref(c->out, &n, c->source, c->doc_id, c->self_url, NULL);
    buf_adds(c->out, "],\"object_refs\":[");
    buf_add(c->out, c->refs.p, c->refs.len);
    buf_adds(c->out, "]");
    kv(c->out, "x_accord_csaf_category", str(doc, "category"));
    if (str(get(doc, "tracking"), "version"))
        kv(c->out, "x_accord_csaf_version", str(get(doc, "tracking"), "version"));
    buf_adds(c->out, "}");
    return c->refs.failed ? fail(c, "$", "size", "too many objects") : 0;
}

/* ------------------------------------------------------------------------------------------ */
/* OSV                                                                                          */

static int osv_check(conv *c, const ajson_value *root)
{
    if (!(c->doc_id = need_str(c, root, "$", "id")))
        return -1;
    if (stix_date(c, str(root, "modified"), "$.modified", c->modified, sizeof(c->modified)))
        return -1;
    if (str(root, "published")) {
        if (stix_date(c, str(root, "published"), "$.published", c->created, sizeof(c->created)))
            return -1;
    } else {
        memcpy(c->created, c->modified, sizeof(c->created));
    }
    if (strcmp(c->created, c->modified) > 0)
        memcpy(c->created, c->modified, sizeof(c->created));
    const ajson_value *aff = get(root, "affected");
    char path[200];
    static const char *const arrays[] = {"aliases", "references", "severity", "affected"};
    for (int k = 0; k < 4; k++) {
        snprintf(path, sizeof(path), "$.%s", arrays[k]);
        if (arr_ok(c, get(root, arrays[k]), path))
            return -1;
    }
    for (size_t i = 0; i < arr_len(aff); i++) {
        const ajson_value *a = &aff->u.items[i], *pkg = get(a, "package");
        snprintf(path, sizeof(path), "$.affected[%zu].package", i);
        if (pkg && (!need_str(c, pkg, path, "ecosystem") || !need_str(c, pkg, path, "name")))
            return -1;
        const ajson_value *rs = get(a, "ranges");
        snprintf(path, sizeof(path), "$.affected[%zu].ranges", i);
        if (arr_ok(c, rs, path))
            return -1;
        for (size_t j = 0; j < arr_len(rs); j++) {
            const ajson_value *r = &rs->u.items[j], *ev = get(r, "events");
            snprintf(path, sizeof(path), "$.affected[%zu].ranges[%zu]", i, j);
            const char *t = str(r, "type");
            if (!t || (strcmp(t, "SEMVER") && strcmp(t, "ECOSYSTEM") && strcmp(t, "GIT")))
                return fail(c, path, "schema", "type is SEMVER, ECOSYSTEM or GIT");
            snprintf(path, sizeof(path), "$.affected[%zu].ranges[%zu].events", i, j);
            if (!arr_len(ev))
                return fail(c, path, "schema", "at least one event is required");
            for (size_t k = 0; k < arr_len(ev); k++) {
                const ajson_value *e = &ev->u.items[k];
                int kinds = !!str(e, "introduced") + !!str(e, "fixed") +
                            !!str(e, "last_affected") + !!str(e, "limit");
                snprintf(path, sizeof(path), "$.affected[%zu].ranges[%zu].events[%zu]", i, j, k);
                if (kinds != 1 || e->len != 1)
                    return fail(c, path, "schema",
                                "an event is one of introduced, fixed, last_affected, limit");
            }
        }
    }
    return 0;
}

/* The first value of event kind in the ranges of a, or NULL. */
static const char *osv_event(const ajson_value *a, const char *kind)
{
    const ajson_value *rs = get(a, "ranges");
    for (size_t j = 0; j < arr_len(rs); j++) {
        const ajson_value *ev = get(&rs->u.items[j], "events");
        for (size_t k = 0; k < arr_len(ev); k++) {
            const char *v = str(&ev->u.items[k], kind);
            if (v)
                return v;
        }
    }
    return NULL;
}

static int osv_doc(conv *c, const ajson_value *root)
{
    if (osv_check(c, root))
        return -1;
    buf *b = c->out;
    c->source = "osv";
    c->ns = "https://osv.dev";
    c->marking = TLP_CLEAR;
    const char *cve = NULL;
    const ajson_value *al = get(root, "aliases");
    for (size_t i = 0; i < arr_len(al) && !cve; i++) {
        const char *a = ajson_str(&al->u.items[i]);
        char e[200];
        if (a && cve_id_check(a, e, sizeof(e)) == 0)
            cve = a;
    }
    char id[80];
    make_id(c, "vulnerability", "osv", id, sizeof(id));
    common(c, "vulnerability", id);
    const char *summary = str(root, "summary"), *details = str(root, "details");
    kv(b, "name", cve ? cve : c->doc_id);
    kv(b, "description", details && *details ? details : summary ? summary : c->doc_id);
    buf_adds(b, ",\"external_references\":[");
    int n = 0;
    ext_ref(b, &n, "osv", c->doc_id, NULL, summary);
    for (size_t i = 0; i < arr_len(al); i++) {
        const char *a = ajson_str(&al->u.items[i]);
        char e[200];
        if (a && cve_id_check(a, e, sizeof(e)) == 0)
            ext_ref(b, &n, "cve", a, NULL, NULL);
    }
    const ajson_value *refs = get(root, "references");
    for (size_t i = 0; i < arr_len(refs); i++) {
        const char *url = str(&refs->u.items[i], "url");
        if (url)
            ext_ref(b, &n, "osv-reference", NULL, url, str(&refs->u.items[i], "type"));
    }
    buf_adds(b, "],\"x_accord_products\":[");
    const ajson_value *aff = get(root, "affected");
    n = 0;
    for (size_t i = 0; i < arr_len(aff); i++) {
        const ajson_value *a = &aff->u.items[i], *pkg = get(a, "package");
        char pid[32];
        snprintf(pid, sizeof(pid), "affected-%zu", i);
        prod p = {pid, str(pkg, "name"), str(pkg, "ecosystem"), NULL, str(pkg, "purl"), NULL};
        product_json(b, &n, &p, "affected", osv_event(a, "fixed"), osv_event(a, "introduced"));
    }
    cvss_json(b, get(root, "severity"), NULL, "score");
    buf_adds(b, "}");
    if (summary && details && *details) {
        char note[80];
        make_id(c, "note", "osv|summary", note, sizeof(note));
        common(c, "note", note);
        kv(b, "abstract", "summary");
        kv(b, "content", summary);
        buf_adds(b, ",\"authors\":[\"osv\"],\"object_refs\":[");
        buf_json_str(b, id);
        buf_adds(b, "]}");
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */

int advisory_to_stix(int format, const char *text, size_t len, buf *out, char *err,
                     size_t errlen)
{
    ajson_arena a;
    ajson_arena_init(&a, DOC_MAX);
    ajson_error je;
    conv c = {.a = &a, .out = out, .err = err, .errlen = errlen};
    buf_init(&c.refs, DOC_MAX);
    int rc = 0;
    const ajson_value *root = ajson_parse(&a, text, len, &je);
    if (!root)
        rc = fail(&c, "$", "json-syntax", "byte %zu: %s", je.offset, je.msg);
    else if (root->type != AJSON_OBJECT)
        rc = fail(&c, "$", "schema", "the document is a JSON object");
    if (!rc) {
        char uuid[37];
        accord_uuid4(uuid);
        buf_printf(out, "{\"type\":\"bundle\",\"id\":\"bundle--%s\",\"objects\":[", uuid);
        rc = format == ACCORD_ADVISORY_OSV ? osv_doc(&c, root) : csaf_doc(&c, root);
        buf_adds(out, "]}");
    }
    if (!rc && out->failed)
        rc = fail(&c, "$", "size", "the STIX form is larger than %u bytes", DOC_MAX);
    free(c.p);
    free(c.groups);
    buf_free(&c.refs);
    ajson_arena_free(&a);
    return rc;
}

int accord_advisory_import(accord_store *s, int format, const char *name, const char *text,
                           size_t len, const char *collection, accord_import_stats *st,
                           accord_error *err)
{
    if (format != ACCORD_ADVISORY_CSAF && format != ACCORD_ADVISORY_OSV)
        return accord_err_set(err, ACCORD_EINVAL, "advisory import: unknown format %d", format);
    if (len > DOC_MAX)
        return accord_err_set(err, ACCORD_ELIMIT, "%s: larger than %u bytes", name, DOC_MAX);
    buf b;
    buf_init(&b, DOC_MAX);
    char e[600];
    int rc = advisory_to_stix(format, text, len, &b, e, sizeof(e));
    if (rc) {
        rc = accord_err_set(err, ACCORD_EINVAL, "%s: %s", name, e);
        buf_free(&b);
        return rc;
    }
    int fd = memfd_create("accord-advisory", MFD_CLOEXEC);
    if (fd < 0)
        rc = accord_err_set(err, ACCORD_EIO, "%s: memfd_create failed", name);
    else if (write(fd, b.p, b.len) != (ssize_t)b.len || lseek(fd, 0, SEEK_SET) != 0)
        rc = accord_err_set(err, ACCORD_EIO, "%s: writing the STIX form failed", name);
    if (!rc) {
        /* strict: the document's objects are one transaction, all stored or none */
        accord_import_options o = {
            .flags = ACCORD_IMPORT_STRICT, .source = name, .collection = collection};
        rc = accord_import_fd(s, fd, &o, st, err);
    }
    if (fd >= 0)
        close(fd);
    buf_free(&b);
    return rc;
}
