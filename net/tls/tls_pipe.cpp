#include "net/tls/tls_pipe.h"

#include <algorithm>

namespace sublink {

TlsPipe::TlsPipe(size_t ciphertext_in_capacity, size_t ciphertext_out_capacity)
    : in_(ciphertext_in_capacity), out_(ciphertext_out_capacity) {
  mbedtls_ssl_init(&ssl_);
}

TlsPipe::~TlsPipe() { mbedtls_ssl_free(&ssl_); }

Status TlsPipe::begin(const mbedtls_ssl_config& config) {
  mbedtls_ssl_free(&ssl_);
  mbedtls_ssl_init(&ssl_);
  ssl_ready_ = false;
  in_.clear();
  out_.clear();
  eof_ = false;
  done_ = false;
  verify_flags_ = 0;
  failure_status_ = Status::Ok();
  failure_text_size_ = 0;
  int rc = mbedtls_ssl_setup(&ssl_, &config);
  if (rc != 0) return fail(rc);
  mbedtls_ssl_set_bio(&ssl_, this, send_to_queue, recv_from_queue, nullptr);
  mbedtls_ssl_set_verify(&ssl_, verify_callback, this);
  ssl_ready_ = true;
  return Status::Ok();
}

size_t TlsPipe::feed(std::span<const uint8_t> ciphertext) {
  std::span<uint8_t> room = in_.writable();
  size_t n = std::min(room.size(), ciphertext.size());
  std::copy_n(ciphertext.begin(), n, room.begin());
  in_.commit(n);
  return n;
}

void TlsPipe::feed_eof() { eof_ = true; }

int TlsPipe::send_to_queue(void* self, const unsigned char* data, size_t size) {
  auto* pipe = static_cast<TlsPipe*>(self);
  std::span<uint8_t> room = pipe->out_.writable();
  size_t n = std::min(room.size(), size);
  if (n == 0) return MBEDTLS_ERR_SSL_WANT_WRITE;
  std::copy_n(data, n, room.begin());
  pipe->out_.commit(n);
  return static_cast<int>(n);
}

int TlsPipe::recv_from_queue(void* self, unsigned char* data, size_t size) {
  auto* pipe = static_cast<TlsPipe*>(self);
  std::span<const uint8_t> queued = pipe->in_.readable();
  if (queued.empty()) return pipe->eof_ ? 0 : MBEDTLS_ERR_SSL_WANT_READ;  // 0: Mbed TLS's EOF
  size_t n = std::min(queued.size(), size);
  std::copy_n(queued.begin(), n, data);
  pipe->in_.consume(n);
  return static_cast<int>(n);
}

int TlsPipe::verify_callback(void* self, mbedtls_x509_crt* cert, int depth, uint32_t* flags) {
  auto* pipe = static_cast<TlsPipe*>(self);
  pipe->check_peer_certificate(*cert, depth, *flags);
  pipe->verify_flags_ |= *flags;
  return 0;  // flags, not an error, decide: Mbed TLS fails the handshake on them
}

void TlsPipe::check_peer_certificate(mbedtls_x509_crt&, int, uint32_t&) {}

Status TlsPipe::fail(int error) {
  TlsFailure failure;
  failure.error = error;
  if (error == MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE) verify_flags_ |= MBEDTLS_X509_BADCERT_MISSING;
  if (error == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED || error == MBEDTLS_ERR_SSL_BAD_HS_CERTIFICATE ||
      error == MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE) {
    failure.verify_flags = verify_flags_;
    uint32_t result = ssl_ready_ ? mbedtls_ssl_get_verify_result(&ssl_) : UINT32_MAX;
    if (result != UINT32_MAX) failure.verify_flags |= result;  // UINT32_MAX: no result yet
    verify_flags_ = failure.verify_flags;
  }
  if (error == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE && ssl_.in_msg != nullptr && ssl_.in_hdr != nullptr) {
    // Mbed TLS 2.28 has no getter for the alert it received; the record is
    // still in its input buffer: header [type, major, minor, ...], body
    // [level, description].
    failure.alert = ssl_.in_msg[1];
    failure.alert_record_minor = ssl_.in_hdr[2];
  }
  failure_status_ = tls_failure_status(failure);
  failure_text_size_ = describe_tls_failure(failure, failure_text_).size();
  return failure_status_;
}

Status TlsPipe::handshake() {
  if (!failure_status_.ok()) return failure_status_;
  if (!ssl_ready_) return Reason::invalid_argument;
  if (done_) return Status::Ok();
  while (ssl_.state != MBEDTLS_SSL_HANDSHAKE_OVER) {
    int rc = mbedtls_ssl_handshake_step(&ssl_);
    after_handshake_step();
    if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) return Reason::would_block;
    if (rc != 0) {
      Status failed = fail(rc);
      on_handshake_failed(rc);
      return failed;
    }
  }
  done_ = true;
  on_handshake_done();
  return Status::Ok();
}

Result<size_t> TlsPipe::read(std::span<uint8_t> plaintext) {
  Status s = handshake();
  if (!s.ok()) return s;
  if (plaintext.empty()) return size_t{0};
  int rc = mbedtls_ssl_read(&ssl_, plaintext.data(), plaintext.size());
  if (rc > 0) return static_cast<size_t>(rc);
  if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) return Status(Reason::would_block);
  if (rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) return Status(Reason::connection_closed, 0);
  // Mbed TLS reads the transport's end without close_notify as 0: a
  // truncated stream, told apart from the orderly end by its detail.
  if (rc == 0) return Status(Reason::connection_closed, MBEDTLS_ERR_SSL_CONN_EOF);
  return fail(rc);
}

Result<size_t> TlsPipe::write(std::span<const uint8_t> plaintext) {
  Status s = handshake();
  if (!s.ok()) return s;
  if (plaintext.empty()) return size_t{0};
  // Hand Mbed TLS only what fits in the output queue as one whole record:
  // a record it could not flush would pin this plaintext for the next call.
  int expansion = mbedtls_ssl_get_record_expansion(&ssl_);
  int max_payload = mbedtls_ssl_get_max_out_record_payload(&ssl_);
  if (expansion < 0) return fail(expansion);
  if (max_payload < 0) return fail(max_payload);
  size_t room = out_.free_space();
  if (room <= static_cast<size_t>(expansion)) return Status(Reason::would_block);
  size_t n = std::min({plaintext.size(), room - static_cast<size_t>(expansion), static_cast<size_t>(max_payload)});
  int rc = mbedtls_ssl_write(&ssl_, plaintext.data(), n);
  if (rc >= 0) return static_cast<size_t>(rc);
  if (rc == MBEDTLS_ERR_SSL_WANT_WRITE || rc == MBEDTLS_ERR_SSL_WANT_READ) return Status(Reason::would_block);
  return fail(rc);
}

std::string_view TlsPipe::cipher_suite() const {
  return ssl_ready_ ? mbedtls_ssl_get_ciphersuite(&ssl_) : "unknown";
}

Status TlsPipe::close_notify() {
  if (!ssl_ready_) return Reason::invalid_argument;
  int rc = mbedtls_ssl_close_notify(&ssl_);
  if (rc == 0) return Status::Ok();
  if (rc == MBEDTLS_ERR_SSL_WANT_WRITE || rc == MBEDTLS_ERR_SSL_WANT_READ) return Reason::would_block;
  return fail(rc);
}

}  // namespace sublink
