#include "boards/host/doctor/firewall_rules.h"

#include <cJSON.h>

#include <algorithm>
#include <memory>

#include "boards/host/doctor/address_text.h"
#include "net/address/ip_address.h"

namespace sublink {

namespace {

std::string str(std::string_view v) { return std::string(v); }

bool is_name(std::string_view host) { return IpAddress::parse(host).family == 0; }

std::string ports_text(const std::vector<uint16_t>& ports) {
  std::string out;
  for (uint16_t p : ports) out += (out.empty() ? "" : ", ") + std::to_string(p);
  return out;
}

std::string destination_text(const FirewallRule& r) {
  if (r.addresses.empty()) return r.destination;
  return r.destination + " (" + join_list(r.addresses) + ")";
}

std::string pad(const std::string& s, size_t width) {
  // Columns count characters, not bytes: every text here is ASCII.
  return s.size() >= width ? s : s + std::string(width - s.size(), ' ');
}

}  // namespace

std::vector<FirewallRule> firewall_rules(const DeviceConfig& config, const Resolvers& resolvers,
                                         const AddressLookup& lookup) {
  std::vector<FirewallRule> rules;
  const std::string server = str(config.server.view());
  std::vector<uint16_t> ports(config.port_list().begin(), config.port_list().end());

  // DNS, when any name must be resolved on the device.
  std::vector<std::string> names;
  if (config.has_proxy) {
    if (is_name(config.proxy.host())) names.push_back(str(config.proxy.host()));
  } else if (is_name(server)) {
    names.push_back(server);
  }
  for (const NtpServer& n : config.ntp_list()) {
    std::string host = str(n.host.view());
    if (is_name(host) && std::find(names.begin(), names.end(), host) == names.end()) names.push_back(host);
  }
  if (!names.empty()) {
    std::string purpose = "DNS: resolve " + join_list(names);
    if (resolvers.servers.empty()) {
      rules.push_back({"firewall", "UDP+TCP", "the site's DNS servers", {}, {53}, purpose});
    }
    for (const std::string& r : resolvers.servers) rules.push_back({"firewall", "UDP+TCP", r, {}, {53}, purpose});
  }

  // NTP.
  for (const NtpServer& n : config.ntp_list()) {
    std::string host = str(n.host.view());
    rules.push_back({"firewall", "UDP", host, is_name(host) ? lookup(host) : std::vector<std::string>{}, {n.port},
                     "NTP: set the clock"});
  }

  // The link: straight to the server, or only to the proxy.
  if (config.has_proxy) {
    std::string proxy = str(config.proxy.host());
    rules.push_back({"firewall", "TCP", proxy, is_name(proxy) ? lookup(proxy) : std::vector<std::string>{},
                     {config.proxy.port()}, "subscription link through the HTTP proxy"});
    rules.push_back({"proxy", "CONNECT", server, {}, ports, "subscription link: allow CONNECT to these ports"});
  } else {
    rules.push_back({"firewall", "TCP", server, is_name(server) ? lookup(server) : std::vector<std::string>{}, ports,
                     "subscription link (TLS 1.2, WebSocket)"});
  }
  return rules;
}

std::string firewall_table(const DeviceConfig& config, const std::vector<FirewallRule>& rules) {
  const char* headers[] = {"RULE ON", "PROTOCOL", "DESTINATION", "PORTS", "PURPOSE"};
  std::vector<std::vector<std::string>> rows;
  for (const FirewallRule& r : rules) {
    rows.push_back({r.where, r.protocol, destination_text(r), ports_text(r.ports), r.purpose});
  }
  size_t width[5];
  for (size_t c = 0; c < 5; ++c) {
    width[c] = std::string(headers[c]).size();
    for (const auto& row : rows) width[c] = std::max(width[c], row[c].size());
  }
  std::string out = "Outbound connections of system " + str(config.system_id.view()) + " (server " +
                    str(config.server.view()) + ")\n\n";
  auto line = [&](const std::vector<std::string>& cells) {
    std::string l;
    for (size_t c = 0; c < 5; ++c) l += c + 1 < 5 ? pad(cells[c], width[c] + 2) : cells[c];
    out += l + "\n";
  };
  line({headers[0], headers[1], headers[2], headers[3], headers[4]});
  for (const auto& row : rows) line(row);
  out += "\nNo inbound rule is needed: management traffic comes back through the link.\n";
  out += "Addresses in parentheses are what the names resolve to now; prefer rules by\n"
         "name where the firewall supports them, as the addresses may change.\n";
  if (config.has_proxy) {
    out += "The proxy resolves the server's name and must allow CONNECT to its ports;\n"
           "TLS inspection must not apply to them (the device authenticates with its\n"
           "own certificate).\n";
  } else {
    out += "TLS inspection must not apply to the server's ports (the device\n"
           "authenticates with its own certificate).\n";
  }
  return out;
}

std::string firewall_json(const DeviceConfig& config, const std::vector<FirewallRule>& rules) {
  std::unique_ptr<cJSON, void (*)(cJSON*)> root(cJSON_CreateObject(), cJSON_Delete);
  cJSON_AddStringToObject(root.get(), "system_id", str(config.system_id.view()).c_str());
  cJSON_AddStringToObject(root.get(), "server", str(config.server.view()).c_str());
  if (config.has_proxy) {
    cJSON_AddStringToObject(root.get(), "proxy", host_port_text(config.proxy.host(), config.proxy.port()).c_str());
  } else {
    cJSON_AddNullToObject(root.get(), "proxy");
  }
  cJSON* list = cJSON_AddArrayToObject(root.get(), "rules");
  for (const FirewallRule& r : rules) {
    cJSON* o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "rule_on", r.where.c_str());
    cJSON_AddStringToObject(o, "direction", "outbound");
    cJSON_AddStringToObject(o, "protocol", r.protocol.c_str());
    cJSON_AddStringToObject(o, "destination", r.destination.c_str());
    cJSON* addresses = cJSON_AddArrayToObject(o, "addresses");
    for (const std::string& a : r.addresses) cJSON_AddItemToArray(addresses, cJSON_CreateString(a.c_str()));
    cJSON* ports = cJSON_AddArrayToObject(o, "ports");
    for (uint16_t p : r.ports) cJSON_AddItemToArray(ports, cJSON_CreateNumber(p));
    cJSON_AddStringToObject(o, "purpose", r.purpose.c_str());
    cJSON_AddItemToArray(list, o);
  }
  char* text = cJSON_PrintUnformatted(root.get());
  std::string out = text ? text : "";
  cJSON_free(text);
  return out;
}

}  // namespace sublink
