/*
 * store_roster.c - the store side of the roster: versions, votes, the pin, quorum and
 * equivocation (the rules are in roster.c).
 *
 * Two tables of the schema (store.c) and two meta keys:
 *
 *   rosters(hash PK, id, version, previous, body, state, added)
 *       body is the version's canonical JSON; state is one of
 *         current       the version in effect (at most one row)
 *         superseded    was current, a successor took effect
 *         proposed      waiting for votes (also when its predecessor was superseded meanwhile:
 *                       its votes still count, so a second quorum shows as equivocation);
 *                       accord_roster_status shows it as "expired" once its expires has passed
 *                       (the row keeps "proposed": expiry is a matter of the clock, not a change)
 *         equivocation  reached quorum as a second successor of one version
 *         rejected      set aside by the operator resolving an equivocation (accord_roster_
 *                       resolve), with every version built on it
 *   roster_votes(roster, keyid PK, member, sig, added)
 *       one row per (proposal, root key): a duplicate vote is the same row; added is when this
 *       node accepted it, which decides "before expires"
 *   meta roster_pin    the hash of version 1: the only version 1 this node accepts
 *   meta roster_halt   set when an equivocation was recorded: governance stops until an operator
 *                      resolves it (accord_roster_resolve names the version that stands)
 *
 * Every change (create, pin, proposal, vote, a version taking effect, equivocation) is one
 * transaction with its audit record.  A version takes effect inside the transaction of the vote
 * that completes its quorum, so no reader ever sees a quorum without its effect.
 *
 * What it does not do: carry rosters over TAXII (they travel as exports between nodes), or decide
 * which side of an equivocation is right: an operator does, out of band, and names it.
 */
#include "jcs.h"
#include "roster.h"
#include "store_int.h"
#include "util/json.h"
#include "util/timestamp.h"
#include "util/uuid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WEEK_US (7LL * 86400 * 1000000)

/* A STIX timestamp with millisecond precision (out: 40 bytes). */
static void ts_ms(int64_t us, char *out)
{
    char full[40];
    ts_format_us(us, full, sizeof(full));
    snprintf(out, 40, "%.23sZ", full);
}

static int64_t now_or(int64_t now_us)
{
    return now_us ? now_us : ts_now_us();
}

static int prep(accord_store *s, const char *sql, sqlite3_stmt **st, accord_error *err)
{
    return sqlite3_prepare_v2(s->db, sql, -1, st, NULL) ? store_db_fail(s, err, "roster") : 0;
}

static int begin(accord_store *s, accord_error *err)
{
    if (s->readonly)
        return accord_err_set(err, ACCORD_EINVAL, "store: opened read-only");
    return store_exec(s, "BEGIN IMMEDIATE", err);
}

static int end(accord_store *s, int rc, accord_error *err)
{
    if (!rc)
        rc = store_exec(s, "COMMIT", err);
    if (rc)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

static int halted(accord_store *s, accord_error *err)
{
    char why[400];
    if (store_meta_get(s, "roster_halt", why, sizeof(why)) == 0)
        return accord_err_set(err, ACCORD_EINVAL, "roster: governance stopped: %s", why);
    return 0;
}

/* Loads version `hash` into r (its canonical form into canon, its state into state). */
static int load(accord_store *s, const char *hash, roster *r, buf *canon, char *state,
                accord_error *err)
{
    sqlite3_stmt *st;
    int rc = prep(s, "SELECT body, state FROM rosters WHERE hash = ?1", &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW)
        rc = accord_err_set(err, ACCORD_ENOTFOUND, "roster: no version with hash %.64s", hash);
    else {
        if (state)
            snprintf(state, 16, "%s", (const char *)sqlite3_column_text(st, 1));
        rc = roster_parse((const char *)sqlite3_column_text(st, 0),
                          (size_t)sqlite3_column_bytes(st, 0), r, canon, err);
    }
    sqlite3_finalize(st);
    return rc;
}

/* The hash of the version in state `state` (the newest one), "" when none. */
static int hash_in_state(accord_store *s, const char *state, char out[ROSTER_HASH_HEX + 1],
                         accord_error *err)
{
    sqlite3_stmt *st;
    int rc = prep(s, "SELECT hash FROM rosters WHERE state = ?1 ORDER BY version DESC, added DESC",
                  &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
    out[0] = '\0';
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(out, ROSTER_HASH_HEX + 1, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return 0;
}

static int insert(accord_store *s, const roster *r, const buf *canon, const char *state,
                  accord_error *err)
{
    sqlite3_stmt *st;
    int rc = prep(s,
                  "INSERT INTO rosters(hash, id, version, previous, body, state, added)"
                  " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                  &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, r->hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, r->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, r->version);
    if (r->previous[0])
        sqlite3_bind_text(st, 4, r->previous, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, canon->p, (int)canon->len, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, state, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, ts_now_us());
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : store_db_fail(s, err, "storing a roster version");
    sqlite3_finalize(st);
    return rc;
}

static int set_state(accord_store *s, const char *hash, const char *state, accord_error *err)
{
    sqlite3_stmt *st;
    int rc = prep(s, "UPDATE rosters SET state = ?2 WHERE hash = ?1", &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : store_db_fail(s, err, "updating a roster version");
    sqlite3_finalize(st);
    return rc;
}

/* Every stored vote on proposal hash, into a malloc'd array. */
static int votes_of(accord_store *s, const char *hash, roster_vote **out, size_t *n,
                    accord_error *err)
{
    sqlite3_stmt *st;
    *out = NULL;
    *n = 0;
    int rc =
        prep(s, "SELECT keyid, member, sig, added FROM roster_votes WHERE roster = ?1", &st, err);
    size_t cap = 0;
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    while (!rc && sqlite3_step(st) == SQLITE_ROW) {
        if (*n == cap) {
            roster_vote *v = realloc(*out, (cap = cap ? cap * 2 : 16) * sizeof(*v));
            if (!v) {
                rc = accord_err_set(err, ACCORD_ENOMEM, "roster: out of memory");
                break;
            }
            *out = v;
        }
        roster_vote *v = &(*out)[(*n)++];
        memset(v, 0, sizeof(*v));
        snprintf(v->roster, sizeof(v->roster), "%s", hash);
        snprintf(v->keyid, sizeof(v->keyid), "%s", (const char *)sqlite3_column_text(st, 0));
        snprintf(v->member, sizeof(v->member), "%s", (const char *)sqlite3_column_text(st, 1));
        if (sqlite3_column_bytes(st, 2) == ACCORD_SIGN_SIG_LEN)
            memcpy(v->sig, sqlite3_column_blob(st, 2), ACCORD_SIGN_SIG_LEN);
        v->added_us = sqlite3_column_int64(st, 3);
    }
    sqlite3_finalize(st);
    return rc;
}

/* Scratch for one proposal and its predecessor. */
typedef struct pair {
    roster cur, p;
    buf canon;
    char state[16], cur_state[16];
} pair;

static pair *pair_new(void)
{
    pair *x = calloc(1, sizeof(*x));
    if (x)
        buf_init(&x->canon, 1 << 22);
    return x;
}

static void pair_free(pair *x)
{
    if (x)
        buf_free(&x->canon);
    free(x);
}

/* Loads proposal hash and its predecessor. */
static int pair_load(accord_store *s, pair *x, const char *hash, accord_error *err)
{
    buf_reset(&x->canon);
    int rc = load(s, hash, &x->p, &x->canon, x->state, err);
    if (!rc && x->p.version == 1)
        rc = accord_err_set(err, ACCORD_EINVAL, "roster: version 1 is not voted on (it is pinned)");
    if (!rc && (rc = load(s, x->p.previous, &x->cur, NULL, x->cur_state, err)) == ACCORD_ENOTFOUND)
        rc = accord_err_set(err, rc, "roster: the predecessor %.12s of version %lld is not stored",
                            x->p.previous, (long long)x->p.version);
    return rc;
}

/*
 * Applies proposal x->p when its votes reach quorum: it becomes current when its predecessor is
 * current; when another successor of its predecessor already took effect, that is equivocation.
 */
static int try_apply(accord_store *s, pair *x, int *effective, accord_error *err)
{
    roster_vote *v = NULL;
    size_t n = 0;
    roster_tally t;
    int rc = votes_of(s, x->p.hash, &v, &n, err);
    if (!rc)
        rc = roster_count(&x->cur, &x->p, x->canon.p, x->canon.len, v, n, &t, err);
    free(v);
    if (rc || !t.effective || strcmp(x->state, "proposed") != 0)
        return rc;
    char detail[400];
    if (strcmp(x->cur_state, "current") == 0) {
        snprintf(detail, sizeof(detail),
                 "version %lld (%s) took effect: %zu of %zu votes needed, %zu members",
                 (long long)x->p.version, x->p.hash, t.votes, t.needed, x->p.n);
        if (!(rc = set_state(s, x->cur.hash, "superseded", err)) &&
            !(rc = set_state(s, x->p.hash, "current", err)))
            rc = store_audit(s, "roster-applied", 0, x->p.id, detail, err);
        if (!rc && effective)
            *effective = 1;
        return rc;
    }
    snprintf(detail, sizeof(detail),
             "equivocation: version %lld (%s) reached quorum, but another successor of %.12s "
             "already took effect",
             (long long)x->p.version, x->p.hash, x->cur.hash);
    if (!(rc = set_state(s, x->p.hash, "equivocation", err)) &&
        !(rc = store_meta_set(s, "roster_halt", detail, err)))
        rc = store_audit(s, "roster-equivocation", 0, x->p.id, detail, err);
    return rc;
}

/* 1 when a vote that ends at `expires` (a proposal's) ended before now (microseconds). */
static int ended(const char *expires, int64_t now)
{
    ts_value exp;
    return expires && ts_parse(expires, &exp) == 0 && now >= exp.sec * 1000000 + exp.nsec / 1000;
}

/* 1 when voting on proposal p ended before now (microseconds). */
static int vote_ended(const roster *p, int64_t now)
{
    return ended(p->expires, now);
}

/*
 * Stores one vote on proposal x->p (loaded) after checking it; skips a vote already stored.
 * *added (may be NULL): 1 when stored now, 0 when it was stored already.
 */
static int vote_add(accord_store *s, pair *x, const roster_vote *v, int64_t now, int *added_out,
                    accord_error *err)
{
    int is_new;
    int rc = roster_vote_check(&x->cur, &x->p, x->canon.p, x->canon.len, v, &is_new, err);
    if (rc)
        return rc;
    if (vote_ended(&x->p, now))
        return accord_err_set(err, ACCORD_EINVAL,
                              "vote by %s: the vote on version %lld (%.12s) ended at %s (expired)",
                              v->member, (long long)x->p.version, x->p.hash, x->p.expires);
    sqlite3_stmt *st;
    if ((rc = prep(s,
                   "INSERT OR IGNORE INTO roster_votes(roster, keyid, member, sig, added)"
                   " VALUES(?1, ?2, ?3, ?4, ?5)",
                   &st, err)))
        return rc;
    sqlite3_bind_text(st, 1, x->p.hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, v->keyid, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, v->member, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, v->sig, ACCORD_SIGN_SIG_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, now);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : store_db_fail(s, err, "storing a vote");
    int added = sqlite3_changes(s->db) > 0;
    sqlite3_finalize(st);
    if (added_out)
        *added_out = added;
    if (rc || !added)
        return rc;
    char detail[200];
    snprintf(detail, sizeof(detail), "vote for version %lld (%s) with key %s",
             (long long)x->p.version, x->p.hash, v->keyid);
    return store_audit(s, "roster-vote", 0, v->member, detail, err);
}

/* ------------------------------------------------------------------------------------------ */
/* Creating, pinning, proposing                                                                 */

static int identity_parse(const char *text, size_t len, member_identity *m, accord_error *err)
{
    ajson_arena a;
    ajson_error jerr;
    ajson_arena_init(&a, 1 << 24);
    const ajson_value *o = ajson_parse(&a, text, len, &jerr);
    int rc =
        o ? member_parse(o, m, err)
          : accord_err_set(err, ACCORD_EINVAL, "identity: %s at byte %zu", jerr.msg, jerr.offset);
    if (rc == ACCORD_ENOTFOUND)
        rc = accord_err_set(err, ACCORD_EINVAL,
                            "identity %s: no key list (accord member init "
                            "makes one)",
                            m->id[0] ? m->id : "");
    ajson_arena_free(&a);
    return rc;
}

static int threshold_check(const roster *r, accord_error *err)
{
    if (r->threshold < 1 || 2 * r->threshold <= (int64_t)r->n || r->threshold > (int64_t)r->n)
        return accord_err_set(err, ACCORD_EINVAL,
                              "roster: threshold %lld must be more than half of its %zu members "
                              "and at most all",
                              (long long)r->threshold, r->n);
    return 0;
}

int accord_roster_create(accord_store *s, const char *const *identities, const size_t *lens,
                         size_t n, int64_t threshold, char hash[ACCORD_ROSTER_HASH_BUFLEN],
                         accord_error *err)
{
    roster *r = calloc(1, sizeof(*r));
    member_identity *m = malloc(sizeof(*m));
    buf canon;
    buf_init(&canon, 1 << 22);
    int rc = r && m ? 0 : accord_err_set(err, ACCORD_ENOMEM, "roster: out of memory");
    char uuid[37], cur[ROSTER_HASH_HEX + 1];
    if (!rc) {
        uuid4_make(uuid);
        snprintf(r->id, sizeof(r->id), ROSTER_TYPE "--%s", uuid);
        ts_ms(ts_now_us(), r->created);
        memcpy(r->modified, r->created, sizeof(r->created));
        ts_ms(ts_now_us() + WEEK_US, r->expires);
        r->version = 1;
        r->threshold = threshold;
    }
    for (size_t i = 0; i < n && !rc; i++)
        if (!(rc = identity_parse(identities[i], lens[i], m, err)))
            rc = roster_add_identity(r, m, err);
    if (!rc && !(rc = threshold_check(r, err)))
        rc = roster_write(r, &canon, err);
    if (!rc && !(rc = begin(s, err))) {
        rc = hash_in_state(s, "current", cur, err);
        if (!rc && cur[0])
            rc = accord_err_set(err, ACCORD_EINVAL, "roster: version %s is already in effect", cur);
        if (!rc && !(rc = insert(s, r, &canon, "current", err)) &&
            !(rc = store_meta_set(s, "roster_pin", r->hash, err)))
            rc = store_audit(s, "roster-applied", 0, r->id, "version 1 created and pinned", err);
        rc = end(s, rc, err);
    }
    if (!rc)
        memcpy(hash, r->hash, ACCORD_ROSTER_HASH_BUFLEN);
    buf_free(&canon);
    free(r);
    free(m);
    return rc;
}

int accord_roster_pin(accord_store *s, const char *hash, accord_error *err)
{
    char old[ROSTER_HASH_HEX + 1];
    if (!hash || strlen(hash) != ROSTER_HASH_HEX || strspn(hash, "0123456789abcdef") != 64)
        return accord_err_set(err, ACCORD_EINVAL, "roster: pin: 64 lowercase hex digits");
    int rc = begin(s, err);
    if (rc)
        return rc;
    if (store_meta_get(s, "roster_pin", old, sizeof(old)) == 0 && strcmp(old, hash) != 0)
        rc = accord_err_set(err, ACCORD_EINVAL, "roster: version 1 is already pinned to %s", old);
    if (!rc && !(rc = store_meta_set(s, "roster_pin", hash, err)))
        rc = store_audit(s, "roster-pin", 0, hash, "version 1 pinned (configuration)", err);
    return end(s, rc, err);
}

/* Applies the proposal's change to a copy of cur. */
static int propose_change(roster *p, const char *add, size_t add_len, const char *remove,
                          int64_t threshold, accord_error *err)
{
    int rc = 0;
    if (!add && !remove && !threshold)
        return accord_err_set(err, ACCORD_EINVAL, "roster: propose --add, --remove or --threshold");
    if (add) {
        member_identity *m = malloc(sizeof(*m));
        rc = m ? identity_parse(add, add_len, m, err)
               : accord_err_set(err, ACCORD_ENOMEM, "roster: out of memory");
        if (!rc)
            rc = roster_add_identity(p, m, err);
        free(m);
    }
    if (!rc && remove)
        rc = roster_remove(p, remove, err);
    if (!rc && threshold)
        p->threshold = threshold;
    return rc ? rc : threshold_check(p, err);
}

int accord_roster_propose(accord_store *s, const char *add, size_t add_len, const char *remove,
                          int64_t threshold, const char *expires, int64_t now_us,
                          char hash[ACCORD_ROSTER_HASH_BUFLEN], accord_error *err)
{
    int64_t now = now_or(now_us);
    ts_value e;
    if (expires && (ts_parse(expires, &e) != 0 || e.sec * 1000000 <= now))
        return accord_err_set(err, ACCORD_EINVAL, "roster: --expires %s: a future timestamp",
                              expires);
    pair *x = pair_new();
    if (!x)
        return accord_err_set(err, ACCORD_ENOMEM, "roster: out of memory");
    char cur[ROSTER_HASH_HEX + 1];
    int rc = begin(s, err);
    if (rc)
        goto out;
    if (!(rc = halted(s, err)) && !(rc = hash_in_state(s, "current", cur, err)) && !cur[0])
        rc = accord_err_set(err, ACCORD_ENOTFOUND, "roster: no roster yet (accord roster create)");
    if (!rc)
        rc = load(s, cur, &x->p, NULL, NULL, err);
    if (!rc) {
        memcpy(x->p.previous, x->p.hash, sizeof(x->p.previous));
        x->p.version++;
        ts_ms(now, x->p.modified);
        if (expires)
            snprintf(x->p.expires, sizeof(x->p.expires), "%s", expires);
        else
            ts_ms(now + WEEK_US, x->p.expires);
        rc = propose_change(&x->p, add, add_len, remove, threshold, err);
    }
    if (!rc)
        rc = roster_write(&x->p, &x->canon, err);
    if (!rc && !(rc = insert(s, &x->p, &x->canon, "proposed", err))) {
        char detail[200];
        snprintf(detail, sizeof(detail), "version %lld (%s) proposed, vote until %s",
                 (long long)x->p.version, x->p.hash, x->p.expires);
        rc = store_audit(s, "roster-propose", 0, x->p.id, detail, err);
    }
    rc = end(s, rc, err);
    if (!rc)
        memcpy(hash, x->p.hash, ACCORD_ROSTER_HASH_BUFLEN);
out:
    pair_free(x);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Votes                                                                                        */

/*
 * The open proposal, for a vote or an export that names none: the only proposal whose
 * predecessor is current and whose vote has not ended at now.  A proposal whose vote ended
 * without quorum (expired) is not open: when only such ones are left, the error names the
 * newest as expired, so nobody signs a proposal that can no longer take effect.
 * ACCORD_ENOTFOUND when there is no proposal at all, ACCORD_EINVAL when the only ones expired or
 * several are open (the message names them).
 */
static int open_proposal(accord_store *s, int64_t now, char out[ROSTER_HASH_HEX + 1],
                         accord_error *err)
{
    enum { NAMED = 4 };
    sqlite3_stmt *st;
    int rc = prep(s,
                  "SELECT p.hash, p.version, json_extract(p.body, '$.expires') FROM rosters p"
                  " JOIN rosters c ON c.hash = p.previous"
                  " WHERE p.state = 'proposed' AND c.state = 'current' ORDER BY p.version, p.added",
                  &st, err);
    char names[NAMED * 14 + 8] = "", expired[ROSTER_HASH_HEX + 1] = "", exp_at[40] = "";
    size_t used = 0;
    int64_t exp_version = 0;
    int n = 0, step = SQLITE_DONE;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *hash = (const char *)sqlite3_column_text(st, 0);
        const char *expires = (const char *)sqlite3_column_text(st, 2);
        if (ended(expires, now)) { /* the newest expired one is named */
            snprintf(expired, sizeof(expired), "%s", hash);
            snprintf(exp_at, sizeof(exp_at), "%s", expires);
            exp_version = sqlite3_column_int64(st, 1);
            continue;
        }
        if (n == 0)
            snprintf(out, ROSTER_HASH_HEX + 1, "%s", hash);
        if (n <= NAMED)
            used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%.12s", n ? ", " : "",
                                     n < NAMED ? hash : "...");
        n++;
    }
    sqlite3_finalize(st);
    if (!rc && step != SQLITE_DONE) /* a read error is not "no open proposal" */
        rc = store_db_fail(s, err, "reading the roster's proposals");
    if (rc || n == 1)
        return rc;
    if (n > 1)
        return accord_err_set(err, ACCORD_EINVAL, "roster: %d open proposals (%s): name one", n,
                              names);
    if (expired[0])
        return accord_err_set(err, ACCORD_EINVAL,
                              "roster: no open proposal: version %lld (%.12s) expired, its vote "
                              "ended at %s without quorum",
                              (long long)exp_version, expired, exp_at);
    return accord_err_set(err, ACCORD_ENOTFOUND, "roster: no open proposal");
}

int accord_roster_vote(accord_store *s, const char *data_dir, const char *hash,
                       const char *root_path, int64_t now_us, accord_roster_imported *out,
                       accord_error *err)
{
    char h[ROSTER_HASH_HEX + 1], self[MEMBER_ID_LEN + 1];
    accord_sign_key *key = NULL;
    accord_roster_imported res = {0};
    pair *x = pair_new();
    roster_vote v;
    int64_t now = now_or(now_us);
    int added = 0;
    int rc = x ? 0 : accord_err_set(err, ACCORD_ENOMEM, "roster: out of memory");
    if (!rc && (rc = member_self_id(s, self, sizeof(self))))
        rc = accord_err_set(err, rc, "roster: this node has no organisation (accord member init)");
    if (!rc)
        rc = member_key_load(data_dir, MEMBER_ROOT, root_path, &key, err);
    if (!rc && !(rc = begin(s, err))) {
        if (!(rc = halted(s, err))) {
            if (hash)
                snprintf(h, sizeof(h), "%s", hash);
            else
                rc = open_proposal(s, now, h, err);
        }
        if (!rc && !(rc = pair_load(s, x, h, err)) && strcmp(x->state, "proposed") != 0)
            rc = accord_err_set(err, ACCORD_EINVAL,
                                "roster: version %lld (%.12s) is %s: only a proposal is voted on",
                                (long long)x->p.version, x->p.hash, x->state);
        if (!rc && !(rc = roster_vote_sign(&x->p, x->canon.p, x->canon.len, key, self, &v, err)) &&
            !(rc = vote_add(s, x, &v, now, &added, err)) && added)
            rc = try_apply(s, x, &res.effective, err);
        rc = end(s, rc, err);
    }
    if (!rc)
        *(added ? &res.votes_new : &res.votes_known) = 1;
    if (out)
        *out = rc ? (accord_roster_imported){0} : res;
    accord_sign_key_free(key);
    pair_free(x);
    return rc;
}

/* The JCS text of member `key` of an export object, into out. */
static int member_text(const ajson_value *o, const char *key, buf *out)
{
    const ajson_value *v = ajson_get(o, key), *bad;
    buf_reset(out);
    return v ? jcs_write(out, v, &bad) : ACCORD_ENOTFOUND;
}

int accord_roster_sign(const char *text, size_t len, const char *root_path, const char *member,
                       char **out, size_t *out_len, accord_error *err)
{
    ajson_arena a;
    ajson_error jerr;
    buf rtext, line;
    roster *r = malloc(sizeof(*r));
    accord_sign_key *key = NULL;
    roster_vote v;
    *out = NULL;
    ajson_arena_init(&a, 1 << 24);
    buf_init(&rtext, 1 << 22);
    buf_init(&line, 1 << 16);
    const ajson_value *o = ajson_parse(&a, text, len, &jerr);
    int rc = r ? 0 : accord_err_set(err, ACCORD_ENOMEM, "roster: out of memory");
    if (!rc && (!o || member_text(o, "roster", &rtext)))
        rc = accord_err_set(err, ACCORD_EINVAL, "roster: not an export of accord roster export");
    if (!rc)
        rc = roster_parse(rtext.p, rtext.len, r, NULL, err);
    /* a vote no node would accept is not made: version 1 is pinned, an expired one is closed */
    if (!rc && r->version == 1)
        rc = accord_err_set(err, ACCORD_EINVAL,
                            "roster: version 1 (%.12s) is not voted on (it is "
                            "pinned)",
                            r->hash);
    if (!rc && vote_ended(r, ts_now_us()))
        rc = accord_err_set(err, ACCORD_EINVAL,
                            "roster: version %lld (%.12s) expired: its vote ended at %s",
                            (long long)r->version, r->hash, r->expires);
    if (!rc && (!member || strlen(member) != MEMBER_ID_LEN))
        rc =
            accord_err_set(err, ACCORD_EINVAL, "roster: --member: this organisation's identity id");
    if (!rc)
        rc = member_key_load(".", MEMBER_ROOT, root_path, &key, err);
    if (!rc)
        rc = roster_vote_sign(r, rtext.p, rtext.len, key, member, &v, err);
    if (!rc && (roster_vote_write(&v, &line) || buf_add(&line, "\n", 1)))
        rc = accord_err_set(err, ACCORD_ENOMEM, "roster: out of memory");
    if (!rc)
        *out = buf_take(&line, out_len);
    accord_sign_key_free(key);
    ajson_arena_free(&a);
    buf_free(&rtext);
    buf_free(&line);
    free(r);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Import and export                                                                            */

/* Stores a roster version from another node: version 1 when pinned, later ones as proposals. */
static int import_version(accord_store *s, const buf *text, char *hash,
                          accord_roster_imported *res, accord_error *err)
{
    roster *r = malloc(sizeof(*r));
    buf canon;
    buf_init(&canon, 1 << 22);
    char pin[ROSTER_HASH_HEX + 1], cur[ROSTER_HASH_HEX + 1], state[16];
    int rc = r ? roster_parse(text->p, text->len, r, &canon, err)
               : accord_err_set(err, ACCORD_ENOMEM, "roster: out of memory");
    if (!rc)
        memcpy(hash, r->hash, ROSTER_HASH_HEX + 1);
    if (!rc && load(s, r->hash, r, NULL, state, NULL) == 0) {
        res->version_known = 1;
        goto out; /* stored already */
    }
    if (!rc && r->version == 1) {
        if (store_meta_get(s, "roster_pin", pin, sizeof(pin)) != 0 || strcmp(pin, r->hash) != 0)
            rc = accord_err_set(err, ACCORD_EINVAL,
                                "roster: version 1 %s is not the pinned one (accord roster pin)",
                                r->hash);
        if (!rc && !(rc = hash_in_state(s, "current", cur, err)) && cur[0])
            rc = accord_err_set(err, ACCORD_EINVAL, "roster: a roster is already in effect");
        if (!rc && !(rc = insert(s, r, &canon, "current", err)))
            rc = store_audit(s, "roster-applied", 0, r->id, "version 1 (pinned) imported", err);
    } else if (!rc) {
        roster *prev = malloc(sizeof(*prev));
        rc = prev ? load(s, r->previous, prev, NULL, NULL, err) : ACCORD_ENOMEM;
        if (rc == ACCORD_ENOTFOUND)
            rc = accord_err_set(err, ACCORD_EINVAL,
                                "roster: version %lld builds on %.12s, which is not stored",
                                (long long)r->version, r->previous);
        else if (!rc && prev->version + 1 != r->version)
            rc = accord_err_set(err, ACCORD_EINVAL, "roster: version %lld follows version %lld",
                                (long long)r->version, (long long)prev->version);
        free(prev);
        if (!rc && !(rc = insert(s, r, &canon, "proposed", err)))
            rc = store_audit(s, "roster-propose", 0, r->id, "proposal imported", err);
    }
    if (!rc)
        res->version_new = 1;
out:
    buf_free(&canon);
    free(r);
    return rc;
}

/* Adds the votes of an export (or one vote) to the proposal they name, then applies it. */
static int import_votes(accord_store *s, const ajson_value *votes, size_t n, int64_t now,
                        accord_roster_imported *res, accord_error *err)
{
    buf t;
    buf_init(&t, 1 << 16);
    pair *x = pair_new();
    int rc = x ? 0 : accord_err_set(err, ACCORD_ENOMEM, "roster: out of memory");
    char loaded[ROSTER_HASH_HEX + 1] = "";
    for (size_t i = 0; i < n && !rc; i++) {
        const ajson_value *bad;
        roster_vote v;
        buf_reset(&t);
        if (jcs_write(&t, &votes[i], &bad) || (rc = roster_vote_parse(t.p, t.len, &v, err)))
            rc = rc ? rc : accord_err_set(err, ACCORD_EINVAL, "roster: votes[%zu]: not a vote", i);
        if (!rc && strcmp(loaded, v.roster) != 0) {
            if (loaded[0])
                rc = try_apply(s, x, &res->effective, err);
            if (!rc && !(rc = pair_load(s, x, v.roster, err)))
                memcpy(loaded, v.roster, sizeof(loaded));
        }
        int added = 0;
        if (!rc && !(rc = vote_add(s, x, &v, now, &added, err)))
            *(added ? &res->votes_new : &res->votes_known) += 1;
    }
    if (!rc && loaded[0])
        rc = try_apply(s, x, &res->effective, err);
    buf_free(&t);
    pair_free(x);
    return rc;
}

int accord_roster_import(accord_store *s, const char *text, size_t len, int64_t now_us,
                         accord_roster_imported *out, accord_error *err)
{
    ajson_arena a;
    ajson_error jerr;
    buf rtext;
    char hash[ROSTER_HASH_HEX + 1];
    accord_roster_imported res = {0};
    ajson_arena_init(&a, 1 << 24);
    buf_init(&rtext, 1 << 22);
    const ajson_value *o = ajson_parse(&a, text, len, &jerr);
    int rc = o && o->type == AJSON_OBJECT ? 0
                                          : accord_err_set(err, ACCORD_EINVAL, "roster: import: %s",
                                                           o ? "not a JSON object" : jerr.msg);
    if (!rc && !(rc = begin(s, err))) {
        const ajson_value *votes = ajson_get(o, "votes"), *bad;
        rc = halted(s, err);
        if (!rc && ajson_get(o, "sig")) { /* one vote */
            rc = import_votes(s, o, 1, now_or(now_us), &res, err);
        } else if (!rc) {
            const ajson_value *ros = ajson_get(o, "roster");
            if (jcs_write(&rtext, ros ? ros : o, &bad))
                rc = accord_err_set(err, ACCORD_EINVAL, "roster: import: not canonicalisable");
            if (!rc)
                rc = import_version(s, &rtext, hash, &res, err);
            if (!rc && votes && votes->type == AJSON_ARRAY)
                rc = import_votes(s, votes->u.items, votes->len, now_or(now_us), &res, err);
        }
        rc = end(s, rc, err);
    }
    if (out)
        *out = rc ? (accord_roster_imported){0} : res;
    ajson_arena_free(&a);
    buf_free(&rtext);
    return rc;
}

int accord_roster_export(accord_store *s, const char *hash, char **out, size_t *out_len,
                         accord_error *err)
{
    char h[ROSTER_HASH_HEX + 1];
    buf b;
    roster_vote *v = NULL;
    size_t n = 0;
    sqlite3_stmt *st = NULL;
    *out = NULL;
    buf_init(&b, 1 << 24);
    int rc = 0;
    if (hash)
        snprintf(h, sizeof(h), "%s", hash);
    else if ((rc = open_proposal(s, ts_now_us(), h, err)) == ACCORD_ENOTFOUND) {
        if (err) /* no open proposal is no error here: the current version is exported */
            *err = (accord_error){0};
        if (!(rc = hash_in_state(s, "current", h, err)) && !h[0])
            rc = accord_err_set(err, ACCORD_ENOTFOUND, "roster: no roster yet");
    }
    if (!rc && !(rc = prep(s, "SELECT body FROM rosters WHERE hash = ?1", &st, err))) {
        sqlite3_bind_text(st, 1, h, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW)
            rc = accord_err_set(err, ACCORD_ENOTFOUND, "roster: no version %s", h);
        else if (buf_adds(&b, "{\"roster\":") ||
                 buf_add(&b, sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0)) ||
                 buf_adds(&b, ",\"votes\":["))
            rc = accord_err_set(err, ACCORD_ENOMEM, "roster: out of memory");
        sqlite3_finalize(st);
    }
    if (!rc)
        rc = votes_of(s, h, &v, &n, err);
    for (size_t i = 0; i < n && !rc; i++)
        if ((i && buf_add(&b, ",", 1)) || roster_vote_write(&v[i], &b))
            rc = accord_err_set(err, ACCORD_ENOMEM, "roster: out of memory");
    if (!rc && buf_adds(&b, "]}\n"))
        rc = accord_err_set(err, ACCORD_ENOMEM, "roster: out of memory");
    if (!rc)
        *out = buf_take(&b, out_len);
    free(v);
    buf_free(&b);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Resolving an equivocation                                                                    */

/* Sets version hash and every version built on it (any state) to rejected. */
static int reject_branch(accord_store *s, const char *hash, accord_error *err)
{
    sqlite3_stmt *st;
    int rc = prep(s,
                  "WITH RECURSIVE branch(h) AS (SELECT ?1 UNION SELECT r.hash FROM rosters r"
                  " JOIN branch b ON r.previous = b.h)"
                  " UPDATE rosters SET state = 'rejected' WHERE hash IN (SELECT h FROM branch)",
                  &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : store_db_fail(s, err, "rejecting a roster branch");
    sqlite3_finalize(st);
    return rc;
}

/* The hashes of the other successors of chosen's predecessor that took effect or reached
 * quorum, into out (n at most max). */
static int rivals_of(accord_store *s, const roster *chosen, char (*out)[ROSTER_HASH_HEX + 1],
                     size_t max, size_t *n, accord_error *err)
{
    sqlite3_stmt *st;
    int rc = prep(s,
                  "SELECT hash FROM rosters WHERE previous = ?1 AND hash <> ?2"
                  " AND state IN ('current', 'superseded', 'equivocation') ORDER BY added",
                  &st, err);
    *n = 0;
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, chosen->previous, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, chosen->hash, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW && *n < max)
        snprintf(out[(*n)++], ROSTER_HASH_HEX + 1, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return 0;
}

static int count_state(accord_store *s, const char *state, int64_t *n, accord_error *err)
{
    sqlite3_stmt *st;
    int rc = prep(s, "SELECT count(*) FROM rosters WHERE state = ?1", &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
    *n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return 0;
}

int accord_roster_resolve(accord_store *s, const char *hash, accord_error *err)
{
    enum { MAX_RIVALS = 16 };
    roster *chosen = malloc(sizeof(*chosen));
    char state[16], why[400], (*rivals)[ROSTER_HASH_HEX + 1] = malloc(MAX_RIVALS * sizeof(*rivals));
    size_t n = 0;
    int64_t left = 0;
    int rc = chosen && rivals ? begin(s, err) : accord_err_set(err, ACCORD_ENOMEM, "out of memory");
    if (rc)
        goto out;
    if (store_meta_get(s, "roster_halt", why, sizeof(why)) != 0) {
        rc = accord_err_set(err, ACCORD_EINVAL,
                            "roster: governance is not stopped; nothing to "
                            "resolve");
        goto done;
    }
    if ((rc = load(s, hash ? hash : "", chosen, NULL, state, err)))
        goto done;
    if (strcmp(state, "current") != 0 && strcmp(state, "superseded") != 0 &&
        strcmp(state, "equivocation") != 0) {
        rc = accord_err_set(err, ACCORD_EINVAL,
                            "roster: version %lld (%.12s) is %s: name one that took effect or "
                            "reached quorum",
                            (long long)chosen->version, chosen->hash, state);
        goto done;
    }
    if ((rc = rivals_of(s, chosen, rivals, MAX_RIVALS, &n, err)))
        goto done;
    if (!n) {
        rc = accord_err_set(err, ACCORD_EINVAL,
                            "roster: version %lld (%.12s) has no rival successor of %.12s",
                            (long long)chosen->version, chosen->hash, chosen->previous);
        goto done;
    }
    /* the rivals' branches go, with whatever took effect on top of them; the chosen one becomes
     * current unless a version built on it already is */
    for (size_t i = 0; i < n && !rc; i++)
        rc = reject_branch(s, rivals[i], err);
    int64_t current = 0;
    if (!rc && !(rc = count_state(s, "current", &current, err)) && !current)
        rc = set_state(s, chosen->hash, "current", err);
    char detail[400];
    snprintf(detail, sizeof(detail),
             "equivocation resolved: version %lld (%s) stands; %zu rival version(s) from %.12s "
             "set aside with what was built on them",
             (long long)chosen->version, chosen->hash, n, rivals[0]);
    if (!rc)
        rc = store_audit(s, "roster-resolved", 0, chosen->id, detail, err);
    /* governance resumes only when no other equivocation is left */
    if (!rc && !(rc = count_state(s, "equivocation", &left, err)) && !left) {
        sqlite3_stmt *st;
        if (!(rc = prep(s, "DELETE FROM meta WHERE key = 'roster_halt'", &st, err))) {
            rc = sqlite3_step(st) == SQLITE_DONE ? 0 : store_db_fail(s, err, "resuming governance");
            sqlite3_finalize(st);
        }
    }
done:
    rc = end(s, rc, err);
out:
    free(chosen);
    free(rivals);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Reading                                                                                      */

static int report(const pair *x, const char *state, const roster_tally *t, accord_roster_cb cb,
                  void *ud)
{
    const char *ids[ROSTER_MAX_MEMBERS], *names[ROSTER_MAX_MEMBERS];
    for (size_t i = 0; i < x->p.n; i++) {
        ids[i] = x->p.m[i].id;
        names[i] = x->p.m[i].name;
    }
    accord_roster_info info = {.version = x->p.version,
                               .hash = x->p.hash,
                               .state = state,
                               .expires = x->p.expires,
                               .previous = x->p.previous,
                               .threshold = x->p.threshold,
                               .members = x->p.n,
                               .member_ids = ids,
                               .member_names = names};
    if (t) {
        info.votes = t->votes;
        info.needed = t->needed;
        info.new_members = t->new_members;
        info.new_voted = t->new_voted;
        info.effective = t->effective;
    }
    return cb(ud, &info);
}

int accord_roster_status(accord_store *s, accord_roster_cb cb, void *ud, int *halted_out,
                         accord_error *err)
{
    sqlite3_stmt *st;
    pair *x = pair_new();
    char why[400];
    int64_t now = ts_now_us();
    if (halted_out)
        *halted_out = store_meta_get(s, "roster_halt", why, sizeof(why)) == 0;
    if (halted_out && *halted_out)
        accord_err_set(err, ACCORD_EINVAL, "%s", why);
    int rc = x ? prep(s,
                      "SELECT hash, state FROM rosters WHERE state <> 'superseded'"
                      " ORDER BY version, added",
                      &st, err)
               : ACCORD_ENOMEM;
    if (rc)
        goto out;
    while (!rc && sqlite3_step(st) == SQLITE_ROW) {
        const char *hash = (const char *)sqlite3_column_text(st, 0);
        const char *state = (const char *)sqlite3_column_text(st, 1);
        roster_tally t;
        roster_vote *v = NULL;
        size_t n = 0;
        if (strcmp(state, "current") == 0) {
            if (!(rc = load(s, hash, &x->p, NULL, NULL, err)))
                rc = report(x, state, NULL, cb, ud);
            continue;
        }
        if (!(rc = pair_load(s, x, hash, err)) && !(rc = votes_of(s, hash, &v, &n, err)) &&
            !(rc = roster_count(&x->cur, &x->p, x->canon.p, x->canon.len, v, n, &t, err))) {
            /* an open proposal whose vote ended without quorum can no longer take effect */
            if (strcmp(state, "proposed") == 0 && vote_ended(&x->p, now))
                state = "expired";
            rc = report(x, state, &t, cb, ud);
        }
        free(v);
    }
    sqlite3_finalize(st);
out:
    pair_free(x);
    return rc;
}

int roster_current(accord_store *s, roster *r, accord_error *err)
{
    char h[ROSTER_HASH_HEX + 1];
    int rc = hash_in_state(s, "current", h, err);
    if (!rc && !h[0])
        rc = accord_err_set(err, ACCORD_ENOTFOUND, "roster: no roster yet");
    return rc ? rc : load(s, h, r, NULL, NULL, err);
}

int roster_is_member(accord_store *s, const char *org)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT 1 FROM rosters r, json_each(r.body, '$.members') m"
                           " WHERE r.state = 'current'"
                           " AND json_extract(m.value, '$.identity_ref') = ?1",
                           -1, &st, NULL))
        return ACCORD_ESTORE;
    sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    sqlite3_finalize(st);
    return step == SQLITE_ROW ? 1 : step == SQLITE_DONE ? 0 : ACCORD_ESTORE;
}

int roster_kept(accord_store *s)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM rosters WHERE state = 'current'", -1, &st, NULL))
        return ACCORD_ESTORE;
    int step = sqlite3_step(st);
    sqlite3_finalize(st);
    return step == SQLITE_ROW ? 1 : step == SQLITE_DONE ? 0 : ACCORD_ESTORE;
}
