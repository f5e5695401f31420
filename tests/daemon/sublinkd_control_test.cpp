// sublinkd and sublinkctl, run as the real programs: what an operator sees
// when the configuration is wrong, what the control socket allows, and how
// the daemon answers signals. The server is a closed port: the link stays
// down and the agent unlicensed, which is all these checks need.
#include <gtest/gtest.h>
#include <signal.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <ctime>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <cJSON.h>

#include "support/process.h"

namespace sublink::test {
namespace {

using Output = ShellOutput;
constexpr auto run = &run_shell;

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool wait_until(const std::function<bool()>& done, int timeout_ms) {
  for (int waited = 0; waited < timeout_ms; waited += 20) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

class SublinkdControl : public ::testing::Test {
 protected:
  // One PKI for the suite: making it is the slow part of every test.
  static void SetUpTestSuite() {
    pki_dir_ = new TempDir();
    ASSERT_EQ(run_command("sh " + source_path("tests/pki/make_pki.sh") + " " + pki_dir_->path() + " >/dev/null 2>&1"), 0);
  }
  static void TearDownTestSuite() {
    delete pki_dir_;
    pki_dir_ = nullptr;
  }

  void SetUp() override {
    pki_ = tmp_.file("pki");
    ASSERT_EQ(run_command("cp -a " + pki_dir_->path() + " " + pki_), 0);
    closed_port_ = closed_.port();
    write_config(config_json());
  }

  std::string config_json(const std::string& extra = "") const {
    return R"({"server":"127.0.0.1","ports":[)" + std::to_string(closed_port_) +
           R"(],"customer_id":"C-1","system_id":"SYS-0001",)"
           R"("ca_file":")" + pki_ + R"(/ca.crt","cert_file":")" + pki_ + R"(/device.crt",)"
           R"("key_file":")" + pki_ + R"(/device.key","license_key_file":")" + pki_ + R"(/license.pub",)"
           R"("state_dir":")" + tmp_.file("state") + R"(","features":[{"name":"trunks","qty":10}],)"
           R"("retry_min_s":1,"retry_max_s":2)" + extra + "}";
  }
  void write_config(const std::string& text) {
    std::ofstream(config()) << text;
  }
  std::string config() const { return tmp_.file("sublink.json"); }
  std::string socket_path() const { return tmp_.file("state") + "/sublinkd.sock"; }
  std::string ctl(const std::string& args) const { return std::string(SUBLINKCTL_PATH) + " -c " + config() + " " + args; }

  // Starts the daemon and waits for its control socket.
  ChildProcess start_daemon(const std::string& log_name = "sublinkd.log") {
    ChildProcess d({SUBLINKD_PATH, "--config", config()}, tmp_.file(log_name));
    bool up = wait_until([&] { return access(socket_path().c_str(), F_OK) == 0; }, 10000);
    EXPECT_TRUE(up) << d.log();
    return d;
  }

  cJSON* status_json() {
    Output o = run(ctl("status --json"), tmp_);
    EXPECT_EQ(o.status, 0) << o.err;
    return cJSON_Parse(o.out.c_str());
  }

  static TempDir* pki_dir_;
  TempDir tmp_;
  std::string pki_;
  ClosedPort closed_;
  int closed_port_ = 0;
};

TempDir* SublinkdControl::pki_dir_ = nullptr;

TEST_F(SublinkdControl, StatusJsonHasEverySection7Field) {
  ChildProcess d = start_daemon();
  cJSON* s = status_json();
  ASSERT_NE(s, nullptr);
  for (const char* name : {"state", "link", "grace_elapsed_s", "grace_remaining_s", "alarm", "license", "events_pending"}) {
    EXPECT_NE(cJSON_GetObjectItemCaseSensitive(s, name), nullptr) << name;
  }
  EXPECT_STREQ(cJSON_GetStringValue(cJSON_GetObjectItem(s, "state")), "unlicensed");
  EXPECT_STREQ(cJSON_GetStringValue(cJSON_GetObjectItem(s, "link")), "down");
  EXPECT_TRUE(cJSON_IsNull(cJSON_GetObjectItem(s, "license")));
  EXPECT_FALSE(cJSON_IsTrue(cJSON_GetObjectItem(s, "alarm")));
  // Which clock checks certificate dates (PROTOCOL.md 2, 7): this host's
  // clock is set (NTP-synchronised or not); no link has told the time yet.
  const cJSON* clock = cJSON_GetObjectItem(s, "clock");
  ASSERT_TRUE(cJSON_IsObject(clock));
  EXPECT_TRUE(cJSON_IsBool(cJSON_GetObjectItem(clock, "trusted")));
  const std::string source = cJSON_GetStringValue(cJSON_GetObjectItem(clock, "source"));
  EXPECT_TRUE(source == "ntp" || source == "rtc") << source;
  EXPECT_EQ(cJSON_IsTrue(cJSON_GetObjectItem(clock, "trusted")), source == "ntp");
  const cJSON* tunnels = cJSON_GetObjectItem(s, "tunnels");
  EXPECT_TRUE(cJSON_IsArray(tunnels) && cJSON_GetArraySize(tunnels) == 0) << "no channel is open";
  cJSON_Delete(s);

  // Why the link is down, and when the next round starts: the configured
  // port refuses, so an attempt has failed there.
  std::string failed;
  ASSERT_TRUE(wait_until(
      [&] {
        cJSON* j = status_json();
        const cJSON* f = cJSON_GetObjectItem(j, "last_failure");
        const bool seen = cJSON_IsObject(f);
        if (seen) {
          char* text = cJSON_PrintUnformatted(j);
          failed = text;
          cJSON_free(text);
        }
        cJSON_Delete(j);
        return seen;
      },
      10000));
  cJSON* after = cJSON_Parse(failed.c_str());
  const cJSON* failure = cJSON_GetObjectItem(after, "last_failure");
  EXPECT_STREQ(cJSON_GetStringValue(cJSON_GetObjectItem(failure, "reason")), "connect_refused") << failed;
  const std::string detail = cJSON_GetStringValue(cJSON_GetObjectItem(failure, "detail"));
  EXPECT_EQ(detail.rfind("127.0.0.1:" + std::to_string(closed_port_) + ": connection refused", 0), 0u) << detail;
  const double when = cJSON_GetNumberValue(cJSON_GetObjectItem(failure, "when"));
  const double now_ms = static_cast<double>(time(nullptr)) * 1000.0;
  EXPECT_LT(std::abs(when - now_ms), 60000.0) << "when is UTC in ms: " << failed;
  cJSON_Delete(after);
  ASSERT_TRUE(wait_until(
      [&] {
        cJSON* j = status_json();
        const cJSON* next = cJSON_GetObjectItem(j, "next_attempt");
        const bool waiting = cJSON_IsObject(next) && cJSON_IsNumber(cJSON_GetObjectItem(next, "in_s")) &&
                             cJSON_GetNumberValue(cJSON_GetObjectItem(next, "in_s")) <= 2 &&
                             cJSON_GetNumberValue(cJSON_GetObjectItem(next, "at")) >= now_ms - 60000;
        cJSON_Delete(j);
        return waiting;
      },
      10000))
      << "next_attempt {in_s <= retry_max_s, at} while the backoff runs";

  Output text = run(ctl("status"), tmp_);
  EXPECT_EQ(text.status, 0);
  EXPECT_NE(text.out.find("state:    unlicensed"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("license:  none held"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("clock:    " + source), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("failure:  connect_refused: 127.0.0.1:"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("tunnels:  none open"), std::string::npos) << text.out;
}

// Through a proxy every TCP connection goes to the proxy: a failed attempt
// names the proxy's address and port (and the server port it was for), in
// the log and in status, never the server's address with the proxy's port.
TEST_F(SublinkdControl, AFailedAttemptThroughAProxyNamesTheProxy) {
  const int proxy_port = free_port();
  write_config(config_json(R"(,"proxy":"http://127.0.0.1:)" + std::to_string(proxy_port) + R"(")"));
  ChildProcess d = start_daemon();
  const std::string proxy = "proxy 127.0.0.1:" + std::to_string(proxy_port) + " (CONNECT to port " +
                            std::to_string(closed_port_) + ")";
  std::string detail;
  ASSERT_TRUE(wait_until(
      [&] {
        cJSON* j = status_json();
        const char* text = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "last_failure"), "detail"));
        detail = text != nullptr ? text : "";
        cJSON_Delete(j);
        return !detail.empty();
      },
      10000))
      << d.log();
  EXPECT_EQ(detail.rfind(proxy + ": connection refused", 0), 0u) << detail;
  EXPECT_TRUE(wait_until([&] { return d.log().find("attempt #1 to " + proxy + " FAILED: connect_refused") != std::string::npos; },
                         5000))
      << d.log();
}

TEST_F(SublinkdControl, SocketIsOwnerOnlyInAnOwnerOnlyDirectory) {
  ChildProcess d = start_daemon();
  struct stat sock {}, dir {};
  ASSERT_EQ(lstat(socket_path().c_str(), &sock), 0);
  ASSERT_EQ(stat(tmp_.file("state").c_str(), &dir), 0);
  EXPECT_TRUE(S_ISSOCK(sock.st_mode));
  EXPECT_EQ(sock.st_mode & 0777, 0600u);
  EXPECT_EQ(dir.st_mode & 0777, 0700u);
}

TEST_F(SublinkdControl, FeatureAndUsageAnswerTheApplication) {
  ChildProcess d = start_daemon();
  Output off = run(ctl("feature trunks"), tmp_);
  EXPECT_EQ(off.status, 1) << "exit status 1: the feature is off while unlicensed";
  EXPECT_NE(off.out.find("trunks: off, quantity 0 (state unlicensed)"), std::string::npos) << off.out;

  EXPECT_EQ(run(ctl("usage trunks 4"), tmp_).status, 0);
  EXPECT_EQ(run(ctl("usage trunks 4294967295"), tmp_).status, 0) << "the largest quantity a license holds";
  Output unknown = run(ctl("usage voicemail 1"), tmp_);
  EXPECT_EQ(unknown.status, 1);
  EXPECT_NE(unknown.err.find("NAME 'voicemail' is not a configured feature (configured: trunks)"), std::string::npos)
      << unknown.err;
}

// Which argument of usage is wrong is named, and a count no quantity can
// hold is bad usage (exit 2), refused before the agent is asked.
TEST_F(SublinkdControl, UsageNamesTheWrongArgument) {
  ChildProcess d = start_daemon();
  struct Case {
    std::string args;
    std::string said;
  } cases[] = {
      {"usage trunks many", "COUNT 'many' is not a whole number"},
      {"usage trunks -3", "COUNT '-3' is negative"},
      {"usage trunks 4294967296", "COUNT '4294967296' is too large (at most 4294967295)"},
      {"usage trunks 99999999999999999999999", "COUNT '99999999999999999999999' is too large"},
      {"usage trunks", "usage takes NAME COUNT; COUNT is missing"},
      {"usage", "usage takes NAME COUNT; NAME and COUNT are missing"},
      {"usage trunks 1 2", "usage takes NAME COUNT; '2' is one too many"},
      {"feature", "feature takes NAME; NAME is missing"},
      {"status now", "status takes no argument; 'now' is one too many"},
  };
  for (const Case& c : cases) {
    Output o = run(ctl(c.args), tmp_);
    EXPECT_EQ(o.status, 2) << c.args << ": " << o.err;
    EXPECT_NE(o.err.find(c.said), std::string::npos) << c.args << ": " << o.err;
  }
  EXPECT_EQ(run(ctl("usage trunks 4"), tmp_).status, 0) << "the agent still answers";
}

// Every program reads its files with sublinkd's bound: a device node or a
// file too large to be a configuration is named, never read whole.
TEST_F(SublinkdControl, ConfigurationThatIsNoFileIsNamedNotRead) {
  Output zero = run(std::string(SUBLINKCTL_PATH) + " -c /dev/zero status", tmp_);
  EXPECT_EQ(zero.status, 2) << zero.err;
  EXPECT_NE(zero.err.find("'/dev/zero' is not a regular file"), std::string::npos) << zero.err;
  EXPECT_EQ(zero.err.find("bad_alloc"), std::string::npos) << zero.err;
  Output daemon = run(std::string(SUBLINKD_PATH) + " --config /dev/zero", tmp_);
  EXPECT_EQ(daemon.status, 78) << daemon.err;
  EXPECT_NE(daemon.err.find("'/dev/zero' is not a regular file"), std::string::npos) << daemon.err;

  std::ofstream(tmp_.file("big.json")) << std::string(300 * 1024, ' ');
  Output big = run(std::string(SUBLINKCTL_PATH) + " -c " + tmp_.file("big.json") + " status", tmp_);
  EXPECT_EQ(big.status, 2) << big.err;
  EXPECT_NE(big.err.find("is larger than 262144 bytes"), std::string::npos) << big.err;
  Output missing = run(std::string(SUBLINKCTL_PATH) + " -c " + tmp_.file("none.json") + " status", tmp_);
  EXPECT_EQ(missing.status, 2) << missing.err;
  EXPECT_NE(missing.err.find("none.json': cannot read: No such file or directory"), std::string::npos) << missing.err;
}

TEST_F(SublinkdControl, UnknownRequestOnTheSocketIsNamed) {
  ChildProcess d = start_daemon();
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  snprintf(addr.sun_path, sizeof addr.sun_path, "%s", socket_path().c_str());
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const char req[] = "reboot now\n";
  ASSERT_EQ(write(fd, req, sizeof req - 1), static_cast<ssize_t>(sizeof req - 1));
  char buf[512] = {};
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  ASSERT_GT(n, 0);
  EXPECT_NE(std::string(buf).find("unknown request 'reboot now'"), std::string::npos) << buf;
}

TEST_F(SublinkdControl, WatchStreamsTheStatusUntilTheClientLeaves) {
  ChildProcess d = start_daemon();
  ChildProcess watch({"sh", "-c", ctl("watch")}, tmp_.file("watch.out"));
  ASSERT_TRUE(wait_until([&] { return read_all(tmp_.file("watch.out")).find("\"state\"") != std::string::npos; }, 5000));
  EXPECT_TRUE(watch.running()) << "watch stays connected";
}

TEST_F(SublinkdControl, SublinkctlSaysWhenNoAgentRuns) {
  Output o = run(ctl("status"), tmp_);
  EXPECT_EQ(o.status, 3);
  EXPECT_NE(o.err.find("sublinkd is not running"), std::string::npos) << o.err;
}

TEST_F(SublinkdControl, SublinkctlRefusesBadUsage) {
  EXPECT_EQ(run(ctl(""), tmp_).status, 2);
  EXPECT_EQ(run(ctl("feature"), tmp_).status, 2);
  Output o = run(ctl("frobnicate"), tmp_);
  EXPECT_EQ(o.status, 2);
  EXPECT_NE(o.err.find("bad command 'frobnicate'"), std::string::npos) << o.err;
  Output big = run(ctl("usage trunks 18446744073709551616"), tmp_);
  EXPECT_EQ(big.status, 2) << "bad usage even with no agent running: " << big.err;
}

TEST_F(SublinkdControl, ConfigurationErrorsStopTheStartWithOneLine) {
  struct Case {
    std::string config;
    std::string expected;
  };
  std::string key = pki_ + "/device.key";
  const Case cases[] = {
      {config_json(R"(,"colour":"blue")"), "'colour'"},
      {config_json(R"(,"stagger_ms":"fast")"), "'stagger_ms'"},
      {"{not json", "config"},
  };
  for (const Case& c : cases) {
    write_config(c.config);
    Output o = run(std::string(SUBLINKD_PATH) + " --config " + config(), tmp_);
    EXPECT_EQ(o.status, 78) << c.config << "\n" << o.err;
    EXPECT_NE(o.err.find(c.expected), std::string::npos) << o.err;
    EXPECT_EQ(std::count(o.err.begin(), o.err.end(), '\n'), 1) << "one line: " << o.err;
  }

  write_config(config_json());
  ASSERT_EQ(chmod(key.c_str(), 0640), 0);
  Output loose = run(std::string(SUBLINKD_PATH) + " --config " + config(), tmp_);
  EXPECT_EQ(loose.status, 78);
  EXPECT_NE(loose.err.find("key_file"), std::string::npos) << loose.err;
  ASSERT_EQ(chmod(key.c_str(), 0600), 0);

  Output missing = run(std::string(SUBLINKD_PATH) + " --config " + tmp_.file("nope.json"), tmp_);
  EXPECT_EQ(missing.status, 78);
  EXPECT_NE(missing.err.find("nope.json"), std::string::npos) << missing.err;

  Output usage = run(std::string(SUBLINKD_PATH), tmp_);
  EXPECT_EQ(usage.status, 2);
  EXPECT_NE(usage.err.find("--config FILE is required"), std::string::npos);
}

TEST_F(SublinkdControl, SecondDaemonOnTheSameStateDirIsRefused) {
  ChildProcess first = start_daemon();
  Output second = run(std::string(SUBLINKD_PATH) + " --config " + config(), tmp_);
  EXPECT_EQ(second.status, 1);
  EXPECT_NE(second.err.find("another sublinkd is running"), std::string::npos) << second.err;
  EXPECT_TRUE(first.running());
  EXPECT_EQ(run(ctl("status"), tmp_).status, 0) << "the first one still answers";
}

TEST_F(SublinkdControl, StaleSocketFromACrashIsReplaced) {
  {
    ChildProcess crashed = start_daemon("crashed.log");
    // The socket is bound before the agent boots (a second daemon must be
    // refused before it touches the state); the crash under test comes
    // after the boot, when the daemon answers.
    ASSERT_TRUE(wait_until([&] { return run(ctl("status"), tmp_).status == 0; }, 5000)) << crashed.log();
    kill(crashed.pid(), SIGKILL);
    ASSERT_TRUE(wait_until([&] { return !crashed.running(); }, 5000));
  }
  ASSERT_EQ(access(socket_path().c_str(), F_OK), 0) << "SIGKILL leaves the socket behind";
  ChildProcess d = start_daemon();
  ASSERT_TRUE(wait_until([&] { return run(ctl("status"), tmp_).status == 0; }, 5000)) << d.log();
  cJSON* s = status_json();
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(cJSON_GetNumberValue(cJSON_GetObjectItem(s, "boot")), 2) << "the boot counter survived the crash";
  cJSON_Delete(s);
}

TEST_F(SublinkdControl, SigtermStopsCleanlyAndRemovesTheSocket) {
  ChildProcess d = start_daemon();
  pid_t pid = d.pid();
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_NE(access(socket_path().c_str(), F_OK), 0) << "the socket is removed";
  std::string log = d.log();
  size_t stopping = log.find("stopping");
  ASSERT_NE(stopping, std::string::npos) << log;
  EXPECT_EQ(log.find("connecting to", stopping), std::string::npos) << "no new attempt once stopping:\n" << log;
  EXPECT_NE(log.find("stopped", stopping), std::string::npos) << log;
}

TEST_F(SublinkdControl, SighupWithABrokenCertificateKeepsTheCurrentOne) {
  ChildProcess d = start_daemon();
  std::string cert = pki_ + "/device.crt";
  std::string good = read_all(cert);
  std::ofstream(cert) << "-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n";
  ASSERT_EQ(kill(d.pid(), SIGHUP), 0);
  EXPECT_TRUE(wait_until([&] { return d.log().find("reload refused") != std::string::npos; }, 5000)) << d.log();
  EXPECT_TRUE(d.running()) << "a bad reload does not stop the agent";
  std::ofstream(cert) << good;
  ASSERT_EQ(kill(d.pid(), SIGHUP), 0);
  EXPECT_TRUE(wait_until([&] { return d.log().find("reloaded cert_file") != std::string::npos; }, 5000)) << d.log();
  EXPECT_EQ(run(ctl("status"), tmp_).status, 0);
}

// sublinkd --check (like nginx -t): the configuration, its key files and
// certificates checked as a start would, with no connection made and
// nothing changed; exit 0 or 78.
TEST_F(SublinkdControl, CheckValidatesWithoutNetworkOrChange) {
  // A listener on the configured port: --check must not connect to it.
  const int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(listener, 4), 0);
  socklen_t len = sizeof a;
  ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len), 0);
  closed_port_ = ntohs(a.sin_port);
  write_config(config_json());

  const std::string check = std::string(SUBLINKD_PATH) + " --check --config " + config();
  Output ok = run(check, tmp_);
  EXPECT_EQ(ok.status, 0) << ok.err;
  EXPECT_NE(ok.out.find(config() + ": OK: system SYS-0001 of customer C-1"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("certificate CN=SYS-0001"), std::string::npos) << ok.out;
  EXPECT_NE(access(tmp_.file("state").c_str(), F_OK), 0) << "state_dir is not created by a check";
  EXPECT_LT(accept(listener, nullptr, nullptr), 0) << "no connection was made";
  close(listener);

  // The device key of another certificate: refused, named, exit 78.
  ASSERT_EQ(run_command("cp " + pki_ + "/server.key " + pki_ + "/device.key && chmod 600 " + pki_ + "/device.key"), 0);
  Output bad = run(check, tmp_);
  EXPECT_EQ(bad.status, 78) << bad.err;
  EXPECT_NE(bad.err.find("key_file"), std::string::npos) << bad.err;
  EXPECT_EQ(bad.out.find("OK"), std::string::npos) << bad.out;
  write_config(config_json(R"(,"log_levle":"info")"));
  Output typo = run(check, tmp_);
  EXPECT_EQ(typo.status, 78) << typo.err;
  EXPECT_NE(typo.err.find("log_levle"), std::string::npos) << typo.err;
}

// --log-level, and the configuration's log_level, leave out what is less
// severe: at warning the notice "started" line is gone, a failed attempt
// (warning) is still there.
TEST_F(SublinkdControl, LogLevelKeepsOnlyWhatIsSevereEnough) {
  {
    ChildProcess d({SUBLINKD_PATH, "--config", config(), "--log-level", "warning"}, tmp_.file("cli.log"));
    ASSERT_TRUE(wait_until([&] { return d.log().find("FAILED: connect_refused") != std::string::npos; }, 10000))
        << d.log();
    EXPECT_EQ(d.log().find("<5>"), std::string::npos) << d.log();
    EXPECT_EQ(d.log().find("<6>"), std::string::npos) << d.log();
    EXPECT_EQ(d.log().find("started"), std::string::npos) << d.log();
  }
  write_config(config_json(R"(,"log_level":"warning")"));
  {
    ChildProcess d({SUBLINKD_PATH, "--config", config()}, tmp_.file("config.log"));
    ASSERT_TRUE(wait_until([&] { return d.log().find("FAILED: connect_refused") != std::string::npos; }, 10000))
        << d.log();
    EXPECT_EQ(d.log().find("started"), std::string::npos) << d.log();
  }
  {
    // The command line wins over the configuration.
    ChildProcess d({SUBLINKD_PATH, "--config", config(), "--log-level", "info"}, tmp_.file("both.log"));
    EXPECT_TRUE(wait_until([&] { return d.log().find("started") != std::string::npos; }, 10000)) << d.log();
  }
  Output bad = run(std::string(SUBLINKD_PATH) + " --config " + config() + " --log-level loud", tmp_);
  EXPECT_EQ(bad.status, 2) << bad.err;
  EXPECT_NE(bad.err.find("--log-level 'loud' is not a level"), std::string::npos) << bad.err;
  write_config(config_json(R"(,"log_level":"loud")"));
  Output key = run(std::string(SUBLINKD_PATH) + " --check --config " + config(), tmp_);
  EXPECT_EQ(key.status, 78) << key.err;
  EXPECT_NE(key.err.find("log_level"), std::string::npos) << key.err;
}

// systemd Type=notify with WatchdogSec=: READY=1 once the control socket
// answers, WATCHDOG=1 at half of WATCHDOG_USEC, STOPPING=1 at SIGTERM, all
// as datagrams on $NOTIFY_SOCKET (here a listener of the test's own).
TEST_F(SublinkdControl, NotifiesReadyWatchdogAndStoppingOverTheNotifySocket) {
  const std::string path = tmp_.file("notify.sock");
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  struct timeval wait {0, 200 * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
  std::vector<std::pair<std::chrono::steady_clock::time_point, std::string>> got;
  auto receive_until = [&](const std::string& what, int timeout_ms) {
    for (int waited = 0; waited < timeout_ms; waited += 200) {
      char buf[512];
      const ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n > 0) got.emplace_back(std::chrono::steady_clock::now(), std::string(buf, static_cast<size_t>(n)));
      if (!got.empty() && got.back().second.find(what) != std::string::npos) return true;
    }
    return false;
  };
  ChildProcess d({"env", "NOTIFY_SOCKET=" + path, "WATCHDOG_USEC=400000", SUBLINKD_PATH, "--config", config()},
                 tmp_.file("notify.log"));
  ASSERT_TRUE(receive_until("READY=1", 10000)) << d.log();
  EXPECT_EQ(access(socket_path().c_str(), F_OK), 0) << "READY comes after the control socket is there";
  EXPECT_EQ(run(ctl("status"), tmp_).status, 0);
  const size_t ready = got.size();
  receive_until("never sent", 1600);  // collects what comes in 1.6 s
  size_t keep_alives = 0;
  for (size_t i = ready; i < got.size(); ++i) keep_alives += got[i].second == "WATCHDOG=1";
  // Every 200 ms (half of 400 ms): about 8 in 1.6 s; 4 leaves room for a
  // loaded machine, and would fail a daemon waiting for its next timer.
  EXPECT_GE(keep_alives, 4u) << "WATCHDOG=1 at half of WATCHDOG_USEC\n" << d.log();
  ASSERT_EQ(kill(d.pid(), SIGTERM), 0);
  EXPECT_TRUE(receive_until("STOPPING=1", 5000)) << d.log();
  close(fd);
}

TEST_F(SublinkdControl, HelpDescribesEveryCommand) {
  Output d = run(std::string(SUBLINKD_PATH) + " --help", tmp_);
  EXPECT_EQ(d.status, 0);
  for (const char* word : {"--config", "SIGTERM", "SIGHUP", "EXIT STATUS"}) {
    EXPECT_NE(d.out.find(word), std::string::npos) << word;
  }
  Output c = run(std::string(SUBLINKCTL_PATH) + " --help", tmp_);
  EXPECT_EQ(c.status, 0);
  for (const char* word : {"status [--json]", "feature NAME", "usage NAME COUNT", "watch", "EXIT STATUS"}) {
    EXPECT_NE(c.out.find(word), std::string::npos) << word;
  }
}

}  // namespace
}  // namespace sublink::test
