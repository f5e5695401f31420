// The HTTP/1.1 upgrade that opens a WebSocket (RFC 6455 section 4,
// PROTOCOL.md section 3): the request we send and the check of the answer.
// A failed answer is classified so the connector can tell "device not
// authorized" (401/403) from "come back later" (503 + Retry-After) from a
// middlebox that speaks something else.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "hal/random.h"
#include "hal/status.h"
#include "net/bytes/byte_queue.h"

namespace sublink {

/// A Sec-WebSocket-Key and the Sec-WebSocket-Accept the server must return.
struct WsHandshakeKey {
  char key[24] = {};     // base64 of 16 random bytes
  char accept[28] = {};  // base64(SHA-1(key + RFC 6455 GUID))

  std::string_view key_text() const { return {key, sizeof(key)}; }
  std::string_view accept_text() const { return {accept, sizeof(accept)}; }
};

/// Draws 16 fresh random bytes and derives key and expected accept value.
Status make_ws_handshake_key(Random& random, WsHandshakeKey& out);

/// The Sec-WebSocket-Accept value for a given key (SHA-1 + base64 from
/// Mbed TLS). `out` receives 28 characters.
Status compute_ws_accept(std::string_view key, std::span<char, 28> out);

struct WsUpgradeRequest {
  std::string_view host;         // Host header value, with ":port" when not default
  std::string_view path;         // request target, starts with '/'
  std::string_view subprotocol;  // Sec-WebSocket-Protocol
  std::string_view user_agent;   // User-Agent
  std::string_view key;          // Sec-WebSocket-Key
};

/// Bytes write_ws_upgrade_request() needs for `request`.
size_t ws_upgrade_request_size(const WsUpgradeRequest& request);

/// Appends the GET request to `out`. invalid_argument when a field is empty
/// or would inject a header (CR, LF, NUL), or the path does not start with
/// '/'; out_of_memory when `out` lacks room. Nothing is written on failure.
Status write_ws_upgrade_request(const WsUpgradeRequest& request, ByteQueue& out);

struct WsUpgradeResponse {
  /// ok: a valid 101 for our key and subprotocol. would_block: the header
  /// block is not complete yet. Otherwise upgrade_unauthorized (detail:
  /// 401/403), upgrade_unavailable (detail: Retry-After seconds or -1),
  /// upgrade_status (detail: status) or upgrade_invalid.
  Status status;
  /// Length of the header block including the blank line; the bytes after
  /// it are already WebSocket frames. Set when the block was complete.
  size_t header_bytes = 0;
  /// The HTTP status, 0 when the status line could not be read.
  int http_status = 0;
  /// Retry-After as delta-seconds; -1 when absent or an HTTP-date.
  int32_t retry_after_s = -1;
};

/// Checks the server's answer at the start of `received`. Header names are
/// case-insensitive; obsolete line folding, bare CR or LF, a block longer
/// than `max_header_bytes`, a non-HTTP/1.1 status line, a missing or
/// repeated Accept, a wrong subprotocol or an unrequested extension are all
/// upgrade_invalid.
WsUpgradeResponse parse_ws_upgrade_response(std::span<const uint8_t> received, size_t max_header_bytes,
                                            std::string_view expected_accept, std::string_view subprotocol);

/// A client's upgrade request as the server reads it. The views point into
/// the bytes given to parse_ws_upgrade_request().
struct WsUpgradeRequestInfo {
  /// ok: a valid RFC 6455 opening handshake. would_block: the header block
  /// is not complete yet. upgrade_invalid, detail = the HTTP status to
  /// answer: 400 (malformed, missing Host/Upgrade/Connection, bad key), 405
  /// (not GET), 426 (Sec-WebSocket-Version not 13), 431 (header block over
  /// the limit).
  Status status;
  /// Length of the header block including the blank line. Set when complete.
  size_t header_bytes = 0;
  std::string_view path;        // request target
  std::string_view host;        // Host
  std::string_view key;         // Sec-WebSocket-Key (base64 of 16 bytes)
  std::string_view protocols;   // Sec-WebSocket-Protocol as sent (a list), or empty
  std::string_view user_agent;  // User-Agent, or empty
};

/// Reads the client's upgrade request at the start of `received` (RFC 6455
/// 4.2.1). Header names are case-insensitive; bare CR/LF, obs-fold and
/// repeated Host or Key fail it.
WsUpgradeRequestInfo parse_ws_upgrade_request(std::span<const uint8_t> received, size_t max_header_bytes);

/// True when the comma-separated header value `list` holds `token`
/// (case-insensitive, surrounding blanks ignored).
bool ws_header_list_contains(std::string_view list, std::string_view token);

}  // namespace sublink
