/*
 * test_store_sigs.c - the signature rows of src/store.c (store_signatures_add, store_sig_has,
 * store_sig_any), whose rows of new versions wait and are written in groups:
 *   - 70 new versions (more than two groups) each get their row: inside the transaction
 *     store_sig_any and store_sig_has see a row still waiting, and after the commit the table
 *     holds exactly the 70 rows with their key ids, signers, signatures and seqs;
 *   - a second row with the same (version, key id) is ignored, as one INSERT OR IGNORE would;
 *   - an endorsement in the transaction that queued rows writes them first: its new key is
 *     audited as "signature added" once, the key already there is not;
 *   - a key id too long to wait is stored at once;
 *   - a rollback drops the waiting rows: nothing of the transaction is stored, and the next
 *     transaction stores its own.
 */
#include "accord.h"
#include "stix.h"
#include "store.h"
#include "store_int.h"
#include "t.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "t_import.h"

static char tmpdir[256];

#define IND                                                                                        \
    "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--%08x-0000-4000-8000-"    \
    "000000000000\",\"created\":\"2024-01-01T00:00:00.000Z\",\"modified\":\"2024-01-01T00:00:00."  \
    "000Z\",\"pattern\":\"[ipv4-addr:value = '10.0.0.1']\",\"pattern_type\":\"stix\","             \
    "\"valid_from\":\"2024-01-01T00:00:00Z\"}"

/* Stores indicator i as a new version in the default collection: its seq, or -1. */
static int64_t put(accord_store *s, unsigned i)
{
    char text[1024];
    int len = snprintf(text, sizeof(text), IND, i);
    int64_t seq = -1, cid = 0;
    stix_info info;
    stix_problem prob;
    store_outcome out = STORE_CONFLICT;
    accord_error err;
    ajson_error jerr;
    ajson_arena a;
    ajson_arena_init(&a, 0);
    const ajson_value *root = ajson_parse(&a, text, (size_t)len, &jerr);
    int ok = root && stix_validate(root, NULL, &info, &prob) == 0 &&
             store_collection_resolve(s, NULL, &cid, &err) == 0 &&
             store_put(s, cid, &info, text, (size_t)len, NULL, 0, &out, &seq, &err) == 0;
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

/* The signature of version i by key k: 64 bytes that differ per version and key. */
static void sig_of(unsigned i, unsigned k, uint8_t sig[64])
{
    for (unsigned b = 0; b < 64; b++)
        sig[b] = (uint8_t)(i * 7 + k * 13 + b);
}

static const char *KEY_A = "0123456789abcdef0123456789abcdef";
static const char *KEY_B = "fedcba9876543210fedcba9876543210";
static const char *SIGNER = "identity--8882dfe7-e74b-4219-b638-52c88cc0a294";

static void test_groups(accord_store *s)
{
    accord_error err;
    int64_t seqs[70];
    uint8_t sig[64];
    CHECK(store_begin(s, &err) == 0);
    int ok = 1;
    for (unsigned i = 0; i < 70; i++) {
        seqs[i] = put(s, i + 1);
        sig_of(i, 0, sig);
        store_sig row = {KEY_A, SIGNER, sig};
        ok &= seqs[i] > 0 && store_signatures_add(s, seqs[i], NULL, 0, &row, 1, 0, &err) == 0;
    }
    CHECK(ok);
    /* a row still waiting is seen by the readers */
    CHECK(store_sig_any(s, seqs[69]) == 1);
    sig_of(68, 0, sig);
    CHECK(store_sig_has(s, seqs[68], KEY_A, sig) == 1);
    sig_of(68, 1, sig);
    CHECK(store_sig_has(s, seqs[68], KEY_A, sig) == 0);
    /* the same (version, key) again: ignored, the first signature stays */
    sig_of(67, 1, sig);
    store_sig again = {KEY_A, SIGNER, sig};
    CHECK(store_signatures_add(s, seqs[67], NULL, 0, &again, 1, 0, &err) == 0);
    /* an endorsement behind waiting rows: KEY_A is there, KEY_B is new */
    sig_of(66, 0, sig);
    store_sig one = {KEY_A, SIGNER, sig};
    CHECK(store_signatures_add(s, seqs[66], NULL, 0, &one, 1, 0, &err) == 0);
    uint8_t sig_b[64];
    sig_of(66, 1, sig_b);
    store_sig both[2] = {{KEY_A, SIGNER, sig}, {KEY_B, SIGNER, sig_b}};
    CHECK(store_signatures_add(s, seqs[66], "{}", 2, both, 2, 1, &err) == 0);
    /* a key id longer than a waiting row holds */
    char long_key[100];
    memset(long_key, 'a', 80);
    long_key[80] = 0;
    uint8_t sig_long[64];
    sig_of(0, 5, sig_long);
    CHECK(store_signatures_add(s, seqs[0], NULL, 0, &(store_sig){long_key, SIGNER, sig_long}, 1, 0,
                               &err) == 0);
    CHECK(store_commit(s, &err) == 0);

    CHECK(scalar(s, "SELECT count(*) FROM signatures") == 72);
    CHECK(scalar(s, "SELECT count(*) FROM signatures WHERE keyid = '0123456789abcdef0123456789"
                    "abcdef' AND signer = 'identity--8882dfe7-e74b-4219-b638-52c88cc0a294'") == 70);
    ok = 1;
    for (unsigned i = 0; i < 70; i++) {
        sig_of(i, 0, sig);
        ok &= store_sig_has(s, seqs[i], KEY_A, sig) == 1 && store_sig_any(s, seqs[i]) == 1;
    }
    CHECK(ok);
    CHECK(store_sig_has(s, seqs[66], KEY_B, sig_b) == 1);
    CHECK(store_sig_has(s, seqs[0], long_key, sig_long) == 1);
    CHECK(scalar(s, "SELECT count(*) FROM audit WHERE action = 'signature added'") == 1);
    /* the record names the endorsed object */
    CHECK(scalar(s, "SELECT count(*) FROM audit a JOIN objects o ON o.seq = a.object_seq "
                    "WHERE a.action = 'signature added' AND a.ref = o.id") == 1);
}

static void test_rollback(accord_store *s)
{
    accord_error err;
    uint8_t sig[64];
    int64_t before = scalar(s, "SELECT count(*) FROM signatures");
    CHECK(store_begin(s, &err) == 0);
    int ok = 1;
    for (unsigned i = 0; i < 40; i++) {
        int64_t seq = put(s, 1000 + i);
        sig_of(i, 2, sig);
        store_sig row = {KEY_B, SIGNER, sig};
        ok &= seq > 0 && store_signatures_add(s, seq, NULL, 0, &row, 1, 0, &err) == 0;
    }
    CHECK(ok);
    store_rollback(s);
    CHECK(scalar(s, "SELECT count(*) FROM signatures") == before);
    /* the next transaction stores its own rows only */
    CHECK(store_begin(s, &err) == 0);
    int64_t seq = put(s, 2000);
    sig_of(0, 3, sig);
    store_sig row = {KEY_B, SIGNER, sig};
    CHECK(seq > 0 && store_signatures_add(s, seq, NULL, 0, &row, 1, 0, &err) == 0);
    CHECK(store_commit(s, &err) == 0);
    CHECK(scalar(s, "SELECT count(*) FROM signatures") == before + 1);
    CHECK(store_sig_has(s, seq, KEY_B, sig) == 1);
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
        test_groups(s);
        test_rollback(s);
        accord_store_close(s);
    }
    t_rmtree(tmpdir);
    return t_done();
}
