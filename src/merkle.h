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

#endif
