/*
 * fuzz/nats_msg.c - the readers of what arrives over NATS: chunk ids, result parts, numbers and
 * the snapshot pointer (src/nats_msg.c).
 *
 * Checks: a chunk id that parses has a valid source and prints back to the same text; a part
 * that parses is within 1..parts <= NATS_PARTS_MAX; a pointer that parses formats to JSON that
 * parses to the same pointer; a source made from any text is valid; a seed file that reads
 * gives a key whose public text form is "U" and 55 base32 characters; records of a record
 * chunk stay within it, and a flow record that reads writes back to bytes that read to the
 * same bytes again.  As a result line (src/nats_temporal.c): an observation that reads writes
 * back to one that reads the same; a pattern line's text, when it compiles, takes the line's
 * observation (fed twice: the second is the same observation again) without an error other
 * than a leaf the pattern lacks or the binding search's limit.
 */
#include "nats_msg.h"
#include "nats_temporal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data, *why = NULL;
    nats_chunk_id id;
    nats_pointer p, q;
    uint32_t part, parts;
    uint64_t v;
    char text[512], src[NATS_SOURCE_MAX + 1], pub[NATS_NKEY_PUBLIC_LEN + 1];
    uint8_t seed[32];
    if (nats_chunk_id_parse(s, size, &id, &why) == 0) {
        int n = snprintf(text, sizeof text, "%s:%" PRIu64, id.source, id.offset);
        if (!nats_source_valid(id.source, strlen(id.source)) || n <= 0)
            abort();
        /* the same text, unless the offset had leading zeros */
        if ((size_t)n == size && memcmp(text, s, size) != 0)
            abort();
    } else if (!why) {
        abort();
    }
    if (nats_part_parse(s, size, &part, &parts) == 0 &&
        (part < 1 || part > parts || parts > NATS_PARTS_MAX))
        abort();
    if (nats_u64_parse(s, size, &v) == 0 && (size == 0 || size > 19))
        abort();
    why = NULL;
    if (nats_pointer_parse(s, size, &p, &why) == 0) {
        int n = nats_pointer_format(&p, text, sizeof text);
        if (n < 0 || nats_pointer_parse(text, (size_t)n, &q, &why) != 0 ||
            memcmp(&p, &q, sizeof p) != 0)
            abort();
    } else if (!why) {
        abort();
    }
    {
        size_t off = 0, rlen;
        const uint8_t *rec;
        int r;
        while ((r = nats_rec_next(data, size, &off, &rec, &rlen, &why)) == 1) {
            flow_rec fr, fr2;
            flow_exporter e, e2;
            uint8_t a[NATS_FLOW_REC_LEN], b[NATS_FLOW_REC_LEN];
            if (rec < data || rec + rlen > data + size || off > size)
                abort();
            if (nats_flow_get(rec, rlen, &fr, &e, &why) != 0)
                continue;
            nats_flow_put(&fr, a);
            if (nats_flow_get(a, sizeof a, &fr2, &e2, &why) != 0)
                abort();
            nats_flow_put(&fr2, b);
            if (memcmp(a, b, sizeof a) != 0)
                abort();
        }
    }
    why = NULL;
    if (nats_nkey_seed_find(s, size, seed, &why) == 0) {
        nats_nkey_user_public(seed, pub);
        if (strlen(pub) != NATS_NKEY_PUBLIC_LEN || pub[0] != 'U' ||
            strspn(pub, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != NATS_NKEY_PUBLIC_LEN)
            abort();
    } else if (!why) {
        abort();
    }
    {
        ajson_arena a;
        ajson_error je;
        const ajson_value *o;
        ntemp_obs ob, ob2;
        ajson_arena_init(&a, 1 << 20);
        why = NULL;
        if ((o = ajson_parse(&a, s, size, &je))) {
            int r = ntemp_obs_read(o, &ob, &why);
            const char *ptext;
            size_t plen;
            uint64_t key;
            int v20;
            if (r == -1 && !why)
                abort();
            if (r == 1) {
                buf b;
                const ajson_value *o2;
                buf_init(&b, 1 << 12);
                if (buf_adds(&b, "{") || ntemp_obs_write(&ob, &b) || buf_adds(&b, "}"))
                    abort();
                if (!(o2 = ajson_parse(&a, b.p, b.len, &je)) || ntemp_obs_read(o2, &ob2, &why) != 1 ||
                    ob2.key != ob.key || ob2.leaves != ob.leaves || ob2.t.count != ob.t.count ||
                    ts_cmp(&ob2.t.first, &ob.t.first) != 0 || ts_cmp(&ob2.t.last, &ob.t.last) != 0)
                    abort();
                buf_free(&b);
            }
            if (ntemp_pattern_read(o, &key, &ptext, &plen, &v20, &why) == 1 && r == 1 &&
                plen < 4096) {
                ntemporal *nt = NULL;
                accord_error err;
                ob.key = key;
                if (ntemporal_new(&nt) == 0 && ntemporal_define(nt, key, ptext, plen, v20, &err) == 0)
                    for (int k = 0; k < 2; k++) {
                        int rc = ntemporal_add(nt, "fuzz", &ob);
                        if (rc != 0 && rc != 1 && rc != ACCORD_EINVAL && rc != ACCORD_ELIMIT)
                            abort();
                    }
                ntemporal_free(nt);
            }
        }
        ajson_arena_free(&a);
    }
    if (size < 400) {
        memcpy(text, s, size);
        text[size] = '\0';
        nats_source_from(text, src);
        if (!nats_source_valid(src, strlen(src)))
            abort();
    }
    return 0;
}
