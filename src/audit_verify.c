/*
 * audit_verify.c - offline verification of an audit export and of printed proofs (no database).
 *
 * An export (store_audit.c writes it) holds the records' leaf bytes (records.jsonl), the leaf
 * hashes the store logged when each record was written (leaves.bin), the signed checkpoints and
 * the signers' verifier keys.  Only the checkpoints are signed; everything else is checked against
 * them, in one pass over the records with two frontiers (audit.c): FR over the hashes of the
 * lines as they are, FS over leaves.bin.  What the pass can tell, and what it reports first (the
 * earliest bad record wins):
 *
 *   | finding                                        | report                                  |
 *   |------------------------------------------------|-----------------------------------------|
 *   | a line that is not a record in canonical form  | record L: <why>                         |
 *   | line L holds another seq than L                | record L: missing or moved / out of     |
 *   |                                                | order                                   |
 *   | a line's hash differs from leaves.bin          | record L: edited (when a checkpoint     |
 *   |                                                | proves leaves.bin right, or none covers |
 *   |                                                | L yet); else leaves.bin altered at L    |
 *   | FR's root differs from a checkpoint's root     | fork, when another checkpoint at least  |
 *   |                                                | as large matches the records; else the  |
 *   |                                                | range of records that was rewritten     |
 *   | two checkpoints of one size, different roots   | fork                                    |
 *   | a checkpoint larger than the records           | truncated                               |
 *
 * Success says how far each record was checked (the summary's leaves, latest and unleaved):
 * records up to the largest checkpoint are intact, signed; records after it are covered by no
 * checkpoint and were only compared with leaves.bin, which is not signed (whoever can append a
 * line can append its hash), and past leaves.bin's end not checked at all; without leaves.bin,
 * records under checkpoints are checked per checkpoint range, not one by one.
 *
 * A checkpoint's signature must verify under a trusted key (the caller's, else the export's own
 * keys file: that proves integrity against the keys the export names, so pinning a key given out
 * of band is what proves origin).  Memory is bounded by the number of checkpoints, never the
 * number of records.
 *
 * Proofs (format in store_audit.c) are checked with the RFC 9162 algorithms of merkle.c against
 * the signed checkpoints they carry.
 */
#include "audit.h"
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Reads a whole file of at most max bytes; *out malloc'd and NUL-terminated. */
static int read_file(const char *path, size_t max, char **out, size_t *len, accord_error *err)
{
    *out = NULL;
    *len = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return accord_err_set(err, errno == ENOENT ? ACCORD_ENOTFOUND : ACCORD_EIO, "%s: %s", path,
                              strerror(errno));
    buf b;
    buf_init(&b, max);
    char chunk[8192];
    size_t n;
    int rc = 0;
    while (!rc && (n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        if (buf_add(&b, chunk, n))
            rc = accord_err_set(err, ACCORD_ELIMIT, "%s: larger than %zu bytes", path, max);
    if (!rc && ferror(fp))
        rc = accord_err_set(err, ACCORD_EIO, "%s: read error", path);
    fclose(fp);
    if (!rc && !b.p && buf_add(&b, "", 0))
        rc = accord_err_set(err, ACCORD_ENOMEM, "out of memory");
    if (!rc)
        *out = buf_take(&b, len);
    buf_free(&b);
    return rc;
}

typedef struct cp_entry {
    char file[96];
    audit_checkpoint cp;
    int have_r;                /* the records reached this size */
    accord_merkle_hash root_r; /* FR's root at this size */
    accord_merkle_hash root_s; /* FS's root at this size (when leaves.bin reached it) */
    int have_s;
} cp_entry;

typedef struct verifier {
    const char *dir;
    audit_key *keys;
    size_t nkeys;
    cp_entry *cps;
    size_t ncps;
    /* the pass over the records */
    uint64_t n;        /* records read and well-formed */
    uint64_t bad_line; /* first structural problem, 0 = none */
    char bad_msg[400];
    uint64_t mismatch; /* first record whose hash differs from leaves.bin, 0 = none */
    uint64_t leaves;   /* records compared with leaves.bin (it may be missing or short) */
} verifier;

static int cp_cmp(const void *a, const void *b)
{
    const cp_entry *x = a, *y = b;
    if (x->cp.size != y->cp.size)
        return x->cp.size < y->cp.size ? -1 : 1;
    return strcmp(x->file, y->file);
}

static int load_keys(verifier *v, const char *keys, accord_audit_summary *sum, accord_error *err)
{
    char *text = NULL, path[4200], why[200];
    size_t len = 0;
    int rc = 0;
    if (keys) {
        snprintf(sum->keys, sizeof(sum->keys), "the keys given");
        rc = audit_keys_parse(keys, strlen(keys), &v->keys, &v->nkeys, why, sizeof(why));
        if (rc)
            return accord_err_set(err, rc, "keys: %s", why);
    } else {
        snprintf(sum->keys, sizeof(sum->keys), "the export's keys file (not pinned)");
        snprintf(path, sizeof(path), "%s/keys", v->dir);
        if ((rc = read_file(path, 1 << 20, &text, &len, err)))
            return rc;
        rc = audit_keys_parse(text, len, &v->keys, &v->nkeys, why, sizeof(why));
        free(text);
        if (rc)
            return accord_err_set(err, rc, "%s: %s", path, why);
    }
    if (v->nkeys == 0)
        return accord_err_set(err, ACCORD_EINVAL, "no verifier key to check checkpoints with");
    return 0;
}

static int load_checkpoint(verifier *v, const char *name, accord_error *err)
{
    char path[4400], why[200], *text;
    size_t len, cap = v->ncps;
    snprintf(path, sizeof(path), "%s/checkpoints/%s", v->dir, name);
    int rc = read_file(path, AUDIT_NOTE_MAX, &text, &len, err);
    if (rc)
        return rc;
    if ((cap & (cap - 1)) == 0) { /* grow at powers of two */
        cp_entry *p = realloc(v->cps, (cap ? cap * 2 : 4) * sizeof(*p));
        if (!p) {
            free(text);
            return accord_err_set(err, ACCORD_ENOMEM, "out of memory");
        }
        v->cps = p;
    }
    cp_entry *e = &v->cps[v->ncps];
    memset(e, 0, sizeof(*e));
    snprintf(e->file, sizeof(e->file), "checkpoints/%.80s", name);
    rc = audit_note_open(text, len, v->keys, v->nkeys, &e->cp, why, sizeof(why));
    free(text);
    if (rc)
        return accord_err_set(err, ACCORD_EINVAL, "%s: %s", e->file, why);
    if (v->ncps && strcmp(e->cp.origin, v->cps[0].cp.origin) != 0)
        return accord_err_set(err, ACCORD_EINVAL, "fork: %s is of log %s, %s of log %s", e->file,
                              e->cp.origin, v->cps[0].file, v->cps[0].cp.origin);
    v->ncps++;
    return 0;
}

static int load_checkpoints(verifier *v, accord_error *err)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/checkpoints", v->dir);
    DIR *d = opendir(path);
    if (!d)
        return accord_err_set(err, ACCORD_EIO, "%s: %s", path, strerror(errno));
    int rc = 0;
    struct dirent *de;
    while (!rc && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if (v->ncps >= 1000000)
            rc = accord_err_set(err, ACCORD_ELIMIT, "%s: more than a million checkpoints", path);
        else
            rc = load_checkpoint(v, de->d_name, err);
    }
    closedir(d);
    if (rc)
        return rc;
    if (v->ncps == 0)
        return accord_err_set(err, ACCORD_EINVAL, "%s: no checkpoint: nothing is signed", path);
    qsort(v->cps, v->ncps, sizeof(*v->cps), cp_cmp);
    for (size_t i = 1; i < v->ncps; i++)
        if (v->cps[i].cp.size == v->cps[i - 1].cp.size &&
            memcmp(v->cps[i].cp.root, v->cps[i - 1].cp.root, ACCORD_MERKLE_HASH_LEN) != 0)
            return accord_err_set(
                err, ACCORD_EINVAL, "fork: %s and %s both sign %llu records with different roots",
                v->cps[i - 1].file, v->cps[i].file, (unsigned long long)v->cps[i].cp.size);
    return 0;
}

/* Reads one line into line (cap bytes); its length, -1 at EOF, -2 when longer than cap. */
static long read_line(FILE *fp, char *line, size_t cap)
{
    size_t n = 0;
    int c;
    while ((c = getc_unlocked(fp)) != EOF && c != '\n') {
        if (n == cap)
            return -2;
        line[n++] = (char)c;
    }
    if (c == EOF && n == 0)
        return -1;
    return (long)n;
}

/* Records FR's and FS's roots at every checkpoint of size fr->n. */
static void note_roots(verifier *v, size_t *next, const audit_frontier *fr,
                       const audit_frontier *fs)
{
    while (*next < v->ncps && v->cps[*next].cp.size == fr->n) {
        cp_entry *e = &v->cps[(*next)++];
        e->have_r = 1;
        audit_frontier_root(fr, e->root_r);
        if (fs->n == fr->n) {
            e->have_s = 1;
            audit_frontier_root(fs, e->root_s);
        }
    }
}

/* The pass over records.jsonl and leaves.bin. */
static int scan_records(verifier *v, accord_error *err)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/records.jsonl", v->dir);
    FILE *rec = fopen(path, "rb");
    if (!rec)
        return accord_err_set(err, ACCORD_EIO, "%s: %s", path, strerror(errno));
    snprintf(path, sizeof(path), "%s/leaves.bin", v->dir);
    FILE *lv = fopen(path, "rb"); /* optional: without it, edits are found per checkpoint */
    char *line = malloc(AUDIT_LINE_MAX);
    ajson_arena arena;
    ajson_arena_init(&arena, 0);
    buf scratch;
    buf_init(&scratch, AUDIT_LINE_MAX * 4);
    audit_frontier fr = {0}, fs = {0};
    size_t next = 0;
    int rc = line ? 0 : accord_err_set(err, ACCORD_ENOMEM, "out of memory");
    while (next < v->ncps && v->cps[next].cp.size == 0)
        note_roots(v, &next, &fr, &fs);
    while (!rc) {
        long len = read_line(rec, line, AUDIT_LINE_MAX);
        if (len == -1)
            break;
        uint64_t l = v->n + 1;
        char why[240];
        audit_fields f;
        ajson_arena_reset(&arena);
        int prc = len < 0
                      ? ACCORD_EINVAL
                      : audit_leaf_parse(&arena, &scratch, line, (size_t)len, &f, why, sizeof(why));
        if (prc == ACCORD_ENOMEM) {
            rc = accord_err_set(err, prc, "out of memory");
            break;
        }
        if (prc || f.seq != (int64_t)l) {
            v->bad_line = l;
            if (len < 0)
                snprintf(v->bad_msg, sizeof(v->bad_msg), "record %llu: line longer than 64 KiB",
                         (unsigned long long)l);
            else if (prc)
                snprintf(v->bad_msg, sizeof(v->bad_msg),
                         "record %llu (records.jsonl line %llu): %s", (unsigned long long)l,
                         (unsigned long long)l, why);
            else if (f.seq > (int64_t)l)
                snprintf(
                    v->bad_msg, sizeof(v->bad_msg),
                    "record %llu: missing or moved (records.jsonl line %llu holds record %lld)",
                    (unsigned long long)l, (unsigned long long)l, (long long)f.seq);
            else
                snprintf(v->bad_msg, sizeof(v->bad_msg),
                         "record %lld: out of order (found again at records.jsonl line %llu)",
                         (long long)f.seq, (unsigned long long)l);
            break;
        }
        accord_merkle_hash r, s;
        accord_merkle_leaf_hash(line, (size_t)len, r);
        audit_frontier_add(&fr, r);
        if (lv && fs.n + 1 == l && fread(s, 1, sizeof(s), lv) == sizeof(s)) {
            audit_frontier_add(&fs, s);
            if (!v->mismatch && memcmp(r, s, sizeof(r)) != 0)
                v->mismatch = l;
        }
        v->n = l;
        note_roots(v, &next, &fr, &fs);
    }
    v->leaves = fs.n;
    free(line);
    ajson_arena_free(&arena);
    buf_free(&scratch);
    fclose(rec);
    if (lv)
        fclose(lv);
    return rc;
}

/* The first checkpoint (by size) that the records reached and do not match; -1 when none. */
static long first_unmatched(const verifier *v)
{
    for (size_t i = 0; i < v->ncps; i++)
        if (v->cps[i].have_r &&
            memcmp(v->cps[i].root_r, v->cps[i].cp.root, ACCORD_MERKLE_HASH_LEN) != 0)
            return (long)i;
    return -1;
}

/* The largest checkpoint of size >= min that the records match; -1 when none. */
static long matched_from(const verifier *v, uint64_t min)
{
    for (size_t i = v->ncps; i-- > 0;)
        if (v->cps[i].cp.size >= min && v->cps[i].have_r &&
            memcmp(v->cps[i].root_r, v->cps[i].cp.root, ACCORD_MERKLE_HASH_LEN) == 0)
            return (long)i;
    return -1;
}

/* Turns what the pass found into the report of the first bad record. */
static int judge(const verifier *v, accord_error *err)
{
    if (v->mismatch && (!v->bad_line || v->mismatch < v->bad_line)) {
        long ok = matched_from(v, v->mismatch);
        if (ok >= 0)
            return accord_err_set(err, ACCORD_EINVAL,
                                  "leaves.bin: the logged hash of record %llu was altered (the "
                                  "records match %s)",
                                  (unsigned long long)v->mismatch, v->cps[ok].file);
        return accord_err_set(err, ACCORD_EINVAL,
                              "record %llu: edited: its bytes no longer hash to the leaf logged "
                              "when it was written",
                              (unsigned long long)v->mismatch);
    }
    if (v->bad_line)
        return accord_err_set(err, ACCORD_EINVAL, "%s", v->bad_msg);
    long bad = first_unmatched(v);
    if (bad >= 0) {
        const cp_entry *c = &v->cps[bad];
        long ok = matched_from(v, c->cp.size);
        if (ok >= 0)
            return accord_err_set(err, ACCORD_EINVAL,
                                  "fork: %s (%llu records) is inconsistent with %s (%llu records), "
                                  "which the records match",
                                  c->file, (unsigned long long)c->cp.size, v->cps[ok].file,
                                  (unsigned long long)v->cps[ok].cp.size);
        uint64_t from = 1;
        for (long i = bad - 1; i >= 0; i--)
            if (memcmp(v->cps[i].root_r, v->cps[i].cp.root, ACCORD_MERKLE_HASH_LEN) == 0) {
                from = v->cps[i].cp.size + 1;
                break;
            }
        return accord_err_set(err, ACCORD_EINVAL,
                              "record %llu: records %llu..%llu do not match %s: rewritten together "
                              "with their logged hashes, or the checkpoint is from a forked log",
                              (unsigned long long)from, (unsigned long long)from,
                              (unsigned long long)c->cp.size, c->file);
    }
    const cp_entry *last = &v->cps[v->ncps - 1];
    if (last->cp.size > v->n)
        return accord_err_set(err, ACCORD_EINVAL,
                              "truncated: the records stop at record %llu, but %s covers %llu "
                              "records",
                              (unsigned long long)v->n, last->file,
                              (unsigned long long)last->cp.size);
    return 0;
}

int accord_audit_verify(const char *dir, const char *keys, accord_audit_summary *out,
                        accord_error *err)
{
    accord_audit_summary sum = {0};
    verifier v = {.dir = dir};
    int rc = load_keys(&v, keys, &sum, err);
    if (!rc)
        rc = load_checkpoints(&v, err);
    if (!rc)
        rc = scan_records(&v, err);
    if (!rc)
        rc = judge(&v, err);
    if (v.ncps) {
        const cp_entry *last = &v.cps[v.ncps - 1];
        snprintf(sum.origin, sizeof(sum.origin), "%s", last->cp.origin);
        audit_b64_hash(last->cp.root, sum.root, sizeof(sum.root));
        sum.signed_size = last->cp.size;
        sum.checkpoints = v.ncps;
        snprintf(sum.latest, sizeof(sum.latest), "%s", last->file);
        for (size_t i = 0; i < v.ncps; i++)
            if (v.cps[i].cp.size > v.leaves) {
                snprintf(sum.unleaved, sizeof(sum.unleaved), "%s", v.cps[i].file);
                break;
            }
    }
    sum.records = v.n;
    sum.leaves = v.leaves;
    sum.unsigned_records = v.n > sum.signed_size ? v.n - sum.signed_size : 0;
    if (out)
        *out = sum;
    free(v.keys);
    free(v.cps);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Proofs                                                                                       */

typedef struct proof {
    int kind;      /* 1 inclusion, 2 consistency */
    uint64_t a, b; /* seq and size, or old and new */
    const char *record;
    size_t record_len;
    uint8_t path[ACCORD_MERKLE_MAX_PROOF * ACCORD_MERKLE_HASH_LEN];
    size_t npath;
    buf keys;
    const char *note[2];
    size_t note_len[2];
    int nnotes;
} proof;

static int parse_u64(const char *s, size_t len, uint64_t *out)
{
    if (len == 0 || len > 19)
        return -1;
    *out = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        *out = *out * 10 + (uint64_t)(s[i] - '0');
    }
    return 0;
}

/* One "name value" line of a proof's header. */
static int proof_line(proof *p, const char *l, size_t len, char *why, size_t whycap)
{
    const char *sp = memchr(l, ' ', len);
    if (!sp)
        return audit_why(why, whycap, "a line without a value");
    size_t kl = (size_t)(sp - l), vl = len - kl - 1;
    const char *val = sp + 1;
    uint64_t *num = NULL;
    if (kl == 3 && memcmp(l, "seq", 3) == 0 && p->kind == 1)
        num = &p->a;
    else if (kl == 4 && memcmp(l, "size", 4) == 0 && p->kind == 1)
        num = &p->b;
    else if (kl == 3 && memcmp(l, "old", 3) == 0 && p->kind == 2)
        num = &p->a;
    else if (kl == 3 && memcmp(l, "new", 3) == 0 && p->kind == 2)
        num = &p->b;
    if (num)
        return parse_u64(val, vl, num) ? audit_why(why, whycap, "a size that is not a number") : 0;
    if (kl == 6 && memcmp(l, "record", 6) == 0 && p->kind == 1) {
        p->record = val;
        p->record_len = vl;
        return 0;
    }
    if (kl == 3 && memcmp(l, "key", 3) == 0)
        return buf_add(&p->keys, val, vl) || buf_add(&p->keys, "\n", 1) ? ACCORD_ENOMEM : 0;
    if (kl == 4 && memcmp(l, "path", 4) == 0) {
        accord_merkle_hash h;
        size_t n = 0;
        if (p->npath == ACCORD_MERKLE_MAX_PROOF)
            return audit_why(why, whycap, "too many or too long path lines");
        if (audit_b64_decode(val, vl, h, sizeof(h), &n) || n != ACCORD_MERKLE_HASH_LEN)
            return audit_why(why, whycap, "a path hash that is not base64 of 32 bytes");
        memcpy(p->path + p->npath++ * ACCORD_MERKLE_HASH_LEN, h, ACCORD_MERKLE_HASH_LEN);
        return 0;
    }
    return audit_why(why, whycap, "an unknown line");
}

static int proof_parse(proof *p, const char *text, size_t len, char *why, size_t whycap)
{
    const char *q = text, *end = text + len;
    int line = 0;
    while (q < end) {
        const char *nl = memchr(q, '\n', (size_t)(end - q));
        if (!nl)
            return audit_why(why, whycap, "the proof does not end with a newline");
        size_t ll = (size_t)(nl - q);
        line++;
        if (line == 1) {
            if (ll == 28 && memcmp(q, "accord audit inclusion proof", 28) == 0)
                p->kind = 1;
            else if (ll == 30 && memcmp(q, "accord audit consistency proof", 30) == 0)
                p->kind = 2;
            else
                return audit_why(why, whycap, "not an accord audit proof");
        } else if (ll > 11 && memcmp(q, "checkpoint ", 11) == 0) {
            uint64_t n;
            if (p->nnotes == 2 || parse_u64(q + 11, ll - 11, &n) || n > (uint64_t)(end - nl - 1))
                return audit_why(why, whycap, "a checkpoint line with a bad length");
            p->note[p->nnotes] = nl + 1;
            p->note_len[p->nnotes++] = (size_t)n;
            nl += n;
        } else {
            int rc = proof_line(p, q, ll, why, whycap);
            if (rc)
                return rc;
        }
        q = nl + 1;
    }
    if (p->nnotes != p->kind)
        return audit_why(why, whycap, "wrong number of checkpoints");
    if (p->kind == 1 && !p->record)
        return audit_why(why, whycap, "no record line");
    return 0;
}

/* Opens the proof's notes; cps[i] receive them. */
static int proof_notes(proof *p, const char *keys, audit_checkpoint cps[2], char *why,
                       size_t whycap)
{
    audit_key *k = NULL;
    size_t nk = 0;
    const char *kt = keys ? keys : p->keys.p ? p->keys.p : "";
    int rc = audit_keys_parse(kt, strlen(kt), &k, &nk, why, whycap);
    for (int i = 0; !rc && i < p->nnotes; i++)
        rc = audit_note_open(p->note[i], p->note_len[i], k, nk, &cps[i], why, whycap);
    free(k);
    return rc;
}

static int check_inclusion(proof *p, const audit_checkpoint *cp, char *what, size_t whatcap,
                           char *why, size_t whycap)
{
    if (cp->size != p->b)
        return audit_why(why, whycap, "the checkpoint's size is not the proof's size");
    ajson_arena a;
    buf scratch;
    audit_fields f;
    ajson_arena_init(&a, 0);
    buf_init(&scratch, AUDIT_LINE_MAX * 4);
    int rc = audit_leaf_parse(&a, &scratch, p->record, p->record_len, &f, why, whycap);
    if (!rc && (uint64_t)f.seq != p->a)
        rc = audit_why(why, whycap, "the record's seq is not the proof's seq");
    accord_merkle_hash leaf;
    accord_merkle_leaf_hash(p->record, p->record_len, leaf);
    if (!rc && accord_merkle_verify_inclusion(leaf, p->a - 1, p->b, p->path, p->npath, cp->root))
        rc = audit_why(why, whycap, "the audit path does not lead to the checkpoint's root");
    if (!rc)
        snprintf(what, whatcap, "record %llu (%s) is in checkpoint %llu of %s",
                 (unsigned long long)p->a, f.action, (unsigned long long)p->b, cp->origin);
    ajson_arena_free(&a);
    buf_free(&scratch);
    return rc;
}

static int check_consistency(proof *p, const audit_checkpoint cps[2], char *what, size_t whatcap,
                             char *why, size_t whycap)
{
    if (cps[0].size != p->a || cps[1].size != p->b)
        return audit_why(why, whycap, "the checkpoints' sizes are not the proof's sizes");
    if (strcmp(cps[0].origin, cps[1].origin) != 0)
        return audit_why(why, whycap, "fork: the checkpoints are of different logs");
    if (accord_merkle_verify_consistency(p->a, p->b, cps[0].root, cps[1].root, p->path, p->npath)) {
        snprintf(why, whycap, "fork: checkpoint %llu is not a prefix of checkpoint %llu",
                 (unsigned long long)p->a, (unsigned long long)p->b);
        return ACCORD_EINVAL;
    }
    snprintf(what, whatcap, "checkpoint %llu is a prefix of checkpoint %llu of %s",
             (unsigned long long)p->a, (unsigned long long)p->b, cps[0].origin);
    return 0;
}

int accord_audit_proof_verify(const char *text, size_t len, const char *keys, char *what,
                              size_t whatcap, accord_error *err)
{
    proof *p = calloc(1, sizeof(*p));
    if (!p)
        return accord_err_set(err, ACCORD_ENOMEM, "out of memory");
    buf_init(&p->keys, 1 << 16);
    char why[240] = "";
    audit_checkpoint cps[2];
    if (what && whatcap)
        what[0] = '\0';
    int rc = len > (1 << 20) ? audit_why(why, sizeof(why), "longer than 1 MiB")
                             : proof_parse(p, text, len, why, sizeof(why));
    if (!rc)
        rc = proof_notes(p, keys, cps, why, sizeof(why));
    if (!rc && p->kind == 1)
        rc = check_inclusion(p, &cps[0], what, whatcap, why, sizeof(why));
    else if (!rc)
        rc = check_consistency(p, cps, what, whatcap, why, sizeof(why));
    buf_free(&p->keys);
    free(p);
    if (rc == ACCORD_ENOMEM)
        return accord_err_set(err, rc, "out of memory");
    return rc ? accord_err_set(err, ACCORD_EINVAL, "proof: %s", why) : 0;
}
