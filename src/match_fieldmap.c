/*
 * match_fieldmap.c - field maps from configuration: which keys of other JSON lines hold
 * addresses, names, URLs, digests and times (the syntax is in accord_match.h).
 *
 * A configured map is a deep copy of the built-in map (match_input.c) with the configured
 * entries applied on top, so the extractor reads it exactly as it reads the built-in one and
 * Zeek and Suricata lines keep working beside the configured format.  Every node, key array and
 * key string of the copy is owned by the map; the field names of the built-in map are shared
 * (static), the configured ones owned.  Applying an entry walks its path from the root, adding a
 * key (with an empty sub-node) for every level that is missing, and sets the role and field name
 * of the last key; role `none` clears the role, so the key is read past like any unknown key.
 *
 * Invariants: the map is a tree (every node reached by one key); the nodes' slot tables are
 * filled once, after the last entry; field numbers stay below MFIELD_NAMED.  The parser never
 * reads past text[len) and takes NUL bytes as errors, so any byte string is safe to give it
 * (fuzz/match_fieldmap.c).  An entry whose path was already set earlier in the same text is an
 * error naming both lines; overriding a built-in key is the point and is not.
 */
#include "match.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FM_ENTRIES 4096
#define FM_DEPTH 16
#define FM_LINE 4096
#define FM_NODE_KEYS 1024

struct accord_field_map {
    mfmap map;
    size_t builtin_names; /* names[0..builtin_names) are the built-in map's (static) */
    size_t names_cap;
};

/* An entry set by the text: its last key (node, index) and line, for duplicate paths. */
typedef struct fm_set {
    const mfmap_node *node;
    size_t key;
    unsigned line;
} fm_set;

typedef struct fm_parse {
    accord_field_map *fm;
    const char *source;
    unsigned line;
    fm_set *set;
    size_t nset;
    accord_error *err;
} fm_parse;

static const struct {
    const char *name;
    mrole role;
} roles[] = {
    {"time", MR_TIME},       {"src-ip", MR_SRC_IP},     {"dst-ip", MR_DST_IP},
    {"src-port", MR_SRC_PORT}, {"dst-port", MR_DST_PORT}, {"proto", MR_PROTO},
    {"ip", MR_IP},           {"domain", MR_NAME},       {"host", MR_HOST},
    {"uri", MR_URI},         {"url", MR_URL},           {"email", MR_EMAIL},
    {"md5", MR_MD5},         {"sha1", MR_SHA1},         {"sha256", MR_SHA256},
    {"sha512", MR_SHA512},   {"cert-fingerprint", MR_CERT_FP}, {"user-agent", MR_UA},
    {"text", MR_ANY},        {"url-host", MR_URL_HOST}, {"fqdn", MR_FQDN},
    {"none", MR_NONE},
};

/* ------------------------------------------------------------------------------------------ */
/* The tree                                                                                     */

static void node_free(mfmap_node *n)
{
    for (size_t i = 0; i < n->n; i++) {
        free((char *)n->keys[i].key);
        if (n->keys[i].sub) {
            node_free(n->keys[i].sub);
            free(n->keys[i].sub);
        }
    }
    free(n->keys);
    n->keys = NULL;
    n->n = 0;
}

/* Appends key k[0..len) (no role, no sub-node) to n; its index, or -1 (out of memory). */
static long node_add(mfmap_node *n, const char *k, size_t len)
{
    mfmap_key *nk = realloc(n->keys, (n->n + 1) * sizeof *nk);
    char *s = malloc(len + 1);
    if (nk)
        n->keys = nk;
    if (!nk || !s) {
        free(s);
        return -1;
    }
    memcpy(s, k, len);
    s[len] = '\0';
    nk[n->n] = (mfmap_key){s, (uint32_t)len, MR_NONE, 0, NULL, {0, 0}};
    return (long)n->n++;
}

/* Copies the keys of built-in node src into the empty node dst; 0 or -1. */
static int node_copy(mfmap_node *dst, const mfmap_node *src)
{
    for (size_t i = 0; i < src->n; i++) {
        const mfmap_key *k = &src->keys[i];
        long j = node_add(dst, k->key, k->key_len);
        if (j < 0)
            return -1;
        dst->keys[j].role = k->role;
        dst->keys[j].field = k->field;
        if (k->sub) {
            if (!(dst->keys[j].sub = calloc(1, sizeof(mfmap_node))) ||
                node_copy(dst->keys[j].sub, k->sub) != 0)
                return -1;
        }
    }
    return 0;
}

static void node_index_all(mfmap_node *n)
{
    mfmap_node_index(n);
    for (size_t i = 0; i < n->n; i++)
        if (n->keys[i].sub)
            node_index_all(n->keys[i].sub);
}

static long node_lookup(const mfmap_node *n, const char *k, size_t len)
{
    for (size_t i = 0; i < n->n; i++)
        if (n->keys[i].key_len == len && memcmp(n->keys[i].key, k, len) == 0)
            return (long)i;
    return -1;
}

/* The number of field name s (added when new); -1 when out of memory. */
static long name_of(accord_field_map *fm, const char *s)
{
    mfmap *m = &fm->map;
    char *c;
    for (size_t i = 0; i < m->nnames; i++)
        if (strcmp(m->names[i], s) == 0)
            return (long)i;
    if (m->nnames == fm->names_cap) {
        size_t cap = fm->names_cap * 2;
        const char **nv = realloc((void *)m->names, cap * sizeof *nv);
        if (!nv)
            return -1;
        m->names = nv;
        fm->names_cap = cap;
    }
    if (!(c = strdup(s)))
        return -1;
    m->names[m->nnames] = c;
    return (long)m->nnames++;
}

/* ------------------------------------------------------------------------------------------ */
/* Parsing                                                                                      */

static int bad(fm_parse *p, const char *fmt, const char *arg)
{
    char what[300];
    snprintf(what, sizeof what, fmt, arg);
    if (p->err) {
        p->err->code = ACCORD_EINVAL;
        snprintf(p->err->msg, sizeof p->err->msg, "%s:%u: %s", p->source, p->line, what);
    }
    return ACCORD_EINVAL;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* A bare key byte: anything visible but the separators and quotes. */
static int is_bare(unsigned char c)
{
    return c > ' ' && c != '.' && c != '=' && c != '#' && c != '"' && c != 0x7f;
}

/*
 * One key of a path at s[*i..len): bare or quoted, unquoted into key (cap FM_LINE) as *klen.
 * Returns 0 or ACCORD_EINVAL (reported).
 */
static int parse_key(fm_parse *p, const char *s, size_t len, size_t *i, char *key, size_t *klen)
{
    size_t j = *i, n = 0;
    if (j < len && s[j] == '"') {
        for (j++;; j++) {
            if (j >= len)
                return bad(p, "%s", "unterminated quoted key");
            if (s[j] == '"')
                break;
            if ((unsigned char)s[j] < 0x20)
                return bad(p, "%s", "control byte in a quoted key");
            if (s[j] == '\\') {
                if (j + 1 >= len || (s[j + 1] != '"' && s[j + 1] != '\\'))
                    return bad(p, "%s", "only \\\" and \\\\ may follow a backslash in a key");
                j++;
            }
            key[n++] = s[j];
        }
        j++;
    } else {
        while (j < len && is_bare((unsigned char)s[j]))
            key[n++] = s[j++];
        if (n == 0)
            return bad(p, "%s", "expected a key (a word, or a quoted key)");
    }
    *i = j;
    *klen = n;
    return 0;
}

/* The role named s[0..len), or -1. */
static int role_of(const char *s, size_t len)
{
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
        if (strlen(roles[i].name) == len && memcmp(roles[i].name, s, len) == 0)
            return (int)roles[i].role;
    return -1;
}

/* Applies one entry: the key path keys[0..depth) (offsets into kbuf) gets role and name. */
static int apply(fm_parse *p, const char *kbuf, const size_t *koff, const size_t *klen,
                 int depth, int role, const char *name)
{
    mfmap_node *n = &p->fm->map.root;
    long k = -1, f;
    for (int d = 0; d < depth; d++) {
        if (d > 0) {
            if (!n->keys[k].sub && !(n->keys[k].sub = calloc(1, sizeof(mfmap_node))))
                return ACCORD_ENOMEM;
            n = n->keys[k].sub;
        }
        k = node_lookup(n, kbuf + koff[d], klen[d]);
        if (k < 0) {
            if (n->n >= FM_NODE_KEYS)
                return bad(p, "more than %s keys in one object", "1024");
            if ((k = node_add(n, kbuf + koff[d], klen[d])) < 0)
                return ACCORD_ENOMEM;
        }
    }
    for (size_t i = 0; i < p->nset; i++)
        if (p->set[i].node == n && p->set[i].key == (size_t)k) {
            char prev[32];
            snprintf(prev, sizeof prev, "%u", p->set[i].line);
            return bad(p, "this key was mapped already on line %s", prev);
        }
    p->set[p->nset++] = (fm_set){n, (size_t)k, p->line};
    if ((f = role == MR_NONE ? 0 : name_of(p->fm, name)) < 0)
        return ACCORD_ENOMEM;
    n->keys[k].role = (uint16_t)role;
    n->keys[k].field = (uint16_t)f;
    return 0;
}

/* One line s[0..len) (no newline).  0, ACCORD_EINVAL (reported), ACCORD_ENOMEM. */
static int parse_line(fm_parse *p, const char *s, size_t len)
{
    char kbuf[FM_LINE], name[FM_LINE];
    size_t koff[FM_DEPTH], klen[FM_DEPTH], i = 0, used = 0, nlen = 0, r0;
    int depth = 0, role;
    while (i < len && is_blank(s[i]))
        i++;
    if (i == len || s[i] == '#')
        return 0;
    for (;;) {
        if (depth == FM_DEPTH)
            return bad(p, "a path of more than %s keys", "16");
        koff[depth] = used;
        if (parse_key(p, s, len, &i, kbuf + used, &klen[depth]) != 0)
            return ACCORD_EINVAL;
        if (depth)
            name[nlen++] = '.';
        memcpy(name + nlen, kbuf + used, klen[depth]);
        nlen += klen[depth];
        used += klen[depth++];
        if (i < len && s[i] == '.') {
            i++;
            continue;
        }
        break;
    }
    if (memchr(name, '\0', nlen))
        return bad(p, "%s", "NUL byte in a key");
    name[nlen] = '\0';
    while (i < len && is_blank(s[i]))
        i++;
    if (i == len || s[i] != '=')
        return bad(p, "%s", "expected PATH = ROLE");
    i++;
    while (i < len && is_blank(s[i]))
        i++;
    r0 = i;
    while (i < len && !is_blank(s[i]))
        i++;
    role = role_of(s + r0, i - r0);
    while (i < len && is_blank(s[i]))
        i++;
    if (i < len && s[i] != '#')
        return bad(p, "%s", "unexpected text after the role");
    if (role < 0) {
        char word[64];
        size_t n = i - r0 < sizeof word - 1 ? i - r0 : sizeof word - 1;
        while (n && is_blank(s[r0 + n - 1]))
            n--;
        memcpy(word, s + r0, n);
        word[n] = '\0';
        if (memchr(word, '\0', n) || n == 0)
            return bad(p, "%s", "expected a role after '='");
        return bad(p,
                   "unknown role '%s' (one of time, src-ip, dst-ip, src-port, dst-port, proto, "
                   "ip, domain, host, uri, url, email, md5, sha1, sha256, sha512, "
                   "cert-fingerprint, user-agent, text, url-host, fqdn, none)",
                   word);
    }
    if (p->nset == FM_ENTRIES)
        return bad(p, "more than %s entries", "4096");
    return apply(p, kbuf, koff, klen, depth, role, name);
}

static int fm_new(accord_field_map **out)
{
    const mfmap *b = mfmap_builtin();
    accord_field_map *fm = calloc(1, sizeof *fm);
    *out = NULL;
    if (!fm)
        return ACCORD_ENOMEM;
    fm->names_cap = b->nnames + 64;
    fm->map.names = malloc(fm->names_cap * sizeof *fm->map.names);
    if (!fm->map.names || node_copy(&fm->map.root, &b->root) != 0) {
        accord_field_map_free(fm);
        return ACCORD_ENOMEM;
    }
    memcpy((void *)fm->map.names, b->names, b->nnames * sizeof *b->names);
    fm->map.nnames = fm->builtin_names = b->nnames;
    *out = fm;
    return 0;
}

ACCORD_API int accord_field_map_parse(const char *text, size_t len, const char *source,
                                      accord_field_map **out, accord_error *err)
{
    fm_parse p = {.source = source ? source : "field map", .err = err};
    int rc = fm_new(&p.fm);
    size_t at = 0;
    *out = NULL;
    if (rc == 0 && !(p.set = malloc(FM_ENTRIES * sizeof *p.set)))
        rc = ACCORD_ENOMEM;
    while (rc == 0 && at < len) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t n = nl ? (size_t)(nl - (text + at)) : len - at;
        p.line++;
        if (n >= FM_LINE)
            rc = bad(&p, "a line of more than %s bytes", "4095");
        else
            rc = parse_line(&p, text + at, n);
        at += n + 1;
    }
    if (rc == ACCORD_ENOMEM && err) {
        err->code = rc;
        snprintf(err->msg, sizeof err->msg, "%s: out of memory", p.source);
    }
    free(p.set);
    if (rc) {
        accord_field_map_free(p.fm);
        return rc;
    }
    node_index_all(&p.fm->map.root);
    *out = p.fm;
    return 0;
}

ACCORD_API void accord_field_map_free(accord_field_map *fm)
{
    if (!fm)
        return;
    node_free(&fm->map.root);
    for (size_t i = fm->builtin_names; fm->map.names && i < fm->map.nnames; i++)
        free((char *)fm->map.names[i]);
    free((void *)fm->map.names);
    free(fm);
}

const mfmap *mfmap_of(const accord_field_map *fm)
{
    return fm ? &fm->map : mfmap_builtin();
}
