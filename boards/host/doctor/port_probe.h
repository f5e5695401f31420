// Checks 4-7 of `sublinkctl doctor` for one server port: the agent's own
// byte path (net/link: TCP, proxy CONNECT, TLS 1.2 with the device
// certificate, WebSocket upgrade) driven over real sockets for that port
// alone, then hello/welcome, heartbeat round trips and a burst of
// WebSocket pings for throughput. Records what happened; port_verdicts.h
// judges it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "firmware/config/device_config.h"
#include "hal/status.h"
#include "net/address/ip_address.h"
#include "net/link/link.h"
#include "net/tls/tls_client.h"

namespace sublink {

/// One connection attempt (one address) and how far it got.
struct AttemptRecord {
  AttemptId id = 0;
  IpAddress address;  // the server's, or the proxy's with a proxy
  bool tcp = false;
  bool tunnel = false;
  bool tls = false;
  bool upgraded = false;
  Status failure;  // ok when it became the link
  std::string text;
  /// The distinguished names of the certificate the server side presented
  /// when verifying it failed (empty when unknown): who intercepts TLS.
  std::string presented_subject;
  std::string presented_issuer;
};

enum class HelloOutcome : uint8_t {
  not_tried,  // the link did not come up
  welcomed,
  refused,    // `error` (code, message)
  no_answer,  // nothing within the answer timeout
  closed,     // the link went down before an answer
};

struct PortProbe {
  uint16_t port = 0;
  bool via_proxy = false;
  /// The name TCP goes to (the server, or the proxy) and how it resolved.
  Status resolve_status;
  std::vector<AttemptRecord> attempts;
  bool up = false;
  IpAddress up_address;

  HelloOutcome hello = HelloOutcome::not_tried;
  std::string refusal_code;
  std::string refusal_message;
  Status down_why;            // when the link went down early (closed)
  int64_t heartbeat_s = 0;    // from welcome
  int64_t server_offset_ms = 0;  // server clock minus ours, at welcome

  /// Heartbeat -> heartbeat_ack round trips, microseconds.
  std::vector<int64_t> rtt_us;
  /// Pong payload bytes that came back, and the time from the first pong to
  /// the last: the rate the link carried them at.
  int64_t pong_bytes = 0;
  int64_t pong_span_us = 0;
  int64_t ping_bytes_sent = 0;

  /// The attempt that got furthest (the link's when it came up), or null.
  const AttemptRecord* furthest() const;
};

struct ProbeSettings {
  int heartbeats = 5;
  /// Ping payload sent for the throughput measurement.
  int64_t throughput_bytes = 32000;
  Millis throughput_limit_ms = 8000;
  /// How long hello and each heartbeat may wait for their answer.
  Millis answer_timeout_ms = 10000;
  /// What hello says about the agent (see the hello message).
  std::string agent_version;
  std::string firmware;
  std::string state = "unlicensed";
  std::string license_serial;  // empty: none held
  int64_t grace_elapsed_s = 0;
  bool clock_trusted = false;
};

/// Runs the whole probe on `port` with `tls` (loaded). Takes up to
/// connect_timeout_s per resolved address to fail, plus the answer and
/// throughput limits when the link comes up.
PortProbe probe_port(const DeviceConfig& config, TlsClientConfig& tls, uint16_t port,
                     const ProbeSettings& settings);

}  // namespace sublink
