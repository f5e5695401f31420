#include "boards/host/doctor/config_checks.h"

#include <sys/stat.h>

#include <cerrno>
#include <ctime>
#include <string_view>

#include "firmware/config/config_parser.h"
#include "mbedtls/x509_crt.h"
#include "net/tls/cert_names.h"
#include "net/tls/pem_loading.h"

namespace sublink {

namespace {

// The message without the "config: " every ConfigError starts with.
std::string text_of(const ConfigError& e) {
  std::string_view m = e.message();
  constexpr std::string_view kPrefix = "config: ";
  if (m.substr(0, kPrefix.size()) == kPrefix) m.remove_prefix(kPrefix.size());
  return std::string(m);
}

Millis x509_time_ms(const mbedtls_x509_time& t) {
  std::tm tm{};
  tm.tm_year = t.year - 1900;
  tm.tm_mon = t.mon - 1;
  tm.tm_mday = t.day;
  tm.tm_hour = t.hour;
  tm.tm_min = t.min;
  tm.tm_sec = t.sec;
  return static_cast<Millis>(timegm(&tm)) * 1000;
}

std::string subject_cn(const mbedtls_x509_crt& cert) {
  char buffer[128];
  std::string_view cn = certificate_common_name(cert, buffer);
  return cn.empty() ? std::string("(no CN)") : std::string(cn);
}

// FAIL when a certificate of `pem` is outside its validity at `now`; WARN
// when the first one ends within `warn_ms` (0: never). `what` names the
// file ("ca_file '/etc/sublink/ca.crt'").
bool check_validity(const std::string& check, const std::string& what, const std::string& pem, Millis now,
                    Millis warn_ms, std::vector<CheckLine>& lines, std::string& summary) {
  mbedtls_x509_crt chain;
  mbedtls_x509_crt_init(&chain);
  bool ok = load_certificates(chain, pem).ok();
  for (const mbedtls_x509_crt* c = &chain; ok && c != nullptr && c->raw.p != nullptr; c = c->next) {
    Millis from = x509_time_ms(c->valid_from);
    Millis to = x509_time_ms(c->valid_to);
    std::string name = "'" + subject_cn(*c) + "'";
    if (now > to) {
      lines.push_back(fail_line(check, what + ": certificate " + name + " expired on " + utc_text(to),
                                "renew it (or, if that date is still ahead, set the system clock)")
                          .fact("not_after", utc_text(to)));
      ok = false;
    } else if (now < from) {
      lines.push_back(fail_line(check, what + ": certificate " + name + " is valid only from " + utc_text(from),
                                "set the system clock (see the clock check), or install a current certificate")
                          .fact("not_before", utc_text(from)));
      ok = false;
    } else if (c == &chain) {
      summary = name + ", valid until " + utc_text(to);
      if (warn_ms > 0 && to - now < warn_ms) {
        lines.push_back(warn_line(check, what + ": certificate " + name + " expires on " + utc_text(to),
                                  "renew it before then")
                            .fact("not_after", utc_text(to)));
      }
    }
  }
  mbedtls_x509_crt_free(&chain);
  return ok;
}

}  // namespace

std::string utc_text(Millis utc_ms) {
  std::time_t s = static_cast<std::time_t>(utc_ms / 1000);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M UTC", &tm);
  return text;
}

void check_configuration(const std::string& path, Millis now, ConfigCheck& out) {
  const std::string check = "config";
  std::string text;
  ConfigError e = read_config_file("config file", path, text);
  if (e.ok()) e = parse_device_config(text, *out.files.config);
  if (!e.ok()) {
    out.lines.push_back(fail_line(check, "configuration '" + path + "': " + text_of(e),
                                  e.status().reason() == Reason::io_error
                                      ? "give the agent's configuration with -c FILE"
                                      : "correct the file: the message names the key and the problem"));
    return;
  }
  out.parsed = true;
  const DeviceConfig& c = *out.files.config;
  HostConfig& f = out.files;
  out.lines.push_back(pass_line(check, "configuration '" + path + "' parses (server " + std::string(c.server.view()) +
                                           ", system_id " + std::string(c.system_id.view()) + ")"));
  size_t failures = 0;
  auto failed = [&](const ConfigError& error, std::string fix) {
    out.lines.push_back(fail_line(check, text_of(error), std::move(fix)));
    ++failures;
  };

  // ca_file: the anchors the server certificate must chain to.
  bool ca_ok = false;
  std::string ca_what = "ca_file '" + std::string(c.ca_file.view()) + "'";
  if (!(e = read_config_pem("ca_file", c.ca_file.view(), f.ca_pem)).ok()) {
    failed(e, "install the CA certificate of the subscription server there");
  } else if (!(e = check_trust_anchors(c, f.ca_pem)).ok()) {
    failed(e, "replace it with the PEM CA certificate of the subscription server");
  } else {
    std::string summary;
    ca_ok = check_validity(check, ca_what, f.ca_pem, now, 0, out.lines, summary);
    if (ca_ok) out.lines.push_back(pass_line(check, ca_what + ": CA " + summary));
    else ++failures;
  }

  // cert_file + key_file: the device's identity.
  bool identity_ok = false;
  std::string cert_what = "cert_file '" + std::string(c.cert_file.view()) + "'";
  if (!(e = read_config_pem("cert_file", c.cert_file.view(), f.cert_pem)).ok()) {
    failed(e, "install the device certificate there");
  } else if (!(e = check_private_key_mode(c.key_file.view())).ok()) {
    failed(e, e.status().reason() == Reason::io_error ? "install the device's private key there"
                                                       : "chmod 600 the key file");
  } else if (!(e = read_config_pem("key_file", c.key_file.view(), f.key_pem)).ok()) {
    failed(e, "install the device's private key there");
  } else if (!(e = check_device_identity(c, f)).ok()) {
    failed(e, "cert_file, key_file and system_id must belong to the same device");
  } else {
    std::string summary;
    identity_ok = check_validity(check, cert_what, f.cert_pem, now, kCertificateWarnMs, out.lines, summary);
    if (identity_ok) {
      out.lines.push_back(pass_line(check, cert_what + ": device certificate " + summary +
                                               ", matches key_file and system_id"));
    } else {
      ++failures;
    }
  }

  // license_key_file: what licenses are verified with.
  if (!(e = read_config_pem("license_key_file", c.license_key_file.view(), f.license_key_pem)).ok()) {
    failed(e, "install the vendor's license public key there");
  } else if (!(e = check_license_key(c, f.license_key_pem)).ok()) {
    failed(e, "it must be the vendor's EC P-256 license public key (PEM)");
  } else {
    out.lines.push_back(pass_line(check, "license_key_file '" + std::string(c.license_key_file.view()) +
                                             "': EC P-256 public key"));
  }

  // state_dir: checked, never created (a directory made by root here
  // would not be writable by the daemon's user).
  std::string dir(c.state_dir.view());
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 && errno == ENOENT) {
    out.lines.push_back(warn_line(check, "state_dir '" + dir + "' does not exist yet",
                                  "sublinkd creates it at start; its parent directory must exist"));
  } else if ((e = check_state_dir(dir, false)).ok()) {
    out.lines.push_back(pass_line(check, "state_dir '" + dir + "' is private and writable"));
  } else {
    failed(e, "sublinkd refuses to start until this is fixed");
  }

  out.tls_ready = ca_ok && identity_ok;
  out.ok = failures == 0;
}

}  // namespace sublink
