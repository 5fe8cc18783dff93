/*
 * peer_sync.c - rounds of federation sync, the health of each link, and the background threads
 * of `accord serve`.
 *
 * A round is a pull and/or a push with one peer (peer_round).  Its outcome goes to table
 * peer_state: when it was tried, when it last succeeded, how many rounds in a row failed, the last
 * error, and when the next one is due.  `accord peer status` reads that table; the lag it shows is
 * the time since the last success, which bounds how stale this node's copy of the peer can be.
 *
 * Backoff: after a failed round the wait is 1 s doubled per consecutive failure, capped at the
 * peer's interval (at least 8 s, at most an hour: a peer that is down is never asked more often
 * than a healthy one, and one that returns is noticed within an interval), with jitter in [1/2, 1]
 * so that nodes that lost the same peer do not return to it in lockstep.  A peer that answered 429
 * or 503 with Retry-After is not asked again before then. Errors never move a cursor (the pull
 * commits a cursor with its page, the push position after a complete status), so a failed round
 * costs only time.
 *
 * Threads: a supervisor reads the peer list every SUPERVISE_MS and starts one worker per peer
 * with an interval; a worker opens its own store handle (SQLite serialises the writers; the
 * server's request threads keep theirs), re-reads its peer before each round (so `accord peer`
 * changes apply without a restart) and ends when the peer is removed or its interval set to 0.
 * Stopping sets a flag that aborts transfers in flight (libcurl's progress callback) and wakes
 * every sleeper; the supervisor joins the workers.
 */
#include "peer_int.h"
#include "store.h"
#include "store_int.h"
#include "util/timestamp.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define SUPERVISE_MS 1000
#define MAX_WORKERS 256

/* ------------------------------------------------------------------------------------------ */
/* backoff                                                                                     */

int64_t peer_next_delay_ms(int interval_s, int64_t failures, int64_t retry_after_s, uint32_t jitter)
{
    int64_t d;
    if (failures <= 0) {
        d = (int64_t)(interval_s > 0 ? interval_s : PEER_DEFAULT_INTERVAL) * 1000;
    } else {
        int64_t cap = (int64_t)interval_s * 1000;
        if (cap < PEER_BACKOFF_FLOOR_MS)
            cap = PEER_BACKOFF_FLOOR_MS;
        if (cap > PEER_BACKOFF_MAX_MS)
            cap = PEER_BACKOFF_MAX_MS;
        d = PEER_BACKOFF_BASE_MS;
        for (int64_t i = 1; i < failures && d < cap; i++)
            d *= 2;
        if (d > cap)
            d = cap;
        d = d / 2 + (d / 2) * (int64_t)(jitter & 0xffff) / 0xffff;
    }
    if (retry_after_s > 0) {
        int64_t ra = (retry_after_s > 86400 ? 86400 : retry_after_s) * 1000;
        if (d < ra)
            d = ra;
    }
    return d;
}

/* ------------------------------------------------------------------------------------------ */
/* link state                                                                                  */

/* Rows per statement of peer_origins_add: one statement's bind, step and reset serve this many
 * rows (SQLite allows 32,766 parameters). */
#define ORIGIN_ROWS 64

/* "INSERT OR IGNORE INTO peer_origin VALUES(?1,?2,?3),(?1,?4,?5),...": n rows of one peer. */
static int origin_insert(accord_store *s, size_t n, sqlite3_stmt **st, accord_error *err)
{
    char sql[40 + ORIGIN_ROWS * 24];
    size_t at = (size_t)snprintf(sql, sizeof(sql), "INSERT OR IGNORE INTO peer_origin VALUES");
    for (size_t i = 0; i < n; i++)
        at += (size_t)snprintf(sql + at, sizeof(sql) - at, "%s(?1,?%zu,?%zu)", i ? "," : "",
                               2 + 2 * i, 3 + 2 * i);
    if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL))
        return store_db_fail(s, err, "preparing an origin record");
    return 0;
}

int peer_origins_add(accord_store *s, const char *peer, const char *text, const size_t *at,
                     size_t n, accord_error *err)
{
    sqlite3_stmt *many = NULL, *one = NULL;
    int rc = 0;
    size_t i = 0;
    if (n >= ORIGIN_ROWS && (rc = origin_insert(s, ORIGIN_ROWS, &many, err)))
        return rc;
    while (!rc && i < n) {
        size_t k = n - i >= ORIGIN_ROWS ? ORIGIN_ROWS : 1;
        sqlite3_stmt *st = k > 1 ? many : one;
        if (!st && (rc = origin_insert(s, 1, &one, err)))
            break;
        st = k > 1 ? many : one;
        sqlite3_bind_text(st, 1, peer, -1, SQLITE_STATIC);
        for (size_t r = 0; r < k; r++, i++) {
            const char *id = text + at[i];
            sqlite3_bind_text(st, (int)(2 + 2 * r), id, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, (int)(3 + 2 * r), id + strlen(id) + 1, -1, SQLITE_STATIC);
        }
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = store_db_fail(s, err, "writing an origin record");
        sqlite3_reset(st);
    }
    sqlite3_finalize(many);
    sqlite3_finalize(one);
    return rc;
}

int peer_status_get(accord_store *s, const char *name, peer_status *out, accord_error *err)
{
    memset(out, 0, sizeof(*out));
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT last_attempt, last_success, next_attempt, failures, last_error,"
                           " pulled, pushed, push_after FROM peer_state WHERE peer = ?1",
                           -1, &st, NULL)) {
        if (strstr(sqlite3_errmsg(s->db), "no such table"))
            return 0;
        return store_db_fail(s, err, "reading a peer's state");
    }
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        out->last_attempt_us = sqlite3_column_int64(st, 0);
        out->last_success_us = sqlite3_column_int64(st, 1);
        out->next_attempt_us = sqlite3_column_int64(st, 2);
        out->failures = sqlite3_column_int64(st, 3);
        const unsigned char *e = sqlite3_column_text(st, 4);
        snprintf(out->last_error, sizeof(out->last_error), "%s", e ? (const char *)e : "");
        out->pulled = (uint64_t)sqlite3_column_int64(st, 5);
        out->pushed = (uint64_t)sqlite3_column_int64(st, 6);
        out->push_after_us = sqlite3_column_int64(st, 7);
    }
    sqlite3_finalize(st);
    return 0;
}

/* Records a round's outcome; returns the failures in a row after it. */
static int64_t state_record(accord_store *s, const peer_conf *p, int failed, const char *msg,
                            const peer_sync_stats *st, int64_t *failures)
{
    peer_status old;
    accord_error e;
    peer_status_get(s, p->name, &old, &e);
    *failures = failed ? old.failures + 1 : 0;
    int64_t now = ts_now_us();
    uint32_t jitter = 0x8000;
    if (getrandom(&jitter, sizeof(jitter), 0) != sizeof(jitter))
        jitter = (uint32_t)now;
    int64_t delay =
        peer_next_delay_ms(p->interval, *failures, failed ? st->retry_after_s : -1, jitter);
    sqlite3_stmt *q = NULL;
    if (store_begin(s, &e))
        return delay;
    int rc = sqlite3_prepare_v2(
        s->db,
        "INSERT INTO peer_state(peer, last_attempt, last_success, next_attempt, failures,"
        " last_error, pulled, pushed) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
        " ON CONFLICT(peer) DO UPDATE SET last_attempt = excluded.last_attempt,"
        " last_success = CASE WHEN ?9 THEN last_success ELSE excluded.last_success END,"
        " next_attempt = excluded.next_attempt, failures = excluded.failures,"
        " last_error = excluded.last_error,"
        " pulled = pulled + excluded.pulled, pushed = pushed + excluded.pushed",
        -1, &q, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(q, 1, p->name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 2, now);
        sqlite3_bind_int64(q, 3, failed ? 0 : now);
        sqlite3_bind_int64(q, 4, p->interval > 0 || failed ? now + delay * 1000 : 0);
        sqlite3_bind_int64(q, 5, *failures);
        sqlite3_bind_text(q, 6, failed ? msg : "", -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 7, (int64_t)st->stored);
        sqlite3_bind_int64(q, 8, (int64_t)st->pushed);
        sqlite3_bind_int(q, 9, failed);
        rc = sqlite3_step(q) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    }
    sqlite3_finalize(q);
    if (rc == SQLITE_OK && !store_commit(s, &e))
        return delay;
    store_rollback(s);
    return delay;
}

int peer_round(accord_store *s, const peer_conf *p, const peer_round_opts *o, peer_sync_stats *st,
               int64_t *delay_ms, accord_error *err)
{
    static const peer_round_opts none;
    if (!o)
        o = &none;
    memset(st, 0, sizeof(*st));
    st->retry_after_s = -1;
    int rc = 0, r2 = 0;
    accord_error e2 = {0};
    if (p->mode & PEER_PULL)
        rc = peer_pull(s, p, o, st, err);
    /* a push goes ahead after a pull that only had rejected objects */
    if ((p->mode & PEER_PUSH) && (!rc || rc == ACCORD_ESTIX) && !(o->cancel && *o->cancel)) {
        r2 = peer_push(s, p, o, st, &e2);
        if (r2 && (!rc || rc == ACCORD_ESTIX)) {
            rc = r2;
            if (err)
                *err = e2;
        }
    }
    int64_t failures = 0, delay = 0;
    /* a round cut short by shutdown says nothing about the peer */
    if (!o->dry_run && !(o->cancel && atomic_load(o->cancel))) {
        int failed = rc && rc != ACCORD_ESTIX;
        delay = state_record(s, p, failed, failed && err ? err->msg : "", st, &failures);
    }
    if (delay_ms)
        *delay_ms = delay;
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* the background threads                                                                      */

typedef struct worker {
    struct peer_syncer *sy;
    char name[64];
    pthread_t th;
    int running; /* set by the supervisor, cleared by the worker when it ends */
    int used;
} worker;

struct peer_syncer {
    char data_dir[4096];
    pthread_t sup;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    atomic_int stop;
    worker w[MAX_WORKERS];
};

/* Sleeps up to ms or until the syncer stops; 1 when it stops. */
static int nap(peer_syncer *sy, int64_t ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += (time_t)(ms / 1000);
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L)
        until.tv_sec++, until.tv_nsec -= 1000000000L;
    pthread_mutex_lock(&sy->lock);
    while (!sy->stop && pthread_cond_timedwait(&sy->wake, &sy->lock, &until) != ETIMEDOUT)
        ;
    int stop = sy->stop;
    pthread_mutex_unlock(&sy->lock);
    return stop;
}

static void *work(void *arg)
{
    worker *w = arg;
    peer_syncer *sy = w->sy;
    accord_store *s = NULL;
    accord_error err = {0};
    if (accord_store_open(sy->data_dir, 0, &s, &err) != 0) {
        fprintf(stderr, "accord serve: peer %s: %s\n", w->name, err.msg);
        goto out;
    }
    peer_round_opts o = {.cancel = &sy->stop};
    while (!sy->stop) {
        peer_conf p;
        if (peer_get(s, w->name, &p, &err) != 0 || p.interval == 0)
            break;
        peer_sync_stats st;
        int64_t delay = 0;
        memset(&err, 0, sizeof(err));
        int rc = peer_round(s, &p, &o, &st, &delay, &err);
        if (rc && !sy->stop)
            fprintf(stderr, "accord serve: sync %s: %s (next try in %lld ms)\n", p.name,
                    err.msg[0] ? err.msg : accord_strerror(rc), (long long)delay);
        if (nap(sy, delay))
            break;
    }
out:
    accord_store_close(s);
    pthread_mutex_lock(&sy->lock);
    w->running = 0;
    pthread_mutex_unlock(&sy->lock);
    return NULL;
}

typedef struct scan_ctx {
    peer_syncer *sy;
} scan_ctx;

/* Starts a worker for a peer with an interval that has none. */
static int ensure_worker(void *ud, const peer_conf *p, const char *cursor)
{
    (void)cursor;
    peer_syncer *sy = ud;
    if (p->interval == 0)
        return 0;
    worker *freew = NULL;
    pthread_mutex_lock(&sy->lock);
    for (size_t i = 0; i < MAX_WORKERS; i++) {
        worker *w = &sy->w[i];
        if (w->used && strcmp(w->name, p->name) == 0 && w->running) {
            pthread_mutex_unlock(&sy->lock);
            return 0;
        }
        if (w->used && !w->running) { /* ended: reap it */
            pthread_join(w->th, NULL);
            w->used = 0;
        }
        if (!w->used && !freew)
            freew = w;
    }
    if (freew) {
        snprintf(freew->name, sizeof(freew->name), "%s", p->name);
        freew->sy = sy;
        freew->running = 1;
        freew->used = 1;
        if (pthread_create(&freew->th, NULL, work, freew) != 0)
            freew->used = freew->running = 0;
    }
    pthread_mutex_unlock(&sy->lock);
    return 0;
}

static void *supervise(void *arg)
{
    peer_syncer *sy = arg;
    accord_store *s = NULL;
    accord_error err = {0};
    do {
        if (!s && accord_store_open(sy->data_dir, ACCORD_STORE_READONLY, &s, &err) != 0)
            s = NULL;
        if (s)
            peer_each(s, ensure_worker, sy, &err);
    } while (!nap(sy, SUPERVISE_MS));
    accord_store_close(s);
    for (size_t i = 0; i < MAX_WORKERS; i++)
        if (sy->w[i].used)
            pthread_join(sy->w[i].th, NULL);
    return NULL;
}

int peer_syncer_start(const char *data_dir, peer_syncer **out, accord_error *err)
{
    /* libcurl's global state is set up here, on the calling thread, before any worker uses it */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return accord_err_set(err, ACCORD_EIO, "sync: libcurl did not start");
    peer_syncer *sy = calloc(1, sizeof(*sy));
    if (!sy)
        return accord_err_set(err, ACCORD_ENOMEM, "sync: out of memory");
    snprintf(sy->data_dir, sizeof(sy->data_dir), "%s", data_dir);
    pthread_mutex_init(&sy->lock, NULL);
    pthread_cond_init(&sy->wake, NULL);
    if (pthread_create(&sy->sup, NULL, supervise, sy) != 0) {
        pthread_cond_destroy(&sy->wake);
        pthread_mutex_destroy(&sy->lock);
        free(sy);
        return accord_err_set(err, ACCORD_EIO, "sync: cannot start a thread");
    }
    *out = sy;
    return 0;
}

void peer_syncer_stop(peer_syncer *sy)
{
    if (!sy)
        return;
    pthread_mutex_lock(&sy->lock);
    sy->stop = 1;
    pthread_cond_broadcast(&sy->wake);
    pthread_mutex_unlock(&sy->lock);
    pthread_join(sy->sup, NULL);
    pthread_cond_destroy(&sy->wake);
    pthread_mutex_destroy(&sy->lock);
    free(sy);
}
