#include "boards/sim/sim_credentials.h"

#include <utility>

#include "linux_util/files/text_file.h"

namespace sublink {

bool load_sim_credentials(const std::string& dir, SimCredentials& out, std::string& error) {
  const std::pair<const char*, std::string*> files[] = {
      {"ca.crt", &out.ca_pem},
      {"device.crt", &out.device_cert_pem},
      {"device.key", &out.device_key_pem},
      {"server.crt", &out.server_cert_pem},
      {"server.key", &out.server_key_pem},
      {"license.pub", &out.license_public_pem},
      {"license.key", &out.license_private_pem},
  };
  for (const auto& [name, text] : files) {
    const std::string path = dir + "/" + name;
    const TextFileError e = read_text_file(path, *text);
    if (!e.ok() || text->empty()) {
      error = "'" + path + "'" + (e.ok() ? std::string(" is empty") : e.why) + " (make it with tests/pki/make_pki.sh " +
              dir + ")";
      return false;
    }
  }
  return true;
}

}  // namespace sublink
