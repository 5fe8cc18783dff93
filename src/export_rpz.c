/*
 * export_rpz.c - a DNS Response Policy Zone (BIND, Unbound, Knot, PowerDNS load it).
 *
 * The zone file has no $ORIGIN: owner names are relative, so it loads under whatever zone name
 * the resolver's configuration gives it (`named-checkzone rpz.example FILE`).
 *
 *   $TTL 300
 *   @ SOA localhost. hostmaster.localhost. SERIAL 3600 600 604800 300
 *   @ NS localhost.
 *
 *   export kind      records                                   trigger
 *   domain           NAME ACTION  and  *.NAME ACTION           the name and every name below it
 *   domain-suffix    *.NAME ACTION                             strict subdomains only (LIKE '%.d')
 *   ipv4, cidr4      P.D.C.B.A.rpz-ip ACTION                   answers holding such an address
 *   ipv6, cidr6      P.G8.G7...rpz-ip ACTION ("zz" = the longest run of zero groups)
 *
 *   action     ACTION                  effect
 *   NXDOMAIN   CNAME .                 the name does not exist
 *   NODATA     CNAME *.                the name exists with no data
 *   PASSTHRU   CNAME rpz-passthru.     answer normally (an exception list)
 *   DROP       CNAME rpz-drop.         no answer
 *   CNAME      CNAME HOST.             local data: a walled-garden host
 *
 * SERIAL is options.rpz_serial, which `accord export` and feeds take from
 * accord_export_rpz_serial (export_serial.c): kept in the store per zone with a digest of its
 * records, the same while they are, larger (RFC 1982) on every export whose records changed;
 * secondaries transfer only real changes.  Without one, accord_export_set_serial(): seconds of
 * the newest change that can alter the zone (store date_added, allow-list change, a
 * valid_from/valid_until passed).
 *
 * Not expressible: url, email, file and certificate hashes.  A name is written once, even when
 * several indicators (or a domain and a suffix) ask for it.
 */
#include "export.h"

#include "util/u64map.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

static int action_text(const accord_export_options *o, char *out, size_t outlen)
{
    static const char *const fixed[] = {"CNAME .", "CNAME *.", "CNAME rpz-passthru.",
                                        "CNAME rpz-drop."};
    if (o->rpz_action >= ACCORD_RPZ_NXDOMAIN && o->rpz_action <= ACCORD_RPZ_DROP)
        return snprintf(out, outlen, "%s", fixed[o->rpz_action]) > 0 ? 0 : -1;
    if (o->rpz_action != ACCORD_RPZ_CNAME || !o->rpz_cname || !*o->rpz_cname)
        return -1;
    for (const char *p = o->rpz_cname; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '.' || *p == '_'))
            return -1;
    size_t n = strlen(o->rpz_cname);
    return snprintf(out, outlen, "CNAME %s%s", o->rpz_cname,
                    o->rpz_cname[n - 1] == '.' ? "" : ".") < (int)outlen
               ? 0
               : -1;
}

/* The rpz-ip owner name of an address or network. */
static int ip_owner(const char *v, char *out, size_t outlen)
{
    unsigned char a[16];
    int fam, prefix, n;
    uint32_t v4;
    if (outlen >= 32 && export_ipv4_parse(v, strlen(v), &v4, &prefix) == 0) {
        char *p = export_u32_text(out, (uint32_t)prefix); /* no printf: one per address */
        for (int i = 0; i < 4; i++, v4 >>= 8)
            *p++ = '.', p = export_u32_text(p, v4 & 0xff);
        memcpy(p, ".rpz-ip", 8);
        return 0;
    }
    if (export_net_parse(v, &fam, a, &prefix) < 0)
        return -1;
    if (fam == 4)
        n = snprintf(out, outlen, "%d.%u.%u.%u.%u.rpz-ip", prefix, a[3], a[2], a[1], a[0]);
    else {
        unsigned g[8];
        int best = -1, bestlen = 1;
        for (int i = 0; i < 8; i++)
            g[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
        for (int i = 0; i < 8;) { /* the longest run of two or more zero groups */
            int j = i;
            while (j < 8 && g[j] == 0)
                j++;
            if (j - i > bestlen)
                best = i, bestlen = j - i;
            i = j > i ? j : i + 1;
        }
        n = snprintf(out, outlen, "%d", prefix);
        for (int i = 7; i >= 0 && n > 0 && (size_t)n < outlen; i--) {
            if (best >= 0 && i >= best && i < best + bestlen) {
                if (i == best)
                    n += snprintf(out + n, outlen - (size_t)n, ".zz");
                continue;
            }
            n += snprintf(out + n, outlen - (size_t)n, ".%x", g[i]);
        }
        if (n > 0 && (size_t)n < outlen)
            n += snprintf(out + n, outlen - (size_t)n, ".rpz-ip");
    }
    return n > 0 && (size_t)n < outlen ? 0 : -1;
}

/* Writes OWNER ACTION once per owner name. */
static int record(export_out *w, u64map *seen, const char *owner, const char *action)
{
    uint64_t h = u64map_key(XXH3_64bits(owner, strlen(owner)));
    if (u64map_get(seen, h, NULL)) {
        w->sum->duplicates++;
        return 0;
    }
    if (u64map_put(seen, h, 1))
        return w->rc = ACCORD_ENOMEM;
    w->sum->values++;
    export_adds(w, owner);
    export_add(w, " ", 1);
    export_adds(w, action);
    return export_add(w, "\n", 1);
}

static int write_item(export_out *w, u64map *seen, const export_item *it, const char *v,
                      const char *action)
{
    char owner[300];
    switch (it->kind) {
    case ACCORD_EK_DOMAIN:
    case ACCORD_EK_SUFFIX:
        if (it->kind == ACCORD_EK_DOMAIN) /* and the names below it, as for a suffix */
            record(w, seen, v, action);
        if (it->len + 3 > sizeof(owner)) /* export.c: a domain has at most 253 bytes */
            return 0;
        memcpy(owner, "*.", 2);
        memcpy(owner + 2, v, it->len + 1);
        return record(w, seen, owner, action);
    default:
        if (ip_owner(v, owner, sizeof(owner)) < 0)
            return 0;
        return record(w, seen, owner, action);
    }
}

int export_rpz(export_out *w)
{
    const accord_export_set *s = w->set;
    char action[300];
    if (action_text(w->o, action, sizeof(action)) < 0)
        return w->rc = ACCORD_EINVAL;
    u64map seen;
    u64map_init_set(&seen);
    w->supported =
        ACCORD_EK_IP_BITS | ACCORD_EK_BIT(ACCORD_EK_DOMAIN) | ACCORD_EK_BIT(ACCORD_EK_SUFFIX);
    export_file(w, NULL);
    export_printf(w,
                  "; accord response policy zone\n$TTL 300\n"
                  "@ SOA localhost. hostmaster.localhost. %u 3600 600 604800 300\n"
                  "@ NS localhost.\n",
                  w->o->rpz_serial ? w->o->rpz_serial : accord_export_set_serial(s));
    for (size_t i = 0; i < s->nitems && !w->rc; i++) {
        export_prefetch(s, i);
        if (export_item_ok(w, i))
            write_item(w, &seen, &s->items[i], export_str(s, s->items[i].value), action);
    }
    u64map_free(&seen);
    return w->rc;
}
