/*
 * fuzz/audit.c - libFuzzer target for the parsers `accord audit verify` and `accord audit check`
 * run on files an auditor was handed: a records.jsonl line (audit_leaf_parse), the keys file
 * (audit_keys_parse), a signed checkpoint (audit_note_open) and a printed proof
 * (accord_audit_proof_verify).
 *
 * The first byte picks the parser, the rest is its input.  Besides memory errors it checks the
 * promises verify relies on: an accepted record line is exactly what audit_leaf_write writes for
 * its fields (so its leaf hash is well defined); every accepted key re-formats to a key that
 * parses to the same name, id and public key; a checkpoint is accepted only with a signature by
 * the fixed trusted key, over exactly the bytes before the blank line; and a proof never verifies
 * unless its checkpoint does.  A broken promise traps.  The seed corpus (fuzz/corpus/audit/) holds
 * a signed note and proofs made with the fixed key below, so mutations reach the signature path.
 *
 * Without ACCORD_FUZZ this file is linked with fuzz/replay.c, which runs it on every file of
 * fuzz/corpus/audit/.
 */
#include "audit.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The trusted key of the seeds: Ed25519 of the seed 32 x 0x01, named "accord.audit/fuzz". */
static const audit_key *trusted(void)
{
    static audit_key k;
    static int made;
    if (!made) {
        uint8_t seed[32], pk[32];
        accord_sign_key *sk = NULL;
        memset(seed, 1, sizeof(seed));
        if (accord_sign_key_from_seed(seed, &sk))
            __builtin_trap();
        accord_sign_key_public(sk, pk);
        accord_sign_key_free(sk);
        audit_key_make(&k, "accord.audit/fuzz", pk);
        made = 1;
    }
    return &k;
}

static void leaf(const char *p, size_t n)
{
    ajson_arena a;
    buf scratch, again;
    audit_fields f;
    char why[200];
    ajson_arena_init(&a, 1 << 22);
    buf_init(&scratch, 0);
    buf_init(&again, 0);
    if (audit_leaf_parse(&a, &scratch, p, n, &f, why, sizeof(why)) == 0) {
        if (audit_leaf_write(&again, &f) || again.len != n || memcmp(again.p, p, n) != 0)
            __builtin_trap();
        if (f.seq < 1 || !f.action)
            __builtin_trap();
    }
    ajson_arena_free(&a);
    buf_free(&scratch);
    buf_free(&again);
}

static void keys(const char *p, size_t n)
{
    audit_key *k = NULL, back;
    size_t nk = 0;
    char why[200], text[300];
    if (audit_keys_parse(p, n, &k, &nk, why, sizeof(why)) == 0)
        for (size_t i = 0; i < nk; i++) {
            if (audit_key_format(&k[i], text, sizeof(text)) ||
                audit_key_parse(text, strlen(text), &back, why, sizeof(why)) ||
                strcmp(back.name, k[i].name) || memcmp(back.id, k[i].id, 4) ||
                memcmp(back.pk, k[i].pk, 32))
                __builtin_trap();
        }
    free(k);
}

static void note(const char *p, size_t n)
{
    audit_checkpoint cp;
    char why[200];
    if (audit_note_open(p, n, trusted(), 1, &cp, why, sizeof(why)) == 0) {
        /* accepted: the body is everything up to the last blank line, and it parses again */
        const char *blank = NULL;
        for (size_t i = 0; i + 1 < n; i++)
            if (p[i] == '\n' && p[i + 1] == '\n')
                blank = p + i;
        if (!blank || cp.key != 0 || cp.origin[0] == '\0')
            __builtin_trap();
    }
}

static void proof(const char *p, size_t n)
{
    char keytext[300], what[300];
    accord_error err;
    if (audit_key_format(trusted(), keytext, sizeof(keytext)))
        __builtin_trap();
    int pinned = accord_audit_proof_verify(p, n, keytext, what, sizeof(what), &err);
    if (pinned == 0 && what[0] == '\0')
        __builtin_trap();
    accord_audit_proof_verify(p, n, NULL, what, sizeof(what), &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 1 << 20)
        return 0;
    const char *p = (const char *)data + 1;
    size_t n = size - 1;
    switch (data[0] & 3) {
    case 0:
        leaf(p, n);
        break;
    case 1:
        keys(p, n);
        break;
    case 2:
        note(p, n);
        break;
    default:
        proof(p, n);
        break;
    }
    return 0;
}
