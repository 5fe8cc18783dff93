/*
 * export_nft.c - an nftables script that fills two named interval sets.
 *
 *   add table inet TABLE
 *   add set inet TABLE ipv4 { type ipv4_addr; flags interval; }
 *   add set inet TABLE ipv6 { type ipv6_addr; flags interval; }
 *   flush set inet TABLE ipv4
 *   flush set inet TABLE ipv6
 *   add element inet TABLE ipv4 { ELEM, ELEM, ... }        (at most 512 elements a statement)
 *   add element inet TABLE ipv6 { ... }
 *
 * `nft -f` applies a script as one transaction, so the sets are replaced atomically and the
 * rules that reference them (`ip daddr @ipv4 drop` in the member's own chains) never see them
 * empty.  TABLE is "accord" unless the options name another.
 *
 * Elements: the kernel rejects overlapping intervals, so addresses and networks are turned into
 * ranges, sorted, and merged where they overlap or touch (10.0.0.0/8 swallows 10.1.2.3; 1.2.3.4
 * and 1.2.3.5 become 1.2.3.4-1.2.3.5).  A merged range is written as an address, a prefix when
 * it is exactly one, or "first-last".  Each swallowed value counts as a duplicate.
 *
 * Not expressible: everything but ipv4, ipv6, cidr4 and cidr6.
 */
#include "export.h"

#include <arpa/inet.h>
#include <xxhash.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PER_STATEMENT 512

/* The "# cursor C" line when the options carry one: three %s arguments. */
#define CURSOR_LINE(o)                                                                             \
    (o)->nft_cursor ? "# cursor " : "", (o)->nft_cursor ? (o)->nft_cursor : "",                    \
        (o)->nft_cursor ? "\n" : ""

typedef struct span {
    export_u128 lo, hi;
} span;

static int span_cmp(const void *pa, const void *pb)
{
    const span *a = pa, *b = pb;
    if (a->lo != b->lo)
        return a->lo < b->lo ? -1 : 1;
    return a->hi < b->hi ? -1 : a->hi > b->hi;
}

static void u128_text(export_u128 v, int fam, char *out, size_t outlen)
{
    unsigned char a[16];
    int n = fam == 4 ? 4 : 16;
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        a[i] = (unsigned char)(v & 0xff);
    inet_ntop(fam == 4 ? AF_INET : AF_INET6, a, out, (socklen_t)outlen);
}

/* The element text of [lo, hi]: "a", "a/p" or "a-b". */
static void element_text(const span *r, int fam, char *out, size_t outlen)
{
    char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
    int bits = fam == 4 ? 32 : 128;
    export_u128 size = r->hi - r->lo; /* one less than the count of addresses */
    if (fam == 4 && size == 0 && outlen >= 16) { /* most elements: an address, without printf */
        char *p = out;
        for (int i = 3; i >= 0; i--)
            p = export_u32_text(p, (uint32_t)(r->lo >> (8 * i)) & 0xff), *p++ = '.';
        p[-1] = '\0';
        return;
    }
    u128_text(r->lo, fam, a, sizeof(a));
    if (size == 0) {
        snprintf(out, outlen, "%s", a);
        return;
    }
    int host = 0;
    while (host < bits && (size >> host & 1))
        host++;
    int prefix_ok = (host == bits || (size >> host) == 0) && (r->lo & size) == 0;
    if (prefix_ok) {
        snprintf(out, outlen, "%s/%d", a, bits - host);
        return;
    }
    u128_text(r->hi, fam, b, sizeof(b));
    snprintf(out, outlen, "%s-%s", a, b);
}

/* 1 when item i goes into the nft sets of family fam.  With a writer, it counts and names what
 * it leaves out; without one (a cursor's digest, the previous state of a delta) it decides the
 * same way silently: an indicator is exported only when all its values are addresses. */
static int wanted(export_out *w, const accord_export_set *s, size_t i, int fam)
{
    int k = s->items[i].kind;
    int want = fam == 4 ? (k == ACCORD_EK_IPV4 || k == ACCORD_EK_CIDR4)
                        : (k == ACCORD_EK_IPV6 || k == ACCORD_EK_CIDR6);
    if (!want)
        return 0;
    if (w)
        return export_item_ok(w, i);
    return !(s->items[i].ikinds & ~(unsigned)ACCORD_EK_IP_BITS);
}

/* Collects the ranges of family fam of set s, sorted and merged; w (may be NULL) counts. */
static int collect(export_out *w, const accord_export_set *s, int fam, span **out, size_t *n)
{
    size_t cap = 0, m = 0;
    span *v = NULL;
    *out = NULL;
    *n = 0;
    for (size_t i = 0; i < s->nitems; i++) {
        int f;
        if (!wanted(w, s, i, fam))
            continue;
        if (m == cap) {
            cap = cap ? cap * 2 : 1024;
            span *g = realloc(v, cap * sizeof(*v));
            if (!g)
                return free(v), ACCORD_ENOMEM;
            v = g;
        }
        if (export_net_range(export_str(s, s->items[i].value), &f, &v[m].lo, &v[m].hi) == 0)
            m++;
    }
    if (m)
        qsort(v, m, sizeof(*v), span_cmp);
    size_t k = 0;
    for (size_t i = 0; i < m; i++) {
        if (k && (v[i].lo <= v[k - 1].hi || v[i].lo - 1 == v[k - 1].hi)) {
            if (v[i].hi > v[k - 1].hi)
                v[k - 1].hi = v[i].hi;
            if (w)
                w->sum->duplicates++;
        } else {
            v[k++] = v[i];
        }
    }
    *out = v;
    *n = k;
    return 0;
}

static int write_family(export_out *w, int fam)
{
    const char *table = w->o->nft_table ? w->o->nft_table : "accord";
    const char *set = fam == 4 ? "ipv4" : "ipv6";
    char el[2 * INET6_ADDRSTRLEN + 8];
    span *v = NULL;
    size_t n = 0;
    int rc = collect(w, w->set, fam, &v, &n);
    if (rc)
        return w->rc = rc;
    for (size_t i = 0; i < n && !w->rc; i++) {
        if (i % PER_STATEMENT == 0)
            export_printf(w, "%sadd element inet %s %s { ", i ? " }\n" : "", table, set);
        element_text(&v[i], fam, el, sizeof(el));
        if (i % PER_STATEMENT)
            export_add(w, ", ", 2);
        export_adds(w, el);
        w->sum->values++;
    }
    if (n)
        export_add(w, " }\n", 3);
    free(v);
    return w->rc;
}

static int table_ok(const char *t)
{
    size_t n = strlen(t);
    if (n == 0 || n > 64 || !((t[0] >= 'a' && t[0] <= 'z') || (t[0] >= 'A' && t[0] <= 'Z')))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z') ||
              (t[i] >= '0' && t[i] <= '9') || t[i] == '_'))
            return 0;
    return 1;
}

int export_nft(export_out *w)
{
    const char *t = w->o->nft_table ? w->o->nft_table : "accord";
    if (!table_ok(t))
        return w->rc = ACCORD_EINVAL;
    w->supported = ACCORD_EK_IP_BITS;
    export_file(w, NULL);
    export_printf(w,
                  "#!/usr/sbin/nft -f\n# accord indicators\n%s%s%s"
                  "add table inet %s\n"
                  "add set inet %s ipv4 { type ipv4_addr; flags interval; }\n"
                  "add set inet %s ipv6 { type ipv6_addr; flags interval; }\n"
                  "flush set inet %s ipv4\nflush set inet %s ipv6\n",
                  CURSOR_LINE(w->o), t, t, t, t, t);
    write_family(w, 4);
    write_family(w, 6);
    return w->rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Cursors and deltas                                                                           */

int export_nft_digest(const accord_export_set *s, uint64_t *out)
{
    XXH3_state_t *st = XXH3_createState();
    int rc = st ? 0 : ACCORD_ENOMEM;
    if (!rc)
        XXH3_64bits_reset(st);
    for (int fam = 4; !rc && fam <= 6; fam += 2) {
        span *v;
        size_t n;
        if ((rc = collect(NULL, s, fam, &v, &n)))
            break;
        for (size_t i = 0; i < n; i++) {
            unsigned char b[33];
            b[0] = (unsigned char)fam;
            for (int j = 0; j < 16; j++) {
                b[1 + j] = (unsigned char)(v[i].lo >> (8 * (15 - j)));
                b[17 + j] = (unsigned char)(v[i].hi >> (8 * (15 - j)));
            }
            XXH3_64bits_update(st, b, sizeof(b));
        }
        free(v);
    }
    if (!rc)
        *out = XXH3_64bits_digest(st);
    XXH3_freeState(st);
    return rc;
}

/* Writes the elements of a (n) missing from b (m), both sorted and merged, as `verb element`
 * statements. */
static void write_missing(export_out *w, const char *verb, int fam, const span *a, size_t n,
                          const span *b, size_t m)
{
    const char *table = w->o->nft_table ? w->o->nft_table : "accord";
    char el[2 * INET6_ADDRSTRLEN + 8];
    size_t j = 0, written = 0;
    for (size_t i = 0; i < n && !w->rc; i++) {
        while (j < m && span_cmp(&b[j], &a[i]) < 0)
            j++;
        if (j < m && span_cmp(&b[j], &a[i]) == 0)
            continue;
        if (written % PER_STATEMENT == 0)
            export_printf(w, "%s%s element inet %s %s { ", written ? " }\n" : "", verb, table,
                          fam == 4 ? "ipv4" : "ipv6");
        element_text(&a[i], fam, el, sizeof(el));
        if (written % PER_STATEMENT)
            export_add(w, ", ", 2);
        export_adds(w, el);
        written++;
        w->sum->values++;
    }
    if (written)
        export_add(w, " }\n", 3);
}

int export_nft_delta(export_out *w, const accord_export_set *prev)
{
    const char *t = w->o->nft_table ? w->o->nft_table : "accord";
    span *old[2] = {NULL, NULL}, *now[2] = {NULL, NULL};
    size_t nold[2] = {0, 0}, nnow[2] = {0, 0};
    int rc = table_ok(t) ? 0 : ACCORD_EINVAL;
    w->supported = ACCORD_EK_IP_BITS;
    for (int f = 0; f < 2 && !rc; f++) {
        rc = collect(NULL, prev, f ? 6 : 4, &old[f], &nold[f]);
        if (!rc)
            rc = collect(w, w->set, f ? 6 : 4, &now[f], &nnow[f]);
    }
    if (!rc) {
        export_file(w, NULL);
        export_printf(w, "#!/usr/sbin/nft -f\n# accord indicators, changes\n%s%s%s",
                      CURSOR_LINE(w->o));
        /* deletes first: a range that changed shape must leave before its successor arrives */
        for (int f = 0; f < 2; f++)
            write_missing(w, "delete", f ? 6 : 4, old[f], nold[f], now[f], nnow[f]);
        for (int f = 0; f < 2; f++)
            write_missing(w, "add", f ? 6 : 4, now[f], nnow[f], old[f], nold[f]);
        rc = w->rc;
    }
    for (int f = 0; f < 2; f++)
        free(old[f]), free(now[f]);
    return rc ? (w->rc = rc) : 0;
}
