// Builders for every message the device sends (PROTOCOL.md section 4).
// Each writes one JSON object into a caller-given buffer and returns its
// length, or out_of_memory (detail: bytes needed) when it does not fit, or
// invalid_argument when a string is not valid UTF-8. Field order is fixed
// (type, id/re, then the table's order) so output is reproducible.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "firmware/json/json_writer.h"
#include "hal/clock.h"
#include "hal/status.h"

namespace sublink {

inline constexpr int kProtocolVersion = 1;

struct HelloMessage {
  std::string_view customer_id;
  std::string_view system_id;
  std::string_view agent;  // agent version
  std::string_view fw;     // appliance firmware version
  std::string_view role = "primary";
  int64_t boot = 0;                      // boot counter
  std::string_view event_stream;         // 16 hex digits: the stream new events are numbered in
  /// This device's `instance` (16 lower-case hex digits, made at its first
  /// boot); nullopt leaves the field out.
  std::optional<std::string_view> instance;
  std::optional<Millis> time;            // device wall clock; nullopt when not trusted
  std::string_view state;                // unlicensed, licensed, grace, expired
  int64_t grace_elapsed_s = 0;
  std::optional<std::string_view> license_serial;  // nullopt when none held
};

/// `hello` (request `id`).
Result<size_t> build_hello(std::span<char> out, int64_t id, const HelloMessage& hello);

/// `heartbeat` (request `id`).
Result<size_t> build_heartbeat(std::span<char> out, int64_t id, int64_t seq, int64_t uptime_s);

struct FeatureRequest {
  std::string_view name;
  int64_t qty = 0;
};

/// `license_request` (request `id`).
Result<size_t> build_license_request(std::span<char> out, int64_t id, std::span<const FeatureRequest> features);

struct FeatureUsage {
  std::string_view name;
  int64_t in_use = 0;
  int64_t peak = 0;
};

struct LicenseAudit {
  std::string_view serial;
  Millis from = 0;
  Millis to = 0;
  std::span<const FeatureUsage> usage;
};

/// `license_audit` (request `id`).
Result<size_t> build_license_audit(std::span<char> out, int64_t id, const LicenseAudit& audit);

/// One extra field of an event beyond seq, time and kind (e.g. days_left).
struct EventAttribute {
  enum class Kind : uint8_t { integer, string, boolean };
  std::string_view name;
  Kind kind = Kind::integer;
  int64_t integer = 0;
  std::string_view text;
  bool flag = false;

  static EventAttribute of(std::string_view name, int64_t value) { return {name, Kind::integer, value, {}, false}; }
  static EventAttribute of(std::string_view name, std::string_view value) { return {name, Kind::string, 0, value, false}; }
  static EventAttribute of_bool(std::string_view name, bool value) { return {name, Kind::boolean, 0, {}, value}; }
};

struct EventMessage {
  int64_t seq = 0;
  std::optional<Millis> time;  // null on the wire when the device did not know the time
  std::string_view kind;
  std::span<const EventAttribute> attributes;
};

/// One event as a JSON object (seq, time, kind, then the attributes), for
/// the `event` batch and for answers that list events. False when an
/// attribute is named seq, time or kind: it would shadow the envelope.
bool write_event_object(JsonWriter& w, const EventMessage& event);

/// `event` batch (request `id`) of events of `stream` (16 hex digits; left
/// out for events numbered before streams). An attribute named seq, time or kind is
/// invalid_argument: it would shadow the envelope.
Result<size_t> build_event_batch(std::span<char> out, int64_t id, std::optional<std::string_view> stream,
                                 std::span<const EventMessage> events);

/// `response` with ok false and error {code, message}.
Result<size_t> build_response_error(std::span<char> out, int64_t re, std::string_view code, std::string_view message);

/// `response` with ok true; `write_result(JsonWriter&)` writes exactly one
/// JSON value (the `result`) with the writer, so nothing is copied.
template <class WriteResult>
Result<size_t> build_response_ok(std::span<char> out, int64_t re, WriteResult&& write_result) {
  JsonWriter w(out);
  w.begin_object().key("type").string("response").key("re").integer(re).key("ok").boolean(true).key("result");
  write_result(w);
  w.end_object();
  return w.finish();
}

}  // namespace sublink
