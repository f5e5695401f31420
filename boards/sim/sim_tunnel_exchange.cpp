#include "boards/sim/sim_tunnel_exchange.h"

#include <algorithm>
#include <map>

#include "net/tunnel/tunnel_frame.h"

namespace sublink {

namespace {

constexpr int64_t kWorstLinkBps = 128000;
constexpr Millis kWorstLinkOneWayMs = 100;

// Byte `i` of the bytes service connection `stream` sends: not periodic
// within kSimBulkBytes, so a lost, repeated or reordered block shows.
uint8_t pattern_byte(uint64_t stream, uint64_t i) {
  return static_cast<uint8_t>((i * 31) ^ (i >> 8) ^ (i >> 16) ^ (stream * 0x9e));
}

std::vector<uint8_t> pattern(uint64_t stream, uint64_t size) {
  std::vector<uint8_t> out(size);
  for (uint64_t i = 0; i < size; ++i) out[i] = pattern_byte(stream, i);
  return out;
}

// The LAN's services. Each connection lives until the service closes it or
// the device does; whatever is still open when the exchange ends is reset,
// so nothing calls back into a service that is gone.
class LanService : public SimConnectionHandler {
 public:
  ~LanService() override {
    for (auto& [id, c] : open_) c->reset();
  }
  void accept(SimConnection& c) {
    c.set_handler(this);
    open_[c.id()] = &c;
    on_accept(c);
  }
  void on_closed(SimConnection& c, Status /*why*/) override { open_.erase(c.id()); }

 protected:
  virtual void on_accept(SimConnection& /*c*/) {}
  void finish(SimConnection& c) {
    open_.erase(c.id());
    c.close();
  }
  std::map<uint64_t, SimConnection*> open_;
};

// Sends kSimBulkBytes of its connection's pattern as fast as the LAN takes
// them, then closes: the channel's far end saturates the link.
class BulkService final : public LanService {
 public:
  uint64_t accepted() const { return next_stream_; }
  void on_data(SimConnection& /*c*/, std::span<const uint8_t> /*bytes*/) override {}
  void on_writable(SimConnection& c) override { push(c); }

 private:
  void on_accept(SimConnection& c) override {
    sent_[c.id()] = {next_stream_++, 0};
    push(c);
  }
  void push(SimConnection& c) {
    // Plain references, not a structured binding: clang 14 cannot capture
    // those in a lambda.
    std::pair<uint64_t, uint64_t>& entry = sent_[c.id()];
    const uint64_t stream = entry.first;
    uint64_t& sent = entry.second;
    while (sent < kSimBulkBytes) {
      const std::vector<uint8_t> block = [&] {
        std::vector<uint8_t> b(std::min<uint64_t>(4096, kSimBulkBytes - sent));
        for (size_t i = 0; i < b.size(); ++i) b[i] = pattern_byte(stream, sent + i);
        return b;
      }();
      const size_t n = c.send(block);
      sent += n;
      if (n < block.size()) return;  // on_writable follows
    }
    finish(c);
  }
  std::map<uint64_t, std::pair<uint64_t, uint64_t>> sent_;  // connection -> (stream, bytes sent)
  uint64_t next_stream_ = 0;
};

// Takes a request of kSimRequestBytes and sends it back, then closes.
class AnswerService final : public LanService {
 public:
  void on_data(SimConnection& c, std::span<const uint8_t> bytes) override {
    std::vector<uint8_t>& got = requests_[c.id()];
    got.insert(got.end(), bytes.begin(), bytes.end());
    if (got.size() < kSimRequestBytes) return;
    (void)c.send(got);  // 2000 bytes: well within the connection's window
    finish(c);
  }

 private:
  std::map<uint64_t, std::vector<uint8_t>> requests_;
};

// The received bytes of channel `log` against what `expected` holds.
SimTunnelReport::Channel judge(const SimChannelLog& log, const std::vector<uint8_t>& expected) {
  SimTunnelReport::Channel c;
  c.service = log.service;
  c.expected = expected.size();
  c.received = log.received.size();
  c.whole = log.received == expected;
  if (log.closed) c.end = log.closed->reason_name();
  return c;
}

// Bytes of `log` received by world time `t`.
uint64_t received_by(const SimChannelLog& log, Millis t) {
  uint64_t n = 0;
  for (const auto& [at, total] : log.arrivals) {
    if (at > t) break;
    n = total;
  }
  return n;
}

}  // namespace

void sim_configure_tunnels(SimWorldSetup& setup) {
  setup.path = SimPath{kWorstLinkOneWayMs, kWorstLinkBps};
  setup.server_settings.heartbeat_s = 10;
  DeviceConfig& c = setup.device_config;
  const char* names[] = {"bulk", "answer"};
  const uint16_t ports[] = {kSimBulkPort, kSimAnswerPort};
  c.service_count = 0;
  for (size_t i = 0; i < 2; ++i) {
    ServiceEndpoint& s = c.services[c.service_count++];
    s.name.assign(names[i]);
    s.host.assign(kSimLanHost);
    s.port = ports[i];
  }
}

bool sim_tunnel_exchange(SimWorld& world, SimTunnelReport& report) {
  SimServer& server = world.server();
  const IpAddress lan = IpAddress::parse(kSimLanHost);
  BulkService bulk;
  AnswerService answer;
  world.net().listen(lan, kSimBulkPort, [&](SimConnection& c) { bulk.accept(c); });
  world.net().listen(lan, kSimAnswerPort, [&](SimConnection& c) { answer.accept(c); });
  const uint64_t welcomes = server.welcomes();
  const size_t heartbeats_before = server.heartbeat_arrivals().size();
  const size_t first = server.channels().size();

  // Two bulk channels saturate the link.
  const std::optional<size_t> a = server.open_channel("bulk", "ops");
  const std::optional<size_t> b = server.open_channel("bulk", "ops");
  bool ok = a && b;
  if (ok) ok = world.run_until([&] { return server.channels()[*a].arrivals.size() > 2; }, 30 * kSecondMs, 10);
  // While they flow, a small request rides behind its OPEN (early data).
  std::optional<size_t> small;
  const std::vector<uint8_t> request = pattern(99, kSimRequestBytes);
  if (ok) small = server.open_channel("answer", "ops");
  if (small) {
    ok = server.channel_write(*small, request) == request.size();
    server.channel_finish(*small);
  }
  ok = ok && small.has_value();
  // Each bulk channel's operator finishes once the device has (the bulk
  // service sends and closes; the operator has nothing to say).
  std::vector<bool> finished(server.channels().size(), false);
  const auto all_closed = [&] {
    for (size_t i = first; i < server.channels().size(); ++i) {
      const SimChannelLog& log = server.channels()[i];
      if (log.device_finished && !finished[i]) {
        finished[i] = true;
        if (static_cast<std::optional<size_t>>(i) != small) server.channel_finish(i);
      }
      if (!log.closed) return false;
    }
    return true;
  };
  if (ok) ok = world.run_until(all_closed, 5 * 60 * kSecondMs, 10);
  world.net().unlisten(lan, kSimBulkPort);
  world.net().unlisten(lan, kSimAnswerPort);
  if (!a || !b || !small) return false;

  const SimChannelLog& la = server.channels()[*a];
  const SimChannelLog& lb = server.channels()[*b];
  const SimChannelLog& ls = server.channels()[*small];
  report.channels = {judge(la, pattern(0, kSimBulkBytes)), judge(lb, pattern(1, kSimBulkBytes)), judge(ls, request)};
  if (ls.accepted_at >= 0 && !ls.arrivals.empty()) report.small_wait_ms = ls.arrivals.front().first - ls.accepted_at;
  report.frame_ms = static_cast<Millis>((kTunnelMaxFrameBytes * 8 * 1000 + kWorstLinkBps - 1) / kWorstLinkBps);
  // While both bulk channels flowed, after each arrival on either.
  const Millis both_until = la.arrivals.empty() || lb.arrivals.empty()
                                ? -1
                                : std::min(la.arrivals.back().first, lb.arrivals.back().first);
  for (const SimChannelLog* log : {&la, &lb}) {
    for (const auto& [t, total] : log->arrivals) {
      if (t > both_until) break;
      const uint64_t x = received_by(la, t), y = received_by(lb, t);
      report.bulk_share_gap = std::max(report.bulk_share_gap, x > y ? x - y : y - x);
    }
  }
  const std::vector<Millis>& beats = server.heartbeat_arrivals();
  for (size_t i = heartbeats_before + 1; i < beats.size(); ++i) {
    report.heartbeat_gap_ms = std::max(report.heartbeat_gap_ms, beats[i] - beats[i - 1]);
  }
  report.heartbeat_interval_ms = world.setup().server_settings.heartbeat_s * kSecondMs;
  report.relinks = server.welcomes() - welcomes;
  return ok;
}

std::vector<std::string> SimTunnelReport::lines() const {
  std::vector<std::string> out;
  for (const Channel& c : channels) {
    out.push_back("channel " + c.service + ": " + std::to_string(c.received) + " of " + std::to_string(c.expected) +
                  " bytes" + (c.whole ? ", whole and in order" : ", NOT as sent") + ", end " +
                  (c.end.empty() ? "open" : c.end));
  }
  out.push_back("the answer's first byte waited " + std::to_string(small_wait_ms) + " ms after its OPEN_OK (one DATA frame: " +
                std::to_string(frame_ms) + " ms)");
  out.push_back("the bulk channels differed by at most " + std::to_string(bulk_share_gap) + " bytes while both flowed");
  out.push_back("heartbeats arrived at most " + std::to_string(heartbeat_gap_ms) + " ms apart (interval " +
                std::to_string(heartbeat_interval_ms) + " ms); links made during the exchange: " +
                std::to_string(relinks));
  return out;
}

}  // namespace sublink
