// Loading the agent configuration on Linux: the JSON file, then every file
// it names, so a daemon refuses to start with one clear line rather than
// failing later on the first connection (PROTOCOL.md sections 2 and 7).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "linux_util/files/text_file.h"
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

/// Largest file read: the bound every host program reads its files with.
inline constexpr size_t kMaxConfigFileBytes = kMaxTextFileBytes;

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
/// invalid_argument for the rest. With `create_state_dir` false nothing is
/// changed (sublinkd --check): a missing state_dir passes when its parent
/// is a writable directory.
ConfigError load_config_file(std::string_view path, HostConfig& out, bool create_state_dir = true);

// The steps of load_config_file one by one, for tools that report each of
// them rather than stop at the first (sublinkctl doctor). Same errors.

/// Reads a regular file of at most kMaxConfigFileBytes; `key` names it in
/// the error ("config file", "ca_file").
ConfigError read_config_file(std::string_view key, std::string_view path, std::string& out);
/// read_config_file, and the text must hold a PEM block.
ConfigError read_config_pem(std::string_view key, std::string_view path, std::string& out);
/// key_file must not be readable by group or others.
ConfigError check_private_key_mode(std::string_view path);
/// ca_file's text (`pem`) holds only valid certificates.
ConfigError check_trust_anchors(const DeviceConfig& config, const std::string& pem);
/// files.cert_pem and files.key_pem parse, belong together and name
/// config.system_id as the certificate's CN.
ConfigError check_device_identity(const DeviceConfig& config, const HostConfig& files);
/// license_key_file's text (`pem`) is an EC P-256 public key.
ConfigError check_license_key(const DeviceConfig& config, const std::string& pem);
/// state_dir is a directory of its owner alone and writable; when missing it
/// is created 0700 if `create` (else io_error ENOENT).
ConfigError check_state_dir(std::string_view path, bool create);

}  // namespace sublink
