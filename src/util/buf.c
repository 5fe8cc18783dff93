/*
 * buf.c - see buf.h.  Growth doubles the allocation, so n appends cost O(n) copies in all.
 */
#include "util/buf.h"
#include "util/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(buf *b, size_t max)
{
    b->p = NULL;
    b->len = b->cap = 0;
    b->max = max ? max : (size_t)64 * 1024 * 1024;
    b->failed = 0;
}

void buf_free(buf *b)
{
    if (!b)
        return;
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

void buf_reset(buf *b)
{
    b->len = 0;
    b->failed = 0;
    if (b->p)
        b->p[0] = '\0';
}

static int fail(buf *b)
{
    buf_free(b);
    b->failed = 1;
    return -1;
}

static int reserve(buf *b, size_t extra)
{
    if (b->failed)
        return -1;
    if (extra > b->max || b->len > b->max - extra)
        return fail(b);
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    if (cap > b->max + 1)
        cap = b->max + 1;
    char *p = realloc(b->p, cap);
    if (!p)
        return fail(b);
    b->p = p;
    b->cap = cap;
    return 0;
}

int buf_add(buf *b, const void *data, size_t len)
{
    if (reserve(b, len))
        return -1;
    if (len)
        memcpy(b->p + b->len, data, len);
    b->len += len;
    b->p[b->len] = '\0';
    return 0;
}

int buf_adds(buf *b, const char *s)
{
    return buf_add(b, s, strlen(s));
}

int buf_printf(buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || reserve(b, (size_t)n))
        return -1;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

int buf_json_str(buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    if (buf_add(b, "\"", 1))
        return -1;
    const unsigned char *p = (const unsigned char *)s, *run = p;
    size_t left = strlen(s);
    while (left) {
        unsigned char c = *p;
        size_t k = c < 0x80 ? 1 : ajson_utf8_seq(p, left);
        if (k && c >= 0x20 && c != '"' && c != '\\') {
            p += k;
            left -= k;
            continue;
        }
        if (buf_add(b, run, (size_t)(p - run)))
            return -1;
        char esc[6] = {'\\', (char)c, 0, 0, 0, 0};
        size_t n = 2;
        if (!k) { /* not UTF-8: U+FFFD, so what is written is always valid JSON text */
            memcpy(esc, "\xEF\xBF\xBD", 3);
            n = 3;
        } else if (c < 0x20) {
            const char *named = c == '\n' ? "n" : c == '\r' ? "r" : c == '\t' ? "t" : NULL;
            if (named) {
                esc[1] = named[0];
            } else {
                esc[1] = 'u';
                esc[2] = '0';
                esc[3] = '0';
                esc[4] = hex[c >> 4];
                esc[5] = hex[c & 15];
                n = 6;
            }
        }
        if (buf_add(b, esc, n))
            return -1;
        p++;
        left--;
        run = p;
    }
    if (buf_add(b, run, (size_t)(p - run)))
        return -1;
    return buf_add(b, "\"", 1);
}

char *buf_take(buf *b, size_t *len)
{
    char *p = b->p;
    if (len)
        *len = b->len;
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}
