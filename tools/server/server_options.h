// sublink-server's command line when it serves devices.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "server_core/identity_registry.h"

namespace sublink {

struct ServeOptions {
  std::string db;
  std::string ca;           // device CA: device certificates must chain to it
  std::string cert;         // server certificate chain
  std::string key;          // server private key
  std::string license_key;  // ES256 private key that signs licenses
  std::string kid = "sublink-1";
  std::string bind = "0.0.0.0";
  std::string control;  // the operator's control socket; empty: next to the database
  std::vector<uint16_t> ports;  // empty: 443 and 8443
  int64_t heartbeat_s = 60;
  int64_t audit_s = 86400;
  size_t max_connections = 16384;
  /// What a duplicate_identity alarm does: flag (record it) or refuse both.
  DuplicateIdentityPolicy duplicate_identity = DuplicateIdentityPolicy::flag;
  /// retry_after_s of `disconnect` {reason: replaced}.
  int64_t replaced_retry_s = 60;
  bool verbose = false;
};

/// Parses the arguments after the program name. On failure returns false
/// with `error` naming the argument.
bool parse_serve_options(int argc, char** argv, ServeOptions& options, std::string& error);

}  // namespace sublink
