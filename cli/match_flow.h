/*
 * match_flow.h - the flow and dnstap inputs of `accord match` (match_flow.c): IPFIX files, pcap
 * files of NetFlow/IPFIX datagrams, Frame Streams dnstap files, a UDP collector
 * (--listen-flows) and a dnstap unix socket (--listen-dnstap).  cmd_match.c hands it options
 * and inputs it recognises, and gets every match back through a callback that formats and counts
 * it like a match of the JSON path.
 */
#ifndef ACCORD_CLI_MATCH_FLOW_H
#define ACCORD_CLI_MATCH_FLOW_H

#include "accord.h"

#include <stdint.h>

typedef struct match_flow_opts {
    const char *listen_flows;  /* ADDR:PORT */
    const char *listen_dnstap; /* unix socket path */
    double listen_seconds;     /* stop listening after this long; 0 = until SIGINT/SIGTERM */
    int decode;                /* print decoded records instead of matching */
    unsigned threads;          /* collector sockets/threads (set by cmd_match from --threads) */
    struct nats_opts *nats;    /* --nats URL...: the listeners' records go to NATS JetStream
                                  workers instead (cmd_nats.h, nats_forward_*) */
} match_flow_opts;

typedef struct match_flow_totals {
    uint64_t records, bytes, matches, malformed;
} match_flow_totals;

/* Called for each match (serialised: never twice at once); input names the source, snap the
 * snapshot the match was made against (its indicator numbers are of it). */
typedef void (*match_flow_emit)(void *ud, const char *input, accord_snapshot *snap,
                                const accord_match *mt);
/* The current snapshot for the listeners: a new reference when it is not `have`, else NULL.
 * Asked by every listening thread between batches (so it must be cheap), with emit's ud. */
typedef accord_snapshot *(*match_flow_current)(void *ud, const accord_snapshot *have);

/* Takes argv[i] when it is one of the options above: the number of arguments used (1 or 2), 0
 * when it is not one, -1 when its value is bad. */
int match_flow_arg(match_flow_opts *o, int argc, char **argv, int i);
/* 1 when the file at path is a pcap, IPFIX or Frame Streams file (by its first bytes). */
int match_flow_sniff(const char *path);
/* Matches file path (as sniffed).  0, or -1 when it could not be read (reported). */
int match_flow_file(const match_flow_opts *o, accord_snapshot *snap, int64_t now_s,
                    const char *path, match_flow_emit emit, void *ud, match_flow_totals *t);
/* Runs the listeners of o until their time is up or a signal comes, starting with snapshot snap
 * and moving to each new one current gives.  0 or -1 (reported). */
int match_flow_listen(const match_flow_opts *o, accord_snapshot *snap, match_flow_current current,
                      int64_t now_s, match_flow_emit emit, void *ud, match_flow_totals *t);

#endif
