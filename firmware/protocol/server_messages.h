// Parser for every message the server sends (PROTOCOL.md section 4): one
// received text message in, one typed message out. No state: what a message
// means for the link is the state machine's business.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>

#include "firmware/json/json_document.h"
#include "firmware/json/json_error.h"
#include "hal/clock.h"

struct cJSON;

namespace sublink {

inline constexpr int64_t kDefaultHeartbeatS = 60;
inline constexpr int64_t kDefaultAuditS = 86400;

struct Welcome {
  Millis time = 0;                          // server clock
  int64_t heartbeat_s = kDefaultHeartbeatS;  // >= 1
  int64_t audit_s = kDefaultAuditS;          // >= 1
  const cJSON* session = nullptr;           // opaque, any JSON value; nullptr when absent
};

struct HeartbeatAck {
  Millis time = 0;
};

struct LicenseGrant {
  std::string_view license;  // base64url, checked by the license layer
  std::string_view sig;
  std::string_view alg;
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
  const cJSON* over = nullptr;   // the server's detail when overuse; nullptr when absent
};

struct EventAck {
  std::optional<std::string_view> stream;  // the stream acknowledged; nullopt: events from before streams
  int64_t upto = 0;                         // highest seq stored for that stream, 0..2^53
};

struct Request {
  std::string_view method;
  const cJSON* params = nullptr;  // any JSON value, nullptr when absent
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

/// A type this agent does not know: logged and ignored.
struct UnknownMessage {
  std::string_view type;
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
