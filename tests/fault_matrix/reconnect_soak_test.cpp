// The fault matrix row "10,000 consecutive reconnects", on the simulation:
// the whole agent over real TLS 1.2 (Mbed TLS on both sides, one fixed
// arena), the server resetting the link each time it is up. Run here and not
// against the daemon because 10,000 real reconnects of sublinkd take at
// least retry_min_s (1 s) each: hours; in virtual time they take a minute.
// The checks: the Mbed TLS arena's use and high-water mark after the last
// reconnect are those after the 100th (no connection leaves anything behind,
// no handshake needs more); the process's RSS does not grow past what the
// simulation's own records of the run (timeline, deliveries) take; and in
// the host-asan build LeakSanitizer checks at exit that nothing the C++
// heap handed out was leaked. The simulation's own records grow by about
// 5 KiB a reconnect (53 MiB of RSS over the run on the host build), so the
// RSS bound only catches a leak of the size of a TLS connection (36 KiB
// each, 350 MiB over the run); the arena figures are the exact check.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fault_matrix/fault_row.h"
#include "net/tls/tls_arena.h"
#include "scenario/scenario_rig.h"

namespace sublink::test {
namespace {

constexpr int kReconnects = 10000;

TEST(FaultMatrixSoak, TenThousandConsecutiveReconnects) {
  fault_row("10,000 consecutive reconnects",
            "licensed after each; TLS arena use and high-water mark after the last equal those after the 100th; RSS bounded",
            "connection_reset");
  std::vector<uint8_t> memory(4 << 20);
  TlsArena arena(memory);
  SimWorldSetup setup = scenario_setup(7);
  SimWorld world(setup);
  ASSERT_TRUE(world.start().ok());
  ASSERT_TRUE(sim_until_licensed(world)) << timeline_text(world);
  const std::string serial(world.device().status().serial);
  size_t bytes_at_100 = 0, peak_at_100 = 0;
  long rss_at_100 = 0;
  for (int i = 1; i <= kReconnects; ++i) {
    const uint64_t welcomes = world.server().welcomes();
    ASSERT_TRUE(world.server().drop_connection()) << "reconnect " << i;
    ASSERT_TRUE(world.run_until([&] { return world.server().welcomes() > welcomes && world.device().status().link_up; },
                                10 * 60 * kSecondMs, 100))
        << "reconnect " << i << " did not link";
    if (i == 100) {
      bytes_at_100 = TlsArena::current_bytes();
      peak_at_100 = TlsArena::peak_bytes();
      rss_at_100 = rss_kib();
    }
  }
  // 1: running, the model's invariants held at every step.
  EXPECT_TRUE(world.device().on());
  EXPECT_EQ(world.device().invariants_broken(), 0u);
  // 2: each reconnect was for the reset.
  EXPECT_EQ(std::string(world.device().status().last_failure.reason), "connection_reset");
  EXPECT_GE(world.server().welcomes(), static_cast<uint64_t>(kReconnects) + 1);
  // 3: the same license throughout, no grace charged, events once.
  EXPECT_EQ(world.device().status().state, LicenseState::licensed);
  EXPECT_TRUE(world.device().status().license_held);
  EXPECT_EQ(std::string(world.device().status().serial), world.server().directory().issued().back().serial)
      << "the license the server issued last (one per link)";
  EXPECT_NE(std::string(world.device().status().serial), serial);
  EXPECT_LT(world.device().status().grace_elapsed_s, 60);
  ASSERT_TRUE(sim_until_events_delivered(world));
  EXPECT_TRUE(delivered_exactly_once(world));
  // 4: memory.
  const size_t bytes = TlsArena::current_bytes(), peak = TlsArena::peak_bytes();
  const long rss = rss_kib();
  std::printf("tls arena: %zu bytes in use, peak %zu (after 100: %zu, peak %zu); rss %ld KiB (after 100: %ld KiB); "
              "json arena peak %zu\n",
              bytes, peak, bytes_at_100, peak_at_100, rss, rss_at_100, world.device().json_high_water());
  EXPECT_LE(bytes, bytes_at_100 + 1024);
  EXPECT_LE(peak, peak_at_100 + 4096);
  EXPECT_LT(rss - rss_at_100, 128 * 1024) << "RSS grew " << rss - rss_at_100 << " KiB";
}

}  // namespace
}  // namespace sublink::test
