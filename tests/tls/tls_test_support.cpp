#include "tls/tls_test_support.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "net/tls/tls_time.h"
#include "support/process.h"
#include "support/test_pki.h"

namespace sublink::test {

const std::string& pki_dir() {
  const std::string& path = test_pki_dir();
  if (path.empty()) throw std::runtime_error("tests/pki/make_pki.sh failed");
  return path;
}

std::string pki(const std::string& name) {
  std::ifstream in(pki_dir() + "/" + name);
  if (!in) throw std::runtime_error("missing PKI file " + name);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

Status load_client(TlsClientConfig& config, Random& random, const ClientFiles& files) {
  std::string ca = pki(files.ca);
  std::string cert = files.cert.empty() ? "" : pki(files.cert);
  std::string key = files.key.empty() ? "" : pki(files.key);
  TlsClientCredentials credentials{ca, cert, key, {}, files.max_fragment_length};
  return config.load(credentials, random);
}

Status load_server(TlsServerConfig& config, Random& random, const ServerFiles& files) {
  std::string cert = pki(files.cert);
  std::string key = pki(files.key);
  std::string ca = pki(files.client_ca);
  TlsServerCredentials credentials{cert, key, {}, ca, files.require_client_certificate, files.session_tickets,
                                   files.session_cache};
  return config.load(credentials, random);
}

void transfer(TlsPipe& from, TlsPipe& to) {
  auto bytes = from.output();
  size_t taken = to.feed(bytes);
  from.consume_output(taken);
}

Status pump_handshake(TlsSession& client, TlsServerSession& server) {
  for (int round = 0; round < 100; ++round) {
    Status c = client.handshake();
    Status s = server.handshake();
    transfer(client, server);
    transfer(server, client);
    c = client.handshake();
    s = server.handshake();
    if (c.ok() && s.ok()) return c;
    bool c_final = !c.ok() && c.reason() != Reason::would_block;
    bool s_final = !s.ok() && s.reason() != Reason::would_block;
    if (c_final || s_final) {
      // Let the alert of the side that failed reach the other one.
      transfer(client, server);
      transfer(server, client);
      // Only to move the alert: the outcome is the one returned below.
      (void)client.handshake();
      (void)server.handshake();
      return client.handshake();
    }
    if (client.output().empty() && server.output().empty() && c.reason() == Reason::would_block &&
        s.reason() == Reason::would_block) {
      return c;  // stuck: both wait for input nobody will send
    }
  }
  return client.handshake();
}

SystemClockScope::SystemClockScope() : previous_(installed_tls_wall_clock()) { install_tls_wall_clock(&clock_); }
SystemClockScope::~SystemClockScope() { install_tls_wall_clock(previous_); }

}  // namespace sublink::test
