/*
 * csaf_check.c - the CSAF 2.0 mandatory tests (specification section 6.1) that csaf_import.c does
 * not run while it reads the product tree and the vulnerabilities: a vendor's document failing
 * any of them is refused with the JSON path, what is wrong and the test's number.
 *
 * The tests run in the specification's order and the first failure is reported, so a document
 * built to break one test (the OASIS test files are) is refused naming that test.  Each follows
 * the specification's text; where the reference validator library reads it differently the text
 * decides:
 *   - 6.1.21 sorts the revision history by date and, for revisions of the same date, by number
 *     (the library keeps the document's order, and so refuses valid histories whose revisions
 *     share a date but are listed newest first);
 *   - 6.1.26 compares the category with every profile's name and value with '_', '-' and white
 *     space ignored, so "csafsecurityadvisory" is refused (the library compares names only).
 * Limits: 6.1.12 checks a language tag's BCP 47 syntax and its two-letter primary language against ISO
 * 639-1 (three-letter languages, scripts and regions only by syntax).
 *
 * Inputs are outside data: every array is walked once or pairwise (the document is at most 64 MiB
 * and pairwise lists are those of one vulnerability or the product tree); recursion is bounded by
 * the branch depth csaf_import.c already caps at 30.
 */
#include "case_ident.h"
#include "case_int.h"
#include "cvss.h"
#include "util/json.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct chk {
    const ajson_value *root, *doc, *groups, *vulns;
    const char *cat; /* the document's category, NULL when it has none */
    char *err;
    size_t errlen;
    int failures; /* tests failed so far; each one is reported */
} chk;

static int bad(chk *k, const char *path, const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int bad(chk *k, const char *path, const char *rule, const char *fmt, ...)
{
    char m[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof(m), fmt, ap);
    va_end(ap);
    /* every failed test is named: the first with its path and text, the others too while they
     * fit in 300 bytes (the error names the file as well, in 512), else by path and number */
    size_t used = k->failures ? strlen(k->err) : 0;
    char one[600];
    int n = snprintf(one, sizeof(one), "%s%s: %s (rule %s)", k->failures ? "; " : "", path, m,
                     rule);
    if (n > 0 && (!k->failures || used + (size_t)n < 300) && used + (size_t)n < k->errlen)
        memcpy(k->err + used, one, (size_t)n + 1);
    else if (used < k->errlen)
        snprintf(k->err + used, k->errlen - used, "; %.80s (rule %s)", path, rule);
    k->failures++;
    return -1;
}

static const ajson_value *get(const ajson_value *o, const char *key)
{
    return o && o->type == AJSON_OBJECT ? ajson_get(o, key) : NULL;
}

static const char *str(const ajson_value *o, const char *key)
{
    return ajson_str(get(o, key));
}

static size_t alen(const ajson_value *v)
{
    return v && v->type == AJSON_ARRAY ? v->len : 0;
}

static const ajson_value *item(const ajson_value *v, size_t i)
{
    return &v->u.items[i];
}

static int eq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/* 1 when the string array v holds s. */
static int has_str(const ajson_value *v, const char *s)
{
    for (size_t i = 0; i < alen(v); i++)
        if (eq(ajson_str(item(v, i)), s))
            return 1;
    return 0;
}

/* The product ids of group id (NULL when there is no such group). */
static const ajson_value *group_products(const chk *k, const char *id)
{
    for (size_t i = 0; i < alen(k->groups); i++)
        if (eq(str(item(k->groups, i), "group_id"), id))
            return get(item(k->groups, i), "product_ids");
    return NULL;
}

/* 1 when o names product id directly or through one of its groups. */
static int names_product(const chk *k, const ajson_value *o, const char *id)
{
    if (has_str(get(o, "product_ids"), id))
        return 1;
    const ajson_value *g = get(o, "group_ids");
    for (size_t i = 0; i < alen(g); i++)
        if (has_str(group_products(k, ajson_str(item(g, i))), id))
            return 1;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Versions: semantic versioning 2.0.0, or an integer                                          */

typedef struct semver {
    uint64_t v[3];
    const char *pre; /* the pre-release part (after '-'), NULL when none */
    size_t prelen;
} semver;

/* A numeric identifier: digits without a leading zero, at most 18 of them. */
static const char *sv_num(const char *s, uint64_t *out)
{
    if (!isdigit((unsigned char)*s) || (s[0] == '0' && isdigit((unsigned char)s[1])))
        return NULL;
    uint64_t n = 0;
    int d = 0;
    for (; isdigit((unsigned char)*s); s++)
        if (++d > 18)
            return NULL;
        else
            n = n * 10 + (uint64_t)(*s - '0');
    *out = n;
    return s;
}

/* Dot-separated identifiers of [0-9A-Za-z-]; numeric ones (pre-release) without leading zero. */
static const char *sv_idents(const char *s, int pre)
{
    for (;;) {
        const char *b = s;
        int digits = 1;
        while (isalnum((unsigned char)*s) || *s == '-')
            digits &= isdigit((unsigned char)*s++) != 0;
        if (s == b || (pre && digits && *b == '0' && s - b > 1))
            return NULL;
        if (*s != '.')
            return s;
        s++;
    }
}

static int sv_parse(const char *s, semver *out)
{
    memset(out, 0, sizeof(*out));
    if (!s)
        return -1;
    for (int i = 0; i < 3; i++) {
        if (!(s = sv_num(s, &out->v[i])) || (i < 2 && *s++ != '.'))
            return -1;
    }
    if (*s == '-') {
        out->pre = ++s;
        if (!(s = sv_idents(s, 1)))
            return -1;
        out->prelen = (size_t)(s - out->pre);
    }
    if (*s == '+' && !(s = sv_idents(s + 1, 0)))
        return -1;
    return *s ? -1 : 0;
}

/* Precedence of pre-release parts (semver 2.0.0 item 11): <0, 0, >0. */
static int sv_pre_cmp(const semver *a, const semver *b)
{
    if (!a->pre || !b->pre)
        return !a->pre - !b->pre; /* none ranks higher */
    const char *p = a->pre, *q = b->pre, *pe = a->pre + a->prelen, *qe = b->pre + b->prelen;
    while (p < pe && q < qe) {
        size_t lp = strcspn(p, ".+"), lq = strcspn(q, ".+");
        lp = lp > (size_t)(pe - p) ? (size_t)(pe - p) : lp;
        lq = lq > (size_t)(qe - q) ? (size_t)(qe - q) : lq;
        int np = strspn(p, "0123456789") >= lp, nq = strspn(q, "0123456789") >= lq;
        int c;
        if (np && nq)
            c = lp != lq ? (lp < lq ? -1 : 1) : strncmp(p, q, lp);
        else if (np != nq)
            c = np ? -1 : 1;
        else {
            c = strncmp(p, q, lp < lq ? lp : lq);
            if (!c)
                c = lp < lq ? -1 : lp > lq;
        }
        if (c)
            return c;
        p += lp + 1, q += lq + 1;
    }
    return (p < pe) - (q < qe);
}

static int sv_cmp(const semver *a, const semver *b)
{
    for (int i = 0; i < 3; i++)
        if (a->v[i] != b->v[i])
            return a->v[i] < b->v[i] ? -1 : 1;
    return sv_pre_cmp(a, b);
}

/* The leading integer of a version (its major number), as JavaScript's parseInt reads it; -1
 * when it starts with none. */
static int64_t lead_int(const char *s)
{
    if (!s || !isdigit((unsigned char)*s))
        return -1;
    int64_t n = 0;
    for (int d = 0; isdigit((unsigned char)*s) && d < 18; s++, d++)
        n = n * 10 + (*s - '0');
    return n;
}

/* 1 when s is an integer version in canonical form ("0", "12"; not "012"). */
static int is_int_version(const char *s)
{
    uint64_t n;
    const char *e = s ? sv_num(s, &n) : NULL;
    return e && !*e;
}

/* ------------------------------------------------------------------------------------------ */
/* Revision history (6.1.14 - 6.1.22, 6.1.30)                                                   */

typedef struct rev {
    const char *num;
    int64_t date;
    size_t idx;
    semver sv;
    int is_sv;
} rev;

/* Ascending by date, then by version (major number; then semantic precedence when both are
 * semantic versions, a semantic one first otherwise), then by text and position.  Each key is a
 * total preorder, so the order is transitive whatever the document holds (qsort needs that). */
static int rev_order(const void *pa, const void *pb)
{
    const rev *a = pa, *b = pb;
    if (a->date != b->date)
        return a->date < b->date ? -1 : 1;
    int64_t x = lead_int(a->num), y = lead_int(b->num);
    if (x != y)
        return x < y ? -1 : 1;
    if (a->is_sv != b->is_sv)
        return a->is_sv ? -1 : 1;
    int c = a->is_sv ? sv_cmp(&a->sv, &b->sv) : 0;
    if (!c)
        c = strcmp(a->num, b->num);
    return c ? c : (a->idx > b->idx) - (a->idx < b->idx);
}

/* A version as a semantic version: itself, or N.0.0 for an integer N. */
static int as_semver(const rev *r, semver *out)
{
    if (r->is_sv) {
        *out = r->sv;
        return 0;
    }
    if (!is_int_version(r->num))
        return -1;
    memset(out, 0, sizeof(*out));
    sv_num(r->num, &out->v[0]);
    return 0;
}

/* The version without build metadata (and, for a draft, without its pre-release part). */
static size_t version_core(const char *v, int draft)
{
    return strcspn(v, draft ? "+-" : "+");
}

/* The path of the number of revision i of the history. */
static void number_path(char *path, size_t size, size_t i)
{
    snprintf(path, size, "$.document.tracking.revision_history[%zu].number", i);
}

static int tracking_checks(chk *k)
{
    const ajson_value *tr = get(k->doc, "tracking"), *rh = get(tr, "revision_history");
    const char *status = str(tr, "status"), *version = str(tr, "version");
    int final = eq(status, "final") || eq(status, "interim");
    semver tv;
    int tv_ok = version && sv_parse(version, &tv) == 0;
    size_t n = alen(rh);
    char path[160];
    if (rh && rh->type != AJSON_ARRAY)
        return bad(k, "$.document.tracking.revision_history", "schema", "an array is expected");
    rev *r = calloc(n + 1, sizeof(*r));
    if (!r)
        return bad(k, "$.document.tracking.revision_history", "memory", "out of memory");
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        const ajson_value *e = item(rh, i);
        r[i].num = str(e, "number");
        r[i].idx = i;
        const char *date = str(e, "date");
        snprintf(path, sizeof(path), "$.document.tracking.revision_history[%zu]", i);
        if (!r[i].num || !date)
            rc = bad(k, path, "schema", "number and date are required (strings)");
        else if (accord_instant_parse(date, &r[i].date))
            rc = bad(k, path, "schema", "date \"%.60s\" is not an RFC 3339 date-time", date);
        r[i].is_sv = r[i].num && sv_parse(r[i].num, &r[i].sv) == 0;
    }
    if (rc)
        goto out;
    qsort(r, n, sizeof(*r), rev_order);

    /* 6.1.14: sorted by date, the versions ascend (equal versions counted once) */
    semver last;
    int have_last = 0;
    for (size_t i = 0; i < n; i++) {
        semver s;
        int dup = 0;
        for (size_t j = 0; j < i && !dup; j++)
            dup = strcmp(r[j].num, r[i].num) == 0;
        if (dup || as_semver(&r[i], &s))
            continue;
        if (have_last && sv_cmp(&s, &last) <= 0) {
            number_path(path, sizeof(path), r[i].idx);
            rc |= bad(k, path, "6.1.14",
                     "sorted revision history: version %.40s (dated later) is not greater than "
                     "the one before it",
                     r[i].num);
            break;
        }
        last = s, have_last = 1;
    }

    /* 6.1.16: the latest revision (by date, then version) is the document's version */
    if (n && version && status) {
        const char *latest = r[n - 1].num;
        int draft = eq(status, "draft");
        size_t a = version_core(latest, draft), b = version_core(version, draft);
        if (a != b || strncmp(latest, version, a) != 0) {
            rc |= bad(k, "$.document.tracking.version", "6.1.16",
                     "latest document version %.40s does not match the latest revision %.40s",
                     version, latest);
        }
    }

    /* 6.1.17: only a draft has version 0, 0.y.z or a pre-release */
    if (version && status && !eq(status, "draft") &&
        (eq(version, "0") || (tv_ok && (tv.v[0] == 0 || tv.pre)))) {
        rc |= bad(k, "$.document.tracking.status", "6.1.17",
                 "document status %.20s is incompatible with version %.40s", status, version);
    }

    /* 6.1.18: a final or interim document has no revision 0 or 0.y.z */
    for (size_t i = 0; i < n && final && version; i++)
        if (eq(r[i].num, "0") || (r[i].is_sv && r[i].sv.v[0] == 0)) {
            number_path(path, sizeof(path), r[i].idx);
            rc |= bad(k, path, "6.1.18",
                     "released revision history: version %.40s in a %s document", r[i].num,
                     status);
            break;
        }

    /* 6.1.19: no pre-release in the revision history */
    for (size_t i = 0; i < n && version && status; i++)
        if (r[i].is_sv && r[i].sv.pre) {
            number_path(path, sizeof(path), r[i].idx);
            rc |= bad(k, path, "6.1.19", "revision history holds pre-release version %.40s",
                     r[i].num);
            break;
        }

    /* 6.1.20: a final or interim document's version has no pre-release */
    if (final && tv_ok && tv.pre) {
        rc |= bad(k, "$.document.tracking.version", "6.1.20",
                 "non-draft document version %.40s has a pre-release part", version);
    }

    /* 6.1.21: sorted by date (then by number), the major versions start at 0 or 1 and none is
     * skipped */
    int64_t first = -2, seen = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t m = lead_int(r[i].num);
        int dup = 0;
        for (size_t j = 0; j < i && !dup; j++)
            dup = lead_int(r[j].num) == m;
        if (dup)
            continue;
        number_path(path, sizeof(path), r[i].idx);
        if (first == -2) {
            first = m;
            if (m != 0 && m != 1) {
                rc |= bad(k, path, "6.1.21",
                         "missing item in revision history: the first version is %.40s, not 0 "
                         "or 1",
                         r[i].num);
                break;
            }
        } else if (m > first + seen) {
            rc |= bad(k, path, "6.1.21",
                     "missing item in revision history: major version %" PRId64
                     " is omitted before %.40s",
                     first + seen, r[i].num);
            break;
        }
        seen++;
    }

    /* 6.1.22: each version once */
    int dup22 = 0;
    for (size_t i = 0; i < n && version && status && !dup22; i++)
        for (size_t j = 0; j < i && !dup22; j++)
            if (strcmp(r[i].num, r[j].num) == 0) {
                size_t at = r[i].idx > r[j].idx ? r[i].idx : r[j].idx;
                number_path(path, sizeof(path), at);
                rc |= bad(k, path, "6.1.22", "multiple definition in revision history: %.40s",
                         r[i].num);
                break;
            }
out:
    free(r);
    return rc;
}

/* 6.1.30: integer and semantic versioning are not mixed (revision history and version). */
static int versioning_mixed(chk *k)
{
    const ajson_value *tr = get(k->doc, "tracking"), *rh = get(tr, "revision_history");
    int scheme = -1;
    char path[160];
    for (size_t i = 0; i < alen(rh); i++) {
        const char *num = str(item(rh, i), "number");
        if (!num)
            continue;
        int s = is_int_version(num);
        if (scheme < 0)
            scheme = s;
        if (s != scheme) {
            number_path(path, sizeof(path), i);
            return bad(k, path, "6.1.30",
                       "mixed integer and semantic versioning: %.40s is %s versioning", num,
                       s ? "integer" : "semantic");
        }
    }
    const char *v = str(tr, "version");
    if (scheme >= 0 && v && is_int_version(v) != scheme)
        return bad(k, "$.document.tracking.version", "6.1.30",
                   "mixed integer and semantic versioning: %.40s against the revision history",
                   v);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Document-level tests                                                                         */

/* ISO 639-1 two-letter language codes. */
static const char iso639_1[] =
    "aaabaeafakamanarasavayazbabebgbhbibmbnbobrbscacechcocrcscucvcydadedvdzeeeleneoeset"
    "eufafffifjfofrfygagdglgngugvhahehihohrhthuhyhziaidieigiiikioisitiujajvkakgkikjkkkl"
    "kmknkokrkskukvkwkylalblglilnloltlulvmgmhmimkmlmnmrmsmtmynanbndnengnlnnnonrnvnyocoj"
    "omorospapiplpsptqurmrnrorurwsascsdsesgsiskslsmsnsosqsrssstsusvswtatetgthtitktltntot"
    "trtstttwtyugukuruzvevivowawoxhyiyozazhzu";

static int lang_known(const char *s)
{
    char l[3] = {(char)tolower((unsigned char)s[0]), (char)tolower((unsigned char)s[1]), 0};
    for (size_t i = 0; i + 1 < sizeof(iso639_1) - 1; i += 2)
        if (iso639_1[i] == l[0] && iso639_1[i + 1] == l[1])
            return 1;
    return 0;
}

/* BCP 47 language-tag syntax (RFC 5646 section 2.1) with a known two-letter language. */
static int lang_tag_ok(const char *tag)
{
    if (!tag || !*tag)
        return 0;
    int private_use = (tag[0] == 'x' || tag[0] == 'X') && tag[1] == '-';
    if (private_use)
        tag += 2;
    else if ((tag[0] == 'i' || tag[0] == 'I') && tag[1] == '-') /* grandfathered i-xxx */
        return strlen(tag) > 2;
    size_t len[64], n = 0;
    const char *sub[64];
    for (const char *p = tag;;) {
        size_t l = 0;
        while (isalnum((unsigned char)p[l]))
            l++;
        if (l == 0 || l > 8 || n == 64)
            return 0;
        sub[n] = p, len[n++] = l;
        if (p[l] == 0)
            break;
        if (p[l] != '-')
            return 0;
        p += l + 1;
    }
    if (private_use) /* any alphanumeric subtags */
        return 1;
    for (size_t i = 0; i < len[0]; i++)
        if (!isalpha((unsigned char)sub[0][i]))
            return 0;
    if (len[0] < 2 || len[0] == 4 || (len[0] == 2 && !lang_known(sub[0])))
        return 0;
    size_t i = 1;
    int ext = 0;
    for (; i < n && len[i] == 3 && isalpha((unsigned char)sub[i][0]) && ext < 3; i++, ext++)
        ;
    if (i < n && len[i] == 4 && isalpha((unsigned char)sub[i][0])) /* script */
        i++;
    if (i < n && ((len[i] == 2 && isalpha((unsigned char)sub[i][0])) ||
                  (len[i] == 3 && isdigit((unsigned char)sub[i][0])))) /* region */
        i++;
    for (; i < n && len[i] != 1; i++) /* variants: 5-8 alphanumerics, or digit + 3 */
        if (!(len[i] >= 5 || (len[i] == 4 && isdigit((unsigned char)sub[i][0]))))
            return 0;
    while (i < n) { /* extensions and private use: a singleton and one or more subtags */
        int x = sub[i][0] == 'x' || sub[i][0] == 'X';
        if (len[i] != 1 || i + 1 >= n)
            return 0;
        for (i++; i < n && (len[i] > 1 || x); i++)
            if (!x && len[i] < 2)
                return 0;
    }
    return 1;
}

/* 6.1.26: the category is a profile's value, or not like one. */
static int category_check(chk *k, const char *cat)
{
    static const char *const profiles[] = {"csaf_base", "csaf_security_incident_response",
                                           "csaf_informational_advisory",
                                           "csaf_security_advisory", "csaf_vex", NULL};
    static const char *const others[] = {"securityincidentresponse", "informationaladvisory",
                                         "securityadvisory", "vex", NULL};
    for (int i = 0; profiles[i]; i++)
        if (strcmp(cat, profiles[i]) == 0)
            return 0;
    if (strncasecmp(cat, "csaf_", 5) == 0)
        return bad(k, "$.document.category", "6.1.26",
                   "prohibited document category %.60s: the prefix csaf_ is reserved", cat);
    char norm[128];
    size_t n = 0;
    for (const char *p = cat; *p && n + 1 < sizeof(norm); p++)
        if (*p != '_' && *p != '-' && !isspace((unsigned char)*p))
            norm[n++] = (char)tolower((unsigned char)*p);
    norm[n] = 0;
    for (int i = 0; others[i]; i++)
        if (strcmp(norm, others[i]) == 0 ||
            (strncmp(norm, "csaf", 4) == 0 && strcmp(norm + 4, others[i]) == 0))
            return bad(k, "$.document.category", "6.1.26",
                       "prohibited document category %.60s: it is the name of profile %s", cat,
                       others[i]);
    return 0;
}

static int document_checks(chk *k)
{
    const char *lang = str(k->doc, "lang"), *src = str(k->doc, "source_lang");
    if (lang && !lang_tag_ok(lang))
        return bad(k, "$.document.lang", "6.1.12", "invalid language tag %.40s", lang);
    if (src && !lang_tag_ok(src))
        return bad(k, "$.document.source_lang", "6.1.12", "invalid language tag %.40s", src);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Product tree                                                                                 */

/* 6.1.3: no relationship defines its product through itself.  A relationship points at the
 * (at most two) relationships defining the products it combines; peeling those that point at
 * none that is left leaves exactly the ones on or leading into a cycle. */
static int circular(chk *k)
{
    const ajson_value *rel = get(get(k->root, "product_tree"), "relationships");
    size_t n = alen(rel);
    if (!n)
        return 0;
    static const char *const keys[] = {"product_reference", "relates_to_product_reference"};
    size_t *to = malloc(2 * n * sizeof(*to));
    char *gone = calloc(n, 1);
    if (!to || !gone) {
        free(to), free(gone);
        return bad(k, "$.product_tree.relationships", "memory", "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        for (int e = 0; e < 2; e++) {
            const char *ref = str(item(rel, i), keys[e]);
            to[2 * i + (size_t)e] = n;
            for (size_t j = 0; ref && j < n; j++)
                if (eq(str(get(item(rel, j), "full_product_name"), "product_id"), ref)) {
                    to[2 * i + (size_t)e] = j;
                    break;
                }
        }
    for (int changed = 1; changed;) {
        changed = 0;
        for (size_t i = 0; i < n; i++)
            if (!gone[i] && (to[2 * i] == n || gone[to[2 * i]]) &&
                (to[2 * i + 1] == n || gone[to[2 * i + 1]]))
                gone[i] = 1, changed = 1;
    }
    size_t at = n;
    for (size_t i = 0; i < n && at == n; i++)
        if (!gone[i])
            at = i;
    int rc = 0;
    if (at < n) {
        /* n steps along edges that stay among the remaining ones end on the cycle itself */
        int e = 0;
        for (size_t s = 0; s < n; s++) {
            e = to[2 * at] < n && !gone[to[2 * at]] ? 0 : 1;
            at = to[2 * at + (size_t)e];
        }
        e = to[2 * at] < n && !gone[to[2 * at]] ? 0 : 1;
        char path[160];
        snprintf(path, sizeof(path), "$.product_tree.relationships[%zu].%s", at, keys[e]);
        rc = bad(k, path, "6.1.3", "circular definition of product id %.100s",
                 str(get(item(rel, at), "full_product_name"), "product_id"));
    }
    free(to), free(gone);
    return rc;
}

/* 1 when the purl (purl_parse accepted it) has a name by the specification's reading: the last
 * '@' of namespace/name@version separates the version, so "pkg:maven/@1.3" has none (purl_parse
 * reads an unencoded leading '@' as npm's scope, as vendor profiles write it). */
static int purl_strict_name(const char *u)
{
    const char *t = strchr(u + 4, '/');
    size_t end = strcspn(u, "?#");
    if (!t || (size_t)(t - u) >= end)
        return 0;
    const char *r = t + 1, *at = NULL;
    for (const char *p = r; p < u + end; p++)
        if (*p == '@')
            at = p;
    const char *e = at ? at : u + end;
    while (e > r && e[-1] == '/')
        e--;
    return e > r && e[-1] != '/';
}

/* What is checked of each product (full product name) in the tree. */
static int product_check(chk *k, const ajson_value *p, const char *path)
{
    const ajson_value *h = get(p, "product_identification_helper");
    const char *u = str(h, "purl");
    char sub[480], e[200];
    if (u) {
        purl pu;
        snprintf(sub, sizeof(sub), "%.300s.product_identification_helper.purl", path);
        if (purl_parse(u, &pu, e, sizeof(e)))
            return bad(k, sub, "6.1.13", "invalid purl: %s", e);
        if (!purl_strict_name(u))
            return bad(k, sub, "6.1.13", "invalid purl: no name before the version in %.100s", u);
    }
    const ajson_value *hs = get(h, "hashes");
    for (size_t i = 0; i < alen(hs); i++) {
        const ajson_value *fh = get(item(hs, i), "file_hashes");
        for (size_t j = 0; j < alen(fh); j++)
            for (size_t m = 0; m < j; m++) {
                const char *a = str(item(fh, j), "algorithm");
                if (a && eq(a, str(item(fh, m), "algorithm"))) {
                    snprintf(sub, sizeof(sub),
                             "%.280s.product_identification_helper.hashes[%zu].file_hashes[%zu]"
                             ".algorithm",
                             path, i, j);
                    return bad(k, sub, "6.1.25", "multiple use of the same hash algorithm %.40s",
                               a);
                }
            }
    }
    return 0;
}

static const char *const range_words[] = {"after",  "all",   "before",   "earlier",
                                          "later",  "prior", "versions", NULL};

/* 6.1.31: a product_version branch names one version, not a range. */
static int version_range(const char *name)
{
    if (strstr(name, "<") || strstr(name, ">"))
        return 1;
    for (const char *p = name; *p;) {
        while (*p && isspace((unsigned char)*p))
            p++;
        size_t l = 0;
        while (p[l] && !isspace((unsigned char)p[l]))
            l++;
        for (int i = 0; range_words[i] && l; i++)
            if (strlen(range_words[i]) == l && strncasecmp(p, range_words[i], l) == 0)
                return 1;
        p += l;
    }
    return 0;
}

static int branches(chk *k, const ajson_value *br, const char *path, int depth)
{
    char sub[300];
    for (size_t i = 0; i < alen(br) && depth <= 30; i++) {
        const ajson_value *b = item(br, i);
        snprintf(sub, sizeof(sub), "%.250s[%zu]", path, i);
        const char *cat = str(b, "category"), *name = str(b, "name");
        if (eq(cat, "product_version") && name && version_range(name)) {
            char p2[320];
            snprintf(p2, sizeof(p2), "%s.name", sub);
            return bad(k, p2, "6.1.31", "version range in product version: %.100s", name);
        }
        char p2[320];
        snprintf(p2, sizeof(p2), "%s.product", sub);
        if (get(b, "product") && product_check(k, get(b, "product"), p2))
            return -1;
        snprintf(p2, sizeof(p2), "%s.branches", sub);
        if (branches(k, get(b, "branches"), p2, depth + 1))
            return -1;
    }
    return 0;
}

static int tree_checks(chk *k)
{
    const ajson_value *pt = get(k->root, "product_tree");
    const ajson_value *fpn = get(pt, "full_product_names"), *rel = get(pt, "relationships");
    char path[160];
    for (size_t i = 0; i < alen(fpn); i++) {
        snprintf(path, sizeof(path), "$.product_tree.full_product_names[%zu]", i);
        if (product_check(k, item(fpn, i), path))
            return -1;
    }
    for (size_t i = 0; i < alen(rel); i++) {
        snprintf(path, sizeof(path), "$.product_tree.relationships[%zu].full_product_name", i);
        if (product_check(k, get(item(rel, i), "full_product_name"), path))
            return -1;
    }
    return branches(k, get(pt, "branches"), "$.product_tree.branches", 0);
}

/* ------------------------------------------------------------------------------------------ */
/* CVSS (6.1.7 - 6.1.10)                                                                        */

/* A CVSS v2 metric that may follow the base metrics, its values and their weights. */
typedef struct cvss2_opt {
    const char *key;
    const char *vals[6];
    double w[6];
} cvss2_opt;

/* CVSS v2 guide sections 3.2.2 and 3.2.3; ND (not defined) weighs as the guide says. */
static const cvss2_opt cvss2_opts[] = {
    {"E", {"U", "POC", "F", "H", "ND"}, {0.85, 0.9, 0.95, 1.0, 1.0}},
    {"RL", {"OF", "TF", "W", "U", "ND"}, {0.87, 0.90, 0.95, 1.0, 1.0}},
    {"RC", {"UC", "UR", "C", "ND"}, {0.90, 0.95, 1.0, 1.0}},
    {"CDP", {"N", "L", "LM", "MH", "H", "ND"}, {0, 0.1, 0.3, 0.4, 0.5, 0}},
    {"TD", {"N", "L", "M", "H", "ND"}, {0, 0.25, 0.75, 1.0, 1.0}},
    {"CR", {"L", "M", "H", "ND"}, {0.5, 1.0, 1.51, 1.0}},
    {"IR", {"L", "M", "H", "ND"}, {0.5, 1.0, 1.51, 1.0}},
    {"AR", {"L", "M", "H", "ND"}, {0.5, 1.0, 1.51, 1.0}},
};
#define CVSS2_OPTS (sizeof cvss2_opts / sizeof cvss2_opts[0])

/* The base equation of the CVSS v2 guide (3.2.1) for an impact subscore. */
static double cvss2_base_eq(double impact, double expl)
{
    double f = impact == 0 ? 0 : 1.176;
    return round(((0.6 * impact) + (0.4 * expl) - 1.5) * f * 10) / 10;
}

/*
 * A CVSS v2 vector's base, temporal and environmental scores (CVSS v2 guide section 3.2): 0 when
 * it is one, -1 when not (a metric out of order, unknown, repeated or with an unknown value).
 */
static int cvss2_scores(const char *vec, double *base, double *temporal, double *env)
{
    static const char *const keys[] = {"AV", "AC", "Au", "C", "I", "A"};
    static const char *const vals[] = {"LAN", "HML", "MSN", "NPC", "NPC", "NPC"};
    static const double w[6][3] = {{0.395, 0.646, 1.0}, {0.35, 0.61, 0.71},
                                   {0.45, 0.56, 0.704}, {0, 0.275, 0.660},
                                   {0, 0.275, 0.660},   {0, 0.275, 0.660}};
    double m[6], o[CVSS2_OPTS];
    const char *p = vec;
    for (int i = 0; i < 6; i++) {
        size_t kl = strlen(keys[i]);
        if (strncmp(p, keys[i], kl) != 0 || p[kl] != ':' || !p[kl + 1])
            return -1;
        const char *v = strchr(vals[i], p[kl + 1]);
        if (!v)
            return -1;
        m[i] = w[i][v - vals[i]];
        p += kl + 2;
        if (i < 5 && *p++ != '/')
            return -1;
    }
    for (size_t j = 0; j < CVSS2_OPTS; j++) /* not given: as not defined (ND) */
        for (size_t x = 0; x < 6 && cvss2_opts[j].vals[x]; x++)
            if (strcmp(cvss2_opts[j].vals[x], "ND") == 0)
                o[j] = cvss2_opts[j].w[x];
    size_t next = 0; /* the guide's order: E, RL, RC, then CDP, TD, CR, IR, AR */
    while (*p) {
        if (*p++ != '/')
            return -1;
        size_t kl = strcspn(p, ":/"), vl;
        if (p[kl] != ':')
            return -1;
        const char *v = p + kl + 1;
        vl = strcspn(v, "/");
        size_t j = next;
        while (j < CVSS2_OPTS && (strlen(cvss2_opts[j].key) != kl ||
                                  strncmp(cvss2_opts[j].key, p, kl) != 0))
            j++;
        if (j == CVSS2_OPTS)
            return -1;
        size_t x = 0;
        while (x < 6 && cvss2_opts[j].vals[x] &&
               (strlen(cvss2_opts[j].vals[x]) != vl || strncmp(cvss2_opts[j].vals[x], v, vl) != 0))
            x++;
        if (x == 6 || !cvss2_opts[j].vals[x])
            return -1;
        o[j] = cvss2_opts[j].w[x];
        next = j + 1;
        p = v + vl;
    }
    double expl = 20 * m[0] * m[1] * m[2];
    double impact = 10.41 * (1 - (1 - m[3]) * (1 - m[4]) * (1 - m[5]));
    *base = cvss2_base_eq(impact, expl);
    *temporal = round(*base * o[0] * o[1] * o[2] * 10) / 10;
    double adj_impact = 10.41 * (1 - (1 - m[3] * o[5]) * (1 - m[4] * o[6]) * (1 - m[5] * o[7]));
    if (adj_impact > 10)
        adj_impact = 10;
    double adj_temporal = round(cvss2_base_eq(adj_impact, expl) * o[0] * o[1] * o[2] * 10) / 10;
    *env = round((adj_temporal + (10 - adj_temporal) * o[3]) * o[4] * 10) / 10;
    return 0;
}

/* An attribute of a CVSS object and the vector metric it restates (6.1.10). */
typedef struct cvss_attr {
    const char *attr, *metric, *values; /* values: "NAME=abbr NAME=abbr ..." */
} cvss_attr;

static const cvss_attr cvss3_attrs[] = {
    {"attackVector", "AV", "NETWORK=N ADJACENT_NETWORK=A LOCAL=L PHYSICAL=P"},
    {"attackComplexity", "AC", "LOW=L HIGH=H"},
    {"privilegesRequired", "PR", "NONE=N LOW=L HIGH=H"},
    {"userInteraction", "UI", "NONE=N REQUIRED=R"},
    {"scope", "S", "UNCHANGED=U CHANGED=C"},
    {"confidentialityImpact", "C", "NONE=N LOW=L HIGH=H"},
    {"integrityImpact", "I", "NONE=N LOW=L HIGH=H"},
    {"availabilityImpact", "A", "NONE=N LOW=L HIGH=H"},
    {"exploitCodeMaturity", "E",
     "NOT_DEFINED=X UNPROVEN=U PROOF_OF_CONCEPT=P FUNCTIONAL=F HIGH=H"},
    {"remediationLevel", "RL",
     "NOT_DEFINED=X OFFICIAL_FIX=O TEMPORARY_FIX=T WORKAROUND=W UNAVAILABLE=U"},
    {"reportConfidence", "RC", "NOT_DEFINED=X UNKNOWN=U REASONABLE=R CONFIRMED=C"},
    {"confidentialityRequirement", "CR", "NOT_DEFINED=X LOW=L MEDIUM=M HIGH=H"},
    {"integrityRequirement", "IR", "NOT_DEFINED=X LOW=L MEDIUM=M HIGH=H"},
    {"availabilityRequirement", "AR", "NOT_DEFINED=X LOW=L MEDIUM=M HIGH=H"},
    {"modifiedAttackVector", "MAV",
     "NOT_DEFINED=X NETWORK=N ADJACENT_NETWORK=A LOCAL=L PHYSICAL=P"},
    {"modifiedAttackComplexity", "MAC", "NOT_DEFINED=X LOW=L HIGH=H"},
    {"modifiedPrivilegesRequired", "MPR", "NOT_DEFINED=X NONE=N LOW=L HIGH=H"},
    {"modifiedUserInteraction", "MUI", "NOT_DEFINED=X NONE=N REQUIRED=R"},
    {"modifiedScope", "MS", "NOT_DEFINED=X UNCHANGED=U CHANGED=C"},
    {"modifiedConfidentialityImpact", "MC", "NOT_DEFINED=X NONE=N LOW=L HIGH=H"},
    {"modifiedIntegrityImpact", "MI", "NOT_DEFINED=X NONE=N LOW=L HIGH=H"},
    {"modifiedAvailabilityImpact", "MA", "NOT_DEFINED=X NONE=N LOW=L HIGH=H"},
    {NULL, NULL, NULL}};

static const cvss_attr cvss2_attrs[] = {
    {"accessVector", "AV", "NETWORK=N ADJACENT_NETWORK=A LOCAL=L"},
    {"accessComplexity", "AC", "HIGH=H MEDIUM=M LOW=L"},
    {"authentication", "Au", "MULTIPLE=M SINGLE=S NONE=N"},
    {"confidentialityImpact", "C", "NONE=N PARTIAL=P COMPLETE=C"},
    {"integrityImpact", "I", "NONE=N PARTIAL=P COMPLETE=C"},
    {"availabilityImpact", "A", "NONE=N PARTIAL=P COMPLETE=C"},
    {"exploitability", "E",
     "UNPROVEN=U PROOF_OF_CONCEPT=POC FUNCTIONAL=F HIGH=H NOT_DEFINED=ND"},
    {"remediationLevel", "RL",
     "OFFICIAL_FIX=OF TEMPORARY_FIX=TF WORKAROUND=W UNAVAILABLE=U NOT_DEFINED=ND"},
    {"reportConfidence", "RC", "UNCONFIRMED=UC UNCORROBORATED=UR CONFIRMED=C NOT_DEFINED=ND"},
    {"collateralDamagePotential", "CDP",
     "NONE=N LOW=L LOW_MEDIUM=LM MEDIUM_HIGH=MH HIGH=H NOT_DEFINED=ND"},
    {"targetDistribution", "TD", "NONE=N LOW=L MEDIUM=M HIGH=H NOT_DEFINED=ND"},
    {"confidentialityRequirement", "CR", "LOW=L MEDIUM=M HIGH=H NOT_DEFINED=ND"},
    {"integrityRequirement", "IR", "LOW=L MEDIUM=M HIGH=H NOT_DEFINED=ND"},
    {"availabilityRequirement", "AR", "LOW=L MEDIUM=M HIGH=H NOT_DEFINED=ND"},
    {NULL, NULL, NULL}};

/* The value of metric in vec ("AV:N/AC:L..."; a leading "CVSS:x.y/" is skipped), into out. */
static int metric_value(const char *vec, const char *metric, char *out, size_t outlen)
{
    size_t ml = strlen(metric);
    for (const char *p = vec; p && *p; p = strchr(p, '/') ? strchr(p, '/') + 1 : NULL) {
        if (strncmp(p, metric, ml) == 0 && p[ml] == ':') {
            size_t l = strcspn(p + ml + 1, "/");
            if (l >= outlen)
                return -1;
            memcpy(out, p + ml + 1, l);
            out[l] = 0;
            return 0;
        }
    }
    return -1;
}

/* 6.1.10: the attributes agree with the vector. */
static int attrs_consistent(chk *k, const ajson_value *o, const char *vec, const cvss_attr *t,
                            const char *path)
{
    for (int i = 0; t[i].attr; i++) {
        const char *given = str(o, t[i].attr);
        char abbr[8], want[40] = "";
        if (!given || metric_value(vec, t[i].metric, abbr, sizeof(abbr)))
            continue;
        for (const char *p = t[i].values; *p;) {
            size_t l = strcspn(p, " ");
            const char *e = memchr(p, '=', l);
            if (e && (size_t)(p + l - e - 1) == strlen(abbr) &&
                strncmp(e + 1, abbr, strlen(abbr)) == 0 && (size_t)(e - p) < sizeof(want)) {
                memcpy(want, p, (size_t)(e - p));
                want[e - p] = 0;
            }
            p += l + (p[l] == ' ');
        }
        if (want[0] && strcmp(want, given) != 0) {
            char sub[400];
            snprintf(sub, sizeof(sub), "%.300s.%s", path, t[i].attr);
            return bad(k, sub, "6.1.10",
                       "inconsistent CVSS: %s is %.40s, but the vector says %s:%s (%s)",
                       t[i].attr, given, t[i].metric, abbr, want);
        }
    }
    return 0;
}

static int is_num(const ajson_value *v, double *d)
{
    return v && v->type == AJSON_NUMBER && ajson_double(v, d) && *d >= 0 && *d <= 10;
}

static int severity_ok(const char *s)
{
    return eq(s, "NONE") || eq(s, "LOW") || eq(s, "MEDIUM") || eq(s, "HIGH") ||
           eq(s, "CRITICAL");
}

/* 6.1.8 (each CVSS object is valid by the FIRST schema's required members and formats), 6.1.9
 * (its scores and severities are the vector's) and 6.1.10 (its attributes restate the vector). */
static int cvss_checks(chk *k, const ajson_value *s, const char *path)
{
    char sub[300], p2[360], e[200];
    const ajson_value *v3 = get(s, "cvss_v3"), *v2 = get(s, "cvss_v2");
    double d;
    if (v3) {
        snprintf(sub, sizeof(sub), "%.250s.cvss_v3", path);
        const char *ver = str(v3, "version"), *vec = str(v3, "vectorString");
        cvss_score cs;
        snprintf(p2, sizeof(p2), "%s.version", sub);
        if (!eq(ver, "3.0") && !eq(ver, "3.1"))
            return bad(k, p2, "6.1.8", "invalid CVSS: version is \"3.0\" or \"3.1\"");
        snprintf(p2, sizeof(p2), "%s.vectorString", sub);
        if (!vec || cvss_parse(vec, &cs, e, sizeof(e)))
            return bad(k, p2, "6.1.8", "invalid CVSS: %s", vec ? e : "vectorString is required");
        if (strncmp(vec + 5, ver, 3) != 0)
            return bad(k, p2, "6.1.8", "invalid CVSS: a version %s vector is expected", ver);
        snprintf(p2, sizeof(p2), "%s.baseScore", sub);
        if (!is_num(get(v3, "baseScore"), &d))
            return bad(k, p2, "6.1.8", "invalid CVSS: baseScore is required (0 to 10)");
        snprintf(p2, sizeof(p2), "%s.baseSeverity", sub);
        if (!severity_ok(str(v3, "baseSeverity")))
            return bad(k, p2, "6.1.8",
                       "invalid CVSS: baseSeverity is required (NONE, LOW, MEDIUM, HIGH or "
                       "CRITICAL)");
        static const char *const sk[] = {"temporalScore", "environmentalScore"};
        static const char *const vk[] = {"temporalSeverity", "environmentalSeverity"};
        double want[2] = {cs.temporal, cs.environmental};
        for (int i = 0; i < 2; i++) {
            const ajson_value *sv = get(v3, sk[i]);
            snprintf(p2, sizeof(p2), "%s.%s", sub, sk[i]);
            if (sv && !is_num(sv, &d))
                return bad(k, p2, "6.1.8", "invalid CVSS: %s is a number from 0 to 10", sk[i]);
            if (sv && fabs(d - want[i]) > 0.05)
                return bad(k, p2, "6.1.9", "invalid CVSS computation: %s %.1f, but %s gives %.1f",
                           sk[i], d, vec, want[i]);
            const char *sev = str(v3, vk[i]);
            snprintf(p2, sizeof(p2), "%s.%s", sub, vk[i]);
            if (get(v3, vk[i]) && !severity_ok(sev))
                return bad(k, p2, "6.1.8", "invalid CVSS: %s is not a severity", vk[i]);
            if (sev && !eq(sev, cvss_severity(want[i])))
                return bad(k, p2, "6.1.9", "invalid CVSS computation: %s %.20s, but %s gives %s",
                           vk[i], sev, vec, cvss_severity(want[i]));
        }
        snprintf(p2, sizeof(p2), "%s.baseSeverity", sub);
        if (!eq(str(v3, "baseSeverity"), cs.severity))
            return bad(k, p2, "6.1.9", "invalid CVSS computation: baseSeverity %.20s, but %s gives %s",
                       str(v3, "baseSeverity"), vec, cs.severity);
        if (attrs_consistent(k, v3, vec, cvss3_attrs, sub))
            return -1;
    }
    if (v2) {
        snprintf(sub, sizeof(sub), "%.250s.cvss_v2", path);
        const char *vec = str(v2, "vectorString");
        snprintf(p2, sizeof(p2), "%s.version", sub);
        if (!eq(str(v2, "version"), "2.0"))
            return bad(k, p2, "6.1.8", "invalid CVSS: version \"2.0\" is required");
        snprintf(p2, sizeof(p2), "%s.vectorString", sub);
        double sc[3];
        if (!vec || cvss2_scores(vec, &sc[0], &sc[1], &sc[2]) != 0)
            return bad(k, p2, "6.1.8", "invalid CVSS: %.80s is not a CVSS v2 vector",
                       vec ? vec : "(missing)");
        snprintf(p2, sizeof(p2), "%s.baseScore", sub);
        if (!is_num(get(v2, "baseScore"), &d))
            return bad(k, p2, "6.1.8", "invalid CVSS: baseScore is required (0 to 10)");
        static const char *const score_names[3] = {"baseScore", "temporalScore",
                                                   "environmentalScore"};
        for (int i = 0; i < 3; i++) {
            snprintf(p2, sizeof(p2), "%s.%s", sub, score_names[i]);
            if (is_num(get(v2, score_names[i]), &d) && fabs(d - sc[i]) > 0.05)
                return bad(k, p2, "6.1.9", "invalid CVSS computation: %s %.1f, but %s gives %.1f",
                           score_names[i], d, vec, sc[i]);
        }
        if (attrs_consistent(k, v2, vec, cvss2_attrs, sub))
            return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Vulnerabilities                                                                              */

static const char *const status_groups[4][4] = {
    {"first_affected", "known_affected", "last_affected", NULL},
    {"known_not_affected", NULL},
    {"first_fixed", "fixed", NULL},
    {"under_investigation", NULL}};

static int in_group(const ajson_value *ps, int g, const char *id)
{
    for (int i = 0; status_groups[g][i]; i++)
        if (has_str(get(ps, status_groups[g][i]), id))
            return 1;
    return 0;
}

/* 6.1.6: no product is in two contradicting status groups. */
static int contradicting(chk *k, const ajson_value *v, const char *path)
{
    const ajson_value *ps = get(v, "product_status");
    for (int g = 0; g < 4; g++)
        for (int i = 0; status_groups[g][i]; i++) {
            const ajson_value *ids = get(ps, status_groups[g][i]);
            for (size_t j = 0; j < alen(ids); j++) {
                const char *id = ajson_str(item(ids, j));
                for (int h = g + 1; id && h < 4; h++)
                    if (in_group(ps, h, id)) {
                        char sub[300];
                        snprintf(sub, sizeof(sub), "%.200s.product_status.%s[%zu]", path,
                                 status_groups[g][i], j);
                        return bad(k, sub, "6.1.6",
                                   "contradicting product status: %.100s is also in %s", id,
                                   status_groups[h][0]);
                    }
            }
        }
    return 0;
}

/* 6.1.7: one score per product and CVSS version. */
static int multiple_scores(chk *k, const ajson_value *v, const char *path)
{
    const ajson_value *sc = get(v, "scores");
    for (size_t i = 0; i < alen(sc); i++) {
        const ajson_value *ps = get(item(sc, i), "products");
        const char *vers[2] = {str(get(item(sc, i), "cvss_v2"), "version"),
                               str(get(item(sc, i), "cvss_v3"), "version")};
        for (size_t p = 0; p < alen(ps); p++) {
            const char *id = ajson_str(item(ps, p));
            for (size_t j = 0; id && j < i; j++) {
                if (!has_str(get(item(sc, j), "products"), id))
                    continue;
                const char *other[2] = {str(get(item(sc, j), "cvss_v2"), "version"),
                                        str(get(item(sc, j), "cvss_v3"), "version")};
                for (int a = 0; a < 2; a++)
                    for (int b = 0; b < 2; b++)
                        if (vers[a] && eq(vers[a], other[b])) {
                            char sub[300];
                            snprintf(sub, sizeof(sub), "%.200s.scores[%zu].products[%zu]", path,
                                     i, p);
                            return bad(k, sub, "6.1.7",
                                       "multiple scores with the same version per product: "
                                       "%.100s has CVSS %s in scores[%zu] already",
                                       id, vers[a], j);
                        }
            }
        }
    }
    return 0;
}

/* 6.1.24: one involvement per party and date. */
static int involvements(chk *k, const ajson_value *v, const char *path)
{
    const ajson_value *in = get(v, "involvements");
    for (size_t i = 0; i < alen(in); i++) {
        const char *party = str(item(in, i), "party"), *date = str(item(in, i), "date");
        int64_t a, b;
        if (!party || !date || accord_instant_parse(date, &a))
            continue;
        for (size_t j = 0; j < i; j++) {
            const char *d2 = str(item(in, j), "date");
            if (eq(party, str(item(in, j), "party")) && d2 && !accord_instant_parse(d2, &b) &&
                a == b) {
                char sub[300];
                snprintf(sub, sizeof(sub), "%.200s.involvements[%zu]", path, i);
                return bad(k, sub, "6.1.24",
                           "multiple definition in involvements: party %.40s at %.40s", party,
                           date);
            }
        }
    }
    return 0;
}

/* 6.1.29 / 6.1.32: each remediation and flag names products or groups; 6.1.33: one flag per
 * product. */
static int product_refs(chk *k, size_t vi, const ajson_value *v, const char *path)
{
    static const char *const lists[] = {"remediations", "flags"};
    static const char *const rules[] = {"6.1.29", "6.1.32"};
    char sub[300];
    (void)vi;
    for (int l = 0; l < 2; l++) {
        const ajson_value *r = get(v, lists[l]);
        for (size_t i = 0; i < alen(r); i++)
            if (!get(item(r, i), "product_ids") && !get(item(r, i), "group_ids")) {
                snprintf(sub, sizeof(sub), "%.200s.%s[%zu]", path, lists[l], i);
                return bad(k, sub, rules[l], "%s without product reference",
                           l ? "flag" : "remediation");
            }
    }
    const ajson_value *f = get(v, "flags");
    for (size_t i = 0; i < alen(f); i++) {
        /* every product of flag i, directly and through its groups, against earlier flags */
        const ajson_value *lists2[2] = {get(item(f, i), "product_ids"), NULL};
        const ajson_value *g = get(item(f, i), "group_ids");
        for (size_t gi = 0; gi <= alen(g); gi++) {
            const ajson_value *ids = gi == 0 ? lists2[0]
                                             : group_products(k, ajson_str(item(g, gi - 1)));
            for (size_t p = 0; p < alen(ids); p++) {
                const char *id = ajson_str(item(ids, p));
                for (size_t j = 0; id && j < i; j++)
                    if (names_product(k, item(f, j), id)) {
                        snprintf(sub, sizeof(sub), "%.200s.flags[%zu]", path, i);
                        return bad(k, sub, "6.1.33",
                                   "multiple flags with VEX justification codes per product: "
                                   "%.100s is in flags[%zu] already",
                                   id, j);
                    }
            }
        }
    }
    return 0;
}

/* 6.1.27.5 - 6.1.27.10: what the profile of the document requires of each vulnerability. */
static int profile_vuln(chk *k, size_t vi, const ajson_value *v, const char *path)
{
    const char *cat = k->cat;
    int adv = eq(cat, "csaf_security_advisory"), vex = eq(cat, "csaf_vex");
    const ajson_value *ps = get(v, "product_status");
    char sub[300];
    (void)vi;
    if (!cat)
        return 0;
    if ((adv || vex) && !get(v, "notes"))
        bad(k, path, "6.1.27.5", "vulnerability notes are required by profile %s", cat);
    if ((adv || vex) && !ps)
        bad(k, path, adv ? "6.1.27.6" : "6.1.27.7", "product status is required by profile %s",
            cat);
    if (!vex)
        return 0;
    snprintf(sub, sizeof(sub), "%.200s.product_status", path);
    if (ps && !get(ps, "fixed") && !get(ps, "known_affected") && !get(ps, "known_not_affected") &&
        !get(ps, "under_investigation"))
        bad(k, sub, "6.1.27.7",
            "VEX product status needs fixed, known_affected, known_not_affected or "
            "under_investigation");
    if (!get(v, "ids") && !get(v, "cve"))
        bad(k, path, "6.1.27.8", "VEX vulnerability id (cve or ids) is required");
    const ajson_value *na = get(ps, "known_not_affected"), *ka = get(ps, "known_affected");
    for (size_t i = 0; i < alen(na); i++) {
        const char *id = ajson_str(item(na, i));
        int found = 0;
        const ajson_value *t = get(v, "threats"), *f = get(v, "flags");
        for (size_t j = 0; id && j < alen(t) && !found; j++)
            found = eq(str(item(t, j), "category"), "impact") && names_product(k, item(t, j), id);
        for (size_t j = 0; id && j < alen(f) && !found; j++)
            found = names_product(k, item(f, j), id);
        if (id && !found) {
            snprintf(sub, sizeof(sub), "%.200s.product_status.known_not_affected[%zu]", path, i);
            bad(k, sub, "6.1.27.9",
                "impact statement missing: %.100s is not affected, but no flag or impact threat "
                "says why",
                id);
            break;
        }
    }
    for (size_t i = 0; i < alen(ka); i++) {
        const char *id = ajson_str(item(ka, i));
        int found = 0;
        const ajson_value *r = get(v, "remediations");
        for (size_t j = 0; id && j < alen(r) && !found; j++)
            found = names_product(k, item(r, j), id);
        if (id && !found) {
            snprintf(sub, sizeof(sub), "%.200s.product_status.known_affected[%zu]", path, i);
            bad(k, sub, "6.1.27.10",
                "action statement missing: %.100s is affected, but no remediation names it", id);
            break;
        }
    }
    return 0;
}

/* 6.1.26, then 6.1.27.1 - 6.1.27.4 and 6.1.27.11: what the profile requires of the document. */
static int profile_doc(chk *k)
{
    const char *cat = k->cat;
    if (!cat)
        return 0;
    category_check(k, cat);
    int incident = eq(cat, "csaf_security_incident_response"),
        info = eq(cat, "csaf_informational_advisory"), adv = eq(cat, "csaf_security_advisory"),
        vex = eq(cat, "csaf_vex");
    if (incident || info) {
        const ajson_value *n = get(k->doc, "notes"), *r = get(k->doc, "references");
        int ok = 0;
        for (size_t i = 0; i < alen(n) && !ok; i++) {
            const char *c = str(item(n, i), "category");
            ok = eq(c, "description") || eq(c, "details") || eq(c, "general") || eq(c, "summary");
        }
        if (!ok)
            bad(k, "$.document.notes", "6.1.27.1",
                "document notes: profile %s needs a note of category description, details, "
                "general or summary",
                cat);
        ok = 0;
        for (size_t i = 0; i < alen(r) && !ok; i++)
            ok = eq(str(item(r, i), "category"), "external");
        if (!ok)
            bad(k, "$.document.references", "6.1.27.2",
                "document references: profile %s needs a reference of category external", cat);
    }
    if (info && get(k->root, "vulnerabilities"))
        bad(k, "$.vulnerabilities", "6.1.27.3", "vulnerabilities are not allowed in profile %s",
            cat);
    if ((adv || vex) && !get(k->root, "product_tree"))
        bad(k, "$.product_tree", "6.1.27.4", "product tree is required by profile %s", cat);
    if ((adv || vex) && !get(k->root, "vulnerabilities"))
        bad(k, "$.vulnerabilities", "6.1.27.11", "vulnerabilities are required by profile %s", cat);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */

/* 6.1.6, 6.1.7, then 6.1.8 - 6.1.10 of each score: a vulnerability's status groups and scores. */
static int vuln_scores(chk *k, size_t vi, const ajson_value *v, const char *path)
{
    (void)vi;
    contradicting(k, v, path);
    multiple_scores(k, v, path);
    const ajson_value *sc = get(v, "scores");
    for (size_t j = 0; j < alen(sc); j++) {
        char sub[96];
        snprintf(sub, sizeof(sub), "%s.scores[%zu]", path, j);
        cvss_checks(k, item(sc, j), sub);
    }
    return 0;
}

/* 6.1.23 (no CVE of an earlier vulnerability again), then 6.1.24. */
static int vuln_cve(chk *k, size_t vi, const ajson_value *v, const char *path)
{
    const char *cve = str(v, "cve");
    for (size_t j = 0; cve && j < vi; j++)
        if (eq(cve, str(item(k->vulns, j), "cve"))) {
            char sub[96];
            snprintf(sub, sizeof(sub), "%s.cve", path);
            bad(k, sub, "6.1.23", "multiple use of the same CVE %.40s", cve);
            break;
        }
    return involvements(k, v, path);
}

/* 6.1.15: a translator names the source language. */
static int translator(chk *k)
{
    if (eq(str(get(k->doc, "publisher"), "category"), "translator") && !str(k->doc, "source_lang"))
        return bad(k, "$.document.source_lang", "6.1.15",
                   "translator without source language: source_lang is required");
    return 0;
}

/* 6.1.28: a translation is into another language. */
static int same_lang(chk *k)
{
    const char *lang = str(k->doc, "lang");
    if (lang && eq(lang, str(k->doc, "source_lang")))
        return bad(k, "$.document.source_lang", "6.1.28",
                   "translation into the same language: lang and source_lang are both %.40s", lang);
    return 0;
}

/*
 * The tests in the order they run (and so their failures are listed): each step tests the
 * document once, or each vulnerability in turn ($.vulnerabilities[i] its path).  A step's
 * failures are reported through bad(); every step runs whatever the ones before found.
 */
static const struct check_step {
    int (*doc)(chk *k);
    int (*vuln)(chk *k, size_t i, const ajson_value *v, const char *path);
} check_steps[] = {
    {circular, NULL},         /* 6.1.3 */
    {NULL, vuln_scores},      /* 6.1.6 - 6.1.10 */
    {document_checks, NULL},  /* 6.1.12 */
    {tree_checks, NULL},      /* 6.1.13, 6.1.25, 6.1.31 */
    {translator, NULL},       /* 6.1.15 */
    {tracking_checks, NULL},  /* 6.1.14, 6.1.16 - 6.1.22 */
    {NULL, vuln_cve},         /* 6.1.23, 6.1.24 */
    {profile_doc, NULL},      /* 6.1.26, 6.1.27.1 - 6.1.27.4, 6.1.27.11 */
    {NULL, profile_vuln},     /* 6.1.27.5 - 6.1.27.10 */
    {same_lang, NULL},        /* 6.1.28 */
    {NULL, product_refs},     /* 6.1.29, 6.1.32, 6.1.33 */
    {versioning_mixed, NULL}, /* 6.1.30 */
};

int csaf_mandatory_check(const ajson_value *root, char *err, size_t errlen)
{
    chk k = {.root = root, .doc = get(root, "document"), .err = err, .errlen = errlen};
    k.groups = get(get(root, "product_tree"), "product_groups");
    k.vulns = get(root, "vulnerabilities");
    k.cat = str(k.doc, "category");
    char path[64];
    for (size_t s = 0; s < sizeof(check_steps) / sizeof(check_steps[0]); s++) {
        if (check_steps[s].doc)
            check_steps[s].doc(&k);
        for (size_t i = 0; check_steps[s].vuln && i < alen(k.vulns); i++) {
            snprintf(path, sizeof(path), "$.vulnerabilities[%zu]", i);
            check_steps[s].vuln(&k, i, item(k.vulns, i), path);
        }
    }
    return k.failures ? -1 : 0;
}
