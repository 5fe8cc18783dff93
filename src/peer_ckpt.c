/*
 * peer_ckpt.c - the WAL checkpoints of a pull, on a thread of their own.
 *
 * A store in WAL mode writes each page twice: into the WAL when a transaction commits, and into
 * the database when the WAL is checkpointed.  By default the connection that commits runs the
 * checkpoint itself whenever the WAL has grown past the store's threshold (wal_autocheckpoint),
 * so a pull's storing thread, the one part of a pull that cannot run in parallel, spent about a
 * sixth of its time copying pages for earlier pages' commits.  For the length of a pull that
 * work moves to a second connection on a thread of its own, which copies what committed while
 * the walk stores the next page, and the store's own setting is put back afterwards.
 *
 * Durability and crash safety are SQLite's: a PASSIVE checkpoint from another connection is an
 * ordinary WAL-mode operation (it copies only committed frames, never waits for the writer, and
 * leaves the WAL for the writer to restart), and the second connection syncs as the store does
 * (synchronous=NORMAL).  A checkpoint that cannot run (busy) is retried after the next commit.
 * When anything here cannot be set up the store simply keeps checkpointing on commit.
 */
#include "peer_int.h"
#include "store_int.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>

struct peer_ckpt {
    accord_store *s;
    sqlite3 *db; /* the checkpointing connection, used only by the thread */
    int frames;  /* the store's wal_autocheckpoint: checkpoint when the WAL has this many */
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int want, stop;
};

/* The store's WAL hook while a pull runs (on the storing thread, after each commit). */
static int on_wal(void *ud, sqlite3 *db, const char *name, int frames)
{
    (void)db, (void)name;
    peer_ckpt *c = ud;
    if (frames >= c->frames) {
        pthread_mutex_lock(&c->mu);
        c->want = 1;
        pthread_cond_signal(&c->cv);
        pthread_mutex_unlock(&c->mu);
    }
    return SQLITE_OK;
}

static void *ckpt_main(void *ud)
{
    peer_ckpt *c = ud;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (!c->want && !c->stop)
            pthread_cond_wait(&c->cv, &c->mu);
        if (c->stop)
            break;
        c->want = 0;
        pthread_mutex_unlock(&c->mu);
        sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        pthread_mutex_lock(&c->mu);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* The store's wal_autocheckpoint (0: none, or it cannot be read). */
static int autocheckpoint(accord_store *s)
{
    sqlite3_stmt *st = NULL;
    int n = 0;
    if (sqlite3_prepare_v2(s->db, "PRAGMA wal_autocheckpoint", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n;
}

peer_ckpt *peer_ckpt_start(accord_store *s)
{
    if (s->readonly)
        return NULL;
    int frames = autocheckpoint(s);
    const char *path = sqlite3_db_filename(s->db, "main");
    if (frames <= 0 || !path || !path[0])
        return NULL;
    peer_ckpt *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->s = s;
    c->frames = frames;
    if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
            SQLITE_OK ||
        sqlite3_exec(c->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL) != SQLITE_OK)
        goto fail;
    if (pthread_mutex_init(&c->mu, NULL))
        goto fail;
    if (pthread_cond_init(&c->cv, NULL)) {
        pthread_mutex_destroy(&c->mu);
        goto fail;
    }
    if (pthread_create(&c->th, NULL, ckpt_main, c)) {
        pthread_cond_destroy(&c->cv);
        pthread_mutex_destroy(&c->mu);
        goto fail;
    }
    sqlite3_wal_hook(s->db, on_wal, c); /* replaces the store's own checkpoint on commit */
    return c;
fail:
    sqlite3_close(c->db);
    free(c);
    return NULL;
}

void peer_ckpt_stop(peer_ckpt *c)
{
    if (!c)
        return;
    sqlite3_wal_autocheckpoint(c->s->db, c->frames); /* the store's own hook, as before */
    pthread_mutex_lock(&c->mu);
    c->stop = 1;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->th, NULL);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    sqlite3_close(c->db);
    free(c);
}
