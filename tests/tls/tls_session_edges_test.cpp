// The edges of one TLS session that a link meets outside the happy path:
// a session used before it started, empty reads and writes, a full output
// queue at close_notify, and the two ways a session ends (the peer's
// close_notify, the transport's end without one). Each edge gives the caller
// a Status it can act on, never a crash or a silent hang.
#include <gtest/gtest.h>

#include <string>

#include "net/tls/tls_client.h"
#include "net/tls/tls_server.h"
#include "tls/tls_test_support.h"

namespace sublink::test {
namespace {

std::span<const uint8_t> as_bytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

class TlsSessionEdges : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(load_client(client_config_, random_).ok());
    ASSERT_TRUE(load_server(server_config_, random_).ok());
  }
  // Starts both sessions and runs the handshake to its end.
  static void handshake(TlsSession& client, TlsServerSession& server) {
    ASSERT_TRUE(server.start().ok());
    ASSERT_TRUE(client.start("localhost").ok());
    ASSERT_TRUE(pump_handshake(client, server).ok()) << client.failure_text();
  }
  SystemClockScope clock_;
  SeededRandom random_{7};
  TlsClientConfig client_config_;
  TlsServerConfig server_config_;
};

TEST_F(TlsSessionEdges, ASessionNotStartedRefusesEveryCallWithInvalidArgument) {
  TlsSession client(client_config_);
  uint8_t buffer[16];
  EXPECT_EQ(client.handshake().reason(), Reason::invalid_argument);
  EXPECT_EQ(client.read(buffer).status().reason(), Reason::invalid_argument);
  EXPECT_EQ(client.write(as_bytes("hello")).status().reason(), Reason::invalid_argument);
  EXPECT_EQ(client.close_notify().reason(), Reason::invalid_argument);
  EXPECT_EQ(client.cipher_suite(), "unknown") << "no session, no suite to report";
  EXPECT_TRUE(client.output().empty()) << "nothing goes on the wire";
}

TEST_F(TlsSessionEdges, AServerSessionOfAConfigurationNotLoadedDoesNotStart) {
  TlsServerConfig empty;
  TlsServerSession server(empty);
  EXPECT_EQ(server.start().reason(), Reason::invalid_argument);
}

TEST_F(TlsSessionEdges, EmptyReadsAndWritesMoveNothingAndAnEmptyQueueWouldBlock) {
  TlsSession client(client_config_);
  TlsServerSession server(server_config_);
  ASSERT_NO_FATAL_FAILURE(handshake(client, server));
  EXPECT_NE(client.cipher_suite(), "unknown");
  transfer(server, client);
  transfer(client, server);
  std::span<uint8_t> none;
  ASSERT_TRUE(client.read(none).ok());
  EXPECT_EQ(*client.read(none), 0u);
  ASSERT_TRUE(client.write(std::span<const uint8_t>{}).ok());
  EXPECT_EQ(*client.write(std::span<const uint8_t>{}), 0u);
  EXPECT_TRUE(client.output().empty()) << "an empty write makes no record";
  uint8_t buffer[16];
  EXPECT_EQ(server.read(buffer).status().reason(), Reason::would_block) << "nothing sent, nothing to read yet";
}

TEST_F(TlsSessionEdges, CloseNotifyIntoAFullOutputQueueWouldBlockAndGoesOutOnceThereIsRoom) {
  TlsSession client(client_config_, 2048, 512);
  TlsServerSession server(server_config_);
  ASSERT_NO_FATAL_FAILURE(handshake(client, server));
  transfer(client, server);
  // Fill the output queue with application data the transport has not taken.
  std::string payload(2000, 'q');
  size_t queued = 0;
  for (;;) {
    auto n = client.write(as_bytes(std::string_view(payload).substr(queued % payload.size())));
    if (!n.ok()) {
      ASSERT_EQ(n.status().reason(), Reason::would_block);
      break;
    }
    queued += *n;
  }
  ASSERT_GT(queued, 0u);
  EXPECT_EQ(client.close_notify().reason(), Reason::would_block) << "no room for the alert record yet";
  // The transport takes the data: the alert goes out after it, and the server
  // reads every byte and then the orderly end.
  std::string received;
  Status end = Status::Ok();
  for (int i = 0; i < 100 && end.ok(); ++i) {
    transfer(client, server);
    if (client.output().empty()) (void)client.close_notify();
    uint8_t buffer[1024];
    for (;;) {
      auto n = server.read(buffer);
      if (!n.ok()) {
        if (n.status().reason() != Reason::would_block) end = n.status();
        break;
      }
      received.append(reinterpret_cast<const char*>(buffer), *n);
    }
  }
  EXPECT_EQ(received.size(), queued);
  EXPECT_EQ(end, Status(Reason::connection_closed, 0)) << "close_notify: an orderly end, detail 0";
}

TEST_F(TlsSessionEdges, TheTransportsEndWithoutCloseNotifyIsAClosedConnectionThatSaysSo) {
  TlsSession client(client_config_);
  TlsServerSession server(server_config_);
  ASSERT_NO_FATAL_FAILURE(handshake(client, server));
  transfer(client, server);
  ASSERT_TRUE(server.write(as_bytes("last words")).ok());
  transfer(server, client);
  client.feed_eof();
  uint8_t buffer[64];
  auto words = client.read(buffer);
  ASSERT_TRUE(words.ok()) << "what arrived before the end is read first";
  EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(buffer), *words), "last words");
  auto end = client.read(buffer);
  ASSERT_FALSE(end.ok());
  EXPECT_EQ(end.status().reason(), Reason::connection_closed);
  EXPECT_NE(end.status().detail(), 0) << "a truncated stream is told apart from an orderly close_notify";
}

}  // namespace
}  // namespace sublink::test
