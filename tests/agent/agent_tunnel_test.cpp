// The agent's tunnels (PROTOCOL.md section 6) through its public interface:
// tunnel frames in as binary messages, frames out on the link, local
// sockets on a scripted SocketDriver, events and tunnels.list to the server.
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>

#include <map>
#include <string>
#include <vector>

#include "agent/agent_rig.h"
#include "firmware/agent/tunnel_service.h"
#include "net/tunnel/tunnel_frame.h"

namespace sublink::test {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes bytes_of(std::string_view s) { return Bytes(s.begin(), s.end()); }
Bytes pattern(size_t n, uint8_t seed = 1) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed + i * 13);
  return b;
}

// A local network the test plays: lookups, connects and bytes on demand.
class ScriptedDriver : public SocketDriver {
 public:
  struct Socket {
    SocketEvents* owner = nullptr;
    IpAddress address;
    uint16_t port = 0;
    Bytes received;  // what the agent sent to the local service
    bool receiving = true;
    bool shut = false;
    bool closed = false;
  };
  Result<ResolveId> resolve(std::string_view host, SocketEvents& owner) override {
    if (!lookups_free) return Status(Reason::out_of_memory);
    const ResolveId id = next_++;
    lookups[id] = {std::string(host), &owner};
    return id;
  }
  void cancel_resolve(ResolveId id) override { lookups.erase(id); }
  Result<SocketId> open(const IpAddress& address, uint16_t port, SocketEvents& owner) override {
    if (!sockets_free) return Status(Reason::out_of_memory);
    const SocketId id = next_++;
    Socket& s = sockets[id];
    s.owner = &owner;
    s.address = address;
    s.port = port;
    return id;
  }
  Result<size_t> send(SocketId id, std::span<const uint8_t> bytes) override {
    Socket& s = sockets.at(id);
    if (send_fails) return Status(Reason::connection_reset);
    const size_t n = std::min(bytes.size(), takes);
    if (takes != SIZE_MAX) takes -= n;
    s.received.insert(s.received.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
    return n;
  }
  void close(SocketId id) override {
    EXPECT_FALSE(sockets.at(id).closed) << "socket " << id << " closed twice, or after the backend released it";
    sockets.at(id).closed = true;
  }
  void set_receiving(SocketId id, bool on) override { sockets.at(id).receiving = on; }
  void shutdown_send(SocketId id) override {
    EXPECT_FALSE(sockets.at(id).shut) << "socket " << id << " half-closed twice";
    sockets.at(id).shut = true;
  }

  /// Answers the oldest lookup (or the newest) with 127.0.0.1 (or a failure,
  /// or no address).
  void answer(bool ok = true, bool with_address = true, bool newest = false) {
    ASSERT_FALSE(lookups.empty());
    auto it = newest ? std::prev(lookups.end()) : lookups.begin();
    auto [id, lookup] = *it;
    lookups.erase(it);
    AddressList list;
    if (ok && with_address) list.add(IpAddress::parse("127.0.0.1"));
    lookup.second->on_resolved(id, ok ? Status::Ok() : Status(Reason::dns_failed), list);
  }
  /// The backend fails socket `id` and releases it (the owner must not close it).
  void fail(SocketId id, Status why) {
    Socket& s = sockets.at(id);
    s.closed = true;
    s.owner->on_socket_error(id, why);
  }
  /// The newest socket's id.
  SocketId last() const { return sockets.empty() ? 0 : sockets.rbegin()->first; }
  size_t open_count() const {
    size_t n = 0;
    for (const auto& [id, s] : sockets) n += !s.closed;
    return n;
  }

  std::map<ResolveId, std::pair<std::string, SocketEvents*>> lookups;
  std::map<SocketId, Socket> sockets;
  size_t takes = SIZE_MAX;  // bytes send() still takes (SIZE_MAX: all)
  bool lookups_free = true;  // false: resolve() has no lookup free
  bool sockets_free = true;  // false: open() has no socket free
  bool send_fails = false;   // true: send() fails (the connection broke)

 private:
  uint32_t next_ = 1;
};

// The link's binary side: frames parsed back, and how much it holds.
class FrameLink : public BinaryChannel {
 public:
  explicit FrameLink(FakeChannel& json) : json_(json) {}
  bool up() const override { return json_.is_up; }
  size_t output_queued() const override { return queued; }
  Status send_binary(std::span<const uint8_t> message) override {
    if (!up() || full) return Status(Reason::would_block);
    Result<TunnelFrame> f = parse_tunnel_frame(message);
    EXPECT_TRUE(f.ok());
    if (f->type == TunnelFrameType::data) {
      EXPECT_LT(queued, kTunnelMaxFrameBytes) << "DATA written while the link held a frame already";
    }
    frames.push_back({f->type, f->channel, f->credit, f->reason, Bytes(f->payload.begin(), f->payload.end()),
                      json_.sent.size()});
    if (hold) queued += message.size();
    return Status::Ok();
  }
  struct Frame {
    TunnelFrameType type;
    uint16_t channel;
    uint32_t credit;
    uint8_t reason;
    Bytes payload;
    size_t json_before;  // JSON messages written before this frame
  };
  std::vector<Frame> take() { return std::exchange(frames, {}); }
  size_t queued = 0;
  bool hold = false;  // sent bytes stay queued until the test drains them
  bool full = false;
  std::vector<Frame> frames;

 private:
  FakeChannel& json_;
};

bool has_rst(const std::vector<FrameLink::Frame>& f, uint16_t ch, TunnelReset why) {
  for (const auto& x : f) {
    if (x.type == TunnelFrameType::rst && x.channel == ch && x.reason == static_cast<uint8_t>(why)) return true;
  }
  return false;
}

class AgentTunnelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    services[0].name.assign("web");
    services[0].host.assign("127.0.0.1");
    services[0].port = 8080;
    services[1].name.assign("ssh");
    services[1].host.assign("localhost");
    services[1].port = 22;
    rig.config.tunnels.services = services;
    rig.config.tunnels.max_channels = 2;
    rig.config.tunnels.window = 8192;
    rig.config.tunnels.idle_ms = 60 * kSec;
    boot_linked();
  }
  /// Boots the agent with rig.config (its tunnels set), tunnels.list allowed,
  /// and links it.
  void boot_linked() {
    rig.config.tunnels.connect_timeout_ms = 5 * kSec;
    rig.config.service_names = names;
    rig.allowed.push_back("tunnels.list");
    rig.config.allowed_methods = rig.allowed;
    ASSERT_TRUE(rig.boot().ok());
    rig.agent->enable_tunnels(driver, link);
    rig.link_up();
    rig.welcome(kT0);
  }
  void in(const TunnelFrame& f) {
    Bytes b(kTunnelMaxFrameBytes);
    Result<size_t> n = write_tunnel_frame(f, b);
    ASSERT_TRUE(n.ok());
    rig.agent->on_binary({b.data(), *n});
  }
  void step() { rig.agent->step(rig.mono.now); }
  /// OPEN of `id` to web, connected; the frames it caused taken.
  SocketId open_web(uint16_t id, uint32_t server_window = 65536) {
    in(TunnelFrame::open(id, server_window, "web", "alice"));
    driver.answer();
    const SocketId s = driver.last();
    driver.sockets.at(s).owner->on_connected(s);
    step();
    link.take();
    return s;
  }
  /// Every event of `kind` the agent sent to the server (each batch
  /// acknowledged, so the next goes out).
  std::vector<std::string> events(const std::string& kind) {
    for (size_t acked = 0;;) {
      step();
      auto batches = rig.sent_of("event");
      if (batches.size() == acked) break;
      acked = batches.size();
      const cJSON* all = batches.back()->get("events");
      const int64_t upto = static_cast<int64_t>(
          cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetArrayItem(all, cJSON_GetArraySize(all) - 1), "seq")));
      rig.server(R"({"type":"event_ack","stream":")" + batches.back()->string("stream") + R"(","upto":)" +
                 std::to_string(upto) + "}");
    }
    std::vector<std::string> out;
    for (auto& m : rig.sent_of("event")) {
      const cJSON* e = nullptr;
      cJSON_ArrayForEach(e, m->get("events")) {
        if (std::string(cJSON_GetStringValue(cJSON_GetObjectItem(e, "kind"))) != kind) continue;
        char* text = cJSON_PrintUnformatted(e);
        out.emplace_back(text);
        cJSON_free(text);
      }
    }
    return out;
  }

  /// The agent sent exactly one tunnel_closed event, and it holds `text`.
  ::testing::AssertionResult closed_once_with(const std::string& text) {
    const auto closed = events("tunnel_closed");
    if (closed.size() != 1) return ::testing::AssertionFailure() << closed.size() << " tunnel_closed events";
    if (closed[0].find(text) == std::string::npos) return ::testing::AssertionFailure() << closed[0];
    return ::testing::AssertionSuccess();
  }

  // The agent goes first: its tunnels close their sockets on `driver` and
  // may write on `link` as they go, so both must still be there.
  void TearDown() override { rig.agent.reset(); }

  std::array<ServiceEndpoint, 2> services{};
  std::vector<std::string_view> names = {"web", "ssh"};
  AgentRig rig;
  ScriptedDriver driver;
  FrameLink link{rig.channel};
};

TEST_F(AgentTunnelTest, HelloOffersTheConfiguredServices) {
  auto hello = rig.sent_of("hello");
  ASSERT_FALSE(hello.empty());
  char* text = cJSON_PrintUnformatted(hello.back()->get("services"));
  EXPECT_STREQ(text, R"(["web","ssh"])");
  cJSON_free(text);
}

TEST_F(AgentTunnelTest, AnOpenConnectsToTheMappedEndpointAndDeliversTheEarlyData) {
  in(TunnelFrame::open(1, 65536, "web", "alice"));
  in(TunnelFrame::data(1, bytes_of("GET / HTTP/1.0\r\n\r\n")));
  ASSERT_EQ(driver.lookups.size(), 1u);
  EXPECT_EQ(driver.lookups.begin()->second.first, "127.0.0.1") << "only the endpoint `services` names";
  driver.answer();
  const SocketId s = driver.last();
  EXPECT_EQ(driver.sockets.at(s).port, 8080);
  step();
  EXPECT_TRUE(link.take().empty()) << "no OPEN_OK before the local connection is up";
  driver.sockets.at(s).owner->on_connected(s);
  EXPECT_EQ(driver.sockets.at(s).received, bytes_of("GET / HTTP/1.0\r\n\r\n")) << "early data, in order";
  step();
  auto frames = link.take();
  ASSERT_FALSE(frames.empty());
  EXPECT_EQ(frames[0].type, TunnelFrameType::open_ok);
  EXPECT_EQ(frames[0].credit, 8192u) << "tunnel_window_bytes";
  auto opened = events("tunnel_opened");
  ASSERT_EQ(opened.size(), 1u);
  EXPECT_NE(opened[0].find(R"("channel":1,"service":"web","operator":"alice")"), std::string::npos) << opened[0];

  rig.server(R"({"type":"request","id":9,"method":"tunnels.list"})");
  auto answer = rig.last_sent();
  char* text = cJSON_PrintUnformatted(answer->get("result"));
  EXPECT_NE(std::string(text).find(R"("channel":1,"service":"web","operator":"alice")"), std::string::npos) << text;
  EXPECT_NE(std::string(text).find(R"("bytes_in":18,"bytes_out":0)"), std::string::npos) << text;
  cJSON_free(text);
  ASSERT_EQ(rig.agent->snapshot().tunnels.size(), 1u) << "status --json `tunnels`";
}

TEST_F(AgentTunnelTest, EachRefusedOpenIsAnsweredWithItsReason) {
  in(TunnelFrame::open(1, 65536, "telnet"));
  step();
  EXPECT_TRUE(has_rst(link.take(), 1, TunnelReset::unknown_service));
  EXPECT_TRUE(driver.lookups.empty()) << "nothing is connected for an unknown name";

  in(TunnelFrame::open(2, 65536, "web"));
  driver.answer();
  driver.sockets.at(driver.last()).owner->on_socket_error(driver.last(), Status(Reason::connect_refused, 111));
  step();
  EXPECT_TRUE(has_rst(link.take(), 2, TunnelReset::connect_refused));

  in(TunnelFrame::open(3, 65536, "ssh"));
  driver.answer(false);
  step();
  EXPECT_TRUE(has_rst(link.take(), 3, TunnelReset::connect_refused)) << "the service's host does not resolve";

  in(TunnelFrame::open(4, 65536, "web"));
  driver.answer();
  rig.mono.now += 5 * kSec;
  step();
  EXPECT_TRUE(has_rst(link.take(), 4, TunnelReset::connect_timeout));
  EXPECT_TRUE(driver.sockets.at(driver.last()).closed);

  open_web(5);
  open_web(6);
  in(TunnelFrame::open(7, 65536, "web"));
  step();
  EXPECT_TRUE(has_rst(link.take(), 7, TunnelReset::too_many_channels)) << "max_channels 2";
  EXPECT_TRUE(events("tunnel_opened").size() == 2u) << "only the channels that reached their service";
}

TEST_F(AgentTunnelTest, AnOpenBeforeWelcomeIsNotAllowed) {
  rig.link_down();
  rig.link_up();
  in(TunnelFrame::open(1, 65536, "web"));
  step();
  EXPECT_TRUE(has_rst(link.take(), 1, TunnelReset::not_allowed));
}

TEST_F(AgentTunnelTest, CreditIsGrantedOnlyAsTheLocalSocketTakesTheBytes) {
  const SocketId s = open_web(1);
  driver.takes = 0;  // a stalled local service
  in(TunnelFrame::data(1, pattern(8192)));
  step();
  EXPECT_TRUE(link.take().empty()) << "no credit while the service takes nothing";
  in(TunnelFrame::data(1, pattern(1)));
  step();
  EXPECT_TRUE(has_rst(link.take(), 1, TunnelReset::flow_control)) << "the window is the limit";
  EXPECT_TRUE(driver.sockets.at(s).closed);

  const SocketId t = open_web(2);
  driver.takes = 0;
  in(TunnelFrame::data(2, pattern(8192)));
  driver.takes = 4096;
  driver.sockets.at(t).owner->on_writable(t);
  step();
  auto frames = link.take();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].type, TunnelFrameType::window);
  EXPECT_EQ(frames[0].credit, 4096u);
}

TEST_F(AgentTunnelTest, LocalBytesGoOnlyWithinTheServersCreditAndTheSocketStopsWhenTheQueueIsFull) {
  const SocketId s = open_web(1, 1000);
  auto& sock = driver.sockets.at(s);
  sock.owner->on_received(s, pattern(16384));
  EXPECT_FALSE(sock.receiving) << "less than a whole read fits: the socket stops";
  step();
  auto frames = link.take();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].payload.size(), 1000u) << "the server granted 1000";
  in(TunnelFrame::window(1, 100000));
  step();
  frames = link.take();
  size_t sent = 0;
  for (auto& f : frames) sent += f.payload.size();
  EXPECT_EQ(sent, 16384u - 1000u);
  EXPECT_TRUE(sock.receiving) << "room again: the socket reads again";
}

TEST_F(AgentTunnelTest, DataWaitsWhileTheLinkHoldsAFrameButControlFramesGo) {
  const SocketId s = open_web(1);
  driver.sockets.at(s).owner->on_received(s, pattern(10000));
  link.queued = kTunnelMaxFrameBytes;  // the link is busy
  driver.takes = 8192;
  in(TunnelFrame::data(1, pattern(8192)));
  step();
  auto frames = link.take();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].type, TunnelFrameType::window) << "control goes, DATA waits";
  link.queued = 0;
  step();
  frames = link.take();
  ASSERT_FALSE(frames.empty());
  EXPECT_EQ(frames[0].type, TunnelFrameType::data);
}

TEST_F(AgentTunnelTest, HeartbeatsGoOutOnTimeWhileAChannelIsSaturated) {
  const SocketId s = open_web(1, kTunnelMaxCredit);
  link.hold = true;
  const size_t heartbeats = rig.sent_of("heartbeat").size();
  for (int i = 0; i < 250; ++i) {
    // The local service always has more; the link drains one frame per 100 ms.
    auto& sock = driver.sockets.at(s);
    if (sock.receiving) sock.owner->on_received(s, pattern(16384));
    rig.run_for(100);
    link.queued = link.queued > kTunnelMaxFrameBytes ? link.queued - kTunnelMaxFrameBytes : 0;
  }
  EXPECT_GE(rig.sent_of("heartbeat").size(), heartbeats + 2) << "heartbeat_s 10, 25 s";
  auto frames = link.take();
  EXPECT_GT(frames.size(), 20u) << "the channel kept flowing";
}

TEST_F(AgentTunnelTest, FinHalfClosesEachWayAndTheEndIsRecorded) {
  const SocketId s = open_web(1);
  in(TunnelFrame::data(1, bytes_of("GET /")));
  in(TunnelFrame::fin(1));
  EXPECT_TRUE(driver.sockets.at(s).shut) << "the server's FIN half-closes the local socket after its bytes";
  EXPECT_EQ(driver.sockets.at(s).received, bytes_of("GET /"));
  driver.sockets.at(s).owner->on_received(s, bytes_of("200 OK"));
  driver.sockets.at(s).owner->on_socket_error(s, Status(Reason::connection_closed));
  step();
  auto frames = link.take();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].payload, bytes_of("200 OK"));
  EXPECT_EQ(frames[1].type, TunnelFrameType::fin) << "FIN after the service's last bytes";
  step();
  auto closed = events("tunnel_closed");
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_NE(closed[0].find(R"("channel":1,"service":"web","bytes_in":5,"bytes_out":6,"seconds":0,"reason":"fin")"),
            std::string::npos)
      << closed[0];
  EXPECT_EQ(rig.agent->snapshot().tunnels.size(), 0u);
}

TEST_F(AgentTunnelTest, TheServiceHalfClosesFirstAndStillGetsTheServersBytes) {
  // A service that reads its request to the end, then answers (a digest):
  // the operator's side sends, the service half-closes after its greeting,
  // and the server's bytes still reach it until the server's FIN.
  const SocketId s = open_web(1);
  driver.sockets.at(s).owner->on_received(s, bytes_of("ready"));
  EXPECT_TRUE(driver.sockets.at(s).owner->on_peer_finished(s)) << "kept half-open for sending";
  step();
  auto frames = link.take();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].payload, bytes_of("ready"));
  EXPECT_EQ(frames[1].type, TunnelFrameType::fin) << "the service's EOF goes out as FIN after its bytes";
  in(TunnelFrame::data(1, bytes_of("hash this")));
  step();
  EXPECT_EQ(driver.sockets.at(s).received, bytes_of("hash this")) << "bytes after the service's FIN still reach it";
  EXPECT_FALSE(driver.sockets.at(s).closed);
  EXPECT_TRUE(link.take().empty()) << "no RST: the channel is half-closed, not broken";
  in(TunnelFrame::fin(1));
  step();
  EXPECT_TRUE(driver.sockets.at(s).closed) << "FIN both ways: the channel ends and its socket closes";
  auto closed = events("tunnel_closed");
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_NE(closed[0].find(R"("bytes_in":9,"bytes_out":5,"seconds":0,"reason":"fin")"), std::string::npos)
      << closed[0];
}

TEST_F(AgentTunnelTest, AnIdleChannelIsReset) {
  open_web(1);
  rig.run_for(61 * kSec);
  EXPECT_TRUE(has_rst(link.take(), 1, TunnelReset::idle_timeout));
  auto closed = events("tunnel_closed");
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_NE(closed[0].find(R"("reason":"idle_timeout")"), std::string::npos) << closed[0];
}

TEST_F(AgentTunnelTest, LinkLossLeavesNoSocketOrLookup) {
  open_web(1);
  in(TunnelFrame::open(2, 65536, "ssh"));  // still resolving
  rig.link_down();
  EXPECT_EQ(driver.open_count(), 0u);
  EXPECT_TRUE(driver.lookups.empty());
  EXPECT_EQ(rig.agent->snapshot().tunnels.size(), 0u);
  rig.link_up();
  rig.welcome(kT0 + 1000);
  auto closed = events("tunnel_closed");
  ASSERT_EQ(closed.size(), 1u) << "the one that had reached its service";
  EXPECT_NE(closed[0].find(R"("reason":"link_lost")"), std::string::npos) << closed[0];
  open_web(1);
  EXPECT_EQ(driver.open_count(), 1u) << "a new link opens channels afresh";
}

TEST_F(AgentTunnelTest, ShutdownResetsEveryChannelBeforeTheLinkCloses) {
  open_web(1);
  open_web(2);
  rig.agent->shutdown(rig.mono.now);
  auto frames = link.take();
  EXPECT_TRUE(has_rst(frames, 1, TunnelReset::shutdown));
  EXPECT_TRUE(has_rst(frames, 2, TunnelReset::shutdown));
  ASSERT_EQ(rig.channel.closes.size(), 1u);
  EXPECT_EQ(rig.channel.closes[0], 1001);
  EXPECT_EQ(driver.open_count(), 0u);
}

TEST_F(AgentTunnelTest, AMalformedFrameClosesTheLinkWith1002) {
  open_web(1);
  const Bytes truncated = {0x01, 0x00};
  rig.agent->on_binary(truncated);
  rig.agent->drain();
  ASSERT_EQ(rig.channel.closes.size(), 1u);
  EXPECT_EQ(rig.channel.closes[0], 1002);
  EXPECT_EQ(driver.open_count(), 0u);
}

TEST_F(AgentTunnelTest, TunnelMemoryIsBoundedByMaxChannelsTimesTheWindowPlusAConstant) {
  TunnelSettings linux_default;  // 8 channels of 65536
  TunnelSettings board;
  board.max_channels = 4;
  board.window = 2048;
  for (const TunnelSettings& s : {linux_default, board}) {
    const size_t send_queue = std::min<size_t>(s.window, kTunnelMaxData) + kSocketMaxReceive;
    const size_t per_channel = std::max<size_t>(s.window, kTunnelMaxEarlyData) + send_queue;
    // The constant: the service's own frame buffer and bookkeeping, and
    // under 512 bytes of records per channel.
    EXPECT_LE(TunnelService::memory_bound(s), s.max_channels * (per_channel + 512) + kTunnelMaxFrameBytes + 1024)
        << s.window;
  }
}

TEST_F(AgentTunnelTest, EachLocalFailureBeforeTheServiceIsReachedIsAnsweredWithItsReason) {
  driver.lookups_free = false;
  in(TunnelFrame::open(1, 65536, "web"));
  step();
  EXPECT_TRUE(has_rst(link.take(), 1, TunnelReset::no_memory)) << "no lookup free";
  driver.lookups_free = true;

  in(TunnelFrame::open(2, 65536, "web"));
  driver.answer(true, false);
  step();
  EXPECT_TRUE(has_rst(link.take(), 2, TunnelReset::connect_refused)) << "a lookup with no address";

  in(TunnelFrame::open(3, 65536, "web"));
  driver.sockets_free = false;
  driver.answer();
  step();
  EXPECT_TRUE(has_rst(link.take(), 3, TunnelReset::no_memory)) << "no socket free";
  driver.sockets_free = true;

  in(TunnelFrame::open(4, 65536, "web"));
  driver.answer();
  const SocketId s = driver.last();
  driver.fail(s, Status(Reason::connect_timeout));
  step();
  EXPECT_TRUE(has_rst(link.take(), 4, TunnelReset::connect_timeout)) << "the backend's own connect timeout";

  EXPECT_TRUE(driver.lookups.empty());
  EXPECT_EQ(driver.open_count(), 0u) << "nothing left open";
  EXPECT_TRUE(events("tunnel_opened").empty());
  EXPECT_TRUE(events("tunnel_closed").empty()) << "only channels that reached their service are recorded";
  open_web(5);
  open_web(6);
  EXPECT_EQ(rig.agent->snapshot().tunnels.size(), 2u) << "every refused channel gave its slot back";
}

TEST_F(AgentTunnelTest, AServerRstClosesTheLocalSocketAndIsRecordedWithItsReason) {
  const SocketId s = open_web(1);
  in(TunnelFrame::data(1, bytes_of("GET /")));
  in(TunnelFrame::rst(1, TunnelReset::shutdown, "server stopping"));
  step();
  EXPECT_TRUE(link.take().empty()) << "an RST is not answered";
  EXPECT_TRUE(driver.sockets.at(s).closed);
  EXPECT_TRUE(closed_once_with(R"("bytes_in":5,"bytes_out":0,"seconds":0,"reason":"shutdown")"));
}

TEST_F(AgentTunnelTest, ALocalConnectionThatBreaksResetsTheChannelWithLocalReset) {
  // The socket refuses the server's bytes.
  const SocketId s = open_web(1);
  driver.send_fails = true;
  in(TunnelFrame::data(1, bytes_of("GET /")));
  step();
  EXPECT_TRUE(has_rst(link.take(), 1, TunnelReset::local_reset));
  EXPECT_TRUE(driver.sockets.at(s).closed);
  driver.send_fails = false;

  // The connection is reset under the channel.
  const SocketId t = open_web(2);
  driver.fail(t, Status(Reason::connection_reset));
  step();
  EXPECT_TRUE(has_rst(link.take(), 2, TunnelReset::local_reset));

  // The service closes while the server's bytes still wait for it.
  const SocketId u = open_web(3);
  driver.takes = 0;
  in(TunnelFrame::data(3, bytes_of("POST /")));
  driver.fail(u, Status(Reason::connection_closed));
  step();
  auto frames = link.take();
  EXPECT_TRUE(has_rst(frames, 3, TunnelReset::local_reset)) << "6 bytes could never be delivered";
  for (const auto& f : frames) EXPECT_NE(f.type, TunnelFrameType::fin) << "not a clean end";

  auto closed = events("tunnel_closed");
  ASSERT_EQ(closed.size(), 3u);
  for (const auto& c : closed) EXPECT_NE(c.find(R"("reason":"local_reset")"), std::string::npos) << c;
  EXPECT_EQ(driver.open_count(), 0u);
}

TEST_F(AgentTunnelTest, BytesSentAfterTheLocalServiceClosedResetTheChannel) {
  const SocketId s = open_web(1);
  driver.fail(s, Status(Reason::connection_closed));
  step();
  auto frames = link.take();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].type, TunnelFrameType::fin) << "the service's close is a clean FIN";
  in(TunnelFrame::data(1, bytes_of("more")));
  step();
  EXPECT_TRUE(has_rst(link.take(), 1, TunnelReset::local_reset)) << "the bytes have nowhere to go";
  EXPECT_TRUE(closed_once_with(R"("reason":"local_reset")"));
}

TEST_F(AgentTunnelTest, ABackendThatReadsPastTheStopResetsTheChannelNoMemory) {
  const SocketId s = open_web(1, 1000);
  auto& sock = driver.sockets.at(s);
  sock.owner->on_received(s, pattern(16384));
  ASSERT_FALSE(sock.receiving);
  sock.owner->on_received(s, pattern(100));  // a read already under way when it stopped: it fits
  step();
  auto frames = link.take();
  ASSERT_EQ(frames.size(), 1u) << "the channel goes on";
  EXPECT_EQ(frames[0].type, TunnelFrameType::data);
  sock.owner->on_received(s, pattern(16384));  // a whole read more: the channel cannot hold it
  step();
  EXPECT_TRUE(has_rst(link.take(), 1, TunnelReset::no_memory));
  EXPECT_TRUE(sock.closed);
  EXPECT_TRUE(std::any_of(rig.logs.begin(), rig.logs.end(), [](const auto& l) {
    return l.first.find("more than the channel holds") != std::string::npos;
  }));
}

TEST_F(AgentTunnelTest, AFrameTheLinkRefusesGoesOutOnTheNextStepExactlyOnce) {
  const SocketId s = open_web(1);
  link.full = true;
  driver.sockets.at(s).owner->on_received(s, bytes_of("hello"));
  step();
  EXPECT_TRUE(link.take().empty());
  link.full = false;
  step();
  auto frames = link.take();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].payload, bytes_of("hello"));
  step();
  EXPECT_TRUE(link.take().empty());
}

TEST_F(AgentTunnelTest, ALateAnswerForAChannelThatEndedOpensNothing) {
  // The backend's contract is no events after close; an answer already on
  // its way must still not open a socket or touch another channel.
  const SocketId other = open_web(5);
  in(TunnelFrame::open(1, 65536, "web"));
  ASSERT_EQ(driver.lookups.size(), 1u);
  const auto [lookup, entry] = *driver.lookups.begin();
  SocketEvents* tunnels = entry.second;
  in(TunnelFrame::rst(1, TunnelReset::local_reset));
  EXPECT_TRUE(driver.lookups.empty()) << "the lookup was cancelled";
  AddressList list;
  list.add(IpAddress::parse("127.0.0.1"));
  tunnels->on_resolved(lookup, Status::Ok(), list);
  EXPECT_EQ(driver.sockets.size(), 1u) << "no socket for a channel that is gone";

  const SocketId s = open_web(2);
  in(TunnelFrame::rst(2, TunnelReset::local_reset));
  ASSERT_TRUE(driver.sockets.at(s).closed);
  tunnels->on_connected(s);
  tunnels->on_received(s, bytes_of("late"));
  tunnels->on_writable(s);
  EXPECT_FALSE(tunnels->on_peer_finished(s));
  tunnels->on_socket_error(s, Status(Reason::connection_reset));
  step();
  EXPECT_TRUE(link.take().empty()) << "nothing for channel 2 or any other";
  EXPECT_FALSE(driver.sockets.at(other).closed);
  ASSERT_EQ(rig.agent->snapshot().tunnels.size(), 1u);
  EXPECT_EQ(events("tunnel_opened").size(), 2u);
}

TEST_F(AgentTunnelTest, ALookupThatNeverAnswersIsResetAtTheConnectTimeout) {
  in(TunnelFrame::open(1, 65536, "ssh"));
  ASSERT_EQ(driver.lookups.size(), 1u);
  rig.run_for(5 * kSec - 1);
  EXPECT_FALSE(has_rst(link.take(), 1, TunnelReset::connect_timeout)) << "connect_timeout is 5 s";
  rig.run_for(2);
  EXPECT_TRUE(has_rst(link.take(), 1, TunnelReset::connect_timeout));
  EXPECT_TRUE(driver.lookups.empty()) << "the lookup is cancelled";
  EXPECT_TRUE(driver.sockets.empty());
}

TEST_F(AgentTunnelTest, LookupsAnsweredOutOfOrderEachConnectTheirOwnChannel) {
  in(TunnelFrame::open(1, 65536, "web"));
  in(TunnelFrame::open(2, 65536, "ssh"));
  driver.answer(true, true, /*newest=*/true);
  const SocketId ssh = driver.last();
  driver.answer();
  const SocketId web = driver.last();
  EXPECT_EQ(driver.sockets.at(ssh).port, 22);
  EXPECT_EQ(driver.sockets.at(web).port, 8080);
  driver.sockets.at(ssh).owner->on_connected(ssh);
  step();
  auto frames = link.take();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].type, TunnelFrameType::open_ok);
  EXPECT_EQ(frames[0].channel, 2) << "the ssh socket belongs to channel 2";
  driver.sockets.at(web).owner->on_connected(web);
  in(TunnelFrame::data(1, bytes_of("GET /")));
  EXPECT_EQ(driver.sockets.at(web).received, bytes_of("GET /"));
  EXPECT_TRUE(driver.sockets.at(ssh).received.empty());
}

TEST_F(AgentTunnelTest, TheServersFinHalfClosesTheLocalSocketOnceAndTheAnswerStillGoesOut) {
  const SocketId s = open_web(1);
  in(TunnelFrame::data(1, bytes_of("GET /")));
  in(TunnelFrame::fin(1));
  ASSERT_TRUE(driver.sockets.at(s).shut);
  driver.sockets.at(s).owner->on_writable(s);  // the driver checks there is no second half-close
  step();
  driver.sockets.at(s).owner->on_received(s, bytes_of("200 OK"));
  driver.fail(s, Status(Reason::connection_closed));
  step();
  auto frames = link.take();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].payload, bytes_of("200 OK"));
  EXPECT_EQ(frames[1].type, TunnelFrameType::fin);
  EXPECT_TRUE(closed_once_with(R"("reason":"fin")"));
}

TEST_F(AgentTunnelTest, TheServiceClosingBeforeTheServersFinIsACleanEnd) {
  const SocketId s = open_web(1);
  driver.sockets.at(s).owner->on_received(s, bytes_of("bye"));
  driver.fail(s, Status(Reason::connection_closed));
  step();
  auto frames = link.take();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[1].type, TunnelFrameType::fin);
  in(TunnelFrame::fin(1));
  step();
  EXPECT_TRUE(link.take().empty()) << "no RST: both sides finished";
  EXPECT_TRUE(closed_once_with(R"("bytes_in":0,"bytes_out":3,"seconds":0,"reason":"fin")"));
  EXPECT_EQ(rig.agent->snapshot().tunnels.size(), 0u);
}

TEST_F(AgentTunnelTest, BytesHeldWhenBothSidesFinishedStillReachTheServiceThenTheEndIsRecorded) {
  const SocketId s = open_web(1);
  driver.takes = 0;  // the service is slow to read
  in(TunnelFrame::data(1, bytes_of("last words")));
  EXPECT_TRUE(driver.sockets.at(s).owner->on_peer_finished(s));
  step();
  auto frames = link.take();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].type, TunnelFrameType::fin);
  in(TunnelFrame::fin(1));  // FIN both ways: the id is free on the wire
  step();
  EXPECT_TRUE(rig.agent->snapshot().tunnels.empty()) << "no longer open, as the server sees it too";
  EXPECT_TRUE(events("tunnel_closed").empty()) << "not ended before its bytes are delivered";
  driver.takes = SIZE_MAX;
  driver.sockets.at(s).owner->on_writable(s);
  EXPECT_EQ(driver.sockets.at(s).received, bytes_of("last words"));
  EXPECT_TRUE(driver.sockets.at(s).closed);
  step();
  EXPECT_TRUE(link.take().empty()) << "nothing more for a free id";
  EXPECT_TRUE(closed_once_with(R"("bytes_in":10,"bytes_out":0,"seconds":0,"reason":"fin")"));
}

// A handler entry left without its handler (a build that leaves the
// in-image service out) does not shadow the configured socket service.
class AgentTunnelEmptyHandlerTest : public AgentTunnelTest {
 protected:
  void SetUp() override {
    services[0].name.assign("web");
    services[0].host.assign("127.0.0.1");
    services[0].port = 8080;
    rig.config.tunnels.services = std::span<const ServiceEndpoint>(services).first(1);
    rig.config.tunnels.handlers = handlers;
    names = {"web"};
    boot_linked();
  }
  std::array<TunnelHandlerEntry, 1> handlers{TunnelHandlerEntry{"web", nullptr}};
};

TEST_F(AgentTunnelEmptyHandlerTest, AnOpenGoesToTheSocketService) {
  in(TunnelFrame::open(1, 65536, "web", "alice"));
  ASSERT_EQ(driver.lookups.size(), 1u) << "connected as the services entry says";
  driver.answer();
  const SocketId s = driver.last();
  EXPECT_EQ(driver.sockets.at(s).port, 8080);
  driver.sockets.at(s).owner->on_connected(s);
  step();
  auto frames = link.take();
  ASSERT_FALSE(frames.empty());
  EXPECT_EQ(frames[0].type, TunnelFrameType::open_ok);
}

TEST(TunnelClosedReason, EveryStoredCodeReadsAsAName) {
  EXPECT_STREQ(tunnel_closed_reason_name(0), "fin");
  EXPECT_STREQ(tunnel_closed_reason_name(100), "link_lost");
  EXPECT_STREQ(tunnel_closed_reason_name(7), "flow_control");
  EXPECT_STREQ(tunnel_closed_reason_name(11), "shutdown");
  // A record from a newer version, or damaged: shown, never out of range.
  for (int64_t code : {int64_t{12}, int64_t{255}, int64_t{256}, int64_t{-1}, std::numeric_limits<int64_t>::max()}) {
    EXPECT_STREQ(tunnel_closed_reason_name(code), "unknown") << code;
  }
}

// The longest of everything the configuration and PROTOCOL.md allow: a
// service name of kMaxServiceName characters and operators of
// kMaxTunnelOperator bytes, each character one JSON escapes, on
// kMaxTunnelChannels channels.
class AgentTunnelLimitsTest : public AgentTunnelTest {
 protected:
  static constexpr const char* kLongService = R"(a"b\c"d\e"f\g"h)";
  void SetUp() override {
    ASSERT_EQ(std::string_view(kLongService).size(), kMaxServiceName);
    services[0].name.assign(kLongService);
    services[0].host.assign("127.0.0.1");
    services[0].port = 8080;
    names = {kLongService};
    rig.config.tunnels.services = std::span<const ServiceEndpoint>(services).first(1);
    rig.config.tunnels.max_channels = kMaxTunnelChannels;
    rig.config.tunnels.window = 4096;
    rig.config.tunnels.idle_ms = 600 * kSec;
    boot_linked();
  }
  // Operator `i` (0..99): kMaxTunnelOperator bytes, quotes and backslashes.
  static std::string op(int i) {
    std::string o = R"(\"\"\"\"\"\"\)";
    o += static_cast<char>('0' + i / 10);
    o += static_cast<char>('0' + i % 10);
    EXPECT_EQ(o.size(), kMaxTunnelOperator);
    return o;
  }
  SocketId open_long(uint16_t id, const std::string& who) {
    in(TunnelFrame::open(id, 65536, kLongService, who));
    driver.answer();
    const SocketId s = driver.last();
    driver.sockets.at(s).owner->on_connected(s);
    step();
    link.take();
    return s;
  }
  // Channels 65535 down to 65520, operator op(i) each, `bytes` each way.
  void open_every_channel(size_t bytes) {
    for (int i = 0; i < static_cast<int>(kMaxTunnelChannels); ++i) {
      const SocketId s = open_long(static_cast<uint16_t>(65535 - i), op(i));
      if (bytes == 0) continue;
      in(TunnelFrame::data(static_cast<uint16_t>(65535 - i), pattern(bytes)));
      driver.sockets.at(s).owner->on_received(s, pattern(bytes));
    }
    step();
    link.take();
  }
};

TEST_F(AgentTunnelLimitsTest, TunnelOpenedRecordsTheLongestServiceAndOperatorWhole) {
  open_long(1, op(1));
  const auto opened = events("tunnel_opened");
  ASSERT_EQ(opened.size(), 1u);
  const cJSON* e = cJSON_Parse(opened[0].c_str());
  ASSERT_NE(e, nullptr) << opened[0];
  EXPECT_STREQ(cJSON_GetStringValue(cJSON_GetObjectItem(e, "service")), kLongService) << opened[0];
  EXPECT_EQ(std::string(cJSON_GetStringValue(cJSON_GetObjectItem(e, "operator"))), op(1)) << opened[0];
  cJSON_Delete(const_cast<cJSON*>(e));
}

TEST_F(AgentTunnelLimitsTest, AnyOperatorIsTakenAndOneBeyondTheRecordIsKeptCutAndMarked) {
  // PROTOCOL.md section 6 bounds the operator identity only by the frame:
  // a server may send a long one (an e-mail address), a multi-byte one, one
  // with a control character. Each channel opens; what the device keeps is
  // the first bytes on a UTF-8 boundary and U+2026, control characters '?'.
  const std::string ellipsis = "\xE2\x80\xA6";
  const std::string longest(255, 'o');
  const std::string mail = "support.engineer@vendor.example";
  const std::string accented = "op\xC3\xA9rateur-\xC3\xA9quipe-nuit";  // opérateur-équipe-nuit
  const std::string separator = "ops\x1f" "admin";
  struct Case {
    std::string sent;
    std::string kept;
  };
  const Case cases[] = {
      {op(1), op(1)},
      {op(1) + "x", op(1).substr(0, kMaxTunnelOperator - 3) + ellipsis},
      {longest, std::string(kMaxTunnelOperator - 3, 'o') + ellipsis},
      {mail, mail.substr(0, kMaxTunnelOperator - 3) + ellipsis},
      // 12 bytes would split the second "é" (bytes 11 and 12): cut before it.
      {accented, accented.substr(0, 11) + ellipsis},
      {separator, "ops?admin"},
      {"ops\x7f" "admin", "ops?admin"},
      {"", ""},
  };
  uint16_t id = 1;
  for (const Case& c : cases) {
    open_long(id, c.sent);
    const auto opened = events("tunnel_opened");
    ASSERT_EQ(opened.size(), id) << "the channel opened for " << c.sent;
    const cJSON* e = cJSON_Parse(opened.back().c_str());
    ASSERT_NE(e, nullptr) << opened.back();
    const cJSON* who = cJSON_GetObjectItem(e, "operator");
    if (c.kept.empty()) {
      EXPECT_TRUE(who == nullptr || std::string(cJSON_GetStringValue(who)).empty()) << opened.back();
    } else {
      ASSERT_TRUE(cJSON_IsString(who)) << opened.back();
      EXPECT_EQ(std::string(cJSON_GetStringValue(who)), c.kept) << c.sent;
      EXPECT_LE(c.kept.size(), kMaxTunnelOperator);
    }
    cJSON_Delete(const_cast<cJSON*>(e));
    ++id;
  }
  ASSERT_EQ(rig.agent->snapshot().tunnels.size(), std::size(cases));
  EXPECT_EQ(std::string(rig.agent->snapshot().tunnels[2].op), cases[2].kept) << "tunnels.list shows the same";
}

TEST_F(AgentTunnelLimitsTest, TunnelsListAnswersWholeAtMaxChannelsWithTheLongestNames) {
  open_every_channel(100);
  ASSERT_EQ(rig.agent->snapshot().tunnels.size(), kMaxTunnelChannels);
  rig.server(R"({"type":"request","id":9007199254740991,"method":"tunnels.list"})");
  auto answer = rig.last_sent();
  ASSERT_TRUE(answer) << "the answer was built and sent whole";
  ASSERT_EQ(answer->string("type"), "response");
  const cJSON* channels = cJSON_GetObjectItem(answer->get("result"), "channels");
  ASSERT_EQ(cJSON_GetArraySize(channels), static_cast<int>(kMaxTunnelChannels));
  int i = 0;
  const cJSON* c = nullptr;
  cJSON_ArrayForEach(c, channels) {
    EXPECT_EQ(cJSON_GetNumberValue(cJSON_GetObjectItem(c, "channel")), 65535 - i);
    EXPECT_STREQ(cJSON_GetStringValue(cJSON_GetObjectItem(c, "service")), kLongService);
    EXPECT_EQ(std::string(cJSON_GetStringValue(cJSON_GetObjectItem(c, "operator"))), op(i));
    EXPECT_EQ(cJSON_GetNumberValue(cJSON_GetObjectItem(c, "bytes_in")), 100);
    EXPECT_EQ(cJSON_GetNumberValue(cJSON_GetObjectItem(c, "bytes_out")), 100);
    ++i;
  }
}

TEST_F(AgentTunnelLimitsTest, StatusGetAlwaysAnswersAtMaxChannelsWithTheLongestNames) {
  // A license near the largest a device stores (2048 bytes): feature names
  // of the longest, each character escaped in two.
  LicenseSpec spec;
  spec.features = "[";
  for (size_t i = 0; i < 20; ++i) {
    std::string name(kMaxFeatureNameLength - 2, '"');
    name += static_cast<char>('a' + i / 26);
    name += static_cast<char>('a' + i % 26);
    std::string escaped;
    for (char c : name) escaped += c == '"' ? std::string("\\\"") : std::string(1, c);
    spec.features += (i ? "," : "") + std::string(R"({"name":")") + escaped + R"(","qty":4294967295})";
  }
  spec.features += "]";
  rig.server(rig.grant_json(spec));
  ASSERT_TRUE(rig.agent->snapshot().license_held) << "the largest license is held: " << [&] {
    std::string out;
    for (const auto& [level, line] : rig.logs) out += line + "\n";
    return out;
  }();
  open_every_channel(0);
  ASSERT_EQ(rig.agent->snapshot().tunnels.size(), kMaxTunnelChannels);
  rig.server(R"({"type":"request","id":77,"method":"status.get"})");
  auto answer = rig.last_sent();
  ASSERT_TRUE(answer) << "status.get is answered";
  ASSERT_EQ(answer->string("type"), "response");
  EXPECT_EQ(answer->integer("re"), 77);
  const cJSON* result = answer->get("result");
  ASSERT_NE(result, nullptr);
  EXPECT_TRUE(cJSON_IsString(cJSON_GetObjectItem(result, "state")));
  // Every channel is listed, or the answer says how many it leaves to
  // tunnels.list, which always holds them all.
  const cJSON* channels = cJSON_GetObjectItem(result, "tunnels");
  ASSERT_TRUE(cJSON_IsArray(channels));
  const cJSON* omitted = cJSON_GetObjectItem(result, "tunnels_omitted");
  const int listed = cJSON_GetArraySize(channels);
  const int left = omitted != nullptr ? static_cast<int>(cJSON_GetNumberValue(omitted)) : 0;
  EXPECT_EQ(listed + left, static_cast<int>(kMaxTunnelChannels));
  const cJSON* license = cJSON_GetObjectItem(result, "license");
  ASSERT_TRUE(cJSON_IsObject(license)) << "the license in force is always in the status";
  EXPECT_STREQ(cJSON_GetStringValue(cJSON_GetObjectItem(license, "serial")), "L-1");
}

TEST(TunnelListing, OneChannelTakesAtMostItsStatedBytes) {
  // The longest of every field: what the outbox bound is built on.
  const std::string service(kMaxServiceName, '"');
  const std::string op(kMaxTunnelOperator, '\\');
  TunnelListing worst;
  worst.channel = 65535;
  worst.service = service;
  worst.op = op;
  worst.opened = std::numeric_limits<int64_t>::min();
  worst.bytes_in = worst.bytes_out = static_cast<uint64_t>(std::numeric_limits<int64_t>::min());
  const std::array<TunnelListing, 2> two{worst, worst};
  std::array<char, 4096> buffer{};
  JsonWriter w(buffer);
  write_tunnel_listing(w, two);
  const Result<size_t> size = w.finish();
  ASSERT_TRUE(size.ok());
  EXPECT_LE(*size, 2 + 2 * kTunnelListingMaxBytes);
  EXPECT_GT(*size, 2 * (kTunnelListingMaxBytes - 2)) << "the bound is the worst case, not far above it";
}

}  // namespace
}  // namespace sublink::test
