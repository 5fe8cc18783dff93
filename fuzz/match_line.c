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
 * and every match and malformed report must point inside the buffer, and the buffer read in one
 * call (lines found and indexed per window) must give as many matches and malformed lines as
 * its lines read one call each.  The first line also goes through the extractor's three modes
 * (vector line index, scalar line index, byte scans) and, between other lines, through the
 * window index (vector and scalar), which must all agree exactly, errors included.  Zeek TSV
 * headers (the corpus's zeek-*.tsv, good and rejected): the buffer cut at a line in
 * its middle, its second half read by a new matcher given the '#' lines of the first half with
 * accord_matcher_set_header (as cmd_match hands each chunk the header in effect) must give what
 * the matcher that read the first half gives, and a rejected header is reported once, where it
 * is read, not again by set_header.
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

/* Reads text[0..len) with m: the matches and malformed lines it reports (each must point inside
 * the buffer) are added to *nm and *nb. */
static void match_count(accord_matcher *m, const char *text, size_t len, size_t *nm, size_t *nb)
{
    accord_match mt;
    accord_match_malformed bm;
    if (accord_matcher_match_lines(m, text, len, 1700000000) < 0)
        __builtin_trap();
    while (accord_matcher_next(m, &mt) == 1) {
        if (mt.event < text || mt.event + mt.event_len > text + len || mt.nindicators == 0 ||
            (mt.time && (mt.time_len > len)))
            __builtin_trap();
        (*nm)++;
    }
    while (accord_matcher_next_malformed(m, &bm) == 1) {
        if (!bm.reason || bm.line == 0)
            __builtin_trap();
        (*nb)++;
    }
}

/* The buffer read in one call (lines found and indexed per window) and each of its lines read
 * alone must give the same number of matches and malformed lines. */
static void check_matcher(const char *text, size_t len)
{
    static accord_matcher *m;
    size_t nm = 0, nb = 0, am = 0, ab = 0;
    if (!m && accord_matcher_new(snapshot(), &m) != 0)
        __builtin_trap();
    accord_matcher_set_header(m, NULL, 0); /* no Zeek TSV header from an earlier input */
    match_count(m, text, len, &nm, &nb);
    accord_matcher_set_header(m, NULL, 0);
    for (size_t a = 0; a < len;) {
        const char *e = memchr(text + a, '\n', len - a);
        size_t z = e ? (size_t)(e - text) : len;
        match_count(m, text + a, z - a, &am, &ab);
        a = z + 1;
    }
    if (nm != am || nb != ab)
        __builtin_trap();
}

/* The second half of text (from the first line that starts at len / 2 or later) read after its
 * first half, and read by a new matcher given the first half's '#' lines: the same matches and
 * malformed lines. */
static void check_replay(const char *text, size_t len)
{
    static accord_matcher *a, *b;
    const char *nl = len > 1 ? memchr(text + len / 2, '\n', len - len / 2) : NULL;
    size_t cut = nl ? (size_t)(nl - text) + 1 : 0, hlen = 0, nm[2] = {0, 0}, nb[2] = {0, 0};
    size_t skip_m = 0, skip_b = 0;
    char *hdr;
    if (!nl || cut >= len || !(hdr = malloc(cut + 1)))
        return;
    if ((!a && accord_matcher_new(snapshot(), &a) != 0) ||
        (!b && accord_matcher_new(snapshot(), &b) != 0))
        __builtin_trap();
    for (size_t p = 0; p < cut;) { /* the '#' lines of the first half, leading blanks left out */
        const char *e = memchr(text + p, '\n', cut - p);
        size_t z = (size_t)(e - text), i = p;
        while (i < z && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r'))
            i++;
        if (i < z && text[i] == '#') {
            memcpy(hdr + hlen, text + i, z - i + 1);
            hlen += z - i + 1;
        }
        p = z + 1;
    }
    accord_matcher_set_header(a, NULL, 0);
    match_count(a, text, cut, &skip_m, &skip_b);
    match_count(a, text + cut, len - cut, &nm[0], &nb[0]);
    accord_matcher_set_header(b, hdr, hlen);
    match_count(b, text + cut, len - cut, &nm[1], &nb[1]);
    free(hdr);
    if (nm[0] != nm[1] || nb[0] != nb[1])
        __builtin_trap();
}

/* The extractor on a line inside a window (mjson_extract_win), with lines before and after it,
 * must give what mjson_extract gives on the line alone (n0, f0, why0, off0). */
static void check_window(const char *line, size_t len, int n0, const mfield *f0,
                         const char *why0, size_t off0)
{
    static mjson_win w;
    static ajson_arena sc;
    static int init;
    static char text[MWIN_BYTES];
    static const char before[] = "{\"query\":\"a.example\"}\n", after[] = "\n{\"x\":\"\"}";
    mfield f[MFIELDS_MAX];
    const char *why = NULL;
    size_t off = 0, at = sizeof before - 1;
    int n;
    if (memchr(line, '\\', len) || at + len + sizeof after - 1 > sizeof text)
        return; /* windows take lines without a backslash */
    if (!init) {
        ajson_arena_init(&sc, 1u << 26);
        init = 1;
    }
    memcpy(text, before, at);
    memcpy(text + at, line, len);
    memcpy(text + at + len, after, sizeof after - 1);
    for (int mode = 0; mode < 2; mode++) {
        mjson_force_scalar(mode);
        mjson_win_index(&w, text, at + len + sizeof after - 1);
        ajson_arena_reset(&sc);
        n = mjson_extract_win(mfmap_builtin(), &w, at, len, f, MFIELDS_MAX, &sc, &why, &off);
        if (n != n0 || (n0 < 0 && (off != off0 || strcmp(why, why0) != 0)))
            __builtin_trap();
        for (int i = 0; i < n0; i++)
            if (f[i].len != f0[i].len || f[i].field != f0[i].field || f[i].str != f0[i].str ||
                memcmp(f[i].p, f0[i].p, f0[i].len) != 0)
                __builtin_trap();
    }
    mjson_force_scalar(0);
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
    check_window(line, len, n[0], f[0], why[0], off[0]);
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
    check_replay(text, size);
    return 0;
}
