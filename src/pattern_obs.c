/*
 * pattern_obs.c - observation sets (accord_pattern_obs) and evaluating one pattern against one
 * (accord_pattern_match); the JSON document reader both this and the matcher use.
 *
 * A JSON document gives observations in one of four shapes (pattern_doc_load):
 *   - a bundle: every observed-data object of its "objects" list; STIX 2.1 object_refs resolve to
 *     the bundle's other objects by id (linear search for small bundles, a hash of ids for large);
 *   - a JSON array of objects: read like a bundle's list;
 *   - one observed-data object with an "objects" dictionary (STIX 2.0, deprecated STIX 2.1);
 *   - any other object: no observation.
 * Objects that are not observed-data are never observations themselves.
 *
 * An observation set keeps every document it was given in one arena (the trees are what the
 * observations point into) and a growing array of pattern_obs.  Matching a pattern evaluates each
 * leaf `[...]` against each observation once (a byte per pair), then, for patterns with
 * observation operators or qualifiers, runs the binding search (pattern_bind.c).
 */
#include "pattern.h"
#include "util/u64map.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define SMALL_DOC 32 /* objects below which ids are looked up by linear search */

struct accord_pattern_obs {
    ajson_arena arena;
    pattern_obs *v;
    size_t n, cap;
};

/* ------------------------------------------------------------------------------------------ */
/* Documents                                                                                    */

typedef struct doc {
    const ajson_value *items;
    size_t n;
    u64map map; /* XXH3(id) -> index, for large documents */
    int mapped;
} doc;

static const ajson_value *doc_lookup(void *ud, const char *id)
{
    doc *d = ud;
    uint64_t idx;
    if (d->mapped) {
        if (!u64map_get(&d->map, u64map_key(XXH3_64bits(id, strlen(id))), &idx))
            return NULL;
        const char *got = ajson_str(ajson_get(&d->items[idx], "id"));
        return got && strcmp(got, id) == 0 ? &d->items[idx] : NULL;
    }
    for (size_t i = 0; i < d->n; i++) {
        const char *got = ajson_str(ajson_get(&d->items[i], "id"));
        if (got && strcmp(got, id) == 0)
            return &d->items[i];
    }
    return NULL;
}

static int doc_map(doc *d)
{
    u64map_init(&d->map);
    if (d->n < SMALL_DOC)
        return 0;
    if (u64map_reserve(&d->map, d->n) < 0)
        return ACCORD_ENOMEM;
    for (size_t i = 0; i < d->n; i++) {
        const char *id = ajson_str(ajson_get(&d->items[i], "id"));
        if (id && u64map_put(&d->map, u64map_key(XXH3_64bits(id, strlen(id))), i) < 0)
            return ACCORD_ENOMEM;
    }
    d->mapped = 1;
    return 0;
}

static int is_type(const ajson_value *v, const char *type)
{
    const char *t = ajson_str(ajson_get(v, "type"));
    return t && strcmp(t, type) == 0;
}

int pattern_doc_load(ajson_arena *a, const ajson_value *root, pattern_emit_cb emit, void *ud,
                     char *msg, size_t msglen)
{
    doc d = {0};
    pattern_obs o;
    int rc = 0;
    if (root->type == AJSON_OBJECT && is_type(root, "observed-data")) {
        rc = pattern_obs_load(&o, root, NULL, NULL, a, msg, msglen);
        return rc ? rc : emit(ud, &o);
    }
    if (root->type == AJSON_OBJECT && is_type(root, "bundle"))
        root = ajson_get(root, "objects");
    if (!root || root->type != AJSON_ARRAY)
        return 0;
    d.items = root->u.items;
    d.n = root->len;
    rc = doc_map(&d);
    for (size_t i = 0; rc == 0 && i < d.n; i++) {
        if (!is_type(&d.items[i], "observed-data"))
            continue;
        rc = pattern_obs_load(&o, &d.items[i], doc_lookup, &d, a, msg, msglen);
        if (rc == 0)
            rc = emit(ud, &o);
    }
    u64map_free(&d.map);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Observation sets                                                                             */

static void set_err(accord_error *err, int code, const char *msg)
{
    if (err) {
        err->code = code;
        snprintf(err->msg, sizeof err->msg, "%s", msg);
    }
}

ACCORD_API int accord_pattern_obs_new(accord_pattern_obs **out)
{
    *out = calloc(1, sizeof **out);
    if (!*out)
        return ACCORD_ENOMEM;
    ajson_arena_init(&(*out)->arena, 0);
    return 0;
}

ACCORD_API void accord_pattern_obs_free(accord_pattern_obs *obs)
{
    if (!obs)
        return;
    ajson_arena_free(&obs->arena);
    free(obs->v);
    free(obs);
}

ACCORD_API void accord_pattern_obs_clear(accord_pattern_obs *obs)
{
    ajson_arena_reset(&obs->arena);
    obs->n = 0;
}

static int obs_push(void *ud, pattern_obs *o)
{
    accord_pattern_obs *obs = ud;
    if (obs->n == obs->cap) {
        size_t cap = obs->cap ? obs->cap * 2 : 16;
        pattern_obs *nv = realloc(obs->v, cap * sizeof *nv);
        if (!nv)
            return ACCORD_ENOMEM;
        obs->v = nv;
        obs->cap = cap;
    }
    obs->v[obs->n++] = *o;
    return 0;
}

ACCORD_API int accord_pattern_obs_add_json(accord_pattern_obs *obs, const char *json, size_t len,
                                           accord_error *err)
{
    ajson_error je;
    char msg[200];
    const ajson_value *root = ajson_parse(&obs->arena, json, len, &je);
    size_t before = obs->n;
    int rc;
    if (!root) {
        snprintf(msg, sizeof msg, "offset %zu: %s", je.offset, je.msg);
        set_err(err, ACCORD_EJSON, msg);
        return ACCORD_EJSON;
    }
    rc = pattern_doc_load(&obs->arena, root, obs_push, obs, msg, sizeof msg);
    if (rc) {
        obs->n = before;
        set_err(err, rc, rc == ACCORD_ENOMEM ? "out of memory" : msg);
    }
    return rc;
}

ACCORD_API size_t accord_pattern_obs_count(const accord_pattern_obs *obs)
{
    return obs ? obs->n : 0;
}

ACCORD_API const char *accord_pattern_obs_id(const accord_pattern_obs *obs, size_t i)
{
    return obs && i < obs->n ? obs->v[i].id : NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* One pattern against a set                                                                    */

typedef struct match_ctx {
    const accord_pattern *p;
    unsigned char *hits; /* hits[i * nleaves + leaf] */
} match_ctx;

static int leafmatch(void *ud, uint32_t leaf, size_t i)
{
    match_ctx *m = ud;
    return m->hits[i * m->p->nleaves + leaf];
}

/* Evaluates every leaf against every observation into m->hits. */
static int eval_leaves(match_ctx *m, const accord_pattern_obs *obs, accord_error *err)
{
    pattern_scratch s;
    int rc = pattern_scratch_init(&s);
    for (size_t i = 0; rc == 0 && i < obs->n; i++)
        for (uint32_t l = 0; rc == 0 && l < m->p->nleaves; l++) {
            int r = pattern_eval_leaf(m->p->leaves[l]->leaf, &obs->v[i], &s);
            if (r < 0) {
                char msg[400];
                snprintf(msg, sizeof msg, "observation %s: %s", obs->v[i].id,
                         r == ACCORD_ENOMEM ? "out of memory" : s.msg);
                set_err(err, r, msg);
                rc = r;
            }
            m->hits[i * m->p->nleaves + l] = r > 0;
        }
    pattern_scratch_free(&s);
    return rc;
}

static int bind_all(match_ctx *m, const accord_pattern_obs *obs, int *matched,
                    accord_pattern_binding *binding)
{
    pattern_tobs *t = malloc((obs->n ? obs->n : 1) * sizeof *t);
    uint32_t ids[PATTERN_MAX_BINDING_OBS];
    size_t nids = 0;
    ajson_arena a;
    int rc;
    if (!t)
        return ACCORD_ENOMEM;
    for (size_t i = 0; i < obs->n; i++) {
        t[i].first = obs->v[i].first;
        t[i].last = obs->v[i].last;
        t[i].count = obs->v[i].count;
    }
    ajson_arena_init(&a, 0);
    rc = pattern_bind(m->p, t, obs->n, leafmatch, m, -1, &a, ids, &nids);
    ajson_arena_free(&a);
    free(t);
    if (rc < 0)
        return rc;
    *matched = rc;
    if (rc && binding) {
        binding->n = nids;
        memcpy(binding->obs, ids, nids * sizeof *ids);
    }
    return 0;
}

ACCORD_API int accord_pattern_match(const accord_pattern *p, const accord_pattern_obs *obs,
                                    int *matched, accord_pattern_binding *binding,
                                    accord_error *err)
{
    match_ctx m = {p, NULL};
    int rc;
    *matched = 0;
    if (binding)
        binding->n = 0;
    if (obs->n > SIZE_MAX / PATTERN_MAX_LEAVES)
        return ACCORD_ELIMIT;
    m.hits = malloc(obs->n * p->nleaves + 1);
    if (!m.hits)
        return ACCORD_ENOMEM;
    rc = eval_leaves(&m, obs, err);
    if (rc == 0)
        rc = bind_all(&m, obs, matched, binding);
    if (rc == ACCORD_ELIMIT)
        set_err(err, rc, "the binding search exceeded its bounds (too many candidate bindings)");
    else if (rc == ACCORD_ENOMEM)
        set_err(err, rc, "out of memory");
    free(m.hits);
    return rc;
}
