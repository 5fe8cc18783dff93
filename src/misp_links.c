/*
 * misp_links.c - the galaxy links of a misp-feed export: which ATT&CK techniques, malware,
 * tools, intrusion sets, threat actors and courses of action the exported indicators and their
 * reports are linked to, written back as MISP writes them in its own event JSON, so that a feed
 * accord exports and then imports (or MISP loads) keeps them.
 *
 *   STIX in the store                              MISP feed event
 *   relationship indicator <-> cluster SDO         Attribute.Galaxy[].GalaxyCluster[] and
 *                                                  Attribute.Tag "misp-galaxy:TYPE=\"VALUE\""
 *   report whose object_refs hold an exported      Event.Galaxy[].GalaxyCluster[] and
 *   indicator and a cluster SDO                    Event.Tag "misp-galaxy:TYPE=\"VALUE\""
 *
 * A cluster SDO is an attack-pattern, intrusion-set, threat-actor, malware, tool,
 * course-of-action or x-misp-galaxy-cluster.  Its GalaxyCluster entry carries the uuid of its
 * STIX id (so the importer, misp_map.c, derives the same id again), the galaxy type from its
 * misp:galaxy-type label (what the MISP import wrote) or from its STIX type ("mitre-" + type,
 * ATT&CK's galaxies), value = name, meta.external_id = the ids of its mitre-attack and
 * misp-galaxy external references, meta.refs = their URLs, meta.synonyms = aliases,
 * meta.kill_chain = "chain:phase".  Each cluster is one Galaxy entry of its galaxy type,
 * grouped by type per attribute as MISP does.
 *
 * Cost: one scan of the latest relationship versions and one of the latest reports (what the
 * export's viewer and collection may read), a body parse each, and one read per distinct
 * cluster; nothing per indicator, so an export of millions of indicators without links pays two
 * index walks.  Links whose relationship, report or cluster is above the export's max TLP, or
 * revoked, are left out.
 *
 * Relationships between two cluster SDOs ("uses", "similar", ...) become the source cluster's
 * GalaxyClusterRelation list (referenced_galaxy_cluster_uuid = the target's uuid,
 * referenced_galaxy_cluster_type = the relationship type), as MISP writes its cluster relations;
 * the importer turns each back into the relationship when the event carries the target cluster
 * too (a uuid alone does not say the target's STIX type).  They are collected in the same scan
 * of relationships, at most RELS_MAX, and at most 64 are written per cluster.
 *
 * What it does not do: write sightings, opinions and notes.
 */
#include "misp.h"

#include "export.h"
#include "tlp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define LINKS_MAX ((size_t)1 << 24) /* (indicator, cluster) pairs kept; more are left out */
#define CLUSTERS_MAX 65536          /* distinct clusters kept */
#define RELS_MAX 262144             /* cluster-to-cluster relationships kept */

typedef struct cluster_rel {
    char type[101];    /* the relationship type */
    char target[37];   /* the target cluster's uuid */
    uint32_t next;     /* 1 + index of the source's next relation, 0 at the end */
} cluster_rel;

typedef struct link_cluster {
    char *id;
    uint32_t rank; /* its place in galaxy-type order (entries of one type are written together) */
    char *gtype;  /* galaxy type ("mitre-attack-pattern"), NULL until read, "" when unusable */
    char *gname;  /* galaxy name ("Attack Pattern") */
    char *entry;  /* the GalaxyCluster object as JSON */
    char *tag;    /* the tag's JSON string: "misp-galaxy:TYPE=\"VALUE\"" quoted */
} link_cluster;

typedef struct link_pair {
    uint32_t ind, rank, cluster; /* rank: the cluster's, copied here for the sort */
} link_pair;

struct misp_links {
    const accord_export_set *set;
    u64map inds;     /* XXH3 of an indicator id -> 1 + index in set->inds */
    u64map clmap;    /* XXH3 of a cluster id -> 1 + index in cl */
    link_cluster *cl;
    size_t ncl, clcap;
    link_pair *pairs; /* sorted by (ind, galaxy type, cluster) once loaded */
    size_t npairs, paircap;
    u64map pairset;                /* (ind, cluster) pairs stored, against duplicates */
    uint32_t *event_cl;            /* clusters of the reports (by galaxy type once loaded) */
    uint32_t *byrank;              /* rank -> cluster */
    size_t nevent, eventcap;
    u64map eventset;
    cluster_rel *rels; /* relationships between clusters, chained per source */
    size_t nrels, relcap;
    u64map relhead; /* XXH3 of a source cluster id -> 1 + index of its last relation */
    ajson_arena arena;
    int rc;
};

static const char *const cluster_types[] = {
    "attack-pattern", "intrusion-set", "threat-actor",          "malware", "tool",
    "course-of-action", "x-misp-galaxy-cluster", NULL,
};

/* 1 when id names a cluster SDO. */
static int cluster_id(const char *id)
{
    for (size_t i = 0; id && cluster_types[i]; i++) {
        size_t n = strlen(cluster_types[i]);
        if (strncmp(id, cluster_types[i], n) == 0 && id[n] == '-' && id[n + 1] == '-')
            return 1;
    }
    return 0;
}

static uint64_t id_key(const char *id)
{
    return u64map_key(XXH3_64bits(id, strlen(id)));
}

/* The index of indicator id in the set, or -1. */
static long ind_index(const misp_links *l, const char *id)
{
    uint64_t v;
    if (!id || !u64map_get(&l->inds, id_key(id), &v))
        return -1;
    const accord_export_set *s = l->set; /* indexes past the indicators: set->others */
    const export_ind *d = v - 1 < s->ninds ? &s->inds[v - 1] : &s->others[v - 1 - s->ninds];
    const char *have = export_str(s, d->id);
    return strcmp(have, id) == 0 ? (long)(v - 1) : -1;
}

/* The index of cluster id, added when new; -1 when memory or the cap runs out. */
static long cluster_index(misp_links *l, const char *id)
{
    uint64_t k = id_key(id), v;
    if (u64map_get(&l->clmap, k, &v))
        return strcmp(l->cl[v - 1].id, id) == 0 ? (long)(v - 1) : -1; /* a collision: left out */
    if (l->ncl >= CLUSTERS_MAX)
        return -1;
    if (l->ncl == l->clcap) {
        size_t cap = l->clcap ? 2 * l->clcap : 64;
        link_cluster *p = realloc(l->cl, cap * sizeof(*p));
        if (!p)
            return l->rc = ACCORD_ENOMEM, -1;
        l->cl = p, l->clcap = cap;
    }
    link_cluster *c = &l->cl[l->ncl];
    memset(c, 0, sizeof(*c));
    if (!(c->id = strdup(id)) || u64map_put(&l->clmap, k, l->ncl + 1) != 0) {
        free(c->id);
        return l->rc = ACCORD_ENOMEM, -1;
    }
    return (long)l->ncl++;
}

static void add_pair(misp_links *l, long ind, long cl)
{
    if (ind < 0 || cl < 0 || l->npairs >= LINKS_MAX)
        return;
    uint64_t k = u64map_key(((uint64_t)ind << 32) | (uint64_t)cl);
    if (u64map_get(&l->pairset, k, NULL))
        return;
    if (l->npairs == l->paircap) {
        size_t cap = l->paircap ? 2 * l->paircap : 256;
        link_pair *p = realloc(l->pairs, cap * sizeof(*p));
        if (!p) {
            l->rc = ACCORD_ENOMEM;
            return;
        }
        l->pairs = p, l->paircap = cap;
    }
    if (u64map_put(&l->pairset, k, 1) != 0) {
        l->rc = ACCORD_ENOMEM;
        return;
    }
    l->pairs[l->npairs++] = (link_pair){(uint32_t)ind, 0, (uint32_t)cl};
}

static void add_event_cluster(misp_links *l, long cl)
{
    if (cl < 0 || u64map_get(&l->eventset, (uint64_t)cl + 1, NULL))
        return;
    if (l->nevent == l->eventcap) {
        size_t cap = l->eventcap ? 2 * l->eventcap : 64;
        uint32_t *p = realloc(l->event_cl, cap * sizeof(*p));
        if (!p) {
            l->rc = ACCORD_ENOMEM;
            return;
        }
        l->event_cl = p, l->eventcap = cap;
    }
    if (u64map_put(&l->eventset, (uint64_t)cl + 1, 1) != 0) {
        l->rc = ACCORD_ENOMEM;
        return;
    }
    l->event_cl[l->nevent++] = (uint32_t)cl;
}

/* 1 when the version's TLP is within the export's max_tlp. */
static int tlp_ok(const misp_links *l, const ajson_value *obj)
{
    if (l->set->max_tlp < 0)
        return 1;
    tlp_label lab;
    tlp_label_json(obj, &lab);
    return tlp_effective(lab.level, l->set->dflt_tlp) <= l->set->max_tlp;
}

/* The parsed body of rec, or NULL when it does not parse or is above the max TLP. */
static const ajson_value *parse_rec(misp_links *l, const accord_record *rec)
{
    ajson_error jerr;
    ajson_arena_reset(&l->arena);
    const ajson_value *o = ajson_parse(&l->arena, rec->body, rec->body_len, &jerr);
    return o && o->type == AJSON_OBJECT && tlp_ok(l, o) ? o : NULL;
}

/* A relationship from cluster src to cluster dst, kept for src's GalaxyClusterRelation. */
static void add_cluster_rel(misp_links *l, const char *src, const char *type, const char *dst)
{
    const char *sep = strstr(dst, "--");
    if (!type || strlen(type) > 100 || !sep || strlen(sep + 2) != 36 || l->nrels >= RELS_MAX)
        return;
    if (l->nrels == l->relcap) {
        size_t cap = l->relcap ? 2 * l->relcap : 64;
        cluster_rel *p = realloc(l->rels, cap * sizeof(*p));
        if (!p) {
            l->rc = ACCORD_ENOMEM;
            return;
        }
        l->rels = p, l->relcap = cap;
    }
    uint64_t head = 0, k = id_key(src);
    u64map_get(&l->relhead, k, &head);
    cluster_rel *r = &l->rels[l->nrels];
    snprintf(r->type, sizeof(r->type), "%s", type);
    memcpy(r->target, sep + 2, 37);
    r->next = (uint32_t)head;
    if (u64map_put(&l->relhead, k, l->nrels + 1) != 0) {
        l->rc = ACCORD_ENOMEM;
        return;
    }
    l->nrels++;
}

/* A relationship between an exported indicator and a cluster (either way round), or between
 * two clusters. */
static int on_relationship(void *ud, const accord_record *rec)
{
    misp_links *l = ud;
    const ajson_value *o = rec->revoked ? NULL : parse_rec(l, rec);
    const char *src = o ? ajson_str(ajson_get(o, "source_ref")) : NULL;
    const char *dst = o ? ajson_str(ajson_get(o, "target_ref")) : NULL;
    if (!src || !dst)
        return 0;
    if (cluster_id(src) && cluster_id(dst))
        add_cluster_rel(l, src, ajson_str(ajson_get(o, "relationship_type")), dst);
    else if (cluster_id(dst) && strncmp(src, "indicator--", 11) == 0)
        add_pair(l, ind_index(l, src), cluster_index(l, dst));
    else if (cluster_id(src) && strncmp(dst, "indicator--", 11) == 0)
        add_pair(l, ind_index(l, dst), cluster_index(l, src));
    return l->rc;
}

/* A report: its clusters belong to the event when it names an exported indicator. */
static int on_report(void *ud, const accord_record *rec)
{
    misp_links *l = ud;
    const ajson_value *o = parse_rec(l, rec);
    const ajson_value *refs = o ? ajson_get(o, "object_refs") : NULL;
    if (!refs || refs->type != AJSON_ARRAY)
        return 0;
    int named = 0;
    for (size_t i = 0; i < refs->len && !named; i++)
        named = ind_index(l, ajson_str(&refs->u.items[i])) >= 0;
    for (size_t i = 0; named && i < refs->len && !l->rc; i++) {
        const char *r = ajson_str(&refs->u.items[i]);
        if (cluster_id(r))
            add_event_cluster(l, cluster_index(l, r));
    }
    return l->rc;
}

/* The value of label `prefix"..."` (misp:galaxy-type="X" -> X) into out, or "". */
static void label_value(const ajson_value *labels, const char *prefix, char *out, size_t outlen)
{
    size_t n = strlen(prefix);
    out[0] = 0;
    for (size_t i = 0; labels && labels->type == AJSON_ARRAY && i < labels->len; i++) {
        const char *s = ajson_str(&labels->u.items[i]);
        size_t len = s ? strlen(s) : 0;
        if (len > n + 1 && strncmp(s, prefix, n) == 0 && s[n] == '"' && s[len - 1] == '"' &&
            len - n - 2 < outlen) {
            memcpy(out, s + n + 1, len - n - 2);
            out[len - n - 2] = 0;
            return;
        }
    }
}

/* Appends "KEY":[strings...] (after a comma when *members) built from each element of arr by
 * pick (NULL: skipped); nothing when none is left. */
static void json_list(buf *b, int *members, const char *key, const ajson_value *arr,
                      const char *(*pick)(const ajson_value *, char *, size_t))
{
    int n = 0;
    char tmp[512];
    for (size_t i = 0; arr && arr->type == AJSON_ARRAY && i < arr->len; i++) {
        const char *s = pick(&arr->u.items[i], tmp, sizeof(tmp));
        if (!s || !*s)
            continue;
        if (!n++)
            buf_printf(b, "%s\"%s\":[", (*members)++ ? "," : "", key);
        else
            buf_adds(b, ",");
        buf_json_str(b, s);
    }
    if (n)
        buf_adds(b, "]");
}

static const char *pick_str(const ajson_value *v, char *tmp, size_t len)
{
    (void)tmp, (void)len;
    return ajson_str(v);
}

static const char *pick_ext_id(const ajson_value *v, char *tmp, size_t len)
{
    (void)tmp, (void)len;
    const char *src = ajson_str(ajson_get(v, "source_name"));
    if (!src || (strcmp(src, "mitre-attack") && strcmp(src, "misp-galaxy")))
        return NULL;
    return ajson_str(ajson_get(v, "external_id"));
}

static const char *pick_url(const ajson_value *v, char *tmp, size_t len)
{
    (void)tmp, (void)len;
    return ajson_str(ajson_get(v, "url"));
}

static const char *pick_phase(const ajson_value *v, char *tmp, size_t len)
{
    const char *k = ajson_str(ajson_get(v, "kill_chain_name"));
    const char *p = ajson_str(ajson_get(v, "phase_name"));
    if (!k || !p || (size_t)snprintf(tmp, len, "%s:%s", k, p) >= len)
        return NULL;
    return tmp;
}

/* The galaxy's name for a galaxy type MISP's ATT&CK galaxies use, else the type itself. */
static const char *galaxy_name(const char *stix_type)
{
    static const char *const names[][2] = {
        {"attack-pattern", "Attack Pattern"}, {"intrusion-set", "Intrusion Set"},
        {"threat-actor", "Threat Actor"},     {"malware", "Malware"},
        {"tool", "Tool"},                     {"course-of-action", "Course of Action"},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(stix_type, names[i][0]) == 0)
            return names[i][1];
    return "Galaxy";
}

static char *take(buf *b)
{
    return b->failed ? NULL : buf_take(b, NULL);
}

typedef struct cluster_read {
    misp_links *l;
    link_cluster *c;
} cluster_read;

/* ,"GalaxyClusterRelation":[...] of cluster id (uuid its uuid), when it has relations. */
static void cluster_rels(const misp_links *l, const char *id, const char *uuid, buf *b)
{
    uint64_t at = 0;
    if (!u64map_get(&l->relhead, id_key(id), &at))
        return;
    buf_adds(b, ",\"GalaxyClusterRelation\":[");
    for (int n = 0; at && n < 64; at = l->rels[at - 1].next, n++) {
        const cluster_rel *r = &l->rels[at - 1];
        buf_printf(b, "%s{\"galaxy_cluster_uuid\":\"%s\",\"referenced_galaxy_cluster_uuid\":"
                      "\"%s\",\"referenced_galaxy_cluster_type\":",
                   n ? "," : "", uuid, r->target);
        buf_json_str(b, r->type);
        buf_adds(b, "}");
    }
    buf_adds(b, "]");
}

/* The latest version of a cluster: its entry and tag (left NULL when it cannot be used). */
static int on_cluster(void *ud, const accord_record *rec)
{
    cluster_read *r = ud;
    misp_links *l = r->l;
    link_cluster *c = r->c;
    const ajson_value *o = rec->revoked ? NULL : parse_rec(l, rec);
    const char *name = o ? ajson_str(ajson_get(o, "name")) : NULL;
    const char *sep = strstr(rec->id, "--");
    if (!name || !*name || !sep || strlen(sep + 2) != 36)
        return 0;
    const ajson_value *labels = ajson_get(o, "labels");
    char gtype[200], gname[200], stype[64];
    snprintf(stype, sizeof(stype), "%.*s", (int)(sep - rec->id), rec->id);
    label_value(labels, "misp:galaxy-type=", gtype, sizeof(gtype));
    label_value(labels, "misp:galaxy-name=", gname, sizeof(gname));
    if (!gtype[0])
        snprintf(gtype, sizeof(gtype), "%s%s", strncmp(stype, "x-", 2) ? "mitre-" : "", stype);
    if (!gname[0])
        snprintf(gname, sizeof(gname), "%s", galaxy_name(stype));
    buf b, t;
    buf_init(&b, 1 << 20);
    buf_init(&t, 4096);
    buf_printf(&t, "misp-galaxy:%s=\"%s\"", gtype, name);
    buf_adds(&b, "{\"uuid\":\"");
    buf_adds(&b, sep + 2);
    buf_adds(&b, "\",\"type\":");
    buf_json_str(&b, gtype);
    buf_adds(&b, ",\"value\":");
    buf_json_str(&b, name);
    buf_adds(&b, ",\"tag_name\":");
    buf_json_str(&b, t.failed ? name : t.p);
    const char *desc = ajson_str(ajson_get(o, "description"));
    if (desc && *desc) {
        buf_adds(&b, ",\"description\":");
        buf_json_str(&b, desc);
    }
    buf_adds(&b, ",\"meta\":{");
    const ajson_value *ext = ajson_get(o, "external_references");
    int members = 0;
    json_list(&b, &members, "external_id", ext, pick_ext_id);
    json_list(&b, &members, "refs", ext, pick_url);
    json_list(&b, &members, "synonyms", ajson_get(o, "aliases"), pick_str);
    json_list(&b, &members, "kill_chain", ajson_get(o, "kill_chain_phases"), pick_phase);
    buf_adds(&b, "}");
    cluster_rels(l, rec->id, sep + 2, &b);
    buf_adds(&b, "}");
    buf tagq;
    buf_init(&tagq, 8192);
    buf_json_str(&tagq, t.failed ? name : t.p);
    c->entry = take(&b);
    c->tag = take(&tagq);
    c->gtype = strdup(gtype);
    c->gname = strdup(gname);
    buf_free(&b), buf_free(&t), buf_free(&tagq);
    if (!c->entry || !c->tag || !c->gtype || !c->gname)
        return l->rc = ACCORD_ENOMEM;
    return 0;
}

static int pair_cmp(const void *a, const void *b)
{
    const link_pair *x = a, *y = b;
    if (x->ind != y->ind)
        return x->ind < y->ind ? -1 : 1;
    return x->rank < y->rank ? -1 : x->rank > y->rank;
}

typedef struct rank_item {
    const char *gtype;
    uint32_t cluster;
} rank_item;

static int rank_cmp(const void *a, const void *b)
{
    const rank_item *x = a, *y = b;
    int c = strcmp(x->gtype, y->gtype);
    return c ? c : (x->cluster < y->cluster ? -1 : x->cluster > y->cluster);
}

/* Ranks the readable clusters by (galaxy type, index), so that sorting by rank groups types. */
static int rank_clusters(misp_links *l)
{
    rank_item *v = malloc((l->ncl ? l->ncl : 1) * sizeof(*v));
    if (!v)
        return ACCORD_ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < l->ncl; i++)
        if (l->cl[i].entry)
            v[n++] = (rank_item){l->cl[i].gtype, (uint32_t)i};
    qsort(v, n, sizeof(*v), rank_cmp);
    for (size_t i = 0; i < n; i++)
        l->cl[v[i].cluster].rank = (uint32_t)i;
    free(v);
    return 0;
}

static int u32_by_rank_cmp(const void *a, const void *b)
{
    const uint32_t *x = a, *y = b;
    return *x < *y ? -1 : *x > *y;
}

/* Reads every cluster's body; drops the pairs and event clusters of unusable ones; orders the
 * pairs by (indicator, galaxy type) and the event's clusters by galaxy type. */
static int read_clusters(misp_links *l, accord_error *err)
{
    for (size_t i = 0; i < l->ncl && !l->rc; i++) {
        cluster_read r = {l, &l->cl[i]};
        int rc = accord_store_get_as(l->set->store, l->set->viewer, l->cl[i].id, 0, on_cluster,
                                     &r, err);
        if (rc && rc != ACCORD_ENOTFOUND)
            return rc;
    }
    if (l->rc || rank_clusters(l))
        return l->rc ? l->rc : ACCORD_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < l->npairs; i++)
        if (l->cl[l->pairs[i].cluster].entry) {
            l->pairs[k] = l->pairs[i];
            l->pairs[k++].rank = l->cl[l->pairs[i].cluster].rank;
        }
    l->npairs = k;
    if (l->npairs) /* pairs is NULL without them, which qsort may not receive */
        qsort(l->pairs, l->npairs, sizeof(*l->pairs), pair_cmp);
    k = 0;
    for (size_t i = 0; i < l->nevent; i++) /* event_cl then holds ranks */
        if (l->cl[l->event_cl[i]].entry)
            l->event_cl[k++] = l->cl[l->event_cl[i]].rank;
    l->nevent = k;
    if (l->nevent)
        qsort(l->event_cl, l->nevent, sizeof(*l->event_cl), u32_by_rank_cmp);
    l->byrank = malloc((l->ncl ? l->ncl : 1) * sizeof(*l->byrank));
    if (!l->byrank)
        return ACCORD_ENOMEM;
    for (size_t i = 0; i < l->ncl; i++)
        if (l->cl[i].entry)
            l->byrank[l->cl[i].rank] = (uint32_t)i;
    for (size_t i = 0; i < l->nevent; i++)
        l->event_cl[i] = l->byrank[l->event_cl[i]];
    return 0;
}

void misp_links_free(misp_links *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->ncl; i++) {
        free(l->cl[i].id), free(l->cl[i].gtype), free(l->cl[i].gname);
        free(l->cl[i].entry), free(l->cl[i].tag);
    }
    free(l->cl), free(l->pairs), free(l->event_cl), free(l->byrank);
    u64map_free(&l->inds), u64map_free(&l->clmap), u64map_free(&l->pairset);
    u64map_free(&l->eventset);
    free(l->rels);
    u64map_free(&l->relhead);
    ajson_arena_free(&l->arena);
    free(l);
}

static int scan_type(misp_links *l, const char *type, accord_record_cb cb, accord_error *err)
{
    const char *types[] = {type, NULL};
    accord_scan_filter f = {.collection = l->set->collection,
                            .types = types,
                            .viewer = l->set->viewer};
    int rc = accord_store_scan(l->set->store, &f, cb, l, err);
    return l->rc ? l->rc : rc;
}

static int stop_at_one(void *ud, const accord_record *rec)
{
    (void)rec;
    *(int *)ud = 1;
    return 1;
}

/* 1 when the store holds a cluster SDO the export may read, 0 when none, or an error: an export
 * of a store without any (millions of indicators, no galaxies) then costs one index probe. */
static int any_cluster(const accord_export_set *s, accord_error *err)
{
    int found = 0, rc = 0;
    for (size_t i = 0; cluster_types[i] && !found && rc == 0; i++) {
        /* one type per scan: the (type, seq) index answers it without a walk */
        const char *types[] = {cluster_types[i], NULL};
        accord_scan_filter f = {
            .collection = s->collection, .types = types, .viewer = s->viewer, .limit = 1};
        rc = accord_store_scan(s->store, &f, stop_at_one, &found, err);
    }
    return found ? 1 : rc;
}

int misp_links_load(const accord_export_set *s, misp_links **out, accord_error *err)
{
    *out = NULL;
    if (!s->store || (!s->ninds && !s->nothers))
        return 0;
    int rc = any_cluster(s, err);
    if (rc <= 0)
        return rc;
    misp_links *l = calloc(1, sizeof(*l));
    if (!l)
        return ACCORD_ENOMEM;
    l->set = s;
    u64map_init(&l->inds), u64map_init(&l->clmap);
    u64map_init_set(&l->pairset), u64map_init_set(&l->eventset);
    u64map_init(&l->relhead);
    ajson_arena_init(&l->arena, 0);
    rc = u64map_reserve(&l->inds, s->ninds + s->nothers) ? ACCORD_ENOMEM : 0;
    for (size_t i = 0; i < s->ninds && !rc; i++)
        if (u64map_put(&l->inds, id_key(export_str(s, s->inds[i].id)), i + 1))
            rc = ACCORD_ENOMEM;
    for (size_t i = 0; i < s->nothers && !rc; i++) /* the ones written whole follow */
        if (u64map_put(&l->inds, id_key(export_str(s, s->others[i].id)), s->ninds + i + 1))
            rc = ACCORD_ENOMEM;
    if (!rc)
        rc = scan_type(l, "relationship", on_relationship, err);
    if (!rc)
        rc = scan_type(l, "report", on_report, err);
    if (!rc)
        rc = read_clusters(l, err);
    if (rc || (!l->npairs && !l->nevent)) {
        misp_links_free(l);
        return rc;
    }
    *out = l;
    return 0;
}

/* The pairs of indicator ind: [*lo, *hi). */
static void pairs_of(const misp_links *l, uint32_t ind, size_t *lo, size_t *hi)
{
    size_t a = 0, b = l->npairs;
    while (a < b) {
        size_t m = a + (b - a) / 2;
        if (l->pairs[m].ind < ind)
            a = m + 1;
        else
            b = m;
    }
    *lo = b = a;
    while (b < l->npairs && l->pairs[b].ind == ind)
        b++;
    *hi = b;
}

int misp_links_has(const misp_links *l, uint32_t ind)
{
    size_t lo, hi;
    if (!l)
        return 0;
    pairs_of(l, ind, &lo, &hi);
    return hi > lo;
}

/* ,"Galaxy":[...] of n clusters in galaxy-type order, those of pairs p[0..n) or, p NULL, the
 * indexes ev[0..n): consecutive ones of one galaxy type share one entry, as in MISP's JSON. */
static void write_galaxies(const misp_links *l, const link_pair *p, const uint32_t *ev, size_t n,
                           buf *out)
{
    buf_adds(out, ",\"Galaxy\":[");
    for (size_t i = 0; i < n; i++) {
        const link_cluster *c = &l->cl[p ? p[i].cluster : ev[i]];
        const link_cluster *prev = i ? &l->cl[p ? p[i - 1].cluster : ev[i - 1]] : NULL;
        if (!prev || strcmp(prev->gtype, c->gtype) != 0) {
            buf_adds(out, i ? "]},{\"type\":" : "{\"type\":");
            buf_json_str(out, c->gtype);
            buf_adds(out, ",\"name\":");
            buf_json_str(out, c->gname);
            buf_adds(out, ",\"GalaxyCluster\":[");
        } else {
            buf_adds(out, ",");
        }
        buf_adds(out, c->entry);
    }
    buf_adds(out, n ? "]}]" : "]");
}

static void write_tag(buf *out, const char *quoted)
{
    buf_adds(out, "{\"name\":");
    buf_adds(out, quoted);
    buf_adds(out, ",\"colour\":\"#0088cc\",\"exportable\":true}");
}

void misp_links_attribute(const misp_links *l, uint32_t ind, const char *tlp_tag, buf *out)
{
    size_t lo, hi;
    pairs_of(l, ind, &lo, &hi);
    buf_adds(out, ",\"Tag\":[");
    if (tlp_tag)
        buf_printf(out, "{\"name\":\"%s\",\"colour\":\"#ffffff\",\"exportable\":true}", tlp_tag);
    for (size_t i = lo; i < hi; i++) {
        if (tlp_tag || i > lo)
            buf_adds(out, ",");
        write_tag(out, l->cl[l->pairs[i].cluster].tag);
    }
    buf_adds(out, "]");
    write_galaxies(l, &l->pairs[lo], NULL, hi - lo, out);
}

void misp_links_event_tags(const misp_links *l, int first, buf *out)
{
    for (size_t i = 0; l && i < l->nevent; i++) {
        if (!first || i)
            buf_adds(out, ",");
        write_tag(out, l->cl[l->event_cl[i]].tag);
    }
}

void misp_links_event(const misp_links *l, buf *out)
{
    if (l && l->nevent)
        write_galaxies(l, NULL, l->event_cl, l->nevent, out);
}
