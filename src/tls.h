/*
 * tls.h - the server's certificate and key (GnuTLS).
 */
#ifndef ACCORD_TLS_H
#define ACCORD_TLS_H

#include "store.h"

typedef struct tls_pair {
    char *cert_pem, *key_pem;
    char fingerprint[100]; /* SHA-256 of the certificate, "AB:CD:..." */
    char cert_path[4096];
    int created;           /* the self-signed pair was made on this start */
} tls_pair;

/*
 * Loads cert_file/key_file, or (both NULL) the self-signed pair in DATA/tls/, creating it on the
 * first start.  Refuses a key file readable by group or others.
 */
int tls_load(const char *data_dir, const char *cert_file, const char *key_file, tls_pair *out,
             accord_error *err);
void tls_pair_free(tls_pair *p);

#endif
