/*
 * accord_audit.h - the tamper-evident audit log (part of the public API; included by accord.h).
 *
 * Every change to a store (an object accepted, rejected or in conflict, accounts, tokens,
 * collections, allow-lists, ...) appends one audit record in the SQLite transaction of the change.
 * Records are the leaves of an RFC 6962 Merkle tree; the node key signs a checkpoint of the tree
 * (C2SP signed-note: origin, size, root) every ACCORD_AUDIT_CHECKPOINT_EVERY records inside the
 * transaction that writes the last of them, and whenever accord_audit_checkpoint is called (the
 * server calls it every 60 s and at shutdown).  src/audit.c documents the leaf bytes, the note and
 * the export directory; all three can be checked with other tools from their specifications.
 *
 * The node key is the seed file DATA/keys/node.seed (32 raw bytes, mode 0600); the first
 * checkpoint of a node that has none creates it.
 */
#ifndef ACCORD_AUDIT_H
#define ACCORD_AUDIT_H

#include "accord.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ACCORD_AUDIT_CHECKPOINT_EVERY 1000

/* What a verification or an export saw. */
typedef struct accord_audit_summary {
    uint64_t records;     /* records in the log (export) or read from the export (verify) */
    uint64_t checkpoints; /* checkpoints written (export) or whose signature verified (verify) */
    uint64_t signed_size; /* the size of the largest checkpoint */
    uint64_t unsigned_records; /* records after the largest checkpoint (not yet signed) */
    char origin[128];          /* the log's origin line, "accord.audit/<32 hex digits>" */
    char root[48];             /* the base64 root hash of the largest checkpoint */
    char keys[64];             /* where the verifying keys came from */
    /* verify only: what could be checked record by record */
    uint64_t leaves;     /* records compared with leaves.bin's logged hashes (0: no leaves.bin) */
    char latest[96];     /* the largest checkpoint's file, "checkpoints/<name>" */
    char unleaved[96];   /* when leaves < signed_size: the checkpoint covering record leaves + 1 */
} accord_audit_summary;

/*
 * Signs a checkpoint of the whole log now, unless the latest checkpoint already covers every
 * record.  *size (may be NULL) receives the size of the latest checkpoint afterwards (0: the log
 * is empty).  ACCORD_EIO for the node key file, store errors.
 */
ACCORD_API int accord_audit_checkpoint(accord_store *store, uint64_t *size, accord_error *err);

/*
 * Writes the log to directory dir (created; it must not exist or be empty): records.jsonl (the leaf
 * bytes of every record, one line each), leaves.bin (the leaf hashes stored when each record was
 * written), checkpoints/<size>.note, keys (verifier keys of every checkpoint signer).  A writable
 * store first signs a checkpoint of the records not yet covered.  *out may be NULL.
 */
ACCORD_API int accord_audit_export(accord_store *store, const char *dir, accord_audit_summary *out,
                                   accord_error *err);

/*
 * Verifies an export offline (no database).  keys: verifier keys to trust, one per line ("name+
 * keyid+base64"), or NULL to trust dir/keys.  0 when every checkpoint's signature verifies, the
 * checkpoints are consistent and every record up to the largest is intact.  ACCORD_EINVAL when
 * not, with err naming the first bad record ("record 42: edited ...", "record 42: missing ...",
 * "record 43: out of order ..."), "truncated: ..." when the records stop short of a checkpoint,
 * or "fork: ..." for checkpoints that no single log can have signed.  ACCORD_EIO, ACCORD_ENOMEM.
 */
/* On success the records up to signed_size are intact; records after it (unsigned_records) are
 * covered by no checkpoint: they were compared with leaves.bin (unsigned) up to `leaves`, and not
 * checked at all beyond it.  Records up to signed_size beyond `leaves` were checked only as whole
 * checkpoint ranges (from `unleaved` on), so an edit there is named by range, not by record. */
ACCORD_API int accord_audit_verify(const char *dir, const char *keys, accord_audit_summary *out,
                                   accord_error *err);

/*
 * The RFC 9162 inclusion proof of record seq (1-based) in the latest checkpoint, as text (the
 * record, the audit path, the signed checkpoint; src/audit.c has the format).  *out is malloc'd,
 * NUL-terminated after *len bytes.  ACCORD_ENOTFOUND when no checkpoint covers seq.
 */
ACCORD_API int accord_audit_prove(accord_store *store, uint64_t seq, char **out, size_t *len,
                                  accord_error *err);
/*
 * The RFC 9162 consistency proof between the checkpoints of sizes old_size < new_size, as text
 * with both signed checkpoints.  ACCORD_ENOTFOUND when either size has no checkpoint.
 */
ACCORD_API int accord_audit_consistency(accord_store *store, uint64_t old_size, uint64_t new_size,
                                        char **out, size_t *len, accord_error *err);
/*
 * Verifies a proof printed by accord_audit_prove or accord_audit_consistency, offline.  keys as
 * for accord_audit_verify; NULL trusts the keys the proof names.  On success `what` receives a
 * one-line description of what was proved.  ACCORD_EINVAL when the proof does not hold.
 */
ACCORD_API int accord_audit_proof_verify(const char *text, size_t len, const char *keys, char *what,
                                         size_t whatcap, accord_error *err);

/* One signed checkpoint, as handed to accord_audit_checkpoints' callback. */
typedef struct accord_audit_checkpoint_info {
    uint64_t size;    /* records covered: 1 .. size */
    int64_t ts_us;    /* when it was signed */
    const char *root; /* base64 root hash */
    const char *note; /* the signed note */
} accord_audit_checkpoint_info;
typedef int (*accord_audit_checkpoint_cb)(void *ud, const accord_audit_checkpoint_info *c);
/* Calls cb for every checkpoint, smallest first; a non-zero return stops and is returned. */
ACCORD_API int accord_audit_checkpoints(accord_store *store, accord_audit_checkpoint_cb cb,
                                        void *ud, accord_error *err);

/* The node key's verifier key ("name+keyid+base64"), creating the key when there is none. */
ACCORD_API int accord_audit_vkey(accord_store *store, char *out, size_t cap, accord_error *err);

#ifdef __cplusplus
}
#endif

#endif
