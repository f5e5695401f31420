#include "bench/server_links/floor_measurements.h"

#include <time.h>

#include <memory>
#include <vector>

#include "mbedtls/ssl.h"
#include "mbedtls/ssl_internal.h"
#include "net/tls/tls_arena.h"
#include "net/tls/tls_client.h"
#include "net/tls/tls_server.h"

namespace sublink {

namespace {

double clock_seconds(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Room for the floor's Mbed TLS objects: the configurations and the idle
// sessions (about 40 KiB each) plus one handshake at a time.
constexpr size_t kArenaBytesPerSession = 64 * 1024;
constexpr size_t kArenaBaseBytes = 4 * 1024 * 1024;
// A handshake is a handful of flights; more rounds than this means stuck.
constexpr int kMaxHandshakeRounds = 64;

// Moves what `from` has for the wire into `to`, as far as `to` takes it.
void carry(TlsPipe& from, TlsPipe& to) {
  const std::span<const uint8_t> bytes = from.output();
  if (!bytes.empty()) from.consume_output(to.feed(bytes));
}

// `server_cpu_s` grows by the CPU time the server's side took.
Status handshake_in_memory(TlsSession& client, TlsServerSession& server, double& server_cpu_s) {
  for (int round = 0; round < kMaxHandshakeRounds; ++round) {
    const Status c = client.handshake();
    carry(client, server);
    const double before = clock_seconds(CLOCK_THREAD_CPUTIME_ID);
    const Status s = server.handshake();
    server_cpu_s += clock_seconds(CLOCK_THREAD_CPUTIME_ID) - before;
    carry(server, client);
    if (!c.ok() && c.reason() != Reason::would_block) return c;
    if (!s.ok() && s.reason() != Reason::would_block) return s;
    if (c.ok() && s.ok()) return Status::Ok();
  }
  return Status(Reason::tls_handshake);
}

}  // namespace

Result<SignRate> measure_ecdsa_sign_rate(mbedtls_pk_context& key, TlsRandom& random, Millis cpu_budget_ms) {
  unsigned char digest[32] = {1, 2, 3};
  unsigned char signature[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
  SignRate rate;
  const double cpu_start = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
  const double wall_start = clock_seconds(CLOCK_MONOTONIC);
  const double cpu_end = cpu_start + static_cast<double>(cpu_budget_ms) / 1000;
  double cpu_now = cpu_start;
  while (cpu_now < cpu_end) {
    size_t size = 0;
    const int rc = mbedtls_pk_sign(&key, MBEDTLS_MD_SHA256, digest, sizeof(digest), signature, &size,
                                   TlsRandom::generate, random.context());
    if (rc != 0) return Status(Reason::invalid_argument, rc);
    ++digest[0];
    ++rate.signatures;
    cpu_now = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
  }
  rate.per_cpu_second = static_cast<double>(rate.signatures) / (cpu_now - cpu_start);
  rate.per_wall_second = static_cast<double>(rate.signatures) / (clock_seconds(CLOCK_MONOTONIC) - wall_start);
  return rate;
}

Result<TlsSessionFloor> measure_idle_tls_session(const FloorCredentials& credentials, Random& random,
                                                 size_t sessions) {
  std::vector<uint8_t> memory(kArenaBaseBytes + sessions * kArenaBytesPerSession);
  TlsArena arena(memory);
  TlsSessionFloor floor;
  floor.sessions = sessions;
  floor.context_bytes = sizeof(mbedtls_ssl_context);
  floor.record_buffer_bytes = MBEDTLS_SSL_IN_BUFFER_LEN + MBEDTLS_SSL_OUT_BUFFER_LEN;
  // Every Mbed TLS object below lives inside this scope: all of it is freed
  // before the arena goes.
  Status failure;
  {
    TlsServerConfig server_config;
    TlsClientConfig client_config;
    TlsServerCredentials server_credentials{credentials.server_cert_pem, credentials.server_key_pem, {},
                                            credentials.ca_pem};
    server_credentials.session_cache = false;
    server_credentials.session_tickets = false;
    failure = server_config.load(server_credentials, random);
    if (failure.ok()) {
      failure = client_config.load(
          {credentials.ca_pem, credentials.device_cert_pem, credentials.device_key_pem}, random);
    }
    std::vector<std::unique_ptr<TlsServerSession>> idle;
    double server_cpu_s = 0;
    const size_t before = TlsArena::current_bytes();
    for (size_t i = 0; i < sessions && failure.ok(); ++i) {
      auto server = std::make_unique<TlsServerSession>(server_config);
      {
        TlsSession client(client_config);
        failure = client.start("127.0.0.1");
        if (failure.ok()) failure = server->start();
        if (failure.ok()) failure = handshake_in_memory(client, *server, server_cpu_s);
      }
      // The client keeps its session for resumption: forgotten, so every
      // handshake is a full one and the client side holds nothing.
      client_config.forget_sessions();
      idle.push_back(std::move(server));
    }
    if (failure.ok()) {
      floor.heap_bytes = (TlsArena::current_bytes() - before) / sessions;
      floor.server_handshake_cpu_s = server_cpu_s / static_cast<double>(sessions);
    }
  }
  if (!failure.ok()) return failure;
  return floor;
}

}  // namespace sublink
