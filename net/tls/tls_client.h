// The device side of PROTOCOL.md section 2: TLS 1.2 exactly, mutual
// authentication with the device certificate, the server verified against
// the configured trust anchors (never the system store) and its name (DNS
// name with SNI, or IP literal against iPAddress SANs without SNI), ECDHE +
// AEAD suites only, no renegotiation, session resumption on reconnect.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "hal/random.h"
#include "hal/status.h"
#include "mbedtls/pk.h"
#include "mbedtls/ssl.h"
#include "mbedtls/x509_crt.h"
#include "net/address/ip_address.h"
#include "net/tls/tls_pipe.h"
#include "net/tls/tls_random.h"

namespace sublink {

/// The PEM texts a client is built from (the contents of ca_file, cert_file
/// and key_file). They are parsed by TlsClientConfig::load and not kept.
/// Certificate and key may both be empty for a client without a certificate
/// (tools and tests: a sublink server refuses it).
struct TlsClientCredentials {
  std::string_view trust_anchors_pem;      // ca_file: the only CAs trusted
  std::string_view certificate_chain_pem;  // cert_file: device cert, then intermediates
  std::string_view private_key_pem;        // key_file
  std::string_view private_key_password = {};
  /// Max fragment length to request (RFC 6066): 0 for none, or 512, 1024,
  /// 2048, 4096. A device built with 4 KiB records asks for 4096.
  uint16_t max_fragment_length = 0;
};

/// The distinguished names of the certificate a server presented, as
/// "C=.., O=.., CN=.." (Mbed TLS's one-line form).
struct PeerCertificateNames {
  std::string_view subject;
  std::string_view issuer;
};

/// A copy of the names of a presented end-entity certificate, taken while
/// it is verified: mbedtls_ssl_get_peer_cert answers only once a handshake
/// completed, never after a failed verification (the case that needs the
/// names). Holds
/// nothing when built without MBEDTLS_SSL_KEEP_PEER_CERTIFICATE (the device
/// build spends no RAM on certificates it has verified).
class PeerCertificateCopy {
 public:
  /// Copies the subject and issuer of `cert`.
  void copy(const mbedtls_x509_crt& cert);
  void clear();
  /// The names copied last; nullopt when none were, or when not kept.
  std::optional<PeerCertificateNames> names() const;

 private:
#if defined(MBEDTLS_SSL_KEEP_PEER_CERTIFICATE)
  static constexpr size_t kMaxDistinguishedName = 256;
  char subject_[kMaxDistinguishedName] = {};
  char issuer_[kMaxDistinguishedName] = {};
  size_t subject_size_ = 0;
  size_t issuer_size_ = 0;
  bool copied_ = false;
#endif
};

/// Long-lived client configuration: parsed credentials, the DRBG and the
/// sessions kept for resumption. Sessions (TlsSession) borrow it.
class TlsClientConfig {
 public:
  TlsClientConfig();
  ~TlsClientConfig();
  TlsClientConfig(const TlsClientConfig&) = delete;
  TlsClientConfig& operator=(const TlsClientConfig&) = delete;

  /// Parses the credentials and seeds the DRBG from `random` (which must
  /// outlive this object). invalid_argument (detail: Mbed TLS code) for
  /// unparsable PEM, a key that does not match the certificate or an
  /// unsupported max_fragment_length. Call once.
  Status load(const TlsClientCredentials& credentials, Random& random);

  /// The subject CN of the device certificate (the system_id it was issued
  /// for); empty before load().
  std::string_view device_common_name() const { return {device_cn_, device_cn_size_}; }

  /// Forgets every kept session (for example after the credentials rotate).
  void forget_sessions();

  /// How many servers have a session kept for resumption.
  size_t kept_sessions() const;

  /// The names of the certificate shown to the session on this
  /// configuration that started last, as TlsSession::peer_certificate_names()
  /// (cleared when a session starts). For callers that run one connection
  /// at a time and do not hold the session (the doctor's probe: a Link owns
  /// it).
  std::optional<PeerCertificateNames> last_peer_certificate_names() const { return last_peer_.names(); }

  /// Longest server name a session starts with (a DNS name, RFC 1035).
  static constexpr size_t kMaxServerName = 253;

 private:
  friend class TlsSession;
  static constexpr size_t kSessionSlots = 2;
  struct KeptSession {
    mbedtls_ssl_session session;
    char server[kMaxServerName + 1];
    size_t server_size = 0;
    bool valid = false;
    uint32_t last_use = 0;
  };
  const mbedtls_ssl_session* session_for(std::string_view server);
  void keep_session(std::string_view server, const mbedtls_ssl_context& ssl);
  void drop_session(std::string_view server);

  bool loaded_ = false;
  TlsRandom random_;
  mbedtls_ssl_config config_;
  mbedtls_x509_crt trust_anchors_;
  mbedtls_x509_crt own_chain_;
  mbedtls_pk_context own_key_;
  char device_cn_[64] = {};
  size_t device_cn_size_ = 0;
  KeptSession sessions_[kSessionSlots];
  uint32_t use_counter_ = 0;
  PeerCertificateCopy last_peer_;
};

/// One TLS connection of the client, as a byte pipe (see TlsPipe). Reusable:
/// start() begins a new connection and drops the previous one.
class TlsSession : public TlsPipe {
 public:
  /// `config` must be loaded and outlive the session. Queue sizes as TlsPipe.
  explicit TlsSession(TlsClientConfig& config, size_t ciphertext_in_capacity = 2048,
                      size_t ciphertext_out_capacity = 2048);

  /// Begins a connection to `server` (a DNS name or an IP literal, as
  /// configured) and queues the ClientHello in output(). Offers the session
  /// kept for `server` from an earlier connection, if any.
  Status start(std::string_view server);

  /// True when the completed handshake resumed a kept session.
  bool resumed() const { return resumed_; }

  /// The names of the end-entity certificate the server presented in this
  /// connection, also when verifying it failed (what names a TLS inspecting
  /// middlebox). nullopt before the server's certificate arrived, after a
  /// resumed handshake (no certificate is shown), and always when built
  /// without MBEDTLS_SSL_KEEP_PEER_CERTIFICATE. Cleared by start().
  std::optional<PeerCertificateNames> peer_certificate_names() const { return peer_.names(); }

 protected:
  void after_handshake_step() override;
  void on_handshake_done() override;
  void on_handshake_failed(int error) override;
  void check_peer_certificate(mbedtls_x509_crt& cert, int depth, uint32_t& flags) override;

 private:
  TlsClientConfig& config_;
  char server_[TlsClientConfig::kMaxServerName + 1] = {};
  size_t server_size_ = 0;
  std::optional<IpAddress> ip_;
  bool resumed_ = false;
  bool offered_session_ = false;
  PeerCertificateCopy peer_;
};

}  // namespace sublink
