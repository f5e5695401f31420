// Every message the device sends (PROTOCOL.md section 4): one type, one
// writer and one reader per message, used by the device (which writes them)
// and the server (which reads them), so a new field is one change here.
//
// Writers: the build_* functions write into a caller-given buffer and
// return its length, or out_of_memory (detail: bytes needed) when it does
// not fit, or invalid_argument when a string is not valid UTF-8. Field
// order is fixed (type, id/re, then the table's order) so output is
// reproducible.
//
// Readers: parse_device_message checks every field where it enters, within
// the ranges of wire_fields.h; views point into the message's document.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <variant>

#include "firmware/json/json_document.h"
#include "firmware/json/json_error.h"
#include "firmware/json/json_writer.h"
#include "firmware/protocol/wire_fields.h"
#include "hal/clock.h"
#include "hal/status.h"

namespace sublink {

/// Most hello `services` names read.
inline constexpr size_t kMaxHelloServices = 256;

/// `hello`. Read: when `proto` is not the version spoken here, the other
/// fields are left unread (a later protocol may shape them differently);
/// agent, fw, role and state are empty when absent, boot and
/// grace_elapsed_s 0 (both >= 0).
struct HelloMessage {
  std::string_view customer_id;  // 1..255 bytes
  std::string_view system_id;    // 1..255 bytes
  std::string_view agent;  // agent version
  std::string_view fw;     // appliance firmware version
  std::string_view role = "primary";
  int64_t boot = 0;                      // boot counter
  std::string_view event_stream;         // 16 hex digits: the stream new events are numbered in; empty: none
  /// This device's `instance` (16 lower-case hex digits, made at its first
  /// boot); nullopt leaves the field out.
  std::optional<std::string_view> instance;
  std::optional<Millis> time;            // device wall clock; nullopt when not trusted
  std::string_view state;                // unlicensed, licensed, grace, expired
  int64_t grace_elapsed_s = 0;
  std::optional<std::string_view> license_serial;  // nullopt when none held
  /// The tunnel service names the device allows (PROTOCOL.md section 6).
  /// Read: each 1..255 bytes (an OPEN's name), at most kMaxHelloServices;
  /// not received() when absent (a device before tunnels) or out of those
  /// ranges: the server then leaves judging names to the device, which
  /// answers an OPEN of a name it lacks with RST unknown_service.
  WireNames services;
  int64_t proto = kProtocolVersion;
};

/// `heartbeat`. Read: seq and uptime_s 0 when absent.
struct Heartbeat {
  int64_t seq = 0;
  int64_t uptime_s = 0;
};

struct FeatureRequest {
  std::string_view name;  // 1..255 bytes
  int64_t qty = 0;        // 0..2^32-1
};

/// `license_request`. Read: a name may come twice (what it means is the
/// server's business).
struct LicenseRequest {
  WireList<FeatureRequest> features;
};

struct FeatureUsage {
  std::string_view name;  // 1..255 bytes
  int64_t in_use = 0;     // >= 0
  int64_t peak = 0;       // >= 0
};

/// `license_audit`.
struct LicenseAudit {
  std::string_view serial;  // 1..255 bytes
  Millis from = 0;
  Millis to = 0;
  WireList<FeatureUsage> usage;
};

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

/// One event of an `event` batch. Read: seq >= 1, kind 1..255 bytes; the
/// attributes are not read one by one: `object` is the whole event as
/// received (nullptr on the writer's side).
struct EventMessage {
  int64_t seq = 0;
  std::optional<Millis> time;  // null on the wire when the device did not know the time
  std::string_view kind;
  std::span<const EventAttribute> attributes;
  const cJSON* object = nullptr;
};

/// `event`: a batch of events of one stream.
struct EventBatch {
  /// 16 hex digits; nullopt for events numbered before streams.
  std::optional<std::string_view> stream;
  WireList<EventMessage> events;
};

/// `response` to a server request (`re` is its id). ok: `result` (any JSON
/// value; build_response_ok writes it); else error {code, message}
/// (build_response_error): code 1..255 bytes, message empty when absent.
struct Response {
  int64_t re = 0;
  bool ok = false;
  JsonValue result;
  std::string_view error_code;
  std::string_view error_message;
};

/// Writers, one per message, used by the device (the side that sends
/// them): one JSON object into `out` (type, id or re, then the fields in the
/// table's order); its length, or out_of_memory (detail: bytes needed), or
/// invalid_argument (a string not UTF-8, or a list that was received
/// rather than given: a writer writes what its side holds).

/// `hello` (request `id`).
Result<size_t> build_hello(std::span<char> out, int64_t id, const HelloMessage& hello);

/// `heartbeat` (request `id`) of a Heartbeat {seq, uptime_s}.
Result<size_t> build_heartbeat(std::span<char> out, int64_t id, int64_t seq, int64_t uptime_s);

/// `license_request` (request `id`): the writer's side of LicenseRequest::features.
Result<size_t> build_license_request(std::span<char> out, int64_t id, std::span<const FeatureRequest> features);

/// `license_audit` (request `id`).
Result<size_t> build_license_audit(std::span<char> out, int64_t id, const LicenseAudit& audit);

/// One event as a JSON object (seq, time, kind, then the attributes), for
/// the `event` batch and for answers that list events. False when an
/// attribute is named seq, time or kind: it would shadow the envelope.
bool write_event_object(JsonWriter& w, const EventMessage& event);

/// `event` batch (request `id`) of events of `stream` (16 hex digits; left
/// out for events numbered before streams): the writer's side of
/// EventBatch. An attribute named seq, time or kind is invalid_argument: it
/// would shadow the envelope.
Result<size_t> build_event_batch(std::span<char> out, int64_t id, std::optional<std::string_view> stream,
                                 std::span<const EventMessage> events);

/// `response` with ok false and error {code, message} (Response with ok false).
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

using DeviceMessageBody =
    std::variant<HelloMessage, Heartbeat, LicenseRequest, LicenseAudit, EventBatch, Response, UnknownMessage>;

/// A parsed device message. Views, lists and nodes point into `document`,
/// which moves with the message.
struct DeviceMessage {
  JsonDocument document;
  std::string_view type;
  std::optional<int64_t> id;  // the request id, answered as `re`
  DeviceMessageBody body;
};

/// Reads one text message. Errors, by the close code they call for:
/// invalid_payload (not UTF-8, not JSON) -> 1007; protocol_violation (not an
/// object, no `type`, a missing or mistyped field or one out of its range,
/// named in the JsonError) -> 1002; out_of_memory / message_too_big
/// (nested too deep, beyond the JSON arena) -> 1009. Unknown fields are
/// ignored; unknown types give UnknownMessage.
JsonResult<DeviceMessage> parse_device_message(std::string_view text);

}  // namespace sublink
