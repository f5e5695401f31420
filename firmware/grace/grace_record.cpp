#include "firmware/grace/grace_record.h"

namespace sublink {

namespace {
constexpr RecordMagic kMagic = {'S', 'L', 'G', 'R'};
constexpr uint8_t kUtcKnown = 0x01;
constexpr uint8_t kWallKnown = 0x02;
}  // namespace

GraceRecordBytes encode_grace_record(const GraceRecord& r) {
  GraceRecordBytes out{};
  RecordWriter w(out, kMagic, kGraceRecordVersion);
  w.u8(static_cast<uint8_t>(r.state));
  w.u8(r.license_held ? 1 : 0);
  w.u8(r.alarm_active ? 1 : 0);
  w.u8(static_cast<uint8_t>((r.utc_ms ? kUtcKnown : 0) | (r.wall_ms ? kWallKnown : 0)));
  w.i64(r.elapsed_ms);
  w.u32(r.alarms_raised);
  w.i64(r.utc_ms.value_or(0));
  w.i64(r.wall_ms.value_or(0));
  w.finish();  // cannot fail: the array is exactly the record's size
  return out;
}

Result<GraceRecord> decode_grace_record(std::span<const uint8_t> bytes) {
  auto body = open_record(bytes, kMagic, kGraceRecordVersion);
  if (!body.ok()) return body.status();
  if (body->size() != kGraceRecordSize - kRecordOverhead) return record_error(RecordFault::bad_length);
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
  if (state >= kLicenseStateCount || held > 1 || alarm > 1 ||
      (flags & ~(kUtcKnown | kWallKnown)) != 0 || r.elapsed_ms < 0) {
    return record_error(RecordFault::bad_value);
  }
  // Features on without a license would be a forged or broken record.
  if ((state == static_cast<uint8_t>(LicenseState::licensed) ||
       state == static_cast<uint8_t>(LicenseState::grace)) && held == 0) {
    return record_error(RecordFault::bad_value);
  }
  r.state = static_cast<LicenseState>(state);
  r.license_held = held == 1;
  r.alarm_active = alarm == 1;
  if (flags & kUtcKnown) r.utc_ms = utc;
  if (flags & kWallKnown) r.wall_ms = wall;
  return r;
}

}  // namespace sublink
