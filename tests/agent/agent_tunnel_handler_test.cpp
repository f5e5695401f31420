// Services inside the image (TunnelSettings::handlers): an OPEN for a
// handler's name is served by code in the image, with no socket, through
// the agent's public interface: frames in, frames out, events, hello.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "agent/agent_rig.h"
#include "firmware/agent/status_page.h"
#include "firmware/agent/tunnel_service.h"
#include "net/tunnel/tunnel_frame.h"

namespace sublink::test {
namespace {

using Bytes = std::vector<uint8_t>;

// A device with no local network at all: a handler channel must not touch it.
class NoNetwork : public SocketDriver {
 public:
  Result<ResolveId> resolve(std::string_view, SocketEvents&) override { return fail(); }
  void cancel_resolve(ResolveId) override {}
  Result<SocketId> open(const IpAddress&, uint16_t, SocketEvents&) override { return fail(); }
  Result<size_t> send(SocketId, std::span<const uint8_t>) override { return fail(); }
  void close(SocketId) override {}
  void set_receiving(SocketId, bool) override {}
  void shutdown_send(SocketId) override {}
  int calls = 0;

 private:
  Status fail() {
    ++calls;
    return Status(Reason::out_of_memory);
  }
};

// The link's binary side: every frame parsed back.
class Frames : public BinaryChannel {
 public:
  explicit Frames(FakeChannel& json) : json_(json) {}
  bool up() const override { return json_.is_up; }
  size_t output_queued() const override { return 0; }
  Status send_binary(std::span<const uint8_t> message) override {
    EXPECT_LE(message.size(), limit) << "a frame over the link's send limit";
    Result<TunnelFrame> f = parse_tunnel_frame(message);
    EXPECT_TRUE(f.ok());
    got.push_back({f->type, f->channel, f->reason, std::string(f->payload.begin(), f->payload.end())});
    return Status::Ok();
  }
  struct Frame {
    TunnelFrameType type;
    uint16_t channel;
    uint8_t reason;
    std::string payload;
  };
  // DATA payload of `channel` in order, and whether FIN followed it.
  std::string data_of(uint16_t channel, bool& fin) const {
    std::string out;
    fin = false;
    for (const Frame& f : got) {
      if (f.channel != channel) continue;
      if (f.type == TunnelFrameType::data) out += f.payload;
      if (f.type == TunnelFrameType::fin) fin = true;
    }
    return out;
  }
  size_t limit = kTunnelMaxFrameBytes;
  std::vector<Frame> got;

 private:
  FakeChannel& json_;
};

class StatusFromAgent : public StatusSource {
 public:
  AgentStatus snapshot() const override { return agent->snapshot(); }
  const Agent* agent = nullptr;
};

class AgentTunnelHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    handlers[0] = {"status", &page};
    rig.config.tunnels.handlers = handlers;
    rig.config.tunnels.max_channels = 3;
    rig.config.tunnels.window = 2048;
    rig.config.tunnels.local_read_bytes = 4380;
    rig.config.tunnels.max_frame_bytes = 600;
    link.limit = 600;
    rig.config.service_names = names;
    ASSERT_TRUE(rig.boot().ok());
    status.agent = rig.agent.get();
    rig.agent->enable_tunnels(driver, link);
    rig.link_up();
    rig.welcome(kT0);
    // Enough features that the page spans several frames of 600 bytes.
    LicenseSpec spec;
    spec.features = "[";
    for (int i = 0; i < 16; ++i) spec.features += std::string(i ? "," : "") + R"({"name":"feature-)" + std::to_string(100 + i) + R"(-of-this-appliance","qty":)" + std::to_string(i + 1) + "}";
    spec.features += "]";
    rig.server(rig.grant_json(spec));
  }
  /// Every event kind the agent sent, each batch acknowledged so the next goes out.
  std::vector<std::string> event_kinds() {
    for (size_t acked = 0;;) {
      rig.agent->step(rig.mono.now);
      auto batches = rig.sent_of("event");
      if (batches.size() == acked) break;
      acked = batches.size();
      const cJSON* all = batches.back()->get("events");
      const cJSON* last = cJSON_GetArrayItem(all, cJSON_GetArraySize(all) - 1);
      rig.server(R"({"type":"event_ack","stream":")" + batches.back()->string("stream") + R"(","upto":)" +
                 std::to_string(static_cast<int64_t>(cJSON_GetNumberValue(cJSON_GetObjectItem(last, "seq")))) + "}");
    }
    return rig.sent_event_kinds();
  }
  void TearDown() override { rig.agent.reset(); }
  void in(const TunnelFrame& f) {
    Bytes b(kTunnelMaxFrameBytes);
    Result<size_t> n = write_tunnel_frame(f, b);
    ASSERT_TRUE(n.ok());
    rig.agent->on_binary({b.data(), *n});
    rig.agent->step(rig.mono.now);
  }
  void request(uint16_t channel, std::string_view text) {
    in(TunnelFrame::data(channel, {reinterpret_cast<const uint8_t*>(text.data()), text.size()}));
  }

  std::array<TunnelHandlerEntry, 1> handlers{};
  std::vector<std::string_view> names = {"status"};
  StatusFromAgent status;
  StatusPage page{status, "SYS-0001"};
  AgentRig rig;
  NoNetwork driver;
  Frames link{rig.channel};
};

TEST_F(AgentTunnelHandlerTest, AnOpenForTheStatusPageIsServedInsideTheImage) {
  auto hello = rig.sent_of("hello");
  ASSERT_FALSE(hello.empty());
  char* offered = cJSON_PrintUnformatted(hello.back()->get("services"));
  EXPECT_STREQ(offered, R"(["status"])");
  cJSON_free(offered);

  in(TunnelFrame::open(1, 65536, "status", "alice"));
  ASSERT_FALSE(link.got.empty());
  EXPECT_EQ(link.got[0].type, TunnelFrameType::open_ok) << "accepted at once: nothing to connect";
  request(1, "GET / HTTP/1.0\r\n");
  request(1, "\r\n");
  bool fin = false;
  const std::string response = link.data_of(1, fin);
  EXPECT_TRUE(fin) << "FIN after the page";
  EXPECT_EQ(response.rfind("HTTP/1.0 200 OK\r\n", 0), 0u) << response;
  EXPECT_NE(response.find("\nstate: licensed\n"), std::string::npos) << "the agent's own state: " << response;
  EXPECT_NE(response.find("features feature-100-of-this-appliance=1 "), std::string::npos) << response;
  EXPECT_NE(response.find(" feature-115-of-this-appliance=16\n"), std::string::npos) << response;
  EXPECT_NE(response.find("\nlink: up, port 443\n"), std::string::npos) << response;
  EXPECT_GT(response.size(), 600u) << "the page spans several frames of max_frame_bytes";
  EXPECT_EQ(driver.calls, 0) << "no lookup, no socket";

  EXPECT_EQ(rig.agent->snapshot().tunnels.size(), 1u) << "listed while open";
  EXPECT_EQ(rig.agent->snapshot().tunnels[0].service, "status");
  in(TunnelFrame::fin(1));
  EXPECT_TRUE(rig.agent->snapshot().tunnels.empty()) << "FIN both ways ends the channel";
  EXPECT_EQ(page.sessions_in_use(), 0u);
  const auto kinds = event_kinds();
  EXPECT_NE(std::find(kinds.begin(), kinds.end(), "tunnel_opened"), kinds.end());
  EXPECT_NE(std::find(kinds.begin(), kinds.end(), "tunnel_closed"), kinds.end());
}

TEST_F(AgentTunnelHandlerTest, ParallelChannelsGetTheirOwnAnswersAndTheSessionsAreBounded) {
  in(TunnelFrame::open(1, 65536, "status"));
  in(TunnelFrame::open(2, 65536, "status"));
  in(TunnelFrame::open(3, 65536, "status"));
  bool refused = false;
  for (const auto& f : link.got) {
    refused |= f.type == TunnelFrameType::rst && f.channel == 3 && f.reason == static_cast<uint8_t>(TunnelReset::no_memory);
  }
  EXPECT_TRUE(refused) << "a third status channel: the page has kSessions";
  request(2, "POST / HTTP/1.0\r\n\r\n");
  request(1, "GET / HTTP/1.0\r\n\r\n");
  bool fin1 = false, fin2 = false;
  EXPECT_EQ(link.data_of(1, fin1).rfind("HTTP/1.0 200 OK\r\n", 0), 0u);
  EXPECT_EQ(link.data_of(2, fin2).rfind("HTTP/1.0 405 Method Not Allowed\r\n", 0), 0u);
  EXPECT_TRUE(fin1 && fin2);
}

TEST_F(AgentTunnelHandlerTest, LinkLossFreesTheHandlersSessions) {
  in(TunnelFrame::open(1, 65536, "status"));
  request(1, "GET / HT");
  EXPECT_EQ(page.sessions_in_use(), 1u);
  rig.link_down();
  EXPECT_EQ(page.sessions_in_use(), 0u);
}

TEST_F(AgentTunnelHandlerTest, TheBoardsTunnelMemoryIsStated) {
  // mps2-an385: 2 channels of a 2048-byte window, lwIP reads of at most
  // 4380 bytes: a receive queue of 4096 (early data), a send queue of
  // 2048 + 4380 per channel, and the records.
  TunnelSettings board;
  board.max_channels = 2;
  board.window = 2048;
  board.local_read_bytes = 4380;
  const size_t queues = 2 * (kTunnelMaxEarlyData + 2048 + 4380);
  EXPECT_GE(TunnelService::memory_bound(board), queues);
  EXPECT_LE(TunnelService::memory_bound(board), queues + kTunnelMaxFrameBytes + 2 * 512 + 1024);
  TunnelSettings linux_default;
  EXPECT_GT(TunnelService::memory_bound(linux_default), 8 * (65536 + 16384 + kSocketMaxReceive))
      << "the socket backend's reads by default";
}

}  // namespace
}  // namespace sublink::test
