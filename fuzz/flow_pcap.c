/*
 * fuzz/flow_pcap.c - libFuzzer target for the pcap walker (src/flow_io.c) feeding the flow
 * decoder: every datagram found is decoded.  Checks that each datagram lies inside the input
 * and that an error names an offset inside it.
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
} ctx;

static void on_dgram(void *ud, const flow_datagram *dg)
{
    ctx *c = ud;
    if (dg->p < c->base || dg->p + dg->len > c->base + c->size ||
        (dg->src.family != 4 && dg->src.family != 6))
        __builtin_trap();
    (void)flow_decode(c->d, &dg->src, dg->p, dg->len, NULL, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    flow_opts o = {.udp = 1, .pending_max_bytes = 4096};
    ctx c = {data, size, NULL};
    const char *why;
    size_t off;
    if (flow_decoder_new(&o, &c.d) != 0)
        return 0;
    if (flow_pcap_walk(data, size, on_dgram, &c, NULL, &why, &off) != 0 && (!why || off > size))
        __builtin_trap();
    flow_decoder_free(c.d);
    return 0;
}
