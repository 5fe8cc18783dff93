/*
 * export_feed.c - feeds over HTTPS: GET /feeds/NAME (single-file formats), /feeds/NAME/FILE
 * (suricata-dataset, suricata-rules, misp-feed; /feeds/NAME lists the files), and
 * /feeds/NAME?since=CURSOR (nft, stix: only the changes since the export that printed CURSOR;
 * a stix feed serves its cursor as /feeds/NAME/cursor, a bundle having no room for one).
 *
 * A firewall polls its feed every minute; nearly every poll must cost nothing.  A build is
 * cached under what decides its bytes:
 *
 *   key = (server, name, XXH3(the feed's words), the reader's clearance, since,
 *          the store's change stamp, last date_added, allow-list change stamp)
 *
 * and is valid until the first validity boundary (valid_from/valid_until) of the feed's
 * indicators after the build (export.c: set->next_us): until then, and while the key holds, no
 * indicator can enter or leave the selection.  The change stamp is the length of the store's
 * audit log, which every committed change extends in its own transaction (store.c): an import, a
 * revocation, an indicator removed from a collection, a collection, allow-list, RED list, account
 * or default-TLP change.  Reading it is one look-up at the end of an index, so a poll that hits
 * the cache answers 304 (If-None-Match) or the cached bytes without selecting anything.
 *
 * The entity tag of a file is XXH3 of its bytes (of the file names for a listing).  Exports are
 * a function of the store's state, never of the time of the build, so a rebuild after an
 * unrelated change (a new account) writes the same bytes under the same tag, and a client
 * holding it still gets 304; any change of the bytes is a new tag.  An nft script depends only
 * on its elements: its cursor names the newest instant and date_added that changed an address
 * (export.h: kind_at, kind_added), so a domain's validity ending or a new domain indicator leaves
 * an nft feed's bytes and tag alone.  Tags do not depend on the process, so they survive a
 * restart.
 *
 * Size: a build holds at most ACCORD_FEED_MAX_BYTES (256 MiB, one response body), or the feed's
 * --max-bytes, all files together; past it the writer stops before handing the bytes on and the
 * request is answered 507 "Feed too large", naming the cap and the options that narrow a feed.
 * Nothing partial is ever served or cached.
 *
 * Cache: CACHE_SLOTS builds, least recently used evicted; a build is immutable and reference
 * counted, so a request keeps using one that another request evicts.  Concurrent misses of the
 * same feed both build (correct, only wasted work).
 *
 * Access: the feed's collection decides: an account needs read rights on it; a feed of the
 * whole store (no --collection) is for administrators only.  TLP: the reader's clearance
 * (tlp.h: the store scan hands out only what it may read) and then the feed's --max-tlp, the
 * most its destination may receive.  The clearance is part of the cache key and the tag, so
 * readers cleared differently never share bytes; readers cleared alike (all administrators) do.
 *
 * What this file does not do: store feeds (store_feed.c), or write any format (export_*.c).
 */
#include "export_feed.h"

#include "export.h"
#include "tlp.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define FEED_FILES 16
#define CACHE_SLOTS 8
typedef struct feed_file {
    char name[64]; /* "" for the one stream of a single-file format */
    buf b;
    uint64_t tag; /* XXH3 of the bytes */
} feed_file;

typedef struct feed_build {
    /* the key */
    const void *owner; /* the server's context */
    char name[65];
    uint64_t words;
    uint64_t clearance; /* the reader's TLP clearance (clearance_hash) */
    char since[ACCORD_EXPORT_CURSOR_MAX];
    int64_t added_us, allow_us;
    int64_t stamp;   /* the store's change stamp (store_feed_stamp) */
    int64_t next_us; /* valid before then */
    /* the result */
    uint64_t tag; /* of the listing of a multi-file feed: XXH3 of its files' tags */
    int nfiles;
    feed_file files[FEED_FILES];
    int refs;      /* the cache's and each request's; under cache_lock */
    uint64_t used; /* for LRU */
} feed_build;

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static feed_build *cache[CACHE_SLOTS];
static uint64_t cache_clock;

static void build_free(feed_build *b)
{
    if (!b)
        return;
    for (int i = 0; i < b->nfiles; i++)
        buf_free(&b->files[i].b);
    free(b);
}

static void build_release(feed_build *b)
{
    pthread_mutex_lock(&cache_lock);
    int last = --b->refs == 0;
    pthread_mutex_unlock(&cache_lock);
    if (last)
        build_free(b);
}

/* The cached build for key k (a feed_build with only the key filled), with a reference. */
static feed_build *cache_get(const feed_build *k, int64_t now)
{
    feed_build *hit = NULL;
    pthread_mutex_lock(&cache_lock);
    for (int i = 0; i < CACHE_SLOTS && !hit; i++) {
        feed_build *b = cache[i];
        if (b && b->owner == k->owner && b->words == k->words && b->clearance == k->clearance &&
            b->added_us == k->added_us && b->allow_us == k->allow_us && b->stamp == k->stamp &&
            now < b->next_us && strcmp(b->name, k->name) == 0 && strcmp(b->since, k->since) == 0) {
            hit = b;
            hit->refs++;
            hit->used = ++cache_clock;
        }
    }
    pthread_mutex_unlock(&cache_lock);
    return hit;
}

/* Keeps b in the cache (which takes its own reference), evicting the least recently used. */
static void cache_put(feed_build *b)
{
    feed_build *old = NULL;
    pthread_mutex_lock(&cache_lock);
    int slot = 0;
    for (int i = 0; i < CACHE_SLOTS; i++) {
        if (!cache[i]) {
            slot = i;
            break;
        }
        if (cache[i]->used < cache[slot]->used)
            slot = i;
    }
    if ((old = cache[slot]) && --old->refs != 0)
        old = NULL;
    cache[slot] = b;
    b->refs++;
    b->used = ++cache_clock;
    pthread_mutex_unlock(&cache_lock);
    build_free(old);
}

/* ------------------------------------------------------------------------------------------ */
/* The feed's words                                                                             */

typedef struct feed_def {
    char *words; /* the words, NUL-separated */
    const char *argv[4 * ACCORD_EXPORT_SPEC_MAX];
    size_t argc;
    uint64_t hash; /* of the words */
    accord_export_spec spec;
} feed_def;

static int copy_words(void *ud, const accord_feed *f)
{
    feed_def *d = ud;
    size_t len = 0;
    for (size_t i = 0; i < f->argc; i++)
        len += strlen(f->argv[i]) + 1;
    if (f->argc > sizeof(d->argv) / sizeof(d->argv[0]) || !(d->words = malloc(len + 1)))
        return ACCORD_ENOMEM;
    char *p = d->words;
    for (size_t i = 0; i < f->argc; i++) {
        size_t n = strlen(f->argv[i]) + 1;
        memcpy(p, f->argv[i], n);
        d->argv[i] = p;
        p += n;
    }
    d->argc = f->argc;
    d->hash = XXH3_64bits(d->words, len);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Building                                                                                     */

static int collect_file(void *ud, const char *file, const char *data, size_t len)
{
    feed_build *b = ud;
    if (len == 0 && (b->nfiles == 0 || strcmp(b->files[b->nfiles - 1].name, file ? file : ""))) {
        if (b->nfiles == FEED_FILES)
            return ACCORD_ELIMIT;
        feed_file *f = &b->files[b->nfiles++];
        snprintf(f->name, sizeof(f->name), "%s", file ? file : "");
        buf_init(&f->b, (size_t)ACCORD_FEED_MAX_BYTES); /* the writer enforces the cap */
        return 0;
    }
    return buf_add(&b->files[b->nfiles - 1].b, data, len) ? ACCORD_ELIMIT : 0;
}

/* Tags each file by its bytes, and the listing by the files' tags. */
static void tag_files(feed_build *b)
{
    uint64_t tags[FEED_FILES];
    for (int i = 0; i < b->nfiles; i++) {
        feed_file *f = &b->files[i];
        f->tag = XXH3_64bits_withSeed(f->b.p ? f->b.p : "", f->b.len,
                                      XXH3_64bits(f->name, strlen(f->name)));
        tags[i] = f->tag;
    }
    b->tag = XXH3_64bits(tags, (size_t)b->nfiles * sizeof(tags[0]));
}

/* The previous state for ?since (NULL: it cannot be rebuilt; write the full script). */
static int select_prev(accord_store *s, const feed_def *d, const accord_export_cursor *c,
                       accord_export_set **prev, accord_error *err)
{
    accord_export_filter f = d->spec.filter;
    accord_export_cursor got;
    f.at_us = c->at_us;
    f.as_of_added_us = c->added_us;
    int rc = accord_export_select(s, &f, prev, err);
    if (!rc)
        rc = strcmp(d->spec.opts.format, "stix") == 0 ? accord_export_stix_cursor(*prev, &got)
                                                      : accord_export_nft_cursor(*prev, &got);
    if (!rc && got.digest != c->digest) {
        accord_export_set_free(*prev);
        *prev = NULL;
    }
    return rc;
}

/* Selects and writes feed d into b (whose key is filled). */
static int build(accord_store *s, feed_def *d, const accord_export_cursor *since, feed_build *b,
                 accord_error *err)
{
    accord_export_set *set = NULL, *prev = NULL;
    accord_export_options o = d->spec.opts;
    if (!o.max_bytes || o.max_bytes > ACCORD_FEED_MAX_BYTES)
        o.max_bytes = ACCORD_FEED_MAX_BYTES;
    accord_export_cursor cur;
    char text[ACCORD_EXPORT_CURSOR_MAX];
    int rc = accord_export_select(s, &d->spec.filter, &set, err);
    for (int tries = 1; !rc && strcmp(o.format, "rpz") == 0; tries++) {
        /* the zone's serial, per feed and clearance (readers cleared differently get different
         * zones); the feed's words are not part of its name, so a redefined feed goes on from
         * the serial its secondaries hold.  EBUSY: a concurrent build of the zone saw a newer
         * state of the store and took the serial; this selection is out of date */
        char scope[128];
        snprintf(scope, sizeof(scope), "feed/%s/%016llx", b->name,
                 (unsigned long long)b->clearance);
        rc = accord_export_rpz_serial(s, scope, NULL, set, &o, &o.rpz_serial, err);
        if (rc != ACCORD_EBUSY || tries == 8)
            break;
        accord_export_set_free(set);
        set = NULL;
        rc = accord_export_select(s, &d->spec.filter, &set, err);
    }
    if (!rc && since)
        rc = select_prev(s, d, since, &prev, err);
    int stix = strcmp(o.format, "stix") == 0;
    if (!rc && strcmp(o.format, "nft") == 0 && !(rc = accord_export_nft_cursor(set, &cur))) {
        accord_export_cursor_format(&cur, text, sizeof(text));
        o.nft_cursor = text;
    }
    if (!rc && stix && !(rc = accord_export_stix_cursor(set, &cur)))
        accord_export_cursor_format(&cur, text, sizeof(text));
    if (!rc)
        rc = !prev  ? accord_export_write(set, &o, collect_file, b, NULL, err)
             : stix ? accord_export_stix_delta(prev, set, &o, collect_file, b, NULL, err)
                    : accord_export_nft_delta(prev, set, &o, collect_file, b, NULL, err);
    /* a bundle has no room for a comment: its cursor is the feed's file "cursor", built with
     * it (a client reads /feeds/NAME/cursor first, then the bundle: a change in between is sent
     * again by the next ?since, never lost) */
    if (!rc && stix && !(rc = collect_file(b, "cursor", "", 0)))
        rc = collect_file(b, "cursor", text, strlen(text));
    if (!rc) {
        b->next_us = set->next_us;
        tag_files(b);
    }
    accord_export_set_free(set);
    accord_export_set_free(prev);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Answering                                                                                    */

static const char *content_type(const char *format, const char *file)
{
    const char *dot = strrchr(file, '.');
    if (!*file && strcmp(format, "stix") == 0)
        return "application/stix+json;version=2.1";
    if (dot && strcmp(dot, ".json") == 0)
        return "application/json";
    if ((dot && strcmp(dot, ".csv") == 0) || (!*file && strcmp(format, "csv") == 0))
        return "text/csv; charset=utf-8";
    return "text/plain; charset=utf-8";
}

/* The tag of file f, or of the listing when f is NULL. */
static void set_etag(taxii_response *rs, const feed_build *b, const feed_file *f)
{
    uint64_t t = f ? f->tag : b->tag;
    snprintf(rs->etag, sizeof(rs->etag), "\"%016llx\"", (unsigned long long)t);
}

/* /feeds/NAME of a multi-file format: the files' names. */
static void list_files(api_call *c, const feed_build *b, const char *format)
{
    taxii_response *rs = c->rs;
    rs->status = 200;
    rs->content_type = API_JSON;
    buf_adds(&rs->body, "{\"feed\":");
    buf_json_str(&rs->body, b->name);
    buf_adds(&rs->body, ",\"format\":");
    buf_json_str(&rs->body, format);
    buf_adds(&rs->body, ",\"files\":[");
    for (int i = 0; i < b->nfiles; i++) {
        buf_adds(&rs->body, i ? "," : "");
        buf_json_str(&rs->body, b->files[i].name);
    }
    buf_adds(&rs->body, "]}");
}

static void answer(api_call *c, const feed_build *b, const char *format, const char *file)
{
    taxii_response *rs = c->rs;
    const feed_file *f = NULL;
    int multi = accord_export_format_files(format) == 1;
    for (int i = 0; i < b->nfiles && !f; i++)
        if (strcmp(b->files[i].name, file) == 0)
            f = &b->files[i];
    if (!f && !(multi && !*file)) {
        api_fail(c, 404, "No such file", "feed %s has no file \"%.100s\"", b->name, file);
        return;
    }
    set_etag(rs, b, f);
    if (api_etag_matches(c->rq, rs->etag)) {
        rs->status = 304; /* no body: nothing changed */
        rs->content_type = NULL;
        return;
    }
    if (!f) {
        list_files(c, b, format);
        return;
    }
    rs->status = 200;
    rs->content_type = content_type(format, file);
    if (f->b.len && buf_add(&rs->body, f->b.p, f->b.len))
        api_fail(c, 500, "Feed too large", "feed %s passes the response size cap", b->name);
}

/* May the caller read feed d?  0 yes, or the HTTP status to answer. */
static int access_status(api_call *c, const feed_def *d)
{
    int can_read = 0, can_write = 0;
    if (c->who.is_admin)
        return 0;
    if (!d->spec.filter.collection)
        return 403;
    int rc = c->ctx->rights(c->ctx->ud, c->reader, &c->who, d->spec.filter.collection, &can_read,
                            &can_write);
    return rc == 0 && can_read ? 0 : rc && rc != ACCORD_ENOTFOUND ? 500 : 403;
}

/* Splits rest into the feed name and file; 0, or -1 when it is not NAME or NAME/FILE. */
static int split_path(const char *rest, char name[65], const char **file)
{
    const char *slash = strchr(rest, '/');
    size_t n = slash ? (size_t)(slash - rest) : strlen(rest);
    if (n == 0 || n > 64 || (slash && strchr(slash + 1, '/')))
        return -1;
    memcpy(name, rest, n);
    name[n] = '\0';
    *file = slash ? slash + 1 : "";
    return 0;
}

/* Reads feed `name` into d; 0 or the HTTP status it failed with (answered). */
static int load_feed(api_call *c, const char *name, feed_def *d)
{
    accord_error err = {0};
    int rc = accord_feed_each(c->reader, name, copy_words, d, &err);
    if (rc == ACCORD_ENOTFOUND)
        return api_fail(c, 404, "No such feed", "%s", err.msg), 404;
    if (!rc)
        rc = accord_export_spec_parse(&d->spec, d->argc, d->argv, &err);
    if (rc)
        return api_fail(c, 500, "Feed unreadable", "%s", err.msg[0] ? err.msg : "store error"), 500;
    return 0;
}

/*
 * What decides which versions viewer v reads: two accounts with the same clearance share a build
 * and an ETag (every administrator does); a change of organisation, flags, RED lists or the
 * store's default level gives another one.
 */
static uint64_t clearance_hash(const accord_viewer *v)
{
    if (v->all)
        return 1;
    char text[TLP_ORG_MAX + 64];
    int n = snprintf(text, sizeof(text), "%s|%d|%d|%d|%zu", v->org, v->community, v->member,
                     v->dflt, v->nred);
    uint64_t h = XXH3_64bits(text, n > 0 && (size_t)n < sizeof(text) ? (size_t)n : 0);
    return h ^ XXH3_64bits(v->red, v->nred * sizeof(*v->red));
}

/* Fills the key of b from the feed, the request and the store's change stamps. */
static int make_key(api_call *c, const feed_def *d, const char *name, const char *since,
                    feed_build *k)
{
    accord_store_stats st;
    accord_error err;
    if (accord_store_stats_light(c->reader, &st, &err) != 0)
        return -1;
    k->owner = c->ctx;
    snprintf(k->name, sizeof(k->name), "%s", name);
    snprintf(k->since, sizeof(k->since), "%s", since ? since : "");
    k->words = d->hash;
    k->clearance = clearance_hash(d->spec.filter.viewer);
    k->added_us = st.last_added_us;
    k->allow_us = accord_allowlist_changed(c->reader);
    k->stamp = store_feed_stamp(c->reader);
    return k->stamp < 0 ? -1 : 0;
}

void export_feed_handle(api_call *c)
{
    char name[65];
    const char *file, *since = api_param(c, "since");
    feed_def d = {0};
    accord_export_cursor cur;
    feed_build *b = NULL;
    accord_viewer *viewer = NULL;
    if (strcmp(c->rq->method, "GET") != 0 && strcmp(c->rq->method, "HEAD") != 0) {
        snprintf(c->rs->allow, sizeof(c->rs->allow), "GET, HEAD");
        api_fail(c, 405, "Method not allowed", "feeds are read with GET");
        return;
    }
    if (split_path(c->rest, name, &file) != 0) {
        api_fail(c, 404, "No such feed", "expected /feeds/NAME or /feeds/NAME/FILE");
        return;
    }
    if (load_feed(c, name, &d))
        goto out;
    int st = access_status(c, &d);
    if (st) {
        api_fail(c, st, st == 403 ? "Forbidden" : "Store error",
                 "account %s may not read feed %s (%s)", c->who.account, name,
                 d.spec.filter.collection ? "needs read rights on its collection"
                                          : "a feed of the whole store is for administrators");
        goto out;
    }
    accord_error verr = {0};
    if (accord_viewer_open(c->reader, c->who.account, &viewer, &verr) != 0) {
        api_fail(c, 500, "Store error", "the clearance of %s could not be read: %s", c->who.account,
                 verr.msg);
        goto out;
    }
    d.spec.filter.viewer = viewer; /* the reader's TLP clearance, besides the feed's --max-tlp */
    if (since &&
        ((strcmp(d.spec.opts.format, "nft") != 0 && strcmp(d.spec.opts.format, "stix") != 0) ||
         accord_export_cursor_parse(since, &cur) != 0)) {
        api_fail(c, 400, "Bad cursor",
                 "since=%.80s: incremental fetches are for nft and stix feeds, with the cursor "
                 "an nft feed prints (# cursor v1.AT.ADDED.DIGEST) or a stix feed serves as "
                 "/feeds/NAME/cursor",
                 since);
        goto out;
    }
    feed_build key = {0};
    if (make_key(c, &d, name, since, &key) != 0) {
        api_fail(c, 500, "Store error", "the store's state could not be read");
        goto out;
    }
    if (!(b = cache_get(&key, accord_timestamp_now()))) {
        accord_error err = {0};
        if (!(b = malloc(sizeof(*b)))) {
            api_fail(c, 500, "Out of memory", "building feed %s", name);
            goto out;
        }
        *b = key;
        b->refs = 1;
        int rc = build(c->reader, &d, since ? &cur : NULL, b, &err);
        if (rc == ACCORD_ELIMIT) {
            api_fail(c, 507, "Feed too large", "feed %s: %s", name,
                     err.msg[0] ? err.msg : accord_strerror(rc));
            build_free(b);
            b = NULL;
            goto out;
        }
        if (rc) {
            api_fail(c, rc == ACCORD_ENOTFOUND ? 404 : 500, "Feed not built", "feed %s: %s", name,
                     err.msg[0] ? err.msg : accord_strerror(rc));
            build_free(b);
            b = NULL;
            goto out;
        }
        cache_put(b);
    }
    answer(c, b, d.spec.opts.format, file);
out:
    if (b)
        build_release(b);
    accord_viewer_free(viewer);
    free(d.words);
}
