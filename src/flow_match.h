/*
 * flow_match.h - flow records and dnstap messages matched against a snapshot (flow_match.c):
 * each becomes an event of typed values for accord_matcher_match_values, in batches.
 *
 * Flow records: source and destination address with their ports (fields "src", "dst") against
 * address, CIDR and network-traffic indicators; a record with post-NAT addresses (CGNAT, IEs
 * 225-228, 281/282) is a second event of the public side ("nat.src", "nat.dst") whose event text
 * names the inside address and port.
 * dnstap: the question name of queries ("dns.qname") against domain indicators, A/AAAA answers
 * of responses ("dns.answer") against address indicators, CNAME and MX targets ("dns.cname",
 * "dns.mx") against domain indicators.  The client address is reported in the event text.
 *
 * Matches go to a callback with the event as JSON text (the record's fields: exporter, ports,
 * bytes, packets, times, sampling; or the dnstap type, client and question), so the output has
 * the shape of the JSON path's, where `event` is the input line.
 */
#ifndef ACCORD_FLOW_MATCH_H
#define ACCORD_FLOW_MATCH_H

#include "accord.h"
#include "dnstap.h"
#include "flow.h"

typedef struct fmatch fmatch;

/* One match: mt as accord_matcher_next gives it, with mt->event / event_len set to the event
 * text (valid during the call). */
typedef void (*fmatch_cb)(void *ud, const accord_match *mt);

typedef struct fmatch_stats {
    uint64_t records;  /* flow records and dnstap messages taken */
    uint64_t events;   /* events matched (a CGNAT record is two) */
    uint64_t matches;
    uint64_t dns_malformed; /* dnstap messages whose DNS message could not be read */
} fmatch_stats;

/* A matcher over snap (it takes a reference) calling cb for every match.  0 or ACCORD_ENOMEM. */
int fmatch_new(accord_snapshot *snap, int64_t now_s, fmatch_cb cb, void *ud, fmatch **out);
void fmatch_free(fmatch *f);

/* Where a long-running matcher learns of a new snapshot: a new reference to the current one when
 * it is not `have`, else NULL (it must be cheap: it is asked once per batch). */
typedef accord_snapshot *(*fmatch_current_cb)(void *ud, const accord_snapshot *have);
/* Asks cur, after every batch (fmatch_flush, also of an empty batch), for the current snapshot
 * and matches the following batches against it: a reload or an expiry reaches a collector that
 * never stops.  Matches already reported named the snapshot they were made against. */
void fmatch_set_source(fmatch *f, fmatch_current_cb cur, void *ud);
/* Between batches (nothing queued): moves to the current snapshot now.  A listener calls it when
 * data arrives after a wait, so the data is matched against the snapshot current when it came,
 * not the one current when the wait began.  0, or ACCORD_ENOMEM (the old snapshot is kept). */
int fmatch_refresh(fmatch *f);
/* The snapshot the matches being reported were made against (valid during the callback). */
accord_snapshot *fmatch_snapshot(const fmatch *f);
/* Gives every record and answer to the matcher, and every event to the pattern engine, whether
 * or not any indicator can want it (benchmarks and tests compare with the filters). */
void fmatch_unfiltered(fmatch *f);
/* Queues record r (copied), matching the batch when it is full.  0 or ACCORD_ENOMEM. */
int fmatch_flow(fmatch *f, const flow_rec *r);
/* Queues dnstap message m (its names and addresses copied).  0, ACCORD_ENOMEM, or ACCORD_EINVAL
 * when its DNS message is malformed (what could be read is queued, the count kept). */
int fmatch_dnstap(fmatch *f, const dnstap_msg *m);
/* Matches what is queued. */
int fmatch_flush(fmatch *f);
/*
 * Leaf hits of multi-observation indicators (FOLLOWEDBY, REPEATS, WITHIN, AND/OR of
 * observations) go to cb instead of being combined here (mmatcher_leaf_hits, match.h), for
 * every snapshot this matcher moves to, so that the observations of one source matched by
 * several matchers in pieces can be combined in the source's order elsewhere (nats_temporal.h).
 * The hit's event is the record's event text (valid during the call) and its time the one a
 * match of the record has; its line is the record's number in the batch (1-based), nothing to
 * the caller.  NULL: combined here again.  0 or ACCORD_ENOMEM.
 */
struct mleaf_hit;
typedef void (*fmatch_leaf_cb)(void *ud, const struct mleaf_hit *h);
int fmatch_leaf_hits(fmatch *f, fmatch_leaf_cb cb, void *ud);
void fmatch_stats_get(const fmatch *f, fmatch_stats *out);

/* The event text of a flow record / dnstap message into out (cap bytes); its length. */
size_t fmatch_flow_text(const flow_rec *r, char *out, size_t cap);
size_t fmatch_dnstap_text(const dnstap_msg *m, char *out, size_t cap);

#endif
