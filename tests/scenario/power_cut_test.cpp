// A power cut inside every single storage write of a full scenario (the
// `full-life` script: license, audits, grace, reboot, power off, revoke, a
// new grant, expiry, back). A reference run counts the writes and the flash
// operations each one takes; then, for each write N, the same run is made
// again with the power cut part-way through write N (a half-programmed word
// or a half-erased sector), the device boots again a second later, and:
//  - every record reads back as its previous value or the one being written;
//  - the agent restored what the records say: the license (or none), grace
//    time not gone back, every stored event still queued;
//  - the run ends licensed with every event stored by the server once,
//    seqs 1..N without a gap, no seq reused for another event.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <set>

#include "firmware/grace/grace_record.h"
#include "firmware/license/license_record.h"
#include "hal/sim/deterministic_random.h"
#include "scenario/scenario_rig.h"

namespace sublink::test {
namespace {

const SimScenario& full_life() {
  const SimScenario* s = find_sim_scenario("full-life");
  EXPECT_NE(s, nullptr);
  return *s;
}

SimWorldSetup full_life_setup() {
  SimWorldSetup setup = scenario_setup(7);
  full_life().configure(setup);
  return setup;
}

// A record as read back: absent, unreadable, or its bytes.
struct ReadBack {
  bool found = false;
  bool corrupt = false;
  std::vector<uint8_t> bytes;
};

ReadBack read_record(SimDevice& device, RecordId id) {
  ReadBack out;
  std::vector<uint8_t> buffer(device.storage().max_record_size());
  Result<size_t> r = device.storage().read(id, buffer);
  if (r.ok()) {
    out.found = true;
    out.bytes.assign(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(*r));
  } else {
    out.corrupt = is_corrupt(r.status());
    EXPECT_TRUE(out.corrupt || is_not_found(r.status())) << reason_name(r.status().reason());
  }
  return out;
}

// What the records held when the device booted, checked against what the
// device was told was stored and the write the power cut interrupted.
// A license record that holds a license in force: not empty (no license),
// not the record of a revoked one.
bool holds_license(const std::optional<std::vector<uint8_t>>& record) {
  if (!record || record->empty()) return false;
  static SignedLicense scratch;
  bool revoked = false;
  return read_license_record(*record, scratch, &revoked).ok() && !revoked;
}

struct MountedRecords {
  std::optional<std::vector<uint8_t>> license;
  std::optional<GraceRecord> grace;
  std::set<std::pair<StreamId, uint64_t>> event_seqs;  // (stream, seq)
};

MountedRecords check_records_at_mount(SimWorld& world, const std::string& where) {
  SimDevice& device = world.device();
  MountedRecords seen;
  const SimStorage& storage = device.storage();
  for (RecordId id : {RecordId::license, RecordId::grace, RecordId::usage, RecordId::events, RecordId::boot,
                      RecordId::identity}) {
    const ReadBack now = read_record(device, id);
    const std::optional<std::vector<uint8_t>> before = storage.committed(id);
    const auto& cut = storage.interrupted();
    const bool cut_this_record = cut && cut->write.record == id;
    // Storage's contract: the previous value or the new one, never a mix.
    // A first write cut before it committed has no previous value; the
    // store reports it as damaged (kCorrupt) rather than as never written.
    const bool is_before = before ? (now.found && now.bytes == *before)
                                  : (!now.found && (!now.corrupt || cut_this_record));
    const bool is_new = cut_this_record && now.found && now.bytes == cut->value;
    EXPECT_TRUE(is_before || is_new) << where << ": record " << record_name(id)
                                     << " is neither its previous value nor the one being written";
    if (id == RecordId::license && now.found) seen.license = now.bytes;
    if (id == RecordId::grace && now.found) {
      Result<GraceRecord> g = decode_grace_record(now.bytes);
      EXPECT_TRUE(g.ok()) << where;
      if (g.ok()) seen.grace = *g;
    }
  }
  for (const Event& e : device.stored_events()) seen.event_seqs.insert({e.stream, e.seq});
  // A license, once stored, goes only by a revoke: when the last license
  // event the device recorded is license_applied, its license must still be
  // there unless the server revoked it (the cut may have come between
  // erasing the record and recording license_revoked).
  const Event* last_license_event = nullptr;
  for (const Event& e : device.recorded_events()) {
    if (e.kind == EventKind::license_applied || e.kind == EventKind::license_revoked) last_license_event = &e;
  }
  if (last_license_event && last_license_event->kind == EventKind::license_applied &&
      !holds_license(seen.license)) {
    bool revoked = false;
    for (const RevocationRecord& r : world.server().directory().revocations()) {
      revoked = revoked || r.serial == last_license_event->payload.text_view();
    }
    EXPECT_TRUE(revoked) << where << ": license " << last_license_event->payload.text_view() << " was lost";
  }
  return seen;
}

void check_agent_after_boot(SimDevice& device, const MountedRecords& seen, const std::string& where) {
  const AgentStatus s = device.status();
  const bool license_stored = holds_license(seen.license);
  EXPECT_EQ(s.license_held, license_stored) << where << ": the license is what the record holds";
  if (seen.grace && (seen.grace->state == LicenseState::grace || seen.grace->state == LicenseState::expired)) {
    EXPECT_GE(s.grace_elapsed_s * 1000 + 999, seen.grace->elapsed_ms) << where << ": grace time went back";
    EXPECT_TRUE(s.state == LicenseState::grace || s.state == LicenseState::expired) << where;
    if (seen.grace->state == LicenseState::expired) {
      EXPECT_EQ(s.state, LicenseState::expired) << where;
    }
  }
  if (license_stored && !(seen.grace && seen.grace->license_held)) {
    EXPECT_EQ(s.state, LicenseState::expired) << where << ": a license without its grace account gets no fresh grace";
  }
  if (!license_stored) {
    EXPECT_FALSE(device.agent()->feature_enabled("trunks")) << where;
  }
  std::set<std::pair<StreamId, uint64_t>> after;
  for (const Event& e : device.stored_events()) after.insert({e.stream, e.seq});
  for (const auto& key : seen.event_seqs) {
    EXPECT_TRUE(after.count(key)) << where << ": event #" << key.second << " lost at boot";
  }
}

TEST(PowerCut, EveryStorageWriteOfAFullScenario) {
  std::vector<SimWrite> reference;
  {
    SimWorld world(full_life_setup());
    ASSERT_TRUE(world.start().ok());
    ASSERT_TRUE(full_life().run(world, nullptr)) << timeline_text(world);
    ASSERT_TRUE(delivered_exactly_once(world));
    reference = world.device().storage().ledger();
  }
  ASSERT_GT(reference.size(), 30u);
  std::set<RecordId> kinds;
  for (const SimWrite& w : reference) kinds.insert(w.record);
  EXPECT_EQ(kinds.size(), 6u) << "the scenario writes every record";

  int checked = 0;
  for (const SimWrite& target : reference) {
    const std::string where = "cut in write #" + std::to_string(target.index) + " (" + record_name(target.record) + ")";
    SCOPED_TRACE(where);
    ASSERT_GT(target.flash_operations, 0u);
    DeterministicRandom pick(target.index);
    const uint64_t operations_in = pick.uniform(target.flash_operations - 1);

    SimWorld world(full_life_setup());
    SimDevice& device = world.device();
    device.cut_power_in_write(target.index, operations_in);
    device.set_power_back_after_cut(kSecondMs);
    bool checked_this_run = false;
    MountedRecords seen;
    device.set_boot_observer([&](SimDevice& d, SimBootPhase phase) {
      if (d.power_cuts() == 0 || checked_this_run) return;
      if (phase == SimBootPhase::mounted) {
        seen = check_records_at_mount(world, where);
      } else {
        check_agent_after_boot(d, seen, where);
        checked_this_run = true;
      }
    });
    ASSERT_TRUE(world.start().ok());
    const bool converged = full_life().run(world, nullptr);
    ASSERT_EQ(device.power_cuts(), 1u) << timeline_text(world);
    EXPECT_FALSE(device.storage().cut_missed());
    ASSERT_TRUE(checked_this_run);
    EXPECT_TRUE(converged) << timeline_text(world);
    EXPECT_EQ(device.status().state, LicenseState::licensed);
    EXPECT_TRUE(delivered_exactly_once(world)) << timeline_text(world);
    if (::testing::Test::HasFailure()) break;  // one failing point tells the story
    ++checked;
  }
  EXPECT_EQ(checked, static_cast<int>(reference.size())) << "a cut inside every write";
  RecordProperty("power_cut_points", checked);
  std::printf("[ sim      ] power cut inside each of %d storage writes: every one checked\n", checked);
}

TEST(PowerCut, ManyRandomCutsInOneLife) {
  // About one write in five cut at a random operation, the power back a
  // second later each time: the device still ends licensed with every event
  // it stored delivered once, whatever the seed.
  uint64_t cuts = 0;
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    SimWorld world(full_life_setup());
    world.device().cut_power_randomly(5, seed);
    world.device().set_power_back_after_cut(kSecondMs);
    ASSERT_TRUE(world.start().ok());
    EXPECT_TRUE(full_life().run(world, nullptr)) << timeline_text(world);
    EXPECT_EQ(world.device().status().state, LicenseState::licensed);
    EXPECT_TRUE(delivered_exactly_once(world)) << timeline_text(world);
    EXPECT_GE(world.device().power_cuts(), 5u);
    cuts += world.device().power_cuts();
  }
  RecordProperty("random_power_cuts", static_cast<int>(cuts));
}

}  // namespace
}  // namespace sublink::test
