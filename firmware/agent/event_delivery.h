// Event delivery (PROTOCOL.md section 4, events): the durable event log,
// its streams, and its way to the server. Events are queued with the best
// UTC known, stored before a seq can reach the server, sent in batches of
// one stream while the link is welcomed, and dropped once `event_ack`
// names them. `events.get` reads the queue without taking anything off it.
//
// Shaped like GraceClock: inputs are events, `event_ack` and step(); the
// batch goes to the Outbox; the record goes to the RecordKeeper.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include "firmware/agent/agent_config.h"
#include "firmware/agent/agent_log.h"
#include "firmware/agent/outbox.h"
#include "firmware/agent/server_time.h"
#include "firmware/events/event_queue.h"
#include "firmware/protocol/server_messages.h"
#include "hal/clock.h"
#include "hal/random.h"

namespace sublink {

class RecordKeeper;

class EventDelivery {
 public:
  /// The queue holds max(config.event_capacity, EventQueue::kMinCapacity)
  /// events; its record buffer is allocated here, once.
  EventDelivery(const AgentConfig& config, const AgentLog& log, ServerTime& server_time, MonotonicClock& mono,
                WallClock& wall, Random& random);

  /// The queue, for the boot-time restore and the status.
  EventQueue& queue() { return queue_; }
  const EventQueue& queue() const { return queue_; }
  /// The buffer the event record is read into and written from.
  std::span<uint8_t> record_buffer() { return {record_.get(), record_size_}; }
  /// Folded into a stream id made without the random source.
  void set_boot_count(uint64_t boot_count) { boot_count_ = boot_count; }

  /// The restored log's stream becomes the one the status shows.
  void restored() { stream_text_ = sublink::stream_text(queue_.stream()); }
  /// Starts a new stream (a log that starts empty, or one near the end of
  /// its seq space).
  void start_stream();
  /// Logs and queues an event with `text`, stamped with the best UTC now.
  void push(EventKind kind, Severity severity, std::string_view text = {});
  /// Logs and queues an event with `payload`, stamped with the best UTC now.
  void push(EventKind kind, Severity severity, const EventPayload& payload);
  /// Queues an event stamped with the best UTC now, without logging it.
  void queue_now(EventKind kind, Severity severity, const EventPayload& payload);
  /// Queues an event stamped `utc` without logging it (the caller did).
  void queue_event(EventKind kind, Severity severity, std::optional<Millis> utc, const EventPayload& payload);

  /// Stores the log when it changed.
  void persist(RecordKeeper& records);
  /// Sends the next batch when none is awaiting its ack (the link is welcomed).
  void send_batch(Outbox& outbox, RecordKeeper& records);
  /// `event_ack`: drops what it names and stores the log.
  void on_ack(const EventAck& ack, RecordKeeper& records);
  /// The link ended: no batch is awaiting an ack.
  void link_lost() { request_.reset(); }
  /// The `events.get` answer: up to 8 events after seq `after`.
  Result<size_t> write_pending(std::span<char> out, int64_t re, uint64_t after) const;

  /// The stream new events are numbered in.
  StreamId stream() const { return queue_.stream(); }
  std::string_view stream_text() const { return {stream_text_.data(), stream_text_.size()}; }

 private:
  const AgentLog& log_;
  ServerTime& server_time_;
  MonotonicClock& mono_;
  WallClock& wall_;
  Random& random_;
  size_t batch_size_;
  uint64_t boot_count_ = 0;

  EventQueue queue_;
  std::unique_ptr<uint8_t[]> record_;
  size_t record_size_;
  StreamText stream_text_{};
  std::optional<int64_t> request_;      // id of the batch awaiting event_ack
  StreamId in_flight_ = kLegacyStream;  // the stream of that batch
};

}  // namespace sublink
