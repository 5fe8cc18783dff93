/*
 * cmd_audit.c - `accord audit`: checkpoints, export, offline verification and RFC 9162 proofs of
 * the tamper-evident audit log (include/accord_audit.h).
 *
 * verify and check never open the store: they work on what an auditor was handed.  Exit codes:
 * 0 intact, 1 tampered or unreadable (the message names the first bad record, "truncated" or
 * "fork"), 2 usage.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

char *cli_slurp(const char *cmd, const char *path, size_t max, size_t *len)
{
    FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!fp) {
        cli_error(cmd, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char *p = malloc(max + 1);
    size_t n = p ? fread(p, 1, max + 1, fp) : 0;
    if (fp != stdin)
        fclose(fp);
    if (!p || n > max) {
        cli_error(cmd, "%s: larger than %zu bytes", path, max);
        free(p);
        return NULL;
    }
    p[n] = '\0';
    *len = n;
    return p;
}

static char *slurp(const char *path, size_t max, size_t *len)
{
    return cli_slurp("audit", path, max, len);
}

/* --key VKEY or --key FILE (of verifier keys): the keys text, or NULL when none was given. */
static int key_option(int argc, char **argv, char **keys, int *first_arg)
{
    static const struct option longopts[] = {{"key", required_argument, NULL, 'k'},
                                             {NULL, 0, NULL, 0}};
    int c;
    *keys = NULL;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c != 'k')
            return -1;
        struct stat sb;
        size_t len;
        free(*keys);
        *keys = stat(optarg, &sb) == 0 ? slurp(optarg, 1 << 20, &len) : strdup(optarg);
        if (!*keys)
            return -1;
    }
    *first_arg = optind;
    return 0;
}

static int print_summary(const char *verb, const accord_audit_summary *s)
{
    printf("%s: %llu records, %llu checkpoints, latest %llu records (root %s) of %s\n", verb,
           (unsigned long long)s->records, (unsigned long long)s->checkpoints,
           (unsigned long long)s->signed_size, s->root[0] ? s->root : "-", s->origin);
    if (s->unsigned_records)
        printf("%llu records after the latest checkpoint are not signed yet\n",
               (unsigned long long)s->unsigned_records);
    return EXIT_OK;
}

/*
 * What `audit verify` could check: the signed records are intact; records after the latest
 * checkpoint are said to be covered by none (and how far leaves.bin vouches for them); without
 * leaves.bin, the checkpoint ranges whose records were checked only as a whole.
 */
static void print_verified(const accord_audit_summary *s)
{
    unsigned long long n = s->records, sz = s->signed_size, lv = s->leaves;
    if (sz)
        printf("intact: records 1..%llu, signed by %llu checkpoints (latest %s, root %s) of %s\n",
               sz, (unsigned long long)s->checkpoints, s->latest, s->root, s->origin);
    else
        printf("intact: no record is signed yet (%llu checkpoints of the empty log) of %s\n",
               (unsigned long long)s->checkpoints, s->origin);
    unsigned long long to = lv < n ? (lv > sz ? lv : sz) : n; /* leaves.bin vouches up to here */
    if (to > sz)
        printf("NOT COVERED by a checkpoint yet: records %llu..%llu after %s; they match the hashes "
               "in leaves.bin, which nothing signs\n",
               sz + 1, to, s->latest);
    if (to < n)
        printf("NOT CHECKED: records %llu..%llu after %s: no checkpoint covers them and leaves.bin "
               "%s\n",
               to + 1, n, s->latest, lv ? "stops before them" : "is missing");
    if (lv < sz)
        printf("leaves.bin %s: records %llu..%llu were checked only as whole checkpoint ranges "
               "(%s to %s), so an edit there would be named by its range, not its record\n",
               lv ? "is short" : "is missing", lv + 1, sz, s->unleaved, s->latest);
}

static int fail(int rc, const accord_error *err)
{
    cli_error("audit", "%s", err->msg);
    return rc == ACCORD_ENOTFOUND ? EXIT_USAGE : EXIT_FAIL;
}

static int parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || !*s || *s == '-' || v == 0) {
        cli_error("audit", "%s: expected a positive number", s);
        return -1;
    }
    *out = v;
    return 0;
}

static int do_verify(int argc, char **argv)
{
    char *keys;
    int i;
    if (key_option(argc, argv, &keys, &i) || argc - i != 1) {
        free(keys);
        return cli_usage("audit");
    }
    accord_audit_summary sum;
    accord_error err = {0};
    int rc = accord_audit_verify(argv[i], keys, &sum, &err);
    free(keys);
    if (rc) {
        printf("FAILED: %s\n", err.msg);
        return EXIT_FAIL;
    }
    print_verified(&sum);
    printf("checkpoints verified with %s\n", sum.keys);
    return EXIT_OK;
}

static int do_check(int argc, char **argv)
{
    char *keys, *text;
    int i;
    size_t len;
    if (key_option(argc, argv, &keys, &i) || argc - i != 1) {
        free(keys);
        return cli_usage("audit");
    }
    if (!(text = slurp(argv[i], 1 << 20, &len))) {
        free(keys);
        return EXIT_FAIL;
    }
    char what[512];
    accord_error err = {0};
    int rc = accord_audit_proof_verify(text, len, keys, what, sizeof(what), &err);
    free(text);
    free(keys);
    if (rc) {
        printf("FAILED: %s\n", err.msg);
        return EXIT_FAIL;
    }
    printf("verified: %s%s\n", what, keys ? "" : " (with the keys the proof names)");
    return EXIT_OK;
}

static int print_checkpoint(void *ud, const accord_audit_checkpoint_info *c)
{
    (void)ud;
    printf("%12llu  %s\n", (unsigned long long)c->size, c->root);
    return 0;
}

/* The subcommands that open the store. */
static int with_store(const char *sub, int argc, char **argv)
{
    int ro =
        strcmp(sub, "prove") == 0 || strcmp(sub, "consistency") == 0 || strcmp(sub, "list") == 0;
    accord_store *s = cli_open_store(ro ? ACCORD_STORE_READONLY : 0);
    if (!s)
        return EXIT_FAIL;
    accord_error err = {0};
    int rc = 0, ex = EXIT_OK;
    char *out = NULL, vkey[512];
    size_t len = 0;
    uint64_t a = 0, b = 0;
    if (strcmp(sub, "export") == 0 && argc == 2) {
        accord_audit_summary sum;
        if (!(rc = accord_audit_export(s, argv[1], &sum, &err)))
            ex = print_summary("exported", &sum);
    } else if (strcmp(sub, "prove") == 0 && argc == 2) {
        if (parse_size(argv[1], &a))
            ex = EXIT_USAGE;
        else
            rc = accord_audit_prove(s, a, &out, &len, &err);
    } else if (strcmp(sub, "consistency") == 0 && argc == 3) {
        if (parse_size(argv[1], &a) || parse_size(argv[2], &b))
            ex = EXIT_USAGE;
        else
            rc = accord_audit_consistency(s, a, b, &out, &len, &err);
    } else if (strcmp(sub, "checkpoint") == 0 && argc == 1) {
        if (!(rc = accord_audit_checkpoint(s, &a, &err)))
            printf("latest checkpoint: %llu records\n", (unsigned long long)a);
    } else if (strcmp(sub, "list") == 0 && argc == 1) {
        rc = accord_audit_checkpoints(s, print_checkpoint, NULL, &err);
    } else if (strcmp(sub, "key") == 0 && argc == 1) {
        if (!(rc = accord_audit_vkey(s, vkey, sizeof(vkey), &err)))
            printf("%s\n", vkey);
    } else {
        ex = cli_usage("audit");
    }
    if (out)
        fwrite(out, 1, len, stdout);
    free(out);
    accord_store_close(s);
    return rc ? fail(rc, &err) : ex;
}

int cmd_audit(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage("audit");
    const char *sub = argv[1];
    if (strcmp(sub, "verify") == 0)
        return do_verify(argc - 1, argv + 1);
    if (strcmp(sub, "check") == 0)
        return do_check(argc - 1, argv + 1);
    return with_store(sub, argc - 1, argv + 1);
}
