/*
 * test_provenance.c - the signature extension (src/provenance.c) without a store's CLI:
 *
 * 1. Single signatures: an object signed by a member's signing key verifies as authored when its
 *    created_by_ref is that member, endorsed otherwise; one changed byte of content, a changed
 *    marking, and a signer_ref naming another member are invalid; the verification cache is hit
 *    the second time.
 * 2. Batch signatures: 500 objects under one Merkle root; each verifies with its own path, and
 *    only one Ed25519 verification is done for the batch (the cache is hit 499 times); an object
 *    swapped into another's leaf index or changed after signing is invalid.
 * 3. The stored form: the same signature set added in two orders serialises to the same bytes,
 *    and parsing it gives back the content's canonical bytes; the importer's one-pass forms
 *    (prov_forms, prov_stored) give exactly prov_canonical's and prov_write's bytes, for single
 *    and batch signatures, with and without other extensions beside the signature's.
 * 4. The shipped extension-definitions: recognised in any JSON layout, not with one byte of them
 *    changed, and no other object is taken for them.
 */
#include "member.h"
#include "provenance.h"
#include "roster.h"
#include "t.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/accord-prov-XXXXXX";

typedef struct obj {
    ajson_arena a;
    const ajson_value *content;
    buf canon;
    uint8_t hash[32];
    prov_sigs sigs;
} obj;

static int obj_load(obj *o, const char *json)
{
    ajson_error jerr;
    accord_error err;
    memset(o, 0, sizeof(*o));
    ajson_arena_init(&o->a, 0);
    buf_init(&o->canon, 1 << 20);
    const ajson_value *v = ajson_parse(&o->a, json, strlen(json), &jerr);
    if (!v || prov_parse(&o->a, v, &o->content, &o->sigs, &err) ||
        prov_canonical(o->content, &o->canon, &err))
        return -1;
    prov_object_hash(o->canon.p, o->canon.len, o->hash);
    return 0;
}

/* prov_forms + prov_stored of o with sigs must be prov_canonical + prov_write, byte for byte. */
static int forms_match(obj *o, const prov_sigs *sigs)
{
    accord_error err;
    prov_form f;
    buf w, st;
    buf_init(&f.canon, 1 << 20);
    buf_init(&f.skel, 1 << 20);
    buf_init(&w, 1 << 20);
    buf_init(&st, 1 << 20);
    int ok = prov_forms(&o->a, o->content, &f, &err) == 0 && f.canon.len == o->canon.len &&
             memcmp(f.canon.p, o->canon.p, o->canon.len) == 0 &&
             prov_write(&o->a, o->content, sigs, &w, &err) == 0 &&
             prov_stored(&f, sigs, &st, &err) == 0 && st.len == w.len &&
             memcmp(st.p, w.p, w.len) == 0;
    buf_free(&f.canon);
    buf_free(&f.skel);
    buf_free(&w);
    buf_free(&st);
    return ok;
}

static void obj_free(obj *o)
{
    ajson_arena_free(&o->a);
    buf_free(&o->canon);
}

static prov_status verify(prov_verifier *pv, obj *o, const char *by, const prov_sigs *s)
{
    prov_result res;
    accord_error err;
    if (prov_verify(pv, o->canon.p, o->canon.len, o->hash, by, s, accord_timestamp_now(), &res,
                    &err))
        return (prov_status)-1;
    return res.status;
}

static void indicator(char *out, size_t n, int i, const char *by, const char *ip)
{
    snprintf(out, n,
             "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--00000000-0000-"
             "4000-8000-%012d\",\"created\":\"2026-01-01T00:00:00.000Z\",\"modified\":\"2026-01-"
             "01T00:00:00.000Z\",\"created_by_ref\":\"%s\",\"pattern\":\"[ipv4-addr:value = "
             "'%s']\",\"pattern_type\":\"stix\",\"valid_from\":\"2026-01-01T00:00:00Z\","
             "\"object_marking_refs\":[\"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
             "\"]}",
             i, by, ip);
}

int main(void)
{
    if (!mkdtemp(tmpdir))
        return 1;
    char data[600], json[1024];
    snprintf(data, sizeof(data), "%s/data", tmpdir);
    accord_store *s = NULL;
    accord_error err;
    if (accord_store_open(data, 0, &s, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    member_identity me;
    member_init_options mo = {.name = "Signer"};
    CHECK(member_init(s, data, &mo, &me, &err) == 0);
    accord_sign_key *key = NULL;
    CHECK(member_key_load(data, MEMBER_SIGNING, NULL, &key, &err) == 0);
    const member_key *sk = member_key_active(&me, MEMBER_SIGNING);
    prov_verifier *pv = NULL;
    CHECK(prov_verifier_new(s, &pv) == 0);

    /* 1. single */
    obj o, bad;
    indicator(json, sizeof(json), 1, me.id, "203.0.113.9");
    CHECK(obj_load(&o, json) == 0);
    prov_sigs one = {0};
    CHECK(prov_sign(key, me.id, sk->keyid, o.canon.p, o.canon.len, &one.v[0]) == 0);
    one.n = 1;
    CHECK(verify(pv, &o, me.id, &one) == PROV_AUTHORED);
    uint64_t hits = prov_verifier_hits(pv);
    CHECK(verify(pv, &o, "identity--11111111-1111-4111-8111-111111111111", &one) == PROV_ENDORSED);
    CHECK(prov_verifier_hits(pv) == hits + 1);
    indicator(json, sizeof(json), 1, me.id, "203.0.113.8");
    CHECK(obj_load(&bad, json) == 0);
    CHECK(verify(pv, &bad, me.id, &one) == PROV_INVALID);
    obj_free(&bad);
    indicator(json, sizeof(json), 1, me.id, "203.0.113.9");
    char *clear = strstr(json, "e828b379-4e03-4974-9ac4-e53a884c97c1");
    memcpy(clear, "94868c89-83c2-464b-929b-a1a8aa3c8487", 36); /* RED -> CLEAR */
    CHECK(obj_load(&bad, json) == 0);
    CHECK(verify(pv, &bad, me.id, &one) == PROV_INVALID);
    obj_free(&bad);
    prov_sigs swapped = one;
    memcpy(swapped.v[0].signer_ref, "identity--11111111-1111-4111-8111-111111111111",
           MEMBER_ID_LEN + 1);
    CHECK(verify(pv, &o, me.id, &swapped) == PROV_UNVERIFIED); /* an unknown identity */
    /* 3. the stored form is independent of the order signatures arrived in */
    prov_sigs two = one;
    prov_sig other = one.v[0];
    memcpy(other.keyid, "00000000000000000000000000000000", 33);
    prov_sigs_add(&two, &other);
    prov_sigs rev = {0};
    prov_sigs_add(&rev, &other);
    prov_sigs_add(&rev, &one.v[0]);
    buf w1, w2;
    buf_init(&w1, 1 << 20);
    buf_init(&w2, 1 << 20);
    CHECK(prov_write(&o.a, o.content, &two, &w1, &err) == 0);
    CHECK(prov_write(&o.a, o.content, &rev, &w2, &err) == 0);
    CHECK(w1.len == w2.len && memcmp(w1.p, w2.p, w1.len) == 0);
    CHECK(forms_match(&o, &two) && forms_match(&o, &rev) && forms_match(&o, &one));
    prov_sigs none = {0};
    CHECK(forms_match(&o, &none));
    obj ext; /* another extension beside the signature's, and \u escapes in the content */
    CHECK(obj_load(&ext, "{\"type\":\"note\",\"id\":\"note--1\",\"content\":\"a\\u0001\\\"b\","
                         "\"extensions\":{\"zz\":{\"x\":1},\"aa\":{\"y\":[1.5,-0,true,null]}}}") ==
          0);
    CHECK(forms_match(&ext, &two) && forms_match(&ext, &none));
    obj_free(&ext);
    obj back;
    CHECK(obj_load(&back, w1.p) == 0);
    CHECK(back.sigs.n == 2 && back.canon.len == o.canon.len &&
          memcmp(back.canon.p, o.canon.p, o.canon.len) == 0);
    obj_free(&back);
    buf_free(&w1);
    buf_free(&w2);
    obj_free(&o);

    /* 2. a batch of 500 */
    enum { N = 500 };
    obj *objs = calloc(N, sizeof(*objs));
    uint8_t *hashes = malloc(N * 32);
    prov_sig *bs = calloc(N, sizeof(*bs));
    for (int i = 0; i < N; i++) {
        char ip[32];
        snprintf(ip, sizeof(ip), "198.51.%d.%d", i / 256, i % 256);
        indicator(json, sizeof(json), i, me.id, ip);
        CHECK(obj_load(&objs[i], json) == 0);
        memcpy(hashes + 32 * i, objs[i].hash, 32);
    }
    CHECK(prov_sign_batch(key, me.id, sk->keyid, hashes, N, bs) == 0);
    hits = prov_verifier_hits(pv);
    int ok = 0;
    for (int i = 0; i < N; i++) {
        prov_sigs one_b = {.n = 1};
        one_b.v[0] = bs[i];
        ok += verify(pv, &objs[i], me.id, &one_b) == PROV_AUTHORED;
    }
    CHECK(ok == N);
    CHECK(prov_verifier_hits(pv) == hits + N - 1); /* one Ed25519 verification per batch */
    prov_sigs batch_two = {.n = 1};
    batch_two.v[0] = bs[N - 1];
    prov_sigs_add(&batch_two, &other);
    CHECK(forms_match(&objs[N - 1], &batch_two));
    prov_sigs wrong = {.n = 1};
    wrong.v[0] = bs[7]; /* object 8 presented with object 7's leaf */
    CHECK(verify(pv, &objs[8], me.id, &wrong) == PROV_INVALID);
    indicator(json, sizeof(json), 3, me.id, "192.0.2.1");
    CHECK(obj_load(&bad, json) == 0);
    wrong.v[0] = bs[3];
    CHECK(verify(pv, &bad, me.id, &wrong) == PROV_INVALID);
    obj_free(&bad);
    for (int i = 0; i < N; i++)
        obj_free(&objs[i]);

    /* 4. the shipped extension-definitions pass a relay unsigned only as the exact shipped text
     * (in any JSON layout): one changed byte, or another type, is not them */
    const char *const shipped[] = {prov_sig_extdef_json, prov_keys_extdef_json, roster_extdef_json};
    for (size_t i = 0; i < 3; i++) {
        ajson_arena sa;
        ajson_error je;
        size_t len = strlen(shipped[i]);
        char *copy = malloc(len + 2);
        ajson_arena_init(&sa, 0);
        CHECK(prov_is_shipped(ajson_parse(&sa, shipped[i], len, &je)));
        copy[0] = ' '; /* another layout: still the same object */
        memcpy(copy + 1, shipped[i], len + 1);
        CHECK(prov_is_shipped(ajson_parse(&sa, copy, len + 1, &je)));
        char *name = strstr(copy, "\"name\":\"accord");
        CHECK(name != NULL);
        name[9] = 'A';
        CHECK(!prov_is_shipped(ajson_parse(&sa, copy, len + 1, &je)));
        free(copy);
        ajson_arena_free(&sa);
    }
    indicator(json, sizeof(json), 1, me.id, "203.0.113.9");
    CHECK(obj_load(&bad, json) == 0);
    CHECK(!prov_is_shipped(bad.content));
    obj_free(&bad);
    free(objs);
    free(hashes);
    free(bs);
    prov_verifier_free(pv);
    accord_sign_key_free(key);
    accord_store_close(s);
    char cmd[700];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return t_done();
}
