// Loading PEM text (the content of ca_file, cert_file, key_file) into Mbed
// TLS objects. The text comes as string_view; Mbed TLS wants a NUL-terminated
// copy, made in the TLS arena and wiped after parsing.
#pragma once

#include <string_view>

#include "hal/status.h"
#include "mbedtls/pk.h"
#include "mbedtls/x509_crt.h"

namespace sublink {

/// Appends every certificate in `pem` to `chain`. invalid_argument (detail:
/// the Mbed TLS code) when there is none or any of them does not parse.
Status load_certificates(mbedtls_x509_crt& chain, std::string_view pem);

/// Parses a PEM private key (PKCS#8, SEC1 or PKCS#1, optionally encrypted
/// with `password`) into `key`.
Status load_private_key(mbedtls_pk_context& key, std::string_view pem, std::string_view password);

/// Checks that `key` is the private half of the first certificate of `chain`.
Status check_key_matches(const mbedtls_x509_crt& chain, mbedtls_pk_context& key);

}  // namespace sublink
