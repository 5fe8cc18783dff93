/*
 * test_merkle.c - RFC 6962 / RFC 9162 trees and proofs.
 *
 * 1. The certificate-transparency reference vectors (the eight leaves "", 00, 10, 2021, 3031,
 *    40414243, 5051525354555657, 606162636465666768696a6b6c6d6e6f): the tree heads of sizes
 *    1..8 and the inclusion path of leaf 0 in the 8-leaf tree, as published in CT's
 *    merkle_tree_test.cc (copied here as hex).
 * 2. An independent reference written from RFC 6962 section 2.1 by its recursive definitions
 *    (MTH, PATH, PROOF/SUBPROOF over the leaf data): for every tree size 1..70, every leaf and
 *    every old size, accord's root, inclusion path and consistency proof must equal the
 *    reference's, and must verify.
 * 3. Forgeries: every proof with one bit flipped, one hash dropped or added, or checked against
 *    another index or size must fail.
 */
#include "accord.h"
#include "t.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static void hex_to(const char *hex, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
}

static const char *leaf_hex[8] = {"",
                                  "00",
                                  "10",
                                  "2021",
                                  "3031",
                                  "40414243",
                                  "5051525354555657",
                                  "606162636465666768696a6b6c6d6e6f"};

/* ---- the reference: RFC 6962 section 2.1 word for word, over leaf hashes ---- */

static void ref_mth(accord_merkle_hash *d, size_t n, accord_merkle_hash out)
{
    if (n == 0) {
        crypto_hash_sha256(out, NULL, 0);
        return;
    }
    if (n == 1) {
        memcpy(out, d[0], 32);
        return;
    }
    size_t k = 1;
    while (k * 2 < n)
        k *= 2;
    accord_merkle_hash l, r;
    ref_mth(d, k, l);
    ref_mth(d + k, n - k, r);
    accord_merkle_node_hash(l, r, out);
}

static void ref_path(size_t m, accord_merkle_hash *d, size_t n, accord_merkle_hash *p, size_t *len)
{
    if (n <= 1)
        return;
    size_t k = 1;
    while (k * 2 < n)
        k *= 2;
    if (m < k) {
        ref_path(m, d, k, p, len);
        ref_mth(d + k, n - k, p[(*len)++]);
    } else {
        ref_path(m - k, d + k, n - k, p, len);
        ref_mth(d, k, p[(*len)++]);
    }
}

static void ref_subproof(size_t m, accord_merkle_hash *d, size_t n, int b, accord_merkle_hash *p,
                         size_t *len)
{
    if (m == n) {
        if (!b)
            ref_mth(d, n, p[(*len)++]);
        return;
    }
    size_t k = 1;
    while (k * 2 < n)
        k *= 2;
    if (m <= k) {
        ref_subproof(m, d, k, b, p, len);
        ref_mth(d + k, n - k, p[(*len)++]);
    } else {
        ref_subproof(m - k, d + k, n - k, 0, p, len);
        ref_mth(d, k, p[(*len)++]);
    }
}

static void test_ct_vectors(void)
{
    static const char *roots[8] = {
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    };
    static const char *path0[3] = {
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    };
    accord_merkle_hash leaves[8];
    for (int i = 0; i < 8; i++) {
        uint8_t data[16];
        size_t n = strlen(leaf_hex[i]) / 2;
        hex_to(leaf_hex[i], data, n);
        accord_merkle_leaf_hash(data, n, leaves[i]);
    }
    for (size_t n = 1; n <= 8; n++) {
        accord_merkle_tree *t = NULL;
        CHECK(accord_merkle_tree_new(leaves[0], n, &t) == 0);
        accord_merkle_hash got, want;
        accord_merkle_tree_root(t, got);
        hex_to(roots[n - 1], want, 32);
        CHECK(memcmp(got, want, 32) == 0);
        if (n == 8) {
            accord_merkle_hash path[ACCORD_MERKLE_MAX_PROOF];
            size_t len = 0;
            CHECK(accord_merkle_tree_inclusion(t, 0, path[0], &len) == 0);
            CHECK(len == 3);
            for (size_t i = 0; i < 3 && i < len; i++) {
                hex_to(path0[i], want, 32);
                CHECK(memcmp(path[i], want, 32) == 0);
            }
            /* consistency 1 -> 8 is the same path (RFC 6962 PROOF(1, D[8])) */
            CHECK(accord_merkle_tree_consistency(t, 1, path[0], &len) == 0);
            CHECK(len == 3);
            hex_to(path0[2], want, 32);
            CHECK(len == 3 && memcmp(path[2], want, 32) == 0);
        }
        accord_merkle_tree_free(t);
    }
    /* the empty tree */
    accord_merkle_tree *t = NULL;
    accord_merkle_hash got, want;
    CHECK(accord_merkle_tree_new(NULL, 0, &t) == 0);
    accord_merkle_tree_root(t, got);
    hex_to("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", want, 32);
    CHECK(memcmp(got, want, 32) == 0);
    accord_merkle_hash path[ACCORD_MERKLE_MAX_PROOF];
    size_t len;
    CHECK(accord_merkle_tree_inclusion(t, 0, path[0], &len) == ACCORD_EINVAL);
    accord_merkle_tree_free(t);
}

static int same_path(accord_merkle_hash *a, size_t alen, accord_merkle_hash *b, size_t blen)
{
    return alen == blen && memcmp(a, b, alen * sizeof(*a)) == 0;
}

static void test_against_reference(void)
{
    enum { N = 70 };
    accord_merkle_hash leaves[N];
    for (int i = 0; i < N; i++) {
        uint8_t b[2] = {(uint8_t)i, 0x5a};
        accord_merkle_leaf_hash(b, (size_t)(1 + i % 2), leaves[i]);
    }
#define FORGE(x)                                                                                   \
    if (!(x)) {                                                                                    \
        forge_ok = 0;                                                                              \
        fprintf(stderr, "forgery accepted: n=%zu line %d\n", n, __LINE__);                         \
    }
    int root_ok = 1, incl_ok = 1, cons_ok = 1, forge_ok = 1;
    for (size_t n = 1; n <= N; n++) {
        accord_merkle_tree *t = NULL;
        if (accord_merkle_tree_new(leaves[0], n, &t) != 0) {
            CHECK(0);
            return;
        }
        accord_merkle_hash root, ref;
        accord_merkle_tree_root(t, root);
        ref_mth(leaves, n, ref);
        root_ok &= memcmp(root, ref, 32) == 0 && accord_merkle_tree_size(t) == n;
        for (size_t i = 0; i < n; i++) {
            accord_merkle_hash p[ACCORD_MERKLE_MAX_PROOF], rp[ACCORD_MERKLE_MAX_PROOF];
            size_t len = 0, rlen = 0;
            incl_ok &= accord_merkle_tree_inclusion(t, i, p[0], &len) == 0;
            ref_path(i, leaves, n, rp, &rlen);
            incl_ok &= same_path(p, len, rp, rlen);
            incl_ok &= accord_merkle_verify_inclusion(leaves[i], i, n, p[0], len, root) == 0;
            /* forgeries */
            FORGE(accord_merkle_verify_inclusion(leaves[(i + 1) % N], i, n, p[0], len, root) != 0);
            if (n > 1)
                FORGE(accord_merkle_verify_inclusion(leaves[i], (i + 1) % n, n, p[0], len, root) !=
                      0);
            /* no size case: one path can fit trees of several sizes (the verifier only uses
               the size for the path's shape), which is why a root is signed with its size */
            if (len) {
                FORGE(accord_merkle_verify_inclusion(leaves[i], i, n, p[0], len - 1, root) != 0);
                p[len - 1][7] ^= 0x10;
                FORGE(accord_merkle_verify_inclusion(leaves[i], i, n, p[0], len, root) != 0);
                p[len - 1][7] ^= 0x10;
            }
            memcpy(p[len], root, 32);
            FORGE(accord_merkle_verify_inclusion(leaves[i], i, n, p[0], len + 1, root) != 0);
        }
        for (size_t m = 1; m <= n; m++) {
            accord_merkle_hash p[ACCORD_MERKLE_MAX_PROOF], rp[ACCORD_MERKLE_MAX_PROOF], old;
            size_t len = 0, rlen = 0;
            cons_ok &= accord_merkle_tree_consistency(t, m, p[0], &len) == 0;
            if (m < n)
                ref_subproof(m, leaves, n, 1, rp, &rlen);
            cons_ok &= same_path(p, len, rp, rlen);
            ref_mth(leaves, m, old);
            cons_ok &= accord_merkle_verify_consistency(m, n, old, root, p[0], len) == 0;
            if (len) {
                p[0][0] ^= 1;
                FORGE(accord_merkle_verify_consistency(m, n, old, root, p[0], len) != 0);
                p[0][0] ^= 1;
                FORGE(accord_merkle_verify_consistency(m, n, old, root, p[0], len - 1) != 0);
                FORGE(accord_merkle_verify_consistency(m, n, root, root, p[0], len) != 0);
            }
            if (m > 1 && m < n)
                FORGE(accord_merkle_verify_consistency(m - 1, n, old, root, p[0], len) != 0);
        }
        accord_merkle_hash p[ACCORD_MERKLE_MAX_PROOF];
        size_t len;
        CHECK(accord_merkle_tree_consistency(t, 0, p[0], &len) == ACCORD_EINVAL);
        CHECK(accord_merkle_tree_consistency(t, n + 1, p[0], &len) == ACCORD_EINVAL);
        CHECK(accord_merkle_tree_inclusion(t, n, p[0], &len) == ACCORD_EINVAL);
        accord_merkle_tree_free(t);
    }
    CHECK(root_ok);
    CHECK(incl_ok);
    CHECK(cons_ok);
    CHECK(forge_ok);
    accord_merkle_tree_free(NULL);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    test_ct_vectors();
    test_against_reference();
    return t_done();
}
