// The agent on the board as one task of the shape every host gives it:
//   boot(now) once, then forever: deadline = step(now); sleep until the
//   deadline or an interrupt (here WFI on SysTick or the NIC).
// step() feeds received frames and lwIP's timers, delivers socket events
// to the link, and runs the link and the agent. It starts the link only
// once the wall clock is known, so no certificate is checked against 1970
// (which would fail every server as "not yet valid").
//
// It is also the board's own LinkListener: the AgentRunner hands it every
// link report (and the agent too), and it prints the milestones a test
// harness follows (README.md).
//
// It gives the agent its tunnels (board_tunnels.h) with one service inside
// the image: the status page (firmware/agent/status_page.h) as "status".
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "boards/mps2-an385/board_config.h"
#include "boards/mps2-an385/board_network.h"
#include "firmware/agent/agent.h"
#include "firmware/agent/agent_runner.h"
#include "firmware/agent/device_settings.h"
#include "firmware/agent/status_page.h"
#include "net/link/link.h"
#include "net/lwip/lwip_network.h"
#include "net/lwip/sntp_wall_clock.h"

namespace sublink::mps2 {

struct AgentParts {
  const BoardConfig& board;
  DeviceSettings& settings;
  TlsClientConfig& tls;
  Random& random;
  Storage& storage;
  MonotonicClock& mono;
  SntpWallClock& wall;
  const LicenseKey& license_key;
  BoardNetwork& network;
  LwipNetwork& sockets;
};

class AgentLoop final : public LinkListener, private StatusSource {
 public:
  /// Everything in `parts` must outlive the loop. Enables the agent's
  /// tunnels with the status page among the services (`parts.settings`
  /// already shaped by configure_board_tunnels).
  explicit AgentLoop(const AgentParts& parts);

  /// The status page's static size (the tunnels' memory beside the heap).
  static constexpr size_t status_page_bytes() { return sizeof(StatusPage); }

  /// Restores the agent's records (Agent::boot).
  Status boot(Millis now);

  /// One pass of the loop; returns when it wants to run again at the
  /// latest (an interrupt may wake it earlier).
  Millis step(Millis now);

  /// True when the run should end: `status` and `why` say how.
  bool finished(Millis now, int& status, std::string_view& why) const;

  /// Stores the agent's state and closes the link (Agent::shutdown).
  void shutdown(Millis now) { agent_.shutdown(now); }

  /// A LogSink writer: the agent's notices, warnings and errors as
  /// "[mps2] agent: ..." console lines.
  static void log_to_console(void* ctx, LogLevel level, std::string_view what, std::string_view detail);

  // LinkListener: the milestones (the runner hands the agent its own copy;
  // on_text comes once the agent has handled the message).
  void on_resolved(std::string_view name, Status status, const AddressList& addresses) override;
  void on_attempt_failed(const AttemptInfo& attempt, Status why, std::string_view text) override;
  void on_link_up(const AttemptInfo& attempt, bool tls_resumed) override;
  void on_text(std::string_view message) override;
  void on_link_down(Status why) override;

 private:
  static void on_state(void* self, LicenseState state);
  // StatusSource: what the status page shows.
  AgentStatus snapshot() const override { return agent_.snapshot(); }

  const BoardConfig& board_;
  BoardNetwork& network_;
  LwipNetwork& sockets_;
  AgentRunner runner_;  // the link reports here: to this loop, then the agent
  Link link_;
  Agent agent_;
  StatusPage status_page_;
  std::array<TunnelHandlerEntry, 1> handlers_;
  Millis boot_time_ = 0;
  bool link_started_ = false;
  bool licensed_ = false;
  bool heartbeat_acked_ = false;
  bool in_grace_ = false;
  char serial_[kMaxLicenseIdLength + 1] = {};
};

}  // namespace sublink::mps2
