/*
 * match_event.c - what an event is: its fields turned into items (normalised values of a kind),
 * its time, and the observation the pattern engine sees for it.
 *
 * The fast tables and the pattern engine must agree on every event, so both are fed from the
 * same items: the fast path looks each item up, and the observation written for the pattern
 * engine holds one SCO per item with the item's normalised text.  How a field becomes items:
 *
 *   role                      item
 *   SRC_IP, DST_IP, IP        an IPv4 address (dotted quad, no leading zeros) or IPv6 address;
 *                             anything else gives no item
 *   NAME, HOST                an address when it parses as one, else a domain name
 *                             (match_domain.c normalisation; HOST drops a ":port")
 *   URI (+ HOST)              the URL "http://" HOST URI (or URI itself when it is absolute),
 *                             normalised (match_string.c)
 *   URL                       the URL, normalised
 *   URL_HOST                  the URL, normalised, and then its host as a NAME item (a
 *                             referrer's, a redirect's)
 *   FQDN                      as NAME, but a name without a dot gives no item (a host's own
 *                             name: DHCP, HELO)
 *   HDR_NAME, HDR_HOST        a header's name and value: the value after the name
 *                             ":authority" is a HOST item, other headers give none
 *   EMAIL                     an e-mail address, lower case, <> removed
 *   MD5, SHA1, SHA256         a file digest of that length in hex
 *   CERT_FP, CERT_SHA1        a certificate digest: MD5, SHA-1 or SHA-256 by its length, ':'
 *                             separators allowed
 *   UA                        a user agent: the string as it is (not empty; the first only)
 *   ANY (plain text)          by shape: address, 32/40/64/128 hex digits (file digest), "://"
 *                             (URL), '@' (e-mail), else a domain name
 *   TIME, ports, PROTO        no item: the event time and the network-traffic object
 *
 * The observation (STIX 2.0-style observed-data with an "objects" dictionary, which the engine
 * reads for 2.1 patterns too):
 *
 *   key   object
 *   "0".. one per item in order: {"type":"ipv4-addr"|"ipv6-addr"|"domain-name"|"url"|
 *         "email-addr","value":TEXT}; digests: {"type":"file"|"x509-certificate",
 *         "hashes":{"MD5"|"SHA-1"|"SHA-256"|"SHA-512":HEX}}, consecutive digests of different
 *         algorithms sharing one object
 *   next  {"type":"network-traffic","src_ref":K,"dst_ref":K,"src_port":N,"dst_port":N,
 *         "protocols":[PROTO],"extensions":{"http-request-ext":{"request_header":
 *         {"User-Agent":UA}}}} when the event has a source or destination address (the first
 *         of each) or a user agent (the first; it is no object of its own); ports only when
 *         they are integers 0-65535 (the first such of each side)
 *
 * first_observed = last_observed = the event time (1970-01-01 when it has none), number 1.
 * Text that is not valid UTF-8 is written with U+FFFD in place of the bad bytes (a pattern
 * literal cannot hold such bytes, so nothing that could match is lost).
 */
#include "match.h"
#include "pattern.h"
#include "util/cpu.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *mfield_name(const mfmap *map, unsigned f)
{
    if (f == MFIELD_URL)
        return "url";
    if (f == MFIELD_VALUE)
        return "value";
    return f < map->nnames ? map->names[f] : "?";
}

/* ------------------------------------------------------------------------------------------ */
/* Items                                                                                        */

static int item_ip(const char *s, size_t len, mitem *it, mscratch *sc)
{
    if (mip_parse4(s, len, &it->k.v4) == 0) {
        it->kind = MK_IPV4;
        it->text = s;
        it->len = (uint32_t)len;
        return 1;
    }
    (void)sc;
    if (mip_parse6(s, len, it->k.v6) < 0)
        return 0;
    it->kind = MK_IPV6;
    it->text = s; /* as written: mitem_canon6 gives the canonical text where it is shown */
    it->len = (uint32_t)len;
    return 1;
}

/* A host without its ":port" (not for bracketed or bare IPv6 literals). */
static size_t strip_port(const char *s, size_t len)
{
    const char *c = memchr(s, ':', len);
    size_t i;
    if (!c || memchr(c + 1, ':', len - (size_t)(c - s) - 1))
        return len;
    for (i = (size_t)(c - s) + 1; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return len;
    return (size_t)(c - s);
}

/* Whether a text ending in c may be an address: a dotted quad ends in a digit, an IPv6 text in
 * a hex digit, ':' or a dotted quad's digit.  Most names end in a letter after f and skip both
 * parses. */
static inline int may_be_ip(char c)
{
    unsigned l = (unsigned char)c | 0x20;    /* 'A'-'F' as 'a'-'f'; '0'-'9' and ':' stay */
    return (l - '0' <= 10) | (l - 'a' <= 5); /* '0'..'9' and ':' are contiguous */
}

static int item_name(const char *s, size_t len, int host, mitem *it, mscratch *sc)
{
    char *o;
    long n;
    if (host)
        len = strip_port(s, len);
    if (len && may_be_ip(s[len - 1]) && item_ip(s, len, it, sc))
        return 1;
    if (mdomain_is_norm(s, len)) { /* the usual case: no copy */
        it->kind = MK_DOMAIN;
        it->text = s;
        it->len = (uint32_t)len;
        return 1;
    }
    if (len == 0 || len > MDOMAIN_MAX + 1 || !(o = ajson_arena_alloc(sc, len + 1)))
        return 0;
    n = mdomain_norm(s, len, o, len + 1);
    if (n < 0)
        return 0;
    it->kind = MK_DOMAIN;
    it->text = o;
    it->len = (uint32_t)n;
    return 1;
}

static int item_norm(const char *s, size_t len, int kind, mitem *it, mscratch *sc)
{
    char *o = ajson_arena_alloc(sc, len + 2);
    long n;
    if (!o)
        return 0;
    n = kind == MK_URL ? murl_norm(s, len, o, len + 2) : memail_norm(s, len, o, len + 2);
    if (n < 0)
        return 0;
    it->kind = (uint8_t)kind;
    it->text = o;
    it->len = (uint32_t)n;
    return 1;
}

/* The hex text s[0..n) (n even) as n / 2 bytes at d and lower-case text at t (NUL-terminated):
 * 0, or -1 for a byte that is no hex digit.  The portable way, a byte at a time. */
static int hex_bytes(const char *s, size_t n, char *t, uint8_t *d)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n / 2; i++) {
        unsigned hi = mhex_v1[(unsigned char)s[2 * i]], lo = mhex_v1[(unsigned char)s[2 * i + 1]];
        if (!hi || !lo)
            return -1;
        d[i] = (uint8_t)((hi - 1) << 4 | (lo - 1));
        t[2 * i] = digits[hi - 1];
        t[2 * i + 1] = digits[lo - 1];
    }
    t[n] = '\0';
    return 0;
}

#if defined(__x86_64__) && defined(__GNUC__)
#define HEX_SSSE3 1
#include <tmmintrin.h>

/* hex_bytes sixteen digits at a time, for n >= 16 (every digest length): the last block is the
 * one that ends at n, overlapping the one before when n is no multiple of 16 (its bytes are
 * written twice, the same).  A digit is lower-cased by setting bit 5 (which digits have), its
 * value is a digit's less '0' or a letter's less 'a' plus 10, and one multiply-add makes a
 * byte of each pair (x16, x1). */
__attribute__((target("ssse3"))) static int hex_ssse3(const char *s, size_t n, char *t,
                                                      uint8_t *d)
{
    for (size_t i = 0;; i += 16) {
        size_t at = i + 16 <= n ? i : n - 16;
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + at));
        __m128i lw = _mm_or_si128(v, _mm_set1_epi8(0x20));
        __m128i dg = _mm_sub_epi8(v, _mm_set1_epi8('0'));
        __m128i lt = _mm_sub_epi8(lw, _mm_set1_epi8('a'));
        __m128i isd = _mm_cmpeq_epi8(_mm_min_epu8(dg, _mm_set1_epi8(9)), dg);
        __m128i isl = _mm_cmpeq_epi8(_mm_min_epu8(lt, _mm_set1_epi8(5)), lt);
        __m128i nib;
        if (_mm_movemask_epi8(_mm_or_si128(isd, isl)) != 0xFFFF)
            return -1;
        nib = _mm_or_si128(_mm_and_si128(isd, dg),
                           _mm_andnot_si128(isd, _mm_add_epi8(lt, _mm_set1_epi8(10))));
        nib = _mm_maddubs_epi16(nib, _mm_set1_epi16(0x0110)); /* bytes 16, 1 */
        _mm_storeu_si128((__m128i *)(void *)(t + at), lw);
        _mm_storel_epi64((__m128i *)(void *)(d + at / 2), _mm_packus_epi16(nib, nib));
        if (at + 16 >= n)
            break;
    }
    t[n] = '\0';
    return 0;
}
#endif

/* 0: not yet asked, 1: hex_ssse3, 2: hex_bytes (relaxed atomics, as in match_ip.c). */
static int hex_mode;

void mitems_force_portable(int on)
{
    __atomic_store_n(&hex_mode, on ? 2 : 0, __ATOMIC_RELAXED);
    mip_parse4_force(on ? 2 : 0);
}

static int hex_decode(const char *s, size_t n, char *t, uint8_t *d)
{
#if defined(HEX_SSSE3)
    int mode = __atomic_load_n(&hex_mode, __ATOMIC_RELAXED);
    if (mode == 0) {
        mode = cpu_has_ssse3() ? 1 : 2;
        __atomic_store_n(&hex_mode, mode, __ATOMIC_RELAXED);
    }
    if (mode == 1 && n >= 16)
        return hex_ssse3(s, n, t, d);
#endif
    return hex_bytes(s, n, t, d);
}

/* A digest of kind (or, for kind 0, of the certificate kind its length says).  One pass decodes
 * the bytes and writes the lower-case text; ':' separators are dropped first only for
 * certificate fingerprints that have them. */
static int item_digest(const char *s, size_t len, int kind, mitem *it, mscratch *sc)
{
    char hex[129], *t;
    size_t n = len;
    uint8_t *d;
    if (kind == 0 && memchr(s, ':', len)) {
        n = 0;
        for (size_t i = 0; i < len && n < sizeof hex; i++)
            if (s[i] != ':')
                hex[n++] = s[i];
        s = hex;
    }
    if (kind == 0)
        kind = n == 32 ? MK_X509_MD5 : n == 40 ? MK_X509_SHA1 : n == 64 ? MK_X509_SHA256 : 0;
    if (kind == 0 || n != 2 * mhash_kinds[kind - MK_HASH_FIRST].len)
        return 0;
    if (!(t = ajson_arena_alloc(sc, n + 1 + n / 2)))
        return 0;
    d = (uint8_t *)t + n + 1;
    if (hex_decode(s, n, t, d) < 0)
        return 0;
    it->kind = (uint8_t)kind;
    it->k.digest = d;
    it->text = t;
    it->len = (uint32_t)n;
    return 1;
}

int mitem_canon6(mitem *it, mscratch *sc)
{
    char *t = ajson_arena_alloc(sc, 48);
    if (!t)
        return -1;
    it->len = (uint32_t)mip_format(6, it->k.v6, t, 48);
    it->text = t;
    return 0;
}

/* The roles whose string fields are items of their own (item_of), one bit each. */
#define ITEM_ROLES                                                                                 \
    (1u << MR_SRC_IP | 1u << MR_DST_IP | 1u << MR_IP | 1u << MR_NAME | 1u << MR_HOST |             \
     1u << MR_URL | 1u << MR_EMAIL | 1u << MR_MD5 | 1u << MR_SHA1 | 1u << MR_SHA256 |              \
     1u << MR_SHA512 | 1u << MR_CERT_FP | 1u << MR_CERT_SHA1 | 1u << MR_UA | 1u << MR_ANY |        \
     1u << MR_FQDN)
_Static_assert(MR_HDR_HOST < 32, "ITEM_ROLES holds a bit per role");
/* URL_HOST (two items) and HDR_HOST (an item after the right header name) are no ITEM_ROLES:
 * they take the branch of the roles without items (items_more), so the usual roles pay nothing
 * for them. */
_Static_assert(MR_URL_HOST > MR_ANY && MR_HDR_NAME > MR_URL_HOST && MR_HDR_HOST > MR_HDR_NAME,
               "the roles items_more serves come last");

/* The item of one string field whose role is in ITEM_ROLES: 1, or 0 for none. */
static int item_of(const mfield *f, mitem *it, mscratch *sc)
{
    memset(it, 0, sizeof *it);
    it->role = (uint8_t)f->role;
    it->field = f->field;
    switch (f->role) {
    case MR_SRC_IP:
    case MR_DST_IP:
    case MR_IP:
        return item_ip(f->p, f->len, it, sc);
    case MR_NAME:
        return item_name(f->p, f->len, 0, it, sc);
    case MR_HOST:
        return item_name(f->p, f->len, 1, it, sc);
    case MR_URL:
        return item_norm(f->p, f->len, MK_URL, it, sc);
    case MR_EMAIL:
        return item_norm(f->p, f->len, MK_EMAIL, it, sc);
    case MR_MD5:
        return item_digest(f->p, f->len, MK_FILE_MD5, it, sc);
    case MR_SHA1:
        return item_digest(f->p, f->len, MK_FILE_SHA1, it, sc);
    case MR_SHA256:
        return item_digest(f->p, f->len, MK_FILE_SHA256, it, sc);
    case MR_SHA512:
        return item_digest(f->p, f->len, MK_FILE_SHA512, it, sc);
    case MR_CERT_FP:
    case MR_CERT_SHA1:
        return item_digest(f->p, f->len, 0, it, sc);
    case MR_UA:
        if (f->len == 0)
            return 0;
        it->kind = MK_UA;
        it->text = f->p;
        it->len = f->len;
        return 1;
    case MR_ANY:
        if (!mitem_from_text(f->p, f->len, it, sc))
            return 0;
        it->field = f->field; /* the key's name where a map gave one, else "value" */
        return 1;
    case MR_FQDN: /* a single label is a host's local name, not a name in the DNS */
        return item_name(f->p, f->len, 0, it, sc) &&
               (it->kind != MK_DOMAIN || memchr(it->text, '.', it->len) != NULL);
    default:
        return 0;
    }
}

/*
 * The host of the normalised URL u (murl_norm's form: lower-case scheme and host, a '/' after
 * the authority) as an item of its own, a name or an address, with u's field: 1, or 0 when
 * it has none (an empty host).  The host is what murl_norm took for it (and lower-cased).
 */
static int item_url_host(const mitem *u, mitem *it, mscratch *sc)
{
    const char *s = u->text, *end = s + u->len, *h = memmem(s, u->len, "://", 3), *e;
    if (!h)
        return 0;
    h += 3;
    e = h;
    while (e < end && *e != '/' && *e != '?' && *e != '#')
        e++;
    for (const char *a = h; a < e; a++) /* userinfo@, to the first '@' as murl_norm has it */
        if (*a == '@') {
            h = a + 1;
            break;
        }
    if (h < e && *h == '[') { /* an IPv6 literal, without its brackets */
        const char *c = memchr(h, ']', (size_t)(e - h));
        if (!c)
            return 0;
        h++;
        e = c;
    } else {
        const char *c = memchr(h, ':', (size_t)(e - h));
        if (c)
            e = c;
    }
    memset(it, 0, sizeof *it);
    it->role = MR_NAME;
    it->field = u->field;
    return e > h && item_name(h, (size_t)(e - h), 0, it, sc);
}

/* Whether f is the name of an HTTP/2 request's ":authority" pseudo-header. */
static int is_authority(const mfield *f)
{
    return f->role == MR_HDR_NAME && f->len == 10 && strncasecmp(f->p, ":authority", 10) == 0;
}

/* The items of string field f[i] whose role is URL_HOST, HDR_NAME or HDR_HOST, into out[0..room)
 * (room >= 1): their number. */
static size_t items_more(const mfield *f, size_t i, mitem *out, size_t room, mscratch *sc)
{
    const mfield *x = &f[i];
    if (x->role == MR_URL_HOST) {
        memset(out, 0, sizeof *out);
        out->role = MR_URL_HOST;
        out->field = x->field;
        if (!item_norm(x->p, x->len, MK_URL, out, sc))
            return 0;
        return 1 + (room > 1 && item_url_host(out, &out[1], sc));
    }
    if (x->role != MR_HDR_HOST || i == 0 || !is_authority(&f[i - 1])) /* another header */
        return 0;
    memset(out, 0, sizeof *out);
    out->role = MR_HOST;
    out->field = x->field;
    return (size_t)item_name(x->p, x->len, 1, out, sc);
}

/* Host bytes for url_plain: 1 for 'A'-'Z' (lower-cased), 2 for those that end or split an
 * authority ('/', '?', '#'), start userinfo ('@') or a port (':'). */
static const uint8_t host_class[256] = {
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,
    ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
    ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
    ['Y'] = 1, ['Z'] = 1, ['/'] = 2, ['?'] = 2, ['#'] = 2, ['@'] = 2, [':'] = 2};

/*
 * The usual HTTP event: "http://" HOST URI where the host has no userinfo, port or bracket and
 * the target starts with '/'.  murl_norm of that text lower-cases the host and keeps the rest,
 * so it is written here in one pass (out has 7 + hlen + ulen + 1 bytes): 1, or 0 (out
 * unfinished) for any other shape, which takes the general way.
 */
static int url_plain(const char *h, size_t hlen, const char *u, size_t ulen, char *out)
{
    unsigned bad = (h[0] == '[') << 1; /* a bracketed IPv6 literal: host_end's own rule */
    memcpy(out, "http://", 7);
    for (size_t i = 0; i < hlen; i++) {
        unsigned char c = (unsigned char)h[i];
        unsigned t = host_class[c];
        bad |= t;
        out[7 + i] = (char)(c + ((t & 1) << 5));
    }
    if (bad & ~1u)
        return 0;
    memcpy(out + 7 + hlen, u, ulen);
    out[7 + hlen + ulen] = '\0';
    return 1;
}

/* The URL of an event with a request target (and maybe a host). */
static int item_url(const mfield *f, size_t nf, mitem *it, mscratch *sc)
{
    const mfield *host = NULL, *uri = NULL;
    char *u;
    size_t n;
    for (size_t i = 0; i < nf; i++) {
        if (f[i].role == MR_HOST && f[i].str && !host)
            host = &f[i];
        if (f[i].role == MR_URI && f[i].str && !uri)
            uri = &f[i];
    }
    if (!uri || uri->len == 0)
        return 0;
    memset(it, 0, sizeof *it);
    it->field = MFIELD_URL;
    if (uri->p[0] != '/')
        return memmem(uri->p, uri->len, "://", 3) ? item_norm(uri->p, uri->len, MK_URL, it, sc) : 0;
    if (!host || host->len == 0 || !(u = ajson_arena_alloc(sc, host->len + uri->len + 8)))
        return 0;
    if (url_plain(host->p, host->len, uri->p, uri->len, u)) { /* murl_norm's result, directly */
        it->kind = MK_URL;
        it->text = u;
        it->len = (uint32_t)(7 + host->len + uri->len);
        return 1;
    }
    memcpy(u, "http://", 7);
    memcpy(u + 7, host->p, host->len);
    memcpy(u + 7 + host->len, uri->p, uri->len);
    n = 7 + host->len + uri->len;
    return item_norm(u, n, MK_URL, it, sc);
}

size_t mitems_from_fields(const mfield *f, size_t nf, mitem *out, size_t max, mscratch *sc)
{
    size_t n = 0;
    int has_uri = 0, has_ua = 0;
    for (size_t i = 0; i < nf && n < max; i++) {
        unsigned r = f[i].role;
        has_uri |= r == MR_URI;
        if (r >= 32 || !(ITEM_ROLES >> r & 1) || !f[i].str) {
            if (r >= MR_URL_HOST && f[i].str)
                n += items_more(f, i, &out[n], max - n, sc);
            continue;
        }
        if (r == MR_UA && has_ua) /* one network-traffic object, one user agent */
            continue;
        if (item_of(&f[i], &out[n], sc)) {
            has_ua |= out[n].kind == MK_UA;
            n++;
        }
    }
    if (has_uri && n < max && item_url(f, nf, &out[n], sc))
        n++;
    return n;
}

int mitem_from_value(const accord_value *v, mitem *it, mscratch *sc)
{
    char *t;
    memset(it, 0, sizeof *it);
    it->field = MFIELD_NAMED;
    it->role = v->role == ACCORD_ROLE_SRC   ? MR_SRC_IP
               : v->role == ACCORD_ROLE_DST ? MR_DST_IP
                                            : MR_IP;
    switch (v->type) {
    case ACCORD_VALUE_IPV4:
    case ACCORD_VALUE_IPV6:
        if (!(t = ajson_arena_alloc(sc, 48)))
            return 0;
        if (v->type == ACCORD_VALUE_IPV4) {
            it->kind = MK_IPV4;
            it->k.v4 = (uint32_t)v->addr[0] << 24 | (uint32_t)v->addr[1] << 16 |
                       (uint32_t)v->addr[2] << 8 | v->addr[3];
        } else {
            it->kind = MK_IPV6;
            memcpy(it->k.v6, v->addr, 16);
        }
        it->len = (uint32_t)mip_format(it->kind == MK_IPV4 ? 4 : 6, v->addr, t, 48);
        it->text = t;
        return 1;
    case ACCORD_VALUE_DOMAIN:
        it->role = MR_NAME;
        return v->text ? item_name(v->text, v->text_len, 0, it, sc) : 0;
    case ACCORD_VALUE_URL:
        it->role = MR_URL;
        return v->text ? item_norm(v->text, v->text_len, MK_URL, it, sc) : 0;
    default:
        return 0;
    }
}

static int all_hex(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return 0;
    }
    return 1;
}

size_t mitem_from_text(const char *s, size_t len, mitem *it, mscratch *sc)
{
    static const int digest[] = {MK_FILE_MD5, MK_FILE_SHA1, MK_FILE_SHA256, MK_FILE_SHA512};
    while (len && (*s == ' ' || *s == '\t'))
        s++, len--;
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
        len--;
    memset(it, 0, sizeof *it);
    it->role = MR_ANY;
    it->field = MFIELD_VALUE;
    if (len == 0)
        return 0;
    if (item_ip(s, len, it, sc))
        return 1;
    if (all_hex(s, len))
        for (int i = 0; i < 4; i++)
            if (len == 2 * mhash_kinds[digest[i] - MK_HASH_FIRST].len)
                return (size_t)item_digest(s, len, digest[i], it, sc);
    if (memmem(s, len, "://", 3))
        return (size_t)item_norm(s, len, MK_URL, it, sc);
    if (memchr(s, '@', len))
        return (size_t)item_norm(s, len, MK_EMAIL, it, sc);
    return (size_t)item_name(s, len, 0, it, sc);
}

/* ------------------------------------------------------------------------------------------ */
/* Time                                                                                         */

/* Seconds since the epoch of a civil date (days_from_civil, proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int digits(const char *s, int n, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return 0;
}

/* "YYYY-MM-DDTHH:MM:SS[.frac][Z|+HHMM|+HH:MM]" (Zeek, Suricata) in microseconds; 0 if not. */
static int64_t iso_us(const char *s, size_t len)
{
    unsigned y, mo, d, h, mi, se, oh = 0, om = 0;
    int64_t us = 0, scale = 100000;
    size_t i = 19;
    if (len < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') || s[13] != ':' ||
        s[16] != ':' || digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
        digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) || digits(s + 17, 2, &se) || mo < 1 ||
        mo > 12 || d < 1 || d > 31)
        return 0;
    if (i < len && s[i] == '.')
        for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, scale /= 10)
            us += (s[i] - '0') * scale;
    if (i + 5 <= len && (s[i] == '+' || s[i] == '-') && !digits(s + i + 1, 2, &oh)) {
        size_t j = i + 3 + (s[i + 3] == ':');
        if (j + 2 > len || digits(s + j, 2, &om))
            oh = om = 0;
        if (s[i] == '-')
            us += ((int64_t)oh * 3600 + om * 60) * 1000000;
        else
            us -= ((int64_t)oh * 3600 + om * 60) * 1000000;
    }
    return ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se) * 1000000) + us;
}

int64_t mevent_time_us(const mfield *f, size_t nf)
{
    for (size_t i = 0; i < nf; i++) {
        char num[40], *end;
        double v;
        if (f[i].role != MR_TIME)
            continue;
        if (f[i].str)
            return iso_us(f[i].p, f[i].len);
        if (f[i].len == 0 || f[i].len >= sizeof num)
            return 0;
        memcpy(num, f[i].p, f[i].len);
        num[f[i].len] = '\0';
        v = strtod(num, &end);
        if (*end || !(v >= 0 && v < 253402300800.0))
            return 0;
        return (int64_t)(v * 1e6);
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Observations                                                                                 */

/* Appends s[0..len) as a JSON string, bad UTF-8 replaced by U+FFFD. */
static int json_text(buf *b, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, run = 0;
    int rc = buf_add(b, "\"", 1);
    while (i < len && rc == 0) {
        size_t j = i;
        int32_t cp = u[i] < 0x80 ? u[i++] : pattern_utf8_next(u, len, &i);
        if (cp >= 0x20 && cp != '"' && cp != '\\') {
            run += i - j;
            continue;
        }
        rc = buf_add(b, s + j - run, run);
        run = 0;
        if (cp < 0) {
            i = j + 1;
            rc = rc ? rc : buf_add(b, "\\ufffd", 6);
        } else if (rc == 0) {
            rc = buf_printf(b, "\\u%04x", (unsigned)cp);
        }
    }
    if (rc == 0)
        rc = buf_add(b, s + len - run, run);
    return rc ? rc : buf_add(b, "\"", 1);
}

static const char *sco_type(int kind)
{
    switch (kind) {
    case MK_IPV4:
        return "ipv4-addr";
    case MK_IPV6:
        return "ipv6-addr";
    case MK_DOMAIN:
        return "domain-name";
    case MK_URL:
        return "url";
    case MK_EMAIL:
        return "email-addr";
    default:
        return kind >= MK_HASH_FIRST && kind < MK_COUNT ? mhash_kinds[kind - MK_HASH_FIRST].type
                                                        : "x-unknown";
    }
}

/* Writes the objects of the items; *src / *dst get the keys of the first source / destination
 * address (-1 when none).  Returns the number of objects written, or -1. */
static long write_items(const mitem *it, size_t n, buf *out, long *src, long *dst)
{
    long k = 0;
    unsigned algos = 0; /* bit per digest kind in the open hashes object */
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        int kind = it[i].kind;
        if (kind >= MK_HASH_FIRST) {
            const mhash_kind *hk = &mhash_kinds[kind - MK_HASH_FIRST];
            int same = algos && i > 0 && it[i - 1].kind >= MK_HASH_FIRST &&
                       !strcmp(mhash_kinds[it[i - 1].kind - MK_HASH_FIRST].type, hk->type) &&
                       !(algos & 1u << kind);
            if (!same) {
                rc = buf_printf(out, "%s\"%ld\":{\"type\":\"%s\",\"hashes\":{",
                                algos ? "}},"
                                : k   ? ","
                                      : "",
                                k, hk->type);
                k++;
                algos = 0;
            }
            rc = rc ? rc : buf_printf(out, "%s\"%s\":", algos ? "," : "", hk->algo);
            rc = rc ? rc : json_text(out, it[i].text, it[i].len);
            algos |= 1u << kind;
            continue;
        }
        if (algos)
            rc = buf_add(out, "}}", 2);
        algos = 0;
        if (kind == MK_UA) /* a property of the network-traffic object */
            continue;
        if (it[i].role == MR_SRC_IP && *src < 0)
            *src = k;
        if (it[i].role == MR_DST_IP && *dst < 0)
            *dst = k;
        rc = rc ? rc
                : buf_printf(out, "%s\"%ld\":{\"type\":\"%s\",\"value\":", k ? "," : "", k,
                             sco_type(kind));
        if (kind == MK_IPV6) {
            char t[48];
            size_t tl = mip_format(6, it[i].k.v6, t, sizeof t);
            rc = rc ? rc : json_text(out, t, tl);
        } else {
            rc = rc ? rc : json_text(out, it[i].text, it[i].len);
        }
        rc = rc ? rc : buf_add(out, "}", 1);
        k++;
    }
    if (rc == 0 && algos)
        rc = buf_add(out, "}}", 2);
    return rc ? -1 : k;
}

/* An integer 0..65535 written as digits only, or -1. */
static long port_of(const mfield *f)
{
    long v = 0;
    if (f->str || f->len == 0 || f->len > 5)
        return -1;
    for (uint32_t i = 0; i < f->len; i++) {
        if (f->p[i] < '0' || f->p[i] > '9')
            return -1;
        v = v * 10 + (f->p[i] - '0');
    }
    return v <= 65535 && (f->len == 1 || f->p[0] != '0') ? v : -1;
}

void mtraffic_of(const mitem *it, size_t n, const mfield *f, size_t nf, mtraffic *t)
{
    *t = (mtraffic){-1, -1, -1, -1, -1, NULL, NULL, NULL};
    for (size_t i = 0; i < n; i++) {
        if (it[i].kind == MK_UA && t->ua < 0)
            t->ua = (long)i;
        if (it[i].kind != MK_IPV4 && it[i].kind != MK_IPV6)
            continue;
        if (it[i].role == MR_SRC_IP && t->src < 0)
            t->src = (long)i;
        if (it[i].role == MR_DST_IP && t->dst < 0)
            t->dst = (long)i;
    }
    for (size_t i = 0; i < nf; i++) {
        if (f[i].role == MR_SRC_PORT && t->sport < 0 && (t->sport = port_of(&f[i])) >= 0)
            t->sport_f = &f[i];
        if (f[i].role == MR_DST_PORT && t->dport < 0 && (t->dport = port_of(&f[i])) >= 0)
            t->dport_f = &f[i];
        if (f[i].role == MR_PROTO && f[i].str && !t->proto)
            t->proto = &f[i];
    }
}

static int write_traffic(buf *out, long k, long src, long dst, const mtraffic *t,
                         const mitem *it)
{
    long sp = t->sport, dp = t->dport;
    const mfield *proto = t->proto;
    int rc = buf_printf(out, "%s\"%ld\":{\"type\":\"network-traffic\"", k ? "," : "", k);
    if (rc == 0 && src >= 0)
        rc = buf_printf(out, ",\"src_ref\":\"%ld\"", src);
    if (rc == 0 && dst >= 0)
        rc = buf_printf(out, ",\"dst_ref\":\"%ld\"", dst);
    if (rc == 0 && sp >= 0)
        rc = buf_printf(out, ",\"src_port\":%ld", sp);
    if (rc == 0 && dp >= 0)
        rc = buf_printf(out, ",\"dst_port\":%ld", dp);
    if (rc == 0 && t->ua >= 0) {
        rc = buf_adds(out, ",\"extensions\":{\"http-request-ext\":{\"request_header\":{"
                           "\"User-Agent\":");
        rc = rc ? rc : json_text(out, it[t->ua].text, it[t->ua].len);
        rc = rc ? rc : buf_adds(out, "}}}");
    }
    if (rc == 0 && proto) {
        char lp[32];
        size_t n = proto->len < sizeof lp ? proto->len : sizeof lp - 1;
        for (size_t i = 0; i < n; i++)
            lp[i] =
                proto->p[i] >= 'A' && proto->p[i] <= 'Z' ? (char)(proto->p[i] + 32) : proto->p[i];
        rc = buf_adds(out, ",\"protocols\":[");
        rc = rc ? rc : json_text(out, lp, n);
        rc = rc ? rc : buf_adds(out, "]");
    }
    return rc ? rc : buf_adds(out, "}");
}

int mobs_write(const mitem *it, size_t n, const mfield *f, size_t nf, int64_t time_us, buf *out)
{
    char ts[40];
    long src = -1, dst = -1, k;
    int rc;
    ts_format_us(time_us, ts, sizeof ts);
    rc = buf_printf(out,
                    "{\"type\":\"observed-data\",\"id\":\"observed-data--00000000-0000-4000-8000-"
                    "000000000000\",\"first_observed\":\"%s\",\"last_observed\":\"%s\","
                    "\"number_observed\":1,\"objects\":{",
                    ts, ts);
    if (rc)
        return -1;
    mtraffic t;
    k = write_items(it, n, out, &src, &dst);
    if (k < 0)
        return -1;
    mtraffic_of(it, n, f, nf, &t);
    if ((src >= 0 || dst >= 0 || t.ua >= 0) && write_traffic(out, k, src, dst, &t, it))
        return -1;
    return buf_adds(out, "}}") ? -1 : 0;
}
