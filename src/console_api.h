/*
 * console_api.h - the JSON endpoints behind the web console's search and object pages.
 *
 *   GET  /api/search?value=V[&limit=N][&after=CURSOR]          one value
 *   POST /api/search[?limit=N&after=CURSOR]  {"values":[...]}    up to 1,000 values
 *        -> {"rows":[one per stored version mentioning a value: value, id, type, modified, tlp,
 *            revoked, latest, name, created_by_ref, source],"unknown":[values with no hit],
 *            "invalid":[values that are not searchable],"next":CURSOR|null}
 *   GET  /api/objects/ID[?limit=N&after=MODIFIED]
 *        -> {"id","type","versions":[{modified, added, revoked, latest, tlp, object}],
 *            "signatures":[{modified, status, valid, unknown, reason}],"next":MODIFIED|null}
 *   GET  /api/objects/ID/relationships[?limit=N&after=SEQ]
 *        -> {"rows":[{id, relationship_type, source_ref, target_ref, seq, tlp}],"next":SEQ|null}
 *
 * Every list is keyset-paginated (limit 1 to 500, default 100): `next` is the cursor of the
 * following page.  Everything reads through the caller's TLP clearance (accord_viewer): what it
 * may not read is absent, exactly as from TAXII.
 */
#ifndef ACCORD_CONSOLE_API_H
#define ACCORD_CONSOLE_API_H

#include "api.h"

#define CONSOLE_LIMIT_MAX 500
#define CONSOLE_LIMIT_DEFAULT 100
#define CONSOLE_SEARCH_VALUES_MAX 1000

/* The request's limit (default CONSOLE_LIMIT_DEFAULT): 0, or answered 400 outside 1 to 500. */
int console_limit(api_call *c, int *limit);

/* 1 when s is valid UTF-8 (no overlong forms, surrogates or code points past U+10FFFF): outside
 * text echoed in a JSON answer must be. */
int console_utf8_ok(const char *s);
/* The caller's clearance: NULL for admins (they read everything). 0, or answered 500. */
int console_viewer_of(api_call *c, accord_viewer **v);
/* s as a JSON string, or null when s is NULL. */
void console_json_str_or_null(buf *b, const char *s);
/* us as a STIX timestamp string, or null when 0. */
void console_json_time_or_null(buf *b, int64_t us);

void console_search(api_call *c);
void console_object(api_call *c);

#endif
