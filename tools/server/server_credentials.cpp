#include "tools/server/server_credentials.h"

#include <array>
#include <cstdio>

#include "mbedtls/error.h"
#include "mbedtls/pk.h"
#include "mbedtls/x509_crt.h"
#include "net/tls/cert_names.h"
#include "net/tls/pem_loading.h"

namespace sublink {

namespace {

// "Mbed TLS -0x3d00: PK - Invalid key tag or value"
std::string mbedtls_words(int code) {
  std::array<char, 160> text{};
  mbedtls_strerror(code, text.data(), text.size());
  std::array<char, 16> hex{};
  std::snprintf(hex.data(), hex.size(), "-0x%04x", static_cast<unsigned>(code < 0 ? -code : code));
  return std::string("Mbed TLS ") + hex.data() + ": " + text.data();
}

std::string named(const char* option, const std::string& path) { return std::string(option) + " '" + path + "'"; }

}  // namespace

std::string server_credentials_problem(const ServerCredentialFiles& f) {
  mbedtls_x509_crt chain, ca;
  mbedtls_pk_context key;
  mbedtls_x509_crt_init(&chain);
  mbedtls_x509_crt_init(&ca);
  mbedtls_pk_init(&key);
  std::string problem;
  if (Status s = load_certificates(chain, f.cert_pem); !s.ok()) {
    problem = named("--cert", f.cert_path) + " is not a PEM certificate chain (" + mbedtls_words(s.detail()) + ")";
  } else if (s = load_private_key(key, f.key_pem, {}); !s.ok()) {
    problem = named("--key", f.key_path) + " is not an unencrypted PEM private key (" + mbedtls_words(s.detail()) + ")";
  } else if (s = check_key_matches(chain, key); !s.ok()) {
    std::array<char, 128> cn{};
    const std::string_view name = certificate_common_name(chain, cn);
    problem = named("--key", f.key_path) + " is not the private key of the certificate in " +
              named("--cert", f.cert_path) + " (CN=" + std::string(name) + "): they do not belong together";
  } else if (s = load_certificates(ca, f.ca_pem); !s.ok()) {
    problem = named("--ca", f.ca_path) + " is not a PEM certificate (" + mbedtls_words(s.detail()) + ")";
  }
  mbedtls_pk_free(&key);
  mbedtls_x509_crt_free(&ca);
  mbedtls_x509_crt_free(&chain);
  return problem;
}

}  // namespace sublink
