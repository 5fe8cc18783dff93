/*
 * csaf_republish.c - a vulnerability imported from a vendor's advisory (csaf_import.c), written
 * again as accord's own CSAF 2.0 csaf_security_advisory (`accord csaf export ID`).
 *
 * The stored vulnerability is loaded into a case_data as a published case would be (its name as
 * title and CVE id, its description as summary, the CWE and CVSS vectors, the reference URLs, one
 * vendor per product vendor - the advisory's source when a product names none - and the products
 * of x_accord_products with their status, purl, CPE and, from OSV, the introduced and fixed
 * versions), with one revision dated by its `modified`; csaf.c then renders it, so the document
 * holds the rules of the mandatory tests by construction as a case's advisory does.  The
 * publisher is this node's (`accord case publisher`); the tracking id is the source advisory's.
 *
 * The vulnerability's other notes, its remediations and its threats (kept by csaf_import.c in
 * x_accord_csaf_*) are carried over with their product ids mapped to this document's.  It does
 * not carry over product groups and relationships (their products are listed one by one) or
 * scores per product.
 */
#include "case_ident.h"
#include "case_int.h"
#include "store.h"
#include "store_int.h"
#include "util/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct got {
    char *body;
    size_t len;
} got;

static int got_record(void *ud, const accord_record *rec)
{
    got *g = ud;
    free(g->body);
    g->body = malloc(rec->body_len + 1);
    if (!g->body)
        return ACCORD_ENOMEM;
    memcpy(g->body, rec->body, rec->body_len);
    g->body[rec->body_len] = '\0';
    g->len = rec->body_len;
    return 0;
}

static const char *str(const ajson_value *o, const char *k)
{
    return ajson_str(ajson_get(o, k));
}

/* case_data's strings are its own (case_data_free releases them): copies, NULL stays NULL. */
static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static const char *status_of(const char *s)
{
    if (!s)
        return "unknown";
    if (strcmp(s, "recommended") == 0)
        return "fixed";
    return strcmp(s, "affected") == 0 || strcmp(s, "fixed") == 0 ||
                   strcmp(s, "not_affected") == 0 || strcmp(s, "under_investigation") == 0
               ? s
               : "unknown";
}

static void publisher(accord_store *s, case_data *d)
{
    snprintf(d->publisher_name, sizeof(d->publisher_name), "accord");
    snprintf(d->publisher_namespace, sizeof(d->publisher_namespace), "https://accord.invalid");
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT key, value FROM meta WHERE key IN ('csaf_publisher_name',"
                           " 'csaf_publisher_namespace')",
                           -1, &st, NULL) != SQLITE_OK)
        return;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(st, 0);
        const char *v = (const char *)sqlite3_column_text(st, 1);
        if (v && strcmp(k, "csaf_publisher_name") == 0)
            snprintf(d->publisher_name, sizeof(d->publisher_name), "%s", v);
        else if (v)
            snprintf(d->publisher_namespace, sizeof(d->publisher_namespace), "%s", v);
    }
    sqlite3_finalize(st);
}

static int vendor_index(case_data *d, const char *name)
{
    for (size_t i = 0; i < d->nv; i++)
        if (strcmp(d->v[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* The CSAF product id this document gives to the source's product id: the first product of
 * x_accord_products with that id (load makes product i CSAFPID-<i+1>); 0 when none. */
static size_t product_pid(const ajson_value *prods, const char *id)
{
    for (size_t i = 0; id && prods && prods->type == AJSON_ARRAY && i < prods->len; i++) {
        const char *p = str(&prods->u.items[i], "product_id");
        if (p && strcmp(p, id) == 0)
            return i + 1;
    }
    return 0;
}

static int one_of(const char *s, const char *const *set)
{
    for (; s && *set; set++)
        if (strcmp(s, *set) == 0)
            return 1;
    return 0;
}

/* x_accord_csaf_notes / _remediations / _threats of v (csaf_import.c) as the CSAF JSON objects
 * of this document: values the CSAF schema accepts, the source's product ids mapped to this
 * document's; a remediation or threat none of whose products is here is left out (it would say
 * something of other products).  The note that became the description is not repeated.  NULL
 * when there is nothing. */
static char *carried(const ajson_value *v, int which, const char *description)
{
    static const char *const lists[] = {"x_accord_csaf_notes", "x_accord_csaf_remediations",
                                        "x_accord_csaf_threats"};
    static const char *const note_cats[] = {"description", "details", "faq", "general",
                                            "legal_disclaimer", "other", "summary", NULL};
    static const char *const rem_cats[] = {"mitigation", "no_fix_planned", "none_available",
                                           "vendor_fix", "workaround", NULL};
    static const char *const thr_cats[] = {"exploit_status", "impact", "target_set", NULL};
    const char *const *cats[] = {note_cats, rem_cats, thr_cats};
    const ajson_value *arr = ajson_get(v, lists[which]), *prods = ajson_get(v, "x_accord_products");
    buf b;
    buf_init(&b, 16u << 20);
    int n = 0;
    for (size_t i = 0; arr && arr->type == AJSON_ARRAY && i < arr->len; i++) {
        const ajson_value *o = &arr->u.items[i];
        const char *cat = str(o, "category"), *text = str(o, which ? "details" : "text");
        if (!one_of(cat, cats[which]) || !text || !*text)
            continue;
        if (!which && description && strcmp(text, description) == 0)
            continue;
        buf ids;
        buf_init(&ids, 16u << 20);
        const ajson_value *ps = ajson_get(o, "products");
        int nid = 0, named = ps && ps->type == AJSON_ARRAY && ps->len;
        for (size_t j = 0; named && j < ps->len; j++) {
            size_t pid = product_pid(prods, ajson_str(&ps->u.items[j]));
            char id[40];
            snprintf(id, sizeof(id), "\"CSAFPID-%zu\"", pid);
            if (pid && !strstr(ids.p ? ids.p : "", id)) /* each once */
                buf_printf(&ids, "%s%s", nid++ ? "," : "", id);
        }
        if (which && (which == 1 || named) && !nid) {
            buf_free(&ids);
            continue;
        }
        buf_adds(&b, n++ ? ",{" : "{");
        case_json_kv(&b, "category", cat);
        buf_adds(&b, ",");
        if (!which && str(o, "title")) {
            case_json_kv(&b, "title", str(o, "title"));
            buf_adds(&b, ",");
        }
        case_json_kv(&b, which ? "details" : "text", text);
        const char *url = which == 1 ? str(o, "url") : NULL, *date = which ? str(o, "date") : NULL;
        int64_t us;
        if (url && (strncmp(url, "https://", 8) == 0 || strncmp(url, "http://", 7) == 0)) {
            buf_adds(&b, ",");
            case_json_kv(&b, "url", url);
        }
        if (date && accord_instant_parse(date, &us) == 0) {
            buf_adds(&b, ",");
            case_json_kv(&b, "date", date);
        }
        if (nid)
            buf_printf(&b, ",\"product_ids\":[%s]", ids.p);
        buf_adds(&b, "}");
        buf_free(&ids);
    }
    char *out = n && !b.failed ? buf_take(&b, NULL) : NULL;
    buf_free(&b);
    return out;
}

/* Fills d from the vulnerability object v; -1 when memory ran out. */
static int load(const ajson_value *v, case_data *d)
{
    const ajson_value *refs = ajson_get(v, "external_references"),
                      *prods = ajson_get(v, "x_accord_products"),
                      *cvss = ajson_get(v, "x_accord_cvss");
    const char *name = str(v, "name"), *source = "vendor";
    char e[200];
    size_t nrefs = refs && refs->type == AJSON_ARRAY ? refs->len : 0;
    size_t np = prods && prods->type == AJSON_ARRAY ? prods->len : 0;
    d->title = dup_or_null(name);
    d->summary = dup_or_null(str(v, "description"));
    d->cve = name && cve_id_check(name, e, sizeof(e)) == 0 ? strdup(name) : NULL;
    d->vuln_id = dup_or_null(str(v, "id"));
    d->refs = calloc(nrefs + 1, sizeof(*d->refs));
    d->p = calloc(np + 1, sizeof(*d->p));
    d->v = calloc(np + 1, sizeof(*d->v));
    d->revs = calloc(1, sizeof(*d->revs));
    if (!d->title || !d->refs || !d->p || !d->v || !d->revs)
        return -1;
    for (size_t i = 0; i < nrefs; i++) {
        const ajson_value *r = &refs->u.items[i];
        const char *src = str(r, "source_name"), *id = str(r, "external_id"), *url = str(r, "url");
        if (src && id && strcmp(src, "cwe") == 0 && !d->cwe && cwe_id_check(id, e, sizeof(e)) == 0)
            d->cwe = strdup(id);
        else if (src && id && strcmp(src, "cve") != 0 && strcmp(src, "cwe") != 0 &&
                 !d->id[0]) { /* the source advisory: its publisher and tracking (or OSV) id */
            snprintf(d->id, sizeof(d->id), "%s", id);
            source = src;
        }
        if (url && (strncmp(url, "https://", 8) == 0 || strncmp(url, "http://", 7) == 0))
            d->refs[d->nrefs++] = strdup(url);
    }
    if (!d->id[0])
        snprintf(d->id, sizeof(d->id), "%s", name ? name : "advisory");
    for (size_t i = 0; cvss && cvss->type == AJSON_ARRAY && i < cvss->len; i++) {
        const char *vec = str(&cvss->u.items[i], "vector");
        if (vec && strncmp(vec, "CVSS:3", 6) == 0 && !d->cvss3)
            d->cvss3 = strdup(vec);
        else if (vec && strncmp(vec, "CVSS:4", 6) == 0 && !d->cvss4)
            d->cvss4 = strdup(vec);
    }
    for (size_t i = 0; i < np; i++) {
        const ajson_value *p = &prods->u.items[i];
        const char *vendor = str(p, "vendor") ? str(p, "vendor") : source;
        if (vendor_index(d, vendor) < 0) {
            case_vendor *cv = &d->v[d->nv++];
            cv->vid = (int64_t)d->nv;
            cv->name = strdup(vendor);
            cv->status = strdup("unknown");
            if (!cv->name || !cv->status)
                return -1;
        }
        case_product *cp = &d->p[d->np++];
        char range[300] = "";
        const char *intro = str(p, "introduced"), *fixed = str(p, "fixed");
        int versions = intro && str(p, "purl") == NULL && strcmp(status_of(str(p, "status")),
                                                                 "affected") == 0;
        if (versions && fixed) /* OSV: the fixed version ends the affected range */
            snprintf(range, sizeof(range), ">=%s,<%s", intro, fixed);
        cp->pid = (int64_t)d->np;
        cp->vendor = strdup(vendor);
        cp->name = strdup(str(p, "name") ? str(p, "name") : str(p, "product_id") ? str(p, "product_id") : "product");
        cp->purl = dup_or_null(str(p, "purl"));
        cp->cpe = str(p, "cpe") && cpe23_check(str(p, "cpe"), e, sizeof(e)) == 0
                      ? strdup(str(p, "cpe"))
                      : NULL;
        cp->status = strdup(status_of(str(p, "status")));
        cp->affected = range[0] ? strdup(range) : NULL;
        cp->fixed = range[0] ? strdup(fixed) : NULL;
        if (!cp->vendor || !cp->name || !cp->status)
            return -1;
    }
    d->x_notes = carried(v, 0, d->summary);
    d->x_remediations = carried(v, 1, NULL);
    d->x_threats = carried(v, 2, NULL);
    return 0;
}

int accord_csaf_export(accord_store *s, const char *vuln_id, char **json, accord_error *err)
{
    *json = NULL;
    got g = {0};
    int rc = accord_store_get(s, vuln_id, 0, got_record, &g, err);
    if (rc) {
        free(g.body);
        return rc;
    }
    ajson_arena a;
    ajson_arena_init(&a, 0);
    ajson_error je;
    const ajson_value *v = ajson_parse(&a, g.body, g.len, &je);
    const char *type = v ? str(v, "type") : NULL;
    case_data d;
    memset(&d, 0, sizeof(d));
    if (!type || strcmp(type, "vulnerability") != 0) {
        rc = accord_err_set(err, ACCORD_EINVAL, "csaf export: %s is not a vulnerability", vuln_id);
    } else if (load(v, &d)) {
        rc = accord_err_set(err, ACCORD_ENOMEM, "csaf export: out of memory");
    } else {
        int64_t mod = 0;
        accord_timestamp_parse(str(v, "modified"), &mod);
        d.revs[0] = (case_revision){1, mod};
        d.nrevs = 1, d.revision = 1;
        d.created = d.published = d.now = mod;
        publisher(s, &d);
        buf b;
        buf_init(&b, 64u << 20);
        if (!(rc = csaf_render(&d, &b, err)))
            *json = buf_take(&b, NULL);
        buf_free(&b);
    }
    case_data_free(&d);
    ajson_arena_free(&a);
    free(g.body);
    return rc;
}
