/*
 * fuzz/roster.c - libFuzzer target for the parsers of what `accord roster import` and
 * `import-signature` read from other nodes: roster versions (roster_parse), votes
 * (roster_vote_parse) and exports ({"roster", "votes"}, through the canonicalisation import uses,
 * then the tally).
 *
 * The first byte picks the parser.  Besides memory errors it checks: an accepted roster writes
 * back (roster_write) to the same canonical bytes and hash, so a version's hash does not depend
 * on who re-serialised it; an accepted vote writes back to a line that parses to the same vote;
 * the tally never counts more votes than distinct members, nor a proposal that is not a
 * successor.  A broken promise traps.
 *
 * Without ACCORD_FUZZ this file is linked with fuzz/replay.c, which runs it on every file of
 * fuzz/corpus/roster/.
 */
#include "jcs.h"
#include "roster.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void version(const char *p, size_t n)
{
    roster *r = malloc(sizeof(*r)), *w = malloc(sizeof(*w));
    buf canon, again;
    buf_init(&canon, 0);
    buf_init(&again, 0);
    if (r && w && roster_parse(p, n, r, &canon, NULL) == 0) {
        *w = *r;
        if (roster_write(w, &again, NULL) != 0 || again.len != canon.len ||
            memcmp(again.p, canon.p, canon.len) != 0 || strcmp(w->hash, r->hash) != 0)
            __builtin_trap();
    }
    buf_free(&canon);
    buf_free(&again);
    free(r);
    free(w);
}

static void vote(const char *p, size_t n)
{
    roster_vote v, back;
    buf line;
    buf_init(&line, 0);
    if (roster_vote_parse(p, n, &v, NULL) == 0) {
        if (roster_vote_write(&v, &line) || roster_vote_parse(line.p, line.len, &back, NULL) ||
            memcmp(&v, &back, sizeof(v)) != 0)
            __builtin_trap();
    }
    buf_free(&line);
}

/* An export: its roster judged as a proposal on itself (never a successor) and on nothing. */
static void export(const char *p, size_t n)
{
    ajson_arena a;
    ajson_error jerr;
    ajson_arena_init(&a, 1 << 24);
    const ajson_value *o = ajson_parse(&a, p, n, &jerr), *bad;
    const ajson_value *ros = ajson_get(o, "roster"), *votes = ajson_get(o, "votes");
    roster *r = malloc(sizeof(*r));
    roster_vote *vs = calloc(64, sizeof(*vs));
    buf text, canon;
    buf_init(&text, 1 << 22);
    buf_init(&canon, 1 << 22);
    size_t nv = 0;
    if (r && vs && ros && jcs_write(&text, ros, &bad) == 0 &&
        roster_parse(text.p, text.len, r, &canon, NULL) == 0) {
        for (size_t i = 0; votes && votes->type == AJSON_ARRAY && i < votes->len && nv < 64; i++) {
            buf_reset(&text);
            if (jcs_write(&text, &votes->u.items[i], &bad) == 0 &&
                roster_vote_parse(text.p, text.len, &vs[nv], NULL) == 0)
                nv++;
        }
        roster_tally t;
        if (roster_count(r, r, canon.p, canon.len, vs, nv, &t, NULL) != 0 || t.successor ||
            t.effective || t.votes > r->n || t.votes + t.new_voted + t.ignored != nv)
            __builtin_trap();
    }
    buf_free(&text);
    buf_free(&canon);
    free(vs);
    free(r);
    ajson_arena_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 1 << 20)
        return 0;
    const char *p = (const char *)data + 1;
    size_t n = size - 1;
    switch (data[0] % 3) {
    case 0:
        version(p, n);
        break;
    case 1:
        vote(p, n);
        break;
    default:
        export(p, n);
        break;
    }
    return 0;
}
