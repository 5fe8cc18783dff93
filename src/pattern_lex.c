/*
 * pattern_lex.c - the lexer of the STIX patterning language (STIX 2.1 section 9, STIXPattern.g4;
 * and the STIX 2.0 grammar).
 *
 * It turns the source into tokens on demand (pattern_lex_next), skipping white space (the ASCII
 * set and the Unicode spaces the grammar lists), block comments and line comments.  A token is a
 * kind and a byte span; nothing is copied or decoded here.  Literals are only delimited: the
 * parser decodes string escapes, checks timestamps, base64 and hex digits, so that it can report
 * what is wrong at the literal's offset.
 *
 * Differences between the grammars handled here: STIX 2.0 keywords are case-insensitive
 * ("and", "Within"); STIX 2.1 keywords are upper case and `true`/`false` lower case.  Both
 * grammars lex `+5` and `-5` as one signed number token.
 *
 * Invariants: the lexer never reads past src[len); after the end it returns PT_EOF forever; the
 * span of every token lies inside the source.  It does not allocate.
 */
#include "pattern.h"

#include <string.h>
#include <strings.h>

static const char *const tok_names[] = {
#define PATTERN_XX_(name, text) text,
    PATTERN_TOKENS(PATTERN_XX_)
#undef PATTERN_XX_
};

const char *pattern_tok_name(pattern_tok_kind k)
{
    return (size_t)k < sizeof tok_names / sizeof tok_names[0] ? tok_names[k] : "token";
}

void pattern_lex_init(pattern_lexer *lx, const char *src, size_t len, int v20)
{
    lx->src = src;
    lx->len = len;
    lx->pos = 0;
    lx->v20 = v20;
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int is_ident_start(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_ident(int c)
{
    return is_ident_start(c) || is_digit(c);
}

/* Bytes of the Unicode white space at s (one of the grammar's WS set), or 0. */
static size_t unicode_space(const unsigned char *s, size_t left)
{
    if (left >= 2 && s[0] == 0xC2 && (s[1] == 0x85 || s[1] == 0xA0))
        return 2;
    if (left < 3)
        return 0;
    if (s[0] == 0xE1 && s[1] == 0x9A && s[2] == 0x80)
        return 3;
    if (s[0] == 0xE2 && s[1] == 0x80 &&
        (s[2] <= 0x8A || s[2] == 0xA8 || s[2] == 0xA9 || s[2] == 0xAF) && s[2] >= 0x80)
        return 3;
    if (s[0] == 0xE2 && s[1] == 0x81 && s[2] == 0x9F)
        return 3;
    if (s[0] == 0xE3 && s[1] == 0x80 && s[2] == 0x80)
        return 3;
    return 0;
}

/* Skips white space and comments; 0, or -1 at an unterminated block comment. */
static int skip_space(pattern_lexer *lx)
{
    const unsigned char *s = (const unsigned char *)lx->src;
    for (;;) {
        size_t n, left = lx->len - lx->pos;
        if (left == 0)
            return 0;
        unsigned char c = s[lx->pos];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f') {
            lx->pos++;
        } else if ((n = unicode_space(s + lx->pos, left)) > 0) {
            lx->pos += n;
        } else if (c == '/' && left >= 2 && s[lx->pos + 1] == '/') {
            while (lx->pos < lx->len && s[lx->pos] != '\n' && s[lx->pos] != '\r')
                lx->pos++;
        } else if (c == '/' && left >= 2 && s[lx->pos + 1] == '*') {
            const char *end = NULL;
            for (size_t i = lx->pos + 2; i + 1 < lx->len; i++)
                if (s[i] == '*' && s[i + 1] == '/') {
                    end = lx->src + i;
                    break;
                }
            if (!end)
                return -1;
            lx->pos = (size_t)(end - lx->src) + 2;
        } else {
            return 0;
        }
    }
}

static const struct {
    const char *word;
    pattern_tok_kind kind;
} keywords[] = {
    {"AND", PT_AND},         {"OR", PT_OR},           {"NOT", PT_NOT},
    {"FOLLOWEDBY", PT_FOLLOWEDBY}, {"LIKE", PT_LIKE}, {"MATCHES", PT_MATCHES},
    {"ISSUPERSET", PT_ISSUPERSET}, {"ISSUBSET", PT_ISSUBSET}, {"EXISTS", PT_EXISTS},
    {"LAST", PT_LAST},       {"IN", PT_IN},           {"START", PT_START},
    {"STOP", PT_STOP},       {"SECONDS", PT_SECONDS}, {"WITHIN", PT_WITHIN},
    {"REPEATS", PT_REPEATS}, {"TIMES", PT_TIMES},     {"true", PT_TRUE},
    {"false", PT_FALSE},
};

/* The keyword kind of an identifier, or PT_IDENT. */
static pattern_tok_kind keyword(const char *s, size_t len, int v20)
{
    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++) {
        const char *w = keywords[i].word;
        if (strlen(w) != len)
            continue;
        if (v20 ? strncasecmp(w, s, len) == 0 : memcmp(w, s, len) == 0)
            return v20 && keywords[i].kind == PT_EXISTS ? PT_IDENT : keywords[i].kind;
    }
    return PT_IDENT;
}

/* A quoted literal's span from the opening quote at q; sets why on error. */
static void lex_quoted(pattern_lexer *lx, size_t q, int escapes, pattern_token *tok)
{
    size_t i = q + 1;
    while (i < lx->len && lx->src[i] != '\'') {
        if (escapes && lx->src[i] == '\\') {
            if (i + 1 >= lx->len || (lx->src[i + 1] != '\\' && lx->src[i + 1] != '\'')) {
                tok->kind = PT_INVALID;
                tok->off = i;
                tok->len = 1;
                tok->why = "invalid escape in string (only \\\\ and \\' are allowed)";
                lx->pos = lx->len;
                return;
            }
            i++;
        }
        i++;
    }
    if (i >= lx->len) {
        tok->kind = PT_INVALID;
        tok->why = "unterminated literal";
        tok->len = lx->len - tok->off;
        lx->pos = lx->len;
        return;
    }
    lx->pos = i + 1;
    tok->len = lx->pos - tok->off;
}

/* A number (optionally signed) starting at lx->pos. */
static void lex_number(pattern_lexer *lx, pattern_token *tok)
{
    const char *s = lx->src;
    size_t i = lx->pos, ds;
    if (s[i] == '+' || s[i] == '-')
        i++;
    ds = i;
    while (i < lx->len && is_digit(s[i]))
        i++;
    tok->kind = PT_INT;
    if (i + 1 < lx->len && s[i] == '.' && is_digit(s[i + 1])) {
        tok->kind = PT_FLOAT;
        i++;
        while (i < lx->len && is_digit(s[i]))
            i++;
    } else if (i - ds > 1 && s[ds] == '0') {
        tok->kind = PT_INVALID;
        tok->why = "integer with a leading zero";
    }
    lx->pos = i;
    tok->len = i - tok->off;
}

/* An identifier, keyword, or t'', b'', h'' literal at lx->pos. */
static void lex_word(pattern_lexer *lx, pattern_token *tok)
{
    const char *s = lx->src;
    size_t i = lx->pos;
    int hyphen = 0;
    if (i + 1 < lx->len && s[i + 1] == '\'' && (s[i] == 't' || s[i] == 'b' || s[i] == 'h')) {
        tok->kind = s[i] == 't' ? PT_TIMESTAMP : s[i] == 'b' ? PT_BINARY : PT_HEX;
        lex_quoted(lx, i + 1, 0, tok);
        return;
    }
    while (i < lx->len && (is_ident(s[i]) || s[i] == '-')) {
        hyphen |= s[i] == '-';
        i++;
    }
    lx->pos = i;
    tok->len = i - tok->off;
    tok->kind = hyphen ? PT_IDENT_HYPHEN : keyword(s + tok->off, tok->len, lx->v20);
}

/* One- and two-character punctuation; 0 when c starts none. */
static int lex_punct(pattern_lexer *lx, pattern_token *tok)
{
    static const char singles[] = "[]():,*=<>";
    static const pattern_tok_kind kinds[] = {PT_LBRACK, PT_RBRACK, PT_LPAREN, PT_RPAREN,
                                             PT_COLON,  PT_COMMA,  PT_STAR,   PT_EQ,
                                             PT_LT,     PT_GT};
    const char *s = lx->src + lx->pos;
    size_t left = lx->len - lx->pos;
    char two0 = s[0], two1 = left > 1 ? s[1] : '\0';
    const char *hit;
    if ((two0 == '=' && two1 == '=') || (two0 == '!' && two1 == '=') ||
        (two0 == '<' && (two1 == '>' || two1 == '=')) || (two0 == '>' && two1 == '=')) {
        tok->kind = two0 == '=' ? PT_EQ : two0 == '!' || two1 == '>' ? PT_NEQ
                                      : two0 == '<'                  ? PT_LE
                                                                     : PT_GE;
        tok->len = 2;
    } else if (two0 != '\0' && (hit = strchr(singles, two0)) != NULL) {
        tok->kind = kinds[hit - singles];
        tok->len = 1;
    } else if (two0 == '.') {
        tok->kind = PT_DOT;
        tok->len = 1;
    } else {
        return 0;
    }
    lx->pos += tok->len;
    return 1;
}

void pattern_lex_next(pattern_lexer *lx, pattern_token *tok)
{
    const char *s = lx->src;
    tok->why = NULL;
    if (skip_space(lx) < 0) {
        tok->kind = PT_INVALID;
        tok->off = lx->pos;
        tok->len = lx->len - lx->pos;
        tok->why = "unterminated comment";
        lx->pos = lx->len;
        return;
    }
    tok->off = lx->pos;
    tok->len = 0;
    if (lx->pos >= lx->len) {
        tok->kind = PT_EOF;
        return;
    }
    char c = s[lx->pos];
    char n1 = lx->pos + 1 < lx->len ? s[lx->pos + 1] : '\0';
    char n2 = lx->pos + 2 < lx->len ? s[lx->pos + 2] : '\0';
    if (is_digit(c) || ((c == '+' || c == '-') && (is_digit(n1) || (n1 == '.' && is_digit(n2)))) ||
        (c == '.' && is_digit(n1))) {
        lex_number(lx, tok);
    } else if (is_ident_start(c)) {
        lex_word(lx, tok);
    } else if (c == '\'') {
        tok->kind = PT_STRING;
        lex_quoted(lx, lx->pos, 1, tok);
    } else if (!lex_punct(lx, tok)) {
        tok->kind = PT_INVALID;
        tok->len = 1;
        tok->why = "unexpected character";
        lx->pos++;
    }
}

int32_t pattern_utf8_next(const unsigned char *s, size_t len, size_t *i)
{
    size_t p = *i, n;
    int32_t cp, min;
    unsigned char c = s[p];
    if (c < 0x80) {
        *i = p + 1;
        return c;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        n = 1, cp = c & 0x1F, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 2, cp = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 3, cp = c & 0x07, min = 0x10000;
    } else {
        return -1;
    }
    if (len - p <= n)
        return -1;
    for (size_t k = 1; k <= n; k++) {
        if ((s[p + k] & 0xC0) != 0x80)
            return -1;
        cp = (cp << 6) | (s[p + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return -1;
    *i = p + n + 1;
    return cp;
}
