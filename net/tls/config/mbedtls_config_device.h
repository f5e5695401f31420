/* Mbed TLS for small devices (Cortex-M class): client only, ECDHE-ECDSA and
 * ECDHE-RSA with AES-GCM, P-256, X.509. Nothing else is compiled. */
#ifndef SUBLINK_MBEDTLS_CONFIG_DEVICE_H
#define SUBLINK_MBEDTLS_CONFIG_DEVICE_H

#include "mbedtls_config_common.h"

#define MBEDTLS_AES_ROM_TABLES
#define MBEDTLS_AES_FEWER_TABLES
#define MBEDTLS_SHA256_SMALLER
#define MBEDTLS_ECP_WINDOW_SIZE 2
#define MBEDTLS_ECP_FIXED_POINT_OPTIM 0
#define MBEDTLS_MPI_MAX_SIZE 256
#define MBEDTLS_SSL_MAX_CONTENT_LEN 4096
#undef MBEDTLS_HAVE_ASM
/* Only AEAD suites are offered, so encrypt-then-MAC (CBC only) is dead code. */
#undef MBEDTLS_SSL_ENCRYPT_THEN_MAC
/* The suites of tls_suites.h that this configuration can run (no SHA-384,
 * no ChaCha20): Mbed TLS then keeps no table of every suite it knows. */
#define MBEDTLS_SSL_CIPHERSUITES                                                 \
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,                             \
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
/* RSA-PSS and OAEP: TLS 1.2 signs with PKCS#1 v1.5, and PSS-signed
 * certificates are not accepted (no MBEDTLS_X509_RSASSA_PSS_SUPPORT). */
#undef MBEDTLS_PKCS1_V21
/* The client never reads the server's certificate after the handshake, so
 * a digest of it is kept instead of the parsed chain: neither the session
 * nor the sessions kept for resumption hold a chain in the TLS arena. */
#undef MBEDTLS_SSL_KEEP_PEER_CERTIFICATE
/* The arena's consistency checks (MBEDTLS_MEMORY_DEBUG, kept for the
 * high-water mark) print to stderr, which would bring stdio's FILE
 * machinery into the image, and then exit. A broken arena is memory
 * corruption: abort, which a board reports as a fault. */
#define MBEDTLS_PLATFORM_FPRINTF_MACRO(...) ((void)0)
#define MBEDTLS_PLATFORM_EXIT_MACRO(status) abort()

#include "mbedtls/check_config.h"
#endif
