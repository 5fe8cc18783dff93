/*
 * stix_int.h - what the two halves of the STIX validator share.
 *
 * stix.c is the machinery: bounded message building, failure reports, the lexical rules, one
 * checking function per property kind, objects checked member by member against property tables,
 * extensions, and stix_validate.  stix_types.c is the specification written down as data: the
 * property table of every type and nested structure, the predefined SCO extensions, the type
 * table, and the rules that relate several properties of one type.  Each side calls the other only
 * through the names below; nothing here is part of libaccord's API.
 */
#ifndef ACCORD_STIX_INT_H
#define ACCORD_STIX_INT_H

#include "stix.h"

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define PRINTF_LIKE(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define PRINTF_LIKE(fmt, args)
#endif

/* The size of every JSON path buffer: the size of stix_problem.property. */
#define PATH_LEN sizeof(((stix_problem *)0)->property)

/* The validation context, one per stix_validate call. */
typedef struct vctx {
    const ajson_value *root;   /* the top-level object: granular marking selectors start here */
    const char *type;          /* type of the object being checked (an embedded one, inside
                                  observed-data "objects") */
    const ajson_value *locals; /* observed-data "objects" while its observables are checked: their
                                 references are keys of this dictionary, not ids */
    stix_problem *prob;
    int v20; /* checking by STIX 2.0 rules */
} vctx;

static inline int is_lower(int ch)
{
    return ch >= 'a' && ch <= 'z';
}

static inline int is_digit(int ch)
{
    return ch >= '0' && ch <= '9';
}

/* The tables are data, one row per line: clang-format leaves them alone. */
/* clang-format off */

enum pkind {
    K_ANY,     /* checked elsewhere, or anything goes */
    K_STR,     /* string */
    K_INT,     /* integer (F_RANGE: within min..max) */
    K_NUM,     /* number (F_RANGE: within min..max) */
    K_BOOL,    /* boolean */
    K_TS,      /* timestamp */
    K_TSMS,    /* created / modified: a timestamp precise to the millisecond (2.1) */
    K_REF,     /* identifier of an object of an allowed type (arg) */
    K_REFS,    /* non-empty list of K_REF */
    K_STRS,    /* non-empty list of strings */
    K_ENUM,    /* one of the words of arg */
    K_ENUMS,   /* non-empty list of K_ENUM */
    K_DICT,    /* non-empty dictionary */
    K_HASHES,  /* hashes dictionary */
    K_BIN,     /* base64 */
    K_HEX,     /* hex */
    K_SUB,     /* an object with the properties of table sub */
    K_SUBS,    /* non-empty list of K_SUB */
    K_EXTS,    /* the extensions dictionary */
    K_OBJMAP,  /* observed-data objects: a dictionary of embedded observables */
    K_NKINDS
};

enum {
    F_REQ = 1,   /* required by STIX 2.0 and 2.1 */
    F_REQ21 = 2, /* required by STIX 2.1 */
    F_RANGE = 4, /* min..max apply */
};

typedef struct ptable ptable;

typedef struct prop {
    const char *name;
    unsigned char kind;  /* enum pkind */
    unsigned char flags; /* F_* */
    const char *arg;     /* K_REF(S): allowed target types and classes; K_ENUM(S): the values */
    const ptable *sub;   /* K_SUB(S): the nested object's table */
    int64_t min, max;    /* F_RANGE */
} prop;

/* A set of properties and the rule relating them (may be NULL), called once the members pass. */
struct ptable {
    const prop *props; /* ends with a row whose name is NULL */
    int (*rule)(vctx *c, const char *path, const ajson_value *o);
};

#define P(n, k, f) {.name = (n), .kind = (k), .flags = (f)}
#define PA(n, k, f, a) {.name = (n), .kind = (k), .flags = (f), .arg = (a)}
#define PR(n, k, f, lo, hi) {.name = (n), .kind = (k), .flags = (f) | F_RANGE, .min = (lo), .max = (hi)}
#define PS(n, k, f, s) {.name = (n), .kind = (k), .flags = (f), .sub = (s)}
#define PEND {.name = NULL}

/* Reference targets: type names, and the classes of stix_type_kind. */
#define T_SDO_SCO "SDO SCO CUSTOM"
#define T_ANY "SDO SRO SCO META CUSTOM"

#define EXTENSION_TYPES "new-sdo new-sco new-sro property-extension toplevel-property-extension"

/* clang-format on */

/* A predefined extension of an SCO type (spec 6.x): its name, the type it extends, its table. */
typedef struct ext_def {
    const char *name;
    const char *owner; /* the SCO type it extends */
    const prop *props;
} ext_def;

/* One type of the specification: its kind, whether STIX 2.0 knew it, its table and rule. */
typedef struct type_def {
    const char *type;
    stix_kind kind;
    int in20; /* the type exists in STIX 2.0 */
    ptable t;
} type_def;

/* ------------------------------------------------------------------------------------------ */
/* stix.c: failure reports, paths, value and object checks, helpers of the per-type rules     */

/*
 * Records the problem: the property path, the rule, and the message
 * `property "<path>": <value> <detail> (rule <rule>)`.  Returns ACCORD_ESTIX.
 */
int stix_fail(vctx *c, const char *path, const char *rule, const ajson_value *v, const char *fmt,
              ...) PRINTF_LIKE(5, 6);

/* JSON paths into out (PATH_LEN bytes): base + ".key" (or "key" at the root), base + "[i]". */
void stix_path_key(char *out, const char *base, const char *key);
void stix_path_index(char *out, const char *base, size_t i);

/* 0 when v has JSON type t, else fails with rule property-type ("is not <what>"). */
int stix_want(vctx *c, const char *path, const ajson_value *v, ajson_type t, const char *what);

/* Checks value v (at path) as property p says: the function of its kind. */
int stix_check_value(vctx *c, const char *path, const ajson_value *v, const prop *p);

/* Fails with rule required-property on the first required property of t that o lacks. */
int stix_check_required(vctx *c, const char *base, const ajson_value *o, const prop *t);

/* The row of table t (may be NULL) named key, or NULL. */
const prop *stix_prop_find(const prop *t, const char *key);

/*
 * Fails with `rule` unless property `late` is after (strict) or not before property `early`.
 * Both have passed their timestamp checks already; absent ones are not compared.
 */
int stix_check_order(vctx *c, const char *base, const ajson_value *o, const char *early,
                     const char *late, int strict, const char *rule);

/* Rule at-least-one: o has one of the space-separated properties `names`. */
int stix_need_one_of(vctx *c, const char *base, const ajson_value *o, const char *names);

/* Rule mutually-exclusive: o does not have both a and b. */
int stix_not_both(vctx *c, const char *base, const ajson_value *o, const char *a, const char *b);

/* Rule co-required: when o has a it has b (`why` completes "required when ..."). */
int stix_needs(vctx *c, const char *base, const ajson_value *o, const char *a, const char *b,
               const char *why);

/* 1 when v is JSON true. */
int stix_is_true(const ajson_value *v);

/* ------------------------------------------------------------------------------------------ */
/* stix_types.c: the tables                                                                   */

extern const prop
    stix_sdo_common[]; /* SDOs, SROs, language-content, extension-definition, custom */
extern const prop stix_sco_common[];   /* SCOs */
extern const prop stix_md_common[];    /* marking-definition */
extern const ptable stix_custom_table; /* a custom type: no properties beyond the common ones */
extern const ext_def stix_predefined_exts[];
extern const size_t stix_n_predefined_exts;

/* The type table's row of type, or NULL for a type the specification does not define. */
const type_def *stix_type_find(const char *type);

#endif
