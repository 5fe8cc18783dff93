/*
 * cmd_case.c - `accord case ...`: coordinated vulnerability disclosure cases.
 *
 * Thin: each verb parses its options and calls one accord_case_* function.  The CLI acts as the
 * node's operator (a coordinator of every case) unless --as ACCOUNT names an account, whose case
 * role then applies exactly as over HTTPS.  Views print the same JSON the API serves.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int cmd_case(int argc, char **argv);

typedef struct case_opts {
    const char *as, *title, *summary, *embargo, *deadline, *role, *coordinator;
    const char *account, *contact, *vendor, *name, *purl, *cpe, *affected, *fixed;
    const char *topic, *private_vendor, *set, *statement, *product, *reason, *out, *sign_key;
    long limit;
    long long after;
} case_opts;

enum {
    O_AS = 1,
    O_TITLE,
    O_SUMMARY,
    O_EMBARGO,
    O_DEADLINE,
    O_ROLE,
    O_COORD,
    O_ACCOUNT,
    O_CONTACT,
    O_VENDOR,
    O_NAME,
    O_PURL,
    O_CPE,
    O_AFFECTED,
    O_FIXED,
    O_TOPIC,
    O_PRIVATE,
    O_SET,
    O_STATEMENT,
    O_PRODUCT,
    O_REASON,
    O_OUT,
    O_LIMIT,
    O_AFTER,
    O_SIGN_KEY
};

static int parse(int argc, char **argv, case_opts *o)
{
    static const struct option lo[] = {{"as", required_argument, NULL, O_AS},
                                       {"title", required_argument, NULL, O_TITLE},
                                       {"summary", required_argument, NULL, O_SUMMARY},
                                       {"embargo", required_argument, NULL, O_EMBARGO},
                                       {"deadline", required_argument, NULL, O_DEADLINE},
                                       {"role", required_argument, NULL, O_ROLE},
                                       {"coordinator", required_argument, NULL, O_COORD},
                                       {"account", required_argument, NULL, O_ACCOUNT},
                                       {"contact", required_argument, NULL, O_CONTACT},
                                       {"vendor", required_argument, NULL, O_VENDOR},
                                       {"name", required_argument, NULL, O_NAME},
                                       {"purl", required_argument, NULL, O_PURL},
                                       {"cpe", required_argument, NULL, O_CPE},
                                       {"affected", required_argument, NULL, O_AFFECTED},
                                       {"fixed", required_argument, NULL, O_FIXED},
                                       {"topic", required_argument, NULL, O_TOPIC},
                                       {"private", required_argument, NULL, O_PRIVATE},
                                       {"set", required_argument, NULL, O_SET},
                                       {"statement", required_argument, NULL, O_STATEMENT},
                                       {"product", required_argument, NULL, O_PRODUCT},
                                       {"reason", required_argument, NULL, O_REASON},
                                       {"out", required_argument, NULL, O_OUT},
                                       {"limit", required_argument, NULL, O_LIMIT},
                                       {"after", required_argument, NULL, O_AFTER},
                                       {"sign-key", required_argument, NULL, O_SIGN_KEY},
                                       {NULL, 0, NULL, 0}};
    const char **slot[] = {[O_AS] = &o->as,
                           [O_TITLE] = &o->title,
                           [O_SUMMARY] = &o->summary,
                           [O_EMBARGO] = &o->embargo,
                           [O_DEADLINE] = &o->deadline,
                           [O_ROLE] = &o->role,
                           [O_COORD] = &o->coordinator,
                           [O_ACCOUNT] = &o->account,
                           [O_CONTACT] = &o->contact,
                           [O_VENDOR] = &o->vendor,
                           [O_NAME] = &o->name,
                           [O_PURL] = &o->purl,
                           [O_CPE] = &o->cpe,
                           [O_AFFECTED] = &o->affected,
                           [O_FIXED] = &o->fixed,
                           [O_TOPIC] = &o->topic,
                           [O_PRIVATE] = &o->private_vendor,
                           [O_SET] = &o->set,
                           [O_STATEMENT] = &o->statement,
                           [O_PRODUCT] = &o->product,
                           [O_REASON] = &o->reason,
                           [O_OUT] = &o->out,
                           [O_SIGN_KEY] = &o->sign_key};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        if (c > 0 && c < (int)(sizeof(slot) / sizeof(slot[0])) && slot[c]) {
            *slot[c] = optarg;
        } else if (c == O_LIMIT || c == O_AFTER) {
            char *end;
            errno = 0;
            long long v = strtoll(optarg, &end, 10);
            if (errno || *end || v < 0 || (c == O_LIMIT && (v < 1 || v > ACCORD_CASE_PAGE_MAX))) {
                cli_error("case", "--%s: bad number %s", c == O_LIMIT ? "limit" : "after", optarg);
                return -1;
            }
            if (c == O_LIMIT)
                o->limit = (long)v;
            else
                o->after = v;
        } else {
            return -1;
        }
    }
    return 0;
}

static void print_vendor_added(void *ud, const char *vendor)
{
    (void)ud;
    fprintf(stderr, "vendor %s added from its purl profile\n", vendor);
}

static int view(accord_store *s, const char *id, int kind, const case_opts *o, accord_error *err)
{
    accord_case_page pg = {
        .after = o->after, .limit = (unsigned)o->limit, .topic = o->topic, .vendor = o->vendor};
    char *json = NULL;
    int rc = accord_case_view(s, id, o->as, kind, &pg, &json, err);
    if (!rc)
        printf("%s\n", json);
    free(json);
    return rc;
}

/* Writes the published documents to DIR: ID.json (CSAF), ID-osv.json (array), ID-stix.json and,
 * for a case with a CVE id, ID-cve.json (CVE JSON 5 record). */
static int write_docs(accord_store *s, const char *id, const case_opts *o, accord_error *err)
{
    static const struct {
        int view;
        const char *suffix;
    } docs[] = {{ACCORD_CASE_VIEW_CSAF, ".json"},
                {ACCORD_CASE_VIEW_OSV, "-osv.json"},
                {ACCORD_CASE_VIEW_STIX, "-stix.json"},
                {ACCORD_CASE_VIEW_CVE, "-cve.json"}};
    if (mkdir(o->out, 0755) != 0 && errno != EEXIST) {
        snprintf(err->msg, sizeof(err->msg), "%s: %s", o->out, strerror(errno));
        return ACCORD_EIO;
    }
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        char *json = NULL, path[4096];
        int rc = accord_case_view(s, id, o->as, docs[i].view, NULL, &json, err);
        if (rc == ACCORD_ENOTFOUND && docs[i].view == ACCORD_CASE_VIEW_CVE)
            continue; /* no CVE id, no record */
        if (rc)
            return rc;
        snprintf(path, sizeof(path), "%s/%s%s", o->out, id, docs[i].suffix);
        FILE *f = fopen(path, "w");
        int bad = !f || fputs(json, f) < 0 || fputc('\n', f) == EOF;
        if (f && fclose(f) != 0)
            bad = 1;
        free(json);
        if (bad) {
            snprintf(err->msg, sizeof(err->msg), "%.400s: cannot write", path);
            return ACCORD_EIO;
        }
        printf("%s\n", path);
    }
    return 0;
}

static int need_args(int n, int have, const char *verb)
{
    if (have >= n)
        return 0;
    cli_error("case", "%s: missing arguments (see accord help case)", verb);
    return -1;
}

int cmd_case(int argc, char **argv)
{
    case_opts o = {0};
    if (argc < 2 || cli_is_help(argv[1]))
        return cli_usage("case");
    const char *verb = argv[1];
    if (parse(argc - 1, argv + 1, &o))
        return cli_usage("case");
    char **pos = argv + 1 + optind;
    int npos = argc - 1 - optind;
    accord_store *s = cli_open_store(0);
    if (!s)
        return EXIT_FAIL;
    accord_error err = {0};
    int rc = 0, usage = 0;
    const char *id = npos > 0 ? pos[0] : NULL;
    if (strcmp(verb, "open") == 0) {
        char out[ACCORD_CASE_ID_MAX];
        accord_case_spec spec = {.title = o.title ? o.title : (npos ? pos[0] : NULL),
                                 .summary = o.summary,
                                 .embargo = o.embargo,
                                 .deadline = o.deadline,
                                 .role = o.role,
                                 .coordinator = o.coordinator};
        if (!(rc = accord_case_open(s, o.as, &spec, out, &err)))
            printf("%s\n", out);
    } else if (strcmp(verb, "set") == 0) {
        usage = need_args(3, npos, verb);
        if (!usage)
            rc = accord_case_set(s, id, o.as, pos[1], pos[2], &err);
    } else if (strcmp(verb, "add-vendor") == 0) {
        usage = need_args(2, npos, verb);
        if (!usage)
            rc = accord_case_add_vendor(s, id, o.as, pos[1], o.account, o.contact, &err);
    } else if (strcmp(verb, "add-participant") == 0) {
        usage = need_args(3, npos, verb);
        if (!usage)
            rc = accord_case_add_participant(s, id, o.as, pos[1], pos[2], o.vendor, &err);
    } else if (strcmp(verb, "add-product") == 0) {
        usage = need_args(1, npos, verb);
        accord_case_product p = {.vendor = o.vendor,
                                 .name = o.name,
                                 .purl = o.purl,
                                 .cpe = o.cpe,
                                 .affected = o.affected,
                                 .fixed = o.fixed};
        if (!usage)
            rc = accord_case_add_product(s, id, o.as, &p, print_vendor_added, NULL, &err);
    } else if (strcmp(verb, "vendors") == 0) {
        usage = need_args(1, npos, verb);
        if (!usage)
            rc = view(s, id, ACCORD_CASE_VIEW_VENDORS, &o, &err);
    } else if (strcmp(verb, "post") == 0) {
        usage = need_args(2, npos, verb);
        int64_t seq = 0;
        if (!usage &&
            !(rc = accord_case_post(s, id, o.as, o.topic, o.private_vendor, pos[1], &seq, &err)))
            printf("%lld\n", (long long)seq);
    } else if (strcmp(verb, "status") == 0) {
        usage = need_args(1, npos, verb);
        if (!usage && o.set)
            rc = accord_case_status(s, id, o.as, o.vendor, o.product, o.set, o.statement, &err);
        else if (!usage)
            rc = view(s, id, ACCORD_CASE_VIEW_CASE, &o, &err);
    } else if (strcmp(verb, "messages") == 0 || strcmp(verb, "timeline") == 0) {
        usage = need_args(1, npos, verb);
        if (!usage)
            rc = view(s, id, verb[0] == 'm' ? ACCORD_CASE_VIEW_MESSAGES : ACCORD_CASE_VIEW_TIMELINE,
                      &o, &err);
    } else if (strcmp(verb, "show") == 0) {
        static const char *const kinds[] = {"case", "vendors", "messages", "timeline",
                                            "csaf", "osv",     "stix",     "cve"};
        usage = need_args(2, npos, verb);
        int k = -1;
        for (int i = 0; !usage && i < 8; i++)
            if (strcmp(pos[1], kinds[i]) == 0)
                k = i;
        if (!usage && k < 0)
            usage = need_args(99, 0,
                              "show: view is case, vendors, messages, timeline, csaf, "
                              "osv, stix or cve;");
        if (!usage)
            rc = view(s, id, k, &o, &err);
    } else if (strcmp(verb, "list") == 0) {
        accord_case_page pg = {.after = o.after, .limit = (unsigned)o.limit};
        char *json = NULL;
        if (!(rc = accord_case_list(s, o.as, &pg, &json, &err)))
            printf("%s\n", json);
        free(json);
    } else if (strcmp(verb, "lift") == 0) {
        usage = need_args(1, npos, verb);
        if (!usage)
            rc = accord_case_lift(s, id, o.as, o.reason, &err);
    } else if (strcmp(verb, "publish") == 0) {
        usage = need_args(1, npos, verb);
        if (!usage && !(rc = accord_case_publish(s, id, o.as, &err)) && o.out)
            rc = write_docs(s, id, &o, &err);
    } else if (strcmp(verb, "profile") == 0) {
        usage = need_args(1, npos, verb);
        if (!usage)
            rc = accord_vendor_profile_set(s, pos[0], o.purl, o.account, o.contact, &err);
    } else if (strcmp(verb, "publisher") == 0) {
        usage = need_args(2, npos, verb);
        if (!usage)
            rc = accord_case_publisher_set(s, pos[0], pos[1], &err);
        if (!usage && !rc && o.sign_key)
            rc = accord_csaf_sign_key_set(s, o.sign_key, &err);
    } else if (strcmp(verb, "provider") == 0) {
        usage = need_args(1, npos, verb);
        if (!usage && !(rc = accord_csaf_provider_write(s, pos[0], o.sign_key, &err)))
            printf("%s/provider-metadata.json\n", pos[0]);
    } else if (strcmp(verb, "cna") == 0) {
        usage = need_args(1, npos, verb);
        if (!usage)
            rc = accord_case_cna_set(s, pos[0], npos > 1 ? pos[1] : NULL, &err);
    } else {
        cli_error("case", "unknown verb %s", verb);
        usage = 1;
    }
    accord_store_close(s);
    if (usage)
        return EXIT_USAGE;
    if (rc) {
        cli_error("case", "%s", err.msg);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}
