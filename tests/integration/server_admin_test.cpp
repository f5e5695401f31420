// `sublink-server admin` against a running sublink-server with the real
// sublinkd linked to it: every operator command and fault control, judged
// by what the agent shows (`sublinkctl status --json`: state, port,
// features) and by what the agent delivered to the server's records.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "integration/sublinkd_rig.h"
#include "integration/tiny_file_system.h"
#include "server/server_process.h"
#include "support/process.h"
#include "tools/server/db/sqlite_directory.h"

namespace sublink::test {
namespace {

using Clock = std::chrono::steady_clock;

int64_t ms_since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

int64_t utc_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// True when a TCP connect to 127.0.0.1:`port` is refused (nothing listens).
bool connect_refused(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool refused = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 && errno == ECONNREFUSED;
  ::close(fd);
  return refused;
}

bool up_on(const Json& s, int port) { return s.at("link").str() == "up" && s.at("port").num() == port; }
bool licensed_on(const Json& s, int port) { return up_on(s, port) && s.at("state").str() == "licensed"; }

class ServerAdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = ServerProcess::db_path(tmp_.path());
    provision_test_fleet(db_);
    ASSERT_FALSE(HasFailure()) << "the test fleet could not be made";
  }

  // The server on `ports` and the agent configured with them (in order);
  // returns once the agent is licensed on the first.
  void start(std::vector<int> ports, std::string extra_config = "") {
    server_ = std::make_unique<ServerProcess>(tmp_.path(), ports);
    Daemon::Config config;
    config.ports = ports;
    config.extra = std::move(extra_config);
    daemon_ = std::make_unique<Daemon>(tmp_.path(), config);
    const Json s = daemon_->wait_status([&](const Json& j) { return licensed_on(j, ports[0]); });
    ASSERT_TRUE(licensed_on(s, ports[0])) << s.text() << "\n" << logs();
  }

  // Whatever the operator did, the server still stops cleanly (and, in the
  // sanitizer build, without a leak or an error).
  void TearDown() override {
    daemon_.reset();
    if (server_ && server_->pid() > 0) EXPECT_EQ(server_->stop(), 0) << server_->log();
  }

  CommandResult admin(const std::string& args) {
    return run_server_command("admin --control '" + server_->control_path() + "' " + args);
  }

  std::string logs() const {
    return "--- server:\n" + (server_ ? server_->log() : "") + "\n--- agent:\n" + (daemon_ ? daemon_->log() : "");
  }

  // A fresh handle on the server's database (the server writes it meanwhile).
  std::unique_ptr<SqliteDirectory> records() {
    Result<std::unique_ptr<SqliteDirectory>> db = SqliteDirectory::open(db_, 2000);
    EXPECT_TRUE(db.ok()) << db.status().detail();
    return db.ok() ? std::move(*db) : nullptr;
  }
  std::vector<ConnectionHistory> connections() {
    Result<std::vector<ConnectionHistory>> c = records()->connections();
    return c.ok() ? *c : std::vector<ConnectionHistory>{};
  }
  bool event_stored(const std::string& kind) {
    Result<std::vector<DeviceEvent>> events = records()->events("SYS-0001");
    if (!events.ok()) return false;
    for (const DeviceEvent& e : *events) {
      if (e.kind == kind) return true;
    }
    return false;
  }
  // `devices --json`, the line of `system_id` (empty Json when missing).
  Json device(const std::string& system_id) {
    const CommandResult r = admin("devices --json");
    EXPECT_EQ(r.status, 0) << r.text();
    for (const Json& d : json_lines(r.out)) {
      if (d.at("system_id").str() == system_id) return d;
    }
    return Json();
  }

  TempDir tmp_;
  std::string db_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<Daemon> daemon_;  // declared after the server: stopped first
};

TEST_F(ServerAdminTest, DevicesListsEverySystemWithLinkStateLastContactAndSerial) {
  ASSERT_EQ(server_db_command(db_, "add-system", "--customer CUST-1 SYS-0002"), 0);
  const int port = free_port();
  start({port});
  const Json status = daemon_->status();

  const CommandResult r = admin("devices --json");
  ASSERT_EQ(r.status, 0) << r.text();
  const std::vector<Json> rows = json_lines(r.out);
  ASSERT_EQ(rows.size(), 2u) << r.out;
  const Json& linked = rows[0];
  EXPECT_EQ(linked.at("system_id").str(), "SYS-0001");
  EXPECT_EQ(linked.at("customer_id").str(), "CUST-1");
  EXPECT_EQ(linked.at("link").str(), "up");
  EXPECT_EQ(linked.at("port").num(), port);
  EXPECT_EQ(linked.at("peer").str().rfind("127.0.0.1:", 0), 0u) << linked.text();
  EXPECT_GT(linked.at("last_contact").num(), utc_now_ms() - 5000) << "heartbeats are contact";
  EXPECT_EQ(linked.at("serial").str(), status.at("license.serial").str()) << "the serial the agent holds";
  const Json& never = rows[1];
  EXPECT_EQ(never.at("system_id").str(), "SYS-0002");
  EXPECT_EQ(never.at("link").str(), "down");
  EXPECT_TRUE(never.at("port").is_null() && never.at("peer").is_null() && never.at("last_contact").is_null() &&
              never.at("serial").is_null())
      << never.text();

  const CommandResult table = admin("devices");
  EXPECT_EQ(table.status, 0) << table.text();
  EXPECT_NE(table.out.find("LAST CONTACT"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("SYS-0002"), std::string::npos) << table.out;

  // The agent stops: the system is down, its last contact and serial kept.
  EXPECT_EQ(daemon_->stop(), 0);
  Json down;
  EXPECT_TRUE(eventually([&] { return (down = device("SYS-0001")).at("link").str() == "down"; }, 10000)) << logs();
  EXPECT_GT(down.at("last_contact").num(), utc_now_ms() - 10000) << down.text();
  EXPECT_EQ(down.at("serial").str(), status.at("license.serial").str());
}

TEST_F(ServerAdminTest, AddCustomerAndAddSystemLetAnUnknownDeviceLink) {
  // A database that knows nobody: the agent is refused until the operator
  // registers it on the running server.
  TempDir fresh;
  const std::string db = ServerProcess::db_path(fresh.path());
  ASSERT_EQ(server_db_command(db, "init-db", ""), 0);
  const int port = free_port();
  server_ = std::make_unique<ServerProcess>(fresh.path(), std::vector<int>{port});
  Daemon::Config config;
  config.ports = {port};
  daemon_ = std::make_unique<Daemon>(tmp_.path(), config);
  EXPECT_TRUE(eventually([&] { return daemon_->log().find("server error: unknown_customer") != std::string::npos; },
                         10000))
      << logs();
  // The refusal is in status in the server's words (PROTOCOL.md 7), with
  // the next round; the link never came up, so no LINK UP was logged.
  const Json refused = daemon_->wait_status([](const Json& j) { return j.at("last_failure.reason").str() == "unknown_customer"; });
  EXPECT_EQ(refused.at("last_failure.reason").str(), "unknown_customer") << refused.text();
  EXPECT_FALSE(refused.at("last_failure.detail").str().empty()) << refused.text();
  EXPECT_TRUE(refused.at("last_failure.when").is_number()) << refused.text();
  EXPECT_EQ(refused.at("link").str(), "down");
  EXPECT_TRUE(refused.at("next_attempt").at("in_s").is_number() || refused.at("next_attempt").is_null())
      << refused.text();
  EXPECT_EQ(occurrences(daemon_->log(), "LINK UP"), 0u) << "a refused device is not up\n" << daemon_->log();
  EXPECT_GE(occurrences(daemon_->log(), "WebSocket open on 127.0.0.1:" + std::to_string(port)), 1u) << daemon_->log();
  const std::string text = daemon_->status_text();
  EXPECT_NE(text.find("failure:  unknown_customer: "), std::string::npos) << text;

  CommandResult r = admin("add-system SYS-0001 CUST-1");
  EXPECT_EQ(r.status, 1) << r.text();
  EXPECT_NE(r.err.find("no customer CUST-1"), std::string::npos) << r.err;
  r = admin("add-customer CUST-1 'Example Telephony'");
  ASSERT_EQ(r.status, 0) << r.text();
  r = admin("add-system SYS-0001 CUST-1");
  ASSERT_EQ(r.status, 0) << r.text();
  r = admin("entitle SYS-0001 seats 2");
  ASSERT_EQ(r.status, 0) << r.text();

  const Json s = daemon_->wait_status([&](const Json& j) { return licensed_on(j, port); });
  ASSERT_TRUE(licensed_on(s, port)) << s.text() << "\n" << logs();
  EXPECT_EQ(feature_list(s.at("license.features")), "seats=2") << "only what was entitled";
  // LINK UP once, at welcome: after the WebSocket of that link opened.
  const std::string log = daemon_->log();
  EXPECT_EQ(occurrences(log, "LINK UP on 127.0.0.1:" + std::to_string(port)), 1u) << log;
  EXPECT_LT(log.rfind("WebSocket open on"), log.find("LINK UP")) << log;
  Result<std::unique_ptr<SqliteDirectory>> records = SqliteDirectory::open(db, 2000);
  ASSERT_TRUE(records.ok());
  EXPECT_EQ(*(*records)->customer_name("CUST-1"), "Example Telephony");
  daemon_.reset();
  EXPECT_EQ(server_->stop(), 0) << server_->log();  // before its folder goes
}

TEST_F(ServerAdminTest, ARefusedAgentBacksOffInsteadOfHammeringTheServer) {
  // SYS-0001 is registered to another customer: the server answers every
  // hello with error system_mismatch and closes with 1008. PROTOCOL.md 1.5:
  // each refusal is a failed round, so the waits are drawn under bounds of
  // 1, 2, 4, 8, 8 ... s (retry_min_s 1, retry_max_s 8), never reset.
  TempDir fresh;
  const std::string db = ServerProcess::db_path(fresh.path());
  ASSERT_EQ(server_db_command(db, "init-db", ""), 0);
  ASSERT_EQ(server_db_command(db, "add-customer", "CUST-1"), 0);
  ASSERT_EQ(server_db_command(db, "add-customer", "CUST-2"), 0);
  ASSERT_EQ(server_db_command(db, "add-system", "--customer CUST-2 SYS-0001"), 0);
  const int port = free_port();
  server_ = std::make_unique<ServerProcess>(fresh.path(), std::vector<int>{port});
  Daemon::Config config;
  config.ports = {port};
  config.retry_min_s = 1;
  config.retry_max_s = 8;
  const std::string refusal = "closing the link (1008 system_mismatch)";
  const Clock::time_point started = Clock::now();
  daemon_ = std::make_unique<Daemon>(tmp_.path(), config);
  ASSERT_TRUE(eventually([&] { return occurrences(server_->log(), refusal) >= 1; }, 10000)) << logs();
  std::this_thread::sleep_for(std::chrono::milliseconds(10000) - (Clock::now() - started));
  const size_t first_10s = occurrences(server_->log(), refusal);
  std::this_thread::sleep_for(std::chrono::milliseconds(20000) - (Clock::now() - started));
  const size_t all_20s = occurrences(server_->log(), refusal);
  const size_t second_10s = all_20s - first_10s;
  std::printf("refusals: %zu in the first 10 s, %zu in the next 10 s\n", first_10s, second_10s);

  // Expected about 5 refusals in the first 10 s (waits 0.5 + 1 + 2 + 4 s on
  // average) and 2 or 3 in the next 10 s (4 s on average). The agent that
  // reset its backoff at every upgrade was refused about 20 times in each.
  EXPECT_GE(first_10s, 2u) << "the agent keeps trying\n" << logs();
  EXPECT_LE(first_10s, 10u) << logs();
  EXPECT_LE(second_10s, 7u) << "at retry_max_s 8 the waits average 4 s\n" << logs();
  EXPECT_LE(all_20s, 15u) << logs();
  EXPECT_NE(daemon_->log().find("server error: system_mismatch"), std::string::npos) << logs();
  // Status says why, in the server's words, not only the log.
  const Json s = daemon_->status();
  EXPECT_EQ(s.at("last_failure.reason").str(), "system_mismatch") << s.text();
  EXPECT_EQ(s.at("last_failure.detail").str(), "system registered to another customer") << s.text();
  EXPECT_EQ(occurrences(daemon_->log(), "LINK UP"), 0u) << "refused every time, never up\n" << daemon_->log();
  daemon_.reset();
  EXPECT_EQ(server_->stop(), 0) << server_->log();  // before its folder goes
}

TEST_F(ServerAdminTest, EntitlePushesAGrantTheAgentAppliesOnTheSameLink) {
  const int port = free_port();
  start({port});
  EXPECT_EQ(feature_list(daemon_->status().at("license.features")), "seats=3,trunks=1");

  const CommandResult r = admin("entitle SYS-0001 seats 4");
  ASSERT_EQ(r.status, 0) << r.text();
  EXPECT_NE(r.out.find("pushed"), std::string::npos) << r.out;
  const Json s = daemon_->wait_status(
      [&](const Json& j) { return feature_list(j.at("license.features")) == "seats=4,trunks=1"; }, 10000);
  EXPECT_EQ(feature_list(s.at("license.features")), "seats=4,trunks=1") << s.text() << "\n" << logs();
  EXPECT_TRUE(up_on(s, port));
  EXPECT_EQ(connections().size(), 1u) << "no reconnect was needed";

  const CommandResult unknown = admin("entitle SYS-0404 seats 1");
  EXPECT_EQ(unknown.status, 1) << unknown.text();
  EXPECT_NE(unknown.err.find("no system SYS-0404"), std::string::npos) << unknown.err;
}

TEST_F(ServerAdminTest, RevokeTurnsTheFeaturesOffAtOnce) {
  const int port = free_port();
  start({port});
  const std::string serial = daemon_->status().at("license.serial").str();
  ASSERT_FALSE(serial.empty());

  const CommandResult r = admin("revoke SYS-0001 'contract ended'");
  ASSERT_EQ(r.status, 0) << r.text() << logs();
  EXPECT_NE(r.out.find(serial), std::string::npos) << r.out;
  // The command returns once the device answered: its features are off now.
  const Json s = daemon_->status();
  EXPECT_EQ(s.at("state").str(), "unlicensed") << s.text();
  EXPECT_TRUE(s.at("license").is_null()) << s.text();
  EXPECT_TRUE(up_on(s, port)) << "a revoke does not end the link";

  Result<std::vector<RevocationRecord>> revoked = records()->revocations();
  ASSERT_TRUE(revoked.ok());
  ASSERT_EQ(revoked->size(), 1u);
  EXPECT_EQ((*revoked)[0].serial, serial);
  EXPECT_EQ((*revoked)[0].reason, "contract ended");
  EXPECT_TRUE(eventually([&] { return event_stored("license_revoked"); }, 10000)) << "the agent's event arrived";
}

TEST_F(ServerAdminTest, ARevokeWhileTheSystemIsAwayReachesItWhenItLinks) {
  const int port = free_port();
  start({port});
  const std::string serial = daemon_->status().at("license.serial").str();
  ASSERT_EQ(daemon_->stop(), 0);
  ASSERT_TRUE(eventually([&] { return device("SYS-0001").at("link").str() == "down"; }, 10000)) << logs();

  const CommandResult r = admin("revoke SYS-0001");
  ASSERT_EQ(r.status, 0) << r.text();
  EXPECT_NE(r.out.find(serial + " revoked (not linked"), std::string::npos) << r.out;
  // The agent comes back holding the revoked license (it survived the
  // restart) and is told on the new link. Still entitled, it is granted a
  // new license there: a revoke ends one license, not the subscription.
  daemon_->restart();
  EXPECT_TRUE(eventually([&] { return event_stored("license_revoked"); }, 15000)) << logs();
  const Json s = daemon_->wait_status([&](const Json& j) {
    return licensed_on(j, port) && j.at("license.serial").str() != serial;
  });
  EXPECT_NE(s.at("license.serial").str(), serial) << s.text() << "\n" << logs();
}

// PROTOCOL.md section 4, stored-or-not licenses: the state file system is
// full when a new grant arrives. The agent applies it anyway, says that it
// could not store it (log with the system's words, storage_failed event),
// reports it as held, and the operator's revoke, aimed at what the device
// reported, turns the features off: the device answers ok, not not_held.
TEST_F(ServerAdminTest, AGrantThatCannotBeStoredIsAppliedReportedAndRevokedWithAFullDisk) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs for the state directory needs root (CI runs as root)";
  TinyFileSystem state(tmp_.file("state"), "512k");
  ASSERT_TRUE(state.mounted()) << state.error();
  struct StopAgentFirst {  // the agent leaves the file system before it goes
    std::function<void()> stop;
    ~StopAgentFirst() { stop(); }
  } stop_agent_first{[this] { daemon_.reset(); }};

  const int port = free_port();
  start({port});
  const std::string first = daemon_->status().at("license.serial").str();
  ASSERT_FALSE(first.empty());
  ASSERT_TRUE(eventually([&] { return device("SYS-0001").at("held").str() == first; }, 10000))
      << "the server records the serial the device reported: " << device("SYS-0001").text();

  ASSERT_TRUE(state.fill()) << "the state file system could not be filled";
  const CommandResult entitle = admin("entitle SYS-0001 seats 2");
  ASSERT_EQ(entitle.status, 0) << entitle.text();
  const Json applied = daemon_->wait_status(
      [&](const Json& j) { return feature_list(j.at("license.features")) == "seats=2,trunks=1"; }, 10000);
  ASSERT_EQ(feature_list(applied.at("license.features")), "seats=2,trunks=1")
      << "a grant that verifies is applied even when it cannot be stored\n" << applied.text() << "\n" << logs();
  const std::string second = applied.at("license.serial").str();
  EXPECT_NE(second, first) << "what the device reports as held is the license in force";
  EXPECT_EQ(applied.at("state").str(), "licensed");
  EXPECT_NE(entitle.out.find(second), std::string::npos) << entitle.out;
  const std::string log = daemon_->log();
  // The record, the file and the system's words, in the log and in status.
  const std::string words = tmp_.file("state") + "/license.tmp: No space left on device";
  EXPECT_NE(log.find("license not stored: " + words), std::string::npos) << log;
  const std::string storage = applied.at("storage").str();
  EXPECT_NE(storage.find(": " + tmp_.file("state") + "/"), std::string::npos) << applied.text();
  EXPECT_NE(storage.find(".tmp: No space left on device"), std::string::npos) << applied.text();
  EXPECT_NE(log.find("storage_failed"), std::string::npos) << "the storage_failed event\n" << log;

  const CommandResult revoke = admin("revoke SYS-0001 'disk full test'");
  ASSERT_EQ(revoke.status, 0) << revoke.text() << logs();
  EXPECT_NE(revoke.out.find(second + " revoked; the device answered"), std::string::npos) << revoke.out;
  EXPECT_EQ(revoke.out.find("not_held"), std::string::npos) << revoke.out;
  const Json off = daemon_->status();
  EXPECT_EQ(off.at("state").str(), "unlicensed") << off.text();
  EXPECT_TRUE(off.at("license").is_null()) << off.text();
  EXPECT_TRUE(up_on(off, port)) << off.text();

  Result<std::vector<RevocationRecord>> revoked = records()->revocations();
  ASSERT_TRUE(revoked.ok());
  bool second_revoked = false;
  for (const RevocationRecord& r : *revoked) second_revoked |= r.serial == second;
  EXPECT_TRUE(second_revoked) << "the license in force is recorded revoked";
}

TEST_F(ServerAdminTest, DisconnectKeepsTheAgentAwayForRetryAfter) {
  const int port = free_port();
  start({port});
  // The device cannot have been told before this moment: its next link
  // must come up at least retry_after_s later. (The server's record of the
  // old link going down is written after the device already started its
  // wait, so it is no lower bound.)
  const int64_t told_at_most_at = utc_now_ms();
  const CommandResult r = admin("disconnect SYS-0001 --retry-after 3");
  ASSERT_EQ(r.status, 0) << r.text();

  EXPECT_TRUE(eventually([&] { return connections().size() == 2; }, 15000)) << logs();
  const std::vector<ConnectionHistory> links = connections();
  ASSERT_EQ(links.size(), 2u);
  ASSERT_TRUE(links[0].down.has_value());
  EXPECT_EQ(links[0].down_reason, "closed_by_peer 1000") << "the agent closed as told";
  EXPECT_GE(links[1].record.up - told_at_most_at, 3000) << "it stayed away at least retry_after_s";
  EXPECT_TRUE(licensed_on(daemon_->wait_status([&](const Json& j) { return licensed_on(j, port); }), port));
}

TEST_F(ServerAdminTest, RequestPrintsTheDevicesResponse) {
  const int port = free_port();
  start({port});
  CommandResult r = admin("request SYS-0001 status.get");
  ASSERT_EQ(r.status, 0) << r.text();
  const Json response = Json::parse(r.out);
  ASSERT_TRUE(response) << r.out;
  EXPECT_TRUE(response.at("ok").is_true()) << r.out;
  EXPECT_EQ(response.at("result.state").str(), "licensed") << r.out;
  EXPECT_EQ(response.at("result.port").num(), port) << r.out;
  EXPECT_EQ(response.at("result.license.serial").str(), daemon_->status().at("license.serial").str());

  r = admin("request SYS-0001 no.such.method");
  EXPECT_EQ(r.status, 1) << r.text();
  EXPECT_EQ(Json::parse(r.out).at("error.code").str(), "unknown_method") << r.out;
  r = admin("request SYS-0002 status.get");
  EXPECT_EQ(r.status, 1) << r.text();
  EXPECT_NE(r.err.find("SYS-0002 is not linked"), std::string::npos) << r.err;
  r = admin("request SYS-0001 tunnel.open '{not json'");
  EXPECT_EQ(r.status, 2) << r.text();
}

TEST_F(ServerAdminTest, PortStopRefusesConnectsAndTheAgentFailsOverToTheSecondPort) {
  const int first = free_port();
  const int second = free_port();
  start({first, second});

  CommandResult r = admin("port " + std::to_string(first) + " stop");
  ASSERT_EQ(r.status, 0) << r.text();
  EXPECT_NE(r.out.find("stopped"), std::string::npos) << r.out;
  EXPECT_TRUE(connect_refused(first)) << "a stopped port refuses TCP like a port that is down";
  EXPECT_TRUE(up_on(daemon_->status(), first)) << "links already up stay up";

  r = admin("drop SYS-0001");
  ASSERT_EQ(r.status, 0) << r.text();
  const Json s = daemon_->wait_status([&](const Json& j) { return licensed_on(j, second); });
  EXPECT_TRUE(licensed_on(s, second)) << s.text() << "\n" << logs();
  EXPECT_EQ(device("SYS-0001").at("port").num(), second);

  r = admin("port " + std::to_string(first) + " start");
  ASSERT_EQ(r.status, 0) << r.text();
  EXPECT_TRUE(wait_for_port(first, 2000)) << "listening again";
  r = admin("port 1 stop");
  EXPECT_EQ(r.status, 1) << r.text();
  EXPECT_NE(r.err.find("does not listen on port 1"), std::string::npos) << r.err;
}

TEST_F(ServerAdminTest, PortStallMakesTheAgentFailOverWhenItsConnectTimeoutFires) {
  const int first = free_port();
  const int second = free_port();
  // Attempts strictly one after another, so only connect_timeout_s (2 s)
  // moves the agent on from the stalled port.
  start({first, second}, R"("stagger_ms": 0)");

  ASSERT_EQ(admin("port " + std::to_string(first) + " stall").status, 0);
  const Clock::time_point dropped = Clock::now();
  ASSERT_EQ(admin("drop SYS-0001").status, 0);
  const Json s = daemon_->wait_status([&](const Json& j) { return licensed_on(j, second); }, 20000);
  ASSERT_TRUE(licensed_on(s, second)) << s.text() << "\n" << logs();
  EXPECT_GE(ms_since(dropped), 2000) << "it waited out its connect timeout on the stalled port";
  EXPECT_NE(daemon_->log().find(std::to_string(first) + " FAILED: connect_timeout"), std::string::npos)
      << daemon_->log();
  EXPECT_NE(server_->log().find("holding a connection unanswered"), std::string::npos) << server_->log();

  // normal: the first port serves again, and a new round starts there.
  ASSERT_EQ(admin("port " + std::to_string(first) + " normal").status, 0);
  ASSERT_EQ(admin("drop SYS-0001").status, 0);
  const Json back = daemon_->wait_status([&](const Json& j) { return licensed_on(j, first); }, 20000);
  EXPECT_TRUE(licensed_on(back, first)) << back.text() << "\n" << logs();
}

TEST_F(ServerAdminTest, DropResetsTheLinkAndTheAgentReconnects) {
  const int port = free_port();
  start({port});
  CommandResult r = admin("drop SYS-0001");
  ASSERT_EQ(r.status, 0) << r.text();

  EXPECT_TRUE(eventually([&] { return connections().size() == 2; }, 15000)) << logs();
  const std::vector<ConnectionHistory> links = connections();
  ASSERT_GE(links.size(), 2u);
  EXPECT_EQ(links[0].down_reason, "dropped_by_operator");
  EXPECT_TRUE(licensed_on(daemon_->wait_status([&](const Json& j) { return licensed_on(j, port); }), port));
  // The agent's account of the gap reached the server's records.
  EXPECT_TRUE(eventually([&] { return event_stored("grace_started") && event_stored("grace_cleared"); }, 10000))
      << logs();

  r = admin("drop SYS-0002");
  EXPECT_EQ(r.status, 1) << r.text();
}

// Events per stream in the server's database, as (stream -> seqs in order).
std::map<std::string, std::vector<int64_t>> seqs_by_stream(const std::vector<DeviceEvent>& events) {
  std::map<std::string, std::vector<int64_t>> out;
  for (const DeviceEvent& e : events) out[e.stream].push_back(e.seq);
  return out;
}

TEST_F(ServerAdminTest, AWipedStateDirStartsANewStreamAndTheDatabaseKeepsEveryEventOfBothOnce) {
  const int port = free_port();
  start({port});
  Json s = daemon_->wait_status([&](const Json& j) { return j.at("events_pending").num() == 0; });
  ASSERT_EQ(s.at("events_pending").num(), 0) << s.text() << logs();
  const std::string first_stream = s.at("event_stream").str();
  ASSERT_EQ(first_stream.size(), 16u) << s.text();
  ASSERT_TRUE(eventually([&] { return event_stored("license_applied"); }, 10000)) << logs();
  const std::vector<DeviceEvent> before = *records()->events("SYS-0001");

  // The device loses its whole state: stop, wipe state_dir, start again.
  ASSERT_EQ(daemon_->stop(), 0) << daemon_->log();
  std::error_code ec;
  std::filesystem::remove_all(daemon_->dir() + "/state", ec);
  ASSERT_FALSE(ec) << ec.message();
  daemon_->restart();
  s = daemon_->wait_status([&](const Json& j) {
    return licensed_on(j, port) && j.at("events_pending").num() == 0 && j.at("event_stream").str() != first_stream;
  });
  ASSERT_TRUE(licensed_on(s, port)) << s.text() << logs();
  ASSERT_EQ(s.at("events_pending").num(), 0) << s.text() << logs();
  const std::string second_stream = s.at("event_stream").str();
  EXPECT_NE(second_stream, first_stream) << "a log that starts empty is a new stream";

  const std::vector<DeviceEvent> after = *records()->events("SYS-0001");
  const auto streams = seqs_by_stream(after);
  ASSERT_EQ(streams.size(), 2u) << "both streams are in the database";
  // Every event of the first stream is still there, unchanged.
  ASSERT_GE(after.size(), before.size());
  for (size_t i = 0; i < before.size(); ++i) {
    EXPECT_EQ(after[i].stream, first_stream);
    EXPECT_EQ(after[i].seq, before[i].seq);
    EXPECT_EQ(after[i].json, before[i].json);
  }
  // Each stream holds seq 1, 2, ... once each: nothing lost, nothing twice.
  for (const auto& [stream, seqs] : streams) {
    for (size_t i = 0; i < seqs.size(); ++i) EXPECT_EQ(seqs[i], static_cast<int64_t>(i + 1)) << stream;
  }
  ASSERT_TRUE(streams.count(second_stream));
  // The new stream's license_applied (seq 1 .. n again) reached the records
  // instead of being taken for a repeat of the first stream's.
  int applied_in_second = 0;
  for (const DeviceEvent& e : after) applied_in_second += e.stream == second_stream && e.kind == "license_applied";
  EXPECT_EQ(applied_in_second, 1) << logs();
}

TEST_F(ServerAdminTest, BlackholeMakesTheAgentDeclareTheLinkDeadAndReconnect) {
  const int port = free_port();
  start({port});  // heartbeat 1 s: the link is dead after 3 s of silence
  const Clock::time_point on = Clock::now();
  const CommandResult r = admin("blackhole SYS-0001 on");
  ASSERT_EQ(r.status, 0) << r.text();
  EXPECT_TRUE(device("SYS-0001").at("blackholed").is_true());
  const CommandResult hung = admin("request SYS-0001 status.get");
  EXPECT_EQ(hung.status, 1) << "a hung link carries no requests\n" << hung.text();
  EXPECT_NE(hung.err.find("blackholed"), std::string::npos) << hung.err;

  EXPECT_TRUE(eventually([&] { return connections().size() == 2; }, 15000)) << logs();
  EXPECT_GE(ms_since(on), 2000) << "the agent waited for 3 heartbeat intervals of silence";
  const std::vector<ConnectionHistory> links = connections();
  ASSERT_GE(links.size(), 2u);
  EXPECT_EQ(links[0].down_reason, "device_left_while_blackholed");
  const Json s = daemon_->wait_status([&](const Json& j) { return licensed_on(j, port); });
  EXPECT_TRUE(licensed_on(s, port)) << s.text();
  EXPECT_FALSE(device("SYS-0001").at("blackholed").is_true()) << "the new link is served";
}

TEST_F(ServerAdminTest, BlackholeOffServesTheLinkAgainBeforeTheAgentGivesUp) {
  const int port = free_port();
  start({port});
  ASSERT_EQ(admin("blackhole SYS-0001 on").status, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  ASSERT_EQ(admin("blackhole SYS-0001 off").status, 0);
  // Well past the 3 s the agent would wait: the held heartbeats were
  // answered once the server read again, so the link never died.
  std::this_thread::sleep_for(std::chrono::milliseconds(4000));
  EXPECT_EQ(connections().size(), 1u) << logs();
  EXPECT_TRUE(licensed_on(daemon_->status(), port));
}

TEST_F(ServerAdminTest, TheCommandLineReportsUsageAndAnAbsentServer) {
  CommandResult r = run_server_command("admin --help");
  EXPECT_EQ(r.status, 0);
  for (const char* section : {"NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "EXIT STATUS", "EXAMPLES"}) {
    EXPECT_NE(("\n" + r.out).find(std::string("\n") + section + "\n"), std::string::npos) << section;
  }
  r = run_server_command("--help");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("\nFILES\n"), std::string::npos) << r.out;

  const std::string absent = "admin --control '" + tmp_.file("none.sock") + "' ";
  r = run_server_command(absent + "devices");
  EXPECT_EQ(r.status, 3) << r.text();
  EXPECT_NE(r.err.find("not running"), std::string::npos) << r.err;
  for (const char* bad : {"frobnicate", "entitle SYS-0001 seats many", "port 443 sideways", "blackhole SYS-0001",
                          "disconnect SYS-0001 --retry-after soon"}) {
    r = run_server_command(absent + bad);
    EXPECT_EQ(r.status, 2) << bad << "\n" << r.text();
    EXPECT_NE(r.err.find("try 'sublink-server admin --help'"), std::string::npos) << r.err;
  }
  r = run_server_command("admin devices");
  EXPECT_EQ(r.status, 2) << "which server is not said";
}

TEST_F(ServerAdminTest, TheControlSocketIsTheOwnersAndGoesWithTheServer) {
  const int port = free_port();
  server_ = std::make_unique<ServerProcess>(tmp_.path(), std::vector<int>{port});
  struct stat st{};
  ASSERT_EQ(lstat(server_->control_path().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  // A second server on the same socket is refused, and the first keeps it.
  TempDir other;
  ASSERT_EQ(server_db_command(other.file("server.db"), "init-db", ""), 0);
  const std::string& pki = rig_pki_dir();
  const CommandResult second = run_server_command(
      "--db '" + other.file("server.db") + "' --control '" + server_->control_path() + "' --ca " + pki +
      "/ca.crt --cert " + pki + "/server.crt --key " + pki + "/server.key --license-key " + pki +
      "/license.key --bind 127.0.0.1 --port " + std::to_string(free_port()));
  EXPECT_EQ(second.status, 1) << second.text();
  EXPECT_NE(second.err.find("another sublink-server is running"), std::string::npos) << second.err;
  EXPECT_EQ(admin("devices").status, 0);

  EXPECT_EQ(server_->stop(), 0) << server_->log();
  EXPECT_NE(lstat(server_->control_path().c_str(), &st), 0) << "removed at exit";
}

}  // namespace
}  // namespace sublink::test
