/*
 * flow_match.c - flow records and dnstap messages as events of typed values, matched in batches
 * (see flow_match.h for which values and fields).
 *
 * A batch holds up to FM_BATCH sources (records or messages, copied: the caller's buffers may
 * change once a call returns) and the events made of them; event i names its source in
 * ev_src[i], so a match (line = event number) finds the record to describe.  Text of domain
 * names lives in an arena of the batch.  Nothing is formatted unless it matched: the event text
 * is written when a match is reported, which is rare next to records.  Likewise no address is
 * formatted unless it may match: a flow record none of whose addresses (and ports) the
 * snapshot's tables hold never reaches the matcher (which writes every value it gets as text),
 * unless a pattern-engine indicator may want it: one that needs one of its addresses, or any
 * address or network-traffic object at all (then every record goes, whole).  A dnstap answer is
 * left out likewise when no pattern-engine comparison names an address type.
 */
#include "flow_match.h"
#include "match.h" /* the snapshot's address tables, for the prefilter */

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FM_BATCH 512
#define FM_VALUES 16 /* values of one dnstap message */
#define FM_NAMES (FM_BATCH * 4 * DNS_NAME_MAX)
#define TEXT_CAP 2048

enum { SRC_FLOW = 1, SRC_DNSTAP };

typedef struct fsrc {
    int kind;
    int deferred; /* a flow record whose events are made at the flush, if it may match */
    flow_rec r;
    flow_exporter exp;
    /* dnstap */
    uint32_t dtype, protocol, client_port;
    uint8_t client_family, client[16];
    uint16_t qtype;
    int64_t time_us;
    uint32_t qname_off, qname_len; /* in names */
    char identity[64];
    size_t identity_len, dns_len;
} fsrc;

struct fmatch {
    accord_matcher *m;
    accord_snapshot *snap;
    int lean; /* no pattern-engine indicators: events carry no time (see use_snapshot) */
    int ports; /* network-traffic keys: events carry their ports, and the prefilter looks */
    int unfiltered;   /* fmatch_unfiltered */
    int lean_answers; /* dnstap answers no table holds are left out of their event */
    int prefilter; /* records that no table holds and no pattern-engine indicator can want are
                      dropped before the matcher (see use_snapshot) */
    int64_t now_s;
    fmatch_cb cb;
    void *ud;
    fmatch_current_cb cur;
    void *cur_ud;
    fmatch_leaf_cb leaf_cb; /* fmatch_leaf_hits */
    void *leaf_ud;
    fsrc *src;
    size_t nsrc;
    accord_value_event *ev;
    uint32_t *ev_src;
    size_t nev;
    accord_value *vals;
    size_t nvals;
    char *names;
    size_t names_len;
    fmatch_stats st;
    char text[TEXT_CAP];
    char time[32];
};

static void on_leaf(void *ud, const mleaf_hit *h);

/* Matches the following batches against snap (a reference taken over); the batch is empty.
 * The partial matches of indicators that did not change go on (a FOLLOWEDBY half seen before a
 * reload completes after it).  Out of memory keeps the matcher it has. */
static int use_snapshot(fmatch *f, accord_snapshot *snap)
{
    accord_matcher *m;
    accord_snapshot_stats st;
    if (accord_matcher_new(snap, &m) != 0) {
        accord_snapshot_unref(snap);
        return ACCORD_ENOMEM;
    }
    if ((f->leaf_cb && mmatcher_leaf_hits(m, on_leaf, f) != 0) ||
        (f->m && accord_matcher_carry(m, f->m) < 0)) {
        accord_matcher_free(m);
        accord_snapshot_unref(snap);
        return ACCORD_ENOMEM;
    }
    accord_matcher_free(f->m);
    accord_snapshot_unref(f->snap);
    f->m = m;
    f->snap = snap;
    /* Times and ports matter to the matcher only as the observation the pattern engine sees;
     * the tables match values alone.  Without pattern-engine indicators they are left out (the
     * matcher would format each as text) and a match's time is written here, for matches only. */
    accord_snapshot_stats_get(snap, &st);
    f->lean = st.complex == 0;
    f->ports = st.ports > 0;
    /* a record makes ipv4-addr / ipv6-addr and network-traffic objects: when no pattern-engine
     * leaf is met by any such object, only the addresses it names can interest the engine */
    f->prefilter = !(snap->cfilter.types & (MCT_IPV4 | MCT_IPV6 | MCT_TRAFFIC));
    /* an answer address is left out of its message's event unless something may want it: no
     * comparison of any pattern-engine leaf names an address type (nor network-traffic) */
    f->lean_answers = !(snap->cfilter.all_types & (MCT_IPV4 | MCT_IPV6 | MCT_TRAFFIC));
    if (f->unfiltered) {
        f->prefilter = f->lean_answers = 0;
        mmatcher_unfiltered(f->m, 1);
    }
    return 0;
}

int fmatch_new(accord_snapshot *snap, int64_t now_s, fmatch_cb cb, void *ud, fmatch **out)
{
    fmatch *f = calloc(1, sizeof *f);
    *out = NULL;
    if (!f)
        return ACCORD_ENOMEM;
    f->now_s = now_s;
    f->cb = cb;
    f->ud = ud;
    f->src = malloc(FM_BATCH * sizeof *f->src);
    f->ev = malloc(2 * FM_BATCH * sizeof *f->ev);
    f->ev_src = malloc(2 * FM_BATCH * sizeof *f->ev_src);
    f->vals = malloc(FM_BATCH * FM_VALUES * sizeof *f->vals);
    f->names = malloc(FM_NAMES);
    if (!f->src || !f->ev || !f->ev_src || !f->vals || !f->names ||
        use_snapshot(f, accord_snapshot_ref(snap)) != 0) {
        fmatch_free(f);
        return ACCORD_ENOMEM;
    }
    *out = f;
    return 0;
}

void fmatch_set_source(fmatch *f, fmatch_current_cb cur, void *ud)
{
    f->cur = cur;
    f->cur_ud = ud;
}

accord_snapshot *fmatch_snapshot(const fmatch *f)
{
    return f->snap;
}

void fmatch_unfiltered(fmatch *f)
{
    f->unfiltered = 1;
    f->prefilter = f->lean_answers = 0;
    mmatcher_unfiltered(f->m, 1);
}

void fmatch_free(fmatch *f)
{
    if (!f)
        return;
    accord_matcher_free(f->m);
    accord_snapshot_unref(f->snap);
    free(f->src);
    free(f->ev);
    free(f->ev_src);
    free(f->vals);
    free(f->names);
    free(f);
}

void fmatch_stats_get(const fmatch *f, fmatch_stats *out)
{
    *out = f->st;
}

static const char *proto_name(unsigned p)
{
    switch (p) {
    case 1:
        return "icmp";
    case 6:
        return "tcp";
    case 17:
        return "udp";
    case 58:
        return "ipv6-icmp";
    case 132:
        return "sctp";
    default:
        return NULL;
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Event text                                                                                   */

static size_t put(char *out, size_t cap, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static size_t put(char *out, size_t cap, size_t n, const char *fmt, ...)
{
    va_list ap;
    if (n >= cap)
        return n;
    va_start(ap, fmt);
    int k = vsnprintf(out + n, cap - n, fmt, ap);
    va_end(ap);
    return k < 0 ? n : n + (size_t)k;
}

static void addr_text(int family, const uint8_t *a, char *out, size_t cap)
{
    if (!inet_ntop(family == 6 ? AF_INET6 : AF_INET, a, out, (socklen_t)cap))
        snprintf(out, cap, "?");
}

static size_t put_time(char *out, size_t cap, size_t n, const char *key, int64_t ms)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    if (ms <= 0 || !gmtime_r(&s, &tm))
        return n;
    return put(out, cap, n, ",\"%s\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\"", key,
               tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
               (int)(ms % 1000));
}

size_t fmatch_flow_text(const flow_rec *r, char *out, size_t cap)
{
    char a[64], b[64];
    size_t n = 0;
    out[0] = 0;
    n = put(out, cap, n, "{\"kind\":\"flow\",\"version\":%u", r->version);
    if (r->exporter) {
        addr_text(r->exporter->family, r->exporter->addr, a, sizeof a);
        n = put(out, cap, n, ",\"exporter\":\"%s\"", a);
    }
    n = put(out, cap, n, ",\"domain\":%u", r->domain);
    if (r->family) {
        addr_text(r->family, r->src, a, sizeof a);
        addr_text(r->family, r->dst, b, sizeof b);
        n = put(out, cap, n, ",\"src\":\"%s\",\"dst\":\"%s\"", a, b);
    }
    if (r->has_ports)
        n = put(out, cap, n, ",\"sport\":%u,\"dport\":%u", r->sport, r->dport);
    n = put(out, cap, n, ",\"proto\":%u,\"bytes\":%llu,\"packets\":%llu", r->proto,
            (unsigned long long)r->bytes, (unsigned long long)r->packets);
    if (r->sampling)
        n = put(out, cap, n, ",\"sampling\":%u", r->sampling);
    n = put_time(out, cap, n, "start", r->start_ms);
    n = put_time(out, cap, n, "end", r->end_ms);
    if (r->nat_family) {
        addr_text(r->nat_family, r->xsrc, a, sizeof a);
        addr_text(r->nat_family, r->xdst, b, sizeof b);
        n = put(out, cap, n, ",\"nat\":{\"src\":\"%s\",\"dst\":\"%s\"", a, b);
        if (r->has_nat_ports)
            n = put(out, cap, n, ",\"sport\":%u,\"dport\":%u", r->xsport, r->xdport);
        if (r->nat_event)
            n = put(out, cap, n, ",\"event\":%u", r->nat_event);
        n = put(out, cap, n, "}");
    }
    n = put(out, cap, n, "}");
    return n < cap ? n : cap - 1;
}

/* JSON string content of s: the names here are printable ASCII without quotes or backslashes
 * (dnstap_dns_walk drops others) but identities come from the wire. */
static size_t put_esc(char *out, size_t cap, size_t n, const char *s, size_t len)
{
    for (size_t i = 0; i < len && n + 7 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
            n = put(out, cap, n, "\\u%04x", c);
        else
            out[n++] = (char)c;
    }
    if (n < cap)
        out[n] = 0;
    return n;
}

static size_t put_time_us(char *out, size_t cap, size_t n, const char *key, int64_t us)
{
    time_t s = (time_t)(us / 1000000);
    struct tm tm;
    if (us <= 0 || !gmtime_r(&s, &tm))
        return n;
    return put(out, cap, n, ",\"%s\":\"%04d-%02d-%02dT%02d:%02d:%02d.%06dZ\"", key,
               tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
               (int)(us % 1000000));
}

static size_t dnstap_text(const char *names, const fsrc *s, char *out, size_t cap)
{
    char a[64], tb[16];
    static const char *protos[] = {"?", "UDP", "TCP", "DOT", "DOH", "DNSCryptUDP", "DNSCryptTCP",
                                   "DOQ"};
    size_t n = put(out, cap, 0, "{\"kind\":\"dnstap\",\"type\":\"%s\",\"identity\":\"",
                   dnstap_type_name(s->dtype));
    n = put_esc(out, cap, n, s->identity, s->identity_len);
    n = put(out, cap, n, "\"");
    if (s->client_family) {
        addr_text(s->client_family, s->client, a, sizeof a);
        n = put(out, cap, n, ",\"client\":\"%s\",\"client_port\":%u", a, s->client_port);
    }
    if (s->protocol < sizeof protos / sizeof *protos)
        n = put(out, cap, n, ",\"protocol\":\"%s\"", protos[s->protocol]);
    if (s->qname_len || s->qtype) {
        n = put(out, cap, n, ",\"qname\":\"");
        n = put_esc(out, cap, n, names + s->qname_off, s->qname_len);
        n = put(out, cap, n, "\",\"qtype\":\"%s\"", dnstap_dns_type(s->qtype, tb, sizeof tb));
    }
    n = put(out, cap, n, ",\"code\":\"%s\",\"size\":%zu", dnstap_type_code(s->dtype), s->dns_len);
    n = put_time_us(out, cap, n, "time", s->time_us);
    n = put(out, cap, n, "}");
    return n < cap ? n : cap - 1;
}

/* The time of a record: its end, else its start, else its message's export time. */
static int64_t flow_time_ms(const flow_rec *r)
{
    return r->end_ms ? r->end_ms : r->start_ms ? r->start_ms : r->export_s * 1000;
}

/*
 * Whether address a can match any address or CIDR indicator (the lookups the matcher would do,
 * minus validity).  With no pattern-engine indicator, a record none of whose addresses can match
 * never reaches the matcher: nearly all records, at the cost of one table probe per address.
 */
static int may_match(const fmatch *f, int family, const uint8_t *a)
{
    uint32_t ref;
    if (f->snap->cfilter.keys.n && u64map_get(&f->snap->cfilter.keys, mcf_addr_key(family, a), NULL))
        return 1;
    if (family == 4)
        return mip_lookup4(&f->snap->ip,
                           (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3],
                           &ref, 1) > 0;
    return mip_lookup6(&f->snap->ip, a, &ref, 1) > 0;
}

/* Whether a side (address, port or -1) can meet a network-traffic key. */
static int side_may_match(const fmatch *f, int side, int family, const uint8_t *a, long port)
{
    uint32_t ref;
    uint8_t shape;
    return f->ports && mport_lookup(&f->snap->port, side, family, a, port, &ref, &shape, 1) > 0;
}

static int flow_may_match(const fmatch *f, const flow_rec *r)
{
    long sp = r->has_ports ? r->sport : -1, dp = r->has_ports ? r->dport : -1;
    long xsp = r->has_nat_ports ? r->xsport : -1, xdp = r->has_nat_ports ? r->xdport : -1;
    return (r->family && (may_match(f, r->family, r->src) || may_match(f, r->family, r->dst) ||
                          side_may_match(f, MPORT_SRC, r->family, r->src, sp) ||
                          side_may_match(f, MPORT_DST, r->family, r->dst, dp))) ||
           (r->nat_family &&
            (may_match(f, r->nat_family, r->xsrc) || may_match(f, r->nat_family, r->xdst) ||
             side_may_match(f, MPORT_SRC, r->nat_family, r->xsrc, xsp) ||
             side_may_match(f, MPORT_DST, r->nat_family, r->xdst, xdp)));
}

static void flow_events(fmatch *f, size_t i);

/* ------------------------------------------------------------------------------------------ */
/* Batches                                                                                      */

int fmatch_flush(fmatch *f)
{
    long rc = 0;
    accord_match mt;
    for (size_t i = 0; i < f->nsrc; i++) {
        if (f->src[i].kind != SRC_FLOW || !f->src[i].deferred)
            continue;
        if (flow_may_match(f, &f->src[i].r))
            flow_events(f, i);
        else
            f->st.events += (f->src[i].r.family != 0) + (f->src[i].r.nat_family != 0);
    }
    if (f->nev)
        rc = accord_matcher_match_values(f->m, f->ev, f->nev, f->now_s);
    f->st.events += f->nev;
    while (f->nev && accord_matcher_next(f->m, &mt) == 1) {
        const fsrc *s = &f->src[f->ev_src[mt.line - 1]];
        size_t n = s->kind == SRC_FLOW ? fmatch_flow_text(&s->r, f->text, sizeof f->text)
                                       : dnstap_text(f->names, s, f->text, sizeof f->text);
        mt.event = f->text;
        mt.event_len = n;
        if (s->kind == SRC_FLOW) { /* for sightings */
            mt.bytes = s->r.bytes;
            mt.packets = s->r.packets;
            mt.sampling = s->r.sampling;
        }
        if (f->lean) {
            int64_t us = s->kind == SRC_FLOW ? flow_time_ms(&s->r) * 1000 : s->time_us;
            int k = us > 0 ? snprintf(f->time, sizeof f->time, "%lld.%06lld",
                                      (long long)(us / 1000000), (long long)(us % 1000000))
                           : 0;
            mt.time = k > 0 ? f->time : NULL;
            mt.time_len = k > 0 ? (size_t)k : 0;
            mt.time_is_string = 0;
        }
        f->st.matches++;
        if (f->cb)
            f->cb(f->ud, &mt);
    }
    f->nsrc = f->nev = f->nvals = f->names_len = 0;
    if (fmatch_refresh(f) != 0 && rc == 0)
        rc = ACCORD_ENOMEM;
    return rc < 0 ? (int)rc : 0;
}

/* A leaf hit of event h->line of the batch being matched: the record's event text. */
static void on_leaf(void *ud, const mleaf_hit *h)
{
    fmatch *f = ud;
    uint32_t i = f->ev_src[h->line - 1];
    const fsrc *s = &f->src[i];
    mleaf_hit x = *h;
    x.event = f->text;
    x.event_len = (uint32_t)(s->kind == SRC_FLOW ? fmatch_flow_text(&s->r, f->text, sizeof f->text)
                                                 : dnstap_text(f->names, s, f->text, sizeof f->text));
    x.line = i + 1;
    f->leaf_cb(f->leaf_ud, &x);
}

int fmatch_leaf_hits(fmatch *f, fmatch_leaf_cb cb, void *ud)
{
    f->leaf_cb = cb;
    f->leaf_ud = ud;
    return mmatcher_leaf_hits(f->m, cb ? on_leaf : NULL, f);
}

int fmatch_refresh(fmatch *f)
{
    if (!f->cur || f->nsrc) /* between batches: the only moment the snapshot may change */
        return 0;
    accord_snapshot *s = f->cur(f->cur_ud, f->snap);
    return s ? use_snapshot(f, s) : 0;
}

static accord_value *val(fmatch *f, int type, int role, const char *field)
{
    accord_value *v = &f->vals[f->nvals++];
    v->type = type;
    v->role = role;
    v->field = field;
    v->port = -1;
    v->text = NULL;
    v->text_len = 0;
    return v;
}

static void addr_val(fmatch *f, int family, const uint8_t *a, int role, int port,
                     const char *field)
{
    if (f->lean && !f->ports)
        port = -1;
    accord_value *v = val(f, family == 6 ? ACCORD_VALUE_IPV6 : ACCORD_VALUE_IPV4, role, field);
    memcpy(v->addr, a, family == 6 ? 16 : 4);
    v->port = port;
}

static void event(fmatch *f, size_t src, size_t first_val, int64_t time_us, const char *proto)
{
    accord_value_event *e = &f->ev[f->nev];
    e->values = &f->vals[first_val];
    e->nvalues = f->nvals - first_val;
    e->time_us = f->lean ? 0 : time_us;
    e->proto = proto;
    f->ev_src[f->nev++] = (uint32_t)src;
}

/* The events of flow record number i of the batch. */
static void flow_events(fmatch *f, size_t i)
{
    const flow_rec *r = &f->src[i].r;
    int64_t ms = flow_time_ms(r);
    const char *proto = proto_name(r->proto);
    size_t v0 = f->nvals;
    if (r->family) {
        addr_val(f, r->family, r->src, ACCORD_ROLE_SRC, r->has_ports ? r->sport : -1, "src");
        addr_val(f, r->family, r->dst, ACCORD_ROLE_DST, r->has_ports ? r->dport : -1, "dst");
        event(f, i, v0, ms * 1000, proto);
    }
    if (r->nat_family) {
        /* the public side: what a complaint names, matched as its own traffic */
        v0 = f->nvals;
        addr_val(f, r->nat_family, r->xsrc, ACCORD_ROLE_SRC, r->has_nat_ports ? r->xsport : -1,
                 "nat.src");
        addr_val(f, r->nat_family, r->xdst, ACCORD_ROLE_DST, r->has_nat_ports ? r->xdport : -1,
                 "nat.dst");
        event(f, i, v0, ms * 1000, proto);
    }
}

static void prefetch(const fmatch *f, int family, const uint8_t *a)
{
    if (family == 4)
        mip_prefetch4(&f->snap->ip, (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 |
                                        (uint32_t)a[2] << 8 | a[3]);
    else if (family == 6)
        mip_prefetch6(&f->snap->ip, a);
}

int fmatch_flow(fmatch *f, const flow_rec *r)
{
    fsrc *s;
    if (f->nsrc == FM_BATCH) {
        int rc = fmatch_flush(f);
        if (rc)
            return rc;
    }
    f->st.records++;
    s = &f->src[f->nsrc++];
    s->kind = SRC_FLOW;
    s->r = *r;
    if (r->exporter) {
        s->exp = *r->exporter;
        s->r.exporter = &s->exp;
    }
    s->deferred = f->prefilter;
    if (!f->prefilter) {
        flow_events(f, f->nsrc - 1);
        return 0;
    }
    /* the prefilter's probes, read at the flush: the lines arrive meanwhile */
    prefetch(f, r->family, r->src);
    prefetch(f, r->family, r->dst);
    if (r->nat_family) {
        prefetch(f, r->nat_family, r->xsrc);
        prefetch(f, r->nat_family, r->xdst);
    }
    return 0;
}

typedef struct dctx {
    fmatch *f;
    fsrc *s;
    int query;
    size_t v0;
} dctx;

/* Copies text into the batch's name arena; NULL when full (the name is then not matched). */
static const char *name_copy(fmatch *f, const char *s, size_t len)
{
    if (FM_NAMES - f->names_len < len + 1)
        return NULL;
    char *p = f->names + f->names_len;
    memcpy(p, s, len);
    p[len] = 0;
    f->names_len += len + 1;
    return p;
}

static void name_val(fmatch *f, const char *s, size_t len, const char *field)
{
    const char *t = name_copy(f, s, len);
    if (!t)
        return;
    accord_value *v = val(f, ACCORD_VALUE_DOMAIN, ACCORD_ROLE_NONE, field);
    v->text = t;
    v->text_len = len;
}

static void on_dns(void *ud, const dns_item *it)
{
    dctx *c = ud;
    fmatch *f = c->f;
    if (f->nvals - c->v0 >= FM_VALUES)
        return;
    switch (it->kind) {
    case DNS_QNAME:
        if (!c->s->qname_len && !c->s->qtype) {
            const char *t = name_copy(f, it->name, it->name_len);
            if (t) {
                c->s->qname_off = (uint32_t)(t - f->names);
                c->s->qname_len = (uint32_t)it->name_len;
                c->s->qtype = it->qtype;
            }
        }
        /* responses repeat the question: matched once, on the query */
        if (c->query && it->name_len)
            name_val(f, it->name, it->name_len, "dns.qname");
        break;
    case DNS_A:
    case DNS_AAAA:
        /* as for flow records: without pattern-engine indicators an answer no table holds is
         * left out, so the matcher never formats it (most answers of most responses) */
        if (!f->lean_answers || may_match(f, it->kind == DNS_A ? 4 : 6, it->addr))
            addr_val(f, it->kind == DNS_A ? 4 : 6, it->addr, ACCORD_ROLE_NONE, -1, "dns.answer");
        break;
    case DNS_CNAME:
        name_val(f, it->target, it->target_len, "dns.cname");
        break;
    case DNS_MX:
        name_val(f, it->target, it->target_len, "dns.mx");
        break;
    default:
        break;
    }
}

/* Fills s from m: all but the question; returns whether m is a query, with its DNS message. */
static int dnstap_src(fsrc *s, const dnstap_msg *m, const uint8_t **dns, size_t *dns_len)
{
    memset(s, 0, sizeof *s);
    s->kind = SRC_DNSTAP;
    s->dtype = m->type;
    s->protocol = m->protocol;
    if (m->query_addr_len == 4 || m->query_addr_len == 16) {
        s->client_family = m->query_addr_len == 4 ? 4 : 6;
        memcpy(s->client, m->query_addr, m->query_addr_len);
        s->client_port = m->query_port;
    }
    s->identity_len = m->identity_len < sizeof s->identity ? m->identity_len : sizeof s->identity;
    if (m->identity)
        memcpy(s->identity, m->identity, s->identity_len);
    int query = dnstap_is_query(m->type);
    *dns = query ? m->query_msg : m->response_msg;
    *dns_len = query ? m->query_msg_len : m->response_msg_len;
    s->dns_len = *dns_len;
    uint64_t sec = query ? m->query_time_sec : m->response_time_sec;
    uint32_t nsec = query ? m->query_time_nsec : m->response_time_nsec;
    /* as for flow records (flow.c, MAX_MS): a time past about the year 5138 is taken as absent, so
     * that microseconds cannot overflow here or in the matcher */
    s->time_us = sec > 100000000000ull ? 0 : (int64_t)sec * 1000000 + nsec / 1000;
    return query;
}

typedef struct qctx {
    fsrc *s;
    char *name;
} qctx;

static void on_question(void *ud, const dns_item *it)
{
    qctx *q = ud;
    if (it->kind == DNS_QNAME && !q->s->qtype && !q->s->qname_len) {
        memcpy(q->name, it->name, it->name_len + 1);
        q->s->qname_len = (uint32_t)it->name_len;
        q->s->qtype = it->qtype;
    }
}

size_t fmatch_dnstap_text(const dnstap_msg *m, char *out, size_t cap)
{
    fsrc s;
    char name[DNS_NAME_MAX] = "";
    const uint8_t *dns;
    size_t dns_len;
    const char *why;
    qctx q = {&s, name};
    dnstap_src(&s, m, &dns, &dns_len);
    if (dns)
        (void)dnstap_dns_walk(dns, dns_len, on_question, &q, &why);
    return dnstap_text(name, &s, out, cap);
}

int fmatch_dnstap(fmatch *f, const dnstap_msg *m)
{
    if (f->nsrc == FM_BATCH || FM_NAMES - f->names_len < FM_VALUES * DNS_NAME_MAX) {
        int rc = fmatch_flush(f);
        if (rc)
            return rc;
    }
    fsrc *s = &f->src[f->nsrc++];
    const uint8_t *dns;
    size_t dns_len;
    int query = dnstap_src(s, m, &dns, &dns_len);
    f->st.records++;
    dctx c = {f, s, query, f->nvals};
    const char *why;
    int rc = 0;
    if (dns && dnstap_dns_walk(dns, dns_len, on_dns, &c, &why) != 0) {
        f->st.dns_malformed++;
        rc = ACCORD_EINVAL;
    }
    if (f->nvals > c.v0)
        event(f, f->nsrc - 1, c.v0, s->time_us,
              s->protocol == 1 ? "udp" : s->protocol == 2 ? "tcp" : NULL);
    return rc;
}
