/*
 * case_store.c - coordinated disclosure cases in the store: who may do what, every change with
 * its timeline event and audit record, and the JSON views (see accord_case.h).
 *
 * Tables (schema 5, created by store.c's migration):
 *
 *   cases           cid PK (the case number), id "CASE-YYYY-NNNN" UNIQUE, title, summary,
 *                   created, embargo_end (µs; NULL = no embargo), embargo_text (the instant as
 *                   given, with its offset, shown beside UTC), lifted (µs the coordinator lifted
 *                   it, NULL), deadline (vendors' response deadline, µs), published (µs of the
 *                   first publication, NULL), cve, cwe, cvss3, cvss4 (vectors), vuln_id (the STIX
 *                   vulnerability's id, fixed at open), revision (publications so far)
 *   case_parts      cid, account PK; role (reporter, coordinator, vendor, observer); vendor (the
 *                   case_vendors.name a vendor participant speaks for); added
 *   case_vendors    vid PK (paging key); cid, name UNIQUE; account (member) or NULL; contact;
 *                   status, statement; responded (µs of its first status, NULL = never); added
 *   case_products   pid PK; cid, vendor, name UNIQUE; purl, cpe, affected, fixed, status,
 *                   statement, updated
 *   case_msgs       seq PK (paging key); cid, topic, private_vendor (NULL = shared), author, ts,
 *                   body
 *   case_events     seq PK; cid, ts, actor ("operator" for the local CLI), kind, detail: the
 *                   timeline, appended in the transaction of the change it records
 *   case_links      cid, kind ("reference" URL, "indicator" STIX id), value PK
 *   case_docs       cid, revision, kind ("csaf", "osv", "stix"), name PK; date, body (JSON)
 *   vendor_profiles vendor, purl (canonical prefix) PK; account, contact
 *
 * Invariants: every change is one transaction holding the change, its case_events row and its
 * audit row; a case is readable by a non-participant only once published (publication is refused
 * while the embargo runs, so "published" implies "embargo over"); nothing of a case reaches the
 * objects table before publication.
 *
 * It does not: render CSAF, OSV or STIX (csaf.c, osv.c, case_stix.c do, from a case_data this
 * file loads), send mail to outside vendors' contacts, or serve HTTP (case_api.c).
 */
#include "case_ident.h"
#include "case_int.h"
#include "cvss.h"
#include "import.h"
#include "store.h"
#include "store_int.h"
#include "util/timestamp.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define VIEW_MAX (64u << 20) /* the largest JSON view or document */
#define TEXT_MAX 65536       /* the longest title, summary, statement or message */

enum role { R_NONE = 0, R_OBSERVER, R_REPORTER, R_VENDOR, R_COORDINATOR, R_OPERATOR };
static const char *const role_names[] = {"none",   "observer",    "reporter",
                                         "vendor", "coordinator", "operator"};

static const char *const statuses[] = {
    "unknown", "under_investigation", "affected", "not_affected", "fixed", NULL};

/* What one request knows about the case and the actor. */
typedef struct ctx {
    accord_store *s;
    int64_t cid, now;
    int role;
    char vendor[256]; /* the vendor a vendor participant speaks for */
    char case_id[ACCORD_CASE_ID_MAX];
    int64_t embargo_end, lifted, published, deadline;
    const char *actor; /* NULL = operator */
} ctx;

/* ------------------------------------------------------------------------------------------ */
/* SQL helpers: every statement of this file is prepared, bound from an argument list, stepped  */
/* and finalized by these, so that each change and view states only its SQL and its values.    */

/* One parameter of a statement, bound in order from ?1. */
typedef struct arg {
    char kind;        /* 't' text (NULL binds NULL), 'i' int64, 'u' µs (0 binds NULL) */
    const char *text; /* 't' */
    int64_t n;        /* 'i', 'u'; for 't' the length, -1 = up to the NUL */
} arg;

#define A_T(v) ((arg){'t', (v), -1})
#define A_TN(v, len) ((arg){'t', (v), (int64_t)(len)})
#define A_I(v) ((arg){'i', NULL, (int64_t)(v)})
#define A_US(v) ((arg){'u', NULL, (int64_t)(v)})
/* the argument array and its length, from a list of A_* */
#define ARGS(...) (const arg[]){__VA_ARGS__}, sizeof((const arg[]){__VA_ARGS__}) / sizeof(arg)

/* Binds a[i] to ?(i+1); a parameter the statement does not use is ignored (SQLITE_RANGE), so
 * variants of one statement take the same list. */
static void bind(sqlite3_stmt *st, const arg *a, size_t n)
{
    sqlite3_reset(st);
    for (size_t i = 0; i < n; i++) {
        int k = (int)i + 1;
        if (a[i].kind == 'i' || (a[i].kind == 'u' && a[i].n))
            sqlite3_bind_int64(st, k, a[i].n);
        else if (a[i].kind == 't' && a[i].text)
            sqlite3_bind_text(st, k, a[i].text, (int)a[i].n, SQLITE_TRANSIENT);
        else
            sqlite3_bind_null(st, k);
    }
}
#define BIND(st, ...) bind(st, ARGS(__VA_ARGS__))

/* Prepares sql and binds a[0..n); the caller finalizes *st. */
static int query(accord_store *s, const char *sql, const arg *a, size_t n, sqlite3_stmt **st,
                 accord_error *err)
{
    if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK) {
        sqlite3_finalize(*st);
        *st = NULL;
        return store_db_fail(s, err, "preparing a case statement");
    }
    bind(*st, a, n);
    return 0;
}
#define QUERY(s, sql, st, err, ...) query(s, sql, ARGS(__VA_ARGS__), st, err)

/* Runs a statement without result rows; "what" names the change in an error. */
static int run(accord_store *s, const char *what, const char *sql, const arg *a, size_t n,
               accord_error *err)
{
    sqlite3_stmt *st;
    int rc = query(s, sql, a, n, &st, err);
    if (rc)
        return rc;
    int step = sqlite3_step(st);
    rc = step == SQLITE_DONE || step == SQLITE_ROW ? 0 : store_db_fail(s, err, what);
    sqlite3_finalize(st);
    return rc;
}
#define RUN(s, what, sql, err, ...) run(s, what, sql, ARGS(__VA_ARGS__), err)

#define ROW_STOP 1 /* what a row callback returns to end the walk early (error codes are < 0) */

/* Calls row(st, ud) for each result row until it returns non-zero: an error is returned,
 * ROW_STOP ends the walk with 0. */
static int each_row(accord_store *s, const char *sql, const arg *a, size_t n,
                    int (*row)(sqlite3_stmt *, void *), void *ud, accord_error *err)
{
    sqlite3_stmt *st;
    int rc = query(s, sql, a, n, &st, err), step = SQLITE_DONE;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW)
        rc = row(st, ud);
    if (!rc && step != SQLITE_DONE)
        rc = store_db_fail(s, err, "reading a case");
    sqlite3_finalize(st);
    return rc == ROW_STOP ? 0 : rc;
}
#define EACH(s, sql, row, ud, err, ...) each_row(s, sql, ARGS(__VA_ARGS__), row, ud, err)

static int row_found(sqlite3_stmt *st, void *ud)
{
    (void)st;
    *(int *)ud = 1;
    return ROW_STOP;
}

/* 1 when sql returns a row, 0 when not or on an error. */
static int exists(accord_store *s, const char *sql, const arg *a, size_t n)
{
    int found = 0;
    each_row(s, sql, a, n, row_found, &found, NULL);
    return found;
}
#define EXISTS(s, sql, ...) exists(s, sql, ARGS(__VA_ARGS__))

static int oom(accord_error *err)
{
    return accord_err_set(err, ACCORD_ENOMEM, "case: out of memory");
}

static char *col_dup(sqlite3_stmt *st, int col)
{
    const unsigned char *v = sqlite3_column_text(st, col);
    return v ? strdup((const char *)v) : NULL;
}

static int64_t col_us(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, col);
}

static const char *actor_name(const ctx *c)
{
    return c->actor ? c->actor : "operator";
}

/* ------------------------------------------------------------------------------------------ */
/* Time                                                                                         */

static int num(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int accord_instant_parse(const char *t, int64_t *us)
{
    int y, mo, d, h, mi, se, oh = 0, om = 0;
    if (!t || strlen(t) < 20 || num(t, 4, &y) || t[4] != '-' || num(t + 5, 2, &mo) || t[7] != '-' ||
        num(t + 8, 2, &d) || (t[10] != 'T' && t[10] != 't') || num(t + 11, 2, &h) || t[13] != ':' ||
        num(t + 14, 2, &mi) || t[16] != ':' || num(t + 17, 2, &se))
        return ACCORD_EINVAL;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || se > 60)
        return ACCORD_EINVAL;
    const char *p = t + 19;
    int64_t frac = 0, scale = 1000000;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return ACCORD_EINVAL;
        for (; isdigit((unsigned char)*p); p++)
            if (scale > 1)
                frac = frac * 10 + (*p - '0'), scale /= 10;
        frac *= scale;
    }
    int sign = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if ((*p == '+' || *p == '-') && !num(p + 1, 2, &oh) && p[3] == ':' &&
               !num(p + 4, 2, &om) && oh < 24 && om < 60) {
        sign = *p == '-' ? -1 : 1;
        p += 6;
    } else {
        return ACCORD_EINVAL;
    }
    if (*p)
        return ACCORD_EINVAL;
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = se};
    int64_t secs = (int64_t)timegm(&tm) - sign * (oh * 3600 + om * 60);
    *us = secs * 1000000 + frac;
    return 0;
}

void case_time(int64_t us, char *out, size_t outlen)
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ------------------------------------------------------------------------------------------ */
/* Transactions, events, roles                                                                  */

static int begin(accord_store *s, accord_error *err)
{
    if (s->readonly)
        return accord_err_set(err, ACCORD_EINVAL, "case: the store is open read-only");
    if (s->in_txn)
        return accord_err_set(err, ACCORD_EINVAL, "case: a transaction is already open");
    return store_exec(s, "BEGIN IMMEDIATE", err);
}

/* Appends the timeline event and the audit record of a change, then commits (or rolls back). */
static int finish(ctx *c, int rc, const char *kind, const char *detail, accord_error *err)
{
    if (!rc)
        rc = RUN(c->s, "case event",
                 "INSERT INTO case_events(cid, ts, actor, kind, detail) VALUES(?1, ?2, ?3, ?4, ?5)",
                 err, A_I(c->cid), A_I(c->now), A_T(actor_name(c)), A_T(kind), A_T(detail));
    char action[64], d[512];
    snprintf(action, sizeof(action), "case-%s", kind);
    snprintf(d, sizeof(d), "%s by %s%s%.400s", c->case_id, actor_name(c), detail ? ": " : "",
             detail ? detail : "");
    return store_audit_commit(c->s, rc, action, c->case_id, d, err);
}

static int role_parse(const char *name)
{
    for (int r = R_OBSERVER; r <= R_COORDINATOR; r++)
        if (name && strcmp(name, role_names[r]) == 0)
            return r;
    return R_NONE;
}

static int embargoed(const ctx *c)
{
    return c->embargo_end && c->now < c->embargo_end && !c->lifted;
}

static int ctx_row(sqlite3_stmt *st, void *ud)
{
    ctx *c = ud;
    c->cid = sqlite3_column_int64(st, 0);
    snprintf(c->case_id, sizeof(c->case_id), "%s", (const char *)sqlite3_column_text(st, 1));
    c->embargo_end = col_us(st, 2);
    c->lifted = col_us(st, 3);
    c->published = col_us(st, 4);
    c->deadline = col_us(st, 7);
    if (c->actor) {
        c->role = role_parse((const char *)sqlite3_column_text(st, 5));
        const unsigned char *v = sqlite3_column_text(st, 6);
        snprintf(c->vendor, sizeof(c->vendor), "%s", v ? (const char *)v : "");
    }
    return 0;
}

/* Loads the case and the actor's role into c.  ACCORD_ENOTFOUND when the case does not exist,
 * or exists only for its participants and actor is not one. */
static int load_ctx(accord_store *s, const char *case_id, const char *actor, ctx *c,
                    accord_error *err)
{
    memset(c, 0, sizeof(*c));
    c->s = s;
    c->actor = actor;
    c->now = ts_now_us();
    c->role = actor ? R_NONE : R_OPERATOR;
    /* the case and the actor's part in it in one statement: every request starts here */
    int rc = EACH(s,
                  "SELECT c.cid, c.id, c.embargo_end, c.lifted, c.published, p.role, p.vendor,"
                  " c.deadline"
                  " FROM cases c LEFT JOIN case_parts p ON p.cid = c.cid AND p.account = ?2"
                  " WHERE c.id = ?1",
                  ctx_row, c, err, A_T(case_id ? case_id : ""), A_T(actor ? actor : ""));
    if (rc)
        return rc;
    if (!c->cid)
        return accord_err_set(err, ACCORD_ENOTFOUND, "case: no case %s", case_id ? case_id : "");
    if (c->role == R_NONE && !c->published)
        return accord_err_set(err, ACCORD_ENOTFOUND, "case: no case %s", case_id);
    return 0;
}

static int need(const ctx *c, int min_role, const char *what, accord_error *err)
{
    if (c->role >= min_role && !(c->role == R_VENDOR && min_role == R_REPORTER))
        return 0;
    return accord_err_set(err, ACCORD_EINVAL,
                          "case %s: not allowed: %s needs the %s role (%s has %s)", c->case_id,
                          what, role_names[min_role], actor_name(c), role_names[c->role]);
}

static int text_ok(const char *what, const char *v, int required, accord_error *err)
{
    if (!v || !*v)
        return required ? accord_err_set(err, ACCORD_EINVAL, "case: %s is required", what) : 0;
    if (strlen(v) > TEXT_MAX)
        return accord_err_set(err, ACCORD_ELIMIT, "case: %s longer than %d bytes", what, TEXT_MAX);
    return 0;
}

static int account_exists(accord_store *s, const char *name)
{
    return EXISTS(s, "SELECT 1 FROM accounts WHERE name = ?1", A_T(name));
}

static int put_participant(ctx *c, const char *account, int role, const char *vendor,
                           accord_error *err)
{
    if (!account_exists(c->s, account))
        return accord_err_set(err, ACCORD_ENOTFOUND, "case %s: no account %s", c->case_id, account);
    return RUN(c->s, "adding a participant",
               "INSERT INTO case_parts(cid, account, role, vendor, added)"
               " VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(cid, account) DO UPDATE SET"
               " role = excluded.role, vendor = excluded.vendor",
               err, A_I(c->cid), A_T(account), A_T(role_names[role]), A_T(vendor), A_I(c->now));
}

/* ------------------------------------------------------------------------------------------ */
/* Changes                                                                                      */

int accord_case_open(accord_store *s, const char *actor, const accord_case_spec *spec, char *id_out,
                     accord_error *err)
{
    int64_t embargo = 0, deadline = 0;
    int role = spec->role ? role_parse(spec->role) : R_REPORTER;
    int rc = text_ok("title", spec->title, 1, err);
    if (!rc)
        rc = text_ok("summary", spec->summary, 0, err);
    if (rc)
        return rc;
    if (role != R_REPORTER && role != R_COORDINATOR)
        return accord_err_set(err, ACCORD_EINVAL,
                              "case: the opener is reporter or coordinator, not %s", spec->role);
    if (spec->embargo && accord_instant_parse(spec->embargo, &embargo))
        return accord_err_set(err, ACCORD_EINVAL,
                              "case: embargo \"%s\" is not an RFC 3339 instant with offset",
                              spec->embargo);
    if (spec->deadline && accord_instant_parse(spec->deadline, &deadline))
        return accord_err_set(err, ACCORD_EINVAL,
                              "case: deadline \"%s\" is not an RFC 3339 instant with offset",
                              spec->deadline);
    if ((rc = begin(s, err)))
        return rc;
    ctx c = {.s = s, .actor = actor, .now = ts_now_us(), .role = actor ? role : R_OPERATOR};
    c.cid = store_scalar(s, "SELECT coalesce(max(cid), 0) + 1 FROM cases");
    char year[8], vuln[64], uuid[37];
    case_time(c.now, year, sizeof(year));
    snprintf(c.case_id, sizeof(c.case_id), "CASE-%.4s-%04lld", year, (long long)c.cid);
    accord_uuid4(uuid);
    snprintf(vuln, sizeof(vuln), "vulnerability--%s", uuid);
    rc = RUN(s, "opening a case",
             "INSERT INTO cases(cid, id, title, summary, created, embargo_end, embargo_text,"
             " deadline, vuln_id) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
             err, A_I(c.cid), A_T(c.case_id), A_T(spec->title), A_T(spec->summary), A_I(c.now),
             A_US(embargo), A_T(spec->embargo), A_US(deadline), A_T(vuln));
    if (!rc && actor)
        rc = put_participant(&c, actor, role, NULL, err);
    if (!rc && spec->coordinator)
        rc = put_participant(&c, spec->coordinator, R_COORDINATOR, NULL, err);
    rc = finish(&c, rc, "open", spec->title, err);
    if (!rc && id_out)
        snprintf(id_out, ACCORD_CASE_ID_MAX, "%s", c.case_id);
    return rc;
}

/* Checks a value of accord_case_set; for "cvss", *column gets "cvss3" or "cvss4". */
static int check_field(const char *field, const char *value, const char **column, int64_t *us,
                       accord_error *err)
{
    char e[200] = "";
    *column = field;
    if (strcmp(field, "title") == 0 || strcmp(field, "summary") == 0)
        return text_ok(field, value, strcmp(field, "title") == 0, err);
    if (strcmp(field, "cve") == 0)
        return cve_id_check(value, e, sizeof(e)) ? accord_err_set(err, ACCORD_EINVAL, "case: %s", e)
                                                 : 0;
    if (strcmp(field, "cwe") == 0)
        return cwe_id_check(value, e, sizeof(e)) ? accord_err_set(err, ACCORD_EINVAL, "case: %s", e)
                                                 : 0;
    if (strcmp(field, "cvss") == 0) {
        cvss_score sc;
        if (cvss_parse(value, &sc, e, sizeof(e)))
            return accord_err_set(err, ACCORD_EINVAL, "case: %s", e);
        *column = sc.version == CVSS_V40 ? "cvss4" : "cvss3";
        return 0;
    }
    if (strcmp(field, "embargo") == 0 || strcmp(field, "deadline") == 0) {
        *column = strcmp(field, "embargo") == 0 ? "embargo_end" : "deadline";
        if (accord_instant_parse(value, us))
            return accord_err_set(err, ACCORD_EINVAL,
                                  "case: %s \"%s\" is not an RFC 3339 instant with offset", field,
                                  value);
        return 0;
    }
    if (strcmp(field, "reference") == 0)
        return strncmp(value, "https://", 8) && strncmp(value, "http://", 7)
                   ? accord_err_set(err, ACCORD_EINVAL, "case: reference \"%s\" is not a URL",
                                    value)
                   : 0;
    if (strcmp(field, "indicator") == 0)
        return strncmp(value, "indicator--", 11) || strlen(value) != 47
                   ? accord_err_set(err, ACCORD_EINVAL, "case: \"%s\" is not a STIX indicator id",
                                    value)
                   : 0;
    return accord_err_set(err, ACCORD_EINVAL,
                          "case: unknown field %s (title, summary, cve, cwe, cvss, embargo, "
                          "deadline, reference, indicator)",
                          field);
}

int accord_case_set(accord_store *s, const char *case_id, const char *actor, const char *field,
                    const char *value, accord_error *err)
{
    const char *column;
    int64_t us = 0;
    if (!field || !value)
        return accord_err_set(err, ACCORD_EINVAL, "case: field and value are required");
    int rc = check_field(field, value, &column, &us, err);
    if (rc || (rc = begin(s, err)))
        return rc;
    ctx c;
    if (!(rc = load_ctx(s, case_id, actor, &c, err))) {
        int managing = strcmp(field, "embargo") == 0 || strcmp(field, "deadline") == 0;
        rc = need(&c, managing ? R_COORDINATOR : R_REPORTER, field, err);
    }
    if (!rc && strcmp(field, "embargo") == 0 && c.published)
        rc = accord_err_set(err, ACCORD_EINVAL, "case %s: published; its embargo is over",
                            c.case_id);
    char sql[160];
    if (!rc && (strcmp(field, "reference") == 0 || strcmp(field, "indicator") == 0)) {
        rc = RUN(s, "linking a case",
                 "INSERT OR IGNORE INTO case_links(cid, kind, value) VALUES(?1, ?2, ?3)", err,
                 A_I(c.cid), A_T(field), A_T(value));
    } else if (!rc) {
        /* column is one of check_field's names, never outside text */
        int embargo = strcmp(column, "embargo_end") == 0;
        int instant = embargo || strcmp(column, "deadline") == 0;
        snprintf(sql, sizeof(sql), "UPDATE cases SET %s = ?2%s WHERE cid = ?1", column,
                 embargo ? ", embargo_text = ?3, lifted = NULL" : "");
        rc = RUN(s, "updating a case", sql, err, A_I(c.cid), instant ? A_I(us) : A_T(value),
                 A_T(value));
    }
    char detail[600];
    snprintf(detail, sizeof(detail), "%s = %.500s", field, value);
    return finish(&c, rc, "set", detail, err);
}

int accord_case_add_participant(accord_store *s, const char *case_id, const char *actor,
                                const char *account, const char *role, const char *vendor,
                                accord_error *err)
{
    int r = role_parse(role);
    if (!account || r == R_NONE)
        return accord_err_set(err, ACCORD_EINVAL,
                              "case: a participant needs an account and a role (reporter, "
                              "coordinator, vendor, observer)");
    if ((r == R_VENDOR) != (vendor != NULL))
        return accord_err_set(err, ACCORD_EINVAL,
                              "case: a vendor participant names its vendor, others do not");
    int rc = begin(s, err);
    if (rc)
        return rc;
    ctx c;
    if (!(rc = load_ctx(s, case_id, actor, &c, err)))
        rc = need(&c, R_COORDINATOR, "adding participants", err);
    if (!rc && vendor &&
        !EXISTS(s, "SELECT 1 FROM case_vendors WHERE cid = ?1 AND name = ?2", A_I(c.cid),
                A_T(vendor)))
        rc = accord_err_set(err, ACCORD_ENOTFOUND, "case %s: no vendor %s", c.case_id, vendor);
    if (!rc)
        rc = put_participant(&c, account, r, vendor, err);
    char detail[256];
    snprintf(detail, sizeof(detail), "%s as %s%s%s", account, role_names[r], vendor ? " of " : "",
             vendor ? vendor : "");
    return finish(&c, rc, "participant", detail, err);
}

/* Inserts or updates a vendor inside an open transaction. */
static int put_vendor(ctx *c, const char *name, const char *account, const char *contact,
                      accord_error *err)
{
    int rc = RUN(c->s, "adding a vendor",
                 "INSERT INTO case_vendors(cid, name, account, contact, added)"
                 " VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(cid, name) DO UPDATE SET"
                 " account = coalesce(excluded.account, account),"
                 " contact = coalesce(excluded.contact, contact)",
                 err, A_I(c->cid), A_T(name), A_T(account), A_T(contact), A_I(c->now));
    if (!rc && account)
        rc = put_participant(c, account, R_VENDOR, name, err);
    return rc;
}

int accord_case_add_vendor(accord_store *s, const char *case_id, const char *actor,
                           const char *name, const char *account, const char *contact,
                           accord_error *err)
{
    int rc = text_ok("vendor name", name, 1, err);
    if (rc || (rc = begin(s, err)))
        return rc;
    ctx c;
    if (!(rc = load_ctx(s, case_id, actor, &c, err)))
        rc = need(&c, R_COORDINATOR, "adding vendors", err);
    if (!rc)
        rc = put_vendor(&c, name, account, contact, err);
    return finish(&c, rc, "vendor", name, err);
}

/* Adds the vendors whose profiles cover purl base; reports each to cb.  *first gets the first
 * one's name (for a product given without a vendor). */
typedef struct profile_walk {
    ctx *c;
    const char *base;
    char *first;
    size_t firstlen;
    void (*cb)(void *, const char *);
    void *ud;
    accord_error *err;
} profile_walk;

static int profile_row(sqlite3_stmt *st, void *ud)
{
    profile_walk *w = ud;
    if (!purl_covers((const char *)sqlite3_column_text(st, 1), w->base))
        return 0;
    char *v = col_dup(st, 0), *a = col_dup(st, 2), *ct = col_dup(st, 3);
    int rc = v ? 0 : oom(w->err);
    if (!rc && !w->first[0])
        snprintf(w->first, w->firstlen, "%s", v);
    if (!rc)
        rc = put_vendor(w->c, v, a && account_exists(w->c->s, a) ? a : NULL, ct, w->err);
    if (!rc && w->cb)
        w->cb(w->ud, v);
    free(v), free(a), free(ct);
    return rc;
}

static int vendors_from_profiles(ctx *c, const char *base, char *first, size_t firstlen,
                                 void (*cb)(void *, const char *), void *ud, accord_error *err)
{
    profile_walk w = {c, base, first, firstlen, cb, ud, err};
    return EACH(c->s, "SELECT vendor, purl, account, contact FROM vendor_profiles ORDER BY vendor",
                profile_row, &w, err, A_I(0));
}

int accord_case_add_product(accord_store *s, const char *case_id, const char *actor,
                            const accord_case_product *p, void (*cb)(void *, const char *),
                            void *ud, accord_error *err)
{
    char e[200] = "", vendor[256] = "", name[256] = "";
    purl pu;
    if (!p->purl && !p->cpe && !p->name)
        return accord_err_set(err, ACCORD_EINVAL, "case: a product needs a name, purl or CPE");
    if (p->purl && purl_parse(p->purl, &pu, e, sizeof(e)))
        return accord_err_set(err, ACCORD_EINVAL, "case: product %s: %s", p->purl, e);
    if (p->cpe && cpe23_check(p->cpe, e, sizeof(e)))
        return accord_err_set(err, ACCORD_EINVAL, "case: product %s: %s", p->cpe, e);
    if (p->name)
        snprintf(name, sizeof(name), "%s", p->name);
    else if (p->purl)
        snprintf(name, sizeof(name), "%s", pu.name);
    else {
        char cv[128];
        cpe23_vendor_product(p->cpe, cv, sizeof(cv), name, sizeof(name));
    }
    if (p->vendor)
        snprintf(vendor, sizeof(vendor), "%s", p->vendor);
    int rc = begin(s, err);
    if (rc)
        return rc;
    ctx c;
    if (!(rc = load_ctx(s, case_id, actor, &c, err)))
        rc = need(&c, R_REPORTER, "adding products", err);
    if (!rc && p->purl)
        rc = vendors_from_profiles(&c, pu.base, vendor, sizeof(vendor), cb, ud, err);
    if (!rc && !vendor[0] && p->cpe) {
        char pv[128];
        cpe23_vendor_product(p->cpe, vendor, sizeof(vendor), pv, sizeof(pv));
    }
    if (!rc && !vendor[0])
        rc = accord_err_set(err, ACCORD_EINVAL,
                            "case %s: product %s: no vendor given and no vendor profile covers "
                            "its purl",
                            c.case_id, name);
    if (!rc)
        rc = put_vendor(&c, vendor, NULL, NULL, err);
    if (!rc)
        rc = RUN(s, "adding a product",
                 "INSERT INTO case_products(cid, vendor, name, purl, cpe, affected, fixed)"
                 " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(cid, vendor, name) DO"
                 " UPDATE SET purl = excluded.purl, cpe = excluded.cpe,"
                 " affected = excluded.affected, fixed = excluded.fixed",
                 err, A_I(c.cid), A_T(vendor), A_T(name), A_T(p->purl ? pu.base : NULL),
                 A_T(p->cpe), A_T(p->affected), A_T(p->fixed));
    char detail[2048];
    snprintf(detail, sizeof(detail), "%s %s%s%s", vendor, name, p->purl ? " " : "",
             p->purl ? pu.base : "");
    return finish(&c, rc, "product", detail, err);
}

int accord_case_status(accord_store *s, const char *case_id, const char *actor, const char *vendor,
                       const char *product, const char *status, const char *statement,
                       accord_error *err)
{
    int known = 0;
    for (int i = 0; statuses[i]; i++)
        known |= status && strcmp(status, statuses[i]) == 0;
    if (!known)
        return accord_err_set(err, ACCORD_EINVAL,
                              "case: status \"%s\" is not unknown, under_investigation, affected, "
                              "not_affected or fixed",
                              status ? status : "");
    int rc = text_ok("statement", statement, 0, err);
    if (rc || (rc = begin(s, err)))
        return rc;
    ctx c;
    if (!(rc = load_ctx(s, case_id, actor, &c, err)) && !vendor && c.role == R_VENDOR)
        vendor = c.vendor;
    if (!rc && !vendor)
        rc = accord_err_set(err, ACCORD_EINVAL, "case: which vendor's status?");
    if (!rc && !(c.role >= R_COORDINATOR || (c.role == R_VENDOR && strcmp(c.vendor, vendor) == 0)))
        rc = accord_err_set(
            err, ACCORD_EINVAL,
            "case %s: not allowed: only %s's own participants or a coordinator set its status",
            c.case_id, vendor);
    if (!rc) {
        /* a vendor's first answer of any kind, also about one product, is its response */
        const char *sql = product ? "UPDATE case_products SET status = ?3, statement = ?4,"
                                    " updated = ?6 WHERE cid = ?1 AND vendor = ?2 AND name = ?5"
                                  : "UPDATE case_vendors SET status = ?3, statement = ?4,"
                                    " responded = coalesce(responded, ?6)"
                                    " WHERE cid = ?1 AND name = ?2";
        for (int pass = 0; pass < (product ? 2 : 1) && !rc; pass++) {
            if (pass == 1)
                sql = "UPDATE case_vendors SET responded = coalesce(responded, ?6)"
                      " WHERE cid = ?1 AND name = ?2";
            rc = RUN(s, "setting a status", sql, err, A_I(c.cid), A_T(vendor), A_T(status),
                     A_T(statement), A_T(product), A_I(c.now));
            if (!rc && sqlite3_changes(s->db) == 0)
                rc = accord_err_set(err, ACCORD_ENOTFOUND, "case %s: no %s %s%s%s", c.case_id,
                                    product && !pass ? "product" : "vendor", vendor,
                                    product && !pass ? " " : "", product && !pass ? product : "");
        }
    }
    char detail[600];
    snprintf(detail, sizeof(detail), "%s%s%s: %s", vendor ? vendor : "", product ? " " : "",
             product ? product : "", status);
    return finish(&c, rc, "status", detail, err);
}

int accord_case_post(accord_store *s, const char *case_id, const char *actor, const char *topic,
                     const char *private_vendor, const char *body, int64_t *seq, accord_error *err)
{
    int rc = text_ok("message", body, 1, err);
    if (!rc && topic)
        rc = text_ok("topic", topic, 0, err);
    if (rc || (rc = begin(s, err)))
        return rc;
    ctx c;
    if (!(rc = load_ctx(s, case_id, actor, &c, err)) && c.role <= R_OBSERVER)
        rc = accord_err_set(err, ACCORD_EINVAL, "case %s: not allowed: %s may read but not post",
                            c.case_id, actor_name(&c));
    if (!rc && c.role == R_VENDOR && private_vendor && strcmp(private_vendor, c.vendor) != 0)
        rc = accord_err_set(
            err, ACCORD_EINVAL,
            "case %s: not allowed: a vendor posts privately only in its own thread (%s)", c.case_id,
            c.vendor);
    if (!rc && c.role == R_REPORTER && private_vendor)
        rc = accord_err_set(
            err, ACCORD_EINVAL,
            "case %s: not allowed: private threads are between a vendor and the coordinators",
            c.case_id);
    if (!rc) {
        rc = RUN(s, "posting",
                 "INSERT INTO case_msgs(cid, topic, private_vendor, author, ts, body)"
                 " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
                 err, A_I(c.cid), A_T(topic ? topic : "general"), A_T(private_vendor),
                 A_T(actor_name(&c)), A_I(c.now), A_T(body));
        if (!rc && seq)
            *seq = sqlite3_last_insert_rowid(s->db);
    }
    char detail[300];
    snprintf(detail, sizeof(detail), "%s%s%s", topic ? topic : "general",
             private_vendor ? " (private: " : "", private_vendor ? private_vendor : "");
    if (private_vendor)
        snprintf(detail + strlen(detail), sizeof(detail) - strlen(detail), ")");
    return finish(&c, rc, "post", detail, err);
}

int accord_case_lift(accord_store *s, const char *case_id, const char *actor, const char *reason,
                     accord_error *err)
{
    int rc = begin(s, err);
    if (rc)
        return rc;
    ctx c;
    if (!(rc = load_ctx(s, case_id, actor, &c, err)))
        rc = need(&c, R_COORDINATOR, "lifting the embargo", err);
    if (!rc && !embargoed(&c))
        rc = accord_err_set(err, ACCORD_EINVAL, "case %s: no embargo is running", c.case_id);
    if (!rc)
        rc = RUN(s, "lifting", "UPDATE cases SET lifted = ?2 WHERE cid = ?1", err, A_I(c.cid),
                 A_I(c.now));
    return finish(&c, rc, "lift", reason ? reason : "lifted early", err);
}

int accord_case_publisher_set(accord_store *s, const char *name, const char *namespace_url,
                              accord_error *err)
{
    int rc = text_ok("publisher name", name, 1, err);
    if (!rc && (!namespace_url || strncmp(namespace_url, "https://", 8) != 0))
        rc = accord_err_set(err, ACCORD_EINVAL, "case: the publisher namespace is an https URL");
    if (rc || (rc = begin(s, err)))
        return rc;
    rc = RUN(s, "setting the publisher",
             "INSERT OR REPLACE INTO meta(key, value) VALUES('csaf_publisher_name', ?1),"
             " ('csaf_publisher_namespace', ?2)",
             err, A_T(name), A_T(namespace_url));
    return store_audit_commit(s, rc, "csaf-publisher", name, namespace_url, err);
}

static int uuid4_check(const char *u)
{
    static const char shape[] = "xxxxxxxx-xxxx-4xxx-Nxxx-xxxxxxxxxxxx";
    if (!u || strlen(u) != sizeof(shape) - 1)
        return -1;
    for (size_t i = 0; shape[i]; i++) {
        int ok = shape[i] == 'x'   ? isxdigit((unsigned char)u[i])
                 : shape[i] == 'N' ? strchr("89abAB", u[i]) != NULL && u[i]
                                   : u[i] == shape[i];
        if (!ok)
            return -1;
    }
    return 0;
}

int accord_case_cna_set(accord_store *s, const char *org_id, const char *short_name,
                        accord_error *err)
{
    if (uuid4_check(org_id))
        return accord_err_set(err, ACCORD_EINVAL,
                              "case: CNA org id \"%s\" is not a version 4 UUID (CVE JSON 5 "
                              "orgId)",
                              org_id ? org_id : "");
    size_t sl = short_name ? strlen(short_name) : 0;
    if (short_name && (sl < 2 || sl > 32))
        return accord_err_set(err, ACCORD_EINVAL,
                              "case: CNA short name \"%s\" is not 2 to 32 characters", short_name);
    int rc = begin(s, err);
    if (rc)
        return rc;
    rc = RUN(s, "setting the CNA",
             "INSERT OR REPLACE INTO meta(key, value) VALUES('cve_org_id', ?1),"
             " ('cve_short_name', ?2)",
             err, A_T(org_id), A_T(short_name ? short_name : ""));
    return store_audit_commit(s, rc, "cve-cna", org_id, short_name ? short_name : "", err);
}

int accord_vendor_profile_set(accord_store *s, const char *vendor, const char *purl_prefix,
                              const char *account, const char *contact, accord_error *err)
{
    char e[200];
    purl pu;
    int rc = text_ok("vendor", vendor, 1, err);
    if (rc)
        return rc;
    if (purl_prefix && purl_parse(purl_prefix, &pu, e, sizeof(e)))
        return accord_err_set(err, ACCORD_EINVAL, "vendor profile: %s: %s", purl_prefix, e);
    if (account && !account_exists(s, account))
        return accord_err_set(err, ACCORD_ENOTFOUND, "vendor profile: no account %s", account);
    if ((rc = begin(s, err)))
        return rc;
    rc = RUN(s, "setting a vendor profile",
             purl_prefix ? "INSERT OR REPLACE INTO vendor_profiles(vendor, purl, account, contact)"
                           " VALUES(?1, ?2, ?3, ?4)"
                         : "DELETE FROM vendor_profiles WHERE vendor = ?1",
             err, A_T(vendor), A_T(purl_prefix ? pu.base : NULL), A_T(account), A_T(contact));
    return store_audit_commit(s, rc, "vendor-profile", vendor, purl_prefix ? pu.base : "removed", err);
}

/* ------------------------------------------------------------------------------------------ */
/* Loading a whole case (for publication and the STIX view)                                    */

static void vendor_free(case_vendor *v)
{
    free(v->name), free(v->account), free(v->contact), free(v->status), free(v->statement);
}

static void product_free(case_product *p)
{
    free(p->vendor), free(p->name), free(p->purl), free(p->cpe), free(p->affected);
    free(p->fixed), free(p->status), free(p->statement);
}

void case_data_free(case_data *d)
{
    free(d->title), free(d->summary), free(d->cve), free(d->cwe), free(d->cvss3);
    free(d->cvss4), free(d->vuln_id), free(d->embargo_text), free(d->reporter);
    for (size_t i = 0; i < d->nv; i++)
        vendor_free(&d->v[i]);
    for (size_t i = 0; i < d->np; i++)
        product_free(&d->p[i]);
    for (size_t i = 0; i < d->nrefs; i++)
        free(d->refs[i]);
    for (size_t i = 0; i < d->nind; i++)
        free(d->indicators[i]);
    free(d->v), free(d->p), free(d->refs), free(d->indicators), free(d->revs);
    free(d->x_notes), free(d->x_remediations), free(d->x_threats);
    memset(d, 0, sizeof(*d));
}

/* Grows *arr (of elem-sized items) by one zeroed item; NULL when out of memory. */
static void *grow(void *arr_p, size_t *n, size_t elem)
{
    void **arr = arr_p;
    void *p = realloc(*arr, (*n + 1) * elem);
    if (!p)
        return NULL;
    *arr = p;
    memset((char *)p + *n * elem, 0, elem);
    return (char *)p + (*n)++ * elem;
}

typedef struct loader {
    case_data *d;
    accord_error *err;
} loader;

static int head_row(sqlite3_stmt *st, void *ud)
{
    case_data *d = ((loader *)ud)->d;
    char **f[] = {&d->title, &d->summary, &d->cve,     &d->cwe,
                  &d->cvss3, &d->cvss4,   &d->vuln_id, &d->embargo_text};
    for (int i = 0; i < 8; i++)
        *f[i] = col_dup(st, i);
    d->created = col_us(st, 8), d->embargo_end = col_us(st, 9), d->lifted = col_us(st, 10);
    d->deadline = col_us(st, 11), d->published = col_us(st, 12);
    d->revision = sqlite3_column_int(st, 13);
    d->reporter = col_dup(st, 14);
    return 0;
}

static int publisher_row(sqlite3_stmt *st, void *ud)
{
    case_data *d = ((loader *)ud)->d;
    const char *k = (const char *)sqlite3_column_text(st, 0);
    const char *v = (const char *)sqlite3_column_text(st, 1);
    static const char *const keys[] = {"csaf_publisher_name", "csaf_publisher_namespace",
                                       "cve_org_id", "cve_short_name"};
    char *const slots[] = {d->publisher_name, d->publisher_namespace, d->cve_org, d->cve_short};
    const size_t sizes[] = {sizeof(d->publisher_name), sizeof(d->publisher_namespace),
                            sizeof(d->cve_org), sizeof(d->cve_short)};
    for (int i = 0; i < 4; i++)
        if (v && strcmp(k, keys[i]) == 0)
            snprintf(slots[i], sizes[i], "%s", v);
    return 0;
}

static int vendor_row(sqlite3_stmt *st, void *ud)
{
    loader *l = ud;
    case_vendor *v = grow(&l->d->v, &l->d->nv, sizeof(*v));
    if (!v)
        return oom(l->err);
    v->vid = sqlite3_column_int64(st, 0);
    v->name = col_dup(st, 1), v->account = col_dup(st, 2), v->contact = col_dup(st, 3);
    v->status = col_dup(st, 4), v->statement = col_dup(st, 5);
    v->responded = col_us(st, 6), v->added = col_us(st, 7);
    return 0;
}

static int product_row(sqlite3_stmt *st, void *ud)
{
    loader *l = ud;
    case_product *p = grow(&l->d->p, &l->d->np, sizeof(*p));
    if (!p)
        return oom(l->err);
    p->pid = sqlite3_column_int64(st, 0);
    char **f[] = {&p->vendor,   &p->name,  &p->purl,   &p->cpe,
                  &p->affected, &p->fixed, &p->status, &p->statement};
    for (int i = 0; i < 8; i++)
        *f[i] = col_dup(st, i + 1);
    p->updated = col_us(st, 9);
    return 0;
}

static int link_row(sqlite3_stmt *st, void *ud)
{
    loader *l = ud;
    case_data *d = l->d;
    int ind = strcmp((const char *)sqlite3_column_text(st, 0), "indicator") == 0;
    char **slot = ind ? grow(&d->indicators, &d->nind, sizeof(char *))
                      : grow(&d->refs, &d->nrefs, sizeof(char *));
    return !slot || !(*slot = col_dup(st, 1)) ? oom(l->err) : 0;
}

static int revision_row(sqlite3_stmt *st, void *ud)
{
    loader *l = ud;
    case_revision *r = grow(&l->d->revs, &l->d->nrevs, sizeof(*r));
    if (!r)
        return oom(l->err);
    r->number = sqlite3_column_int(st, 0);
    r->date = sqlite3_column_int64(st, 1);
    return 0;
}

enum { LOAD_HEAD = 0, LOAD_ALL = 1 };

/* Loads the case into d: with LOAD_HEAD its properties and links (what the case view shows),
 * with LOAD_ALL also the publisher, vendors, products and revisions (what publication needs). */
static int case_data_load(const ctx *c, int what, case_data *d, accord_error *err)
{
    memset(d, 0, sizeof(*d));
    d->cid = c->cid;
    d->now = c->now;
    snprintf(d->id, sizeof(d->id), "%s", c->case_id);
    snprintf(d->publisher_name, sizeof(d->publisher_name), "%s", "accord");
    snprintf(d->publisher_namespace, sizeof(d->publisher_namespace), "%s",
             "https://accord.invalid");
    loader l = {d, err};
    int rc = EACH(c->s,
                  "SELECT title, summary, cve, cwe, cvss3, cvss4, vuln_id, embargo_text,"
                  " created, embargo_end, lifted, deadline, published, revision,"
                  " (SELECT account FROM case_parts p WHERE p.cid = cases.cid AND"
                  " role = 'reporter' ORDER BY added LIMIT 1)"
                  " FROM cases WHERE cid = ?1",
                  head_row, &l, err, A_I(c->cid));
    if (!rc)
        rc = EACH(c->s, "SELECT kind, value FROM case_links WHERE cid = ?1 ORDER BY kind, value",
                  link_row, &l, err, A_I(c->cid));
    if (!rc && what == LOAD_ALL)
        rc = EACH(c->s,
                  "SELECT key, value FROM meta WHERE key IN ('csaf_publisher_name',"
                  " 'csaf_publisher_namespace', 'cve_org_id', 'cve_short_name')",
                  publisher_row, &l, err, A_I(0));
    if (!rc && what == LOAD_ALL)
        rc = EACH(c->s,
                  "SELECT vid, name, account, contact, status, statement, responded, added"
                  " FROM case_vendors WHERE cid = ?1 ORDER BY vid",
                  vendor_row, &l, err, A_I(c->cid));
    if (!rc && what == LOAD_ALL)
        rc = EACH(c->s,
                  "SELECT pid, vendor, name, purl, cpe, affected, fixed, status, statement,"
                  " updated FROM case_products WHERE cid = ?1 ORDER BY pid",
                  product_row, &l, err, A_I(c->cid));
    if (!rc && what == LOAD_ALL)
        rc = EACH(c->s,
                  "SELECT revision, min(date) FROM case_docs WHERE cid = ?1"
                  " GROUP BY revision ORDER BY revision",
                  revision_row, &l, err, A_I(c->cid));
    if (rc)
        case_data_free(d);
    return rc;
}

const char *case_vendor_shown_status(const case_data *d, const case_vendor *v)
{
    if (!v->responded && strcmp(v->status, "unknown") == 0 && d->deadline && d->now >= d->deadline)
        return "no_response";
    return v->status;
}

const char *case_product_status(const case_data *d, const case_product *p)
{
    if (strcmp(p->status, "unknown") != 0)
        return p->status;
    for (size_t i = 0; i < d->nv; i++)
        if (strcmp(d->v[i].name, p->vendor) == 0)
            return d->v[i].status;
    return p->status;
}

/* ------------------------------------------------------------------------------------------ */
/* Publication                                                                                  */

/* Stores the STIX bundle through the import pipeline (validated like any other input), in the
 * publication's transaction. */
static int import_stix(accord_store *s, const buf *b, accord_error *err)
{
    int fd = memfd_create("accord-case-stix", MFD_CLOEXEC);
    if (fd < 0)
        return accord_err_set(err, ACCORD_EIO, "case: memfd_create failed");
    int rc = 0;
    if (write(fd, b->p, b->len) != (ssize_t)b->len || lseek(fd, 0, SEEK_SET) != 0)
        rc = accord_err_set(err, ACCORD_EIO, "case: writing the STIX bundle failed");
    accord_import_options o = {.flags = ACCORD_IMPORT_STRICT, .source = "case publication"};
    accord_import_stats stats;
    if (!rc)
        rc = import_fd_in_txn(s, fd, &o, &stats, err);
    close(fd);
    return rc;
}

static int put_doc(ctx *c, int revision, const char *kind, const char *name, const buf *b,
                   accord_error *err)
{
    return RUN(c->s, "storing a document",
               "INSERT OR REPLACE INTO case_docs(cid, revision, kind, name, date, body)"
               " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
               err, A_I(c->cid), A_I(revision), A_T(kind), A_T(name), A_I(c->now),
               A_TN(b->p, b->len));
}

/* Renders and stores the documents of the revision being published: the STIX bundle into the
 * objects table, CSAF, STIX, OSV and CVE documents into case_docs, and the case's new revision. */
static int publish_docs(ctx *c, case_data *d, accord_error *err)
{
    buf csaf, stix, doc;
    buf_init(&csaf, VIEW_MAX);
    buf_init(&stix, VIEW_MAX);
    buf_init(&doc, VIEW_MAX);
    int rc = csaf_render(d, &csaf, err);
    if (!rc && case_stix_render(d, &stix))
        rc = accord_err_set(err, ACCORD_ENOMEM, "case: rendering the STIX bundle failed");
    if (!rc)
        rc = import_stix(c->s, &stix, err);
    if (!rc)
        rc = put_doc(c, d->revision, "csaf", "csaf", &csaf, err);
    if (!rc)
        rc = put_doc(c, d->revision, "stix", "stix", &stix, err);
    for (size_t i = 0; i < d->np && !rc; i++) {
        buf_reset(&doc);
        if (osv_render(d, &d->p[i], &doc) == 0)
            rc = put_doc(c, d->revision, "osv", d->p[i].name, &doc, err);
    }
    if (!rc && d->cve) { /* a CVE record only for a case with a CVE id */
        buf_reset(&doc);
        if (!(rc = case_cve_render(d, &doc, err)))
            rc = put_doc(c, d->revision, "cve", "cve", &doc, err);
    }
    if (!rc)
        rc = RUN(c->s, "publishing",
                 "UPDATE cases SET revision = ?2, published = coalesce(published, ?3)"
                 " WHERE cid = ?1",
                 err, A_I(c->cid), A_I(d->revision), A_I(c->now));
    buf_free(&csaf), buf_free(&stix), buf_free(&doc);
    return rc;
}

/* Publication is one transaction (a store_begin one, because the STIX objects go through the
 * import pipeline's pending writes): the STIX objects, the documents, the case's revision, the
 * timeline event and the audit record commit together or not at all. */
int accord_case_publish(accord_store *s, const char *case_id, const char *actor, accord_error *err)
{
    ctx c;
    case_data d;
    int rc = store_begin(s, err);
    if (rc)
        return rc;
    if (!(rc = load_ctx(s, case_id, actor, &c, err)))
        rc = need(&c, R_COORDINATOR, "publication", err);
    if (!rc && embargoed(&c)) {
        char end[40];
        case_time(c.embargo_end, end, sizeof(end));
        rc = accord_err_set(err, ACCORD_EINVAL,
                            "case %s: the embargo runs until %s; publication before it is "
                            "refused (a coordinator may lift it)",
                            c.case_id, end);
    }
    if (!rc && !(rc = case_data_load(&c, LOAD_ALL, &d, err))) {
        /* the revision being published, with its date, is part of what the documents show */
        case_revision *r = grow(&d.revs, &d.nrevs, sizeof(*r));
        if (!r) {
            rc = oom(err);
        } else {
            r->number = ++d.revision;
            r->date = c.now;
            if (!d.published)
                d.published = c.now;
            rc = publish_docs(&c, &d, err);
        }
        char detail[64];
        snprintf(detail, sizeof(detail), "revision %d", d.revision);
        if (!rc)
            rc = RUN(s, "case event",
                     "INSERT INTO case_events(cid, ts, actor, kind, detail)"
                     " VALUES(?1, ?2, ?3, 'publish', ?4)",
                     err, A_I(c.cid), A_I(c.now), A_T(actor_name(&c)), A_T(detail));
        if (!rc) {
            char a[512];
            snprintf(a, sizeof(a), "%s by %s: %s", c.case_id, actor_name(&c), detail);
            rc = store_audit(s, "case-publish", 0, c.case_id, a, err);
        }
        case_data_free(&d);
    }
    if (!rc)
        rc = store_commit(s, err);
    else
        store_rollback(s);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Views                                                                                        */

static void json_time(buf *b, int64_t us)
{
    char t[40];
    if (!us) {
        buf_adds(b, "null");
        return;
    }
    case_time(us, t, sizeof(t));
    buf_json_str(b, t);
}

void case_json_kv(buf *b, const char *key, const char *v)
{
    buf_adds(b, "\"");
    buf_adds(b, key);
    buf_adds(b, "\":");
    buf_json_str(b, v ? v : "");
}

static void json_opt(buf *b, const char *v)
{
    if (v)
        buf_json_str(b, v);
    else
        buf_adds(b, "null");
}

static void json_cvss(buf *b, const char *vector)
{
    cvss_score sc;
    if (!vector || cvss_parse(vector, &sc, NULL, 0)) {
        buf_adds(b, "null");
        return;
    }
    buf_adds(b, "{\"vector\":");
    buf_json_str(b, vector);
    buf_printf(b, ",\"base_score\":%.1f,\"severity\":\"%s\"}", sc.base, sc.severity);
}

/* Writes each row as a JSON object of text (or null) columns named keys, comma-separated. */
typedef struct json_rows {
    buf *b;
    const char *const *keys;
    int nkeys;
    unsigned n; /* rows written */
} json_rows;

/* Writes {"keys[0]":column col0, ...} of n text (or null) columns.  Without printf: pages of
 * hundreds of rows spend most of their time here. */
static void json_text_object(buf *b, sqlite3_stmt *st, int col0, const char *const *keys, int n)
{
    for (int f = 0; f < n; f++) {
        buf_adds(b, f ? ",\"" : "{\"");
        buf_adds(b, keys[f]);
        buf_adds(b, "\":");
        json_opt(b, (const char *)sqlite3_column_text(st, col0 + f));
    }
    buf_adds(b, "}");
}

static int json_row(sqlite3_stmt *st, void *ud)
{
    json_rows *o = ud;
    buf_adds(o->b, o->n++ ? "," : "");
    json_text_object(o->b, st, 0, o->keys, o->nkeys);
    return 0;
}

/* Audits a read of a case not yet public (embargoed, or awaiting publication), in its own
 * transaction. */
static int audit_read(ctx *c, const char *view, accord_error *err)
{
    if (c->published)
        return 0;
    int rc = begin(c->s, err);
    if (rc)
        return rc;
    char d[200];
    snprintf(d, sizeof(d), "%s read %s of unpublished %s%s", actor_name(c), view, c->case_id,
             embargoed(c) ? " (embargoed)" : "");
    return store_audit_commit(c->s, 0, "case-read", c->case_id, d, err);
}

static int view_case(ctx *c, buf *b, accord_error *err)
{
    case_data d;
    int rc = case_data_load(c, LOAD_HEAD, &d, err);
    if (rc)
        return rc;
    buf_adds(b, "{\"id\":");
    buf_json_str(b, d.id);
    buf_adds(b, ",\"title\":");
    buf_json_str(b, d.title);
    buf_adds(b, ",\"summary\":");
    json_opt(b, d.summary);
    buf_adds(b, ",\"created\":");
    json_time(b, d.created);
    buf_adds(b, ",\"embargo\":{\"end\":");
    json_opt(b, d.embargo_text);
    buf_adds(b, ",\"end_utc\":");
    json_time(b, d.embargo_end);
    buf_adds(b, ",\"lifted\":");
    json_time(b, d.lifted);
    buf_printf(b, ",\"active\":%s}", embargoed(c) ? "true" : "false");
    buf_adds(b, ",\"deadline\":");
    json_time(b, d.deadline);
    buf_adds(b, ",\"published\":");
    json_time(b, d.published);
    buf_printf(b, ",\"revision\":%d,\"cve\":", d.revision);
    json_opt(b, d.cve);
    buf_adds(b, ",\"cwe\":");
    json_opt(b, d.cwe);
    buf_adds(b, ",\"cvss_v3\":");
    json_cvss(b, d.cvss3);
    buf_adds(b, ",\"cvss_v4\":");
    json_cvss(b, d.cvss4);
    buf_adds(b, ",\"stix_id\":");
    buf_json_str(b, d.vuln_id);
    buf_adds(b, ",\"references\":[");
    for (size_t i = 0; i < d.nrefs; i++) {
        buf_adds(b, i ? "," : "");
        buf_json_str(b, d.refs[i]);
    }
    buf_adds(b, "],\"your_role\":");
    buf_json_str(b, role_names[c->role]);
    if (c->role != R_NONE) {
        buf_adds(b, ",\"indicators\":[");
        for (size_t i = 0; i < d.nind; i++) {
            buf_adds(b, i ? "," : "");
            buf_json_str(b, d.indicators[i]);
        }
        buf_adds(b, "],\"participants\":[");
        static const char *const keys[] = {"account", "role", "vendor"};
        json_rows o = {b, keys, 3, 0};
        rc = EACH(c->s, "SELECT account, role, vendor FROM case_parts WHERE cid = ?1"
                  " ORDER BY account",
                  json_row, &o, err, A_I(c->cid));
        buf_adds(b, "]");
    }
    buf_adds(b, "}");
    case_data_free(&d);
    return rc;
}

/* A page of rows: items written, the paging key of the last one, whether more follow. */
typedef struct page_out {
    ctx *c;
    buf *b;
    unsigned limit, n;
    int64_t last;
    int more;
    case_data d; /* for the status rule: deadline and now */
    int msgs;    /* view_list: messages (else timeline events) */
    int open;    /* view_vendors: a vendor's products array is open */
    const char *actor; /* accord_case_list: NULL = operator */
} page_out;

/* Starts a row of key `key` on the page: 0 to write it, ROW_STOP past the limit. */
static int page_row(page_out *o, int64_t key)
{
    if (o->n == o->limit) {
        o->more = 1;
        return ROW_STOP;
    }
    buf_adds(o->b, o->n++ ? "," : "");
    o->last = key;
    return 0;
}

static void page_end(buf *b, const page_out *o)
{
    buf_printf(b, "],\"more\":%s,\"next\":%lld}", o->more ? "true" : "false",
               o->more ? (long long)o->last : 0LL);
}

/* One row per product (or one with NULL products for a vendor without any), vendors in vid
 * order: a vendor's object opens at its first row and closes at the next vendor's or the end. */
static int vendor_page_row(sqlite3_stmt *st, void *ud)
{
    page_out *o = ud;
    buf *b = o->b;
    int64_t vid = sqlite3_column_int64(st, 0);
    if (!o->open || vid != o->last) {
        if (o->open)
            buf_adds(b, "]}");
        o->open = 0;
        int rc = page_row(o, vid);
        if (rc)
            return rc;
        o->open = 1;
        case_vendor v = {.status = (char *)sqlite3_column_text(st, 4), .responded = col_us(st, 6)};
        buf_adds(b, "{\"vendor\":");
        buf_json_str(b, (const char *)sqlite3_column_text(st, 1));
        buf_adds(b, ",\"member\":");
        json_opt(b, (const char *)sqlite3_column_text(st, 2));
        if (o->c->role >= R_COORDINATOR) {
            buf_adds(b, ",\"contact\":");
            json_opt(b, (const char *)sqlite3_column_text(st, 3));
        }
        buf_adds(b, ",\"status\":");
        buf_json_str(b, case_vendor_shown_status(&o->d, &v));
        buf_adds(b, ",\"statement\":");
        json_opt(b, (const char *)sqlite3_column_text(st, 5));
        buf_adds(b, ",\"responded\":");
        json_time(b, v.responded);
        buf_adds(b, ",\"products\":[");
    } else {
        buf_adds(b, ",");
    }
    if (sqlite3_column_type(st, 7) == SQLITE_NULL)
        return 0;
    static const char *const keys[] = {"name",  "purl",   "cpe",      "affected",
                                       "fixed", "status", "statement"};
    json_text_object(b, st, 7, keys, 7);
    return 0;
}

/* Vendors with their products, one statement per page (the vendor filter by its unique key). */
static int view_vendors(ctx *c, const accord_case_page *pg, buf *b, accord_error *err)
{
    page_out o = {.c = c, .b = b, .limit = pg && pg->limit ? pg->limit : 100};
    o.d.now = c->now;
    o.d.deadline = c->deadline;
    const char *vendor = pg ? pg->vendor : NULL;
    char sql[900];
    snprintf(sql, sizeof(sql),
             "SELECT v.vid, v.name, v.account, v.contact, v.status, v.statement, v.responded,"
             " p.name, p.purl, p.cpe, p.affected, p.fixed, p.status, p.statement"
             " FROM (SELECT * FROM case_vendors WHERE cid = ?1 AND vid > ?2%s"
             " ORDER BY vid LIMIT ?4) v"
             " LEFT JOIN case_products p ON p.cid = v.cid AND p.vendor = v.name"
             " ORDER BY v.vid, p.pid",
             vendor ? " AND name = ?3" : "");
    buf_adds(b, "{\"items\":[");
    int rc = EACH(c->s, sql, vendor_page_row, &o, err, A_I(c->cid), A_I(pg ? pg->after : 0),
                  A_T(vendor), A_I((int64_t)o.limit + 1));
    if (o.open)
        buf_adds(b, "]}");
    page_end(b, &o);
    return rc;
}

static int list_row(sqlite3_stmt *st, void *ud)
{
    page_out *o = ud;
    buf *b = o->b;
    int64_t seq = sqlite3_column_int64(st, 0);
    int rc = page_row(o, seq);
    if (rc)
        return rc;
    char num[24];
    int len = snprintf(num, sizeof(num), "%lld", (long long)seq);
    buf_adds(b, "{\"seq\":");
    buf_add(b, num, (size_t)len);
    buf_adds(b, ",\"ts\":");
    json_time(b, sqlite3_column_int64(st, 1));
    buf_adds(b, o->msgs ? ",\"author\":" : ",\"actor\":");
    buf_json_str(b, (const char *)sqlite3_column_text(st, 2));
    buf_adds(b, o->msgs ? ",\"topic\":" : ",\"kind\":");
    buf_json_str(b, (const char *)sqlite3_column_text(st, 3));
    if (o->msgs) {
        buf_adds(b, ",\"private_vendor\":");
        json_opt(b, (const char *)sqlite3_column_text(st, 4));
    }
    buf_adds(b, o->msgs ? ",\"body\":" : ",\"detail\":");
    json_opt(b, (const char *)sqlite3_column_text(st, 5));
    buf_adds(b, "}");
    return 0;
}

/* Messages and timeline share the paging; private threads are filtered here, in SQL. */
static int view_list(ctx *c, int view, const accord_case_page *pg, buf *b, accord_error *err)
{
    page_out o = {.c = c,
                  .b = b,
                  .limit = pg && pg->limit ? pg->limit : 100,
                  .msgs = view == ACCORD_CASE_VIEW_MESSAGES};
    const char *sql =
        o.msgs ? "SELECT seq, ts, author, topic, private_vendor, body FROM case_msgs"
                 " WHERE cid = ?1 AND seq > ?2 AND (?3 IS NULL OR topic = ?3)"
                 " AND (private_vendor IS NULL OR ?4 OR private_vendor = ?5)"
                 " ORDER BY seq LIMIT ?6"
               : "SELECT seq, ts, actor, kind, NULL, detail FROM case_events"
                 " WHERE cid = ?1 AND seq > ?2 ORDER BY seq LIMIT ?6";
    buf_adds(b, "{\"items\":[");
    int rc = EACH(c->s, sql, list_row, &o, err, A_I(c->cid), A_I(pg ? pg->after : 0),
                  A_T(pg ? pg->topic : NULL), A_I(c->role >= R_COORDINATOR),
                  A_T(c->role == R_VENDOR ? c->vendor : ""), A_I((int64_t)o.limit + 1));
    page_end(b, &o);
    return rc;
}

typedef struct doc_out {
    buf *b;
    int n, array;
} doc_out;

static int doc_row(sqlite3_stmt *st, void *ud)
{
    doc_out *o = ud;
    buf_adds(o->b, o->n++ && o->array ? "," : "");
    buf_add(o->b, sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0));
    return 0;
}

/* The latest published document(s) of kind; OSV records as an array. */
static int view_doc(ctx *c, const char *kind, buf *b, accord_error *err)
{
    doc_out o = {b, 0, strcmp(kind, "osv") == 0};
    if (o.array)
        buf_adds(b, "[");
    int rc = EACH(c->s,
                  "SELECT body FROM case_docs WHERE cid = ?1 AND kind = ?2 AND revision ="
                  " (SELECT max(revision) FROM case_docs WHERE cid = ?1) ORDER BY name",
                  doc_row, &o, err, A_I(c->cid), A_T(kind));
    if (o.array)
        buf_adds(b, "]");
    else if (!rc && !o.n)
        return accord_err_set(err, ACCORD_ENOTFOUND, "case %s: not published yet", c->case_id);
    return rc;
}

int accord_case_view(accord_store *s, const char *case_id, const char *actor, int view,
                     const accord_case_page *page, char **json, accord_error *err)
{
    static const char *const names[] = {"case", "vendors", "messages", "timeline",
                                        "csaf", "osv",     "stix",     "cve"};
    *json = NULL;
    if (view < ACCORD_CASE_VIEW_CASE || view > ACCORD_CASE_VIEW_CVE)
        return accord_err_set(err, ACCORD_EINVAL, "case: unknown view %d", view);
    if (page && page->limit > ACCORD_CASE_PAGE_MAX)
        return accord_err_set(err, ACCORD_EINVAL, "case: limit %u is above %d", page->limit,
                              ACCORD_CASE_PAGE_MAX);
    ctx c;
    int rc = load_ctx(s, case_id, actor, &c, err);
    if (rc)
        return rc;
    /* published cases show their public parts to everyone; the conversation stays private */
    if (c.role == R_NONE &&
        (view == ACCORD_CASE_VIEW_MESSAGES || view == ACCORD_CASE_VIEW_TIMELINE))
        return accord_err_set(err, ACCORD_ENOTFOUND, "case %s: %s are for participants", c.case_id,
                              names[view]);
    if ((rc = audit_read(&c, names[view], err)))
        return rc;
    buf b;
    buf_init(&b, VIEW_MAX);
    switch (view) {
    case ACCORD_CASE_VIEW_CASE:
        rc = view_case(&c, &b, err);
        break;
    case ACCORD_CASE_VIEW_VENDORS:
        rc = view_vendors(&c, page, &b, err);
        break;
    case ACCORD_CASE_VIEW_MESSAGES:
    case ACCORD_CASE_VIEW_TIMELINE:
        rc = view_list(&c, view, page, &b, err);
        break;
    case ACCORD_CASE_VIEW_STIX:
        if (!c.published) {
            case_data d;
            if (!(rc = case_data_load(&c, LOAD_ALL, &d, err))) {
                rc =
                    case_stix_render(&d, &b) ? accord_err_set(err, ACCORD_ENOMEM, "case: stix") : 0;
                case_data_free(&d);
            }
            break;
        }
        /* fall through */
    default:
        rc = view_doc(&c, names[view], &b, err);
    }
    if (!rc && b.failed)
        rc = accord_err_set(err, ACCORD_ELIMIT, "case %s: view larger than %u bytes", c.case_id,
                            VIEW_MAX);
    if (!rc)
        *json = buf_take(&b, NULL);
    buf_free(&b);
    return rc;
}

static int case_list_row(sqlite3_stmt *st, void *ud)
{
    page_out *o = ud;
    buf *b = o->b;
    int rc = page_row(o, sqlite3_column_int64(st, 0));
    if (rc)
        return rc;
    int64_t end = col_us(st, 3), lifted = col_us(st, 4);
    buf_adds(b, "{\"id\":");
    buf_json_str(b, (const char *)sqlite3_column_text(st, 1));
    buf_adds(b, ",\"title\":");
    buf_json_str(b, (const char *)sqlite3_column_text(st, 2));
    buf_printf(b, ",\"embargoed\":%s,\"published\":",
               end && o->d.now < end && !lifted ? "true" : "false");
    json_time(b, col_us(st, 5));
    buf_adds(b, ",\"role\":");
    json_opt(b, o->actor ? (const char *)sqlite3_column_text(st, 6) : "operator");
    buf_adds(b, "}");
    return 0;
}

int accord_case_list(accord_store *s, const char *actor, const accord_case_page *page, char **json,
                     accord_error *err)
{
    *json = NULL;
    buf b;
    page_out o = {.b = &b, .limit = page && page->limit ? page->limit : 100, .actor = actor};
    o.d.now = ts_now_us();
    if (o.limit > ACCORD_CASE_PAGE_MAX)
        return accord_err_set(err, ACCORD_EINVAL, "case: limit %u is above %d", o.limit,
                              ACCORD_CASE_PAGE_MAX);
    buf_init(&b, VIEW_MAX);
    buf_adds(&b, "{\"items\":[");
    int rc = EACH(s,
                  "SELECT c.cid, c.id, c.title, c.embargo_end, c.lifted, c.published, p.role"
                  " FROM cases c LEFT JOIN case_parts p ON p.cid = c.cid AND p.account = ?2"
                  " WHERE c.cid < ?1 AND (?3 OR p.role IS NOT NULL OR c.published IS NOT NULL)"
                  " ORDER BY c.cid DESC LIMIT ?4",
                  case_list_row, &o, err,
                  A_I(page && page->after ? page->after : INT64_MAX), A_T(actor ? actor : ""),
                  A_I(actor == NULL), A_I((int64_t)o.limit + 1));
    page_end(&b, &o);
    if (!rc && b.failed)
        rc = accord_err_set(err, ACCORD_ELIMIT, "case: list too large");
    else if (!rc)
        *json = buf_take(&b, NULL);
    buf_free(&b);
    return rc;
}
