/*
 * export_fields.c - the few members of a stored indicator body that an export reads, without
 * parsing the rest.
 *
 * Selection reads nine top-level members of each indicator (pattern, pattern_type, valid_from,
 * valid_until, name, confidence, labels, indicator_types, created_by_ref); its TLP comes from the
 * store's label column, computed at import (tlp.h).
 * Building the whole tree with the strict parser (validating UTF-8 byte by byte, decoding every
 * string, allocating every member) was about half of the instructions of a selection, although
 * every stored body was already validated by that same parser at import.  This file walks the
 * top level of a body once, skips the values it does not need by their brackets and quotes, and
 * builds a small ajson object of the wanted members only, in the caller's arena, so the code that
 * reads it (ajson_get, ajson_str, ajson_int) is the same as for a full parse.
 *
 * Invariant: the object built here is exactly the subset of what ajson_parse would build (value
 * offsets aside: they are 0), or nothing.  It gives up (returns NULL, and the caller parses the
 * body fully) whenever that is not obvious: a wanted string with an escape or a control byte, a key
 * with an escape, a wanted member of a shape other than string, number or array of escape-free
 * strings, or any syntax it does not expect.  Bodies come from the store, where they were
 * validated, so giving up is rare and malformed input is never trusted: it only costs the full
 * parse.
 *
 * What it does not do: validate JSON (skipped values are only bracket-matched), or decode
 * escapes (that is the strict parser's job).
 */
#include "export.h"

#include <stddef.h>
#include <string.h>

#define W_(k)                                                                                      \
    {                                                                                              \
        k, sizeof(k) - 1                                                                           \
    }
static const struct {
    const char *key;
    size_t len;
} wanted[] = {
    W_("pattern"),        W_("pattern_type"),        W_("valid_from"), W_("valid_until"),
    W_("name"),           W_("confidence"),          W_("labels"),     W_("indicator_types"),
    W_("created_by_ref"),
};
#undef W_
#define NWANTED (sizeof(wanted) / sizeof(wanted[0]))

typedef struct cursor {
    const char *p, *end;
} cursor;

static void ws(cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

/* After an opening quote: the closing quote of a string that has no escape, or NULL.  (Raw
 * control bytes cannot occur: the import parser rejects them, and the writers check values.) */
static const char *plain_string_end(const cursor *c)
{
    const char *q = memchr(c->p, '"', (size_t)(c->end - c->p));
    if (!q || memchr(c->p, '\\', (size_t)(q - c->p)))
        return NULL;
    return q;
}

/* Skips a string after its opening quote, escapes included; 0, or -1 at the end of input. */
static int skip_string(cursor *c)
{
    for (;;) {
        const char *q = memchr(c->p, '"', (size_t)(c->end - c->p));
        if (!q)
            return -1;
        size_t bs = 0; /* an odd run of backslashes before it escapes the quote */
        while (q - bs > c->p && q[-1 - (ptrdiff_t)bs] == '\\')
            bs++;
        c->p = q + 1;
        if (bs % 2 == 0)
            return 0;
    }
}

/* Skips any value by its brackets and quotes; 0 or -1. */
static int skip_value(cursor *c)
{
    int depth = 0;
    while (c->p < c->end) {
        char ch = *c->p;
        if (ch == '"') {
            c->p++;
            if (skip_string(c))
                return -1;
        } else if (ch == '{' || ch == '[') {
            depth++;
            c->p++;
        } else if (ch == '}' || ch == ']') {
            if (depth == 0)
                return 0;
            depth--;
            c->p++;
        } else if (ch == ',' && depth == 0) {
            return 0;
        } else {
            c->p++;
        }
        if (depth == 0 && (ch == '"' || ch == '}' || ch == ']'))
            return 0;
    }
    return depth == 0 ? 0 : -1;
}

/* An escape-free string after its opening quote, copied NUL-terminated into the arena. */
static int take_string(ajson_arena *a, cursor *c, ajson_value *v)
{
    const char *q = plain_string_end(c);
    if (!q)
        return -1;
    size_t n = (size_t)(q - c->p);
    char *s = ajson_arena_alloc(a, n + 1);
    if (!s)
        return -1;
    memcpy(s, c->p, n);
    s[n] = '\0';
    v->type = AJSON_STRING;
    v->len = n;
    v->u.str = s;
    c->p = q + 1;
    return 0;
}

static int take_number(ajson_arena *a, cursor *c, ajson_value *v)
{
    const char *s0 = c->p;
    while (c->p < c->end && ((*c->p >= '0' && *c->p <= '9') || *c->p == '-' || *c->p == '+' ||
                             *c->p == '.' || *c->p == 'e' || *c->p == 'E'))
        c->p++;
    size_t n = (size_t)(c->p - s0);
    char *s = n ? ajson_arena_alloc(a, n + 1) : NULL;
    if (!s)
        return -1;
    memcpy(s, s0, n);
    s[n] = '\0';
    v->type = AJSON_NUMBER;
    v->len = n;
    v->u.str = s;
    return 0;
}

/* An array of escape-free strings (at most 64). */
static int take_array(ajson_arena *a, cursor *c, ajson_value *v)
{
    ajson_value items[64];
    size_t n = 0;
    c->p++;
    ws(c);
    if (c->p < c->end && *c->p == ']') {
        c->p++;
    } else {
        for (;;) {
            if (n == 64 || c->p >= c->end || *c->p != '"')
                return -1;
            c->p++;
            memset(&items[n], 0, sizeof(items[n]));
            if (take_string(a, c, &items[n++]))
                return -1;
            ws(c);
            if (c->p < c->end && *c->p == ',') {
                c->p++;
                ws(c);
                continue;
            }
            if (c->p < c->end && *c->p == ']') {
                c->p++;
                break;
            }
            return -1;
        }
    }
    ajson_value *copy = ajson_arena_alloc(a, (n ? n : 1) * sizeof(*copy));
    if (!copy)
        return -1;
    memcpy(copy, items, n * sizeof(*copy));
    v->type = AJSON_ARRAY;
    v->len = n;
    v->u.items = copy;
    return 0;
}

static int take_value(ajson_arena *a, cursor *c, ajson_value *v)
{
    if (c->p >= c->end)
        return -1;
    if (*c->p == '"') {
        c->p++;
        return take_string(a, c, v);
    }
    if (*c->p == '[')
        return take_array(a, c, v);
    if (*c->p == '-' || (*c->p >= '0' && *c->p <= '9'))
        return take_number(a, c, v);
    return -1;
}

static int wanted_index(const char *k, size_t len)
{
    for (size_t i = 0; i < NWANTED; i++)
        if (wanted[i].len == len && wanted[i].key[0] == k[0] && memcmp(wanted[i].key, k, len) == 0)
            return (int)i;
    return -1;
}

const ajson_value *export_fields_parse(ajson_arena *a, const char *body, size_t len)
{
    cursor c = {body, body + len};
    ajson_member *m = ajson_arena_alloc(a, NWANTED * sizeof(*m));
    ajson_value *root = ajson_arena_alloc(a, sizeof(*root));
    size_t n = 0;
    if (!m || !root)
        return NULL;
    ws(&c);
    if (c.p >= c.end || *c.p++ != '{')
        return NULL;
    ws(&c);
    if (c.p < c.end && *c.p == '}')
        c.p++;
    else
        for (;;) {
            if (c.p >= c.end || *c.p++ != '"')
                return NULL;
            const char *k = c.p, *q = plain_string_end(&c);
            if (!q)
                return NULL;
            c.p = q + 1;
            ws(&c);
            if (c.p >= c.end || *c.p++ != ':')
                return NULL;
            ws(&c);
            int w = wanted_index(k, (size_t)(q - k));
            if (w >= 0) {
                if (n == NWANTED)
                    return NULL; /* a duplicate key: not for this parser to judge */
                memset(&m[n], 0, sizeof(m[n]));
                m[n].key = wanted[w].key;
                m[n].key_len = (size_t)(q - k);
                if (take_value(a, &c, &m[n].value))
                    return NULL;
                n++;
            } else if (skip_value(&c)) {
                return NULL;
            }
            ws(&c);
            if (c.p < c.end && *c.p == ',') {
                c.p++;
                ws(&c);
                continue;
            }
            if (c.p < c.end && *c.p == '}') {
                c.p++;
                break;
            }
            return NULL;
        }
    ws(&c);
    if (c.p != c.end)
        return NULL;
    memset(root, 0, sizeof(*root));
    root->type = AJSON_OBJECT;
    root->len = n;
    root->u.members = m;
    return root;
}
