// Check 3 of `sublinkctl doctor`: the names the link needs resolve (the
// server's, or the proxy's when a proxy is set), through the same resolver
// path the agent uses (PosixNetwork::resolve).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "boards/host/doctor/check_line.h"
#include "boards/host/doctor/resolv_conf.h"
#include "hal/status.h"

namespace sublink {

struct NameLookup {
  std::string name;
  bool literal = false;  // an IP address: nothing to resolve
  Status status;         // dns_failed (detail: getaddrinfo code) on failure
  std::vector<std::string> addresses;
};

/// Resolves `host` as the agent does.
NameLookup resolve_name(std::string_view host);

/// The DNS lines. `proxy` is null without a proxy. Pure.
std::vector<CheckLine> judge_dns(const NameLookup& server, const NameLookup* proxy, const Resolvers& resolvers);

}  // namespace sublink
