#include "boards/host/doctor/resolv_conf.h"

#include <sstream>

#include "net/address/ip_address.h"
#include "linux_util/files/text_file.h"

namespace sublink {

namespace {

std::vector<std::string> off_host(const std::vector<std::string>& all) {
  std::vector<std::string> out;
  for (const std::string& a : all) {
    if (!is_loopback_address(a)) out.push_back(a);
  }
  return out;
}

}  // namespace

std::vector<std::string> parse_nameservers(std::string_view text) {
  std::vector<std::string> out;
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string keyword, address;
    if (!(words >> keyword) || keyword != "nameserver" || !(words >> address)) continue;
    out.push_back(address);
  }
  return out;
}

bool is_loopback_address(std::string_view address) {
  size_t scope = address.find('%');
  if (scope != std::string_view::npos) address = address.substr(0, scope);
  IpAddress ip = IpAddress::parse(address);
  if (ip.family == 4) return ip.bytes[0] == 127;
  if (ip.family == 6) {
    for (int i = 0; i < 15; ++i) {
      if (ip.bytes[i] != 0) return false;
    }
    return ip.bytes[15] == 1;
  }
  return false;
}

Resolvers outbound_resolvers(const std::string& resolv_conf_path, const std::string& stub_upstream_path) {
  Resolvers r;
  r.source = resolv_conf_path;
  std::string text;
  if (!read_text_file(resolv_conf_path, text).ok()) return r;
  std::vector<std::string> all = parse_nameservers(text);
  r.servers = off_host(all);
  if (r.servers.empty() && !all.empty()) {
    r.local_stub = true;
    std::string upstream;
    if (read_text_file(stub_upstream_path, upstream).ok()) {
      r.servers = off_host(parse_nameservers(upstream));
      r.source = stub_upstream_path;
    }
  }
  return r;
}

}  // namespace sublink
