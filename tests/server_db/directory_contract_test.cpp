// What a ServerSession relies on from its Directory, checked against both
// implementations (MemoryDirectory, SqliteDirectory).
#include <gtest/gtest.h>

#include "server_db/directory_backends.h"

namespace sublink {
namespace {

template <class Backend>
class DirectoryContractTest : public ::testing::Test {
 protected:
  void SetUp() override {
    backend.put_system({"C-42", "SYS-7", {{"trunks", 30}}});
    backend.put_system({"C-43", "SYS-8", {}});
    backend.put_customer("C-44");
  }

  static DeviceEvent event(int64_t seq, std::string kind = "license_applied") {
    return {kStreamA, seq, 1000 + seq, kind, R"({"seq":)" + std::to_string(seq) + "}"};
  }
  static constexpr const char* kStreamA = "00000000000000a1";
  static constexpr const char* kStreamB = "00000000000000b2";

  Directory& directory() { return backend.directory(); }

  Backend backend;
};

using Backends = ::testing::Types<MemoryBackend, SqliteBackend>;
class BackendNames {
 public:
  template <class T>
  static std::string GetName(int) {
    return std::is_same_v<T, MemoryBackend> ? "Memory" : "Sqlite";
  }
};
TYPED_TEST_SUITE(DirectoryContractTest, Backends, BackendNames);

TYPED_TEST(DirectoryContractTest, LookupTellsEveryMismatchApart) {
  Directory& d = this->directory();
  EXPECT_EQ(d.find_system("C-42", "SYS-7")->match, SystemMatch::found);
  EXPECT_EQ(d.find_system("C-42", "SYS-7")->record.entitlements.at("trunks"), 30u);
  EXPECT_EQ(d.find_system("C-99", "SYS-7")->match, SystemMatch::unknown_customer);
  EXPECT_EQ(d.find_system("C-44", "SYS-9")->match, SystemMatch::unknown_system);
  EXPECT_EQ(d.find_system("C-42", "SYS-8")->match, SystemMatch::other_customer);
}

TYPED_TEST(DirectoryContractTest, ChangedRecordsShowAtTheNextLookup) {
  SystemRecord changed = this->directory().find_system("C-42", "SYS-7")->record;
  changed.entitlements["trunks"] = 10;
  changed.entitlements["recording"] = 2;
  changed.suspended = true;
  changed.subscription_end = 123456;
  this->backend.put_system(changed);
  Result<SystemLookup> lookup = this->directory().find_system("C-42", "SYS-7");
  ASSERT_TRUE(lookup.ok());
  EXPECT_EQ(lookup->record.entitlements, (std::map<std::string, uint32_t>{{"recording", 2}, {"trunks", 10}}));
  EXPECT_TRUE(lookup->record.suspended);
  EXPECT_EQ(lookup->record.subscription_end, 123456);
  EXPECT_EQ(lookup->record.customer_id, "C-42");
  EXPECT_EQ(lookup->record.system_id, "SYS-7");
}

TYPED_TEST(DirectoryContractTest, ASystemWithoutATermNeverEnds) {
  EXPECT_EQ(this->directory().find_system("C-42", "SYS-7")->record.subscription_end, kNever);
  EXPECT_FALSE(this->directory().find_system("C-42", "SYS-7")->record.suspended);
}

TYPED_TEST(DirectoryContractTest, SerialsAreNeverReused) {
  Directory& d = this->directory();
  std::string a = *d.next_serial("SYS-7");
  std::string b = *d.next_serial("SYS-8");
  std::string c = *d.next_serial("SYS-7");
  EXPECT_NE(a, b);
  EXPECT_NE(a, c);
  EXPECT_NE(b, c);
  EXPECT_LE(a.size(), 31u);
}

TYPED_TEST(DirectoryContractTest, LastIssuedIsPerSystemWithItsFeatures) {
  Directory& d = this->directory();
  EXPECT_FALSE(d.last_issued("SYS-7")->has_value());
  ASSERT_TRUE(d.record_issued({"SYS-7", "L-1", 100, 200, {}}).ok());
  ASSERT_TRUE(d.record_issued({"SYS-8", "L-2", 150, 200, {}}).ok());
  ASSERT_TRUE(d.record_issued({"SYS-7", "L-3", 120, 300, {{"trunks", 30}, {"apps", 2}}}).ok());
  const IssuedLicense last = **d.last_issued("SYS-7");
  EXPECT_EQ(last.serial, "L-3");
  EXPECT_EQ(last.issued, 120);
  EXPECT_EQ(last.expires, 300);
  EXPECT_EQ(last.features, (std::vector<LicensedQuantity>{{"trunks", 30}, {"apps", 2}})) << "in the order granted";
  EXPECT_EQ((*d.last_issued("SYS-8"))->serial, "L-2");
  EXPECT_EQ(this->backend.issued_count(), 3u);
}

TYPED_TEST(DirectoryContractTest, RevocationsAreRecordedOnce) {
  Directory& d = this->directory();
  EXPECT_FALSE(*d.is_revoked("SYS-7", "L-1"));
  ASSERT_TRUE(d.record_revoked("SYS-7", "L-1", "fraud", 5).ok());
  ASSERT_TRUE(d.record_revoked("SYS-7", "L-1", "again", 6).ok());
  EXPECT_TRUE(*d.is_revoked("SYS-7", "L-1"));
  EXPECT_FALSE(*d.is_revoked("SYS-8", "L-1")) << "a serial is revoked for its own system";
  const std::vector<RevocationRecord> revocations = this->backend.revocations();
  ASSERT_EQ(revocations.size(), 1u);
  EXPECT_EQ(revocations[0].reason, "fraud");
  EXPECT_EQ(revocations[0].at, 5);
}

TYPED_TEST(DirectoryContractTest, ConnectionsGetIdsAndTheirEnd) {
  Directory& d = this->directory();
  int64_t a = *d.connection_up({"SYS-7", "C-42", 443, "127.0.0.1:5000", 10});
  int64_t b = *d.connection_up({"SYS-7", "C-42", 8443, "127.0.0.1:5001", 20});
  EXPECT_NE(a, b);
  ASSERT_TRUE(d.connection_down(a, 30, "closed").ok());
  EXPECT_EQ(d.connection_down(99, 30, "closed").reason(), Reason::invalid_argument);
  const std::vector<ConnectionHistory> connections = this->backend.connections();
  ASSERT_EQ(connections.size(), 2u);
  EXPECT_EQ(connections[0].down, 30);
  EXPECT_EQ(connections[0].down_reason, "closed");
  EXPECT_EQ(connections[0].record.peer, "127.0.0.1:5000");
  EXPECT_EQ(connections[0].record.up, 10);
  EXPECT_FALSE(connections[1].down.has_value());
  EXPECT_EQ(connections[1].record.port, 8443);
}

TYPED_TEST(DirectoryContractTest, AConnectionKeepsItsLatestContact) {
  Directory& d = this->directory();
  int64_t a = *d.connection_up({"SYS-7", "C-42", 443, "127.0.0.1:5000", 10});
  EXPECT_FALSE(this->backend.connections()[0].last_contact.has_value()) << "none recorded yet";
  ASSERT_TRUE(d.connection_contact(a, 25).ok());
  ASSERT_TRUE(d.connection_contact(a, 27).ok());
  EXPECT_EQ(d.connection_contact(99, 30).reason(), Reason::invalid_argument);
  ASSERT_TRUE(d.connection_down(a, 40, "no_contact").ok());
  const std::vector<ConnectionHistory> connections = this->backend.connections();
  ASSERT_EQ(connections.size(), 1u);
  EXPECT_EQ(connections[0].last_contact, 27) << "the latest one, apart from the end";
  EXPECT_EQ(connections[0].down, 40);
}

TYPED_TEST(DirectoryContractTest, AuditsKeepUsageAndOveruse) {
  AuditRecord audit{"SYS-7", "L-3", 100, 200, {{"trunks", 12, 34}, {"apps", 1, 1}}, AuditResult::overuse,
                    {{"trunks", 34, 30}}, 250};
  ASSERT_TRUE(this->directory().record_audit(audit).ok());
  const std::vector<AuditRecord> stored = this->backend.audits("SYS-7");
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].serial, "L-3");
  EXPECT_EQ(stored[0].from, 100);
  EXPECT_EQ(stored[0].to, 200);
  EXPECT_EQ(stored[0].received, 250);
  EXPECT_EQ(stored[0].result, AuditResult::overuse);
  ASSERT_EQ(stored[0].usage.size(), 2u);
  EXPECT_EQ(stored[0].usage[0].name, "trunks");
  EXPECT_EQ(stored[0].usage[0].in_use, 12);
  EXPECT_EQ(stored[0].usage[0].peak, 34);
  ASSERT_EQ(stored[0].over.size(), 1u);
  EXPECT_EQ(stored[0].over[0].licensed, 30u);
  EXPECT_TRUE(this->backend.audits("SYS-8").empty());
}

TYPED_TEST(DirectoryContractTest, EventsAreStoredOnceAndUptoIsTheHighestSeq) {
  Directory& d = this->directory();
  std::vector<DeviceEvent> first = {this->event(1), this->event(2), this->event(3)};
  EXPECT_EQ(*d.store_events("SYS-7", this->kStreamA, first), 3);
  std::vector<DeviceEvent> repeated = {this->event(2), this->event(3), this->event(4)};
  EXPECT_EQ(*d.store_events("SYS-7", this->kStreamA, repeated), 4);
  EXPECT_EQ(*d.store_events("SYS-7", this->kStreamA, {}), 4);
  EXPECT_EQ(*d.store_events("SYS-8", this->kStreamA, {}), 0);
  const std::vector<DeviceEvent> stored = this->backend.events("SYS-7");
  ASSERT_EQ(stored.size(), 4u);
  for (size_t i = 0; i < stored.size(); ++i) EXPECT_EQ(stored[i].seq, static_cast<int64_t>(i + 1));
  EXPECT_EQ(stored[3].json, R"({"seq":4})");
  EXPECT_EQ(stored[3].time, 1004);
  EXPECT_TRUE(this->backend.events("SYS-8").empty());
}

TYPED_TEST(DirectoryContractTest, ANewStreamIsNotTakenForRepeatsOfAnOldOne) {
  // A device whose state was wiped numbers from seq 1 again, in a new stream.
  Directory& d = this->directory();
  std::vector<DeviceEvent> old_stream = {this->event(1), this->event(2), this->event(3)};
  EXPECT_EQ(*d.store_events("SYS-7", this->kStreamA, old_stream), 3);
  std::vector<DeviceEvent> new_stream = {this->event(1, "record_damaged"), this->event(2, "link_up")};
  EXPECT_EQ(*d.store_events("SYS-7", this->kStreamB, new_stream), 2) << "upto is per stream";
  EXPECT_EQ(*d.store_events("SYS-7", this->kStreamB, new_stream), 2) << "a repeated batch is kept once";
  EXPECT_EQ(*d.store_events("SYS-7", this->kStreamA, {}), 3) << "the old stream's upto stands";
  const std::vector<DeviceEvent> stored = this->backend.events("SYS-7");
  ASSERT_EQ(stored.size(), 5u);
  std::vector<std::pair<std::string, int64_t>> keys;
  for (const DeviceEvent& e : stored) keys.emplace_back(e.stream, e.seq);
  const std::vector<std::pair<std::string, int64_t>> want = {
      {this->kStreamA, 1}, {this->kStreamA, 2}, {this->kStreamA, 3}, {this->kStreamB, 1}, {this->kStreamB, 2}};
  EXPECT_EQ(keys, want) << "every event of both streams, once, in the order stored";
  EXPECT_EQ(stored[3].kind, "record_damaged");
}

TYPED_TEST(DirectoryContractTest, AnEventWithoutTimeKeepsNone) {
  DeviceEvent untimed{this->kStreamA, 1, std::nullopt, "clock_rollback", R"({"seq":1})"};
  ASSERT_TRUE(this->directory().store_events("SYS-7", this->kStreamA, std::span<const DeviceEvent>(&untimed, 1)).ok());
  ASSERT_EQ(this->backend.events("SYS-7").size(), 1u);
  EXPECT_FALSE(this->backend.events("SYS-7")[0].time.has_value());
}

TYPED_TEST(DirectoryContractTest, AFailingDirectoryFailsEveryMethod) {
  Directory& d = this->directory();
  this->backend.set_failing(true);
  EXPECT_FALSE(d.find_system("C-42", "SYS-7").ok());
  EXPECT_FALSE(d.next_serial("SYS-7").ok());
  EXPECT_FALSE(d.record_issued({"SYS-7", "L-9", 1, 2, {}}).ok());
  EXPECT_FALSE(d.last_issued("SYS-7").ok());
  EXPECT_FALSE(d.record_revoked("SYS-7", "L-1", "", 0).ok());
  EXPECT_FALSE(d.is_revoked("SYS-7", "L-1").ok());
  EXPECT_FALSE(d.connection_up({}).ok());
  EXPECT_FALSE(d.connection_down(1, 0, "").ok());
  EXPECT_FALSE(d.connection_contact(1, 0).ok());
  EXPECT_FALSE(d.record_audit({}).ok());
  EXPECT_FALSE(d.store_events("SYS-7", this->kStreamA, {}).ok());
  EXPECT_EQ(d.find_system("C-42", "SYS-7").status().reason(), Reason::io_error);
  this->backend.set_failing(false);
  EXPECT_TRUE(d.find_system("C-42", "SYS-7").ok());
  EXPECT_EQ(this->backend.issued_count(), 0u) << "nothing half-written while failing";
}

}  // namespace
}  // namespace sublink

namespace sublink {
namespace {

// MemoryDirectory alone lets tests change a record in place.
TEST(MemoryDirectoryTest, RecordsChangeInPlaceAndUnknownSystemsAreNull) {
  MemoryDirectory directory;
  directory.put_system({"C-42", "SYS-7", {{"trunks", 30}}});
  directory.system("SYS-7")->entitlements["trunks"] = 10;
  directory.system("SYS-7")->suspended = true;
  Result<SystemLookup> lookup = directory.find_system("C-42", "SYS-7");
  EXPECT_EQ(lookup->record.entitlements.at("trunks"), 10u);
  EXPECT_TRUE(lookup->record.suspended);
  EXPECT_EQ(directory.system("SYS-404"), nullptr);
}

TYPED_TEST(DirectoryContractTest, AnAlarmStandsOncePerSystemAndKind) {
  Directory& d = this->directory();
  EXPECT_FALSE(*d.alarm_standing("SYS-7", kDuplicateIdentityAlarm));
  ASSERT_TRUE(d.raise_alarm({"SYS-7", std::string(kDuplicateIdentityAlarm), 10, "a and b", std::nullopt}).ok());
  ASSERT_TRUE(d.raise_alarm({"SYS-7", std::string(kDuplicateIdentityAlarm), 20, "again", std::nullopt}).ok());
  EXPECT_TRUE(*d.alarm_standing("SYS-7", kDuplicateIdentityAlarm));
  EXPECT_FALSE(*d.alarm_standing("SYS-8", kDuplicateIdentityAlarm)) << "another system";
  EXPECT_FALSE(*d.alarm_standing("SYS-7", "another_kind"));
}

}  // namespace
}  // namespace sublink
