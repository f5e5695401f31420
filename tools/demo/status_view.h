// What the demo reads from the two sides as plain values: the agent's
// section 7 status (`sublinkctl status --json` and `watch` lines) and one
// device line of the server's `admin devices --json`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sublink::demo {

struct FeatureQty {
  std::string name;
  int64_t qty = 0;
};

/// "trunks=30 recording=1", or "none".
std::string feature_text(const std::vector<FeatureQty>& features);

struct AgentStatusView {
  std::string state;  // unlicensed, licensed, grace, expired
  bool link_up = false;
  int port = 0;       // 0 while the link is down
  int64_t grace_elapsed_s = 0;
  int64_t grace_remaining_s = 0;
  bool alarm = false;
  std::string serial;  // empty when no license is held
  std::vector<FeatureQty> features;
  int64_t events_pending = 0;

  /// The licensed features as feature_text() writes them.
  std::string feature_text() const { return demo::feature_text(features); }
  /// One line for a failure message: state, link, alarm, license.
  std::string summary() const;
};

/// Parses a status object; nullopt when `json` is not one.
std::optional<AgentStatusView> parse_agent_status(std::string_view json);

struct ServerDeviceView {
  std::string system_id;
  bool link_up = false;
  int port = 0;
  std::string peer;
  std::optional<int64_t> last_contact;  // UTC ms
  std::string serial;
};

/// The line of `admin devices --json` output (one object per line) for
/// `system_id`; nullopt when there is none.
std::optional<ServerDeviceView> find_server_device(std::string_view devices_output, std::string_view system_id);

}  // namespace sublink::demo
