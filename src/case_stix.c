/*
 * case_stix.c - a case as STIX 2.1: a vulnerability (named by its CVE id, else the case id, with
 * CVE, CWE and case external references), a note per vendor statement, and an "indicates"
 * relationship from each linked indicator; all marked TLP:CLEAR, because they are rendered for
 * publication only (before it, participants see this bundle through the case view, and nothing
 * of it is in the store).
 *
 * The vulnerability keeps the id chosen when the case was opened; each publication is a new
 * version of it (modified = the publication instant), so the coalition sees one object whose
 * history follows the advisory's revisions.
 */
#include "case_int.h"

#include <stdio.h>
#include <string.h>

#define TLP_CLEAR "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"

static void stix_time(buf *b, const char *key, int64_t us)
{
    char t[40];
    accord_timestamp_format(us, t, sizeof(t));
    buf_printf(b, ",\"%s\":\"%s\"", key, t);
}

static void common(buf *b, const char *type, const char *id, int64_t created, int64_t modified)
{
    buf_printf(b, "{\"type\":\"%s\",\"spec_version\":\"2.1\",\"id\":", type);
    buf_json_str(b, id);
    stix_time(b, "created", created);
    stix_time(b, "modified", modified);
    buf_adds(b, ",\"object_marking_refs\":[\"" TLP_CLEAR "\"]");
}

static void ext_ref(buf *b, int *n, const char *source, const char *key, const char *value)
{
    buf_printf(b, "%s{\"source_name\":\"%s\",\"%s\":", (*n)++ ? "," : "", source, key);
    buf_json_str(b, value);
    buf_adds(b, "}");
}

int case_stix_render(const case_data *d, buf *b)
{
    char uuid[37], id[64];
    int64_t at = d->now;
    accord_uuid4(uuid);
    buf_printf(b, "{\"type\":\"bundle\",\"id\":\"bundle--%s\",\"objects\":[", uuid);
    common(b, "vulnerability", d->vuln_id, d->created, at);
    buf_adds(b, ",\"name\":");
    buf_json_str(b, d->cve ? d->cve : d->id);
    buf_adds(b, ",\"description\":");
    buf_json_str(b, d->summary && *d->summary ? d->summary : d->title);
    buf_adds(b, ",\"external_references\":[");
    int n = 0;
    if (d->cve)
        ext_ref(b, &n, "cve", "external_id", d->cve);
    if (d->cwe)
        ext_ref(b, &n, "cwe", "external_id", d->cwe);
    ext_ref(b, &n, "accord-case", "external_id", d->id);
    for (size_t i = 0; i < d->nrefs; i++)
        ext_ref(b, &n, "advisory", "url", d->refs[i]);
    buf_adds(b, "]}");
    for (size_t i = 0; i < d->nv; i++) {
        const case_vendor *v = &d->v[i];
        char text[256];
        snprintf(text, sizeof(text), "%s: %s", v->name, case_vendor_shown_status(d, v));
        accord_uuid4(uuid);
        snprintf(id, sizeof(id), "note--%s", uuid);
        buf_adds(b, ",");
        common(b, "note", id, at, at);
        buf_adds(b, ",\"abstract\":");
        buf_json_str(b, text);
        buf_adds(b, ",\"content\":");
        buf_json_str(b, v->statement ? v->statement : text);
        buf_adds(b, ",\"authors\":");
        buf_adds(b, "[");
        buf_json_str(b, v->name);
        buf_adds(b, "],\"object_refs\":[");
        buf_json_str(b, d->vuln_id);
        buf_adds(b, "]}");
    }
    for (size_t i = 0; i < d->nind; i++) {
        accord_uuid4(uuid);
        snprintf(id, sizeof(id), "relationship--%s", uuid);
        buf_adds(b, ",");
        common(b, "relationship", id, at, at);
        buf_adds(b, ",\"relationship_type\":\"indicates\",\"source_ref\":");
        buf_json_str(b, d->indicators[i]);
        buf_adds(b, ",\"target_ref\":");
        buf_json_str(b, d->vuln_id);
        buf_adds(b, "}");
    }
    buf_adds(b, "]}");
    return b->failed ? -1 : 0;
}
