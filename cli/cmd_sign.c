/*
 * cmd_sign.c - `accord sign [--batch N] [-o OUT] [--quiet] FILE|-`: a producer signs a STIX
 * document's objects with this node's organisation (src/provenance_sign.c does the work).
 *
 * The signed bundle goes to stdout, or to OUT through a temporary file renamed into place only
 * when every object was signed, so a failed run never leaves a half-signed OUT behind.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* --batch N: 1 .. 65536 (the signature extension's limit). */
static int parse_batch(const char *v, uint32_t *out)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || *end || end == v || n < 1 || n > 65536) {
        cli_error("sign", "--batch %s: expected 1 to 65536 objects", v);
        return -1;
    }
    *out = (uint32_t)n;
    return 0;
}

int cmd_sign(int argc, char **argv)
{
    static const struct option longopts[] = {{"batch", required_argument, NULL, 'b'},
                                             {"output", required_argument, NULL, 'o'},
                                             {"quiet", no_argument, NULL, 'q'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    uint32_t batch = 0;
    const char *outp = NULL;
    int quiet = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
        if (c == 'b' && parse_batch(optarg, &batch) == 0)
            continue;
        if (c == 'o')
            outp = optarg;
        else if (c == 'q')
            quiet = 1;
        else
            return cli_usage("sign");
    }
    if (optind != argc - 1)
        return cli_usage("sign");
    const char *in = argv[optind];
    int in_fd = strcmp(in, "-") == 0 ? STDIN_FILENO : open(in, O_RDONLY | O_CLOEXEC);
    if (in_fd < 0) {
        cli_error("sign", "%s: %s", in, strerror(errno));
        return EXIT_FAIL;
    }
    char tmp[4096];
    int out_fd = STDOUT_FILENO;
    if (outp) {
        if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", outp) >= sizeof tmp ||
            (out_fd = mkstemp(tmp)) < 0) {
            cli_error("sign", "%s: cannot create a file beside it: %s", outp, strerror(errno));
            if (in_fd != STDIN_FILENO)
                close(in_fd);
            return EXIT_FAIL;
        }
    }
    accord_store *s = cli_open_store(ACCORD_STORE_READONLY);
    accord_sign_stats st = {0};
    accord_error err = {0};
    int rc = s ? accord_sign_fd(s, cli_data_dir(), in_fd, out_fd, batch, &st, &err) : EXIT_FAIL;
    accord_store_close(s);
    if (in_fd != STDIN_FILENO)
        close(in_fd);
    if (outp) {
        if (!rc && (fsync(out_fd) != 0 || rename(tmp, outp) != 0)) {
            rc = ACCORD_EIO;
            snprintf(err.msg, sizeof err.msg, "%s: %s", outp, strerror(errno));
        }
        close(out_fd);
        if (rc)
            unlink(tmp);
    }
    if (!s)
        return EXIT_FAIL;
    if (rc) {
        cli_error("sign", "%s", err.msg);
        return rc == ACCORD_ESTIX || rc == ACCORD_EJSON ? EXIT_USAGE : EXIT_FAIL;
    }
    if (!quiet)
        fprintf(stderr,
                "accord sign: %llu objects, %llu signed with %llu signature(s), %llu passed "
                "unchanged\n",
                (unsigned long long)st.objects, (unsigned long long)st.signed_objects,
                (unsigned long long)st.signatures, (unsigned long long)st.kept);
    return EXIT_OK;
}
