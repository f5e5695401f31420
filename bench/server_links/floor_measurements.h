// The floors the benchmark's figures are compared with, measured in the
// same run on the same machine: how fast this machine makes the ECDSA P-256
// signature every server handshake needs, and how much memory an idle
// server-side TLS session holds in Mbed TLS alone (no WebSocket, no
// sublink session, no socket).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "hal/clock.h"
#include "hal/random.h"
#include "hal/status.h"
#include "mbedtls/pk.h"
#include "net/tls/tls_random.h"

namespace sublink {

struct SignRate {
  uint64_t signatures = 0;
  double per_cpu_second = 0;   // signatures per second of this process's CPU time
  double per_wall_second = 0;  // signatures per second of wall time
};

/// Signs SHA-256 digests with the EC P-256 `key` for about `cpu_budget_ms`
/// of CPU time. invalid_argument (detail: Mbed TLS code) when signing fails.
Result<SignRate> measure_ecdsa_sign_rate(mbedtls_pk_context& key, TlsRandom& random, Millis cpu_budget_ms);

/// The PEM texts of a server and a device of the same CA.
struct FloorCredentials {
  std::string_view ca_pem;
  std::string_view server_cert_pem;
  std::string_view server_key_pem;
  std::string_view device_cert_pem;
  std::string_view device_key_pem;
};

struct TlsSessionFloor {
  size_t sessions = 0;             // idle sessions measured
  size_t heap_bytes = 0;           // Mbed TLS allocations held per session
  size_t context_bytes = 0;        // the mbedtls_ssl_context itself
  size_t record_buffer_bytes = 0;  // of heap_bytes: the input and output record buffers
  /// CPU time of the server's side of one full mutually authenticated
  /// handshake in Mbed TLS alone (verifying the device's chain and its
  /// CertificateVerify, signing the key exchange, ECDHE): the cryptographic
  /// floor of a server link before sublink's own work.
  double server_handshake_cpu_s = 0;
  size_t bytes_per_session() const { return heap_bytes + context_bytes; }
};

/// Completes `sessions` TLS 1.2 handshakes in memory between the project's
/// TLS server (no session cache, no tickets: nothing kept per handshake
/// outside the session) and client, frees the clients, and counts what the
/// idle server sessions hold, with every Mbed TLS allocation in a TlsArena,
/// and the CPU time the server's side of a handshake takes.
/// tls_handshake (detail: Mbed TLS code) when a handshake fails.
Result<TlsSessionFloor> measure_idle_tls_session(const FloorCredentials& credentials, Random& random,
                                                 size_t sessions);

}  // namespace sublink
