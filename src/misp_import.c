/*
 * misp_import.c - MISP event JSON into the store: find the events, map them (misp_map.c), and
 * hand the STIX objects to the store (misp_store.c), so that MISP content is indexed, audited
 * and versioned exactly like any other STIX input.
 *
 * The mapper hands each STIX object, as the compact JSON it writes, straight to misp_store.c's
 * sink: parsed, stored and audited as import.c would, without a stream to cut it from,
 * whitespace to strip, or a second validation of what the mapper built.  So memory holds the
 * parsed MISP document and one object, never the STIX output of an event (an event of a million
 * attributes maps to more STIX text than MISP text).
 *
 * Transactions: without STRICT, consecutive events share one sink - one transaction - (see
 * "Batches"), and a batch with a bad event is rolled back and imported again one event per
 * transaction, so a bad event never takes the others with it; a feed pull imports one event per
 * call and resumes after the last committed event.  With STRICT, all events of the input go through one sink with the STRICT flag: the first
 * bad attribute or invalid object rejects the whole input, and nothing of it is stored.
 *
 * It does not read directories (the CLI walks them) or fetch URLs (misp_feed.c).
 */
#include "accord.h"
#include "misp.h"
#include "store.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/u64map.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>
#include <zlib.h>

#define MISP_MAX_INPUT ((size_t)4 << 30)

/* zlib's message m without gzerror's "<fd:N>: " in front. */
static const char *gz_msg(const char *m)
{
    const char *colon = m ? strstr(m, ": ") : NULL;
    return colon ? colon + 2 : m;
}

int misp_err_named(accord_error *err, const char *source, int rc)
{
    if (err && source) {
        char msg[sizeof(err->msg)];
        snprintf(msg, sizeof(msg), "%s", err->msg);
        accord_err_set(err, rc, "%s: %s", source, msg);
    }
    return rc;
}

int misp_read_all(int fd, size_t max, char **out, size_t *len, accord_error *err)
{
    int dfd = dup(fd);
    if (dfd < 0)
        return accord_err_set(err, ACCORD_EIO, "cannot read the input: %s", strerror(errno));
    gzFile gz = gzdopen(dfd, "rb"); /* reads plain input unchanged */
    if (!gz) {
        close(dfd);
        return accord_err_set(err, ACCORD_ENOMEM, "out of memory");
    }
    gzbuffer(gz, 1 << 17);
    size_t cap = 1 << 20, n = 0;
    char *p = malloc(cap + 1);
    int rc = p ? 0 : ACCORD_ENOMEM;
    while (rc == 0) {
        if (n == cap) {
            if (cap >= max) {
                rc = accord_err_set(err, ACCORD_ELIMIT, "input larger than %zu bytes", max);
                break;
            }
            cap = cap * 2 > max ? max : cap * 2;
            char *q = realloc(p, cap + 1);
            if (!q) {
                rc = ACCORD_ENOMEM;
                break;
            }
            p = q;
        }
        size_t want = cap - n > (1u << 30) ? (1u << 30) : cap - n;
        int got = gzread(gz, p + n, (unsigned)want);
        if (got < 0) {
            int zerr;
            const char *m = gzerror(gz, &zerr);
            rc = zerr == Z_ERRNO ? accord_err_set(err, ACCORD_EIO, "cannot read the input: %s",
                                                  strerror(errno))
                                 : accord_err_set(err, ACCORD_EIO, "corrupt gzip: %s", gz_msg(m));
            break;
        }
        if (got == 0) { /* zlib ends a cut gzip stream as if it were whole, with this mark */
            int zerr = Z_OK;
            const char *m = gz_msg(gzerror(gz, &zerr));
            if (zerr == Z_BUF_ERROR)
                rc = accord_err_set(err, ACCORD_EIO,
                                    "truncated or corrupt gzip (%s): %zu byte(s) inflated before "
                                    "the end of the file",
                                    m && *m ? m : "unexpected end of file", n);
            break;
        }
        n += (size_t)got;
    }
    gzclose(gz);
    if (rc) {
        free(p);
        if (rc == ACCORD_ENOMEM)
            accord_err_set(err, rc, "out of memory reading the input");
        return rc;
    }
    p[n] = 0;
    *out = p;
    *len = n;
    return 0;
}

void misp_line_col(const char *text, size_t len, size_t off, unsigned long *line,
                   unsigned long *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off && i < len; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Consumer: the import pipeline                                                              */

typedef struct run {
    const accord_misp_options *opts;
    accord_misp_stats *st;
    const char *event_uuid; /* for messages: the event of the batch (NULL in strict mode) */
} run;

static void on_reject(void *ud, const accord_reject *r)
{
    run *u = ud;
    if (!u->opts->on_error)
        return;
    char msg[1100];
    snprintf(msg, sizeof(msg), "%s: %s%s%s%s", u->opts->source ? u->opts->source : "input",
             u->event_uuid ? "event " : "", u->event_uuid ? u->event_uuid : "",
             u->event_uuid ? ": STIX " : "STIX ", r->message);
    u->opts->on_error(u->opts->ud, msg);
}

/*
 * Maps events[0..n) and imports the objects in one sink (one transaction).  mst
 * receives the mapping counts, the store counts go to mst->store.
 */
typedef struct value_hook {
    misp_value_fn fn;
    void *ud;
} value_hook;

/* The mapper's emit callback: each object straight into the open sink. */
typedef struct feed {
    misp_sink *sink;
    accord_error *err;
    int rc; /* the import's error, which stopped the mapping */
} feed;

static int feed_obj(void *ud, const char *json, size_t len)
{
    feed *f = ud;
    return f->rc = misp_sink_object(f->sink, json, len, f->err);
}

static int import_batch(accord_store *store, const ajson_value *const *events, size_t n,
                        size_t first, const misp_lists *lists, const value_hook *hook,
                        const accord_misp_options *opts, int strict, accord_misp_stats *mst,
                        accord_error *err)
{
    run u = {opts, mst, NULL};
    char uuid[40] = "";
    if (n == 1) {
        const ajson_value *v = ajson_get(events[0], "uuid");
        snprintf(uuid, sizeof(uuid), "%s", ajson_str(v) ? v->u.str : "");
        u.event_uuid = uuid;
    }
    accord_import_options io;
    memset(&io, 0, sizeof(io));
    io.flags = strict ? ACCORD_IMPORT_STRICT : 0;
    io.source = opts->source;
    io.collection = opts->collection;
    io.on_reject = on_reject;
    io.ud = &u;
    accord_error ierr;
    memset(&ierr, 0, sizeof(ierr));
    feed f = {NULL, &ierr, 0};
    int rc = misp_sink_open(store, &io, &f.sink, &ierr);
    if (rc) {
        if (err)
            *err = ierr;
        return rc;
    }
    misp_map_ctx map = {opts, mst, feed_obj, &f, strict, lists, hook ? hook->fn : NULL,
                        hook ? hook->ud : NULL};
    int map_rc = 0;
    for (size_t i = 0; i < n && map_rc == 0; i++)
        map_rc = misp_map_event(&map, events[i], first + i);
    if (f.rc)
        map_rc = 0; /* the import stopped the mapping: its error is the outcome */
    rc = misp_sink_close(f.sink, f.rc ? f.rc : map_rc, &mst->store, &ierr);
    if (map_rc && rc != ACCORD_ESTRICT) {
        /* mapping failed: the event's transaction was rolled back */
        rc = map_rc;
        accord_err_set(err, rc, "%s: mapping stopped: %s", opts->source ? opts->source : "input",
                       accord_strerror(rc));
    } else if (rc == ACCORD_ESTRICT && map_rc) {
        accord_err_set(err, rc, "%s: whole input rejected (--strict): an attribute was bad",
                       opts->source ? opts->source : "input");
    } else if (rc) {
        if (err)
            *err = ierr;
    }
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Attributes an update dropped: revoked                                                      */

/*
 * MISP feeds and exports leave deleted attributes out instead of flagging them.  So when an
 * event comes again with a newer timestamp, every attribute-derived SDO that the previous report
 * referenced and the new one does not is written once more with revoked: true and the new
 * event's timestamp as modified: consumers of the store then stop using it, as MISP users
 * stopped seeing it.  Clusters, identities and relationships are left alone (other events may
 * still use them).
 */

typedef struct body_copy {
    char *p;
    size_t len;
    char modified[64];
    int revoked;
} body_copy;

static int on_body(void *ud, const accord_record *r)
{
    body_copy *b = ud;
    free(b->p);
    b->p = malloc(r->body_len + 1);
    if (!b->p)
        return ACCORD_ENOMEM;
    memcpy(b->p, r->body, r->body_len);
    b->p[r->body_len] = 0;
    b->len = r->body_len;
    b->revoked = r->revoked;
    snprintf(b->modified, sizeof(b->modified), "%s", r->modified);
    return 0;
}

static int latest_body(accord_store *store, const char *id, body_copy *out)
{
    memset(out, 0, sizeof(*out));
    return accord_store_get(store, id, 0, on_body, out, NULL) == 0 && out->p ? 0 : -1;
}

/* Writes v as compact JSON (strings re-escaped, numbers as written). */
static void json_write(buf *b, const ajson_value *v)
{
    switch (v->type) {
    case AJSON_NULL: buf_adds(b, "null"); break;
    case AJSON_TRUE: buf_adds(b, "true"); break;
    case AJSON_FALSE: buf_adds(b, "false"); break;
    case AJSON_NUMBER: buf_add(b, v->u.str, v->len); break;
    case AJSON_STRING: buf_json_str(b, v->u.str); break;
    case AJSON_ARRAY:
        buf_adds(b, "[");
        for (size_t i = 0; i < v->len; i++) {
            if (i)
                buf_adds(b, ",");
            json_write(b, &v->u.items[i]);
        }
        buf_adds(b, "]");
        break;
    case AJSON_OBJECT:
        buf_adds(b, "{");
        for (size_t i = 0; i < v->len; i++) {
            if (i)
                buf_adds(b, ",");
            buf_json_str(b, v->u.members[i].key);
            buf_adds(b, ":");
            json_write(b, &v->u.members[i].value);
        }
        buf_adds(b, "}");
        break;
    }
}

/* The object `body` again with modified = `modified` and revoked: true, as a line in out. */
static int revoked_version(const body_copy *body, const char *modified, ajson_arena *a, buf *out)
{
    ajson_error jerr;
    ajson_arena_reset(a);
    const ajson_value *o = ajson_parse(a, body->p, body->len, &jerr);
    if (!o || o->type != AJSON_OBJECT)
        return -1;
    buf_adds(out, "{");
    int n = 0;
    for (size_t i = 0; i < o->len; i++) {
        const ajson_member *m = &o->u.members[i];
        if (strcmp(m->key, "revoked") == 0)
            continue;
        buf_adds(out, n++ ? "," : "");
        buf_json_str(out, m->key);
        buf_adds(out, ":");
        if (strcmp(m->key, "modified") == 0)
            buf_json_str(out, modified);
        else
            json_write(out, &m->value);
    }
    buf_adds(out, ",\"revoked\":true}\n");
    return out->failed ? ACCORD_ENOMEM : 0;
}

static int is_attribute_sdo(const char *id)
{
    static const char *const types[] = {"indicator--", "observed-data--", "x-misp-attribute--",
                                        "vulnerability--"};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strncmp(id, types[i], strlen(types[i])) == 0)
            return 1;
    return 0;
}

/* Stores JSON lines `lines` (a few objects) in one transaction. */
static int import_lines(accord_store *store, const buf *lines, const accord_misp_options *opts,
                        accord_import_stats *ist, accord_error *err)
{
    FILE *f = tmpfile();
    if (!f)
        return accord_err_set(err, ACCORD_EIO, "misp: tmpfile: %s", strerror(errno));
    int rc = 0;
    if (fwrite(lines->p, 1, lines->len, f) != lines->len || fflush(f) != 0)
        rc = accord_err_set(err, ACCORD_EIO, "misp: tmpfile: %s", strerror(errno));
    if (rc == 0) {
        rewind(f);
        accord_import_options io;
        memset(&io, 0, sizeof(io));
        io.batch_objects = UINT32_MAX;
        io.source = opts->source;
        io.collection = opts->collection;
        rc = accord_import_fd(store, fileno(f), &io, ist, err);
    }
    fclose(f);
    return rc;
}

/*
 * After event `uuid` was imported: revokes what the previous report (old, may be empty)
 * referenced and the stored latest report does not, when the latter is newer.
 */
static int revoke_dropped(accord_store *store, const char *report_id, const body_copy *old,
                          const accord_misp_options *opts, accord_misp_stats *st,
                          accord_error *err)
{
    body_copy now;
    int64_t t_old, t_now;
    if (!old->p || latest_body(store, report_id, &now) != 0)
        return 0;
    int rc = 0;
    ajson_arena a;
    ajson_arena_init(&a, 0);
    u64map keep;
    u64map_init_set(&keep);
    buf lines;
    buf_init(&lines, (size_t)1 << 30);
    ajson_error jerr;
    if (accord_timestamp_parse(old->modified, &t_old) || accord_timestamp_parse(now.modified, &t_now) ||
        t_now <= t_old)
        goto out;
    const ajson_value *r = ajson_parse(&a, now.p, now.len, &jerr);
    const ajson_value *refs = ajson_get(r, "object_refs");
    for (size_t i = 0; refs && refs->type == AJSON_ARRAY && i < refs->len; i++)
        if (ajson_str(&refs->u.items[i]) &&
            u64map_put(&keep, u64map_key(XXH3_64bits(refs->u.items[i].u.str, refs->u.items[i].len)), 1))
            rc = ACCORD_ENOMEM;
    /* the old refs: parsed into a second arena, the first one is in use */
    ajson_arena b, c;
    ajson_arena_init(&b, 0);
    ajson_arena_init(&c, 0);
    const ajson_value *orp = ajson_get(ajson_parse(&b, old->p, old->len, &jerr), "object_refs");
    uint64_t n = 0;
    for (size_t i = 0; rc == 0 && orp && orp->type == AJSON_ARRAY && i < orp->len; i++) {
        const ajson_value *v = &orp->u.items[i];
        body_copy prev;
        if (!ajson_str(v) || !is_attribute_sdo(v->u.str) ||
            u64map_get(&keep, u64map_key(XXH3_64bits(v->u.str, v->len)), NULL))
            continue;
        if (latest_body(store, v->u.str, &prev) != 0)
            continue;
        int64_t t_prev;
        if (!prev.revoked && accord_timestamp_parse(prev.modified, &t_prev) == 0 && t_prev < t_now) {
            rc = revoked_version(&prev, now.modified, &c, &lines);
            n += rc == 0;
        }
        free(prev.p);
    }
    ajson_arena_free(&b);
    ajson_arena_free(&c);
    if (rc == 0 && n) {
        accord_import_stats ist;
        memset(&ist, 0, sizeof(ist));
        rc = import_lines(store, &lines, opts, &ist, err);
        st->revoked += n;
        st->store.read += ist.read;
        st->store.versions += ist.versions;
        st->store.duplicates += ist.duplicates;
        st->store.rejected += ist.rejected;
        st->store.conflicts += ist.conflicts;
        st->store.committed += ist.committed;
    }
out:
    free(now.p);
    buf_free(&lines);
    u64map_free(&keep);
    ajson_arena_free(&a);
    return rc;
}

typedef struct collect {
    const ajson_value **v;
    size_t n, cap;
} collect;

static int collect_event(void *ud, const ajson_value *e, size_t i)
{
    collect *c = ud;
    (void)i;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        const ajson_value **v = realloc(c->v, cap * sizeof(*v));
        if (!v)
            return ACCORD_ENOMEM;
        c->v = v;
        c->cap = cap;
    }
    c->v[c->n++] = e;
    return 0;
}

/* Parses text and lists its events; the caller frees *events and the arena. */
static int parse_events(const char *text, size_t len, const accord_misp_options *opts,
                        ajson_arena *a, collect *ev, accord_error *err)
{
    const char *src = opts->source ? opts->source : "input";
    ajson_error jerr;
    const ajson_value *root = ajson_parse(a, text, len, &jerr);
    if (!root) {
        unsigned long line, col;
        misp_line_col(text, len, jerr.offset, &line, &col);
        return accord_err_set(err, ACCORD_EJSON, "%s:%lu:%lu: invalid JSON (byte %zu): %s", src,
                              line, col, jerr.offset, jerr.msg);
    }
    int cb_rc;
    long n = misp_events(root, collect_event, ev, &cb_rc);
    if (cb_rc)
        return accord_err_set(err, cb_rc, "%s: out of memory", src);
    if (n < 0)
        return accord_err_set(err, ACCORD_EJSON,
                              "%s: no MISP event ({\"Event\": ...}, a list of them, or "
                              "{\"response\": [...]})",
                              src);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* The document's skeleton: one element (usually one event) at a time                          */

/*
 * A list of a million attributes' events must not become one JSON tree: the skeleton around the
 * events (the top-level array, or {"response": [...]}) is walked without building anything, and
 * each element is parsed on its own into an arena reset between elements.  So memory holds the
 * text and one event's tree.  The walk checks only the structure it needs (brackets, strings);
 * ajson_parse checks each element strictly, and a broken element is reported and skipped while
 * the others import.
 */

static size_t skip_ws(const char *t, size_t len, size_t p)
{
    while (p < len && (t[p] == ' ' || t[p] == '\n' || t[p] == '\r' || t[p] == '\t'))
        p++;
    return p;
}

/*
 * The offset of the '"' that closes the string whose contents start at p, or len or more when
 * the text ends first.  Strings are nearly all the bytes of a MISP document, and the skeleton
 * walks pass over every event's, so they are scanned eight bytes at a time for '"' and '\\'
 * (the lowest byte of x that equals c is the lowest set bit of (y - 1s) & ~y & 80s, y = x ^ c:
 * a borrow only ever marks bytes above the first match).
 */
static size_t string_end(const char *t, size_t len, size_t p)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    for (;;) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        while (p + 8 <= len) {
            uint64_t x, a, b;
            memcpy(&x, t + p, 8);
            a = x ^ (ones * '"');
            b = x ^ (ones * '\\');
            uint64_t m = ((a - ones) & ~a & highs) | ((b - ones) & ~b & highs);
            if (m) {
                p += (size_t)__builtin_ctzll(m) / 8;
                break;
            }
            p += 8;
        }
#endif
        while (p < len && t[p] != '"' && t[p] != '\\')
            p++;
        if (p >= len || t[p] == '"')
            return p;
        p += 2; /* a backslash and the byte it escapes */
    }
}

/* What skip_value does at each byte outside strings: nothing for most of them. */
enum { SK_OTHER, SK_QUOTE, SK_OPEN, SK_CLOSE, SK_STOP };
static const unsigned char skip_class[256] = {
    ['"'] = SK_QUOTE, ['{'] = SK_OPEN,  ['['] = SK_OPEN,  ['}'] = SK_CLOSE, [']'] = SK_CLOSE,
    [','] = SK_STOP,  [' '] = SK_STOP,  ['\n'] = SK_STOP, ['\r'] = SK_STOP, ['\t'] = SK_STOP,
};

/* The end of the JSON value starting at p, or (size_t)-1 when the text ends first.  One table
 * lookup per byte between strings (this walk passes over every list element of the input). */
static size_t skip_value(const char *t, size_t len, size_t p)
{
    size_t depth = 0;
    for (; p < len; p++) {
        switch (skip_class[(unsigned char)t[p]]) {
        case SK_OTHER:
            break;
        case SK_QUOTE:
            p = string_end(t, len, p + 1);
            if (p >= len)
                return (size_t)-1;
            if (depth == 0)
                return p + 1;
            break;
        case SK_OPEN:
            depth++;
            break;
        case SK_CLOSE:
            if (depth == 0)
                return p; /* the end of an enclosing container: a scalar stopped here */
            if (--depth == 0)
                return p + 1;
            break;
        default: /* SK_STOP: a comma or whitespace ends a scalar */
            if (depth == 0)
                return p;
            break;
        }
    }
    return depth == 0 ? p : (size_t)-1;
}

typedef int (*elem_fn)(void *ud, size_t start, size_t end);
/* Finds the end of the element starting at start itself (0 with *end), or leaves it to
 * skip_value (non-zero). */
typedef int (*measure_fn)(void *ud, size_t start, size_t *end);

/* Calls fn for each element of the array at t[p] == '['; *bad = offset of a structure error.
 * *endp (when not NULL) receives the offset just after the closing ']' when fn never failed.
 * measure (may be NULL) is asked for each element's end first. */
static int walk_array_end(const char *t, size_t len, size_t p, elem_fn fn, measure_fn measure,
                          void *ud, size_t *bad, size_t *endp)
{
    int rc = 0;
    p = skip_ws(t, len, p + 1);
    if (p < len && t[p] == ']') {
        if (endp)
            *endp = p + 1;
        return 0;
    }
    while (rc == 0) {
        size_t e;
        if (!measure || measure(ud, p, &e) != 0)
            e = skip_value(t, len, p);
        if (e == (size_t)-1 || e == p) {
            *bad = p;
            return ACCORD_EJSON;
        }
        rc = fn(ud, p, e);
        if (rc)
            return rc; /* fn's code, even when the text after the element is broken */
        p = skip_ws(t, len, e);
        if (p < len && t[p] == ']')
            break;
        if (p >= len || t[p] != ',') {
            *bad = p;
            return ACCORD_EJSON;
        }
        p = skip_ws(t, len, p + 1);
    }
    if (endp)
        *endp = p + 1;
    return rc;
}

static int walk_array(const char *t, size_t len, size_t p, elem_fn fn, measure_fn measure,
                      void *ud, size_t *bad)
{
    return walk_array_end(t, len, p, fn, measure, ud, bad, NULL);
}

/* The elements of the document: a top-level array's, {"response": [...]}'s, or the document. */
static int walk_document(const char *t, size_t len, elem_fn fn, measure_fn measure, void *ud,
                         size_t *bad)
{
    size_t p = skip_ws(t, len, 0);
    if (p < len && t[p] == '[')
        return walk_array(t, len, p, fn, measure, ud, bad);
    if (p < len && t[p] == '{') {
        /* look for a "response" member whose value is an array */
        size_t q = skip_ws(t, len, p + 1);
        while (q < len && t[q] == '"') {
            size_t k = skip_value(t, len, q);
            if (k == (size_t)-1)
                break;
            int is_resp = k - q == 10 && memcmp(t + q, "\"response\"", 10) == 0;
            q = skip_ws(t, len, k);
            if (q >= len || t[q] != ':')
                break;
            q = skip_ws(t, len, q + 1);
            if (is_resp && q < len && t[q] == '[')
                return walk_array(t, len, q, fn, measure, ud, bad);
            size_t v = skip_value(t, len, q);
            if (v == (size_t)-1 || v == q)
                break;
            q = skip_ws(t, len, v);
            if (q < len && t[q] == ',')
                q = skip_ws(t, len, q + 1);
        }
    }
    return fn(ud, p, len); /* one document: parsed whole, errors named by the parser */
}

typedef struct walk {
    accord_store *store; /* NULL: map only, objects to emit */
    misp_emit_fn emit;
    void *emit_ud;
    const char *text;
    size_t len;
    const accord_misp_options *opts;
    accord_misp_stats *s;
    ajson_arena arena;    /* the current element's tree (its lists cut out) */
    ajson_arena elem;     /* one list element, parsed to check it */
    misp_lists lists;     /* the current event's lists, when `cut` */
    misp_list_fault fault; /* an element of them found not to be JSON while importing */
    int cut;              /* the tree of the current element has its lists as spans */
    value_hook hook;
    buf head;             /* the current element's text with its lists cut out */
    size_t index;         /* events seen */
    size_t nonevent;      /* elements holding no event */
    int partial;
    int fatal;            /* the store failed (or strict mapping met a bad attribute): stop */
    char first_bad[400];  /* the first unreadable element's message */
    accord_error *err;
    /* several events per transaction (see "Batches" below) */
    int batching;               /* 0: each event its own transaction */
    int skip_rest;              /* the current element was replayed: its events are done */
    accord_misp_options bopts;  /* opts with on_error held back until the batch commits */
    accord_import_options bio;  /* the batch sink's options */
    run brun;                   /* the sink's rejection messages: names the current event */
    misp_sink *sink;            /* the open batch, or NULL */
    accord_error serr;          /* the sink's error */
    struct pend_ev *pend;       /* the batch's events, in order */
    size_t npend, cappend;
    misp_span *bel;             /* the batch's elements, to replay it one event at a time */
    size_t nbel, capbel;
    size_t bindex;              /* index of the batch's first event */
    uint64_t bobjects;          /* STIX objects in the batch */
    buf msgs;                   /* messages held back, each NUL-terminated */
    u64map buuids;              /* the batch's event uuids: a repeat ends the batch first */
    /* unchanged events (see "Unchanged events" below) */
    int seen_ok;                /* look elements up, and note clean ones */
    int64_t cid;                /* the collection the objects go to */
    char ekey[48];              /* the current element's meta key */
    /* the skeleton scan of the element about to be read (pre_scan), so that read_cut does not
     * scan it again */
    int pre_ok;
    size_t pre_start, pre_end;
    misp_span pre_cut[2];
    int pre_have[2];
    /* mapping without a store: the current event's output held back (see map_event) */
    int holding;                /* 1: held in `held`; 0: passed straight on */
    int hold_oom;               /* a message could not be held: the event's mapping fails */
    buf held;                   /* 'o' or 'm', a size_t length, the bytes; in emission order */
    accord_misp_options hopts;  /* opts with on_error held */
    int emit_rc;                /* the emit callback's first failure: the walk ends with it */
} walk;

static void bad_element(walk *w, size_t off, const char *why);

/* The end of one event's import (r its outcome, one its counts): reported, counted, told. */
static void event_outcome(walk *w, const char *uuid, const char *info, int r,
                          accord_misp_stats *one, const accord_error *e1)
{
    const accord_misp_options *opts = w->opts;
    int failed = (r && r != ACCORD_ESTIX) || (r == ACCORD_ESTIX && one->events == 0);
    if (failed) {
        one->events_failed++;
        if (r != ACCORD_ESTIX && opts->on_error && e1->msg[0])
            opts->on_error(opts->ud, e1->msg);
    }
    w->partial |= r != 0 || one->bad != 0;
    accord_misp_stats_add(w->s, one);
    if (opts->on_event)
        opts->on_event(opts->ud, uuid, info, failed);
    if (r == ACCORD_ESTORE || r == ACCORD_ENOMEM || r == ACCORD_EBUSY) {
        w->fatal = r; /* the store itself is in trouble: stop */
        if (w->err)
            *w->err = *e1;
    }
}

/* The report id of an event: report--UUID, lower case. */
static void report_id_of(const ajson_value *ev, char out[80])
{
    const ajson_value *uv = ajson_get(ev, "uuid");
    snprintf(out, 80, "report--%.40s", ajson_str(uv) ? uv->u.str : "");
    for (char *q = out; *q; q++)
        *q = (char)(*q >= 'A' && *q <= 'Z' ? *q + 32 : *q);
}

/* Imports one event (its own transaction) and revokes what an update dropped. */
static void import_event(walk *w, const ajson_value *ev)
{
    const accord_misp_options *opts = w->opts;
    accord_misp_stats one;
    memset(&one, 0, sizeof(one));
    accord_error e1;
    memset(&e1, 0, sizeof(e1));
    char report_id[80];
    const ajson_value *uv = ajson_get(ev, "uuid");
    report_id_of(ev, report_id);
    body_copy old;
    if (latest_body(w->store, report_id, &old) != 0)
        memset(&old, 0, sizeof(old));
    const ajson_value *evs[1] = {ev};
    w->fault.why[0] = 0;
    int r = import_batch(w->store, evs, 1, w->index++, w->cut ? &w->lists : NULL, &w->hook, opts,
                         0, &one, &e1);
    if (r == ACCORD_EJSON && w->fault.why[0]) {
        /* an element of its lists is not JSON: the event was rolled back, and is reported and
         * skipped as a broken element of the input */
        free(old.p);
        w->index--;
        bad_element(w, w->fault.at, w->fault.why);
        return;
    }
    if ((r == 0 || (r == ACCORD_ESTIX && one.events)) && old.p) {
        int r2 = revoke_dropped(w->store, report_id, &old, opts, &one, &e1);
        if (r2)
            r = r2;
    }
    free(old.p);
    event_outcome(w, ajson_str(uv) ? uv->u.str : "", ajson_str(ajson_get(ev, "info")), r, &one,
                  &e1);
}

/*
 * Mapping without a store cannot take back what it emitted, so an event whose list elements
 * are parsed lazily (w->cut) must not emit before they are all known to be JSON.  They used to
 * be parsed once to check them and once more to map them (27% of the mapper's instructions);
 * now the event's objects and messages are held, in order, and passed on when the event mapped
 * without meeting a broken element, or dropped with its counts when it met one (the element is
 * then reported as before).  An event whose output passes MAP_HOLD_CAP bytes (hundreds of
 * thousands of attributes) checks its elements the old way once, and streams the rest, so
 * memory stays bounded.
 */
#define MAP_HOLD_CAP ((size_t)64 << 20)

static int hold_add(walk *w, char kind, const char *p, size_t len)
{
    misp_put(&w->held, &kind, 1);
    misp_put(&w->held, &len, sizeof(len));
    misp_put(&w->held, p, len);
    return w->held.failed ? ACCORD_ENOMEM : 0;
}

/*
 * The caller's emit.  Its failure is kept in w->emit_rc and ends the walk whatever the code: an
 * ACCORD_ESTIX from emit is no bad event of the input, after which the next event would be
 * mapped and emit called again.
 */
static int walk_emit(walk *w, const char *json, size_t len)
{
    int rc = w->emit(w->emit_ud, json, len);
    if (rc && !w->emit_rc)
        w->emit_rc = rc;
    return rc;
}

/* Passes the held objects and messages on, in order; the emit callback's code stops it. */
static int hold_flush(walk *w)
{
    int rc = 0;
    for (size_t at = 0; at < w->held.len && rc == 0;) {
        char kind = w->held.p[at];
        size_t len;
        memcpy(&len, w->held.p + at + 1, sizeof(len));
        const char *p = w->held.p + at + 1 + sizeof(len);
        if (kind == 'o')
            rc = walk_emit(w, p, len);
        else if (w->opts->on_error)
            w->opts->on_error(w->opts->ud, p);
        at += 1 + sizeof(len) + len;
    }
    buf_reset(&w->held);
    return rc;
}

/* The first element of the event's lists that is not JSON, into w->fault: 1; else 0. */
static int lists_check(walk *w)
{
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < w->lists.n[k]; i++) {
            const misp_span *sp = &w->lists.v[k][i];
            ajson_error jerr;
            ajson_arena_reset(&w->elem);
            if (!ajson_parse(&w->elem, w->text + sp->start, sp->end - sp->start, &jerr)) {
                w->fault.at = sp->start + jerr.offset;
                snprintf(w->fault.why, sizeof(w->fault.why), "%s", jerr.msg);
                return 1;
            }
        }
    return 0;
}

static int hold_emit(void *ud, const char *json, size_t len)
{
    walk *w = ud;
    if (!w->holding)
        return walk_emit(w, json, len);
    if (w->hold_oom)
        return ACCORD_ENOMEM;
    int rc = hold_add(w, 'o', json, len);
    if (rc == 0 && w->held.len > MAP_HOLD_CAP) {
        if (lists_check(w))
            return ACCORD_EJSON; /* the event stops; map_event drops what it held */
        w->holding = 0;
        rc = hold_flush(w);
    }
    return rc;
}

static void hold_message(void *ud, const char *msg)
{
    walk *w = ud;
    if (!w->holding) {
        if (w->opts->on_error)
            w->opts->on_error(w->opts->ud, msg);
    } else if (hold_add(w, 'm', msg, strlen(msg) + 1) != 0) {
        w->hold_oom = 1; /* out of memory: the mapping fails, at its next object or its end */
    }
}

/* Maps one event to the emit callback (no store). */
static void map_event(walk *w, const ajson_value *ev)
{
    int strict = (w->opts->flags & ACCORD_IMPORT_STRICT) != 0;
    misp_map_ctx c = {w->opts, w->s, hold_emit, w, strict, w->cut ? &w->lists : NULL,
                      w->hook.fn, w->hook.ud};
    accord_misp_stats before;
    w->holding = 0;
    w->hold_oom = 0;
    if (w->cut) {
        before = *w->s;
        w->hopts = *w->opts;
        w->hopts.on_error = w->opts->on_error ? hold_message : NULL;
        w->hopts.ud = w;
        c.opts = &w->hopts;
        w->holding = 1;
        w->fault.why[0] = 0;
        buf_reset(&w->held);
    }
    uint64_t bad = w->s->bad;
    int r = misp_map_event(&c, ev, w->index++);
    if (w->hold_oom) { /* a message lost: neither it nor the objects held are passed on */
        r = ACCORD_ENOMEM;
        w->holding = 0;
        buf_reset(&w->held);
    }
    if (w->cut && r == ACCORD_EJSON && w->fault.why[0]) {
        /* an element of its lists is not JSON: the event is reported and skipped whole */
        *w->s = before;
        w->index--;
        buf_reset(&w->held);
        bad_element(w, w->fault.at, w->fault.why);
        return;
    }
    if (w->cut && w->holding) {
        int r2 = hold_flush(w);
        if (r2 && (r == 0 || r == ACCORD_ESTIX))
            r = r2;
    }
    w->partial |= w->s->bad != bad;
    if (w->emit_rc)
        r = w->emit_rc;
    if (r == ACCORD_ESTIX && !strict && !w->emit_rc) {
        w->s->events_failed++;
        w->partial = 1;
    } else if (r) {
        w->fatal = r;
        accord_err_set(w->err, r, "%s: event %zu: %s", w->opts->source ? w->opts->source : "input",
                       w->index - 1, accord_strerror(r));
    }
}

static void batch_event(walk *w, const ajson_value *ev);

static int event_cb(void *ud, const ajson_value *ev, size_t i)
{
    walk *w = ud;
    (void)i;
    if (w->skip_rest)
        return 0;
    if (w->store && w->batching)
        batch_event(w, ev);
    else if (w->store)
        import_event(w, ev);
    else
        map_event(w, ev);
    return w->fatal;
}

/* Reports an element that is not valid JSON (offset into the whole text); it is skipped. */
static void bad_element(walk *w, size_t off, const char *why)
{
    unsigned long line, col;
    misp_line_col(w->text, w->len, off, &line, &col);
    char msg[400];
    snprintf(msg, sizeof(msg), "%s:%lu:%lu: invalid JSON (byte %zu): %s",
             w->opts->source ? w->opts->source : "input", line, col, off, why);
    if (!w->first_bad[0])
        snprintf(w->first_bad, sizeof(w->first_bad), "%s", msg);
    if (w->opts->on_error) {
        char m2[440];
        snprintf(m2, sizeof(m2), "%s; skipped", msg);
        w->opts->on_error(w->opts->ud, m2);
    }
    w->s->events_failed++;
    w->partial = 1;
}

/* ------------------------------------------------------------------------------------------ */
/* One event without the tree of its lists                                                    */

/*
 * The tree of an event is about three times its text, so an event of 350,000 attributes would
 * need 400 MB of tree beside its 140 MB of text.  So an element of the document is read in two
 * steps: its skeleton is walked to find the event's "Attribute" and "Object" arrays, whose
 * elements are noted as spans and each parsed once, strictly, only to check it (an event with one
 * broken attribute is still reported and skipped whole, before anything of it is stored); then
 * the element is parsed with those two arrays cut out ("[]"), and the mapper parses each element
 * again when its turn comes, into an arena reset between elements.  Anything unusual in the
 * skeleton (escaped keys, a list that is not an array, a broken skeleton) takes the plain path:
 * the whole element parsed at once, as the parser's own errors then say where it is broken.
 */

typedef struct event_scan {
    const char *t;
    misp_lists *l;
    misp_span cut[2];   /* the value spans of the arrays to cut out */
    int have[2];
    int has_event;      /* the element is {"Event": {...}} */
    int k;              /* the list being walked: 0 Attribute, 1 Object */
    int odd;            /* take the plain path */
} event_scan;

static int key_is(const char *t, size_t ks, size_t ke, const char *quoted)
{
    size_t n = strlen(quoted);
    return ke - ks == n && memcmp(t + ks, quoted, n) == 0;
}

static int on_list_element(void *ud, size_t start, size_t end)
{
    event_scan *e = ud;
    int k = e->k;
    misp_lists *l = e->l;
    if (l->n[k] == l->cap[k]) {
        size_t cap = l->cap[k] ? l->cap[k] * 2 : 64;
        misp_span *v = realloc(l->v[k], cap * sizeof(*v));
        if (!v)
            return ACCORD_ENOMEM;
        l->v[k] = v;
        l->cap[k] = cap;
    }
    l->v[k][l->n[k]++] = (misp_span){start, end};
    return 0;
}

static int scan_object(event_scan *e, size_t p, size_t end, int depth, size_t *endp);

static void lists_clear(misp_lists *l)
{
    l->n[0] = l->n[1] = 0;
}

/*
 * One member (key t[ks..ke) with its quotes, value starting at t[vs]) of an event (depth 1), or
 * of its wrapper (depth 0); *ve receives the value's end.  The values the scan descends into
 * (the wrapper's "Event", the lists) are walked once, not skipped first and walked again: the
 * skeleton walk is a pass over the whole event text each time.
 */
static int on_member(event_scan *e, size_t ks, size_t ke, size_t vs, size_t end, int depth,
                     size_t *ve)
{
    const char *t = e->t;
    if (memchr(t + ks, '\\', ke - ks))
        return e->odd = 1, 0; /* an escaped key could spell a list's name */
    if (depth == 0 && key_is(t, ks, ke, "\"Event\"") && t[vs] == '{') {
        if (e->has_event)
            return e->odd = 1, 0; /* twice: the parser says what is wrong */
        /* {"Event": {...}}: the lists inside it count, not the wrapper's */
        e->has_event = 1;
        lists_clear(e->l);
        e->have[0] = e->have[1] = 0;
        memset(e->cut, 0, sizeof(e->cut));
        return scan_object(e, vs, end, 1, ve);
    }
    int k = key_is(t, ks, ke, "\"Attribute\"") ? 0 : key_is(t, ks, ke, "\"Object\"") ? 1 : -1;
    if (k < 0 || (depth == 0 && e->has_event)) {
        *ve = skip_value(t, end, vs);
        return 0;
    }
    if (t[vs] != '[' || e->have[k])
        return e->odd = 1, 0; /* not a list, or twice: the parser says what is wrong */
    e->have[k] = 1;
    e->k = k;
    size_t bad = 0;
    int rc = walk_array_end(t, end, vs, on_list_element, NULL, e, &bad, ve);
    if (rc == ACCORD_EJSON)
        return e->odd = 1, 0;
    e->cut[k] = (misp_span){vs, *ve};
    return rc;
}

/* The members of the object t[p] == '{' ending by end; *endp receives the offset after its
 * '}'.  Sets e->odd when its skeleton is broken. */
static int scan_object(event_scan *e, size_t p, size_t end, int depth, size_t *endp)
{
    const char *t = e->t;
    int rc = 0;
    p = skip_ws(t, end, p + 1);
    if (p < end && t[p] == '}') {
        *endp = p + 1;
        return 0;
    }
    while (rc == 0 && !e->odd) {
        size_t ks = p, ke = skip_value(t, end, p);
        if (p >= end || t[p] != '"' || ke == (size_t)-1)
            return e->odd = 1, 0;
        p = skip_ws(t, end, ke);
        if (p >= end || t[p] != ':')
            return e->odd = 1, 0;
        size_t vs = skip_ws(t, end, p + 1), ve = (size_t)-1;
        if (vs >= end)
            return e->odd = 1, 0;
        rc = on_member(e, ks, ke, vs, end, depth, &ve);
        if (rc || e->odd)
            break;
        if (ve == (size_t)-1 || ve == vs)
            return e->odd = 1, 0;
        p = skip_ws(t, end, ve);
        if (p < end && t[p] == '}') {
            *endp = p + 1;
            break;
        }
        if (p >= end || t[p] != ',')
            return e->odd = 1, 0;
        p = skip_ws(t, end, p + 1);
    }
    return rc;
}

/*
 * walk_array_end's measure for the elements of the document: the skeleton scan read_cut needs,
 * done here to find the element's end, so that the element's text is walked once instead of
 * twice (skip_value to find its end, scan_object to find its lists: 5% of an import's
 * instructions).  Kept for read_cut when the element is an object whose skeleton reads; anything
 * else is left to skip_value and read_cut, as before.
 */
static int pre_scan(void *ud, size_t start, size_t *end)
{
    walk *w = ud;
    const char *t = w->text;
    event_scan e;
    w->pre_ok = 0;
    if (start >= w->len || t[start] != '{') /* "[" alone: the text ends where an element would */
        return -1;
    memset(&e, 0, sizeof(e));
    e.t = t;
    e.l = &w->lists;
    lists_clear(&w->lists);
    w->lists.text = t;
    size_t stop = 0;
    if (scan_object(&e, start, w->len, 0, &stop) != 0 || e.odd || stop <= start)
        return -1;
    w->pre_ok = 1;
    w->pre_start = start;
    w->pre_end = *end = stop;
    memcpy(w->pre_cut, e.cut, sizeof(e.cut));
    memcpy(w->pre_have, e.have, sizeof(e.have));
    return 0;
}

/*
 * Reads element [start, end) with its event's lists cut out: the tree into *root, the lists into
 * w->lists (w->cut = 1).  Returns 0; 1 for the plain path; -1 when an element of a list is not
 * valid JSON (reported); or ACCORD_ENOMEM.
 */
static int read_cut(walk *w, size_t start, size_t end, const ajson_value **root)
{
    const char *t = w->text;
    event_scan e;
    memset(&e, 0, sizeof(e));
    e.t = t;
    e.l = &w->lists;
    int rc = 0, cached = w->pre_ok && w->pre_start == start && w->pre_end == end;
    w->pre_ok = 0;
    if (cached) { /* pre_scan walked it and filled w->lists */
        memcpy(e.cut, w->pre_cut, sizeof(e.cut));
        memcpy(e.have, w->pre_have, sizeof(e.have));
    } else {
        lists_clear(&w->lists);
        w->lists.text = t;
        if (start >= end || t[start] != '{') /* an empty document, or not an object */
            return 1;
        size_t stop = 0;
        rc = scan_object(&e, start, end, 0, &stop);
    }
    if (rc || e.odd || (!e.have[0] && !e.have[1]))
        return rc ? rc : 1;
    /* each element is parsed once, when it is mapped: an import rolls the event back when one
     * is broken, a mapping without a store drops the output it held back (map_event) */
    w->lists.fault = &w->fault;
    /* the element's text less the lists' contents: the cuts in text order */
    misp_span c[2] = {e.cut[0], e.cut[1]};
    int nc = 0;
    misp_span cs[2];
    for (int k = 0; k < 2; k++)
        if (e.have[k])
            cs[nc++] = c[k];
    if (nc == 2 && cs[0].start > cs[1].start) {
        misp_span tmp = cs[0];
        cs[0] = cs[1];
        cs[1] = tmp;
    }
    buf_reset(&w->head);
    size_t p = start;
    for (int i = 0; i < nc; i++) {
        buf_add(&w->head, t + p, cs[i].start - p);
        buf_add(&w->head, "[]", 2);
        p = cs[i].end;
    }
    buf_add(&w->head, t + p, end - p);
    if (w->head.failed)
        return ACCORD_ENOMEM;
    ajson_error jerr;
    ajson_arena_reset(&w->arena);
    *root = ajson_parse(&w->arena, w->head.p, w->head.len, &jerr);
    if (!*root)
        return 1; /* the plain parse names the place */
    w->cut = 1;
    return 0;
}

static int batch_element(walk *w, const ajson_value *root, size_t start, size_t end);
static int seen_element(walk *w, size_t start, size_t end);

static int on_element(void *ud, size_t start, size_t end)
{
    walk *w = ud;
    const ajson_value *root = NULL;
    w->cut = 0;
    if (w->seen_ok && w->batching && seen_element(w, start, end) == 0)
        return w->fatal; /* unchanged: counted, not mapped */
    int r = read_cut(w, start, end, &root);
    if (r < 0) {
        if (r != -1) {
            w->fatal = r;
            accord_err_set(w->err, r, "misp: out of memory");
        }
        return w->fatal;
    }
    if (r == 1) {
        ajson_error jerr;
        w->cut = 0;
        ajson_arena_reset(&w->arena);
        root = ajson_parse(&w->arena, w->text + start, end - start, &jerr);
        if (!root) {
            bad_element(w, start + jerr.offset, jerr.msg);
            return 0;
        }
    }
    int cb_rc, batching = w->batching;
    w->skip_rest = 0;
    if (batching && batch_element(w, root, start, end) != 0)
        w->batching = 0; /* not one event: its events one transaction each */
    long n = w->fatal ? 0 : misp_events(root, event_cb, w, &cb_rc);
    w->batching = batching;
    if (n <= 0 && !w->fatal)
        w->nonevent++;
    return w->fatal;
}


/* ------------------------------------------------------------------------------------------ */
/* Batches: several events per transaction                                                    */

/*
 * A transaction per event costs a commit (index runs written, WAL frames) per event, most of an
 * event's store time for events of a few hundred attributes.  So consecutive events share one
 * sink - one transaction - until it holds BATCH_EVENTS events or BATCH_OBJECTS objects, and what
 * the caller sees of an event (its messages, on_event, its counts) is held back until the batch
 * commits.  A bad event must still be reported and must not take the others with it: when an
 * event of the batch fails (its mapping stopped, a list element is not JSON, the store failed),
 * or the commit fails, the whole batch is rolled back and its elements are imported again one
 * event per transaction, exactly as without batches - the good ones are stored, the bad one
 * reported with the same messages.  (The store keeps in-memory state per transaction - version
 * and id sets, index runs - that an SQLite savepoint would not roll back, hence the replay.)
 * Failures are rare, so the replay costs nothing in the common case.
 *
 * Invariants: a batch ends only between elements of the document, and holds only elements that
 * are one event each, so a replay of its elements redoes exactly its events.  An event whose
 * uuid is in the batch already ends the batch first, so the revocation of what an update dropped
 * (done after the commit, in its own transaction) compares consecutive versions.  A value hook
 * (feed pulls, one event per input) turns batches off: a replay would call it twice.
 */

#define BATCH_EVENTS 256
#define BATCH_OBJECTS 50000

typedef struct pend_ev {
    char uuid[40];         /* as the event gives it (for on_event) */
    int unchanged;         /* not mapped: `one` is what its clean import counted */
    int noted;             /* its note is written in the batch's transaction */
    char key[48];          /* its element's meta key */
    char *info;            /* its info, or NULL */
    char report_id[80];
    body_copy old;         /* the stored report before this import (p NULL: none) */
    accord_misp_stats one; /* its counts; store counts as deltas of the sink's */
    size_t msgs_end;       /* the end of its messages in w->msgs */
} pend_ev;

/* Room for one more element / pending event of the batch: 0, or -1 when out of memory. */
static int grow_bel(walk *w)
{
    if (w->nbel < w->capbel)
        return 0;
    size_t cap = w->capbel ? w->capbel * 2 : 64;
    misp_span *v = realloc(w->bel, cap * sizeof(*v));
    if (!v)
        return -1;
    w->bel = v;
    w->capbel = cap;
    return 0;
}

static int grow_pend(walk *w)
{
    if (w->npend < w->cappend)
        return 0;
    size_t cap = w->cappend ? w->cappend * 2 : 32;
    pend_ev *v = realloc(w->pend, cap * sizeof(*v));
    if (!v)
        return -1;
    w->pend = v;
    w->cappend = cap;
    return 0;
}

static void batch_end(walk *w);

/* ------------------------------------------------------------------------------------------ */
/* Unchanged events: a re-import that maps nothing                                             */

/*
 * A MISP instance's history, or a directory of exports, is imported again and again, and most of
 * its events have not changed since: mapping them again stores every object as a duplicate, at a
 * third of a first import's cost.  So once an event was imported cleanly - no bad attribute, no
 * message, every object stored, its revocations written - the store's meta table notes its
 * element's text:
 *
 *   key    "misp-seen:" and the XXH3-128 (32 hex digits) of the element's bytes, seeded with the
 *          collection's number and MISP_MAP_VERSION
 *   value  "uuid read bytes events attributes objects indicators terms observed custom revoked
 *          sightings clusters relationships proposals", then " type=n" per unmapped type: what
 *          that import counted (read and bytes: its STIX objects and their bytes)
 *
 * and an element whose key is noted is neither parsed nor mapped again: it counts as its clean
 * import did, its objects as duplicates (what mapping it again would find), and `unchanged` says
 * so.  This holds because stored versions are never removed and a note commits with the event's
 * objects (an event with nothing to revoke: in the batch's transaction) or after its revocations
 * committed (in a transaction of its own); a mapper that writes other objects for the same text
 * bumps MISP_MAP_VERSION.  (A version deleted from the collection since is not linked back by an
 * unchanged event, where mapping it again would link it.)  An element that is not one event, an import with a value
 * hook (feed pulls, which decide by the manifest's timestamps) and a strict import neither look
 * up nor note; an event with a problem is never noted, so it is reported again each time.
 */

#define SEEN_FIELDS 14
#define SEEN_MAX 4096 /* a note's value: 14 numbers, a uuid, 32 unmapped types of 47 bytes */

/* The counters a note holds, in its order. */
static void seen_fields(accord_misp_stats *s, uint64_t *f[SEEN_FIELDS])
{
    uint64_t *v[SEEN_FIELDS] = {&s->store.read, &s->store.bytes_read, &s->events, &s->attributes,
                                &s->objects,    &s->indicators,       &s->terms,  &s->observed,
                                &s->custom,     &s->revoked,          &s->sightings,
                                &s->clusters,   &s->relationships,    &s->proposals};
    memcpy(f, v, sizeof(v));
}

/* The meta key of element [start, end) into w->ekey. */
static void seen_key(walk *w, size_t start, size_t end)
{
    uint64_t seed = (uint64_t)w->cid * 0x9e3779b97f4a7c15ull + MISP_MAP_VERSION;
    XXH128_hash_t h = XXH3_128bits_withSeed(w->text + start, end - start, seed);
    snprintf(w->ekey, sizeof(w->ekey), "misp-seen:%016llx%016llx", (unsigned long long)h.high64,
             (unsigned long long)h.low64);
}

/* 1 when s holds no byte a note cannot carry (space, '=', control characters). */
static int seen_word(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || *s == '=')
            return 0;
    return 1;
}

/* The note of event p's clean import (its counts one, before revocations) into out; 0, or -1
 * when it cannot be written as one. */
static int seen_format(const char *uuid, accord_misp_stats *one, char *out, size_t outlen)
{
    uint64_t *f[SEEN_FIELDS];
    if (!uuid[0] || !seen_word(uuid) || one->unmapped_other)
        return -1;
    seen_fields(one, f);
    size_t n = (size_t)snprintf(out, outlen, "%s", uuid);
    for (int i = 0; i < SEEN_FIELDS && n < outlen; i++)
        n += (size_t)snprintf(out + n, outlen - n, " %llu", (unsigned long long)*f[i]);
    for (unsigned i = 0; i < one->nunmapped && n < outlen; i++) {
        if (!seen_word(one->unmapped[i].type))
            return -1;
        n += (size_t)snprintf(out + n, outlen - n, " %s=%llu", one->unmapped[i].type,
                              (unsigned long long)one->unmapped[i].n);
    }
    return n < outlen ? 0 : -1;
}

/* A number of a note at *p, moving *p past it; 0, or -1. */
static int seen_num(const char **p, uint64_t *out)
{
    char *end;
    if (**p != ' ' || (*p)[1] < '0' || (*p)[1] > '9')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(*p + 1, &end, 10);
    if (errno)
        return -1;
    *out = v;
    *p = end;
    return 0;
}

/* Reads note v into p (uuid, counts as a re-import counts them); 0, or -1 when it is not one. */
static int seen_parse(const char *v, pend_ev *p)
{
    uint64_t *f[SEEN_FIELDS];
    const char *sp = strchr(v, ' ');
    accord_misp_stats *one = &p->one;
    if (!sp || sp == v || (size_t)(sp - v) >= sizeof(p->uuid))
        return -1;
    memcpy(p->uuid, v, (size_t)(sp - v));
    p->uuid[sp - v] = 0;
    seen_fields(one, f);
    for (int i = 0; i < SEEN_FIELDS; i++)
        if (seen_num(&sp, f[i]))
            return -1;
    while (*sp == ' ' && one->nunmapped < ACCORD_MISP_MAX_UNMAPPED) {
        const char *eq = strchr(sp + 1, '=');
        size_t tl = eq ? (size_t)(eq - sp - 1) : 0;
        if (!tl || tl >= sizeof(one->unmapped[0].type))
            return -1;
        memcpy(one->unmapped[one->nunmapped].type, sp + 1, tl);
        one->unmapped[one->nunmapped].type[tl] = 0;
        sp = eq;
        const char *q = eq;
        if (*q != '=')
            return -1;
        char *end;
        errno = 0;
        unsigned long long n = strtoull(q + 1, &end, 10);
        if (errno || end == q + 1)
            return -1;
        one->unmapped[one->nunmapped++].n = n;
        sp = end;
    }
    if (*sp || one->events != 1)
        return -1;
    one->unchanged = 1;
    one->store.duplicates = one->store.committed = one->store.read;
    return 0;
}

/*
 * Element [start, end) while batching: 1 when it is to be imported; 0 when its note says it is
 * unchanged and it joined the batch as such (the batch ended first when full).
 */
static int seen_element(walk *w, size_t start, size_t end)
{
    char v[SEEN_MAX];
    pend_ev p;
    memset(&p, 0, sizeof(p));
    seen_key(w, start, end);
    if (store_meta_get(w->store, w->ekey, v, sizeof(v)) != 0 || seen_parse(v, &p) != 0)
        return 1;
    if (w->npend >= BATCH_EVENTS || w->bobjects >= BATCH_OBJECTS)
        batch_end(w);
    if (w->fatal)
        return 0;
    if (grow_bel(w) || grow_pend(w))
        return 1; /* imported as usual */
    if (w->nbel == 0)
        w->bindex = w->index;
    w->bel[w->nbel++] = (misp_span){start, end};
    p.unchanged = 1;
    p.msgs_end = w->msgs.len;
    w->pend[w->npend++] = p;
    w->index++;
    return 0;
}

/* 1 when event p (quiet: it had no message) may be noted, once its revocations are written. */
static int seen_clean(const pend_ev *p, int quiet)
{
    return !p->unchanged && !p->noted && p->key[0] && quiet && p->one.bad == 0 &&
           p->one.events == 1 && p->one.store.rejected == 0 && p->one.store.conflicts == 0;
}

/* Notes the clean events of a committed batch (notes: "key\0value\0" each), in a transaction of
 * their own; a failure only costs the next import its shortcut. */
static void seen_note(walk *w, const buf *notes)
{
    accord_error e;
    if (!notes->len || notes->failed || store_begin(w->store, &e) != 0)
        return;
    int rc = 0;
    for (size_t at = 0; rc == 0 && at < notes->len;) {
        const char *k = notes->p + at, *v = k + strlen(k) + 1;
        rc = store_meta_set(w->store, k, v, &e);
        at = (size_t)(v - notes->p) + strlen(v) + 1;
    }
    if (rc || store_commit(w->store, &e) != 0)
        store_rollback(w->store);
}

static void held_message(void *ud, const char *msg)
{
    walk *w = ud;
    buf_add(&w->msgs, msg, strlen(msg) + 1);
}

static void walk_init(walk *w, accord_store *store, const char *text, size_t len,
                      const accord_misp_options *opts, accord_misp_stats *s,
                      const value_hook *hook, accord_error *err)
{
    memset(w, 0, sizeof(*w));
    w->store = store;
    w->text = text;
    w->len = len;
    w->opts = opts;
    w->s = s;
    w->err = err;
    w->hook = *hook;
    ajson_arena_init(&w->arena, len * 16 + ((size_t)64 << 20));
    ajson_arena_init(&w->elem, MISP_ELEMENT_CAP);
    buf_init(&w->head, len + 16);
    buf_init(&w->msgs, (size_t)256 << 20);
    buf_init(&w->held, MAP_HOLD_CAP + MISP_OBJ_CAP + ((size_t)1 << 20));
    u64map_init_set(&w->buuids);
    w->batching = store && !hook->fn;
    accord_error e;
    w->seen_ok = w->batching && store_collection_resolve(store, opts->collection, &w->cid, &e) == 0;
    w->bopts = *opts;
    w->bopts.on_error = opts->on_error ? held_message : NULL;
    w->bopts.ud = w;
    w->brun = (run){&w->bopts, NULL, NULL};
    w->bio.source = opts->source;
    w->bio.collection = opts->collection;
    w->bio.on_reject = on_reject;
    w->bio.ud = &w->brun;
}

static void pend_clear(walk *w)
{
    for (size_t i = 0; i < w->npend; i++) {
        free(w->pend[i].info);
        free(w->pend[i].old.p);
    }
    w->npend = 0;
    w->nbel = 0;
    w->bobjects = 0;
    buf_reset(&w->msgs);
    u64map_free(&w->buuids);
    u64map_init_set(&w->buuids);
}

static void walk_free(walk *w)
{
    pend_clear(w);
    free(w->pend);
    free(w->bel);
    ajson_arena_free(&w->arena);
    ajson_arena_free(&w->elem);
    buf_free(&w->head);
    buf_free(&w->msgs);
    buf_free(&w->held);
    u64map_free(&w->buuids);
    free(w->lists.v[0]);
    free(w->lists.v[1]);
}

/* After the batch was rolled back: its elements again, one event per transaction. */
static void batch_replay(walk *w)
{
    walk r;
    value_hook none = {NULL, NULL};
    walk_init(&r, w->store, w->text, w->len, w->opts, w->s, &none, w->err);
    r.batching = 0;
    r.seen_ok = 0;
    r.index = w->bindex;
    for (size_t i = 0; i < w->nbel && !r.fatal; i++)
        on_element(&r, w->bel[i].start, w->bel[i].end);
    w->index = r.index;
    w->partial |= r.partial;
    w->nonevent += r.nonevent;
    w->fatal = r.fatal;
    if (!w->first_bad[0])
        memcpy(w->first_bad, r.first_bad, sizeof(w->first_bad));
    walk_free(&r);
    pend_clear(w);
    w->skip_rest = 1; /* the current element was part of the replay */
}

/* Rolls the open batch back and replays it. */
static void batch_fail(walk *w)
{
    if (w->sink)
        misp_sink_close(w->sink, ACCORD_EINVAL, NULL, NULL); /* rc != 0: rolled back */
    w->sink = NULL;
    batch_replay(w);
}

/* Commits the open batch, then tells what each of its events did. */
static void batch_end(walk *w)
{
    if (w->sink) {
        int rc = misp_sink_close(w->sink, 0, NULL, &w->serr);
        w->sink = NULL;
        if (rc && rc != ACCORD_ESTIX) { /* the commit failed: nothing of the batch is stored */
            batch_replay(w);
            w->skip_rest = 0;
            return;
        }
    }
    const accord_misp_options *opts = w->opts;
    size_t m = 0;
    buf notes;
    buf_init(&notes, (size_t)4 << 20);
    for (size_t i = 0; i < w->npend; i++) {
        pend_ev *p = &w->pend[i];
        int r = p->one.store.rejected || p->one.store.conflicts ? ACCORD_ESTIX : 0;
        accord_error e1;
        memset(&e1, 0, sizeof(e1));
        p->one.store.committed = p->one.store.read;
        int quiet = m == p->msgs_end;
        for (; m < p->msgs_end; m += strlen(w->msgs.p + m) + 1)
            if (opts->on_error)
                opts->on_error(opts->ud, w->msgs.p + m);
        char note[SEEN_MAX];
        int noted = seen_clean(p, quiet) && seen_format(p->uuid, &p->one, note, sizeof(note)) == 0;
        if (p->old.p) {
            int r2 = revoke_dropped(w->store, p->report_id, &p->old, opts, &p->one, &e1);
            if (r2)
                r = r2;
        }
        if (noted && r == 0) {
            buf_add(&notes, p->key, strlen(p->key) + 1);
            buf_add(&notes, note, strlen(note) + 1);
        }
        event_outcome(w, p->uuid, p->info, r, &p->one, &e1);
    }
    pend_clear(w);
    seen_note(w, &notes);
    buf_free(&notes);
}

/*
 * An element about to be imported while batching: 0 when it joins the batch (the batch ended
 * first when full or when it holds the element's event already); 1 when it is not one event,
 * after ending the batch (its events then go one per transaction).
 */
static int batch_element(walk *w, const ajson_value *root, size_t start, size_t end)
{
    const ajson_value *ev;
    if (!misp_event_of(root, &ev)) {
        batch_end(w);
        return 1;
    }
    const ajson_value *uv = ajson_get(ev, "uuid");
    uint64_t k = ajson_str(uv) ? u64map_key(XXH3_64bits(uv->u.str, uv->len)) : 0;
    if (w->npend >= BATCH_EVENTS || w->bobjects >= BATCH_OBJECTS ||
        (k && u64map_get(&w->buuids, k, NULL)))
        batch_end(w);
    if (w->fatal)
        return 0;
    if (grow_bel(w)) {
        batch_end(w);
        return 1;
    }
    if (w->nbel == 0)
        w->bindex = w->index;
    w->bel[w->nbel++] = (misp_span){start, end};
    if (k && u64map_put(&w->buuids, k, 1)) {
        w->nbel--;
        batch_end(w);
        return 1;
    }
    return 0;
}

/* Maps one event into the open batch (opened first when none is). */
static void batch_event(walk *w, const ajson_value *ev)
{
    if (grow_pend(w)) {
        batch_fail(w);
        return;
    }
    if (!w->sink && misp_sink_open(w->store, &w->bio, &w->sink, &w->serr) != 0) {
        batch_fail(w); /* the replay reports why */
        return;
    }
    pend_ev *p = &w->pend[w->npend++];
    memset(p, 0, sizeof(*p));
    if (w->seen_ok)
        memcpy(p->key, w->ekey, sizeof(p->key));
    const ajson_value *uv = ajson_get(ev, "uuid"), *info = ajson_get(ev, "info");
    snprintf(p->uuid, sizeof(p->uuid), "%s", ajson_str(uv) ? uv->u.str : "");
    report_id_of(ev, p->report_id);
    if (ajson_str(info) && !(p->info = strdup(info->u.str))) {
        batch_fail(w);
        return;
    }
    if (latest_body(w->store, p->report_id, &p->old) != 0)
        memset(&p->old, 0, sizeof(p->old));
    accord_import_stats before, after;
    misp_sink_stats(w->sink, &before);
    w->brun.event_uuid = p->uuid;
    feed f = {w->sink, &w->serr, 0};
    misp_map_ctx map = {&w->bopts, &p->one, feed_obj, &f, 0, w->cut ? &w->lists : NULL,
                        NULL, NULL};
    w->fault.why[0] = 0;
    size_t m0 = w->msgs.len;
    int r = misp_map_event(&map, ev, w->index++);
    if (r || f.rc || w->msgs.failed) {
        batch_fail(w);
        return;
    }
    misp_sink_stats(w->sink, &after);
    accord_import_stats *d = &p->one.store;
    d->read = after.read - before.read;
    d->accepted = after.accepted - before.accepted;
    d->versions = after.versions - before.versions;
    d->duplicates = after.duplicates - before.duplicates;
    d->conflicts = after.conflicts - before.conflicts;
    d->rejected = after.rejected - before.rejected;
    d->bytes_read = after.bytes_read - before.bytes_read;
    p->msgs_end = w->msgs.len;
    w->bobjects += d->read;
    /* an event with nothing to revoke (its first import) is noted inside the batch's
     * transaction, so a batch of first imports costs no transaction more; the others are noted
     * after their revocations (batch_end) */
    char note[SEEN_MAX];
    accord_error e;
    if (!p->old.p && seen_clean(p, m0 == w->msgs.len) &&
        seen_format(p->uuid, &p->one, note, sizeof(note)) == 0 &&
        store_meta_set(w->store, p->key, note, &e) == 0)
        p->noted = 1;
}

/*
 * The elements of text one at a time: imported into store (each event its own transaction), or,
 * with store NULL, mapped to emit.  The outcome as accord_misp_import_mem says.
 */
static int walk_input(accord_store *store, misp_emit_fn emit, void *emit_ud, const char *text,
                      size_t len, const accord_misp_options *opts, accord_misp_stats *s,
                      const value_hook *hook, accord_error *err)
{
    const char *src = opts->source ? opts->source : "input";
    walk w;
    walk_init(&w, store, text, len, opts, s, hook, err);
    w.emit = emit;
    w.emit_ud = emit_ud;
    size_t bad = 0;
    int rc = walk_document(text, len, on_element, pre_scan, &w, &bad);
    if (!w.fatal)
        batch_end(&w); /* also when the list broke: the events before it are kept */
    else if (w.sink)
        misp_sink_close(w.sink, w.fatal, NULL, NULL);
    walk_free(&w);
    if (rc == ACCORD_EJSON) {
        unsigned long line, col;
        misp_line_col(text, len, bad, &line, &col);
        accord_err_set(err, rc, "%s:%lu:%lu: invalid JSON (byte %zu): the list of events is "
                                "broken here; %zu event(s) before it were read",
                       src, line, col, bad, w.index);
        if (opts->on_error && err)
            opts->on_error(opts->ud, err->msg);
        return rc;
    }
    if (rc)
        return rc;
    if (w.fatal)
        return w.fatal;
    if (w.index == 0 && !w.partial)
        return accord_err_set(err, ACCORD_EJSON,
                              "%s: no MISP event ({\"Event\": ...}, a list of them, or "
                              "{\"response\": [...]})",
                              src);
    if (w.index == 0 && w.first_bad[0] && opts->on_error) /* it told the JSON error already */
        return accord_err_set(err, ACCORD_EJSON, "%s: no MISP event could be read", src);
    if (w.index == 0)
        return accord_err_set(err, ACCORD_EJSON, "%s; no MISP event could be read",
                              w.first_bad[0] ? w.first_bad : src);
    if (w.nonevent) {
        char msg[300];
        snprintf(msg, sizeof(msg), "%s: %zu element(s) of the list are not MISP events; skipped",
                 src, w.nonevent);
        if (opts->on_error)
            opts->on_error(opts->ud, msg);
        w.partial = 1;
    }
    if (w.partial)
        rc = accord_err_set(err, ACCORD_ESTIX,
                            "%llu attribute(s) skipped, %llu object(s) rejected, %llu event(s) "
                            "failed",
                            (unsigned long long)s->bad, (unsigned long long)s->store.rejected,
                            (unsigned long long)s->events_failed);
    return rc;
}

int accord_misp_import_mem(accord_store *store, const char *text, size_t len,
                           const accord_misp_options *opts, accord_misp_stats *st,
                           accord_error *err)
{
    return misp_import_mem_values(store, text, len, opts, st, NULL, NULL, err);
}

int misp_import_mem_values(accord_store *store, const char *text, size_t len,
                           const accord_misp_options *opts, accord_misp_stats *st,
                           misp_value_fn on_value, void *value_ud, accord_error *err)
{
    value_hook hook = {on_value, value_ud};
    static const accord_misp_options dflt = {0};
    accord_misp_stats local;
    accord_misp_stats *s = st ? st : &local;
    memset(s, 0, sizeof(*s));
    opts = opts ? opts : &dflt;
    if (!store)
        return accord_err_set(err, ACCORD_EINVAL, "misp: no store");
    int rc = 0;
    if (opts->flags & ACCORD_IMPORT_STRICT) { /* one transaction: every event's tree at once */
        ajson_arena a;
        ajson_arena_init(&a, len * 16 + ((size_t)64 << 20));
        collect ev = {0};
        rc = parse_events(text, len, opts, &a, &ev, err);
        if (rc == 0) {
            rc = import_batch(store, ev.v, ev.n, 0, NULL, &hook, opts, 1, s, err);
            if (rc) {
                s->events_failed = ev.n;
                if (rc != ACCORD_ESTRICT && rc != ACCORD_ENOMEM && rc != ACCORD_ESTORE)
                    rc = ACCORD_ESTRICT;
            }
        }
        free(ev.v);
        ajson_arena_free(&a);
        return rc;
    }
    return walk_input(store, NULL, NULL, text, len, opts, s, &hook, err);
}

int accord_misp_import_fd(accord_store *store, int fd, const accord_misp_options *opts,
                          accord_misp_stats *st, accord_error *err)
{
    char *text = NULL;
    size_t len = 0;
    if (st)
        memset(st, 0, sizeof(*st));
    int rc = misp_read_all(fd, MISP_MAX_INPUT, &text, &len, err);
    if (rc) /* named with the input, as the JSON errors are */
        return misp_err_named(err, opts ? opts->source : NULL, rc);
    rc = accord_misp_import_mem(store, text, len, opts, st, err);
    free(text);
    return rc;
}

int accord_misp_read_fd(int fd, char **text, size_t *len, accord_error *err)
{
    return misp_read_all(fd, MISP_MAX_INPUT, text, len, err);
}

/* The mapping without a store: the emit callback receives the objects directly. */
int accord_misp_map_mem(const char *text, size_t len, const accord_misp_options *opts,
                        int (*emit)(void *ud, const char *json, size_t len), void *ud,
                        accord_misp_stats *st, accord_error *err)
{
    static const accord_misp_options dflt = {0};
    accord_misp_stats local;
    accord_misp_stats *s = st ? st : &local;
    memset(s, 0, sizeof(*s));
    opts = opts ? opts : &dflt;
    static const value_hook none = {NULL, NULL};
    return walk_input(NULL, emit, ud, text, len, opts, s, &none, err);
}
