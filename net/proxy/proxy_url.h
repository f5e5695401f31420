// The `proxy` setting (PROTOCOL.md section 1.6): http://[user:password@]host:port.
// Parsed once at configuration time into fixed storage, so a bad value is
// reported with the part that is wrong before any connection is tried.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "hal/status.h"

namespace sublink {

/// Which part of a proxy URL is wrong: the `detail` of the invalid_argument
/// Status that parse_proxy_url returns.
enum class ProxyUrlError : int32_t {
  scheme = 1,    // not "http://" (https and others are not supported)
  userinfo,      // bad percent-encoding, empty user, or too long
  host,          // empty, bad characters, unbracketed IPv6, or too long
  port_missing,  // no ":port" after the host
  port_invalid,  // not a decimal number
  port_range,    // outside 1..65535
  path,          // anything after the port other than a single "/"
};

/// A one-line explanation of a ProxyUrlError detail, for the config error.
const char* proxy_url_error_text(int32_t detail);

/// A parsed proxy URL. Strings live inside the object (no heap).
class ProxyUrl {
 public:
  static constexpr size_t kMaxHost = 255;
  static constexpr size_t kMaxUser = 128;
  static constexpr size_t kMaxPassword = 128;

  /// Host name or IP literal without brackets (IPv6 as "::1").
  std::string_view host() const { return {host_.data(), host_len_}; }
  uint16_t port() const { return port_; }
  /// True when the URL had a user part: send Proxy-Authorization.
  bool has_credentials() const { return has_credentials_; }
  /// Percent-decoded user and password (the password may be empty).
  std::string_view user() const { return {user_.data(), user_len_}; }
  std::string_view password() const { return {password_.data(), password_len_}; }

 private:
  friend Result<ProxyUrl> parse_proxy_url(std::string_view url);

  std::array<char, kMaxHost> host_{};
  std::array<char, kMaxUser> user_{};
  std::array<char, kMaxPassword> password_{};
  size_t host_len_ = 0;
  size_t user_len_ = 0;
  size_t password_len_ = 0;
  uint16_t port_ = 0;
  bool has_credentials_ = false;
};

/// Parses `http://[user:password@]host:port[/]`. The scheme is matched
/// without regard to case; user and password are percent-decoded; an IPv6
/// host is written in brackets. Failure: Reason::invalid_argument with a
/// ProxyUrlError as detail.
Result<ProxyUrl> parse_proxy_url(std::string_view url);

}  // namespace sublink
