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
 *                    value  "SERIAL DIGEST": the serial (decimal), then XXH3-64 of the records
 *                           (16 hex digits): the action and each (kind, value) the rpz writer
 *                           holds, in the set's order
 *
 * An export whose digest equals the kept one takes the kept serial (same records, same bytes,
 * same ETag).  Otherwise the serial is the time of the newest change (accord_export_set_serial,
 * seconds modulo 2^32) when that is larger, in RFC 1982 terms, than the kept one, else the kept
 * one plus 1; 0 is skipped (0 means "none" in accord_export_options).  Each step is less than
 * 2^31, so every secondary sees an increase.  Within a process the read and the write are one
 * critical section; two processes exporting the same scope at once may both take the same next
 * serial (the next change moves past both).  A store opened read-only cannot keep a serial: the
 * export of an unchanged zone still takes the kept one, a changed one fails (the caller then
 * falls back to accord_export_set_serial and says so).
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

static pthread_mutex_t serial_lock = PTHREAD_MUTEX_INITIALIZER;

int accord_export_rpz_serial(accord_store *store, const char *scope, const accord_export_filter *f,
                             const accord_export_set *set, const accord_export_options *o,
                             uint32_t *serial, accord_error *err)
{
    char key[64], kept[64], value[64];
    uint64_t digest, kept_digest = 0;
    unsigned long kept_serial = 0;
    int have = 0, rc;
    *serial = 0;
    if ((rc = export_rpz_serial_key(scope, f, o, key, sizeof(key))) ||
        (rc = records_digest(set, o, &digest)))
        return accord_err_set(err, rc, "export: out of memory");
    pthread_mutex_lock(&serial_lock);
    rc = store_meta_get(store, key, kept, sizeof(kept));
    if (rc == 0) {
        char *end;
        kept_serial = strtoul(kept, &end, 10);
        have = *end == ' ' && kept_serial <= UINT32_MAX && kept_serial > 0;
        kept_digest = have ? strtoull(end + 1, &end, 16) : 0;
        have = have && *end == '\0';
    } else if (rc != ACCORD_ENOTFOUND) {
        pthread_mutex_unlock(&serial_lock);
        return accord_err_set(err, ACCORD_ESTORE, "export: reading the rpz serial %s", key);
    }
    uint32_t now = accord_export_set_serial(set), s = now;
    if (have && kept_digest == digest) {
        *serial = (uint32_t)kept_serial;
        pthread_mutex_unlock(&serial_lock);
        return 0;
    }
    if (have && !accord_export_serial_gt(now, (uint32_t)kept_serial))
        s = (uint32_t)kept_serial + 1;
    if (s == 0)
        s = 1;
    snprintf(value, sizeof(value), "%u %016llx", s, (unsigned long long)digest);
    rc = store_meta_set(store, key, value, err);
    pthread_mutex_unlock(&serial_lock);
    if (!rc)
        *serial = s;
    return rc;
}
