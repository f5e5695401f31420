// Names in an X.509 certificate that Mbed TLS 2.28 does not check for us:
// the iPAddress subjectAltNames (it only matches DNS names and CN) and the
// subject CN the server compares with the device's system_id.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "mbedtls/x509_crt.h"
#include "net/address/ip_address.h"

namespace sublink {

/// True when `cert`'s subjectAltName extension lists `address` as an
/// iPAddress. The subject CN never counts: an IP in a CN is not a name
/// the certificate was issued for (RFC 6125 section 6.2.1 leaves it out too).
bool certificate_names_ip(const mbedtls_x509_crt& cert, const IpAddress& address);

/// Copies the (last) subject commonName of `cert` into `out` and returns the
/// view of it; empty when there is none, it does not fit, or it contains a
/// NUL byte (which would let "SYS-1\0evil" pass as "SYS-1").
std::string_view certificate_common_name(const mbedtls_x509_crt& cert, std::span<char> out);

/// Writes `name` in Mbed TLS's one-line form ("C=DE, O=Example, CN=host")
/// into `out` and returns the view of it: cut short when it does not fit
/// (`out` holds a NUL after it either way).
std::string_view distinguished_name_text(const mbedtls_x509_name& name, std::span<char> out);

}  // namespace sublink
