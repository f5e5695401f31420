// What a server session needs from the server's records: who a device is,
// what it is entitled to, which licenses were issued or revoked, and where
// connections, audits and events go. Narrow and virtual so one session
// serves both the in-memory directory (tests, the simulation) and the
// SQLite one of the reference server. Every method may fail (a database
// error): the session then answers the device with `error` `busy`.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "firmware/protocol/wire_fields.h"  // is_event_stream_id
#include "hal/clock.h"
#include "hal/status.h"
#include "server_core/license_json.h"

namespace sublink {

/// A registered system (one appliance) and its subscription.
struct SystemRecord {
  std::string customer_id;
  std::string system_id;
  /// Feature name -> entitled quantity. A license grants at most this.
  std::map<std::string, uint32_t> entitlements;
  /// No license is valid beyond this (UTC ms): the end of the paid term.
  Millis subscription_end = kNever;
  /// The subscription is suspended: license requests are denied.
  bool suspended = false;
};

/// How a hello's customer_id / system_id pair matched the records.
enum class SystemMatch : uint8_t {
  found,             // the system exists and belongs to the customer
  unknown_customer,  // no such customer
  unknown_system,    // the customer exists, the system does not
  other_customer,    // the system belongs to another customer
};

struct SystemLookup {
  SystemMatch match = SystemMatch::unknown_customer;
  SystemRecord record;  // filled when match is found
};

/// A license as issued (what the server keeps of a grant).
struct IssuedLicense {
  std::string system_id;
  std::string serial;
  Millis issued = 0;
  Millis expires = 0;
  std::vector<LicensedQuantity> features;
};

/// One connection of a device, as the operator's history shows it.
struct ConnectionRecord {
  std::string system_id;
  std::string customer_id;
  uint16_t port = 0;   // the server port the device reached
  std::string peer;    // the device's address as the transport saw it
  Millis up = 0;       // UTC ms of the welcome
};

/// A revocation as recorded (what an operator listing shows, whatever keeps
/// the records).
struct RevocationRecord {
  std::string system_id;
  std::string serial;
  std::string reason;
  Millis at = 0;
};

/// A connection with its end, once known.
struct ConnectionHistory {
  int64_t id = 0;
  ConnectionRecord record;
  std::optional<Millis> down;
  std::string down_reason;
  /// The latest message from the device on this connection, once recorded.
  std::optional<Millis> last_contact;
};

/// One feature's figures in a license_audit.
struct FeatureUsageReport {
  std::string name;
  int64_t in_use = 0;
  int64_t peak = 0;
};

/// A feature used beyond its entitlement.
struct Overuse {
  std::string name;
  int64_t peak = 0;      // the highest the device reported
  uint32_t licensed = 0; // what the system is entitled to
};

enum class AuditResult : uint8_t { ok, overuse };

/// Lower-case wire name of an audit result ("ok", "overuse").
std::string_view audit_result_name(AuditResult result);

/// One license_audit and what the server answered.
struct AuditRecord {
  std::string system_id;
  std::string serial;
  Millis from = 0;
  Millis to = 0;
  std::vector<FeatureUsageReport> usage;
  AuditResult result = AuditResult::ok;
  std::vector<Overuse> over;
  Millis received = 0;  // server UTC ms
};

/// The stream under which events from before event streams are kept: those
/// stored before the schema knew streams, and those a device that sends no
/// `stream` still delivers. Never 16 hex digits, so never a device's stream.
inline constexpr std::string_view kLegacyEventStream = "legacy";

/// One event as the device sent it: the envelope the server dedups on and
/// the whole object, kept verbatim for the application behind the server.
struct DeviceEvent {
  std::string stream{kLegacyEventStream};  // the device's event stream
  int64_t seq = 0;
  std::optional<Millis> time;  // nullopt when the device did not know it
  std::string kind;
  std::string json;            // the event object, unformatted JSON
};

/// The kind of alarm raised when two instances of one system take turns
/// (PROTOCOL.md section 4, identity: a cloned appliance).
inline constexpr std::string_view kDuplicateIdentityAlarm = "duplicate_identity";

/// An alarm the server raised about a system, as its records keep it.
struct SystemAlarm {
  std::string system_id;
  std::string kind;      // kDuplicateIdentityAlarm
  Millis raised = 0;     // UTC ms
  std::string detail;    // what an operator reads: the instances, how often they took turns
  std::optional<Millis> cleared;  // when an operator cleared it; nullopt while it stands
};

class Directory {
 public:
  virtual ~Directory() = default;

  /// Matches a hello's identity against the records.
  virtual Result<SystemLookup> find_system(std::string_view customer_id, std::string_view system_id) = 0;

  /// A serial never used before for any license (at most 31 bytes: the
  /// device logs it in fixed-size events).
  virtual Result<std::string> next_serial(std::string_view system_id) = 0;

  /// Records a license just signed for `license.system_id`.
  virtual Status record_issued(const IssuedLicense& license) = 0;

  /// The latest license issued to `system_id`, nullopt when none. A new one
  /// must be issued later than it: the device refuses an older or equal
  /// `issued` as a replay.
  virtual Result<std::optional<IssuedLicense>> last_issued(std::string_view system_id) = 0;

  /// Records that `serial` of `system_id` is revoked (idempotent).
  virtual Status record_revoked(std::string_view system_id, std::string_view serial, std::string_view reason,
                                Millis at) = 0;

  /// True when `serial` of `system_id` was revoked.
  virtual Result<bool> is_revoked(std::string_view system_id, std::string_view serial) = 0;

  /// Records a connection coming up; returns its id for connection_down.
  virtual Result<int64_t> connection_up(const ConnectionRecord& connection) = 0;

  /// Records that connection `id` ended at `at` (UTC ms) and why.
  virtual Status connection_down(int64_t id, Millis at, std::string_view reason) = 0;

  /// Records `at` (UTC ms) as the latest message from the device on
  /// connection `id`, so an operator listing shows when a device that is no
  /// longer linked was last heard. invalid_argument when `id` is unknown.
  virtual Status connection_contact(int64_t id, Millis at) = 0;

  /// Records a license_audit and its result.
  virtual Status record_audit(const AuditRecord& audit) = 0;

  /// Stores the events of `system_id` in `stream` whose seq is above the
  /// highest stored for that stream so far (events already stored are
  /// dropped, so a batch repeated after a lost event_ack is kept once; a new
  /// stream's seq 1 is new). Each event is stored under `stream`, whatever
  /// its own `stream` field says. Returns the highest seq stored for
  /// (system, stream) afterwards (0 when none): the `upto` of event_ack.
  virtual Result<int64_t> store_events(std::string_view system_id, std::string_view stream,
                                       std::span<const DeviceEvent> events) = 0;

  /// Records `alarm` as standing for its system and kind. While one of that
  /// kind stands, raising it again changes nothing (the first keeps its
  /// time and detail).
  virtual Status raise_alarm(const SystemAlarm& alarm) = 0;

  /// True while an alarm of `kind` stands for `system_id` (raised and not
  /// cleared by an operator).
  virtual Result<bool> alarm_standing(std::string_view system_id, std::string_view kind) = 0;
};

}  // namespace sublink
