/*
 * test_import_prepare.c - an import prepared on one store handle and stored through another
 * (import_prepare + import_fd_prepared, what a TAXII POST does outside and inside the writer's
 * lock) keeps every decision of accord_import_fd:
 *
 * 1. A batch-signed envelope with one object changed after signing and one invalid STIX object:
 *    the other objects are stored in their signed form byte for byte as received, the changed one
 *    is rejected as not verifying and not stored, the invalid one rejected, and rejections are
 *    reported in input order.
 * 2. The signing key is marked compromised after the envelope was prepared (its signatures
 *    proven) and before it is stored: every object is rejected, nothing stored.  Signatures are
 *    judged with the keys as the writer sees them when storing, whatever the preparation saw.
 * 3. A broken stream after the objects: the objects before the fault are stored and the fault is
 *    the outcome, as accord_import_fd reports it.
 * 4. A before_commit hook (what a TAXII POST writes its status with) runs once in the import's
 *    transaction: a status it writes is kept with the objects; when it fails, the objects are
 *    rolled back with it (nothing of the import kept) and its error is the outcome.  The same
 *    holds for an import read from the fd, unprepared.
 * 5. Objects parsed by the caller (import_prepare_parsed, a pull's page) under IMPORT_VERIFIED,
 *    judged by an accept hook as a peer's accept policy judges them: with a reader handle the
 *    hook is handed each object's hash and its signatures proven, except the changed object's,
 *    which the hook's own verification refuses; without one nothing is proven and the outcome
 *    is the same.  Indexes are the objects' places in the input.
 */
#include "import.h"
#include "member.h"
#include "provenance.h"
#include "store.h"
#include "t.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

enum { N = 20, TAMPERED = 5 };

static char tmpdir[] = "/tmp/accord-prep-XXXXXX";

typedef struct rejects {
    uint64_t index[N + 2];
    char msg[N + 2][200];
    size_t n;
} rejects;

static void on_reject(void *ud, const accord_reject *r)
{
    rejects *x = ud;
    if (x->n < N + 2) {
        x->index[x->n] = r->index;
        snprintf(x->msg[x->n], sizeof(x->msg[0]), "%s", r->message);
        x->n++;
    }
}

static void indicator(char *out, size_t n, int round, int i, const char *by)
{
    snprintf(out, n,
             "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--00000000-0000-"
             "4000-8%03d-%012d\",\"created\":\"2026-01-01T00:00:00.000Z\",\"modified\":\"2026-01-"
             "01T00:00:00.000Z\",\"created_by_ref\":\"%s\",\"pattern\":\"[ipv4-addr:value = "
             "'198.51.100.%d']\",\"pattern_type\":\"stix\",\"valid_from\":\"2026-01-01T00:00:00Z\","
             "\"object_marking_refs\":[\"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
             "\"]}",
             round, i, by, i);
}

/* N objects batch-signed by key in their stored form; object TAMPERED changed afterwards. */
static void signed_objects(char **out, int round, const accord_sign_key *key,
                           const member_identity *me)
{
    const member_key *sk = member_key_active(me, MEMBER_SIGNING);
    ajson_arena a;
    const ajson_value *content[N];
    uint8_t hashes[N * 32];
    prov_sig *sigs = calloc(N, sizeof(*sigs));
    prov_sigs *none = calloc(1, sizeof(*none)), *one = calloc(1, sizeof(*one));
    accord_error err;
    ajson_arena_init(&a, 0);
    for (int i = 0; i < N; i++) {
        char json[1024];
        ajson_error jerr;
        buf c;
        indicator(json, sizeof(json), round, i, me->id);
        buf_init(&c, 1 << 20);
        const ajson_value *v = ajson_parse(&a, json, strlen(json), &jerr);
        CHECK(v && prov_parse(&a, v, &content[i], none, &err) == 0 &&
              prov_canonical(content[i], &c, &err) == 0);
        prov_object_hash(c.p, c.len, hashes + 32 * i);
        buf_free(&c);
    }
    CHECK(prov_sign_batch(key, me->id, sk->keyid, hashes, N, sigs) == 0);
    for (int i = 0; i < N; i++) {
        buf b;
        buf_init(&b, 1 << 20);
        one->n = 1;
        one->v[0] = sigs[i];
        CHECK(prov_write(&a, content[i], one, &b, &err) == 0);
        out[i] = buf_take(&b, NULL);
    }
    char *ip = strstr(out[TAMPERED], "198.51.100.");
    CHECK(ip != NULL);
    ip[4] = '7'; /* 198.57.100.x: changed after signing */
    ajson_arena_free(&a);
    free(sigs);
    free(none);
    free(one);
}

/* An envelope of objs[0..n) and, when extra is not NULL, that text as one more object. */
static int envelope_fd(char **objs, int n, const char *extra, const char *tail)
{
    int fd = memfd_create("prep", MFD_CLOEXEC);
    CHECK(fd >= 0);
    CHECK(write(fd, "{\"objects\":[", 12) == 12);
    for (int i = 0; i < n; i++) {
        if (i)
            CHECK(write(fd, ",", 1) == 1);
        CHECK(write(fd, objs[i], strlen(objs[i])) == (ssize_t)strlen(objs[i]));
    }
    if (extra) {
        CHECK(write(fd, ",", 1) == 1);
        CHECK(write(fd, extra, strlen(extra)) == (ssize_t)strlen(extra));
    }
    CHECK(write(fd, tail, strlen(tail)) == (ssize_t)strlen(tail));
    lseek(fd, 0, SEEK_SET);
    return fd;
}

typedef struct body {
    char *p;
    size_t len;
} body;

static int keep_body(void *ud, const accord_record *r)
{
    body *b = ud;
    free(b->p);
    b->p = malloc(r->body_len + 1);
    memcpy(b->p, r->body, r->body_len);
    b->len = r->body_len;
    return 0;
}

/* 1 when the stored body of the object whose text is `text` is that text. */
static int stored_as(accord_store *s, const char *text)
{
    char id[80];
    const char *at = strstr(text, "\"id\":\"");
    body b = {0};
    accord_error err;
    if (!at)
        return 0;
    snprintf(id, sizeof(id), "%.*s", (int)strcspn(at + 6, "\""), at + 6);
    int ok = accord_store_get(s, id, 0, keep_body, &b, &err) == 0 && b.len == strlen(text) &&
             memcmp(b.p, text, b.len) == 0;
    free(b.p);
    return ok;
}

static int stored(accord_store *s, const char *text)
{
    char id[80];
    body b = {0};
    accord_error err;
    const char *at = strstr(text, "\"id\":\"");
    snprintf(id, sizeof(id), "%.*s", (int)strcspn(at + 6, "\""), at + 6);
    int rc = accord_store_get(s, id, 0, keep_body, &b, &err);
    free(b.p);
    return rc == 0;
}

/* A before_commit hook: writes status `id` (fail: then fails itself); counts its calls. */
typedef struct status_hook {
    const char *id;
    int fail, calls;
} status_hook;

static int write_status(void *ud, accord_store *s, accord_error *err)
{
    status_hook *h = ud;
    h->calls++;
    int rc = store_status_add(s, h->id, "accord", "tester", "{}", 2, err);
    return rc ? rc : h->fail ? accord_err_set(err, ACCORD_EIO, "the hook fails") : 0;
}

static int status_seen(void *ud, const char *account, const char *json, size_t len)
{
    (void)account;
    (void)json;
    (void)len;
    *(int *)ud = 1;
    return 0;
}

/* 1 when status id is stored. */
static int has_status(accord_store *s, const char *id)
{
    int seen = 0;
    accord_error err;
    accord_status_get(s, id, "accord", status_seen, &seen, &err);
    return seen;
}

/* An accept hook doing a peer's signature check on what the pass hands it. */
typedef struct verify_hook {
    prov_verifier *pv;
    int calls, with_hash, proven, refused, bad_index, bad_hash;
} verify_hook;

static int verify_object(void *ud, const import_object *o, accord_error *err)
{
    verify_hook *h = ud;
    uint8_t hash[32];
    h->bad_index += o->index != (uint64_t)h->calls;
    h->calls++;
    if (!o->canon || !o->sigs->n)
        return 1;
    prov_object_hash(o->canon, o->canon_len, hash);
    if (o->hash) {
        h->with_hash++;
        h->bad_hash += memcmp(hash, o->hash, 32) != 0;
    }
    for (size_t i = 0; i < o->sigs->n; i++)
        h->proven += o->sigs->v[i].proven;
    prov_result res;
    int rc = prov_verify(h->pv, o->canon, o->canon_len, hash, NULL, o->sigs, 0, &res, err);
    if (rc)
        return rc;
    h->refused += res.status != PROV_ENDORSED;
    return res.status != PROV_ENDORSED;
}

/* Prepares objs[0..N) parsed here (on rd, or on no store) and stores them through wr with the
 * hook h under IMPORT_VERIFIED; the import's outcome. */
static int parsed_import(accord_store *rd, accord_store *wr, char **objs, verify_hook *h,
                         accord_import_stats *st)
{
    ajson_arena a;
    import_text texts[N];
    accord_error err;
    ajson_arena_init(&a, 0);
    for (int i = 0; i < N; i++) {
        ajson_error je;
        texts[i] =
            (import_text){ajson_parse(&a, objs[i], strlen(objs[i]), &je), objs[i], strlen(objs[i])};
        CHECK(texts[i].root != NULL);
    }
    accord_import_options o = {.source = "test", .flags = IMPORT_VERIFIED};
    import_hooks hooks = {.accept = verify_object, .ud = h};
    import_prep *p = NULL;
    CHECK(import_prepare_parsed(rd, texts, N, &o, &p, &err) == 0);
    CHECK(prov_verifier_new(wr, &h->pv) == 0);
    int rc = p ? import_fd_hooked(wr, p, -1, &o, &hooks, st, &err) : -1;
    import_prep_free(p);
    prov_verifier_free(h->pv);
    ajson_arena_free(&a);
    return rc;
}

/* Prepares fd on rd and stores it through wr; the import's outcome. */
static int prepared_import(accord_store *rd, accord_store *wr, int fd, rejects *rj,
                           accord_import_stats *st, accord_error *err)
{
    accord_import_options o = {.source = "test", .on_reject = on_reject, .ud = rj};
    import_prep *p = NULL;
    CHECK(import_prepare(rd, fd, &o, &p, err) == 0);
    if (!p)
        return -1;
    int rc = import_fd_prepared(wr, p, &o, st, err);
    import_prep_free(p);
    return rc;
}

int main(void)
{
    if (!mkdtemp(tmpdir))
        return 1;
    char data[600];
    snprintf(data, sizeof(data), "%s/data", tmpdir);
    accord_store *wr = NULL, *rd = NULL;
    accord_error err;
    member_identity me;
    member_init_options mo = {.name = "Producer"};
    accord_sign_key *key = NULL;
    if (accord_store_open(data, 0, &wr, &err) || member_init(wr, data, &mo, &me, &err) ||
        member_key_load(data, MEMBER_SIGNING, NULL, &key, &err) ||
        accord_store_open(data, ACCORD_STORE_READONLY, &rd, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    char *objs[N], *later[N];
    const char *invalid = "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--"
                          "00000000-0000-4000-8999-000000000001\"}";

    /* 1. */
    signed_objects(objs, 1, key, &me);
    rejects rj = {0};
    accord_import_stats st;
    int fd = envelope_fd(objs, N, invalid, "]}");
    CHECK(prepared_import(rd, wr, fd, &rj, &st, &err) == ACCORD_ESTIX);
    close(fd);
    CHECK(st.read == N + 1 && st.accepted == N - 1 && st.rejected == 2);
    CHECK(rj.n == 2 && rj.index[0] == TAMPERED && rj.index[1] == N);
    CHECK(strstr(rj.msg[0], "does not verify") != NULL);
    CHECK(!stored(wr, objs[TAMPERED]));
    int same = 0;
    for (int i = 0; i < N; i++)
        same += i != TAMPERED && stored_as(wr, objs[i]);
    CHECK(same == N - 1);

    /* 5. (before the key is compromised in 2) */
    char *parsed[N];
    signed_objects(parsed, 5, key, &me);
    verify_hook vh = {0};
    CHECK(parsed_import(rd, wr, parsed, &vh, &st) == 0);
    CHECK(vh.calls == N && vh.bad_index == 0 && vh.with_hash == N && vh.bad_hash == 0);
    CHECK(vh.proven == N - 1 && vh.refused == 1);
    CHECK(st.read == N && st.accepted == N - 1 && !stored(wr, parsed[TAMPERED]));
    same = 0;
    for (int i = 0; i < N; i++)
        same += i != TAMPERED && stored_as(wr, parsed[i]);
    CHECK(same == N - 1);
    for (int i = 0; i < N; i++)
        free(parsed[i]);
    signed_objects(parsed, 6, key, &me); /* no reader handle: nothing proven, same outcome */
    vh = (verify_hook){0};
    CHECK(parsed_import(NULL, wr, parsed, &vh, &st) == 0);
    CHECK(vh.calls == N && vh.with_hash == N && vh.proven == 0 && vh.refused == 1);
    CHECK(st.accepted == N - 1 && !stored(wr, parsed[TAMPERED]));
    for (int i = 0; i < N; i++)
        free(parsed[i]);

    /* 2. */
    signed_objects(later, 2, key, &me);
    import_prep *p = NULL;
    accord_import_options o = {.source = "test", .on_reject = on_reject, .ud = &rj};
    fd = envelope_fd(later, N, NULL, "]}");
    CHECK(import_prepare(rd, fd, &o, &p, &err) == 0);
    close(fd);
    const member_key *sk = member_key_active(&me, MEMBER_SIGNING);
    CHECK(member_update(wr, data, NULL, 0, sk->keyid, NULL, &err) == 0);
    memset(&rj, 0, sizeof(rj));
    CHECK(p && import_fd_prepared(wr, p, &o, &st, &err) == ACCORD_ESTIX);
    import_prep_free(p);
    CHECK(st.accepted == 0 && st.rejected == N && rj.n == N);
    CHECK(strstr(rj.msg[1], "compromised") != NULL);
    int none = 0;
    for (int i = 0; i < N; i++)
        none += !stored(wr, later[i]);
    CHECK(none == N);

    /* 3. the first three objects of round 1 again (duplicates), then garbage */
    memset(&rj, 0, sizeof(rj));
    fd = envelope_fd(objs, 3, NULL, "]} trailing");
    int rc = prepared_import(rd, wr, fd, &rj, &st, &err);
    close(fd);
    CHECK(rc < 0 && rc != ACCORD_ESTIX && st.read == 3 && st.duplicates == 3);

    /* 4. round 3, unsigned (the key is compromised now): a failing hook keeps nothing; then
     * unprepared, the hook keeps its status with the objects */
    char *more[N];
    for (int i = 0; i < N; i++) {
        more[i] = malloc(1024);
        indicator(more[i], 1024, 3, i, me.id);
    }
    status_hook h = {.id = "status-3", .fail = 1};
    import_hooks hooks = {.before_commit = write_status, .ud = &h};
    memset(&rj, 0, sizeof(rj));
    fd = envelope_fd(more, N, NULL, "]}");
    CHECK(import_prepare(rd, fd, &o, &p, &err) == 0);
    CHECK(p && import_fd_hooked(wr, p, -1, &o, &hooks, &st, &err) == ACCORD_EIO);
    import_prep_free(p);
    close(fd);
    CHECK(h.calls == 1 && strstr(err.msg, "the hook fails") != NULL);
    none = 0;
    for (int i = 0; i < N; i++)
        none += !stored(wr, more[i]);
    CHECK(none == N && !has_status(wr, "status-3"));
    h = (status_hook){.id = "status-4"};
    fd = envelope_fd(more, N, NULL, "]}");
    CHECK(import_fd_hooked(wr, NULL, fd, &o, &hooks, &st, &err) == 0);
    close(fd);
    CHECK(h.calls == 1 && st.accepted == N && has_status(wr, "status-4"));
    int all = 0;
    for (int i = 0; i < N; i++)
        all += stored(wr, more[i]);
    CHECK(all == N);

    for (int i = 0; i < N; i++) {
        free(objs[i]);
        free(later[i]);
        free(more[i]);
    }
    accord_sign_key_free(key);
    accord_store_close(rd);
    accord_store_close(wr);
    char cmd[700];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return t_done();
}
