/*
 * member.h - this node's organisation and every member's keys (the contract; src/member.c
 * explains the design).
 *
 * An organisation is a STIX `identity` (identity_class "organization") whose keys are listed in
 * one property extension that accord ships, MEMBER_KEYS_EXT:
 *
 *   "extensions": { "extension-definition--d199fcc8-2064-4b35-a710-3bbd6393645a": {
 *       "extension_type": "property-extension",
 *       "keys": [ { "keyid": "3f5c...(32 hex)", "purpose": "root"|"signing"|"node",
 *                   "public_key": "base64 of the 32-byte Ed25519 public key",
 *                   "status": "active"|"retired"|"compromised",
 *                   "since": "2026-11-30T02:10:00.000Z",
 *                   "delegation": "base64 of a 64-byte Ed25519 signature" }, ... ] } }
 *
 *   | field      | meaning                                                                    |
 *   |------------|----------------------------------------------------------------------------|
 *   | keyid      | member_keyid(public key): lowercase hex of SHA-256(public key)[0..16)      |
 *   | purpose    | root: offline, signs identity versions and delegations (and roster votes); |
 *   |            | signing: signs intelligence; node: signs this node's audit checkpoints     |
 *   | public_key | RFC 4648 base64 with padding (the STIX "binary" type)                      |
 *   | status     | active; retired (no new signatures, old ones stay valid); compromised (no  |
 *   |            | signature by it is accepted into a store after the revocation applied)     |
 *   | since      | when the key was delegated (STIX timestamp, milliseconds)                  |
 *   | delegation | the root key's signature of PAE(MEMBER_DELEGATION_TYPE, JCS({identity_ref, |
 *   |            | keyid, purpose, public_key, since})); a root key signs its own entry       |
 *
 * Rotation and revocation are new versions of the identity (a new `modified`), each signed by an
 * active root key of the version before it (the signature extension, provenance.h).  Keys are never
 * removed from the list: a retired or compromised key stays so that old signatures can be judged.
 *
 * Key files live in DATA/keys/ (directory 0700): root.seed, signing.seed, node.seed, 32 raw bytes
 * each, mode 0600 (accord_sign_key_load refuses looser modes).  `accord member init --name ORG
 * [--root-out PATH]` writes them (the root seed may go elsewhere, for offline keeping).  When
 * node.seed already exists (the audit log creates one on first use when no member was
 * initialised), member init adopts it instead of replacing it.  The store remembers which identity
 * is this node's in meta('member_identity').
 */
#ifndef ACCORD_MEMBER_H
#define ACCORD_MEMBER_H

#include "accord.h"
#include "util/json.h"

#define MEMBER_KEYS_EXT "extension-definition--d199fcc8-2064-4b35-a710-3bbd6393645a"
#define MEMBER_DELEGATION_TYPE "application/vnd.accord.key-delegation+json"
#define MEMBER_KEYID_HEX 32
#define MEMBER_ID_LEN 46 /* "identity--" + UUID */
#define MEMBER_MAX_KEYS 32

typedef enum member_purpose {
    MEMBER_ROOT = 1,
    MEMBER_SIGNING = 2,
    MEMBER_NODE = 3,
} member_purpose;

typedef enum member_status {
    MEMBER_ACTIVE = 1,
    MEMBER_RETIRED = 2,
    MEMBER_COMPROMISED = 3,
} member_status;

typedef struct member_key {
    char keyid[MEMBER_KEYID_HEX + 1];
    member_purpose purpose;
    member_status status;
    uint8_t pk[ACCORD_SIGN_PUBLIC_LEN];
    char since[40];
    /* When this node applied the current status: the date_added (µs) of the first stored identity
     * version that gave the key this status; for active keys, of the version that listed it.
     * 0 for identities parsed from a file (member_parse). */
    int64_t status_us;
} member_key;

typedef struct member_identity {
    char id[MEMBER_ID_LEN + 1];
    char name[256];
    char created[40], modified[40];
    int64_t added_us; /* date_added of the version the keys come from (0 from a file) */
    size_t nkeys;
    member_key keys[MEMBER_MAX_KEYS];
} member_identity;

/* The key id of a public key: lowercase hex of the first 16 bytes of its SHA-256, and a NUL. */
void member_keyid(const uint8_t pk[ACCORD_SIGN_PUBLIC_LEN], char out[MEMBER_KEYID_HEX + 1]);

/* "root", "signing", "node" / "active", "retired", "compromised"; 0 when unknown. */
const char *member_purpose_name(member_purpose p);
const char *member_status_name(member_status s);
member_purpose member_purpose_parse(const char *s);
member_status member_status_parse(const char *s);

/* The seed file of purpose p in data_dir: DATA/keys/{root,signing,node}.seed.  ACCORD_ELIMIT. */
int member_key_path(const char *data_dir, member_purpose p, char *out, size_t outlen);
/* Loads this node's key of purpose p from data_dir (or from `path` when not NULL). */
int member_key_load(const char *data_dir, member_purpose p, const char *path, accord_sign_key **out,
                    accord_error *err);

/*
 * Reads the key list of an identity object (parsed JSON): id, name, modified and every key, each
 * delegation checked against the identity's root keys.  ACCORD_ENOTFOUND when the object has no
 * key list; ACCORD_EINVAL with the property path in err when the list is malformed or a
 * delegation does not verify.
 */
int member_parse(const ajson_value *identity, member_identity *out, accord_error *err);

/*
 * The keys of identity `id` as stored: the key list of its latest version, each key's status_us
 * from the history of versions.  ACCORD_ENOTFOUND when no version with a key list is stored.
 */
int member_keys_of(accord_store *s, const char *id, member_identity *out, accord_error *err);

/* This node's organisation: member_keys_of(meta('member_identity')).  ACCORD_ENOTFOUND before
 * `accord member init`. */
int member_self(accord_store *s, member_identity *out, accord_error *err);
/* Only the id of this node's organisation (out: MEMBER_ID_LEN + 1).  ACCORD_ENOTFOUND. */
int member_self_id(accord_store *s, char *out, size_t outlen);

/* This node's signer: the organisation's id, the key id of its active signing key and that key
 * (DATA/keys/signing.seed, the caller frees it), refused when the seed is not that key.
 * ACCORD_ENOTFOUND before `accord member init`; ACCORD_EINVAL; the key file's errors. */
typedef struct member_signer {
    accord_sign_key *key;
    char id[MEMBER_ID_LEN + 1];
    char keyid[MEMBER_KEYID_HEX + 1];
} member_signer;

int member_signer_load(accord_store *s, const char *data_dir, member_signer *out,
                       accord_error *err);

/* The key with this key id, or NULL. */
const member_key *member_key_find(const member_identity *m, const char *keyid);
/* The newest active key of purpose p (the last listed), or NULL. */
const member_key *member_key_active(const member_identity *m, member_purpose p);

typedef struct member_init_options {
    const char *name;     /* the organisation's name (required) */
    const char *root_out; /* where to write the root seed; NULL = DATA/keys/root.seed */
} member_init_options;

/*
 * Creates this node's organisation: the key files (adopting an existing node.seed), the identity
 * with its key list signed by the root key, stored in one transaction with meta('member_identity')
 * and an "identity applied" audit record.  ACCORD_EINVAL when a member is already initialised or a
 * key file exists (nothing is overwritten).  *out (may be NULL) gets the identity.
 */
int member_init(accord_store *s, const char *data_dir, const member_init_options *o,
                member_identity *out, accord_error *err);

/*
 * A new version of this node's identity signed by the root key (root_path NULL = DATA/keys/
 * root.seed): `rotate` of MEMBER_SIGNING or MEMBER_NODE retires the active key of that purpose and
 * delegates a new one (its seed replaces DATA/keys/PURPOSE.seed, the old one kept as
 * PURPOSE.seed.KEYID); `compromised_keyid` (may be NULL) marks that key compromised.
 */
int member_update(accord_store *s, const char *data_dir, const char *root_path,
                  member_purpose rotate, const char *compromised_keyid, member_identity *out,
                  accord_error *err);

#endif
