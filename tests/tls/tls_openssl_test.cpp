// The client against `openssl s_server`, an independent TLS peer, on
// 127.0.0.1 through a small blocking socket pump.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "net/tls/tls_arena.h"
#include "net/tls/tls_client.h"
#include "support/process.h"
#include "tls/tls_test_support.h"

namespace sublink::test {
namespace {

// A connected socket plus the bytes received but not yet taken by feed().
class Socket {
 public:
  explicit Socket(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  std::vector<uint8_t> pending;

 private:
  int fd_ = -1;
};

// Sends what the session has queued and drops from the queue what the socket
// took: every byte goes on the wire exactly once.
void flush_output(Socket& socket, TlsPipe& session) {
  while (!session.output().empty()) {
    auto out = session.output();
    ssize_t n = ::send(socket.fd(), out.data(), out.size(), MSG_NOSIGNAL);
    if (n <= 0) break;  // the peer is gone; its alert may still be readable
    session.consume_output(static_cast<size_t>(n));
  }
}

// Sends what the session has queued, then waits (up to 5 s) for bytes and
// feeds them. False when the peer is silent for too long.
bool pump_once(Socket& socket, TlsPipe& session) {
  flush_output(socket, session);
  if (socket.pending.empty()) {
    pollfd p{socket.fd(), POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) return false;
    uint8_t buffer[4096];
    ssize_t n = ::recv(socket.fd(), buffer, sizeof(buffer), 0);
    if (n <= 0) {
      session.feed_eof();
      return true;
    }
    socket.pending.assign(buffer, buffer + n);
  }
  // The session's input queue may take only part: the rest waits for the
  // next round, after the session has used what it has.
  size_t fed = session.feed(socket.pending);
  socket.pending.erase(socket.pending.begin(), socket.pending.begin() + static_cast<std::ptrdiff_t>(fed));
  return true;
}

Status handshake_over_socket(Socket& socket, TlsSession& session) {
  for (int i = 0; i < 100; ++i) {
    Status s = session.handshake();
    if (s.reason() != Reason::would_block) {
      // After a failure: the alert, so the peer logs why. After success: the
      // client's last flight when it speaks last (ChangeCipherSpec and
      // Finished of a resumed handshake), which must go out once, before
      // any application record.
      flush_output(socket, session);
      return s;
    }
    if (!pump_once(socket, session)) return Reason::connect_timeout;
  }
  return Reason::connect_timeout;
}

// GET / over an established session against `s_server -www`.
std::string fetch_status_page(Socket& socket, TlsSession& session) {
  std::string_view request = "GET / HTTP/1.0\r\n\r\n";
  auto n = session.write({reinterpret_cast<const uint8_t*>(request.data()), request.size()});
  EXPECT_TRUE(n.ok());
  std::string page;
  for (int i = 0; i < 200; ++i) {
    uint8_t buffer[2048];
    auto r = session.read(buffer);
    if (r.ok()) {
      page.append(reinterpret_cast<const char*>(buffer), *r);
      continue;
    }
    if (r.status().reason() != Reason::would_block) {
      if (page.empty()) ADD_FAILURE() << "read: " << reason_name(r.status().reason()) << " " << session.failure_text();
      break;
    }
    if (!pump_once(socket, session)) break;
  }
  return page;
}

struct OpenSslServer {
  ChildProcess process;
  int port = 0;
};

OpenSslServer start_s_server(const std::vector<std::string>& extra, const std::string& cert = "server",
                             const std::string& client_ca = "ca.crt") {
  OpenSslServer server;
  server.port = free_port();
  std::vector<std::string> argv = {"openssl", "s_server", "-accept", "127.0.0.1:" + std::to_string(server.port),
                                   "-cert", pki_dir() + "/" + cert + ".crt", "-key", pki_dir() + "/" + cert + ".key",
                                   "-Verify", "1", "-verify_return_error", "-CAfile", pki_dir() + "/" + client_ca,
                                   "-www"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  static int counter = 0;
  server.process = ChildProcess(argv, pki_dir() + "/s_server" + std::to_string(counter++) + ".log");
  EXPECT_TRUE(wait_for_port(server.port, 5000)) << server.process.log();
  return server;
}

class TlsAgainstOpenSsl : public ::testing::Test {
 protected:
  Status connect(OpenSslServer& server, const char* name = "localhost", std::string* page = nullptr) {
    Socket socket(server.port);
    EXPECT_TRUE(socket.ok());
    TlsSession session(config_);
    EXPECT_TRUE(session.start(name).ok());
    Status s = handshake_over_socket(socket, session);
    failure_text_ = std::string(session.failure_text());
    resumed_ = session.resumed();
    if (s.ok() && page != nullptr) *page = fetch_status_page(socket, session);
    if (s.ok() && session.close_notify().ok()) flush_output(socket, session);
    return s;
  }

  SystemClockScope clock_;
  SeededRandom random_{7};
  TlsClientConfig config_;
  std::string failure_text_;
  bool resumed_ = false;
};

TEST_F(TlsAgainstOpenSsl, MutualAuthHandshakeDataAndResumption) {
  ASSERT_TRUE(load_client(config_, random_).ok());
  auto server = start_s_server({});
  std::string page;
  Status s = connect(server, "localhost", &page);
  ASSERT_TRUE(s.ok()) << reason_name(s.reason()) << " " << failure_text_ << "\n" << server.process.log();
  EXPECT_FALSE(resumed_);
  EXPECT_NE(page.find("200 ok"), std::string::npos) << page;
  EXPECT_NE(page.find("Protocol  : TLSv1.2"), std::string::npos) << page;
  EXPECT_NE(page.find("ECDHE-ECDSA-AES"), std::string::npos) << page;
  s = connect(server, "localhost");
  ASSERT_TRUE(s.ok()) << failure_text_;
  EXPECT_TRUE(resumed_);
}

// A resumed (abbreviated) handshake ends with the client's ChangeCipherSpec
// and Finished, still queued when handshake() completes: they must reach the
// server once, before the first application record. (Sent twice, s_server
// 3.0 reads the second ChangeCipherSpec as a 1-byte AES-GCM record and fails
// with "invalid aad" and alert 80.) s_server's status page says "Reused" for
// a resumed session; every reconnect resumes, so the third one too.
TEST_F(TlsAgainstOpenSsl, DataAfterResumption) {
  ASSERT_TRUE(load_client(config_, random_).ok());
  struct Case {
    const char* resumed_by;
    std::vector<std::string> args;
  } cases[] = {{"session ticket", {}}, {"session ID", {"-no_ticket"}}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.resumed_by);
    config_.forget_sessions();
    auto server = start_s_server(c.args);
    for (int reconnect = 0; reconnect < 3; ++reconnect) {
      std::string page;
      Status s = connect(server, "localhost", &page);
      ASSERT_TRUE(s.ok()) << reason_name(s.reason()) << " " << failure_text_ << "\n" << server.process.log();
      EXPECT_EQ(resumed_, reconnect > 0) << reconnect;
      EXPECT_NE(page.find("200 ok"), std::string::npos) << page.substr(0, 300) << server.process.log();
      const char* expected = reconnect > 0 ? "Reused, TLSv1.2" : "New, TLSv1.2";
      EXPECT_NE(page.find(expected), std::string::npos) << reconnect << ": " << page.substr(0, 600);
    }
  }
}

TEST_F(TlsAgainstOpenSsl, SendsSniForNamesAndNoneForIpLiterals) {
  ASSERT_TRUE(load_client(config_, random_).ok());
  // s_server answers SNI "localhost" with -cert2 and everything else
  // (including no SNI) with -cert.
  auto by_name = start_s_server({"-servername", "localhost", "-cert2", pki_dir() + "/server.crt", "-key2",
                                 pki_dir() + "/server.key"},
                                "server-wrong-name");
  Status s = connect(by_name, "localhost");
  EXPECT_TRUE(s.ok()) << reason_name(s.reason()) << " " << failure_text_;
  auto by_ip = start_s_server({"-servername", "127.0.0.1", "-cert2", pki_dir() + "/server-wrong-name.crt", "-key2",
                               pki_dir() + "/server-wrong-name.key"});
  s = connect(by_ip, "127.0.0.1");
  EXPECT_TRUE(s.ok()) << reason_name(s.reason()) << " " << failure_text_;
}

TEST_F(TlsAgainstOpenSsl, Tls11OnlyServerIsAVersionFailure) {
  ASSERT_TRUE(load_client(config_, random_).ok());
  auto server = start_s_server({"-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"});
  Status s = connect(server);
  EXPECT_EQ(s.reason(), Reason::tls_version) << reason_name(s.reason()) << " " << failure_text_;
  std::printf("[ measure  ] TLS 1.1-only s_server: %s detail %d (%s)\n", reason_name(s.reason()), s.detail(),
              failure_text_.c_str());
}

TEST_F(TlsAgainstOpenSsl, CertificateFailures) {
  ASSERT_TRUE(load_client(config_, random_).ok());
  struct Case {
    const char* cert;
    const char* name;
    Reason expected;
  } cases[] = {{"server-other-ca", "localhost", Reason::cert_unknown_ca},
               {"server-expired", "localhost", Reason::cert_expired},
               {"server-wrong-name", "localhost", Reason::cert_name_mismatch},
               {"server-ip-cn", "127.0.0.1", Reason::cert_name_mismatch},
               // A device certificate (clientAuth only) cannot pass as a server.
               {"device", "SYS-0001", Reason::cert_invalid}};
  for (const Case& c : cases) {
    auto server = start_s_server({}, c.cert);
    Status s = connect(server, c.name);
    EXPECT_EQ(s.reason(), c.expected) << c.cert << ": " << reason_name(s.reason()) << " " << failure_text_;
  }
}

TEST_F(TlsAgainstOpenSsl, ServerThatRejectsOurCertificateSendsAnAlert) {
  ASSERT_TRUE(load_client(config_, random_).ok());
  auto server = start_s_server({}, "server", "other-ca.crt");
  Status s = connect(server);
  EXPECT_EQ(s, Status(Reason::tls_alert, 48)) << reason_name(s.reason()) << " " << failure_text_ << "\n"
                                               << server.process.log();
}

TEST_F(TlsAgainstOpenSsl, ServerDemandingACertificateWeLackSendsAnAlert) {
  ClientFiles files;
  files.cert = "";
  files.key = "";
  ASSERT_TRUE(load_client(config_, random_, files).ok());
  auto server = start_s_server({});
  Status s = connect(server);
  EXPECT_EQ(s.reason(), Reason::tls_alert) << reason_name(s.reason()) << " " << failure_text_;
  std::printf("[ measure  ] s_server -Verify 1 without client cert: %s detail %d\n", reason_name(s.reason()),
              s.detail());
}

TEST(TlsArenaAgainstOpenSsl, MutualAuthHandshakeHighWaterMark) {
  SystemClockScope clock;
  SeededRandom random(9);
  static uint8_t memory[96 * 1024];
  auto server = start_s_server({});
  TlsArena arena(memory);
  {
    TlsClientConfig config;
    ASSERT_TRUE(load_client(config, random).ok());
    size_t config_bytes = TlsArena::current_bytes();
    TlsArena::reset_peak();
    {
      Socket socket(server.port);
      ASSERT_TRUE(socket.ok());
      TlsSession session(config);
      ASSERT_TRUE(session.start("localhost").ok());
      Status s = handshake_over_socket(socket, session);
      ASSERT_TRUE(s.ok()) << session.failure_text();
      std::string page = fetch_status_page(socket, session);
      EXPECT_NE(page.find("200 ok"), std::string::npos);
    }
    std::printf("[ measure  ] client arena, mutual-auth handshake vs s_server (Linux config, 16 KiB records): "
                "config %zu bytes, handshake peak %zu bytes in %zu blocks\n",
                config_bytes, TlsArena::peak_bytes(), TlsArena::peak_blocks());
  }
  EXPECT_EQ(TlsArena::current_bytes(), 0u);
}

}  // namespace
}  // namespace sublink::test
