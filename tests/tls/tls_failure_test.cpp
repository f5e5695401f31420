#include "net/tls/tls_failure.h"

#include <gtest/gtest.h>

#include <string>

#include "mbedtls/ssl.h"
#include "mbedtls/x509.h"

namespace sublink {
namespace {

TlsFailure verify_failure(uint32_t flags) {
  return {MBEDTLS_ERR_X509_CERT_VERIFY_FAILED, flags, -1, -1};
}

TEST(TlsFailure, CertificateFlagsPickTheReason) {
  EXPECT_EQ(tls_failure_status(verify_failure(MBEDTLS_X509_BADCERT_EXPIRED)).reason(), Reason::cert_expired);
  EXPECT_EQ(tls_failure_status(verify_failure(MBEDTLS_X509_BADCERT_FUTURE)).reason(), Reason::cert_not_yet_valid);
  EXPECT_EQ(tls_failure_status(verify_failure(MBEDTLS_X509_BADCERT_NOT_TRUSTED)).reason(), Reason::cert_unknown_ca);
  EXPECT_EQ(tls_failure_status(verify_failure(MBEDTLS_X509_BADCERT_CN_MISMATCH)).reason(),
            Reason::cert_name_mismatch);
  EXPECT_EQ(tls_failure_status(verify_failure(MBEDTLS_X509_BADCERT_EXT_KEY_USAGE)).reason(), Reason::cert_invalid);
  // A middlebox's certificate is usually for another name too: the unknown
  // CA is what tells the engineer about TLS inspection.
  EXPECT_EQ(tls_failure_status(verify_failure(MBEDTLS_X509_BADCERT_NOT_TRUSTED | MBEDTLS_X509_BADCERT_CN_MISMATCH))
                .reason(),
            Reason::cert_unknown_ca);
}

TEST(TlsFailure, AlertsCarryTheirNumber) {
  Status s = tls_failure_status({MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE, 0, 48, 3});
  EXPECT_EQ(s, Status(Reason::tls_alert, 48));
}

TEST(TlsFailure, OldProtocolAnswersAreVersionFailures) {
  EXPECT_EQ(tls_failure_status({MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE, 0, 70, 3}), Status(Reason::tls_version, 70));
  EXPECT_EQ(tls_failure_status({MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE, 0, 40, 2}), Status(Reason::tls_version, 40));
  EXPECT_EQ(tls_failure_status({MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE, 0, 40, 3}), Status(Reason::tls_alert, 40));
  EXPECT_EQ(tls_failure_status({MBEDTLS_ERR_SSL_BAD_HS_PROTOCOL_VERSION, 0, -1, -1}).reason(), Reason::tls_version);
}

TEST(TlsFailure, OtherErrorsAreHandshakeFailuresWithTheCode) {
  EXPECT_EQ(tls_failure_status({MBEDTLS_ERR_SSL_INVALID_RECORD, 0, -1, -1}),
            Status(Reason::tls_handshake, MBEDTLS_ERR_SSL_INVALID_RECORD));
  EXPECT_EQ(tls_failure_status({MBEDTLS_ERR_SSL_CONN_EOF, 0, -1, -1}).reason(), Reason::connection_closed);
  EXPECT_EQ(tls_failure_status({MBEDTLS_ERR_SSL_ALLOC_FAILED, 0, -1, -1}).reason(), Reason::out_of_memory);
}

TEST(TlsFailure, TextNamesFlagsAlertsAndCodes) {
  char buffer[96];
  EXPECT_EQ(std::string(describe_tls_failure(
                verify_failure(MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_NOT_TRUSTED), buffer)),
            "verify: expired,not-trusted");
  EXPECT_EQ(std::string(describe_tls_failure({MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE, 0, 40, 2}, buffer)),
            "peer alert 40 (in a TLS 1.1 record)");
  EXPECT_EQ(std::string(describe_tls_failure({MBEDTLS_ERR_SSL_INVALID_RECORD, 0, -1, -1}, buffer)),
            "mbedtls -0x7200");
  char tiny[8];
  auto text = describe_tls_failure(verify_failure(0xffff), tiny);
  EXPECT_LT(text.size(), sizeof(tiny));
}

}  // namespace
}  // namespace sublink
