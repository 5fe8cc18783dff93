/*
 * audit.h - the formats of the audit log, shared by the store (which writes records and signs
 * checkpoints) and the offline verifier (which reads an export).  The public contract is in
 * include/accord_audit.h; src/audit.c documents every format as a table.
 *
 * Nothing here touches the database or the file system: store_audit.c does the first,
 * audit_verify.c the second.
 */
#ifndef ACCORD_AUDIT_INT_H
#define ACCORD_AUDIT_INT_H

#include "accord.h"
#include "util/buf.h"
#include "util/json.h"

#include <stdint.h>

/* One audit record, as the leaf bytes encode it.  Strings may be NULL (absent); object 0 = none. */
typedef struct audit_fields {
    int64_t seq;    /* 1-based position; the Merkle leaf index is seq - 1 */
    int64_t ts;     /* microseconds since the epoch */
    int64_t object; /* objects.seq of the version concerned, 0 when none */
    const char *action;
    const char *ref;
    const char *detail;
} audit_fields;

/* Upper bounds of what a reader accepts. */
#define AUDIT_LINE_MAX (64 * 1024) /* one record's leaf bytes */
#define AUDIT_NOTE_MAX (16 * 1024) /* one signed checkpoint */
#define AUDIT_NAME_MAX 127         /* key names and origins, bytes */

/*
 * Appends the leaf bytes of f to out (RFC 8785 canonical JSON, no newline).  Invalid UTF-8 in the
 * strings is written as U+FFFD, so the bytes are always valid JSON and the same for the same
 * fields.  0, or ACCORD_ENOMEM when out fails.
 */
int audit_leaf_write(buf *out, const audit_fields *f);

/*
 * Parses one record's leaf bytes (line[0..len), no newline) into *out, whose strings live in
 * arena a (reset by the caller).  The bytes must be exactly what audit_leaf_write writes for the
 * fields they hold (so the check rewrites them into scratch).  0, ACCORD_EINVAL with the reason in
 * why, ACCORD_ENOMEM.
 */
int audit_leaf_parse(ajson_arena *a, buf *scratch, const char *line, size_t len, audit_fields *out,
                     char *why, size_t whycap);

/*
 * The right edge of an RFC 6962 tree of n leaves: the roots of its perfect subtrees, largest
 * first, one per set bit of n.  Enough to append leaves and compute the root of any prefix size
 * without the earlier leaves.
 */
typedef struct audit_frontier {
    uint64_t n;
    int depth; /* hashes in h: popcount(n) */
    accord_merkle_hash h[64];
} audit_frontier;

void audit_frontier_add(audit_frontier *f, const accord_merkle_hash leaf);
/* MTH of the n leaves added (SHA-256 of nothing when n is 0). */
void audit_frontier_root(const audit_frontier *f, accord_merkle_hash out);
/* Restores a frontier of n leaves from its hashes (popcount(n) * 32 bytes).  ACCORD_EINVAL. */
int audit_frontier_load(audit_frontier *f, uint64_t n, const void *hashes, size_t len);

/* A verifier key: "name+keyid+base64(0x01 || public key)". */
typedef struct audit_key {
    char name[AUDIT_NAME_MAX + 1];
    uint8_t id[4];
    uint8_t pk[ACCORD_SIGN_PUBLIC_LEN];
} audit_key;

/* The key id SHA-256(name || 0x0A || 0x01 || pk)[0:4] and the verifier key text of (name, pk). */
void audit_key_make(audit_key *k, const char *name, const uint8_t pk[ACCORD_SIGN_PUBLIC_LEN]);
int audit_key_format(const audit_key *k, char *out, size_t cap);
/* Parses one verifier key (surrounding whitespace ignored).  ACCORD_EINVAL with why. */
int audit_key_parse(const char *text, size_t len, audit_key *out, char *why, size_t whycap);
/*
 * Parses verifier keys, one per line (blank lines and lines starting with '#' skipped), into a
 * malloc'd array *out of *n.  ACCORD_EINVAL naming the line, ACCORD_ENOMEM.
 */
int audit_keys_parse(const char *text, size_t len, audit_key **out, size_t *n, char *why,
                     size_t whycap);

/* A checkpoint body: origin, tree size, root. */
typedef struct audit_checkpoint {
    char origin[AUDIT_NAME_MAX + 1];
    uint64_t size;
    accord_merkle_hash root;
    int key; /* index in the key list of the key whose signature verified */
} audit_checkpoint;

/*
 * Writes the signed note of (origin, size, root) signed by key under key name origin to out.
 * 0 or ACCORD_ENOMEM.
 */
int audit_note_sign(buf *out, const char *origin, uint64_t size, const accord_merkle_hash root,
                    const accord_sign_key *key);
/*
 * Opens a signed checkpoint note: parses it (C2SP signed-note and tlog-checkpoint grammar), and
 * verifies that a signature by one of keys holds.  A signature line naming a known key (name and
 * id) that does not verify rejects the note; unknown signers are ignored.  0, or ACCORD_EINVAL
 * with why.
 */
int audit_note_open(const char *text, size_t len, const audit_key *keys, size_t nkeys,
                    audit_checkpoint *out, char *why, size_t whycap);

/* Decodes exactly len base64 characters (RFC 4648, padded) into at most cap bytes (*n); -1 when
 * they are not that. */
int audit_b64_decode(const char *s, size_t len, uint8_t *out, size_t cap, size_t *n);
/* Copies msg into why (cap bytes) and returns ACCORD_EINVAL. */
int audit_why(char *why, size_t cap, const char *msg);

/* Base64 (RFC 4648, padded) of a hash into out (>= 45 bytes). */
void audit_b64_hash(const accord_merkle_hash h, char *out, size_t cap);

#endif
