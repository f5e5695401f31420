/* Mbed TLS for Linux targets (host and ARM Linux): the device agent plus
 * the server side used by the reference server and the test tools. */
#ifndef SUBLINK_MBEDTLS_CONFIG_LINUX_H
#define SUBLINK_MBEDTLS_CONFIG_LINUX_H

#include "mbedtls_config_common.h"

#define MBEDTLS_SHA512_C
/* SHA-1 for the tests and tools that compare with it; the WebSocket accept key
 * has its own (net/websocket/ws_sha1.h), and no TLS suite here uses SHA-1. */
#define MBEDTLS_SHA1_C
/* AES and GCM in the x86-64 instructions (AES-NI, PCLMULQDQ) where the CPU
 * has them, checked at run time; compiled out on ARM. */
#define MBEDTLS_AESNI_C
#define MBEDTLS_ECP_DP_SECP384R1_ENABLED
#define MBEDTLS_CHACHA20_C
#define MBEDTLS_POLY1305_C
#define MBEDTLS_CHACHAPOLY_C
#define MBEDTLS_ERROR_C
#define MBEDTLS_PK_WRITE_C
#define MBEDTLS_PEM_WRITE_C
#define MBEDTLS_X509_CRT_WRITE_C
#define MBEDTLS_X509_CREATE_C
#define MBEDTLS_ENTROPY_C
#define MBEDTLS_SSL_SRV_C
#define MBEDTLS_SSL_TICKET_C
#define MBEDTLS_SSL_CACHE_C
#define MBEDTLS_FS_IO

#include "mbedtls/check_config.h"
#endif
