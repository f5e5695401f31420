// Loading the agent configuration on Linux: the JSON file, then every file
// it names, so a daemon refuses to start with one clear line rather than
// failing later on the first connection (PROTOCOL.md sections 2 and 7).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "firmware/config/device_config.h"
#include "firmware/config/config_error.h"

namespace sublink {

/// A checked configuration and the file contents the daemon builds its
/// TLS client and license key from.
struct HostConfig {
  HostConfig();
  /// Wipes the private key text.
  ~HostConfig();
  HostConfig(const HostConfig&) = delete;
  HostConfig& operator=(const HostConfig&) = delete;

  /// On the heap: a few kilobytes of fixed storage.
  std::unique_ptr<DeviceConfig> config;
  std::string ca_pem;           // ca_file
  std::string cert_pem;         // cert_file
  std::string key_pem;          // key_file
  std::string license_key_pem;  // license_key_file
};

/// Largest file read: configuration, certificates and keys are small, and
/// a bound keeps a wrong path (a log, a device node) from being slurped.
inline constexpr size_t kMaxConfigFileBytes = 256 * 1024;

/// Reads and checks the configuration at `path` into `out`:
///  - the file is readable and valid (parse_device_config);
///  - ca_file, cert_file and license_key_file are readable PEM that parse
///    (certificates; an EC P-256 public key);
///  - key_file is readable PEM, not readable by group or others, parses,
///    and is the key of cert_file's certificate;
///  - system_id equals the subject CN of the device certificate;
///  - state_dir exists (created 0700 when missing, its parent must exist),
///    is a directory owned by nobody else but the owner, and is writable.
/// Relative paths are taken from the working directory. Returns the first
/// problem as one line; io_error for files that cannot be read or created,
/// invalid_argument for the rest.
ConfigError load_config_file(std::string_view path, HostConfig& out);

}  // namespace sublink
