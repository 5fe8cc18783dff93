/*
 * fuzz/match_line.c - libFuzzer target for the telemetry line reader of the matcher.
 *
 * Each input is used two ways.  First, as one line for the JSON field extractor, checked
 * differentially against the strict parser: when util/json.c accepts the line as an object, the
 * extractor must accept it too and return the same fields (same order, roles, bytes), or the
 * target traps.  Second, as a buffer of lines for a matcher over a small fixed snapshot that has
 * a simple indicator of every kind and patterns for the pattern engine (one met only by an
 * address, one by any domain name), so item
 * normalisation, lookups and observation building all run; the matcher must never fail on input
 * and every match and malformed report must point inside the buffer.  The first line also goes
 * through the extractor's three modes (vector line index, scalar line index, byte scans), which
 * must agree exactly, errors included.
 *
 * Without ACCORD_FUZZ this file is linked with fuzz/replay.c, which runs it on every file of
 * fuzz/corpus/match_line/.
 */
#include "match.h"
#include "match_fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const mfmap_key *ref_find(const mfmap_node *node, const char *k, size_t len)
{
    for (size_t i = 0; i < node->n; i++)
        if (node->keys[i].key_len == len && memcmp(node->keys[i].key, k, len) == 0)
            return &node->keys[i];
    return NULL;
}

typedef struct ref_fields {
    mfield f[MFIELDS_MAX];
    size_t n;
} ref_fields;

static void ref_obj(ref_fields *r, const mfmap_node *node, const ajson_value *o);

static void ref_value(ref_fields *r, const mfmap_key *mk, const ajson_value *v)
{
    const char *t = NULL;
    if (!mk)
        return;
    switch (v->type) {
    case AJSON_OBJECT:
        if (mk->sub)
            ref_obj(r, mk->sub, v);
        return;
    case AJSON_ARRAY:
        for (size_t i = 0; i < v->len; i++)
            ref_value(r, mk, &v->u.items[i]);
        return;
    case AJSON_TRUE:
        t = "true";
        break;
    case AJSON_FALSE:
        t = "false";
        break;
    case AJSON_NULL:
        t = "null";
        break;
    default:
        break;
    }
    if (mk->role && r->n < MFIELDS_MAX)
        r->f[r->n++] = (mfield){t ? t : v->u.str, (uint32_t)(t ? strlen(t) : v->len), mk->role,
                                mk->field, (uint8_t)(v->type == AJSON_STRING)};
}

static void ref_obj(ref_fields *r, const mfmap_node *node, const ajson_value *o)
{
    for (size_t i = 0; i < o->len; i++)
        ref_value(r, ref_find(node, o->u.members[i].key, o->u.members[i].key_len),
                  &o->u.members[i].value);
}

static void check_extractor(const char *line, size_t len)
{
    static ajson_arena a, sc;
    static int init;
    ajson_error je;
    mfield f[MFIELDS_MAX];
    ref_fields r = {.n = 0};
    const char *why;
    size_t off;
    if (!init) {
        ajson_arena_init(&a, 1u << 26);
        ajson_arena_init(&sc, 1u << 26);
        init = 1;
    }
    ajson_arena_reset(&a);
    ajson_arena_reset(&sc);
    int n = mjson_extract(mfmap_builtin(), line, len, f, MFIELDS_MAX, &sc, &why, &off);
    if (n < 0 && (off > len || !why))
        __builtin_trap();
    const ajson_value *root = ajson_parse(&a, line, len, &je);
    if (!root || root->type != AJSON_OBJECT)
        return;
    ref_obj(&r, &mfmap_builtin()->root, root);
    if (n < 0 || (size_t)n != r.n)
        __builtin_trap();
    for (int i = 0; i < n; i++)
        if (f[i].len != r.f[i].len || f[i].role != r.f[i].role || f[i].field != r.f[i].field ||
            f[i].str != r.f[i].str || memcmp(f[i].p, r.f[i].p, f[i].len) != 0)
            __builtin_trap();
}

static accord_snapshot *snapshot(void)
{
    static accord_snapshot *s;
    static const char *const pats[] = {
        "[ipv4-addr:value = '10.0.0.1' OR ipv4-addr:value ISSUBSET '10.1.0.0/16']",
        "[ipv6-addr:value ISSUBSET '2001:db8::/32']",
        "[domain-name:value = 'evil.example' OR domain-name:value LIKE '%.evil.example']",
        "[url:value = 'http://evil.example/a']",
        "[email-addr:value = 'a@evil.example']",
        "[file:hashes.'MD5' = 'd41d8cd98f00b204e9800998ecf8427e']",
        "[x509-certificate:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']",
        "[network-traffic:dst_port = 53 AND network-traffic:dst_ref.value = '10.0.0.1']",
        "[network-traffic:src_port IN (22, 4444) OR network-traffic:src_ref.value = '::1']",
        "[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = 'curl']",
        "[domain-name:value MATCHES '^x[a-z]+\\\\.example$']",
        "[network-traffic:dst_ref.value = '10.0.0.2' AND network-traffic:dst_port < 1024]",
        "[network-traffic:dst_ref.value ISSUBSET '10.0.0.0/8' AND network-traffic:dst_port = 443]",
        "[network-traffic:src_ref.value ISSUBSET '::/0' OR network-traffic:src_ref.value ISSUBSET "
        "'0.0.0.0/0' AND network-traffic:src_port IN (0, 65535)]",
        "[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' LIKE '%curl%' "
        "OR network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' LIKE "
        "'caf_%']",
        "[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' LIKE '_%']",
    };
    if (!s)
        s = fuzz_snapshot(pats, sizeof pats / sizeof pats[0]);
    return s;
}

static void check_matcher(const char *text, size_t len)
{
    static accord_matcher *m;
    accord_match mt;
    accord_match_malformed bm;
    if (!m && accord_matcher_new(snapshot(), &m) != 0)
        __builtin_trap();
    accord_matcher_set_header(m, NULL, 0); /* no Zeek TSV header from an earlier input */
    if (accord_matcher_match_lines(m, text, len, 1700000000) < 0)
        __builtin_trap();
    while (accord_matcher_next(m, &mt) == 1)
        if (mt.event < text || mt.event + mt.event_len > text + len || mt.nindicators == 0 ||
            (mt.time && (mt.time_len > len)))
            __builtin_trap();
    while (accord_matcher_next_malformed(m, &bm) == 1)
        if (!bm.reason || bm.line == 0)
            __builtin_trap();
}

/* The extractor's modes (vector index, scalar index, byte scans) must agree on every line, valid
 * or not: the same fields, or the same error at the same offset. */
static void check_modes(const char *line, size_t len)
{
    static ajson_arena sc[3];
    static int init;
    mfield f[3][MFIELDS_MAX];
    const char *why[3] = {NULL, NULL, NULL};
    size_t off[3] = {0, 0, 0};
    int n[3];
    if (!init) {
        for (int m = 0; m < 3; m++)
            ajson_arena_init(&sc[m], 1u << 26);
        init = 1;
    }
    for (int m = 0; m < 3; m++) {
        ajson_arena_reset(&sc[m]);
        mjson_force_scalar(m);
        n[m] =
            mjson_extract(mfmap_builtin(), line, len, f[m], MFIELDS_MAX, &sc[m], &why[m], &off[m]);
    }
    mjson_force_scalar(0);
    for (int m = 1; m < 3; m++) {
        if (n[m] != n[0] || (n[0] < 0 && (off[m] != off[0] || strcmp(why[m], why[0]) != 0)))
            __builtin_trap();
        for (int i = 0; i < n[0]; i++)
            if (f[m][i].len != f[0][i].len || f[m][i].field != f[0][i].field ||
                f[m][i].str != f[0][i].str || memcmp(f[m][i].p, f[0][i].p, f[0][i].len) != 0)
                __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    const char *nl = memchr(text, '\n', size);
    check_extractor(text, nl ? (size_t)(nl - text) : size);
    check_modes(text, nl ? (size_t)(nl - text) : size);
    check_matcher(text, size);
    return 0;
}
