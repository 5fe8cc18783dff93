/*
 * ui.c - the web console's files, login sessions and CSRF guard (see ui.h).
 *
 * Sessions live in session.c's table while the server runs and in the store's sessions table
 * (store_console.c) across restarts: a login writes its row, a logout deletes it, a use is
 * written at most once a minute (SESSION_PERSIST_US), and a cookie the table does not know is
 * looked up in the store and brought back when it has not expired.  Writes go through the
 * server's one writer under its lock; a failed write costs the session its survival of a
 * restart, never the request.
 */
#include "ui.h"
#include "api.h"
#include "auth.h"
#include "store.h"
#include "store_console.h"
#include "util/json.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <strings.h>
#include <unistd.h>
#include <zlib.h>

#define UI_MAX_FILES 1024
#define UI_MAX_BYTES ((size_t)64 * 1024 * 1024) /* all files together */
#define UI_MAX_DEPTH 6
#define LOGIN_BODY_MAX 4096
#define GZIP_MIN 256 /* smaller files are sent as they are */

const char *const ui_security_headers[][2] = {
    {"Content-Security-Policy",
     "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
     "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"},
    {"X-Content-Type-Options", "nosniff"},
    {"Referrer-Policy", "no-referrer"},
    {NULL, NULL}};
const char *const ui_hsts[2] = {"Strict-Transport-Security", "max-age=31536000"};

typedef struct ui_file {
    char *path; /* relative to the directory, '/'-separated: "index.html", "assets/x-1a2b.js" */
    char *data;
    size_t len;
    const char *type;
    int immutable;
    char *gz; /* the gzip encoding of data when it is smaller, else NULL */
    size_t gzlen;
} ui_file;

struct ui_ctx {
    char dir[PATH_MAX];
    int on;
    ui_file files[UI_MAX_FILES];
    size_t nfiles, bytes;
    const ui_file *index;
    session_table *sessions;
};

/* ------------------------------------------------------------------------------------------ */
/* Files                                                                                        */

static const char *type_of(const char *name)
{
    static const char *const types[][2] = {
        {".html", "text/html; charset=utf-8"},  {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},          {".map", "application/json"},
        {".svg", "image/svg+xml"},              {".png", "image/png"},
        {".ico", "image/x-icon"},               {".woff2", "font/woff2"},
        {".txt", "text/plain; charset=utf-8"},  {".webmanifest", "application/manifest+json"}};
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(dot, types[i][0]) == 0)
            return types[i][1];
    return "application/octet-stream";
}

/* Text types worth compressing (images and fonts are compressed already). */
static int compressible(const char *type)
{
    return strncmp(type, "text/", 5) == 0 || strncmp(type, "application/json", 16) == 0 ||
           strncmp(type, "image/svg", 9) == 0 || strncmp(type, "application/manifest", 20) == 0;
}

/* Fills f->gz with the gzip encoding of f->data (best compression, once, at load) when that is
 * smaller; leaves it NULL otherwise or when out of memory (the file is then sent as it is). */
static void gzip_file(ui_file *f)
{
    if (f->len < GZIP_MIN || !compressible(f->type))
        return;
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
        return;
    size_t cap = deflateBound(&z, (uLong)f->len);
    char *out = malloc(cap);
    z.next_in = (Bytef *)f->data;
    z.avail_in = (uInt)f->len;
    z.next_out = (Bytef *)out;
    z.avail_out = (uInt)cap;
    if (out && deflate(&z, Z_FINISH) == Z_STREAM_END && z.total_out < f->len) {
        f->gz = out;
        f->gzlen = z.total_out;
        out = NULL;
    }
    deflateEnd(&z);
    free(out);
}

static int read_file(const char *path, char **out, size_t *len, size_t room, accord_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return accord_err_set(err, ACCORD_EIO, "console file %s: %s", path, strerror(e));
    }
    if ((size_t)st.st_size > room) {
        close(fd);
        return accord_err_set(err, ACCORD_ELIMIT, "console file %s: the console's files pass %zu MiB",
                              path, UI_MAX_BYTES >> 20);
    }
    char *p = malloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (p && got < (size_t)st.st_size) {
        ssize_t n = read(fd, p + got, (size_t)st.st_size - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    if (!p || got != (size_t)st.st_size) {
        free(p);
        return accord_err_set(err, p ? ACCORD_EIO : ACCORD_ENOMEM, "console file %s: short read",
                              path);
    }
    *out = p;
    *len = got;
    return 0;
}

static int load_dir(ui_ctx *u, const char *rel, int depth, accord_error *err)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof(path), "%s/%s", u->dir, rel) >= (int)sizeof(path))
        return accord_err_set(err, ACCORD_ELIMIT, "console directory %s: path too long", u->dir);
    DIR *d = opendir(path);
    if (!d)
        return accord_err_set(err, ACCORD_EIO, "console directory %s: %s", path, strerror(errno));
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue; /* ., .., and hidden files are never served */
        char sub[PATH_MAX], full[PATH_MAX];
        if (snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "", de->d_name) >=
                (int)sizeof(sub) ||
            snprintf(full, sizeof(full), "%s/%s", u->dir, sub) >= (int)sizeof(full)) {
            rc = accord_err_set(err, ACCORD_ELIMIT, "console file %s/%s: path too long", path,
                                de->d_name);
            break;
        }
        struct stat st;
        if (stat(full, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (depth >= UI_MAX_DEPTH)
                rc = accord_err_set(err, ACCORD_ELIMIT, "console directory %s: nested too deep",
                                    full);
            else
                rc = load_dir(u, sub, depth + 1, err);
            continue;
        }
        if (!S_ISREG(st.st_mode))
            continue;
        if (u->nfiles == UI_MAX_FILES) {
            rc = accord_err_set(err, ACCORD_ELIMIT, "console directory %s: more than %d files",
                                u->dir, UI_MAX_FILES);
            break;
        }
        ui_file *f = &u->files[u->nfiles];
        if ((rc = read_file(full, &f->data, &f->len, UI_MAX_BYTES - u->bytes, err)))
            break;
        f->path = strdup(sub);
        if (!f->path) {
            free(f->data);
            rc = accord_err_set(err, ACCORD_ENOMEM, "console: out of memory");
            break;
        }
        f->type = type_of(sub);
        f->immutable = strncmp(sub, "assets/", 7) == 0;
        gzip_file(f);
        u->bytes += f->len;
        u->nfiles++;
    }
    closedir(d);
    return rc;
}

static int has_index(const char *dir)
{
    char p[PATH_MAX];
    struct stat st;
    return snprintf(p, sizeof(p), "%s/index.html", dir) < (int)sizeof(p) && stat(p, &st) == 0 &&
           S_ISREG(st.st_mode);
}

/* The directory to load: dir, $ACCORD_UI_DIR, or beside the executable; "" when none. */
static void find_dir(const char *dir, char *out, size_t cap)
{
    out[0] = '\0';
    if (!dir)
        dir = getenv("ACCORD_UI_DIR");
    if (dir) {
        snprintf(out, cap, "%s", dir);
        return;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return;
    *slash = '\0';
    static const char *const beside[] = {"ui", "../share/accord/ui"};
    for (size_t i = 0; i < sizeof(beside) / sizeof(beside[0]); i++) {
        char cand[PATH_MAX];
        if (snprintf(cand, sizeof(cand), "%s/%s", exe, beside[i]) < (int)sizeof(cand) &&
            has_index(cand)) {
            snprintf(out, cap, "%s", cand);
            return;
        }
    }
}

int ui_open(const char *dir, ui_ctx **out, accord_error *err)
{
    *out = NULL;
    ui_ctx *u = calloc(1, sizeof(*u));
    if (!u || !(u->sessions = session_table_new())) {
        free(u);
        return accord_err_set(err, ACCORD_ENOMEM, "console: out of memory");
    }
    int explicit = dir || getenv("ACCORD_UI_DIR");
    find_dir(dir, u->dir, sizeof(u->dir));
    int rc = 0;
    if (u->dir[0] && !has_index(u->dir)) {
        if (explicit)
            rc = accord_err_set(err, ACCORD_ENOTFOUND,
                                "console directory %s: no index.html (build the console first)",
                                u->dir);
        u->dir[0] = '\0';
    }
    if (rc == 0 && u->dir[0] && (rc = load_dir(u, "", 0, err)) == 0) {
        for (size_t i = 0; i < u->nfiles; i++)
            if (strcmp(u->files[i].path, "index.html") == 0)
                u->index = &u->files[i];
        u->on = u->index != NULL;
    }
    if (rc) {
        ui_close(u);
        return rc;
    }
    *out = u;
    return 0;
}

void ui_close(ui_ctx *u)
{
    if (!u)
        return;
    for (size_t i = 0; i < u->nfiles; i++) {
        free(u->files[i].path);
        free(u->files[i].data);
        free(u->files[i].gz);
    }
    session_table_free(u->sessions);
    free(u);
}

const char *ui_dir(const ui_ctx *u)
{
    return u && u->on ? u->dir : NULL;
}

static void text_answer(taxii_response *rs, int status, const char *text)
{
    rs->status = status;
    rs->content_type = "text/plain; charset=utf-8";
    buf_reset(&rs->body);
    buf_adds(&rs->body, text);
}

static void serve_file(ui_ctx *u, const taxii_request *rq, taxii_response *rs)
{
    rs->endpoint = "ui";
    if (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "HEAD") != 0) {
        snprintf(rs->allow, sizeof(rs->allow), "GET, HEAD");
        text_answer(rs, 405, "method not allowed\n");
        return;
    }
    if (!u->on) {
        text_answer(rs, 404,
                    "the web console is not installed: build it (cmake finds Node.js 18 or newer "
                    "and npm) or point accord serve --ui at its directory\n");
        return;
    }
    const char *rel = rq->path + 3; /* after "/ui" */
    while (*rel == '/')
        rel++;
    const ui_file *f = NULL;
    for (size_t i = 0; i < u->nfiles && !f; i++)
        if (strcmp(u->files[i].path, rel) == 0)
            f = &u->files[i];
    if (!f && strncmp(rel, "assets/", 7) == 0) {
        /* a missing hashed asset is an error, not a page of the app */
        text_answer(rs, 404, "no such file\n");
        return;
    }
    if (!f)
        f = u->index; /* the app's own routes: /ui/search, /ui/object/ID, ... */
    rs->status = 200;
    rs->content_type = f->type;
    rs->cache_control = f->immutable ? "public, max-age=31536000, immutable" : "no-cache";
    if (f->gz && ui_accepts_gzip(rq->accept_encoding)) {
        rs->content_encoding = "gzip";
        buf_add(&rs->body, f->gz, f->gzlen);
        return;
    }
    rs->content_encoding = f->gz ? "identity" : NULL;
    buf_add(&rs->body, f->data, f->len);
}

/* 1 when the q value in [s, e) (after "q=") is above zero; a malformed one counts as zero. */
static int q_positive(const char *s, const char *e)
{
    while (s < e && (*s == ' ' || *s == '\t'))
        s++;
    if (s == e || (*s != '0' && *s != '1'))
        return 0;
    if (*s == '1')
        return 1;
    for (s++; s < e && (*s == '.' || (*s >= '0' && *s <= '9')); s++)
        if (*s >= '1' && *s <= '9')
            return 1;
    return 0;
}

int ui_accepts_gzip(const char *header)
{
    int gzip = -1, star = -1; /* -1 unnamed, 0 refused, 1 accepted */
    for (const char *p = header; p && *p;) {
        const char *end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        size_t n = 0;
        while (p + n < end && p[n] != ';' && p[n] != ' ' && p[n] != '\t')
            n++;
        int ok = 1;
        const char *q = p + n;
        while ((q = memchr(q, ';', (size_t)(end - q)))) {
            q++;
            while (q < end && (*q == ' ' || *q == '\t'))
                q++;
            if (end - q >= 2 && (q[0] == 'q' || q[0] == 'Q') && q[1] == '=')
                ok = q_positive(q + 2, end);
        }
        if ((n == 4 && strncasecmp(p, "gzip", 4) == 0) ||
            (n == 6 && strncasecmp(p, "x-gzip", 6) == 0))
            gzip = ok;
        else if (n == 1 && *p == '*')
            star = ok;
        p = *end ? end + 1 : end;
    }
    return gzip == 1 || (gzip == -1 && star == 1);
}

/* ------------------------------------------------------------------------------------------ */
/* Sessions                                                                                     */

static int cookie_of(const taxii_request *rq, const char **id, size_t *len)
{
    return rq->cookie && session_cookie_find(rq->cookie, strlen(rq->cookie), SESSION_COOKIE, id, len);
}

/* What the store learns of sessions: 'p'ut at login, 't'ouched, 'd'eleted at logout. */
static void persist(const taxii_ctx *ctx, char what, const char *id, size_t len,
                    const char *account, int64_t created_us, int64_t used_us)
{
    if (!ctx || !ctx->writer || !ctx->writer_lock)
        return;
    unsigned char h[SESSION_HASH_LEN];
    session_id_hash(id, len, h);
    accord_error err;
    pthread_mutex_lock(ctx->writer_lock);
    if (what == 'p')
        store_session_put(ctx->writer, h, account, created_us, used_us, used_us - SESSION_IDLE_US,
                          &err);
    else if (what == 't')
        store_session_touch(ctx->writer, h, used_us, &err);
    else
        store_session_del(ctx->writer, h, &err);
    pthread_mutex_unlock(ctx->writer_lock);
}

/* The session of the cookie id: from the table, else from the store (a restart). */
static int lookup(ui_ctx *u, accord_store *s, const char *id, size_t len, session_info *si)
{
    int64_t now = accord_timestamp_now();
    if (session_lookup(u->sessions, id, len, now, si) == 0)
        return 0;
    if (!s || !session_token_shape(id, len))
        return ACCORD_ENOTFOUND;
    unsigned char h[SESSION_HASH_LEN];
    session_id_hash(id, len, h);
    char account[ACCORD_ACCOUNT_NAME_MAX + 1];
    int64_t created, used;
    accord_error err;
    if (store_session_get(s, h, account, sizeof(account), &created, &used, &err) != 0 ||
        session_restore(u->sessions, id, len, account, created, used, now) != 0)
        return ACCORD_ENOTFOUND;
    return session_lookup(u->sessions, id, len, now, si);
}

static int from_this_origin(const taxii_ctx *ctx, const taxii_request *rq)
{
    return session_origin_ok(rq->origin, rq->tls ? "https" : "http", rq->host, ctx->public_url);
}

static int api_fail_rs(taxii_response *rs, int status, const char *title, const char *desc)
{
    api_error_body(rs, status, title, desc);
    return 1;
}

static void session_json(taxii_response *rs, const char *account, int is_admin, const char *csrf,
                         int64_t expires_us)
{
    char ts[40];
    accord_timestamp_format(expires_us, ts, sizeof(ts));
    rs->status = 200;
    rs->content_type = API_JSON;
    buf_adds(&rs->body, "{\"account\":");
    buf_json_str(&rs->body, account);
    buf_printf(&rs->body, ",\"admin\":%s,\"csrf_token\":", is_admin ? "true" : "false");
    buf_json_str(&rs->body, csrf);
    buf_printf(&rs->body, ",\"expires\":\"%s\"}", ts);
}

/* The account behind a session, checked against the store: gone or disabled = no session. */
static int session_account(accord_store *s, const char *account, int *is_admin)
{
    store_account_row row;
    accord_error err;
    int rc = store_account_get(s, account, &row, &err);
    if (rc == ACCORD_ENOTFOUND || (rc == 0 && row.disabled))
        return ACCORD_EINVAL;
    if (rc == 0)
        *is_admin = row.is_admin;
    return rc;
}

static void login(ui_ctx *u, const taxii_ctx *ctx, accord_store *s, const taxii_request *rq,
                  taxii_response *rs)
{
    if (!from_this_origin(ctx, rq)) {
        api_fail_rs(rs, 403, "Origin refused", "a login must come from this server's own page");
        return;
    }
    if (!rq->content_type || strncmp(rq->content_type, "application/json", 16) != 0) {
        api_fail_rs(rs, 415, "Unsupported media type", "send the credentials as application/json");
        return;
    }
    if (rq->body_too_large || rq->body_len > LOGIN_BODY_MAX) {
        api_fail_rs(rs, 413, "Body too large", "a login body is at most 4096 bytes");
        return;
    }
    ajson_arena a;
    ajson_arena_init(&a, 4 * LOGIN_BODY_MAX + 4096);
    ajson_error je;
    const ajson_value *v = ajson_parse(&a, rq->body, rq->body_len, &je);
    const char *user = v ? ajson_str(ajson_get(v, "username")) : NULL;
    const char *pass = v ? ajson_str(ajson_get(v, "password")) : NULL;
    if (!user || !pass) {
        ajson_arena_free(&a);
        api_fail_rs(rs, 400, "Bad login", "expected {\"username\":..,\"password\":..}");
        return;
    }
    accord_principal p;
    accord_error err = {0};
    int rc = accord_auth_basic(s, user, pass, rq->client_addr, &p, &err);
    ajson_arena_free(&a);
    if (rc == ACCORD_EBUSY) {
        rs->retry_after_s = p.retry_after_s;
        api_fail_rs(rs, 429, "Too many failed logins", "wait and retry");
        return;
    }
    if (rc == ACCORD_EINVAL) {
        api_fail_rs(rs, 401, "Login failed", "unknown account or wrong password");
        return;
    }
    if (rc) {
        api_fail_rs(rs, 500, "Store error", "the login could not be checked");
        return;
    }
    char id[SESSION_TOKEN_LEN + 1], csrf[SESSION_TOKEN_LEN + 1];
    int64_t now = accord_timestamp_now();
    if (session_create(u->sessions, p.name, now, id, csrf) != 0) {
        api_fail_rs(rs, 500, "Session error", "no session could be created");
        return;
    }
    persist(ctx, 'p', id, SESSION_TOKEN_LEN, p.name, now, now);
    snprintf(rs->set_cookie, sizeof(rs->set_cookie),
             "%s=%s; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=%lld", SESSION_COOKIE, id,
             (long long)(SESSION_MAX_US / 1000000));
    session_json(rs, p.name, p.is_admin, csrf, now + SESSION_IDLE_US);
}

static void session_route(ui_ctx *u, const taxii_ctx *ctx, accord_store *s,
                          const taxii_request *rq, taxii_response *rs)
{
    rs->endpoint = "session";
    if (strcmp(rq->method, "POST") == 0) {
        login(u, ctx, s, rq, rs);
        return;
    }
    const char *id;
    size_t len;
    session_info si;
    int have = cookie_of(rq, &id, &len) && lookup(u, s, id, len, &si) == 0;
    int is_admin = 0;
    int rc = have ? session_account(s, si.account, &is_admin) : ACCORD_EINVAL;
    if (strcmp(rq->method, "GET") == 0) {
        if (rc == 0)
            session_json(rs, si.account, is_admin, si.csrf, si.expires_us);
        else
            api_fail_rs(rs, rc == ACCORD_EINVAL ? 401 : 500, "Not logged in",
                        "no valid session: log in with POST /api/session");
    } else if (strcmp(rq->method, "DELETE") == 0) {
        /* logout changes state: the same guard as any other change */
        if (have && (!from_this_origin(ctx, rq) || !session_csrf_ok(&si, rq->csrf_token))) {
            api_fail_rs(rs, 403, "CSRF check failed",
                        "a logout needs the session's X-CSRF-Token and this server's Origin");
            return;
        }
        if (have) {
            session_destroy(u->sessions, id, len);
            persist(ctx, 'd', id, len, NULL, 0, 0);
        }
        snprintf(rs->set_cookie, sizeof(rs->set_cookie),
                 "%s=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0", SESSION_COOKIE);
        rs->status = 204;
    } else {
        snprintf(rs->allow, sizeof(rs->allow), "GET, POST, DELETE");
        api_fail_rs(rs, 405, "Method not allowed", "GET, POST or DELETE");
    }
}

int ui_session_principal(ui_ctx *u, accord_store *s, const taxii_request *rq, taxii_principal *out)
{
    const char *id;
    size_t len;
    session_info si;
    if (!u || rq->authorization || strncmp(rq->path, "/api/", 5) != 0 ||
        !cookie_of(rq, &id, &len) || lookup(u, s, id, len, &si) != 0)
        return ACCORD_EINVAL;
    int is_admin = 0;
    int rc = session_account(s, si.account, &is_admin);
    if (rc)
        return rc;
    snprintf(out->account, sizeof(out->account), "%s", si.account);
    out->is_admin = is_admin;
    return 0;
}

int ui_handle(ui_ctx *u, const taxii_ctx *ctx, accord_store *reader, const taxii_request *rq,
              taxii_response *rs)
{
    const char *path = rq->path;
    if (strcmp(path, "/ui") == 0 || strncmp(path, "/ui/", 4) == 0) {
        serve_file(u, rq, rs);
        return 1;
    }
    if (strcmp(path, "/api/session") == 0) {
        session_route(u, ctx, reader, rq, rs);
        return 1;
    }
    /* the session of the cookie, brought back from the store after a restart; its use recorded
       there now and then (this runs before the request is authenticated) */
    const char *id;
    size_t len;
    session_info si;
    if (strncmp(path, "/api/", 5) != 0 || rq->authorization || !cookie_of(rq, &id, &len) ||
        lookup(u, reader, id, len, &si) != 0)
        return 0;
    if (si.persist_due)
        persist(ctx, 't', id, len, NULL, 0, si.used_us);
    /* the guard: a change authenticated by the cookie alone must prove it comes from the page */
    if (!session_method_unsafe(rq->method))
        return 0;
    if (from_this_origin(ctx, rq) && session_csrf_ok(&si, rq->csrf_token))
        return 0;
    rs->endpoint = "api";
    return api_fail_rs(rs, 403, "CSRF check failed",
                       "a change made with a session cookie needs its X-CSRF-Token header and "
                       "this server's Origin");
}
