/*
 * bench/audit.c - the audit log's costs: what each record adds to a write transaction (leaf
 * bytes, leaf hash, the checkpoint every 1,000 records), how fast an export is verified offline,
 * and how long a proof takes at the end of a large log.
 *
 *   bench_audit [--records N]     (default 1,000,000)
 *
 * Prints wall and CPU time for each phase; records/s are per CPU-second too, since the machine
 * may be shared.
 */
#include "accord.h"
#include "audit.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static double wall(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double cpu(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec / 1e6 +
           (double)u.ru_stime.tv_sec + (double)u.ru_stime.tv_usec / 1e6;
}

static void report(const char *what, long n, double w0, double c0)
{
    double w = wall() - w0, c = cpu() - c0;
    printf("%-44s %9ld  %7.2f s wall %7.2f s CPU  %10.0f /s  %10.0f per CPU-second\n", what, n, w,
           c, n / w, n / (c > 0 ? c : 1e-9));
}

int main(int argc, char **argv)
{
    long n = 1000000;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--records") == 0 && i + 1 < argc)
            n = strtol(argv[++i], NULL, 10);
    char dir[] = "/tmp/accord-bench-audit-XXXXXX", data[64], exp[64];
    if (!mkdtemp(dir))
        return 1;
    snprintf(data, sizeof(data), "%s/data", dir);
    snprintf(exp, sizeof(exp), "%s/export", dir);
    accord_store *s = NULL;
    accord_error err = {0};
    if (accord_store_open(data, 0, &s, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }

    /* 1. the leaf alone: bytes and hash of a typical `accepted` record */
    buf b;
    buf_init(&b, 0);
    audit_fields f = {.ts = 1764468000000000,
                      .action = "accepted",
                      .ref = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
                      .detail = "2026-01-10T09:00:00.000Z"};
    accord_merkle_hash h;
    double w0 = wall(), c0 = cpu();
    for (long i = 0; i < n; i++) {
        f.seq = f.object = i + 1;
        buf_reset(&b);
        audit_leaf_write(&b, &f);
        accord_merkle_leaf_hash(b.p, b.len, h);
    }
    report("leaf bytes + SHA-256 (records)", n, w0, c0);
    buf_free(&b);

    /* 2. records written in transactions of 20,000, checkpoints every 1,000 included */
    char ref[64];
    w0 = wall();
    c0 = cpu();
    for (long i = 0; i < n;) {
        if (store_begin(s, &err))
            break;
        for (long k = 0; k < 20000 && i < n; k++, i++) {
            snprintf(ref, sizeof(ref), "indicator--%08lx-17d4-4cbf-938f-98ee46b3cd3f", i);
            if (store_audit(s, "accepted", i + 1, ref, "2026-01-10T09:00:00.000Z", &err))
                break;
        }
        if (store_commit(s, &err))
            break;
    }
    if (err.code)
        fprintf(stderr, "%s\n", err.msg);
    report("store_audit in transactions (records)", n, w0, c0);

    /* 3. export, then verify offline */
    accord_audit_summary sum;
    w0 = wall();
    c0 = cpu();
    if (accord_audit_export(s, exp, &sum, &err))
        fprintf(stderr, "%s\n", err.msg);
    report("export (records)", (long)sum.records, w0, c0);
    w0 = wall();
    c0 = cpu();
    if (accord_audit_verify(exp, NULL, &sum, &err))
        fprintf(stderr, "verify: %s\n", err.msg);
    report("verify offline (records)", (long)sum.records, w0, c0);

    /* 4. one inclusion proof at the end of the log */
    char *p = NULL;
    size_t len;
    w0 = wall();
    c0 = cpu();
    if (accord_audit_prove(s, (uint64_t)n / 2 + 1, &p, &len, &err))
        fprintf(stderr, "prove: %s\n", err.msg);
    report("prove one record (proofs)", 1, w0, c0);
    free(p);
    accord_store_close(s);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : 1;
}
