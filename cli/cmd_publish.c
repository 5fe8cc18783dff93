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
 * Every publish waits for the server's acknowledgement.  A full stream (discard new) answers
 * with an error: the producer waits and sends the same chunk again, so nothing is dropped and
 * the producer runs at the workers' pace.  While the server is away (restart, fail-over) the
 * same chunk is sent again until it is stored; its id makes that harmless.
 */
#include "cmd_nats.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define PAYLOAD_MAX (1000u << 10) /* under the server's 1 MiB max_payload, headers aside */

typedef struct pub {
    const char *cmd;
    nats_link l;
    const char *tenant, *source;
    size_t chunk;
    buf hdr;   /* the Zeek header in effect at the next chunk */
    buf out;   /* header + chunk of the message being sent */
    char *in; /* the input read so far */
    uint64_t chunks, dups, bytes, lines, waits, failed;
    int full_noted;
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
        jsPubOptions_Init(&po);
        po.MsgId = id;
        po.MaxWait = 2000; /* an ack lost to a server restart costs this much */
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
        if (jerr == JSStreamStoreFailedErr || s == NATS_TIMEOUT || s == NATS_NO_RESPONDERS ||
            natsConnection_Status(p->l.nc) != NATS_CONN_STATUS_CONNECTED) {
            /* the stream is full (discard new) or the server is away: wait, send again */
            if (!p->full_noted && jerr) {
                fprintf(stderr, "accord %s: stream %s full, waiting for the workers\n", p->cmd,
                        NATS_STREAM_TEL);
                p->full_noted = 1;
            }
            p->waits++;
            nats_Sleep(tries < 10 ? 50 : 250);
            tries++;
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
    pub p = {.cmd = "publish", .chunk = 512u << 10};
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
    t0 = nats_mono();
    for (; i < argc && rc == 0; i++)
        rc = publish_path(&p, argv[i]);
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
    nats_link_close(&p.l);
    buf_free(&p.hdr);
    buf_free(&p.out);
    free(p.in);
    nats_Close();
    return rc ? EXIT_FAIL : EXIT_OK;
}
