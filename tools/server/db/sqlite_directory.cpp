#include "tools/server/db/sqlite_directory.h"

#include <sqlite3.h>

#include <cstring>
#include <string>

#include "tools/server/db/sqlite_schema.h"
#include "tools/server/db/sqlite_statement.h"

namespace sublink {

namespace {

std::optional<int64_t> optional_time(Millis t) {
  return t == kNever ? std::nullopt : std::optional<int64_t>(t);
}

}  // namespace

namespace {
// SQLite's words for the latest failure on `db`, and the system's when an
// errno is behind it (a missing folder, a permission).
std::string open_failure_words(sqlite3* db, int rc) {
  std::string words = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  const int system = db != nullptr ? sqlite3_system_errno(db) : 0;
  if (system != 0) words += std::string(": ") + std::strerror(system);
  return words;
}
}  // namespace

Result<std::unique_ptr<SqliteDirectory>> SqliteDirectory::open(const std::string& path, int busy_timeout_ms,
                                                               OpenMode mode, std::string* why) {
  sqlite3* db = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | (mode == OpenMode::create ? SQLITE_OPEN_CREATE : 0);
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  std::unique_ptr<SqliteDirectory> directory(new SqliteDirectory(db));  // closes db on every return below
  auto failed = [&](Status s) {
    if (why != nullptr) *why = s.reason() == Reason::io_error
                                       ? open_failure_words(db, s.detail())
                                       : "schema version " + std::to_string(s.detail()) +
                                             " is not one this server knows (1 to " +
                                             std::to_string(kSqliteSchemaVersion) + ")";
    return s;
  };
  if (rc != SQLITE_OK) return failed(sqlite_failure(rc));
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, busy_timeout_ms);
  // WAL: a commit appends to the log instead of rewriting pages behind a
  // rollback journal, and readers (the admin commands) do not block the
  // server. synchronous=FULL syncs the log at every commit: an event_ack
  // makes the device delete what it acknowledged, and an issued license is
  // the server's record of a grant, so a commit must survive a power cut of
  // the server machine, not only a crash of the process. (NORMAL would save
  // that fsync and could lose the last commits at a power cut.)
  Status s = sqlite_exec(db, "PRAGMA journal_mode = WAL");
  if (s.ok()) s = sqlite_exec(db, "PRAGMA synchronous = FULL");
  if (s.ok()) s = sqlite_exec(db, "PRAGMA foreign_keys = ON");
  if (!s.ok()) return failed(s);
  s = ensure_sqlite_schema(db);
  if (!s.ok()) return failed(s);
  return directory;
}

SqliteDirectory::~SqliteDirectory() {
  statements_.finalize_all();  // SQLite closes only a database without statements
  sqlite3_close(db_);
}

std::string SqliteDirectory::error_message() const { return db_ ? sqlite3_errmsg(db_) : "out of memory"; }

void SqliteDirectory::fail_every_call(bool on) {
  // An authorizer that denies everything: SQLite expires every prepared
  // statement when the authorizer changes, so kept ones fail too.
  const auto deny = [](void*, int, const char*, const char*, const char*, const char*) { return SQLITE_DENY; };
  sqlite3_set_authorizer(db_, on ? +deny : nullptr, nullptr);
}

Status SqliteDirectory::put_customer(std::string_view customer_id) {
  SqliteStatement insert(statements_, "INSERT OR IGNORE INTO customers (id) VALUES (?1)");
  return insert.bind(1, customer_id).run();
}

Status SqliteDirectory::put_customer(std::string_view customer_id, std::string_view name) {
  SqliteStatement upsert(statements_,
                         "INSERT INTO customers (id, name) VALUES (?1, ?2) "
                         "ON CONFLICT (id) DO UPDATE SET name = excluded.name");
  return upsert.bind(1, customer_id).bind(2, name).run();
}

Result<std::optional<std::string>> SqliteDirectory::customer_name(std::string_view customer_id) {
  SqliteStatement select(statements_, "SELECT name FROM customers WHERE id = ?1");
  Result<bool> row = select.bind(1, customer_id).step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<std::string>();
  return std::optional<std::string>(select.column_text(0));
}

Status SqliteDirectory::put_system(const SystemRecord& record) {
  SqliteTransaction tx(db_);
  if (!tx.status().ok()) return tx.status();
  Status s = put_customer(record.customer_id);
  if (!s.ok()) return s;
  SqliteStatement upsert(statements_,
                         "INSERT INTO systems (id, customer_id, subscription_end, suspended) VALUES (?1, ?2, ?3, ?4) "
                         "ON CONFLICT (id) DO UPDATE SET customer_id = excluded.customer_id, "
                         "subscription_end = excluded.subscription_end, suspended = excluded.suspended");
  s = upsert.bind(1, record.system_id)
          .bind(2, record.customer_id)
          .bind(3, optional_time(record.subscription_end))
          .bind(4, int64_t{record.suspended ? 1 : 0})
          .run();
  if (!s.ok()) return s;
  SqliteStatement clear(statements_, "DELETE FROM entitlements WHERE system_id = ?1");
  s = clear.bind(1, record.system_id).run();
  if (!s.ok()) return s;
  for (const auto& [feature, qty] : record.entitlements) {
    SqliteStatement insert(statements_, "INSERT INTO entitlements (system_id, feature, qty) VALUES (?1, ?2, ?3)");
    s = insert.bind(1, record.system_id).bind(2, feature).bind(3, int64_t{qty}).run();
    if (!s.ok()) return s;
  }
  return tx.commit();
}

Status SqliteDirectory::set_entitlement(std::string_view system_id, std::string_view feature, uint32_t qty) {
  SqliteStatement insert(statements_,
                         "INSERT INTO entitlements (system_id, feature, qty) "
                         "SELECT id, ?2, ?3 FROM systems WHERE id = ?1 "
                         "ON CONFLICT (system_id, feature) DO UPDATE SET qty = excluded.qty");
  Status s = insert.bind(1, system_id).bind(2, feature).bind(3, int64_t{qty}).run();
  if (!s.ok()) return s;
  return sqlite3_changes(db_) == 0 ? Status(Reason::invalid_argument) : Status::Ok();
}

Result<SystemLookup> SqliteDirectory::find_system(std::string_view customer_id, std::string_view system_id) {
  SystemLookup lookup;
  SqliteStatement customer(statements_, "SELECT count(*) FROM customers WHERE id = ?1");
  Result<bool> row = customer.bind(1, customer_id).step();
  if (!row.ok()) return row.status();
  if (customer.column_int(0) == 0) {
    lookup.match = SystemMatch::unknown_customer;
    return lookup;
  }
  SqliteStatement system(statements_, "SELECT customer_id, subscription_end, suspended FROM systems WHERE id = ?1");
  row = system.bind(1, system_id).step();
  if (!row.ok()) return row.status();
  if (!*row) {
    lookup.match = SystemMatch::unknown_system;
    return lookup;
  }
  if (system.column_text(0) != customer_id) {
    lookup.match = SystemMatch::other_customer;
    return lookup;
  }
  lookup.match = SystemMatch::found;
  lookup.record.customer_id = std::string(customer_id);
  lookup.record.system_id = std::string(system_id);
  lookup.record.subscription_end = system.column_optional_int(1).value_or(kNever);
  lookup.record.suspended = system.column_int(2) != 0;
  SqliteStatement entitlements(statements_, "SELECT feature, qty FROM entitlements WHERE system_id = ?1");
  entitlements.bind(1, system_id);
  for (;;) {
    row = entitlements.step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    lookup.record.entitlements[entitlements.column_text(0)] = static_cast<uint32_t>(entitlements.column_int(1));
  }
  return lookup;
}

Result<std::string> SqliteDirectory::next_serial(std::string_view system_id) {
  // AUTOINCREMENT never hands out a number twice, even after deletes.
  SqliteStatement insert(statements_, "INSERT INTO serials (system_id) VALUES (?1)");
  const Status s = insert.bind(1, system_id).run();
  if (!s.ok()) return s;
  return "L-" + std::to_string(sqlite3_last_insert_rowid(db_));
}

Status SqliteDirectory::record_issued(const IssuedLicense& license) {
  SqliteTransaction tx(db_);
  if (!tx.status().ok()) return tx.status();
  SqliteStatement insert(statements_, "INSERT INTO licenses (serial, system_id, issued, expires) VALUES (?1, ?2, ?3, ?4)");
  Status s = insert.bind(1, license.serial)
                 .bind(2, license.system_id)
                 .bind(3, license.issued)
                 .bind(4, license.expires)
                 .run();
  if (!s.ok()) return s;
  int64_t position = 0;
  for (const LicensedQuantity& f : license.features) {
    SqliteStatement feature(statements_, "INSERT INTO license_features (serial, position, name, qty) VALUES (?1, ?2, ?3, ?4)");
    s = feature.bind(1, license.serial).bind(2, position++).bind(3, f.name).bind(4, int64_t{f.qty}).run();
    if (!s.ok()) return s;
  }
  return tx.commit();
}

Result<std::vector<LicensedQuantity>> SqliteDirectory::license_features(std::string_view serial) {
  std::vector<LicensedQuantity> features;
  SqliteStatement select(statements_, "SELECT name, qty FROM license_features WHERE serial = ?1 ORDER BY position");
  select.bind(1, serial);
  for (;;) {
    Result<bool> row = select.step();
    if (!row.ok()) return row.status();
    if (!*row) return features;
    features.push_back({select.column_text(0), static_cast<uint32_t>(select.column_int(1))});
  }
}

Result<std::vector<IssuedLicense>> SqliteDirectory::issued(std::string_view system_id) {
  std::vector<IssuedLicense> licenses;
  SqliteStatement select(statements_,
                         "SELECT serial, issued, expires FROM licenses WHERE system_id = ?1 ORDER BY issued, rowid");
  select.bind(1, system_id);
  for (;;) {
    Result<bool> row = select.step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    licenses.push_back({std::string(system_id), select.column_text(0), select.column_int(1), select.column_int(2), {}});
  }
  for (IssuedLicense& license : licenses) {
    Result<std::vector<LicensedQuantity>> features = license_features(license.serial);
    if (!features.ok()) return features.status();
    license.features = std::move(*features);
  }
  return licenses;
}

Result<std::optional<IssuedLicense>> SqliteDirectory::last_issued(std::string_view system_id) {
  // The latest recorded, as the in-memory directory answers: issue times
  // only grow, and rowid breaks a tie.
  SqliteStatement select(statements_,
                         "SELECT serial, issued, expires FROM licenses WHERE system_id = ?1 "
                         "ORDER BY rowid DESC LIMIT 1");
  Result<bool> row = select.bind(1, system_id).step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<IssuedLicense>();
  IssuedLicense license{std::string(system_id), select.column_text(0), select.column_int(1), select.column_int(2), {}};
  Result<std::vector<LicensedQuantity>> features = license_features(license.serial);
  if (!features.ok()) return features.status();
  license.features = std::move(*features);
  return std::optional<IssuedLicense>(std::move(license));
}

Status SqliteDirectory::record_revoked(std::string_view system_id, std::string_view serial, std::string_view reason,
                                       Millis at) {
  SqliteStatement insert(statements_,
                         "INSERT OR IGNORE INTO revocations (system_id, serial, reason, at) VALUES (?1, ?2, ?3, ?4)");
  return insert.bind(1, system_id).bind(2, serial).bind(3, reason).bind(4, at).run();
}

Result<bool> SqliteDirectory::is_revoked(std::string_view system_id, std::string_view serial) {
  SqliteStatement select(statements_, "SELECT count(*) FROM revocations WHERE system_id = ?1 AND serial = ?2");
  Result<bool> row = select.bind(1, system_id).bind(2, serial).step();
  if (!row.ok()) return row.status();
  return select.column_int(0) > 0;
}

Result<std::vector<RevocationRecord>> SqliteDirectory::revocations() {
  std::vector<RevocationRecord> out;
  SqliteStatement select(statements_, "SELECT system_id, serial, reason, at FROM revocations ORDER BY rowid");
  for (;;) {
    Result<bool> row = select.step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    out.push_back({select.column_text(0), select.column_text(1), select.column_text(2), select.column_int(3)});
  }
}

Result<int64_t> SqliteDirectory::connection_up(const ConnectionRecord& connection) {
  SqliteStatement insert(statements_,
                         "INSERT INTO connections (system_id, customer_id, port, peer, up) VALUES (?1, ?2, ?3, ?4, ?5)");
  const Status s = insert.bind(1, connection.system_id)
                       .bind(2, connection.customer_id)
                       .bind(3, int64_t{connection.port})
                       .bind(4, connection.peer)
                       .bind(5, connection.up)
                       .run();
  if (!s.ok()) return s;
  return static_cast<int64_t>(sqlite3_last_insert_rowid(db_));
}

Status SqliteDirectory::connection_down(int64_t id, Millis at, std::string_view reason) {
  SqliteStatement update(statements_, "UPDATE connections SET down = ?2, down_reason = ?3 WHERE id = ?1");
  const Status s = update.bind(1, id).bind(2, at).bind(3, reason).run();
  if (!s.ok()) return s;
  return sqlite3_changes(db_) == 0 ? Status(Reason::invalid_argument) : Status::Ok();
}

Status SqliteDirectory::connection_contact(int64_t id, Millis at) {
  SqliteStatement update(statements_, "UPDATE connections SET last_contact = ?2 WHERE id = ?1");
  const Status s = update.bind(1, id).bind(2, at).run();
  if (!s.ok()) return s;
  return sqlite3_changes(db_) == 0 ? Status(Reason::invalid_argument) : Status::Ok();
}

Result<std::vector<ConnectionHistory>> SqliteDirectory::connections() {
  std::vector<ConnectionHistory> out;
  SqliteStatement select(statements_,
                         "SELECT id, system_id, customer_id, port, peer, up, down, down_reason, last_contact "
                         "FROM connections ORDER BY id");
  for (;;) {
    Result<bool> row = select.step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    ConnectionHistory c;
    c.id = select.column_int(0);
    c.record = {select.column_text(1), select.column_text(2), static_cast<uint16_t>(select.column_int(3)),
                select.column_text(4), select.column_int(5)};
    c.down = select.column_optional_int(6);
    c.down_reason = select.column_text(7);
    c.last_contact = select.column_optional_int(8);
    out.push_back(std::move(c));
  }
}

Result<std::vector<SystemSummary>> SqliteDirectory::system_summaries() {
  std::vector<SystemSummary> out;
  SqliteStatement select(statements_,
                         "SELECT s.id, s.customer_id, c.id, c.customer_id, c.port, c.peer, c.up, c.down, "
                         "c.down_reason, c.last_contact, "
                         "(SELECT serial FROM licenses WHERE system_id = s.id ORDER BY issued DESC LIMIT 1), "
                         "a.raised, a.detail "
                         "FROM systems s LEFT JOIN connections c "
                         "ON c.id = (SELECT max(id) FROM connections WHERE system_id = s.id) "
                         "LEFT JOIN alarms a ON a.system_id = s.id AND a.kind = ?1 AND a.cleared IS NULL "
                         "ORDER BY s.id");
  select.bind(1, kDuplicateIdentityAlarm);
  for (;;) {
    Result<bool> row = select.step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    SystemSummary summary;
    summary.system_id = select.column_text(0);
    summary.customer_id = select.column_text(1);
    if (std::optional<int64_t> id = select.column_optional_int(2)) {
      ConnectionHistory c;
      c.id = *id;
      c.record = {summary.system_id, select.column_text(3), static_cast<uint16_t>(select.column_int(4)),
                  select.column_text(5), select.column_int(6)};
      c.down = select.column_optional_int(7);
      c.down_reason = select.column_text(8);
      c.last_contact = select.column_optional_int(9);
      summary.last_connection = std::move(c);
    }
    std::string serial = select.column_text(10);
    if (!serial.empty()) summary.last_serial = std::move(serial);
    if (std::optional<int64_t> raised = select.column_optional_int(11)) {
      summary.duplicate_identity = SystemAlarm{summary.system_id, std::string(kDuplicateIdentityAlarm), *raised,
                                               select.column_text(12), std::nullopt};
    }
    out.push_back(std::move(summary));
  }
}

Status SqliteDirectory::record_audit(const AuditRecord& audit) {
  SqliteTransaction tx(db_);
  if (!tx.status().ok()) return tx.status();
  SqliteStatement insert(statements_,
                         "INSERT INTO audits (system_id, serial, from_ms, to_ms, result, received) "
                         "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  Status s = insert.bind(1, audit.system_id)
                 .bind(2, audit.serial)
                 .bind(3, audit.from)
                 .bind(4, audit.to)
                 .bind(5, audit_result_name(audit.result))
                 .bind(6, audit.received)
                 .run();
  if (!s.ok()) return s;
  const int64_t id = sqlite3_last_insert_rowid(db_);
  int64_t position = 0;
  for (const FeatureUsageReport& u : audit.usage) {
    SqliteStatement usage(statements_,
                          "INSERT INTO audit_usage (audit_id, position, name, in_use, peak) VALUES (?1, ?2, ?3, ?4, ?5)");
    s = usage.bind(1, id).bind(2, position++).bind(3, u.name).bind(4, u.in_use).bind(5, u.peak).run();
    if (!s.ok()) return s;
  }
  position = 0;
  for (const Overuse& o : audit.over) {
    SqliteStatement over(statements_,
                         "INSERT INTO audit_overuse (audit_id, position, name, peak, licensed) "
                         "VALUES (?1, ?2, ?3, ?4, ?5)");
    s = over.bind(1, id).bind(2, position++).bind(3, o.name).bind(4, o.peak).bind(5, int64_t{o.licensed}).run();
    if (!s.ok()) return s;
  }
  return tx.commit();
}

Status SqliteDirectory::read_audit_details(int64_t audit_id, AuditRecord& audit) {
  SqliteStatement usage(statements_, "SELECT name, in_use, peak FROM audit_usage WHERE audit_id = ?1 ORDER BY position");
  usage.bind(1, audit_id);
  for (;;) {
    Result<bool> row = usage.step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    audit.usage.push_back({usage.column_text(0), usage.column_int(1), usage.column_int(2)});
  }
  SqliteStatement over(statements_, "SELECT name, peak, licensed FROM audit_overuse WHERE audit_id = ?1 ORDER BY position");
  over.bind(1, audit_id);
  for (;;) {
    Result<bool> row = over.step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::Ok();
    audit.over.push_back({over.column_text(0), over.column_int(1), static_cast<uint32_t>(over.column_int(2))});
  }
}

Result<std::vector<AuditRecord>> SqliteDirectory::audits(std::string_view system_id) {
  std::vector<std::pair<int64_t, AuditRecord>> found;
  SqliteStatement select(statements_,
                         "SELECT id, serial, from_ms, to_ms, result, received FROM audits WHERE system_id = ?1 "
                         "ORDER BY id");
  select.bind(1, system_id);
  for (;;) {
    Result<bool> row = select.step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    AuditRecord a;
    a.system_id = std::string(system_id);
    a.serial = select.column_text(1);
    a.from = select.column_int(2);
    a.to = select.column_int(3);
    a.result = select.column_text(4) == audit_result_name(AuditResult::overuse) ? AuditResult::overuse : AuditResult::ok;
    a.received = select.column_int(5);
    found.emplace_back(select.column_int(0), std::move(a));
  }
  std::vector<AuditRecord> out;
  for (auto& [id, audit] : found) {
    const Status s = read_audit_details(id, audit);
    if (!s.ok()) return s;
    out.push_back(std::move(audit));
  }
  return out;
}

Result<int64_t> SqliteDirectory::store_events(std::string_view system_id, std::string_view stream,
                                              std::span<const DeviceEvent> events) {
  SqliteTransaction tx(db_);
  if (!tx.status().ok()) return tx.status();
  SqliteStatement highest(statements_,
                          "SELECT coalesce(max(seq), 0) FROM events WHERE system_id = ?1 AND stream = ?2");
  Result<bool> row = highest.bind(1, system_id).bind(2, stream).step();
  if (!row.ok()) return row.status();
  int64_t upto = highest.column_int(0);
  for (const DeviceEvent& e : events) {
    // Only seqs above the highest stored for the stream are new (the device
    // sends them in order); UNIQUE(system_id, stream, seq) backs that up.
    if (e.seq <= upto) continue;
    SqliteStatement insert(statements_,
                           "INSERT OR IGNORE INTO events (system_id, stream, seq, time, kind, json) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    const Status s =
        insert.bind(1, system_id).bind(2, stream).bind(3, e.seq).bind(4, e.time).bind(5, e.kind).bind(6, e.json).run();
    if (!s.ok()) return s;
    upto = e.seq;
  }
  const Status s = tx.commit();
  if (!s.ok()) return s;
  return upto;
}

Result<std::vector<DeviceEvent>> SqliteDirectory::events(std::string_view system_id) {
  std::vector<DeviceEvent> out;
  SqliteStatement select(statements_,
                         "SELECT stream, seq, time, kind, json FROM events WHERE system_id = ?1 ORDER BY rowid");
  select.bind(1, system_id);
  for (;;) {
    Result<bool> row = select.step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    out.push_back({select.column_text(0), select.column_int(1), select.column_optional_int(2), select.column_text(3),
                   select.column_text(4)});
  }
}

Status SqliteDirectory::raise_alarm(const SystemAlarm& alarm) {
  // The partial unique index keeps one standing alarm per system and kind.
  SqliteStatement insert(statements_,
                         "INSERT OR IGNORE INTO alarms (system_id, kind, raised, detail) VALUES (?1, ?2, ?3, ?4)");
  return insert.bind(1, alarm.system_id).bind(2, alarm.kind).bind(3, alarm.raised).bind(4, alarm.detail).run();
}

Result<bool> SqliteDirectory::alarm_standing(std::string_view system_id, std::string_view kind) {
  SqliteStatement select(statements_,
                         "SELECT count(*) FROM alarms WHERE system_id = ?1 AND kind = ?2 AND cleared IS NULL");
  Result<bool> row = select.bind(1, system_id).bind(2, kind).step();
  if (!row.ok()) return row.status();
  return select.column_int(0) > 0;
}

Result<bool> SqliteDirectory::clear_alarm(std::string_view system_id, std::string_view kind, Millis at) {
  SqliteStatement update(statements_,
                         "UPDATE alarms SET cleared = ?3 WHERE system_id = ?1 AND kind = ?2 AND cleared IS NULL");
  const Status s = update.bind(1, system_id).bind(2, kind).bind(3, at).run();
  if (!s.ok()) return s;
  return sqlite3_changes(db_) > 0;
}

Result<std::vector<SystemAlarm>> SqliteDirectory::alarms() {
  std::vector<SystemAlarm> out;
  SqliteStatement select(statements_, "SELECT system_id, kind, raised, detail, cleared FROM alarms ORDER BY id");
  for (;;) {
    Result<bool> row = select.step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    out.push_back({select.column_text(0), select.column_text(1), select.column_int(2), select.column_text(3),
                   select.column_optional_int(4)});
  }
}

}  // namespace sublink
