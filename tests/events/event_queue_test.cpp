#include "firmware/events/event_queue.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "firmware/events/record_codec.h"

namespace sublink {
namespace {

constexpr StreamId kStream = 0x0123456789abcdefULL;

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
  ASSERT_TRUE(q.start_stream(kStream).ok());
  EXPECT_EQ(q.push(EventKind::link_up, Severity::info, 1000), 1u);
  EXPECT_EQ(q.push(EventKind::link_down, Severity::info, std::nullopt), 2u);
  EXPECT_EQ(q.next_seq(), 3u);
  ASSERT_EQ(q.size(), 2u);
  EXPECT_EQ(q.events()[0].time_utc_ms, 1000);
  EXPECT_FALSE(q.events()[1].time_utc_ms.has_value());
}

TEST(EventQueue, AckDropsOnlyUpToAndIsIdempotent) {
  EventQueue q(8);
  ASSERT_TRUE(q.start_stream(kStream).ok());
  for (int i = 0; i < 5; ++i) q.push(EventKind::link_up, Severity::info, i);
  EXPECT_TRUE(q.ack(kStream, 3).ok());
  EXPECT_EQ(seqs(q.events()), (std::vector<uint64_t>{4, 5}));
  EXPECT_TRUE(q.ack(kStream, 3).ok());  // repeated
  EXPECT_TRUE(q.ack(kStream, 1).ok());  // older
  EXPECT_EQ(seqs(q.events()), (std::vector<uint64_t>{4, 5}));
}

TEST(EventQueue, AckAboveHighestIssuedSeqIsIgnored) {
  EventQueue q(8);
  ASSERT_TRUE(q.start_stream(kStream).ok());
  for (int i = 0; i < 3; ++i) q.push(EventKind::link_up, Severity::info, i);
  Status s = q.ack(kStream, 4);  // seq 4 was never issued
  EXPECT_EQ(s.reason(), Reason::invalid_argument);
  EXPECT_EQ(q.size(), 3u);
  EXPECT_FALSE(q.ack(kStream, UINT64_MAX).ok());
  EXPECT_EQ(q.size(), 3u);
  EXPECT_TRUE(q.ack(kStream, 3).ok());
  EXPECT_TRUE(q.empty());
}

TEST(EventQueue, BatchSelectsInOrderAfterWhatIsInFlight) {
  EventQueue q(16);
  ASSERT_TRUE(q.start_stream(kStream).ok());
  for (int i = 0; i < 7; ++i) q.push(EventKind::link_up, Severity::info, i);
  EXPECT_EQ(seqs(q.batch(3)), (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(seqs(q.batch(3, 3)), (std::vector<uint64_t>{4, 5, 6}));
  EXPECT_EQ(seqs(q.batch(3, 6)), (std::vector<uint64_t>{7}));
  EXPECT_TRUE(q.batch(3, 7).empty());
  EXPECT_TRUE(q.batch(0).empty());
  ASSERT_TRUE(q.ack(kStream, 2).ok());
  EXPECT_EQ(seqs(q.batch(2)), (std::vector<uint64_t>{3, 4}));
}

TEST(EventQueue, OverflowSummarisesOldestLowSeverityEvents) {
  EventQueue q(4);
  ASSERT_TRUE(q.start_stream(kStream).ok());
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
  ASSERT_TRUE(q.start_stream(kStream).ok());
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
  ASSERT_TRUE(q.start_stream(kStream).ok());
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
  ASSERT_TRUE(q.start_stream(kStream).ok());
  q.push(EventKind::link_up, Severity::info, 1);
  q.push(EventKind::link_down, Severity::info, 2);
  q.push(EventKind::link_up, Severity::info, 3);  // summary 3 (of 1,2), event 4
  ASSERT_EQ(seqs(q.events()), (std::vector<uint64_t>{3, 4}));
  EXPECT_TRUE(q.ack(kStream, 3).ok());
  EXPECT_EQ(seqs(q.events()), (std::vector<uint64_t>{4}));
}

TEST(EventQueue, PersistenceAcrossRebootContinuesSeqWithoutLossOrRepeat) {
  EventQueue before(8);
  ASSERT_TRUE(before.start_stream(kStream).ok());
  EventPayload p;
  p.days_left = 12;
  p.detail = -3600;
  p.set_text("serial-7");
  before.push(EventKind::grace_alarm, Severity::warning, 1700000000000, p);
  before.push(EventKind::clock_rollback, Severity::minor, std::nullopt);
  before.push(EventKind::link_up, Severity::info, 5);
  ASSERT_TRUE(before.ack(kStream, 1).ok());
  EXPECT_TRUE(before.dirty());
  auto bytes = save(before);
  EXPECT_EQ(bytes.size(), before.serialized_size());
  before.mark_persisted();
  EXPECT_FALSE(before.dirty());

  EventQueue after(8);  // after reboot

  ASSERT_TRUE(after.start_stream(kStream).ok());
  ASSERT_TRUE(after.restore(bytes).ok());
  ASSERT_EQ(after.size(), 2u);
  EXPECT_TRUE(std::equal(after.events().begin(), after.events().end(), before.events().begin()));
  EXPECT_EQ(after.next_seq(), 4u);
  EXPECT_EQ(after.push(EventKind::link_down, Severity::info, 6), 4u);
  EXPECT_FALSE(after.ack(kStream, 5).ok());  // still never issued
}

TEST(EventQueue, PayloadRoundTripsThroughRecord) {
  EventQueue q(4);
  ASSERT_TRUE(q.start_stream(kStream).ok());
  EventPayload p;
  p.days_left = 7;
  p.detail = -static_cast<int64_t>(EventQueue::kMaxEventSeq);
  p.set_text("x\"y");
  q.push(EventKind::license_refused, Severity::major, EventQueue::kMaxEventTimeMs, p);
  EventQueue r(4);
  ASSERT_TRUE(r.restore(save(q)).ok());
  EXPECT_EQ(r.events()[0], q.events()[0]);
  EXPECT_EQ(r.events()[0].stream, kStream);
}

TEST(EventQueue, PushBringsFieldsIntoTheRangesTheRecordStates) {
  EventQueue q(4);
  ASSERT_TRUE(q.start_stream(kStream).ok());
  EventPayload p;
  p.days_left = INT32_MIN;
  p.detail = INT64_MIN;
  p.count = 9;  // a license_refused stands for no other events
  p.first_seq = 3;
  q.push(EventKind::license_refused, Severity::major, -5, p);
  p.days_left = INT32_MAX;
  p.detail = INT64_MAX;
  q.push(EventKind::grace_alarm, Severity::minor, EventQueue::kMaxEventTimeMs + 1, p);
  const Event& low = q.events()[0];
  EXPECT_FALSE(low.time_utc_ms.has_value()) << "a time before 1970 is unknown";
  EXPECT_EQ(low.payload.days_left, -1);
  EXPECT_EQ(low.payload.detail, -static_cast<int64_t>(EventQueue::kMaxEventSeq));
  EXPECT_EQ(low.payload.count, 0u);
  EXPECT_EQ(low.payload.first_seq, 0u);
  const Event& high = q.events()[1];
  EXPECT_FALSE(high.time_utc_ms.has_value()) << "a time past 9999 is unknown";
  EXPECT_EQ(high.payload.days_left, EventQueue::kMaxDaysLeft);
  EXPECT_EQ(high.payload.detail, static_cast<int64_t>(EventQueue::kMaxEventSeq));
  EventQueue r(4);
  ASSERT_TRUE(r.restore(save(q)).ok()) << "what push stores reads back";
  EXPECT_TRUE(std::equal(r.events().begin(), r.events().end(), q.events().begin()));
}

TEST(EventQueue, RestoreIntoSmallerQueueFoldsOldestInsteadOfDropping) {
  EventQueue big(10);
  ASSERT_TRUE(big.start_stream(kStream).ok());
  for (int i = 0; i < 10; ++i) big.push(EventKind::grace_alarm, Severity::warning, i);
  EventQueue small(4);
  ASSERT_TRUE(small.start_stream(kStream).ok());
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
  ASSERT_TRUE(q.start_stream(kStream).ok());
  q.push(EventKind::link_up, Severity::info, 1);
  q.push(EventKind::link_down, Severity::info, 2);
  auto good = save(q);

  EventQueue target(4);

  ASSERT_TRUE(target.start_stream(kStream).ok());
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
std::vector<uint8_t> record_with_body(const std::vector<uint8_t>& body, uint16_t version = 2) {
  std::vector<uint8_t> out(kRecordOverhead + body.size());
  RecordWriter w(out, {'S', 'L', 'E', 'V'}, version);
  w.bytes(body);
  auto n = w.finish();
  EXPECT_TRUE(n.ok());
  return out;
}

void put_le(std::vector<uint8_t>& b, size_t at, uint64_t v, size_t n) {
  for (size_t i = 0; i < n; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
}

TEST(EventQueue, RejectsHostileFieldValues) {
  EventQueue q(4);
  ASSERT_TRUE(q.start_stream(kStream).ok());
  q.push(EventKind::link_up, Severity::info, 1);
  q.push(EventKind::link_down, Severity::info, 2);
  auto good = save(q);
  std::vector<uint8_t> body(good.begin() + kRecordHeaderSize, good.end() - kRecordTrailerSize);
  const size_t first_event = 20;  // stream, next_seq, count
  const size_t seq = first_event + 8, time_flag = first_event + 16, time = first_event + 17,
               kind = first_event + 25, severity = first_event + 26, days = first_event + 27,
               detail = first_event + 31, count = first_event + 39, first_seq = first_event + 43,
               text = first_event + 59;
  ASSERT_EQ(text + EventPayload::kTextCapacity, first_event + EventQueue::kEventRecordSize);

  EventQueue target(4);
  ASSERT_TRUE(target.start_stream(kStream).ok());
  auto fault_of = [&](std::vector<uint8_t> b) { return target.restore(record_with_body(b)).detail(); };
  ASSERT_TRUE(target.restore(record_with_body(body)).ok());
  const int32_t bad_value = static_cast<int32_t>(RecordFault::bad_value);

  auto b = body;
  b[kind] = 250;
  EXPECT_EQ(fault_of(b), bad_value);
  b = body;
  b[severity] = 9;
  EXPECT_EQ(fault_of(b), bad_value);
  b = body;
  b[time_flag] = 7;
  EXPECT_EQ(fault_of(b), bad_value);
  b = body;
  put_le(b, time, static_cast<uint64_t>(-1), 8);  // before 1970
  EXPECT_EQ(fault_of(b), bad_value);
  b = body;
  put_le(b, time, EventQueue::kMaxEventTimeMs + 1, 8);  // past 9999
  EXPECT_EQ(fault_of(b), bad_value);
  b = body;
  put_le(b, days, static_cast<uint32_t>(-2), 4);
  EXPECT_EQ(fault_of(b), bad_value);
  b = body;
  put_le(b, days, EventQueue::kMaxDaysLeft + 1, 4);
  EXPECT_EQ(fault_of(b), bad_value);
  b = body;
  put_le(b, detail, static_cast<uint64_t>(INT64_MIN), 8);
  EXPECT_EQ(fault_of(b), bad_value);
  b = body;
  put_le(b, count, 5, 4);  // a link_up stands for no other events
  EXPECT_EQ(fault_of(b), bad_value);
  b = body;
  put_le(b, first_seq, 1, 8);
  EXPECT_EQ(fault_of(b), bad_value);
  b = body;
  b[first_event + EventQueue::kEventRecordSize - 1] = 'z';  // unterminated text
  EXPECT_EQ(fault_of(b), bad_value);
  b = body;
  b[text + 5] = 'z';  // bytes after the terminating NUL
  EXPECT_EQ(fault_of(b), bad_value);
  b = body;
  b[seq + EventQueue::kEventRecordSize] = 1;  // second seq == first: not increasing
  EXPECT_EQ(fault_of(b), bad_value);
  b = body;
  put_le(b, seq, 0, 8);  // seq 0 is never issued
  EXPECT_EQ(fault_of(b), bad_value);
  b = body;
  b[8] = 2;  // next_seq 2 but an event has seq 2: would repeat a seq
  EXPECT_EQ(fault_of(b), bad_value);
  b = body;
  put_le(b, 8, uint64_t{1} << 63, 8);  // next_seq beyond 2^53: not exact on the wire
  EXPECT_EQ(fault_of(b), bad_value);
  b = body;
  put_le(b, 0, 0, 8);  // no current stream
  EXPECT_EQ(fault_of(b), bad_value);
  b = body;
  put_le(b, first_event + EventQueue::kEventRecordSize, 0x42, 8);  // second event's stream after the current one
  EXPECT_EQ(fault_of(b), bad_value);
  b = body;
  b[16] = 0xFF;  // count far beyond the bytes
  b[17] = 0xFF;
  b[18] = 0xFF;
  b[19] = 0xFF;
  EXPECT_EQ(fault_of(b), static_cast<int32_t>(RecordFault::bad_length));
  EXPECT_EQ(fault_of({1, 2, 3}), static_cast<int32_t>(RecordFault::truncated));
  // Found by fuzz/record_events_fuzz.cpp: an unknown time with a value
  // behind it was taken, so the record did not re-encode to its own bytes
  // (an unknown time is stored as 0: one encoding per event).
  b = body;
  b[time_flag] = 0;
  EXPECT_EQ(fault_of(b), bad_value);
  put_le(b, time, 0, 8);
  EXPECT_TRUE(target.restore(record_with_body(b)).ok());
  EXPECT_EQ(save(target), record_with_body(b));
  EXPECT_FALSE(target.events()[0].time_utc_ms.has_value());
  ASSERT_TRUE(target.restore(record_with_body(body)).ok());
  // The target kept what it had through all of it.
  EXPECT_EQ(target.size(), 2u);
}

TEST(EventQueue, RecordsAtTheLimitsRoundTripAndTheQueueStopsBeforeThem) {
  // A full queue whose seq counter is two short of the end of the seq space.
  std::vector<uint8_t> body(20);
  put_le(body, 0, kStream, 8);
  put_le(body, 8, EventQueue::kMaxEventSeq - 1, 8);
  put_le(body, 16, 0, 4);
  EventQueue q(3);
  ASSERT_TRUE(q.restore(record_with_body(body)).ok());
  EXPECT_TRUE(q.needs_new_stream()) << "the agent starts a new stream long before the end";
  EXPECT_EQ(q.push(EventKind::link_up, Severity::info, 1), EventQueue::kMaxEventSeq - 1);
  EXPECT_EQ(q.push(EventKind::link_up, Severity::info, 2), EventQueue::kMaxEventSeq);
  EXPECT_EQ(q.push(EventKind::link_up, Severity::info, 3), 0u) << "no seq past 2^53 - 1";
  EXPECT_EQ(q.size(), 2u);
  EventQueue r(3);
  ASSERT_TRUE(r.restore(save(q)).ok()) << "the queue at the end of its seq space reads back";
  EXPECT_EQ(r.next_seq(), EventQueue::kMaxEventSeq + 1);
  // A new stream takes over; the old stream's events wait in front of it.
  ASSERT_TRUE(r.start_stream(kStream + 1).ok());
  for (int i = 0; i < 10; ++i) EXPECT_NE(r.push(EventKind::link_down, Severity::info, i), 0u);
  EXPECT_EQ(r.size(), 3u);
  EventQueue again(3);
  ASSERT_TRUE(again.restore(save(r)).ok()) << "a full queue of two streams reads back";
  EXPECT_TRUE(std::equal(again.events().begin(), again.events().end(), r.events().begin()));
  uint64_t accounted = 0;
  for (const Event& e : again.events()) accounted += e.kind == EventKind::events_summarised ? e.payload.count : 1;
  EXPECT_EQ(accounted, 12u);
}

TEST(EventQueue, ASmallerQueueFoldsALogWhoseStreamHasNoSeqLeft) {
  // A log written at the very end of its stream's seq space: three events,
  // the last one 2^53 - 1, so the next seq is past what a record may carry.
  std::vector<uint8_t> body(20);
  put_le(body, 0, kStream, 8);
  put_le(body, 8, EventQueue::kMaxEventSeq - 2, 8);
  put_le(body, 16, 0, 4);
  EventQueue writer(4);
  ASSERT_TRUE(writer.restore(record_with_body(body)).ok());
  for (int i = 0; i < 3; ++i) ASSERT_NE(writer.push(EventKind::link_down, Severity::major, 1000 + i), 0u);
  const std::vector<uint8_t> log = save(writer);
  EventQueue whole(4);
  ASSERT_TRUE(whole.restore(log).ok());

  // A device with room for two events must still read it: found by the
  // record_events fuzz target (fuzz/findings), where the small queue refused
  // it and every event in it was lost at boot.
  EventQueue small(2);
  ASSERT_TRUE(small.restore(log).ok()) << "a log the full queue reads is never refused by a small one";
  ASSERT_EQ(small.size(), 2u);
  EXPECT_EQ(small.next_seq(), EventQueue::kMaxEventSeq + 1) << "no seq is invented past the end";
  // The two oldest are folded into a summary that takes the place and seq of
  // the newer of them; the newest event stays as it was.
  const Event& summary = small.events()[0];
  EXPECT_EQ(summary.kind, EventKind::events_summarised);
  EXPECT_EQ(summary.stream, kStream);
  EXPECT_EQ(summary.seq, EventQueue::kMaxEventSeq - 1);
  EXPECT_EQ(summary.payload.count, 2u);
  EXPECT_EQ(summary.payload.first_seq, EventQueue::kMaxEventSeq - 2);
  EXPECT_EQ(summary.payload.last_seq, EventQueue::kMaxEventSeq - 2);
  EXPECT_EQ(summary.severity, Severity::major);
  EXPECT_EQ(small.events()[1].seq, EventQueue::kMaxEventSeq);
  // What the small queue writes, it and a larger one read back.
  EventQueue again(2);
  ASSERT_TRUE(again.restore(save(small)).ok());
  EXPECT_EQ(save(again), save(small));
  EventQueue larger(8);
  ASSERT_TRUE(larger.restore(save(small)).ok());
  EXPECT_EQ(save(larger), save(small));
}

TEST(EventQueue, AFullQueueAtMostStreamsReadsBack) {
  EventQueue q(EventQueue::kMaxStreams * 2);
  for (StreamId s = 1; s <= EventQueue::kMaxStreams; ++s) {
    ASSERT_TRUE(q.start_stream(kStream + s).ok());
    q.push(EventKind::grace_alarm, Severity::major, 1);
    q.push(EventKind::grace_alarm, Severity::major, 2);
  }
  EXPECT_EQ(q.start_stream(kStream + 99).reason(), Reason::out_of_memory) << "never more streams than a record holds";
  for (int i = 0; i < 20; ++i) q.push(EventKind::link_up, Severity::info, i);
  EventQueue r(EventQueue::kMaxStreams * 2);
  ASSERT_TRUE(r.restore(save(q)).ok());
  EXPECT_TRUE(std::equal(r.events().begin(), r.events().end(), q.events().begin()));
}

TEST(EventQueue, BatchesNeverMixStreamsAndAcksNameTheirStream) {
  EventQueue q(8);
  ASSERT_TRUE(q.start_stream(kStream).ok());
  q.push(EventKind::link_up, Severity::info, 1);
  q.push(EventKind::link_down, Severity::info, 2);
  ASSERT_TRUE(q.start_stream(kStream + 1).ok());
  EXPECT_EQ(q.next_seq(), 1u) << "a new stream starts at seq 1";
  EXPECT_EQ(q.push(EventKind::link_up, Severity::info, 3), 1u);
  auto first = q.batch(8);
  ASSERT_EQ(first.size(), 2u) << "the older stream goes first, alone";
  EXPECT_EQ(first[0].stream, kStream);
  EXPECT_EQ(q.ack(kStream + 7, 5).detail(), EventQueue::kAckUnknownStream) << "another stream acknowledges nothing";
  EXPECT_EQ(q.size(), 3u);
  EXPECT_EQ(q.ack(kStream + 1, 2).detail(), EventQueue::kAckNeverIssued);
  EXPECT_TRUE(q.ack(kStream, 2).ok()) << "the old stream's seqs are not checked against the new counter";
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q.batch(8)[0].stream, kStream + 1);
  EXPECT_EQ(q.start_stream(kStream + 1).reason(), Reason::invalid_argument);
  EXPECT_EQ(q.start_stream(kLegacyStream).reason(), Reason::invalid_argument);
}

// The body of a record in the format before streams: next_seq 8, two
// events (seq 5 and 7).
std::vector<uint8_t> version1_body() {
  std::vector<uint8_t> body(12 + 2 * (EventQueue::kEventRecordSize - 8));
  put_le(body, 0, 8, 8);
  put_le(body, 8, 2, 4);
  put_le(body, 12, 5, 8);
  put_le(body, 12 + EventQueue::kEventRecordSize - 8, 7, 8);
  put_le(body, 12 + 8 + 1 + 8 + 2, static_cast<uint32_t>(-1), 4);  // days_left -1
  put_le(body, 12 + EventQueue::kEventRecordSize - 8 + 8 + 1 + 8 + 2, static_cast<uint32_t>(-1), 4);
  return body;
}

TEST(EventQueue, AVersion1RecordKeepsItsEventsAsLegacyAndNeedsAStream) {
  const std::vector<uint8_t> body = version1_body();
  EventQueue q(4);
  ASSERT_TRUE(q.restore(record_with_body(body, 1)).ok());
  ASSERT_EQ(seqs(q.events()), (std::vector<uint64_t>{5, 7}));
  EXPECT_EQ(q.events()[0].stream, kLegacyStream);
  EXPECT_TRUE(q.needs_new_stream());
  EXPECT_EQ(q.push(EventKind::link_up, Severity::info, 1), 0u) << "nothing is numbered outside a stream";
  ASSERT_TRUE(q.start_stream(kStream).ok());
  EXPECT_EQ(q.push(EventKind::link_up, Severity::info, 1), 1u);
  EXPECT_TRUE(q.ack(kLegacyStream, 7).ok());
  EXPECT_EQ(q.size(), 1u);
  EXPECT_EQ(EventQueue::events_in_record(record_with_body(body, 1)), 2u);
}

// Found by fuzz/record_events_fuzz.cpp: a queue with no stream started (a
// fresh one, or one restored from a version 1 record before the agent
// starts a stream) wrote a version 2 record with no current stream, which
// restore() refuses: its events would have been lost at the next boot. It
// writes what it is, a version 1 record, byte for byte the one it read.
TEST(EventQueue, AQueueWithNoStreamWritesARecordItReadsBack) {
  const std::vector<uint8_t> version1 = record_with_body(version1_body(), 1);
  EventQueue q(4);
  ASSERT_TRUE(q.restore(version1).ok());
  const std::vector<uint8_t> written = save(q);
  EXPECT_EQ(written, version1);
  EventQueue back(4);
  ASSERT_TRUE(back.restore(written).ok());
  EXPECT_EQ(seqs(back.events()), (std::vector<uint64_t>{5, 7}));
  EXPECT_EQ(back.next_seq(), 8u);
  EXPECT_EQ(back.stream(), kLegacyStream);

  EventQueue fresh(4);
  EventQueue fresh_back(4);
  ASSERT_TRUE(fresh_back.restore(save(fresh)).ok());
  EXPECT_TRUE(fresh_back.empty());
  EXPECT_EQ(fresh_back.next_seq(), 1u);
}

TEST(EventQueue, SerializeIntoTooSmallBufferFails) {
  EventQueue q(4);
  ASSERT_TRUE(q.start_stream(kStream).ok());
  q.push(EventKind::link_up, Severity::info, 1);
  std::vector<uint8_t> small(q.serialized_size() - 1);
  auto r = q.serialize(small);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), Reason::out_of_memory);
}

TEST(EventQueue, CapacityBelowMinimumIsRaised) {
  EventQueue q(0);
  ASSERT_TRUE(q.start_stream(kStream).ok());
  EXPECT_EQ(q.capacity(), EventQueue::kMinCapacity);
  for (int i = 0; i < 10; ++i) q.push(EventKind::link_up, Severity::critical, i);
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(events_accounted(q), 10u);
}

TEST(EventNames, RecordDamageDetailsHaveTheirNamesAndAnythingElseIsUnknown) {
  EXPECT_STREQ(record_damage_name(kDamageNoIntactCopy), "no_intact_copy");
  EXPECT_STREQ(record_damage_name(kDamageNewestCopy), "newest_copy_damaged");
  EXPECT_STREQ(record_damage_name(kDamageReadFailed), "read_failed");
  EXPECT_STREQ(record_damage_name(static_cast<int32_t>(RecordFault::bad_checksum)), "bad_checksum");
  EXPECT_STREQ(record_damage_name(0), "unknown");
  EXPECT_STREQ(record_damage_name(-5), "unknown");
  EXPECT_STREQ(record_damage_name(99), "unknown") << "below the storage codes but no RecordFault";
  EXPECT_STREQ(record_damage_name(kDamageReadFailed + 1), "unknown");
}

TEST(EventNames, AStreamIdIsSixteenLowerCaseHexDigitsAndNeverZero) {
  EXPECT_EQ(std::string(stream_text(kStream).data(), kStreamTextSize), "0123456789abcdef");
  StreamId id = 7;
  EXPECT_TRUE(parse_stream_text("0123456789abcdef", id));
  EXPECT_EQ(id, kStream);
  id = 7;
  EXPECT_FALSE(parse_stream_text("0000000000000000", id)) << "0 is the legacy stream, never sent";
  EXPECT_FALSE(parse_stream_text("0123456789abcde", id)) << "15 digits";
  EXPECT_FALSE(parse_stream_text("0123456789abcdeg", id));
  EXPECT_FALSE(parse_stream_text("", id));
  EXPECT_EQ(id, 7u) << "a refused id leaves the output alone";
}

TEST(EventPayload, TextOfOnlyContinuationBytesIsCutToNothingAndAFullTextIsReadToItsEnd) {
  EventPayload p;
  p.set_text(std::string(40, '\x80'));  // no character starts before the cut
  EXPECT_EQ(p.text_view(), "");
  // A payload whose text has no NUL (as a damaged record holds) reads no
  // further than its own bytes.
  p.text.fill('q');
  EXPECT_EQ(p.text_view(), std::string(EventPayload::kTextCapacity, 'q'));
}

TEST(EventPayload, EventsDifferingInAnyOneFieldAreNotEqual) {
  // Round-trip tests rely on this comparison to show nothing was lost.
  Event base;
  base.stream = kStream;
  base.seq = 5;
  base.time_utc_ms = 1000;
  base.kind = EventKind::tunnel_closed;
  base.severity = Severity::minor;
  base.payload.days_left = 3;
  base.payload.detail = 4;
  base.payload.count = 6;
  base.payload.first_seq = 7;
  base.payload.last_seq = 8;
  base.payload.set_text("svc");
  std::vector<Event> changed(12, base);
  changed[0].stream = kStream + 1;
  changed[1].seq = 6;
  changed[2].time_utc_ms = std::nullopt;
  changed[3].kind = EventKind::tunnel_opened;
  changed[4].severity = Severity::major;
  changed[5].payload.days_left = 2;
  changed[6].payload.detail = -4;
  changed[7].payload.count = 1;
  changed[8].payload.first_seq = 1;
  changed[9].payload.last_seq = 1;
  changed[10].payload.set_text("svd");
  changed[11].time_utc_ms = 1001;
  EXPECT_EQ(base, Event(base));
  for (size_t i = 0; i < changed.size(); ++i) EXPECT_NE(changed[i], base) << "field " << i;
}

TEST(EventQueue, PushOfAKindOrSeverityOutsideTheirEnumsIsRefusedAndChangesNothing) {
  EventQueue q(4);
  ASSERT_TRUE(q.start_stream(kStream).ok());
  q.mark_persisted();
  EXPECT_EQ(q.push(static_cast<EventKind>(kEventKindCount), Severity::info, 1), 0u);
  EXPECT_EQ(q.push(EventKind::link_up, static_cast<Severity>(kSeverityCount), 1), 0u);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.next_seq(), 1u) << "no seq is spent on a refused event";
  EXPECT_FALSE(q.dirty());
}

TEST(EventQueue, APushedSummaryStandsForOneEventAtLeastAndKeepsOnlyARangeBelowItsOwnSeq) {
  EventQueue q(8);
  ASSERT_TRUE(q.start_stream(kStream).ok());
  q.push(EventKind::link_up, Severity::info, 1);  // seq 1
  q.push(EventKind::link_up, Severity::info, 2);  // seq 2
  auto push_summary = [&](uint32_t count, uint64_t first, uint64_t last) {
    EventPayload p;
    p.count = count;
    p.first_seq = first;
    p.last_seq = last;
    uint64_t seq = q.push(EventKind::events_summarised, Severity::warning, 3, p);
    EXPECT_NE(seq, 0u);
    return q.events().back().payload;
  };
  EventPayload kept = push_summary(0, 1, 2);  // seq 3
  EXPECT_EQ(kept.count, 1u) << "a summary stands for one event at least";
  EXPECT_EQ(kept.first_seq, 1u);
  EXPECT_EQ(kept.last_seq, 2u);
  EventPayload p = push_summary(4, 0, 2);
  EXPECT_EQ(p.first_seq, 0u) << "a range without a start is dropped";
  EXPECT_EQ(p.last_seq, 0u);
  p = push_summary(4, 2, 1);
  EXPECT_EQ(p.first_seq, 0u) << "a backwards range is dropped";
  EXPECT_EQ(p.last_seq, 0u);
  p = push_summary(4, 1, 6);  // its own seq is 6
  EXPECT_EQ(p.first_seq, 0u) << "a range reaching its own seq is dropped";
  EXPECT_EQ(p.last_seq, 0u);
  EXPECT_EQ(p.count, 4u);
  EventQueue back(8);
  ASSERT_TRUE(back.restore(save(q)).ok()) << "every pushed summary reads back";
  EXPECT_TRUE(std::equal(back.events().begin(), back.events().end(), q.events().begin()));
}

TEST(EventQueue, OverflowFoldsTwoLowSummariesIntoOneBeforeTouchingAnEvent) {
  EventQueue q(3);
  ASSERT_TRUE(q.start_stream(kStream).ok());
  EventPayload p;
  p.count = 5;
  q.push(EventKind::events_summarised, Severity::info, 1, p);  // 1
  p.count = 7;
  q.push(EventKind::events_summarised, Severity::info, 2, p);  // 2
  q.push(EventKind::link_up, Severity::info, 3);               // 3
  EXPECT_EQ(q.push(EventKind::link_down, Severity::info, 4), 5u);
  ASSERT_EQ(seqs(q.events()), (std::vector<uint64_t>{3, 4, 5}));
  EXPECT_EQ(q.events()[0].kind, EventKind::link_up) << "the event outlives the summaries";
  EXPECT_EQ(q.events()[1].kind, EventKind::events_summarised);
  EXPECT_EQ(q.events()[1].payload.count, 12u);
  EXPECT_EQ(events_accounted(q), 14u);
}

TEST(EventQueue, ASummaryCountSaturatesInsteadOfWrapping) {
  EventQueue q(2);
  ASSERT_TRUE(q.start_stream(kStream).ok());
  EventPayload p;
  p.count = UINT32_MAX;
  q.push(EventKind::events_summarised, Severity::info, 1, p);
  q.push(EventKind::link_up, Severity::info, 2);
  q.push(EventKind::link_up, Severity::info, 3);
  const Event& summary = q.events()[0];
  ASSERT_EQ(summary.kind, EventKind::events_summarised);
  EXPECT_EQ(summary.payload.count, UINT32_MAX) << "a wrapped count would claim almost nothing was lost";
}

TEST(EventQueue, ASummaryKeepsTheLatestKnownTimeOfWhatItFolds) {
  EventQueue q(2);
  ASSERT_TRUE(q.start_stream(kStream).ok());
  q.push(EventKind::link_up, Severity::info, 10);
  q.push(EventKind::link_down, Severity::info, std::nullopt);
  q.push(EventKind::link_up, Severity::info, 30);
  const Event& summary = q.events()[0];
  ASSERT_EQ(summary.kind, EventKind::events_summarised);
  EXPECT_EQ(summary.time_utc_ms, 10) << "an event of unknown time does not erase the known one";
}

TEST(EventQueue, AStreamOfQueuedEventsCannotBeStartedAgain) {
  EventQueue q(8);
  ASSERT_TRUE(q.start_stream(kStream).ok());
  q.push(EventKind::link_up, Severity::info, 1);
  ASSERT_TRUE(q.start_stream(kStream + 1).ok());
  EXPECT_EQ(q.start_stream(kStream).reason(), Reason::invalid_argument)
      << "its seqs would start again at 1 next to the queued ones";
  EXPECT_EQ(q.stream(), kStream + 1);
}

TEST(EventQueue, LegacyEventsAreAcknowledgedBeforeAnyStreamStarts) {
  EventQueue q(4);
  ASSERT_TRUE(q.restore(record_with_body(version1_body(), 1)).ok());
  EXPECT_EQ(q.ack(kStream, 7).detail(), EventQueue::kAckUnknownStream);
  EXPECT_TRUE(q.ack(kLegacyStream, 5).ok());
  EXPECT_EQ(seqs(q.events()), (std::vector<uint64_t>{7}));
  EXPECT_EQ(q.serialized_size(), save(q).size()) << "the version 1 record it writes is the size it says";
}

TEST(EventQueue, EventsInRecordIsZeroForARecordTooShortToCount) {
  EXPECT_EQ(EventQueue::events_in_record(record_with_body(std::vector<uint8_t>(19))), 0u);
  EXPECT_EQ(EventQueue::events_in_record(record_with_body(std::vector<uint8_t>(11), 1)), 0u);
  EXPECT_EQ(EventQueue::events_in_record({}), 0u);
}

// A version 2 body holding zeroed events (grace_started, info, no time) of
// the given streams and seqs.
std::vector<uint8_t> body_of(StreamId current, uint64_t next_seq,
                             const std::vector<std::pair<StreamId, uint64_t>>& events) {
  std::vector<uint8_t> body(20 + events.size() * EventQueue::kEventRecordSize);
  put_le(body, 0, current, 8);
  put_le(body, 8, next_seq, 8);
  put_le(body, 16, events.size(), 4);
  for (size_t i = 0; i < events.size(); ++i) {
    put_le(body, 20 + i * EventQueue::kEventRecordSize, events[i].first, 8);
    put_le(body, 28 + i * EventQueue::kEventRecordSize, events[i].second, 8);
  }
  return body;
}

TEST(EventQueue, RejectsRecordsWhoseStreamsAreOutOfOrderOrTooMany) {
  EventQueue q(16);
  const int32_t bad_value = static_cast<int32_t>(RecordFault::bad_value);
  auto fault_of = [&](const std::vector<uint8_t>& body) { return q.restore(record_with_body(body)).detail(); };
  ASSERT_EQ(fault_of(body_of(kStream, 2, {{kStream + 1, 1}, {kStream + 2, 1}, {kStream + 3, 1}, {kStream, 1}})), 0)
      << "as many streams as a record holds";
  EXPECT_EQ(fault_of(body_of(kStream, 2, {{kStream + 1, 1}, {kStream + 2, 1}, {kStream + 3, 1}, {kStream + 4, 1},
                                          {kStream, 1}})),
            bad_value)
      << "one stream more";
  EXPECT_EQ(fault_of(body_of(kStream, 2, {{kStream + 1, 1}, {kStream + 2, 1}, {kStream + 1, 2}, {kStream, 1}})),
            bad_value)
      << "a stream's events split in two groups";
  EXPECT_EQ(fault_of(body_of(kStream, 2, {{kStream, 1}, {kStream + 1, 1}})), bad_value)
      << "an older stream after the current one";
  EXPECT_EQ(fault_of(body_of(kStream, 0, {})), bad_value) << "next seq 0 is never issued";
  std::vector<std::pair<StreamId, uint64_t>> many;
  for (uint64_t seq = 1; seq <= EventQueue::kMaxRecordEvents + 1; ++seq) many.push_back({kStream, seq});
  EXPECT_EQ(fault_of(body_of(kStream, EventQueue::kMaxRecordEvents + 2, many)), bad_value)
      << "more events than a record may hold";
  EXPECT_EQ(q.size(), 4u) << "the queue kept the last record it accepted";
}

TEST(EventQueue, RejectsSummaryTunnelAndPayloadFieldsOutsideTheirKindsRanges) {
  // Two zeroed events, seq 1 and 2; the second is varied.
  const std::vector<uint8_t> body = body_of(kStream, 3, {{kStream, 1}, {kStream, 2}});
  const size_t e = 20 + EventQueue::kEventRecordSize;
  const size_t seq = e + 8, kind = e + 25, detail = e + 31, count = e + 39, first_seq = e + 43, last_seq = e + 51,
               text = e + 59;
  EventQueue q(4);
  const int32_t bad_value = static_cast<int32_t>(RecordFault::bad_value);
  auto fault_of = [&](EventKind k, uint32_t c, uint64_t first, uint64_t last) {
    auto b = body;
    b[kind] = static_cast<uint8_t>(k);
    put_le(b, count, c, 4);
    put_le(b, first_seq, first, 8);
    put_le(b, last_seq, last, 8);
    return q.restore(record_with_body(b)).detail();
  };
  const uint64_t past_seqs = EventQueue::kMaxEventSeq + 1;
  EXPECT_EQ(fault_of(EventKind::events_summarised, 1, 0, 0), 0) << "a summary of earlier streams only";
  EXPECT_EQ(fault_of(EventKind::events_summarised, 1, 1, 1), 0);
  EXPECT_EQ(fault_of(EventKind::events_summarised, 0, 0, 0), bad_value) << "a summary of nothing";
  EXPECT_EQ(fault_of(EventKind::events_summarised, 1, 0, 1), bad_value) << "a range without a start";
  EXPECT_EQ(fault_of(EventKind::events_summarised, 2, 2, 1), bad_value) << "a backwards range";
  EXPECT_EQ(fault_of(EventKind::events_summarised, 2, 1, 2), bad_value) << "a range reaching its own seq";
  EXPECT_EQ(fault_of(EventKind::tunnel_closed, 65535, 5, 6), 0);
  EXPECT_EQ(fault_of(EventKind::tunnel_closed, 0, 0, 0), bad_value) << "channel 0";
  EXPECT_EQ(fault_of(EventKind::tunnel_closed, 65536, 0, 0), bad_value) << "a channel past 65535";
  EXPECT_EQ(fault_of(EventKind::tunnel_closed, 1, past_seqs, 0), bad_value) << "bytes in past 2^53 - 1";
  EXPECT_EQ(fault_of(EventKind::tunnel_closed, 1, 0, past_seqs), bad_value) << "bytes out past 2^53 - 1";
  EXPECT_EQ(fault_of(EventKind::tunnel_opened, 1, 0, 0), 0);
  EXPECT_EQ(fault_of(EventKind::tunnel_opened, 1, 5, 0), bad_value) << "an open tunnel has moved no bytes";
  EXPECT_EQ(fault_of(EventKind::tunnel_opened, 1, 0, 5), bad_value);
  EXPECT_EQ(fault_of(EventKind::link_up, 0, 0, 5), bad_value) << "other kinds carry no range";
  EXPECT_EQ(fault_of(EventKind::record_damaged, EventQueue::kMaxRecordEvents, 0, 0), 0);
  EXPECT_EQ(fault_of(EventKind::record_damaged, EventQueue::kMaxRecordEvents + 1, 0, 0), bad_value)
      << "more events lost than a record holds";

  auto b = body;
  put_le(b, detail, EventQueue::kMaxEventSeq + 1, 8);
  EXPECT_EQ(q.restore(record_with_body(b)).detail(), bad_value) << "detail past +2^53 - 1";
  b = body;
  std::fill_n(b.begin() + static_cast<std::ptrdiff_t>(text), EventPayload::kTextCapacity, 'z');
  EXPECT_EQ(q.restore(record_with_body(b)).detail(), bad_value) << "a text filling all its bytes has no NUL";
  b = body;
  put_le(b, seq, past_seqs, 8);
  put_le(b, 8, past_seqs, 8);
  EXPECT_EQ(q.restore(record_with_body(b)).detail(), bad_value) << "a seq past 2^53 - 1";
  EXPECT_EQ(q.events()[1].kind, EventKind::record_damaged) << "the last accepted record stays";
}

TEST(EventQueue, AFoldOnRestoreEndingOnASummaryKeepsTheRangeThatSummaryStoodFor) {
  // A log at the end of its seq space whose newest folded item is a summary.
  std::vector<uint8_t> body(20);
  put_le(body, 0, kStream, 8);
  put_le(body, 8, EventQueue::kMaxEventSeq - 5, 8);
  EventQueue writer(4);
  ASSERT_TRUE(writer.restore(record_with_body(body)).ok());
  for (int i = 0; i < 5; ++i) ASSERT_NE(writer.push(EventKind::link_down, Severity::info, i), 0u);
  // [e3, e4, summary of e1..e2, e5]; no seq left.
  ASSERT_EQ(writer.events()[2].kind, EventKind::events_summarised);
  ASSERT_EQ(writer.next_seq(), EventQueue::kMaxEventSeq + 1);

  EventQueue small(2);
  ASSERT_TRUE(small.restore(save(writer)).ok());
  ASSERT_EQ(small.size(), 2u);
  const Event& summary = small.events()[0];
  EXPECT_EQ(summary.seq, EventQueue::kMaxEventSeq - 1) << "the place of the newest item it folds";
  EXPECT_EQ(summary.payload.count, 4u);
  EXPECT_EQ(summary.payload.first_seq, EventQueue::kMaxEventSeq - 5) << "the folded summary's events stay in range";
  EXPECT_EQ(summary.payload.last_seq, EventQueue::kMaxEventSeq - 2);
  EXPECT_EQ(events_accounted(small), 5u);
}

}  // namespace
}  // namespace sublink
