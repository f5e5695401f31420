// The client side of a local control socket: sublinkctl's to sublinkd
// (control_protocol.h), and sublink-server admin's to the server.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "linux_util/control/control_protocol.h"
#include "hal/clock.h"

namespace sublink {

/// A connection to a running program's control socket. Blocking, with a
/// deadline on every read: a tool, not part of the agent.
class ControlClient {
 public:
  /// `program` names the other end in messages ("sublinkd is not
  /// running"); an answer line longer than `max_answer` is an error.
  explicit ControlClient(std::string_view program = "sublinkd", size_t max_answer = kMaxControlAnswer)
      : program_(program), max_answer_(max_answer) {}
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
  std::string program_;
  size_t max_answer_;
  int fd_ = -1;
  std::string pending_;
};

}  // namespace sublink
