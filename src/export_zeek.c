/*
 * export_zeek.c - Zeek intelligence framework files (Intel::read_files).
 *
 * One file, TAB-separated, one line per (value, indicator):
 *
 *   #fields  indicator  indicator_type  meta.source  meta.desc          meta.url
 *            value      Intel::TYPE     source       "<id> <name>"      -
 *
 *   export kind                    indicator_type     indicator column
 *   ipv4, ipv6                     Intel::ADDR        the address
 *   cidr4, cidr6                   Intel::SUBNET      network/prefix
 *   domain                         Intel::DOMAIN      the name
 *   url                            Intel::URL         without "scheme://" (Zeek's seen URLs
 *                                                     carry none)
 *   email                          Intel::EMAIL       the address
 *   md5, sha1, sha256, sha512      Intel::FILE_HASH   lower-case hex
 *   cert-sha1                      Intel::CERT_HASH   lower-case hex (Zeek's X509 fingerprint)
 *
 * Not expressible: domain-suffix (Zeek intel matches whole names only) and cert-sha256.
 * meta.desc has control bytes (TAB, CR, LF, ...) replaced by spaces; "-" marks an empty field.
 */
#include "export.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *zeek_type(int kind)
{
    switch (kind) {
    case ACCORD_EK_IPV4:
    case ACCORD_EK_IPV6:
        return "Intel::ADDR";
    case ACCORD_EK_CIDR4:
    case ACCORD_EK_CIDR6:
        return "Intel::SUBNET";
    case ACCORD_EK_DOMAIN:
        return "Intel::DOMAIN";
    case ACCORD_EK_URL:
        return "Intel::URL";
    case ACCORD_EK_EMAIL:
        return "Intel::EMAIL";
    case ACCORD_EK_CERT_SHA1:
        return "Intel::CERT_HASH";
    default:
        return "Intel::FILE_HASH";
    }
}

/* Appends s with control bytes as spaces (a TAB would shift Zeek's columns). */
static int add_clean(export_out *w, const char *s)
{
    char tmp[256];
    size_t n = 0;
    for (; *s && n < sizeof(tmp); s++)
        tmp[n++] = (unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s;
    return export_add(w, tmp, n);
}

int export_zeek(export_out *w)
{
    const accord_export_set *s = w->set;
    w->supported = ~0u & ~(ACCORD_EK_BIT(ACCORD_EK_SUFFIX) | ACCORD_EK_BIT(ACCORD_EK_CERT_SHA256));
    const char *src = w->o->source ? w->o->source : "accord";
    export_file(w, NULL);
    export_printf(w, "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url\n");
    for (size_t i = 0; i < s->nitems && !w->rc; i++) {
        const export_item *it = &s->items[i];
        export_prefetch(s, i);
        if (!export_item_ok(w, i))
            continue;
        if (export_item_dup(s, i) && s->items[i - 1].ind == it->ind)
            continue; /* the same value twice in one pattern */
        const char *v = export_str(s, it->value);
        if (it->kind == ACCORD_EK_URL)
            v = strstr(v, "://") + 3;
        const export_ind *d = export_item_ind(s, i);
        export_adds(w, v);
        export_add(w, "\t", 1);
        export_adds(w, zeek_type(it->kind));
        export_add(w, "\t", 1);
        export_adds(w, src);
        export_add(w, "\t", 1);
        export_adds(w, export_str(s, d->id));
        if (*export_str(s, d->name)) {
            export_add(w, " ", 1);
            add_clean(w, export_str(s, d->name));
        }
        export_add(w, "\t-\n", 3);
        w->sum->values++;
    }
    return w->rc;
}
