/*
 * fuzz/match_pattern.c - libFuzzer target: an indicator's pattern, compiled into a snapshot,
 * against telemetry lines, the fast tables checked against the pattern evaluator.
 *
 * The first line of an input is a STIX pattern (as a feed would send it), the following lines
 * are JSON events.  The pattern is compiled into a one-indicator snapshot; each event line goes
 * through the matcher, and, as the reference, through the same field extraction and
 * observation (mobs_write) into accord_pattern_match.  When the snapshot took the pattern into
 * its fast tables with literals already in normal form (stats.normalised 0: the lenient forms
 * differ from the evaluator on purpose, see match_snapshot.c), the two must report the same:
 * the indicator matched or not.  A difference traps, as does a matcher error.  So recognising
 * patterns (ports, networks, user-agent LIKE, ...) and the tables they fill are checked on any
 * pattern and any event, not only the ones the unit tests generate.
 *
 * Without ACCORD_FUZZ this file is linked with fuzz/replay.c, which runs it on every file of
 * fuzz/corpus/match_pattern/.
 */
#include "match.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW 1700000000

/* What the evaluator says of event line[0..len) for pattern p (1 or 0). */
static int reference(const accord_pattern *p, const char *line, size_t len)
{
    static ajson_arena sc;
    static buf obs;
    static int init;
    mfield f[MFIELDS_MAX];
    mitem it[MITEMS_MAX];
    const char *why;
    size_t off;
    accord_pattern_obs *o = NULL;
    int matched = 0, nf;
    if (!init) {
        ajson_arena_init(&sc, 1u << 26);
        buf_init(&obs, 1u << 24);
        init = 1;
    }
    ajson_arena_reset(&sc);
    buf_reset(&obs);
    nf = mjson_extract(mfmap_builtin(), line, len, f, MFIELDS_MAX, &sc, &why, &off);
    if (nf < 0)
        return 0;
    size_t ni = mitems_from_fields(f, (size_t)nf, it, MITEMS_MAX, &sc);
    if (mobs_write(it, ni, f, (size_t)nf, mevent_time_us(f, (size_t)nf), &obs) < 0 ||
        accord_pattern_obs_new(&o) != 0)
        return -1;
    if (accord_pattern_obs_add_json(o, obs.p, obs.len, NULL) != 0 ||
        accord_pattern_match(p, o, &matched, NULL, NULL) != 0)
        matched = -1; /* an evaluation error: no verdict */
    accord_pattern_obs_free(o);
    return matched;
}

/* The pattern p as a one-indicator snapshot, or NULL when the snapshot is no fast one. */
static accord_snapshot *fast_snapshot(const char *pat)
{
    accord_snapshot_builder *b = NULL;
    accord_snapshot *s = NULL;
    accord_snapshot_stats st;
    if (accord_snapshot_builder_new(NOW, &b) != 0)
        return NULL;
    if (accord_snapshot_builder_add(b, "indicator--00000000-0000-4000-8000-000000000000", "n", pat,
                                    0, 0, NULL) != 0 ||
        accord_snapshot_build(b, &s, NULL) != 0) {
        accord_snapshot_builder_free(b);
        return NULL;
    }
    accord_snapshot_builder_free(b);
    accord_snapshot_stats_get(s, &st);
    if (st.simple != 1 || st.normalised != 0) {
        accord_snapshot_unref(s);
        return NULL;
    }
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data, *end = text + size;
    const char *nl = memchr(text, '\n', size);
    accord_pattern *p = NULL;
    accord_snapshot *s;
    accord_matcher *m = NULL;
    char *pat;
    if (!nl || (size_t)(nl - text) > 4096)
        return 0;
    pat = strndup(text, (size_t)(nl - text));
    if (!pat)
        return 0;
    if (strlen(pat) != (size_t)(nl - text) || /* a NUL inside: not one pattern */
        (accord_pattern_compile(pat, strlen(pat), 0, &p, NULL) != 0 &&
         accord_pattern_compile(pat, strlen(pat), ACCORD_PATTERN_STIX20, &p, NULL) != 0) ||
        !(s = fast_snapshot(pat))) {
        accord_pattern_free(p);
        free(pat);
        return 0;
    }
    if (accord_matcher_new(s, &m) != 0)
        __builtin_trap();
    for (const char *l = nl + 1; l < end;) {
        const char *e = memchr(l, '\n', (size_t)(end - l));
        size_t len = (size_t)((e ? e : end) - l);
        accord_match mt;
        if (len && l[len - 1] == '\r') /* the matcher reads "\r\n" as a line end */
            len--;
        int got = 0, want;
        if (len && l[0] == '{') {
            if (accord_matcher_match_lines(m, l, len, NOW) < 0)
                __builtin_trap();
            while (accord_matcher_next(m, &mt) == 1)
                got |= mt.nindicators == 1 && mt.indicators[0] == 0;
            want = reference(p, l, len);
            if (want >= 0 && got != want)
                __builtin_trap();
        }
        l = e ? e + 1 : end;
    }
    accord_matcher_free(m);
    accord_snapshot_unref(s);
    accord_pattern_free(p);
    free(pat);
    return 0;
}
