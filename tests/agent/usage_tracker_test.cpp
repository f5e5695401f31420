#include "firmware/agent/usage_tracker.h"

#include <gtest/gtest.h>

#include "firmware/events/record_codec.h"

#include <vector>

namespace sublink {
namespace {

const FeatureRequest kFeatures[] = {{"trunks", 30}, {"recording", 1}};

TEST(UsageTracker, TracksPeakAndRestartsItOnAcknowledge) {
  UsageTracker u;
  u.configure(kFeatures);
  ASSERT_TRUE(u.report("trunks", 9).ok());
  ASSERT_TRUE(u.report("trunks", 4).ok());
  EXPECT_EQ(u.usage()[0].peak, 9);
  EXPECT_EQ(u.usage()[0].in_use, 4);
  u.start_period(100);
  u.start_period(200);
  EXPECT_EQ(u.period_from(), 100) << "an open period keeps its start";
  u.acknowledge(500);
  EXPECT_EQ(u.period_from(), 500);
  EXPECT_EQ(u.last_ack(), 500);
  EXPECT_EQ(u.usage()[0].peak, 4);
}

TEST(UsageTracker, RecordRoundTripsAndRejectsDamage) {
  UsageTracker u;
  u.configure(kFeatures);
  ASSERT_TRUE(u.report("recording", 1).ok());
  u.start_period(42);
  std::vector<uint8_t> bytes(kMaxUsageRecordBytes);
  auto size = u.encode(bytes);
  ASSERT_TRUE(size.ok());
  bytes.resize(*size);
  UsageTracker back;
  back.configure(kFeatures);
  ASSERT_TRUE(back.restore(bytes).ok());
  EXPECT_EQ(back.period_from(), 42);
  EXPECT_EQ(back.usage()[1].peak, 1);
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::vector<uint8_t> bad = bytes;
    bad[i] ^= 0x01;
    UsageTracker t;
    t.configure(kFeatures);
    EXPECT_FALSE(t.restore(bad).ok()) << "flipped byte " << i;
    EXPECT_FALSE(t.period_from().has_value());
  }
  UsageTracker t;
  t.configure(kFeatures);
  EXPECT_FALSE(t.restore({bytes.data(), bytes.size() - 1}).ok());
}

// Found by fuzz/record_usage_fuzz.cpp: a period time flagged absent with a
// value behind it was taken, and encoded back as 0: a record that did not
// re-encode to its own bytes. Absent is stored as 0 and nothing else.
TEST(UsageTracker, AnAbsentTimeIsStoredAsZeroAndNothingElse) {
  UsageTracker u;
  u.configure(kFeatures);
  std::vector<uint8_t> bytes(kMaxUsageRecordBytes);
  Result<size_t> size = u.encode(bytes);  // no period yet: from and last_ack absent
  ASSERT_TRUE(size.ok());
  bytes.resize(*size);
  UsageTracker back;
  back.configure(kFeatures);
  ASSERT_TRUE(back.restore(bytes).ok());
  // Body: from (flag u8, i64), last_ack (flag u8, i64), ...; re-framed with a good CRC.
  for (size_t value_at : {1u, 10u}) {
    std::vector<uint8_t> body(bytes.begin() + kRecordHeaderSize, bytes.end() - kRecordTrailerSize);
    body[value_at] = 0x2a;
    std::vector<uint8_t> forged(bytes.size());
    RecordWriter w(forged, {'S', 'L', 'U', 'S'}, 1);
    w.bytes(body);
    ASSERT_TRUE(w.finish().ok());
    UsageTracker t;
    t.configure(kFeatures);
    EXPECT_FALSE(t.restore(forged).ok()) << "value at body byte " << value_at;
    EXPECT_STREQ(t.problem(), value_at == 1 ? "from" : "last_ack");
  }
}

TEST(UsageTracker, NeverWritesARecordItWouldRefuseToReadBack) {
  UsageTracker u;
  u.configure(kFeatures);
  std::vector<uint8_t> bytes(kMaxUsageRecordBytes);
  u.start_period(kMaxLicenseTimeMs + 1);  // a server clock beyond the stated range
  Result<size_t> size = u.encode(bytes);
  EXPECT_FALSE(size.ok()) << "refused instead of written";
  EXPECT_STREQ(u.problem(), "from");

  UsageTracker v;
  v.configure(kFeatures);
  v.start_period(100);
  v.acknowledge(kMaxLicenseTimeMs);
  size = v.encode(bytes);
  ASSERT_TRUE(size.ok()) << "the top of the range is in range";
  UsageTracker back;
  back.configure(kFeatures);
  EXPECT_TRUE(back.restore({bytes.data(), *size}).ok()) << back.problem();
  EXPECT_EQ(back.last_ack(), kMaxLicenseTimeMs);
}

// A usage record around a hand-made body: from and last_ack absent, then
// what `features` appends (count, then name length, name, peak each).
std::vector<uint8_t> usage_record(const std::vector<uint8_t>& features) {
  std::vector<uint8_t> body(18, 0);
  body.insert(body.end(), features.begin(), features.end());
  std::vector<uint8_t> out(kRecordOverhead + body.size());
  RecordWriter w(out, {'S', 'L', 'U', 'S'}, 1);
  w.bytes(body);
  EXPECT_TRUE(w.finish().ok());
  return out;
}

// One feature entry: name length, name, peak (little endian).
std::vector<uint8_t> feature_entry(std::string_view name, int64_t peak) {
  std::vector<uint8_t> e{static_cast<uint8_t>(name.size())};
  e.insert(e.end(), name.begin(), name.end());
  for (int i = 0; i < 8; ++i) e.push_back(static_cast<uint8_t>(static_cast<uint64_t>(peak) >> (8 * i)));
  return e;
}

std::vector<uint8_t> concat(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

TEST(UsageTracker, AForgedRecordIsRefusedNamingItsFieldAndThePeaksStay) {
  UsageTracker u;
  u.configure(kFeatures);
  ASSERT_TRUE(u.report("trunks", 7).ok());
  ASSERT_TRUE(u.restore(usage_record(concat({{1}, feature_entry("trunks", 3)}))).ok())
      << "a lower stored peak does not lower the live one";
  EXPECT_EQ(u.usage()[0].peak, 7);
  ASSERT_TRUE(u.restore(usage_record(concat({{1}, feature_entry("trunks", 12)}))).ok());
  EXPECT_EQ(u.usage()[0].peak, 12) << "a higher stored peak survives the reboot";

  auto refused = [&](const std::vector<uint8_t>& record, RecordFault fault, const char* field) {
    Status s = u.restore(record);
    EXPECT_EQ(s.reason(), Reason::invalid_payload) << field;
    EXPECT_EQ(s.detail(), static_cast<int32_t>(fault)) << field;
    EXPECT_STREQ(u.problem(), field);
    EXPECT_EQ(u.usage()[0].peak, 12) << field << ": nothing taken from a refused record";
  };
  refused(usage_record({static_cast<uint8_t>(kMaxLicenseFeatures + 1)}), RecordFault::bad_value, "features");
  refused(usage_record({1, static_cast<uint8_t>(kMaxFeatureNameLength + 1)}), RecordFault::bad_value, "name");
  refused(usage_record(concat({{2}, feature_entry("trunks", 20), feature_entry("trunks", 1)})), RecordFault::bad_value,
          "name");  // named twice: which peak holds?
  refused(usage_record(concat({{1}, feature_entry("trunks", kMaxFeatureQuantity + 1)})), RecordFault::bad_value,
          "peak");
  // A feature count beyond the bytes, then bytes after the last feature.
  refused(usage_record(concat({{2}, feature_entry("trunks", 20)})), RecordFault::bad_length, "length");
  refused(usage_record(concat({{1}, feature_entry("trunks", 20), {0}})), RecordFault::bad_length, "length");
  std::vector<uint8_t> body(19, 0);
  body[0] = 2;  // presence flag neither 0 nor 1
  std::vector<uint8_t> forged(kRecordOverhead + body.size());
  RecordWriter w(forged, {'S', 'L', 'U', 'S'}, 1);
  w.bytes(body);
  ASSERT_TRUE(w.finish().ok());
  refused(forged, RecordFault::bad_value, "from");
}

TEST(UsageTracker, AnEncodeIntoTooSmallABufferFailsAndTheRecordStaysDirty) {
  UsageTracker u;
  u.configure(kFeatures);
  ASSERT_TRUE(u.report("trunks", 3).ok());
  ASSERT_TRUE(u.dirty());
  std::vector<uint8_t> small(kRecordOverhead + 4);
  EXPECT_EQ(u.encode(small).status().reason(), Reason::out_of_memory);
  EXPECT_TRUE(u.dirty()) << "the peak is still to be stored";
  std::vector<uint8_t> bytes(kMaxUsageRecordBytes);
  ASSERT_TRUE(u.encode(bytes).ok());
  EXPECT_FALSE(u.dirty());
}

}  // namespace
}  // namespace sublink
