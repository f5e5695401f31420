// The rules every local control socket follows (sublinkd's for sublinkctl,
// sublink-server's for its operator): a UNIX stream socket created 0600, a
// stale socket left by a crash replaced but never any other file, a second
// instance refused, and only the owner's user (or root) served.
#pragma once

#include <string>
#include <string_view>

#include "hal/status.h"

namespace sublink {

/// Binds and listens on `path` (non-blocking, close-on-exec, mode 0600 from
/// the start). `program` names the owner in messages ("another sublinkd is
/// running on PATH"). The listening socket, or a failure (invalid_argument:
/// path too long, not a socket, or another instance answers; io_error with
/// errno) with `error` naming the problem in one line.
Result<int> listen_control_socket(const std::string& path, std::string_view program, std::string& error);

/// True when the peer connected on `fd` runs as this process's effective
/// user or as root. The socket's mode already limits who connects; checking
/// the peer as well keeps a socket moved or re-permissioned by mistake from
/// opening the program to other users.
bool control_peer_allowed(int fd);

}  // namespace sublink
