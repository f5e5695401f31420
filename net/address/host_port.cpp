#include "net/address/host_port.h"

namespace sublink {

namespace {

Status host_port_error(HostPortError e) { return Status(Reason::invalid_argument, static_cast<int32_t>(e)); }

bool is_host_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_';
}

bool is_ipv6_literal_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.';
}

}  // namespace

Result<HostPort> parse_host_port(std::string_view text, uint16_t default_port) {
  if (text.find_first_of("@/?#") != std::string_view::npos) return host_port_error(HostPortError::url_part);
  HostPort out;
  std::string_view after_host;
  if (!text.empty() && text[0] == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) return host_port_error(HostPortError::host);
    out.host = text.substr(1, close - 1);
    if (out.host.find(':') == std::string_view::npos) return host_port_error(HostPortError::host);
    for (char c : out.host) {
      if (!is_ipv6_literal_char(c)) return host_port_error(HostPortError::host);
    }
    after_host = text.substr(close + 1);
  } else {
    const size_t colon = text.find(':');
    // Two colons: an IPv6 literal without its brackets.
    if (colon != std::string_view::npos && text.rfind(':') != colon) return host_port_error(HostPortError::host);
    out.host = text.substr(0, colon);
    after_host = colon == std::string_view::npos ? std::string_view() : text.substr(colon);
    for (char c : out.host) {
      if (!is_host_name_char(c)) return host_port_error(HostPortError::host);
    }
  }
  if (out.host.empty()) return host_port_error(HostPortError::host);

  if (after_host.empty()) {
    if (default_port == 0) return host_port_error(HostPortError::port_missing);
    out.port = default_port;
    return out;
  }
  // "[::1]x" is a bad host.
  if (after_host[0] != ':') return host_port_error(HostPortError::host);
  const std::string_view port = after_host.substr(1);
  if (port.empty()) return host_port_error(HostPortError::port_missing);
  uint32_t value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return host_port_error(HostPortError::port_invalid);
    value = value * 10 + static_cast<uint32_t>(c - '0');
    if (value > 65535) return host_port_error(HostPortError::port_range);
  }
  if (value == 0) return host_port_error(HostPortError::port_range);
  out.port = static_cast<uint16_t>(value);
  return out;
}

}  // namespace sublink
