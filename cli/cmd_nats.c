/*
 * cmd_nats.c - `accord nats`: setup (streams, consumers, KV bucket; idempotent), status (lag,
 * redeliveries, dead letters), snapshot (publish the indicators for the workers), send (one raw
 * message, for diagnostics) and collect (cmd_nats_collect.c).
 */
#include "cmd_nats.h"
#include "match_serial.h"
#include "reader.h"
#include "util/json.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NS_PER_S 1000000000LL

/* ------------------------------------------------------------------------------------------ */
/* setup                                                                                        */

typedef struct setup_cfg {
    int64_t max_bytes, dup_window_s, ack_wait_s, max_deliver, max_ack_pending, replicas;
} setup_cfg;

/* Creates the stream, or updates it to cfg when it exists (limits may be changed later). */
static int stream_ensure(const char *cmd, nats_link *l, jsStreamConfig *cfg)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_AddStream(&si, l->js, cfg, NULL, &jerr);
    if (s != NATS_OK && jerr == JSStreamNameExistErr) {
        jerr = 0;
        s = js_UpdateStream(&si, l->js, cfg, NULL, &jerr);
    }
    jsStreamInfo_Destroy(si);
    if (s != NATS_OK) {
        nats_fail(cmd, cfg->Name, s, jerr);
        return -1;
    }
    return 0;
}

static int consumer_ensure(const char *cmd, nats_link *l, const char *stream,
                           jsConsumerConfig *cc)
{
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_AddConsumer(&ci, l->js, stream, cc, NULL, &jerr);
    if (s != NATS_OK) {
        jerr = 0;
        s = js_UpdateConsumer(&ci, l->js, stream, cc, NULL, &jerr);
    }
    jsConsumerInfo_Destroy(ci);
    if (s != NATS_OK) {
        nats_fail(cmd, cc->Durable, s, jerr);
        return -1;
    }
    return 0;
}

static int setup(const char *cmd, nats_link *l, const setup_cfg *c, const nats_names *nm)
{
    const char *tel[] = {nm->tel_all}, *res[] = {nm->res_subj}, *dlq[] = {nm->dlq_subj},
               *snap[] = {"accord.snap.>"};
    jsStreamConfig sc;
    jsConsumerConfig cc;
    kvConfig kc;
    kvStore *kv = NULL;
    natsStatus s;
    int rc = 0;

    jsStreamConfig_Init(&sc);
    sc.Name = nm->tel;
    sc.Subjects = tel;
    sc.SubjectsLen = 1;
    sc.Retention = js_WorkQueuePolicy;
    sc.Storage = js_FileStorage;
    sc.Discard = js_DiscardNew; /* a full queue refuses new chunks: producers wait and retry */
    sc.MaxBytes = c->max_bytes;
    sc.Duplicates = c->dup_window_s * NS_PER_S;
    sc.MaxMsgSize = 1 << 20;
    sc.Replicas = c->replicas;
    rc = stream_ensure(cmd, l, &sc);

    jsStreamConfig_Init(&sc);
    sc.Name = nm->res;
    sc.Subjects = res;
    sc.SubjectsLen = 1;
    sc.Storage = js_FileStorage;
    sc.Discard = js_DiscardNew;
    sc.Duplicates = c->dup_window_s * NS_PER_S;
    sc.MaxAge = 7 * 86400 * NS_PER_S;
    sc.Replicas = c->replicas;
    rc = rc ? rc : stream_ensure(cmd, l, &sc);

    jsStreamConfig_Init(&sc);
    sc.Name = nm->dlq;
    sc.Subjects = dlq;
    sc.SubjectsLen = 1;
    sc.Storage = js_FileStorage;
    sc.Duplicates = c->dup_window_s * NS_PER_S;
    sc.MaxAge = 30 * 86400 * NS_PER_S;
    sc.Replicas = c->replicas;
    rc = rc ? rc : stream_ensure(cmd, l, &sc);

    jsStreamConfig_Init(&sc);
    sc.Name = NATS_STREAM_SNAP;
    sc.Subjects = snap;
    sc.SubjectsLen = 1;
    sc.Storage = js_FileStorage;
    sc.MaxMsgsPerSubject = 1;
    sc.AllowDirect = true;
    sc.Replicas = c->replicas;
    rc = rc ? rc : stream_ensure(cmd, l, &sc);

    jsConsumerConfig_Init(&cc);
    cc.Durable = NATS_CONSUMER_WORKERS;
    cc.AckPolicy = js_AckExplicit;
    cc.AckWait = c->ack_wait_s * NS_PER_S;
    cc.MaxDeliver = c->max_deliver;
    cc.MaxAckPending = c->max_ack_pending;
    cc.MaxWaiting = 512;
    cc.FilterSubject = nm->tel_all;
    rc = rc ? rc : consumer_ensure(cmd, l, nm->tel, &cc);

    jsConsumerConfig_Init(&cc);
    cc.Durable = NATS_CONSUMER_COLLECTOR;
    cc.AckPolicy = js_AckExplicit;
    cc.AckWait = 30 * NS_PER_S;
    cc.MaxAckPending = 4096;
    cc.MaxWaiting = 64;
    cc.FilterSubject = nm->res_subj;
    rc = rc ? rc : consumer_ensure(cmd, l, nm->res, &cc);

    if (rc == 0) {
        kvConfig_Init(&kc);
        kc.Bucket = NATS_KV_BUCKET;
        kc.History = 5;
        kc.StorageType = js_FileStorage;
        kc.Replicas = (int)c->replicas;
        if ((s = js_CreateKeyValue(&kv, l->js, &kc)) != NATS_OK &&
            (s = js_KeyValue(&kv, l->js, NATS_KV_BUCKET)) != NATS_OK) {
            nats_fail(cmd, "KV " NATS_KV_BUCKET, s, 0);
            rc = -1;
        }
        kvStore_Destroy(kv);
    }
    return rc;
}

static int parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    char *end;
    long long v;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || *end || end == s || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int cmd_nats_setup(const nats_opts *o, int argc, char **argv)
{
    setup_cfg c = {1LL << 30, 1200, 30, 5, 64, 1};
    static const char *const names[] = {"--max-bytes",   "--dup-window",      "--ack-wait",
                                        "--max-deliver", "--max-ack-pending", "--replicas"};
    static const int64_t lo[] = {1 << 20, 1, 1, 1, 1, 1},
                         hi[] = {INT64_MAX / 2, 86400 * 7, 3600, 1000, 100000, 5};
    int64_t *vals[] = {&c.max_bytes,   &c.dup_window_s,    &c.ack_wait_s,
                       &c.max_deliver, &c.max_ack_pending, &c.replicas};
    nats_names nm;
    nats_link l;
    int rc;
    for (int i = 2; i < argc; i++) {
        int k = 0;
        while (k < 6 && strcmp(argv[i], names[k]) != 0)
            k++;
        if (k == 6 || i + 1 >= argc || parse_i64(argv[++i], lo[k], hi[k], vals[k]) != 0)
            return cli_usage("nats");
    }
    if (nats_link_open("nats setup", o, 0, &l) != 0)
        return EXIT_FAIL;
    nats_names_of(o->tenant, &nm);
    rc = setup("nats setup", &l, &c, &nm);
    if (rc == 0)
        printf("streams %s %s %s %s, consumers %s %s, KV %s: ready\n", nm.tel, nm.res, nm.dlq,
               NATS_STREAM_SNAP, NATS_CONSUMER_WORKERS, NATS_CONSUMER_COLLECTOR, NATS_KV_BUCKET);
    nats_link_close(&l);
    return rc ? EXIT_FAIL : EXIT_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* status                                                                                       */

int cmd_nats_status(const nats_opts *o, int argc, char **argv)
{
    nats_names nm;
    const char *streams[4], *consumers[2][2];
    nats_link l;
    nats_pointer p;
    int rc = 0;
    double wait_s = -1;
    if (argc == 4 && strcmp(argv[2], "--wait-drained") == 0) {
        char *end;
        wait_s = strtod(argv[3], &end);
        if (*end || !(wait_s >= 0 && wait_s < 1e6))
            return cli_usage("nats");
    } else if (argc > 2) {
        return cli_usage("nats");
    }
    nats_names_of(o->tenant, &nm);
    streams[0] = consumers[0][0] = nm.tel;
    streams[1] = consumers[1][0] = nm.res;
    streams[2] = nm.dlq;
    streams[3] = NATS_STREAM_SNAP;
    consumers[0][1] = NATS_CONSUMER_WORKERS;
    consumers[1][1] = NATS_CONSUMER_COLLECTOR;
    if (nats_link_open("nats status", o, 0, &l) != 0)
        return EXIT_FAIL;
    if (wait_s >= 0) {
        /* one consumer info a poll on this connection: a status command a poll (a connection,
         * six stream and consumer infos and a KV read) cost the server more than the wait */
        double end = nats_mono() + wait_s;
        while (nats_consumer_done(&l, nm.tel, NATS_CONSUMER_WORKERS) != 1) {
            if (nats_mono() >= end || nats_stop) {
                cli_error("nats status", "%s: chunks still queued or in flight after %g s", nm.tel,
                          wait_s);
                rc = -1;
                break;
            }
            nats_Sleep(20);
        }
    }
    for (size_t i = 0; i < 4; i++) {
        jsStreamInfo *si = NULL;
        jsErrCode jerr = 0;
        natsStatus s = js_GetStreamInfo(&si, l.js, streams[i], NULL, &jerr);
        if (s != NATS_OK) {
            nats_fail("nats status", streams[i], s, jerr);
            rc = -1;
            continue;
        }
        printf("stream\t%s\tmessages %" PRIu64 "\tbytes %" PRIu64 "\tfirst %" PRIu64
               "\tlast %" PRIu64 "\n",
               streams[i], si->State.Msgs, si->State.Bytes, si->State.FirstSeq,
               si->State.LastSeq);
        jsStreamInfo_Destroy(si);
    }
    for (size_t i = 0; i < 2; i++) {
        jsConsumerInfo *ci = NULL;
        jsErrCode jerr = 0;
        natsStatus s = js_GetConsumerInfo(&ci, l.js, consumers[i][0], consumers[i][1], NULL, &jerr);
        if (s != NATS_OK) {
            nats_fail("nats status", consumers[i][1], s, jerr);
            rc = -1;
            continue;
        }
        printf("consumer\t%s\tpending %" PRIu64 "\tack-pending %" PRId64
               "\tredelivered %" PRId64 "\twaiting %" PRId64 "\n",
               consumers[i][1], ci->NumPending, ci->NumAckPending, ci->NumRedelivered,
               ci->NumWaiting);
        jsConsumerInfo_Destroy(ci);
    }
    if (rc == 0 && nats_pointer_get("nats status", &l, &p, NULL) == 0)
        printf("snapshot\tversion %" PRIu64 "\tparts %u\tbytes %" PRIu64 "\tsha256 %s\n",
               p.version, p.parts, p.bytes, p.sha256);
    nats_link_close(&l);
    return rc ? EXIT_FAIL : EXIT_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* snapshot                                                                                     */

typedef struct blob {
    buf b;
    char err[600];
} blob;

/* One STIX object as one line (the objects are valid JSON: the reader and the store hold
 * nothing else). */
static int blob_add(blob *bl, const char *text, size_t len)
{
    size_t at = bl->b.len;
    if (buf_add(&bl->b, text, len) != 0 || buf_add(&bl->b, "\n", 1) != 0)
        return -1;
    bl->b.len = at + ajson_minify(bl->b.p + at, len, bl->b.p + at);
    bl->b.p[bl->b.len++] = '\n';
    return 0;
}

static int blob_file(blob *bl, const char *path)
{
    reader *r = NULL;
    reader_item it;
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc;
    if (fd < 0) {
        snprintf(bl->err, sizeof bl->err, "%s: %s", path, strerror(errno));
        return -1;
    }
    rc = reader_open(fd, 0, &r);
    while (rc == 0 && (rc = reader_next(r, &it)) == 1)
        rc = blob_add(bl, it.text, it.len) ? ACCORD_ENOMEM : 0;
    if (rc < 0)
        snprintf(bl->err, sizeof bl->err, "%s: %s", path,
                 r ? reader_errmsg(r) : accord_strerror(rc));
    reader_close(r);
    close(fd);
    return rc < 0 ? -1 : 0;
}

static int indicator_file(const char *name, int is_dir)
{
    size_t k = strlen(name);
    return is_dir || (k > 5 && strcmp(name + k - 5, ".json") == 0) ||
           (k > 6 && strcmp(name + k - 6, ".jsonl") == 0) ||
           (k > 3 && strcmp(name + k - 3, ".gz") == 0);
}

/* A file, or the .json/.jsonl/.gz files under a directory, sorted (as accord match reads
 * --indicators). */
static int blob_path(blob *bl, const char *path)
{
    struct stat st;
    char **names;
    size_t n;
    int rc = 0;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return blob_file(bl, path);
    if (nats_dir_list(path, indicator_file, &names, &n) != 0) {
        snprintf(bl->err, sizeof bl->err, "%s: %s", path, strerror(errno));
        return -1;
    }
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = blob_path(bl, names[i]);
    nats_dir_free(names, n);
    return rc;
}

static int on_store_record(void *ud, const accord_record *rec)
{
    return blob_add(ud, rec->body, rec->body_len) ? ACCORD_ENOMEM : 0;
}

static int blob_store(blob *bl)
{
    static const char *const types[] = {"indicator", NULL};
    accord_scan_filter f = {0};
    accord_error err = {0};
    accord_store *st = NULL;
    int rc;
    f.types = types;
    f.versions = ACCORD_VERSIONS_LAST;
    rc = accord_store_open(cli_data_dir(), ACCORD_STORE_READONLY, &st, &err);
    rc = rc ? rc : accord_store_scan(st, &f, on_store_record, bl, &err);
    if (rc)
        snprintf(bl->err, sizeof bl->err, "%s", err.msg[0] ? err.msg : accord_strerror(rc));
    accord_store_close(st);
    return rc ? -1 : 0;
}

/* Publishes text (the compiled snapshot's bytes) as version v+1 and points current at it
 * (compare-and-set on the KV revision, so two publishers cannot both win). */
static int snapshot_publish(const char *cmd, nats_link *l, const buf *text, nats_pointer *p)
{
    nats_pointer old;
    uint64_t rev = 0;
    char subj[64], id[64], json[256];
    int have = nats_pointer_get(cmd, l, &old, &rev);
    natsStatus s;
    if (have < 0)
        return -1;
    memset(p, 0, sizeof *p);
    p->version = have == 0 ? old.version + 1 : 1;
    p->bytes = text->len;
    p->parts = (uint32_t)((text->len + NATS_PART_MAX - 1) / NATS_PART_MAX);
    if (p->parts == 0)
        p->parts = 1;
    if (p->parts > NATS_PARTS_MAX) {
        cli_error(cmd, "a compiled snapshot of %zu bytes: more than %u parts", text->len,
                  NATS_PARTS_MAX);
        return -1;
    }
    nats_sha256_hex(text->p, text->len, p->sha256);
    for (uint32_t i = 0; i < p->parts; i++) {
        size_t off = (size_t)i * NATS_PART_MAX,
               n = text->len - off < NATS_PART_MAX ? text->len - off : NATS_PART_MAX;
        jsPubOptions po;
        jsPubAck *pa = NULL;
        jsErrCode jerr = 0;
        jsPubOptions_Init(&po);
        snprintf(subj, sizeof subj, "accord.snap.%" PRIu64 ".%u", p->version, i + 1);
        snprintf(id, sizeof id, "snap:%" PRIu64 ":%u", p->version, i + 1);
        po.MsgId = id;
        s = js_Publish(&pa, l->js, subj, text->p ? text->p + off : "", (int)n, &po, &jerr);
        jsPubAck_Destroy(pa);
        if (s != NATS_OK) {
            nats_fail(cmd, subj, s, jerr);
            return -1;
        }
    }
    if (nats_pointer_format(p, json, sizeof json) < 0)
        return -1;
    s = have == 0 ? kvStore_Update(NULL, l->kv, "current", json, (int)strlen(json), rev)
                  : kvStore_Create(NULL, l->kv, "current", json, (int)strlen(json));
    if (s != NATS_OK) {
        nats_fail(cmd, "updating " NATS_KV_BUCKET "/current (another snapshot published "
                       "meanwhile?)", s, 0);
        return -1;
    }
    if (p->version > 2) { /* workers may still be reading the previous one */
        jsOptions jo;
        jsErrCode jerr = 0;
        jsOptions_Init(&jo);
        snprintf(subj, sizeof subj, "accord.snap.%" PRIu64 ".>", p->version - 2);
        jo.Stream.Purge.Subject = subj;
        js_PurgeStream(l->js, NATS_STREAM_SNAP, &jo, &jerr);
    }
    return 0;
}

int cmd_nats_snapshot(const nats_opts *o, int argc, char **argv)
{
    const char *cmd = "nats snapshot";
    blob bl = {.err = ""};
    accord_snapshot *snap = NULL;
    accord_snapshot_stats st;
    accord_error err = {0};
    nats_pointer p;
    nats_link l;
    int nind = 0, rc = 0;
    buf_init(&bl.b, (size_t)NATS_PARTS_MAX * NATS_PART_MAX);
    for (int i = 2; i < argc && rc == 0; i++) {
        if (strcmp(argv[i], "--indicators") == 0 && i + 1 < argc) {
            rc = blob_path(&bl, argv[++i]);
            nind++;
        } else {
            buf_free(&bl.b);
            return cli_usage("nats");
        }
    }
    if (rc == 0 && nind == 0)
        rc = blob_store(&bl);
    if (rc) {
        cli_error(cmd, "%s", bl.err[0] ? bl.err : "out of memory");
        buf_free(&bl.b);
        return EXIT_FAIL;
    }
    /* compiled here, once for every worker: they load the tables (match_serial.c) */
    if (nats_snapshot_compile(bl.b.p, bl.b.len, 0, &snap, &err) != 0) {
        cli_error(cmd, "%s", err.msg);
        buf_free(&bl.b);
        return EXIT_FAIL;
    }
    accord_snapshot_stats_get(snap, &st);
    buf_reset(&bl.b);
    rc = msnap_serialise(snap, &bl.b);
    accord_snapshot_unref(snap);
    if (rc) {
        cli_error(cmd, "writing the compiled snapshot: %s", accord_strerror(rc));
        buf_free(&bl.b);
        return EXIT_FAIL;
    }
    if (nats_link_open(cmd, o, 0, &l) != 0) {
        buf_free(&bl.b);
        return EXIT_FAIL;
    }
    rc = snapshot_publish(cmd, &l, &bl.b, &p);
    if (rc == 0)
        printf("snapshot %" PRIu64 ": %" PRIu64 " indicators (%" PRIu64 " skipped), compiled in "
               "%.3f s, %" PRIu64 " bytes in %u parts, sha256 %s\n",
               p.version, st.indicators, st.skipped, st.build_seconds, p.bytes, p.parts,
               p.sha256);
    nats_link_close(&l);
    buf_free(&bl.b);
    return rc ? EXIT_FAIL : EXIT_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* send                                                                                         */

int cmd_nats_send(const nats_opts *o, int argc, char **argv)
{
    const char *cmd = "nats send", *subject = NULL, *path = "-", *msgid = NULL;
    natsMsg *m = NULL;
    jsPubOptions po;
    jsPubAck *pa = NULL;
    jsErrCode jerr = 0;
    nats_link l;
    natsStatus s;
    char *data;
    size_t len;
    int rc = 0, npos = 0;
    for (int i = 2; i < argc; i++) {
        if ((strcmp(argv[i], "--header") == 0 || strcmp(argv[i], "--msg-id") == 0) &&
            i + 1 < argc)
            i++;
        else if (npos == 0 && ++npos)
            subject = argv[i];
        else if (npos == 1 && ++npos)
            path = argv[i];
        else
            return cli_usage("nats");
    }
    if (!subject)
        return cli_usage("nats");
    if (!(data = cli_slurp(cmd, path, 1 << 20, &len)))
        return EXIT_FAIL;
    if (nats_link_open(cmd, o, 0, &l) != 0) {
        free(data);
        return EXIT_FAIL;
    }
    s = natsMsg_Create(&m, subject, NULL, data, (int)len);
    for (int i = 2; i < argc && s == NATS_OK; i++) {
        if (strcmp(argv[i], "--msg-id") == 0) {
            msgid = argv[++i];
        } else if (strcmp(argv[i], "--header") == 0) {
            char *v = strchr(argv[++i], ':');
            if (!v) {
                cli_error(cmd, "--header %s: expected NAME:VALUE", argv[i]);
                rc = -1;
                break;
            }
            *v = '\0';
            s = natsMsgHeader_Add(m, argv[i], v + 1 + strspn(v + 1, " "));
        }
    }
    jsPubOptions_Init(&po);
    po.MsgId = msgid;
    if (rc == 0 && s == NATS_OK)
        s = js_PublishMsg(&pa, l.js, m, &po, &jerr);
    if (rc == 0 && s != NATS_OK) {
        nats_fail(cmd, subject, s, jerr);
        rc = -1;
    } else if (rc == 0) {
        printf("%s %" PRIu64 "%s\n", pa->Stream, pa->Sequence, pa->Duplicate ? " duplicate" : "");
    }
    jsPubAck_Destroy(pa);
    natsMsg_Destroy(m);
    nats_link_close(&l);
    free(data);
    return rc ? EXIT_FAIL : EXIT_OK;
}

/* ------------------------------------------------------------------------------------------ */

int cmd_nats(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(const nats_opts *, int, char **);
    } subs[] = {{"setup", cmd_nats_setup},     {"status", cmd_nats_status},
                {"snapshot", cmd_nats_snapshot}, {"collect", cmd_nats_collect},
                {"send", cmd_nats_send}};
    nats_opts o = {.tenant = "default"};
    int n = 2, rc = EXIT_USAGE;
    char **rest;
    if (argc < 2 || !(rest = calloc((size_t)argc + 1, sizeof *rest)))
        return cli_usage("nats");
    /* the connection options may stand anywhere; the rest go to the subcommand */
    rest[0] = argv[0];
    rest[1] = argv[1];
    for (int i = 2, k; i < argc; i += k) {
        k = nats_opt_arg(&o, argc, argv, i);
        if (k < 0) {
            free(rest);
            return cli_usage("nats");
        }
        if (k == 0) {
            rest[n++] = argv[i];
            k = 1;
        }
    }
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
        if (strcmp(argv[1], subs[i].name) == 0) {
            rc = subs[i].run(&o, n, rest);
            break;
        }
    free(rest);
    if (rc == EXIT_USAGE)
        return cli_usage("nats");
    nats_Close();
    return rc;
}
