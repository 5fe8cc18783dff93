/*
 * fuzz/dnstap.c - libFuzzer target for the dnstap decoder (src/dnstap.c) and the matcher's use
 * of it (src/flow_match.c text).
 *
 * The input is read as a Frame Streams stream, fed in pieces whose sizes come from the input
 * itself (so frames split across reads are reassembled the way a socket delivers them); each
 * data frame is decoded as a Dnstap message, its DNS messages walked and its event text written.
 * The whole input is also decoded as one Dnstap message and walked as one DNS message.  Checks:
 * names are lower case, NUL-terminated at their length and shorter than DNS_NAME_MAX; frames lie
 * inside the bytes given; the reader never takes more than it was given.
 *
 * Without ACCORD_FUZZ this file is linked with fuzz/replay.c, which runs it on every file of
 * fuzz/corpus/dnstap/.
 */
#include "dnstap.h"
#include "flow_match.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_name(const char *s, size_t len)
{
    if (len >= DNS_NAME_MAX || strlen(s) != len)
        __builtin_trap();
    for (size_t i = 0; i < len; i++)
        if (s[i] >= 'A' && s[i] <= 'Z')
            __builtin_trap();
}

static void on_item(void *ud, const dns_item *it)
{
    (void)ud;
    check_name(it->name, it->name_len);
    if (it->kind == DNS_CNAME || it->kind == DNS_MX)
        check_name(it->target, it->target_len);
}

static void message(const uint8_t *p, size_t len)
{
    dnstap_msg m;
    const char *why;
    char text[2048];
    if (dnstap_decode(p, len, &m, &why) != 0)
        return;
    if (m.query_msg)
        (void)dnstap_dns_walk(m.query_msg, m.query_msg_len, on_item, NULL, &why);
    if (m.response_msg)
        (void)dnstap_dns_walk(m.response_msg, m.response_msg_len, on_item, NULL, &why);
    size_t n = fmatch_dnstap_text(&m, text, sizeof text);
    if (n >= sizeof text || strlen(text) != n)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dnstap_reader r = {.max_frame = 65536};
    dnstap_frame f;
    const char *why;
    size_t have = 0, used = 0, step = size ? (size_t)data[0] % 64 + 1 : 1;
    while (have < size) {
        have = have + step < size ? have + step : size;
        long n;
        while ((n = dnstap_frame_next(&r, data + used, have - used, &f, &why)) > 0) {
            if ((size_t)n > have - used || (f.p && (f.p < data || f.p + f.len > data + have)))
                __builtin_trap();
            used += (size_t)n;
            if (!f.control)
                message(f.p, f.len);
        }
        if (n < 0)
            break;
    }
    message(data, size);
    (void)dnstap_dns_walk(data, size, on_item, NULL, &why);
    return 0;
}
