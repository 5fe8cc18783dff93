/*
 * cmd_nats_conn.c - the NATS connection of every NATS command, and the indicator snapshot as it
 * travels through JetStream.
 *
 * Connections reconnect forever (every 250 ms) and buffer what is published meanwhile, so a
 * restarted server or a cluster fail-over only delays work: publishers wait for their
 * acknowledgements, workers fetch again.  Credentials: a .creds file (user JWT and nkey seed),
 * an nkey seed, and TLS with a CA bundle and optionally a client certificate.
 *
 * Snapshots: `accord nats snapshot` compiles the indicators once and publishes the compiled
 * tables (src/match_serial.c, docs/scale-out.md), cut into parts of at most NATS_PART_MAX
 * bytes, each part the only message of subject accord.snap.<version>.<n>, so a part is read
 * back with one direct "last message of subject" request and needs no consumer.  The pointer
 * (KV current) names the version, the part count, the size and the SHA-256 of the whole; a
 * reader that gets anything else refuses the snapshot and keeps the one it has.  The loader
 * checks the bytes again on its own (they are outside input whatever their digest says).  A
 * snapshot of JSON lines (one STIX indicator per line, as earlier versions published) is still
 * read, and compiled by the reader.
 */
#include "cmd_nats.h"
#include "match_serial.h"

#include <dirent.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

volatile sig_atomic_t nats_stop;

static void on_signal(int sig)
{
    (void)sig;
    nats_stop = 1;
}

void nats_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

double nats_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int nats_opt_arg(nats_opts *o, int argc, char **argv, int i)
{
    static const struct {
        const char *name;
        size_t off;
    } opts[] = {
        {"--nats", offsetof(nats_opts, url)},         {"--nats-creds", offsetof(nats_opts, creds)},
        {"--nats-nkey", offsetof(nats_opts, nkey)},   {"--nats-ca", offsetof(nats_opts, ca)},
        {"--nats-cert", offsetof(nats_opts, cert)},   {"--nats-key", offsetof(nats_opts, key)},
        {"--tenant", offsetof(nats_opts, tenant)},
    };
    for (size_t k = 0; k < sizeof opts / sizeof opts[0]; k++) {
        if (strcmp(argv[i], opts[k].name) != 0)
            continue;
        if (i + 1 >= argc)
            return -1;
        *(const char **)((char *)o + opts[k].off) = argv[i + 1];
        if (k == 6 && !nats_source_valid(argv[i + 1], strlen(argv[i + 1])))
            return -1;
        return 2;
    }
    return 0;
}

void nats_names_of(const char *tenant, nats_names *n)
{
    snprintf(n->tel, sizeof n->tel, "%s_%s", NATS_STREAM_TEL, tenant);
    snprintf(n->res, sizeof n->res, "%s_%s", NATS_STREAM_RES, tenant);
    snprintf(n->dlq, sizeof n->dlq, "%s_%s", NATS_STREAM_DLQ, tenant);
    snprintf(n->tel_all, sizeof n->tel_all, "accord.tel.%s.>", tenant);
    snprintf(n->res_subj, sizeof n->res_subj, "accord.res.%s", tenant);
    snprintf(n->dlq_subj, sizeof n->dlq_subj, "accord.dlq.%s", tenant);
}

int nats_consumer_done(nats_link *l, const char *stream, const char *consumer)
{
    jsConsumerInfo *ci = NULL;
    int done;
    if (js_GetConsumerInfo(&ci, l->js, stream, consumer, NULL, NULL) != NATS_OK)
        return -1;
    done = ci->NumPending == 0 && ci->NumAckPending == 0;
    jsConsumerInfo_Destroy(ci);
    return done;
}

void nats_fail(const char *cmd, const char *what, natsStatus s, jsErrCode jerr)
{
    if (jerr)
        cli_error(cmd, "%s: %s (JetStream error %d)", what, natsStatus_GetText(s), (int)jerr);
    else
        cli_error(cmd, "%s: %s", what, natsStatus_GetText(s));
}

/* The public key of the user nkey seed in file path (the server is told it at connect; the
 * client signs its challenge with the seed). */
static int nkey_public(const char *cmd, const char *path, char pub[NATS_NKEY_PUBLIC_LEN + 1])
{
    uint8_t seed[32], pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    const char *why = NULL;
    size_t len;
    char *text = cli_slurp(cmd, path, 64u << 10, &len);
    int rc = -1;
    if (!text)
        return -1;
    if (nats_nkey_seed_find(text, len, seed, &why) != 0)
        cli_error(cmd, "--nats-nkey %s: %s", path, why);
    else if (sodium_init() < 0 || crypto_sign_seed_keypair(pk, sk, seed) != 0)
        cli_error(cmd, "--nats-nkey %s: cannot derive the public key", path);
    else
        rc = 0;
    if (rc == 0)
        nats_nkey_user_public(pk, pub);
    sodium_memzero(seed, sizeof seed);
    sodium_memzero(sk, sizeof sk);
    sodium_memzero(text, len);
    free(text);
    return rc;
}

/* What the server says outside any reply (a permissions violation, a slow consumer): to stderr,
 * since the call that caused it only sees a timeout. */
static void on_conn_error(natsConnection *nc, natsSubscription *sub, natsStatus err, void *cmd)
{
    const char *text = NULL;
    (void)sub;
    natsConnection_GetLastError(nc, &text);
    cli_error(cmd, "server: %s", text && *text ? text : natsStatus_GetText(err));
}

static void on_async_error(jsCtx *js, jsPubAckErr *pae, void *closure)
{
    (void)js;
    (void)pae;
    atomic_fetch_add((atomic_uint *)closure, 1);
}

int nats_connect(const char *cmd, const nats_opts *o, int retry, const nats_evloop *ev,
                 natsConnection **nc)
{
    natsOptions *no = NULL;
    natsStatus s;
    *nc = NULL;
    if (!o->url) {
        cli_error(cmd, "--nats URL is required");
        return -1;
    }
    s = natsOptions_Create(&no);
    if (s == NATS_OK)
        s = natsOptions_SetURL(no, o->url);
    if (s == NATS_OK)
        s = natsOptions_SetName(no, "accord");
    if (s == NATS_OK)
        s = natsOptions_SetMaxReconnect(no, -1);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectWait(no, 250);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectBufSize(no, 64 << 20);
    /* a chunk (up to 1 MiB) read whole into the read buffer is copied once into its message;
     * with the default 32 KiB it is gathered in a second buffer first, in 32 reads */
    if (s == NATS_OK)
        s = natsOptions_SetIOBufSize(no, ev ? NATS_PULL_READ : 2 << 20);
    if (s == NATS_OK && retry)
        s = natsOptions_SetRetryOnFailedConnect(no, true, NULL, NULL);
    if (s == NATS_OK)
        s = natsOptions_SetErrorHandler(no, on_conn_error, (void *)cmd);
    if (s == NATS_OK && o->creds)
        s = natsOptions_SetUserCredentialsFromFiles(no, o->creds, NULL);
    if (s == NATS_OK && o->nkey) {
        char pub[NATS_NKEY_PUBLIC_LEN + 1];
        if (nkey_public(cmd, o->nkey, pub) != 0) {
            natsOptions_Destroy(no);
            return -1;
        }
        s = natsOptions_SetNKeyFromSeed(no, pub, o->nkey);
    }
    if (s == NATS_OK && o->ca) {
        s = natsOptions_SetSecure(no, true);
        if (s == NATS_OK)
            s = natsOptions_LoadCATrustedCertificates(no, o->ca);
    }
    if (s == NATS_OK && o->cert)
        s = natsOptions_LoadCertificatesChain(no, o->cert, o->key ? o->key : o->cert);
    if (s == NATS_OK && ev)
        s = natsOptions_SetEventLoop(no, ev->loop, ev->attach, ev->read, ev->write, ev->detach);
    /* with an event loop: a publish only asks for a write, done by the loop's next flush,
     * instead of waking the library's flusher thread each time */
    if (s == NATS_OK && ev)
        s = natsOptions_SetSendAsap(no, true);
    if (s != NATS_OK) {
        nats_fail(cmd, "connection options", s, 0);
        natsOptions_Destroy(no);
        return -1;
    }
    s = natsConnection_Connect(nc, no);
    natsOptions_Destroy(no);
    if (s == NATS_NOT_YET_CONNECTED) { /* retrying in the background */
        while (!nats_stop && natsConnection_Status(*nc) != NATS_CONN_STATUS_CONNECTED)
            nats_Sleep(50);
        s = nats_stop ? NATS_CONNECTION_CLOSED : NATS_OK;
    }
    if (s != NATS_OK) {
        nats_fail(cmd, o->url, s, 0);
        natsConnection_Destroy(*nc);
        *nc = NULL;
        return -1;
    }
    return 0;
}

int nats_link_open(const char *cmd, const nats_opts *o, int retry, nats_link *l)
{
    natsStatus s;
    jsOptions jo;
    memset(l, 0, sizeof *l);
    if (nats_connect(cmd, o, retry, NULL, &l->nc) != 0)
        return -1;
    jsOptions_Init(&jo);
    jo.Wait = 5000;
    jo.PublishAsync.ErrHandler = on_async_error;
    jo.PublishAsync.ErrHandlerClosure = &l->async_errors;
    if ((s = natsConnection_JetStream(&l->js, l->nc, &jo)) != NATS_OK) {
        nats_fail(cmd, "JetStream", s, 0);
        nats_link_close(l);
        return -1;
    }
    if (js_KeyValue(&l->kv, l->js, NATS_KV_BUCKET) != NATS_OK)
        l->kv = NULL; /* not set up yet: commands that need it say so */
    return 0;
}

void nats_link_close(nats_link *l)
{
    kvStore_Destroy(l->kv);
    jsCtx_Destroy(l->js);
    natsConnection_Destroy(l->nc);
    memset(l, 0, sizeof *l);
}

int nats_pointer_get(const char *cmd, nats_link *l, nats_pointer *p, uint64_t *rev)
{
    kvEntry *e = NULL;
    natsStatus s;
    const char *why;
    int rc;
    if (!l->kv && js_KeyValue(&l->kv, l->js, NATS_KV_BUCKET) != NATS_OK) {
        l->kv = NULL;
        cli_error(cmd, "no KV bucket %s: run accord nats setup first", NATS_KV_BUCKET);
        return -1;
    }
    s = kvStore_Get(&e, l->kv, "current");
    if (s == NATS_NOT_FOUND) {
        return 1;
    }
    if (s != NATS_OK) {
        nats_fail(cmd, "reading " NATS_KV_BUCKET "/current", s, 0);
        return -1;
    }
    rc = nats_pointer_parse(kvEntry_Value(e), (size_t)kvEntry_ValueLen(e), p, &why);
    if (rc)
        cli_error(cmd, "%s/current: %s", NATS_KV_BUCKET, why);
    if (rev)
        *rev = kvEntry_Revision(e);
    kvEntry_Destroy(e);
    return rc ? -1 : 0;
}

int nats_snapshot_compile(const char *text, size_t len, int64_t now_s, accord_snapshot **out,
                          accord_error *err)
{
    accord_snapshot_builder *b = NULL;
    int rc = accord_snapshot_builder_new(now_s, &b);
    size_t i = 0;
    *out = NULL;
    while (rc == 0 && i < len) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t n = nl ? (size_t)(nl - (text + i)) : len - i;
        if (n) {
            /* what accord_snapshot_builder_add_fd does per object: invalid ones are counted
             * as skipped, only running out of memory stops */
            rc = accord_snapshot_builder_add_json(b, text + i, n, NULL);
            if (rc != ACCORD_ENOMEM && rc != ACCORD_ELIMIT)
                rc = 0;
        }
        i += n + 1;
    }
    if (rc == 0)
        rc = accord_snapshot_build(b, out, err);
    else if (err)
        snprintf(err->msg, sizeof err->msg, "%s", accord_strerror(rc));
    accord_snapshot_builder_free(b);
    return rc;
}

int nats_snapshot_fetch(const char *cmd, nats_link *l, const nats_pointer *p, int64_t now_s,
                        accord_snapshot **out)
{
    buf all;
    char subj[64], hex[65];
    accord_error err = {0};
    int rc = 0;
    buf_init(&all, (size_t)p->bytes + 1);
    for (uint32_t i = 1; i <= p->parts && rc == 0; i++) {
        natsMsg *m = NULL;
        jsErrCode jerr = 0;
        natsStatus s;
        snprintf(subj, sizeof subj, "accord.snap.%llu.%u", (unsigned long long)p->version, i);
        /* a direct get: the part as it is stored, not base64 in a JSON answer (decoding and
         * scanning that was half of a worker's snapshot load) */
        jsDirectGetMsgOptions dg;
        jsDirectGetMsgOptions_Init(&dg);
        dg.LastBySubject = subj;
        s = js_DirectGetMsg(&m, l->js, NATS_STREAM_SNAP, NULL, &dg);
        if (s != NATS_OK) {
            nats_fail(cmd, subj, s, jerr);
            rc = -1;
        } else if (buf_add(&all, natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m)) != 0) {
            cli_error(cmd, "snapshot %llu: larger than its %llu bytes",
                      (unsigned long long)p->version, (unsigned long long)p->bytes);
            rc = -1;
        }
        natsMsg_Destroy(m);
    }
    if (rc == 0) {
        nats_sha256_hex(all.p, all.len, hex);
        if (all.len != p->bytes || strcmp(hex, p->sha256) != 0) {
            cli_error(cmd, "snapshot %llu: %zu bytes with SHA-256 %s, the pointer says %llu and %s",
                      (unsigned long long)p->version, all.len, hex,
                      (unsigned long long)p->bytes, p->sha256);
            rc = -1;
        }
    }
    if (rc == 0 && msnap_is_serialised(all.p, all.len)) {
        if (msnap_load(all.p, all.len, out, &err) != 0) {
            cli_error(cmd, "snapshot %llu: %s", (unsigned long long)p->version, err.msg);
            rc = -1;
        }
    } else if (rc == 0 && nats_snapshot_compile(all.p, all.len, now_s, out, &err) != 0) {
        cli_error(cmd, "snapshot %llu: %s", (unsigned long long)p->version, err.msg);
        rc = -1;
    }
    buf_free(&all);
    return rc;
}

/* UTF-8 sequence length at u[0..n), 0 when invalid (overlongs, surrogates, > U+10FFFF). */
static size_t utf8_len(const unsigned char *u, size_t n)
{
    size_t k = u[0] < 0x80 ? 1 : u[0] >= 0xC2 && u[0] < 0xE0 ? 2 : u[0] >= 0xE0 && u[0] < 0xF0 ? 3
                             : u[0] >= 0xF0 && u[0] < 0xF5 ? 4 : 0;
    if (k == 0 || k > n)
        return 0;
    for (size_t j = 1; j < k; j++)
        if ((u[j] & 0xC0) != 0x80)
            return 0;
    if ((k == 3 && ((u[0] == 0xE0 && u[1] < 0xA0) || (u[0] == 0xED && u[1] >= 0xA0))) ||
        (k == 4 && ((u[0] == 0xF0 && u[1] < 0x90) || (u[0] == 0xF4 && u[1] >= 0x90))))
        return 0;
    return k;
}

int nats_json_str(buf *b, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, run = 0;
    int rc = buf_add(b, "\"", 1);
    while (rc == 0 && i < len) {
        size_t k = utf8_len(u + i, len - i);
        if (k == 1 && u[i] >= 0x20 && u[i] != '"' && u[i] != '\\') {
            i++;
            continue;
        }
        if (k > 1) {
            i += k;
            continue;
        }
        rc = buf_add(b, s + run, i - run); /* the plain bytes before this one */
        if (rc == 0 && k == 0)
            rc = buf_adds(b, "\\ufffd");
        else if (rc == 0)
            rc = u[i] == '"' ? buf_adds(b, "\\\"") : u[i] == '\\' ? buf_adds(b, "\\\\")
                                                                   : buf_printf(b, "\\u%04x", u[i]);
        run = ++i;
    }
    if (rc == 0)
        rc = buf_add(b, s + run, i - run);
    return rc ? rc : buf_add(b, "\"", 1);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int nats_dir_list(const char *dir, int (*keep)(const char *name, int is_dir), char ***out,
                  size_t *n)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    int rc = 0;
    *n = 0;
    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        char **nn;
        if (e->d_name[0] == '.' || (keep && !keep(e->d_name, e->d_type == DT_DIR)))
            continue;
        if (!(nn = realloc(names, (*n + 1) * sizeof *names)) || !(nn[*n] = malloc(len))) {
            names = nn ? nn : names;
            rc = -1;
            break;
        }
        names = nn;
        snprintf(names[(*n)++], len, "%s/%s", dir, e->d_name);
    }
    closedir(d);
    if (rc) {
        nats_dir_free(names, *n);
        names = NULL;
        *n = 0;
    } else if (*n) {
        qsort(names, *n, sizeof *names, name_cmp);
    }
    *out = names;
    return rc;
}

void nats_dir_free(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

int nats_pull(const char *cmd, nats_link *l, const char *stream, const char *consumer,
              const char *filter, natsSubscription **sub)
{
    jsSubOptions so;
    jsErrCode jerr = 0;
    natsStatus s;
    char what[200];
    jsSubOptions_Init(&so);
    so.Stream = stream;
    so.Consumer = consumer;
    s = js_PullSubscribe(sub, l->js, filter, consumer, NULL, &so, &jerr);
    if (s != NATS_OK) {
        snprintf(what, sizeof what, "consumer %s of %s (run accord nats setup)", consumer, stream);
        nats_fail(cmd, what, s, jerr);
        *sub = NULL;
        return -1;
    }
    return 0;
}
