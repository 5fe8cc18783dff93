/*
 * main.c - the accord command: global options, the command table, help.
 *
 * Commands are declared once, as data (name, summary, full help, handler); `accord help`, `accord
 * help CMD`, `accord CMD --help` and usage errors all print from that table.  Each handler parses
 * its own options and calls the library; none of them holds logic the library should have.
 */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *data_dir;

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);

static const cli_command commands[] = {
    {"serve", "run the TAXII 2.1 server over HTTPS",
     "usage: accord serve [--listen ADDR:PORT] [--cert FILE --key FILE] [--plain-http]\n"
     "                    [--threads N] [--access-log FILE|-] [--title T] [--public-url URL]\n"
     "                    [--checkpoint-interval S] [--ui DIR]\n"
     "                    [--nats URL [--tenant T] [--nats-report COLLECTION] ...]\n"
     "\n"
     "Serves the store over TAXII 2.1 at https://ADDR:PORT/taxii2/ (default 127.0.0.1:8443,\n"
     "port 0 = any free port).  Without --cert/--key a self-signed certificate is created in\n"
     "DATA/tls/ on the first start and its fingerprint printed.  On the first start of an empty\n"
     "store an admin account is created and its API token printed once.\n"
     "\n"
     "  --plain-http       HTTP without TLS, only on a loopback address\n"
     "  --threads N        a pool of N request threads (default: a thread per connection)\n"
     "  --access-log F     JSON lines access log to F (- = stderr)\n"
     "  --public-url URL   the base URL clients use, for the discovery resource\n"
     "  --checkpoint-interval S  sign an audit-log checkpoint every S seconds (60) and at exit\n"
     "  --ui DIR           the web console's files, served at /ui/ (default: ui/ beside the\n"
     "                     binary, or $ACCORD_UI_DIR)\n"
     "  --nats URL         collect matching workers' results beside the server (accord nats\n"
     "                     collect with sightings every 60 s: --nats-report COLLECTION,\n"
     "                     --nats-sightings-every S, --nats-db FILE; connection options:\n"
     "                     accord help nats)\n"
     "\n"
     "Stops on SIGINT or SIGTERM after requests in flight finish.  Accounts, tokens, rights and\n"
     "collections changed with the CLI apply to the next request.\n",
     cmd_serve},
    {"import", "store STIX 2.x objects from files, directories or stdin",
     "usage: accord import [--collection C] [--strict] [--sign] [--batch N] [--quiet] FILE|DIR|- "
     "...\n"
     "\n"
     "Reads STIX 2.x bundles, JSON arrays of objects and JSON lines (also .gz) and stores every\n"
     "valid object; a directory is read recursively (*.json, *.jsonl, *.json.gz, *.jsonl.gz).\n"
     "Re-importing an object is a no-op reported as a duplicate; a new `modified` adds a version.\n"
     "Rejected objects are reported with their index, id, property and broken rule.  Signed\n"
     "objects are verified: an invalid signature rejects the object (rule signature).\n"
     "\n"
     "  --collection C  add the objects to collection C (id or alias; default: the default\n"
     "               collection)\n"
     "  --strict     reject a whole input on its first invalid object (nothing of it is stored)\n"
     "  --sign       sign every object with this node's organisation (accord member init)\n"
     "  --batch N    objects per transaction (default 20000)\n"
     "  --quiet      no progress output\n"
     "\n"
     "Exit: 0 all accepted or duplicates, 3 some rejected, 4 an input rejected by --strict,\n"
     "1 I/O or store error.\n",
     cmd_import},
    {"get", "print an object by id",
     "usage: accord get [--all-versions] [--as ACCOUNT] ID\n"
     "\n"
     "Prints the latest stored version of ID as one line of JSON, or every version, oldest "
     "first.\n"
     "The local command reads every version; --as ACCOUNT reads only what ACCOUNT is cleared\n"
     "for by TLP (see `accord help user`), as the TAXII server would serve it.\n",
     cmd_get},
    {"search", "list every object that mentions an observable value",
     "usage: accord search [--json] [--as ACCOUNT] VALUE\n"
     "\n"
     "VALUE is an IP address or CIDR, domain name, URL, e-mail address, file hash, ...  Lists\n"
     "every stored version whose SCO properties or indicator pattern constants mention it, as\n"
     "`id<TAB>modified<TAB>type`, or the objects as JSON lines with --json.  --as ACCOUNT\n"
     "lists only what ACCOUNT is cleared for by TLP; without it the local operator sees all.\n",
     cmd_search},
    {"export", "write a STIX bundle, or the active indicators for firewalls, DNS and IDS",
     "usage: accord export [--format F] [--out FILE|DIR] [--collection C] [--type T]...\n"
     "                     [--at TS] [--label L]... [--creator ID]... [--indicator-type T]...\n"
     "                     [--min-confidence N] [--max-tlp TLP] [--rpz-action A]\n"
     "                     [--columns LIST] [--nft-table NAME] [--since CURSOR] [--quiet]\n"
     "       accord export [--type T]... [--added-after TS] [--include-revoked] "
     "[--all-versions]\n"
     "\n"
     "Without --format: a STIX 2.1 bundle with the latest version of every stored object that\n"
     "is not revoked, in the order they were added.  Every --format holds the active indicators\n"
     "(latest version, not revoked, valid_from <= TS < valid_until), with each pattern turned\n"
     "into values; patterns a format cannot express are left out whole, counted and named on\n"
     "stderr, and allow-listed values (`accord allowlist`, plus the RFC 1918/6890\n"
     "special-purpose ranges) are never written.  --format stix writes those indicators as\n"
     "stored, with the marking-definitions they reference; one holding an allow-listed value\n"
     "is left out whole and named.\n"
     "\n"
     "  --format F          stix, zeek-intel, suricata-dataset (DIR), suricata-rules (DIR), rpz,\n"
     "                      nft, csv, plain, misp-feed (DIR: EVENT.json, hashes.csv, manifest.json)\n"
     "  --out FILE|DIR      write there (atomically: a temporary renamed into place); default\n"
     "                      stdout\n"
     "  --collection C      only collection C (id or alias)\n"
     "  --type T            no --format: objects of STIX type T; a --format: values of kind T (ipv4,\n"
     "                      ipv6, cidr4, cidr6, domain, domain-suffix, url, email, md5, sha1,\n"
     "                      sha256, sha512, cert-sha1, cert-sha256); repeatable\n"
     "  --at TS             the export time (RFC 3339); default now\n"
     "  --label L           indicators with label L (repeatable: any of them)\n"
     "  --creator ID        indicators whose created_by_ref is ID (repeatable)\n"
     "  --indicator-type T  indicators with indicator_types T (repeatable)\n"
     "  --min-confidence N  indicators with confidence >= N (those without one are left out)\n"
     "  --max-tlp TLP       clear, green, amber, amber+strict, red: the most the destination may\n"
     "                      receive (indicators without a TLP marking count as the node's\n"
     "                      default, `accord tlp default`; amber unless set)\n"
     "  --max-bytes N       stop with an error rather than write more than N bytes (K, M, G;\n"
     "                      at most 256M, which is also every served feed's cap)\n"
     "  --rpz-action A      nxdomain (default), nodata, passthru, drop, cname:HOST\n"
     "  --columns LIST      csv: value,kind,indicator,name,confidence,tlp,valid_until\n"
     "  --nft-table NAME    nft: the inet table holding the sets ipv4 and ipv6 (default accord)\n"
     "  --since CURSOR      nft: only `delete element`/`add element` since the export that "
     "printed\n"
     "                      CURSOR (every nft export prints `cursor v1.AT.ADDED.DIGEST` on\n"
     "                      stderr); the full script when that state cannot be rebuilt\n"
     "  --added-after TS    no --format: only versions added after TS\n"
     "  --include-revoked   no --format: include objects whose latest version is revoked\n"
     "  --all-versions      no --format: every stored version, not only the latest\n",
     cmd_export},
    {"case", "coordinated vulnerability disclosure: cases, vendors, embargo, CSAF and OSV",
     "usage: accord case open --title T [--summary S] [--embargo TS] [--deadline TS]\n"
     "                        [--role reporter|coordinator] [--coordinator ACCOUNT]\n"
     "       accord case set ID FIELD VALUE   (title summary cve cwe cvss embargo deadline\n"
     "                                         reference indicator)\n"
     "       accord case add-vendor ID ORG [--account A] [--contact C]\n"
     "       accord case add-participant ID ACCOUNT ROLE [--vendor ORG]\n"
     "       accord case add-product ID [--vendor ORG] [--name N] [--purl P] [--cpe C]\n"
     "                               [--affected '>=1.0,<2.1'] [--fixed V]\n"
     "       accord case vendors ID [--vendor ORG] [--after N] [--limit N]\n"
     "       accord case post ID [--topic T] [--private ORG] MESSAGE\n"
     "       accord case messages|timeline ID [--topic T] [--after N] [--limit N]\n"
     "       accord case status ID [--vendor ORG [--product P] --set STATUS [--statement S]]\n"
     "       accord case show ID case|vendors|messages|timeline|csaf|osv|stix|cve\n"
     "       accord case list [--after N] [--limit N]\n"
     "       accord case lift ID [--reason R]\n"
     "       accord case publish ID [--out DIR]\n"
     "       accord case profile ORG --purl PREFIX [--account A] [--contact C]\n"
     "       accord case publisher NAME https://NAMESPACE [--sign-key FPR]   (FPR: the key\n"
     "                                 accord serve signs /.well-known/csaf/ advisories with)\n"
     "       accord case cna ORG-UUID [SHORT-NAME]   (the CNA CVE JSON 5 records name)\n"
     "       accord case provider DIR [--sign-key FPR]   (CSAF provider directory; OpenPGP .asc\n"
     "                                                    signatures with the GnuPG key FPR)\n"
     "\n"
     "A case is one vulnerability under coordinated disclosure.  Roles: reporter, coordinator,\n"
     "vendor (speaks for one vendor), observer; every verb takes --as ACCOUNT to act as that\n"
     "account (default: the node's operator, a coordinator of every case).  Statuses: unknown,\n"
     "under_investigation, affected, not_affected, fixed; a vendor still unknown after the\n"
     "deadline is shown as no_response.  Products with a purl bring in every vendor whose\n"
     "profile registers a covering purl prefix.  Until publication the case is visible only to\n"
     "its participants (each read is audited) and nothing of it is in the STIX store; publish\n"
     "is refused while the embargo (an RFC 3339 instant with offset) runs, unless a coordinator\n"
     "lifts it.  publish writes revision N of the CSAF 2.0 advisory, OSV records for affected\n"
     "packages and the STIX vulnerability (TLP:CLEAR); --out DIR also writes them as files.\n",
     cmd_case},
    {"csaf", "import vendors' CSAF 2.0 advisories into the store as STIX",
     "usage: accord csaf import [--collection C] FILE|DIR ...\n"
     "       accord csaf export VULNERABILITY-ID   (as this node's CSAF advisory, on stdout)\n"
     "       accord csaf export --out DIR VULNERABILITY-ID...   (each into DIR/ID.json)\n"
     "\n"
     "Each CSAF 2.0 document (a directory: its *.json files, recursively) becomes a STIX\n"
     "vulnerability per CSAF vulnerability (CVE, CWE, products with purl, CPE, status and vendor\n"
     "fix, CVSS vectors, references) and a note per vulnerability note, marked with the\n"
     "document's TLP; one transaction per document.  A refused document is named with the JSON\n"
     "path and the rule (schema, or each CSAF 2.0 mandatory test 6.1.x it fails).\n"
     "Exit 0: all imported; 3: some refused; 1: none imported.\n",
     cmd_csaf},
    {"osv", "import OSV vulnerability records into the store as STIX",
     "usage: accord osv import [--collection C] FILE|DIR ...\n"
     "\n"
     "Each OSV record becomes a STIX vulnerability (named by its CVE alias, else its id) with the\n"
     "affected packages, their introduced and fixed versions, CVSS vectors and references,\n"
     "TLP:CLEAR; one transaction per record.  Exit codes as for accord csaf import.\n",
     cmd_osv},
    {"allowlist", "values exports never contain: import MISP warninglists and plain lists",
     "usage: accord allowlist import [--name NAME] FILE...\n"
     "       accord allowlist list\n"
     "       accord allowlist rm NAME\n"
     "\n"
     "import reads MISP warninglists (list.json: types string, substring, hostname, cidr, regex)\n"
     "or plain lists (one value a line, # comments; cidr, hostname or string by shape).  Each\n"
     "file replaces the stored list of the same name (the JSON name, else --name, else the file\n"
     "name).  Exports leave out every value a list holds, every name below an allowed hostname\n"
     "and every address or network overlapping an allowed cidr; the RFC 1918/6890\n"
     "special-purpose ranges are always allowed.\n",
     cmd_allowlist},
    {"peer", "the TAXII 2.1 servers this node pulls from and pushes to",
     "usage: accord peer add NAME URL --collection ID (--pull|--push|--both)\n"
     "                       (--token-file F | --user-file F)\n"
     "                       (--cacert FILE | --pin sha256//BASE64 | --insecure-http)\n"
     "                       [--page N] [--interval S]\n"
     "                       [--local COLLECTION] [--org IDENTITY] [--low-speed B/S]\n"
     "       accord peer list\n"
     "       accord peer status\n"
     "       accord peer rm NAME\n"
     "\n"
     "URL is the peer's TAXII API root (https://HOST:PORT/ROOT/), ID a collection there.  The\n"
     "token file holds the bearer token (read at each sync); a user file instead holds\n"
     "user:password for HTTP Basic (servers such as medallion).  --insecure-http allows a plain\n"
     "http:// URL (no TLS; warned at each sync).  The peer's certificate is verified\n"
     "against FILE, or only by its public key's SHA-256 (`openssl x509 -pubkey -noout | openssl\n"
     "pkey -pubin -outform der | openssl dgst -sha256 -binary | base64`).  --page: objects per\n"
     "request (default 1000).  --interval: seconds between the rounds `accord serve` runs in the\n"
     "background (default 60; 0 = only `accord sync`); failed rounds back off exponentially and a\n"
     "peer's Retry-After is honoured.  --local: the collection pulled into and pushed from\n"
     "(default: pulls into the default collection, pushes from the whole store).  --low-speed\n"
     "B/S: a transfer under B bytes/s for S seconds fails the round (default 64/30).  --org: the\n"
     "peer's organisation (an identity id), making it a member's node: only signed objects are\n"
     "taken from it, and it is pushed what that organisation is cleared to read (TLP; without\n"
     "--org: CLEAR only; RED never).  Adding an existing NAME changes it and keeps its cursors.\n"
     "list shows each peer's cursor (the last committed date_added); status the push position,\n"
     "the last success, the lag since then, failed rounds in a row, the next try and the error.\n",
     cmd_peer},
    {"sync", "one sync round with the peers (pull, push)",
     "usage: accord sync [--dry-run] [PEER]\n"
     "\n"
     "Pulls what each peer (or PEER) added since its cursor through the import pipeline\n"
     "(validation, signature verification, audit log); each page and the new cursor are committed\n"
     "together, so an interrupted sync resumes without loss or duplicates.  Objects a peer should\n"
     "not have sent (over-shared TLP; unsigned, from a member's node) are refused and audited.\n"
     "Then pushes the new local versions the peer may receive, except what came from it.\n"
     "--dry-run lists what would move (pull/push PEER ID MODIFIED) and changes nothing.  Exit 3\n"
     "when some objects were rejected, 1 when a peer failed.\n",
     cmd_sync},
    {"feed", "the exports `accord serve` publishes at /feeds/NAME",
     "usage: accord feed add NAME --format F [--collection C] [--type T]... [--label L]...\n"
     "                       [--creator ID]... [--indicator-type T]... [--min-confidence N]\n"
     "                       [--max-tlp TLP] [--rpz-action A] [--columns LIST] [--nft-table N]\n"
     "                       [--max-bytes N]\n"
     "       accord feed list\n"
     "       accord feed rm NAME\n"
     "\n"
     "add stores a feed (replacing one of that name) with the format and selection options of\n"
     "`accord export`.  `accord serve` publishes it at https://HOST/feeds/NAME (suricata-* and\n"
     "misp-feed: /feeds/NAME/FILE) to accounts with read rights on its collection (a feed\n"
     "without --collection: administrators only), with an ETag so an unchanged feed answers\n"
     "304.  nft feeds print `# cursor C`; /feeds/NAME?since=C sends only the changes.  A feed\n"
     "holds at most 256 MiB (or --max-bytes): past it the server answers 507 \"Feed too large\"\n"
     "with what to narrow, and sends nothing partial.\n",
     cmd_feed},
    {"stats", "print what the store holds",
     "usage: accord stats\n\nPrints counts of objects, versions and index runs, per type too.\n",
     cmd_stats},
    {"validate", "check STIX objects without storing them",
     "usage: accord validate FILE|DIR|- ...\n"
     "\n"
     "Validates like `accord import --strict` would, but stores nothing; prints each rejection.\n"
     "Exit: 0 all valid, 3 some invalid.\n",
     cmd_validate},
    {"collection", "add, list and remove collections",
     "usage: accord collection list [--root NAME]\n"
     "       accord collection add [--root NAME] [--alias A] [--description D] TITLE\n"
     "       accord collection rm ID|ALIAS\n"
     "       accord collection red list [ID|ALIAS]\n"
     "       accord collection red add|rm ID|ALIAS ACCOUNT\n"
     "       accord collection sign ID|ALIAS [on|off]\n"
     "\n"
     "Collections hold object versions and are served over TAXII under their API root.\n"
     "Removing a collection keeps its objects in the store.  A collection's RED list names the\n"
     "accounts that read its TLP:RED objects; nobody else does (admins aside).\n"
     "sign: objects POSTed over TAXII into the collection are signed with this node's\n"
     "organisation (accord member init; the signing key in DATA/keys) in the transaction that\n"
     "stores them; without on|off it prints the setting.  list marks such collections.\n",
     cmd_collection},
    {"tlp", "the TLP level unmarked objects read as",
     "usage: accord tlp default [clear|green|amber|amber+strict|red]\n"
     "\n"
     "Prints, or sets, the TLP level of objects that carry no TLP marking.  The default is amber:\n"
     "an unmarked object reaches only the organisation that produced it (created_by_ref) and\n"
     "those it names; set green when the sources of this node share unmarked data with the\n"
     "whole community.  Applies to objects already stored, from the next read.\n",
     cmd_tlp},
    {"root", "add and list TAXII API roots",
     "usage: accord root list\n"
     "       accord root add [--title T] [--description D] [--max-content-length BYTES] NAME\n",
     cmd_root},
    {"user", "add, list and remove accounts; grant collection rights",
     "usage: accord user add [--admin] [--password-file F | --password-stdin] [--org ID]\n"
     "                       [--community] NAME\n"
     "       accord user passwd (--password-file F | --password-stdin | --no-password) NAME\n"
     "       accord user set [--org ID | --no-org] [--community | --no-community] NAME\n"
     "       accord user list\n"
     "       accord user rm NAME\n"
     "       accord user grant NAME COLLECTION (--read | --write | --read-write | --none)\n"
     "\n"
     "Accounts log in to the TAXII server with HTTP Basic (when they have a password) or with\n"
     "API tokens (`accord token`).  NAME is 1 to 64 of A-Z a-z 0-9 . _ @ -.  Without a password\n"
     "option an account is token-only.  Passwords are never taken on the command line: from the\n"
     "first line of a file, or from standard input (without echo on a terminal); they are stored\n"
     "as Argon2id hashes.  An admin may read and write every collection; other accounts only the\n"
     "collections (id or alias) they are granted.  rm removes the account's tokens and grants.\n"
     "Changes apply to a running server from its next request.\n"
     "\n"
     "  --admin            the account may read and write every collection\n"
     "  --password-file F  read the password from the first line of F\n"
     "  --password-stdin   read the password from standard input\n"
     "  --no-password      (passwd) remove the password: the account becomes token-only\n"
     "  --read, --write, --read-write, --none   (grant) the rights on COLLECTION\n"
     "  --org ID           the account's organisation: a STIX identity id (identity--<uuid>)\n"
     "  --community        a community account (reads TLP:GREEN)\n"
     "\n"
     "TLP: an account reads TLP:CLEAR; GREEN when it has an organisation or is a community\n"
     "account; AMBER when its organisation produced the object (created_by_ref) or is named in\n"
     "its x_accord_recipients; AMBER+STRICT when its organisation produced it; RED when it is on\n"
     "the collection's RED list (`accord collection red`).  Admins read everything.\n",
     cmd_user},
    {"token", "create, list and revoke API tokens",
     "usage: accord token create [--expires TIMESTAMP] ACCOUNT\n"
     "       accord token list [ACCOUNT]\n"
     "       accord token revoke ID\n"
     "\n"
     "create prints a new API token for ACCOUNT on stdout, once: accord keeps only a hash of it.\n"
     "Clients send it as `Authorization: Bearer TOKEN`.  A token looks like acc_ID_SECRET; ID (16\n"
     "hex digits) names it in `list` and `revoke` and in the audit log.  revoke takes the ID or\n"
     "the whole token and ends it from the next request.\n"
     "\n"
     "  --expires TS   the token stops working at TS (RFC 3339 UTC, e.g. 2027-01-01T00:00:00Z)\n",
     cmd_token},
    {"pattern", "check STIX patterns and match them against observations",
     "usage: accord pattern check [--stix-version 2.0|2.1] PATTERN|-\n"
     "       accord pattern match [--stix-version V] [--explain] --pattern P FILE|-\n"
     "\n"
     "check: exit 0 when the pattern is valid, 2 with the error (byte offset, token, expected).\n"
     "match: evaluates P against the observed-data in FILE (a bundle, or JSON lines in batch\n"
     "mode); exit 0 on a match, 1 on none, 2 on error.  --explain prints the observations of the\n"
     "first binding.\n",
     cmd_pattern},
    {"match", "apply the indicators to telemetry (Zeek, Suricata, plain values)",
     "usage: accord match [--indicators FILE|DIR]... [--summary] [--threads N] [--follow]\n"
     "                    [--event-bytes N] [--now TIMESTAMP] [--sightings]\n"
     "                    [--sightings-interval SECONDS] [--report COLLECTION]\n"
     "                    [--no-progress] [--listen-flows ADDR:PORT] [--listen-dnstap PATH]\n"
     "                    [--listen-seconds S] [--decode] [--field-map FILE] INPUT...\n"
     "\n"
     "Matches telemetry against the active indicators of the store (latest version, not\n"
     "revoked, valid now), or against the indicators of STIX files with --indicators.  INPUT is\n"
     "a file (plain or .gz), a directory (its regular files, recursively, sorted by name;\n"
     "hidden ones left out) or - for stdin: JSON lines (Zeek JSON logs, Suricata eve.json,\n"
     "recognised by their keys) or plain text, one value per line (address, domain name, URL,\n"
     "e-mail address or digest).  Simple patterns (addresses, CIDRs, domain names and\n"
     "LIKE '%.suffix', URLs, e-mail addresses, file and certificate hashes) are matched by\n"
     "specialised tables; every other pattern by the pattern engine, per event.\n"
     "\n"
     "Each match is one JSON line: time, input, field, value, indicators (id, name, and labels\n"
     "and TLP marking when they have them) and the first bytes of the event.  Malformed lines\n"
     "are reported on stderr as FILE:LINE: reason and skipped; so are indicators of\n"
     "--indicators files with an invalid pattern (FILE:LINE: id: reason; counted, not used);\n"
     "totals go to stderr at the end.\n"
     "\n"
     "  --indicators P   STIX bundle, JSON lines or .gz file, or a directory of them\n"
     "                   (repeatable; default: the store)\n"
     "  --field-map F    also read the JSON keys named in F, lines of PATH = ROLE such as\n"
     "                   source.ip = src-ip (syntax and roles: include/accord_match.h)\n"
     "  --summary        print one line per matched indicator with its count instead\n"
     "  --threads N      matching threads (default 1); output order is kept\n"
     "  --follow, -f     keep reading the inputs as they grow (rotation by rename or\n"
     "                   copytruncate followed) until SIGINT or SIGTERM\n"
     "                   (with --sightings, each interval is written within about a second\n"
     "                   of its end, and the open ones at SIGINT or SIGTERM)\n"
     "  --event-bytes N  bytes of the event to include (default 512, 0 = none)\n"
     "  --now TS         evaluate validity at TS instead of the current time\n"
     "  --sightings      also store STIX 2.1 sightings: per indicator and interval, the count\n"
     "                   and first/last event time, sighted by this node's identity (one\n"
     "                   identity object per data directory, created on first use)\n"
     "  --sightings-interval S  interval of one sighting in seconds (default 3600)\n"
     "  --report C       store the sightings in collection C (id or alias) so TAXII clients\n"
     "                   see them; implies --sightings (default: the default collection)\n"
     "  --no-progress    no progress line (shown on stderr when it is a terminal and the\n"
     "                   matches do not go to it too)\n"
     "\n",
     cmd_match}, /* its help goes on in usage_more, below: flows and DNS, reloads, exit codes */
    {"member", "this node's organisation: identity and Ed25519 keys",
     "usage: accord member init --name ORG [--root-out PATH]\n"
     "       accord member show [IDENTITY]\n"
     "       accord member rotate --signing|--node [--root PATH]\n"
     "       accord member revoke KEYID [--root PATH]\n"
     "\n"
     "init creates this node's organisation: a STIX identity whose key list (a property\n"
     "extension) holds a root key, a signing key and a node key, the latter two delegated by\n"
     "the root key, and the whole identity signed by it.  Seeds go to DATA/keys/*.seed (mode\n"
     "0600; an existing node.seed is adopted); --root-out writes the root seed elsewhere, to\n"
     "keep it offline.  rotate retires the active signing or node key and delegates a new one;\n"
     "revoke marks a key compromised: signatures by it are refused from then on.  Both write a\n"
     "new identity version signed by the root key (--root PATH when it is kept elsewhere).\n"
     "show prints `identity<TAB>keyid<TAB>purpose<TAB>status<TAB>since` per key.\n",
     cmd_member},
    {"verify", "say who produced each object: authored, endorsed, unverified or invalid",
     "usage: accord verify [--all-versions] FILE|ID|-\n"
     "\n"
     "Checks the signatures (the accord signature extension) of every object in FILE, or of the\n"
     "stored object ID (its latest version, or every one), against the members' keys in the\n"
     "store and the identities earlier in FILE, and prints `id<TAB>modified<TAB>status`:\n"
     "  authored    a valid signature by the organisation named in created_by_ref\n"
     "  endorsed    valid signatures, by other members only\n"
     "  unverified  no signature, or only by keys this node does not know\n"
     "  invalid     with the reason: content changed after signing, a key that is not the\n"
     "              signer's, a key compromised before the object was accepted here\n"
     "\n"
     "Exit: 0 none invalid, 3 some invalid, 1 I/O or store error.\n",
     cmd_verify},
    {"sign", "sign objects with this node's organisation, one by one or in batches",
     "usage: accord sign [--batch N] [-o|--output OUT] [--quiet] FILE|-\n"
     "\n"
     "Writes a bundle of FILE's objects, each signed with this node's organisation (accord member\n"
     "init; the signing key in DATA/keys), in their RFC 8785 form, to stdout or OUT (replaced only\n"
     "when every object was signed).  --batch N: one signature per N objects over the RFC 6962\n"
     "Merkle root of their hashes, each object carrying its inclusion path (verifiers check one\n"
     "signature per batch); otherwise one signature per object.  Signatures already on an object\n"
     "stay; identities with key lists pass unchanged.  An invalid object stops the run (exit 2).\n",
     cmd_sign},
    {"jcs", "print a JSON document's RFC 8785 canonical form (the bytes accord signs)",
     "usage: accord jcs [FILE|-]\n"
     "\n"
     "Prints the RFC 8785 (JSON Canonicalization Scheme) form of the JSON document in FILE, or\n"
     "standard input: no whitespace, object members sorted by the UTF-16 code units of their\n"
     "keys, minimal string escapes, numbers as ECMAScript prints doubles.  Exactly those bytes\n"
     "are written, without a trailing newline, so other tools can reproduce and hash what\n"
     "accord signs.\n"
     "\n"
     "Rejected (exit 2, with the byte offset): invalid JSON or UTF-8, duplicate keys, lone\n"
     "surrogates, numbers beyond the range of a double (1e400), integer literals whose\n"
     "magnitude exceeds 2^53.  Exit 1 on I/O errors.\n",
     cmd_jcs},
    {"audit", "the tamper-evident audit log: checkpoints, export, offline verify, proofs",
     "usage: accord audit export DIR          write the log and its signed checkpoints to DIR\n"
     "       accord audit verify [--key K] DIR check an export offline (no store needed)\n"
     "       accord audit prove SEQ            RFC 9162 inclusion proof of record SEQ\n"
     "       accord audit consistency OLD NEW  RFC 9162 consistency proof between checkpoints\n"
     "       accord audit check [--key K] FILE check a printed proof offline\n"
     "       accord audit checkpoint           sign a checkpoint of the whole log now\n"
     "       accord audit list                 the checkpoints: size and root\n"
     "       accord audit key                  the node key's verifier key (for --key)\n"
     "\n"
     "Every change to the store appends one record (object accepted, rejected, conflict; accounts,\n"
     "tokens, collections, allow-lists ...).  Records are the leaves of an RFC 6962 Merkle tree;\n"
     "the node key (DATA/keys/node.seed, created on first use) signs a C2SP checkpoint every\n"
     "1,000 records, every 60 s while `accord serve` runs, at its shutdown, and at each export.\n"
     "\n"
     "verify names the first bad record (edited, missing, out of order), says \"truncated\" when\n"
     "the records stop short of a checkpoint and \"fork\" for inconsistent checkpoints.  --key K\n"
     "pins the signer: a verifier key (name+keyid+base64, from `accord audit key`) or a file of\n"
     "them; without it the keys file of the export is trusted.  Exit 0 intact, 1 not.  Records\n"
     "after the latest checkpoint are reported as covered by none (\"NOT COVERED\" when they match\n"
     "leaves.bin, \"NOT CHECKED\" past its end); without leaves.bin, the checkpoint ranges checked\n"
     "only as a whole are named.\n",
     cmd_audit},
    {"roster", "the coalition's members: propose, vote, admit, air-gapped signing",
     "usage: accord roster create --threshold N IDENTITY-FILE...   version 1 (pinned here)\n"
     "       accord roster pin HASH                    pin version 1 made elsewhere\n"
     "       accord roster propose [--add IDENTITY-FILE] [--remove ORG] [--threshold N]\n"
     "                             [--expires TS]      propose version N+1\n"
     "       accord roster vote [HASH] [--root SEED]   vote as this node's organisation\n"
     "       accord roster status                      current version, proposals, votes\n"
     "       accord roster resolve HASH                after an equivocation: HASH stands\n"
     "       accord roster export [HASH]               a version and its votes, as JSON\n"
     "       accord roster sign --root SEED --member ID EXPORT-FILE\n"
     "                                                 vote offline (no store): prints the vote\n"
     "       accord roster import FILE|-               a version, an export, or a vote\n"
     "       accord roster import-signature FILE|-     the vote `roster sign` printed\n"
     "\n"
     "A roster version lists the members (identity, name, root keys), the threshold and when the\n"
     "vote on it ends.  Version N+1 takes effect when at least threshold(N) distinct members of N\n"
     "voted for that exact proposal with a root key, every member it adds voted too, before its\n"
     "expires, and threshold(N+1) is more than half its members.  Two versions N+1 that both reach\n"
     "quorum are recorded as equivocation, and governance stops.  IDENTITY-FILE is an identity\n"
     "with a key list (`accord get IDENTITY-ID` on the member's node).  ORG: identity id or name.\n"
     "status shows a proposal whose vote ended without quorum as expired; an import or a vote of\n"
     "what is stored already says \"already recorded\" and changes nothing.  Without HASH, vote\n"
     "and export take the open proposal (an expired one is not open; export: else the current\n"
     "version).\n",
     cmd_roster},
    {"misp", "import MISP events (files, directories, stdin) and follow MISP feeds",
     "usage: accord misp import [--strict] [--collection C] [--quiet] FILE|DIR|- ...\n"
     "       accord misp convert FILE|-\n"
     "       accord misp feed add [--ca-file PEM] [--pin sha256//BASE64] NAME DIR|URL\n"
     "       accord misp feed list | remove NAME | pull [--quiet] [NAME]\n"
     "\n"
     "import: reads MISP event JSON ({\"Event\": ...}, a list of them, {\"response\": [...]},\n"
     "also .gz; a directory recursively) and stores it as STIX 2.1 (docs/MISP.md): the event as\n"
     "a report, to_ids attributes and objects as indicators, the others as observed-data, galaxies\n"
     "as SDOs with relationships, tlp tags as TLP 2.0 markings, sightings as sightings.  Ids come\n"
     "from the MISP uuids: a re-import writes nothing, a newer event timestamp new versions.\n"
     "Each event is one transaction; problems name the file, event uuid and attribute path.\n"
     "  --strict   any bad attribute or invalid object rejects the whole file\n"
     "convert: prints the STIX objects as JSON lines, storing nothing.\n"
     "feed: follows MISP feeds (manifest.json + EVENT.json), fetching only events whose\n"
     "manifest timestamp is newer than the stored report; resumable and idempotent.  URLs are\n"
     "https:// (--ca-file, --pin), http:// to a loopback host, or a directory.\n"
     "\n"
     "Exit: 0 all imported, 3 some attributes/events skipped or rejected, 4 --strict rejected\n"
     "an input, 1 I/O or store error.\n",
     cmd_misp},
    {"nats", "matching spread over hosts with NATS JetStream: setup, status, snapshot, collect",
     "usage: accord nats setup   --nats URL [--max-bytes N] [--dup-window S] [--ack-wait S]\n"
     "                           [--max-deliver N] [--max-ack-pending N] [--replicas N]\n"
     "       accord nats status  --nats URL [--wait-drained S]\n"
     "       accord nats snapshot --nats URL [--indicators PATH]...\n"
     "       accord nats collect --nats URL [--db FILE] [--print] [--idle S] [--drain] [--sightings]\n"
     "                           [--report COLLECTION] [--sightings-every S] [--sightings-interval S]\n"
     "       accord nats send    --nats URL SUBJECT [FILE] [--header NAME:VALUE]... [--msg-id ID]\n"
     "\n"
     "setup creates (or updates) the tenant's streams ACCORD_TEL_T (work queue of telemetry\n"
     "chunks, discard new when full, duplicate window), ACCORD_RES_T (results), ACCORD_DLQ_T\n"
     "(dead letters), the shared ACCORD_SNAP (indicator snapshots), the consumers `workers` and\n"
     "`collector` and the KV bucket accord_snapshot; running it again changes nothing.  status prints messages, lag,\n"
     "redeliveries and dead letters (--wait-drained: once no chunk is queued or in flight).  snapshot publishes the active indicators of the store (or\n"
     "of --indicators files) as a new version for the workers, in parts of under 1 MiB, with\n"
     "its SHA-256 in KV accord_snapshot/current.  collect turns results into matches in\n"
     "DATA/nats-results.db exactly once per chunk and, with --sightings or --report, into STIX\n"
     "sightings in the store (--drain: until every result is taken).  send publishes one\n"
     "message as it is (diagnostics).\n"
     "\n"
     "Connection options (every NATS command): --nats URL[,URL...]  --nats-creds FILE (JWT +\n"
     "nkey)  --nats-nkey SEEDFILE  --nats-ca FILE (TLS)  --nats-cert FILE --nats-key FILE\n"
     "--tenant NAME (streams ACCORD_*_NAME, subjects accord.tel.NAME.*, accord.res.NAME;\n"
     "default \"default\").\n",
     cmd_nats},
    {"publish", "cut telemetry into chunks on a NATS JetStream work queue",
     "usage: accord publish --nats URL [--source ID] [--chunk-kib N] [--window N] [--tenant T]\n"
     "                      FILE|DIR|-...\n"
     "\n"
     "Cuts each input (plain or gzip; a directory: its files in name order) into chunks ending\n"
     "at a line end, of at most N KiB (512), published to accord.tel.TENANT.SOURCE with the id\n"
     "SOURCE:OFFSET, so publishing the same input again (a restarted producer) adds nothing.\n"
     "SOURCE is --source or made from the path; standard input needs --source.  A full stream\n"
     "makes the producer wait.  Up to --window chunks (8) wait for the server's acknowledgement\n"
     "at once; one refused or not acknowledged is sent again.  Connection options: see accord\n"
     "help nats.\n",
     cmd_publish},
    {"worker", "match telemetry chunks from NATS JetStream (run any number, anywhere)",
     "usage: accord worker --nats URL [--batch N] [--idle S] [--drain] [--event-bytes N] [--now TS]\n"
     "\n"
     "Takes chunks from the shared consumer `workers`, matches them against the snapshot that\n"
     "KV accord_snapshot/current names (swapped between chunks when it changes), publishes the\n"
     "matches to accord.res.TENANT and then acknowledges the chunk.  A chunk delivered the\n"
     "consumer's max-deliver times goes to accord.dlq.TENANT.  --idle S: exit after S seconds\n"
     "without a chunk (default: run until SIGINT/SIGTERM); --drain: exit once the queue is empty\n"
     "and no chunk is in flight.  --batch N: chunks fetched at once (default 4).  Connection\n"
     "options: see accord help nats.\n",
     cmd_worker},
    {"help", "show help for accord or a command", "usage: accord help [COMMAND]\n", cmd_help},
    {"version", "print the version", "usage: accord version\n", cmd_version},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

/* The rest of the help texts longer than one string literal may be (C11 promises 4095 bytes),
 * printed after the command's usage. */
static const struct {
    const char *name, *text;
} usage_more[] = {
    {"match",
"Flows and DNS: an INPUT that is a pcap file (NetFlow v5/v9 or IPFIX datagrams), an\n"
     "IPFIX file (RFC 5655) or a dnstap Frame Streams file (.gz too) is recognised by its\n"
     "first bytes; what is matched and counted there: docs/TELEMETRY.md.\n"
     "  --listen-flows A:P  collect NetFlow/IPFIX over UDP on A:P (one SO_REUSEPORT socket per\n"
     "                   --threads); counters and kernel drops are reported at the end\n"
     "  --listen-dnstap P  accept dnstap Frame Streams connections on unix socket P\n"
     "  --listen-seconds S  stop listening after S seconds (default: at SIGINT/SIGTERM);\n"
     "                   with --sightings, each interval is written as with --follow\n"
     "  --nats URL       listeners' records to NATS for accord worker (help nats)\n"
     "  --decode         print the decoded flow records / dnstap messages as JSON lines\n"
     "                   instead of matching\n"
     "\n"
     "The indicators are reloaded while running, without losing or repeating an event, when\n"
     "the store or an --indicators file changes (looked at every second; a file once it has\n"
     "settled, whole: docs/TELEMETRY.md) and on SIGHUP;\n"
     "validity is evaluated as each chunk of input is matched.  The --listen-* collectors\n"
     "keep the indicators they started with (a reload says so).\n"
     "\n"
     "Exit: 0 done, 3 some lines were malformed or some indicators invalid, 1 I/O or store\n"
     "error (an input that cannot be read, a cut .gz), 2 usage error.\n"},
};

static const cli_command *find_command(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

const char *cli_data_dir(void)
{
    if (data_dir)
        return data_dir;
    const char *env = getenv("ACCORD_DATA");
    return env && *env ? env : "./accord-data";
}

accord_store *cli_open_store(unsigned flags)
{
    accord_store *s = NULL;
    accord_error err = {0};
    if (accord_store_open(cli_data_dir(), flags, &s, &err) != 0) {
        fprintf(stderr, "accord: %s\n", err.msg);
        return NULL;
    }
    return s;
}

void cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "accord %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_is_help(const char *arg)
{
    return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

int cli_has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), k = strlen(suf);
    return n >= k && strcmp(s + n - k, suf) == 0;
}

int cli_grow_array(void **v, size_t *cap, size_t need, size_t size)
{
    size_t c = *cap ? *cap : 64;
    void *nv;
    if (need <= *cap)
        return 0;
    while (c < need)
        c *= 2;
    if (!(nv = realloc(*v, c * size)))
        return -1;
    *v = nv;
    *cap = c;
    return 0;
}

/* Prints c's help text to f. */
static void put_usage(const cli_command *c, FILE *f)
{
    fputs(c->usage, f);
    for (size_t i = 0; i < sizeof(usage_more) / sizeof(usage_more[0]); i++)
        if (strcmp(usage_more[i].name, c->name) == 0)
            fputs(usage_more[i].text, f);
}

int cli_usage(const char *cmd)
{
    const cli_command *c = find_command(cmd);
    if (c)
        put_usage(c, stderr);
    return EXIT_USAGE;
}

static void print_overview(FILE *f)
{
    fprintf(f,
            "accord %s - a coalition's node for sharing and applying threat intelligence\n\n"
            "usage: accord [--data DIR] COMMAND [ARGS]\n\ncommands:\n",
            ACCORD_VERSION_STRING);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nThe store lives in --data DIR, else $ACCORD_DATA, else ./accord-data.\n"
               "`accord help COMMAND` or `accord COMMAND --help` shows a command's options.\n");
}

static int cmd_help(int argc, char **argv)
{
    if (argc < 2) {
        print_overview(stdout);
        return EXIT_OK;
    }
    const cli_command *c = find_command(argv[1]);
    if (!c) {
        cli_error("help", "no command \"%s\"; `accord help` lists them", argv[1]);
        return EXIT_USAGE;
    }
    put_usage(c, stdout);
    return EXIT_OK;
}

static int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("accord %s\n", ACCORD_VERSION_STRING);
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--data") == 0 && i + 1 < argc) {
            data_dir = argv[++i];
        } else if (strncmp(argv[i], "--data=", 7) == 0) {
            data_dir = argv[i] + 7;
        } else if (cli_is_help(argv[i])) {
            print_overview(stdout);
            return EXIT_OK;
        } else if (strcmp(argv[i], "--version") == 0) {
            return cmd_version(0, NULL);
        } else {
            fprintf(stderr, "accord: unknown option %s\n\n", argv[i]);
            print_overview(stderr);
            return EXIT_USAGE;
        }
    }
    if (i >= argc) {
        print_overview(stderr);
        return EXIT_USAGE;
    }
    const cli_command *c = find_command(argv[i]);
    if (!c) {
        fprintf(stderr, "accord: no command \"%s\"; `accord help` lists them\n", argv[i]);
        return EXIT_USAGE;
    }
    for (int j = i + 1; j < argc; j++) {
        if (strcmp(argv[j], "--") == 0)
            break;
        if (cli_is_help(argv[j])) {
            put_usage(c, stdout);
            return EXIT_OK;
        }
    }
    return c->run(argc - i, argv + i);
}
