#include "net/tls/pem_loading.h"

#include <cstring>

#include "mbedtls/asn1.h"
#include "mbedtls/bignum.h"
#include "mbedtls/ecp.h"
#include "mbedtls/pem.h"
#include "mbedtls/platform.h"
#include "mbedtls/platform_util.h"

namespace sublink {

namespace {

// A NUL-terminated copy of the PEM text, wiped and freed on scope exit
// (private keys must not linger in the arena).
class TerminatedCopy {
 public:
  explicit TerminatedCopy(std::string_view text) : size_(text.size() + 1) {
    data_ = static_cast<unsigned char*>(mbedtls_calloc(1, size_));
    if (data_ != nullptr) std::memcpy(data_, text.data(), text.size());
  }
  ~TerminatedCopy() {
    if (data_ != nullptr) {
      mbedtls_platform_zeroize(data_, size_);
      mbedtls_free(data_);
    }
  }
  TerminatedCopy(const TerminatedCopy&) = delete;
  TerminatedCopy& operator=(const TerminatedCopy&) = delete;
  const unsigned char* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  unsigned char* data_ = nullptr;
  size_t size_;
};

// True when Mbed TLS failed for want of memory (the TLS arena is full), at
// any of the layers a PEM file goes through. An error code holds a
// high-level part (bits 7..15) and a low-level part (bits 0..6); a parser
// may report either, or both added together.
bool is_allocation_failure(int rc) {
  const int high = -((-rc) & 0xFF80);
  const int low = -((-rc) & 0x007F);
  return high == MBEDTLS_ERR_PEM_ALLOC_FAILED || high == MBEDTLS_ERR_X509_ALLOC_FAILED ||
         high == MBEDTLS_ERR_PK_ALLOC_FAILED || high == MBEDTLS_ERR_ECP_ALLOC_FAILED ||
         low == MBEDTLS_ERR_ASN1_ALLOC_FAILED || low == MBEDTLS_ERR_MPI_ALLOC_FAILED;
}

}  // namespace

Status load_certificates(mbedtls_x509_crt& chain, std::string_view pem) {
  if (pem.empty()) return {Reason::invalid_argument, 0};
  TerminatedCopy copy(pem);
  if (copy.data() == nullptr) return Reason::out_of_memory;
  int rc = mbedtls_x509_crt_parse(&chain, copy.data(), copy.size());
  // A positive result counts certificates that failed to parse: refuse a
  // half-read trust store rather than silently trusting less. A full arena
  // is not a bad certificate: the operator would replace a good file.
  if (rc < 0 && is_allocation_failure(rc)) return {Reason::out_of_memory, rc};
  if (rc != 0) return {Reason::invalid_argument, rc};
  return Status::Ok();
}

Status load_private_key(mbedtls_pk_context& key, std::string_view pem, std::string_view password) {
  if (pem.empty()) return {Reason::invalid_argument, 0};
  TerminatedCopy copy(pem);
  if (copy.data() == nullptr) return Reason::out_of_memory;
  int rc = mbedtls_pk_parse_key(&key, copy.data(), copy.size(),
                                reinterpret_cast<const unsigned char*>(password.data()), password.size());
  // Mbed TLS 2.28 reports an allocation failure inside the DER of a key as
  // MBEDTLS_ERR_PK_KEY_INVALID_FORMAT (it tries each key format in turn),
  // so only the failures it names are out_of_memory here.
  if (is_allocation_failure(rc)) return {Reason::out_of_memory, rc};
  return rc == 0 ? Status::Ok() : Status(Reason::invalid_argument, rc);
}

Status check_key_matches(const mbedtls_x509_crt& chain, mbedtls_pk_context& key) {
  int rc = mbedtls_pk_check_pair(&chain.pk, &key);
  return rc == 0 ? Status::Ok() : Status(Reason::invalid_argument, rc);
}

}  // namespace sublink
