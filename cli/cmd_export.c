/*
 * cmd_export.c - accord export: the store's objects as a STIX bundle (no --format), or a
 * defender format.
 *
 * Without --format, the store's objects (every type, filtered by --type, --added-after, ...) are
 * streamed as one bundle, as they always were.  With --format (stix among them), the active
 * indicators are selected once (accord_export_select) and written with accord_export_write:
 * `--format stix` is the bundle of the selected indicators and the markings they reference.
 * Output never appears half-written to a reader: a file is written as NAME.tmp next to its
 * destination and renamed over it once complete; a directory format (suricata-*) renames each of
 * its files only after all of them were written.  Standard output is used when --out is not given
 * (single-file formats only).
 *
 * The summary on stderr counts what was selected, what was left out and why, and names the
 * first indicators no format, or not this format, can express.
 */
#include "cli.h"
#include "accord_export.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_LIST 64

typedef struct export_args {
    const char *format, *out;
    accord_scan_filter scan; /* the store's bundle (no --format) */
    accord_export_spec spec; /* the other formats: their selection and options */
    const char *types[MAX_LIST + 1];
    int ntypes;
    int stix_only;             /* an option only the store's bundle takes was given */
    const char *defender_only; /* an option only the defender formats take */
    const char *since;         /* --since CURSOR (nft) */
    int quiet;
} export_args;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------------------------------------ */
/* STIX bundle                                                                                  */

typedef struct bundle_ctx {
    FILE *f;
    uint64_t n;
} bundle_ctx;

static int bundle_one(void *ud, const accord_record *r)
{
    bundle_ctx *e = ud;
    fputs(e->n++ ? ",\n" : "\n", e->f);
    fwrite(r->body, 1, r->body_len, e->f);
    return ferror(e->f) ? ACCORD_EIO : 0;
}

static int write_bundle(accord_store *s, const accord_scan_filter *f, FILE *out, accord_error *err)
{
    char id[37];
    accord_uuid4(id);
    fprintf(out, "{\"type\":\"bundle\",\"id\":\"bundle--%s\",\"objects\":[", id);
    bundle_ctx e = {.f = out};
    int rc = accord_store_scan(s, f, bundle_one, &e, err);
    fprintf(out, "%s]}\n", e.n ? "\n" : "");
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Output: stdout, a file, or files in a directory, each renamed into place when complete      */

#define MAX_FILES 16

typedef struct sink {
    const char *dir;  /* directory formats: the directory */
    const char *path; /* single-file formats: the file, or NULL for stdout */
    FILE *f;          /* the file being written */
    char names[MAX_FILES][64];
    int nfiles;
} sink;

static void tmp_name(const sink *k, const char *name, char *out, size_t outlen, int tmp)
{
    if (k->dir)
        snprintf(out, outlen, "%s/%s%s%s", k->dir, tmp ? "." : "", name, tmp ? ".tmp" : "");
    else
        snprintf(out, outlen, "%s%s", k->path, tmp ? ".tmp" : "");
}

static int sink_open(sink *k, const char *name)
{
    char p[4096];
    if (!k->dir && !k->path) {
        k->f = stdout;
        return 0;
    }
    if (k->f && k->f != stdout && fclose(k->f))
        return ACCORD_EIO;
    k->f = NULL;
    if (k->dir && k->nfiles == MAX_FILES)
        return ACCORD_ELIMIT;
    tmp_name(k, name ? name : "", p, sizeof(p), 1);
    if (!(k->f = fopen(p, "w")))
        return ACCORD_EIO;
    if (k->dir)
        snprintf(k->names[k->nfiles++], sizeof(k->names[0]), "%s", name);
    return 0;
}

static int sink_write(void *ud, const char *file, const char *data, size_t len)
{
    sink *k = ud;
    if (len == 0) /* a file starts */
        return sink_open(k, file);
    return fwrite(data, 1, len, k->f) == len ? 0 : ACCORD_EIO;
}

/* Closes the last file and renames every temporary into place (ok), or removes them. */
static int sink_finish(sink *k, int ok)
{
    char a[4096], b[4096];
    int rc = 0;
    if (k->f && k->f != stdout && fclose(k->f))
        rc = ACCORD_EIO;
    if (k->f == stdout && fflush(stdout))
        rc = ACCORD_EIO;
    k->f = NULL;
    int n = k->dir ? k->nfiles : k->path ? 1 : 0;
    for (int i = 0; i < n; i++) {
        tmp_name(k, k->names[i], a, sizeof(a), 1);
        tmp_name(k, k->names[i], b, sizeof(b), 0);
        if (ok && !rc ? rename(a, b) != 0 : unlink(a) != 0 && errno != ENOENT)
            rc = ACCORD_EIO;
    }
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Defender formats                                                                             */

static void print_summary(const export_args *a, const accord_export_stats *st,
                          const accord_export_summary *sum, double secs)
{
    fprintf(stderr,
            "accord export: %s: %llu indicators, %llu values written in %.2f s\n"
            "  scanned %llu, selected %llu, expired %llu, not yet valid %llu, filtered %llu\n"
            "  allow-listed values left out %llu, duplicates merged %llu, unexportable "
            "indicators %llu\n",
            a->format, (unsigned long long)sum->indicators, (unsigned long long)sum->values, secs,
            (unsigned long long)st->scanned, (unsigned long long)st->selected,
            (unsigned long long)st->expired, (unsigned long long)st->not_yet_valid,
            (unsigned long long)st->filtered, (unsigned long long)st->allowlisted,
            (unsigned long long)sum->duplicates, (unsigned long long)sum->unexportable);
    for (size_t i = 0; i < sum->nnames; i++)
        fprintf(stderr, "    %s\n", sum->names[i]);
    if (sum->unexportable > sum->nnames)
        fprintf(stderr, "    ... and %llu more\n",
                (unsigned long long)(sum->unexportable - sum->nnames));
}

/*
 * --since: the state at the cursor, rebuilt from the store's history.  *prev is NULL (write the
 * full script) when the rebuilt state does not match the cursor's digest.
 */
static int select_since(export_args *a, accord_store *s, accord_export_set **prev,
                        accord_error *err)
{
    accord_export_cursor c, got;
    *prev = NULL;
    if (accord_export_cursor_parse(a->since, &c) != 0) {
        snprintf(err->msg, sizeof(err->msg), "--since %s: not a cursor (v1.AT.ADDED.DIGEST)",
                 a->since);
        return ACCORD_EINVAL;
    }
    accord_export_filter f = a->spec.filter;
    f.at_us = c.at_us;
    f.as_of_added_us = c.added_us;
    int rc = accord_export_select(s, &f, prev, err);
    if (!rc)
        rc = strcmp(a->format, "stix") == 0 ? accord_export_stix_cursor(*prev, &got)
                                            : accord_export_nft_cursor(*prev, &got);
    if (!rc && got.digest != c.digest) {
        if (!a->quiet)
            fprintf(stderr,
                    "accord export: the state at cursor %s cannot be rebuilt (allow-lists "
                    "or filters changed since): writing the full export\n",
                    a->since);
        accord_export_set_free(*prev);
        *prev = NULL;
    }
    return rc;
}

/*
 * --format rpz: the zone's SOA serial, kept in the store per zone (accord_export_rpz_serial), so
 * it grows with every export whose records changed, whatever the clock says, and across restarts.
 * A store this process cannot write still exports, with the time-based serial, and says so.
 */
static int rpz_serial(export_args *a, accord_store *s, const accord_export_set *set, int last)
{
    accord_error err = {0};
    a->spec.opts.rpz_serial = 0;
    int rc = accord_export_rpz_serial(s, "cli", &a->spec.filter, set, &a->spec.opts,
                                      &a->spec.opts.rpz_serial, &err);
    if (rc == ACCORD_EBUSY && !last)
        return rc; /* another export of the zone saw a newer state: select again */
    if (rc && !a->quiet)
        fprintf(stderr,
                "accord export: the zone's serial could not be kept in the store (%s): it is "
                "the time of the newest change\n",
                err.msg);
    return 0;
}

#define SELECT_TRIES 8 /* rpz: selections superseded by a concurrent export before giving up */

static int run_defender(export_args *a, accord_store *s)
{
    int files = accord_export_format_files(a->format);
    if (files && !a->out) {
        cli_error("export", "--format %s writes several files: give --out DIR", a->format);
        return EXIT_USAGE;
    }
    if (files && mkdir(a->out, 0755) != 0 && errno != EEXIST) {
        cli_error("export", "%s: %s", a->out, strerror(errno));
        return EXIT_FAIL;
    }
    double t0 = now_s();
    accord_export_set *set = NULL, *prev = NULL;
    accord_export_summary sum;
    accord_export_stats st;
    accord_export_cursor cur = {0};
    accord_error err = {0};
    sink k = {.dir = files ? a->out : NULL, .path = files ? NULL : a->out};
    int rc = accord_export_select(s, &a->spec.filter, &set, &err);
    for (int t = 1; !rc && strcmp(a->format, "rpz") == 0; t++) {
        if (rpz_serial(a, s, set, t == SELECT_TRIES) != ACCORD_EBUSY)
            break;
        accord_export_set_free(set);
        set = NULL;
        rc = accord_export_select(s, &a->spec.filter, &set, &err);
    }
    if (!rc && a->since)
        rc = select_since(a, s, &prev, &err);
    if (!rc && strcmp(a->format, "nft") == 0)
        rc = accord_export_nft_cursor(set, &cur);
    if (!rc && strcmp(a->format, "stix") == 0)
        rc = accord_export_stix_cursor(set, &cur);
    if (!rc)
        rc = !prev ? accord_export_write(set, &a->spec.opts, sink_write, &k, &sum, &err)
             : strcmp(a->format, "stix") == 0
                 ? accord_export_stix_delta(prev, set, &a->spec.opts, sink_write, &k, &sum, &err)
                 : accord_export_nft_delta(prev, set, &a->spec.opts, sink_write, &k, &sum, &err);
    int frc = sink_finish(&k, rc == 0);
    if (!rc && frc)
        snprintf(err.msg, sizeof(err.msg), "%s: %s", a->out ? a->out : "stdout", strerror(errno));
    rc = rc ? rc : frc;
    if (set)
        accord_export_set_stats(set, &st);
    if (!rc && !a->quiet)
        print_summary(a, &st, &sum, now_s() - t0);
    if (!rc && cur.added_us) {
        char text[ACCORD_EXPORT_CURSOR_MAX];
        accord_export_cursor_format(&cur, text, sizeof(text));
        fprintf(stderr, "cursor %s\n", text); /* even with --quiet: the next --since needs it */
    }
    accord_export_set_free(set);
    accord_export_set_free(prev);
    if (rc) {
        cli_error("export", "%s", err.msg[0] ? err.msg : accord_strerror(rc));
        return rc == ACCORD_EINVAL ? EXIT_USAGE : EXIT_FAIL;
    }
    return EXIT_OK;
}

static int run_stix(export_args *a, accord_store *s)
{
    FILE *out = stdout;
    char tmp[4096];
    static char iobuf[1 << 16];
    if (a->out) {
        snprintf(tmp, sizeof(tmp), "%s.tmp", a->out);
        if (!(out = fopen(tmp, "w"))) {
            cli_error("export", "%s: %s", tmp, strerror(errno));
            return EXIT_FAIL;
        }
    }
    setvbuf(out, iobuf, _IOFBF, sizeof(iobuf));
    accord_error err = {0};
    int rc = write_bundle(s, &a->scan, out, &err);
    int wrc = out == stdout ? fflush(out) : fclose(out);
    if (a->out && (rc || wrc || rename(tmp, a->out) != 0)) {
        unlink(tmp);
        if (!rc)
            snprintf(err.msg, sizeof(err.msg), "%s: %s", a->out, strerror(errno)), rc = ACCORD_EIO;
    }
    if (rc) {
        cli_error("export", "%s", err.msg[0] ? err.msg : accord_strerror(rc));
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Options                                                                                      */

static int push(const char **list, int *n, const char *v)
{
    if (*n >= MAX_LIST)
        return -1;
    list[(*n)++] = v;
    list[*n] = NULL;
    return 0;
}

/* One option (name: its long name); 0, or an exit code. */
static int option(export_args *a, int c, const char *name, const char *v)
{
    accord_error err = {0};
    switch (c) {
    case 'f':
        a->format = v;
        return 0;
    case 'o':
        a->out = v;
        return 0;
    case 'c':
        a->scan.collection = a->spec.filter.collection = v;
        return 0;
    case 't': /* a STIX type for stix, a value kind for the others: checked later */
        return push(a->types, &a->ntypes, v) ? EXIT_USAGE : 0;
    case 'S':
        a->since = v;
        return 0;
    case 'q':
        a->quiet = 1;
        return 0;
    case 'A':
    case 'a': {
        int64_t *dst = c == 'A' ? &a->spec.filter.at_us : &a->scan.added_after_us;
        if (c == 'A')
            a->defender_only = "--at";
        if (accord_timestamp_parse(v, dst) != 0)
            return cli_error("export",
                             "%s %s: expected an RFC 3339 UTC timestamp like "
                             "2026-01-31T12:00:00Z",
                             c == 'A' ? "--at" : "--added-after", v),
                   EXIT_USAGE;
        a->stix_only |= c == 'a';
        return 0;
    }
    case 'r':
        a->scan.include_revoked = 1, a->stix_only = 1;
        return 0;
    case 'v':
        a->scan.versions = ACCORD_VERSIONS_ALL, a->stix_only = 1;
        return 0;
    case 'x': /* the selection options every defender format and feed shares */
        a->defender_only = name;
        if (accord_export_spec_set(&a->spec, name, v, &err) == 0)
            return 0;
        cli_error("export", "%s", err.msg);
        return EXIT_USAGE;
    default:
        return cli_usage("export");
    }
}

static int parse_args(export_args *a, int argc, char **argv)
{
    static const struct option longopts[] = {{"format", required_argument, NULL, 'f'},
                                             {"out", required_argument, NULL, 'o'},
                                             {"collection", required_argument, NULL, 'c'},
                                             {"type", required_argument, NULL, 't'},
                                             {"label", required_argument, NULL, 'x'},
                                             {"creator", required_argument, NULL, 'x'},
                                             {"indicator-type", required_argument, NULL, 'x'},
                                             {"min-confidence", required_argument, NULL, 'x'},
                                             {"max-tlp", required_argument, NULL, 'x'},
                                             {"rpz-action", required_argument, NULL, 'x'},
                                             {"columns", required_argument, NULL, 'x'},
                                             {"nft-table", required_argument, NULL, 'x'},
                                             {"source", required_argument, NULL, 'x'},
                                             {"max-bytes", required_argument, NULL, 'x'},
                                             {"at", required_argument, NULL, 'A'},
                                             {"since", required_argument, NULL, 'S'},
                                             {"added-after", required_argument, NULL, 'a'},
                                             {"include-revoked", no_argument, NULL, 'r'},
                                             {"all-versions", no_argument, NULL, 'v'},
                                             {"quiet", no_argument, NULL, 'q'},
                                             {NULL, 0, NULL, 0}};
    int c, rc, li = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, &li)) != -1)
        if ((rc = option(a, c, c == 'x' ? longopts[li].name : NULL, optarg)))
            return rc;
    if (optind < argc)
        return cli_usage("export");
    return 0;
}

/* For the defender formats: --type names export kinds. */
static int kinds_of(export_args *a)
{
    accord_error err = {0};
    for (int i = 0; i < a->ntypes; i++)
        if (accord_export_spec_set(&a->spec, "type", a->types[i], &err)) {
            cli_error("export", "%s (with --format %s)", err.msg, a->format);
            return EXIT_USAGE;
        }
    return 0;
}

/* The store, read-only; a store of an older schema is migrated first (a read-write open does
 * it), so that an upgraded node's scheduled exports do not stop at the upgrade.  rpz (write 1)
 * opens an existing store for writing, to keep the zone's serial; read-only when it cannot. */
static accord_store *open_store(int write)
{
    accord_store *s = NULL;
    accord_error err = {0};
    int rc = accord_store_open(cli_data_dir(), ACCORD_STORE_READONLY, &s, &err);
    if (rc == ACCORD_ESCHEMA && accord_store_open(cli_data_dir(), 0, &s, &err) == 0) {
        accord_store_close(s);
        s = NULL;
        rc = accord_store_open(cli_data_dir(), ACCORD_STORE_READONLY, &s, &err);
    }
    accord_store *w = NULL;
    if (!rc && write && accord_store_open(cli_data_dir(), 0, &w, &err) == 0) {
        accord_store_close(s); /* it exists (opened above): the write open creates nothing */
        s = w;
    }
    if (rc) {
        fprintf(stderr, "accord: %s\n", err.msg);
        return NULL;
    }
    return s;
}

int cmd_export(int argc, char **argv)
{
    static export_args a;
    memset(&a, 0, sizeof(a));
    accord_export_spec_init(&a.spec);
    int rc = parse_args(&a, argc, argv);
    if (rc)
        return rc;
    int stix = !a.format; /* the store's bundle */
    if (!stix && accord_export_format_files(a.format) < 0) {
        cli_error("export",
                  "--format %s: expected stix, zeek-intel, suricata-dataset, "
                  "suricata-rules, rpz, nft, csv, plain or misp-feed",
                  a.format);
        return EXIT_USAGE;
    }
    if (!stix && a.stix_only) {
        cli_error("export", "--added-after, --include-revoked and --all-versions apply to the "
                            "store's bundle (no --format) only: a --format export holds the "
                            "active indicators");
        return EXIT_USAGE;
    }
    if (stix && a.defender_only) { /* the store's bundle: a filter such as --max-tlp would not
                                      hold, so it is refused, not ignored */
        cli_error("export",
                  "--%s applies to the --format exports (zeek-intel, suricata-dataset, "
                  "suricata-rules, rpz, nft, csv, plain, misp-feed, stix), not to the store's "
                  "bundle (no --format)",
                  a.defender_only[0] == '-' ? a.defender_only + 2 : a.defender_only);
        return EXIT_USAGE;
    }
    if (a.since && (stix || (strcmp(a.format, "nft") != 0 && strcmp(a.format, "stix") != 0))) {
        cli_error("export", "--since applies to --format nft and --format stix only");
        return EXIT_USAGE;
    }
    a.scan.types = a.ntypes ? a.types : NULL;
    a.spec.opts.format = a.format;
    if (!stix && (rc = kinds_of(&a)))
        return rc;
    accord_store *s = open_store(!stix && strcmp(a.format, "rpz") == 0);
    if (!s)
        return EXIT_FAIL;
    rc = stix ? run_stix(&a, s) : run_defender(&a, s);
    accord_store_close(s);
    return rc;
}
