/*
 * cmd_csaf.c - `accord csaf import` and `accord osv import`: vendors' advisories into the store.
 *
 *   accord csaf import [--collection C] FILE|DIR ...
 *   accord osv import [--collection C] FILE|DIR ...
 *   accord csaf export ID      (an imported vulnerability as this node's CSAF advisory)
 *   accord csaf export --out DIR ID...   (each into DIR/ID.json)
 *
 * A directory is read recursively for *.json files, in name order.  Each document is imported on
 * its own (one transaction): a refused one is reported with its file, JSON path and rule, and the
 * others go on.  Exit 0 when every document was imported, 3 when some were refused, 1 when none
 * could be.
 */
#include "accord_case.h"
#include "cli.h"

#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FILE_MAX (64u << 20)

typedef struct run {
    const char *cmd;
    int format;
    const char *collection;
    accord_store *s;
    unsigned docs, refused;
    accord_import_stats total;
} run;

static void import_file(run *r, const char *path)
{
    size_t len;
    char *text = cli_slurp(r->cmd, path, FILE_MAX, &len);
    accord_error err = {0};
    accord_import_stats st = {0};
    r->docs++;
    if (!text) {
        r->refused++;
        return;
    }
    if (accord_advisory_import(r->s, r->format, path, text, len, r->collection, &st, &err)) {
        r->refused++;
        cli_error(r->cmd, "%s", err.msg);
    } else {
        printf("%s: %llu object(s), %llu new, %llu new version(s), %llu unchanged\n", path,
               (unsigned long long)st.read, (unsigned long long)st.accepted,
               (unsigned long long)st.versions, (unsigned long long)st.duplicates);
        r->total.read += st.read;
    }
    free(text);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static void import_path(run *r, const char *path, int depth)
{
    struct stat sb;
    if (stat(path, &sb) != 0) {
        cli_error(r->cmd, "%s: no such file or directory", path);
        r->docs++, r->refused++;
        return;
    }
    if (!S_ISDIR(sb.st_mode)) {
        import_file(r, path);
        return;
    }
    struct dirent **names;
    int n = depth < 16 ? scandir(path, &names, NULL, by_name) : -1;
    if (n < 0) {
        cli_error(r->cmd, "%s: cannot read the directory", path);
        r->docs++, r->refused++;
        return;
    }
    for (int i = 0; i < n; i++) {
        const char *nm = names[i]->d_name;
        size_t l = strlen(nm);
        char sub[4096];
        if (nm[0] != '.' && (size_t)snprintf(sub, sizeof(sub), "%s/%s", path, nm) < sizeof(sub) &&
            stat(sub, &sb) == 0 &&
            (S_ISDIR(sb.st_mode) || (l > 5 && strcmp(nm + l - 5, ".json") == 0)))
            import_path(r, sub, depth + 1);
        free(names[i]);
    }
    free(names);
}

/* accord csaf export ID: the vulnerability as this node's CSAF advisory on stdout;
 * accord csaf export --out DIR ID...: each into DIR/ID.json (the id without its type). */
static int export_cmd(int argc, char **argv)
{
    const char *dir = NULL;
    int first = 2;
    if (argc > 3 && strcmp(argv[2], "--out") == 0)
        dir = argv[3], first = 4;
    if (argc <= first || (!dir && argc != 3))
        return cli_usage("csaf");
    accord_store *s = cli_open_store(ACCORD_STORE_READONLY);
    if (!s)
        return EXIT_FAIL;
    int failed = 0;
    for (int i = first; i < argc; i++) {
        accord_error err = {0};
        char *json = NULL;
        if (accord_csaf_export(s, argv[i], &json, &err)) {
            cli_error("csaf", "%s", err.msg);
            failed++;
            continue;
        }
        if (!dir) {
            printf("%s\n", json);
        } else {
            const char *name = strstr(argv[i], "--") ? strstr(argv[i], "--") + 2 : argv[i];
            char path[4096];
            FILE *f = NULL;
            if (strchr(name, '/') ||
                (size_t)snprintf(path, sizeof(path), "%s/%s.json", dir, name) >= sizeof(path) ||
                !(f = fopen(path, "w")) || fprintf(f, "%s\n", json) < 0) {
                cli_error("csaf", "%s: cannot write %s/%s.json", argv[i], dir, name);
                failed++;
            }
            if (f && fclose(f) != 0 && !failed++)
                cli_error("csaf", "%s: cannot write %s", argv[i], path);
        }
        free(json);
    }
    accord_store_close(s);
    if (!failed)
        return EXIT_OK;
    return failed == argc - first ? EXIT_FAIL : EXIT_PARTIAL;
}

static int advisory_cmd(const char *cmd, int format, int argc, char **argv)
{
    if (format == ACCORD_ADVISORY_CSAF && argc > 1 && strcmp(argv[1], "export") == 0)
        return export_cmd(argc, argv);
    if (argc < 2 || cli_is_help(argv[1]) || strcmp(argv[1], "import") != 0)
        return cli_usage(cmd);
    run r = {.cmd = cmd, .format = format};
    static const struct option lo[] = {{"collection", required_argument, NULL, 'c'},
                                       {NULL, 0, NULL, 0}};
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc - 1, argv + 1, "", lo, NULL)) != -1) {
        if (ch != 'c')
            return cli_usage(cmd);
        r.collection = optarg;
    }
    char **files = argv + 1 + optind;
    int nfiles = argc - 1 - optind;
    if (nfiles < 1)
        return cli_usage(cmd);
    if (!(r.s = cli_open_store(0)))
        return EXIT_FAIL;
    for (int i = 0; i < nfiles; i++)
        import_path(&r, files[i], 0);
    accord_store_close(r.s);
    fprintf(stderr, "%s import: %u document(s), %u imported, %u refused\n", cmd, r.docs,
            r.docs - r.refused, r.refused);
    if (!r.refused)
        return r.docs ? EXIT_OK : EXIT_FAIL;
    return r.refused == r.docs ? EXIT_FAIL : EXIT_PARTIAL;
}

int cmd_csaf(int argc, char **argv)
{
    return advisory_cmd("csaf", ACCORD_ADVISORY_CSAF, argc, argv);
}

int cmd_osv(int argc, char **argv)
{
    return advisory_cmd("osv", ACCORD_ADVISORY_OSV, argc, argv);
}
