/*
 * fuzz/pattern_eval.c - libFuzzer target for evaluating STIX patterns against observations.
 *
 * Input: a pattern, a NUL byte, then JSON (a bundle, an array of objects, observed-data, or JSON
 * lines of them).  When the pattern compiles and the JSON loads, the pattern is matched against
 * the observation set, and also run through a one-pattern set and a streaming matcher fed line
 * by line.  Besides memory errors, leaks and hangs it checks: match returns 0 or a documented
 * code; a reported binding names observations that exist; the matcher reports only the pattern
 * it was given.  A broken promise traps.
 *
 * Without ACCORD_FUZZ this file is linked with fuzz/replay.c, which runs it on every file of
 * fuzz/corpus/pattern_eval/.
 */
#include "accord.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_hit(void *ud, uint64_t tag, size_t index)
{
    if (tag != 42 || index != 0)
        __builtin_trap();
    ++*(int *)ud;
}

/* Feeds each line of json to a matcher over a set of just `pattern`; the hits. */
static int stream(const char *pattern, size_t plen, const char *json, size_t len)
{
    accord_pattern_set *set = NULL;
    accord_pattern_matcher *m = NULL;
    accord_error err = {0};
    int hits = 0;
    if (accord_pattern_set_new(&set) || accord_pattern_set_add(set, pattern, plen, 0, 42, &err) ||
        accord_pattern_set_build(set, &err) || accord_pattern_matcher_new(set, &m))
        goto out;
    for (const char *p = json, *end = json + len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        (void)accord_pattern_matcher_feed(m, p, n, on_hit, &hits, &err);
        p += n + 1;
    }
out:
    accord_pattern_matcher_free(m);
    accord_pattern_set_free(set);
    return hits;
}

static void load(accord_pattern_obs *obs, const char *json, size_t len)
{
    accord_error err = {0};
    if (accord_pattern_obs_add_json(obs, json, len, &err) != ACCORD_EJSON)
        return;
    accord_pattern_obs_clear(obs);
    for (const char *p = json, *end = json + len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        (void)accord_pattern_obs_add_json(obs, p, n, &err);
        p += n + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data, *nul = memchr(data, 0, size);
    accord_pattern *p = NULL;
    accord_pattern_obs *obs = NULL;
    accord_pattern_binding b;
    accord_error err = {0};
    int matched = 0, rc;
    if (!nul || size > 1 << 16)
        return 0;
    size_t plen = (size_t)(nul - text), jlen = size - plen - 1;
    if (accord_pattern_compile(text, plen, 0, &p, &err) || accord_pattern_obs_new(&obs))
        goto out;
    load(obs, nul + 1, jlen);
    rc = accord_pattern_match(p, obs, &matched, &b, &err);
    if (rc != 0 && rc != ACCORD_EINVAL && rc != ACCORD_ELIMIT && rc != ACCORD_ENOMEM)
        __builtin_trap();
    if (rc == 0 && matched)
        for (size_t i = 0; i < b.n; i++)
            if (b.obs[i] >= accord_pattern_obs_count(obs))
                __builtin_trap();
    (void)stream(text, plen, nul + 1, jlen);
out:
    accord_pattern_obs_free(obs);
    accord_pattern_free(p);
    return 0;
}
