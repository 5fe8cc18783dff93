/*
 * match_ind.c - the --indicators files of `accord match`: read into a snapshot builder, each
 * indicator the builder rejects reported with its file, line and id; and looked at, between
 * reads, to tell when they changed and whether they are whole.
 *
 * A path is a STIX file (a bundle, JSON lines or an array; .gz too) or a directory of them,
 * read recursively in name order (subdirectories and .json, .jsonl, .gz files).  Both uses walk
 * the files the same way (load_path, with a loader that either adds to a builder or only looks),
 * so that what is watched is exactly what is read.  Looking at a file costs an open, an fstat
 * and for a plain file a pread of its last 64 bytes: its size, mtime, inode and device go into
 * a fingerprint, and an empty file or one whose last line has no end is noted (cmd_match.c
 * does not read files in that state: they are being written).
 *
 * The directory lister is shared with the telemetry directories of cmd_match.c.
 */
#include "match_ind.h"

#include "cli.h"
#include "reader.h"
#include "util/json.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>
#include <zlib.h>

/* What is done with each indicator file: added to a builder, or hashed into a fingerprint.
 * Indicators the builder rejects (an invalid pattern, an object that is not JSON) are counted
 * in invalid and reported in rep as FILE:LINE: ID: reason, at most MATCH_REPORTS_MAX per file. */
typedef struct loader {
    accord_snapshot_builder *b; /* or NULL: fingerprint only */
    uint64_t fp;
    char err[600];
    uint64_t invalid;
    buf *rep;
    /* fingerprint only: the first file found empty, and the first whose last line has no end
     * (written as it is read?), or "" */
    char empty[512], partial[512];
} loader;

/* One rejected indicator of a file, until its line is known. */
typedef struct bad_ind {
    uint64_t offset, line;
    char id[160];
    char why[sizeof(((accord_error *)0)->msg) + 32];
} bad_ind;

/* 1 when the plain file fd (size bytes) ends inside a line: its last byte is not a newline and
 * the last one that is not white space closes no JSON value either (a bundle or a last object
 * written without a newline ends in '}' or ']').  A .gz file is left to the reader. */
static int ends_partial(int fd, off_t size)
{
    char b[64];
    off_t at = size > (off_t)sizeof b ? size - (off_t)sizeof b : 0;
    ssize_t n = size > 0 ? pread(fd, b, (size_t)(size - at), at) : 0;
    if (n <= 0 || b[n - 1] == '\n')
        return 0;
    while (n > 0 && (b[n - 1] == ' ' || b[n - 1] == '\t' || b[n - 1] == '\r'))
        n--;
    return n > 0 && b[n - 1] != '}' && b[n - 1] != ']';
}

/* Fingerprint mode of load_file: path's size, mtime and inode mixed into l->fp (what changes
 * when a file is rewritten, replaced or touched), and whether it is empty or ends inside a line
 * noted in l. */
static void fingerprint_file(loader *l, const char *path)
{
    struct stat st;
    uint64_t v[4] = {0, 0, 0, 0};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0 && fstat(fd, &st) == 0) {
        v[0] = (uint64_t)st.st_size;
        v[1] = (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec;
        v[2] = (uint64_t)st.st_ino;
        v[3] = (uint64_t)st.st_dev;
        if (st.st_size == 0 && !l->empty[0])
            snprintf(l->empty, sizeof l->empty, "%s", path);
        if (!l->partial[0] && !cli_has_suffix(path, ".gz") && ends_partial(fd, st.st_size))
            snprintf(l->partial, sizeof l->partial, "%s", path);
    }
    if (fd >= 0)
        close(fd);
    l->fp = XXH3_64bits_withSeed(path, strlen(path), l->fp) ^ XXH3_64bits(v, sizeof v);
    l->fp = l->fp * 0x9E3779B97F4A7C15ull + 1;
}

/* The line (1-based) of each byte offset bad[0..n).offset (ascending) of the input in fd,
 * plain or gzip; 0 where the input could not be read again. */
static void lines_of(int fd, bad_ind *bad, size_t n)
{
    char b[1 << 16];
    uint64_t pos = 0, nl = 0;
    size_t k = 0;
    int got, dfd = lseek(fd, 0, SEEK_SET) == 0 ? dup(fd) : -1;
    gzFile gz = dfd >= 0 ? gzdopen(dfd, "rb") : NULL;
    if (!gz && dfd >= 0)
        close(dfd);
    while (gz && k < n && (got = gzread(gz, b, sizeof b)) > 0) {
        for (int i = 0; i < got && k < n; i++) {
            while (k < n && bad[k].offset == pos + (uint64_t)i)
                bad[k++].line = nl + 1;
            nl += b[i] == '\n';
        }
        pos += (uint64_t)got;
    }
    if (gz)
        gzclose(gz);
}

/* The id of the indicator object text[0..len), or "(no id)". */
static void id_of(const char *text, size_t len, char *id, size_t idlen)
{
    ajson_arena a;
    ajson_error je;
    const ajson_value *o;
    const char *v;
    ajson_arena_init(&a, 0);
    o = ajson_parse(&a, text, len, &je);
    v = o ? ajson_str(ajson_get(o, "id")) : NULL;
    snprintf(id, idlen, "%s", v ? v : "(no id)");
    ajson_arena_free(&a);
}

/* Adds the indicators of the STIX input in fd (path names it) one by one, as
 * accord_snapshot_builder_add_fd does, but keeping the reason of each one rejected. */
static int add_indicators(loader *l, const char *path, int fd)
{
    reader *rd = NULL;
    reader_item it;
    bad_ind *bad = NULL;
    size_t nbad = 0;
    uint64_t nfile = 0;
    int rc = reader_open(fd, 0, &rd);
    while (rc == 0 && (rc = reader_next(rd, &it)) == 1) {
        accord_error e = {0};
        rc = accord_snapshot_builder_add_json(l->b, it.text, it.len, &e);
        if (rc == ACCORD_ENOMEM || rc == ACCORD_ELIMIT)
            break;
        if (rc != 0 && nfile++ < MATCH_REPORTS_MAX) {
            if (!bad && !(bad = calloc(MATCH_REPORTS_MAX, sizeof *bad))) {
                rc = ACCORD_ENOMEM;
                break;
            }
            bad[nbad].offset = it.offset;
            snprintf(bad[nbad].why, sizeof bad[nbad].why, "%s: %s",
                     rc == ACCORD_EINVAL  ? "invalid pattern"
                     : rc == ACCORD_EJSON ? "not JSON"
                                          : "rejected",
                     e.msg[0] ? e.msg : accord_strerror(rc));
            id_of(it.text, it.len, bad[nbad].id, sizeof bad[nbad].id);
            nbad++;
        }
        rc = 0;
    }
    if (rc < 0)
        snprintf(l->err, sizeof l->err, "%s: %s", path,
                 rd ? reader_errmsg(rd) : accord_strerror(rc));
    reader_close(rd);
    l->invalid += nfile;
    lines_of(fd, bad, nbad);
    for (size_t i = 0; i < nbad; i++)
        buf_printf(l->rep, "%s:%" PRIu64 ": %s: %s; not used\n", path, bad[i].line, bad[i].id,
                   bad[i].why);
    if (nfile > MATCH_REPORTS_MAX)
        buf_printf(l->rep, "%s: %" PRIu64 " more invalid indicators, counted, not shown\n", path,
                   nfile - MATCH_REPORTS_MAX);
    free(bad);
    return rc < 0 ? -1 : 0;
}

static int load_file(loader *l, const char *path)
{
    int fd, rc;
    if (!l->b) {
        fingerprint_file(l, path);
        return 0;
    }
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        snprintf(l->err, sizeof l->err, "%s: %s", path, strerror(errno));
        return -1;
    }
    rc = add_indicators(l, path, fd);
    close(fd);
    return rc;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int match_dir_list(const char *path, match_dir_keep keep, char ***out, size_t *n)
{
    struct stat st;
    struct dirent *e;
    size_t cap = 0;
    int rc = 0;
    DIR *d = opendir(path);
    *out = NULL;
    *n = 0;
    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL && rc == 0) {
        char full[4096];
        if (e->d_name[0] == '.')
            continue;
        if (snprintf(full, sizeof full, "%s/%s", path, e->d_name) >= (int)sizeof full) {
            errno = ENAMETOOLONG;
            rc = -1;
        } else if (!keep(full, stat(full, &st) == 0 ? &st : NULL)) {
            continue;
        } else if (cli_grow_array((void **)out, &cap, *n + 1, sizeof **out) != 0 ||
                   !((*out)[*n] = strdup(full))) {
            errno = ENOMEM;
            rc = -1;
        } else {
            (*n)++;
        }
    }
    closedir(d);
    if (*n)
        qsort(*out, *n, sizeof **out, name_cmp);
    return rc;
}

void match_names_free(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* --indicators DIR: subdirectories and STIX files (.json, .jsonl, .gz). */
static int indicator_entry(const char *full, const struct stat *st)
{
    return st && (S_ISDIR(st->st_mode) || cli_has_suffix(full, ".json") ||
                  cli_has_suffix(full, ".jsonl") || cli_has_suffix(full, ".gz"));
}

/* A file, or every STIX file under a directory (sorted, recursively). */
static int load_path(loader *l, const char *path)
{
    struct stat st;
    char **names;
    size_t n;
    int rc;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return load_file(l, path);
    if (match_dir_list(path, indicator_entry, &names, &n) != 0) {
        snprintf(l->err, sizeof l->err, "%s: %s", path, strerror(errno));
        match_names_free(names, n);
        return -1;
    }
    rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = load_path(l, names[i]);
    match_names_free(names, n);
    return rc;
}

void match_ind_look_at(char *const *paths, int n, match_ind_look *out)
{
    loader l;
    memset(&l, 0, sizeof l);
    for (int i = 0; i < n; i++)
        load_path(&l, paths[i]);
    out->fp = l.fp;
    memcpy(out->empty, l.empty, sizeof out->empty);
    memcpy(out->partial, l.partial, sizeof out->partial);
}

int match_ind_add(accord_snapshot_builder *b, char *const *paths, int n, buf *rep,
                  uint64_t *invalid, char *err, size_t errlen)
{
    loader l;
    int rc = 0;
    memset(&l, 0, sizeof l);
    l.b = b;
    l.rep = rep;
    for (int i = 0; i < n && rc == 0; i++)
        rc = load_path(&l, paths[i]);
    *invalid += l.invalid;
    if (rc)
        snprintf(err, errlen, "%s", l.err[0] ? l.err : "out of memory");
    return rc;
}
