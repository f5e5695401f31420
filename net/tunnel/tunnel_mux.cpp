#include "net/tunnel/tunnel_mux.h"

#include <algorithm>

namespace sublink {

namespace {

using State = TunnelChannel::State;

size_t receive_queue_bytes(const TunnelMuxLimits& limits) {
  // The credit rules keep what a channel holds within its window, except
  // that early data (up to 4096) may come before a smaller window is known.
  return std::max<size_t>(limits.window, kTunnelMaxEarlyData);
}

bool valid_credit(uint32_t credit) { return credit >= 1 && credit <= kTunnelMaxCredit; }

// Frames the table writes are within the codec's limits and `out` holds
// kTunnelMaxControlFrame, so writing does not fail.
size_t written(Result<size_t> n) { return n.ok() ? *n : 0; }

}  // namespace

Status check_tunnel_limits(const TunnelMuxLimits& limits) {
  if (limits.max_channels < 1 || limits.max_channels > 1024) return Status(Reason::invalid_argument, 1);
  if (!valid_credit(limits.window)) return Status(Reason::invalid_argument, 2);
  if (limits.send_queue < 1 || limits.send_queue > (1u << 24)) return Status(Reason::invalid_argument, 3);
  if (limits.idle_ms < 0) return Status(Reason::invalid_argument, 4);
  return Status::Ok();
}

const char* TunnelClosed::reason_name() const {
  switch (end) {
    case End::fin: return "fin";
    case End::link_lost: return "link_lost";
    case End::reset_sent:
    case End::reset_received: break;
  }
  return tunnel_reset_name(reason);
}

size_t TunnelMux::buffer_bytes(const TunnelMuxLimits& limits) {
  return size_t{limits.max_channels} * (receive_queue_bytes(limits) + limits.send_queue);
}

size_t TunnelMux::memory_bound(const TunnelMuxLimits& limits) {
  return sizeof(TunnelMux) + size_t{limits.max_channels} * sizeof(TunnelChannel) + buffer_bytes(limits);
}

TunnelMux::TunnelMux(const TunnelMuxLimits& limits, std::span<TunnelChannel> slots, std::span<uint8_t> buffer,
                     TunnelMuxListener& listener)
    : limits_(limits), listener_(listener) {
  if (!check_tunnel_limits(limits).ok() || slots.size() < limits.max_channels ||
      buffer.size() < buffer_bytes(limits)) {
    return;  // no channels: every OPEN is answered too_many_channels
  }
  slots_ = slots.first(limits.max_channels);
  const size_t in_bytes = receive_queue_bytes(limits);
  for (TunnelChannel& c : slots_) {
    c = TunnelChannel{};
    c.in = ByteRing(buffer.first(in_bytes));
    c.out = ByteRing(buffer.subspan(in_bytes, limits.send_queue));
    buffer = buffer.subspan(in_bytes + limits.send_queue);
  }
}

void TunnelMux::tick(Millis now) {
  now_ = now;
  if (limits_.idle_ms == 0) return;
  for (TunnelChannel& c : slots_) {
    if ((live(slot_of(c)) || c.state == State::draining) && now - c.active_ms >= limits_.idle_ms) {
      reset(slot_of(c), TunnelReset::idle_timeout);
    }
  }
}

// --- input ------------------------------------------------------------------

TunnelChannel* TunnelMux::find(uint16_t id) {
  for (TunnelChannel& c : slots_) {
    if (c.id == id && c.state != State::free && c.state != State::draining) return &c;
  }
  return nullptr;
}

TunnelChannel* TunnelMux::take_slot(uint16_t id) {
  for (TunnelChannel& c : slots_) {
    if (c.state != State::free) continue;
    c.in.clear();
    c.out.clear();
    c.id = id;
    c.send_open = c.send_open_ok = c.fin_wanted = c.fin_sent = c.peer_fin = false;
    c.rst_reason = 0;
    c.open_bytes = 0;
    c.window_due = 0;
    c.credit = TunnelCredit(limits_.window);
    c.opened_ms = c.active_ms = now_;
    for (uint16_t& r : recent_) {
      if (r == id) r = 0;  // the peer reuses the id: its frames count again
    }
    return &c;
  }
  return nullptr;
}

Status TunnelMux::receive(std::span<const uint8_t> message) {
  Result<TunnelFrame> parsed = parse_tunnel_frame(message);
  if (!parsed.ok()) return parsed.status();
  const TunnelFrame& f = *parsed;
  TunnelChannel* c = find(f.channel);
  if (f.type == TunnelFrameType::open) {
    if (c != nullptr) {
      fail(*c, TunnelReset::protocol);  // OPEN of an id in use: that channel is broken
      return Status::Ok();
    }
    c = take_slot(f.channel);
    if (c == nullptr) {
      answer_unknown(f.channel, TunnelReset::too_many_channels);
      return Status::Ok();
    }
    c->state = State::accepting;
    c->credit.accept_early_data();
    if (!valid_credit(f.credit)) {
      fail(*c, TunnelReset::flow_control);
      return Status::Ok();
    }
    c->credit.on_peer_window(f.credit);
    listener_.on_tunnel_open(slot_of(*c), f);
    return Status::Ok();
  }
  if (c == nullptr) {
    // Never answer an RST with an RST; frames still in flight for a channel
    // this side reset are expected, not a fault.
    if (f.type != TunnelFrameType::rst && !recently_reset(f.channel)) {
      answer_unknown(f.channel, TunnelReset::protocol);
    }
    return Status::Ok();
  }
  on_frame_for_channel(*c, f);
  return Status::Ok();
}

void TunnelMux::on_frame_for_channel(TunnelChannel& c, const TunnelFrame& f) {
  if (c.state == State::resetting) {
    // This side's RST has not gone out yet. The peer's RST ends the id on
    // both sides, so ours would only hit a channel that reuses the id.
    if (f.type == TunnelFrameType::rst) release(c);
    return;
  }
  switch (f.type) {
    case TunnelFrameType::open_ok:
      if (c.state != State::opening || c.send_open) return fail(c, TunnelReset::protocol);
      if (!valid_credit(f.credit)) return fail(c, TunnelReset::flow_control);
      c.credit.on_peer_window(f.credit);
      c.state = State::open;
      listener_.on_tunnel_accepted(slot_of(c));
      return;
    case TunnelFrameType::data:
      return on_data(c, f);
    case TunnelFrameType::window:
      if (c.state == State::opening) return fail(c, TunnelReset::protocol);  // before OPEN_OK
      if (!c.credit.on_window(f.credit).ok()) return fail(c, TunnelReset::flow_control);
      return;
    case TunnelFrameType::fin:
      if (c.state == State::opening || c.peer_fin) return fail(c, TunnelReset::protocol);
      c.peer_fin = true;
      c.active_ms = now_;
      if (c.state == State::open) listener_.on_tunnel_readable(slot_of(c));
      return maybe_finished(c);
    case TunnelFrameType::rst:
      close(c, TunnelClosed::End::reset_received, f.reason);
      return release(c);
    case TunnelFrameType::open:
      return;  // handled by receive()
  }
}

void TunnelMux::on_data(TunnelChannel& c, const TunnelFrame& f) {
  // The acceptor sends nothing before OPEN_OK, and nothing after its FIN.
  if (c.state == State::opening || c.peer_fin) return fail(c, TunnelReset::protocol);
  if (!c.credit.on_received(f.payload.size()).ok()) return fail(c, TunnelReset::flow_control);
  if (c.in.push(f.payload) != f.payload.size()) return fail(c, TunnelReset::no_memory);
  c.active_ms = now_;
  if (c.state == State::open) listener_.on_tunnel_readable(slot_of(c));
}

void TunnelMux::fail(TunnelChannel& c, TunnelReset reason) { reset(slot_of(c), reason); }

void TunnelMux::answer_unknown(uint16_t id, TunnelReset reason) {
  if (orphan_count_ == kOrphanResets) {
    ++orphans_dropped_;  // a peer flooding unknown ids gets some answers, not unbounded memory
    return;
  }
  orphans_[orphan_count_++] = {id, static_cast<uint8_t>(reason)};
}

void TunnelMux::remember_reset(uint16_t id) {
  recent_[recent_next_] = id;
  recent_next_ = (recent_next_ + 1) % kRecentResets;
}

bool TunnelMux::recently_reset(uint16_t id) const {
  return std::find(std::begin(recent_), std::end(recent_), id) != std::end(recent_);
}

// --- endings ----------------------------------------------------------------

void TunnelMux::close(TunnelChannel& c, TunnelClosed::End end, uint8_t reason) {
  TunnelClosed closed;
  closed.channel = c.id;
  closed.end = end;
  closed.reason = reason;
  closed.bytes_in = c.credit.bytes_received();
  closed.bytes_out = c.credit.bytes_sent();
  closed.opened_ms = c.opened_ms;
  listener_.on_tunnel_closed(slot_of(c), closed);
}

void TunnelMux::release(TunnelChannel& c) {
  c.state = State::free;
  c.send_open = c.send_open_ok = c.fin_wanted = false;
  c.window_due = 0;
  c.in.clear();
  c.out.clear();
}

void TunnelMux::maybe_finished(TunnelChannel& c) {
  if (c.state != State::open || !c.fin_sent || !c.peer_fin) return;
  // FIN both ways: the id is free. Bytes still held go out locally first.
  if (!c.in.empty()) {
    c.state = State::draining;
    return;
  }
  close(c, TunnelClosed::End::fin, 0);
  release(c);
}

void TunnelMux::reset(TunnelSlot slot, TunnelReset reason) {
  if (slot >= slots_.size()) return;
  TunnelChannel& c = slots_[slot];
  if (c.state == State::free || c.state == State::resetting) return;
  const bool on_wire = c.state != State::draining && !c.send_open;  // the peer knows the id
  c.in.clear();
  c.out.clear();
  c.send_open = c.send_open_ok = c.fin_wanted = false;
  c.window_due = 0;
  c.rst_reason = static_cast<uint8_t>(reason);
  c.state = on_wire ? State::resetting : State::free;
  if (on_wire) remember_reset(c.id);
  // The owner learns now; the slot stays taken until the RST has gone out.
  close(c, TunnelClosed::End::reset_sent, static_cast<uint8_t>(reason));
}

void TunnelMux::reset_all(TunnelReset reason) {
  for (TunnelChannel& c : slots_) reset(slot_of(c), reason);
}

void TunnelMux::on_link_down() {
  for (TunnelChannel& c : slots_) {
    const State was = c.state;
    release(c);
    if (was != State::free && was != State::resetting) close(c, TunnelClosed::End::link_lost, 0);
  }
  orphan_count_ = 0;
  std::fill(std::begin(recent_), std::end(recent_), uint16_t{0});
}

// --- channels ---------------------------------------------------------------

Result<TunnelSlot> TunnelMux::open(uint16_t id, std::string_view service, std::string_view op) {
  if (id < kTunnelMinChannel) return Reason::invalid_argument;
  if (find(id) != nullptr) return Reason::protocol_violation;
  TunnelChannel* c = take_slot(id);
  if (c == nullptr) return Reason::out_of_memory;
  // The receive queue is empty until OPEN_OK (the acceptor sends no DATA
  // before it), so the encoded OPEN waits there.
  Result<size_t> n = write_tunnel_frame(TunnelFrame::open(id, limits_.window, service, op), c->in.storage());
  if (!n.ok()) {
    c->state = State::free;
    return Reason::invalid_argument;
  }
  c->state = State::opening;
  c->send_open = true;
  c->open_bytes = static_cast<uint16_t>(*n);
  c->credit.allow_early_data();
  return slot_of(*c);
}

void TunnelMux::accept(TunnelSlot slot) {
  if (slot >= slots_.size() || slots_[slot].state != State::accepting) return;
  TunnelChannel& c = slots_[slot];
  c.state = State::open;
  c.send_open_ok = true;
  c.active_ms = now_;
  if (!c.in.empty() || c.peer_fin) listener_.on_tunnel_readable(slot);
}

std::span<const uint8_t> TunnelMux::readable(TunnelSlot slot) const {
  if (slot >= slots_.size()) return {};
  const TunnelChannel& c = slots_[slot];
  if (c.state != State::open && c.state != State::draining) return {};  // early data waits for accept()
  return c.in.front();
}

size_t TunnelMux::held(TunnelSlot slot) const { return slot < slots_.size() ? slots_[slot].in.size() : 0; }

void TunnelMux::consume(TunnelSlot slot, size_t n) {
  if (slot >= slots_.size()) return;
  TunnelChannel& c = slots_[slot];
  if (c.state != State::open && c.state != State::draining) return;
  n = std::min(n, c.in.size());
  c.in.pop(n);
  if (n > 0) c.active_ms = now_;
  const uint32_t more = c.credit.on_passed_on(n);
  if (c.state == State::draining) {
    if (c.in.empty()) {
      close(c, TunnelClosed::End::fin, 0);
      release(c);
    }
    return;
  }
  // After the peer's FIN no more DATA comes: credit would be wasted.
  if (!c.peer_fin) c.window_due = static_cast<uint32_t>(std::min<uint64_t>(uint64_t{c.window_due} + more, kTunnelMaxCredit));
}

bool TunnelMux::peer_finished(TunnelSlot slot) const {
  if (slot >= slots_.size()) return false;
  const TunnelChannel& c = slots_[slot];
  return (c.state == State::open || c.state == State::draining) && c.peer_fin && c.in.empty();
}

size_t TunnelMux::send_room(TunnelSlot slot) const {
  if (!live(slot) || slots_[slot].fin_wanted) return 0;
  return slots_[slot].out.free();
}

size_t TunnelMux::write(TunnelSlot slot, std::span<const uint8_t> bytes) {
  if (send_room(slot) == 0) return 0;
  return slots_[slot].out.push(bytes);
}

size_t TunnelMux::queued(TunnelSlot slot) const { return slot < slots_.size() ? slots_[slot].out.size() : 0; }

void TunnelMux::finish(TunnelSlot slot) {
  if (live(slot)) slots_[slot].fin_wanted = true;
}

bool TunnelMux::live(TunnelSlot slot) const {
  if (slot >= slots_.size()) return false;
  const State s = slots_[slot].state;
  return s == State::opening || s == State::accepting || s == State::open;
}

TunnelChannelInfo TunnelMux::info(TunnelSlot slot) const {
  TunnelChannelInfo i;
  if (slot >= slots_.size()) return i;
  const TunnelChannel& c = slots_[slot];
  i.channel = c.id;
  i.opened_ms = c.opened_ms;
  i.bytes_in = c.credit.bytes_received();
  i.bytes_out = c.credit.bytes_sent();
  return i;
}

size_t TunnelMux::live_count() const {
  size_t n = 0;
  for (size_t i = 0; i < slots_.size(); ++i) n += live(static_cast<TunnelSlot>(i)) ? 1 : 0;
  return n;
}

// --- output -----------------------------------------------------------------

bool TunnelMux::control_due() const {
  if (orphan_count_ > 0) return true;
  for (const TunnelChannel& c : slots_) {
    if (c.state == State::resetting || c.send_open || c.send_open_ok || c.window_due > 0) return true;
  }
  return false;
}

size_t TunnelMux::next_frame(std::span<uint8_t> out) {
  if (out.size() < kTunnelMaxControlFrame) return 0;
  if (size_t n = next_control(out)) return n;
  return next_data(out);
}

size_t TunnelMux::next_control(std::span<uint8_t> out) {
  if (orphan_count_ > 0) {
    const Orphan o = orphans_[0];
    std::copy(orphans_ + 1, orphans_ + orphan_count_, orphans_);
    --orphan_count_;
    return written(write_tunnel_frame(TunnelFrame::rst(o.id, static_cast<TunnelReset>(o.reason)), out));
  }
  for (TunnelChannel& c : slots_) {
    if (c.state == State::resetting) {
      const size_t n = written(write_tunnel_frame(TunnelFrame::rst(c.id, static_cast<TunnelReset>(c.rst_reason)), out));
      release(c);  // the id is free once the RST is out
      return n;
    }
    if (c.send_open) {
      c.send_open = false;
      std::copy_n(c.in.storage().data(), c.open_bytes, out.data());
      return c.open_bytes;
    }
    if (c.send_open_ok) {
      c.send_open_ok = false;
      c.credit.end_early_data();
      // Early data passed on before OPEN_OK earned no credit yet.
      c.window_due = c.credit.on_passed_on(0);
      return written(write_tunnel_frame(TunnelFrame::open_ok(c.id, limits_.window), out));
    }
    if (c.window_due > 0 && c.state == State::open) {
      const uint32_t inc = c.window_due;
      c.window_due = 0;
      return written(write_tunnel_frame(TunnelFrame::window(c.id, inc), out));
    }
  }
  return 0;
}

size_t TunnelMux::next_data(std::span<uint8_t> out) {
  const size_t count = slots_.size();
  for (size_t k = 0; k < count; ++k) {
    const size_t i = (data_turn_ + k) % count;
    TunnelChannel& c = slots_[i];
    // No OPEN or OPEN_OK is waiting here: next_frame() sends those first,
    // so early data never overtakes its OPEN.
    if ((c.state != State::open && c.state != State::opening) || c.fin_sent) continue;
    const size_t n = std::min({c.out.size(), c.credit.sendable(), kTunnelMaxData, out.size() - kTunnelHeaderBytes});
    if (n > 0) {
      // The DATA header by hand: the payload comes straight out of the
      // send queue, which may wrap.
      out[0] = static_cast<uint8_t>(TunnelFrameType::data);
      out[1] = static_cast<uint8_t>(c.id >> 8);
      out[2] = static_cast<uint8_t>(c.id);
      c.out.pop_into(out.subspan(kTunnelHeaderBytes, n));
      c.credit.on_sent(n);
      c.active_ms = now_;
      data_turn_ = i + 1;
      return kTunnelHeaderBytes + n;
    }
    if (c.fin_wanted && c.out.empty() && c.state == State::open) {
      const size_t len = written(write_tunnel_frame(TunnelFrame::fin(c.id), out));
      c.fin_sent = true;
      data_turn_ = i + 1;
      maybe_finished(c);
      return len;
    }
  }
  return 0;
}

}  // namespace sublink
