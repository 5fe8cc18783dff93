/*
 * cmd_match.c - `accord match`: apply the indicators to telemetry files, in parallel, once or
 * following growing files, with the indicators reloaded while running.
 *
 * The indicators come from the store (the active ones) or from STIX files (--indicators, read and
 * watched by match_ind.c), and are compiled into a snapshot that every worker thread shares.
 * Inputs are read by the main thread (match_gz.c reads plain and gzip files alike, told by their
 * first bytes, and keeps what inflate gave before a fault) and cut into chunks of about CHUNK bytes
 * that end at a line end; each chunk gets a sequence number, a reference to the current snapshot,
 * and goes into a ring of slots.  N workers, each with its own matcher, take filled slots in
 * sequence order, match them against the slot's snapshot and format their output into the slot.
 * The main thread writes finished slots strictly in sequence order, so the output of one input is
 * in input order whatever the thread count.  An INPUT that is a directory stands for the regular
 * files under it, recursively, sorted by name at each level (so a run over a directory is
 * repeatable); hidden entries, symbolic links to directories (loops) and fifos, sockets and devices
 * are left out (expand_inputs).
 *
 *   slot state   set by   meaning
 *   FREE         main     may be filled
 *   FILLED       main     holds input, waits for a worker
 *   WORKING      worker   being matched
 *   DONE         worker   holds output, waits to be written (then FREE)
 *
 * Reloading: a monitor thread waits on a signalfd (SIGHUP, and with --follow SIGINT / SIGTERM) and,
 * every POLL_MS, looks whether the indicators changed: the store's last seq and last date_added
 * (two cheap reads), or the size, mtime and inode of every --indicators file.  On a change or
 * SIGHUP it builds a new snapshot beside the current one (both are in memory while it builds) and
 * swaps it in under the lock; a failed build keeps the current one.  A changed file is read once it
 * has settled (unchanged for SETTLE_MS), not while its last line has no end or while it is empty
 * (unless it stays so for EMPTY_S), and a snapshot of files that changed while they were read is
 * not used (files_check): a file being written is never read in part.  Chunks filled after the swap
 * get the new snapshot, chunks already filled keep theirs, so every chunk, and so every event, is
 * matched exactly once against one snapshot.  The --listen-* collectors ask for the current
 * snapshot between their batches (flow_current) and move to it there.  Validity needs no reload:
 * every chunk is matched at the current time (or --now), so an indicator stops matching when its
 * valid_until passes and starts when its valid_from comes; a reload drops the expired ones.
 *
 * --follow: every input is tailed (as tail -F does), but a gzip one (by its first bytes) is read
 * once to its end, and a file whose first bytes turn out to be gzip is left: complete lines are
 * matched as they come, a partial last line waits for its end; when the path names a new file
 * (renamed away and created again) the old one is read to its end and the new one from its start,
 * and when the file shrank (copytruncate) it is read again from its start; line numbers restart
 * with each new file.  SIGINT or SIGTERM ends the run as the end of the inputs does (summary,
 * sightings, totals).  Matches are flushed whenever the inputs are idle.  An INPUT directory is
 * listed again every SCAN_S seconds of idleness (scan_dirs): new files are added to inputs in place
 * (its array is allocated for FOLLOW_MAX before the workers start, since they read it unlocked).  A
 * file already read under another path (rotation renames app.log to app.log.1, and both names are
 * under the directory) is never read twice: r->opened maps each file's (device, inode) to the bytes
 * read of it, and a path that comes to name such a file, no shorter than that, is not read from its
 * start (a shorter one is a new file that reused the inode).
 *
 * Output: one JSON object per match (see usage), or with --summary one per matched indicator
 * with its count, counted by indicator id across snapshots.  When stderr is a terminal (and
 * stdout is not, or --summary holds the output back), stderr shows a progress line (MB, MB/s,
 * events/s, matches), updated as slots are written, at most twice a second, and cleared before
 * other messages.  Malformed lines are reported on stderr as FILE:LINE: reason (the first
 * MAX_REPORTS per input, all of them counted), and a closing line gives events, bytes, MB/s,
 * matches and malformed lines (a malformed line is no event).  An indicator of an --indicators
 * file that the builder rejects (invalid pattern) is reported as FILE:LINE: ID: reason and
 * counted in that line; it does not stop the run.  Every error names the file and the reason
 * (a cut or corrupt .gz too: how far it was read); a bad option names the option and its value.
 * Exit: 0, 3 when some lines were malformed or some indicators invalid, 1 on I/O or store errors, 2
 * on usage errors.
 *
 * Sightings (--sightings, --report COLLECTION): workers count every match into one
 * accord_sightings under a lock (matches are rare next to lines, so the lock is not contended),
 * moving it to the slot's snapshot first; at the end the aggregated sightings and this node's
 * identity go to the store through the normal import, into COLLECTION (or the default
 * collection), where TAXII clients read them.  COLLECTION is checked before anything is read.
 * With --follow, and while the --listen-* collectors run, the monitor also writes each interval
 * (of event time) once it has ended by the clock (flush_sightings), so a run that is killed
 * loses at most the open intervals; a late match for a written interval writes its sighting
 * again with the whole count.
 */
#include "cli.h"
#include "match_flow.h"
#include "match_gz.h"
#include "match_ind.h"
#include "util/buf.h"
#include "util/u64map.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#define CHUNK (4u << 20)
#define LINE_MAX_BYTES (64u << 20)
#define MAX_REPORTS MATCH_REPORTS_MAX
#define MAX_THREADS 64
#define OUT_CAP (1ull << 32)
#define POLL_MS 1000    /* how often the monitor looks for changed indicators */
#define SETTLE_MS 500   /* a changed --indicators file is read when it has not changed for this */
#define EMPTY_S 3.0     /* and when it is empty, once it has stayed so for this long */
#define IDLE_MS 100     /* how long --follow sleeps when no input grew */
#define DIR_DEPTH 32    /* directory levels read under a telemetry directory */
#define FOLLOW_MAX 4096 /* --follow: files under the INPUT directories, those found later too */
#define SCAN_S 1.0      /* --follow: how often the INPUT directories are listed again */

enum { FREE, FILLED, WORKING, DONE };

typedef struct bad_line {
    uint64_t line, offset;
    const char *why;
} bad_line;

typedef struct slot {
    int state, input, failed;
    int restart;           /* the first chunk of a new file of its input: line numbers restart */
    accord_snapshot *snap; /* what the chunk is matched against (a reference) */
    char *hdr;             /* the Zeek TSV header in effect at the chunk's start */
    size_t hdr_len, hdr_cap;
    char *data;
    size_t len, cap;
    buf out;
    bad_line *bad;
    size_t nbad, bad_cap;
    uint32_t *hits; /* --summary: the indicator numbers of every match, counted when written */
    size_t nhits, hits_cap;
    uint64_t lines, events, matches, malformed;
} slot;

/* --summary: counts per indicator id, in the order indicators were first counted. */
typedef struct sum_entry {
    char *id;
    char *head; /* {"indicator":ID,"name":NAME[,"labels":..][,"tlp":..] */
    uint64_t count;
} sum_entry;

typedef struct run {
    const char *cmd;
    accord_snapshot *snap; /* the current snapshot; swapped under mu */
    char **ind;            /* --indicators paths; none = the store */
    int nind;
    int summary;
    int follow;
    int sightings;        /* --sightings or --report */
    int64_t interval_s;   /* --sightings-interval */
    const char *report;   /* --report COLLECTION, or NULL */
    accord_sightings *sg; /* with sightings: guarded by sg_mu */
    pthread_mutex_t sg_mu;
    int sg_failed;
    int sg_flush_failed; /* --follow: the last write of closed intervals failed (told once) */
    size_t event_bytes;
    int64_t now_s;
    unsigned threads;
    char **inputs; /* the files to read: the INPUT arguments, directories expanded */
    int ninputs;
    char **paths; /* owned: what inputs points to once expanded */
    int npaths;
    size_t paths_cap;  /* with dirs: fixed before the workers start (they read inputs) */
    const char **dirs; /* --follow: the INPUT directories, listed again for new files */
    int ndirs;
    u64map known;  /* --follow with dirs: XXH3 of every path seen under them */
    u64map opened; /* --follow: file_key of every file a tail opened -> bytes read of it */
    int full_told; /* FOLLOW_MAX reached: said once */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    slot *slots;
    size_t nslots;
    uint64_t next_fill, next_take, next_write;
    int reading_done;
    buf notices;       /* messages of the monitor, printed by the main thread (under mu) */
    atomic_int stop;   /* --follow: SIGINT or SIGTERM came */
    atomic_int listening; /* --listen-flows / --listen-dnstap are running */
    int sigfd, stopfd; /* the monitor's signalfd, and the eventfd that ends it */
    uint64_t store_seq, store_added, files_fp; /* what the current indicators were built from */
    /* --summary counts, kept by the main thread */
    accord_snapshot *sum_snap;
    uint64_t *sum_counts;
    sum_entry *sums;
    size_t nsums, sums_cap;
    u64map sum_ids; /* XXH3(id) -> index in sums */
    /* totals, written by the main thread */
    uint64_t bytes, events, matches, malformed, reloads;
    uint64_t invalid; /* indicators of --indicators files rejected by the current snapshot */
    uint64_t *lines_base, *reports; /* per input */
    int failed;
    int progress;           /* a progress line on stderr (a terminal, not --no-progress) */
    int progress_shown;     /* the line is on screen: cleared before other stderr output */
    double t0, progress_at; /* start, last progress update (monotonic seconds) */
    const char *fmap_path;  /* --field-map FILE, or NULL */
    accord_field_map *fmap; /* its map (read once, at the start), or NULL: the built-in one */
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

/* One output line for a match of a chunk matched against snap. */
static int put_match(const run *r, const accord_snapshot *snap, buf *b, const char *input,
                     const accord_match *mt)
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
    rc = rc ? rc : put_indicators(b, snap, mt);
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

static void collect(run *r, slot *s, accord_matcher *m)
{
    accord_match mt;
    accord_match_malformed bm;
    const char *input = r->inputs[s->input];
    while (accord_matcher_next(m, &mt) == 1) {
        s->matches++;
        if (r->sg) {
            pthread_mutex_lock(&r->sg_mu);
            if (accord_sightings_set_snapshot(r->sg, s->snap) != 0 ||
                accord_sightings_add_match(r->sg, &mt, r->now_s * 1000000) != 0)
                r->sg_failed = 1;
            pthread_mutex_unlock(&r->sg_mu);
        }
        if (r->summary) {
            if (cli_grow_array((void **)&s->hits, &s->hits_cap, s->nhits + mt.nindicators,
                               sizeof *s->hits) != 0) {
                s->failed = 1;
                continue;
            }
            memcpy(s->hits + s->nhits, mt.indicators, mt.nindicators * sizeof *s->hits);
            s->nhits += mt.nindicators;
        } else if (put_match(r, s->snap, &s->out, input, &mt) != 0) {
            s->failed = 1;
        }
    }
    while (accord_matcher_next_malformed(m, &bm) == 1) {
        s->malformed++;
        if (cli_grow_array((void **)&s->bad, &s->bad_cap, s->nbad + 1, sizeof *s->bad) != 0)
            continue;
        s->bad[s->nbad++] = (bad_line){bm.line, bm.offset, bm.reason};
    }
}

static void process(run *r, slot *s, accord_matcher *m)
{
    accord_matcher_stats before, after;
    accord_matcher_stats_get(m, &before);
    buf_reset(&s->out);
    s->nbad = s->nhits = 0;
    s->matches = s->malformed = 0;
    accord_matcher_set_header(m, s->hdr, s->hdr_len);
    s->failed = accord_matcher_match_lines(m, s->data, s->len, r->now_s) < 0;
    collect(r, s, m);
    accord_matcher_stats_get(m, &after);
    s->lines = after.lines - before.lines;
    s->events = after.events - before.events;
}

static void *worker_main(void *arg)
{
    run *r = arg;
    accord_matcher *m = NULL;
    accord_snapshot *msnap = NULL; /* the snapshot of m */
    pthread_mutex_lock(&r->mu);
    for (;;) {
        slot *s = &r->slots[r->next_take % r->nslots];
        if (r->next_take < r->next_fill && s->state == FILLED) {
            s->state = WORKING;
            r->next_take++;
            pthread_mutex_unlock(&r->mu);
            if (s->snap != msnap) {
                /* a new snapshot was swapped in: a matcher over it, with the partial matches of
                 * the indicators it holds unchanged */
                accord_matcher *nm = NULL;
                msnap = s->snap;
                if (accord_matcher_new(msnap, &nm) == 0) {
                    accord_matcher_set_field_map(nm, r->fmap);
                    if (m && accord_matcher_carry(nm, m) < 0) {
                        accord_matcher_free(nm);
                        nm = NULL;
                    }
                }
                accord_matcher_free(m);
                m = nm;
            }
            if (m)
                process(r, s, m);
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
/* --summary: counts per indicator id                                                           */

/* Moves the counts of sum_snap into the entries by id (in indicator order, so one snapshot
 * gives the order of the indicators), and clears them. */
static int sum_fold(run *r)
{
    size_t n = r->sum_snap ? accord_snapshot_count(r->sum_snap) : 0;
    for (size_t i = 0; i < n; i++) {
        accord_indicator_info info;
        uint64_t h, v;
        buf b;
        if (!r->sum_counts[i])
            continue;
        accord_snapshot_indicator(r->sum_snap, i, &info);
        h = XXH3_64bits(info.id, strlen(info.id));
        /* a 64-bit hash names the id; a collision (never seen) probes on */
        while (u64map_get(&r->sum_ids, u64map_key(h), &v) && strcmp(r->sums[v].id, info.id))
            h += 0x9E3779B97F4A7C15ull;
        if (!u64map_get(&r->sum_ids, u64map_key(h), &v)) {
            if (cli_grow_array((void **)&r->sums, &r->sums_cap, r->nsums + 1,
                               sizeof *r->sums) != 0)
                return -1;
            buf_init(&b, 1 << 20);
            buf_adds(&b, "{\"indicator\":");
            put_str(&b, info.id, strlen(info.id));
            buf_adds(&b, ",\"name\":");
            put_str(&b, info.name, strlen(info.name));
            put_labels_tlp(&b, &info);
            v = r->nsums;
            r->sums[v] = (sum_entry){strdup(info.id), buf_take(&b, NULL), 0};
            if (!r->sums[v].id || !r->sums[v].head ||
                u64map_put(&r->sum_ids, u64map_key(h), v) != 0) {
                free(r->sums[v].id);
                free(r->sums[v].head);
                return -1;
            }
            r->nsums++;
        }
        r->sums[v].count += r->sum_counts[i];
        r->sum_counts[i] = 0;
    }
    return 0;
}

/* Counts the indicators inds[0..n) of snapshot snap (main thread). */
static void sum_add(run *r, accord_snapshot *snap, const uint32_t *inds, size_t n)
{
    if (n == 0)
        return;
    if (snap != r->sum_snap) {
        if (sum_fold(r) != 0)
            r->failed = 1;
        free(r->sum_counts);
        accord_snapshot_unref(r->sum_snap);
        r->sum_snap = accord_snapshot_ref(snap);
        r->sum_counts = calloc(accord_snapshot_count(snap) + 1, sizeof *r->sum_counts);
        if (!r->sum_counts) {
            cli_error(r->cmd, "out of memory counting matches");
            r->failed = 1;
            accord_snapshot_unref(r->sum_snap);
            r->sum_snap = NULL;
            return;
        }
    }
    for (size_t i = 0; i < n; i++)
        r->sum_counts[inds[i]]++;
}

static void print_summary(run *r)
{
    if (sum_fold(r) != 0) {
        cli_error(r->cmd, "out of memory counting matches");
        r->failed = 1;
    }
    for (size_t i = 0; i < r->nsums; i++)
        printf("%s,\"matches\":%" PRIu64 "}\n", r->sums[i].head, r->sums[i].count);
}

/* ------------------------------------------------------------------------------------------ */
/* The main thread: writing                                                                     */

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void clear_progress(run *r)
{
    if (r->progress_shown)
        fputs("\r\033[K", stderr);
    r->progress_shown = 0;
}

/* Updates the progress line (at most twice a second), or clears it when final. */
static void progress(run *r, int final)
{
    double t = mono(), secs = t - r->t0;
    if (!r->progress || (!final && t - r->progress_at < 0.5))
        return;
    r->progress_at = t;
    if (final) {
        clear_progress(r);
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

/* Prints the monitor's messages; called with the lock held. */
static void print_notices(run *r)
{
    if (r->notices.len == 0)
        return;
    clear_progress(r);
    fwrite(r->notices.p, 1, r->notices.len, stderr);
    buf_reset(&r->notices);
}

/* Writes slot s (done); called without the lock. */
static void write_slot(run *r, slot *s)
{
    const char *path = r->inputs[s->input];
    uint64_t *base = &r->lines_base[s->input], *reports = &r->reports[s->input];
    if (s->restart)
        *base = 0;
    if (s->out.len && fwrite(s->out.p, 1, s->out.len, stdout) != s->out.len)
        r->failed = 1;
    if (s->nbad)
        clear_progress(r);
    for (size_t i = 0; i < s->nbad; i++)
        if ((*reports)++ < MAX_REPORTS)
            fprintf(stderr, "%s:%" PRIu64 ": %s (byte %" PRIu64 ")\n", path, *base + s->bad[i].line,
                    s->bad[i].why, s->bad[i].offset + 1);
    if (*reports > MAX_REPORTS && *reports - s->nbad <= MAX_REPORTS)
        fprintf(stderr, "%s: further malformed lines are counted, not shown\n", path);
    if (s->failed) {
        cli_error(r->cmd, "%s: out of memory matching or formatting matches", path);
        r->failed = 1;
    }
    if (r->summary)
        sum_add(r, s->snap, s->hits, s->nhits);
    *base += s->lines;
    r->bytes += s->len;
    r->events += s->events;
    r->matches += s->matches;
    r->malformed += s->malformed;
    accord_snapshot_unref(s->snap);
    s->snap = NULL;
    progress(r, 0);
}

/* Writes every finished slot in order; with wait, blocks until slot `until` is free.  Called
 * with the lock held. */
static void drain(run *r, uint64_t until, int wait)
{
    for (;;) {
        slot *s = &r->slots[r->next_write % r->nslots];
        print_notices(r);
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

/* ------------------------------------------------------------------------------------------ */
/* The main thread: reading                                                                     */

/* The slot to fill next, once it is free (earlier output written meanwhile). */
static slot *next_slot(run *r)
{
    slot *s;
    pthread_mutex_lock(&r->mu);
    drain(r, r->next_fill + 1 > r->nslots ? r->next_fill + 1 - r->nslots : 0, 1);
    s = &r->slots[r->next_fill % r->nslots];
    pthread_mutex_unlock(&r->mu);
    return s;
}

/* The Zeek TSV header lines of d[0..n) added to hdr, the header in effect after them: a
 * #separator line starts a new one, #close ends it.  Other lines starting with '#' (comments)
 * are left out, and so is a header past 1 MiB. */
static void track_header(buf *hdr, const char *d, size_t n)
{
    static const char *const keys[] = {"#set_separator", "#empty_field", "#unset_field",
                                       "#fields",        "#types",       "#path"};
    const char *p = d, *end = d + n;
    while (p < end && (p = memchr(p, '#', (size_t)(end - p))) != NULL) {
        const char *nl;
        size_t len;
        if (p > d && p[-1] != '\n') {
            p++;
            continue;
        }
        nl = memchr(p, '\n', (size_t)(end - p));
        len = (size_t)((nl ? nl : end) - p);
        if (len >= 10 && memcmp(p, "#separator", 10) == 0) {
            buf_reset(hdr);
        } else if (len >= 6 && memcmp(p, "#close", 6) == 0) {
            buf_reset(hdr);
            len = 0;
        } else {
            int known = 0;
            for (size_t k = 0; k < sizeof keys / sizeof keys[0] && !known; k++)
                known = len >= strlen(keys[k]) && memcmp(p, keys[k], strlen(keys[k])) == 0;
            if (!known || hdr->len + len > (1u << 20))
                len = 0;
        }
        if (len && (buf_add(hdr, p, len) < 0 || buf_add(hdr, "\n", 1) < 0))
            buf_reset(hdr);
        p = nl ? nl + 1 : end;
    }
}

/* Hands the filled slot s (input idx) to the workers with the current snapshot and the header
 * in effect hdr (then updated with the header lines of s). */
static void submit(run *r, slot *s, int idx, int restart, buf *hdr)
{
    s->hdr_len = 0;
    if (hdr->len && cli_grow_array((void **)&s->hdr, &s->hdr_cap, hdr->len, 1) == 0) {
        memcpy(s->hdr, hdr->p, hdr->len);
        s->hdr_len = hdr->len;
    }
    track_header(hdr, s->data, s->len);
    pthread_mutex_lock(&r->mu);
    s->input = idx;
    s->restart = restart;
    s->snap = accord_snapshot_ref(r->snap);
    s->state = FILLED;
    r->next_fill++;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

/* Room for need bytes in s. */
static int slot_reserve(slot *s, size_t need)
{
    char *d;
    if (s->cap >= need)
        return 0;
    if (!(d = realloc(s->data, need)))
        return -1;
    s->data = d;
    s->cap = need;
    return 0;
}

/* Keeps the complete lines of s and moves the partial last line to carry; 1 when complete
 * lines are left, 0 when there are none (all of it went to carry), -1 on no memory.  A line
 * longer than LINE_MAX_BYTES is matched as it is, cut. */
static int cut_lines(slot *s, buf *carry)
{
    char *nl = s->len ? memrchr(s->data, '\n', s->len) : NULL;
    size_t keep = nl ? (size_t)(nl - s->data) + 1 : 0;
    if (!nl && s->len >= LINE_MAX_BYTES)
        return 1;
    if (buf_add(carry, s->data + keep, s->len - keep) < 0)
        return -1;
    s->len = keep;
    return keep > 0;
}

/* Fills slot s from z: the carried partial line, then input up to a line end.  0, or -1 on a
 * fault of the input (what came before it is in s) or no memory. */
static int fill(slot *s, mgz *z, buf *carry, int *eof)
{
    size_t want = CHUNK;
    for (;;) {
        int rc;
        if (slot_reserve(s, carry->len + want) < 0)
            return -1;
        memcpy(s->data, carry->p ? carry->p : "", carry->len);
        s->len = carry->len;
        buf_reset(carry);
        while (s->len < s->cap && !*eof) {
            long n = mgz_read(z, s->data + s->len, s->cap - s->len);
            if (n < 0)
                return -1;
            if (n == 0)
                *eof = 1;
            s->len += (size_t)n;
        }
        if (*eof)
            return 0;
        if ((rc = cut_lines(s, carry)) != 0)
            return rc < 0 ? -1 : 0;
        want *= 2;
    }
}

static int open_input(const char *path)
{
    return strcmp(path, "-") == 0 ? dup(0) : open(path, O_RDONLY | O_CLOEXEC);
}

/* --follow: 1 when the file at path is gzip (by its first bytes, as read_input tells it; not
 * stdin, whose bytes cannot be looked at before they are read). */
static int compressed(const char *path)
{
    return strcmp(path, "-") != 0 && mgz_sniff(path);
}

/* Reports that input path cannot be read (errno err), and where a symbolic link leads when it is
 * one (a dangling link in a directory of inputs). */
static void open_error(const run *r, const char *path, int err)
{
    char to[1024];
    struct stat st;
    ssize_t n =
        lstat(path, &st) == 0 && S_ISLNK(st.st_mode) ? readlink(path, to, sizeof to - 1) : -1;
    if (n < 0)
        cli_error(r->cmd, "%s: %s", path, strerror(err));
    else
        cli_error(r->cmd, "%s: %s (a symbolic link to %.*s)", path, strerror(err), (int)n, to);
}

/* Reports the fault that ended reading input idx through z (after the slots before it are
 * written, so that the line it came after is known), or no memory when z has none. */
static void read_fault(run *r, int idx, const mgz *z)
{
    const char *path = r->inputs[idx];
    int err, checksum;
    const char *why = mgz_error(z, &err, &checksum);
    uint64_t line;
    pthread_mutex_lock(&r->mu);
    drain(r, r->next_fill, 1);
    line = r->lines_base[idx];
    pthread_mutex_unlock(&r->mu);
    if (err)
        cli_error(r->cmd, "%s: %s", path, strerror(err));
    else if (!why)
        cli_error(r->cmd, "%s: out of memory for a line", path);
    else
        cli_error(r->cmd,
                  "%s: gzip: %s%s, after %" PRIu64 " bytes of uncompressed data (line %" PRIu64
                  "); %s",
                  path, why, strcmp(why, "unexpected end of file") == 0 ? " (the file is cut)" : "",
                  mgz_given(z), line,
                  checksum ? "what came before was matched, but some of it is damaged (it "
                             "fails the gzip check)"
                           : "what came before was matched");
}

/* Reads input idx (plain or gzip, by its first bytes) to its end. */
static int read_input(run *r, int idx)
{
    const char *path = r->inputs[idx];
    int fd = open_input(path);
    mgz *z;
    buf carry, hdr;
    int eof = 0, rc = 0;
    if (fd < 0 || mgz_open(fd, &z) != 0) {
        open_error(r, path, errno);
        return -1;
    }
    buf_init(&carry, LINE_MAX_BYTES + CHUNK);
    buf_init(&hdr, 2u << 20);
    while (!eof && rc == 0) {
        slot *s = next_slot(r);
        rc = fill(s, z, &carry, &eof);
        if (s->len > 0)
            submit(r, s, idx, 0, &hdr);
    }
    if (rc)
        read_fault(r, idx, z);
    buf_free(&carry);
    buf_free(&hdr);
    mgz_close(z);
    return rc;
}

/* --follow: one tailed input. */
typedef struct tail {
    int fd;      /* -1 while the path does not exist */
    int stream;  /* a pipe or terminal: no rotation, read only when poll says so */
    int restart; /* the next chunk is the first of a new file */
    int missing; /* told that the path does not exist */
    dev_t dev;
    ino_t ino;
    uint64_t key; /* file_key: its entry in r->opened */
    off_t off;
    buf carry;
    buf hdr; /* the Zeek TSV header in effect */
} tail;

/* The key of a file in r->opened: its device and inode. */
static uint64_t file_key(const struct stat *st)
{
    uint64_t v[2] = {(uint64_t)st->st_dev, (uint64_t)st->st_ino};
    return u64map_key(XXH3_64bits(v, sizeof v));
}

/* 1 when this run has read the file of st under some path: its inode is in r->opened and it is
 * at least as long as what was read of it (a shorter one is a new file that got the inode of
 * one deleted since, and is read). */
static int read_elsewhere(const run *r, const struct stat *st)
{
    uint64_t off;
    return u64map_get(&r->opened, file_key(st), &off) && off > 0 && (uint64_t)st->st_size >= off;
}

static int tail_open(run *r, tail *t, int idx)
{
    struct stat st;
    const char *path = r->inputs[idx];
    t->fd = open_input(path);
    if (t->fd < 0) {
        if (!t->missing++)
            fprintf(stderr, "accord match: %s: %s; waiting for it\n", path, strerror(errno));
        return -1;
    }
    if (fstat(t->fd, &st) != 0) {
        close(t->fd);
        t->fd = -1;
        return -1;
    }
    t->stream = !S_ISREG(st.st_mode);
    t->dev = st.st_dev;
    t->ino = st.st_ino;
    t->key = file_key(&st);
    t->off = 0;
    t->restart = 1;
    t->missing = 0;
    buf_reset(&t->hdr);
    return 0;
}

/* Submits the carried partial line of t as a line (its file ended). */
static void tail_flush(run *r, tail *t, int idx)
{
    slot *s;
    if (t->carry.len == 0)
        return;
    s = next_slot(r);
    if (slot_reserve(s, t->carry.len) < 0) {
        r->failed = 1;
        return;
    }
    memcpy(s->data, t->carry.p, t->carry.len);
    s->len = t->carry.len;
    buf_reset(&t->carry);
    submit(r, s, idx, t->restart, &t->hdr);
    t->restart = 0;
}

static void notice(run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Reads what input idx has now: 1 when it gave lines (or switched files), 0 when idle. */
static int tail_step(run *r, tail *t, int idx)
{
    const char *path = r->inputs[idx];
    struct stat st;
    slot *s;
    ssize_t n;
    int rc;
    if (t->fd < 0 && tail_open(r, t, idx) < 0)
        return 0;
    if (t->stream) {
        struct pollfd p = {t->fd, POLLIN, 0};
        if (poll(&p, 1, 0) <= 0)
            return 0;
    }
    s = next_slot(r);
    if (slot_reserve(s, t->carry.len + CHUNK) < 0) {
        r->failed = 1;
        return 0;
    }
    memcpy(s->data, t->carry.p ? t->carry.p : "", t->carry.len);
    s->len = t->carry.len;
    n = read(t->fd, s->data + s->len, CHUNK);
    if (n >= 2 && t->off == 0 && !t->stream && (unsigned char)s->data[s->len] == 0x1f &&
        (unsigned char)s->data[s->len + 1] == 0x8b) {
        /* a file that became gzip after it was first looked at (written after it was created,
         * or a compressed file at a rotated path): its bytes would be read as lines */
        notice(r, "%s: compressed (gzip); not followed (--follow tails plain files and pipes)",
               path);
        close(t->fd);
        t->fd = -1;
        t->stream = 2;
        return 1;
    }
    if (n > 0) {
        buf_reset(&t->carry);
        s->len += (size_t)n;
        t->off += n;
        if (!t->stream)
            u64map_put(&r->opened, t->key, (uint64_t)t->off);
        if ((rc = cut_lines(s, &t->carry)) < 0)
            r->failed = 1;
        if (rc > 0) {
            submit(r, s, idx, t->restart, &t->hdr);
            t->restart = 0;
        }
        return 1;
    }
    if (n < 0 && errno != EINTR && errno != EAGAIN) {
        cli_error(r->cmd, "%s: %s", path, strerror(errno));
        r->failed = 1;
    }
    if (t->stream) { /* a pipe's end: nothing more will come */
        if (n == 0) {
            tail_flush(r, t, idx);
            close(t->fd);
            t->fd = -1;
            t->missing = 1; /* not opened again */
            t->stream = 2;
        }
        return 0;
    }
    /* at the end of the file: was it rotated (a new file at the path) or truncated?  A file
     * this run has read under another path (app.log renamed to app.log.1 while both are
     * followed) was read there: here only what is appended from now on */
    if (stat(path, &st) == 0 && (st.st_ino != t->ino || st.st_dev != t->dev)) {
        int seen = read_elsewhere(r, &st);
        off_t end;
        tail_flush(r, t, idx);
        close(t->fd);
        t->fd = -1;
        if (tail_open(r, t, idx) == 0 && seen && (end = lseek(t->fd, 0, SEEK_END)) > 0)
            t->off = end;
        return 1;
    }
    if (fstat(t->fd, &st) == 0 && st.st_size < t->off) {
        tail_flush(r, t, idx);
        lseek(t->fd, 0, SEEK_SET);
        t->off = 0;
        t->restart = 1;
        buf_reset(&t->hdr);
        return 1;
    }
    return 0;
}

static void tail_init(tail *t)
{
    t->fd = -1;
    buf_init(&t->carry, LINE_MAX_BYTES + CHUNK);
    buf_init(&t->hdr, 2u << 20);
}

static int scan_dirs(run *r, tail *t);

/* How many inputs a run may read: with directories, the room made for the files found in them
 * (paths_cap, fixed before the workers start); else the inputs named. */
static size_t input_room(const run *r)
{
    return r->ndirs ? r->paths_cap : (size_t)r->ninputs;
}

/* --follow: tails every input until SIGINT or SIGTERM; every SCAN_S seconds without input the
 * INPUT directories are listed for files created since (scan_dirs). */
static int follow_inputs(run *r)
{
    size_t ntail = input_room(r);
    double scanned = mono();
    if (ntail == 0)
        return -1;
    tail *t = calloc(ntail, sizeof *t);
    if (!t)
        return -1;
    for (int i = 0; i < r->ninputs; i++) {
        tail_init(&t[i]);
        if (compressed(r->inputs[i])) {
            /* read whole first: a compressed log is a finished one (rotated away), and a gzip
             * writer flushes whole blocks, so there is nothing to tail */
            t[i].stream = 2;
            if (read_input(r, i) != 0)
                r->failed = 1;
            fprintf(stderr,
                    "accord match: %s: compressed; read to its end, not followed (--follow tails "
                    "plain files and pipes)\n",
                    r->inputs[i]);
        }
    }
    while (!atomic_load(&r->stop)) {
        int busy = 0, open = 0;
        for (int i = 0; i < r->ninputs; i++)
            if (t[i].stream != 2) {
                busy |= tail_step(r, &t[i], i);
                open++;
            }
        if (busy)
            continue;
        if (r->ndirs && mono() - scanned >= SCAN_S) {
            scanned = mono();
            if (scan_dirs(r, t))
                continue;
        }
        if (!open && !r->ndirs) /* every input was a pipe, and each has ended */
            break;
        pthread_mutex_lock(&r->mu);
        drain(r, 0, 0);
        pthread_mutex_unlock(&r->mu);
        fflush(stdout);
        poll(NULL, 0, IDLE_MS);
    }
    for (int i = 0; i < r->ninputs; i++) {
        tail_flush(r, &t[i], i);
        if (t[i].fd >= 0)
            close(t[i].fd);
        buf_free(&t[i].carry);
        buf_free(&t[i].hdr);
    }
    free(t);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Indicators                                                                                   */

/* The fingerprint of the indicator files (0 when they come from the store), in l->fp, and the
 * first of them found empty or ending inside a line in l->empty, l->partial. */
static void files_look(const run *r, match_ind_look *l)
{
    match_ind_look_at(r->ind, r->nind, l);
}

static uint64_t files_fingerprint(const run *r)
{
    match_ind_look l;
    files_look(r, &l);
    return l.fp;
}

/* The store's last seq and last date_added into *seq, *added; 0 or -1. */
static int store_mark(accord_store *st, uint64_t *seq, uint64_t *added)
{
    accord_store_stats ss = {0};
    if (!st || accord_store_stats_light(st, &ss, NULL) != 0)
        return -1;
    *seq = (uint64_t)ss.versions;
    *added = (uint64_t)ss.last_added_us;
    return 0;
}

/* A snapshot of the current indicators, or NULL with the reason in err.  The indicators of
 * --indicators files that were rejected are counted in *invalid and reported in rep. */
static accord_snapshot *load_snapshot(const run *r, char *err, size_t errlen, buf *rep,
                                      uint64_t *invalid)
{
    accord_snapshot *s = NULL;
    accord_snapshot_builder *b = NULL;
    accord_error e = {0};
    char why[600] = "";
    /* --nats with listeners only: every record goes to the workers, none is matched here */
    int none = r->flow.nats && r->ninputs == 0;
    int rc = accord_snapshot_builder_new(r->now_s, &b);
    *invalid = 0;
    if (rc == 0 && r->nind && !none)
        rc = match_ind_add(b, r->ind, r->nind, rep, invalid, why, sizeof why);
    if (rc == 0 && r->nind == 0 && !none) {
        accord_store *st = NULL;
        rc = accord_store_open(cli_data_dir(), ACCORD_STORE_READONLY, &st, &e);
        rc = rc ? rc : accord_snapshot_builder_add_store(b, st, &e);
        if (rc)
            snprintf(why, sizeof why, "%s", e.msg);
        accord_store_close(st);
    }
    if (rc == 0 && accord_snapshot_build(b, &s, &e) != 0) {
        snprintf(why, sizeof why, "%s", e.msg);
        s = NULL;
    }
    accord_snapshot_builder_free(b);
    if (!s)
        snprintf(err, errlen, "%s", why[0] ? why : "out of memory");
    return s;
}

/* ------------------------------------------------------------------------------------------ */
/* The monitor: signals, and reloading the indicators when they change                         */

static void notice(run *r, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&r->mu);
    buf_printf(&r->notices, "accord match: %s\n", line);
    if (atomic_load(&r->listening)) /* the main thread is in the listeners: shown now */
        print_notices(r);
    pthread_mutex_unlock(&r->mu);
}

/* Appends the lines of rep to out, each as a message of accord match. */
static void put_reports(buf *out, const buf *rep)
{
    const char *p = rep->p, *end = rep->p + rep->len;
    while (p && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = (size_t)((nl ? nl : end) - p);
        buf_printf(out, "accord match: %.*s\n", (int)n, p);
        p = nl ? nl + 1 : end;
    }
}

/* Builds a snapshot of the current indicators and swaps it in (the reason, why, goes in the
 * notice); a failed build keeps the current one.  With --indicators files, fp is their
 * fingerprint before they were read: when they changed while they were read, the snapshot is
 * not used and -1 is returned (they are read again once they settle); else 0. */
static int reload(run *r, const char *why, uint64_t fp)
{
    char err[700];
    double t0 = mono();
    buf rep;
    uint64_t invalid = 0;
    accord_snapshot *s, *old;
    accord_snapshot_stats st;
    buf_init(&rep, 1u << 20);
    s = load_snapshot(r, err, sizeof err, &rep, &invalid);
    pthread_mutex_lock(&r->mu);
    put_reports(&r->notices, &rep);
    pthread_mutex_unlock(&r->mu);
    buf_free(&rep);
    if (!s) {
        notice(r, "%s: reloading the indicators failed (%s); keeping the current ones", why, err);
        return 0;
    }
    if (r->nind && files_fingerprint(r) != fp) {
        notice(r,
               "%s: the indicator files changed while they were read; keeping the current "
               "indicators until they settle",
               why);
        accord_snapshot_unref(s);
        return -1;
    }
    accord_snapshot_stats_get(s, &st);
    pthread_mutex_lock(&r->mu);
    old = r->snap;
    r->snap = s;
    r->invalid = invalid;
    r->reloads++;
    pthread_mutex_unlock(&r->mu);
    accord_snapshot_unref(old); /* freed when the last chunk matched against it is written */
    notice(r,
           "%s: indicators reloaded: %" PRIu64 " (%" PRIu64 " fast, %" PRIu64
           " pattern engine; %" PRIu64 " invalid, not used) in %.2f s",
           why, st.indicators, st.simple, st.complex, invalid, mono() - t0);
    return 0;
}

/* The line that says n sightings (`which`: what they are, after the word) were written, and
 * what the import made of them, into out. */
static void sightings_summary(const run *r, size_t n, const char *which,
                              const accord_import_stats *ist, char *out, size_t cap)
{
    snprintf(out, cap,
             "%zu sightings%s to %s (%" PRIu64 " objects new or updated, %" PRIu64 " unchanged)",
             n, which, r->report ? r->report : "the default collection",
             ist->accepted + ist->versions, ist->duplicates);
}

/* --follow and the collectors: writes the sightings of the intervals that ended by now_us (each
 * as it closes, so a killed run loses at most the open ones); the rest are written at the end.
 * The lock is held while they are stored, so a worker that matches meanwhile waits (matches are
 * rare, the writes once an interval).  A failed write keeps them for the next try.  The write
 * is a store change, but no change of indicators: when the store's marks (ro, the monitor's
 * read-only handle, NULL with --indicators) moved by exactly the versions it wrote, they are
 * taken as the current ones, so it does not rebuild the snapshot; another writer's change at
 * the same time moves them further and is reloaded as usual. */
static void flush_sightings(run *r, accord_store *ro, int64_t now_us)
{
    accord_error err = {0};
    accord_import_stats ist = {0};
    accord_store *st = NULL;
    uint64_t seq0 = 0, added0 = 0, seq1 = 0, added1 = 0;
    size_t n = 0;
    int rc, mine;
    pthread_mutex_lock(&r->sg_mu);
    if (r->sg_failed || !accord_sightings_due(r->sg, now_us)) {
        pthread_mutex_unlock(&r->sg_mu);
        return;
    }
    mine = store_mark(ro, &seq0, &added0) == 0 && seq0 == r->store_seq && added0 == r->store_added;
    rc = accord_store_open(cli_data_dir(), 0, &st, &err);
    rc = rc ? rc
            : accord_sightings_store_closed(r->sg, st, cli_data_dir(), r->report, now_us, &n, &ist,
                                            &err);
    pthread_mutex_unlock(&r->sg_mu);
    accord_store_close(st);
    if (!rc && mine && store_mark(ro, &seq1, &added1) == 0 &&
        seq1 - seq0 == ist.accepted + ist.versions) {
        r->store_seq = seq1;
        r->store_added = added1;
    }
    if (rc && !r->sg_flush_failed)
        notice(r, "sightings: %s; kept, to be written again", err.msg[0] ? err.msg : "not stored");
    else if (!rc) {
        char line[1024];
        sightings_summary(r, n, " of closed intervals", &ist, line, sizeof line);
        notice(r, "%s", line);
    }
    r->sg_flush_failed = rc != 0;
}

/* --indicators files: what the monitor saw of them. */
typedef struct files_watch {
    uint64_t seen;  /* the fingerprint last seen */
    double seen_at; /* since when (monotonic seconds) it has been seen */
    uint64_t told;  /* the fingerprint a wait was said for (once) */
} files_watch;

/* Whether the indicator files as looked at in l (unchanged for SETTLE_MS at least, or asked
 * for by SIGHUP) are to be read now: not while one ends inside a line (being written), nor
 * while one is empty (truncated to be written again) until it has stayed empty for EMPTY_S
 * (then it is taken as emptied on purpose); a wait is said once. */
static int files_ready(run *r, files_watch *w, const match_ind_look *l, int asked)
{
    const char *path = l->partial[0] ? l->partial : l->empty;
    int empty_long = mono() - w->seen_at >= EMPTY_S;
    if (l->partial[0] || (l->empty[0] && !asked && !empty_long)) {
        if (w->told != l->fp)
            notice(r, "%s: %s; keeping the current indicators", path,
                   l->partial[0] ? "its last line is incomplete (being written?)"
                                 : "empty (being written again?), for now");
        w->told = l->fp;
        return 0;
    }
    if (l->empty[0] && empty_long)
        notice(r, "%s: empty for %.0f s: read as it is, with no indicators", path, EMPTY_S);
    else if (l->empty[0])
        notice(r, "%s: empty: read as it is (SIGHUP), with no indicators", path);
    return 1;
}

/* --indicators files: reloads them when they changed and settled, or with SIGHUP (why). */
static void files_check(run *r, files_watch *w, const char *why)
{
    match_ind_look l;
    files_look(r, &l);
    if (l.fp != w->seen) {
        w->seen = l.fp;
        w->seen_at = mono();
    }
    if (!why && (l.fp == r->files_fp || mono() - w->seen_at < SETTLE_MS / 1000.0))
        return; /* unchanged, or changed and not settled yet */
    if (!files_ready(r, w, &l, why != NULL))
        return;
    if (reload(r, why ? why : "indicator files changed", l.fp) == 0)
        r->files_fp = l.fp;
}

static void *monitor_main(void *arg)
{
    run *r = arg;
    accord_store *st = NULL;
    files_watch w = {r->files_fp, 0, 0};
    for (;;) {
        struct pollfd p[2] = {{r->sigfd, POLLIN, 0}, {r->stopfd, POLLIN, 0}};
        const char *why = NULL;
        uint64_t seq = 0, added = 0;
        /* a change of the files is looked at again sooner, to see whether it settled */
        if (poll(p, 2, r->nind && w.seen != r->files_fp ? SETTLE_MS : POLL_MS) < 0 &&
            errno != EINTR)
            break;
        if (p[1].revents)
            break;
        if (p[0].revents) {
            struct signalfd_siginfo si;
            if (read(r->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
                if (si.ssi_signo == SIGHUP)
                    why = "SIGHUP";
                else
                    atomic_store(&r->stop, 1);
            }
        }
        if (!r->nind && !st &&
            accord_store_open(cli_data_dir(), ACCORD_STORE_READONLY, &st, NULL) != 0)
            st = NULL;
        if ((r->follow || atomic_load(&r->listening)) && r->sg)
            flush_sightings(r, st, accord_timestamp_now());
        /* the marks are taken before the build, so a change during it is seen next time */
        if (r->nind) {
            files_check(r, &w, why);
            continue;
        }
        if (store_mark(st, &seq, &added) == 0) {
            if (!why && (seq != r->store_seq || added != r->store_added))
                why = "store changed";
            r->store_seq = seq;
            r->store_added = added;
        }
        if (why)
            reload(r, why, 0);
    }
    accord_store_close(st);
    return NULL;
}

/* The signals the monitor takes: blocked in every thread (set before any starts), read from a
 * signalfd.  SIGINT and SIGTERM only with --follow (else they end the process as usual). */
static int signals_setup(run *r, sigset_t *old)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    if (r->follow) {
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
    }
    if (pthread_sigmask(SIG_BLOCK, &set, old) != 0)
        return -1;
    r->sigfd = signalfd(-1, &set, SFD_CLOEXEC);
    r->stopfd = eventfd(0, EFD_CLOEXEC);
    return r->sigfd >= 0 && r->stopfd >= 0 ? 0 : -1;
}

/* ------------------------------------------------------------------------------------------ */
/* Telemetry directories                                                                        */

/* Under a telemetry directory: regular files, and subdirectories that are not symbolic links (a
 * link to a directory could make a loop).  Fifos, sockets and devices are left out.  An entry
 * that cannot be looked at (a dangling link) is listed: opening it reports why. */
static int telemetry_entry(const char *full, const struct stat *st)
{
    struct stat lst;
    if (!st || S_ISREG(st->st_mode))
        return 1;
    return S_ISDIR(st->st_mode) && lstat(full, &lst) == 0 && S_ISDIR(lst.st_mode);
}

/* A list of paths: the files to read. */
typedef struct path_list {
    char **v;
    int n;
    size_t cap;
} path_list;

/* Adds path to l: a file (or -, or a path that does not exist: opening it reports that) as it
 * is, a directory as the files under it, recursively, sorted by name at every level.  0, or -1
 * when a directory cannot be read (the rest is added), reported as command cmd (NULL: not). */
static int add_input(const char *cmd, path_list *l, const char *path, int depth)
{
    struct stat st;
    char **names;
    size_t n;
    int rc = 0;
    if (strcmp(path, "-") == 0 || stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        if (cli_grow_array((void **)&l->v, &l->cap, (size_t)l->n + 1, sizeof *l->v) != 0 ||
            !(l->v[l->n] = strdup(path))) {
            if (cmd)
                cli_error(cmd, "%s: out of memory listing the inputs", path);
            return -1;
        }
        l->n++;
        return 0;
    }
    if (depth >= DIR_DEPTH) {
        if (cmd)
            cli_error(cmd, "%s: more than %d directory levels; not read", path, DIR_DEPTH);
        return -1;
    }
    if (match_dir_list(path, telemetry_entry, &names, &n) != 0) {
        if (cmd)
            cli_error(cmd, "%s: %s", path, strerror(errno));
        rc = -1;
    } else if (n == 0 && depth == 0 && cmd) {
        fprintf(stderr, "accord match: %s: no files in this directory\n", path);
    }
    for (size_t i = 0; i < n; i++)
        if (add_input(cmd, l, names[i], depth + 1) != 0)
            rc = -1;
    match_names_free(names, n);
    return rc;
}

static uint64_t path_key(const char *path)
{
    return u64map_key(XXH3_64bits(path, strlen(path)));
}

/* --follow: the files under the INPUT directories that were not there before, added as inputs
 * read from their start (in the slots of paths kept free for them: the workers read inputs
 * without the lock, so the array never moves).  Left out, said once: compressed files and files
 * this run has opened under another path (a log renamed by rotation: its lines were matched
 * already).  1 when some were added. */
static int scan_dirs(run *r, tail *t)
{
    int added = 0;
    for (int d = 0; d < r->ndirs; d++) {
        path_list l = {NULL, 0, 0};
        add_input(NULL, &l, r->dirs[d], 0);
        for (int i = 0; i < l.n; i++) {
            struct stat st;
            uint64_t k = path_key(l.v[i]);
            if (u64map_get(&r->known, k, NULL) || stat(l.v[i], &st) != 0 ||
                u64map_put(&r->known, k, 1) != 0)
                continue;
            int gz = compressed(l.v[i]);
            if (gz || read_elsewhere(r, &st)) {
                notice(r, "%s: %s; not read", l.v[i],
                       gz ? "new, compressed (a rotated log)"
                          : "a file read under another name (rotated)");
            } else if ((size_t)r->npaths >= r->paths_cap) {
                if (!r->full_told++)
                    notice(r, "%s: more than %d files followed; new ones are not read", l.v[i],
                           FOLLOW_MAX);
            } else {
                notice(r, "%s: new file, followed", l.v[i]);
                tail_init(&t[r->npaths]);
                r->paths[r->npaths++] = l.v[i];
                l.v[i] = NULL;
                r->ninputs = r->npaths;
                added = 1;
            }
        }
        match_names_free(l.v, (size_t)l.n);
    }
    return added;
}

/* Replaces the INPUT arguments by the files to read (directories expanded); 0 or -1 when some
 * could not be listed (reported; the others are read).  With --follow the directories are kept
 * in dirs, the paths in known, and paths gets room for FOLLOW_MAX files. */
static int expand_inputs(run *r)
{
    path_list l = {NULL, 0, 0};
    struct stat st;
    int rc = 0;
    if (r->follow && !(r->dirs = calloc((size_t)r->ninputs + 1, sizeof *r->dirs)))
        return -1;
    for (int i = 0; i < r->ninputs; i++) {
        if (r->follow && strcmp(r->inputs[i], "-") != 0 && stat(r->inputs[i], &st) == 0 &&
            S_ISDIR(st.st_mode))
            r->dirs[r->ndirs++] = r->inputs[i];
        if (add_input(r->cmd, &l, r->inputs[i], 0) != 0)
            rc = -1;
    }
    if (r->ndirs && cli_grow_array((void **)&l.v, &l.cap, FOLLOW_MAX, sizeof *l.v) != 0) {
        cli_error(r->cmd, "out of memory listing the inputs");
        r->ndirs = 0; /* the directories are not looked at again */
        rc = -1;
    }
    for (int i = 0; r->ndirs && i < l.n; i++)
        u64map_put(&r->known, path_key(l.v[i]), 1);
    r->paths = l.v;
    r->npaths = l.n;
    r->paths_cap = l.cap;
    r->inputs = r->paths;
    r->ninputs = r->npaths;
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* The command                                                                                  */

static void report_totals(const run *r, double secs)
{
    accord_snapshot_stats st;
    accord_snapshot_stats_get(r->snap, &st);
    fprintf(stderr,
            "accord match: %" PRIu64 " indicators (%" PRIu64 " fast, %" PRIu64
            " pattern engine); %" PRIu64 " events, %.1f MB in %.2f s (%.0f MB/s); %" PRIu64
            " matches, %" PRIu64 " malformed lines",
            st.indicators, st.simple, st.complex, r->events, (double)r->bytes / 1e6, secs,
            secs > 0 ? (double)r->bytes / 1e6 / secs : 0.0, r->matches, r->malformed);
    if (r->invalid)
        fprintf(stderr, "; %" PRIu64 " invalid indicators not used", r->invalid);
    if (r->reloads)
        fprintf(stderr, "; indicators reloaded %" PRIu64 " times", r->reloads);
    fputc('\n', stderr);
}

/* A whole number from lo to hi in *v; 0, or -1 (not a number, or out of range). */
static int int_arg(const char *s, long lo, long hi, long *v)
{
    char *end;
    errno = 0;
    *v = strtol(s, &end, 10);
    return errno || end == s || *end || *v < lo || *v > hi ? -1 : 0;
}

/* Reports a bad option value: the option, the value and what was expected; -1. */
static int bad_value(const run *r, const char *opt, const char *val, const char *want)
{
    cli_error(r->cmd, "%s '%s': %s", opt, val, want);
    return -1;
}

/* Reads the options into r; 0, or -1 after naming the option and its bad value on stderr. */
static int parse_args(run *r, int argc, char **argv)
{
    int i = 1, n;
    r->ind = calloc((size_t)argc, sizeof *r->ind);
    r->nind = 0;
    if (!r->ind)
        return -1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long num;
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        } else if (strcmp(a, "--summary") == 0) {
            r->summary = 1;
        } else if (strcmp(a, "--follow") == 0 || strcmp(a, "-f") == 0) {
            r->follow = 1;
        } else if (strcmp(a, "--no-progress") == 0) {
            r->progress = 0;
        } else if (strcmp(a, "--sightings") == 0) {
            r->sightings = 1;
        } else if ((n = match_flow_arg(&r->flow, argc, argv, i)) != 0) {
            if (n < 0 && !v)
                cli_error(r->cmd, "%s: needs a value", a);
            else if (n < 0)
                bad_value(r, a, v,
                          strcmp(a, "--listen-seconds") == 0 ? "expected seconds greater than 0"
                          : strcmp(a, "--tenant") == 0       ? "not a valid tenant name"
                                                             : "not a valid value");
            if (n < 0)
                return -1;
            i += n - 1;
        } else if (!v) {
            cli_error(r->cmd, "%s: %s", a,
                      strncmp(a, "--", 2) == 0 ? "unknown option, or its value is missing"
                                               : "unknown option");
            return -1;
        } else if (strcmp(a, "--report") == 0) {
            r->sightings = 1;
            r->report = argv[++i];
        } else if (strcmp(a, "--sightings-interval") == 0) {
            if (int_arg(argv[++i], 1, 31 * 86400, &num) != 0)
                return bad_value(r, a, v, "expected seconds from 1 to 2678400 (31 days)");
            r->interval_s = num;
        } else if (strcmp(a, "--field-map") == 0) {
            r->fmap_path = argv[++i];
        } else if (strcmp(a, "--indicators") == 0) {
            r->ind[r->nind++] = argv[++i];
        } else if (strcmp(a, "--threads") == 0) {
            if (int_arg(argv[++i], 1, MAX_THREADS, &num) != 0)
                return bad_value(r, a, v, "expected a whole number from 1 to 64");
            r->threads = (unsigned)num;
        } else if (strcmp(a, "--event-bytes") == 0) {
            if (int_arg(argv[++i], 0, 1 << 20, &num) != 0)
                return bad_value(r, a, v, "expected a whole number from 0 to 1048576");
            r->event_bytes = (size_t)num;
        } else if (strcmp(a, "--now") == 0) {
            int64_t us;
            if (accord_timestamp_parse(argv[++i], &us) != 0)
                return bad_value(r, a, v,
                                 "expected an RFC 3339 timestamp such as 2024-05-01T00:00:00Z");
            r->now_s = us / 1000000;
        } else {
            cli_error(r->cmd, "%s: unknown option", a);
            return -1;
        }
    }
    r->inputs = argv + i;
    r->ninputs = argc - i;
    if (r->ninputs > 0 || r->flow.listen_flows || r->flow.listen_dnstap)
        return 0;
    cli_error(r->cmd, "no INPUT: give files, directories or - (stdin)");
    return -1;
}

/* A flow or dnstap input matched against one snapshot (a reference taken for the input); the
 * listeners follow the current one. */
typedef struct flow_ctx {
    run *r;
    accord_snapshot *snap;
} flow_ctx;

/* A match of a flow or dnstap input (match_flow.c never calls it twice at once; the main
 * thread, which writes the workers' output, is inside match_flow.c then). */
static void flow_emit(void *ud, const char *input, accord_snapshot *snap, const accord_match *mt)
{
    flow_ctx *c = ud;
    run *r = c->r;
    buf b;
    if (r->sg) {
        pthread_mutex_lock(&r->sg_mu);
        if (accord_sightings_set_snapshot(r->sg, snap) != 0 ||
            accord_sightings_add_match(r->sg, mt, r->now_s * 1000000) != 0)
            r->sg_failed = 1;
        pthread_mutex_unlock(&r->sg_mu);
    }
    if (r->summary) {
        sum_add(r, snap, mt->indicators, mt->nindicators);
        return;
    }
    buf_init(&b, OUT_CAP);
    if (put_match(r, snap, &b, input, mt) != 0 || fwrite(b.p, 1, b.len, stdout) != b.len)
        r->failed = 1;
    /* a collector runs for days: its matches go out as they come (they are rare) */
    if (atomic_load(&r->listening) && fflush(stdout) != 0)
        r->failed = 1;
    buf_free(&b);
}

/* The listeners' source of snapshots: the current one when they have another. */
static accord_snapshot *flow_current(void *ud, const accord_snapshot *have)
{
    flow_ctx *c = ud;
    accord_snapshot *s = NULL;
    pthread_mutex_lock(&c->r->mu);
    if (c->r->snap != have) /* have is referenced by the caller: its address is not reused */
        s = accord_snapshot_ref(c->r->snap);
    pthread_mutex_unlock(&c->r->mu);
    return s;
}

/* Matches flow / dnstap file idx, or the listeners (idx -1), against the current snapshot. */
static int flow_input(run *r, int idx)
{
    flow_ctx c = {r, NULL};
    int rc;
    pthread_mutex_lock(&r->mu);
    drain(r, r->next_fill, 1); /* what came before is written first */
    c.snap = accord_snapshot_ref(r->snap);
    pthread_mutex_unlock(&r->mu);
    if (idx >= 0)
        rc = match_flow_file(&r->flow, c.snap, r->now_s, r->inputs[idx], flow_emit, &c, &r->ft);
    else {
        atomic_store(&r->listening, 1);
        rc = match_flow_listen(&r->flow, c.snap, flow_current, r->now_s, flow_emit, &c, &r->ft);
        atomic_store(&r->listening, 0);
    }
    accord_snapshot_unref(c.snap);
    return rc;
}

static int start(run *r, pthread_t *tids)
{
    r->nslots = (size_t)r->threads * 2 + 2;
    r->slots = calloc(r->nslots, sizeof *r->slots);
    size_t nin = input_room(r) + 1; /* found later too */
    r->lines_base = calloc(nin, sizeof *r->lines_base);
    r->reports = calloc(nin, sizeof *r->reports);
    if (!r->slots || !r->lines_base || !r->reports)
        return -1;
    for (size_t i = 0; i < r->nslots; i++)
        buf_init(&r->slots[i].out, OUT_CAP);
    for (unsigned t = 0; t < r->threads; t++)
        if (pthread_create(&tids[t], NULL, worker_main, r) != 0)
            return -1;
    return 0;
}

static void cleanup(run *r)
{
    for (size_t i = 0; r->slots && i < r->nslots; i++) {
        free(r->slots[i].data);
        free(r->slots[i].bad);
        free(r->slots[i].hits);
        free(r->slots[i].hdr);
        buf_free(&r->slots[i].out);
        accord_snapshot_unref(r->slots[i].snap);
    }
    free(r->slots);
    for (size_t i = 0; i < r->nsums; i++) {
        free(r->sums[i].id);
        free(r->sums[i].head);
    }
    free(r->sums);
    u64map_free(&r->sum_ids);
    free(r->sum_counts);
    accord_snapshot_unref(r->sum_snap);
    free(r->lines_base);
    free(r->reports);
    for (int i = 0; i < r->npaths; i++)
        free(r->paths[i]);
    free(r->paths);
    free(r->dirs);
    u64map_free(&r->known);
    u64map_free(&r->opened);
    free(r->ind);
    buf_free(&r->notices);
    accord_sightings_free(r->sg);
    accord_snapshot_unref(r->snap);
    accord_field_map_free(r->fmap);
}

/* Reads --field-map; 0, or -1 with the error (FILE:LINE: what) reported. */
static int load_field_map(run *r)
{
    accord_error e = {0};
    size_t len;
    char *text;
    if (!r->fmap_path)
        return 0;
    if (!(text = cli_slurp(r->cmd, r->fmap_path, 1u << 20, &len)))
        return -1;
    if (accord_field_map_parse(text, len, r->fmap_path, &r->fmap, &e) != 0)
        cli_error(r->cmd, "%s", e.msg);
    free(text);
    return r->fmap ? 0 : -1;
}

/* With sightings: the collection they go to exists (checked at the start, not when the first
 * are written, maybe hours later).  0, or -1 naming it (reported). */
static int check_report(run *r)
{
    accord_error err = {0};
    accord_store *st;
    int rc;
    if (!r->sightings)
        return 0;
    if (!(st = cli_open_store(0)))
        return -1;
    rc = accord_sightings_check_collection(st, r->report, &err);
    if (rc)
        cli_error(r->cmd, "--report %s: %s", r->report ? r->report : "(default)",
                  err.msg[0] ? err.msg : "no such collection");
    accord_store_close(st);
    return rc ? -1 : 0;
}

/* Writes the sightings to the store; 0 or -1 (reported). */
static int store_sightings(run *r)
{
    accord_error err = {0};
    accord_import_stats ist = {0};
    accord_store *st;
    size_t n = 0;
    int rc;
    if (r->sg_failed) {
        cli_error(r->cmd, "sightings: out of memory or too many groups; none written");
        return -1;
    }
    if (!(st = cli_open_store(0)))
        return -1;
    /* all of them, or with --follow those not written as their intervals closed */
    rc = accord_sightings_store_closed(r->sg, st, cli_data_dir(), r->report, INT64_MAX, &n, &ist,
                                       &err);
    if (rc)
        cli_error(r->cmd, "sightings: %s", err.msg[0] ? err.msg : "could not be stored");
    else {
        char line[1024];
        sightings_summary(r, n, "", &ist, line, sizeof line);
        fprintf(stderr, "accord match: %s\n", line);
    }
    accord_store_close(st);
    return rc ? -1 : 0;
}

int cmd_match(int argc, char **argv)
{
    run r = {.cmd = "match", .threads = 1, .event_bytes = 512, .interval_s = 3600};
    pthread_t tids[MAX_THREADS], mon;
    sigset_t oldmask;
    char err[700];
    int rc = EXIT_OK;
    double t0;
    r.progress = 1;
    r.sigfd = r.stopfd = -1;
    buf_init(&r.notices, 1 << 20);
    u64map_init(&r.sum_ids);
    u64map_init_set(&r.known);
    u64map_init(&r.opened); /* -> the bytes read of the file */
    if (parse_args(&r, argc, argv) != 0) {
        cleanup(&r);
        fprintf(stderr, "usage: accord match [OPTION]... INPUT... (accord help match)\n");
        return EXIT_USAGE;
    }
    if (expand_inputs(&r) != 0)
        r.failed = 1;
    if (load_field_map(&r) != 0) {
        cleanup(&r);
        return EXIT_USAGE;
    }
    if (check_report(&r) != 0) {
        cleanup(&r);
        return EXIT_FAIL;
    }
    /* not when matches go to the same terminal (they would tear the line) */
    r.progress = r.progress && isatty(STDERR_FILENO) && (r.summary || !isatty(STDOUT_FILENO));
    /* what the indicators are now, taken before they are read: a change while they are read
     * is seen by the first poll */
    if (r.nind) {
        r.files_fp = files_fingerprint(&r);
    } else {
        accord_store *st = NULL;
        if (accord_store_open(cli_data_dir(), ACCORD_STORE_READONLY, &st, NULL) == 0)
            store_mark(st, &r.store_seq, &r.store_added);
        accord_store_close(st);
    }
    {
        buf rep, msgs;
        buf_init(&rep, 1u << 20);
        buf_init(&msgs, 2u << 20);
        r.snap = load_snapshot(&r, err, sizeof err, &rep, &r.invalid);
        put_reports(&msgs, &rep);
        if (msgs.len)
            fwrite(msgs.p, 1, msgs.len, stderr);
        buf_free(&rep);
        buf_free(&msgs);
    }
    if (!r.snap) {
        cli_error(r.cmd, "%s", err);
        cleanup(&r);
        return EXIT_FAIL;
    }
    if (r.sightings && accord_sightings_new(r.snap, r.interval_s, &r.sg) != 0) {
        cli_error(r.cmd, "out of memory");
        cleanup(&r);
        return EXIT_FAIL;
    }
    pthread_mutex_init(&r.sg_mu, NULL);
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.cv, NULL);
    t0 = r.t0 = r.progress_at = mono();
    if (signals_setup(&r, &oldmask) != 0 || start(&r, tids) != 0 ||
        pthread_create(&mon, NULL, monitor_main, &r) != 0) {
        cli_error(r.cmd, "out of memory or threads");
        return EXIT_FAIL; /* threads already started keep the process until exit */
    }
    if (r.follow) {
        /* compressed inputs are read whole first, the others are tailed (follow_inputs) */
        if (follow_inputs(&r) != 0)
            r.failed = 1;
    } else {
        r.flow.threads = r.threads;
        for (int i = 0; i < r.ninputs; i++)
            if ((match_flow_sniff(r.inputs[i]) ? flow_input(&r, i) : read_input(&r, i)) != 0)
                r.failed = 1;
        if ((r.flow.listen_flows || r.flow.listen_dnstap) && flow_input(&r, -1) != 0)
            r.failed = 1;
    }
    pthread_mutex_lock(&r.mu);
    r.reading_done = 1;
    pthread_cond_broadcast(&r.cv);
    drain(&r, r.next_fill, 1);
    pthread_mutex_unlock(&r.mu);
    for (unsigned t = 0; t < r.threads; t++)
        pthread_join(tids[t], NULL);
    {
        uint64_t one = 1; /* ends the monitor */
        if (write(r.stopfd, &one, sizeof one) != (ssize_t)sizeof one)
            r.failed = 1;
        pthread_join(mon, NULL);
    }
    pthread_mutex_lock(&r.mu);
    print_notices(&r);
    pthread_mutex_unlock(&r.mu);
    progress(&r, 1);
    if (r.summary)
        print_summary(&r);
    fflush(stdout);
    r.events += r.ft.records, r.bytes += r.ft.bytes;
    r.matches += r.ft.matches, r.malformed += r.ft.malformed;
    report_totals(&r, mono() - t0);
    if (r.sg && store_sightings(&r) != 0)
        r.failed = 1;
    rc = r.failed ? EXIT_FAIL : r.malformed || r.invalid ? EXIT_PARTIAL : EXIT_OK;
    cleanup(&r);
    close(r.sigfd);
    close(r.stopfd);
    pthread_sigmask(SIG_SETMASK, &oldmask, NULL);
    pthread_mutex_destroy(&r.mu);
    pthread_mutex_destroy(&r.sg_mu);
    pthread_cond_destroy(&r.cv);
    return rc;
}
