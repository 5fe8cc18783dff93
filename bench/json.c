/*
 * bench/json.c - how fast util/json.c turns STIX objects into trees, next to jansson.
 *
 * Usage: bench_json [FILE]
 *
 * Without FILE it generates about 100 MB of STIX-like objects in memory, one object per document
 * as the importer sees them: indicators with patterns, SCOs (ipv4-addr, domain-name, url, file,
 * email-addr), relationships and malware, 300-1500 bytes each, from a fixed seed so that every run
 * measures the same bytes.  With FILE it reads the file: a file that is one JSON value is one
 * document; any other file is taken as JSON lines, one document per non-empty line.
 *
 * Each document is parsed by (a) ajson_parse with the arena reset between documents, as import.c
 * does, and (b) jansson's json_loadb + json_decref with the same strictness
 * (JSON_REJECT_DUPLICATES | JSON_DECODE_ANY).  ajson_minify, which import.c runs on every object
 * it stores, is timed too.  Each figure is the best of three runs on one core.  It prints figures
 * and asserts nothing; a document that either parser rejects is counted and reported.
 */
#include "util/json.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GEN_TARGET ((size_t)100 * 1000 * 1000)
#define RUNS 3

typedef struct buf {
    char *p;
    size_t len, cap;
} buf;

typedef struct docs {
    const char *text;
    size_t *off, *len;
    size_t n, cap, bytes;
} docs;

static void die(const char *what)
{
    fprintf(stderr, "bench_json: %s\n", what);
    exit(1);
}

static void buf_reserve(buf *b, size_t more)
{
    if (b->cap - b->len > more)
        return;
    size_t cap = b->cap ? b->cap : 1 << 20;
    while (cap - b->len <= more)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p)
        die("out of memory");
    b->p = p;
    b->cap = cap;
}

static void buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void buf_printf(buf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0)
            die("vsnprintf failed");
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        buf_reserve(b, (size_t)n + 1);
    }
}

static void docs_add(docs *d, size_t off, size_t len)
{
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 4096;
        d->off = realloc(d->off, d->cap * sizeof(*d->off));
        d->len = realloc(d->len, d->cap * sizeof(*d->len));
        if (!d->off || !d->len)
            die("out of memory");
    }
    d->off[d->n] = off;
    d->len[d->n++] = len;
    d->bytes += len;
}

/* ---- generated STIX-like objects ---- */

static uint64_t rng_state = 0x2545F4914F6CDD1Du;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static unsigned pick(unsigned n)
{
    return (unsigned)(rng() % n);
}

static const char *const words[] = {
    "campaign",  "actor",   "loader",  "beacon",   "phishing", "credential",  "exfiltration",
    "payload",   "dropper", "command", "control",  "server",   "observed",    "targeting",
    "energy",    "finance", "sector",  "malware",  "variant",  "persistence", "registry",
    "scheduled", "task",    "lateral", "movement", "the",      "a",           "of",
    "and",       "with",    "from",    "via",      "in",       "report",      "analysis"};

static void put_uuid(buf *b, const char *type)
{
    uint64_t x = rng(), y = rng();
    buf_printf(b, "\"%s--%08x-%04x-4%03x-%04x-%012llx\"", type, (unsigned)(x >> 32),
               (unsigned)(x >> 16) & 0xffff, (unsigned)x & 0xfff,
               0x8000 | ((unsigned)(y >> 48) & 0x3fff), (unsigned long long)(y & 0xffffffffffffu));
}

static void put_time(buf *b)
{
    buf_printf(b, "\"20%02u-%02u-%02uT%02u:%02u:%02u.%03uZ\"", 15 + pick(10), 1 + pick(12),
               1 + pick(28), pick(24), pick(60), pick(60), pick(1000));
}

static void put_hex(buf *b, unsigned n)
{
    buf_reserve(b, n + 1);
    for (unsigned i = 0; i < n; i++)
        b->p[b->len++] = "0123456789abcdef"[pick(16)];
}

/* A sentence of n words, with now and then an escape or a non-ASCII character. */
static void put_text(buf *b, unsigned n)
{
    buf_printf(b, "\"");
    for (unsigned i = 0; i < n; i++) {
        buf_printf(b, "%s%s", i ? " " : "", words[pick(sizeof(words) / sizeof(words[0]))]);
        unsigned r = pick(40);
        if (r == 0)
            buf_printf(b, " \\\"quoted\\\"");
        else if (r == 1)
            buf_printf(b, " caf\xc3\xa9");
        else if (r == 2)
            buf_printf(b, "\\n");
    }
    buf_printf(b, "\"");
}

static void put_common(buf *b, const char *type, int sdo)
{
    buf_printf(b, "{\"type\":\"%s\",\"spec_version\":\"2.1\",\"id\":", type);
    put_uuid(b, type);
    if (!sdo)
        return;
    buf_printf(b, ",\"created_by_ref\":");
    put_uuid(b, "identity");
    buf_printf(b, ",\"created\":");
    put_time(b);
    buf_printf(b, ",\"modified\":");
    put_time(b);
}

static void put_tail(buf *b)
{
    if (pick(2)) {
        buf_printf(b, ",\"labels\":[");
        for (unsigned i = 0, n = 1 + pick(4); i < n; i++)
            buf_printf(b, "%s\"%s\"", i ? "," : "", words[pick(20)]);
        buf_printf(b, "]");
    }
    if (pick(3) == 0) {
        buf_printf(b,
                   ",\"external_references\":[{\"source_name\":\"vendor-report\",\"url\":"
                   "\"https://reports.example.com/%u/%s.html\",\"external_id\":\"R-%u\"}]",
                   pick(100000), words[pick(20)], pick(1000000));
    }
    buf_printf(b, ",\"object_marking_refs\":[\"marking-definition--f88d31f6-486f-44da-b317-"
                  "01333bde0b82\"]}");
}

static void put_indicator(buf *b)
{
    put_common(b, "indicator", 1);
    buf_printf(b, ",\"name\":");
    put_text(b, 2 + pick(5));
    buf_printf(b, ",\"description\":");
    put_text(b, 5 + pick(60));
    buf_printf(b, ",\"indicator_types\":[\"malicious-activity\"],\"pattern\":\"[");
    switch (pick(4)) {
    case 0:
        buf_printf(b, "file:hashes.'SHA-256' = '");
        put_hex(b, 64);
        buf_printf(b, "'");
        break;
    case 1:
        buf_printf(b, "ipv4-addr:value = '%u.%u.%u.%u/%u'", pick(224), pick(256), pick(256),
                   pick(256), 16 + pick(17));
        break;
    case 2:
        buf_printf(b,
                   "domain-name:value = '%s-%s.example.net' OR url:value = "
                   "'http://%s.example.org/%s?id=%u'",
                   words[pick(20)], words[pick(20)], words[pick(20)], words[pick(20)], pick(9999));
        break;
    default:
        buf_printf(b, "email-addr:value = '%s@%s.example.com' AND file:size > %u", words[pick(20)],
                   words[pick(20)], pick(1 << 20));
    }
    buf_printf(b, "]\",\"pattern_type\":\"stix\",\"valid_from\":");
    put_time(b);
    buf_printf(b,
               ",\"confidence\":%u,\"kill_chain_phases\":[{\"kill_chain_name\":"
               "\"mitre-attack\",\"phase_name\":\"%s\"}]",
               pick(101), words[pick(20)]);
    put_tail(b);
}

static void put_sco(buf *b)
{
    switch (pick(5)) {
    case 0:
        put_common(b, "ipv4-addr", 0);
        buf_printf(b, ",\"value\":\"%u.%u.%u.%u\"", pick(224), pick(256), pick(256), pick(256));
        break;
    case 1:
        put_common(b, "domain-name", 0);
        buf_printf(b, ",\"value\":\"%s-%u.%s.example\",\"resolves_to_refs\":[", words[pick(20)],
                   pick(99999), words[pick(20)]);
        put_uuid(b, "ipv4-addr");
        buf_printf(b, "]");
        break;
    case 2:
        put_common(b, "url", 0);
        buf_printf(b, ",\"value\":\"https://%s.example.com/%s/%s?q=%u&r=%s\"", words[pick(20)],
                   words[pick(20)], words[pick(20)], pick(1000000), words[pick(20)]);
        break;
    case 3:
        put_common(b, "file", 0);
        buf_printf(b, ",\"hashes\":{\"MD5\":\"");
        put_hex(b, 32);
        buf_printf(b, "\",\"SHA-1\":\"");
        put_hex(b, 40);
        buf_printf(b, "\",\"SHA-256\":\"");
        put_hex(b, 64);
        buf_printf(b, "\"},\"size\":%u,\"name\":\"%s.exe\",\"x_entropy\":%u.%02u", pick(1 << 24),
                   words[pick(20)], pick(8), pick(100));
        break;
    default:
        put_common(b, "email-addr", 0);
        buf_printf(b, ",\"value\":\"%s.%s@%s.example.org\",\"display_name\":", words[pick(20)],
                   words[pick(20)], words[pick(20)]);
        put_text(b, 2);
    }
    buf_printf(b, ",\"defanged\":%s,\"x_source\":", pick(2) ? "true" : "false");
    put_text(b, 20 + pick(60));
    put_tail(b);
}

static void put_relationship(buf *b)
{
    put_common(b, "relationship", 1);
    buf_printf(
        b, ",\"relationship_type\":\"%s\",\"source_ref\":", pick(2) ? "indicates" : "related-to");
    put_uuid(b, "indicator");
    buf_printf(b, ",\"target_ref\":");
    put_uuid(b, "malware");
    buf_printf(b, ",\"description\":");
    put_text(b, pick(40));
    buf_printf(b, ",\"start_time\":");
    put_time(b);
    put_tail(b);
}

static void put_malware(buf *b)
{
    put_common(b, "malware", 1);
    buf_printf(b, ",\"name\":");
    put_text(b, 2);
    buf_printf(b,
               ",\"is_family\":%s,\"malware_types\":[\"backdoor\",\"remote-access-trojan\"],"
               "\"description\":",
               pick(2) ? "true" : "false");
    put_text(b, 30 + pick(150));
    buf_printf(b, ",\"aliases\":[");
    put_text(b, 1);
    buf_printf(b, ",");
    put_text(b, 1);
    buf_printf(b, "]");
    put_tail(b);
}

static void generate(buf *b, docs *d)
{
    while (b->len < GEN_TARGET) {
        size_t start = b->len;
        unsigned r = pick(10);
        if (r < 4)
            put_indicator(b);
        else if (r < 7)
            put_sco(b);
        else if (r < 9)
            put_relationship(b);
        else
            put_malware(b);
        docs_add(d, start, b->len - start);
        buf_printf(b, "\n");
    }
}

/* ---- documents from a file ---- */

static void load_file(const char *path, buf *b, docs *d)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die("cannot open the file");
    char chunk[1 << 16];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        buf_reserve(b, n);
        memcpy(b->p + b->len, chunk, n);
        b->len += n;
    }
    fclose(f);
    ajson_arena a;
    ajson_error err;
    ajson_arena_init(&a, 0);
    int whole = ajson_parse(&a, b->p, b->len, &err) != NULL;
    ajson_arena_free(&a);
    if (whole) {
        docs_add(d, 0, b->len);
        return;
    }
    for (size_t i = 0; i < b->len;) {
        const char *nl = memchr(b->p + i, '\n', b->len - i);
        size_t end = nl ? (size_t)(nl - b->p) : b->len;
        if (end > i)
            docs_add(d, i, end - i);
        i = end + 1;
    }
}

/* ---- timing ---- */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct result {
    double secs;
    size_t failed;
    uint64_t sink;
} result;

static result run_ajson(const docs *d)
{
    ajson_arena a;
    ajson_error err;
    result r = {0, 0, 0};
    ajson_arena_init(&a, 0);
    double t0 = now();
    for (size_t i = 0; i < d->n; i++) {
        ajson_arena_reset(&a);
        const ajson_value *v = ajson_parse(&a, d->text + d->off[i], d->len[i], &err);
        if (v)
            r.sink += v->len;
        else
            r.failed++;
    }
    r.secs = now() - t0;
    ajson_arena_free(&a);
    return r;
}

static result run_jansson(const docs *d)
{
    json_error_t err;
    result r = {0, 0, 0};
    double t0 = now();
    for (size_t i = 0; i < d->n; i++) {
        json_t *j = json_loadb(d->text + d->off[i], d->len[i],
                               JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
        if (j)
            r.sink += json_object_size(j);
        else
            r.failed++;
        json_decref(j);
    }
    r.secs = now() - t0;
    return r;
}

static result run_minify(const docs *d)
{
    size_t max = 0;
    for (size_t i = 0; i < d->n; i++)
        if (d->len[i] > max)
            max = d->len[i];
    char *out = malloc(max ? max : 1);
    if (!out)
        die("out of memory");
    result r = {0, 0, 0};
    double t0 = now();
    for (size_t i = 0; i < d->n; i++)
        r.sink += ajson_minify(d->text + d->off[i], d->len[i], out);
    r.secs = now() - t0;
    free(out);
    return r;
}

static result best_of(result (*run)(const docs *), const docs *d)
{
    result best = run(d);
    for (int i = 1; i < RUNS; i++) {
        result r = run(d);
        if (r.secs < best.secs)
            best = r;
    }
    return best;
}

static void report(const char *name, const docs *d, result r)
{
    double per_sec = (double)d->n / r.secs;
    printf("%s: %.1f MB/s (", name, (double)d->bytes / r.secs / 1e6);
    if (per_sec >= 1e4)
        printf("%.2f M objects/s)", per_sec / 1e6);
    else
        printf("%.1f documents/s)", per_sec);
    if (r.failed)
        printf(" [%zu of %zu documents rejected]", r.failed, d->n);
}

int main(int argc, char **argv)
{
    buf b = {NULL, 0, 0};
    docs d;
    memset(&d, 0, sizeof(d));
    if (argc > 2) {
        fprintf(stderr, "usage: %s [FILE]\n", argv[0]);
        return 2;
    }
    buf_reserve(&b, 1);
    if (argc == 2)
        load_file(argv[1], &b, &d);
    else
        generate(&b, &d);
    d.text = b.p;
    if (!d.n)
        die("no documents");
    printf("%zu documents, %.1f MB, %.0f bytes on average%s\n", d.n, (double)d.bytes / 1e6,
           (double)d.bytes / (double)d.n, argc == 2 ? "" : " (generated STIX-like objects)");
    result ours = best_of(run_ajson, &d);
    result theirs = best_of(run_jansson, &d);
    result mini = best_of(run_minify, &d);
    report("accord json", &d, ours);
    printf("; ");
    report("jansson", &d, theirs);
    printf("; ratio %.1fx\n", theirs.secs / ours.secs);
    report("accord minify", &d, mini);
    printf("\n");
    free(b.p);
    free(d.off);
    free(d.len);
    return 0;
}
