/*
 * fuzz/allowlist.c - libFuzzer target for the allow-list file parser (accord_allowlist_parse):
 * MISP warninglist JSON and plain lists, told apart by the first non-blank byte.
 *
 * The parser is a pure function of its input (no store, no I/O), so each input goes straight in.
 * Besides memory errors it checks what accord allowlist import relies on: every entry's kind is
 * one of the five MISP kinds, every value is a non-empty NUL-terminated string (a plain-list line
 * is at most VALUE_MAX bytes, has no '#' and no surrounding blanks), a name is returned only on
 * success or with a JSON list, and a failure carries a message.  Each entry is also offered to
 * the allow-list matcher's loader path (export_allow_match on the value), which must not crash.
 * A broken promise traps.
 *
 * Without ACCORD_FUZZ this file is linked with fuzz/replay.c, which runs it on every file of
 * fuzz/corpus/allowlist/.
 */
#include "export.h"
#include "values.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct seen {
    int json; /* the input is a warninglist (first non-blank byte '{') */
    size_t n;
    const export_allow *allow;
} seen;

static int kind_ok(const char *k)
{
    static const char *const kinds[] = {"string", "substring", "hostname", "cidr", "regex"};
    for (size_t i = 0; i < 5; i++)
        if (strcmp(k, kinds[i]) == 0)
            return 1;
    return 0;
}

static int on_entry(void *ud, const char *kind, const char *value)
{
    seen *s = ud;
    size_t len = strlen(value);
    if (!kind_ok(kind) || len == 0)
        __builtin_trap();
    if (!s->json) {
        if (len > VALUE_MAX || strchr(value, '#') || value[0] == ' ' || value[0] == '\t' ||
            value[len - 1] == ' ' || value[len - 1] == '\t' || value[len - 1] == '\r')
            __builtin_trap();
        if (strcmp(kind, "regex") == 0 || strcmp(kind, "substring") == 0)
            __builtin_trap(); /* plain lines are cidr, hostname or string by their shape */
    }
    for (int k = 0; k < ACCORD_EK_COUNT; k++)
        export_allow_match(s->allow, k, value, len);
    s->n++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static export_allow *allow; /* the built-in ranges only: loaded once */
    if (!allow && export_allow_load(NULL, &allow, NULL) != 0)
        return 0;
    const char *text = (const char *)data;
    size_t i = 0;
    while (i < size && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n'))
        i++;
    seen s = {.json = i < size && text[i] == '{', .allow = allow};
    char *name = NULL;
    accord_error err = {0};
    int rc = accord_allowlist_parse(text, size, &name, on_entry, &s, &err);
    if (rc && !err.msg[0] && rc != ACCORD_ENOMEM)
        __builtin_trap();
    if (name && !s.json)
        __builtin_trap();
    free(name);
    return 0;
}
