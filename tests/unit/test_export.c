/*
 * test_export.c - defender exports: every format against golden files written from the fixture
 * indicators in tests/data/export/indicators.json (with unexportable patterns, expired, not yet
 * valid, revoked and allow-listed ones), the filters, the property that an expired or revoked
 * indicator disappears from every format, SID stability, nft merging, and allow-lists with the
 * MISP warninglists of ../shared/data (skipped when absent).
 *
 * Golden files: tests/data/export/golden/<format> (single-file formats) or <format>/<file>.  The
 * RPZ and nft serial depends on when the fixture was imported, so it reads "SERIAL" there.
 * ACCORD_UPDATE_GOLDEN=1 rewrites them (review the diff).
 */
#include "accord.h"
#include "export.h"
#include "values.h"
#include "t.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "t_import.h"

#define DATA ACCORD_SOURCE_DIR "/tests/data/export"
#define AT "2025-06-01T00:00:00Z"

static char tmpdir[256];
static int store_no;

static const char *const formats[] = {
    "zeek-intel", "suricata-dataset", "suricata-rules", "rpz", "nft", "csv", "plain", "misp-feed",
    "stix"};
#define NFORMATS (sizeof(formats) / sizeof(formats[0]))

/* ------------------------------------------------------------------------------------------ */
/* Output captured in memory                                                                    */

#define MAX_OUT_FILES 16

typedef struct out_file {
    char name[64];
    char *p;
    size_t len;
} out_file;

typedef struct capture {
    out_file f[MAX_OUT_FILES];
    int n;
    size_t max_chunk; /* the most bytes one callback received */
} capture;

static int capture_cb(void *ud, const char *file, const char *data, size_t len)
{
    capture *c = ud;
    const char *name = file ? file : "";
    out_file *f = c->n ? &c->f[c->n - 1] : NULL;
    if (len == 0 && (!f || strcmp(f->name, name) != 0)) {
        if (c->n == MAX_OUT_FILES)
            return ACCORD_ELIMIT;
        f = &c->f[c->n++];
        snprintf(f->name, sizeof(f->name), "%s", name);
        f->p = calloc(1, 1);
        f->len = 0;
        return f->p ? 0 : ACCORD_ENOMEM;
    }
    char *q = realloc(f->p, f->len + len + 1);
    if (!q)
        return ACCORD_ENOMEM;
    if (len > c->max_chunk)
        c->max_chunk = len;
    memcpy(q + f->len, data, len);
    f->len += len;
    q[f->len] = '\0';
    f->p = q;
    return 0;
}

static void capture_free(capture *c)
{
    for (int i = 0; i < c->n; i++)
        free(c->f[i].p);
    c->n = 0;
}

/* 1 when any file of the capture contains s. */
static int captured(const capture *c, const char *s)
{
    for (int i = 0; i < c->n; i++)
        if (strstr(c->f[i].p, s))
            return 1;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Store setup                                                                                  */

static accord_store *new_store(void)
{
    char dir[300];
    snprintf(dir, sizeof(dir), "%s/s%d", tmpdir, store_no++);
    return t_store_open(dir);
}

/* Imports an indicator of pattern p whose id is "indicator--ID8-0000-4000-8000-" and n in 12 hex
 * digits. */
static int import_pattern(accord_store *s, const char *id8, size_t n, const char *p)
{
    char doc[1024];
    snprintf(doc, sizeof(doc),
             "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--%s-0000-4000-"
             "8000-%012zx\",\"created\":\"2025-01-01T00:00:00.000Z\",\"modified\":"
             "\"2025-01-01T00:00:00.000Z\",\"pattern\":\"%s\",\"pattern_type\":\"stix\","
             "\"valid_from\":\"2025-01-01T00:00:00Z\"}",
             id8, n, p);
    return t_import_text(s, doc);
}

static int import_file(accord_store *s, const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    accord_import_stats st;
    accord_error err = {0};
    int rc = accord_import_fd(s, fd, NULL, &st, &err);
    if (rc)
        fprintf(stderr, "import: %s\n", err.msg);
    close(fd);
    return rc;
}

typedef struct entry_list {
    const char *kinds[64];
    char *values[64];
    size_t n;
} entry_list;

static int collect_entry(void *ud, const char *kind, const char *value)
{
    entry_list *e = ud;
    static const char *const kinds[] = {"string", "substring", "hostname", "cidr", "regex"};
    if (e->n == 64)
        return ACCORD_ELIMIT;
    for (int i = 0; i < 5; i++)
        if (strcmp(kind, kinds[i]) == 0)
            e->kinds[e->n] = kinds[i];
    e->values[e->n++] = strdup(value);
    return 0;
}

/* Imports an allow-list file's entries (at most 64) under `list`. */
static int allow_file(accord_store *s, const char *path, const char *list)
{
    size_t len;
    char *text = t_slurp(path, &len), *name = NULL;
    entry_list e = {.n = 0};
    accord_error err = {0};
    int rc = text ? accord_allowlist_parse(text, len, &name, collect_entry, &e, &err) : -1;
    if (!rc)
        rc = accord_allowlist_replace(s, list, e.kinds, (const char *const *)e.values, e.n, &err);
    if (rc)
        fprintf(stderr, "allow-list %s: %s\n", path, err.msg);
    for (size_t i = 0; i < e.n; i++)
        free(e.values[i]);
    free(name);
    free(text);
    return rc;
}

static accord_export_filter filter_at(const char *at)
{
    accord_export_filter f = {.at_us = t_us(at), .min_confidence = -1, .max_tlp = -1};
    return f;
}

/* Selects from s at AT twice: into *plain as it is, into *forced with *force set (a slower path
 * the quick one must agree with). */
static void select_both(accord_store *s, int *force, accord_export_set **plain,
                        accord_export_set **forced)
{
    accord_export_filter f = filter_at(AT);
    accord_error err = {0};
    CHECK(accord_export_select(s, &f, plain, &err) == 0);
    *force = 1;
    CHECK(accord_export_select(s, &f, forced, &err) == 0);
    *force = 0;
}

/* CHECKs, item for item, that sets a and b hold the same kinds and values in the same order. */
static void check_same_items(const accord_export_set *a, const accord_export_set *b)
{
    for (size_t i = 0; a && b && i < a->nitems && i < b->nitems; i++) {
        const export_item *x = &a->items[i], *y = &b->items[i];
        int same =
            x->kind == y->kind && strcmp(export_str(a, x->value), export_str(b, y->value)) == 0;
        CHECK(same);
        if (!same)
            fprintf(stderr, "item %zu: %s vs %s\n", i, export_str(a, x->value),
                    export_str(b, y->value));
    }
}

static int export_to(const accord_export_set *set, const char *format, capture *c,
                     accord_export_summary *sum)
{
    accord_export_options o = {.format = format};
    accord_error err = {0};
    int rc = accord_export_write(set, &o, capture_cb, c, sum, &err);
    if (rc)
        fprintf(stderr, "export %s: %s\n", format, err.msg);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Golden files                                                                                 */

/* Replaces every occurrence of the serial's digits with "SERIAL" (misp-feed: and its date,
 * "YYYY-MM-DD", with "DATE"). */
static char *unserial(const char *text, uint32_t serial, int date)
{
    char num[16], day[16] = "";
    snprintf(num, sizeof(num), "%u", serial);
    if (date) {
        time_t t = (time_t)serial;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(day, sizeof(day), "\"%Y-%m-%d\"", &tm);
    }
    size_t n = strlen(text), m = strlen(num), dn = strlen(day);
    char *out = malloc(n + 1), *o = out; /* each replacement is shorter than what it replaces */
    for (const char *p = text; *p;) {
        if (strncmp(p, num, m) == 0) {
            memcpy(o, "SERIAL", 6);
            o += 6, p += m;
        } else if (dn && strncmp(p, day, dn) == 0) {
            memcpy(o, "\"DATE\"", 6);
            o += 6, p += dn;
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    return out;
}

static void check_golden(const char *format, const out_file *f, uint32_t serial)
{
    char path[512];
    if (f->name[0])
        snprintf(path, sizeof(path), "%s/golden/%s/%s", DATA, format, f->name);
    else
        snprintf(path, sizeof(path), "%s/golden/%s", DATA, format);
    char *got = unserial(f->p, serial, strcmp(format, "misp-feed") == 0);
    const char *upd = getenv("ACCORD_UPDATE_GOLDEN");
    if (upd && *upd == '1') {
        char dir[512];
        snprintf(dir, sizeof(dir), "%s/golden", DATA);
        mkdir(dir, 0755);
        snprintf(dir, sizeof(dir), "%s/golden/%s", DATA, format);
        if (f->name[0])
            mkdir(dir, 0755);
        FILE *o = fopen(path, "w");
        CHECK(o != NULL);
        if (o) {
            fputs(got, o);
            fclose(o);
        }
    }
    size_t len;
    char *want = t_slurp(path, &len);
    CHECK(want != NULL);
    if (want && strcmp(want, got) != 0) {
        fprintf(stderr, "golden mismatch: %s\n--- got ---\n%s", path, got);
        CHECK(0);
    } else if (want) {
        CHECK(1);
    }
    free(want);
    free(got);
}

/* ------------------------------------------------------------------------------------------ */
/* Cases                                                                                        */

static accord_store *fixture_store(void)
{
    accord_store *s = new_store();
    CHECK(import_file(s, DATA "/indicators.json") == 0);
    CHECK(allow_file(s, DATA "/allow.txt", "local") == 0);
    return s;
}

static void test_golden(accord_store *s)
{
    accord_export_filter f = filter_at(AT);
    accord_export_set *set = NULL;
    accord_error err = {0};
    CHECK(accord_export_select(s, &f, &set, &err) == 0);
    if (!set)
        return;
    accord_export_stats st;
    accord_export_set_stats(set, &st);
    CHECK(st.scanned == 37);
    CHECK(st.expired == 1);
    CHECK(st.not_yet_valid == 1);
    CHECK(st.not_translatable == 6);
    CHECK(st.allowlisted == 6);
    CHECK(st.selected == 29);
    for (size_t i = 0; i < NFORMATS; i++) {
        capture c = {.n = 0};
        accord_export_summary sum;
        CHECK(export_to(set, formats[i], &c, &sum) == 0);
        for (int j = 0; j < c.n; j++)
            check_golden(formats[i], &c.f[j], accord_export_set_serial(set));
        /* never present: expired, not yet valid, revoked, allow-listed, untranslatable */
        static const char *const absent[] = {
            "expired.top", "future.top", "revoked.top", "10.1.2.3", "8.8.8.8",
            "google.com",  "8.8.0.0",    "91.92.93.97", "a.top",    "evil.exe"};
        for (size_t k = 0; k < sizeof(absent) / sizeof(absent[0]); k++)
            if (captured(&c, absent[k])) {
                fprintf(stderr, "%s holds %s\n", formats[i], absent[k]);
                CHECK(0);
            }
        /* the untranslatable ones are named in every format's summary */
        int named = 0;
        for (size_t k = 0; k < sum.nnames; k++)
            named += strstr(sum.names[k], "000000000020: comparisons joined by AND") != NULL;
        CHECK(named == 1);
        CHECK(sum.unexportable >= 6);
        capture_free(&c);
    }
    accord_export_set_free(set);
}

/* Exports every format and tells whether `needle` (or its base64, for suricata) appears. */
static int in_every_format(accord_store *s, const char *at, const char *needle, const char *b64)
{
    accord_export_filter f = filter_at(at);
    accord_export_set *set = NULL;
    accord_error err = {0};
    int n = 0;
    if (accord_export_select(s, &f, &set, &err) != 0)
        return -1;
    for (size_t i = 0; i < NFORMATS; i++) {
        capture c = {.n = 0};
        export_to(set, formats[i], &c, NULL);
        n += captured(&c, needle) || (b64 && captured(&c, b64));
        capture_free(&c);
    }
    accord_export_set_free(set);
    return n;
}

#define EXP_FMT                                                                                    \
    "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--%s\","                   \
    "\"created\":\"2025-01-01T00:00:00.000Z\",\"modified\":\"%s\",\"name\":\"p\","                 \
    "\"pattern\":\"[domain-name:value = '%s'] OR [ipv4-addr:value = '%s']\","                      \
    "\"pattern_type\":\"stix\",\"valid_from\":\"2025-01-01T00:00:00Z\"%s}"

/* An address-only indicator (nft holds only indicators whose values are all addresses). */
#define IP_FMT                                                                                     \
    "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--%s\","                   \
    "\"created\":\"2025-01-01T00:00:00.000Z\",\"modified\":\"%s\",\"name\":\"q\","                 \
    "\"pattern\":\"[ipv4-addr:value = '%s']\",\"pattern_type\":\"stix\","                          \
    "\"valid_from\":\"2025-01-01T00:00:00Z\"%s}"

/* Property: an indicator in every format disappears from every format once expired or revoked,
 * and the nft changes since the state that held it delete it. */
static void test_disappears(void)
{
    static const struct {
        const char *domain, *b64, *ip, *uuid, *ip2, *uuid2;
    } cases[] = {
        {"gone-a.top", "Z29uZS1hLnRvcA==", "77.1.2.3", "5d0a1a6e-0000-4000-8000-000000000001",
         "77.1.9.3", "5d0a1a6e-0000-4000-8000-000000000011"},
        {"gone-b.top", "Z29uZS1iLnRvcA==", "77.1.2.4", "5d0a1a6e-0000-4000-8000-000000000002",
         "77.1.9.4", "5d0a1a6e-0000-4000-8000-000000000012"},
    };
    char doc[1024];
    for (size_t i = 0; i < 2; i++) {
        accord_store *s = new_store();
        /* case 0 expires at 2025-07-01; case 1 is revoked by a later version */
        snprintf(doc, sizeof(doc), EXP_FMT, cases[i].uuid, "2025-01-01T00:00:00.000Z",
                 cases[i].domain, cases[i].ip,
                 i == 0 ? ",\"valid_until\":\"2025-07-01T00:00:00Z\"" : "");
        CHECK(t_import_text(s, doc) == 0);
        snprintf(doc, sizeof(doc), IP_FMT, cases[i].uuid2, "2025-01-01T00:00:00.000Z", cases[i].ip2,
                 i == 0 ? ",\"valid_until\":\"2025-07-01T00:00:00Z\"" : "");
        CHECK(t_import_text(s, doc) == 0);
        /* rpz and nft cannot hold an indicator with a domain and an address? They can: both. */
        int before = in_every_format(s, AT, cases[i].domain, cases[i].b64) +
                     in_every_format(s, AT, cases[i].ip, NULL);
        accord_export_filter fb = filter_at(AT);
        accord_export_set *prev = NULL;
        accord_error e2 = {0};
        CHECK(accord_export_select(s, &fb, &prev, &e2) == 0);
        if (i == 1) {
            snprintf(doc, sizeof(doc), EXP_FMT, cases[i].uuid, "2025-02-01T00:00:00.000Z",
                     cases[i].domain, cases[i].ip, ",\"revoked\":true");
            CHECK(t_import_text(s, doc) == 0);
            snprintf(doc, sizeof(doc), IP_FMT, cases[i].uuid2, "2025-02-01T00:00:00.000Z",
                     cases[i].ip2, ",\"revoked\":true");
            CHECK(t_import_text(s, doc) == 0);
        }
        const char *after_at = i == 0 ? "2025-07-01T00:00:00Z" : AT;
        /* the incremental form from the state before: the address leaves as a delete */
        accord_export_filter fa = filter_at(after_at);
        accord_export_set *now = NULL;
        capture c = {.n = 0};
        char want[64];
        snprintf(want, sizeof(want), "delete element inet accord ipv4 { %s }", cases[i].ip2);
        CHECK(in_every_format(s, after_at, cases[i].ip2, NULL) == 0);
        CHECK(prev && accord_export_select(s, &fa, &now, &e2) == 0 &&
              accord_export_nft_delta(prev, now, NULL, capture_cb, &c, NULL, &e2) == 0);
        CHECK(c.n == 1 && strstr(c.f[0].p, want) != NULL && !strstr(c.f[0].p, "add element"));
        capture_free(&c);
        accord_export_set_free(prev);
        accord_export_set_free(now);
        int after = in_every_format(s, after_at, cases[i].domain, cases[i].b64) +
                    in_every_format(s, after_at, cases[i].ip, NULL);
        /* the domain reaches 6 formats (not nft), the address 5 (not... every one but none) */
        CHECK(before >= 10);
        CHECK(after == 0);
        if (before < 10 || after)
            fprintf(stderr, "case %zu: before %d after %d\n", i, before, after);
        accord_store_close(s);
    }
}

static int count_selected(accord_store *s, accord_export_filter *f)
{
    accord_export_set *set = NULL;
    accord_error err = {0};
    accord_export_stats st = {0};
    if (accord_export_select(s, f, &set, &err) == 0)
        accord_export_set_stats(set, &st);
    accord_export_set_free(set);
    return (int)st.selected;
}

static void test_filters(accord_store *s)
{
    accord_export_filter f = filter_at(AT);
    int all = count_selected(s, &f);
    f.max_tlp = ACCORD_TLP_GREEN;
    CHECK(count_selected(s, &f) == all - 1); /* red.top */
    f = filter_at(AT);
    f.min_confidence = 50;
    CHECK(count_selected(s, &f) == all - 1); /* lowconf.top */
    f = filter_at(AT);
    const char *labels[] = {"partner", NULL};
    f.labels = labels;
    CHECK(count_selected(s, &f) == 1);
    f = filter_at(AT);
    const char *creators[] = {"identity--11111111-1111-4111-8111-111111111111", NULL};
    f.creators = creators;
    CHECK(count_selected(s, &f) == 1);
    f = filter_at(AT);
    f.kinds = ACCORD_EK_BIT(ACCORD_EK_MD5) | ACCORD_EK_BIT(ACCORD_EK_SHA256);
    CHECK(count_selected(s, &f) == 2);
    f = filter_at(AT);
    f.collection = "no-such-collection";
    accord_export_set *set = NULL;
    accord_error err = {0};
    CHECK(accord_export_select(s, &f, &set, &err) == ACCORD_ENOTFOUND);
    CHECK(accord_export_tlp_parse("TLP:AMBER+STRICT") == ACCORD_TLP_AMBER_STRICT);
    CHECK(accord_export_tlp_parse("white") == ACCORD_TLP_CLEAR);
    CHECK(accord_export_tlp_parse("purple") == -1);
}

/* A rule's SID depends on its indicator and value, not on what else is exported. */
static void test_sid_stable(accord_store *full)
{
    accord_store *one = new_store();
    CHECK(t_import_text(one, "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--"
                             "00000000-0000-4000-8000-000000000009\",\"created\":\"2025-01-01T00:"
                             "00:00.000Z\",\"modified\":\"2025-01-01T00:00:00.000Z\",\"pattern\":"
                             "\"[domain-name:value LIKE '%.phish.top']\",\"pattern_type\":\"stix\","
                             "\"valid_from\":\"2025-01-01T00:00:00Z\"}") == 0);
    accord_store *stores[2] = {one, full};
    char sids[2][32] = {"", ""};
    for (int i = 0; i < 2; i++) {
        accord_export_filter f = filter_at(AT);
        accord_export_set *set = NULL;
        accord_error err = {0};
        capture c = {.n = 0};
        CHECK(accord_export_select(stores[i], &f, &set, &err) == 0);
        CHECK(export_to(set, "suricata-rules", &c, NULL) == 0);
        for (int j = 0; j < c.n; j++) {
            const char *p = strstr(c.f[j].p, "dns.query; content:\".phish.top\"");
            p = p ? strstr(p, "sid:") : NULL;
            if (p)
                snprintf(sids[i], sizeof(sids[i]), "%.14s", p);
        }
        capture_free(&c);
        accord_export_set_free(set);
    }
    CHECK(sids[0][0] != '\0');
    CHECK_STR(sids[0], sids[1]);
    accord_store_close(one);
}

static void test_net_and_options(accord_store *s)
{
    int fam;
    export_u128 lo, hi;
    CHECK(export_net_range("10.0.0.0/8", &fam, &lo, &hi) == 0 && fam == 4);
    CHECK(lo == 0x0a000000u && hi == 0x0affffffu);
    CHECK(export_net_range("::/0", &fam, &lo, &hi) == 0 && lo == 0 && hi == ~(export_u128)0);
    CHECK(export_net_range("not-an-ip", &fam, &lo, &hi) < 0);
    accord_export_filter f = filter_at(AT);
    accord_export_set *set = NULL;
    accord_error err = {0};
    CHECK(accord_export_select(s, &f, &set, &err) == 0);
    capture c = {.n = 0};
    accord_export_options o = {
        .format = "rpz", .rpz_action = ACCORD_RPZ_CNAME, .rpz_cname = "walled.example"};
    CHECK(accord_export_write(set, &o, capture_cb, &c, NULL, &err) == 0);
    CHECK(captured(&c, "evil-domain.xyz CNAME walled.example.\n"));
    capture_free(&c);
    o = (accord_export_options){.format = "csv", .csv_columns = "kind,value"};
    CHECK(accord_export_write(set, &o, capture_cb, &c, NULL, &err) == 0);
    CHECK(c.n == 1 && strncmp(c.f[0].p, "kind,value\nipv4,45.33.32.156\n", 29) == 0);
    capture_free(&c);
    /* a name that needs quoting goes field by field; its neighbours on one line, the same */
    {
        accord_store *q = new_store();
        CHECK(t_import_text(
                  q, "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":"
                     "\"indicator--c5c00000-0000-4000-8000-000000000001\",\"created\":"
                     "\"2025-01-01T00:00:00.000Z\",\"modified\":\"2025-01-01T00:00:00.000Z\","
                     "\"name\":\"a, \\\"b\\\"\",\"pattern\":\"[domain-name:value = "
                     "'q1.top'] OR [domain-name:value = 'q2.top']\",\"pattern_type\":"
                     "\"stix\",\"valid_from\":\"2025-01-01T00:00:00Z\",\"valid_until\":"
                     "\"2026-01-01T00:00:00Z\",\"confidence\":7}") == 0);
        accord_export_set *qs = NULL;
        CHECK(accord_export_select(q, &f, &qs, &err) == 0);
        o = (accord_export_options){.format = "csv"};
        CHECK(qs && accord_export_write(qs, &o, capture_cb, &c, NULL, &err) == 0);
        CHECK(c.n == 1 && strstr(c.f[0].p, "\nq1.top,domain,indicator--c5c00000-0000-4000-8000-"
                                           "000000000001,\"a, \"\"b\"\"\",7,amber,2026-01-01"));
        capture_free(&c);
        accord_export_set_free(qs);
        accord_store_close(q);
    }
    o = (accord_export_options){.format = "csv", .csv_columns = "value,bogus"};
    CHECK(accord_export_write(set, &o, capture_cb, &c, NULL, &err) == ACCORD_EINVAL);
    CHECK(strstr(err.msg, "bogus") != NULL);
    capture_free(&c);
    o = (accord_export_options){.format = "nope"};
    CHECK(accord_export_write(set, &o, capture_cb, &c, NULL, &err) == ACCORD_EINVAL);
    capture_free(&c);
    accord_export_set_free(set);
}

typedef struct big_list {
    char **k, **v;
    size_t n, cap;
} big_list;

static int big_add(void *ud, const char *kind, const char *value)
{
    big_list *e = ud;
    if (e->n == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 1024;
        e->k = realloc(e->k, e->cap * sizeof(*e->k));
        e->v = realloc(e->v, e->cap * sizeof(*e->v));
        if (!e->k || !e->v)
            return ACCORD_ENOMEM;
    }
    e->k[e->n] = strdup(kind);
    e->v[e->n++] = strdup(value);
    return 0;
}

static void big_free(big_list *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->k[i]), free(e->v[i]);
    free(e->k);
    free(e->v);
}

#define WL_IND                                                                                     \
    "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--"                        \
    "7e57a110-0000-4000-8000-%012d\",\"created\":\"2025-01-01T00:00:00.000Z\",\"modified\":"       \
    "\"2025-01-01T00:00:00.000Z\",\"pattern\":\"%s\",\"pattern_type\":\"stix\","                   \
    "\"valid_from\":\"2025-01-01T00:00:00Z\"}\n"

/* The MISP warninglists of ../shared/data: top sites, public resolvers, empty-file hashes. */
static void test_warninglists(void)
{
    const char *shared = t_shared_data();
    if (!shared) {
        printf("skip: ../shared/data is absent (warninglist tests)\n");
        return;
    }
    char path[512], doc[8192];
    accord_store *s = new_store();
    static const char *const lists[] = {"tranco10k", "public-dns-v4", "empty-hashes",
                                        "security-provider-blogpost"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(path, sizeof(path), "%s/misp-warninglists/lists/%s/list.json", shared, lists[i]);
        size_t len;
        char *text = t_slurp(path, &len), *name = NULL;
        big_list e = {0};
        accord_error err = {0};
        CHECK(text && accord_allowlist_parse(text, len, &name, big_add, &e, &err) == 0);
        CHECK(name != NULL && e.n > 0);
        CHECK(accord_allowlist_replace(s, name ? name : lists[i], (const char *const *)e.k,
                                       (const char *const *)e.v, e.n, &err) == 0);
        big_free(&e);
        free(text);
        free(name);
    }
    /* allowed: a tranco site and a name below it, a public resolver, the empty file's SHA-256,
     * a suffix above a listed site; kept: an unlisted domain and address */
    static const char *const patterns[] = {
        "[domain-name:value = 'google.com']",
        "[domain-name:value = 'mail.google.com']",
        "[ipv4-addr:value = '1.1.1.1']",
        ("[file:hashes.'SHA-256' = "
         "'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']"),
        "[domain-name:value LIKE '%.com']",
        "[url:value = 'https://www.google.com/x']",
        "[domain-name:value = 'not-listed-anywhere.top']",
        "[ipv4-addr:value = '77.88.99.111']",
    };
    size_t n = 0;
    for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++)
        n += (size_t)snprintf(doc + n, sizeof(doc) - n, WL_IND, (int)i + 1, patterns[i]);
    CHECK(t_import_text(s, doc) == 0);
    accord_export_filter f = filter_at(AT);
    accord_export_set *set = NULL;
    accord_error err = {0};
    CHECK(accord_export_select(s, &f, &set, &err) == 0);
    accord_export_stats st = {0};
    if (set)
        accord_export_set_stats(set, &st);
    CHECK(st.allowlisted == 6);
    CHECK(st.items == 2);
    capture c = {.n = 0};
    if (set)
        CHECK(export_to(set, "plain", &c, NULL) == 0);
    CHECK(c.n == 1 && strcmp(c.f[0].p, "77.88.99.111\nnot-listed-anywhere.top\n") == 0);
    capture_free(&c);
    accord_export_set_free(set);
    /* replacing a list with fewer entries lets its old values through again */
    const char *k[] = {"hostname"}, *v[] = {"example.org"};
    CHECK(accord_allowlist_replace(s,
                                   "List of known hashes with common false-positives (based "
                                   "on Florian Roth input list)",
                                   k, v, 1, &err) == 0);
    int64_t t1 = accord_allowlist_changed(s);
    CHECK(accord_allowlist_replace(s,
                                   "List of known hashes with common false-positives (based "
                                   "on Florian Roth input list)",
                                   NULL, NULL, 0, &err) == 0);
    CHECK(accord_allowlist_changed(s) > t1);
    const char *bad_k[] = {"cidr"}, *bad_v[] = {"300.1.2.3/8"};
    CHECK(accord_allowlist_replace(s, "bad", bad_k, bad_v, 1, &err) == ACCORD_EINVAL);
    CHECK(strstr(err.msg, "300.1.2.3") != NULL);
    accord_store_close(s);
}

/* Cursors: the text form round-trips; anything else is rejected. */
static void test_cursor(void)
{
    accord_export_cursor c = {1748736000000000, 1764464770123456, 0x9f1c03a2b4d5e6f7ull}, d;
    char text[ACCORD_EXPORT_CURSOR_MAX];
    accord_export_cursor_format(&c, text, sizeof(text));
    CHECK_STR(text, "v1.1748736000000000.1764464770123456.9f1c03a2b4d5e6f7");
    CHECK(accord_export_cursor_parse(text, &d) == 0);
    CHECK(d.at_us == c.at_us && d.added_us == c.added_us && d.digest == c.digest);
    static const char *const bad[] = {"",          "v1",         "v2.1.2.3",
                                      "v1.1.2",    "v1.1.2.",    "v1..2.3",
                                      "v1.1.0.3",  "v1.1.2.3x",  "v1.1.2.0123456789abcdef0",
                                      "v1.-1.2.3", "v1.1.2.3.4", "v1.1.2.ABC"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(accord_export_cursor_parse(bad[i], &d) == ACCORD_EINVAL);
}

/* 1 when the members of fast (the field extractor's object) equal those of full. */
static int same_members(const ajson_value *fast, const ajson_value *full)
{
    for (size_t i = 0; i < fast->len; i++) {
        const ajson_member *m = &fast->u.members[i];
        const ajson_value *a = &m->value, *b = ajson_get(full, m->key);
        if (!b || a->type != b->type || a->len != b->len)
            return 0;
        if (a->type == AJSON_ARRAY) {
            for (size_t j = 0; j < a->len; j++)
                if (strcmp(ajson_str(&a->u.items[j]), ajson_str(&b->u.items[j])) != 0)
                    return 0;
        } else if (strcmp(a->u.str, b->u.str) != 0) {
            return 0;
        }
    }
    return 1;
}

/* The field extractor gives the strict parser's members, or gives up (escapes, shapes). */
static void test_fields(void)
{
    static const struct {
        const char *body;
        int fast; /* 1: extracted; 0: gives up (the full parse decides) */
        size_t members;
    } cases[] = {
        {"{\"type\":\"indicator\",\"pattern\":\"[ipv4-addr:value = '1.2.3.4']\","
         "\"labels\":[\"a\",\"b\"],\"confidence\":80,\"x\":{\"y\":[1,\"]}\\\"\"]},"
         "\"name\":\"n\"}",
         1, 4},
        {" { \"name\" : \"sp\" , \"labels\" : [ ] , \"z\" : true } ", 1, 2},
        {"{\"pattern\":\"[url:value = 'a\\\\b']\"}", 0, 0}, /* escape in a wanted string */
        {"{\"labels\":[\"a\",1]}", 0, 0},                   /* not an array of strings */
        {"{\"labels\":{\"a\":1}}", 0, 0},                   /* unexpected shape */
        {"{\"d\":\"\\u00e9\\\"\",\"name\":\"x\"}", 1, 1},   /* escapes in a skipped one */
        {"{\"name\":\"x\"} x", 0, 0},                       /* trailing bytes */
        {"{}", 1, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ajson_arena a, b;
        ajson_error je;
        ajson_arena_init(&a, 0);
        ajson_arena_init(&b, 0);
        const char *t = cases[i].body;
        const ajson_value *fast = export_fields_parse(&a, t, strlen(t));
        const ajson_value *full = ajson_parse(&b, t, strlen(t), &je);
        CHECK(!!fast == cases[i].fast);
        if (fast) {
            CHECK(fast->len == cases[i].members);
            CHECK(full && same_members(fast, full));
        }
        if (!!fast != cases[i].fast)
            fprintf(stderr, "fields case %zu\n", i);
        ajson_arena_free(&a);
        ajson_arena_free(&b);
    }
}

/* The words of a feed: parsed as the command line parses them, stored and read back whole. */
static int feed_seen(void *ud, const accord_feed *f)
{
    char *out = ud;
    size_t n = strlen(out);
    snprintf(out + n, 512 - n, "%s:", f->name);
    for (size_t i = 0; i < f->argc; i++) {
        n = strlen(out);
        snprintf(out + n, 512 - n, "%s%s", i ? " " : "", f->argv[i]);
    }
    n = strlen(out);
    snprintf(out + n, 512 - n, ";");
    return 0;
}

static void test_feeds(void)
{
    accord_export_spec sp;
    accord_error err = {0};
    const char *ok[] = {"--format",
                        "rpz",
                        "--label=a",
                        "--label",
                        "b",
                        "--max-tlp",
                        "green",
                        "--rpz-action",
                        "cname:garden.example",
                        "--type",
                        "domain"};
    CHECK(accord_export_spec_parse(&sp, 11, ok, &err) == 0);
    CHECK_STR(sp.opts.format, "rpz");
    CHECK(sp.nlabels == 2 && strcmp(sp.filter.labels[1], "b") == 0 && !sp.filter.labels[2]);
    CHECK(sp.filter.max_tlp == ACCORD_TLP_GREEN && sp.filter.min_confidence == -1);
    CHECK(sp.opts.rpz_action == ACCORD_RPZ_CNAME &&
          strcmp(sp.opts.rpz_cname, "garden.example") == 0);
    CHECK(sp.filter.kinds == ACCORD_EK_BIT(ACCORD_EK_DOMAIN));
    static const struct {
        size_t argc;
        const char *argv[4];
        const char *msg; /* a part of the error */
    } bad[] = {
        {2, {"--format", "bogus"}, "--format bogus"},
        {2, {"--label", "x"}, "--format is required"},
        {3, {"--format", "nft", "--min-confidence"}, "a value is missing"},
        {4, {"--format", "nft", "--min-confidence", "101"}, "0 to 100"},
        {4, {"--format", "nft", "--frob", "1"}, "--frob: not an export option"},
        {3, {"--format", "nft", "plain"}, "expected an option"},
        {4, {"--format", "nft", "--type", "ipv5"}, "--type ipv5"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err.msg[0] = '\0';
        CHECK(accord_export_spec_parse(&sp, bad[i].argc, bad[i].argv, &err) == ACCORD_EINVAL);
        CHECK(strstr(err.msg, bad[i].msg) != NULL);
        if (!strstr(err.msg, bad[i].msg))
            fprintf(stderr, "spec case %zu: %s\n", i, err.msg);
    }

    accord_store *s = new_store();
    char seen[512] = "";
    const char *fw[] = {"--format", "nft", "--collection", "default"};
    CHECK(accord_feed_each(s, NULL, feed_seen, seen, &err) == 0 && !seen[0]);
    CHECK(accord_feed_put(s, "fw", 4, fw, &err) == 0);
    CHECK(accord_feed_put(s, "dns", 2, (const char *[]){"--format", "rpz"}, &err) == 0);
    CHECK(accord_feed_put(s, "x/y", 2, fw, &err) == ACCORD_EINVAL);
    CHECK(accord_feed_put(s, "bad", 2, (const char *[]){"--format", "nope"}, &err) ==
          ACCORD_EINVAL);
    CHECK(accord_feed_each(s, NULL, feed_seen, seen, &err) == 0);
    CHECK_STR(seen, "dns:--format rpz;fw:--format nft --collection default;");
    CHECK(accord_feed_put(s, "fw", 2, (const char *[]){"--format", "plain"}, &err) == 0);
    seen[0] = '\0';
    CHECK(accord_feed_each(s, "fw", feed_seen, seen, &err) == 0);
    CHECK_STR(seen, "fw:--format plain;");
    CHECK(accord_feed_remove(s, "fw", &err) == 0);
    CHECK(accord_feed_remove(s, "fw", &err) == ACCORD_ENOTFOUND);
    CHECK(accord_feed_each(s, "fw", feed_seen, seen, &err) == ACCORD_ENOTFOUND);
    accord_store_close(s);
}

/* The validity boundaries a feed's ETag relies on: the newest passed one and the next one. */
static void test_boundaries(void)
{
    accord_store *s = new_store();
    char doc[1024];
    snprintf(doc, sizeof(doc), EXP_FMT, "5d0a1a6e-0000-4000-8000-0000000000b1",
             "2025-01-01T00:00:00.000Z", "bound-a.top", "77.1.2.9",
             ",\"valid_until\":\"2025-07-01T00:00:00Z\"");
    CHECK(t_import_text(s, doc) == 0);
    accord_export_filter f = filter_at(AT);
    accord_export_set *set = NULL;
    accord_error err = {0};
    CHECK(accord_export_select(s, &f, &set, &err) == 0);
    CHECK(set && set->boundary_us == t_us("2025-01-01T00:00:00Z"));
    CHECK(set && set->next_us == t_us("2025-07-01T00:00:00Z"));
    accord_export_set_free(set);
    f = filter_at("2025-07-01T00:00:00Z");
    CHECK(accord_export_select(s, &f, &set, &err) == 0);
    CHECK(set && set->boundary_us == t_us("2025-07-01T00:00:00Z") && set->next_us == INT64_MAX);
    accord_export_set_free(set);
    accord_store_close(s);
}

/* Selection through the store's indicators table and through the bodies gives the same set, item
 * for item, the same counts and change stamps, and the same bytes in every format. */
static void test_table_vs_body(accord_store *s)
{
    accord_export_filter f = filter_at(AT);
    accord_export_set *tab = NULL, *body = NULL;
    accord_error err = {0};
    CHECK(accord_export_select(s, &f, &tab, &err) == 0);
    export_force_body = 1;
    CHECK(accord_export_select(s, &f, &body, &err) == 0);
    export_force_body = 0;
    if (!tab || !body) {
        accord_export_set_free(tab);
        accord_export_set_free(body);
        return;
    }
    CHECK(memcmp(&tab->stats, &body->stats, sizeof(tab->stats)) == 0);
    CHECK(tab->ninds == body->ninds && tab->nitems == body->nitems && tab->nitems > 20);
    CHECK(tab->nuntr == body->nuntr);
    for (size_t i = 0; i < tab->nuntr && i < body->nuntr; i++)
        CHECK_STR(tab->untr[i], body->untr[i]);
    for (size_t i = 0; i < tab->ninds && i < body->ninds; i++) {
        const export_ind *a = &tab->inds[i], *b = &body->inds[i];
        CHECK_STR(export_str(tab, a->id), export_str(body, b->id));
        CHECK_STR(export_str(tab, a->name), export_str(body, b->name));
        CHECK(a->valid_until == b->valid_until && a->confidence == b->confidence &&
              a->tlp == b->tlp && a->kinds == b->kinds && a->nitems == b->nitems);
    }
    for (size_t i = 0; i < tab->nitems && i < body->nitems; i++)
        CHECK(tab->items[i].kind == body->items[i].kind &&
              strcmp(export_str(tab, tab->items[i].value),
                     export_str(body, body->items[i].value)) == 0);
    CHECK(memcmp(tab->kind_at, body->kind_at, sizeof(tab->kind_at)) == 0 &&
          memcmp(tab->kind_added, body->kind_added, sizeof(tab->kind_added)) == 0);
    CHECK(tab->boundary_us == body->boundary_us && tab->next_us == body->next_us &&
          tab->serial_us == body->serial_us);
    for (size_t i = 0; i < NFORMATS; i++) {
        capture a = {.n = 0}, b = {.n = 0};
        CHECK(export_to(tab, formats[i], &a, NULL) == 0);
        CHECK(export_to(body, formats[i], &b, NULL) == 0);
        CHECK(a.n == b.n && a.n > 0);
        for (int j = 0; j < a.n && j < b.n; j++) {
            int same = a.f[j].len == b.f[j].len && memcmp(a.f[j].p, b.f[j].p, a.f[j].len) == 0;
            CHECK(same);
            if (!same)
                fprintf(stderr, "%s: table and body selections differ\n", formats[i]);
        }
        capture_free(&a);
        capture_free(&b);
    }
    accord_export_set_free(tab);
    accord_export_set_free(body);
}

/* The full nft script at `at`, with its cursor line, as a feed serves it (free() it). */
static char *nft_at(accord_store *s, const char *at, accord_export_cursor *cur)
{
    accord_export_filter f = filter_at(at);
    accord_export_set *set = NULL;
    accord_error err = {0};
    char text[ACCORD_EXPORT_CURSOR_MAX];
    capture c = {.n = 0};
    char *out = NULL;
    if (accord_export_select(s, &f, &set, &err) == 0 && accord_export_nft_cursor(set, cur) == 0) {
        accord_export_cursor_format(cur, text, sizeof(text));
        accord_export_options o = {.format = "nft", .nft_cursor = text};
        if (accord_export_write(set, &o, capture_cb, &c, NULL, &err) == 0 && c.n == 1) {
            out = c.f[0].p;
            c.f[0].p = NULL;
        }
    }
    capture_free(&c);
    accord_export_set_free(set);
    CHECK(out != NULL);
    return out;
}

/* 1 when the state at cursor c rebuilds (the digest matches); *delta gets the changes from it to
 * the selection at `at` (free() it): nft statements, or with stix a bundle (*sum its summary). */
static int rebuild_as(accord_store *s, const accord_export_cursor *c, const char *at, char **delta,
                      int stix, accord_export_summary *sum)
{
    accord_export_filter f = filter_at(at), p = {.at_us = c->at_us,
                                                 .as_of_added_us = c->added_us,
                                                 .min_confidence = -1,
                                                 .max_tlp = -1};
    accord_export_set *prev = NULL, *now = NULL;
    accord_export_cursor got = {0};
    accord_error err = {0};
    capture d = {.n = 0};
    int ok = accord_export_select(s, &p, &prev, &err) == 0 &&
             (stix ? accord_export_stix_cursor(prev, &got)
                   : accord_export_nft_cursor(prev, &got)) == 0 &&
             got.digest == c->digest && accord_export_select(s, &f, &now, &err) == 0 &&
             (stix ? accord_export_stix_delta(prev, now, NULL, capture_cb, &d, sum, &err)
                   : accord_export_nft_delta(prev, now, NULL, capture_cb, &d, sum, &err)) == 0 &&
             d.n == 1;
    *delta = ok ? d.f[0].p : NULL;
    if (ok)
        d.f[0].p = NULL;
    capture_free(&d);
    accord_export_set_free(prev);
    accord_export_set_free(now);
    return ok;
}

static int rebuild(accord_store *s, const accord_export_cursor *c, const char *at, char **delta)
{
    return rebuild_as(s, c, at, delta, 0, NULL);
}

/* The stix cursor of the selection at `at`. */
static void stix_cursor_at(accord_store *s, const char *at, accord_export_cursor *cur)
{
    accord_export_filter f = filter_at(at);
    accord_export_set *set = NULL;
    accord_error err = {0};
    CHECK(accord_export_select(s, &f, &set, &err) == 0 && accord_export_stix_cursor(set, cur) == 0);
    accord_export_set_free(set);
}

#define DOM_FMT                                                                                    \
    "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--%s\","                   \
    "\"created\":\"2025-01-01T00:00:00.000Z\",\"modified\":\"%s\",\"name\":\"d\","                 \
    "\"pattern\":\"[domain-name:value = '%s']\",\"pattern_type\":\"stix\","                        \
    "\"valid_from\":\"2025-01-01T00:00:00Z\"%s}"

/*
 * An nft export's bytes (cursor line included, so a feed's ETag) change only when its elements
 * do: not when another kind's validity boundary passes, another kind arrives, or anything else is
 * stored; and every cursor it printed still rebuilds, so deltas from it stay incremental.
 */
static void test_nft_stable(void)
{
    accord_store *s = new_store();
    char doc[1024], *delta = NULL;
    accord_export_cursor c1, c2, c3, c4;
    snprintf(doc, sizeof(doc), IP_FMT, "5d0a1a6e-0000-4000-8000-0000000000c1",
             "2025-01-01T00:00:00.000Z", "77.3.0.1", "");
    CHECK(t_import_text(s, doc) == 0);
    snprintf(doc, sizeof(doc), IP_FMT, "5d0a1a6e-0000-4000-8000-0000000000c2",
             "2025-01-01T00:00:00.000Z", "77.3.1.2", ",\"valid_until\":\"2025-09-01T00:00:00Z\"");
    CHECK(t_import_text(s, doc) == 0);
    snprintf(doc, sizeof(doc), DOM_FMT, "5d0a1a6e-0000-4000-8000-0000000000c3",
             "2025-01-01T00:00:00.000Z", "stable-a.top",
             ",\"valid_until\":\"2025-07-01T00:00:00Z\"");
    CHECK(t_import_text(s, doc) == 0);
    char *t1 = nft_at(s, "2025-06-01T00:00:00Z", &c1);
    /* a domain expires, a domain arrives, an identity arrives: the same bytes */
    char *t2 = nft_at(s, "2025-08-01T00:00:00Z", &c2);
    CHECK(t1 && t2 && strcmp(t1, t2) == 0);
    snprintf(doc, sizeof(doc), DOM_FMT, "5d0a1a6e-0000-4000-8000-0000000000c4",
             "2025-01-01T00:00:00.000Z", "stable-b.top", "");
    CHECK(t_import_text(s, doc) == 0);
    CHECK(t_import_text(s, "{\"type\":\"identity\",\"spec_version\":\"2.1\",\"id\":\"identity--"
                           "5d0a1a6e-0000-4000-8000-0000000000c5\",\"created\":\"2025-01-01T00:00:"
                           "00.000Z\",\"modified\":\"2025-01-01T00:00:00.000Z\",\"name\":\"x\"}") ==
          0);
    free(t2);
    t2 = nft_at(s, "2025-08-01T00:00:00Z", &c2);
    CHECK(t1 && t2 && strcmp(t1, t2) == 0);
    CHECK(rebuild(s, &c1, "2025-08-01T00:00:00Z", &delta) && delta && !strstr(delta, "element"));
    free(delta);
    /* an address expires: new bytes, and the old cursor gives the delete */
    char *t3 = nft_at(s, "2025-10-01T00:00:00Z", &c3);
    CHECK(t3 && t2 && strcmp(t3, t2) != 0 && c3.at_us == t_us("2025-09-01T00:00:00Z"));
    CHECK(rebuild(s, &c1, "2025-10-01T00:00:00Z", &delta) && delta &&
          strstr(delta, "delete element inet accord ipv4 { 77.3.1.2 }") &&
          !strstr(delta, "add element"));
    free(delta);
    /* a revocation, and a new version that is no longer an address: both leave as deletes */
    snprintf(doc, sizeof(doc), IP_FMT, "5d0a1a6e-0000-4000-8000-0000000000c1",
             "2025-02-01T00:00:00.000Z", "77.3.0.1", ",\"revoked\":true");
    CHECK(t_import_text(s, doc) == 0);
    snprintf(doc, sizeof(doc), IP_FMT, "5d0a1a6e-0000-4000-8000-0000000000c6",
             "2025-01-01T00:00:00.000Z", "77.3.2.6", "");
    CHECK(t_import_text(s, doc) == 0);
    char *t4 = nft_at(s, "2025-10-01T00:00:00Z", &c4);
    CHECK(t4 && strstr(t4, "77.3.2.6") && !strstr(t4, "77.3.0.1") && c4.added_us > c3.added_us);
    CHECK(rebuild(s, &c3, "2025-10-01T00:00:00Z", &delta) && delta &&
          strstr(delta, "delete element inet accord ipv4 { 77.3.0.1 }") &&
          strstr(delta, "add element inet accord ipv4 { 77.3.2.6 }"));
    free(delta);
    snprintf(doc, sizeof(doc), DOM_FMT, "5d0a1a6e-0000-4000-8000-0000000000c6",
             "2025-03-01T00:00:00.000Z", "stable-c.top", "");
    CHECK(t_import_text(s, doc) == 0);
    CHECK(rebuild(s, &c4, "2025-10-01T00:00:00Z", &delta) && delta &&
          strstr(delta, "delete element inet accord ipv4 { 77.3.2.6 }"));
    free(delta);
    free(t1);
    free(t2);
    free(t3);
    free(t4);
    accord_store_close(s);
}

/* A misp-feed whose attributes share one TLP says it once, in the event's tag; the golden
 * fixture (mixed TLPs) shows the per-attribute tags. */
static void test_misp_uniform(void)
{
    accord_store *s = new_store();
    char doc[1024];
    for (int i = 0; i < 3; i++) {
        char uuid[40], ip[16];
        snprintf(uuid, sizeof(uuid), "5d0a1a6e-0000-4000-8000-0000000000d%d", i);
        snprintf(ip, sizeof(ip), "77.4.%d.1", i);
        snprintf(doc, sizeof(doc), IP_FMT, uuid, "2025-01-01T00:00:00.000Z", ip, "");
        CHECK(t_import_text(s, doc) == 0);
    }
    accord_export_filter f = filter_at(AT);
    accord_export_set *set = NULL;
    accord_error err = {0};
    capture c = {.n = 0};
    CHECK(accord_export_select(s, &f, &set, &err) == 0 &&
          export_to(set, "misp-feed", &c, NULL) == 0);
    int tags = 0;
    for (const char *p = c.n ? c.f[0].p : ""; (p = strstr(p, "\"tlp:")); p++)
        tags++;
    CHECK(c.n == 3 && tags == 1 && strstr(c.f[0].p, "77.4.2.1") &&
          strstr(c.f[0].p, "\"Tag\":[{\"name\":\"tlp:amber\""));
    capture_free(&c);
    accord_export_set_free(set);
    accord_store_close(s);
}

/* Standard base64 of s (the suricata datasets' form of strings). */
static void b64_of(const char *s, char *out)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(s), o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned char)s[i] << 16 | (i + 1 < n ? (unsigned char)s[i + 1] << 8 : 0) |
                     (i + 2 < n ? (unsigned char)s[i + 2] : 0);
        out[o++] = t[v >> 18 & 63];
        out[o++] = t[v >> 12 & 63];
        out[o++] = i + 1 < n ? t[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? t[v & 63] : '=';
    }
    out[o] = '\0';
}

/* How many `verb element` statements of nft script text hold element v. */
static int nft_has(const char *text, const char *verb, const char *v)
{
    int n = 0;
    size_t vl = strlen(v), bl = strlen(verb);
    for (const char *line = text; line && *line;
         line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
        const char *end = strchr(line, '\n'), *p = strchr(line, '{');
        if (!end)
            end = line + strlen(line);
        if (strncmp(line, verb, bl) != 0 || line[bl] != ' ' || !p || p > end)
            continue;
        for (p += 2; p < end;) { /* "{ a, b, c }" */
            size_t el = strcspn(p, ", }\n");
            n += el == vl && memcmp(p, v, vl) == 0;
            p += el;
            p += strspn(p, ", ");
            if (*p == '}')
                break;
        }
    }
    return n;
}

/* Every format's output at `at`, into c[NFORMATS]; 0 or -1. */
static int export_all(accord_store *s, const char *at, capture *c)
{
    accord_export_filter f = filter_at(at);
    accord_export_set *set = NULL;
    accord_error err = {0};
    int rc = accord_export_select(s, &f, &set, &err);
    for (size_t i = 0; !rc && i < NFORMATS; i++)
        rc = export_to(set, formats[i], &c[i], NULL);
    accord_export_set_free(set);
    return rc ? -1 : 0;
}

/*
 * Property, over random indicators of every kind and fate: at the next export, every value of an
 * indicator that expired, was revoked or was replaced by a version with another value is gone
 * from every format (as itself, as base64, as an rpz-ip owner), what stays and what replaced it
 * is there, and the nft changes since the cursor of the first export delete exactly the addresses
 * that left and add those that arrived.
 */
static void test_disappears_random(void)
{
    enum { N = 64 };
    static const char *const t1 = "2025-06-01T00:00:00Z", *const t2 = "2025-08-01T00:00:00Z";
    uint64_t r = 0x9e3779b97f4a7c15ull;
    accord_export_cursor cur1 = {0}, scur1 = {0};
    char *full1 = NULL, *delta = NULL, *sdelta = NULL;
    accord_export_summary ssum = {0};
    int kind[N], fate[N]; /* fate 0 stays, 1 expires, 2 revoked, 3 replaced */
    char doc[1024];
    accord_store *s = new_store();
    for (int i = 0; i < N; i++) {
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        kind[i] = (int)(r % 4), fate[i] = (int)(r >> 8 & 3);
    }
    /* the value of indicator i, version v (0 or 1) */
#define VALUE_OF(buf, i, v)                                                                        \
    (kind[i] == 0   ? snprintf(buf, sizeof(buf), "77.%d.%d.1", 6 + (v), i)                         \
     : kind[i] == 1 ? snprintf(buf, sizeof(buf), "d%d-%d.gone.top", i, v)                          \
     : kind[i] == 2 ? snprintf(buf, sizeof(buf), "http://u%d-%d.gone.top/p", i, v)                 \
                    : snprintf(buf, sizeof(buf), "%062x%02x", i, v))
    static const char *const pat[] = {"[ipv4-addr:value = '%s']", "[domain-name:value = '%s']",
                                      "[url:value = '%s']", "[file:hashes.'SHA-256' = '%s']"};
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < N; i++) {
            char v[100], p[160];
            if (pass == 1 && fate[i] < 2)
                continue; /* the second pass revokes or replaces */
            VALUE_OF(v, i, pass == 1 && fate[i] == 3);
            snprintf(p, sizeof(p), pat[kind[i]], v);
            snprintf(doc, sizeof(doc),
                     "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--"
                     "5d0a1a6e-0000-4000-8000-%012x\",\"created\":\"2025-01-01T00:00:00.000Z\","
                     "\"modified\":\"%s\",\"name\":\"r\",\"pattern\":\"%s\",\"pattern_type\":"
                     "\"stix\",\"valid_from\":\"2025-01-01T00:00:00Z\"%s%s}",
                     0xe00 + i, pass ? "2025-07-01T00:00:00.000Z" : "2025-01-01T00:00:00.000Z", p,
                     fate[i] == 1 ? ",\"valid_until\":\"2025-07-01T00:00:00Z\"" : "",
                     pass && fate[i] == 2 ? ",\"revoked\":true" : "");
            CHECK(t_import_text(s, doc) == 0);
        }
        if (pass == 0) {
            capture c1[NFORMATS] = {{.n = 0}};
            CHECK(export_all(s, t1, c1) == 0);
            for (int i = 0; i < N; i++) {
                char v[100];
                VALUE_OF(v, i, 0);
                CHECK(captured(&c1[6], v)); /* plain holds every kind */
            }
            for (size_t f = 0; f < NFORMATS; f++)
                capture_free(&c1[f]);
            full1 = nft_at(s, t1, &cur1);  /* what a firewall loaded before the changes */
            stix_cursor_at(s, t1, &scur1); /* and what a STIX consumer loaded */
        }
    }
    capture c2[NFORMATS] = {{.n = 0}};
    CHECK(export_all(s, t2, c2) == 0);
    CHECK(rebuild(s, &cur1, t2, &delta) && delta && full1);
    CHECK(rebuild_as(s, &scur1, t2, &sdelta, 1, &ssum) && sdelta);
    int expired = 0;
    for (int i = 0; i < N; i++) {
        char v[100], b[160], rpz[64];
        int gone = 0;
        VALUE_OF(v, i, 0);
        b64_of(v, b);
        snprintf(rpz, sizeof(rpz), "32.1.%d.6.77.rpz-ip", i);
        for (size_t f = 0; f < NFORMATS; f++)
            gone += !captured(&c2[f], v) && !captured(&c2[f], b) &&
                    !(kind[i] == 0 && captured(&c2[f], rpz));
        CHECK(gone == (fate[i] ? (int)NFORMATS : 0) || (!fate[i] && gone < (int)NFORMATS));
        if (fate[i] && gone != (int)NFORMATS)
            fprintf(stderr, "indicator %d (kind %d, fate %d): %s stays in %d formats\n", i, kind[i],
                    fate[i], v, (int)NFORMATS - gone);
        CHECK(fate[i] ? 1 : captured(&c2[6], v));
        if (fate[i] == 3) {
            VALUE_OF(v, i, 1);
            CHECK(captured(&c2[6], v));
        }
        /* the stix changes: a new version for a replaced one, the revocation of a revoked one,
         * nothing for one that stays; an expired one is named (STIX cannot retract it) */
        if (sdelta) {
            char id[80];
            snprintf(id, sizeof(id), "indicator--5d0a1a6e-0000-4000-8000-%012x\"", 0xe00 + i);
            const char *at = strstr(sdelta, id);
            CHECK((at != NULL) == (fate[i] >= 2));
            if (fate[i] == 2)
                CHECK(at && strstr(at, "\"revoked\":true") &&
                      strstr(at, "\"revoked\":true") < strstr(at, "}"));
            VALUE_OF(v, i, fate[i] == 3);
            CHECK(fate[i] == 3 ? strstr(sdelta, v) != NULL : fate[i] != 0 || !strstr(sdelta, v));
            expired += fate[i] == 1;
        }
        if (kind[i] != 0 || !delta || !full1)
            continue;
        /* the nft changes: a delete for what left, an add for what arrived, nothing else */
        VALUE_OF(v, i, 0);
        CHECK(nft_has(delta, "delete", v) == (fate[i] != 0) && nft_has(delta, "add", v) == 0);
        CHECK(nft_has(full1, "add", v) == 1);
        if (fate[i] == 3) {
            VALUE_OF(v, i, 1);
            CHECK(nft_has(delta, "add", v) == 1 && nft_has(delta, "delete", v) == 0);
        }
    }
#undef VALUE_OF
    CHECK(ssum.unexportable == (uint64_t)expired);
    free(sdelta);
    for (size_t f = 0; f < NFORMATS; f++)
        capture_free(&c2[f]);
    free(full1);
    free(delta);
    accord_store_close(s);
}

/* Every member of object `want` is a member of object `got` (names only). */
static int members_cover(const ajson_value *got, const ajson_value *want, const char *what)
{
    int ok = got && want && got->type == AJSON_OBJECT && want->type == AJSON_OBJECT;
    for (size_t i = 0; ok && i < want->len; i++)
        if (!ajson_get(got, want->u.members[i].key)) {
            fprintf(stderr, "misp-feed %s lacks \"%s\"\n", what, want->u.members[i].key);
            ok = 0;
        }
    return ok;
}

/* The misp-feed files have every member a real MISP feed (CIRCL's OSINT feed) and a real MISP
 * event (PyMISP's test data) have, in the same places. */
static void test_misp_shape(accord_store *s)
{
    const char *shared = t_shared_data();
    if (!shared) {
        printf("skip: ../shared/data is absent (MISP feed shape)\n");
        return;
    }
    char path[512];
    size_t len;
    ajson_arena a;
    ajson_error jerr;
    ajson_arena_init(&a, 0);
    accord_export_filter f = filter_at(AT);
    accord_export_set *set = NULL;
    accord_error err = {0};
    capture c = {.n = 0};
    CHECK(accord_export_select(s, &f, &set, &err) == 0 &&
          export_to(set, "misp-feed", &c, NULL) == 0);
    CHECK(c.n == 3 && strcmp(c.f[2].name, "manifest.json") == 0);
    if (c.n != 3)
        goto out;
    const ajson_value *ev = ajson_parse(&a, c.f[0].p, c.f[0].len, &jerr);
    const ajson_value *man = ajson_parse(&a, c.f[2].p, c.f[2].len, &jerr);
    CHECK(ev && man && man->type == AJSON_OBJECT && man->len == 1);
    snprintf(path, sizeof(path), "%s/misp-feed-circl-sample/misp_dir/manifest.json", shared);
    char *text = t_slurp(path, &len);
    const ajson_value *real = text ? ajson_parse(&a, text, len, &jerr) : NULL;
    CHECK(real && real->len > 0 && man && man->len == 1 &&
          members_cover(&man->u.members[0].value, &real->u.members[0].value, "manifest entry"));
    free(text);
    snprintf(path, sizeof(path),
             "%s/misp-feed-circl-sample/misp_dir/57e27c3d-17a8-4c3b-8195-493e950d210f.json",
             shared);
    text = t_slurp(path, &len);
    real = text ? ajson_parse(&a, text, len, &jerr) : NULL;
    CHECK(members_cover(ev, real, "event file") &&
          members_cover(ajson_get(ev, "Event"), ajson_get(real, "Event"), "Event"));
    free(text);
    snprintf(path, sizeof(path), "%s/misp-pymisp/57c4445b-c548-4654-af0b-4be3950d210f.json",
             shared);
    text = t_slurp(path, &len);
    real = text ? ajson_parse(&a, text, len, &jerr) : NULL;
    const ajson_value *ra = ajson_get(ajson_get(real, "Event"), "Attribute");
    const ajson_value *ga = ajson_get(ajson_get(ev, "Event"), "Attribute");
    CHECK(ra && ga && ra->len > 0 && ga->len > 0 &&
          members_cover(&ga->u.items[0], &ra->u.items[0], "Attribute"));
    free(text);
out:
    capture_free(&c);
    accord_export_set_free(set);
    ajson_arena_free(&a);
}

/* The simple-pattern reader and the pattern compiler give the same set, item for item. */
static void test_simple_patterns(void)
{
    static const char *const patterns[] = {
        "[ipv4-addr:value = '45.33.32.156']",
        "[ipv4-addr:value = '45.33.32.0/24']",
        "[ipv4-addr:value = '45.33.32.0/33']",
        "[ipv4-addr:value = 'not an address']",
        "[ipv6-addr:value = '2001:DB8::1']",
        "[ipv6-addr:value = '2a00:1450:4001::/48']",
        "[domain-name:value = 'Example.ORG']",
        "[domain-name:value = 'exa mple.org']",
        "[domain-name:value = 'example.org' ]",
        "[domain-name:value='example.org']",
        "[url:value = 'http://Evil.example/a?b=c']",
        "[email-addr:value = 'a@evil.example']",
        "[file:hashes.'SHA-256' = "
        "'AABBCCDDEEFF00112233445566778899AABBCCDDEEFF00112233445566778899']",
        "[file:hashes.'MD5' = 'd41d8cd98f00b204e9800998ecf8427e']",
        "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']",
        "[file:hashes.'SHA-1' = 'tooshort']",
        "[file:hashes.'FOO' = 'd41d8cd98f00b204e9800998ecf8427e']",
        "[x509-certificate:hashes.'SHA-256' = "
        "'aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899']",
        "[file:name = 'x.exe']",
        "[process:name = 'x.exe']",
        "[domain-name:value = 'caf\\u00e9.org']",
        "[domain-name:value = 'x.org'] OR [domain-name:value = 'y.org']",
        "[ipv4-addr:value != '1.2.3.4']",
        "[ipv4-addr:value = '1.2.3.4'] WITHIN 5 SECONDS",
    };
    accord_store *s = new_store();
    for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
        if (import_pattern(s, "5d0a1a6e", i + 0x500, patterns[i]) != 0)
            fprintf(stderr, "simple pattern %zu not imported (invalid): %s\n", i, patterns[i]);
    }
    accord_export_set *fast = NULL, *slow = NULL;
    select_both(s, &export_force_compile, &fast, &slow);
    CHECK(fast && slow && fast->nitems == slow->nitems && fast->nitems >= 10);
    CHECK(fast && slow && fast->stats.selected == slow->stats.selected &&
          fast->stats.not_translatable == slow->stats.not_translatable);
    check_same_items(fast, slow);
    accord_export_set_free(fast);
    accord_export_set_free(slow);
    accord_store_close(s);
}

/* Values taken as they are (the normaliser would give them back unchanged) and values the
 * normaliser rewrites or refuses: the same set either way, item for item. */
static void test_unchanged_values(void)
{
    static const char *const values[] = {
        "[ipv4-addr:value = '45.33.32.156']",
        "[ipv4-addr:value = '45.33.32.0/24']",
        "[ipv4-addr:value = '45.33.32.1/24']",
        "[ipv4-addr:value = '45.33.32.1/32']",
        "[ipv4-addr:value = '45.33.032.1']",
        "[ipv4-addr:value = '0.0.0.0/0']",
        "[ipv4-addr:value = '45.33.32.0/08']",
        "[ipv4-addr:value = '45.33.32.0/33']",
        "[domain-name:value = 'a-b_c.example.org']",
        "[domain-name:value = 'Example.org']",
        "[domain-name:value = 'example.org.']",
        "[domain-name:value = 'localhost']",
        "[domain-name:value = 'aa-bb-cc-dd-ee-ff']",
        "[domain-name:value = 'x.123']",
        "[domain-name:value = '1.2.3.4']",
        "[domain-name:value = 'as15169.net']",
        "[url:value = 'http://evil.example/a?b=C']",
        "[url:value = 'http://evil.example']",
        "[url:value = 'HTTP://evil.example/']",
        "[url:value = 'http://Evil.example/']",
        "[url:value = 'http://evil.example:80/']",
        "[url:value = 'http://evil.example:8080/x']",
        "[url:value = 'http://u:p@evil.example/']",
        "[url:value = 'http://[2001:db8::1]/']",
        "[url:value = 'gopher://evil.example']",
        "[url:value = 'ws://evil.example?x']",
        "[url:value = 'ftp://evil.example#f']",
        "[url:value = 'https:///nohost']",
        "[url:value = 'svn+ssh://evil.example/r']",
        "[file:hashes.'MD5' = 'd41d8cd98f00b204e9800998ecf8427e']",
        "[file:hashes.'MD5' = 'D41D8CD98F00B204E9800998ECF8427E']",
        "[file:hashes.'SHA-1' = 'd41d8cd98f00b204e9800998ecf8427e']",
        "[x509-certificate:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']",
    };
    accord_store *s = new_store();
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
        CHECK(import_pattern(s, "5d0a1a6e", i + 0x700, values[i]) == 0);
    accord_export_set *quick = NULL, *slow = NULL;
    select_both(s, &export_force_normalize, &quick, &slow);
    CHECK(quick && slow && quick->nitems == slow->nitems && quick->nitems >= 20);
    CHECK(quick && slow && quick->stats.not_translatable == slow->stats.not_translatable);
    check_same_items(quick, slow);
    accord_export_set_free(quick);
    accord_export_set_free(slow);
    accord_store_close(s);
}

/* The IPv4 shortcut agrees with the normaliser: what it takes, value_normalize gives back. */
static void test_ipv4_canonical(void)
{
    static const char *const v[] = {
        "1.2.3.4",   "0.0.0.0", "255.255.255.255", "10.0.0.1",   "01.2.3.4", "1.2.3.04",
        "1.2.3.256", "1.2.3",   "1.2.3.4.5",       "1.2.3.",     " 1.2.3.4", "1.2.3.4 ",
        "1..3.4",    "1.2.3.a", "1234.1.1.1",      "1.2.3.4/32", "00.1.2.3", "9.99.199.249"};
    int taken = 0;
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        char norm[VALUE_MAX + 1];
        size_t len = strlen(v[i]);
        long n = value_normalize(v[i], len, norm, sizeof(norm));
        int same = n == (long)len && memcmp(norm, v[i], len) == 0;
        if (export_ipv4_canonical(v[i], len)) {
            taken++;
            CHECK(same);
            if (!same)
                fprintf(stderr, "ipv4 shortcut takes %s, normalised to %.*s\n", v[i], (int)n, norm);
        }
    }
    CHECK(taken == 5);
}

/*
 * The radix sort gives the order of export_item_cmp: values sharing long prefixes (URLs past
 * several 8-byte rounds), one value held by several indicators, values that are prefixes of
 * others, runs long enough for the radix passes and short enough for insertion.
 */
static void test_sort_order(void)
{
    accord_store *s = new_store();
    char pat[512];
    for (unsigned i = 0; i < 600; i++) {
        unsigned r = i * 2654435761u;
        switch (i % 6) {
        case 0: /* 40-byte shared prefix, short varying tail */
            snprintf(pat, sizeof(pat), "[url:value = 'http://cdn.example.org/static/assets/js/%u']",
                     r % 97);
            break;
        case 1: /* prefixes of each other */
            snprintf(pat, sizeof(pat), "[url:value = 'http://a.example/%.*s']", (int)(r % 23),
                     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
            break;
        case 2:
            snprintf(pat, sizeof(pat), "[domain-name:value = 'h%x.example.net']", r % 50);
            break;
        case 3:
            snprintf(pat, sizeof(pat), "[ipv4-addr:value = '10.%u.%u.%u']", r % 3, (r >> 8) % 3,
                     (r >> 16) % 255);
            break;
        case 4:
            snprintf(pat, sizeof(pat),
                     "[url:value = 'http://cdn.example.org/static/assets/js/%u'] OR "
                     "[domain-name:value = 'h%x.example.net']",
                     r % 13, r % 7);
            break;
        default:
            snprintf(pat, sizeof(pat), "[file:hashes.'MD5' = '%032x']", r % 40);
            break;
        }
        CHECK(import_pattern(s, "6e0a1a6e", (r ^ 0x5bd1e995u) & 0xffffffu, pat) == 0);
    }
    accord_export_filter f = filter_at(AT);
    accord_export_set *set = NULL;
    accord_error err = {0};
    CHECK(accord_export_select(s, &f, &set, &err) == 0);
    CHECK(set && set->nitems >= 600);
    size_t bad = 0, dups = 0;
    for (size_t i = 1; set && i < set->nitems; i++) {
        int c = export_item_cmp(set, &set->items[i - 1], &set->items[i]);
        bad += c > 0;
        dups += export_item_dup(set, i);
    }
    CHECK(bad == 0);
    CHECK(dups > 100); /* the fixture does hold shared values */
    /* the sort moves items in place: each one is still there once (per indicator, as many
     * items as it holds, no item twice) */
    size_t *per = set ? calloc(set->ninds + 1, sizeof(*per)) : NULL, twice = 0, wrong = 0;
    for (size_t i = 0; per && i < set->nitems; i++) {
        per[set->items[i].ind]++;
        twice += i > 0 && export_item_dup(set, i) && set->items[i - 1].ind == set->items[i].ind;
    }
    for (size_t j = 0; per && j < set->ninds; j++)
        wrong += per[j] != set->inds[j].nitems;
    CHECK(per != NULL);
    CHECK(twice == 0);
    CHECK(wrong == 0);
    free(per);
    accord_export_set_free(set);
    accord_store_close(s);
}

/*
 * Every format streams: its bytes reach the callback in pieces of about EXPORT_FLUSH_AT, never as
 * one buffer of the whole output, so a misp-feed event file of gigabytes (one event holds the
 * whole selection) costs the writer 64 KiB and a byte per value, not the file's size.
 */
static void test_streaming(void)
{
    enum { N = 4000 };
    accord_store *s = new_store();
    size_t cap = (size_t)N * 400 + 64, len = 0;
    char *doc = malloc(cap);
    CHECK(doc != NULL);
    if (!doc)
        return;
    len += (size_t)snprintf(doc, cap,
                            "{\"type\":\"bundle\",\"id\":\"bundle--5e000000-0000-4000-"
                            "8000-000000000001\",\"objects\":[");
    for (int i = 0; i < N; i++)
        len += (size_t)snprintf(
            doc + len, cap - len,
            "%s{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--5e000000-"
            "0000-4000-8000-%012d\",\"created\":\"2025-01-01T00:00:00.000Z\",\"modified\":"
            "\"2025-01-01T00:00:00.000Z\",\"name\":\"s%d\",\"pattern\":\"[domain-name:value = "
            "'s%d.stream.top']\",\"pattern_type\":\"stix\",\"valid_from\":"
            "\"2025-01-01T00:00:00Z\"}",
            i ? "," : "", i, i, i);
    snprintf(doc + len, cap - len, "]}");
    CHECK(t_import_text(s, doc) == 0);
    free(doc);
    accord_export_filter f = filter_at(AT);
    accord_export_set *set = NULL;
    accord_error err = {0};
    CHECK(accord_export_select(s, &f, &set, &err) == 0);
    for (size_t i = 0; set && i < NFORMATS; i++) {
        capture c = {.n = 0};
        CHECK(export_to(set, formats[i], &c, NULL) == 0);
        size_t total = 0;
        for (int k = 0; k < c.n; k++)
            total += c.f[k].len;
        /* a flush happens once 64 KiB are pending: one line more at most */
        if (c.max_chunk > EXPORT_FLUSH_AT + 4096) {
            fprintf(stderr, "%s: a piece of %zu bytes of %zu\n", formats[i], c.max_chunk, total);
            CHECK(0);
        }
        if (strcmp(formats[i], "misp-feed") == 0 || strcmp(formats[i], "stix") == 0)
            CHECK(total > 8 * EXPORT_FLUSH_AT); /* large enough to have been split */
        capture_free(&c);
    }
    accord_export_set_free(set);
    accord_store_close(s);
}

int main(void)
{
    if (t_mkdtemp(tmpdir, sizeof(tmpdir), "export"))
        return 1;
    test_fields();
    test_cursor();
    accord_store *s = fixture_store();
    test_golden(s);
    test_filters(s);
    test_net_and_options(s);
    test_sid_stable(s);
    test_misp_shape(s);
    test_table_vs_body(s);
    accord_store_close(s);
    test_disappears();
    test_warninglists();
    test_feeds();
    test_simple_patterns();
    test_unchanged_values();
    test_ipv4_canonical();
    test_sort_order();
    test_boundaries();
    test_nft_stable();
    test_misp_uniform();
    test_disappears_random();
    test_streaming();
    t_rmtree(tmpdir);
    return t_done();
}
