/*
 * case_int.h - what the files of the disclosure subsystem share: a case loaded whole into memory
 * (case_store.c loads it; csaf.c, osv.c and case_stix.c render publications from it without
 * touching the store).
 */
#ifndef ACCORD_CASE_INT_H
#define ACCORD_CASE_INT_H

#include "accord.h"
#include "accord_case.h"
#include "util/buf.h"
#include "util/json.h"

#include <stdint.h>

typedef struct case_vendor {
    int64_t vid;
    char *name, *account, *contact, *status, *statement;
    int64_t responded, added; /* 0 = never */
} case_vendor;

typedef struct case_product {
    int64_t pid;
    char *vendor, *name, *purl, *cpe, *affected, *fixed, *status, *statement;
    int64_t updated;
} case_product;

typedef struct case_revision {
    int number;
    int64_t date; /* µs */
} case_revision;

typedef struct case_data {
    int64_t cid;
    char id[256]; /* the case id; a re-published advisory: the source's tracking id, whole */
    char *title, *summary, *cve, *cwe, *cvss3, *cvss4, *vuln_id, *embargo_text, *reporter;
    int64_t created, embargo_end, lifted, deadline, published; /* µs, 0 = none */
    int revision;                                              /* published revisions so far */
    case_vendor *v;
    size_t nv;
    case_product *p;
    size_t np;
    char **refs, **indicators;
    size_t nrefs, nind;
    case_revision *revs; /* oldest first, nrevs == revision */
    size_t nrevs;
    int64_t now; /* the instant the publication is rendered for */
    char publisher_name[128], publisher_namespace[256]; /* CSAF document.publisher */
    char cve_org[37], cve_short[33]; /* the CNA's CVE Program UUID and short name, "" = unset */
    /* what an advisory re-published from a vendor's (csaf_republish.c) carries over: CSAF
     * vulnerability notes, remediations and threats as comma-separated JSON objects naming this
     * document's product ids; NULL = none */
    char *x_notes, *x_remediations, *x_threats;
} case_data;

/* Frees what a case_data holds (every string is its own) and zeroes it. */
void case_data_free(case_data *d);

/* The status a vendor shows: "no_response" when still unknown after the deadline. */
const char *case_vendor_shown_status(const case_data *d, const case_vendor *v);

/* Refusals for lack of a role say "not allowed: " after the case id, so that the HTTPS API
 * answers them 403 rather than 400. */
#define CASE_NOT_ALLOWED "not allowed: "

/* A product's status: its own, or while that is unknown, its vendor's. */
const char *case_product_status(const case_data *d, const case_product *p);

/* The CSAF 2.0 csaf_security_advisory of d, as JSON into out.  0, or ACCORD_ENOMEM / EINVAL. */
int csaf_render(const case_data *d, buf *out, accord_error *err);
/* The OSV record of product p of d (p must have a purl of an OSV ecosystem); 0, or -1 to skip. */
int osv_render(const case_data *d, const case_product *p, buf *out);
/* The STIX 2.1 bundle of d: vulnerability, notes, relationships to indicators, TLP:CLEAR. */
int case_stix_render(const case_data *d, buf *out);

/* The CVE JSON 5 record (state PUBLISHED, CNA container) of d; ACCORD_EINVAL without a CVE id. */
int case_cve_render(const case_data *d, buf *out, accord_error *err);

/* The STIX bundle of a vendor advisory (ACCORD_ADVISORY_CSAF or _OSV; csaf_import.c): 0, or -1
 * with err naming the JSON path and the rule.  Pure: the fuzz target's entry. */
int advisory_to_stix(int format, const char *text, size_t len, buf *out, char *err,
                     size_t errlen);

/* The CSAF 2.0 mandatory tests 6.1.x that advisory_to_stix does not run itself (csaf_check.c),
 * on a parsed document: 0, or -1 with "$.path: what (rule 6.1.N)" in err. */
int csaf_mandatory_check(const ajson_value *root, char *err, size_t errlen);

/* Writes "key":"value" (NULL as "") without printf. */
void case_json_kv(buf *b, const char *key, const char *v);
/* The version after bound op (">=", "<=", "<") in an "a,b" or "a|b" list, into out; 0 when
 * found, -1 when not. */
int case_bound(const char *affected, const char *op, char *out, size_t outlen);
/* The CSAF file name of a tracking id (CSAF 2.0 section 5.1: lower case, [+-a-z0-9] kept, others
 * '_', ".json"), and the URL of d's advisory in the provider directory (section 7.1.11:
 * NAMESPACE/.well-known/csaf/white/YEAR/NAME). */
void case_csaf_filename(const char *tracking_id, char *out, size_t outlen);
void case_csaf_url(const case_data *d, char *out, size_t outlen);

/* Formats µs as "YYYY-MM-DDTHH:MM:SSZ" (seconds precision, what CSAF and OSV carry). */
void case_time(int64_t us, char *out, size_t outlen);
/* The CWE name the CWE list gives id, or NULL when accord does not carry it. */
const char *case_cwe_name(const char *cwe_id);

#endif
