// The real sublinkd against the real sublink-server on loopback: what a
// device gets (link, license, heartbeats) seen through `sublinkctl status`,
// and what the server keeps seen in its SQLite database. Every process is
// stopped by PID when its owner goes out of scope.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "integration/sublinkd_rig.h"
#include "server/server_process.h"
#include "support/process.h"
#include "tools/server/db/sqlite_directory.h"

namespace sublink::test {
namespace {

class SublinkServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = tmp_.file("server.db");
    ASSERT_EQ(server_db_command(db_, "init-db", ""), 0);
    ASSERT_EQ(server_db_command(db_, "add-customer", "CUST-1"), 0);
    ASSERT_EQ(server_db_command(db_, "add-system", "--customer CUST-1 SYS-0001"), 0);
    // Less than the device asks for (seats=5): the grant follows the records.
    ASSERT_EQ(server_db_command(db_, "entitle", "SYS-0001 seats 3"), 0);
    ASSERT_EQ(server_db_command(db_, "entitle", "SYS-0001 trunks 1"), 0);
  }

  // A fresh handle on the server's database (it may be written meanwhile).
  std::unique_ptr<SqliteDirectory> records() {
    Result<std::unique_ptr<SqliteDirectory>> db = SqliteDirectory::open(db_, 2000);
    EXPECT_TRUE(db.ok()) << db.status().detail();
    return db.ok() ? std::move(*db) : nullptr;
  }
  std::vector<DeviceEvent> events() {
    auto db = records();
    Result<std::vector<DeviceEvent>> e = db->events("SYS-0001");
    return e.ok() ? *e : std::vector<DeviceEvent>{};
  }
  std::vector<AuditRecord> audits() {
    auto db = records();
    Result<std::vector<AuditRecord>> a = db->audits("SYS-0001");
    return a.ok() ? *a : std::vector<AuditRecord>{};
  }
  std::vector<ConnectionHistory> connections() {
    auto db = records();
    Result<std::vector<ConnectionHistory>> c = db->connections();
    return c.ok() ? *c : std::vector<ConnectionHistory>{};
  }

  static bool up_on(const Json& s, int port) { return s.at("link").str() == "up" && s.at("port").num() == port; }

  TempDir tmp_;
  std::string db_;
};

TEST_F(SublinkServerTest, DeviceGetsItsEntitlementAndTheServerKeepsAuditsAndEvents) {
  const int port = free_port();
  ServerProcess server(tmp_.path(), {port});
  Daemon daemon(tmp_.path(), {.ports = {port}});

  Json s = daemon.wait_status([&](const Json& j) { return up_on(j, port) && j.at("state").str() == "licensed"; });
  ASSERT_TRUE(up_on(s, port)) << s.text() << "\n" << daemon.log() << "\n" << server.log();
  EXPECT_EQ(feature_list(s.at("license.features")), "seats=3,trunks=1") << "granted what the records entitle";
  const std::string serial = s.at("license.serial").str();

  // Heartbeats are answered: the device keeps one link past 3 intervals.
  auto heartbeats = [&] {
    const std::string log = server.log();
    size_t n = 0;
    for (size_t at = log.find(R"("type":"heartbeat")"); at != std::string::npos;
         at = log.find(R"("type":"heartbeat")", at + 1)) {
      ++n;
    }
    return n;
  };
  EXPECT_TRUE(eventually([&] { return heartbeats() >= 4; }, 15000)) << server.log();
  EXPECT_TRUE(eventually([&] { return audits().size() >= 1; }, 15000)) << server.log();
  const std::vector<AuditRecord> stored = audits();
  ASSERT_FALSE(stored.empty());
  EXPECT_EQ(stored[0].serial, serial);
  EXPECT_EQ(stored[0].result, AuditResult::ok);

  EXPECT_TRUE(eventually([&] {
    for (const DeviceEvent& e : events()) {
      if (e.kind == "license_applied") return true;
    }
    return false;
  }, 10000)) << server.log();
  const std::vector<ConnectionHistory> links = connections();
  ASSERT_EQ(links.size(), 1u);
  EXPECT_EQ(links[0].record.system_id, "SYS-0001");
  EXPECT_EQ(links[0].record.port, port);
  EXPECT_TRUE(up_on(daemon.status(), port)) << "heartbeats kept the link up";
  EXPECT_EQ(server.stop(), 0) << "SIGTERM: links closed, exit 0\n" << server.log();
  EXPECT_NE(server.log().find("stopped"), std::string::npos) << server.log();
}

TEST_F(SublinkServerTest, AClosedFirstPortFallsBackToTheSecondAndEventsAreStoredOnce) {
  const int first = free_port();
  const int second = free_port();
  Daemon daemon(tmp_.path(), {.ports = {first, second}});
  {
    ServerProcess both(tmp_.path(), {first, second});
    Json s = daemon.wait_status([&](const Json& j) { return up_on(j, first) && j.at("events_pending").num() == 0; });
    ASSERT_TRUE(up_on(s, first)) << s.text() << "\n" << both.log();
    EXPECT_EQ(both.stop(), 0) << both.log();
  }
  // The server comes back on the second port only.
  ServerProcess second_only(tmp_.path(), {second});
  Json s = daemon.wait_status([&](const Json& j) { return up_on(j, second) && j.at("events_pending").num() == 0; },
                              20000);
  ASSERT_TRUE(up_on(s, second)) << s.text() << "\n" << daemon.log() << "\n" << second_only.log();

  const std::vector<DeviceEvent> stored = events();
  ASSERT_FALSE(stored.empty());
  for (size_t i = 0; i < stored.size(); ++i) {
    EXPECT_EQ(stored[i].seq, static_cast<int64_t>(i + 1)) << "every event once, none lost";
  }
  const std::vector<ConnectionHistory> links = connections();
  ASSERT_GE(links.size(), 2u);
  EXPECT_EQ(links.front().record.port, first);
  EXPECT_TRUE(links.front().down.has_value()) << "the first link's end is recorded";
  EXPECT_EQ(links.back().record.port, second);
}

TEST_F(SublinkServerTest, ACertificateForAnotherSystemIsRefused) {
  ASSERT_EQ(server_db_command(db_, "add-system", "--customer CUST-1 SYS-0002"), 0);
  const int port = free_port();
  ServerProcess server(tmp_.path(), {port});
  const std::string& pki = rig_pki_dir();
  // The device certificate says SYS-0001; the hello claims SYS-0002.
  const std::string out = tmp_.file("client.out");
  const int rc = run_command("/usr/bin/python3 " + source_path("tests/server/hello_client.py") + " --port " +
                             std::to_string(port) + " --ca " + pki + "/ca.crt --cert " + pki + "/device.crt --key " +
                             pki + "/device.key --customer CUST-1 --system SYS-0002 >" + out + " 2>&1");
  std::ifstream in(out);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(rc, 0) << text;
  EXPECT_NE(text.find(R"("code":"system_mismatch")"), std::string::npos) << text;
  EXPECT_NE(text.find("close 1008"), std::string::npos) << text;
  EXPECT_EQ(text.find("welcome"), std::string::npos) << text;
  EXPECT_TRUE(connections().empty()) << "a refused device has no connection record";
}

TEST_F(SublinkServerTest, AdminCommandsRefuseBadUsage) {
  EXPECT_EQ(server_db_command(db_, "entitle", "SYS-0001 seats many"), 2);
  EXPECT_EQ(server_db_command(db_, "entitle", "SYS-9999 seats 1"), 1);
  EXPECT_EQ(server_db_command(db_, "add-system", "SYS-0003"), 2) << "--customer is required";
}

}  // namespace
}  // namespace sublink::test
