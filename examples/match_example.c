/*
 * match_example.c - the smallest use of the matcher API of libaccord (include/accord.h only):
 * build a snapshot from a STIX indicator file, match a few telemetry lines, print the matches.
 *
 * usage: match_example INDICATORS.json
 * Prints one line per match: "LINE FIELD VALUE INDICATOR-ID NAME".  Exit 0, or 1 on an error.
 */
#include <accord.h>

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char telemetry[] =
    "{\"ts\":1700000000.1,\"id.orig_h\":\"10.0.0.1\",\"id.resp_h\":\"198.51.100.7\"}\n"
    "{\"ts\":1700000000.2,\"id.orig_h\":\"10.0.0.2\",\"query\":\"www.evil.example\"}\n"
    "{\"ts\":1700000000.3,\"id.orig_h\":\"10.0.0.3\",\"id.resp_h\":\"192.0.2.80\"}\n"
    "203.0.113.9\n";

int main(int argc, char **argv)
{
    accord_snapshot_builder *b = NULL;
    accord_snapshot *snap = NULL;
    accord_matcher *m = NULL;
    accord_error err = {0};
    accord_match mt;
    int fd, rc = 1;
    if (argc != 2) {
        fprintf(stderr, "usage: match_example INDICATORS.json\n");
        return 1;
    }
    if ((fd = open(argv[1], O_RDONLY)) < 0) {
        perror(argv[1]);
        return 1;
    }
    /* 1. a snapshot: the indicators valid at 2024-01-01 (now_s), compiled */
    if (accord_snapshot_builder_new(1704067200, &b) != 0 ||
        accord_snapshot_builder_add_fd(b, fd, &err) != 0 ||
        accord_snapshot_build(b, &snap, &err) != 0) {
        fprintf(stderr, "snapshot: %s\n", err.msg);
        goto out;
    }
    /* 2. a matcher over it (one per thread) */
    if (accord_matcher_new(snap, &m) != 0)
        goto out;
    /* 3. match a buffer of lines, then iterate the matches */
    if (accord_matcher_match_lines(m, telemetry, strlen(telemetry), 1704067200) < 0)
        goto out;
    while (accord_matcher_next(m, &mt) == 1) {
        for (size_t i = 0; i < mt.nindicators; i++) {
            accord_indicator_info info;
            if (accord_snapshot_indicator(snap, mt.indicators[i], &info) != 0)
                continue;
            printf("%llu %s %.*s %s %s\n", (unsigned long long)mt.line, mt.field ? mt.field : "-",
                   (int)mt.value_len, mt.value ? mt.value : "", info.id, info.name);
        }
    }
    rc = 0;
out:
    accord_matcher_free(m);
    accord_snapshot_unref(snap); /* the matcher held its own reference */
    accord_snapshot_builder_free(b);
    close(fd);
    return rc;
}
