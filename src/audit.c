/*
 * audit.c - the formats of the tamper-evident audit log: leaf bytes, the Merkle tree's right
 * edge, verifier keys and signed checkpoints.
 *
 * Every change to a store appends one audit record in the SQLite transaction of the change
 * (store_audit in store.c).  Each record is one leaf of an RFC 6962 Merkle tree (SHA-256, leaf
 * hash SHA-256(0x00 || leaf bytes), src/merkle.c), leaf index = seq - 1.  The node key signs the
 * tree head in a checkpoint.  These formats outlive the process (exports are kept and verified
 * years later, by other tools), so each is fixed here.
 *
 * Leaf bytes: the record as RFC 8785 canonical JSON, one object, UTF-8, no newline:
 *
 *   | member  | JSON type | present      | meaning                                              |
 *   |---------|-----------|--------------|------------------------------------------------------|
 *   | action  | string    | always       | what happened: accepted, rejected, conflict, linked, |
 *   |         |           |              | account-add, token-create, collection-add, ...       |
 *   | detail  | string    | when any     | the reason or detail line (never a secret)           |
 *   | object  | integer   | when stored  | objects.seq of the version concerned (>= 1)          |
 *   | ref     | string    | when any     | what it concerns: a STIX id, account, token id, ...  |
 *   |         |           |              | a record with an object names its STIX id here       |
 *   |         |           |              | (older `linked` records lack it and still verify)    |
 *   | seq     | integer   | always       | the record's position, 1, 2, 3 ... without gaps      |
 *   | ts      | integer   | always       | when, microseconds since 1970-01-01T00:00:00Z        |
 *
 * Members appear in that (RFC 8785) order; strings escape only '"', '\\' and controls (\b \t \n
 * \f \r by name, others as \u00xx), everything else is written raw; invalid UTF-8 stored in a
 * record is written as U+FFFD so the leaf is always valid JSON.  Example:
 *   {"action":"accepted","object":17,"ref":"indicator--8e2e...","seq":5,"ts":1764468000000000}
 * Anyone can recompute a leaf hash with sha256sum over 0x00 followed by the line.
 *
 * Checkpoint (C2SP tlog-checkpoint inside a C2SP signed-note; the signed body is the first three
 * lines, newline-terminated):
 *
 *   | line | text                                 | meaning                                  |
 *   |------|--------------------------------------|------------------------------------------|
 *   | 1    | accord.audit/<32 lowercase hex>      | origin: the log's name, random per store |
 *   | 2    | <tree size, decimal>                 | records covered: seq 1 .. size           |
 *   | 3    | <base64 of the 32-byte root>         | MTH of their leaves                      |
 *   | 4    | (empty)                              | ends the body                            |
 *   | 5..  | "\u2014 " <key name> " " <base64 sig> | one per signer: em dash, space, name,   |
 *   |      |                                      | space, base64(key id[4] || Ed25519 sig)  |
 *
 * The key name is the origin; the key id is SHA-256(name || 0x0A || 0x01 || public key)[0:4];
 * the signature is Ed25519 (pure) over the body bytes.  A verifier key is written
 * "<name>+<key id, 8 hex>+<base64(0x01 || public key)>", as Go's golang.org/x/mod/sumdb/note
 * does, so those tools verify accord's checkpoints unchanged.
 *
 * The frontier (audit_frontier) is what the store keeps with each checkpoint to sign the next one
 * without reading the earlier leaves: the roots of the perfect subtrees that make up a tree of n
 * leaves, largest first, one per set bit of n.  Folding them from the right gives RFC 6962's MTH
 * (the largest power of two below n splits the tree, recursively).
 *
 * What this file does not do: read or write the database (store_audit.c) or files
 * (audit_verify.c).  libsodium is used for SHA-256 and base64 only; signing goes through sign.c.
 */
#include "audit.h"
#include "util/json.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* Leaf bytes                                                                                   */

/* 1 for the bytes RFC 8785 writes as they are when they start a run of ASCII. */
static int plain_ascii(unsigned char c)
{
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

/* Appends s as an RFC 8785 string literal, invalid UTF-8 replaced by U+FFFD.  Runs of plain
 * ASCII (nearly every byte of a record) are copied at once. */
static int jcs_string(buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    if (buf_add(b, "\"", 1))
        return -1;
    while (n) {
        size_t run = 0;
        while (run < n && plain_ascii(p[run]))
            run++;
        if (run && buf_add(b, p, run))
            return -1;
        p += run;
        n -= run;
        if (!n)
            break;
        unsigned char c = *p;
        size_t k = 1;
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            if (buf_add(b, esc, 2))
                return -1;
        } else if (c < 0x20) {
            const char *named = c == '\b'   ? "\\b"
                                : c == '\t' ? "\\t"
                                : c == '\n' ? "\\n"
                                : c == '\f' ? "\\f"
                                : c == '\r' ? "\\r"
                                            : NULL;
            char esc[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};
            if (buf_adds(b, named ? named : esc))
                return -1;
        } else if ((k = ajson_utf8_seq(p, n)) == 0) {
            k = 1;
            if (buf_add(b, "\xEF\xBF\xBD", 3))
                return -1;
        } else if (buf_add(b, p, k)) {
            return -1;
        }
        p += k;
        n -= k;
    }
    return buf_add(b, "\"", 1);
}

/* Appends ",\"name\":" and the decimal v (no printf: this runs once per stored object). */
static int member_int(buf *out, const char *name, int64_t v)
{
    char d[24];
    size_t i = sizeof(d);
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do
        d[--i] = (char)('0' + u % 10);
    while ((u /= 10) != 0);
    if (v < 0)
        d[--i] = '-';
    return buf_adds(out, name) || buf_add(out, d + i, sizeof(d) - i);
}

int audit_leaf_write(buf *out, const audit_fields *f)
{
    int bad = buf_adds(out, "{\"action\":") || jcs_string(out, f->action ? f->action : "");
    if (!bad && f->detail)
        bad = buf_adds(out, ",\"detail\":") || jcs_string(out, f->detail);
    if (!bad && f->object)
        bad = member_int(out, ",\"object\":", f->object);
    if (!bad && f->ref)
        bad = buf_adds(out, ",\"ref\":") || jcs_string(out, f->ref);
    if (!bad)
        bad = member_int(out, ",\"seq\":", f->seq) || member_int(out, ",\"ts\":", f->ts) ||
              buf_add(out, "}", 1);
    return bad ? ACCORD_ENOMEM : 0;
}

int audit_why(char *why, size_t cap, const char *msg)
{
    snprintf(why, cap, "%s", msg);
    return ACCORD_EINVAL;
}

int audit_leaf_parse(ajson_arena *a, buf *scratch, const char *line, size_t len, audit_fields *out,
                     char *why, size_t whycap)
{
    memset(out, 0, sizeof(*out));
    if (len > AUDIT_LINE_MAX)
        return audit_why(why, whycap, "longer than 64 KiB");
    ajson_error jerr;
    const ajson_value *v = ajson_parse(a, line, len, &jerr);
    if (!v) {
        snprintf(why, whycap, "invalid JSON at byte %zu: %s", jerr.offset, jerr.msg);
        return ACCORD_EINVAL;
    }
    if (v->type != AJSON_OBJECT)
        return audit_why(why, whycap, "not a JSON object");
    int has_seq = 0, has_ts = 0;
    for (size_t i = 0; i < v->len; i++) {
        const ajson_member *m = &v->u.members[i];
        const char **str = strcmp(m->key, "action") == 0   ? &out->action
                           : strcmp(m->key, "detail") == 0 ? &out->detail
                           : strcmp(m->key, "ref") == 0    ? &out->ref
                                                           : NULL;
        int64_t *num = strcmp(m->key, "seq") == 0      ? &out->seq
                       : strcmp(m->key, "ts") == 0     ? &out->ts
                       : strcmp(m->key, "object") == 0 ? &out->object
                                                       : NULL;
        if (str && !(*str = ajson_str(&m->value))) {
            snprintf(why, whycap, "member %.40s is not a string", m->key);
            return ACCORD_EINVAL;
        }
        if (num && !ajson_int(&m->value, num)) {
            snprintf(why, whycap, "member %.40s is not an integer", m->key);
            return ACCORD_EINVAL;
        }
        if (!str && !num) {
            snprintf(why, whycap, "unknown member \"%.40s\"", m->key);
            return ACCORD_EINVAL;
        }
        has_seq |= num == &out->seq;
        has_ts |= num == &out->ts;
    }
    if (!out->action || !has_seq || !has_ts)
        return audit_why(why, whycap, "action, seq and ts are required");
    if (out->seq < 1)
        return audit_why(why, whycap, "seq must be 1 or more");
    buf_reset(scratch);
    if (audit_leaf_write(scratch, out))
        return ACCORD_ENOMEM;
    if (scratch->len != len || memcmp(scratch->p, line, len) != 0)
        return audit_why(why, whycap, "not in the canonical (RFC 8785) form accord writes");
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Frontier                                                                                     */

void audit_frontier_add(audit_frontier *f, const accord_merkle_hash leaf)
{
    accord_merkle_hash h;
    memcpy(h, leaf, sizeof(h));
    /* each trailing set bit of n is a perfect subtree the new leaf completes */
    for (uint64_t n = f->n; n & 1; n >>= 1)
        accord_merkle_node_hash(f->h[--f->depth], h, h);
    memcpy(f->h[f->depth++], h, sizeof(h));
    f->n++;
}

void audit_frontier_root(const audit_frontier *f, accord_merkle_hash out)
{
    if (f->depth == 0) {
        crypto_hash_sha256(out, NULL, 0);
        return;
    }
    accord_merkle_hash r;
    memcpy(r, f->h[f->depth - 1], sizeof(r));
    for (int i = f->depth - 2; i >= 0; i--)
        accord_merkle_node_hash(f->h[i], r, r);
    memcpy(out, r, sizeof(r));
}

int audit_frontier_load(audit_frontier *f, uint64_t n, const void *hashes, size_t len)
{
    int depth = __builtin_popcountll(n);
    if (len != (size_t)depth * ACCORD_MERKLE_HASH_LEN)
        return ACCORD_EINVAL;
    f->n = n;
    f->depth = depth;
    if (len)
        memcpy(f->h, hashes, len);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Keys                                                                                         */

static int name_ok(const char *s, size_t len)
{
    if (len == 0 || len > AUDIT_NAME_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c == '+' || c == 0x7F)
            return 0;
    }
    return 1;
}

void audit_key_make(audit_key *k, const char *name, const uint8_t pk[ACCORD_SIGN_PUBLIC_LEN])
{
    crypto_hash_sha256_state st;
    unsigned char h[32];
    static const unsigned char sep[2] = {0x0A, 0x01};
    snprintf(k->name, sizeof(k->name), "%s", name);
    memcpy(k->pk, pk, ACCORD_SIGN_PUBLIC_LEN);
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const unsigned char *)k->name, strlen(k->name));
    crypto_hash_sha256_update(&st, sep, 2);
    crypto_hash_sha256_update(&st, pk, ACCORD_SIGN_PUBLIC_LEN);
    crypto_hash_sha256_final(&st, h);
    memcpy(k->id, h, 4);
}

int audit_key_format(const audit_key *k, char *out, size_t cap)
{
    unsigned char raw[1 + ACCORD_SIGN_PUBLIC_LEN];
    char b64[64];
    raw[0] = 0x01;
    memcpy(raw + 1, k->pk, ACCORD_SIGN_PUBLIC_LEN);
    sodium_bin2base64(b64, sizeof(b64), raw, sizeof(raw), sodium_base64_VARIANT_ORIGINAL);
    int n = snprintf(out, cap, "%s+%02x%02x%02x%02x+%s", k->name, k->id[0], k->id[1], k->id[2],
                     k->id[3], b64);
    return n < 0 || (size_t)n >= cap ? ACCORD_ELIMIT : 0;
}

int audit_b64_decode(const char *s, size_t len, uint8_t *out, size_t cap, size_t *n)
{
    const char *end = NULL;
    if (len == 0 ||
        sodium_base642bin(out, cap, s, len, NULL, n, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
        end != s + len)
        return -1;
    return 0;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int audit_key_parse(const char *text, size_t len, audit_key *out, char *why, size_t whycap)
{
    while (len && (*text == ' ' || *text == '\t'))
        text++, len--;
    while (len && (text[len - 1] == ' ' || text[len - 1] == '\t' || text[len - 1] == '\r' ||
                   text[len - 1] == '\n'))
        len--;
    const char *p1 = memchr(text, '+', len);
    const char *p2 = p1 ? memchr(p1 + 1, '+', len - (size_t)(p1 + 1 - text)) : NULL;
    if (!p2 || p2 - p1 != 9)
        return audit_why(why, whycap, "not a verifier key (name+keyid+base64)");
    size_t nlen = (size_t)(p1 - text);
    if (!name_ok(text, nlen))
        return audit_why(why, whycap, "key name empty, too long, or holding a space or '+'");
    uint8_t id[4];
    for (int i = 0; i < 4; i++) {
        int hi = hexval(p1[1 + 2 * i]), lo = hexval(p1[2 + 2 * i]);
        if (hi < 0 || lo < 0)
            return audit_why(why, whycap, "key id is not 8 lowercase hex digits");
        id[i] = (uint8_t)(hi << 4 | lo);
    }
    unsigned char raw[1 + ACCORD_SIGN_PUBLIC_LEN + 8];
    size_t n = 0;
    if (audit_b64_decode(p2 + 1, len - (size_t)(p2 + 1 - text), raw, sizeof(raw), &n) ||
        n != 1 + ACCORD_SIGN_PUBLIC_LEN || raw[0] != 0x01)
        return audit_why(why, whycap, "public key is not base64 of 0x01 and 32 bytes (Ed25519)");
    char name[AUDIT_NAME_MAX + 1];
    memcpy(name, text, nlen);
    name[nlen] = '\0';
    audit_key_make(out, name, raw + 1);
    if (memcmp(out->id, id, 4) != 0)
        return audit_why(why, whycap, "key id does not match the name and public key");
    return 0;
}

int audit_keys_parse(const char *text, size_t len, audit_key **out, size_t *n, char *why,
                     size_t whycap)
{
    *out = NULL;
    *n = 0;
    size_t cap = 0, line = 0;
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        line++;
        const char *q = p;
        while (q < le && (*q == ' ' || *q == '\t' || *q == '\r'))
            q++;
        if (q < le && *q != '#') {
            if (*n == cap) {
                cap = cap ? cap * 2 : 4;
                audit_key *k = cap > 1024 ? NULL : realloc(*out, cap * sizeof(*k));
                if (!k) {
                    free(*out);
                    *out = NULL;
                    *n = 0;
                    return cap > 1024 ? audit_why(why, whycap, "more than 1024 keys")
                                      : ACCORD_ENOMEM;
                }
                *out = k;
            }
            char w[160];
            if (audit_key_parse(q, (size_t)(le - q), &(*out)[*n], w, sizeof(w))) {
                snprintf(why, whycap, "line %zu: %s", line, w);
                free(*out);
                *out = NULL;
                *n = 0;
                return ACCORD_EINVAL;
            }
            (*n)++;
        }
        p = nl ? nl + 1 : end;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Checkpoints                                                                                  */

#define EM_DASH "\xE2\x80\x94 "

void audit_b64_hash(const accord_merkle_hash h, char *out, size_t cap)
{
    sodium_bin2base64(out, cap, h, ACCORD_MERKLE_HASH_LEN, sodium_base64_VARIANT_ORIGINAL);
}

int audit_note_sign(buf *out, const char *origin, uint64_t size, const accord_merkle_hash root,
                    const accord_sign_key *key)
{
    char b64[48], sigb64[128];
    audit_b64_hash(root, b64, sizeof(b64));
    size_t start = out->len;
    if (buf_printf(out, "%s\n%llu\n%s\n", origin, (unsigned long long)size, b64))
        return ACCORD_ENOMEM;
    uint8_t pk[ACCORD_SIGN_PUBLIC_LEN], blob[4 + ACCORD_SIGN_SIG_LEN];
    accord_sign_key_public(key, pk);
    audit_key k;
    audit_key_make(&k, origin, pk);
    memcpy(blob, k.id, 4);
    accord_sign(key, out->p + start, out->len - start, blob + 4);
    sodium_bin2base64(sigb64, sizeof(sigb64), blob, sizeof(blob), sodium_base64_VARIANT_ORIGINAL);
    return buf_printf(out, "\n" EM_DASH "%s %s\n", origin, sigb64) ? ACCORD_ENOMEM : 0;
}

/* Parses the three body lines of a tlog-checkpoint. */
static int body_parse(const char *body, size_t len, audit_checkpoint *out, char *why, size_t whycap)
{
    const char *line[3];
    size_t ll[3];
    const char *p = body, *end = body + len;
    for (int i = 0; i < 3; i++) {
        const char *nl = p < end ? memchr(p, '\n', (size_t)(end - p)) : NULL;
        if (!nl)
            return audit_why(why, whycap, "checkpoint body has fewer than three lines");
        line[i] = p;
        ll[i] = (size_t)(nl - p);
        p = nl + 1;
    }
    for (const char *q = body; q < end; q++)
        if ((unsigned char)*q < 0x20 && *q != '\n')
            return audit_why(why, whycap, "control character in the checkpoint body");
    if (!name_ok(line[0], ll[0]))
        return audit_why(why, whycap, "origin line empty, too long, or holding a space or '+'");
    memcpy(out->origin, line[0], ll[0]);
    out->origin[ll[0]] = '\0';
    if (ll[1] == 0 || ll[1] > 19 || (line[1][0] == '0' && ll[1] > 1))
        return audit_why(why, whycap, "tree size line is not a decimal number");
    out->size = 0;
    for (size_t i = 0; i < ll[1]; i++) {
        if (line[1][i] < '0' || line[1][i] > '9')
            return audit_why(why, whycap, "tree size line is not a decimal number");
        out->size = out->size * 10 + (uint64_t)(line[1][i] - '0');
    }
    size_t n = 0;
    if (audit_b64_decode(line[2], ll[2], out->root, sizeof(out->root), &n) ||
        n != ACCORD_MERKLE_HASH_LEN)
        return audit_why(why, whycap, "root hash line is not base64 of 32 bytes");
    return 0;
}

/* One signature line: *verified 1 when by a known key and valid; ACCORD_EINVAL when malformed or
 * by a known key and invalid. */
static int sig_line(const char *body, size_t blen, const char *p, size_t len, const audit_key *keys,
                    size_t nkeys, int *which, char *why, size_t whycap)
{
    size_t dl = sizeof(EM_DASH) - 1;
    if (len < dl || memcmp(p, EM_DASH, dl) != 0)
        return audit_why(why, whycap, "signature line does not start with an em dash and a space");
    p += dl;
    len -= dl;
    const char *sp = memchr(p, ' ', len);
    if (!sp || !name_ok(p, (size_t)(sp - p)))
        return audit_why(why, whycap, "signature line: bad key name");
    size_t nlen = (size_t)(sp - p);
    unsigned char blob[256];
    size_t n = 0;
    if (audit_b64_decode(sp + 1, len - nlen - 1, blob, sizeof(blob), &n) || n < 5)
        return audit_why(why, whycap,
                         "signature line: signature is not base64 of a key id and more");
    for (size_t i = 0; i < nkeys; i++) {
        if (strlen(keys[i].name) != nlen || memcmp(keys[i].name, p, nlen) != 0 ||
            memcmp(keys[i].id, blob, 4) != 0)
            continue;
        if (n != 4 + ACCORD_SIGN_SIG_LEN || accord_sign_verify(keys[i].pk, body, blen, blob + 4))
            return audit_why(why, whycap, "signature by a trusted key does not verify");
        *which = (int)i;
        return 0;
    }
    return 0;
}

int audit_note_open(const char *text, size_t len, const audit_key *keys, size_t nkeys,
                    audit_checkpoint *out, char *why, size_t whycap)
{
    memset(out, 0, sizeof(*out));
    out->key = -1;
    if (len > AUDIT_NOTE_MAX)
        return audit_why(why, whycap, "note longer than 16 KiB");
    if (len == 0 || text[len - 1] != '\n')
        return audit_why(why, whycap, "note does not end with a newline");
    if (memchr(text, '\0', len))
        return audit_why(why, whycap, "NUL byte in the note");
    /* the body ends at the last blank line: signatures never contain one */
    size_t split = 0;
    for (size_t i = len - 1; i-- > 0;)
        if (text[i] == '\n' && text[i + 1] == '\n') {
            split = i + 1;
            break;
        }
    if (split == 0)
        return audit_why(why, whycap, "no blank line between the body and the signatures");
    int rc = body_parse(text, split, out, why, whycap);
    if (rc)
        return rc;
    const char *p = text + split + 1, *end = text + len;
    int nsig = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (++nsig > 100)
            return audit_why(why, whycap, "more than 100 signatures");
        int which = -1;
        if ((rc = sig_line(text, split, p, (size_t)(nl - p), keys, nkeys, &which, why, whycap)))
            return rc;
        if (which >= 0 && out->key < 0)
            out->key = which;
        p = nl + 1;
    }
    if (nsig == 0)
        return audit_why(why, whycap, "no signature line");
    if (out->key < 0)
        return audit_why(why, whycap, "not signed by a trusted key");
    return 0;
}
