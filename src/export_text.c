/*
 * export_text.c - the two generic formats: CSV with chosen columns, and plain value lists.
 *
 * csv (RFC 4180: a header row, CRLF-free "\n" lines, fields with ',', '"' or a line break quoted
 * with '"' doubled).  One row per (value, indicator).  Columns, in the order asked for:
 *
 *   column       content
 *   value        the normalised value (a domain-suffix as the suffix itself)
 *   kind         ipv4, ipv6, cidr4, cidr6, domain, domain-suffix, url, email, md5, sha1, sha256,
 *                sha512, cert-sha1, cert-sha256
 *   indicator    the indicator id
 *   name         the indicator's name ("" when none)
 *   confidence   0-100, "" when none
 *   tlp          clear, green, amber, amber+strict, red (unmarked: the store's default)
 *   valid_until  RFC 3339, "" when none
 *
 * Default columns: value,kind,indicator,name,confidence,tlp,valid_until.
 *
 * plain: one value a line, each value once, grouped by kind in the order above and sorted within
 * it; a domain-suffix is written "*.suffix".  Ask for one kind (--type) to get a list a tool
 * reads as is.
 *
 * Both express every kind.
 */
#include "export.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CSV_COLUMNS(XX)                                                                            \
    XX(VALUE, "value")                                                                             \
    XX(KIND, "kind")                                                                               \
    XX(INDICATOR, "indicator")                                                                     \
    XX(NAME, "name")                                                                               \
    XX(CONFIDENCE, "confidence")                                                                   \
    XX(TLP, "tlp")                                                                                 \
    XX(VALID_UNTIL, "valid_until")

enum {
#define COL_XX_(name, text) COL_##name,
    CSV_COLUMNS(COL_XX_)
#undef COL_XX_
        COL_COUNT
};

static const char *const col_names[] = {
#define COL_XX_(name, text) text,
    CSV_COLUMNS(COL_XX_)
#undef COL_XX_
};

static const char *const tlp_names[] = {"clear", "green", "amber", "amber+strict", "red"};

#define MAX_COLS 32

/* Parses "a,b,c" into column numbers; the count, or -1 naming the bad one in err. */
static int parse_columns(const char *spec, int *cols, accord_error *err)
{
    int n = 0;
    const char *p = spec;
    while (*p) {
        size_t len = strcspn(p, ",");
        int c = -1;
        for (int i = 0; i < COL_COUNT; i++)
            if (strlen(col_names[i]) == len && strncmp(col_names[i], p, len) == 0)
                c = i;
        if (c < 0 || n == MAX_COLS) {
            accord_err_set(err, ACCORD_EINVAL,
                           "csv: column \"%.*s\" is not one of value, kind, indicator, name, "
                           "confidence, tlp, valid_until",
                           (int)len, p);
            return -1;
        }
        cols[n++] = c;
        p += len + (p[len] == ',');
    }
    return n;
}

static int field_plain(const char *s);

static int add_field(export_out *w, const char *s)
{
    if (field_plain(s))
        return export_add(w, s, strlen(s));
    export_add(w, "\"", 1);
    for (const char *q; (q = strchr(s, '"')); s = q + 1) {
        export_add(w, s, (size_t)(q - s));
        export_add(w, "\"\"", 2);
    }
    export_add(w, s, strlen(s));
    return export_add(w, "\"", 1);
}

static int add_column(export_out *w, int col, size_t i)
{
    const accord_export_set *s = w->set;
    const export_item *it = &s->items[i];
    const export_ind *d = export_item_ind(s, i);
    char tmp[40] = "";
    switch (col) {
    case COL_VALUE:
        return add_field(w, export_str(s, it->value));
    case COL_KIND:
        return add_field(w, accord_export_kind_name(it->kind));
    case COL_INDICATOR:
        return add_field(w, export_str(s, d->id));
    case COL_NAME:
        return add_field(w, export_str(s, d->name));
    case COL_CONFIDENCE:
        if (d->confidence >= 0)
            *export_u32_text(tmp, (uint32_t)d->confidence) = '\0';
        return add_field(w, tmp);
    case COL_TLP:
        return add_field(w, tlp_names[d->tlp]);
    default:
        if (d->valid_until != INT64_MAX)
            accord_timestamp_format(d->valid_until, tmp, sizeof(tmp));
        return add_field(w, tmp);
    }
}

/* 1 when s (NUL-terminated) goes into a field as it is (no ',', '"', CR or LF); libc's strpbrk
 * looks at sixteen bytes at a time. */
static int field_plain(const char *s)
{
    return strpbrk(s, ",\"\r\n") == NULL;
}

#define PUT(p, src, n) (memcpy((p), (src), (n)), (p) += (n))

/*
 * Row i put together in one line buffer and appended once: the common case (a value and a name
 * that need no quoting, short enough for the buffer).  0 when it is not that case: the caller
 * then writes the row field by field (add_column), which writes the same bytes.  Seven appends
 * and a quoting scan per field were most of a csv export.
 */
static int csv_row_fast(export_out *w, const int *cols, int n, size_t i)
{
    const accord_export_set *s = w->set;
    const export_item *it = &s->items[i];
    const export_ind *d = export_item_ind(s, i);
    const char *id = export_str(s, d->id), *name = export_str(s, d->name);
    size_t idlen = strlen(id), nl = strlen(name);
    char line[2048], *p = line;
    if (it->len + idlen + nl + (size_t)n * 48 > sizeof(line) ||
        !field_plain(export_str(s, it->value)) || !field_plain(name) || !field_plain(id))
        return 0;
    for (int c = 0; c < n; c++) {
        if (c)
            *p++ = ',';
        switch (cols[c]) {
        case COL_VALUE:
            PUT(p, export_str(s, it->value), it->len);
            break;
        case COL_KIND: {
            const char *k = accord_export_kind_name(it->kind);
            PUT(p, k, strlen(k));
            break;
        }
        case COL_INDICATOR:
            PUT(p, id, idlen);
            break;
        case COL_NAME:
            PUT(p, name, nl);
            break;
        case COL_CONFIDENCE:
            if (d->confidence >= 0)
                p = export_u32_text(p, (uint32_t)d->confidence);
            break;
        case COL_TLP:
            PUT(p, tlp_names[d->tlp], strlen(tlp_names[d->tlp]));
            break;
        default:
            if (d->valid_until != INT64_MAX) {
                char t[40];
                accord_timestamp_format(d->valid_until, t, sizeof(t));
                if (!field_plain(t))
                    return 0;
                PUT(p, t, strlen(t));
            }
        }
    }
    *p++ = '\n';
    export_add(w, line, (size_t)(p - line));
    return 1;
}

int export_csv(export_out *w, accord_error *err)
{
    const accord_export_set *s = w->set;
    int cols[MAX_COLS];
    const char *spec = w->o->csv_columns ? w->o->csv_columns
                                         : "value,kind,indicator,name,confidence,tlp,valid_until";
    int n = parse_columns(spec, cols, err);
    if (n <= 0)
        return n < 0 ? ACCORD_EINVAL : accord_err_set(err, ACCORD_EINVAL, "csv: no columns");
    w->supported = ~0u;
    export_file(w, NULL);
    for (int c = 0; c < n; c++)
        export_printf(w, "%s%s", c ? "," : "", col_names[cols[c]]);
    export_add(w, "\n", 1);
    for (size_t i = 0; i < s->nitems && !w->rc; i++) {
        export_prefetch(s, i);
        if (!export_item_ok(w, i))
            continue;
        if (export_item_dup(s, i) && s->items[i - 1].ind == s->items[i].ind)
            continue;
        w->sum->values++;
        if (csv_row_fast(w, cols, n, i))
            continue;
        for (int c = 0; c < n; c++) {
            if (c)
                export_add(w, ",", 1);
            add_column(w, cols[c], i);
        }
        export_add(w, "\n", 1);
    }
    return w->rc;
}

int export_plain(export_out *w)
{
    const accord_export_set *s = w->set;
    w->supported = ~0u;
    export_file(w, NULL);
    for (size_t i = 0; i < s->nitems && !w->rc; i++) {
        const export_item *it = &s->items[i];
        export_prefetch(s, i);
        if (!export_item_ok(w, i))
            continue;
        if (export_item_dup(s, i)) {
            w->sum->duplicates++;
            continue;
        }
        if (it->kind == ACCORD_EK_SUFFIX)
            export_add(w, "*.", 2);
        export_add(w, export_str(s, it->value), it->len);
        export_add(w, "\n", 1);
        w->sum->values++;
    }
    return w->rc;
}
