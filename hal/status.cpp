#include "hal/status.h"

namespace sublink {

namespace {
struct ReasonText {
  const char* name;
  const char* hint;
};

constexpr ReasonText kTexts[] = {
    {"ok", "no error"},
    {"invalid_argument", "invalid argument"},
    {"out_of_memory", "a fixed buffer or the TLS arena is full"},
    {"would_block", "waiting for more input"},
    {"io_error", "the platform reported an I/O error"},
    {"dns_failed", "the server name did not resolve: check the DNS servers and outbound DNS (UDP/TCP 53)"},
    {"connect_refused", "connection refused: nothing listens there or a firewall rejects the port"},
    {"connect_unreachable", "network unreachable: check the default route and the gateway"},
    {"connect_timeout", "no answer to the TCP connection: a firewall drops outbound traffic to this port"},
    {"connection_reset", "the connection was reset by the peer or a middlebox"},
    {"connection_closed", "the peer closed the TCP connection without a WebSocket close"},
    {"proxy_auth_required", "proxy authentication required (407): check the proxy user and password"},
    {"proxy_status", "the proxy refused the CONNECT request"},
    {"proxy_bad_response", "the proxy did not answer with HTTP"},
    {"tls_version", "the server does not speak TLS 1.2"},
    {"tls_alert", "the server ended the TLS handshake with an alert: is the device certificate accepted?"},
    {"tls_handshake", "the TLS handshake failed"},
    {"cert_expired", "the server certificate has expired (or the device clock is wrong)"},
    {"cert_not_yet_valid", "the server certificate is not valid yet (or the device clock is wrong)"},
    {"cert_unknown_ca", "the server certificate is not from the configured CA: TLS inspection by a middlebox?"},
    {"cert_name_mismatch", "the server certificate does not name the configured server"},
    {"cert_invalid", "the server certificate is not usable"},
    {"upgrade_unauthorized", "the server refused the device (401/403): device not authorized"},
    {"upgrade_unavailable", "the server is unavailable (503): retry later"},
    {"upgrade_status", "the server refused the WebSocket upgrade"},
    {"upgrade_invalid", "the WebSocket upgrade answer is invalid (Accept key, subprotocol or headers)"},
    {"protocol_violation", "the peer broke the WebSocket or sublink/1 protocol"},
    {"message_too_big", "a message exceeded max_message_bytes"},
    {"invalid_payload", "a message was not valid UTF-8 or JSON"},
    {"closed_by_peer", "the server closed the link"},
    // The hints of the storage reasons are also their words in logs and in
    // status.get's `storage` (storage_failure_text).
    {"storage_not_found", "nothing stored"},
    {"storage_corrupt", "no intact copy"},
    {"storage_too_big", "record too large"},
    {"storage_no_space", "no room on the medium"},
    {"storage_bad_record_id", "no such record"},
};
static_assert(sizeof(kTexts) / sizeof(kTexts[0]) == static_cast<unsigned>(kLastReason) + 1,
              "every Reason needs a name and a hint");
}  // namespace

const char* reason_name(Reason r) {
  auto i = static_cast<unsigned>(r);
  return i < sizeof(kTexts) / sizeof(kTexts[0]) ? kTexts[i].name : "unknown";
}

const char* reason_hint(Reason r) {
  auto i = static_cast<unsigned>(r);
  return i < sizeof(kTexts) / sizeof(kTexts[0]) ? kTexts[i].hint : "unknown";
}

}  // namespace sublink
