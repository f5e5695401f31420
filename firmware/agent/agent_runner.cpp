#include "firmware/agent/agent_runner.h"

#include <algorithm>

namespace sublink {

Millis AgentRunner::step(Millis now) {
  if (agent_ == nullptr || link_ == nullptr) return kNever;
  Millis next = std::min(agent_->step(now), link_->poll(now));
  // The link's poll may have reported (a timeout, a close completed) and
  // left the agent something to write: the next pass is due at once.
  return agent_->output_pending() ? now : next;
}

void AgentRunner::on_resolved(std::string_view name, Status status, const AddressList& addresses) {
  if (board_ != nullptr) board_->on_resolved(name, status, addresses);
  if (agent_ != nullptr) agent_->on_resolved(name, status, addresses);
}

void AgentRunner::on_attempt_step(const AttemptInfo& attempt, LinkStep step) {
  if (board_ != nullptr) board_->on_attempt_step(attempt, step);
}

void AgentRunner::on_attempt_failed(const AttemptInfo& attempt, Status why, std::string_view text) {
  if (board_ != nullptr) board_->on_attempt_failed(attempt, why, text);
  if (agent_ != nullptr) agent_->on_attempt_failed(attempt, why, text);
}

void AgentRunner::on_round_failed(Status last, Millis retry_at) {
  if (board_ != nullptr) board_->on_round_failed(last, retry_at);
}

void AgentRunner::on_link_up(const AttemptInfo& attempt, bool tls_resumed) {
  if (board_ != nullptr) board_->on_link_up(attempt, tls_resumed);
  if (agent_ != nullptr) agent_->on_link_up(attempt, tls_resumed);
}

void AgentRunner::on_text(std::string_view message) {
  if (agent_ != nullptr) agent_->on_text(message);
  if (board_ != nullptr) board_->on_text(message);
}

void AgentRunner::on_binary(std::span<const uint8_t> message) {
  if (board_ != nullptr) board_->on_binary(message);
  if (agent_ != nullptr) agent_->on_binary(message);
}

void AgentRunner::on_pong(std::span<const uint8_t> payload) {
  if (board_ != nullptr) board_->on_pong(payload);
}

void AgentRunner::on_link_down(Status why) {
  if (board_ != nullptr) board_->on_link_down(why);
  if (agent_ != nullptr) agent_->on_link_down(why);
}

}  // namespace sublink
