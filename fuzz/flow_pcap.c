/*
 * fuzz/flow_pcap.c - libFuzzer target for the pcap walker (src/flow_io.c) feeding the flow
 * decoder: every datagram found is decoded.  Checks that each datagram lies inside the input,
 * or is one just reassembled from IP fragments and at most 65,535 bytes, and that an error names
 * an offset inside it.
 *
 * Without ACCORD_FUZZ this file is linked with fuzz/replay.c, which runs it on every file of
 * fuzz/corpus/flow_pcap/.
 */
#include "flow.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct ctx {
    const uint8_t *base;
    size_t size;
    flow_decoder *d;
    flow_pcap_stats st;
    uint64_t reassembled;
} ctx;

static void on_dgram(void *ud, const flow_datagram *dg)
{
    ctx *c = ud;
    int inside = dg->p >= c->base && dg->p + dg->len <= c->base + c->size;
    if ((!inside && (c->st.reassembled == c->reassembled || dg->len > 65535)) ||
        (dg->src.family != 4 && dg->src.family != 6))
        __builtin_trap();
    c->reassembled = c->st.reassembled;
    (void)flow_decode(c->d, &dg->src, dg->p, dg->len, NULL, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    flow_opts o = {.udp = 1, .pending_max_bytes = 4096};
    ctx c = {data, size, NULL, {0}, 0};
    const char *why;
    size_t off;
    if (flow_decoder_new(&o, &c.d) != 0)
        return 0;
    if (flow_pcap_walk(data, size, on_dgram, &c, &c.st, &why, &off) != 0 && (!why || off > size))
        __builtin_trap();
    if (c.st.reassembled > c.st.fragments || c.st.skipped_fragments > c.st.fragments)
        __builtin_trap();
    flow_decoder_free(c.d);
    return 0;
}
