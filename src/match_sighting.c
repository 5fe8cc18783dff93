/*
 * match_sighting.c - matches aggregated into STIX 2.1 sightings, written to the store.
 *
 * A sightings object counts the matches of each indicator per interval: the key is (indicator
 * number in the snapshot, interval number = event time / interval), the value the count and the
 * first and last event times.  The table is open-addressing over those keys and doubles when
 * half full; it is capped at SIGHT_MAX groups (ACCORD_ELIMIT past that), so its memory is
 * bounded whatever the telemetry.  Indicator numbers belong to one snapshot: when matching moves
 * to a new snapshot (accord_sightings_set_snapshot), the groups so far are retired with their
 * indicator's id, and the bundle merges groups of the same (id, interval) whichever snapshot
 * counted them.  The bundle lists them sorted by indicator id and interval.
 *
 * What is written (one bundle, through accord_import_fd like any other STIX input):
 *
 *   object     property             value
 *   identity   id                   identity--U(data dir), U = a UUID made from an XXH3-128 hash
 *                                   of "accord-node:" and the data directory's real path, with
 *                                   the version 4 and variant bits set: the same for every run
 *                                   on one data directory, different between directories
 *              created, modified    2020-01-01T00:00:00.000Z (fixed, so rewriting it is a no-op)
 *              name                 "accord node " + the first 8 hex digits of U
 *              identity_class       "system"
 *   sighting   id                   sighting--U(identity, indicator id, interval start)
 *              created              the interval's start
 *              modified             last_seen + (count - 1) us (a later run that adds to an
 *                                   interval writes a new version; the same run twice writes
 *                                   nothing new; a rewrite in one run is always newer)
 *              count                matches (at most 999999999, the STIX limit)
 *              first_seen/last_seen the first and last event times in the interval
 *              sighting_of_ref      the indicator
 *              where_sighted_refs   [the node identity]; created_by_ref the same
 *              x_accord_bytes,      when matches carried flow traffic (accord_match.bytes ...):
 *              x_accord_packets     the sums of the records' counters as exported
 *              x_accord_sampling_interval  the exporters' 1-in-N packet sampling, when known and
 *                                   the same for every record of the group
 *              x_accord_estimated_bytes, x_accord_estimated_packets  when some record was
 *                                   sampled: the sums of each counter times its record's
 *                                   interval (1 when unknown), the traffic on the wire
 *              count stays the number of matches (flow records): sampling scales traffic, not
 *              how often an indicator was seen.  Sums saturate at 2^53 - 1 (exact in JSON).
 *
 * When this node has an organisation (`accord member init`) and its signing key is in the data
 * directory, the sightings are signed with it in the transaction that stores them (import.c).
 *
 * Writing as intervals close (accord_sightings_store_closed, for a run that follows logs): a
 * group is dirty from when it is counted until it is written; dirty_min, the lowest bucket of a
 * dirty group, makes accord_sightings_due one comparison.  A written group keeps its counts, so
 * a late event for an interval already written writes the whole count again as a new version of
 * the same sighting (never a smaller count over a larger one).  The groups of a run stay in
 * memory (SIGHT_MAX bounds them): about 80 bytes per (indicator, interval) that matched.
 *
 * Not here: which collection (the caller passes it to the import), thread safety (one
 * sightings object per thread, or a lock around accord_sightings_add_match).
 */
#include "match.h"
#include "member.h"
#include "store.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xxhash.h>

#define SIGHT_MAX (1u << 24)
#define NODE_TIME "2020-01-01T00:00:00.000Z"

/* Flow traffic of a group's matches (see the table above). */
typedef struct straffic {
    uint64_t flows; /* matches that carried bytes or packets */
    uint64_t bytes, packets, est_bytes, est_packets;
    uint32_t sampling; /* the records' interval, 0 unknown, UINT32_MAX when they differ */
} straffic;

typedef struct sgroup {
    uint32_t ind; /* UINT32_MAX = empty slot */
    int dirty;    /* counted since it was last written (accord_sightings_store_closed) */
    int64_t bucket;
    uint64_t count;
    int64_t first_us, last_us;
    straffic tr;
} sgroup;

/* A group counted under an earlier snapshot, or (in a bundle) a merged group. */
typedef struct rgroup {
    char *id;
    int dirty;
    int64_t bucket;
    uint64_t count;
    int64_t first_us, last_us;
    straffic tr;
} rgroup;

#define TRAFFIC_MAX ((1ull << 53) - 1)

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    a = a < TRAFFIC_MAX ? a : TRAFFIC_MAX;
    b = b < TRAFFIC_MAX ? b : TRAFFIC_MAX;
    return a + b < TRAFFIC_MAX ? a + b : TRAFFIC_MAX;
}

static uint64_t sat_mul(uint64_t a, uint32_t n)
{
    return n && a > TRAFFIC_MAX / n ? TRAFFIC_MAX : a * n;
}

/* b's flows added to a's; the interval stays only while every record had the same one (an
 * unknown interval, 0, differs from a known one). */
static void traffic_merge(straffic *a, const straffic *b)
{
    if (b->flows)
        a->sampling = !a->flows || a->sampling == b->sampling ? b->sampling : UINT32_MAX;
    a->flows = sat_add(a->flows, b->flows);
    a->bytes = sat_add(a->bytes, b->bytes);
    a->packets = sat_add(a->packets, b->packets);
    a->est_bytes = sat_add(a->est_bytes, b->est_bytes);
    a->est_packets = sat_add(a->est_packets, b->est_packets);
}

struct accord_sightings {
    accord_snapshot *snap;
    int64_t interval_us;
    sgroup *g;
    size_t cap, n; /* cap: a power of two */
    rgroup *old;   /* retired groups (owned ids) */
    size_t nold, old_cap;
    int64_t dirty_min; /* the lowest bucket of a dirty group, INT64_MAX when none is */
};

ACCORD_API int accord_sightings_new(accord_snapshot *snap, int64_t interval_s,
                                    accord_sightings **out)
{
    accord_sightings *sg;
    *out = NULL;
    if (!snap || interval_s <= 0 || interval_s > 366ll * 86400 * 100)
        return ACCORD_EINVAL;
    if (!(sg = calloc(1, sizeof *sg)))
        return ACCORD_ENOMEM;
    sg->snap = accord_snapshot_ref(snap);
    sg->interval_us = interval_s * 1000000;
    sg->dirty_min = INT64_MAX;
    *out = sg;
    return 0;
}

ACCORD_API void accord_sightings_free(accord_sightings *sg)
{
    if (!sg)
        return;
    accord_snapshot_unref(sg->snap);
    free(sg->g);
    for (size_t i = 0; i < sg->nold; i++)
        free(sg->old[i].id);
    free(sg->old);
    free(sg);
}

static int push_old(rgroup **v, size_t *n, size_t *cap, const rgroup *g)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 64;
        rgroup *nv = realloc(*v, c * sizeof *nv);
        if (!nv)
            return ACCORD_ENOMEM;
        *v = nv;
        *cap = c;
    }
    (*v)[(*n)++] = *g;
    return 0;
}

ACCORD_API int accord_sightings_set_snapshot(accord_sightings *sg, accord_snapshot *snap)
{
    if (!sg || !snap)
        return ACCORD_EINVAL;
    if (snap == sg->snap)
        return 0;
    for (size_t i = 0; i < sg->cap; i++) {
        const sgroup *g = &sg->g[i];
        accord_indicator_info info;
        rgroup r;
        if (g->ind == UINT32_MAX || accord_snapshot_indicator(sg->snap, g->ind, &info) != 0)
            continue;
        r = (rgroup){strdup(info.id), g->dirty,   g->bucket, g->count,
                     g->first_us,     g->last_us, g->tr};
        if (!r.id || push_old(&sg->old, &sg->nold, &sg->old_cap, &r) != 0) {
            free(r.id);
            return ACCORD_ENOMEM;
        }
    }
    for (size_t i = 0; i < sg->cap; i++)
        sg->g[i].ind = UINT32_MAX;
    sg->n = 0;
    accord_snapshot_unref(sg->snap);
    sg->snap = accord_snapshot_ref(snap);
    return 0;
}

static int rgroup_cmp(const void *a, const void *b)
{
    const rgroup *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    return c ? c : (x->bucket > y->bucket) - (x->bucket < y->bucket);
}

/* Every group, current and retired, merged per (indicator id, interval) and sorted; the ids
 * point into sg->old or into names (which the caller frees). */
static int merged(const accord_sightings *sg, rgroup **out, size_t *nout, char **names)
{
    size_t n = 0, cap = sg->n + sg->nold + 1, k = 0;
    rgroup *v = malloc(cap * sizeof *v);
    char *ids = malloc((sg->n + 1) * 160);
    *out = NULL;
    *nout = 0;
    *names = NULL;
    if (!v || !ids) {
        free(v);
        free(ids);
        return ACCORD_ENOMEM;
    }
    for (size_t i = 0; i < sg->cap; i++) {
        const sgroup *g = &sg->g[i];
        accord_indicator_info info;
        if (g->ind == UINT32_MAX || accord_snapshot_indicator(sg->snap, g->ind, &info) != 0)
            continue;
        memcpy(ids + k * 160, info.id, sizeof info.id);
        v[n++] = (rgroup){ids + k++ * 160, g->dirty,   g->bucket, g->count,
                          g->first_us,     g->last_us, g->tr};
    }
    if (sg->nold) /* sg->old is NULL when nothing was merged yet */
        memcpy(v + n, sg->old, sg->nold * sizeof *v);
    n += sg->nold;
    qsort(v, n, sizeof *v, rgroup_cmp);
    k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k && rgroup_cmp(&v[k - 1], &v[i]) == 0) {
            rgroup *g = &v[k - 1];
            g->count += v[i].count;
            g->dirty |= v[i].dirty;
            g->first_us = v[i].first_us < g->first_us ? v[i].first_us : g->first_us;
            g->last_us = v[i].last_us > g->last_us ? v[i].last_us : g->last_us;
            traffic_merge(&g->tr, &v[i].tr);
        } else {
            v[k++] = v[i];
        }
    }
    *out = v;
    *nout = k;
    *names = ids;
    return 0;
}

ACCORD_API size_t accord_sightings_count(const accord_sightings *sg)
{
    rgroup *v;
    char *names;
    size_t n = 0;
    if (!sg)
        return 0;
    if (sg->nold == 0)
        return sg->n;
    if (merged(sg, &v, &n, &names) != 0)
        return sg->n + sg->nold;
    free(v);
    free(names);
    return n;
}

static size_t slot_of(const accord_sightings *sg, uint32_t ind, int64_t bucket)
{
    return (size_t)mix64((uint64_t)ind * 0x9E3779B97F4A7C15ull ^ (uint64_t)bucket) & (sg->cap - 1);
}

static int grow(accord_sightings *sg)
{
    size_t cap = sg->cap ? sg->cap * 2 : 256;
    sgroup *old = sg->g, *g = malloc(cap * sizeof *g);
    size_t ocap = sg->cap;
    if (!g)
        return ACCORD_ENOMEM;
    for (size_t i = 0; i < cap; i++)
        g[i].ind = UINT32_MAX;
    sg->g = g;
    sg->cap = cap;
    for (size_t i = 0; i < ocap; i++) {
        size_t s;
        if (old[i].ind == UINT32_MAX)
            continue;
        for (s = slot_of(sg, old[i].ind, old[i].bucket); g[s].ind != UINT32_MAX;
             s = (s + 1) & (cap - 1))
            ;
        g[s] = old[i];
    }
    free(old);
    return 0;
}

static int add_one(accord_sightings *sg, uint32_t ind, int64_t t_us, const straffic *tr)
{
    int64_t bucket = t_us / sg->interval_us;
    size_t s;
    if (bucket < sg->dirty_min)
        sg->dirty_min = bucket;
    if (sg->n * 2 >= sg->cap) {
        if (sg->n + sg->nold >= SIGHT_MAX)
            return ACCORD_ELIMIT;
        if (grow(sg) != 0)
            return ACCORD_ENOMEM;
    }
    for (s = slot_of(sg, ind, bucket); sg->g[s].ind != UINT32_MAX; s = (s + 1) & (sg->cap - 1)) {
        sgroup *g = &sg->g[s];
        if (g->ind == ind && g->bucket == bucket) {
            g->count++;
            g->dirty = 1;
            if (t_us < g->first_us)
                g->first_us = t_us;
            if (t_us > g->last_us)
                g->last_us = t_us;
            traffic_merge(&g->tr, tr);
            return 0;
        }
    }
    sg->g[s] = (sgroup){ind, 1, bucket, 1, t_us, t_us, *tr};
    sg->n++;
    return 0;
}

ACCORD_API int accord_sightings_add_match(accord_sightings *sg, const accord_match *m,
                                          int64_t default_us)
{
    int64_t t = 0;
    straffic tr = {0};
    if (m->bytes || m->packets) {
        uint32_t n = m->sampling ? m->sampling : 1;
        tr = (straffic){1, sat_add(m->bytes, 0), sat_add(m->packets, 0), sat_mul(m->bytes, n),
                        sat_mul(m->packets, n), m->sampling};
    }
    if (m->time) {
        mfield f = {m->time, (uint32_t)m->time_len, MR_TIME, 0, (uint8_t)(m->time_is_string != 0)};
        t = mevent_time_us(&f, 1);
    }
    if (t <= 0)
        t = default_us > 0 ? default_us : accord_timestamp_now();
    for (size_t i = 0; i < m->nindicators; i++) {
        int rc = add_one(sg, m->indicators[i], t, &tr);
        if (rc)
            return rc;
    }
    return 0;
}

/* A UUID (37 bytes with the NUL) from the hash of parts, shaped as version 4. */
static void uuid_of(const char *const *parts, size_t n, char *out)
{
    XXH3_state_t *st = XXH3_createState();
    XXH128_hash_t h = {0, 0};
    uint8_t b[16];
    if (st && XXH3_128bits_reset(st) == XXH_OK) {
        for (size_t i = 0; i < n; i++)
            XXH3_128bits_update(st, parts[i], strlen(parts[i]) + 1);
        h = XXH3_128bits_digest(st);
    }
    XXH3_freeState(st);
    for (int i = 0; i < 8; i++) {
        b[i] = (uint8_t)(h.high64 >> (56 - 8 * i));
        b[8 + i] = (uint8_t)(h.low64 >> (56 - 8 * i));
    }
    b[6] = (uint8_t)((b[6] & 0x0F) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3F) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

/* The organisation `accord member init` made for data_dir, when there is one. */
static int member_identity_of(const char *data_dir, char *out, size_t outlen)
{
    accord_store *s = NULL;
    int rc = accord_store_open(data_dir, ACCORD_STORE_READONLY, &s, NULL);
    if (!rc)
        rc = member_self_id(s, out, outlen);
    accord_store_close(s);
    return rc;
}

ACCORD_API int accord_node_identity(const char *data_dir, char *out, size_t outlen)
{
    char path[PATH_MAX], u[37];
    const char *parts[2] = {"accord-node:", path};
    if (!data_dir || outlen < 47)
        return ACCORD_EINVAL;
    if (member_identity_of(data_dir, out, outlen) == 0)
        return 0;
    if (!realpath(data_dir, path))
        snprintf(path, sizeof path, "%s", data_dir);
    uuid_of(parts, 2, u);
    snprintf(out, outlen, "identity--%s", u);
    return 0;
}

/* Appends the identity object of node id (see the table above). */
static int put_identity(buf *b, const char *id)
{
    return buf_printf(b,
                      "{\"type\":\"identity\",\"spec_version\":\"2.1\",\"id\":\"%s\","
                      "\"created\":\"" NODE_TIME "\",\"modified\":\"" NODE_TIME "\","
                      "\"name\":\"accord node %.8s\",\"identity_class\":\"system\"}",
                      id, id + 10);
}

/* The x_accord_* traffic properties of a group (see the table above), "" when it has none. */
static void traffic_props(const straffic *t, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = 0;
    if (!t->flows)
        return;
    n = (size_t)snprintf(out, cap, ",\"x_accord_bytes\":%llu,\"x_accord_packets\":%llu",
                         (unsigned long long)t->bytes, (unsigned long long)t->packets);
    if (t->sampling && t->sampling != UINT32_MAX && n < cap)
        n += (size_t)snprintf(out + n, cap - n, ",\"x_accord_sampling_interval\":%u", t->sampling);
    if ((t->est_bytes != t->bytes || t->est_packets != t->packets) && n < cap)
        snprintf(out + n, cap - n,
                 ",\"x_accord_estimated_bytes\":%llu,\"x_accord_estimated_packets\":%llu",
                 (unsigned long long)t->est_bytes, (unsigned long long)t->est_packets);
}

/*
 * The modified time of a group's sighting: its last_seen plus count - 1 microseconds.  Each
 * rewrite in a run (a late match; count grows, last_seen never falls) is a newer version, even
 * when the late event has the last one's time: one modified time with two counts would conflict.
 * A run over the same events gives the same time, so writing them again changes nothing.
 */
static int64_t modified_of(const rgroup *g)
{
    return g->last_us + (int64_t)(g->count > 999999999 ? 999999999 : g->count) - 1;
}

static int put_sighting(const accord_sightings *sg, const rgroup *g, const char *identity, buf *b)
{
    char u[37], created[40], first[40], last[40], modified[40], traffic[256];
    const char *parts[3] = {identity, g->id, created};
    accord_timestamp_format(g->bucket * sg->interval_us, created, sizeof created);
    accord_timestamp_format(g->first_us, first, sizeof first);
    accord_timestamp_format(g->last_us, last, sizeof last);
    accord_timestamp_format(modified_of(g), modified, sizeof modified);
    uuid_of(parts, 3, u);
    traffic_props(&g->tr, traffic, sizeof traffic);
    return buf_printf(b,
                      "{\"type\":\"sighting\",\"spec_version\":\"2.1\",\"id\":\"sighting--%s\","
                      "\"created\":\"%s\",\"modified\":\"%s\",\"created_by_ref\":\"%s\","
                      "\"count\":%llu,\"first_seen\":\"%s\",\"last_seen\":\"%s\","
                      "\"sighting_of_ref\":\"%s\",\"where_sighted_refs\":[\"%s\"]%s}",
                      u, created, modified, identity,
                      (unsigned long long)(g->count > 999999999 ? 999999999 : g->count), first,
                      last, g->id, identity, traffic);
}

/* Which groups a bundle holds: those of buckets below `below`, and with only_dirty only those
 * counted since they were last written. */
typedef struct sselect {
    int64_t below;
    int only_dirty;
} sselect;

static int selected(const sselect *sel, int64_t bucket, int dirty)
{
    return bucket < sel->below && (dirty || !sel->only_dirty);
}

/* with_identity: 0 when identity is this node's organisation (member.h), whose signed identity
 * object is stored already and must not be replaced by a plain one.  *nsel: the sightings in it. */
static int sightings_bundle(const accord_sightings *sg, const char *identity, int with_identity,
                            const sselect *sel, char **out, size_t *len, size_t *nsel)
{
    buf b;
    char bid[37], *names;
    const char *parts[2] = {"bundle", identity};
    rgroup *v;
    size_t n, k = 0;
    int rc;
    *out = NULL;
    *len = 0;
    *nsel = 0;
    if (!identity || strncmp(identity, "identity--", 10) != 0 || strlen(identity) != 46)
        return ACCORD_EINVAL;
    if (merged(sg, &v, &n, &names) != 0)
        return ACCORD_ENOMEM;
    buf_init(&b, (size_t)1 << 34);
    uuid_of(parts, 2, bid);
    rc = buf_printf(&b, "{\"type\":\"bundle\",\"id\":\"bundle--%s\",\"objects\":[", bid);
    if (with_identity)
        rc = rc ? rc : put_identity(&b, identity);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (!selected(sel, v[i].bucket, v[i].dirty))
            continue;
        if (k++ || with_identity)
            rc = buf_add(&b, ",", 1);
        rc = rc ? rc : put_sighting(sg, &v[i], identity, &b);
    }
    rc = rc ? rc : buf_add(&b, "]}", 3); /* with the NUL */
    free(v);
    free(names);
    if (rc) {
        buf_free(&b);
        return rc < 0 ? rc : ACCORD_ENOMEM;
    }
    *len = b.len - 1;
    *out = b.p; /* the caller frees it */
    *nsel = k;
    return 0;
}

ACCORD_API int accord_sightings_bundle(const accord_sightings *sg, const char *identity, char **out,
                                       size_t *len)
{
    sselect all = {INT64_MAX, 0};
    size_t n;
    return sightings_bundle(sg, identity, 1, &all, out, len, &n);
}

/* Writes the selected groups as a bundle through the import (see accord_sightings_store);
 * *nsel: how many; none selected writes nothing. */
static int store_selected(const accord_sightings *sg, struct accord_store *store,
                          const char *data_dir, const char *collection, const sselect *sel,
                          size_t *nsel, struct accord_import_stats *st, struct accord_error *err)
{
    char identity[64], *json = NULL;
    size_t len = 0;
    int fd = -1, rc;
    accord_import_options o = {0};
    int member = member_self_id(store, identity, sizeof identity) == 0;
    rc = member ? 0 : accord_node_identity(data_dir, identity, sizeof identity);
    rc = rc ? rc : sightings_bundle(sg, identity, !member, sel, &json, &len, nsel);
    if (rc || (*nsel == 0 && sel->only_dirty))
        goto out;
    fd = memfd_create("accord-sightings", MFD_CLOEXEC);
    if (fd < 0) {
        rc = ACCORD_EIO;
        goto out;
    }
    for (size_t off = 0; off < len;) {
        ssize_t w = write(fd, json + off, len - off);
        if (w <= 0) {
            rc = ACCORD_EIO;
            goto out;
        }
        off += (size_t)w;
    }
    if (lseek(fd, 0, SEEK_SET) != 0) {
        rc = ACCORD_EIO;
        goto out;
    }
    o.source = "accord match sightings";
    o.collection = collection;
    char seed[PATH_MAX];
    if (member && data_dir && member_key_path(data_dir, MEMBER_SIGNING, seed, sizeof seed) == 0 &&
        access(seed, F_OK) == 0) { /* this node's organisation signs what it sighted */
        o.flags |= ACCORD_IMPORT_SIGN;
        o.data_dir = data_dir;
    }
    rc = accord_import_fd(store, fd, &o, st, err);
out:
    if (fd >= 0)
        close(fd);
    free(json);
    return rc;
}

ACCORD_API int accord_sightings_store(const accord_sightings *sg, struct accord_store *store,
                                      const char *data_dir, const char *collection,
                                      struct accord_import_stats *st, struct accord_error *err)
{
    sselect all = {INT64_MAX, 0};
    size_t n;
    return store_selected(sg, store, data_dir, collection, &all, &n, st, err);
}

ACCORD_API int accord_sightings_due(const accord_sightings *sg, int64_t before_us)
{
    return sg && sg->dirty_min != INT64_MAX && before_us >= 0 &&
           sg->dirty_min < before_us / sg->interval_us;
}

/* After the groups of buckets below `below` were written: a group of such a bucket is clean, and
 * one still dirty (a later bucket) lowers dirty_min to its bucket. */
static void still_dirty(accord_sightings *sg, int *dirty, int64_t bucket, int64_t below)
{
    if (*dirty && (*dirty = bucket >= below) != 0 && bucket < sg->dirty_min)
        sg->dirty_min = bucket;
}

ACCORD_API int accord_sightings_store_closed(accord_sightings *sg, struct accord_store *store,
                                             const char *data_dir, const char *collection,
                                             int64_t before_us, size_t *nstored,
                                             struct accord_import_stats *st,
                                             struct accord_error *err)
{
    sselect sel = {INT64_MAX, 1};
    int rc;
    *nstored = 0;
    if (!sg || !store || before_us < 0)
        return ACCORD_EINVAL;
    if (before_us != INT64_MAX)
        sel.below = before_us / sg->interval_us;
    rc = store_selected(sg, store, data_dir, collection, &sel, nstored, st, err);
    if (rc)
        return rc; /* still dirty: written by the next call */
    sg->dirty_min = INT64_MAX;
    for (size_t i = 0; i < sg->cap; i++)
        if (sg->g[i].ind != UINT32_MAX)
            still_dirty(sg, &sg->g[i].dirty, sg->g[i].bucket, sel.below);
    for (size_t i = 0; i < sg->nold; i++)
        still_dirty(sg, &sg->old[i].dirty, sg->old[i].bucket, sel.below);
    return 0;
}

ACCORD_API int accord_sightings_check_collection(struct accord_store *store, const char *collection,
                                                 struct accord_error *err)
{
    int64_t cid;
    return store_collection_resolve(store, collection, &cid, err);
}
