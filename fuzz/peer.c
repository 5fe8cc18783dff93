/*
 * fuzz/peer.c - what the sync client reads from a peer: TAXII envelopes, the
 * X-TAXII-Date-Added-First/Last and Retry-After header lines.
 *
 * Checks: no crash or overread; an accepted envelope's "next" is a NUL-terminated string that fits
 * its buffer; an accepted header value parses as a timestamp and the cursor rule on it never
 * moves a cursor past the page's last date_added; an accepted Retry-After is 0 to a day, and the
 * wait computed from it is at least that and at most a day.  An accepted envelope's objects are
 * handed on as the pull's fetch thread hands them: each one's bytes (peer_object_end) lie inside
 * the page, in order, from its '{' to its '}', and import_prepare_parsed prepares them all from
 * the page's parse.
 */
#include "import.h"
#include "peer.h"
#include "peer_int.h"
#include "util/timestamp.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The objects of an accepted envelope, cut and prepared as the fetch thread does (peer_pipe.c). */
static void objects(const char *t, size_t len)
{
    ajson_arena a;
    peer_page pg;
    const ajson_value *objs;
    accord_error err;
    ajson_arena_init(&a, 0);
    if (peer_page_read(&a, t, len, &pg, &objs, &err) == 0 && objs && objs->len) {
        import_text *texts = malloc(objs->len * sizeof(*texts));
        size_t prev = 0;
        for (size_t i = 0; texts && i < objs->len; i++) {
            size_t off = objs->u.items[i].offset, end = peer_object_end(t, len, objs, i);
            if (off < prev || end <= off || end > len || t[off] != '{' || t[end - 1] != '}')
                __builtin_trap();
            texts[i] = (import_text){&objs->u.items[i], t + off, end - off};
            prev = end;
        }
        import_prep *p = NULL;
        accord_import_options io = {.flags = IMPORT_VERIFIED};
        if (texts && import_prepare_parsed(NULL, texts, objs->len, &io, &p, &err) == 0 && !p)
            __builtin_trap();
        import_prep_free(p);
        free(texts);
    }
    ajson_arena_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    objects((const char *)data, size);
    peer_page pg;
    accord_error err;
    if (peer_page_parse((const char *)data, size, &pg, &err) == 0) {
        if (memchr(pg.next, 0, sizeof(pg.next)) == NULL)
            __builtin_trap();
    } else if (err.msg[0] == 0) {
        __builtin_trap();
    }
    char first[PEER_TS_LEN] = "", last[PEER_TS_LEN] = "";
    /* each line of the input as a header */
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
        int64_t secs = -1;
        int ra = peer_retry_after_parse(p, n, 1796010711, &secs);
        if (ra == 1 && (secs < 0 || secs > 86400))
            __builtin_trap();
        if (ra == 1) {
            int64_t d = peer_next_delay_ms(60, (int64_t)n, secs, (uint32_t)size);
            if (d < secs * 1000 || d > 86400 * 1000)
                __builtin_trap();
        }
        if (peer_header_parse(p, n, first, last) == 1) {
            ts_value tv;
            if ((first[0] && ts_parse(first, &tv)) || (last[0] && ts_parse(last, &tv)))
                __builtin_trap();
        }
        p += n;
    }
    if (first[0] && last[0]) {
        char c[PEER_TS_LEN];
        ts_value cv, lv;
        for (int more = 0; more < 2; more++)
            if (peer_next_cursor(first, last, more, c, sizeof(c)) == 0 &&
                (ts_parse(c, &cv) || ts_parse(last, &lv) || ts_cmp(&cv, &lv) > 0))
                __builtin_trap();
    }
    return 0;
}
