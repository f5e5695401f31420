// HTTP CONNECT through a proxy (PROTOCOL.md section 1.6, RFC 9110 9.3.6),
// sans-I/O: the driver sends request(), feeds what the proxy answers, and
// once feed() returns ok the connection is a tunnel to the target; the
// bytes in leftover() already belong to it.
//
// The answer is judged as soon as its status line is complete: a non-2xx
// answer fails the attempt without waiting for (or buffering) its headers
// and body. A 2xx answer is read up to the blank line that ends its header
// block; the header lines are checked for HTTP shape but not interpreted.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "hal/status.h"
#include "net/proxy/proxy_url.h"

namespace sublink {

class HttpConnect {
 public:
  /// Request line, Host and Proxy-Authorization for the longest host name
  /// and credentials a ProxyUrl can hold.
  static constexpr size_t kMaxRequest = 1024;
  /// Status line and header block of the answer, plus tunnel bytes that
  /// arrive with it. A longer answer is not one a proxy sends to CONNECT.
  static constexpr size_t kMaxResponse = 2048;

  /// Prepares `CONNECT target_host:target_port HTTP/1.1` for `proxy` (only
  /// its credentials are used here; the driver connects to its host:port).
  /// An IPv6 target is written in brackets. Check prepared() before use.
  HttpConnect(const ProxyUrl& proxy, std::string_view target_host, uint16_t target_port);

  /// Ok, or invalid_argument when the target cannot go into a request line
  /// (empty, longer than 255 bytes, spaces or control characters, port 0).
  Status prepared() const { return prepared_; }

  /// The complete request to send to the proxy; empty when not prepared.
  std::span<const uint8_t> request() const { return {request_.data(), request_len_}; }

  /// Takes bytes from the proxy. Returns would_block until the answer's
  /// header block is complete, then ok (tunnel open), or the failure:
  /// proxy_auth_required (407 or 401, detail: the status), proxy_status (detail: the
  /// status), proxy_bad_response (not HTTP/1.x, malformed, or longer than
  /// kMaxResponse). Once decided, later calls return the same failure, or
  /// invalid_argument after success: tunnel bytes go to the next layer.
  Status feed(std::span<const uint8_t> from_proxy);

  /// Bytes that followed the header block: the start of the tunnel.
  std::span<const uint8_t> leftover() const;

  /// The status code of the answer, 0 until its status line is complete.
  int status() const { return status_; }

  /// True once a 2xx header block has been read.
  bool tunnel_open() const { return phase_ == Phase::open; }

 private:
  enum class Phase : uint8_t { status_line, headers, open, failed };

  Status fail(Status why);
  Status on_status_line(std::string_view line);
  Status on_header_line(std::string_view line);

  Status prepared_;
  std::array<uint8_t, kMaxRequest> request_{};
  size_t request_len_ = 0;

  Phase phase_ = Phase::status_line;
  Status failure_;
  int status_ = 0;
  std::array<uint8_t, kMaxResponse> response_{};
  size_t response_len_ = 0;
  size_t line_start_ = 0;   // start of the line being received
  size_t header_end_ = 0;   // first tunnel byte once open
  bool saw_header_ = false; // a folded line needs a header to continue
};

}  // namespace sublink
