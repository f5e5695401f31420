// What survives a reboot, what a damaged record does, and a power cut at
// every storage write of a short scenario.
#include <gtest/gtest.h>

#include "firmware/agent/boot_counter.h"

#include <algorithm>

#include "agent/agent_rig.h"
#include "hal/flash/flash_record_store.h"
#include "hal/flash/sim_nor_flash.h"

namespace sublink::test {
namespace {

void license_and_drop(AgentRig& rig) {
  rig.link_up();
  rig.welcome(kT0);
  rig.server(rig.grant_json(LicenseSpec{}));
  rig.link_down();
}

std::string events_answer(AgentRig& rig) {
  rig.link_up();
  rig.welcome(kT0 + kSec);
  rig.server(R"({"type":"request","id":900,"method":"events.get"})");
  return rig.channel.sent.back();
}

TEST(AgentStorage, BootCounterCountsEveryBoot) {
  AgentRig rig;
  for (int i = 1; i <= 3; ++i) {
    ASSERT_TRUE(rig.boot().ok());
    EXPECT_EQ(rig.agent->snapshot().boot, static_cast<uint64_t>(i));
  }
}

TEST(AgentStorage, LicenseAndGraceSurviveAReboot) {
  AgentRig rig;
  ASSERT_TRUE(rig.boot().ok());
  license_and_drop(rig);
  rig.run_for(3 * 86400 * kSec);
  ASSERT_TRUE(rig.boot().ok());
  EXPECT_EQ(rig.agent->state(), LicenseState::grace);
  EXPECT_TRUE(rig.agent->feature_enabled("trunks"));
  EXPECT_GE(rig.agent->snapshot().grace_elapsed_s, 2 * 86400) << "grace goes on from the last checkpoint";
  EXPECT_EQ(rig.agent->snapshot().serial, "L-1");
}

TEST(AgentStorage, OrderlyShutdownClosesWith1001AndKeepsEveryGraceSecond) {
  AgentRig rig;
  rig.config.grace.checkpoint_interval = 3600 * kSec;
  ASSERT_TRUE(rig.boot().ok());
  license_and_drop(rig);
  rig.link_up();
  rig.welcome(kT0 + kSec);
  rig.link_down();
  rig.run_for(50 * 60 * kSec);  // 50 minutes: no hourly checkpoint yet
  rig.agent->shutdown(rig.mono.now);
  EXPECT_EQ(rig.channel.closes.size(), 1u) << "a link that is down stops reconnecting too";
  ASSERT_TRUE(rig.boot().ok());
  EXPECT_GE(rig.agent->snapshot().grace_elapsed_s, 50 * 60) << "a clean stop stores the grace time up to the stop";

  rig.link_up();
  rig.welcome(kT0 + 2 * kSec);
  rig.agent->shutdown(rig.mono.now);
  ASSERT_FALSE(rig.channel.closes.empty());
  EXPECT_EQ(rig.channel.closes.back(), 1001) << "going away";
  EXPECT_EQ(rig.agent->state(), LicenseState::grace) << "a stop interrupts the link like any other";
}

TEST(AgentStorage, MissingGraceRecordDoesNotGrantAFreshGrace) {
  AgentRig rig;
  ASSERT_TRUE(rig.boot().ok());
  license_and_drop(rig);
  rig.memory.records.erase(RecordId::grace);
  ASSERT_TRUE(rig.boot().ok());
  EXPECT_EQ(rig.agent->state(), LicenseState::expired);
  EXPECT_FALSE(rig.agent->feature_enabled("trunks"));
  rig.link_up();
  rig.welcome(kT0 + 3600 * kSec);
  EXPECT_EQ(rig.agent->state(), LicenseState::licensed) << "the stored license is back in force once the server vouches";
  EXPECT_TRUE(rig.agent->feature_enabled("trunks"));
}

TEST(AgentStorage, CorruptGraceRecordIsReportedAndDoesNotGrantGrace) {
  AgentRig rig;
  ASSERT_TRUE(rig.boot().ok());
  license_and_drop(rig);
  rig.memory.records[RecordId::grace][12] ^= 0x40;
  ASSERT_TRUE(rig.boot().ok());
  EXPECT_EQ(rig.agent->state(), LicenseState::expired);
  std::string answer = events_answer(rig);
  EXPECT_NE(answer.find(R"("kind":"record_damaged")"), std::string::npos);
  EXPECT_NE(answer.find(R"("record":"grace")"), std::string::npos);
}

TEST(AgentStorage, TamperedLicenseRecordIsRefusedAtBoot) {
  AgentRig rig;
  ASSERT_TRUE(rig.boot().ok());
  license_and_drop(rig);
  std::vector<uint8_t>& lic = rig.memory.records[RecordId::license];
  auto at = std::search(lic.begin(), lic.end(), std::begin("\"qty\":30") , std::end("\"qty\":30") - 1);
  ASSERT_NE(at, lic.end());
  at[7] = '9';  // 39 trunks instead of 30
  ASSERT_TRUE(rig.boot().ok());
  EXPECT_FALSE(rig.agent->feature_enabled("trunks"));
  EXPECT_EQ(rig.agent->state(), LicenseState::unlicensed);
  std::string answer = events_answer(rig);
  EXPECT_NE(answer.find(R"("reason":"bad_signature")"), std::string::npos);
}

TEST(AgentStorage, GarbageRecordsEverywhereBootSafely) {
  AgentRig rig;
  for (RecordId id : {RecordId::license, RecordId::grace, RecordId::usage, RecordId::events, RecordId::boot,
                      RecordId::identity}) {
    rig.memory.records[id] = std::vector<uint8_t>(40, 0xA5);
  }
  ASSERT_TRUE(rig.boot().ok());
  EXPECT_EQ(rig.agent->state(), LicenseState::unlicensed);
  EXPECT_EQ(rig.agent->snapshot().boot, 1u);
  std::string answer = events_answer(rig);
  for (const char* name : {"boot", "events", "grace", "usage", "identity"}) {
    EXPECT_NE(answer.find(std::string(R"("record":")") + name + "\""), std::string::npos) << name;
  }
}

TEST(AgentStorage, UndeliveredEventsSurviveAReboot) {
  AgentRig rig;
  ASSERT_TRUE(rig.boot().ok());
  license_and_drop(rig);
  size_t pending = rig.agent->snapshot().events_pending;
  ASSERT_GT(pending, 0u);
  ASSERT_TRUE(rig.boot().ok());
  EXPECT_GE(rig.agent->snapshot().events_pending, pending);
  rig.link_up();
  rig.welcome(kT0 + 10 * kSec);
  EXPECT_NE(rig.channel.sent.back().find("license_applied"), std::string::npos);
}

TEST(AgentStorage, LastAcknowledgedAuditSurvivesAReboot) {
  AgentRig rig;
  ASSERT_TRUE(rig.boot().ok());
  rig.link_up();
  rig.welcome(kT0);
  rig.server(rig.grant_json(LicenseSpec{}));
  rig.server(R"({"type":"request","id":7,"method":"audit.now"})");
  auto audit = rig.sent_of("license_audit");
  ASSERT_EQ(audit.size(), 1u);
  rig.server(R"({"type":"audit_ack","re":)" + std::to_string(audit[0]->integer("id")) + R"(,"status":"ok"})");
  ASSERT_TRUE(rig.boot().ok());
  rig.link_up();
  rig.welcome(kT0 + 60 * kSec);
  EXPECT_TRUE(rig.sent_of("license_audit").empty()) << "the last audit is younger than audit_s";
}

// Power cut at each flash operation of a short scenario (license granted,
// link lost): after the reboot the device is never both without a stored
// license and with features on, and never in a fresh grace it did not earn.
TEST(AgentStorage, PowerCutAtEveryFlashOperationLeavesASafeState) {
  NorGeometry geometry;
  geometry.sector_size = 4096;
  geometry.word_size = 4;
  geometry.sector_count = 64;
  FlashLayout layout;
  layout.record_count = 6;
  layout.max_record_size = 8192;
  uint64_t total = 0;
  {
    SimNorFlash flash(geometry);
    FlashRecordStore store(flash, layout);
    ASSERT_TRUE(store.layout_status().ok());
    AgentRig rig;
    ASSERT_TRUE(rig.boot(&store).ok());
    license_and_drop(rig);
    total = flash.operations();
  }
  ASSERT_GT(total, 0u);
  int checked = 0;
  for (uint64_t cut = 1; cut < total; cut += std::max<uint64_t>(1, total / 150)) {
    SimNorFlash flash(geometry);
    FlashRecordStore store(flash, layout);
    AgentRig rig;
    flash.cut_power_after(cut);
    (void)rig.boot(&store);
    license_and_drop(rig);
    flash.restore_power();
    FlashRecordStore after(flash, layout);
    (void)rig.boot(&after);  // a record cut mid-write may read as damaged: reported, not fatal
    LicenseState s = rig.agent->state();
    EXPECT_TRUE(s == LicenseState::unlicensed || s == LicenseState::grace || s == LicenseState::expired)
        << "cut after " << cut;
    if (rig.agent->feature_enabled("trunks")) {
      EXPECT_TRUE(rig.agent->snapshot().license_held) << "cut after " << cut;
      EXPECT_EQ(s, LicenseState::grace) << "cut after " << cut;
    }
    ++checked;
  }
  EXPECT_GT(checked, 20);
  RecordProperty("power_cut_points", checked);
  RecordProperty("flash_operations_in_scenario", static_cast<int>(total));
}

TEST(BootRecord, CountOutsideOneToMaxIsRefusedAndNeverWritten) {
  auto decoded = [](uint64_t raw) {
    std::array<uint8_t, kBootRecordSize> bytes{};
    RecordWriter w(bytes, {'S', 'L', 'B', 'C'}, 1);
    w.u64(raw);
    EXPECT_TRUE(w.finish().ok());
    return decode_boot_record(bytes);
  };
  EXPECT_EQ(*decoded(1), 1u);
  EXPECT_EQ(*decoded(kMaxBootCount), kMaxBootCount);
  EXPECT_EQ(decoded(0).status().detail(), static_cast<int32_t>(RecordFault::bad_value));
  EXPECT_EQ(decoded(kMaxBootCount + 1).status().detail(), static_cast<int32_t>(RecordFault::bad_value));
  EXPECT_EQ(decoded(UINT64_MAX).status().detail(), static_cast<int32_t>(RecordFault::bad_value));
  // The counter holds at the top instead of wrapping, and what is encoded decodes.
  EXPECT_EQ(next_boot_count(kMaxBootCount), kMaxBootCount);
  EXPECT_EQ(next_boot_count(0), 1u);
  EXPECT_EQ(*decode_boot_record(encode_boot_record(UINT64_MAX)), kMaxBootCount);
  EXPECT_EQ(*decode_boot_record(encode_boot_record(0)), 1u);
}

}  // namespace
}  // namespace sublink::test
