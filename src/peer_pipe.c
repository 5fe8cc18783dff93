/*
 * peer_pipe.c - the fetch thread of a pull walk: page N+1 is fetched, parsed and prepared for
 * storing while page N is stored.
 *
 * Storing a page (SQLite: the objects, their index entries, audit and origin records, the cursor,
 * the commit) is the one part of a pull that must run in order on the store's handle.  Everything
 * else needs only the page's bytes and what the store held before: the TLS transfer, the page's
 * one JSON parse, and for each object the validation, observable values, canonical forms and
 * hashes that import_prepare_parsed computes on that parse, the cryptography of its signatures
 * (Ed25519 and the batch's inclusion path, proven with the keys a read-only handle of its own
 * sees), and the over-share check of its TLP marking.  So one long-lived thread per walk does
 * that for the next page while the walk's own thread stores the current one, and a pull keeps
 * both cores busy.
 *
 * Invariants (what keeps the federation guarantees of peer.c):
 *   1. Nothing here writes the store, and nothing here decides what is kept: a prepared page is
 *      judged (accept policy, keys and their statuses, roster, conflicts) and stored by the
 *      walk's thread, in the page's one transaction, after the page before it committed.  A
 *      signature proven here is judged there on its key as the page's transaction sees it, and
 *      checked again in full when that key is not the one it was proven with (a key learned or
 *      rotated by the page before); an object this thread found over-shared is judged again
 *      there.  So preparing early changes no outcome, only where the work runs.
 *   2. One job at a time: peer_pipe_run starts a job only on an idle pipe and peer_pipe_wait
 *      returns when it is done; between them the job's memory, the curl handle and the reader
 *      handle belong to the fetch thread, and the caller touches none of them.
 *   3. A prepared page is freed on the fetch thread (at the start of that job slot's next use,
 *      or when the pipe closes), because import_prepare_parsed keeps each thread's last prepared
 *      import for reuse: freed there, the next page is prepared into memory already touched.
 *      Its objects point into the job's arena (the page's parse), which outlives it.
 *
 * When no thread can be started the jobs run on the caller's thread, in peer_pipe_run; when the
 * reader handle cannot be opened, signatures and markings are checked on the storing thread.
 */
#include "import.h"
#include "peer_int.h"
#include "store.h"
#include "store_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
    accord_store *reader; /* the store read-only, for the keys that prove signatures; or NULL */
    import_text *texts;   /* the page's objects handed to import_prepare_parsed */
    size_t cap;
    uint64_t cpu_us; /* the thread's CPU time after its last job */
};

/* j's objects as the peer sent their bytes, beside their parse, for import_prepare_parsed. */
static int page_texts(peer_pipe *pp, peer_page_job *j)
{
    size_t n = j->objs->len;
    if (n > pp->cap) {
        import_text *t = realloc(pp->texts, n * sizeof(*t));
        if (!t)
            return -1;
        pp->texts = t;
        pp->cap = n;
    }
    for (size_t i = 0; i < n; i++) {
        size_t off = j->objs->u.items[i].offset;
        size_t end = peer_object_end(j->f.body, j->f.len, j->objs, i);
        pp->texts[i] = (import_text){&j->objs->u.items[i], j->f.body + off, end - off};
    }
    return 0;
}

/* The over-share check of each of j's objects, with this node as the reader handle sees it. */
static void page_tlp(peer_pipe *pp, peer_page_job *j)
{
    size_t n = j->objs->len;
    if (n > j->tlp_cap) {
        unsigned char *t = realloc(j->tlp_refused, n);
        if (!t)
            return;
        j->tlp_refused = t;
        j->tlp_cap = n;
    }
    peer_tlp_gate g;
    peer_tlp_gate_open(&g, pp->reader);
    char why[400];
    for (size_t i = 0; i < n; i++)
        j->tlp_refused[i] =
            (unsigned char)peer_tlp_refuses(&g, &j->objs->u.items[i], why, sizeof(why));
    peer_tlp_gate_close(&g);
    j->tlp_judged = 1;
}

/* Runs j: the GET into j->f, the envelope's parse, the objects' preparation. */
static void job_run(peer_pipe *pp, peer_page_job *j)
{
    import_prep_free(j->prep); /* this slot's page before: stored by now */
    j->prep = NULL;
    j->parse_rc = 0;
    j->objs = NULL;
    j->tlp_judged = 0;
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
    if (j->parse_rc || !j->prepare || !j->objs || !j->objs->len)
        return;
    /* a page that cannot be prepared (out of memory) is stored from its parse instead */
    accord_import_options io = {.flags = j->flags};
    accord_error e;
    if (page_texts(pp, j) ||
        import_prepare_parsed(pp->reader, pp->texts, j->objs->len, &io, &j->prep, &e))
        j->prep = NULL;
    if (pp->reader)
        page_tlp(pp, j);
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
            struct timespec ts;
            uint64_t us = clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0
                              ? (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000
                              : 0;
            pthread_mutex_lock(&pp->mu);
            pp->cpu_us = us;
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

int peer_pipe_open(peer_pipe **out, peer_http *h, accord_store *s, accord_error *err)
{
    peer_pipe *pp = calloc(1, sizeof(*pp));
    *out = pp;
    if (!pp)
        return accord_err_set(err, ACCORD_ENOMEM, "peer %s: out of memory", h->p->name);
    pp->h = h;
    pp->done = 1;
    /* without it signatures are proven on the storing thread, as the page is stored */
    accord_error e;
    if (s && s->dir && accord_store_open(s->dir, ACCORD_STORE_READONLY, &pp->reader, &e))
        pp->reader = NULL;
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

uint64_t peer_pipe_cpu_us(peer_pipe *pp)
{
    if (!pp || !pp->threaded)
        return 0;
    pthread_mutex_lock(&pp->mu);
    uint64_t us = pp->cpu_us;
    pthread_mutex_unlock(&pp->mu);
    return us;
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
    accord_store_close(pp->reader);
    free(pp->texts);
    free(pp);
}
