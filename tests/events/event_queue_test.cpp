#include "firmware/events/event_queue.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "firmware/events/record_codec.h"

namespace sublink {
namespace {

std::vector<uint8_t> save(const EventQueue& q) {
  std::vector<uint8_t> bytes(EventQueue::max_serialized_size(q.capacity()));
  auto n = q.serialize(bytes);
  EXPECT_TRUE(n.ok());
  bytes.resize(*n);
  return bytes;
}

std::vector<uint64_t> seqs(std::span<const Event> events) {
  std::vector<uint64_t> out;
  for (const auto& e : events) out.push_back(e.seq);
  return out;
}

// Every seq that was ever issued is either still queued or counted by a summary.
uint64_t events_accounted(const EventQueue& q) {
  uint64_t n = 0;
  for (const auto& e : q.events()) {
    n += e.kind == EventKind::events_summarised ? e.payload.count : 1;
  }
  return n;
}

TEST(EventNames, EveryKindAndSeverityHasADistinctWireName) {
  std::set<std::string> names;
  for (uint8_t i = 0; i < kEventKindCount; ++i) {
    std::string n{kind_name(static_cast<EventKind>(i))};
    EXPECT_NE(n, "unknown");
    EXPECT_TRUE(names.insert(n).second) << n;
  }
  EXPECT_EQ(kind_name(EventKind::grace_alarm), "grace_alarm");
  EXPECT_EQ(kind_name(EventKind::events_summarised), "events_summarised");
  EXPECT_EQ(kind_name(static_cast<EventKind>(200)), "unknown");
  EXPECT_EQ(severity_name(Severity::critical), "critical");
  EXPECT_EQ(severity_name(static_cast<Severity>(9)), "unknown");
}

TEST(EventPayload, TextIsCutOnAUtf8BoundaryAndStaysTerminated) {
  EventPayload p;
  p.set_text("LIC-0001");
  EXPECT_EQ(p.text_view(), "LIC-0001");
  std::string long_text(30, 'a');
  long_text += "\xC3\xA9\xC3\xA9";  // two 2-byte characters across the cut at 31
  p.set_text(long_text);
  EXPECT_EQ(p.text_view(), std::string(30, 'a'));
  EXPECT_EQ(p.text.back(), '\0');
}

TEST(EventQueue, SeqStartsAtOneAndIncreases) {
  EventQueue q(8);
  EXPECT_EQ(q.push(EventKind::link_up, Severity::info, 1000), 1u);
  EXPECT_EQ(q.push(EventKind::link_down, Severity::info, std::nullopt), 2u);
  EXPECT_EQ(q.next_seq(), 3u);
  ASSERT_EQ(q.size(), 2u);
  EXPECT_EQ(q.events()[0].time_utc_ms, 1000);
  EXPECT_FALSE(q.events()[1].time_utc_ms.has_value());
}

TEST(EventQueue, AckDropsOnlyUpToAndIsIdempotent) {
  EventQueue q(8);
  for (int i = 0; i < 5; ++i) q.push(EventKind::link_up, Severity::info, i);
  EXPECT_TRUE(q.ack(3).ok());
  EXPECT_EQ(seqs(q.events()), (std::vector<uint64_t>{4, 5}));
  EXPECT_TRUE(q.ack(3).ok());  // repeated
  EXPECT_TRUE(q.ack(1).ok());  // older
  EXPECT_EQ(seqs(q.events()), (std::vector<uint64_t>{4, 5}));
}

TEST(EventQueue, AckAboveHighestIssuedSeqIsIgnored) {
  EventQueue q(8);
  for (int i = 0; i < 3; ++i) q.push(EventKind::link_up, Severity::info, i);
  Status s = q.ack(4);  // seq 4 was never issued
  EXPECT_EQ(s.reason(), Reason::invalid_argument);
  EXPECT_EQ(q.size(), 3u);
  EXPECT_FALSE(q.ack(UINT64_MAX).ok());
  EXPECT_EQ(q.size(), 3u);
  EXPECT_TRUE(q.ack(3).ok());
  EXPECT_TRUE(q.empty());
}

TEST(EventQueue, BatchSelectsInOrderAfterWhatIsInFlight) {
  EventQueue q(16);
  for (int i = 0; i < 7; ++i) q.push(EventKind::link_up, Severity::info, i);
  EXPECT_EQ(seqs(q.batch(3)), (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(seqs(q.batch(3, 3)), (std::vector<uint64_t>{4, 5, 6}));
  EXPECT_EQ(seqs(q.batch(3, 6)), (std::vector<uint64_t>{7}));
  EXPECT_TRUE(q.batch(3, 7).empty());
  EXPECT_TRUE(q.batch(0).empty());
  q.ack(2);
  EXPECT_EQ(seqs(q.batch(2)), (std::vector<uint64_t>{3, 4}));
}

TEST(EventQueue, OverflowSummarisesOldestLowSeverityEvents) {
  EventQueue q(4);
  q.push(EventKind::link_down, Severity::info, 10);                // 1
  q.push(EventKind::grace_alarm, Severity::major, 20);             // 2
  q.push(EventKind::link_up, Severity::info, 30);                  // 3
  q.push(EventKind::clock_skew, Severity::info, 40);               // 4
  uint64_t seq = q.push(EventKind::grace_expired, Severity::critical, 50);
  EXPECT_EQ(seq, 6u);  // the summary took 5
  ASSERT_EQ(q.size(), 4u);
  // The alarm survives; info events 1 and 3 became one summary.
  EXPECT_EQ(q.events()[0].seq, 2u);
  EXPECT_EQ(q.events()[0].kind, EventKind::grace_alarm);
  EXPECT_EQ(q.events()[1].seq, 4u);
  const Event& summary = q.events()[2];
  EXPECT_EQ(summary.kind, EventKind::events_summarised);
  EXPECT_EQ(summary.seq, 5u);
  EXPECT_EQ(summary.severity, Severity::info);
  EXPECT_EQ(summary.payload.count, 2u);
  EXPECT_EQ(summary.payload.first_seq, 1u);
  EXPECT_EQ(summary.payload.last_seq, 3u);
  EXPECT_EQ(summary.time_utc_ms, 30);
  EXPECT_EQ(q.events()[3].seq, 6u);
  EXPECT_EQ(events_accounted(q), 5u);
}

TEST(EventQueue, LongOverflowKeepsEveryEventCountedAndSeqOrdered) {
  EventQueue q(5);
  q.push(EventKind::grace_alarm, Severity::critical, 0);
  for (int i = 0; i < 1000; ++i) q.push(EventKind::link_up, Severity::info, i);
  EXPECT_EQ(q.size(), 5u);
  EXPECT_EQ(q.events()[0].kind, EventKind::grace_alarm);  // never folded
  EXPECT_EQ(events_accounted(q), 1001u);
  for (size_t i = 1; i < q.size(); ++i) EXPECT_LT(q.events()[i - 1].seq, q.events()[i].seq);
  // Exactly one summary: a new fold absorbs the previous summary.
  int summaries = 0;
  for (const auto& e : q.events()) summaries += e.kind == EventKind::events_summarised;
  EXPECT_EQ(summaries, 1);
}

TEST(EventQueue, AllHighSeverityFoldsOldestAndKeepsHighestSeverity) {
  EventQueue q(3);
  q.push(EventKind::grace_alarm, Severity::warning, 1);   // 1
  q.push(EventKind::grace_alarm, Severity::major, 2);     // 2
  q.push(EventKind::grace_alarm, Severity::critical, 3);  // 3
  q.push(EventKind::grace_expired, Severity::critical, 4);
  ASSERT_EQ(q.size(), 3u);
  EXPECT_EQ(q.events()[0].seq, 3u);
  const Event& summary = q.events()[1];
  EXPECT_EQ(summary.kind, EventKind::events_summarised);
  EXPECT_EQ(summary.severity, Severity::major);  // not hidden as info
  EXPECT_EQ(summary.payload.count, 2u);
  EXPECT_EQ(summary.payload.first_seq, 1u);
  EXPECT_EQ(summary.payload.last_seq, 2u);
  EXPECT_EQ(events_accounted(q), 4u);
}

TEST(EventQueue, AckOfSummaryDropsIt) {
  EventQueue q(2);
  q.push(EventKind::link_up, Severity::info, 1);
  q.push(EventKind::link_down, Severity::info, 2);
  q.push(EventKind::link_up, Severity::info, 3);  // summary 3 (of 1,2), event 4
  ASSERT_EQ(seqs(q.events()), (std::vector<uint64_t>{3, 4}));
  EXPECT_TRUE(q.ack(3).ok());
  EXPECT_EQ(seqs(q.events()), (std::vector<uint64_t>{4}));
}

TEST(EventQueue, PersistenceAcrossRebootContinuesSeqWithoutLossOrRepeat) {
  EventQueue before(8);
  EventPayload p;
  p.days_left = 12;
  p.detail = -3600;
  p.set_text("serial-7");
  before.push(EventKind::grace_alarm, Severity::warning, 1700000000000, p);
  before.push(EventKind::clock_rollback, Severity::minor, std::nullopt);
  before.push(EventKind::link_up, Severity::info, 5);
  before.ack(1);
  EXPECT_TRUE(before.dirty());
  auto bytes = save(before);
  EXPECT_EQ(bytes.size(), before.serialized_size());
  before.mark_persisted();
  EXPECT_FALSE(before.dirty());

  EventQueue after(8);  // after reboot
  ASSERT_TRUE(after.restore(bytes).ok());
  ASSERT_EQ(after.size(), 2u);
  EXPECT_TRUE(std::equal(after.events().begin(), after.events().end(), before.events().begin()));
  EXPECT_EQ(after.next_seq(), 4u);
  EXPECT_EQ(after.push(EventKind::link_down, Severity::info, 6), 4u);
  EXPECT_FALSE(after.ack(5).ok());  // still never issued
}

TEST(EventQueue, PayloadRoundTripsThroughRecord) {
  EventQueue q(4);
  EventPayload p;
  p.days_left = 7;
  p.detail = INT64_MIN;
  p.count = 9;
  p.set_text("x\"y");
  q.push(EventKind::license_refused, Severity::major, -5, p);
  EventQueue r(4);
  ASSERT_TRUE(r.restore(save(q)).ok());
  EXPECT_EQ(r.events()[0], q.events()[0]);
}

TEST(EventQueue, RestoreIntoSmallerQueueFoldsOldestInsteadOfDropping) {
  EventQueue big(10);
  for (int i = 0; i < 10; ++i) big.push(EventKind::grace_alarm, Severity::warning, i);
  EventQueue small(4);
  ASSERT_TRUE(small.restore(save(big)).ok());
  ASSERT_EQ(small.size(), 4u);
  EXPECT_EQ(seqs(small.events()), (std::vector<uint64_t>{8, 9, 10, 11}));
  EXPECT_EQ(small.events()[3].payload.count, 7u);
  EXPECT_EQ(small.events()[3].payload.first_seq, 1u);
  EXPECT_EQ(small.events()[3].payload.last_seq, 7u);
  EXPECT_EQ(events_accounted(small), 10u);
  EXPECT_TRUE(small.dirty());
}

TEST(EventQueue, RejectsDamagedRecordsAndKeepsContents) {
  EventQueue q(4);
  q.push(EventKind::link_up, Severity::info, 1);
  q.push(EventKind::link_down, Severity::info, 2);
  auto good = save(q);

  EventQueue target(4);
  target.push(EventKind::license_applied, Severity::info, 99);
  auto expect_fault = [&](std::vector<uint8_t> bytes, RecordFault fault) {
    Status s = target.restore(bytes);
    EXPECT_EQ(s.reason(), Reason::invalid_payload);
    EXPECT_EQ(s.detail(), static_cast<int32_t>(fault)) << record_fault_name(s.detail());
    ASSERT_EQ(target.size(), 1u);
    EXPECT_EQ(target.events()[0].kind, EventKind::license_applied);
  };

  expect_fault({}, RecordFault::truncated);
  expect_fault({good.begin(), good.begin() + 20}, RecordFault::truncated);
  expect_fault({good.begin(), good.end() - 1}, RecordFault::truncated);
  auto flipped = good;
  flipped[30] ^= 0x01;
  expect_fault(flipped, RecordFault::bad_checksum);
  auto old_version = good;
  old_version[4] = 0;  // version 0
  expect_fault(old_version, RecordFault::unsupported_version);
  auto foreign = good;
  foreign[0] = 'X';
  expect_fault(foreign, RecordFault::bad_magic);
  auto longer = good;
  longer.push_back(0);
  expect_fault(longer, RecordFault::bad_length);
}

// Builds a well-framed record with a hand-made body, to reach the field checks.
std::vector<uint8_t> record_with_body(const std::vector<uint8_t>& body) {
  std::vector<uint8_t> out(kRecordOverhead + body.size());
  RecordWriter w(out, {'S', 'L', 'E', 'V'}, 1);
  w.bytes(body);
  auto n = w.finish();
  EXPECT_TRUE(n.ok());
  return out;
}

TEST(EventQueue, RejectsHostileFieldValues) {
  EventQueue q(4);
  q.push(EventKind::link_up, Severity::info, 1);
  q.push(EventKind::link_down, Severity::info, 2);
  auto good = save(q);
  std::vector<uint8_t> body(good.begin() + kRecordHeaderSize, good.end() - kRecordTrailerSize);
  const size_t first_event = 12;

  EventQueue target(4);
  auto fault_of = [&](std::vector<uint8_t> b) { return target.restore(record_with_body(b)).detail(); };
  ASSERT_TRUE(target.restore(record_with_body(body)).ok());

  auto b = body;
  b[first_event + 17] = 250;  // kind
  EXPECT_EQ(fault_of(b), static_cast<int32_t>(RecordFault::bad_value));
  b = body;
  b[first_event + 18] = 9;  // severity
  EXPECT_EQ(fault_of(b), static_cast<int32_t>(RecordFault::bad_value));
  b = body;
  b[first_event + 8] = 7;  // time flag
  EXPECT_EQ(fault_of(b), static_cast<int32_t>(RecordFault::bad_value));
  b = body;
  b[first_event + EventQueue::kEventRecordSize - 1] = 'z';  // unterminated text
  EXPECT_EQ(fault_of(b), static_cast<int32_t>(RecordFault::bad_value));
  b = body;
  b[first_event + EventQueue::kEventRecordSize] = 1;  // second seq == first: not increasing
  EXPECT_EQ(fault_of(b), static_cast<int32_t>(RecordFault::bad_value));
  b = body;
  b[0] = 2;  // next_seq 2 but an event has seq 2: would repeat a seq
  EXPECT_EQ(fault_of(b), static_cast<int32_t>(RecordFault::bad_value));
  b = body;
  b[8] = 0xFF;  // count far beyond the bytes
  b[9] = 0xFF;
  b[10] = 0xFF;
  b[11] = 0xFF;
  EXPECT_EQ(fault_of(b), static_cast<int32_t>(RecordFault::bad_length));
  EXPECT_EQ(fault_of({1, 2, 3}), static_cast<int32_t>(RecordFault::truncated));
}

TEST(EventQueue, SerializeIntoTooSmallBufferFails) {
  EventQueue q(4);
  q.push(EventKind::link_up, Severity::info, 1);
  std::vector<uint8_t> small(q.serialized_size() - 1);
  auto r = q.serialize(small);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), Reason::out_of_memory);
}

TEST(EventQueue, CapacityBelowMinimumIsRaised) {
  EventQueue q(0);
  EXPECT_EQ(q.capacity(), EventQueue::kMinCapacity);
  for (int i = 0; i < 10; ++i) q.push(EventKind::link_up, Severity::critical, i);
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(events_accounted(q), 10u);
}

}  // namespace
}  // namespace sublink
