/*
 * test_member.c - this node's organisation and members' keys (src/member.c).
 *
 * 1. keyid: SHA-256 of the public key, first 16 bytes as lowercase hex, checked against a value
 *    computed independently (sha256sum of the RFC 8032 TEST 1 public key).
 * 2. member init: the three seed files exist with mode 0600, the root seed elsewhere with
 *    --root-out, an existing node.seed is adopted (same public key), the stored identity lists
 *    root/signing/node keys whose public halves are the seeds', a second init is refused and
 *    writes nothing.
 * 3. rotation: the signing key is retired, a new one delegated, the old seed kept aside; revoking
 *    a key marks it compromised with the date_added of the revoking version as status_us.
 * 4. member_parse: a delegation copied from another key, a keyid that is not the key's, and a
 *    list without a root key are refused, naming the key.
 */
#include "member.h"
#include "t.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[256];

static int mode_of(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int)(st.st_mode & 0777) : -1;
}

static void test_keyid(void)
{
    /* RFC 8032 TEST 1 public key; keyid = sha256(pk)[0..16) in hex, computed with sha256sum */
    static const uint8_t pk[32] = {0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe,
                                   0xd3, 0xc9, 0x64, 0x07, 0x3a, 0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6,
                                   0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a};
    char id[MEMBER_KEYID_HEX + 1];
    member_keyid(pk, id);
    CHECK_STR(id, "21fe31dfa154a261626bf854046fd227");
    CHECK(strlen(id) == 32);
}

static void pk_of(const char *path, uint8_t pk[32])
{
    accord_sign_key *k = NULL;
    memset(pk, 0, 32);
    if (accord_sign_key_load(path, &k, NULL) == 0)
        accord_sign_key_public(k, pk);
    accord_sign_key_free(k);
}

static void test_init(accord_store *s, const char *data, member_identity *m)
{
    char keys[700], node[800], rootp[800], signp[800], other[800];
    snprintf(keys, sizeof(keys), "%s/keys", data);
    snprintf(node, sizeof(node), "%s/node.seed", keys);
    snprintf(signp, sizeof(signp), "%s/signing.seed", keys);
    snprintf(rootp, sizeof(rootp), "%s/root.seed", keys);
    snprintf(other, sizeof(other), "%s/offline-root.seed", tmpdir);
    mkdir(keys, 0700);
    /* a node key made before any member (as the audit log does) */
    accord_sign_key *nk = NULL;
    uint8_t node_pk[32], pk[32];
    CHECK(accord_sign_key_generate(&nk) == 0);
    CHECK(accord_sign_key_save(nk, node, NULL) == 0);
    accord_sign_key_public(nk, node_pk);
    accord_sign_key_free(nk);

    accord_error err = {0};
    member_init_options o = {.name = "ACME CERT", .root_out = other};
    CHECK(member_init(s, data, &o, m, &err) == 0);
    CHECK(mode_of(other) == 0600);
    CHECK(mode_of(signp) == 0600);
    CHECK(mode_of(node) == 0600);
    CHECK(access(rootp, F_OK) != 0); /* the root seed went to --root-out */
    CHECK(m->nkeys == 3);
    CHECK_STR(m->name, "ACME CERT");
    CHECK(strncmp(m->id, "identity--", 10) == 0);
    const member_key *k = member_key_active(m, MEMBER_NODE);
    CHECK(k && memcmp(k->pk, node_pk, 32) == 0); /* adopted, not replaced */
    pk_of(signp, pk);
    k = member_key_active(m, MEMBER_SIGNING);
    CHECK(k && memcmp(k->pk, pk, 32) == 0);
    pk_of(other, pk);
    k = member_key_active(m, MEMBER_ROOT);
    CHECK(k && memcmp(k->pk, pk, 32) == 0);
    char id[MEMBER_ID_LEN + 1];
    CHECK(member_self_id(s, id, sizeof(id)) == 0);
    CHECK_STR(id, m->id);

    /* a second init is refused and writes no key file */
    member_identity m2;
    o.root_out = NULL;
    CHECK(member_init(s, data, &o, &m2, &err) == ACCORD_EINVAL);
    CHECK(access(rootp, F_OK) != 0);
}

static void test_rotate(accord_store *s, const char *data, const member_identity *m0)
{
    char root[700];
    snprintf(root, sizeof(root), "%s/offline-root.seed", tmpdir);
    member_identity m;
    accord_error err = {0};
    const member_key *old = member_key_active(m0, MEMBER_SIGNING);
    char oldid[MEMBER_KEYID_HEX + 1];
    snprintf(oldid, sizeof(oldid), "%s", old->keyid);
    usleep(2000); /* versions differ by their millisecond */
    /* without the root key (kept offline) nothing changes */
    CHECK(member_update(s, data, NULL, MEMBER_SIGNING, NULL, &m, &err) == ACCORD_EIO);
    CHECK(member_update(s, data, root, MEMBER_SIGNING, NULL, &m, &err) == 0);
    CHECK(m.nkeys == 4);
    const member_key *k = member_key_find(&m, oldid);
    CHECK(k && k->status == MEMBER_RETIRED);
    k = member_key_active(&m, MEMBER_SIGNING);
    CHECK(k && strcmp(k->keyid, oldid) != 0);
    char aside[800];
    snprintf(aside, sizeof(aside), "%s/keys/signing.seed.%s", data, oldid);
    CHECK(mode_of(aside) == 0600);
    usleep(2000);
    CHECK(member_update(s, data, root, 0, oldid, &m, &err) == 0);
    k = member_key_find(&m, oldid);
    CHECK(k && k->status == MEMBER_COMPROMISED);
    CHECK(k && k->status_us == m.added_us); /* applied by the newest version */
    const member_key *r = member_key_active(&m, MEMBER_ROOT);
    CHECK(r && r->status_us < m.added_us); /* active since the first version */
    CHECK(member_update(s, data, root, 0, "00000000000000000000000000000000", &m, &err) ==
          ACCORD_ENOTFOUND);
}

static int t_dump(void *ud, const accord_record *r)
{
    fwrite(r->body, 1, r->body_len, ud);
    return 0;
}

/* Edits the stored identity's JSON and parses it. */
static int parse_edited(accord_store *s, const char *id, const char *from, const char *to)
{
    accord_error err;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    int rc = -1;
    if (!f)
        return -1;
    if (accord_store_get(s, id, 0, t_dump, f, &err) != 0) {
        fclose(f);
        free(text);
        return -1;
    }
    fclose(f);
    char *at = from ? strstr(text, from) : NULL;
    if (from && at)
        memcpy(at, to, strlen(to));
    ajson_arena a;
    ajson_error jerr;
    ajson_arena_init(&a, 0);
    const ajson_value *v = ajson_parse(&a, text, len, &jerr);
    member_identity m;
    rc = v ? member_parse(v, &m, &err) : -2;
    ajson_arena_free(&a);
    free(text);
    return rc;
}

static void test_parse(accord_store *s, const member_identity *m)
{
    CHECK(parse_edited(s, m->id, NULL, NULL) == 0);
    /* a keyid that is not the key's */
    char from[64], to[64];
    snprintf(from, sizeof(from), "\"keyid\":\"%s", m->keys[1].keyid);
    snprintf(to, sizeof(to), "\"keyid\":\"%s", m->keys[2].keyid);
    CHECK(parse_edited(s, m->id, from, to) == ACCORD_EINVAL);
    /* a root purpose turned into signing: no root key left, delegations fail */
    CHECK(parse_edited(s, m->id, "\"purpose\":\"root\"", "\"purpose\":\"node\"") == ACCORD_EINVAL);
}

int main(void)
{
    if (t_mkdtemp(tmpdir, sizeof(tmpdir), "member"))
        return 1;
    char data[600];
    snprintf(data, sizeof(data), "%s/data", tmpdir);
    accord_store *s = NULL;
    accord_error err;
    test_keyid();
    if (accord_store_open(data, 0, &s, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    member_identity m;
    char id[MEMBER_ID_LEN + 1];
    CHECK(member_self_id(s, id, sizeof(id)) == ACCORD_ENOTFOUND);
    test_init(s, data, &m);
    test_rotate(s, data, &m);
    test_parse(s, &m);
    char node[64];
    CHECK(accord_node_identity(data, node, sizeof(node)) == 0);
    CHECK_STR(node, m.id);
    accord_store_close(s);
    t_rmtree(tmpdir);
    return t_done();
}
