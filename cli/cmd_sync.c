/*
 * cmd_sync.c - accord sync [PEER]: one pull round from every peer (or one).
 *
 * Prints one line per peer: pages, objects received, stored, duplicates (echoes of what is
 * already here), rejected, and the cursor after the round.  Exit 0 when every peer synced, 3 when
 * some objects were rejected, 1 when a peer failed (the others are still tried).
 */
#include "cli.h"
#include "peer.h"

#include <stdio.h>
#include <string.h>

typedef struct sync_run {
    accord_store *s;
    int failed, partial;
} sync_run;

static int sync_one(void *ud, const peer_conf *p, const char *cursor)
{
    (void)cursor;
    sync_run *r = ud;
    peer_sync_stats st;
    accord_error err = {0};
    int rc = peer_pull(r->s, p, &st, &err);
    printf("%s\tpages %llu\tobjects %llu\tstored %llu\tduplicates %llu\trejected %llu\tcursor %s\n",
           p->name, (unsigned long long)st.pages, (unsigned long long)st.objects,
           (unsigned long long)st.stored, (unsigned long long)st.duplicates,
           (unsigned long long)st.rejected, st.cursor[0] ? st.cursor : "-");
    fflush(stdout);
    if (rc == ACCORD_ESTIX) {
        r->partial = 1;
        cli_error("sync", "%s", err.msg);
    } else if (rc) {
        r->failed = 1;
        cli_error("sync", "%s", err.msg[0] ? err.msg : accord_strerror(rc));
    }
    return 0;
}

int cmd_sync(int argc, char **argv)
{
    if (argc > 2 || (argc == 2 && (cli_is_help(argv[1]) || argv[1][0] == '-')))
        return cli_usage("sync");
    accord_store *s = cli_open_store(0);
    if (!s)
        return EXIT_FAIL;
    sync_run r = {.s = s};
    accord_error err = {0};
    int rc = 0;
    if (argc == 2) {
        peer_conf p;
        if ((rc = peer_get(s, argv[1], &p, &err)))
            cli_error("sync", "%s", err.msg);
        else
            sync_one(&r, &p, NULL);
    } else if ((rc = peer_each(s, sync_one, &r, &err))) {
        cli_error("sync", "%s", err.msg);
    }
    accord_store_close(s);
    return rc || r.failed ? EXIT_FAIL : r.partial ? EXIT_PARTIAL : EXIT_OK;
}
