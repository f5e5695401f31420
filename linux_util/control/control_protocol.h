// The local control socket between sublinkd and sublinkctl (PROTOCOL.md
// section 7: the agent's state, reachable on the appliance itself; nothing
// is opened to the network). A UNIX stream socket in state_dir, mode 0600
// inside a 0700 directory, so only the agent's own user (and root) reach it.
//
// One request line, answered by one JSON line:
//   status              the section 7 status object
//   feature NAME        {"name", "enabled", "qty", "state"}
//   usage NAME COUNT    the application has COUNT of NAME in use now:
//                       {"ok": true} or {"ok": false, "error": "..."}
//   watch               the status object now and after every state change,
//                       one line each, until the client hangs up
// Anything else answers {"ok": false, "error": "..."} naming the problem.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sublink {

/// File name of the socket inside state_dir.
inline constexpr std::string_view kControlSocketName = "sublinkd.sock";
/// Longest request line; a longer one is refused, not truncated.
inline constexpr size_t kMaxControlRequest = 256;
/// Longest answer line (a status with every feature fits several times).
inline constexpr size_t kMaxControlAnswer = 8192;

/// `state_dir` + "/" + kControlSocketName.
std::string control_socket_path(std::string_view state_dir);

}  // namespace sublink
