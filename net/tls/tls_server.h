// The server side of the same TLS stack, for the project's reference server
// and for tests (Linux only: the device build has no MBEDTLS_SSL_SRV_C).
// Same suites and version rules as the client; it verifies the device
// certificate against the device CA and exposes its subject CN, which the
// server compares with the system_id the device claims.
#pragma once

#include <cstddef>
#include <string_view>

#include "hal/random.h"
#include "hal/status.h"
#include "mbedtls/pk.h"
#include "mbedtls/ssl.h"
#include "mbedtls/ssl_cache.h"
#include "mbedtls/ssl_ticket.h"
#include "mbedtls/x509_crt.h"
#include "net/tls/tls_pipe.h"
#include "net/tls/tls_random.h"

namespace sublink {

struct TlsServerCredentials {
  std::string_view certificate_chain_pem;  // server cert, then intermediates
  std::string_view private_key_pem;
  std::string_view private_key_password = {};
  std::string_view client_ca_pem;          // CA that issues device certificates
  bool require_client_certificate = true;  // false: no CertificateRequest at all
  bool session_tickets = true;             // RFC 5077 tickets
  bool session_cache = true;               // session-ID resumption
};

/// Long-lived server configuration shared by every TlsServerSession.
class TlsServerConfig {
 public:
  TlsServerConfig();
  ~TlsServerConfig();
  TlsServerConfig(const TlsServerConfig&) = delete;
  TlsServerConfig& operator=(const TlsServerConfig&) = delete;

  /// Parses the credentials and seeds the DRBG from `random` (which must
  /// outlive this object). invalid_argument (detail: Mbed TLS code) for bad
  /// PEM or a key that does not match the certificate. Call once.
  Status load(const TlsServerCredentials& credentials, Random& random);

  /// Forgets every session a client could resume, as a restarted process
  /// does: the session-ID cache is emptied and new ticket keys are made, so
  /// the next handshake of every client is a full one. Call it only while no
  /// session is in its handshake. invalid_argument before load(); Mbed TLS's
  /// code as detail when new ticket keys cannot be made.
  [[nodiscard]] Status forget_sessions();

 private:
  friend class TlsServerSession;
  bool loaded_ = false;
  bool tickets_on_ = false;
  TlsRandom random_;
  mbedtls_ssl_config config_;
  mbedtls_x509_crt own_chain_;
  mbedtls_pk_context own_key_;
  mbedtls_x509_crt client_ca_;
  mbedtls_ssl_ticket_context tickets_;
  mbedtls_ssl_cache_context cache_;
};

/// One accepted TLS connection, as a byte pipe (see TlsPipe).
class TlsServerSession : public TlsPipe {
 public:
  /// `config` must be loaded and outlive the session.
  explicit TlsServerSession(TlsServerConfig& config, size_t ciphertext_in_capacity = 4096,
                            size_t ciphertext_out_capacity = 4096);

  /// Begins a connection; feed it the client's bytes.
  Status start();

  /// Subject CN of the verified client certificate once the handshake is
  /// done (also on a resumed session); empty when the client sent none.
  std::string_view client_common_name() const { return {client_cn_, client_cn_size_}; }

  /// True when the completed handshake resumed a session.
  bool resumed() const { return resumed_; }

 protected:
  void after_handshake_step() override;
  void on_handshake_done() override;
  void on_handshake_failed(int error) override;

 private:
  TlsServerConfig& config_;
  char client_cn_[64] = {};
  size_t client_cn_size_ = 0;
  bool resumed_ = false;
};

}  // namespace sublink
