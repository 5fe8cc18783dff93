/*
 * cli.h - what the accord command's files share: the command table and option helpers.
 *
 * Exit codes (the same for every command):
 *   0  success
 *   1  failure (I/O, store, not found)
 *   2  usage error
 *   3  partial: some input was rejected, the rest was accepted (import)
 *   4  strict: the whole input was rejected (import --strict)
 */
#ifndef ACCORD_CLI_H
#define ACCORD_CLI_H

#include "accord.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_PARTIAL = 3, EXIT_STRICT = 4 };

typedef struct cli_command {
    const char *name;
    const char *summary;
    const char *usage; /* full help text: usage line, description, options */
    int (*run)(int argc, char **argv);
} cli_command;

/* The data directory: --data DIR (already taken out of argv by main), ACCORD_DATA, ./accord-data. */
const char *cli_data_dir(void);
/* Opens the store in cli_data_dir(), printing the error; NULL on failure. */
accord_store *cli_open_store(unsigned flags);
/* Prints "accord CMD: message" to stderr. */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints the usage of cmd to stderr and returns EXIT_USAGE. */
int cli_usage(const char *cmd);
/* Reads file path (- = stdin) of at most max bytes, NUL-terminated (free() it); NULL after
 * printing why, as command cmd. */
char *cli_slurp(const char *cmd, const char *path, size_t max, size_t *len);
/* 1 when argv[i] is -h or --help. */
int cli_is_help(const char *arg);
/* 1 when s ends with suf. */
int cli_has_suffix(const char *s, const char *suf);
/* Room for at least need elements of size bytes in *v (*cap of them now; grown by doubling from
 * 64): 0, or -1 when memory runs out (*v unchanged). */
int cli_grow_array(void **v, size_t *cap, size_t need, size_t size);

int cmd_import(int argc, char **argv);
int cmd_get(int argc, char **argv);
int cmd_search(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_pattern(int argc, char **argv);
int cmd_collection(int argc, char **argv);
int cmd_root(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_user(int argc, char **argv);
int cmd_token(int argc, char **argv);
int cmd_match(int argc, char **argv);
int cmd_allowlist(int argc, char **argv);
int cmd_feed(int argc, char **argv);
int cmd_jcs(int argc, char **argv);
int cmd_tlp(int argc, char **argv);
int cmd_member(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_roster(int argc, char **argv);
int cmd_misp(int argc, char **argv);
int cmd_case(int argc, char **argv);
int cmd_csaf(int argc, char **argv);
int cmd_osv(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_peer(int argc, char **argv);
int cmd_sync(int argc, char **argv);
int cmd_nats(int argc, char **argv);
int cmd_publish(int argc, char **argv);
int cmd_worker(int argc, char **argv);

#endif
