// The agent on a board: one Link, one Agent, and the board's own listener,
// wired once for every board (sublinkd, the MPS2 image, the simulation).
// The Link reports to the runner; the runner hands each report to the
// board first (its narration, console milestones, timeline) and then to the
// agent, except server messages: the board hears those once the agent has
// handled them, so it sees the agent's state after them (link_accepted()
// after `welcome`).
// The agent writes nothing from inside these reports: runner.step() is the
// drain, the one place the agent writes to the link.
//
// Driving it (any loop: poll(2), WFI on a Cortex-M, the simulation):
//   AgentRunner runner(&board_listener);
//   Link link(link_config, tls, driver, random, runner);
//   Agent agent(agent_config, link, storage, mono, wall, key, random);
//   runner.attach(agent, link);
//   agent.enable_tunnels(driver, link);   // tunnels: binary messages reach the agent through the runner
//   agent.boot(now); agent.start(now);
//   forever: deadline = runner.step(now); wait for socket events or the deadline
#pragma once

#include <span>
#include <string_view>

#include "firmware/agent/agent.h"
#include "net/link/link.h"

namespace sublink {

class AgentRunner final : public LinkListener {
 public:
  /// `board` (nullptr: none) must outlive the runner.
  explicit AgentRunner(LinkListener* board = nullptr) : board_(board) {}
  AgentRunner(const AgentRunner&) = delete;
  AgentRunner& operator=(const AgentRunner&) = delete;

  /// The agent and the link this runner drives; the link must report to
  /// this runner (its LinkListener). Both must outlive the runner, or be
  /// detached first. Reports before attach() reach the board only.
  void attach(Agent& agent, Link& link) {
    agent_ = &agent;
    link_ = &link;
  }
  void detach() {
    agent_ = nullptr;
    link_ = nullptr;
  }

  /// One pass of the board's loop: the agent's step (the drain, then what
  /// is due), then the link's poll; returns when to run again at the
  /// latest: `now` when the link's reports left output for the agent to write.
  Millis step(Millis now);

  // LinkListener: the board, then the agent (on_text: the agent, then the board;
  // on_pong: the board only).
  void on_resolved(std::string_view name, Status status, const AddressList& addresses) override;
  void on_attempt_step(const AttemptInfo& attempt, LinkStep step) override;
  void on_attempt_failed(const AttemptInfo& attempt, Status why, std::string_view text) override;
  void on_round_failed(Status last, Millis retry_at) override;
  void on_link_up(const AttemptInfo& attempt, bool tls_resumed) override;
  void on_text(std::string_view message) override;
  void on_binary(std::span<const uint8_t> message) override;
  void on_pong(std::span<const uint8_t> payload) override;
  void on_link_down(Status why) override;

 private:
  LinkListener* board_;
  Agent* agent_ = nullptr;
  Link* link_ = nullptr;
};

}  // namespace sublink
