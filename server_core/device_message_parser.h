// Parser for every message a device sends (PROTOCOL.md section 4), server
// side: one received text message in, one typed message out, with owned
// strings so the JSON document is released at once. No state: what a
// message means for the connection is ServerSession's business.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "firmware/json/json_error.h"
#include "hal/clock.h"
#include "server_core/directory.h"
#include "server_core/server_session.h"

namespace sublink {

/// `hello`. When `proto` is not the version this server speaks, the other
/// fields are left unread: a later protocol may shape them differently.
struct HelloRequest {
  int64_t proto = 0;
  std::string customer_id;
  std::string system_id;
  HelloInfo info;
};

struct HeartbeatRequest {
  int64_t seq = 0;
  int64_t uptime_s = 0;
};

/// `license_request`: feature name -> quantity asked for (a name given
/// twice counts with its larger quantity).
struct LicenseRequestMessage {
  std::vector<LicensedQuantity> features;
};

struct LicenseAuditMessage {
  std::string serial;
  Millis from = 0;
  Millis to = 0;
  std::vector<FeatureUsageReport> usage;
};

struct EventBatchMessage {
  /// 16 hex digits; nullopt from a device before streams (kept under
  /// kLegacyEventStream and acknowledged without `stream`).
  std::optional<std::string> stream;
  std::vector<DeviceEvent> events;  // each with `stream` set to the batch's
};

struct ResponseMessage {
  DeviceResponse response;  // id is the `re`
};

/// A type this server does not know: ignored.
struct UnknownDeviceMessage {
  std::string type;
};

using DeviceMessageBody = std::variant<HelloRequest, HeartbeatRequest, LicenseRequestMessage, LicenseAuditMessage,
                                       EventBatchMessage, ResponseMessage, UnknownDeviceMessage>;

struct DeviceMessage {
  std::string type;
  std::optional<int64_t> id;  // the request id, answered as `re`
  DeviceMessageBody body;
};

/// Parses one text message. Errors, by the close code they call for:
/// invalid_payload (not UTF-8, not JSON) -> 1007; protocol_violation (not an
/// object, no `type`, a missing or mistyped field, named in the JsonError)
/// -> 1002; message_too_big (nested too deep) -> 1009. Unknown fields are
/// ignored; unknown types give UnknownDeviceMessage.
JsonResult<DeviceMessage> parse_device_message(std::string_view text);

}  // namespace sublink
