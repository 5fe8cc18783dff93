/*
 * merkle.c - RFC 6962 / RFC 9162 Merkle tree hashes, inclusion and consistency proofs.
 *
 * Two users: batch signatures (one Ed25519 signature over the root of a batch of object hashes,
 * each object carrying its inclusion path) and the audit log (records are leaves; checkpoints
 * sign the root; `audit prove` and `audit consistency` print proofs).  Both must be checkable by
 * any RFC 9162 implementation, so hashing follows the RFC exactly, with SHA-256:
 *
 *   MTH({})       = SHA-256()                         (empty tree)
 *   leaf hash     = SHA-256(0x00 || data)
 *   node hash     = SHA-256(0x01 || left || right)
 *   MTH(D[0:n])   = node(MTH(D[0:k]), MTH(D[k:n])), k the largest power of two < n
 *
 * Data structure.  accord_merkle_tree keeps every level of the tree: level 0 the n leaf hashes,
 * level i+1 the pairwise node hashes of level i, where a level of odd length carries its last
 * hash up unchanged.  This "carry" layout yields exactly the RFC's MTH (the right edge of an RFC
 * tree is the unbalanced part, and carrying reproduces its shape), and it makes each node a
 * subtree hash: node j of level i is MTH(D[j*2^i : min((j+1)*2^i, n)]).  Invariants:
 *   1. level i has ceil(n / 2^i) hashes; the top level has one (or none when n == 0).
 *   2. every range the RFC's PATH and SUBPROOF recursions ask for is either aligned and of size
 *      2^i, or aligned to 2^i and ends at n: so each is one stored node (range_hash()).
 * Building costs n-1 hashes; an inclusion or consistency proof is O(log n) lookups.
 *
 * Proof encodings (what outlives the process: batch signatures carry inclusion paths, audit
 * exports carry both).  A proof is a bare list of 32-byte hashes in the RFC 9162 order; the
 * sizes and index it speaks of travel beside it:
 *
 *   | field       | size      | meaning                                                     |
 *   |-------------|-----------|-------------------------------------------------------------|
 *   | index       | u64       | inclusion: 0-based leaf position (carried by the caller)    |
 *   | tree size   | u64       | inclusion: leaves in the tree; consistency: old, new sizes  |
 *   | path[i]     | 32 bytes  | i = 0 nearest the leaf (inclusion) / as RFC 9162 2.1.4.1    |
 *   | path length | <= 128    | ACCORD_MERKLE_MAX_PROOF; 2 * ceil(log2 size) at most        |
 *
 * Verification (accord_merkle_verify_*) is the RFC 9162 sections 2.1.3.2 and 2.1.4.2
 * algorithms, written from the text, and never trusts the path length: a proof that is too short
 * or too long fails.  A root means nothing without its tree size: the verifier uses the size only
 * for the shape of the path, and one path can fit trees of several sizes, so whoever signs a root
 * signs its size with it (batch signatures, audit checkpoints).  What this file does not do: store
 * trees, sign roots, or encode proofs as text; its users do.
 */
#include "merkle.h"

#include <nettle/sha2.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

struct accord_merkle_tree {
    size_t n;    /* leaves */
    int nlevels; /* levels stored, leaves included */
    accord_merkle_hash *level[65];
    size_t level_len[65];
    accord_merkle_hash root;
};

/* SHA-256 by nettle, whose x86-64 assembly hashes several times faster than libsodium's portable
 * C: every audit record and every batch-signed object is hashed here (libsodium still does the
 * constant-time comparisons below). */
void accord_merkle_leaf_hash(const void *data, size_t len, accord_merkle_hash out)
{
    struct sha256_ctx st;
    static const uint8_t prefix = 0x00;
    sha256_init(&st);
    sha256_update(&st, 1, &prefix);
    sha256_update(&st, len, data);
    sha256_digest(&st, ACCORD_MERKLE_HASH_LEN, out);
}

void accord_merkle_node_hash(const accord_merkle_hash left, const accord_merkle_hash right,
                             accord_merkle_hash out)
{
    uint8_t in[1 + 2 * ACCORD_MERKLE_HASH_LEN];
    struct sha256_ctx st;
    in[0] = 0x01;
    memcpy(in + 1, left, ACCORD_MERKLE_HASH_LEN);
    memcpy(in + 1 + ACCORD_MERKLE_HASH_LEN, right, ACCORD_MERKLE_HASH_LEN);
    sha256_init(&st);
    sha256_update(&st, sizeof(in), in);
    sha256_digest(&st, ACCORD_MERKLE_HASH_LEN, out);
}

int accord_merkle_tree_new(const uint8_t *leaves, size_t n, accord_merkle_tree **out)
{
    *out = NULL;
    if (n > SIZE_MAX / (4 * sizeof(accord_merkle_hash)))
        return ACCORD_ELIMIT;
    accord_merkle_tree *t = calloc(1, sizeof(*t));
    if (!t)
        return ACCORD_ENOMEM;
    t->n = n;
    if (n == 0) {
        crypto_hash_sha256(t->root, NULL, 0);
        *out = t;
        return 0;
    }
    /* level 0 and every upper level in one allocation: level i has ceil(n / 2^i) hashes, fewer
       than n / 2^i + 1, so all levels hold fewer than 2n + 64 */
    accord_merkle_hash *all = malloc((2 * n + 64) * sizeof(*all));
    if (!all) {
        free(t);
        return ACCORD_ENOMEM;
    }
    memcpy(all, leaves, n * sizeof(*all));
    size_t len = n;
    accord_merkle_hash *cur = all;
    for (;;) {
        t->level[t->nlevels] = cur;
        t->level_len[t->nlevels] = len;
        t->nlevels++;
        if (len == 1)
            break;
        accord_merkle_hash *next = cur + len;
        for (size_t j = 0; j + 1 < len; j += 2)
            accord_merkle_node_hash(cur[j], cur[j + 1], next[j / 2]);
        if (len & 1)
            memcpy(next[len / 2], cur[len - 1], ACCORD_MERKLE_HASH_LEN);
        cur = next;
        len = (len + 1) / 2;
    }
    memcpy(t->root, cur[0], ACCORD_MERKLE_HASH_LEN);
    *out = t;
    return 0;
}

void accord_merkle_tree_free(accord_merkle_tree *t)
{
    if (!t)
        return;
    free(t->level[0]);
    free(t);
}

size_t accord_merkle_tree_size(const accord_merkle_tree *t)
{
    return t->n;
}

void accord_merkle_tree_root(const accord_merkle_tree *t, accord_merkle_hash out)
{
    memcpy(out, t->root, ACCORD_MERKLE_HASH_LEN);
}

int accord_merkle_tree_inclusion(const accord_merkle_tree *t, size_t index, uint8_t *path_,
                                 size_t *path_len)
{
    accord_merkle_hash *path = (accord_merkle_hash *)path_;
    *path_len = 0;
    if (index >= t->n)
        return ACCORD_EINVAL;
    size_t i = index;
    for (int lv = 0; lv + 1 < t->nlevels; lv++, i >>= 1) {
        size_t sib = i ^ 1;
        if (sib < t->level_len[lv])
            memcpy(path[(*path_len)++], t->level[lv][sib], ACCORD_MERKLE_HASH_LEN);
    }
    return 0;
}

/* The largest power of two strictly below n (n >= 2). */
static size_t split_point(size_t n)
{
    size_t k = 1;
    while (k << 1 < n)
        k <<= 1;
    return k;
}

/*
 * MTH(D[start : start+size]) for the ranges the RFC recursions produce (invariant 2): the node at
 * the level whose span 2^i is the smallest power of two >= size.
 */
static const uint8_t *range_hash(const accord_merkle_tree *t, size_t start, size_t size)
{
    int lv = 0;
    while (((size_t)1 << lv) < size)
        lv++;
    return t->level[lv][start >> lv];
}

/* RFC 6962 section 2.1.2 SUBPROOF(m, D[start : start+size], b). */
static void subproof(const accord_merkle_tree *t, size_t m, size_t start, size_t size, int b,
                     accord_merkle_hash *path, size_t *path_len)
{
    if (m == size) {
        if (!b)
            memcpy(path[(*path_len)++], range_hash(t, start, size), ACCORD_MERKLE_HASH_LEN);
        return;
    }
    size_t k = split_point(size);
    if (m <= k) {
        subproof(t, m, start, k, b, path, path_len);
        memcpy(path[(*path_len)++], range_hash(t, start + k, size - k), ACCORD_MERKLE_HASH_LEN);
    } else {
        subproof(t, m - k, start + k, size - k, 0, path, path_len);
        memcpy(path[(*path_len)++], range_hash(t, start, k), ACCORD_MERKLE_HASH_LEN);
    }
}

int accord_merkle_tree_consistency(const accord_merkle_tree *t, size_t old_size, uint8_t *path_,
                                   size_t *path_len)
{
    accord_merkle_hash *path = (accord_merkle_hash *)path_;
    *path_len = 0;
    if (old_size == 0 || old_size > t->n)
        return ACCORD_EINVAL;
    if (old_size < t->n)
        subproof(t, old_size, 0, t->n, 1, path, path_len);
    return 0;
}

/* node_hash(left, right) into out (which may alias either), through step i of memo. */
static void node_memo(merkle_memo *memo, size_t i, const uint8_t *left, const uint8_t *right,
                      accord_merkle_hash out)
{
    if (!memo || i >= MERKLE_MEMO_STEPS) {
        accord_merkle_node_hash(left, right, out);
        return;
    }
    uint8_t in[2 * ACCORD_MERKLE_HASH_LEN];
    memcpy(in, left, ACCORD_MERKLE_HASH_LEN);
    memcpy(in + ACCORD_MERKLE_HASH_LEN, right, ACCORD_MERKLE_HASH_LEN);
    if (memo->valid[i] && memcmp(memo->in[i], in, sizeof(in)) == 0) {
        memcpy(out, memo->out[i], ACCORD_MERKLE_HASH_LEN);
        return;
    }
    accord_merkle_node_hash(in, in + ACCORD_MERKLE_HASH_LEN, out);
    memcpy(memo->in[i], in, sizeof(in));
    memcpy(memo->out[i], out, ACCORD_MERKLE_HASH_LEN);
    memo->valid[i] = 1;
}

int merkle_root_from_path_memo(const accord_merkle_hash leaf_hash, uint64_t index, uint64_t size,
                               const uint8_t *path_, size_t path_len, merkle_memo *memo,
                               accord_merkle_hash r)
{
    const accord_merkle_hash *path = (const accord_merkle_hash *)path_;
    if (index >= size)
        return ACCORD_EINVAL;
    uint64_t fn = index, sn = size - 1;
    memcpy(r, leaf_hash, ACCORD_MERKLE_HASH_LEN);
    for (size_t i = 0; i < path_len; i++) {
        if (sn == 0)
            return ACCORD_EINVAL;
        if ((fn & 1) || fn == sn) {
            node_memo(memo, i, path[i], r, r);
            if (!(fn & 1))
                while (fn != 0 && !(fn & 1)) {
                    fn >>= 1;
                    sn >>= 1;
                }
        } else {
            node_memo(memo, i, r, path[i], r);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn != 0 ? ACCORD_EINVAL : 0;
}

int merkle_root_from_path(const accord_merkle_hash leaf_hash, uint64_t index, uint64_t size,
                          const uint8_t *path, size_t path_len, accord_merkle_hash r)
{
    return merkle_root_from_path_memo(leaf_hash, index, size, path, path_len, NULL, r);
}

int accord_merkle_verify_inclusion(const accord_merkle_hash leaf_hash, uint64_t index,
                                   uint64_t size, const uint8_t *path, size_t path_len,
                                   const accord_merkle_hash root)
{
    accord_merkle_hash r;
    if (merkle_root_from_path(leaf_hash, index, size, path, path_len, r))
        return ACCORD_EINVAL;
    return sodium_memcmp(r, root, sizeof(r)) == 0 ? 0 : ACCORD_EINVAL;
}

int accord_merkle_verify_consistency(uint64_t old_size, uint64_t new_size,
                                     const accord_merkle_hash old_root,
                                     const accord_merkle_hash new_root, const uint8_t *path_,
                                     size_t path_len)
{
    const accord_merkle_hash *path = (const accord_merkle_hash *)path_;
    if (old_size == 0 || old_size > new_size)
        return ACCORD_EINVAL;
    if (old_size == new_size)
        return path_len == 0 && sodium_memcmp(old_root, new_root, ACCORD_MERKLE_HASH_LEN) == 0
                   ? 0
                   : ACCORD_EINVAL;
    if (path_len == 0)
        return ACCORD_EINVAL;
    /* step 2: when old_size is a power of two, old_root is prepended to the path */
    const uint8_t *first = path[0];
    size_t start = 1;
    if ((old_size & (old_size - 1)) == 0) {
        first = old_root;
        start = 0;
    }
    uint64_t fn = old_size - 1, sn = new_size - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    accord_merkle_hash fr, sr;
    memcpy(fr, first, sizeof(fr));
    memcpy(sr, first, sizeof(sr));
    for (size_t i = start; i < path_len; i++) {
        if (sn == 0)
            return ACCORD_EINVAL;
        if ((fn & 1) || fn == sn) {
            accord_merkle_node_hash(path[i], fr, fr);
            accord_merkle_node_hash(path[i], sr, sr);
            if (!(fn & 1))
                while (fn != 0 && !(fn & 1)) {
                    fn >>= 1;
                    sn >>= 1;
                }
        } else {
            accord_merkle_node_hash(sr, path[i], sr);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0)
        return ACCORD_EINVAL;
    if (sodium_memcmp(fr, old_root, sizeof(fr)) != 0 || sodium_memcmp(sr, new_root, sizeof(sr)))
        return ACCORD_EINVAL;
    return 0;
}
