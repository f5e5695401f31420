// Fault matrix rows with the real daemon (sublinkd) on loopback. Each row
// links the daemon to the independent sublink/1 server
// (tests/peers/sublink1_server.py) until it is licensed, then breaks the
// server in one way: the server itself misbehaves (a forged license, an
// unknown message), or it stops listening and a misbehaving server
// (tests/peers/faulty_server.py: TLS, upgrade and framing faults) takes its
// port. The four things each row asserts:
//  1. sublinkd keeps running through every failed round, and stops with
//     exit status 0 at SIGTERM (in the host-asan build LeakSanitizer makes
//     that status non-zero when anything was leaked);
//  2. `sublinkctl status --json` names the reason (last_failure.reason, a
//     Reason name of hal/status.h) or the daemon logs the refusal;
//  3. the license held before the fault stays in force with its features
//     through the fault (grace, features on), the daemon is licensed again
//     when the good server is back, and every event it stored reached the
//     server once: per stream, the seqs stored are 1..n with no gap and no
//     repeat;
//  4. the daemon's RSS after three more failed rounds is within 1 MiB of its
//     RSS at the first (a leaked TLS context is ~36 KiB a round); under
//     AddressSanitizer (host-asan), LeakSanitizer at the clean stop instead.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "fault_matrix/fault_row.h"
#include "integration/sublinkd_rig.h"
#include "integration/tiny_file_system.h"

namespace sublink::test {
namespace {

const char* const kPython = "/usr/bin/python3";

// Under AddressSanitizer freed memory waits in a quarantine before it is
// reused, so RSS grows with every allocation whether or not anything leaks:
// there LeakSanitizer's verdict at exit (the clean-stop check) is the
// memory check, and RSS is compared in the host build only.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kRssIsMeaningful = false;
#else
constexpr bool kRssIsMeaningful = true;
#endif

/// 4: the daemon's RSS grew less than 1 MiB from `before` to `after` (KiB).
void expect_rss_flat(long before, long after) {
  EXPECT_GT(before, 0) << "no RSS read";
  if (kRssIsMeaningful) {
    EXPECT_LT(after - before, 1024) << "RSS " << before << " KiB -> " << after << " KiB";
  }
}

bool licensed_and_up(const Json& s) { return s.at("state").str() == "licensed" && s.at("link").str() == "up"; }

class FaultMatrixDaemon : public ::testing::Test {
 protected:
  /// The good server and a licensed daemon (with `extra` configuration
  /// members); records the license.
  void start_licensed(const std::string& extra = "") {
    if (!server_) server_ = std::make_unique<PeerServer>(dir_.path(), PeerServer::Options{});
    Daemon::Config config;
    config.ports = {server_->port()};
    config.extra = extra;
    daemon_ = std::make_unique<Daemon>(dir_.path(), config);
    Json s = daemon_->wait_status(licensed_and_up);
    ASSERT_TRUE(licensed_and_up(s)) << s.text() << context();
    serial_ = s.at("license.serial").str();
    features_ = feature_list(s.at("license.features"));
  }

  /// The good server stops listening and drops the link; `fault` of
  /// faulty_server.py takes its port (served with `cert`, a file of the test
  /// PKI).
  void replace_server(const std::string& fault, const std::string& cert = "server") {
    ASSERT_TRUE(server_->command(R"({"cmd":"stop_listening","drop":true})"));
    start_faulty(server_->port(), fault, cert);
  }
  void start_faulty(int port, const std::string& fault, const std::string& cert = "server") {
    const std::string& pki = rig_pki_dir();
    faulty_ = ChildProcess({kPython, source_path("tests/peers/faulty_server.py"), "--port", std::to_string(port),
                            "--fault", fault, "--cert", pki + "/" + cert + ".crt", "--key", pki + "/" + cert + ".key",
                            "--ca", pki + "/ca.crt"},
                           dir_.file("faulty.log"));
    ASSERT_TRUE(wait_for_port(port, 10000)) << faulty_.log();
  }

  /// The misbehaving server goes; the good one listens again.
  void restore_server() {
    faulty_.stop();
    ASSERT_TRUE(server_->command(R"({"cmd":"listen"})"));
  }
  /// Messages of the server's faults inside a licensed session: the link
  /// stays up, the license in force stays, the daemon's RSS is flat over
  /// `repeat` of them; true when `check_once` held after the first.
  void in_session_fault(const std::string& control, int repeat, const std::function<void()>& check_once) {
    ASSERT_TRUE(server_->command(control)) << context();
    check_once();
    const long before = rss_kib(daemon_->pid());
    for (int i = 1; i < repeat; ++i) ASSERT_TRUE(server_->command(control)) << context();
    Json s = daemon_->status();
    EXPECT_TRUE(licensed_and_up(s)) << s.text() << context();
    EXPECT_EQ(s.at("license.serial").str(), serial_) << s.text();
    EXPECT_EQ(feature_list(s.at("license.features")), features_) << s.text();
    EXPECT_EQ(server_->records("connect").size(), 1u) << "the link was never broken\n" << context();
    const long after = rss_kib(daemon_->pid());
    expect_rss_flat(before, after);
    EXPECT_TRUE(daemon_->running());
  }
  /// The license_refused events the server stored, their JSON texts.
  std::vector<std::string> refusals() const {
    std::vector<std::string> out;
    for (const Record& r : server_->records("event_stored")) {
      if (r.json.at("event.kind").str() == "license_refused") out.push_back(r.json.at("event").text());
    }
    return out;
  }
  /// The row of a grant the daemon must refuse (`control` makes the server
  /// send it) with the license_refused event naming `refusal`.
  void refused_grant_row(const std::string& control, const std::string& refusal) {
    start_licensed();
    in_session_fault(control, 10, [&] {
      EXPECT_TRUE(eventually([&] { return !refusals().empty(); }, 10000)) << context();
      ASSERT_FALSE(refusals().empty());
      EXPECT_NE(refusals()[0].find(refusal), std::string::npos) << refusals()[0];
    });
    expect_events_once_and_clean_stop();
  }
  /// tinyproxy (again) on proxy_port_, in front of the server, with Basic
  /// authentication when `auth`.
  void start_proxy(bool auth) {
    proxy_.stop();
    proxy_ = start_tinyproxy(dir_, proxy_port_, server_->port(), auth);
    ASSERT_TRUE(wait_for_port(proxy_port_, 1000)) << "tinyproxy did not start:\n" << proxy_.log();
  }
  /// The good server and a daemon licensed through tinyproxy.
  void start_licensed_through_proxy() {
    server_ = std::make_unique<PeerServer>(dir_.path(), PeerServer::Options{});
    proxy_port_ = free_port();
    start_proxy(false);
    start_licensed(R"("proxy": "http://127.0.0.1:)" + std::to_string(proxy_port_) + R"(")");
  }
  /// 3 for an in-session fault, then 1: events once, a clean stop.
  void expect_events_once_and_clean_stop() {
    EXPECT_EQ(daemon_->wait_status([](const Json& j) { return j.at("events_pending").num() == 0; }, 15000)
                  .at("events_pending")
                  .num(),
              0);
    expect_events_once();
    const int status = daemon_->stop();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "wait status " << status << context();
  }

  /// Connections the misbehaving server took so far.
  int faulty_connections() const {
    const std::string log = faulty_.log();
    int n = 0;
    for (size_t at = 0; (at = log.find("accepted ", at)) != std::string::npos; ++at) ++n;
    return n;
  }

  // ---- The four checks ------------------------------------------------------------
  /// 1 and 2: still running, in grace with the license and features held
  /// before the fault, and last_failure names `reason`.
  void expect_running_with_reason(const std::string& reason) {
    Json s = daemon_->wait_status([&](const Json& j) { return j.at("last_failure.reason").str() == reason; }, 20000);
    EXPECT_EQ(s.at("last_failure.reason").str(), reason)
        << "detail: " << s.at("last_failure.detail").str() << "\n" << s.text() << context();
    EXPECT_TRUE(daemon_->running()) << context();
    EXPECT_EQ(s.at("state").str(), "grace") << s.text();
    EXPECT_EQ(s.at("license.serial").str(), serial_) << s.text();
    EXPECT_EQ(feature_list(s.at("license.features")), features_) << s.text();
  }
  /// 4: RSS now and after three more failed rounds against the faulty server.
  void expect_memory_flat_over_rounds() {
    const long before = rss_kib(daemon_->pid());
    const int rounds = faulty_connections();
    EXPECT_TRUE(eventually([&] { return faulty_connections() >= rounds + 3; }, 30000)) << faulty_.log();
    const long after = rss_kib(daemon_->pid());
    EXPECT_GT(before, 0);
    expect_rss_flat(before, after);
    EXPECT_TRUE(daemon_->running()) << context();
  }
  /// 3: licensed again once the good server is back, every event once; then
  /// 1: a clean stop.
  void expect_recovery_and_clean_stop() {
    restore_server();
    Json s = daemon_->wait_status(licensed_and_up, 20000);
    ASSERT_TRUE(licensed_and_up(s)) << s.text() << context();
    EXPECT_TRUE(daemon_->wait_status([](const Json& j) { return j.at("events_pending").num() == 0; }, 15000)
                    .at("events_pending")
                    .num() == 0);
    expect_events_once();
    const int status = daemon_->stop();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "wait status " << status << context();
  }
  /// Per stream, the seqs the server stored are 1..n, each once.
  void expect_events_once() {
    std::map<std::string, std::vector<int64_t>> seqs;
    for (const Record& r : server_->records("event_stored")) {
      seqs[r.json.at("stream").str()].push_back(r.json.at("seq").num());
    }
    EXPECT_FALSE(seqs.empty()) << context();
    for (auto& [stream, list] : seqs) {
      std::set<int64_t> unique(list.begin(), list.end());
      EXPECT_EQ(unique.size(), list.size()) << "a seq stored twice in stream " << stream;
      EXPECT_EQ(*unique.begin(), 1) << "stream " << stream;
      EXPECT_EQ(*unique.rbegin(), static_cast<int64_t>(unique.size())) << "a gap in stream " << stream;
    }
  }

  /// The whole row for a fault of faulty_server.py.
  /// violation_retry_s is 1 (not 60) so the rounds after a close 1002/1007
  /// come as fast as after any other failure.
  void faulty_server_row(const std::string& fault, const std::string& reason, const std::string& cert) {
    start_licensed(R"("violation_retry_s": 1)");
    replace_server(fault, cert);
    expect_running_with_reason(reason);
    expect_memory_flat_over_rounds();
    expect_recovery_and_clean_stop();
  }

  std::string context() const {
    std::string s;
    if (daemon_) s += "\n--- sublinkd log ---\n" + daemon_->log();
    s += "\n--- faulty server ---\n" + faulty_.log();
    if (server_) s += "\n--- server journal ---\n" + server_->journal_text();
    return s;
  }

  void TearDown() override {
    daemon_.reset();
    faulty_.stop();
    proxy_.stop();
    server_.reset();
    state_fs_.reset();  // after the daemon left it
  }

  /// A tmpfs of 512 KiB as the daemon's state directory (root only).
  bool mount_state() {
    state_fs_ = std::make_unique<TinyFileSystem>(dir_.file("state"), "512k");
    return state_fs_->mounted();
  }

  /// The row of a state directory that refuses writes (`break_it`) until
  /// `mend_it`: grace goes on in memory, status names `words`, nothing is
  /// lost once writes are taken again.
  void storage_row(const std::string& words, const std::function<bool()>& break_it,
                   const std::function<bool()>& mend_it) {
    ASSERT_TRUE(mount_state()) << state_fs_->error();
    start_licensed(R"("grace_checkpoint_s": 1)");
    ASSERT_TRUE(break_it()) << state_fs_->error();
    ASSERT_TRUE(server_->command(R"({"cmd":"stop_listening","drop":true})"));
    Json s = daemon_->wait_status(
        [&](const Json& j) { return j.at("storage").str().find(words) != std::string::npos; }, 20000);
    EXPECT_NE(s.at("storage").str().find(words), std::string::npos) << s.text() << context();
    EXPECT_NE(daemon_->log().find("storage_failed"), std::string::npos) << "the storage_failed event\n" << context();
    EXPECT_EQ(s.at("state").str(), "grace") << s.text();
    EXPECT_EQ(s.at("license.serial").str(), serial_) << s.text();
    EXPECT_EQ(feature_list(s.at("license.features")), features_) << s.text();
    // Grace goes on counting while every checkpoint fails, memory flat.
    const long rss_before = rss_kib(daemon_->pid());
    const int64_t elapsed = s.at("grace_elapsed_s").num();
    std::this_thread::sleep_for(std::chrono::seconds(3));
    s = daemon_->status();
    EXPECT_GE(s.at("grace_elapsed_s").num(), elapsed + 2) << s.text();
    expect_rss_flat(rss_before, rss_kib(daemon_->pid()));
    EXPECT_TRUE(daemon_->running()) << context();
    ASSERT_TRUE(mend_it()) << state_fs_->error();
    s = daemon_->wait_status([](const Json& j) { return j.at("storage").str() == "ok"; }, 20000);
    EXPECT_EQ(s.at("storage").str(), "ok") << s.text();
    restore_server();
    s = daemon_->wait_status(licensed_and_up, 20000);
    ASSERT_TRUE(licensed_and_up(s)) << s.text() << context();
    expect_events_once_and_clean_stop();
  }

  std::unique_ptr<TinyFileSystem> state_fs_;
  ChildProcess proxy_;
  int proxy_port_ = 0;

  TempDir dir_;
  std::unique_ptr<PeerServer> server_;
  std::unique_ptr<Daemon> daemon_;
  ChildProcess faulty_;
  std::string serial_;
  std::string features_;
};

/// One row of the misbehaving server's faults: what it does
/// (faulty_server.py --fault), with which certificate of the test PKI, and
/// what the daemon must show.
struct FaultyServerCase {
  const char* name;     // the test's name
  const char* fault;    // the row's fault
  const char* outcome;  // what must happen
  const char* reason;   // last_failure.reason it must name
  const char* peer_fault;
  const char* cert;
};

const FaultyServerCase kFaultyServerCases[] = {
    {"RstMidFrame", "RST mid-frame",
     "grace, license kept; relinks when a good server is back",
     "connection_reset", "rst_mid_frame", "server"},
    {"TcpAcceptedTlsNeverSpoken", "TCP accepted, TLS never spoken",
     "the round gives up at connect_timeout_s; grace, license kept",
     "connect_timeout", "tcp_no_tls", "server"},
    {"SlowLorisServer", "slow-loris server",
     "the round gives up at connect_timeout_s, not after the server's last byte",
     "connect_timeout", "slowloris", "server"},
    {"TlsAlertMidSession", "TLS alert mid-session",
     "the link ends; grace, license kept",
     "connection_closed", "tls_alert", "server"},
    {"ServerCertificateExpired", "server certificate expired",
     "no link; grace, license kept",
     "cert_expired", "tls_ok", "server-expired"},
    {"ServerCertificateFromAnUnknownCa", "server certificate from an unknown CA",
     "no link; grace, license kept",
     "cert_unknown_ca", "tls_ok", "server-other-ca"},
    {"ServerCertificateWithTheWrongName", "server certificate with the wrong name",
     "no link; grace, license kept",
     "cert_name_mismatch", "tls_ok", "server-wrong-name"},
    {"ServerCertificateNotYetValid", "server certificate not yet valid",
     "no link; grace, license kept",
     "cert_not_yet_valid", "tls_ok", "server-future"},
    {"Tls11OnlyServer", "TLS 1.1-only server",
     "no link (TLS 1.2 only); grace, license kept",
     "tls_version", "tls11_only", "server"},
    {"WeakCipherOnlyServer", "weak-cipher-only server",
     "no link (no suite in common); grace, license kept",
     "tls_alert", "weak_cipher", "server"},
    {"No101", "no 101",
     "no link; grace, license kept",
     "upgrade_status", "no_101", "server"},
    {"WrongAcceptKey", "wrong Accept key",
     "no link; grace, license kept",
     "upgrade_invalid", "wrong_accept", "server"},
    {"MissingSubprotocol", "missing subprotocol",
     "no link; grace, license kept",
     "upgrade_invalid", "no_subprotocol", "server"},
    {"OversizedFrame", "oversized frame",
     "the link closed; grace, license kept",
     "message_too_big", "oversized", "server"},
    {"FragmentedControlFrame", "fragmented control frame",
     "the link closed; grace, license kept",
     "protocol_violation", "fragmented_ping", "server"},
    {"MaskedServerFrame", "masked server frame",
     "the link closed; grace, license kept",
     "protocol_violation", "masked", "server"},
    {"InvalidUtf8", "invalid UTF-8",
     "the link closed; grace, license kept",
     "invalid_payload", "invalid_utf8", "server"},
    {"InvalidJson", "invalid JSON",
     "the link closed; grace, license kept",
     "invalid_payload", "invalid_json", "server"},
};

/// Names a case by its name in test output (not its bytes).
void PrintTo(const FaultyServerCase& c, std::ostream* os) { *os << c.name; }

class FaultyServerRow : public FaultMatrixDaemon, public ::testing::WithParamInterface<FaultyServerCase> {};

TEST_P(FaultyServerRow, Fault) {
  const FaultyServerCase& c = GetParam();
  fault_row(c.fault, c.outcome, c.reason);
  faulty_server_row(c.peer_fault, c.reason, c.cert);
}

INSTANTIATE_TEST_SUITE_P(FaultMatrix, FaultyServerRow, ::testing::ValuesIn(kFaultyServerCases),
                         [](const ::testing::TestParamInfo<FaultyServerCase>& info) { return info.param.name; });

TEST_F(FaultMatrixDaemon, UnknownMessageType) {
  fault_row("unknown message type", "logged and ignored (PROTOCOL.md 4); the link and the license stay",
            "unknown message type ignored (log)");
  start_licensed();
  in_session_fault(R"({"cmd":"send","msg":{"type":"frobnicate","x":1}})", 20, [&] {
    EXPECT_TRUE(eventually([&] { return daemon_->log().find("unknown message type ignored") != std::string::npos; },
                           10000))
        << context();
  });
  expect_events_once_and_clean_stop();
}

TEST_F(FaultMatrixDaemon, BadLicenseSignature) {
  fault_row("bad license signature", "refused and reported; the license in force stays", "license_refused (bad_signature)");
  refused_grant_row(R"({"cmd":"grant","bad_signature":true})", "bad_signature");
}

TEST_F(FaultMatrixDaemon, LicenseForAnotherSystem) {
  fault_row("license for another system", "refused and reported; the license in force stays",
            "license_refused (wrong_system)");
  refused_grant_row(R"({"cmd":"grant","system_id":"SYS-9999"})", "wrong_system");
}

TEST_F(FaultMatrixDaemon, Proxy407) {
  fault_row("proxy 407", "grace, license kept; relinks once the proxy lets it through again",
            "proxy_auth_required");
  start_licensed_through_proxy();
  start_proxy(true);
  ASSERT_TRUE(server_->command(R"({"cmd":"drop"})"));
  expect_running_with_reason("proxy_auth_required");
  const long before = rss_kib(daemon_->pid());
  const Json first = daemon_->status();
  EXPECT_TRUE(eventually(
      [&] { return daemon_->status().at("last_failure.when").num() != first.at("last_failure.when").num(); }, 20000));
  expect_rss_flat(before, rss_kib(daemon_->pid()));
  start_proxy(false);
  Json s = daemon_->wait_status(licensed_and_up, 20000);
  ASSERT_TRUE(licensed_and_up(s)) << s.text() << context();
  expect_events_once_and_clean_stop();
}

TEST_F(FaultMatrixDaemon, Proxy502) {
  fault_row("proxy 502", "grace, license kept; relinks once the proxy's upstream is back", "proxy_status (502)");
  start_licensed_through_proxy();
  proxy_.stop();
  start_faulty(proxy_port_, "proxy_502");
  ASSERT_TRUE(server_->command(R"({"cmd":"drop"})"));
  expect_running_with_reason("proxy_status");
  EXPECT_NE(daemon_->status().at("last_failure.detail").str().find("502"), std::string::npos)
      << daemon_->status().text();
  expect_memory_flat_over_rounds();
  faulty_.stop();
  start_proxy(false);
  Json s = daemon_->wait_status(licensed_and_up, 20000);
  ASSERT_TRUE(licensed_and_up(s)) << s.text() << context();
  expect_events_once_and_clean_stop();
}

TEST_F(FaultMatrixDaemon, DiskFull) {
  fault_row("disk full", "grace counts on in memory; the failure is named; nothing lost once there is space again",
            "storage: No space left on device; storage_failed event");
  if (::geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs for the state directory needs root (CI runs as root)";
  storage_row("No space left on device", [&] { return state_fs_->fill(); },
              [&] {
                state_fs_->unfill();
                return true;
              });
}

TEST_F(FaultMatrixDaemon, ReadOnlyStateDir) {
  fault_row("read-only state dir", "grace counts on in memory; the failure is named; nothing lost once it is writable",
            "storage: Read-only file system; storage_failed event");
  if (::geteuid() != 0) GTEST_SKIP() << "remounting the state directory read-only needs root (CI runs as root)";
  storage_row("Read-only file system", [&] { return state_fs_->set_read_only(true); },
              [&] { return state_fs_->set_read_only(false); });
}

/// Bytes of every file in `dir`.
uintmax_t bytes_in(const std::string& dir) {
  uintmax_t total = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.is_regular_file()) total += e.file_size();
  }
  return total;
}

TEST_F(FaultMatrixDaemon, SigkillMidWrite) {
  fault_row("SIGKILL mid-write", "every restart finds its records intact; grace never goes back nor falls behind the "
            "time passed, each kill charged at most one checkpoint; the state dir does not grow",
            "no record damaged");
  start_licensed(R"("grace_checkpoint_s": 1)");
  ASSERT_TRUE(server_->command(R"({"cmd":"stop_listening","drop":true})"));
  ASSERT_EQ(daemon_->wait_status([](const Json& j) { return j.at("state").str() == "grace"; }).at("state").str(),
            "grace");
  const auto gone = std::chrono::steady_clock::now();
  const long rss_first = rss_kib(daemon_->pid());
  const uintmax_t bytes_first = bytes_in(dir_.file("state"));
  int64_t previous = 0;
  constexpr int kKills = 15;
  for (int i = 0; i < kKills; ++i) {
    // Checkpoints every second: a kill at any point of the second lands in
    // or near a write sooner or later; the offsets walk through it.
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + (i * 137) % 700));
    ASSERT_TRUE(daemon_->running()) << context();
    ::kill(daemon_->pid(), SIGKILL);
    daemon_->restart();
    Json s = daemon_->wait_status([](const Json& j) { return j.at("state").is_string(); }, 10000);
    ASSERT_TRUE(s) << context();
    EXPECT_EQ(s.at("damaged").size(), 0u) << "kill " << i << ": " << s.text();
    EXPECT_EQ(s.at("state").str(), "grace") << s.text();
    EXPECT_EQ(s.at("license.serial").str(), serial_) << s.text();
    EXPECT_GE(s.at("grace_elapsed_s").num(), previous) << "kill " << i << ": grace went back\n" << s.text();
    previous = s.at("grace_elapsed_s").num();
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - gone).count();
  Json s = daemon_->status();
  // Section 5: an unclean stop is charged one grace checkpoint (1 s here),
  // so grace is never less than the time that passed, and at most a
  // checkpoint a kill more.
  EXPECT_GE(static_cast<double>(s.at("grace_elapsed_s").num()), wall - 2) << s.text();
  EXPECT_LE(static_cast<double>(s.at("grace_elapsed_s").num()), wall + kKills + 2) << s.text();
  EXPECT_LE(bytes_in(dir_.file("state")), bytes_first + 4096) << "the state dir grew over the kills";
  expect_rss_flat(rss_first, rss_kib(daemon_->pid()));
  restore_server();
  s = daemon_->wait_status(licensed_and_up, 20000);
  ASSERT_TRUE(licensed_and_up(s)) << s.text() << context();
  expect_events_once_and_clean_stop();
}

}  // namespace
}  // namespace sublink::test
