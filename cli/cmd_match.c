/*
 * cmd_match.c - `accord match`: apply the indicators to telemetry files, in parallel.
 *
 * The indicators come from the store (the active ones) or from STIX files (--indicators), and
 * are compiled once into a snapshot that every worker thread shares.  Inputs are read in turn by
 * the main thread (zlib reads plain and gzip files alike) and cut into chunks of about CHUNK
 * bytes that end at a line end; each chunk gets a sequence number and goes into a ring of
 * slots.  N workers, each with its own matcher, take filled slots in sequence order, match
 * them and format their output into the slot.  The main thread writes finished slots strictly in
 * sequence order, so the output of one input is in input order whatever the thread count.
 *
 *   slot state   set by   meaning
 *   FREE         main     may be filled
 *   FILLED       main     holds input, waits for a worker
 *   WORKING      worker   being matched
 *   DONE         worker   holds output, waits to be written (then FREE)
 *
 * Output: one JSON object per match (see usage), or with --summary one per matched indicator
 * with its count.  When stderr is a terminal (and stdout is not, or --summary holds the output
 * back), stderr shows a progress line (MB, MB/s, events/s, matches), updated as slots are
 * written, at most twice a second, and cleared before other messages.
 * Malformed lines are reported on stderr as FILE:LINE: reason (the first MAX_REPORTS per input, all
 * of them counted), and a closing line gives events, bytes, MB/s, matches and malformed lines.
 * Exit: 0, 3 when some lines were malformed, 1 on I/O or store errors, 2 on usage errors.
 *
 * Sightings (--sightings, --report COLLECTION): workers count every match into one
 * accord_sightings under a lock (matches are rare next to lines, so the lock is not contended);
 * at the end the aggregated sightings and this node's identity go to the store through the
 * normal import, into COLLECTION (or the default collection), where TAXII clients read them.
 *
 * Not done here yet: --follow, Zeek TSV logs, swapping in a new snapshot while running (on
 * SIGHUP or a store change).
 */
#include "cli.h"
#include "match_flow.h"
#include "util/buf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define CHUNK (4u << 20)
#define LINE_MAX_BYTES (64u << 20)
#define MAX_REPORTS 100
#define MAX_THREADS 64
#define OUT_CAP (1ull << 32)

enum { FREE, FILLED, WORKING, DONE };

typedef struct bad_line {
    uint64_t line, offset;
    const char *why;
} bad_line;

typedef struct slot {
    int state, input, failed;
    char *data;
    size_t len, cap;
    buf out;
    bad_line *bad;
    size_t nbad, bad_cap;
    uint64_t lines, events, matches, malformed;
} slot;

typedef struct run {
    const char *cmd;
    accord_snapshot *snap;
    int summary;
    int sightings;        /* --sightings or --report */
    int64_t interval_s;   /* --sightings-interval */
    const char *report;   /* --report COLLECTION, or NULL */
    accord_sightings *sg; /* with sightings: guarded by sg_mu */
    pthread_mutex_t sg_mu;
    int sg_failed;
    size_t event_bytes;
    int64_t now_s;
    unsigned threads;
    char **inputs;
    int ninputs;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    slot *slots;
    size_t nslots;
    uint64_t next_fill, next_take, next_write;
    int reading_done;
    uint64_t **counts; /* per worker, per indicator (with --summary) */
    /* totals, written by the main thread */
    uint64_t bytes, events, matches, malformed, lines_base;
    int cur_input;
    uint64_t reports;
    int failed;
    int progress;           /* a progress line on stderr (a terminal, not --no-progress) */
    int progress_shown;     /* the line is on screen: cleared before other stderr output */
    double t0, progress_at; /* start, last progress update (monotonic seconds) */
    match_flow_opts flow;   /* flow and dnstap inputs (match_flow.c) */
    match_flow_totals ft;
} run;

/* ------------------------------------------------------------------------------------------ */
/* Output                                                                                       */

/* Appends s[0..len) as a JSON string: control bytes escaped, invalid UTF-8 as U+FFFD. */
static int put_str(buf *b, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    int rc = buf_add(b, "\"", 1);
    for (size_t i = 0; i < len && rc == 0;) {
        size_t j = i, n = u[i] < 0x80    ? 1
                          : u[i] >= 0xF0 ? 4
                          : u[i] >= 0xE0 ? 3
                          : u[i] >= 0xC2 ? 2
                                         : 0;
        int ok = n > 0 && i + n <= len;
        for (size_t k = 1; ok && k < n; k++)
            ok = (u[i + k] & 0xC0) == 0x80;
        if (ok && n == 3 &&
            ((u[i] == 0xE0 && u[i + 1] < 0xA0) || (u[i] == 0xED && u[i + 1] >= 0xA0)))
            ok = 0;
        if (ok && n == 4 &&
            ((u[i] == 0xF0 && u[i + 1] < 0x90) || u[i] > 0xF4 ||
             (u[i] == 0xF4 && u[i + 1] >= 0x90)))
            ok = 0;
        if (!ok) {
            rc = buf_add(b, "\\ufffd", 6);
            i++;
        } else if (n == 1 && (u[i] < 0x20 || u[i] == '"' || u[i] == '\\')) {
            rc = u[i] == '"'    ? buf_add(b, "\\\"", 2)
                 : u[i] == '\\' ? buf_add(b, "\\\\", 2)
                                : buf_printf(b, "\\u%04x", u[i]);
            i++;
        } else {
            while (i < len && i - j < 256 && u[i] >= 0x20 && u[i] < 0x80 && u[i] != '"' &&
                   u[i] != '\\')
                i++;
            if (i == j)
                i += n;
            rc = buf_add(b, s + j, i - j);
        }
    }
    return rc ? rc : buf_add(b, "\"", 1);
}

/* ,"labels":[...] when the indicator has labels, ,"tlp":"..." when it is marked. */
static int put_labels_tlp(buf *b, const accord_indicator_info *info)
{
    int rc = 0;
    if (strcmp(info->labels, "[]") != 0)
        rc = buf_printf(b, ",\"labels\":%s", info->labels);
    if (rc == 0 && info->tlp[0])
        rc = buf_printf(b, ",\"tlp\":\"%s\"", info->tlp);
    return rc;
}

static int put_indicators(buf *b, const accord_snapshot *snap, const accord_match *mt)
{
    int rc = buf_adds(b, ",\"indicators\":[");
    for (size_t i = 0; i < mt->nindicators && rc == 0; i++) {
        accord_indicator_info info;
        accord_snapshot_indicator(snap, mt->indicators[i], &info);
        rc = buf_printf(b, "%s{\"id\":", i ? "," : "");
        rc = rc ? rc : put_str(b, info.id, strlen(info.id));
        rc = rc ? rc : buf_adds(b, ",\"name\":");
        rc = rc ? rc : put_str(b, info.name, strlen(info.name));
        rc = rc ? rc : put_labels_tlp(b, &info);
        rc = rc ? rc : buf_adds(b, "}");
    }
    return rc ? rc : buf_adds(b, "]");
}

/* One output line for a match. */
static int put_match(const run *r, buf *b, const char *input, const accord_match *mt)
{
    int rc = buf_adds(b, "{\"time\":");
    if (rc == 0 && !mt->time)
        rc = buf_adds(b, "null");
    else if (rc == 0 && mt->time_is_string)
        rc = put_str(b, mt->time, mt->time_len);
    else if (rc == 0)
        rc = buf_add(b, mt->time, mt->time_len);
    rc = rc ? rc : buf_adds(b, ",\"input\":");
    rc = rc ? rc : put_str(b, input, strlen(input));
    rc = rc ? rc : buf_adds(b, ",\"field\":");
    rc = rc ? rc : mt->field ? put_str(b, mt->field, strlen(mt->field)) : buf_adds(b, "null");
    rc = rc ? rc : buf_adds(b, ",\"value\":");
    rc = rc ? rc : mt->value ? put_str(b, mt->value, mt->value_len) : buf_adds(b, "null");
    rc = rc ? rc : put_indicators(b, r->snap, mt);
    if (rc == 0 && r->event_bytes) {
        size_t n = mt->event_len < r->event_bytes ? mt->event_len : r->event_bytes;
        rc = buf_adds(b, ",\"event\":");
        rc = rc ? rc : put_str(b, mt->event, n);
        if (rc == 0 && n < mt->event_len)
            rc = buf_adds(b, ",\"event_truncated\":true");
    }
    return rc ? rc : buf_adds(b, "}\n");
}

/* ------------------------------------------------------------------------------------------ */
/* Workers                                                                                      */

static void collect(run *r, slot *s, accord_matcher *m, uint64_t *counts)
{
    accord_match mt;
    accord_match_malformed bm;
    const char *input = r->inputs[s->input];
    while (accord_matcher_next(m, &mt) == 1) {
        s->matches++;
        if (r->sg) {
            pthread_mutex_lock(&r->sg_mu);
            if (accord_sightings_add_match(r->sg, &mt, r->now_s * 1000000) != 0)
                r->sg_failed = 1;
            pthread_mutex_unlock(&r->sg_mu);
        }
        if (counts)
            for (size_t i = 0; i < mt.nindicators; i++)
                counts[mt.indicators[i]]++;
        else if (put_match(r, &s->out, input, &mt) != 0)
            s->failed = 1;
    }
    while (accord_matcher_next_malformed(m, &bm) == 1) {
        s->malformed++;
        if (s->nbad == s->bad_cap) {
            size_t cap = s->bad_cap ? s->bad_cap * 2 : 64;
            bad_line *nb = realloc(s->bad, cap * sizeof *nb);
            if (!nb)
                continue;
            s->bad = nb;
            s->bad_cap = cap;
        }
        s->bad[s->nbad++] = (bad_line){bm.line, bm.offset, bm.reason};
    }
}

static void process(run *r, slot *s, accord_matcher *m, uint64_t *counts)
{
    accord_matcher_stats before, after;
    accord_matcher_stats_get(m, &before);
    buf_reset(&s->out);
    s->nbad = 0;
    s->matches = s->malformed = 0;
    s->failed = accord_matcher_match_lines(m, s->data, s->len, r->now_s) < 0;
    collect(r, s, m, counts);
    accord_matcher_stats_get(m, &after);
    s->lines = after.lines - before.lines;
    s->events = after.events - before.events;
}

typedef struct worker {
    run *r;
    unsigned id;
} worker;

static void *worker_main(void *arg)
{
    worker *w = arg;
    run *r = w->r;
    accord_matcher *m = NULL;
    if (accord_matcher_new(r->snap, &m) != 0)
        m = NULL;
    pthread_mutex_lock(&r->mu);
    for (;;) {
        slot *s = &r->slots[r->next_take % r->nslots];
        if (r->next_take < r->next_fill && s->state == FILLED) {
            s->state = WORKING;
            r->next_take++;
            pthread_mutex_unlock(&r->mu);
            if (m)
                process(r, s, m, r->counts ? r->counts[w->id] : NULL);
            else
                s->failed = 1;
            pthread_mutex_lock(&r->mu);
            s->state = DONE;
            pthread_cond_broadcast(&r->cv);
        } else if (r->reading_done && r->next_take == r->next_fill) {
            break;
        } else {
            pthread_cond_wait(&r->cv, &r->mu);
        }
    }
    pthread_mutex_unlock(&r->mu);
    accord_matcher_free(m);
    return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* The main thread: reading and writing                                                         */

static double mono(void);

/* Updates the progress line (at most twice a second), or clears it when final. */
static void progress(run *r, int final)
{
    double t = mono(), secs = t - r->t0;
    if (!r->progress || (!final && t - r->progress_at < 0.5))
        return;
    r->progress_at = t;
    if (final) {
        if (r->progress_shown)
            fputs("\r\033[K", stderr);
        r->progress_shown = 0;
        return;
    }
    fprintf(stderr,
            "\r\033[Kaccord match: %.0f MB, %.0f MB/s, %.2f M events/s, %" PRIu64
            " matches, %" PRIu64 " malformed",
            (double)r->bytes / 1e6, secs > 0 ? (double)r->bytes / 1e6 / secs : 0.0,
            secs > 0 ? (double)r->events / 1e6 / secs : 0.0, r->matches, r->malformed);
    fflush(stderr);
    r->progress_shown = 1;
}

/* Writes slot s (done) and frees it; called without the lock. */
static void write_slot(run *r, slot *s)
{
    if (s->input != r->cur_input) {
        r->cur_input = s->input;
        r->lines_base = 0;
        r->reports = 0;
    }
    if (s->out.len && fwrite(s->out.p, 1, s->out.len, stdout) != s->out.len)
        r->failed = 1;
    if (s->nbad && r->progress_shown) {
        fputs("\r\033[K", stderr);
        r->progress_shown = 0;
    }
    for (size_t i = 0; i < s->nbad; i++)
        if (r->reports++ < MAX_REPORTS)
            fprintf(stderr, "%s:%" PRIu64 ": %s (byte %" PRIu64 ")\n", r->inputs[s->input],
                    r->lines_base + s->bad[i].line, s->bad[i].why, s->bad[i].offset + 1);
    if (r->reports > MAX_REPORTS && r->reports - s->nbad <= MAX_REPORTS)
        fprintf(stderr, "%s: further malformed lines are counted, not shown\n",
                r->inputs[s->input]);
    if (s->failed) {
        cli_error(r->cmd, "%s: out of memory formatting matches", r->inputs[s->input]);
        r->failed = 1;
    }
    r->lines_base += s->lines;
    r->bytes += s->len;
    r->events += s->events;
    r->matches += s->matches;
    r->malformed += s->malformed;
    progress(r, 0);
}

/* Writes every finished slot in order; with wait, blocks until slot `until` is free.  Called
 * with the lock held. */
static void drain(run *r, uint64_t until, int wait)
{
    for (;;) {
        slot *s = &r->slots[r->next_write % r->nslots];
        if (r->next_write < r->next_fill && s->state == DONE) {
            pthread_mutex_unlock(&r->mu);
            write_slot(r, s);
            pthread_mutex_lock(&r->mu);
            s->state = FREE;
            r->next_write++;
            continue;
        }
        if (!wait || r->next_write >= until)
            return;
        pthread_cond_wait(&r->cv, &r->mu);
    }
}

/* Fills slot s from gz: the carried partial line, then input up to a line end. */
static int fill(run *r, slot *s, gzFile gz, buf *carry, int *eof)
{
    size_t want = CHUNK;
    s->len = 0;
    for (;;) {
        if (s->cap < carry->len + want) {
            size_t cap = carry->len + want;
            char *d = realloc(s->data, cap);
            if (!d)
                return -1;
            s->data = d;
            s->cap = cap;
        }
        memcpy(s->data, carry->p ? carry->p : "", carry->len);
        s->len = carry->len;
        buf_reset(carry);
        while (s->len < s->cap && !*eof) {
            int n = gzread(gz, s->data + s->len, (unsigned)(s->cap - s->len));
            if (n < 0)
                return -1;
            if (n == 0)
                *eof = 1;
            s->len += (size_t)n;
        }
        if (*eof)
            return 0;
        char *nl = memrchr(s->data, '\n', s->len);
        if (nl) {
            size_t keep = (size_t)(nl - s->data) + 1;
            if (buf_add(carry, s->data + keep, s->len - keep) < 0)
                return -1;
            s->len = keep;
            return 0;
        }
        if (s->len >= LINE_MAX_BYTES) /* one line over the cap: matched as it is, cut */
            return 0;
        if (buf_add(carry, s->data, s->len) < 0)
            return -1;
        want *= 2;
        (void)r;
    }
}

static int read_input(run *r, int idx)
{
    const char *path = r->inputs[idx];
    int fd = strcmp(path, "-") == 0 ? dup(0) : open(path, O_RDONLY | O_CLOEXEC);
    gzFile gz;
    buf carry;
    int eof = 0, rc = 0;
    if (fd < 0) {
        cli_error(r->cmd, "%s: %s", path, strerror(errno));
        return -1;
    }
    gz = gzdopen(fd, "rb");
    if (!gz) {
        close(fd);
        return -1;
    }
    gzbuffer(gz, 1u << 20);
    buf_init(&carry, LINE_MAX_BYTES + CHUNK);
    while (!eof && rc == 0) {
        pthread_mutex_lock(&r->mu);
        drain(r, r->next_fill + 1 > r->nslots ? r->next_fill + 1 - r->nslots : 0, 1);
        slot *s = &r->slots[r->next_fill % r->nslots];
        pthread_mutex_unlock(&r->mu);
        s->input = idx;
        if (fill(r, s, gz, &carry, &eof) < 0) {
            cli_error(r->cmd, "%s: read error", path);
            rc = -1;
        }
        pthread_mutex_lock(&r->mu);
        if (s->len > 0) {
            s->state = FILLED;
            r->next_fill++;
            pthread_cond_broadcast(&r->cv);
        }
        pthread_mutex_unlock(&r->mu);
    }
    buf_free(&carry);
    gzclose(gz);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Indicators                                                                                   */

static int has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), k = strlen(suf);
    return n >= k && strcmp(s + n - k, suf) == 0;
}

static int add_file(const char *cmd, accord_snapshot_builder *b, const char *path)
{
    accord_error err = {0};
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc;
    if (fd < 0) {
        cli_error(cmd, "%s: %s", path, strerror(errno));
        return -1;
    }
    rc = accord_snapshot_builder_add_fd(b, fd, &err);
    close(fd);
    if (rc)
        cli_error(cmd, "%s: %s", path, err.msg);
    return rc ? -1 : 0;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds a file, or every STIX file under a directory (sorted, recursively). */
static int add_path(const char *cmd, accord_snapshot_builder *b, const char *path)
{
    struct stat st;
    DIR *d;
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return add_file(cmd, b, path);
    if (!(d = opendir(path)))
        return add_file(cmd, b, path);
    while ((e = readdir(d)) != NULL && rc == 0) {
        char full[4096];
        if (e->d_name[0] == '.')
            continue;
        snprintf(full, sizeof full, "%s/%s", path, e->d_name);
        if (stat(full, &st) != 0 || (!S_ISDIR(st.st_mode) && !has_suffix(full, ".json") &&
                                     !has_suffix(full, ".jsonl") && !has_suffix(full, ".gz")))
            continue;
        if (n == cap) {
            char **nn = realloc(names, (cap = cap ? cap * 2 : 16) * sizeof *nn);
            if (!nn) {
                rc = -1;
                break;
            }
            names = nn;
        }
        if (!(names[n] = strdup(full)))
            rc = -1;
        else
            n++;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, name_cmp);
    for (size_t i = 0; i < n; i++) {
        if (rc == 0)
            rc = add_path(cmd, b, names[i]);
        free(names[i]);
    }
    free(names);
    return rc;
}

static accord_snapshot *load_snapshot(const char *cmd, char **paths, int npaths, int64_t now)
{
    accord_snapshot_builder *b = NULL;
    accord_snapshot *s = NULL;
    accord_error err = {0};
    int rc = accord_snapshot_builder_new(now, &b);
    for (int i = 0; i < npaths && rc == 0; i++)
        rc = add_path(cmd, b, paths[i]);
    if (rc == 0 && npaths == 0) {
        accord_store *st = cli_open_store(ACCORD_STORE_READONLY);
        rc = st ? accord_snapshot_builder_add_store(b, st, &err) : -1;
        if (st && rc)
            cli_error(cmd, "%s", err.msg);
        accord_store_close(st);
    }
    if (rc == 0 && accord_snapshot_build(b, &s, &err) != 0) {
        cli_error(cmd, "%s", err.msg);
        s = NULL;
    }
    accord_snapshot_builder_free(b);
    return s;
}

/* ------------------------------------------------------------------------------------------ */
/* The command                                                                                  */

static void print_summary(run *r)
{
    size_t n = accord_snapshot_count(r->snap);
    for (size_t i = 0; i < n; i++) {
        uint64_t c = 0;
        for (unsigned t = 0; t < r->threads; t++)
            c += r->counts[t][i];
        if (c == 0)
            continue;
        accord_indicator_info info;
        buf b;
        accord_snapshot_indicator(r->snap, i, &info);
        buf_init(&b, 1 << 20);
        buf_adds(&b, "{\"indicator\":");
        put_str(&b, info.id, strlen(info.id));
        buf_adds(&b, ",\"name\":");
        put_str(&b, info.name, strlen(info.name));
        put_labels_tlp(&b, &info);
        buf_printf(&b, ",\"matches\":%" PRIu64 "}\n", c);
        if (b.p)
            fputs(b.p, stdout);
        buf_free(&b);
    }
}

static void report_totals(const run *r, double secs)
{
    accord_snapshot_stats st;
    accord_snapshot_stats_get(r->snap, &st);
    fprintf(stderr,
            "accord match: %" PRIu64 " indicators (%" PRIu64 " fast, %" PRIu64
            " pattern engine); %" PRIu64 " events, %.1f MB in %.2f s (%.0f MB/s); %" PRIu64
            " matches, %" PRIu64 " malformed lines\n",
            st.indicators, st.simple, st.complex, r->events, (double)r->bytes / 1e6, secs,
            secs > 0 ? (double)r->bytes / 1e6 / secs : 0.0, r->matches, r->malformed);
}

static int parse_args(run *r, int argc, char **argv, char ***ind, int *nind)
{
    int i = 1, n;
    *ind = calloc((size_t)argc, sizeof **ind);
    *nind = 0;
    if (!*ind)
        return -1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        const char *a = argv[i];
        char *end;
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        } else if (strcmp(a, "--summary") == 0) {
            r->summary = 1;
        } else if (strcmp(a, "--no-progress") == 0) {
            r->progress = 0;
        } else if (strcmp(a, "--sightings") == 0) {
            r->sightings = 1;
        } else if (strcmp(a, "--report") == 0 && i + 1 < argc) {
            r->sightings = 1;
            r->report = argv[++i];
        } else if (strcmp(a, "--sightings-interval") == 0 && i + 1 < argc) {
            errno = 0;
            long v = strtol(argv[++i], &end, 10);
            if (errno || *end || v < 1 || v > 31 * 86400)
                return -1;
            r->interval_s = v;
        } else if (strcmp(a, "--indicators") == 0 && i + 1 < argc) {
            (*ind)[(*nind)++] = argv[++i];
        } else if (strcmp(a, "--threads") == 0 && i + 1 < argc) {
            errno = 0;
            long v = strtol(argv[++i], &end, 10);
            if (errno || *end || v < 1 || v > MAX_THREADS)
                return -1;
            r->threads = (unsigned)v;
        } else if (strcmp(a, "--event-bytes") == 0 && i + 1 < argc) {
            errno = 0;
            long v = strtol(argv[++i], &end, 10);
            if (errno || *end || v < 0 || v > (1 << 20))
                return -1;
            r->event_bytes = (size_t)v;
        } else if (strcmp(a, "--now") == 0 && i + 1 < argc) {
            int64_t us;
            if (accord_timestamp_parse(argv[++i], &us) != 0)
                return -1;
            r->now_s = us / 1000000;
        } else if ((n = match_flow_arg(&r->flow, argc, argv, i)) != 0) {
            if (n < 0)
                return -1;
            i += n - 1;
        } else {
            return -1;
        }
    }
    r->inputs = argv + i;
    r->ninputs = argc - i;
    return r->ninputs > 0 || r->flow.listen_flows || r->flow.listen_dnstap ? 0 : -1;
}

/* A match of a flow or dnstap input (match_flow.c never calls it twice at once, and the workers
 * are idle then). */
static void flow_emit(void *ud, const char *input, const accord_match *mt)
{
    run *r = ud;
    buf b;
    if (r->sg && accord_sightings_add_match(r->sg, mt, r->now_s * 1000000) != 0)
        r->sg_failed = 1;
    if (r->counts) {
        for (size_t i = 0; i < mt->nindicators; i++)
            r->counts[0][mt->indicators[i]]++;
        return;
    }
    buf_init(&b, OUT_CAP);
    if (put_match(r, &b, input, mt) != 0 || fwrite(b.p, 1, b.len, stdout) != b.len)
        r->failed = 1;
    buf_free(&b);
}

static int start(run *r, pthread_t *tids, worker *ws)
{
    r->nslots = (size_t)r->threads * 2 + 2;
    r->slots = calloc(r->nslots, sizeof *r->slots);
    if (!r->slots)
        return -1;
    for (size_t i = 0; i < r->nslots; i++)
        buf_init(&r->slots[i].out, OUT_CAP);
    if (r->summary) {
        r->counts = calloc(r->threads, sizeof *r->counts);
        for (unsigned t = 0; r->counts && t < r->threads; t++)
            if (!(r->counts[t] = calloc(accord_snapshot_count(r->snap) + 1, sizeof(uint64_t))))
                return -1;
        if (!r->counts)
            return -1;
    }
    for (unsigned t = 0; t < r->threads; t++) {
        ws[t] = (worker){r, t};
        if (pthread_create(&tids[t], NULL, worker_main, &ws[t]) != 0)
            return -1;
    }
    return 0;
}

static void cleanup(run *r)
{
    for (size_t i = 0; r->slots && i < r->nslots; i++) {
        free(r->slots[i].data);
        free(r->slots[i].bad);
        buf_free(&r->slots[i].out);
    }
    free(r->slots);
    for (unsigned t = 0; r->counts && t < r->threads; t++)
        free(r->counts[t]);
    free(r->counts);
    accord_sightings_free(r->sg);
    accord_snapshot_unref(r->snap);
}

/* Writes the sightings to the store; 0 or -1 (reported). */
static int store_sightings(run *r)
{
    accord_error err = {0};
    accord_import_stats ist = {0};
    accord_store *st;
    int rc;
    if (r->sg_failed) {
        cli_error(r->cmd, "sightings: out of memory or too many groups; none written");
        return -1;
    }
    if (!(st = cli_open_store(0)))
        return -1;
    rc = accord_sightings_store(r->sg, st, cli_data_dir(), r->report, &ist, &err);
    if (rc)
        cli_error(r->cmd, "sightings: %s", err.msg[0] ? err.msg : "could not be stored");
    else
        fprintf(stderr,
                "accord match: %zu sightings to %s (%" PRIu64 " objects new or updated, %" PRIu64
                " unchanged)\n",
                accord_sightings_count(r->sg), r->report ? r->report : "the default collection",
                ist.accepted + ist.versions, ist.duplicates);
    accord_store_close(st);
    return rc ? -1 : 0;
}

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int cmd_match(int argc, char **argv)
{
    run r = {.cmd = "match", .threads = 1, .event_bytes = 512, .cur_input = -1, .interval_s = 3600};
    pthread_t tids[MAX_THREADS];
    worker ws[MAX_THREADS];
    char **ind = NULL;
    int nind = 0, rc = EXIT_OK;
    double t0;
    r.progress = 1;
    if (parse_args(&r, argc, argv, &ind, &nind) != 0) {
        free(ind);
        return cli_usage("match");
    }
    /* not when matches go to the same terminal (they would tear the line) */
    r.progress = r.progress && isatty(STDERR_FILENO) && (r.summary || !isatty(STDOUT_FILENO));
    r.snap = load_snapshot(r.cmd, ind, nind, r.now_s);
    free(ind);
    if (!r.snap)
        return EXIT_FAIL;
    if (r.sightings && accord_sightings_new(r.snap, r.interval_s, &r.sg) != 0) {
        cli_error(r.cmd, "out of memory");
        accord_snapshot_unref(r.snap);
        return EXIT_FAIL;
    }
    pthread_mutex_init(&r.sg_mu, NULL);
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.cv, NULL);
    t0 = r.t0 = r.progress_at = mono();
    if (start(&r, tids, ws) != 0) {
        cli_error(r.cmd, "out of memory");
        return EXIT_FAIL; /* threads already started keep the process until exit */
    }
    r.flow.threads = r.threads;
    for (int i = 0; i < r.ninputs; i++) {
        if (match_flow_sniff(r.inputs[i])) { /* what came before is written first */
            pthread_mutex_lock(&r.mu);
            drain(&r, r.next_fill, 1);
            pthread_mutex_unlock(&r.mu);
            if (match_flow_file(&r.flow, r.snap, r.now_s, r.inputs[i], flow_emit, &r, &r.ft))
                r.failed = 1;
        } else if (read_input(&r, i) != 0) {
            r.failed = 1;
        }
    }
    if ((r.flow.listen_flows || r.flow.listen_dnstap) &&
        match_flow_listen(&r.flow, r.snap, r.now_s, flow_emit, &r, &r.ft) != 0)
        r.failed = 1;
    pthread_mutex_lock(&r.mu);
    r.reading_done = 1;
    pthread_cond_broadcast(&r.cv);
    drain(&r, r.next_fill, 1);
    pthread_mutex_unlock(&r.mu);
    for (unsigned t = 0; t < r.threads; t++)
        pthread_join(tids[t], NULL);
    progress(&r, 1);
    if (r.summary)
        print_summary(&r);
    fflush(stdout);
    r.events += r.ft.records, r.bytes += r.ft.bytes;
    r.matches += r.ft.matches, r.malformed += r.ft.malformed;
    report_totals(&r, mono() - t0);
    if (r.sg && store_sightings(&r) != 0)
        r.failed = 1;
    rc = r.failed ? EXIT_FAIL : r.malformed ? EXIT_PARTIAL : EXIT_OK;
    cleanup(&r);
    pthread_mutex_destroy(&r.mu);
    pthread_mutex_destroy(&r.sg_mu);
    pthread_cond_destroy(&r.cv);
    return rc;
}
