/*
 * stix.h - validation of one STIX 2.x object by the STIX 2.1 specification's MUST rules.
 *
 * The one parser+validator every ingest path uses (import, TAXII POST, federation): it takes a
 * parsed JSON object (src/util/json.h) and says whether it is a valid STIX object, and if not, the
 * first rule it breaks, naming the property.  It does not touch the store.
 */
#ifndef ACCORD_STIX_H
#define ACCORD_STIX_H

#include "tlp.h"
#include "util/json.h"

typedef enum stix_kind {
    STIX_KIND_SDO = 1,  /* domain objects: attack-pattern ... vulnerability */
    STIX_KIND_SRO,      /* relationship, sighting */
    STIX_KIND_SCO,      /* cyber-observables: artifact ... x509-certificate */
    STIX_KIND_META,     /* language-content, marking-definition, extension-definition */
    STIX_KIND_CUSTOM,   /* a custom object type (not in the specification) */
} stix_kind;

/* What the store needs of a valid object.  Pointers point into the json tree. */
typedef struct stix_info {
    const char *id;
    const char *type;
    const char *created;  /* NULL when the object has none (SCOs) */
    const char *modified; /* NULL when the object has none (SCOs, marking-definitions) */
    const char *spec_version; /* "2.1", or "2.0" when the object carries none and is a 2.0 object */
    int revoked;
    stix_kind kind;
    tlp_label label; /* its TLP, producer, recipients, what a sighting reveals (tlp.h) */
    const ajson_value *obj; /* the validated object (the store copies an indicator's pattern,
                               validity, confidence and name beside its row from it) */
} stix_info;

/* Why an object is invalid: the first broken rule. */
typedef struct stix_problem {
    char property[128]; /* JSON path of the property at fault ("external_references[1].url"),
                           "" for the object as a whole */
    char rule[48];      /* stable rule name, e.g. "required-property", "timestamp-format" */
    char message[320];  /* one line naming the property, the rule and the offending value */
} stix_problem;

/*
 * Validates obj.  Returns 0 when valid, with *info filled; ACCORD_ESTIX when not, with *prob
 * filled (info is then partially filled: id and type when they were usable).
 * `bundle_spec` is the spec_version of the enclosing STIX 2.0 bundle ("2.0") or NULL; an SDO or
 * SRO without spec_version is validated as STIX 2.0.
 */
int stix_validate(const ajson_value *obj, const char *bundle_spec, stix_info *info,
                  stix_problem *prob);

/* The kind of a type name, or STIX_KIND_CUSTOM for a type the specification does not define. */
stix_kind stix_type_kind(const char *type);

#endif
