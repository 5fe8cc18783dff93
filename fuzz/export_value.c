/*
 * fuzz/export_value.c - libFuzzer target for the values an export takes without the normaliser
 * (export.c: unchanged_kind, export_ipv4_parse), from stored indicators' patterns.
 *
 * The first byte picks the object path (export_value_kind), the rest is the value.  Whatever the
 * quick path takes must be what the normaliser gives back: the same kind and the very same bytes;
 * a difference traps.  An address the quick parser reads must also give the general parser's range
 * (export_net_range through pattern_net_parse).
 *
 * Without ACCORD_FUZZ this file is linked with fuzz/replay.c, which runs it on every file of
 * fuzz/corpus/export_value/.
 */
#include "export.h"
#include "pattern.h"
#include "values.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char quick[VALUE_MAX + 1], slow[VALUE_MAX + 1];
    if (size < 1 || size - 1 > VALUE_MAX)
        return 0;
    char *v = malloc(size);
    if (!v)
        return 0;
    size_t len = size - 1;
    memcpy(v, data + 1, len);
    v[len] = '\0';
    int path = data[0] % 11;
    int q = export_value_kind(path, v, len, 0, quick, sizeof(quick));
    if (q >= 0) {
        int s = export_value_kind(path, v, len, 1, slow, sizeof(slow));
        if (s != q || strcmp(quick, slow) != 0 || strcmp(quick, v) != 0)
            __builtin_trap();
    }
    uint32_t a;
    int prefix, fam;
    pattern_net n;
    export_u128 lo, hi;
    if (memchr(v, '\0', len) == NULL && export_ipv4_parse(v, len, &a, &prefix) == 0) {
        /* the general parser's network, as export_net_range computed it before the quick path */
        if (pattern_net_parse(v, len, &n) != 0 || n.family != 4 || n.prefix != prefix ||
            export_net_range(v, &fam, &lo, &hi) != 0 || fam != 4)
            __builtin_trap();
        uint32_t net = (uint32_t)n.addr[0] << 24 | (uint32_t)n.addr[1] << 16 |
                       (uint32_t)n.addr[2] << 8 | n.addr[3];
        uint32_t host = prefix == 0 ? 0xffffffffu : (uint32_t)((1ull << (32 - prefix)) - 1);
        if (lo != (export_u128)(net & ~host) || hi != (export_u128)((net & ~host) | host) ||
            (a & ~host) != (net & ~host))
            __builtin_trap();
    }
    free(v);
    return 0;
}
