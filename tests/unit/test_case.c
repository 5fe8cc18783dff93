/*
 * test_case.c - the disclosure subsystem's parsers and rules: CVSS v3.0/v3.1 scores against every
 * vector with its published scores in the CSAF samples (OASIS examples and CISA advisories under
 * ../shared/data) and v4.0 against published examples; package URLs, CPE 2.3 strings, CVE/CWE
 * ids and RFC 3339 instants with offsets, good and bad; and the case rules on a real store:
 * roles, the embargo refusing publication, private threads, "no response" after the deadline,
 * paging, vendors found from purl profiles, the audit of unpublished reads, and publication
 * writing the STIX vulnerability only once allowed, and all or nothing.
 */
#include "accord.h"
#include "case_ident.h"
#include "cvss.h"
#include "t.h"
#include "util/json.h"

#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <sys/stat.h>

/* ------------------------------------------------------------------------------------------ */
/* CVSS against the scores published in CSAF documents                                         */

static int cvss_checked, cvss_mismatch;

static void check_cvss_obj(const ajson_value *o, const char *file)
{
    const char *vec = ajson_str(ajson_get(o, "vectorString"));
    double want, got_t, got_e;
    if (!vec || !ajson_double(ajson_get(o, "baseScore"), &want))
        return;
    cvss_score sc;
    char e[200];
    if (cvss_parse(vec, &sc, e, sizeof(e))) {
        fprintf(stderr, "%s: %s: %s\n", file, vec, e);
        cvss_mismatch++;
        return;
    }
    int bad = fabs(sc.base - want) > 0.001;
    if (ajson_double(ajson_get(o, "temporalScore"), &got_t))
        bad |= fabs(sc.temporal - got_t) > 0.001;
    if (ajson_double(ajson_get(o, "environmentalScore"), &got_e))
        bad |= fabs(sc.environmental - got_e) > 0.001;
    if (bad) {
        fprintf(stderr, "%s: %s: computed %.1f/%.1f/%.1f, document says %.1f\n", file, vec, sc.base,
                sc.temporal, sc.environmental, want);
        cvss_mismatch++;
    }
    cvss_checked++;
}

static void walk(const ajson_value *v, const char *file)
{
    if (!v)
        return;
    if (v->type == AJSON_OBJECT) {
        const ajson_value *c3 = ajson_get(v, "cvss_v3");
        if (c3)
            check_cvss_obj(c3, file);
        for (size_t i = 0; i < v->len; i++)
            walk(&v->u.members[i].value, file);
    } else if (v->type == AJSON_ARRAY) {
        for (size_t i = 0; i < v->len; i++)
            walk(&v->u.items[i], file);
    }
}

static void scan_dir(const char *dir, ajson_arena *a)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        char path[1024];
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        struct stat st;
        if (stat(path, &st))
            continue;
        if (S_ISDIR(st.st_mode)) {
            scan_dir(path, a);
            continue;
        }
        size_t n = strlen(de->d_name);
        if (n < 5 || strcmp(de->d_name + n - 5, ".json") || strstr(path, "/test/"))
            continue;
        FILE *f = fopen(path, "rb");
        char *text = f ? malloc((size_t)st.st_size + 1) : NULL;
        if (text && fread(text, 1, (size_t)st.st_size, f) == (size_t)st.st_size) {
            ajson_error je;
            ajson_arena_reset(a);
            walk(ajson_parse(a, text, (size_t)st.st_size, &je), path);
        }
        free(text);
        if (f)
            fclose(f);
    }
    if (d)
        closedir(d);
}

static void test_cvss_published(void)
{
    const char *data = t_shared_data();
    if (!data) {
        printf("skip: ../shared/data not found\n");
        return;
    }
    ajson_arena a;
    ajson_arena_init(&a, 0);
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/csaf-cisa", data);
    scan_dir(dir, &a);
    snprintf(dir, sizeof(dir), "%s/csaf-oasis/csaf_2.0/examples", data);
    scan_dir(dir, &a);
    ajson_arena_free(&a);
    printf("cvss: %d published v3 scores checked, %d mismatches\n", cvss_checked, cvss_mismatch);
    CHECK(cvss_checked >= 50);
    CHECK(cvss_mismatch == 0);
}

static void test_cvss_vectors(void)
{
    static const struct {
        const char *vec;
        double base;
    } ok[] = {
        {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8},
        {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0},
        {"CVSS:3.0/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 1.8},
        {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0},
        /* FIRST v4.0 examples and the CVE JSON 5 advanced example's score */
        {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 9.3},
        {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H", 10.0},
        {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:L/SC:N/SI:N/SA:N", 6.9},
        {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:H/SI:L/SA:L", 7.8},
        {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N", 0.0},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        cvss_score sc;
        char e[200] = "";
        CHECK(cvss_parse(ok[i].vec, &sc, e, sizeof(e)) == 0);
        if (fabs(sc.base - ok[i].base) > 0.001)
            fprintf(stderr, "%s: %.1f, expected %.1f %s\n", ok[i].vec, sc.base, ok[i].base, e);
        CHECK(fabs(sc.base - ok[i].base) < 0.001);
    }
    static const struct {
        const char *vec, *says;
    } bad[] = {
        {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H", "mandatory base metric A"},
        {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:Q", "invalid value for metric A"},
        {"CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "given twice"},
        {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/", "trailing"},
        {"CVSS:2.0/AV:N", "must start with"},
        {"CVSS:4.0/AC:L/AV:N/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "order"},
        {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/XX:Y", "unknown metric"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cvss_score sc;
        char e[200] = "";
        CHECK(cvss_parse(bad[i].vec, &sc, e, sizeof(e)) == -1);
        CHECK(strstr(e, bad[i].says) != NULL);
    }
}

static void test_idents(void)
{
    purl p;
    char e[200];
    CHECK(purl_parse("pkg:npm/@acme/widget@1.2.0?arch=x#lib", &p, e, sizeof(e)) == 0);
    CHECK_STR(p.type, "npm");
    CHECK_STR(p.ns, "@acme");
    CHECK_STR(p.name, "widget");
    CHECK_STR(p.version, "1.2.0");
    CHECK_STR(p.base, "pkg:npm/%40acme/widget");
    CHECK(purl_parse("pkg:NPM/%40ACME/widget", &p, e, sizeof(e)) == 0);
    CHECK_STR(p.base, "pkg:npm/%40acme/widget");
    CHECK(purl_parse("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", &p, e, sizeof(e)) ==
          0);
    char name[300];
    purl_osv_name(&p, name, sizeof(name));
    CHECK_STR(name, "org.apache.logging.log4j:log4j-core");
    CHECK_STR(purl_osv_ecosystem("maven"), "Maven");
    CHECK(purl_parse("pkg:pypi/Django_Rest@3", &p, e, sizeof(e)) == 0);
    CHECK_STR(p.name, "django-rest");
    CHECK(purl_covers("pkg:npm/%40acme", "pkg:npm/%40acme/widget"));
    CHECK(!purl_covers("pkg:npm/%40acm", "pkg:npm/%40acme/widget"));
    CHECK(purl_covers("pkg:npm/%40acme/widget", "pkg:npm/%40acme/widget"));
    CHECK(purl_parse("npm/x", &p, e, sizeof(e)) == -1 && strstr(e, "pkg:"));
    CHECK(purl_parse("pkg:npm/", &p, e, sizeof(e)) == -1 && strstr(e, "name"));
    CHECK(purl_parse("pkg:1npm/x", &p, e, sizeof(e)) == -1 && strstr(e, "type"));
    CHECK(purl_parse("pkg:npm/a%zz", &p, e, sizeof(e)) == -1 && strstr(e, "percent"));
    CHECK(purl_parse("pkg:npm/a%00b", &p, e, sizeof(e)) == -1);

    CHECK(cpe23_check("cpe:2.3:a:globex:viewer:*:*:*:*:*:*:*:*", e, sizeof(e)) == 0);
    CHECK(cpe23_check("cpe:2.3:o:microsoft:windows_10:1607:*:*:en-us:*:*:x64:*", e, sizeof(e)) ==
          0);
    CHECK(cpe23_check("cpe:2.3:a:foo\\:bar:p*:1.0:-:-:-:-:-:-:-", e, sizeof(e)) == 0);
    CHECK(cpe23_check("cpe:2.3:x:a:b:*:*:*:*:*:*:*:*", e, sizeof(e)) == -1 && strstr(e, "part"));
    CHECK(cpe23_check("cpe:2.3:a:a:b:*:*:*:*:*:*:*", e, sizeof(e)) == -1);
    CHECK(cpe23_check("cpe:2.3:a:a b:c:*:*:*:*:*:*:*:*", e, sizeof(e)) == -1 &&
          strstr(e, "vendor"));
    CHECK(cpe23_check("cpe:2.3:a:a:b:*:*:*:english:*:*:*:*", e, sizeof(e)) == -1 &&
          strstr(e, "language"));
    CHECK(cpe23_check("cpe:/a:a:b", e, sizeof(e)) == -1);
    char v[64], pr[64];
    cpe23_vendor_product("cpe:2.3:a:globex:viewer:*:*:*:*:*:*:*:*", v, sizeof(v), pr, sizeof(pr));
    CHECK_STR(v, "globex");
    CHECK_STR(pr, "viewer");

    CHECK(cve_id_check("CVE-2021-44228", e, sizeof(e)) == 0);
    CHECK(cve_id_check("CVE-2021-123", e, sizeof(e)) == -1);
    CHECK(cve_id_check("cve-2021-44228", e, sizeof(e)) == -1);
    CHECK(cwe_id_check("CWE-79", e, sizeof(e)) == 0);
    CHECK(cwe_id_check("CWE-", e, sizeof(e)) == -1);

    int64_t a, b;
    CHECK(accord_instant_parse("2027-01-15T16:00:00+01:00", &a) == 0);
    CHECK(accord_instant_parse("2027-01-15T15:00:00Z", &b) == 0);
    CHECK(a == b);
    CHECK(accord_instant_parse("2027-01-15T10:30:00.5-04:30", &a) == 0);
    CHECK(a == b + 500000);
    CHECK(accord_instant_parse("2027-01-15T15:00:00", &a) != 0);
    CHECK(accord_instant_parse("2027-02-30T15:00:00Z", &a) != 0);
    CHECK(accord_instant_parse("2027-01-15T15:00:00+1:00", &a) != 0);
}

/* ------------------------------------------------------------------------------------------ */
/* Case rules on a store                                                                       */

static char tmpdir[256];

static int count_in(const char *json, const char *needle)
{
    int n = 0;
    for (const char *p = json; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

static int64_t audit_records(accord_store *s)
{
    accord_store_stats st;
    accord_error err;
    if (accord_store_stats_get(s, &st, NULL, NULL, &err))
        return -1;
    return st.audit_records;
}

static void test_case_rules(void)
{
    accord_store *s = NULL;
    accord_error err = {0};
    char dir[300];
    snprintf(dir, sizeof(dir), "%s/rules", tmpdir);
    CHECK(accord_store_open(dir, 0, &s, &err) == 0);
    const char *accounts[] = {"alice", "coord", "acme", "globex", "eve", "obs"};
    for (int i = 0; i < 6; i++)
        CHECK(accord_account_add(s, accounts[i], NULL, 0, &err) == 0);
    CHECK(accord_vendor_profile_set(s, "Acme", "pkg:npm/@acme", "acme", "sec@acme.example", &err) ==
          0);
    char id[ACCORD_CASE_ID_MAX];
    accord_case_spec spec = {.title = "Overflow in parser",
                             .summary = "A crafted file overflows a buffer.",
                             .embargo = "2099-01-01T00:00:00+01:00",
                             .deadline = "2000-01-01T00:00:00Z",
                             .coordinator = "coord"};
    CHECK(accord_case_open(s, "alice", &spec, id, &err) == 0);
    CHECK(strncmp(id, "CASE-", 5) == 0);

    /* roles */
    CHECK(accord_case_add_vendor(s, id, "alice", "Globex", "globex", NULL, &err) == ACCORD_EINVAL);
    CHECK(strstr(err.msg, "coordinator") != NULL);
    CHECK(accord_case_add_vendor(s, id, "coord", "Globex", "globex", NULL, &err) == 0);
    CHECK(accord_case_add_vendor(s, id, "coord", "Initech", NULL, "psirt@initech.example", &err) ==
          0);
    CHECK(accord_case_add_participant(s, id, "coord", "obs", "observer", NULL, &err) == 0);
    accord_case_product p = {
        .purl = "pkg:npm/%40acme/widget@1.0.0", .affected = ">=1.0.0,<2.0.0", .fixed = "2.0.0"};
    CHECK(accord_case_add_product(s, id, "alice", &p, NULL, NULL, &err) == 0);
    accord_case_product bad = {.purl = "pkg:npm/", .vendor = "X"};
    CHECK(accord_case_add_product(s, id, "coord", &bad, NULL, NULL, &err) == ACCORD_EINVAL);
    CHECK(strstr(err.msg, "name") != NULL);
    CHECK(accord_case_set(s, id, "alice", "cvss", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H",
                          &err) == 0);
    CHECK(accord_case_set(s, id, "alice", "cvss", "CVSS:3.1/AV:X", &err) == ACCORD_EINVAL);
    CHECK(accord_case_set(s, id, "alice", "embargo", "2100-01-01T00:00:00Z", &err) ==
          ACCORD_EINVAL);
    CHECK(accord_case_status(s, id, "globex", "Acme", "widget", "fixed", NULL, &err) ==
          ACCORD_EINVAL);
    CHECK(accord_case_status(s, id, "acme", NULL, "widget", "fixed", "Fixed in 2.0.0.", &err) == 0);
    CHECK(accord_case_status(s, id, "globex", NULL, NULL, "not_affected", "Not used.", &err) == 0);
    CHECK(accord_case_status(s, id, "globex", NULL, NULL, "broken", NULL, &err) == ACCORD_EINVAL);

    /* messages: private threads, observers read only */
    int64_t seq;
    CHECK(accord_case_post(s, id, "acme", NULL, "Acme", "acme private", &seq, &err) == 0);
    CHECK(accord_case_post(s, id, "globex", NULL, "Acme", "not mine", &seq, &err) == ACCORD_EINVAL);
    CHECK(accord_case_post(s, id, "alice", "triage", NULL, "shared", &seq, &err) == 0);
    CHECK(accord_case_post(s, id, "obs", NULL, NULL, "hi", &seq, &err) == ACCORD_EINVAL);
    char *json = NULL;
    CHECK(accord_case_view(s, id, "globex", ACCORD_CASE_VIEW_MESSAGES, NULL, &json, &err) == 0);
    CHECK(json && !strstr(json, "acme private") && strstr(json, "shared"));
    free(json);
    CHECK(accord_case_view(s, id, "acme", ACCORD_CASE_VIEW_MESSAGES, NULL, &json, &err) == 0);
    CHECK(json && strstr(json, "acme private") && strstr(json, "shared"));
    free(json);
    CHECK(accord_case_view(s, id, "coord", ACCORD_CASE_VIEW_MESSAGES, NULL, &json, &err) == 0);
    CHECK(json && strstr(json, "acme private"));
    free(json);

    /* vendors: no response after the deadline is not "not affected" */
    CHECK(accord_case_view(s, id, "obs", ACCORD_CASE_VIEW_VENDORS, NULL, &json, &err) == 0);
    CHECK(json &&
          strstr(json, "\"vendor\":\"Initech\",\"member\":null,\"status\":\"no_response\""));
    CHECK(json &&
          strstr(json, "\"vendor\":\"Globex\",\"member\":\"globex\",\"status\":\"not_affected\""));
    CHECK(json && !strstr(json, "psirt@initech")); /* contacts are for coordinators */
    free(json);
    accord_case_page pg = {.limit = 2};
    CHECK(accord_case_view(s, id, "coord", ACCORD_CASE_VIEW_VENDORS, &pg, &json, &err) == 0);
    CHECK(json && count_in(json, "\"vendor\":") == 2 && strstr(json, "\"more\":true"));
    free(json);
    pg.limit = 501;
    CHECK(accord_case_view(s, id, "coord", ACCORD_CASE_VIEW_VENDORS, &pg, &json, &err) ==
          ACCORD_EINVAL);

    /* the embargo: outsiders see nothing, reads are audited, publication refused */
    CHECK(accord_case_view(s, id, "eve", ACCORD_CASE_VIEW_CASE, NULL, &json, &err) ==
          ACCORD_ENOTFOUND);
    CHECK(accord_case_list(s, "eve", NULL, &json, &err) == 0);
    CHECK(json && !strstr(json, id));
    free(json);
    int64_t before = audit_records(s);
    CHECK(accord_case_view(s, id, "obs", ACCORD_CASE_VIEW_CASE, NULL, &json, &err) == 0);
    free(json);
    CHECK(audit_records(s) == before + 1);
    CHECK(accord_case_publish(s, id, "coord", &err) == ACCORD_EINVAL);
    CHECK(strstr(err.msg, "embargo") != NULL);
    CHECK(accord_store_search(s, "CVE-2099-0001", NULL, NULL, &err) >= 0);
    CHECK(accord_case_lift(s, id, "acme", "no", &err) == ACCORD_EINVAL);
    CHECK(accord_case_lift(s, id, "coord", "exploited in the wild", &err) == 0);
    CHECK(accord_case_publish(s, id, "alice", &err) == ACCORD_EINVAL);
    CHECK(accord_case_publish(s, id, "coord", &err) == 0);
    CHECK(accord_case_view(s, id, "eve", ACCORD_CASE_VIEW_CSAF, NULL, &json, &err) == 0);
    CHECK(json && strstr(json, "\"category\":\"csaf_security_advisory\""));
    free(json);
    CHECK(accord_case_view(s, id, "eve", ACCORD_CASE_VIEW_MESSAGES, NULL, &json, &err) ==
          ACCORD_ENOTFOUND);
    CHECK(accord_case_view(s, id, "coord", ACCORD_CASE_VIEW_TIMELINE, NULL, &json, &err) == 0);
    CHECK(json && strstr(json, "\"kind\":\"lift\"") && strstr(json, "\"kind\":\"publish\""));
    free(json);
    before = audit_records(s);
    CHECK(accord_case_view(s, id, "obs", ACCORD_CASE_VIEW_CASE, NULL, &json, &err) == 0);
    free(json);
    CHECK(audit_records(s) == before); /* published: reads are no longer audited */
    accord_store_close(s);
}

static void sql_exec(const char *db, const char *sql)
{
    sqlite3 *h = NULL;
    CHECK(sqlite3_open(db, &h) == SQLITE_OK);
    char *msg = NULL;
    CHECK(sqlite3_exec(h, sql, NULL, NULL, &msg) == SQLITE_OK);
    sqlite3_free(msg);
    sqlite3_close(h);
}

static int got_record(void *ud, const accord_record *rec)
{
    (void)ud, (void)rec;
    return 0;
}

static int64_t versions_stored(accord_store *s)
{
    accord_store_stats st;
    accord_error err;
    return accord_store_stats_get(s, &st, NULL, NULL, &err) ? -1 : st.versions;
}

/* Publication is all or nothing: when storing a document fails after the STIX bundle went through
 * the import pipeline and the CSAF document was written (a real SQLite failure, raised by a trigger
 * on the OSV document), none of it is committed: no STIX object, no document, the case still
 * unpublished at revision 0, no timeline event and no audit record.  Without the trigger the same
 * call publishes. */
static void test_publish_atomic(void)
{
    accord_store *s = NULL;
    accord_error err = {0};
    char dir[300], db[320];
    snprintf(dir, sizeof(dir), "%s/atomic", tmpdir);
    snprintf(db, sizeof(db), "%s/accord.db", dir);
    CHECK(accord_store_open(dir, 0, &s, &err) == 0);
    char id[ACCORD_CASE_ID_MAX];
    accord_case_spec spec = {.title = "Injection in the template engine"};
    CHECK(accord_case_open(s, NULL, &spec, id, &err) == 0);
    CHECK(accord_case_add_vendor(s, id, NULL, "Acme", NULL, "psirt@acme.example", &err) == 0);
    accord_case_product p = {.purl = "pkg:npm/%40acme/tpl@1.0.0",
                             .vendor = "Acme",
                             .affected = ">=1.0.0,<1.4.2",
                             .fixed = "1.4.2"};
    CHECK(accord_case_add_product(s, id, NULL, &p, NULL, NULL, &err) == 0);
    CHECK(accord_case_status(s, id, NULL, "Acme", NULL, "affected", "Update.", &err) == 0);
    CHECK(accord_case_set(s, id, NULL, "cve", "CVE-2026-0042", &err) == 0);
    int64_t audit0 = audit_records(s), versions0 = versions_stored(s);
    sql_exec(db, "CREATE TRIGGER fail_osv BEFORE INSERT ON case_docs WHEN NEW.kind = 'osv'"
                 " BEGIN SELECT RAISE(ABORT, 'disk says no'); END");
    CHECK(accord_case_publish(s, id, NULL, &err) != 0);
    CHECK(strstr(err.msg, "disk says no") != NULL);
    CHECK(audit_records(s) == audit0);
    CHECK(versions_stored(s) == versions0);
    char *json = NULL;
    CHECK(accord_case_view(s, id, NULL, ACCORD_CASE_VIEW_CSAF, NULL, &json, &err) ==
          ACCORD_ENOTFOUND);
    CHECK(accord_case_view(s, id, NULL, ACCORD_CASE_VIEW_CASE, NULL, &json, &err) == 0);
    CHECK(json && strstr(json, "\"published\":null") && strstr(json, "\"revision\":0"));
    free(json);
    CHECK(accord_case_view(s, id, NULL, ACCORD_CASE_VIEW_TIMELINE, NULL, &json, &err) == 0);
    CHECK(json && !strstr(json, "\"kind\":\"publish\""));
    free(json);
    CHECK(accord_case_list(s, "eve", NULL, &json, &err) == 0); /* still private */
    CHECK(json && !strstr(json, id));
    free(json);
    /* the STIX view of an unpublished case renders its vulnerability; the store has none of it */
    CHECK(accord_case_view(s, id, NULL, ACCORD_CASE_VIEW_STIX, NULL, &json, &err) == 0);
    const char *v = json ? strstr(json, "vulnerability--") : NULL;
    CHECK(v != NULL);
    char vid[64] = "";
    if (v)
        snprintf(vid, sizeof(vid), "%.51s", v);
    free(json);
    CHECK(accord_store_get(s, vid, 0, got_record, NULL, &err) == ACCORD_ENOTFOUND);

    sql_exec(db, "DROP TRIGGER fail_osv");
    CHECK(accord_case_publish(s, id, NULL, &err) == 0);
    CHECK(versions_stored(s) > versions0);
    CHECK(accord_store_get(s, vid, 0, got_record, NULL, &err) == 0);
    CHECK(accord_case_view(s, id, NULL, ACCORD_CASE_VIEW_OSV, NULL, &json, &err) == 0);
    CHECK(json && strstr(json, "\"fixed\":\"1.4.2\""));
    free(json);
    accord_store_close(s);
}

/* The vendors view pages by vendor with each vendor's products (one statement per page): every
 * page is JSON, pages follow on without loss or repetition, products stay with their vendor, a
 * vendor without products has an empty list, and ?vendor= picks one vendor. */
static void test_vendor_pages(void)
{
    accord_store *s = NULL;
    accord_error err = {0};
    char dir[300], id[ACCORD_CASE_ID_MAX];
    snprintf(dir, sizeof(dir), "%s/pages", tmpdir);
    CHECK(accord_store_open(dir, 0, &s, &err) == 0);
    CHECK(accord_account_add(s, "coord", NULL, 0, &err) == 0);
    accord_case_spec spec = {.title = "Paging", .role = "coordinator"};
    CHECK(accord_case_open(s, "coord", &spec, id, &err) == 0);
    const char *vendors[] = {"V0", "V1", "V2", "V3", "V4"};
    for (int v = 0; v < 5; v++) {
        CHECK(accord_case_add_vendor(s, id, "coord", vendors[v], NULL, NULL, &err) == 0);
        for (int k = 0; k < v % 3; k++) { /* 0, 1, 2, 0, 1 products */
            char name[32];
            snprintf(name, sizeof(name), "%s-prod%d", vendors[v], k);
            accord_case_product p = {.vendor = vendors[v], .name = name};
            CHECK(accord_case_add_product(s, id, "coord", &p, NULL, NULL, &err) == 0);
        }
    }
    ajson_arena a;
    ajson_arena_init(&a, 0);
    accord_case_page pg = {.limit = 2};
    int seen = 0, pages = 0, more = 1;
    while (more && pages < 10) {
        char *json = NULL;
        CHECK(accord_case_view(s, id, "coord", ACCORD_CASE_VIEW_VENDORS, &pg, &json, &err) == 0);
        ajson_error je;
        ajson_arena_reset(&a);
        const ajson_value *root = json ? ajson_parse(&a, json, strlen(json), &je) : NULL;
        CHECK(root != NULL);
        const ajson_value *items = ajson_get(root, "items");
        CHECK(items && items->type == AJSON_ARRAY);
        for (size_t i = 0; items && i < items->len; i++, seen++) {
            const ajson_value *it = &items->u.items[i];
            const char *name = ajson_str(ajson_get(it, "vendor"));
            CHECK(name && seen < 5 && strcmp(name, vendors[seen < 5 ? seen : 0]) == 0);
            const ajson_value *prods = ajson_get(it, "products");
            CHECK(prods && prods->type == AJSON_ARRAY && prods->len == (size_t)(seen % 3));
            for (size_t k = 0; prods && k < prods->len; k++) {
                const char *pn = ajson_str(ajson_get(&prods->u.items[k], "name"));
                CHECK(pn && name && strncmp(pn, name, strlen(name)) == 0);
            }
        }
        int64_t next = 0;
        CHECK(ajson_bool(ajson_get(root, "more"), &more) && ajson_int(ajson_get(root, "next"), &next));
        pg.after = next;
        pages++;
        free(json);
    }
    CHECK(seen == 5 && pages == 3);
    char *json = NULL;
    accord_case_page one = {.vendor = "V2"};
    CHECK(accord_case_view(s, id, "coord", ACCORD_CASE_VIEW_VENDORS, &one, &json, &err) == 0);
    CHECK(json && count_in(json, "\"vendor\":") == 1 && strstr(json, "V2-prod1") &&
          strstr(json, "\"more\":false"));
    free(json);
    ajson_arena_free(&a);
    accord_store_close(s);
}

int main(void)
{
    if (t_mkdtemp(tmpdir, sizeof(tmpdir), "case"))
        return 1;
    test_cvss_vectors();
    test_cvss_published();
    test_idents();
    test_case_rules();
    test_vendor_pages();
    test_publish_atomic();
    t_rmtree(tmpdir);
    return t_done();
}
