#include "firmware/agent/event_delivery.h"

#include <algorithm>
#include <array>

#include "firmware/agent/event_wire.h"
#include "firmware/agent/record_keeper.h"

namespace sublink {

EventDelivery::EventDelivery(const AgentConfig& config, const AgentLog& log, ServerTime& server_time,
                             MonotonicClock& mono, WallClock& wall, Random& random)
    : log_(log),
      server_time_(server_time),
      mono_(mono),
      wall_(wall),
      random_(random),
      batch_size_(std::clamp<size_t>(config.event_batch, 1, 8)),
      queue_(std::max(config.event_capacity, EventQueue::kMinCapacity)),
      record_size_(EventQueue::max_serialized_size(queue_.capacity())) {
  record_ = std::make_unique<uint8_t[]>(record_size_);
}

void EventDelivery::start_stream() {
  // A stream id only has to differ from every earlier one of this device:
  // 64 random bits. Should the random source fail, the boot count and the
  // clocks still make a value this device has not used.
  for (int attempt = 0; attempt < 4; ++attempt) {
    std::array<uint8_t, 8> bytes{};
    StreamId id = 0;
    if (random_.fill(bytes).ok()) {
      for (uint8_t b : bytes) id = id << 8 | b;
    } else {
      log_.write(LogLevel::error, "random source failed: event stream id from the boot count and clocks");
      WallTime w = wall_.now();
      uint64_t x = boot_count_ * 0x9E3779B97F4A7C15ull ^ static_cast<uint64_t>(mono_.now_ms()) ^
                   (static_cast<uint64_t>(w.utc_ms) << 20) ^ static_cast<uint64_t>(attempt);
      x ^= x >> 31;
      x *= 0xBF58476D1CE4E5B9ull;
      id = x ^ (x >> 29);
    }
    if (queue_.start_stream(id).ok()) {
      stream_text_ = sublink::stream_text(id);
      log_.write(LogLevel::notice, "event log: new stream", {stream_text_.data(), kStreamTextSize});
      return;
    }
  }
}

void EventDelivery::push(EventKind kind, Severity severity, std::string_view text) {
  EventPayload p;
  p.set_text(text);
  push(kind, severity, p);
}

void EventDelivery::push(EventKind kind, Severity severity, const EventPayload& payload) {
  log_.event(kind, severity, payload);
  queue_now(kind, severity, payload);
}

void EventDelivery::queue_now(EventKind kind, Severity severity, const EventPayload& payload) {
  queue_event(kind, severity, server_time_.best_utc(mono_.now_ms()), payload);
}

void EventDelivery::queue_event(EventKind kind, Severity severity, std::optional<Millis> utc,
                                const EventPayload& payload) {
  // A stream near the end of its seq space hands over to a new one; the
  // events still queued in it go out first, in their own stream.
  if (queue_.needs_new_stream()) start_stream();
  if (queue_.push(kind, severity, utc, payload) == 0) {
    log_.write(LogLevel::error, "event not queued: no event stream", kind_name(kind));
  }
}

void EventDelivery::persist(RecordKeeper& records) {
  if (!queue_.dirty()) return;
  Result<size_t> size = queue_.serialize({record_.get(), record_size_});
  if (!size.ok()) {
    log_.write(LogLevel::error, "events not serialized", reason_name(size.status().reason()));
    return;
  }
  if (records.store(RecordId::events, {record_.get(), *size})) queue_.mark_persisted();
}

void EventDelivery::send_batch(Outbox& outbox, RecordKeeper& records) {
  if (request_ || queue_.empty()) return;
  persist(records);  // a seq the server sees must never be reused after a power cut
  if (queue_.dirty()) return;
  std::span<const Event> batch = queue_.batch(batch_size_);
  std::array<WireEvent, 8> wire;
  std::array<EventMessage, 8> messages;
  for (size_t i = 0; i < batch.size(); ++i) {
    to_wire_event(batch[i], wire[i]);
    messages[i] = wire[i].message;
  }
  // A batch is one stream; legacy events (numbered before streams) go
  // without `stream`, as they did then.
  StreamText stream = sublink::stream_text(batch.front().stream);
  std::optional<std::string_view> stream_field;
  if (batch.front().stream != kLegacyStream) stream_field = std::string_view(stream.data(), stream.size());
  int64_t id = outbox.next_id();
  if (outbox.commit(build_event_batch(outbox.space(), id, stream_field, {messages.data(), batch.size()}))) {
    request_ = id;
    in_flight_ = batch.front().stream;
  }
}

void EventDelivery::on_ack(const EventAck& e, RecordKeeper& records) {
  // The ack names its stream; an ack without one is for legacy events.
  StreamId stream = kLegacyStream;
  if (e.stream && !parse_stream_text(*e.stream, stream)) {
    log_.write(LogLevel::warning, "event_ack ignored: stream is not 16 lower-case hex digits", *e.stream);
    return;
  }
  Status acked = queue_.ack(stream, static_cast<uint64_t>(e.upto));
  if (!acked.ok()) {
    log_.write(LogLevel::warning,
               acked.detail() == EventQueue::kAckUnknownStream ? "event_ack for another stream acknowledges nothing"
                                                               : "event_ack names events never sent",
               e.stream.value_or("(no stream)"));
    return;
  }
  if (request_ && stream == in_flight_) request_.reset();
  persist(records);
}

Result<size_t> EventDelivery::write_pending(std::span<char> out, int64_t re, uint64_t after) const {
  std::span<const Event> pending = queue_.batch(8, after);
  return build_response_ok(out, re, [&](JsonWriter& w) {
    StreamText stream = sublink::stream_text(pending.empty() ? queue_.stream() : pending.front().stream);
    w.begin_object().key("pending").integer(static_cast<int64_t>(queue_.size()));
    if (pending.empty() || pending.front().stream != kLegacyStream) w.key("stream").string({stream.data(), stream.size()});
    w.key("events").begin_array();
    for (const Event& e : pending) {
      WireEvent wire;
      to_wire_event(e, wire);
      write_event_object(w, wire.message);
    }
    w.end_array().end_object();
  });
}

}  // namespace sublink
