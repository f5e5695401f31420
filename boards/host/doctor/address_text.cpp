#include "boards/host/doctor/address_text.h"

#include <netinet/in.h>

#include <cstring>

namespace sublink {

std::string ip_text(const IpAddress& address) {
  char text[64];
  size_t n = address.format(text);
  return std::string(text, n);
}

std::string sockaddr_text(const sockaddr& address) {
  IpAddress ip;
  if (address.sa_family == AF_INET) {
    ip.family = 4;
    std::memcpy(ip.bytes, &reinterpret_cast<const sockaddr_in&>(address).sin_addr, 4);
  } else if (address.sa_family == AF_INET6) {
    ip.family = 6;
    std::memcpy(ip.bytes, &reinterpret_cast<const sockaddr_in6&>(address).sin6_addr, 16);
  } else {
    return "?";
  }
  return ip_text(ip);
}

std::string host_port_text(std::string_view host, uint16_t port) {
  bool v6 = host.find(':') != std::string_view::npos;
  std::string out = v6 ? "[" + std::string(host) + "]" : std::string(host);
  return out + ":" + std::to_string(port);
}

std::string join_list(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += i + 1 == items.size() ? " and " : ", ";
    out += items[i];
  }
  return out;
}

}  // namespace sublink
