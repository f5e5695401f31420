// sublinkctl's side of the control socket (control_protocol.h).
#pragma once

#include <string>
#include <string_view>

#include "hal/clock.h"

namespace sublink {

/// A connection to a running sublinkd. Blocking, with a deadline on every
/// read: a tool, not part of the agent.
class ControlClient {
 public:
  ControlClient() = default;
  ~ControlClient();
  ControlClient(const ControlClient&) = delete;
  ControlClient& operator=(const ControlClient&) = delete;

  /// Connects to the socket at `path`. On failure `error` says why in one
  /// line (no agent running, no permission, ...).
  bool connect(const std::string& path, std::string& error);
  /// Sends one request line (without the newline).
  bool send(std::string_view request, std::string& error);
  /// Reads one answer line (without the newline) within `timeout_ms`;
  /// negative waits forever (watch). False at end of stream or timeout.
  bool read_line(std::string& line, Millis timeout_ms, std::string& error);

 private:
  int fd_ = -1;
  std::string pending_;
};

}  // namespace sublink
