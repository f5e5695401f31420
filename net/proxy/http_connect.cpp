#include "net/proxy/http_connect.h"

#include "mbedtls/base64.h"

#include "hal/decimal.h"

namespace sublink {

namespace {

// Appends to a fixed buffer and remembers whether anything did not fit.
class RequestWriter {
 public:
  explicit RequestWriter(std::span<uint8_t> out) : out_(out) {}

  void text(std::string_view s) {
    for (char c : s) byte(static_cast<uint8_t>(c));
  }
  void number(uint32_t v) { text(decimal(v).view()); }
  void byte(uint8_t b) {
    if (len_ < out_.size()) {
      out_[len_++] = b;
    } else {
      overflow_ = true;
    }
  }
  std::span<uint8_t> free_space() { return out_.subspan(len_); }
  void advance(size_t n) { len_ += n; }
  size_t size() const { return len_; }
  bool overflow() const { return overflow_; }

 private:
  std::span<uint8_t> out_;
  size_t len_ = 0;
  bool overflow_ = false;
};

bool is_host_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_';
}

bool is_ipv6_literal_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.';
}

// RFC 9110 token characters, for header field names.
bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// "host:port" with IPv6 in brackets; false when the host cannot be written
// into a request line safely.
bool write_authority(RequestWriter& w, std::string_view host, uint16_t port) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty() || host.size() > ProxyUrl::kMaxHost || port == 0) return false;
  const bool ipv6 = host.find(':') != std::string_view::npos;
  for (char c : host) {
    if (ipv6 ? !is_ipv6_literal_char(c) : !is_host_name_char(c)) return false;
  }
  if (ipv6) w.byte('[');
  w.text(host);
  if (ipv6) w.byte(']');
  w.byte(':');
  w.number(port);
  return true;
}

}  // namespace

HttpConnect::HttpConnect(const ProxyUrl& proxy, std::string_view target_host, uint16_t target_port) {
  RequestWriter w(request_);
  w.text("CONNECT ");
  bool ok = write_authority(w, target_host, target_port);
  w.text(" HTTP/1.1\r\nHost: ");
  ok = ok && write_authority(w, target_host, target_port);
  w.text("\r\n");
  if (ok && proxy.has_credentials()) {
    // user ":" password, base64-encoded straight into the request.
    std::array<uint8_t, ProxyUrl::kMaxUser + 1 + ProxyUrl::kMaxPassword> plain{};
    size_t n = 0;
    for (char c : proxy.user()) plain[n++] = static_cast<uint8_t>(c);
    plain[n++] = ':';
    for (char c : proxy.password()) plain[n++] = static_cast<uint8_t>(c);
    w.text("Proxy-Authorization: Basic ");
    std::span<uint8_t> space = w.free_space();
    size_t written = 0;
    if (mbedtls_base64_encode(space.data(), space.size(), &written, plain.data(), n) != 0) {
      ok = false;
    } else {
      w.advance(written);  // mbedtls counts the string, not its NUL
    }
    w.text("\r\n");
  }
  w.text("\r\n");
  if (!ok || w.overflow()) {
    prepared_ = Status(Reason::invalid_argument);
    phase_ = Phase::failed;
    failure_ = prepared_;
    return;
  }
  request_len_ = w.size();
}

Status HttpConnect::feed(std::span<const uint8_t> from_proxy) {
  if (phase_ == Phase::failed) return failure_;
  if (phase_ == Phase::open) return Status(Reason::invalid_argument);
  static constexpr std::string_view kHttp = "HTTP/";
  for (size_t i = 0; i < from_proxy.size(); ++i) {
    if (response_len_ == response_.size()) return fail(Status(Reason::proxy_bad_response));
    const uint8_t b = from_proxy[i];
    response_[response_len_++] = b;
    // Something that is not a proxy (a TLS server, SSH, a captive portal's
    // raw bytes) is recognised from its first bytes, not after a timeout.
    if (response_len_ <= kHttp.size() && b != static_cast<uint8_t>(kHttp[response_len_ - 1])) {
      return fail(Status(Reason::proxy_bad_response));
    }
    if (b != '\n') continue;

    size_t line_end = response_len_ - 1;
    if (line_end > line_start_ && response_[line_end - 1] == '\r') --line_end;
    const std::string_view line(reinterpret_cast<const char*>(response_.data()) + line_start_,
                                line_end - line_start_);
    line_start_ = response_len_;
    if (phase_ == Phase::status_line) {
      Status s = on_status_line(line);
      if (!s.ok()) return fail(s);
      phase_ = Phase::headers;
      continue;
    }
    if (!line.empty()) {
      Status s = on_header_line(line);
      if (!s.ok()) return fail(s);
      continue;
    }
    // Blank line: the tunnel starts with the next byte.
    header_end_ = response_len_;
    const std::span<const uint8_t> rest = from_proxy.subspan(i + 1);
    if (rest.size() > response_.size() - response_len_) return fail(Status(Reason::proxy_bad_response));
    for (uint8_t r : rest) response_[response_len_++] = r;
    phase_ = Phase::open;
    return Status::Ok();
  }
  return Status(Reason::would_block);
}

std::span<const uint8_t> HttpConnect::leftover() const {
  if (phase_ != Phase::open) return {};
  return std::span<const uint8_t>(response_).subspan(header_end_, response_len_ - header_end_);
}

Status HttpConnect::fail(Status why) {
  phase_ = Phase::failed;
  failure_ = why;
  return why;
}

Status HttpConnect::on_status_line(std::string_view line) {
  // HTTP/1.x SP 3DIGIT [SP reason-phrase]. HTTP/1.0 proxies (tinyproxy)
  // are common; other major versions cannot answer on this connection.
  const Status bad(Reason::proxy_bad_response);
  if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || !is_digit(line[7]) || line[8] != ' ') return bad;
  if (!is_digit(line[9]) || !is_digit(line[10]) || !is_digit(line[11])) return bad;
  if (line.size() > 12 && line[12] != ' ') return bad;
  for (char c : line.substr(12)) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) return bad;
  }
  status_ = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  if (status_ < 100 || status_ > 599) return bad;
  if (status_ >= 200 && status_ <= 299) return Status::Ok();
  // A CONNECT answer comes from the proxy itself (the target is not reached
  // yet), so 401 can only be about the proxy's credentials too: tinyproxy
  // 1.11 answers wrong credentials with 401 and missing ones with 407.
  if (status_ == 407 || status_ == 401) return Status(Reason::proxy_auth_required, status_);
  return Status(Reason::proxy_status, status_);
}

Status HttpConnect::on_header_line(std::string_view line) {
  const Status bad(Reason::proxy_bad_response);
  for (char c : line) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) return bad;
  }
  if (line[0] == ' ' || line[0] == '\t') {
    // obs-fold (RFC 9112 5.2): continues the previous field; its value is
    // not used here, so it is accepted rather than rejected.
    return saw_header_ ? Status::Ok() : bad;
  }
  const size_t colon = line.find(':');
  if (colon == 0 || colon == std::string_view::npos) return bad;
  for (char c : line.substr(0, colon)) {
    if (!is_tchar(c)) return bad;
  }
  saw_header_ = true;
  return Status::Ok();
}

}  // namespace sublink
