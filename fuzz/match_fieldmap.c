/*
 * fuzz/match_fieldmap.c - libFuzzer target for field maps read from configuration
 * (src/match_fieldmap.c).
 *
 * An input is a field map text, then a NUL byte, then telemetry lines.  The map text must parse
 * or fail with "fuzz:LINE: ..." naming a line of the text.  A map that parses must be a
 * consistent tree: every key of every node is found by the extractor's lookup (slot table or
 * scan), and every mapped key names a field the map has.  Then the lines are read with it: the
 * extractor's three modes must agree exactly, every field must name a field of the map, and a
 * matcher using the map must take every line without failing, its matches pointing into them.
 *
 * Without ACCORD_FUZZ this file is linked with fuzz/replay.c, which runs it on every file of
 * fuzz/corpus/match_fieldmap/.
 */
#include "match.h"
#include "match_fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_node(const mfmap *m, const mfmap_node *n, int depth)
{
    if (depth > 20)
        __builtin_trap();
    for (size_t i = 0; i < n->n; i++) {
        const mfmap_key *k = &n->keys[i];
        if (mfmap_find(n, k->key, k->key_len) != k || (k->role && k->field >= m->nnames))
            __builtin_trap();
        if (n->fseed && k->key_len >= 1 && k->key_len <= 16) { /* the perfect hash agrees */
            char pad[32];
            memset(pad, '"', sizeof pad);
            memcpy(pad, k->key, k->key_len);
            if (mfmap_find16(n, pad, k->key_len) != k ||
                mfmap_find16(n, pad, k->key_len - 1) != mfmap_find(n, pad, k->key_len - 1))
                __builtin_trap();
        }
        if (k->sub)
            check_node(m, k->sub, depth + 1);
    }
}

static void check_lines(const mfmap *map, const char *line, size_t len)
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
        n[m] = mjson_extract(map, line, len, f[m], MFIELDS_MAX, &sc[m], &why[m], &off[m]);
    }
    mjson_force_scalar(0);
    for (int i = 0; i < n[0]; i++)
        if (f[0][i].field >= map->nnames || f[0][i].role == MR_NONE)
            __builtin_trap();
    for (int m = 1; m < 3; m++) {
        if (n[m] != n[0] || (n[0] < 0 && (off[m] != off[0] || strcmp(why[m], why[0]) != 0)))
            __builtin_trap();
        for (int i = 0; i < n[0]; i++)
            if (f[m][i].len != f[0][i].len || f[m][i].field != f[0][i].field ||
                f[m][i].role != f[0][i].role || memcmp(f[m][i].p, f[0][i].p, f[0][i].len) != 0)
                __builtin_trap();
    }
}

static accord_snapshot *snapshot(void)
{
    static accord_snapshot *s;
    static const char *const pats[] = {
        "[ipv4-addr:value = '10.0.0.1' OR ipv4-addr:value ISSUBSET '10.1.0.0/16']",
        "[domain-name:value = 'evil.example' OR domain-name:value LIKE '%.evil.example']",
        "[url:value = 'http://evil.example/a']",
        "[file:hashes.'MD5' = 'd41d8cd98f00b204e9800998ecf8427e']",
        "[network-traffic:dst_port = 53 AND network-traffic:dst_ref.value = '10.0.0.1']",
    };
    if (!s)
        s = fuzz_snapshot(pats, sizeof pats / sizeof pats[0]);
    return s;
}

static void check_matcher(const accord_field_map *fm, const char *text, size_t len)
{
    static accord_matcher *m;
    accord_match mt;
    if (!m && accord_matcher_new(snapshot(), &m) != 0)
        __builtin_trap();
    accord_matcher_set_field_map(m, fm);
    if (accord_matcher_match_lines(m, text, len, 1700000000) < 0)
        __builtin_trap();
    while (accord_matcher_next(m, &mt) == 1)
        if (mt.event < text || mt.event + mt.event_len > text + len || mt.nindicators == 0 ||
            !mt.field)
            __builtin_trap();
    accord_matcher_set_field_map(m, NULL); /* fm is freed after this input */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    const char *nul = memchr(text, '\0', size);
    size_t mlen = nul ? (size_t)(nul - text) : size, lines = 1;
    accord_field_map *fm = NULL;
    accord_error err = {0};
    for (size_t i = 0; i < mlen; i++)
        lines += text[i] == '\n';
    if (accord_field_map_parse(text, mlen, "fuzz", &fm, &err) != 0) {
        unsigned long at;
        if (fm || sscanf(err.msg, "fuzz:%lu:", &at) != 1 || at == 0 || at > lines)
            __builtin_trap();
        return 0;
    }
    check_node(mfmap_of(fm), &mfmap_of(fm)->root, 0);
    if (nul) {
        const char *l = nul + 1, *end = text + size;
        const char *nl = memchr(l, '\n', (size_t)(end - l));
        check_lines(mfmap_of(fm), l, nl ? (size_t)(nl - l) : (size_t)(end - l));
        check_matcher(fm, l, (size_t)(end - l));
    }
    accord_field_map_free(fm);
    return 0;
}
