// The sans-I/O half shared by the client and server sessions: an Mbed TLS
// context whose transport is two bounded ByteQueues (memory BIOs). The owner
// moves ciphertext between the queues and whatever carries it (a socket, lwIP,
// the simulated network); the pipe never touches a socket, never blocks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "hal/status.h"
#include "mbedtls/ssl.h"
#include "net/bytes/byte_queue.h"
#include "net/tls/tls_failure.h"

namespace sublink {

class TlsPipe {
 public:
  /// Queue sizes are fixed here (set-up time). Mbed TLS buffers whole records
  /// itself, so the queues only need to hold what one transport read or
  /// write moves; write() cuts plaintext to what fits as one record.
  TlsPipe(size_t ciphertext_in_capacity, size_t ciphertext_out_capacity);
  virtual ~TlsPipe();
  TlsPipe(const TlsPipe&) = delete;
  TlsPipe& operator=(const TlsPipe&) = delete;

  /// Queues ciphertext received from the transport. Returns how many bytes
  /// were taken (fewer than given when the queue is full: run handshake()
  /// or read() first, then feed the rest).
  size_t feed(std::span<const uint8_t> ciphertext);
  /// The transport reached end of stream: once the queued input is used up
  /// the peer is gone (connection_closed).
  void feed_eof();

  /// Ciphertext waiting for the transport, oldest first.
  std::span<const uint8_t> output() const { return out_.readable(); }
  /// Drops the first `n` bytes of output() once the transport took them.
  void consume_output(size_t n) { out_.consume(n); }

  /// Advances the handshake with the input fed so far. ok once complete;
  /// would_block while waiting for input (or for output room); any other
  /// status is final and is returned again by later calls. At ok, output()
  /// may still hold this side's last flight (a resumed client speaks last:
  /// ChangeCipherSpec and Finished): send it, once, before anything else.
  Status handshake();
  bool handshake_done() const { return done_; }

  /// Decrypted application data, up to plaintext.size() bytes. would_block
  /// when no whole record is there yet; connection_closed when the peer sent
  /// close_notify (detail 0) or the transport ended (detail: Mbed TLS code).
  Result<size_t> read(std::span<uint8_t> plaintext);
  /// Encrypts a prefix of `plaintext` into output() and returns its length;
  /// would_block when output() has no room for another record.
  Result<size_t> write(std::span<const uint8_t> plaintext);
  /// Queues the close_notify alert; would_block when output() is full.
  Status close_notify();

  /// The final failure, ok while there is none.
  Status failure() const { return failure_status_; }
  /// A short text about the failure for the log ("verify: expired", ...).
  std::string_view failure_text() const { return {failure_text_, failure_text_size_}; }
  /// Name of the negotiated cipher suite ("unknown" before the handshake).
  std::string_view cipher_suite() const;
  /// MBEDTLS_X509_BADCERT_* flags of the peer's chain from the last handshake.
  uint32_t verify_flags() const { return verify_flags_; }

 protected:
  /// Binds a fresh Mbed TLS context to `config` and these queues, dropping
  /// any earlier connection. Queued bytes are cleared.
  Status begin(const mbedtls_ssl_config& config);
  /// Called after every handshake step (the client records resumption here).
  virtual void after_handshake_step() {}
  /// Called once when the handshake completes.
  virtual void on_handshake_done() {}
  /// Called once when the handshake fails with Mbed TLS code `error`.
  virtual void on_handshake_failed(int error) { (void)error; }
  /// Called with each certificate of the peer chain (depth 0 = leaf); may add
  /// MBEDTLS_X509_BADCERT_* flags.
  virtual void check_peer_certificate(mbedtls_x509_crt& cert, int depth, uint32_t& flags);
  /// Records a final failure of `error` and returns its Status.
  Status fail(int error);

  mbedtls_ssl_context ssl_;
  bool ssl_ready_ = false;

 private:
  static int send_to_queue(void* self, const unsigned char* data, size_t size);
  static int recv_from_queue(void* self, unsigned char* data, size_t size);
  static int verify_callback(void* self, mbedtls_x509_crt* cert, int depth, uint32_t* flags);

  ByteQueue in_;
  ByteQueue out_;
  bool eof_ = false;
  bool done_ = false;
  uint32_t verify_flags_ = 0;
  Status failure_status_;
  char failure_text_[96] = {};
  size_t failure_text_size_ = 0;
};

}  // namespace sublink
