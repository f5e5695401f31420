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

#include "mbedtls/check_config.h"
#endif
