/*
 * test_roster.c - admission by vote (src/roster.c, src/store_roster.c).
 *
 * 1. The rule on rosters built in memory (roster_count): quorum exactly at the threshold and one
 *    below; duplicate votes and two root keys of one member count once; a vote replayed into
 *    another proposal or another version does not verify; a removed member's vote, a vote after
 *    expires, a vote by a key the member does not hold count nothing; a new member must vote;
 *    threshold(N+1) must be more than half of N+1's members.
 * 2. The format: write -> parse round trip and hash; unsorted members, a key of two members,
 *    version 2 without previous are refused.
 * 3. Through the store with real member identities (accord member init on four nodes): create
 *    and pin, propose, vote offline (roster sign) and import the signatures; version 1 with
 *    another hash than the pinned one is refused; conflicting proposals: the first to reach
 *    quorum takes effect, the second reaching quorum too is recorded as equivocation and stops
 *    governance; a vote after expires is refused; roster_is_member follows the current version.
 * 4. Resolving the equivocation: refused for a version without a rival; naming the second
 *    version 2 makes it current and sets the first aside as rejected (its added member is no
 *    longer one), governance resumes (a new proposal is taken), and a second resolve is refused
 *    as nothing is stopped.
 * 5, 6. test_open_proposal: a repeated vote; which proposal a vote or export without a hash
 *    picks when one expired.
 */
#include "accord.h"
#include "roster.h"
#include "t.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[256];

/* ------------------------------------------------------------------------------------------ */
/* The rule, in memory                                                                          */

enum { NORG = 6 };
static accord_sign_key *keys[NORG][2]; /* two root keys per organisation */
static char ids[NORG][MEMBER_ID_LEN + 1];

static void make_orgs(void)
{
    for (int i = 0; i < NORG; i++) {
        snprintf(ids[i], sizeof(ids[i]), "identity--%08d-0000-4000-8000-000000000000", i);
        for (int k = 0; k < 2; k++)
            CHECK(accord_sign_key_generate(&keys[i][k]) == 0);
    }
}

/* Member i of org i with nkeys root keys. */
static void add_org(roster *r, int i, int nkeys)
{
    roster_member *m = &r->m[r->n++];
    memset(m, 0, sizeof(*m));
    memcpy(m->id, ids[i], sizeof(m->id));
    snprintf(m->name, sizeof(m->name), "org %d", i);
    m->nkeys = (size_t)nkeys;
    for (int k = 0; k < nkeys; k++)
        accord_sign_key_public(keys[i][k], m->keys[k]);
}

/* A roster of orgs [from, to) with the given threshold, version and predecessor. */
static void build(roster *r, int version, const roster *prev, const int *orgs, int n, int threshold,
                  buf *canon)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->id, sizeof(r->id), "accord-roster--11111111-2222-4333-8444-555555555555");
    snprintf(r->created, sizeof(r->created), "2026-01-01T00:00:00.000Z");
    snprintf(r->modified, sizeof(r->modified), "2026-01-0%dT00:00:00.000Z", version);
    snprintf(r->expires, sizeof(r->expires), "2026-02-01T00:00:00.000Z");
    r->version = version;
    r->threshold = threshold;
    if (prev)
        memcpy(r->previous, prev->hash, sizeof(r->previous));
    for (int i = 0; i < n; i++)
        add_org(r, orgs[i], orgs[i] == 0 ? 2 : 1); /* org 0 holds two root keys */
    buf_reset(canon);
    accord_error err;
    CHECK(roster_write(r, canon, &err) == 0);
}

static int64_t ts(const char *s)
{
    int y, mo, d, h, mi, sec;
    sscanf(s, "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &h, &mi, &sec);
    /* days from 2026-01-01 (a Thursday) suffice here: all test times are in early 2026 */
    static const int cum[] = {0, 31, 59};
    int64_t days = (int64_t)(y - 2026) * 365 + cum[mo - 1] + d - 1;
    return ((days * 86400 + h * 3600 + mi * 60 + sec) + 1767225600LL) * 1000000;
}

static roster_vote vote(const roster *p, const buf *canon, int org, int key, const char *when)
{
    roster_vote v;
    accord_error err;
    CHECK(roster_vote_sign(p, canon->p, canon->len, keys[org][key], ids[org], &v, &err) == 0);
    v.added_us = ts(when);
    return v;
}

static void test_rule(void)
{
    roster *cur = malloc(sizeof(*cur)), *p = malloc(sizeof(*p)), *q = malloc(sizeof(*q));
    buf cc, pc, qc;
    buf_init(&cc, 0);
    buf_init(&pc, 0);
    buf_init(&qc, 0);
    roster_tally t;
    accord_error err;
    static const int v1[] = {0, 1, 2, 3, 4}; /* 5 members, threshold 3 */
    build(cur, 1, NULL, v1, 5, 3, &cc);
    static const int v2[] = {0, 1, 2, 3}; /* removes 4, threshold 3 of 4 */
    build(p, 2, cur, v2, 4, 3, &pc);
    const char *early = "2026-01-10T00:00:00";

    /* exactly at the threshold: 3 distinct members */
    roster_vote vs[8];
    vs[0] = vote(p, &pc, 0, 0, early);
    vs[1] = vote(p, &pc, 1, 0, early);
    vs[2] = vote(p, &pc, 2, 0, early);
    CHECK(roster_count(cur, p, pc.p, pc.len, vs, 3, &t, &err) == 0);
    CHECK(t.successor && t.votes == 3 && t.needed == 3 && t.threshold_ok && t.effective);
    /* one below */
    CHECK(roster_count(cur, p, pc.p, pc.len, vs, 2, &t, &err) == 0);
    CHECK(t.votes == 2 && !t.effective);
    /* duplicate votes and two root keys of one member count once */
    vs[2] = vote(p, &pc, 0, 0, early);
    vs[3] = vote(p, &pc, 0, 1, early);
    CHECK(roster_count(cur, p, pc.p, pc.len, vs, 4, &t, &err) == 0);
    CHECK(t.votes == 2 && t.ignored == 2 && !t.effective);
    /* a vote after expires does not count */
    vs[2] = vote(p, &pc, 2, 0, "2026-02-01T00:00:00");
    CHECK(roster_count(cur, p, pc.p, pc.len, vs, 3, &t, &err) == 0);
    CHECK(t.votes == 2 && t.ignored == 1 && !t.effective);
    /* a key the member does not hold (org 1's second key is not listed) */
    vs[2] = vote(p, &pc, 1, 1, early);
    int is_new;
    CHECK(roster_vote_check(cur, p, pc.p, pc.len, &vs[2], &is_new, &err) == ACCORD_EINVAL);
    /* a vote signed for p, replayed into another proposal of the same version */
    static const int v2b[] = {0, 1, 2, 4};
    build(q, 2, cur, v2b, 4, 3, &qc);
    roster_vote r = vote(p, &pc, 2, 0, early);
    memcpy(r.roster, q->hash, sizeof(r.roster));
    CHECK(roster_vote_check(cur, q, qc.p, qc.len, &r, &is_new, &err) == ACCORD_EINVAL);
    CHECK(strstr(err.msg, "does not verify") != NULL);

    /* version 3 after p took effect: p's votes replayed into it do not verify, and org 4 (removed
       in version 2) counts nothing */
    build(q, 3, p, v2, 4, 3, &qc);
    vs[0] = vote(p, &pc, 0, 0, early);
    vs[1] = vote(p, &pc, 1, 0, early);
    vs[2] = vote(p, &pc, 2, 0, early);
    for (int i = 0; i < 3; i++)
        memcpy(vs[i].roster, q->hash, sizeof(vs[i].roster));
    vs[3] = vote(q, &qc, 4, 0, early);
    CHECK(roster_count(p, q, qc.p, qc.len, vs, 4, &t, &err) == 0);
    CHECK(t.votes == 0 && t.ignored == 4 && !t.effective);
    CHECK(roster_vote_check(p, q, qc.p, qc.len, &vs[3], &is_new, &err) == ACCORD_EINVAL);

    /* a member added must vote too */
    static const int v2add[] = {0, 1, 2, 3, 4, 5};
    build(q, 2, cur, v2add, 6, 4, &qc);
    vs[0] = vote(q, &qc, 0, 0, early);
    vs[1] = vote(q, &qc, 1, 0, early);
    vs[2] = vote(q, &qc, 2, 0, early);
    CHECK(roster_count(cur, q, qc.p, qc.len, vs, 3, &t, &err) == 0);
    CHECK(t.votes == 3 && t.new_members == 1 && t.new_voted == 0 && !t.effective);
    vs[3] = vote(q, &qc, 5, 0, early);
    CHECK(roster_count(cur, q, qc.p, qc.len, vs, 4, &t, &err) == 0);
    CHECK(t.new_voted == 1 && t.effective);

    /* threshold(N+1) not more than half its members */
    build(q, 2, cur, v2, 4, 2, &qc);
    vs[0] = vote(q, &qc, 0, 0, early);
    vs[1] = vote(q, &qc, 1, 0, early);
    vs[2] = vote(q, &qc, 2, 0, early);
    CHECK(roster_count(cur, q, qc.p, qc.len, vs, 3, &t, &err) == 0);
    CHECK(t.votes == 3 && !t.threshold_ok && !t.effective);
    /* not a successor: version 3 on version 1 */
    build(q, 3, cur, v2, 4, 3, &qc);
    CHECK(roster_count(cur, q, qc.p, qc.len, vs, 0, &t, &err) == 0 && !t.successor);

    free(cur);
    free(p);
    free(q);
    buf_free(&cc);
    buf_free(&pc);
    buf_free(&qc);
}

static void test_format(void)
{
    roster *r = malloc(sizeof(*r)), *back = malloc(sizeof(*back));
    buf c, c2;
    buf_init(&c, 0);
    buf_init(&c2, 0);
    accord_error err;
    static const int v[] = {0, 1, 2};
    build(r, 1, NULL, v, 3, 2, &c);
    CHECK(roster_parse(c.p, c.len, back, &c2, &err) == 0);
    CHECK_STR(back->hash, r->hash);
    CHECK(c2.len == c.len && memcmp(c.p, c2.p, c.len) == 0);
    CHECK(back->n == 3 && back->m[0].nkeys == 2 && back->threshold == 2);
    /* whitespace does not change the hash (it is of the canonical form) */
    buf spaced;
    buf_init(&spaced, 0);
    buf_adds(&spaced, " ");
    buf_add(&spaced, c.p, c.len);
    buf_adds(&spaced, "\n");
    CHECK(roster_parse(spaced.p, spaced.len, back, NULL, &err) == 0);
    CHECK_STR(back->hash, r->hash);
    /* members out of order, a key of two members, version 2 without previous */
    r->m[3] = r->m[0];
    r->m[0] = r->m[1];
    r->m[1] = r->m[3];
    buf_reset(&c);
    CHECK(roster_write(r, &c, &err) == ACCORD_EINVAL && strstr(err.msg, "sorted"));
    build(r, 1, NULL, v, 3, 2, &c);
    memcpy(r->m[2].keys[0], r->m[1].keys[0], 32);
    buf_reset(&c);
    CHECK(roster_write(r, &c, &err) == ACCORD_EINVAL && strstr(err.msg, "also a key of"));
    build(r, 1, NULL, v, 3, 2, &c);
    r->version = 2;
    buf_reset(&c);
    CHECK(roster_write(r, &c, &err) == ACCORD_EINVAL && strstr(err.msg, "previous"));
    buf_free(&spaced);
    buf_free(&c);
    buf_free(&c2);
    free(r);
    free(back);
}

/* ------------------------------------------------------------------------------------------ */
/* Through the store                                                                            */

typedef struct node {
    char dir[300], root[400];
    accord_store *s;
    char id[MEMBER_ID_LEN + 1];
    char *identity; /* its identity JSON */
    size_t len;
} node;

static int grab_id(void *ud, const char *identity, const char *name, const accord_member_key *k)
{
    (void)name;
    (void)k;
    snprintf(ud, MEMBER_ID_LEN + 1, "%s", identity);
    return 0;
}

static int grab_body(void *ud, const accord_record *r)
{
    node *n = ud;
    n->identity = malloc(r->body_len + 1);
    memcpy(n->identity, r->body, r->body_len);
    n->identity[r->body_len] = '\0';
    n->len = r->body_len;
    return 0;
}

static void node_open(node *n, const char *name)
{
    accord_error err = {0};
    snprintf(n->dir, sizeof(n->dir), "%s/%s", tmpdir, name);
    snprintf(n->root, sizeof(n->root), "%s/%s/keys/root.seed", tmpdir, name);
    CHECK(accord_store_open(n->dir, 0, &n->s, &err) == 0);
    CHECK(accord_member_init(n->s, n->dir, name, NULL, grab_id, n->id, &err) == 0);
    CHECK(accord_store_get(n->s, n->id, 0, grab_body, n, &err) == 0);
}

static accord_roster_imported last_import; /* what vote_offline's import did */

/* n votes offline on the proposal exported from at, and at imports the vote. */
static int vote_offline(node *at, const node *n, const char *hash, int64_t now, int *eff,
                        accord_error *err)
{
    char *exp = NULL, *v = NULL;
    size_t el, vl;
    int rc = accord_roster_export(at->s, hash, &exp, &el, err);
    if (!rc)
        rc = accord_roster_sign(exp, el, n->root, n->id, &v, &vl, err);
    memset(&last_import, 0xff, sizeof(last_import)); /* the import must set every field */
    if (!rc)
        rc = accord_roster_import(at->s, v, vl, now, &last_import, err);
    if (!rc)
        *eff = last_import.effective;
    free(exp);
    free(v);
    return rc;
}

static int count_state(void *ud, const accord_roster_info *r)
{
    int *cur = ud;
    if (strcmp(r->state, "current") == 0)
        *cur = (int)r->version;
    return 0;
}

/* The state accord_roster_status shows for one version. */
typedef struct state_of {
    const char *hash;
    char state[16];
} state_of;

static int find_state(void *ud, const accord_roster_info *r)
{
    state_of *x = ud;
    if (strcmp(r->hash, x->hash) == 0)
        snprintf(x->state, sizeof(x->state), "%s", r->state);
    return 0;
}

static void test_store(void)
{
    node n[4];
    memset(n, 0, sizeof(n));
    static const char *names[] = {"alpha", "bravo", "charlie", "delta"};
    for (int i = 0; i < 4; i++)
        node_open(&n[i], names[i]);
    accord_error err = {0};
    const char *texts[3] = {n[0].identity, n[1].identity, n[2].identity};
    size_t lens[3] = {n[0].len, n[1].len, n[2].len};
    char h1[ACCORD_ROSTER_HASH_BUFLEN], h2[ACCORD_ROSTER_HASH_BUFLEN],
        h2b[ACCORD_ROSTER_HASH_BUFLEN];
    CHECK(roster_kept(n[0].s) == 0 && roster_is_member(n[0].s, n[1].id) == 0);
    /* threshold 1 of 3 is not more than half */
    CHECK(accord_roster_create(n[0].s, texts, lens, 3, 1, h1, &err) == ACCORD_EINVAL);
    CHECK(accord_roster_create(n[0].s, texts, lens, 3, 2, h1, &err) == 0);
    CHECK(roster_is_member(n[0].s, n[1].id) == 1 && roster_is_member(n[0].s, n[3].id) == 0);
    CHECK(roster_kept(n[0].s) == 1);

    /* another node takes version 1 only with the pinned hash */
    char *v1 = NULL;
    size_t v1l;
    CHECK(accord_roster_export(n[0].s, h1, &v1, &v1l, &err) == 0);
    CHECK(accord_roster_import(n[1].s, v1, v1l, 0, NULL, &err) == ACCORD_EINVAL);
    CHECK(strstr(err.msg, "not the pinned one") != NULL);
    CHECK(accord_roster_pin(n[1].s, h1, &err) == 0);
    CHECK(accord_roster_import(n[1].s, v1, v1l, 0, NULL, &err) == 0);
    CHECK(roster_is_member(n[1].s, n[2].id) == 1);
    free(v1);

    /* two conflicting proposals for version 2: add delta, or remove charlie */
    CHECK(accord_roster_propose(n[0].s, n[3].identity, n[3].len, NULL, 3, NULL, 0, h2, &err) == 0);
    CHECK(accord_roster_propose(n[0].s, NULL, 0, "charlie", 0, NULL, 0, h2b, &err) == 0);
    CHECK(strcmp(h2, h2b) != 0);
    int eff = 0;
    accord_roster_imported voted;
    CHECK(accord_roster_vote(n[0].s, n[0].dir, h2, NULL, 0, &voted, &err) == 0);
    CHECK(!voted.effective && voted.votes_new == 1 && voted.votes_known == 0);
    /* a duplicate vote changes nothing, and the import says it was stored before */
    CHECK(vote_offline(&n[0], &n[0], h2, 0, &eff, &err) == 0 && !eff);
    CHECK(last_import.votes_known == 1 && last_import.votes_new == 0);
    CHECK(!last_import.version_new && !last_import.version_known);
    CHECK(vote_offline(&n[0], &n[1], h2, 0, &eff, &err) == 0 && !eff); /* delta has not voted */
    CHECK(last_import.votes_new == 1 && last_import.votes_known == 0);
    /* a vote replayed into the other proposal does not verify */
    char *e = NULL, *v = NULL;
    size_t el, vl;
    CHECK(accord_roster_export(n[0].s, h2, &e, &el, &err) == 0);
    CHECK(accord_roster_sign(e, el, n[2].root, n[2].id, &v, &vl, &err) == 0);
    char *at = strstr(v, h2);
    memcpy(at, h2b, 64);
    CHECK(accord_roster_import(n[0].s, v, vl, 0, NULL, &err) == ACCORD_EINVAL);
    CHECK(strstr(err.msg, "does not verify") != NULL);
    free(e);
    free(v);
    /* a vote after expires is refused */
    CHECK(vote_offline(&n[0], &n[3], h2, 4102444800000000LL, &eff, &err) == ACCORD_EINVAL);
    CHECK(strstr(err.msg, "ended") != NULL);
    CHECK(vote_offline(&n[0], &n[3], h2, 0, &eff, &err) == 0 && eff); /* delta: quorum */
    int cur = 0, halted = 0;
    CHECK(accord_roster_status(n[0].s, count_state, &cur, &halted, &err) == 0);
    CHECK(cur == 2 && !halted);
    CHECK(roster_is_member(n[0].s, n[3].id) == 1);

    /* the other version 2 reaches quorum too (alpha and bravo voted for both): equivocation */
    CHECK(vote_offline(&n[0], &n[0], h2b, 0, &eff, &err) == 0);
    CHECK(vote_offline(&n[0], &n[1], h2b, 0, &eff, &err) == 0 && !eff);
    CHECK(accord_roster_status(n[0].s, count_state, &cur, &halted, &err) == 0);
    CHECK(halted && strstr(err.msg, "equivocation"));
    CHECK(cur == 2); /* the version in effect stays */
    char h3[ACCORD_ROSTER_HASH_BUFLEN];
    CHECK(accord_roster_propose(n[0].s, NULL, 0, "bravo", 0, NULL, 0, h3, &err) == ACCORD_EINVAL);
    CHECK(strstr(err.msg, "governance stopped") != NULL);

    /* 4. the operator decides: the version that removes charlie stands */
    CHECK(accord_roster_resolve(n[0].s, h1, &err) == ACCORD_EINVAL);
    CHECK(strstr(err.msg, "is superseded") || strstr(err.msg, "no rival"));
    CHECK(accord_roster_resolve(n[0].s, "0000", &err) == ACCORD_ENOTFOUND);
    CHECK(accord_roster_resolve(n[0].s, h2b, &err) == 0);
    cur = 0;
    CHECK(accord_roster_status(n[0].s, count_state, &cur, &halted, &err) == 0);
    CHECK(cur == 2 && !halted);
    CHECK(roster_is_member(n[0].s, n[3].id) == 0 && roster_is_member(n[0].s, n[2].id) == 0);
    CHECK(roster_is_member(n[0].s, n[1].id) == 1);
    CHECK(accord_roster_resolve(n[0].s, h2b, &err) == ACCORD_EINVAL);
    CHECK(strstr(err.msg, "not stopped") != NULL);
    /* governance resumed: delta may be proposed again, as version 3 on top of the one that stands
     */
    CHECK(accord_roster_propose(n[0].s, n[3].identity, n[3].len, NULL, 3, NULL, 0, h3, &err) == 0);
    CHECK(strcmp(h3, h2) != 0);
    /* an open proposal shows as proposed until its vote ends, then as expired: one proposed in
     * 2020 (a week to vote) beside the one just proposed */
    char h4[ACCORD_ROSTER_HASH_BUFLEN];
    CHECK(accord_roster_propose(n[0].s, NULL, 0, "bravo", 1, NULL, 1577836800000000LL, h4, &err) ==
          0);
    state_of s3 = {.hash = h3}, s4 = {.hash = h4};
    CHECK(accord_roster_status(n[0].s, find_state, &s3, &halted, &err) == 0);
    CHECK(accord_roster_status(n[0].s, find_state, &s4, &halted, &err) == 0);
    CHECK(strcmp(s3.state, "proposed") == 0);
    CHECK(strcmp(s4.state, "expired") == 0);
    for (int i = 0; i < 4; i++) {
        accord_store_close(n[i].s);
        free(n[i].identity);
    }
}

/* The size of n's audit log (a checkpoint of all of it). */
static uint64_t audit_size(const node *n)
{
    uint64_t size = 0;
    accord_error err = {0};
    CHECK(accord_audit_checkpoint(n->s, &size, &err) == 0);
    return size;
}

/* The export of version hash (NULL: the one export picks); its code, the text in *out. */
static int export_of(const node *n, const char *hash, char **out, accord_error *err)
{
    size_t len;
    *out = NULL;
    return accord_roster_export(n->s, hash, out, &len, err);
}

/*
 * 5. A vote repeated with the same key is already recorded: nothing stored, no audit record.
 * 6. Vote and export without a hash pick the open proposal: one whose vote ended without quorum
 *    (expired) is not open; with only such one both fail naming it as expired; with an expired
 *    one and an open one they pick the open one; with two open ones they name both; with none
 *    export picks the current version and leaves no error.  A version that is not a proposal
 *    (the current one) is not voted on.
 */
static void test_open_proposal(void)
{
    node n[3];
    memset(n, 0, sizeof(n));
    static const char *names[] = {"echo", "foxtrot", "golf"};
    for (int i = 0; i < 3; i++)
        node_open(&n[i], names[i]);
    accord_error err = {0};
    const char *texts[3] = {n[0].identity, n[1].identity, n[2].identity};
    size_t lens[3] = {n[0].len, n[1].len, n[2].len};
    char h1[ACCORD_ROSTER_HASH_BUFLEN], old[ACCORD_ROSTER_HASH_BUFLEN],
        open1[ACCORD_ROSTER_HASH_BUFLEN], open2[ACCORD_ROSTER_HASH_BUFLEN], at[80];
    CHECK(accord_roster_create(n[0].s, texts, lens, 3, 2, h1, &err) == 0);
    accord_roster_imported r;
    char *e = NULL, *e2 = NULL;

    /* only an expired proposal (proposed in 2020, a week to vote) */
    CHECK(accord_roster_propose(n[0].s, NULL, 0, "golf", 0, NULL, 1577836800000000LL, old, &err) ==
          0);
    snprintf(at, sizeof(at), "version 2 (%.12s) expired", old);
    CHECK(accord_roster_vote(n[0].s, n[0].dir, NULL, NULL, 0, &r, &err) == ACCORD_EINVAL);
    CHECK(strstr(err.msg, at) != NULL && strstr(err.msg, "2020-01-08T00:00:00.000Z"));
    CHECK(export_of(&n[0], NULL, &e, &err) == ACCORD_EINVAL && !e);
    CHECK(strstr(err.msg, at) != NULL);
    CHECK(accord_roster_vote(n[0].s, n[0].dir, old, NULL, 0, &r, &err) == ACCORD_EINVAL);
    CHECK(strstr(err.msg, "ended at 2020-01-08T00:00:00.000Z (expired)") != NULL);
    /* offline signing refuses it too (no node would accept the vote), and version 1 */
    size_t el, vl;
    char *v = NULL;
    CHECK(accord_roster_export(n[0].s, old, &e, &el, &err) == 0);
    CHECK(accord_roster_sign(e, el, n[1].root, n[1].id, &v, &vl, &err) == ACCORD_EINVAL && !v);
    snprintf(at, sizeof(at), "version 2 (%.12s) expired: its vote ended at 2020-01-08", old);
    CHECK(strstr(err.msg, at) != NULL);
    free(e);
    CHECK(accord_roster_export(n[0].s, h1, &e, &el, &err) == 0);
    CHECK(accord_roster_sign(e, el, n[1].root, n[1].id, &v, &vl, &err) == ACCORD_EINVAL && !v);
    CHECK(strstr(err.msg, "version 1") && strstr(err.msg, "not voted on"));
    free(e);

    /* an expired one and an open one: the open one */
    CHECK(accord_roster_propose(n[0].s, NULL, 0, NULL, 3, NULL, 0, open1, &err) == 0);
    CHECK(export_of(&n[0], NULL, &e, &err) == 0 && export_of(&n[0], open1, &e2, &err) == 0);
    CHECK(e && e2 && strcmp(e, e2) == 0 && strstr(e, "\"votes\":[]"));
    free(e);
    free(e2);
    uint64_t before = audit_size(&n[0]);
    CHECK(accord_roster_vote(n[0].s, n[0].dir, NULL, NULL, 0, &r, &err) == 0);
    CHECK(r.votes_new == 1 && r.votes_known == 0 && !r.effective);
    CHECK(audit_size(&n[0]) == before + 1); /* the roster-vote record */
    CHECK(export_of(&n[0], open1, &e, &err) == 0 && strstr(e, n[0].id));
    free(e);

    /* 5. the same vote again: already recorded, nothing changed */
    memset(&r, 0xff, sizeof(r));
    CHECK(accord_roster_vote(n[0].s, n[0].dir, NULL, NULL, 0, &r, &err) == 0);
    CHECK(r.votes_new == 0 && r.votes_known == 1 && !r.effective);
    CHECK(audit_size(&n[0]) == before + 1);
    CHECK(accord_roster_vote(n[0].s, n[0].dir, open1, NULL, 0, &r, &err) == 0 && r.votes_known);
    CHECK(audit_size(&n[0]) == before + 1);

    /* two open ones: both named */
    CHECK(accord_roster_propose(n[0].s, NULL, 0, "foxtrot", 0, NULL, 0, open2, &err) == 0);
    CHECK(accord_roster_vote(n[0].s, n[0].dir, NULL, NULL, 0, &r, &err) == ACCORD_EINVAL);
    snprintf(at, sizeof(at), "2 open proposals (%.12s, %.12s)", open1, open2);
    CHECK(strstr(err.msg, at) != NULL);
    CHECK(export_of(&n[0], NULL, &e, &err) == ACCORD_EINVAL && strstr(err.msg, at));

    /* foxtrot's vote completes the first: a version in effect is not voted on any more */
    int eff = 0;
    CHECK(vote_offline(&n[0], &n[1], open1, 0, &eff, &err) == 0 && eff);
    CHECK(accord_roster_vote(n[0].s, n[0].dir, open1, NULL, 0, &r, &err) == ACCORD_EINVAL);
    snprintf(at, sizeof(at), "version 2 (%.12s) is current: only a proposal is voted on", open1);
    CHECK(strstr(err.msg, at) != NULL);
    CHECK(accord_roster_vote(n[0].s, n[0].dir, h1, NULL, 0, &r, &err) == ACCORD_EINVAL);
    CHECK(strstr(err.msg, "version 1 is not voted on") != NULL);
    /* no open proposal left (the second was made on version 1): export picks the current
     * version, and that is no error */
    CHECK(export_of(&n[0], NULL, &e, &err) == 0 && err.code == 0 && err.msg[0] == '\0');
    CHECK(export_of(&n[0], open1, &e2, &err) == 0 && e && e2 && strcmp(e, e2) == 0);
    free(e);
    free(e2);
    for (int i = 0; i < 3; i++) {
        accord_store_close(n[i].s);
        free(n[i].identity);
    }
}

int main(void)
{
    if (t_mkdtemp(tmpdir, sizeof(tmpdir), "roster"))
        return 1;
    make_orgs();
    test_rule();
    test_format();
    test_store();
    test_open_proposal();
    for (int i = 0; i < NORG; i++)
        for (int k = 0; k < 2; k++)
            accord_sign_key_free(keys[i][k]);
    t_rmtree(tmpdir);
    return t_done();
}
