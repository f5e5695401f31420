// `sublinkctl doctor` and `sublinkctl firewall-rules` as a site engineer
// runs them, against real peers on loopback: the independent sublink/1
// server (tests/peers/sublink1_server.py), a second TLS server whose
// certificate comes from another CA, Debian's tinyproxy refusing CONNECT to
// one port, and an SNTP responder whose clock is hours off. Every process is
// stopped by PID when the test ends, also when it fails.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "integration/sublinkd_rig.h"
#include "support/process.h"

namespace sublink::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kPython = "/usr/bin/python3";

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Outcome {
  int status = -1;
  std::string out;
  std::string err;
};

// Runs sublinkctl with `args` (shell words).
Outcome sublinkctl(const TempDir& dir, const std::string& args) {
  Outcome r;
  const std::string out = dir.file("ctl.out"), err = dir.file("ctl.err");
  r.status = run_command(std::string("'") + SUBLINKCTL_PATH + "' " + args + " >'" + out + "' 2>'" + err + "'");
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

// The SNTP responder on 127.0.0.1:port, `offset_s` away from the system clock.
class SntpResponder {
 public:
  explicit SntpResponder(const TempDir& dir, double offset_s = 0) : port_(free_port()) {
    process_ = ChildProcess({kPython, source_path("tests/doctor/sntp_responder.py"), "--port", std::to_string(port_),
                             "--offset-s", std::to_string(offset_s)},
                            dir.file("sntp-" + std::to_string(port_) + ".log"));
    EXPECT_TRUE(eventually([&] { return process_.log().find("listening") != std::string::npos; }, 10000))
        << process_.log();
  }
  int port() const { return port_; }
  std::string log() const { return process_.log(); }

 private:
  int port_;
  ChildProcess process_;
};

// tinyproxy on 127.0.0.1 that allows CONNECT to `allowed_port` only.
class Tinyproxy {
 public:
  Tinyproxy(const TempDir& dir, int allowed_port) : port_(free_port()) {
    const std::string conf = dir.file("tinyproxy.conf");
    std::ofstream(conf) << "Port " << port_ << "\nListen 127.0.0.1\nTimeout 10\nMaxClients 8\nLogLevel Info\n"
                        << "Allow 127.0.0.1\nConnectPort " << allowed_port << "\n";
    process_ = ChildProcess({"tinyproxy", "-d", "-c", conf}, dir.file("tinyproxy.log"));
    EXPECT_TRUE(wait_for_port(port_, 10000)) << process_.log();
  }
  int port() const { return port_; }

 private:
  int port_;
  ChildProcess process_;
};

// A TLS WebSocket server on `port` whose certificate is from another CA:
// what a TLS-inspecting middlebox presents.
class InterceptingPeer {
 public:
  InterceptingPeer(const TempDir& dir, int port) {
    const std::string& pki = rig_pki_dir();
    process_ = ChildProcess({kPython, source_path("tests/peers/ws_tls_peer.py"), "--port", std::to_string(port),
                             "--cert", pki + "/server-other-ca.crt", "--key", pki + "/server-other-ca.key", "--ca",
                             pki + "/ca.crt"},
                            dir.file("intercept.log"));
    EXPECT_TRUE(wait_for_port(port, 10000)) << process_.log();
  }

 private:
  ChildProcess process_;
};

class DoctorTest : public ::testing::Test {
 protected:
  // Writes the device's configuration; `extra` adds members.
  std::string write_config(const std::vector<int>& ports, int ntp_port, const std::string& extra = "",
                           const std::string& server = "127.0.0.1") {
    const std::string& pki = rig_pki_dir();
    mkdir(tmp_.file("state").c_str(), 0700);
    std::string list;
    for (int p : ports) list += (list.empty() ? "" : ",") + std::to_string(p);
    std::ostringstream json;
    json << R"({"server":")" << server << R"(","ports":[)" << list << "],"
         << R"("customer_id":"CUST-1","system_id":"SYS-0001",)"
         << R"("ca_file":")" << pki << R"(/ca.crt","cert_file":")" << pki << R"(/device.crt",)"
         << R"("key_file":")" << pki << R"(/device.key","license_key_file":")" << pki << R"(/license.pub",)"
         << R"("state_dir":")" << tmp_.file("state") << R"(","connect_timeout_s":2,)"
         << R"("ntp":["127.0.0.1:)" << ntp_port << R"("])" << extra << "}";
    const std::string path = tmp_.file("sublink.json");
    std::ofstream(path) << json.str();
    return path;
  }

  Outcome doctor(const std::string& config, const std::string& more = "") {
    return sublinkctl(tmp_, "-c '" + config + "' doctor " + more);
  }

  TempDir tmp_;
};

TEST_F(DoctorTest, AClosedPortFailsWithItsRuleWhileTheOtherPortCarriesTheLink) {
  SntpResponder ntp(tmp_);
  PeerServer server(tmp_.path(), {.ports = {free_port()}});
  const int open = server.port(), closed = free_port();
  const std::string config = write_config({closed, open}, ntp.port());

  Outcome r = doctor(config);
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  const std::string c = std::to_string(closed), o = std::to_string(open);
  EXPECT_THAT(r.out, HasSubstr("FAIL  TCP " + c + " to 127.0.0.1: connection refused \u2014 allow TCP " + c +
                               " to 127.0.0.1\n"));
  EXPECT_THAT(r.out, HasSubstr("PASS  TCP " + o + " to 127.0.0.1 connects\n"));
  EXPECT_THAT(r.out, HasSubstr("PASS  TLS 1.2 on port " + o));
  EXPECT_THAT(r.out, HasSubstr("PASS  WebSocket upgrade on port " + o));
  EXPECT_THAT(r.out, HasSubstr("PASS  hello on port " + o + ": welcome (heartbeat every 60 s"));
  EXPECT_THAT(r.out, HasSubstr("PASS  port " + o + ": round trip"));
  EXPECT_THAT(r.out, HasSubstr("PASS  port " + o + ": throughput"));
  EXPECT_THAT(r.out, HasSubstr("PASS  NTP server 127.0.0.1:" + std::to_string(ntp.port()) + ": system clock offset"));
  EXPECT_THAT(r.out, HasSubstr("The link can work on port " + o + " ("));
  EXPECT_THAT(r.out, Not(HasSubstr("TLS 1.2 on port " + c))) << "a port is not judged past its first failure";

  // Configuration, clock, DNS, then the ports: the order of the checks.
  size_t config_at = r.out.find("configuration '"), ntp_at = r.out.find("NTP server"),
         dns_at = r.out.find("no DNS needed"), tcp_at = r.out.find("TCP " + c), tls_at = r.out.find("TLS 1.2");
  EXPECT_TRUE(config_at < ntp_at && ntp_at < dns_at && dns_at < tcp_at && tcp_at < tls_at) << r.out;

  // The server saw the doctor's hello, heartbeats and pings as a device's.
  auto hello = server.wait_message("recv", "hello");
  ASSERT_TRUE(hello) << server.journal_text();
  EXPECT_EQ(hello->msg().at("system_id").str(), "SYS-0001");
  EXPECT_EQ(hello->msg().at("customer_id").str(), "CUST-1");
  EXPECT_GE(server.records("recv", "heartbeat").size(), 5u);
}

TEST_F(DoctorTest, TheDoctorsHelloTellsTheServerWhatTheRunningAgentHolds) {
  SntpResponder ntp(tmp_);
  PeerServer server(tmp_.path(), {.ports = {free_port()}});
  Daemon daemon(tmp_.path(),
                {.ports = {server.port()}, .extra = R"("ntp":["127.0.0.1:)" + std::to_string(ntp.port()) + "\"]"});
  Json s = daemon.wait_status([](const Json& j) { return j.at("state").str() == "licensed"; });
  ASSERT_EQ(s.at("state").str(), "licensed") << s.text() << daemon.log();

  Outcome r = doctor(daemon.config_path());
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  // The agent's own hello came first; the doctor's is the last one.
  auto hellos = server.records("recv", "hello");
  ASSERT_GE(hellos.size(), 2u) << server.journal_text();
  Json doctors = hellos.back().msg();
  EXPECT_EQ(doctors.at("state").str(), "licensed") << doctors.text();
  EXPECT_EQ(doctors.at("license_serial").str(), s.at("license.serial").str()) << doctors.text();
  EXPECT_EQ(daemon.status().at("link").str(), "up") << "the agent's own link is left alone";
}

TEST_F(DoctorTest, TheReferenceServerPassesEveryCheckToo) {
  SntpResponder ntp(tmp_);
  const std::string db = tmp_.file("fleet.db"), server_path = SUBLINK_SERVER_PATH;
  for (const std::string& admin : {std::string("init-db --db '") + db + "'",
                                   "add-customer --db '" + db + "' CUST-1",
                                   "add-system --db '" + db + "' --customer CUST-1 SYS-0001"}) {
    ASSERT_EQ(run_command("'" + server_path + "' " + admin + " >/dev/null"), 0) << admin;
  }
  const std::string& pki = rig_pki_dir();
  const int port = free_port();
  ChildProcess server({server_path, "--db", db, "--ca", pki + "/ca.crt", "--cert", pki + "/server.crt", "--key",
                       pki + "/server.key", "--license-key", pki + "/license.key", "--bind", "127.0.0.1", "--port",
                       std::to_string(port)},
                      tmp_.file("sublink-server.log"));
  ASSERT_TRUE(wait_for_port(port, 10000)) << server.log();

  Outcome r = doctor(write_config({port}, ntp.port()));
  EXPECT_EQ(r.status, 0) << r.out << r.err << server.log();
  const std::string p = std::to_string(port);
  for (const std::string& line :
       {"PASS  TCP " + p, "PASS  TLS 1.2 on port " + p, "PASS  WebSocket upgrade on port " + p,
        "PASS  hello on port " + p, "PASS  port " + p + ": round trip", "PASS  port " + p + ": throughput"}) {
    EXPECT_THAT(r.out, HasSubstr(line));
  }
}

TEST_F(DoctorTest, JsonReportHasEveryCheckWithItsVerdictAndPort) {
  SntpResponder ntp(tmp_);
  PeerServer server(tmp_.path(), {.ports = {free_port()}});
  const int open = server.port(), closed = free_port();
  Outcome r = doctor(write_config({open, closed}, ntp.port()), "--json");
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  Json report = Json::parse(r.out);
  ASSERT_TRUE(report) << r.out;
  EXPECT_TRUE(report.at("link_can_work").is_true());
  ASSERT_EQ(report.at("working_ports").size(), 1u);
  EXPECT_EQ(report.at("working_ports").item(0).num(), open);
  bool closed_failed = false, rtt_measured = false;
  for (size_t i = 0; i < report.at("checks").size(); ++i) {
    Json check = report.at("checks").item(i);
    if (check.at("check").str() == "tcp" && check.at("port").num() == closed) {
      closed_failed = check.at("verdict").str() == "FAIL" && check.at("reason").str() == "connect_refused" &&
                      check.at("fix").str() == "allow TCP " + std::to_string(closed) + " to 127.0.0.1";
    }
    if (check.at("check").str() == "rtt") rtt_measured = check.at("rtt_us").num() > 0;
  }
  EXPECT_TRUE(closed_failed) << r.out;
  EXPECT_TRUE(rtt_measured) << r.out;
}

TEST_F(DoctorTest, EveryPortClosedMeansTheLinkCannotWork) {
  SntpResponder ntp(tmp_);
  const int a = free_port(), b = free_port();
  Outcome r = doctor(write_config({a, b}, ntp.port()));
  EXPECT_EQ(r.status, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("allow TCP " + std::to_string(a) + " to 127.0.0.1\n"));
  EXPECT_THAT(r.out, HasSubstr("allow TCP " + std::to_string(b) + " to 127.0.0.1\n"));
  EXPECT_THAT(r.out, HasSubstr("The link cannot work (2 FAIL"));
}

TEST_F(DoctorTest, AProxyThatRefusesConnectToAPortNamesTheProxyRule) {
  SntpResponder ntp(tmp_);
  PeerServer server(tmp_.path(), {.ports = {free_port(), free_port()}});
  const int allowed = server.port(0), denied = server.port(1);
  Tinyproxy proxy(tmp_, allowed);
  const std::string config =
      write_config({denied, allowed}, ntp.port(),
                   R"(,"proxy":"http://127.0.0.1:)" + std::to_string(proxy.port()) + "\"");

  Outcome r = doctor(config);
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  const std::string p = std::to_string(proxy.port()), d = std::to_string(denied), a = std::to_string(allowed);
  EXPECT_THAT(r.out, HasSubstr("FAIL  port " + d + ": the proxy 127.0.0.1:" + p + " refused CONNECT 127.0.0.1:" + d +
                               " with 403 \u2014 allow CONNECT to 127.0.0.1:" + d + " on the proxy\n"));
  EXPECT_THAT(r.out,
              HasSubstr("PASS  port " + a + ": the proxy 127.0.0.1:" + p + " opened a tunnel to 127.0.0.1:" + a));
  EXPECT_THAT(r.out, HasSubstr("PASS  hello on port " + a));
  EXPECT_THAT(r.out, HasSubstr("The link can work on port " + a + " ("));

  // firewall-rules: only the proxy is reached, and it must allow CONNECT.
  Outcome rules = sublinkctl(tmp_, "-c '" + config + "' firewall-rules --json");
  EXPECT_EQ(rules.status, 0) << rules.err;
  Json j = Json::parse(rules.out);
  ASSERT_TRUE(j) << rules.out;
  bool direct = false, to_proxy = false, connect_rule = false;
  for (size_t i = 0; i < j.at("rules").size(); ++i) {
    Json rule = j.at("rules").item(i);
    if (rule.at("protocol").str() != "TCP" && rule.at("protocol").str() != "CONNECT") continue;
    if (rule.at("rule_on").str() == "proxy") {
      connect_rule = rule.at("ports").size() == 2 && rule.at("ports").item(0).num() == denied;
    } else if (rule.at("ports").item(0).num() == proxy.port()) {
      to_proxy = true;
    } else {
      direct = true;
    }
  }
  EXPECT_TRUE(to_proxy && connect_rule && !direct) << rules.out;
}

TEST_F(DoctorTest, AnotherCaOnOnePortIsNamedAsTlsInspection) {
  SntpResponder ntp(tmp_);
  PeerServer server(tmp_.path(), {.ports = {free_port()}});
  const int intercepted = free_port();
  InterceptingPeer middlebox(tmp_, intercepted);

  Outcome r = doctor(write_config({intercepted, server.port()}, ntp.port()));
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  const std::string i = std::to_string(intercepted), good = std::to_string(server.port());
  EXPECT_THAT(r.out, HasSubstr("PASS  TCP " + i + " to 127.0.0.1 connects"));
  // The middlebox is named by the certificate it presents.
  EXPECT_THAT(r.out, HasSubstr("FAIL  port " + i +
                               " presents a certificate for CN=localhost issued by CN=sublink other CA, which is "
                               "not from the CA in ca_file"));
  EXPECT_THAT(r.out, HasSubstr("): TLS inspection, while port " + good));
  EXPECT_THAT(r.out, HasSubstr("while port " + good + " reaches the real server \u2014 exempt 127.0.0.1:" + i +
                               " from TLS inspection"));
  EXPECT_THAT(r.out, HasSubstr("The link can work on port " + good + " ("));
}

TEST_F(DoctorTest, AClockHoursOffFailsWithTheOffset) {
  SntpResponder ntp(tmp_, 3 * 3600);  // NTP says it is three hours later
  PeerServer server(tmp_.path(), {.ports = {free_port()}});
  Outcome r = doctor(write_config({server.port()}, ntp.port()), "--json");
  EXPECT_EQ(r.status, 0) << "a wrong clock alone does not stop the link\n" << r.out << r.err;
  Json report = Json::parse(r.out);
  ASSERT_TRUE(report) << r.out;
  Json clock;
  for (size_t i = 0; i < report.at("checks").size(); ++i) {
    Json c = report.at("checks").item(i);
    if (c.at("check").str() == "clock" && c.at("offset_ms")) clock = c;
  }
  ASSERT_TRUE(clock) << r.out;
  EXPECT_EQ(clock.at("verdict").str(), "FAIL");
  EXPECT_NEAR(static_cast<double>(clock.at("offset_ms").num()), -3 * 3600 * 1000.0, 5000.0);
  EXPECT_THAT(clock.at("what").str(), HasSubstr("the system clock is behind NTP server 127.0.0.1:" +
                                                std::to_string(ntp.port()) + ": offset -10800"));
  EXPECT_THAT(clock.at("fix").str(), HasSubstr("set the clock"));
}

TEST_F(DoctorTest, SilentNtpNamesTheUdpRule) {
  const int silent = free_port();  // nothing listens on this UDP port
  PeerServer server(tmp_.path(), {.ports = {free_port()}});
  Outcome r = doctor(write_config({server.port()}, silent));
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("FAIL  no time from NTP server 127.0.0.1:" + std::to_string(silent)));
  EXPECT_THAT(r.out, HasSubstr("allow UDP " + std::to_string(silent) + " to 127.0.0.1\n"));
}

TEST_F(DoctorTest, AKeyFileOthersCanReadFailsTheConfigurationEvenWithAWorkingServer) {
  SntpResponder ntp(tmp_);
  PeerServer server(tmp_.path(), {.ports = {free_port()}});
  const std::string config = write_config({server.port()}, ntp.port());
  // A copy of the key, readable by everyone.
  const std::string key = tmp_.file("device.key");
  std::ofstream(key) << slurp(rig_pki_dir() + "/device.key");
  ASSERT_EQ(chmod(key.c_str(), 0644), 0);
  std::string text = slurp(config);
  text.replace(text.find(rig_pki_dir() + "/device.key"), (rig_pki_dir() + "/device.key").size(), key);
  std::ofstream(config) << text;

  Outcome r = doctor(config);
  EXPECT_EQ(r.status, 1) << "sublinkd would not start\n" << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("FAIL  key_file '" + key + "' is readable by group or others (mode 0644)"));
  EXPECT_THAT(r.out, HasSubstr("chmod 600 the key file"));
  EXPECT_THAT(r.out, HasSubstr("The link cannot work"));
}

TEST_F(DoctorTest, AMissingConfigurationIsOneFailLine) {
  Outcome r = doctor(tmp_.file("nope.json"));
  EXPECT_EQ(r.status, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("FAIL  configuration '" + tmp_.file("nope.json") + "'"));
  EXPECT_THAT(r.out, HasSubstr("The link cannot work (1 FAIL, 0 WARN)"));
}

TEST_F(DoctorTest, FirewallRulesListDnsNtpAndTheServerPortsAsATable) {
  const std::string resolv = tmp_.file("resolv.conf");
  std::ofstream(resolv) << "nameserver 127.0.0.53\nnameserver 192.0.2.53\n";
  const std::string config = write_config({443, 8443}, 10123, R"(,"proxy":null)", "localhost");
  Outcome r = sublinkctl(tmp_, "-c '" + config + "' firewall-rules --resolv-conf '" + resolv + "'");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("RULE ON   PROTOCOL  DESTINATION"));
  EXPECT_THAT(r.out, HasSubstr("firewall  UDP+TCP   192.0.2.53"));
  EXPECT_THAT(r.out, Not(HasSubstr("127.0.0.53"))) << "a local resolver needs no rule";
  EXPECT_THAT(r.out, HasSubstr("DNS: resolve localhost"));
  EXPECT_THAT(r.out, HasSubstr("firewall  UDP       127.0.0.1"));
  EXPECT_THAT(r.out, HasSubstr("10123"));
  EXPECT_THAT(r.out, HasSubstr("firewall  TCP       localhost ("));
  EXPECT_THAT(r.out, HasSubstr("443, 8443  subscription link"));
  EXPECT_THAT(r.out, HasSubstr("No inbound rule is needed"));

  Outcome bad = sublinkctl(tmp_, "-c '" + tmp_.file("nope.json") + "' firewall-rules");
  EXPECT_EQ(bad.status, 2);
  EXPECT_THAT(bad.err, HasSubstr("nope.json"));
}

TEST_F(DoctorTest, HelpIsAManPageAndBadUsageSaysSoInOneLine) {
  Outcome help = sublinkctl(tmp_, "--help");
  EXPECT_EQ(help.status, 0);
  size_t at = 0;
  for (const char* section : {"NAME\n", "SYNOPSIS\n", "DESCRIPTION\n", "COMMANDS\n", "OPTIONS\n", "FILES\n",
                              "EXIT STATUS\n", "EXAMPLES\n"}) {
    size_t found = help.out.find(section, at);
    EXPECT_NE(found, std::string::npos) << section << " in order";
    at = found == std::string::npos ? at : found;
  }
  EXPECT_THAT(help.out, HasSubstr("sublinkctl [-c FILE] doctor [--json]"));
  EXPECT_THAT(help.out, HasSubstr("sublinkctl [-c FILE] firewall-rules [--json]"));
  std::istringstream lines(help.out);
  std::string line;
  while (std::getline(lines, line)) {
    size_t columns = 0;
    for (unsigned char ch : line) columns += (ch & 0xC0) != 0x80;  // UTF-8 characters
    EXPECT_LE(columns, 80u) << line;
  }
  EXPECT_TRUE(help.err.empty());

  for (const char* args : {"doctor extra", "--frobnicate doctor", "firewall-rules --config"}) {
    Outcome bad = sublinkctl(tmp_, args);
    EXPECT_EQ(bad.status, 2) << args;
    EXPECT_THAT(bad.err, HasSubstr("try 'sublinkctl --help'")) << args;
    EXPECT_EQ(std::count(bad.err.begin(), bad.err.end(), '\n'), 1) << bad.err;
    EXPECT_TRUE(bad.out.empty()) << args;
  }
}

}  // namespace
}  // namespace sublink::test
