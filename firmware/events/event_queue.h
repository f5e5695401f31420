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
// order and seq never repeats. One exception: a record folded on restore
// into a smaller queue when its stream has no seq left (next seq past
// kMaxEventSeq); the summary then takes the place and seq of the newest
// event it folds. Delivery is in order, so a server that has that seq
// already has every event the summary stands for.
//
// Streams (PROTOCOL.md section 4): the queue numbers new events in its
// current stream, which the agent starts (start_stream) whenever the log
// starts empty. Events of an earlier stream may still wait in front of them
// (a version 1 record's legacy events, a stream whose seq space ran out):
// each event carries its stream, batches never mix streams, and an ack names
// the stream it acknowledges.
//
// Ranges (checked on restore, kept by every operation, so the queue never
// writes a record it would refuse to read back): seq 1..kMaxEventSeq (exact
// as a JSON number) and the next seq 1..kMaxEventSeq + 1; at most
// kMaxRecordEvents events; times 0..kMaxEventTimeMs (year 9999) or unknown
// (stored as 0);
// kinds and severities within their enums; days_left -1..kMaxDaysLeft;
// detail within +-kMaxEventSeq; a summary's count 1..UINT32_MAX (saturating)
// and its seq range within its own stream and below its seq (or 0..0 when it
// stands only for events of earlier streams); record_damaged's count (events
// lost) 0..kMaxRecordEvents; tunnel_opened's and tunnel_closed's count (the
// channel) 1..65535 and tunnel_closed's first_seq/last_seq (bytes in and
// out) 0..kMaxEventSeq; other kinds count 0; text NUL
// terminated within 32 bytes, NUL padded.
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
  static constexpr size_t kEventRecordSize = 91;
  /// Highest seq: 2^53 - 1, exact as a JSON number on the wire.
  static constexpr uint64_t kMaxEventSeq = (uint64_t{1} << 53) - 1;
  /// When the next seq passes this, the stream has too little seq space
  /// left and the agent starts a new one (needs_new_stream()).
  static constexpr uint64_t kRenewStreamSeq = kMaxEventSeq - (uint64_t{1} << 20);
  /// Most streams a record may hold events of (legacy, one whose seq space
  /// ran out, the current one, and one to spare).
  static constexpr size_t kMaxStreams = 4;
  /// Most events a record may hold.
  static constexpr uint32_t kMaxRecordEvents = 4096;
  /// Latest event time: 9999-12-31T23:59:59.999Z.
  static constexpr Millis kMaxEventTimeMs = 253402300799999;
  /// Most whole days of grace an event may report.
  static constexpr int32_t kMaxDaysLeft = 1000000;

  /// Allocates room for `capacity` events (at least kMinCapacity) once. No
  /// stream is started: push() needs start_stream() or restore() first.
  explicit EventQueue(size_t capacity);

  size_t capacity() const { return capacity_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  /// The stream new events are numbered in; kLegacyStream until started.
  StreamId stream() const { return stream_; }
  /// The seq the next event will get in stream(); starts at 1 and only grows.
  uint64_t next_seq() const { return next_seq_; }
  /// True when no stream is started or its seq space is nearly used up.
  bool needs_new_stream() const { return stream_ == kLegacyStream || next_seq_ > kRenewStreamSeq; }
  /// True when the queue changed since the last mark_persisted().
  bool dirty() const { return dirty_; }
  /// Tells the queue its current contents are on storage.
  void mark_persisted() { dirty_ = false; }

  /// Numbers new events in stream `id` from seq 1. Events already queued
  /// keep their stream and seq and go out first. invalid_argument when `id`
  /// is kLegacyStream, the current stream or that of a queued event;
  /// out_of_memory when the queue already holds kMaxStreams streams.
  [[nodiscard]] Status start_stream(StreamId id);

  /// Appends an event with the next seq of stream(), summarising old
  /// events first when full. Fields are brought into their ranges (a time
  /// out of range becomes unknown, text is cut, fields the kind does not use
  /// are cleared). Returns the seq given to it, or 0 when no stream is
  /// started or its seq space is used up (then nothing changed).
  uint64_t push(EventKind kind, Severity severity, std::optional<Millis> time_utc_ms,
                const EventPayload& payload = {});

  /// All queued (unacknowledged) events, oldest first. The view is valid
  /// until the next push, ack or restore.
  std::span<const Event> events() const { return {slots_.get(), size_}; }

  /// Up to `max` queued events of the oldest queued stream with seq above
  /// `after_seq`, oldest first: the next batch to send when everything up
  /// to `after_seq` is already in flight. Never mixes streams. Valid until
  /// the next push, ack or restore.
  std::span<const Event> batch(size_t max, uint64_t after_seq = 0) const;

  /// `detail` of ack()'s invalid_argument: which rule the ack broke.
  static constexpr int32_t kAckNeverIssued = 1;    // upto at or above next_seq()
  static constexpr int32_t kAckUnknownStream = 2;  // neither current nor queued

  /// Drops the events of `stream` with seq <= `upto` (repeating an ack is
  /// harmless). invalid_argument, changing nothing, with kAckNeverIssued
  /// for an `upto` at or above next_seq() of the current stream (a confused
  /// server cannot wipe the log), or kAckUnknownStream for a stream that is
  /// neither the current one nor queued (it acknowledges nothing).
  [[nodiscard]] Status ack(StreamId stream, uint64_t upto);

  /// Bytes serialize() needs for the current contents.
  size_t serialized_size() const;
  /// Bytes serialize() can need at most for a queue of `capacity`.
  static size_t max_serialized_size(size_t capacity);

  /// Writes the whole queue, with stream() and next_seq(), as one record
  /// (version 1, without streams, while no stream is started: then every
  /// event is a legacy one). Returns its size, or out_of_memory when `out`
  /// is smaller than serialized_size().
  Result<size_t> serialize(std::span<uint8_t> out) const;

  /// Replaces the contents with a record from serialize() (or a version 1
  /// record from before streams: its events keep their seqs in
  /// kLegacyStream and no stream is started). On any error the queue is
  /// left as it was and the Status is invalid_payload with a RecordFault
  /// detail (bad_value: a field out of its range). A record holding more
  /// events than this queue's capacity is loaded by folding its oldest
  /// events into one summary: every record a larger queue reads back, a
  /// smaller one reads too.
  [[nodiscard]] Status restore(std::span<const uint8_t> record);

  /// How many events a record says it holds when its framing and CRC check
  /// out (so the count is what was written), else 0: what a record refused
  /// for a field out of range loses.
  static uint32_t events_in_record(std::span<const uint8_t> record);

 private:
  void make_room();
  void append(const Event& event);

  std::unique_ptr<Event[]> slots_;
  size_t capacity_;
  size_t size_ = 0;
  StreamId stream_ = kLegacyStream;
  uint64_t next_seq_ = 1;
  bool dirty_ = false;
};

}  // namespace sublink
