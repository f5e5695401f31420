// The device's bounded event log: events wait here, across reboots, until the
// server acknowledges them (`event_ack` `upto`). Capacity is fixed at
// construction; when it is full the oldest events are folded into one
// `events_summarised` event that carries how many they were and their seq
// range, so the server always learns that something happened.
//
// Overflow policy, in order:
//  1. Every `info` summary and the oldest `info` events, two items at
//     least, are folded into a new summary: there is at most one `info`
//     summary, so overflow does not eat the queue with summaries.
//  2. With fewer than two `info` events left, the two oldest events of any
//     severity are folded. The summary takes the highest severity it
//     absorbed, so an alarm is never hidden behind an `info` summary, and
//     its count still says how many events it stands for.
// A summary gets a fresh seq and goes to the end, so the queue stays in seq
// order and seq never repeats.
//
// Delivery contract: persist (serialize) the queue after it changes and
// before sending a batch; then a seq the server has seen is never reused
// after a power cut.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "firmware/events/event.h"
#include "hal/status.h"

namespace sublink {

class EventQueue {
 public:
  /// Room for two events is the least that lets a summary and the new event fit.
  static constexpr size_t kMinCapacity = 2;
  /// Size of one serialized event.
  static constexpr size_t kEventRecordSize = 83;

  /// Allocates room for `capacity` events (at least kMinCapacity) once.
  explicit EventQueue(size_t capacity);

  size_t capacity() const { return capacity_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  /// The seq the next event will get; starts at 1 and only grows.
  uint64_t next_seq() const { return next_seq_; }
  /// True when the queue changed since the last mark_persisted().
  bool dirty() const { return dirty_; }
  /// Tells the queue its current contents are on storage.
  void mark_persisted() { dirty_ = false; }

  /// Makes the next seq at least `seq` (never lowers it). After the record
  /// holding the seq counter was lost, the agent moves past every seq the
  /// server may already hold, so new events are not mistaken for duplicates
  /// and acknowledgements of them are not refused as never issued.
  void skip_to(uint64_t seq) {
    if (seq > next_seq_) {
      next_seq_ = seq;
      dirty_ = true;
    }
  }

  /// Appends an event with the next seq, summarising old events first when
  /// full. Returns the seq given to it.
  uint64_t push(EventKind kind, Severity severity, std::optional<Millis> time_utc_ms,
                const EventPayload& payload = {});

  /// All queued (unacknowledged) events, oldest first. The view is valid
  /// until the next push, ack or restore.
  std::span<const Event> events() const { return {slots_.get(), size_}; }

  /// Up to `max` queued events with seq above `after_seq`, oldest first: the
  /// next batch to send when everything up to `after_seq` is already in
  /// flight. Valid until the next push, ack or restore.
  std::span<const Event> batch(size_t max, uint64_t after_seq = 0) const;

  /// Drops the events with seq <= `upto` (repeating an ack is harmless).
  /// An `upto` at or above next_seq() names events that were never issued:
  /// it is ignored and answered with invalid_argument, so a confused server
  /// cannot wipe the log.
  Status ack(uint64_t upto);

  /// Bytes serialize() needs for the current contents.
  size_t serialized_size() const;
  /// Bytes serialize() can need at most for a queue of `capacity`.
  static size_t max_serialized_size(size_t capacity);

  /// Writes the whole queue, with next_seq(), as one record. Returns its
  /// size, or out_of_memory when `out` is smaller than serialized_size().
  Result<size_t> serialize(std::span<uint8_t> out) const;

  /// Replaces the contents with a record from serialize(). On any error the
  /// queue is left as it was and the Status is invalid_payload with a
  /// RecordFault detail. A record holding more events than this queue's
  /// capacity is loaded by folding its oldest events into one summary.
  Status restore(std::span<const uint8_t> record);

 private:
  void make_room();
  void append(const Event& event);

  std::unique_ptr<Event[]> slots_;
  size_t capacity_;
  size_t size_ = 0;
  uint64_t next_seq_ = 1;
  bool dirty_ = false;
};

}  // namespace sublink
