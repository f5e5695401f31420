// The reference server's TCP plumbing that the device ports and the
// operator's forwards share: a non-blocking listening socket on an IP
// literal, and an address as the log shows it.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>

#include "hal/status.h"

namespace sublink {

/// A non-blocking listening socket on `address` (an IPv4 or IPv6 literal)
/// port `port` (0: the kernel chooses) with `backlog`: invalid_argument
/// when `address` is no IP literal, io_error (detail: errno) when it cannot
/// be bound.
Result<int> open_tcp_listener(const std::string& address, uint16_t port, int backlog);

/// The port listening socket `fd` is bound to (0 when unknown).
uint16_t bound_port(int fd);

/// "127.0.0.1:5000" or "[::1]:5000".
std::string socket_address_text(const sockaddr_storage& address);

}  // namespace sublink
