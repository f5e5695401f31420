#include "tools/server/server_options.h"

#include <cstdlib>

#include "tools/server/admin_request.h"

namespace sublink {

namespace {

bool parse_int(const std::string& text, int64_t min, int64_t max, int64_t& out) {
  if (text.empty()) return false;
  char* end = nullptr;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (*end != '\0' || v < min || v > max) return false;
  out = v;
  return true;
}

}  // namespace

bool parse_serve_options(int argc, char** argv, ServeOptions& options, std::string& error) {
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--verbose" || a == "-v") {
      options.verbose = true;
      continue;
    }
    if (i + 1 >= argc) {
      error = "unknown option or missing value: '" + a + "'";
      return false;
    }
    const std::string value = argv[++i];
    int64_t n = 0;
    if (a == "--db") {
      options.db = value;
    } else if (a == "--ca") {
      options.ca = value;
    } else if (a == "--cert") {
      options.cert = value;
    } else if (a == "--key") {
      options.key = value;
    } else if (a == "--license-key") {
      options.license_key = value;
    } else if (a == "--kid") {
      options.kid = value;
    } else if (a == "--bind") {
      options.bind = value;
    } else if (a == "--control") {
      options.control = value;
    } else if (a == "--port" && parse_int(value, 1, 65535, n)) {
      options.ports.push_back(static_cast<uint16_t>(n));
    } else if (a == "--heartbeat-s" && parse_int(value, 1, 86400, n)) {
      options.heartbeat_s = n;
    } else if (a == "--audit-s" && parse_int(value, 1, 365LL * 86400, n)) {
      options.audit_s = n;
    } else if (a == "--max-connections" && parse_int(value, 1, 1000000, n)) {
      options.max_connections = static_cast<size_t>(n);
    } else if (a == "--duplicate-identity" && parse_duplicate_identity_policy(value)) {
      options.duplicate_identity = *parse_duplicate_identity_policy(value);
    } else if (a == "--replaced-retry-s" && parse_int(value, 0, 86400, n)) {
      options.replaced_retry_s = n;
    } else {
      error = "bad option or value: '" + a + " " + value + "'";
      return false;
    }
  }
  for (const auto& [name, value] : {std::pair<const char*, const std::string&>{"--db", options.db},
                                    {"--ca", options.ca},
                                    {"--cert", options.cert},
                                    {"--key", options.key},
                                    {"--license-key", options.license_key}}) {
    if (value.empty()) {
      error = std::string(name) + " is required";
      return false;
    }
  }
  if (options.ports.empty()) options.ports = {443, 8443};
  if (options.control.empty()) options.control = default_control_path(options.db);
  return true;
}

}  // namespace sublink
