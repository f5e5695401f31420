// Builders for every message the server sends (PROTOCOL.md section 4), as
// text for the transport. Field order is fixed (type, id/re, then the
// table's order) so output is reproducible. Each fails with invalid_argument
// when a string is not valid UTF-8 (the device would close with 1007).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "hal/clock.h"
#include "hal/status.h"
#include "server_core/directory.h"
#include "server_core/license_signer.h"

namespace sublink {

/// `re` of an answer: nullopt leaves the field out (an unsolicited message,
/// or a device request that carried no id).
using AnswerTo = std::optional<int64_t>;

Result<std::string> build_welcome(AnswerTo re, Millis time, int64_t heartbeat_s, int64_t audit_s,
                                  std::string_view session);
Result<std::string> build_heartbeat_ack(AnswerTo re, Millis time);
/// `license_grant` with alg ES256; `kid` is left out when empty.
Result<std::string> build_license_grant(AnswerTo re, const SignedGrant& grant, std::string_view kid);
Result<std::string> build_license_denied(AnswerTo re, std::string_view code, std::string_view message);
/// `license_revoke`, a request: the device answers `response` with `re` = id.
Result<std::string> build_license_revoke(int64_t id, std::string_view serial, std::string_view reason);
/// `audit_ack` {status, over: [{name, peak, licensed}]}.
Result<std::string> build_audit_ack(AnswerTo re, AuditResult status, std::span<const Overuse> over);
/// `event_ack` {stream, upto}; `stream` is left out for a batch that came
/// without one (a device from before event streams).
Result<std::string> build_event_ack(AnswerTo re, const std::optional<std::string>& stream, int64_t upto);
/// `request` {method, params}; `params_json` is one JSON value written as
/// is (the caller checked it), params is left out when empty.
Result<std::string> build_request(int64_t id, std::string_view method, std::string_view params_json);
Result<std::string> build_disconnect(std::string_view reason, std::optional<int64_t> retry_after_s);
Result<std::string> build_error(AnswerTo re, std::string_view code, std::string_view message,
                                std::optional<int64_t> retry_after_s);

}  // namespace sublink
