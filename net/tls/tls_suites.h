// The cipher suites sublink offers and accepts (PROTOCOL.md section 2):
// ECDHE key exchange with AEAD only, ECDSA or RSA certificates. Suites the
// target's Mbed TLS configuration leaves out (ChaCha20 and SHA-384 on the
// device) are skipped by Mbed TLS itself.
#pragma once

#include "mbedtls/ssl_ciphersuites.h"

namespace sublink {

inline constexpr int kTlsCipherSuites[] = {
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    0,  // end of list, as Mbed TLS expects
};

}  // namespace sublink
