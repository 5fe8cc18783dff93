/*
 * test_tlp_matrix.c - TLP enforcement on every read path, as a table: account x collection x TLP
 * x endpoint, asserting that nothing an account is not cleared for is handed out (no leak) and
 * that everything it is cleared for is (nothing missing), in order, with correct pagination.
 *
 * The store: two collections (alpha, beta), each with objects at every level (CLEAR, GREEN,
 * AMBER naming organisation B, AMBER+STRICT, RED, unmarked naming B, unmarked) from producers A
 * and B, two versions each (some raise or lower the level between versions), and CLEAR sightings
 * of some of them and of an object held nowhere.  The accounts: an admin, the producer A, the
 * named B, a member C, a community account, an account with nothing, and two on RED lists (C on
 * alpha's, a no-organisation account on beta's).
 *
 * The endpoints, through taxii_handle (the protocol without HTTP): objects (latest, and every
 * version) and manifest paged 3 at a time with `next`, object/{id} and versions/{id} for every
 * object, status of a POST; the library reads the CLI uses: get (latest) and search; and the
 * defender exports: `accord export` (accord_export_select with the account's viewer, written as
 * plain values) and the feeds `accord serve` publishes (GET /feeds/NAME through api_handle, one
 * feed per collection), whose values must be exactly those of the latest versions the account
 * may read.  The expected answer comes from this file's own statement of the rule (visible()
 * below), not from tlp.c.
 */
#include "accord.h"
#include "api.h"
#include "t.h"
#include "taxii.h"
#include "util/buf.h"
#include "util/json.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "t_import.h"

#define ORG_A "identity--aaaaaaaa-0000-4000-8000-000000000001"
#define ORG_B "identity--bbbbbbbb-0000-4000-8000-000000000002"
#define ORG_C "identity--cccccccc-0000-4000-8000-000000000003"
#define NOBJ 16 /* per collection */
#define NCOLL 2
#define NSIGHT 3 /* per collection */

enum { L_CLEAR, L_GREEN, L_AMBER, L_STRICT, L_RED, L_UNMARKED };
static const char *const marking_of[] = {
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
    NULL,
};
static const char *const coll_alias[NCOLL] = {"alpha", "beta"};
static char coll_id[NCOLL][40];

static const struct account {
    const char *name, *org;
    int admin, community, red_coll; /* red_coll: the collection whose RED list names it, or -1 */
} accounts[] = {
    {"admin", NULL, 1, 0, -1},     {"prod-a", ORG_A, 0, 0, -1},   {"named-b", ORG_B, 0, 0, -1},
    {"member-c", ORG_C, 0, 0, -1}, {"community", NULL, 0, 1, -1}, {"plain", NULL, 0, 0, -1},
    {"red-c", ORG_C, 0, 0, 0},     {"red-plain", NULL, 0, 0, 1},
};
#define NACC ((int)(sizeof(accounts) / sizeof(accounts[0])))

/* One object version as stored: which collection, its id, modified, level, producer. */
typedef struct version {
    int coll, obj, v;
    char id[64], modified[32];
    int level, names_b;
    const char *producer;
    int sighting_of; /* for sightings: index into objs of what it names, -2 = held nowhere */
} version;

static version vers[NCOLL * (NOBJ * 2 + NSIGHT)];
static int nvers;
static accord_store *store;
static pthread_mutex_t writer_lock = PTHREAD_MUTEX_INITIALIZER;

/* ------------------------------------------------------------------------------------------ */
/* The rule, stated independently of tlp.c                                                      */

static int clears(const struct account *a, int level, const char *producer, int names_b, int coll)
{
    if (a->admin)
        return 1;
    if (level == L_UNMARKED)
        level = L_AMBER; /* the store's default */
    int is_producer = a->org && strcmp(a->org, producer) == 0;
    int named = names_b && a->org && strcmp(a->org, ORG_B) == 0;
    switch (level) {
    case L_CLEAR:
        return 1;
    case L_GREEN:
        return a->org != NULL || a->community;
    case L_AMBER:
        return is_producer || named;
    case L_STRICT:
        return is_producer;
    case L_RED:
        return a->red_coll == coll;
    }
    return 0;
}

/* The latest version of object obj of collection coll. */
static const version *latest_of(int coll, int obj)
{
    const version *best = NULL;
    for (int i = 0; i < nvers; i++)
        if (vers[i].coll == coll && vers[i].obj == obj && vers[i].sighting_of == -1 &&
            (!best || vers[i].v > best->v))
            best = &vers[i];
    return best;
}

static int visible(const struct account *a, const version *x)
{
    if (!clears(a, x->level, x->producer, x->names_b, x->coll))
        return 0;
    if (x->sighting_of >= 0) { /* gated by the latest version of what it names */
        const version *ref = latest_of(x->coll, x->sighting_of);
        return clears(a, ref->level, ref->producer, ref->names_b, ref->coll);
    }
    return 1;
}

/* The value an export writes for the indicators of object obj of collection coll (11.0.0.0/8:
 * no special-purpose range, which exports always leave out). */
static void value_of(int coll, int obj, char *out, size_t cap)
{
    snprintf(out, cap, "11.18.%d.%d", coll, obj);
}

/* ------------------------------------------------------------------------------------------ */
/* Building the store                                                                           */

static void write_version(buf *b, version *x)
{
    int sight = x->sighting_of != -1;
    buf_printf(b,
               "{\"type\":\"%s\",\"spec_version\":\"2.1\",\"id\":\"%s\",\"created\":"
               "\"2026-02-01T00:00:00.000Z\",\"modified\":\"%s\",\"created_by_ref\":\"%s\"",
               sight ? "sighting" : "indicator", x->id, x->modified, x->producer);
    if (sight && x->sighting_of >= 0)
        buf_printf(b, ",\"sighting_of_ref\":\"%s\"", latest_of(x->coll, x->sighting_of)->id);
    else if (sight)
        buf_adds(b, ",\"sighting_of_ref\":\"indicator--99999999-0000-4000-8000-000000000000\"");
    else
        buf_printf(b,
                   ",\"pattern\":\"[ipv4-addr:value = '11.18.%d.%d']\",\"pattern_type\":"
                   "\"stix\",\"valid_from\":\"2026-02-01T00:00:00Z\"",
                   x->coll, x->obj);
    if (marking_of[x->level])
        buf_printf(b, ",\"object_marking_refs\":[\"%s\"]", marking_of[x->level]);
    if (x->names_b)
        buf_adds(b, ",\"x_accord_recipients\":[\"" ORG_B "\"]");
    buf_adds(b, "}\n");
}

static int import_text(const char *coll, const char *text)
{
    accord_import_options o = {.collection = coll};
    return t_import_with(store, text, &o, NULL, NULL);
}

static int collect_id(void *ud, const accord_collection *c)
{
    (void)ud;
    for (int k = 0; k < NCOLL; k++)
        if (c->alias && strcmp(c->alias, coll_alias[k]) == 0)
            snprintf(coll_id[k], sizeof(coll_id[k]), "%s", c->id);
    return 0;
}

/* Levels of objects by index, and of their second version: most keep their level, some
 * raise it (GREEN -> RED) or lower it (RED -> CLEAR). */
static const int level_cycle[] = {L_CLEAR, L_GREEN,    L_AMBER,    L_STRICT,
                                  L_RED,   L_UNMARKED, L_UNMARKED, L_AMBER};

static void build(void)
{
    accord_error err;
    buf b;
    buf_init(&b, 1 << 22);
    for (int k = 0; k < NCOLL; k++)
        CHECK(accord_collection_add(store, NULL, coll_alias[k], coll_alias[k], NULL, NULL, &err) ==
              0);
    CHECK(accord_collection_list(store, NULL, collect_id, NULL, &err) == 0);
    for (int k = 0; k < NCOLL; k++) {
        for (int v = 1; v <= 2; v++) {
            buf_reset(&b);
            for (int i = 0; i < NOBJ; i++) {
                version *x = &vers[nvers++];
                x->coll = k;
                x->obj = i;
                x->v = v;
                x->sighting_of = -1;
                snprintf(x->id, sizeof(x->id), "indicator--%08x-%04x-4000-8000-000000000000", i, k);
                snprintf(x->modified, sizeof(x->modified), "2026-02-0%dT00:00:00.000Z", v + 1);
                x->level = level_cycle[i % 8];
                if (i == 9) /* raised */
                    x->level = v == 1 ? L_GREEN : L_RED;
                if (i == 12) /* lowered */
                    x->level = v == 1 ? L_RED : L_CLEAR;
                x->producer = i % 3 == 2 ? ORG_B : ORG_A;
                x->names_b = (x->level == L_AMBER || x->level == L_UNMARKED) && i % 2 == 0;
                write_version(&b, x);
            }
            CHECK(import_text(coll_alias[k], b.p) == 0);
        }
        /* sightings (CLEAR, by A) of a STRICT object of B, of a RED one, of one held nowhere */
        static const int of[NSIGHT] = {11, 4, -2};
        buf_reset(&b);
        for (int j = 0; j < NSIGHT; j++) {
            version *x = &vers[nvers++];
            x->coll = k;
            x->obj = NOBJ + j;
            x->v = 1;
            x->sighting_of = of[j];
            snprintf(x->id, sizeof(x->id), "sighting--%08x-%04x-4000-8000-000000000000", j, k);
            snprintf(x->modified, sizeof(x->modified), "2026-02-05T00:00:00.000Z");
            x->level = L_CLEAR;
            x->producer = ORG_A;
            write_version(&b, x);
        }
        CHECK(import_text(coll_alias[k], b.p) == 0);
    }
    for (int i = 0; i < NACC; i++) {
        const struct account *a = &accounts[i];
        CHECK(accord_account_add(store, a->name, NULL, a->admin, &err) == 0);
        if (a->org)
            CHECK(accord_account_set_org(store, a->name, a->org, &err) == 0);
        if (a->community)
            CHECK(accord_account_set_community(store, a->name, 1, &err) == 0);
        if (a->red_coll >= 0)
            CHECK(accord_red_set(store, coll_alias[a->red_coll], a->name, 1, &err) == 0);
        for (int k = 0; k < NCOLL; k++)
            CHECK(accord_rights_set(store, a->name, coll_alias[k], 1, 1, &err) == 0);
    }
    buf_free(&b);
}

/* ------------------------------------------------------------------------------------------ */
/* Requests                                                                                     */

static int auth(void *ud, accord_store *s, const taxii_request *rq, taxii_principal *out)
{
    (void)ud;
    (void)s;
    memset(out, 0, sizeof(*out));
    snprintf(out->account, sizeof(out->account), "%s", rq->authorization);
    out->is_admin = strcmp(rq->authorization, "admin") == 0;
    return 0;
}

static int rights(void *ud, accord_store *s, const taxii_principal *p, const char *coll, int *r,
                  int *w)
{
    (void)ud;
    accord_error err;
    return accord_rights_get(s, p->account, coll, r, w, &err);
}

static const taxii_ctx ctx = {.authenticate = auth, .rights = rights, .writer_lock = &writer_lock};

/* GET path?query as account; the response in rs (caller frees). */
static void get(const char *account, const char *path, const taxii_param *q, size_t nq,
                taxii_response *rs)
{
    taxii_ctx c = ctx;
    c.writer = store;
    taxii_request rq = {.method = "GET",
                        .path = path,
                        .query = q,
                        .nquery = nq,
                        .authorization = account,
                        .client_addr = "127.0.0.1"};
    taxii_response_init(rs);
    taxii_handle(&c, store, &rq, rs);
}

/* A list of "id@version" strings. */
typedef struct strs {
    char v[256][96];
    int n;
} strs;

static void strs_add(strs *l, const char *id, const char *ver)
{
    if (l->n < 256)
        snprintf(l->v[l->n++], sizeof(l->v[0]), "%s@%s", id, ver);
}

static int strs_eq(const strs *a, const strs *b)
{
    if (a->n != b->n)
        return 0;
    for (int i = 0; i < a->n; i++)
        if (strcmp(a->v[i], b->v[i]) != 0)
            return 0;
    return 1;
}

static void strs_show(const char *what, const strs *got, const strs *want)
{
    fprintf(stderr, "%s: got %d, want %d\n", what, got->n, want->n);
    for (int i = 0; i < got->n || i < want->n; i++)
        fprintf(stderr, "   %-70s %s\n", i < got->n ? got->v[i] : "-",
                i < want->n ? want->v[i] : "-");
}

/* The visible versions of collection k for account a: every version, or only the latest. */
static void expected(const struct account *a, int k, int latest_only, strs *out)
{
    out->n = 0;
    for (int i = 0; i < nvers; i++) {
        const version *x = &vers[i];
        if (x->coll != k || !visible(a, x))
            continue;
        if (latest_only && x->sighting_of == -1 && x != latest_of(k, x->obj))
            continue;
        strs_add(out, x->id, x->modified);
    }
}

/*
 * Pages through /accord/collections/K/<endpoint>/ 3 at a time as a; collects id@version.  Checks
 * that every page but the last is full and says more, and that the last says no more.
 */
static void page_all(const struct account *a, int k, const char *endpoint, int all, strs *got)
{
    char path[200], next[40] = "";
    snprintf(path, sizeof(path), "/accord/collections/%s/%s/", coll_id[k], endpoint);
    got->n = 0;
    ajson_arena arena;
    ajson_arena_init(&arena, 0);
    for (int guard = 0; guard < 100; guard++) {
        taxii_param q[3] = {{"limit", "3"}};
        size_t nq = 1;
        if (all)
            q[nq++] = (taxii_param){"match[version]", "all"};
        if (*next)
            q[nq++] = (taxii_param){"next", next};
        taxii_response rs;
        get(a->name, path, q, nq, &rs);
        CHECK(rs.status == 200);
        ajson_error e;
        ajson_arena_reset(&arena);
        const ajson_value *root = ajson_parse(&arena, rs.body.p, rs.body.len, &e);
        const ajson_value *objs = ajson_get(root, "objects");
        int more = 0;
        ajson_bool(ajson_get(root, "more"), &more);
        size_t n = objs ? objs->len : 0;
        for (size_t i = 0; i < n; i++) {
            const ajson_value *o = &objs->u.items[i];
            strs_add(
                got, ajson_str(ajson_get(o, "id")),
                ajson_str(ajson_get(o, strcmp(endpoint, "manifest") ? "modified" : "version")));
        }
        CHECK(more ? n == 3 : n <= 3); /* never a short page that claims more */
        const char *nx = ajson_str(ajson_get(root, "next"));
        CHECK(!more || nx);
        snprintf(next, sizeof(next), "%s", nx ? nx : "");
        taxii_response_free(&rs);
        if (!more)
            break;
    }
    ajson_arena_free(&arena);
}

/* object/{id}?match[version]=all and versions/{id}: every visible version, or 404. */
static void check_object(const struct account *a, int k, const char *id)
{
    strs want = {0}, got = {0}, got_v = {0};
    for (int i = 0; i < nvers; i++)
        if (vers[i].coll == k && strcmp(vers[i].id, id) == 0 && visible(a, &vers[i]))
            strs_add(&want, id, vers[i].modified);
    char path[240];
    ajson_arena arena;
    ajson_arena_init(&arena, 0);
    ajson_error e;
    taxii_param q[] = {{"match[version]", "all"}};
    taxii_response rs;
    snprintf(path, sizeof(path), "/accord/collections/%s/objects/%s/", coll_id[k], id);
    get(a->name, path, q, 1, &rs);
    CHECK(rs.status == (want.n ? 200 : 404));
    const ajson_value *objs = ajson_get(ajson_parse(&arena, rs.body.p, rs.body.len, &e), "objects");
    for (size_t i = 0; objs && i < objs->len; i++)
        strs_add(&got, id, ajson_str(ajson_get(&objs->u.items[i], "modified")));
    taxii_response_free(&rs);
    snprintf(path, sizeof(path), "/accord/collections/%s/objects/%s/versions/", coll_id[k], id);
    get(a->name, path, NULL, 0, &rs);
    CHECK(rs.status == (want.n ? 200 : 404));
    const ajson_value *vs = ajson_get(ajson_parse(&arena, rs.body.p, rs.body.len, &e), "versions");
    for (size_t i = 0; vs && i < vs->len; i++)
        strs_add(&got_v, id, ajson_str(&vs->u.items[i]));
    taxii_response_free(&rs);
    if (!strs_eq(&got, &want) || !strs_eq(&got_v, &want)) {
        fprintf(stderr, "object %s as %s in %s:\n", id, a->name, coll_alias[k]);
        strs_show("  object", &got, &want);
        strs_show("  versions", &got_v, &want);
    }
    CHECK(strs_eq(&got, &want));
    CHECK(strs_eq(&got_v, &want));
    ajson_arena_free(&arena);
}

static int on_rec(void *ud, const accord_record *r)
{
    strs_add(ud, r->id, r->modified);
    return 0;
}

/* The library reads behind `accord get --as` and `accord search --as`. */
static void check_library(const struct account *a, accord_viewer *v, int k, int obj)
{
    const version *x = latest_of(k, obj);
    strs want = {0}, got = {0};
    if (visible(a, x))
        strs_add(&want, x->id, x->modified);
    accord_error err;
    int rc = accord_store_get_as(store, v, x->id, 0, on_rec, &got, &err);
    CHECK(rc == (want.n ? 0 : ACCORD_ENOTFOUND));
    CHECK(strs_eq(&got, &want));
    want.n = got.n = 0;
    for (int i = 0; i < nvers; i++)
        if (vers[i].coll == k && vers[i].obj == obj && vers[i].sighting_of == -1 &&
            visible(a, &vers[i]))
            strs_add(&want, vers[i].id, vers[i].modified);
    char value[40];
    snprintf(value, sizeof(value), "11.18.%d.%d", k, obj);
    CHECK(accord_store_search_as(store, v, value, on_rec, &got, &err) == 0);
    if (!strs_eq(&got, &want))
        strs_show(value, &got, &want);
    CHECK(strs_eq(&got, &want));
}

static void walk(void)
{
    static const struct {
        const char *endpoint;
        int all;
    } lists[] = {{"objects", 0}, {"objects", 1}, {"manifest", 0}, {"manifest", 1}};
    for (int ai = 0; ai < NACC; ai++) {
        const struct account *a = &accounts[ai];
        accord_viewer *v = NULL;
        accord_error err;
        CHECK(accord_viewer_open(store, a->name, &v, &err) == 0);
        for (int k = 0; k < NCOLL; k++) {
            for (size_t e = 0; e < sizeof(lists) / sizeof(lists[0]); e++) {
                strs want, got;
                expected(a, k, !lists[e].all, &want);
                page_all(a, k, lists[e].endpoint, lists[e].all, &got);
                if (!strs_eq(&got, &want)) {
                    fprintf(stderr, "%s as %s in %s (all=%d):\n", lists[e].endpoint, a->name,
                            coll_alias[k], lists[e].all);
                    strs_show("  list", &got, &want);
                }
                CHECK(strs_eq(&got, &want));
            }
            for (int obj = 0; obj < NOBJ + NSIGHT; obj++) {
                char id[64];
                snprintf(id, sizeof(id), "%s--%08x-%04x-4000-8000-000000000000",
                         obj < NOBJ ? "indicator" : "sighting", obj < NOBJ ? obj : obj - NOBJ, k);
                check_object(a, k, id);
                if (obj < NOBJ)
                    check_library(a, v, k, obj);
            }
        }
        accord_viewer_free(v);
    }
}


/* ------------------------------------------------------------------------------------------ */
/* Defender exports: accord export and the feeds                                                */

static int str_cmp(const void *x, const void *y)
{
    return strcmp(x, y);
}

/* The plain-format values of an export, one per line, sorted, as a strs. */
static void values_of_text(const char *text, size_t len, strs *out)
{
    out->n = 0;
    size_t i = 0;
    while (i < len && out->n < 256) {
        size_t e = i;
        while (e < len && text[e] != '\n')
            e++;
        if (e > i && text[i] != '#')
            snprintf(out->v[out->n++], sizeof(out->v[0]), "%.*s", (int)(e - i), text + i);
        i = e + 1;
    }
    qsort(out->v, (size_t)out->n, sizeof(out->v[0]), str_cmp);
}

/* The values account a must find in an export of collection k: the latest version of each
 * indicator it may read (exports hold no sightings). */
static void expected_values(const struct account *a, int k, strs *out)
{
    out->n = 0;
    for (int i = 0; i < NOBJ; i++) {
        const version *x = latest_of(k, i);
        if (x && visible(a, x))
            value_of(k, i, out->v[out->n++], sizeof(out->v[0]));
    }
    qsort(out->v, (size_t)out->n, sizeof(out->v[0]), str_cmp);
}

static int on_export(void *ud, const char *file, const char *data, size_t len)
{
    (void)file;
    return buf_add(ud, data, len) ? ACCORD_ENOMEM : 0;
}

static void check_exports(void)
{
    accord_error err;
    for (int k = 0; k < NCOLL; k++) {
        char name[32];
        const char *argv[] = {"--format", "plain", "--collection", coll_alias[k]};
        snprintf(name, sizeof(name), "f-%s", coll_alias[k]);
        CHECK(accord_feed_put(store, name, 4, argv, &err) == 0);
    }
    buf out;
    buf_init(&out, 1 << 22);
    for (int ai = 0; ai < NACC; ai++) {
        const struct account *a = &accounts[ai];
        accord_viewer *v = NULL;
        CHECK(accord_viewer_open(store, a->name, &v, &err) == 0);
        for (int k = 0; k < NCOLL; k++) {
            strs want, got;
            expected_values(a, k, &want);
            /* accord export --as ACCOUNT --collection K --format plain */
            accord_export_spec sp;
            accord_export_spec_init(&sp);
            CHECK(accord_export_spec_set(&sp, "format", "plain", &err) == 0);
            CHECK(accord_export_spec_set(&sp, "collection", coll_alias[k], &err) == 0);
            sp.filter.viewer = v;
            accord_export_set *set = NULL;
            buf_reset(&out);
            CHECK(accord_export_select(store, &sp.filter, &set, &err) == 0);
            CHECK(set && accord_export_write(set, &sp.opts, on_export, &out, NULL, &err) == 0);
            accord_export_set_free(set);
            values_of_text(out.p ? out.p : "", out.len, &got);
            if (!strs_eq(&got, &want)) {
                fprintf(stderr, "export as %s of %s:\n", a->name, coll_alias[k]);
                strs_show("export", &got, &want);
                CHECK(0);
            }
            /* GET /feeds/f-K as the account */
            char path[64];
            snprintf(path, sizeof(path), "/feeds/f-%s", coll_alias[k]);
            taxii_ctx c = ctx;
            c.writer = store;
            taxii_request rq = {.method = "GET",
                                .path = path,
                                .authorization = a->name,
                                .client_addr = "127.0.0.1"};
            taxii_response rs;
            taxii_response_init(&rs);
            CHECK(api_handle(&c, store, &rq, &rs) == 1);
            CHECK(rs.status == 200);
            values_of_text(rs.body.p ? rs.body.p : "", rs.body.len, &got);
            if (!strs_eq(&got, &want)) {
                fprintf(stderr, "feed f-%s as %s (HTTP %d):\n", coll_alias[k], a->name,
                        rs.status);
                strs_show("feed", &got, &want);
                CHECK(0);
            }
            taxii_response_free(&rs);
        }
        accord_viewer_free(v);
    }
    buf_free(&out);
}

/* A status lists the ids its POST sent: only that account (and admins) may read it. */
static void check_status(void)
{
    taxii_ctx c = ctx;
    c.writer = store;
    char path[200];
    snprintf(path, sizeof(path), "/accord/collections/%s/objects/", coll_id[0]);
    const char *body =
        "{\"objects\":[{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--"
        "77777777-0000-4000-8000-000000000000\",\"created\":\"2026-02-01T00:00:00.000Z\","
        "\"modified\":\"2026-02-01T00:00:00.000Z\",\"pattern\":\"[ipv4-addr:value = "
        "'198.18.9.9']\",\"pattern_type\":\"stix\",\"valid_from\":\"2026-02-01T00:00:00Z\","
        "\"object_marking_refs\":[\"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1\"]}]}";
    taxii_request rq = {.method = "POST",
                        .path = path,
                        .authorization = "prod-a",
                        .content_type = TAXII_MEDIA,
                        .body = body,
                        .body_len = strlen(body),
                        .client_addr = "127.0.0.1"};
    taxii_response rs;
    taxii_response_init(&rs);
    taxii_handle(&c, store, &rq, &rs);
    CHECK(rs.status == 202);
    char sid[40] = "";
    sscanf(rs.body.p, "{\"id\":\"%36[0-9a-f-]\"", sid);
    taxii_response_free(&rs);
    snprintf(path, sizeof(path), "/accord/status/%s/", sid);
    for (int ai = 0; ai < NACC; ai++) {
        get(accounts[ai].name, path, NULL, 0, &rs);
        int mine = accounts[ai].admin || strcmp(accounts[ai].name, "prod-a") == 0;
        CHECK(rs.status == (mine ? 200 : 404));
        CHECK(mine == (strstr(rs.body.p, "indicator--77777777") != NULL));
        taxii_response_free(&rs);
    }
    /* the RED object prod-a posted and cannot read: a DELETE by another writer neither removes
     * it nor tells it exists */
    snprintf(path, sizeof(path),
             "/accord/collections/%s/objects/"
             "indicator--77777777-0000-4000-8000-000000000000/",
             coll_id[0]);
    rq = (taxii_request){
        .method = "DELETE", .path = path, .authorization = "member-c", .client_addr = "127.0.0.1"};
    taxii_response_init(&rs);
    taxii_handle(&c, store, &rq, &rs);
    CHECK(rs.status == 404);
    taxii_response_free(&rs);
    get("admin", path, NULL, 0, &rs);
    CHECK(rs.status == 200);
    taxii_response_free(&rs);
}

int main(void)
{
    char dir[256];
    accord_error err;
    if (t_mkdtemp(dir, sizeof(dir), "tlp-matrix") || accord_store_open(dir, 0, &store, &err)) {
        fprintf(stderr, "cannot make a store in %s\n", dir);
        return 1;
    }
    build();
    walk();
    check_exports();
    check_status();
    accord_store_close(store);
    t_rmtree(dir);
    return t_done();
}
