// hello's `services` (PROTOCOL.md section 4): the tunnel service names the
// device allows, read on the server so that a forward to a name the device
// does not offer is refused at once, before any channel is opened. The
// device remains the judge (it answers an OPEN for any other name with RST
// unknown_service); this only spares the operator a round trip.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sublink {

/// At most this many names are read; a longer list is not trusted.
inline constexpr size_t kMaxHelloServices = 256;

/// The names in hello `text`'s `services`: each a string of 1..255 bytes
/// (a tunnel OPEN's service name), at most kMaxHelloServices of them.
/// nullopt when the field is absent (a device before tunnels) or breaks
/// those ranges: then the server does not judge names, the device does.
std::optional<std::vector<std::string>> read_hello_services(std::string_view text);

}  // namespace sublink
