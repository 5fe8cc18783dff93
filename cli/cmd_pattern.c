/*
 * cmd_pattern.c - `accord pattern check|match`: STIX patterns from the command line.
 *
 *   check [--stix-version 2.0|2.1] PATTERN|-
 *       Compiles the pattern; exit 0 when valid, 2 with "offset N: expected X, found Y".  With
 *       `-` the pattern is read from standard input; when that input starts with '"' or '{' it is
 *       a batch: JSON lines, each a JSON string or an object with "pattern" (and optionally
 *       "spec_version"), each checked on its own and reported as "line N: ..." (exit 2 when any
 *       is invalid).
 *   match [--stix-version V] [--explain] --pattern P FILE|-
 *       Evaluates P against every observation of FILE: one JSON document (a bundle, an array of
 *       objects, an observed-data object) or JSON lines of them (batch: all lines form one set of
 *       observations).  Exit 0 on a match, 1 on none, 2 on an error.  --explain prints the ids of
 *       the observed-data of the first binding, one per line.
 *
 * Everything is read into memory (inputs are capped at 1 GiB); the work is the library's.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"

#define MAX_INPUT (1u << 30)

/* Reads all of path ("-" = stdin) into a NUL-terminated malloc'd buffer; NULL on failure. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    size_t cap = 1 << 16, n = 0, got;
    char *buf = f ? malloc(cap) : NULL;
    while (buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 == cap) {
            char *nb = cap < MAX_INPUT ? realloc(buf, cap * 2) : NULL;
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    if (buf && ferror(f)) {
        free(buf);
        buf = NULL;
    }
    if (f && f != stdin)
        fclose(f);
    if (buf) {
        buf[n] = '\0';
        *len = n;
    }
    return buf;
}

/* "2.0" -> ACCORD_PATTERN_STIX20, "2.1" -> 0, else -1. */
static int version_flags(const char *v)
{
    if (strcmp(v, "2.0") == 0)
        return ACCORD_PATTERN_STIX20;
    return strcmp(v, "2.1") == 0 ? 0 : -1;
}

/* Checks one JSON line of a batch; 0 valid, 1 invalid, -1 not a pattern line. */
static int check_line(ajson_arena *a, const char *line, size_t len, unsigned flags, size_t lineno)
{
    ajson_error je;
    accord_error err = {0};
    const ajson_value *v = ajson_parse(a, line, len, &je), *pat = v;
    const char *spec;
    if (v && v->type == AJSON_OBJECT) {
        pat = ajson_get(v, "pattern");
        spec = ajson_str(ajson_get(v, "spec_version"));
        if (spec && version_flags(spec) >= 0)
            flags = (unsigned)version_flags(spec);
    }
    if (!pat || pat->type != AJSON_STRING) {
        printf("line %zu: not a JSON string or an object with \"pattern\"\n", lineno);
        return -1;
    }
    if (accord_pattern_check(pat->u.str, pat->len, flags, &err) == 0)
        return 0;
    printf("line %zu: %s\n", lineno, err.msg);
    return 1;
}

static int check_batch(char *text, size_t len, unsigned flags)
{
    ajson_arena a;
    size_t lineno = 0, bad = 0;
    char *p = text, *end = text + len;
    ajson_arena_init(&a, 0);
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        lineno++;
        if (n > 0 && strspn(p, " \t\r") < n) {
            bad += check_line(&a, p, n, flags, lineno) != 0;
            ajson_arena_reset(&a);
        }
        p += n + 1;
    }
    ajson_arena_free(&a);
    return bad ? EXIT_USAGE : EXIT_OK;
}

static int check_main(int argc, char **argv, unsigned flags)
{
    const char *arg = NULL;
    accord_error err = {0};
    size_t len;
    char *text;
    int rc;
    for (int i = 2; i < argc; i++) {
        if (arg)
            return cli_usage("pattern");
        arg = argv[i];
    }
    if (!arg)
        return cli_usage("pattern");
    if (strcmp(arg, "-") != 0) {
        if (accord_pattern_check(arg, strlen(arg), flags, &err) == 0)
            return EXIT_OK;
        cli_error("pattern", "%s", err.msg);
        return EXIT_USAGE;
    }
    if (!(text = slurp("-", &len))) {
        cli_error("pattern", "cannot read standard input");
        return EXIT_USAGE;
    }
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
        text[--len] = '\0';
    if (text[strspn(text, " \t\r\n")] == '"' || text[strspn(text, " \t\r\n")] == '{') {
        rc = check_batch(text, len, flags);
    } else {
        rc = accord_pattern_check(text, len, flags, &err) == 0 ? EXIT_OK : EXIT_USAGE;
        if (rc)
            cli_error("pattern", "%s", err.msg);
    }
    free(text);
    return rc;
}

/* Adds FILE's documents to obs: the whole file, or else each of its lines. */
static int load_observations(accord_pattern_obs *obs, char *text, size_t len)
{
    accord_error err = {0};
    size_t lineno = 0;
    char *p = text, *end = text + len;
    if (accord_pattern_obs_add_json(obs, text, len, &err) == 0)
        return 0;
    if (err.code != ACCORD_EJSON) {
        cli_error("pattern", "%s", err.msg);
        return -1;
    }
    accord_pattern_obs_clear(obs);
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        lineno++;
        if (n > 0 && strspn(p, " \t\r") < n && accord_pattern_obs_add_json(obs, p, n, &err)) {
            cli_error("pattern", "line %zu: %s", lineno, err.msg);
            return -1;
        }
        p += n + 1;
    }
    return 0;
}

static void explain(const accord_pattern_obs *obs, const accord_pattern_binding *b)
{
    for (size_t i = 0; i < b->n; i++)
        printf("%s\n", accord_pattern_obs_id(obs, b->obs[i]));
}

static int match_run(const char *pattern, const char *file, unsigned flags, int want_explain)
{
    accord_pattern *p = NULL;
    accord_pattern_obs *obs = NULL;
    accord_pattern_binding b;
    accord_error err = {0};
    size_t len;
    char *text = NULL;
    int matched = 0, rc = EXIT_USAGE;
    if (accord_pattern_compile(pattern, strlen(pattern), flags, &p, &err)) {
        cli_error("pattern", "%s", err.msg);
        goto out;
    }
    if (!(text = slurp(file, &len))) {
        cli_error("pattern", "cannot read %s", file);
        goto out;
    }
    if (accord_pattern_obs_new(&obs) || load_observations(obs, text, len))
        goto out;
    if (accord_pattern_match(p, obs, &matched, &b, &err)) {
        cli_error("pattern", "%s", err.msg);
        goto out;
    }
    if (matched && want_explain)
        explain(obs, &b);
    rc = matched ? EXIT_OK : EXIT_FAIL;
out:
    free(text);
    accord_pattern_obs_free(obs);
    accord_pattern_free(p);
    return rc;
}

static int match_main(int argc, char **argv, unsigned flags)
{
    const char *pattern = NULL, *file = NULL;
    int want_explain = 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--explain") == 0)
            want_explain = 1;
        else if (strcmp(argv[i], "--pattern") == 0 && i + 1 < argc)
            pattern = argv[++i];
        else if (file || (argv[i][0] == '-' && argv[i][1] != '\0'))
            return cli_usage("pattern");
        else
            file = argv[i];
    }
    if (!pattern || !file)
        return cli_usage("pattern");
    return match_run(pattern, file, flags, want_explain);
}

int cmd_pattern(int argc, char **argv)
{
    int flags = 0;
    /* --stix-version may come anywhere after the verb: take it out first. */
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--stix-version") != 0)
            continue;
        if (i + 1 >= argc || (flags = version_flags(argv[i + 1])) < 0)
            return cli_usage("pattern");
        memmove(&argv[i], &argv[i + 2], (size_t)(argc - i - 2) * sizeof *argv);
        argc -= 2;
        i--;
    }
    if (argc < 2 || cli_is_help(argv[1]))
        return cli_usage("pattern");
    if (strcmp(argv[1], "check") == 0)
        return check_main(argc, argv, (unsigned)flags);
    if (strcmp(argv[1], "match") == 0)
        return match_main(argc, argv, (unsigned)flags);
    return cli_usage("pattern");
}
