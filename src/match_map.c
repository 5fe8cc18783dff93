/*
 * match_map.c - the built-in field map: which keys of Zeek JSON logs and Suricata eve.json hold
 * addresses, names, URLs, digests and times.
 *
 * The built-in map serves Zeek JSON logs and Suricata eve.json at once: their keys do not
 * collide, so an event is recognised by the keys it has and needs no format detection.
 *
 *   key (path)                       role      source
 *   ts, timestamp                    TIME      Zeek (epoch seconds or RFC 3339), Suricata
 *   id.orig_h, id_orig_h, src_ip     SRC_IP    Zeek (flat, or underscores), Suricata
 *   id.resp_h, id_resp_h, dest_ip    DST_IP
 *   id.orig_p, id_orig_p, src_port   SRC_PORT
 *   id.resp_p, id_resp_p, dest_port  DST_PORT
 *   id: {orig_h, resp_h, orig_p, resp_p}      the same, for Zeek JSON with nested records
 *   proto                            PROTO
 *   query, server_name               NAME      Zeek dns, ssl
 *   answers [..]                     NAME      Zeek dns (names and addresses)
 *   host                             HOST      Zeek http (with uri: the URL)
 *   uri                              URI
 *   user_agent                       UA        Zeek http
 *   md5, sha1, sha256                MD5 ...   Zeek files
 *   fingerprint, cert_chain_fps [..] CERT_FP   Zeek x509, ssl
 *   san.dns [..], san.ip [..], san.email [..]  NAME, IP, EMAIL   Zeek x509 (also nested san: {..})
 *   tx_hosts [..], rx_hosts [..], src, dst   IP   Zeek files, notice
 *   mailfrom, rcptto [..]            EMAIL     Zeek smtp
 *   dns: {rrname, rdata, queries [{rrname}], answers [{rrname, rdata}]}   NAME   Suricata
 *   dns.grouped: {A [..], AAAA [..] IP; CNAME, MX, NS, PTR [..], SRV [{name}], SOA [{mname}] NAME}
 *   http: {hostname HOST, url URI, http_user_agent UA}   tls: {sni NAME, fingerprint CERT_FP}
 *   quic: {sni NAME}
 *   fileinfo: {md5, sha1, sha256}
 *   smtp: {mail_from, rcpt_to [..]}   email: {from, to [..], cc [..]}   EMAIL   Suricata
 *
 * The map is static data: the key arrays below, their nodes' lookup tables filled once
 * (mfmap_node_index, match_input.c) on first use.  A configured map (match_fieldmap.c) starts as
 * a deep copy of it.  What the extractor does with the map is in match_input.c.
 */
#include "match.h"

#include <pthread.h>

enum {
    F_TS,
    F_TIMESTAMP,
    F_ORIG_H,
    F_RESP_H,
    F_ORIG_P,
    F_RESP_P,
    F_SRC_IP,
    F_DEST_IP,
    F_SRC_PORT,
    F_DEST_PORT,
    F_PROTO,
    F_QUERY,
    F_ANSWERS,
    F_HOST,
    F_URI,
    F_SERVER_NAME,
    F_MD5,
    F_SHA1,
    F_SHA256,
    F_FINGERPRINT,
    F_CERT_CHAIN_FPS,
    F_TX_HOSTS,
    F_RX_HOSTS,
    F_MAILFROM,
    F_RCPTTO,
    F_SRC,
    F_DST,
    F_DNS_RRNAME,
    F_DNS_RDATA,
    F_DNS_Q_RRNAME,
    F_DNS_A_RRNAME,
    F_DNS_A_RDATA,
    F_HTTP_HOSTNAME,
    F_HTTP_URL,
    F_TLS_SNI,
    F_TLS_FINGERPRINT,
    F_FI_MD5,
    F_FI_SHA1,
    F_FI_SHA256,
    F_USER_AGENT,
    F_HTTP_UA,
    F_SMTP_MAIL_FROM,
    F_SMTP_RCPT_TO,
    F_EMAIL_FROM,
    F_EMAIL_TO,
    F_EMAIL_CC,
    F_SAN_DNS,
    F_SAN_IP,
    F_SAN_EMAIL,
    F_QUIC_SNI,
    F_DNS_G_A,
    F_DNS_G_AAAA,
    F_DNS_G_CNAME,
    F_DNS_G_MX,
    F_DNS_G_NS,
    F_DNS_G_PTR,
    F_DNS_G_SRV,
    F_DNS_G_SOA_MNAME,
    F_COUNT
};

static const char *names[F_COUNT] = {
    "ts",
    "timestamp",
    "id.orig_h",
    "id.resp_h",
    "id.orig_p",
    "id.resp_p",
    "src_ip",
    "dest_ip",
    "src_port",
    "dest_port",
    "proto",
    "query",
    "answers",
    "host",
    "uri",
    "server_name",
    "md5",
    "sha1",
    "sha256",
    "fingerprint",
    "cert_chain_fps",
    "tx_hosts",
    "rx_hosts",
    "mailfrom",
    "rcptto",
    "src",
    "dst",
    "dns.rrname",
    "dns.rdata",
    "dns.queries.rrname",
    "dns.answers.rrname",
    "dns.answers.rdata",
    "http.hostname",
    "http.url",
    "tls.sni",
    "tls.fingerprint",
    "fileinfo.md5",
    "fileinfo.sha1",
    "fileinfo.sha256",
    "user_agent",
    "http.http_user_agent",
    "smtp.mail_from",
    "smtp.rcpt_to",
    "email.from",
    "email.to",
    "email.cc",
    "san.dns",
    "san.ip",
    "san.email",
    "quic.sni",
    "dns.grouped.A",
    "dns.grouped.AAAA",
    "dns.grouped.CNAME",
    "dns.grouped.MX",
    "dns.grouped.NS",
    "dns.grouped.PTR",
    "dns.grouped.SRV.name",
    "dns.grouped.SOA.mname",
};

#define K(s, role, field, sub)                                                                     \
    {                                                                                              \
        s, sizeof(s) - 1, role, field, sub, {0, 0}                                                 \
    }

static mfmap_node n_id, n_dns, n_dns_q, n_dns_a, n_dns_g, n_dns_srv, n_dns_soa, n_http, n_tls,
    n_quic, n_fileinfo, n_smtp, n_email, n_san;

static mfmap_key k_id[] = {
    K("orig_h", MR_SRC_IP, F_ORIG_H, NULL),
    K("resp_h", MR_DST_IP, F_RESP_H, NULL),
    K("orig_p", MR_SRC_PORT, F_ORIG_P, NULL),
    K("resp_p", MR_DST_PORT, F_RESP_P, NULL),
};
static mfmap_key k_dns_q[] = {K("rrname", MR_NAME, F_DNS_Q_RRNAME, NULL)};
static mfmap_key k_dns_a[] = {
    K("rrname", MR_NAME, F_DNS_A_RRNAME, NULL),
    K("rdata", MR_NAME, F_DNS_A_RDATA, NULL),
};
/* eve dns v2/v3 "grouped": the answers' data by record type, arrays of strings (SRV and SOA
 * records as objects).  TXT and the rest carry no name or address. */
static mfmap_key k_dns_srv[] = {K("name", MR_NAME, F_DNS_G_SRV, NULL)};
static mfmap_key k_dns_soa[] = {K("mname", MR_NAME, F_DNS_G_SOA_MNAME, NULL)};
static mfmap_key k_dns_g[] = {
    K("A", MR_IP, F_DNS_G_A, NULL),
    K("AAAA", MR_IP, F_DNS_G_AAAA, NULL),
    K("CNAME", MR_NAME, F_DNS_G_CNAME, NULL),
    K("MX", MR_NAME, F_DNS_G_MX, NULL),
    K("NS", MR_NAME, F_DNS_G_NS, NULL),
    K("PTR", MR_NAME, F_DNS_G_PTR, NULL),
    K("SRV", MR_NONE, 0, &n_dns_srv),
    K("SOA", MR_NONE, 0, &n_dns_soa),
};
static mfmap_key k_dns[] = {
    K("rrname", MR_NAME, F_DNS_RRNAME, NULL),
    K("rdata", MR_NAME, F_DNS_RDATA, NULL),
    K("queries", MR_NONE, 0, &n_dns_q),
    K("answers", MR_NONE, 0, &n_dns_a),
    K("grouped", MR_NONE, 0, &n_dns_g),
};
static mfmap_key k_http[] = {
    K("hostname", MR_HOST, F_HTTP_HOSTNAME, NULL),
    K("url", MR_URI, F_HTTP_URL, NULL),
    K("http_user_agent", MR_UA, F_HTTP_UA, NULL),
};
static mfmap_key k_tls[] = {
    K("sni", MR_NAME, F_TLS_SNI, NULL),
    K("fingerprint", MR_CERT_SHA1, F_TLS_FINGERPRINT, NULL),
};
static mfmap_key k_quic[] = {K("sni", MR_NAME, F_QUIC_SNI, NULL)};
static mfmap_key k_fileinfo[] = {
    K("md5", MR_MD5, F_FI_MD5, NULL),
    K("sha1", MR_SHA1, F_FI_SHA1, NULL),
    K("sha256", MR_SHA256, F_FI_SHA256, NULL),
};
static mfmap_key k_smtp[] = {
    K("mail_from", MR_EMAIL, F_SMTP_MAIL_FROM, NULL),
    K("rcpt_to", MR_EMAIL, F_SMTP_RCPT_TO, NULL),
};
static mfmap_key k_email[] = {
    K("from", MR_EMAIL, F_EMAIL_FROM, NULL),
    K("to", MR_EMAIL, F_EMAIL_TO, NULL),
    K("cc", MR_EMAIL, F_EMAIL_CC, NULL),
};
static mfmap_key k_san[] = {
    K("dns", MR_NAME, F_SAN_DNS, NULL),
    K("ip", MR_IP, F_SAN_IP, NULL),
    K("email", MR_EMAIL, F_SAN_EMAIL, NULL),
};
static mfmap_key k_root[] = {
    K("ts", MR_TIME, F_TS, NULL),
    K("timestamp", MR_TIME, F_TIMESTAMP, NULL),
    K("id.orig_h", MR_SRC_IP, F_ORIG_H, NULL),
    K("id_orig_h", MR_SRC_IP, F_ORIG_H, NULL),
    K("id.resp_h", MR_DST_IP, F_RESP_H, NULL),
    K("id_resp_h", MR_DST_IP, F_RESP_H, NULL),
    K("id.orig_p", MR_SRC_PORT, F_ORIG_P, NULL),
    K("id_orig_p", MR_SRC_PORT, F_ORIG_P, NULL),
    K("id.resp_p", MR_DST_PORT, F_RESP_P, NULL),
    K("id_resp_p", MR_DST_PORT, F_RESP_P, NULL),
    K("id", MR_NONE, 0, &n_id),
    K("src_ip", MR_SRC_IP, F_SRC_IP, NULL),
    K("dest_ip", MR_DST_IP, F_DEST_IP, NULL),
    K("src_port", MR_SRC_PORT, F_SRC_PORT, NULL),
    K("dest_port", MR_DST_PORT, F_DEST_PORT, NULL),
    K("proto", MR_PROTO, F_PROTO, NULL),
    K("query", MR_NAME, F_QUERY, NULL),
    K("answers", MR_NAME, F_ANSWERS, NULL),
    K("host", MR_HOST, F_HOST, NULL),
    K("uri", MR_URI, F_URI, NULL),
    K("user_agent", MR_UA, F_USER_AGENT, NULL),
    K("server_name", MR_NAME, F_SERVER_NAME, NULL),
    K("md5", MR_MD5, F_MD5, NULL),
    K("sha1", MR_SHA1, F_SHA1, NULL),
    K("sha256", MR_SHA256, F_SHA256, NULL),
    K("fingerprint", MR_CERT_FP, F_FINGERPRINT, NULL),
    K("cert_chain_fps", MR_CERT_FP, F_CERT_CHAIN_FPS, NULL),
    K("tx_hosts", MR_IP, F_TX_HOSTS, NULL),
    K("rx_hosts", MR_IP, F_RX_HOSTS, NULL),
    K("mailfrom", MR_EMAIL, F_MAILFROM, NULL),
    K("rcptto", MR_EMAIL, F_RCPTTO, NULL),
    K("src", MR_IP, F_SRC, NULL),
    K("dst", MR_IP, F_DST, NULL),
    K("dns", MR_NONE, 0, &n_dns),
    K("http", MR_NONE, 0, &n_http),
    K("tls", MR_NONE, 0, &n_tls),
    K("quic", MR_NONE, 0, &n_quic),
    K("fileinfo", MR_NONE, 0, &n_fileinfo),
    K("smtp", MR_NONE, 0, &n_smtp),
    K("email", MR_NONE, 0, &n_email),
    K("san.dns", MR_NAME, F_SAN_DNS, NULL),
    K("san.ip", MR_IP, F_SAN_IP, NULL),
    K("san.email", MR_EMAIL, F_SAN_EMAIL, NULL),
    K("san", MR_NONE, 0, &n_san),
};

#define NKEYS(a) (sizeof(a) / sizeof((a)[0]))

static mfmap builtin;
static pthread_once_t builtin_once = PTHREAD_ONCE_INIT;

static void node_init(mfmap_node *n, mfmap_key *keys, size_t nkeys)
{
    n->keys = keys;
    n->n = nkeys;
    mfmap_node_index(n);
}

static void builtin_init(void)
{
    node_init(&n_id, k_id, NKEYS(k_id));
    node_init(&n_dns_q, k_dns_q, NKEYS(k_dns_q));
    node_init(&n_dns_a, k_dns_a, NKEYS(k_dns_a));
    node_init(&n_dns_srv, k_dns_srv, NKEYS(k_dns_srv));
    node_init(&n_dns_soa, k_dns_soa, NKEYS(k_dns_soa));
    node_init(&n_dns_g, k_dns_g, NKEYS(k_dns_g));
    node_init(&n_dns, k_dns, NKEYS(k_dns));
    node_init(&n_http, k_http, NKEYS(k_http));
    node_init(&n_tls, k_tls, NKEYS(k_tls));
    node_init(&n_quic, k_quic, NKEYS(k_quic));
    node_init(&n_fileinfo, k_fileinfo, NKEYS(k_fileinfo));
    node_init(&n_smtp, k_smtp, NKEYS(k_smtp));
    node_init(&n_email, k_email, NKEYS(k_email));
    node_init(&n_san, k_san, NKEYS(k_san));
    node_init(&builtin.root, k_root, NKEYS(k_root));
    builtin.names = names;
    builtin.nnames = F_COUNT;
}

const mfmap *mfmap_builtin(void)
{
    pthread_once(&builtin_once, builtin_init);
    return &builtin;
}
