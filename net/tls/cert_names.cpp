#include "net/tls/cert_names.h"

#include <cstring>

#include "mbedtls/asn1.h"
#include "mbedtls/oid.h"

namespace sublink {

bool certificate_names_ip(const mbedtls_x509_crt& cert, const IpAddress& address) {
  if ((cert.ext_types & MBEDTLS_X509_EXT_SUBJECT_ALT_NAME) == 0) return false;
  // Mbed TLS keeps every GeneralName of the extension as (tag, raw bytes);
  // an iPAddress is [7] IMPLICIT OCTET STRING holding 4 or 16 bytes.
  constexpr int kIpAddressTag = MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7;
  for (const mbedtls_x509_sequence* name = &cert.subject_alt_names; name != nullptr; name = name->next) {
    if (name->buf.p == nullptr || name->buf.tag != kIpAddressTag) continue;
    auto bytes = address.view();
    if (!bytes.empty() && name->buf.len == bytes.size() && std::memcmp(name->buf.p, bytes.data(), bytes.size()) == 0) {
      return true;
    }
  }
  return false;
}

std::string_view certificate_common_name(const mbedtls_x509_crt& cert, std::span<char> out) {
  const mbedtls_x509_buf* found = nullptr;
  for (const mbedtls_x509_name* name = &cert.subject; name != nullptr; name = name->next) {
    if (name->oid.p != nullptr && MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &name->oid) == 0) found = &name->val;
  }
  if (found == nullptr || found->len == 0 || found->len > out.size()) return {};
  if (std::memchr(found->p, 0, found->len) != nullptr) return {};
  std::memcpy(out.data(), found->p, found->len);
  return {out.data(), found->len};
}

std::string_view distinguished_name_text(const mbedtls_x509_name& name, std::span<char> out) {
  if (out.empty()) return {};
  out[0] = '\0';
  int n = mbedtls_x509_dn_gets(out.data(), out.size(), &name);
  // Too long: Mbed TLS reports an error but leaves the prefix it wrote; a
  // cut name still tells who issued a certificate.
  if (n < 0) {
    out[out.size() - 1] = '\0';
    return {out.data(), std::strlen(out.data())};
  }
  return {out.data(), static_cast<size_t>(n)};
}

}  // namespace sublink
