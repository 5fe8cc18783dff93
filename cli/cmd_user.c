/*
 * cmd_user.c - `accord user add|list|rm|passwd|grant|set` and `accord token create|revoke|list`.
 *
 * Thin: each verb parses its options and calls one accord_account_* / accord_token_* /
 * accord_rights_* function.  Passwords never come from the command line itself (where `ps` and
 * shell history would show them): only from a file (--password-file, first line) or standard input
 * (--password-stdin; without echo when it is a terminal).  They are held in one fixed buffer that
 * is wiped before the command returns.  A new token's text is printed once, alone on stdout, so
 * that `accord token create x > file` captures exactly the token.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

/* Declared in cli.h as well. */
int cmd_user(int argc, char **argv);
int cmd_token(int argc, char **argv);

typedef struct user_opts {
    int admin, no_password;
    const char *password_file;
    int password_stdin;
    int can_read, can_write, rights_given;
    const char *expires;
    const char *org; /* --org ID; "" for --no-org; NULL = unchanged */
    int community;   /* 1 --community, 0 --no-community, -1 unchanged */
} user_opts;

enum {
    OPT_ADMIN = 1,
    OPT_PWFILE,
    OPT_PWSTDIN,
    OPT_NOPW,
    OPT_READ,
    OPT_WRITE,
    OPT_RW,
    OPT_NONE,
    OPT_EXPIRES,
    OPT_ORG,
    OPT_NO_ORG,
    OPT_COMMUNITY,
    OPT_NO_COMMUNITY
};

static int parse_opts(int argc, char **argv, user_opts *o)
{
    static const struct option longopts[] = {{"admin", no_argument, NULL, OPT_ADMIN},
                                             {"password-file", required_argument, NULL, OPT_PWFILE},
                                             {"password-stdin", no_argument, NULL, OPT_PWSTDIN},
                                             {"no-password", no_argument, NULL, OPT_NOPW},
                                             {"read", no_argument, NULL, OPT_READ},
                                             {"write", no_argument, NULL, OPT_WRITE},
                                             {"read-write", no_argument, NULL, OPT_RW},
                                             {"none", no_argument, NULL, OPT_NONE},
                                             {"expires", required_argument, NULL, OPT_EXPIRES},
                                             {"org", required_argument, NULL, OPT_ORG},
                                             {"no-org", no_argument, NULL, OPT_NO_ORG},
                                             {"community", no_argument, NULL, OPT_COMMUNITY},
                                             {"no-community", no_argument, NULL, OPT_NO_COMMUNITY},
                                             {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    o->community = -1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_ORG:
            o->org = optarg;
            break;
        case OPT_NO_ORG:
            o->org = "";
            break;
        case OPT_COMMUNITY:
        case OPT_NO_COMMUNITY:
            o->community = c == OPT_COMMUNITY;
            break;
        case OPT_ADMIN:
            o->admin = 1;
            break;
        case OPT_PWFILE:
            o->password_file = optarg;
            break;
        case OPT_PWSTDIN:
            o->password_stdin = 1;
            break;
        case OPT_NOPW:
            o->no_password = 1;
            break;
        case OPT_READ:
            o->can_read = 1;
            o->rights_given++;
            break;
        case OPT_WRITE:
            o->can_write = 1;
            o->rights_given++;
            break;
        case OPT_RW:
            o->can_read = o->can_write = 1;
            o->rights_given++;
            break;
        case OPT_NONE:
            o->can_read = o->can_write = 0;
            o->rights_given++;
            break;
        case OPT_EXPIRES:
            o->expires = optarg;
            break;
        default:
            return -1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Reading a password                                                                           */

/* Reads the first line of f into buf (cap bytes); 0, or -1 when empty, unreadable or too long. */
static int read_line(FILE *f, char *buf, size_t cap)
{
    size_t n = 0;
    int c;
    while ((c = fgetc(f)) != EOF && c != '\n') {
        if (n + 1 >= cap)
            return -1;
        buf[n++] = (char)c;
    }
    if (n && buf[n - 1] == '\r')
        n--;
    buf[n] = '\0';
    return n ? 0 : -1;
}

/* Reads the password from standard input, without echo when it is a terminal. */
static int read_stdin_password(char *buf, size_t cap)
{
    struct termios old, quiet;
    int tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
    if (tty) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        fputs("password: ", stderr);
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    int rc = read_line(stdin, buf, cap);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    return rc;
}

/*
 * Fills buf with the password the options name; *password = buf, or NULL when none was asked for.
 * Returns 0, or -1 after printing why.
 */
static int get_password(const char *cmd, const user_opts *o, char *buf, size_t cap,
                        const char **password)
{
    *password = NULL;
    if (o->password_file && o->password_stdin) {
        cli_error(cmd, "give --password-file or --password-stdin, not both");
        return -1;
    }
    if (o->password_file) {
        FILE *f = fopen(o->password_file, "r");
        if (!f) {
            cli_error(cmd, "%s: %s", o->password_file, strerror(errno));
            return -1;
        }
        int rc = read_line(f, buf, cap);
        fclose(f);
        if (rc) {
            cli_error(cmd, "%s: expected a password of 1 to %d bytes on its first line",
                      o->password_file, ACCORD_PASSWORD_MAX);
            return -1;
        }
        *password = buf;
    } else if (o->password_stdin) {
        if (read_stdin_password(buf, cap)) {
            cli_error(cmd, "expected a password of 1 to %d bytes on standard input",
                      ACCORD_PASSWORD_MAX);
            return -1;
        }
        *password = buf;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Output                                                                                       */

static int print_right(void *ud, const accord_right *r)
{
    (void)ud;
    printf("    %-36s %-16s %s\n", r->collection, r->alias ? r->alias : "-",
           r->can_read && r->can_write ? "read-write"
           : r->can_read               ? "read"
                                       : "write");
    return 0;
}

static int print_account(void *ud, const accord_account *a)
{
    accord_store *s = ud;
    accord_error err = {0};
    printf("%-32s %-5s %-10s %6lld  %-45s %s%s\n", a->name, a->is_admin ? "admin" : "-",
           a->has_password ? "password" : "token-only", (long long)a->live_tokens,
           a->org ? a->org : "-", a->community ? "community" : "-",
           a->disabled ? "  (disabled)" : "");
    return accord_rights_list(s, a->name, print_right, NULL, &err);
}

static void format_us(int64_t us, char *out, size_t len)
{
    if (us)
        accord_timestamp_format(us, out, len);
    else
        snprintf(out, len, "-");
}

static int print_token(void *ud, const accord_token_info *t)
{
    (void)ud;
    char created[40], expires[40], revoked[40];
    format_us(t->created_us, created, sizeof(created));
    format_us(t->expires_us, expires, sizeof(expires));
    format_us(t->revoked_us, revoked, sizeof(revoked));
    printf("%-16s  %-24s %-27s  %-27s  %s\n", t->id, t->account, created, expires, revoked);
    return 0;
}

static int finish(accord_store *s, int rc, const char *cmd, const accord_error *err)
{
    accord_store_close(s);
    if (rc) {
        cli_error(cmd, "%s", err->msg);
        return rc == ACCORD_EINVAL || rc == ACCORD_ENOTFOUND ? EXIT_USAGE : EXIT_FAIL;
    }
    return EXIT_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* accord user                                                                                  */

/* Applies --org/--no-org and --community/--no-community to account name. */
static int apply_clearance(accord_store *s, const user_opts *o, const char *name,
                           accord_error *err)
{
    int rc = 0;
    if (o->org)
        rc = accord_account_set_org(s, name, *o->org ? o->org : NULL, err);
    if (!rc && o->community >= 0)
        rc = accord_account_set_community(s, name, o->community, err);
    return rc;
}

/* `user add` and `user passwd`: the verbs that take a password. */
static int user_password_verb(const char *verb, const user_opts *o, const char *name)
{
    static char buf[ACCORD_PASSWORD_MAX + 2];
    const char *password;
    int add = strcmp(verb, "add") == 0;
    if (!add && !o->no_password && !o->password_file && !o->password_stdin) {
        cli_error("user", "passwd: give --password-file F, --password-stdin or --no-password");
        return EXIT_USAGE;
    }
    if (get_password("user", o, buf, sizeof(buf), &password))
        return EXIT_USAGE;
    accord_error err = {0};
    accord_store *s = cli_open_store(0);
    int rc = EXIT_FAIL;
    if (s) {
        rc = add ? accord_account_add(s, name, password, o->admin, &err)
                 : accord_account_set_password(s, name, password, &err);
        if (!rc && add)
            rc = apply_clearance(s, o, name, &err);
        rc = finish(s, rc, "user", &err);
    }
    explicit_bzero(buf, sizeof(buf));
    return rc;
}

static int user_grant(const user_opts *o, const char *name, const char *collection)
{
    if (o->rights_given != 1) {
        cli_error("user", "grant: give one of --read, --write, --read-write, --none");
        return EXIT_USAGE;
    }
    accord_error err = {0};
    accord_store *s = cli_open_store(0);
    if (!s)
        return EXIT_FAIL;
    int rc = accord_rights_set(s, name, collection, o->can_read, o->can_write, &err);
    return finish(s, rc, "user", &err);
}

int cmd_user(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage("user");
    const char *verb = argv[1];
    user_opts o = {0};
    if (parse_opts(argc - 1, argv + 1, &o))
        return cli_usage("user");
    int nargs = argc - 1 - optind;
    char **args = argv + 1 + optind;
    accord_error err = {0};
    accord_store *s;
    if ((strcmp(verb, "add") == 0 || strcmp(verb, "passwd") == 0) && nargs == 1)
        return user_password_verb(verb, &o, args[0]);
    if (strcmp(verb, "grant") == 0 && nargs == 2)
        return user_grant(&o, args[0], args[1]);
    if (strcmp(verb, "set") == 0 && nargs == 1) {
        if (!o.org && o.community < 0) {
            cli_error("user", "set: give --org ID, --no-org, --community or --no-community");
            return EXIT_USAGE;
        }
        if (!(s = cli_open_store(0)))
            return EXIT_FAIL;
        return finish(s, apply_clearance(s, &o, args[0], &err), "user", &err);
    }
    if (strcmp(verb, "list") == 0 && nargs == 0) {
        if (!(s = cli_open_store(ACCORD_STORE_READONLY)))
            return EXIT_FAIL;
        printf("%-32s %-5s %-10s %6s  %-45s %s\n", "name", "admin", "login", "tokens",
               "organisation", "community");
        return finish(s, accord_account_list(s, print_account, s, &err), "user", &err);
    }
    if (strcmp(verb, "rm") == 0 && nargs == 1) {
        if (!(s = cli_open_store(0)))
            return EXIT_FAIL;
        return finish(s, accord_account_remove(s, args[0], &err), "user", &err);
    }
    return cli_usage("user");
}

/* ------------------------------------------------------------------------------------------ */
/* accord token                                                                                 */

static int token_create(const user_opts *o, const char *account)
{
    int64_t expires = 0;
    if (o->expires && accord_timestamp_parse(o->expires, &expires) != 0) {
        cli_error("token",
                  "--expires %s: expected an RFC 3339 UTC timestamp, e.g. "
                  "2027-01-01T00:00:00Z",
                  o->expires);
        return EXIT_USAGE;
    }
    char token[ACCORD_TOKEN_BUFLEN], id[ACCORD_TOKEN_ID_BUFLEN];
    accord_error err = {0};
    accord_store *s = cli_open_store(0);
    if (!s)
        return EXIT_FAIL;
    int rc = accord_token_create(s, account, expires, token, sizeof(token), id, &err);
    if (!rc) {
        printf("%s\n", token);
        fflush(stdout);
        fprintf(stderr,
                "token %s for %s: shown once; keep it secret ('accord token revoke %s' "
                "ends it)\n",
                id, account, id);
    }
    explicit_bzero(token, sizeof(token));
    return finish(s, rc, "token", &err);
}

int cmd_token(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage("token");
    const char *verb = argv[1];
    user_opts o = {0};
    if (parse_opts(argc - 1, argv + 1, &o))
        return cli_usage("token");
    int nargs = argc - 1 - optind;
    char **args = argv + 1 + optind;
    accord_error err = {0};
    accord_store *s;
    if (strcmp(verb, "create") == 0 && nargs == 1)
        return token_create(&o, args[0]);
    if (strcmp(verb, "revoke") == 0 && nargs == 1) {
        if (!(s = cli_open_store(0)))
            return EXIT_FAIL;
        return finish(s, accord_token_revoke(s, args[0], &err), "token", &err);
    }
    if (strcmp(verb, "list") == 0 && nargs <= 1) {
        if (!(s = cli_open_store(ACCORD_STORE_READONLY)))
            return EXIT_FAIL;
        printf("%-16s  %-24s %-27s  %-27s  %s\n", "id", "account", "created", "expires", "revoked");
        return finish(s, accord_token_list(s, nargs ? args[0] : NULL, print_token, NULL, &err),
                      "token", &err);
    }
    return cli_usage("token");
}
