/*
 * fuzz/export_spec.c - libFuzzer target for the export words parser (accord_export_spec_parse),
 * which reads `accord feed add` arguments and, in the server, the words a feed was stored with.
 *
 * The input is split at NUL bytes into words (at most 64).  Besides memory errors it checks the
 * parser's promises: success means a defender format was set, every list pointer it set is
 * NUL-terminated within ACCORD_EXPORT_SPEC_MAX entries, confidence is -1 or 0..100, TLP -1 or a
 * level, the size cap 0 (none) or at most ACCORD_FEED_MAX_BYTES; a failure carries a message.  A
 * broken promise traps.
 *
 * Without ACCORD_FUZZ this file is linked with fuzz/replay.c, which runs it on every file of
 * fuzz/corpus/export_spec/.
 */
#include "export.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void list_ok(const char *const *list)
{
    for (int i = 0; list && list[i]; i++)
        if (i >= ACCORD_EXPORT_SPEC_MAX)
            __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    const char *argv[64];
    size_t argc = 0;
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    for (size_t i = 0, start = 0; i <= size && argc < 64; i++)
        if (text[i] == '\0') {
            argv[argc++] = text + start;
            start = i + 1;
        }
    accord_export_spec sp;
    accord_error err = {0};
    int rc = accord_export_spec_parse(&sp, argc, argv, &err);
    if (rc) {
        if (!err.msg[0])
            __builtin_trap();
    } else {
        if (!sp.opts.format || accord_export_format_files(sp.opts.format) < 0)
            __builtin_trap();
        if (sp.filter.min_confidence < -1 || sp.filter.min_confidence > 100 ||
            sp.filter.max_tlp < -1 || sp.filter.max_tlp > ACCORD_TLP_RED ||
            sp.opts.max_bytes > ACCORD_FEED_MAX_BYTES)
            __builtin_trap();
        list_ok(sp.filter.labels);
        list_ok(sp.filter.creators);
        list_ok(sp.filter.indicator_types);
    }
    free(text);
    return 0;
}
