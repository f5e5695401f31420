// Every message the server sends (PROTOCOL.md section 4): one type, one
// reader and one writer per message, used by the device (which reads them)
// and the server (which writes them), so a new field is one change here.
// The reader: one received text message in, one typed message out, every
// field checked where it enters. No state: what a message means for the
// link is the state machine's business.
#pragma once

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

struct cJSON;

namespace sublink {

inline constexpr int64_t kDefaultHeartbeatS = 60;
inline constexpr int64_t kDefaultAuditS = 86400;

struct Welcome {
  Millis time = 0;                          // server clock
  int64_t heartbeat_s = kDefaultHeartbeatS;  // >= 1
  int64_t audit_s = kDefaultAuditS;          // >= 1
  JsonValue session;                        // opaque, any JSON value; nullptr when absent
};

struct HeartbeatAck {
  Millis time = 0;
};

struct LicenseGrant {
  std::string_view license;  // base64url, checked by the license layer
  std::string_view sig;
  std::string_view alg = "ES256";
  std::optional<std::string_view> kid;
};

struct LicenseDenied {
  std::string_view code;
  std::string_view message;  // empty when absent
};

struct LicenseRevoke {
  std::string_view serial;
  std::string_view reason;  // empty when absent
};

struct AuditAck {
  bool overuse = false;          // status "overuse" (else "ok")
  JsonValue over;                // the server's detail when overuse; nullptr when absent
};

struct EventAck {
  std::optional<std::string_view> stream;  // the stream acknowledged; nullopt: events from before streams
  int64_t upto = 0;                         // highest seq stored for that stream, 0..2^53
};

struct Request {
  std::string_view method;
  JsonValue params;  // any JSON value, nullptr when absent
};

struct Disconnect {
  std::string_view reason;                // empty when absent
  std::optional<int64_t> retry_after_s;  // >= 0
};

struct ServerError {
  std::string_view code;
  std::string_view message;              // empty when absent
  std::optional<int64_t> retry_after_s;  // >= 0
};

using ServerMessageBody = std::variant<Welcome, HeartbeatAck, LicenseGrant, LicenseDenied, LicenseRevoke, AuditAck,
                                       EventAck, Request, Disconnect, ServerError, UnknownMessage>;

/// A parsed server message. Views and node pointers point into `document`,
/// which moves with the message.
struct ServerMessage {
  JsonDocument document;
  std::optional<int64_t> id;  // present on requests (required for `request`)
  std::optional<int64_t> re;  // present on answers
  ServerMessageBody body;
};

/// Writers: one JSON object into `out` (type, the envelope's id/re, then
/// the fields in the table's order); its length, or out_of_memory (detail:
/// bytes needed), or invalid_argument (a string not UTF-8). Optional fields (kid, stream, retry_after_s, and an open field
/// whose text is empty) are left out; message, reason and the rest are
/// always written.
Result<size_t> write_message(std::span<char> out, const Envelope& envelope, const Welcome& welcome);
Result<size_t> write_message(std::span<char> out, const Envelope& envelope, const HeartbeatAck& ack);
Result<size_t> write_message(std::span<char> out, const Envelope& envelope, const LicenseGrant& grant);
Result<size_t> write_message(std::span<char> out, const Envelope& envelope, const LicenseDenied& denied);
Result<size_t> write_message(std::span<char> out, const Envelope& envelope, const LicenseRevoke& revoke);
Result<size_t> write_message(std::span<char> out, const Envelope& envelope, const AuditAck& ack);
Result<size_t> write_message(std::span<char> out, const Envelope& envelope, const EventAck& ack);
Result<size_t> write_message(std::span<char> out, const Envelope& envelope, const Request& request);
Result<size_t> write_message(std::span<char> out, const Envelope& envelope, const Disconnect& disconnect);
Result<size_t> write_message(std::span<char> out, const Envelope& envelope, const ServerError& error);

/// Parses one text message. Errors, by the close code the caller sends:
/// invalid_payload (not JSON) -> 1007; protocol_violation (not an object,
/// no `type`, a missing or mistyped field, named in the JsonError) -> 1002;
/// out_of_memory / message_too_big (beyond the device's fixed limits) ->
/// 1009. Unknown fields are ignored; unknown types give UnknownMessage.
JsonResult<ServerMessage> parse_server_message(std::string_view text);

/// The WebSocket close code for a parse failure (1007, 1002 or 1009), 1011
/// for any other status.
uint16_t close_code_for(const Status& status);

}  // namespace sublink
