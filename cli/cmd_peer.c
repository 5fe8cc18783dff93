/*
 * cmd_peer.c - accord peer: the TAXII 2.1 servers `accord sync` pulls from.
 *
 *   add NAME URL --collection ID --pull --token-file F (--cacert FILE | --pin sha256//B64)
 *       [--page N]
 *   list        each peer: name, URL, collection, verification, cursor
 *   rm NAME
 */
#include "cli.h"
#include "peer.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int print_peer(void *ud, const peer_conf *p, const char *cursor)
{
    (void)ud;
    printf("%s\t%s\t%s\tpull\t%s %s\tcursor %s\n", p->name, p->url, p->collection,
           p->cacert[0] ? "cacert" : "pin", p->cacert[0] ? p->cacert : p->pin,
           cursor && cursor[0] ? cursor : "-");
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
                                         {"token-file", required_argument, NULL, 't'},
                                         {"cacert", required_argument, NULL, 'a'},
                                         {"pin", required_argument, NULL, 'p'},
                                         {"page", required_argument, NULL, 'n'},
                                         {NULL, 0, NULL, 0}};
    peer_conf p;
    memset(&p, 0, sizeof(p));
    p.page = PEER_DEFAULT_PAGE;
    int pull = 0, ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            snprintf(p.collection, sizeof(p.collection), "%s", optarg);
            break;
        case 'P':
            pull = 1;
            break;
        case 't':
            if (abs_file(optarg, p.token_file, sizeof(p.token_file), "token file"))
                return EXIT_USAGE;
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
        default:
            return cli_usage("peer");
        }
    }
    if (argc - optind != 2 || !pull)
        return cli_usage("peer");
    snprintf(p.name, sizeof(p.name), "%s", argv[optind]);
    const char *url = argv[optind + 1];
    size_t ul = strlen(url);
    snprintf(p.url, sizeof(p.url), "%s%s", url, ul && url[ul - 1] == '/' ? "" : "/");
    accord_error err = {0};
    if (peer_conf_check(&p, &err)) {
        cli_error("peer", "%s", err.msg);
        return EXIT_USAGE;
    }
    accord_store *s = cli_open_store(0);
    if (!s)
        return EXIT_FAIL;
    int rc = peer_add(s, &p, &err);
    if (rc)
        cli_error("peer", "%s", err.msg[0] ? err.msg : accord_strerror(rc));
    else
        printf("peer %s: pull %scollections/%s/\n", p.name, p.url, p.collection);
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
    int list = strcmp(verb, "list") == 0, rm = strcmp(verb, "rm") == 0;
    if ((list && argc != 2) || (rm && argc != 3) || !(list || rm))
        return cli_usage("peer");
    accord_store *s = cli_open_store(list ? ACCORD_STORE_READONLY : 0);
    if (!s)
        return EXIT_FAIL;
    accord_error err = {0};
    int rc = list ? peer_each(s, print_peer, NULL, &err) : peer_remove(s, argv[2], &err);
    if (rc)
        cli_error("peer", "%s", err.msg[0] ? err.msg : accord_strerror(rc));
    else if (rm)
        printf("peer %s removed\n", argv[2]);
    accord_store_close(s);
    return rc ? EXIT_FAIL : EXIT_OK;
}
