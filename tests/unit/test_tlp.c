/*
 * test_tlp.c - TLP 2.0 as access control (src/tlp.c, the label columns in store.c, the filtering
 * in store_read.c, viewers in store_account.c, RED lists in store_coll.c).
 *
 * Cases: the fixed marking ids (TLP 1.0 and 2.0, any case) and nothing else; the effective level
 * of an object (object-level and granular, most restrictive wins, WHITE = CLEAR, unmarked, the
 * fixed definitions themselves); the clearance rule as a table (level x kind of viewer); store
 * reads through viewers: scans with limits that count only what is handed out, get, search, the
 * default level for unmarked objects, RED lists by collection, sightings gated by what they name;
 * and the migration that labels the objects of a store written before labels existed.
 */
#include "accord.h"
#include "t.h"
#include "tlp.h"
#include "util/buf.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "t_import.h"

#define M_CLEAR "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
#define M_WHITE "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"
#define M_GREEN "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
#define M_GREEN1 "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
#define M_AMBER "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
#define M_STRICT "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
#define M_RED "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
#define M_RED1 "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"
#define ORG_A "identity--aaaaaaaa-0000-4000-8000-000000000001"
#define ORG_B "identity--bbbbbbbb-0000-4000-8000-000000000002"
#define ORG_C "identity--cccccccc-0000-4000-8000-000000000003"

static char tmpdir[256];
static int store_no;
static char last_dir[300];

static const ajson_value *parse(ajson_arena *a, const char *json)
{
    ajson_error e;
    const ajson_value *v = ajson_parse(a, json, strlen(json), &e);
    if (!v)
        fprintf(stderr, "parse: %s in %s\n", e.msg, json);
    return v;
}

static int level_of(const char *json)
{
    ajson_arena a;
    ajson_arena_init(&a, 0);
    tlp_label l;
    tlp_label_json(parse(&a, json), &l);
    ajson_arena_free(&a);
    return l.level;
}

static void test_marking_ids(void)
{
    CHECK(tlp_marking_level(M_CLEAR) == ACCORD_TLP_CLEAR);
    CHECK(tlp_marking_level(M_WHITE) == ACCORD_TLP_CLEAR);
    CHECK(tlp_marking_level(M_GREEN) == ACCORD_TLP_GREEN);
    CHECK(tlp_marking_level(M_GREEN1) == ACCORD_TLP_GREEN);
    CHECK(tlp_marking_level(M_AMBER) == ACCORD_TLP_AMBER);
    CHECK(tlp_marking_level(M_STRICT) == ACCORD_TLP_AMBER_STRICT);
    CHECK(tlp_marking_level(M_RED) == ACCORD_TLP_RED);
    CHECK(tlp_marking_level(M_RED1) == ACCORD_TLP_RED);
    CHECK(tlp_marking_level("MARKING-DEFINITION--E828B379-4E03-4974-9AC4-E53A884C97C1") ==
          ACCORD_TLP_RED);
    CHECK(tlp_marking_level("marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c2") == -1);
    CHECK(tlp_marking_level(M_RED "x") == -1);
    CHECK(tlp_marking_level("") == -1);
    CHECK(tlp_marking_level(NULL) == -1);
    CHECK_STR(tlp_level_name(ACCORD_TLP_AMBER_STRICT), "amber+strict");
    CHECK_STR(tlp_level_name(TLP_UNMARKED), "unmarked");
}

static void test_labels(void)
{
    CHECK(level_of("{\"type\":\"indicator\"}") == TLP_UNMARKED);
    CHECK(level_of("{\"type\":\"indicator\",\"object_marking_refs\":[\"" M_WHITE "\"]}") ==
          ACCORD_TLP_CLEAR);
    CHECK(level_of("{\"type\":\"indicator\",\"object_marking_refs\":[\"" M_GREEN "\",\"" M_RED
                   "\",\"" M_AMBER "\"]}") == ACCORD_TLP_RED);
    /* a granular marking restricts the whole object */
    CHECK(level_of("{\"type\":\"indicator\",\"object_marking_refs\":[\"" M_CLEAR "\"],"
                   "\"granular_markings\":[{\"marking_ref\":\"" M_STRICT
                   "\",\"selectors\":[\"name\"]},{\"lang\":\"en\",\"selectors\":[\"name\"]}]}") ==
          ACCORD_TLP_AMBER_STRICT);
    /* other markings do not count; a marking id in another property does not either */
    CHECK(level_of("{\"type\":\"report\",\"object_marking_refs\":[\"marking-definition--"
                   "11111111-2222-4333-8444-555555555555\"],\"object_refs\":[\"" M_RED
                   "\"]}") == TLP_UNMARKED);
    CHECK(level_of("{\"type\":\"marking-definition\",\"id\":\"" M_RED "\"}") == ACCORD_TLP_CLEAR);
    CHECK(level_of("[]") == TLP_UNMARKED);

    ajson_arena a;
    ajson_arena_init(&a, 0);
    tlp_label l;
    buf to, dep;
    buf_init(&to, 4096);
    buf_init(&dep, 4096);
    tlp_label_json(parse(&a, "{\"type\":\"indicator\",\"created_by_ref\":\"" ORG_A "\","
                             "\"object_marking_refs\":[\"" M_AMBER "\"],"
                             "\"x_accord_recipients\":[\"" ORG_B "\",\"indicator--x\",7,\""
                             "identity--has space\",\"" ORG_C "\"]}"),
                   &l);
    CHECK(l.set == 1 && l.level == ACCORD_TLP_AMBER);
    CHECK_STR(l.org, ORG_A);
    CHECK(tlp_label_text(&l, &to, &dep) == 0);
    CHECK_STR(to.p ? to.p : "", ORG_B " " ORG_C);
    CHECK(dep.len == 0);
    /* recipients are AMBER's (and unmarked's): ignored at AMBER+STRICT */
    buf_reset(&to);
    tlp_label_json(parse(&a, "{\"type\":\"indicator\",\"object_marking_refs\":[\"" M_STRICT "\"],"
                             "\"x_accord_recipients\":[\"" ORG_B "\"]}"),
                   &l);
    CHECK(tlp_label_text(&l, &to, &dep) == 0 && to.len == 0);
    /* sightings depend on what they name */
    tlp_label_json(parse(&a, "{\"type\":\"sighting\",\"sighting_of_ref\":\"indicator--1\","
                             "\"observed_data_refs\":[\"observed-data--2\",\"observed-data--3\"]}"),
                   &l);
    CHECK(tlp_label_text(&l, &to, &dep) == 0);
    CHECK_STR(dep.p ? dep.p : "", "indicator--1 observed-data--2 observed-data--3");
    buf_free(&to);
    buf_free(&dep);
    ajson_arena_free(&a);
}

/* The rule as a table: for each kind of viewer, which levels it reads (CLEAR..RED), the object
 * being produced by ORG_A and naming ORG_B, RED list applying to the viewer or not. */
static void test_rule(void)
{
    static const struct {
        const char *name, *org;
        int all, community, member, red;
        const char *reads; /* one char per level CLEAR GREEN AMBER STRICT RED */
    } rows[] = {
        {"no organisation", "", 0, 0, 0, 0, "10000"},
        {"community", "", 0, 1, 0, 0, "11000"},
        {"member C", ORG_C, 0, 0, 1, 0, "11000"},
        {"not a member C", ORG_C, 0, 0, 0, 0, "10000"},
        {"named B, not a member", ORG_B, 0, 0, 0, 0, "11100"},
        {"producer A", ORG_A, 0, 0, 1, 0, "11110"},
        {"producer A, not a member", ORG_A, 0, 0, 0, 0, "11110"},
        {"RED-listed, no organisation", "", 0, 0, 0, 1, "10001"},
        {"RED-listed member C", ORG_C, 0, 0, 1, 1, "11001"},
        {"admin", "", 1, 0, 0, 0, "11111"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        accord_viewer v = {.all = rows[i].all,
                           .community = rows[i].community,
                           .member = rows[i].member,
                           .dflt = ACCORD_TLP_AMBER};
        snprintf(v.org, sizeof(v.org), "%s", rows[i].org);
        for (int level = ACCORD_TLP_CLEAR; level <= ACCORD_TLP_RED; level++) {
            int got = tlp_clears(&v, level, ORG_A, ORG_B, rows[i].red);
            if (got != (rows[i].reads[level] == '1'))
                fprintf(stderr, "rule: %s, %s: got %d\n", rows[i].name, tlp_level_name(level), got);
            CHECK(got == (rows[i].reads[level] == '1'));
        }
    }
    CHECK(tlp_clears(NULL, ACCORD_TLP_RED, NULL, NULL, 0) == 1);
    accord_viewer v = {.member = 1};
    snprintf(v.org, sizeof(v.org), "%s", ORG_A);
    CHECK(tlp_clears(&v, 99, ORG_A, NULL, 1) == 0);              /* an unknown level is withheld */
    CHECK(tlp_clears(&v, ACCORD_TLP_AMBER, NULL, NULL, 0) == 0); /* no producer */
    CHECK(tlp_clears(&v, ACCORD_TLP_AMBER, ORG_B, "identity--aaaaaaaa", 0) == 0); /* prefix */
    int64_t red[] = {3, 7, 9};
    v.red = red;
    v.nred = 3;
    CHECK(tlp_viewer_red(&v, 7) && tlp_viewer_red(&v, 9) && !tlp_viewer_red(&v, 8));
    CHECK(!tlp_viewer_red(&v, 0));
}

/* ------------------------------------------------------------------------------------------ */
/* Through the store                                                                            */

static accord_store *new_store(void)
{
    snprintf(last_dir, sizeof(last_dir), "%s/s%d", tmpdir, store_no++);
    return t_store_open(last_dir);
}

static int import_text(accord_store *s, const char *coll, const char *text)
{
    accord_import_options o = {.collection = coll};
    return t_import_with(s, text, &o, NULL, NULL);
}

/* An indicator line: N, marking (or NULL), producer (or NULL), extra properties (or ""). */
static void indicator(buf *b, int n, const char *marking, const char *org, const char *extra)
{
    buf_printf(b,
               "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--%08x-0000-"
               "4000-8000-000000000000\",\"created\":\"2026-01-01T00:00:00.000Z\",\"modified\":"
               "\"2026-01-01T00:00:00.000Z\",\"pattern\":\"[ipv4-addr:value = '203.0.113.%d']\","
               "\"pattern_type\":\"stix\",\"valid_from\":\"2026-01-01T00:00:00Z\"",
               n, n % 250 + 1);
    if (marking)
        buf_printf(b, ",\"object_marking_refs\":[\"%s\"]", marking);
    if (org)
        buf_printf(b, ",\"created_by_ref\":\"%s\"", org);
    buf_printf(b, "%s}\n", extra);
}

typedef struct seen {
    int n;
    char ids[64][64];
    int tlp[64];
    int64_t last_added;
} seen;

static int on_last(void *ud, const accord_record *r)
{
    seen *x = ud;
    x->n++;
    x->last_added = r->added_us;
    return 0;
}

static int on_rec(void *ud, const accord_record *r)
{
    seen *x = ud;
    if (x->n < 64) {
        snprintf(x->ids[x->n], sizeof(x->ids[0]), "%s", r->id);
        x->tlp[x->n] = r->tlp;
    }
    x->n++;
    return 0;
}

static int scan_count(accord_store *s, const accord_viewer *v, const char *coll, uint32_t limit,
                      int64_t after)
{
    accord_scan_filter f = {.viewer = v,
                            .collection = coll,
                            .limit = limit,
                            .added_after_us = after,
                            .versions = ACCORD_VERSIONS_ALL};
    seen x = {0};
    accord_error err;
    return accord_store_scan(s, &f, on_rec, &x, &err) ? -1 : x.n;
}

static accord_viewer *viewer(accord_store *s, const char *name)
{
    accord_viewer *v = NULL;
    accord_error err;
    if (accord_viewer_open(s, name, &v, &err))
        fprintf(stderr, "viewer %s: %s\n", name, err.msg);
    return v;
}

static void test_store(void)
{
    accord_store *s = new_store();
    accord_error err;
    buf b;
    buf_init(&b, 1 << 20);
    /* 1 clear, 2 green, 3 amber (names B), 4 strict, 5 red, 6 unmarked by A, 7 unmarked */
    indicator(&b, 1, M_CLEAR, ORG_A, "");
    indicator(&b, 2, M_GREEN, ORG_A, "");
    indicator(&b, 3, M_AMBER, ORG_A, ",\"x_accord_recipients\":[\"" ORG_B "\"]");
    indicator(&b, 4, M_STRICT, ORG_A, "");
    indicator(&b, 5, M_RED, ORG_A, "");
    indicator(&b, 6, NULL, ORG_A, "");
    indicator(&b, 7, NULL, NULL, "");
    CHECK(import_text(s, NULL, b.p) == 0);
    CHECK(accord_collection_add(s, NULL, "Other", "other", NULL, NULL, &err) == 0);
    buf_reset(&b);
    indicator(&b, 5, M_RED, ORG_A, ""); /* the same RED version, also in "other" */
    CHECK(import_text(s, "other", b.p) == 0);

    const char *names[] = {"nobody", "comm", "a", "b", "c", "redder", "root"};
    for (int i = 0; i < 7; i++)
        CHECK(accord_account_add(s, names[i], NULL, i == 6, &err) == 0);
    CHECK(accord_account_set_community(s, "comm", 1, &err) == 0);
    CHECK(accord_account_set_org(s, "a", ORG_A, &err) == 0);
    CHECK(accord_account_set_org(s, "b", ORG_B, &err) == 0);
    CHECK(accord_account_set_org(s, "c", ORG_C, &err) == 0);
    CHECK(accord_account_set_org(s, "c", "identity--NOT-A-UUID", &err) == ACCORD_EINVAL);
    CHECK(accord_account_set_org(s, "ghost", ORG_C, &err) == ACCORD_ENOTFOUND);
    CHECK(accord_red_set(s, "other", "redder", 1, &err) == 0);
    CHECK(accord_red_set(s, "other", "ghost", 1, &err) == ACCORD_ENOTFOUND);
    CHECK(accord_red_set(s, "nope", "redder", 1, &err) == ACCORD_ENOTFOUND);

    /* store-wide scan, every version: 8 rows (id 5 once: one version, two collections) */
    static const struct {
        const char *name;
        int n;
    } want[] = {{"nobody", 1}, {"comm", 2},   {"a", 5},   {"b", 3},
                {"c", 2},      {"redder", 2}, {"root", 7}};
    for (int i = 0; i < 7; i++) {
        accord_viewer *v = viewer(s, want[i].name);
        int n = scan_count(s, v, NULL, 0, 0);
        if (n != want[i].n)
            fprintf(stderr, "store-wide scan as %s: %d, want %d\n", want[i].name, n, want[i].n);
        CHECK(n == want[i].n);
        accord_viewer_free(v);
    }
    CHECK(scan_count(s, NULL, NULL, 0, 0) == 7);

    /* RED by collection: "redder" reads id 5 in "other" only */
    accord_viewer *red = viewer(s, "redder");
    CHECK(scan_count(s, red, "other", 0, 0) == 1);
    CHECK(scan_count(s, red, NULL, 0, 0) == 2);
    CHECK(scan_count(s, red, "default", 0, 0) == 1);

    /* limits count what is handed out: pages of 1 walk a's 5 objects one by one */
    accord_viewer *a = viewer(s, "a");
    int pages = 0, total = 0;
    int64_t after = 0;
    for (int guard = 0; guard < 20; guard++) {
        seen page = {0};
        accord_scan_filter f = {.viewer = a,
                                .collection = "default",
                                .limit = 2,
                                .added_after_us = after,
                                .versions = ACCORD_VERSIONS_ALL};
        CHECK(accord_store_scan(s, &f, on_last, &page, &err) == 0);
        if (!page.n)
            break;
        CHECK(page.n == 2 || total + page.n == 5); /* only the last page is short */
        pages++;
        total += page.n;
        after = page.last_added;
    }
    CHECK(pages == 3 && total == 5);
    CHECK(scan_count(s, a, "default", 3, 0) == 3);
    CHECK(scan_count(s, a, "default", 10, 0) == 5);

    /* get and search */
    seen g = {0};
    CHECK(accord_store_get_as(s, a, "indicator--00000005-0000-4000-8000-000000000000", 0, on_rec,
                              &g, &err) == ACCORD_ENOTFOUND);
    CHECK(accord_store_get_as(s, red, "indicator--00000005-0000-4000-8000-000000000000", 0, on_rec,
                              &g, &err) == 0 &&
          g.n == 1 && g.tlp[0] == ACCORD_TLP_RED);
    g.n = 0;
    CHECK(accord_store_get_as(s, a, "indicator--00000004-0000-4000-8000-000000000000",
                              ACCORD_GET_ALL_VERSIONS, on_rec, &g, &err) == 0 &&
          g.n == 1);
    g.n = 0;
    CHECK(accord_store_search_as(s, a, "203.0.113.7", on_rec, &g, &err) == 0 && g.n == 1);
    g.n = 0;
    CHECK(accord_store_search_as(s, red, "203.0.113.7", on_rec, &g, &err) == 0 && g.n == 0);
    g.n = 0;
    CHECK(accord_store_search(s, "203.0.113.7", on_rec, &g, &err) == 0 && g.n == 1 &&
          g.tlp[0] == ACCORD_TLP_UNMARKED);

    /* the default for unmarked objects: GREEN lets c read 6 and 7 */
    int dflt = -5;
    CHECK(accord_tlp_default_get(s, &dflt, &err) == 0 && dflt == ACCORD_TLP_AMBER);
    CHECK(accord_tlp_default_set(s, ACCORD_TLP_GREEN, &err) == 0);
    CHECK(accord_tlp_default_set(s, 9, &err) == ACCORD_EINVAL);
    accord_viewer *c = viewer(s, "c");
    CHECK(scan_count(s, c, NULL, 0, 0) == 4);
    accord_viewer_free(c);
    CHECK(accord_tlp_default_set(s, ACCORD_TLP_AMBER, &err) == 0);

    /* sightings: of the AMBER+STRICT indicator 4 (only a reads it), of one not held here */
    buf_reset(&b);
    buf_adds(&b,
             "{\"type\":\"sighting\",\"spec_version\":\"2.1\",\"id\":\"sighting--00000001-"
             "0000-4000-8000-000000000000\",\"created\":\"2026-01-02T00:00:00.000Z\","
             "\"modified\":\"2026-01-02T00:00:00.000Z\",\"sighting_of_ref\":\"indicator--"
             "00000004-0000-4000-8000-000000000000\",\"object_marking_refs\":[\"" M_CLEAR
             "\"]}\n{\"type\":\"sighting\",\"spec_version\":\"2.1\",\"id\":\"sighting--"
             "00000002-0000-4000-8000-000000000000\",\"created\":\"2026-01-02T00:00:00.000Z\","
             "\"modified\":\"2026-01-02T00:00:00.000Z\",\"sighting_of_ref\":\"indicator--"
             "000000ff-0000-4000-8000-000000000000\",\"object_marking_refs\":[\"" M_CLEAR "\"]}\n");
    CHECK(import_text(s, NULL, b.p) == 0);
    accord_viewer *bv = viewer(s, "b");
    accord_scan_filter sf = {.types = (const char *const[]){"sighting", NULL}};
    seen sa = {0}, sb = {0};
    sf.viewer = a;
    CHECK(accord_store_scan(s, &sf, on_rec, &sa, &err) == 0 && sa.n == 2);
    sf.viewer = bv;
    CHECK(accord_store_scan(s, &sf, on_rec, &sb, &err) == 0 && sb.n == 1);
    CHECK_STR(sb.ids[0], "sighting--00000002-0000-4000-8000-000000000000");
    g.n = 0;
    CHECK(accord_store_get_as(s, bv, "sighting--00000001-0000-4000-8000-000000000000", 0, on_rec,
                              &g, &err) == ACCORD_ENOTFOUND);
    accord_viewer_free(bv);

    /* a disabled or removed account */
    CHECK(accord_account_remove(s, "redder", &err) == 0);
    accord_viewer *gone = NULL;
    CHECK(accord_viewer_open(s, "redder", &gone, &err) == ACCORD_ENOTFOUND && !gone);
    accord_viewer_free(red);
    accord_viewer_free(a);
    buf_free(&b);
    accord_store_close(s);
}

/* A store written before labels existed is labelled when it is opened. */
static void test_migration(void)
{
    accord_store *s = new_store();
    accord_error err;
    buf b;
    buf_init(&b, 1 << 20);
    indicator(&b, 1, M_RED, ORG_A, "");
    indicator(&b, 2, NULL, ORG_A, ",\"x_accord_recipients\":[\"" ORG_B "\"]");
    indicator(&b, 3, M_GREEN, ORG_A, "");
    CHECK(import_text(s, NULL, b.p) == 0);
    CHECK(accord_account_add(s, "b", NULL, 0, &err) == 0);
    accord_store_close(s);
    char path[400];
    snprintf(path, sizeof(path), "%s/accord.db", last_dir);
    sqlite3 *db;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(
        sqlite3_exec(db,
                     "ALTER TABLE objects DROP COLUMN tlp; ALTER TABLE objects DROP COLUMN tlp_org;"
                     "ALTER TABLE objects DROP COLUMN tlp_to; ALTER TABLE objects DROP COLUMN "
                     "tlp_dep; ALTER TABLE accounts DROP COLUMN org; ALTER TABLE accounts DROP "
                     "COLUMN community; DROP TABLE red; PRAGMA user_version = 2",
                     NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    s = NULL;
    CHECK(accord_store_open(last_dir, 0, &s, &err) == 0);
    seen x = {0};
    accord_scan_filter f = {.versions = ACCORD_VERSIONS_ALL};
    CHECK(s && accord_store_scan(s, &f, on_rec, &x, &err) == 0 && x.n == 3);
    CHECK(x.tlp[0] == ACCORD_TLP_RED && x.tlp[1] == ACCORD_TLP_UNMARKED &&
          x.tlp[2] == ACCORD_TLP_GREEN);
    CHECK(accord_account_set_org(s, "b", ORG_B, &err) == 0);
    accord_viewer *v = viewer(s, "b");
    x.n = 0;
    f.viewer = v;
    CHECK(v && accord_store_scan(s, &f, on_rec, &x, &err) == 0 && x.n == 2);
    CHECK_STR(x.ids[0], "indicator--00000002-0000-4000-8000-000000000000");
    accord_viewer_free(v);
    buf_free(&b);
    accord_store_close(s);
}

int main(void)
{
    if (t_mkdtemp(tmpdir, sizeof(tmpdir), "tlp"))
        return 1;
    test_marking_ids();
    test_labels();
    test_rule();
    test_store();
    test_migration();
    t_rmtree(tmpdir);
    return t_done();
}
