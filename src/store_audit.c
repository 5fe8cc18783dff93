/*
 * store_audit.c - the store side of the tamper-evident audit log: signed checkpoints, the export,
 * and RFC 9162 proofs.
 *
 * store_audit (store.c) appends each record with its leaf hash in the transaction of the change;
 * the formats are in audit.c.  This file keeps the tree heads:
 *
 *   checkpoints(size PK, ts, root, frontier, note, vkey)   one row per signed checkpoint
 *
 * A checkpoint of size n is written inside a write transaction: it loads the frontier (right edge)
 * of the previous checkpoint, adds the leaf hashes of records prev+1 .. n, and signs the new root
 * with the node key.  So signing costs the records since the last checkpoint, never the whole log,
 * and the checkpoint commits with the records it covers or not at all.  Invariants: checkpoint
 * sizes increase with their rowid; every checkpoint's root is the MTH of the stored leaf hashes
 * of records 1 .. size; all are signed under the origin in meta.audit_origin.
 *
 * The node key is DATA/keys/node.seed (32 raw bytes, 0600).  The first checkpoint of a store
 * without one creates it (O_EXCL: when two processes race, the loser loads the winner's key).
 *
 * Export directory (what audit_verify.c reads; every file is written here and nowhere else):
 *
 *   | file                  | content                                                        |
 *   |-----------------------|----------------------------------------------------------------|
 *   | records.jsonl         | the leaf bytes of record 1, 2, ... (audit.c), one per line,    |
 *   |                       | rebuilt from the row's fields as they are now                  |
 *   | leaves.bin            | the 32-byte leaf hashes stored when each record was written    |
 *   | checkpoints/N.note    | the signed checkpoint of size N, as signed                     |
 *   | keys                  | the verifier key of every checkpoint signer, one per line      |
 *
 * Proof text (accord_audit_prove / _consistency; parsed by audit_verify.c):
 *
 *   accord audit inclusion proof          | accord audit consistency proof
 *   seq <record>                          | old <size>
 *   size <checkpoint size>                | new <size>
 *   record <leaf bytes>                   | path <base64 hash>     (RFC 9162 order, 0..n lines)
 *   path <base64 hash>    (0..n lines)    | key <verifier key>     (1..n lines)
 *   key <verifier key>    (1..n lines)    | checkpoint <bytes>\n<the old note>
 *   checkpoint <bytes>\n<the note>        | checkpoint <bytes>\n<the new note>
 *
 * What this file does not do: decide what is recorded (the callers of store_audit), verify an
 * export (audit_verify.c), or run a timer (the server calls accord_audit_checkpoint).
 */
#include "audit.h"
#include "store_int.h"
#include "util/timestamp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ------------------------------------------------------------------------------------------ */
/* Node key                                                                                     */

static int node_key(accord_store *s, const accord_sign_key **out, accord_error *err)
{
    if (s->node_key) {
        *out = s->node_key;
        return 0;
    }
    char dir[4096], path[4200];
    if ((size_t)snprintf(dir, sizeof(dir), "%s/keys", s->dir) >= sizeof(dir))
        return accord_err_set(err, ACCORD_EINVAL, "audit: data directory path too long");
    snprintf(path, sizeof(path), "%s/node.seed", dir);
    struct stat sb;
    int rc;
    if (stat(path, &sb) != 0 && errno == ENOENT) {
        if (mkdir(dir, 0700) != 0 && errno != EEXIST)
            return accord_err_set(err, ACCORD_EIO, "audit: creating %s: %s", dir, strerror(errno));
        accord_sign_key *k = NULL;
        if ((rc = accord_sign_key_generate(&k)))
            return accord_err_set(err, rc, "audit: out of memory creating the node key");
        if (accord_sign_key_save(k, path, NULL) == 0) {
            s->node_key = k;
            *out = k;
            return 0;
        }
        accord_sign_key_free(k); /* another process created it meanwhile: use that one */
    }
    if ((rc = accord_sign_key_load(path, &s->node_key, err)))
        return rc;
    *out = s->node_key;
    return 0;
}

int accord_audit_vkey(accord_store *s, char *out, size_t cap, accord_error *err)
{
    const accord_sign_key *key;
    int rc = node_key(s, &key, err);
    if (rc)
        return rc;
    char origin[AUDIT_NAME_MAX + 1] = "";
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = 'audit_origin'", -1, &st,
                           NULL))
        return store_db_fail(s, err, "reading the audit origin");
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(origin, sizeof(origin), "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    uint8_t pk[ACCORD_SIGN_PUBLIC_LEN];
    audit_key k;
    accord_sign_key_public(key, pk);
    audit_key_make(&k, origin, pk);
    return audit_key_format(&k, out, cap) ? accord_err_set(err, ACCORD_ELIMIT, "audit: too long")
                                          : 0;
}

/* ------------------------------------------------------------------------------------------ */
/* The frontier cache                                                                           */

/*
 * Signing checkpoint n needs the frontier of records 1 .. n.  Made from the previous checkpoint's
 * frontier and the leaves since, that is up to 1,000 rows read back for every checkpoint; so the
 * handle keeps the frontier it made last (s->afront) and adds to it each leaf it writes.  It is
 * used only while it covers exactly the records stored:
 *   - only records written inside a store_begin transaction extend it (no other writer can
 *     interleave, and such a transaction ends in store_commit or store_rollback);
 *   - store_rollback forgets it, and so does a record written outside such a transaction (the
 *     caller's own transaction may still roll back);
 *   - each store_begin checks it against the log's last record, seq and leaf hash (another
 *     process may have appended records meanwhile), and then knows the next record's seq;
 *   - a checkpoint made the slow way makes it anew.
 */
typedef struct audit_cache {
    audit_frontier f;
    accord_merkle_hash last; /* the leaf hash of record f.n */
} audit_cache;

void store_audit_forget(accord_store *s)
{
    s->afront_ok = 0;
}

void store_audit_txn_begin(accord_store *s)
{
    if (!s->afront_ok)
        return;
    sqlite3_stmt *st = store_stmt(s, S_AUDIT_TAIL);
    s->afront_ok = 0;
    if (!st)
        return;
    int64_t seq = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        seq = sqlite3_column_int64(st, 0);
        s->afront_ok = (uint64_t)seq == s->afront->f.n && seq > 0 &&
                       sqlite3_column_bytes(st, 1) == ACCORD_MERKLE_HASH_LEN &&
                       memcmp(sqlite3_column_blob(st, 1), s->afront->last,
                              ACCORD_MERKLE_HASH_LEN) == 0;
    }
    sqlite3_reset(st);
    if (s->afront_ok)
        s->audit_next = seq + 1;
}

void store_audit_leaf_added(accord_store *s, int64_t seq, const uint8_t leaf[32])
{
    if (!s->afront_ok || s->afront->f.n + 1 != (uint64_t)seq) {
        s->afront_ok = 0;
        return;
    }
    audit_frontier_add(&s->afront->f, leaf);
    memcpy(s->afront->last, leaf, ACCORD_MERKLE_HASH_LEN);
}

/* Keeps f (records 1 .. f->n, the last one's leaf read back) as the cache. */
static void cache_set(accord_store *s, const audit_frontier *f)
{
    s->afront_ok = 0;
    if (!s->in_txn || f->n == 0 || (!s->afront && !(s->afront = malloc(sizeof(*s->afront)))))
        return;
    sqlite3_stmt *st = store_stmt(s, S_AUDIT_TAIL);
    if (!st)
        return;
    if (sqlite3_step(st) == SQLITE_ROW && (uint64_t)sqlite3_column_int64(st, 0) == f->n &&
        sqlite3_column_bytes(st, 1) == ACCORD_MERKLE_HASH_LEN) {
        s->afront->f = *f;
        memcpy(s->afront->last, sqlite3_column_blob(st, 1), ACCORD_MERKLE_HASH_LEN);
        s->afront_ok = 1;
    }
    sqlite3_reset(st);
}

/* ------------------------------------------------------------------------------------------ */
/* Checkpoints                                                                                  */

/* The latest checkpoint's size and frontier (size 0, empty frontier when there is none). */
static int last_checkpoint(accord_store *s, audit_frontier *f, accord_error *err)
{
    sqlite3_stmt *st;
    memset(f, 0, sizeof(*f));
    if (sqlite3_prepare_v2(s->db,
                           "SELECT size, frontier FROM checkpoints ORDER BY size DESC LIMIT 1", -1,
                           &st, NULL))
        return store_db_fail(s, err, "reading the latest checkpoint");
    int rc = 0;
    if (sqlite3_step(st) == SQLITE_ROW &&
        audit_frontier_load(f, (uint64_t)sqlite3_column_int64(st, 0), sqlite3_column_blob(st, 1),
                            (size_t)sqlite3_column_bytes(st, 1)))
        rc = accord_err_set(err, ACCORD_ECORRUPT, "audit: checkpoint %lld has a bad frontier",
                            (long long)sqlite3_column_int64(st, 0));
    sqlite3_finalize(st);
    return rc;
}

/* Adds the stored leaf hashes of records f->n + 1 .. size to f. */
static int add_leaves(accord_store *s, audit_frontier *f, int64_t size, accord_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT seq, leaf FROM audit WHERE seq > ?1 AND seq <= ?2"
                           " ORDER BY seq",
                           -1, &st, NULL))
        return store_db_fail(s, err, "reading audit leaves");
    sqlite3_bind_int64(st, 1, (int64_t)f->n);
    sqlite3_bind_int64(st, 2, size);
    int rc = 0;
    while (!rc && sqlite3_step(st) == SQLITE_ROW) {
        int64_t seq = sqlite3_column_int64(st, 0);
        if ((uint64_t)seq != f->n + 1 || sqlite3_column_bytes(st, 1) != ACCORD_MERKLE_HASH_LEN)
            rc = accord_err_set(err, ACCORD_ECORRUPT,
                                "audit: record %lld is missing or has no leaf hash",
                                (long long)f->n + 1);
        else
            audit_frontier_add(f, sqlite3_column_blob(st, 1));
    }
    sqlite3_finalize(st);
    if (!rc && f->n != (uint64_t)size)
        rc = accord_err_set(err, ACCORD_ECORRUPT, "audit: record %lld is missing",
                            (long long)f->n + 1);
    return rc;
}

static int origin_get(accord_store *s, char *out, size_t cap, accord_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = 'audit_origin'", -1, &st,
                           NULL))
        return store_db_fail(s, err, "reading the audit origin");
    int found = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0);
    if (found)
        snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return found ? 0 : accord_err_set(err, ACCORD_ECORRUPT, "audit: the store has no audit origin");
}

int store_audit_checkpoint_at(accord_store *s, int64_t size, accord_error *err)
{
    audit_frontier f;
    int rc = 0;
    if (s->in_txn && s->afront_ok && s->afront->f.n == (uint64_t)size) {
        /* record `size` was just written in this store_begin transaction (store_audit): no
         * checkpoint of this size or larger can exist yet */
        f = s->afront->f;
    } else {
        if ((rc = last_checkpoint(s, &f, err)) || f.n >= (uint64_t)size)
            return rc;
        if ((rc = add_leaves(s, &f, size, err)))
            return rc;
        cache_set(s, &f);
    }
    const accord_sign_key *key;
    char origin[AUDIT_NAME_MAX + 1], vkey[256];
    if ((rc = origin_get(s, origin, sizeof(origin), err)) || (rc = node_key(s, &key, err)))
        return rc;
    accord_merkle_hash root;
    audit_frontier_root(&f, root);
    buf note;
    buf_init(&note, AUDIT_NOTE_MAX);
    uint8_t pk[ACCORD_SIGN_PUBLIC_LEN];
    audit_key k;
    accord_sign_key_public(key, pk);
    audit_key_make(&k, origin, pk);
    if (audit_note_sign(&note, origin, (uint64_t)size, root, key) ||
        audit_key_format(&k, vkey, sizeof(vkey))) {
        buf_free(&note);
        return accord_err_set(err, ACCORD_ENOMEM, "audit: out of memory signing a checkpoint");
    }
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO checkpoints(size, ts, root, frontier, note, vkey)"
                           " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
                           -1, &st, NULL)) {
        buf_free(&note);
        return store_db_fail(s, err, "preparing a checkpoint insert");
    }
    sqlite3_bind_int64(st, 1, size);
    sqlite3_bind_int64(st, 2, ts_now_us());
    sqlite3_bind_blob(st, 3, root, sizeof(root), SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, f.h, f.depth * ACCORD_MERKLE_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, note.p, (int)note.len, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, vkey, -1, SQLITE_STATIC);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : store_db_fail(s, err, "writing a checkpoint");
    sqlite3_finalize(st);
    buf_free(&note);
    return rc;
}

int accord_audit_checkpoint(accord_store *s, uint64_t *size, accord_error *err)
{
    if (size)
        *size = 0;
    if (s->readonly)
        return accord_err_set(err, ACCORD_EINVAL, "audit: the store is open read-only");
    if (s->in_txn)
        return accord_err_set(err, ACCORD_EINVAL, "store: a transaction is already open");
    int rc = store_exec(s, "BEGIN IMMEDIATE", err);
    if (rc)
        return rc;
    int64_t n = store_scalar(s, "SELECT coalesce(max(seq), 0) FROM audit");
    if (n > 0)
        rc = store_audit_checkpoint_at(s, n, err);
    if (!rc)
        rc = store_exec(s, "COMMIT", err);
    if (rc) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
    if (size)
        *size = (uint64_t)store_scalar(s, "SELECT coalesce(max(size), 0) FROM checkpoints");
    return 0;
}

int accord_audit_checkpoints(accord_store *s, accord_audit_checkpoint_cb cb, void *ud,
                             accord_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT size, ts, root, note FROM checkpoints ORDER BY size", -1,
                           &st, NULL))
        return store_db_fail(s, err, "reading checkpoints");
    int rc = 0;
    while (!rc && sqlite3_step(st) == SQLITE_ROW) {
        char b64[48] = "";
        if (sqlite3_column_bytes(st, 2) == ACCORD_MERKLE_HASH_LEN)
            audit_b64_hash(sqlite3_column_blob(st, 2), b64, sizeof(b64));
        accord_audit_checkpoint_info c = {.size = (uint64_t)sqlite3_column_int64(st, 0),
                                          .ts_us = sqlite3_column_int64(st, 1),
                                          .root = b64,
                                          .note = (const char *)sqlite3_column_text(st, 3)};
        rc = cb(ud, &c);
    }
    sqlite3_finalize(st);
    return rc;
}

int store_audit_backfill(accord_store *s, accord_error *err)
{
    sqlite3_stmt *sel = NULL, *upd = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT seq, ts, action, object_seq, ref, detail FROM audit"
                           " WHERE leaf IS NULL ORDER BY seq",
                           -1, &sel, NULL) ||
        sqlite3_prepare_v2(s->db, "UPDATE audit SET leaf = ?2 WHERE seq = ?1", -1, &upd, NULL))
        rc = store_db_fail(s, err, "preparing the audit leaf backfill");
    while (!rc && sqlite3_step(sel) == SQLITE_ROW) {
        audit_fields f = {.seq = sqlite3_column_int64(sel, 0),
                          .ts = sqlite3_column_int64(sel, 1),
                          .action = (const char *)sqlite3_column_text(sel, 2),
                          .object = sqlite3_column_int64(sel, 3),
                          .ref = (const char *)sqlite3_column_text(sel, 4),
                          .detail = (const char *)sqlite3_column_text(sel, 5)};
        accord_merkle_hash leaf;
        buf_reset(s->leafbuf);
        if (audit_leaf_write(s->leafbuf, &f)) {
            rc = accord_err_set(err, ACCORD_ENOMEM, "audit: out of memory");
            break;
        }
        accord_merkle_leaf_hash(s->leafbuf->p, s->leafbuf->len, leaf);
        sqlite3_bind_int64(upd, 1, f.seq);
        sqlite3_bind_blob(upd, 2, leaf, sizeof(leaf), SQLITE_TRANSIENT);
        if (sqlite3_step(upd) != SQLITE_DONE)
            rc = store_db_fail(s, err, "writing an audit leaf");
        sqlite3_reset(upd);
    }
    sqlite3_finalize(sel);
    sqlite3_finalize(upd);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Export                                                                                       */

static int write_file(const char *dir, const char *name, const void *data, size_t len,
                      accord_error *err)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *fp = fopen(path, "wbx");
    if (!fp)
        return accord_err_set(err, ACCORD_EIO, "audit: %s: %s", path, strerror(errno));
    int bad = len && fwrite(data, 1, len, fp) != len;
    bad |= fclose(fp) != 0;
    return bad ? accord_err_set(err, ACCORD_EIO, "audit: writing %s failed", path) : 0;
}

/* Creates dir (or accepts it empty) and dir/checkpoints. */
static int make_dirs(const char *dir, accord_error *err)
{
    char sub[4200];
    if ((size_t)snprintf(sub, sizeof(sub), "%s/checkpoints", dir) >= 4096)
        return accord_err_set(err, ACCORD_EINVAL, "audit: export path too long");
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return accord_err_set(err, ACCORD_EIO, "audit: creating %s: %s", dir, strerror(errno));
    if (mkdir(sub, 0755) != 0)
        return accord_err_set(err, ACCORD_EIO,
                              "audit: creating %s: %s (export into a new or empty "
                              "directory)",
                              sub, strerror(errno));
    return 0;
}

/* Writes records.jsonl and leaves.bin. */
static int export_records(accord_store *s, const char *dir, accord_audit_summary *sum,
                          accord_error *err)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/records.jsonl", dir);
    FILE *rec = fopen(path, "wbx");
    snprintf(path, sizeof(path), "%s/leaves.bin", dir);
    FILE *lv = rec ? fopen(path, "wbx") : NULL;
    sqlite3_stmt *st = NULL;
    int rc = 0;
    if (!lv)
        rc = accord_err_set(err, ACCORD_EIO, "audit: %s: %s", path, strerror(errno));
    else if (sqlite3_prepare_v2(s->db,
                                "SELECT seq, ts, action, object_seq, ref, detail, leaf FROM audit"
                                " ORDER BY seq",
                                -1, &st, NULL))
        rc = store_db_fail(s, err, "reading the audit log");
    static const uint8_t none[ACCORD_MERKLE_HASH_LEN];
    while (!rc && sqlite3_step(st) == SQLITE_ROW) {
        audit_fields f = {.seq = sqlite3_column_int64(st, 0),
                          .ts = sqlite3_column_int64(st, 1),
                          .action = (const char *)sqlite3_column_text(st, 2),
                          .object = sqlite3_column_int64(st, 3),
                          .ref = (const char *)sqlite3_column_text(st, 4),
                          .detail = (const char *)sqlite3_column_text(st, 5)};
        const void *leaf = sqlite3_column_bytes(st, 6) == ACCORD_MERKLE_HASH_LEN
                               ? sqlite3_column_blob(st, 6)
                               : none;
        buf_reset(s->leafbuf);
        if (audit_leaf_write(s->leafbuf, &f) || buf_add(s->leafbuf, "\n", 1))
            rc = accord_err_set(err, ACCORD_ENOMEM, "audit: out of memory");
        else if (fwrite(s->leafbuf->p, 1, s->leafbuf->len, rec) != s->leafbuf->len ||
                 fwrite(leaf, 1, ACCORD_MERKLE_HASH_LEN, lv) != ACCORD_MERKLE_HASH_LEN)
            rc = accord_err_set(err, ACCORD_EIO, "audit: writing the export failed");
        sum->records++;
    }
    sqlite3_finalize(st);
    if (lv && fclose(lv) != 0 && !rc)
        rc = accord_err_set(err, ACCORD_EIO, "audit: writing leaves.bin failed");
    if (rec && fclose(rec) != 0 && !rc)
        rc = accord_err_set(err, ACCORD_EIO, "audit: writing records.jsonl failed");
    if (!rec)
        rc = accord_err_set(err, ACCORD_EIO, "audit: %s/records.jsonl: %s", dir, strerror(errno));
    return rc;
}

/* Writes checkpoints/N.note and keys. */
static int export_checkpoints(accord_store *s, const char *dir, accord_audit_summary *sum,
                              accord_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT size, note, vkey, root FROM checkpoints ORDER BY size",
                           -1, &st, NULL))
        return store_db_fail(s, err, "reading checkpoints");
    buf keys;
    buf_init(&keys, 1 << 20);
    int rc = 0;
    while (!rc && sqlite3_step(st) == SQLITE_ROW) {
        char name[64];
        int64_t size = sqlite3_column_int64(st, 0);
        const char *vkey = (const char *)sqlite3_column_text(st, 2);
        snprintf(name, sizeof(name), "checkpoints/%lld.note", (long long)size);
        rc = write_file(dir, name, sqlite3_column_text(st, 1), (size_t)sqlite3_column_bytes(st, 1),
                        err);
        if (!rc && vkey && !strstr(keys.p ? keys.p : "", vkey) &&
            (buf_adds(&keys, vkey) || buf_add(&keys, "\n", 1)))
            rc = accord_err_set(err, ACCORD_ENOMEM, "audit: out of memory");
        sum->checkpoints++;
        sum->signed_size = (uint64_t)size;
        if (sqlite3_column_bytes(st, 3) == ACCORD_MERKLE_HASH_LEN)
            audit_b64_hash(sqlite3_column_blob(st, 3), sum->root, sizeof(sum->root));
    }
    sqlite3_finalize(st);
    if (!rc)
        rc = write_file(dir, "keys", keys.p ? keys.p : "", keys.len, err);
    buf_free(&keys);
    return rc;
}

int accord_audit_export(accord_store *s, const char *dir, accord_audit_summary *out,
                        accord_error *err)
{
    accord_audit_summary sum = {0};
    int rc = s->readonly ? 0 : accord_audit_checkpoint(s, NULL, err);
    if (!rc)
        rc = make_dirs(dir, err);
    if (!rc)
        rc = store_exec(s, "BEGIN", err); /* one snapshot for records and checkpoints */
    if (rc)
        return rc;
    rc = export_records(s, dir, &sum, err);
    if (!rc)
        rc = export_checkpoints(s, dir, &sum, err);
    if (!rc)
        rc = origin_get(s, sum.origin, sizeof(sum.origin), err);
    sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    sum.unsigned_records = sum.records - sum.signed_size;
    snprintf(sum.keys, sizeof(sum.keys), "the store's checkpoints");
    if (out)
        *out = sum;
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Proofs                                                                                       */

/* The checkpoint of `size` (or the latest when size is 0): its size, note and verifier key. */
static int checkpoint_get(accord_store *s, uint64_t size, uint64_t *got, buf *note, buf *vkey,
                          accord_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT size, note, vkey FROM checkpoints WHERE ?1 = 0 OR size = ?1"
                           " ORDER BY size DESC LIMIT 1",
                           -1, &st, NULL))
        return store_db_fail(s, err, "reading a checkpoint");
    sqlite3_bind_int64(st, 1, (int64_t)size);
    int rc = 0;
    if (sqlite3_step(st) != SQLITE_ROW)
        rc = size
                 ? accord_err_set(err, ACCORD_ENOTFOUND,
                                  "audit: no checkpoint of size %llu (`accord audit list` shows "
                                  "them)",
                                  (unsigned long long)size)
                 : accord_err_set(err, ACCORD_ENOTFOUND,
                                  "audit: no checkpoint yet (`accord audit checkpoint` signs one)");
    else {
        *got = (uint64_t)sqlite3_column_int64(st, 0);
        if (buf_printf(note, "checkpoint %d\n", sqlite3_column_bytes(st, 1)) ||
            buf_add(note, sqlite3_column_text(st, 1), (size_t)sqlite3_column_bytes(st, 1)) ||
            (!strstr(vkey->p ? vkey->p : "", (const char *)sqlite3_column_text(st, 2)) &&
             buf_printf(vkey, "key %s\n", (const char *)sqlite3_column_text(st, 2))))
            rc = accord_err_set(err, ACCORD_ENOMEM, "audit: out of memory");
    }
    sqlite3_finalize(st);
    return rc;
}

/* The Merkle tree over the stored leaf hashes of records 1 .. size. */
static int tree_load(accord_store *s, uint64_t size, accord_merkle_tree **out, accord_error *err)
{
    *out = NULL;
    uint8_t *leaves = malloc(size ? size * ACCORD_MERKLE_HASH_LEN : 1);
    if (!leaves)
        return accord_err_set(err, ACCORD_ENOMEM, "audit: out of memory");
    sqlite3_stmt *st;
    int rc = 0;
    uint64_t n = 0;
    if (sqlite3_prepare_v2(s->db, "SELECT seq, leaf FROM audit WHERE seq <= ?1 ORDER BY seq", -1,
                           &st, NULL))
        rc = store_db_fail(s, err, "reading audit leaves");
    else {
        sqlite3_bind_int64(st, 1, (int64_t)size);
        while (!rc && sqlite3_step(st) == SQLITE_ROW) {
            if ((uint64_t)sqlite3_column_int64(st, 0) != n + 1 ||
                sqlite3_column_bytes(st, 1) != ACCORD_MERKLE_HASH_LEN)
                rc = accord_err_set(err, ACCORD_ECORRUPT, "audit: record %llu has no leaf hash",
                                    (unsigned long long)n + 1);
            else
                memcpy(leaves + n++ * ACCORD_MERKLE_HASH_LEN, sqlite3_column_blob(st, 1),
                       ACCORD_MERKLE_HASH_LEN);
        }
        sqlite3_finalize(st);
    }
    if (!rc && n != size)
        rc = accord_err_set(err, ACCORD_ECORRUPT, "audit: record %llu is missing",
                            (unsigned long long)n + 1);
    if (!rc && (rc = accord_merkle_tree_new(leaves, n, out)))
        rc = accord_err_set(err, rc, "audit: out of memory building the tree");
    free(leaves);
    return rc;
}

static int path_write(buf *out, const uint8_t *path, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char b64[48];
        audit_b64_hash(path + i * ACCORD_MERKLE_HASH_LEN, b64, sizeof(b64));
        if (buf_printf(out, "path %s\n", b64))
            return -1;
    }
    return 0;
}

/* The leaf bytes of record seq, appended to out. */
static int record_get(accord_store *s, uint64_t seq, buf *out, accord_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT seq, ts, action, object_seq, ref, detail FROM audit"
                           " WHERE seq = ?1",
                           -1, &st, NULL))
        return store_db_fail(s, err, "reading an audit record");
    sqlite3_bind_int64(st, 1, (int64_t)seq);
    int rc = 0;
    if (sqlite3_step(st) != SQLITE_ROW) {
        rc =
            accord_err_set(err, ACCORD_ENOTFOUND, "audit: no record %llu", (unsigned long long)seq);
    } else {
        audit_fields f = {.seq = sqlite3_column_int64(st, 0),
                          .ts = sqlite3_column_int64(st, 1),
                          .action = (const char *)sqlite3_column_text(st, 2),
                          .object = sqlite3_column_int64(st, 3),
                          .ref = (const char *)sqlite3_column_text(st, 4),
                          .detail = (const char *)sqlite3_column_text(st, 5)};
        if (audit_leaf_write(out, &f))
            rc = accord_err_set(err, ACCORD_ENOMEM, "audit: out of memory");
    }
    sqlite3_finalize(st);
    return rc;
}

int accord_audit_prove(accord_store *s, uint64_t seq, char **out, size_t *len, accord_error *err)
{
    *out = NULL;
    *len = 0;
    buf text, note, keys;
    buf_init(&text, 1 << 20);
    buf_init(&note, AUDIT_NOTE_MAX + 64);
    buf_init(&keys, 1 << 16);
    uint64_t size = 0;
    accord_merkle_tree *t = NULL;
    int rc = store_exec(s, "BEGIN", err);
    if (rc)
        goto out;
    rc = checkpoint_get(s, 0, &size, &note, &keys, err);
    if (!rc && (seq == 0 || seq > size))
        rc = accord_err_set(err, ACCORD_ENOTFOUND,
                            "audit: record %llu is not covered by the latest checkpoint (size "
                            "%llu; `accord audit checkpoint` signs a new one)",
                            (unsigned long long)seq, (unsigned long long)size);
    if (!rc)
        rc = tree_load(s, size, &t, err);
    if (!rc && buf_printf(&text, "accord audit inclusion proof\nseq %llu\nsize %llu\nrecord ",
                          (unsigned long long)seq, (unsigned long long)size))
        rc = ACCORD_ENOMEM;
    if (!rc)
        rc = record_get(s, seq, &text, err);
    uint8_t path[ACCORD_MERKLE_MAX_PROOF * ACCORD_MERKLE_HASH_LEN];
    size_t n = 0;
    if (!rc && (accord_merkle_tree_inclusion(t, seq - 1, path, &n) || buf_add(&text, "\n", 1) ||
                path_write(&text, path, n) || buf_add(&text, keys.p, keys.len) ||
                buf_add(&text, note.p, note.len)))
        rc = accord_err_set(err, ACCORD_ENOMEM, "audit: out of memory writing the proof");
out:
    sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    accord_merkle_tree_free(t);
    buf_free(&note);
    buf_free(&keys);
    if (!rc)
        *out = buf_take(&text, len);
    buf_free(&text);
    return rc;
}

int accord_audit_consistency(accord_store *s, uint64_t old_size, uint64_t new_size, char **out,
                             size_t *len, accord_error *err)
{
    *out = NULL;
    *len = 0;
    if (old_size == 0 || old_size >= new_size)
        return accord_err_set(err, ACCORD_EINVAL,
                              "audit: consistency needs two checkpoint sizes, OLD < NEW");
    buf text, notes, keys;
    buf_init(&text, 1 << 20);
    buf_init(&notes, 2 * AUDIT_NOTE_MAX + 64);
    buf_init(&keys, 1 << 16);
    uint64_t got = 0;
    accord_merkle_tree *t = NULL;
    int rc = store_exec(s, "BEGIN", err);
    if (rc)
        goto out;
    rc = checkpoint_get(s, old_size, &got, &notes, &keys, err);
    if (!rc)
        rc = checkpoint_get(s, new_size, &got, &notes, &keys, err);
    if (!rc)
        rc = tree_load(s, new_size, &t, err);
    uint8_t path[ACCORD_MERKLE_MAX_PROOF * ACCORD_MERKLE_HASH_LEN];
    size_t n = 0;
    if (!rc && (accord_merkle_tree_consistency(t, old_size, path, &n) ||
                buf_printf(&text, "accord audit consistency proof\nold %llu\nnew %llu\n",
                           (unsigned long long)old_size, (unsigned long long)new_size) ||
                path_write(&text, path, n) || buf_add(&text, keys.p, keys.len) ||
                buf_add(&text, notes.p, notes.len)))
        rc = accord_err_set(err, ACCORD_ENOMEM, "audit: out of memory writing the proof");
out:
    sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    accord_merkle_tree_free(t);
    buf_free(&notes);
    buf_free(&keys);
    if (!rc)
        *out = buf_take(&text, len);
    buf_free(&text);
    return rc;
}
