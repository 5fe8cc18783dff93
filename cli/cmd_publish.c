/*
 * cmd_publish.c - `accord publish --nats URL FILE|DIR|-...`: telemetry into the work queue.
 *
 * Each input is read (plain or gzip) and cut into chunks that end at a line end, of at most
 * --chunk-kib KiB (512 by default; a line longer than that travels alone, up to what a message
 * holds).  A chunk is published to accord.tel.<tenant>.<source> with
 *
 *   header             value
 *   Nats-Msg-Id        <source>:<offset>   the chunk id: byte offset of the chunk in the
 *                                          (uncompressed) input, so the same input cut again
 *                                          gives the same ids and the stream's duplicate window
 *                                          drops what a restarted producer sends again
 *   Accord-Line        line number of the chunk's first line (1-based)
 *   Accord-Input       the input's name, for the results
 *   Accord-Header-Len  bytes of the payload before the chunk: the Zeek TSV header lines in
 *                      effect at the chunk's start (0 when none)
 *
 * Up to --window chunks (8) are in flight at once: published without waiting, their
 * acknowledgements read by the client's thread (on_ack); --window 1 waits for each.  A full
 * stream (discard new) answers with an error: the producer stops, waits and sends the refused
 * chunks again (drain), so nothing is dropped and the producer runs at the workers' pace.
 * While the server is away (restart, fail-over) the chunks not acknowledged are taken back and
 * sent again until stored; their ids make that harmless.  Listeners (nats_forward) wait for
 * each chunk.
 */
#include "cmd_nats.h"

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

#define PAYLOAD_MAX (1000u << 10) /* under the server's 1 MiB max_payload, headers aside */
#define PUBLISH_WINDOW 8          /* chunks in flight (--window) */

typedef struct pub {
    const char *cmd;
    nats_link l;
    const char *tenant, *source;
    const char *kind; /* Accord-Kind of record chunks (flow, dnstap); NULL for lines */
    size_t chunk;
    buf hdr;   /* the Zeek header in effect at the next chunk */
    buf out;   /* header + chunk of the message being sent */
    char *in; /* the input read so far */
    uint64_t chunks, dups, bytes, lines, waits, failed;
    int full_noted;
    /* --window N > 1: chunks published without waiting, up to N unacknowledged (ajs); those
     * the server refused or did not acknowledge are sent again by drain() */
    int window;
    jsCtx *ajs;
    pthread_mutex_t mu;  /* what on_ack shares with the publishing thread: */
    natsMsg **retry;     /*   chunks to send again */
    size_t nretry, retry_cap;
    natsStatus last_err; /*   why the last one was refused */
    jsErrCode last_jerr;
} pub;

/* The Zeek TSV header lines of d[0..n) applied to hdr: a #separator line starts a new header,
 * #close ends it; other '#' lines are comments.  (The same rule as accord match.) */
static void header_track(buf *hdr, const char *d, size_t n)
{
    static const char *const keys[] = {"#separator",   "#set_separator", "#empty_field",
                                       "#unset_field", "#fields",        "#types",
                                       "#path"};
    for (const char *p = d, *end = d + n; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = (size_t)((nl ? nl : end) - p);
        if (len && p[0] == '#') {
            size_t k = 0;
            if (len >= 6 && memcmp(p, "#close", 6) == 0)
                buf_reset(hdr);
            while (k < sizeof keys / sizeof keys[0] &&
                   !(len > strlen(keys[k]) && memcmp(p, keys[k], strlen(keys[k])) == 0))
                k++;
            if (k == 0)
                buf_reset(hdr);
            if (k < sizeof keys / sizeof keys[0] && hdr->len + len < (64u << 10) &&
                (buf_add(hdr, p, len) < 0 || buf_add(hdr, "\n", 1) < 0))
                buf_reset(hdr);
        }
        p = nl ? nl + 1 : end;
    }
}

static void header_value(char *out, size_t outlen, const char *s)
{
    size_t n = 0;
    for (; *s && n + 1 < outlen; s++)
        out[n++] = (*s == '\r' || *s == '\n') ? ' ' : *s;
    out[n] = '\0';
}

/* Whether a publish failed for a reason that passes: the stream is full (discard new) or the
 * server is away. */
static int publish_retryable(pub *p, natsStatus s, jsErrCode jerr)
{
    return jerr == JSStreamStoreFailedErr || s == NATS_TIMEOUT || s == NATS_NO_RESPONDERS ||
           natsConnection_Status(p->l.nc) != NATS_CONN_STATUS_CONNECTED;
}

static void note_wait(pub *p, jsErrCode jerr, int tries)
{
    if (!p->full_noted && jerr) {
        fprintf(stderr, "accord %s: stream %s_%s full, waiting for the workers\n", p->cmd,
                NATS_STREAM_TEL, p->tenant);
        p->full_noted = 1;
    }
    p->waits++;
    nats_Sleep(tries < 10 ? 50 : 250);
}

/* Asynchronous acknowledgements (the library's thread): a chunk stored is counted, one refused
 * kept to be sent again. */
static void on_ack(jsCtx *js, natsMsg *m, jsPubAck *pa, jsPubAckErr *pae, void *ud)
{
    pub *p = ud;
    (void)js;
    pthread_mutex_lock(&p->mu);
    if (pa) {
        p->chunks++;
        p->dups += pa->Duplicate;
    } else if (pae) {
        p->last_err = pae->Err;
        p->last_jerr = pae->ErrCode;
        if (p->nretry == p->retry_cap) {
            size_t cap = p->retry_cap ? p->retry_cap * 2 : 16;
            natsMsg **r = realloc(p->retry, cap * sizeof *r);
            if (r) {
                p->retry = r;
                p->retry_cap = cap;
            }
        }
        if (p->nretry < p->retry_cap) {
            p->retry[p->nretry++] = m;
            m = NULL;
        } else {
            p->failed++;
        }
    }
    pthread_mutex_unlock(&p->mu);
    natsMsg_Destroy(m);
}

/* Keeps m (not sent) to be sent again by drain(). */
static void keep_for_retry(pub *p, natsMsg *m, natsStatus s, jsErrCode jerr)
{
    jsPubAckErr pae = {m, s, jerr, NULL};
    on_ack(p->ajs, m, NULL, &pae, p);
}

/*
 * Waits until every chunk published asynchronously is stored: chunks refused (stream full) or
 * not acknowledged within 2 s (server away; taken back from the library) are sent again, with
 * their msg ids, after 50 ms (250 ms after ten tries), until stored.  0, or -1 (a refusal that
 * does not pass, or SIGINT/SIGTERM).
 */
static int drain(pub *p)
{
    for (int tries = 0;; tries++) {
        jsPubOptions po;
        natsMsg **again;
        size_t n;
        natsStatus s, why;
        jsErrCode jerr;
        uint64_t failed;
        int rc = 0;
        jsPubOptions_Init(&po);
        po.MaxWait = 2000;
        s = js_PublishAsyncComplete(p->ajs, &po);
        if (s != NATS_OK) { /* acknowledgements lost: those chunks are ours to send again */
            natsMsgList pend = {NULL, 0};
            if (js_PublishAsyncGetPendingList(&pend, p->ajs) == NATS_OK) {
                for (int i = 0; i < pend.Count; i++) {
                    keep_for_retry(p, pend.Msgs[i], NATS_TIMEOUT, 0);
                    pend.Msgs[i] = NULL;
                }
                natsMsgList_Destroy(&pend);
            }
        }
        pthread_mutex_lock(&p->mu);
        again = p->retry;
        n = p->nretry;
        why = p->last_err;
        jerr = p->last_jerr;
        failed = p->failed;
        p->retry = NULL;
        p->nretry = p->retry_cap = 0;
        pthread_mutex_unlock(&p->mu);
        if (n == 0 && (s == NATS_OK || s == NATS_NOT_FOUND))
            return failed ? -1 : 0;
        if (n == 0 && !nats_stop) { /* not acknowledged and not taken back: wait again */
            nats_Sleep(50);
            continue;
        }
        if (nats_stop || (n && !publish_retryable(p, why, jerr))) {
            if (!nats_stop)
                nats_fail(p->cmd, "publish", why, jerr);
            rc = -1;
        } else if (n) {
            note_wait(p, jerr, tries);
        }
        for (size_t i = 0; i < n; i++) {
            natsStatus ps = rc ? NATS_ERR : js_PublishMsgAsync(p->ajs, &again[i], NULL);
            if (ps != NATS_OK && !rc)
                keep_for_retry(p, again[i], ps, 0);
            else
                natsMsg_Destroy(again[i]); /* NULL when the library took it */
        }
        free(again);
        if (rc)
            return -1;
    }
}

/* Sends chunk d[0..n) (offset off, first line line) until the server has stored it. */
static int send_chunk(pub *p, const char *input, uint64_t off, uint64_t line, const char *d,
                      size_t n)
{
    char subj[300], id[200], num[32], hlen[32], inp[512];
    int tries = 0;
    snprintf(subj, sizeof subj, "accord.tel.%s.%s", p->tenant, p->source);
    snprintf(id, sizeof id, "%s:%" PRIu64, p->source, off);
    snprintf(num, sizeof num, "%" PRIu64, line);
    snprintf(hlen, sizeof hlen, "%zu", p->hdr.len);
    header_value(inp, sizeof inp, input);
    buf_reset(&p->out);
    if (buf_add(&p->out, p->hdr.p ? p->hdr.p : "", p->hdr.len) != 0 ||
        buf_add(&p->out, d, n) != 0)
        return -1;
    for (;;) {
        natsMsg *m = NULL;
        jsPubAck *pa = NULL;
        jsPubOptions po;
        jsErrCode jerr = 0;
        natsStatus s = natsMsg_Create(&m, subj, NULL, p->out.p, (int)p->out.len);
        if (s == NATS_OK)
            s = natsMsgHeader_Set(m, "Accord-Line", num);
        if (s == NATS_OK)
            s = natsMsgHeader_Set(m, "Accord-Input", inp);
        if (s == NATS_OK)
            s = natsMsgHeader_Set(m, "Accord-Header-Len", hlen);
        if (s == NATS_OK && p->kind)
            s = natsMsgHeader_Set(m, "Accord-Kind", p->kind);
        jsPubOptions_Init(&po);
        po.MsgId = id;
        po.MaxWait = 2000; /* an ack lost to a server restart costs this much */
        if (s == NATS_OK && p->ajs) {
            /* the window: sent now, acknowledged later (on_ack), what fails sent again */
            int pending;
            pthread_mutex_lock(&p->mu);
            pending = p->nretry > 0;
            pthread_mutex_unlock(&p->mu);
            s = natsMsgHeader_Set(m, "Nats-Msg-Id", id);
            if (s == NATS_OK)
                s = js_PublishMsgAsync(p->ajs, &m, NULL);
            if (m)
                keep_for_retry(p, m, s, 0);
            return pending || s != NATS_OK ? drain(p) : 0;
        }
        if (s == NATS_OK)
            s = js_PublishMsg(&pa, p->l.js, m, &po, &jerr);
        natsMsg_Destroy(m);
        if (s == NATS_OK) {
            p->dups += pa->Duplicate;
            jsPubAck_Destroy(pa);
            p->chunks++;
            return 0;
        }
        if (nats_stop)
            return -1;
        if (publish_retryable(p, s, jerr)) {
            /* the stream is full (discard new) or the server is away: wait, send again */
            note_wait(p, jerr, tries++);
            continue;
        }
        nats_fail(p->cmd, id, s, jerr);
        return -1;
    }
}

static uint64_t count_lines(const char *d, size_t n)
{
    uint64_t k = 0;
    for (const char *p = d, *end = d + n; (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
        k++;
    return k;
}

static int publish_input(pub *p, const char *path)
{
    int fd = strcmp(path, "-") == 0 ? dup(0) : open(path, O_RDONLY | O_CLOEXEC);
    gzFile gz = fd >= 0 ? gzdopen(fd, "rb") : NULL;
    size_t have = 0;
    uint64_t off = 0, line = 1;
    int eof = 0, rc = 0;
    char src[NATS_SOURCE_MAX + 1];
    if (!gz) {
        cli_error(p->cmd, "%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (!p->source) {
        /* from the real path, so the same file gives the same chunk ids whatever the working
         * directory or spelling of a restarted producer */
        char *real = strcmp(path, "-") == 0 ? NULL : realpath(path, NULL);
        nats_source_from(real ? real : path, src);
        free(real);
        p->source = src;
    }
    buf_reset(&p->hdr);
    while (rc == 0 && !nats_stop && (!eof || have)) {
        size_t cut;
        while (!eof && have < p->chunk) {
            int n = gzread(gz, p->in + have, (unsigned)(p->chunk - have));
            if (n < 0) {
                cli_error(p->cmd, "%s: read error at byte %" PRIu64, path, off + have);
                rc = -1;
                break;
            }
            eof = n == 0;
            have += (size_t)n;
        }
        if (rc || have == 0)
            break;
        if (eof) {
            cut = have;
        } else {
            const char *nl = memrchr(p->in, '\n', have);
            /* a line longer than a chunk travels cut (accord match cuts at 64 MiB) */
            cut = nl ? (size_t)(nl - p->in) + 1 : have;
        }
        rc = send_chunk(p, path, off, line, p->in, cut);
        header_track(&p->hdr, p->in, cut);
        p->bytes += cut;
        {
            uint64_t k = count_lines(p->in, cut);
            line += k;
            p->lines += k;
        }
        off += cut;
        memmove(p->in, p->in + cut, have - cut);
        have -= cut;
    }
    gzclose(gz);
    if (p->source == src)
        p->source = NULL;
    return rc;
}

/* An input, or the regular files of a directory in name order. */
static int publish_path(pub *p, const char *path)
{
    struct stat st;
    char **names;
    size_t n;
    int rc = 0;
    if (strcmp(path, "-") == 0 || stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return publish_input(p, path);
    if (p->source) { /* every file needs its own ids */
        cli_error(p->cmd, "%s: --source names one file; a directory's files are named by path",
                  path);
        return -1;
    }
    if (nats_dir_list(path, NULL, &names, &n) != 0) {
        cli_error(p->cmd, "%s: %s", path, strerror(errno));
        return -1;
    }
    for (size_t i = 0; i < n && rc == 0; i++)
        if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
            rc = publish_input(p, names[i]);
    nats_dir_free(names, n);
    return rc;
}

int cmd_publish(int argc, char **argv)
{
    pub p = {.cmd = "publish", .chunk = 512u << 10, .window = PUBLISH_WINDOW};
    nats_opts o = {.tenant = "default"};
    int i = 1, rc = 0, k;
    double t0;
    for (; i < argc && argv[i][0] == '-' && argv[i][1]; i += k) {
        k = nats_opt_arg(&o, argc, argv, i);
        if (k < 0)
            return cli_usage("publish");
        if (k > 0)
            continue;
        k = 2;
        if (strcmp(argv[i], "--source") == 0 && i + 1 < argc &&
            nats_source_valid(argv[i + 1], strlen(argv[i + 1]))) {
            p.source = argv[i + 1];
        } else if (strcmp(argv[i], "--window") == 0 && i + 1 < argc) {
            char *end;
            long v = strtol(argv[i + 1], &end, 10);
            if (*end || v < 1 || v > 64)
                return cli_usage("publish");
            p.window = (int)v;
        } else if (strcmp(argv[i], "--chunk-kib") == 0 && i + 1 < argc) {
            char *end;
            long v = strtol(argv[i + 1], &end, 10);
            if (*end || v < 16 || v > 960)
                return cli_usage("publish");
            p.chunk = (size_t)v << 10;
        } else {
            return cli_usage("publish");
        }
    }
    if (i >= argc || (p.source && argc - i > 1))
        return cli_usage("publish");
    for (int j = i; j < argc; j++)
        if (strcmp(argv[j], "-") == 0 && !p.source) {
            cli_error(p.cmd, "standard input needs --source ID (the chunk ids are made from it)");
            return EXIT_USAGE;
        }
    p.tenant = o.tenant;
    buf_init(&p.hdr, 1 << 20);
    buf_init(&p.out, PAYLOAD_MAX + (64u << 10));
    if (!(p.in = malloc(p.chunk))) {
        cli_error(p.cmd, "out of memory");
        return EXIT_FAIL;
    }
    nats_signals();
    if (nats_link_open(p.cmd, &o, 1, &p.l) != 0) {
        free(p.in);
        return EXIT_FAIL;
    }
    pthread_mutex_init(&p.mu, NULL);
    if (p.window > 1) {
        jsOptions jo;
        natsStatus s;
        jsOptions_Init(&jo);
        jo.PublishAsync.MaxPending = p.window;
        jo.PublishAsync.AckHandler = on_ack;
        jo.PublishAsync.AckHandlerClosure = &p;
        jo.PublishAsync.StallWait = 5000;
        if ((s = natsConnection_JetStream(&p.ajs, p.l.nc, &jo)) != NATS_OK) {
            nats_fail(p.cmd, "JetStream", s, 0);
            rc = -1;
        }
    }
    t0 = nats_mono();
    for (; i < argc && rc == 0; i++)
        rc = publish_path(&p, argv[i]);
    if (p.ajs && drain(&p) != 0) /* the last window */
        rc = -1;
    {
        double secs = nats_mono() - t0;
        fprintf(stderr,
                "accord publish: %" PRIu64 " chunks (%" PRIu64 " already stored), %" PRIu64
                " lines, %.1f MB in %.2f s (%.1f MB/s)\n",
                p.chunks, p.dups, p.lines, (double)p.bytes / 1e6, secs,
                secs > 0 ? (double)p.bytes / 1e6 / secs : 0.0);
    }
    if (nats_stop)
        rc = -1;
    jsCtx_Destroy(p.ajs);
    pthread_mutex_destroy(&p.mu);
    nats_link_close(&p.l);
    buf_free(&p.hdr);
    buf_free(&p.out);
    free(p.in);
    nats_Close();
    return rc ? EXIT_FAIL : EXIT_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Records of accord match --listen-flows / --listen-dnstap --nats URL                          */

struct nats_forward {
    pub p;
    pthread_mutex_t mu;
    char input[300], source[NATS_SOURCE_MAX + 1];
    buf pending;     /* length-prefixed records of the next chunk */
    uint64_t off;    /* byte offset of pending in this producer's record stream */
    uint64_t first;  /* record number of pending's first record (1-based) */
    uint64_t nrec;   /* records in pending */
    double since;    /* when pending got its first record */
    int failed;
};

/* --nats-chunk-kib: the record chunks' size (one collector per process) */
static size_t forward_chunk = 512u << 10;

int nats_forward_arg(nats_opts **o, int argc, char **argv, int i)
{
    static nats_opts opts = {.tenant = "default"}; /* one collector per process */
    int k;
    if (strncmp(argv[i], "--nats", 6) != 0 && strcmp(argv[i], "--tenant") != 0)
        return 0;
    if (strcmp(argv[i], "--nats-chunk-kib") == 0) {
        char *end;
        long v = i + 1 < argc ? strtol(argv[i + 1], &end, 10) : 0;
        /* down to 1 KiB: a few records a chunk, for tests of chunk boundaries */
        if (i + 1 >= argc || *end || v < 1 || v > 960)
            return -1;
        forward_chunk = (size_t)v << 10;
        return 2;
    }
    k = nats_opt_arg(&opts, argc, argv, i);
    if (k > 0)
        *o = &opts;
    return k;
}

int nats_forward_open(const nats_opts *o, const char *kind, const char *input, nats_forward **out)
{
    nats_forward *f = calloc(1, sizeof *f);
    char name[400];
    *out = NULL;
    if (!f)
        return -1;
    f->p.cmd = "match";
    f->p.kind = kind;
    f->p.tenant = o->tenant;
    f->p.chunk = forward_chunk;
    /* ids of this run's records: the input and the start time (live records are never sent
     * twice by a restarted collector, they are gone) */
    snprintf(name, sizeof name, "%s-%lld", input, (long long)time(NULL));
    nats_source_from(name, f->source);
    f->p.source = f->source;
    snprintf(f->input, sizeof f->input, "%s", input);
    f->first = 1;
    buf_init(&f->p.hdr, 1);
    buf_init(&f->p.out, PAYLOAD_MAX + (64u << 10));
    buf_init(&f->pending, PAYLOAD_MAX);
    pthread_mutex_init(&f->mu, NULL);
    if (nats_link_open(f->p.cmd, o, 1, &f->p.l) != 0) {
        nats_forward_close(f);
        return -1;
    }
    fprintf(stderr, "accord match: %s: records to accord.tel.%s.%s for the workers\n", input,
            o->tenant, f->source);
    *out = f;
    return 0;
}

/* Publishes pending (f->mu held). */
static int forward_send(nats_forward *f)
{
    int rc;
    if (!f->pending.len)
        return 0;
    rc = send_chunk(&f->p, f->input, f->off, f->first, f->pending.p, f->pending.len);
    f->p.bytes += f->pending.len;
    f->p.lines += f->nrec;
    f->off += f->pending.len;
    f->first += f->nrec;
    f->nrec = 0;
    buf_reset(&f->pending);
    if (rc)
        f->failed = 1;
    return rc;
}

int nats_forward_add(nats_forward *f, const void *rec, size_t len)
{
    uint8_t pre[4];
    int rc = 0;
    if (len > NATS_REC_MAX)
        return -1;
    nats_rec_len((uint32_t)len, pre);
    pthread_mutex_lock(&f->mu);
    if (f->pending.len + 4 + len > f->p.chunk)
        rc = forward_send(f);
    if (!f->pending.len)
        f->since = nats_mono();
    if (buf_add(&f->pending, pre, 4) != 0 || buf_add(&f->pending, rec, len) != 0)
        rc = -1;
    f->nrec++;
    pthread_mutex_unlock(&f->mu);
    return rc;
}

int nats_forward_flow(nats_forward *f, const flow_rec *r)
{
    uint8_t rec[NATS_FLOW_REC_LEN];
    nats_flow_put(r, rec);
    return nats_forward_add(f, rec, sizeof rec);
}

void nats_forward_idle(nats_forward *f)
{
    if (!f)
        return;
    pthread_mutex_lock(&f->mu);
    if (f->pending.len && nats_mono() - f->since >= 1.0) /* what waits goes out within ~1 s */
        forward_send(f);
    pthread_mutex_unlock(&f->mu);
}

int nats_forward_close(nats_forward *f)
{
    int rc;
    if (!f)
        return 0;
    if (f->p.l.nc) {
        pthread_mutex_lock(&f->mu);
        forward_send(f);
        pthread_mutex_unlock(&f->mu);
        fprintf(stderr,
                "accord match: %s: %" PRIu64 " records in %" PRIu64 " chunks (%.1f MB) to "
                "NATS%s\n",
                f->input, f->p.lines, f->p.chunks, (double)f->p.bytes / 1e6,
                f->failed ? "; some could not be published" : "");
    }
    rc = f->failed ? -1 : 0;
    nats_link_close(&f->p.l);
    pthread_mutex_destroy(&f->mu);
    buf_free(&f->pending);
    buf_free(&f->p.hdr);
    buf_free(&f->p.out);
    free(f);
    return rc;
}
