/*
 * merkle.h - RFC 6962 / RFC 9162 Merkle trees (the contract is in include/accord_trust.h,
 * accord_merkle_*; src/merkle.c explains the structure and the proof encodings).
 */
#ifndef ACCORD_MERKLE_H
#define ACCORD_MERKLE_H

#include "accord.h"

/*
 * The root that leaf_hash (leaf `index` of a tree of `size` leaves) and its inclusion path lead to
 * (RFC 9162 section 2.1.3.2 without the final comparison), into r: a signed batch root is checked
 * by recomputing it.  ACCORD_EINVAL when the path's length does not fit index and size.
 */
int merkle_root_from_path(const accord_merkle_hash leaf_hash, uint64_t index, uint64_t size,
                          const uint8_t *path, size_t path_len, accord_merkle_hash r);

/*
 * The node hashes merkle_root_from_path_memo computed last, one per step of a path: the objects
 * of one batch arrive in order and neighbours share all but their lowest path steps, so each step
 * first compares its two inputs with the last ones of that step (64 bytes) and hashes only when
 * they differ.  Checking a whole batch then costs about one node hash per object instead of
 * log2(size).  Zero it before first use; one per thread.
 */
#define MERKLE_MEMO_STEPS 64
typedef struct merkle_memo {
    uint8_t in[MERKLE_MEMO_STEPS][2 * ACCORD_MERKLE_HASH_LEN];
    accord_merkle_hash out[MERKLE_MEMO_STEPS];
    uint8_t valid[MERKLE_MEMO_STEPS];
} merkle_memo;

/* merkle_root_from_path, remembering node hashes in memo (may be NULL). */
int merkle_root_from_path_memo(const accord_merkle_hash leaf_hash, uint64_t index, uint64_t size,
                               const uint8_t *path, size_t path_len, merkle_memo *memo,
                               accord_merkle_hash r);

#endif
