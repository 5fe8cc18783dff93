/*
 * store.c - the STIX object store: every version of every object, in one SQLite database.
 *
 * This is the only file that includes sqlite3.h.  Its design follows from one measured fact
 * (docs/ARCHITECTURE.md): what costs in SQLite is every random-order B-tree key touched per object
 * and rewritten at each commit.  So the per-object path only appends:
 *
 *   - objects are appended in added order (seq = INTEGER PRIMARY KEY, strictly increasing);
 *   - audit records are appended in the same transaction;
 *   - the three lookup indexes (id -> versions, value -> objects, version -> content hash) are not
 *     B-tree indexes but sorted runs: each transaction sorts its index entries in memory and
 *     appends them as one run of fixed-size chunks; runs are merged four at a time into the next
 *     level (an LSM tree stored in SQLite rows), inside the transaction that makes the fourth run,
 *     so every committed state is complete and consistent;
 *   - duplicates are found in memory: the writer keeps a set of stored ids and a map of stored
 *     versions to content hashes, loaded from the runs at its first transaction and brought up to
 *     date at each later one from the rows other processes appended meanwhile.
 *   - a bulk writer's rows (objects, members, audit, indicators, export_rows) may be deferred to
 *     one INSERT ... SELECT per table (store_rows.c: when, and which statements flush them).
 *
 * The schema (PRAGMA user_version = SCHEMA_VERSION; migrations[] upgrades older stores):
 *
 *   table objects           one row per stored version
 *     seq      INTEGER PK   added order; never reused
 *     added    INTEGER      date_added, microseconds since the epoch, strictly increasing with seq
 *     id       TEXT         "type--uuid"
 *     type     TEXT         STIX type (indexed with seq: objects_type)
 *     modified TEXT         the version's modified, '' when the object has none
 *     spec     TEXT         '2.1' or '2.0'
 *     flags    INTEGER      bit 0 revoked, bit 1 superseded (a newer version is stored),
 *                           bit 2 not first (an older version is stored)
 *     chash    INTEGER      XXH3-64 of body
 *     body     BLOB         the object as compact JSON, bytes as received less whitespace
 *     tlp      INTEGER      its most restrictive TLP marking (ACCORD_TLP_*), -1 unmarked (tlp.h)
 *     tlp_org  TEXT         created_by_ref when tlp is GREEN, AMBER, AMBER+STRICT or unmarked
 *     tlp_to   TEXT         AMBER or unmarked: x_accord_recipients, space-separated, or NULL
 *     tlp_dep  TEXT         sightings: sighting_of_ref and observed_data_refs, or NULL
 *
 *   indexes objects_rel_source, objects_rel_target   relationship rows (partial: type =
 *                           'relationship') by json_extract(body, '$.source_ref' / '$.target_ref')
 *                           and seq: the relationships of an object without a scan (schema 7)
 *
 *   table indicators        the columns exports read, one row per stored indicator version,
 *                           written with its objects row (so a selection never reads bodies)
 *     seq      INTEGER PK   objects.seq
 *     added, id, modified, spec, flags, tlp, tlp_org, tlp_to     copies of the objects row's
 *                           (flags follows objects.flags: trigger indicators_flags)
 *     valid_from  INTEGER   µs; NULL when absent; INT64_MAX when unreadable (never active)
 *     valid_until INTEGER   µs; NULL when absent (valid forever)
 *     confidence  INTEGER   0-100, NULL when absent or out of range
 *     pattern_type, pattern, name  TEXT   the properties as strings (JSON escapes decoded), NULL
 *                           when absent or not strings
 *     created_by  TEXT      created_by_ref, NULL when absent or not a string (schema 12)
 *     otype    TEXT         the pattern's first observable type (store_ind_otype), NULL without
 *                           a pattern (schema 13; indexes indicators_type and, with
 *                           valid_until, indicators_type_vu)
 *     idh      INTEGER      store_id_hash(id) (schema 13; index indicators_id: the sighted join)
 *     srch     INTEGER      store_id_hash(created_by), NULL without one (schema 13; index
 *                           indicators_src: the console's source filter)
 *                           The four indexes and indicators_vu hold the latest versions only;
 *                           none has a text key longer than a type name (a random text key of
 *                           ~50 bytes cost a page rewritten per indicator at each commit)
 *
 *   table export_rows       one row per indicators row, packed: what a selection of the latest
 *                           versions reads, as one value (schema 10; a row of many columns costs a
 *                           selection more to decode than all its other work)
 *     seq      INTEGER PK   objects.seq
 *     flags    INTEGER      objects.flags (trigger export_rows_flags)
 *     row      BLOB         written with the indicators row (xrow_pack), little-endian:
 *                             offset size  meaning
 *                             0      1     layout, XROW_LAYOUT (1)
 *                             1      1     bits XROW_*: spec 2.0, pattern_type present and
 *                                          whether it is 'stix', pattern present, name present
 *                             2      1     tlp, signed (ACCORD_TLP_*, -1 unmarked)
 *                             3      1     confidence 0-100, 255 when absent
 *                             4      4     bytes of id (I)
 *                             8      4     bytes of pattern (P), 0 when absent
 *                             12     4     bytes of name (N), 0 when absent
 *                             16     8     added (µs)
 *                             24     8     valid_from as in indicators, INT64_MIN when absent
 *                             32     8     valid_until as in indicators, INT64_MAX when absent
 *                             40     I+1   id and a NUL
 *                             41+I   P+1   pattern and a NUL
 *                             42+I+P N+1   name and a NUL
 *
 *   table runs              one row per sorted run
 *     kind, run  PK         kind 0 id index, 1 value index, 2 version index; run number
 *     level                 0 for a transaction's run, L+1 for a merge of four level-L runs
 *     entries, chunks       sizes
 *   table chunks            the runs' entries, CHUNK_ENTRIES per row
 *     kind, run, chunk PK   chunk = 0, 1, ... in key order
 *     first, last           the chunk's first and last key (keys compare as signed 64-bit)
 *     data                  entries of 16 bytes: key int64, val int64, little-endian, sorted
 *                           kind 0: key XXH3(id), val seq; kind 1: key XXH3(value), val seq;
 *                           kind 2: key vkey(id, modified), val seq
 *
 *   table audit             the change log, appended in the transaction of the change
 *     seq PK, ts (µs), action, object_seq (objects.seq or NULL), ref (an id), detail
 *     leaf     BLOB         the record's Merkle leaf hash when it was written (src/audit.c has
 *                           the leaf bytes); seq runs 1, 2, 3 ... without gaps
 *   table checkpoints       signed tree heads of the audit log (store_audit.c)
 *     size PK               records covered (seq 1 .. size); ts (µs)
 *     root, frontier        the tree head; the right edge of the tree (audit_frontier hashes)
 *     note, vkey            the C2SP signed note; the verifier key that signed it
 *   table roots             TAXII API roots: name PK, title, description, max_content_length
 *   table collections       cid PK (never reused, so no grant outlives its collection), id (UUID)
 *                           UNIQUE, root, alias (unique per root), title,
 *                           description, created
 *   table members           which versions are in which collection, in collection added order
 *     coll, added PK        collection; date_added there (µs, from the store's one clock)
 *     seq                   objects.seq (index members_seq(seq, coll))
 *     type                  objects.type, for the (coll, type, added) index of type filters
 *     flags                 bit 0 revoked, bit 1 superseded, bit 2 not first, within this
 *                           collection
 *   table accounts          name PK, pwhash (Argon2id string, NULL = token-only), is_admin,
 *                           created, disabled, org (identity id or NULL), community
 *                           (store_account.c)
 *   table tokens            id PK (public prefix), account, hash (BLAKE2b-256 of the secret)
 *                           UNIQUE, created, expires (NULL = never), revoked (NULL = live)
 *   table rights            account, coll PK; can_read, can_write
 *   table red               coll, account PK: the accounts cleared for TLP:RED in a collection
 *   table statuses          TAXII status resources of finished POSTs: id PK (UUID), root,
 *                           account, created, body (the status resource as JSON)
 *   table clock             one row: the last date_added handed out, so added values increase
 *                           strictly across objects, collections and processes
 *   view signatures         who signed which version: one row per entry of the signature list in
 *                           a version's body (provenance.c; SIGNATURES_VIEW, schema 14; a table
 *                           written beside the body before)
 *     object_seq, keyid     objects.seq; the signing key's id (member.h), one per key
 *     signer                the signer's identity id
 *     sig                   the base64 Ed25519 signature (of the object, or of its batch root)
 *     added                 objects.added, the version's date_added (µs); an endorsement rewrites
 *                           objects.body in place (same seq and objects.added, audit "signature
 *                           added", a new members.added in each collection: member_readd) and
 *                           keeps objects.chash, which for a signed object hashes its content
 *                           without the signature list
 *   table rosters           roster versions: hash PK (SHA-256 of the canonical JSON), id, version,
 *                           previous, body, state (current|superseded|proposed|equivocation),
 *                           added                                  (store_roster.c)
 *   table roster_votes      roster, keyid PK; member, sig, added (when this node accepted it)
 *   table sightings         sighting versions for the console's series (store_console.c,
 *                           schema 8), kept by the insert path (schema 9; triggers on
 *                           objects and members before, see migrations[]): coll 0 the
 *                           store-wide row (objects' added, seq, flags), else one per collection
 *                           membership (members' added, flags); t (seconds: first_seen,
 *                           created or added), n (count), of_ref (sighting_of_ref; index
 *                           sightings_of, with added and flags: an indicator's last sighting
 *                           and count from the index alone)
 *   table sighted           of_ref PK, last, n: each sighted object's newest latest sighting
 *                           version (added) and their count (index sighted_last), and table
 *                           sighting_hours: coll, hour PK (start, seconds), sightings, n: each
 *                           collection's latest unrevoked sightings per hour; both kept by
 *                           the insert path for a new sightings row (schema 12; an INSERT
 *                           trigger before) and by triggers on sightings' UPDATE and DELETE
 *                           (schema 11)
 *   table thread_reads      account, case_id, topic PK; seen: the last message seq of a case
 *                           thread the account has read in the console (store_console.c)
 *   table sessions          the web console's logged-in sessions (store_console.c, schema 7)
 *     hash     BLOB PK      BLAKE2b-256 of the session id (the id itself is never stored)
 *     account               the account logged in; created, used (µs): login and last use
 *                           (indexed: sessions_used)
 *   table meta              key/value: created, audit_origin (the log's checkpoint origin),
 *                           roster_pin, roster_halt, ...
 *   table allowlist         values exports never contain (store_allow.c): list, kind (string,
 *                           substring, hostname, cidr, regex), value PK
 *   table feeds             feeds `accord serve` publishes (store_feed.c): name PK, args (the
 *                           export words as a JSON array), changed (µs)
 *   tables cases, case_parts, case_vendors, case_products, case_msgs, case_events, case_links,
 *          case_docs, vendor_profiles: disclosure cases (schema 5; case_store.c's table)
 *
 * Invariants: a version (id, modified instant) is stored at most once, and is in a collection at
 * most once; of the versions of an id, exactly the one with the greatest modified has the
 * superseded bit clear, in objects and within each collection's members; every object row has at
 * least one members row; seq and added increase together; every date_added is greater than every
 * one committed before it, so a reader paging by date_added never misses a later commit; every
 * index entry refers to a row committed in the same transaction or earlier.
 *
 * Durability: WAL with synchronous=NORMAL: a committed transaction survives a crash of the
 * process (kill -9); a power failure may lose the last transactions but never corrupts the store.
 *
 * It does not: parse or validate JSON (the caller hands in validated objects and their TLP
 * labels; only the migration that added the labels parses stored bodies), decide TLP clearance
 * (tlp.c; store_read.c applies it inside scans), or delete versions.
 */
#include "store_int.h"

#include "audit.h"
#include "provenance.h"
#include "sign.h"
#include "tlp.h"
#include "util/buf.h"
#include "util/timestamp.h"
#include "util/u64map.h"
#include "values.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <xxhash.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the run chunk format is little-endian; add byte swapping for this host"
#endif
#define SCHEMA_VERSION 14

/* A sighting's time for the console's series, in seconds: first_seen, else created, else when
 * it was stored (SQLite's unixepoch: a STIX timestamp's fraction is dropped, which no hour or day
 * bucket sees); and its count: STIX bounds it to 0..999,999,999, anything else counts once.
 * P is the row's prefix ("NEW." in a trigger). */
#define SIGHTING_TS(P, K)                                                                          \
    "(SELECT unixepoch(v) FROM (SELECT json_extract(" P "body, '$." K "') AS v)"                   \
    " WHERE typeof(v) = 'text' AND v GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T*')"
#define SIGHTING_T(P)                                                                              \
    "coalesce(" SIGHTING_TS(P, "first_seen") ", " SIGHTING_TS(P, "created") ", " P "added / 1000000)"
#define SIGHTING_N(P)                                                                              \
    "coalesce((SELECT v FROM (SELECT json_extract(" P "body, '$.count') AS v)"                     \
    " WHERE typeof(v) = 'integer' AND v BETWEEN 0 AND 999999999), 1)"

/* The sighted row of the object named by REF, from the sightings_of index (after its rows
 * changed). */
#define SIGHTED_OF(REF)                                                                            \
    " INSERT INTO sighted SELECT of_ref, max(added), count(*) FROM sightings INDEXED BY"          \
    " sightings_of WHERE of_ref = " REF " AND coll = 0 AND (flags & 2) = 0 GROUP BY of_ref;"
/* The start (seconds) of the hour of a sightings row's time t (floored, also before 1970). */
#define HOUR_OF(P) "(" P "t - ((" P "t % 3600) + 3600) % 3600)"
/* Adds the sightings row P ("NEW." / "OLD.") to its collection's hour, SIGN ("+", "-", or an
 * expression ending in "*") once. */
#define HOURS_ADD(P, SIGN)                                                                         \
    " INSERT INTO sighting_hours VALUES(" P "coll, " HOUR_OF(P) ", " SIGN " 1, " SIGN " " P "n)"   \
    " ON CONFLICT(coll, hour) DO UPDATE SET sightings = sightings + excluded.sightings,"          \
    " n = n + excluded.n;"

/* The signatures view: one row per entry of a version's signature list (provenance.c), read
 * from its body; a body without the extension's id is not parsed.  keyid, signer and sig (base64)
 * as in the list; added is the version's date_added (an endorsement's time is in its audit
 * record).  For operators' queries and store_sig_has; a scan parses every signed body. */
#define SIG_LIST_PATH "'$.extensions.\"" PROV_SIG_EXT "\".signatures'"
#define SIGNATURES_VIEW                                                                            \
    "CREATE VIEW signatures(object_seq, keyid, signer, sig, added) AS SELECT o.seq,"               \
    " json_extract(j.value, '$.keyid'), json_extract(j.value, '$.signer_ref'),"                    \
    " json_extract(j.value, '$.sig'), o.added FROM objects o,"                                     \
    " json_each(CAST(o.body AS TEXT), " SIG_LIST_PATH ") j"                                        \
    " WHERE instr(o.body, '\"" PROV_SIG_EXT "\"') > 0;"

static const char *const migrations[] = {
    /* 0 -> 1 */
    "CREATE TABLE objects(seq INTEGER PRIMARY KEY, added INTEGER NOT NULL, id TEXT NOT NULL,"
    " type TEXT NOT NULL, modified TEXT NOT NULL, spec TEXT NOT NULL, flags INTEGER NOT NULL,"
    " chash INTEGER NOT NULL, body BLOB NOT NULL);"
    "CREATE INDEX objects_type ON objects(type, seq);"
    "CREATE TABLE runs(kind INTEGER NOT NULL, run INTEGER NOT NULL, level INTEGER NOT NULL,"
    " entries INTEGER NOT NULL, chunks INTEGER NOT NULL, PRIMARY KEY(kind, run)) WITHOUT ROWID;"
    "CREATE TABLE chunks(kind INTEGER NOT NULL, run INTEGER NOT NULL, chunk INTEGER NOT NULL,"
    " first INTEGER NOT NULL, last INTEGER NOT NULL, data BLOB NOT NULL,"
    " PRIMARY KEY(kind, run, chunk)) WITHOUT ROWID;"
    "CREATE INDEX chunks_last ON chunks(kind, run, last, chunk);"
    "CREATE TABLE audit(seq INTEGER PRIMARY KEY, ts INTEGER NOT NULL, action TEXT NOT NULL,"
    " object_seq INTEGER, ref TEXT, detail TEXT);"
    "CREATE TABLE signatures(object_seq INTEGER NOT NULL, keyid TEXT NOT NULL, signer TEXT,"
    " sig BLOB NOT NULL, added INTEGER NOT NULL, PRIMARY KEY(object_seq, keyid)) WITHOUT ROWID;"
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value);"
    "CREATE TABLE roots(name TEXT PRIMARY KEY, title TEXT NOT NULL, description TEXT,"
    " max_content_length INTEGER NOT NULL, created INTEGER NOT NULL);"
    "CREATE TABLE collections(cid INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,"
    " root TEXT NOT NULL, alias TEXT, title TEXT NOT NULL, description TEXT,"
    " created INTEGER NOT NULL);"
    "CREATE UNIQUE INDEX collections_alias ON collections(root, alias) WHERE alias IS NOT NULL;"
    "CREATE TABLE members(coll INTEGER NOT NULL, added INTEGER NOT NULL, seq INTEGER NOT NULL,"
    " type TEXT NOT NULL, flags INTEGER NOT NULL, PRIMARY KEY(coll, added)) WITHOUT ROWID;"
    "CREATE INDEX members_type ON members(coll, type, added);"
    "CREATE INDEX members_seq ON members(seq, coll);"
    "CREATE TABLE accounts(name TEXT PRIMARY KEY, pwhash TEXT, is_admin INTEGER NOT NULL,"
    " created INTEGER NOT NULL, disabled INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE tokens(id TEXT PRIMARY KEY, account TEXT NOT NULL, hash BLOB NOT NULL UNIQUE,"
    " created INTEGER NOT NULL, expires INTEGER, revoked INTEGER);"
    "CREATE TABLE rights(account TEXT NOT NULL, coll INTEGER NOT NULL, can_read INTEGER NOT NULL,"
    " can_write INTEGER NOT NULL, PRIMARY KEY(account, coll)) WITHOUT ROWID;"
    "CREATE TABLE statuses(id TEXT PRIMARY KEY, root TEXT NOT NULL, account TEXT,"
    " created INTEGER NOT NULL, body BLOB NOT NULL);"
    "CREATE TABLE clock(one INTEGER PRIMARY KEY CHECK (one = 0), last_added INTEGER NOT NULL);"
    "INSERT INTO clock VALUES(0, 0);"
    "CREATE TABLE allowlist(list TEXT NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL,"
    " PRIMARY KEY(list, kind, value)) WITHOUT ROWID;"
    "CREATE TABLE feeds(name TEXT PRIMARY KEY, args TEXT NOT NULL, changed INTEGER NOT NULL) WITHOUT ROWID;",
    /* 1 -> 2: the audit log becomes a Merkle tree (leaf hashes, signed checkpoints) */
    "ALTER TABLE audit ADD COLUMN leaf BLOB;"
    "CREATE TABLE checkpoints(size INTEGER PRIMARY KEY, ts INTEGER NOT NULL, root BLOB NOT NULL,"
    " frontier BLOB NOT NULL, note TEXT NOT NULL, vkey TEXT NOT NULL);"
    "INSERT OR IGNORE INTO meta(key, value)"
    " VALUES('audit_origin', 'accord.audit/' || lower(hex(randomblob(16))));",
    /* 2 -> 3: TLP labels (tlp.h) beside each version, labelled from the stored bodies; account
     * organisations and community flags; RED lists */
    "ALTER TABLE objects ADD COLUMN tlp INTEGER NOT NULL DEFAULT -1;"
    "ALTER TABLE objects ADD COLUMN tlp_org TEXT;"
    "ALTER TABLE objects ADD COLUMN tlp_to TEXT;"
    "ALTER TABLE objects ADD COLUMN tlp_dep TEXT;"
    "UPDATE objects SET tlp = tlp_label(body, 0), tlp_org = tlp_label(body, 1),"
    " tlp_to = tlp_label(body, 2), tlp_dep = tlp_label(body, 3);"
    "ALTER TABLE accounts ADD COLUMN org TEXT;"
    "ALTER TABLE accounts ADD COLUMN community INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE red(coll INTEGER NOT NULL, account TEXT NOT NULL,"
    " PRIMARY KEY(coll, account)) WITHOUT ROWID;"
    "CREATE INDEX red_account ON red(account, coll);",
    /* 3 -> 4: rosters and votes (store_roster.c) */
    "CREATE TABLE IF NOT EXISTS rosters(hash TEXT PRIMARY KEY, id TEXT NOT NULL,"
    " version INTEGER NOT NULL, previous TEXT, body TEXT NOT NULL, state TEXT NOT NULL,"
    " added INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS roster_votes(roster TEXT NOT NULL, keyid TEXT NOT NULL,"
    " member TEXT NOT NULL, sig BLOB NOT NULL, added INTEGER NOT NULL,"
    " PRIMARY KEY(roster, keyid)) WITHOUT ROWID;",
    /* 4 -> 5: disclosure cases (case_store.c documents these tables); IF NOT EXISTS so that a
     * store whose version number was lowered by hand migrates again */
    "CREATE TABLE IF NOT EXISTS cases(cid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
    " title TEXT NOT NULL, summary TEXT, created INTEGER NOT NULL, embargo_end INTEGER,"
    " embargo_text TEXT, lifted INTEGER, deadline INTEGER, published INTEGER, cve TEXT, cwe TEXT,"
    " cvss3 TEXT, cvss4 TEXT, vuln_id TEXT NOT NULL, revision INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS case_parts(cid INTEGER NOT NULL, account TEXT NOT NULL,"
    " role TEXT NOT NULL, vendor TEXT, added INTEGER NOT NULL, PRIMARY KEY(cid, account))"
    " WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS case_parts_account ON case_parts(account, cid);"
    "CREATE TABLE IF NOT EXISTS case_vendors(vid INTEGER PRIMARY KEY, cid INTEGER NOT NULL,"
    " name TEXT NOT NULL, account TEXT, contact TEXT, status TEXT NOT NULL DEFAULT 'unknown',"
    " statement TEXT, responded INTEGER, added INTEGER NOT NULL, UNIQUE(cid, name));"
    "CREATE TABLE IF NOT EXISTS case_products(pid INTEGER PRIMARY KEY, cid INTEGER NOT NULL,"
    " vendor TEXT NOT NULL, name TEXT NOT NULL, purl TEXT, cpe TEXT, affected TEXT, fixed TEXT,"
    " status TEXT NOT NULL DEFAULT 'unknown', statement TEXT, updated INTEGER,"
    " UNIQUE(cid, vendor, name));"
    "CREATE TABLE IF NOT EXISTS case_msgs(seq INTEGER PRIMARY KEY, cid INTEGER NOT NULL,"
    " topic TEXT NOT NULL, private_vendor TEXT, author TEXT NOT NULL, ts INTEGER NOT NULL,"
    " body TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS case_msgs_cid ON case_msgs(cid, seq);"
    "CREATE TABLE IF NOT EXISTS case_events(seq INTEGER PRIMARY KEY, cid INTEGER NOT NULL,"
    " ts INTEGER NOT NULL, actor TEXT NOT NULL, kind TEXT NOT NULL, detail TEXT);"
    "CREATE INDEX IF NOT EXISTS case_events_cid ON case_events(cid, seq);"
    "CREATE TABLE IF NOT EXISTS case_links(cid INTEGER NOT NULL, kind TEXT NOT NULL,"
    " value TEXT NOT NULL, PRIMARY KEY(cid, kind, value)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS case_docs(cid INTEGER NOT NULL, revision INTEGER NOT NULL,"
    " kind TEXT NOT NULL, name TEXT NOT NULL, date INTEGER NOT NULL, body TEXT NOT NULL,"
    " PRIMARY KEY(cid, revision, kind, name)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS vendor_profiles(vendor TEXT NOT NULL, purl TEXT NOT NULL,"
    " account TEXT, contact TEXT, PRIMARY KEY(vendor, purl)) WITHOUT ROWID;",
    /* 5 -> 6: the indicators table (filled from the stored bodies by ind_backfill) */
    "CREATE TABLE IF NOT EXISTS indicators(seq INTEGER PRIMARY KEY, added INTEGER NOT NULL,"
    " id TEXT NOT NULL, modified TEXT NOT NULL, spec TEXT NOT NULL, flags INTEGER NOT NULL,"
    " tlp INTEGER NOT NULL, tlp_org TEXT, tlp_to TEXT, valid_from INTEGER, valid_until INTEGER,"
    " confidence INTEGER, pattern_type TEXT, pattern TEXT, name TEXT);"
    "CREATE TRIGGER IF NOT EXISTS indicators_flags AFTER UPDATE OF flags ON objects"
    " WHEN NEW.type = 'indicator' BEGIN"
    " UPDATE indicators SET flags = NEW.flags WHERE seq = NEW.seq; END;",
    /* 6 -> 7: relationships by endpoint (built here from the stored rows; the import path needs
     * no code: SQLite keeps expression indexes); console sessions (store_console.c) */
    "CREATE INDEX IF NOT EXISTS objects_rel_source ON objects(json_extract(body, '$.source_ref'),"
    " seq) WHERE type = 'relationship';"
    "CREATE INDEX IF NOT EXISTS objects_rel_target ON objects(json_extract(body, '$.target_ref'),"
    " seq) WHERE type = 'relationship';"
    "CREATE TABLE IF NOT EXISTS sessions(hash BLOB PRIMARY KEY, account TEXT NOT NULL,"
    " created INTEGER NOT NULL, used INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS sessions_used ON sessions(used);",
    /* 7 -> 8: sightings by what they sight and by collection (store_console.c), kept by
     * triggers so the import path needs no code, filled here from the stored rows; the console's
     * per-account read markers of case threads */
    "CREATE TABLE IF NOT EXISTS sightings(coll INTEGER NOT NULL, added INTEGER NOT NULL,"
    " seq INTEGER NOT NULL, flags INTEGER NOT NULL, t INTEGER NOT NULL, n INTEGER NOT NULL,"
    " of_ref TEXT, PRIMARY KEY(coll, added)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS sightings_of ON sightings(of_ref, added, flags) WHERE coll = 0;"
    "CREATE INDEX IF NOT EXISTS indicators_id ON indicators(id);"
    "CREATE TRIGGER IF NOT EXISTS sightings_obj AFTER INSERT ON objects"
    " WHEN NEW.type = 'sighting' BEGIN INSERT INTO sightings VALUES(0, NEW.added, NEW.seq,"
    " NEW.flags, " SIGHTING_T("NEW.") ", " SIGHTING_N("NEW.") ","
    " json_extract(NEW.body, '$.sighting_of_ref'));"
    /* the import adds the version's first membership before its objects row */
    " INSERT OR IGNORE INTO sightings SELECT m.coll, m.added, m.seq, m.flags, g.t, g.n, g.of_ref"
    " FROM members m INDEXED BY members_seq"
    " JOIN sightings g ON g.coll = 0 AND g.added = NEW.added WHERE m.seq = NEW.seq; END;"
    "CREATE TRIGGER IF NOT EXISTS sightings_obj_flags AFTER UPDATE OF flags ON objects"
    " WHEN NEW.type = 'sighting' BEGIN"
    " UPDATE sightings SET flags = NEW.flags WHERE coll = 0 AND added = NEW.added; END;"
    "CREATE TRIGGER IF NOT EXISTS sightings_member AFTER INSERT ON members"
    " WHEN NEW.type = 'sighting' BEGIN INSERT OR IGNORE INTO sightings SELECT NEW.coll, NEW.added,"
    " NEW.seq, NEW.flags, g.t, g.n, g.of_ref FROM objects o JOIN sightings g ON g.coll = 0 AND g.added = o.added WHERE o.seq = NEW.seq;"
    " END;"
    "CREATE TRIGGER IF NOT EXISTS sightings_member_flags AFTER UPDATE OF flags ON members"
    " WHEN NEW.type = 'sighting' BEGIN"
    " UPDATE sightings SET flags = NEW.flags WHERE coll = NEW.coll AND added = NEW.added; END;"
    "CREATE TRIGGER IF NOT EXISTS sightings_member_del AFTER DELETE ON members"
    " WHEN OLD.type = 'sighting' BEGIN"
    " DELETE FROM sightings WHERE coll = OLD.coll AND added = OLD.added; END;"
    "INSERT OR IGNORE INTO sightings SELECT 0, added, seq, flags, " SIGHTING_T("") ", "
    SIGHTING_N("") ", json_extract(body, '$.sighting_of_ref') FROM objects"
    " WHERE type = 'sighting';"
    "INSERT OR IGNORE INTO sightings SELECT m.coll, m.added, m.seq, m.flags, g.t, g.n, g.of_ref"
    " FROM members m JOIN objects o ON o.seq = m.seq"
    " JOIN sightings g ON g.coll = 0 AND g.added = o.added WHERE m.type = 'sighting';"
    "CREATE TABLE IF NOT EXISTS thread_reads(account TEXT NOT NULL, case_id TEXT NOT NULL,"
    " topic TEXT NOT NULL, seen INTEGER NOT NULL, PRIMARY KEY(account, case_id, topic))"
    " WITHOUT ROWID;",
    /* 8 -> 9: the sightings rows of an inserted objects or members row are written by
     * store_put_hashed and member_add (S_SIGHT_*), not by INSERT triggers: SQLite gives every
     * statement on a table with an INSERT trigger a statement journal, a copy of each page it
     * touches, which was a third of the CPU time of a bulk import (callgrind: sqlite3PagerWrite
     * into the in-memory journal).  The UPDATE and DELETE triggers stay (those statements are few) */
    "DROP TRIGGER IF EXISTS sightings_obj; DROP TRIGGER IF EXISTS sightings_member;",
    /* 9 -> 10: export_rows, one packed row per indicators row (written beside it by ind_put, not
     * by a trigger: a statement that fires one keeps a statement journal, which made each
     * indicator's insert cost five times as much), filled here from the indicators table */
    "CREATE TABLE IF NOT EXISTS export_rows(seq INTEGER PRIMARY KEY, flags INTEGER NOT NULL,"
    " row BLOB NOT NULL);"
    "CREATE TRIGGER IF NOT EXISTS export_rows_flags AFTER UPDATE OF flags ON indicators BEGIN"
    " UPDATE export_rows SET flags = NEW.flags WHERE seq = NEW.seq; END;"
    "INSERT OR REPLACE INTO export_rows SELECT seq, flags, ind_row(added, valid_from,"
    " valid_until, confidence, tlp, spec, pattern_type, id, pattern, name) FROM indicators;",
    /* 10 -> 11: the console's indicator filters by observable type and valid_until (latest
     * versions only), each sighted object's last sighting and count (sighted), and each
     * collection's sightings per hour (sighting_hours); kept by triggers on sightings, filled
     * here from its rows; a removed account's read markers and sessions go with it */
    "CREATE INDEX IF NOT EXISTS indicators_type ON indicators(" STORE_IND_TYPE_V11 ")"
    " WHERE (flags & 2) = 0;"
    "CREATE INDEX IF NOT EXISTS indicators_type_vu ON indicators(" STORE_IND_TYPE_V11 ", valid_until)"
    " WHERE (flags & 2) = 0;"
    "CREATE INDEX IF NOT EXISTS indicators_vu ON indicators(valid_until) WHERE (flags & 2) = 0;"
    "CREATE TABLE IF NOT EXISTS sighted(of_ref TEXT PRIMARY KEY, last INTEGER NOT NULL,"
    " n INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS sighted_last ON sighted(last);"
    "CREATE TABLE IF NOT EXISTS sighting_hours(coll INTEGER NOT NULL, hour INTEGER NOT NULL,"
    " sightings INTEGER NOT NULL, n INTEGER NOT NULL, PRIMARY KEY(coll, hour)) WITHOUT ROWID;"
    "CREATE TRIGGER IF NOT EXISTS sighted_ins AFTER INSERT ON sightings"
    " WHEN NEW.coll = 0 AND NEW.of_ref IS NOT NULL AND (NEW.flags & 2) = 0 BEGIN"
    " INSERT INTO sighted VALUES(NEW.of_ref, NEW.added, 1) ON CONFLICT(of_ref) DO UPDATE"
    " SET last = max(last, excluded.last), n = n + 1; END;"
    "CREATE TRIGGER IF NOT EXISTS sighted_flags AFTER UPDATE OF flags ON sightings"
    " WHEN NEW.coll = 0 AND NEW.of_ref IS NOT NULL AND (OLD.flags & 2) != (NEW.flags & 2) BEGIN"
    " DELETE FROM sighted WHERE of_ref = NEW.of_ref;" SIGHTED_OF("NEW.of_ref") " END;"
    "CREATE TRIGGER IF NOT EXISTS sighted_del AFTER DELETE ON sightings"
    " WHEN OLD.coll = 0 AND OLD.of_ref IS NOT NULL BEGIN"
    " DELETE FROM sighted WHERE of_ref = OLD.of_ref;" SIGHTED_OF("OLD.of_ref") " END;"
    "CREATE TRIGGER IF NOT EXISTS sighting_hours_ins AFTER INSERT ON sightings"
    " WHEN NEW.coll != 0 AND (NEW.flags & 3) = 0 BEGIN" HOURS_ADD("NEW.", "+") " END;"
    "CREATE TRIGGER IF NOT EXISTS sighting_hours_flags AFTER UPDATE OF flags ON sightings"
    " WHEN NEW.coll != 0 AND ((OLD.flags & 3) = 0) != ((NEW.flags & 3) = 0) BEGIN"
    HOURS_ADD("NEW.", "CASE WHEN (NEW.flags & 3) = 0 THEN 1 ELSE -1 END *") " END;"
    "CREATE TRIGGER IF NOT EXISTS sighting_hours_del AFTER DELETE ON sightings"
    " WHEN OLD.coll != 0 AND (OLD.flags & 3) = 0 BEGIN" HOURS_ADD("OLD.", "-") " END;"
    "CREATE TRIGGER IF NOT EXISTS accounts_console_del AFTER DELETE ON accounts BEGIN"
    " DELETE FROM thread_reads WHERE account = OLD.name;"
    " DELETE FROM sessions WHERE account = OLD.name; END;"
    "DELETE FROM thread_reads WHERE account NOT IN (SELECT name FROM accounts);"
    "DELETE FROM sessions WHERE account NOT IN (SELECT name FROM accounts);"
    "INSERT OR REPLACE INTO sighted SELECT of_ref, max(added), count(*) FROM sightings"
    " INDEXED BY sightings_of WHERE coll = 0 AND of_ref IS NOT NULL AND (flags & 2) = 0"
    " GROUP BY of_ref;"
    "INSERT OR REPLACE INTO sighting_hours SELECT coll, " HOUR_OF("") ", count(*), sum(n)"
    " FROM sightings WHERE coll != 0 AND (flags & 3) = 0 GROUP BY 1, 2;",
    /* 11 -> 12: the console's source filter reads indicators.created_by (added by
     * ind_add_created_by before this runs, written by ind_put) through indicators_src, not the
     * bodies; the sighted and sighting_hours rows of a new sightings row are written by the insert
     * path (sight_upkeep), not by INSERT triggers, for the statement journal they cost (8 -> 9) */
    "UPDATE indicators SET created_by = (SELECT CASE WHEN json_type(o.body, '$.created_by_ref')"
    " = 'text' THEN json_extract(o.body, '$.created_by_ref') END FROM objects o"
    " WHERE o.seq = indicators.seq);"
    "CREATE INDEX IF NOT EXISTS indicators_src ON indicators(created_by)"
    " WHERE (flags & 2) = 0 AND created_by IS NOT NULL;"
    "DROP TRIGGER IF EXISTS sighted_ins; DROP TRIGGER IF EXISTS sighting_hours_ins;",
    /* 12 -> 13: the indicators table's indexes on short integer and text columns (added by
     * migrate_prepare before this runs, written by ind_put) instead of the id, the creator's id
     * and the type expression: an index on a random text key of ~50 bytes rewrote a page per
     * indicator at each commit, and the type expression called six SQL functions twice per
     * insert.  indicators_id becomes the latest versions' id hashes (what the sighted join
     * reads), indicators_src the latest versions' creator hashes */
    "UPDATE indicators SET otype = ind_otype(pattern), idh = id_hash(id), srch = id_hash(created_by);"
    "DROP INDEX IF EXISTS indicators_id; DROP INDEX IF EXISTS indicators_type;"
    "DROP INDEX IF EXISTS indicators_type_vu; DROP INDEX IF EXISTS indicators_src;"
    "CREATE INDEX indicators_id ON indicators(idh) WHERE (flags & 2) = 0;"
    "CREATE INDEX indicators_type ON indicators(otype) WHERE (flags & 2) = 0;"
    "CREATE INDEX indicators_type_vu ON indicators(otype, valid_until) WHERE (flags & 2) = 0;"
    "CREATE INDEX indicators_src ON indicators(srch)"
    " WHERE (flags & 2) = 0 AND srch IS NOT NULL;",
    /* 13 -> 14: who signed which version is read from the signature list in the body (a view)
     * instead of a table written beside it: a signature row cost a signed import about a micro-
     * second per object, to repeat what the body holds */
    SIGNATURES_VIEW, /* after sigs_table_drop */
};

static const char *const stmt_sql[S_COUNT] = {
    [S_INS_OBJ] = "INSERT INTO objects(seq, added, id, type, modified, spec, flags, chash, body,"
                  " tlp, tlp_org, tlp_to, tlp_dep)"
                  " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    [S_INS_AUDIT] = "INSERT INTO audit(seq, ts, action, object_seq, ref, detail, leaf)"
                    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [S_AUDIT_LAST] = "SELECT coalesce(max(seq), 0) FROM audit",
    [S_AUDIT_TAIL] = "SELECT seq, leaf FROM audit ORDER BY seq DESC LIMIT 1",
    [S_ROW_VERSION] = "SELECT id, modified, flags FROM objects WHERE seq = ?1",
    [S_SET_FLAGS] = "UPDATE objects SET flags = ?2 WHERE seq = ?1",
    [S_LAST_ROW] = "SELECT (SELECT coalesce(max(seq), 0) FROM objects),"
                   " (SELECT last_added FROM clock)",
    [S_CLOCK_SET] = "UPDATE clock SET last_added = ?1",
    [S_ROW_CHASH] = "SELECT chash FROM objects WHERE seq = ?1",
    /* INDEXED BY: without it the planner walks the collection by its primary key */
    [S_MEMBER_GET] = "SELECT added, flags FROM members INDEXED BY members_seq"
                     " WHERE seq = ?1 AND coll = ?2",
    [S_MEMBER_FLAGS] = "UPDATE members SET flags = ?3 WHERE coll = ?1 AND added = ?2",
    [S_INS_MEMBER] = "INSERT INTO members(coll, added, seq, type, flags) VALUES(?1, ?2, ?3, ?4, ?5)",
    /* the store-wide sightings row of a new sighting version (schema 9: formerly trigger
       sightings_obj), read then written by one-row statements: an INSERT ... SELECT calling a
       function keeps a statement journal (see sight_upkeep) */
    [S_SIGHT_OBJ] = "SELECT added, seq, flags, " SIGHTING_T("") ", " SIGHTING_N("") ","
                    " json_extract(body, '$.sighting_of_ref') FROM objects WHERE seq = ?1",
    [S_SIGHT_INS] = "INSERT INTO sightings VALUES(0, ?1, ?2, ?3, ?4, ?5, ?6)",
    /* the import adds the version's first membership before its objects row */
    [S_SIGHT_OBJ_MEMBERS] = "INSERT OR IGNORE INTO sightings SELECT m.coll, m.added, m.seq,"
                            " m.flags, g.t, g.n, g.of_ref FROM members m INDEXED BY members_seq"
                            " JOIN sightings g ON g.coll = 0 AND g.added = ?2 WHERE m.seq = ?1",
    /* a sighting version's new membership (formerly trigger sightings_member) */
    [S_SIGHT_MEMBER] = "INSERT OR IGNORE INTO sightings SELECT ?1, ?2, ?3, ?4, g.t, g.n, g.of_ref"
                       " FROM objects o JOIN sightings g ON g.coll = 0 AND g.added = o.added"
                       " WHERE o.seq = ?3",
    /* the sightings rows of version ?1 in collection ?2 (0: in every one), and its store-wide
       row when ?3 is its added (sight_upkeep) */
    [S_SIGHT_ROWS] = "SELECT s.coll, s.added, s.flags, s.t, s.n, s.of_ref FROM members m"
                     " INDEXED BY members_seq JOIN sightings s ON s.coll = m.coll AND"
                     " s.added = m.added WHERE m.seq = ?1 AND (?2 = 0 OR m.coll = ?2)"
                     " UNION ALL SELECT coll, added, flags, t, n, of_ref FROM sightings"
                     " WHERE coll = 0 AND added = ?3",
    /* what triggers sighted_ins and sighting_hours_ins did until schema 12 (sight_upkeep) */
    [S_SIGHTED_ADD] = "INSERT INTO sighted VALUES(?1, ?2, 1) ON CONFLICT(of_ref) DO UPDATE"
                      " SET last = max(last, excluded.last), n = n + 1",
    [S_HOURS_ADD] = "INSERT INTO sighting_hours VALUES(?1, ?2, 1, ?3) ON CONFLICT(coll, hour)"
                    " DO UPDATE SET sightings = sightings + 1, n = n + excluded.n",
    [S_ROWS_AFTER] = "SELECT seq, id, modified FROM objects WHERE seq > ?1 ORDER BY seq",
    [S_RUNS_OF_KIND] = "SELECT run FROM runs WHERE kind = ?1 ORDER BY run",
    [S_RUNS_AT_LEVEL] = "SELECT run, chunks FROM runs WHERE kind = ?1 AND level = ?2 ORDER BY run",
    [S_CHUNK_FIND] = "SELECT first, data FROM chunks WHERE kind = ?1 AND run = ?2 AND last >= ?3"
                     " ORDER BY last, chunk",
    [S_CHUNK_GET] = "SELECT data FROM chunks WHERE kind = ?1 AND run = ?2 AND chunk = ?3",
    [S_CHUNK_INS] = "INSERT INTO chunks(kind, run, chunk, first, last, data)"
                    " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    [S_RUN_INS] = "INSERT INTO runs(kind, run, level, entries, chunks) VALUES(?1, ?2, ?3, ?4, ?5)",
    [S_RUN_DEL] = "DELETE FROM runs WHERE kind = ?1 AND run = ?2",
    [S_CHUNK_DEL] = "DELETE FROM chunks WHERE kind = ?1 AND run = ?2",
    [S_MAX_RUN] = "SELECT coalesce(max(run), 0) FROM runs",
    [S_CHUNKS_OF_KIND] = "SELECT data FROM chunks WHERE kind = ?1",
    [S_RECORD] = "SELECT seq, added, id, type, modified, spec, flags, body, tlp, tlp_org, tlp_to,"
                 " tlp_dep FROM objects WHERE seq = ?1",
    [S_LABEL] = "SELECT id, flags, tlp, tlp_org, tlp_to FROM objects WHERE seq = ?1",
    [S_RED_ANY] = "SELECT 1 FROM members m INDEXED BY members_seq JOIN red r"
                  " ON r.coll = m.coll AND r.account = ?2 WHERE m.seq = ?1 LIMIT 1",
    /* the signatures view narrowed to one version: a rowid lookup, then its body's list */
    [S_SIG_GET] = "SELECT 1 FROM signatures WHERE object_seq = ?1 AND keyid = ?2 AND sig = ?3",
    [S_SIG_ANY] = "SELECT 1 FROM signatures WHERE object_seq = ?1 LIMIT 1",
    [S_INS_IND] = "INSERT INTO indicators(seq, added, id, modified, spec, flags, tlp, tlp_org,"
                  " tlp_to, valid_from, valid_until, confidence, pattern_type, pattern, name,"
                  " created_by, otype, idh, srch) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
                  " ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
    [S_INS_XROW] = "INSERT INTO export_rows(seq, flags, row) VALUES(?1, ?2, ?3)",
};

/* ------------------------------------------------------------------------------------------ */

int store_db_fail(accord_store *s, accord_error *err, const char *what)
{
    int code = sqlite3_errcode(s->db);
    int rc = ACCORD_ESTORE;
    if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
        rc = ACCORD_EBUSY;
    else if (code == SQLITE_NOMEM)
        rc = ACCORD_ENOMEM;
    else if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB)
        rc = ACCORD_ECORRUPT;
    return accord_err_set(err, rc, "store: %s: %s", what, sqlite3_errmsg(s->db));
}

const char *store_stmt_sql(enum stmt_id id)
{
    return stmt_sql[id];
}

/* 1 for the statements that may run while rows are pending: they touch none of the deferred
 * tables (the sorted runs, the clock) or are their inserts. */
static int stmt_defer_safe(enum stmt_id id)
{
    switch (id) {
    case S_INS_OBJ:
    case S_INS_MEMBER:
    case S_INS_AUDIT:
    case S_INS_IND:
    case S_INS_XROW:
    case S_CLOCK_SET:
    case S_RUNS_OF_KIND:
    case S_RUNS_AT_LEVEL:
    case S_CHUNK_FIND:
    case S_CHUNK_GET:
    case S_CHUNK_INS:
    case S_RUN_INS:
    case S_RUN_DEL:
    case S_CHUNK_DEL:
    case S_MAX_RUN:
    case S_CHUNKS_OF_KIND: return 1;
    default: return 0;
    }
}

sqlite3_stmt *store_stmt(accord_store *s, enum stmt_id id)
{
    if (s->rows_pending && !stmt_defer_safe(id) && store_rows_flush_quiet(s))
        return NULL;
    sqlite3_stmt *st = s->st[id];
    if (!st && sqlite3_prepare_v3(s->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &st, NULL))
        return NULL;
    s->st[id] = st;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return st;
}

/* Runs a statement that returns no rows (or whose rows are ignored) to completion. */
int store_step_done(sqlite3_stmt *st)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ;
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int store_exec(accord_store *s, const char *sql, accord_error *err)
{
    char *msg = NULL;
    int frc = store_rows_flush(s, err);
    if (frc)
        return frc;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        int rc = store_db_fail(s, err, msg ? msg : sql);
        sqlite3_free(msg);
        return rc;
    }
    return 0;
}

/*
 * Deferred WAL checkpoints.  By default the connection that commits checkpoints the WAL into the
 * database when the WAL has passed wal_autocheckpoint frames, inside that COMMIT: copying tens of
 * megabytes (and, on a disk, syncing the database) while the server's one writer holds its lock,
 * which no other core can share.  A deferring handle instead only records the WAL's size after
 * each commit (wal_hook below) and checkpoints itself only past STORE_WAL_BACKSTOP frames, the
 * bound on the WAL's size when nobody else checkpoints; anyone else, on another handle and
 * outside the writer's lock, runs the PASSIVE checkpoint when store_wal_frames says the WAL has
 * reached STORE_WAL_CHECKPOINT frames (taxii.c, after a POST).  A PASSIVE checkpoint never blocks
 * the writer, and the writer starts the WAL over at its next transaction once a checkpoint has
 * copied every frame.
 */
#define STORE_WAL_BACKSTOP 10000

static int wal_hook(void *ud, sqlite3 *db, const char *name, int frames)
{
    accord_store *s = ud;
    atomic_store(&s->wal_frames, frames);
    if (frames >= STORE_WAL_BACKSTOP)
        sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    return SQLITE_OK;
}

void store_wal_defer(accord_store *s)
{
    if (!s->readonly)
        sqlite3_wal_hook(s->db, wal_hook, s);
}

int store_wal_frames(accord_store *s)
{
    return atomic_load(&s->wal_frames);
}

void store_wal_checkpoint(accord_store *s)
{
    if (s && !s->readonly)
        sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
}

static int ind_backfill(accord_store *s, accord_error *err);

/* Adds column `col` (with its type) to the indicators table unless the store has it: ALTER TABLE
 * has no IF NOT EXISTS, and a store whose version was lowered by hand migrates again. */
static int ind_add_column(accord_store *s, const char *col, const char *type, accord_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM pragma_table_info('indicators') WHERE name = ?1",
                           -1, &st, NULL))
        return store_db_fail(s, err, "reading the indicators table's columns");
    sqlite3_bind_text(st, 1, col, -1, SQLITE_STATIC);
    int has = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    char sql[128];
    snprintf(sql, sizeof(sql), "ALTER TABLE indicators ADD COLUMN %s %s", col, type);
    return has ? 0 : store_exec(s, sql, err);
}

/* Before migration 13 -> 14: drops the signatures table, or the view of a store whose schema
 * version was set back below 14 after it had the view. */
static int sigs_table_drop(accord_store *s, accord_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT type FROM sqlite_master WHERE name = 'signatures'", -1,
                           &st, NULL))
        return store_db_fail(s, err, "reading the schema");
    const unsigned char *type = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
    int view = type && strcmp((const char *)type, "view") == 0, table = type && !view;
    sqlite3_finalize(st);
    return view ? store_exec(s, "DROP VIEW signatures", err)
                : table ? store_exec(s, "DROP TABLE signatures", err) : 0;
}

/* What migration v -> v + 1 needs before its SQL: the columns it reads, created_by (schema 12),
 * otype, idh, srch (13); no signatures table or view (14). */
static int migrate_prepare(accord_store *s, int v, accord_error *err)
{
    if (v == 13)
        return sigs_table_drop(s, err);
    if (v == 11)
        return ind_add_column(s, "created_by", "TEXT", err);
    if (v != 12)
        return 0;
    int rc = ind_add_column(s, "otype", "TEXT", err);
    if (!rc)
        rc = ind_add_column(s, "idh", "INTEGER", err);
    return rc ? rc : ind_add_column(s, "srch", "INTEGER", err);
}

static int migrate(accord_store *s, accord_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL))
        return store_db_fail(s, err, "reading the schema version");
    int version = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    if (version > SCHEMA_VERSION)
        return accord_err_set(err, ACCORD_ESCHEMA,
                              "store: schema version %d is newer than this accord's (%d)", version,
                              SCHEMA_VERSION);
    if (version == SCHEMA_VERSION)
        return 0;
    if (s->readonly)
        return accord_err_set(err, ACCORD_ESCHEMA,
                              "store: schema version %d needs migrating; open it read-write once",
                              version);
    int rc = store_exec(s, "BEGIN IMMEDIATE", err);
    if (rc)
        return rc;
    for (int v = version; v < SCHEMA_VERSION; v++)
        if ((rc = migrate_prepare(s, v, err)) ||
            (rc = store_exec(s, migrations[v], err)))
            goto out;
    char sql[64];
    snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", SCHEMA_VERSION);
    if ((rc = store_exec(s, sql, err)))
        goto out;
    if (version == 0 && (rc = store_coll_create_defaults(s, err)))
        goto out;
    if (version == 1 && (rc = store_audit_backfill(s, err)))
        goto out;
    if (version >= 1 && version < 6 && (rc = ind_backfill(s, err)))
        goto out;
    rc = store_exec(s, "COMMIT", err);
out:
    if (rc)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

int store_ts_ns(const ts_value *t, int64_t *ns)
{
    /* INT64 nanoseconds span 1677-09-21T00:12:43Z to 2262-04-11T23:47:16Z; STIX allows years
       0000-9999 */
    if (t->sec > (INT64_MAX - t->nsec) / 1000000000 || t->sec < INT64_MIN / 1000000000)
        return -1;
    *ns = t->sec * 1000000000 + t->nsec;
    return 0;
}

/* SQL ts_ns(text): a timestamp as integer nanoseconds since the epoch, NULL when not one or out
 * of that range (store_ts_ns); so that versions compare as instants whatever their precision. */
static void sql_ts_ns(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    ts_value t;
    int64_t ns;
    const char *text = (const char *)sqlite3_value_text(argv[0]);
    (void)argc;
    if (text && ts_parse(text, &t) == 0 && store_ts_ns(&t, &ns) == 0)
        sqlite3_result_int64(ctx, ns);
    else
        sqlite3_result_null(ctx);
}

/* The label columns of a version: its level, and the producer and lists only where the rule
 * reads them (tlp.h).  *org is NULL when not kept; the lists go into to and dep. */
static int label_columns(const tlp_label *l, const char **org, buf *to, buf *dep)
{
    *org = l->level == ACCORD_TLP_CLEAR || l->level == ACCORD_TLP_RED ? NULL : l->org;
    return tlp_label_text(l, to, dep);
}

/* SQL tlp_label(body, what): the label of a stored body (what 0 level, 1 producer, 2 recipients,
 * 3 depends), for the migration that added the label columns to stores that had none. */
static void sql_tlp_label(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    ajson_arena a;
    ajson_error jerr;
    ajson_arena_init(&a, 0);
    const char *body = sqlite3_value_blob(argv[0]);
    int what = sqlite3_value_int(argv[1]), n = sqlite3_value_bytes(argv[0]);
    const ajson_value *root = body ? ajson_parse(&a, body, (size_t)n, &jerr) : NULL;
    tlp_label l;
    tlp_label_json(root, &l);
    const char *org;
    buf to, dep;
    buf_init(&to, 1 << 20);
    buf_init(&dep, 1 << 20);
    int rc = label_columns(&l, &org, &to, &dep);
    const char *text = what == 1 ? org : what == 2 ? to.p : dep.p;
    if (rc)
        sqlite3_result_error_nomem(ctx);
    else if (what == 0)
        sqlite3_result_int(ctx, l.level);
    else if (text && *text)
        sqlite3_result_text(ctx, text, -1, SQLITE_TRANSIENT);
    else
        sqlite3_result_null(ctx);
    buf_free(&to);
    buf_free(&dep);
    ajson_arena_free(&a);
}

static void put_le(unsigned char *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* The fields of an export_rows row. */
typedef struct xrow {
    int64_t added, from, until; /* from INT64_MIN, until INT64_MAX when absent */
    int conf, tlp;              /* conf -1 when absent */
    const char *spec, *ptype;   /* ptype NULL when absent */
    const char *str[3];         /* id, pattern, name (NULL: absent) */
    size_t len[3];
} xrow;

/* The packed row of x (the layout is in the schema table above), in sqlite3_malloc64 memory;
 * NULL when out of memory or too long. */
static unsigned char *xrow_pack(const xrow *x, size_t *len)
{
    size_t total = XROW_HEAD;
    for (int i = 0; i < 3; i++)
        if ((total += x->len[i] + 1) > 0x7fffffff)
            return NULL;
    unsigned char *p = sqlite3_malloc64(total);
    if (!p)
        return NULL;
    p[0] = XROW_LAYOUT;
    p[1] = (unsigned char)((x->spec && strcmp(x->spec, "2.0") == 0 ? XROW_SPEC20 : 0) |
                           (x->ptype ? XROW_PTYPE : 0) |
                           (x->ptype && strcmp(x->ptype, "stix") == 0 ? XROW_PTYPE_STIX : 0) |
                           (x->str[1] ? XROW_PATTERN : 0) | (x->str[2] ? XROW_NAME : 0));
    p[2] = (unsigned char)(signed char)x->tlp;
    p[3] = (unsigned char)(x->conf >= 0 && x->conf <= 100 ? x->conf : 255);
    for (int i = 0; i < 3; i++)
        put_le(p + 4 + 4 * i, x->len[i], 4);
    put_le(p + 16, (uint64_t)x->added, 8);
    put_le(p + 24, (uint64_t)x->from, 8);
    put_le(p + 32, (uint64_t)x->until, 8);
    size_t off = XROW_HEAD;
    for (int i = 0; i < 3; i++) {
        if (x->len[i])
            memcpy(p + off, x->str[i], x->len[i]);
        p[off + x->len[i]] = 0;
        off += x->len[i] + 1;
    }
    *len = total;
    return p;
}

void store_ind_otype(const char *p, size_t n, size_t *off, size_t *len)
{
    /* instr finds the '[' anywhere, but substr, which cuts the text after it, stops at a NUL */
    size_t z = strnlen(p, n), a = 0, e = 0;
    const char *lb = memchr(p, '[', n);
    size_t start = lb ? (size_t)(lb - p) + 1 : 0;
    const char *colon = start < z ? memchr(p + start, ':', z - start) : NULL;
    if (colon) {
        a = start;
        e = (size_t)(colon - p);
    } else if (lb) { /* substr(p, a + 1, -1): the character before, the '[' itself */
        a = (size_t)(lb - p);
        e = a + 1;
    }
    if (e > z)
        e = z;
    if (a > e)
        a = e;
    while (a < e && p[a] == ' ')
        a++;
    while (e > a && p[e - 1] == ' ')
        e--;
    *off = a;
    *len = e - a;
}

/* SQL ind_otype(pattern): store_ind_otype's text, NULL for NULL (the migration to schema 13). */
static void sql_ind_otype(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    const char *p = (const char *)sqlite3_value_text(argv[0]);
    size_t off, len;
    if (!p) {
        sqlite3_result_null(ctx);
        return;
    }
    store_ind_otype(p, (size_t)sqlite3_value_bytes(argv[0]), &off, &len);
    sqlite3_result_text(ctx, p + off, (int)len, SQLITE_TRANSIENT);
}

/* SQL id_hash(text): store_id_hash of the text as a signed integer, NULL for NULL: the keys of
 * indicators_id and indicators_src (schema 13), which every connection's queries compute. */
static void sql_id_hash(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    const char *t = (const char *)sqlite3_value_text(argv[0]);
    if (t)
        sqlite3_result_int64(ctx, (int64_t)store_id_hash(t));
    else
        sqlite3_result_null(ctx);
}

static int64_t sql_int_or(sqlite3_value *v, int64_t dflt)
{
    return sqlite3_value_type(v) == SQLITE_NULL ? dflt : sqlite3_value_int64(v);
}

/*
 * SQL ind_row(added, valid_from, valid_until, confidence, tlp, spec, pattern_type, id, pattern,
 * name): the export_rows row of an indicators row, for the migration that added the table.
 */
static void sql_ind_row(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    xrow x = {.added = sqlite3_value_int64(argv[0]),
              .from = sql_int_or(argv[1], INT64_MIN),
              .until = sql_int_or(argv[2], INT64_MAX),
              .conf = (int)sql_int_or(argv[3], -1),
              .tlp = sqlite3_value_int(argv[4]),
              .spec = (const char *)sqlite3_value_text(argv[5]),
              .ptype = (const char *)sqlite3_value_text(argv[6])};
    for (int i = 0; i < 3; i++) {
        x.str[i] = (const char *)sqlite3_value_text(argv[7 + i]);
        x.len[i] = x.str[i] ? (size_t)sqlite3_value_bytes(argv[7 + i]) : 0;
    }
    size_t len;
    unsigned char *p = x.str[0] ? xrow_pack(&x, &len) : NULL;
    if (p)
        sqlite3_result_blob64(ctx, p, len, sqlite3_free);
    else
        sqlite3_result_error(ctx, "ind_row: no id, too long, or out of memory", -1);
}

/*
 * SQLite's memory statistics off, once per process, before its first use: with them on, every
 * allocation and free of the library takes a global mutex and looks up the block's size, and a
 * statement allocates and frees a record buffer per B-tree entry it writes (this build has no
 * lookaside allocator): ~7,000 of the ~100,000 instructions of an indicator's store step
 * (callgrind).  accord reads no such statistic.  When the host program has used SQLite
 * already the call fails, harmlessly.
 */
static pthread_once_t sqlite_once = PTHREAD_ONCE_INIT;

static void sqlite_once_init(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int accord_store_open(const char *dir, unsigned flags, accord_store **out, accord_error *err)
{
    pthread_once(&sqlite_once, sqlite_once_init);
    *out = NULL;
    if (!dir || !*dir)
        return accord_err_set(err, ACCORD_EINVAL, "store: no data directory given");
    int ro = (flags & ACCORD_STORE_READONLY) != 0;
    struct stat stbuf;
    if (stat(dir, &stbuf) != 0) {
        if (ro && errno == ENOENT)
            return accord_err_set(err, ACCORD_ENOTFOUND,
                                  "store: no store in %s yet (`accord import` or `accord serve` "
                                  "creates it; --data or ACCORD_DATA choose another)", dir);
        if (ro || errno != ENOENT || mkdir(dir, 0700) != 0)
            return accord_err_set(err, ACCORD_EIO, "store: data directory %s: %s", dir,
                                  strerror(errno));
    } else if (!S_ISDIR(stbuf.st_mode)) {
        return accord_err_set(err, ACCORD_EIO, "store: %s is not a directory", dir);
    }
    char path[4096];
    if ((size_t)snprintf(path, sizeof(path), "%s/accord.db", dir) >= sizeof(path))
        return accord_err_set(err, ACCORD_EINVAL, "store: data directory path too long");
    accord_store *s = calloc(1, sizeof(*s));
    if (!s)
        return accord_err_set(err, ACCORD_ENOMEM, "store: out of memory");
    s->readonly = ro;
    u64map_init_set(&s->idset);
    if (!(s->dir = strdup(dir)) || !(s->leafbuf = malloc(sizeof(buf)))) {
        free(s->dir);
        free(s);
        return accord_err_set(err, ACCORD_ENOMEM, "store: out of memory");
    }
    buf_init(s->leafbuf, AUDIT_LINE_MAX * 4);
    int oflags = ro ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    int rc;
    if (sqlite3_open_v2(path, &s->db, oflags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        rc = accord_err_set(err, ACCORD_ESTORE, "store: cannot open %s: %s", path,
                            s->db ? sqlite3_errmsg(s->db) : "out of memory");
        goto out;
    }
    sqlite3_busy_timeout(s->db, 30000);
    sqlite3_create_function(s->db, "ts_ns", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, sql_ts_ns,
                            NULL, NULL);
    sqlite3_create_function(s->db, "tlp_label", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
                            sql_tlp_label, NULL, NULL);
    sqlite3_create_function(s->db, "ind_row", 10, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
                            sql_ind_row, NULL, NULL);
    sqlite3_create_function(s->db, "ind_otype", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
                            sql_ind_otype, NULL, NULL);
    sqlite3_create_function(s->db, "id_hash", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
                            sql_id_hash, NULL, NULL);
    sqlite3_extended_result_codes(s->db, 0);
    if ((rc = store_rows_init(s))) {
        rc = accord_err_set(err, rc, "store: cannot register the bulk row tables");
        goto out;
    }
    /* 16 KiB pages: a fourth of the I/O calls of the default for the same bytes (bulk import
     * writes every page twice: WAL, then checkpoint); takes effect only on a new database */
    if (!ro && (rc = store_exec(s, "PRAGMA page_size=16384; PRAGMA journal_mode=WAL", err)))
        goto out;
    if ((rc = store_exec(s,
                   "PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536; PRAGMA wal_autocheckpoint=2500;"
                   " PRAGMA temp_store=MEMORY; PRAGMA foreign_keys=OFF",
                   err)))
        goto out;
    /* readers that page through large stores (the server's) map the file instead of copying
     * pages through read(); mapped pages count in RSS, so bulk writers do not */
    if ((flags & ACCORD_STORE_MMAP) &&
        (rc = store_exec(s, "PRAGMA mmap_size=8589934592", err)))
        goto out;
    if ((rc = migrate(s, err)))
        goto out;
    *out = s;
    return 0;
out:
    accord_store_close(s);
    return rc;
}

static void pend_clear(accord_store *s)
{
    for (int k = 0; k < KIND_COUNT; k++)
        s->pend[k].n = 0;
    u64map_free(&s->pend_id);
}

static void sets_drop(accord_store *s)
{
    u64map_free(&s->idset);
    u64map_free(&s->verset);
    u64map_init_set(&s->idset);
    s->sets_loaded = 0;
    s->sets_seq = 0;
}

void accord_store_close(accord_store *s)
{
    if (!s)
        return;
    if (s->in_txn)
        store_rollback(s);
    for (int i = 0; i < S_COUNT; i++)
        sqlite3_finalize(s->st[i]);
    store_rows_free(s);
    if (s->db) {
        if (!s->readonly)
            sqlite3_exec(s->db, "PRAGMA optimize", NULL, NULL, NULL);
        sqlite3_close(s->db);
    }
    for (int k = 0; k < KIND_COUNT; k++)
        free(s->pend[k].v);
    free(s->pend_prev);
    u64map_free(&s->pend_id);
    sets_drop(s);
    buf_free(s->leafbuf);
    free(s->leafbuf);
    accord_sign_key_free(s->node_key);
    free(s->afront);
    free(s->dir);
    free(s);
}

/* ------------------------------------------------------------------------------------------ */
/* Hashes                                                                                       */

uint64_t store_id_hash(const char *id)
{
    return XXH3_64bits(id, strlen(id));
}

uint64_t store_value_hash(const char *value, size_t len)
{
    return XXH3_64bits_withSeed(value, len, 0x76616c7565ULL);
}

/* The version key: the id and the instant of modified, so equal instants written differently
 * ("...00Z" and "...00.000Z") are the same version. */
uint64_t store_version_key(uint64_t idh, const char *modified)
{
    ts_value t;
    if (!modified || !*modified)
        return XXH3_64bits_withSeed("", 0, idh);
    if (ts_parse(modified, &t) != 0)
        return XXH3_64bits_withSeed(modified, strlen(modified), idh);
    unsigned char b[12];
    memcpy(b, &t.sec, 8);
    memcpy(b + 8, &t.nsec, 4);
    return XXH3_64bits_withSeed(b, sizeof(b), idh);
}

/* ------------------------------------------------------------------------------------------ */
/* Writer                                                                                       */

/* Loads every committed entry of kind into map (key -> val, or key -> 1 when keys_only). */
static int load_map(accord_store *s, int kind, u64map *map, int keys_only, accord_error *err)
{
    char sql[80];
    snprintf(sql, sizeof(sql), "SELECT coalesce(sum(entries), 0) FROM runs WHERE kind = %d", kind);
    if (u64map_reserve(map, (size_t)store_scalar(s, sql) + 65536))
        return accord_err_set(err, ACCORD_ENOMEM, "store: out of memory loading the index");
    sqlite3_stmt *st = store_stmt(s, S_CHUNKS_OF_KIND);
    if (!st)
        return store_db_fail(s, err, "preparing the index load");
    sqlite3_bind_int(st, 1, kind);
    int rc = 0, step;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const entry *v = sqlite3_column_blob(st, 0);
        size_t n = (size_t)sqlite3_column_bytes(st, 0) / sizeof(entry);
        for (size_t i = 0; i < n && !rc; i++)
            if (u64map_put(map, (uint64_t)v[i].key, keys_only ? 1 : (uint64_t)v[i].val))
                rc = accord_err_set(err, ACCORD_ENOMEM, "store: out of memory loading the index");
    }
    sqlite3_reset(st);
    return rc;
}

/* Adds rows appended after sets_seq (by this or another process) to the in-memory sets. */
static int sets_catch_up(accord_store *s, accord_error *err)
{
    sqlite3_stmt *st = store_stmt(s, S_ROWS_AFTER);
    if (!st)
        return store_db_fail(s, err, "preparing the catch-up scan");
    sqlite3_bind_int64(st, 1, s->sets_seq);
    int rc = 0;
    while (!rc && sqlite3_step(st) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 1);
        const char *mod = (const char *)sqlite3_column_text(st, 2);
        uint64_t idh = store_id_hash(id ? id : "");
        if (u64map_put(&s->idset, idh, 1) ||
            u64map_put(&s->verset, store_version_key(idh, mod),
                       (uint64_t)sqlite3_column_int64(st, 0)))
            rc = accord_err_set(err, ACCORD_ENOMEM, "store: out of memory");
        s->sets_seq = sqlite3_column_int64(st, 0);
    }
    sqlite3_reset(st);
    return rc;
}

int store_begin(accord_store *s, accord_error *err)
{
    if (s->readonly)
        return accord_err_set(err, ACCORD_EINVAL, "store: opened read-only");
    if (s->in_txn)
        return accord_err_set(err, ACCORD_EINVAL, "store: a transaction is already open");
    int rc = store_exec(s, "BEGIN IMMEDIATE", err);
    if (rc)
        return rc;
    s->in_txn = 1;
    s->audit_next = 0;
    store_audit_txn_begin(s);
    pend_clear(s);
    sqlite3_stmt *st = store_stmt(s, S_LAST_ROW);
    if (!st) {
        rc = store_db_fail(s, err, "preparing");
        goto out;
    }
    s->last_seq = s->last_added = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        s->last_seq = sqlite3_column_int64(st, 0);
        s->last_added = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    if (!s->sets_loaded) {
        if ((rc = load_map(s, KIND_ID, &s->idset, 1, err)) ||
            (rc = load_map(s, KIND_VERSION, &s->verset, 0, err)))
            goto out;
        s->sets_loaded = 1;
        s->sets_seq = s->last_seq;
    } else if (s->last_seq > s->sets_seq) {
        rc = sets_catch_up(s, err);
    }
out:
    if (rc)
        store_rollback(s);
    return rc;
}

void store_rollback(accord_store *s)
{
    if (!s->in_txn)
        return;
    store_rows_discard(s);
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    s->in_txn = 0;
    s->audit_next = 0;
    store_audit_forget(s);
    pend_clear(s);
    sets_drop(s); /* they may hold versions of the abandoned transaction */
}

int store_commit(accord_store *s, accord_error *err)
{
    if (!s->in_txn)
        return accord_err_set(err, ACCORD_EINVAL, "store: no transaction is open");
    int rc = store_rows_flush(s, err);
    for (int k = 0; k < KIND_COUNT && !rc; k++)
        rc = store_run_write(s, k, &s->pend[k], err);
    sqlite3_stmt *st = rc ? NULL : store_stmt(s, S_CLOCK_SET);
    if (st) {
        sqlite3_bind_int64(st, 1, s->last_added);
        if (store_step_done(st))
            rc = store_db_fail(s, err, "advancing the clock");
    }
    if (!rc)
        rc = store_exec(s, "COMMIT", err);
    if (rc) {
        store_rollback(s);
        return rc;
    }
    s->in_txn = 0;
    s->audit_next = 0;
    s->sets_seq = s->last_seq;
    pend_clear(s);
    store_rows_discard(s); /* nothing is pending: this ends deferring */
    return 0;
}

/*
 * The record's seq is chosen here, not by SQLite, because it is part of the leaf bytes: the next
 * after the last (cached inside a store_begin transaction, which no other writer can interleave).
 * The leaf hash is computed now, from the fields as written, so a row edited later no longer
 * matches it.  The record that completes a multiple of ACCORD_AUDIT_CHECKPOINT_EVERY also gets
 * its signed checkpoint, in the same transaction.
 */
int store_audit(accord_store *s, const char *action, int64_t object_seq, const char *ref,
                const char *detail, accord_error *err)
{
    audit_fields f = {.seq = s->in_txn ? s->audit_next : 0,
                      .ts = ts_now_us(),
                      .object = object_seq,
                      .action = action,
                      .ref = ref,
                      .detail = detail};
    if (f.seq == 0) {
        sqlite3_stmt *last = store_stmt(s, S_AUDIT_LAST);
        if (!last || sqlite3_step(last) != SQLITE_ROW)
            return store_db_fail(s, err, "reading the audit log's length");
        f.seq = sqlite3_column_int64(last, 0) + 1;
        sqlite3_reset(last);
    }
    accord_merkle_hash leaf;
    buf_reset(s->leafbuf);
    if (audit_leaf_write(s->leafbuf, &f))
        return accord_err_set(err, ACCORD_ENOMEM, "store: out of memory writing an audit record");
    accord_merkle_leaf_hash(s->leafbuf->p, s->leafbuf->len, leaf);
    store_row r;
    if (store_row_begin(s, STORE_ROWS_AUDIT, &r))
        return store_db_fail(s, err, "preparing an audit insert");
    store_row_int(&r, 0, f.seq);
    store_row_int(&r, 1, f.ts);
    store_row_text(&r, 2, action, strlen(action));
    if (object_seq)
        store_row_int(&r, 3, object_seq);
    if (ref)
        store_row_text(&r, 4, ref, strlen(ref));
    if (detail)
        store_row_text(&r, 5, detail, strlen(detail));
    store_row_blob(&r, 6, leaf, sizeof(leaf));
    int rc = store_row_end(&r, "writing an audit record", err);
    if (rc)
        return rc;
    if (s->in_txn)
        s->audit_next = f.seq + 1;
    if (s->in_txn)
        store_audit_leaf_added(s, f.seq, leaf);
    else
        store_audit_forget(s); /* its transaction, if any, may still roll back */
    if (f.seq % ACCORD_AUDIT_CHECKPOINT_EVERY)
        return 0;
    /* the checkpoint may read the records back */
    return (rc = store_rows_flush(s, err)) ? rc : store_audit_checkpoint_at(s, f.seq, err);
}

int store_audit_commit(accord_store *s, int rc, const char *action, const char *ref,
                       const char *detail, accord_error *err)
{
    if (!rc)
        rc = store_audit(s, action, 0, ref, detail, err);
    if (!rc)
        rc = store_exec(s, "COMMIT", err);
    if (rc)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* One stored version of an id, as the supersede logic needs it. */
typedef struct version_row {
    int64_t seq;
    int flags;
    ts_value mod;
} version_row;

typedef struct version_rows {
    version_row *v;
    size_t n, cap;
} version_rows;

static int rows_push(version_rows *r, const version_row *row)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        version_row *v = realloc(r->v, cap * sizeof(*v));
        if (!v)
            return ACCORD_ENOMEM;
        r->v = v;
        r->cap = cap;
    }
    r->v[r->n++] = *row;
    return 0;
}

/* Reads version `seq` into out when it is a version of `id` (*found), else leaves *found 0. */
static int read_version(accord_store *s, int64_t seq, const char *id, version_row *out, int *found,
                        accord_error *err)
{
    sqlite3_stmt *st = store_stmt(s, S_ROW_VERSION);
    if (!st)
        return store_db_fail(s, err, "preparing a version read");
    sqlite3_bind_int64(st, 1, seq);
    *found = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *rid = (const char *)sqlite3_column_text(st, 0);
        const char *mod = (const char *)sqlite3_column_text(st, 1);
        if (rid && strcmp(rid, id) == 0) {
            *found = 1;
            out->seq = seq;
            out->flags = sqlite3_column_int(st, 2);
            if (!mod || ts_parse(mod, &out->mod) != 0)
                memset(&out->mod, 0, sizeof(out->mod));
        }
    }
    sqlite3_reset(st);
    return 0;
}

/* Every stored version of id, committed or written earlier in this transaction. */
static int find_versions(accord_store *s, uint64_t idh, const char *id, version_rows *out,
                         accord_error *err)
{
    entries seqs = {0};
    int rc = store_runs_lookup(s, KIND_ID, (int64_t)idh, &seqs, err);
    uint64_t at;
    if (!rc && u64map_get(&s->pend_id, idh, &at))
        for (size_t i = (size_t)at; i && !rc; i = s->pend_prev[i - 1])
            rc = store_entries_push(&seqs, 0, s->pend[KIND_ID].v[i - 1].val);
    for (size_t i = 0; i < seqs.n && !rc; i++) {
        version_row row;
        int found = 0;
        rc = read_version(s, seqs.v[i].val, id, &row, &found, err);
        if (!rc && found)
            rc = rows_push(out, &row);
    }
    free(seqs.v);
    return rc;
}

static int set_flags(accord_store *s, int64_t seq, int flags, accord_error *err)
{
    sqlite3_stmt *st = store_stmt(s, S_SET_FLAGS);
    if (!st)
        return store_db_fail(s, err, "preparing a flag update");
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_int(st, 2, flags);
    return store_step_done(st) ? store_db_fail(s, err, "updating a superseded version") : 0;
}

/* The membership of version seq in collection cid: 1 with *added and *flags, 0 when none. */
static int member_get(accord_store *s, int64_t cid, int64_t seq, int64_t *added, int *flags,
                      int *found, accord_error *err)
{
    sqlite3_stmt *st = store_stmt(s, S_MEMBER_GET);
    if (!st)
        return store_db_fail(s, err, "preparing a membership read");
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_int64(st, 2, cid);
    *found = 0;
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        *found = 1;
        *added = sqlite3_column_int64(st, 0);
        *flags = sqlite3_column_int(st, 1);
    }
    sqlite3_reset(st);
    return step == SQLITE_ROW || step == SQLITE_DONE ? 0
                                                      : store_db_fail(s, err, "reading membership");
}

/*
 * Orders a new version (modified `mod`, flags *newf) against another stored version (omod, oflags):
 * the older of the two is superseded, the newer is not the first.  Returns the other version's new
 * flags and updates *newf.  Applied to every other version, this leaves exactly one latest and one
 * first version (ties keep the stored one in place).
 */
static int rank_versions(const ts_value *mod, const ts_value *omod, int oflags, int *newf)
{
    int c = ts_cmp(mod, omod);
    if (!(oflags & FLAG_SUPERSEDED)) {
        if (c > 0)
            oflags |= FLAG_SUPERSEDED;
        else
            *newf |= FLAG_SUPERSEDED;
    }
    if (!(oflags & FLAG_NOT_FIRST)) {
        if (c < 0)
            oflags |= FLAG_NOT_FIRST;
        else
            *newf |= FLAG_NOT_FIRST;
    }
    return oflags;
}

static int64_t next_added(accord_store *s)
{
    int64_t now = ts_now_us();
    s->last_added = now > s->last_added ? now : s->last_added + 1;
    return s->last_added;
}

/*
 * Adds the sightings rows of version seq just written (in collection cid only, or with cid 0 in
 * every collection and, added being its date_added, store-wide) to the aggregates: a store-wide
 * row of a latest version to its object's sighted row, a collection's latest unrevoked one to
 * that collection's hour.  INSERT triggers on sightings did this until schema 12, but a
 * statement on a table with an INSERT trigger (or a RETURNING clause, which SQLite runs as one)
 * keeps a statement journal, a copy of every page it touches (see migrations[] 8 -> 9); the rows
 * are read back instead and the aggregates written by one-row statements, which need none.
 * The caller knows the rows are new: a new version has no sightings rows yet, a new membership
 * none in its collection.  The UPDATE and DELETE triggers keep the aggregates through flag
 * changes and removals.
 */
static int sight_upkeep(accord_store *s, int64_t seq, int64_t cid, int64_t added, const char *what,
                        accord_error *err)
{
    sqlite3_stmt *st = store_stmt(s, S_SIGHT_ROWS), *up = NULL;
    if (!st)
        return store_db_fail(s, err, what);
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_int64(st, 2, cid);
    sqlite3_bind_int64(st, 3, added);
    int rc = 0, step = SQLITE_DONE;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t coll = sqlite3_column_int64(st, 0), t = sqlite3_column_int64(st, 3);
        int flags = sqlite3_column_int(st, 2);
        if (coll == 0 && !(flags & FLAG_SUPERSEDED) && sqlite3_column_type(st, 5) != SQLITE_NULL) {
            if ((up = store_stmt(s, S_SIGHTED_ADD))) {
                sqlite3_bind_value(up, 1, sqlite3_column_value(st, 5));
                sqlite3_bind_int64(up, 2, sqlite3_column_int64(st, 1));
            }
        } else if (coll != 0 && !(flags & (FLAG_REVOKED | FLAG_SUPERSEDED))) {
            if ((up = store_stmt(s, S_HOURS_ADD))) {
                /* t is seconds from a four-digit year or from date_added: far from overflow */
                sqlite3_bind_int64(up, 1, coll);
                sqlite3_bind_int64(up, 2, t - ((t % 3600) + 3600) % 3600);
                sqlite3_bind_int64(up, 3, sqlite3_column_int64(st, 4));
            }
        } else {
            continue;
        }
        if (!up || store_step_done(up))
            rc = store_db_fail(s, err, what);
    }
    if (!rc && step != SQLITE_DONE)
        rc = store_db_fail(s, err, what);
    sqlite3_reset(st);
    return rc;
}

/*
 * Adds version `seq` (modified `mod`) to collection cid, keeping exactly one latest version of the
 * id per collection: `others` are the id's other stored versions.  Returns its date_added.
 */
static int member_add(accord_store *s, int64_t cid, int64_t seq, const char *type, int revoked,
                      const ts_value *mod, const version_rows *others, int64_t *added_out,
                      accord_error *err)
{
    int mflags = revoked ? FLAG_REVOKED : 0, rc = 0;
    for (size_t i = 0; i < others->n && !rc; i++) {
        int64_t added;
        int flags, found;
        rc = member_get(s, cid, others->v[i].seq, &added, &flags, &found, err);
        if (rc || !found)
            continue;
        int f = rank_versions(mod, &others->v[i].mod, flags, &mflags);
        if (f == flags)
            continue;
        sqlite3_stmt *st = store_stmt(s, S_MEMBER_FLAGS);
        if (!st)
            return store_db_fail(s, err, "preparing a membership update");
        sqlite3_bind_int64(st, 1, cid);
        sqlite3_bind_int64(st, 2, added);
        sqlite3_bind_int(st, 3, f);
        if (store_step_done(st))
            return store_db_fail(s, err, "updating a superseded membership");
    }
    if (rc)
        return rc;
    store_row r;
    if (store_row_begin(s, STORE_ROWS_MEMBERS, &r))
        return store_db_fail(s, err, "preparing a membership insert");
    *added_out = next_added(s);
    store_row_int(&r, 0, cid);
    store_row_int(&r, 1, *added_out);
    store_row_int(&r, 2, seq);
    store_row_text(&r, 3, type, strlen(type));
    store_row_int(&r, 4, mflags);
    if ((rc = store_row_end(&r, "adding to a collection", err)))
        return rc;
    if (strcmp(type, "sighting") != 0)
        return 0;
    sqlite3_stmt *st;
    if (!(st = store_stmt(s, S_SIGHT_MEMBER)))
        return store_db_fail(s, err, "preparing a sightings insert");
    sqlite3_bind_int64(st, 1, cid);
    sqlite3_bind_int64(st, 2, *added_out);
    sqlite3_bind_int64(st, 3, seq);
    sqlite3_bind_int(st, 4, mflags);
    if (store_step_done(st))
        return store_db_fail(s, err, "adding a sighting to a collection");
    /* a new version's first membership has no row yet (the objects row comes next) */
    if (sqlite3_changes(s->db) == 0)
        return 0;
    return sight_upkeep(s, seq, cid, 0, "adding a sighting to a collection", err);
}

/* The sightings rows of sighting version seq (added), just inserted: store-wide and for the
 * memberships added before it, and the aggregates of them (sight_upkeep). */
static int sighting_rows(accord_store *s, int64_t seq, int64_t added, accord_error *err)
{
    sqlite3_stmt *st = store_stmt(s, S_SIGHT_OBJ), *ins = store_stmt(s, S_SIGHT_INS);
    if (!st || !ins)
        return store_db_fail(s, err, "preparing a sightings insert");
    sqlite3_bind_int64(st, 1, seq);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return store_db_fail(s, err, "reading a sighting's row");
    }
    for (int i = 0; i < 6; i++)
        sqlite3_bind_value(ins, i + 1, sqlite3_column_value(st, i));
    sqlite3_reset(st);
    if (store_step_done(ins))
        return store_db_fail(s, err, "storing a sighting's row");
    if (!(st = store_stmt(s, S_SIGHT_OBJ_MEMBERS)))
        return store_db_fail(s, err, "preparing a sightings insert");
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_int64(st, 2, added);
    if (store_step_done(st))
        return store_db_fail(s, err, "storing a sighting's rows");
    return sight_upkeep(s, seq, 0, added, "storing a sighting's rows", err);
}

static int pend_id_add(accord_store *s, uint64_t idh, int64_t seq)
{
    entries *e = &s->pend[KIND_ID];
    if (store_entries_push(e, (int64_t)idh, seq))
        return ACCORD_ENOMEM;
    if (s->pend_prev_cap < e->cap) {
        size_t *p = realloc(s->pend_prev, e->cap * sizeof(*p));
        if (!p)
            return ACCORD_ENOMEM;
        s->pend_prev = p;
        s->pend_prev_cap = e->cap;
    }
    uint64_t prev = 0;
    u64map_get(&s->pend_id, idh, &prev);
    s->pend_prev[e->n - 1] = (size_t)prev;
    return u64map_put(&s->pend_id, idh, e->n) ? ACCORD_ENOMEM : 0;
}

static int u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Adds the index entries of a new version: id, version and (deduplicated) values. */
static int index_version(accord_store *s, uint64_t idh, uint64_t vkey, int64_t seq,
                         const uint64_t *values, size_t nvalues)
{
    if (pend_id_add(s, idh, seq) || store_entries_push(&s->pend[KIND_VERSION], (int64_t)vkey, seq) ||
        u64map_put(&s->idset, idh, 1) || u64map_put(&s->verset, vkey, (uint64_t)seq))
        return ACCORD_ENOMEM;
    if (!nvalues)
        return 0;
    uint64_t local[64], *v = local;
    if (nvalues > 64 && !(v = malloc(nvalues * sizeof(*v))))
        return ACCORD_ENOMEM;
    memcpy(v, values, nvalues * sizeof(*v));
    qsort(v, nvalues, sizeof(*v), u64_cmp);
    int rc = 0;
    for (size_t i = 0; i < nvalues && !rc; i++)
        if (i == 0 || v[i] != v[i - 1])
            rc = store_entries_push(&s->pend[KIND_VALUE], (int64_t)v[i], seq);
    if (v != local)
        free(v);
    return rc;
}

/*
 * A version already stored (seq): a duplicate or a conflict, or, when it is not yet in collection
 * cid, a link of the stored version into it.
 */
static int put_known_version(accord_store *s, int64_t cid, const stix_info *info, uint64_t idh,
                             int64_t seq, uint64_t chash, store_outcome *outcome, accord_error *err)
{
    sqlite3_stmt *st = store_stmt(s, S_ROW_CHASH);
    if (!st)
        return store_db_fail(s, err, "preparing a content check");
    sqlite3_bind_int64(st, 1, seq);
    uint64_t stored = sqlite3_step(st) == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (stored != chash) {
        *outcome = STORE_CONFLICT;
        return 0;
    }
    int64_t added;
    int flags, found, rc = member_get(s, cid, seq, &added, &flags, &found, err);
    if (rc || found) {
        *outcome = STORE_DUPLICATE;
        return rc;
    }
    version_rows others = {0};
    version_row self = {0};
    ts_value mod = {0};
    if (info->modified)
        ts_parse(info->modified, &mod);
    rc = find_versions(s, idh, info->id, &others, err);
    for (size_t i = 0; i < others.n; i++) /* drop this version itself */
        if (others.v[i].seq == seq)
            self = others.v[i], others.v[i] = others.v[--others.n];
    (void)self;
    if (!rc)
        rc = member_add(s, cid, seq, info->type, info->revoked, &mod, &others, &added, err);
    free(others.v);
    *outcome = STORE_LINKED;
    return rc ? rc : store_audit(s, "linked", seq, info->id, NULL, err);
}

uint64_t store_content_hash(const void *data, size_t len)
{
    return XXH3_64bits(data, len);
}

/* ------------------------------------------------------------------------------------------ */
/* The indicators table: what exports read, beside the objects row                             */

/* An optional timestamp property of o as µs: 1 present, 0 absent, -1 not a timestamp. */
static int ind_ts(const ajson_value *o, const char *key, int64_t *us)
{
    const char *t = ajson_str(ajson_get(o, key));
    if (!t)
        return 0;
    return accord_timestamp_parse(t, us) == 0 ? 1 : -1;
}

/* An optional string property of o into x->str[i] (NULL when absent or not a string). */
static void ind_str(xrow *x, int i, const ajson_value *o, const char *key)
{
    const ajson_value *v = ajson_get(o, key);
    int ok = v && v->type == AJSON_STRING;
    x->str[i] = ok ? v->u.str : NULL;
    x->len[i] = ok ? v->len : 0;
}

/*
 * Writes the indicators row of version seq, and its export_rows row, from its parsed object o,
 * or, when o is NULL (a caller that holds no tree), from its body.  The other columns copy the
 * objects row's.
 */
static int ind_put(accord_store *s, int64_t seq, int64_t added, const char *id,
                   const char *modified, const char *spec, int flags, int tlp, const char *org,
                   const char *to, const ajson_value *o, const char *body, size_t len,
                   accord_error *err)
{
    ajson_arena a;
    ajson_error jerr;
    int rc = 0;
    unsigned char *packed = NULL;
    ajson_arena_init(&a, 0);
    if (!o && !(o = ajson_parse(&a, body, len, &jerr))) {
        rc = accord_err_set(err, ACCORD_ECORRUPT, "store: the body of %s does not parse", id);
        goto out;
    }
    xrow x = {.added = added, .from = INT64_MIN, .until = INT64_MAX, .conf = -1, .tlp = tlp,
              .spec = spec ? spec : "2.1", .str = {id}, .len = {strlen(id)}};
    int64_t c, from, until;
    int rf = ind_ts(o, "valid_from", &from), ru = rf < 0 ? 0 : ind_ts(o, "valid_until", &until);
    if (rf < 0 || ru < 0)
        x.from = INT64_MAX; /* unreadable: never active */
    else if (rf)
        x.from = from;
    if (ru > 0)
        x.until = until;
    if (ajson_int(ajson_get(o, "confidence"), &c) && c >= 0 && c <= 100)
        x.conf = (int)c;
    const ajson_value *pt = ajson_get(o, "pattern_type");
    if (pt && pt->type == AJSON_STRING) /* only whether it is "stix" is packed */
        x.ptype = pt->u.str;
    ind_str(&x, 1, o, "pattern");
    ind_str(&x, 2, o, "name");
    size_t plen;
    if (!(packed = xrow_pack(&x, &plen))) {
        rc = accord_err_set(err, ACCORD_ENOMEM, "store: %s: out of memory or too long", id);
        goto out;
    }
    if (!modified)
        modified = "";
    store_row r;
    if (store_row_begin(s, STORE_ROWS_INDICATORS, &r)) {
        rc = store_db_fail(s, err, "preparing an indicator insert");
        goto out;
    }
    store_row_int(&r, 0, seq);
    store_row_int(&r, 1, added);
    store_row_text(&r, 2, id, x.len[0]);
    store_row_text(&r, 3, modified, strlen(modified));
    store_row_text(&r, 4, x.spec, strlen(x.spec));
    store_row_int(&r, 5, flags);
    store_row_int(&r, 6, tlp);
    if (org)
        store_row_text(&r, 7, org, strlen(org));
    if (to)
        store_row_text(&r, 8, to, strlen(to));
    if (x.from != INT64_MIN)
        store_row_int(&r, 9, x.from);
    if (x.until != INT64_MAX)
        store_row_int(&r, 10, x.until);
    if (x.conf >= 0)
        store_row_int(&r, 11, x.conf);
    if (pt && pt->type == AJSON_STRING)
        store_row_text(&r, 12, pt->u.str, pt->len);
    for (int i = 1; i < 3; i++)
        if (x.str[i])
            store_row_text(&r, 12 + i, x.str[i], x.len[i]);
    const ajson_value *by = ajson_get(o, "created_by_ref");
    if (by && by->type == AJSON_STRING) {
        store_row_text(&r, 15, by->u.str, by->len);
        store_row_int(&r, 18, (int64_t)store_id_hash(by->u.str));
    }
    if (x.str[1]) {
        size_t off, olen;
        store_ind_otype(x.str[1], x.len[1], &off, &olen);
        store_row_text(&r, 16, x.str[1] + off, olen);
    }
    store_row_int(&r, 17, (int64_t)store_id_hash(id));
    if ((rc = store_row_end(&r, "storing an indicator's columns", err)))
        goto out;
    if (store_row_begin(s, STORE_ROWS_XROWS, &r)) {
        rc = store_db_fail(s, err, "preparing an indicator insert");
        goto out;
    }
    store_row_int(&r, 0, seq);
    store_row_int(&r, 1, flags);
    store_row_blob(&r, 2, packed, plen);
    rc = store_row_end(&r, "storing an indicator's export row", err);
out:
    sqlite3_free(packed);
    ajson_arena_free(&a);
    return rc;
}

/* Fills the indicators table from the stored indicators (the migration to schema 6). */
static int ind_backfill(accord_store *s, accord_error *err)
{
    sqlite3_stmt *q;
    int rc = 0, step;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT seq, added, id, modified, spec, flags, tlp, tlp_org, tlp_to,"
                           " body FROM objects WHERE type = 'indicator' AND seq NOT IN"
                           " (SELECT seq FROM indicators) ORDER BY seq",
                           -1, &q, NULL))
        return store_db_fail(s, err, "preparing the indicators migration");
    while (!rc && (step = sqlite3_step(q)) == SQLITE_ROW)
        rc = ind_put(s, sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 1),
                     (const char *)sqlite3_column_text(q, 2),
                     (const char *)sqlite3_column_text(q, 3),
                     (const char *)sqlite3_column_text(q, 4), sqlite3_column_int(q, 5),
                     sqlite3_column_int(q, 6), (const char *)sqlite3_column_text(q, 7),
                     (const char *)sqlite3_column_text(q, 8), NULL, sqlite3_column_blob(q, 9),
                     (size_t)sqlite3_column_bytes(q, 9), err);
    if (!rc && step != SQLITE_DONE)
        rc = store_db_fail(s, err, "reading indicators for the migration");
    sqlite3_finalize(q);
    return rc;
}

int store_put(accord_store *s, int64_t cid, const stix_info *info, const char *body, size_t len,
              const uint64_t *values, size_t nvalues, store_outcome *outcome, int64_t *seq_out,
              accord_error *err)
{
    return store_put_hashed(s, cid, info, body, len, XXH3_64bits(body, len), values, nvalues,
                            outcome, seq_out, err);
}

int store_put_hashed(accord_store *s, int64_t cid, const stix_info *info, const char *body,
                     size_t len, uint64_t chash, const uint64_t *values, size_t nvalues,
                     store_outcome *outcome, int64_t *seq_out, accord_error *err)
{
    store_vref ref;
    store_version_ref(s, info, &ref);
    return store_put_ref(s, cid, info, &ref, body, len, chash, values, nvalues, outcome, seq_out,
                         err);
}

int store_version_ref(accord_store *s, const stix_info *info, store_vref *ref)
{
    uint64_t known = 0;
    ref->idh = store_id_hash(info->id);
    ref->vkey = store_version_key(ref->idh, info->modified);
    ref->seq = s->in_txn && u64map_get(&s->verset, ref->vkey, &known) ? (int64_t)known : 0;
    return ref->seq != 0;
}

int store_put_ref(accord_store *s, int64_t cid, const stix_info *info, const store_vref *ref,
                  const char *body, size_t len, uint64_t chash, const uint64_t *values,
                  size_t nvalues, store_outcome *outcome, int64_t *seq_out, accord_error *err)
{
    if (!s->in_txn)
        return accord_err_set(err, ACCORD_EINVAL, "store: no transaction is open");
    if (!info->label.set)
        return accord_err_set(err, ACCORD_EINVAL, "store: %s has no TLP label", info->id);
    uint64_t idh = ref->idh, vkey = ref->vkey;
    *seq_out = ref->seq;
    if (ref->seq)
        return put_known_version(s, cid, info, idh, ref->seq, chash, outcome, err);
    int flags = info->revoked ? FLAG_REVOKED : 0, rc = 0;
    ts_value mod = {0};
    if (info->modified)
        ts_parse(info->modified, &mod);
    version_rows others = {0};
    buf to, dep;
    buf_init(&to, 1 << 20);
    buf_init(&dep, 1 << 20);
    *outcome = STORE_NEW;
    if (u64map_get(&s->idset, idh, NULL) && (rc = find_versions(s, idh, info->id, &others, err)))
        goto out;
    for (size_t i = 0; i < others.n && !rc; i++) {
        int f = rank_versions(&mod, &others.v[i].mod, others.v[i].flags, &flags);
        if (f != others.v[i].flags)
            rc = set_flags(s, others.v[i].seq, f, err);
    }
    if (rc)
        goto out;
    if (others.n)
        *outcome = STORE_VERSION;
    int64_t seq = ++s->last_seq, added;
    if ((rc = member_add(s, cid, seq, info->type, info->revoked, &mod, &others, &added, err)))
        goto out;
    const char *org;
    if (label_columns(&info->label, &org, &to, &dep)) {
        rc = accord_err_set(err, ACCORD_ENOMEM, "store: out of memory labelling %s", info->id);
        goto out;
    }
    const char *modified = info->modified ? info->modified : "";
    const char *spec = info->spec_version ? info->spec_version : "2.1";
    store_row r;
    if (store_row_begin(s, STORE_ROWS_OBJECTS, &r)) {
        rc = store_db_fail(s, err, "preparing an object insert");
        goto out;
    }
    store_row_int(&r, 0, seq);
    store_row_int(&r, 1, added);
    store_row_text(&r, 2, info->id, strlen(info->id));
    store_row_text(&r, 3, info->type, strlen(info->type));
    store_row_text(&r, 4, modified, strlen(modified));
    store_row_text(&r, 5, spec, strlen(spec));
    store_row_int(&r, 6, flags);
    store_row_int(&r, 7, (int64_t)chash);
    store_row_blob(&r, 8, body, len);
    store_row_int(&r, 9, info->label.level);
    if (org)
        store_row_text(&r, 10, org, strlen(org));
    if (to.len)
        store_row_text(&r, 11, to.p, to.len);
    if (dep.len)
        store_row_text(&r, 12, dep.p, dep.len);
    if ((rc = store_row_end(&r, "storing an object", err)))
        goto out;
    if (strcmp(info->type, "sighting") == 0 && (rc = sighting_rows(s, seq, added, err)))
        goto out;
    if (strcmp(info->type, "indicator") == 0 &&
        (rc = ind_put(s, seq, added, info->id, info->modified, info->spec_version, flags,
                      info->label.level, org, to.len ? to.p : NULL, info->obj, body, len, err)))
        goto out;
    if ((rc = index_version(s, idh, vkey, seq, values, nvalues))) {
        rc = accord_err_set(err, rc, "store: out of memory indexing %s", info->id);
        goto out;
    }
    *seq_out = seq;
    rc = store_audit(s, "accepted", seq, info->id, info->modified, err);
out:
    buf_free(&to);
    buf_free(&dep);
    free(others.v);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* meta                                                                                         */

int store_meta_get(accord_store *s, const char *key, char *out, size_t outlen)
{
    sqlite3_stmt *st;
    int rc = ACCORD_ENOTFOUND;
    if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = ?1", -1, &st, NULL))
        return ACCORD_ESTORE;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        const char *v = (const char *)sqlite3_column_text(st, 0);
        rc = v && (size_t)snprintf(out, outlen, "%s", v) < outlen ? 0 : ACCORD_ELIMIT;
    }
    sqlite3_finalize(st);
    return rc;
}

int store_meta_set(accord_store *s, const char *key, const char *value, accord_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)", -1,
                           &st, NULL))
        return store_db_fail(s, err, "preparing a meta update");
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    int rc = store_step_done(st) ? store_db_fail(s, err, "writing meta") : 0;
    sqlite3_finalize(st);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Signature sets                                                                               */

int store_version_find(accord_store *s, const stix_info *info, int64_t *seq, uint64_t *chash)
{
    uint64_t known;
    *seq = 0;
    if (!s->in_txn ||
        !u64map_get(&s->verset, store_version_key(store_id_hash(info->id), info->modified), &known))
        return 0;
    sqlite3_stmt *st = store_stmt(s, S_ROW_CHASH);
    if (!st)
        return 0;
    sqlite3_bind_int64(st, 1, (int64_t)known);
    int found = sqlite3_step(st) == SQLITE_ROW;
    if (found) {
        *seq = (int64_t)known;
        *chash = (uint64_t)sqlite3_column_int64(st, 0);
    }
    sqlite3_reset(st);
    return found;
}

int store_body_get(accord_store *s, int64_t seq, char **body, size_t *len, accord_error *err)
{
    sqlite3_stmt *st;
    int rc = ACCORD_ENOTFOUND;
    *body = NULL;
    *len = 0;
    int frc = store_rows_flush(s, err);
    if (frc)
        return frc;
    if (sqlite3_prepare_v2(s->db, "SELECT body FROM objects WHERE seq = ?1", -1, &st, NULL))
        return store_db_fail(s, err, "preparing a body read");
    sqlite3_bind_int64(st, 1, seq);
    if (sqlite3_step(st) == SQLITE_ROW) {
        size_t n = (size_t)sqlite3_column_bytes(st, 0);
        char *p = malloc(n + 1);
        rc = p ? 0 : ACCORD_ENOMEM;
        if (p) {
            if (n)
                memcpy(p, sqlite3_column_blob(st, 0), n);
            p[n] = 0;
            *body = p;
            *len = n;
        }
    }
    sqlite3_finalize(st);
    return rc == ACCORD_ENOTFOUND ? accord_err_set(err, rc, "store: no version %lld", (long long)seq)
                                  : rc;
}

int store_sig_has(accord_store *s, int64_t seq, const char *keyid, const uint8_t sig[64])
{
    char text[SIGN_B64_LEN(64) + 1]; /* base64, as the stored list holds it */
    sqlite3_stmt *st = sign_b64_encode(sig, 64, text, sizeof(text)) ? NULL
                                                                    : store_stmt(s, S_SIG_GET);
    int has = 0;
    if (!st)
        return 0;
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_text(st, 2, keyid, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
    has = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_reset(st);
    return has;
}

int store_sig_any(accord_store *s, int64_t seq)
{
    sqlite3_stmt *st = store_stmt(s, S_SIG_ANY);
    if (!st)
        return ACCORD_ESTORE;
    sqlite3_bind_int64(st, 1, seq);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : ACCORD_ESTORE;
}

/*
 * Gives version seq a new date_added in every collection holding it (its sightings rows follow
 * their membership), because its signature set grew: TAXII added_after walks and peers' pulls
 * then see the endorsement, and a peer whose set is already equal stores nothing and bumps
 * nothing, so the echo dies.  objects.added, the store-wide date_added, stays: seq and added
 * increase together.
 */
static int member_readd(accord_store *s, int64_t seq, accord_error *err)
{
    sqlite3_stmt *st = NULL;
    struct mrow {
        int64_t coll, added;
        int sighting;
    } *rows = NULL;
    size_t n = 0, cap = 0;
    int rc = store_rows_flush(s, err), step = SQLITE_DONE;
    if (rc)
        return rc;
    /* read first, then update: the update moves the rows within the index being read */
    if (sqlite3_prepare_v2(s->db,
                           "SELECT coll, added, type = 'sighting' FROM members INDEXED BY"
                           " members_seq WHERE seq = ?1",
                           -1, &st, NULL))
        return store_db_fail(s, err, "preparing a date_added update");
    sqlite3_bind_int64(st, 1, seq);
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            struct mrow *r = realloc(rows, (cap = cap ? 2 * cap : 8) * sizeof(*rows));
            if (!r) {
                rc = accord_err_set(err, ACCORD_ENOMEM, "store: out of memory");
                break;
            }
            rows = r;
        }
        rows[n].coll = sqlite3_column_int64(st, 0);
        rows[n].added = sqlite3_column_int64(st, 1);
        rows[n++].sighting = sqlite3_column_int(st, 2);
    }
    if (!rc && step != SQLITE_DONE)
        rc = store_db_fail(s, err, "reading a version's collections");
    sqlite3_finalize(st);
    static const char *const sql[2] = {
        "UPDATE members SET added = ?3 WHERE coll = ?1 AND added = ?2",
        "UPDATE sightings SET added = ?3 WHERE coll = ?1 AND added = ?2"};
    sqlite3_stmt *up[2] = {NULL, NULL};
    for (int k = 0; k < 2 && n && !rc; k++)
        if (sqlite3_prepare_v2(s->db, sql[k], -1, &up[k], NULL))
            rc = store_db_fail(s, err, "preparing a date_added update");
    for (size_t i = 0; i < n && !rc; i++) {
        int64_t now = next_added(s);
        for (int k = 0; k <= rows[i].sighting && !rc; k++) {
            sqlite3_bind_int64(up[k], 1, rows[i].coll);
            sqlite3_bind_int64(up[k], 2, rows[i].added);
            sqlite3_bind_int64(up[k], 3, now);
            if (store_step_done(up[k]))
                rc = store_db_fail(s, err, "giving an endorsed version a new date_added");
        }
    }
    sqlite3_finalize(up[0]);
    sqlite3_finalize(up[1]);
    free(rows);
    return rc;
}

int store_signatures_endorse(accord_store *s, int64_t seq, const char *id, const char *body,
                             size_t len, const store_sig *sigs, size_t n, accord_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;
    if (!s->in_txn)
        return accord_err_set(err, ACCORD_EINVAL, "store: no transaction is open");
    if ((rc = store_rows_flush(s, err)))
        return rc;
    /* the same version, its list rewritten: no new version, a new date_added */
    if (sqlite3_prepare_v2(s->db, "UPDATE objects SET body = ?2 WHERE seq = ?1", -1, &st, NULL))
        return store_db_fail(s, err, "preparing a signature update");
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_blob(st, 2, body, (int)len, SQLITE_STATIC);
    rc = store_step_done(st) ? store_db_fail(s, err, "adding a signature")
         : sqlite3_changes(s->db) != 1
             ? accord_err_set(err, ACCORD_ENOTFOUND, "store: no version %lld", (long long)seq)
             : 0;
    sqlite3_finalize(st);
    if (rc || (rc = member_readd(s, seq, err)))
        return rc;
    for (size_t i = 0; i < n && !rc; i++) {
        char detail[160];
        snprintf(detail, sizeof(detail), "key %s of %s", sigs[i].keyid, sigs[i].signer);
        rc = store_audit(s, "signature added", seq, id, detail, err);
    }
    return rc;
}
