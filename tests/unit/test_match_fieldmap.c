/*
 * test_match_fieldmap.c - field maps from configuration (src/match_fieldmap.c): the syntax and
 * its errors (file:line), and lines of another JSON format matched through a map, with the
 * built-in Zeek and Suricata keys still read beside them.
 */
#include "match.h"
#include "t.h"

static accord_snapshot *snap(void)
{
    static const char *pats[] = {
        "[ipv4-addr:value = '198.51.100.7']",
        "[domain-name:value LIKE '%.evil.example']",
        "[url:value = 'http://evil.example/a']",
        ("[file:hashes.'SHA-256' = "
         "'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']"),
        "[network-traffic:dst_port = 4444 AND network-traffic:dst_ref.value = '203.0.113.9']",
    };
    accord_snapshot_builder *b = NULL;
    accord_snapshot *s = NULL;
    CHECK(accord_snapshot_builder_new(1700000000, &b) == 0);
    for (size_t i = 0; i < sizeof pats / sizeof pats[0]; i++) {
        char id[64];
        snprintf(id, sizeof id, "indicator--00000000-0000-4000-8000-%012zu", i);
        CHECK(accord_snapshot_builder_add(b, id, "n", pats[i], 0, 0, NULL) == 0);
    }
    CHECK(accord_snapshot_build(b, &s, NULL) == 0);
    accord_snapshot_builder_free(b);
    return s;
}

/* The parse error of text, "" when it parses. */
static const char *parse_error(const char *text)
{
    static accord_error err;
    accord_field_map *fm = NULL;
    memset(&err, 0, sizeof err);
    if (accord_field_map_parse(text, strlen(text), "m.conf", &fm, &err) == 0) {
        CHECK(fm != NULL);
        accord_field_map_free(fm);
        return "";
    }
    CHECK(fm == NULL);
    CHECK(err.code == ACCORD_EINVAL);
    return err.msg;
}

static void test_errors(void)
{
    char big[5000];
    CHECK_STR(parse_error("# only a comment\n\n   \n"), "");
    CHECK_STR(parse_error("a = ip\nb.c = sorce-ip\n"),
              "m.conf:2: unknown role 'sorce-ip' (one of time, src-ip, dst-ip, src-port, "
              "dst-port, proto, ip, domain, host, uri, url, email, md5, sha1, sha256, sha512, "
              "cert-fingerprint, user-agent, text, url-host, fqdn, none)");
    CHECK_STR(parse_error("\n\na.b\n"), "m.conf:3: expected PATH = ROLE");
    CHECK_STR(parse_error("a = \n"), "m.conf:1: expected a role after '='");
    CHECK_STR(parse_error("a = ip ip\n"), "m.conf:1: unexpected text after the role");
    CHECK_STR(parse_error("a..b = ip\n"), "m.conf:1: expected a key (a word, or a quoted key)");
    CHECK_STR(parse_error("\"a = ip\n"), "m.conf:1: unterminated quoted key");
    CHECK_STR(parse_error("\"a\\n\" = ip\n"),
              "m.conf:1: only \\\" and \\\\ may follow a backslash in a key");
    CHECK_STR(parse_error("x.y = ip\n# c\n\"x\".y = domain\n"),
              "m.conf:3: this key was mapped already on line 1");
    CHECK_STR(parse_error("a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q = ip\n"),
              "m.conf:1: a path of more than 16 keys");
    memset(big, 'k', sizeof big - 8);
    memcpy(big + sizeof big - 8, " = ip\n", 7);
    CHECK_STR(parse_error(big), "m.conf:1: a line of more than 4095 bytes");
    /* overriding a built-in key is allowed, once */
    CHECK_STR(parse_error("src_ip = none\nid.orig_h = ip\n\"id.orig_h\" = domain\n"), "");
}

/* Matches text with map fm (NULL: built-in) into out as "line field value;" items. */
static void matches(accord_snapshot *s, const accord_field_map *fm, const char *text, char *out,
                    size_t outlen)
{
    accord_matcher *m = NULL;
    accord_match mt;
    size_t n = 0;
    out[0] = '\0';
    CHECK(accord_matcher_new(s, &m) == 0);
    accord_matcher_set_field_map(m, fm);
    CHECK(accord_matcher_match_lines(m, text, strlen(text), 1700000000) >= 0);
    while (accord_matcher_next(m, &mt) == 1 && n < outlen)
        n += (size_t)snprintf(out + n, outlen - n, "%llu %s %.*s;", (unsigned long long)mt.line,
                              mt.field ? mt.field : "-", (int)mt.value_len,
                              mt.value ? mt.value : "");
    accord_matcher_free(m);
}

static void test_matching(void)
{
    static const char conf[] = "# a firewall and proxy log\n"
                               "event.src.address = src-ip\n"
                               "event.dst.address = dst-ip   # the peer\n"
                               "event.dst.port = dst-port\n"
                               "\"@timestamp\" = time\n"
                               "lookups.qname = domain\n"
                               "req.h = host\n"
                               "req.u = uri\n"
                               "\"file.sum\" = sha256\n"
                               "src_ip = none\n"
                               "ref = url-host\n"
                               "who = fqdn\n";
    static const char lines[] =
        "{\"@timestamp\":\"2026-01-01T00:00:00Z\",\"event\":{\"src\":{\"address\":\"10.0.0.1\"},"
        "\"dst\":{\"address\":\"198.51.100.7\"}}}\n"
        "{\"lookups\":[{\"qname\":\"a.evil.example\"},{\"qname\":\"Good.Example.\"}]}\n"
        "{\"req\":{\"h\":\"EVIL.example\",\"u\":\"/a\"}}\n"
        "{\"file.sum\":\"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855\"}\n"
        "{\"event\":{\"dst\":{\"address\":\"203.0.113.9\",\"port\":4444}}}\n"
        "{\"ts\":1,\"id.orig_h\":\"198.51.100.7\",\"src_ip\":\"198.51.100.7\"}\n"
        "{\"ref\":\"HTTP://Evil.Example/a\",\"who\":\"x.evil.example\"}\n"
        "{\"ref\":\"https://u@c2.evil.example:8443\",\"who\":\"evil\"}\n";
    accord_snapshot *s = snap();
    accord_field_map *fm = NULL;
    accord_error err = {0};
    char got[2048];
    CHECK(accord_field_map_parse(conf, sizeof conf - 1, "m.conf", &fm, &err) == 0);
    matches(s, fm, lines, got, sizeof got);
    /* line 5: the address-and-port key through the configured keys; line 6: the
     * built-in Zeek key still read, the overridden Suricata key not */
    CHECK_STR(got, "1 event.dst.address 198.51.100.7;2 lookups.qname a.evil.example;"
                   "3 url http://evil.example/a;"
                   "4 file.sum e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855;"
                   "5 event.dst.address 203.0.113.9:4444;6 id.orig_h 198.51.100.7;"
                   /* a URL and its host; a host's own name only with a dot */
                   "7 ref http://evil.example/a;7 who x.evil.example;8 ref c2.evil.example;");
    /* the built-in map alone sees only the Zeek and Suricata keys */
    matches(s, NULL, lines, got, sizeof got);
    CHECK_STR(got, "6 id.orig_h 198.51.100.7;6 src_ip 198.51.100.7;");
    accord_field_map_free(fm);
    accord_snapshot_unref(s);
}

/* The perfect hash of short keys (mfmap_find16, what the JSON extractor uses) finds exactly what
 * mfmap_find finds: every key of every built-in node, and random near misses (a key cut short,
 * one byte changed, one byte added, random bytes). */
static void check_find16(const mfmap_node *n, int depth, size_t *checked, size_t *bad)
{
    uint64_t r = 0x9E3779B97F4A7C15ull ^ (uint64_t)depth;
    CHECK(n->fseed != 0);
    for (size_t i = 0; i < n->n; i++) {
        const mfmap_key *k = &n->keys[i];
        if (k->sub)
            check_find16(k->sub, depth + 1, checked, bad);
        if (k->key_len > 16)
            continue;
        for (int t = 0; t < 200; t++) {
            char kb[40];
            size_t len = k->key_len;
            r ^= r << 13, r ^= r >> 7, r ^= r << 17;
            memset(kb, (int)(r >> 56), sizeof kb); /* what follows the key: anything */
            memcpy(kb, k->key, len);
            if (t % 4 == 1 && len > 1)
                len--;
            else if (t % 4 == 2)
                kb[r % len] = (char)(r >> 8);
            else if (t % 4 == 3 && len < 16)
                kb[len++] = (char)(r >> 16);
            if (t >= 100) { /* random bytes of a random length */
                len = 1 + (size_t)(r >> 20) % 16;
                for (size_t j = 0; j < len; j++)
                    kb[j] = "abcdeghimnoprstu_.0123"[(r >> (j * 3)) % 22];
            }
            *bad += mfmap_find16(n, kb, len) != mfmap_find(n, kb, len);
            ++*checked;
        }
    }
}

/* Every node of the built-in map has its perfect hash and needs no scan on a miss (the root's
 * ~70 keys need the 512-slot table to find a seed). */
static void check_indexed(const mfmap_node *n, size_t *nodes, size_t *bad)
{
    ++*nodes;
    *bad += n->fseed == 0 || n->linear != 0;
    for (size_t i = 0; i < n->n; i++)
        if (n->keys[i].sub)
            check_indexed(n->keys[i].sub, nodes, bad);
}

static void test_find16(void)
{
    size_t checked = 0, bad = 0, nodes = 0;
    check_find16(&mfmap_builtin()->root, 0, &checked, &bad);
    CHECK(checked > 5000);
    CHECK(bad == 0);
    check_indexed(&mfmap_builtin()->root, &nodes, &bad);
    CHECK(nodes >= 20);
    CHECK(bad == 0);
    CHECK(mfmap_builtin()->root.n >= 70);
}

/* Keys whose (length, first, last) slot is full are found by the scan. */
static void test_collisions(void)
{
    static const char conf[] = "a1z = ip\na2z = ip\na3z = ip\na4z = ip\na5z = ip\na6z = ip\n";
    accord_field_map *fm = NULL;
    const mfmap *m;
    CHECK(accord_field_map_parse(conf, sizeof conf - 1, NULL, &fm, NULL) == 0);
    m = mfmap_of(fm);
    CHECK(m->root.linear == 1);
    CHECK(mfmap_builtin()->root.linear == 0);
    for (char c = '1'; c <= '6'; c++) {
        char k[4] = {'a', c, 'z', 0};
        const mfmap_key *mk = mfmap_find(&m->root, k, 3);
        CHECK(mk && mk->role == MR_IP && strcmp(m->names[mk->field], k) == 0);
    }
    CHECK(mfmap_find(&m->root, "a7z", 3) == NULL);
    CHECK(mfmap_find(&m->root, "dns", 3) != NULL); /* the built-in keys are kept */
    accord_field_map_free(fm);
}

int main(void)
{
    test_errors();
    test_matching();
    test_collisions();
    test_find16();
    return t_done();
}
