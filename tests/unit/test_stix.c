/*
 * test_stix.c - the STIX validator against cases written as data and against public STIX content.
 *
 * tests/data/stix/valid.jsonl holds valid objects of every type (one per line, each after a
 * comment line saying what it shows); tests/data/stix/invalid.tsv holds invalid ones, each with
 * the exact rule and property the validator must report.  When ../shared/data is present, the
 * official examples, the validator test suite's examples, and every object of the ATT&CK and
 * Attack Flow bundles are validated too.
 */
#include "t.h"

#include "accord.h"
#include "stix.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static ajson_arena arena;

static const ajson_value *parse(const char *text, size_t len)
{
    ajson_error err;
    ajson_arena_reset(&arena);
    return ajson_parse(&arena, text, len, &err);
}

/* Every message is one printable line that names the rule. */
static void check_message(const stix_problem *p)
{
    int printable = 1;
    for (const unsigned char *s = (const unsigned char *)p->message; *s; s++)
        if (*s < 0x20 || *s == 0x7f)
            printable = 0;
    CHECK(printable);
    CHECK(strstr(p->message, p->rule) != NULL);
    CHECK(strlen(p->message) < sizeof p->message - 1 || strstr(p->message, "(rule ") != NULL);
}

/* ------------------------------------------------------------------------------------------ */
/* Cases as data                                                                              */

static void test_valid_cases(void)
{
    size_t len, n = 0;
    char *text = t_slurp(ACCORD_SOURCE_DIR "/tests/data/stix/valid.jsonl", &len);
    char *line, *cursor = text, *what = "";
    CHECK(text != NULL);
    while ((line = t_next_line(&cursor)) != NULL) {
        stix_info info;
        stix_problem prob;
        const ajson_value *obj;
        if (line[0] == '#') {
            what = line + 1;
            continue;
        }
        obj = parse(line, strlen(line));
        CHECK(obj != NULL);
        if (!obj)
            continue;
        n++;
        if (stix_validate(obj, NULL, &info, &prob) != 0) {
            t_failed++;
            fprintf(stderr, "valid case rejected:%s: %s [%s]\n", what, prob.message, prob.property);
            continue;
        }
        t_passed++;
        CHECK(info.id != NULL && info.type != NULL && info.spec_version != NULL);
        CHECK(info.kind == stix_type_kind(info.type));
    }
    CHECK(n >= 60);
    free(text);
}

/* One line of invalid.tsv: rule, property, description, object. */
static void run_invalid_line(char *line)
{
    char *f[4];
    stix_info info;
    stix_problem prob;
    const ajson_value *obj;
    for (int i = 0; i < 4; i++) {
        f[i] = line;
        line = i < 3 ? strchr(line, '\t') : NULL;
        if (i < 3 && !line) {
            CHECK(!"malformed line in invalid.tsv");
            return;
        }
        if (line)
            *line++ = '\0';
    }
    obj = parse(f[3], strlen(f[3]));
    CHECK(obj != NULL);
    if (!obj)
        return;
    if (stix_validate(obj, NULL, &info, &prob) == 0) {
        t_failed++;
        fprintf(stderr, "invalid case accepted: %s\n", f[2]);
        return;
    }
    if (strcmp(prob.rule, f[0]) != 0 || strcmp(prob.property, f[1]) != 0) {
        t_failed++;
        fprintf(stderr, "%s: got rule %s at \"%s\", want %s at \"%s\"\n  %s\n", f[2], prob.rule,
                prob.property, f[0], f[1], prob.message);
        return;
    }
    t_passed++;
    check_message(&prob);
    /* The caller prefixes the id: the message never repeats it. */
    CHECK(!info.id || strstr(prob.message, info.id) == NULL);
}

static void test_invalid_cases(void)
{
    size_t len, n = 0;
    char *text = t_slurp(ACCORD_SOURCE_DIR "/tests/data/stix/invalid.tsv", &len);
    char *line, *cursor = text;
    CHECK(text != NULL);
    while ((line = t_next_line(&cursor)) != NULL) {
        if (line[0] == '#')
            continue;
        run_invalid_line(line);
        n++;
    }
    CHECK(n >= 200);
    free(text);
}

/* ------------------------------------------------------------------------------------------ */
/* Details the tables cannot express                                                          */

static int validate_text(const char *text, const char *bundle_spec, stix_info *info,
                         stix_problem *prob)
{
    const ajson_value *obj = parse(text, strlen(text));
    if (!obj)
        return ACCORD_EJSON;
    return stix_validate(obj, bundle_spec, info, prob);
}

static void test_info(void)
{
    stix_info info;
    stix_problem prob;

    CHECK(validate_text(
              "{\"type\":\"tool\",\"spec_version\":\"2.1\",\"id\":\"tool--8e2e2d2b-17d4-"
              "4cbf-938f-98ee46b3cd3f\",\"created\":\"2016-04-06T20:03:48.000Z\","
              "\"modified\":\"2016-05-06T20:03:48.000Z\",\"name\":\"VNC\",\"revoked\":true}",
              NULL, &info, &prob) == 0);
    CHECK_STR(info.id, "tool--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f");
    CHECK_STR(info.type, "tool");
    CHECK_STR(info.created, "2016-04-06T20:03:48.000Z");
    CHECK_STR(info.modified, "2016-05-06T20:03:48.000Z");
    CHECK_STR(info.spec_version, "2.1");
    CHECK(info.revoked == 1);
    CHECK(info.kind == STIX_KIND_SDO);

    /* SCOs: no created, no modified; spec_version defaults to 2.1. */
    CHECK(validate_text("{\"type\":\"url\",\"id\":\"url--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\","
                        "\"value\":\"http://x\"}",
                        "2.0", &info, &prob) == 0);
    CHECK(info.created == NULL && info.modified == NULL);
    CHECK_STR(info.spec_version, "2.1");
    CHECK(info.kind == STIX_KIND_SCO && info.revoked == 0);

    /* marking-definition: created, no modified. */
    CHECK(validate_text("{\"type\":\"marking-definition\",\"spec_version\":\"2.1\",\"id\":"
                        "\"marking-definition--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\",\"created\":"
                        "\"2016-04-06T20:03:48.000Z\",\"definition_type\":\"statement\","
                        "\"definition\":{\"statement\":\"c\"}}",
                        NULL, &info, &prob) == 0);
    CHECK(info.created != NULL && info.modified == NULL);
    CHECK(info.kind == STIX_KIND_META);

    /* An SDO without spec_version is STIX 2.0: no millisecond rule, spec_version "2.0". */
    CHECK(validate_text("{\"type\":\"campaign\",\"id\":\"campaign--8e2e2d2b-17d4-4cbf-938f-"
                        "98ee46b3cd3f\",\"created\":\"2016-04-06T20:03:48Z\",\"modified\":"
                        "\"2016-04-06T20:03:48Z\",\"name\":\"c\"}",
                        NULL, &info, &prob) == 0);
    CHECK_STR(info.spec_version, "2.0");

    /* In a STIX 2.0 bundle a type that 2.1 introduced can only be a custom object. */
    static const char note20[] = "{\"type\":\"note\",\"id\":\"note--8e2e2d2b-17d4-4cbf-938f-"
                                 "98ee46b3cd3f\",\"created\":\"2016-04-06T20:03:48Z\",\"modified\":"
                                 "\"2016-04-06T20:03:48Z\"}";
    CHECK(validate_text(note20, "2.0", &info, &prob) == 0);
    CHECK(info.kind == STIX_KIND_CUSTOM);
    CHECK(validate_text(note20, NULL, &info, &prob) == ACCORD_ESTIX);
    CHECK_STR(prob.rule, "required-property");
    CHECK_STR(prob.property, "spec_version");

    /* Custom objects. */
    CHECK(validate_text("{\"type\":\"x-acme\",\"spec_version\":\"2.1\",\"id\":\"x-acme--8e2e2d2b-"
                        "17d4-4cbf-938f-98ee46b3cd3f\",\"created\":\"2016-04-06T20:03:48.000Z\","
                        "\"modified\":\"2016-04-06T20:03:48.000Z\"}",
                        NULL, &info, &prob) == 0);
    CHECK(info.kind == STIX_KIND_CUSTOM && info.created != NULL);

    /* On failure, id and type are filled when they were usable. */
    CHECK(validate_text("{\"type\":\"tool\",\"spec_version\":\"2.1\",\"id\":\"tool--8e2e2d2b-17d4-"
                        "4cbf-938f-98ee46b3cd3f\",\"created\":\"2016-04-06T20:03:48.000Z\"}",
                        NULL, &info, &prob) == ACCORD_ESTIX);
    CHECK_STR(info.id, "tool--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f");
    CHECK_STR(info.type, "tool");
    CHECK_STR(prob.message, "property \"modified\": is missing (rule required-property)");
}

static void test_kinds(void)
{
    static const char *const sdos[] = {
        "attack-pattern", "campaign",      "course-of-action", "grouping",
        "identity",       "incident",      "indicator",        "infrastructure",
        "intrusion-set",  "location",      "malware",          "malware-analysis",
        "note",           "observed-data", "opinion",          "report",
        "threat-actor",   "tool",          "vulnerability"};
    static const char *const scos[] = {"artifact",
                                       "autonomous-system",
                                       "directory",
                                       "domain-name",
                                       "email-addr",
                                       "email-message",
                                       "file",
                                       "ipv4-addr",
                                       "ipv6-addr",
                                       "mac-addr",
                                       "mutex",
                                       "network-traffic",
                                       "process",
                                       "software",
                                       "url",
                                       "user-account",
                                       "windows-registry-key",
                                       "x509-certificate"};
    for (size_t i = 0; i < sizeof sdos / sizeof sdos[0]; i++)
        CHECK(stix_type_kind(sdos[i]) == STIX_KIND_SDO);
    for (size_t i = 0; i < sizeof scos / sizeof scos[0]; i++)
        CHECK(stix_type_kind(scos[i]) == STIX_KIND_SCO);
    CHECK(stix_type_kind("relationship") == STIX_KIND_SRO);
    CHECK(stix_type_kind("sighting") == STIX_KIND_SRO);
    CHECK(stix_type_kind("language-content") == STIX_KIND_META);
    CHECK(stix_type_kind("marking-definition") == STIX_KIND_META);
    CHECK(stix_type_kind("extension-definition") == STIX_KIND_META);
    CHECK(stix_type_kind("x-mitre-tactic") == STIX_KIND_CUSTOM);
    CHECK(stix_type_kind("") == STIX_KIND_CUSTOM);
    CHECK(stix_type_kind(NULL) == STIX_KIND_CUSTOM);
}

/* Messages stay one printable, bounded line whatever the input. */
static void test_message_safety(void)
{
    char text[4096];
    stix_info info;
    stix_problem prob;
    char big[1200];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';

    /* A long value with control characters and multi-byte characters, in a long path. */
    snprintf(text, sizeof text,
             "{\"type\":\"tool\",\"spec_version\":\"2.1\",\"id\":\"tool--8e2e2d2b-17d4-4cbf-938f-"
             "98ee46b3cd3f\",\"created\":\"2016-04-06T20:03:48.000Z\",\"modified\":\"2016-04-06T"
             "20:03:48.000Z\",\"name\":\"x\",\"confidence\":\"\\u0001\\u001b[31m\\n\\u00e9\\u20ac"
             "%s\"}",
             big);
    CHECK(validate_text(text, NULL, &info, &prob) == ACCORD_ESTIX);
    CHECK_STR(prob.rule, "property-type");
    check_message(&prob);
    CHECK(strstr(prob.message, "\\x01") != NULL);
    CHECK(strstr(prob.message, "...") != NULL);

    /* A custom property whose name is long and holds escapes. */
    snprintf(text, sizeof text,
             "{\"type\":\"tool\",\"spec_version\":\"2.1\",\"id\":\"tool--8e2e2d2b-17d4-4cbf-938f-"
             "98ee46b3cd3f\",\"created\":\"2016-04-06T20:03:48.000Z\",\"modified\":\"2016-04-06T"
             "20:03:48.000Z\",\"name\":\"x\",\"a\\tb%.300s\":1}",
             big);
    CHECK(validate_text(text, NULL, &info, &prob) == ACCORD_ESTIX);
    CHECK_STR(prob.rule, "custom-property-name");
    check_message(&prob);
    for (const char *s = prob.property; *s; s++)
        CHECK((unsigned char)*s >= 0x20);

    /* A type of 251 characters, a number in place of a string. */
    snprintf(text, sizeof text, "{\"type\":\"%.251s\"}", big);
    CHECK(validate_text(text, NULL, &info, &prob) == ACCORD_ESTIX);
    CHECK_STR(prob.rule, "type-name");
    CHECK(validate_text("{\"type\":\"tool\",\"id\":12345678901234567890123}", NULL, &info, &prob) ==
          ACCORD_ESTIX);
    CHECK_STR(prob.rule, "property-type");
    CHECK_STR(prob.message, "property \"id\": 12345678901234567890123 is not a string (rule "
                            "property-type)");
    check_message(&prob);

    /* A reference inside observed-data to an observable whose type is not yet checked. */
    CHECK(validate_text(
              "{\"type\":\"observed-data\",\"id\":\"observed-data--8e2e2d2b-17d4-4cbf-"
              "938f-98ee46b3cd3f\",\"created\":\"2016-04-06T20:03:48Z\",\"modified\":"
              "\"2016-04-06T20:03:48Z\",\"first_observed\":\"2016-04-06T20:03:48Z\","
              "\"last_observed\":\"2016-04-06T20:03:48Z\",\"number_observed\":1,"
              "\"objects\":{\"0\":{\"type\":\"file\",\"name\":\"a\",\"parent_directory_ref\":"
              "\"1\"},\"1\":{\"type\":\"\\u001b[2J\"}}}",
              NULL, &info, &prob) == ACCORD_ESTIX);
    CHECK_STR(prob.rule, "ref-type");
    CHECK_STR(prob.property, "objects.0.parent_directory_ref");
    check_message(&prob);

    /* A time-order message names both values. */
    CHECK(validate_text("{\"type\":\"tool\",\"spec_version\":\"2.1\",\"id\":\"tool--8e2e2d2b-17d4-"
                        "4cbf-938f-98ee46b3cd3f\",\"created\":\"2017-01-01T00:00:00.000Z\","
                        "\"modified\":\"2016-01-01T00:00:00.000Z\",\"name\":\"x\"}",
                        NULL, &info, &prob) == ACCORD_ESTIX);
    CHECK_STR(prob.message, "property \"modified\": \"2016-01-01T00:00:00.000Z\" is before created "
                            "\"2017-01-01T00:00:00.000Z\" (rule modified-before-created)");
}

/* ------------------------------------------------------------------------------------------ */
/* Public STIX content under ../shared/data                                                   */

typedef struct tally {
    int objects, rejected;
    stix_problem first; /* the first rejection */
    const char *first_id;
} tally;

/* Validates obj, or each object of it when it is a bundle. */
static void validate_doc(const ajson_value *doc, tally *t)
{
    const ajson_value *objs = ajson_get(doc, "objects");
    const char *type = ajson_str(ajson_get(doc, "type"));
    const char *spec = ajson_str(ajson_get(doc, "spec_version"));
    size_t n = 1;
    /* A bundle; stix-common-objects has some without their "type". */
    if ((type && strcmp(type, "bundle") == 0) || (!type && objs && objs->type == AJSON_ARRAY))
        n = objs && objs->type == AJSON_ARRAY ? objs->len : 0;
    else if (doc->type == AJSON_ARRAY) /* a plain list of objects */
        objs = doc, n = doc->len;
    else
        objs = NULL;
    for (size_t i = 0; i < n; i++) {
        stix_info info;
        stix_problem prob;
        const ajson_value *o = objs ? &objs->u.items[i] : doc;
        t->objects++;
        if (stix_validate(o, objs == doc ? NULL : spec, &info, &prob) == 0)
            continue;
        if (t->rejected++ == 0) {
            t->first = prob;
            t->first_id = info.id;
        }
        check_message(&prob);
    }
}

static int ends_with_json(const char *name)
{
    size_t n = strlen(name);
    return n > 5 && strcmp(name + n - 5, ".json") == 0;
}

/* Validates file `path`: -1 when it is not JSON, else the number of rejected objects. */
static int validate_file(const char *path, tally *t)
{
    size_t len;
    char *text = t_slurp(path, &len);
    const ajson_value *doc;
    int before = t->rejected;
    CHECK(text != NULL);
    if (!text)
        return -1;
    doc = parse(text, len);
    if (doc)
        validate_doc(doc, t);
    free(text);
    return doc ? t->rejected - before : -1;
}

/*
 * The official examples: files named invalid_* must be rejected (or not be JSON), the others
 * accepted.  `expect` names the rule and property expected of some invalid files.
 */
static void check_examples_dir(const char *dir, int *nfiles)
{
    static const struct {
        const char *file, *rule, *property;
    } expect[] = {
        {"invalid_identity.json", "required-property", "modified"},
        {"invalid_timestamp.json", "modified-before-created", "modified"},
    };
    DIR *d = opendir(dir);
    struct dirent *e;
    CHECK(d != NULL);
    while (d && (e = readdir(d)) != NULL) {
        char path[1024];
        struct stat st;
        tally t = {0};
        int bad = strncmp(e->d_name, "invalid_", 8) == 0, r;
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            check_examples_dir(path, nfiles);
            continue;
        }
        if (!ends_with_json(e->d_name))
            continue;
        (*nfiles)++;
        r = validate_file(path, &t);
        if (bad ? r == 0 : r != 0) {
            t_failed++;
            fprintf(stderr, "%s: %s\n", path,
                    bad     ? "invalid example accepted"
                    : r < 0 ? "not JSON"
                            : t.first.message);
            continue;
        }
        t_passed++;
        for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++) {
            if (strcmp(e->d_name, expect[i].file) != 0)
                continue;
            CHECK_STR(t.first.rule, expect[i].rule);
            CHECK_STR(t.first.property, expect[i].property);
        }
    }
    if (d)
        closedir(d);
}

/* Every object of every bundle in dir must be valid; returns the number of objects. */
static int check_bundles_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int objects = 0;
    CHECK(d != NULL);
    while (d && (e = readdir(d)) != NULL) {
        char path[1024];
        tally t = {0};
        if (!ends_with_json(e->d_name))
            continue;
        /* The Attack Flow JSON Schema lives next to its bundles; it is not STIX. */
        if (strstr(e->d_name, "-schema-") != NULL)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        CHECK(validate_file(path, &t) == 0);
        if (t.rejected)
            fprintf(stderr, "%s: %d of %d objects rejected, first %s: %s\n", path, t.rejected,
                    t.objects, t.first_id ? t.first_id : "(no id)", t.first.message);
        objects += t.objects;
    }
    if (d)
        closedir(d);
    return objects;
}

/* The TLP 2.0 objects and statements of stix-common-objects; one example there is broken. */
static void check_common_objects(const char *data)
{
    char path[1024];
    tally t = {0};
    int n = 0;
    snprintf(path, sizeof path, "%s/stix-common-objects/objects/marking-definition", data);
    n += check_bundles_dir(path);
    snprintf(path, sizeof path,
             "%s/stix-common-objects/extension-definition-specifications/tlp-2.0/examples/"
             "tlp-clear.json",
             data);
    CHECK(validate_file(path, &t) == 0);
    /*
     * using-tlp2.0-green.json is genuinely invalid: its relationship's created is
     * "2022-101-27T13:49:54.326Z" (a three-digit month).
     */
    snprintf(path, sizeof path,
             "%s/stix-common-objects/extension-definition-specifications/tlp-2.0/examples/"
             "using-tlp2.0-green.json",
             data);
    CHECK(validate_file(path, &t) == 1);
    CHECK_STR(t.first.rule, "timestamp-format");
    CHECK_STR(t.first.property, "created");
    CHECK(n >= 5);
}

static void test_shared_data(void)
{
    const char *data = t_shared_data();
    char path[1024];
    int nfiles = 0, objects = 0;
    if (!data) {
        printf("skipped: ../shared/data not present\n");
        return;
    }
    snprintf(path, sizeof path, "%s/stix2-json-schemas/examples", data);
    check_examples_dir(path, &nfiles);
    snprintf(path, sizeof path, "%s/stix-validator/test/v21/test_examples", data);
    check_examples_dir(path, &nfiles);
    CHECK(nfiles >= 18);

    static const char *const bundle_dirs[] = {"attack-stix-data/ics-attack",
                                              "attack-stix-data/mobile-attack", "attack-flow",
                                              "attack-flow/corpus"};
    for (size_t i = 0; i < sizeof bundle_dirs / sizeof bundle_dirs[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", data, bundle_dirs[i]);
        objects += check_bundles_dir(path);
    }
    CHECK(objects > 5000);
    check_common_objects(data);
    printf("shared data: %d example files, %d bundle objects\n", nfiles, objects);
}

int main(void)
{
    ajson_arena_init(&arena, 0);
    test_kinds();
    test_valid_cases();
    test_invalid_cases();
    test_info();
    test_message_safety();
    test_shared_data();
    ajson_arena_free(&arena);
    return t_done();
}
