#include "net/tls/tls_server.h"

#include "mbedtls/ssl_internal.h"
#include "net/tls/cert_names.h"
#include "net/tls/pem_loading.h"
#include "net/tls/tls_suites.h"

namespace sublink {

namespace {
constexpr uint32_t kTicketLifetimeSeconds = 86400;
}

TlsServerConfig::TlsServerConfig() {
  mbedtls_ssl_config_init(&config_);
  mbedtls_x509_crt_init(&own_chain_);
  mbedtls_pk_init(&own_key_);
  mbedtls_x509_crt_init(&client_ca_);
  mbedtls_ssl_ticket_init(&tickets_);
  mbedtls_ssl_cache_init(&cache_);
}

TlsServerConfig::~TlsServerConfig() {
  mbedtls_ssl_cache_free(&cache_);
  mbedtls_ssl_ticket_free(&tickets_);
  mbedtls_x509_crt_free(&client_ca_);
  mbedtls_pk_free(&own_key_);
  mbedtls_x509_crt_free(&own_chain_);
  mbedtls_ssl_config_free(&config_);
}

Status TlsServerConfig::load(const TlsServerCredentials& credentials, Random& random) {
  if (loaded_) return Reason::invalid_argument;
  Status s = load_certificates(own_chain_, credentials.certificate_chain_pem);
  if (s.ok()) s = load_private_key(own_key_, credentials.private_key_pem, credentials.private_key_password);
  if (s.ok()) s = check_key_matches(own_chain_, own_key_);
  if (s.ok() && credentials.require_client_certificate) s = load_certificates(client_ca_, credentials.client_ca_pem);
  if (s.ok()) s = random_.seed(random);
  if (!s.ok()) return s;

  int rc = mbedtls_ssl_config_defaults(&config_, MBEDTLS_SSL_IS_SERVER, MBEDTLS_SSL_TRANSPORT_STREAM,
                                       MBEDTLS_SSL_PRESET_DEFAULT);
  if (rc != 0) return {Reason::invalid_argument, rc};
  mbedtls_ssl_conf_min_version(&config_, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
  mbedtls_ssl_conf_max_version(&config_, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
  mbedtls_ssl_conf_ciphersuites(&config_, kTlsCipherSuites);
  mbedtls_ssl_conf_curves(&config_, kTlsCurves);
  mbedtls_ssl_conf_rng(&config_, TlsRandom::generate, random_.context());
  rc = mbedtls_ssl_conf_own_cert(&config_, &own_chain_, &own_key_);
  if (rc != 0) return {Reason::invalid_argument, rc};
  if (credentials.require_client_certificate) {
    mbedtls_ssl_conf_authmode(&config_, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&config_, &client_ca_, nullptr);
  } else {
    mbedtls_ssl_conf_authmode(&config_, MBEDTLS_SSL_VERIFY_NONE);
  }
#if defined(MBEDTLS_SSL_RENEGOTIATION)
  mbedtls_ssl_conf_renegotiation(&config_, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
#endif
  if (credentials.session_tickets) {
    rc = mbedtls_ssl_ticket_setup(&tickets_, TlsRandom::generate, random_.context(), MBEDTLS_CIPHER_AES_256_GCM,
                                  kTicketLifetimeSeconds);
    if (rc != 0) return {Reason::invalid_argument, rc};
    tickets_on_ = true;
    mbedtls_ssl_conf_session_tickets_cb(&config_, mbedtls_ssl_ticket_write, mbedtls_ssl_ticket_parse, &tickets_);
  } else {
    mbedtls_ssl_conf_session_tickets(&config_, MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
  }
  if (credentials.session_cache) {
    mbedtls_ssl_conf_session_cache(&config_, &cache_, mbedtls_ssl_cache_get, mbedtls_ssl_cache_set);
  }
  loaded_ = true;
  return Status::Ok();
}

Status TlsServerConfig::forget_sessions() {
  if (!loaded_) return Reason::invalid_argument;
  // The configuration points at these two contexts: they are emptied in
  // place, never moved.
  mbedtls_ssl_cache_free(&cache_);
  mbedtls_ssl_cache_init(&cache_);
  if (!tickets_on_) return Status::Ok();
  mbedtls_ssl_ticket_free(&tickets_);
  mbedtls_ssl_ticket_init(&tickets_);
  const int rc = mbedtls_ssl_ticket_setup(&tickets_, TlsRandom::generate, random_.context(),
                                          MBEDTLS_CIPHER_AES_256_GCM, kTicketLifetimeSeconds);
  if (rc != 0) return {Reason::invalid_argument, rc};
  return Status::Ok();
}

TlsServerSession::TlsServerSession(TlsServerConfig& config, size_t ciphertext_in_capacity,
                                   size_t ciphertext_out_capacity)
    : TlsPipe(ciphertext_in_capacity, ciphertext_out_capacity), config_(config) {}

Status TlsServerSession::start() {
  if (!config_.loaded_) return Reason::invalid_argument;
  client_cn_size_ = 0;
  resumed_ = false;
  return begin(config_.config_);
}

void TlsServerSession::after_handshake_step() {
  if (ssl_.handshake != nullptr) resumed_ = ssl_.handshake->resume != 0;
}

void TlsServerSession::on_handshake_done() {
  // From the session, not the verify callback: a resumed session skips
  // verification but still carries the certificate verified the first time.
  if (const mbedtls_x509_crt* peer = mbedtls_ssl_get_peer_cert(&ssl_)) {
    client_cn_size_ = certificate_common_name(*peer, client_cn_).size();
  }
}

void TlsServerSession::on_handshake_failed(int error) {
  // Mbed TLS fails a client without a certificate silently; a careful server
  // tells the client why it hangs up (handshake_failure, as OpenSSL does).
  if (error == MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE) {
    mbedtls_ssl_send_alert_message(&ssl_, MBEDTLS_SSL_ALERT_LEVEL_FATAL, MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE);
  }
}

}  // namespace sublink
