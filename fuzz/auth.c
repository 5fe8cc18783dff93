/*
 * fuzz/auth.c - libFuzzer target for the credential parsers of src/auth.c: the API token text
 * (auth_parse_token), the Authorization header scheme split (auth_parse_scheme) and HTTP Basic
 * credentials (auth_parse_basic, base64 through libsodium), plus account-name validation.
 *
 * The parsers are pure functions of their input, so no store is needed.  Each input is given to
 * every parser as is (not NUL-terminated: the parsers take a length), and prefixed with "Basic "
 * and "Bearer ".  Besides memory errors it checks the promises the callers rely on, and traps when
 * one is broken:
 *   - a parsed token has the 64-character shape, and its id is the 16 hex digits at offset 4;
 *   - a parsed scheme's parameter lies inside the input and has no blank at either end;
 *   - parsed Basic credentials point into the caller's buffer, the user is a valid account name
 *     (so it has no ':'), and the password has 1 to ACCORD_PASSWORD_MAX bytes and no NUL;
 *   - parsing is deterministic.
 *
 * Without ACCORD_FUZZ this file is linked with fuzz/replay.c, which runs it on every file of
 * fuzz/corpus/auth/.
 */
#include "auth.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define INPUT_MAX 4096 /* longer inputs are cut: every parser rejects them by length anyway */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_token(const char *text, size_t len)
{
    char id[AUTH_ID_HEX + 1], id2[AUTH_ID_HEX + 1];
    unsigned char secret[AUTH_SECRET_BYTES], secret2[AUTH_SECRET_BYTES];
    if (auth_parse_token(text, len, id, secret) != 0)
        return;
    if (len != AUTH_TOKEN_LEN || memcmp(text, AUTH_TOKEN_PREFIX, AUTH_TOKEN_PREFIX_LEN) != 0 ||
        strlen(id) != AUTH_ID_HEX || memcmp(id, text + AUTH_TOKEN_PREFIX_LEN, AUTH_ID_HEX) != 0)
        __builtin_trap();
    if (auth_parse_token(text, len, id2, secret2) != 0 || strcmp(id, id2) != 0 ||
        memcmp(secret, secret2, sizeof(secret)) != 0)
        __builtin_trap();
}

static void check_scheme(const char *value, size_t len)
{
    const char *param;
    size_t plen;
    int scheme = auth_parse_scheme(value, len, &param, &plen);
    if (scheme != AUTH_SCHEME_BASIC && scheme != AUTH_SCHEME_BEARER)
        return;
    if (param < value || param + plen > value + len)
        __builtin_trap();
    if (plen &&
        (param[0] == ' ' || param[0] == '\t' || param[plen - 1] == ' ' || param[plen - 1] == '\t'))
        __builtin_trap();
    if (scheme == AUTH_SCHEME_BEARER)
        check_token(param, plen);
}

static void check_basic(const char *value, size_t len)
{
    static char buf[AUTH_BASIC_MAX + 1];
    const char *user, *pass;
    if (auth_parse_basic(value, len, buf, sizeof(buf), &user, &pass) != 0)
        return;
    if (user != buf || pass <= user || pass >= buf + sizeof(buf))
        __builtin_trap();
    size_t ulen = strlen(user), plen = strlen(pass);
    if (!auth_name_ok(user, ulen) || memchr(user, ':', ulen) || plen == 0 ||
        plen > ACCORD_PASSWORD_MAX || pass != user + ulen + 1)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > INPUT_MAX)
        size = INPUT_MAX;
    char *in = malloc(size ? size : 1);
    char *prefixed = malloc(size + 8);
    if (!in || !prefixed) {
        free(in);
        free(prefixed);
        return 0;
    }
    memcpy(in, data, size);
    (void)auth_name_ok(in, size);
    check_token(in, size);
    check_scheme(in, size);
    check_basic(in, size);
    memcpy(prefixed, "Basic ", 6);
    memcpy(prefixed + 6, data, size);
    check_basic(prefixed, size + 6);
    memcpy(prefixed, "Bearer ", 7);
    memcpy(prefixed + 7, data, size);
    check_scheme(prefixed, size + 7);
    free(in);
    free(prefixed);
    return 0;
}
