// What the agent shows locally (PROTOCOL.md section 7 `status --json`, and
// the `status.get` answer): one snapshot of state, link, grace and license.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "firmware/grace/grace_config.h"
#include "firmware/json/json_writer.h"
#include "firmware/license/license.h"
#include "hal/clock.h"

namespace sublink {

struct AgentStatus {
  LicenseState state = LicenseState::unlicensed;
  bool link_up = false;        // from `welcome` until the link closes
  uint16_t port = 0;           // the server port while link_up
  int64_t grace_elapsed_s = 0;
  int64_t grace_remaining_s = 0;
  bool alarm = false;
  bool license_held = false;
  std::string_view serial;     // views into the agent: valid until its next input
  Millis expires = 0;
  std::span<const LicensedFeature> features;
  size_t events_pending = 0;
  uint64_t boot = 0;
  bool audit_overuse = false;  // the last acknowledged audit said overuse
  /// `clock`: which clock certificate dates are checked with and whether
  /// it is trusted (PROTOCOL.md sections 2 and 7).
  struct Clock {
    bool trusted = false;
    std::string_view source = "build";  // "ntp", "server", "rtc" or "build"
  } clock;
};

/// Writes `status` as one JSON object with the section 7 names
/// (`license` is null when none is held; `clock` is {trusted, source}).
void write_status_json(JsonWriter& w, const AgentStatus& status);

}  // namespace sublink
