/*
 * fuzz/export_stix_markings.c - libFuzzer target for the stix writer's marking scanner
 * (export_stix.c: note_markings), which reads the marking-definition ids a stored indicator
 * references out of its bytes without parsing them.
 *
 * The input is a body.  Every id the scanner hands back must be "marking-definition--" and a
 * lower-case UUID's text, must stand in the body as a whole JSON string ("id"), and must be
 * handed back once; the count it returns covers them.  A difference traps.
 *
 * Without ACCORD_FUZZ this file is linked with fuzz/replay.c, which runs it on every file of
 * fuzz/corpus/export_stix_markings/.
 */
#include "export.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ID_LEN (sizeof("marking-definition--") - 1 + 36)

typedef struct seen {
    const char *body;
    size_t len, n;
    char ids[1024][ID_LEN + 1];
} seen;

static int uuid_char(int i, char c)
{
    if (i == 8 || i == 13 || i == 18 || i == 23)
        return c == '-';
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static void on_id(void *ud, const char *id)
{
    seen *s = ud;
    char quoted[ID_LEN + 2];
    if (strlen(id) != ID_LEN || memcmp(id, "marking-definition--", 20) != 0)
        __builtin_trap();
    for (int i = 0; i < 36; i++)
        if (!uuid_char(i, id[20 + i]))
            __builtin_trap();
    quoted[0] = '"';
    memcpy(quoted + 1, id, ID_LEN);
    quoted[ID_LEN + 1] = '"';
    if (!memmem(s->body, s->len, quoted, sizeof(quoted)))
        __builtin_trap();
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->ids[i], id) == 0)
            __builtin_trap();
    if (s->n == sizeof(s->ids) / sizeof(s->ids[0]))
        __builtin_trap();
    memcpy(s->ids[s->n++], id, ID_LEN + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    seen *s = malloc(sizeof(*s));
    if (!s)
        return 0;
    s->body = (const char *)data;
    s->len = size;
    s->n = 0;
    int n = export_stix_markings((const char *)data, size, on_id, s);
    if (n >= 0 && ((size_t)n < s->n || (n <= 1024 && (size_t)n != s->n)))
        __builtin_trap();
    free(s);
    return 0;
}
