/*
 * cmd_jcs.c - `accord jcs [FILE|-]`: print a JSON document's RFC 8785 canonical form.
 *
 * Signatures in accord cover the canonical form of an object, so anyone must be able to see the
 * exact bytes: this command prints them and nothing else (no trailing newline), so that
 * `accord jcs obj.json | sha256sum` hashes what was signed.  All the rules live in the library
 * (src/jcs.c); this file only reads the input and reports.
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The largest document read: far above any STIX object, well below memory trouble. */
#define JCS_MAX_INPUT ((size_t)256 << 20)

/* Reads all of f into a malloc'd buffer; 0, or -1 (errno set; EFBIG past the cap). */
static int read_all(FILE *f, char **out, size_t *out_len)
{
    size_t cap = 65536, len = 0;
    char *p = malloc(cap);
    if (!p)
        return -1;
    for (;;) {
        if (len == cap) {
            if (cap >= JCS_MAX_INPUT) {
                free(p);
                errno = EFBIG;
                return -1;
            }
            char *q = realloc(p, cap * 2);
            if (!q) {
                free(p);
                return -1;
            }
            p = q;
            cap *= 2;
        }
        size_t r = fread(p + len, 1, cap - len, f);
        len += r;
        if (r == 0) {
            if (ferror(f)) {
                free(p);
                errno = EIO;
                return -1;
            }
            break;
        }
    }
    *out = p;
    *out_len = len;
    return 0;
}

int cmd_jcs(int argc, char **argv)
{
    const char *path = "-";
    if (argc > 2)
        return cli_usage("jcs");
    if (argc == 2)
        path = argv[1];
    if (path[0] == '-' && path[1] != '\0')
        return cli_usage("jcs");
    int is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (!f) {
        cli_error("jcs", "%s: %s", path, strerror(errno));
        return EXIT_FAIL;
    }
    char *text = NULL, *canon = NULL;
    size_t len = 0, canon_len = 0;
    int rc = read_all(f, &text, &len);
    int saved = errno;
    if (!is_stdin)
        fclose(f);
    if (rc != 0) {
        cli_error("jcs", "%s: %s", is_stdin ? "stdin" : path, strerror(saved));
        return EXIT_FAIL;
    }
    accord_error err = {0};
    rc = accord_jcs(text, len, &canon, &canon_len, &err);
    free(text);
    if (rc != 0) {
        cli_error("jcs", "%s: %s", is_stdin ? "stdin" : path, err.msg);
        return rc == ACCORD_EJSON ? EXIT_USAGE : EXIT_FAIL;
    }
    int out_rc = EXIT_OK;
    if (fwrite(canon, 1, canon_len, stdout) != canon_len || fflush(stdout) != 0) {
        cli_error("jcs", "stdout: %s", strerror(errno));
        out_rc = EXIT_FAIL;
    }
    free(canon);
    return out_rc;
}
