/*
 * cmd_worker.c - `accord worker --nats URL`: matches telemetry chunks from the work queue.
 *
 * Any number of workers, on any hosts, share the durable pull consumer "workers" of
 * ACCORD_TEL; JetStream hands each chunk to one of them at a time.  For each chunk a worker:
 *
 *   1. matches it against its current snapshot, telling the server the chunk is in progress
 *      whenever a quarter of the ack wait has passed, so a slow chunk is not handed to another
 *      worker meanwhile;
 *   2. publishes the matches to accord.res.<tenant> in parts of at most 768 KiB (one empty part
 *      when there are none), msg id <chunk>@<version>#<part>, and waits for the server to
 *      acknowledge every part;
 *   3. only then acknowledges the chunk (and waits for that acknowledgement).
 *
 * Chunks, their acknowledgements and the results travel on one connection read by the
 * matching thread itself (cmd_nats_pull.c), not handed over by the client library's threads;
 * the snapshot, the dead-letter subject and the slow path of results use a second one.
 *
 * A worker that dies between 2 and 3 leaves the chunk to be delivered again after the ack
 * wait: its results are published again under the same ids (the duplicate window drops them,
 * and the collector keeps one complete version of each chunk whatever comes twice).  A chunk
 * that cannot be read (no chunk id, a bad header) is refused (nak, delivered again a little
 * later); on its last allowed delivery (the consumer's max deliver) a chunk is not matched but
 * moved to accord.dlq.<tenant> with the reason, and acknowledged, so a chunk that kills every
 * worker that takes it cannot stall the queue.
 *
 * Snapshots: every second the worker reads the pointer (KV current); when it names a new
 * version, the worker fetches and checks the parts and compiles them beside the current
 * snapshot, then swaps between two chunks.  A chunk is matched entirely against one snapshot
 * and its results name that version (Accord-Snapshot, and "snapshot" in each match).  A
 * snapshot that fails its checks is refused and the current one kept.
 *
 * Multi-observation indicators (FOLLOWEDBY, REPEATS, ...) are not combined here, in line chunks
 * as in flow and dnstap record chunks: a worker sees only some chunks of a source.  Each event
 * that meets some of their observation expressions becomes an observation line among the
 * chunk's results (nats_temporal.h), and the collector combines them in the source's order.
 */
#include "cmd_nats.h"
#include "dnstap.h"
#include "flow_match.h"
#include "match.h"
#include "nats_temporal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <sys/resource.h>

/* a whole chunk (at most 1 MiB) in one call, as accord match reads: a chunk is matched in a few
 * ms, well within a quarter of the ack wait, and smaller calls cost the matcher a partial batch
 * each */
#define PIECE (1u << 20)
#define RESULT_PART_MAX (768u << 10)
#define NAK_DELAY_MS 200

typedef struct worker {
    const char *cmd;
    nats_link l;
    nats_names nm; /* the tenant's streams */
    nats_puller *pl; /* the chunks, read in this thread (cmd_nats_pull.c) */
    accord_snapshot *snap;
    accord_matcher *m;
    fmatch *fm;                /* flow and dnstap records, over the same snapshot */
    flow_exporter *exps;       /* the exporters of a flow chunk's records until they are matched */
    size_t nexps;
    struct job *cur;           /* the chunk fm's matches belong to */
    int fm_failed;
    uint64_t version;
    int64_t now_s;
    size_t event_bytes;
    double ack_wait_s, last_check;
    int64_t max_deliver;
    buf res;
    /* the chunk being matched (lines or records), for the observations of multi-observation indicators */
    const char *chunk_id, *chunk_input;
    uint64_t piece_base; /* line number of the current piece's first line */
    uint64_t *sent;      /* version hashes of the patterns whose text this chunk's results hold */
    size_t nsent, sent_cap;
    int leaf_failed;
    /* totals */
    uint64_t chunks, bytes, lines, events, matches, malformed, dead, refused, redelivered, swaps;
} worker;

static void on_record_match(void *ud, const accord_match *mt);
static void on_leaf_hit(void *ud, const mleaf_hit *h);
static void on_record_leaf(void *ud, const mleaf_hit *h);

/* Acknowledgements go to the chunk's reply subject on the puller's connection: queued, and
 * written with the batch's next flush (in-progress signals at once). */
static void reply(worker *w, natsMsg *m, const char *body)
{
    nats_puller_reply(w->pl, m, body);
}

static void in_progress(worker *w, natsMsg *m)
{
    reply(w, m, "+WPI");
    nats_puller_flush(w->pl, 0);
}

static void nak_later(worker *w, natsMsg *m)
{
    char body[64];
    snprintf(body, sizeof body, "-NAK {\"delay\":%lld}", (long long)NAK_DELAY_MS * 1000000LL);
    reply(w, m, body);
}

/* The worker's current snapshot, for its record matcher (fmatch_set_source). */
static accord_snapshot *current_snapshot(void *ud, const accord_snapshot *have)
{
    worker *w = ud;
    return w->snap && w->snap != have ? accord_snapshot_ref(w->snap) : NULL;
}

/*
 * Takes the snapshot the pointer names when it is not the current one.  0, or -1 when there is
 * none yet or it could not be loaded (the current one stays).  Called between chunks only, so a
 * chunk is matched with one whole version.  For records, the partial matches of
 * pattern-engine indicators (FOLLOWEDBY, WITHIN, REPEATS) that the new version holds unchanged
 * (same id, modified and pattern) are carried into the new matcher; those of indicators that
 * changed or went are dropped with the old version.  Lines keep no partial matches here (the
 * collector combines them, keyed by the same version hash).
 */
static int snapshot_refresh(worker *w)
{
    nats_pointer p;
    accord_snapshot *snap, *old;
    accord_matcher *m;
    int rc = nats_pointer_get(w->cmd, &w->l, &p, NULL);
    w->last_check = nats_mono();
    if (rc != 0)
        return -1;
    if (w->snap && p.version == w->version)
        return 0;
    if (nats_snapshot_fetch(w->cmd, &w->l, &p, w->now_s, &snap) != 0)
        return -1;
    /* multi-observation indicators: their observations are combined by the collector, in
     * the order of each source (nats_temporal.h), not within the chunks this worker sees */
    if (accord_matcher_new(snap, &m) != 0 || mmatcher_leaf_hits(m, on_leaf_hit, w) != 0) {
        accord_matcher_free(m);
        accord_snapshot_unref(snap);
        cli_error(w->cmd, "out of memory");
        return -1;
    }
    if (!w->fm) {
        if (fmatch_new(snap, w->now_s, on_record_match, w, &w->fm) != 0 ||
            fmatch_leaf_hits(w->fm, on_record_leaf, w) != 0) {
            fmatch_free(w->fm);
            w->fm = NULL;
            accord_matcher_free(m);
            accord_snapshot_unref(snap);
            cli_error(w->cmd, "out of memory");
            return -1;
        }
        fmatch_set_source(w->fm, current_snapshot, w);
    }
    accord_matcher_free(w->m);
    old = w->snap;
    w->m = m;
    w->snap = snap;
    if (fmatch_refresh(w->fm) != 0) { /* no memory to carry: a record matcher without */
        fmatch *fm = NULL;
        if (fmatch_new(snap, w->now_s, on_record_match, w, &fm) != 0 ||
            fmatch_leaf_hits(fm, on_record_leaf, w) != 0) {
            cli_error(w->cmd, "out of memory");
            exit(EXIT_FAIL); /* no matcher over the version the results would name */
        }
        fmatch_free(w->fm);
        w->fm = fm;
        fmatch_set_source(w->fm, current_snapshot, w);
    }
    accord_snapshot_unref(old);
    if (w->version)
        w->swaps++;
    w->version = p.version;
    {
        accord_snapshot_stats st;
        accord_snapshot_stats_get(snap, &st);
        fprintf(stderr, "accord worker: snapshot %" PRIu64 " (%zu indicators, loaded in %.3f s)\n",
                p.version, accord_snapshot_count(snap), st.build_seconds);
    }
    return 0;
}

static int put_match(worker *w, const char *chunk, const char *input, uint64_t line,
                     const accord_match *mt, const ntemp_obs *ob)
{
    buf *b = &w->res;
    int rc = buf_adds(b, "{\"chunk\":");
    rc = rc ? rc : nats_json_str(b, chunk, strlen(chunk));
    rc = rc ? rc : buf_printf(b, ",\"snapshot\":%" PRIu64 ",\"input\":", w->version);
    rc = rc ? rc : nats_json_str(b, input, strlen(input));
    rc = rc ? rc : buf_printf(b, ",\"line\":%" PRIu64 ",\"time\":", line);
    if (rc == 0 && !mt->time)
        rc = buf_adds(b, "null");
    else if (rc == 0)
        rc = mt->time_is_string ? nats_json_str(b, mt->time, mt->time_len)
                                : buf_add(b, mt->time, mt->time_len);
    rc = rc ? rc : buf_adds(b, ",\"field\":");
    rc = rc ? rc : mt->field ? nats_json_str(b, mt->field, strlen(mt->field)) : buf_adds(b, "null");
    rc = rc ? rc : buf_adds(b, ",\"value\":");
    rc = rc ? rc : mt->value ? nats_json_str(b, mt->value, mt->value_len) : buf_adds(b, "null");
    rc = rc ? rc : buf_adds(b, ",\"indicators\":[");
    for (size_t i = 0; i < mt->nindicators && rc == 0; i++) {
        accord_indicator_info info;
        accord_snapshot_indicator(w->snap, mt->indicators[i], &info);
        rc = buf_adds(b, i ? ",{\"id\":" : "{\"id\":");
        rc = rc ? rc : nats_json_str(b, info.id, strlen(info.id));
        rc = rc ? rc : buf_adds(b, ",\"name\":");
        rc = rc ? rc : nats_json_str(b, info.name, strlen(info.name));
        rc = rc ? rc : buf_adds(b, "}");
    }
    rc = rc ? rc : buf_adds(b, "]");
    if (rc == 0 && w->event_bytes && mt->event) {
        size_t n = mt->event_len < w->event_bytes ? mt->event_len : w->event_bytes;
        rc = buf_adds(b, ",\"event\":");
        rc = rc ? rc : nats_json_str(b, mt->event, n);
        if (rc == 0 && n < mt->event_len)
            rc = buf_adds(b, ",\"event_truncated\":true");
    }
    if (rc == 0 && ob)
        rc = buf_adds(b, ",") ? -1 : ntemp_obs_write(ob, b);
    return rc ? rc : buf_adds(b, "}\n");
}

/* The text of the multi-observation pattern with version hash key (number pat of the
 * snapshot's complex set), once per chunk, before its first observation. */
static int put_pattern(worker *w, uint64_t key, uint32_t pat)
{
    uint64_t tag;
    const accord_pattern *p = pattern_set_at(w->snap->complex, pat, &tag);
    char hex[17];
    int rc;
    for (size_t i = 0; i < w->nsent; i++)
        if (w->sent[i] == key)
            return 0;
    if (!p)
        return -1;
    if (w->nsent == w->sent_cap) {
        size_t cap = w->sent_cap ? w->sent_cap * 2 : 16;
        uint64_t *v = realloc(w->sent, cap * sizeof *v);
        if (!v)
            return -1;
        w->sent = v;
        w->sent_cap = cap;
    }
    w->sent[w->nsent++] = key;
    snprintf(hex, sizeof hex, "%016" PRIx64, key);
    rc = buf_printf(&w->res, "{\"pattern\":{\"key\":\"%s\",\"v20\":%s,\"text\":", hex,
                    p->v20 ? "true" : "false");
    rc = rc ? rc : nats_json_str(&w->res, p->text, p->text_len);
    return rc ? rc : buf_adds(&w->res, "}}\n");
}

/* An event of the current chunk (line `line` as its matches name it) matched observation
 * expressions of a multi-observation indicator: an observation line (and the pattern's text,
 * once per chunk). */
static void put_obs(worker *w, uint64_t line, const mleaf_hit *h)
{
    accord_match mt;
    ntemp_obs ob;
    memset(&mt, 0, sizeof mt);
    mt.time = h->time;
    mt.time_len = h->time_len;
    mt.time_is_string = h->time_is_string;
    mt.event = h->event;
    mt.event_len = h->event_len;
    mt.indicators = &h->ind;
    mt.nindicators = 1;
    ob.key = w->snap->cver[h->pat];
    ob.leaves = h->leaves;
    ob.t = *h->t;
    if (!w->chunk_id || put_pattern(w, ob.key, h->pat) != 0 ||
        put_match(w, w->chunk_id, w->chunk_input, line, &mt, &ob) != 0)
        w->leaf_failed = 1;
}

static void on_leaf_hit(void *ud, const mleaf_hit *h)
{
    worker *w = ud;
    put_obs(w, w->piece_base + h->line - 1, h);
}


enum { RECS_LINES, RECS_FLOW, RECS_DNSTAP };

typedef struct chunk_counts {
    uint64_t lines, events, matches, malformed;
} chunk_counts;

/* A chunk of the batch being worked on. */
typedef struct job {
    natsMsg *msg;
    const char *id, *input; /* headers of msg */
    uint64_t line, hdr_len;
    size_t len;
    int kind; /* RECS_LINES, RECS_FLOW, RECS_DNSTAP (Accord-Kind) */
    chunk_counts cc;
    int given_back; /* nak sent */
} job;

/* Matches body[0..len) (first line `line`) into w->res; 0 or -1 (out of memory). */
static int match_chunk(worker *w, natsMsg *msg, const char *chunk, const char *input,
                       uint64_t line, const char *hdr, size_t hdr_len, const char *body,
                       size_t len, chunk_counts *cc)
{
    accord_matcher_stats before, after;
    double touched = nats_mono();
    size_t at = 0;
    uint64_t base = line;
    accord_matcher_stats_get(w->m, &before);
    accord_matcher_set_header(w->m, hdr_len ? hdr : NULL, hdr_len);
    buf_reset(&w->res);
    w->chunk_id = chunk;
    w->chunk_input = input;
    w->nsent = 0;
    w->leaf_failed = 0;
    while (at < len) {
        size_t end = at + PIECE < len ? at + PIECE : len, n;
        const char *nl = end < len ? memchr(body + end - 1, '\n', len - end + 1) : NULL;
        accord_match mt;
        accord_match_malformed bad;
        end = end < len ? (nl ? (size_t)(nl - body) + 1 : len) : len;
        n = end - at;
        w->piece_base = base;
        if (accord_matcher_match_lines(w->m, body + at, n, w->now_s) < 0 || w->leaf_failed)
            return -1;
        while (accord_matcher_next(w->m, &mt) == 1) {
            cc->matches++;
            if (put_match(w, chunk, input, base + mt.line - 1, &mt, NULL) != 0)
                return -1;
        }
        while (accord_matcher_next_malformed(w->m, &bad) == 1)
            cc->malformed++;
        accord_matcher_stats_get(w->m, &after); /* the lines of this piece, without a 2nd pass */
        base = line + (after.lines - before.lines);
        at = end;
        if (nats_mono() - touched > w->ack_wait_s / 4) {
            in_progress(w, msg);
            touched = nats_mono();
        }
    }
    accord_matcher_stats_get(w->m, &after);
    cc->lines = after.lines - before.lines;
    cc->events = after.events - before.events;
    return 0;
}

static void on_record_match(void *ud, const accord_match *mt)
{
    worker *w = ud;
    w->cur->cc.matches++;
    /* records have no lines: a match names the chunk's first record number */
    if (put_match(w, w->cur->id, w->cur->input, w->cur->line, mt, NULL) != 0)
        w->fm_failed = 1;
}

/* Records have no lines: an observation names the chunk's first record number, as a match. */
static void on_record_leaf(void *ud, const mleaf_hit *h)
{
    worker *w = ud;
    put_obs(w, w->cur ? w->cur->line : 0, h);
}

/* Matches the flow records or dnstap messages of record chunk j (body[0..len)) into w->res, as
 * accord match --listen-flows / --listen-dnstap would have matched them where they arrived.  0,
 * or -1 (out of memory).  A record that cannot be read counts as malformed and is skipped; a
 * chunk whose framing breaks is matched as far as it reads. */
static int match_records(worker *w, job *j, const uint8_t *body, size_t len)
{
    fmatch_stats before, after;
    size_t off = 0, rlen, cap = len / (4 + NATS_FLOW_REC_LEN) + 1;
    const uint8_t *rec;
    const char *why = NULL;
    int r;
    buf_reset(&w->res);
    if (j->kind == RECS_FLOW && cap > w->nexps) {
        flow_exporter *e = realloc(w->exps, cap * sizeof *e);
        if (!e)
            return -1;
        w->exps = e;
        w->nexps = cap;
    }
    w->cur = j;
    w->fm_failed = 0;
    w->chunk_id = j->id;
    w->chunk_input = j->input;
    w->nsent = 0;
    w->leaf_failed = 0;
    fmatch_stats_get(w->fm, &before);
    while ((r = nats_rec_next(body, len, &off, &rec, &rlen, &why)) == 1) {
        j->cc.lines++;
        if (j->kind == RECS_FLOW) {
            flow_rec fr;
            /* the exporter stays in w->exps until the flush below: fmatch keeps a copy of fr */
            if (nats_flow_get(rec, rlen, &fr, &w->exps[j->cc.lines - 1], &why) != 0)
                j->cc.malformed++;
            else if (fmatch_flow(w->fm, &fr) != 0)
                w->fm_failed = 1;
        } else {
            dnstap_msg m;
            int rc = dnstap_decode(rec, rlen, &m, &why) != 0 ? ACCORD_EINVAL : fmatch_dnstap(w->fm, &m);
            if (rc == ACCORD_EINVAL)
                j->cc.malformed++;
            else if (rc != 0)
                w->fm_failed = 1;
        }
    }
    if (r < 0)
        j->cc.malformed++;
    if (fmatch_flush(w->fm) != 0)
        w->fm_failed = 1;
    fmatch_stats_get(w->fm, &after);
    j->cc.events = after.events - before.events;
    w->cur = NULL;
    return w->fm_failed || w->leaf_failed ? -1 : 0;
}

/* Publishes w->res as the results of chunk j, part by part: queued without waiting when async
 * (the batch waits for all its acknowledgements at once), else each part until the server has
 * acknowledged it.  0, or -1 (the chunk is given back). */
static int publish_results(worker *w, const job *j, size_t bytes, int async)
{
    char id[300], v[32], part[48], nums[4][32], nb[32];
    size_t starts[NATS_PARTS_MAX + 1], nparts = 0, at = 0;
    const char *names[4] = {"Accord-Lines", "Accord-Events", "Accord-Matches",
                            "Accord-Malformed"};
    uint64_t vals[4] = {j->cc.lines, j->cc.events, j->cc.matches, j->cc.malformed};
    double touched = nats_mono();
    /* parts end at line ends */
    do {
        size_t end = at + RESULT_PART_MAX < w->res.len ? at + RESULT_PART_MAX : w->res.len;
        if (end < w->res.len) {
            const char *nl = memrchr(w->res.p + at, '\n', end - at);
            end = nl ? (size_t)(nl - w->res.p) + 1 : end;
        }
        if (nparts == NATS_PARTS_MAX)
            return -1;
        starts[nparts++] = at;
        at = end;
    } while (at < w->res.len);
    starts[nparts] = w->res.len;
    snprintf(v, sizeof v, "%" PRIu64, w->version);
    snprintf(nb, sizeof nb, "%zu", bytes);
    for (int k = 0; k < 4; k++)
        snprintf(nums[k], sizeof nums[k], "%" PRIu64, vals[k]);
    for (size_t i = 0; i < nparts; i++) {
        int tries = 0;
        snprintf(id, sizeof id, "%s@%" PRIu64 "#%zu", j->id, w->version, i + 1);
        snprintf(part, sizeof part, "%zu/%zu", i + 1, nparts);
        for (;;) {
            natsMsg *m = NULL;
            jsPubAck *pa = NULL;
            jsPubOptions po;
            jsErrCode jerr = 0;
            natsStatus s = natsMsg_Create(&m, w->nm.res_subj, async ? nats_puller_ack_to(w->pl) : NULL,
                                          w->res.p ? w->res.p + starts[i] : "",
                                          (int)(starts[i + 1] - starts[i]));
            s = s ? s : natsMsgHeader_Set(m, "Accord-Chunk", j->id);
            s = s ? s : natsMsgHeader_Set(m, "Accord-Snapshot", v);
            s = s ? s : natsMsgHeader_Set(m, "Accord-Part", part);
            s = s ? s : natsMsgHeader_Set(m, "Accord-Input", j->input);
            s = s ? s : natsMsgHeader_Set(m, "Accord-Bytes", nb);
            for (int k = 0; k < 4 && s == NATS_OK; k++)
                s = natsMsgHeader_Set(m, names[k], nums[k]);
            jsPubOptions_Init(&po);
            po.MsgId = id;
            po.MaxWait = 2000;
            if (s == NATS_OK && async) {
                /* on the chunks' connection, its acknowledgement read in this thread */
                int rc = natsMsgHeader_Set(m, "Nats-Msg-Id", id) == NATS_OK
                             ? nats_puller_publish(w->pl, m)
                             : -1;
                nats_puller_discard(w->pl, m);
                if (rc != 0)
                    return -1; /* the batch publishes this chunk again, waiting */
                break;
            }
            if (s == NATS_OK)
                s = js_PublishMsg(&pa, w->l.js, m, &po, &jerr);
            natsMsg_Destroy(m);
            jsPubAck_Destroy(pa);
            if (s == NATS_OK)
                break;
            if (++tries > 40 || nats_stop) {
                nats_fail(w->cmd, id, s, jerr);
                return -1;
            }
            /* the server is away or the results stream is full: keep the chunk ours */
            if (nats_mono() - touched > w->ack_wait_s / 4) {
                in_progress(w, j->msg);
                touched = nats_mono();
            }
            nats_Sleep(250);
        }
    }
    return 0;
}

/* The place of dead-lettered chunk msg in its source, for the collector: an empty result
 * marked Accord-Dead (the reason), under the msg id its results would have had.  The collector
 * records the gap and goes on combining the source's later chunks instead of waiting for this
 * one.  Nothing for a chunk whose id or header length cannot be read: it has no place. */
static void dead_result(worker *w, natsMsg *msg, const char *why)
{
    const char *id = NULL, *hs = NULL, *inp = NULL, *bad = NULL;
    char mid[300], v[32], nb[32];
    nats_chunk_id cid;
    uint64_t hl = 0;
    size_t len = (size_t)natsMsg_GetDataLength(msg);
    natsMsg *m = NULL;
    jsPubAck *pa = NULL;
    jsPubOptions po;
    jsErrCode jerr = 0;
    natsStatus s;
    const char *zero[] = {"Accord-Lines", "Accord-Events", "Accord-Matches", "Accord-Malformed"};
    if (natsMsgHeader_Get(msg, "Nats-Msg-Id", &id) != NATS_OK ||
        nats_chunk_id_parse(id, strlen(id), &cid, &bad) != 0 ||
        natsMsgHeader_Get(msg, "Accord-Header-Len", &hs) != NATS_OK ||
        nats_u64_parse(hs, strlen(hs), &hl) != 0 || hl > len)
        return;
    if (natsMsgHeader_Get(msg, "Accord-Input", &inp) != NATS_OK)
        inp = "";
    snprintf(mid, sizeof mid, "%s@%" PRIu64 "#1", id, w->version);
    snprintf(v, sizeof v, "%" PRIu64, w->version);
    snprintf(nb, sizeof nb, "%zu", len - (size_t)hl);
    s = natsMsg_Create(&m, w->nm.res_subj, NULL, "", 0);
    s = s ? s : natsMsgHeader_Set(m, "Accord-Chunk", id);
    s = s ? s : natsMsgHeader_Set(m, "Accord-Snapshot", v);
    s = s ? s : natsMsgHeader_Set(m, "Accord-Part", "1/1");
    s = s ? s : natsMsgHeader_Set(m, "Accord-Input", inp);
    s = s ? s : natsMsgHeader_Set(m, "Accord-Bytes", nb);
    s = s ? s : natsMsgHeader_Set(m, "Accord-Dead", why);
    for (int k = 0; k < 4 && s == NATS_OK; k++)
        s = natsMsgHeader_Set(m, zero[k], "0");
    jsPubOptions_Init(&po);
    po.MsgId = mid;
    if (s == NATS_OK)
        s = js_PublishMsg(&pa, w->l.js, m, &po, &jerr);
    natsMsg_Destroy(m);
    jsPubAck_Destroy(pa);
    if (s != NATS_OK) /* the source's later combinations wait for it, as before */
        nats_fail(w->cmd, mid, s, jerr);
}

/* Moves msg (stream sequence seq) to the dead-letter subject with the reason, then
 * acknowledges it (and waits for the server to confirm). */
static void dead_letter(worker *w, natsMsg *msg, const char *why, uint64_t seq,
                        uint64_t delivered)
{
    const char *subj = w->nm.dlq_subj;
    char id[64], n[32];
    const char *keep[] = {"Nats-Msg-Id", "Accord-Line", "Accord-Input", "Accord-Header-Len"};
    const char *val;
    natsMsg *m = NULL;
    jsPubAck *pa = NULL;
    jsPubOptions po;
    jsErrCode jerr = 0;
    natsMsg *r = NULL;
    natsStatus s;
    snprintf(id, sizeof id, "dlq:%" PRIu64, seq);
    snprintf(n, sizeof n, "%" PRIu64, delivered);
    s = natsMsg_Create(&m, subj, NULL, natsMsg_GetData(msg), natsMsg_GetDataLength(msg));
    s = s ? s : natsMsgHeader_Set(m, "Accord-Error", why);
    s = s ? s : natsMsgHeader_Set(m, "Accord-Subject", natsMsg_GetSubject(msg));
    s = s ? s : natsMsgHeader_Set(m, "Accord-Delivered", n);
    for (int k = 0; k < 4 && s == NATS_OK; k++)
        if (natsMsgHeader_Get(msg, keep[k], &val) == NATS_OK)
            s = natsMsgHeader_Set(m, k == 0 ? "Accord-Chunk" : keep[k], val);
    jsPubOptions_Init(&po);
    po.MsgId = id;
    if (s == NATS_OK)
        s = js_PublishMsg(&pa, w->l.js, m, &po, &jerr);
    natsMsg_Destroy(m);
    jsPubAck_Destroy(pa);
    if (s != NATS_OK) { /* kept in the queue: delivered again once the server takes it */
        nats_fail(w->cmd, subj, s, jerr);
        nak_later(w, msg);
        return;
    }
    fprintf(stderr, "accord worker: %s (stream seq %" PRIu64 ") to %s after %" PRIu64
                    " deliveries: %s\n",
            natsMsg_GetSubject(msg), seq, subj, delivered, why);
    w->dead++;
    dead_result(w, msg, why);
    /* the server answers an acknowledgement that has a reply subject */
    if (natsMsg_GetReply(msg) &&
        natsConnection_RequestString(&r, w->l.nc, natsMsg_GetReply(msg), "+ACK", 5000) == NATS_OK)
        natsMsg_Destroy(r);
}

/* Reads the headers of chunk msg into j: 0 when it is to be matched, 1 when it was refused or
 * dead-lettered here. */
static int job_check(worker *w, natsMsg *msg, job *j)
{
    jsMsgMetaData *meta = NULL;
    uint64_t delivered = 1, seq = 0;
    const char *ls = NULL, *hs = NULL, *kind = NULL, *why = NULL;
    nats_chunk_id cid;
    memset(j, 0, sizeof *j);
    j->msg = msg;
    j->len = (size_t)natsMsg_GetDataLength(msg);
    if (natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
        delivered = meta->NumDelivered;
        seq = meta->Sequence.Stream;
        jsMsgMetaData_Destroy(meta);
    }
    w->redelivered += delivered > 1;
    if (natsMsgHeader_Get(msg, "Nats-Msg-Id", &j->id) != NATS_OK)
        why = "no Nats-Msg-Id (chunk id)";
    else if (nats_chunk_id_parse(j->id, strlen(j->id), &cid, &why) != 0)
        ;
    else if (natsMsgHeader_Get(msg, "Accord-Line", &ls) != NATS_OK ||
             nats_u64_parse(ls, strlen(ls), &j->line) != 0 || j->line == 0)
        why = "Accord-Line is not a line number";
    else if (natsMsgHeader_Get(msg, "Accord-Header-Len", &hs) != NATS_OK ||
             nats_u64_parse(hs, strlen(hs), &j->hdr_len) != 0 || j->hdr_len > j->len)
        why = "Accord-Header-Len is not a length within the payload";
    else if (natsMsgHeader_Get(msg, "Accord-Input", &j->input) != NATS_OK)
        why = "no Accord-Input";
    else if (natsMsgHeader_Get(msg, "Accord-Kind", &kind) == NATS_OK &&
             (j->kind = strcmp(kind, "flow") == 0     ? RECS_FLOW
                        : strcmp(kind, "dnstap") == 0 ? RECS_DNSTAP
                                                      : -1) < 0)
        why = "Accord-Kind is neither flow nor dnstap";
    if (why) {
        w->refused++;
        if (delivered >= (uint64_t)w->max_deliver) {
            dead_letter(w, msg, why, seq, delivered);
        } else {
            fprintf(stderr, "accord worker: %s (stream seq %" PRIu64 "): %s; refused\n",
                    natsMsg_GetSubject(msg), seq, why);
            nak_later(w, msg);
        }
        return 1;
    }
    if (delivered >= (uint64_t)w->max_deliver && delivered > 1) {
        /* the earlier deliveries neither finished nor refused it: it may be what kills them */
        dead_letter(w, msg, "not finished by its earlier deliveries", seq, delivered);
        return 1;
    }
    return 0;
}

/* Matches chunk j and publishes its results (see publish_results); 0, or -1 when the chunk was
 * given back (nak). */
static int job_run(worker *w, job *j, int async)
{
    const char *data = natsMsg_GetData(j->msg);
    size_t body = j->len - (size_t)j->hdr_len;
    memset(&j->cc, 0, sizeof j->cc);
    if ((j->kind == RECS_LINES ? match_chunk(w, j->msg, j->id, j->input, j->line, data,
                                             (size_t)j->hdr_len, data + j->hdr_len, body, &j->cc)
                               : match_records(w, j, (const uint8_t *)data + j->hdr_len, body)) !=
            0 ||
        publish_results(w, j, body, async) != 0) {
        if (!async) {
            nak_later(w, j->msg);
            j->given_back = 1;
        }
        return -1;
    }
    return 0;
}

/* One fetched batch.  Each chunk is matched and its results queued for publishing; once the
 * server acknowledged every result of the batch, the chunks are acknowledged (without waiting:
 * an acknowledgement lost on the way only means the chunk comes again, and its results with the
 * same ids).  When any result publish failed or timed out, every chunk of the batch is matched
 * and published again, one part at a time until acknowledged: results are idempotent by their
 * msg ids, so the copies that did arrive cost nothing. */
static void run_batch(worker *w, natsMsg **msgs, int count, job *jobs)
{
    double touched = nats_mono();
    int n = 0, again = 0;
    for (int i = 0; i < count; i++) {
        if (nats_stop) /* back to the queue for the others at once */
            reply(w, msgs[i], "-NAK");
        else if (job_check(w, msgs[i], &jobs[n]) == 0)
            n++;
    }
    for (int i = 0; i < n; i++) {
        if (job_run(w, &jobs[i], 1) != 0)
            again = 1;
        if (nats_mono() - touched > w->ack_wait_s / 4) { /* the rest of the batch waits */
            for (int k = i + 1; k < n; k++)
                reply(w, jobs[k].msg, "+WPI");
            nats_puller_flush(w->pl, 0);
            touched = nats_mono();
        }
    }
    if (n && nats_puller_published(w->pl, 5000) != 0)
        again = 1;
    for (int i = 0; again && i < n; i++)
        job_run(w, &jobs[i], 0);
    for (int i = 0; i < n; i++) {
        job *j = &jobs[i];
        if (j->given_back)
            continue;
        reply(w, j->msg, "+ACK");
        w->chunks++;
        w->bytes += j->len - (size_t)j->hdr_len;
        w->lines += j->cc.lines;
        w->events += j->cc.events;
        w->matches += j->cc.matches;
        w->malformed += j->cc.malformed;
    }
}

static double cpu_of(const struct rusage *ru)
{
    return (double)ru->ru_utime.tv_sec + (double)ru->ru_utime.tv_usec / 1e6 +
           (double)ru->ru_stime.tv_sec + (double)ru->ru_stime.tv_usec / 1e6;
}

static int consumer_limits(worker *w)
{
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetConsumerInfo(&ci, w->l.js, w->nm.tel, NATS_CONSUMER_WORKERS, NULL,
                                      &jerr);
    if (s != NATS_OK) {
        char what[300];
        snprintf(what, sizeof what, "consumer %s of %s (run accord nats setup)",
                 NATS_CONSUMER_WORKERS, w->nm.tel);
        nats_fail(w->cmd, what, s, jerr);
        return -1;
    }
    w->ack_wait_s = (double)ci->Config->AckWait / 1e9;
    w->max_deliver = ci->Config->MaxDeliver > 0 ? ci->Config->MaxDeliver : INT64_MAX;
    jsConsumerInfo_Destroy(ci);
    return 0;
}

int cmd_worker(int argc, char **argv)
{
    worker w = {.cmd = "worker", .event_bytes = 512};
    nats_opts o = {.tenant = "default"};
    double idle = 0, last_work, t0, cpu0, batch_s = 0;
    /* 4 chunks a fetch: fewer reads and wakes per chunk than 1 or 2 (docs/scale-out.md: 4 and
     * 16 cost the same), while a batch still finishes well within the ack wait */
    int batch = 4, rc = 0, k, waiting_noted = 0, drain = 0;
    job *jobs;
    natsMsg **msgs;
    struct rusage ru;
    for (int i = 1; i < argc; i += k) {
        char *end;
        k = nats_opt_arg(&o, argc, argv, i);
        if (k < 0)
            return cli_usage("worker");
        if (k > 0)
            continue;
        if (strcmp(argv[i], "--drain") == 0) {
            drain = k = 1;
            continue;
        }
        k = 2;
        if (i + 1 >= argc)
            return cli_usage("worker");
        if (strcmp(argv[i], "--batch") == 0) {
            long v = strtol(argv[i + 1], &end, 10);
            if (*end || v < 1 || v > 256)
                return cli_usage("worker");
            batch = (int)v;
        } else if (strcmp(argv[i], "--idle") == 0) {
            idle = strtod(argv[i + 1], &end);
            if (*end || !(idle >= 0 && idle < 1e6))
                return cli_usage("worker");
        } else if (strcmp(argv[i], "--event-bytes") == 0) {
            long v = strtol(argv[i + 1], &end, 10);
            if (*end || v < 0 || v > (64 << 10))
                return cli_usage("worker");
            w.event_bytes = (size_t)v;
        } else if (strcmp(argv[i], "--now") == 0) {
            int64_t us;
            if (accord_timestamp_parse(argv[i + 1], &us) != 0)
                return cli_usage("worker");
            w.now_s = us / 1000000;
        } else {
            return cli_usage("worker");
        }
    }
    buf_init(&w.res, (size_t)NATS_PARTS_MAX * RESULT_PART_MAX);
    jobs = calloc((size_t)batch, sizeof *jobs);
    msgs = calloc((size_t)batch, sizeof *msgs);
    if (!jobs || !msgs) {
        cli_error(w.cmd, "out of memory");
        buf_free(&w.res);
        free(jobs);
        free(msgs);
        return EXIT_FAIL;
    }
    /* the client allocates every chunk (up to 1 MiB) it receives: from the heap, reused, rather
     * than a fresh mapping whose pages the kernel clears for each chunk */
    mallopt(M_MMAP_THRESHOLD, 8 << 20);
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
    nats_names_of(o.tenant, &w.nm);
    nats_signals();
    if (nats_link_open(w.cmd, &o, 1, &w.l) != 0) {
        buf_free(&w.res);
        free(jobs);
        free(msgs);
        return EXIT_FAIL;
    }
    if (consumer_limits(&w) != 0 ||
        nats_puller_open(w.cmd, &o, w.nm.tel, NATS_CONSUMER_WORKERS, &w.pl) != 0)
        rc = -1;
    /* no chunk is taken before there is a snapshot to match it with */
    while (rc == 0 && !nats_stop && snapshot_refresh(&w) != 0) {
        if (!waiting_noted++)
            fprintf(stderr, "accord worker: waiting for a snapshot (accord nats snapshot)\n");
        nats_Sleep(250);
    }
    t0 = last_work = nats_mono();
    getrusage(RUSAGE_SELF, &ru);
    cpu0 = cpu_of(&ru); /* starting, connecting and the first snapshot: once per process */
    while (rc == 0 && !nats_stop) {
        int count = 0;
        /* not while the server is away: the pointer's read would wait its whole timeout (5 s)
         * each time, and a SIGTERM meanwhile with it */
        if (nats_mono() - w.last_check >= 1.0 &&
            natsConnection_Status(w.l.nc) == NATS_CONN_STATUS_CONNECTED)
            snapshot_refresh(&w);
        if (nats_puller_fetch(w.pl, msgs, batch, 500, &count) == 0) {
            /* a full batch: the queue has more, so the next batch is asked for now and waits
             * in the socket while this one is matched (no wait for it, one read for most of
             * it, few chunks split over two reads and copied twice) */
            double b0 = nats_mono();
            /* not when a batch takes long (a heavy snapshot): the next one's ack wait runs
             * from its delivery, and it would wait out this one first */
            if (count == batch && !nats_stop && batch_s < w.ack_wait_s / 8)
                nats_puller_request(w.pl, batch, 500);
            run_batch(&w, msgs, count, jobs);
            batch_s = nats_mono() - b0;
            if (count)
                last_work = nats_mono();
            /* --drain: the queue empty and no chunk in flight anywhere (acknowledgements of
             * this worker's last batch went with the request that came back empty) */
            else if (drain && nats_consumer_done(&w.l, w.nm.tel, NATS_CONSUMER_WORKERS) == 1)
                break;
            for (int i = 0; i < count; i++)
                nats_puller_discard(w.pl, msgs[i]);
        } else {
            nats_Sleep(200); /* the server is away: the connection comes back by itself */
        }
        if (idle > 0 && nats_mono() - last_work > idle)
            break;
    }
    /* what the batch asked for ahead brought: to the others now, not after the ack wait */
    if (w.pl)
        nats_puller_give_back(w.pl, 1000);
    getrusage(RUSAGE_SELF, &ru);
    {
        double cpu = cpu_of(&ru);
        double secs = nats_mono() - t0;
        fprintf(stderr,
                "accord worker: %" PRIu64 " chunks, %" PRIu64 " lines, %" PRIu64 " events, %.1f MB, %" PRIu64
                " matches, %" PRIu64 " malformed, %" PRIu64 " redelivered, %" PRIu64
                " refused, %" PRIu64 " dead-lettered, %" PRIu64
                " snapshot swaps; %.2f s, CPU %.3f s (%.2f s/GB); %" PRIu64
                " socket reads, %ld voluntary and %ld involuntary context switches; CPU %.3f s"
                " after the first snapshot\n",
                w.chunks, w.lines, w.events, (double)w.bytes / 1e6, w.matches, w.malformed,
                w.redelivered, w.refused, w.dead, w.swaps, secs, cpu,
                w.bytes ? cpu / ((double)w.bytes / 1e9) : 0.0, nats_puller_reads(w.pl),
                ru.ru_nvcsw, ru.ru_nivcsw, cpu - cpu0);
    }
    nats_puller_close(w.pl); /* after the last acknowledgements */
    free(jobs);
    free(msgs);
    free(w.exps);
    free(w.sent);
    fmatch_free(w.fm);
    accord_matcher_free(w.m);
    accord_snapshot_unref(w.snap);
    nats_link_close(&w.l);
    buf_free(&w.res);
    nats_Close();
    return rc ? EXIT_FAIL : EXIT_OK;
}
