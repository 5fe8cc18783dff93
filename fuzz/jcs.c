/*
 * fuzz/jcs.c - RFC 8785 canonicalisation of arbitrary bytes.
 *
 * For every input the parser accepts and accord_jcs canonicalises, checks the two properties a
 * signature depends on: the output is JSON that the strict parser accepts, and canonicalising
 * it again gives the same bytes (jcs(jcs(x)) == jcs(x)).  Inputs accord_jcs rejects must carry a
 * message naming a byte offset within the input.  Also checks the number formatter on the
 * input's first 8 bytes taken as a double: its output must read back as the same double.
 * And jcs_is_canonical against the writer: whenever it calls a text canonical, jcs_write of the
 * text's tree is that text byte for byte, and the positions it reports for a watched member (the
 * root's last one) are jcs_write_watch's; jcs_is_canonical_parsed says yes wherever
 * jcs_is_canonical does, and only of the writer's output with the writer's positions, for the
 * input and for its minified form.  And the parser's flags: jcs_parsed_canonical of the tree is
 * 1 exactly when jcs_write writes the value's text back byte for byte (the input without the
 * whitespace around the value).
 */
#include "accord.h"
#include "jcs.h"
#include "util/json.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_number(const uint8_t *data, size_t size)
{
    double d;
    if (size < sizeof(d))
        return;
    memcpy(&d, data, sizeof(d));
    char s[40];
    int n = accord_jcs_number(d, s, sizeof(s));
    if (!isfinite(d)) {
        if (n != ACCORD_EINVAL)
            abort();
        return;
    }
    if (n <= 0 || (size_t)n != strlen(s) || strtod(s, NULL) != d)
        abort();
}

static int json_ws(uint8_t c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/* jcs_parsed_canonical(v) is jcs_write(v) == the bytes of v (data less surrounding whitespace). */
static void check_flag(const uint8_t *data, size_t size, const ajson_value *v)
{
    size_t lo = 0, hi = size;
    while (lo < hi && json_ws(data[lo]))
        lo++;
    while (hi > lo && json_ws(data[hi - 1]))
        hi--;
    buf b;
    const ajson_value *bad = NULL;
    buf_init(&b, (size_t)1 << 26);
    int same =
        jcs_write(&b, v, &bad) == 0 && b.len == hi - lo && memcmp(b.p, data + lo, b.len) == 0;
    if (jcs_parsed_canonical(v) != same)
        abort();
    buf_free(&b);
}

/* The positions of two watches agree. */
static int same_watch(const jcs_watch *a, const jcs_watch *b)
{
    return a->found == b->found &&
           (!a->found ||
            (a->value_start == b->value_start && a->value_end == b->value_end &&
             a->cut_start == b->cut_start && a->cut_end == b->cut_end && a->alone == b->alone));
}

static void check_canonical(const uint8_t *data, size_t size)
{
    ajson_arena a;
    ajson_error perr;
    ajson_arena_init(&a, 0);
    const ajson_value *v = ajson_parse(&a, (const char *)data, size, &perr);
    jcs_watch w[1] = {{0}}, ww[1] = {{0}};
    if (v && v->type == AJSON_OBJECT && v->len)
        w[0].value = ww[0].value = &v->u.members[v->len - 1].value;
    /* the parsed-tree variant gives the same answers and positions, on the text and on its
     * minified form */
    if (v)
        check_flag(data, size, v);
    if (v) {
        jcs_watch wp[1] = {{0}}, wg[1] = {{0}}, wt[1] = {{0}};
        buf out;
        const ajson_value *bad = NULL;
        buf_init(&out, (size_t)1 << 26);
        wt[0].value = w[0].value;
        int wrc = jcs_write_watch(&out, v, wt, 1, &bad);
        wp[0].value = wg[0].value = w[0].value;
        char *m = malloc(size + 1);
        if (!m)
            abort();
        size_t mlen = ajson_minify((const char *)data, size, m);
        for (int pass = 0; pass < 2; pass++) {
            const char *t = pass ? m : (const char *)data;
            size_t tlen = pass ? mlen : size;
            int p = jcs_is_canonical_parsed(t, tlen, v, wp, 1);
            int g = jcs_is_canonical(t, tlen, v, wg, 1);
            int same = wrc == 0 && out.len == tlen && memcmp(out.p, t, tlen) == 0;
            if ((g && !p) || (g && !same_watch(wg, wp)) || (p && !(same && same_watch(wp, wt))))
                abort();
        }
        buf_free(&out);
        free(m);
    }
    if (v && jcs_is_canonical((const char *)data, size, v, w, 1)) {
        buf b;
        const ajson_value *bad = NULL;
        buf_init(&b, (size_t)1 << 26);
        if (jcs_write_watch(&b, v, ww, 1, &bad) != 0 || b.len != size ||
            memcmp(b.p, data, size) != 0 || w[0].found != ww[0].found ||
            (w[0].found && (w[0].value_start != ww[0].value_start ||
                            w[0].value_end != ww[0].value_end || w[0].alone != ww[0].alone ||
                            w[0].cut_start != ww[0].cut_start || w[0].cut_end != ww[0].cut_end)))
            abort();
        buf_free(&b);
    }
    ajson_arena_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_number(data, size);
    check_canonical(data, size);
    char *out = NULL, *again = NULL;
    size_t len = 0, again_len = 0;
    accord_error err = {0};
    int rc = accord_jcs((const char *)data, size, &out, &len, &err);
    if (rc != 0) {
        if (out || strncmp(err.msg, "byte ", 5) != 0)
            abort();
        if (rc == ACCORD_EJSON && strtoul(err.msg + 5, NULL, 10) > size)
            abort();
        return 0;
    }
    ajson_arena a;
    ajson_error perr;
    ajson_arena_init(&a, 0);
    if (!ajson_parse(&a, out, len, &perr))
        abort();
    ajson_arena_free(&a);
    if (accord_jcs(out, len, &again, &again_len, &err) != 0)
        abort();
    if (again_len != len || memcmp(out, again, len) != 0)
        abort();
    free(out);
    free(again);
    return 0;
}
