/*
 * flow.c - the template engine: NetFlow v9 (RFC 3954) and IPFIX (RFC 7011) messages, and NetFlow
 * v5, into flow_rec.
 *
 * State.  A source is one (protocol version, exporter address, observation domain / source id):
 * it owns the next expected sequence number, the sampling learnt from options data and the
 * system init time.  Sources live in an open-addressing table with the whole key compared.  A
 * template is keyed by (source number, template id) in a u64map whose values index `tmpl`;
 * redefinition overwrites the entry in place, withdrawal and expiry clear its `active` flag.
 *
 * Records.  A template is compiled when it arrives: each field the matcher uses gets an action
 * (FA_*); fields of no use (enterprise-specific ones among them) keep FA_SKIP and are stepped
 * over by their length.  When no field is variable-length the record length is fixed and the
 * used fields have fixed offsets, so decoding a record reads only those (`ops`); otherwise the
 * record is walked field by field.  Values shorter than their type's nominal size (reduced-size
 * encoding, RFC 7011 6.2) are read as big-endian integers of their length.
 *
 * Data before its template.  A data set whose template is unknown (or expired) is copied into a
 * FIFO of pending sets, capped in bytes; when the template arrives the waiting sets of that key
 * are decoded.  Overflow drops the oldest, counted.
 *
 * Sequence numbers only feed counters: a gap counts lost records (IPFIX, v5) or packets (v9), a
 * step backwards counts a reordered message.  An IPFIX message that left sets pending cannot say
 * how many records it carried, so the next one resynchronises instead of counting a gap.
 *
 * Bounds.  Every length read from the wire is checked against the bytes of its message before it
 * is used; a set longer than its message or a template field count that lies ends the message
 * with ACCORD_EINVAL (records decoded before the fault have been delivered).
 */
#include "flow.h"
#include "accord.h"
#include "util/u64map.h"

#include <stdlib.h>
#include <string.h>

#define PENDING_DEFAULT (1u << 20)
#define TEMPLATES_DEFAULT 65536
#define TIMEOUT_DEFAULT 1800
#define FIELDS_MAX 512 /* per template: more cannot fit in a 64 KiB set anyway */
#define SAMPLERS 16    /* sampler ids remembered per source */
#define VARLEN 65535

/* What a field feeds. */
enum {
    FA_SKIP = 0,
    FA_BYTES,
    FA_PKTS,
    FA_BYTES_TOTAL,
    FA_PKTS_TOTAL,
    FA_PROTO,
    FA_SPORT,
    FA_DPORT,
    FA_SRC4,
    FA_DST4,
    FA_SRC6,
    FA_DST6,
    FA_XSRC4,
    FA_XDST4,
    FA_XSRC6,
    FA_XDST6,
    FA_XSPORT,
    FA_XDPORT,
    FA_NAT_EVENT,
    FA_START_S,
    FA_END_S,
    FA_START_MS,
    FA_END_MS,
    FA_START_UP, /* sysUpTime milliseconds */
    FA_END_UP,
    FA_START_US, /* NTP timestamps */
    FA_END_US,
    FA_SAMPLING,     /* samplingInterval (34), samplerRandomInterval (50) */
    FA_PKT_INTERVAL, /* samplingPacketInterval (305) */
    FA_PKT_SPACE,    /* samplingPacketSpace (306) */
    FA_SAMPLE_SIZE,  /* samplingSize (309) */
    FA_SAMPLE_POP,   /* samplingPopulation (310) */
    FA_SAMPLER_ID,   /* samplerId (48), selectorId (302) */
    FA_SYS_INIT,     /* systemInitTimeMilliseconds (160) */
};

static uint8_t action_of(uint16_t ie)
{
    switch (ie) {
    case 1:
    case 23:
        return FA_BYTES;
    case 2:
    case 24:
        return FA_PKTS;
    case 85:
        return FA_BYTES_TOTAL;
    case 86:
        return FA_PKTS_TOTAL;
    case 4:
        return FA_PROTO;
    case 7:
        return FA_SPORT;
    case 11:
        return FA_DPORT;
    case 8:
        return FA_SRC4;
    case 12:
        return FA_DST4;
    case 27:
        return FA_SRC6;
    case 28:
        return FA_DST6;
    case 225:
        return FA_XSRC4;
    case 226:
        return FA_XDST4;
    case 281:
        return FA_XSRC6;
    case 282:
        return FA_XDST6;
    case 227:
        return FA_XSPORT;
    case 228:
        return FA_XDPORT;
    case 230:
        return FA_NAT_EVENT;
    case 150:
        return FA_START_S;
    case 151:
        return FA_END_S;
    case 152:
        return FA_START_MS;
    case 153:
        return FA_END_MS;
    case 22:
        return FA_START_UP;
    case 21:
        return FA_END_UP;
    case 154:
    case 156:
        return FA_START_US;
    case 155:
    case 157:
        return FA_END_US;
    case 34:
    case 50:
        return FA_SAMPLING;
    case 305:
        return FA_PKT_INTERVAL;
    case 306:
        return FA_PKT_SPACE;
    case 309:
        return FA_SAMPLE_SIZE;
    case 310:
        return FA_SAMPLE_POP;
    case 48:
    case 302:
        return FA_SAMPLER_ID;
    case 160:
        return FA_SYS_INIT;
    default:
        return FA_SKIP;
    }
}

typedef struct tfield {
    uint16_t len; /* VARLEN for variable-length */
    uint8_t act;
} tfield;

typedef struct top {
    uint16_t off, len;
    uint8_t act;
} top;

typedef struct tmpl {
    uint32_t src;
    uint16_t tid;
    uint8_t active, options;
    int64_t time; /* export time it arrived */
    uint32_t nfields, nops;
    uint32_t fixed_len; /* record length when no field is variable, else 0 */
    uint32_t min_len;   /* smallest possible record */
    tfield *f;
    top *ops;
    size_t cap;
} tmpl;

typedef struct source {
    uint8_t used, version, family;
    uint8_t addr[16];
    uint32_t domain;
    uint32_t next_seq;
    uint8_t have_seq;
    uint32_t sampling;
    int64_t sys_init_ms;
    uint32_t sampler_id[SAMPLERS], sampler_rate[SAMPLERS];
    unsigned nsamplers;
} source;

typedef struct pending {
    struct pending *next;
    uint32_t src;
    uint16_t tid;
    uint8_t version;
    int64_t export_s;
    uint32_t uptime_ms;
    size_t len;
    uint8_t data[];
} pending;

/* What one message's header tells its records. */
typedef struct mctx {
    const flow_exporter *exp;
    uint8_t version;
    uint32_t src;
    int64_t export_s;
    uint32_t uptime_ms; /* v9 */
    flow_rec_cb cb;
    void *ud;
    uint64_t records; /* data records decoded from this message */
    int left_pending; /* some data set waits for its template */
} mctx;

/* A record being decoded, with what options records carry besides. */
typedef struct xrec {
    flow_rec r;
    uint64_t bytes_total, pkts_total;
    uint32_t sampling, pkt_interval, pkt_space, size, population, sampler_id;
    int64_t sys_init_ms, start_up, end_up;
    uint8_t has_bytes, has_pkts, has_sampler, has_up, has4, has6;
    uint8_t a4[8]; /* IPv4 source and destination, until the family is decided */
} xrec;

struct flow_decoder {
    flow_opts o;
    source *src;
    size_t src_cap, nsrc;
    u64map tmap; /* (src << 16 | tid) + 1 -> index into tmpl */
    tmpl *tmpl;
    size_t ntmpl, tmpl_cap;
    pending *pend_head, *pend_tail;
    size_t pend_bytes;
    flow_stats st;
    const char *err;
    size_t err_off;
};

static inline uint32_t rd16(const uint8_t *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}
static inline uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
/* A big-endian unsigned integer of 1..8 bytes (reduced-size encoding); longer: the last 8. */
static inline uint64_t rdn(const uint8_t *p, unsigned len)
{
    uint64_t v = 0;
    if (len > 8) {
        p += len - 8;
        len = 8;
    }
    for (unsigned i = 0; i < len; i++)
        v = v << 8 | p[i];
    return v;
}

int flow_decoder_new(const flow_opts *opts, flow_decoder **out)
{
    flow_decoder *d = calloc(1, sizeof *d);
    *out = NULL;
    if (!d)
        return ACCORD_ENOMEM;
    if (opts)
        d->o = *opts;
    if (!d->o.template_timeout)
        d->o.template_timeout = TIMEOUT_DEFAULT;
    if (!d->o.pending_max_bytes)
        d->o.pending_max_bytes = PENDING_DEFAULT;
    if (!d->o.max_templates)
        d->o.max_templates = TEMPLATES_DEFAULT;
    u64map_init(&d->tmap);
    *out = d;
    return 0;
}

void flow_decoder_free(flow_decoder *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->ntmpl; i++) {
        free(d->tmpl[i].f);
        free(d->tmpl[i].ops);
    }
    free(d->tmpl);
    for (pending *p = d->pend_head, *n; p; p = n) {
        n = p->next;
        free(p);
    }
    u64map_free(&d->tmap);
    free(d->src);
    free(d);
}

const char *flow_decoder_error(const flow_decoder *d, size_t *offset)
{
    if (offset)
        *offset = d->err_off;
    return d->err ? d->err : "";
}

void flow_decoder_stats(const flow_decoder *d, flow_stats *out)
{
    *out = d->st;
}

static int fail(flow_decoder *d, const char *why, size_t off)
{
    d->err = why;
    d->err_off = off;
    return ACCORD_EINVAL;
}

/* ------------------------------------------------------------------------------------------ */
/* Sources                                                                                      */

static uint64_t source_hash(uint8_t version, const flow_exporter *e, uint32_t domain)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ version ^ (uint64_t)domain << 8;
    for (int i = 0; i < 16; i += 8) {
        uint64_t w;
        memcpy(&w, e->addr + i, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    return h;
}

static int source_is(const source *s, uint8_t version, const flow_exporter *e, uint32_t domain)
{
    return s->version == version && s->domain == domain && s->family == e->family &&
           memcmp(s->addr, e->addr, 16) == 0;
}

static size_t source_slot(const flow_decoder *d, uint8_t version, const flow_exporter *e,
                          uint32_t domain)
{
    size_t i = source_hash(version, e, domain) & (d->src_cap - 1);
    while (d->src[i].used && !source_is(&d->src[i], version, e, domain))
        i = (i + 1) & (d->src_cap - 1);
    return i;
}

static int source_grow(flow_decoder *d)
{
    size_t old_cap = d->src_cap, cap = old_cap ? old_cap * 2 : 16;
    source *old = d->src, *n = calloc(cap, sizeof *n);
    if (!n)
        return ACCORD_ENOMEM;
    /* A source's number is its slot, and template keys and pending sets hold it: growing
     * re-inserts every source and re-keys what refers to it. */
    d->src = n;
    d->src_cap = cap;
    u64map nm;
    u64map_init(&nm);
    uint32_t *remap = old_cap ? malloc(old_cap * sizeof *remap) : NULL;
    if (old_cap && !remap)
        goto nomem;
    for (size_t i = 0; i < old_cap; i++) {
        if (!old[i].used)
            continue;
        flow_exporter e = {.family = old[i].family};
        memcpy(e.addr, old[i].addr, 16);
        size_t j = source_slot(d, old[i].version, &e, old[i].domain);
        n[j] = old[i];
        remap[i] = (uint32_t)j;
    }
    for (size_t t = 0; t < d->ntmpl; t++) {
        tmpl *tp = &d->tmpl[t];
        tp->src = remap[tp->src];
        if (u64map_put(&nm, ((uint64_t)tp->src << 16 | tp->tid) + 1, t))
            goto nomem;
    }
    for (pending *p = d->pend_head; p; p = p->next)
        p->src = remap[p->src];
    u64map_free(&d->tmap);
    d->tmap = nm;
    free(remap);
    free(old);
    return 0;
nomem:
    free(remap);
    u64map_free(&nm);
    free(n);
    d->src = old;
    d->src_cap = old_cap;
    return ACCORD_ENOMEM;
}

/* The source number of (version, exporter, domain), made when new; -1 on ENOMEM. */
static long source_get(flow_decoder *d, uint8_t version, const flow_exporter *e, uint32_t domain)
{
    if (d->src_cap) {
        size_t i = source_slot(d, version, e, domain);
        if (d->src[i].used)
            return (long)i;
    }
    if ((d->nsrc + 1) * 2 > d->src_cap && source_grow(d))
        return -1;
    size_t i = source_slot(d, version, e, domain);
    source *s = &d->src[i];
    memset(s, 0, sizeof *s);
    s->used = 1;
    s->version = version;
    s->family = e->family;
    memcpy(s->addr, e->addr, 16);
    s->domain = domain;
    d->nsrc++;
    d->st.exporters++;
    return (long)i;
}

uint32_t flow_decoder_sampling(const flow_decoder *d, const flow_exporter *exp, uint32_t domain)
{
    static const uint8_t versions[] = {10, 9, 5};
    if (!d->src_cap)
        return 0;
    for (int v = 0; v < 3; v++) {
        size_t i = source_slot(d, versions[v], exp, domain);
        if (d->src[i].used && d->src[i].sampling)
            return d->src[i].sampling;
    }
    return 0;
}

static void source_seq(flow_decoder *d, source *s, uint32_t seq)
{
    if (s->have_seq) {
        uint32_t gap = seq - s->next_seq;
        if (gap && gap < 0x80000000u)
            d->st.seq_lost += gap;
        else if (gap) {
            d->st.seq_reordered++;
            return;
        }
    }
    s->next_seq = seq;
    s->have_seq = 1;
}

static void source_sampler(source *s, uint32_t id, uint32_t rate)
{
    for (unsigned i = 0; i < s->nsamplers; i++)
        if (s->sampler_id[i] == id) {
            s->sampler_rate[i] = rate;
            return;
        }
    unsigned i = s->nsamplers < SAMPLERS ? s->nsamplers++ : id % SAMPLERS;
    s->sampler_id[i] = id;
    s->sampler_rate[i] = rate;
}

/* ------------------------------------------------------------------------------------------ */
/* Records                                                                                      */

/* Times beyond MAX_MS (about the year 5138) are taken as absent: arithmetic on them, here and
 * by the matcher (microseconds), must not overflow. */
#define MAX_MS 100000000000000ll

static int64_t ms_of(uint64_t v)
{
    return v > (uint64_t)MAX_MS ? 0 : (int64_t)v;
}

static int64_t ms_of_s(uint64_t v)
{
    return v > (uint64_t)(MAX_MS / 1000) ? 0 : (int64_t)v * 1000;
}

/*
 * The time of sysUpTime reading `at` in a message exported at export_ms, when the counter read
 * `now`.  The counter is 32 bits of milliseconds and wraps every 49.7 days; a flow lies before its
 * export, so the distance back is (now - at) modulo 2^32, taken as signed (a router up for longer
 * has flows that began before its counter wrapped; one that reads a few ms past `now` is jitter).
 */
static int64_t uptime_ms_at(int64_t export_ms, uint32_t now, uint32_t at)
{
    return export_ms - (int32_t)(now - at);
}

static void ntp_ms(const uint8_t *v, int64_t *out)
{
    uint64_t sec = rd32(v), frac = rd32(v + 4);
    *out = ((int64_t)sec - 2208988800ll) * 1000 + (int64_t)((frac * 1000) >> 32);
}

static void put(xrec *x, uint8_t act, const uint8_t *v, unsigned len)
{
    flow_rec *r = &x->r;
    switch (act) {
    case FA_BYTES:
        r->bytes = rdn(v, len);
        x->has_bytes = 1;
        break;
    case FA_PKTS:
        r->packets = rdn(v, len);
        x->has_pkts = 1;
        break;
    case FA_BYTES_TOTAL:
        x->bytes_total = rdn(v, len);
        break;
    case FA_PKTS_TOTAL:
        x->pkts_total = rdn(v, len);
        break;
    case FA_PROTO:
        r->proto = (uint8_t)rdn(v, len);
        break;
    case FA_SPORT:
        r->sport = (uint16_t)rdn(v, len);
        r->has_ports = 1;
        break;
    case FA_DPORT:
        r->dport = (uint16_t)rdn(v, len);
        r->has_ports = 1;
        break;
    case FA_SRC4:
    case FA_DST4:
        if (len == 4) {
            memcpy(act == FA_SRC4 ? x->a4 : x->a4 + 4, v, 4);
            x->has4 = 1;
        }
        break;
    case FA_SRC6:
    case FA_DST6:
        if (len == 16) {
            memcpy(act == FA_SRC6 ? r->src : r->dst, v, 16);
            x->has6 = 1;
        }
        break;
    case FA_XSRC4:
    case FA_XDST4:
        if (len == 4 && r->nat_family != 6) {
            memcpy(act == FA_XSRC4 ? r->xsrc : r->xdst, v, 4);
            r->nat_family = 4;
        }
        break;
    case FA_XSRC6:
    case FA_XDST6:
        if (len == 16 && r->nat_family != 4) {
            memcpy(act == FA_XSRC6 ? r->xsrc : r->xdst, v, 16);
            r->nat_family = 6;
        }
        break;
    case FA_XSPORT:
        r->xsport = (uint16_t)rdn(v, len);
        r->has_nat_ports = 1;
        break;
    case FA_XDPORT:
        r->xdport = (uint16_t)rdn(v, len);
        r->has_nat_ports = 1;
        break;
    case FA_NAT_EVENT:
        r->nat_event = (uint8_t)rdn(v, len);
        break;
    case FA_START_S:
        r->start_ms = ms_of_s(rdn(v, len));
        break;
    case FA_END_S:
        r->end_ms = ms_of_s(rdn(v, len));
        break;
    case FA_START_MS:
        r->start_ms = ms_of(rdn(v, len));
        break;
    case FA_END_MS:
        r->end_ms = ms_of(rdn(v, len));
        break;
    case FA_START_UP:
        x->start_up = ms_of(rdn(v, len));
        x->has_up |= 1;
        break;
    case FA_END_UP:
        x->end_up = ms_of(rdn(v, len));
        x->has_up |= 2;
        break;
    case FA_START_US:
        if (len == 8)
            ntp_ms(v, &r->start_ms);
        break;
    case FA_END_US:
        if (len == 8)
            ntp_ms(v, &r->end_ms);
        break;
    case FA_SAMPLING:
        x->sampling = (uint32_t)rdn(v, len);
        break;
    case FA_PKT_INTERVAL:
        x->pkt_interval = (uint32_t)rdn(v, len);
        break;
    case FA_PKT_SPACE:
        x->pkt_space = (uint32_t)rdn(v, len);
        break;
    case FA_SAMPLE_SIZE:
        x->size = (uint32_t)rdn(v, len);
        break;
    case FA_SAMPLE_POP:
        x->population = (uint32_t)rdn(v, len);
        break;
    case FA_SAMPLER_ID:
        x->sampler_id = (uint32_t)rdn(v, len);
        x->has_sampler = 1;
        break;
    case FA_SYS_INIT:
        x->sys_init_ms = ms_of(rdn(v, len));
        break;
    default:
        break;
    }
}

/* The 1-in-N rate an options or data record states, 0 when none. */
static uint32_t xrec_rate(const xrec *x)
{
    if (x->sampling)
        return x->sampling;
    if (x->size && x->population) /* n-out-of-N */
        return x->population / x->size;
    if (x->pkt_interval && x->pkt_space) /* systematic count-based */
        return (uint32_t)(((uint64_t)x->pkt_interval + x->pkt_space) / x->pkt_interval);
    return 0;
}

static void options_record(flow_decoder *d, const mctx *m, const xrec *x)
{
    source *s = &d->src[m->src];
    uint32_t rate = xrec_rate(x);
    d->st.options_records++;
    if (x->sys_init_ms)
        s->sys_init_ms = x->sys_init_ms;
    if (!rate)
        return;
    if (x->has_sampler)
        source_sampler(s, x->sampler_id, rate);
    s->sampling = rate;
}

static int is_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

static void data_record(flow_decoder *d, mctx *m, xrec *x)
{
    const source *s = &d->src[m->src];
    flow_rec *r = &x->r;
    /* Templates may carry both families (Cisco v9 does): the one with a value wins. */
    int v4 = x->has4 && !is_zero(x->a4, 8);
    int v6 = x->has6 && !(is_zero(r->src, 16) && is_zero(r->dst, 16));
    if (x->has4 && (v4 || !v6)) {
        memset(r->src, 0, 16);
        memset(r->dst, 0, 16);
        memcpy(r->src, x->a4, 4);
        memcpy(r->dst, x->a4 + 4, 4);
        r->family = 4;
    } else if (x->has6) {
        r->family = 6;
    }
    if (!x->has_bytes)
        r->bytes = x->bytes_total;
    if (!x->has_pkts)
        r->packets = x->pkts_total;
    r->sampling = xrec_rate(x);
    if (!r->sampling && x->has_sampler)
        for (unsigned i = 0; i < s->nsamplers; i++)
            if (s->sampler_id[i] == x->sampler_id)
                r->sampling = s->sampler_rate[i];
    if (!r->sampling)
        r->sampling = s->sampling;
    /* systemInitTimeMilliseconds: the record's own, else the one an options record gave */
    int64_t init = x->sys_init_ms ? x->sys_init_ms : s->sys_init_ms;
    if (x->has_up && (m->version == 9 || init)) {
        /* sysUpTime readings: v9 against the header's uptime, IPFIX against the uptime that
         * systemInitTime gives at the export time */
        int64_t ex = m->export_s * 1000;
        uint32_t now = m->version == 9 ? m->uptime_ms : (uint32_t)(ex - init);
        if (x->has_up & 1)
            r->start_ms = uptime_ms_at(ex, now, (uint32_t)x->start_up);
        if (x->has_up & 2)
            r->end_ms = uptime_ms_at(ex, now, (uint32_t)x->end_up);
    }
    m->records++;
    d->st.records++;
    if (m->cb)
        m->cb(m->ud, r);
}

static void xrec_init(xrec *x, const mctx *m, const tmpl *t, const source *s)
{
    memset(x, 0, sizeof *x);
    x->r.version = m->version;
    x->r.export_s = m->export_s;
    x->r.domain = s->domain;
    x->r.template_id = t->tid;
    x->r.exporter = m->exp;
}

/* Decodes the records of data set body p[0..len) with template t. */
static int data_set(flow_decoder *d, mctx *m, const tmpl *t, const uint8_t *p, size_t len,
                    size_t base_off)
{
    const source *s = &d->src[m->src];
    xrec x;
    size_t pos = 0;
    if (t->fixed_len) {
        for (; len - pos >= t->fixed_len; pos += t->fixed_len) {
            xrec_init(&x, m, t, s);
            for (uint32_t i = 0; i < t->nops; i++)
                put(&x, t->ops[i].act, p + pos + t->ops[i].off, t->ops[i].len);
            if (t->options)
                options_record(d, m, &x);
            else
                data_record(d, m, &x);
        }
        return 0;
    }
    while (len - pos >= t->min_len && len - pos > 0) {
        xrec_init(&x, m, t, s);
        for (uint32_t i = 0; i < t->nfields; i++) {
            size_t flen = t->f[i].len;
            if (flen == VARLEN) {
                if (pos >= len)
                    return fail(d, "variable-length field past the end of its set", base_off + pos);
                flen = p[pos++];
                if (flen == 255) {
                    if (len - pos < 2)
                        return fail(d, "variable-length field past the end of its set",
                                    base_off + pos);
                    flen = rd16(p + pos);
                    pos += 2;
                }
            }
            if (len - pos < flen)
                return fail(d, "field longer than the rest of its set", base_off + pos);
            if (t->f[i].act)
                put(&x, t->f[i].act, p + pos, (unsigned)flen);
            pos += flen;
        }
        if (t->options)
            options_record(d, m, &x);
        else
            data_record(d, m, &x);
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Templates and pending sets                                                                   */

static tmpl *tmpl_find(flow_decoder *d, uint32_t src, uint16_t tid)
{
    uint64_t v;
    if (!u64map_get(&d->tmap, ((uint64_t)src << 16 | tid) + 1, &v))
        return NULL;
    return &d->tmpl[v];
}

/* The active template (src, tid) for a message exported at export_s, expiring it when stale. */
static tmpl *tmpl_active(flow_decoder *d, uint32_t src, uint16_t tid, int64_t export_s)
{
    tmpl *t = tmpl_find(d, src, tid);
    if (!t || !t->active)
        return NULL;
    if (d->o.udp && export_s - t->time > (int64_t)d->o.template_timeout) {
        t->active = 0;
        d->st.templates_expired++;
        return NULL;
    }
    return t;
}

static void pending_drop_head(flow_decoder *d)
{
    pending *p = d->pend_head;
    d->pend_head = p->next;
    if (!d->pend_head)
        d->pend_tail = NULL;
    d->pend_bytes -= p->len;
    free(p);
}

static void pending_add(flow_decoder *d, const mctx *m, uint16_t tid, const uint8_t *p,
                        size_t len)
{
    pending *e;
    d->st.pending++; /* counted once; later it is replayed or dropped, at most one of the two */
    if (len > d->o.pending_max_bytes) {
        d->st.pending_dropped++;
        return;
    }
    while (d->pend_head && d->pend_bytes + len > d->o.pending_max_bytes) {
        pending_drop_head(d);
        d->st.pending_dropped++;
    }
    e = malloc(sizeof *e + len);
    if (!e) {
        d->st.pending_dropped++;
        return;
    }
    e->next = NULL;
    e->src = m->src;
    e->tid = tid;
    e->version = m->version;
    e->export_s = m->export_s;
    e->uptime_ms = m->uptime_ms;
    e->len = len;
    memcpy(e->data, p, len);
    if (d->pend_tail)
        d->pend_tail->next = e;
    else
        d->pend_head = e;
    d->pend_tail = e;
    d->pend_bytes += len;
}

/* Decodes the pending sets of (m->src, t->tid) now that t has arrived. */
static void pending_replay(flow_decoder *d, const mctx *m, const tmpl *t)
{
    pending **pp = &d->pend_head, *prev = NULL;
    while (*pp) {
        pending *e = *pp;
        if (e->src != m->src || e->tid != t->tid) {
            prev = e;
            pp = &e->next;
            continue;
        }
        *pp = e->next;
        if (d->pend_tail == e)
            d->pend_tail = prev;
        d->pend_bytes -= e->len;
        mctx em = *m;
        em.export_s = e->export_s;
        em.uptime_ms = e->uptime_ms;
        const char *err = d->err;
        size_t err_off = d->err_off;
        if (data_set(d, &em, t, e->data, e->len, 0))
            d->st.malformed++;
        d->err = err;
        d->err_off = err_off;
        d->st.pending_replayed++;
        free(e);
    }
}

/* Withdraws template tid of src, or all of its templates (of the options kind or not) when
 * all >= 0. */
static void tmpl_withdraw(flow_decoder *d, uint32_t src, uint16_t tid, int all)
{
    if (all < 0) {
        tmpl *t = tmpl_find(d, src, tid);
        if (t && t->active) {
            t->active = 0;
            d->st.templates_withdrawn++;
        }
        return;
    }
    for (size_t i = 0; i < d->ntmpl; i++)
        if (d->tmpl[i].src == src && d->tmpl[i].active && d->tmpl[i].options == all) {
            d->tmpl[i].active = 0;
            d->st.templates_withdrawn++;
        }
}

/* Makes (or redefines) template tid of m->src from fields f[0..n). */
static int tmpl_define(flow_decoder *d, const mctx *m, uint16_t tid, int options,
                       const tfield *f, uint32_t n)
{
    tmpl *t = tmpl_find(d, m->src, tid);
    if (t) {
        d->st.templates_replaced++;
    } else {
        if (d->ntmpl >= d->o.max_templates)
            return ACCORD_ELIMIT;
        if (d->ntmpl == d->tmpl_cap) {
            size_t cap = d->tmpl_cap ? d->tmpl_cap * 2 : 16;
            tmpl *nt = realloc(d->tmpl, cap * sizeof *nt);
            if (!nt)
                return ACCORD_ENOMEM;
            d->tmpl = nt;
            d->tmpl_cap = cap;
        }
        if (u64map_put(&d->tmap, ((uint64_t)m->src << 16 | tid) + 1, d->ntmpl))
            return ACCORD_ENOMEM;
        t = &d->tmpl[d->ntmpl++];
        memset(t, 0, sizeof *t);
        t->src = m->src;
        t->tid = tid;
    }
    if (n > t->cap) {
        tfield *nf = realloc(t->f, n * sizeof *nf);
        if (!nf)
            return ACCORD_ENOMEM;
        t->f = nf;
        top *no = realloc(t->ops, n * sizeof *no);
        if (!no)
            return ACCORD_ENOMEM;
        t->ops = no;
        t->cap = n;
    }
    memcpy(t->f, f, n * sizeof *f);
    t->nfields = n;
    t->options = (uint8_t)options;
    t->time = m->export_s;
    t->nops = 0;
    uint32_t off = 0, min = 0;
    int var = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (f[i].len == VARLEN) {
            var = 1;
            min += 1;
            continue;
        }
        if (f[i].act && !var)
            t->ops[t->nops++] = (top){.off = (uint16_t)off, .len = f[i].len, .act = f[i].act};
        off += f[i].len;
        min += f[i].len;
    }
    t->fixed_len = var ? 0 : off;
    t->min_len = min;
    t->active = 1;
    d->st.templates++;
    pending_replay(d, m, t);
    return 0;
}

/*
 * Reads the template records of a template set body p[0..len): IPFIX (set 2 or 3) when ipfix,
 * else NetFlow v9 (flowset 0 or 1).
 */
static int template_set(flow_decoder *d, const mctx *m, int options, int ipfix, const uint8_t *p,
                        size_t len, size_t base_off)
{
    tfield f[FIELDS_MAX];
    size_t pos = 0;
    while (len - pos >= 4) {
        size_t rec_off = pos;
        uint16_t tid = (uint16_t)rd16(p + pos);
        uint32_t nfields, nscope = 0;
        if (!ipfix && options) {
            /* v9 options: scope and option lengths in bytes, 4 per field */
            if (len - pos < 6)
                break;
            uint32_t scope_len = rd16(p + pos + 2), opt_len = rd16(p + pos + 4);
            if (scope_len % 4 || opt_len % 4)
                return fail(d, "options template lengths not a multiple of 4", base_off + pos);
            nfields = (scope_len + opt_len) / 4;
            nscope = scope_len / 4;
            pos += 6;
        } else {
            nfields = rd16(p + pos + 2);
            pos += 4;
            if (ipfix && options) {
                if (nfields == 0) {
                    tmpl_withdraw(d, m->src, tid, tid == 3 ? 1 : -1);
                    continue;
                }
                if (len - pos < 2)
                    return fail(d, "options template cut short", base_off + pos);
                nscope = rd16(p + pos);
                pos += 2;
                if (nscope == 0 || nscope > nfields)
                    return fail(d, "options template scope count out of range", base_off + pos);
            }
        }
        if (nfields == 0) {
            if (ipfix) {
                tmpl_withdraw(d, m->src, tid, tid == 2 ? 0 : -1);
                continue;
            }
            if (tid == 0)
                break; /* v9 padding */
            return fail(d, "template without fields", base_off + rec_off);
        }
        if (tid < 256)
            return fail(d, "template id below 256", base_off + rec_off);
        if (nfields > FIELDS_MAX)
            return fail(d, "template with too many fields", base_off + rec_off);
        uint32_t total = 0;
        for (uint32_t i = 0; i < nfields; i++) {
            if (len - pos < 4)
                return fail(d, "template field count longer than its set", base_off + pos);
            uint16_t ie = (uint16_t)rd16(p + pos), flen = (uint16_t)rd16(p + pos + 2);
            int enterprise = ipfix && (ie & 0x8000);
            pos += 4;
            if (enterprise) {
                if (len - pos < 4)
                    return fail(d, "enterprise number past the end of its set", base_off + pos);
                pos += 4;
            }
            if (flen == VARLEN && !ipfix)
                return fail(d, "variable-length field in a NetFlow v9 template",
                            base_off + pos - 4);
            /* scope fields of v9 options use their own type space; none is used here */
            f[i].act = enterprise || i < nscope * (!ipfix) ? FA_SKIP : action_of(ie);
            f[i].len = flen;
            total += flen == VARLEN ? 1 : flen;
        }
        if (total == 0)
            return fail(d, "template of zero length", base_off + rec_off);
        int rc = tmpl_define(d, m, tid, options, f, nfields);
        if (rc == ACCORD_ENOMEM)
            return rc;
        if (rc)
            return fail(d, "too many templates", base_off + rec_off);
        if (!ipfix && options && len - pos < 4)
            break; /* v9 options flowsets are padded to 4 bytes */
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Messages                                                                                     */

/* The sets of an IPFIX message or v9 packet, p[off..len). */
static int sets(flow_decoder *d, mctx *m, const uint8_t *p, size_t off, size_t len)
{
    int ipfix = m->version == 10;
    while (len - off >= 4) {
        uint32_t id = rd16(p + off), slen = rd16(p + off + 2);
        if (slen < 4)
            return fail(d, "set shorter than its header", off + 2);
        if (slen > len - off)
            return fail(d, "set longer than its message", off + 2);
        const uint8_t *body = p + off + 4;
        size_t blen = slen - 4, boff = off + 4;
        int rc = 0;
        if ((ipfix && (id == 2 || id == 3)) || (!ipfix && (id == 0 || id == 1))) {
            rc = template_set(d, m, ipfix ? id == 3 : id == 1, ipfix, body, blen, boff);
        } else if (id >= 256) {
            tmpl *t = tmpl_active(d, m->src, (uint16_t)id, m->export_s);
            if (t) {
                rc = data_set(d, m, t, body, blen, boff);
            } else {
                pending_add(d, m, (uint16_t)id, body, blen);
                m->left_pending = 1;
            }
        } else if (ipfix) {
            return fail(d, "reserved set id", off);
        }
        if (rc)
            return rc;
        off += slen;
    }
    if (len - off && m->version == 10)
        return fail(d, "bytes after the last set", off);
    return 0;
}

static int decode_v5(flow_decoder *d, mctx *m, const uint8_t *p, size_t len)
{
    if (len < 24)
        return fail(d, "NetFlow v5 header cut short", len);
    uint32_t count = rd16(p + 2), uptime = rd32(p + 4), secs = rd32(p + 8);
    uint32_t nsecs = rd32(p + 12), seq = rd32(p + 16);
    uint32_t domain = rd16(p + 20), sampling = rd16(p + 22) & 0x3fff;
    if (count == 0 || count > 30)
        return fail(d, "NetFlow v5 record count out of range", 2);
    if (len < 24 + (size_t)count * 48)
        return fail(d, "NetFlow v5 records cut short", len);
    long si = source_get(d, 5, m->exp, domain);
    if (si < 0)
        return ACCORD_ENOMEM;
    source *s = &d->src[si];
    m->src = (uint32_t)si;
    m->export_s = secs;
    source_seq(d, s, seq);
    s->next_seq = seq + count;
    if (sampling)
        s->sampling = sampling;
    int64_t export_ms = (int64_t)secs * 1000 + nsecs / 1000000;
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *q = p + 24 + (size_t)i * 48;
        flow_rec r;
        memset(&r, 0, sizeof r);
        r.version = 5;
        r.family = 4;
        memcpy(r.src, q, 4);
        memcpy(r.dst, q + 4, 4);
        r.packets = rd32(q + 16);
        r.bytes = rd32(q + 20);
        r.start_ms = uptime_ms_at(export_ms, uptime, rd32(q + 24));
        r.end_ms = uptime_ms_at(export_ms, uptime, rd32(q + 28));
        r.sport = (uint16_t)rd16(q + 32);
        r.dport = (uint16_t)rd16(q + 34);
        r.has_ports = 1;
        r.proto = q[38];
        r.export_s = secs;
        r.sampling = s->sampling;
        r.domain = domain;
        r.exporter = m->exp;
        m->records++;
        d->st.records++;
        if (m->cb)
            m->cb(m->ud, &r);
    }
    return 0;
}

int flow_decode(flow_decoder *d, const flow_exporter *exp, const uint8_t *p, size_t len,
                flow_rec_cb cb, void *ud)
{
    mctx m = {.exp = exp, .cb = cb, .ud = ud};
    int rc;
    d->st.messages++;
    d->st.bytes += len;
    if (len < 4) {
        d->st.not_flow++;
        return fail(d, "message shorter than a version number", 0);
    }
    m.version = (uint8_t)rd16(p);
    if (rd16(p) == 5) {
        rc = decode_v5(d, &m, p, len);
    } else if (rd16(p) == 9) {
        if (len < 20) {
            rc = fail(d, "NetFlow v9 header cut short", len);
            goto out;
        }
        m.uptime_ms = rd32(p + 4);
        m.export_s = rd32(p + 8);
        long si = source_get(d, 9, exp, rd32(p + 16));
        if (si < 0)
            return ACCORD_ENOMEM;
        m.src = (uint32_t)si;
        source_seq(d, &d->src[si], rd32(p + 12));
        d->src[si].next_seq = rd32(p + 12) + 1;
        rc = sets(d, &m, p, 20, len);
    } else if (rd16(p) == 10) {
        size_t mlen = rd16(p + 2);
        if (len < 16 || mlen < 16) {
            rc = fail(d, "IPFIX header cut short", len < 16 ? len : 2);
            goto out;
        }
        if (mlen > len) {
            rc = fail(d, "IPFIX message longer than its datagram", 2);
            goto out;
        }
        m.export_s = rd32(p + 4);
        long si = source_get(d, 10, exp, rd32(p + 12));
        if (si < 0)
            return ACCORD_ENOMEM;
        m.src = (uint32_t)si;
        uint32_t seq = rd32(p + 8);
        source_seq(d, &d->src[si], seq);
        rc = sets(d, &m, p, 16, mlen);
        source *s = &d->src[si];
        s->next_seq = seq + (uint32_t)m.records;
        if (m.left_pending)
            s->have_seq = 0;
    } else {
        d->st.not_flow++;
        return fail(d, "not NetFlow v5, v9 or IPFIX", 0);
    }
out:
    if (rc == ACCORD_EINVAL)
        d->st.malformed++;
    return rc;
}
