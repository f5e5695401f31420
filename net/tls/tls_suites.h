// The cipher suites sublink offers and accepts (PROTOCOL.md section 2):
// ECDHE key exchange with AEAD only, ECDSA or RSA certificates. Suites the
// target's Mbed TLS configuration leaves out (ChaCha20 and SHA-384 on the
// device) are skipped by Mbed TLS itself.
#pragma once

#include "mbedtls/ecp.h"
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

/// The ECDHE curves, in sublink's order of preference, for both ends.
/// P-256 first: Mbed TLS would otherwise prefer the largest curve it was
/// built with (P-384 on Linux), which costs both ends about twice the
/// cycles of a P-256 exchange for a strength the P-256 certificates and
/// license signatures do not have anyway. In TLS 1.2 the server takes the
/// first curve of the client's list that it also supports, so both ends
/// set the same list. Curves the target's configuration leaves out (P-384
/// on the device) must not be listed there: they are compiled out of the list.
inline constexpr mbedtls_ecp_group_id kTlsCurves[] = {
    MBEDTLS_ECP_DP_SECP256R1,
#if defined(MBEDTLS_ECP_DP_SECP384R1_ENABLED)
    MBEDTLS_ECP_DP_SECP384R1,
#endif
    MBEDTLS_ECP_DP_NONE,  // end of list, as Mbed TLS expects
};

}  // namespace sublink
