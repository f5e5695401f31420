// A cloned appliance (issue 10, break 4) through the real programs: two
// sublinkd with the same certificate and configuration, each with its own
// state_dir, against the real sublink-server and its SQLite database. The
// newer link replaces the older (PROTOCOL.md section 4), so the two are not
// linked and licensed at once; their ping-pong raises duplicate_identity,
// shown by `admin devices` and kept in the database; under
// --duplicate-identity refuse both are refused. And one sublinkd whose TCP
// path is cut while the server still holds its connection (NAT rebinding)
// reconnects, again and again, without ever being taken for a clone.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "integration/sublinkd_rig.h"
#include "integration/tcp_relay.h"
#include "server/server_process.h"
#include "support/process.h"
#include "tools/server/db/sqlite_directory.h"

namespace sublink::test {
namespace {

using Clock = std::chrono::steady_clock;

bool linked(const Json& s) { return s && s.at("link").str() == "up"; }
bool licensed(const Json& s) { return linked(s) && s.at("state").str() == "licensed"; }

// The distinct `instance` values of the hellos in the server's verbose log.
std::set<std::string> hello_instances(const std::string& server_log) {
  std::set<std::string> out;
  static const std::regex hello(R"re("type":"hello"[^\n]*"instance":"([0-9a-f]{16})")re");
  for (auto it = std::sregex_iterator(server_log.begin(), server_log.end(), hello); it != std::sregex_iterator();
       ++it) {
    out.insert((*it)[1].str());
  }
  return out;
}

class ClonedApplianceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = ServerProcess::db_path(tmp_.path());
    provision_test_fleet(db_);
    ASSERT_FALSE(HasFailure()) << "the test fleet could not be made";
  }

  void TearDown() override {
    clone_.reset();
    original_.reset();
    if (server_ && server_->pid() > 0) EXPECT_EQ(server_->stop(), 0) << server_->log();
  }

  // The server on a free port: a replaced appliance is told to wait 1 s
  // (instead of 60), so the clones take turns quickly.
  void start_server(std::vector<std::string> extra = {}) {
    port_ = free_port();
    extra.insert(extra.end(), {"--replaced-retry-s", "1"});
    server_ = std::make_unique<ServerProcess>(tmp_.path(), std::vector<int>{port_}, 1, 2, extra);
  }

  // One appliance: the same certificate and configuration as any other this
  // test starts, in a folder (and so a state_dir) of its own.
  std::unique_ptr<Daemon> appliance(const std::string& name, int port) {
    const std::string dir = tmp_.file(name);
    mkdir(dir.c_str(), 0700);
    Daemon::Config config;
    config.ports = {port};
    return std::make_unique<Daemon>(dir, config);
  }

  CommandResult admin(const std::string& args) {
    return run_server_command("admin --control '" + server_->control_path() + "' " + args);
  }

  Json device_row() {
    const CommandResult r = admin("devices --json");
    EXPECT_EQ(r.status, 0) << r.text();
    for (const Json& d : json_lines(r.out)) {
      if (d.at("system_id").str() == "SYS-0001") return d;
    }
    return Json();
  }

  bool alarm_listed() {
    const Json alarms = device_row().at("alarms");
    return alarms.size() == 1 && alarms.item(0).at("kind").str() == "duplicate_identity";
  }

  std::vector<SystemAlarm> stored_alarms() {
    Result<std::unique_ptr<SqliteDirectory>> db = SqliteDirectory::open(db_, 2000);
    EXPECT_TRUE(db.ok());
    if (!db.ok()) return {};
    Result<std::vector<SystemAlarm>> alarms = (*db)->alarms();
    return alarms.ok() ? *alarms : std::vector<SystemAlarm>{};
  }

  std::string logs() const {
    return "--- server:\n" + (server_ ? server_->log() : "") + "\n--- original:\n" +
           (original_ ? original_->log() : "") + "\n--- clone:\n" + (clone_ ? clone_->log() : "");
  }

  TempDir tmp_;
  std::string db_;
  int port_ = 0;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<Daemon> original_;  // declared after the server: stopped first
  std::unique_ptr<Daemon> clone_;
};

TEST_F(ClonedApplianceTest, TwoAppliancesWithOneIdentityAreNeverBothLicensedAndRaiseDuplicateIdentity) {
  start_server();
  original_ = appliance("original", port_);
  ASSERT_TRUE(licensed(original_->wait_status(licensed))) << logs();
  clone_ = appliance("clone", port_);

  // Watch both while they take turns: a link that is replaced goes down at
  // once, so both are never licensed together for more than a moment (two
  // status reads apart, one after the other).
  const Clock::time_point start = Clock::now();
  Clock::time_point both_since{};
  int64_t longest_both_ms = 0;
  int samples_both = 0, samples = 0, samples_clone_licensed = 0;
  bool alarm = false;
  while (Clock::now() - start < std::chrono::seconds(40)) {
    const bool a = licensed(original_->status());
    const bool b = licensed(clone_->status());
    ++samples;
    samples_clone_licensed += b;
    if (a && b) {
      ++samples_both;
      if (both_since == Clock::time_point{}) both_since = Clock::now();
      longest_both_ms = std::max<int64_t>(
          longest_both_ms,
          std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - both_since).count());
    } else {
      both_since = Clock::time_point{};
    }
    if (!alarm && alarm_listed()) alarm = true;
    if (alarm && Clock::now() - start > std::chrono::seconds(15)) break;
  }
  EXPECT_TRUE(alarm) << "the ping-pong raised duplicate_identity in 'admin devices'\n" << logs();
  EXPECT_GT(samples_clone_licensed, 0) << "the clone did link: the newer link replaces the older";
  EXPECT_LT(longest_both_ms, 1000) << samples_both << " of " << samples << " samples showed both licensed\n"
                                   << logs();
  std::printf("[ identity ] %d status samples, %d with both licensed, longest %lld ms\n", samples, samples_both,
              static_cast<long long>(longest_both_ms));

  // The server's records keep the alarm, naming the two instances.
  const std::vector<SystemAlarm> alarms = stored_alarms();
  ASSERT_EQ(alarms.size(), 1u) << logs();
  EXPECT_EQ(alarms[0].system_id, "SYS-0001");
  EXPECT_EQ(alarms[0].kind, "duplicate_identity");
  EXPECT_FALSE(alarms[0].cleared);
  const std::set<std::string> instances = hello_instances(server_->log());
  ASSERT_EQ(instances.size(), 2u) << "two state_dirs, two instances";
  for (const std::string& instance : instances) {
    EXPECT_NE(alarms[0].detail.find(instance), std::string::npos) << alarms[0].detail;
  }
  const CommandResult table = admin("devices");
  EXPECT_EQ(table.status, 0);
  EXPECT_NE(table.out.find("duplicate_identity"), std::string::npos) << table.out;
  EXPECT_NE(server_->log().find("duplicate_identity alarm"), std::string::npos);
  // The replaced appliance was told why.
  EXPECT_NE((original_->log() + clone_->log()).find("replaced"), std::string::npos) << logs();
}

TEST_F(ClonedApplianceTest, TheRefusePolicyRefusesBothAppliances) {
  start_server({"--duplicate-identity", "refuse"});
  original_ = appliance("original", port_);
  ASSERT_TRUE(licensed(original_->wait_status(licensed))) << logs();
  clone_ = appliance("clone", port_);
  ASSERT_TRUE(eventually([&] { return alarm_listed(); }, 40000)) << logs();
  ASSERT_EQ(stored_alarms().size(), 1u);

  // From the alarm on, neither is served.
  ASSERT_TRUE(eventually([&] { return !linked(original_->status()) && !linked(clone_->status()); }, 10000))
      << logs();
  const Clock::time_point refused = Clock::now();
  while (Clock::now() - refused < std::chrono::seconds(4)) {
    EXPECT_FALSE(linked(original_->status()));
    EXPECT_FALSE(linked(clone_->status()));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(device_row().at("link").str(), "down");
  EXPECT_GE(occurrences(original_->log(), "duplicate_identity") + occurrences(clone_->log(), "duplicate_identity"), 2u)
      << logs();
  EXPECT_NE(original_->log().find("duplicate_identity"), std::string::npos) << "the original was refused too";
  EXPECT_NE(clone_->log().find("duplicate_identity"), std::string::npos);

  // The operator deals with the clone and clears the alarm: the original
  // (restarted, so it does not wait out the hour it was told) links again.
  clone_->stop();
  const CommandResult cleared = admin("clear-alarm SYS-0001");
  ASSERT_EQ(cleared.status, 0) << cleared.text();
  EXPECT_FALSE(alarm_listed());
  EXPECT_EQ(admin("clear-alarm SYS-0001").status, 1) << "nothing stands any more";
  original_->restart();
  EXPECT_TRUE(licensed(original_->wait_status(licensed))) << logs();
  ASSERT_EQ(stored_alarms().size(), 1u);
  EXPECT_TRUE(stored_alarms()[0].cleared) << "kept as history";
}

TEST_F(ClonedApplianceTest, AnApplianceWhoseTcpPathIsCutReconnectsAndIsNeverFlagged) {
  start_server();
  TcpRelay path(port_);
  original_ = appliance("original", path.port());
  ASSERT_TRUE(licensed(original_->wait_status(licensed))) << logs();
  // More cuts than a clone's alarm needs, each while the server still holds
  // the old connection (the relay keeps the server's side open).
  constexpr int kCuts = 5;
  for (int i = 0; i < kCuts; ++i) {
    const int before = path.accepted();
    path.cut_device_side();
    ASSERT_TRUE(eventually([&] { return path.accepted() > before && licensed(original_->status()); }, 20000))
        << "cut " << i << "\n" << logs();
  }
  // And a drop by the operator (the server closes its side too).
  ASSERT_EQ(admin("drop SYS-0001").status, 0);
  ASSERT_TRUE(eventually([&] { return licensed(original_->status()); }, 20000)) << logs();

  EXPECT_GE(occurrences(server_->log(), "the same appliance reconnecting"), static_cast<size_t>(kCuts))
      << "each reconnect replaced a connection the server still held\n" << logs();
  EXPECT_EQ(hello_instances(server_->log()).size(), 1u);
  EXPECT_TRUE(stored_alarms().empty()) << logs();
  EXPECT_EQ(device_row().at("alarms").size(), 0u);
  EXPECT_EQ(server_->log().find("duplicate_identity"), std::string::npos);
}

// The same two appliances against the independent sublink/1 server
// (tests/peers/sublink1_server.py, written from PROTOCOL.md): it replaces the
// older link too, and each replaced agent waits at least the retry_after_s
// it was told before it says hello again (no faster reconnect loop).
TEST_F(ClonedApplianceTest, TheIndependentServerReplacesTheOlderLinkAndTheAgentWaits) {
  PeerServer::Options options;
  options.extra_args = {"--replaced-retry-s", "2"};
  PeerServer peer(tmp_.path(), options);
  original_ = appliance("original", peer.port());
  ASSERT_TRUE(licensed(original_->wait_status(licensed))) << peer.journal_text();
  clone_ = appliance("clone", peer.port());

  const std::optional<Record> alarm =
      peer.wait_for([](const Record& r) { return r.is("alarm"); }, 60000);
  ASSERT_TRUE(alarm) << peer.journal_text() << logs();
  EXPECT_EQ(alarm->json.at("alarm").str(), "duplicate_identity");
  EXPECT_EQ(alarm->json.at("instances").size(), 2u);

  // Each replaced instance said hello again no sooner than it was told.
  std::vector<Record> journal = peer.journal();
  int replaced = 0;
  for (size_t i = 0; i < journal.size(); ++i) {
    if (!journal[i].is("replaced")) continue;
    ++replaced;
    const std::string instance = journal[i].json.at("replaced_instance").str();
    EXPECT_TRUE(journal[i].json.at("counted").is_true());
    for (size_t j = i + 1; j < journal.size(); ++j) {
      if (journal[j].is("recv", "hello") && journal[j].msg().at("instance").str() == instance) {
        EXPECT_GE(journal[j].t() - journal[i].t(), 2000) << "instance " << instance << " came back too soon";
        break;
      }
    }
  }
  EXPECT_GE(replaced, 4);
  // The agent closed each replaced link itself with 1000, as for any disconnect.
  EXPECT_NE(original_->log().find("replaced"), std::string::npos) << logs();
  const Json a = original_->status();
  const Json b = clone_->status();
  EXPECT_FALSE(licensed(a) && licensed(b) && licensed(original_->status()) && licensed(clone_->status()))
      << "both licensed at once, twice in a row";
}

}  // namespace
}  // namespace sublink::test
