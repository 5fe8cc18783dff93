/*
 * accord_case.h - coordinated vulnerability disclosure cases (part of the public API; included by
 * accord.h).
 *
 * A case is one vulnerability under coordinated disclosure: a reporter, one or more coordinators,
 * the vendors whose products it affects (accounts of this node or outside organisations with
 * contacts) and observers.  It holds products (CPE 2.3 and package URLs), per-vendor and
 * per-product status with a statement, a CVE id, a CWE id, CVSS v3.1/v4.0 vectors (scored by
 * accord), threaded messages (private vendor<->coordinator threads among them), a timeline of every
 * event, a vendor response deadline and an embargo with an exact end instant.
 *
 * Who may do what is decided here, not by callers.  `actor` is an account name, or NULL for the
 * node's operator (the local CLI), who acts as a coordinator of every case.  Roles:
 *   coordinator  everything: vendors, products, participants, embargo, publication
 *   reporter     reads the case, posts in shared topics, sets scores and ids before publication
 *   vendor       reads the case, posts (also in its private thread), sets its own status
 *   observer     reads the case and shared topics
 * Until publication after the embargo, a case exists only for its participants: every other
 * account gets ACCORD_ENOTFOUND, as for a case that does not exist, and nothing of the case is
 * in the STIX store (so TAXII, search, get, exports and feeds cannot show it).  Every read of an
 * embargoed case is an audit record.  Publication writes the advisories (CSAF 2.0, OSV) and the
 * STIX vulnerability (TLP:CLEAR) and is refused while the embargo runs.
 *
 * Views are JSON documents (the same the HTTPS API serves); the caller free()s them.
 */
#ifndef ACCORD_CASE_H
#define ACCORD_CASE_H

#include "accord.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ACCORD_CASE_ID_MAX 32    /* bytes of a case id ("CASE-2026-0001") with its NUL */
#define ACCORD_CASE_PAGE_MAX 500 /* most items one list call returns */

/* What a new case starts with (strings may be NULL unless said otherwise). */
typedef struct accord_case_spec {
    const char *title; /* required */
    const char *summary;
    const char *embargo;  /* RFC 3339 instant with offset ("2027-01-15T16:00:00+01:00" or ...Z) */
    const char *deadline; /* vendors' response deadline, RFC 3339 */
    const char *role;     /* the opener's role: "reporter" (default) or "coordinator" */
    const char *coordinator; /* an account added as coordinator, or NULL */
} accord_case_spec;

/* Opens a case; its id goes to id_out (ACCORD_CASE_ID_MAX bytes).  Audited "case-open". */
ACCORD_API int accord_case_open(accord_store *store, const char *actor,
                                const accord_case_spec *spec, char *id_out, accord_error *err);

/*
 * Sets one property: "title", "summary", "cve", "cwe", "cvss" (v3.x or v4.0 vector; replaces the
 * one of the same major version), "embargo", "deadline", "reference" (adds a URL), "indicator"
 * (adds a STIX indicator id the published vulnerability is related to).  Values are checked
 * (ACCORD_EINVAL naming what is wrong).
 */
ACCORD_API int accord_case_set(accord_store *store, const char *case_id, const char *actor,
                               const char *field, const char *value, accord_error *err);

/* Adds (or changes the role of) a participant account: role reporter, coordinator, vendor (then
 * vendor names the case's vendor it speaks for) or observer.  Coordinators only. */
ACCORD_API int accord_case_add_participant(accord_store *store, const char *case_id,
                                           const char *actor, const char *account, const char *role,
                                           const char *vendor, accord_error *err);

/*
 * Adds a vendor: name (an organisation), account (a member account that speaks for it, which
 * becomes a vendor participant; NULL for an outside organisation) and contact (e-mail or URL, for
 * outside organisations).  Coordinators only.  Adding a known vendor again updates it.
 */
ACCORD_API int accord_case_add_vendor(accord_store *store, const char *case_id, const char *actor,
                                      const char *name, const char *account, const char *contact,
                                      accord_error *err);

/* A product of the case. */
typedef struct accord_case_product {
    const char *vendor;   /* NULL: from the purl's vendor profile, else required */
    const char *name;     /* product name; NULL = the purl's name or the CPE's product */
    const char *purl;     /* package URL, or NULL */
    const char *cpe;      /* CPE 2.3 formatted string, or NULL */
    const char *affected; /* affected versions: ">=1.0.0,<2.1.0" style bounds, or NULL */
    const char *fixed;    /* first fixed version, or NULL */
} accord_case_product;

/*
 * Adds a product.  With a purl, every vendor whose profile registers a covering purl prefix is
 * added to the case (with its member account as participant); names of the vendors added this way
 * go to cb (may be NULL).  Coordinators and reporters.
 */
ACCORD_API int accord_case_add_product(accord_store *store, const char *case_id, const char *actor,
                                       const accord_case_product *product,
                                       void (*cb)(void *ud, const char *vendor), void *ud,
                                       accord_error *err);

/*
 * Sets a status: unknown, under_investigation, affected, not_affected or fixed, with a statement,
 * for a vendor as a whole (product NULL) or one of its products (by name).  A vendor participant
 * may set only its own; coordinators any.
 */
ACCORD_API int accord_case_status(accord_store *store, const char *case_id, const char *actor,
                                  const char *vendor, const char *product, const char *status,
                                  const char *statement, accord_error *err);

/*
 * Posts a message in topic (NULL = "general"); private_vendor names a vendor whose private thread
 * with the coordinators it goes to (NULL = shared with every participant).  Message seq to *seq.
 */
ACCORD_API int accord_case_post(accord_store *store, const char *case_id, const char *actor,
                                const char *topic, const char *private_vendor, const char *body,
                                int64_t *seq, accord_error *err);

/* Lifts the embargo now (coordinators only), with a reason kept in the timeline. */
ACCORD_API int accord_case_lift(accord_store *store, const char *case_id, const char *actor,
                                const char *reason, accord_error *err);

/*
 * Publishes (or re-publishes, as the next revision) the case: refused with ACCORD_EINVAL while the
 * embargo runs.  Writes the CSAF 2.0 advisory, an OSV record per affected package with a purl, a
 * CVE JSON 5 record when the case has a CVE id, and the STIX vulnerability (TLP:CLEAR, with a note per vendor statement and relationships to the
 * linked indicators) into the store's default collection, in one transaction.  Coordinators only.
 */
ACCORD_API int accord_case_publish(accord_store *store, const char *case_id, const char *actor,
                                   accord_error *err);

enum accord_case_view_kind {
    ACCORD_CASE_VIEW_CASE = 0, /* the case: properties, embargo, scores, participants */
    ACCORD_CASE_VIEW_VENDORS,  /* vendors with their products and statuses (paged by vendor) */
    ACCORD_CASE_VIEW_MESSAGES, /* messages the actor may read (paged by seq), topic filter */
    ACCORD_CASE_VIEW_TIMELINE, /* events (paged by seq); participants only */
    ACCORD_CASE_VIEW_CSAF,     /* the latest published CSAF document */
    ACCORD_CASE_VIEW_OSV,      /* the latest published OSV records, as a JSON array */
    ACCORD_CASE_VIEW_STIX,     /* the STIX bundle the case publishes (participants before) */
    ACCORD_CASE_VIEW_CVE,      /* the latest published CVE JSON 5 record (cases with a CVE id) */
};

/* Paging and filters of a view. */
typedef struct accord_case_page {
    int64_t after;      /* keyset cursor: items after this one (0 = from the start) */
    unsigned limit;     /* 1..ACCORD_CASE_PAGE_MAX; 0 = 100 */
    const char *topic;  /* messages: only this topic, or NULL */
    const char *vendor; /* vendors: only this one, or NULL */
} accord_case_page;

/*
 * Renders a view as JSON into *json (free() it).  Lists are {"items":[...],"more":bool,
 * "next":CURSOR}.  ACCORD_ENOTFOUND when the case does not exist for actor.  Reads of an embargoed
 * case are audited as "case-read" with the account and view, so store must be writable then.
 */
ACCORD_API int accord_case_view(accord_store *store, const char *case_id, const char *actor,
                                int view, const accord_case_page *page, char **json,
                                accord_error *err);

/* The cases actor may see, newest first, as a JSON list paged by case number. */
ACCORD_API int accord_case_list(accord_store *store, const char *actor,
                                const accord_case_page *page, char **json, accord_error *err);

/*
 * Registers (or with purl NULL, lists nothing and removes every prefix of) a vendor profile: the
 * purl prefix ("pkg:npm/%40acme", "pkg:maven/org.acme") the vendor ships under, the member account
 * that speaks for it (or NULL) and a contact.  Operator or admins.
 */
ACCORD_API int accord_vendor_profile_set(accord_store *store, const char *vendor,
                                         const char *purl_prefix, const char *account,
                                         const char *contact, accord_error *err);

/* Sets the CSAF publisher every advisory names (default "accord", https://accord.invalid). */
ACCORD_API int accord_case_publisher_set(accord_store *store, const char *name,
                                         const char *namespace_url, accord_error *err);

/*
 * Sets the CNA that CVE JSON 5 records name: its CVE Program organisation UUID (version 4) and
 * short name (2..32 characters, or NULL).  Without it a record carries a UUID derived from the
 * publisher namespace, fit for review but not for submission.
 */
ACCORD_API int accord_case_cna_set(accord_store *store, const char *org_id, const char *short_name,
                                   accord_error *err);

/*
 * Writes the CSAF 2.0 provider directory of every published advisory (latest revisions) into dir,
 * which a web server maps to https://NAMESPACE/.well-known/csaf/: provider-metadata.json, and
 * under white/: YEAR/NAME.json with .sha256 and .sha512, index.txt, changes.csv and the ROLIE
 * feed csaf-feed-tlp-white.json.  With sign_key (a fingerprint in the GnuPG home, $GNUPGHOME),
 * each advisory also gets a detached armored OpenPGP signature NAME.json.asc (CSAF 7.1.19) and
 * the public key is written to openpgp/FPR.asc and listed in the metadata.
 */
ACCORD_API int accord_csaf_provider_write(accord_store *store, const char *dir,
                                          const char *sign_key, accord_error *err);

/*
 * Sets the OpenPGP key (a fingerprint of a secret key in the GnuPG home, $GNUPGHOME, which must
 * be able to sign) that `accord serve` signs the advisories of /.well-known/csaf/ with; NULL or ""
 * removes it (no signatures).  The server's GnuPG home must hold the key too.
 */
ACCORD_API int accord_csaf_sign_key_set(accord_store *store, const char *fpr, accord_error *err);

/* Formats of vendors' advisories accord imports. */
enum { ACCORD_ADVISORY_CSAF = 1, ACCORD_ADVISORY_OSV = 2 };

/*
 * Imports one vendor advisory (a CSAF 2.0 document or an OSV record, text[0..len)) into the store
 * as STIX: a vulnerability per CSAF vulnerability (or the OSV record) with its products, CVSS
 * vectors and references, and notes; marked with the document's TLP.  name names the input in
 * errors and the audit log.  Bad input is refused before anything is stored, with the JSON path
 * and the rule ("$.vulnerabilities[0].product_status.fixed[1]: product id X is not defined (rule
 * 6.1.1)"); the objects of one document are one transaction.  collection: id or alias, NULL =
 * default.  ACCORD_EINVAL for a refused document, else accord_import_fd's codes.
 */
ACCORD_API int accord_advisory_import(accord_store *store, int format, const char *name,
                                      const char *text, size_t len, const char *collection,
                                      accord_import_stats *st, accord_error *err);

/*
 * Writes the stored vulnerability vuln_id (imported from a vendor's advisory) as this node's CSAF
 * 2.0 csaf_security_advisory into *json (free() it): its products, statuses, CVE, CWE, CVSS and
 * references, the source advisory's tracking id, one revision dated by its modified.
 */
ACCORD_API int accord_csaf_export(accord_store *store, const char *vuln_id, char **json,
                                  accord_error *err);

/* Parses an RFC 3339 instant with any offset ("...+02:00", "...Z") to microseconds. */
ACCORD_API int accord_instant_parse(const char *text, int64_t *us);

#ifdef __cplusplus
}
#endif

#endif
