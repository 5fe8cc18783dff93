/*
 * fuzz/match_serial.c - libFuzzer target: the loader of compiled snapshots (src/match_serial.c),
 * which reads bytes that arrive over the network.
 *
 * The input's checksums are recomputed first (msnap_reseal), so that mutations reach the checks
 * of the contents instead of stopping at a checksum.  A snapshot that loads is matched against
 * a few event lines of every kind (an out-of-bounds table slot, reference or cover chain would
 * be read there: ASan), written out again, and that must load (the writer's output of a valid
 * snapshot is valid) and write the same bytes once more.
 *
 * Without ACCORD_FUZZ this file is linked with fuzz/replay.c, which runs it on every file of
 * fuzz/corpus/match_serial/.
 */
#include "match.h"
#include "match_serial.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char lines[] =
    "{\"ts\":1700000000.5,\"id.orig_h\":\"10.1.2.3\",\"id.orig_p\":4444,\"id.resp_h\":"
    "\"192.168.7.9\",\"id.resp_p\":443,\"proto\":\"tcp\",\"query\":\"www.evil.example\","
    "\"host\":\"c2.bad.net\",\"uri\":\"/p1\",\"user_agent\":\"curl/8.5.0\","
    "\"mailfrom\":\"<u1@bad.net>\",\"md5\":\"00010000000000000000000000000000\"}\n"
    "{\"ts\":1700000001.5,\"id.orig_h\":\"2001:db8:1::5\",\"id.resp_h\":\"2001:db8:3::1\","
    "\"id.resp_p\":53,\"sha256\":\"0000000000000000000000000000000000000000000000000000000000000000\","
    "\"cert_chain_fps\":[\"0000000000000000000000000000000000000000\"]}\n"
    "10.0.0.1\nevil.example\n";

static void match_all(accord_snapshot *s)
{
    accord_matcher *m = NULL;
    accord_match mt;
    if (accord_matcher_new(s, &m) != 0)
        return;
    if (accord_matcher_match_lines(m, lines, sizeof lines - 1, 0) >= 0)
        while (accord_matcher_next(m, &mt) == 1)
            for (size_t i = 0; i < mt.nindicators; i++) {
                accord_indicator_info ii;
                if (accord_snapshot_indicator(s, mt.indicators[i], &ii) != 0)
                    __builtin_trap(); /* a match naming no indicator */
            }
    accord_matcher_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1);
    accord_snapshot *s = NULL, *t = NULL;
    accord_error err = {0};
    buf once, twice;
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    /* odd sizes: the /24 bitmap made for any number of exact IPv4 keys, so that its build and
     * its use in lookups of the loaded tables are reached with inputs this small */
    mip_set_x24_min(size & 1 ? 1 : 0);
    msnap_reseal(copy, size);
    if (msnap_load(copy, size, &s, &err) != 0) {
        if (err.msg[0] == '\0')
            __builtin_trap(); /* refused without saying why */
        free(copy);
        return 0;
    }
    match_all(s);
    buf_init(&once, (size_t)1 << 28);
    buf_init(&twice, (size_t)1 << 28);
    if (msnap_serialise(s, &once) != 0 || msnap_load(once.p, once.len, &t, &err) != 0) {
        fprintf(stderr, "the loaded snapshot written again does not load: %s\n", err.msg);
        __builtin_trap();
    }
    if (msnap_serialise(t, &twice) != 0 || once.len != twice.len ||
        memcmp(once.p, twice.p, once.len) != 0)
        __builtin_trap();
    accord_snapshot_unref(t);
    accord_snapshot_unref(s);
    buf_free(&once);
    buf_free(&twice);
    free(copy);
    return 0;
}
