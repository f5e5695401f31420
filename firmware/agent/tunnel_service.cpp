#include "firmware/agent/tunnel_service.h"

#include <algorithm>

namespace sublink {

namespace {

// tunnel_closed's reason travels in the event payload's days_left field
// (records keep their format): 0 fin, 1..11 the RST reasons, this one
// link_lost.
constexpr int32_t kClosedLinkLost = 100;

int32_t closed_reason_code(const TunnelClosed& c) {
  switch (c.end) {
    case TunnelClosed::End::fin: return 0;
    case TunnelClosed::End::link_lost: return kClosedLinkLost;
    case TunnelClosed::End::reset_sent:
    case TunnelClosed::End::reset_received: break;
  }
  return c.reason;
}

// tunnel_opened's text: service, a unit separator, operator; whole.
static_assert(kMaxServiceName + 1 + kMaxTunnelOperator <= EventPayload::kTextCapacity - 1,
              "the tunnel_opened record holds the longest service name and operator");

// PROTOCOL.md section 6's operator identity, as the device keeps it for
// tunnel_opened and tunnels.list. Section 6 sets no bound but the frame's
// (its parser has checked the bytes are UTF-8), so any operator is taken:
// one that fits kMaxTunnelOperator bytes is kept whole; a longer one keeps
// its first bytes, cut on a UTF-8 boundary, and ends in "..." (U+2026).
// A control character becomes '?': the record separates service and
// operator with one, and a log line must stay one line.
size_t keep_operator(std::string_view op, std::span<char, kMaxTunnelOperator> out) {
  static constexpr std::string_view kCut = "\xE2\x80\xA6";
  size_t n = op.size();
  if (n > out.size()) {
    n = out.size() - kCut.size();
    while (n > 0 && (static_cast<uint8_t>(op[n]) & 0xC0) == 0x80) --n;
  }
  std::transform(op.begin(), op.begin() + static_cast<std::ptrdiff_t>(n), out.begin(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f ? '?' : c;
  });
  if (n == op.size()) return n;
  std::copy(kCut.begin(), kCut.end(), out.begin() + static_cast<std::ptrdiff_t>(n));
  return n + kCut.size();
}

}  // namespace

const char* tunnel_closed_reason_name(int64_t code) {
  if (code == 0) return "fin";
  if (code == kClosedLinkLost) return "link_lost";
  return tunnel_reset_name(static_cast<uint8_t>(code >= 1 && code <= 255 ? code : 0));
}

TunnelMuxLimits tunnel_mux_limits(const TunnelSettings& settings) {
  TunnelMuxLimits l;
  l.max_channels = settings.max_channels;
  l.window = settings.window;
  // A whole DATA frame waiting for credit, and room for one more socket
  // read beside it before the socket stops receiving.
  l.send_queue = static_cast<uint32_t>(std::min<size_t>(settings.window, kTunnelMaxData) + settings.local_read_bytes);
  l.idle_ms = settings.idle_ms;
  return l;
}

// The frame buffer: within the link's send limit per message (4 KiB on a
// board), never below the largest control frame.
size_t tunnel_frame_capacity(const TunnelSettings& settings) {
  return std::clamp<size_t>(settings.max_frame_bytes, kTunnelMaxControlFrame, kTunnelMaxFrameBytes);
}

size_t TunnelService::memory_bound(const TunnelSettings& settings) {
  const TunnelMuxLimits l = tunnel_mux_limits(settings);
  return TunnelMux::memory_bound(l) - sizeof(TunnelMux) + sizeof(TunnelService) + tunnel_frame_capacity(settings) +
         size_t{l.max_channels} * (sizeof(Local) + sizeof(TunnelListing));
}

TunnelService::TunnelService(const Parts& parts)
    : settings_(parts.settings),
      driver_(parts.driver),
      link_(parts.link),
      events_(parts.events),
      log_(parts.log),
      time_(parts.time),
      limits_(tunnel_mux_limits(parts.settings)),
      slots_(new TunnelChannel[limits_.max_channels]),
      buffer_(new uint8_t[TunnelMux::buffer_bytes(limits_)]),
      locals_(new Local[limits_.max_channels]),
      listing_(new TunnelListing[limits_.max_channels]),
      mux_(limits_, {slots_.get(), limits_.max_channels}, {buffer_.get(), TunnelMux::buffer_bytes(limits_)},
           *this),
      frame_capacity_(tunnel_frame_capacity(parts.settings)),
      frame_(new uint8_t[frame_capacity_]) {}

TunnelService::~TunnelService() {
  for (size_t i = 0; i < limits_.max_channels; ++i) release_local(locals_[i]);
}

// ---- The link --------------------------------------------------------------------

Status TunnelService::on_binary(std::span<const uint8_t> message, Millis now) {
  now_ = now;
  mux_.tick(now);
  return mux_.receive(message);
}

void TunnelService::step(Millis now) {
  now_ = now;
  mux_.tick(now);
  for (size_t i = 0; i < limits_.max_channels; ++i) {
    Local& l = locals_[i];
    const bool waiting = l.phase == Local::Phase::resolving || l.phase == Local::Phase::connecting;
    if (waiting && l.deadline <= now) mux_.reset(static_cast<TunnelSlot>(i), TunnelReset::connect_timeout);
  }
  for (size_t i = 0; i < limits_.max_channels; ++i) {
    const Local::Phase phase = locals_[i].phase;
    if (phase == Local::Phase::open || phase == Local::Phase::handler) to_local(static_cast<TunnelSlot>(i));
  }
  write_frames();
  resume_reading();
}

Millis TunnelService::next_deadline(Millis now) const {
  Millis next = kNever;
  for (size_t i = 0; i < limits_.max_channels; ++i) {
    const Local& l = locals_[i];
    if (l.phase == Local::Phase::resolving || l.phase == Local::Phase::connecting) next = std::min(next, l.deadline);
  }
  // Idle channels are found by the table's tick: once a second is precise enough.
  if (mux_.live_count() > 0) next = std::min(next, saturating_add(now, kSecondMs));
  return next;
}

void TunnelService::write_frames() {
  for (;;) {
    if (!link_.up()) return;
    if (frame_length_ == 0) {
      // Control frames go whenever due; DATA only while the link holds
      // less than one frame, so what the agent writes next waits behind
      // one DATA frame at most.
      if (!mux_.control_due() && link_.output_queued() >= kTunnelMaxFrameBytes) return;
      frame_length_ = mux_.next_frame({frame_.get(), frame_capacity_});
      if (frame_length_ == 0) return;
    }
    if (!link_.send_binary({frame_.get(), frame_length_}).ok()) return;  // kept for the next step
    frame_length_ = 0;
  }
}

void TunnelService::link_lost(Millis now) {
  now_ = now;
  accepted_ = false;
  frame_length_ = 0;
  mux_.on_link_down();  // each channel's on_tunnel_closed closes its socket
}

void TunnelService::shutdown(Millis now) {
  now_ = now;
  mux_.reset_all(TunnelReset::shutdown);
  write_frames();
  accepted_ = false;
}

// ---- Channels --------------------------------------------------------------------

void TunnelService::on_tunnel_open(TunnelSlot slot, const TunnelFrame& open) {
  if (!accepted_) {
    log_.write(LogLevel::warning, "tunnel refused: the link is not accepted yet", open.service);
    return mux_.reset(slot, TunnelReset::not_allowed);
  }
  if (open_handler(slot, open)) return;
  const auto& services = settings_.services;
  auto it = std::find_if(services.begin(), services.end(),
                         [&](const ServiceEndpoint& s) { return s.name.view() == open.service; });
  if (it == services.end()) {
    log_.write(LogLevel::warning, "tunnel refused: unknown service", open.service);
    return mux_.reset(slot, TunnelReset::unknown_service);
  }
  Local& l = locals_[slot];
  l = Local{};
  l.service = static_cast<uint8_t>(it - services.begin());
  l.op_length = static_cast<uint8_t>(keep_operator(open.text, l.op));
  l.deadline = saturating_add(now_, settings_.connect_timeout_ms);
  Result<ResolveId> r = driver_.resolve(it->host.view(), *this);
  if (!r.ok()) {
    log_.write(LogLevel::warning, "tunnel refused: no lookup free", open.service);
    l = Local{};
    return mux_.reset(slot, TunnelReset::no_memory);
  }
  l.phase = Local::Phase::resolving;
  l.resolve = *r;
}

void TunnelService::on_tunnel_accepted(TunnelSlot /*slot*/) {}  // the device never opens

void TunnelService::on_tunnel_readable(TunnelSlot slot) { to_local(slot); }

void TunnelService::on_tunnel_closed(TunnelSlot slot, const TunnelClosed& closed) {
  Local& l = locals_[slot];
  if (l.opened_event) {
    EventPayload p;
    p.count = closed.channel;
    p.first_seq = closed.bytes_in;
    p.last_seq = closed.bytes_out;
    p.detail = (now_ - l.opened_ms) / kSecondMs;
    p.days_left = closed_reason_code(closed);
    p.set_text(service_name(l));
    events_.push(EventKind::tunnel_closed, Severity::info, p);
  }
  release_local(l);
}

void TunnelService::release_local(Local& l) {
  if (l.handler != nullptr) l.handler->close(static_cast<TunnelSlot>(&l - locals_.get()));
  if (l.resolve != 0) driver_.cancel_resolve(l.resolve);
  if (l.socket != 0) driver_.close(l.socket);
  l = Local{};
}

std::string_view TunnelService::service_name(const Local& l) const {
  if (l.handler != nullptr) return settings_.handlers[l.service].name;
  return l.service < settings_.services.size() ? settings_.services[l.service].name.view() : std::string_view();
}

// Received bytes to the local socket, as far as it takes them; credit
// follows from the table's consume().
void TunnelService::to_local(TunnelSlot slot) {
  Local& l = locals_[slot];
  if (l.phase == Local::Phase::handler) return to_handler(slot);
  while (l.phase == Local::Phase::open) {
    std::span<const uint8_t> bytes = mux_.readable(slot);
    if (bytes.empty()) break;
    Result<size_t> sent = driver_.send(l.socket, bytes);
    if (!sent.ok()) return mux_.reset(slot, TunnelReset::local_reset);
    if (*sent == 0) return;  // on_writable follows
    mux_.consume(slot, *sent);  // may end the channel (FIN both ways, all passed on)
  }
  if (l.phase == Local::Phase::open && mux_.peer_finished(slot) && !l.shut_sent) {
    l.shut_sent = true;
    driver_.shutdown_send(l.socket);
  }
  // The local service closed: what the server still sends has nowhere to go.
  if (l.phase == Local::Phase::local_closed && mux_.held(slot) > 0) mux_.reset(slot, TunnelReset::local_reset);
}

void TunnelService::resume_reading() {
  for (size_t i = 0; i < limits_.max_channels; ++i) {
    Local& l = locals_[i];
    if (l.phase == Local::Phase::open && !l.receiving &&
        mux_.send_room(static_cast<TunnelSlot>(i)) >= settings_.local_read_bytes) {
      l.receiving = true;
      driver_.set_receiving(l.socket, true);
    }
  }
}

// ---- Services inside the image ---------------------------------------------------

namespace {

// A handler's channel end: its send queue, FIN after it.
class HandlerReply final : public TunnelReply {
 public:
  HandlerReply(TunnelMux& mux, TunnelSlot slot) : mux_(mux), slot_(slot) {}
  size_t room() const override { return mux_.send_room(slot_); }
  size_t write(std::span<const uint8_t> bytes) override { return mux_.write(slot_, bytes); }
  void finish() override { mux_.finish(slot_); }

 private:
  TunnelMux& mux_;
  TunnelSlot slot_;
};

}  // namespace

bool TunnelService::open_handler(TunnelSlot slot, const TunnelFrame& open) {
  const auto& handlers = settings_.handlers;
  auto it = std::find_if(handlers.begin(), handlers.end(),
                         [&](const TunnelHandlerEntry& h) { return h.name == open.service; });
  if (it == handlers.end() || it->handler == nullptr) return false;
  if (!it->handler->open(slot, now_)) {
    log_.write(LogLevel::warning, "tunnel refused: the service has no session free", open.service);
    mux_.reset(slot, TunnelReset::no_memory);
    return true;
  }
  Local& l = locals_[slot];
  l = Local{};
  l.phase = Local::Phase::handler;
  l.handler = it->handler;
  l.service = static_cast<uint8_t>(it - handlers.begin());
  l.op_length = static_cast<uint8_t>(keep_operator(open.text, l.op));
  report_opened(slot, l);
  mux_.accept(slot);  // OPEN_OK; the early data is readable
  to_handler(slot);
  return true;
}

// Received bytes to the handler as far as it takes them, and room to
// answer in. consume() may end the channel (FIN both ways), which frees
// the slot and the handler's session.
void TunnelService::to_handler(TunnelSlot slot) {
  HandlerReply reply(mux_, slot);
  while (locals_[slot].phase == Local::Phase::handler) {
    const std::span<const uint8_t> bytes = mux_.readable(slot);
    const bool finished = bytes.empty() && mux_.peer_finished(slot);
    const size_t taken = locals_[slot].handler->on_input(slot, bytes, finished, reply);
    if (taken == 0) return;
    mux_.consume(slot, std::min(taken, bytes.size()));
  }
}

// ---- Local sockets ---------------------------------------------------------------

TunnelService::Local* TunnelService::by_socket(SocketId id, TunnelSlot& slot) {
  for (size_t i = 0; i < limits_.max_channels; ++i) {
    if (locals_[i].socket == id && locals_[i].phase != Local::Phase::none) {
      slot = static_cast<TunnelSlot>(i);
      return &locals_[i];
    }
  }
  return nullptr;
}

void TunnelService::on_resolved(ResolveId request, Status status, const AddressList& addresses) {
  for (size_t i = 0; i < limits_.max_channels; ++i) {
    Local& l = locals_[i];
    if (l.phase != Local::Phase::resolving || l.resolve != request) continue;
    const auto slot = static_cast<TunnelSlot>(i);
    l.resolve = 0;
    if (!status.ok() || addresses.count == 0) {
      log_.write(LogLevel::warning, "tunnel: the service's host does not resolve", service_name(l));
      return mux_.reset(slot, TunnelReset::connect_refused);
    }
    Result<SocketId> s = driver_.open(addresses.items[0], settings_.services[l.service].port, *this);
    if (!s.ok()) return mux_.reset(slot, TunnelReset::no_memory);
    l.phase = Local::Phase::connecting;
    l.socket = *s;
    return;
  }
}

void TunnelService::on_connected(SocketId id) {
  TunnelSlot slot = 0;
  Local* l = by_socket(id, slot);
  if (l == nullptr) return;
  l->phase = Local::Phase::open;
  report_opened(slot, *l);
  mux_.accept(slot);  // OPEN_OK goes out; the early data is readable
}

void TunnelService::report_opened(TunnelSlot slot, Local& local) {
  Local* l = &local;
  l->opened_ms = now_;
  l->opened_event = true;
  EventPayload p;
  p.count = mux_.channel_id(slot);
  // "service\x1foperator": both as kept (their ranges fit the record; a
  // service name or a kept operator holds no control character).
  std::array<char, EventPayload::kTextCapacity> text{};
  const std::string_view svc = service_name(*l);
  size_t n = std::copy_n(svc.data(), svc.size(), text.data()) - text.data();
  if (l->op_length > 0) {
    text[n++] = '\x1f';
    n = std::copy_n(l->op.data(), l->op_length, text.data() + n) - text.data();
  }
  p.set_text({text.data(), n});
  events_.push(EventKind::tunnel_opened, Severity::info, p);
}

void TunnelService::on_received(SocketId id, std::span<const uint8_t> bytes) {
  TunnelSlot slot = 0;
  Local* l = by_socket(id, slot);
  if (l == nullptr) return;
  if (mux_.write(slot, bytes) < bytes.size()) {
    // The socket stopped receiving while a whole read still fitted, so a
    // backend gave more than local_read_bytes: the channel cannot hold it.
    log_.write(LogLevel::warning, "tunnel: the local service sent more than the channel holds", service_name(*l));
    return mux_.reset(slot, TunnelReset::no_memory);
  }
  if (l->receiving && mux_.send_room(slot) < settings_.local_read_bytes) {
    l->receiving = false;
    driver_.set_receiving(id, false);
  }
}

void TunnelService::on_writable(SocketId id) {
  TunnelSlot slot = 0;
  if (by_socket(id, slot) != nullptr) to_local(slot);
}

bool TunnelService::on_peer_finished(SocketId id) {
  TunnelSlot slot = 0;
  Local* l = by_socket(id, slot);
  if (l == nullptr || l->phase != Local::Phase::open) return false;
  // The local service half-closed: FIN after what it sent, while what the
  // server still sends goes on reaching it (the socket stays for sending).
  mux_.finish(slot);
  return true;
}

void TunnelService::on_socket_error(SocketId id, Status status) {
  TunnelSlot slot = 0;
  Local* l = by_socket(id, slot);
  if (l == nullptr) return;
  l->socket = 0;  // the backend released it
  if (l->phase == Local::Phase::connecting) {
    log_.write(LogLevel::warning, "tunnel: the local connect failed", reason_name(status.reason()));
    return mux_.reset(slot, status.reason() == Reason::connect_timeout ? TunnelReset::connect_timeout
                                                                       : TunnelReset::connect_refused);
  }
  if (status.reason() != Reason::connection_closed) return mux_.reset(slot, TunnelReset::local_reset);
  // The local service finished: FIN after what it sent. Its socket is gone,
  // so nothing more can reach it.
  l->phase = Local::Phase::local_closed;
  mux_.finish(slot);
  if (mux_.held(slot) > 0) mux_.reset(slot, TunnelReset::local_reset);
}

// ---- Listing ---------------------------------------------------------------------

std::span<const TunnelListing> TunnelService::list(Millis now) const {
  size_t n = 0;
  for (size_t i = 0; i < limits_.max_channels; ++i) {
    const Local& l = locals_[i];
    const auto slot = static_cast<TunnelSlot>(i);
    if (!l.opened_event || !mux_.live(slot)) continue;
    const TunnelChannelInfo info = mux_.info(slot);
    TunnelListing& t = listing_[n++];
    t.channel = info.channel;
    t.service = service_name(l);
    t.op = {l.op.data(), l.op_length};
    if (std::optional<Millis> utc = time_.now(now)) t.opened = *utc - (now - l.opened_ms);
    t.bytes_in = info.bytes_in;
    t.bytes_out = info.bytes_out;
  }
  return {listing_.get(), n};
}

}  // namespace sublink
