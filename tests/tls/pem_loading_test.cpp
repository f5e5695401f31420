// Loading the PEM files of the configuration (ca_file, cert_file, key_file)
// into Mbed TLS: what is wrong with them is invalid_argument, and a TLS
// arena too small to hold them is out_of_memory, never "invalid": an
// operator told the certificate is bad would replace a good certificate,
// while the fix is a larger arena.
#include "net/tls/pem_loading.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "net/tls/tls_arena.h"
#include "support/test_pki.h"

namespace sublink {
namespace {

std::string pki_file(const std::string& name) {
  std::ifstream in(test::test_pki_dir() + "/" + name);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(PemLoading, EmptyOrDamagedFilesAreInvalidArgument) {
  mbedtls_x509_crt chain;
  mbedtls_x509_crt_init(&chain);
  mbedtls_pk_context key;
  mbedtls_pk_init(&key);
  EXPECT_EQ(load_certificates(chain, ""), Status(Reason::invalid_argument, 0));
  EXPECT_EQ(load_private_key(key, "", ""), Status(Reason::invalid_argument, 0));
  EXPECT_EQ(load_certificates(chain, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").reason(),
            Reason::invalid_argument);
  EXPECT_EQ(load_private_key(key, "not a key", "").reason(), Reason::invalid_argument);
  // A good certificate and key that do not belong together.
  ASSERT_TRUE(load_certificates(chain, pki_file("server.crt")).ok());
  ASSERT_TRUE(load_private_key(key, pki_file("device.key"), "").ok());
  EXPECT_EQ(check_key_matches(chain, key).reason(), Reason::invalid_argument);
  mbedtls_pk_free(&key);
  mbedtls_x509_crt_free(&chain);
}

// Every arena size from too small for anything up to enough: the outcome
// is the file loaded or out_of_memory, and the arena is empty again after.
// (A full arena while decoding the PEM text, or inside a certificate's
// public key, was reported as an invalid file before.)
TEST(PemLoading, AnArenaTooSmallIsOutOfMemoryAtEverySize) {
  const std::string ca = pki_file("ca.crt");
  const std::string device_key = pki_file("device.key");
  ASSERT_FALSE(ca.empty());
  ASSERT_FALSE(device_key.empty());
  std::vector<uint8_t> memory(16 * 1024);
  bool loaded_cert = false, loaded_key = false, key_out_of_memory = false;
  for (size_t size = 256; size <= memory.size(); size += 64) {
    TlsArena arena(std::span<uint8_t>(memory.data(), size));
    {
      mbedtls_x509_crt chain;
      mbedtls_x509_crt_init(&chain);
      const Status s = load_certificates(chain, ca);
      EXPECT_TRUE(s.ok() || s.reason() == Reason::out_of_memory)
          << "arena " << size << ": " << reason_name(s.reason()) << " " << s.detail();
      loaded_cert = loaded_cert || s.ok();
      mbedtls_x509_crt_free(&chain);
    }
    {
      mbedtls_pk_context key;
      mbedtls_pk_init(&key);
      const Status s = load_private_key(key, device_key, "");
      // Mbed TLS 2.28 tries each key format in turn and reports a full
      // arena inside the key's DER as "invalid format": that one code stays
      // invalid_argument (see pem_loading.cpp); every other failure is memory.
      EXPECT_TRUE(s.ok() || s.reason() == Reason::out_of_memory ||
                  s == Status(Reason::invalid_argument, MBEDTLS_ERR_PK_KEY_INVALID_FORMAT))
          << "arena " << size << ": " << reason_name(s.reason()) << " " << s.detail();
      loaded_key = loaded_key || s.ok();
      key_out_of_memory = key_out_of_memory || s.reason() == Reason::out_of_memory;
      mbedtls_pk_free(&key);
    }
    EXPECT_EQ(TlsArena::current_bytes(), 0u) << "arena " << size << ": the PEM copy is freed on every path";
  }
  EXPECT_TRUE(loaded_cert) << "16 KiB holds the CA certificate";
  EXPECT_TRUE(loaded_key) << "16 KiB holds the device key";
  EXPECT_TRUE(key_out_of_memory) << "an arena too small for the key's PEM text is out_of_memory";
}

TEST(TlsArenaFigures, WithoutAnArenaEveryFigureIsZero) {
  ASSERT_FALSE(TlsArena::installed());
  EXPECT_EQ(TlsArena::current_bytes(), 0u);
  EXPECT_EQ(TlsArena::peak_bytes(), 0u);
  EXPECT_EQ(TlsArena::peak_blocks(), 0u);
  TlsArena::reset_peak();  // harmless without an arena
  EXPECT_FALSE(TlsArena::installed());
}

}  // namespace
}  // namespace sublink
