/*
 * cmd_sync.c - accord sync [--dry-run] [PEER]: one round with every peer (or one), in each
 * peer's directions (pull, then push).
 *
 * Prints one line per peer: pages, objects received, stored, duplicates (echoes of what is
 * already here), rejected by the pipeline, refused by the accept policy, pushed, refused by the
 * peer, echoes not sent back, conflicts (copies of a stored version with other content, the
 * stored one kept), equivocations (such copies whose creator signed both, counted apart: evidence
 * against the creator rather than a relay), pages asked again wider (a full page of one date_added), and the cursor
 * after the round.  With --dry-run, nothing is stored, sent or moved: each object that would
 * move is listed ("pull PEER ID MODIFIED", "push ...") with a count per peer.  Exit 0 when
 * every peer synced, 3 when some objects were rejected, 1 when a peer failed (the others are
 * still tried).  The outcome is recorded for `accord peer status`.
 */
#include "cli.h"
#include "peer.h"

#include <stdio.h>
#include <string.h>

typedef struct sync_run {
    accord_store *s;
    int dry, failed, partial;
    const char *peer;
} sync_run;

static void print_item(void *ud, const char *dir, const char *id, const char *modified)
{
    sync_run *r = ud;
    printf("%s\t%s\t%s\t%s\n", dir, r->peer, id, modified[0] ? modified : "-");
}

static void print_refused(void *ud, const char *id, const char *modified, const char *why)
{
    sync_run *r = ud;
    cli_error("sync", "peer %s: refused %s%s%s: %s", r->peer, id, modified[0] ? " version " : "",
              modified, why);
}

static int sync_one(void *ud, const peer_conf *p, const char *cursor)
{
    (void)cursor;
    sync_run *r = ud;
    peer_sync_stats st;
    accord_error err = {0};
    r->peer = p->name;
    if ((p->flags & PEER_INSECURE_HTTP) && strncmp(p->url, "http://", 7) == 0)
        cli_error("sync", "warning: peer %s is reached over plain http:// (--insecure-http): no TLS",
                  p->name);
    peer_round_opts o = {
        .dry_run = r->dry, .on_item = print_item, .on_refused = print_refused, .ud = r};
    int rc = peer_round(r->s, p, &o, &st, NULL, &err);
    if (r->dry)
        printf("%s\twould move %llu\talready here %llu\n", p->name,
               (unsigned long long)st.would_move, (unsigned long long)st.duplicates);
    else
        printf("%s\tpages %llu\tobjects %llu\tstored %llu\tduplicates %llu\trejected %llu\t"
               "refused %llu\tpushed %llu\tpush-failed %llu\techoes %llu\tconflicts %llu\t"
               "equivocations %llu\twidened %llu\tcursor %s\n",
               p->name, (unsigned long long)st.pages, (unsigned long long)st.objects,
               (unsigned long long)st.stored, (unsigned long long)st.duplicates,
               (unsigned long long)st.rejected, (unsigned long long)st.refused,
               (unsigned long long)st.pushed, (unsigned long long)st.push_failed,
               (unsigned long long)st.echoes, (unsigned long long)st.conflicts,
               (unsigned long long)st.equivocations,
               (unsigned long long)st.widened, st.cursor[0] ? st.cursor : "-");
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
    int dry = 0, i = 1;
    if (argc > 1 && strcmp(argv[1], "--dry-run") == 0)
        dry = 1, i++;
    if (argc - i > 1 || (argc - i == 1 && (cli_is_help(argv[i]) || argv[i][0] == '-')))
        return cli_usage("sync");
    accord_store *s = cli_open_store(0);
    if (!s)
        return EXIT_FAIL;
    sync_run r = {.s = s, .dry = dry};
    accord_error err = {0};
    int rc = 0;
    if (argc - i == 1) {
        peer_conf p;
        if ((rc = peer_get(s, argv[i], &p, &err)))
            cli_error("sync", "%s", err.msg);
        else
            sync_one(&r, &p, NULL);
    } else if ((rc = peer_each(s, sync_one, &r, &err))) {
        cli_error("sync", "%s", err.msg);
    }
    accord_store_close(s);
    return rc || r.failed ? EXIT_FAIL : r.partial ? EXIT_PARTIAL : EXIT_OK;
}
