#include "firmware/grace/grace_record.h"

#include <algorithm>

namespace sublink {

namespace {
constexpr RecordMagic kMagic = {'S', 'L', 'G', 'R'};
constexpr uint8_t kUtcKnown = 0x01;
constexpr uint8_t kWallKnown = 0x02;
constexpr uint8_t kCleanStop = 0x04;

bool in(Millis v, Millis lo, Millis hi) { return v >= lo && v <= hi; }

// Never writes what it would refuse to read: numbers are clamped into range
// and the flags only say what the record can hold.
GraceRecord clamped(GraceRecord r) {
  r.elapsed_ms = std::clamp<Millis>(r.elapsed_ms, 0, kMaxGraceDurationMs);
  r.unmeasured_ms = std::clamp<Millis>(r.unmeasured_ms, 0, r.elapsed_ms);
  r.alarms_raised = std::min(r.alarms_raised, kMaxGraceAlarms);
  if (r.utc_ms) r.utc_ms = std::clamp<Millis>(*r.utc_ms, 0, kMaxRecordUtcMs);
  if (r.wall_ms) r.wall_ms = std::clamp<Millis>(*r.wall_ms, 0, kMaxRecordUtcMs);
  if (static_cast<uint8_t>(r.state) >= kLicenseStateCount) r.state = LicenseState::expired;
  if (features_on(r.state) && !r.license_held) r.state = LicenseState::expired;
  return r;
}
}  // namespace

bool grace_record_in_range(const GraceRecord& r) {
  if (static_cast<uint8_t>(r.state) >= kLicenseStateCount) return false;
  // Features on without a license would be a forged or broken record.
  if (features_on(r.state) && !r.license_held) return false;
  if (!in(r.elapsed_ms, 0, kMaxGraceDurationMs)) return false;
  // What was charged unmeasured is part of the elapsed time.
  if (!in(r.unmeasured_ms, 0, r.elapsed_ms)) return false;
  if (r.alarms_raised > kMaxGraceAlarms) return false;
  if (r.utc_ms && !in(*r.utc_ms, 0, kMaxRecordUtcMs)) return false;
  if (r.wall_ms && !in(*r.wall_ms, 0, kMaxRecordUtcMs)) return false;
  return true;
}

GraceRecordBytes encode_grace_record(const GraceRecord& record) {
  const GraceRecord r = clamped(record);
  GraceRecordBytes out{};
  RecordWriter w(out, kMagic, kGraceRecordVersion);
  w.u8(static_cast<uint8_t>(r.state));
  w.u8(r.license_held ? 1 : 0);
  w.u8(r.alarm_active ? 1 : 0);
  w.u8(static_cast<uint8_t>((r.utc_ms ? kUtcKnown : 0) | (r.wall_ms ? kWallKnown : 0) |
                            (r.clean_stop ? kCleanStop : 0)));
  w.i64(r.elapsed_ms);
  w.u32(r.alarms_raised);
  w.i64(r.utc_ms.value_or(0));
  w.i64(r.wall_ms.value_or(0));
  w.i64(r.unmeasured_ms);
  (void)w.finish();  // cannot fail: the array is exactly the record's size
  return out;
}

Result<GraceRecord> decode_grace_record(std::span<const uint8_t> bytes) {
  uint16_t version = kGraceRecordVersion;
  auto body = open_record(bytes, kMagic, kGraceRecordVersion);
  if (!body.ok() && body.status().detail() == static_cast<int32_t>(RecordFault::unsupported_version)) {
    version = kGraceRecordVersion1;
    body = open_record(bytes, kMagic, kGraceRecordVersion1);
  }
  if (!body.ok()) return body.status();
  const size_t expected = (version == kGraceRecordVersion ? kGraceRecordSize : kGraceRecordSizeV1) - kRecordOverhead;
  if (body->size() != expected) return record_error(RecordFault::bad_length);
  RecordReader rd(*body);
  uint8_t state = rd.u8();
  uint8_t held = rd.u8();
  uint8_t alarm = rd.u8();
  uint8_t flags = rd.u8();
  GraceRecord r;
  r.elapsed_ms = rd.i64();
  r.alarms_raised = rd.u32();
  Millis utc = rd.i64();
  Millis wall = rd.i64();
  if (version == kGraceRecordVersion) r.unmeasured_ms = rd.i64();
  const uint8_t known_flags = version == kGraceRecordVersion ? (kUtcKnown | kWallKnown | kCleanStop)
                                                             : (kUtcKnown | kWallKnown);
  if (state >= kLicenseStateCount || held > 1 || alarm > 1 || (flags & ~known_flags) != 0) {
    return record_error(RecordFault::bad_value);
  }
  // A time not known is stored as 0: one encoding per state.
  if ((!(flags & kUtcKnown) && utc != 0) || (!(flags & kWallKnown) && wall != 0)) {
    return record_error(RecordFault::bad_value);
  }
  r.state = static_cast<LicenseState>(state);
  r.license_held = held == 1;
  r.alarm_active = alarm == 1;
  r.clean_stop = (flags & kCleanStop) != 0;
  if (flags & kUtcKnown) r.utc_ms = utc;
  if (flags & kWallKnown) r.wall_ms = wall;
  if (!grace_record_in_range(r)) return record_error(RecordFault::bad_value);
  return r;
}

}  // namespace sublink
