/*
 * test_sign.c - Ed25519 against RFC 8032 section 7.1, DSSE PAE, and the seed-file rules.
 *
 * 1. RFC 8032 section 7.1 vectors TEST 1, 2, 3, 1024 and SHA(abc): the public key derived from
 *    each seed, the signature of each message (Ed25519 is deterministic, so byte equality), and
 *    verification; then the same with one bit of the message, signature or key changed.
 * 2. PAE: the DSSE specification's example, byte for byte, and sign/verify through it with a
 *    changed type or body.
 * 3. Seed files: save creates mode 0600 and never overwrites; load refuses group/other access,
 *    wrong sizes, symlinks and directories, naming the path; a saved key loads to the same key.
 * 4. Base64 (the signature and path encoding): RFC 4648 section 10 vectors; every length 0..70
 *    round-trips, and the SHA-256 and SHA-256-of-PAE helpers match the RFC 6234 "abc" digest; a
 *    character outside the alphabet, padding in the middle, a wrong length and non-zero unused
 *    bits are refused, so one byte string has one accepted text.
 */
#include "accord.h"
#include "sign.h"
#include "t.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static size_t hex_to(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = strlen(hex) / 2;
    for (size_t i = 0; i < n && i < cap; i++) {
        unsigned v = 0;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
    return n;
}

static const char test1024_msg[] =
    "08b8b2b733424243760fe426a4b54908632110a66c2f6591eabd3345e3e4eb98"
    "fa6e264bf09efe12ee50f8f54e9f77b1e355f6c50544e23fb1433ddf73be84d8"
    "79de7c0046dc4996d9e773f4bc9efe5738829adb26c81b37c93a1b270b20329d"
    "658675fc6ea534e0810a4432826bf58c941efb65d57a338bbd2e26640f89ffbc"
    "1a858efcb8550ee3a5e1998bd177e93a7363c344fe6b199ee5d02e82d522c4fe"
    "ba15452f80288a821a579116ec6dad2b3b310da903401aa62100ab5d1a36553e"
    "06203b33890cc9b832f79ef80560ccb9a39ce767967ed628c6ad573cb116dbef"
    "efd75499da96bd68a8a97b928a8bbc103b6621fcde2beca1231d206be6cd9ec7"
    "aff6f6c94fcd7204ed3455c68c83f4a41da4af2b74ef5c53f1d8ac70bdcb7ed1"
    "85ce81bd84359d44254d95629e9855a94a7c1958d1f8ada5d0532ed8a5aa3fb2"
    "d17ba70eb6248e594e1a2297acbbb39d502f1a8c6eb6f1ce22b3de1a1f40cc24"
    "554119a831a9aad6079cad88425de6bde1a9187ebb6092cf67bf2b13fd65f270"
    "88d78b7e883c8759d2c4f5c65adb7553878ad575f9fad878e80a0c9ba63bcbcc"
    "2732e69485bbc9c90bfbd62481d9089beccf80cfe2df16a2cf65bd92dd597b07"
    "07e0917af48bbb75fed413d238f5555a7a569d80c3414a8d0859dc65a46128ba"
    "b27af87a71314f318c782b23ebfe808b82b0ce26401d2e22f04d83d1255dc51a"
    "ddd3b75a2b1ae0784504df543af8969be3ea7082ff7fc9888c144da2af58429e"
    "c96031dbcad3dad9af0dcbaaaf268cb8fcffead94f3c7ca495e056a9b47acdb7"
    "51fb73e666c6c655ade8297297d07ad1ba5e43f1bca32301651339e22904cc8c"
    "42f58c30c04aafdb038dda0847dd988dcda6f3bfd15c4b4c4525004aa06eeff8"
    "ca61783aacec57fb3d1f92b0fe2fd1a85f6724517b65e614ad6808d6f6ee34df"
    "f7310fdc82aebfd904b01e1dc54b2927094b2db68d6f903b68401adebf5a7e08"
    "d78ff4ef5d63653a65040cf9bfd4aca7984a74d37145986780fc0b16ac451649"
    "de6188a7dbdf191f64b5fc5e2ab47b57f7f7276cd419c17a3ca8e1b939ae49e4"
    "88acba6b965610b5480109c8b17b80e1b7b750dfc7598d5d5011fd2dcc5600a3"
    "2ef5b52a1ecc820e308aa342721aac0943bf6686b64b2579376504ccc493d97e"
    "6aed3fb0f9cd71a43dd497f01f17c0e2cb3797aa2a2f256656168e6c496afc5f"
    "b93246f6b1116398a346f1a641f3b041e989f7914f90cc2c7fff357876e506b5"
    "0d334ba77c225bc307ba537152f3f1610e4eafe595f6d9d90d11faa933a15ef1"
    "369546868a7f3a45a96768d40fd9d03412c091c6315cf4fde7cb68606937380d"
    "b2eaaa707b4c4185c32eddcdd306705e4dc1ffc872eeee475a64dfac86aba41c"
    "0618983f8741c5ef68d3a101e8a3b8cac60c905c15fc910840b94c00a0b9d0";

static const struct {
    const char *name, *sk, *pk, *msg, *sig;
} vectors[] = {
    {"TEST 1", "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b"
     "46bd25bf5f0595bbe24655141438e7a100b"},
    {"TEST 2", "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11"
     "d8c387b2eaeb4302aeeb00d291612bb0c00"},
    {"TEST 3", "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc"
     "6594a7c15e9716ed28dc027beceea1ec40a"},
    {"TEST 1024", "f5e5767cf153319517630f226876b86c8160cc583bc013744c6bf255f5cc0ee5",
     "278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e", test1024_msg,
     "0aab4c900501b3e24d7cdf4663326a3a87df5e4843b2cbdb67cbf6e460fec350aa5371b1508f9f4528ecea23c436d"
     "94b5e8fcd4f681e30a6ac00a9704a188a03"},
    {"TEST SHA(abc)", "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
     "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
     "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3fee"
     "bbd454d4423643ce80e2a9ac94fa54ca49f",
     "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e"
     "0303dca179c138ac17ad9bef1177331a704"},
};

static void test_rfc8032(void)
{
    CHECK(strlen(test1024_msg) == 2046);
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        uint8_t seed[32], pk[32], want_pk[32], sig[64], want_sig[64], msg[1024];
        hex_to(vectors[i].sk, seed, sizeof(seed));
        hex_to(vectors[i].pk, want_pk, sizeof(want_pk));
        hex_to(vectors[i].sig, want_sig, sizeof(want_sig));
        size_t n = hex_to(vectors[i].msg, msg, sizeof(msg));
        accord_sign_key *k = NULL;
        CHECK(accord_sign_key_from_seed(seed, &k) == 0);
        if (!k)
            return;
        accord_sign_key_public(k, pk);
        int ok = memcmp(pk, want_pk, 32) == 0;
        accord_sign(k, msg, n, sig);
        ok &= memcmp(sig, want_sig, 64) == 0;
        ok &= accord_sign_verify(want_pk, msg, n, want_sig) == 0;
        if (!ok)
            fprintf(stderr, "RFC 8032 %s failed\n", vectors[i].name);
        CHECK(ok);
        /* forgeries */
        if (n) {
            msg[n - 1] ^= 1;
            CHECK(accord_sign_verify(want_pk, msg, n, want_sig) == ACCORD_EINVAL);
            msg[n - 1] ^= 1;
        }
        CHECK(accord_sign_verify(want_pk, msg, n + 1, want_sig) == ACCORD_EINVAL);
        want_sig[5] ^= 0x40;
        CHECK(accord_sign_verify(want_pk, msg, n, want_sig) == ACCORD_EINVAL);
        want_sig[5] ^= 0x40;
        want_pk[0] ^= 2;
        CHECK(accord_sign_verify(want_pk, msg, n, want_sig) == ACCORD_EINVAL);
        accord_sign_key_free(k);
    }
    accord_sign_key_free(NULL);
}

static void test_pae(void)
{
    char *p = NULL;
    size_t len = 0;
    CHECK(accord_sign_pae("http://example.com/HelloWorld", "hello world", 11, &p, &len) == 0);
    CHECK_STR(p, "DSSEv1 29 http://example.com/HelloWorld 11 hello world");
    CHECK(len == strlen("DSSEv1 29 http://example.com/HelloWorld 11 hello world"));
    free(p);
    CHECK(accord_sign_pae("", "", 0, &p, &len) == 0);
    CHECK_STR(p, "DSSEv1 0  0 ");
    free(p);
    /* a body with NUL bytes keeps them */
    CHECK(accord_sign_pae("t", "a\0b", 3, &p, &len) == 0);
    CHECK(len == 16 && memcmp(p, "DSSEv1 1 t 3 a\0b", 16) == 0);
    free(p);

    accord_sign_key *k = NULL;
    uint8_t pk[32], sig[64];
    CHECK(accord_sign_key_generate(&k) == 0);
    accord_sign_key_public(k, pk);
    const char *type = "application/vnd.accord.stix+json";
    const char *body = "{\"id\":\"indicator--1\",\"type\":\"indicator\"}";
    CHECK(accord_sign_dsse(k, type, body, strlen(body), sig) == 0);
    CHECK(accord_sign_dsse_verify(pk, type, body, strlen(body), sig) == 0);
    CHECK(accord_sign_dsse_verify(pk, "application/json", body, strlen(body), sig) ==
          ACCORD_EINVAL);
    CHECK(accord_sign_dsse_verify(pk, type, body, strlen(body) - 1, sig) == ACCORD_EINVAL);
    /* the signature is over PAE, not the bare body */
    CHECK(accord_sign_verify(pk, body, strlen(body), sig) == ACCORD_EINVAL);
    accord_sign_key_free(k);
}

static void test_seed_files(void)
{
    char dir[] = "/tmp/accord-sign-XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(0);
        return;
    }
    char path[256], other[256], link[256];
    snprintf(path, sizeof(path), "%s/root.key", dir);
    snprintf(other, sizeof(other), "%s/open.key", dir);
    snprintf(link, sizeof(link), "%s/link.key", dir);
    uint8_t seed[32], pk1[32], pk2[32];
    hex_to(vectors[0].sk, seed, 32);
    accord_sign_key *k = NULL, *k2 = NULL;
    accord_error err = {0};
    CHECK(accord_sign_key_from_seed(seed, &k) == 0);
    CHECK(accord_sign_key_save(k, path, &err) == 0);
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600 && st.st_size == 32);
    CHECK(accord_sign_key_save(k, path, &err) == ACCORD_EIO); /* never overwrites */
    CHECK(accord_sign_key_load(path, &k2, &err) == 0);
    if (k2) {
        accord_sign_key_public(k, pk1);
        accord_sign_key_public(k2, pk2);
        CHECK(memcmp(pk1, pk2, 32) == 0);
    }
    accord_sign_key_free(k2);
    k2 = NULL;

    static const unsigned modes[] = {0640, 0604, 0644, 0660, 0602, 0610, 0601};
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        CHECK(chmod(path, modes[i]) == 0);
        memset(&err, 0, sizeof(err));
        CHECK(accord_sign_key_load(path, &k2, &err) == ACCORD_EINVAL && k2 == NULL);
        CHECK(strstr(err.msg, path) && strstr(err.msg, "group or others"));
    }
    CHECK(chmod(path, 0400) == 0);
    CHECK(accord_sign_key_load(path, &k2, &err) == 0);
    accord_sign_key_free(k2);
    k2 = NULL;

    FILE *f = fopen(other, "wb");
    CHECK(f != NULL);
    if (f) {
        fwrite(seed, 1, 31, f);
        fclose(f);
    }
    CHECK(chmod(other, 0600) == 0);
    CHECK(accord_sign_key_load(other, &k2, &err) == ACCORD_EINVAL);
    CHECK(strstr(err.msg, "32-byte") != NULL);
    CHECK(symlink(path, link) == 0);
    CHECK(accord_sign_key_load(link, &k2, &err) == ACCORD_EIO);
    CHECK(accord_sign_key_load(dir, &k2, &err) != 0);
    snprintf(other, sizeof(other), "%s/missing.key", dir);
    CHECK(accord_sign_key_load(other, &k2, &err) == ACCORD_EIO && strstr(err.msg, "missing.key"));
    CHECK(k2 == NULL);
    accord_sign_key_free(k);

    unlink(link);
    snprintf(other, sizeof(other), "%s/open.key", dir);
    unlink(other);
    unlink(path);
    rmdir(dir);
}

static void test_base64(void)
{
    static const char *const vec[][2] = {{"", ""},
                                         {"f", "Zg=="},
                                         {"fo", "Zm8="},
                                         {"foo", "Zm9v"},
                                         {"foob", "Zm9vYg=="},
                                         {"fooba", "Zm9vYmE="},
                                         {"foobar", "Zm9vYmFy"}};
    char text[200];
    uint8_t bin[80], back[80];
    for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
        size_t n = strlen(vec[i][0]);
        CHECK(sign_b64_encode((const uint8_t *)vec[i][0], n, text, sizeof(text)) == 0);
        CHECK(strcmp(text, vec[i][1]) == 0);
        CHECK(sign_b64_decode(vec[i][1], strlen(vec[i][1]), back, n) == 0);
        CHECK(memcmp(back, vec[i][0], n) == 0);
    }
    for (size_t n = 0; n <= 70; n++) {
        for (size_t i = 0; i < n; i++)
            bin[i] = (uint8_t)(i * 37 + n * 11 + 255 * (i & 1));
        CHECK(sign_b64_encode(bin, n, text, sizeof(text)) == 0 && strlen(text) == SIGN_B64_LEN(n));
        CHECK(sign_b64_decode(text, strlen(text), back, n) == 0 && memcmp(back, bin, n) == 0);
    }
    CHECK(sign_b64_decode("Zg==", 4, back, 2) == -1);  /* wrong length for 2 bytes */
    CHECK(sign_b64_decode("Zh==", 4, back, 1) == -1);  /* unused bits not zero */
    CHECK(sign_b64_decode("Zm9=", 4, back, 2) == -1);  /* unused bits not zero */
    CHECK(sign_b64_decode("Zm9v", 4, back, 2) == -1);  /* no padding where needed */
    CHECK(sign_b64_decode("Z=9v", 4, back, 3) == -1);  /* padding in the middle */
    CHECK(sign_b64_decode("Zm9-", 4, back, 3) == -1);  /* URL-safe alphabet */
    CHECK(sign_b64_decode("Zm9\n", 4, back, 3) == -1); /* whitespace */
    CHECK(sign_b64_decode("AAAA", 4, back, 3) == 0 && !back[0] && !back[1] && !back[2]);
    /* every byte value at every place of a 6-byte text: accepted exactly when in the alphabet */
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    int wrong = 0;
    for (int c = 0; c < 256; c++)
        for (int at = 0; at < 8; at++) {
            char t[9] = "Zm9vYmFy";
            t[at] = (char)c;
            int ok = c && strchr(abc, c) != NULL;
            wrong += (sign_b64_decode(t, 8, back, 6) == 0) != ok;
        }
    CHECK(wrong == 0);
    uint8_t h[32], want[32];
    hex_to("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", want, 32);
    sign_sha256("abc", 3, h);
    CHECK(memcmp(h, want, 32) == 0);
    /* PAE("t", "abc") = "DSSEv1 1 t 3 abc" */
    uint8_t h2[32];
    sign_sha256_pae("t", "abc", 3, h);
    sign_sha256("DSSEv1 1 t 3 abc", 16, h2);
    CHECK(memcmp(h, h2, 32) == 0);
    /* lengths of every width, against the PAE bytes themselves */
    static char body[1234567];
    static const size_t lens[] = {0, 9, 10, 99, 100, 65535, 1234567};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        char *pae;
        size_t plen;
        memset(body, 'x', lens[i]);
        CHECK(accord_sign_pae("application/vnd.accord.stix-object+json", body, lens[i], &pae,
                              &plen) == 0);
        sign_sha256(pae, plen, h2);
        sign_sha256_pae("application/vnd.accord.stix-object+json", body, lens[i], h);
        CHECK(memcmp(h, h2, 32) == 0);
        free(pae);
    }
}

int main(void)
{
    test_base64();
    test_rfc8032();
    test_pae();
    test_seed_files();
    return t_done();
}
