// "host:port" as the agent's settings write an endpoint: `ntp` entries and
// `services` (PROTOCOL.md section 1), and the authority of the `proxy` URL
// (section 1.6). One grammar for all of them: a host name or an IPv4
// literal, or an IPv6 literal in brackets, then ':' and a port in 1..65535.
#pragma once

#include <cstdint>
#include <string_view>

#include "hal/status.h"

namespace sublink {

/// Which part of a host:port is wrong: the `detail` of the invalid_argument
/// Status that parse_host_port returns.
/// The numbers are those of the same parts in ProxyUrlError, so the proxy
/// URL passes them on as they are.
enum class HostPortError : int32_t {
  host = 3,      // empty, bad characters, unbracketed IPv6, or text after "]"
  port_missing,  // no ":port" after the host and no default port
  port_invalid,  // not a decimal number
  port_range,    // outside 1..65535
  url_part = 8,  // a '@', '/', '?' or '#': a user or path of a URL, not an endpoint
};

/// A parsed endpoint. `host` is a view into the parsed text, without the
/// brackets of an IPv6 literal ("::1").
struct HostPort {
  std::string_view host;
  uint16_t port = 0;
};

/// Parses "host:port" or "[v6]:port". With `default_port` other than 0,
/// "host" and "[v6]" alone mean that port; with 0 the port is required.
/// The host's length is the caller's to bound. Failure:
/// Reason::invalid_argument with a HostPortError as detail.
Result<HostPort> parse_host_port(std::string_view text, uint16_t default_port = 0);

}  // namespace sublink
