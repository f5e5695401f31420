// libFuzzer target: any bytes from a "proxy", in any split, and any proxy
// URL must neither crash nor read out of bounds. Built with clang only.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "net/proxy/http_connect.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sublink;
  const std::string_view as_text(reinterpret_cast<const char*>(data), size);
  Result<ProxyUrl> parsed = parse_proxy_url(as_text);
  if (parsed.ok() && parsed->host().empty()) __builtin_trap();

  Result<ProxyUrl> proxy = parse_proxy_url("http://user:pw@proxy:3128");
  HttpConnect http(*proxy, "sub.example.com", 443);
  // The first byte picks the chunk size, so splits are explored too.
  const size_t chunk = size == 0 ? 1 : (data[0] % 64) + 1;
  std::span<const uint8_t> rest(data, size);
  while (!rest.empty()) {
    const size_t n = rest.size() < chunk ? rest.size() : chunk;
    Status s = http.feed(rest.first(n));
    rest = rest.subspan(n);
    if (s.reason() != Reason::would_block) {
      if (s.ok() != http.tunnel_open()) __builtin_trap();
      if (s.ok() && (http.status() < 200 || http.status() > 299)) __builtin_trap();
      break;
    }
  }
  for (uint8_t b : http.leftover()) (void)b;
  return 0;
}
