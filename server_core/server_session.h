// One device connection on the server side of sublink/1 (PROTOCOL.md
// sections 4 and 5), sans-I/O: text messages and the time come in, text
// messages to send and at most one close request go out. The transport (a
// poll(2) server, the simulated network, a test) owns the socket, TLS and
// WebSocket; the session owns what the messages mean.
//
// Driving it (single-threaded):
//   ServerSession s(settings, directory, signer, peer, now);
//   on every text message:  s.on_text(text, now);
//   at s.step(now)'s deadline: s.step(now);
//   after each of those and after any operator action:
//       SessionOutput out = s.take_output();
//       send out.messages in order, then close with out.close if set;
//   when the connection is gone (either side):  s.on_closed(now, why);
// Times are server UTC milliseconds. Nothing here blocks or reads a clock.
// Messages are read and written with the device's own codec
// (firmware/protocol: parse_device_message, write_message). Parsing uses
// the installed JsonArena, if any (as the device does), and releases it
// before on_text returns, so a simulation may host sessions and agents on
// one arena.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hal/clock.h"
#include "server_core/directory.h"
#include "server_core/identity_registry.h"
#include "server_core/license_signer.h"

namespace sublink {

struct DeviceMessage;
struct LicenseRequest;

/// What a license_request asks for, as the server counts it: each feature
/// once, a name given twice with its larger quantity.
std::map<std::string, uint32_t> requested_quantities(const LicenseRequest& request);

/// What the server tells devices and how it issues licenses.
struct SessionSettings {
  int64_t heartbeat_s = 60;       // welcome.heartbeat_s
  int64_t audit_s = 86400;        // welcome.audit_s
  /// A grant is valid this long from its issue (capped by the subscription
  /// end); the session pushes a fresh one when half of it has passed.
  Millis license_lifetime_ms = 90LL * 86400 * 1000;
  /// not_before lies this far before `issued`, so a device whose estimate of
  /// the server clock trails a little still accepts the grant.
  Millis not_before_slack_ms = 5LL * 60 * 1000;
  std::string kid;                // license_grant.kid: which signing key
  /// A connection that has not said hello within this long is closed, and
  /// so is a device still connected this long after `disconnect`.
  Millis hello_timeout_ms = 30 * 1000;
  /// retry_after_s of the `busy` error sent when the records fail.
  int64_t busy_retry_s = 60;
  /// retry_after_s of `disconnect` {reason: replaced}: the older link of a
  /// system that linked again. Only a second appliance with the same
  /// identity still listens on that link (a device that reconnected left
  /// it), so this slows a clone's ping-pong without delaying anyone else.
  int64_t replaced_retry_s = 60;
  /// retry_after_s of `error` duplicate_identity (the refuse policy).
  int64_t duplicate_identity_retry_s = 3600;
};

/// The connection as the transport knows it.
struct PeerInfo {
  std::string certificate_cn;  // subject CN of the device certificate (TLS)
  std::string address;         // the device's address, for the records
  uint16_t port = 0;           // the server port it reached
};

/// A WebSocket close the transport must perform after sending the messages.
struct CloseRequest {
  uint16_t code = 1000;
  std::string reason;  // a short name (at most 123 bytes)
};

/// What an operator should read in the server's log about the identity
/// rules, from the session that applied them (the newer link's hello).
struct IdentityNotice {
  std::string system_id;
  std::optional<std::string> instance;           // of the newer link
  std::optional<std::string> replaced_instance;  // of the link it replaced
  std::string replaced_peer;                     // that link's address ("" when there was none)
  bool counted = false;    // two different instances: counted towards a clone
  size_t replacements_in_window = 0;
  bool duplicate = false;  // a duplicate_identity alarm stands
  bool refused = false;    // both were refused (refuse policy)
};

/// Everything the session produced since the last take_output().
struct SessionOutput {
  std::vector<std::string> messages;  // text messages, in order
  std::optional<CloseRequest> close;  // after the messages; at most once
  /// A replacement this session's hello made, or a refusal for a standing
  /// duplicate_identity alarm: for the log.
  std::optional<IdentityNotice> identity;
};

/// The device's `response` to a server request (or to license_revoke).
struct DeviceResponse {
  int64_t id = 0;               // the request's id
  bool ok = false;
  std::string result_json;      // `result` as JSON text when ok ("null" when absent)
  std::string error_code;       // when not ok
  std::string error_message;
};

/// What the device said about itself in hello.
struct HelloInfo {
  std::string agent;
  std::string fw;
  std::string role;
  int64_t boot = 0;
  std::optional<std::string> event_stream;  // 16 hex digits; nullopt from a device before streams
  /// The device's `instance` (16 lower-case hex digits); nullopt when the
  /// device did not send one (then a replacement is never judged a clone).
  std::optional<std::string> instance;
  std::optional<Millis> device_time;
  std::string state;
  int64_t grace_elapsed_s = 0;
  std::optional<std::string> license_serial;
  /// The tunnel services the device allows (hello `services`); nullopt
  /// when its hello did not say, so only the device can refuse a name.
  std::optional<std::vector<std::string>> services;
};

/// The session as an operator listing shows it.
struct SessionInfo {
  std::string system_id;    // empty before hello
  std::string customer_id;
  std::string peer;
  uint16_t port = 0;
  bool welcomed = false;
  bool closing = false;     // a close was requested
  bool blackholed = false;
  Millis opened = 0;        // transport handed the connection over
  std::optional<Millis> connected_since;  // the welcome
  Millis last_contact = 0;  // the latest message from the device
  std::optional<std::string> license_serial;  // granted on this link, else from hello
  /// The license the device reported in force: hello.license_serial, then
  /// the serial of its latest license_audit or license_applied event;
  /// nullopt when it reported none (or answered a revoke).
  std::optional<std::string> held_serial;
  /// Serials granted on this link that the device has not reported
  /// applying yet (it may have refused them): which one it holds is known
  /// only from its next report.
  std::vector<std::string> unconfirmed_serials;
  std::optional<AuditResult> last_audit;
  HelloInfo hello;
  int64_t connection_id = 0;  // Directory::connection_up id, 0 before welcome
  /// A newer link of the same system replaced this one (`disconnect`
  /// replaced sent, the link closing).
  bool replaced = false;
};


class ServerSession {
 public:
  /// Called with every device response as it arrives (after it is kept
  /// for take_response).
  using ResponseCallback = std::function<void(const DeviceResponse&)>;

  /// Called when this session produced output outside its own calls: a
  /// newer link of its system replaced it, or refused it with itself. The
  /// transport sends that output soon (not from inside the callback: the
  /// other session is still handling its hello).
  using WakeCallback = std::function<void()>;

  /// `directory`, `signer` (with a key) and `identities` (shared by every
  /// session of the server) must outlive the session. `now` is when the
  /// transport accepted the connection.
  ServerSession(SessionSettings settings, Directory& directory, LicenseSigner& signer, IdentityRegistry& identities,
                PeerInfo peer, Millis now);
  /// Leaves the identity registry (a session dropped without on_closed).
  ~ServerSession();
  ServerSession(const ServerSession&) = delete;
  ServerSession& operator=(const ServerSession&) = delete;

  // ---- Transport ---------------------------------------------------------------
  /// One text message from the device. Not JSON (or not UTF-8): close 1007
  /// `invalid_payload`. Valid JSON that breaks the contract (not an object,
  /// no type, a mistyped field): close 1002 naming the problem. Before a
  /// good hello: `error` + close 1008. Ignored once a close is requested.
  void on_text(std::string_view message, Millis now);

  /// Timers: the hello timeout (close 1008 `hello_timeout`), the dead link
  /// (no message for 3 heartbeat intervals: close 1001 `no_contact`), a
  /// device that ignores `disconnect` (close 1000) and the renewal of a
  /// license half-way through its life. Returns when it
  /// wants to be called again (kNever: no timer).
  Millis step(Millis now);

  /// Drains what to send: messages in order, then the close if any.
  SessionOutput take_output();
  /// True when take_output() would return something.
  bool has_output() const;

  /// The connection is gone (either side closed it, or it broke). Records
  /// its end once; the session produces nothing afterwards.
  void on_closed(Millis now, std::string_view reason);

  // ---- Operator actions (only on a welcomed, open, non-blackholed link) ----------
  /// Sends an unsolicited license_grant built from the current entitlements
  /// (after they changed). False when nothing was sent (link not ready,
  /// nothing entitled: a license_denied goes out instead, records failing).
  bool push_grant(Millis now);

  /// Sends license_revoke {serial, reason} and records the revocation; the
  /// device answers with a `response` under the returned id. nullopt when
  /// the link is not ready.
  std::optional<int64_t> revoke(std::string_view serial, std::string_view reason, Millis now);

  /// What revoke_held() sent.
  struct HeldRevoke {
    int64_t id = 0;      // the device answers under this id
    std::string serial;  // the serial sent, "*" when which one is held is not known
  };
  /// Revokes the license the device holds (PROTOCOL.md section 4): the
  /// serial it reported in force, or "*" (whatever is held) while a grant
  /// sent on this link is not yet confirmed, since the device may have
  /// applied it or not. Records the reported serial and every unconfirmed
  /// one as revoked, so the device is told again when it links holding any
  /// of them. nullopt when the link is not ready, the device reported no
  /// license and none is unconfirmed, or the records failed.
  std::optional<HeldRevoke> revoke_held(std::string_view reason, Millis now);

  /// Sends `disconnect` (the device closes with 1000 and waits at least
  /// `retry_after_s` before reconnecting; step() closes a device that does
  /// not). False when the link is not ready or the delay is negative.
  bool disconnect(std::string_view reason, std::optional<int64_t> retry_after_s, Millis now);

  /// Sends `request` {method, params} and returns its id. `params_json` is
  /// one JSON value, or empty for none. nullopt when the link is not ready
  /// or params is not JSON.
  std::optional<int64_t> request(std::string_view method, std::string_view params_json, Millis now);

  /// The device's answer to request/revoke `id`, once; nullopt while none.
  std::optional<DeviceResponse> take_response(int64_t id);

  /// Hands every response to `callback` as well (empty: none).
  void set_response_callback(ResponseCallback callback) { on_response_ = std::move(callback); }

  /// See WakeCallback (empty: none).
  void set_wake_callback(WakeCallback callback) { on_wake_ = std::move(callback); }

  // ---- Identity (called by the newer session of the same system) ---------------
  /// A newer link of this system completed its hello: sends `disconnect`
  /// {reason: replaced, retry_after_s} and closes with 1000 `replaced`. From
  /// then on the session serves nothing, blackholed or not.
  void replace(Millis now);
  /// Both links of a system with a duplicate_identity alarm are refused:
  /// `error` duplicate_identity and close 1008.
  void refuse_duplicate(Millis now);

  // ---- Fault hooks ---------------------------------------------------------------
  /// While on, the session behaves like a hung server: it answers nothing,
  /// drops what the device sends unprocessed (no records, no acks), sends no
  /// operator messages and runs no timers, but keeps the connection.
  void set_blackhole(bool on) { blackhole_ = on; }

  // ---- State -------------------------------------------------------------------------
  SessionInfo info() const;
  bool welcomed() const { return welcomed_; }
  /// The system_id from hello (empty before it).
  const std::string& system_id() const { return system_id_; }
  /// True once a close was requested or the connection is gone.
  bool closing() const { return close_requested_ || closed_; }

 private:
  enum class GrantOutcome : uint8_t { granted, denied, failed };

  bool ready() const;
  void send(Result<std::string> message);
  void close(uint16_t code, std::string reason);
  /// `error` {code, message} and close 1008: the device is not served.
  void refuse(std::optional<int64_t> re, std::string_view code, std::string_view message,
              std::optional<int64_t> retry_after_s = std::nullopt);
  /// The records or the signer failed: `error` busy with a retry delay.
  void busy(std::optional<int64_t> re);
  void handle(const DeviceMessage& message, Millis now);
  void on_hello(const DeviceMessage& message, Millis now);
  /// The identity rules for a hello that passed every other check; false
  /// when the hello was refused.
  bool apply_identity(std::optional<int64_t> re, Millis now);
  /// The hello's role is primary (or none given): the appliance's own link.
  bool is_primary() const;
  void wake();
  void on_license_request(const DeviceMessage& message, Millis now);
  void on_audit(const DeviceMessage& message, Millis now);
  void on_events(const DeviceMessage& message);
  void on_response(const DeviceMessage& message);
  /// Grants the features asked for on this link (all entitlements when the
  /// device has not asked yet), or answers license_denied.
  GrantOutcome grant(std::optional<int64_t> re, Millis now);
  /// A device that comes back holding a revoked serial is told again.
  bool revoke_again_if_revoked(Millis now);
  /// The device reported `serial` in force (an audit, a license_applied
  /// event): it is held, and the grants sent before it are settled.
  void device_holds(const std::string& serial);

  SessionSettings settings_;
  Directory& directory_;
  LicenseSigner& signer_;
  IdentityRegistry& identities_;
  PeerInfo peer_;

  SessionOutput output_;
  bool close_requested_ = false;
  bool closed_ = false;
  bool blackhole_ = false;

  bool welcomed_ = false;
  Millis opened_ = 0;
  Millis last_contact_ = 0;
  std::optional<Millis> connected_since_;
  int64_t connection_id_ = 0;
  std::string customer_id_;
  std::string system_id_;
  HelloInfo hello_;
  std::optional<std::string> license_serial_;
  std::optional<std::string> held_serial_;         // what the device reported in force
  std::vector<std::string> unconfirmed_serials_;  // granted here, oldest first, not yet reported
  std::vector<int64_t> revoke_ids_;               // revokes awaiting their answer
  std::optional<AuditResult> last_audit_;
  /// The features the device asked for, for renewals and pushed grants.
  std::optional<std::map<std::string, uint32_t>> requested_;
  Millis renew_at_ = kNever;
  /// After `disconnect`, the device should close; past this the server does.
  Millis disconnect_deadline_ = kNever;

  int64_t next_id_ = 1;
  std::map<int64_t, std::optional<DeviceResponse>> pending_;  // sent requests -> answer
  ResponseCallback on_response_;
  WakeCallback on_wake_;
  bool replaced_ = false;
};

}  // namespace sublink
