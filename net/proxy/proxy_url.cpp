#include "net/proxy/proxy_url.h"

#include "net/address/host_port.h"

namespace sublink {

namespace {

Status url_error(ProxyUrlError e) { return Status(Reason::invalid_argument, static_cast<int32_t>(e)); }

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = lower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Percent-decodes `in` into `out`; false on a bad escape, a decoded control
// character (it would end up in a header) or when `out` is too small.
template <size_t N>
bool percent_decode(std::string_view in, std::array<char, N>& out, size_t& len) {
  len = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      const int hi = hex_value(in[i + 1]);
      const int lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return false;
    if (len == N) return false;
    out[len++] = c;
  }
  return true;
}

// A host:port failure is the proxy URL's failure of the same number.
static_assert(static_cast<int32_t>(HostPortError::host) == static_cast<int32_t>(ProxyUrlError::host));
static_assert(static_cast<int32_t>(HostPortError::port_missing) == static_cast<int32_t>(ProxyUrlError::port_missing));
static_assert(static_cast<int32_t>(HostPortError::port_invalid) == static_cast<int32_t>(ProxyUrlError::port_invalid));
static_assert(static_cast<int32_t>(HostPortError::port_range) == static_cast<int32_t>(ProxyUrlError::port_range));

}  // namespace

const char* proxy_url_error_text(int32_t detail) {
  switch (static_cast<ProxyUrlError>(detail)) {
    case ProxyUrlError::scheme: return "proxy URL must start with http://";
    case ProxyUrlError::userinfo: return "proxy user or password is empty, too long or badly percent-encoded";
    case ProxyUrlError::host: return "proxy host is empty, too long or not a valid name or IP literal";
    case ProxyUrlError::port_missing: return "proxy URL has no :port after the host";
    case ProxyUrlError::port_invalid: return "proxy port is not a decimal number";
    case ProxyUrlError::port_range: return "proxy port is outside 1..65535";
    case ProxyUrlError::path: return "proxy URL must not have a path, query or fragment";
  }
  return "proxy URL is invalid";
}

Result<ProxyUrl> parse_proxy_url(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (url.size() < kScheme.size()) return url_error(ProxyUrlError::scheme);
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (lower(url[i]) != kScheme[i]) return url_error(ProxyUrlError::scheme);
  }
  std::string_view rest = url.substr(kScheme.size());

  // The authority ends at the first '/', '?' or '#'; only a bare "/" may follow.
  const size_t end = rest.find_first_of("/?#");
  if (end != std::string_view::npos) {
    if (rest.substr(end) != "/") return url_error(ProxyUrlError::path);
    rest = rest.substr(0, end);
  }

  ProxyUrl out;
  // Passwords often contain '@'; the host never does, so the last '@' ends
  // the user part.
  const size_t at = rest.rfind('@');
  if (at != std::string_view::npos) {
    const std::string_view userinfo = rest.substr(0, at);
    const size_t colon = userinfo.find(':');
    const std::string_view user = userinfo.substr(0, colon);
    const std::string_view password = colon == std::string_view::npos ? std::string_view() : userinfo.substr(colon + 1);
    if (user.empty() || !percent_decode(user, out.user_, out.user_len_) ||
        !percent_decode(password, out.password_, out.password_len_)) {
      return url_error(ProxyUrlError::userinfo);
    }
    // Basic credentials are "user:password": a ':' inside the user would
    // shift the split on the proxy's side.
    if (out.user().find(':') != std::string_view::npos) return url_error(ProxyUrlError::userinfo);
    out.has_credentials_ = true;
    rest = rest.substr(at + 1);
  }

  // What is left is the authority's host:port; its '@' and '/' were taken
  // above, so url_part cannot be the answer here.
  const Result<HostPort> endpoint = parse_host_port(rest);
  if (!endpoint.ok()) return endpoint.status();
  const std::string_view host = endpoint->host;
  if (host.size() > ProxyUrl::kMaxHost) return url_error(ProxyUrlError::host);
  for (size_t i = 0; i < host.size(); ++i) out.host_[i] = host[i];
  out.host_len_ = host.size();
  out.port_ = endpoint->port;
  return out;
}

}  // namespace sublink
