/*
 * import.h - what the server needs of the ingest pipeline besides the public accord_import_fd.
 */
#ifndef ACCORD_IMPORT_H
#define ACCORD_IMPORT_H

#include "accord.h"

/*
 * Walks the stream's skeleton (the bundle, envelope or array around the objects) without parsing
 * the objects: 0 with *objects counted, or ACCORD_EJSON / ACCORD_ELIMIT with the byte offset of
 * the fault in err.  The fd is read to its end; seek it back before importing.
 */
int import_check_skeleton(int fd, uint64_t *objects, accord_error *err);

#endif
