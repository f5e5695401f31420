#include "net/tls/tls_random.h"

#include <span>

namespace sublink {

TlsRandom::TlsRandom() { mbedtls_ctr_drbg_init(&drbg_); }

TlsRandom::~TlsRandom() { mbedtls_ctr_drbg_free(&drbg_); }

int TlsRandom::entropy(void* source, unsigned char* out, size_t size) {
  Status s = static_cast<Random*>(source)->fill(std::span<uint8_t>(out, size));
  return s.ok() ? 0 : MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED;
}

Status TlsRandom::seed(Random& source) {
  static constexpr unsigned char kPersonalization[] = "sublink tls";
  int rc = mbedtls_ctr_drbg_seed(&drbg_, entropy, &source, kPersonalization,
                                 sizeof(kPersonalization) - 1);
  return rc == 0 ? Status::Ok() : Status(Reason::io_error, rc);
}

int TlsRandom::generate(void* self, unsigned char* out, size_t size) {
  return mbedtls_ctr_drbg_random(&static_cast<TlsRandom*>(self)->drbg_, out, size);
}

}  // namespace sublink
