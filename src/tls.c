/*
 * tls.c - the server's certificate: load a configured PEM pair, or create a self-signed one.
 *
 * On a first start without a configured certificate, accord creates an ECDSA P-256 key and a
 * self-signed certificate (CN=accord, subjectAltName localhost, 127.0.0.1 and ::1, valid ten
 * years) in DATA/tls/, key file mode 0600, and reports its SHA-256 fingerprint so that clients can
 * pin it.  Later starts reuse the pair.  A key file readable by group or others is refused.
 */
#include "tls.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int read_file(const char *path, char **out, accord_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return accord_err_set(err, ACCORD_EIO, "tls: %s: %s", path, strerror(errno));
    char *data = malloc(1024 * 1024);
    size_t n = data ? fread(data, 1, 1024 * 1024 - 1, f) : 0;
    fclose(f);
    if (!data)
        return accord_err_set(err, ACCORD_ENOMEM, "tls: out of memory");
    data[n] = '\0';
    *out = data;
    return 0;
}

static int write_file(const char *path, const void *data, size_t len, mode_t mode,
                      accord_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0)
        return accord_err_set(err, ACCORD_EIO, "tls: cannot create %s: %s", path,
                              strerror(errno));
    ssize_t w = write(fd, data, len);
    int rc = (w == (ssize_t)len && fsync(fd) == 0) ? 0 : -1;
    close(fd);
    if (rc)
        return accord_err_set(err, ACCORD_EIO, "tls: cannot write %s", path);
    return 0;
}

static int fingerprint(const char *cert_pem, char *out, size_t outlen, accord_error *err)
{
    gnutls_x509_crt_t crt;
    gnutls_datum_t d = {(unsigned char *)cert_pem, (unsigned)strlen(cert_pem)};
    unsigned char fp[32];
    size_t fplen = sizeof(fp);
    if (gnutls_x509_crt_init(&crt) < 0)
        return accord_err_set(err, ACCORD_ENOMEM, "tls: out of memory");
    int g = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM);
    if (g >= 0)
        g = gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, fp, &fplen);
    gnutls_x509_crt_deinit(crt);
    if (g < 0)
        return accord_err_set(err, ACCORD_EINVAL, "tls: the certificate cannot be read: %s",
                              gnutls_strerror(g));
    size_t n = 0;
    for (size_t i = 0; i < fplen && n + 4 <= outlen; i++)
        n += (size_t)snprintf(out + n, outlen - n, i ? ":%02X" : "%02X", fp[i]);
    return 0;
}

/* Creates the self-signed pair as PEM strings (caller frees). */
static int make_self_signed(char **cert_out, char **key_out, accord_error *err)
{
    gnutls_x509_privkey_t key = NULL;
    gnutls_x509_crt_t crt = NULL;
    gnutls_datum_t kpem = {0}, cpem = {0};
    int g;
    if ((g = gnutls_x509_privkey_init(&key)) < 0 || (g = gnutls_x509_crt_init(&crt)) < 0)
        goto out;
    if ((g = gnutls_x509_privkey_generate(
             key, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0)) < 0)
        goto out;
    unsigned char serial[16];
    if ((g = gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial))) < 0)
        goto out;
    serial[0] &= 0x7f;
    time_t now = time(NULL);
    static const unsigned char lo4[4] = {127, 0, 0, 1}, lo6[16] = {[15] = 1};
    if ((g = gnutls_x509_crt_set_version(crt, 3)) < 0 ||
        (g = gnutls_x509_crt_set_serial(crt, serial, sizeof(serial))) < 0 ||
        (g = gnutls_x509_crt_set_activation_time(crt, now - 3600)) < 0 ||
        (g = gnutls_x509_crt_set_expiration_time(crt, now + 3650L * 86400)) < 0 ||
        (g = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, "accord", 6)) <
            0 ||
        (g = gnutls_x509_crt_set_key(crt, key)) < 0 ||
        (g = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, "localhost", 9,
                                                  GNUTLS_FSAN_APPEND)) < 0 ||
        (g = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, lo4, 4,
                                                  GNUTLS_FSAN_APPEND)) < 0 ||
        (g = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, lo6, 16,
                                                  GNUTLS_FSAN_APPEND)) < 0 ||
        (g = gnutls_x509_crt_set_basic_constraints(crt, 0, -1)) < 0 ||
        (g = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE)) < 0 ||
        (g = gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0)) < 0 ||
        (g = gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0)) < 0)
        goto out;
    if ((g = gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &kpem)) < 0 ||
        (g = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &cpem)) < 0)
        goto out;
    *key_out = strndup((const char *)kpem.data, kpem.size);
    *cert_out = strndup((const char *)cpem.data, cpem.size);
out:
    if (kpem.data) {
        memset(kpem.data, 0, kpem.size);
        gnutls_free(kpem.data);
    }
    gnutls_free(cpem.data);
    gnutls_x509_crt_deinit(crt);
    gnutls_x509_privkey_deinit(key);
    if (g < 0)
        return accord_err_set(err, ACCORD_ESTORE, "tls: cannot create a certificate: %s",
                              gnutls_strerror(g));
    if (!*key_out || !*cert_out)
        return accord_err_set(err, ACCORD_ENOMEM, "tls: out of memory");
    return 0;
}

static int key_private(const char *path, accord_error *err)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return accord_err_set(err, ACCORD_EIO, "tls: %s: %s", path, strerror(errno));
    if (st.st_mode & 077)
        return accord_err_set(err, ACCORD_EINVAL,
                              "tls: key file %s is readable by group or others (mode %03o); "
                              "chmod 600 it",
                              path, (unsigned)(st.st_mode & 0777));
    return 0;
}

int tls_load(const char *data_dir, const char *cert_file, const char *key_file, tls_pair *out,
             accord_error *err)
{
    memset(out, 0, sizeof(*out));
    char cpath[4096], kpath[4096];
    int rc;
    if (cert_file && key_file) {
        snprintf(cpath, sizeof(cpath), "%s", cert_file);
        snprintf(kpath, sizeof(kpath), "%s", key_file);
    } else {
        char dir[3072];
        if ((size_t)snprintf(dir, sizeof(dir), "%s/tls", data_dir) >= sizeof(dir))
            return accord_err_set(err, ACCORD_EINVAL, "tls: data directory path too long");
        if (mkdir(dir, 0700) != 0 && errno != EEXIST)
            return accord_err_set(err, ACCORD_EIO, "tls: cannot create %s: %s", dir,
                                  strerror(errno));
        snprintf(cpath, sizeof(cpath), "%s/cert.pem", dir);
        snprintf(kpath, sizeof(kpath), "%s/key.pem", dir);
        if (access(cpath, F_OK) != 0 && access(kpath, F_OK) != 0) {
            char *c = NULL, *k = NULL;
            rc = make_self_signed(&c, &k, err);
            if (!rc)
                rc = write_file(kpath, k, strlen(k), 0600, err);
            if (!rc)
                rc = write_file(cpath, c, strlen(c), 0644, err);
            if (k)
                memset(k, 0, strlen(k));
            free(k);
            free(c);
            if (rc)
                return rc;
            out->created = 1;
        }
    }
    if ((rc = key_private(kpath, err)) || (rc = read_file(cpath, &out->cert_pem, err)) ||
        (rc = read_file(kpath, &out->key_pem, err)) ||
        (rc = fingerprint(out->cert_pem, out->fingerprint, sizeof(out->fingerprint), err))) {
        tls_pair_free(out);
        return rc;
    }
    snprintf(out->cert_path, sizeof(out->cert_path), "%s", cpath);
    return 0;
}

void tls_pair_free(tls_pair *p)
{
    if (!p)
        return;
    if (p->key_pem) {
        memset(p->key_pem, 0, strlen(p->key_pem));
        free(p->key_pem);
    }
    free(p->cert_pem);
    p->key_pem = p->cert_pem = NULL;
}
