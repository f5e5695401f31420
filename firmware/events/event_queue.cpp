#include "firmware/events/event_queue.h"

#include <algorithm>

#include "firmware/events/record_codec.h"

namespace sublink {

namespace {
constexpr RecordMagic kMagic = {'S', 'L', 'E', 'V'};
constexpr uint16_t kVersion = 1;
constexpr size_t kBodyHeaderSize = 8 + 4;  // next_seq, count

// Folds `event` into `summary`, which already stands for at least one event.
void absorb(Event& summary, const Event& event) {
  bool is_summary = event.kind == EventKind::events_summarised;
  uint32_t count = is_summary ? event.payload.count : 1;
  uint64_t first = is_summary ? event.payload.first_seq : event.seq;
  uint64_t last = is_summary ? event.payload.last_seq : event.seq;
  summary.payload.count += count;
  summary.payload.first_seq = std::min(summary.payload.first_seq, first);
  summary.payload.last_seq = std::max(summary.payload.last_seq, last);
  summary.severity = std::max(summary.severity, event.severity);
  if (event.time_utc_ms) summary.time_utc_ms = event.time_utc_ms;
}

Event empty_summary() {
  Event s;
  s.kind = EventKind::events_summarised;
  s.severity = Severity::info;
  s.payload.first_seq = UINT64_MAX;
  s.payload.last_seq = 0;
  return s;
}

void write_event(RecordWriter& w, const Event& e) {
  w.u64(e.seq);
  w.u8(e.time_utc_ms ? 1 : 0);
  w.i64(e.time_utc_ms.value_or(0));
  w.u8(static_cast<uint8_t>(e.kind));
  w.u8(static_cast<uint8_t>(e.severity));
  w.u32(static_cast<uint32_t>(e.payload.days_left));
  w.i64(e.payload.detail);
  w.u32(e.payload.count);
  w.u64(e.payload.first_seq);
  w.u64(e.payload.last_seq);
  w.bytes({reinterpret_cast<const uint8_t*>(e.payload.text.data()), e.payload.text.size()});
}

// Reads one event; false when a field is out of range.
bool read_event(RecordReader& r, Event& e) {
  e.seq = r.u64();
  uint8_t has_time = r.u8();
  Millis time = r.i64();
  uint8_t kind = r.u8();
  uint8_t severity = r.u8();
  e.payload.days_left = static_cast<int32_t>(r.u32());
  e.payload.detail = r.i64();
  e.payload.count = r.u32();
  e.payload.first_seq = r.u64();
  e.payload.last_seq = r.u64();
  r.bytes({reinterpret_cast<uint8_t*>(e.payload.text.data()), e.payload.text.size()});
  if (has_time > 1 || kind >= kEventKindCount || severity >= kSeverityCount) return false;
  if (e.payload.text.back() != '\0') return false;
  e.time_utc_ms = has_time ? std::optional<Millis>(time) : std::nullopt;
  e.kind = static_cast<EventKind>(kind);
  e.severity = static_cast<Severity>(severity);
  if (e.kind == EventKind::events_summarised &&
      (e.payload.count == 0 || e.payload.first_seq > e.payload.last_seq ||
       e.payload.last_seq >= e.seq)) {
    return false;
  }
  return true;
}
}  // namespace

EventQueue::EventQueue(size_t capacity)
    : slots_(new Event[std::max(capacity, kMinCapacity)]),
      capacity_(std::max(capacity, kMinCapacity)) {}

void EventQueue::append(const Event& event) { slots_[size_++] = event; }

void EventQueue::make_room() {
  auto is_low = [](const Event& e) { return e.severity == Severity::info; };
  auto is_summary = [](const Event& e) { return e.kind == EventKind::events_summarised; };
  size_t low_summaries = 0;
  size_t low_events = 0;
  for (size_t i = 0; i < size_; ++i) {
    if (!is_low(slots_[i])) continue;
    if (is_summary(slots_[i])) {
      ++low_summaries;
    } else {
      ++low_events;
    }
  }
  // Fold every low summary (so there is at most one) plus enough of the
  // oldest low events to free a slot; else the two oldest of any severity.
  bool low_only = low_summaries + low_events >= 2;
  size_t plain_wanted = low_summaries >= 2 ? 0 : 2 - low_summaries;
  Event summary = empty_summary();
  size_t kept = 0;
  for (size_t i = 0; i < size_; ++i) {
    const Event& e = slots_[i];
    bool fold;
    if (low_only) {
      fold = is_low(e) && (is_summary(e) || plain_wanted > 0);
      if (fold && !is_summary(e)) --plain_wanted;
    } else {
      fold = i < 2;
    }
    if (fold) {
      absorb(summary, e);
    } else {
      slots_[kept++] = e;
    }
  }
  size_ = kept;
  summary.seq = next_seq_++;
  append(summary);
}

uint64_t EventQueue::push(EventKind kind, Severity severity, std::optional<Millis> time_utc_ms,
                          const EventPayload& payload) {
  if (size_ == capacity_) make_room();
  Event e;
  e.seq = next_seq_++;
  e.time_utc_ms = time_utc_ms;
  e.kind = kind;
  e.severity = severity;
  e.payload = payload;
  append(e);
  dirty_ = true;
  return e.seq;
}

std::span<const Event> EventQueue::batch(size_t max, uint64_t after_seq) const {
  auto all = events();
  auto first = std::upper_bound(all.begin(), all.end(), after_seq,
                                [](uint64_t seq, const Event& e) { return seq < e.seq; });
  auto start = static_cast<size_t>(first - all.begin());
  return all.subspan(start, std::min(max, all.size() - start));
}

Status EventQueue::ack(uint64_t upto) {
  if (upto >= next_seq_) return Status(Reason::invalid_argument);
  size_t drop = 0;
  while (drop < size_ && slots_[drop].seq <= upto) ++drop;
  if (drop == 0) return Status::Ok();
  std::move(slots_.get() + drop, slots_.get() + size_, slots_.get());
  size_ -= drop;
  dirty_ = true;
  return Status::Ok();
}

size_t EventQueue::serialized_size() const {
  return kRecordOverhead + kBodyHeaderSize + size_ * kEventRecordSize;
}

size_t EventQueue::max_serialized_size(size_t capacity) {
  return kRecordOverhead + kBodyHeaderSize + std::max(capacity, kMinCapacity) * kEventRecordSize;
}

Result<size_t> EventQueue::serialize(std::span<uint8_t> out) const {
  RecordWriter w(out, kMagic, kVersion);
  w.u64(next_seq_);
  w.u32(static_cast<uint32_t>(size_));
  for (size_t i = 0; i < size_; ++i) write_event(w, slots_[i]);
  return w.finish();
}

Status EventQueue::restore(std::span<const uint8_t> record) {
  auto body = open_record(record, kMagic, kVersion);
  if (!body.ok()) return body.status();
  // First pass: check everything, so a bad record leaves the queue untouched.
  RecordReader r(*body);
  uint64_t next_seq = r.u64();
  uint32_t count = r.u32();
  if (r.overrun()) return record_error(RecordFault::truncated);
  if (r.remaining() != static_cast<size_t>(count) * kEventRecordSize) {
    return record_error(RecordFault::bad_length);
  }
  if (next_seq == 0) return record_error(RecordFault::bad_value);
  uint64_t previous = 0;
  for (uint32_t i = 0; i < count; ++i) {
    Event e;
    if (!read_event(r, e) || e.seq <= previous || e.seq >= next_seq) {
      return record_error(RecordFault::bad_value);
    }
    previous = e.seq;
  }

  // Second pass: load. Events beyond capacity are folded, oldest first, into
  // one summary that goes last with a fresh seq.
  RecordReader load(body->subspan(kBodyHeaderSize));
  size_ = 0;
  next_seq_ = next_seq;
  size_t fold = count > capacity_ ? count - capacity_ + 1 : 0;
  Event summary = empty_summary();
  for (uint32_t i = 0; i < count; ++i) {
    Event e;
    read_event(load, e);
    if (i < fold) {
      absorb(summary, e);
    } else {
      append(e);
    }
  }
  if (fold > 0) {
    summary.seq = next_seq_++;
    append(summary);
  }
  dirty_ = fold > 0;
  return Status::Ok();
}

}  // namespace sublink
