/*
 * export_stix.c - a STIX 2.1 bundle of the selected indicators, for tools that load STIX (a
 * TIP, an EDR, another node's import).
 *
 *   {"type":"bundle","id":"bundle--U","objects":[
 *   <indicator>,          the stored version selection picked, byte for byte (its signatures,
 *   ...                   markings and every property as the producer wrote them), in store
 *   <marking-definition>  order (seq); then each marking-definition they reference, by id
 *   ]}
 *
 * Selection is every other format's (export.c): the latest version, not revoked, valid at the
 * export time, the filters, the reader's clearance and --max-tlp.  A bundle carries whole
 * indicators, never rewritten patterns, so:
 *   - an indicator one of whose values is allow-listed is left out whole, counted and named in
 *     the summary ("holds an allow-listed value"); its other values are not exported here (a
 *     line format would still write them);
 *   - an indicator whose pattern cannot be translated (AND, qualifiers, other pattern types) is
 *     left out, counted and named, as in every format: its values cannot be checked against the
 *     allow-lists, and an export never carries an allow-listed value;
 *   - domain-suffix values (LIKE '%.d') are expressible: the pattern is the producer's.
 *
 * Markings: every "marking-definition--UUID" a written indicator holds as a reference (object
 * markings and granular markings) is written once after the indicators, as the store holds it
 * (the latest version the reader may read), or, for the TLP 1.0 and TLP 2.0 definitions STIX
 * predefines, as the specification writes it when the store has no copy.  A reference that is
 * neither is counted and named in the summary; the bundle is written all the same.  The TLP 2.0
 * definitions name their extension (extension-definition--60a3c5c5-...) by id only, without the
 * extension-definition object: the extension's published schema and example bundle (OASIS
 * cti-stix-common-objects, tlp-2.0) carry no such object either, since its id is fixed and
 * published, and a consumer that does not know it still reads the name "TLP:GREEN".
 *
 * Stability: the bytes depend only on the store's state: the bundle id is XXH3-128 of the
 * written versions' seqs shaped as a version-4 UUID, so an unchanged store gives the same bytes
 * and a feed the same ETag.
 *
 * Memory: bodies are read one at a time from the store (store_feed_bodies) and go straight to
 * the writer's 64 KiB buffer; beside the set, a writer holds one seq per written indicator.
 */
#include "export.h"

#include "tlp.h"
#include "util/u64map.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

/* The marking-definitions STIX 2.1 predefines (section 7.2.1.4) and the TLP 2.0 extension's. */
static const struct {
    const char *id, *body;
} predefined[] = {
#define TLP1_(uuid, name, color)                                                                   \
    {                                                                                              \
        "marking-definition--" uuid,                                                               \
            "{\"type\":\"marking-definition\",\"spec_version\":\"2.1\",\"id\":\"marking-"          \
            "definition--" uuid "\",\"created\":\"2017-01-20T00:00:00.000Z\",\"definition_type\":" \
            "\"tlp\",\"name\":\"" name "\",\"definition\":{\"tlp\":\"" color "\"}}"                \
    }
#define TLP2_(uuid, name, color)                                                                   \
    {                                                                                              \
        "marking-definition--" uuid,                                                               \
            "{\"type\":\"marking-definition\",\"spec_version\":\"2.1\",\"id\":\"marking-"          \
            "definition--" uuid "\",\"created\":\"2022-10-01T00:00:00.000Z\",\"name\":\"" name     \
            "\",\"extensions\":{"                                                                  \
            "\"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d\":{\"extension_type\":"  \
            "\"property-extension\",\"tlp_2_0\":\"" color "\"}}}"                                  \
    }
    TLP1_("613f2e26-407d-48c7-9eca-b8e91df99dc9", "TLP:WHITE", "white"),
    TLP1_("34098fce-860f-48ae-8e50-ebd3cc5e41da", "TLP:GREEN", "green"),
    TLP1_("f88d31f6-486f-44da-b317-01333bde0b82", "TLP:AMBER", "amber"),
    TLP1_("5e57c739-391a-4eb3-b6be-7d15ca92d5ed", "TLP:RED", "red"),
    TLP2_("94868c89-83c2-464b-929b-a1a8aa3c8487", "TLP:CLEAR", "clear"),
    TLP2_("bab4a63c-aed9-4cf5-a766-dfca5abac2bb", "TLP:GREEN", "green"),
    TLP2_("55d920b0-5e8b-4f79-9ee9-91f868d9b421", "TLP:AMBER", "amber"),
    TLP2_("939a9414-2ddd-4d32-a0cd-375ea402b003", "TLP:AMBER+STRICT", "amber+strict"),
    TLP2_("e828b379-4e03-4974-9ac4-e53a884c97c1", "TLP:RED", "red"),
#undef TLP1_
#undef TLP2_
};

#define MARKING_PREFIX "\"marking-definition--"
#define MARKING_ID_LEN (sizeof("marking-definition--") - 1 + 36)
#define MARKINGS_MAX 1024 /* distinct markings written; more are counted, not written */

typedef struct stix_out {
    export_out *w;
    u64map seen; /* XXH3 of a marking id -> 1 */
    char (*markings)[MARKING_ID_LEN + 1];
    size_t nmarkings;
    uint64_t dropped; /* distinct markings past MARKINGS_MAX */
    size_t written;   /* objects written so far (for the separators) */
} stix_out;

/* 1 when p[0..36) is a UUID's text (8-4-4-4-12 hex digits). */
static int uuid_text(const char *p)
{
    for (int i = 0; i < 36; i++) {
        char c = p[i];
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return 0;
    }
    return 1;
}

/* Notes every marking-definition id body[0..len) holds as a JSON string. */
static int note_markings(stix_out *x, const char *body, size_t len)
{
    const char *p = body, *e = body + len;
    const size_t pl = sizeof(MARKING_PREFIX) - 1;
    while ((p = memmem(p, (size_t)(e - p), MARKING_PREFIX, pl)) != NULL) {
        const char *id = p + 1;
        p += pl;
        if ((size_t)(e - id) < MARKING_ID_LEN + 1 || id[MARKING_ID_LEN] != '"' ||
            !uuid_text(id + MARKING_ID_LEN - 36))
            continue;
        uint64_t key = u64map_key(XXH3_64bits(id, MARKING_ID_LEN)), one;
        if (u64map_get(&x->seen, key, &one))
            continue;
        if (u64map_put(&x->seen, key, 1))
            return ACCORD_ENOMEM;
        if (x->nmarkings == MARKINGS_MAX) {
            x->dropped++;
            continue;
        }
        memcpy(x->markings[x->nmarkings], id, MARKING_ID_LEN);
        x->markings[x->nmarkings++][MARKING_ID_LEN] = '\0';
    }
    return 0;
}

int export_stix_markings(const char *body, size_t len, void (*cb)(void *ud, const char *id),
                         void *ud)
{
    stix_out x = {0};
    u64map_init_set(&x.seen);
    int rc = (x.markings = malloc(MARKINGS_MAX * sizeof(*x.markings))) ? 0 : ACCORD_ENOMEM;
    if (!rc)
        rc = note_markings(&x, body, len);
    for (size_t i = 0; !rc && i < x.nmarkings; i++)
        cb(ud, x.markings[i]);
    free(x.markings);
    u64map_free(&x.seen);
    return rc ? rc : (int)(x.nmarkings + x.dropped);
}

static int put_object(stix_out *x, const char *body, size_t len)
{
    if (x->written++)
        export_add(x->w, ",\n", 2);
    else
        export_add(x->w, "\n", 1);
    return export_add(x->w, body, len);
}

static int on_body(void *ud, size_t i, const char *body, size_t len)
{
    stix_out *x = ud;
    (void)i;
    if (x->w->rc)
        return x->w->rc;
    int rc = note_markings(x, body, len);
    return rc ? (x->w->rc = rc) : put_object(x, body, len);
}

/* The stored marking-definition (the latest version the reader may read). */
static int on_marking(void *ud, const accord_record *r)
{
    stix_out *x = ud;
    return put_object(x, r->body, r->body_len);
}

static int cmp_marking(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void unexportable(export_out *w, const char *fmt, const char *id, const char *why)
{
    w->sum->unexportable++;
    if (w->sum->nnames < ACCORD_EXPORT_NAMES)
        snprintf(w->sum->names[w->sum->nnames++], sizeof(w->sum->names[0]), fmt, id, why);
}

static int write_markings(stix_out *x)
{
    export_out *w = x->w;
    qsort(x->markings, x->nmarkings, sizeof(x->markings[0]), cmp_marking);
    for (size_t m = 0; m < x->nmarkings && !w->rc; m++) {
        const char *id = x->markings[m];
        accord_error err = {0};
        int rc = w->set->viewer ? accord_store_get_as(w->set->store, w->set->viewer, id, 0,
                                                      on_marking, x, &err)
                                : accord_store_get(w->set->store, id, 0, on_marking, x, &err);
        if (rc != ACCORD_ENOTFOUND) {
            if (rc)
                w->rc = rc;
            continue;
        }
        size_t k = 0;
        while (k < sizeof(predefined) / sizeof(predefined[0]) && strcmp(predefined[k].id, id))
            k++;
        if (k < sizeof(predefined) / sizeof(predefined[0]))
            put_object(x, predefined[k].body, strlen(predefined[k].body));
        else
            unexportable(w, "%s: %s", id, "referenced, but not in the store: not in the bundle");
    }
    if (x->dropped)
        unexportable(w, "%s%s", "marking-definitions",
                     ": more than 1024 distinct ones referenced; the rest are not in the bundle");
    return w->rc;
}

/* The seqs of the versions a bundle of s holds (sorted: a collection is scanned in its own
 * order), into *out (free it); with w, indicators left out for an allow-listed value are marked,
 * counted and named there, and values counted.  -1 when out of memory. */
static int written_seqs(const accord_export_set *s, export_out *w, int64_t **out, size_t *n)
{
    int64_t *seqs = malloc((s->ninds ? s->ninds : 1) * sizeof(*seqs));
    int sorted = 1;
    *n = 0;
    *out = seqs;
    if (!seqs)
        return -1;
    for (size_t i = 0; i < s->ninds; i++) {
        const export_ind *d = &s->inds[i];
        if (!d->nitems && !d->allowlisted)
            continue;
        if (d->allowlisted) { /* a bundle carries whole indicators: left out, counted, named */
            if (w) {
                w->mark[i] = 1;
                unexportable(w, "%s: %s", export_str(s, d->id),
                             "holds an allow-listed value; a STIX bundle carries whole indicators");
            }
            continue;
        }
        sorted &= !*n || d->seq > seqs[*n - 1];
        seqs[(*n)++] = d->seq;
        if (w)
            w->sum->values += d->nitems;
    }
    if (!sorted)
        qsort(seqs, *n, sizeof(*seqs), cmp64);
    return 0;
}

/* The bundle of the versions seqs[0..n) (sorted) and, with revoked, what on_revoked wrote. */
static int write_bundle(stix_out *x, const int64_t *seqs, size_t n, uint64_t seed,
                        const int64_t *more, size_t nmore)
{
    export_out *w = x->w;
    const accord_export_set *s = w->set;
    char id[37];
    accord_error err = {0};
    export_uuid_of(seqs, n * sizeof(*seqs), seed, id); /* the written versions */
    export_file(w, NULL);
    export_printf(w, "{\"type\":\"bundle\",\"id\":\"bundle--%s\",\"objects\":[", id);
    int rc = store_feed_bodies(s->store, seqs, n, on_body, x, &err);
    if (!rc && nmore)
        rc = store_feed_bodies(s->store, more, nmore, on_body, x, &err);
    if (rc && !w->rc)
        w->rc = rc;
    if (!w->rc)
        write_markings(x);
    export_add(w, x->written ? "\n]}\n" : "]}\n", x->written ? 4 : 3);
    return w->rc;
}

static int stix_begin(stix_out *x, export_out *w)
{
    x->w = w;
    w->supported = ~0u; /* the producer's pattern: every kind */
    u64map_init_set(&x->seen);
    if (!w->set->store)
        return w->rc = ACCORD_EINVAL;
    if (!(x->markings = malloc(MARKINGS_MAX * sizeof(*x->markings))))
        return w->rc = ACCORD_ENOMEM;
    return 0;
}

static void stix_end(stix_out *x)
{
    free(x->markings);
    u64map_free(&x->seen);
}

int export_stix(export_out *w)
{
    stix_out x = {0};
    int64_t *seqs = NULL;
    size_t n = 0;
    if (!stix_begin(&x, w) && written_seqs(w->set, w, &seqs, &n) < 0)
        w->rc = ACCORD_ENOMEM;
    if (!w->rc)
        write_bundle(&x, seqs, n, 0x5715, NULL, 0);
    free(seqs);
    stix_end(&x);
    return w->rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Incremental bundles: the changes since a cursor                                              */

int accord_export_stix_cursor(const accord_export_set *set, accord_export_cursor *out)
{
    int64_t *seqs;
    size_t n;
    /* the newest instant and date_added that changed any kind (export.h): the store as it was
     * then, selected then, selects these versions */
    out->at_us = 1;
    out->added_us = 1;
    for (int k = 0; k < ACCORD_EK_COUNT; k++) {
        if (set->kind_at[k] > out->at_us)
            out->at_us = set->kind_at[k];
        if (set->kind_added[k] > out->added_us)
            out->added_us = set->kind_added[k];
    }
    if (written_seqs(set, NULL, &seqs, &n) < 0)
        return ACCORD_ENOMEM;
    out->digest = XXH3_64bits_withSeed(seqs, n * sizeof(*seqs), 0x5715);
    free(seqs);
    return 0;
}

/* 1 when sorted a[0..n) holds v. */
static int has_seq(const int64_t *a, size_t n, int64_t v)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && a[lo] == v;
}

/* What became of an indicator that left the selection: its latest version, when revoked. */
typedef struct left {
    int64_t seq; /* the revoking version, or 0 */
    int revoked, tlp;
} left;

static int on_left(void *ud, const accord_record *r)
{
    left *l = ud;
    l->seq = r->seq;
    l->revoked = r->revoked;
    l->tlp = r->tlp;
    return 0;
}

/*
 * The changes from prev's bundle to set's: every version set holds and prev did not (a new
 * indicator, or a new version of one), and for each indicator prev held that set does not, its
 * revoking version when it was revoked (the reader may read it, and its TLP passes the
 * selection's --max-tlp): STIX says "withdrawn" only that way.  An indicator that left otherwise
 * (its valid_until passed, which the consumer holding it can see; a filter or an allow-list now
 * leaves it out) cannot be retracted in STIX: each is counted and named in the summary.
 */
int export_stix_delta(export_out *w, const accord_export_set *prev)
{
    const accord_export_set *s = w->set;
    stix_out x = {0};
    int64_t *now = NULL, *before = NULL, *add = NULL, *rev = NULL;
    size_t nnow = 0, nbefore = 0, nadd = 0, nrev = 0;
    u64map ids;
    u64map_init_set(&ids);
    if (stix_begin(&x, w) || written_seqs(s, w, &now, &nnow) < 0 ||
        written_seqs(prev, NULL, &before, &nbefore) < 0 ||
        !(add = malloc((nnow ? nnow : 1) * sizeof(*add))) ||
        !(rev = malloc((prev->ninds ? prev->ninds : 1) * sizeof(*rev))))
        w->rc = w->rc ? w->rc : ACCORD_ENOMEM;
    for (size_t i = 0; !w->rc && i < nnow; i++)
        if (!has_seq(before, nbefore, now[i]))
            add[nadd++] = now[i];
    /* the ids set holds (any version): an indicator whose version changed did not leave */
    for (size_t i = 0; !w->rc && i < s->ninds; i++) {
        const char *id = export_str(s, s->inds[i].id);
        if ((s->inds[i].nitems || s->inds[i].allowlisted) &&
            u64map_put(&ids, u64map_key(XXH3_64bits(id, strlen(id))), 1))
            w->rc = ACCORD_ENOMEM;
    }
    for (size_t i = 0; !w->rc && i < prev->ninds; i++) {
        const export_ind *d = &prev->inds[i];
        const char *id = export_str(prev, d->id);
        left l = {0};
        accord_error err = {0};
        if (!d->nitems || d->allowlisted ||
            u64map_get(&ids, u64map_key(XXH3_64bits(id, strlen(id))), NULL))
            continue;
        /* its latest version where the selection looks (the collection), as the reader may
         * read it */
        const char *one[2] = {id, NULL};
        accord_scan_filter f = {.collection = s->collection,
                                .ids = one,
                                .versions = ACCORD_VERSIONS_LAST,
                                .include_revoked = 1,
                                .viewer = s->viewer};
        int rc = accord_store_scan(s->store, &f, on_left, &l, &err);
        if (rc) {
            w->rc = rc;
            break;
        }
        /* a revocation, under the selection's --max-tlp */
        if (l.revoked && l.seq > d->seq &&
            (s->max_tlp < 0 || tlp_effective(l.tlp, s->dflt_tlp) <= s->max_tlp)) {
            rev[nrev++] = l.seq;
            continue;
        }
        unexportable(w, "%s: %s", id,
                     "left the selection since the cursor (expired, filtered or allow-listed); "
                     "STIX can retract only by revocation");
    }
    if (!w->rc) {
        qsort(rev, nrev, sizeof(*rev), cmp64);
        write_bundle(&x, add, nadd, 0x5716, rev, nrev);
    }
    free(now);
    free(before);
    free(add);
    free(rev);
    u64map_free(&ids);
    stix_end(&x);
    return w->rc;
}
