// The whole byte path (Link over PosixNetwork) against peers this project
// did not write, on loopback: python3-websockets with client-certificate
// TLS, openssl s_server for the TLS failures, haproxy terminating mutual TLS
// and tinyproxy for CONNECT.
#include <gtest/gtest.h>

#include <fstream>

#include "link/link_harness.h"

namespace sublink::test {
namespace {

using Opts = LinkHarness::Options;

std::string pki(const std::string& name) { return pki_dir() + "/" + name; }

std::vector<std::string> tls_peer_args() {
  return {"--cert", pki("server.crt"), "--key", pki("server.key"), "--ca", pki("ca.crt")};
}

Opts one_port(int port) {
  Opts o;
  o.ports = {static_cast<uint16_t>(port)};
  return o;
}

TEST(LinkInterop, MutualTlsWebSocketWithPythonWebsockets) {
  TempDir tmp;
  int port = free_port();
  auto peer = start_ws_peer(port, tls_peer_args(), tmp.file("peer.log"));
  LinkHarness h(one_port(port));
  ASSERT_TRUE(h.run_until([&] { return h.ups == 1; }, 10000)) << h.dump() << peer.log();
  EXPECT_FALSE(h.last_resumed);
  ASSERT_TRUE(h.link().send_text("{\"type\":\"hello\"}").ok());
  ASSERT_TRUE(h.run_until([&] { return !h.texts.empty(); }, 5000)) << h.dump();
  EXPECT_EQ(h.texts[0], "{\"type\":\"hello\"}");
  // The server saw our certificate's CN, TLS 1.2 and our User-Agent.
  ASSERT_TRUE(h.link().send_text("close:4000").ok());
  ASSERT_TRUE(h.run_until([&] { return h.downs == 1; }, 5000)) << h.dump();
  EXPECT_EQ(h.last_down.reason(), Reason::closed_by_peer);
  EXPECT_EQ(h.last_down.detail(), 4000);
  std::string log = peer.log();
  EXPECT_NE(log.find("client CN=SYS-0001 TLSv1.2 new"), std::string::npos) << log;
  EXPECT_NE(log.find("ua=sublink/"), std::string::npos) << log;
  EXPECT_NE(log.find("subprotocol sublink.v1"), std::string::npos) << log;

  // Reconnection after the backoff resumes the TLS session (OpenSSL, under
  // Python's ssl, agrees), and data flows both ways on it: the upgrade, then
  // a message and its echo.
  ASSERT_TRUE(h.run_until([&] { return h.ups == 2; }, 10000)) << h.dump() << peer.log();
  EXPECT_TRUE(h.last_resumed) << h.dump();
  ASSERT_TRUE(h.link().send_text("{\"type\":\"after resumption\"}").ok());
  ASSERT_TRUE(h.run_until([&] { return h.texts.size() == 2; }, 5000)) << h.dump() << peer.log();
  EXPECT_EQ(h.texts[1], "{\"type\":\"after resumption\"}");
  EXPECT_NE(peer.log().find("client CN=SYS-0001 TLSv1.2 reused"), std::string::npos) << peer.log();
  EXPECT_EQ(h.downs, 1) << h.dump();
}

TEST(LinkInterop, UpgradeRefusalsHaveTheirOwnReasons) {
  struct Case {
    int status;
    Reason reason;
  } cases[] = {{401, Reason::upgrade_unauthorized}, {403, Reason::upgrade_unauthorized},
               {503, Reason::upgrade_unavailable}, {404, Reason::upgrade_status}};
  for (auto& c : cases) {
    TempDir tmp;
    int port = free_port();
    auto args = tls_peer_args();
    args.insert(args.end(), {"--refuse", std::to_string(c.status), "--retry-after", "7"});
    auto peer = start_ws_peer(port, args, tmp.file("peer.log"));
    LinkHarness h(one_port(port));
    ASSERT_TRUE(h.run_until([&] { return !h.round_waits.empty(); }, 10000)) << h.dump();
    ASSERT_FALSE(h.attempt_failures.empty());
    EXPECT_EQ(h.attempt_failures[0].reason(), c.reason) << c.status << "\n" << h.dump();
    if (c.status == 503) {
      EXPECT_EQ(h.attempt_failures[0].detail(), 7);
      // Retry-After is a floor for the wait before the next round.
      EXPECT_GE(h.round_waits[0], 7000) << h.dump();
    } else {
      EXPECT_EQ(h.attempt_failures[0].detail(), c.status);
      EXPECT_LE(h.round_waits[0], 200);
    }
  }
}

// openssl s_server: an independent TLS peer for the failure cases.
ChildProcess start_s_server(int port, const std::vector<std::string>& extra, const std::string& log) {
  std::vector<std::string> argv = {"openssl", "s_server", "-accept", "127.0.0.1:" + std::to_string(port),
                                   "-naccept", "4", "-quiet"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  ChildProcess p(argv, log);
  if (!wait_for_port(port, 10000)) ADD_FAILURE() << "s_server did not start:\n" << p.log();
  return p;
}

Status first_failure_against(const std::vector<std::string>& server_args, const std::string& server_name = "localhost") {
  TempDir tmp;
  int port = free_port();
  auto server = start_s_server(port, server_args, tmp.file("s_server.log"));
  Opts o = one_port(port);
  o.server = server_name;
  LinkHarness h(o);
  if (!h.run_until([&] { return !h.attempt_failures.empty(); }, 10000)) {
    ADD_FAILURE() << "no failure\n" << h.dump() << server.log();
    return Status::Ok();
  }
  return h.attempt_failures[0];
}

std::vector<std::string> s_server_cert(const std::string& base) {
  return {"-cert", pki(base + ".crt"), "-key", pki(base + ".key"), "-Verify", "1", "-CAfile", pki("ca.crt")};
}

TEST(LinkInterop, TlsFailuresAreNamedAgainstOpensslSServer) {
  EXPECT_EQ(first_failure_against(s_server_cert("server-other-ca")).reason(), Reason::cert_unknown_ca);
  EXPECT_EQ(first_failure_against(s_server_cert("server-expired")).reason(), Reason::cert_expired);
  EXPECT_EQ(first_failure_against(s_server_cert("server-future")).reason(), Reason::cert_not_yet_valid);
  EXPECT_EQ(first_failure_against(s_server_cert("server-wrong-name")).reason(), Reason::cert_name_mismatch);
  // An IP literal must be in the IP SANs; a CN that spells it does not count.
  EXPECT_EQ(first_failure_against(s_server_cert("server-ip-cn"), "127.0.0.1").reason(), Reason::cert_name_mismatch);
  auto tls11 = s_server_cert("server");
  tls11.insert(tls11.end(), {"-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"});
  EXPECT_EQ(first_failure_against(tls11).reason(), Reason::tls_version);
  // The server does not accept our device certificate: it says so with an alert.
  std::vector<std::string> picky = {"-cert", pki("server.crt"), "-key", pki("server.key"), "-Verify", "1",
                                    "-CAfile", pki("other-ca.crt"), "-verify_return_error"};
  Status st = first_failure_against(picky);
  EXPECT_EQ(st.reason(), Reason::tls_alert);
  EXPECT_GT(st.detail(), 0);
}

TEST(LinkInterop, HaproxyTerminatingMutualTlsInFrontOfPlainWebSocket) {
  TempDir tmp;
  int backend_port = free_port();
  auto backend = start_ws_peer(backend_port, {"--plain"}, tmp.file("backend.log"));
  int port = free_port();
  std::string pem = tmp.file("server.pem");
  run_command("cat '" + pki("server.crt") + "' '" + pki("server.key") + "' > '" + pem + "'");
  std::ofstream(tmp.file("haproxy.cfg")) << "global\n  maxconn 64\ndefaults\n  mode http\n  timeout connect 5s\n"
                                            "  timeout client 30s\n  timeout server 30s\n  timeout tunnel 60s\n"
                                            "frontend sublink\n  bind 127.0.0.1:"
                                         << port << " ssl crt " << pem << " ca-file " << pki("ca.crt")
                                         << " verify required ssl-min-ver TLSv1.2\n"
                                            "  default_backend ws\nbackend ws\n  server b1 127.0.0.1:"
                                         << backend_port << "\n";
  ChildProcess haproxy({"haproxy", "-db", "-f", tmp.file("haproxy.cfg")}, tmp.file("haproxy.log"));
  ASSERT_TRUE(wait_for_port(port, 10000)) << haproxy.log();
  LinkHarness h(one_port(port));
  ASSERT_TRUE(h.run_until([&] { return h.ups == 1; }, 10000)) << h.dump() << haproxy.log();
  ASSERT_TRUE(h.link().send_text("through haproxy").ok());
  ASSERT_TRUE(h.run_until([&] { return !h.texts.empty(); }, 5000)) << h.dump();
  EXPECT_EQ(h.texts[0], "through haproxy");
  // A device certificate from another CA is refused by haproxy.
  Opts other = one_port(port);
  other.cert = "device-other-ca.crt";
  other.key = "device-other-ca.key";
  LinkHarness bad(other);
  ASSERT_TRUE(bad.run_until([&] { return !bad.attempt_failures.empty(); }, 10000)) << bad.dump();
  EXPECT_EQ(bad.attempt_failures[0].reason(), Reason::tls_alert) << bad.dump();
}

TEST(LinkInterop, ThroughTinyproxyWithAndWithoutAuthentication) {
  TempDir tmp;
  int ws_port = free_port();
  auto peer = start_ws_peer(ws_port, tls_peer_args(), tmp.file("peer.log"));
  for (bool auth : {false, true}) {
    TempDir ptmp;
    int proxy_port = free_port();
    auto proxy = start_tinyproxy(ptmp, proxy_port, ws_port, auth);
    ASSERT_TRUE(wait_for_port(proxy_port, 1000)) << "tinyproxy did not start:\n" << proxy.log();
    Opts o = one_port(ws_port);
    o.proxy = std::string("http://") + (auth ? "user:s3cret@" : "") + "127.0.0.1:" + std::to_string(proxy_port);
    LinkHarness h(o);
    ASSERT_TRUE(h.run_until([&] { return h.ups == 1; }, 10000)) << h.dump() << proxy.log();
    EXPECT_NE(h.first("step tunnel_open"), -1);
    ASSERT_TRUE(h.link().send_text("via proxy").ok());
    ASSERT_TRUE(h.run_until([&] { return !h.texts.empty(); }, 5000)) << h.dump();
    EXPECT_EQ(h.texts[0], "via proxy");
    if (auth) {
      Opts wrong = o;
      wrong.proxy = "http://user:wrong@127.0.0.1:" + std::to_string(proxy_port);
      LinkHarness w(wrong);
      ASSERT_TRUE(w.run_until([&] { return !w.attempt_failures.empty(); }, 10000)) << w.dump();
      EXPECT_EQ(w.attempt_failures[0].reason(), Reason::proxy_auth_required);
    } else {
      // A port the proxy does not allow: the proxy's status is reported.
      Opts other = o;
      other.ports = {static_cast<uint16_t>(free_port())};
      LinkHarness w(other);
      ASSERT_TRUE(w.run_until([&] { return !w.attempt_failures.empty(); }, 10000)) << w.dump();
      EXPECT_EQ(w.attempt_failures[0].reason(), Reason::proxy_status) << w.dump();
      EXPECT_EQ(w.attempt_failures[0].detail(), 403);
    }
  }
}

}  // namespace
}  // namespace sublink::test
