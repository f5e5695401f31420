// Which DNS servers this host's queries go out to: the "nameserver" lines of
// /etc/resolv.conf, looking through a local stub resolver (systemd-resolved
// lists 127.0.0.53 there and its real upstream servers elsewhere).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sublink {

/// The addresses of the "nameserver" lines of a resolv.conf text, in order.
std::vector<std::string> parse_nameservers(std::string_view text);

/// True for 127.0.0.0/8 and ::1 (a scope suffix "%eth0" is ignored).
bool is_loopback_address(std::string_view address);

struct Resolvers {
  /// Off-host DNS servers queries leave the host for; empty when unknown.
  std::vector<std::string> servers;
  /// The file they were read from.
  std::string source;
  /// resolv.conf names only a local stub resolver.
  bool local_stub = false;
};

/// The off-host resolvers: those of `resolv_conf_path` that are not
/// loopback; when all are loopback, those of `stub_upstream_path` (where
/// systemd-resolved lists its upstream servers).
Resolvers outbound_resolvers(const std::string& resolv_conf_path,
                             const std::string& stub_upstream_path = "/run/systemd/resolve/resolv.conf");

}  // namespace sublink
