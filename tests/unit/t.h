/*
 * t.h - the unit test harness: a few macros and a closing line "N passed, N failed".
 * Each tests/unit/test_*.c is one executable with one main() that runs its cases.
 */
#ifndef ACCORD_TEST_T_H
#define ACCORD_TEST_T_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int t_passed, t_failed;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (cond) {                                                                                \
            t_passed++;                                                                            \
        } else {                                                                                   \
            t_failed++;                                                                            \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);              \
        }                                                                                          \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *t_a_ = (a), *t_b_ = (b);                                                       \
        if (t_a_ && t_b_ && strcmp(t_a_, t_b_) == 0) {                                             \
            t_passed++;                                                                            \
        } else {                                                                                   \
            t_failed++;                                                                            \
            fprintf(stderr, "%s:%d: \"%s\" != \"%s\" (%s vs %s)\n", __FILE__, __LINE__,           \
                    t_a_ ? t_a_ : "(null)", t_b_ ? t_b_ : "(null)", #a, #b);                     \
        }                                                                                          \
    } while (0)

/* The whole file at path, NUL-terminated (free() it), its size in *len; NULL when it cannot be read. */
static inline char *t_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *p = NULL;
    long n;
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        p = malloc((size_t)n + 1);
        if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
            free(p);
            p = NULL;
        }
        if (p)
            p[n] = '\0';
        *len = (size_t)n;
    }
    fclose(f);
    return p;
}

/* Data under ../shared/data, or NULL when it is not there (cases using it then skip). */
static inline const char *t_shared_data(void)
{
    static const char *dirs[] = {ACCORD_SOURCE_DIR "/../shared/data", NULL};
    for (int i = 0; dirs[i]; i++) {
        FILE *f = fopen(dirs[i], "r");
        if (f) {
            fclose(f);
            return dirs[i];
        }
    }
    return NULL;
}

static inline int t_done(void)
{
    printf("%d passed, %d failed\n", t_passed, t_failed);
    return t_failed ? 1 : 0;
}

#endif
