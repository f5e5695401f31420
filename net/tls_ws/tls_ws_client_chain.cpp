#include "net/tls_ws/tls_ws_client_chain.h"

#include <cstdio>

namespace sublink {

namespace {

// Ciphertext queue sizes: one 4 KiB record each way (the device asks for
// 4 KiB records, max_fragment_length).
constexpr size_t kTlsQueueBytes = 4096;

}  // namespace

TlsWsClientChain::TlsWsClientChain(TlsClientConfig& tls, const TlsWsClientChainConfig& config, Random& random,
                                   TlsWsClientChainHandler& handler)
    : TlsWsChain(tls_session_),
      tls_session_(tls, kTlsQueueBytes, kTlsQueueBytes),
      config_(config),
      random_(random),
      handler_(handler) {}

void TlsWsClientChain::start(uint16_t port) {
  port_ = port;
  const Status s = tls_session_.start(config_.server);
  if (!s.ok()) {
    end(s, End::tls_failure);
    return;
  }
  step();
}

void TlsWsClientChain::on_tls_established() {
  handler_.on_tls_established();
  if (ended()) return;
  // The Host value (RFC 7230 5.4): the server name TLS started with (at
  // most kMaxServerName), an IPv6 literal in brackets, and ":port" unless
  // the port is 443. WsClient reads it only while it is built and started.
  char host[TlsClientConfig::kMaxServerName + sizeof("[]:65535")];
  const std::string_view server = config_.server;
  const bool v6 = server.find(':') != std::string_view::npos;
  const char* format = port_ == 443 ? (v6 ? "[%.*s]" : "%.*s") : (v6 ? "[%.*s]:%u" : "%.*s:%u");
  snprintf(host, sizeof host, format, static_cast<int>(server.size()), server.data(), port_);
  WsClientConfig wc;
  wc.host = host;
  wc.path = config_.path;
  wc.user_agent = config_.user_agent;
  wc.max_message_bytes = config_.max_message_bytes;
  wc.max_binary_message_bytes = config_.max_binary_message_bytes;
  wc.max_send_message_bytes = config_.max_send_message_bytes;
  ws_client_.emplace(wc, random_);
  attach(*ws_client_);
  const Status s = ws_client_->start();
  if (!s.ok()) end(s, End::upgrade_request);
}

void TlsWsClientChain::on_event(WsEvent& event) {
  if (event.type == WsEventType::open) mark_opened();
  handler_.on_event(event);
}

}  // namespace sublink
