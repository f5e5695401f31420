// One simulated device's link, as the load client drives it: a non-blocking
// TCP socket, Mbed TLS on that socket (TLS 1.2, the device certificate, the
// server verified against the fleet's CA), the project's WebSocket client,
// and the device side of sublink/1 that a fleet at rest needs: hello and a
// license request on open, then heartbeats. Everything else the server may
// send is read and ignored. Driven by the load client's epoll loop; never
// blocks.
#pragma once

#include <netinet/in.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "hal/clock.h"
#include "hal/random.h"
#include "hal/status.h"
#include "mbedtls/pk.h"
#include "mbedtls/ssl.h"
#include "mbedtls/x509_crt.h"
#include "net/tls/tls_random.h"
#include "net/websocket/ws_client.h"

namespace sublink {

/// What every link of the fleet shares; must outlive the links.
struct FleetSetup {
  sockaddr_in server{};              // where every link connects
  mbedtls_x509_crt* trust_anchors;   // the CA the server certificate must chain to
  mbedtls_pk_context* device_key;    // the key of every device certificate
  TlsRandom* tls_random;             // TLS randomness
  Random* random;                    // WebSocket keys and masks
  WsClientConfig ws;                 // its strings must outlive the links
  std::string customer_id;
  std::string feature;               // requested in license_request
  uint32_t quantity = 1;
};

enum class LinkStage : uint8_t {
  idle,        // prepared, not started
  connecting,  // TCP connect under way
  tls,         // TLS handshake under way
  upgrading,   // WebSocket upgrade under way
  greeting,    // hello and license_request sent; waiting for welcome and the grant
  up,          // welcomed and licensed: heartbeats from now on
  failed,      // over; failure() says why
};

class DeviceLink {
 public:
  DeviceLink(const FleetSetup& fleet, std::string system_id);
  ~DeviceLink();
  DeviceLink(const DeviceLink&) = delete;
  DeviceLink& operator=(const DeviceLink&) = delete;

  /// Parses the device certificate and sets up this device's TLS
  /// configuration. invalid_argument (detail: Mbed TLS code).
  Status prepare(std::span<const uint8_t> certificate_der);

  /// Opens the socket and starts connecting; on failure the link is failed.
  void start(Millis now);
  /// The socket is ready (epoll events): moves the link on as far as the
  /// bytes allow.
  void on_ready(uint32_t events, Millis now);
  /// Sends the next heartbeat on an up link.
  void send_heartbeat(Millis now);
  /// Ends the link now with `why` (kept unless it already failed) and
  /// frees its socket and TLS memory.
  void fail(std::string why);

  int fd() const { return fd_; }
  /// True while the link waits for the socket to take bytes (EPOLLOUT).
  bool wants_write() const { return want_write_; }
  LinkStage stage() const { return stage_; }
  const std::string& system_id() const { return system_id_; }
  /// Why the link failed ("tls: X509 - Certificate verification failed", ...).
  const std::string& failure() const { return failure_; }
  /// When start() ran and when the link came up (monotonic ms).
  Millis started_at() const { return started_at_; }
  Millis up_at() const { return up_at_; }
  /// The server's heartbeat_s from welcome, in ms.
  Millis heartbeat_interval_ms() const { return heartbeat_interval_ms_; }
  uint64_t heartbeats_sent() const { return heartbeats_sent_; }
  uint64_t heartbeats_answered() const { return heartbeats_answered_; }

 private:
  static int send_to_socket(void* self, const unsigned char* data, size_t size);
  static int receive_from_socket(void* self, unsigned char* data, size_t size);

  void begin_tls();
  /// Runs the handshake, then reads and writes whatever can move.
  void advance(Millis now);
  void read_all(Millis now);
  void handle_ws_events(Millis now);
  void on_message(std::string_view text, Millis now);
  void send(std::string_view text);
  /// Encrypts the WebSocket's output onto the socket as far as it takes it.
  void flush();
  void fail_tls(std::string_view where, int code);

  const FleetSetup& fleet_;
  std::string system_id_;
  int fd_ = -1;
  LinkStage stage_ = LinkStage::idle;
  bool want_write_ = false;
  std::string failure_;

  mbedtls_x509_crt certificate_;
  mbedtls_ssl_config tls_config_;
  mbedtls_ssl_context tls_;
  bool tls_ready_ = false;
  std::unique_ptr<WsClient> ws_;

  bool welcomed_ = false;
  bool licensed_ = false;
  int64_t next_id_ = 1;
  Millis started_at_ = 0;
  Millis up_at_ = 0;
  Millis heartbeat_interval_ms_ = 0;
  uint64_t heartbeats_sent_ = 0;
  uint64_t heartbeats_answered_ = 0;
};

/// "idle", "connecting", ... as reports name the stages.
const char* link_stage_name(LinkStage stage);

}  // namespace sublink
