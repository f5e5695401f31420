// Status and Result: errors as values for code that runs on the device.
//
// Every failure that can end a connection attempt has its own Reason, so a
// field engineer can tell a firewall (refused, timeout) from TLS inspection
// (unknown CA on one port) from a wrong device certificate (alert from the
// server). `detail` carries the number that goes with it: an HTTP status, a
// TLS alert, an errno, a WebSocket close code.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>

namespace sublink {

enum class Reason : uint8_t {
  ok = 0,
  // Generic
  invalid_argument,    // a caller passed something unusable
  out_of_memory,       // a fixed buffer or arena is full
  would_block,         // nothing to do until more input arrives
  io_error,            // the platform reported an error (detail: errno)
  // Reaching the server (PROTOCOL.md section 1)
  dns_failed,          // name did not resolve
  connect_refused,     // TCP RST to SYN: nothing listening or firewall reject
  connect_unreachable, // no route / ICMP unreachable
  connect_timeout,     // no answer within connect_timeout_s: firewall drop
  connection_reset,    // peer reset an established connection
  connection_closed,   // peer closed before the chain completed
  proxy_auth_required, // proxy answered 407
  proxy_status,        // proxy answered another non-2xx (detail: status)
  proxy_bad_response,  // proxy answer was not HTTP
  // TLS (section 2)
  tls_version,         // peer does not speak TLS 1.2
  tls_alert,           // peer sent a fatal alert (detail: alert number)
  tls_handshake,       // handshake failed for another reason (detail: mbedtls code)
  cert_expired,        // server certificate past notAfter
  cert_not_yet_valid,  // server certificate before notBefore
  cert_unknown_ca,     // server certificate not from the configured CA
  cert_name_mismatch,  // server certificate does not name `server`
  cert_invalid,        // server certificate unusable for another reason
  // WebSocket (section 3)
  upgrade_unauthorized, // 401/403: device not authorized
  upgrade_unavailable,  // 503 (detail: Retry-After seconds, or -1)
  upgrade_status,       // any other non-101 status (detail: status)
  upgrade_invalid,      // 101 but bad Accept key, subprotocol or headers
  protocol_violation,   // peer broke RFC 6455 or sublink/1 framing (close 1002)
  message_too_big,      // message over max_message_bytes (close 1009)
  invalid_payload,      // bad UTF-8 or JSON (close 1007)
  closed_by_peer,       // peer closed the WebSocket (detail: close code)
  // Durable records (hal/storage.h): the storage layer's own outcomes, in
  // the order of their wire numbers (storage_wire_detail: keep it). A
  // platform's refusal stays io_error with its errno.
  storage_not_found,     // nothing was ever committed for the record
  storage_corrupt,       // something is stored but no copy passes its checks
  storage_too_big,       // record over the backend's maximum, or over the reader's buffer
  storage_no_space,      // the medium has no room for the record
  storage_bad_record_id, // record id outside the backend's layout
};

/// The last Reason: names and hints exist for every one up to it.
inline constexpr Reason kLastReason = Reason::storage_bad_record_id;

/// Stable lower-case name of a reason, as logged and shown by tools.
const char* reason_name(Reason r);

/// A one-line explanation of a reason for a site engineer.
const char* reason_hint(Reason r);

/// What an operation ended with. [[nodiscard]]: a dropped Status is a lost
/// failure, so the compiler flags every call whose Status nobody looks at;
/// where ignoring is right the caller says so with a commented (void).
class [[nodiscard]] Status {
 public:
  constexpr Status() = default;
  constexpr Status(Reason reason, int32_t detail = 0) : reason_(reason), detail_(detail) {}  // NOLINT
  static constexpr Status Ok() { return Status(); }

  constexpr bool ok() const { return reason_ == Reason::ok; }
  constexpr Reason reason() const { return reason_; }
  constexpr int32_t detail() const { return detail_; }
  constexpr bool operator==(const Status&) const = default;

 private:
  Reason reason_ = Reason::ok;
  int32_t detail_ = 0;
};

/// A value or the Status that explains why there is none.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT
  /// `status` must be a failure: a Result without a value must say why.
  /// An ok one is a programming error: it traps in debug builds; in release
  /// builds the Result is still not ok() (it holds no value), at no cost in
  /// code on the device.
  Result(Status status) : status_(status) { check_failure(); }  // NOLINT
  Result(Reason reason, int32_t detail = 0) : status_(reason, detail) { check_failure(); }  // NOLINT

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() { return *value_; }
  const T& value() const { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }

 private:
  void check_failure() const {
#ifndef NDEBUG
    if (status_.ok()) __builtin_trap();  // a Result built from an ok Status: give it the value instead
#endif
  }

  std::optional<T> value_;
  Status status_;
};

}  // namespace sublink
