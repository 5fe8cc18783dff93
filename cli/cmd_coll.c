/*
 * cmd_coll.c - `accord collection add|list|rm|red|sign` and `accord root add|list`.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int print_collection(void *ud, const accord_collection *c)
{
    int64_t n = -1;
    int sign = 0;
    accord_error err;
    accord_collection_count(ud, c->id, &n, &err);
    accord_collection_sign_get(ud, c->id, &sign, &err);
    printf("%s  %-10s %-16s %10lld  %s%s\n", c->id, c->root, c->alias ? c->alias : "-",
           (long long)n, c->title, sign ? "  [signs]" : "");
    return 0;
}

static int print_root(void *ud, const accord_root *r)
{
    (void)ud;
    printf("%-16s %12lld  %s\n", r->name, (long long)r->max_content_length, r->title);
    return 0;
}

/* Parses --root/--alias/--description/--title/--max-content-length into the given slots. */
typedef struct coll_opts {
    const char *root, *alias, *description, *title;
    long long max_len;
} coll_opts;

static int parse_opts(const char *cmd, int argc, char **argv, coll_opts *o)
{
    static const struct option longopts[] = {{"root", required_argument, NULL, 'r'},
                                             {"alias", required_argument, NULL, 'a'},
                                             {"description", required_argument, NULL, 'd'},
                                             {"title", required_argument, NULL, 't'},
                                             {"max-content-length", required_argument, NULL, 'm'},
                                             {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c == 'r') {
            o->root = optarg;
        } else if (c == 'a') {
            o->alias = optarg;
        } else if (c == 'd') {
            o->description = optarg;
        } else if (c == 't') {
            o->title = optarg;
        } else if (c == 'm') {
            char *end;
            errno = 0;
            o->max_len = strtoll(optarg, &end, 10);
            if (errno || *end || o->max_len < 1) {
                cli_error(cmd, "--max-content-length %s: expected a positive number of bytes",
                          optarg);
                return -1;
            }
        } else {
            return -1;
        }
    }
    return 0;
}

static int finish(accord_store *s, int rc, const char *cmd, const accord_error *err)
{
    accord_store_close(s);
    if (rc) {
        cli_error(cmd, "%s", err->msg);
        return rc == ACCORD_EINVAL || rc == ACCORD_ENOTFOUND ? EXIT_USAGE : EXIT_FAIL;
    }
    return EXIT_OK;
}

static int print_red(void *ud, const char *collection, const char *account)
{
    (void)ud;
    printf("%s  %s\n", collection, account);
    return 0;
}

/* `collection red list [COLL]`, `collection red add|rm COLL ACCOUNT`: the RED lists. */
static int collection_red(int nargs, char **args)
{
    accord_error err = {0};
    accord_store *s;
    int rc;
    const char *sub = nargs ? args[0] : "";
    if (strcmp(sub, "list") == 0 && nargs <= 2) {
        if (!(s = cli_open_store(ACCORD_STORE_READONLY)))
            return EXIT_FAIL;
        rc = accord_red_list(s, nargs == 2 ? args[1] : NULL, print_red, NULL, &err);
    } else if ((strcmp(sub, "add") == 0 || strcmp(sub, "rm") == 0) && nargs == 3) {
        if (!(s = cli_open_store(0)))
            return EXIT_FAIL;
        rc = accord_red_set(s, args[1], args[2], strcmp(sub, "add") == 0, &err);
    } else {
        return cli_usage("collection");
    }
    return finish(s, rc, "collection", &err);
}

/* `collection sign COLL [on|off]`: whether TAXII POSTs into COLL are signed by this node. */
static int collection_sign(int nargs, char **args)
{
    accord_error err = {0};
    accord_store *s;
    int rc, on = 0;
    if (nargs == 1) {
        if (!(s = cli_open_store(ACCORD_STORE_READONLY)))
            return EXIT_FAIL;
        if (!(rc = accord_collection_sign_get(s, args[0], &on, &err)))
            printf("%s\t%s\n", args[0], on ? "on" : "off");
        return finish(s, rc, "collection", &err);
    }
    if (nargs != 2 || (strcmp(args[1], "on") != 0 && strcmp(args[1], "off") != 0))
        return cli_usage("collection");
    if (!(s = cli_open_store(0)))
        return EXIT_FAIL;
    rc = accord_collection_sign_set(s, cli_data_dir(), args[0], strcmp(args[1], "on") == 0,
                                    &err);
    return finish(s, rc, "collection", &err);
}

int cmd_collection(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage("collection");
    const char *verb = argv[1];
    coll_opts o = {0};
    if (parse_opts("collection", argc - 1, argv + 1, &o))
        return cli_usage("collection");
    int nargs = argc - 1 - optind;
    char **args = argv + 1 + optind;
    accord_error err = {0};
    accord_store *s;
    int rc;
    if (strcmp(verb, "red") == 0)
        return collection_red(nargs, args);
    if (strcmp(verb, "sign") == 0)
        return collection_sign(nargs, args);
    if (strcmp(verb, "list") == 0 && nargs == 0) {
        if (!(s = cli_open_store(ACCORD_STORE_READONLY)))
            return EXIT_FAIL;
        printf("%-36s  %-10s %-16s %10s  %s\n", "id", "root", "alias", "versions", "title");
        rc = accord_collection_list(s, o.root, print_collection, s, &err);
    } else if (strcmp(verb, "add") == 0 && nargs == 1) {
        if (!(s = cli_open_store(0)))
            return EXIT_FAIL;
        char id[37];
        rc = accord_collection_add(s, o.root, args[0], o.alias, o.description, id, &err);
        if (!rc) /* it holds the signature extension-definition from the start */
            rc = accord_collection_extdef_publish(s, &err);
        if (!rc)
            printf("%s\n", id);
    } else if (strcmp(verb, "rm") == 0 && nargs == 1) {
        if (!(s = cli_open_store(0)))
            return EXIT_FAIL;
        rc = accord_collection_remove(s, args[0], &err);
    } else {
        return cli_usage("collection");
    }
    return finish(s, rc, "collection", &err);
}

int cmd_root(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage("root");
    const char *verb = argv[1];
    coll_opts o = {0};
    if (parse_opts("root", argc - 1, argv + 1, &o))
        return cli_usage("root");
    int nargs = argc - 1 - optind;
    char **args = argv + 1 + optind;
    accord_error err = {0};
    accord_store *s;
    int rc;
    if (strcmp(verb, "list") == 0 && nargs == 0) {
        if (!(s = cli_open_store(ACCORD_STORE_READONLY)))
            return EXIT_FAIL;
        printf("%-16s %12s  %s\n", "name", "max bytes", "title");
        rc = accord_root_list(s, print_root, NULL, &err);
    } else if (strcmp(verb, "add") == 0 && nargs == 1) {
        if (!(s = cli_open_store(0)))
            return EXIT_FAIL;
        rc = accord_root_add(s, args[0], o.title, o.description, o.max_len, &err);
    } else {
        return cli_usage("root");
    }
    return finish(s, rc, "root", &err);
}
