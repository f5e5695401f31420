// SqliteDirectory beyond the shared contract: what the file keeps across a
// restart, how the database itself enforces the rules, and its schema.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "server_db/directory_backends.h"
#include "tools/server/db/sqlite_schema.h"

namespace sublink {
namespace {

class SqliteDirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override { backend.put_system({"C-42", "SYS-7", {{"trunks", 30}}, 5000, false}); }

  /// Runs `sql` on a second connection to the file, as an operator would.
  int raw(const char* sql) {
    sqlite3* db = nullptr;
    sqlite3_open(backend.path().c_str(), &db);
    const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
    sqlite3_close(db);
    return rc;
  }

  SqliteBackend backend;
};

int64_t first_number(const std::string& path, const char* sql);

TEST_F(SqliteDirectoryTest, EverythingSurvivesAReopen) {
  Directory& d = backend.directory();
  const std::string serial = *d.next_serial("SYS-7");
  ASSERT_TRUE(d.record_issued({"SYS-7", serial, 100, 200, {{"trunks", 30}}}).ok());
  ASSERT_TRUE(d.record_revoked("SYS-7", "L-old", "fraud", 7).ok());
  const int64_t connection = *d.connection_up({"SYS-7", "C-42", 8443, "127.0.0.1:4000", 50});
  ASSERT_TRUE(d.record_audit({"SYS-7", serial, 1, 2, {{"trunks", 3, 4}}, AuditResult::ok, {}, 60}).ok());
  DeviceEvent e{"00000000000000a1", 1, 1001, "license_applied", R"({"seq":1})"};
  ASSERT_TRUE(d.store_events("SYS-7", e.stream, std::span<const DeviceEvent>(&e, 1)).ok());

  backend.reopen();
  Directory& again = backend.directory();
  Result<SystemLookup> lookup = again.find_system("C-42", "SYS-7");
  ASSERT_EQ(lookup->match, SystemMatch::found);
  EXPECT_EQ(lookup->record.entitlements.at("trunks"), 30u);
  EXPECT_EQ(lookup->record.subscription_end, 5000);
  EXPECT_EQ((*again.last_issued("SYS-7"))->serial, serial);
  EXPECT_TRUE(*again.is_revoked("SYS-7", "L-old"));
  EXPECT_TRUE(again.connection_down(connection, 70, "closed").ok()) << "a connection's id outlives a restart";
  EXPECT_EQ(backend.audits("SYS-7").size(), 1u);
  EXPECT_NE(*again.next_serial("SYS-7"), serial) << "serials are not reused after a restart";
  DeviceEvent repeat = e;
  EXPECT_EQ(*again.store_events("SYS-7", e.stream, std::span<const DeviceEvent>(&repeat, 1)), 1);
  EXPECT_EQ(backend.events("SYS-7").size(), 1u) << "an event resent after a restart is stored once";
}

TEST_F(SqliteDirectoryTest, TheDatabaseRefusesADuplicateEventSeq) {
  DeviceEvent e{"00000000000000a1", 1, 1001, "license_applied", R"({"seq":1})"};
  ASSERT_TRUE(backend.directory().store_events("SYS-7", e.stream, std::span<const DeviceEvent>(&e, 1)).ok());
  EXPECT_EQ(raw("INSERT INTO events (system_id, stream, seq, kind, json) VALUES ('SYS-7', '00000000000000a1', 1, 'x', '{}')"),
            SQLITE_CONSTRAINT);
  EXPECT_EQ(raw("INSERT INTO events (system_id, stream, seq, kind, json) VALUES ('SYS-8', '00000000000000a1', 1, 'x', '{}')"),
            SQLITE_OK)
      << "the same seq from another system is another event";
  EXPECT_EQ(raw("INSERT INTO events (system_id, stream, seq, kind, json) VALUES ('SYS-7', '00000000000000b2', 1, 'x', '{}')"),
            SQLITE_OK)
      << "the same seq in another stream is another event";
}

// Schema versions before 5 had no tunnels table.
constexpr const char* kBeforeTunnels = "DROP TABLE tunnels; ";
// Schema versions before 4 had neither alarms nor tunnels.
constexpr const char* kBeforeAlarms = "DROP TABLE tunnels; DROP TABLE alarms; ";

// The events table as schema version 2 had it: keyed by (system, seq).
constexpr const char* kVersion2Events =
    "DROP TABLE events; "
    "CREATE TABLE events (system_id TEXT NOT NULL, seq INTEGER NOT NULL, time INTEGER, kind TEXT NOT NULL, "
    "json TEXT NOT NULL, UNIQUE (system_id, seq)); ";

TEST_F(SqliteDirectoryTest, AVersion2DatabaseIsUpgradedInPlaceKeepingEveryEventUnderTheLegacyStream) {
  ASSERT_EQ(raw((std::string(kBeforeAlarms) + kVersion2Events +
                 "INSERT INTO events (system_id, seq, time, kind, json) VALUES "
                 "('SYS-7', 1, 1001, 'grace_started', '{\"seq\":1}'), ('SYS-7', 2, NULL, 'clock_rollback', '{\"seq\":2}'), "
                 "('SYS-8', 1, 1003, 'link_up', '{\"seq\":1}'); "
                 "UPDATE schema_version SET version = 2")
                    .c_str()),
            SQLITE_OK);
  backend.reopen();
  EXPECT_EQ(first_number(backend.path(), "SELECT version FROM schema_version"), kSqliteSchemaVersion);
  const std::vector<DeviceEvent> kept = backend.events("SYS-7");
  ASSERT_EQ(kept.size(), 2u) << "every row of version 2 is kept";
  EXPECT_EQ(kept[0].stream, kLegacyEventStream);
  EXPECT_EQ(kept[0].seq, 1);
  EXPECT_EQ(kept[0].time, 1001);
  EXPECT_EQ(kept[0].kind, "grace_started");
  EXPECT_EQ(kept[1].seq, 2);
  EXPECT_FALSE(kept[1].time.has_value());
  EXPECT_EQ(kept[1].json, R"({"seq":2})");
  EXPECT_EQ(backend.events("SYS-8").size(), 1u);
  // The device that stored them, wiped, starts a new stream at seq 1: new
  // events, not repeats of the legacy ones, which keep their upto.
  Directory& d = backend.directory();
  DeviceEvent fresh{"00000000000000c3", 1, 2001, "record_damaged", R"({"seq":1})"};
  EXPECT_EQ(*d.store_events("SYS-7", fresh.stream, std::span<const DeviceEvent>(&fresh, 1)), 1);
  DeviceEvent legacy_repeat{std::string(kLegacyEventStream), 2, 1002, "clock_rollback", R"({"seq":2})"};
  EXPECT_EQ(*d.store_events("SYS-7", kLegacyEventStream, std::span<const DeviceEvent>(&legacy_repeat, 1)), 2);
  EXPECT_EQ(backend.events("SYS-7").size(), 3u);
  // Through version 3 on to 4 in the same open: the alarms table is there.
  ASSERT_TRUE(d.raise_alarm({"SYS-7", "duplicate_identity", 3000, "two", std::nullopt}).ok());
  EXPECT_TRUE(*d.alarm_standing("SYS-7", "duplicate_identity"));
  backend.reopen();  // and a second open finds the current version
  EXPECT_EQ(backend.events("SYS-7").size(), 3u);
  EXPECT_TRUE(*backend.directory().alarm_standing("SYS-7", "duplicate_identity"));
}

TEST_F(SqliteDirectoryTest, SetEntitlementChangesOneFeatureOfAKnownSystem) {
  SqliteDirectory& d = backend.sqlite();
  ASSERT_TRUE(d.set_entitlement("SYS-7", "trunks", 12).ok());
  ASSERT_TRUE(d.set_entitlement("SYS-7", "apps", 3).ok());
  EXPECT_EQ(d.set_entitlement("SYS-404", "apps", 3).reason(), Reason::invalid_argument);
  const std::map<std::string, uint32_t> want{{"apps", 3}, {"trunks", 12}};
  EXPECT_EQ(d.find_system("C-42", "SYS-7")->record.entitlements, want);
}

TEST_F(SqliteDirectoryTest, AnotherSchemaVersionIsRefusedNotGuessedAt) {
  ASSERT_EQ(raw("UPDATE schema_version SET version = 99"), SQLITE_OK);
  Result<std::unique_ptr<SqliteDirectory>> opened = SqliteDirectory::open(backend.path());
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status(), Status(Reason::invalid_argument, 99));
}

TEST_F(SqliteDirectoryTest, AVersion1DatabaseIsUpgradedKeepingItsConnections) {
  const int64_t id = *backend.directory().connection_up({"SYS-7", "C-42", 443, "127.0.0.1:5000", 10});
  // Back to the version 1 layout: connections without last_contact.
  ASSERT_EQ(raw((std::string(kBeforeAlarms) + kVersion2Events +
                 "DROP INDEX connections_by_system; ALTER TABLE connections DROP COLUMN last_contact; "
                 "ALTER TABLE customers DROP COLUMN name; UPDATE schema_version SET version = 1")
                    .c_str()),
            SQLITE_OK);
  backend.reopen();
  EXPECT_EQ(*backend.sqlite().customer_name("C-42"), "") << "a customer from version 1 has no name";
  ASSERT_TRUE(backend.directory().connection_contact(id, 15).ok());
  const std::vector<ConnectionHistory> connections = backend.connections();
  ASSERT_EQ(connections.size(), 1u);
  EXPECT_EQ(connections[0].record.peer, "127.0.0.1:5000");
  EXPECT_EQ(connections[0].last_contact, 15);
  backend.reopen();  // and a second open finds the current version
  EXPECT_EQ(backend.connections().size(), 1u);
}

TEST_F(SqliteDirectoryTest, AVersion3DatabaseIsUpgradedInPlaceWithRoomForAlarms) {
  Directory& d = backend.directory();
  const int64_t id = *d.connection_up({"SYS-7", "C-42", 443, "127.0.0.1:5000", 10});
  DeviceEvent e{"00000000000000a1", 1, 1001, "license_applied", R"({"seq":1})"};
  ASSERT_TRUE(d.store_events("SYS-7", e.stream, std::span<const DeviceEvent>(&e, 1)).ok());
  // Back to the version 3 layout: no alarms.
  ASSERT_EQ(raw((std::string(kBeforeAlarms) + "UPDATE schema_version SET version = 3").c_str()), SQLITE_OK);
  EXPECT_NE(raw("SELECT count(*) FROM alarms"), SQLITE_OK);
  backend.reopen();
  EXPECT_EQ(raw("SELECT count(*) FROM alarms"), SQLITE_OK) << "the upgrade added the table";
  ASSERT_TRUE(backend.directory().connection_down(id, 20, "closed").ok()) << "what version 3 kept is still there";
  const std::vector<DeviceEvent> kept = backend.events("SYS-7");
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].stream, "00000000000000a1") << "version 3's events keep their stream";
  ASSERT_TRUE(backend.directory().raise_alarm({"SYS-7", "duplicate_identity", 30, "two", std::nullopt}).ok());
  EXPECT_TRUE(*backend.directory().alarm_standing("SYS-7", "duplicate_identity"));
  backend.reopen();  // a second open finds the current version, and the alarm
  EXPECT_TRUE(*backend.directory().alarm_standing("SYS-7", "duplicate_identity"));
  sqlite3* db = nullptr;
  sqlite3_open(backend.path().c_str(), &db);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT version FROM schema_version", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int64(stmt, 0), kSqliteSchemaVersion);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST_F(SqliteDirectoryTest, AFailedUpgradeLeavesTheDatabaseAsItWas) {
  // A version 3 database where the alarms table is in the way: the upgrade
  // fails as a whole and the version stays 3.
  ASSERT_EQ(raw("DROP TABLE alarms; CREATE TABLE alarms (x); UPDATE schema_version SET version = 3"), SQLITE_OK);
  Result<std::unique_ptr<SqliteDirectory>> opened = SqliteDirectory::open(backend.path());
  EXPECT_FALSE(opened.ok());
  EXPECT_EQ(raw("INSERT INTO alarms (x) VALUES (1)"), SQLITE_OK) << "the old table is untouched";
  EXPECT_EQ(first_number(backend.path(), "SELECT version FROM schema_version"), 3);
}

TEST_F(SqliteDirectoryTest, OneDuplicateIdentityAlarmStandsPerSystemUntilCleared) {
  SqliteDirectory& d = backend.sqlite();
  backend.put_system({"C-42", "SYS-8", {}, kNever, false});
  ASSERT_TRUE(d.raise_alarm({"SYS-7", "duplicate_identity", 100, "first", std::nullopt}).ok());
  ASSERT_TRUE(d.raise_alarm({"SYS-7", "duplicate_identity", 200, "again", std::nullopt}).ok());
  Result<std::vector<SystemAlarm>> alarms = d.alarms();
  ASSERT_EQ(alarms->size(), 1u) << "raising a standing alarm changes nothing";
  EXPECT_EQ((*alarms)[0].raised, 100);
  EXPECT_EQ((*alarms)[0].detail, "first");
  EXPECT_EQ(raw("INSERT INTO alarms (system_id, kind, raised, detail) VALUES ('SYS-7', 'duplicate_identity', 1, '')"),
            SQLITE_CONSTRAINT)
      << "the database itself keeps one standing alarm per system and kind";

  Result<std::vector<SystemSummary>> summaries = d.system_summaries();
  ASSERT_EQ(summaries->size(), 2u);
  ASSERT_TRUE((*summaries)[0].duplicate_identity);
  EXPECT_EQ((*summaries)[0].duplicate_identity->raised, 100);
  EXPECT_EQ((*summaries)[0].duplicate_identity->detail, "first");
  EXPECT_FALSE((*summaries)[1].duplicate_identity) << "SYS-8 has none";

  EXPECT_TRUE(*d.clear_alarm("SYS-7", "duplicate_identity", 300));
  EXPECT_FALSE(*d.clear_alarm("SYS-7", "duplicate_identity", 400)) << "nothing stands any more";
  EXPECT_FALSE(*d.alarm_standing("SYS-7", "duplicate_identity"));
  EXPECT_FALSE((*d.system_summaries())[0].duplicate_identity);
  ASSERT_TRUE(d.raise_alarm({"SYS-7", "duplicate_identity", 500, "later", std::nullopt}).ok());
  alarms = d.alarms();
  ASSERT_EQ(alarms->size(), 2u) << "the cleared one stays as history";
  EXPECT_EQ((*alarms)[0].cleared, 300);
  EXPECT_FALSE((*alarms)[1].cleared);
}

TEST_F(SqliteDirectoryTest, ACustomerKeepsItsNameAndCanBeRenamed) {
  SqliteDirectory& d = backend.sqlite();
  ASSERT_TRUE(d.put_customer("C-50", "Acme Telephony").ok());
  EXPECT_EQ(*d.customer_name("C-50"), "Acme Telephony");
  ASSERT_TRUE(d.put_customer("C-50").ok());
  EXPECT_EQ(*d.customer_name("C-50"), "Acme Telephony") << "adding it again without a name keeps the name";
  ASSERT_TRUE(d.put_customer("C-50", "Acme").ok());
  EXPECT_EQ(*d.customer_name("C-50"), "Acme");
  EXPECT_FALSE(d.customer_name("C-404")->has_value());
}

TEST_F(SqliteDirectoryTest, SystemSummariesShowTheLatestConnectionAndLicense) {
  backend.put_system({"C-42", "SYS-9", {}, kNever, false});
  backend.put_system({"C-43", "SYS-1", {}, kNever, false});
  Directory& d = backend.directory();
  const int64_t old_link = *d.connection_up({"SYS-7", "C-42", 443, "127.0.0.1:5000", 10});
  ASSERT_TRUE(d.connection_down(old_link, 20, "closed").ok());
  const int64_t link = *d.connection_up({"SYS-7", "C-42", 8443, "127.0.0.1:5001", 30});
  ASSERT_TRUE(d.connection_contact(link, 35).ok());
  ASSERT_TRUE(d.connection_down(link, 40, "no_contact").ok());
  (void)d.connection_up({"SYS-9", "C-42", 443, "[::1]:6000", 50});
  ASSERT_TRUE(d.record_issued({"SYS-7", "L-1", 100, 200, {{"trunks", 30}}}).ok());
  ASSERT_TRUE(d.record_issued({"SYS-7", "L-2", 150, 250, {{"trunks", 30}}}).ok());

  Result<std::vector<SystemSummary>> summaries = backend.sqlite().system_summaries();
  ASSERT_TRUE(summaries.ok());
  ASSERT_EQ(summaries->size(), 3u);
  const SystemSummary& never = (*summaries)[0];
  EXPECT_EQ(never.system_id, "SYS-1") << "in system_id order";
  EXPECT_EQ(never.customer_id, "C-43");
  EXPECT_FALSE(never.last_connection.has_value());
  EXPECT_FALSE(never.last_serial.has_value());
  const SystemSummary& seven = (*summaries)[1];
  ASSERT_TRUE(seven.last_connection.has_value());
  EXPECT_EQ(seven.last_connection->id, link);
  EXPECT_EQ(seven.last_connection->record.port, 8443);
  EXPECT_EQ(seven.last_connection->last_contact, 35);
  EXPECT_EQ(seven.last_connection->down, 40);
  EXPECT_EQ(seven.last_serial, "L-2");
  const SystemSummary& nine = (*summaries)[2];
  ASSERT_TRUE(nine.last_connection.has_value());
  EXPECT_FALSE(nine.last_connection->down.has_value()) << "still up";
  EXPECT_EQ(nine.last_connection->record.peer, "[::1]:6000");
}

TEST_F(SqliteDirectoryTest, AFileThatIsNoDatabaseIsAnErrorNotACrash) {
  const std::string path = backend.path() + ".junk";
  FILE* f = fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  fputs("this is not an SQLite database, but long enough to have a header page....................", f);
  fclose(f);
  Result<std::unique_ptr<SqliteDirectory>> opened = SqliteDirectory::open(path);
  std::remove(path.c_str());
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().reason(), Reason::io_error);
  EXPECT_EQ(opened.status().detail() & 0xff, SQLITE_NOTADB);
}

TEST_F(SqliteDirectoryTest, AMissingFolderIsAnError) {
  Result<std::unique_ptr<SqliteDirectory>> opened = SqliteDirectory::open("/nonexistent-dir/x/server.db");
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().detail() & 0xff, SQLITE_CANTOPEN);
}

TEST_F(SqliteDirectoryTest, AFreshDatabaseRecordsItsSchemaVersion) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(backend.path().c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT version FROM schema_version", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int64(stmt, 0), kSqliteSchemaVersion);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

// The first column of the first row `sql` gives on its own connection.
int64_t first_number(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_stmt* stmt = nullptr;
  int64_t value = -1;
  if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW) {
    value = sqlite3_column_int64(stmt, 0);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return value;
}

TEST_F(SqliteDirectoryTest, AnOperatorHoldingTheWriteLockDoesNotStopTheServerReading) {
  // WAL: the server keeps answering hellos while an admin command writes.
  sqlite3* writer = nullptr;
  ASSERT_EQ(sqlite3_open(backend.path().c_str(), &writer), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(writer, "BEGIN EXCLUSIVE; INSERT INTO customers (id) VALUES ('C-43')", nullptr, nullptr,
                         nullptr),
            SQLITE_OK);
  Directory& d = backend.directory();
  Result<SystemLookup> lookup = d.find_system("C-42", "SYS-7");
  ASSERT_TRUE(lookup.ok()) << "a read waits for no writer";
  EXPECT_EQ(lookup->match, SystemMatch::found);
  EXPECT_FALSE(d.next_serial("SYS-7").ok()) << "writers still take turns";
  sqlite3_exec(writer, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_close(writer);
  EXPECT_TRUE(d.next_serial("SYS-7").ok());
}

TEST_F(SqliteDirectoryTest, AKeptStatementHoldsNoReadOpenBetweenCalls) {
  // last_issued reads one row of many and stops: a kept statement that was
  // not reset would pin the log, and the checkpoint below could not finish.
  Directory& d = backend.directory();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(d.record_issued({"SYS-7", "L-" + std::to_string(i), 100 + i, 200, {{"trunks", 1}}}).ok());
  }
  for (int i = 0; i < 2; ++i) EXPECT_EQ((*d.last_issued("SYS-7"))->serial, "L-2");
  EXPECT_EQ(first_number(backend.path(), "PRAGMA wal_checkpoint(TRUNCATE)"), 0) << "0: not blocked by a reader";
  EXPECT_EQ(first_number(backend.path(), "SELECT count(*) FROM licenses"), 3);
  ASSERT_TRUE(d.record_issued({"SYS-7", "L-3", 103, 200, {}}).ok()) << "a kept statement runs again";
  EXPECT_EQ((*d.last_issued("SYS-7"))->serial, "L-3");
}

// A channel as it opens: who, which, when; nothing of its end yet.
TunnelRecord opening(std::string system_id, uint16_t channel, std::string service, std::string op, Millis opened) {
  TunnelRecord r;
  r.system_id = std::move(system_id);
  r.channel = channel;
  r.service = std::move(service);
  r.op = std::move(op);
  r.opened = opened;
  return r;
}

TEST_F(SqliteDirectoryTest, AVersion4DatabaseIsUpgradedInPlaceWithRoomForTunnels) {
  Directory& d = backend.directory();
  ASSERT_TRUE(d.raise_alarm({"SYS-7", "duplicate_identity", 30, "two", std::nullopt}).ok());
  ASSERT_EQ(raw((std::string(kBeforeTunnels) + "UPDATE schema_version SET version = 4").c_str()), SQLITE_OK);
  EXPECT_NE(raw("SELECT count(*) FROM tunnels"), SQLITE_OK);
  backend.reopen();
  EXPECT_EQ(first_number(backend.path(), "SELECT version FROM schema_version"), kSqliteSchemaVersion);
  EXPECT_TRUE(*backend.directory().alarm_standing("SYS-7", "duplicate_identity")) << "version 4's alarm is kept";
  Result<int64_t> id = backend.sqlite().tunnel_opened(opening("SYS-7", 1, "http", "alice", 100));
  ASSERT_TRUE(id.ok()) << "the upgrade added the table";
  backend.reopen();  // a second open finds the current version and the row
  EXPECT_EQ(backend.sqlite().tunnels("SYS-7")->size(), 1u);
}

TEST_F(SqliteDirectoryTest, ATunnelIsRecordedWhenItOpensAndCompletedWhenItCloses) {
  SqliteDirectory& db = backend.sqlite();
  const int64_t web = *db.tunnel_opened(opening("SYS-7", 1, "http", "alice", 1000));
  const int64_t shell = *db.tunnel_opened(opening("SYS-7", 2, "ssh", "", 1500));
  const int64_t other = *db.tunnel_opened(opening("SYS-8", 1, "http", "bob", 1600));
  ASSERT_TRUE(db.tunnel_closed(web, 4000, 512, 70000, "fin").ok());
  backend.reopen();  // what the records keep survives a restart
  std::vector<TunnelRecord> kept = *backend.sqlite().tunnels("SYS-7");
  ASSERT_EQ(kept.size(), 2u) << "only SYS-7's, oldest first";
  EXPECT_EQ(kept[0].channel, 1);
  EXPECT_EQ(kept[0].service, "http");
  EXPECT_EQ(kept[0].op, "alice");
  EXPECT_EQ(kept[0].opened, 1000);
  EXPECT_EQ(kept[0].closed, 4000);
  EXPECT_EQ(kept[0].bytes_in, 512u);
  EXPECT_EQ(kept[0].bytes_out, 70000u);
  EXPECT_EQ(kept[0].reason, "fin");
  EXPECT_EQ(kept[1].service, "ssh");
  EXPECT_EQ(kept[1].op, "");
  EXPECT_FALSE(kept[1].closed.has_value()) << "still open";
  EXPECT_EQ(kept[1].reason, "");
  EXPECT_EQ(backend.sqlite().tunnels()->size(), 3u) << "every system's without a filter";
  // A row closes once: a second close (or an unknown row) changes nothing.
  Status again = backend.sqlite().tunnel_closed(web, 9000, 1, 1, "link_lost");
  EXPECT_EQ(again.reason(), Reason::invalid_argument);
  EXPECT_EQ(backend.sqlite().tunnel_closed(other + 100, 9000, 1, 1, "fin").reason(), Reason::invalid_argument);
  EXPECT_EQ((*backend.sqlite().tunnels("SYS-7"))[0].reason, "fin");
  // Counts beyond 4 GiB are kept whole.
  ASSERT_TRUE(backend.sqlite().tunnel_closed(shell, 9000, 5'000'000'000ull, 0, "link_lost").ok());
  EXPECT_EQ((*backend.sqlite().tunnels("SYS-7"))[1].bytes_in, 5'000'000'000ull);
}

TEST_F(SqliteDirectoryTest, ChannelsAServerLeftOpenAreClosedAtItsNextStart) {
  SqliteDirectory& db = backend.sqlite();
  const int64_t done = *db.tunnel_opened(opening("SYS-7", 1, "http", "alice", 1000));
  ASSERT_TRUE(db.tunnel_closed(done, 2000, 10, 20, "fin").ok());
  ASSERT_TRUE(db.tunnel_opened(opening("SYS-7", 2, "http", "alice", 3000)).ok());
  ASSERT_TRUE(db.tunnel_opened(opening("SYS-8", 9, "ssh", "bob", 3100)).ok());
  EXPECT_EQ(*db.close_abandoned_tunnels(5000), 2);
  const std::vector<TunnelRecord> kept = *db.tunnels();
  EXPECT_EQ(kept[0].reason, "fin") << "a closed channel keeps its end";
  EXPECT_EQ(kept[0].closed, 2000);
  EXPECT_EQ(kept[1].reason, kTunnelServerStopped);
  EXPECT_EQ(kept[1].closed, 5000);
  EXPECT_EQ(kept[2].reason, kTunnelServerStopped);
  EXPECT_EQ(*db.close_abandoned_tunnels(6000), 0) << "nothing left open";
}

TEST_F(SqliteDirectoryTest, ATunnelFieldOutOfItsRangeIsRefusedAndNothingIsWritten) {
  SqliteDirectory& db = backend.sqlite();
  EXPECT_EQ(db.tunnel_opened(opening("SYS-7", 0, "http", "", 1)).status().detail(), 1) << "channel 0 is never a channel";
  EXPECT_EQ(db.tunnel_opened(opening("SYS-7", 1, "", "", 1)).status().detail(), 2) << "no service name";
  EXPECT_EQ(db.tunnel_opened(opening("SYS-7", 1, std::string(256, 's'), "", 1)).status().detail(), 2);
  EXPECT_EQ(db.tunnel_opened(opening("SYS-7", 1, "http", std::string(256, 'o'), 1)).status().detail(), 3);
  EXPECT_TRUE(db.tunnels()->empty());
  EXPECT_TRUE(db.tunnel_opened(opening("SYS-7", 65535, std::string(255, 's'), std::string(255, 'o'), 1)).ok())
      << "the limits themselves are in range";
  const int64_t id = *db.tunnel_opened(opening("SYS-7", 1, "http", "", 1));
  EXPECT_EQ(db.tunnel_closed(id, 2, 1ull << 63, 0, "fin").reason(), Reason::invalid_argument);
  EXPECT_EQ(db.tunnel_closed(id, 2, 0, 1ull << 63, "fin").reason(), Reason::invalid_argument);
  EXPECT_FALSE((*db.tunnels())[1].closed.has_value()) << "a refused close writes nothing";
}

}  // namespace
}  // namespace sublink
