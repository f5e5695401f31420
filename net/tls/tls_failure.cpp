#include "net/tls/tls_failure.h"

#include <cstdio>

#include "mbedtls/ssl.h"
#include "mbedtls/x509.h"

namespace sublink {

namespace {

constexpr int kAlertProtocolVersion = MBEDTLS_SSL_ALERT_MSG_PROTOCOL_VERSION;
constexpr int kTls12Minor = MBEDTLS_SSL_MINOR_VERSION_3;

struct FlagName {
  uint32_t flag;
  const char* name;
};

constexpr FlagName kFlagNames[] = {
    {MBEDTLS_X509_BADCERT_EXPIRED, "expired"},
    {MBEDTLS_X509_BADCERT_FUTURE, "future"},
    {MBEDTLS_X509_BADCERT_NOT_TRUSTED, "not-trusted"},
    {MBEDTLS_X509_BADCERT_CN_MISMATCH, "name-mismatch"},
    {MBEDTLS_X509_BADCERT_REVOKED, "revoked"},
    {MBEDTLS_X509_BADCERT_MISSING, "missing"},
    {MBEDTLS_X509_BADCERT_SKIP_VERIFY, "skipped"},
    {MBEDTLS_X509_BADCERT_KEY_USAGE, "key-usage"},
    {MBEDTLS_X509_BADCERT_EXT_KEY_USAGE, "ext-key-usage"},
    {MBEDTLS_X509_BADCERT_NS_CERT_TYPE, "ns-cert-type"},
    {MBEDTLS_X509_BADCERT_BAD_MD, "bad-hash"},
    {MBEDTLS_X509_BADCERT_BAD_PK, "bad-pk-alg"},
    {MBEDTLS_X509_BADCERT_BAD_KEY, "bad-key"},
    {MBEDTLS_X509_BADCERT_OTHER, "other"},
};

bool certificate_failure(const TlsFailure& f) {
  return f.error == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED ||
         f.error == MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE ||
         (f.verify_flags != 0 && f.error == MBEDTLS_ERR_SSL_BAD_HS_CERTIFICATE);
}

}  // namespace

Status tls_failure_status(const TlsFailure& f) {
  if (certificate_failure(f)) {
    uint32_t flags = f.verify_flags;
    if (flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED) return {Reason::cert_unknown_ca, static_cast<int32_t>(flags)};
    if (flags & MBEDTLS_X509_BADCERT_EXPIRED) return {Reason::cert_expired, static_cast<int32_t>(flags)};
    if (flags & MBEDTLS_X509_BADCERT_FUTURE) return {Reason::cert_not_yet_valid, static_cast<int32_t>(flags)};
    if (flags & MBEDTLS_X509_BADCERT_CN_MISMATCH) return {Reason::cert_name_mismatch, static_cast<int32_t>(flags)};
    return {Reason::cert_invalid, static_cast<int32_t>(flags)};
  }
  if (f.error == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE && f.alert >= 0) {
    if (f.alert == kAlertProtocolVersion || (f.alert_record_minor >= 0 && f.alert_record_minor < kTls12Minor)) {
      return {Reason::tls_version, f.alert};
    }
    return {Reason::tls_alert, f.alert};
  }
  switch (f.error) {
    case MBEDTLS_ERR_SSL_BAD_HS_PROTOCOL_VERSION:
      return {Reason::tls_version, f.error};
    case MBEDTLS_ERR_SSL_CONN_EOF:
    case MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY:
      return {Reason::connection_closed, f.error};
    case MBEDTLS_ERR_SSL_ALLOC_FAILED:
      return {Reason::out_of_memory, f.error};
    default:
      return {Reason::tls_handshake, f.error};
  }
}

std::string_view describe_tls_failure(const TlsFailure& f, std::span<char> out) {
  if (out.empty()) return {};
  size_t used = 0;
  auto append = [&](const char* text) {
    int n = std::snprintf(out.data() + used, out.size() - used, "%s", text);
    if (n > 0) used += static_cast<size_t>(n) < out.size() - used ? static_cast<size_t>(n) : out.size() - used - 1;
  };
  char number[40];
  if (f.verify_flags != 0) {
    append("verify:");
    const char* separator = " ";
    for (const FlagName& name : kFlagNames) {
      if (f.verify_flags & name.flag) {
        append(separator);
        append(name.name);
        separator = ",";
      }
    }
  } else if (f.error == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE && f.alert >= 0) {
    std::snprintf(number, sizeof(number), "peer alert %d", f.alert);
    append(number);
    if (f.alert_record_minor >= 0 && f.alert_record_minor < kTls12Minor) {
      std::snprintf(number, sizeof(number), " (in a TLS 1.%d record)", f.alert_record_minor - 1);
      append(number);
    }
  } else {
    std::snprintf(number, sizeof(number), "mbedtls -0x%04x", static_cast<unsigned>(-f.error));
    append(number);
  }
  return {out.data(), used};
}

}  // namespace sublink
