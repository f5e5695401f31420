// What the agent shows locally (PROTOCOL.md section 7 `status --json`, and
// the `status.get` answer): one snapshot of state, link, grace and license.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "firmware/config/device_config.h"
#include "firmware/grace/grace_config.h"
#include "firmware/json/json_writer.h"
#include "firmware/license/license.h"
#include "hal/clock.h"

namespace sublink {

/// One open tunnel channel, as tunnels.list and the status show it.
struct TunnelListing {
  uint16_t channel = 0;
  std::string_view service;
  std::string_view op;           // the operator identity (0..kMaxTunnelOperator bytes)
  std::optional<Millis> opened;  // UTC, when the server's time is known
  uint64_t bytes_in = 0;         // DATA received from the server
  uint64_t bytes_out = 0;        // DATA sent to the server
};

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
  /// `last_failure`: why the link is down or was last refused (reason: a
  /// Reason name or the server's error code; empty before any failure).
  struct Failure {
    std::string_view reason;
    std::string_view detail;
    std::optional<Millis> when;  // UTC, when known
  } last_failure;
  /// `next_attempt`: when the next connection round starts; no value while
  /// a round is under way or the link is up.
  struct NextAttempt {
    std::optional<Millis> in_ms;
    std::optional<Millis> at;  // UTC, when known
    /// True while the first round waits for a usable clock (NTP) for up to
    /// ntp_wait_s: the round starts when the clock is set, at the latest
    /// at `in_ms`.
    bool waiting_for_clock = false;
  } next_attempt;
  std::string_view event_stream;  // 16 hex digits: the stream new events are numbered in
  /// "ok", or the last storage failure while it lasts: the record's name
  /// and the system's words ("events: No space left on device").
  std::string_view storage = "ok";
  /// Records found damaged at this boot, each with what was kept and lost
  /// ("events: record damaged (bad_checksum), undelivered events lost, new
  /// stream 0123456789abcdef").
  std::array<std::string_view, 6> damaged{};
  size_t damaged_count = 0;
  /// `tunnels`: the open channels (views into the tunnel service).
  std::span<const TunnelListing> tunnels;
  /// `tunnels_omitted`, written when not 0: open channels left out of
  /// `tunnels` because the whole status would not fit one message
  /// (tunnels.list always lists them all).
  size_t tunnels_omitted = 0;
};

/// The most bytes write_tunnel_listing() writes per channel: its names and
/// the longest service name and operator, each character escaped in two
/// (names hold no control characters), the longest numbers, a comma.
inline constexpr size_t kTunnelListingMaxBytes =
    sizeof(R"({"channel":,"service":"","operator":"","opened":,"bytes_in":,"bytes_out":},)") - 1 + 5 +
    2 * (kMaxServiceName + kMaxTunnelOperator) + 3 * 20;

/// Writes `channels` as the JSON array of tunnels.list and the status:
/// [{channel, service, operator, opened, bytes_in, bytes_out}], at most
/// kTunnelListingMaxBytes per channel.
void write_tunnel_listing(JsonWriter& w, std::span<const TunnelListing> channels);

/// Writes `status` as one JSON object with the section 7 names
/// (`license` is null when none is held; `clock` is {trusted, source};
/// `damaged` lists the records found damaged at boot, empty when none;
/// `last_failure` is {reason, detail, when} or null, `next_attempt`
/// {in_s, at} or null, `tunnels` the list of open channels).
void write_status_json(JsonWriter& w, const AgentStatus& status);

}  // namespace sublink
