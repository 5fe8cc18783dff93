/*
 * cmd_store.c - the store commands: import, validate, get, search, stats (export: cmd_export.c).
 *
 * Import reports progress on a terminal as one rewritten line (percent of the input, objects/s)
 * and otherwise as one plain line per committed batch, so a log shows how far an import got;
 * both are written only after the batch's commit returned.  The summary groups rejections by
 * rule and property, with a count and the first few offenders of each.
 */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_REASONS 64
#define EXAMPLES 3
#define PRINT_FIRST 10

typedef struct reason {
    char key[128];
    uint64_t count;
    char examples[EXAMPLES][128];
} reason;

typedef struct import_run {
    const char *cmd;
    int quiet, tty;
    reason reasons[MAX_REASONS];
    int nreasons;
    uint64_t other_reasons, printed;
    accord_import_stats total, file;
    uint64_t file_size;
    double t0;
    const char *path;
} import_run;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_reject(void *ud, const accord_reject *r)
{
    import_run *run = ud;
    if (run->printed++ < PRINT_FIRST)
        fprintf(stderr, "%s%s: %s\n", run->tty && !run->quiet ? "\r\033[K" : "", run->path,
                r->message);
    char key[128];
    snprintf(key, sizeof(key), "%s%s%s%s", r->rule ? r->rule : "invalid",
             r->property ? " (property \"" : "", r->property ? r->property : "",
             r->property ? "\")" : "");
    reason *rs = NULL;
    for (int i = 0; i < run->nreasons; i++)
        if (strcmp(run->reasons[i].key, key) == 0)
            rs = &run->reasons[i];
    if (!rs && run->nreasons < MAX_REASONS) {
        rs = &run->reasons[run->nreasons++];
        memset(rs, 0, sizeof(*rs));
        snprintf(rs->key, sizeof(rs->key), "%s", key);
    }
    if (!rs) {
        run->other_reasons++;
        return;
    }
    if (rs->count < EXAMPLES) {
        if (r->id)
            snprintf(rs->examples[rs->count], sizeof(rs->examples[0]), "%s", r->id);
        else
            snprintf(rs->examples[rs->count], sizeof(rs->examples[0]), "%s object %llu",
                     run->path, (unsigned long long)r->index);
    }
    rs->count++;
}

static void on_progress(void *ud, const accord_import_stats *st)
{
    import_run *run = ud;
    if (run->quiet)
        return;
    double dt = now_s() - run->t0;
    double rate = dt > 0 ? (double)(run->total.read + st->committed) / dt : 0;
    if (run->tty) {
        if (run->file_size)
            fprintf(stderr, "\r\033[K%s: %5.1f%%  %llu objects  %.0f objects/s", run->path,
                    100.0 * (double)st->bytes_read / (double)run->file_size,
                    (unsigned long long)st->committed, rate);
        else
            fprintf(stderr, "\r\033[K%s: %llu objects  %.0f objects/s", run->path,
                    (unsigned long long)st->committed, rate);
    } else {
        fprintf(stderr, "%s: committed %llu objects (%.0f objects/s)\n", run->path,
                (unsigned long long)st->committed, rate);
    }
}

static void add_stats(accord_import_stats *t, const accord_import_stats *s)
{
    t->read += s->read;
    t->accepted += s->accepted;
    t->versions += s->versions;
    t->duplicates += s->duplicates;
    t->conflicts += s->conflicts;
    t->rejected += s->rejected;
    t->committed += s->committed;
    t->bytes_read += s->bytes_read;
}

/* Imports (or validates, store NULL) one open input; returns the library's code. */
static int import_one(import_run *run, accord_store *store, int fd, const char *path,
                      const accord_import_options *base)
{
    struct stat st;
    run->file_size = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
    run->path = path;
    accord_import_options opts = *base;
    opts.source = path;
    opts.on_reject = on_reject;
    opts.on_progress = store ? on_progress : NULL;
    opts.ud = run;
    accord_error err = {0};
    int rc = store ? accord_import_fd(store, fd, &opts, &run->file, &err)
                   : accord_validate_fd(fd, &opts, &run->file, &err);
    if (run->tty && !run->quiet && store)
        fprintf(stderr, "\r\033[K");
    add_stats(&run->total, &run->file);
    if (rc && rc != ACCORD_ESTIX)
        cli_error(run->cmd, "%s", err.msg);
    return rc;
}

static int is_input_name(const char *name)
{
    return cli_has_suffix(name, ".json") || cli_has_suffix(name, ".jsonl") ||
           cli_has_suffix(name, ".json.gz") || cli_has_suffix(name, ".jsonl.gz");
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

typedef struct path_list {
    char **v;
    size_t n, cap;
} path_list;

/* Collects input files under dir, recursively, in name order. */
static int collect(const char *dir, path_list *out)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        char *p = malloc(len);
        if (!p)
            break;
        snprintf(p, len, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
            collect(p, out);
            free(p);
            continue;
        }
        if (!S_ISREG(st.st_mode) || !is_input_name(e->d_name)) {
            free(p);
            continue;
        }
        if (out->n == out->cap) {
            size_t cap = out->cap ? out->cap * 2 : 64;
            char **v = realloc(out->v, cap * sizeof(*v));
            if (!v) {
                free(p);
                break;
            }
            out->v = v;
            out->cap = cap;
        }
        out->v[out->n++] = p;
    }
    closedir(d);
    return 0;
}

/* Runs import_one on a path: "-" is stdin, a directory is walked. */
static int import_path(import_run *run, accord_store *store, const char *path,
                       const accord_import_options *opts, int *worst)
{
    int rc;
    if (strcmp(path, "-") == 0) {
        rc = import_one(run, store, STDIN_FILENO, "stdin", opts);
    } else {
        struct stat st;
        if (stat(path, &st) != 0) {
            cli_error(run->cmd, "%s: %s", path, strerror(errno));
            rc = ACCORD_EIO;
        } else if (S_ISDIR(st.st_mode)) {
            path_list list = {0};
            collect(path, &list);
            qsort(list.v, list.n, sizeof(*list.v), name_cmp);
            if (!list.n)
                cli_error(run->cmd, "%s: no .json, .jsonl or .json.gz files", path);
            rc = 0;
            for (size_t i = 0; i < list.n; i++) {
                import_path(run, store, list.v[i], opts, worst);
                free(list.v[i]);
            }
            free(list.v);
            return 0;
        } else {
            int fd = open(path, O_RDONLY | O_CLOEXEC);
            if (fd < 0) {
                cli_error(run->cmd, "%s: %s", path, strerror(errno));
                rc = ACCORD_EIO;
            } else {
                rc = import_one(run, store, fd, path, opts);
                close(fd);
            }
        }
    }
    int code = rc == 0                 ? EXIT_OK
               : rc == ACCORD_ESTIX    ? EXIT_PARTIAL
               : rc == ACCORD_ESTRICT  ? EXIT_STRICT
               : rc == ACCORD_EJSON    ? EXIT_PARTIAL
                                       : EXIT_FAIL;
    /* the exit code reports the worst outcome: failure > strict > partial > ok */
    static const int rank[] = {[EXIT_OK] = 0, [EXIT_FAIL] = 3, [EXIT_USAGE] = 4,
                               [EXIT_PARTIAL] = 1, [EXIT_STRICT] = 2};
    if (rank[code] > rank[*worst])
        *worst = code;
    return rc;
}

static void print_summary(const import_run *run, int validate_only)
{
    const accord_import_stats *t = &run->total;
    double dt = now_s() - run->t0;
    fprintf(stderr, "%s: %llu objects read in %.2f s (%.0f objects/s)\n", run->cmd,
            (unsigned long long)t->read, dt, dt > 0 ? (double)t->read / dt : 0.0);
    if (validate_only) {
        fprintf(stderr, "  valid        %12llu\n  invalid      %12llu\n",
                (unsigned long long)t->accepted, (unsigned long long)t->rejected);
    } else {
        fprintf(stderr,
                "  accepted     %12llu\n  new versions %12llu\n  duplicates   %12llu\n"
                "  conflicts    %12llu\n  rejected     %12llu\n",
                (unsigned long long)t->accepted, (unsigned long long)t->versions,
                (unsigned long long)t->duplicates, (unsigned long long)t->conflicts,
                (unsigned long long)t->rejected);
    }
    if (run->nreasons)
        fprintf(stderr, "reasons:\n");
    for (int i = 0; i < run->nreasons; i++) {
        const reason *r = &run->reasons[i];
        fprintf(stderr, "  %8llu  %s: ", (unsigned long long)r->count, r->key);
        for (uint64_t j = 0; j < r->count && j < EXAMPLES; j++)
            fprintf(stderr, "%s%s", j ? ", " : "", r->examples[j]);
        fprintf(stderr, "%s\n", r->count > EXAMPLES ? ", ..." : "");
    }
    if (run->other_reasons)
        fprintf(stderr, "  %8llu  other reasons\n", (unsigned long long)run->other_reasons);
}

static int import_main(int argc, char **argv, int validate_only)
{
    static const struct option longopts[] = {{"strict", no_argument, NULL, 's'},
                                             {"batch", required_argument, NULL, 'b'},
                                             {"quiet", no_argument, NULL, 'q'},
                                             {"collection", required_argument, NULL, 'c'},
                                             {"sign", no_argument, NULL, 'S'},
                                             {NULL, 0, NULL, 0}};
    const char *cmd = argv[0];
    accord_import_options opts = {0};
    static import_run run;
    memset(&run, 0, sizeof(run));
    run.cmd = cmd;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, validate_only ? "q" : "sb:qc:S", longopts, NULL)) != -1) {
        if (c == 'c' && !validate_only) {
            opts.collection = optarg;
        } else if (c == 's') {
            opts.flags |= ACCORD_IMPORT_STRICT;
        } else if (c == 'S' && !validate_only) {
            opts.flags |= ACCORD_IMPORT_SIGN;
            opts.data_dir = cli_data_dir();
        } else if (c == 'b') {
            char *end;
            errno = 0;
            long n = strtol(optarg, &end, 10);
            if (errno || *end || n < 1 || n > 10000000) {
                cli_error(cmd, "--batch %s: expected a number from 1 to 10000000", optarg);
                return EXIT_USAGE;
            }
            opts.batch_objects = (uint32_t)n;
        } else if (c == 'q') {
            run.quiet = 1;
        } else {
            return cli_usage(cmd);
        }
    }
    if (optind >= argc)
        return cli_usage(cmd);
    run.tty = isatty(STDERR_FILENO);
    run.t0 = now_s();
    accord_store *store = NULL;
    if (!validate_only && !(store = cli_open_store(0)))
        return EXIT_FAIL;
    int worst = EXIT_OK;
    for (int i = optind; i < argc; i++)
        import_path(&run, store, argv[i], &opts, &worst);
    accord_store_close(store);
    if (!run.quiet || worst != EXIT_OK)
        print_summary(&run, validate_only);
    return worst;
}

int cmd_import(int argc, char **argv)
{
    return import_main(argc, argv, 0);
}

int cmd_validate(int argc, char **argv)
{
    return import_main(argc, argv, 1);
}

/* ------------------------------------------------------------------------------------------ */

static int print_body(void *ud, const accord_record *r)
{
    (void)ud;
    fwrite(r->body, 1, r->body_len, stdout);
    fputc('\n', stdout);
    return ferror(stdout) ? ACCORD_EIO : 0;
}

static int print_hit(void *ud, const accord_record *r)
{
    (void)ud;
    printf("%s\t%s\t%s%s\n", r->id, r->modified[0] ? r->modified : "-", r->type,
           r->revoked ? "\trevoked" : "");
    return ferror(stdout) ? ACCORD_EIO : 0;
}

/*
 * The viewer `--as ACCOUNT` names (into *v; NULL without --as: the operator reads everything).
 * Returns 0, or an exit code after printing why.
 */
static int open_viewer(const char *cmd, accord_store *s, const char *as, accord_viewer **v)
{
    accord_error err = {0};
    *v = NULL;
    if (!as)
        return 0;
    int rc = accord_viewer_open(s, as, v, &err);
    if (rc)
        cli_error(cmd, "--as %s: %s", as, err.msg);
    return rc == 0 ? 0 : rc == ACCORD_ENOTFOUND || rc == ACCORD_EINVAL ? EXIT_USAGE : EXIT_FAIL;
}

int cmd_get(int argc, char **argv)
{
    unsigned flags = 0;
    const char *id = NULL, *as = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--all-versions") == 0)
            flags |= ACCORD_GET_ALL_VERSIONS;
        else if (strcmp(argv[i], "--as") == 0 && i + 1 < argc)
            as = argv[++i];
        else if (argv[i][0] == '-' || id)
            return cli_usage("get");
        else
            id = argv[i];
    }
    if (!id)
        return cli_usage("get");
    accord_store *s = cli_open_store(ACCORD_STORE_READONLY);
    if (!s)
        return EXIT_FAIL;
    accord_error err = {0};
    accord_viewer *v;
    int rc = open_viewer("get", s, as, &v);
    if (rc) {
        accord_store_close(s);
        return rc;
    }
    rc = accord_store_get_as(s, v, id, flags, print_body, NULL, &err);
    accord_viewer_free(v);
    accord_store_close(s);
    if (rc) {
        cli_error("get", "%s", err.msg);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

int cmd_search(int argc, char **argv)
{
    int json = 0;
    const char *value = NULL, *as = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (strcmp(argv[i], "--as") == 0 && i + 1 < argc)
            as = argv[++i];
        else if (value)
            return cli_usage("search");
        else
            value = argv[i];
    }
    if (!value)
        return cli_usage("search");
    accord_store *s = cli_open_store(ACCORD_STORE_READONLY);
    if (!s)
        return EXIT_FAIL;
    accord_error err = {0};
    accord_viewer *v;
    int rc = open_viewer("search", s, as, &v);
    if (rc) {
        accord_store_close(s);
        return rc;
    }
    rc = accord_store_search_as(s, v, value, json ? print_body : print_hit, NULL, &err);
    accord_viewer_free(v);
    accord_store_close(s);
    if (rc) {
        cli_error("search", "%s", err.msg);
        return rc == ACCORD_EINVAL ? EXIT_USAGE : EXIT_FAIL;
    }
    return EXIT_OK;
}

/* accord export lives in cmd_export.c. */

static void print_type(void *ud, const char *type, int64_t objects, int64_t versions)
{
    (void)ud;
    printf("  %-28s %12lld %12lld\n", type, (long long)objects, (long long)versions);
}

int cmd_stats(int argc, char **argv)
{
    (void)argv;
    if (argc > 1)
        return cli_usage("stats");
    accord_store *s = cli_open_store(ACCORD_STORE_READONLY);
    if (!s)
        return EXIT_FAIL;
    accord_store_stats st;
    accord_error err = {0};
    printf("store %s\n  %-28s %12s %12s\n", cli_data_dir(), "type", "objects", "versions");
    int rc = accord_store_stats_get(s, &st, print_type, NULL, &err);
    accord_store_close(s);
    if (rc) {
        cli_error("stats", "%s", err.msg);
        return EXIT_FAIL;
    }
    char last[40] = "-";
    if (st.last_added_us)
        accord_timestamp_format(st.last_added_us, last, sizeof(last));
    printf("objects %lld, versions %lld, revoked %lld\n"
           "json bytes %lld, database bytes %lld\n"
           "index runs %lld with %lld entries, audit records %lld\n"
           "last added %s\n",
           (long long)st.objects, (long long)st.versions, (long long)st.revoked,
           (long long)st.body_bytes, (long long)st.file_bytes, (long long)st.index_runs,
           (long long)st.index_entries, (long long)st.audit_records, last);
    return EXIT_OK;
}
