/*
 * cmd_member.c - `accord member init|show|rotate|revoke`: this node's organisation and its keys.
 *
 * The library does the work (src/member.c); this file parses options and prints one line per
 * key: `identity<TAB>keyid<TAB>purpose<TAB>status<TAB>since`.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static int print_key(void *ud, const char *identity, const char *name, const accord_member_key *k)
{
    int *first = ud;
    if (*first) {
        printf("# %s %s\n", identity, name);
        *first = 0;
    }
    printf("%s\t%s\t%s\t%s\t%s\n", identity, k->keyid, k->purpose, k->status, k->since);
    return 0;
}

/* Takes "--opt VALUE" at argv[*i] into *out; 1 when taken, -1 when VALUE is missing. */
static int opt_value(int argc, char **argv, int *i, const char *opt, const char **out)
{
    if (strcmp(argv[*i], opt) != 0)
        return 0;
    if (*i + 1 >= argc)
        return -1;
    *out = argv[++*i];
    return 1;
}

int cmd_member(int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : NULL, *name = NULL, *root = NULL, *id = NULL;
    const char *rotate = NULL, *keyid = NULL;
    if (!sub || cli_is_help(sub))
        return cli_usage("member");
    for (int i = 2; i < argc; i++) {
        int r;
        if ((r = opt_value(argc, argv, &i, "--name", &name)) ||
            (r = opt_value(argc, argv, &i, "--root-out", &root)) ||
            (r = opt_value(argc, argv, &i, "--root", &root))) {
            if (r < 0)
                return cli_usage("member");
        } else if (strcmp(argv[i], "--signing") == 0 || strcmp(argv[i], "--node") == 0) {
            rotate = argv[i] + 2;
        } else if (argv[i][0] != '-' && !id) {
            id = argv[i];
        } else {
            return cli_usage("member");
        }
    }
    if (strcmp(sub, "revoke") == 0)
        keyid = id;
    int known = strcmp(sub, "init") == 0 || strcmp(sub, "show") == 0 ||
                strcmp(sub, "rotate") == 0 || strcmp(sub, "revoke") == 0;
    if (!known || (strcmp(sub, "init") == 0 && (!name || id)) ||
        (strcmp(sub, "rotate") == 0 && (!rotate || id)) || (strcmp(sub, "revoke") == 0 && !keyid))
        return cli_usage("member");
    accord_store *s = cli_open_store(strcmp(sub, "show") == 0 ? ACCORD_STORE_READONLY : 0);
    if (!s)
        return EXIT_FAIL;
    accord_error err = {0};
    int first = 1, rc;
    if (strcmp(sub, "init") == 0)
        rc = accord_member_init(s, cli_data_dir(), name, root, print_key, &first, &err);
    else if (strcmp(sub, "show") == 0)
        rc = accord_member_keys(s, id, print_key, &first, &err);
    else
        rc = accord_member_update(s, cli_data_dir(), root, rotate, keyid, print_key, &first, &err);
    accord_store_close(s);
    if (rc) {
        cli_error("member", "%s", err.msg);
        return rc == ACCORD_EINVAL ? EXIT_USAGE : EXIT_FAIL;
    }
    return EXIT_OK;
}
