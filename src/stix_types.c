/*
 * stix_types.c - the STIX 2.1 specification as data: what each object type may and must hold.
 *
 * For every type (and every nested structure: external references, granular markings,
 * kill-chain phases, MIME parts, the predefined SCO extensions, ...) a property table: one row
 * per property, naming its kind, whether it is required, and for references the object types it
 * may point to.  The type table maps each type name of the specification to its kind, whether
 * STIX 2.0 knew it, its property table, and the function for the rules that relate several of
 * its properties (valid_until after valid_from, exactly one of objects/object_refs, the fixed TLP
 * marking ids, ...).  Those per-type rules live here too, beside the tables that name them.
 *
 * The machinery that walks an object against these tables, checks each value by its kind and
 * reports the first broken rule is in stix.c; the two share stix_int.h.  Nothing here allocates
 * or keeps state: the tables are constant and the rules read only the object they are given.
 */
#include "stix.h"
#include "stix_int.h"

#include "accord.h"
#include "util/timestamp.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------------------------------------ */
/* Address values (ip_rule, mac_rule)                                                         */

/* Parses a decimal in [0, max] spanning s[0..len) without leading zeros; -1 when it is not. */
static long small_uint(const char *s, size_t len, long max)
{
    long n = 0;
    if (len == 0 || len > 3 || (len > 1 && s[0] == '0'))
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (!is_digit((unsigned char)s[i]))
            return -1;
        n = n * 10 + (s[i] - '0');
    }
    return n <= max ? n : -1;
}

/* A CIDR prefix "/n" at s (or nothing), n <= max. */
static int prefix_ok(const char *s, long max)
{
    return *s == '\0' || (*s == '/' && small_uint(s + 1, strlen(s + 1), max) >= 0);
}

/* ipv4-addr value: a dotted quad, optionally with a CIDR prefix. */
static int ipv4_ok(const char *s)
{
    for (int part = 0; part < 4; part++) {
        size_t n = 0;
        while (is_digit((unsigned char)s[n]))
            n++;
        if (small_uint(s, n, 255) < 0)
            return 0;
        s += n;
        if (part < 3 && *s++ != '.')
            return 0;
    }
    return prefix_ok(s, 32);
}

/* ipv6-addr value: an RFC 4291 address, optionally with a CIDR prefix. */
static int ipv6_ok(const char *s)
{
    char addr[INET6_ADDRSTRLEN];
    unsigned char bin[16];
    size_t n = strcspn(s, "/");
    if (n >= sizeof addr)
        return 0;
    memcpy(addr, s, n);
    addr[n] = '\0';
    return inet_pton(AF_INET6, addr, bin) == 1 && prefix_ok(s + n, 128);
}

/* mac-addr value: colon-delimited, lower-case MAC-48 with leading zeros. */
static int mac_ok(const char *s)
{
    for (int i = 0; i < 17; i++) {
        int ch = (unsigned char)s[i];
        if (i % 3 == 2 ? ch != ':' : !is_digit(ch) && !(ch >= 'a' && ch <= 'f'))
            return 0;
    }
    return s[17] == '\0';
}

/* The tables are data, one row per line: clang-format leaves them alone. */
/* clang-format off */

/* ------------------------------------------------------------------------------------------ */
/* Property tables                                                                            */


static int gm_rule(vctx *c, const char *path, const ajson_value *o);
static int extref_rule(vctx *c, const char *path, const ajson_value *o);

static const prop kcp_props[] = {
    P("kill_chain_name", K_STR, F_REQ),
    P("phase_name", K_STR, F_REQ),
    PEND,
};
static const ptable kcp_table = {kcp_props, NULL};

static const prop extref_props[] = {
    P("source_name", K_STR, F_REQ),
    P("description", K_STR, 0),
    P("url", K_STR, 0),
    P("hashes", K_HASHES, 0),
    P("external_id", K_STR, 0),
    PEND,
};
static const ptable extref_table = {extref_props, extref_rule};

static const prop gm_props[] = {
    P("selectors", K_STRS, F_REQ),
    PA("marking_ref", K_REF, 0, "marking-definition"),
    P("lang", K_STR, 0),
    PEND,
};
static const ptable gm_table = {gm_props, gm_rule};

/* Common properties of SDOs, SROs, language-content, extension-definition and custom objects. */
const prop stix_sdo_common[] = {
    P("type", K_ANY, 0),
    P("spec_version", K_ANY, 0),
    P("id", K_ANY, 0),
    PA("created_by_ref", K_REF, 0, "identity"),
    P("created", K_TSMS, F_REQ),
    P("modified", K_TSMS, F_REQ),
    P("revoked", K_BOOL, 0),
    P("labels", K_STRS, 0),
    PR("confidence", K_INT, 0, 0, 100),
    P("lang", K_STR, 0),
    PS("external_references", K_SUBS, 0, &extref_table),
    PA("object_marking_refs", K_REFS, 0, "marking-definition"),
    PS("granular_markings", K_SUBS, 0, &gm_table),
    P("extensions", K_EXTS, 0),
    PEND,
};

/* Common properties of SCOs. */
const prop stix_sco_common[] = {
    P("type", K_ANY, 0),
    P("spec_version", K_ANY, 0),
    P("id", K_ANY, 0),
    PA("object_marking_refs", K_REFS, 0, "marking-definition"),
    PS("granular_markings", K_SUBS, 0, &gm_table),
    P("defanged", K_BOOL, 0),
    P("extensions", K_EXTS, 0),
    PEND,
};

/* The properties of marking-definition (it has no modified: markings are never versioned). */
const prop stix_md_common[] = {
    P("type", K_ANY, 0),
    P("spec_version", K_ANY, 0),
    P("id", K_ANY, 0),
    PA("created_by_ref", K_REF, 0, "identity"),
    P("created", K_TSMS, F_REQ),
    PS("external_references", K_SUBS, 0, &extref_table),
    PA("object_marking_refs", K_REFS, 0, "marking-definition"),
    PS("granular_markings", K_SUBS, 0, &gm_table),
    P("extensions", K_EXTS, 0),
    P("name", K_STR, 0),
    P("definition_type", K_STR, 0),
    P("definition", K_SUB, 0),
    PEND,
};

/* --- SDOs --- */

static int seen_rule(vctx *c, const char *path, const ajson_value *o);
static int indicator_rule(vctx *c, const char *path, const ajson_value *o);
static int location_rule(vctx *c, const char *path, const ajson_value *o);
static int malware_rule(vctx *c, const char *path, const ajson_value *o);
static int analysis_rule(vctx *c, const char *path, const ajson_value *o);
static int observed_rule(vctx *c, const char *path, const ajson_value *o);
static int relationship_rule(vctx *c, const char *path, const ajson_value *o);
static int sighting_rule(vctx *c, const char *path, const ajson_value *o);

static const prop attack_pattern_props[] = {
    P("name", K_STR, F_REQ21),
    P("description", K_STR, 0),
    P("aliases", K_STRS, 0),
    PS("kill_chain_phases", K_SUBS, 0, &kcp_table),
    PEND,
};

static const prop campaign_props[] = {
    P("name", K_STR, F_REQ21),
    P("description", K_STR, 0),
    P("aliases", K_STRS, 0),
    P("first_seen", K_TS, 0),
    P("last_seen", K_TS, 0),
    P("objective", K_STR, 0),
    PEND,
};

static const prop name_desc_props[] = { /* course-of-action, vulnerability */
    P("name", K_STR, F_REQ21),
    P("description", K_STR, 0),
    PEND,
};

static const prop grouping_props[] = {
    P("name", K_STR, 0),
    P("description", K_STR, 0),
    P("context", K_STR, F_REQ21),
    PA("object_refs", K_REFS, F_REQ21, T_ANY),
    PEND,
};

static const prop identity_props[] = {
    P("name", K_STR, F_REQ21),
    P("description", K_STR, 0),
    P("roles", K_STRS, 0),
    P("identity_class", K_STR, 0),
    P("sectors", K_STRS, 0),
    P("contact_information", K_STR, 0),
    PEND,
};

static const prop incident_props[] = {
    P("name", K_STR, F_REQ21),
    P("description", K_STR, 0),
    PS("kill_chain_phases", K_SUBS, 0, &kcp_table),
    PEND,
};

static const prop indicator_props[] = {
    P("name", K_STR, 0),
    P("description", K_STR, 0),
    P("indicator_types", K_STRS, 0),
    P("pattern", K_STR, F_REQ21),
    P("pattern_type", K_STR, F_REQ21),
    P("pattern_version", K_STR, 0),
    P("valid_from", K_TS, F_REQ21),
    P("valid_until", K_TS, 0),
    PS("kill_chain_phases", K_SUBS, 0, &kcp_table),
    PEND,
};

static const prop infrastructure_props[] = {
    P("name", K_STR, F_REQ21),
    P("description", K_STR, 0),
    P("infrastructure_types", K_STRS, 0),
    P("aliases", K_STRS, 0),
    PS("kill_chain_phases", K_SUBS, 0, &kcp_table),
    P("first_seen", K_TS, 0),
    P("last_seen", K_TS, 0),
    PEND,
};

static const prop intrusion_set_props[] = {
    P("name", K_STR, F_REQ21),
    P("description", K_STR, 0),
    P("aliases", K_STRS, 0),
    P("first_seen", K_TS, 0),
    P("last_seen", K_TS, 0),
    P("goals", K_STRS, 0),
    P("resource_level", K_STR, 0),
    P("primary_motivation", K_STR, 0),
    P("secondary_motivations", K_STRS, 0),
    PEND,
};

static const prop location_props[] = {
    P("name", K_STR, 0),
    P("description", K_STR, 0),
    PR("latitude", K_NUM, 0, -90, 90),
    PR("longitude", K_NUM, 0, -180, 180),
    P("precision", K_NUM, 0),
    P("region", K_STR, 0),
    P("country", K_STR, 0),
    P("administrative_area", K_STR, 0),
    P("city", K_STR, 0),
    P("street_address", K_STR, 0),
    P("postal_code", K_STR, 0),
    PEND,
};

static const prop malware_props[] = {
    P("name", K_STR, 0),
    P("description", K_STR, 0),
    P("malware_types", K_STRS, 0),
    P("is_family", K_BOOL, F_REQ21),
    P("aliases", K_STRS, 0),
    PS("kill_chain_phases", K_SUBS, 0, &kcp_table),
    P("first_seen", K_TS, 0),
    P("last_seen", K_TS, 0),
    PA("operating_system_refs", K_REFS, 0, "software"),
    P("architecture_execution_envs", K_STRS, 0),
    P("implementation_languages", K_STRS, 0),
    P("capabilities", K_STRS, 0),
    PA("sample_refs", K_REFS, 0, "file artifact"),
    PEND,
};

static const prop malware_analysis_props[] = {
    P("product", K_STR, F_REQ21),
    P("version", K_STR, 0),
    PA("host_vm_ref", K_REF, 0, "software"),
    PA("operating_system_ref", K_REF, 0, "software"),
    PA("installed_software_refs", K_REFS, 0, "software"),
    P("configuration_version", K_STR, 0),
    P("modules", K_STRS, 0),
    P("analysis_engine_version", K_STR, 0),
    P("analysis_definition_version", K_STR, 0),
    P("submitted", K_TS, 0),
    P("analysis_started", K_TS, 0),
    P("analysis_ended", K_TS, 0),
    P("result_name", K_STR, 0),
    P("result", K_STR, 0),
    PA("analysis_sco_refs", K_REFS, 0, "SCO CUSTOM"),
    PA("sample_ref", K_REF, 0, "file network-traffic artifact"),
    PEND,
};

static const prop note_props[] = {
    P("abstract", K_STR, 0),
    P("content", K_STR, F_REQ21),
    P("authors", K_STRS, 0),
    PA("object_refs", K_REFS, F_REQ21, T_ANY),
    PEND,
};

static const prop observed_data_props[] = {
    P("first_observed", K_TS, F_REQ21),
    P("last_observed", K_TS, F_REQ21),
    PR("number_observed", K_INT, F_REQ21, 1, 999999999),
    P("objects", K_OBJMAP, 0),
    PA("object_refs", K_REFS, 0, "SCO SRO CUSTOM"),
    PEND,
};

static const prop opinion_props[] = {
    P("explanation", K_STR, 0),
    P("authors", K_STRS, 0),
    PA("opinion", K_ENUM, F_REQ21, "strongly-disagree disagree neutral agree strongly-agree"),
    PA("object_refs", K_REFS, F_REQ21, T_ANY),
    PEND,
};

static const prop report_props[] = {
    P("name", K_STR, F_REQ21),
    P("description", K_STR, 0),
    P("report_types", K_STRS, 0),
    P("published", K_TS, F_REQ21),
    PA("object_refs", K_REFS, F_REQ21, T_ANY),
    PEND,
};

static const prop threat_actor_props[] = {
    P("name", K_STR, F_REQ21),
    P("description", K_STR, 0),
    P("threat_actor_types", K_STRS, 0),
    P("aliases", K_STRS, 0),
    P("first_seen", K_TS, 0),
    P("last_seen", K_TS, 0),
    P("roles", K_STRS, 0),
    P("goals", K_STRS, 0),
    P("sophistication", K_STR, 0),
    P("resource_level", K_STR, 0),
    P("primary_motivation", K_STR, 0),
    P("secondary_motivations", K_STRS, 0),
    P("personal_motivations", K_STRS, 0),
    PEND,
};

static const prop tool_props[] = {
    P("name", K_STR, F_REQ21),
    P("description", K_STR, 0),
    P("tool_types", K_STRS, 0),
    P("aliases", K_STRS, 0),
    PS("kill_chain_phases", K_SUBS, 0, &kcp_table),
    P("tool_version", K_STR, 0),
    PEND,
};

/* --- SROs --- */

static const prop relationship_props[] = {
    P("relationship_type", K_STR, F_REQ21),
    P("description", K_STR, 0),
    PA("source_ref", K_REF, F_REQ21, T_SDO_SCO),
    PA("target_ref", K_REF, F_REQ21, T_SDO_SCO),
    P("start_time", K_TS, 0),
    P("stop_time", K_TS, 0),
    PEND,
};

static const prop sighting_props[] = {
    P("description", K_STR, 0),
    P("first_seen", K_TS, 0),
    P("last_seen", K_TS, 0),
    PR("count", K_INT, 0, 0, 999999999),
    PA("sighting_of_ref", K_REF, F_REQ21, "SDO CUSTOM"),
    PA("observed_data_refs", K_REFS, 0, "observed-data"),
    PA("where_sighted_refs", K_REFS, 0, "identity location"),
    P("summary", K_BOOL, 0),
    PEND,
};

/* --- SCOs --- */

static int artifact_rule(vctx *c, const char *path, const ajson_value *o);
static int file_rule(vctx *c, const char *path, const ajson_value *o);
static int email_rule(vctx *c, const char *path, const ajson_value *o);
static int traffic_rule(vctx *c, const char *path, const ajson_value *o);
static int ip_rule(vctx *c, const char *path, const ajson_value *o);
static int mac_rule(vctx *c, const char *path, const ajson_value *o);
static int some_prop_rule(vctx *c, const char *path, const ajson_value *o);

static const prop artifact_props[] = {
    P("mime_type", K_STR, 0),
    P("payload_bin", K_BIN, 0),
    P("url", K_STR, 0),
    P("hashes", K_HASHES, 0),
    PA("encryption_algorithm", K_ENUM, 0, "AES-256-GCM ChaCha20-Poly1305 mime-type-indicated"),
    P("decryption_key", K_STR, 0),
    PEND,
};

static const prop autonomous_system_props[] = {
    P("number", K_INT, F_REQ21),
    P("name", K_STR, 0),
    P("rir", K_STR, 0),
    PEND,
};

static const prop directory_props[] = {
    P("path", K_STR, F_REQ21),
    P("path_enc", K_STR, 0),
    P("ctime", K_TS, 0),
    P("mtime", K_TS, 0),
    P("atime", K_TS, 0),
    PA("contains_refs", K_REFS, 0, "file directory"),
    PEND,
};

static const prop domain_name_props[] = {
    P("value", K_STR, F_REQ21),
    PA("resolves_to_refs", K_REFS, 0, "ipv4-addr ipv6-addr domain-name"),
    PEND,
};

static const prop email_addr_props[] = {
    P("value", K_STR, F_REQ21),
    P("display_name", K_STR, 0),
    PA("belongs_to_ref", K_REF, 0, "user-account"),
    PEND,
};

static const prop mime_part_props[] = {
    P("body", K_STR, 0),
    PA("body_raw_ref", K_REF, 0, "artifact file"),
    P("content_type", K_STR, 0),
    P("content_disposition", K_STR, 0),
    PEND,
};
static const ptable mime_part_table = {mime_part_props, NULL};

static const prop email_message_props[] = {
    P("is_multipart", K_BOOL, F_REQ21),
    P("date", K_TS, 0),
    P("content_type", K_STR, 0),
    PA("from_ref", K_REF, 0, "email-addr"),
    PA("sender_ref", K_REF, 0, "email-addr"),
    PA("to_refs", K_REFS, 0, "email-addr"),
    PA("cc_refs", K_REFS, 0, "email-addr"),
    PA("bcc_refs", K_REFS, 0, "email-addr"),
    P("message_id", K_STR, 0),
    P("subject", K_STR, 0),
    P("received_lines", K_STRS, 0),
    P("additional_header_fields", K_DICT, 0),
    P("body", K_STR, 0),
    PS("body_multipart", K_SUBS, 0, &mime_part_table),
    PA("raw_email_ref", K_REF, 0, "artifact"),
    PEND,
};

static const prop file_props[] = {
    P("hashes", K_HASHES, 0),
    PR("size", K_INT, 0, 0, INT64_MAX),
    P("name", K_STR, 0),
    P("name_enc", K_STR, 0),
    P("magic_number_hex", K_HEX, 0),
    P("mime_type", K_STR, 0),
    P("ctime", K_TS, 0),
    P("mtime", K_TS, 0),
    P("atime", K_TS, 0),
    PA("parent_directory_ref", K_REF, 0, "directory"),
    PA("contains_refs", K_REFS, 0, "SCO CUSTOM"),
    PA("content_ref", K_REF, 0, "artifact"),
    PEND,
};

static const prop ip_addr_props[] = { /* ipv4-addr, ipv6-addr */
    P("value", K_STR, F_REQ21),
    PA("resolves_to_refs", K_REFS, 0, "mac-addr"),
    PA("belongs_to_refs", K_REFS, 0, "autonomous-system"),
    PEND,
};

static const prop value_props[] = { /* mac-addr, url */
    P("value", K_STR, F_REQ21),
    PEND,
};

static const prop mutex_props[] = {
    P("name", K_STR, F_REQ21),
    PEND,
};

static const prop network_traffic_props[] = {
    P("start", K_TS, 0),
    P("end", K_TS, 0),
    P("is_active", K_BOOL, 0),
    PA("src_ref", K_REF, 0, "ipv4-addr ipv6-addr mac-addr domain-name"),
    PA("dst_ref", K_REF, 0, "ipv4-addr ipv6-addr mac-addr domain-name"),
    PR("src_port", K_INT, 0, 0, 65535),
    PR("dst_port", K_INT, 0, 0, 65535),
    P("protocols", K_STRS, F_REQ21),
    PR("src_byte_count", K_INT, 0, 0, INT64_MAX),
    PR("dst_byte_count", K_INT, 0, 0, INT64_MAX),
    PR("src_packets", K_INT, 0, 0, INT64_MAX),
    PR("dst_packets", K_INT, 0, 0, INT64_MAX),
    P("ipfix", K_DICT, 0),
    PA("src_payload_ref", K_REF, 0, "artifact"),
    PA("dst_payload_ref", K_REF, 0, "artifact"),
    PA("encapsulates_refs", K_REFS, 0, "network-traffic"),
    PA("encapsulated_by_ref", K_REF, 0, "network-traffic"),
    PEND,
};

static const prop process_props[] = {
    P("is_hidden", K_BOOL, 0),
    P("pid", K_INT, 0),
    P("created_time", K_TS, 0),
    P("cwd", K_STR, 0),
    P("command_line", K_STR, 0),
    P("environment_variables", K_DICT, 0),
    PA("opened_connection_refs", K_REFS, 0, "network-traffic"),
    PA("creator_user_ref", K_REF, 0, "user-account"),
    PA("image_ref", K_REF, 0, "file"),
    PA("parent_ref", K_REF, 0, "process"),
    PA("child_refs", K_REFS, 0, "process"),
    PEND,
};

static const prop software_props[] = {
    P("name", K_STR, F_REQ21),
    P("cpe", K_STR, 0),
    P("swid", K_STR, 0),
    P("languages", K_STRS, 0),
    P("vendor", K_STR, 0),
    P("version", K_STR, 0),
    PEND,
};

static const prop user_account_props[] = {
    P("user_id", K_STR, 0),
    P("credential", K_STR, 0),
    P("account_login", K_STR, 0),
    P("account_type", K_STR, 0),
    P("display_name", K_STR, 0),
    P("is_service_account", K_BOOL, 0),
    P("is_privileged", K_BOOL, 0),
    P("can_escalate_privs", K_BOOL, 0),
    P("is_disabled", K_BOOL, 0),
    P("account_created", K_TS, 0),
    P("account_expires", K_TS, 0),
    P("credential_last_changed", K_TS, 0),
    P("account_first_login", K_TS, 0),
    P("account_last_login", K_TS, 0),
    PEND,
};

static const prop registry_value_props[] = {
    P("name", K_STR, 0),
    P("data", K_STR, 0),
    PA("data_type", K_ENUM, 0,
       "REG_NONE REG_SZ REG_EXPAND_SZ REG_BINARY REG_DWORD REG_DWORD_BIG_ENDIAN "
       "REG_DWORD_LITTLE_ENDIAN REG_LINK REG_MULTI_SZ REG_RESOURCE_LIST "
       "REG_FULL_RESOURCE_DESCRIPTION REG_RESOURCE_REQUIREMENTS_LIST REG_QWORD REG_INVALID_TYPE"),
    PEND,
};
static const ptable registry_value_table = {registry_value_props, NULL};

static const prop registry_key_props[] = {
    P("key", K_STR, 0),
    PS("values", K_SUBS, 0, &registry_value_table),
    P("modified_time", K_TS, 0),
    PA("creator_user_ref", K_REF, 0, "user-account"),
    PR("number_of_subkeys", K_INT, 0, 0, INT64_MAX),
    PEND,
};

static const prop x509_ext_props[] = {
    P("basic_constraints", K_STR, 0),
    P("name_constraints", K_STR, 0),
    P("policy_constraints", K_STR, 0),
    P("key_usage", K_STR, 0),
    P("extended_key_usage", K_STR, 0),
    P("subject_key_identifier", K_STR, 0),
    P("authority_key_identifier", K_STR, 0),
    P("subject_alternative_name", K_STR, 0),
    P("issuer_alternative_name", K_STR, 0),
    P("subject_directory_attributes", K_STR, 0),
    P("crl_distribution_points", K_STR, 0),
    P("inhibit_any_policy", K_STR, 0),
    P("private_key_usage_period_not_before", K_TS, 0),
    P("private_key_usage_period_not_after", K_TS, 0),
    P("certificate_policies", K_STR, 0),
    P("policy_mappings", K_STR, 0),
    PEND,
};
static const ptable x509_ext_table = {x509_ext_props, NULL};

static const prop x509_props[] = {
    P("is_self_signed", K_BOOL, 0),
    P("hashes", K_HASHES, 0),
    P("version", K_STR, 0),
    P("serial_number", K_STR, 0),
    P("signature_algorithm", K_STR, 0),
    P("issuer", K_STR, 0),
    P("validity_not_before", K_TS, 0),
    P("validity_not_after", K_TS, 0),
    P("subject", K_STR, 0),
    P("subject_public_key_algorithm", K_STR, 0),
    P("subject_public_key_modulus", K_STR, 0),
    P("subject_public_key_exponent", K_INT, 0),
    PS("x509_v3_extensions", K_SUB, 0, &x509_ext_table),
    PEND,
};

/* --- meta objects --- */

static int langcontent_rule(vctx *c, const char *path, const ajson_value *o);
static int extdef_rule(vctx *c, const char *path, const ajson_value *o);
static int marking_rule(vctx *c, const char *path, const ajson_value *o);


static const prop language_content_props[] = {
    PA("object_ref", K_REF, F_REQ21, T_ANY),
    P("object_modified", K_TS, 0),
    P("contents", K_DICT, F_REQ21),
    PEND,
};

static const prop extension_definition_props[] = {
    P("name", K_STR, F_REQ21),
    P("description", K_STR, 0),
    P("schema", K_STR, F_REQ21),
    P("version", K_STR, F_REQ21),
    PA("extension_types", K_ENUMS, F_REQ21, EXTENSION_TYPES),
    P("extension_properties", K_STRS, 0),
    PEND,
};

static const prop no_props[] = {PEND}; /* marking-definition: everything is in stix_md_common */

/* Custom objects: no properties beyond the common ones are known. */
const ptable stix_custom_table = {no_props, NULL};

/* ------------------------------------------------------------------------------------------ */
/* The predefined extensions of SCOs                                                          */

static const prop archive_ext_props[] = {
    PA("contains_refs", K_REFS, F_REQ21, "file directory"),
    P("comment", K_STR, 0),
    PEND,
};

static const prop ads_props[] = {
    P("name", K_STR, F_REQ21),
    P("hashes", K_HASHES, 0),
    PR("size", K_INT, 0, 0, INT64_MAX),
    PEND,
};
static const ptable ads_table = {ads_props, NULL};

static const prop ntfs_ext_props[] = {
    P("sid", K_STR, 0),
    PS("alternate_data_streams", K_SUBS, 0, &ads_table),
    PEND,
};

static const prop pdf_ext_props[] = {
    P("version", K_STR, 0),
    P("is_optimized", K_BOOL, 0),
    P("document_info_dict", K_DICT, 0),
    P("pdfid0", K_STR, 0),
    P("pdfid1", K_STR, 0),
    PEND,
};

static const prop raster_ext_props[] = {
    P("image_height", K_INT, 0),
    P("image_width", K_INT, 0),
    P("bits_per_pixel", K_INT, 0),
    P("exif_tags", K_DICT, 0),
    PEND,
};

static const prop pe_section_props[] = {
    P("name", K_STR, F_REQ21),
    PR("size", K_INT, 0, 0, INT64_MAX),
    P("entropy", K_NUM, 0),
    P("hashes", K_HASHES, 0),
    PEND,
};
static const ptable pe_section_table = {pe_section_props, NULL};

static const prop pe_ext_props[] = {
    P("pe_type", K_STR, F_REQ21),
    P("imphash", K_STR, 0),
    P("machine_hex", K_HEX, 0),
    PR("number_of_sections", K_INT, 0, 0, INT64_MAX),
    P("time_date_stamp", K_TS, 0),
    P("pointer_to_symbol_table_hex", K_HEX, 0),
    PR("number_of_symbols", K_INT, 0, 0, INT64_MAX),
    PR("size_of_optional_header", K_INT, 0, 0, INT64_MAX),
    P("characteristics_hex", K_HEX, 0),
    P("file_header_hashes", K_HASHES, 0),
    P("optional_header", K_DICT, 0),
    PS("sections", K_SUBS, 0, &pe_section_table),
    PEND,
};

static const prop http_ext_props[] = {
    P("request_method", K_STR, F_REQ21),
    P("request_value", K_STR, F_REQ21),
    P("request_version", K_STR, 0),
    P("request_header", K_DICT, 0),
    PR("message_body_length", K_INT, 0, 0, INT64_MAX),
    PA("message_body_data_ref", K_REF, 0, "artifact"),
    PEND,
};

static const prop icmp_ext_props[] = {
    P("icmp_type_hex", K_HEX, F_REQ21),
    P("icmp_code_hex", K_HEX, F_REQ21),
    PEND,
};

static const prop socket_ext_props[] = {
    PA("address_family", K_ENUM, F_REQ21,
       "AF_UNSPEC AF_INET AF_IPX AF_APPLETALK AF_NETBIOS AF_INET6 AF_IRDA AF_BTH"),
    P("is_blocking", K_BOOL, 0),
    P("is_listening", K_BOOL, 0),
    P("options", K_DICT, 0),
    PA("socket_type", K_ENUM, 0, "SOCK_STREAM SOCK_DGRAM SOCK_RAW SOCK_RDM SOCK_SEQPACKET"),
    PR("socket_descriptor", K_INT, 0, 0, INT64_MAX),
    P("socket_handle", K_INT, 0),
    PEND,
};

static const prop tcp_ext_props[] = {
    P("src_flags_hex", K_HEX, 0),
    P("dst_flags_hex", K_HEX, 0),
    PEND,
};

static const prop winproc_ext_props[] = {
    P("aslr_enabled", K_BOOL, 0),
    P("dep_enabled", K_BOOL, 0),
    P("priority", K_STR, 0),
    P("owner_sid", K_STR, 0),
    P("window_title", K_STR, 0),
    P("startup_info", K_DICT, 0),
    PA("integrity_level", K_ENUM, 0, "low medium high system"),
    PEND,
};

static const prop winsvc_ext_props[] = {
    P("service_name", K_STR, 0),
    P("descriptions", K_STRS, 0),
    P("display_name", K_STR, 0),
    P("group_name", K_STR, 0),
    PA("start_type", K_ENUM, 0,
       "SERVICE_AUTO_START SERVICE_BOOT_START SERVICE_DEMAND_START SERVICE_DISABLED "
       "SERVICE_SYSTEM_ALERT"),
    PA("service_dll_refs", K_REFS, 0, "file"),
    PA("service_type", K_ENUM, 0,
       "SERVICE_KERNEL_DRIVER SERVICE_FILE_SYSTEM_DRIVER SERVICE_WIN32_OWN_PROCESS "
       "SERVICE_WIN32_SHARE_PROCESS"),
    PA("service_status", K_ENUM, 0,
       "SERVICE_CONTINUE_PENDING SERVICE_PAUSE_PENDING SERVICE_PAUSED SERVICE_RUNNING "
       "SERVICE_START_PENDING SERVICE_STOP_PENDING SERVICE_STOPPED"),
    PEND,
};

static const prop unix_account_ext_props[] = {
    P("gid", K_INT, 0),
    P("groups", K_STRS, 0),
    P("home_dir", K_STR, 0),
    P("shell", K_STR, 0),
    PEND,
};


const ext_def stix_predefined_exts[] = {
    {"archive-ext", "file", archive_ext_props},
    {"ntfs-ext", "file", ntfs_ext_props},
    {"pdf-ext", "file", pdf_ext_props},
    {"raster-image-ext", "file", raster_ext_props},
    {"windows-pebinary-ext", "file", pe_ext_props},
    {"http-request-ext", "network-traffic", http_ext_props},
    {"icmp-ext", "network-traffic", icmp_ext_props},
    {"socket-ext", "network-traffic", socket_ext_props},
    {"tcp-ext", "network-traffic", tcp_ext_props},
    {"windows-process-ext", "process", winproc_ext_props},
    {"windows-service-ext", "process", winsvc_ext_props},
    {"unix-account-ext", "user-account", unix_account_ext_props},
};
const size_t stix_n_predefined_exts = sizeof stix_predefined_exts / sizeof stix_predefined_exts[0];

/* clang-format on */

/* ------------------------------------------------------------------------------------------ */
/* The type table                                                                             */

static const type_def types[] = {
    {"attack-pattern", STIX_KIND_SDO, 1, {attack_pattern_props, NULL}},
    {"campaign", STIX_KIND_SDO, 1, {campaign_props, seen_rule}},
    {"course-of-action", STIX_KIND_SDO, 1, {name_desc_props, NULL}},
    {"grouping", STIX_KIND_SDO, 0, {grouping_props, NULL}},
    {"identity", STIX_KIND_SDO, 1, {identity_props, NULL}},
    {"incident", STIX_KIND_SDO, 0, {incident_props, NULL}},
    {"indicator", STIX_KIND_SDO, 1, {indicator_props, indicator_rule}},
    {"infrastructure", STIX_KIND_SDO, 0, {infrastructure_props, seen_rule}},
    {"intrusion-set", STIX_KIND_SDO, 1, {intrusion_set_props, seen_rule}},
    {"location", STIX_KIND_SDO, 0, {location_props, location_rule}},
    {"malware", STIX_KIND_SDO, 1, {malware_props, malware_rule}},
    {"malware-analysis", STIX_KIND_SDO, 0, {malware_analysis_props, analysis_rule}},
    {"note", STIX_KIND_SDO, 0, {note_props, NULL}},
    {"observed-data", STIX_KIND_SDO, 1, {observed_data_props, observed_rule}},
    {"opinion", STIX_KIND_SDO, 0, {opinion_props, NULL}},
    {"report", STIX_KIND_SDO, 1, {report_props, NULL}},
    {"threat-actor", STIX_KIND_SDO, 1, {threat_actor_props, seen_rule}},
    {"tool", STIX_KIND_SDO, 1, {tool_props, NULL}},
    {"vulnerability", STIX_KIND_SDO, 1, {name_desc_props, NULL}},
    {"relationship", STIX_KIND_SRO, 1, {relationship_props, relationship_rule}},
    {"sighting", STIX_KIND_SRO, 1, {sighting_props, sighting_rule}},
    {"artifact", STIX_KIND_SCO, 1, {artifact_props, artifact_rule}},
    {"autonomous-system", STIX_KIND_SCO, 1, {autonomous_system_props, NULL}},
    {"directory", STIX_KIND_SCO, 1, {directory_props, NULL}},
    {"domain-name", STIX_KIND_SCO, 1, {domain_name_props, NULL}},
    {"email-addr", STIX_KIND_SCO, 1, {email_addr_props, NULL}},
    {"email-message", STIX_KIND_SCO, 1, {email_message_props, email_rule}},
    {"file", STIX_KIND_SCO, 1, {file_props, file_rule}},
    {"ipv4-addr", STIX_KIND_SCO, 1, {ip_addr_props, ip_rule}},
    {"ipv6-addr", STIX_KIND_SCO, 1, {ip_addr_props, ip_rule}},
    {"mac-addr", STIX_KIND_SCO, 1, {value_props, mac_rule}},
    {"mutex", STIX_KIND_SCO, 1, {mutex_props, NULL}},
    {"network-traffic", STIX_KIND_SCO, 1, {network_traffic_props, traffic_rule}},
    {"process", STIX_KIND_SCO, 1, {process_props, some_prop_rule}},
    {"software", STIX_KIND_SCO, 1, {software_props, NULL}},
    {"url", STIX_KIND_SCO, 1, {value_props, NULL}},
    {"user-account", STIX_KIND_SCO, 1, {user_account_props, some_prop_rule}},
    {"windows-registry-key", STIX_KIND_SCO, 1, {registry_key_props, some_prop_rule}},
    {"x509-certificate", STIX_KIND_SCO, 1, {x509_props, some_prop_rule}},
    {"language-content", STIX_KIND_META, 0, {language_content_props, langcontent_rule}},
    {"marking-definition", STIX_KIND_META, 1, {no_props, marking_rule}},
    {"extension-definition", STIX_KIND_META, 0, {extension_definition_props, extdef_rule}},
};

const type_def *stix_type_find(const char *type)
{
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (types[i].type[0] == type[0] && strcmp(types[i].type, type) == 0)
            return &types[i];
    return NULL;
}

stix_kind stix_type_kind(const char *type)
{
    const type_def *td = type ? stix_type_find(type) : NULL;
    return td ? td->kind : STIX_KIND_CUSTOM;
}

/* ------------------------------------------------------------------------------------------ */
/* Rules relating several properties of one type                                              */

/*
 * Selectors (spec 7.2.3.1): components separated by '.', each a property name or a list index
 * "[n]"; the path is walked from the root of the object and must end on existing content.
 */
static int selector_ok(const ajson_value *root, const char *sel)
{
    const ajson_value *cur = root;
    for (const char *p = sel;; p++) {
        size_t n = strcspn(p, "."), idx = 0;
        const ajson_value *next = NULL;
        if (n == 0)
            return 0;
        if (p[0] == '[') {
            if (n < 3 || p[n - 1] != ']' || cur->type != AJSON_ARRAY)
                return 0;
            for (size_t i = 1; i + 1 < n; i++) {
                if (!is_digit((unsigned char)p[i]) || idx > cur->len)
                    return 0;
                idx = idx * 10 + (size_t)(p[i] - '0');
            }
            next = idx < cur->len ? &cur->u.items[idx] : NULL;
        } else if (cur->type == AJSON_OBJECT) {
            for (size_t i = 0; i < cur->len && !next; i++)
                if (cur->u.members[i].key_len == n && memcmp(cur->u.members[i].key, p, n) == 0)
                    next = &cur->u.members[i].value;
        }
        if (!next)
            return 0;
        cur = next;
        p += n;
        if (*p == '\0')
            return 1;
    }
}

/* A granular marking: exactly one of marking_ref and lang (2.0: marking_ref), live selectors. */
static int gm_rule(vctx *c, const char *path, const ajson_value *o)
{
    const ajson_value *sel = ajson_get(o, "selectors");
    char sub[PATH_LEN];
    int rc;
    if (c->v20)
        rc = stix_check_required(c, path, o, (const prop[]){P("marking_ref", K_REF, F_REQ), PEND});
    else if (!ajson_get(o, "marking_ref") && !ajson_get(o, "lang"))
        rc = stix_fail(c, path, "at-least-one", NULL, "needs one of: marking_ref lang");
    else
        rc = stix_not_both(c, path, o, "marking_ref", "lang");
    for (size_t i = 0; sel && i < sel->len && rc == 0; i++) {
        const ajson_value *s = &sel->u.items[i];
        char base[PATH_LEN];
        stix_path_key(base, path, "selectors");
        stix_path_index(sub, base, i);
        if (!selector_ok(c->root, s->u.str))
            rc = stix_fail(c, sub, "selector-unresolved", s, "selects nothing in this object");
    }
    return rc;
}

/* "CVE-" 4 digits "-" then 4 digits (no leading zero past 4), or "CAPEC-" digits. */
static int cve_id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 13 || strncmp(s, "CVE-", 4) != 0 || s[8] != '-' || (n > 13 && s[9] == '0'))
        return 0;
    for (size_t i = 4; i < n; i++)
        if (i != 8 && !is_digit((unsigned char)s[i]))
            return 0;
    return 1;
}

static int capec_id_ok(const char *s)
{
    if (strncmp(s, "CAPEC-", 6) != 0 || s[6] == '\0')
        return 0;
    for (s += 6; *s; s++)
        if (!is_digit((unsigned char)*s))
            return 0;
    return 1;
}

/* An external reference: source_name and one of description/url/external_id; CVE/CAPEC ids. */
static int extref_rule(vctx *c, const char *path, const ajson_value *o)
{
    const char *src = ajson_str(ajson_get(o, "source_name"));
    const ajson_value *xv = ajson_get(o, "external_id");
    int cve = strcmp(src, "cve") == 0, capec = strcmp(src, "capec") == 0;
    char sub[PATH_LEN];
    int rc = stix_need_one_of(c, path, o, "description url external_id");
    stix_path_key(sub, path, "external_id");
    if (rc == 0 && (cve || capec) && !xv)
        rc = stix_fail(c, sub, "required-property", NULL, "is missing (required for source %s)",
                       src);
    if (rc == 0 && cve && !cve_id_ok(xv->u.str))
        rc = stix_fail(c, sub, "external-id-format", xv, "is not a CVE id CVE-YYYY-NNNN");
    if (rc == 0 && capec && !capec_id_ok(xv->u.str))
        rc = stix_fail(c, sub, "external-id-format", xv, "is not a CAPEC id CAPEC-N");
    return rc;
}

/* campaign, infrastructure, intrusion-set, threat-actor: last_seen >= first_seen. */
static int seen_rule(vctx *c, const char *path, const ajson_value *o)
{
    if (c->v20)
        return 0;
    return stix_check_order(c, path, o, "first_seen", "last_seen", 0, "time-order");
}

/* A STIX pattern (pattern_type "stix", or none) must parse by its version's grammar. */
static int pattern_rule(vctx *c, const char *path, const ajson_value *o)
{
    const ajson_value *pat = ajson_get(o, "pattern");
    const char *pt = ajson_str(ajson_get(o, "pattern_type"));
    accord_error err = {0};
    char ppath[PATH_LEN];
    if (!ajson_str(pat) || (pt && strcmp(pt, "stix") != 0))
        return 0;
    if (accord_pattern_check(pat->u.str, pat->len, c->v20 ? ACCORD_PATTERN_STIX20 : 0, &err) == 0)
        return 0;
    stix_path_key(ppath, path, "pattern");
    return stix_fail(c, ppath, "pattern-syntax", NULL, "is not a valid STIX pattern: %s", err.msg);
}

static int indicator_rule(vctx *c, const char *path, const ajson_value *o)
{
    int rc = pattern_rule(c, path, o);
    if (rc || c->v20)
        return rc;
    return stix_check_order(c, path, o, "valid_from", "valid_until", 1, "time-order");
}

static int malware_rule(vctx *c, const char *path, const ajson_value *o)
{
    int rc = 0;
    if (c->v20)
        return 0;
    if (stix_is_true(ajson_get(o, "is_family")))
        rc = stix_needs(c, path, o, "is_family", "name", "is_family is true");
    return rc ? rc : seen_rule(c, path, o);
}

static int analysis_rule(vctx *c, const char *path, const ajson_value *o)
{
    return c->v20 ? 0 : stix_need_one_of(c, path, o, "result analysis_sco_refs");
}

static int location_rule(vctx *c, const char *path, const ajson_value *o)
{
    int rc;
    if (c->v20)
        return 0;
    rc = stix_needs(c, path, o, "latitude", "longitude", "latitude is present");
    if (rc == 0)
        rc = stix_needs(c, path, o, "longitude", "latitude", "longitude is present");
    if (rc == 0)
        rc = stix_needs(c, path, o, "precision", "latitude", "precision is present");
    if (rc == 0)
        rc = stix_need_one_of(c, path, o, "region country latitude");
    return rc;
}

static int observed_rule(vctx *c, const char *path, const ajson_value *o)
{
    int rc = stix_not_both(c, path, o, "objects", "object_refs");
    if (rc == 0 && c->v20)
        rc = stix_check_required(c, path, o, (const prop[]){P("objects", K_OBJMAP, F_REQ), PEND});
    else if (rc == 0)
        rc = stix_need_one_of(c, path, o, "objects object_refs");
    if (rc == 0 && !c->v20)
        rc = stix_check_order(c, path, o, "first_observed", "last_observed", 0, "time-order");
    return rc;
}

static int relationship_rule(vctx *c, const char *path, const ajson_value *o)
{
    const ajson_value *rt = ajson_get(o, "relationship_type");
    char sub[PATH_LEN];
    if (c->v20 || !ajson_str(rt))
        return 0;
    stix_path_key(sub, path, "relationship_type");
    for (size_t i = 0; i < rt->len; i++) {
        int ch = (unsigned char)rt->u.str[i];
        if (!is_lower(ch) && !is_digit(ch) && ch != '-')
            return stix_fail(c, sub, "value-format", rt, "is not made of a-z, 0-9 and '-'");
    }
    return stix_check_order(c, path, o, "start_time", "stop_time", 1, "time-order");
}

static int sighting_rule(vctx *c, const char *path, const ajson_value *o)
{
    return c->v20 ? 0 : stix_check_order(c, path, o, "first_seen", "last_seen", 0, "time-order");
}

static int artifact_rule(vctx *c, const char *path, const ajson_value *o)
{
    int rc;
    if (c->v20)
        return 0;
    rc = stix_not_both(c, path, o, "payload_bin", "url");
    if (rc == 0)
        rc = stix_need_one_of(c, path, o, "payload_bin url");
    if (rc == 0)
        rc = stix_needs(c, path, o, "url", "hashes", "url is present");
    if (rc == 0)
        rc = stix_needs(c, path, o, "decryption_key", "encryption_algorithm",
                        "decryption_key is present");
    return rc;
}

static int file_rule(vctx *c, const char *path, const ajson_value *o)
{
    return c->v20 ? 0 : stix_need_one_of(c, path, o, "hashes name");
}

static int email_rule(vctx *c, const char *path, const ajson_value *o)
{
    int multi = stix_is_true(ajson_get(o, "is_multipart"));
    const char *wrong = multi ? "body" : "body_multipart";
    char sub[PATH_LEN];
    if (c->v20 || !ajson_get(o, wrong))
        return 0;
    stix_path_key(sub, path, wrong);
    return stix_fail(c, sub, "mutually-exclusive", NULL,
                     "may not be present when is_multipart is %s", multi ? "true" : "false");
}

static int traffic_rule(vctx *c, const char *path, const ajson_value *o)
{
    int rc;
    if (c->v20)
        return 0;
    rc = stix_need_one_of(c, path, o, "src_ref dst_ref");
    if (rc == 0 && stix_is_true(ajson_get(o, "is_active")))
        rc = stix_not_both(c, path, o, "is_active", "end");
    if (rc == 0)
        rc = stix_check_order(c, path, o, "start", "end", 0, "time-order");
    return rc;
}

static int ip_rule(vctx *c, const char *path, const ajson_value *o)
{
    const ajson_value *v = ajson_get(o, "value");
    int v4 = strcmp(c->type, "ipv4-addr") == 0;
    char sub[PATH_LEN];
    if (!ajson_str(v) || (v4 ? ipv4_ok(v->u.str) : ipv6_ok(v->u.str)))
        return 0;
    stix_path_key(sub, path, "value");
    return stix_fail(c, sub, "value-format", v, "is not an %s address or CIDR block",
                     v4 ? "IPv4" : "IPv6");
}

static int mac_rule(vctx *c, const char *path, const ajson_value *o)
{
    const ajson_value *v = ajson_get(o, "value");
    char sub[PATH_LEN];
    if (!ajson_str(v) || mac_ok(v->u.str))
        return 0;
    stix_path_key(sub, path, "value");
    return stix_fail(c, sub, "value-format", v,
                     "is not a lower-case MAC-48 address aa:bb:cc:dd:ee:ff");
}

/* process, user-account, windows-registry-key, x509-certificate: all optional, one required. */
static int some_prop_rule(vctx *c, const char *path, const ajson_value *o)
{
    if (c->v20)
        return 0;
    for (size_t i = 0; i < o->len; i++)
        if (!stix_prop_find(stix_sco_common, o->u.members[i].key) ||
            strcmp(o->u.members[i].key, "extensions") == 0)
            return 0;
    return stix_fail(c, path, "at-least-one", NULL, "needs at least one property of its type");
}

/* language-content: contents maps language tags to dictionaries of translated properties. */
static int langcontent_rule(vctx *c, const char *path, const ajson_value *o)
{
    const ajson_value *ct = ajson_get(o, "contents");
    char base[PATH_LEN], sub[PATH_LEN];
    static const prop dict = P("", K_DICT, 0);
    int rc = 0;
    stix_path_key(base, path, "contents");
    for (size_t i = 0; ct && ct->type == AJSON_OBJECT && i < ct->len && rc == 0; i++) {
        stix_path_key(sub, base, ct->u.members[i].key);
        rc = stix_check_value(c, sub, &ct->u.members[i].value, &dict);
    }
    return rc;
}

static int extdef_rule(vctx *c, const char *path, const ajson_value *o)
{
    const ajson_value *ets = ajson_get(o, "extension_types");
    char sub[PATH_LEN];
    int rc = stix_check_required(
        c, path, o, (const prop[]){PA("created_by_ref", K_REF, F_REQ21, "identity"), PEND});
    if (rc || !ajson_get(o, "extension_properties"))
        return rc;
    for (size_t i = 0; ets && ets->type == AJSON_ARRAY && i < ets->len; i++)
        if (ajson_str(&ets->u.items[i]) &&
            strcmp(ets->u.items[i].u.str, "toplevel-property-extension") == 0)
            return 0;
    stix_path_key(sub, path, "extension_properties");
    return stix_fail(c, sub, "extension-properties", NULL,
                     "may only be used when extension_types has toplevel-property-extension");
}

/* ------------------------------------------------------------------------------------------ */
/* Marking definitions: statements and the fixed TLP markings                                  */

typedef struct tlp_def {
    const char *color, *name, *id;
} tlp_def;

/* TLP 1.0 (spec 7.2.1.4): four fixed objects, created 2017-01-20T00:00:00.000Z. */
static const tlp_def tlp1[] = {
    {"white", "TLP:WHITE", "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"},
    {"green", "TLP:GREEN", "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"},
    {"amber", "TLP:AMBER", "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"},
    {"red", "TLP:RED", "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"},
};

/* TLP 2.0: the objects of the OASIS extension-definition below (stix-common-objects). */
static const char TLP2_EXT[] = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";
static const tlp_def tlp2[] = {
    {"clear", "TLP:CLEAR", "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"},
    {"green", "TLP:GREEN", "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"},
    {"amber", "TLP:AMBER", "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"},
    {"amber+strict", "TLP:AMBER+STRICT",
     "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"},
    {"red", "TLP:RED", "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"},
};

static const tlp_def *tlp_by_color(const tlp_def *t, size_t n, const char *color)
{
    for (size_t i = 0; color && i < n; i++)
        if (strcmp(t[i].color, color) == 0)
            return &t[i];
    return NULL;
}

static const tlp_def *tlp_by_id(const tlp_def *t, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(t[i].id, id) == 0)
            return &t[i];
    return NULL;
}

/*
 * A marking claiming TLP colour `color` (held by value cv at path cpath) must be the fixed
 * object: its id, and its name when present.
 */
static int check_tlp(vctx *c, const ajson_value *o, const tlp_def *t, size_t n, const char *cpath,
                     const ajson_value *cv, const char *version)
{
    const tlp_def *d = tlp_by_color(t, n, ajson_str(cv));
    const ajson_value *id = ajson_get(o, "id"), *name = ajson_get(o, "name");
    if (!d)
        return stix_fail(c, cpath, "enum-value", cv, "is not a TLP %s colour", version);
    if (strcasecmp(id->u.str, d->id) != 0)
        return stix_fail(c, "id", "tlp-id", NULL, "is not the id of %s (TLP %s): %s", d->name,
                         version, d->id);
    if (ajson_str(name) && strcmp(name->u.str, d->name) != 0)
        return stix_fail(c, "name", "tlp-id", name, "is not the name of %s", d->name);
    return 0;
}

/* TLP 1.0 definitions also carry the fixed creation time. */
static int check_tlp1_created(vctx *c, const ajson_value *o)
{
    const ajson_value *cr = ajson_get(o, "created");
    ts_value got, want_ts;
    if (ts_parse(cr->u.str, &got) || ts_parse("2017-01-20T00:00:00.000Z", &want_ts) ||
        ts_cmp(&got, &want_ts) == 0)
        return 0;
    return stix_fail(c, "created", "tlp-id", cr,
                     "is not the TLP 1.0 creation time "
                     "2017-01-20T00:00:00.000Z");
}

static int marking_tlp_rule(vctx *c, const ajson_value *o, const char *dt)
{
    const ajson_value *id = ajson_get(o, "id");
    const ajson_value *ext = ajson_get(ajson_get(o, "extensions"), TLP2_EXT);
    const tlp_def *d;
    char ext_path[PATH_LEN], path[PATH_LEN];
    int rc = 0;
    if (dt && strcmp(dt, "tlp") == 0) {
        rc = check_tlp(c, o, tlp1, 4, "definition.tlp",
                       ajson_get(ajson_get(o, "definition"), "tlp"), "1.0");
        return rc ? rc : check_tlp1_created(c, o);
    }
    if (ext) {
        stix_path_key(ext_path, "extensions", TLP2_EXT);
        stix_path_key(path, ext_path, "tlp_2_0");
        return check_tlp(c, o, tlp2, 5, path, ajson_get(ext, "tlp_2_0"), "2.0");
    }
    /* The reverse: an object bearing a fixed TLP id must be that marking. */
    d = tlp_by_id(tlp1, 4, id->u.str);
    if (!d)
        d = tlp_by_id(tlp2, 5, id->u.str);
    if (d)
        rc = stix_fail(c, "id", "tlp-id", NULL,
                       "is the id of %s but the object is not that marking", d->name);
    return rc;
}

static int marking_rule(vctx *c, const char *path, const ajson_value *o)
{
    const char *dt = ajson_str(ajson_get(o, "definition_type"));
    int rc = stix_needs(c, path, o, "definition_type", "definition", "definition_type is present");
    if (rc == 0)
        rc = stix_needs(c, path, o, "definition", "definition_type", "definition is present");
    if (rc == 0 && !dt && (c->v20 || !ajson_get(o, "extensions")))
        rc = stix_fail(c, "definition_type", "required-property", NULL,
                       "is missing (required when the marking has no extensions)");
    if (rc == 0 && dt && strcmp(dt, "statement") == 0) {
        const ajson_value *st = ajson_get(ajson_get(o, "definition"), "statement");
        rc = st ? stix_want(c, "definition.statement", st, AJSON_STRING, "a string")
                : stix_fail(c, "definition.statement", "required-property", NULL, "is missing");
    }
    return rc ? rc : marking_tlp_rule(c, o, dt);
}
