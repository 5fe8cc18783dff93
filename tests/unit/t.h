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

/* Cuts the next line off *cursor (a text t_slurp read), without its "\n" or "\r\n"; NULL at the
 * end. */
static inline char *t_next_line(char **cursor)
{
    char *line = *cursor, *nl;
    if (!line || !*line)
        return NULL;
    nl = strchr(line, '\n');
    if (nl) {
        *nl = '\0';
        *cursor = nl + 1;
    } else {
        *cursor = line + strlen(line);
    }
    if (nl && nl > line && nl[-1] == '\r')
        nl[-1] = '\0';
    return line;
}

/*
 * Data under $ACCORD_SHARED_DATA (as the integration tests read it) or else ../shared/data, or
 * NULL when it is not there (cases using it then skip).
 */
static inline const char *t_shared_data(void)
{
    const char *dirs[] = {getenv("ACCORD_SHARED_DATA"), ACCORD_SOURCE_DIR "/../shared/data", NULL};
    for (int i = dirs[0] ? 0 : 1; dirs[i]; i++) {
        FILE *f = fopen(dirs[i], "r");
        if (f) {
            fclose(f);
            return dirs[i];
        }
    }
    return NULL;
}

/* A new directory /tmp/accord-test-NAME-XXXXXX, its path into dir; 0, or -1 (and a message). */
static inline int t_mkdtemp(char *dir, size_t size, const char *name)
{
    snprintf(dir, size, "/tmp/accord-test-%s-XXXXXX", name);
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return -1;
    }
    return 0;
}

/* Removes dir and all it holds (a message when it cannot). */
static inline void t_rmtree(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

static inline int t_done(void)
{
    printf("%d passed, %d failed\n", t_passed, t_failed);
    return t_failed ? 1 : 0;
}

#endif
