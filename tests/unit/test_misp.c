/*
 * test_misp.c - MISP events to STIX: the mapping of tests/data/misp/event.json object by object,
 * the validity of everything produced, determinism, the event shapes, TLP spellings, and the
 * store side: idempotent re-import, new versions from a newer event, revocation of attributes
 * an update dropped, --strict, malformed JSON named by line and column.  Real data under
 * ../shared/data is exercised by tests/integration/test_misp_data.sh.
 */
#include "accord.h"
#include "misp.h"
#include "stix.h"
#include "t.h"
#include "util/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EV "5f6e2a1c-eeee-4000-8000-000000000042"
#define AMBER "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
#define RED "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
#define CLEAR "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"

/* Every object produced, as lines; how many of them failed validation, and how many were not
 * compact JSON (the import stores the mapper's bytes as they are, without minifying them). */
typedef struct out {
    char *text;
    size_t len, cap;
    int n, invalid, loose;
    char first_invalid[600];
} out;

/* Objects whose misp_stix_info (what the import stores without validating) differs from what
 * stix_validate reads, out of those compared. */
static int info_compared, info_differs;

static int same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* The import's reading of a mapper object against the validator's. */
static void compare_info(const char *json, size_t len)
{
    ajson_arena a;
    ajson_error jerr;
    ajson_arena_init(&a, 0);
    const ajson_value *root = ajson_parse(&a, json, len, &jerr);
    stix_info v, m;
    stix_problem prob;
    if (root && stix_validate(root, NULL, &v, &prob) == 0) {
        info_compared++;
        if (misp_stix_info(root, &m) != 0 || !same_str(v.id, m.id) || !same_str(v.type, m.type) ||
            !same_str(v.created, m.created) || !same_str(v.modified, m.modified) ||
            !same_str(v.spec_version, m.spec_version) || v.revoked != m.revoked ||
            v.kind != m.kind || v.label.set != m.label.set || v.label.level != m.label.level ||
            !same_str(v.label.org, m.label.org) || v.obj != m.obj) {
            if (!info_differs++)
                fprintf(stderr, "misp_stix_info differs from stix_validate: %.*s\n", (int)len,
                        json);
        }
    }
    ajson_arena_free(&a);
}

static int collect(void *ud, const char *json, size_t len)
{
    out *o = ud;
    accord_error err;
    char *min = malloc(len + 1);
    if (!min || ajson_minify(json, len, min) != len || memcmp(min, json, len) != 0)
        o->loose++;
    free(min);
    compare_info(json, len);
    if (accord_validate_json(json, len, &err) != 0) {
        if (!o->invalid++)
            snprintf(o->first_invalid, sizeof(o->first_invalid), "%s", err.msg);
    }
    if (o->len + len + 2 > o->cap) {
        o->cap = (o->len + len + 2) * 2;
        o->text = realloc(o->text, o->cap);
    }
    memcpy(o->text + o->len, json, len);
    o->len += len;
    o->text[o->len++] = '\n';
    o->text[o->len] = 0;
    o->n++;
    return 0;
}

/* The line of the object with id `id`, or NULL (static buffer). */
static const char *find(const out *o, const char *id)
{
    static char line[65536];
    char key[200];
    snprintf(key, sizeof(key), "\"id\":\"%s\"", id);
    const char *p = o->text ? strstr(o->text, key) : NULL;
    if (!p)
        return NULL;
    while (p > o->text && p[-1] != '\n')
        p--;
    const char *e = strchr(p, '\n');
    size_t n = (size_t)(e - p) < sizeof(line) - 1 ? (size_t)(e - p) : sizeof(line) - 1;
    memcpy(line, p, n);
    line[n] = 0;
    return line;
}

static int count(const out *o, const char *needle)
{
    int n = 0;
    for (const char *p = o->text; p && (p = strstr(p, needle)); p++)
        n++;
    return n;
}

static char *errors;
static void on_error(void *ud, const char *msg)
{
    (void)ud;
    size_t a = errors ? strlen(errors) : 0, b = strlen(msg);
    errors = realloc(errors, a + b + 2);
    memcpy(errors + a, msg, b);
    errors[a + b] = '\n';
    errors[a + b + 1] = 0;
}

static int map(const char *text, size_t len, out *o, accord_misp_stats *st)
{
    memset(o, 0, sizeof(*o));
    free(errors);
    errors = NULL;
    accord_misp_options opts = {0};
    opts.source = "event.json";
    opts.on_error = on_error;
    accord_error err;
    return accord_misp_map_mem(text, len, &opts, collect, o, st, &err);
}

/* s with every `from` replaced by `to` (malloc'd), its length in *len. */
static char *replace_all(const char *s, const char *from, const char *to, size_t *len)
{
    size_t n = 0, fl = strlen(from), tl = strlen(to);
    for (const char *p = s; (p = strstr(p, from)); p += fl)
        n++;
    char *r = malloc(strlen(s) + n * tl + 1), *q = r;
    const char *p = s, *h;
    while ((h = strstr(p, from))) {
        memcpy(q, p, (size_t)(h - p));
        q += h - p;
        memcpy(q, to, tl);
        q += tl;
        p = h + fl;
    }
    memcpy(q, p, strlen(p) + 1);
    *len = (size_t)(q - r) + strlen(p);
    return r;
}

/*
 * An event's lists are read as text, one element at a time; an escaped key makes the reader
 * parse the whole event instead.  Both paths must give the same objects (ids of templates
 * without uuids hash the whole event), and a broken element anywhere fails the whole event
 * before anything of it is written.
 */
static void test_lists_as_text(const char *v1, size_t l1)
{
    const char *tmpl = "[{\"Event\":{\"info\":\"template\",\"date\":\"2020-01-02\",\"Attribute\":["
                       "{\"type\":\"ip-dst\",\"value\":\"192.0.2.7\",\"to_ids\":true},{\"type\":\"text\","
                       "\"value\":\"note\"}],\"Object\":[{\"name\":\"domain-ip\",\"Attribute\":[{\"type\":"
                       "\"domain\",\"object_relation\":\"domain\",\"value\":\"t.example\"}]}]}}]";
    const char *inputs[] = {v1, tmpl};
    size_t lens[] = {l1, strlen(tmpl)};
    for (int k = 0; k < 2; k++) {
        out a, b;
        accord_misp_stats sa, sb;
        size_t l2;
        char *plain = replace_all(inputs[k], "\"Attribute\"", "\"Attr\\u0069bute\"", &l2);
        int ra = map(inputs[k], lens[k], &a, &sa);
        char *ea = errors ? strdup(errors) : NULL;
        int rb = map(plain, l2, &b, &sb);
        CHECK(ra == rb && a.n == b.n && a.n > 3 && sa.attributes == sb.attributes);
        CHECK(a.text && b.text && a.len == b.len && memcmp(a.text, b.text, a.len) == 0);
        CHECK((!ea && !errors) || (ea && errors && strcmp(ea, errors) == 0));
        free(ea);
        free(plain);
        free(a.text);
        free(b.text);
    }
    const char *broken = "[{\"Event\":{\"uuid\":\"99999999-9999-4999-8999-999999999999\",\"Attribute\":"
                         "[{\"type\":\"domain\",\"value\":\"a.example\"},{\"type\":\"ip-dst\",\"value\":"
                         "\"999.1.1.1\"},\n{\"type\":\"domain\",\"value\":"
                         "\"b.example\",}]}},{\"Event\":{\"uuid\":\"99999999-9999-4999-8999-999999999998\","
                         "\"Attribute\":[{\"type\":\"domain\",\"value\":\"c.example\"}]}}]";
    out o;
    accord_misp_stats st;
    CHECK(map(broken, strlen(broken), &o, &st) == ACCORD_ESTIX);
    CHECK(st.events == 1 && st.events_failed == 1);
    CHECK(o.text && !strstr(o.text, "a.example") && strstr(o.text, "c.example"));
    CHECK(errors && strstr(errors, "event.json:2:"));
    /* what the broken event said before its broken element is dropped with it */
    CHECK(st.bad == 0 && st.attributes == 1 && !strstr(errors, "999.1.1.1"));
    free(o.text);
}

/* An emit callback that fails with code `code` after `left` objects; counts its calls. */
typedef struct refuser {
    int left, code, calls;
} refuser;

static int refuse(void *ud, const char *json, size_t len)
{
    refuser *r = ud;
    (void)json;
    (void)len;
    r->calls++;
    return r->left-- > 0 ? 0 : r->code;
}

/*
 * An emit callback's failure ends the mapping with its code, wherever it happens, and emit is not
 * called again: ACCORD_ESTIX from emit included, which the walk once took for an event that
 * failed to map, and went on to the next event, calling emit again.
 */
static void test_emit_fails(void)
{
    const char *two = "[{\"Event\":{\"uuid\":\"11111111-1111-4111-8111-111111111111\","
                      "\"Attribute\":[{\"type\":\"domain\",\"value\":\"a.example\"}]}},"
                      "{\"Event\":{\"uuid\":\"22222222-2222-4222-8222-222222222222\","
                      "\"Attribute\":[{\"type\":\"domain\",\"value\":\"b.example\"}]}}]";
    refuser all = {1 << 30, 0, 0};
    accord_misp_stats st;
    accord_error err;
    CHECK(accord_misp_map_mem(two, strlen(two), NULL, refuse, &all, &st, &err) == 0);
    CHECK(all.calls >= 4 && st.events == 2);
    for (int code = 0; code < 2; code++)
        for (int k = 0; k < all.calls; k++) {
            refuser r = {k, code ? ACCORD_ESTIX : ACCORD_EIO, 0};
            CHECK(accord_misp_map_mem(two, strlen(two), NULL, refuse, &r, &st, &err) == r.code);
            CHECK(r.calls == k + 1);
        }
}

/*
 * Galaxy clusters of every SDO kind: intrusion-set and tool (mitre-intrusion-set, mitre-tool,
 * exploit-kit) besides the attack-pattern, malware and threat-actor of the fixture, a
 * course-of-action and an unknown galaxy type; each with its ATT&CK id and the relationship
 * from the attribute's indicator.  And an object whose attributes carry a TLP tag: the strictest
 * marks its SDO instead of the event's.
 */
static void test_galaxy_kinds(void)
{
    const char *ev =
        "{\"Event\":{\"uuid\":\"21212121-2121-4212-8212-212121212121\",\"timestamp\":\"1600000000\","
        "\"Tag\":[{\"name\":\"tlp:green\"}],\"Attribute\":[{"
        "\"uuid\":\"22222222-2222-4222-8222-222222222222\",\"type\":\"domain\","
        "\"value\":\"apt.example\",\"to_ids\":true,\"Galaxy\":["
        "{\"type\":\"mitre-intrusion-set\",\"name\":\"Intrusion Set\",\"GalaxyCluster\":[{"
        "\"uuid\":\"23232323-2323-4323-8323-232323232323\",\"type\":\"mitre-intrusion-set\","
        "\"value\":\"APT28 - G0007\",\"meta\":{\"external_id\":[\"G0007\"]}}]},"
        "{\"type\":\"mitre-tool\",\"name\":\"Tool\",\"GalaxyCluster\":[{"
        "\"uuid\":\"24242424-2424-4424-8424-242424242424\",\"type\":\"mitre-tool\","
        "\"value\":\"Mimikatz - S0002\",\"meta\":{\"external_id\":[\"S0002\"]}}]},"
        "{\"type\":\"exploit-kit\",\"name\":\"Exploit-Kit\",\"GalaxyCluster\":[{"
        "\"uuid\":\"25252525-2525-4525-8525-252525252525\",\"type\":\"exploit-kit\","
        "\"value\":\"Angler\"}]},"
        "{\"type\":\"mitre-course-of-action\",\"name\":\"Course of Action\",\"GalaxyCluster\":[{"
        "\"uuid\":\"26262626-2626-4626-8626-262626262626\",\"type\":\"mitre-course-of-action\","
        "\"value\":\"Audit - M1047\",\"meta\":{\"external_id\":[\"M1047\"]}}]},"
        "{\"type\":\"sector\",\"name\":\"Sector\",\"GalaxyCluster\":[{"
        "\"uuid\":\"27272727-2727-4727-8727-272727272727\",\"type\":\"sector\","
        "\"value\":\"Finance\"}]}]}],"
        "\"Object\":[{\"uuid\":\"28282828-2828-4828-8828-282828282828\",\"name\":\"file\","
        "\"Attribute\":[{\"object_relation\":\"filename\",\"type\":\"filename\",\"value\":\"a.exe\","
        "\"to_ids\":true,\"Tag\":[{\"name\":\"tlp:clear\"}]},{\"object_relation\":\"md5\","
        "\"type\":\"md5\",\"value\":\"0cc175b9c0f1b6a831c399e269772661\",\"to_ids\":true,"
        "\"Tag\":[{\"name\":\"tlp:amber\"}]}]},"
        "{\"uuid\":\"29292929-2929-4929-8929-292929292929\",\"name\":\"file\","
        "\"Attribute\":[{\"object_relation\":\"filename\",\"type\":\"filename\",\"value\":\"b.exe\","
        "\"to_ids\":true},{\"object_relation\":\"md5\",\"type\":\"md5\","
        "\"value\":\"92eb5ffee6ae2fec3ad71c777531578f\",\"to_ids\":true}]}]}}";
    static const struct {
        const char *id, *ext, *rel; /* rel: an indicator indicates what it is evidence of */
    } want[] = {
        {"intrusion-set--23232323-2323-4323-8323-232323232323", "G0007", "indicates"},
        {"tool--24242424-2424-4424-8424-242424242424", "S0002", "indicates"},
        {"tool--25252525-2525-4525-8525-252525252525", NULL, "indicates"},
        {"course-of-action--26262626-2626-4626-8626-262626262626", "M1047", "related-to"},
        {"x-misp-galaxy-cluster--27272727-2727-4727-8727-272727272727", NULL, "related-to"},
    };
    out o;
    accord_misp_stats st;
    CHECK(map(ev, strlen(ev), &o, &st) == 0);
    CHECK(o.invalid == 0 && st.clusters == 5);
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        const char *l = find(&o, want[i].id);
        char ext[100], rel[300];
        CHECK(l != NULL);
        if (want[i].ext) {
            snprintf(ext, sizeof(ext), "{\"source_name\":\"mitre-attack\",\"external_id\":\"%s\"}",
                     want[i].ext);
            CHECK(l && strstr(l, ext));
        }
        snprintf(rel, sizeof(rel),
                 "\"relationship_type\":\"%s\",\"source_ref\":\"indicator--22222222-2222-"
                 "4222-8222-222222222222\",\"target_ref\":\"%s\"",
                 want[i].rel, want[i].id);
        CHECK(strstr(o.text, rel) != NULL);
    }
    CHECK(count(&o, "\"type\":\"intrusion-set\"") == 1 && count(&o, "\"type\":\"tool\"") == 2);
    const char *l = find(&o, "indicator--28282828-2828-4828-8828-282828282828");
    CHECK(l && strstr(l, "\"object_marking_refs\":[\"marking-definition--55d920b0")); /* amber */
    l = find(&o, "indicator--29292929-2929-4929-8929-292929292929");
    CHECK(l && strstr(l, "\"object_marking_refs\":[\"marking-definition--bab4a63c")); /* green */
    free(o.text);
}

/* Proposals (ShadowAttribute) are custom objects of their proposer, never indicators. */
static void test_proposals(void)
{
    const char *ev =
        "{\"Event\":{\"uuid\":\"12121212-1212-4212-8212-121212121212\",\"timestamp\":\"1600000000\","
        "\"Orgc\":{\"name\":\"Owner\",\"uuid\":\"13131313-1313-4313-8313-131313131313\"},"
        "\"Tag\":[{\"name\":\"tlp:amber\"}],\"Attribute\":[{\"id\":\"77\","
        "\"uuid\":\"14141414-1414-4414-8414-141414141414\","
        "\"type\":\"filename\",\"value\":\"bar.exe\",\"to_ids\":true,\"category\":\"Payload delivery\","
        "\"ShadowAttribute\":[{\"uuid\":\"15151515-1515-4515-8515-151515151515\",\"type\":\"filename\","
        "\"value\":\"bar.pdf\",\"to_ids\":true,\"category\":\"Payload delivery\",\"timestamp\":\"1600000100\","
        "\"Org\":{\"name\":\"Proposer\",\"uuid\":\"16161616-1616-4616-8616-161616161616\"}},"
        "{\"type\":\"filename\",\"value\":\"bar.exe\",\"proposal_to_delete\":true}]}],"
        "\"ShadowAttribute\":[{\"type\":\"domain\",\"value\":\"new.example\",\"to_ids\":\"1\","
        "\"comment\":\"seen too\"},{\"type\":\"domain\"},"
        /* event-level proposals name the attribute they change by its number */
        "{\"uuid\":\"17171717-1717-4717-8717-171717171717\",\"old_id\":\"77\",\"type\":\"filename\","
        "\"value\":\"bar.dll\"},{\"uuid\":\"18181818-1818-4818-8818-181818181818\",\"old_id\":\"999\","
        "\"type\":\"filename\",\"value\":\"baz.dll\"}]}}";
    out o;
    accord_misp_stats st;
    CHECK(map(ev, strlen(ev), &o, &st) == ACCORD_ESTIX); /* the last proposal has no value */
    CHECK(o.invalid == 0 && o.loose == 0 && st.proposals == 5 && st.bad == 1 && st.indicators == 1);
    const char *p = find(&o, "x-misp-proposal--15151515-1515-4515-8515-151515151515");
    CHECK(p && strstr(p, "\"x_misp_value\":\"bar.pdf\"") &&
          strstr(p, "\"x_misp_attribute_ref\":\"indicator--14141414-1414-4414-8414-141414141414\"") &&
          strstr(p, "\"created_by_ref\":\"identity--16161616-1616-4616-8616-161616161616\"") &&
          strstr(p, "\"modified\":\"2020-09-13T12:28:20.000000Z\"") &&
          strstr(p, "\"object_marking_refs\":[\"marking-definition--55d920b0"));
    CHECK(count(&o, "\"x_misp_proposal_to_delete\":true") == 1);
    CHECK(count(&o, "\"type\":\"x-misp-proposal\"") == 5);
    p = find(&o, "x-misp-proposal--17171717-1717-4717-8717-171717171717");
    CHECK(p && strstr(p, "\"x_misp_attribute_ref\":\"indicator--14141414-1414-4414-8414-141414141414\""));
    p = find(&o, "x-misp-proposal--18181818-1818-4818-8818-181818181818");
    CHECK(p && !strstr(p, "x_misp_attribute_ref")); /* no attribute 999 in the event */
    CHECK(!strstr(o.text, "'new.example'") && !strstr(o.text, "'bar.pdf'")); /* no pattern */
    const char *r = find(&o, "report--12121212-1212-4212-8212-121212121212");
    CHECK(r && strstr(r, "x-misp-proposal--15151515-1515-4515-8515-151515151515"));
    CHECK(errors && strstr(errors, "ShadowAttribute[1]: no type or no value"));
    free(o.text);
}

static void test_mapping(const char *text, size_t len)
{
    out o;
    accord_misp_stats st;
    int rc = map(text, len, &o, &st);
    CHECK(rc == ACCORD_ESTIX); /* one bad value */
    CHECK(o.invalid == 0);
    CHECK(o.loose == 0 && o.n > 40);
    if (o.invalid)
        fprintf(stderr, "first invalid: %s\n", o.first_invalid);
    CHECK(st.events == 1);
    CHECK(st.indicators == 16);
    CHECK(st.terms == 22);
    CHECK(st.observed == 4);
    CHECK(st.custom == 4);
    CHECK(st.bad == 1);
    CHECK(st.revoked == 1);
    CHECK(st.sightings == 2);
    CHECK(st.clusters == 3);
    CHECK(st.relationships == 2); /* indicates, and one cluster relation (the other's target is
                                     not in the event) */
    CHECK(st.nunmapped == 2 && strcmp(st.unmapped[0].type, "btc") == 0 && st.unmapped[0].n == 1 &&
          strcmp(st.unmapped[1].type, "text") == 0 && st.unmapped[1].n == 3);
    /* the bad value is named with the event, the path and the attribute uuid */
    CHECK(errors && strstr(errors, "event.json: event " EV ": Attribute[13] (uuid "
                                   "5f6e2a1c-0000-4000-8000-000000000014): value \"999.1.1.1\""));

    const char *l = find(&o, "indicator--5f6e2a1c-0000-4000-8000-000000000001");
    CHECK(l && strstr(l, "\"pattern\":\"[ipv4-addr:value = '198.51.100.7']\""));
    CHECK(l && strstr(l, "\"labels\":[\"misp:type=\\\"ip-dst\\\"\",\"misp:category=\\\"Network "
                         "activity\\\"\",\"misp:to_ids=\\\"True\\\"\"]"));
    CHECK(l && strstr(l, "\"object_marking_refs\":[\"" AMBER "\"]"));
    CHECK(l && strstr(l, "\"description\":\"C2 server\""));
    CHECK(l && strstr(l, "\"created_by_ref\":\"identity--5f6e2a1c-0b7d-4c3e-9a8b-1c2d3e4f5a6b\""));
    CHECK(l && strstr(l, "\"modified\":\"2023-11-14T22:13:20.000000Z\""));
    CHECK(l && strstr(l, "\"x_misp_distribution\":5"));
    /* non-to_ids: observed-data with its SCO */
    l = find(&o, "observed-data--5f6e2a1c-0000-4000-8000-000000000003");
    CHECK(l && strstr(l, "\"object_refs\":[\"ipv4-addr--"));
    CHECK(count(&o, "\"type\":\"ipv4-addr\",\"spec_version\":\"2.1\"") >= 3);
    CHECK(strstr(o.text, "\"value\":\"203.0.113.9\"") != NULL);
    /* composite values */
    l = find(&o, "indicator--5f6e2a1c-0000-4000-8000-000000000006");
    CHECK(l && strstr(l, "[file:name = 'dropper.exe' AND file:hashes.'SHA-256' = "
                         "'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']"));
    l = find(&o, "indicator--5f6e2a1c-0000-4000-8000-000000000008");
    CHECK(l && strstr(l, "[network-traffic:dst_ref.value = 'c2.example.org' AND "
                         "network-traffic:dst_port = 8443]"));
    /* quotes and backslashes escaped in the pattern, then in JSON */
    l = find(&o, "indicator--5f6e2a1c-0000-4000-8000-000000000010");
    CHECK(l && strstr(l, "[mutex:name = 'Global\\\\\\\\evil\\\\'mutex']"));
    /* deleted -> revoked; the attribute's own tlp tag wins */
    l = find(&o, "indicator--5f6e2a1c-0000-4000-8000-000000000015");
    CHECK(l && strstr(l, "\"revoked\":true"));
    l = find(&o, "indicator--5f6e2a1c-0000-4000-8000-000000000016");
    CHECK(l && strstr(l, "\"object_marking_refs\":[\"" RED "\"]"));
    /* first_seen/last_seen with offsets, converted to UTC */
    l = find(&o, "indicator--5f6e2a1c-0000-4000-8000-000000000017");
    CHECK(l && strstr(l, "\"valid_from\":\"2023-11-01T10:00:00.000000Z\""));
    CHECK(l && strstr(l, "\"valid_until\":\"2023-11-10T10:30:00.000000Z\""));
    /* unmapped types: x-misp-attribute */
    l = find(&o, "x-misp-attribute--5f6e2a1c-0000-4000-8000-000000000012");
    CHECK(l && strstr(l, "\"x_misp_type\":\"btc\"") &&
          strstr(l, "\"x_misp_value\":\"1BoatSLRHtKNngkdXEeobR76b53LETtpyT\""));
    /* sightings: a sighting by the sensor org, and the false positive as an opinion */
    l = find(&o, "sighting--5f6e2a1c-5555-4000-8000-000000000001");
    CHECK(l && strstr(l, "\"sighting_of_ref\":\"indicator--5f6e2a1c-0000-4000-8000-000000000018\""));
    CHECK(l && strstr(l, "\"where_sighted_refs\":[\"identity--5f6e2a1c-9999-4000-8000-000000000009\"]"));
    CHECK(l && strstr(l, "\"first_seen\":\"2023-11-14T22:30:00.000000Z\""));
    l = find(&o, "opinion--5f6e2a1c-5555-4000-8000-000000000002");
    CHECK(l && strstr(l, "\"opinion\":\"strongly-disagree\""));
    /* galaxies: ATT&CK ids as external references, relationships from the attribute */
    l = find(&o, "attack-pattern--5f6e2a1c-8888-4000-8000-000000000008");
    CHECK(l && strstr(l, "{\"source_name\":\"mitre-attack\",\"external_id\":\"T1566\"}"));
    CHECK(l && strstr(l, "{\"kill_chain_name\":\"mitre-attack\",\"phase_name\":\"initial-access\"}"));
    l = find(&o, "malware--5f6e2a1c-7777-4000-8000-000000000007");
    CHECK(l && strstr(l, "\"is_family\":true") && strstr(l, "\"aliases\":[\"EvilRAT\"]"));
    CHECK(find(&o, "threat-actor--5f6e2a1c-6666-4000-8000-000000000006") != NULL);
    CHECK(strstr(o.text, "\"relationship_type\":\"indicates\",\"source_ref\":\"indicator--5f6e2a1c-"
                         "0000-4000-8000-000000000018\",\"target_ref\":\"malware--5f6e2a1c-7777-"
                         "4000-8000-000000000007\"") != NULL);
    /* a cluster relation to a cluster the event carries: a relationship between the SDOs */
    CHECK(strstr(o.text, "\"relationship_type\":\"uses\",\"source_ref\":\"threat-actor--5f6e2a1c-"
                         "6666-4000-8000-000000000006\",\"target_ref\":\"malware--5f6e2a1c-7777-"
                         "4000-8000-000000000007\"") != NULL);
    CHECK(strstr(o.text, "5f6e2a1c-9999-4000-8000-000000000099") == NULL);
    l = find(&o, "vulnerability--5f6e2a1c-0000-4000-8000-000000000019");
    CHECK(l && strstr(l, "{\"source_name\":\"cve\",\"external_id\":\"CVE-2021-44228\"}"));
    l = find(&o, "indicator--5f6e2a1c-0000-4000-8000-000000000020");
    CHECK(l && strstr(l, "\"pattern_type\":\"snort\""));
    /* objects: one pattern per object, its attributes together */
    l = find(&o, "indicator--5f6e2a1c-1111-4000-8000-000000000001");
    CHECK(l && strstr(l, "[file:name = 'invoice.pdf.exe' AND file:hashes.'MD5' = "
                         "'0cc175b9c0f1b6a831c399e269772661' AND file:hashes.'SHA-1' = "
                         "'86f7e437faa5a7fce15d1ddcb9eaeaea377667b8' AND file:size = 1024]"));
    CHECK(l && strstr(l, "\"labels\":[\"misp:name=\\\"file\\\"\""));
    l = find(&o, "indicator--5f6e2a1c-1111-4000-8000-000000000003");
    CHECK(l && strstr(l, "network-traffic:protocols[*] = 'tcp'"));
    l = find(&o, "observed-data--5f6e2a1c-1111-4000-8000-000000000002");
    CHECK(l != NULL);
    CHECK(strstr(o.text, "\"type\":\"domain-name\",\"spec_version\":\"2.1\",\"id\":\"domain-name--") &&
          strstr(o.text, "\"value\":\"resolved.example.com\",\"resolves_to_refs\":[\"ipv4-addr--"));
    /* a relation without a table entry stays, on its own */
    CHECK(find(&o, "x-misp-attribute--5f6e2a1c-0000-4000-8000-000000000035") != NULL);
    CHECK(find(&o, "indicator--5f6e2a1c-0000-4000-8000-000000000061") != NULL);
    /* the report last, with the markings written once */
    l = find(&o, "report--" EV);
    CHECK(l && strstr(l, "\"name\":\"Example campaign: EvilRAT C2\""));
    CHECK(l && strstr(l, "\"indicator--5f6e2a1c-0000-4000-8000-000000000001\""));
    CHECK(l && strstr(l, "\"attack-pattern--5f6e2a1c-8888-4000-8000-000000000008\""));
    CHECK(l && strstr(l, "\"labels\":[\"misp:threat_level_id=\\\"1\\\"\",\"misp:analysis=\\\"2\\\"\","
                         "\"tlp:amber\",\"type:OSINT\"]"));
    CHECK(l && strstr(l, "\"published\":\"2023-11-14T22:15:00.000000Z\""));
    CHECK(o.text && strstr(o.text, "\"id\":\"report--") > strstr(o.text, "\"id\":\"indicator--"));
    CHECK(count(&o, "\"id\":\"" AMBER "\"") == 1 && count(&o, "\"id\":\"" RED "\"") == 1);

    /* deterministic: the same bytes again */
    out o2;
    map(text, len, &o2, &st);
    CHECK(o2.len == o.len && memcmp(o2.text, o.text, o.len) == 0);
    free(o.text);
    free(o2.text);
}

static void test_shapes(void)
{
    out o;
    accord_misp_stats st;
    const char *two = "[{\"Event\":{\"uuid\":\"11111111-1111-4111-8111-111111111111\",\"info\":\"a\","
                      "\"timestamp\":\"1600000000\",\"Tag\":[{\"name\":\"tlp:white\"}]}},"
                      "{\"Event\":{\"uuid\":\"22222222-2222-4222-8222-222222222222\",\"info\":\"b\","
                      "\"timestamp\":1600000001,\"Tag\":[{\"name\":\"TLP:CLEAR\"}]}}]";
    CHECK(map(two, strlen(two), &o, &st) == 0 && st.events == 2 && o.invalid == 0);
    CHECK(count(&o, "\"id\":\"" CLEAR "\"") == 2); /* once per event, both spellings */
    free(o.text);
    const char *resp = "{\"response\":[{\"Event\":{\"uuid\":\"11111111-1111-4111-8111-111111111111\","
                       "\"info\":\"a\",\"timestamp\":\"1600000000\",\"Tag\":[{\"name\":"
                       "\"tlp:amber+strict\"}]}}]}";
    CHECK(map(resp, strlen(resp), &o, &st) == 0 && st.events == 1);
    CHECK(strstr(o.text, "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003") != NULL);
    free(o.text);
    /* an event without uuids (a template): ids derived from content, stable */
    const char *tmpl = "{\"info\":\"t\",\"date\":\"2020-01-02\",\"Attribute\":[{\"type\":\"ip-dst\","
                       "\"value\":\"192.0.2.1\",\"to_ids\":true}]}";
    CHECK(map(tmpl, strlen(tmpl), &o, &st) == 0 && st.indicators == 1 && o.invalid == 0);
    char *first = strdup(o.text);
    free(o.text);
    CHECK(map(tmpl, strlen(tmpl), &o, &st) == 0 && strcmp(first, o.text) == 0);
    free(first);
    free(o.text);
    /* an object with one relation twice: the second is mapped on its own, the SCO stays valid */
    const char *dup = "{\"Event\":{\"uuid\":\"33333333-3333-4333-8333-333333333333\",\"timestamp\":\"1\","
                      "\"Object\":[{\"name\":\"file\",\"uuid\":\"44444444-4444-4444-8444-444444444444\","
                      "\"Attribute\":[{\"uuid\":\"55555555-5555-4555-8555-555555555551\",\"type\":\"sha1\","
                      "\"object_relation\":\"sha1\",\"value\":\"da39a3ee5e6b4b0d3255bfef95601890afd80709\"},"
                      "{\"uuid\":\"55555555-5555-4555-8555-555555555552\",\"type\":\"sha1\","
                      "\"object_relation\":\"sha1\",\"value\":\"86f7e437faa5a7fce15d1ddcb9eaeaea377667b8\"}]}]}}";
    CHECK(map(dup, strlen(dup), &o, &st) == 0 && o.invalid == 0 && st.observed == 2);
    CHECK(find(&o, "observed-data--44444444-4444-4444-8444-444444444444") != NULL);
    CHECK(find(&o, "observed-data--55555555-5555-4555-8555-555555555552") != NULL);
    free(o.text);
    /* sightings listed at the event level name their attribute by attribute_uuid */
    const char *evs = "{\"Event\":{\"uuid\":\"33333333-3333-4333-8333-333333333333\",\"timestamp\":\"1\","
                      "\"Attribute\":[{\"uuid\":\"66666666-6666-4666-8666-666666666666\",\"type\":\"domain\","
                      "\"value\":\"s.example\",\"to_ids\":true}],\"Sighting\":[{\"date_sighting\":\"1600000000\","
                      "\"type\":\"0\",\"attribute_uuid\":\"66666666-6666-4666-8666-666666666666\","
                      "\"uuid\":\"77777777-7777-4777-8777-777777777777\"},{\"date_sighting\":\"1600000000\","
                      "\"attribute_uuid\":\"88888888-8888-4888-8888-888888888888\"}]}}";
    CHECK(map(evs, strlen(evs), &o, &st) == ACCORD_ESTIX && st.sightings == 1 && st.bad == 1);
    const char *sl = find(&o, "sighting--77777777-7777-4777-8777-777777777777");
    CHECK(sl && strstr(sl, "\"sighting_of_ref\":\"indicator--66666666-6666-4666-8666-666666666666\""));
    CHECK(errors && strstr(errors, "Sighting[1]: attribute_uuid names no attribute"));
    free(o.text);
    /* timestamps past year 9999: treated as absent (the attribute takes the event's), never overflow */
    const char *far = "{\"Event\":{\"uuid\":\"33333333-3333-4333-8333-333333333333\","
                      "\"timestamp\":\"1700000000\",\"publish_timestamp\":\"111111117000000000\","
                      "\"Attribute\":[{\"uuid\":\"66666666-6666-4666-8666-666666666666\",\"type\":"
                      "\"domain\",\"value\":\"far.example\",\"to_ids\":true,"
                      "\"timestamp\":\"11111111700000000\"}]}}";
    CHECK(map(far, strlen(far), &o, &st) == 0 && st.indicators == 1 && o.invalid == 0);
    sl = find(&o, "indicator--66666666-6666-4666-8666-666666666666");
    CHECK(sl && strstr(sl, "\"modified\":\"2023-11-14T22:13:20.000000Z\""));
    sl = find(&o, "report--33333333-3333-4333-8333-333333333333");
    CHECK(sl && strstr(sl, "\"published\":\"2023-11-14T22:13:20.000000Z\""));
    free(o.text);
    /* not an event */
    const char *none = "{\"Galaxy\":[]}";
    CHECK(map(none, strlen(none), &o, &st) == ACCORD_EJSON);
    free(o.text);
    /* malformed: named by line and column */
    const char *bad = "{\"Event\":{\n\"uuid\":\"11111111-1111-4111-8111-111111111111\",\n\"Attribute\":"
                      "[{\"type\":\"md5\"},]}}";
    memset(&o, 0, sizeof(o));
    accord_error err;
    accord_misp_options opts = {0};
    opts.source = "bad.json";
    CHECK(accord_misp_map_mem(bad, strlen(bad), &opts, collect, &o, &st, &err) == ACCORD_EJSON);
    CHECK(strstr(err.msg, "bad.json:3:") != NULL);
    free(o.text);
}

typedef struct got {
    int found, revoked;
    char modified[64];
} got;

static int on_rec(void *ud, const accord_record *r)
{
    got *g = ud;
    g->found++;
    g->revoked = r->revoked;
    snprintf(g->modified, sizeof(g->modified), "%s", r->modified);
    return 0;
}

static got get(accord_store *s, const char *id, unsigned flags)
{
    got g = {0};
    accord_store_get(s, id, flags, on_rec, &g, NULL);
    return g;
}

static void test_store(const char *dir, const char *v1, size_t l1, const char *v2, size_t l2)
{
    accord_store *s = NULL;
    accord_error err;
    CHECK(accord_store_open(dir, 0, &s, &err) == 0);
    if (!s)
        return;
    accord_misp_options opts = {0};
    opts.source = "event.json";
    accord_misp_stats st;
    CHECK(accord_misp_import_mem(s, v1, l1, &opts, &st, &err) == ACCORD_ESTIX);
    uint64_t n = st.store.read;
    CHECK(n > 40 && st.store.accepted == n && st.store.rejected == 0 && st.bad == 1);
    /* a re-import writes nothing */
    CHECK(accord_misp_import_mem(s, v1, l1, &opts, &st, &err) == ACCORD_ESTIX);
    CHECK(st.store.duplicates == n && st.store.accepted == 0 && st.store.versions == 0);
    /* the update: new versions of the report and the edited attribute, the dropped one revoked */
    CHECK(accord_misp_import_mem(s, v2, l2, &opts, &st, &err) == ACCORD_ESTIX);
    CHECK(st.store.rejected == 0 && st.store.conflicts == 0);
    got g = get(s, "report--" EV, ACCORD_GET_ALL_VERSIONS);
    CHECK(g.found == 2 && strcmp(g.modified, "2023-11-15T12:06:40.000000Z") == 0);
    g = get(s, "indicator--5f6e2a1c-0000-4000-8000-000000000002", ACCORD_GET_ALL_VERSIONS);
    CHECK(g.found == 2 && !g.revoked);
    g = get(s, "indicator--5f6e2a1c-0000-4000-8000-000000000001", ACCORD_GET_ALL_VERSIONS);
    CHECK(g.found == 1);
    g = get(s, "indicator--5f6e2a1c-0000-4000-8000-000000000004", 0);
    CHECK(g.found == 1 && g.revoked && strcmp(g.modified, "2023-11-15T12:06:40.000000Z") == 0);
    CHECK(st.revoked >= 2); /* the deleted one and the dropped one */
    /* the creator and the clusters, unchanged, are not written again with the newer timestamp */
    g = get(s, "identity--5f6e2a1c-0b7d-4c3e-9a8b-1c2d3e4f5a6b", ACCORD_GET_ALL_VERSIONS);
    CHECK(g.found == 1);
    got first = get(s, "malware--5f6e2a1c-7777-4000-8000-000000000007", ACCORD_GET_ALL_VERSIONS);
    CHECK(first.found == 1);
    CHECK(get(s, "attack-pattern--5f6e2a1c-8888-4000-8000-000000000008", ACCORD_GET_ALL_VERSIONS)
              .found == 1);
    /* the update again: nothing new */
    CHECK(accord_misp_import_mem(s, v2, l2, &opts, &st, &err) == ACCORD_ESTIX);
    CHECK(st.store.accepted == 0 && st.store.versions == 0 && st.store.conflicts == 0);
    /* a cluster whose content changed is a new version (a later event edits its description) */
    char *v3 = strdup(v2);
    char *p = v3 ? strstr(v3, "A RAT.") : NULL, *ts = v3 ? strstr(v3, "1700050000") : NULL;
    CHECK(p && ts);
    if (p && ts) {
        memcpy(p, "A BAT.", 6);
        memcpy(ts, "1700090000", 10); /* the event's timestamp, its first one */
        CHECK(accord_misp_import_mem(s, v3, l2, &opts, &st, &err) == ACCORD_ESTIX);
        CHECK(st.store.conflicts == 0);
        g = get(s, "malware--5f6e2a1c-7777-4000-8000-000000000007", ACCORD_GET_ALL_VERSIONS);
        CHECK(g.found == 2 && strcmp(g.modified, first.modified) > 0);
        CHECK(get(s, "identity--5f6e2a1c-0b7d-4c3e-9a8b-1c2d3e4f5a6b", ACCORD_GET_ALL_VERSIONS)
                  .found == 1);
    }
    free(v3);
    accord_store_close(s);
}

/* Events told through on_event, "uuid:failed" lines. */
static char events_told[1024];
static void on_event(void *ud, const char *uuid, const char *info, int failed)
{
    (void)ud;
    (void)info;
    size_t n = strlen(events_told);
    snprintf(events_told + n, sizeof(events_told) - n, "%s:%d\n", uuid, failed);
}

/* A copy of text with every `from` replaced by `to` (same length). */
static char *replaced(const char *text, const char *from, const char *to)
{
    char *c = strdup(text);
    for (char *p = c; c && (p = strstr(p, from)); p += strlen(to))
        memcpy(p, to, strlen(to));
    return c;
}

/*
 * Several events in one input share a transaction; one whose attribute list holds broken JSON
 * (found only when it is mapped, after the events before it went into the transaction) is
 * reported once and skipped, and the others are all stored, each message and each on_event
 * once, in order; an update of an event in the same input still revokes what it dropped.
 */
static void test_batch(const char *dir, const char *v1, const char *v2)
{
    accord_store *s = NULL;
    accord_error err;
    CHECK(accord_store_open(dir, 0, &s, &err) == 0);
    if (!s)
        return;
    char *bad = replaced(v1, EV, "5f6e2a1c-eeee-4000-8000-0000000000b1");
    char *e3 = replaced(v1, EV, "5f6e2a1c-eeee-4000-8000-0000000000e3");
    char *p = bad ? strstr(bad, "\"198.51.100.7\"") : NULL;
    CHECK(p && e3);
    if (!p || !e3) {
        free(bad);
        free(e3);
        accord_store_close(s);
        return;
    }
    memcpy(p, "tru           ", 14); /* not JSON, but the document's skeleton still reads */
    size_t n = strlen(v1) * 3 + strlen(v2) + 16;
    char *doc = malloc(n);
    snprintf(doc, n, "[%s,%s,%s,%s]", v1, bad, e3, v2);
    free(errors);
    errors = NULL;
    events_told[0] = 0;
    accord_misp_options opts = {0};
    opts.source = "events.json";
    opts.on_error = on_error;
    opts.on_event = on_event;
    accord_misp_stats st;
    CHECK(accord_misp_import_mem(s, doc, strlen(doc), &opts, &st, &err) == ACCORD_ESTIX);
    /* the broken one is reported as a broken element of the input, not as an event */
    CHECK(strcmp(events_told, EV ":0\n5f6e2a1c-eeee-4000-8000-0000000000e3:0\n" EV ":0\n") == 0);
    out o = {.text = errors};
    CHECK(count(&o, "invalid JSON") == 1 && count(&o, "999.1.1.1") == 3);
    CHECK(st.events == 3 && st.events_failed == 1 && st.store.committed == st.store.read);
    CHECK(st.store.rejected == 0 && st.store.conflicts == 0);
    CHECK(get(s, "report--" EV, ACCORD_GET_ALL_VERSIONS).found == 2);
    CHECK(get(s, "report--5f6e2a1c-eeee-4000-8000-0000000000e3", 0).found == 1);
    CHECK(get(s, "report--5f6e2a1c-eeee-4000-8000-0000000000b1", 0).found == 0);
    got g = get(s, "indicator--5f6e2a1c-0000-4000-8000-000000000004", 0);
    CHECK(g.found == 1 && g.revoked);
    CHECK(get(s, "identity--5f6e2a1c-0b7d-4c3e-9a8b-1c2d3e4f5a6b", ACCORD_GET_ALL_VERSIONS)
              .found == 1);
    free(doc);
    free(bad);
    free(e3);
    accord_store_close(s);
}

/*
 * An event imported cleanly before is not mapped again when its text comes again: it counts as
 * its first import did, its objects as duplicates, and `unchanged` says so.  A text that differs
 * in any byte is mapped again (all duplicates still), and an event with a bad attribute is never
 * taken for unchanged: its problem is reported each time.
 */
static void test_unchanged(const char *dir, const char *v1)
{
    accord_store *s = NULL;
    accord_error err;
    CHECK(accord_store_open(dir, 0, &s, &err) == 0);
    if (!s)
        return;
    char *clean = replaced(v1, "999.1.1.1", "192.0.2.1");
    char *other = clean ? replaced(clean, EV, "5f6e2a1c-eeee-4000-8000-0000000000e3") : NULL;
    char *edited = clean ? replaced(clean, "\"id\": \"42\"", "\"id\": \"43\"") : NULL;
    size_t n = clean && other ? strlen(clean) + strlen(other) + 8 : 0;
    char *doc = n ? malloc(n) : NULL;
    CHECK(doc && edited);
    if (!doc || !edited)
        goto out;
    snprintf(doc, n, "[%s,%s]", clean, other);
    accord_misp_options opts = {0};
    opts.on_error = on_error;
    opts.on_event = on_event;
    accord_misp_stats first, st;
    CHECK(accord_misp_import_mem(s, doc, strlen(doc), &opts, &first, &err) == 0);
    CHECK(first.events == 2 && first.unchanged == 0 && first.store.accepted > 40 &&
          first.store.read > 80 && first.store.rejected == 0);
    events_told[0] = 0;
    CHECK(accord_misp_import_mem(s, doc, strlen(doc), &opts, &st, &err) == 0);
    CHECK(st.events == 2 && st.unchanged == 2 && st.events_failed == 0);
    CHECK(st.attributes == first.attributes && st.indicators == first.indicators &&
          st.observed == first.observed && st.clusters == first.clusters &&
          st.nunmapped == first.nunmapped && st.terms == first.terms);
    CHECK(st.store.read == first.store.read && st.store.duplicates == st.store.read &&
          st.store.accepted == 0 && st.store.versions == 0 && st.store.committed == st.store.read);
    CHECK(strcmp(events_told, EV ":0\n5f6e2a1c-eeee-4000-8000-0000000000e3:0\n") == 0);
    /* one byte of the text changed: mapped again, nothing new */
    size_t el = strlen(edited);
    CHECK(accord_misp_import_mem(s, edited, el, &opts, &st, &err) == 0);
    CHECK(st.unchanged == 0 && st.events == 1 && st.store.accepted == 0 &&
          st.store.versions == 0 && st.store.duplicates == st.store.read && st.store.read > 40);
    CHECK(accord_misp_import_mem(s, edited, el, &opts, &st, &err) == 0 && st.unchanged == 1);
    /* an event with a bad attribute: reported again on every import */
    for (int i = 0; i < 2; i++) {
        free(errors);
        errors = NULL;
        CHECK(accord_misp_import_mem(s, v1, strlen(v1), &opts, &st, &err) == ACCORD_ESTIX);
        out o = {.text = errors};
        CHECK(st.unchanged == 0 && st.bad == 1 && count(&o, "999.1.1.1") == 1);
    }
out:
    free(doc);
    free(clean);
    free(other);
    free(edited);
    accord_store_close(s);
}

static void test_strict(const char *dir, const char *v1, size_t l1)
{
    accord_store *s = NULL;
    accord_error err;
    CHECK(accord_store_open(dir, 0, &s, &err) == 0);
    if (!s)
        return;
    accord_misp_options opts = {0};
    opts.flags = ACCORD_IMPORT_STRICT;
    accord_misp_stats st;
    CHECK(accord_misp_import_mem(s, v1, l1, &opts, &st, &err) == ACCORD_ESTRICT);
    accord_store_stats ss;
    CHECK(accord_store_stats_light(s, &ss, &err) == 0 && ss.versions == 0);
    /* without the bad attribute the same strict import stores everything */
    char *fixed = strdup(v1);
    char *p = strstr(fixed, "999.1.1.1");
    if (p)
        memcpy(p, "192.0.2.1", 9);
    CHECK(accord_misp_import_mem(s, fixed, l1, &opts, &st, &err) == 0);
    CHECK(st.store.accepted > 40 && st.store.rejected == 0);
    free(fixed);
    accord_store_close(s);
}

int main(void)
{
    size_t l1 = 0, l2 = 0;
    char *v1 = t_slurp(ACCORD_SOURCE_DIR "/tests/data/misp/event.json", &l1);
    char *v2 = t_slurp(ACCORD_SOURCE_DIR "/tests/data/misp/event-v2.json", &l2);
    CHECK(v1 && v2);
    if (!v1 || !v2)
        return t_done();
    test_mapping(v1, l1);
    test_shapes();
    test_lists_as_text(v1, l1);
    test_proposals();
    test_galaxy_kinds();
    test_emit_fails();
    /* every object mapped above was also read as the import reads it, without validation */
    CHECK(info_compared > 100 && info_differs == 0);
    char tmpdir[] = "/tmp/accord-misp-XXXXXX";
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    char d1[300], d2[300], d3[300], d4[300], cmd[400];
    snprintf(d1, sizeof(d1), "%s/a", tmpdir);
    snprintf(d2, sizeof(d2), "%s/b", tmpdir);
    snprintf(d3, sizeof(d3), "%s/c", tmpdir);
    snprintf(d4, sizeof(d4), "%s/d", tmpdir);
    test_store(d1, v1, l1, v2, l2);
    test_strict(d2, v1, l1);
    test_batch(d3, v1, v2);
    test_unchanged(d4, v1);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", tmpdir);
    free(v1);
    free(v2);
    free(errors);
    return t_done();
}
