/*
 * test_buf.c - the growable byte buffer's JSON string writer: whatever C string it is given, what
 * it writes parses as one JSON string; valid UTF-8 and control characters come back byte for byte,
 * and each byte that starts no valid UTF-8 sequence comes back as U+FFFD.
 */
#include "util/buf.h"
#include "util/json.h"

#include "t.h"

static void test_json_str(void)
{
    static const struct {
        const char *in, *want;
    } rows[] = {
        {"plain", "plain"},
        {"", ""},
        {"q\"b\\n\n\t\r\x01\x1f\x7f", "q\"b\\n\n\t\r\x01\x1f\x7f"},
        {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"},
        {"a\xff" "b", "a\xef\xbf\xbd" "b"},
        {"\xc3", "\xef\xbf\xbd"},                            /* cut short at the end */
        {"\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd"},            /* overlong '/' */
        {"\xed\xa0\x80x", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdx"}, /* a UTF-16 surrogate */
        {"\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* > U+10FFFF */
        {"\xe2\x82\"", "\xef\xbf\xbd\xef\xbf\xbd\""},        /* cut short by a quote */
    };
    ajson_arena a;
    ajson_arena_init(&a, 0);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        buf b;
        buf_init(&b, 0);
        CHECK(buf_json_str(&b, rows[i].in) == 0);
        ajson_error err;
        ajson_arena_reset(&a);
        const ajson_value *v = ajson_parse(&a, b.p, b.len, &err);
        CHECK(v != NULL && v->type == AJSON_STRING);
        if (v)
            CHECK_STR(ajson_str(v), rows[i].want);
        buf_free(&b);
    }
    ajson_arena_free(&a);
}

int main(void)
{
    test_json_str();
    return t_done();
}
