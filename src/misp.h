/*
 * misp.h - what the MISP files share: the mapper (misp_map.c) and the helpers of the import
 * (misp_import.c) that the feed follower (misp_feed.c) reuses.
 */
#ifndef ACCORD_MISP_INT_H
#define ACCORD_MISP_INT_H

#include "accord.h"
#include "util/json.h"

#include <stdint.h>

/* Receives each STIX object (compact JSON); non-zero stops the mapping with that code. */
typedef int (*misp_emit_fn)(void *ud, const char *json, size_t len);

typedef struct misp_map_ctx {
    const accord_misp_options *opts;
    accord_misp_stats *st;
    misp_emit_fn emit;
    void *ud;
    int strict; /* a bad attribute fails the event (and the caller's whole input) */
} misp_map_ctx;

/*
 * Maps one MISP event (the object inside {"Event": ...}) to STIX objects, the report last.
 * index is the event's position in its input (for messages).  Bad attributes are reported
 * through opts->on_error, counted in st->bad and skipped (in strict mode they fail the event).
 * Returns 0; ACCORD_ESTIX when the event is unusable (no uuid) or strict mode met a bad
 * attribute; or the emit callback's code.
 */
int misp_map_event(misp_map_ctx *c, const ajson_value *ev, size_t index);

/*
 * The events of a parsed MISP document: {"Event": E}, E itself, an array of either, or
 * {"response": [...]} of either.  Calls cb for each event object in order; returns the number of
 * events, or -1 when the document has none of these shapes (cb is then never called).
 */
long misp_events(const ajson_value *root, int (*cb)(void *ud, const ajson_value *ev, size_t i),
                 void *ud, int *cb_rc);

/* "type--UUIDv5(accord MISP namespace, name)" into out (at least strlen(type) + 39 bytes). */
void misp_uuid5_id(const char *type, const char *name, size_t len, char *out, size_t outlen);

/* Epoch seconds as a STIX timestamp (out >= 28 bytes). */
void misp_epoch_ts(int64_t s, char *out, size_t outlen);

/* Reads all of fd (inflating gzip) into a malloc'd buffer of at most max bytes. */
int misp_read_all(int fd, size_t max, char **out, size_t *len, accord_error *err);

/* Line and column (1-based) of byte offset off in text. */
void misp_line_col(const char *text, size_t len, size_t off, unsigned long *line,
                   unsigned long *col);

#endif
