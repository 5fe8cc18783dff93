/*
 * match_tsv.c - Zeek TSV logs: the header and the rows, read into the same fields as the
 * JSON form of the same log.
 *
 * A Zeek TSV log starts with a header of '#' lines:
 *
 *   #separator \x09              the column separator, \xHH escaped (starts a new header)
 *   #set_separator<TAB>,         between the elements of set[..] and vector[..] values
 *   #empty_field<TAB>(empty)     an empty set or string
 *   #unset_field<TAB>-           a value that is not set
 *   #path, #open                 (not needed here)
 *   #fields<TAB>ts<TAB>uid<TAB>id.orig_h ...   the column names
 *   #types<TAB>time<TAB>string<TAB>addr ...    their types
 *   ... rows ...
 *   #close<TAB>2019-...          the end of this log (a concatenation may follow)
 *
 * The column names are the keys of the Zeek JSON form ("id.orig_h", "query", "answers"), so
 * each column takes the role and field name that key has in the field map: a row gives the
 * fields its JSON line would give, and matches the same indicators.  Numbers (time, port,
 * count, int, double, interval, bool) are given as numbers, everything else as strings; a set
 * or vector gives one field per element; the unset and empty markers give none.  Zeek writes
 * bytes that are not printable as \xHH: such values are unescaped into the scratch.
 *
 * A row whose column count differs from #fields is malformed.  A header line that cannot be
 * read as Zeek writes it is reported (mtsv_header's why, once, at its line) and every row under
 * it is malformed, with a reason that names the rejected line, until a new header: a #separator
 * or #set_separator value that is not one byte, a #fields line without column names (empty,
 * another separator, an empty name) or with more than MTSV_COLS, a #types line without one type
 * per column.  Rows under a rejected #separator or #set_separator stay malformed until the next
 * #separator (their values cannot be told apart); the others until the next #fields.  Lines that
 * are not TSV rows (JSON objects, and plain values before any #fields) are read as before: the
 * header state only applies to lines that start with neither '{' nor '#'.
 */
#include "match.h"

#include <string.h>

void mtsv_reset(mtsv *t)
{
    memset(t, 0, sizeof *t);
    t->sep = '\t';
    t->set_sep = ',';
    memcpy(t->empty, "(empty)", 7);
    t->empty_len = 7;
    t->unset[0] = '-';
    t->unset_len = 1;
}

static int hexd(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Unescapes \xHH in s[0..n) into o (room for n); the length. */
static size_t unescape_x(const char *s, size_t n, char *o)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int h, l;
        if (s[i] == '\\' && i + 3 < n && s[i + 1] == 'x' && (h = hexd(s[i + 2])) >= 0 &&
            (l = hexd(s[i + 3])) >= 0) {
            o[k++] = (char)(h << 4 | l);
            i += 3;
        } else {
            o[k++] = s[i];
        }
    }
    return k;
}

/* The value of a header line "#name<sep>value" into out (unescaped, at most cap - 1 bytes). */
static size_t header_value(const char *v, size_t n, char *out, size_t cap)
{
    char tmp[256];
    size_t k;
    if (n >= sizeof tmp)
        n = sizeof tmp - 1;
    k = unescape_x(v, n, tmp);
    if (k >= cap)
        k = cap - 1;
    memcpy(out, tmp, k);
    return k;
}

static int is_number_type(const char *s, size_t n)
{
    static const char *const types[] = {"time",   "port",     "count", "int",
                                        "double", "interval", "bool",  "counter"};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strlen(types[i]) == n && memcmp(types[i], s, n) == 0)
            return 1;
    return 0;
}

/* Each sep-separated item of s[0..n): fn(ud, index, item, len). */
static void each_item(const char *s, size_t n, char sep,
                      void (*fn)(void *, size_t, const char *, size_t), void *ud)
{
    size_t i = 0, idx = 0;
    while (i <= n) {
        const char *e = memchr(s + i, sep, n - i);
        size_t len = e ? (size_t)(e - (s + i)) : n - i;
        fn(ud, idx++, s + i, len);
        if (!e)
            break;
        i += len + 1;
    }
}

typedef struct hdr_ctx {
    mtsv *t;
    const mfmap *map;
    size_t n;       /* items seen */
    int empty_name; /* one of them is empty */
} hdr_ctx;

static void on_field_name(void *ud, size_t i, const char *s, size_t n)
{
    hdr_ctx *c = ud;
    const mfmap_key *mk;
    mtsv_col *col;
    c->n = i + 1;
    c->empty_name |= n == 0;
    if (i >= MTSV_COLS)
        return;
    col = &c->t->cols[i];
    memset(col, 0, sizeof *col);
    c->t->ncols = i + 1;
    mk = mfmap_find(&c->map->root, s, n);
    if (!mk || !mk->role)
        return;
    col->role = mk->role;
    col->field = mk->field;
    col->str = !(mk->role == MR_TIME || mk->role == MR_SRC_PORT || mk->role == MR_DST_PORT);
}

static void on_type(void *ud, size_t i, const char *s, size_t n)
{
    hdr_ctx *c = ud;
    mtsv_col *col;
    c->n = i + 1;
    if (i >= c->t->ncols)
        return;
    col = &c->t->cols[i];
    if ((n > 4 && memcmp(s, "set[", 4) == 0) || (n > 7 && memcmp(s, "vector[", 7) == 0)) {
        size_t o = s[0] == 's' ? 4 : 7;
        col->set = 1;
        s += o;
        n -= o + 1;
    }
    col->str = !is_number_type(s, n);
}

static int starts(const char *s, size_t n, const char *w)
{
    size_t k = strlen(w);
    return n >= k && memcmp(s, w, k) == 0;
}

/* Why a header line is rejected (reported at it), and why each row under it is malformed. */
static const char SEP_BAD[] = "#separator: not one byte (a byte or \\xHH)",
                  SEP_ROW[] = "a row under a #separator line that was rejected",
                  SETSEP_BAD[] = "#set_separator: not one byte (a byte or \\xHH)",
                  SETSEP_ROW[] = "a row under a #set_separator line that was rejected",
                  FIELDS_NONE[] = "#fields: no column names separated by the #separator byte",
                  FIELDS_EMPTY[] = "#fields: an empty column name",
                  FIELDS_MANY[] = "#fields: more than 1024 columns",
                  FIELDS_ROW[] = "a row under a #fields line that was rejected",
                  TYPES_BAD[] = "#types: not one type for each #fields column",
                  TYPES_ROW[] = "a row under a #types line that was rejected";
_Static_assert(MTSV_COLS == 1024, "FIELDS_MANY names MTSV_COLS");

/* The #fields line s[0..n) (at = 1: its value starts at s[8]): the columns, or the reason it is
 * rejected. */
static const char *fields_line(mtsv *t, const mfmap *map, const char *s, size_t n, int at)
{
    hdr_ctx c = {t, map, 0, 0};
    const char *err = NULL;
    t->ncols = 0;
    if (!at)
        err = FIELDS_NONE;
    else
        each_item(s + 8, n - 8, t->sep, on_field_name, &c);
    if (!err && c.n > MTSV_COLS)
        err = FIELDS_MANY;
    else if (!err && c.empty_name)
        err = FIELDS_EMPTY;
    t->active = 1;
    t->bad = t->sep_bad ? t->sep_bad : err ? FIELDS_ROW : NULL;
    return t->sep_bad ? NULL : err; /* under a rejected separator: said there */
}

int mtsv_header(mtsv *t, const mfmap *map, const char *s, size_t n, const char **why)
{
    hdr_ctx c = {t, map, 0, 0};
    const char *err = NULL;
    char sep[8];
    size_t k;
    int rc = 1;
#define VALUE_AT(w) (starts(s, n, w) && n > strlen(w) && s[strlen(w)] == t->sep)
    if (starts(s, n, "#separator")) {
        mtsv_reset(t);
        k = n > 11 ? header_value(s + 11, n - 11, sep, sizeof sep) : 0;
        if (k == 1) {
            t->sep = sep[0];
        } else {
            err = SEP_BAD;
            t->sep_bad = SEP_ROW;
        }
    } else if (starts(s, n, "#close")) {
        t->active = 0;
        t->bad = NULL;
    } else if (VALUE_AT("#set_separator")) {
        k = header_value(s + 15, n - 15, sep, sizeof sep);
        if (k == 1) {
            t->set_sep = sep[0];
        } else if (!t->sep_bad) {
            err = SETSEP_BAD;
            t->sep_bad = SETSEP_ROW;
            t->bad = t->active ? SETSEP_ROW : t->bad;
        }
    } else if (VALUE_AT("#empty_field")) {
        t->empty_len = (uint8_t)header_value(s + 13, n - 13, t->empty, sizeof t->empty);
    } else if (VALUE_AT("#unset_field")) {
        t->unset_len = (uint8_t)header_value(s + 13, n - 13, t->unset, sizeof t->unset);
    } else if (starts(s, n, "#fields")) {
        err = fields_line(t, map, s, n, VALUE_AT("#fields"));
    } else if (starts(s, n, "#types") && t->active) {
        if (VALUE_AT("#types"))
            each_item(s + 7, n - 7, t->sep, on_type, &c);
        if (!t->bad && c.n != t->ncols) {
            err = TYPES_BAD;
            t->bad = TYPES_ROW;
        }
    } else {
        rc = 0;
    }
#undef VALUE_AT
    if (why)
        *why = err;
    return rc;
}

static int same(const char *a, size_t an, const char *b, size_t bn)
{
    return an == bn && memcmp(a, b, an) == 0;
}

/* One value of column col: 0, or -1 with *why set. */
static int put_value(const mtsv *t, const mtsv_col *col, const char *v, size_t n, mfield *out,
                     size_t *nout, size_t max, mscratch *sc, const char **why)
{
    char *o;
    if (*nout >= max || same(v, n, t->unset, t->unset_len) || same(v, n, t->empty, t->empty_len))
        return 0;
    if (memchr(v, '\\', n)) {
        if (!(o = ajson_arena_alloc(sc, n + 1))) {
            *why = "out of memory";
            return -1;
        }
        n = unescape_x(v, n, o);
        v = o;
    }
    out[(*nout)++] = (mfield){v, (uint32_t)n, col->role, col->field, col->str};
    return 0;
}

int mtsv_extract(const mtsv *t, const char *line, size_t len, mfield *out, size_t max, mscratch *sc,
                 const char **why, size_t *off)
{
    size_t i = 0, col = 0, n = 0;
    if (t->bad) {
        *why = t->bad;
        *off = 0;
        return -1;
    }
    for (;; col++) {
        const char *e = memchr(line + i, t->sep, len - i);
        size_t vl = e ? (size_t)(e - (line + i)) : len - i;
        if (col >= t->ncols) {
            *why = "more columns than the #fields header names";
            *off = i;
            return -1;
        }
        const mtsv_col *c = &t->cols[col];
        if (c->role && !c->set && put_value(t, c, line + i, vl, out, &n, max, sc, why) < 0) {
            *off = i;
            return -1;
        }
        if (c->role && c->set && !same(line + i, vl, t->unset, t->unset_len)) {
            const char *v = line + i, *end = line + i + vl;
            while (v <= end) {
                const char *se = memchr(v, t->set_sep, (size_t)(end - v));
                size_t el = se ? (size_t)(se - v) : (size_t)(end - v);
                if (el && put_value(t, c, v, el, out, &n, max, sc, why) < 0) {
                    *off = (size_t)(v - line);
                    return -1;
                }
                if (!se)
                    break;
                v = se + 1;
            }
        }
        if (!e)
            break;
        i += vl + 1;
    }
    if (col + 1 != t->ncols) {
        *why = "fewer columns than the #fields header names";
        *off = len;
        return -1;
    }
    return (int)n;
}
