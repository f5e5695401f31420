#include "net/tunnel/tunnel_frame.h"

#include <cstring>

#include "net/websocket/utf8_validator.h"

namespace sublink {
namespace {

uint32_t read_u32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

void write_u32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

std::string_view view(std::span<const uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// A malformed frame: the offset of the byte at fault travels in `detail`.
Status malformed(size_t at) { return Status(Reason::protocol_violation, static_cast<int32_t>(at)); }

bool credit_in_range(uint32_t credit) { return credit >= 1 && credit <= kTunnelMaxCredit; }

}  // namespace

const char* tunnel_reset_name(uint8_t reason) {
  switch (static_cast<TunnelReset>(reason)) {
    case TunnelReset::unknown_service: return "unknown_service";
    case TunnelReset::not_allowed: return "not_allowed";
    case TunnelReset::connect_refused: return "connect_refused";
    case TunnelReset::connect_timeout: return "connect_timeout";
    case TunnelReset::too_many_channels: return "too_many_channels";
    case TunnelReset::no_memory: return "no_memory";
    case TunnelReset::flow_control: return "flow_control";
    case TunnelReset::protocol: return "protocol";
    case TunnelReset::idle_timeout: return "idle_timeout";
    case TunnelReset::local_reset: return "local_reset";
    case TunnelReset::shutdown: return "shutdown";
  }
  return "unknown";
}

TunnelFrame TunnelFrame::data(uint16_t channel, std::span<const uint8_t> payload) {
  TunnelFrame f;
  f.type = TunnelFrameType::data;
  f.channel = channel;
  f.payload = payload;
  return f;
}

TunnelFrame TunnelFrame::window(uint16_t channel, uint32_t increment) {
  TunnelFrame f;
  f.type = TunnelFrameType::window;
  f.channel = channel;
  f.credit = increment;
  return f;
}

TunnelFrame TunnelFrame::fin(uint16_t channel) {
  TunnelFrame f;
  f.type = TunnelFrameType::fin;
  f.channel = channel;
  return f;
}

TunnelFrame TunnelFrame::rst(uint16_t channel, TunnelReset reason, std::string_view text) {
  TunnelFrame f;
  f.type = TunnelFrameType::rst;
  f.channel = channel;
  f.reason = static_cast<uint8_t>(reason);
  f.text = text;
  return f;
}

TunnelFrame TunnelFrame::open(uint16_t channel, uint32_t window, std::string_view service, std::string_view op) {
  TunnelFrame f;
  f.type = TunnelFrameType::open;
  f.channel = channel;
  f.credit = window;
  f.service = service;
  f.text = op;
  return f;
}

TunnelFrame TunnelFrame::open_ok(uint16_t channel, uint32_t window) {
  TunnelFrame f;
  f.type = TunnelFrameType::open_ok;
  f.channel = channel;
  f.credit = window;
  return f;
}

Result<TunnelFrame> parse_tunnel_frame(std::span<const uint8_t> m) {
  if (m.size() < kTunnelHeaderBytes) return malformed(m.size());
  TunnelFrame f;
  f.channel = static_cast<uint16_t>((m[1] << 8) | m[2]);
  if (f.channel < kTunnelMinChannel) return malformed(1);
  const std::span<const uint8_t> body = m.subspan(kTunnelHeaderBytes);
  switch (m[0]) {
    case static_cast<uint8_t>(TunnelFrameType::data):
      if (body.empty()) return malformed(kTunnelHeaderBytes);
      if (body.size() > kTunnelMaxData) return malformed(kTunnelHeaderBytes + kTunnelMaxData);
      f.type = TunnelFrameType::data;
      f.payload = body;
      return f;
    case static_cast<uint8_t>(TunnelFrameType::window):
    case static_cast<uint8_t>(TunnelFrameType::open_ok):
      if (body.size() != 4) return malformed(kTunnelHeaderBytes + (body.size() < 4 ? body.size() : 4));
      f.type = static_cast<TunnelFrameType>(m[0]);
      f.credit = read_u32(body.data());
      return f;
    case static_cast<uint8_t>(TunnelFrameType::fin):
      if (!body.empty()) return malformed(kTunnelHeaderBytes);
      f.type = TunnelFrameType::fin;
      return f;
    case static_cast<uint8_t>(TunnelFrameType::rst): {
      if (body.empty()) return malformed(kTunnelHeaderBytes);
      const std::span<const uint8_t> text = body.subspan(1);
      if (text.size() > kTunnelMaxResetText) return malformed(kTunnelHeaderBytes + 1 + kTunnelMaxResetText);
      if (!is_valid_utf8(text)) return malformed(kTunnelHeaderBytes + 1);
      f.type = TunnelFrameType::rst;
      f.reason = body[0];
      f.text = view(text);
      return f;
    }
    case static_cast<uint8_t>(TunnelFrameType::open): {
      if (body.size() < 5) return malformed(kTunnelHeaderBytes + body.size());
      const size_t name_length = body[4];
      if (name_length == 0 || body.size() < 5 + name_length) return malformed(kTunnelHeaderBytes + 4);
      const std::span<const uint8_t> name = body.subspan(5, name_length);
      const std::span<const uint8_t> op = body.subspan(5 + name_length);
      if (op.size() > kTunnelMaxName) return malformed(kTunnelHeaderBytes + 5 + name_length + kTunnelMaxName);
      if (!is_valid_utf8(name)) return malformed(kTunnelHeaderBytes + 5);
      if (!is_valid_utf8(op)) return malformed(kTunnelHeaderBytes + 5 + name_length);
      f.type = TunnelFrameType::open;
      f.credit = read_u32(body.data());
      f.service = view(name);
      f.text = view(op);
      return f;
    }
    default:
      return malformed(0);
  }
}

Result<size_t> write_tunnel_frame(const TunnelFrame& f, std::span<uint8_t> out) {
  if (f.channel < kTunnelMinChannel) return Status(Reason::invalid_argument);
  size_t body = 0;
  switch (f.type) {
    case TunnelFrameType::data:
      if (f.payload.empty() || f.payload.size() > kTunnelMaxData) return Status(Reason::invalid_argument);
      body = f.payload.size();
      break;
    case TunnelFrameType::window:
    case TunnelFrameType::open_ok:
      if (!credit_in_range(f.credit)) return Status(Reason::invalid_argument);
      body = 4;
      break;
    case TunnelFrameType::fin:
      break;
    case TunnelFrameType::rst:
      if (f.text.size() > kTunnelMaxResetText || !is_valid_utf8(f.text)) return Status(Reason::invalid_argument);
      body = 1 + f.text.size();
      break;
    case TunnelFrameType::open:
      if (!credit_in_range(f.credit) || f.service.empty() || f.service.size() > kTunnelMaxName ||
          f.text.size() > kTunnelMaxName || !is_valid_utf8(f.service) || !is_valid_utf8(f.text)) {
        return Status(Reason::invalid_argument);
      }
      body = 5 + f.service.size() + f.text.size();
      break;
    default:
      return Status(Reason::invalid_argument);
  }
  if (out.size() < kTunnelHeaderBytes + body) return Status(Reason::out_of_memory);
  uint8_t* p = out.data();
  p[0] = static_cast<uint8_t>(f.type);
  p[1] = static_cast<uint8_t>(f.channel >> 8);
  p[2] = static_cast<uint8_t>(f.channel);
  p += kTunnelHeaderBytes;
  switch (f.type) {
    case TunnelFrameType::data:
      std::memcpy(p, f.payload.data(), f.payload.size());
      break;
    case TunnelFrameType::window:
    case TunnelFrameType::open_ok:
      write_u32(p, f.credit);
      break;
    case TunnelFrameType::fin:
      break;
    case TunnelFrameType::rst:
      p[0] = f.reason;
      if (!f.text.empty()) std::memcpy(p + 1, f.text.data(), f.text.size());
      break;
    case TunnelFrameType::open:
      write_u32(p, f.credit);
      p[4] = static_cast<uint8_t>(f.service.size());
      std::memcpy(p + 5, f.service.data(), f.service.size());
      if (!f.text.empty()) std::memcpy(p + 5 + f.service.size(), f.text.data(), f.text.size());
      break;
  }
  return kTunnelHeaderBytes + body;
}

}  // namespace sublink
