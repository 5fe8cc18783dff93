/*
 * cmd_nats.h - what the NATS JetStream commands share (accord nats, publish, worker): the
 * connection options, the streams, and the indicator snapshot kept in the stream and KV bucket.
 *
 *   stream           subjects                      retention   what
 *   ACCORD_TEL_<t>   accord.tel.<t>.<source>       work queue  telemetry chunks of tenant t
 *                                                              (discard new when full,
 *                                                              duplicate window for msg ids)
 *   ACCORD_RES_<t>   accord.res.<t>                limits      match results, one or more
 *                                                              parts per chunk, msg id
 *                                                              <chunk>@<version>#<part>
 *   ACCORD_DLQ_<t>   accord.dlq.<t>                limits      chunks given up after max
 *                                                              deliveries
 *   ACCORD_SNAP      accord.snap.<version>.<part>  limits      indicator snapshots in parts
 *                                                              of < 1 MiB (all tenants)
 *   KV accord_snapshot, key current                the snapshot pointer (src/nats_msg.h)
 *
 * Each tenant (--tenant, "default" unless given) has its own three streams, so a server's
 * permissions can give a tenant's producers, workers and collector its subjects alone (the
 * snapshot is the node's indicators, read by every tenant's workers).  Consumers: "workers"
 * (pull, on ACCORD_TEL_<t>, shared by every worker of the tenant) and "collector" (pull, on
 * ACCORD_RES_<t>).  `accord nats setup --tenant t` creates them; creating them again is a
 * no-op.
 */
#ifndef ACCORD_CMD_NATS_H
#define ACCORD_CMD_NATS_H

#include "cli.h"
#include "nats_msg.h"
#include "util/buf.h"

#include <nats/nats.h>
#include <signal.h>
#include <stdatomic.h>

#define NATS_STREAM_TEL "ACCORD_TEL"
#define NATS_STREAM_RES "ACCORD_RES"
#define NATS_STREAM_DLQ "ACCORD_DLQ"
#define NATS_STREAM_SNAP "ACCORD_SNAP"
#define NATS_KV_BUCKET "accord_snapshot"
#define NATS_CONSUMER_WORKERS "workers"
#define NATS_CONSUMER_COLLECTOR "collector"
#define NATS_PART_MAX ((1u << 20) - 16384) /* payload of one snapshot part, headers aside */

typedef struct nats_opts {
    const char *url;    /* --nats: nats://host:port, comma-separated for a cluster */
    const char *creds;  /* --nats-creds: user JWT + nkey seed file */
    const char *nkey;   /* --nats-nkey: nkey seed file */
    const char *ca;     /* --nats-ca: CA bundle; implies TLS */
    const char *cert;   /* --nats-cert / --nats-key: client certificate */
    const char *key;
    const char *tenant; /* --tenant (default "default") */
} nats_opts;

/* The names of a tenant's streams and subjects. */
typedef struct nats_names {
    char tel[160], res[160], dlq[160];     /* stream names */
    char tel_all[160], res_subj[160], dlq_subj[160]; /* accord.tel.<t>.>, accord.res.<t>, ... */
} nats_names;
void nats_names_of(const char *tenant, nats_names *n);

typedef struct nats_link {
    natsConnection *nc;
    jsCtx *js;
    kvStore *kv;
    atomic_uint async_errors; /* asynchronous publishes refused or not acknowledged in time */
} nats_link;

/* Set by SIGINT / SIGTERM once nats_signals() is called. */
extern volatile sig_atomic_t nats_stop;
void nats_signals(void);

/* The client library's external event loop callbacks (cmd_nats_pull.c). */
typedef struct nats_evloop {
    void *loop;
    natsEvLoop_Attach attach;
    natsEvLoop_ReadAddRemove read;
    natsEvLoop_WriteAddRemove write;
    natsEvLoop_Detach detach;
} nats_evloop;

/* Takes a connection option at argv[i]: the number of arguments used (0: not one, -1: bad). */
int nats_opt_arg(nats_opts *o, int argc, char **argv, int i);
/* Connects (retrying while the server is down when `retry`), opens JetStream and, when the
 * bucket exists, the KV bucket.  0, or -1 after printing why.  l must stay where it is while
 * open (asynchronous publish errors are counted in it). */
int nats_link_open(const char *cmd, const nats_opts *o, int retry, nats_link *l);
void nats_link_close(nats_link *l);
/* The connection alone (no JetStream context), with ev (NULL: the library's own threads). */
int nats_connect(const char *cmd, const nats_opts *o, int retry, const nats_evloop *ev,
                 natsConnection **nc);

/* The read buffer of a puller's connection: a batch of 4 chunks of 512 KiB waiting in the socket
 * comes in one read, each chunk copied once into its message (one split over two reads is
 * gathered first: copied twice). */
#define NATS_PULL_READ (4 << 20)

/* A pull consumer read by the thread that uses it (cmd_nats_pull.c): no reader thread between
 * the socket and the caller.  One thread only. */
typedef struct nats_puller nats_puller;
/* Connects (retrying) and subscribes for the messages of consumer of stream.  0, or -1 after
 * printing why. */
int nats_puller_open(const char *cmd, const nats_opts *o, const char *stream,
                     const char *consumer, nats_puller **out);
/* Up to max messages into msgs (*count; the caller destroys them), waiting at most timeout_ms
 * for the first.  0, or -1 when the request could not be sent (the connection is away). */
int nats_puller_fetch(nats_puller *p, natsMsg **msgs, int max, int timeout_ms, int *count);
/* Asks for the next max messages now, unless a request is still in flight, so that they wait
 * in the socket by the next nats_puller_fetch (which then sends none of its own).  0, or -1. */
int nats_puller_request(nats_puller *p, int max, int timeout_ms);
/* Refuses (-NAK) what was delivered but not fetched, waiting at most timeout_ms for what a
 * request in flight still brings: for others at once, not after the ack wait. */
void nats_puller_give_back(nats_puller *p, int timeout_ms);
/* Sends body (+ACK, -NAK, +WPI, ...) to m's reply subject: queued, sent at the next fetch or
 * nats_puller_flush.  0, or -1. */
int nats_puller_reply(nats_puller *p, natsMsg *m, const char *body);
/* Writes what is queued, waiting at most timeout_ms (0: what the socket takes now). */
void nats_puller_flush(nats_puller *p, int timeout_ms);
/* Publishing with the stream's acknowledgement read in this thread too: a message whose reply
 * subject is nats_puller_ack_to(p) (it changes after each nats_puller_published) and a
 * Nats-Msg-Id header is sent with nats_puller_publish (0, or -1: not even queued), and
 * nats_puller_published waits at most timeout_ms until the stream acknowledged all sent since
 * the last call: 0, or -1 when one was refused or not acknowledged in time. */
const char *nats_puller_ack_to(const nats_puller *p);
int nats_puller_publish(nats_puller *p, natsMsg *m);
int nats_puller_published(nats_puller *p, int timeout_ms);
/* Destroys m at the next fetch, with the others: one wake of the library's collector thread
 * for all. */
void nats_puller_discard(nats_puller *p, natsMsg *m);
/* Flushes (2 s at most), unsubscribes, disconnects, frees (NULL: nothing). */
void nats_puller_close(nats_puller *p);
/* Socket reads so far (each hands what waits in the socket to the library); 0 for NULL. */
uint64_t nats_puller_reads(const nats_puller *p);
/* Binds *sub to the durable pull consumer of stream (subjects filter).  0, or -1 after printing
 * why. */
int nats_pull(const char *cmd, nats_link *l, const char *stream, const char *consumer,
              const char *filter, natsSubscription **sub);
/* 1 when consumer of stream has nothing left to deliver and nothing delivered but not yet
 * acknowledged, 0 when it has, -1 when it cannot be read. */
int nats_consumer_done(nats_link *l, const char *stream, const char *consumer);
/* "what: status text (jetstream error N)" for a failed call */
void nats_fail(const char *cmd, const char *what, natsStatus s, jsErrCode jerr);

/* The snapshot pointer: 0 with *p set, 1 when none was published, -1 after printing why. */
int nats_pointer_get(const char *cmd, nats_link *l, nats_pointer *p, uint64_t *rev);
/* Fetches the parts of p, checks size and SHA-256, compiles them at now_s: *out, or -1 after
 * printing why. */
int nats_snapshot_fetch(const char *cmd, nats_link *l, const nats_pointer *p, int64_t now_s,
                        accord_snapshot **out);
/* Compiles a snapshot of JSON lines text[0..len) (each line one STIX object), as accord match
 * --indicators compiles a JSON-lines file. */
int nats_snapshot_compile(const char *text, size_t len, int64_t now_s, accord_snapshot **out,
                          accord_error *err);

/* Appends s[0..len) as a JSON string (invalid UTF-8 as U+FFFD, controls escaped). */
int nats_json_str(buf *b, const char *s, size_t len);
/* The entries of directory dir that keep(name, is_dir) takes (NULL: all), as "dir/name", sorted
 * by name, none starting with '.'; free with nats_dir_free.  0, or -1 (dir unreadable, out of
 * memory). */
int nats_dir_list(const char *dir, int (*keep)(const char *name, int is_dir), char ***out,
                  size_t *n);
void nats_dir_free(char **names, size_t n);
/* Monotonic seconds. */
double nats_mono(void);

/* accord serve --nats URL: the collector of cmd_nats_collect.c in a thread beside the server,
 * writing sightings every --nats-sightings-every seconds (60) to --nats-report COLLECTION and
 * when the server stops. */
typedef struct nats_serve nats_serve;
/* Takes the NATS options (--nats*, --tenant) out of argv, the others moved down (*argc updated):
 * 0 with *out set when --nats was given (NULL when not), -1 when one is bad. */
int nats_serve_args(int *argc, char **argv, nats_serve **out);
/* Connects and starts the thread: 0, or -1 after printing why. */
int nats_serve_start(nats_serve *ns);
/* Stops the thread, writes the sightings a last time and frees ns (NULL: nothing). */
void nats_serve_stop(nats_serve *ns);

/* accord match --listen-flows / --listen-dnstap --nats URL: records published as record chunks
 * (Accord-Kind flow or dnstap, see nats_msg.h) for the workers instead of matched here.  Any
 * thread may add; a chunk goes out when full (512 KiB, --nats-chunk-kib), when
 * nats_forward_idle finds it a second old, and at close.  Publishing waits for the server (a
 * full stream holds the collector back). */
typedef struct nats_forward nats_forward;
/* Takes a connection option at argv[i] (as nats_opt_arg), *o then pointing at them. */
int nats_forward_arg(nats_opts **o, int argc, char **argv, int i);
/* kind "flow" or "dnstap"; input names the listener.  0, or -1 after printing why. */
int nats_forward_open(const nats_opts *o, const char *kind, const char *input,
                      nats_forward **out);
int nats_forward_add(nats_forward *f, const void *rec, size_t len);
int nats_forward_flow(nats_forward *f, const flow_rec *r);
void nats_forward_idle(nats_forward *f);
/* Sends what waits, reports, frees (NULL: nothing).  0, or -1 when a chunk was not stored. */
int nats_forward_close(nats_forward *f);

int cmd_nats_setup(const nats_opts *o, int argc, char **argv);
int cmd_nats_status(const nats_opts *o, int argc, char **argv);
int cmd_nats_snapshot(const nats_opts *o, int argc, char **argv);
int cmd_nats_collect(const nats_opts *o, int argc, char **argv);
int cmd_nats_send(const nats_opts *o, int argc, char **argv);

#endif
