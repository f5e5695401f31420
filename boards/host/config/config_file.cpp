#include "boards/host/config/config_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "linux_util/files/text_file.h"
#include "firmware/config/config_parser.h"
#include "firmware/license/license_key.h"
#include "mbedtls/pk.h"
#include "mbedtls/platform_util.h"
#include "mbedtls/x509_crt.h"
#include "net/tls/cert_names.h"
#include "net/tls/pem_loading.h"

namespace sublink {

namespace {

// "config: KEY 'PATH'" — the start of every error about a named file.
ConfigError about(Reason reason, std::string_view key, std::string_view path) {
  ConfigError e = ConfigError::begin(reason);
  e.add(key).add(" '").add(path).add("'");
  return e;
}

std::string mode_text(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

std::string hex_code(int32_t code) {
  char text[16];
  std::snprintf(text, sizeof text, "-0x%04x", static_cast<unsigned>(code < 0 ? -code : code));
  return text;
}

}  // namespace

ConfigError read_config_file(std::string_view key, std::string_view path_view, std::string& out) {
  std::string path(path_view);
  const TextFileError e = read_text_file(path, out);
  if (e.ok()) return {};
  return about(e.io ? Reason::io_error : Reason::invalid_argument, key, path).add(e.why);
}

ConfigError read_config_pem(std::string_view key, std::string_view path_view, std::string& out) {
  std::string path(path_view);
  ConfigError error = read_config_file(key, path, out);
  if (!error.ok()) return error;
  if (out.find("-----BEGIN ") == std::string::npos) {
    return about(Reason::invalid_argument, key, path).add(" is not PEM (no \"-----BEGIN\" line)");
  }
  return error;
}

ConfigError check_private_key_mode(std::string_view path_view) {
  std::string path(path_view);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return about(Reason::io_error, "key_file", path).add(": cannot read: ").add(std::strerror(errno));
  }
  if ((st.st_mode & 077) != 0) {
    return about(Reason::invalid_argument, "key_file", path)
        .add(" is readable by group or others (mode ")
        .add(mode_text(st.st_mode))
        .add("): chmod 600 it");
  }
  return {};
}

// The device certificate and key, parsed: they must belong together and
// name the configured system_id.
ConfigError check_device_identity(const DeviceConfig& config, const HostConfig& files) {
  mbedtls_x509_crt chain;
  mbedtls_pk_context key;
  mbedtls_x509_crt_init(&chain);
  mbedtls_pk_init(&key);
  ConfigError error;
  Status s = load_certificates(chain, files.cert_pem);
  if (!s.ok()) {
    error = about(Reason::invalid_argument, "cert_file", config.cert_file.view())
                .add(" holds no valid certificate (Mbed TLS ")
                .add(hex_code(s.detail()))
                .add(")");
  } else if (!(s = load_private_key(key, files.key_pem, {})).ok()) {
    error = about(Reason::invalid_argument, "key_file", config.key_file.view())
                .add(" holds no valid unencrypted private key (Mbed TLS ")
                .add(hex_code(s.detail()))
                .add(")");
  } else if (!check_key_matches(chain, key).ok()) {
    error = about(Reason::invalid_argument, "key_file", config.key_file.view())
                .add(" is not the key of cert_file '")
                .add(config.cert_file.view())
                .add("'");
  } else {
    char cn_buffer[kMaxConfigId + 1];
    std::string_view cn = certificate_common_name(chain, cn_buffer);
    if (cn != config.system_id.view()) {
      error = ConfigError::begin(Reason::invalid_argument);
      error.add("system_id ")
          .add_quoted(config.system_id.view())
          .add(" differs from the device certificate's CN ")
          .add_quoted(cn)
          .add(" (cert_file '")
          .add(config.cert_file.view())
          .add("')");
    }
  }
  mbedtls_pk_free(&key);
  mbedtls_x509_crt_free(&chain);
  return error;
}

ConfigError check_trust_anchors(const DeviceConfig& config, const std::string& pem) {
  mbedtls_x509_crt anchors;
  mbedtls_x509_crt_init(&anchors);
  Status s = load_certificates(anchors, pem);
  mbedtls_x509_crt_free(&anchors);
  if (s.ok()) return {};
  return about(Reason::invalid_argument, "ca_file", config.ca_file.view())
      .add(" holds an invalid certificate (Mbed TLS ")
      .add(hex_code(s.detail()))
      .add(")");
}

ConfigError check_license_key(const DeviceConfig& config, const std::string& pem) {
  LicenseKey key;
  if (key.load(pem).ok()) return {};
  return about(Reason::invalid_argument, "license_key_file", config.license_key_file.view())
      .add(" is not an EC P-256 public key");
}

ConfigError check_state_dir(std::string_view path_view, bool create) {
  std::string path(path_view);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT || !create) {
      return about(Reason::io_error, "state_dir", path).add(": cannot use: ").add(std::strerror(errno));
    }
    if (::mkdir(path.c_str(), 0700) != 0 || ::chmod(path.c_str(), 0700) != 0) {
      return about(Reason::io_error, "state_dir", path).add(": cannot create: ").add(std::strerror(errno));
    }
    return {};
  }
  if (!S_ISDIR(st.st_mode)) return about(Reason::invalid_argument, "state_dir", path).add(" is not a directory");
  if ((st.st_mode & 077) != 0) {
    return about(Reason::invalid_argument, "state_dir", path)
        .add(" is accessible by group or others (mode ")
        .add(mode_text(st.st_mode))
        .add("): chmod 700 it");
  }
  if (::access(path.c_str(), W_OK | X_OK) != 0) {
    return about(Reason::io_error, "state_dir", path).add(" is not writable: ").add(std::strerror(errno));
  }
  return {};
}

HostConfig::HostConfig() : config(std::make_unique<DeviceConfig>()) {}

HostConfig::~HostConfig() { mbedtls_platform_zeroize(key_pem.data(), key_pem.size()); }

ConfigError load_config_file(std::string_view path, HostConfig& out, bool create_state_dir) {
  std::string text;
  ConfigError error = read_config_file("config file", path, text);
  if (!error.ok()) return error;
  error = parse_device_config(text, *out.config);
  if (!error.ok()) return error;
  const DeviceConfig& c = *out.config;
  if (!(error = read_config_pem("ca_file", c.ca_file.view(), out.ca_pem)).ok()) return error;
  if (!(error = check_trust_anchors(c, out.ca_pem)).ok()) return error;
  if (!(error = read_config_pem("cert_file", c.cert_file.view(), out.cert_pem)).ok()) return error;
  if (!(error = check_private_key_mode(c.key_file.view())).ok()) return error;
  if (!(error = read_config_pem("key_file", c.key_file.view(), out.key_pem)).ok()) return error;
  if (!(error = check_device_identity(c, out)).ok()) return error;
  if (!(error = read_config_pem("license_key_file", c.license_key_file.view(), out.license_key_pem)).ok()) return error;
  if (!(error = check_license_key(c, out.license_key_pem)).ok()) return error;
  if (!create_state_dir) {
    // Checked without a change: a missing state_dir is fine when the start
    // can create it (its parent is a writable directory).
    const std::string dir(c.state_dir.view());
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0 && errno == ENOENT) {
      const size_t slash = dir.find_last_of('/');
      const std::string parent = slash == std::string::npos ? "." : slash == 0 ? "/" : dir.substr(0, slash);
      if (::access(parent.c_str(), W_OK | X_OK) != 0) {
        return about(Reason::io_error, "state_dir", dir).add(": cannot be created in '").add(parent).add("': ").add(
            std::strerror(errno));
      }
      return {};
    }
  }
  return check_state_dir(c.state_dir.view(), create_state_dir);
}

}  // namespace sublink
