/*
 * test_store.c - the store's contract through the public API: versions, duplicates, conflicts,
 * latest-version tracking, the value index, the sorted-run indexes under many small transactions,
 * two writers on one store, strict imports, pagination in added order.
 */
#include "accord.h"
#include "t.h"

#include <stdarg.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "t_import.h"

static char tmpdir[256];
static int store_no;

/* A fresh store in a new directory under tmpdir. */
static accord_store *new_store(void)
{
    char dir[300];
    snprintf(dir, sizeof(dir), "%s/s%d", tmpdir, store_no++);
    return t_store_open(dir);
}

/* Imports text into collection coll (NULL = default); returns the library's code. */
static int import_into(accord_store *s, const char *coll, const char *text, unsigned flags,
                       uint32_t batch, accord_import_stats *st)
{
    accord_import_options o = {.flags = flags, .batch_objects = batch, .collection = coll};
    accord_error err = {0}; /* given: failures some cases want are not printed */
    return t_import_with(s, text, &o, st, &err);
}

static int import_text(accord_store *s, const char *text, unsigned flags, uint32_t batch,
                       accord_import_stats *st)
{
    return import_into(s, NULL, text, flags, batch, st);
}

#define IND_FMT                                                                                    \
    "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--%s\","                 \
    "\"created\":\"2024-01-01T00:00:00.000Z\",\"modified\":\"%s\",\"name\":\"%s\","              \
    "\"pattern\":\"[ipv4-addr:value = '%s']\",\"pattern_type\":\"stix\","                         \
    "\"valid_from\":\"2024-01-01T00:00:00Z\"%s}"

static const char *U1 = "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
static const char *U2 = "0f0e1a7c-3b7d-4c29-9f5c-6a1f0e8c2b44";

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    static char bufs[8][4096];
    static int i;
    char *b = bufs[i++ % 8];
    va_list ap;
    va_start(ap, f);
    vsnprintf(b, 4096, f, ap);
    va_end(ap);
    return b;
}

typedef struct collected {
    int n;
    char modified[16][40];
    char name[16][64];
    int latest[16], revoked[16];
    int64_t seq[16], added[16];
} collected;

static int collect(void *ud, const accord_record *r)
{
    collected *c = ud;
    if (c->n < 16) {
        snprintf(c->modified[c->n], 40, "%s", r->modified);
        const char *p = strstr(r->body, "\"name\":\"");
        snprintf(c->name[c->n], 64, "%.*s", p ? (int)(strchr(p + 8, '"') - p - 8) : 0,
                 p ? p + 8 : "");
        c->latest[c->n] = r->latest;
        c->revoked[c->n] = r->revoked;
        c->seq[c->n] = r->seq;
        c->added[c->n] = r->added_us;
    }
    c->n++;
    return 0;
}

static void test_versions(void)
{
    accord_store *s = new_store();
    accord_import_stats st;
    const char *v1 = fmt(IND_FMT, U1, "2024-01-01T00:00:00.000Z", "first", "198.51.100.7", "");
    CHECK(import_text(s, v1, 0, 0, &st) == 0);
    CHECK(st.accepted == 1 && st.read == 1);
    /* re-import: duplicate, nothing written */
    CHECK(import_text(s, v1, 0, 0, &st) == 0);
    CHECK(st.duplicates == 1 && st.accepted == 0);
    /* a newer version */
    const char *v3 = fmt(IND_FMT, U1, "2024-03-01T00:00:00.000Z", "third", "198.51.100.7", "");
    CHECK(import_text(s, v3, 0, 0, &st) == 0);
    CHECK(st.versions == 1);
    /* an older version arriving late stays superseded */
    const char *v2 = fmt(IND_FMT, U1, "2024-02-01T00:00:00.000Z", "second", "198.51.100.7", "");
    CHECK(import_text(s, v2, 0, 0, &st) == 0);
    CHECK(st.versions == 1);
    collected c = {0};
    accord_error err;
    CHECK(accord_store_get(s, fmt("indicator--%s", U1), 0, collect, &c, &err) == 0);
    CHECK(c.n == 1);
    CHECK_STR(c.name[0], "third");
    memset(&c, 0, sizeof(c));
    CHECK(accord_store_get(s, fmt("indicator--%s", U1), ACCORD_GET_ALL_VERSIONS, collect, &c,
                           &err) == 0);
    CHECK(c.n == 3);
    CHECK_STR(c.name[0], "first");
    CHECK_STR(c.name[1], "second");
    CHECK_STR(c.name[2], "third");
    CHECK(!c.latest[0] && !c.latest[1] && c.latest[2]);
    /* same version, other content: conflict, the stored one kept */
    const char *v3b = fmt(IND_FMT, U1, "2024-03-01T00:00:00.000Z", "tampered", "198.51.100.7", "");
    CHECK(import_text(s, v3b, 0, 0, &st) == ACCORD_ESTIX);
    CHECK(st.conflicts == 1);
    memset(&c, 0, sizeof(c));
    accord_store_get(s, fmt("indicator--%s", U1), 0, collect, &c, &err);
    CHECK_STR(c.name[0], "third");
    /* the same instant written with other precision is the same version */
    const char *v3c = fmt(IND_FMT, U1, "2024-03-01T00:00:00.000000Z", "third", "198.51.100.7", "");
    CHECK(import_text(s, v3c, 0, 0, &st) == ACCORD_ESTIX);
    CHECK(st.conflicts == 1 && st.versions == 0);
    /* revocation is a version like any other; scans leave revoked objects out by default */
    const char *v4 = fmt(IND_FMT, U1, "2024-04-01T00:00:00.000Z", "fourth", "198.51.100.7",
                         ",\"revoked\":true");
    CHECK(import_text(s, v4, 0, 0, &st) == 0);
    CHECK(st.versions == 1);
    memset(&c, 0, sizeof(c));
    CHECK(accord_store_scan(s, NULL, collect, &c, &err) == 0);
    CHECK(c.n == 0);
    accord_scan_filter f = {.include_revoked = 1};
    memset(&c, 0, sizeof(c));
    CHECK(accord_store_scan(s, &f, collect, &c, &err) == 0);
    CHECK(c.n == 1 && c.revoked[0]);
    CHECK(accord_store_get(s, "indicator--00000000-0000-4000-8000-000000000000", 0, collect, &c,
                           &err) == ACCORD_ENOTFOUND);
    accord_store_stats ss;
    CHECK(accord_store_stats_get(s, &ss, NULL, NULL, &err) == 0);
    CHECK(ss.versions == 4 && ss.objects == 1 && ss.revoked == 1);
    accord_store_close(s);
}

static void test_search(void)
{
    accord_store *s = new_store();
    accord_import_stats st;
    char text[8192];
    snprintf(text, sizeof(text),
             "[" IND_FMT ",{\"type\":\"ipv4-addr\",\"spec_version\":\"2.1\","
             "\"id\":\"ipv4-addr--%s\",\"value\":\"198.51.100.7\"},"
             "{\"type\":\"domain-name\",\"spec_version\":\"2.1\","
             "\"id\":\"domain-name--3c5a4c1e-1f4b-5d2e-9a41-6f0c2b1d8e77\","
             "\"value\":\"Evil.Example.COM\"}]",
             U1, "2024-01-01T00:00:00.000Z", "ind", "198.51.100.7", "", U2);
    CHECK(import_text(s, text, 0, 0, &st) == 0);
    CHECK(st.accepted == 3);
    collected c = {0};
    accord_error err;
    CHECK(accord_store_search(s, "198.51.100.7", collect, &c, &err) == 0);
    CHECK(c.n == 2);
    memset(&c, 0, sizeof(c));
    CHECK(accord_store_search(s, "evil.example.com", collect, &c, &err) == 0);
    CHECK(c.n == 1);
    memset(&c, 0, sizeof(c));
    CHECK(accord_store_search(s, "EVIL.example.com.", collect, &c, &err) == 0);
    CHECK(c.n == 1);
    memset(&c, 0, sizeof(c));
    CHECK(accord_store_search(s, "198.51.100.8", collect, &c, &err) == 0);
    CHECK(c.n == 0);
    accord_store_close(s);
}

typedef struct page {
    int64_t total, last_seq, last_added, bad;
} page;

static int page_cb(void *ud, const accord_record *r)
{
    page *p = ud;
    if (r->seq <= p->last_seq || r->added_us <= p->last_added)
        p->bad++;
    p->last_seq = r->seq;
    p->last_added = r->added_us;
    p->total++;
    return 0;
}

/* Many small transactions: the run indexes merge, and every object stays findable. */
static void test_runs(void)
{
    accord_store *s = new_store();
    enum { N = 3000 };
    size_t cap = (size_t)N * 400 + 16;
    char *text = malloc(cap);
    size_t len = 0;
    for (int i = 0; i < N; i++) {
        char u[40];
        snprintf(u, sizeof(u), "%08x-1111-4222-8333-%012x", i, i * 7);
        char ip[32];
        snprintf(ip, sizeof(ip), "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        len += (size_t)snprintf(text + len, cap - len, IND_FMT "\n", u,
                                "2024-01-01T00:00:00.000Z", "n", ip, "");
    }
    accord_import_stats st;
    CHECK(import_text(s, text, 0, 7, &st) == 0);
    CHECK(st.accepted == N);
    accord_store_stats ss;
    accord_error err;
    CHECK(accord_store_stats_get(s, &ss, NULL, NULL, &err) == 0);
    /* 3000/7 = 429 transactions of 3 kinds; merging four at a time keeps few runs */
    CHECK(ss.index_runs < 3 * 4 * 6);
    CHECK(ss.index_entries == 3 * N);
    int missing = 0;
    for (int i = 0; i < N; i += 37) {
        char id[64], ip[32];
        snprintf(id, sizeof(id), "indicator--%08x-1111-4222-8333-%012x", i, i * 7);
        snprintf(ip, sizeof(ip), "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        collected c = {0};
        if (accord_store_get(s, id, 0, collect, &c, &err) != 0 || c.n != 1)
            missing++;
        memset(&c, 0, sizeof(c));
        if (accord_store_search(s, ip, collect, &c, &err) != 0 || c.n != 1)
            missing++;
    }
    CHECK(missing == 0);
    /* everything again: all duplicates, found through the merged runs */
    CHECK(import_text(s, text, 0, 1000, &st) == 0);
    CHECK(st.duplicates == N && st.accepted == 0);
    /* pagination in added order returns every version once, added strictly increasing */
    accord_scan_filter f = {.limit = 100};
    page pg = {0};
    for (;;) {
        int64_t before = pg.total;
        CHECK(accord_store_scan(s, &f, page_cb, &pg, &err) == 0);
        if (pg.total == before)
            break;
        f.after_seq = pg.last_seq;
    }
    int64_t total = pg.total, bad = pg.bad;
    CHECK(total == N);
    CHECK(bad == 0);
    free(text);
    accord_store_close(s);
}

/* Two handles (as two processes) write the same store: duplicates are seen across them. */
static void test_two_writers(void)
{
    char dir[300];
    snprintf(dir, sizeof(dir), "%s/s%d", tmpdir, store_no++);
    accord_store *a, *b;
    accord_error err;
    CHECK(accord_store_open(dir, 0, &a, &err) == 0);
    CHECK(accord_store_open(dir, 0, &b, &err) == 0);
    accord_import_stats st;
    const char *v1 = fmt(IND_FMT, U2, "2024-01-01T00:00:00.000Z", "a", "203.0.113.9", "");
    const char *v2 = fmt(IND_FMT, U2, "2024-05-01T00:00:00.000Z", "b", "203.0.113.9", "");
    CHECK(import_text(a, v1, 0, 0, &st) == 0 && st.accepted == 1);
    CHECK(import_text(b, v1, 0, 0, &st) == 0 && st.duplicates == 1); /* b loads after a wrote */
    CHECK(import_text(b, v2, 0, 0, &st) == 0 && st.versions == 1);
    CHECK(import_text(a, v2, 0, 0, &st) == 0 && st.duplicates == 1); /* a catches up */
    collected c = {0};
    CHECK(accord_store_get(a, fmt("indicator--%s", U2), ACCORD_GET_ALL_VERSIONS, collect, &c,
                           &err) == 0);
    CHECK(c.n == 2 && c.latest[1] && !c.latest[0]);
    accord_store_close(a);
    accord_store_close(b);
}

static void test_strict_and_broken(void)
{
    accord_store *s = new_store();
    accord_import_stats st;
    char text[8192];
    snprintf(text, sizeof(text),
             "{\"type\":\"bundle\",\"id\":\"bundle--%s\",\"objects\":[" IND_FMT
             ",{\"type\":\"indicator\",\"id\":\"indicator--%s\"}]}",
             U2, U1, "2024-01-01T00:00:00.000Z", "ok", "192.0.2.1", "", U2);
    CHECK(import_text(s, text, ACCORD_IMPORT_STRICT, 0, &st) == ACCORD_ESTRICT);
    accord_store_stats ss;
    accord_error err;
    accord_store_stats_get(s, &ss, NULL, NULL, &err);
    CHECK(ss.versions == 0);
    CHECK(import_text(s, text, 0, 0, &st) == ACCORD_ESTIX);
    CHECK(st.accepted == 1 && st.rejected == 1);
    /* a truncated bundle: what came before stays, the error names the byte */
    accord_store *t = new_store();
    size_t cut = strlen(text) - 40;
    text[cut] = '\0';
    int fd = t_memfd(text, cut);
    CHECK(fd >= 0);
    accord_error e2 = {0};
    CHECK(accord_import_fd(t, fd, NULL, &st, &e2) == ACCORD_EJSON);
    CHECK(strstr(e2.msg, "byte ") != NULL);
    CHECK(strstr(e2.msg, "truncated") != NULL);
    CHECK(st.accepted == 1);
    close(fd);
    accord_store_close(s);
    accord_store_close(t);
}

static int count_coll(void *ud, const accord_collection *c)
{
    int *n = ud;
    (*n)++;
    return c->id && strlen(c->id) == 36 ? 0 : 1;
}

/* One version in several collections; latest is per collection; removal keeps the objects. */
static void test_collections(void)
{
    accord_store *s = new_store();
    accord_error err;
    int n = 0;
    CHECK(accord_collection_list(s, NULL, count_coll, &n, &err) == 0);
    CHECK(n == 1);
    char id[37] = "";
    CHECK(accord_collection_add(s, NULL, "Shared", "shared", NULL, id, &err) == 0);
    CHECK(strlen(id) == 36);
    CHECK(accord_collection_add(s, NULL, "Again", "shared", NULL, NULL, &err) == ACCORD_EINVAL);
    CHECK(accord_collection_add(s, "nope", "X", NULL, NULL, NULL, &err) == ACCORD_ENOTFOUND);
    CHECK(accord_root_add(s, "Bad Name", "x", NULL, 0, &err) == ACCORD_EINVAL);
    CHECK(accord_root_add(s, "isac", "ISAC", NULL, 0, &err) == 0);
    CHECK(accord_collection_add(s, "isac", "Shared there", "shared", NULL, NULL, &err) == 0);
    accord_import_stats st;
    const char *v1 = fmt(IND_FMT, U1, "2024-01-01T00:00:00.000Z", "one", "192.0.2.10", "");
    const char *v2 = fmt(IND_FMT, U1, "2024-02-01T00:00:00.000Z", "two", "192.0.2.10", "");
    CHECK(import_into(s, NULL, v1, 0, 0, &st) == 0 && st.accepted == 1);
    /* "shared" is ambiguous now (two roots); the id is not */
    CHECK(import_into(s, "shared", v1, 0, 0, &st) == ACCORD_EINVAL);
    CHECK(import_into(s, id, v1, 0, 0, &st) == 0 && st.accepted == 1 && st.duplicates == 0);
    CHECK(import_into(s, id, v1, 0, 0, &st) == 0 && st.duplicates == 1);
    CHECK(import_into(s, id, v2, 0, 0, &st) == 0 && st.versions == 1);
    accord_store_stats ss;
    CHECK(accord_store_stats_get(s, &ss, NULL, NULL, &err) == 0);
    CHECK(ss.versions == 2);
    collected c = {0};
    accord_scan_filter f = {.collection = id};
    CHECK(accord_store_scan(s, &f, collect, &c, &err) == 0);
    CHECK(c.n == 1 && strcmp(c.name[0], "two") == 0);
    memset(&c, 0, sizeof(c));
    f.collection = "default";
    CHECK(accord_store_scan(s, &f, collect, &c, &err) == 0);
    CHECK(c.n == 1 && strcmp(c.name[0], "one") == 0); /* v2 is not in the default collection */
    memset(&c, 0, sizeof(c));
    f.collection = id;
    f.versions = ACCORD_VERSIONS_ALL;
    CHECK(accord_store_scan(s, &f, collect, &c, &err) == 0);
    CHECK(c.n == 2 && c.added[0] < c.added[1]);
    /* first version, and the id filter (through the id index) */
    memset(&c, 0, sizeof(c));
    const char *ids[] = {fmt("indicator--%s", U1), NULL};
    const char *none[] = {"indicator--00000000-0000-4000-8000-000000000000", NULL};
    accord_scan_filter g = {.collection = id, .ids = ids, .versions = ACCORD_VERSIONS_FIRST};
    CHECK(accord_store_scan(s, &g, collect, &c, &err) == 0);
    CHECK(c.n == 1 && strcmp(c.name[0], "one") == 0);
    memset(&c, 0, sizeof(c));
    g.ids = none;
    CHECK(accord_store_scan(s, &g, collect, &c, &err) == 0);
    CHECK(c.n == 0);
    const char *vl[] = {"2024-02-01T00:00:00.000Z", NULL};
    accord_scan_filter h = {.ids = ids, .versions = ACCORD_VERSIONS_LIST, .version_list = vl};
    memset(&c, 0, sizeof(c));
    CHECK(accord_store_scan(s, &h, collect, &c, &err) == 0);
    CHECK(c.n == 1 && strcmp(c.name[0], "two") == 0);
    CHECK(accord_collection_remove(s, "default", &err) == ACCORD_EINVAL);
    CHECK(accord_collection_remove(s, id, &err) == 0);
    CHECK(accord_store_scan(s, &f, collect, &c, &err) == ACCORD_ENOTFOUND);
    memset(&c, 0, sizeof(c));
    CHECK(accord_store_get(s, fmt("indicator--%s", U1), ACCORD_GET_ALL_VERSIONS, collect, &c,
                           &err) == 0);
    CHECK(c.n == 2);
    accord_store_close(s);
}

int main(void)
{
    if (t_mkdtemp(tmpdir, sizeof(tmpdir), "store"))
        return 1;
    test_versions();
    test_search();
    test_runs();
    test_two_writers();
    test_strict_and_broken();
    test_collections();
    t_rmtree(tmpdir);
    return t_done();
}
