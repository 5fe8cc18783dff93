/*
 * merkle.h - RFC 6962 / RFC 9162 Merkle trees (the contract is in include/accord_trust.h,
 * accord_merkle_*; src/merkle.c explains the structure and the proof encodings).
 */
#ifndef ACCORD_MERKLE_H
#define ACCORD_MERKLE_H

#include "accord.h"

#endif
