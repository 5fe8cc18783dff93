/*
 * misp_feed.c - following MISP feeds: the feed list, and incremental pulls.
 *
 * A MISP feed is a directory (on disk, or served over HTTPS) holding:
 *
 *   manifest.json   {"EVENT-UUID": {"info": ..., "timestamp": "EPOCH", "Orgc": ..., ...}, ...}
 *   EVENT-UUID.json {"Event": {...}}, one file per event
 *   hashes.csv      md5(attribute value),EVENT-UUID per line: MISP's index of the feed's values
 *
 * The state of a pull is the store itself: an event is current when the store holds its report
 * (report--EVENT-UUID) with modified equal to or newer than the manifest's timestamp, since the
 * report is written last, in the same transaction as the event's other objects.  So a pull
 * fetches only new or changed events, an interrupted pull starts again where it stopped, and a
 * second pull fetches nothing.  A listed event that the feed does not hold (feeds withhold some)
 * is reported as missing and the pull goes on.
 *
 * The feed list lives beside the store in DATA/misp-feeds.json:
 *
 *   {"feeds": [{"name": "circl", "url": "https://...", "ca_file": "/etc/...", "pin": "sha256//..",
 *               "last_pull_us": 0, "last_events": 0}, ...]}
 *
 * written to a temporary file and renamed, so a crash leaves the old or the new list.  URLs are
 * https://, or http:// to a loopback host only (tests, a local mirror), or a directory.
 *
 * hashes.csv, when the feed has one, checks each fetched event: every attribute value of the event
 * should be listed for it (as md5(value), or, for composite values "a|b", md5 of each part), and
 * every line listed for it should match one of its values.  A difference means the feed's files
 * are out of step (an event file older or newer than the index, a cut file, a mirror caught
 * half-way): it is reported and counted, and the event is imported all the same, since the event
 * file is what MISP itself would load.
 *
 * It does not verify feed signatures (MISP feeds have none).
 */
#include "accord.h"
#include "misp.h"
#include "store.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/u64map.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <nettle/md5.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#define MAX_FEEDS 256
#define MAX_LIST ((size_t)1 << 20)
#define MAX_MANIFEST ((size_t)256 << 20)
#define MAX_EVENT ((size_t)1 << 30)
#define MAX_HASHES ((size_t)1 << 30)

typedef struct feed_list {
    accord_misp_feed f[MAX_FEEDS];
    size_t n;
    ajson_arena a; /* the strings of f */
    char *text;
} feed_list;

static int name_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-", s[i]))
            return 0;
    return s[0] != '.';
}

/* https://..., http://loopback..., or an absolute directory. */
static int url_ok(const char *u)
{
    if (!u || !*u)
        return 0;
    if (strncmp(u, "https://", 8) == 0)
        return u[8] != 0;
    if (strncmp(u, "http://", 7) == 0) {
        const char *h = u + 7;
        return strncmp(h, "127.", 4) == 0 || strncmp(h, "localhost", 9) == 0 ||
               strncmp(h, "[::1]", 5) == 0;
    }
    return u[0] == '/' && strstr(u, "://") == NULL;
}

static void list_path(const char *dir, char *out, size_t len)
{
    snprintf(out, len, "%s/misp-feeds.json", dir);
}

static void list_free(feed_list *l)
{
    ajson_arena_free(&l->a);
    free(l->text);
}

static const char *dupstr(feed_list *l, const char *s)
{
    if (!s)
        return NULL;
    return ajson_arena_strndup(&l->a, s, strlen(s));
}

static int list_load(const char *dir, feed_list *l, accord_error *err)
{
    char path[4096];
    memset(l, 0, sizeof(*l));
    ajson_arena_init(&l->a, 0);
    list_path(dir, path, sizeof(path));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0
                               : accord_err_set(err, ACCORD_EIO, "%s: %s", path, strerror(errno));
    size_t len;
    int rc = misp_read_all(fd, MAX_LIST, &l->text, &len, err);
    close(fd);
    if (rc)
        return rc;
    ajson_error jerr;
    const ajson_value *root = ajson_parse(&l->a, l->text, len, &jerr);
    const ajson_value *feeds = ajson_get(root, "feeds");
    if (!feeds || feeds->type != AJSON_ARRAY)
        return accord_err_set(err, ACCORD_ECORRUPT, "%s: not a feed list", path);
    for (size_t i = 0; i < feeds->len && l->n < MAX_FEEDS; i++) {
        const ajson_value *o = &feeds->u.items[i];
        accord_misp_feed *f = &l->f[l->n];
        f->name = ajson_str(ajson_get(o, "name"));
        f->url = ajson_str(ajson_get(o, "url"));
        f->ca_file = ajson_str(ajson_get(o, "ca_file"));
        f->pin = ajson_str(ajson_get(o, "pin"));
        int64_t v = 0;
        ajson_int(ajson_get(o, "last_pull_us"), &v);
        f->last_pull_us = v;
        v = 0;
        ajson_int(ajson_get(o, "last_events"), &v);
        f->last_events = (uint64_t)v;
        if (f->name && f->url)
            l->n++;
    }
    return 0;
}

static void add_opt(buf *b, const char *key, const char *v)
{
    if (!v)
        return;
    buf_printf(b, ",\"%s\":", key);
    buf_json_str(b, v);
}

static int list_save(const char *dir, const feed_list *l, accord_error *err)
{
    char path[4096], tmp[4200];
    list_path(dir, path, sizeof(path));
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    buf b;
    buf_init(&b, MAX_LIST);
    buf_adds(&b, "{\"feeds\":[\n");
    for (size_t i = 0; i < l->n; i++) {
        const accord_misp_feed *f = &l->f[i];
        buf_adds(&b, i ? ",\n{\"name\":" : "{\"name\":");
        buf_json_str(&b, f->name);
        add_opt(&b, "url", f->url);
        add_opt(&b, "ca_file", f->ca_file);
        add_opt(&b, "pin", f->pin);
        buf_printf(&b, ",\"last_pull_us\":%lld,\"last_events\":%llu}", (long long)f->last_pull_us,
                   (unsigned long long)f->last_events);
    }
    buf_adds(&b, "\n]}\n");
    if (b.failed)
        return accord_err_set(err, ACCORD_ELIMIT, "feed list too long");
    mkdir(dir, 0700);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int rc = 0;
    if (fd < 0 || write(fd, b.p, b.len) != (ssize_t)b.len || fsync(fd) != 0)
        rc = accord_err_set(err, ACCORD_EIO, "%s: %s", tmp, strerror(errno));
    if (fd >= 0)
        close(fd);
    if (rc == 0 && rename(tmp, path) != 0)
        rc = accord_err_set(err, ACCORD_EIO, "%s: %s", path, strerror(errno));
    buf_free(&b);
    return rc;
}

static accord_misp_feed *list_find(feed_list *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->f[i].name, name) == 0)
            return &l->f[i];
    return NULL;
}

/*
 * Ends a change of the feed list begun with store_begin: its audit record (action, the feed's
 * name, detail) and the commit when rc is 0, else the rollback.  The list file is written inside
 * the transaction, so a list that could not be written leaves no record; a commit that fails
 * after it was renamed into place is reported (the list then says more than the log).
 */
static int feed_audit_end(accord_store *store, int rc, const char *action, const char *name,
                          const char *detail, accord_error *err)
{
    if (!rc)
        rc = store_audit(store, action, 0, name, detail, err);
    if (!rc)
        return store_commit(store, err);
    store_rollback(store);
    return rc;
}

int accord_misp_feed_add(accord_store *store, const char *dir, const accord_misp_feed *f,
                         accord_error *err)
{
    if (!f || !name_ok(f->name))
        return accord_err_set(err, ACCORD_EINVAL,
                              "feed name \"%.80s\": 1-64 of letters, digits, '_', '.', '-'",
                              f && f->name ? f->name : "");
    if (!url_ok(f->url))
        return accord_err_set(err, ACCORD_EINVAL,
                              "feed %s: \"%.200s\" is not https://..., http:// to a loopback "
                              "host, or an absolute directory",
                              f->name, f->url ? f->url : "");
    if (!store)
        return accord_err_set(err, ACCORD_EINVAL, "feed %s: no store for the audit record",
                              f->name);
    feed_list l;
    int rc = store_begin(store, err);
    if (rc)
        return rc;
    rc = list_load(dir, &l, err);
    int replaced = 0;
    if (rc == 0) {
        accord_misp_feed *e = list_find(&l, f->name);
        replaced = e != NULL;
        if (!e && l.n == MAX_FEEDS)
            rc = accord_err_set(err, ACCORD_ELIMIT, "at most %d feeds", MAX_FEEDS);
        else {
            if (!e)
                e = &l.f[l.n++];
            memset(e, 0, sizeof(*e));
            e->name = dupstr(&l, f->name);
            e->url = dupstr(&l, f->url);
            e->ca_file = dupstr(&l, f->ca_file);
            e->pin = dupstr(&l, f->pin);
            rc = list_save(dir, &l, err);
        }
    }
    list_free(&l);
    char detail[4200];
    snprintf(detail, sizeof(detail), "%s %s%s%s%s%s", replaced ? "replaced:" : "added:", f->url,
             f->ca_file ? " ca " : "", f->ca_file ? f->ca_file : "", f->pin ? " pin " : "",
             f->pin ? f->pin : "");
    return feed_audit_end(store, rc, "misp-feed-add", f->name, detail, err);
}

int accord_misp_feed_remove(accord_store *store, const char *dir, const char *name,
                            accord_error *err)
{
    if (!store)
        return accord_err_set(err, ACCORD_EINVAL, "feed removal: no store for the audit record");
    feed_list l;
    int rc = store_begin(store, err);
    if (rc)
        return rc;
    rc = list_load(dir, &l, err);
    accord_misp_feed *e = rc ? NULL : list_find(&l, name ? name : "");
    if (rc == 0 && !e)
        rc = accord_err_set(err, ACCORD_ENOTFOUND, "no feed named \"%.80s\"", name ? name : "");
    if (rc == 0) {
        size_t i = (size_t)(e - l.f);
        memmove(&l.f[i], &l.f[i + 1], (l.n - i - 1) * sizeof(l.f[0]));
        l.n--;
        rc = list_save(dir, &l, err);
    }
    list_free(&l);
    return feed_audit_end(store, rc, "misp-feed-remove", name, NULL, err);
}

static int feed_cmp(const void *a, const void *b)
{
    return strcmp(((const accord_misp_feed *)a)->name, ((const accord_misp_feed *)b)->name);
}

int accord_misp_feed_list(const char *dir, int (*cb)(void *ud, const accord_misp_feed *f),
                          void *ud, accord_error *err)
{
    feed_list l;
    int rc = list_load(dir, &l, err);
    if (rc == 0)
        qsort(l.f, l.n, sizeof(l.f[0]), feed_cmp);
    for (size_t i = 0; rc == 0 && i < l.n; i++)
        rc = cb(ud, &l.f[i]);
    list_free(&l);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Fetching                                                                                   */

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    buf *b = ud;
    return buf_add(b, p, size * n) ? 0 : size * n;
}

/*
 * Reads feed file `name` into *text.  ACCORD_ENOTFOUND when the feed does not hold it (no such
 * file, HTTP 404), ACCORD_EIO for any other failure (message in err).
 */
static int fetch(const accord_misp_feed *f, CURL *c, const char *name, size_t max, char **text,
                 size_t *len, accord_error *err)
{
    char url[4096];
    size_t ul = strlen(f->url);
    snprintf(url, sizeof(url), "%s%s%s", f->url, ul && f->url[ul - 1] == '/' ? "" : "/", name);
    if (strstr(f->url, "://") == NULL) {
        int fd = open(url, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return accord_err_set(err, errno == ENOENT ? ACCORD_ENOTFOUND : ACCORD_EIO, "%s: %s",
                                  url, strerror(errno));
        int rc = misp_read_all(fd, max, text, len, err);
        close(fd);
        return rc ? misp_err_named(err, url, rc) : 0;
    }
    if (!c)
        return accord_err_set(err, ACCORD_ENOMEM, "cannot start libcurl");
    curl_easy_reset(c); /* keeps the connection to the feed's host open across events */
    buf b;
    buf_init(&b, max);
    char ebuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, strncmp(f->url, "http://", 7) ? "https" : "http");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L); /* mirrors redirect; never to http */
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, ""); /* gzip on the wire when offered */
    curl_easy_setopt(c, CURLOPT_USERAGENT, "accord/" ACCORD_VERSION_STRING);
    if (f->ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, f->ca_file);
    if (f->pin)
        curl_easy_setopt(c, CURLOPT_PINNEDPUBLICKEY, f->pin);
    CURLcode cc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    int rc = 0;
    if (cc != CURLE_OK)
        rc = accord_err_set(err, ACCORD_EIO, "%s: %s", url,
                            ebuf[0] ? ebuf : curl_easy_strerror(cc));
    else if (status == 404 || status == 410)
        rc = accord_err_set(err, ACCORD_ENOTFOUND, "%s: HTTP %ld", url, status);
    else if (status != 200)
        rc = accord_err_set(err, ACCORD_EIO, "%s: HTTP %ld", url, status);
    else if (b.failed)
        rc = accord_err_set(err, ACCORD_ELIMIT, "%s: larger than %zu bytes", url, max);
    if (rc) {
        buf_free(&b);
        return rc;
    }
    if (!b.p)
        buf_add(&b, "", 0);
    *text = buf_take(&b, len);
    return *text ? 0 : accord_err_set(err, ACCORD_ENOMEM, "out of memory");
}

/* ------------------------------------------------------------------------------------------ */
/* Pulling                                                                                    */

typedef struct latest {
    int found;
    char modified[64];
} latest;

static int on_latest(void *ud, const accord_record *r)
{
    latest *l = ud;
    l->found = 1;
    snprintf(l->modified, sizeof(l->modified), "%s", r->modified);
    return 0;
}

/* 1 when the store holds report--uuid at timestamp ts (epoch seconds) or later. */
static int is_current(accord_store *store, const char *uuid, int64_t ts)
{
    char id[96];
    latest l = {0};
    snprintf(id, sizeof(id), "report--%s", uuid);
    for (char *p = id + 8; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    if (accord_store_get(store, id, 0, on_latest, &l, NULL) != 0 || !l.found)
        return 0;
    int64_t us;
    return accord_timestamp_parse(l.modified, &us) == 0 && us >= ts * 1000000;
}

static void problem(const accord_misp_options *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void problem(const accord_misp_options *o, const char *fmt, ...)
{
    char msg[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (o->on_error)
        o->on_error(o->ud, msg);
}

static int uuid_name_ok(const char *k)
{
    size_t n = strlen(k);
    if (n != 36)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789abcdefABCDEF-", k[i]))
            return 0;
    return 1;
}

/* ------------------------------------------------------------------------------------------ */
/* hashes.csv                                                                                 */

/* The feed's hashes.csv as sets: (md5, event) lines, and lines per event. */
typedef struct feed_hashes {
    u64map lines;  /* line key -> 1 listed, 2 matched by a value of the event */
    u64map events; /* XXH3(event uuid) -> lines listed for it */
    uint64_t n;
} feed_hashes;

/* One fetched event's check against hashes.csv (the value hook runs while the event is mapped,
 * before the check is read). */
typedef struct hash_check {
    feed_hashes *h;
    uint64_t matched, unlisted;
} hash_check;

static uint64_t line_key(const unsigned char md5[16], const char *uuid)
{
    unsigned char k[16 + 36];
    memcpy(k, md5, 16);
    for (int i = 0; i < 36; i++)
        k[16 + i] = (unsigned char)tolower((unsigned char)uuid[i]);
    return u64map_key(XXH3_64bits(k, sizeof(k)));
}

static int hex_md5(const char *p, unsigned char out[16])
{
    for (int i = 0; i < 32; i++)
        if (!isxdigit((unsigned char)p[i]))
            return -1;
    for (int i = 0; i < 16; i++) {
        char b[3] = {p[2 * i], p[2 * i + 1], 0};
        out[i] = (unsigned char)strtoul(b, NULL, 16);
    }
    return 0;
}

/* Reads "md5,uuid" lines (CR LF or LF; others reported once and skipped). */
static void hashes_load(feed_hashes *h, const char *text, size_t len, const char *feed,
                        const accord_misp_options *opts)
{
    uint64_t bad = 0, first_bad = 0, line = 0;
    for (size_t p = 0; p < len;) {
        const char *nl = memchr(text + p, '\n', len - p);
        size_t e = nl ? (size_t)(nl - text) : len, n = e - p;
        line++;
        if (n && text[e - 1] == '\r')
            n--;
        unsigned char md5[16];
        if (n == 69 && text[p + 32] == ',' && hex_md5(text + p, md5) == 0) {
            uint64_t k = line_key(md5, text + p + 33), ev = 0;
            uint64_t ek = u64map_key(XXH3_64bits(text + p + 33, 36));
            if (!u64map_get(&h->lines, k, NULL)) {
                u64map_get(&h->events, ek, &ev);
                u64map_put(&h->lines, k, 1);
                u64map_put(&h->events, ek, ev + 1);
                h->n++;
            }
        } else if (n) {
            if (!bad++)
                first_bad = line;
        }
        p = e + 1;
    }
    if (bad)
        problem(opts, "feed %s: hashes.csv: %llu line(s) not \"md5,event-uuid\" (the first is line "
                      "%llu); skipped",
                feed, (unsigned long long)bad, (unsigned long long)first_bad);
}

/* 1 when md5(v[0..len)) is listed for the event; marks the line matched. */
static int listed(hash_check *c, const char *uuid, const char *v, size_t len)
{
    struct md5_ctx m;
    unsigned char d[16];
    uint64_t k, state = 0;
    md5_init(&m);
    md5_update(&m, len, (const uint8_t *)v);
    md5_digest(&m, sizeof(d), d);
    k = line_key(d, uuid);
    if (!u64map_get(&c->h->lines, k, &state))
        return 0;
    if (state == 1) {
        u64map_put(&c->h->lines, k, 2);
        c->matched++;
    }
    return 1;
}

static void on_value(void *ud, const char *uuid, const char *v)
{
    hash_check *c = ud;
    if (strlen(uuid) != 36 || listed(c, uuid, v, strlen(v)))
        return;
    int all = strchr(v, '|') != NULL; /* composite: each part may be listed instead */
    for (const char *p = v; all; p++) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        all = listed(c, uuid, p, n);
        if (!bar)
            break;
        p = bar;
    }
    if (!all)
        c->unlisted++;
}

/* Compares event `uuid`'s values (seen through on_value) with its hashes.csv lines. */
static void hashes_verdict(const feed_hashes *h, const hash_check *c, const char *feed,
                           const char *uuid, const accord_misp_options *opts,
                           accord_misp_pull_stats *ps)
{
    char lc[37];
    uint64_t n = 0;
    for (int i = 0; i < 37; i++)
        lc[i] = (char)tolower((unsigned char)uuid[i]);
    u64map_get(&h->events, u64map_key(XXH3_64bits(lc, 36)), &n);
    if (!c->unlisted && c->matched >= n)
        return;
    ps->out_of_step++;
    problem(opts, "feed %s: event %s: %llu attribute value(s) not in hashes.csv, %llu of its %llu "
                  "hashes.csv line(s) match no value: the feed's files are out of step (imported "
                  "as the event file says)",
            feed, uuid, (unsigned long long)c->unlisted, (unsigned long long)(n - c->matched),
            (unsigned long long)n);
}

static int pull_one(accord_store *store, accord_misp_feed *f, const accord_misp_options *opts,
                    accord_misp_pull_stats *ps, accord_error *err)
{
    char *text = NULL;
    size_t len = 0;
    feed_hashes h = {.n = 0};
    u64map_init(&h.lines);
    u64map_init(&h.events);
    CURL *c = strstr(f->url, "://") ? curl_easy_init() : NULL;
    int rc = fetch(f, c, "manifest.json", MAX_MANIFEST, &text, &len, err);
    if (rc) {
        problem(opts, "feed %s: manifest.json: %s", f->name, err ? err->msg : "unreadable");
        u64map_free(&h.lines);
        u64map_free(&h.events);
        curl_easy_cleanup(c);
        return rc == ACCORD_ENOTFOUND ? ACCORD_EIO : rc;
    }
    ajson_arena a;
    ajson_arena_init(&a, len * 8 + ((size_t)16 << 20));
    ajson_error jerr;
    const ajson_value *m = ajson_parse(&a, text, len, &jerr);
    if (!m || m->type != AJSON_OBJECT) {
        unsigned long line = 0, col = 0;
        if (!m)
            misp_line_col(text, len, jerr.offset, &line, &col);
        rc = accord_err_set(err, ACCORD_EJSON, "feed %s: manifest.json:%lu:%lu: %s", f->name,
                            line, col, m ? "not a JSON object" : jerr.msg);
        problem(opts, "%s", err ? err->msg : "bad manifest");
        goto out;
    }
    int partial = 0;
    char *htext = NULL;
    size_t hlen = 0;
    accord_error herr = {0};
    int hr = fetch(f, c, "hashes.csv", MAX_HASHES, &htext, &hlen, &herr);
    if (hr == 0)
        hashes_load(&h, htext, hlen, f->name, opts);
    else if (hr != ACCORD_ENOTFOUND) /* not fatal: the events are what is imported */
        problem(opts, "feed %s: hashes.csv: %s; events not checked against it", f->name, herr.msg);
    free(htext);
    ps->hashes += h.n;
    for (size_t i = 0; i < m->len; i++) {
        const ajson_member *e = &m->u.members[i];
        int64_t ts = 0;
        const ajson_value *tv = ajson_get(&e->value, "timestamp");
        const char *tstr = ajson_str(tv);
        ps->listed++;
        if (!uuid_name_ok(e->key) ||
            !(tstr ? (ts = strtoll(tstr, NULL, 10)) > 0 : ajson_int(tv, &ts)) || ts < 0 ||
            ts > INT64_C(253402300799)) {
            ps->failed++;
            partial = 1;
            problem(opts, "feed %s: manifest.json: entry \"%.60s\": no event uuid and timestamp in 1970..9999",
                    f->name, e->key);
            continue;
        }
        if (is_current(store, e->key, ts)) {
            ps->current++;
            continue;
        }
        char name[64], src[200];
        snprintf(name, sizeof(name), "%s.json", e->key);
        snprintf(src, sizeof(src), "%s/%s", f->name, name);
        char *ev = NULL;
        size_t evlen = 0;
        accord_error ferr = {0};
        int r = fetch(f, c, name, MAX_EVENT, &ev, &evlen, &ferr);
        if (r == ACCORD_ENOTFOUND) {
            ps->missing++;
            partial = 1;
            problem(opts, "feed %s: event %s is listed in manifest.json but missing: %s",
                    f->name, e->key, ferr.msg);
            continue;
        }
        if (r) {
            ps->failed++;
            partial = 1;
            problem(opts, "feed %s: event %s: %s", f->name, e->key, ferr.msg);
            continue;
        }
        accord_misp_options o = *opts;
        o.source = src;
        accord_misp_stats st;
        hash_check hc = {&h, 0, 0};
        r = misp_import_mem_values(store, ev, evlen, &o, &st, h.n ? on_value : NULL, &hc, &ferr);
        free(ev);
        if (h.n && (r == 0 || r == ACCORD_ESTIX) && st.events)
            hashes_verdict(&h, &hc, f->name, e->key, opts, ps);
        accord_misp_stats_add(&ps->misp, &st);
        if (r && r != ACCORD_ESTIX) {
            ps->failed++;
            partial = 1;
            problem(opts, "%s", ferr.msg);
            if (r == ACCORD_ESTORE || r == ACCORD_ENOMEM || r == ACCORD_EBUSY) {
                rc = r;
                if (err)
                    *err = ferr;
                goto out;
            }
            continue;
        }
        ps->fetched++;
        partial |= r != 0;
    }
    f->last_events = m->len;
    if (partial)
        rc = accord_err_set(err, ACCORD_ESTIX, "feed %s: some events missing or failed", f->name);
out:
    u64map_free(&h.lines);
    u64map_free(&h.events);
    curl_easy_cleanup(c);
    ajson_arena_free(&a);
    free(text);
    return rc;
}

int accord_misp_feed_pull(accord_store *store, const char *dir, const char *name,
                          const accord_misp_options *opts, accord_misp_pull_stats *st,
                          accord_error *err)
{
    static const accord_misp_options dflt = {0};
    accord_misp_pull_stats local;
    accord_misp_pull_stats *ps = st ? st : &local;
    memset(ps, 0, sizeof(*ps));
    opts = opts ? opts : &dflt;
    feed_list l;
    int rc = list_load(dir, &l, err), worst = 0;
    if (rc == 0 && name && !list_find(&l, name))
        rc = accord_err_set(err, ACCORD_ENOTFOUND, "no feed named \"%.80s\"", name);
    if (rc == 0 && !name && l.n == 0)
        rc = accord_err_set(err, ACCORD_ENOTFOUND, "no feed (add one with `misp feed add`)");
    for (size_t i = 0; rc == 0 && i < l.n; i++) {
        if (name && strcmp(l.f[i].name, name) != 0)
            continue;
        accord_error e1 = {0};
        int r = pull_one(store, &l.f[i], opts, ps, &e1);
        l.f[i].last_pull_us = accord_timestamp_now();
        if (r && (!worst || worst == ACCORD_ESTIX)) {
            worst = r;
            if (err)
                *err = e1;
        }
        if (r == ACCORD_ESTORE || r == ACCORD_ENOMEM || r == ACCORD_EBUSY)
            break;
    }
    if (rc == 0) {
        /* the list may have changed meanwhile: reload, and update only the pulled feeds */
        feed_list now;
        accord_error e2;
        if (list_load(dir, &now, &e2) == 0) {
            for (size_t i = 0; i < l.n; i++) {
                accord_misp_feed *f = list_find(&now, l.f[i].name);
                if (f && (!name || strcmp(name, f->name) == 0)) {
                    f->last_pull_us = l.f[i].last_pull_us;
                    f->last_events = l.f[i].last_events;
                }
            }
            list_save(dir, &now, &e2);
        }
        list_free(&now);
        rc = worst;
    }
    list_free(&l);
    return rc;
}
