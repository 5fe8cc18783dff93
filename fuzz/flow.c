/*
 * fuzz/flow.c - libFuzzer target for the flow template engine (src/flow.c).
 *
 * The input is a sequence of datagrams, each a 2-byte big-endian length and its bytes, decoded
 * in order by one decoder with small limits (so templates, redefinitions, pending sets and their
 * overflow, expiry and sequence counters carry across messages), from two exporters in turn.
 * The whole input is also decoded as one datagram and walked as an IPFIX file.  Besides memory
 * errors it checks what the matcher relies on: a record's address families are 0, 4 or 6, and
 * the counters stay consistent (replayed + dropped pending sets never exceed those buffered; a
 * message and each buffered set replayed in it count once at most as malformed).
 *
 * Without ACCORD_FUZZ this file is linked with fuzz/replay.c, which runs it on every file of
 * fuzz/corpus/flow/.
 */
#include "flow.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_rec(void *ud, const flow_rec *r)
{
    (void)ud;
    if ((r->family != 0 && r->family != 4 && r->family != 6) ||
        (r->nat_family != 0 && r->nat_family != 4 && r->nat_family != 6) || !r->exporter)
        __builtin_trap();
}

static void check(const flow_decoder *d)
{
    flow_stats st;
    flow_decoder_stats(d, &st);
    if (st.pending_replayed + st.pending_dropped > st.pending ||
        st.malformed > st.messages + st.pending_replayed)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const flow_exporter ex[2] = {{.family = 4, .addr = {192, 0, 2, 1}},
                                        {.family = 6, .addr = {0x20, 0x01, 0x0d, 0xb8, [15] = 1}}};
    flow_opts o = {
        .udp = 1, .template_timeout = 30, .pending_max_bytes = 4096, .max_templates = 64};
    flow_decoder *d;
    const char *why;
    size_t off = 0, n = 0;
    if (flow_decoder_new(&o, &d) != 0)
        return 0;
    while (size - off >= 2) {
        size_t len = (size_t)data[off] << 8 | data[off + 1];
        off += 2;
        if (len > size - off)
            len = size - off;
        (void)flow_decode(d, &ex[n++ % 2], data + off, len, on_rec, NULL);
        off += len;
    }
    check(d);
    (void)flow_decode(d, &ex[0], data, size, on_rec, NULL);
    (void)flow_ipfix_file(d, &ex[1], data, size, on_rec, NULL, &why, &off);
    check(d);
    flow_decoder_free(d);
    return 0;
}
