/*
 * test_pattern.c - the STIX patterning engine against the cases of tests/data/pattern/.
 *
 * parse.tsv: one pattern per line, `VERSION<TAB>ok|err<TAB>MESSAGE-PREFIX<TAB>PATTERN`; for err the
 * compile message must start with MESSAGE-PREFIX (when not empty).  A pattern may use \t and \n
 * escapes ("\\\\" for a backslash); \r too.
 *
 * *.cases: groups of observations and the patterns evaluated against them:
 *   == NAME                 starts a group (clears the observations; STIX 2.1 grammar)
 *   version 2.0             the grammar of the group's patterns
 *   obs JSON                a JSON document (bundle, observed-data) added to the group
 *   od FIRST LAST N OBJECTS an observed-data with `objects` (OBJECTS: JSON dictionary); its id is
 *                           observed-data--<index>; LAST may be "=" for FIRST
 *   yes PATTERN | no PATTERN | err PATTERN   the expected outcome of accord_pattern_match
 *   yes@I,J,... PATTERN     a match whose first binding uses exactly these observation indices
 * Each pattern is also fed to a one-pattern set and matcher, observation by observation, when
 * it is a single-observation pattern: the matcher must report it exactly when `yes`.
 */
#include "t.h"

#include "accord.h"

#include <stdlib.h>
#include <string.h>
#include <dirent.h>

/* Replaces \t, \n and \\ escapes in place. */
static void unescape(char *s)
{
    char *d = s;
    for (; *s; s++) {
        if (*s == '\\' && (s[1] == 't' || s[1] == 'n' || s[1] == 'r' || s[1] == '\\')) {
            s++;
            *d++ = *s == 't' ? '\t' : *s == 'n' ? '\n' : *s == 'r' ? '\r' : '\\';
        } else {
            *d++ = *s;
        }
    }
    *d = '\0';
}

/* ------------------------------------------------------------------------------------------ */

static int n_parse;

static void run_parse_line(char *line, const char *file, int lineno)
{
    char *f[4];
    accord_error err = {0};
    int rc;
    for (int i = 0; i < 4; i++) {
        f[i] = line;
        line = i < 3 ? strchr(line, '\t') : NULL;
        if (i < 3 && !line) {
            fprintf(stderr, "%s:%d: malformed line\n", file, lineno);
            t_failed++;
            return;
        }
        if (line)
            *line++ = '\0';
    }
    unescape(f[3]);
    rc = accord_pattern_check(f[3], strlen(f[3]), strcmp(f[0], "2.0") == 0 ? ACCORD_PATTERN_STIX20 : 0,
                              &err);
    n_parse++;
    if (strcmp(f[1], "ok") == 0 ? rc == 0
                                : rc != 0 && strncmp(err.msg, f[2], strlen(f[2])) == 0) {
        t_passed++;
        return;
    }
    t_failed++;
    fprintf(stderr, "%s:%d: %s: want %s %s, got rc %d \"%s\"\n", file, lineno, f[3], f[1], f[2], rc,
            rc ? err.msg : "");
}

static void test_parse_file(void)
{
    const char *path = ACCORD_SOURCE_DIR "/tests/data/pattern/parse.tsv";
    size_t len;
    char *text = t_slurp(path, &len), *cur = text, *line;
    int lineno = 0;
    CHECK(text != NULL);
    while ((line = t_next_line(&cur)) != NULL) {
        lineno++;
        if (line[0] == '#' || line[0] == '\0')
            continue;
        run_parse_line(line, "parse.tsv", lineno);
    }
    free(text);
}

/* ------------------------------------------------------------------------------------------ */

typedef struct group {
    accord_pattern_obs *obs;
    char **docs; /* the group's documents, for the streaming matcher */
    size_t ndocs, cap;
    unsigned flags;
    int nod;
} group;

static int n_eval;

static void group_reset(group *g)
{
    accord_pattern_obs_clear(g->obs);
    for (size_t i = 0; i < g->ndocs; i++)
        free(g->docs[i]);
    g->ndocs = 0;
    g->flags = 0;
    g->nod = 0;
}

static void group_add(group *g, const char *json, const char *where)
{
    accord_error err = {0};
    if (g->ndocs == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 16;
        g->docs = realloc(g->docs, g->cap * sizeof *g->docs);
    }
    g->docs[g->ndocs++] = strdup(json);
    if (accord_pattern_obs_add_json(g->obs, json, strlen(json), &err) != 0) {
        t_failed++;
        fprintf(stderr, "%s: observation rejected: %s\n", where, err.msg);
    }
}

/* od FIRST LAST N OBJECTS */
static void group_od(group *g, char *args, const char *where)
{
    char first[64], last[64], json[8192];
    long n;
    int used = 0;
    if (sscanf(args, "%63s %63s %ld %n", first, last, &n, &used) < 3 || used == 0) {
        t_failed++;
        fprintf(stderr, "%s: malformed od line\n", where);
        return;
    }
    snprintf(json, sizeof json,
             "{\"type\":\"observed-data\",\"id\":\"observed-data--%d\",\"first_observed\":\"%s\","
             "\"last_observed\":\"%s\",\"number_observed\":%ld,\"objects\":%s}",
             g->nod++, first, strcmp(last, "=") == 0 ? first : last, n, args + used);
    group_add(g, json, where);
}

static void on_hit(void *ud, uint64_t tag, size_t index)
{
    (void)tag;
    (void)index;
    ++*(int *)ud;
}

/* Feeds the group's documents one by one to a matcher over a set holding only this pattern. */
static int stream_hits(group *g, const char *pattern)
{
    accord_pattern_set *set = NULL;
    accord_pattern_matcher *m = NULL;
    accord_error err = {0};
    int hits = -1;
    if (accord_pattern_set_new(&set) == 0 &&
        accord_pattern_set_add(set, pattern, strlen(pattern), g->flags, 7, &err) == 0 &&
        accord_pattern_set_build(set, &err) == 0 && accord_pattern_matcher_new(set, &m) == 0) {
        hits = 0;
        for (size_t i = 0; i < g->ndocs; i++)
            if (accord_pattern_matcher_feed(m, g->docs[i], strlen(g->docs[i]), on_hit, &hits,
                                            &err))
                hits = -1000;
    }
    accord_pattern_matcher_free(m);
    accord_pattern_set_free(set);
    return hits;
}

static int binding_is(const accord_pattern_binding *b, const char *want)
{
    int seen[ACCORD_PATTERN_BINDING_MAX] = {0}, nwant = 0;
    char *end;
    while (*want) {
        long v = strtol(want, &end, 10);
        if (end == want || v < 0 || v >= ACCORD_PATTERN_BINDING_MAX)
            return 0;
        seen[v]++;
        nwant++;
        want = *end == ',' ? end + 1 : end;
    }
    if ((size_t)nwant != b->n)
        return 0;
    for (size_t i = 0; i < b->n; i++)
        if (b->obs[i] >= ACCORD_PATTERN_BINDING_MAX || --seen[b->obs[i]] < 0)
            return 0;
    return 1;
}

static void group_match(group *g, const char *verb, const char *pattern, const char *where)
{
    accord_pattern *p = NULL;
    accord_pattern_binding b;
    accord_error err = {0};
    int matched = 0, rc, ok;
    const char *at = strchr(verb, '@');
    n_eval++;
    rc = accord_pattern_compile(pattern, strlen(pattern), g->flags, &p, &err);
    if (rc) {
        t_failed++;
        fprintf(stderr, "%s: %s: does not compile: %s\n", where, pattern, err.msg);
        return;
    }
    rc = accord_pattern_match(p, g->obs, &matched, &b, &err);
    if (strncmp(verb, "err", 3) == 0)
        ok = rc == ACCORD_EINVAL;
    else if (strncmp(verb, "yes", 3) == 0)
        ok = rc == 0 && matched && (!at || binding_is(&b, at + 1));
    else
        ok = rc == 0 && !matched;
    if (ok) {
        t_passed++;
    } else {
        t_failed++;
        fprintf(stderr, "%s: %s: want %s, got rc %d matched %d (%s)\n", where, pattern, verb, rc,
                matched, rc ? err.msg : "");
    }
    accord_pattern_free(p);
    if (strcmp(verb, "yes") == 0 || strcmp(verb, "no") == 0) {
        /* The streaming matcher must agree on whether some observation completes the pattern. */
        int hits = stream_hits(g, pattern);
        if ((hits > 0) == (verb[0] == 'y') && hits >= 0) {
            t_passed++;
        } else {
            t_failed++;
            fprintf(stderr, "%s: %s: matcher reported %d hits, want %s\n", where, pattern, hits,
                    verb);
        }
    }
}

static void run_cases_line(group *g, char *line, const char *where)
{
    char *sp = strchr(line, ' ');
    if (line[0] == '#' || line[0] == '\0')
        return;
    if (strncmp(line, "==", 2) == 0) {
        group_reset(g);
        return;
    }
    if (!sp) {
        t_failed++;
        fprintf(stderr, "%s: malformed line\n", where);
        return;
    }
    *sp++ = '\0';
    if (strcmp(line, "version") == 0)
        g->flags = strcmp(sp, "2.0") == 0 ? ACCORD_PATTERN_STIX20 : 0;
    else if (strcmp(line, "obs") == 0)
        group_add(g, sp, where);
    else if (strcmp(line, "od") == 0)
        group_od(g, sp, where);
    else if (strncmp(line, "yes", 3) == 0 || strcmp(line, "no") == 0 || strcmp(line, "err") == 0)
        group_match(g, line, sp, where);
    else {
        t_failed++;
        fprintf(stderr, "%s: unknown verb %s\n", where, line);
    }
}

static void run_cases_file(const char *name)
{
    char path[512], where[600];
    size_t len;
    char *text, *cur, *line;
    group g = {0};
    int lineno = 0;
    snprintf(path, sizeof path, "%s/tests/data/pattern/%s", ACCORD_SOURCE_DIR, name);
    text = t_slurp(path, &len);
    CHECK(text != NULL);
    if (!text)
        return;
    CHECK(accord_pattern_obs_new(&g.obs) == 0);
    cur = text;
    while ((line = t_next_line(&cur)) != NULL) {
        lineno++;
        snprintf(where, sizeof where, "%s:%d", name, lineno);
        run_cases_line(&g, line, where);
    }
    group_reset(&g);
    free(g.docs);
    accord_pattern_obs_free(g.obs);
    free(text);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_cases_files(void)
{
    DIR *d = opendir(ACCORD_SOURCE_DIR "/tests/data/pattern");
    struct dirent *e;
    char *names[256];
    size_t n = 0;
    CHECK(d != NULL);
    while (d && (e = readdir(d)) != NULL && n < 256) {
        size_t l = strlen(e->d_name);
        if (l > 6 && strcmp(e->d_name + l - 6, ".cases") == 0)
            names[n++] = strdup(e->d_name);
    }
    if (d)
        closedir(d);
    qsort(names, n, sizeof *names, by_name);
    CHECK(n > 0);
    for (size_t i = 0; i < n; i++) {
        run_cases_file(names[i]);
        free(names[i]);
    }
}

/* ------------------------------------------------------------------------------------------ */

static void test_api(void)
{
    accord_pattern *p = NULL;
    accord_error err = {0};
    const char *text = "[ipv4-addr:value = '1.2.3.4'";
    CHECK(accord_pattern_compile(text, strlen(text), 0, &p, &err) == ACCORD_EINVAL);
    CHECK(p == NULL);
    CHECK_STR(err.msg, "offset 29: expected ']', found end of pattern");
    CHECK(err.code == ACCORD_EINVAL);
    /* Not NUL-terminated: only len bytes count. */
    CHECK(accord_pattern_compile("[a:b = 1]xyz", 9, 0, &p, &err) == 0);
    CHECK_STR(accord_pattern_text(p), "[a:b = 1]");
    accord_pattern_free(p);
    accord_pattern_free(NULL);
    CHECK(accord_pattern_compile("[a:b = 1]", 9, 99, &p, &err) == ACCORD_EINVAL);
    accord_pattern_obs_free(NULL);
    accord_pattern_set_free(NULL);
    accord_pattern_matcher_free(NULL);
}

/* Nesting beyond the limit is refused with ACCORD_ELIMIT, not a stack overflow. */
static void test_limits(void)
{
    char buf[4096];
    size_t k = 0;
    accord_error err = {0};
    for (int i = 0; i < 1000; i++)
        buf[k++] = '(';
    memcpy(buf + k, "[a:b = 1]", 9);
    k += 9;
    for (int i = 0; i < 1000; i++)
        buf[k++] = ')';
    CHECK(accord_pattern_check(buf, k, 0, &err) == ACCORD_ELIMIT);
    k = 0;
    buf[k++] = '[';
    for (int i = 0; i < 1100 && k + 20 < sizeof buf; i++) {
        memcpy(buf + k, "a:b = 1 AND ", 12);
        k += 12;
    }
    memcpy(buf + k, "a:b = 1]", 8);
    k += 8;
    CHECK(accord_pattern_check(buf, k, 0, &err) == 0 ||
          accord_pattern_check(buf, k, 0, &err) == ACCORD_ELIMIT);
}

int main(void)
{
    test_api();
    test_limits();
    test_parse_file();
    test_cases_files();
    printf("parse cases: %d, evaluation cases: %d\n", n_parse, n_eval);
    return t_done();
}
