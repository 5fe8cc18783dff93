/*
 * t_ind.h - unit tests' walks of the console's indicator selections (store_ind_select) page by
 * page, with the query plans of the statements they ran.  Include after store_console.h,
 * util/buf.h and t_trace.h.
 */
#ifndef ACCORD_TEST_T_IND_H
#define ACCORD_TEST_T_IND_H

typedef struct t_rows {
    buf *out;
    int n, limit;
    int64_t seq, last;
} t_rows;

/* A row callback's bookkeeping: 1 when the page is full (stop: r belongs to the next page), else
 * r is the page's last row so far. */
static inline int t_rows_take(t_rows *x, const store_ind_row *r)
{
    if (x->n == x->limit)
        return 1;
    x->seq = r->seq;
    x->last = r->last_sighting;
    x->n++;
    return 0;
}

/* Appends the rows of f to out, through cb (which gets a t_rows and calls t_rows_take), over pages
 * of `limit`; the plans of the distinct statements they ran into plans (t_trace_plans). */
static inline void t_ind_pages(accord_store *s, store_ind_sel f, int limit,
                               int (*cb)(void *ud, const store_ind_row *r), buf *out, char *plans,
                               size_t cap)
{
    t_traced t = {.n = 0};
    accord_error err;
    for (int page = 0; page < 10000; page++) {
        t_rows x = {.out = out, .limit = limit};
        sqlite3_trace_v2(s->db, SQLITE_TRACE_STMT, t_trace_cb, &t);
        int rc = store_ind_select(s, &f, cb, &x, &err);
        sqlite3_trace_v2(s->db, 0, NULL, NULL);
        CHECK(rc == 0 || rc == 1);
        if (rc != 1)
            break;
        f.cur_last = x.last;
        f.cur_seq = x.seq;
    }
    CHECK(t_trace_plans(s->db, &t, plans, cap) == 0);
}

#endif
