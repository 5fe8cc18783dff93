/*
 * cmd_feed.c - accord feed: the exports `accord serve` publishes at https://HOST/feeds/NAME.
 *
 *   add NAME --format F [selection]   adds the feed, or replaces the one of that name; the
 *                                     selection takes the words of `accord export` (collection,
 *                                     type, label, creator, indicator-type, min-confidence,
 *                                     max-tlp, rpz-action, columns, nft-table, source)
 *   list                              each feed: name, its words
 *   rm NAME                           removes a feed
 *
 * The words are checked before they are stored (accord_export_spec_parse), and the server reads
 * them back with the same function.
 */
#include "cli.h"
#include "accord_export.h"

#include <stdio.h>
#include <string.h>

static int print_feed(void *ud, const accord_feed *f)
{
    (void)ud;
    printf("%s\t/feeds/%s\t", f->name, f->name);
    for (size_t i = 0; i < f->argc; i++)
        printf("%s%s", i ? " " : "", f->argv[i]);
    putchar('\n');
    return 0;
}

int cmd_feed(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage("feed");
    const char *verb = argv[1];
    int list = strcmp(verb, "list") == 0, add = strcmp(verb, "add") == 0,
        rm = strcmp(verb, "rm") == 0;
    if ((list && argc != 2) || (rm && argc != 3) || (add && argc < 5) || !(list || add || rm))
        return cli_usage("feed");
    accord_error err = {0};
    if (add) { /* checked before the store is opened: a usage error changes nothing */
        accord_export_spec sp;
        if (accord_export_spec_parse(&sp, (size_t)argc - 3, (const char *const *)argv + 3, &err)) {
            cli_error("feed", "%s", err.msg);
            return EXIT_USAGE;
        }
    }
    accord_store *s = cli_open_store(list ? ACCORD_STORE_READONLY : 0);
    if (!s)
        return EXIT_FAIL;
    int rc =
        list  ? accord_feed_each(s, NULL, print_feed, NULL, &err)
        : add ? accord_feed_put(s, argv[2], (size_t)argc - 3, (const char *const *)argv + 3, &err)
              : accord_feed_remove(s, argv[2], &err);
    if (!rc && add)
        printf("feed %s: /feeds/%s\n", argv[2], argv[2]);
    if (rc)
        cli_error("feed", "%s", err.msg[0] ? err.msg : accord_strerror(rc));
    accord_store_close(s);
    return rc == ACCORD_EINVAL ? EXIT_USAGE : rc ? EXIT_FAIL : EXIT_OK;
}
