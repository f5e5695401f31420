// HTTP CONNECT through a proxy (net/proxy): the proxy's answer in any split,
// and the proxy URL. Invariants: a parsed URL has a host and a port; the
// answer is decided once (later feeds give the same failure, or
// invalid_argument once the tunnel is open); ok exactly when the tunnel is
// open on a 2xx status; the tunnel's first bytes are the bytes after the
// header block, within kMaxResponse.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "net/proxy/http_connect.h"

using namespace sublink;
using sublink::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Result<ProxyUrl> parsed = parse_proxy_url(sublink::fuzz::as_text(data, size));
  if (parsed.ok()) {
    check(!parsed->host().empty() && parsed->port() != 0);
  } else {
    check(parsed.status().reason() == Reason::invalid_argument);
  }

  static const Result<ProxyUrl> proxy = parse_proxy_url("http://user:pw@proxy:3128");
  HttpConnect http(*proxy, "sub.example.com", 443);
  check(http.prepared().ok());
  // The first byte picks the chunk size, so splits are explored too.
  const size_t chunk = size == 0 ? 1 : (data[0] % 64) + 1;
  std::span<const uint8_t> rest(data, size);
  size_t fed = 0;
  while (!rest.empty()) {
    const size_t n = rest.size() < chunk ? rest.size() : chunk;
    Status s = http.feed(rest.first(n));
    rest = rest.subspan(n);
    fed += n;
    if (s.reason() == Reason::would_block) continue;
    check(s.ok() == http.tunnel_open());
    if (s.ok()) {
      check(http.status() >= 200 && http.status() <= 299);
      check(http.leftover().size() <= fed && http.leftover().size() <= HttpConnect::kMaxResponse);
      if (!http.leftover().empty()) check(http.leftover().back() == data[fed - 1]);
      check(http.feed(rest).reason() == Reason::invalid_argument);
    } else {
      Status again = http.feed(rest);
      check(again.reason() == s.reason() && again.detail() == s.detail());
    }
    break;
  }
  return 0;
}
