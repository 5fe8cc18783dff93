/*
 * cmd_roster.c - `accord roster`: the coalition's membership and admission by vote
 * (include/accord_roster.h).  The library does the work; this file reads files, parses options
 * and prints.  `roster sign` works without a store, for root keys kept on an air-gapped host.
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *slurp(const char *path, size_t *len)
{
    return cli_slurp("roster", path, (size_t)16 << 20, len);
}

/* Takes "--opt VALUE" at argv[*i]; 1 when taken, -1 when VALUE is missing, 0 when not opt. */
static int opt_value(int argc, char **argv, int *i, const char *opt, const char **out)
{
    if (strcmp(argv[*i], opt) != 0)
        return 0;
    if (*i + 1 >= argc)
        return -1;
    *out = argv[++*i];
    return 1;
}

static int print_roster(void *ud, const accord_roster_info *r)
{
    (void)ud;
    printf("version %lld  %s  %s  threshold %lld  %zu members", (long long)r->version, r->state,
           r->hash, (long long)r->threshold, r->members);
    if (strcmp(r->state, "current") != 0)
        printf("  votes %zu/%zu, new members voted %zu/%zu, %s %s%s", r->votes, r->needed,
               r->new_voted, r->new_members, strcmp(r->state, "expired") == 0 ? "ended" : "until",
               r->expires, r->effective ? " (quorum)" : "");
    printf("\n");
    for (size_t i = 0; i < r->members; i++)
        printf("  %s  %s\n", r->member_ids[i], r->member_names[i]);
    return 0;
}

/* The library's message without its "roster: " prefix: cli_error prints the command's name. */
static const char *why(const accord_error *err)
{
    return strncmp(err->msg, "roster: ", 8) == 0 ? err->msg + 8 : err->msg;
}

static int finish(accord_store *s, int rc, const accord_error *err)
{
    accord_store_close(s);
    if (rc) {
        cli_error("roster", "%s", why(err));
        return rc == ACCORD_EINVAL || rc == ACCORD_ENOTFOUND ? EXIT_USAGE : EXIT_FAIL;
    }
    return EXIT_OK;
}

static int parse_threshold(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < 1 || v > 64) {
        cli_error("roster", "--threshold %s: expected 1 to 64", s);
        return -1;
    }
    *out = v;
    return 0;
}

static int do_create(int argc, char **argv)
{
    const char *th = NULL;
    const char *files[64];
    size_t n = 0;
    for (int i = 2; i < argc; i++) {
        int r = opt_value(argc, argv, &i, "--threshold", &th);
        if (r < 0 || (r == 0 && (argv[i][0] == '-' || n == 64)))
            return cli_usage("roster");
        if (r == 0)
            files[n++] = argv[i];
    }
    int64_t t;
    if (!th || !n || parse_threshold(th, &t))
        return cli_usage("roster");
    char *texts[64] = {0};
    size_t lens[64];
    int ex = EXIT_OK;
    for (size_t i = 0; i < n && ex == EXIT_OK; i++)
        if (!(texts[i] = slurp(files[i], &lens[i])))
            ex = EXIT_FAIL;
    accord_store *s = ex == EXIT_OK ? cli_open_store(0) : NULL;
    if (s) {
        char hash[ACCORD_ROSTER_HASH_BUFLEN];
        accord_error err = {0};
        int rc = accord_roster_create(s, (const char *const *)texts, lens, n, t, hash, &err);
        if (!rc)
            printf("roster version 1 %s (pinned)\n", hash);
        ex = finish(s, rc, &err);
    } else {
        ex = EXIT_FAIL;
    }
    for (size_t i = 0; i < n; i++)
        free(texts[i]);
    return ex;
}

static int do_propose(int argc, char **argv)
{
    const char *add = NULL, *rm = NULL, *th = NULL, *exp = NULL;
    for (int i = 2; i < argc; i++) {
        int r;
        if ((r = opt_value(argc, argv, &i, "--add", &add)) ||
            (r = opt_value(argc, argv, &i, "--remove", &rm)) ||
            (r = opt_value(argc, argv, &i, "--threshold", &th)) ||
            (r = opt_value(argc, argv, &i, "--expires", &exp))) {
            if (r < 0)
                return cli_usage("roster");
        } else {
            return cli_usage("roster");
        }
    }
    int64_t t = 0;
    if ((!add && !rm && !th) || (th && parse_threshold(th, &t)))
        return cli_usage("roster");
    size_t len = 0;
    char *text = add ? slurp(add, &len) : NULL;
    if (add && !text)
        return EXIT_FAIL;
    accord_store *s = cli_open_store(0);
    if (!s) {
        free(text);
        return EXIT_FAIL;
    }
    char hash[ACCORD_ROSTER_HASH_BUFLEN];
    accord_error err = {0};
    int rc = accord_roster_propose(s, text, len, rm, t, exp, 0, hash, &err);
    if (!rc)
        printf("proposed %s\n", hash);
    free(text);
    return finish(s, rc, &err);
}

/* What an import changed; a file whose every part was stored before says so, and only that. */
static void print_imported(const accord_roster_imported *r)
{
    if (!r->version_new && !r->votes_new) {
        printf("already recorded: ");
        if (r->version_known)
            printf("the roster version%s", r->votes_known ? " and " : "");
        if (r->votes_known)
            printf("%zu vote%s", r->votes_known, r->votes_known == 1 ? "" : "s");
        printf(" stored before; nothing changed\n");
        return;
    }
    printf("imported: ");
    if (r->version_new)
        printf("the roster version, ");
    printf("%zu new vote%s", r->votes_new, r->votes_new == 1 ? "" : "s");
    if (r->votes_known)
        printf(" (%zu already recorded)", r->votes_known);
    printf("%s\n", r->effective ? "; a proposal took effect" : "");
}

static int do_vote(int argc, char **argv)
{
    const char *root = NULL, *hash = NULL;
    for (int i = 2; i < argc; i++) {
        int r = opt_value(argc, argv, &i, "--root", &root);
        if (r < 0 || (r == 0 && (argv[i][0] == '-' || hash)))
            return cli_usage("roster");
        if (r == 0)
            hash = argv[i];
    }
    accord_store *s = cli_open_store(0);
    if (!s)
        return EXIT_FAIL;
    accord_error err = {0};
    accord_roster_imported res;
    int rc = accord_roster_vote(s, cli_data_dir(), hash, root, 0, &res, &err);
    if (!rc && res.votes_known) /* this key voted for it before: as import-signature says */
        print_imported(&res);
    else if (!rc)
        printf("voted%s\n", res.effective ? "; the proposal took effect" : "");
    return finish(s, rc, &err);
}

static int do_sign(int argc, char **argv)
{
    const char *root = NULL, *member = NULL, *file = NULL;
    for (int i = 2; i < argc; i++) {
        int r;
        if ((r = opt_value(argc, argv, &i, "--root", &root)) ||
            (r = opt_value(argc, argv, &i, "--member", &member))) {
            if (r < 0)
                return cli_usage("roster");
        } else if (argv[i][0] != '-' && !file) {
            file = argv[i];
        } else {
            return cli_usage("roster");
        }
    }
    if (!root || !member || !file)
        return cli_usage("roster");
    size_t len, out_len;
    char *text = slurp(file, &len), *out = NULL;
    if (!text)
        return EXIT_FAIL;
    accord_error err = {0};
    int rc = accord_roster_sign(text, len, root, member, &out, &out_len, &err);
    free(text);
    if (rc) {
        cli_error("roster", "%s", why(&err));
        return EXIT_FAIL;
    }
    fwrite(out, 1, out_len, stdout);
    free(out);
    return EXIT_OK;
}

static int do_import(int argc, char **argv)
{
    if (argc != 3)
        return cli_usage("roster");
    size_t len;
    char *text = slurp(argv[2], &len);
    if (!text)
        return EXIT_FAIL;
    accord_store *s = cli_open_store(0);
    if (!s) {
        free(text);
        return EXIT_FAIL;
    }
    accord_error err = {0};
    accord_roster_imported res;
    int rc = accord_roster_import(s, text, len, 0, &res, &err);
    if (!rc) {
        print_imported(&res);
    } else { /* name the file: several votes may be imported in a row */
        char msg[sizeof(err.msg)];
        const char *reason = why(&err);
        size_t n = strlen(argv[2]);
        if (n > sizeof(msg) / 2)
            n = sizeof(msg) / 2;
        memcpy(msg, argv[2], n); /* the file's name, then why, cut to the buffer */
        snprintf(msg + n, sizeof(msg) - n, ": %.*s", (int)(sizeof(msg) - n - 3), reason);
        memcpy(err.msg, msg, sizeof(msg));
    }
    free(text);
    return finish(s, rc, &err);
}

int cmd_roster(int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : NULL;
    if (!sub || cli_is_help(sub))
        return cli_usage("roster");
    if (strcmp(sub, "create") == 0)
        return do_create(argc, argv);
    if (strcmp(sub, "propose") == 0)
        return do_propose(argc, argv);
    if (strcmp(sub, "vote") == 0)
        return do_vote(argc, argv);
    if (strcmp(sub, "sign") == 0)
        return do_sign(argc, argv);
    if (strcmp(sub, "import") == 0 || strcmp(sub, "import-signature") == 0)
        return do_import(argc, argv);
    int ro = strcmp(sub, "status") == 0 || strcmp(sub, "export") == 0;
    int pin = strcmp(sub, "pin") == 0, resolve = strcmp(sub, "resolve") == 0;
    if (!ro && !pin && !resolve)
        return cli_usage("roster");
    if (((pin || resolve) && argc != 3) || (strcmp(sub, "status") == 0 && argc != 2) ||
        (strcmp(sub, "export") == 0 && argc > 3))
        return cli_usage("roster");
    accord_store *s = cli_open_store(ro ? ACCORD_STORE_READONLY : 0);
    if (!s)
        return EXIT_FAIL;
    accord_error err = {0};
    int rc, halted = 0;
    char *out = NULL;
    size_t len = 0;
    if (pin) {
        if (!(rc = accord_roster_pin(s, argv[2], &err)))
            printf("version 1 pinned to %s\n", argv[2]);
    } else if (resolve) {
        if (!(rc = accord_roster_resolve(s, argv[2], &err)) &&
            !(rc = accord_roster_status(s, print_roster, NULL, &halted, &err))) {
            if (halted)
                printf("GOVERNANCE STOPPED: %s\n", err.msg);
            else
                printf("resolved: governance resumes\n");
        }
    } else if (strcmp(sub, "status") == 0) {
        rc = accord_roster_status(s, print_roster, NULL, &halted, &err);
        if (!rc && halted)
            printf("GOVERNANCE STOPPED: %s\n", err.msg);
    } else {
        if (!(rc = accord_roster_export(s, argc == 3 ? argv[2] : NULL, &out, &len, &err)))
            fwrite(out, 1, len, stdout);
        free(out);
    }
    return finish(s, rc, &err);
}
