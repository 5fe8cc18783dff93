/*
 * server.c - `accord serve`: HTTPS (libmicrohttpd + GnuTLS) around the TAXII protocol (taxii.c).
 *
 * Threads: libmicrohttpd runs one thread per connection (at most max_connections), or with
 * `threads` set a pool of that many threads over epoll.  Per connection by default because a
 * pool thread keeps every connection it accepted and accepts a burst of them at once: clients
 * that connected together were then served one after the other by one thread while the other
 * threads idled (signed TAXII POSTs from 4 clients ran on 1.05 cores in about half the runs of
 * bench_sign, 1.7-1.8 in the others).  Each thread opens its own read handle on the store the
 * first time it needs one (a thread-specific key closes it when the thread ends); SQLite's WAL
 * lets those readers run in parallel with the one writer.  Writes (POST, DELETE) go through the
 * single writer handle under a mutex.
 *
 * Limits, so that no client can make the server use unbounded memory or threads:
 *   - request line and headers: MHD's per-connection memory limit (CONN_MEMORY), answered 431/413;
 *   - body: the API root's max_content_length, counted while reading (chunked bodies too); the
 *     excess is read and dropped, and the request answered 413 without processing;
 *   - connections: max_connections in all, and an idle/slow-client timeout;
 *   - query: at most MAX_PARAMS parameters.
 *
 * Also served, outside TAXII: GET /metrics (Prometheus text: requests by endpoint and status,
 * latency histogram, objects posted), for any authenticated account.
 *
 * Reload: accounts, tokens, rights, roots and collections are read from the store on each
 * request, so changes made with the CLI apply to the next request without a restart.
 *
 * Federation: the server also runs the background sync rounds with its peers (peer_sync.c: a
 * thread per peer with an interval, each with its own store handle), started after the listener
 * and stopped before it.
 */
#include "accord.h"
#include "api.h"
#include "peer.h"
#include "store.h"
#include "taxii.h"
#include "tls.h"
#include "ui.h"
#include "util/buf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PARAMS 64
#define CONN_MEMORY (128 * 1024)
#define N_ENDPOINTS 18
#define N_BUCKETS 12

static const char *const endpoint_names[N_ENDPOINTS] = {
    "discovery", "api_root", "status", "collections", "collection", "manifest",
    "objects",   "object",   "versions", "metrics",   "api",     "feeds",
    "cases",     "ui",       "session", "console",  "csaf",     "unknown"};
static const double bucket_ms[N_BUCKETS] = {0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 5000};

struct accord_server {
    struct MHD_Daemon *mhd;
    int sock, port;
    char data_dir[4096];
    tls_pair tls;
    int tls_on;
    taxii_ctx ctx;
    accord_store *writer;
    pthread_mutex_t writer_lock;
    pthread_key_t reader_key;
    int key_ok;
    int log_fd;
    pthread_mutex_t log_lock;
    atomic_int active;   /* open connections */
    atomic_int inflight; /* requests being read, handled or answered */
    /* metrics */
    atomic_ullong requests[N_ENDPOINTS][6]; /* by status class 1xx..5xx, [0] other */
    atomic_ullong latency[N_BUCKETS + 1];
    atomic_ullong latency_sum_us;
    atomic_ullong ingested;
    peer_syncer *sync; /* background federation rounds (peer_sync.c) */
    ui_ctx *ui;        /* the web console's files and sessions (ui.c) */
};

/* Per request. */
typedef struct req {
    buf body;
    int too_large;
    size_t max_body;
    struct timespec t0;
    int status;
    const char *endpoint;
    size_t sent;
} req;

static double now_ms(const struct timespec *since)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - since->tv_sec) * 1e3 + (double)(t.tv_nsec - since->tv_nsec) / 1e6;
}

static void close_reader(void *p)
{
    accord_store_close(p);
}

/* The calling thread's read handle on the store. */
static accord_store *thread_reader(accord_server *srv)
{
    accord_store *s = pthread_getspecific(srv->reader_key);
    if (s)
        return s;
    accord_error err;
    if (accord_store_open(srv->data_dir, ACCORD_STORE_MMAP, &s, &err) != 0)
        return NULL;
    pthread_setspecific(srv->reader_key, s);
    return s;
}

/* ------------------------------------------------------------------------------------------ */
/* Authentication and rights, for taxii.c                                                     */

static int authenticate(void *ud, accord_store *s, const taxii_request *rq, taxii_principal *out)
{
    if (!rq->authorization) /* a console session, on /api/ only */
        return ui_session_principal(((accord_server *)ud)->ui, s, rq, out);
    accord_principal p;
    accord_error err;
    int rc = accord_auth_header(s, rq->authorization, rq->client_addr, &p, &err);
    if (rc == ACCORD_EBUSY)
        out->retry_after_s = p.retry_after_s;
    if (rc)
        return rc; /* EINVAL: 401, EBUSY: 429, anything else: the store failed, 500 */
    snprintf(out->account, sizeof(out->account), "%s", p.name);
    out->is_admin = p.is_admin;
    return 0;
}

static int rights(void *ud, accord_store *s, const taxii_principal *p, const char *collection_id,
                  int *can_read, int *can_write)
{
    (void)ud;
    accord_error err;
    *can_read = *can_write = 0;
    if (p->is_admin) {
        *can_read = *can_write = 1;
        return 0;
    }
    return accord_rights_get(s, p->account, collection_id, can_read, can_write, &err);
}

/* ------------------------------------------------------------------------------------------ */
/* Metrics and logs                                                                            */

static int endpoint_index(const char *name)
{
    for (int i = 0; i < N_ENDPOINTS; i++)
        if (name && strcmp(name, endpoint_names[i]) == 0)
            return i;
    return N_ENDPOINTS - 1;
}

static void record(accord_server *srv, const req *r, double ms)
{
    int cls = r->status / 100;
    atomic_fetch_add(&srv->requests[endpoint_index(r->endpoint)][cls >= 1 && cls <= 5 ? cls : 0],
                     1);
    int b = 0;
    while (b < N_BUCKETS && ms > bucket_ms[b])
        b++;
    atomic_fetch_add(&srv->latency[b], 1);
    atomic_fetch_add(&srv->latency_sum_us, (unsigned long long)(ms * 1000));
}

static void on_ingest(void *ud, uint64_t n)
{
    accord_server *srv = ud;
    atomic_fetch_add(&srv->ingested, n);
}

static void metrics_text(accord_server *srv, accord_store *s, buf *b)
{
    static const char *cls[] = {"other", "1xx", "2xx", "3xx", "4xx", "5xx"};
    buf_adds(b, "# HELP accord_http_requests_total HTTP requests by endpoint and status class\n"
                "# TYPE accord_http_requests_total counter\n");
    for (int e = 0; e < N_ENDPOINTS; e++)
        for (int c = 0; c < 6; c++) {
            unsigned long long n = atomic_load(&srv->requests[e][c]);
            if (n)
                buf_printf(b, "accord_http_requests_total{endpoint=\"%s\",status=\"%s\"} %llu\n",
                           endpoint_names[e], cls[c], n);
        }
    buf_adds(b, "# HELP accord_http_request_duration_seconds request latency\n"
                "# TYPE accord_http_request_duration_seconds histogram\n");
    unsigned long long cum = 0;
    for (int i = 0; i <= N_BUCKETS; i++) {
        cum += atomic_load(&srv->latency[i]);
        if (i < N_BUCKETS)
            buf_printf(b, "accord_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
                       bucket_ms[i] / 1000, cum);
        else
            buf_printf(b, "accord_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n", cum);
    }
    buf_printf(b, "accord_http_request_duration_seconds_sum %.6f\n",
               (double)atomic_load(&srv->latency_sum_us) / 1e6);
    buf_printf(b, "accord_http_request_duration_seconds_count %llu\n", cum);
    buf_printf(b, "# TYPE accord_http_connections gauge\naccord_http_connections %d\n",
               atomic_load(&srv->active));
    buf_printf(b, "# HELP accord_objects_ingested_total object versions stored by TAXII POSTs\n"
                  "# TYPE accord_objects_ingested_total counter\n"
                  "accord_objects_ingested_total %llu\n",
               atomic_load(&srv->ingested));
    accord_store_stats st;
    accord_error err;
    if (accord_store_stats_light(s, &st, &err) == 0)
        buf_printf(b, "# HELP accord_objects_stored object versions in the store\n"
                      "# TYPE accord_objects_stored gauge\naccord_objects_stored %lld\n",
                   (long long)st.versions);
}

static void access_log(accord_server *srv, struct MHD_Connection *conn, const req *r, double ms)
{
    if (srv->log_fd < 0)
        return;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    char addr[64] = "-";
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, addr, sizeof(addr));
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, addr,
                      sizeof(addr));
    }
    char ts[40];
    accord_timestamp_format(accord_timestamp_now(), ts, sizeof(ts));
    buf b;
    buf_init(&b, 8192);
    buf_printf(&b, "{\"ts\":\"%s\",\"client\":\"%s\",\"endpoint\":\"%s\",\"status\":%d,"
                   "\"ms\":%.3f,\"bytes\":%zu}\n",
               ts, addr, r->endpoint ? r->endpoint : "unknown", r->status, ms, r->sent);
    pthread_mutex_lock(&srv->log_lock);
    if (!b.failed && write(srv->log_fd, b.p, b.len) < 0) {
        /* a log that cannot be written must not take requests down with it */
    }
    pthread_mutex_unlock(&srv->log_lock);
    buf_free(&b);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    accord_server *srv = cls;
    req *r = *con_cls;
    (void)toe;
    if (!r)
        return;
    double ms = now_ms(&r->t0);
    if (r->status) {
        record(srv, r, ms);
        access_log(srv, conn, r, ms);
    }
    buf_free(&r->body);
    free(r);
    *con_cls = NULL;
    atomic_fetch_sub(&srv->inflight, 1);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_ctx,
                          enum MHD_ConnectionNotificationCode code)
{
    accord_server *srv = cls;
    (void)conn;
    (void)socket_ctx;
    if (code == MHD_CONNECTION_NOTIFY_STARTED)
        atomic_fetch_add(&srv->active, 1);
    else
        atomic_fetch_sub(&srv->active, 1);
}

/* ------------------------------------------------------------------------------------------ */
/* Requests                                                                                     */

typedef struct params {
    taxii_param v[MAX_PARAMS];
    size_t n;
    int overflow;
} params;

static enum MHD_Result collect_param(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    params *p = cls;
    (void)kind;
    if (p->n == MAX_PARAMS) {
        p->overflow = 1;
        return MHD_NO;
    }
    p->v[p->n].key = key;
    p->v[p->n].value = value ? value : "";
    p->n++;
    return MHD_YES;
}

static void client_addr(struct MHD_Connection *conn, char *out, size_t len)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, len, "-");
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)len);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)len);
}

static enum MHD_Result send_response(struct MHD_Connection *conn, req *r, taxii_response *rs,
                                     int tls)
{
    size_t len = 0;
    char *body = rs->content_type ? buf_take(&rs->body, &len) : NULL;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, body ? body : (char *)"", body ? MHD_RESPMEM_MUST_FREE
                                                                            : MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    if (rs->content_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, rs->content_type);
    if (rs->date_first[0])
        MHD_add_response_header(resp, "X-TAXII-Date-Added-First", rs->date_first);
    if (rs->date_last[0])
        MHD_add_response_header(resp, "X-TAXII-Date-Added-Last", rs->date_last);
    if (rs->allow[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, rs->allow);
    if (rs->etag[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, rs->etag);
    if (rs->retry_after_s > 0) {
        char ra[24];
        snprintf(ra, sizeof(ra), "%lld", (long long)rs->retry_after_s);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
    }
    if (rs->www_authenticate)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                "Basic realm=\"accord\", Bearer realm=\"accord\"");
    if (rs->set_cookie[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, rs->set_cookie);
    if (rs->content_encoding && strcmp(rs->content_encoding, "identity") != 0)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, rs->content_encoding);
    if (rs->content_encoding)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
    /* no-store unless a route says otherwise (the console's static files) */
    MHD_add_response_header(resp, "Cache-Control",
                            rs->cache_control ? rs->cache_control : "no-store");
    for (size_t i = 0; ui_security_headers[i][0]; i++)
        MHD_add_response_header(resp, ui_security_headers[i][0], ui_security_headers[i][1]);
    if (tls)
        MHD_add_response_header(resp, ui_hsts[0], ui_hsts[1]);
    r->status = rs->status;
    r->endpoint = rs->endpoint;
    r->sent = len;
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)rs->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void serve_metrics(accord_server *srv, accord_store *s, const taxii_request *rq,
                          taxii_response *rs)
{
    taxii_principal who;
    rs->endpoint = "metrics";
    memset(&who, 0, sizeof(who));
    if (authenticate(srv, s, rq, &who) != 0) {
        rs->status = 401;
        rs->www_authenticate = 1;
        rs->content_type = "text/plain";
        buf_adds(&rs->body, "authentication required\n");
        return;
    }
    rs->status = 200;
    rs->content_type = "text/plain; version=0.0.4";
    metrics_text(srv, s, &rs->body);
}

/* The largest max_content_length of any API root: the cap while reading a body. */
static size_t body_cap(accord_store *s);

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    accord_server *srv = cls;
    req *r = *con_cls;
    (void)version;
    if (!r) {
        r = calloc(1, sizeof(*r));
        if (!r)
            return MHD_NO;
        clock_gettime(CLOCK_MONOTONIC, &r->t0);
        atomic_fetch_add(&srv->inflight, 1);
        accord_store *s = thread_reader(srv);
        r->max_body = s ? body_cap(s) : 0;
        buf_init(&r->body, r->max_body + 1);
        *con_cls = r;
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!r->too_large && buf_add(&r->body, upload_data, *upload_data_size))
            r->too_large = 1; /* keep reading and dropping; answer 413 at the end */
        *upload_data_size = 0;
        return MHD_YES;
    }
    accord_store *s = thread_reader(srv);
    taxii_response rs;
    taxii_response_init(&rs);
    params p = {.n = 0};
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_param, &p);
    char addr[64];
    client_addr(conn, addr, sizeof(addr));
    taxii_request rq = {
        .method = method,
        .path = url,
        .query = p.v,
        .nquery = p.n,
        .host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST),
        .accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT),
        .accept_encoding =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING),
        .content_type =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE),
        .authorization =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
        .if_none_match =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH),
        .client_addr = addr,
        .body = r->body.p ? r->body.p : "",
        .body_len = r->body.len,
        .body_too_large = r->too_large,
        .cookie = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_COOKIE),
        .origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin"),
        .csrf_token = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, SESSION_CSRF_HEADER),
        .tls = srv->tls_on,
    };
    if (!s) {
        rs.status = 503;
        rs.content_type = TAXII_MEDIA;
        rs.endpoint = "unknown";
        buf_adds(&rs.body, "{\"title\":\"Store unavailable\",\"http_status\":\"503\"}");
    } else if (p.overflow) {
        rs.status = 400;
        rs.content_type = TAXII_MEDIA;
        rs.endpoint = "unknown";
        buf_printf(&rs.body,
                   "{\"title\":\"Too many query parameters\",\"description\":\"at most %d\","
                   "\"http_status\":\"400\"}",
                   MAX_PARAMS);
    } else if (strcmp(url, "/metrics") == 0 && strcmp(method, "GET") == 0) {
        serve_metrics(srv, s, &rq, &rs);
    } else if (ui_handle(srv->ui, &srv->ctx, s, &rq, &rs)) {
        /* the console's files, its login session, or its CSRF guard answered */
    } else if (!api_handle(&srv->ctx, s, &rq, &rs)) {
        taxii_handle(&srv->ctx, s, &rq, &rs);
    }
    enum MHD_Result ret = send_response(conn, r, &rs, srv->tls_on);
    taxii_response_free(&rs);
    return ret;
}

static int max_root(void *ud, const accord_root *r)
{
    int64_t *m = ud;
    if (r->max_content_length > *m)
        *m = r->max_content_length;
    return 0;
}

static size_t body_cap(accord_store *s)
{
    int64_t m = 0;
    accord_error err;
    accord_root_list(s, max_root, &m, &err);
    return m > 0 ? (size_t)m : (size_t)100 * 1024 * 1024;
}

/* ------------------------------------------------------------------------------------------ */
/* Start and stop                                                                              */

/* Parses "ADDR:PORT" / "[ADDR]:PORT" into a bound, listening socket. */
static int listen_on(const char *spec, int plain, int *sock_out, int *port_out, accord_error *err)
{
    char host[256];
    const char *colon = strrchr(spec, ':');
    if (!colon || colon == spec)
        return accord_err_set(err, ACCORD_EINVAL, "listen %s: expected ADDR:PORT", spec);
    size_t hlen = (size_t)(colon - spec);
    if (spec[0] == '[' && hlen >= 2 && spec[hlen - 1] == ']') {
        spec++;
        hlen -= 2;
    }
    if (hlen >= sizeof(host))
        return accord_err_set(err, ACCORD_EINVAL, "listen %s: address too long", spec);
    memcpy(host, spec, hlen);
    host[hlen] = '\0';
    char *end;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (errno || *end || port < 0 || port > 65535)
        return accord_err_set(err, ACCORD_EINVAL, "listen %s: bad port", spec);
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    socklen_t sl;
    int loopback;
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        sl = sizeof(*a4);
        loopback = (ntohl(a4->sin_addr.s_addr) >> 24) == 127;
    } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        sl = sizeof(*a6);
        loopback = IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr);
    } else {
        return accord_err_set(err, ACCORD_EINVAL, "listen %s: not an IP address", host);
    }
    if (plain && !loopback)
        return accord_err_set(err, ACCORD_EINVAL,
                              "plain HTTP only on a loopback address (asked for %s); use HTTPS",
                              host);
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, 512) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return accord_err_set(err, ACCORD_EIO, "listen %s:%ld: %s", host, port, strerror(e));
    }
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    *port_out = ntohs(ss.ss_family == AF_INET ? a4->sin_port : a6->sin6_port);
    *sock_out = fd;
    return 0;
}

int accord_server_start(const accord_server_options *o, accord_server **out, char *admin_token,
                        size_t admin_token_len, accord_error *err)
{
    *out = NULL;
    if (admin_token && admin_token_len)
        admin_token[0] = '\0';
    accord_server *srv = calloc(1, sizeof(*srv));
    if (!srv)
        return accord_err_set(err, ACCORD_ENOMEM, "serve: out of memory");
    srv->sock = -1;
    srv->log_fd = o->log_fd;
    snprintf(srv->data_dir, sizeof(srv->data_dir), "%s", o->data_dir ? o->data_dir : ".");
    pthread_mutex_init(&srv->writer_lock, NULL);
    pthread_mutex_init(&srv->log_lock, NULL);
    int rc = accord_store_open(srv->data_dir, 0, &srv->writer, err);
    if (!rc) /* the writer's WAL is checkpointed by request threads outside its lock (taxii.c) */
        store_wal_defer(srv->writer);
    if (!rc) /* collections that sign POSTs: refuse to start without a usable key */
        rc = accord_collection_sign_check(srv->writer, srv->data_dir, err);
    if (!rc) /* the signature extension-definition in every collection, older ones included */
        rc = accord_collection_extdef_publish(srv->writer, err);
    if (rc)
        goto fail;
    int created = 0;
    if (admin_token &&
        (rc = accord_account_bootstrap(srv->writer, admin_token, admin_token_len, &created, err)))
        goto fail;
    if ((rc = listen_on(o->listen ? o->listen : "127.0.0.1:8443", o->plain_http, &srv->sock,
                        &srv->port, err)))
        goto fail;
    srv->tls_on = !o->plain_http;
    if (srv->tls_on && (rc = tls_load(srv->data_dir, o->cert_file, o->key_file, &srv->tls, err)))
        goto fail;
    if (pthread_key_create(&srv->reader_key, close_reader) != 0) {
        rc = accord_err_set(err, ACCORD_ENOMEM, "serve: no thread key");
        goto fail;
    }
    srv->key_ok = 1;
    if ((rc = ui_open(o->ui_dir, &srv->ui, err)))
        goto fail;
    srv->ctx = (taxii_ctx){.title = o->title ? o->title : "accord",
                           .description = o->description,
                           .contact = o->contact,
                           .public_url = o->public_url,
                           .authenticate = authenticate,
                           .rights = rights,
                           .on_ingest = on_ingest,
                           .ud = srv,
                           .writer = srv->writer,
                           .writer_lock = &srv->writer_lock,
                           .data_dir = srv->data_dir};
    unsigned threads = o->threads; /* 0: a thread per connection */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC |
                     (threads ? MHD_USE_EPOLL : MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL);
    if (srv->tls_on)
        flags |= MHD_USE_TLS;
    unsigned max_conn = o->max_connections ? o->max_connections : 256;
    unsigned timeout = o->timeout_s ? o->timeout_s : 30;
    struct MHD_OptionItem tls_opts[] = {
        {srv->tls_on ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, srv->tls.key_pem},
        {srv->tls_on ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, srv->tls.cert_pem},
        {MHD_OPTION_END, 0, NULL}};
    srv->mhd = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_LISTEN_SOCKET, srv->sock,
        MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_LIMIT, max_conn,
        MHD_OPTION_CONNECTION_TIMEOUT, timeout, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)CONN_MEMORY, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv, MHD_OPTION_ARRAY, tls_opts,
        MHD_OPTION_END);
    if (!srv->mhd) {
        rc = accord_err_set(err, ACCORD_EIO, "serve: the HTTP server did not start");
        goto fail;
    }
    if ((rc = peer_syncer_start(srv->data_dir, &srv->sync, err)))
        goto fail;
    *out = srv;
    return 0;
fail:
    if (rc == 0)
        rc = ACCORD_EIO;
    accord_server_stop(srv, 0);
    if (admin_token && admin_token_len)
        admin_token[0] = '\0';
    return rc;
}

int accord_server_port(const accord_server *srv)
{
    return srv->port;
}

const char *accord_server_fingerprint(const accord_server *srv, int *created)
{
    if (created)
        *created = srv->tls.created;
    return srv->tls_on ? srv->tls.fingerprint : "";
}

const char *accord_server_console_dir(const accord_server *srv)
{
    return ui_dir(srv->ui);
}

void accord_server_stop(accord_server *srv, unsigned grace_ms)
{
    if (!srv)
        return;
    peer_syncer_stop(srv->sync); /* aborts transfers in flight */
    if (srv->mhd) {
        MHD_socket s = MHD_quiesce_daemon(srv->mhd); /* no new connections from here on */
        /* idle keep-alive connections do not hold the stop back; requests in flight do */
        for (unsigned waited = 0; waited < grace_ms && atomic_load(&srv->inflight) > 0;
             waited += 20)
            usleep(20 * 1000);
        MHD_stop_daemon(srv->mhd);
        if (s != MHD_INVALID_SOCKET)
            srv->sock = s;
    }
    if (srv->sock >= 0)
        close(srv->sock);
    if (srv->key_ok)
        pthread_key_delete(srv->reader_key);
    accord_store_close(srv->writer);
    tls_pair_free(&srv->tls);
    ui_close(srv->ui);
    pthread_mutex_destroy(&srv->writer_lock);
    pthread_mutex_destroy(&srv->log_lock);
    free(srv);
}
