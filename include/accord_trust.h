/*
 * accord_trust.h - the cryptographic foundations of the trust layer (part of the public API;
 * included by accord.h).
 *
 * Three independent pieces, each reproducible with other tools from its published specification:
 *   accord_jcs*            RFC 8785 JSON Canonicalization Scheme: the bytes that are signed
 *   accord_merkle_*        RFC 6962 / RFC 9162 Merkle tree hashes, inclusion and consistency
 *                          proofs (SHA-256): batch signatures and the audit log
 *   accord_sign_*          Ed25519 (RFC 8032, pure, never Ed25519ph) keys, signatures, and the
 *                          DSSE pre-authentication encoding that binds a media type to a body
 *
 * Ownership follows accord.h.  Buffers returned through `char **out` are the caller's, released
 * with free().  Verification functions return 0 when the proof or signature holds and
 * ACCORD_EINVAL when it does not (or when its sizes are impossible); they never allocate.
 */
#ifndef ACCORD_TRUST_H
#define ACCORD_TRUST_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------ */
/* RFC 8785 canonical JSON                                                                      */

/* Hard cap on the canonical output of one document (the input cap of callers is lower). */
#define ACCORD_JCS_MAX_OUTPUT ((size_t)1 << 30)

/*
 * Canonicalises the JSON document text[0..len) by RFC 8785: no whitespace, object members sorted
 * by the UTF-16 code units of their keys, strings escaped minimally, numbers printed as IEEE-754
 * doubles the way ECMAScript's Number.prototype.toString does.  On success *out is a
 * NUL-terminated malloc'd string of *out_len bytes (free() it).
 *
 * Rejected, with ACCORD_EJSON and a message naming the byte offset: invalid JSON (RFC 8259
 * grammar, invalid UTF-8, lone surrogates, duplicate keys, nesting deeper than 100); numbers
 * that overflow a double (1e400: JSON has no NaN or Infinity, so this is the only way to write a
 * non-finite number); integers beyond 2^53: integer literals (no fraction, no exponent) whose
 * magnitude exceeds 2^53, which a double cannot hold exactly, and any number whose value lies
 * beyond 2^53 and below 1e21, whose canonical form would be such a literal.  2^53 itself,
 * fractions, and numbers from 1e21 up (printed in exponent form) are accepted, rounded to the
 * nearest double as RFC 8785 prescribes.  So canonical output is always accepted again.
 * ACCORD_ENOMEM when memory or ACCORD_JCS_MAX_OUTPUT runs out.
 */
ACCORD_API int accord_jcs(const char *text, size_t len, char **out, size_t *out_len,
                          accord_error *err);

/*
 * Formats the double d as ECMAScript Number.prototype.toString would (the RFC 8785 number form)
 * into out (>= 32 bytes), NUL-terminated; returns the length, or ACCORD_EINVAL for NaN and
 * infinities.  -0 prints as "0".
 */
ACCORD_API int accord_jcs_number(double d, char *out, size_t outlen);

/* ------------------------------------------------------------------------------------------ */
/* RFC 6962 / RFC 9162 Merkle trees                                                             */

#define ACCORD_MERKLE_HASH_LEN 32
/* The longest inclusion or consistency proof of a tree of at most 2^64-1 leaves. */
#define ACCORD_MERKLE_MAX_PROOF 128

/* One hash.  Lists of hashes (leaves, proofs) are flat byte arrays, 32 bytes per hash. */
typedef uint8_t accord_merkle_hash[ACCORD_MERKLE_HASH_LEN];

/* The leaf hash SHA-256(0x00 || data). */
ACCORD_API void accord_merkle_leaf_hash(const void *data, size_t len, accord_merkle_hash out);
/* The interior node hash SHA-256(0x01 || left || right). */
ACCORD_API void accord_merkle_node_hash(const accord_merkle_hash left,
                                        const accord_merkle_hash right, accord_merkle_hash out);

/* A tree over a fixed list of leaf hashes, with every level kept so that proofs are O(log n). */
typedef struct accord_merkle_tree accord_merkle_tree;

/*
 * Builds the tree over n leaf hashes, 32 bytes each back to back in leaves (copied; n may be 0: the
 * root is then SHA-256 of nothing). *out owns the tree; free it with accord_merkle_tree_free.
 * ACCORD_ENOMEM, ACCORD_ELIMIT.
 */
ACCORD_API int accord_merkle_tree_new(const uint8_t *leaves, size_t n, accord_merkle_tree **out);
ACCORD_API void accord_merkle_tree_free(accord_merkle_tree *t);
/* The number of leaves and the tree head (MTH of RFC 6962 section 2.1). */
ACCORD_API size_t accord_merkle_tree_size(const accord_merkle_tree *t);
ACCORD_API void accord_merkle_tree_root(const accord_merkle_tree *t, accord_merkle_hash out);

/*
 * The audit path of leaf `index` (RFC 9162 section 2.1.3.1), leaf-side first, into path (room
 * for ACCORD_MERKLE_MAX_PROOF hashes of 32 bytes, back to back); *path_len hashes written.
 * ACCORD_EINVAL when index >= size.
 */
ACCORD_API int accord_merkle_tree_inclusion(const accord_merkle_tree *t, size_t index,
                                            uint8_t *path, size_t *path_len);
/*
 * The consistency proof between the first old_size leaves and the whole tree (RFC 9162 section
 * 2.1.4.1).  Empty for old_size == size; ACCORD_EINVAL for old_size == 0 or > size.
 */
ACCORD_API int accord_merkle_tree_consistency(const accord_merkle_tree *t, size_t old_size,
                                              uint8_t *path, size_t *path_len);

/*
 * Verifies that leaf_hash is leaf `index` of the tree of `size` leaves whose head is `root`
 * (RFC 9162 section 2.1.3.2).  0 when it is, ACCORD_EINVAL when not.
 */
ACCORD_API int accord_merkle_verify_inclusion(const accord_merkle_hash leaf_hash, uint64_t index,
                                              uint64_t size, const uint8_t *path, size_t path_len,
                                              const accord_merkle_hash root);
/*
 * Verifies that the tree (old_size, old_root) is a prefix of (new_size, new_root) (RFC 9162
 * section 2.1.4.2).  0 when it is, ACCORD_EINVAL when not.
 */
ACCORD_API int accord_merkle_verify_consistency(uint64_t old_size, uint64_t new_size,
                                                const accord_merkle_hash old_root,
                                                const accord_merkle_hash new_root,
                                                const uint8_t *path, size_t path_len);

/* ------------------------------------------------------------------------------------------ */
/* Ed25519 signatures and DSSE                                                                  */

#define ACCORD_SIGN_SEED_LEN 32
#define ACCORD_SIGN_PUBLIC_LEN 32
#define ACCORD_SIGN_SIG_LEN 64

/* A secret key: held in guarded, locked memory (sodium_malloc), wiped when freed. */
typedef struct accord_sign_key accord_sign_key;

/* Derives the key pair of a 32-byte seed (RFC 8032 "secret key").  ACCORD_ENOMEM. */
ACCORD_API int accord_sign_key_from_seed(const uint8_t seed[ACCORD_SIGN_SEED_LEN],
                                         accord_sign_key **out);
/* A new random key pair.  ACCORD_ENOMEM. */
ACCORD_API int accord_sign_key_generate(accord_sign_key **out);
/*
 * Loads a seed file: exactly 32 raw bytes, a regular file not readable, writable or executable by
 * group or others (mode 0600 or stricter).  ACCORD_EIO (cannot open or read), ACCORD_EINVAL
 * (permissions too open, not a regular file, wrong size), with the path and reason in *err.
 */
ACCORD_API int accord_sign_key_load(const char *path, accord_sign_key **out, accord_error *err);
/* Writes the key's seed to a new file of mode 0600 (never overwrites).  ACCORD_EIO. */
ACCORD_API int accord_sign_key_save(const accord_sign_key *key, const char *path,
                                    accord_error *err);
/* Wipes and frees the key; accepts NULL. */
ACCORD_API void accord_sign_key_free(accord_sign_key *key);
/* The key's public half. */
ACCORD_API void accord_sign_key_public(const accord_sign_key *key,
                                       uint8_t pk[ACCORD_SIGN_PUBLIC_LEN]);

/* The Ed25519 signature of msg[0..len). */
ACCORD_API void accord_sign(const accord_sign_key *key, const void *msg, size_t len,
                            uint8_t sig[ACCORD_SIGN_SIG_LEN]);
/* 0 when sig is pk's Ed25519 signature of msg[0..len), ACCORD_EINVAL when not. */
ACCORD_API int accord_sign_verify(const uint8_t pk[ACCORD_SIGN_PUBLIC_LEN], const void *msg,
                                  size_t len, const uint8_t sig[ACCORD_SIGN_SIG_LEN]);

/*
 * The DSSE v1 pre-authentication encoding of (type, body): "DSSEv1" SP LEN(type) SP type SP
 * LEN(body) SP body, lengths as ASCII decimal byte counts (src/sign.c has the table).  *out is
 * malloc'd (free() it), NUL-terminated after *out_len bytes.  ACCORD_ENOMEM, ACCORD_ELIMIT.
 */
ACCORD_API int accord_sign_pae(const char *type, const void *body, size_t body_len, char **out,
                               size_t *out_len);
/* Signs PAE(type, body).  ACCORD_ENOMEM. */
ACCORD_API int accord_sign_dsse(const accord_sign_key *key, const char *type, const void *body,
                                size_t body_len, uint8_t sig[ACCORD_SIGN_SIG_LEN]);
/* 0 when sig is pk's signature of PAE(type, body); ACCORD_EINVAL when not; ACCORD_ENOMEM. */
ACCORD_API int accord_sign_dsse_verify(const uint8_t pk[ACCORD_SIGN_PUBLIC_LEN], const char *type,
                                       const void *body, size_t body_len,
                                       const uint8_t sig[ACCORD_SIGN_SIG_LEN]);

/* ------------------------------------------------------------------------------------------ */
/* Members: this node's organisation and its keys                                               */

/* One key of an organisation's key list (src/member.h tables the format). */
typedef struct accord_member_key {
    const char *keyid;      /* 32 lowercase hex digits: SHA-256(public key)[0..16) */
    const char *purpose;    /* "root", "signing", "node" */
    const char *status;     /* "active", "retired", "compromised" */
    const char *since;      /* when it was delegated */
    const char *public_key; /* base64 */
    int64_t status_us;      /* when this node applied the status (date_added), 0 if unknown */
} accord_member_key;

/* Called once per key with the identity's id and name. */
typedef int (*accord_member_key_cb)(void *ud, const char *identity, const char *name,
                                    const accord_member_key *key);

/*
 * Creates this node's organisation `name` in the store of data_dir: DATA/keys/{root,signing,node}
 * .seed (mode 0600; the root seed at root_out instead when not NULL; an existing node.seed is
 * adopted) and a STIX identity listing the keys, signed by the root key.  cb (may be NULL) is
 * called for each key.  ACCORD_EINVAL when one exists already.
 */
ACCORD_API int accord_member_init(accord_store *store, const char *data_dir, const char *name,
                                  const char *root_out, accord_member_key_cb cb, void *ud,
                                  accord_error *err);
/*
 * A new version of this node's identity signed by the root key (root_path NULL = DATA/keys/
 * root.seed): rotate "signing" or "node" (or NULL) retires that key and delegates a new one;
 * compromised_keyid (or NULL) marks a key compromised.
 */
ACCORD_API int accord_member_update(accord_store *store, const char *data_dir,
                                    const char *root_path, const char *rotate,
                                    const char *compromised_keyid, accord_member_key_cb cb,
                                    void *ud, accord_error *err);
/* The keys of identity `identity` as stored (NULL = this node's organisation). */
ACCORD_API int accord_member_keys(accord_store *store, const char *identity,
                                  accord_member_key_cb cb, void *ud, accord_error *err);

/* ------------------------------------------------------------------------------------------ */
/* Signed objects                                                                               */

/*
 * Whether TAXII POSTs into collection `ref` (id or alias) are signed with this node's
 * organisation (its active signing key in data_dir/keys).  Turning it on checks that the key
 * loads and is that key, and publishes accord's extension-definitions in the collection; one
 * transaction with a "collection-sign" audit record.  ACCORD_ENOTFOUND (no such collection, or
 * no organisation yet: `accord member init`), ACCORD_EINVAL.
 */
ACCORD_API int accord_collection_sign_set(accord_store *store, const char *data_dir,
                                          const char *ref, int on, accord_error *err);
/* What accord_sign_fd did. */
typedef struct accord_sign_stats {
    uint64_t read;           /* objects read */
    uint64_t objects;        /* objects written */
    uint64_t signed_objects; /* objects that got this node's signature */
    uint64_t kept;           /* identities with key lists and accord's extension-definitions:
                                written as they are, not signed here */
    uint64_t signatures;     /* Ed25519 signatures made: one per object, or one per batch */
} accord_sign_stats;

/*
 * Signs every object of a STIX input (as accord_import_fd reads it) with this node's
 * organisation (its active signing key in data_dir/keys; store is this node's) and writes one
 * bundle of the signed objects, in their stored form and input order, to out_fd.  batch 0: one
 * signature per object; batch N (<= 65536): one signature per N consecutive objects over the
 * RFC 6962 root of their hashes, each object carrying its inclusion path.  Signatures already on
 * an object stay; identities carrying key lists and accord's extension-definitions pass
 * unchanged.  Every object must be valid STIX: the first that is not ends the run (ACCORD_ESTIX,
 * ACCORD_EJSON with its index and id), leaving the output truncated.  ACCORD_ENOTFOUND before
 * `accord member init`.
 */
ACCORD_API int accord_sign_fd(accord_store *store, const char *data_dir, int in_fd, int out_fd,
                              uint32_t batch, accord_sign_stats *st, accord_error *err);

/*
 * 0 when no collection signs, or this node's signing key in data_dir/keys loads and is its
 * organisation's active signing key (a key file readable by group or others does not load);
 * otherwise the key's error, naming a collection that signs.  `accord serve` refuses to start
 * on it rather than answer every POST into that collection with an error.
 */
ACCORD_API int accord_collection_sign_check(accord_store *store, const char *data_dir,
                                            accord_error *err);
/*
 * Stores the signature list's extension-definition (the shipped constant, TLP:CLEAR) in every
 * collection that does not hold it yet, in one transaction; collections holding it are left
 * alone.  `accord collection add` and `accord serve` run it, so a TAXII client finds it in
 * every collection, empty ones included.  Store errors.
 */
ACCORD_API int accord_collection_extdef_publish(accord_store *store, accord_error *err);
/* *on = 1 when collection ref signs TAXII POSTs.  ACCORD_ENOTFOUND. */
ACCORD_API int accord_collection_sign_get(accord_store *store, const char *ref, int *on,
                                          accord_error *err);

/* What verification says of one object (src/provenance.c has the signature format). */
typedef struct accord_verify_result {
    uint64_t index;       /* position in the input (files), or 0 */
    const char *id;       /* the object's id, or NULL when it has none */
    const char *modified; /* its modified, or "" */
    const char *status;   /* "authored": a valid signature by the identity in created_by_ref;
                             "endorsed": valid signatures, none by that identity;
                             "unverified": no signature, or only by keys not known here;
                             "invalid": a signature does not verify or its key may not sign */
    const char *reason;   /* for "invalid" (and unreadable objects): why; else "" */
    size_t valid;         /* signatures that verified */
    size_t unknown;       /* signatures by identities or keys this node does not know */
} accord_verify_result;

typedef int (*accord_verify_cb)(void *ud, const accord_verify_result *r);

/*
 * Verifies every object of a STIX input (as accord_import_fd reads it) against the keys in store
 * (may be NULL) and the identities with key lists earlier in the input; calls cb per object.
 * Returns 0, or ACCORD_ESTIX when some object is invalid (cb saw it), or an input error.
 */
ACCORD_API int accord_verify_fd(accord_store *store, int fd, accord_verify_cb cb, void *ud,
                                accord_error *err);
/*
 * Verifies the stored versions of `id` (the latest, or every one with ACCORD_GET_ALL_VERSIONS):
 * keys compromised after a version was accepted here do not make it invalid.  ACCORD_ENOTFOUND,
 * ACCORD_ESTIX when a version is invalid.
 */
ACCORD_API int accord_verify_id(accord_store *store, const char *id, unsigned flags,
                                accord_verify_cb cb, void *ud, accord_error *err);

#ifdef __cplusplus
}
#endif

#endif
