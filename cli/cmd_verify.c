/*
 * cmd_verify.c - `accord verify [--all-versions] FILE|ID|-`: who produced each object.
 *
 * Prints one line per object: `id<TAB>modified<TAB>status`, and for invalid objects a fourth
 * column with the reason.  The judgement is the library's (src/provenance_verify.c).
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int print_result(void *ud, const accord_verify_result *r)
{
    (void)ud;
    printf("%s\t%s\t%s", r->id ? r->id : "-", r->modified, r->status);
    if (r->reason && *r->reason)
        printf("\t%s", r->reason);
    putchar('\n');
    return 0;
}

/* An argument names a stored object when it is shaped "type--uuid" and is not a file. */
static int is_object_id(const char *arg)
{
    struct stat st;
    const char *dd = strstr(arg, "--");
    return dd && dd > arg && strlen(dd + 2) == 36 && !strchr(arg, '/') && stat(arg, &st) != 0;
}

int cmd_verify(int argc, char **argv)
{
    unsigned flags = 0;
    const char *arg = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--all-versions") == 0)
            flags |= ACCORD_GET_ALL_VERSIONS;
        else if (cli_is_help(argv[i]) || arg || (argv[i][0] == '-' && argv[i][1]))
            return cli_usage("verify");
        else
            arg = argv[i];
    }
    if (!arg)
        return cli_usage("verify");
    int by_id = is_object_id(arg);
    accord_store *s = NULL;
    accord_error err = {0};
    /* a file can be checked without a store: only keys in the file are known then */
    if (accord_store_open(cli_data_dir(), ACCORD_STORE_READONLY, &s, &err) != 0 && by_id) {
        cli_error("verify", "%s", err.msg);
        return EXIT_FAIL;
    }
    int rc;
    if (by_id) {
        rc = accord_verify_id(s, arg, flags, print_result, NULL, &err);
    } else {
        int fd = strcmp(arg, "-") == 0 ? STDIN_FILENO : open(arg, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            cli_error("verify", "%s: %s", arg, strerror(errno));
            accord_store_close(s);
            return EXIT_FAIL;
        }
        rc = accord_verify_fd(s, fd, print_result, NULL, &err);
        if (fd != STDIN_FILENO)
            close(fd);
    }
    accord_store_close(s);
    if (fflush(stdout) != 0)
        return EXIT_FAIL;
    if (rc == ACCORD_ESTIX)
        return EXIT_PARTIAL;
    if (rc) {
        cli_error("verify", "%s", err.msg);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}
