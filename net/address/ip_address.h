// IP addresses as the resolver returns them and as configurations write
// them. Parsed here (newlib has no inet_pton) so every target, the boards
// included, reads literals the same way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace sublink {

/// An IPv4 or IPv6 address, as the resolver returned it.
struct IpAddress {
  uint8_t family = 0;  // 4 or 6; 0 = none
  uint8_t bytes[16] = {};
  bool operator==(const IpAddress&) const = default;
  /// The address bytes: 4 for IPv4, 16 for IPv6, none when family is 0.
  std::span<const uint8_t> view() const { return {bytes, family == 4 ? 4u : family == 6 ? 16u : 0u}; }

  /// Parses a dotted IPv4 or an IPv6 literal, bracketed or not ("[::1]");
  /// family 0 for anything else (a host name, octets with leading zeros).
  static IpAddress parse(std::string_view text);
  /// Writes the textual form into `out` (NUL-terminated); returns its length.
  size_t format(std::span<char> out) const;
};

}  // namespace sublink
