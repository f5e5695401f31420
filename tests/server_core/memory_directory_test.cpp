// MemoryDirectory: the records behind a session in tests and the simulation.
#include <gtest/gtest.h>

#include "tools/server/core/memory_directory.h"

namespace sublink {
namespace {

class MemoryDirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory.put_system({"C-42", "SYS-7", {{"trunks", 30}}});
    directory.put_system({"C-43", "SYS-8", {}});
    directory.put_customer("C-44");
  }

  static DeviceEvent event(int64_t seq, std::string kind = "license_applied") {
    return {seq, 1000 + seq, kind, R"({"seq":)" + std::to_string(seq) + "}"};
  }

  MemoryDirectory directory;
};

TEST_F(MemoryDirectoryTest, LookupTellsEveryMismatchApart) {
  EXPECT_EQ(directory.find_system("C-42", "SYS-7")->match, SystemMatch::found);
  EXPECT_EQ(directory.find_system("C-42", "SYS-7")->record.entitlements.at("trunks"), 30u);
  EXPECT_EQ(directory.find_system("C-99", "SYS-7")->match, SystemMatch::unknown_customer);
  EXPECT_EQ(directory.find_system("C-44", "SYS-9")->match, SystemMatch::unknown_system);
  EXPECT_EQ(directory.find_system("C-42", "SYS-8")->match, SystemMatch::other_customer);
}

TEST_F(MemoryDirectoryTest, ChangedRecordsShowAtTheNextLookup) {
  directory.system("SYS-7")->entitlements["trunks"] = 10;
  directory.system("SYS-7")->suspended = true;
  Result<SystemLookup> lookup = directory.find_system("C-42", "SYS-7");
  EXPECT_EQ(lookup->record.entitlements.at("trunks"), 10u);
  EXPECT_TRUE(lookup->record.suspended);
  EXPECT_EQ(directory.system("SYS-404"), nullptr);
}

TEST_F(MemoryDirectoryTest, SerialsAreNeverReused) {
  std::string a = *directory.next_serial("SYS-7");
  std::string b = *directory.next_serial("SYS-8");
  std::string c = *directory.next_serial("SYS-7");
  EXPECT_NE(a, b);
  EXPECT_NE(a, c);
  EXPECT_NE(b, c);
}

TEST_F(MemoryDirectoryTest, LastIssuedIsPerSystem) {
  EXPECT_FALSE(directory.last_issued("SYS-7")->has_value());
  ASSERT_TRUE(directory.record_issued({"SYS-7", "L-1", 100, 200, {}}).ok());
  ASSERT_TRUE(directory.record_issued({"SYS-8", "L-2", 150, 200, {}}).ok());
  ASSERT_TRUE(directory.record_issued({"SYS-7", "L-3", 120, 200, {}}).ok());
  EXPECT_EQ((*directory.last_issued("SYS-7"))->serial, "L-3");
  EXPECT_EQ((*directory.last_issued("SYS-8"))->serial, "L-2");
}

TEST_F(MemoryDirectoryTest, RevocationsAreRecordedOnce) {
  EXPECT_FALSE(*directory.is_revoked("SYS-7", "L-1"));
  ASSERT_TRUE(directory.record_revoked("SYS-7", "L-1", "fraud", 5).ok());
  ASSERT_TRUE(directory.record_revoked("SYS-7", "L-1", "again", 6).ok());
  EXPECT_TRUE(*directory.is_revoked("SYS-7", "L-1"));
  EXPECT_FALSE(*directory.is_revoked("SYS-8", "L-1")) << "a serial is revoked for its own system";
  ASSERT_EQ(directory.revocations().size(), 1u);
  EXPECT_EQ(directory.revocations()[0].reason, "fraud");
}

TEST_F(MemoryDirectoryTest, ConnectionsGetIdsAndTheirEnd) {
  int64_t a = *directory.connection_up({"SYS-7", "C-42", 443, "127.0.0.1:5000", 10});
  int64_t b = *directory.connection_up({"SYS-7", "C-42", 8443, "127.0.0.1:5001", 20});
  EXPECT_NE(a, b);
  ASSERT_TRUE(directory.connection_down(a, 30, "closed").ok());
  EXPECT_EQ(directory.connection_down(99, 30, "closed").reason(), Reason::invalid_argument);
  ASSERT_EQ(directory.connections().size(), 2u);
  EXPECT_EQ(directory.connections()[0].down, 30);
  EXPECT_EQ(directory.connections()[0].down_reason, "closed");
  EXPECT_FALSE(directory.connections()[1].down.has_value());
  EXPECT_EQ(directory.connections()[1].record.port, 8443);
}

TEST_F(MemoryDirectoryTest, EventsAreStoredOnceAndUptoIsTheHighestSeq) {
  std::vector<DeviceEvent> first = {event(1), event(2), event(3)};
  EXPECT_EQ(*directory.store_events("SYS-7", first), 3);
  std::vector<DeviceEvent> repeated = {event(2), event(3), event(4)};
  EXPECT_EQ(*directory.store_events("SYS-7", repeated), 4);
  EXPECT_EQ(*directory.store_events("SYS-7", {}), 4);
  EXPECT_EQ(*directory.store_events("SYS-8", {}), 0);
  const auto& stored = directory.events("SYS-7");
  ASSERT_EQ(stored.size(), 4u);
  for (size_t i = 0; i < stored.size(); ++i) EXPECT_EQ(stored[i].seq, static_cast<int64_t>(i + 1));
  EXPECT_TRUE(directory.events("SYS-8").empty());
}

TEST_F(MemoryDirectoryTest, AFailingDirectoryFailsEveryMethod) {
  directory.set_failing(true);
  EXPECT_FALSE(directory.find_system("C-42", "SYS-7").ok());
  EXPECT_FALSE(directory.next_serial("SYS-7").ok());
  EXPECT_FALSE(directory.record_issued({}).ok());
  EXPECT_FALSE(directory.last_issued("SYS-7").ok());
  EXPECT_FALSE(directory.record_revoked("SYS-7", "L-1", "", 0).ok());
  EXPECT_FALSE(directory.is_revoked("SYS-7", "L-1").ok());
  EXPECT_FALSE(directory.connection_up({}).ok());
  EXPECT_FALSE(directory.connection_down(1, 0, "").ok());
  EXPECT_FALSE(directory.record_audit({}).ok());
  EXPECT_FALSE(directory.store_events("SYS-7", {}).ok());
  directory.set_failing(false);
  EXPECT_TRUE(directory.find_system("C-42", "SYS-7").ok());
  EXPECT_TRUE(directory.issued().empty());
}

}  // namespace
}  // namespace sublink
