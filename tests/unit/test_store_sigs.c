/*
 * test_store_sigs.c - who signed which version, as src/store.c reads it from the signature list
 * in each version's body (store_sig_has, store_sig_any, the signatures view) and as an
 * endorsement rewrites it (store_signatures_endorse):
 *   - versions stored with a list of one or two signatures: store_sig_any says signed, the view
 *     has one row per entry with its key id, signer, base64 signature and the version's
 *     date_added, store_sig_has finds exactly the stored bytes under their key id, inside the
 *     transaction and after the commit;
 *   - an unsigned version, and one that names the extension's id only as a custom property's
 *     key, are not signed and have no rows;
 *   - an endorsement replaces the body in place (no new version), writes one "signature added"
 *     audit record per new signature, naming the object, and the view then lists the new set;
 *   - a rollback leaves nothing of its versions or their signatures;
 *   - a store of schema 13, whose signatures table holds rows, migrates on open to the view:
 *     its rows are what the bodies hold, whatever the table held.
 */
#include "accord.h"
#include "provenance.h"
#include "sign.h"
#include "stix.h"
#include "store.h"
#include "store_int.h"
#include "t.h"

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "t_import.h"
#include "t_schema.h"

static char tmpdir[256];

#define IND_HEAD                                                                                   \
    "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--%08x-0000-4000-8000-"    \
    "000000000000\",\"created\":\"2024-01-01T00:00:00.000Z\",\"modified\":\"2024-01-01T00:00:00."  \
    "000Z\",\"pattern\":\"[ipv4-addr:value = '10.0.0.1']\",\"pattern_type\":\"stix\","             \
    "\"valid_from\":\"2024-01-01T00:00:00Z\""

/* The id of indicator i (as IND_HEAD writes it). */
#define ID_OF(i) "indicator--0000000" #i "-0000-4000-8000-000000000000"

static const char *KEY_A = "0123456789abcdef0123456789abcdef";
static const char *KEY_B = "fedcba9876543210fedcba9876543210";
static const char *SIGNER = "identity--8882dfe7-e74b-4219-b638-52c88cc0a294";

/* The signature of version i by key k: 64 bytes that differ per version and key. */
static void sig_of(unsigned i, unsigned k, uint8_t sig[64])
{
    for (unsigned b = 0; b < 64; b++)
        sig[b] = (uint8_t)(i * 7 + k * 13 + b);
}

/* One list entry for key `key` with signature sig_of(i, k), appended at out + *at. */
static void sig_entry(char *out, size_t cap, size_t *at, const char *key, unsigned i, unsigned k)
{
    uint8_t sig[64];
    char text[96];
    sig_of(i, k, sig);
    CHECK(sign_b64_encode(sig, 64, text, sizeof(text)) == 0);
    *at += (size_t)snprintf(out + *at, cap - *at,
                            "%s{\"keyid\":\"%s\",\"sig\":\"%s\",\"signer_ref\":\"%s\"}",
                            out[*at - 1] == '[' ? "" : ",", key, text, SIGNER);
}

/*
 * Indicator i's text: nsig 0 unsigned, 1 signed by KEY_A, 2 by KEY_A and KEY_B; decoy: unsigned,
 * with the extension's id as the key of a custom property.
 */
static size_t text_of(char *out, size_t cap, unsigned i, int nsig, int decoy)
{
    size_t at = (size_t)snprintf(out, cap, IND_HEAD, i);
    if (decoy)
        at += (size_t)snprintf(out + at, cap - at, ",\"x_note\":{\"" PROV_SIG_EXT "\":[1]}");
    if (nsig) {
        at += (size_t)snprintf(out + at, cap - at,
                               ",\"extensions\":{\"" PROV_SIG_EXT "\":{\"extension_type\":"
                               "\"property-extension\",\"signatures\":[");
        sig_entry(out, cap, &at, KEY_A, i, 0);
        if (nsig > 1)
            sig_entry(out, cap, &at, KEY_B, i, 1);
        at += (size_t)snprintf(out + at, cap - at, "]}}");
    }
    at += (size_t)snprintf(out + at, cap - at, "}");
    return at;
}

/* Stores indicator i as a new version in the default collection: its seq, or -1. */
static int64_t put(accord_store *s, unsigned i, int nsig, int decoy)
{
    char text[2048];
    size_t len = text_of(text, sizeof(text), i, nsig, decoy);
    int64_t seq = -1, cid = 0;
    stix_info info;
    stix_problem prob;
    store_outcome out = STORE_CONFLICT;
    accord_error err;
    ajson_error jerr;
    ajson_arena a;
    ajson_arena_init(&a, 0);
    const ajson_value *root = ajson_parse(&a, text, len, &jerr);
    int ok = root && stix_validate(root, NULL, &info, &prob) == 0 &&
             store_collection_resolve(s, NULL, &cid, &err) == 0 &&
             store_put(s, cid, &info, text, len, NULL, 0, &out, &seq, &err) == 0;
    if (root && !ok)
        fprintf(stderr, "put %u: %s\n", i, prob.message);
    ajson_arena_free(&a);
    return ok && out == STORE_NEW ? seq : -1;
}

static int64_t scalar(accord_store *s, const char *sql)
{
    sqlite3_stmt *st;
    int64_t v = -1;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* 1 when version seq's signatures are exactly sig_of(i, 0) by KEY_A and, when two, sig_of(i, 1)
 * by KEY_B, and no other pairing of key and bytes. */
static int holds(accord_store *s, int64_t seq, unsigned i, int nsig)
{
    uint8_t a[64], b[64];
    sig_of(i, 0, a);
    sig_of(i, 1, b);
    return store_sig_any(s, seq) == (nsig > 0) && store_sig_has(s, seq, KEY_A, a) == (nsig > 0) &&
           store_sig_has(s, seq, KEY_B, b) == (nsig > 1) && store_sig_has(s, seq, KEY_B, a) == 0 &&
           store_sig_has(s, seq, KEY_A, b) == 0;
}

static void test_read(accord_store *s, int64_t seqs[6])
{
    accord_error err;
    static const int nsig[6] = {1, 2, 0, 0, 1, 2};
    CHECK(store_begin(s, &err) == 0);
    for (unsigned i = 0; i < 6; i++)
        CHECK((seqs[i] = put(s, i + 1, nsig[i], i == 3)) > 0);
    int ok = 1;
    for (unsigned i = 0; i < 6; i++)
        ok &= holds(s, seqs[i], i + 1, nsig[i]);
    CHECK(ok); /* inside the transaction */
    CHECK(store_commit(s, &err) == 0);
    ok = 1;
    for (unsigned i = 0; i < 6; i++)
        ok &= holds(s, seqs[i], i + 1, nsig[i]);
    CHECK(ok);
    CHECK(store_sig_any(s, 999999) == 0);
    CHECK(scalar(s, "SELECT count(*) FROM signatures") == 6);
    CHECK(scalar(s, "SELECT count(*) FROM signatures WHERE keyid = 'fedcba9876543210fedcba9876"
                    "543210' AND signer = 'identity--8882dfe7-e74b-4219-b638-52c88cc0a294'") == 2);
    CHECK(scalar(s, "SELECT count(*) FROM signatures g JOIN objects o ON o.seq = g.object_seq"
                    " WHERE g.added = o.added AND length(g.sig) = 88") == 6);
    char sql[200];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM signatures WHERE object_seq IN (%lld, %lld)",
             (long long)seqs[2], (long long)seqs[3]);
    CHECK(scalar(s, sql) == 0);
}

static void test_endorse(accord_store *s, const int64_t seqs[6])
{
    accord_error err;
    char text[2048];
    int64_t versions = scalar(s, "SELECT count(*) FROM objects");
    size_t len = text_of(text, sizeof(text), 1, 2, 0); /* version 1 gains KEY_B's signature */
    uint8_t sig_b[64];
    sig_of(1, 1, sig_b);
    store_sig added = {KEY_B, SIGNER, sig_b};
    CHECK(holds(s, seqs[0], 1, 1));
    CHECK(store_begin(s, &err) == 0);
    CHECK(store_signatures_endorse(s, seqs[0], ID_OF(1), text, len, &added, 1, &err) == 0);
    CHECK(store_commit(s, &err) == 0);
    CHECK(holds(s, seqs[0], 1, 2));
    CHECK(scalar(s, "SELECT count(*) FROM objects") == versions);
    CHECK(scalar(s, "SELECT count(*) FROM signatures") == 7);
    CHECK(scalar(s, "SELECT count(*) FROM audit WHERE action = 'signature added'") == 1);
    CHECK(scalar(s, "SELECT count(*) FROM audit a JOIN objects o ON o.seq = a.object_seq "
                    "WHERE a.action = 'signature added' AND a.ref = o.id AND a.detail = 'key "
                    "fedcba9876543210fedcba9876543210 of identity--8882dfe7-e74b-4219-b638-"
                    "52c88cc0a294'") == 1);
    /* outside a transaction: refused, nothing changed */
    CHECK(store_signatures_endorse(s, seqs[4], ID_OF(5), text, len, &added, 1, &err) ==
          ACCORD_EINVAL);
    CHECK(holds(s, seqs[4], 5, 1));
}

static void test_rollback(accord_store *s)
{
    accord_error err;
    int64_t before = scalar(s, "SELECT count(*) FROM signatures");
    CHECK(store_begin(s, &err) == 0);
    int ok = 1;
    for (unsigned i = 0; i < 40; i++)
        ok &= put(s, 1000 + i, 2, 0) > 0;
    CHECK(ok);
    CHECK(scalar(s, "SELECT count(*) FROM signatures") == before + 80);
    store_rollback(s);
    CHECK(scalar(s, "SELECT count(*) FROM signatures") == before);
    CHECK(store_begin(s, &err) == 0);
    int64_t seq = put(s, 2000, 1, 0);
    CHECK(seq > 0);
    CHECK(store_commit(s, &err) == 0);
    CHECK(scalar(s, "SELECT count(*) FROM signatures") == before + 1);
    CHECK(holds(s, seq, 2000, 1));
}

static void test_migrate(const char *dir)
{
    accord_store *s;
    sqlite3 *db;
    char path[400];
    snprintf(path, sizeof(path), "%s/accord.db", dir);
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db,
                       "DROP VIEW signatures; CREATE TABLE signatures(object_seq INTEGER NOT NULL,"
                       " keyid TEXT NOT NULL, signer TEXT, sig BLOB NOT NULL, added INTEGER NOT"
                       " NULL, PRIMARY KEY(object_seq, keyid)) WITHOUT ROWID;"
                       "INSERT INTO signatures VALUES(1, 'k1', 's', x'00', 1),"
                       " (2, 'k2', 's', x'00', 2), (3, 'k3', 's', x'00', 3);"
                       "PRAGMA user_version = 13",
                       NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    if (!(s = t_store_open(dir)))
        return;
    T_CHECK_SCHEMA_CURRENT(s);
    char *v = t_scalar_text(s->db, "SELECT type FROM sqlite_master WHERE name = 'signatures'");
    CHECK_STR(v, "view");
    free(v);
    CHECK(scalar(s, "SELECT count(*) FROM signatures") == 8); /* as after test_rollback */
    CHECK(scalar(s, "SELECT count(*) FROM signatures WHERE keyid LIKE 'k_'") == 0);
    accord_store_close(s);
}

int main(void)
{
    if (t_mkdtemp(tmpdir, sizeof(tmpdir), "store-sigs"))
        return 1;
    char dir[300];
    snprintf(dir, sizeof(dir), "%s/s", tmpdir);
    accord_store *s = t_store_open(dir);
    CHECK(s != NULL);
    if (s) {
        int64_t seqs[6];
        test_read(s, seqs);
        test_endorse(s, seqs);
        test_rollback(s);
        accord_store_close(s);
        test_migrate(dir);
    }
    t_rmtree(tmpdir);
    return t_done();
}
