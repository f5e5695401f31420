// Addresses as doctor and firewall-rules print them.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "net/address/ip_address.h"

namespace sublink {

/// "192.0.2.7" or "2001:db8::7".
std::string ip_text(const IpAddress& address);

/// The address of an AF_INET/AF_INET6 socket address, as ip_text.
std::string sockaddr_text(const sockaddr& address);

/// "host:port", with an IPv6 literal in brackets.
std::string host_port_text(std::string_view host, uint16_t port);

/// "a, b and c"; "" for none.
std::string join_list(const std::vector<std::string>& items);

}  // namespace sublink
