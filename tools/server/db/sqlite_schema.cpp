#include "tools/server/db/sqlite_schema.h"

#include <sqlite3.h>

#include <string>

#include "tools/server/db/sqlite_statement.h"

namespace sublink {

namespace {

// Times are UTC milliseconds. Child rows go with their parent (CASCADE) so
// removing a system leaves nothing dangling; history tables (licenses,
// audits, events, connections) name the system without a foreign key, so
// the history outlives a system that was removed.
// Alarms the server raised about a system (duplicate_identity: two
// instances of one system taking turns). At most one of a kind stands per
// system; a cleared one stays as history.
// Part of the current schema, and all that version 4 added.
constexpr const char* kAlarmsTable = R"sql(
CREATE TABLE alarms (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  system_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  raised INTEGER NOT NULL,
  detail TEXT NOT NULL,
  cleared INTEGER
);
CREATE UNIQUE INDEX alarms_standing ON alarms (system_id, kind) WHERE cleared IS NULL;
)sql";

// The operator's tunnel channels to the devices' services (PROTOCOL.md
// section 6): one row per channel, written when it opens and completed when
// it closes, so a channel open while the server stopped still shows who
// opened what. bytes_in / bytes_out keep the device's sense (tunnel_closed):
// bytes_in went to the device, bytes_out came from it. Part of the current
// schema, and all that version 5 added.
constexpr const char* kTunnelsTable = R"sql(
CREATE TABLE tunnels (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  system_id TEXT NOT NULL,
  channel INTEGER NOT NULL,
  service TEXT NOT NULL,
  operator TEXT NOT NULL,
  opened INTEGER NOT NULL,
  closed INTEGER,
  bytes_in INTEGER NOT NULL DEFAULT 0,
  bytes_out INTEGER NOT NULL DEFAULT 0,
  reason TEXT
);
CREATE INDEX tunnels_by_system ON tunnels (system_id, id);
CREATE INDEX tunnels_open ON tunnels (id) WHERE closed IS NULL;
)sql";

constexpr const char* kSchema = R"sql(
CREATE TABLE schema_version (version INTEGER NOT NULL);
CREATE TABLE customers (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL DEFAULT ''
);
CREATE TABLE systems (
  id TEXT PRIMARY KEY,
  customer_id TEXT NOT NULL REFERENCES customers(id),
  subscription_end INTEGER,
  suspended INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE entitlements (
  system_id TEXT NOT NULL REFERENCES systems(id) ON DELETE CASCADE,
  feature TEXT NOT NULL,
  qty INTEGER NOT NULL CHECK (qty >= 0),
  PRIMARY KEY (system_id, feature)
);
CREATE TABLE serials (
  n INTEGER PRIMARY KEY AUTOINCREMENT,
  system_id TEXT NOT NULL
);
CREATE TABLE licenses (
  serial TEXT PRIMARY KEY,
  system_id TEXT NOT NULL,
  issued INTEGER NOT NULL,
  expires INTEGER NOT NULL
);
CREATE INDEX licenses_by_system ON licenses (system_id, issued);
CREATE TABLE license_features (
  serial TEXT NOT NULL REFERENCES licenses(serial) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  name TEXT NOT NULL,
  qty INTEGER NOT NULL,
  PRIMARY KEY (serial, position)
);
CREATE TABLE revocations (
  system_id TEXT NOT NULL,
  serial TEXT NOT NULL,
  reason TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (system_id, serial)
);
CREATE TABLE audits (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  system_id TEXT NOT NULL,
  serial TEXT NOT NULL,
  from_ms INTEGER NOT NULL,
  to_ms INTEGER NOT NULL,
  result TEXT NOT NULL,
  received INTEGER NOT NULL
);
CREATE TABLE audit_usage (
  audit_id INTEGER NOT NULL REFERENCES audits(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  name TEXT NOT NULL,
  in_use INTEGER NOT NULL,
  peak INTEGER NOT NULL,
  PRIMARY KEY (audit_id, position)
);
CREATE TABLE audit_overuse (
  audit_id INTEGER NOT NULL REFERENCES audits(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  name TEXT NOT NULL,
  peak INTEGER NOT NULL,
  licensed INTEGER NOT NULL,
  PRIMARY KEY (audit_id, position)
);
CREATE TABLE events (
  system_id TEXT NOT NULL,
  stream TEXT NOT NULL,
  seq INTEGER NOT NULL,
  time INTEGER,
  kind TEXT NOT NULL,
  json TEXT NOT NULL,
  UNIQUE (system_id, stream, seq)
);
CREATE TABLE connections (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  system_id TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  port INTEGER NOT NULL,
  peer TEXT NOT NULL,
  up INTEGER NOT NULL,
  down INTEGER,
  down_reason TEXT,
  last_contact INTEGER
);
CREATE INDEX connections_by_system ON connections (system_id, id);
)sql";

// Version 1 -> 2: customers' names, the latest contact of a connection, and
// the index the operator's fleet listing needs to find each system's latest
// connection.
constexpr const char* kUpgradeFrom1 = R"sql(
ALTER TABLE customers ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE connections ADD COLUMN last_contact INTEGER;
CREATE INDEX connections_by_system ON connections (system_id, id);
UPDATE schema_version SET version = 2;
)sql";

// Version 2 -> 3: event streams (PROTOCOL.md section 4). Events are keyed by
// (system, stream, seq); the rows stored before streams keep their seq, and
// their order (rowid), under the stream 'legacy', which no device stream id
// (16 hex digits) can be.
constexpr const char* kUpgradeFrom2 = R"sql(
CREATE TABLE events_by_stream (
  system_id TEXT NOT NULL,
  stream TEXT NOT NULL,
  seq INTEGER NOT NULL,
  time INTEGER,
  kind TEXT NOT NULL,
  json TEXT NOT NULL,
  UNIQUE (system_id, stream, seq)
);
INSERT INTO events_by_stream (rowid, system_id, stream, seq, time, kind, json)
  SELECT rowid, system_id, 'legacy', seq, time, kind, json FROM events ORDER BY rowid;
DROP TABLE events;
ALTER TABLE events_by_stream RENAME TO events;
UPDATE schema_version SET version = 3;
)sql";

// Version 3 -> 4: the alarms table (duplicate_identity).
constexpr const char* kUpgradeFrom3 = "UPDATE schema_version SET version = 4;";

// Version 4 -> 5: the tunnels table.
constexpr const char* kUpgradeFrom4 = "UPDATE schema_version SET version = 5;";

// Each step upgrades from `from` to from + 1; an old database takes every
// step from its version on, all in one transaction (a failed upgrade leaves
// the database as it was).
struct SchemaUpgrade {
  int64_t from;
  const char* sql;
};
constexpr SchemaUpgrade kUpgrades[] = {
    {1, kUpgradeFrom1},
    {2, kUpgradeFrom2},
    {3, kAlarmsTable},
    {3, kUpgradeFrom3},
    {4, kTunnelsTable},
    {4, kUpgradeFrom4},
};

Status run_in_transaction(sqlite3* db, const char* sql) {
  Status s = sqlite_exec(db, "BEGIN IMMEDIATE");
  if (!s.ok()) return s;
  s = sqlite_exec(db, sql);
  if (!s.ok()) {
    // The failure returned is the one to report; SQLite rolls back an open
    // transaction itself when the connection closes.
    (void)sqlite_exec(db, "ROLLBACK");
    return s;
  }
  return sqlite_exec(db, "COMMIT");
}

}  // namespace

Status ensure_sqlite_schema(sqlite3* db) {
  bool fresh = false;
  {
    // Finished before any DDL: DROP TABLE waits for no open statement.
    SqliteStatement exists(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'");
    Result<bool> row = exists.step();
    if (!row.ok()) return row.status();
    fresh = exists.column_int(0) == 0;
  }
  Result<bool> row = false;
  if (fresh) {
    Status s = sqlite_exec(db, "BEGIN IMMEDIATE");
    if (!s.ok()) return s;
    s = sqlite_exec(db, kSchema);
    if (s.ok()) s = sqlite_exec(db, kAlarmsTable);
    if (s.ok()) s = sqlite_exec(db, kTunnelsTable);
    if (s.ok()) {
      SqliteStatement version(db, "INSERT INTO schema_version (version) VALUES (?1)");
      s = version.bind(1, kSqliteSchemaVersion).run();
    }
    if (!s.ok()) {
      // The failure returned is the one to report; SQLite rolls back an open
    // transaction itself when the connection closes.
    (void)sqlite_exec(db, "ROLLBACK");
      return s;
    }
    return sqlite_exec(db, "COMMIT");
  }
  int64_t found = 0;
  {
    // Finished before any upgrade: DDL waits for no open statement.
    SqliteStatement version(db, "SELECT version FROM schema_version");
    row = version.step();
    if (!row.ok()) return row.status();
    found = *row ? version.column_int(0) : 0;
  }
  if (found == kSqliteSchemaVersion) return Status::Ok();
  if (found < 1 || found > kSqliteSchemaVersion) return Status(Reason::invalid_argument, static_cast<int32_t>(found));
  std::string steps;
  for (const SchemaUpgrade& step : kUpgrades) {
    if (step.from >= found) steps += step.sql;
  }
  return run_in_transaction(db, steps.c_str());
}

}  // namespace sublink
