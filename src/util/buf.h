/*
 * buf.h - a growable byte buffer with a hard cap (after curl's dynbuf).
 *
 * Every buffer that grows from outside input has a cap given at init; an append that would pass
 * it, or that fails to allocate, frees the buffer and fails, so a caller that ignores one error
 * still cannot use a half-written buffer.  The bytes are always NUL-terminated.
 */
#ifndef ACCORD_UTIL_BUF_H
#define ACCORD_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct buf {
    char *p;
    size_t len, cap, max;
    int failed; /* an append failed: p is NULL, every later append fails too */
} buf;

void buf_init(buf *b, size_t max);
void buf_free(buf *b);
/* Empties the buffer, keeping its memory (and clearing a failure). */
void buf_reset(buf *b);
/* 0, or -1 when the cap is passed or memory runs out. */
int buf_add(buf *b, const void *data, size_t len);
int buf_adds(buf *b, const char *s);
int buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal, quotes included; a byte that starts no valid UTF-8
 * sequence is written as U+FFFD, so the output is valid JSON text whatever s holds. */
int buf_json_str(buf *b, const char *s);
/* Hands the bytes to the caller (free() them); the buffer is then empty. */
char *buf_take(buf *b, size_t *len);

#endif
