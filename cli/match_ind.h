/*
 * match_ind.h - the --indicators files of `accord match` (match_ind.c): read into a snapshot
 * builder with the reason of every indicator rejected, and looked at to tell when they changed
 * and whether they are whole; and the directory lister cmd_match.c lists telemetry with.
 */
#ifndef ACCORD_CLI_MATCH_IND_H
#define ACCORD_CLI_MATCH_IND_H

#include "accord.h"
#include "util/buf.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#define MATCH_REPORTS_MAX 100 /* reports per file (rejected indicators, malformed lines) */

/* What the indicator files look like now. */
typedef struct match_ind_look {
    uint64_t fp; /* of every file's path, size, mtime, inode and device: a change changes it */
    /* the first file found empty, and the first (plain) one whose last line has no end (being
     * written?): its path, or "" */
    char empty[512], partial[512];
} match_ind_look;

/* Adds the indicators of the files and directories paths[0..n) to b.  Those b rejects (an
 * invalid pattern, an object that is not JSON) are counted in *invalid and reported in rep as
 * FILE:LINE: ID: reason; not used (at most MATCH_REPORTS_MAX per file, then a count).  0, or -1
 * when a file cannot be read (no memory, not STIX) with the reason, naming it, in err. */
int match_ind_add(accord_snapshot_builder *b, char *const *paths, int n, buf *rep,
                  uint64_t *invalid, char *err, size_t errlen);
/* Looks at the files of paths[0..n), as match_ind_add would read them, into *out. */
void match_ind_look_at(char *const *paths, int n, match_ind_look *out);

/* Which entries of a directory are listed: keep(full path, its stat) is 1 for those; st is NULL
 * when the entry cannot be looked at (a dangling symbolic link, no permission). */
typedef int (*match_dir_keep)(const char *full, const struct stat *st);
/* The entries of directory path that keep takes, as full paths sorted by name, in *out (*n of
 * them; free with match_names_free).  Hidden entries (a leading '.') are never listed.  0, or -1
 * with errno (opendir) or ENOMEM. */
int match_dir_list(const char *path, match_dir_keep keep, char ***out, size_t *n);
void match_names_free(char **names, size_t n);

#endif
