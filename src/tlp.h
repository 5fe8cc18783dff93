/*
 * tlp.h - TLP 2.0 as access control: the effective TLP of an object and who is cleared to read it.
 *
 * Every read path of libaccord (TAXII objects, object, versions, manifest; `accord search`/`get`;
 * exports and feeds) decides visibility with the functions here, so the rule exists once.
 *
 * The effective TLP of an object version is the most restrictive TLP 1.0 or 2.0 marking it
 * carries, in object_marking_refs or in any granular_markings entry (a granular marking restricts
 * the whole object: accord never serves part of an object).  TLP 1.0 WHITE is CLEAR.  Only the
 * nine fixed OASIS marking-definition ids count (stix.c rejects any other object claiming a TLP
 * colour); other markings (statements, custom) do not change the level.  An object with no TLP
 * marking is TLP_UNMARKED and reads as the store's default (accord_tlp_default_get), AMBER unless
 * configured: an unmarked object then reaches only the organisation that produced it and those it
 * names, which is what its producer can have meant at the least; a community whose sources share
 * unmarked data freely sets GREEN.  The nine fixed TLP marking-definitions themselves are CLEAR.
 *
 * Who may read a level (a "viewer" is an account's clearance, loaded once per request):
 *
 *   level          cleared
 *   CLEAR          everyone
 *   GREEN          community accounts; accounts whose organisation is on the current roster
 *                  (while the node keeps no roster: every account with an organisation);
 *                  AMBER's readers
 *   AMBER          the producer's organisation (created_by_ref) and the organisations the object
 *                  names in x_accord_recipients
 *   AMBER+STRICT   the producer's organisation only
 *   RED            only the accounts on the RED list of a collection holding the version (in a
 *                  collection read: of that collection)
 *
 * Recipients of an AMBER object: the top-level property "x_accord_recipients", an array of
 * identity ids ("identity--<uuid>") of organisations.  It sits inside the object, so it is inside
 * the signed bytes like the markings: no relay can widen the audience.  It is ignored at any
 * other level (AMBER+STRICT means the producer only).  Entries that are not identity ids are
 * ignored.
 *
 * Sightings: a sighting is readable only when its sighting_of_ref and every observed_data_refs
 * object, as stored here (latest version), is readable too; otherwise it would reveal an id and
 * activity the reader is not cleared for.  Referenced objects this store does not hold gate
 * nothing.
 *
 * Who sees everything: a viewer with `all` set: admin accounts (they administer the node: they
 * set organisations and RED lists and can read the database anyway), and the local CLI, which
 * runs as the node's operator (a NULL viewer).
 */
#ifndef ACCORD_TLP_H
#define ACCORD_TLP_H

#include "accord.h"
#include "util/json.h"

#include <stddef.h>
#include <stdint.h>

#define TLP_UNMARKED (-1)
#define TLP_DEFAULT_LEVEL ACCORD_TLP_AMBER
#define TLP_RECIPIENTS_PROP "x_accord_recipients"
#define TLP_ORG_MAX 80 /* bytes of an organisation's identity id, with its NUL */

/* What the rule needs of one object version, as found in its JSON.  Pointers into the tree. */
typedef struct tlp_label {
    int level;                     /* ACCORD_TLP_* or TLP_UNMARKED */
    const char *org;               /* created_by_ref, or NULL */
    const ajson_value *recipients; /* x_accord_recipients when level is AMBER or unmarked */
    const char *sighting_of;       /* sightings: sighting_of_ref, else NULL */
    const ajson_value *observed;   /* sightings: observed_data_refs, else NULL */
    int set;                       /* 1 once tlp_label_json filled it: the store refuses
                                      objects without a label rather than guess one */
} tlp_label;

/* An account's clearance (accord_viewer_open fills it from the store). */
struct accord_viewer {
    char account[ACCORD_ACCOUNT_NAME_MAX + 1];
    char org[TLP_ORG_MAX]; /* the account's organisation (identity id), "" = none */
    int all;               /* sees every object (admins) */
    int community;         /* a community account: cleared for GREEN */
    int member;            /* its organisation is on the roster: cleared for GREEN */
    int dflt;              /* the store's level for unmarked objects */
    int64_t *red;          /* cids of the collections whose RED list names the account, sorted */
    size_t nred;
};

/* The TLP level of a marking-definition id (any case), or -1 when it is not a TLP marking. */
int tlp_marking_level(const char *id);
/* "clear", "green", "amber", "amber+strict", "red"; "unmarked" for TLP_UNMARKED. */
const char *tlp_level_name(int level);
/* The level an unmarked object reads as: level itself, or dflt for TLP_UNMARKED. */
static inline int tlp_effective(int level, int dflt)
{
    return level == TLP_UNMARKED ? dflt : level;
}

/* Fills *out from a parsed STIX object (anything else gives an unmarked label with no org). */
void tlp_label_json(const ajson_value *obj, tlp_label *out);

/*
 * The label's lists as the store keeps them: recipients (identity ids) and the ids a sighting
 * depends on, each space-separated, "" when none.  Appends to the two buffers.
 */
struct buf;
int tlp_label_text(const tlp_label *l, struct buf *recipients, struct buf *depends);

/*
 * The clearance rule.  level is the effective level (default applied); org the producer's
 * identity id or NULL; recipients the space-separated organisation ids an AMBER object names (or
 * NULL); red_ok 1 when the viewer is on the RED list that applies.  A NULL viewer is the
 * operator: 1.
 */
int tlp_clears(const accord_viewer *v, int level, const char *org, const char *recipients,
               int red_ok);

/* 1 when v is on the RED list of collection cid. */
int tlp_viewer_red(const accord_viewer *v, int64_t cid);

/*
 * The rule for an object a caller parsed itself (feeds, exports): its label, the viewer's
 * default, and the RED list of collection cid (0 = RED only when v->all).  Does not look up the
 * objects a sighting depends on; a caller serving sightings reads them through the store scan,
 * which does.
 */
int tlp_visible_json(const accord_viewer *v, const ajson_value *obj, int64_t cid);

#endif
