/*
 * ui.h - the web console's side of `accord serve`: the single-page app's files at /ui/, the
 * login session at /api/session, the CSRF and Origin guard in front of the JSON API, and the
 * security headers of every response.
 *
 * The app (web/, built by CMake with Vite) is a directory of static files; ui_open reads all of
 * it into memory at start, so that a request can only ever get one of the files found then (no
 * path from a URL touches the file system).  Files under assets/ carry a content hash in their
 * names and are cached for a year as immutable; index.html is revalidated on every load and is
 * also the answer for every other path under /ui/ (the app routes in the browser).
 *
 * Sessions (session.h) authenticate /api/ requests that carry no Authorization header.  A
 * state-changing request authenticated by its cookie needs the session's CSRF token in the
 * X-CSRF-Token header and an Origin naming this server, or it is answered 403.
 */
#ifndef ACCORD_UI_H
#define ACCORD_UI_H

#include "session.h"
#include "taxii.h"

typedef struct ui_ctx ui_ctx;

/*
 * Loads the console's files from dir, or when dir is NULL from $ACCORD_UI_DIR, else the first of
 * ui/ and ../share/accord/ui/ beside the running executable that holds an index.html.  No such
 * directory is not an error: the console is then off and /ui/ says how to build it.  An explicit
 * dir without index.html is ACCORD_ENOTFOUND; ACCORD_EIO, ACCORD_ELIMIT (too many or too large
 * files), ACCORD_ENOMEM.
 */
int ui_open(const char *dir, ui_ctx **out, accord_error *err);
void ui_close(ui_ctx *u);
/* The directory the files came from, or NULL when the console is off. */
const char *ui_dir(const ui_ctx *u);

/*
 * Handles the console's own requests: /ui and /ui/... (the files), /api/session (login, who am I,
 * logout), and the guard that answers 403 to a cookie-authenticated state change without a valid
 * CSRF token and Origin.  1 when rs was filled, 0 when the request goes on to the API or TAXII.
 */
int ui_handle(ui_ctx *u, const taxii_ctx *ctx, accord_store *reader, const taxii_request *rq,
              taxii_response *rs);

/*
 * Authenticates a request by its session cookie (only paths under /api/, only without an
 * Authorization header): 0 with *out filled, ACCORD_EINVAL when it has no valid session or the
 * account is gone or disabled, another code when the store failed.
 */
int ui_session_principal(ui_ctx *u, accord_store *s, const taxii_request *rq, taxii_principal *out);

/*
 * 1 when an Accept-Encoding header value (may be NULL) accepts gzip: "gzip" or "x-gzip" (any
 * case) with no q or a q above 0, or else "*" so.  The console's text files are kept gzipped
 * too (compressed once, at load) and sent so to clients that accept it.
 */
int ui_accepts_gzip(const char *header);

/* The headers every response carries: NULL-terminated pairs; HSTS only over TLS (ui_hsts). */
extern const char *const ui_security_headers[][2];
extern const char *const ui_hsts[2];

#endif
