#include "net/tls/tls_client.h"

#include <cstring>

#include "mbedtls/ssl_internal.h"
#include "net/tls/cert_names.h"
#include "net/tls/pem_loading.h"
#include "net/tls/tls_suites.h"
#include "net/tls/tls_time.h"

namespace sublink {

namespace {

bool max_fragment_code(uint16_t length, unsigned char& code) {
  switch (length) {
    case 0: code = MBEDTLS_SSL_MAX_FRAG_LEN_NONE; return true;
    case 512: code = MBEDTLS_SSL_MAX_FRAG_LEN_512; return true;
    case 1024: code = MBEDTLS_SSL_MAX_FRAG_LEN_1024; return true;
    case 2048: code = MBEDTLS_SSL_MAX_FRAG_LEN_2048; return true;
    case 4096: code = MBEDTLS_SSL_MAX_FRAG_LEN_4096; return true;
    default: return false;
  }
}

}  // namespace

#if defined(MBEDTLS_SSL_KEEP_PEER_CERTIFICATE)
void PeerCertificateCopy::copy(const mbedtls_x509_crt& cert) {
  subject_size_ = distinguished_name_text(cert.subject, subject_).size();
  issuer_size_ = distinguished_name_text(cert.issuer, issuer_).size();
  copied_ = true;
}

void PeerCertificateCopy::clear() { copied_ = false; }

std::optional<PeerCertificateNames> PeerCertificateCopy::names() const {
  if (!copied_) return std::nullopt;
  return PeerCertificateNames{{subject_, subject_size_}, {issuer_, issuer_size_}};
}
#else
void PeerCertificateCopy::copy(const mbedtls_x509_crt&) {}
void PeerCertificateCopy::clear() {}
std::optional<PeerCertificateNames> PeerCertificateCopy::names() const { return std::nullopt; }
#endif

TlsClientConfig::TlsClientConfig() {
  mbedtls_ssl_config_init(&config_);
  mbedtls_x509_crt_init(&trust_anchors_);
  mbedtls_x509_crt_init(&own_chain_);
  mbedtls_pk_init(&own_key_);
  for (KeptSession& kept : sessions_) mbedtls_ssl_session_init(&kept.session);
}

TlsClientConfig::~TlsClientConfig() {
  for (KeptSession& kept : sessions_) mbedtls_ssl_session_free(&kept.session);
  mbedtls_pk_free(&own_key_);
  mbedtls_x509_crt_free(&own_chain_);
  mbedtls_x509_crt_free(&trust_anchors_);
  mbedtls_ssl_config_free(&config_);
}

Status TlsClientConfig::load(const TlsClientCredentials& credentials, Random& random) {
  if (loaded_) return Reason::invalid_argument;
  unsigned char mfl = 0;
  if (!max_fragment_code(credentials.max_fragment_length, mfl)) {
    return {Reason::invalid_argument, credentials.max_fragment_length};
  }
  const bool has_certificate =
      !credentials.certificate_chain_pem.empty() || !credentials.private_key_pem.empty();
  Status s = load_certificates(trust_anchors_, credentials.trust_anchors_pem);
  if (s.ok() && has_certificate) {
    s = load_certificates(own_chain_, credentials.certificate_chain_pem);
    if (s.ok()) s = load_private_key(own_key_, credentials.private_key_pem, credentials.private_key_password);
    if (s.ok()) s = check_key_matches(own_chain_, own_key_);
  }
  if (s.ok()) s = random_.seed(random);
  if (!s.ok()) return s;
  if (has_certificate) device_cn_size_ = certificate_common_name(own_chain_, device_cn_).size();

  int rc = mbedtls_ssl_config_defaults(&config_, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                       MBEDTLS_SSL_PRESET_DEFAULT);
  if (rc != 0) return {Reason::invalid_argument, rc};
  // TLS 1.2 exactly: the ClientHello says 1.2 and nothing older is accepted.
  mbedtls_ssl_conf_min_version(&config_, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
  mbedtls_ssl_conf_max_version(&config_, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
  mbedtls_ssl_conf_ciphersuites(&config_, kTlsCipherSuites);
  mbedtls_ssl_conf_curves(&config_, kTlsCurves);
  mbedtls_ssl_conf_authmode(&config_, MBEDTLS_SSL_VERIFY_REQUIRED);
  mbedtls_ssl_conf_ca_chain(&config_, &trust_anchors_, nullptr);
  if (has_certificate) {
    rc = mbedtls_ssl_conf_own_cert(&config_, &own_chain_, &own_key_);
    if (rc != 0) return {Reason::invalid_argument, rc};
  }
  mbedtls_ssl_conf_rng(&config_, TlsRandom::generate, random_.context());
  mbedtls_ssl_conf_session_tickets(&config_, MBEDTLS_SSL_SESSION_TICKETS_ENABLED);
#if defined(MBEDTLS_SSL_RENEGOTIATION)
  mbedtls_ssl_conf_renegotiation(&config_, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
#endif
  rc = mbedtls_ssl_conf_max_frag_len(&config_, mfl);
  if (rc != 0) return {Reason::invalid_argument, rc};
  loaded_ = true;
  return Status::Ok();
}

const mbedtls_ssl_session* TlsClientConfig::session_for(std::string_view server) {
  for (KeptSession& kept : sessions_) {
    if (kept.valid && std::string_view(kept.server, kept.server_size) == server) {
      kept.last_use = ++use_counter_;
      return &kept.session;
    }
  }
  return nullptr;
}

void TlsClientConfig::keep_session(std::string_view server, const mbedtls_ssl_context& ssl) {
  if (server.size() > kMaxServerName) return;
  // The slot of this server, else a free one, else the least recently used.
  KeptSession* slot = nullptr;
  for (KeptSession& kept : sessions_) {
    if (kept.valid && std::string_view(kept.server, kept.server_size) == server) slot = &kept;
  }
  for (KeptSession& kept : sessions_) {
    if (slot == nullptr && !kept.valid) slot = &kept;
  }
  if (slot == nullptr) {
    slot = &sessions_[0];
    for (KeptSession& kept : sessions_) {
      if (kept.last_use < slot->last_use) slot = &kept;
    }
  }
  mbedtls_ssl_session_free(&slot->session);
  mbedtls_ssl_session_init(&slot->session);
  slot->valid = mbedtls_ssl_get_session(&ssl, &slot->session) == 0;
  std::memcpy(slot->server, server.data(), server.size());
  slot->server_size = server.size();
  slot->last_use = ++use_counter_;
}

void TlsClientConfig::drop_session(std::string_view server) {
  for (KeptSession& kept : sessions_) {
    if (kept.valid && std::string_view(kept.server, kept.server_size) == server) {
      mbedtls_ssl_session_free(&kept.session);
      mbedtls_ssl_session_init(&kept.session);
      kept.valid = false;
    }
  }
}

void TlsClientConfig::forget_sessions() {
  for (KeptSession& kept : sessions_) {
    mbedtls_ssl_session_free(&kept.session);
    mbedtls_ssl_session_init(&kept.session);
    kept.valid = false;
  }
}

size_t TlsClientConfig::kept_sessions() const {
  size_t n = 0;
  for (const KeptSession& kept : sessions_) n += kept.valid ? 1 : 0;
  return n;
}

TlsSession::TlsSession(TlsClientConfig& config, size_t ciphertext_in_capacity, size_t ciphertext_out_capacity)
    : TlsPipe(ciphertext_in_capacity, ciphertext_out_capacity), config_(config) {}

Status TlsSession::start(std::string_view server) {
  if (!config_.loaded_ || server.empty() || server.size() > TlsClientConfig::kMaxServerName ||
      server.find('\0') != std::string_view::npos) {
    return Reason::invalid_argument;
  }
  resumed_ = false;
  offered_session_ = false;
  peer_.clear();
  config_.last_peer_.clear();
  std::memcpy(server_, server.data(), server.size());
  server_[server.size()] = '\0';
  server_size_ = server.size();
  ip_.reset();
  if (IpAddress literal = IpAddress::parse(server); literal.family != 0) ip_ = literal;

  Status s = begin(config_.config_);
  if (!s.ok()) return s;
  // A DNS name is both the SNI and the name Mbed TLS verifies. An IP literal
  // gets neither (RFC 6066 forbids IP literals in SNI, and Mbed TLS would
  // let a CN of "127.0.0.1" match): check_peer_certificate checks its SANs.
  if (!ip_) {
    int rc = mbedtls_ssl_set_hostname(&ssl_, server_);
    if (rc != 0) return fail(rc);
  }
  if (const mbedtls_ssl_session* kept = config_.session_for(server)) {
    offered_session_ = mbedtls_ssl_set_session(&ssl_, kept) == 0;
  }
  s = handshake();
  return s.reason() == Reason::would_block ? Status::Ok() : s;
}

void TlsSession::after_handshake_step() {
  // Mbed TLS 2.28 has no public "was this resumed" query; the handshake
  // parameters know it until they are freed at the end of the handshake.
  // Set as soon as a session is offered, cleared when the server declines it.
  if (ssl_.handshake != nullptr) resumed_ = ssl_.handshake->resume != 0;
}

void TlsSession::on_handshake_done() { config_.keep_session({server_, server_size_}, ssl_); }

void TlsSession::on_handshake_failed(int) {
  // A server that no longer takes the session (or one that failed us for
  // another reason) gets a full handshake next time.
  if (offered_session_) config_.drop_session({server_, server_size_});
}

void TlsSession::check_peer_certificate(mbedtls_x509_crt& cert, int depth, uint32_t& flags) {
  if (depth == 0 && ip_ && !certificate_names_ip(cert, *ip_)) flags |= MBEDTLS_X509_BADCERT_CN_MISMATCH;
  // Without a trusted clock "now" is the build time (PROTOCOL.md 2): a
  // certificate valid only from a later date is accepted, one that expired
  // before the build is still refused (BADCERT_EXPIRED stays).
  if (tls_dates_from_build_time()) flags &= ~static_cast<uint32_t>(MBEDTLS_X509_BADCERT_FUTURE);
  if (depth == 0) {
    peer_.copy(cert);
    config_.last_peer_.copy(cert);
  }
}

}  // namespace sublink
