/* test_nats_msg.c - chunk ids, result parts and the snapshot pointer (src/nats_msg.c). */
#include "nats_msg.h"
#include "t.h"

#include <string.h>

static void test_chunk_id(void)
{
    nats_chunk_id id;
    const char *why = NULL;
    CHECK(nats_chunk_id_parse("conn_log:524288", 15, &id, &why) == 0);
    CHECK_STR(id.source, "conn_log");
    CHECK(id.offset == 524288);
    CHECK(nats_chunk_id_parse("a:0", 3, &id, &why) == 0 && id.offset == 0);
    CHECK(nats_chunk_id_parse("noколон", strlen("noколон"), &id, &why) == -1);
    CHECK(why && strstr(why, "':'"));
    CHECK(nats_chunk_id_parse(":5", 2, &id, &why) == -1 && strstr(why, "source"));
    CHECK(nats_chunk_id_parse("a.b:5", 5, &id, &why) == -1); /* a dot is no subject token */
    CHECK(nats_chunk_id_parse("a:", 2, &id, &why) == -1 && strstr(why, "offset"));
    CHECK(nats_chunk_id_parse("a:-1", 4, &id, &why) == -1);
    CHECK(nats_chunk_id_parse("a:99999999999999999999", 22, &id, &why) == -1); /* 20 digits */
    CHECK(nats_chunk_id_parse("a:9999999999999999999", 21, &id, &why) == 0);
}

static void test_source_from(void)
{
    char s[NATS_SOURCE_MAX + 1], longp[400];
    nats_source_from("/var/log/zeek/conn.log", s);
    CHECK_STR(s, "_var_log_zeek_conn_log");
    nats_source_from("", s);
    CHECK_STR(s, "_");
    memset(longp, 'x', sizeof longp - 1);
    longp[sizeof longp - 1] = '\0';
    longp[sizeof longp - 2] = 'Z'; /* the end is kept, where file names differ */
    nats_source_from(longp, s);
    CHECK(strlen(s) == NATS_SOURCE_MAX && s[NATS_SOURCE_MAX - 1] == 'Z');
    CHECK(nats_source_valid(s, strlen(s)));
}

static void test_part(void)
{
    uint32_t a, b;
    CHECK(nats_part_parse("1/1", 3, &a, &b) == 0 && a == 1 && b == 1);
    CHECK(nats_part_parse("3/7", 3, &a, &b) == 0 && a == 3 && b == 7);
    CHECK(nats_part_parse("0/7", 3, &a, &b) == -1);
    CHECK(nats_part_parse("8/7", 3, &a, &b) == -1);
    CHECK(nats_part_parse("1/4097", 6, &a, &b) == -1);
    CHECK(nats_part_parse("1", 1, &a, &b) == -1);
}

static void test_pointer(void)
{
    nats_pointer p, q;
    const char *why = NULL;
    char text[256];
    const char *ok = "{\"version\":3,\"parts\":2,\"bytes\":1048577,\"sha256\":"
                     "\"33c14ad973a6e76457fbe06dfe092342e15c7cd97476be3e7c5f5b67cf388213\"}";
    CHECK(nats_pointer_parse(ok, strlen(ok), &p, &why) == 0);
    CHECK(p.version == 3 && p.parts == 2 && p.bytes == 1048577);
    CHECK(nats_pointer_format(&p, text, sizeof text) > 0);
    CHECK(nats_pointer_parse(text, strlen(text), &q, &why) == 0 && memcmp(&p, &q, sizeof p) == 0);
    CHECK(nats_pointer_format(&p, text, 20) == -1);
    CHECK(nats_pointer_parse("[]", 2, &p, &why) == -1 && strstr(why, "object"));
    CHECK(nats_pointer_parse("{\"version\":0}", 13, &p, &why) == -1 && strstr(why, "version"));
    const char *big = "{\"version\":1,\"parts\":1,\"bytes\":2000000,\"sha256\":\"\"}";
    const char *upper = "{\"version\":1,\"parts\":1,\"bytes\":2,\"sha256\":\"ABC\"}";
    CHECK(nats_pointer_parse(big, strlen(big), &p, &why) == -1 && strstr(why, "bytes"));
    CHECK(nats_pointer_parse(upper, strlen(upper), &p, &why) == -1 && strstr(why, "sha256"));
}

static void test_sha256(void)
{
    char h[65];
    nats_sha256_hex("abc", 3, h);
    CHECK_STR(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

/* Keys made by an independent encoder (Python's base32 and crc_hqx, libsodium's
 * crypto_sign_seed_keypair) from the seed bytes 1..32. */
static void test_nkey(void)
{
    static const char seed_text[] = "SUAACAQDAQCQMBYIBEFAWDANBYHRAEISCMKBKFQXDAMRUGY4DUPB6IC5CQ";
    static const uint8_t pub[32] = {
        0x79, 0xb5, 0x56, 0x2e, 0x8f, 0xe6, 0x54, 0xf9, 0x40, 0x78, 0xb1, 0x12, 0xe8, 0xa9, 0x8b, 0xa7,
        0x90, 0x1f, 0x85, 0x3a, 0xe6, 0x95, 0xbe, 0xd7, 0xe0, 0xe3, 0x91, 0x0b, 0xad, 0x04, 0x96, 0x64};
    char file[300], out[NATS_NKEY_PUBLIC_LEN + 1], bad[sizeof seed_text];
    uint8_t seed[32];
    const char *why = NULL;
    CHECK(nats_nkey_seed_find(seed_text, strlen(seed_text), seed, &why) == 0);
    for (int i = 0; i < 32; i++)
        CHECK(seed[i] == i + 1);
    /* as nsc writes a .nk file: among other lines, with CRLF */
    snprintf(file, sizeof file, "-----BEGIN USER NKEY SEED-----\r\n  %s\r\n------END------\r\n",
             seed_text);
    CHECK(nats_nkey_seed_find(file, strlen(file), seed, &why) == 0 && seed[31] == 32);
    nats_nkey_user_public(pub, out);
    CHECK_STR(out, "UB43KVROR7TFJ6KAPCYRF2FJROTZAH4FHLTJLPWX4DRZCC5NASLGJBFE");
    memcpy(bad, seed_text, sizeof bad);
    bad[20] = bad[20] == 'A' ? 'B' : 'A';
    CHECK(nats_nkey_seed_find(bad, strlen(bad), seed, &why) == -1 && strstr(why, "checksum"));
    bad[20] = '1'; /* not in the alphabet */
    CHECK(nats_nkey_seed_find(bad, strlen(bad), seed, &why) == -1 && strstr(why, "base32"));
    CHECK(nats_nkey_seed_find("UB43KVROR7TFJ6KAPCYRF2FJROTZAH4FHLTJLPWX4DRZCC5NASLGJBFE", 56, seed,
                              &why) == -1 &&
          strstr(why, "no user nkey seed"));
    CHECK(nats_nkey_seed_find("", 0, seed, &why) == -1);
}

static void test_records(void)
{
    flow_exporter ex = {.family = 6, .port = 2055}, e2;
    flow_rec r = {.version = 10, .family = 4, .proto = 6, .has_ports = 1, .sport = 40000,
                  .dport = 443, .bytes = 1ull << 40, .packets = 3, .start_ms = -5,
                  .end_ms = 1700000000123LL, .export_s = 1700000001, .sampling = 100,
                  .domain = 7, .template_id = 256, .exporter = &ex},
             back;
    uint8_t rec[NATS_FLOW_REC_LEN], chunk[2 * (4 + NATS_FLOW_REC_LEN)];
    const uint8_t *p;
    const char *why = NULL;
    size_t off = 0, n;
    ex.addr[15] = 1;
    r.src[0] = 10;
    memcpy(r.dst, "\xc6\x33\x64\x07", 4);
    nats_flow_put(&r, rec);
    CHECK(nats_flow_get(rec, sizeof rec, &back, &e2, &why) == 0);
    CHECK(back.exporter == &e2 && e2.family == 6 && e2.port == 2055 && e2.addr[15] == 1);
    back.exporter = r.exporter;
    CHECK(memcmp(&back.src, &r.src, 16) == 0 && back.dst[3] == 7 && back.sport == 40000 &&
          back.dport == 443 && back.bytes == r.bytes && back.start_ms == -5 &&
          back.end_ms == r.end_ms && back.export_s == r.export_s && back.sampling == 100 &&
          back.domain == 7 && back.template_id == 256 && back.has_ports == 1);
    r.exporter = NULL; /* a record from a file has no exporter */
    nats_flow_put(&r, rec);
    CHECK(nats_flow_get(rec, sizeof rec, &back, &e2, &why) == 0 && back.exporter == NULL);
    CHECK(nats_flow_get(rec, sizeof rec - 1, &back, &e2, &why) == -1 && strstr(why, "length"));
    rec[0] = 8;
    CHECK(nats_flow_get(rec, sizeof rec, &back, &e2, &why) == -1 && strstr(why, "version"));
    rec[0] = 10;
    rec[1] = 5;
    CHECK(nats_flow_get(rec, sizeof rec, &back, &e2, &why) == -1 && strstr(why, "family"));
    rec[1] = 4;
    memset(rec + 8 + 80 + 12 + 16, 0x7f, 8); /* start_ms far in the future */
    CHECK(nats_flow_get(rec, sizeof rec, &back, &e2, &why) == -1 && strstr(why, "time"));
    /* framing: two records, then the second cut short */
    nats_rec_len(NATS_FLOW_REC_LEN, chunk);
    nats_rec_len(NATS_FLOW_REC_LEN, chunk + 4 + NATS_FLOW_REC_LEN);
    CHECK(nats_rec_next(chunk, sizeof chunk, &off, &p, &n, &why) == 1 && p == chunk + 4 &&
          n == NATS_FLOW_REC_LEN);
    CHECK(nats_rec_next(chunk, sizeof chunk, &off, &p, &n, &why) == 1 && off == sizeof chunk);
    CHECK(nats_rec_next(chunk, sizeof chunk, &off, &p, &n, &why) == 0);
    off = 0;
    CHECK(nats_rec_next(chunk, sizeof chunk - 1, &off, &p, &n, &why) == 1);
    CHECK(nats_rec_next(chunk, sizeof chunk - 1, &off, &p, &n, &why) == -1 && strstr(why, "longer"));
    off = sizeof chunk - 2;
    CHECK(nats_rec_next(chunk, sizeof chunk, &off, &p, &n, &why) == -1 && strstr(why, "cut"));
}

int main(void)
{
    test_chunk_id();
    test_source_from();
    test_part();
    test_pointer();
    test_sha256();
    test_nkey();
    test_records();
    return t_done();
}
