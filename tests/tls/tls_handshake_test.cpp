// Client and server sessions of the same stack, pumped in memory.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "net/tls/certificate_date_clock.h"
#include "net/tls/tls_arena.h"
#include "net/tls/tls_client.h"
#include "net/tls/tls_server.h"
#include "net/tls/tls_time.h"
#include "tls/tls_test_support.h"

namespace sublink::test {
namespace {

std::span<const uint8_t> as_bytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

// Reads everything `to` can decrypt after moving `from`'s output over.
std::string deliver(TlsPipe& from, TlsPipe& to) {
  std::string received;
  for (int i = 0; i < 1000; ++i) {
    transfer(from, to);
    uint8_t buffer[1024];
    auto n = to.read(buffer);
    if (!n.ok()) {
      if (from.output().empty()) break;
      continue;
    }
    received.append(reinterpret_cast<const char*>(buffer), *n);
  }
  return received;
}

class TlsHandshake : public ::testing::Test {
 protected:
  SystemClockScope clock_;
  SeededRandom random_{1};
};

TEST_F(TlsHandshake, MutualAuthWithEcdsaCarriesDataBothWays) {
  TlsClientConfig client_config;
  TlsServerConfig server_config;
  ASSERT_TRUE(load_client(client_config, random_).ok());
  ASSERT_TRUE(load_server(server_config, random_).ok());
  EXPECT_EQ(client_config.device_common_name(), "SYS-0001");

  TlsSession client(client_config);
  TlsServerSession server(server_config);
  ASSERT_TRUE(server.start().ok());
  ASSERT_TRUE(client.start("localhost").ok());
  EXPECT_FALSE(client.handshake_done());
  Status s = pump_handshake(client, server);
  ASSERT_TRUE(s.ok()) << reason_name(s.reason()) << " " << client.failure_text() << " / " << server.failure_text();
  EXPECT_TRUE(client.handshake_done());
  EXPECT_TRUE(server.handshake_done());
  EXPECT_FALSE(client.resumed());
  EXPECT_EQ(server.client_common_name(), "SYS-0001");
  EXPECT_EQ(client.cipher_suite(), "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256");

  auto written = client.write(as_bytes("hello server"));
  ASSERT_TRUE(written.ok());
  EXPECT_EQ(*written, 12u);
  EXPECT_EQ(deliver(client, server), "hello server");
  ASSERT_TRUE(server.write(as_bytes("hello device")).ok());
  EXPECT_EQ(deliver(server, client), "hello device");
}

TEST_F(TlsHandshake, RsaServerCertificateNegotiatesEcdheRsa) {
  TlsClientConfig client_config;
  TlsServerConfig server_config;
  ASSERT_TRUE(load_client(client_config, random_).ok());
  ServerFiles files;
  files.cert = "server-rsa.crt";
  files.key = "server-rsa.key";
  ASSERT_TRUE(load_server(server_config, random_, files).ok());
  TlsSession client(client_config);
  TlsServerSession server(server_config);
  ASSERT_TRUE(server.start().ok());
  ASSERT_TRUE(client.start("localhost").ok());
  ASSERT_TRUE(pump_handshake(client, server).ok()) << client.failure_text();
  EXPECT_EQ(client.cipher_suite(), "TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256");
  EXPECT_EQ(server.client_common_name(), "SYS-0001");
}

void expect_resumption(Random& random, bool tickets) {
  TlsClientConfig client_config;
  TlsServerConfig server_config;
  ASSERT_TRUE(load_client(client_config, random).ok());
  ServerFiles files;
  files.session_tickets = tickets;
  ASSERT_TRUE(load_server(server_config, random, files).ok());
  TlsSession client(client_config);
  for (int connection = 0; connection < 3; ++connection) {
    TlsServerSession server(server_config);
    ASSERT_TRUE(server.start().ok());
    ASSERT_TRUE(client.start("localhost").ok());
    ASSERT_TRUE(pump_handshake(client, server).ok()) << client.failure_text();
    EXPECT_EQ(client.resumed(), connection > 0) << "connection " << connection;
    EXPECT_EQ(server.resumed(), connection > 0) << "connection " << connection;
    // The server still knows who the device is on a resumed session.
    EXPECT_EQ(server.client_common_name(), "SYS-0001");
    EXPECT_EQ(client_config.kept_sessions(), 1u);
    ASSERT_TRUE(client.write(as_bytes("after resumption")).ok());
    EXPECT_EQ(deliver(client, server), "after resumption");
    ASSERT_TRUE(server.write(as_bytes("server data")).ok());
    EXPECT_EQ(deliver(server, client), "server data");
  }
}

TEST_F(TlsHandshake, ReconnectResumesWithSessionTicket) { expect_resumption(random_, true); }

TEST_F(TlsHandshake, ReconnectResumesWithSessionIdWhenServerHasNoTickets) { expect_resumption(random_, false); }

// A server that forgets its sessions (as a restarted process does) gives
// every client a full handshake next, then resumes again.
void expect_forgotten(Random& random, bool tickets) {
  TlsClientConfig client_config;
  TlsServerConfig server_config;
  ASSERT_TRUE(load_client(client_config, random).ok());
  ServerFiles files;
  files.session_tickets = tickets;
  EXPECT_EQ(server_config.forget_sessions().reason(), Reason::invalid_argument) << "not loaded yet";
  ASSERT_TRUE(load_server(server_config, random, files).ok());
  TlsSession client(client_config);
  for (int connection = 0; connection < 4; ++connection) {
    if (connection == 2) {
      ASSERT_TRUE(server_config.forget_sessions().ok());
    }
    TlsServerSession server(server_config);
    ASSERT_TRUE(server.start().ok());
    ASSERT_TRUE(client.start("localhost").ok());
    ASSERT_TRUE(pump_handshake(client, server).ok()) << client.failure_text();
    const bool full = connection == 0 || connection == 2;
    EXPECT_EQ(server.resumed(), !full) << "connection " << connection;
    EXPECT_EQ(client.resumed(), !full) << "connection " << connection;
    EXPECT_EQ(server.client_common_name(), "SYS-0001");
    ASSERT_TRUE(client.write(as_bytes("after")).ok());
    EXPECT_EQ(deliver(client, server), "after");
  }
}

TEST_F(TlsHandshake, AServerThatForgetsItsSessionsGivesAFullHandshakeWithTickets) { expect_forgotten(random_, true); }

TEST_F(TlsHandshake, AServerThatForgetsItsSessionsGivesAFullHandshakeWithSessionIds) {
  expect_forgotten(random_, false);
}

// In a resumed handshake the client speaks last: handshake() completes with
// its ChangeCipherSpec and Finished still in output(). The transport must
// send them, once, before any application record: the server completes only
// when they arrive (an OpenSSL server fails the link with alert 80 when they
// come twice).
TEST_F(TlsHandshake, ResumedClientCompletesWithItsLastFlightQueued) {
  TlsClientConfig client_config;
  TlsServerConfig server_config;
  ASSERT_TRUE(load_client(client_config, random_).ok());
  ASSERT_TRUE(load_server(server_config, random_).ok());
  TlsSession client(client_config);
  {
    TlsServerSession first(server_config);
    ASSERT_TRUE(first.start().ok());
    ASSERT_TRUE(client.start("localhost").ok());
    ASSERT_TRUE(pump_handshake(client, first).ok()) << client.failure_text();
  }
  TlsServerSession server(server_config);
  ASSERT_TRUE(server.start().ok());
  ASSERT_TRUE(client.start("localhost").ok());  // the ClientHello with the ticket
  transfer(client, server);
  // ServerHello, ChangeCipherSpec, Finished; then it waits for the client's.
  EXPECT_EQ(server.handshake().reason(), Reason::would_block);
  transfer(server, client);
  ASSERT_TRUE(client.handshake().ok()) << client.failure_text();
  EXPECT_TRUE(client.resumed());

  const std::vector<uint8_t> flight(client.output().begin(), client.output().end());
  ASSERT_GE(flight.size(), 11u);
  // A ChangeCipherSpec record (type 20, TLS 1.2, length 1, value 1)...
  EXPECT_EQ(std::vector<uint8_t>(flight.begin(), flight.begin() + 6), (std::vector<uint8_t>{20, 3, 3, 0, 1, 1}));
  // ...then one encrypted handshake record (the Finished), and nothing else.
  EXPECT_EQ(flight[6], 22);
  EXPECT_EQ(flight.size(), 11u + ((size_t{flight[9]} << 8) | flight[10]));
  EXPECT_EQ(server.handshake().reason(), Reason::would_block);

  transfer(client, server);
  ASSERT_TRUE(server.handshake().ok()) << server.failure_text();
  EXPECT_TRUE(server.resumed());
  ASSERT_TRUE(client.write(as_bytes("first record")).ok());
  EXPECT_EQ(deliver(client, server), "first record");
}

TEST_F(TlsHandshake, SessionIsOfferedOnlyToTheServerItCameFrom) {
  TlsClientConfig client_config;
  TlsServerConfig server_config;
  ASSERT_TRUE(load_client(client_config, random_).ok());
  ASSERT_TRUE(load_server(server_config, random_).ok());
  TlsSession client(client_config);
  {
    TlsServerSession server(server_config);
    ASSERT_TRUE(server.start().ok());
    ASSERT_TRUE(client.start("localhost").ok());
    ASSERT_TRUE(pump_handshake(client, server).ok());
  }
  TlsServerSession server(server_config);
  ASSERT_TRUE(server.start().ok());
  ASSERT_TRUE(client.start("127.0.0.1").ok());
  ASSERT_TRUE(pump_handshake(client, server).ok()) << client.failure_text();
  EXPECT_FALSE(client.resumed());
  EXPECT_EQ(client_config.kept_sessions(), 2u);
}

TEST_F(TlsHandshake, ServerThatForgotTheSessionGetsAFullHandshake) {
  TlsClientConfig client_config;
  ASSERT_TRUE(load_client(client_config, random_).ok());
  TlsSession client(client_config);
  for (int connection = 0; connection < 2; ++connection) {
    TlsServerConfig server_config;  // a restarted server: new ticket keys, empty cache
    ASSERT_TRUE(load_server(server_config, random_).ok());
    TlsServerSession server(server_config);
    ASSERT_TRUE(server.start().ok());
    ASSERT_TRUE(client.start("localhost").ok());
    ASSERT_TRUE(pump_handshake(client, server).ok()) << client.failure_text();
    EXPECT_FALSE(client.resumed());
  }
}

struct CertCase {
  const char* server_cert;
  const char* server_name;
  Reason expected;
};

class TlsServerCertificate : public TlsHandshake, public ::testing::WithParamInterface<CertCase> {};

TEST_P(TlsServerCertificate, FailureHasItsOwnReason) {
  const CertCase& c = GetParam();
  TlsClientConfig client_config;
  TlsServerConfig server_config;
  ASSERT_TRUE(load_client(client_config, random_).ok());
  ServerFiles files;
  files.cert = std::string(c.server_cert) + ".crt";
  files.key = std::string(c.server_cert) + ".key";
  ASSERT_TRUE(load_server(server_config, random_, files).ok());
  TlsSession client(client_config);
  TlsServerSession server(server_config);
  ASSERT_TRUE(server.start().ok());
  ASSERT_TRUE(client.start(c.server_name).ok());
  Status s = pump_handshake(client, server);
  EXPECT_EQ(s.reason(), c.expected) << reason_name(s.reason()) << " " << client.failure_text();
  if (c.expected == Reason::ok) {
    EXPECT_TRUE(server.handshake_done());
    EXPECT_EQ(client_config.kept_sessions(), 1u);
    return;
  }
  EXPECT_FALSE(client.handshake_done());
  EXPECT_FALSE(server.handshake_done());
  EXPECT_FALSE(client.failure_text().empty());
  // The failure is final and no session is kept from it.
  EXPECT_EQ(client.handshake(), s);
  uint8_t buffer[16];
  EXPECT_EQ(client.read(buffer).status(), s);
  EXPECT_EQ(client_config.kept_sessions(), 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, TlsServerCertificate,
    ::testing::Values(CertCase{"server-expired", "localhost", Reason::cert_expired},
                      CertCase{"server-future", "localhost", Reason::cert_not_yet_valid},
                      CertCase{"server-other-ca", "localhost", Reason::cert_unknown_ca},
                      CertCase{"server-wrong-name", "localhost", Reason::cert_name_mismatch},
                      // A CN of "127.0.0.1" without an IP SAN does not name 127.0.0.1.
                      CertCase{"server-ip-cn", "127.0.0.1", Reason::cert_name_mismatch},
                      CertCase{"server", "192.0.2.7", Reason::cert_name_mismatch},
                      CertCase{"server", "other.localhost", Reason::cert_name_mismatch},
                      CertCase{"server", "127.0.0.1", Reason::ok}, CertCase{"server", "::1", Reason::ok},
                      CertCase{"server", "[::1]", Reason::ok}, CertCase{"server-rsa", "127.0.0.1", Reason::ok}));

TEST_F(TlsHandshake, PeerCertificateNamesSurviveAFailedVerification) {
  TlsClientConfig client_config;
  ASSERT_TRUE(load_client(client_config, random_).ok());
  TlsSession client(client_config);
  EXPECT_FALSE(client.peer_certificate_names()) << "no handshake yet";

  // What an inspecting middlebox presents: the right name, another CA.
  TlsServerConfig other_config;
  ASSERT_TRUE(load_server(other_config, random_, {.cert = "server-other-ca.crt", .key = "server-other-ca.key"}).ok());
  TlsServerSession other(other_config);
  ASSERT_TRUE(other.start().ok());
  ASSERT_TRUE(client.start("localhost").ok());
  ASSERT_EQ(pump_handshake(client, other).reason(), Reason::cert_unknown_ca) << client.failure_text();
  auto names = client.peer_certificate_names();
  ASSERT_TRUE(names);
  EXPECT_EQ(names->subject, "CN=localhost");
  EXPECT_EQ(names->issuer, "CN=sublink other CA");
  ASSERT_TRUE(client_config.last_peer_certificate_names()) << "the configuration keeps its latest session's too";
  EXPECT_EQ(client_config.last_peer_certificate_names()->issuer, "CN=sublink other CA");

  // The next connection shows its own server's names, not the last ones.
  TlsServerConfig real_config;
  ASSERT_TRUE(load_server(real_config, random_).ok());
  TlsServerSession real(real_config);
  ASSERT_TRUE(real.start().ok());
  ASSERT_TRUE(client.start("localhost").ok());
  EXPECT_FALSE(client.peer_certificate_names()) << "cleared by start()";
  EXPECT_FALSE(client_config.last_peer_certificate_names());
  ASSERT_TRUE(pump_handshake(client, real).ok()) << client.failure_text();
  names = client.peer_certificate_names();
  ASSERT_TRUE(names);
  EXPECT_EQ(names->subject, "CN=localhost");
  EXPECT_EQ(names->issuer, "CN=sublink test CA");
}

TEST_F(TlsHandshake, ServerRejectsDeviceCertificateFromAnotherCa) {
  TlsClientConfig client_config;
  TlsServerConfig server_config;
  ClientFiles files;
  files.cert = "device-other-ca.crt";
  files.key = "device-other-ca.key";
  ASSERT_TRUE(load_client(client_config, random_, files).ok());
  ASSERT_TRUE(load_server(server_config, random_).ok());
  TlsSession client(client_config);
  TlsServerSession server(server_config);
  ASSERT_TRUE(server.start().ok());
  ASSERT_TRUE(client.start("localhost").ok());
  Status s = pump_handshake(client, server);
  EXPECT_EQ(s, Status(Reason::tls_alert, MBEDTLS_SSL_ALERT_MSG_UNKNOWN_CA)) << client.failure_text();
  EXPECT_EQ(server.failure().reason(), Reason::cert_unknown_ca) << server.failure_text();
  EXPECT_TRUE(server.client_common_name().empty());
}

TEST_F(TlsHandshake, ServerRejectsClientWithoutCertificate) {
  TlsClientConfig client_config;
  TlsServerConfig server_config;
  ClientFiles files;
  files.cert = "";
  files.key = "";
  ASSERT_TRUE(load_client(client_config, random_, files).ok());
  EXPECT_TRUE(client_config.device_common_name().empty());
  ASSERT_TRUE(load_server(server_config, random_).ok());
  TlsSession client(client_config);
  TlsServerSession server(server_config);
  ASSERT_TRUE(server.start().ok());
  ASSERT_TRUE(client.start("localhost").ok());
  Status s = pump_handshake(client, server);
  EXPECT_EQ(s, Status(Reason::tls_alert, MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE)) << client.failure_text();
  EXPECT_EQ(server.failure().reason(), Reason::cert_invalid);
  EXPECT_EQ(server.failure_text(), "verify: missing");
  std::printf("[ measure  ] client without certificate: client %s (%s), server %s (%s)\n", reason_name(s.reason()),
              std::string(client.failure_text()).c_str(), reason_name(server.failure().reason()),
              std::string(server.failure_text()).c_str());
}

TEST_F(TlsHandshake, VirtualClockDecidesCertificateValidity) {
  TlsClientConfig client_config;
  TlsServerConfig expired_config;
  TlsServerConfig current_config;
  ASSERT_TRUE(load_client(client_config, random_).ok());
  // The clock is process-wide: the server would judge the device
  // certificate by it too, so these servers ask for none.
  ServerFiles expired;
  expired.cert = "server-expired.crt";
  expired.key = "server-expired.key";
  expired.require_client_certificate = false;
  ASSERT_TRUE(load_server(expired_config, random_, expired).ok());
  ServerFiles current;
  current.require_client_certificate = false;
  ASSERT_TRUE(load_server(current_config, random_, current).ok());
  auto connect = [&](TlsServerConfig& server_config) {
    TlsSession client(client_config);
    TlsServerSession server(server_config);
    EXPECT_TRUE(server.start().ok());
    EXPECT_TRUE(client.start("localhost").ok());
    return pump_handshake(client, server);
  };
  FixedWallClock mid_2020(1590969600000);  // 2020-06-01, inside server-expired's validity
  install_tls_wall_clock(&mid_2020);
  EXPECT_TRUE(connect(expired_config).ok());
  client_config.forget_sessions();
  FixedWallClock unset(0);  // a lost RTC reads 1970
  install_tls_wall_clock(&unset);
  EXPECT_EQ(connect(current_config).reason(), Reason::cert_not_yet_valid);
  install_tls_wall_clock(nullptr);  // no clock at all fails closed the same way
  EXPECT_EQ(connect(current_config).reason(), Reason::cert_not_yet_valid);
  // clock_ (the fixture) puts the system clock back.
  SystemWallClock system;
  install_tls_wall_clock(&system);
  EXPECT_EQ(connect(expired_config).reason(), Reason::cert_expired);
}

// A monotonic clock the test moves by hand.
class ManualMonotonic : public MonotonicClock {
 public:
  Millis now_ms() override { return now; }
  Millis now = 5000;
};

TEST(CertificateDateClock, PicksNtpThenServerThenAPlausibleRtcThenTheBuildTime) {
  constexpr Millis kBuild = 1640995200000;  // 2022-01-01
  ManualMonotonic mono;
  FixedWallClock lost(0);  // a lost RTC reads 1970, neither set nor trusted
  CertificateDateClock dates(lost, mono, kBuild);
  ClockReading r = dates.reading();
  EXPECT_EQ(r.source, ClockSource::build);
  EXPECT_EQ(r.utc_ms, kBuild) << "never 1970";
  EXPECT_FALSE(r.trusted);
  EXPECT_FALSE(dates.learn_server_time(mono.now, kBuild - 1)) << "a server time before the build is no clock";
  EXPECT_EQ(dates.reading().source, ClockSource::build);
  ASSERT_TRUE(dates.learn_server_time(mono.now, kBuild + 1000));
  mono.now += 60000;
  r = dates.reading();
  EXPECT_EQ(r.source, ClockSource::server);
  EXPECT_EQ(r.utc_ms, kBuild + 61000) << "carried on by the monotonic clock";
  EXPECT_TRUE(r.trusted);

  struct UntrustedRtc : WallClock {
    WallTime now() override { return {utc, true, trusted}; }
    Millis utc = 0;
    bool trusted = false;
  } rtc;
  CertificateDateClock board(rtc, mono, kBuild);
  rtc.utc = kBuild - 86400000;  // set, but before the build: wrong by construction
  EXPECT_EQ(board.reading().source, ClockSource::build);
  rtc.utc = kBuild + 86400000;
  EXPECT_EQ(board.reading().source, ClockSource::rtc);
  EXPECT_FALSE(board.reading().trusted);
  rtc.trusted = true;
  EXPECT_EQ(board.reading().source, ClockSource::ntp);
  EXPECT_EQ(board.reading().utc_ms, kBuild + 86400000);
  EXPECT_STREQ(clock_source_name(ClockSource::build), "build");
  EXPECT_STREQ(clock_source_name(ClockSource::server), "server");
  // The real build's floor: configured, not 1970, not in the future.
  EXPECT_GE(firmware_build_utc_ms(), 1577836800000) << "2020-01-01 at the least";
  EXPECT_LE(firmware_build_utc_ms(), SystemWallClock().now().utc_ms);
}

TEST_F(TlsHandshake, WithoutATrustedClockDatesAreCheckedAgainstTheBuildTime) {
  // PROTOCOL.md 2: a lost RTC and no NTP. A certificate that expired before
  // the build is refused; one valid only after the build is accepted.
  TlsClientConfig client_config;
  ASSERT_TRUE(load_client(client_config, random_).ok());
  auto server_with = [&](const char* name, TlsServerConfig& config) {
    ServerFiles files;
    files.cert = std::string(name) + ".crt";
    files.key = std::string(name) + ".key";
    files.require_client_certificate = false;  // the clock is process-wide: no device certificate to judge
    return load_server(config, random_, files);
  };
  TlsServerConfig expired_config, current_config, future_config;
  ASSERT_TRUE(server_with("server-expired", expired_config).ok());   // 2020-01-01 .. 2021-01-01
  ASSERT_TRUE(server_with("server", current_config).ok());           // yesterday .. in ten years
  ASSERT_TRUE(server_with("server-future", future_config).ok());     // 2080-01-01 .. 2081-01-01
  auto connect = [&](TlsServerConfig& server_config) {
    client_config.forget_sessions();
    TlsSession client(client_config);
    TlsServerSession server(server_config);
    EXPECT_TRUE(server.start().ok());
    EXPECT_TRUE(client.start("localhost").ok());
    return pump_handshake(client, server);
  };
  ManualMonotonic mono;
  FixedWallClock lost(0);
  CertificateDateClock dates(lost, mono, 1640995200000);  // built 2022-01-01
  install_tls_certificate_clock(&dates);
  ASSERT_TRUE(tls_dates_from_build_time());
  EXPECT_EQ(connect(expired_config).reason(), Reason::cert_expired);
  EXPECT_TRUE(connect(current_config).ok()) << "valid only after the build: accepted";
  EXPECT_TRUE(connect(future_config).ok()) << "valid only after the build: accepted";

  // The server's time from welcome is trusted: dates are checked as usual.
  ASSERT_TRUE(dates.learn_server_time(mono.now, SystemWallClock().now().utc_ms));
  EXPECT_FALSE(tls_dates_from_build_time());
  EXPECT_TRUE(connect(current_config).ok());
  EXPECT_EQ(connect(future_config).reason(), Reason::cert_not_yet_valid);
  EXPECT_EQ(connect(expired_config).reason(), Reason::cert_expired);

  // The real firmware's build time works the same with a lost RTC.
  CertificateDateClock this_build(lost, mono);
  install_tls_certificate_clock(&this_build);
  EXPECT_EQ(this_build.reading().source, ClockSource::build);
  EXPECT_TRUE(connect(current_config).ok());
  EXPECT_EQ(connect(expired_config).reason(), Reason::cert_expired);
  install_tls_wall_clock(nullptr);  // the fixture puts the system clock back
}

TEST_F(TlsHandshake, MaxFragmentLengthBoundsServerRecords) {
  TlsClientConfig client_config;
  TlsServerConfig server_config;
  ClientFiles files;
  files.max_fragment_length = 1024;
  ASSERT_TRUE(load_client(client_config, random_, files).ok());
  ASSERT_TRUE(load_server(server_config, random_).ok());
  TlsSession client(client_config, 2048, 2048);
  TlsServerSession server(server_config, 16 * 1024, 16 * 1024);
  ASSERT_TRUE(server.start().ok());
  ASSERT_TRUE(client.start("localhost").ok());
  ASSERT_TRUE(pump_handshake(client, server).ok()) << client.failure_text();
  std::string big(5000, 'x');
  size_t sent = 0;
  while (sent < big.size()) {
    auto n = server.write(as_bytes(std::string_view(big).substr(sent)));
    ASSERT_TRUE(n.ok());
    sent += *n;
  }
  // Every application-data record header says at most 1024 bytes + AEAD overhead.
  auto wire = server.output();
  size_t pos = 0, records = 0;
  while (pos + 5 <= wire.size()) {
    size_t length = static_cast<size_t>(wire[pos + 3]) << 8 | wire[pos + 4];
    EXPECT_EQ(wire[pos], 23);  // application_data
    EXPECT_LE(length, 1024u + 8 + 16);
    pos += 5 + length;
    ++records;
  }
  EXPECT_EQ(pos, wire.size());
  EXPECT_GE(records, 5u);
  EXPECT_EQ(deliver(server, client), big);
}

TEST_F(TlsHandshake, WriteTakesOnlyWhatFitsAndCloseNotifyEndsTheStream) {
  TlsClientConfig client_config;
  TlsServerConfig server_config;
  ASSERT_TRUE(load_client(client_config, random_).ok());
  ASSERT_TRUE(load_server(server_config, random_).ok());
  TlsSession client(client_config, 512, 512);
  TlsServerSession server(server_config);
  ASSERT_TRUE(server.start().ok());
  ASSERT_TRUE(client.start("localhost").ok());
  ASSERT_TRUE(pump_handshake(client, server).ok()) << client.failure_text();
  std::string payload(2000, 'p');
  auto first = client.write(as_bytes(payload));
  ASSERT_TRUE(first.ok());
  EXPECT_GT(*first, 0u);
  EXPECT_LT(*first, 512u);  // bounded by the output queue, not by the record size
  size_t sent = *first;
  std::string received;
  while (sent < payload.size()) {
    auto n = client.write(as_bytes(std::string_view(payload).substr(sent)));
    if (!n.ok()) {
      ASSERT_EQ(n.status().reason(), Reason::would_block);
      received += deliver(client, server);
      continue;
    }
    sent += *n;
  }
  received += deliver(client, server);
  EXPECT_EQ(received, payload);
  ASSERT_TRUE(client.close_notify().ok());
  transfer(client, server);
  uint8_t buffer[64];
  EXPECT_EQ(server.read(buffer).status(), Status(Reason::connection_closed, 0));
}

TEST_F(TlsHandshake, GarbageFromTheServerFailsTheHandshake) {
  TlsClientConfig client_config;
  ASSERT_TRUE(load_client(client_config, random_).ok());
  for (std::string_view garbage : {std::string_view("HTTP/1.1 400 Bad Request\r\n\r\n"),
                                   std::string_view("\x16\x03\x03\xff\xff\x02\x00\x00", 8),
                                   std::string_view("\x15\x03\x03\x00\x02\x02\x28", 7)}) {
    TlsSession client(client_config);
    ASSERT_TRUE(client.start("localhost").ok());
    EXPECT_FALSE(client.output().empty());  // the ClientHello
    client.feed(as_bytes(garbage));
    Status s = client.handshake();
    EXPECT_FALSE(s.ok());
    EXPECT_NE(s.reason(), Reason::would_block) << client.failure_text();
    EXPECT_EQ(client.handshake(), s);
  }
}

TEST_F(TlsHandshake, GarbageFromTheClientFailsTheServer) {
  TlsServerConfig server_config;
  ASSERT_TRUE(load_server(server_config, random_).ok());
  TlsServerSession server(server_config);
  ASSERT_TRUE(server.start().ok());
  std::vector<uint8_t> noise(300);
  ASSERT_TRUE(random_.fill(noise).ok());
  noise[0] = 0x16;
  noise[1] = 0x03;
  noise[2] = 0x03;
  noise[3] = 0x01;
  noise[4] = 0x00;
  server.feed(noise);
  Status s = server.handshake();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.reason(), Reason::would_block);
}

TEST_F(TlsHandshake, TransportEndDuringHandshakeIsConnectionClosed) {
  TlsClientConfig client_config;
  ASSERT_TRUE(load_client(client_config, random_).ok());
  TlsSession client(client_config);
  ASSERT_TRUE(client.start("localhost").ok());
  EXPECT_EQ(client.handshake().reason(), Reason::would_block);
  client.feed_eof();
  EXPECT_EQ(client.handshake().reason(), Reason::connection_closed);
}

TEST_F(TlsHandshake, FeedStopsAtQueueCapacity) {
  TlsClientConfig client_config;
  ASSERT_TRUE(load_client(client_config, random_).ok());
  TlsSession client(client_config, 100, 2048);
  ASSERT_TRUE(client.start("localhost").ok());
  std::vector<uint8_t> bytes(250, 0x16);
  EXPECT_EQ(client.feed(bytes), 100u);
  EXPECT_EQ(client.feed(bytes), 0u);
}

TEST_F(TlsHandshake, BadCredentialsAreRefusedAtLoad) {
  {
    TlsClientConfig config;
    ClientFiles files;
    files.key = "server.key";  // not the device certificate's key
    EXPECT_EQ(load_client(config, random_, files).reason(), Reason::invalid_argument);
  }
  {
    TlsClientConfig config;
    TlsClientCredentials credentials{"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n", "", ""};
    EXPECT_EQ(config.load(credentials, random_).reason(), Reason::invalid_argument);
  }
  {
    TlsClientConfig config;
    std::string ca = pki("ca.crt");
    std::string key = pki("device.key");
    TlsClientCredentials credentials{ca, ca, key};  // CA certificate with the device key
    EXPECT_EQ(config.load(credentials, random_).reason(), Reason::invalid_argument);
  }
  {
    TlsClientConfig config;
    ClientFiles files;
    files.max_fragment_length = 3000;
    EXPECT_EQ(load_client(config, random_, files).reason(), Reason::invalid_argument);
  }
  {
    TlsClientConfig config;
    TlsSession session(config);
    EXPECT_EQ(session.start("localhost").reason(), Reason::invalid_argument);  // not loaded
  }
  {
    TlsClientConfig config;
    ASSERT_TRUE(load_client(config, random_).ok());
    TlsSession session(config);
    EXPECT_EQ(session.start("").reason(), Reason::invalid_argument);
    EXPECT_EQ(session.start(std::string(300, 'a')).reason(), Reason::invalid_argument);
    EXPECT_EQ(session.start(std::string_view("local\0host", 10)).reason(), Reason::invalid_argument);
  }
}

TEST_F(TlsHandshake, ArenaHoldsAMutualAuthHandshakeAndReportsItsPeak) {
  static uint8_t memory[160 * 1024];
  {
    TlsArena arena(memory);
    ASSERT_TRUE(TlsArena::installed());
    {
      TlsClientConfig client_config;
      ASSERT_TRUE(load_client(client_config, random_).ok());
      TlsServerConfig server_config;
      ASSERT_TRUE(load_server(server_config, random_).ok());
      TlsArena::reset_peak();
      size_t before = TlsArena::current_bytes();
      TlsSession client(client_config);
      TlsServerSession server(server_config);
      ASSERT_TRUE(server.start().ok());
      ASSERT_TRUE(client.start("localhost").ok());
      ASSERT_TRUE(pump_handshake(client, server).ok()) << client.failure_text();
      EXPECT_GT(TlsArena::peak_bytes(), before);
      std::printf("[ measure  ] in-process client+server handshake: arena peak %zu bytes in %zu blocks "
                  "(configs %zu bytes before)\n",
                  TlsArena::peak_bytes(), TlsArena::peak_blocks(), before);
    }
    EXPECT_EQ(TlsArena::current_bytes(), 0u);  // everything went back
  }
  EXPECT_FALSE(TlsArena::installed());
}

TEST_F(TlsHandshake, ExhaustedArenaIsOutOfMemoryNotACrash) {
  static uint8_t memory[24 * 1024];
  TlsArena arena(memory);
  {
    TlsClientConfig client_config;
    Status loaded = load_client(client_config, random_);
    if (loaded.ok()) {
      TlsSession client(client_config);
      EXPECT_EQ(client.start("localhost").reason(), Reason::out_of_memory);
    } else {
      EXPECT_EQ(loaded.reason(), Reason::out_of_memory);
    }
  }
  EXPECT_EQ(TlsArena::current_bytes(), 0u);
}

}  // namespace
}  // namespace sublink::test
