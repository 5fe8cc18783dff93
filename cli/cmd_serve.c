/*
 * cmd_serve.c - `accord serve`: runs the TAXII 2.1 server until SIGINT or SIGTERM.
 *
 * Signals are blocked before the server's threads start, so they inherit the mask and only this
 * thread receives them, in sigwait.  It refuses to start while a key file under DATA/keys is
 * readable by group or others (key_files_private).  On the first start of an empty store the admin token is
 * printed once, with the certificate's fingerprint for clients to pin.  While it runs, the main
 * thread signs an audit-log checkpoint every --checkpoint-interval seconds (60) and at shutdown.
 */
#include "cli.h"
#include "cmd_nats.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/*
 * Refuses a key file (DATA/keys/NAME.seed: the node, signing and root keys, whichever this node
 * holds) that group or others may access, before anything starts: the server would otherwise run
 * and fail only when it first signs (an audit checkpoint, a signed POST).  -1 after naming the
 * file and its mode; 0 when every key file is private or there is none.
 */
static int key_files_private(const char *data_dir)
{
    char dir[4096];
    if ((size_t)snprintf(dir, sizeof(dir), "%s/keys", data_dir) >= sizeof(dir))
        return 0;
    DIR *d = opendir(dir);
    if (!d)
        return 0; /* no member yet: nothing is signed */
    int rc = 0;
    struct dirent *e;
    while (!rc && (e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".seed") != 0)
            continue;
        char path[4400];
        struct stat st;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (lstat(path, &st) != 0 || !(st.st_mode & (S_IRWXG | S_IRWXO)))
            continue;
        cli_error("serve",
                  "key file %s: mode %04o gives group or others access; refusing to start "
                  "(chmod 600 %s)",
                  path, (unsigned)(st.st_mode & 07777), path);
        rc = -1;
    }
    closedir(d);
    if (rc) { /* a collection that signs cannot with such a key: name it too */
        accord_store *s = cli_open_store(ACCORD_STORE_READONLY);
        accord_error err = {0};
        if (s && accord_collection_sign_check(s, data_dir, &err) != 0)
            cli_error("serve", "%s", err.msg);
        accord_store_close(s);
    }
    return rc;
}

/* Signs an audit checkpoint when records were added since the last one. */
static void audit_checkpoint(accord_store *s)
{
    accord_error err = {0};
    if (accord_audit_checkpoint(s, NULL, &err) != 0)
        cli_error("serve", "audit checkpoint: %s", err.msg);
}

int cmd_serve(int argc, char **argv)
{
    static const struct option longopts[] = {{"listen", required_argument, NULL, 'l'},
                                             {"cert", required_argument, NULL, 'c'},
                                             {"key", required_argument, NULL, 'k'},
                                             {"plain-http", no_argument, NULL, 'p'},
                                             {"threads", required_argument, NULL, 't'},
                                             {"access-log", required_argument, NULL, 'a'},
                                             {"title", required_argument, NULL, 'T'},
                                             {"public-url", required_argument, NULL, 'u'},
                                             {"checkpoint-interval", required_argument, NULL, 'i'},
                                             {"ui", required_argument, NULL, 'U'},
                                             {NULL, 0, NULL, 0}};
    long interval = 60; /* seconds between audit checkpoints */
    accord_server_options o = {.data_dir = cli_data_dir(), .log_fd = -1};
    const char *log_path = NULL;
    int c;
    nats_serve *nats = NULL; /* --nats: results from matching workers become sightings */
    if (nats_serve_args(&argc, argv, &nats) != 0)
        return cli_usage("serve");
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'l':
            o.listen = optarg;
            break;
        case 'c':
            o.cert_file = optarg;
            break;
        case 'k':
            o.key_file = optarg;
            break;
        case 'p':
            o.plain_http = 1;
            break;
        case 't':
            errno = 0;
            o.threads = (unsigned)strtoul(optarg, &end, 10);
            if (errno || *end || o.threads < 1 || o.threads > 256) {
                cli_error("serve", "--threads %s: expected 1 to 256", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'a':
            log_path = optarg;
            break;
        case 'T':
            o.title = optarg;
            break;
        case 'u':
            o.public_url = optarg;
            break;
        case 'U':
            o.ui_dir = optarg;
            break;
        case 'i':
            errno = 0;
            interval = strtol(optarg, &end, 10);
            if (errno || *end || interval < 1 || interval > 86400) {
                cli_error("serve", "--checkpoint-interval %s: expected 1 to 86400 seconds", optarg);
                return EXIT_USAGE;
            }
            break;
        default:
            nats_serve_stop(nats);
            return cli_usage("serve");
        }
    }
    if (optind < argc || (!o.cert_file != !o.key_file)) {
        if (!o.cert_file != !o.key_file)
            cli_error("serve", "--cert and --key go together");
        return cli_usage("serve");
    }
    if (key_files_private(o.data_dir) != 0) {
        nats_serve_stop(nats);
        return EXIT_FAIL;
    }
    if (log_path) {
        o.log_fd = strcmp(log_path, "-") == 0
                       ? STDERR_FILENO
                       : open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
        if (o.log_fd < 0) {
            cli_error("serve", "--access-log %s: %s", log_path, strerror(errno));
            return EXIT_FAIL;
        }
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    accord_server *srv;
    accord_error err = {0};
    char token[160];
    if (accord_server_start(&o, &srv, token, sizeof(token), &err) != 0) {
        cli_error("serve", "%s", err.msg);
        return EXIT_FAIL;
    }
    int created = 0;
    const char *fp = accord_server_fingerprint(srv, &created);
    const char *listen = o.listen ? o.listen : "127.0.0.1:8443";
    printf("accord %s serving TAXII 2.1 on %s://%.*s:%d/taxii2/ (data %s)\n",
           ACCORD_VERSION_STRING, o.plain_http ? "http" : "https",
           (int)(strrchr(listen, ':') - listen), listen, accord_server_port(srv), o.data_dir);
    if (*fp)
        printf("certificate SHA-256 fingerprint %s%s\n", fp,
               created ? " (self-signed, created now)" : "");
    const char *ui = accord_server_console_dir(srv);
    if (ui)
        printf("web console at /ui/ (files from %s)\n", ui);
    else
        printf("web console not available: no built console found (build it with Node.js 18+ and "
               "npm, or pass --ui DIR); /ui/ answers 404\n");
    if (token[0]) {
        printf("created account admin; its API token (shown once, keep it):\n%s\n", token);
        memset(token, 0, sizeof(token));
    }
    fflush(stdout);
    if (nats && nats_serve_start(nats) != 0) {
        accord_server_stop(srv, 10000);
        nats_serve_stop(nats);
        return EXIT_FAIL;
    }
    /* the audit log gets a signed checkpoint every interval and at shutdown, from this thread's
       own store handle (the server's threads keep theirs) */
    accord_store *audit = cli_open_store(0);
    struct timespec tick = {.tv_sec = interval};
    int sig = 0;
    do {
        sig = sigtimedwait(&set, NULL, &tick);
        if (sig < 0 && audit)
            audit_checkpoint(audit);
    } while (sig < 0 || sig == SIGHUP); /* accounts and collections are read per request */
    fprintf(stderr, "accord serve: signal %d, finishing requests in flight\n", sig);
    nats_serve_stop(nats);
    accord_server_stop(srv, 10000);
    if (audit)
        audit_checkpoint(audit);
    accord_store_close(audit);
    if (o.log_fd > STDERR_FILENO)
        close(o.log_fd);
    return EXIT_OK;
}
