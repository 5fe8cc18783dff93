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
 * The same generator answers `accord serve` at /.well-known/csaf/ (csaf_provider_handle, a public
 * route: no credentials) by producing the one file asked for instead of writing the folder; the
 * signing key is then the one `accord case publisher --sign-key` stored (meta csaf_sign_key).
 * Only published cases' advisories whose document says TLP:WHITE (or CLEAR) are ever listed or
 * served: an embargoed case has no published document, and a document with any other label is
 * left out rather than exposed.
 *
 * It does not publish security.txt; the role stays csaf_provider (a trusted provider also needs
 * the DNS and TLS setup of section 7.1.1).
 */
#include "api.h"
#include "case_api.h"
#include "case_int.h"
#include "store.h"
#include "store_int.h"
#include "util/json.h"
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

/* Where the files go: a folder (dir), or one wanted file captured into out. */
typedef struct sink {
    const char *dir;  /* write every file under dir; NULL = capture want */
    const char *want; /* the path, relative to the provider root, to capture */
    buf *out;
    const char *type; /* the captured file's media type */
    int found;
} sink;

/* 1 when the file at rel is to be produced (everything when writing a folder). */
static int wants(const sink *k, const char *rel)
{
    return k->dir || (!k->found && strcmp(k->want, rel) == 0);
}

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
    char *slash = strrchr(path, '/');
    *slash = '\0';
    int made = mkdir_p(path);
    *slash = '/';
    if (made)
        return accord_err_set(err, ACCORD_EIO, "csaf provider: cannot create the folder of %.3000s",
                              path);
    FILE *f = fopen(path, "wb");
    int bad = !f || fwrite(data, 1, len, f) != len;
    if (f && fclose(f))
        bad = 1;
    return bad ? accord_err_set(err, ACCORD_EIO, "csaf provider: cannot write %.3000s", path) : 0;
}

/* Produces the file at rel (relative to the provider root) of media type type. */
static int emit(sink *k, const char *rel, const void *data, size_t len, const char *type,
                accord_error *err)
{
    if (k->dir)
        return write_file(k->dir, rel, data, len, err);
    if (!wants(k, rel))
        return 0;
    k->found = 1;
    k->type = type;
    buf_add(k->out, data, len);
    return k->out->failed ? accord_err_set(err, ACCORD_ELIMIT, "csaf provider: file too large") : 0;
}

static void hex(const unsigned char *h, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++)
        out[2 * i] = digits[h[i] >> 4], out[2 * i + 1] = digits[h[i] & 15];
    out[2 * n] = '\0';
}

/* Produces what gpgme put in out as the file rel and releases out. */
static int emit_gpg_data(sink *k, const char *rel, const char *type, gpgme_data_t out,
                         accord_error *err)
{
    size_t n = 0;
    char *mem = gpgme_data_release_and_get_mem(out, &n);
    int rc = mem && n ? emit(k, rel, mem, n, type, err)
                      : accord_err_set(err, ACCORD_EIO, "csaf provider: GnuPG wrote nothing for %s",
                                       rel);
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
static int gpg_export(const provider *p, sink *k, accord_error *err)
{
    char name[160];
    snprintf(name, sizeof(name), "openpgp/%s.asc", p->fpr);
    if (!wants(k, name))
        return 0;
    gpgme_data_t out;
    gpgme_error_t e = gpgme_data_new(&out);
    if (!e && (e = gpgme_op_export(p->gpg, p->fpr, 0, out)))
        gpgme_data_release(out);
    if (e)
        return gpg_fail(e, "export", err);
    return emit_gpg_data(k, name, "application/pgp-keys", out, err);
}

/* white/YEAR/NAME.json.asc: a detached signature of the advisory's bytes. */
static int gpg_sign(const provider *p, sink *k, const advisory *a, accord_error *err)
{
    char file[200];
    snprintf(file, sizeof(file), "white/%s.asc", a->path);
    if (!wants(k, file))
        return 0;
    gpgme_data_t in, out;
    gpgme_error_t e = gpgme_data_new_from_mem(&in, a->body, a->len, 0);
    if (e)
        return gpg_fail(e, "input", err);
    if (!(e = gpgme_data_new(&out)) && (e = gpgme_op_sign(p->gpg, in, out, GPGME_SIG_MODE_DETACH)))
        gpgme_data_release(out);
    gpgme_data_release(in);
    if (e)
        return gpg_fail(e, "signature", err);
    return emit_gpg_data(k, file, "application/pgp-signature", out, err);
}

/* white/YEAR/NAME.json, .sha256, .sha512 (and .asc when signing). */
static int write_advisory(const provider *p, sink *k, const advisory *a, accord_error *err)
{
    const char *name = strrchr(a->path, '/') + 1;
    char rel[200];
    snprintf(rel, sizeof(rel), "white/%s", a->path);
    int rc = emit(k, rel, a->body, a->len, API_JSON, err);
    unsigned char h[crypto_hash_sha512_BYTES];
    char line[2 * crypto_hash_sha512_BYTES + 200], file[220];
    for (int i = 0; i < 2 && !rc; i++) {
        snprintf(file, sizeof(file), "%s.%s", rel, i ? "sha512" : "sha256");
        if (!wants(k, file))
            continue;
        size_t hl = i ? crypto_hash_sha512_BYTES : crypto_hash_sha256_BYTES;
        if (i)
            crypto_hash_sha512(h, (const unsigned char *)a->body, a->len);
        else
            crypto_hash_sha256(h, (const unsigned char *)a->body, a->len);
        hex(h, hl, line);
        size_t n = strlen(line);
        snprintf(line + n, sizeof(line) - n, "  %s\n", name);
        rc = emit(k, file, line, strlen(line), "text/plain; charset=utf-8", err);
    }
    if (!rc && p->gpg)
        rc = gpg_sign(p, k, a, err);
    return rc;
}

/* 1 when the CSAF document's document.distribution.tlp.label is WHITE or CLEAR. */
static int tlp_white(ajson_arena *ar, const char *body, size_t len)
{
    ajson_arena_reset(ar);
    ajson_error je;
    const ajson_value *v = ajson_parse(ar, body, len, &je);
    const char *keys[] = {"document", "distribution", "tlp", "label"};
    for (size_t i = 0; v && i < 4; i++)
        v = ajson_get(v, keys[i]);
    const char *label = v ? ajson_str(v) : NULL;
    return label && (strcmp(label, "WHITE") == 0 || strcmp(label, "CLEAR") == 0);
}

static int load(accord_store *s, provider *p, char *sign_key, size_t sklen, accord_error *err)
{
    sqlite3_stmt *st;
    snprintf(p->name, sizeof(p->name), "accord");
    snprintf(p->ns, sizeof(p->ns), "https://accord.invalid");
    if (sqlite3_prepare_v2(s->db,
                           "SELECT key, value FROM meta WHERE key IN ('csaf_publisher_name',"
                           " 'csaf_publisher_namespace', 'csaf_sign_key')",
                           -1, &st, NULL) != SQLITE_OK)
        return store_db_fail(s, err, "reading the publisher");
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(st, 0);
        const char *v = (const char *)sqlite3_column_text(st, 1);
        int is_name = strcmp(k, "csaf_publisher_name") == 0;
        if (v && strcmp(k, "csaf_sign_key") == 0) {
            if (sign_key)
                snprintf(sign_key, sklen, "%s", v);
        } else if (v)
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
    ajson_arena ar;
    ajson_arena_init(&ar, 0);
    while (!rc && sqlite3_step(st) == SQLITE_ROW) {
        if (!tlp_white(&ar, sqlite3_column_blob(st, 2), (size_t)sqlite3_column_bytes(st, 2)))
            continue;
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
    ajson_arena_free(&ar);
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

/* Loads the advisories and produces the directory's files into k; sign_key NULL = the stored
 * one (serving) or "" = none. */
static int provider_run(accord_store *s, const char *sign_key, sink *k, accord_error *err)
{
    provider p = {0};
    char stored_key[128] = "";
    int rc = load(s, &p, stored_key, sizeof(stored_key), err);
    const char *key = sign_key ? sign_key : stored_key;
    /* only the files that show the key need GnuPG */
    size_t wl = k->dir ? 0 : strlen(k->want);
    int signing = k->dir || strcmp(k->want, "provider-metadata.json") == 0 ||
                  (wl > 4 && strcmp(k->want + wl - 4, ".asc") == 0);
    if (!rc && *key && signing)
        rc = gpg_open(&p, key, err);
    int64_t updated = p.n ? p.a[0].current : ts_now_us();
    buf idx, chg, b;
    buf_init(&idx, 1u << 26), buf_init(&chg, 1u << 26), buf_init(&b, 1u << 26);
    for (size_t i = 0; i < p.n && !rc; i++) {
        const advisory *a = &p.a[i];
        char t[40];
        rc = write_advisory(&p, k, a, err);
        buf_adds(&idx, a->path);
        buf_adds(&idx, "\n");
        case_time(a->current, t, sizeof(t));
        buf_printf(&chg, "\"%s\",\"%s\"\n", a->path, t);
    }
    if (!rc && (b.failed || idx.failed || chg.failed))
        rc = accord_err_set(err, ACCORD_ELIMIT, "csaf provider: a file is too large");
    if (!rc)
        rc = emit(k, "white/index.txt", idx.p ? idx.p : "", idx.len, "text/plain; charset=utf-8",
                  err);
    if (!rc)
        rc = emit(k, "white/changes.csv", chg.p ? chg.p : "", chg.len, "text/csv; charset=utf-8",
                  err);
    if (!rc && wants(k, "white/csaf-feed-tlp-white.json")) {
        feed(&p, updated, &b);
        rc = emit(k, "white/csaf-feed-tlp-white.json", b.p, b.len, API_JSON, err);
    }
    if (!rc && p.gpg)
        rc = gpg_export(&p, k, err);
    if (!rc && wants(k, "provider-metadata.json")) {
        buf_reset(&b);
        metadata(&p, updated, &b);
        rc = emit(k, "provider-metadata.json", b.p, b.len, API_JSON, err);
    }
    buf_free(&idx), buf_free(&chg), buf_free(&b);
    provider_free(&p);
    return rc;
}

int accord_csaf_provider_write(accord_store *s, const char *dir, const char *sign_key,
                               accord_error *err)
{
    sink k = {.dir = dir};
    if (mkdir_p(dir))
        return accord_err_set(err, ACCORD_EIO, "csaf provider: cannot create %.3000s", dir);
    return provider_run(s, sign_key ? sign_key : "", &k, err);
}

int accord_csaf_sign_key_set(accord_store *s, const char *fpr, accord_error *err)
{
    provider p = {0};
    int rc = fpr && *fpr ? gpg_open(&p, fpr, err) : 0; /* a key this GnuPG home can sign with */
    provider_free(&p);
    if (rc || (rc = store_exec(s, "BEGIN IMMEDIATE", err)))
        return rc;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           fpr && *fpr ? "INSERT OR REPLACE INTO meta(key, value)"
                                         " VALUES('csaf_sign_key', ?1)"
                                       : "DELETE FROM meta WHERE key = 'csaf_sign_key'",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = store_db_fail(s, err, "setting the CSAF signing key");
    } else {
        if (fpr && *fpr)
            sqlite3_bind_text(st, 1, fpr, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = store_db_fail(s, err, "setting the CSAF signing key");
        sqlite3_finalize(st);
    }
    return store_audit_commit(s, rc, "csaf-sign-key", NULL, fpr && *fpr ? fpr : "none", err);
}

/* GET /.well-known/csaf/REST: the file REST of the provider directory, without credentials. */
void csaf_provider_handle(api_call *c)
{
    taxii_response *rs = c->rs;
    if (strcmp(c->rq->method, "GET") != 0 && strcmp(c->rq->method, "HEAD") != 0) {
        snprintf(rs->allow, sizeof(rs->allow), "GET, HEAD");
        api_fail(c, 405, "Method not allowed", "the CSAF provider directory is read-only");
        return;
    }
    /* the generator's paths are plain names: anything else is simply not one of them */
    const char *want = *c->rest ? c->rest : "provider-metadata.json";
    buf out;
    buf_init(&out, 1u << 26);
    sink k = {.want = want, .out = &out};
    accord_error err = {0};
    int rc = provider_run(c->reader, NULL, &k, &err);
    if (rc) {
        api_fail(c, 500, "CSAF provider error", "%s", err.msg);
    } else if (!k.found) {
        api_fail(c, 404, "Not found", "no file %.200s in the CSAF provider directory", want);
    } else {
        /* the entity tag is the content's hash (a signature is made anew each time, so its tag
         * changes with it) */
        unsigned char h[crypto_generichash_BYTES];
        char hx[2 * crypto_generichash_BYTES + 1];
        crypto_generichash(h, sizeof(h), (const unsigned char *)out.p, out.len, NULL, 0);
        hex(h, 16, hx);
        snprintf(rs->etag, sizeof(rs->etag), "\"%s\"", hx);
        if (api_etag_matches(c->rq, rs->etag)) {
            rs->status = 304;
        } else {
            rs->status = 200;
            rs->content_type = k.type;
            buf_add(&rs->body, out.p, out.len);
        }
    }
    buf_free(&out);
}
