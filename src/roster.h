/*
 * roster.h - membership of the coalition: versioned, signed rosters and admission by vote (the
 * contract; src/roster.c has the formats and the rules, src/store_roster.c the storage).
 *
 * A roster version lists the members (their identity, name and root public keys), the threshold
 * of votes the next version needs and when a proposal's voting ends.  Version 1 is pinned by its
 * hash in each node's configuration; version N+1 takes effect when at least threshold(N) distinct
 * members of version N voted for that exact proposal with a root key, every member it adds voted
 * too, all before its `expires`, and threshold(N+1) is more than half of its members.
 */
#ifndef ACCORD_ROSTER_H
#define ACCORD_ROSTER_H

#include "accord.h"
#include "member.h"
#include "util/buf.h"

#define ROSTER_TYPE "accord-roster"
#define ROSTER_EXT "extension-definition--0c6f4d8e-7a43-4b5e-9f0e-2d1c8b6a5e37"
#define ROSTER_VOTE_TYPE "application/vnd.accord.roster-vote+json"
#define ROSTER_MAX_MEMBERS 64
#define ROSTER_MAX_KEYS 8 /* root keys per member */
#define ROSTER_HASH_HEX 64

typedef struct roster_member {
    char id[MEMBER_ID_LEN + 1]; /* identity_ref */
    char name[256];
    size_t nkeys;
    uint8_t keys[ROSTER_MAX_KEYS][ACCORD_SIGN_PUBLIC_LEN]; /* root public keys */
} roster_member;

typedef struct roster {
    char id[64]; /* "accord-roster--<uuid>", the same for every version */
    char created[40], modified[40], expires[40];
    int64_t version;                    /* 1, 2, ... */
    char previous[ROSTER_HASH_HEX + 1]; /* hash of version - 1; "" for version 1 */
    int64_t threshold;
    size_t n;
    roster_member m[ROSTER_MAX_MEMBERS]; /* sorted by id */
    char hash[ROSTER_HASH_HEX + 1];      /* SHA-256 of the canonical form, hex */
} roster;

/* One vote: a member's root-key signature of PAE(ROSTER_VOTE_TYPE, JCS(proposal)). */
typedef struct roster_vote {
    char roster[ROSTER_HASH_HEX + 1]; /* the proposal's hash */
    char member[MEMBER_ID_LEN + 1];
    char keyid[MEMBER_KEYID_HEX + 1];
    uint8_t sig[ACCORD_SIGN_SIG_LEN];
    int64_t added_us; /* when this node accepted it (0 for a vote read from a file) */
} roster_vote;

/*
 * Parses a roster version (JSON text) into *r, checking every rule a single version must satisfy
 * (type, id, version >= 1, previous present exactly when version > 1, 1 <= threshold <= members,
 * unique members with 1..ROSTER_MAX_KEYS root keys), and computes its hash.  canon (may be NULL)
 * receives its canonical form.  ACCORD_EINVAL with the property path in err.
 */
int roster_parse(const char *text, size_t len, roster *r, buf *canon, accord_error *err);
/* The canonical (RFC 8785) JSON of r, appended to out; sets r->hash.  ACCORD_ENOMEM. */
int roster_write(roster *r, buf *out, accord_error *err);

/* The member of r with identity id, or NULL. */
const roster_member *roster_find(const roster *r, const char *id);
/* The member of r with a root key of this key id (*key its index), or NULL. */
const roster_member *roster_find_key(const roster *r, const char *keyid, size_t *key);
/* Adds a member from an identity with a key list (its active root keys).  ACCORD_EINVAL. */
int roster_add_identity(roster *r, const member_identity *m, accord_error *err);
/* Removes the member whose id or name is org.  ACCORD_ENOTFOUND. */
int roster_remove(roster *r, const char *org, accord_error *err);

/* Signs proposal p (canonical form canon) as member `member` with root key `key`. */
int roster_vote_sign(const roster *p, const char *canon, size_t len, const accord_sign_key *key,
                     const char *member, roster_vote *out, accord_error *err);
/* The vote as one line of JSON (appended), and its parser.  ACCORD_EINVAL with what is wrong. */
int roster_vote_write(const roster_vote *v, buf *out);
int roster_vote_parse(const char *text, size_t len, roster_vote *out, accord_error *err);
/*
 * Checks one vote on proposal p (canonical form canon) whose predecessor is cur: the signature
 * holds under a root key with the vote's key id of a member of cur, or of a member p adds, and
 * that member is the vote's member.  *is_new is 1 for a member p adds.  0, or ACCORD_EINVAL with
 * the reason (a removed member's key is not a key of cur).
 */
int roster_vote_check(const roster *cur, const roster *p, const char *canon, size_t len,
                      const roster_vote *v, int *is_new, accord_error *err);

/* What the votes on a proposal add up to. */
typedef struct roster_tally {
    int successor;      /* p.version == cur.version + 1 and p.previous == cur.hash */
    size_t votes;       /* distinct members of cur whose vote holds and came before expires */
    size_t needed;      /* threshold(cur) */
    size_t new_members; /* members p adds */
    size_t new_voted;   /* of which voted */
    int threshold_ok;   /* threshold(p) is more than half of p's members (and at most all) */
    int effective;      /* all of the above: p takes effect */
    size_t ignored;     /* votes that do not count (bad signature, not a member, late, twice) */
} roster_tally;

/* Counts votes[0..n) on proposal p against its predecessor cur.  ACCORD_ENOMEM. */
int roster_count(const roster *cur, const roster *p, const char *canon, size_t len,
                 const roster_vote *votes, size_t n, roster_tally *out, accord_error *err);

/* The extension-definition object accord ships for the roster SDO, as compact JSON. */
extern const char roster_extdef_json[];

/* ------------------------------------------------------------------------------------------ */
/* Storage (store_roster.c)                                                                     */

/* The current roster version into *r (malloc'd by the caller).  ACCORD_ENOTFOUND when none. */
int roster_current(accord_store *s, roster *r, accord_error *err);
/*
 * 1 when organisation `org` (an identity id) is a member of the current roster, 0 when not (also
 * when there is no roster yet or governance stopped on equivocation: then the last roster in
 * effect still answers), negative on store errors.
 */
int roster_is_member(accord_store *s, const char *org);
/* 1 when this node keeps a roster (a version is in effect), 0 when not, negative on errors. */
int roster_kept(accord_store *s);

#endif
