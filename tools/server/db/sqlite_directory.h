// The reference server's records in an SQLite database: customers, systems
// and their entitlements (which the operator maintains), and everything the
// sessions record (licenses issued and revoked, connections, audits, events
// kept once per seq). Every SQLite failure is a Status (io_error, detail:
// the SQLite result code; error_message() says more), never a crash, so a
// session answers `busy` and the server keeps running.
//
// Single-threaded, one connection. Another process holding the write lock
// makes calls fail at once with SQLITE_BUSY unless a busy timeout is given.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "server_core/directory.h"
#include "tools/server/db/sqlite_statement.h"

struct sqlite3;

namespace sublink {

/// One registered system as the operator's fleet listing needs it: who it
/// is, its latest connection (live or ended) and its latest license.
struct SystemSummary {
  std::string system_id;
  std::string customer_id;
  std::optional<ConnectionHistory> last_connection;
  std::optional<std::string> last_serial;  // the latest license issued to it
  /// The duplicate_identity alarm standing for it, if any.
  std::optional<SystemAlarm> duplicate_identity;
};

/// One tunnel channel as the server's records keep it (PROTOCOL.md section
/// 6: "the server keeps the same in its records" as the device's
/// tunnel_opened / tunnel_closed events). bytes_in / bytes_out keep the
/// device's sense: bytes_in went to the device, bytes_out came from it.
struct TunnelRecord {
  std::string system_id;
  uint16_t channel = 0;  // 1..65535
  std::string service;   // 1..255 bytes
  std::string op;        // the operator's identity, 0..255 bytes
  Millis opened = 0;     // UTC ms
  std::optional<Millis> closed;  // nullopt while open
  uint64_t bytes_in = 0;   // 0..2^63-1
  uint64_t bytes_out = 0;  // 0..2^63-1
  /// How it ended: an RST reason name, `fin` or `link_lost` (as the
  /// device's tunnel_closed), `server_stopped`; empty while open.
  std::string reason;
};

/// The reason recorded for channels that were open when the server stopped
/// without closing them (found open at the next start).
inline constexpr std::string_view kTunnelServerStopped = "server_stopped";

class SqliteDirectory final : public Directory {
 public:
  /// Whether open() may create a missing database file.
  enum class OpenMode { create, existing };

  /// Opens the database at `path` (creating it when missing, unless
  /// `mode` is existing) and creates or checks its schema.
  /// `busy_timeout_ms` is how long a call waits for a lock another process
  /// holds. io_error (detail: SQLite code) or invalid_argument (detail: the
  /// schema version found); `why`, when given, then gets SQLite's words and
  /// the system's ("unable to open database file: No such file or
  /// directory", "file is not a database").
  static Result<std::unique_ptr<SqliteDirectory>> open(const std::string& path, int busy_timeout_ms = 0,
                                                       OpenMode mode = OpenMode::create, std::string* why = nullptr);
  ~SqliteDirectory() override;
  SqliteDirectory(const SqliteDirectory&) = delete;
  SqliteDirectory& operator=(const SqliteDirectory&) = delete;

  /// SQLite's description of the latest failure on this database.
  std::string error_message() const;

  /// Fault hook for tests: while on, every call fails as a broken database
  /// would (io_error, detail SQLITE_AUTH) and nothing is written.
  void fail_every_call(bool on);

  // ---- The operator's records ---------------------------------------------------
  /// Adds a customer (no change when it exists).
  Status put_customer(std::string_view customer_id);
  /// Adds a customer with its display name, or renames an existing one.
  Status put_customer(std::string_view customer_id, std::string_view name);
  /// The display name of `customer_id` ("" when it has none); nullopt when
  /// there is no such customer.
  Result<std::optional<std::string>> customer_name(std::string_view customer_id);
  /// Adds or replaces a system with its whole record, entitlements included;
  /// the customer is added when missing.
  Status put_system(const SystemRecord& record);
  /// Sets one entitlement of an existing system (qty 0 keeps the feature at
  /// zero). invalid_argument when the system is unknown.
  Status set_entitlement(std::string_view system_id, std::string_view feature, uint32_t qty);

  // ---- What the sessions recorded ---------------------------------------------------
  /// Licenses issued to `system_id`, oldest first.
  Result<std::vector<IssuedLicense>> issued(std::string_view system_id);
  Result<std::vector<RevocationRecord>> revocations();
  Result<std::vector<ConnectionHistory>> connections();
  /// Audits of `system_id` in the order received.
  Result<std::vector<AuditRecord>> audits(std::string_view system_id);
  /// Events stored for `system_id`, in the order stored (so in seq order
  /// within each stream), each with its stream.
  Result<std::vector<DeviceEvent>> events(std::string_view system_id);
  /// Every alarm raised (cleared ones included), oldest first.
  Result<std::vector<SystemAlarm>> alarms();
  /// Clears the standing alarm of `kind` for `system_id` at `at`: true when
  /// one stood, false when none did.
  Result<bool> clear_alarm(std::string_view system_id, std::string_view kind, Millis at);
  /// Every registered system with its latest connection and license, in
  /// system_id order (one query, for fleets of thousands).
  Result<std::vector<SystemSummary>> system_summaries();

  // ---- Tunnel channels (sqlite_tunnels.cpp) -----------------------------------
  /// Records channel `record` opening (its closing fields are ignored);
  /// returns the row id for tunnel_closed. invalid_argument (detail 1:
  /// channel, 2: service, 3: operator) when a field is out of its range.
  Result<int64_t> tunnel_opened(const TunnelRecord& record);
  /// Completes row `id`: closed at `at` after the bytes each way, for
  /// `reason`. invalid_argument when `id` is not an open channel's row or
  /// a count is beyond 2^63-1.
  Status tunnel_closed(int64_t id, Millis at, uint64_t bytes_in, uint64_t bytes_out, std::string_view reason);
  /// Every channel of `system_id` (every system's when empty), oldest first.
  Result<std::vector<TunnelRecord>> tunnels(std::string_view system_id = {});
  /// Closes the rows a previous run left open (it stopped without closing
  /// them) at `at` with kTunnelServerStopped; returns how many.
  Result<int64_t> close_abandoned_tunnels(Millis at);

  // ---- Directory --------------------------------------------------------------
  Result<SystemLookup> find_system(std::string_view customer_id, std::string_view system_id) override;
  Result<std::string> next_serial(std::string_view system_id) override;
  Status record_issued(const IssuedLicense& license) override;
  Result<std::optional<IssuedLicense>> last_issued(std::string_view system_id) override;
  Status record_revoked(std::string_view system_id, std::string_view serial, std::string_view reason,
                        Millis at) override;
  Result<bool> is_revoked(std::string_view system_id, std::string_view serial) override;
  Result<int64_t> connection_up(const ConnectionRecord& connection) override;
  Status connection_down(int64_t id, Millis at, std::string_view reason) override;
  Status connection_contact(int64_t id, Millis at) override;
  Status record_audit(const AuditRecord& audit) override;
  Result<int64_t> store_events(std::string_view system_id, std::string_view stream,
                               std::span<const DeviceEvent> events) override;
  Status raise_alarm(const SystemAlarm& alarm) override;
  Result<bool> alarm_standing(std::string_view system_id, std::string_view kind) override;

 private:
  explicit SqliteDirectory(sqlite3* db) : db_(db), statements_(db) {}
  /// The features of license `serial`, in the order granted.
  Result<std::vector<LicensedQuantity>> license_features(std::string_view serial);
  /// Usage and overuse rows of one audit.
  Status read_audit_details(int64_t audit_id, AuditRecord& audit);

  sqlite3* db_;
  SqliteStatementCache statements_;  // every statement below, prepared once
};

}  // namespace sublink
