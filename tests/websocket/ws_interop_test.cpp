// WsClient against an independent peer: python3-websockets 10.4 (Debian)
// on 127.0.0.1, driven through a plain blocking TCP socket pump.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>

#include "net/websocket/ws_client.h"
#include "support/process.h"
#include "websocket/ws_test_util.h"

namespace sublink {
namespace {

using namespace wstest;

class GetrandomLike : public Random {
 public:
  Status fill(std::span<uint8_t> out) override {
    for (auto& b : out) {
      state_ ^= state_ << 13;
      state_ ^= state_ >> 7;
      state_ ^= state_ << 17;
      b = static_cast<uint8_t>(state_);
    }
    return Status::Ok();
  }

 private:
  uint64_t state_ = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) | 1;
};

// Moves bytes between a WsClient and a connected socket until an event.
class SocketPump {
 public:
  explicit SocketPump(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  }
  ~SocketPump() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool connected() const { return connected_; }

  bool flush(WsClient& c) {
    while (!c.output().empty()) {
      const ssize_t n = ::send(fd_, c.output().data(), c.output().size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      c.consume_output(static_cast<size_t>(n));
    }
    return true;
  }

  /// The next event, or nullopt on timeout or when the peer closed TCP.
  std::optional<Got> next(WsClient& c, int timeout_ms = 5000) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    WsEvent e;
    for (;;) {
      if (c.next_event(e)) {
        Got g = copy_event(e);
        flush(c);  // a pong or close echo goes out at once
        return g;
      }
      if (!flush(c)) return std::nullopt;
      if (!pending_.empty()) {
        const size_t n = c.feed(pending_);
        pending_.erase(pending_.begin(), pending_.begin() + static_cast<long>(n));
        if (n > 0) continue;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      uint8_t buf[8192];
      const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) return std::nullopt;
      pending_.insert(pending_.end(), buf, buf + n);
    }
  }

  /// True when the peer closes TCP within the timeout.
  bool peer_closes(int timeout_ms = 5000) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    uint8_t buf[256];
    return ::recv(fd_, buf, sizeof(buf), 0) == 0;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  Bytes pending_;
};

class PythonWebsocketsPeer : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = test::free_port();
    peer_ = test::ChildProcess({"/usr/bin/python3", test::source_path("tests/websocket/ws_echo_peer.py"),
                                std::to_string(port_)},
                               dir_.file("peer.log"));
    ASSERT_TRUE(test::wait_for_port(port_, 10000)) << peer_.log();
    host_ = "127.0.0.1:" + std::to_string(port_);
    cfg_.host = host_;
  }

  void open(WsClient& c, SocketPump& pump) {
    ASSERT_TRUE(pump.connected());
    ASSERT_TRUE(c.start().ok());
    auto ev = pump.next(c);
    ASSERT_TRUE(ev.has_value()) << peer_.log();
    ASSERT_EQ(ev->type, WsEventType::open) << reason_name(ev->status.reason()) << " " << peer_.log();
  }

  test::TempDir dir_;
  int port_ = 0;
  test::ChildProcess peer_;
  std::string host_;
  WsClientConfig cfg_;
  GetrandomLike random_;
};

TEST_F(PythonWebsocketsPeer, EchoFragmentedMessagePingAndServerClose) {
  WsClient c(cfg_, random_);
  SocketPump pump(port_);
  open(c, pump);

  ASSERT_TRUE(c.send_text("{\"type\":\"hello\",\"text\":\"κόσμε\"}").ok());
  auto ev = pump.next(c);
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->type, WsEventType::text);
  EXPECT_EQ(ev->data, "{\"type\":\"hello\",\"text\":\"κόσμε\"}");

  const Bytes binary{0x01, 0x00, 0x07, 0xFF, 0x00};
  ASSERT_TRUE(c.send_binary(binary).ok());
  ev = pump.next(c);
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->type, WsEventType::binary);
  EXPECT_EQ(ev->data, string_of(binary));

  std::string big;
  while (big.size() < 60000) big += "€uro-" + std::to_string(big.size());
  ASSERT_TRUE(c.send_text(big).ok());
  ev = pump.next(c);
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->data, big);

  ASSERT_TRUE(c.send_ping(bytes_of("p1")).ok());
  ev = pump.next(c);
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->type, WsEventType::pong);
  EXPECT_EQ(ev->data, "p1");

  ASSERT_TRUE(c.send_text("finish").ok());
  ev = pump.next(c);
  ASSERT_TRUE(ev) << peer_.log();
  EXPECT_EQ(ev->type, WsEventType::text);
  EXPECT_EQ(ev->data, "frag-ment-ed");

  ev = pump.next(c);  // the peer's ping was answered inside next(); then it closes
  ASSERT_TRUE(ev) << peer_.log();
  EXPECT_EQ(ev->type, WsEventType::closed);
  EXPECT_TRUE(ev->by_peer);
  EXPECT_EQ(ev->close_code, 4000) << ev->close_reason;
  EXPECT_EQ(ev->close_reason, "pong-ok");
  EXPECT_EQ(ev->status, Status(Reason::closed_by_peer, 4000));
  EXPECT_TRUE(c.output().empty()) << "the echo was flushed";
  EXPECT_TRUE(pump.peer_closes()) << "the server closes TCP once it has our close echo";
}

TEST_F(PythonWebsocketsPeer, ClientCloseIsAnsweredWithTheSameCode) {
  WsClient c(cfg_, random_);
  SocketPump pump(port_);
  open(c, pump);
  ASSERT_TRUE(c.close(1001, "agent shutting down").ok());
  auto ev = pump.next(c);
  ASSERT_TRUE(ev) << peer_.log();
  EXPECT_EQ(ev->type, WsEventType::closed);
  EXPECT_FALSE(ev->by_peer);
  EXPECT_TRUE(ev->status.ok());
  EXPECT_EQ(ev->close_code, 1001);
  EXPECT_EQ(c.state(), WsState::closed);
}

TEST_F(PythonWebsocketsPeer, WrongSubprotocolIsRefusedByTheClient) {
  cfg_.subprotocol = "sublink.v2";  // the peer will not select it
  WsClient c(cfg_, random_);
  SocketPump pump(port_);
  ASSERT_TRUE(pump.connected());
  ASSERT_TRUE(c.start().ok());
  auto ev = pump.next(c);
  ASSERT_TRUE(ev) << peer_.log();
  EXPECT_EQ(ev->type, WsEventType::closed);
  EXPECT_EQ(ev->status.reason(), Reason::upgrade_invalid);
}

}  // namespace
}  // namespace sublink
