// Telling an IP literal from a host name: PROTOCOL.md section 2 sends no SNI
// for an IP literal and checks it against the certificate's iPAddress SANs
// instead of its DNS names. Newlib has no inet_pton, so this parses itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace sublink {

/// An IPv4 (4 bytes) or IPv6 (16 bytes) address in network byte order.
struct IpAddress {
  uint8_t bytes[16] = {};
  uint8_t size = 0;
  std::span<const uint8_t> view() const { return {bytes, size}; }
};

/// Parses "192.0.2.1", "2001:db8::1", "::ffff:192.0.2.1" or a bracketed
/// "[2001:db8::1]". Anything else (a host name, octets with leading zeros,
/// a zone id) is not an IP literal: nullopt.
std::optional<IpAddress> parse_ip_literal(std::string_view text);

}  // namespace sublink
