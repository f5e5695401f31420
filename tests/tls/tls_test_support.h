// Shared pieces of the TLS tests: the generated PKI, clocks, a deterministic
// Random, client/server configurations and an in-memory pump.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>
#include <span>
#include <string>

#include "hal/clock.h"
#include "hal/random.h"
#include "net/tls/tls_client.h"
#include "net/tls/tls_server.h"

namespace sublink::test {

/// Directory of the PKI made by tests/pki/make_pki.sh for this test run.
const std::string& pki_dir();
/// Contents of a PKI file ("ca.crt", "device.key", ...).
std::string pki(const std::string& name);

class SystemWallClock : public WallClock {
 public:
  WallTime now() override {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::now().time_since_epoch());
    return {ms.count(), true, true};
  }
};

class FixedWallClock : public WallClock {
 public:
  explicit FixedWallClock(Millis utc_ms) : utc_ms_(utc_ms) {}
  WallTime now() override { return {utc_ms_, utc_ms_ > 0, utc_ms_ > 0}; }

 private:
  Millis utc_ms_;
};

/// Deterministic bytes: these tests check behaviour, not entropy.
class SeededRandom : public Random {
 public:
  explicit SeededRandom(uint64_t seed = 42) : engine_(seed) {}
  Status fill(std::span<uint8_t> out) override {
    for (auto& b : out) b = static_cast<uint8_t>(engine_());
    return Status::Ok();
  }

 private:
  std::mt19937_64 engine_;
};

/// Client credentials from PKI files; empty names give no client certificate.
struct ClientFiles {
  std::string ca = "ca.crt";
  std::string cert = "device.crt";
  std::string key = "device.key";
  uint16_t max_fragment_length = 0;
};
Status load_client(TlsClientConfig& config, Random& random, const ClientFiles& files = {});

struct ServerFiles {
  std::string cert = "server.crt";
  std::string key = "server.key";
  std::string client_ca = "ca.crt";
  bool require_client_certificate = true;
  bool session_tickets = true;
  bool session_cache = true;
};
Status load_server(TlsServerConfig& config, Random& random, const ServerFiles& files = {});

/// Moves ciphertext both ways until both handshakes are done, one fails, or
/// nothing moves any more. Returns the client's handshake status.
Status pump_handshake(TlsSession& client, TlsServerSession& server);

/// Moves pending ciphertext from `from` to `to` once.
void transfer(TlsPipe& from, TlsPipe& to);

/// Installs the system clock for the test binary's lifetime of each test.
class SystemClockScope {
 public:
  SystemClockScope();
  ~SystemClockScope();

 private:
  SystemWallClock clock_;
  WallClock* previous_;
};

}  // namespace sublink::test
