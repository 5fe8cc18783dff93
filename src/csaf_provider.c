/*
 * csaf_provider.c - the CSAF 2.0 provider directory (section 7) of the node's published
 * advisories, written to a folder that a web server maps to https://NAMESPACE/.well-known/csaf/:
 *
 *   provider-metadata.json                  role csaf_provider, the publisher, one directory
 *                                           distribution with its ROLIE feed (7.1.7, 7.1.20)
 *   white/YEAR/NAME.json                    the latest revision of each published case's advisory,
 *                                           YEAR of its initial release, NAME per 5.1 (7.1.10/11)
 *   white/YEAR/NAME.json.sha256 / .sha512   "HEX  NAME.json" as sha256sum writes it (7.1.18)
 *   white/index.txt                         every advisory's path, one a line (7.1.12)
 *   white/changes.csv                       "path","current_release_date", newest first (7.1.13)
 *   white/csaf-feed-tlp-white.json          the ROLIE feed (7.1.15/16)
 *
 * Every advisory accord publishes is TLP:WHITE (published cases are public), so there is one
 * TLP directory and one feed.  The files come from the store's case_docs, so the directory can be
 * rewritten at any time and always matches the published revisions.
 *
 *   white/YEAR/NAME.json.asc                with a signing key: a detached armored OpenPGP
 *                                           signature by GnuPG (gpgme) (7.1.19), the public key in
 *                                           openpgp/FPR.asc, listed in the metadata (7.1.20)
 *
 * It does not: serve the files over HTTPS, or publish security.txt; the role stays
 * csaf_provider (a trusted provider also needs the server side of section 7).
 */
#include "case_int.h"
#include "store.h"
#include "store_int.h"
#include "util/timestamp.h"

#include <errno.h>
#include <gpgme.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct advisory {
    char *id, *title, *body;
    size_t len;
    int64_t initial, current; /* µs */
    char path[160];           /* "YEAR/NAME.json" under white/ */
} advisory;

typedef struct provider {
    advisory *a;
    size_t n;
    char name[128], ns[256];
    gpgme_ctx_t gpg; /* NULL = unsigned */
    char fpr[128];   /* the signing key's fingerprint */
} provider;

static int mkdir_p(const char *path)
{
    char p[4096];
    snprintf(p, sizeof(p), "%s", path);
    for (char *c = p + 1; *c; c++)
        if (*c == '/') {
            *c = '\0';
            if (mkdir(p, 0755) && errno != EEXIST)
                return -1;
            *c = '/';
        }
    return mkdir(p, 0755) && errno != EEXIST ? -1 : 0;
}

static int write_file(const char *dir, const char *name, const void *data, size_t len,
                      accord_error *err)
{
    char path[4096];
    int pl = snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (pl < 0 || (size_t)pl >= sizeof(path))
        return accord_err_set(err, ACCORD_EINVAL, "csaf provider: path too long: %.200s/%.200s", dir,
                              name);
    FILE *f = fopen(path, "wb");
    int bad = !f || fwrite(data, 1, len, f) != len;
    if (f && fclose(f))
        bad = 1;
    return bad ? accord_err_set(err, ACCORD_EIO, "csaf provider: cannot write %.3000s", path) : 0;
}

static void hex(const unsigned char *h, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++)
        out[2 * i] = digits[h[i] >> 4], out[2 * i + 1] = digits[h[i] & 15];
    out[2 * n] = '\0';
}

/* Writes what gpgme put in out to dir/name and releases out. */
static int write_gpg_data(const char *dir, const char *name, gpgme_data_t out, accord_error *err)
{
    size_t n = 0;
    char *mem = gpgme_data_release_and_get_mem(out, &n);
    int rc = mem && n ? write_file(dir, name, mem, n, err)
                      : accord_err_set(err, ACCORD_EIO, "csaf provider: GnuPG wrote nothing for %s",
                                       name);
    gpgme_free(mem);
    return rc;
}

static int gpg_fail(gpgme_error_t e, const char *what, accord_error *err)
{
    return accord_err_set(err, ACCORD_EINVAL, "csaf provider: OpenPGP %s: %s (%s)", what,
                          gpgme_strerror(e), gpgme_strsource(e));
}

/* Opens GnuPG with key fpr as the only signer; ASCII armor. */
static int gpg_open(provider *p, const char *fpr, accord_error *err)
{
    gpgme_check_version(NULL);
    gpgme_key_t key = NULL;
    gpgme_error_t e = gpgme_new(&p->gpg);
    if (!e)
        e = gpgme_set_protocol(p->gpg, GPGME_PROTOCOL_OpenPGP);
    if (e)
        return gpg_fail(e, "engine", err);
    gpgme_set_armor(p->gpg, 1);
    if ((e = gpgme_get_key(p->gpg, fpr, &key, 1)))
        return gpg_fail(e, "secret key", err);
    snprintf(p->fpr, sizeof(p->fpr), "%s", key->subkeys ? key->subkeys->fpr : fpr);
    e = gpgme_signers_add(p->gpg, key);
    gpgme_key_unref(key);
    return e ? gpg_fail(e, "signer", err) : 0;
}

/* openpgp/FPR.asc: the public key. */
static int gpg_export(const provider *p, const char *dir, accord_error *err)
{
    char kdir[4200], name[160];
    snprintf(kdir, sizeof(kdir), "%s/openpgp", dir);
    if (mkdir(kdir, 0755) && errno != EEXIST)
        return accord_err_set(err, ACCORD_EIO, "csaf provider: cannot create %.3000s", kdir);
    gpgme_data_t out;
    gpgme_error_t e = gpgme_data_new(&out);
    if (!e && (e = gpgme_op_export(p->gpg, p->fpr, 0, out)))
        gpgme_data_release(out);
    if (e)
        return gpg_fail(e, "export", err);
    snprintf(name, sizeof(name), "%s.asc", p->fpr);
    return write_gpg_data(kdir, name, out, err);
}

/* NAME.json.asc: a detached signature of the advisory's bytes. */
static int gpg_sign(const provider *p, const char *dir, const advisory *a, const char *name,
                    accord_error *err)
{
    gpgme_data_t in, out;
    gpgme_error_t e = gpgme_data_new_from_mem(&in, a->body, a->len, 0);
    if (e)
        return gpg_fail(e, "input", err);
    if (!(e = gpgme_data_new(&out)) && (e = gpgme_op_sign(p->gpg, in, out, GPGME_SIG_MODE_DETACH)))
        gpgme_data_release(out);
    gpgme_data_release(in);
    if (e)
        return gpg_fail(e, "signature", err);
    char file[200];
    snprintf(file, sizeof(file), "%s.asc", name);
    return write_gpg_data(dir, file, out, err);
}

/* NAME.json, NAME.json.sha256, NAME.json.sha512 (and NAME.json.asc when signing) in dir. */
static int write_advisory(const provider *p, const char *dir, const advisory *a,
                          accord_error *err)
{
    const char *name = strrchr(a->path, '/') + 1;
    int rc = write_file(dir, name, a->body, a->len, err);
    unsigned char h[crypto_hash_sha512_BYTES];
    char line[2 * crypto_hash_sha512_BYTES + 200], file[200];
    for (int k = 0; k < 2 && !rc; k++) {
        size_t hl = k ? crypto_hash_sha512_BYTES : crypto_hash_sha256_BYTES;
        if (k)
            crypto_hash_sha512(h, (const unsigned char *)a->body, a->len);
        else
            crypto_hash_sha256(h, (const unsigned char *)a->body, a->len);
        hex(h, hl, line);
        size_t n = strlen(line);
        snprintf(line + n, sizeof(line) - n, "  %s\n", name);
        snprintf(file, sizeof(file), "%s.%s", name, k ? "sha512" : "sha256");
        rc = write_file(dir, file, line, strlen(line), err);
    }
    if (!rc && p->gpg)
        rc = gpg_sign(p, dir, a, name, err);
    return rc;
}

static int load(accord_store *s, provider *p, accord_error *err)
{
    sqlite3_stmt *st;
    snprintf(p->name, sizeof(p->name), "accord");
    snprintf(p->ns, sizeof(p->ns), "https://accord.invalid");
    if (sqlite3_prepare_v2(s->db,
                           "SELECT key, value FROM meta WHERE key IN ('csaf_publisher_name',"
                           " 'csaf_publisher_namespace')",
                           -1, &st, NULL) != SQLITE_OK)
        return store_db_fail(s, err, "reading the publisher");
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(st, 0);
        const char *v = (const char *)sqlite3_column_text(st, 1);
        int is_name = strcmp(k, "csaf_publisher_name") == 0;
        if (v)
            snprintf(is_name ? p->name : p->ns, is_name ? sizeof(p->name) : sizeof(p->ns), "%s",
                     v);
    }
    sqlite3_finalize(st);
    size_t nl = strlen(p->ns);
    while (nl && p->ns[nl - 1] == '/')
        p->ns[--nl] = '\0';
    /* the latest revision of each published case, newest change first */
    if (sqlite3_prepare_v2(s->db,
                           "SELECT c.id, c.title, d.body, d.date,"
                           " (SELECT min(date) FROM case_docs f WHERE f.cid = c.cid)"
                           " FROM cases c JOIN case_docs d ON d.cid = c.cid AND d.kind = 'csaf'"
                           " AND d.revision = c.revision WHERE c.published IS NOT NULL"
                           " ORDER BY d.date DESC, c.cid DESC",
                           -1, &st, NULL) != SQLITE_OK)
        return store_db_fail(s, err, "reading the advisories");
    int rc = 0;
    while (!rc && sqlite3_step(st) == SQLITE_ROW) {
        advisory *na = realloc(p->a, (p->n + 1) * sizeof(*na));
        if (!na) {
            rc = accord_err_set(err, ACCORD_ENOMEM, "csaf provider: out of memory");
            break;
        }
        p->a = na;
        advisory *a = &p->a[p->n++];
        memset(a, 0, sizeof(*a));
        a->id = strdup((const char *)sqlite3_column_text(st, 0));
        a->title = strdup((const char *)sqlite3_column_text(st, 1));
        a->len = (size_t)sqlite3_column_bytes(st, 2);
        a->body = malloc(a->len + 1);
        if (!a->id || !a->title || !a->body) {
            rc = accord_err_set(err, ACCORD_ENOMEM, "csaf provider: out of memory");
            break;
        }
        memcpy(a->body, sqlite3_column_blob(st, 2), a->len);
        a->current = sqlite3_column_int64(st, 3);
        a->initial = sqlite3_column_int64(st, 4);
        char year[8], name[128];
        case_time(a->initial, year, sizeof(year));
        case_csaf_filename(a->id, name, sizeof(name));
        snprintf(a->path, sizeof(a->path), "%.4s/%s", year, name);
    }
    sqlite3_finalize(st);
    return rc;
}

static void provider_free(provider *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->a[i].id), free(p->a[i].title), free(p->a[i].body);
    free(p->a);
    if (p->gpg)
        gpgme_release(p->gpg);
}

static void kv_time(buf *b, const char *key, int64_t us)
{
    char t[40];
    case_time(us, t, sizeof(t));
    case_json_kv(b, key, t);
}

static void metadata(const provider *p, int64_t updated, buf *b)
{
    buf_adds(b, "{\"canonical_url\":\"");
    buf_adds(b, p->ns);
    buf_adds(b, "/.well-known/csaf/provider-metadata.json\",\"distributions\":[{"
                "\"directory_url\":\"");
    buf_adds(b, p->ns);
    buf_adds(b, "/.well-known/csaf/white/\",\"rolie\":{\"feeds\":[{\"summary\":");
    char s[300];
    snprintf(s, sizeof(s), "All TLP:WHITE advisories of %s.", p->name);
    buf_json_str(b, s);
    buf_adds(b, ",\"tlp_label\":\"WHITE\",\"url\":\"");
    buf_adds(b, p->ns);
    buf_adds(b, "/.well-known/csaf/white/csaf-feed-tlp-white.json\"}]}}],");
    if (p->gpg) {
        buf_adds(b, "\"public_openpgp_keys\":[{");
        case_json_kv(b, "fingerprint", p->fpr);
        buf_adds(b, ",\"url\":\"");
        buf_adds(b, p->ns);
        buf_adds(b, "/.well-known/csaf/openpgp/");
        buf_adds(b, p->fpr);
        buf_adds(b, ".asc\"}],");
    }
    kv_time(b, "last_updated", updated);
    buf_adds(b, ",\"list_on_CSAF_aggregators\":true,\"metadata_version\":\"2.0\","
                "\"mirror_on_CSAF_aggregators\":true,\"publisher\":{\"category\":\"coordinator\",");
    case_json_kv(b, "name", p->name);
    buf_adds(b, ",");
    case_json_kv(b, "namespace", p->ns);
    buf_adds(b, "},\"role\":\"csaf_provider\"}\n");
}

static void feed(const provider *p, int64_t updated, buf *b)
{
    char url[600];
    snprintf(url, sizeof(url), "%s/.well-known/csaf/white/", p->ns);
    buf_adds(b, "{\"feed\":{\"id\":");
    char id[700];
    snprintf(id, sizeof(id), "%s-csaf-feed-tlp-white", p->name);
    buf_json_str(b, id);
    buf_adds(b, ",\"title\":");
    snprintf(id, sizeof(id), "%s CSAF feed (TLP:WHITE)", p->name);
    buf_json_str(b, id);
    buf_adds(b, ",\"link\":[{\"rel\":\"self\",\"href\":");
    snprintf(id, sizeof(id), "%scsaf-feed-tlp-white.json", url);
    buf_json_str(b, id);
    buf_adds(b, "}],\"category\":[{\"scheme\":\"urn:ietf:params:rolie:category:information-type\","
                "\"term\":\"csaf\"}],");
    kv_time(b, "updated", updated);
    buf_adds(b, ",\"entry\":[");
    for (size_t i = 0; i < p->n; i++) {
        const advisory *a = &p->a[i];
        char href[800];
        snprintf(href, sizeof(href), "%s%s", url, a->path);
        buf_adds(b, i ? ",{" : "{");
        case_json_kv(b, "id", a->id);
        buf_adds(b, ",");
        case_json_kv(b, "title", a->title);
        buf_adds(b, ",\"link\":[{\"rel\":\"self\",");
        case_json_kv(b, "href", href);
        for (int k = 0; k < 2; k++) {
            char hash[820];
            snprintf(hash, sizeof(hash), "%s.%s", href, k ? "sha512" : "sha256");
            buf_adds(b, "},{\"rel\":\"hash\",");
            case_json_kv(b, "href", hash);
        }
        buf_adds(b, "}],");
        kv_time(b, "published", a->initial);
        buf_adds(b, ",");
        kv_time(b, "updated", a->current);
        buf_adds(b, ",\"summary\":{");
        case_json_kv(b, "content", a->title);
        buf_adds(b, "},\"content\":{\"type\":\"application/json\",");
        case_json_kv(b, "src", href);
        buf_adds(b, "},\"format\":{\"schema\":\"https://docs.oasis-open.org/csaf/csaf/v2.0/"
                    "csaf_json_schema.json\",\"version\":\"2.0\"}}");
    }
    buf_adds(b, "]}}\n");
}

int accord_csaf_provider_write(accord_store *s, const char *dir, const char *sign_key,
                               accord_error *err)
{
    provider p = {0};
    int rc = sign_key ? gpg_open(&p, sign_key, err) : 0;
    if (!rc)
        rc = load(s, &p, err);
    char white[4096];
    snprintf(white, sizeof(white), "%s/white", dir);
    if (!rc && mkdir_p(white))
        rc = accord_err_set(err, ACCORD_EIO, "csaf provider: cannot create %.3000s", white);
    int64_t updated = p.n ? p.a[0].current : ts_now_us();
    buf idx, chg, b;
    buf_init(&idx, 1u << 26), buf_init(&chg, 1u << 26), buf_init(&b, 1u << 26);
    for (size_t i = 0; i < p.n && !rc; i++) {
        const advisory *a = &p.a[i];
        char ydir[4200], t[40];
        snprintf(ydir, sizeof(ydir), "%s/%.4s", white, a->path);
        if (mkdir_p(ydir))
            rc = accord_err_set(err, ACCORD_EIO, "csaf provider: cannot create %.3000s", ydir);
        else
            rc = write_advisory(&p, ydir, a, err);
        buf_adds(&idx, a->path);
        buf_adds(&idx, "\n");
        case_time(a->current, t, sizeof(t));
        buf_printf(&chg, "\"%s\",\"%s\"\n", a->path, t);
    }
    if (!rc)
        rc = write_file(white, "index.txt", idx.p ? idx.p : "", idx.len, err);
    if (!rc)
        rc = write_file(white, "changes.csv", chg.p ? chg.p : "", chg.len, err);
    if (!rc) {
        feed(&p, updated, &b);
        rc = write_file(white, "csaf-feed-tlp-white.json", b.p, b.len, err);
    }
    if (!rc && p.gpg)
        rc = gpg_export(&p, dir, err);
    if (!rc) {
        buf_reset(&b);
        metadata(&p, updated, &b);
        rc = write_file(dir, "provider-metadata.json", b.p, b.len, err);
    }
    if (!rc && (b.failed || idx.failed || chg.failed))
        rc = accord_err_set(err, ACCORD_ELIMIT, "csaf provider: a file is too large");
    buf_free(&idx), buf_free(&chg), buf_free(&b);
    provider_free(&p);
    return rc;
}
