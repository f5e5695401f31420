// Tunnels through the simulated link at the seed's worst link (200 ms
// round trip, 128 kbit/s): two bulk channels saturate it while a small
// request is answered and heartbeats go on (boards/sim/sim_tunnel_exchange.h,
// also the sublink-sim scenario "tunnels-worst-link").
#include <gtest/gtest.h>

#include <functional>

#include "boards/sim/sim_scenarios.h"
#include "boards/sim/sim_tunnel_exchange.h"
#include "sim/sim_pki.h"

namespace sublink::test {
namespace {

class SimTunnelTest : public ::testing::Test {
 protected:
  void SetUp() override { start(12, [](SimWorldSetup&) {}); }
  // A world at the worst link with the tunnel services, changed by `adjust`,
  // licensed and with its first events delivered.
  void start(uint64_t seed, const std::function<void(SimWorldSetup&)>& adjust) {
    std::string why;
    const SimCredentials* credentials = sim_credentials(&why);
    ASSERT_NE(credentials, nullptr) << why;
    SimWorldSetup setup;
    setup.credentials = credentials;
    setup.seed = seed;
    sim_configure_tunnels(setup);
    adjust(setup);
    world_ = std::make_unique<SimWorld>(setup);
    ASSERT_TRUE(world_->start().ok());
    ASSERT_TRUE(sim_until_licensed(*world_, 2 * 60 * kSecondMs)) << timeline();
    ASSERT_TRUE(sim_until_events_delivered(*world_, 2 * 60 * kSecondMs)) << timeline();
  }
  std::string timeline() const {
    std::string out;
    for (const std::string& line : world_->timeline().lines()) out += line + "\n";
    return out.size() > 20000 ? out.substr(out.size() - 20000) : out;
  }
  std::string said(const SimTunnelReport& r) const {
    std::string out;
    for (const std::string& line : r.lines()) out += line + "\n";
    return out;
  }

  std::unique_ptr<SimWorld> world_;
};

TEST_F(SimTunnelTest, ChannelsAtTheWorstLinkStayWholeFairAndHeartbeatsKeepTheirInterval) {
  SimTunnelReport r;
  ASSERT_TRUE(sim_tunnel_exchange(*world_, r)) << said(r) << timeline();
  // Correct: every byte of every channel, in order, and each ended by FIN
  // both ways.
  ASSERT_EQ(r.channels.size(), 3u);
  for (const SimTunnelReport::Channel& c : r.channels) {
    EXPECT_TRUE(c.whole) << c.service << ": " << said(r);
    EXPECT_EQ(c.end, "fin") << c.service << ": " << said(r);
  }
  // Fair: the small answer goes out with its OPEN_OK's turn, not behind the
  // bulk channels' queued bytes: at most one DATA frame of each saturated
  // channel, then its own (2000 bytes), ahead of it on the wire.
  EXPECT_GE(r.small_wait_ms, 0) << said(r);
  EXPECT_LE(r.small_wait_ms, 2 * r.frame_ms + r.frame_ms / 4) << said(r);
  // ... and the bulk channels share the link: neither is ever more than a
  // DATA frame (and the frame in flight) ahead of the other.
  EXPECT_LE(r.bulk_share_gap, 2 * kTunnelMaxData) << said(r);
  // Heartbeats: the link held, and no two heartbeats reached the server
  // further apart than the interval plus what can be ahead of one: the
  // simulated TCP window (64 KiB in flight, 4 s at 128 kbit/s) and the one
  // DATA frame the agent lets wait in the link.
  EXPECT_EQ(r.relinks, 0u) << said(r) << timeline();
  const Millis window_drain = static_cast<Millis>(SimNetwork::kWindowBytes * 8 * 1000 / 128000);
  EXPECT_GT(r.heartbeat_gap_ms, 0) << "heartbeats arrived during the exchange: " << said(r);
  EXPECT_LE(r.heartbeat_gap_ms, r.heartbeat_interval_ms + window_drain + r.frame_ms) << said(r);
}

// Collects what the device's local connections bring.
class CollectingService final : public SimConnectionHandler {
 public:
  void accept(SimConnection& c) { c.set_handler(this); }
  void on_data(SimConnection& /*c*/, std::span<const uint8_t> bytes) override {
    got.insert(got.end(), bytes.begin(), bytes.end());
  }
  void on_closed(SimConnection& /*c*/, Status /*why*/) override {}
  std::vector<uint8_t> got;
};

class SimTunnelEarlyData : public SimTunnelTest {
 protected:
  void SetUp() override {}
};

TEST_F(SimTunnelEarlyData, ABoardSizedDeviceTakesTheLargestEarlyDataInOneFrame) {
  // A device with the board's limits: messages of 4096 bytes, a 2 KiB window.
  // PROTOCOL.md section 6 lets the server send 4096 bytes of early data
  // behind OPEN, and one DATA frame of them is a 4099-byte message: the
  // device takes it, and the link stays up.
  start(13, [](SimWorldSetup& setup) {
    setup.device_config.max_message_bytes = 4096;
    setup.device_config.tunnel_window_bytes = 2048;
  });
  ASSERT_TRUE(world_);
  SimWorld& world = *world_;
  CollectingService service;
  world.net().listen(IpAddress::parse(kSimLanHost), kSimAnswerPort, [&](SimConnection& c) { service.accept(c); });
  SimServer& server = world.server();
  const uint64_t welcomes = server.welcomes();
  std::vector<uint8_t> request(kTunnelMaxEarlyData);
  for (size_t i = 0; i < request.size(); ++i) request[i] = static_cast<uint8_t>(i * 7 + 1);
  const std::optional<size_t> channel = server.open_channel("answer", "ops");
  ASSERT_TRUE(channel.has_value());
  ASSERT_EQ(server.channel_write(*channel, request), request.size()) << "all of it goes as early data";
  EXPECT_TRUE(world.run_until([&] { return service.got.size() >= request.size(); }, 60 * kSecondMs, 10));
  EXPECT_EQ(service.got, request);
  EXPECT_EQ(server.welcomes(), welcomes) << "the link stayed up";
  EXPECT_FALSE(server.channels()[*channel].closed.has_value())
      << "the channel is still open: " << server.channels()[*channel].closed->reason_name();
}

}  // namespace
}  // namespace sublink::test
