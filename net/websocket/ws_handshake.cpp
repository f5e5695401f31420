#include "net/websocket/ws_handshake.h"

#include <mbedtls/base64.h>

#include <array>
#include <cstring>

#include "net/websocket/ws_sha1.h"

namespace sublink {

namespace {

constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
constexpr std::string_view kCrlf = "\r\n";

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

bool is_ows(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

// RFC 9110 5.6.2 tchar: what a header name may be made of.
bool is_tchar(char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is_tchar(c)) return false;
  }
  return true;
}

bool has_injection(std::string_view s) {
  for (char c : s) {
    if (c == '\r' || c == '\n' || c == '\0') return true;
  }
  return false;
}

// True when a comma-separated list holds `token` (case-insensitive).
bool list_contains(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    const size_t comma = list.find(',');
    if (iequals(trim(list.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

// Splits the next field line (with its CRLF) off `block`. False for a line
// no careful peer sends: CR/LF/NUL inside, obs-fold (RFC 9112 5.2), no colon
// or a name that is not a token.
bool next_field(std::string_view& block, std::string_view& name, std::string_view& value) {
  const size_t eol = block.find(kCrlf);
  const std::string_view line = block.substr(0, eol);
  block.remove_prefix(eol == std::string_view::npos ? block.size() : eol + 2);
  if (has_injection(line) || line.empty() || is_ows(line.front())) return false;
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos || !is_token(line.substr(0, colon))) return false;
  name = line.substr(0, colon);
  value = trim(line.substr(colon + 1));
  return true;
}

// A Sec-WebSocket-Key must be base64 of exactly 16 bytes (RFC 6455 4.2.1).
bool is_valid_ws_key(std::string_view key) {
  if (key.size() != 24 || key.substr(22) != "==") return false;
  uint8_t decoded[18];
  size_t n = 0;
  return mbedtls_base64_decode(decoded, sizeof(decoded), &n, reinterpret_cast<const uint8_t*>(key.data()),
                               key.size()) == 0 &&
         n == 16;
}

int32_t parse_delta_seconds(std::string_view v) {
  if (v.empty()) return -1;
  int64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return -1;
    n = n * 10 + (c - '0');
    if (n > INT32_MAX) n = INT32_MAX;  // a huge delay is still "wait long"
  }
  return static_cast<int32_t>(n);
}

// "HTTP/1.1 SP 3DIGIT [SP reason-phrase]"; returns the status or -1.
int parse_status_line(std::string_view line) {
  constexpr std::string_view kVersion = "HTTP/1.1 ";
  if (line.substr(0, kVersion.size()) != kVersion) return -1;
  line.remove_prefix(kVersion.size());
  if (line.size() < 3) return -1;
  int status = 0;
  for (size_t i = 0; i < 3; ++i) {
    if (line[i] < '0' || line[i] > '9') return -1;
    status = status * 10 + (line[i] - '0');
  }
  if (status < 100) return -1;
  if (line.size() > 3 && line[3] != ' ') return -1;
  for (char c : line.substr(3)) {
    // reason-phrase = *( HTAB / SP / VCHAR / obs-text )
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 && c != '\t') return -1;
    if (u == 0x7F) return -1;
  }
  return status;
}

}  // namespace

Status compute_ws_accept(std::string_view key, std::span<char, 28> out) {
  Sha1 sha;
  sha.update({reinterpret_cast<const uint8_t*>(key.data()), key.size()});
  sha.update({reinterpret_cast<const uint8_t*>(kGuid.data()), kGuid.size()});
  const std::array<uint8_t, Sha1::kDigestBytes> digest = sha.finish();
  uint8_t encoded[29];  // 28 characters and the NUL Mbed TLS always writes
  size_t written = 0;
  int rc = mbedtls_base64_encode(encoded, sizeof(encoded), &written, digest.data(), digest.size());
  if (rc != 0 || written != 28) return Status(Reason::invalid_argument, rc);
  std::memcpy(out.data(), encoded, 28);
  return Status::Ok();
}

Status make_ws_handshake_key(Random& random, WsHandshakeKey& out) {
  uint8_t nonce[16];
  Status s = random.fill(nonce);
  if (!s.ok()) return s;
  uint8_t encoded[25];
  size_t written = 0;
  if (mbedtls_base64_encode(encoded, sizeof(encoded), &written, nonce, sizeof(nonce)) != 0 || written != 24) {
    return Reason::invalid_argument;
  }
  std::memcpy(out.key, encoded, 24);
  return compute_ws_accept(out.key_text(), out.accept);
}

size_t ws_upgrade_request_size(const WsUpgradeRequest& r) {
  // The request's own text, counted once at compile time: no copy of it in
  // the image.
  constexpr size_t kFixedBytes = std::string_view("GET  HTTP/1.1\r\n").size() +
                                 std::string_view("Host: \r\n").size() +
                                 std::string_view("Upgrade: websocket\r\nConnection: Upgrade\r\n").size() +
                                 std::string_view("Sec-WebSocket-Key: \r\n").size() +
                                 std::string_view("Sec-WebSocket-Version: 13\r\n").size() +
                                 std::string_view("Sec-WebSocket-Protocol: \r\n").size() +
                                 std::string_view("User-Agent: \r\n").size() + kCrlf.size();
  return kFixedBytes + r.path.size() + r.host.size() + r.key.size() + r.subprotocol.size() + r.user_agent.size();
}

Status write_ws_upgrade_request(const WsUpgradeRequest& r, ByteQueue& out) {
  for (std::string_view field : {r.host, r.path, r.subprotocol, r.user_agent, r.key}) {
    if (field.empty() || has_injection(field)) return Reason::invalid_argument;
  }
  if (r.path.front() != '/' || r.path.find(' ') != std::string_view::npos) return Reason::invalid_argument;
  if (!is_token(r.subprotocol)) return Reason::invalid_argument;
  if (out.free_space() < ws_upgrade_request_size(r)) return Reason::out_of_memory;
  const std::string_view parts[] = {
      "GET ", r.path, " HTTP/1.1\r\n",
      "Host: ", r.host, kCrlf,
      "Upgrade: websocket\r\nConnection: Upgrade\r\n",
      "Sec-WebSocket-Key: ", r.key, kCrlf,
      "Sec-WebSocket-Version: 13\r\n",
      "Sec-WebSocket-Protocol: ", r.subprotocol, kCrlf,
      "User-Agent: ", r.user_agent, kCrlf,
      kCrlf,
  };
  for (std::string_view p : parts) out.push(p);  // room was checked above
  return Status::Ok();
}

WsUpgradeResponse parse_ws_upgrade_response(std::span<const uint8_t> received, size_t max_header_bytes,
                                            std::string_view expected_accept, std::string_view subprotocol) {
  WsUpgradeResponse r;
  const std::string_view all(reinterpret_cast<const char*>(received.data()), received.size());

  // Something that is not HTTP (a TLS-inspecting box, another protocol)
  // fails at once instead of after max_header_bytes or a timeout.
  constexpr std::string_view kPrefix = "HTTP/";
  const size_t prefix_len = all.size() < kPrefix.size() ? all.size() : kPrefix.size();
  if (all.substr(0, prefix_len) != kPrefix.substr(0, prefix_len)) {
    r.status = Reason::upgrade_invalid;
    return r;
  }
  const size_t end = all.find("\r\n\r\n");
  if (end == std::string_view::npos || end + 4 > max_header_bytes) {
    r.status = (all.size() >= max_header_bytes || end != std::string_view::npos) ? Status(Reason::upgrade_invalid)
                                                                                   : Status(Reason::would_block);
    return r;
  }
  r.header_bytes = end + 4;
  std::string_view block = all.substr(0, end + 2);  // every line with its CRLF

  auto next_line = [&block]() {
    const size_t eol = block.find(kCrlf);
    std::string_view line = block.substr(0, eol);
    block.remove_prefix(eol + 2);
    return line;
  };
  auto bad_chars = [](std::string_view line) { return has_injection(line); };

  const std::string_view status_line = next_line();
  if (bad_chars(status_line)) {
    r.status = Reason::upgrade_invalid;
    return r;
  }
  const int status = parse_status_line(status_line);
  if (status < 0) {
    r.status = Reason::upgrade_invalid;
    return r;
  }
  r.http_status = status;

  bool upgrade_ok = false;
  int upgrade_count = 0;
  bool connection_upgrade = false;
  int accept_count = 0;
  bool accept_ok = false;
  int protocol_count = 0;
  bool protocol_ok = false;
  bool extensions = false;
  while (!block.empty()) {
    std::string_view name, value;
    if (!next_field(block, name, value)) {
      r.status = Reason::upgrade_invalid;
      return r;
    }
    if (iequals(name, "Upgrade")) {
      ++upgrade_count;
      upgrade_ok = iequals(value, "websocket");
    } else if (iequals(name, "Connection")) {
      connection_upgrade = connection_upgrade || list_contains(value, "upgrade");
    } else if (iequals(name, "Sec-WebSocket-Accept")) {
      ++accept_count;
      accept_ok = value == expected_accept;
    } else if (iequals(name, "Sec-WebSocket-Protocol")) {
      ++protocol_count;
      protocol_ok = value == subprotocol;
    } else if (iequals(name, "Sec-WebSocket-Extensions")) {
      extensions = true;  // we offered none, so none may be accepted
    } else if (iequals(name, "Retry-After")) {
      r.retry_after_s = parse_delta_seconds(value);
    }
  }

  if (status == 101) {
    const bool valid = upgrade_count == 1 && upgrade_ok && connection_upgrade && accept_count == 1 && accept_ok &&
                       protocol_count == 1 && protocol_ok && !extensions;
    r.status = valid ? Status::Ok() : Status(Reason::upgrade_invalid);
  } else if (status == 401 || status == 403) {
    r.status = Status(Reason::upgrade_unauthorized, status);
  } else if (status == 503) {
    r.status = Status(Reason::upgrade_unavailable, r.retry_after_s);
  } else {
    r.status = Status(Reason::upgrade_status, status);
  }
  return r;
}

bool ws_header_list_contains(std::string_view list, std::string_view token) { return list_contains(list, token); }

WsUpgradeRequestInfo parse_ws_upgrade_request(std::span<const uint8_t> received, size_t max_header_bytes) {
  WsUpgradeRequestInfo r;
  auto refuse = [&r](int http_status) {
    r.status = Status(Reason::upgrade_invalid, http_status);
    return r;
  };
  const std::string_view all(reinterpret_cast<const char*>(received.data()), received.size());
  const size_t end = all.find("\r\n\r\n");
  if (end == std::string_view::npos || end + 4 > max_header_bytes) {
    if (all.size() >= max_header_bytes || end != std::string_view::npos) return refuse(431);
    r.status = Reason::would_block;
    return r;
  }
  r.header_bytes = end + 4;
  std::string_view block = all.substr(0, end + 2);

  // Request line: "GET SP request-target SP HTTP/1.1".
  const size_t eol = block.find(kCrlf);
  const std::string_view line = block.substr(0, eol);
  block.remove_prefix(eol + 2);
  if (has_injection(line)) return refuse(400);
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.substr(sp2 + 1) != "HTTP/1.1") return refuse(400);
  r.path = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (r.path.empty() || r.path.front() != '/') return refuse(400);
  if (line.substr(0, sp1) != "GET") return refuse(405);

  int host_count = 0, key_count = 0, version_count = 0;
  bool upgrade_ok = false, connection_upgrade = false, version_ok = false;
  while (!block.empty()) {
    std::string_view name, value;
    if (!next_field(block, name, value)) return refuse(400);
    if (iequals(name, "Host")) {
      ++host_count;
      r.host = value;
    } else if (iequals(name, "Upgrade")) {
      upgrade_ok = upgrade_ok || list_contains(value, "websocket");
    } else if (iequals(name, "Connection")) {
      connection_upgrade = connection_upgrade || list_contains(value, "upgrade");
    } else if (iequals(name, "Sec-WebSocket-Key")) {
      ++key_count;
      r.key = value;
    } else if (iequals(name, "Sec-WebSocket-Version")) {
      ++version_count;
      version_ok = value == "13";
    } else if (iequals(name, "Sec-WebSocket-Protocol")) {
      // Several lines form one list (RFC 9110 5.3); the last is kept, as a
      // client that splits its offer is not one this project meets.
      r.protocols = value;
    } else if (iequals(name, "User-Agent")) {
      r.user_agent = value;
    }
  }
  if (host_count != 1 || r.host.empty() || !upgrade_ok || !connection_upgrade) return refuse(400);
  if (key_count != 1 || !is_valid_ws_key(r.key)) return refuse(400);
  if (version_count != 1 || !version_ok) return refuse(426);
  r.status = Status::Ok();
  return r;
}

}  // namespace sublink
