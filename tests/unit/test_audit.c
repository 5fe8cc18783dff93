/*
 * test_audit.c - the tamper-evident audit log: leaf bytes (canonical, round-trip), the frontier
 * against merkle.c's trees, verifier keys and signed notes, checkpoints every 1,000 records, and
 * offline verification of exports that were left alone, had their tail dropped, a record edited,
 * swapped or deleted, a row edited in the database, or a checkpoint from a forked log added;
 * inclusion and consistency proofs, also tampered ones.
 */
#include "accord.h"
#include "audit.h"
#include "store.h"
#include "t.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "t_import.h"

static char tmpdir[256];

/* ------------------------------------------------------------------------------------------ */
/* Formats                                                                                      */

static void test_leaf(void)
{
    buf b, scratch;
    buf_init(&b, 0);
    buf_init(&scratch, 0);
    audit_fields f = {.seq = 7,
                      .ts = 1764468000000001,
                      .object = 3,
                      .action = "accepted",
                      .ref = "indicator--x",
                      .detail = "tab\there \"q\" \\ \b\f\x01 \xC3\xA9 \x7F"};
    CHECK(audit_leaf_write(&b, &f) == 0);
    CHECK_STR(b.p, "{\"action\":\"accepted\",\"detail\":\"tab\\there \\\"q\\\" \\\\ \\b\\f\\u0001 "
                   "\xC3\xA9 \x7F\",\"object\":3,\"ref\":\"indicator--x\",\"seq\":7,"
                   "\"ts\":1764468000000001}");
    /* the same bytes are the RFC 8785 form: accord_jcs leaves them unchanged */
    char *jcs = NULL;
    size_t jl = 0;
    CHECK(accord_jcs(b.p, b.len, &jcs, &jl, NULL) == 0);
    CHECK(jcs && jl == b.len && memcmp(jcs, b.p, jl) == 0);
    free(jcs);

    ajson_arena a;
    ajson_arena_init(&a, 0);
    audit_fields g;
    char why[200];
    CHECK(audit_leaf_parse(&a, &scratch, b.p, b.len, &g, why, sizeof(why)) == 0);
    CHECK(g.seq == 7 && g.ts == f.ts && g.object == 3);
    CHECK_STR(g.detail, f.detail);

    /* invalid UTF-8 becomes U+FFFD; absent members are omitted */
    buf_reset(&b);
    audit_fields h = {.seq = 1, .ts = 2, .action = "rejected", .detail = "bad \xFF\xC0 end"};
    CHECK(audit_leaf_write(&b, &h) == 0);
    CHECK_STR(b.p, "{\"action\":\"rejected\",\"detail\":\"bad \xEF\xBF\xBD\xEF\xBF\xBD end\","
                   "\"seq\":1,\"ts\":2}");
    ajson_arena_reset(&a);
    CHECK(audit_leaf_parse(&a, &scratch, b.p, b.len, &g, why, sizeof(why)) == 0);

    static const char *bad[] = {
        "{\"seq\":1,\"action\":\"a\",\"ts\":2}",              /* members out of order */
        "{\"action\":\"a\", \"seq\":1,\"ts\":2}",             /* whitespace */
        "{\"action\":\"a\",\"seq\":1,\"ts\":2,\"x\":1}",      /* unknown member */
        "{\"action\":\"a\",\"object\":0,\"seq\":1,\"ts\":2}", /* object 0 is written absent */
        "{\"action\":\"a\",\"seq\":1.0,\"ts\":2}",            /* not an integer */
        "{\"action\":\"a\",\"seq\":0,\"ts\":2}",              /* seq starts at 1 */
        "{\"action\":\"a\",\"ts\":2}",                        /* no seq */
        "{\"action\":\"\\u0041\",\"seq\":1,\"ts\":2}",        /* needless escape */
        "[1]",
        "{\"action\":\"a\",\"seq\":1,\"ts\":2",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ajson_arena_reset(&a);
        int rc = audit_leaf_parse(&a, &scratch, bad[i], strlen(bad[i]), &g, why, sizeof(why));
        CHECK(rc == ACCORD_EINVAL);
        if (rc != ACCORD_EINVAL)
            fprintf(stderr, "accepted: %s\n", bad[i]);
    }
    ajson_arena_free(&a);
    buf_free(&b);
    buf_free(&scratch);
}

/* The frontier's root equals merkle.c's tree head for every size up to 300. */
static void test_frontier(void)
{
    enum { N = 300 };
    uint8_t *leaves = malloc(N * 32);
    audit_frontier f = {0};
    int bad = 0;
    for (size_t i = 0; i < N; i++) {
        char d[16];
        snprintf(d, sizeof(d), "leaf %zu", i);
        accord_merkle_leaf_hash(d, strlen(d), leaves + i * 32);
        audit_frontier_add(&f, leaves + i * 32);
        accord_merkle_tree *t = NULL;
        accord_merkle_hash r1, r2;
        CHECK(accord_merkle_tree_new(leaves, i + 1, &t) == 0);
        accord_merkle_tree_root(t, r1);
        audit_frontier_root(&f, r2);
        bad += memcmp(r1, r2, 32) != 0;
        /* reloading the frontier from its hashes gives the same root */
        audit_frontier g;
        CHECK(audit_frontier_load(&g, f.n, f.h, (size_t)f.depth * 32) == 0);
        audit_frontier_root(&g, r2);
        bad += memcmp(r1, r2, 32) != 0;
        accord_merkle_tree_free(t);
    }
    CHECK(bad == 0);
    audit_frontier g;
    CHECK(audit_frontier_load(&g, 3, f.h, 32) == ACCORD_EINVAL); /* 3 needs two hashes */
    free(leaves);
}

static void test_keys_and_notes(void)
{
    accord_sign_key *k1 = NULL, *k2 = NULL;
    CHECK(accord_sign_key_generate(&k1) == 0 && accord_sign_key_generate(&k2) == 0);
    uint8_t pk1[32], pk2[32];
    accord_sign_key_public(k1, pk1);
    accord_sign_key_public(k2, pk2);
    audit_key keys[2], parsed;
    audit_key_make(&keys[0], "accord.audit/test", pk1);
    audit_key_make(&keys[1], "other.log", pk2);
    char vk[256], why[200];
    CHECK(audit_key_format(&keys[0], vk, sizeof(vk)) == 0);
    CHECK(audit_key_parse(vk, strlen(vk), &parsed, why, sizeof(why)) == 0);
    CHECK(memcmp(parsed.pk, pk1, 32) == 0 && memcmp(parsed.id, keys[0].id, 4) == 0);
    char *plus = strchr(vk, '+');
    plus[1] = plus[1] == '0' ? '1' : '0'; /* another key id */
    CHECK(audit_key_parse(vk, strlen(vk), &parsed, why, sizeof(why)) == ACCORD_EINVAL);

    accord_merkle_hash root;
    accord_merkle_leaf_hash("x", 1, root);
    buf note;
    buf_init(&note, 0);
    CHECK(audit_note_sign(&note, "accord.audit/test", 1000, root, k1) == 0);
    audit_checkpoint cp;
    CHECK(audit_note_open(note.p, note.len, keys, 2, &cp, why, sizeof(why)) == 0);
    CHECK(cp.size == 1000 && cp.key == 0 && memcmp(cp.root, root, 32) == 0);
    CHECK_STR(cp.origin, "accord.audit/test");
    /* only the other key trusted: not signed by a trusted key */
    CHECK(audit_note_open(note.p, note.len, keys + 1, 1, &cp, why, sizeof(why)) == ACCORD_EINVAL);
    /* the size changed after signing */
    char *copy = strdup(note.p);
    char *size = strchr(copy, '\n') + 1;
    size[0] = '2';
    CHECK(audit_note_open(copy, note.len, keys, 2, &cp, why, sizeof(why)) == ACCORD_EINVAL);
    CHECK(strstr(why, "does not verify") != NULL);
    free(copy);
    /* a hyphen for the em dash, no final newline, no blank line */
    static const char *bad[] = {"o\n1\nAAAA\n\n- o AAAA\n", "o\n1\n", "o\n1\nx\n"};
    for (size_t i = 0; i < 3; i++)
        CHECK(audit_note_open(bad[i], strlen(bad[i]), keys, 2, &cp, why, sizeof(why)) ==
              ACCORD_EINVAL);
    buf_free(&note);
    accord_sign_key_free(k1);
    accord_sign_key_free(k2);
}

/* ------------------------------------------------------------------------------------------ */
/* Stores and exports                                                                           */

#define IND_FMT                                                                                    \
    "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--%08x-0000-4000-8000-"    \
    "%012x\",\"created\":\"2024-01-01T00:00:00.000Z\",\"modified\":\"2024-01-01T00:00:00.000Z\","  \
    "\"pattern\":\"[ipv4-addr:value = '10.%u.%u.%u']\",\"pattern_type\":\"stix\","                 \
    "\"valid_from\":\"2024-01-01T00:00:00Z\"}\n"

/* Imports n generated indicators numbered from first (a batch per call) into collection coll
 * (NULL: the default one). */
static void import_into(accord_store *s, unsigned first, unsigned n, const char *coll)
{
    buf b;
    buf_init(&b, 0);
    for (unsigned i = first; i < first + n; i++)
        buf_printf(&b, IND_FMT, i, i, (i >> 16) & 255, (i >> 8) & 255, i & 255);
    int fd = t_memfd(b.p, b.len);
    CHECK(fd >= 0);
    accord_import_options o = {.batch_objects = 700, .collection = coll};
    accord_import_stats st;
    accord_error err = {0};
    CHECK(accord_import_fd(s, fd, &o, &st, &err) == 0);
    close(fd);
    buf_free(&b);
}

static void import_n(accord_store *s, unsigned first, unsigned n)
{
    import_into(s, first, n, NULL);
}

static accord_store *open_store(const char *name)
{
    char dir[400];
    snprintf(dir, sizeof(dir), "%s/%s", tmpdir, name);
    return t_store_open(dir);
}

static int count_cp(void *ud, const accord_audit_checkpoint_info *c)
{
    uint64_t *sizes = ud;
    sizes[sizes[0]++ + 1] = c->size;
    return 0;
}

static int run(const char *cmd)
{
    int rc = system(cmd);
    CHECK(rc == 0);
    return rc;
}

/* Copies export `from` to `to` with a shell command applied to records.jsonl there. */
static void tamper(const char *from, const char *to, const char *edit)
{
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "rm -rf %s/%s && cp -r %s/%s %s/%s && cd %s/%s && %s", tmpdir, to,
             tmpdir, from, tmpdir, to, tmpdir, to, edit);
    run(cmd);
}

/* Verifies export `name`; returns the code, the message in err. */
static int verify(const char *name, const char *keys, accord_error *err)
{
    char dir[400];
    snprintf(dir, sizeof(dir), "%s/%s", tmpdir, name);
    accord_audit_summary sum;
    memset(err, 0, sizeof(*err));
    return accord_audit_verify(dir, keys, &sum, err);
}

static void expect_fail(const char *name, const char *needle)
{
    accord_error err;
    int rc = verify(name, NULL, &err);
    CHECK(rc == ACCORD_EINVAL);
    CHECK(strstr(err.msg, needle) != NULL);
    if (!strstr(err.msg, needle))
        fprintf(stderr, "%s: expected \"%s\" in: %s\n", name, needle, err.msg);
}

static void test_export_verify(void)
{
    accord_store *s = open_store("a");
    import_n(s, 0, 2500);
    uint64_t sizes[16] = {0};
    accord_error err = {0};
    CHECK(accord_audit_checkpoints(s, count_cp, sizes, &err) == 0);
    CHECK(sizes[0] == 2 && sizes[1] == 1000 && sizes[2] == 2000); /* every 1,000 records */
    char dir[400];
    snprintf(dir, sizeof(dir), "%s/exp", tmpdir);
    accord_audit_summary sum;
    CHECK(accord_audit_export(s, dir, &sum, &err) == 0);
    CHECK(sum.records == 2500 && sum.checkpoints == 3 && sum.signed_size == 2500);
    CHECK(accord_audit_export(s, dir, &sum, &err) == ACCORD_EIO); /* never over an export */

    /* untouched: intact, with the export's keys and with the node key pinned */
    CHECK(verify("exp", NULL, &err) == 0);
    char vkey[300];
    CHECK(accord_audit_vkey(s, vkey, sizeof(vkey), &err) == 0);
    CHECK(verify("exp", vkey, &err) == 0);
    /* a key that did not sign: nothing verifies */
    accord_sign_key *other = NULL;
    uint8_t pk[32];
    accord_sign_key_generate(&other);
    accord_sign_key_public(other, pk);
    audit_key ok;
    audit_key_make(&ok, sum.origin, pk);
    char wrong[300];
    audit_key_format(&ok, wrong, sizeof(wrong));
    CHECK(verify("exp", wrong, &err) == ACCORD_EINVAL && strstr(err.msg, "trusted key"));
    accord_sign_key_free(other);

    /* tail dropped below the last checkpoint */
    tamper("exp", "t1", "head -n 2400 records.jsonl > r && mv r records.jsonl");
    expect_fail("t1", "truncated");
    /* a middle record edited */
    tamper("exp", "t2", "sed -i '1500s/accepted/rejected/' records.jsonl");
    expect_fail("t2", "record 1500: edited");
    /* the same edit with leaves.bin rewritten to match: found by the checkpoint range */
    tamper("exp", "t3", "sed -i '1500s/accepted/rejected/' records.jsonl && rm leaves.bin");
    expect_fail("t3", "records 1001..2000 do not match");
    /* two records swapped */
    tamper("exp", "t4", "sed -i '1200{h;d};1201{G}' records.jsonl");
    expect_fail("t4", "record 1200: missing or moved");
    /* a record deleted */
    tamper("exp", "t5", "sed -i '700d' records.jsonl");
    expect_fail("t5", "record 700: missing");
    /* a record repeated */
    tamper("exp", "t6", "sed -i '800p' records.jsonl");
    expect_fail("t6", "record 800: out of order");
    /* a checkpoint's root changed (its first character, to one it is not: a root whose base64
     * starts with 'A' already would be left as it was) */
    tamper("exp", "t7", "sed -i '3{s/^A/B/;t;s/^./A/}' checkpoints/2000.note");
    expect_fail("t7", "checkpoints/2000.note");

    /* a row edited in the database after the fact: the export names it */
    char db[400];
    snprintf(db, sizeof(db), "%s/a/accord.db", tmpdir);
    sqlite3 *h;
    CHECK(sqlite3_open(db, &h) == SQLITE_OK);
    CHECK(sqlite3_exec(h, "UPDATE audit SET detail = 'nothing to see' WHERE seq = 1234", NULL, NULL,
                       NULL) == SQLITE_OK);
    sqlite3_close(h);
    snprintf(dir, sizeof(dir), "%s/exp-db", tmpdir);
    CHECK(accord_audit_export(s, dir, &sum, &err) == 0);
    expect_fail("exp-db", "record 1234: edited");
    CHECK(sqlite3_open(db, &h) == SQLITE_OK);
    sqlite3_exec(h, "UPDATE audit SET detail = '2024-01-01T00:00:00.000Z' WHERE seq = 1234", NULL,
                 NULL, NULL);
    sqlite3_close(h);
    accord_store_close(s);
}

/*
 * Checkpoints signed from the frontier a handle keeps in memory (store_audit.c): two handles on
 * one store append in turns, one of them after a rolled-back transaction, so each handle's cached
 * frontier goes stale and must be noticed; every checkpoint must still be the root of the
 * records it covers (the export verifies them all).
 */
static void test_cached_frontier(void)
{
    accord_store *a = open_store("c"), *b = open_store("c");
    accord_error err = {0};
    import_n(a, 0, 900);
    import_n(b, 10000, 300);  /* b signs 1000 */
    import_n(a, 20000, 1100); /* a signs 2000, from the leaves, and keeps the frontier */
    import_n(a, 30000, 1000); /* a signs 3000 from the frontier it kept */
    /* three records of a rolled back, then three of b: the same count, other records */
    for (int round = 0; round < 2; round++) {
        accord_store *w = round ? b : a;
        CHECK(store_begin(w, &err) == 0);
        for (int i = 0; i < 3; i++)
            CHECK(store_audit(w, round ? "kept" : "rolled-back", 0, NULL, NULL, &err) == 0);
        if (round)
            CHECK(store_commit(w, &err) == 0);
        else
            store_rollback(w);
    }
    import_n(a, 45000, 1000); /* a signs 4000: from the leaves again */
    /* a strict import that fails: its records vanish, then one records the failure */
    buf bad;
    buf_init(&bad, 0);
    for (unsigned i = 60000; i < 60003; i++) /* three stored and audited, then a bad one */
        buf_printf(&bad, IND_FMT, i, i, 1u, 2u, i & 255);
    buf_adds(&bad, "{\"type\":\"indicator\"}\n");
    int fd = t_memfd(bad.p, bad.len);
    CHECK(fd >= 0);
    buf_free(&bad);
    accord_import_options o = {.flags = ACCORD_IMPORT_STRICT};
    accord_import_stats st;
    CHECK(accord_import_fd(a, fd, &o, &st, &err) == ACCORD_ESTRICT);
    close(fd);
    import_n(b, 40000, 1000); /* b's frontier is stale too: a wrote since */
    import_n(a, 50000, 1000);
    uint64_t sizes[16] = {0};
    CHECK(accord_audit_checkpoints(a, count_cp, sizes, &err) == 0);
    CHECK(sizes[0] == 6 && sizes[6] == 6000);
    char dir[400];
    snprintf(dir, sizeof(dir), "%s/exp-c", tmpdir);
    accord_audit_summary sum;
    CHECK(accord_audit_export(a, dir, &sum, &err) == 0 && sum.checkpoints == 7);
    CHECK(verify("exp-c", NULL, &err) == 0);
    if (err.msg[0])
        fprintf(stderr, "exp-c: %s\n", err.msg);
    accord_store_close(a);
    accord_store_close(b);
}

/* Two copies of one store grow apart: a checkpoint of one, added to the other's export, is a fork.
 */
static void test_fork(void)
{
    char cmd[1200];
    accord_store *s = open_store("f1");
    import_n(s, 0, 1500);
    accord_store_close(s);
    snprintf(cmd, sizeof(cmd), "cp -a %s/f1 %s/f2", tmpdir, tmpdir);
    run(cmd);
    accord_store *a = open_store("f1"), *b = open_store("f2");
    import_n(a, 10000, 600); /* records 1501..2100 differ: checkpoints of 2000 differ */
    import_n(b, 20000, 600);
    char dir[400];
    accord_audit_summary sum;
    accord_error err;
    snprintf(dir, sizeof(dir), "%s/fa", tmpdir);
    CHECK(accord_audit_export(a, dir, &sum, &err) == 0);
    snprintf(dir, sizeof(dir), "%s/fb", tmpdir);
    CHECK(accord_audit_export(b, dir, &sum, &err) == 0);
    CHECK(verify("fa", NULL, &err) == 0 && verify("fb", NULL, &err) == 0);
    snprintf(cmd, sizeof(cmd), "cp %s/fb/checkpoints/2000.note %s/fa/checkpoints/2000-b.note",
             tmpdir, tmpdir);
    run(cmd);
    expect_fail("fa", "fork");
    snprintf(cmd, sizeof(cmd), "rm %s/fa/checkpoints/2000.note %s/fa/checkpoints/2100.note", tmpdir,
             tmpdir);
    run(cmd); /* only the forked 2000 is left above the real 1000: the range is named */
    expect_fail("fa", "records 1001..2000 do not match");

    /* a consistency proof across the fork does not hold */
    char *p1 = NULL, *p2 = NULL;
    size_t l1, l2;
    CHECK(accord_audit_consistency(a, 1000, 2000, &p1, &l1, &err) == 0);
    CHECK(accord_audit_consistency(b, 1000, 2000, &p2, &l2, &err) == 0);
    char what[300];
    CHECK(accord_audit_proof_verify(p1, l1, NULL, what, sizeof(what), &err) == 0);
    /* a's proof path with b's new checkpoint */
    char *cut1 = strstr(p1, "checkpoint "), *cut2 = strstr(p2, "checkpoint ");
    cut1 = strstr(cut1 + 1, "checkpoint ");
    cut2 = strstr(cut2 + 1, "checkpoint ");
    buf mix;
    buf_init(&mix, 0);
    buf_add(&mix, p1, (size_t)(cut1 - p1));
    buf_adds(&mix, cut2);
    CHECK(accord_audit_proof_verify(mix.p, mix.len, NULL, what, sizeof(what), &err) ==
          ACCORD_EINVAL);
    CHECK(strstr(err.msg, "fork") != NULL);
    buf_free(&mix);
    free(p1);
    free(p2);
    accord_store_close(a);
    accord_store_close(b);
}

static void test_proofs(void)
{
    accord_store *s = open_store("p");
    import_n(s, 0, 1300);
    accord_error err = {0};
    char *p = NULL, what[300];
    size_t len;
    CHECK(accord_audit_prove(s, 5, &p, &len, &err) == 0); /* covered by checkpoint 1000 */
    CHECK(p && strstr(p, "size 1000\n"));
    CHECK(accord_audit_proof_verify(p, len, NULL, what, sizeof(what), &err) == 0);
    CHECK(strstr(what, "record 5 (accepted) is in checkpoint 1000") != NULL);
    free(p);
    CHECK(accord_audit_prove(s, 1200, &p, &len, &err) == ACCORD_ENOTFOUND);
    uint64_t size;
    CHECK(accord_audit_checkpoint(s, &size, &err) == 0 && size == 1300);
    int bad = 0;
    for (uint64_t seq = 1; seq <= 1300; seq += 37) {
        CHECK(accord_audit_prove(s, seq, &p, &len, &err) == 0);
        bad += accord_audit_proof_verify(p, len, NULL, what, sizeof(what), &err) != 0;
        free(p);
    }
    CHECK(bad == 0);
    /* tampered proofs: another record, another seq, a path hash changed */
    CHECK(accord_audit_prove(s, 1299, &p, &len, &err) == 0);
    char *r = strstr(p, "accepted");
    memcpy(r, "rejected", 8);
    CHECK(accord_audit_proof_verify(p, len, NULL, what, sizeof(what), &err) == ACCORD_EINVAL);
    memcpy(r, "accepted", 8);
    char *q = strstr(p, "seq 1299");
    q[7] = '8';
    CHECK(accord_audit_proof_verify(p, len, NULL, what, sizeof(what), &err) == ACCORD_EINVAL);
    q[7] = '9';
    char *path = strstr(p, "path ");
    path[5] = path[5] == 'A' ? 'B' : 'A';
    CHECK(accord_audit_proof_verify(p, len, NULL, what, sizeof(what), &err) == ACCORD_EINVAL);
    free(p);
    CHECK(accord_audit_consistency(s, 1000, 1300, &p, &len, &err) == 0);
    CHECK(accord_audit_proof_verify(p, len, NULL, what, sizeof(what), &err) == 0);
    CHECK(strstr(what, "checkpoint 1000 is a prefix of checkpoint 1300") != NULL);
    free(p);
    CHECK(accord_audit_consistency(s, 999, 1300, &p, &len, &err) == ACCORD_ENOTFOUND);
    accord_store_close(s);
}

/*
 * A version already stored and added to a second collection gets a `linked` record that names
 * its STIX id, as every record about an object does.  A `linked` record without it (as stores
 * wrote them before) still verifies.
 */
static void test_linked_ref(void)
{
    accord_store *s = open_store("l");
    accord_error err = {0};
    import_n(s, 1, 3);
    CHECK(accord_collection_add(s, NULL, "second", "second", NULL, NULL, &err) == 0);
    import_into(s, 1, 3, "second");
    CHECK(store_begin(s, &err) == 0); /* a record as older stores wrote it: no ref */
    CHECK(store_audit(s, "linked", 1, NULL, NULL, &err) == 0);
    CHECK(store_commit(s, &err) == 0);
    char dir[400], *text = NULL;
    snprintf(dir, sizeof(dir), "%s/exp-l", tmpdir);
    accord_audit_summary sum;
    CHECK(accord_audit_export(s, dir, &sum, &err) == 0);
    CHECK(verify("exp-l", NULL, &err) == 0);
    snprintf(dir, sizeof(dir), "%s/exp-l/records.jsonl", tmpdir);
    size_t len = 0;
    CHECK((text = t_slurp(dir, &len)) != NULL);
    CHECK(strstr(text, "{\"action\":\"linked\",\"object\":2,"
                       "\"ref\":\"indicator--00000002-0000-4000-8000-000000000002\"") != NULL);
    int named = 0, bare = 0;
    char *cur = text, *line;
    while ((line = t_next_line(&cur)))
        if (strncmp(line, "{\"action\":\"linked\"", 18) == 0)
            *(strstr(line, ",\"ref\":\"indicator--") ? &named : &bare) += 1;
    CHECK(named == 3 && bare == 1);
    free(text);
    accord_store_close(s);
}

/* Key file: created 0600 at the first checkpoint; a readable one is refused. */
static void test_node_key(void)
{
    accord_store *s = open_store("k");
    import_n(s, 0, 10);
    char path[400];
    snprintf(path, sizeof(path), "%s/k/keys/node.seed", tmpdir);
    struct stat sb;
    CHECK(stat(path, &sb) != 0); /* no checkpoint yet, no key */
    accord_error err = {0};
    uint64_t size;
    CHECK(accord_audit_checkpoint(s, &size, &err) == 0 && size == 10);
    CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600 && sb.st_size == 32);
    accord_store_close(s);
    chmod(path, 0644);
    s = open_store("k");
    import_n(s, 100, 5);
    CHECK(accord_audit_checkpoint(s, &size, &err) == ACCORD_EINVAL);
    CHECK(strstr(err.msg, "node.seed") != NULL);
    accord_store_close(s);
}

int main(void)
{
    if (t_mkdtemp(tmpdir, sizeof(tmpdir), "audit"))
        return 1;
    test_leaf();
    test_frontier();
    test_keys_and_notes();
    test_export_verify();
    test_cached_frontier();
    test_fork();
    test_proofs();
    test_node_key();
    test_linked_ref();
    t_rmtree(tmpdir);
    return t_done();
}
