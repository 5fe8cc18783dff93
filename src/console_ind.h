/*
 * console_ind.h - the JSON endpoints of the web console's indicators page.
 *
 *   GET  /api/indicators[?type=&tlp=&source=&valid_until_before=&valid_until_after=
 *        &has_sightings=true|false&revoked=true|false&sort=added|last_sighting&limit=&after=]
 *        -> {"rows":[latest versions: id, modified, type (the pattern's first observable type),
 *            name, pattern, source (created_by_ref), tlp, revoked, sightings, valid_until,
 *            last_sighting, seq],"next":CURSOR|null}, newest first (by seq, or by last
 *            sighting); keyset-paginated, limit 1 to 500
 *   POST /api/indicators/bulk/preview {"action":"revoke"|"extend","valid_until":TS,
 *        "filter":{the list's filters as strings}} -> {"action","count","token"}
 *   POST /api/indicators/bulk {the same, "token"} -> {"action","changed"}: exactly the
 *        previewed indicators get a new version (revoked, or the later valid_until), or 409
 *
 * A revoke selects the unrevoked indicators matching the filters; an extend the unrevoked ones
 * whose valid_until is before the new one.  Bulk changes need an admin account.
 */
#ifndef ACCORD_CONSOLE_IND_H
#define ACCORD_CONSOLE_IND_H

#include "api.h"

void console_indicators(api_call *c);

#endif
