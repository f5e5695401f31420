// The event log record (firmware/events/event_queue). Invariants:
//  - a record restored into a queue that holds it whole re-serializes to
//    exactly the stored bytes (a version 1 record stays version 1 until a
//    stream is started);
//  - a record refused leaves the queue as it was;
//  - the queue never writes what it would refuse to read back: after a
//    restore into a small queue (folding), after a push, an ack of the
//    current stream and a new stream, serialize() restores again;
//  - seq only grows: events come out in seq order per stream and next_seq
//    never goes down.
// Input: a byte saying what the target seals (fuzz_check.h sealed_record:
// the CRC, the body length), then the record.
#include <vector>

#include "firmware/events/event_queue.h"
#include "fuzz/fuzz_check.h"

using namespace sublink;
using sublink::fuzz::check;

namespace {

std::vector<uint8_t> serialized(const EventQueue& queue) {
  std::vector<uint8_t> out(queue.serialized_size());
  Result<size_t> n = queue.serialize(out);
  check(n.ok() && *n == out.size());
  return out;
}

void check_readable(const EventQueue& queue, size_t capacity) {
  std::vector<uint8_t> bytes = serialized(queue);
  EventQueue again(capacity);
  check(again.restore(bytes).ok());
  check(again.size() == queue.size() && again.next_seq() == queue.next_seq() && again.stream() == queue.stream());
  check(serialized(again) == bytes);
}

void check_order(const EventQueue& queue) {
  for (size_t i = 1; i < queue.events().size(); ++i) {
    const Event& a = queue.events()[i - 1];
    const Event& b = queue.events()[i];
    if (a.stream == b.stream) check(a.seq < b.seq);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static EventQueue whole(EventQueue::kMaxRecordEvents);
  const std::vector<uint8_t> sealed = sublink::fuzz::sealed_record(data, size);
  const std::span<const uint8_t> record(sealed);
  Status restored = whole.restore(record);
  if (!restored.ok()) {
    check(restored.reason() == Reason::invalid_payload);
    EventQueue fresh(4);
    check(!fresh.restore(record).ok() && fresh.empty() && fresh.next_seq() == 1);
    return 0;
  }
  check_order(whole);
  check(serialized(whole) == sealed);  // version 1 stays 1 until a stream starts
  check_readable(whole, EventQueue::kMaxRecordEvents);

  // A small queue folds what does not fit; what it holds is still readable.
  EventQueue small(3);
  check(small.restore(record).ok());
  check(small.size() <= 3);
  check(small.next_seq() >= whole.next_seq());
  check_order(small);
  check_readable(small, 3);

  // Operations keep every field in range.
  const uint64_t before = small.next_seq();
  if (small.needs_new_stream()) (void)small.start_stream(0x1234'5678'9abc'def0ull);
  const uint64_t seq = small.push(EventKind::grace_alarm, Severity::major, 1'700'000'000'000, {});
  if (seq != 0) check(seq >= 1 && small.next_seq() > seq);
  check(small.next_seq() >= before || small.stream() != whole.stream());
  check_order(small);
  check_readable(small, 3);
  if (seq != 0) {
    check(small.ack(small.stream(), seq).ok());
    check_readable(small, 3);
  }
  return 0;
}
