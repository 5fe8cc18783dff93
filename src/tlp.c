/*
 * tlp.c - the effective TLP of an object and the clearance rule (the contract is in tlp.h).
 *
 * Labels are computed once, at ingest, from the parsed object (tlp_label_json, called by
 * stix_validate) and kept beside the object's row (store.c: columns tlp, tlp_org, tlp_to,
 * tlp_dep), so that a read never parses a body to decide whether it may hand it out.  The rule
 * itself (tlp_clears) is a few comparisons over those columns and the viewer.
 *
 * What is deliberately simple: organisations are compared as identity ids, byte for byte
 * (stix.c accepts ids in lower case only for UUIDs it checks, and accord writes them so); lists
 * are space-separated ids, since an identifier never holds a space.
 *
 * It does not: read the store (store_read.c applies the rule inside scans, store_account.c loads
 * viewers), or know the roster (the viewer's `member` flag carries that).
 */
#include "tlp.h"
#include "util/buf.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The fixed OASIS TLP marking-definitions: TLP 1.0 (stix 2.1 section 7.2.1.4) and TLP 2.0
 * (the extension-definition--60a3c5c5 objects).  Also in stix.c, which validates them. */
static const struct {
    const char *id;
    int level;
} tlp_ids[] = {
    {"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", ACCORD_TLP_CLEAR}, /* WHITE */
    {"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", ACCORD_TLP_GREEN},
    {"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", ACCORD_TLP_AMBER},
    {"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", ACCORD_TLP_RED},
    {"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", ACCORD_TLP_CLEAR},
    {"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", ACCORD_TLP_GREEN},
    {"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", ACCORD_TLP_AMBER},
    {"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", ACCORD_TLP_AMBER_STRICT},
    {"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", ACCORD_TLP_RED},
};

int tlp_marking_level(const char *id)
{
    /* all nine share the 20-byte prefix and are 56 bytes long */
    if (!id || strlen(id) != 56)
        return -1;
    for (size_t i = 0; i < sizeof(tlp_ids) / sizeof(tlp_ids[0]); i++)
        if (strcasecmp(id, tlp_ids[i].id) == 0)
            return tlp_ids[i].level;
    return -1;
}

const char *tlp_level_name(int level)
{
    static const char *const names[] = {"clear", "green", "amber", "amber+strict", "red"};
    if (level >= ACCORD_TLP_CLEAR && level <= ACCORD_TLP_RED)
        return names[level];
    return "unmarked";
}

/* Raises *level to the level of marking id v when it is a TLP marking. */
static void raise_to(int *level, const ajson_value *v)
{
    int l = tlp_marking_level(ajson_str(v));
    if (l > *level)
        *level = l;
}

void tlp_label_json(const ajson_value *obj, tlp_label *out)
{
    memset(out, 0, sizeof(*out));
    out->level = TLP_UNMARKED;
    out->set = 1;
    if (!obj || obj->type != AJSON_OBJECT)
        return;
    const ajson_value *refs = ajson_get(obj, "object_marking_refs");
    for (size_t i = 0; refs && refs->type == AJSON_ARRAY && i < refs->len; i++)
        raise_to(&out->level, &refs->u.items[i]);
    const ajson_value *gm = ajson_get(obj, "granular_markings");
    for (size_t i = 0; gm && gm->type == AJSON_ARRAY && i < gm->len; i++)
        raise_to(&out->level, ajson_get(&gm->u.items[i], "marking_ref"));
    const char *type = ajson_str(ajson_get(obj, "type"));
    if (out->level == TLP_UNMARKED && type && strcmp(type, "marking-definition") == 0 &&
        tlp_marking_level(ajson_str(ajson_get(obj, "id"))) >= 0)
        out->level = ACCORD_TLP_CLEAR; /* the fixed TLP definitions are public by nature */
    out->org = ajson_str(ajson_get(obj, "created_by_ref"));
    if (out->level == ACCORD_TLP_AMBER || out->level == TLP_UNMARKED) {
        const ajson_value *r = ajson_get(obj, TLP_RECIPIENTS_PROP);
        out->recipients = r && r->type == AJSON_ARRAY ? r : NULL;
    }
    if (type && strcmp(type, "sighting") == 0) {
        out->sighting_of = ajson_str(ajson_get(obj, "sighting_of_ref"));
        const ajson_value *od = ajson_get(obj, "observed_data_refs");
        out->observed = od && od->type == AJSON_ARRAY ? od : NULL;
    }
}

/* 1 for an identifier accord can keep in a space-separated list: "type--..." without blanks. */
static int listable_id(const char *s, const char *type)
{
    size_t tl = strlen(type);
    if (!s || strncmp(s, type, tl) != 0 || strncmp(s + tl, "--", 2) != 0)
        return 0;
    return s[tl + 2] && !strpbrk(s, " \t\r\n");
}

static int add_id(buf *b, const char *id)
{
    if (b->len && buf_adds(b, " "))
        return -1;
    return buf_adds(b, id);
}

int tlp_label_text(const tlp_label *l, buf *recipients, buf *depends)
{
    int rc = 0;
    for (size_t i = 0; l->recipients && i < l->recipients->len && !rc; i++) {
        const char *id = ajson_str(&l->recipients->u.items[i]);
        if (listable_id(id, "identity"))
            rc = add_id(recipients, id);
    }
    if (l->sighting_of && !rc && !strpbrk(l->sighting_of, " \t\r\n"))
        rc = add_id(depends, l->sighting_of);
    for (size_t i = 0; l->observed && i < l->observed->len && !rc; i++) {
        const char *id = ajson_str(&l->observed->u.items[i]);
        if (listable_id(id, "observed-data"))
            rc = add_id(depends, id);
    }
    return rc ? ACCORD_ENOMEM : 0;
}

/* 1 when the space-separated list names id. */
static int list_has(const char *list, const char *id)
{
    size_t n = strlen(id);
    for (const char *p = list; p && *p;) {
        const char *sp = strchr(p, ' ');
        size_t len = sp ? (size_t)(sp - p) : strlen(p);
        if (len == n && memcmp(p, id, n) == 0)
            return 1;
        p = sp ? sp + 1 : NULL;
    }
    return 0;
}

int tlp_clears(const accord_viewer *v, int level, const char *org, const char *recipients,
               int red_ok)
{
    if (!v || v->all)
        return 1;
    int producer = v->org[0] && org && strcmp(org, v->org) == 0;
    switch (level) {
    case ACCORD_TLP_CLEAR:
        return 1;
    case ACCORD_TLP_GREEN:
        /* whoever an AMBER object may name may read GREEN too */
        return v->community || v->member || producer ||
               (v->org[0] && recipients && list_has(recipients, v->org));
    case ACCORD_TLP_AMBER:
        return producer || (v->org[0] && recipients && list_has(recipients, v->org));
    case ACCORD_TLP_AMBER_STRICT:
        return producer;
    case ACCORD_TLP_RED:
        return red_ok;
    default: /* an unknown level is withheld */
        return 0;
    }
}

int tlp_viewer_red(const accord_viewer *v, int64_t cid)
{
    if (!v || v->all)
        return 1;
    size_t lo = 0, hi = v->nred;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v->red[mid] == cid)
            return 1;
        if (v->red[mid] < cid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

int tlp_visible_json(const accord_viewer *v, const ajson_value *obj, int64_t cid)
{
    if (!v || v->all)
        return 1;
    tlp_label l;
    tlp_label_json(obj, &l);
    int level = tlp_effective(l.level, v->dflt);
    int named = 0;
    for (size_t i = 0; l.recipients && i < l.recipients->len && !named; i++) {
        const char *id = ajson_str(&l.recipients->u.items[i]);
        named = v->org[0] && id && strcmp(id, v->org) == 0;
    }
    return tlp_clears(v, level, l.org, named ? v->org : NULL, cid && tlp_viewer_red(v, cid));
}
