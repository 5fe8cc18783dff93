/*
 * t_import.h - unit tests' stores: one opened in a directory, a JSON text (a bundle or JSON
 * lines) imported into it through the same fd path as `accord import`, an in-memory file, a
 * timestamp's microseconds.  Include after accord.h, t.h, <sys/mman.h> and <unistd.h>.
 */
#ifndef ACCORD_TEST_T_IMPORT_H
#define ACCORD_TEST_T_IMPORT_H

/* What t_import_with returns when the text could not be put in an in-memory file: no accord
 * code is this. */
#define T_IMPORT_EMEMFD (-100)

/* A new in-memory file holding the len bytes at data, positioned at its start: its fd, or -1. */
static inline int t_memfd(const void *data, size_t len)
{
    int fd = memfd_create("t", 0);
    if (fd >= 0 && (write(fd, data, len) != (ssize_t)len || lseek(fd, 0, SEEK_SET) != 0)) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/*
 * Imports text into s with the options o (NULL: the defaults); the counts into *st and the error
 * into *err when they are given, else a failure's error is printed.  Returns accord's code, or
 * T_IMPORT_EMEMFD.
 */
static inline int t_import_with(accord_store *s, const char *text, const accord_import_options *o,
                                accord_import_stats *st, accord_error *err)
{
    accord_import_stats st0;
    accord_error err0 = {0};
    int fd = t_memfd(text, strlen(text));
    if (fd < 0)
        return T_IMPORT_EMEMFD;
    int rc = accord_import_fd(s, fd, o, st ? st : &st0, err ? err : &err0);
    if (rc && !err)
        fprintf(stderr, "import: %s\n", err0.msg);
    close(fd);
    return rc;
}

static inline int t_import_text(accord_store *s, const char *text)
{
    return t_import_with(s, text, NULL, NULL, NULL);
}

/* Opens (creating it) the store in dir, a CHECK that it opens; NULL (and a message) when not. */
static inline accord_store *t_store_open(const char *dir)
{
    accord_store *s = NULL;
    accord_error err = {0};
    int rc = accord_store_open(dir, 0, &s, &err);
    CHECK(rc == 0);
    if (rc)
        fprintf(stderr, "open %s: %s\n", dir, err.msg);
    return s;
}

/* The microseconds of an RFC 3339 timestamp, 0 when it is not one. */
static inline int64_t t_us(const char *t)
{
    int64_t us = 0;
    accord_timestamp_parse(t, &us);
    return us;
}

#endif
