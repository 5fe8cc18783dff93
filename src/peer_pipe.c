/*
 * peer_pipe.c - the fetch thread of a pull walk: page N+1 is fetched, parsed and prepared for
 * storing while page N is stored.
 *
 * Storing a page (SQLite: the objects, their index entries, audit and origin records, the cursor,
 * the commit) is the one part of a pull that must run in order on the store's handle.  Everything
 * before it needs only the page's bytes: the TLS transfer, the envelope's parse, and for each
 * object the parse, validation, observable values, canonical forms and hashes that
 * import_prepare computes.  So one long-lived thread per walk does that for the next page while
 * the walk's own thread stores the current one, and a pull keeps both cores busy.
 *
 * Invariants (what keeps the federation guarantees of peer.c):
 *   1. Nothing here touches the store: a prepared page is judged (accept policy, keys, conflicts)
 *      and stored by the walk's thread, in the page's one transaction, after the page before it
 *      committed.  Preparing is pure work on bytes, so doing it early changes no outcome.
 *   2. One job at a time: peer_pipe_run starts a job only on an idle pipe and peer_pipe_wait
 *      returns when it is done; between them the job's memory and the curl handle belong to the
 *      fetch thread, and the caller touches neither.
 *   3. A prepared page is freed on the fetch thread (at the start of that job slot's next use,
 *      or when the pipe closes), because import_prepare keeps each thread's last prepared import
 *      for reuse: freed there, the next page is prepared into memory already touched.
 *
 * When no thread can be started the jobs run on the caller's thread, in peer_pipe_run.
 */
#include "import.h"
#include "peer_int.h"
#include "store.h"
#include "util/buf.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct peer_pipe {
    pthread_t th;
    int threaded;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    peer_http *h;
    peer_page_job *job; /* the job to run; NULL when idle */
    int done, stop;
    peer_page_job *jobs; /* peer_pipe_close: the slots whose prepared pages are freed here */
    size_t njobs;
    int fd;    /* a memfd: the page's objects as JSON lines, read by import_prepare */
    buf lines; /* the same, assembled before one write */
};

/* Writes j's objects, as the peer sent their bytes, to pp->fd as JSON lines for import_prepare. */
static int page_lines(peer_pipe *pp, peer_page_job *j)
{
    buf_reset(&pp->lines);
    for (size_t i = 0; i < j->objs->len; i++) {
        size_t off = j->objs->u.items[i].offset;
        size_t end = peer_object_end(j->f.body, j->f.len, j->objs, i);
        if (buf_add(&pp->lines, j->f.body + off, end - off) || buf_add(&pp->lines, "\n", 1))
            return -1;
    }
    if (ftruncate(pp->fd, 0) || lseek(pp->fd, 0, SEEK_SET) != 0)
        return -1;
    for (size_t at = 0; at < pp->lines.len;) {
        ssize_t w = write(pp->fd, pp->lines.p + at, pp->lines.len - at);
        if (w <= 0)
            return -1;
        at += (size_t)w;
    }
    return lseek(pp->fd, 0, SEEK_SET) == 0 ? 0 : -1;
}

/* Runs j: the GET into j->f, the envelope's parse, the objects' preparation. */
static void job_run(peer_pipe *pp, peer_page_job *j)
{
    import_prep_free(j->prep); /* this slot's page before: stored by now */
    j->prep = NULL;
    j->parse_rc = 0;
    j->objs = NULL;
    memset(&j->st, 0, sizeof(j->st));
    j->st.retry_after_s = -1;
    /* the answer lands in the job's own buffer (swapped into the handle for the transfer) */
    peer_fetch t = pp->h->f;
    pp->h->f = j->f;
    j->rc = peer_http_do(pp->h, j->url, NULL, 0, &j->status, &j->st, &j->err);
    j->f = pp->h->f;
    pp->h->f = t;
    if (j->rc || j->status != 200)
        return;
    ajson_arena_reset(&j->a);
    j->parse_rc =
        peer_page_read(&j->a, j->f.body ? j->f.body : "", j->f.len, &j->pg, &j->objs, &j->perr);
    if (j->parse_rc || !j->prepare || !j->objs || !j->objs->len || pp->fd < 0)
        return;
    /* a page that cannot be prepared (out of memory) is stored from its parse instead */
    accord_import_options io = {.flags = j->flags};
    accord_error e;
    if (page_lines(pp, j) || import_prepare(NULL, pp->fd, &io, &j->prep, &e))
        j->prep = NULL;
}

static void *pipe_main(void *ud)
{
    peer_pipe *pp = ud;
    pthread_mutex_lock(&pp->mu);
    for (;;) {
        while (!pp->job && !pp->stop)
            pthread_cond_wait(&pp->cv, &pp->mu);
        if (pp->job) {
            peer_page_job *j = pp->job;
            pthread_mutex_unlock(&pp->mu);
            job_run(pp, j);
            pthread_mutex_lock(&pp->mu);
            pp->job = NULL;
            pp->done = 1;
            pthread_cond_broadcast(&pp->cv);
            continue;
        }
        break; /* stop, idle */
    }
    pthread_mutex_unlock(&pp->mu);
    for (size_t i = 0; i < pp->njobs; i++) {
        import_prep_free(pp->jobs[i].prep);
        pp->jobs[i].prep = NULL;
    }
    return NULL;
}

int peer_pipe_open(peer_pipe **out, peer_http *h, accord_error *err)
{
    peer_pipe *pp = calloc(1, sizeof(*pp));
    *out = pp;
    if (!pp)
        return accord_err_set(err, ACCORD_ENOMEM, "peer %s: out of memory", h->p->name);
    pp->h = h;
    pp->done = 1;
    pp->fd = memfd_create("accord-peer-page", MFD_CLOEXEC);
    buf_init(&pp->lines, PEER_MAX_PAGE_BYTES + 1);
    if (pthread_mutex_init(&pp->mu, NULL) == 0) {
        if (pthread_cond_init(&pp->cv, NULL) == 0) {
            pp->threaded = pthread_create(&pp->th, NULL, pipe_main, pp) == 0;
            if (!pp->threaded)
                pthread_cond_destroy(&pp->cv);
        }
        if (!pp->threaded)
            pthread_mutex_destroy(&pp->mu);
    }
    return 0;
}

void peer_pipe_run(peer_pipe *pp, peer_page_job *j)
{
    if (!pp->threaded) {
        job_run(pp, j);
        return;
    }
    pthread_mutex_lock(&pp->mu);
    pp->job = j;
    pp->done = 0;
    pthread_cond_broadcast(&pp->cv);
    pthread_mutex_unlock(&pp->mu);
}

void peer_pipe_wait(peer_pipe *pp)
{
    if (!pp->threaded)
        return;
    pthread_mutex_lock(&pp->mu);
    while (!pp->done)
        pthread_cond_wait(&pp->cv, &pp->mu);
    pthread_mutex_unlock(&pp->mu);
}

void peer_pipe_close(peer_pipe *pp, peer_page_job *jobs, size_t n)
{
    if (!pp)
        return;
    peer_pipe_wait(pp);
    if (pp->threaded) {
        pthread_mutex_lock(&pp->mu);
        pp->jobs = jobs;
        pp->njobs = n;
        pp->stop = 1;
        pthread_cond_broadcast(&pp->cv);
        pthread_mutex_unlock(&pp->mu);
        pthread_join(pp->th, NULL);
        pthread_cond_destroy(&pp->cv);
        pthread_mutex_destroy(&pp->mu);
    } else {
        for (size_t i = 0; i < n; i++) {
            import_prep_free(jobs[i].prep);
            jobs[i].prep = NULL;
        }
    }
    if (pp->fd >= 0)
        close(pp->fd);
    buf_free(&pp->lines);
    free(pp);
}
