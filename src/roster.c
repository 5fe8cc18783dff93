/*
 * roster.c - the roster format, votes and the admission rule (no storage: store_roster.c).
 *
 * A roster version is a STIX 2.1 object of a new SDO type that accord defines with the
 * extension-definition roster_extdef_json (published like the signature extension's):
 *
 *   | property     | value                                                                   |
 *   |--------------|-------------------------------------------------------------------------|
 *   | type         | "accord-roster"                                                         |
 *   | spec_version | "2.1"                                                                   |
 *   | id           | "accord-roster--<uuid>": one id for every version of a coalition's list |
 *   | created      | when version 1 was made; modified: when this version was proposed       |
 *   | version      | 1, 2, ...                                                               |
 *   | previous     | version > 1: lowercase hex SHA-256 of version - 1's canonical form      |
 *   | threshold    | votes the next version needs from members of this one; > members / 2   |
 *   | expires      | the end of this version's vote: votes this node accepts later do not    |
 *   |              | count (for version 1, only informative)                                 |
 *   | members      | sorted by identity_ref, unique: {identity_ref, name, root_keys: [base64  |
 *   |              | of 32-byte Ed25519 public keys, 1..8]}                                  |
 *   | extensions   | {ROSTER_EXT: {"extension_type": "new-sdo"}}                             |
 *
 * A version's hash is SHA-256 of its RFC 8785 form.  A vote is a member's root-key Ed25519
 * signature of PAE(ROSTER_VOTE_TYPE, that canonical form): it covers the exact proposal, so its
 * version number and predecessor hash too, and cannot be replayed into another proposal or round;
 * the media type keeps it apart from every other signature a root key makes.  Votes travel as one
 * JSON line: {"keyid", "member", "roster" (the proposal's hash), "sig" (base64)}.
 *
 * The admission rule (roster_count): version N+1 takes effect when it names N's hash as previous
 * and N+1 as its version, at least threshold(N) distinct members of N voted for it with one of
 * their root keys listed in N (a member counts once whatever number of keys it used; a member N
 * does not list, such as one removed earlier, counts nothing), every member N+1 adds voted with a
 * root key listed in N+1, every counted vote was accepted here before N+1's expires, and
 * threshold(N+1) is more than half of N+1's members.
 *
 * What this file does not do: store rosters or votes, decide on equivocation (two versions N+1
 * that both qualify: store_roster.c), or read the member identities' stored history (member.c).
 */
#include "roster.h"

#include "provenance.h"
#include "sign.h"
#include "store.h"
#include "util/json.h"
#include "util/timestamp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char roster_extdef_json[] =
    "{\"type\":\"extension-definition\",\"spec_version\":\"2.1\","
    "\"id\":\"" ROSTER_EXT "\","
    "\"created_by_ref\":\"" PROV_ACCORD_IDENTITY "\","
    "\"created\":\"2026-11-30T00:00:00.000Z\",\"modified\":\"2026-11-30T00:00:00.000Z\","
    "\"object_marking_refs\":[\"" PROV_TLP_CLEAR "\"],"
    "\"name\":\"accord roster\","
    "\"description\":\"A coalition's membership: versioned lists of members and their root keys; "
    "version N+1 takes effect when threshold(N) members of N voted for it.\","
    "\"schema\":\"{\\\"$schema\\\":\\\"https://json-schema.org/draft/2020-12/schema\\\",\\\"t"
    "ype\\\":\\\"object\\\",\\\"required\\\":[\\\"type\\\",\\\"spec_version\\\",\\\"id\\\",\\\""
    "created\\\",\\\"modified\\\",\\\"version\\\",\\\"threshold\\\",\\\"expires\\\",\\\"membe"
    "rs\\\"],\\\"additionalProperties\\\":false,\\\"properties\\\":{\\\"type\\\":{\\\"const\\\""
    ":\\\"accord-roster\\\"},\\\"spec_version\\\":{\\\"const\\\":\\\"2.1\\\"},\\\"id\\\":{\\\""
    "type\\\":\\\"string\\\",\\\"pattern\\\":\\\"^accord-roster--[0-9a-f-]{36}$\\\"},\\\"crea"
    "ted\\\":{\\\"type\\\":\\\"string\\\"},\\\"modified\\\":{\\\"type\\\":\\\"string\\\"},\\\""
    "version\\\":{\\\"type\\\":\\\"integer\\\",\\\"minimum\\\":1},\\\"previous\\\":{\\\"type\\\""
    ":\\\"string\\\",\\\"pattern\\\":\\\"^[0-9a-f]{64}$\\\"},\\\"threshold\\\":{\\\"type\\\":"
    "\\\"integer\\\",\\\"minimum\\\":1},\\\"expires\\\":{\\\"type\\\":\\\"string\\\"},\\\"mem"
    "bers\\\":{\\\"type\\\":\\\"array\\\",\\\"minItems\\\":1,\\\"items\\\":{\\\"type\\\":\\\""
    "object\\\",\\\"required\\\":[\\\"identity_ref\\\",\\\"name\\\",\\\"root_keys\\\"],\\\"ad"
    "ditionalProperties\\\":false,\\\"properties\\\":{\\\"identity_ref\\\":{\\\"type\\\":\\\""
    "string\\\",\\\"pattern\\\":\\\"^identity--[0-9a-f-]{36}$\\\"},\\\"name\\\":{\\\"type\\\""
    ":\\\"string\\\",\\\"maxLength\\\":255},\\\"root_keys\\\":{\\\"type\\\":\\\"array\\\",\\\""
    "minItems\\\":1,\\\"maxItems\\\":8,\\\"items\\\":{\\\"type\\\":\\\"string\\\",\\\"content"
    "Encoding\\\":\\\"base64\\\"}}}}},\\\"extensions\\\":{\\\"type\\\":\\\"object\\\"}}}\","
    "\"version\":\"1.0.0\","
    "\"extension_types\":[\"new-sdo\"]}";

static int hex_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return s[n] == '\0';
}

static int ts_ok(const char *s)
{
    ts_value t;
    return s && strlen(s) < 40 && ts_parse(s, &t) == 0;
}

static int64_t ts_us(const char *s)
{
    ts_value t;
    return ts_parse(s, &t) == 0 ? t.sec * 1000000 + t.nsec / 1000 : 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Format                                                                                       */

static int parse_member(const ajson_value *v, size_t i, roster_member *m, accord_error *err)
{
    const char *id = ajson_str(ajson_get(v, "identity_ref"));
    const char *name = ajson_str(ajson_get(v, "name"));
    const ajson_value *keys = ajson_get(v, "root_keys");
    memset(m, 0, sizeof(*m));
    if (!v || v->type != AJSON_OBJECT || v->len != 3)
        return accord_err_set(err, ACCORD_EINVAL,
                              "members[%zu]: an object of identity_ref, name and root_keys", i);
    if (!id || strlen(id) != MEMBER_ID_LEN || strncmp(id, "identity--", 10) != 0)
        return accord_err_set(err, ACCORD_EINVAL, "members[%zu].identity_ref: not an identity id",
                              i);
    if (!name || strlen(name) >= sizeof(m->name))
        return accord_err_set(err, ACCORD_EINVAL, "members[%zu].name: a string of < 256 bytes", i);
    if (!keys || keys->type != AJSON_ARRAY || keys->len < 1 || keys->len > ROSTER_MAX_KEYS)
        return accord_err_set(err, ACCORD_EINVAL, "members[%zu].root_keys: 1 to %d keys", i,
                              ROSTER_MAX_KEYS);
    memcpy(m->id, id, MEMBER_ID_LEN + 1);
    memcpy(m->name, name, strlen(name) + 1);
    for (size_t k = 0; k < keys->len; k++) {
        const char *b64 = ajson_str(&keys->u.items[k]);
        if (!b64 || sign_b64_decode(b64, strlen(b64), m->keys[k], ACCORD_SIGN_PUBLIC_LEN))
            return accord_err_set(err, ACCORD_EINVAL,
                                  "members[%zu].root_keys[%zu]: not base64 of 32 bytes", i, k);
        for (size_t j = 0; j < k; j++)
            if (memcmp(m->keys[j], m->keys[k], ACCORD_SIGN_PUBLIC_LEN) == 0)
                return accord_err_set(err, ACCORD_EINVAL,
                                      "members[%zu].root_keys[%zu]: listed twice", i, k);
    }
    m->nkeys = keys->len;
    return 0;
}

static const char *const known_props[] = {"type",     "spec_version", "id",        "created",
                                          "modified", "version",      "previous",  "threshold",
                                          "expires",  "members",      "extensions"};

static int parse_top(const ajson_value *o, roster *r, accord_error *err)
{
    for (size_t i = 0; i < o->len; i++) {
        size_t k = 0;
        while (k < sizeof(known_props) / sizeof(known_props[0]) &&
               strcmp(known_props[k], o->u.members[i].key) != 0)
            k++;
        if (k == sizeof(known_props) / sizeof(known_props[0]))
            return accord_err_set(err, ACCORD_EINVAL, "%.80s: not a roster property",
                                  o->u.members[i].key);
    }
    const char *type = ajson_str(ajson_get(o, "type")), *id = ajson_str(ajson_get(o, "id"));
    const char *spec = ajson_str(ajson_get(o, "spec_version"));
    const char *prev = ajson_str(ajson_get(o, "previous"));
    const char *cr = ajson_str(ajson_get(o, "created")), *mod = ajson_str(ajson_get(o, "modified"));
    const char *exp = ajson_str(ajson_get(o, "expires"));
    const ajson_value *ext = ajson_get(ajson_get(o, "extensions"), ROSTER_EXT);
    const char *etype = ajson_str(ajson_get(ext, "extension_type"));
    if (!type || strcmp(type, ROSTER_TYPE) != 0)
        return accord_err_set(err, ACCORD_EINVAL, "type: not " ROSTER_TYPE);
    if (!spec || strcmp(spec, "2.1") != 0)
        return accord_err_set(err, ACCORD_EINVAL, "spec_version: must be 2.1");
    if (!id || strncmp(id, ROSTER_TYPE "--", 15) != 0 || strlen(id) != 15 + 36)
        return accord_err_set(err, ACCORD_EINVAL, "id: not an " ROSTER_TYPE " id");
    if (!ts_ok(cr) || !ts_ok(mod) || !ts_ok(exp))
        return accord_err_set(err, ACCORD_EINVAL, "%s: not a timestamp",
                              !ts_ok(cr)    ? "created"
                              : !ts_ok(mod) ? "modified"
                                            : "expires");
    if (!etype || strcmp(etype, "new-sdo") != 0 || ajson_get(o, "extensions")->len != 1)
        return accord_err_set(err, ACCORD_EINVAL, "extensions: exactly {%s: new-sdo}", ROSTER_EXT);
    if (!ajson_int(ajson_get(o, "version"), &r->version) || r->version < 1)
        return accord_err_set(err, ACCORD_EINVAL, "version: an integer >= 1");
    if (r->version == 1 ? prev != NULL
                        : !prev || strlen(prev) != ROSTER_HASH_HEX || !hex_ok(prev, 64))
        return accord_err_set(err, ACCORD_EINVAL,
                              "previous: the predecessor's hash (64 hex digits), only after "
                              "version 1");
    snprintf(r->id, sizeof(r->id), "%s", id);
    snprintf(r->created, sizeof(r->created), "%s", cr);
    snprintf(r->modified, sizeof(r->modified), "%s", mod);
    snprintf(r->expires, sizeof(r->expires), "%s", exp);
    snprintf(r->previous, sizeof(r->previous), "%s", prev ? prev : "");
    return 0;
}

int roster_parse(const char *text, size_t len, roster *r, buf *canon, accord_error *err)
{
    ajson_arena a;
    ajson_error jerr;
    char *jcs = NULL;
    size_t jlen = 0;
    memset(r, 0, sizeof(*r));
    ajson_arena_init(&a, 1 << 24);
    const ajson_value *o = ajson_parse(&a, text, len, &jerr);
    int rc = 0;
    if (!o || o->type != AJSON_OBJECT) {
        rc = accord_err_set(err, ACCORD_EINVAL, "roster: %s at byte %zu",
                            o ? "not a JSON object" : jerr.msg, o ? (size_t)0 : jerr.offset);
        goto out;
    }
    if ((rc = parse_top(o, r, err)))
        goto out;
    const ajson_value *ms = ajson_get(o, "members");
    if (!ms || ms->type != AJSON_ARRAY || ms->len < 1 || ms->len > ROSTER_MAX_MEMBERS) {
        rc = accord_err_set(err, ACCORD_EINVAL, "members: 1 to %d members", ROSTER_MAX_MEMBERS);
        goto out;
    }
    for (size_t i = 0; i < ms->len && !rc; i++) {
        rc = parse_member(&ms->u.items[i], i, &r->m[i], err);
        if (!rc && i && strcmp(r->m[i - 1].id, r->m[i].id) >= 0)
            rc = accord_err_set(err, ACCORD_EINVAL,
                                "members[%zu]: members must be sorted by identity_ref, unique", i);
        r->n = i + 1;
    }
    for (size_t i = 0; i < r->n && !rc; i++) /* a root key belongs to one member */
        for (size_t j = 0; j < i && !rc; j++)
            for (size_t k = 0; k < r->m[i].nkeys && !rc; k++)
                for (size_t l = 0; l < r->m[j].nkeys && !rc; l++)
                    if (memcmp(r->m[i].keys[k], r->m[j].keys[l], ACCORD_SIGN_PUBLIC_LEN) == 0)
                        rc = accord_err_set(err, ACCORD_EINVAL,
                                            "members[%zu].root_keys[%zu]: also a key of %s", i, k,
                                            r->m[j].id);
    if (!rc && (!ajson_int(ajson_get(o, "threshold"), &r->threshold) || r->threshold < 1 ||
                r->threshold > (int64_t)r->n))
        rc = accord_err_set(err, ACCORD_EINVAL, "threshold: an integer from 1 to the members");
    if (!rc && (rc = accord_jcs(text, len, &jcs, &jlen, err)))
        goto out;
    if (!rc) {
        uint8_t h[SIGN_SHA256_LEN];
        sign_sha256(jcs, jlen, h);
        sign_hex(h, sizeof(h), r->hash);
        if (canon && buf_add(canon, jcs, jlen))
            rc = accord_err_set(err, ACCORD_ENOMEM, "roster: out of memory");
    }
out:
    free(jcs);
    ajson_arena_free(&a);
    if (rc && err && strncmp(err->msg, "roster", 6) != 0) {
        char m[sizeof(err->msg)];
        snprintf(m, sizeof(m), "%s", err->msg);
        accord_err_set(err, rc, "roster %s: %s", r->id[0] ? r->id : "(no id)", m);
    }
    return rc;
}

int roster_write(roster *r, buf *out, accord_error *err)
{
    buf b;
    buf_init(&b, 1 << 22);
    buf_printf(&b,
               "{\"type\":\"%s\",\"spec_version\":\"2.1\",\"id\":\"%s\",\"created\":\"%s\","
               "\"modified\":\"%s\",\"version\":%lld,",
               ROSTER_TYPE, r->id, r->created, r->modified, (long long)r->version);
    if (r->version > 1)
        buf_printf(&b, "\"previous\":\"%s\",", r->previous);
    buf_printf(&b, "\"threshold\":%lld,\"expires\":\"%s\",\"members\":[", (long long)r->threshold,
               r->expires);
    for (size_t i = 0; i < r->n; i++) {
        buf_printf(&b, "%s{\"identity_ref\":\"%s\",\"name\":", i ? "," : "", r->m[i].id);
        buf_json_str(&b, r->m[i].name);
        buf_adds(&b, ",\"root_keys\":[");
        for (size_t k = 0; k < r->m[i].nkeys; k++) {
            char b64[SIGN_B64_LEN(ACCORD_SIGN_PUBLIC_LEN) + 1];
            sign_b64_encode(r->m[i].keys[k], ACCORD_SIGN_PUBLIC_LEN, b64, sizeof(b64));
            buf_printf(&b, "%s\"%s\"", k ? "," : "", b64);
        }
        buf_adds(&b, "]}");
    }
    buf_printf(&b, "],\"extensions\":{\"%s\":{\"extension_type\":\"new-sdo\"}}}", ROSTER_EXT);
    if (b.failed) {
        buf_free(&b);
        return accord_err_set(err, ACCORD_ENOMEM, "roster: out of memory");
    }
    roster *tmp = malloc(sizeof(*tmp));
    int rc = tmp ? roster_parse(b.p, b.len, tmp, out, err)
                 : accord_err_set(err, ACCORD_ENOMEM, "roster: out of memory");
    if (!rc)
        memcpy(r->hash, tmp->hash, sizeof(r->hash));
    free(tmp);
    buf_free(&b);
    return rc;
}

const roster_member *roster_find(const roster *r, const char *id)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->m[i].id, id) == 0)
            return &r->m[i];
    return NULL;
}

const roster_member *roster_find_key(const roster *r, const char *keyid, size_t *key)
{
    for (size_t i = 0; i < r->n; i++)
        for (size_t k = 0; k < r->m[i].nkeys; k++) {
            char kid[MEMBER_KEYID_HEX + 1];
            member_keyid(r->m[i].keys[k], kid);
            if (strcmp(kid, keyid) == 0) {
                *key = k;
                return &r->m[i];
            }
        }
    return NULL;
}

int roster_add_identity(roster *r, const member_identity *m, accord_error *err)
{
    if (roster_find(r, m->id))
        return accord_err_set(err, ACCORD_EINVAL, "%s is already a member", m->id);
    if (r->n == ROSTER_MAX_MEMBERS)
        return accord_err_set(err, ACCORD_ELIMIT, "a roster holds at most %d members",
                              ROSTER_MAX_MEMBERS);
    roster_member nm = {0};
    memcpy(nm.id, m->id, sizeof(nm.id));
    snprintf(nm.name, sizeof(nm.name), "%s", m->name);
    for (size_t i = 0; i < m->nkeys && nm.nkeys < ROSTER_MAX_KEYS; i++)
        if (m->keys[i].purpose == MEMBER_ROOT && m->keys[i].status == MEMBER_ACTIVE)
            memcpy(nm.keys[nm.nkeys++], m->keys[i].pk, ACCORD_SIGN_PUBLIC_LEN);
    if (nm.nkeys == 0)
        return accord_err_set(err, ACCORD_EINVAL, "%s has no active root key", m->id);
    size_t at = 0;
    while (at < r->n && strcmp(r->m[at].id, nm.id) < 0)
        at++;
    memmove(&r->m[at + 1], &r->m[at], (r->n - at) * sizeof(r->m[0]));
    r->m[at] = nm;
    r->n++;
    return 0;
}

int roster_remove(roster *r, const char *org, accord_error *err)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->m[i].id, org) == 0 || strcmp(r->m[i].name, org) == 0) {
            memmove(&r->m[i], &r->m[i + 1], (r->n - i - 1) * sizeof(r->m[0]));
            r->n--;
            return 0;
        }
    return accord_err_set(err, ACCORD_ENOTFOUND, "%s is not a member of roster version %lld", org,
                          (long long)r->version);
}

/* ------------------------------------------------------------------------------------------ */
/* Votes                                                                                        */

int roster_vote_sign(const roster *p, const char *canon, size_t len, const accord_sign_key *key,
                     const char *member, roster_vote *out, accord_error *err)
{
    uint8_t pk[ACCORD_SIGN_PUBLIC_LEN];
    memset(out, 0, sizeof(*out));
    accord_sign_key_public(key, pk);
    member_keyid(pk, out->keyid);
    memcpy(out->roster, p->hash, sizeof(out->roster));
    snprintf(out->member, sizeof(out->member), "%s", member);
    if (accord_sign_dsse(key, ROSTER_VOTE_TYPE, canon, len, out->sig))
        return accord_err_set(err, ACCORD_ENOMEM, "roster: out of memory signing a vote");
    return 0;
}

int roster_vote_write(const roster_vote *v, buf *out)
{
    char b64[SIGN_B64_LEN(ACCORD_SIGN_SIG_LEN) + 1];
    sign_b64_encode(v->sig, sizeof(v->sig), b64, sizeof(b64));
    return buf_printf(out, "{\"keyid\":\"%s\",\"member\":\"%s\",\"roster\":\"%s\",\"sig\":\"%s\"}",
                      v->keyid, v->member, v->roster, b64)
               ? ACCORD_ENOMEM
               : 0;
}

int roster_vote_parse(const char *text, size_t len, roster_vote *out, accord_error *err)
{
    ajson_arena a;
    ajson_error jerr;
    memset(out, 0, sizeof(*out));
    ajson_arena_init(&a, 1 << 20);
    const ajson_value *o = ajson_parse(&a, text, len, &jerr);
    const char *kid = ajson_str(ajson_get(o, "keyid")), *mem = ajson_str(ajson_get(o, "member"));
    const char *ros = ajson_str(ajson_get(o, "roster")), *sig = ajson_str(ajson_get(o, "sig"));
    int rc = 0;
    if (!o)
        rc = accord_err_set(err, ACCORD_EINVAL, "vote: %s at byte %zu", jerr.msg, jerr.offset);
    else if (!kid || strlen(kid) != MEMBER_KEYID_HEX || !hex_ok(kid, MEMBER_KEYID_HEX))
        rc = accord_err_set(err, ACCORD_EINVAL, "vote: keyid: 32 hex digits");
    else if (!mem || strlen(mem) != MEMBER_ID_LEN || strncmp(mem, "identity--", 10) != 0)
        rc = accord_err_set(err, ACCORD_EINVAL, "vote: member: an identity id");
    else if (!ros || strlen(ros) != ROSTER_HASH_HEX || !hex_ok(ros, ROSTER_HASH_HEX))
        rc = accord_err_set(err, ACCORD_EINVAL, "vote: roster: the proposal's hash (64 hex)");
    else if (!sig || sign_b64_decode(sig, strlen(sig), out->sig, ACCORD_SIGN_SIG_LEN))
        rc = accord_err_set(err, ACCORD_EINVAL, "vote: sig: base64 of 64 bytes");
    if (!rc) {
        memcpy(out->keyid, kid, sizeof(out->keyid));
        memcpy(out->member, mem, sizeof(out->member));
        memcpy(out->roster, ros, sizeof(out->roster));
    }
    ajson_arena_free(&a);
    return rc;
}

int roster_vote_check(const roster *cur, const roster *p, const char *canon, size_t len,
                      const roster_vote *v, int *is_new, accord_error *err)
{
    size_t k = 0;
    *is_new = 0;
    if (strcmp(v->roster, p->hash) != 0)
        return accord_err_set(err, ACCORD_EINVAL, "vote by %s is for another proposal (%.12s)",
                              v->member, v->roster);
    const roster_member *m = roster_find_key(cur, v->keyid, &k);
    if (!m) {
        m = roster_find_key(p, v->keyid, &k);
        if (!m || roster_find(cur, m->id))
            return accord_err_set(err, ACCORD_EINVAL,
                                  "vote by %s: key %s is not a root key of a member of version "
                                  "%lld, nor of a member version %lld adds",
                                  v->member, v->keyid, (long long)cur->version,
                                  (long long)p->version);
        *is_new = 1;
    }
    if (strcmp(m->id, v->member) != 0)
        return accord_err_set(err, ACCORD_EINVAL, "vote by %s: key %s belongs to %s", v->member,
                              v->keyid, m->id);
    if (accord_sign_dsse_verify(m->keys[k], ROSTER_VOTE_TYPE, canon, len, v->sig))
        return accord_err_set(err, ACCORD_EINVAL,
                              "vote by %s (key %s): the signature does not verify for proposal "
                              "%.12s (version %lld)",
                              v->member, v->keyid, p->hash, (long long)p->version);
    return 0;
}

int roster_count(const roster *cur, const roster *p, const char *canon, size_t len,
                 const roster_vote *votes, size_t n, roster_tally *out, accord_error *err)
{
    (void)err;
    memset(out, 0, sizeof(*out));
    char voted_cur[ROSTER_MAX_MEMBERS] = {0}, voted_new[ROSTER_MAX_MEMBERS] = {0};
    out->successor = p->version == cur->version + 1 && strcmp(p->previous, cur->hash) == 0;
    out->needed = (size_t)cur->threshold;
    int64_t deadline = ts_us(p->expires);
    for (size_t i = 0; i < p->n; i++)
        out->new_members += roster_find(cur, p->m[i].id) == NULL;
    for (size_t i = 0; i < n; i++) {
        int is_new;
        if (roster_vote_check(cur, p, canon, len, &votes[i], &is_new, NULL) != 0 ||
            votes[i].added_us >= deadline) {
            out->ignored++;
            continue;
        }
        const roster *r = is_new ? p : cur;
        char *flags = is_new ? voted_new : voted_cur;
        size_t at = (size_t)(roster_find(r, votes[i].member) - r->m);
        if (flags[at]) {
            out->ignored++; /* a member counts once, whatever keys it used */
            continue;
        }
        flags[at] = 1;
        if (is_new)
            out->new_voted++;
        else
            out->votes++;
    }
    out->threshold_ok = 2 * p->threshold > (int64_t)p->n && p->threshold <= (int64_t)p->n;
    out->effective = out->successor && out->votes >= out->needed &&
                     out->new_voted == out->new_members && out->threshold_ok;
    return 0;
}
