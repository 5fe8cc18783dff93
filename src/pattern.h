/*
 * pattern.h - what the files of the STIX patterning engine share (pattern_*.c).
 *
 * The engine has four parts, one file each:
 *   pattern_lex.c    bytes -> tokens (STIX 2.1 and 2.0 lexical grammar)
 *   pattern_parse.c  tokens -> tree (recursive descent), semantic MUST checks, literal decoding;
 *                    the tree *is* the compiled form: every literal is decoded, every regular
 *                    expression compiled, every CIDR parsed, once
 *   pattern_eval.c   the tree against observations: comparison expressions against one SCO,
 *                    observation expressions (AND, OR, FOLLOWEDBY, qualifiers) against a list of
 *                    timed observations; the observation loader (observed-data JSON -> pattern_obs)
 *   pattern_index.c  many patterns at once: the (type, property, constant) index and the
 *                    per-thread matcher with bounded temporal state
 *
 * Memory: a compiled pattern lives in one pattern_mem owned by its accord_pattern; nothing in the
 * tree is freed on its own (the PCRE2 codes are listed in the pattern and freed with it).
 *
 * Times are ts_value (seconds + nanoseconds), so timestamps of any year 0000-9999 compare exactly.
 */
#ifndef ACCORD_PATTERN_INT_H
#define ACCORD_PATTERN_INT_H

#include "accord.h"
#include "util/json.h"
#include "util/timestamp.h"

#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------------------------------ */
/* Tokens                                                                                       */

#define PATTERN_TOKENS(XX)                                                                         \
    XX(EOF, "end of pattern")                                                                      \
    XX(LBRACK, "'['")                                                                              \
    XX(RBRACK, "']'")                                                                              \
    XX(LPAREN, "'('")                                                                              \
    XX(RPAREN, "')'")                                                                              \
    XX(COLON, "':'")                                                                               \
    XX(DOT, "'.'")                                                                                 \
    XX(COMMA, "','")                                                                               \
    XX(STAR, "'*'")                                                                                \
    XX(EQ, "'='")                                                                                  \
    XX(NEQ, "'!='")                                                                                \
    XX(LT, "'<'")                                                                                  \
    XX(LE, "'<='")                                                                                 \
    XX(GT, "'>'")                                                                                  \
    XX(GE, "'>='")                                                                                 \
    XX(AND, "AND")                                                                                 \
    XX(OR, "OR")                                                                                   \
    XX(NOT, "NOT")                                                                                 \
    XX(FOLLOWEDBY, "FOLLOWEDBY")                                                                   \
    XX(LIKE, "LIKE")                                                                               \
    XX(MATCHES, "MATCHES")                                                                         \
    XX(ISSUBSET, "ISSUBSET")                                                                       \
    XX(ISSUPERSET, "ISSUPERSET")                                                                   \
    XX(EXISTS, "EXISTS")                                                                           \
    XX(IN, "IN")                                                                                   \
    XX(START, "START")                                                                             \
    XX(STOP, "STOP")                                                                               \
    XX(WITHIN, "WITHIN")                                                                           \
    XX(SECONDS, "SECONDS")                                                                         \
    XX(REPEATS, "REPEATS")                                                                         \
    XX(TIMES, "TIMES")                                                                             \
    XX(LAST, "LAST")                                                                               \
    XX(TRUE, "true")                                                                               \
    XX(FALSE, "false")                                                                             \
    XX(IDENT, "identifier")                                                                        \
    XX(IDENT_HYPHEN, "identifier")                                                                 \
    XX(INT, "integer")                                                                             \
    XX(FLOAT, "float")                                                                             \
    XX(STRING, "string")                                                                           \
    XX(BINARY, "binary literal")                                                                   \
    XX(HEX, "hex literal")                                                                         \
    XX(TIMESTAMP, "timestamp literal")                                                             \
    XX(INVALID, "invalid input")

typedef enum pattern_tok_kind {
#define PATTERN_XX_(name, text) PT_##name,
    PATTERN_TOKENS(PATTERN_XX_)
#undef PATTERN_XX_
} pattern_tok_kind;

typedef struct pattern_token {
    pattern_tok_kind kind;
    size_t off, len; /* the token's bytes in the source */
    const char *why; /* PT_INVALID: what is wrong ("unterminated string", ...) */
} pattern_token;

typedef struct pattern_lexer {
    const char *src;
    size_t len, pos;
    int v20; /* STIX 2.0 lexical rules: case-insensitive keywords, signed integers */
} pattern_lexer;

void pattern_lex_init(pattern_lexer *lx, const char *src, size_t len, int v20);
/* The next token (PT_EOF at the end, forever); PT_INVALID with tok->why on bad input. */
void pattern_lex_next(pattern_lexer *lx, pattern_token *tok);
/* How a token kind reads in messages ("']'", "end of pattern"). */
const char *pattern_tok_name(pattern_tok_kind k);
/*
 * Decodes the UTF-8 sequence at s[*i] (i < len), advancing *i; returns the code point, or -1 for
 * an invalid sequence (overlong, surrogate, past U+10FFFF, truncated).
 */
int32_t pattern_utf8_next(const unsigned char *s, size_t len, size_t *i);

/* ------------------------------------------------------------------------------------------ */
/* The compiled tree                                                                            */

typedef enum pattern_lit_kind {
    PL_INT = 1,
    PL_FLOAT,
    PL_STRING,
    PL_BOOL,
    PL_BINARY, /* b'' and h'': decoded bytes */
    PL_TIMESTAMP,
} pattern_lit_kind;

typedef struct pattern_lit {
    pattern_lit_kind kind;
    int64_t i;       /* INT; BOOL (0/1) */
    double f;        /* FLOAT; INT too (as a double) */
    const char *s;   /* STRING: unescaped UTF-8, NUL-terminated; BINARY: the bytes */
    size_t len;      /* bytes of s */
    const unsigned char *latin1; /* STRING: its code points as bytes when all are <= U+00FF */
    size_t latin1_len;
    ts_value ts;     /* TIMESTAMP */
} pattern_lit;

typedef enum pattern_step_kind { PS_KEY = 1, PS_INDEX, PS_STAR } pattern_step_kind;

typedef struct pattern_step {
    pattern_step_kind kind;
    const char *key; /* KEY: the property or dictionary key, NUL-terminated */
    size_t key_len;
    int64_t index; /* INDEX */
    int ref;       /* KEY: the name ends in _ref or _refs, so a further step dereferences */
} pattern_step;

typedef enum pattern_op {
    PO_EQ = 1,
    PO_NEQ,
    PO_LT,
    PO_LE,
    PO_GT,
    PO_GE,
    PO_IN,
    PO_LIKE,
    PO_MATCHES,
    PO_ISSUBSET,
    PO_ISSUPERSET,
    PO_EXISTS,
} pattern_op;

typedef struct pattern_net {
    int family; /* 4 or 6 */
    unsigned char addr[16];
    int prefix; /* bits */
} pattern_net;

typedef struct pattern_cmp {
    pattern_op op;
    int negated;      /* NOT before the operator (or before EXISTS) */
    const char *type; /* the object type, NUL-terminated */
    pattern_step *steps;
    size_t nsteps;
    int binary;       /* the last key ends in _bin (1) or _hex (2): values are bytes */
    pattern_lit *lits; /* one literal, or the members of an IN set */
    size_t nlits;
    void *re;         /* MATCHES: the pcre2_code */
    pattern_net net;  /* ISSUBSET / ISSUPERSET */
    size_t off;       /* byte offset of the comparison in the source */
} pattern_cmp;

typedef enum pattern_cexpr_kind { PC_CMP = 1, PC_AND, PC_OR } pattern_cexpr_kind;

typedef struct pattern_cexpr {
    pattern_cexpr_kind kind;
    struct pattern_cexpr *l, *r; /* AND, OR */
    pattern_cmp *cmp;            /* CMP */
} pattern_cexpr;

typedef enum pattern_oexpr_kind {
    PX_LEAF = 1,   /* [ comparison expression ] */
    PX_AND,
    PX_OR,
    PX_FOLLOWEDBY,
    PX_WITHIN,
    PX_REPEATS,
    PX_STARTSTOP,
} pattern_oexpr_kind;

typedef struct pattern_oexpr {
    pattern_oexpr_kind kind;
    struct pattern_oexpr *l, *r; /* operands; qualifiers use l */
    pattern_cexpr *leaf;         /* LEAF */
    uint32_t leaf_id;            /* LEAF: 0..nleaves-1 in source order */
    ts_value within;             /* WITHIN: the duration (sec, nsec) */
    uint32_t repeats;            /* REPEATS */
    ts_value start, stop;        /* STARTSTOP */
} pattern_oexpr;

#define PATTERN_MAX_LEAVES 64 /* observation expressions in one pattern */
#define PATTERN_MAX_DEPTH 64  /* nesting of parentheses and brackets */
#define PATTERN_MAX_LEN (1u << 20)

/* A bump allocator sized for one pattern: blocks that double, freed together. */
typedef struct pattern_mem {
    struct pattern_block *head;
    size_t next; /* size of the next block */
} pattern_mem;

struct accord_pattern {
    pattern_mem mem;    /* every node, string and literal */
    pattern_oexpr *root;
    pattern_oexpr *leaves[PATTERN_MAX_LEAVES];
    uint32_t nleaves;
    int v20;
    int simple;         /* the root is a leaf: matching is per observation */
    void **codes;       /* the pcre2 codes, freed with the pattern */
    size_t ncodes, codes_cap;
    char *text;         /* the source, NUL-terminated */
    size_t text_len;
};

/*
 * Parses and compiles src[0..len) into p (initialised by the caller: zeroed, arena ready).
 * 0, or ACCORD_EINVAL with "offset N: ..." in err; ACCORD_ENOMEM; ACCORD_ELIMIT.
 */
int pattern_parse(accord_pattern *p, const char *src, size_t len, accord_error *err);

/* ------------------------------------------------------------------------------------------ */
/* Observations and evaluation                                                                  */

/* One observation: an observed-data object and the objects it observed. */
typedef struct pattern_obs {
    const char *id;      /* the observed-data id, or "" */
    ts_value first, last;
    uint64_t count;      /* number_observed (>= 1) */
    const ajson_value **objs; /* the observed objects */
    const char **keys;   /* for each object: its id (2.1 object_refs) or its "objects" key */
    const char **types;  /* for each object: its "type", or "" */
    uint32_t nobjs;
    int v20;             /* "objects" keys are local references (2.0 and deprecated 2.1 form) */
} pattern_obs;

/* Per-thread evaluation scratch: buffers reused across observations. */
typedef struct pattern_scratch {
    unsigned char *buf; /* NFC text, Latin-1 text as UTF-8 */
    size_t cap;
    unsigned char *bin; /* decoded binary values */
    size_t bincap;
    void *md;           /* pcre2_match_data */
    void *mctx;         /* pcre2_match_context (match limits) */
    char msg[256];      /* the last evaluation error */
} pattern_scratch;

int pattern_scratch_init(pattern_scratch *s);
void pattern_scratch_free(pattern_scratch *s);

/*
 * Evaluates a comparison expression against one observation: 1 when some object of it satisfies
 * every comparison bound to it, 0 when none does, ACCORD_EINVAL on an evaluation error (message
 * in s->msg).  Allocates nothing once the scratch buffer is large enough.
 */
int pattern_eval_leaf(const pattern_cexpr *e, const pattern_obs *o, pattern_scratch *s);

/* A timed observation as the binding search sees it. */
typedef struct pattern_tobs {
    ts_value first, last;
    uint64_t count;
} pattern_tobs;

/* The binding search's limits: past them it gives ACCORD_ELIMIT rather than run away. */
#define PATTERN_MAX_BINDINGS 65536 /* candidate bindings held per expression */
#define PATTERN_MAX_BINDING_OBS 64 /* observations in one binding */

/*
 * Finds a binding of p over observations obs[0..n): which observations match which leaf is given
 * by leafmatch(ud, leaf_id, i).  When must >= 0 only bindings that use observation `must` count.
 * Returns 1 with the binding's observation indices in out[0..*nout) (out may be NULL), 0 when
 * there is none, ACCORD_ELIMIT, ACCORD_ENOMEM.  Working memory comes from arena a (reset here).
 */
int pattern_bind(const accord_pattern *p, const pattern_tobs *obs, size_t n,
                 int (*leafmatch)(void *ud, uint32_t leaf, size_t i), void *ud, long must,
                 ajson_arena *a, uint32_t *out, size_t *nout);

/*
 * Fills o from the observed-data object od.  lookup(ud, id) resolves 2.1 object_refs to objects
 * (NULL when unknown).  objs/keys storage comes from arena a.  0, or ACCORD_EINVAL with a message
 * in msg when od is not a usable observed-data object.
 */
int pattern_obs_load(pattern_obs *o, const ajson_value *od,
                     const ajson_value *(*lookup)(void *ud, const char *id), void *ud,
                     ajson_arena *a, char *msg, size_t msglen);

/* Receives each observation a document holds; 0 to go on, or an error code to stop. */
typedef int (*pattern_emit_cb)(void *ud, pattern_obs *o);
/*
 * Reads the observations of a parsed JSON document (bundle, array of objects, or one
 * observed-data object with "objects"), allocating from arena a, and emits each.  0, the first
 * error of pattern_obs_load (message in msg), or what emit returned.
 */
int pattern_doc_load(ajson_arena *a, const ajson_value *root, pattern_emit_cb emit, void *ud,
                     char *msg, size_t msglen);

/* Walks the values an object path reaches in object `obj` of observation o. */
typedef int (*pattern_value_cb)(void *ud, const ajson_value *v);
int pattern_path_walk(const pattern_cmp *c, const ajson_value *obj, const pattern_obs *o,
                      pattern_value_cb cb, void *ud);

/*
 * LIKE as the evaluator applies it (rule 4 of pattern_eval.c): 1 when text v[0..vn) matches
 * pattern p[0..pn), anchored, '%' any run of code points and '_' exactly one (an invalid UTF-8
 * byte counts as one), no escape character; both already in NFC.  0 otherwise.
 */
int pattern_like(const char *v, size_t vn, const char *p, size_t pn);
/*
 * The NFC form of str[0..n): str itself when it is ASCII, else written to *buf (grown with
 * realloc, capacity *cap; the caller frees it); its length in *outlen.  NULL when str is not
 * valid UTF-8 or memory runs out.
 */
const char *pattern_nfc(const char *str, size_t n, unsigned char **buf, size_t *cap,
                        size_t *outlen);

/*
 * Moves the temporal state (the rings of each leaf) of patterns from matcher `from` into `to`,
 * a matcher over another set that has fed nothing: map[i], for each pattern i of to's set, is
 * the pattern of from's set it continues, or -1; a pair whose texts differ is skipped.  Returns
 * the number of patterns carried, or ACCORD_EINVAL when `to` has fed observations.
 */
long pattern_matcher_carry(accord_pattern_matcher *to, const accord_pattern_matcher *from,
                           const long *map);

/*
 * Hits of the leaves of multi-observation patterns reported instead of combined: with a
 * callback set, matcher m keeps no rings and searches no bindings for those patterns; for each
 * observation that matches leaves of such a pattern it calls cb once with the pattern's tag and
 * number, the leaves matched (bit i = leaf i) and the observation's times.  Single-observation
 * patterns are reported as before.  cb NULL turns it off.  0 or ACCORD_ENOMEM.
 */
typedef void (*pattern_leaf_cb)(void *ud, uint64_t tag, size_t pat, uint64_t leaves,
                                 const pattern_tobs *t);
int pattern_matcher_leaves(accord_pattern_matcher *m, pattern_leaf_cb cb, void *ud);

/*
 * The temporal state of one pattern fed with leaf hits (pattern_matcher_leaves) in the order a
 * single matcher would have seen their observations: pattern_history_add records that an
 * observation with times t matched the leaves in `leaves` and returns 1 when it completes a
 * binding (as a matcher reports a hit), 0 when not, ACCORD_ELIMIT or ACCORD_ENOMEM.  p is
 * borrowed and must outlive h.
 */
typedef struct pattern_history pattern_history;
int pattern_history_new(const accord_pattern *p, pattern_history **out);
void pattern_history_free(pattern_history *h);
int pattern_history_add(pattern_history *h, uint64_t leaves, const pattern_tobs *t);

/* Pattern i of a set (its text and grammar: accord_pattern.text, .v20) and its tag, or NULL
 * past the end. */
const accord_pattern *pattern_set_at(const accord_pattern_set *set, size_t i, uint64_t *tag);

/* Parses an IPv4/IPv6 address or CIDR; 0, or -1. */
int pattern_net_parse(const char *s, size_t len, pattern_net *out);

#endif
