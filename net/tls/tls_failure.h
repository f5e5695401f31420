// What a failed TLS handshake means, as a Reason a field engineer can act
// on (PROTOCOL.md section 2, hal/status.h), plus a short text for the log.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "hal/status.h"

namespace sublink {

/// Everything known about a failed Mbed TLS call.
struct TlsFailure {
  int error = 0;                // the Mbed TLS return code
  uint32_t verify_flags = 0;    // MBEDTLS_X509_BADCERT_* of the peer chain
  int alert = -1;               // fatal alert the peer sent, or -1
  int alert_record_minor = -1;  // minor version of the record carrying it
};

/// Maps a failure to its Reason. A client that sent no certificate to a
/// server that requires one is cert_invalid (flag "missing"). Certificate flags pick cert_unknown_ca,
/// cert_expired, cert_not_yet_valid, cert_name_mismatch (in that order of
/// precedence) or cert_invalid. A peer alert is tls_alert (detail: alert
/// number), except protocol_version (70) or an alert sent in a record older
/// than TLS 1.2 -- a TLS 1.1-only server answers our TLS 1.2-only hello with
/// handshake_failure in a TLS 1.1 record -- which are tls_version.
Status tls_failure_status(const TlsFailure& failure);

/// A short log text, e.g. "verify: expired,not-trusted", "peer alert 48",
/// "mbedtls -0x7780". Writes into `out` and returns the written part.
std::string_view describe_tls_failure(const TlsFailure& failure, std::span<char> out);

}  // namespace sublink
