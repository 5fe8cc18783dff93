/*
 * fuzz/dnstap.c - libFuzzer target for the dnstap decoder (src/dnstap.c) and the matcher's use
 * of it (src/flow_match.c: text, and matching against a fixed snapshot of a domain suffix, an
 * address and a CIDR, whose answers pass the address prefilter).
 *
 * The input is read as a Frame Streams stream, fed in pieces whose sizes come from the input
 * itself (so frames split across reads are reassembled the way a socket delivers them); each
 * data frame is decoded as a Dnstap message, its DNS messages walked, its event text written and
 * the message matched (every match's value must be one of the indicators').
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
#include <stdio.h>
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

static fmatch *fm;

static void on_match(void *ud, const accord_match *mt)
{
    (void)ud;
    if (!mt->value || mt->nindicators == 0 || mt->event_len == 0)
        __builtin_trap();
}

static void matcher(void)
{
    static const char *pats[] = {"[domain-name:value LIKE '%.evil.example']",
                                 "[ipv4-addr:value = '198.51.100.9']",
                                 "[ipv6-addr:value ISSUBSET '2001:db8::/32']"};
    accord_snapshot_builder *b;
    accord_snapshot *s;
    if (fm || accord_snapshot_builder_new(0, &b) != 0)
        return;
    for (size_t i = 0; i < 3; i++) {
        char id[80];
        snprintf(id, sizeof id, "indicator--00000000-0000-4000-8000-%012zu", i + 1);
        (void)accord_snapshot_builder_add(b, id, "f", pats[i], 0, 0, NULL);
    }
    if (accord_snapshot_build(b, &s, NULL) == 0) {
        (void)fmatch_new(s, 0, on_match, NULL, &fm);
        accord_snapshot_unref(s);
    }
    accord_snapshot_builder_free(b);
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
    if (fm)
        (void)fmatch_dnstap(fm, &m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dnstap_reader r = {.max_frame = 65536};
    dnstap_frame f;
    const char *why;
    size_t have = 0, used = 0, step = size ? (size_t)data[0] % 64 + 1 : 1;
    matcher();
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
    if (fm)
        (void)fmatch_flush(fm); /* this input's matches checked now */
    (void)dnstap_dns_walk(data, size, on_item, NULL, &why);
    return 0;
}
