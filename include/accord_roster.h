/*
 * accord_roster.h - the coalition's membership and admission by vote (part of the public API;
 * included by accord.h).  src/roster.c documents the roster object, votes and the rule.
 *
 * Version 1 of the roster is pinned by its hash in each node's configuration (the store's meta
 * table: accord_roster_create pins what it creates, accord_roster_pin what another node created).
 * Later versions are proposals until enough members of the version before voted for them with
 * a root key; then they take effect.  Two different versions N+1 that both reach quorum are an
 * equivocation: it is recorded and governance stops (no proposal, vote or import is accepted)
 * until an operator resolves it.  Every change writes an audit record in its transaction.
 *
 * Times (now_us) are microseconds since the epoch; pass 0 for the current time.
 */
#ifndef ACCORD_ROSTER_PUB_H
#define ACCORD_ROSTER_PUB_H

#include "accord.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ACCORD_ROSTER_HASH_BUFLEN 65 /* hex SHA-256 and a NUL */

/*
 * Creates version 1 from n member identities (JSON texts of identity objects carrying a key
 * list: their active root keys are listed) with `threshold` (> n / 2), stores it as the current
 * roster and pins its hash.  ACCORD_EINVAL when a roster exists or an identity is unusable.
 */
ACCORD_API int accord_roster_create(accord_store *store, const char *const *identities,
                                    const size_t *lens, size_t n, int64_t threshold,
                                    char hash[ACCORD_ROSTER_HASH_BUFLEN], accord_error *err);
/* Pins the hash of version 1 (before importing it).  ACCORD_EINVAL when another is pinned. */
ACCORD_API int accord_roster_pin(accord_store *store, const char *hash, accord_error *err);

/*
 * Proposes version N+1 of the current version N: add a member (identity JSON), remove one (id or
 * name), and/or set a new threshold (0 = keep; after a change the threshold must still be more
 * than half of the members).  Voting ends at `expires` (NULL: seven days from now).
 */
ACCORD_API int accord_roster_propose(accord_store *store, const char *add_identity, size_t add_len,
                                     const char *remove_org, int64_t threshold, const char *expires,
                                     int64_t now_us, char hash[ACCORD_ROSTER_HASH_BUFLEN],
                                     accord_error *err);

/* What accord_roster_vote and accord_roster_import did. */
typedef struct accord_roster_imported {
    int effective;      /* a proposal took effect */
    int version_new;    /* the text's roster version was stored now (import only) */
    int version_known;  /* the text's roster version was stored already (import only) */
    size_t votes_new;   /* votes stored now */
    size_t votes_known; /* votes stored already: skipped, nothing changed for them */
} accord_roster_imported;

/*
 * Votes for proposal `hash` (NULL: the open one: the only proposal on the current version whose
 * vote has not ended; ACCORD_EINVAL naming them when several are open or naming the newest one
 * as expired when every one's vote ended, ACCORD_ENOTFOUND when there is none) as this node's
 * organisation with its root key (root_path, NULL = DATA/keys/root.seed).  Only a version in
 * state proposed is voted on.  The proposal takes effect when the vote completes its quorum.
 * *out (may be NULL): votes_new 1 when the vote was stored now; votes_known 1 when this key's
 * vote on the proposal was stored before (nothing changed, no audit record); effective when the
 * proposal took effect.
 */
ACCORD_API int accord_roster_vote(accord_store *store, const char *data_dir, const char *hash,
                                  const char *root_path, int64_t now_us,
                                  accord_roster_imported *out, accord_error *err);

/*
 * Offline voting (no store): signs the proposal in an export (accord_roster_export's JSON) with
 * the root key in seed file root_path for member `member`, and writes the vote (one JSON line) to
 * *out (malloc'd).  For root keys kept on an air-gapped host.
 */
ACCORD_API int accord_roster_sign(const char *export_json, size_t len, const char *root_path,
                                  const char *member, char **out, size_t *out_len,
                                  accord_error *err);

/*
 * Imports a roster export ({"roster": ..., "votes": [...]}), a bare roster version, or one vote
 * line: version 1 only with the pinned hash; later versions when their predecessor is known; each
 * vote only when it verifies, is for a stored proposal and arrives before its expires.  Votes
 * already stored are skipped (and counted).  One transaction.  *out may be NULL.
 */
ACCORD_API int accord_roster_import(accord_store *store, const char *text, size_t len,
                                    int64_t now_us, accord_roster_imported *out,
                                    accord_error *err);

/*
 * The version `hash` with its votes, as JSON {"roster": ..., "votes": [...]} (malloc'd).  hash
 * NULL: the open proposal as accord_roster_vote picks it (an expired one is not open: the same
 * errors), or the current version when there is no proposal on it at all.
 */
ACCORD_API int accord_roster_export(accord_store *store, const char *hash, char **out,
                                    size_t *out_len, accord_error *err);

/*
 * Ends a stop of governance on equivocation: the operator names the version that stands (hash:
 * one of the rival successors of one version, in state current, superseded or equivocation).
 * Its rivals, and every version built on them, become "rejected"; the chosen one becomes current
 * unless a version built on it already is; governance resumes when no other equivocation is
 * left.  One transaction with a "roster-resolved" audit record.  ACCORD_EINVAL when governance is
 * not stopped or hash has no rival; ACCORD_ENOTFOUND for an unknown hash.
 */
ACCORD_API int accord_roster_resolve(accord_store *store, const char *hash, accord_error *err);

/* One roster version as accord_roster_status reports it. */
typedef struct accord_roster_info {
    int64_t version;
    const char *hash, *state; /* current, superseded, proposed, expired (a proposal whose vote
                                 ended without quorum), equivocation, rejected */
    const char *expires, *previous;
    int64_t threshold;
    size_t members;
    const char *const *member_ids;   /* members identity ids, sorted */
    const char *const *member_names; /* and their names */
    /* proposals: the tally against their predecessor */
    size_t votes, needed, new_members, new_voted;
    int effective;
} accord_roster_info;
typedef int (*accord_roster_cb)(void *ud, const accord_roster_info *r);

/*
 * Calls cb for the current version and every proposal, oldest first.  *halted (may be NULL)
 * receives 1 when governance stopped on an equivocation, with the reason in err->msg.
 */
ACCORD_API int accord_roster_status(accord_store *store, accord_roster_cb cb, void *ud, int *halted,
                                    accord_error *err);

#ifdef __cplusplus
}
#endif

#endif
