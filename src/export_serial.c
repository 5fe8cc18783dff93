/*
 * export_serial.c - the SOA serial of an RPZ zone: larger on every export whose records changed,
 * the same while they do not, kept in the store so that it survives restarts.
 *
 * Secondaries (and a primary reloading the file) take a zone only when its serial is larger than
 * the one they hold, compared in RFC 1982 serial number arithmetic: s1 < s2 when
 * 0 < (s2 - s1) mod 2^32 < 2^31.  A serial derived from time alone (the newest change, in
 * seconds) repeats when two changes fall in the same second with an export between them, and
 * cannot see every change that alters a zone (a default-TLP change under --max-tlp); so each
 * zone's last serial is kept with a digest of its records:
 *
 *   store meta row   key    "export.rpz-serial." + 16 hex digits: XXH3-64 of the zone's scope
 *                           (the caller's: "cli", "feed/NAME/CLEARANCE"), its selection (the
 *                           filter's collection, kinds, labels, creators, indicator types,
 *                           confidence, TLP) and its action
 *                    value  "SERIAL DIGEST STAMP AT": the serial (decimal), XXH3-64 of the
 *                           records (16 hex digits): the action and each (kind, value) the rpz
 *                           writer holds, in the set's order; and the newest snapshot those
 *                           records were seen in: the store's change stamp and the export time
 *                           (decimal; a row of two fields, from before, reads as stamp 0)
 *
 * An export whose digest equals the kept one takes the kept serial (same records, same bytes,
 * same ETag).  Otherwise the serial is the time of the newest change (accord_export_set_serial,
 * seconds modulo 2^32) when that is larger, in RFC 1982 terms, than the kept one, else the kept
 * one plus 1; 0 is skipped (0 means "none" in accord_export_options).  Each step is less than
 * 2^31, so every secondary sees an increase.  The read of the kept serial and the write of the
 * next one are one SQLite write transaction (BEGIN IMMEDIATE, store_feed_meta_update), so two
 * exports of one zone at once - two processes, or a feed refresh beside `accord export` - take
 * turns: the second reads the first's serial and its digest, and either takes the same serial
 * (same records) or the next one; never the same serial for different records.  Nor a larger
 * serial for older records: a selection is one snapshot with the store's change stamp
 * (export.c), and a set whose snapshot is no newer (stamp and export time) than the one that
 * took the kept serial, with other records, gets ACCORD_EBUSY: the caller selects again (the
 * store has moved on; the zone it had is out of date).  A store opened read-only cannot keep a
 * serial: the export of an unchanged zone still takes the kept one, a changed one fails (the caller
 * then falls back to accord_export_set_serial and says so).
 */
#include "export.h"

#include "store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

int accord_export_serial_gt(uint32_t a, uint32_t b)
{
    return a != b && (uint32_t)(a - b) < 0x80000000u;
}

/* Adds a string (or NULL) to the hash, with its length so that lists cannot run together. */
static void hash_str(XXH3_state_t *h, const char *s)
{
    uint64_t n = s ? strlen(s) + 1 : 0;
    XXH3_64bits_update(h, &n, sizeof(n));
    if (s)
        XXH3_64bits_update(h, s, n);
}

static void hash_list(XXH3_state_t *h, const char *const *l)
{
    for (; l && *l; l++)
        hash_str(h, *l);
    hash_str(h, NULL);
}

/* (export.h) The meta key of a zone. */
int export_rpz_serial_key(const char *scope, const accord_export_filter *f,
                          const accord_export_options *o, char *out, size_t outlen)
{
    static const accord_export_filter none = {.min_confidence = -1, .max_tlp = -1};
    XXH3_state_t *h = XXH3_createState();
    if (!h)
        return ACCORD_ENOMEM;
    if (!f)
        f = &none;
    XXH3_64bits_reset(h);
    int64_t nums[5] = {(int64_t)f->kinds, f->min_confidence, f->max_tlp, o->rpz_action, 0};
    hash_str(h, scope);
    hash_str(h, f->collection);
    hash_list(h, f->labels);
    hash_list(h, f->creators);
    hash_list(h, f->indicator_types);
    XXH3_64bits_update(h, nums, sizeof(nums));
    hash_str(h, o->rpz_action == ACCORD_RPZ_CNAME ? o->rpz_cname : NULL);
    snprintf(out, outlen, "export.rpz-serial.%016llx", (unsigned long long)XXH3_64bits_digest(h));
    XXH3_freeState(h);
    return 0;
}

/* XXH3-64 of what the rpz writer writes: the action and each value it holds. */
static int records_digest(const accord_export_set *s, const accord_export_options *o, uint64_t *out)
{
    const unsigned rpz =
        ACCORD_EK_IP_BITS | ACCORD_EK_BIT(ACCORD_EK_DOMAIN) | ACCORD_EK_BIT(ACCORD_EK_SUFFIX);
    XXH3_state_t *h = XXH3_createState();
    if (!h)
        return ACCORD_ENOMEM;
    XXH3_64bits_reset(h);
    int64_t action = o->rpz_action;
    XXH3_64bits_update(h, &action, sizeof(action));
    hash_str(h, o->rpz_action == ACCORD_RPZ_CNAME ? o->rpz_cname : NULL);
    for (size_t i = 0; i < s->nitems; i++) {
        const export_item *it = &s->items[i];
        if (it->ikinds & ~rpz) /* its indicator is left out whole (export_item_ok) */
            continue;
        XXH3_64bits_update(h, &it->kind, 1);
        XXH3_64bits_update(h, export_str(s, it->value), (size_t)it->len + 1);
    }
    *out = XXH3_64bits_digest(h);
    XXH3_freeState(h);
    return 0;
}

/* What accord_export_rpz_serial decides from the kept row (store_feed_meta_update's callback). */
typedef struct serial_step {
    uint64_t digest;
    uint32_t now;      /* the set's time-based serial */
    int64_t stamp, at; /* the set's snapshot: the store's change stamp, the export time */
    uint32_t serial;   /* the result */
    int stale;         /* 1: a newer snapshot of the zone took the kept serial */
} serial_step;

static int serial_decide(void *ud, const char *kept, char *out, size_t outlen)
{
    serial_step *st = ud;
    unsigned long kept_serial = 0;
    unsigned long long kept_digest = 0;
    long long kept_stamp = 0, kept_at = 0;
    int have = 0;
    if (kept) { /* "SERIAL DIGEST" (before snapshots were kept) or "SERIAL DIGEST STAMP AT" */
        char *end;
        kept_serial = strtoul(kept, &end, 10);
        have = *end == ' ' && kept_serial <= UINT32_MAX && kept_serial > 0;
        kept_digest = have ? strtoull(end + 1, &end, 16) : 0;
        if (have && *end == ' ') {
            kept_stamp = strtoll(end + 1, &end, 10);
            have = *end == ' ';
            kept_at = have ? strtoll(end + 1, &end, 10) : 0;
        }
        have = have && *end == '\0';
    }
    int64_t stamp = st->stamp > kept_stamp ? st->stamp : kept_stamp,
            at = st->at > kept_at ? st->at : kept_at;
    if (have && kept_digest == st->digest) {
        st->serial = (uint32_t)kept_serial;
        if (stamp == kept_stamp && at == kept_at)
            return 0; /* the same records, seen no later: nothing to write */
        /* the same records seen in a later snapshot: an older one differing from them is stale */
        snprintf(out, outlen, "%lu %016llx %lld %lld", kept_serial, kept_digest, (long long)stamp,
                 (long long)at);
        return 1;
    }
    if (have && st->stamp <= kept_stamp && st->at <= kept_at) {
        st->stale = 1; /* other records, from a snapshot no newer than the kept one's */
        return 0;
    }
    uint32_t s = st->now;
    if (have && !accord_export_serial_gt(s, (uint32_t)kept_serial))
        s = (uint32_t)kept_serial + 1;
    if (s == 0)
        s = 1;
    st->serial = s;
    snprintf(out, outlen, "%u %016llx %lld %lld", s, (unsigned long long)st->digest,
             (long long)stamp, (long long)at);
    return 1;
}

/* Threads of one process may share one connection: a transaction is the connection's, so they
 * take turns here; processes (other connections) take turns at BEGIN IMMEDIATE. */
static pthread_mutex_t serial_lock = PTHREAD_MUTEX_INITIALIZER;

int accord_export_rpz_serial(accord_store *store, const char *scope, const accord_export_filter *f,
                             const accord_export_set *set, const accord_export_options *o,
                             uint32_t *serial, accord_error *err)
{
    char key[64];
    serial_step st = {.now = accord_export_set_serial(set), .stamp = set->stamp, .at = set->at_us};
    int rc;
    *serial = 0;
    if ((rc = export_rpz_serial_key(scope, f, o, key, sizeof(key))) ||
        (rc = records_digest(set, o, &st.digest)))
        return accord_err_set(err, rc, "export: out of memory");
    pthread_mutex_lock(&serial_lock);
    rc = store_feed_meta_update(store, key, serial_decide, &st, err);
    pthread_mutex_unlock(&serial_lock);
    if (!rc && st.stale)
        return accord_err_set(err, ACCORD_EBUSY,
                              "export: the rpz zone %s was exported from a newer state meanwhile: "
                              "select again",
                              key);
    if (!rc)
        *serial = st.serial;
    return rc;
}
