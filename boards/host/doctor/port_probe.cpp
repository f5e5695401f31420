#include "boards/host/doctor/port_probe.h"

#include <time.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <optional>
#include <string_view>
#include <variant>

#include "firmware/protocol/device_messages.h"
#include "firmware/protocol/server_messages.h"
#include "hal/posix/system_random.h"
#include "net/posix/posix_network.h"
#include "hal/posix/system_clock.h"

namespace sublink {

namespace {

constexpr size_t kPingPayload = 125;  // the most a control frame carries
constexpr Millis kRetryNeverMs = 3600 * 1000;

int64_t monotonic_us() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

Millis monotonic_ms() { return monotonic_us() / 1000; }

// Collects what the link reports into the probe.
class ProbeListener final : public LinkListener {
 public:
  ProbeListener(PortProbe& probe, const TlsClientConfig& tls) : probe_(probe), tls_(tls) {}

  bool round_failed = false;
  bool down = false;
  std::deque<std::string> inbox;
  int64_t first_pong_us = 0;

  void on_resolved(std::string_view, Status status, const AddressList&) override { probe_.resolve_status = status; }
  void on_attempt_step(const AttemptInfo& info, LinkStep step) override {
    AttemptRecord& r = record(info);
    switch (step) {
      case LinkStep::connecting: break;
      case LinkStep::tcp_connected: r.tcp = true; break;
      case LinkStep::tunnel_open: r.tunnel = true; break;
      case LinkStep::tls_established: r.tls = true; break;
      case LinkStep::upgraded: r.upgraded = true; break;
    }
  }
  void on_attempt_failed(const AttemptInfo& info, Status why, std::string_view text) override {
    AttemptRecord& r = record(info);
    r.failure = why;
    r.text = std::string(text);
    // Attempts run one at a time (max_parallel_attempts 1), so once this
    // one got as far as TLS the latest session of the configuration is its.
    bool tls_began = r.tcp && (r.tunnel || !probe_.via_proxy);
    if (auto names = tls_.last_peer_certificate_names(); names && tls_began) {
      r.presented_subject = std::string(names->subject);
      r.presented_issuer = std::string(names->issuer);
    }
  }
  void on_round_failed(Status, Millis) override { round_failed = true; }
  void on_link_up(const AttemptInfo& info, bool) override {
    probe_.up = true;
    probe_.up_address = info.address;
  }
  void on_text(std::string_view message) override { inbox.emplace_back(message); }
  void on_pong(std::span<const uint8_t> payload) override {
    if (payload.size() != kPingPayload) return;  // not one of the burst
    int64_t now = monotonic_us();
    if (probe_.pong_bytes == 0) first_pong_us = now;
    probe_.pong_bytes += static_cast<int64_t>(payload.size());
    probe_.pong_span_us = now - first_pong_us;
  }
  void on_link_down(Status why) override {
    down = true;
    probe_.down_why = why;
  }

 private:
  AttemptRecord& record(const AttemptInfo& info) {
    for (AttemptRecord& r : probe_.attempts) {
      if (r.id == info.id) return r;
    }
    probe_.attempts.push_back(AttemptRecord{});
    probe_.attempts.back().id = info.id;
    probe_.attempts.back().address = info.address;
    return probe_.attempts.back();
  }

  PortProbe& probe_;
  const TlsClientConfig& tls_;
};

// The probe's event loop: one Link over real sockets.
class ProbeDriver {
 public:
  ProbeDriver(const LinkConfig& config, TlsClientConfig& tls, PortProbe& probe)
      : listener_(probe, tls), link_(config, tls, net_, random_, listener_) {}
  ~ProbeDriver() {
    if (!link_.idle()) {
      link_.close(1000);
      run_until([&] { return link_.idle(); }, 3000);
    }
  }

  Link& link() { return link_; }
  ProbeListener& listener() { return listener_; }

  /// Runs the loop until `done` holds (true) or `timeout_ms` passed (false).
  bool run_until(const std::function<bool()>& done, Millis timeout_ms) {
    Millis deadline = monotonic_ms() + timeout_ms;
    for (;;) {
      if (done()) return true;
      Millis now = monotonic_ms();
      if (now >= deadline) return false;
      Millis next = link_.poll(now);
      if (done()) return true;
      Millis wait = std::min<Millis>({next == kNever ? 50 : next - now, deadline - now, 50});
      net_.wait(wait < 0 ? 0 : wait);
    }
  }

  /// Sends `text` and waits for the server message that answers request
  /// `id`; the other messages are dropped.
  std::optional<ServerMessage> ask(std::string_view text, int64_t id, Millis timeout_ms) {
    if (!link_.send_text(text).ok()) return std::nullopt;
    std::optional<ServerMessage> answer;
    run_until(
        [&] {
          while (!listener_.inbox.empty()) {
            JsonResult<ServerMessage> m = parse_server_message(listener_.inbox.front());
            listener_.inbox.pop_front();
            if (m.ok() && m->re == id) {
              answer.emplace(std::move(m.value()));
              return true;
            }
          }
          return listener_.down;
        },
        timeout_ms);
    return answer;
  }

 private:
  PosixNetwork net_;
  SystemRandom random_;
  ProbeListener listener_;
  Link link_;
};

void say_hello(ProbeDriver& d, const DeviceConfig& config, const ProbeSettings& s, PortProbe& probe) {
  HelloMessage h;
  h.customer_id = config.customer_id.view();
  h.system_id = config.system_id.view();
  h.agent = s.agent_version;
  h.fw = s.firmware;
  // Not the appliance's link: the server leaves the running agent's link
  // alone (one link per system, PROTOCOL.md section 4) and grants nothing.
  h.role = "doctor";
  h.state = s.state;
  h.grace_elapsed_s = s.grace_elapsed_s;
  if (!s.license_serial.empty()) h.license_serial = std::string_view(s.license_serial);
  Millis sent = system_utc_ms();
  if (s.clock_trusted) h.time = sent;
  std::string buffer(8192, '\0');
  Result<size_t> n = build_hello(buffer, 1, h);
  if (!n.ok()) {
    probe.hello = HelloOutcome::no_answer;
    return;
  }
  std::optional<ServerMessage> answer = d.ask({buffer.data(), *n}, 1, s.answer_timeout_ms);
  Millis received = system_utc_ms();
  if (!answer) {
    probe.hello = d.listener().down ? HelloOutcome::closed : HelloOutcome::no_answer;
    return;
  }
  if (const auto* w = std::get_if<Welcome>(&answer->body)) {
    probe.hello = HelloOutcome::welcomed;
    probe.heartbeat_s = w->heartbeat_s;
    probe.server_offset_ms = w->time - (sent + received) / 2;
  } else if (const auto* e = std::get_if<ServerError>(&answer->body)) {
    probe.hello = HelloOutcome::refused;
    probe.refusal_code = std::string(e->code);
    probe.refusal_message = std::string(e->message);
  } else {
    probe.hello = HelloOutcome::refused;
    probe.refusal_code = "unexpected_answer";
  }
}

void measure_round_trips(ProbeDriver& d, const ProbeSettings& s, PortProbe& probe) {
  std::string buffer(256, '\0');
  int64_t started = monotonic_us();
  for (int i = 0; i < s.heartbeats && !d.listener().down; ++i) {
    int64_t id = 2 + i;
    Result<size_t> n = build_heartbeat(buffer, id, i + 1, (monotonic_us() - started) / 1000000);
    if (!n.ok()) return;
    int64_t t0 = monotonic_us();
    std::optional<ServerMessage> ack = d.ask({buffer.data(), *n}, id, s.answer_timeout_ms);
    if (!ack || !std::holds_alternative<HeartbeatAck>(ack->body)) return;
    probe.rtt_us.push_back(monotonic_us() - t0);
  }
}

void measure_throughput(ProbeDriver& d, const ProbeSettings& s, PortProbe& probe) {
  uint8_t payload[kPingPayload];
  for (size_t i = 0; i < kPingPayload; ++i) payload[i] = static_cast<uint8_t>('a' + i % 26);
  const int64_t pings = (s.throughput_bytes + static_cast<int64_t>(kPingPayload) - 1) / kPingPayload;
  int64_t sent = 0;
  d.run_until(
      [&] {
        // Keep the pipe full: queue pings until the link pushes back.
        while (sent < pings && d.link().send_ping(payload).ok()) ++sent;
        return d.listener().down || probe.pong_bytes >= pings * static_cast<int64_t>(kPingPayload);
      },
      s.throughput_limit_ms);
  probe.ping_bytes_sent = sent * static_cast<int64_t>(kPingPayload);
}

}  // namespace

const AttemptRecord* PortProbe::furthest() const {
  const AttemptRecord* best = nullptr;
  auto depth = [](const AttemptRecord& r) { return r.upgraded * 16 + r.tls * 8 + r.tunnel * 4 + r.tcp * 2 + 1; };
  for (const AttemptRecord& r : attempts) {
    if (best == nullptr || depth(r) > depth(*best)) best = &r;
  }
  return best;
}

PortProbe probe_port(const DeviceConfig& config, TlsClientConfig& tls, uint16_t port, const ProbeSettings& s) {
  PortProbe probe;
  probe.port = port;
  probe.via_proxy = config.has_proxy;
  LinkConfig lc;
  lc.server = config.server.view();
  lc.connect.ports[0] = port;
  lc.connect.port_count = 1;
  lc.connect.stagger_ms = 0;  // one address after another: each outcome is its own
  lc.connect.connect_timeout_ms = config.connect_timeout;
  lc.connect.retry_min_ms = kRetryNeverMs;
  lc.connect.retry_max_ms = kRetryNeverMs;
  lc.proxy = config.has_proxy ? &config.proxy : nullptr;
  lc.max_message_bytes = config.max_message_bytes;
  std::string user_agent = "sublink/" + s.agent_version;
  lc.user_agent = user_agent;
  lc.max_parallel_attempts = 1;

  ProbeDriver d(lc, tls, probe);
  d.link().start(monotonic_ms());
  Millis budget = static_cast<Millis>(AddressList::kMax) * config.connect_timeout + 5000;
  d.run_until([&] { return probe.up || d.listener().round_failed; }, budget);
  if (!probe.up) return probe;

  say_hello(d, config, s, probe);
  if (probe.hello != HelloOutcome::welcomed) return probe;
  measure_round_trips(d, s, probe);
  if (!d.listener().down) measure_throughput(d, s, probe);
  return probe;
}

}  // namespace sublink
