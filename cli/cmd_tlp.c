/*
 * cmd_tlp.c - `accord tlp default [LEVEL]`: the level unmarked objects read as (tlp.h in the
 * library has the rule; accounts' organisations are set with `accord user`, RED lists with
 * `accord collection red`).
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static const char *const level_names[] = {"clear", "green", "amber", "amber+strict", "red"};

int cmd_tlp(int argc, char **argv)
{
    if (argc < 2 || argc > 3 || strcmp(argv[1], "default") != 0)
        return cli_usage("tlp");
    int level = -1;
    if (argc == 3 && (level = accord_export_tlp_parse(argv[2])) < 0) {
        cli_error("tlp", "%s: expected clear, green, amber, amber+strict or red", argv[2]);
        return EXIT_USAGE;
    }
    accord_store *s = cli_open_store(argc == 3 ? 0 : ACCORD_STORE_READONLY);
    if (!s)
        return EXIT_FAIL;
    accord_error err = {0};
    int rc = argc == 3 ? accord_tlp_default_set(s, level, &err)
                       : accord_tlp_default_get(s, &level, &err);
    accord_store_close(s);
    if (rc) {
        cli_error("tlp", "%s", err.msg);
        return EXIT_FAIL;
    }
    if (argc == 2)
        printf("%s\n", level_names[level]);
    return EXIT_OK;
}
