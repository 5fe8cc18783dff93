/*
 * match_map.c - the built-in field map: which keys of Zeek JSON logs and Suricata eve.json hold
 * addresses, names, URLs, digests and times.
 *
 * One map serves Zeek JSON logs and Suricata eve.json at once: their keys do not collide (Zeek's
 * are flat, eve's sit under an object named after the event type), so an event is recognised by
 * the keys it has and needs no format detection.  Zeek TSV logs are read through the same map,
 * by the column names of their #fields header (match_tsv.c).
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
 *   host                             HOST      Zeek http (with uri: the URL), software, known_*
 *   uri                              URI
 *   referrer, origin                 URL_HOST  Zeek http
 *   user_agent                       UA        Zeek http, smtp, sip
 *   md5, sha1, sha256                MD5 ...   Zeek files
 *   fingerprint, cert_chain_fps [..] CERT_FP   Zeek x509, ssl
 *   san.dns [..], san.ip [..], san.email [..]  NAME, IP, EMAIL   Zeek x509 (also nested san: {..})
 *   tx_hosts [..], rx_hosts [..], src, dst   IP   Zeek files, notice
 *   mailfrom, rcptto [..], from, to [..], cc [..], reply_to   EMAIL   Zeek smtp
 *   x_originating_ip, path [..]      IP        Zeek smtp
 *   helo                             FQDN      Zeek smtp
 *   assigned_addr, client_addr, server_addr, requested_addr   IP   Zeek dhcp
 *   host_name, client_fqdn, domain   FQDN      Zeek dhcp
 *   server_dns_computer_name, server_tree_name   FQDN   Zeek ntlm
 *   seen.indicator                   ANY       Zeek intel (also nested seen: {..})
 *   framed_addr                      IP        Zeek radius
 *   request.host, bound.host IP; request.name NAME   Zeek socks (also nested)
 *   dns: {rrname, rdata, queries [{rrname}], answers [{rrname, rdata, srv {name}}],
 *         authorities [{rdata}]}     NAME      Suricata
 *   dns.grouped: {A [..], AAAA [..] IP; CNAME, MX, NS, PTR [..], SRV [{name}], SOA [{mname}] NAME}
 *   http: {hostname HOST, url URI, http_user_agent UA, http_refer URL_HOST, redirect URL_HOST,
 *          xff IP, request_headers [{name HDR_NAME, value HDR_HOST}]}   Suricata (HTTP/1, HTTP/2)
 *   tls: {sni NAME, fingerprint CERT_SHA1}   quic: {sni NAME, ua UA}
 *   fileinfo: {md5, sha1, sha256}    files [{md5, sha1, sha256}]   Suricata
 *   smtp: {mail_from, rcpt_to [..] EMAIL, helo FQDN}   email: {from, to [..], cc [..] EMAIL,
 *          url [..] URL_HOST}        Suricata
 *   dhcp: {assigned_ip, client_ip, relay_ip, next_server_ip, routers [..], dns_servers [..] IP,
 *          hostname FQDN}            Suricata
 *
 * Left out on purpose (a configured map can add any of them): SSH client and server software
 * (Zeek ssh.log client/server, eve ssh.*.software_version) and Zeek software.log
 * unparsed_version are no HTTP user agents, and Zeek's kerberos.log `client` is a principal under
 * the same key; Kerberos principals and realms, NTLM and SMB NetBIOS names, SIP URIs, RDP cookies
 * and client names are no domain names, e-mail addresses or URLs; eve alert.source/target repeat
 * src_ip/dest_ip; SNMP, MQTT, RFB, IKE, TFTP, NFS, FTP and anomaly events hold none of these
 * kinds.  Why a host's own name (FQDN) is no domain without a dot: docs/TELEMETRY.md.
 *
 * The map is static data: the key arrays below, their nodes' lookup tables filled once
 * (mfmap_node_index, match_input.c) on first use.  A configured map (match_fieldmap.c) starts as
 * a deep copy of it.  What the extractor does with the map is in match_input.c.
 */
#include "match.h"

#include <pthread.h>

/* Every field of the map: its number and the name a match shows. */
#define FIELDS(X)                                                                                  \
    X(F_TS, "ts")                                                                                  \
    X(F_TIMESTAMP, "timestamp")                                                                    \
    X(F_ORIG_H, "id.orig_h")                                                                       \
    X(F_RESP_H, "id.resp_h")                                                                       \
    X(F_ORIG_P, "id.orig_p")                                                                       \
    X(F_RESP_P, "id.resp_p")                                                                       \
    X(F_SRC_IP, "src_ip")                                                                          \
    X(F_DEST_IP, "dest_ip")                                                                        \
    X(F_SRC_PORT, "src_port")                                                                      \
    X(F_DEST_PORT, "dest_port")                                                                    \
    X(F_PROTO, "proto")                                                                            \
    X(F_QUERY, "query")                                                                            \
    X(F_ANSWERS, "answers")                                                                        \
    X(F_HOST, "host")                                                                              \
    X(F_URI, "uri")                                                                                \
    X(F_SERVER_NAME, "server_name")                                                                \
    X(F_MD5, "md5")                                                                                \
    X(F_SHA1, "sha1")                                                                              \
    X(F_SHA256, "sha256")                                                                          \
    X(F_FINGERPRINT, "fingerprint")                                                                \
    X(F_CERT_CHAIN_FPS, "cert_chain_fps")                                                          \
    X(F_TX_HOSTS, "tx_hosts")                                                                      \
    X(F_RX_HOSTS, "rx_hosts")                                                                      \
    X(F_MAILFROM, "mailfrom")                                                                      \
    X(F_RCPTTO, "rcptto")                                                                          \
    X(F_SRC, "src")                                                                                \
    X(F_DST, "dst")                                                                                \
    X(F_DNS_RRNAME, "dns.rrname")                                                                  \
    X(F_DNS_RDATA, "dns.rdata")                                                                    \
    X(F_DNS_Q_RRNAME, "dns.queries.rrname")                                                        \
    X(F_DNS_A_RRNAME, "dns.answers.rrname")                                                        \
    X(F_DNS_A_RDATA, "dns.answers.rdata")                                                          \
    X(F_HTTP_HOSTNAME, "http.hostname")                                                            \
    X(F_HTTP_URL, "http.url")                                                                      \
    X(F_TLS_SNI, "tls.sni")                                                                        \
    X(F_TLS_FINGERPRINT, "tls.fingerprint")                                                        \
    X(F_FI_MD5, "fileinfo.md5")                                                                    \
    X(F_FI_SHA1, "fileinfo.sha1")                                                                  \
    X(F_FI_SHA256, "fileinfo.sha256")                                                              \
    X(F_USER_AGENT, "user_agent")                                                                  \
    X(F_HTTP_UA, "http.http_user_agent")                                                           \
    X(F_SMTP_MAIL_FROM, "smtp.mail_from")                                                          \
    X(F_SMTP_RCPT_TO, "smtp.rcpt_to")                                                              \
    X(F_EMAIL_FROM, "email.from")                                                                  \
    X(F_EMAIL_TO, "email.to")                                                                      \
    X(F_EMAIL_CC, "email.cc")                                                                      \
    X(F_SAN_DNS, "san.dns")                                                                        \
    X(F_SAN_IP, "san.ip")                                                                          \
    X(F_SAN_EMAIL, "san.email")                                                                    \
    X(F_QUIC_SNI, "quic.sni")                                                                      \
    X(F_DNS_G_A, "dns.grouped.A")                                                                  \
    X(F_DNS_G_AAAA, "dns.grouped.AAAA")                                                            \
    X(F_DNS_G_CNAME, "dns.grouped.CNAME")                                                          \
    X(F_DNS_G_MX, "dns.grouped.MX")                                                                \
    X(F_DNS_G_NS, "dns.grouped.NS")                                                                \
    X(F_DNS_G_PTR, "dns.grouped.PTR")                                                              \
    X(F_DNS_G_SRV, "dns.grouped.SRV.name")                                                         \
    X(F_DNS_G_SOA_MNAME, "dns.grouped.SOA.mname")                                                  \
    X(F_REFERRER, "referrer")                                                                      \
    X(F_ORIGIN, "origin")                                                                          \
    X(F_FROM, "from")                                                                              \
    X(F_TO, "to")                                                                                  \
    X(F_CC, "cc")                                                                                  \
    X(F_REPLY_TO, "reply_to")                                                                      \
    X(F_X_ORIG_IP, "x_originating_ip")                                                             \
    X(F_PATH, "path")                                                                              \
    X(F_HELO, "helo")                                                                              \
    X(F_ASSIGNED_ADDR, "assigned_addr")                                                            \
    X(F_CLIENT_ADDR, "client_addr")                                                                \
    X(F_SERVER_ADDR, "server_addr")                                                                \
    X(F_REQUESTED_ADDR, "requested_addr")                                                          \
    X(F_HOST_NAME, "host_name")                                                                    \
    X(F_CLIENT_FQDN, "client_fqdn")                                                                \
    X(F_DOMAIN, "domain")                                                                          \
    X(F_NTLM_DNS_NAME, "server_dns_computer_name")                                                 \
    X(F_NTLM_TREE_NAME, "server_tree_name")                                                        \
    X(F_SEEN_INDICATOR, "seen.indicator")                                                          \
    X(F_FRAMED_ADDR, "framed_addr")                                                                \
    X(F_REQUEST_HOST, "request.host")                                                              \
    X(F_REQUEST_NAME, "request.name")                                                              \
    X(F_BOUND_HOST, "bound.host")                                                                  \
    X(F_DNS_A_SRV, "dns.answers.srv.name")                                                         \
    X(F_DNS_AUTH_RDATA, "dns.authorities.rdata")                                                   \
    X(F_HTTP_REFER, "http.http_refer")                                                             \
    X(F_HTTP_REDIRECT, "http.redirect")                                                            \
    X(F_HTTP_XFF, "http.xff")                                                                      \
    X(F_HTTP_AUTHORITY, "http.request_headers.:authority")                                         \
    X(F_QUIC_UA, "quic.ua")                                                                        \
    X(F_FILES_MD5, "files.md5")                                                                    \
    X(F_FILES_SHA1, "files.sha1")                                                                  \
    X(F_FILES_SHA256, "files.sha256")                                                              \
    X(F_SMTP_HELO, "smtp.helo")                                                                    \
    X(F_EMAIL_URL, "email.url")                                                                    \
    X(F_DHCP_ASSIGNED_IP, "dhcp.assigned_ip")                                                      \
    X(F_DHCP_CLIENT_IP, "dhcp.client_ip")                                                          \
    X(F_DHCP_RELAY_IP, "dhcp.relay_ip")                                                            \
    X(F_DHCP_NEXT_SERVER_IP, "dhcp.next_server_ip")                                                \
    X(F_DHCP_ROUTERS, "dhcp.routers")                                                              \
    X(F_DHCP_DNS_SERVERS, "dhcp.dns_servers")                                                      \
    X(F_DHCP_HOSTNAME, "dhcp.hostname")

#define F_ENUM(f, name) f,
#define F_NAME(f, name) name,
enum { FIELDS(F_ENUM) F_COUNT };
static const char *names[F_COUNT] = {FIELDS(F_NAME)};

#define K(s, role, field, sub)                                                                     \
    {                                                                                              \
        s, sizeof(s) - 1, role, field, sub, {0, 0}                                                 \
    }

static mfmap_node n_id, n_dns, n_dns_q, n_dns_a, n_dns_a_srv, n_dns_auth, n_dns_g, n_dns_srv,
    n_dns_soa, n_http, n_http_hdr, n_tls, n_quic, n_fileinfo, n_files, n_smtp, n_email, n_dhcp,
    n_san, n_seen, n_request, n_bound;

static mfmap_key k_id[] = {
    K("orig_h", MR_SRC_IP, F_ORIG_H, NULL),
    K("resp_h", MR_DST_IP, F_RESP_H, NULL),
    K("orig_p", MR_SRC_PORT, F_ORIG_P, NULL),
    K("resp_p", MR_DST_PORT, F_RESP_P, NULL),
};
static mfmap_key k_dns_q[] = {K("rrname", MR_NAME, F_DNS_Q_RRNAME, NULL)};
static mfmap_key k_dns_a_srv[] = {K("name", MR_NAME, F_DNS_A_SRV, NULL)};
static mfmap_key k_dns_a[] = {
    K("rrname", MR_NAME, F_DNS_A_RRNAME, NULL),
    K("rdata", MR_NAME, F_DNS_A_RDATA, NULL),
    K("srv", MR_NONE, 0, &n_dns_a_srv),
};
/* The authority section: the zone's name servers (its rrname is the zone, a suffix of the query
 * already looked up). */
static mfmap_key k_dns_auth[] = {K("rdata", MR_NAME, F_DNS_AUTH_RDATA, NULL)};
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
    K("authorities", MR_NONE, 0, &n_dns_auth),
    K("grouped", MR_NONE, 0, &n_dns_g),
};
/* HTTP/2 request headers as Suricata logs them, [{"name": ..., "value": ...}]: the value after
 * the name ":authority" is the request's host (Suricata's http.hostname is the Host header,
 * which HTTP/2 clients seldom send). */
static mfmap_key k_http_hdr[] = {
    K("name", MR_HDR_NAME, F_HTTP_AUTHORITY, NULL),
    K("value", MR_HDR_HOST, F_HTTP_AUTHORITY, NULL),
};
static mfmap_key k_http[] = {
    K("hostname", MR_HOST, F_HTTP_HOSTNAME, NULL),
    K("url", MR_URI, F_HTTP_URL, NULL),
    K("http_user_agent", MR_UA, F_HTTP_UA, NULL),
    K("http_refer", MR_URL_HOST, F_HTTP_REFER, NULL),
    K("redirect", MR_URL_HOST, F_HTTP_REDIRECT, NULL),
    K("xff", MR_IP, F_HTTP_XFF, NULL),
    K("request_headers", MR_NONE, 0, &n_http_hdr),
};
static mfmap_key k_tls[] = {
    K("sni", MR_NAME, F_TLS_SNI, NULL),
    K("fingerprint", MR_CERT_SHA1, F_TLS_FINGERPRINT, NULL),
};
static mfmap_key k_quic[] = {
    K("sni", MR_NAME, F_QUIC_SNI, NULL),
    K("ua", MR_UA, F_QUIC_UA, NULL),
};
static mfmap_key k_fileinfo[] = {
    K("md5", MR_MD5, F_FI_MD5, NULL),
    K("sha1", MR_SHA1, F_FI_SHA1, NULL),
    K("sha256", MR_SHA256, F_FI_SHA256, NULL),
};
/* eve 7: the files of an http, smtp, smb ... event, beside the protocol's own object */
static mfmap_key k_files[] = {
    K("md5", MR_MD5, F_FILES_MD5, NULL),
    K("sha1", MR_SHA1, F_FILES_SHA1, NULL),
    K("sha256", MR_SHA256, F_FILES_SHA256, NULL),
};
static mfmap_key k_smtp[] = {
    K("mail_from", MR_EMAIL, F_SMTP_MAIL_FROM, NULL),
    K("rcpt_to", MR_EMAIL, F_SMTP_RCPT_TO, NULL),
    K("helo", MR_FQDN, F_SMTP_HELO, NULL),
};
static mfmap_key k_email[] = {
    K("from", MR_EMAIL, F_EMAIL_FROM, NULL),
    K("to", MR_EMAIL, F_EMAIL_TO, NULL),
    K("cc", MR_EMAIL, F_EMAIL_CC, NULL),
    K("url", MR_URL_HOST, F_EMAIL_URL, NULL),
};
static mfmap_key k_dhcp[] = {
    K("assigned_ip", MR_IP, F_DHCP_ASSIGNED_IP, NULL),
    K("client_ip", MR_IP, F_DHCP_CLIENT_IP, NULL),
    K("relay_ip", MR_IP, F_DHCP_RELAY_IP, NULL),
    K("next_server_ip", MR_IP, F_DHCP_NEXT_SERVER_IP, NULL),
    K("routers", MR_IP, F_DHCP_ROUTERS, NULL),
    K("dns_servers", MR_IP, F_DHCP_DNS_SERVERS, NULL),
    K("hostname", MR_FQDN, F_DHCP_HOSTNAME, NULL),
};
static mfmap_key k_san[] = {
    K("dns", MR_NAME, F_SAN_DNS, NULL),
    K("ip", MR_IP, F_SAN_IP, NULL),
    K("email", MR_EMAIL, F_SAN_EMAIL, NULL),
};
static mfmap_key k_seen[] = {K("indicator", MR_ANY, F_SEEN_INDICATOR, NULL)};
static mfmap_key k_request[] = {
    K("host", MR_IP, F_REQUEST_HOST, NULL),
    K("name", MR_NAME, F_REQUEST_NAME, NULL),
};
static mfmap_key k_bound[] = {K("host", MR_IP, F_BOUND_HOST, NULL)};
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
    K("files", MR_NONE, 0, &n_files),
    K("smtp", MR_NONE, 0, &n_smtp),
    K("email", MR_NONE, 0, &n_email),
    K("dhcp", MR_NONE, 0, &n_dhcp),
    K("san.dns", MR_NAME, F_SAN_DNS, NULL),
    K("san.ip", MR_IP, F_SAN_IP, NULL),
    K("san.email", MR_EMAIL, F_SAN_EMAIL, NULL),
    K("san", MR_NONE, 0, &n_san),
    /* Zeek http */
    K("referrer", MR_URL_HOST, F_REFERRER, NULL),
    K("origin", MR_URL_HOST, F_ORIGIN, NULL),
    /* Zeek smtp: header addresses may carry display names ("Name" <a@b>) */
    K("from", MR_EMAIL, F_FROM, NULL),
    K("to", MR_EMAIL, F_TO, NULL),
    K("cc", MR_EMAIL, F_CC, NULL),
    K("reply_to", MR_EMAIL, F_REPLY_TO, NULL),
    K("x_originating_ip", MR_IP, F_X_ORIG_IP, NULL),
    K("path", MR_IP, F_PATH, NULL),
    K("helo", MR_FQDN, F_HELO, NULL),
    /* Zeek dhcp */
    K("assigned_addr", MR_IP, F_ASSIGNED_ADDR, NULL),
    K("client_addr", MR_IP, F_CLIENT_ADDR, NULL),
    K("server_addr", MR_IP, F_SERVER_ADDR, NULL),
    K("requested_addr", MR_IP, F_REQUESTED_ADDR, NULL),
    K("host_name", MR_FQDN, F_HOST_NAME, NULL),
    K("client_fqdn", MR_FQDN, F_CLIENT_FQDN, NULL),
    K("domain", MR_FQDN, F_DOMAIN, NULL),
    /* Zeek ntlm: the server's DNS names (its NetBIOS names are no domain names) */
    K("server_dns_computer_name", MR_FQDN, F_NTLM_DNS_NAME, NULL),
    K("server_tree_name", MR_FQDN, F_NTLM_TREE_NAME, NULL),
    /* Zeek intel: the value seen, of any kind */
    K("seen.indicator", MR_ANY, F_SEEN_INDICATOR, NULL),
    K("seen", MR_NONE, 0, &n_seen),
    /* Zeek radius, socks */
    K("framed_addr", MR_IP, F_FRAMED_ADDR, NULL),
    K("request.host", MR_IP, F_REQUEST_HOST, NULL),
    K("request.name", MR_NAME, F_REQUEST_NAME, NULL),
    K("request", MR_NONE, 0, &n_request),
    K("bound.host", MR_IP, F_BOUND_HOST, NULL),
    K("bound", MR_NONE, 0, &n_bound),
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
#define INIT(node, keys) node_init(&node, keys, NKEYS(keys))
    INIT(n_id, k_id);
    INIT(n_dns_q, k_dns_q);
    INIT(n_dns_a_srv, k_dns_a_srv);
    INIT(n_dns_a, k_dns_a);
    INIT(n_dns_auth, k_dns_auth);
    INIT(n_dns_srv, k_dns_srv);
    INIT(n_dns_soa, k_dns_soa);
    INIT(n_dns_g, k_dns_g);
    INIT(n_dns, k_dns);
    INIT(n_http_hdr, k_http_hdr);
    INIT(n_http, k_http);
    INIT(n_tls, k_tls);
    INIT(n_quic, k_quic);
    INIT(n_fileinfo, k_fileinfo);
    INIT(n_files, k_files);
    INIT(n_smtp, k_smtp);
    INIT(n_email, k_email);
    INIT(n_dhcp, k_dhcp);
    INIT(n_san, k_san);
    INIT(n_seen, k_seen);
    INIT(n_request, k_request);
    INIT(n_bound, k_bound);
    INIT(builtin.root, k_root);
#undef INIT
    builtin.names = names;
    builtin.nnames = F_COUNT;
}

const mfmap *mfmap_builtin(void)
{
    pthread_once(&builtin_once, builtin_init);
    return &builtin;
}
