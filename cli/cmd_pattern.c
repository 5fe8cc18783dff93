/*
 * cmd_pattern.c - `accord pattern check|match`.
 */
#include "cli.h"

#include <stdio.h>

int cmd_pattern(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_error("pattern", "not available yet");
    return EXIT_FAIL;
}
