/*
 * export_spec.c - a format and a selection as words ("--format nft --max-tlp amber ...").
 *
 * `accord export` and `accord feed add` read the same options, and `accord serve` reads a stored
 * feed's words back with the same function, so what a feed selects is by construction what the
 * command line would export.  One table names every option, what it sets and what it expects;
 * the setter checks the value the way the command line always did (kinds by name, confidence
 * 0-100, TLP names, RPZ actions).  Values are borrowed, never copied: a spec lives as long as the
 * words it was read from.
 *
 * What this file does not do: open a store, or know the stix format's own options (--added-after,
 * --include-revoked, --all-versions): the command line keeps those.
 */
#include "export.h"
#include "store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void accord_export_spec_init(accord_export_spec *sp)
{
    memset(sp, 0, sizeof(*sp));
    sp->filter.min_confidence = -1;
    sp->filter.max_tlp = -1;
}

static int push(const char **list, int *n, const char *v)
{
    if (*n >= ACCORD_EXPORT_SPEC_MAX)
        return ACCORD_ELIMIT;
    list[(*n)++] = v;
    list[*n] = NULL;
    return 0;
}

static int rpz_action(accord_export_spec *sp, const char *v)
{
    static const char *const names[] = {"nxdomain", "nodata", "passthru", "drop"};
    for (int i = 0; i < 4; i++)
        if (strcasecmp(v, names[i]) == 0)
            return sp->opts.rpz_action = i, 0;
    if (strncasecmp(v, "cname:", 6) == 0 && v[6]) {
        sp->opts.rpz_action = ACCORD_RPZ_CNAME;
        sp->opts.rpz_cname = v + 6;
        return 0;
    }
    return -1;
}

enum {
    O_FORMAT,
    O_COLL,
    O_TYPE,
    O_LABEL,
    O_CREATOR,
    O_ITYPE,
    O_CONF,
    O_TLP,
    O_RPZ,
    O_COLUMNS,
    O_TABLE,
    O_SOURCE,
    O_MAXBYTES
};

static const struct spec_option {
    const char *name;
    int which;
    const char *expect; /* what a bad value should have been */
} spec_options[] = {
    {"format", O_FORMAT,
     "zeek-intel, suricata-dataset, suricata-rules, rpz, nft, csv, plain or misp-feed"},
    {"collection", O_COLL, "a collection id or alias"},
    {"type", O_TYPE,
     "a value kind: ipv4, ipv6, cidr4, cidr6, domain, domain-suffix, url, email, md5, sha1, "
     "sha256, sha512, cert-sha1, cert-sha256"},
    {"label", O_LABEL, "a label"},
    {"creator", O_CREATOR, "an identity id"},
    {"indicator-type", O_ITYPE, "an indicator type"},
    {"min-confidence", O_CONF, "0 to 100"},
    {"max-tlp", O_TLP, "clear, green, amber, amber+strict or red"},
    {"rpz-action", O_RPZ, "nxdomain, nodata, passthru, drop or cname:HOST"},
    {"columns", O_COLUMNS, "value,kind,indicator,name,confidence,tlp,valid_until"},
    {"nft-table", O_TABLE, "a table name"},
    {"source", O_SOURCE, "a source name"},
    {"max-bytes", O_MAXBYTES, "a size in bytes, 1 to 268435456 (256 MiB), with K, M or G"},
};

/* "N", "NK", "NM", "NG" (powers of 1024) up to 256 MiB, the most a feed serves. */
static int parse_size(const char *v, uint64_t *out)
{
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || end == v || n <= 0 || n > (long long)ACCORD_FEED_MAX_BYTES)
        return -1;
    uint64_t mult = 1;
    if (*end == 'K' || *end == 'k')
        mult = 1024, end++;
    else if (*end == 'M' || *end == 'm')
        mult = 1024 * 1024, end++;
    else if (*end == 'G' || *end == 'g')
        mult = 1024 * 1024 * 1024, end++;
    if (*end || (uint64_t)n > ACCORD_FEED_MAX_BYTES / mult)
        return -1;
    *out = (uint64_t)n * mult;
    return 0;
}

/* 0, or -1 when v is not a valid value for option which. */
static int set_one(accord_export_spec *sp, int which, const char *v)
{
    char *end;
    long n;
    int k;
    switch (which) {
    case O_FORMAT:
        return accord_export_format_files(v) < 0 ? -1 : (sp->opts.format = v, 0);
    case O_COLL:
        return *v ? (sp->filter.collection = v, 0) : -1;
    case O_TYPE:
        if ((k = accord_export_kind_parse(v)) < 0)
            return -1;
        sp->filter.kinds |= ACCORD_EK_BIT(k);
        return 0;
    case O_LABEL:
        return push(sp->labels, &sp->nlabels, v) ? -2 : (sp->filter.labels = sp->labels, 0);
    case O_CREATOR:
        return push(sp->creators, &sp->ncreators, v) ? -2 : (sp->filter.creators = sp->creators, 0);
    case O_ITYPE:
        return push(sp->itypes, &sp->nitypes, v) ? -2
                                                 : (sp->filter.indicator_types = sp->itypes, 0);
    case O_CONF:
        errno = 0;
        n = strtol(v, &end, 10);
        if (errno || end == v || *end || n < 0 || n > 100)
            return -1;
        sp->filter.min_confidence = (int)n;
        return 0;
    case O_TLP:
        return (sp->filter.max_tlp = accord_export_tlp_parse(v)) < 0 ? -1 : 0;
    case O_RPZ:
        return rpz_action(sp, v);
    case O_COLUMNS:
        return *v ? (sp->opts.csv_columns = v, 0) : -1;
    case O_TABLE:
        return *v ? (sp->opts.nft_table = v, 0) : -1;
    case O_MAXBYTES:
        return parse_size(v, &sp->opts.max_bytes);
    default:
        return *v ? (sp->opts.source = v, 0) : -1;
    }
}

int accord_export_spec_set(accord_export_spec *sp, const char *name, const char *value,
                           accord_error *err)
{
    for (size_t i = 0; i < sizeof(spec_options) / sizeof(spec_options[0]); i++) {
        const struct spec_option *o = &spec_options[i];
        if (strcmp(o->name, name) != 0)
            continue;
        int rc = value ? set_one(sp, o->which, value) : -1;
        if (rc == -2)
            return accord_err_set(err, ACCORD_ELIMIT, "--%s: at most %d", name,
                                  ACCORD_EXPORT_SPEC_MAX);
        if (rc)
            return accord_err_set(err, ACCORD_EINVAL, "--%s %s: expected %s", name,
                                  value ? value : "(none)", o->expect);
        return 0;
    }
    return accord_err_set(err, ACCORD_ENOTFOUND, "--%s: not an export option", name);
}

int accord_export_spec_parse(accord_export_spec *sp, size_t argc, const char *const *argv,
                             accord_error *err)
{
    char name[64];
    accord_export_spec_init(sp);
    for (size_t i = 0; i < argc; i++) {
        const char *w = argv[i], *eq, *value;
        if (strncmp(w, "--", 2) != 0 || !w[2])
            return accord_err_set(err, ACCORD_EINVAL, "\"%.80s\": expected an option --NAME", w);
        w += 2;
        if ((eq = strchr(w, '='))) {
            value = eq + 1;
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            return accord_err_set(err, ACCORD_EINVAL, "--%.60s: a value is missing", w);
        }
        size_t n = eq ? (size_t)(eq - w) : strlen(w);
        if (n >= sizeof(name))
            return accord_err_set(err, ACCORD_EINVAL, "--%.60s: not an export option", w);
        memcpy(name, w, n);
        name[n] = '\0';
        int rc = accord_export_spec_set(sp, name, value, err);
        if (rc == ACCORD_ENOTFOUND)
            return accord_err_set(err, ACCORD_EINVAL, "--%s: not an export option", name);
        if (rc)
            return rc;
    }
    if (!sp->opts.format)
        return accord_err_set(err, ACCORD_EINVAL, "--format is required");
    return 0;
}
