#include "firmware/events/event_queue.h"

#include <algorithm>

#include "firmware/events/record_codec.h"

namespace sublink {

namespace {
constexpr RecordMagic kMagic = {'S', 'L', 'E', 'V'};
// Version 2: the current stream, and each event's stream. Version 1 (before
// streams) is still read: its events become legacy-stream events.
constexpr uint16_t kVersion = 2;
constexpr uint16_t kVersionBeforeStreams = 1;
constexpr size_t kBodyHeaderSize = 8 + 8 + 4;         // stream, next_seq, count
constexpr size_t kV1BodyHeaderSize = 8 + 4;           // next_seq, count
constexpr size_t kV1EventRecordSize = EventQueue::kEventRecordSize - 8;  // no stream
constexpr int64_t kMaxDetail = static_cast<int64_t>(EventQueue::kMaxEventSeq);

bool is_summary(const Event& e) { return e.kind == EventKind::events_summarised; }

uint32_t saturating_add(uint32_t a, uint32_t b) { return a > UINT32_MAX - b ? UINT32_MAX : a + b; }

// Folds `event` into `summary`, which already stands for at least one event.
// The seq range covers only events of the summary's own stream: a seq of
// another stream means nothing next to it. An event that lends the summary
// its own seq is counted but stays out of the range, which lies below the
// summary's seq.
void absorb(Event& summary, const Event& event, bool lends_its_seq = false) {
  uint32_t count = is_summary(event) ? event.payload.count : 1;
  summary.payload.count = saturating_add(summary.payload.count, count);
  summary.severity = std::max(summary.severity, event.severity);
  if (event.time_utc_ms) summary.time_utc_ms = event.time_utc_ms;
  if (event.stream != summary.stream) return;
  if (lends_its_seq && !is_summary(event)) return;
  uint64_t first = is_summary(event) ? event.payload.first_seq : event.seq;
  uint64_t last = is_summary(event) ? event.payload.last_seq : event.seq;
  if (first == 0) return;  // a summary of earlier streams only
  summary.payload.first_seq = summary.payload.first_seq == 0 ? first : std::min(summary.payload.first_seq, first);
  summary.payload.last_seq = std::max(summary.payload.last_seq, last);
}

Event empty_summary(StreamId stream) {
  Event s;
  s.stream = stream;
  s.kind = EventKind::events_summarised;
  s.severity = Severity::info;
  return s;
}

// Tunnel events keep the channel id in count, bytes in first_seq/last_seq.
constexpr uint32_t kMaxTunnelChannel = 65535;
bool is_tunnel(EventKind kind) { return kind == EventKind::tunnel_opened || kind == EventKind::tunnel_closed; }

// Brings a payload into the ranges the record states (see the header).
EventPayload normalized(EventKind kind, const EventPayload& in) {
  EventPayload p;
  p.days_left = std::clamp<int32_t>(in.days_left, -1, EventQueue::kMaxDaysLeft);
  p.detail = std::clamp(in.detail, -kMaxDetail, kMaxDetail);
  if (kind == EventKind::events_summarised) {
    p.count = in.count;
    p.first_seq = in.first_seq;
    p.last_seq = in.last_seq;
  } else if (kind == EventKind::record_damaged) {
    p.count = std::min(in.count, EventQueue::kMaxRecordEvents);
  } else if (is_tunnel(kind)) {
    p.count = std::clamp<uint32_t>(in.count, 1, kMaxTunnelChannel);
    if (kind == EventKind::tunnel_closed) {
      p.first_seq = std::min(in.first_seq, EventQueue::kMaxEventSeq);
      p.last_seq = std::min(in.last_seq, EventQueue::kMaxEventSeq);
    }
  }
  p.set_text(in.text_view());
  return p;
}

// Writes one event (without its stream for a version 1 record).
void write_event(RecordWriter& w, const Event& e, bool with_stream) {
  if (with_stream) w.u64(e.stream);
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

// Reads one event (without its stream for a version 1 record); false when a
// field is out of its stated range.
bool read_event(RecordReader& r, Event& e, bool with_stream) {
  e.stream = with_stream ? r.u64() : kLegacyStream;
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
  if (e.seq == 0 || e.seq > EventQueue::kMaxEventSeq) return false;
  // An unknown time is stored as 0 (one encoding per event).
  if (has_time > 1 || (has_time == 0 && time != 0)) return false;
  if (has_time == 1 && (time < 0 || time > EventQueue::kMaxEventTimeMs)) return false;
  if (kind >= kEventKindCount || severity >= kSeverityCount) return false;
  if (e.payload.days_left < -1 || e.payload.days_left > EventQueue::kMaxDaysLeft) return false;
  if (e.payload.detail < -kMaxDetail || e.payload.detail > kMaxDetail) return false;
  // Text: NUL terminated, and nothing but NULs after the first one.
  size_t length = e.payload.text_view().size();
  if (length >= e.payload.text.size()) return false;
  for (size_t i = length; i < e.payload.text.size(); ++i) {
    if (e.payload.text[i] != '\0') return false;
  }
  e.time_utc_ms = has_time ? std::optional<Millis>(time) : std::nullopt;
  e.kind = static_cast<EventKind>(kind);
  e.severity = static_cast<Severity>(severity);
  const EventPayload& p = e.payload;
  if (is_summary(e)) {
    if (p.count == 0) return false;
    bool no_range = p.first_seq == 0 && p.last_seq == 0;
    if (!no_range && (p.first_seq == 0 || p.first_seq > p.last_seq || p.last_seq >= e.seq)) return false;
  } else if (is_tunnel(e.kind)) {
    if (p.count == 0 || p.count > kMaxTunnelChannel) return false;
    if (p.first_seq > EventQueue::kMaxEventSeq || p.last_seq > EventQueue::kMaxEventSeq) return false;
    if (e.kind == EventKind::tunnel_opened && (p.first_seq != 0 || p.last_seq != 0)) return false;
  } else if (p.first_seq != 0 || p.last_seq != 0) {
    return false;
  } else if (p.count != 0 && (e.kind != EventKind::record_damaged || p.count > EventQueue::kMaxRecordEvents)) {
    return false;
  }
  return true;
}
}  // namespace

EventQueue::EventQueue(size_t capacity)
    : slots_(new Event[std::max(capacity, kMinCapacity)]),
      capacity_(std::max(capacity, kMinCapacity)) {}

void EventQueue::append(const Event& event) { slots_[size_++] = event; }

Status EventQueue::start_stream(StreamId id) {
  if (id == kLegacyStream || id == stream_) return Status(Reason::invalid_argument);
  // Streams still queued plus the new one must fit a record.
  size_t streams = 1;
  for (size_t i = 0; i < size_; ++i) {
    if (slots_[i].stream == id) return Status(Reason::invalid_argument);
    if (i == 0 || slots_[i].stream != slots_[i - 1].stream) ++streams;
  }
  if (streams > kMaxStreams) return Status(Reason::out_of_memory);
  stream_ = id;
  next_seq_ = 1;
  dirty_ = true;
  return Status::Ok();
}

void EventQueue::make_room() {
  auto is_low = [](const Event& e) { return e.severity == Severity::info; };
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
  Event summary = empty_summary(stream_);
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
  if (stream_ == kLegacyStream || static_cast<uint8_t>(kind) >= kEventKindCount ||
      static_cast<uint8_t>(severity) >= kSeverityCount) {
    return 0;
  }
  // A full queue spends one seq on a summary before the event's own.
  uint64_t needed = size_ == capacity_ ? 2 : 1;
  if (next_seq_ + needed - 1 > kMaxEventSeq) return 0;
  if (size_ == capacity_) make_room();
  Event e;
  e.stream = stream_;
  e.seq = next_seq_++;
  if (time_utc_ms && *time_utc_ms >= 0 && *time_utc_ms <= kMaxEventTimeMs) e.time_utc_ms = time_utc_ms;
  e.kind = kind;
  e.severity = severity;
  e.payload = normalized(kind, payload);
  if (kind == EventKind::events_summarised) {
    // Only the queue's own summaries carry a range; a pushed one must still
    // read back: at least one event, a range within this stream below it.
    e.payload.count = std::max<uint32_t>(e.payload.count, 1);
    if (e.payload.first_seq == 0 || e.payload.first_seq > e.payload.last_seq || e.payload.last_seq >= e.seq) {
      e.payload.first_seq = e.payload.last_seq = 0;
    }
  }
  append(e);
  dirty_ = true;
  return e.seq;
}

std::span<const Event> EventQueue::batch(size_t max, uint64_t after_seq) const {
  auto all = events();
  if (all.empty()) return {};
  StreamId oldest = all.front().stream;
  size_t end = 0;
  while (end < all.size() && all[end].stream == oldest) ++end;
  auto group = all.first(end);
  auto first = std::upper_bound(group.begin(), group.end(), after_seq,
                                [](uint64_t seq, const Event& e) { return seq < e.seq; });
  auto start = static_cast<size_t>(first - group.begin());
  return group.subspan(start, std::min(max, group.size() - start));
}

Status EventQueue::ack(StreamId stream, uint64_t upto) {
  bool queued = false;
  for (size_t i = 0; i < size_ && !queued; ++i) queued = slots_[i].stream == stream;
  if (stream == stream_ && stream_ != kLegacyStream) {
    if (upto >= next_seq_) return Status(Reason::invalid_argument, kAckNeverIssued);
  } else if (!queued) {
    return Status(Reason::invalid_argument, kAckUnknownStream);
  }
  // The acknowledged events of one stream are contiguous; keep the rest in order.
  size_t kept = 0;
  for (size_t i = 0; i < size_; ++i) {
    if (slots_[i].stream == stream && slots_[i].seq <= upto) continue;
    if (kept != i) slots_[kept] = slots_[i];
    ++kept;
  }
  if (kept != size_) {
    size_ = kept;
    dirty_ = true;
  }
  return Status::Ok();
}

size_t EventQueue::serialized_size() const {
  if (stream_ == kLegacyStream) return kRecordOverhead + kV1BodyHeaderSize + size_ * kV1EventRecordSize;
  return kRecordOverhead + kBodyHeaderSize + size_ * kEventRecordSize;
}

size_t EventQueue::max_serialized_size(size_t capacity) {
  return kRecordOverhead + kBodyHeaderSize + std::max(capacity, kMinCapacity) * kEventRecordSize;
}

Result<size_t> EventQueue::serialize(std::span<uint8_t> out) const {
  // With no stream started (a fresh queue, or one restored from a version 1
  // record) every event is a legacy one and next_seq counts the legacy
  // stream: that is a version 1 record, which restore() reads back as it
  // was. A version 2 record always names its current stream.
  const bool with_streams = stream_ != kLegacyStream;
  RecordWriter w(out, kMagic, with_streams ? kVersion : kVersionBeforeStreams);
  if (with_streams) w.u64(stream_);
  w.u64(next_seq_);
  w.u32(static_cast<uint32_t>(size_));
  for (size_t i = 0; i < size_; ++i) write_event(w, slots_[i], with_streams);
  return w.finish();
}

uint32_t EventQueue::events_in_record(std::span<const uint8_t> record) {
  auto body = open_record(record, kMagic, kVersion);
  size_t count_at = 16;
  if (!body.ok()) {
    body = open_record(record, kMagic, kVersionBeforeStreams);
    count_at = 8;
  }
  if (!body.ok() || body->size() < count_at + 4) return 0;
  RecordReader r(body->subspan(count_at));
  return r.u32();
}

Status EventQueue::restore(std::span<const uint8_t> record) {
  bool with_streams = true;
  auto body = open_record(record, kMagic, kVersion);
  if (!body.ok() && body.status().detail() == static_cast<int32_t>(RecordFault::unsupported_version)) {
    body = open_record(record, kMagic, kVersionBeforeStreams);
    with_streams = false;
  }
  if (!body.ok()) return body.status();
  const size_t header_size = with_streams ? kBodyHeaderSize : kV1BodyHeaderSize;
  const size_t event_size = with_streams ? kEventRecordSize : kV1EventRecordSize;

  // First pass: check everything, so a bad record leaves the queue untouched.
  RecordReader r(*body);
  StreamId stream = with_streams ? r.u64() : kLegacyStream;
  uint64_t next_seq = r.u64();
  uint32_t count = r.u32();
  if (r.overrun()) return record_error(RecordFault::truncated);
  if (r.remaining() != static_cast<size_t>(count) * event_size) return record_error(RecordFault::bad_length);
  if (count > kMaxRecordEvents) return record_error(RecordFault::bad_value);
  if (next_seq == 0 || next_seq > kMaxEventSeq + 1) return record_error(RecordFault::bad_value);
  if (with_streams && stream == kLegacyStream) return record_error(RecordFault::bad_value);
  // Streams come in groups, oldest first, at most kMaxStreams of them and
  // each once; seq increases within a group; the current stream's group
  // comes last and stays below next_seq.
  const size_t fold = count > capacity_ ? count - capacity_ + 1 : 0;
  StreamId newest_folded_stream = stream;
  StreamId groups[kMaxStreams] = {};
  size_t group_count = 0;
  uint64_t previous = 0;
  for (uint32_t i = 0; i < count; ++i) {
    Event e;
    if (!read_event(r, e, with_streams)) return record_error(RecordFault::bad_value);
    if (i + 1 == fold) newest_folded_stream = e.stream;
    if (group_count == 0 || e.stream != groups[group_count - 1]) {
      if (group_count == kMaxStreams) return record_error(RecordFault::bad_value);
      for (size_t g = 0; g < group_count; ++g) {
        if (groups[g] == e.stream || groups[g] == stream) return record_error(RecordFault::bad_value);
      }
      groups[group_count++] = e.stream;
      previous = 0;
    }
    if (e.stream == stream && e.seq >= next_seq) return record_error(RecordFault::bad_value);
    if (e.seq <= previous) return record_error(RecordFault::bad_value);
    previous = e.seq;
  }

  // Second pass: load. Events beyond capacity are folded, oldest first, into
  // one summary. It goes last with a fresh seq of the current stream (a
  // version 1 record's legacy counter is the current one until a stream
  // starts). When that stream has no seq left, the summary takes the place,
  // stream and seq of the newest event it folds instead: events are
  // delivered in order, so a server that already has that seq has every
  // event the summary stands for, and the record stays one this queue and
  // a larger one read back.
  const bool fresh_seq = next_seq <= kMaxEventSeq;
  RecordReader load(body->subspan(header_size));
  size_ = 0;
  stream_ = stream;
  next_seq_ = next_seq;
  Event summary = empty_summary(fresh_seq ? stream_ : newest_folded_stream);
  for (uint32_t i = 0; i < count; ++i) {
    Event e;
    read_event(load, e, with_streams);
    if (i >= fold) {
      append(e);
      continue;
    }
    if (fresh_seq) {
      absorb(summary, e);
      continue;
    }
    const bool newest = i + 1 == fold;
    absorb(summary, e, /*lends_its_seq=*/newest);
    if (!newest) continue;
    summary.seq = e.seq;
    append(summary);
  }
  if (fold > 0 && fresh_seq) {
    summary.seq = next_seq_++;
    append(summary);
  }
  dirty_ = fold > 0 || !with_streams;
  return Status::Ok();
}

}  // namespace sublink
