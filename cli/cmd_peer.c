/*
 * cmd_peer.c - accord peer: the TAXII 2.1 servers this node pulls from and pushes to.
 *
 *   add NAME URL --collection ID (--pull|--push|--both) (--token-file F | --user-file F)
 *       (--cacert FILE | --pin sha256//B64 | --insecure-http) [--page N] [--interval S]
 *       [--local COLL] [--org IDENTITY] [--low-speed BYTES/SECONDS]
 *
 * --user-file: HTTP Basic credentials ("user:password", one line) instead of a bearer token, for
 * TAXII servers such as medallion; the secret is read from the file at each round, never taken
 * on the command line.  --insecure-http: the URL may be plain http:// (no TLS: the credentials
 * and the intelligence cross the network in clear), with a warning here and at each sync.
 *   list        each peer: name, URL, collection, directions, verification, cursor
 *   status      each peer: cursor, push position, last success, lag, failures, next try, error
 *   rm NAME
 */
#include "cli.h"
#include "peer.h"
#include "util/timestamp.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int print_peer(void *ud, const peer_conf *p, const char *cursor)
{
    (void)ud;
    static const char *const modes[] = {"-", "pull", "push", "both"};
    printf("%s\t%s\t%s\t%s\t%s %s%s\tcursor %s\n", p->name, p->url, p->collection,
           modes[p->mode & 3],
           p->cacert[0] ? "cacert"
           : p->pin[0]  ? "pin"
                        : "plain-http",
           p->cacert[0] ? p->cacert : p->pin, p->flags & PEER_BASIC ? "\tbasic-auth" : "",
           cursor && cursor[0] ? cursor : "-");
    return 0;
}

static void when(int64_t us, char *out, size_t cap)
{
    if (us <= 0)
        snprintf(out, cap, "-");
    else
        ts_format_us(us, out, cap);
}

/* One line per peer; lag is the time since the last successful round. */
static int print_status(void *ud, const peer_conf *p, const char *cursor)
{
    accord_store *s = ud;
    peer_status st;
    accord_error err = {0};
    if (peer_status_get(s, p->name, &st, &err)) {
        cli_error("peer", "%s", err.msg);
        return 1;
    }
    char ok[40], next[40], pushed[40], lag[32];
    when(st.last_success_us, ok, sizeof(ok));
    when(st.next_attempt_us, next, sizeof(next));
    when(st.push_after_us, pushed, sizeof(pushed));
    int64_t now = ts_now_us();
    if (st.last_success_us > 0)
        snprintf(lag, sizeof(lag), "%llds", (long long)((now - st.last_success_us) / 1000000));
    else
        snprintf(lag, sizeof(lag), "-");
    printf("%s\tinterval %ds\tcursor %s\tpushed-to %s\tlast-success %s\tlag %s\tfailures %lld"
           "\tnext %s\tpulled %llu\tpushed %llu\terror %s\n",
           p->name, p->interval, cursor && cursor[0] ? cursor : "-", pushed, ok, lag,
           (long long)st.failures, next, (unsigned long long)st.pulled,
           (unsigned long long)st.pushed, st.last_error[0] ? st.last_error : "-");
    return 0;
}

/* An absolute path for a file that must exist (sync may run from another directory). */
static int abs_file(const char *path, char *out, size_t cap, const char *what)
{
    char buf[PATH_MAX];
    if (!realpath(path, buf)) {
        cli_error("peer", "%s %s: no such file", what, path);
        return -1;
    }
    if (strlen(buf) >= cap) {
        cli_error("peer", "%s %s: path too long", what, path);
        return -1;
    }
    memcpy(out, buf, strlen(buf) + 1);
    return 0;
}

static int peer_add_cmd(int argc, char **argv)
{
    static const struct option opts[] = {{"collection", required_argument, NULL, 'c'},
                                         {"pull", no_argument, NULL, 'P'},
                                         {"push", no_argument, NULL, 'U'},
                                         {"both", no_argument, NULL, 'B'},
                                         {"interval", required_argument, NULL, 'i'},
                                         {"local", required_argument, NULL, 'l'},
                                         {"org", required_argument, NULL, 'o'},
                                         {"token-file", required_argument, NULL, 't'},
                                         {"cacert", required_argument, NULL, 'a'},
                                         {"pin", required_argument, NULL, 'p'},
                                         {"page", required_argument, NULL, 'n'},
                                         {"low-speed", required_argument, NULL, 's'},
                                         {"user-file", required_argument, NULL, 'u'},
                                         {"insecure-http", no_argument, NULL, 'H'},
                                         {NULL, 0, NULL, 0}};
    int token_files = 0;
    peer_conf p;
    memset(&p, 0, sizeof(p));
    p.page = PEER_DEFAULT_PAGE;
    p.interval = PEER_DEFAULT_INTERVAL;
    p.low_speed = PEER_LOW_SPEED;
    p.low_speed_time = PEER_LOW_SPEED_TIME;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            snprintf(p.collection, sizeof(p.collection), "%s", optarg);
            break;
        case 'P':
            p.mode |= PEER_PULL;
            break;
        case 'U':
            p.mode |= PEER_PUSH;
            break;
        case 'B':
            p.mode |= PEER_PULL | PEER_PUSH;
            break;
        case 'i': {
            char *end;
            long v = strtol(optarg, &end, 10);
            p.interval = (*end || v < 0 || v > PEER_MAX_INTERVAL) ? -1 : (int)v;
            break;
        }
        case 'l':
            snprintf(p.local, sizeof(p.local), "%s", optarg);
            break;
        case 'o':
            snprintf(p.org, sizeof(p.org), "%s", optarg);
            break;
        case 't':
        case 'u':
            if (abs_file(optarg, p.token_file, sizeof(p.token_file),
                         ch == 'u' ? "user file" : "token file"))
                return EXIT_USAGE;
            p.flags |= ch == 'u' ? PEER_BASIC : 0;
            token_files++;
            break;
        case 'H':
            p.flags |= PEER_INSECURE_HTTP;
            break;
        case 'a':
            if (abs_file(optarg, p.cacert, sizeof(p.cacert), "CA file"))
                return EXIT_USAGE;
            break;
        case 'p':
            snprintf(p.pin, sizeof(p.pin), "%s", optarg);
            break;
        case 'n': {
            char *end;
            long v = strtol(optarg, &end, 10);
            p.page = (*end || v < 1 || v > PEER_MAX_PAGE) ? 0 : (int)v;
            break;
        }
        case 's': { /* BYTES/SECONDS */
            char *end, *end2 = NULL;
            long b = strtol(optarg, &end, 10), t = -1;
            if (*end == '/')
                t = strtol(end + 1, &end2, 10);
            int ok = end2 && !*end2 && end2 != end + 1 && b >= 1 && b <= (1L << 30) && t >= 1 &&
                     t <= PEER_MAX_LOW_SPEED_TIME;
            p.low_speed = ok ? (int)b : -1;
            p.low_speed_time = ok ? (int)t : -1;
            break;
        }
        default:
            return cli_usage("peer");
        }
    }
    if (argc - optind != 2 || !p.mode)
        return cli_usage("peer");
    if (token_files > 1) {
        cli_error("peer", "give one of --token-file and --user-file");
        return EXIT_USAGE;
    }
    snprintf(p.name, sizeof(p.name), "%s", argv[optind]);
    const char *url = argv[optind + 1];
    size_t ul = strlen(url);
    snprintf(p.url, sizeof(p.url), "%s%s", url, ul && url[ul - 1] == '/' ? "" : "/");
    accord_error err = {0};
    if (peer_conf_check(&p, &err)) {
        cli_error("peer", "%s", err.msg);
        return EXIT_USAGE;
    }
    if (p.flags & PEER_INSECURE_HTTP)
        fprintf(stderr, "accord peer: warning: peer %s may use plain http://: no TLS, so its %s "
                        "and everything exchanged cross the network readable and alterable\n",
                p.name, p.flags & PEER_BASIC ? "password" : "token");
    accord_store *s = cli_open_store(0);
    if (!s)
        return EXIT_FAIL;
    int rc = peer_add(s, &p, &err);
    if (rc)
        cli_error("peer", "%s", err.msg[0] ? err.msg : accord_strerror(rc));
    else
        printf("peer %s: %s%s %scollections/%s/\n", p.name, p.mode & PEER_PULL ? "pull" : "",
               p.mode == (PEER_PULL | PEER_PUSH) ? "+push"
               : p.mode == PEER_PUSH             ? "push"
                                                 : "",
               p.url, p.collection);
    accord_store_close(s);
    return rc ? EXIT_FAIL : EXIT_OK;
}

int cmd_peer(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage("peer");
    const char *verb = argv[1];
    if (strcmp(verb, "add") == 0)
        return peer_add_cmd(argc - 1, argv + 1);
    int list = strcmp(verb, "list") == 0, rm = strcmp(verb, "rm") == 0,
        status = strcmp(verb, "status") == 0;
    if (((list || status) && argc != 2) || (rm && argc != 3) || !(list || rm || status))
        return cli_usage("peer");
    accord_store *s = cli_open_store(list || status ? ACCORD_STORE_READONLY : 0);
    if (!s)
        return EXIT_FAIL;
    accord_error err = {0};
    int rc = list     ? peer_each(s, print_peer, NULL, &err)
             : status ? peer_each(s, print_status, s, &err)
                      : peer_remove(s, argv[2], &err);
    if (rc)
        cli_error("peer", "%s", err.msg[0] ? err.msg : accord_strerror(rc));
    else if (rm)
        printf("peer %s removed\n", argv[2]);
    accord_store_close(s);
    return rc ? EXIT_FAIL : EXIT_OK;
}
