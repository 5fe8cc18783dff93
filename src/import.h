/*
 * import.h - what the server needs of the ingest pipeline besides the public accord_import_fd.
 */
#ifndef ACCORD_IMPORT_H
#define ACCORD_IMPORT_H

#include "accord.h"
#include "util/json.h"

/*
 * An accord_import_options flag for callers inside the library only: every signed object of the
 * input was verified by the caller over the same bytes (its whole signature list, with this
 * store's keys, rejecting invalid and unverified ones), so the pipeline does not verify again.
 * A peer's accept policy sets it for a member's node.
 */
#define IMPORT_VERIFIED (1u << 30)

/*
 * Walks the stream's skeleton (the bundle, envelope or array around the objects) without parsing
 * the objects: 0 with *objects counted, or ACCORD_EJSON / ACCORD_ELIMIT with the byte offset of
 * the fault in err.  The fd is read to its end; seek it back before importing.
 */
int import_check_skeleton(int fd, uint64_t *objects, accord_error *err);

/*
 * accord_import_fd inside the caller's open transaction (store_begin): strict whatever the flags
 * say, and it neither commits nor rolls back, so the objects commit or vanish with the rest of the
 * caller's change (a case publication).  On an error the caller rolls back.
 */
int import_fd_in_txn(accord_store *store, int fd, const accord_import_options *opts,
                     accord_import_stats *out, accord_error *err);

/*
 * An import whose objects are handed over one at a time as text, for producers that hold the
 * objects already (the MISP mapper): the same parsing, validation, provenance, store and audit
 * steps as accord_import_fd, without a stream to cut.  Everything between open and close is one
 * transaction (opts->batch_objects is not used).
 *
 *   import_session_open    begins the transaction; 0 or an error (nothing open then).
 *   import_session_object  one object, compact JSON (no whitespace outside strings: it is stored
 *                          as given); 0 also for an object rejected and reported (unless
 *                          ACCORD_IMPORT_STRICT), else an error after which only close remains.
 *   import_session_close   commits when rc is 0 and rolls back otherwise (rc: the caller's own
 *                          failure, or the last error of import_session_object), frees the
 *                          session and returns the outcome as accord_import_fd would for the
 *                          same objects (ACCORD_ESTIX when some were rejected, ACCORD_ESTRICT
 *                          ...); *out gets the counts (bytes_read: the length of the objects as
 *                          JSON lines).  Accepts NULL (returns rc).
 */
typedef struct import_session import_session;

int import_session_open(accord_store *store, const accord_import_options *opts,
                        import_session **out, accord_error *err);
int import_session_object(import_session *s, const char *text, size_t len, accord_error *err);
int import_session_close(import_session *s, int rc, accord_import_stats *out, accord_error *err);

/*
 * A caller's decision on each object, taken inside the import's single pass from what the pass
 * computed (the parse, the signature list, the canonical form), so that a caller with a policy of
 * its own (a peer's accept policy) does not parse, canonicalise and hash each object again.
 * accept is called for each valid object before its conflict check and store step, with:
 *
 *   root, content   the object as parsed; content without its signature extension
 *   id, modified    from validation (modified NULL for unversioned objects)
 *   sigs            its signatures (n = 0: unsigned)
 *   canon           RFC 8785 JCS of content, the signed bytes; NULL when the pass had no need of
 *                   it (an unsigned object)
 *   hash            prov_object_hash of canon when the object was prepared (import_prepare),
 *                   else NULL
 *   index           the object's index in the input (reader_item.index)
 *
 * It returns 0 to go on, 1 to drop the object (the hook reported and audited it, in the import's
 * transaction; the object counts as read only), or a negative error that ends the object as
 * import_session_object's errors do.  Everything o points to lives until the hook returns.
 */
struct prov_sigs;
typedef struct import_object {
    const ajson_value *root, *content;
    const char *id, *modified;
    const struct prov_sigs *sigs;
    const char *canon;
    size_t canon_len;
    const uint8_t *hash;
    uint64_t index;
} import_object;

typedef struct import_hooks {
    int (*accept)(void *ud, const import_object *o, accord_error *err);
    /* Called once inside the import's last transaction, after its last object and before its
     * COMMIT (never when the import fails or rolls back), so that what the caller writes there
     * (a TAXII status) commits or vanishes with the objects.  0, or an error that rolls the
     * transaction back and is the import's outcome.  NULL: none. */
    int (*before_commit)(void *ud, accord_store *s, accord_error *err);
    void *ud;
    int spaced; /* objects may carry whitespace outside strings: minified before storing */
} import_hooks;

/* Sets the hooks of session s (before its first object; h is copied). */
void import_session_hooks(import_session *s, const import_hooks *h);

/*
 * import_session_object for an object the caller parsed already (root, in the caller's arena,
 * parsed from text[0..len)): the object is not parsed again.
 */
int import_session_parsed(import_session *s, const ajson_value *root, const char *text, size_t len,
                          accord_error *err);

/*
 * An import in two steps, so that a server does the work of an import that needs no write access
 * before it takes its one writer (src/taxii.c): import_prepare reads the stream from fd, parses and
 * validates every object, finds its observable values, and for a signed object computes its
 * signed bytes and stored form and checks its signatures' cryptography with the keys
 * reader_store knows; import_fd_prepared then stores the objects as accord_import_fd would
 * (store-dependent decisions, the judgement of every signature with the keys as the writer sees
 * them, rejections reported in input order), only without repeating that work.  Memory: the
 * whole input parsed at once, so callers prepare bounded inputs only.
 *
 *   import_prepare      0 with *out set (free it with import_prep_free), or ACCORD_ENOMEM /
 *                       ACCORD_EIO (then nothing is kept: the caller may import fd directly).
 *                       A broken stream is not an error here: import_fd_prepared reports it after
 *                       the objects before it, as accord_import_fd does.
 *   import_fd_prepared  accord_import_fd's outcome and counts for the prepared input; p is used
 *                       up by it (free it afterwards).
 */
typedef struct import_prep import_prep;

int import_prepare(accord_store *reader_store, int fd, const accord_import_options *opts,
                   import_prep **out, accord_error *err);
int import_fd_prepared(accord_store *store, import_prep *p, const accord_import_options *opts,
                       accord_import_stats *out, accord_error *err);
/* import_fd_prepared with hooks h (NULL: none); p NULL: the objects are read from fd, as
 * accord_import_fd does (a body too large to prepare, or a preparation that ran out of memory). */
int import_fd_hooked(accord_store *store, import_prep *p, int fd, const accord_import_options *opts,
                     const import_hooks *h, accord_import_stats *out, accord_error *err);
/*
 * import_prepare for objects the caller parsed already (a pull's page): objs[i].root was parsed
 * from objs[i].text[0..len) into an arena of the caller's that outlives *out, and is not parsed
 * again.  Each object is prepared as import_prepare prepares the same texts read as JSON lines
 * (the same offsets and indexes).  With a reader_store, signatures are proven (prov_prove) under
 * IMPORT_VERIFIED too: a caller that verifies them itself, in an accept hook, is handed the
 * proven list and the object hash, and judges the keys' statuses without the cryptography.
 * 0 with *out set, or ACCORD_ENOMEM (nothing kept).
 */
typedef struct import_text {
    const ajson_value *root;
    const char *text;
    size_t len;
} import_text;

int import_prepare_parsed(accord_store *reader_store, const import_text *objs, size_t n,
                          const accord_import_options *opts, import_prep **out, accord_error *err);
void import_prep_free(import_prep *p);
/* 0 when the prepared stream ended cleanly; else its error (import_check_skeleton's message). */
int import_prep_stream_ok(const import_prep *p, accord_error *err);

#endif
