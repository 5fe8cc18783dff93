/*
 * match_flow.c - `accord match` over flow records and dnstap: files, a UDP collector and a
 * dnstap socket.
 *
 * Files are mapped and recognised by their first bytes: a pcap or pcapng (NetFlow v5/v9 and IPFIX
 * datagrams, each decoded as if it had arrived over UDP from the packet's source address), an
 * IPFIX file (RFC 5655; the exporter is unknown and shown as 0.0.0.0) or a Frame Streams file of
 * dnstap messages.  Any of them gzip-compressed (rotated captures usually are) is recognised by
 * its decompressed first bytes and decompressed whole into memory first (the readers work on
 * one buffer); a compressed file cut short is matched as far as it decompresses, and reported.
 *
 * The collector (--listen-flows ADDR:PORT) opens one UDP socket per thread on the same address
 * with SO_REUSEPORT: the kernel spreads exporters over the sockets by their address and port, so
 * one exporter's templates and data always meet in the same thread's decoder.  Each socket asks
 * for a 64 MiB receive buffer (SO_RCVBUFFORCE when allowed, else SO_RCVBUF within rmem_max) and
 * SO_RXQ_OVFL, whose counter of datagrams the kernel dropped for want of room arrives with every
 * datagram; the last value is reported.  Datagrams are read 64 at a time with recvmmsg, and a
 * thread matches its queued records when the socket has nothing more to give, so matches come
 * out promptly at low rates and in full batches at high ones.
 *
 * The dnstap socket (--listen-dnstap PATH) accepts resolvers' Frame Streams connections with the
 * bidirectional handshake (READY -> ACCEPT, START, data, STOP -> FINISH); a connection that
 * starts with START (unidirectional) is read as well.  One thread per connection, at most
 * MAX_CONNS at once.
 *
 * Listeners match against the current snapshot: each thread's matcher asks for it between
 * batches (after every full batch, and when its socket has been idle for 100 ms) and moves to a
 * new one there, so a reload reaches a collector that never stops, and every record is matched
 * against exactly one snapshot.  The old snapshot is freed when the last thread has left it.
 *
 * Listeners stop after --listen-seconds or at SIGINT/SIGTERM; then totals and counters (records,
 * templates, data waiting for templates and dropped, sequence losses, malformed messages,
 * kernel drops) go to stderr.
 */
#include "match_flow.h"
#include "cli.h"
#include "cmd_nats.h"
#include "dnstap.h"
#include "flow.h"
#include "flow_match.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define MAX_REPORTS 20
#define MAX_THREADS 64
#define MAX_CONNS 16
#define VLEN 64
#define DGRAM_MAX 65536
#define RCVBUF (64 << 20)
#define FRAME_MAX (1u << 20)

static const char *CMD = "match";

int match_flow_arg(match_flow_opts *o, int argc, char **argv, int i)
{
    const char *a = argv[i];
    int k = nats_forward_arg(&o->nats, argc, argv, i);
    if (k)
        return k;
    if (strcmp(a, "--decode") == 0) {
        o->decode = 1;
        return 1;
    }
    if (i + 1 >= argc)
        return 0;
    if (strcmp(a, "--listen-flows") == 0) {
        o->listen_flows = argv[i + 1];
        return 2;
    }
    if (strcmp(a, "--listen-dnstap") == 0) {
        o->listen_dnstap = argv[i + 1];
        return 2;
    }
    if (strcmp(a, "--listen-seconds") == 0) {
        char *end;
        errno = 0;
        double v = strtod(argv[i + 1], &end);
        if (errno || *end || !(v > 0) || v > 1e9)
            return -1;
        o->listen_seconds = v;
        return 2;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Emitting, shared by every thread                                                             */

typedef struct sink {
    const match_flow_opts *o;
    accord_snapshot *snap;
    match_flow_current current; /* listeners: the current snapshot, asked between batches */
    int64_t now_s;
    match_flow_emit emit;
    void *ud;
    const char *input;
    nats_forward *fwd; /* --nats: records are published, not matched */
    pthread_mutex_t mu;
    pthread_mutex_t *emit_mu; /* emit is never called twice at once: mu, or one lock shared by
                                 the flow and dnstap listeners */
    match_flow_totals *t;
    uint64_t streams, messages, malformed; /* dnstap, under mu */
} sink;

/* One thread's matcher and its sink: the callbacks' context. */
typedef struct mctx {
    sink *k;
    fmatch *fm;
} mctx;

static void on_match(void *ud, const accord_match *mt)
{
    mctx *c = ud;
    sink *k = c->k;
    pthread_mutex_lock(k->emit_mu);
    k->t->matches++;
    k->emit(k->ud, k->input, fmatch_snapshot(c->fm), mt);
    pthread_mutex_unlock(k->emit_mu);
}

static accord_snapshot *current_of(void *ud, const accord_snapshot *have)
{
    sink *k = ud;
    return k->current(k->ud, have);
}

/* A matcher for one thread of sink k into c; a listener's follows the current snapshot. */
static int mctx_init(mctx *c, sink *k)
{
    c->k = k;
    if (fmatch_new(k->snap, k->now_s, on_match, c, &c->fm) != 0)
        return -1;
    if (k->current)
        fmatch_set_source(c->fm, current_of, k);
    return 0;
}

/* What a flow decoder and matcher of one thread share with its callbacks. */
typedef struct fctx {
    sink *k;
    flow_decoder *d;
    mctx mc;
    fmatch *fm;
    uint64_t datagrams;
    int failed;
    char text[2048];
} fctx;

static void on_record(void *ud, const flow_rec *r)
{
    fctx *c = ud;
    if (c->k->o->decode) {
        size_t n = fmatch_flow_text(r, c->text, sizeof c->text);
        pthread_mutex_lock(&c->k->mu);
        fwrite(c->text, 1, n, stdout);
        fputc('\n', stdout);
        pthread_mutex_unlock(&c->k->mu);
    } else if (c->k->fwd) {
        if (nats_forward_flow(c->k->fwd, r) != 0)
            c->failed = 1;
    } else if (fmatch_flow(c->fm, r) != 0) {
        c->failed = 1;
    }
}

static int fctx_init(fctx *c, sink *k, int udp)
{
    flow_opts fo = {.udp = udp};
    memset(c, 0, sizeof *c);
    c->k = k;
    if (flow_decoder_new(&fo, &c->d) != 0 || mctx_init(&c->mc, k) != 0)
        return -1;
    c->fm = c->mc.fm;
    return 0;
}

static void report_flow_stats(const char *input, const flow_stats *s)
{
    fprintf(stderr,
            "accord match: %s: %" PRIu64 " flow records in %" PRIu64 " messages from %" PRIu64
            " sources; %" PRIu64 " templates (%" PRIu64 " redefined, %" PRIu64 " withdrawn, %" PRIu64
            " expired); %" PRIu64 " data sets waited for a template (%" PRIu64 " then decoded, %" PRIu64
            " dropped, %" PRIu64 " never met one); %" PRIu64 " lost by sequence number; %" PRIu64
            " malformed, %" PRIu64 " not flow messages\n",
            input, s->records, s->messages, s->exporters, s->templates, s->templates_replaced,
            s->templates_withdrawn, s->templates_expired, s->pending, s->pending_replayed,
            s->pending_dropped, s->pending - s->pending_replayed - s->pending_dropped, s->seq_lost,
            s->malformed, s->not_flow);
}

/* ------------------------------------------------------------------------------------------ */
/* Files                                                                                        */

static int is_gzip(const uint8_t *b, size_t n)
{
    return n >= 2 && b[0] == 0x1f && b[1] == 0x8b;
}

int match_flow_sniff(const char *path)
{
    uint8_t b[16];
    int fd = open(path, O_RDONLY);
    ssize_t n;
    if (fd < 0)
        return 0;
    n = read(fd, b, sizeof b);
    if (n > 0 && is_gzip(b, (size_t)n) && lseek(fd, 0, SEEK_SET) == 0) {
        gzFile gz = gzdopen(fd, "rb"); /* closes fd */
        n = gz ? gzread(gz, b, sizeof b) : -1;
        if (gz)
            gzclose(gz);
        else
            close(fd);
    } else {
        close(fd);
    }
    if (n < 8)
        return 0;
    if (flow_sniff(b, (size_t)n))
        return 1;
    /* Frame Streams: an escape (0) and a START control frame */
    return memcmp(b, "\0\0\0\0", 4) == 0 && b[8] == 0 && b[9] == 0 && b[10] == 0 &&
           b[11] == FSTRM_START;
}

typedef struct pctx {
    fctx *c;
    uint64_t reports;
} pctx;

static void report_message(const char *input, uint64_t *reports, uint64_t no, const char *why,
                           size_t off)
{
    if ((*reports)++ < MAX_REPORTS)
        fprintf(stderr, "accord match: %s: message %" PRIu64 ": %s (byte %zu)\n", input, no, why,
                off);
    else if (*reports == MAX_REPORTS + 1)
        fprintf(stderr, "accord match: %s: further malformed messages are counted, not shown\n",
                input);
}

static void on_datagram(void *ud, const flow_datagram *dg)
{
    pctx *p = ud;
    fctx *c = p->c;
    c->datagrams++;
    if (flow_decode(c->d, &dg->src, dg->p, dg->len, on_record, c) == ACCORD_EINVAL) {
        size_t off;
        const char *why = flow_decoder_error(c->d, &off);
        report_message(c->k->input, &p->reports, c->datagrams, why, off);
    }
}

static int flows_file(sink *k, const uint8_t *p, size_t len, int kind)
{
    fctx c;
    const char *why = NULL;
    size_t off = 0;
    int rc = -1;
    if (fctx_init(&c, k, kind != 2) != 0) { /* captures came over UDP */
        cli_error(CMD, "out of memory");
        goto out;
    }
    if (kind != 2) { /* pcap or pcapng */
        pctx pc = {&c, 0};
        flow_pcap_stats ps;
        rc = flow_pcap_walk(p, len, on_datagram, &pc, &ps, &why, &off);
        if (ps.fragments)
            fprintf(stderr,
                    "accord match: %s: %" PRIu64 " IP fragments: %" PRIu64
                    " datagrams reassembled, %" PRIu64 " fragments of incomplete ones skipped\n",
                    k->input, ps.fragments, ps.reassembled, ps.skipped_fragments);
        if (ps.truncated)
            fprintf(stderr, "accord match: %s: %" PRIu64 " truncated UDP packets skipped\n",
                    k->input, ps.truncated);
    } else {
        static const flow_exporter unknown = {.family = 4};
        rc = flow_ipfix_file(c.d, &unknown, p, len, on_record, &c, &why, &off);
    }
    if (rc)
        cli_error(CMD, "%s: %s at byte %zu; what came before was matched", k->input, why, off);
    if (fmatch_flush(c.fm) != 0 || c.failed) {
        cli_error(CMD, "%s: out of memory matching", k->input);
        rc = -1;
    }
    flow_stats s;
    flow_decoder_stats(c.d, &s);
    report_flow_stats(k->input, &s);
    k->t->records += s.records;
    k->t->malformed += s.malformed + (rc != 0);
out:
    flow_decoder_free(c.d);
    fmatch_free(c.fm);
    return rc ? -1 : 0;
}

/* What one dnstap stream (a file, a connection) counted; added to the totals at its end. */
typedef struct dcount {
    uint64_t no, reports, malformed;
} dcount;

/* One dnstap message: matched, or printed with --decode. */
static void dnstap_one(sink *k, fmatch *fm, const uint8_t *p, size_t len, dcount *dc, char *text,
                       size_t cap)
{
    dnstap_msg m;
    const char *why;
    dc->no++;
    if (dnstap_decode(p, len, &m, &why) != 0) {
        dc->malformed++;
        pthread_mutex_lock(&k->mu);
        report_message(k->input, &dc->reports, dc->no, why, 0);
        pthread_mutex_unlock(&k->mu);
        return;
    }
    if (k->fwd) {
        if (nats_forward_add(k->fwd, p, len) != 0)
            dc->malformed++;
    } else if (k->o->decode) {
        size_t n = fmatch_dnstap_text(&m, text, cap);
        pthread_mutex_lock(&k->mu);
        fwrite(text, 1, n, stdout);
        fputc('\n', stdout);
        pthread_mutex_unlock(&k->mu);
    } else if (fmatch_dnstap(fm, &m) == ACCORD_EINVAL) {
        dc->malformed++;
        pthread_mutex_lock(&k->mu);
        report_message(k->input, &dc->reports, dc->no, "DNS message malformed", 0);
        pthread_mutex_unlock(&k->mu);
    }
}

static void dcount_add(sink *k, const dcount *dc)
{
    pthread_mutex_lock(&k->mu);
    k->t->records += dc->no - dc->malformed; /* the events: malformed ones are counted apart */
    k->t->malformed += dc->malformed;
    k->streams++;
    k->messages += dc->no;
    k->malformed += dc->malformed;
    pthread_mutex_unlock(&k->mu);
}

static int dnstap_file(sink *k, const uint8_t *p, size_t len)
{
    dnstap_reader r = {.max_frame = FRAME_MAX};
    dnstap_frame f;
    fmatch *fm = NULL;
    mctx mc;
    const char *why = NULL;
    size_t off = 0;
    dcount dc = {0};
    long n;
    char text[2048];
    if (mctx_init(&mc, k) != 0) {
        fmatch_free(mc.fm);
        cli_error(CMD, "out of memory");
        return -1;
    }
    fm = mc.fm;
    while ((n = dnstap_frame_next(&r, p + off, len - off, &f, &why)) > 0) {
        off += (size_t)n;
        if (f.control)
            continue;
        dnstap_one(k, fm, f.p, f.len, &dc, text, sizeof text);
    }
    fmatch_flush(fm);
    fmatch_free(fm);
    dcount_add(k, &dc);
    if (n < 0 || off < len) {
        cli_error(CMD, "%s: %s at byte %zu; what came before was matched", k->input,
                  why ? why : "Frame Streams file cut short", off);
        k->t->malformed++;
        return -1;
    }
    fprintf(stderr, "accord match: %s: %" PRIu64 " dnstap messages, %" PRIu64 " malformed\n",
            k->input, dc.no, dc.malformed);
    return 0;
}

static void sink_init(sink *k, const match_flow_opts *o, accord_snapshot *snap, int64_t now_s,
                      match_flow_emit emit, void *ud, const char *input, match_flow_totals *t)
{
    memset(k, 0, sizeof *k);
    k->o = o;
    k->snap = snap;
    k->emit_mu = &k->mu;
    k->now_s = now_s;
    k->emit = emit;
    k->ud = ud;
    k->input = input;
    k->t = t;
    pthread_mutex_init(&k->mu, NULL);
}

/* Decompresses gzip file fd (taken) into *out (malloc'd) and *len.  0; -1 when it could not
 * be read at all (reported); 1 when it broke partway (reported; *out holds what came before). */
static int gunzip_all(const char *path, int fd, uint8_t **out, size_t *len)
{
    gzFile gz = gzdopen(fd, "rb");
    size_t cap = 1 << 20, n = 0;
    uint8_t *b = malloc(cap);
    int rc = 0;
    *out = NULL;
    *len = 0;
    if (!gz || !b) {
        cli_error(CMD, "%s: out of memory", path);
        if (gz)
            gzclose(gz);
        else
            close(fd);
        free(b);
        return -1;
    }
    gzbuffer(gz, 1 << 18);
    for (;;) {
        if (cap - n < (1 << 16)) {
            uint8_t *nb = cap > SIZE_MAX / 2 ? NULL : realloc(b, cap * 2);
            if (!nb) {
                cli_error(CMD, "%s: out of memory decompressing (%zu bytes so far)", path, n);
                rc = 1;
                break;
            }
            b = nb;
            cap *= 2;
        }
        int r = gzread(gz, b + n, (unsigned)(cap - n < INT_MAX ? cap - n : INT_MAX)), zerr = Z_OK;
        const char *msg = gzerror(gz, &zerr);
        if (r > 0)
            n += (size_t)r;
        if (msg && strncmp(msg, "<fd:", 4) == 0 && strstr(msg, ": ")) /* gzdopen's name */
            msg = strstr(msg, ": ") + 2;
        /* a stream cut short: the bytes before it, then an error ("unexpected end of file") */
        if (r < 0 || zerr != Z_OK) {
            cli_error(CMD, "%s: gzip: %s after %zu decompressed bytes; what came before is matched",
                      path, msg && *msg ? msg : "read error", n);
            rc = 1;
            break;
        }
        if (r == 0)
            break;
    }
    gzclose(gz);
    *out = b;
    *len = n;
    return rc;
}

int match_flow_file(const match_flow_opts *o, accord_snapshot *snap, int64_t now_s,
                    const char *path, match_flow_emit emit, void *ud, match_flow_totals *t)
{
    sink k;
    struct stat st;
    int fd = open(path, O_RDONLY), rc = -1, broken = 0;
    void *map = MAP_FAILED;
    uint8_t *plain = NULL, head[2] = {0, 0};
    const uint8_t *p;
    size_t len;
    if (fd < 0 || fstat(fd, &st) != 0) {
        cli_error(CMD, "%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (st.st_size == 0) {
        close(fd);
        return 0;
    }
    t->bytes += (uint64_t)st.st_size;
    if (pread(fd, head, 2, 0) == 2 && is_gzip(head, 2)) {
        broken = gunzip_all(path, fd, &plain, &len);
        if (broken < 0)
            return -1;
        p = plain;
    } else {
        map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        close(fd);
        if (map == MAP_FAILED) {
            cli_error(CMD, "%s: %s", path, strerror(errno));
            return -1;
        }
        p = map;
        len = (size_t)st.st_size;
    }
    sink_init(&k, o, snap, now_s, emit, ud, path, t);
    int kind = flow_sniff(p, len);
    rc = !len ? 0 : kind ? flows_file(&k, p, len, kind) : dnstap_file(&k, p, len);
    if (map != MAP_FAILED)
        munmap(map, len);
    free(plain);
    pthread_mutex_destroy(&k.mu);
    if (broken) {
        t->malformed++;
        rc = -1;
    }
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Listening                                                                                    */

static volatile sig_atomic_t stop_signal;
static double deadline;

static void on_signal(int sig)
{
    (void)sig;
    stop_signal = 1;
}

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int stopping(void)
{
    return stop_signal || (deadline > 0 && mono() >= deadline);
}

typedef struct ucoll {
    sink *k;
    int fd;
    pthread_t tid;
    fctx c;
    uint32_t kernel_drops;
    uint64_t reports, bytes;
} ucoll;

static void exporter_of(const struct sockaddr_storage *ss, flow_exporter *e)
{
    memset(e, 0, sizeof *e);
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
        e->family = 4;
        memcpy(e->addr, &s4->sin_addr, 4);
        e->port = ntohs(s4->sin_port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
        if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
            e->family = 4;
            memcpy(e->addr, s6->sin6_addr.s6_addr + 12, 4);
        } else {
            e->family = 6;
            memcpy(e->addr, &s6->sin6_addr, 16);
        }
        e->port = ntohs(s6->sin6_port);
    }
}

static void *udp_main(void *arg)
{
    ucoll *u = arg;
    uint8_t *bufs = malloc((size_t)VLEN * DGRAM_MAX);
    struct mmsghdr msgs[VLEN];
    struct iovec iov[VLEN];
    struct sockaddr_storage from[VLEN];
    _Alignas(struct cmsghdr) char ctl[VLEN][CMSG_SPACE(sizeof(uint32_t))];
    if (!bufs) {
        u->c.failed = 1;
        return NULL;
    }
    while (!stopping()) {
        for (int i = 0; i < VLEN; i++) {
            iov[i] = (struct iovec){bufs + (size_t)i * DGRAM_MAX, DGRAM_MAX};
            msgs[i].msg_hdr = (struct msghdr){.msg_name = &from[i],
                                              .msg_namelen = sizeof from[i],
                                              .msg_iov = &iov[i],
                                              .msg_iovlen = 1,
                                              .msg_control = ctl[i],
                                              .msg_controllen = sizeof ctl[i]};
        }
        int n = recvmmsg(u->fd, msgs, VLEN, MSG_WAITFORONE, NULL);
        if (n <= 0) {
            /* idle (the receive timeout) or interrupted: match what waits */
            if (fmatch_flush(u->c.fm) != 0)
                u->c.failed = 1;
            nats_forward_idle(u->k->fwd);
            continue;
        }
        /* the wait may have begun before a reload: these records meet the current snapshot */
        if (fmatch_refresh(u->c.fm) != 0)
            u->c.failed = 1;
        for (int i = 0; i < n; i++) {
            flow_exporter e;
            struct msghdr *h = &msgs[i].msg_hdr;
            for (struct cmsghdr *cm = CMSG_FIRSTHDR(h); cm; cm = CMSG_NXTHDR(h, cm))
                if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SO_RXQ_OVFL)
                    memcpy(&u->kernel_drops, CMSG_DATA(cm), sizeof u->kernel_drops);
            exporter_of(&from[i], &e);
            u->c.datagrams++;
            u->bytes += msgs[i].msg_len;
            if (flow_decode(u->c.d, &e, iov[i].iov_base, msgs[i].msg_len, on_record, &u->c) ==
                ACCORD_EINVAL) {
                size_t off;
                const char *why = flow_decoder_error(u->c.d, &off);
                pthread_mutex_lock(&u->k->mu);
                report_message(u->k->input, &u->reports, u->c.datagrams, why, off);
                pthread_mutex_unlock(&u->k->mu);
            }
        }
        if (n < VLEN && fmatch_flush(u->c.fm) != 0)
            u->c.failed = 1;
    }
    if (fmatch_flush(u->c.fm) != 0)
        u->c.failed = 1;
    free(bufs);
    return NULL;
}

/* The kernel's drop count of socket fd from /proc/net/udp[6] (the last column of its line, found
 * by inode): unlike SO_RXQ_OVFL it includes drops after the last datagram read.  0 when not
 * found. */
static uint64_t proc_drops(int fd)
{
    static const char *files[] = {"/proc/net/udp", "/proc/net/udp6"};
    struct stat st;
    char line[512];
    uint64_t drops = 0;
    if (fstat(fd, &st) != 0)
        return 0;
    for (int i = 0; i < 2; i++) {
        FILE *f = fopen(files[i], "r");
        while (f && fgets(line, sizeof line, f)) {
            unsigned long long inode = 0, d = 0;
            /* sl local rem st tx:rx tr:when retr uid timeout inode ref pointer drops */
            if (sscanf(line, "%*s %*s %*s %*s %*s %*s %*s %*s %*s %llu %*s %*s %llu", &inode,
                       &d) == 2 &&
                inode == (unsigned long long)st.st_ino)
                drops = d;
        }
        if (f)
            fclose(f);
    }
    return drops;
}

/* A UDP socket bound to addr with SO_REUSEPORT, a large buffer, drop counting and a timeout. */
static int udp_socket(const struct addrinfo *ai, int *rcvbuf)
{
    int fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0), one = 1, size = RCVBUF;
    struct timeval tv = {0, 100000};
    socklen_t sl = sizeof *rcvbuf;
    if (fd < 0)
        return -1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0)
        goto fail;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, rcvbuf, &sl) != 0)
        *rcvbuf = 0;
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0)
        goto fail;
    return fd;
fail:
    close(fd);
    return -1;
}

/* ADDR:PORT, [V6]:PORT or :PORT into a passive address. */
static int parse_listen(const char *s, struct addrinfo **res)
{
    char host[256];
    const char *colon = strrchr(s, ':');
    struct addrinfo hints = {.ai_socktype = SOCK_DGRAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV};
    if (!colon || (size_t)(colon - s) >= sizeof host)
        return -1;
    size_t hl = (size_t)(colon - s);
    memcpy(host, s, hl);
    host[hl] = 0;
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
        memmove(host, host + 1, hl - 2);
        host[hl - 2] = 0;
    }
    return getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, res) == 0 ? 0 : -1;
}

typedef struct conn {
    sink *k;
    int fd;
    atomic_int *active;
} conn;

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL); /* a resolver may hang up first */
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void *conn_main(void *arg)
{
    conn *cn = arg;
    sink *k = cn->k;
    dnstap_reader r = {.max_frame = FRAME_MAX};
    fmatch *fm = NULL;
    mctx mc = {k, NULL};
    size_t cap = FRAME_MAX + 64, have = 0;
    uint8_t *b = malloc(cap), ctl[128];
    dcount dc = {0};
    char text[2048];
    int ok = b && mctx_init(&mc, k) == 0;
    fm = mc.fm;
    if (!ok)
        goto out;
    while (!stopping() && !r.stopped) {
        struct pollfd pf = {cn->fd, POLLIN, 0};
        int pr = poll(&pf, 1, 100);
        if (pr <= 0) {
            fmatch_flush(fm);
            nats_forward_idle(k->fwd);
            continue;
        }
        ssize_t n = read(cn->fd, b + have, cap - have);
        if (n <= 0)
            break;
        /* the wait may have begun before a reload: these messages meet the current snapshot */
        if (fmatch_refresh(fm) != 0)
            break;
        have += (size_t)n;
        size_t off = 0;
        long used;
        dnstap_frame f;
        const char *why;
        while ((used = dnstap_frame_next(&r, b + off, have - off, &f, &why)) > 0) {
            off += (size_t)used;
            if (f.control == FSTRM_READY) {
                size_t cl = dnstap_frame_control(FSTRM_ACCEPT, ctl, sizeof ctl);
                if (write_all(cn->fd, ctl, cl) != 0)
                    goto out;
            } else if (f.control == FSTRM_STOP) {
                size_t cl = dnstap_frame_control(FSTRM_FINISH, ctl, sizeof ctl);
                (void)write_all(cn->fd, ctl, cl);
            } else if (!f.control) {
                dnstap_one(k, fm, f.p, f.len, &dc, text, sizeof text);
            }
        }
        if (used < 0) {
            pthread_mutex_lock(&k->mu);
            cli_error(CMD, "%s: %s; connection closed", k->input, why);
            k->t->malformed++;
            pthread_mutex_unlock(&k->mu);
            break;
        }
        memmove(b, b + off, have - off);
        have -= off;
        if (have && fmatch_flush(fm) != 0)
            break;
    }
out:
    if (fm)
        fmatch_flush(fm);
    fmatch_free(fm);
    dcount_add(k, &dc);
    free(b);
    close(cn->fd);
    atomic_fetch_sub(cn->active, 1);
    free(cn);
    return NULL;
}

static void *dnstap_accept_main(void *arg)
{
    sink *k = arg;
    int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct stat st;
    atomic_int active = 0;
    const char *path = k->o->listen_dnstap;
    if (lfd < 0 || strlen(path) >= sizeof sa.sun_path) {
        cli_error(CMD, "--listen-dnstap %s: %s", path, lfd < 0 ? strerror(errno) : "path too long");
        goto out;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path);
    if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(lfd, 16) != 0) {
        cli_error(CMD, "--listen-dnstap %s: %s", path, strerror(errno));
        goto out;
    }
    while (!stopping()) {
        struct pollfd pf = {lfd, POLLIN, 0};
        if (poll(&pf, 1, 100) <= 0) {
            /* records of connections that ended go out within ~1 s too */
            nats_forward_idle(k->fwd);
            continue;
        }
        int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (cfd < 0)
            continue;
        conn *cn = malloc(sizeof *cn);
        pthread_t tid;
        if (!cn || atomic_load(&active) >= MAX_CONNS) {
            free(cn);
            close(cfd);
            continue;
        }
        *cn = (conn){k, cfd, &active};
        atomic_fetch_add(&active, 1);
        if (pthread_create(&tid, NULL, conn_main, cn) != 0) {
            atomic_fetch_sub(&active, 1);
            close(cfd);
            free(cn);
            continue;
        }
        pthread_detach(tid);
    }
    while (atomic_load(&active) > 0)
        usleep(10000);
    unlink(path);
out:
    if (lfd >= 0)
        close(lfd);
    return NULL;
}

static int listen_flows(sink *k, ucoll *u, unsigned n)
{
    struct addrinfo *ai = NULL;
    int rcvbuf = 0;
    if (parse_listen(k->o->listen_flows, &ai) != 0) {
        cli_error(CMD, "--listen-flows %s: not ADDR:PORT", k->o->listen_flows);
        return -1;
    }
    for (unsigned i = 0; i < n; i++) {
        u[i].k = k;
        u[i].fd = udp_socket(ai, &rcvbuf);
        if (u[i].fd < 0 || fctx_init(&u[i].c, k, 1) != 0) {
            cli_error(CMD, "--listen-flows %s: %s", k->o->listen_flows, strerror(errno));
            freeaddrinfo(ai);
            return -1;
        }
    }
    freeaddrinfo(ai);
    fprintf(stderr, "accord match: collecting flows on %s (%u sockets, %d KiB receive buffer each)\n",
            k->o->listen_flows, n, rcvbuf / 1024);
    for (unsigned i = 0; i < n; i++)
        if (pthread_create(&u[i].tid, NULL, udp_main, &u[i]) != 0)
            return -1;
    return 0;
}

int match_flow_listen(const match_flow_opts *o, accord_snapshot *snap, match_flow_current current,
                      int64_t now_s, match_flow_emit emit, void *ud, match_flow_totals *t)
{
    sink fk, dk;
    pthread_mutex_t emit_mu = PTHREAD_MUTEX_INITIALIZER;
    ucoll u[MAX_THREADS];
    unsigned n = o->threads ? o->threads : 1, started = 0;
    pthread_t dtid;
    int dstarted = 0, rc = 0;
    struct sigaction sa = {.sa_handler = on_signal}, old_int, old_term;
    char fname[300], dname[300];
    if (n > MAX_THREADS)
        n = MAX_THREADS;
    memset(u, 0, sizeof u);
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    stop_signal = 0;
    deadline = o->listen_seconds > 0 ? mono() + o->listen_seconds : 0;
    snprintf(fname, sizeof fname, "udp:%s", o->listen_flows ? o->listen_flows : "");
    snprintf(dname, sizeof dname, "dnstap:%s", o->listen_dnstap ? o->listen_dnstap : "");
    sink_init(&fk, o, snap, now_s, emit, ud, fname, t);
    sink_init(&dk, o, snap, now_s, emit, ud, dname, t);
    fk.current = dk.current = current;
    fk.emit_mu = dk.emit_mu = &emit_mu;
    if (o->nats && ((o->listen_flows && nats_forward_open(o->nats, "flow", fname, &fk.fwd) != 0) ||
                    (o->listen_dnstap && nats_forward_open(o->nats, "dnstap", dname, &dk.fwd) != 0)))
        rc = -1;
    if (rc == 0 && o->listen_flows) {
        if (listen_flows(&fk, u, n) != 0)
            rc = -1;
        else
            started = n;
    }
    if (rc == 0 && o->listen_dnstap) {
        if (pthread_create(&dtid, NULL, dnstap_accept_main, &dk) == 0)
            dstarted = 1;
        else
            rc = -1;
    }
    if (rc)
        stop_signal = 1;
    for (unsigned i = 0; i < started; i++)
        pthread_join(u[i].tid, NULL);
    if (dstarted)
        pthread_join(dtid, NULL);
    flow_stats tot = {0};
    uint64_t drops = 0, datagrams = 0;
    for (unsigned i = 0; i < n; i++) {
        flow_stats s = {0};
        if (u[i].c.d)
            flow_decoder_stats(u[i].c.d, &s);
        tot.records += s.records, tot.messages += s.messages, tot.exporters += s.exporters;
        tot.templates += s.templates, tot.templates_replaced += s.templates_replaced;
        tot.templates_withdrawn += s.templates_withdrawn;
        tot.templates_expired += s.templates_expired, tot.pending += s.pending;
        tot.pending_replayed += s.pending_replayed, tot.pending_dropped += s.pending_dropped;
        tot.seq_lost += s.seq_lost, tot.malformed += s.malformed, tot.not_flow += s.not_flow;
        uint64_t pd = u[i].fd > 0 ? proc_drops(u[i].fd) : 0;
        drops += pd > u[i].kernel_drops ? pd : u[i].kernel_drops;
        datagrams += u[i].c.datagrams;
        t->bytes += u[i].bytes;
        if (u[i].c.failed)
            rc = -1;
        flow_decoder_free(u[i].c.d);
        fmatch_free(u[i].c.fm);
        if (u[i].fd > 0)
            close(u[i].fd);
    }
    if (o->listen_flows && started) {
        report_flow_stats(fname, &tot);
        fprintf(stderr, "accord match: %s: %" PRIu64 " datagrams, %" PRIu64
                " dropped by the kernel (receive buffer full)\n", fname, datagrams, drops);
        t->records += tot.records;
        t->malformed += tot.malformed + tot.not_flow;
    }
    if (o->listen_dnstap && dstarted)
        fprintf(stderr,
                "accord match: %s: %" PRIu64 " dnstap messages in %" PRIu64
                " connections, %" PRIu64 " malformed\n",
                dname, dk.messages, dk.streams, dk.malformed);
    if (nats_forward_close(fk.fwd) != 0)
        rc = -1;
    if (nats_forward_close(dk.fwd) != 0)
        rc = -1;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    pthread_mutex_destroy(&fk.mu);
    pthread_mutex_destroy(&dk.mu);
    return rc;
}
