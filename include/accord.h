/*
 * accord.h - the public API of libaccord.
 *
 * libaccord stores STIX 2.x objects in an embedded SQLite database, validates them by the STIX 2.1
 * specification's MUST rules, and answers queries over them.  This header is the whole contract: a
 * program that embeds accord includes only this file and links -laccord.
 *
 * Conventions, the same for every function:
 *   - Functions return int: 0 on success, a negative ACCORD_E* code on failure.  Codes are frozen:
 *     a published code is never renumbered.
 *   - Functions that can fail for a reason a person must read take a trailing `accord_error *err`
 *     (may be NULL); on failure it receives the code and a one-line message that names what and
 *     where (object id, property, byte offset).
 *   - Arguments are borrowed.  Records passed to callbacks are valid only during the callback.
 *     Handles are opaque and allocated by the library; every _close/_free accepts NULL.
 *   - The library never prints, exits or aborts on outside input, and never reads global state other
 *     than what the caller passes in.
 */
#ifndef ACCORD_H
#define ACCORD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(ACCORD_BUILDING) && defined(__GNUC__)
#define ACCORD_API __attribute__((visibility("default")))
#else
#define ACCORD_API
#endif

#define ACCORD_VERSION_STRING "0.1.0"

/* Error codes: name, value, message.  Append only; never renumber. */
#define ACCORD_ERRNO_MAP(XX)                                                                       \
    XX(NOMEM, -1, "out of memory")                                                                 \
    XX(INVAL, -2, "invalid argument")                                                              \
    XX(IO, -3, "input/output error")                                                               \
    XX(JSON, -4, "invalid JSON")                                                                   \
    XX(STIX, -5, "invalid STIX object")                                                            \
    XX(STORE, -6, "storage error")                                                                 \
    XX(NOTFOUND, -7, "not found")                                                                  \
    XX(BUSY, -8, "store is busy")                                                                  \
    XX(LIMIT, -9, "limit exceeded")                                                                \
    XX(SCHEMA, -10, "store was written by a newer accord")                                        \
    XX(CORRUPT, -11, "store is corrupt")                                                           \
    XX(STRICT, -12, "import stopped: --strict and an object was rejected")                         \
    XX(CANCELED, -13, "operation canceled")

enum {
#define ACCORD_XX_(name, val, msg) ACCORD_E##name = (val),
    ACCORD_ERRNO_MAP(ACCORD_XX_)
#undef ACCORD_XX_
};

/* A failure a person reads: the code and a message naming what and where. */
typedef struct accord_error {
    int code;
    char msg[512];
} accord_error;

/* The fixed message of an error code ("unknown error" for codes accord does not know). */
ACCORD_API const char *accord_strerror(int rc);
/* The name of an error code without the ACCORD_E prefix ("NOMEM"), or "UNKNOWN". */
ACCORD_API const char *accord_err_name(int rc);

/* ------------------------------------------------------------------------------------------ */
/* Store                                                                                        */

typedef struct accord_store accord_store;

/*
 * Who reads: an account's TLP 2.0 clearance (accord_viewer_open in accord_account.h; the rule is
 * described there).  Reads given a viewer hand out only the object versions it is cleared for,
 * filtering inside the walk so that limits count what is handed out.  A NULL viewer is the
 * node's operator (the local CLI): every version.
 */
typedef struct accord_viewer accord_viewer;

enum {
    ACCORD_STORE_READONLY = 1 << 0, /* open for reading only; the directory must exist */
    ACCORD_STORE_MMAP = 1 << 1,     /* read through a memory map (fast paging of big stores) */
};

/*
 * Opens (creating when needed, unless READONLY) the store in data directory `dir`, migrating an
 * older schema.  On success *out owns the handle; close it with accord_store_close.
 * Errors: ACCORD_EIO (directory), ACCORD_ESTORE, ACCORD_ESCHEMA, ACCORD_ECORRUPT, ACCORD_ENOMEM.
 */
ACCORD_API int accord_store_open(const char *dir, unsigned flags, accord_store **out,
                                 accord_error *err);
/* Closes the store; accepts NULL. */
ACCORD_API void accord_store_close(accord_store *store);

/* One stored version of one object, as handed to callbacks. */
typedef struct accord_record {
    int64_t seq;          /* position in added order, strictly increasing, never reused */
    int64_t added_us;     /* date_added, microseconds since the Unix epoch, strictly increasing;
                             in a collection scan, when the version was added to the collection */
    const char *id;       /* "type--uuid" */
    const char *type;     /* STIX type */
    const char *modified; /* version timestamp; for objects without one, "" */
    const char *spec_version; /* "2.1", or "2.0" for objects that carry none */
    int revoked;          /* 1 when the version says revoked: true */
    int latest;           /* 1 when no newer version of the id is stored (in the collection) */
    int first;            /* 1 when no older version of the id is stored (in the collection) */
    const char *body;     /* the object as compact JSON (not NUL-terminated inside body_len) */
    size_t body_len;
    int tlp;              /* its most restrictive TLP marking (ACCORD_TLP_*), or
                             ACCORD_TLP_UNMARKED (the store's default applies) */
} accord_record;

/* Return 0 to go on, anything else to stop the walk (the function then returns that value). */
typedef int (*accord_record_cb)(void *ud, const accord_record *rec);

enum {
    ACCORD_GET_ALL_VERSIONS = 1 << 0, /* every version, oldest modified first; default: latest */
};

/*
 * Calls cb for the latest stored version of `id` (or every version with ACCORD_GET_ALL_VERSIONS).
 * Returns ACCORD_ENOTFOUND when no version is stored.
 */
ACCORD_API int accord_store_get(accord_store *store, const char *id, unsigned flags,
                                accord_record_cb cb, void *ud, accord_error *err);
/* accord_store_get for viewer: only the versions it may read; ACCORD_ENOTFOUND when none. */
ACCORD_API int accord_store_get_as(accord_store *store, const accord_viewer *viewer,
                                   const char *id, unsigned flags, accord_record_cb cb, void *ud,
                                   accord_error *err);

/*
 * Calls cb for every stored version that mentions observable `value` (an IP address or CIDR, a
 * domain name, URL, e-mail address, file hash, ...) in an SCO property or in a constant of an
 * indicator pattern.  The value is normalised the way it was at import (addresses to canonical
 * text, domain names and hashes to lower case).  Versions are reported in added order.
 */
ACCORD_API int accord_store_search(accord_store *store, const char *value, accord_record_cb cb,
                                   void *ud, accord_error *err);
/* accord_store_search for viewer: only the versions it may read. */
ACCORD_API int accord_store_search_as(accord_store *store, const accord_viewer *viewer,
                                      const char *value, accord_record_cb cb, void *ud,
                                      accord_error *err);

/* Which versions of each object a scan returns: 0 (the latest), or any union of these bits. */
enum {
    ACCORD_VERSIONS_LAST = 1 << 0,  /* the latest version of each object */
    ACCORD_VERSIONS_FIRST = 1 << 1, /* the earliest version of each object */
    ACCORD_VERSIONS_LIST = 1 << 2,  /* the versions whose modified is in filter.version_list */
    ACCORD_VERSIONS_ALL = 1 << 3,   /* every version */
};

typedef struct accord_scan_filter {
    const char *collection;   /* collection id or alias: its versions, by its date_added, and
                                 latest/first within it; NULL = the whole store */
    const char *const *types; /* NULL-terminated list of STIX types, or NULL for all */
    const char *const *ids;   /* NULL-terminated list of object ids (at most 100), or NULL */
    const char *const *spec_versions; /* NULL-terminated: "2.0", "2.1"; NULL for all */
    unsigned versions;        /* ACCORD_VERSIONS_* bits; 0 = ACCORD_VERSIONS_LAST */
    const char *const *version_list; /* for ACCORD_VERSIONS_LIST: modified timestamps */
    int64_t added_after_us;   /* only versions added strictly after this; 0 = from the start */
    int include_revoked;      /* include versions that say revoked: true */
    int64_t after_seq;        /* store-wide scans: resume after this seq; 0 = from the start */
    uint32_t limit;           /* stop after this many records; 0 = no limit */
    const accord_viewer *viewer; /* only what it may read; NULL = every version (operator) */
} accord_scan_filter;

/*
 * Walks stored versions in added order under `filter` (NULL = the latest non-revoked version of
 * every object).  Errors: ACCORD_ENOTFOUND for an unknown collection, ACCORD_ELIMIT for too many
 * ids, types or versions in the filter.
 */
ACCORD_API int accord_store_scan(accord_store *store, const accord_scan_filter *filter,
                                 accord_record_cb cb, void *ud, accord_error *err);

typedef struct accord_store_stats {
    int64_t versions;       /* stored versions */
    int64_t objects;        /* distinct ids */
    int64_t revoked;        /* objects whose latest version is revoked */
    int64_t body_bytes;     /* bytes of stored JSON */
    int64_t audit_records;  /* audit log length */
    int64_t index_runs;     /* sorted runs of the id and value indexes */
    int64_t index_entries;  /* entries in those runs */
    int64_t file_bytes;     /* database file size */
    int64_t last_added_us;  /* newest date_added, 0 when empty */
} accord_store_stats;

/* Only the figures that cost nothing to read: versions (the last seq) and last_added_us. */
ACCORD_API int accord_store_stats_light(accord_store *store, accord_store_stats *out,
                                        accord_error *err);
/* Per-type counts go to cb(ud, type, latest_objects, versions); cb may be NULL.  Counts every
 * row: O(store size). */
typedef void (*accord_type_count_cb)(void *ud, const char *type, int64_t objects,
                                     int64_t versions);
ACCORD_API int accord_store_stats_get(accord_store *store, accord_store_stats *out,
                                      accord_type_count_cb cb, void *ud, accord_error *err);

/* ------------------------------------------------------------------------------------------ */
/* API roots and collections                                                                  */

/* A TAXII API root: served under /NAME/. */
typedef struct accord_root {
    const char *name;         /* 1-64 of [a-z0-9_-] */
    const char *title;
    const char *description;  /* or NULL */
    int64_t max_content_length;
    int64_t created_us;
} accord_root;

/* A collection of object versions in an API root. */
typedef struct accord_collection {
    const char *id;           /* UUID */
    const char *root;         /* its API root's name */
    const char *alias;        /* or NULL; unique within the root */
    const char *title;
    const char *description;  /* or NULL */
    int64_t created_us;
    int64_t cid;              /* the store's number for it */
} accord_collection;

typedef int (*accord_root_cb)(void *ud, const accord_root *root);
typedef int (*accord_collection_cb)(void *ud, const accord_collection *c);

/* Adds an API root; max_content_length 0 = the default (100 MiB).  Audited. */
ACCORD_API int accord_root_add(accord_store *store, const char *name, const char *title,
                               const char *description, int64_t max_content_length,
                               accord_error *err);
ACCORD_API int accord_root_list(accord_store *store, accord_root_cb cb, void *ud,
                                accord_error *err);
/*
 * Adds a collection to API root `root` (NULL = "accord"); its new UUID goes to id_out (37 bytes,
 * may be NULL).  alias may be NULL.  Audited.
 */
ACCORD_API int accord_collection_add(accord_store *store, const char *root, const char *title,
                                     const char *alias, const char *description, char *id_out,
                                     accord_error *err);
/* Lists the collections of `root` (NULL = of every root). */
ACCORD_API int accord_collection_list(accord_store *store, const char *root,
                                      accord_collection_cb cb, void *ud, accord_error *err);
/* Counts the object versions in a collection (a scan: O(versions)). */
ACCORD_API int accord_collection_count(accord_store *store, const char *ref, int64_t *versions,
                                       accord_error *err);
/*
 * Removes a collection (by id or alias) and its memberships; the object versions stay in the
 * store.  The default collection cannot be removed.  Audited.
 */
ACCORD_API int accord_collection_remove(accord_store *store, const char *ref, accord_error *err);

/* Keeps a TAXII status resource (JSON) under id for root and account; audited. */
ACCORD_API int accord_status_put(accord_store *store, const char *id, const char *root,
                                 const char *account, const char *json, size_t len,
                                 accord_error *err);
/*
 * Calls cb(ud, account, json, len) for the status id of root; ACCORD_ENOTFOUND when none.  The
 * callback's return value is returned.
 */
ACCORD_API int accord_status_get(accord_store *store, const char *id, const char *root,
                                 int (*cb)(void *ud, const char *account, const char *json,
                                           size_t len),
                                 void *ud, accord_error *err);
/*
 * Removes the versions of object `id` matched by filter (its collection, versions,
 * spec_versions and viewer: only versions it may read; NULL filter fields match all) from the
 * collection, keeping the latest/first
 * flags of the versions that stay right.  *removed gets the count.  Audited.
 */
ACCORD_API int accord_collection_delete_object(accord_store *store, const char *collection,
                                               const char *id, const accord_scan_filter *filter,
                                               int64_t *removed, accord_error *err);

/* ------------------------------------------------------------------------------------------ */
/* Import                                                                                       */

enum {
    ACCORD_IMPORT_STRICT = 1 << 0, /* the first invalid object rejects the whole input */
    ACCORD_IMPORT_SIGN = 1 << 1,   /* sign every object with this node's organisation (the
                                      signing key in options.data_dir/keys; `accord member`) */
};

/* What happened to the objects of one import so far. */
typedef struct accord_import_stats {
    uint64_t read;       /* objects read from the input */
    uint64_t accepted;   /* new in the collection: new objects, or stored ones added to it */
    uint64_t versions;   /* stored as new versions of known objects */
    uint64_t duplicates; /* already stored, identical: nothing written */
    uint64_t conflicts;  /* same id and modified as a stored version, other content: not stored */
    uint64_t rejected;   /* invalid: not stored */
    uint64_t committed;  /* objects whose outcome is durable in the store */
    uint64_t bytes_read; /* input bytes consumed (compressed bytes for .gz) */
} accord_import_stats;

/* One rejected object. */
typedef struct accord_reject {
    uint64_t index;       /* 0-based position of the object in the input */
    uint64_t offset;      /* byte offset of the object (or of the JSON error) in the input */
    const char *id;       /* the object's id when it has a usable one, else NULL */
    const char *property; /* the property at fault (a JSON path like "external_references[2].url") or NULL */
    const char *rule;     /* short stable name of the broken rule, e.g. "required-property" */
    const char *message;  /* one line naming object, property and rule */
} accord_reject;

typedef struct accord_import_options {
    unsigned flags;                /* ACCORD_IMPORT_* */
    uint32_t batch_objects;        /* objects per transaction; 0 = default (20,000 or 12 MiB) */
    const char *source;            /* name of the input for messages and the audit log */
    const char *collection;        /* collection id or alias to add objects to; NULL = default */
    /* Called for each rejected object (may be NULL). */
    void (*on_reject)(void *ud, const accord_reject *r);
    /*
     * Called for each valid object once the store took it (may be NULL): its id, its modified
     * ("" when it has none) and 1 when it was written (new object, new version, or newly added
     * to the collection), 0 when it was already there.  Before the batch commits.
     */
    void (*on_object)(void *ud, const char *id, const char *modified, int written);
    /* Called after each commit and at the end (may be NULL). */
    void (*on_progress)(void *ud, const accord_import_stats *st);
    void *ud;
    const char *data_dir; /* for ACCORD_IMPORT_SIGN: the data directory holding keys/ */
} accord_import_options;

/*
 * Reads STIX 2.x from `fd` (a bundle, a JSON array of objects, or JSON lines of objects or
 * bundles; gzip-compressed input is recognised by its magic bytes) and stores every valid object.
 * Memory stays bounded whatever the input's size.  Returns 0 when every object was accepted or was
 * a duplicate; ACCORD_ESTIX when some were rejected or conflicted (the rest are stored);
 * ACCORD_ESTRICT when the STRICT flag rejected the whole input (nothing stored); ACCORD_EJSON when
 * the input is not JSON past some point (objects before that point are stored unless STRICT).
 *
 * Signed objects (the signature extension, src/provenance.c) are verified first: an invalid
 * signature, a key that is not the signer's, or a key compromised before now rejects the object
 * (rule "signature"), and nothing of it is stored.  Valid signatures join the stored version's
 * list without making a new version (an endorsement).
 */
ACCORD_API int accord_import_fd(accord_store *store, int fd, const accord_import_options *opts,
                                accord_import_stats *out, accord_error *err);

/*
 * Like accord_import_fd but stores nothing: reads and validates every object of the input and
 * reports rejections the same way (a dry run).  `accepted` counts the valid objects.
 */
ACCORD_API int accord_validate_fd(int fd, const accord_import_options *opts,
                                  accord_import_stats *out, accord_error *err);

/* ------------------------------------------------------------------------------------------ */
/* Validation of one object, without a store                                                  */

/*
 * Parses and validates one STIX object given as JSON.  Returns 0 when valid, ACCORD_EJSON or
 * ACCORD_ESTIX with the reason in *err.
 */
ACCORD_API int accord_validate_json(const char *json, size_t len, accord_error *err);

/*
 * Normalises an observable value as the value index does (canonical IP/CIDR text, lower-case
 * domain names and hashes).  Writes a NUL-terminated string into out.  ACCORD_ELIMIT when it does
 * not fit.
 */
ACCORD_API int accord_value_normalize(const char *value, char *out, size_t outlen);

/* ------------------------------------------------------------------------------------------ */
/* The TAXII 2.1 server                                                                         */

typedef struct accord_server accord_server;

typedef struct accord_server_options {
    const char *data_dir;       /* the store's data directory */
    const char *listen;         /* "ADDR:PORT" (IPv4 or [IPv6]); NULL = "127.0.0.1:8443";
                                   port 0 = any free port (see accord_server_port) */
    const char *cert_file;      /* PEM certificate and key; both NULL = the self-signed pair in */
    const char *key_file;       /* DATA/tls/, created on the first start */
    int plain_http;             /* no TLS: refused unless `listen` is a loopback address */
    unsigned threads;           /* 0: a thread per connection; N: a pool of N request threads */
    unsigned max_connections;   /* 0 = 256 */
    unsigned timeout_s;         /* a connection idle this long is closed; 0 = 30 */
    const char *title, *description, *contact; /* discovery resource; NULL = defaults */
    const char *public_url;     /* "https://host:port" clients use; NULL = from the Host header */
    int log_fd;                 /* access log, one JSON object per line; -1 = none */
    const char *ui_dir;         /* the web console's files (served at /ui/); NULL = $ACCORD_UI_DIR,
                                   else ui/ or ../share/accord/ui/ beside the executable */
} accord_server_options;

/*
 * Opens the store and the listening socket and starts serving in background threads.  On the
 * first start of an empty store an admin account and token are created: *admin_token (when not
 * NULL, at least 128 bytes) receives the token, shown this once; "" otherwise.
 */
ACCORD_API int accord_server_start(const accord_server_options *opts, accord_server **out,
                                   char *admin_token, size_t admin_token_len, accord_error *err);
/* The port the server listens on. */
ACCORD_API int accord_server_port(const accord_server *srv);
/* The SHA-256 fingerprint of the server's certificate ("AB:CD:..."), "" without TLS; *created
 * (may be NULL) tells whether the self-signed pair was created on this start. */
ACCORD_API const char *accord_server_fingerprint(const accord_server *srv, int *created);
/* The directory the web console's files were loaded from, NULL when it is not available. */
ACCORD_API const char *accord_server_console_dir(const accord_server *srv);
/* Stops accepting, lets requests in flight finish (at most grace_ms), stops; accepts NULL. */
ACCORD_API void accord_server_stop(accord_server *srv, unsigned grace_ms);

/*
 * Parses an RFC 3339 UTC timestamp (YYYY-MM-DDTHH:MM:SS[.fff]Z) into microseconds since the
 * epoch.  ACCORD_EINVAL when it is not one.
 */
ACCORD_API int accord_timestamp_parse(const char *text, int64_t *us);
/* Writes a random (version 4) UUID and a NUL into out (37 bytes). */
ACCORD_API void accord_uuid4(char *out);
/* The current time in microseconds since the epoch. */
ACCORD_API int64_t accord_timestamp_now(void);
/* Formats microseconds since the epoch as YYYY-MM-DDTHH:MM:SS.ffffffZ into out (>= 28 bytes). */
ACCORD_API void accord_timestamp_format(int64_t us, char *out, size_t outlen);

#ifdef __cplusplus
}
#endif

/* STIX patterning: compiling and evaluating patterns. */
#include "accord_pattern.h"
/* Accounts, API tokens and collection rights. */
#include "accord_account.h"
#include "accord_match.h"
#include "accord_export.h"
/* Canonical JSON, Merkle trees and Ed25519 signatures: the foundations of the trust layer. */
#include "accord_trust.h"
#include "accord_audit.h"
#include "accord_roster.h"
/* MISP events and feeds into the store. */
#include "accord_misp.h"
/* Coordinated vulnerability disclosure cases. */
#include "accord_case.h"

#endif /* ACCORD_H */
