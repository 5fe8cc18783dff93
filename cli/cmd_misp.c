/*
 * cmd_misp.c - `accord misp`: import MISP events, convert them to STIX, follow MISP feeds.
 *
 *   accord misp import [--strict] [--collection C] [--quiet] FILE|DIR|- ...
 *   accord misp convert FILE|-             (STIX objects as JSON lines on stdout, nothing stored)
 *   accord misp feed add [--ca-file F] [--pin sha256//B64] NAME DIR|URL
 *   accord misp feed list | remove NAME | pull [NAME]
 *
 * Problems are printed one per line as they come (source, event uuid, attribute path); the
 * summary goes to stderr last.  Exit codes as for `accord import`.
 */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PRINT_FIRST 50

typedef struct misp_run {
    const char *cmd;
    int quiet;
    uint64_t printed, problems;
    accord_misp_stats total;
    int inputs, failed_inputs;
} misp_run;

static void on_error(void *ud, const char *msg)
{
    misp_run *r = ud;
    r->problems++;
    if (r->printed++ < PRINT_FIRST)
        fprintf(stderr, "%s\n", msg);
    else if (r->printed == PRINT_FIRST + 1)
        fprintf(stderr, "(further problems are counted, not printed)\n");
}

static void on_event(void *ud, const char *uuid, const char *info, int failed)
{
    misp_run *r = ud;
    if (!r->quiet && failed)
        fprintf(stderr, "event %s (%.80s): not imported\n", uuid, info ? info : "");
}

static void print_stats(const misp_run *r, double dt)
{
    const accord_misp_stats *s = &r->total;
    fprintf(stderr,
            "%s: %d input(s), %llu event(s) in %.2f s\n"
            "  events          %10llu\n  events failed   %10llu\n  unchanged       %10llu\n"
            "  attributes      %10llu\n"
            "  objects         %10llu\n  indicators      %10llu  (%llu pattern terms)\n"
            "  observed-data   %10llu\n  x-misp-attribute %9llu\n  revoked         %10llu\n"
            "  sightings       %10llu\n  galaxy clusters %10llu\n  relationships   %10llu\n"
            "  proposals       %10llu\n  bad values      %10llu\n  warnings        %10llu\n",
            r->cmd, r->inputs, (unsigned long long)s->events, dt,
            (unsigned long long)s->events, (unsigned long long)s->events_failed,
            (unsigned long long)s->unchanged, (unsigned long long)s->attributes, (unsigned long long)s->objects,
            (unsigned long long)s->indicators, (unsigned long long)s->terms,
            (unsigned long long)s->observed, (unsigned long long)s->custom,
            (unsigned long long)s->revoked, (unsigned long long)s->sightings,
            (unsigned long long)s->clusters, (unsigned long long)s->relationships,
            (unsigned long long)s->proposals, (unsigned long long)s->bad,
            (unsigned long long)s->warnings);
    if (s->nunmapped) {
        fprintf(stderr, "  kept as x-misp-attribute (no STIX equivalent):");
        for (unsigned i = 0; i < s->nunmapped; i++)
            fprintf(stderr, "%s %s %llu", i ? "," : "", s->unmapped[i].type,
                    (unsigned long long)s->unmapped[i].n);
        if (s->unmapped_other)
            fprintf(stderr, ", other %llu", (unsigned long long)s->unmapped_other);
        fprintf(stderr, "\n");
    }
    const accord_import_stats *t = &s->store;
    fprintf(stderr,
            "store: %llu STIX objects\n  accepted     %12llu\n  new versions %12llu\n"
            "  duplicates   %12llu\n  conflicts    %12llu\n  rejected     %12llu\n",
            (unsigned long long)t->read, (unsigned long long)t->accepted,
            (unsigned long long)t->versions, (unsigned long long)t->duplicates,
            (unsigned long long)t->conflicts, (unsigned long long)t->rejected);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

typedef struct paths {
    char **v;
    size_t n, cap;
} paths;

static int paths_add(paths *p, const char *s)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 32;
        char **v = realloc(p->v, cap * sizeof(*v));
        if (!v)
            return -1;
        p->v = v;
        p->cap = cap;
    }
    return (p->v[p->n] = strdup(s)) ? (int)(p->n++ * 0) : -1;
}

/* Event files under dir, recursively (*.json, *.json.gz; not a feed's manifest.json). */
static int collect(const char *dir, paths *out)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode))
            rc = collect(path, out);
        else if ((cli_has_suffix(e->d_name, ".json") || cli_has_suffix(e->d_name, ".json.gz")) &&
                 strcmp(e->d_name, "manifest.json") != 0)
            rc = paths_add(out, path);
    }
    closedir(d);
    return rc;
}

static int import_file(misp_run *r, accord_store *store, const char *path,
                       const accord_misp_options *base)
{
    int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        cli_error(r->cmd, "%s: %s", path, strerror(errno));
        return ACCORD_EIO;
    }
    accord_misp_options o = *base;
    o.source = strcmp(path, "-") == 0 ? "stdin" : path;
    accord_misp_stats st;
    accord_error err = {0};
    int rc = accord_misp_import_fd(store, fd, &o, &st, &err);
    if (fd)
        close(fd);
    r->inputs++;
    accord_misp_stats_add(&r->total, &st);
    if (rc && rc != ACCORD_ESTIX) {
        r->failed_inputs++;
        on_error(r, err.msg);
    }
    return rc;
}

static int worse(int a, int b)
{
    static const int rank[] = {[EXIT_OK] = 0, [EXIT_FAIL] = 3, [EXIT_USAGE] = 4,
                               [EXIT_PARTIAL] = 1, [EXIT_STRICT] = 2};
    return rank[b] > rank[a] ? b : a;
}

static int exit_code(int rc)
{
    return rc == 0                  ? EXIT_OK
           : rc == ACCORD_ESTIX     ? EXIT_PARTIAL
           : rc == ACCORD_EJSON     ? EXIT_PARTIAL
           : rc == ACCORD_ESTRICT   ? EXIT_STRICT
                                    : EXIT_FAIL;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int misp_import(int argc, char **argv)
{
    static const struct option longopts[] = {{"strict", no_argument, NULL, 's'},
                                             {"quiet", no_argument, NULL, 'q'},
                                             {"collection", required_argument, NULL, 'c'},
                                             {NULL, 0, NULL, 0}};
    misp_run r;
    memset(&r, 0, sizeof(r));
    r.cmd = "misp import";
    accord_misp_options o = {0};
    o.on_error = on_error;
    o.on_event = on_event;
    o.ud = &r;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "sqc:", longopts, NULL)) != -1) {
        if (c == 's')
            o.flags |= ACCORD_IMPORT_STRICT;
        else if (c == 'q')
            r.quiet = 1;
        else if (c == 'c')
            o.collection = optarg;
        else
            return cli_usage("misp");
    }
    if (optind >= argc)
        return cli_usage("misp");
    accord_store *store = cli_open_store(0);
    if (!store)
        return EXIT_FAIL;
    double t0 = now_s();
    int code = EXIT_OK;
    for (int i = optind; i < argc; i++) {
        struct stat st;
        if (strcmp(argv[i], "-") != 0 && stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            paths p = {0};
            if (collect(argv[i], &p) != 0) {
                cli_error(r.cmd, "%s: cannot read the directory", argv[i]);
                code = worse(code, EXIT_FAIL);
            }
            qsort(p.v, p.n, sizeof(*p.v), name_cmp);
            for (size_t k = 0; k < p.n; k++) {
                code = worse(code, exit_code(import_file(&r, store, p.v[k], &o)));
                free(p.v[k]);
            }
            free(p.v);
        } else {
            code = worse(code, exit_code(import_file(&r, store, argv[i], &o)));
        }
    }
    print_stats(&r, now_s() - t0);
    accord_store_close(store);
    return code;
}

static int print_obj(void *ud, const char *json, size_t len)
{
    (void)ud;
    fwrite(json, 1, len, stdout);
    fputc('\n', stdout);
    return 0;
}

static int misp_convert(int argc, char **argv)
{
    if (argc != 2)
        return cli_usage("misp");
    misp_run r;
    memset(&r, 0, sizeof(r));
    r.cmd = "misp convert";
    accord_misp_options o = {0};
    o.on_error = on_error;
    o.ud = &r;
    o.source = argv[1];
    int fd = strcmp(argv[1], "-") == 0 ? 0 : open(argv[1], O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        cli_error(r.cmd, "%s: %s", argv[1], strerror(errno));
        return EXIT_FAIL;
    }
    /* accord_misp_map_mem reads memory: inflate and read the input through a store-less
       import of the same reader */
    char *text = NULL;
    size_t len = 0;
    accord_error err = {0};
    int rc = accord_misp_read_fd(fd, &text, &len, &err);
    if (fd)
        close(fd);
    if (rc) {
        cli_error(r.cmd, "%s: %s", argv[1], err.msg);
        return exit_code(rc);
    }
    rc = accord_misp_map_mem(text, len, &o, print_obj, NULL, &r.total, &err);
    free(text);
    if (rc && rc != ACCORD_ESTIX)
        cli_error(r.cmd, "%s", err.msg);
    fflush(stdout);
    return exit_code(rc);
}

/* ---- feeds ------------------------------------------------------------------------------ */

static int print_feed(void *ud, const accord_misp_feed *f)
{
    (void)ud;
    char when[40] = "never";
    if (f->last_pull_us)
        accord_timestamp_format(f->last_pull_us, when, sizeof(when));
    printf("%s\t%s\tlast pull %s\t%llu event(s)%s%s%s%s\n", f->name, f->url, when,
           (unsigned long long)f->last_events, f->ca_file ? "\tca " : "",
           f->ca_file ? f->ca_file : "", f->pin ? "\tpin " : "", f->pin ? f->pin : "");
    return 0;
}

static int feed_add(int argc, char **argv)
{
    static const struct option longopts[] = {{"ca-file", required_argument, NULL, 'a'},
                                             {"pin", required_argument, NULL, 'p'},
                                             {NULL, 0, NULL, 0}};
    accord_misp_feed f = {0};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c == 'a')
            f.ca_file = optarg;
        else if (c == 'p')
            f.pin = optarg;
        else
            return cli_usage("misp");
    }
    if (argc - optind != 2)
        return cli_usage("misp");
    f.name = argv[optind];
    f.url = argv[optind + 1];
    char abs[4096];
    struct stat st;
    if (strstr(f.url, "://") == NULL && stat(f.url, &st) == 0 && realpath(f.url, abs))
        f.url = abs;
    accord_error err = {0};
    accord_store *store = cli_open_store(0);
    if (!store)
        return EXIT_FAIL;
    int rc = accord_misp_feed_add(store, cli_data_dir(), &f, &err);
    accord_store_close(store);
    if (rc != 0) {
        cli_error("misp feed add", "%s", err.msg);
        return err.code == ACCORD_EINVAL ? EXIT_USAGE : EXIT_FAIL;
    }
    fprintf(stderr, "feed %s: %s\n", f.name, f.url);
    return EXIT_OK;
}

static int feed_pull(int argc, char **argv)
{
    misp_run r;
    memset(&r, 0, sizeof(r));
    r.cmd = "misp feed pull";
    int c;
    optind = 1;
    static const struct option longopts[] = {{"quiet", no_argument, NULL, 'q'},
                                             {NULL, 0, NULL, 0}};
    while ((c = getopt_long(argc, argv, "q", longopts, NULL)) != -1) {
        if (c == 'q')
            r.quiet = 1;
        else
            return cli_usage("misp");
    }
    if (argc - optind > 1)
        return cli_usage("misp");
    accord_store *store = cli_open_store(0);
    if (!store)
        return EXIT_FAIL;
    accord_misp_options o = {0};
    o.on_error = on_error;
    o.on_event = on_event;
    o.ud = &r;
    accord_misp_pull_stats ps;
    accord_error err = {0};
    double t0 = now_s();
    int rc = accord_misp_feed_pull(store, cli_data_dir(), optind < argc ? argv[optind] : NULL,
                                   &o, &ps, &err);
    if (rc && rc != ACCORD_ESTIX)
        cli_error(r.cmd, "%s", err.msg);
    fprintf(stderr,
            "%s: %llu event(s) listed, %llu current (not fetched), %llu fetched, %llu missing, "
            "%llu failed; hashes.csv: %llu line(s), %llu event(s) out of step\n",
            r.cmd, (unsigned long long)ps.listed, (unsigned long long)ps.current,
            (unsigned long long)ps.fetched, (unsigned long long)ps.missing,
            (unsigned long long)ps.failed, (unsigned long long)ps.hashes,
            (unsigned long long)ps.out_of_step);
    r.total = ps.misp;
    r.inputs = (int)ps.fetched;
    print_stats(&r, now_s() - t0);
    accord_store_close(store);
    return exit_code(rc);
}

static int misp_feed(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage("misp");
    const char *sub = argv[1];
    accord_error err = {0};
    if (strcmp(sub, "add") == 0)
        return feed_add(argc - 1, argv + 1);
    if (strcmp(sub, "pull") == 0)
        return feed_pull(argc - 1, argv + 1);
    if (strcmp(sub, "list") == 0 && argc == 2) {
        if (accord_misp_feed_list(cli_data_dir(), print_feed, NULL, &err) != 0) {
            cli_error("misp feed list", "%s", err.msg);
            return EXIT_FAIL;
        }
        return EXIT_OK;
    }
    if (strcmp(sub, "remove") == 0 && argc == 3) {
        accord_store *store = cli_open_store(0);
        if (!store)
            return EXIT_FAIL;
        int rc = accord_misp_feed_remove(store, cli_data_dir(), argv[2], &err);
        accord_store_close(store);
        if (rc != 0) {
            cli_error("misp feed remove", "%s", err.msg);
            return EXIT_FAIL;
        }
        return EXIT_OK;
    }
    return cli_usage("misp");
}

int cmd_misp(int argc, char **argv)
{
    if (argc < 2 || cli_is_help(argv[1]))
        return argc < 2 ? cli_usage("misp") : (cli_usage("misp"), EXIT_OK);
    if (strcmp(argv[1], "import") == 0)
        return misp_import(argc - 1, argv + 1);
    if (strcmp(argv[1], "convert") == 0)
        return misp_convert(argc - 1, argv + 1);
    if (strcmp(argv[1], "feed") == 0)
        return misp_feed(argc - 1, argv + 1);
    cli_error("misp", "unknown subcommand \"%s\"", argv[1]);
    return cli_usage("misp");
}
