/*
 * cmd_nats_pull.c - a JetStream pull consumer whose socket is read by the thread that consumes.
 *
 * natsSubscription_Fetch takes its messages from the client library's reader thread: that
 * thread wakes for every segment that arrives (a 512 KiB chunk comes in about eight over
 * loopback), hands each message over through a lock and a condition, and the caller wakes
 * again: ~19 context switches per chunk, ~15% of a worker's CPU beside the matching.  Here the
 * connection runs in the library's external event loop mode, and the "loop" is the consuming
 * thread itself: it reads the socket only when it wants the next messages, by when the chunks
 * of a batch usually wait whole in the socket buffer and come in one read of the 2 MiB buffer.
 *
 * The pull protocol is JetStream's own: a request to $JS.API.CONSUMER.MSG.NEXT.<stream>.
 * <consumer> with {"batch":N,"expires":ns}, answered on a private inbox by up to N messages,
 * or by a status message (408 when the request expired, 404 / 409 when it cannot be served).
 * Acknowledgements (+ACK, -NAK, +WPI) go to each message's reply subject on the same
 * connection.  The library still reconnects by itself (its reconnect thread attaches the new
 * socket), answers the server's PINGs and sends its own from its timer thread: a write asked
 * for from another thread goes out at the next poll, at most 50 ms later.
 */
#include "cmd_nats.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#define POLL_MAX_MS 50
/* the socket bytes a wait for chunks wakes for (see pump) */
#define NATS_PULL_LOWAT (256 << 10)

struct nats_puller {
    const char *cmd;
    natsConnection *nc;
    natsSubscription *sub;
    natsInbox *inbox;
    /* the stream's acknowledgements of what nats_puller_publish sent: to <acks>.<gen> */
    natsSubscription *acks;
    natsInbox *acks_inbox;
    char ack_to[160];
    uint64_t gen;
    int sent, acked, refused;
    /* messages to destroy at the next fetch: each natsMsg_Destroy hands the message to the
     * library's collector thread, which wakes for the first of a run */
    natsMsg **dead;
    size_t ndead, capdead;
    char next[400]; /* $JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer> */
    pthread_mutex_t mu; /* fd: attached and detached by the library's reconnect thread too */
    int fd;
    int lowat, lowat_fd; /* SO_RCVLOWAT set on socket lowat_fd */
    int lowat_max;       /* NATS_PULL_LOWAT, or 1 over TLS (see pump) */
    atomic_int want_read, want_write;
    int noted; /* a refusing status was reported (once) */
    /* the request in flight: messages it may still bring, and when the server expires it */
    int ahead;
    double ahead_end;
    uint64_t reads; /* socket reads (read events handed to the library) */
};

static natsStatus ev_attach(void **ud, void *loop, natsConnection *nc, natsSock fd)
{
    nats_puller *p = loop;
    (void)nc;
    pthread_mutex_lock(&p->mu);
    p->fd = fd;
    pthread_mutex_unlock(&p->mu);
    atomic_store(&p->want_read, 1);
    *ud = p;
    return NATS_OK;
}

static natsStatus ev_read(void *ud, bool add)
{
    atomic_store(&((nats_puller *)ud)->want_read, add);
    return NATS_OK;
}

static natsStatus ev_write(void *ud, bool add)
{
    atomic_store(&((nats_puller *)ud)->want_write, add);
    return NATS_OK;
}

static natsStatus ev_detach(void *ud)
{
    nats_puller *p = ud;
    pthread_mutex_lock(&p->mu);
    p->fd = -1;
    pthread_mutex_unlock(&p->mu);
    return NATS_OK;
}

/* Waits at most timeout_ms (capped at POLL_MAX_MS) for the socket and lets the library read
 * or write what it can.  With lowat > 1 (waiting for chunks), poll wakes only once that many
 * bytes wait in the socket (SO_RCVLOWAT): a chunk arrives over loopback in segments of ~64 KiB,
 * and a wake for each is a read of part of a message, gathered in a second buffer and copied
 * twice, and a context switch; what is left under lowat (a status, a short last chunk) is read
 * when the wait times out. */
static void pump(nats_puller *p, int timeout_ms, int lowat)
{
    struct pollfd pfd;
    int fd, r;
    pthread_mutex_lock(&p->mu);
    fd = p->fd;
    pthread_mutex_unlock(&p->mu);
    if (timeout_ms > POLL_MAX_MS)
        timeout_ms = POLL_MAX_MS;
    if (fd < 0) { /* between two connections: the reconnect thread attaches the next */
        nats_Sleep(timeout_ms > 0 ? timeout_ms : 1);
        return;
    }
    if (fd != p->lowat_fd || lowat != p->lowat) {
        /* a new connection's socket starts at 1 */
        if (fd != p->lowat_fd)
            p->lowat = 1;
        if (lowat != p->lowat &&
            setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof lowat) == 0)
            p->lowat = lowat;
        p->lowat_fd = fd;
    }
    pfd.fd = fd;
    pfd.events = (short)((atomic_load(&p->want_read) ? POLLIN : 0) |
                         (atomic_load(&p->want_write) ? POLLOUT : 0));
    pfd.revents = 0;
    r = poll(&pfd, 1, timeout_ms);
    if (r == 0 && p->lowat > 1 && (pfd.events & POLLIN)) {
        int avail = 0;
        if (ioctl(fd, FIONREAD, &avail) == 0 && avail > 0) {
            pfd.revents = POLLIN;
            r = 1;
        }
    }
    if (r <= 0)
        return;
    if (pfd.revents & POLLNVAL) { /* closed under us: the library is reconnecting */
        nats_Sleep(5);
        return;
    }
    if (pfd.revents & POLLOUT)
        natsConnection_ProcessWriteEvent(p->nc);
    if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
        p->reads++;
        natsConnection_ProcessReadEvent(p->nc);
    }
}

uint64_t nats_puller_reads(const nats_puller *p)
{
    return p ? p->reads : 0;
}

void nats_puller_flush(nats_puller *p, int timeout_ms)
{
    double end = nats_mono() + timeout_ms / 1e3;
    /* not only when asked: the library may ask from its flusher thread, a little later */
    natsConnection_ProcessWriteEvent(p->nc);
    while (atomic_load(&p->want_write) && nats_mono() < end)
        pump(p, (int)((end - nats_mono()) * 1e3) + 1, 1);
}

int nats_puller_open(const char *cmd, const nats_opts *o, const char *stream,
                     const char *consumer, nats_puller **out)
{
    nats_puller *p = calloc(1, sizeof *p);
    nats_evloop ev = {p, ev_attach, ev_read, ev_write, ev_detach};
    natsStatus s;
    *out = NULL;
    if (!p) {
        cli_error(cmd, "out of memory");
        return -1;
    }
    p->cmd = cmd;
    p->fd = p->lowat_fd = -1;
    p->lowat = 1;
    /* over TLS a read takes one record (16 KiB at most) while the rest waits in the socket:
     * under a low-water mark, that rest would wait for the poll's timeout */
    p->lowat_max = o->ca || o->cert || (o->url && strstr(o->url, "tls://")) ? 1 : NATS_PULL_LOWAT;
    pthread_mutex_init(&p->mu, NULL);
    snprintf(p->next, sizeof p->next, "$JS.API.CONSUMER.MSG.NEXT.%s.%s", stream, consumer);
    if (nats_connect(cmd, o, 1, &ev, &p->nc) != 0) {
        pthread_mutex_destroy(&p->mu);
        free(p);
        return -1;
    }
    s = natsInbox_Create(&p->inbox);
    if (s == NATS_OK)
        s = natsConnection_SubscribeSync(&p->sub, p->nc, p->inbox);
    /* a batch may hold up to 256 chunks of 1 MiB: more than the default pending limits */
    if (s == NATS_OK)
        s = natsSubscription_SetPendingLimits(p->sub, -1, -1);
    if (s == NATS_OK)
        s = natsInbox_Create(&p->acks_inbox);
    if (s == NATS_OK) {
        char all[160];
        snprintf(all, sizeof all, "%s.*", p->acks_inbox);
        snprintf(p->ack_to, sizeof p->ack_to, "%s.%" PRIu64, p->acks_inbox, p->gen);
        s = natsConnection_SubscribeSync(&p->acks, p->nc, all);
    }
    if (s == NATS_OK)
        s = natsSubscription_SetPendingLimits(p->acks, -1, -1);
    if (s != NATS_OK) {
        nats_fail(cmd, "subscribing to an inbox", s, 0);
        nats_puller_close(p);
        return -1;
    }
    *out = p;
    return 0;
}

void nats_puller_discard(nats_puller *p, natsMsg *m)
{
    if (p->ndead == p->capdead) {
        size_t cap = p->capdead ? 2 * p->capdead : 64;
        natsMsg **d = realloc(p->dead, cap * sizeof *d);
        if (!d) {
            natsMsg_Destroy(m);
            return;
        }
        p->dead = d;
        p->capdead = cap;
    }
    p->dead[p->ndead++] = m;
}

static void bury(nats_puller *p)
{
    for (size_t i = 0; i < p->ndead; i++)
        natsMsg_Destroy(p->dead[i]);
    p->ndead = 0;
}

/* Takes what waits on the inbox into msgs[0..room): the number taken; *status set to the code
 * of a status message that ended a request (404, 408, 409). */
static int take(nats_puller *p, natsMsg **msgs, int room, int *status)
{
    int n = 0;
    natsMsg *m = NULL;
    while (n < room && !*status && natsSubscription_NextMsg(&m, p->sub, 0) == NATS_OK) {
        const char *st = NULL, *desc = NULL;
        if (natsMsg_GetDataLength(m) == 0 && natsMsgHeader_Get(m, "Status", &st) == NATS_OK) {
            char *end;
            long v = strtol(st, &end, 10); /* a three-digit status; anything else is an error */
            int code = end != st && v > 0 && v < 1000 ? (int)v : 0;
            if (code != 100) { /* 100 is a heartbeat; the others end the request */
                *status = code > 0 ? code : 400;
                p->ahead = 0;
            }
            if (code != 100 && code != 404 && code != 408 && !p->noted++) {
                natsMsgHeader_Get(m, "Description", &desc);
                cli_error(p->cmd, "pull request: %s %s", st, desc ? desc : "");
            }
            natsMsg_Destroy(m);
            continue;
        }
        msgs[n++] = m;
        if (p->ahead > 0)
            p->ahead--;
    }
    return n;
}

/* 1 while the last request may still bring messages. */
static int in_flight(const nats_puller *p)
{
    return p->ahead > 0 && nats_mono() < p->ahead_end;
}

int nats_puller_request(nats_puller *p, int max, int timeout_ms)
{
    char req[96];
    if (in_flight(p))
        return 0;
    snprintf(req, sizeof req, "{\"batch\":%d,\"expires\":%lld}", max,
             (long long)timeout_ms * 1000000LL);
    if (natsConnection_PublishRequestString(p->nc, p->next, p->inbox, req) != NATS_OK)
        return -1;
    p->ahead = max;
    /* the server's 408 comes first; a request silent past this is taken as gone */
    p->ahead_end = nats_mono() + timeout_ms / 1e3 + 0.1;
    nats_puller_flush(p, 0);
    return 0;
}

int nats_puller_fetch(nats_puller *p, natsMsg **msgs, int max, int timeout_ms, int *count)
{
    int n, status = 0;
    bury(p);
    /* what an earlier request (one sent ahead, or one that ended early here) delivered comes
     * first */
    n = take(p, msgs, max, &status);
    if (n == max || (n > 0 && !in_flight(p))) {
        *count = n;
        return 0;
    }
    if (!in_flight(p) && nats_puller_request(p, max - n, timeout_ms) != 0) {
        *count = n;
        return n ? 0 : -1;
    }
    /* a status left over from an earlier request (taken above) does not end this one; one that
     * comes now does, early at worst: what this request still brings is taken next time */
    status = 0;
    while (n < max && !status && in_flight(p) && !nats_stop) {
        pump(p, (int)((p->ahead_end - nats_mono()) * 1e3) + 1, p->lowat_max);
        n += take(p, msgs + n, max - n, &status);
    }
    if (n == 0 && status != 0 && status != 408)
        nats_Sleep(100); /* refused at once (409): not a busy loop */
    *count = n;
    return 0;
}

void nats_puller_give_back(nats_puller *p, int timeout_ms)
{
    double end = nats_mono() + timeout_ms / 1e3;
    natsMsg *m[16];
    int n, status;
    for (;;) {
        status = 0;
        n = take(p, m, 16, &status);
        for (int i = 0; i < n; i++) {
            nats_puller_reply(p, m[i], "-NAK");
            nats_puller_discard(p, m[i]);
        }
        if (n == 0 && (!in_flight(p) || nats_mono() >= end))
            break;
        if (n == 0)
            pump(p, (int)((end - nats_mono()) * 1e3) + 1, 1);
    }
    nats_puller_flush(p, timeout_ms);
    bury(p);
}

int nats_puller_reply(nats_puller *p, natsMsg *m, const char *body)
{
    const char *reply = natsMsg_GetReply(m);
    if (!reply || !*reply)
        return -1;
    return natsConnection_PublishString(p->nc, reply, body) == NATS_OK ? 0 : -1;
}

const char *nats_puller_ack_to(const nats_puller *p)
{
    return p->ack_to;
}

int nats_puller_publish(nats_puller *p, natsMsg *m)
{
    if (natsConnection_PublishMsg(p->nc, m) != NATS_OK)
        return -1;
    p->sent++;
    return 0;
}

/* Counts the acknowledgements of this generation that wait on the inbox. */
static void take_acks(nats_puller *p)
{
    natsMsg *m = NULL;
    size_t plen = strlen(p->ack_to);
    while (natsSubscription_NextMsg(&m, p->acks, 0) == NATS_OK) {
        const char *subj = natsMsg_GetSubject(m), *data = natsMsg_GetData(m), *st = NULL;
        int len = natsMsg_GetDataLength(m);
        if (strncmp(subj, p->ack_to, plen) == 0 && subj[plen] == '\0') {
            /* {"stream":..,"seq":..[,"duplicate":true]}, or {"error":{..}}; an empty message
             * with a status (503: no stream takes the subject) */
            if (len == 0 || (natsMsgHeader_Get(m, "Status", &st) == NATS_OK) ||
                memmem(data, (size_t)len, "\"error\"", 7))
                p->refused++;
            else
                p->acked++;
        }
        nats_puller_discard(p, m);
    }
}

int nats_puller_published(nats_puller *p, int timeout_ms)
{
    double end = nats_mono() + timeout_ms / 1e3;
    int rc;
    nats_puller_flush(p, 0);
    take_acks(p);
    while (p->acked + p->refused < p->sent && !nats_stop && nats_mono() < end) {
        pump(p, (int)((end - nats_mono()) * 1e3) + 1, 1);
        take_acks(p);
    }
    rc = p->refused || p->acked < p->sent ? -1 : 0;
    /* a late acknowledgement of this round is not counted for the next */
    p->gen++;
    snprintf(p->ack_to, sizeof p->ack_to, "%s.%" PRIu64, p->acks_inbox, p->gen);
    p->sent = p->acked = p->refused = 0;
    return rc;
}

void nats_puller_close(nats_puller *p)
{
    if (!p)
        return;
    if (p->nc)
        nats_puller_flush(p, 2000);
    bury(p);
    free(p->dead);
    natsSubscription_Destroy(p->sub);
    natsSubscription_Destroy(p->acks);
    natsConnection_Destroy(p->nc);
    natsInbox_Destroy(p->inbox);
    natsInbox_Destroy(p->acks_inbox);
    pthread_mutex_destroy(&p->mu);
    free(p);
}
