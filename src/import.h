/*
 * import.h - what the server needs of the ingest pipeline besides the public accord_import_fd.
 */
#ifndef ACCORD_IMPORT_H
#define ACCORD_IMPORT_H

#include "accord.h"

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

#endif
