/* Small helpers the benchmark programs share: clocks and a growing buffer for libcurl bodies. */
#ifndef ACCORD_BENCH_H
#define ACCORD_BENCH_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

/* Wall clock, seconds. */
static inline double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* This process's CPU time (user + system), seconds. */
static inline double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* The calling thread's CPU time, seconds: what one worker of several spent, whatever the others
 * and the neighbours on a shared machine do. */
static inline double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A response body, NUL-terminated; on_data is a CURLOPT_WRITEFUNCTION appending to one. */
typedef struct http_body {
    char *p;
    size_t len, cap;
} http_body;

static inline size_t on_data(char *ptr, size_t size, size_t n, void *ud)
{
    http_body *s = ud;
    size_t add = size * n;
    if (s->len + add + 1 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 65536;
        while (cap < s->len + add + 1)
            cap *= 2;
        char *p = realloc(s->p, cap);
        if (!p)
            return 0;
        s->p = p;
        s->cap = cap;
    }
    memcpy(s->p + s->len, ptr, add);
    s->len += add;
    s->p[s->len] = '\0';
    return add;
}

/* A new empty directory PARENT/NAME-XXXXXX for one run's files, so that --dir may name a directory
 * others use (the run removes only what it made); exits when it cannot be made. */
static inline const char *bench_workdir(const char *parent, const char *name)
{
    static char path[256]; /* a longer PARENT loses the XXXXXX and fails */
    snprintf(path, sizeof(path), "%s/%s-XXXXXX", parent, name);
    if (!mkdtemp(path)) {
        perror(path);
        exit(1);
    }
    return path;
}

#endif
