/*
 * fuzz/match_indicators.c - libFuzzer target: an indicator file as `accord match --indicators`
 * reads it (STIX JSON lines, a bundle or an array; accord_snapshot_builder_add_fd), compiled
 * into a snapshot.
 *
 * Checked: reading never fails on bad objects (they are skipped), only on a broken stream; the
 * build succeeds; every indicator the snapshot lists reads back with an id and text fields; the
 * snapshot's serialised form loads and serialises to the same bytes.  Any other outcome traps.
 *
 * Without ACCORD_FUZZ this file is linked with fuzz/replay.c, which runs it on every file of
 * fuzz/corpus/match_indicators/.
 */
#include "match.h"
#include "match_serial.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW 1700000000

/* The serialised form of s, loaded back, serialises to the same bytes. */
static void check_round_trip(const accord_snapshot *s)
{
    buf a, b;
    accord_snapshot *t = NULL;
    accord_error err = {0};
    buf_init(&a, (size_t)1 << 28);
    buf_init(&b, (size_t)1 << 28);
    if (msnap_serialise(s, &a) != 0)
        __builtin_trap();
    if (msnap_load(a.p, a.len, &t, &err) != 0 || msnap_serialise(t, &b) != 0 || a.len != b.len ||
        memcmp(a.p, b.p, a.len) != 0)
        __builtin_trap();
    accord_snapshot_unref(t);
    buf_free(&a);
    buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    accord_snapshot_builder *b = NULL;
    accord_snapshot *s = NULL;
    accord_error err = {0};
    int fd = memfd_create("indicators", 0);
    if (fd < 0)
        return 0;
    if (size && write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    lseek(fd, 0, SEEK_SET);
    if (accord_snapshot_builder_new(NOW, &b) != 0) {
        close(fd);
        return 0;
    }
    int rc = accord_snapshot_builder_add_fd(b, fd, &err);
    close(fd);
    if (rc != 0 && rc != ACCORD_EJSON && rc != ACCORD_ELIMIT)
        __builtin_trap(); /* a broken stream is EJSON; nothing else may fail on 1 MB of input */
    if (rc == ACCORD_EJSON && !err.msg[0])
        __builtin_trap(); /* said where */
    if (accord_snapshot_build(b, &s, &err) != 0)
        __builtin_trap();
    accord_snapshot_builder_free(b);
    for (size_t i = 0; i < accord_snapshot_count(s); i++) {
        accord_indicator_info info;
        if (accord_snapshot_indicator(s, i, &info) != 0 || !info.id[0] || !info.name ||
            !info.labels || info.labels[0] != '[' || !info.tlp)
            __builtin_trap();
    }
    check_round_trip(s);
    accord_snapshot_unref(s);
    return 0;
}
