/*
 * fuzz/import.c - the whole ingest path short of the store, on arbitrary bytes.
 *
 * The input is a stream as `accord import` reads it (bundle, array, JSON lines, gzip): the reader
 * splits it, every object is parsed and validated.  Checks the counting contract: every object
 * read is either valid or rejected, and a stream error is reported with a message naming a byte.
 */
#include "accord.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz", 0);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    lseek(fd, 0, SEEK_SET);
    accord_import_stats st;
    accord_error err;
    memset(&err, 0, sizeof(err));
    int rc = accord_validate_fd(fd, NULL, &st, &err);
    close(fd);
    if (st.accepted + st.rejected != st.read)
        __builtin_trap();
    if (rc == ACCORD_EJSON && !strstr(err.msg, "byte "))
        __builtin_trap();
    return 0;
}
