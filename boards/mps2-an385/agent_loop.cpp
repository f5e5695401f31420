#include "boards/mps2-an385/agent_loop.h"

#include <algorithm>
#include <cstring>

#include "boards/mps2-an385/board_exit.h"
#include "boards/mps2-an385/board_tunnels.h"
#include "boards/mps2-an385/console.h"
#include "firmware/json/json_document.h"
#include "firmware/json/json_reader.h"

namespace sublink::mps2 {

namespace {

// The type of a server message, for the milestones only (the agent parses
// it again for real; messages are small and this happens once per message).
bool is_heartbeat_ack(std::string_view message) {
  JsonResult<JsonDocument> doc = JsonDocument::parse(message);
  if (!doc.ok()) return false;
  JsonReader r(doc->root());
  std::optional<std::string_view> type = r.optional_string("type");
  return type && *type == "heartbeat_ack";
}

}  // namespace

AgentLoop::AgentLoop(const AgentParts& p)
    : board_(p.board),
      network_(p.network),
      sockets_(p.sockets),
      runner_(this),
      link_(p.settings.link, p.tls, p.sockets, p.random, runner_),
      agent_(p.settings.agent, link_, p.storage, p.mono, p.wall, p.license_key, p.random),
      status_page_(*this, p.settings.agent.system_id),
      handlers_{{{kStatusService, &status_page_}}} {
  runner_.attach(agent_, link_);
  p.settings.agent.tunnels.handlers = handlers_;
  agent_.enable_tunnels(p.sockets, link_);
}

Status AgentLoop::boot(Millis now) {
  boot_time_ = now;
  Status s = agent_.boot(now);
  agent_.set_state_callback(&AgentLoop::on_state, this);
  on_state(this, agent_.state());
  return s;
}

Millis AgentLoop::step(Millis now) {
  network_.poll();
  sockets_.poll();
  // The agent waits for SNTP itself (ntp_wait_s), then links on the
  // build time if no answer came (PROTOCOL.md section 2).
  if (!link_started_ && network_.has_address()) {
    link_started_ = true;
    console_line(network_.time_known() ? "link starting" : "link starting once the clock is set or ntp_wait_s passes");
    agent_.start(now);
  }
  Millis next = runner_.step(now);
  if (board_.deadline > 0) next = std::min(next, boot_time_ + board_.deadline);
  return std::min(next, now + network_.sleep_ms(1000));
}

bool AgentLoop::finished(Millis now, int& status, std::string_view& why) const {
  if (board_.exit_on == ExitOn::grace && licensed_ && heartbeat_acked_ && in_grace_) {
    status = kExitPassed;
    why = "grace";
    return true;
  }
  if (board_.deadline > 0 && now - boot_time_ >= board_.deadline) {
    status = kExitDeadline;
    why = "deadline";
    return true;
  }
  return false;
}

void AgentLoop::on_resolved(std::string_view name, Status status, const AddressList& addresses) {
  if (!status.ok() || addresses.count == 0) {
    ConsoleLine().add("resolve failed ").add(name).add(" ").add(reason_name(status.reason())).emit();
    return;
  }
  char text[48];
  addresses.items[0].format(text);
  ConsoleLine().add("resolved ").add(name).add(" ").add(text).emit();
}

void AgentLoop::on_attempt_failed(const AttemptInfo& attempt, Status why, std::string_view text) {
  ConsoleLine line;
  line.add("attempt failed port ").add_uint(attempt.port).add(" ").add(reason_name(why.reason()));
  line.add(" (").add_int(why.detail()).add(")");
  if (!text.empty()) line.add(" ").add(text);
  line.emit();
}

void AgentLoop::on_link_up(const AttemptInfo& attempt, bool tls_resumed) {
  ConsoleLine().add("link up port ").add_uint(attempt.port).emit();
  if (tls_resumed) console_line("tls session resumed");
}

void AgentLoop::on_text(std::string_view message) {
  if (is_heartbeat_ack(message)) {
    heartbeat_acked_ = true;
    console_line("heartbeat acked");
  }
}

void AgentLoop::on_link_down(Status /*why*/) {
  console_line("link down");
}

void AgentLoop::on_state(void* self, LicenseState state) {
  auto* loop = static_cast<AgentLoop*>(self);
  AgentStatus status = loop->agent_.snapshot();
  if (status.license_held && status.serial != std::string_view(loop->serial_) &&
      status.serial.size() < sizeof loop->serial_) {
    std::memcpy(loop->serial_, status.serial.data(), status.serial.size());
    loop->serial_[status.serial.size()] = '\0';
    if (state == LicenseState::licensed || state == LicenseState::grace) {
      ConsoleLine().add("licensed ").add(status.serial).emit();
    }
  }
  if (state == LicenseState::licensed && status.license_held) loop->licensed_ = true;
  const bool grace = state == LicenseState::grace;
  if (grace && !loop->in_grace_) console_line("grace");
  loop->in_grace_ = grace;
  if (state == LicenseState::expired) console_line("expired");
}

void AgentLoop::log_to_console(void* /*ctx*/, LogLevel level, std::string_view what, std::string_view detail) {
  if (static_cast<int>(level) > static_cast<int>(LogLevel::notice)) return;
  ConsoleLine line;
  line.add("agent: ").add(what);
  if (!detail.empty()) line.add(" (").add(detail).add(")");
  line.emit();
}

}  // namespace sublink::mps2
