/*
 * t_import.h - unit tests' import of a JSON text (a bundle or JSON lines) into an open store,
 * through the same fd path as `accord import`.  Include after accord.h, <sys/mman.h> and
 * <unistd.h>.
 */
#ifndef ACCORD_TEST_T_IMPORT_H
#define ACCORD_TEST_T_IMPORT_H

static inline int t_import_text(accord_store *s, const char *text)
{
    int fd = memfd_create("t", 0);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        return -1;
    lseek(fd, 0, SEEK_SET);
    accord_import_stats st;
    accord_error err;
    int rc = accord_import_fd(s, fd, NULL, &st, &err);
    if (rc)
        fprintf(stderr, "import: %s\n", err.msg);
    close(fd);
    return rc;
}

#endif
