// One entry of the device's event log (PROTOCOL.md sections 4 and 5): what
// happened, when, how bad, and a small fixed payload. Fixed size so a
// bounded queue of them never allocates; the protocol codec turns the fields
// into JSON.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "hal/clock.h"
#include "hal/hex64.h"

namespace sublink {

/// What happened. Values are stored in records: append only, never renumber.
enum class EventKind : uint8_t {
  grace_started = 0,
  grace_alarm,
  grace_cleared,
  grace_expired,
  license_applied,
  license_revoked,
  license_refused,
  clock_rollback,     // the wall clock went backwards: adds no grace time
  clock_skew,         // a trusted source differs by less than 24 h
  clock_jump,         // the device clock is ahead of a trusted source by 24 h or more
  link_up,
  link_down,
  events_summarised,  // stands for `count` older events the queue had no room for
  license_denied,     // the server answered a license_request with license_denied
  audit_overuse,      // the server found more in use than licensed (audit_ack overuse)
  record_damaged,     // a durable record could not be read back at boot (text: which, what was lost)
  storage_failed,     // a durable record could not be written (text: which); what it held is in force in memory only
  tunnel_opened,      // a tunnel channel reached its local service (count: channel; text: service, 0x1f, operator)
  tunnel_closed,      // it ended (count: channel; first_seq/last_seq: bytes in/out; detail: seconds; days_left: reason code)
};
inline constexpr uint8_t kEventKindCount = static_cast<uint8_t>(EventKind::tunnel_closed) + 1;

/// How bad. Ordered: a larger value is more severe. Values are stored in records.
enum class Severity : uint8_t {
  info = 0,
  warning,
  minor,
  major,
  critical,
};
inline constexpr uint8_t kSeverityCount = static_cast<uint8_t>(Severity::critical) + 1;

/// Stable lower-case wire name of a kind ("grace_alarm"); "unknown" outside the enum.
std::string_view kind_name(EventKind kind);

/// Stable lower-case wire name of a severity ("major"); "unknown" outside the enum.
std::string_view severity_name(Severity severity);

/// Kind-specific fields. Unused fields keep their defaults, which the codec
/// leaves out of the JSON.
struct EventPayload {
  static constexpr size_t kTextCapacity = 32;  // a license serial fits

  int32_t days_left = -1;  // grace_alarm, grace_started: whole days of grace left; -1 none
  int64_t detail = 0;      // e.g. clock difference in seconds, a denial code number
  uint32_t count = 0;      // events_summarised: how many events it stands for
  uint64_t first_seq = 0;  // events_summarised: lowest seq it stands for
  uint64_t last_seq = 0;   // events_summarised: highest seq it stands for
  std::array<char, kTextCapacity> text{};  // short text, NUL padded

  /// Copies `s` into `text`, cut at kTextCapacity - 1 bytes (on a UTF-8
  /// boundary) so the text stays NUL terminated and valid.
  void set_text(std::string_view s);
  /// The text up to its NUL.
  std::string_view text_view() const;

  bool operator==(const EventPayload&) const = default;
};

/// An event stream id (PROTOCOL.md section 4 `stream`): random, made
/// whenever the device's event log starts empty, never 0 for a stream the
/// device numbers itself. kLegacyStream marks events numbered before streams
/// existed (a version 1 event record): they go on the wire without `stream`.
using StreamId = uint64_t;
inline constexpr StreamId kLegacyStream = 0;

/// Characters of a stream id on the wire: 16 lower-case hex digits.
inline constexpr size_t kStreamTextSize = kHex64Length;
using StreamText = Hex64Text;

/// `id` as 16 lower-case hex digits (the wire form).
StreamText stream_text(StreamId id);

/// Reads the wire form: exactly 16 lower-case hex digits, not all zero.
/// False (and `out` untouched) for anything else.
bool parse_stream_text(std::string_view text, StreamId& out);

/// The `detail` of a record_damaged event: a RecordFault value (1..6: the
/// record's own checks failed) or one of these.
inline constexpr int32_t kDamageNoIntactCopy = 100;  // storage holds no copy that passes its checks
inline constexpr int32_t kDamageNewestCopy = 101;    // the newest copy was damaged, an older one restored
inline constexpr int32_t kDamageReadFailed = 102;    // the platform failed the read

/// Stable name of a record_damaged `detail` ("bad_checksum",
/// "no_intact_copy", "newest_copy_damaged", "read_failed"); "unknown" else.
const char* record_damage_name(int64_t detail);

struct Event {
  StreamId stream = kLegacyStream;       // the stream `seq` counts in
  uint64_t seq = 0;                      // per stream, increasing, survives reboots
  std::optional<Millis> time_utc_ms;     // empty when the device does not know the time
  EventKind kind = EventKind::link_up;
  Severity severity = Severity::info;
  EventPayload payload;

  bool operator==(const Event&) const = default;
};

}  // namespace sublink
