/*
 * jcs.h - RFC 8785 canonical JSON of an already parsed tree (the contract; src/jcs.c explains).
 *
 * The signing code canonicalises objects it has parsed and edited (an object without its
 * signature extension), so the serialiser works on an ajson_value tree; accord_jcs() in
 * accord_trust.h is the parse-then-serialise convenience for text.
 */
#ifndef ACCORD_JCS_H
#define ACCORD_JCS_H

#include "accord.h"
#include "util/buf.h"
#include "util/json.h"

/*
 * Appends the canonical form of v to out.  Returns 0, ACCORD_EJSON for a number that cannot be
 * canonicalised (overflow, integer literal beyond 2^53: *bad is then that value), ACCORD_ENOMEM
 * when out fails (its cap or memory).  Messages are the caller's to write from *bad.
 */
int jcs_write(buf *out, const ajson_value *v, const ajson_value **bad);

/*
 * A member value whose place jcs_write_watch reports (matched by address, so a value the caller
 * put in the tree): where the value's bytes start and end in out, and the byte range [cut_start,
 * cut_end) whose removal leaves the canonical form of the tree without that member (its key, its
 * value and one separating comma; for the only member of an object, {} remains).
 */
typedef struct jcs_watch {
    const ajson_value *value;
    int found, alone;
    size_t value_start, value_end, cut_start, cut_end;
} jcs_watch;

/* jcs_write, filling w[0..nw) for the watched member values it writes. */
int jcs_write_watch(buf *out, const ajson_value *v, jcs_watch *w, size_t nw,
                    const ajson_value **bad);

/*
 * 1 when text[0..len) is byte for byte what jcs_write would write for v (the tree ajson_parse
 * made of it, or one with the same values), filling w[0..nw) with positions in text as
 * jcs_write_watch would; 0 when it is not, or when telling would cost as much as writing (members
 * out of order, strings that need escapes, numbers other than short integers): the caller then
 * writes the form with jcs_write.  Text that accord wrote is canonical, so what accord nodes send
 * each other is checked here instead of being written again.
 */
int jcs_is_canonical(const char *text, size_t len, const ajson_value *v, jcs_watch *w, size_t nw);

/*
 * jcs_is_canonical for a tree v that ajson_parse made of text[0..len) itself, of a larger text
 * in which text[0..len) are the bytes of v (an object of a page parsed whole), or of a text
 * that ajson_minify turned into text[0..len) (minifying leaves every value at the same offset,
 * with the same bytes, until the first whitespace it removed): jcs_is_canonical's answers and
 * positions, and more: an object or array the parser marked canonical (jcs_parsed_canonical)
 * whose text is len bytes long is canonical whatever it holds (escapes, any number), told and
 * its watches placed from the tree alone, without reading the text; otherwise a string value
 * found where the parser found it (offsets counted from v's) is judged from its place and length
 * in the text, without reading its bytes.  Never for a tree of some other text with the same
 * values, nor for a tree edited since it was parsed: that is jcs_is_canonical's.
 */
int jcs_is_canonical_parsed(const char *text, size_t len, const ajson_value *v, jcs_watch *w,
                            size_t nw);

/*
 * 1 when the text ajson_parse made v of is, over v's own bytes, exactly what jcs_write writes for
 * v; 0 when it is not, or when jcs_write refuses v.  Read from the flags the parser left on the
 * tree (AJSON_CANON), and for numbers with a fraction or an exponent from their text; so for a
 * tree as ajson_parse returned it only, never one edited or built since.  jcs_is_canonical_parsed
 * answers from it for an object or array whose text it is given, without reading the text.
 */
int jcs_parsed_canonical(const ajson_value *v);

/* Appends the RFC 8785 form of the UTF-8 string s[0..len), quotes included. */
int jcs_write_str(buf *out, const char *s, size_t len);

/* 1 when the NUMBER text is an integer literal (no '.', 'e', 'E') of magnitude above 2^53. */
int jcs_integer_too_big(const char *num, size_t len);

#endif
