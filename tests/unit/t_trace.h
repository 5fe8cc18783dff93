/*
 * t_trace.h - unit tests' capture of the SQL statements a store call runs (sqlite3_trace_v2) and
 * their query plans.  Include after <sqlite3.h>, <stdio.h> and <string.h>.
 *
 *   t_traced t = {0};
 *   sqlite3_trace_v2(db, SQLITE_TRACE_STMT, t_trace_cb, &t);  ... the call ...
 *   sqlite3_trace_v2(db, 0, NULL, NULL);
 *   t_trace_plans(db, &t, plans, sizeof(plans));   one plan line per line, "-" after each statement
 */
#ifndef ACCORD_TEST_T_TRACE_H
#define ACCORD_TEST_T_TRACE_H

typedef struct t_traced {
    char sql[8][4096];
    int n;
} t_traced;

/* Keeps each distinct statement once (the first 8). */
static inline int t_trace_cb(unsigned type, void *ud, void *p, void *x)
{
    t_traced *t = ud;
    (void)type, (void)x;
    const char *sql = sqlite3_sql(p);
    for (int i = 0; sql && i < t->n; i++)
        if (strcmp(t->sql[i], sql) == 0)
            return 0;
    if (t->n < 8 && sql)
        snprintf(t->sql[t->n++], sizeof(t->sql[0]), "%s", sql);
    return 0;
}

/* The plans of t's statements into out; -1 when one does not prepare. */
static inline int t_trace_plans(sqlite3 *db, const t_traced *t, char *out, size_t cap)
{
    int rc = 0;
    out[0] = '\0';
    for (int i = 0; i < t->n; i++) {
        char q[4200];
        sqlite3_stmt *st;
        snprintf(q, sizeof(q), "EXPLAIN QUERY PLAN %s", t->sql[i]);
        if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK)
            rc = -1;
        while (st && sqlite3_step(st) == SQLITE_ROW) {
            size_t n = strlen(out);
            snprintf(out + n, cap - n, "%s\n", (const char *)sqlite3_column_text(st, 3));
        }
        sqlite3_finalize(st);
        size_t n = strlen(out);
        snprintf(out + n, cap - n, "-\n");
    }
    return rc;
}

#endif
