/*
 * nats_msg.c - chunk ids, result parts and the snapshot pointer (see nats_msg.h).  Everything
 * here reads text that came over the network from any publisher with access to the subjects,
 * so each reader checks lengths and overflow and names what was wrong.
 */
#include "nats_msg.h"
#include "util/json.h"

#include <nettle/sha2.h>
#include <stdio.h>
#include <string.h>

int nats_u64_parse(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    if (len == 0 || len > 19)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0'); /* 19 digits never overflow 64 bits */
    }
    *out = v;
    return 0;
}

static int source_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-';
}

int nats_source_valid(const char *s, size_t len)
{
    if (len == 0 || len > NATS_SOURCE_MAX)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!source_byte((unsigned char)s[i]))
            return 0;
    return 1;
}

void nats_source_from(const char *path, char *out)
{
    size_t len = strlen(path), skip = len > NATS_SOURCE_MAX ? len - NATS_SOURCE_MAX : 0;
    size_t n = 0;
    for (size_t i = skip; i < len; i++)
        out[n++] = source_byte((unsigned char)path[i]) ? path[i] : '_';
    if (n == 0)
        out[n++] = '_';
    out[n] = '\0';
}

int nats_chunk_id_parse(const char *s, size_t len, nats_chunk_id *out, const char **why)
{
    const char *colon = len ? memchr(s, ':', len) : NULL;
    size_t slen;
    if (!colon) {
        *why = "no ':' between source and offset";
        return -1;
    }
    slen = (size_t)(colon - s);
    if (!nats_source_valid(s, slen)) {
        *why = "source is not 1-128 bytes of [A-Za-z0-9_-]";
        return -1;
    }
    if (nats_u64_parse(colon + 1, len - slen - 1, &out->offset) != 0) {
        *why = "offset is not a decimal number";
        return -1;
    }
    memcpy(out->source, s, slen);
    out->source[slen] = '\0';
    return 0;
}

int nats_part_parse(const char *s, size_t len, uint32_t *part, uint32_t *parts)
{
    const char *slash = len ? memchr(s, '/', len) : NULL;
    uint64_t a, b;
    if (!slash || nats_u64_parse(s, (size_t)(slash - s), &a) != 0 ||
        nats_u64_parse(slash + 1, len - (size_t)(slash - s) - 1, &b) != 0 || a < 1 || a > b ||
        b > NATS_PARTS_MAX)
        return -1;
    *part = (uint32_t)a;
    *parts = (uint32_t)b;
    return 0;
}

static int get_u64(const ajson_value *o, const char *key, uint64_t *out)
{
    int64_t v;
    if (ajson_int(ajson_get(o, key), &v) != 1 || v < 0)
        return -1;
    *out = (uint64_t)v;
    return 0;
}

int nats_pointer_parse(const char *json, size_t len, nats_pointer *out, const char **why)
{
    ajson_arena a;
    ajson_error je;
    const ajson_value *o;
    const char *h;
    uint64_t parts;
    int rc = -1;
    ajson_arena_init(&a, 1 << 16);
    memset(out, 0, sizeof *out);
    if (!(o = ajson_parse(&a, json, len, &je)) || o->type != AJSON_OBJECT)
        *why = "not a JSON object";
    else if (get_u64(o, "version", &out->version) != 0 || out->version == 0)
        *why = "version is not a positive integer";
    else if (get_u64(o, "parts", &parts) != 0 || parts == 0 || parts > NATS_PARTS_MAX)
        *why = "parts is not an integer in 1..4096";
    else if (get_u64(o, "bytes", &out->bytes) != 0 || out->bytes > (uint64_t)parts << 20)
        *why = "bytes is not an integer of at most parts MiB";
    else if (!(h = ajson_str(ajson_get(o, "sha256"))) || strlen(h) != 64 ||
             strspn(h, "0123456789abcdef") != 64)
        *why = "sha256 is not 64 lower-case hex digits";
    else {
        out->parts = (uint32_t)parts;
        memcpy(out->sha256, h, 65);
        rc = 0;
    }
    ajson_arena_free(&a);
    return rc;
}

int nats_pointer_format(const nats_pointer *p, char *out, size_t outlen)
{
    int n = snprintf(out, outlen,
                     "{\"version\":%llu,\"parts\":%u,\"bytes\":%llu,\"sha256\":\"%s\"}",
                     (unsigned long long)p->version, (unsigned)p->parts,
                     (unsigned long long)p->bytes, p->sha256);
    return n < 0 || (size_t)n >= outlen ? -1 : n;
}

void nats_sha256_hex(const void *data, size_t len, char out[65])
{
    struct sha256_ctx c;
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_init(&c);
    sha256_update(&c, len, data);
    sha256_digest(&c, sizeof d, d);
    for (int i = 0; i < SHA256_DIGEST_SIZE; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}
