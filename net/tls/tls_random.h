// The TLS random generator: a CTR_DRBG seeded (and reseeded) from the HAL's
// Random, so devices without platform entropy (MBEDTLS_NO_PLATFORM_ENTROPY)
// and the deterministic simulation both work.
#pragma once

#include "hal/random.h"
#include "hal/status.h"
#include "mbedtls/ctr_drbg.h"

namespace sublink {

class TlsRandom {
 public:
  TlsRandom();
  ~TlsRandom();
  TlsRandom(const TlsRandom&) = delete;
  TlsRandom& operator=(const TlsRandom&) = delete;

  /// Seeds from `source`, which must outlive this object (reseeds read it
  /// again). Fails with io_error when the source fails.
  Status seed(Random& source);

  /// The f_rng/p_rng pair Mbed TLS functions take.
  static int generate(void* self, unsigned char* out, size_t size);
  void* context() { return this; }

 private:
  static int entropy(void* source, unsigned char* out, size_t size);
  mbedtls_ctr_drbg_context drbg_;
};

}  // namespace sublink
