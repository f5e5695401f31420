#include "bench/fleet_sim/sim_fleet.h"

#include <time.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "bench/server_links/device_certificate_issuer.h"
#include "hal/posix/system_random.h"
#include "mbedtls/pem.h"
#include "sim/sim_pki.h"

namespace sublink::bench {
namespace {

bool read_text(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream s;
  s << in.rdbuf();
  out = s.str();
  return true;
}

// DER to the PEM text a board's cert_file holds.
bool der_to_pem(const std::vector<uint8_t>& der, std::string& pem) {
  std::vector<unsigned char> buf(der.size() * 2 + 128);
  size_t n = 0;
  if (mbedtls_pem_write_buffer("-----BEGIN CERTIFICATE-----\n", "-----END CERTIFICATE-----\n", der.data(),
                               der.size(), buf.data(), buf.size(), &n) != 0) {
    return false;
  }
  pem.assign(reinterpret_cast<const char*>(buf.data()), n - 1);  // n counts the NUL
  return true;
}

}  // namespace

bool parse_count(const char* text, uint64_t min, uint64_t max, uint64_t& out) {
  if (text == nullptr || *text < '0' || *text > '9') return false;
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(text, &end, 10);
  if (errno != 0 || *end != '\0' || v < min || v > max) return false;
  out = v;
  return true;
}

bool read_fleet_option(int argc, char** argv, int& i, FleetOptions& o, bool& bad) {
  const std::string a = argv[i];
  if (a != "--devices" && a != "--seed" && a != "--pki" && a != "--json") return false;
  if (i + 1 >= argc) {
    bad = true;
    return false;
  }
  const char* value = argv[++i];
  uint64_t n = 0;
  if (a == "--devices") {
    if (!parse_count(value, 1, 60000, n)) bad = true;
    o.devices = n;
  } else if (a == "--seed") {
    if (!parse_count(value, 0, UINT64_MAX, n)) bad = true;
    o.seed = n;
  } else if (a == "--pki") {
    o.pki = value;
  } else {
    o.json = value;
  }
  return !bad;
}

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

bool SimFleet::prepare(size_t devices, const std::string& pki_dir_in, std::string& error) {
  std::string pki_dir = pki_dir_in;
  if (!pki_dir.empty()) {
    if (load_sim_credentials(pki_dir, loaded_, error)) credentials_ = &loaded_;
  } else {
    credentials_ = test::sim_credentials(&error);
    pki_dir = test::sim_pki_dir();
  }
  std::string ca_key;
  if (credentials_ != nullptr && !read_text(pki_dir + "/ca.key", ca_key)) error = "cannot read " + pki_dir + "/ca.key";
  if (credentials_ == nullptr || ca_key.empty()) return false;

  SystemRandom system_random;
  TlsRandom tls_random;
  DeviceCertificateIssuer issuer;
  Status s = tls_random.seed(system_random);
  if (s.ok()) s = issuer.load(credentials_->ca_pem, ca_key, credentials_->device_key_pem, tls_random);
  if (!s.ok()) {
    error = std::string("the CA cannot issue: ") + reason_name(s.reason()) + " (" + std::to_string(s.detail()) + ")";
    return false;
  }
  fleet_credentials_.assign(devices - 1, *credentials_);
  for (size_t i = 1; i < devices; ++i) {
    char id[32];  // "SYS-F" and up to 20 digits
    std::snprintf(id, sizeof id, "SYS-F%05zu", i);
    system_ids_.emplace_back(id);
    Result<std::vector<uint8_t>> der = issuer.issue(id, 1000 + i);
    if (!der.ok() || !der_to_pem(*der, fleet_credentials_[i - 1].device_cert_pem)) {
      error = std::string("issuing ") + id + " failed";
      return false;
    }
  }
  return true;
}

void SimFleet::populate(SimWorld& world) {
  devices_ = {&world.device()};
  names_ = {"device"};
  for (size_t i = 1; i <= system_ids_.size(); ++i) {
    const IpAddress address =
        IpAddress::parse(("10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1)).c_str());
    names_.push_back(system_ids_[i - 1]);
    devices_.push_back(&world.add_device(names_.back(), address, fleet_credentials_[i - 1], system_ids_[i - 1]));
  }
}

}  // namespace sublink::bench
