// `sublinkctl firewall-rules`: the outbound rules a configuration needs, as
// a vendor's network-requirements page lists them (DNS to the resolvers,
// NTP, the server ports, or only the proxy when one is set), as an aligned
// table or JSON. Only outbound: management traffic comes back through the
// link, so nothing needs to be opened inbound.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "boards/host/doctor/resolv_conf.h"
#include "firmware/config/device_config.h"

namespace sublink {

struct FirewallRule {
  std::string where = "firewall";  // "firewall", or "proxy" for a rule on the proxy
  std::string protocol;            // "UDP+TCP", "UDP", "TCP", "CONNECT"
  std::string destination;         // a name or an address
  std::vector<std::string> addresses;  // what the name resolves to now (empty: unknown or a literal)
  std::vector<uint16_t> ports;
  std::string purpose;
};

/// Resolves a name to its addresses now (empty when it does not resolve).
using AddressLookup = std::function<std::vector<std::string>(const std::string& name)>;

/// The rules for `config`, with `resolvers` as the DNS servers and `lookup`
/// for the addresses of names. Pure apart from `lookup`.
std::vector<FirewallRule> firewall_rules(const DeviceConfig& config, const Resolvers& resolvers,
                                         const AddressLookup& lookup);

/// The rules as an aligned table with notes under it.
std::string firewall_table(const DeviceConfig& config, const std::vector<FirewallRule>& rules);

/// The rules as one JSON object {"system_id", "server", "proxy", "rules": [...]}.
std::string firewall_json(const DeviceConfig& config, const std::vector<FirewallRule>& rules);

}  // namespace sublink
