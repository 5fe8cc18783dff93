/*
 * cmd_allowlist.c - accord allowlist: values that no export may contain.
 *
 *   import [--name N] FILE...   each FILE (a MISP warninglist list.json, or a plain list) replaces
 *                               the stored list of its name: the JSON "name", else --name, else
 *                               the file's name
 *   list                        each list: name, entries
 *   rm NAME                     removes a list
 *
 * The built-in special-purpose ranges (RFC 1918, RFC 6890) need no import and are not listed.
 */
#include "cli.h"
#include "accord_export.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FILE (64u << 20)

typedef struct entries {
    char **kinds, **values;
    size_t n, cap;
} entries;

static int collect(void *ud, const char *kind, const char *value)
{
    entries *e = ud;
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 256;
        char **k = realloc(e->kinds, cap * sizeof(*k)), **v;
        if (!k)
            return ACCORD_ENOMEM;
        e->kinds = k;
        if (!(v = realloc(e->values, cap * sizeof(*v))))
            return ACCORD_ENOMEM;
        e->values = v;
        e->cap = cap;
    }
    e->kinds[e->n] = strdup(kind);
    e->values[e->n] = strdup(value);
    if (!e->kinds[e->n] || !e->values[e->n])
        return free(e->kinds[e->n]), free(e->values[e->n]), ACCORD_ENOMEM;
    e->n++;
    return 0;
}

static void entries_free(entries *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->kinds[i]), free(e->values[i]);
    free(e->kinds);
    free(e->values);
}

/* Reads a whole file (at most MAX_FILE bytes); NULL with errno on failure. */
static char *read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    char *p = NULL;
    if (fd < 0)
        return NULL;
    if (fstat(fd, &st) == 0 && (st.st_size < 0 || (uint64_t)st.st_size > MAX_FILE))
        errno = EFBIG;
    else if (fstat(fd, &st) == 0 && (p = malloc((size_t)st.st_size + 1))) {
        ssize_t n = read(fd, p, (size_t)st.st_size);
        if (n != st.st_size) {
            free(p);
            p = NULL;
            errno = n < 0 ? errno : EIO;
        } else {
            p[n] = '\0';
            *len = (size_t)n;
        }
    }
    close(fd);
    return p;
}

static int import_file(accord_store *s, const char *path, const char *name)
{
    size_t len = 0;
    char *text = read_file(path, &len), *jname = NULL;
    entries e = {0};
    accord_error err = {0};
    if (!text) {
        cli_error("allowlist", "%s: %s", path, strerror(errno));
        return EXIT_FAIL;
    }
    int rc = accord_allowlist_parse(text, len, &jname, collect, &e, &err);
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    const char *list = jname ? jname : name ? name : base;
    if (!rc && e.n == 0) {
        snprintf(err.msg, sizeof(err.msg), "no entries (use `accord allowlist rm` to remove)");
        rc = ACCORD_EINVAL;
    }
    if (!rc)
        rc = accord_allowlist_replace(s, list, (const char *const *)e.kinds,
                                      (const char *const *)e.values, e.n, &err);
    if (rc)
        cli_error("allowlist", "%s: %s", path, err.msg[0] ? err.msg : accord_strerror(rc));
    else
        printf("%s: %zu entries\n", list, e.n);
    free(text);
    free(jname);
    entries_free(&e);
    return rc ? EXIT_FAIL : EXIT_OK;
}

typedef struct list_row {
    char name[256];
    uint64_t n;
} list_row;

static int count_row(void *ud, const char *list, const char *kind, const char *value)
{
    list_row *r = ud;
    (void)kind;
    (void)value;
    if (strcmp(r->name, list) != 0) {
        if (r->n)
            printf("%s\t%llu\n", r->name, (unsigned long long)r->n);
        snprintf(r->name, sizeof(r->name), "%s", list);
        r->n = 0;
    }
    r->n++;
    return 0;
}

static int list_main(accord_store *s)
{
    list_row r = {.n = 0};
    accord_error err = {0};
    int rc = accord_allowlist_each(s, count_row, &r, &err);
    if (r.n)
        printf("%s\t%llu\n", r.name, (unsigned long long)r.n);
    if (rc)
        cli_error("allowlist", "%s", err.msg);
    return rc ? EXIT_FAIL : EXIT_OK;
}

int cmd_allowlist(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage("allowlist");
    const char *verb = argv[1], *name = NULL;
    int i = 2, rc = EXIT_OK;
    if (strcmp(verb, "import") == 0 && i + 1 < argc && strcmp(argv[i], "--name") == 0)
        name = argv[i + 1], i += 2;
    int ro = strcmp(verb, "list") == 0;
    if ((ro && argc != 2) || (strcmp(verb, "rm") == 0 && argc != 3) ||
        (strcmp(verb, "import") == 0 && i >= argc) ||
        (!ro && strcmp(verb, "rm") && strcmp(verb, "import")))
        return cli_usage("allowlist");
    accord_store *s = cli_open_store(ro ? ACCORD_STORE_READONLY : 0);
    if (!s)
        return EXIT_FAIL;
    accord_error err = {0};
    if (ro) {
        rc = list_main(s);
    } else if (strcmp(verb, "rm") == 0) {
        if (accord_allowlist_replace(s, argv[2], NULL, NULL, 0, &err)) {
            cli_error("allowlist", "%s", err.msg);
            rc = EXIT_FAIL;
        }
    } else {
        for (; i < argc; i++) {
            int r = import_file(s, argv[i], name);
            rc = r > rc ? r : rc;
        }
    }
    accord_store_close(s);
    return rc;
}
