/*
 * provenance.h - signed STIX objects: the signature extension, signing single objects and
 * batches, verifying them with a cache (the contract; src/provenance.c has the formats).
 */
#ifndef ACCORD_PROVENANCE_H
#define ACCORD_PROVENANCE_H

#include "accord.h"
#include "member.h"
#include "util/buf.h"
#include "util/json.h"

#define PROV_SIG_EXT "extension-definition--53c7b8eb-425d-4c94-b293-1a9751b00c31"
/* The producer named by the extension-definitions accord ships, and the TLP 2.0 CLEAR marking
 * they carry so that every reader of a collection may resolve them. */
#define PROV_ACCORD_IDENTITY "identity--8c6af861-7b20-41ef-9b59-6344fd872a8f"
#define PROV_TLP_CLEAR "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
/* The DSSE media type of a signed object (PAE(PROV_OBJECT_TYPE, JCS(object without the
 * signature extension))) and of a signed batch root (PAE(PROV_BATCH_TYPE, root || size)). */
#define PROV_OBJECT_TYPE "application/vnd.accord.stix-object+json"
#define PROV_BATCH_TYPE "application/vnd.accord.stix-batch+json"
#define PROV_MAX_SIGS 16
#define PROV_MAX_PATH 32 /* inclusion paths: batches of up to 2^32 objects */
#define PROV_MAX_BATCH 65536

typedef struct prov_sig {
    char signer_ref[MEMBER_ID_LEN + 1];
    char keyid[MEMBER_KEYID_HEX + 1];
    uint8_t sig[ACCORD_SIGN_SIG_LEN];
    int batch;            /* 0: sig signs the object; 1: sig signs a Merkle root */
    uint64_t index, size; /* batch: the object's leaf index and the batch's size */
    size_t npath;         /* batch: hashes in path, leaf side first */
    /* set by prov_prove only (zero wherever a signature is parsed or made): the Ed25519 and
     * Merkle checks of this signature over its object held under public key proven_pk */
    int proven;
    uint8_t proven_pk[32];
    uint8_t path[PROV_MAX_PATH * ACCORD_MERKLE_HASH_LEN];
} prov_sig;

typedef struct prov_sigs {
    size_t n;
    prov_sig v[PROV_MAX_SIGS];
} prov_sigs;

/*
 * Splits a parsed object into its content (the object without the signature extension; without
 * `extensions` at all when that was the only one; a shallow copy in arena a, or obj itself when it
 * carries no signature) and its signatures.  ACCORD_EINVAL with the property path in err when the
 * extension is malformed; ACCORD_ENOMEM.
 */
int prov_parse(ajson_arena *a, const ajson_value *obj, const ajson_value **content, prov_sigs *sigs,
               accord_error *err);

/* JCS(content) into out (appended); ACCORD_EJSON for numbers JCS refuses, ACCORD_ENOMEM. */
int prov_canonical(const ajson_value *content, buf *out, accord_error *err);
/* The object hash: SHA-256(PAE(PROV_OBJECT_TYPE, jcs)). */
void prov_object_hash(const char *jcs, size_t len, uint8_t out[32]);

/*
 * The stored form of a signed object: JCS of content with the signature extension holding sigs,
 * sorted by (keyid, then the entry's bytes) and without duplicates, so that equal signature sets
 * serialise to the same bytes on every node.  Appended to out.
 */
int prov_write(ajson_arena *a, const ajson_value *content, const prov_sigs *sigs, buf *out,
               accord_error *err);

/*
 * Both forms of an object from one RFC 8785 pass: canon = JCS(content), the signed bytes, and
 * skel = JCS(content with a null signature extension), the stored form with a hole at
 * [hole_start, hole_end) where prov_stored puts the signature list, which may change after
 * canon was verified (endorsements merged, this node's signature added).  Buffers are the
 * caller's (buf_init them, reused across objects).
 */
typedef struct prov_form {
    buf canon, skel;
    size_t hole_start, hole_end;
    int as_stored; /* prov_forms_as: skel is already prov_stored(f, sigs) */
} prov_form;

/* Fills f for content (prov_parse's); ACCORD_EJSON for numbers JCS refuses, ACCORD_ENOMEM. */
int prov_forms(ajson_arena *a, const ajson_value *content, prov_form *f, accord_error *err);
/*
 * prov_forms for an object as received: ext is the value of its signature extension (NULL when
 * it has none) and sigs what prov_parse read from it.  When that list is already in stored order
 * (sorted by key id, as every accord node writes it), skel is written with it in the hole instead
 * of null and f->as_stored is set: skel is then byte for byte prov_stored(f, sigs), so a caller
 * storing exactly sigs stores skel as it is instead of writing the list again.
 */
int prov_forms_as(ajson_arena *a, const ajson_value *content, const ajson_value *ext,
                  const prov_sigs *sigs, prov_form *f, accord_error *err);
/*
 * prov_forms_as for an object whose text (text[0..len): what root was parsed from, or root's
 * bytes in a larger text parsed whole, or the ajson_minify output of either (as
 * jcs_is_canonical_parsed allows); content and sigs prov_parse's) may already be its
 * stored form: when the text is canonical (jcs_is_canonical_parsed) and its list in stored
 * order, the forms are cut from the text instead of written, and are the same bytes
 * prov_forms_as would write; otherwise it is prov_forms_as.
 */
int prov_forms_text(ajson_arena *a, const ajson_value *root, const char *text, size_t len,
                    const ajson_value *content, const ajson_value *ext, const prov_sigs *sigs,
                    prov_form *f, accord_error *err);
/* Appends the stored form of f's object with sigs to out: byte for byte prov_write's. */
int prov_stored(const prov_form *f, const prov_sigs *sigs, buf *out, accord_error *err);

/* A single signature of jcs by key (key id keyid) for signer_ref. */
int prov_sign(const accord_sign_key *key, const char *signer_ref, const char *keyid,
              const char *jcs, size_t len, prov_sig *out);

/*
 * One batch signature over the object hashes hashes[0..n) (32 bytes each, prov_object_hash):
 * out[i] gets object i's signature entry with its inclusion path.  n <= PROV_MAX_BATCH.
 */
int prov_sign_batch(const accord_sign_key *key, const char *signer_ref, const char *keyid,
                    const uint8_t *hashes, size_t n, prov_sig *out);

/* Adds s to sigs unless a signature with its key id is there; 1 when added, 0 when not. */
int prov_sigs_add(prov_sigs *sigs, const prov_sig *s);

typedef enum prov_status {
    PROV_UNVERIFIED = 0, /* no signature, or none by a key this node knows */
    PROV_AUTHORED,       /* a valid signature by the identity in created_by_ref */
    PROV_ENDORSED,       /* valid signatures, none by created_by_ref's identity */
    PROV_INVALID,        /* a signature does not verify, or its key may not sign */
} prov_status;

const char *prov_status_name(prov_status s);

typedef struct prov_result {
    prov_status status;
    size_t valid;     /* signatures that verified */
    size_t unknown;   /* signatures by identities or keys not known here */
    char reason[320]; /* for PROV_INVALID: which signature and why */
} prov_result;

/* Verifies signatures for one store; caches keys and verified (object hash, signature) pairs. */
typedef struct prov_verifier prov_verifier;

int prov_verifier_new(accord_store *s, prov_verifier **out);
void prov_verifier_free(prov_verifier *v);
/* Forgets the cached keys of identities (after an identity version was stored). */
void prov_verifier_forget_keys(prov_verifier *v);
/* Moves v to store s (its cache of proven signatures kept, its keys forgotten): what one store
 * handle proved holds on another, while keys and their statuses are read again there. */
void prov_verifier_rebind(prov_verifier *v, accord_store *s);
/* Takes the key list of an identity version just stored (content: without signatures; stored
 * at added_us) into the cache, since the store's index shows it only once committed. */
int prov_verifier_learn(prov_verifier *v, const ajson_value *content, int64_t added_us,
                        accord_error *err);
/* Hits of the verification cache (tests and benchmarks). */
uint64_t prov_verifier_hits(const prov_verifier *v);

/*
 * Verifies sigs over the object whose content has canonical form jcs[0..len) and object hash
 * `hash` (prov_object_hash).  created_by may
 * be NULL.  accepted_us is when the object was first accepted here (now, for ingest): a key
 * compromised before that makes its signature invalid; retired keys stay valid.  An identity
 * carrying a key list is checked against its own stored versions too (rotation: a new version
 * must carry a valid signature by a root key of the version before it).  0 with *out filled;
 * ACCORD_ENOMEM or store errors.
 */
/*
 * The cryptography of prov_verify ahead of it, for an import prepared before the writer's lock
 * (import.c): marks each signature in sigs that holds over the object (jcs, hash) under the key
 * its signer has in v, whatever that key's status, as proven with that public key.  A later
 * prov_verify, with the keys as they are then, judges a proven signature on its key's status as
 * always and skips the Ed25519 and Merkle work when its key has the same public key.  0, or
 * ACCORD_ENOMEM or store errors.
 */
int prov_prove(prov_verifier *v, const char *jcs, size_t len, const uint8_t hash[32],
               prov_sigs *sigs, accord_error *err);

int prov_verify(prov_verifier *v, const char *jcs, size_t len, const uint8_t hash[32],
                const char *created_by, const prov_sigs *sigs, int64_t accepted_us,
                prov_result *out, accord_error *err);

/*
 * For an identity carrying a key list (content: without the signature extension): the list must
 * be well formed with valid delegations, and the version signed by an active root key of the
 * stored version of that identity (rotation), or of its own list when none is stored; no key may
 * be dropped or move back in status.  *out is PROV_AUTHORED when all holds, PROV_INVALID with the
 * reason when not, PROV_UNVERIFIED when the identity has no key list (then judge it with
 * prov_verify like any object).
 */
int prov_verify_identity(prov_verifier *v, const ajson_value *content, const char *jcs, size_t len,
                         const uint8_t hash[32], const prov_sigs *sigs, int64_t accepted_us,
                         prov_result *out, accord_error *err);

/*
 * The extension-definition object accord ships for the signature extension (and the one for the
 * key list, member.h), as compact JSON: published in every collection.
 */
extern const char prov_sig_extdef_json[];
extern const char prov_keys_extdef_json[];

/*
 * Publishing them (src/provenance_publish.c).  prov_publish stores accord's extension-definitions
 * (signatures, member keys, roster) in collection cid inside the caller's open transaction: new
 * ones are stored, stored ones linked to the collection, ones already there left alone.  Import
 * calls it for each collection that receives a signed object or a key list, so a TAXII client
 * reading the collection can resolve what those objects use.  ACCORD_ENOMEM, store errors.
 */
int prov_publish(accord_store *s, int64_t cid, accord_error *err);
/* 1 when obj (parsed, without signatures) is byte for byte, in canonical form, one of the
 * extension-definitions accord ships: a relay may pass those on unsigned. */
int prov_is_shipped(const ajson_value *obj);

#endif
