// The operator's list of devices: every system in the records merged with
// the links the server holds now. A live link tells the link's port, peer,
// latest contact and serial; a system without one shows its latest contact
// and license from the records.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "firmware/json/json_writer.h"
#include "hal/status.h"
#include "server_core/server_session.h"
#include "tools/server/db/sqlite_directory.h"

namespace sublink {

/// One line of `devices`.
struct DeviceRow {
  std::string system_id;
  std::string customer_id;
  bool up = false;
  std::optional<uint16_t> port;  // the server port of the live link
  std::optional<std::string> peer;  // the device's address on the live link
  std::optional<Millis> last_contact;  // the latest message ever seen (UTC ms)
  std::optional<std::string> serial;   // the license it holds or was last issued
  std::optional<std::string> held;     // on a live link: the license the device reported in force
  bool blackholed = false;
  /// The duplicate_identity alarm standing for the system (its records).
  std::optional<SystemAlarm> duplicate_identity;
};

/// Every system of `systems`, plus any linked system missing from them, in
/// system_id order. `links` are the live sessions (several per system are
/// allowed; the newest wins).
std::vector<DeviceRow> merge_fleet(const std::vector<SystemSummary>& systems, const std::vector<SessionInfo>& links);

/// `row` as one JSON object: system_id, customer_id, link ("up"/"down"),
/// port, peer, last_contact (UTC ms), serial (null when unknown), held (the serial the device reported in force
/// on its live link; null when down or none), blackholed, alarms (the standing ones: [{kind, raised (UTC ms),
/// detail}]).
void write_device_row(JsonWriter& w, const DeviceRow& row);

}  // namespace sublink
