// sublink-connect: opens the subscription link once, step by step, and says
// what happened. A field tool and the transport demo: it uses exactly the
// agent's byte path (connection policy, proxy, TLS 1.2, WebSocket).
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "boards/host/link_narrator.h"
#include "hal/posix/system_clock.h"
#include "hal/posix/system_random.h"
#include "net/link/link.h"
#include "net/posix/posix_network.h"
#include "net/tls/tls_time.h"
#include "linux_util/files/text_file.h"

using namespace sublink;

namespace {

const char kUsage[] =
    "usage: sublink-connect --server NAME --ca FILE --cert FILE --key FILE [options]\n"
    "\n"
    "Opens the sublink transport (TCP, optional HTTP CONNECT proxy, TLS 1.2 with\n"
    "the device certificate, WebSocket upgrade) and narrates every step.\n"
    "\n"
    "  --server NAME         server DNS name or IP literal\n"
    "  --ports P1,P2,...     ports in order (default 443,8443)\n"
    "  --ca FILE             trust anchors for the server certificate (PEM)\n"
    "  --cert FILE           device certificate chain (PEM)\n"
    "  --key FILE            device private key (PEM)\n"
    "  --proxy URL           http://[user:password@]host:port\n"
    "  --send TEXT           send TEXT once the link is up and wait for one answer\n"
    "  --stagger-ms N        start the next port after N ms (default 300)\n"
    "  --timeout-s N         per-attempt timeout (default 5)\n"
    "  --give-up-s N         stop trying after N seconds (default 30)\n"
    "  --version             print the version and exit\n"
    "\n"
    "Exit status: 0 when the link came up (and, with --send, an answer arrived),\n"
    "1 when it did not, 2 for bad usage.\n";

volatile sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

class ConnectListener : public LinkNarrator {
 public:
  using LinkNarrator::LinkNarrator;
  bool up = false, answered = false, down = false;
  void on_link_up(const AttemptInfo& a, bool resumed) override {
    LinkNarrator::on_link_up(a, resumed);
    up = true;
  }
  void on_text(std::string_view m) override {
    LinkNarrator::on_text(m);
    answered = true;
  }
  void on_link_down(Status why) override {
    LinkNarrator::on_link_down(why);
    down = true;
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::string server, ca_file, cert_file, key_file, proxy_text, send_text;
  std::vector<uint16_t> ports = {443, 8443};
  long stagger = 300, timeout_s = 5, give_up_s = 30;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* name) -> const char* {
      if (i + 1 >= argc) {
        fprintf(stderr, "sublink-connect: %s needs a value\n", name);
        exit(2);
      }
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      fputs(kUsage, stdout);
      return 0;
    } else if (a == "--version") {
      printf("sublink-connect %s\n", SUBLINK_VERSION);
      return 0;
    } else if (a == "--server") {
      server = value("--server");
    } else if (a == "--ca") {
      ca_file = value("--ca");
    } else if (a == "--cert") {
      cert_file = value("--cert");
    } else if (a == "--key") {
      key_file = value("--key");
    } else if (a == "--proxy") {
      proxy_text = value("--proxy");
    } else if (a == "--send") {
      send_text = value("--send");
    } else if (a == "--stagger-ms") {
      stagger = strtol(value("--stagger-ms"), nullptr, 10);
    } else if (a == "--timeout-s") {
      timeout_s = strtol(value("--timeout-s"), nullptr, 10);
    } else if (a == "--give-up-s") {
      give_up_s = strtol(value("--give-up-s"), nullptr, 10);
    } else if (a == "--ports") {
      ports.clear();
      std::stringstream s(value("--ports"));
      std::string p;
      while (std::getline(s, p, ',')) {
        char* end = nullptr;
        long v = strtol(p.c_str(), &end, 10);
        if (p.empty() || *end || v < 1 || v > 65535) {
          fprintf(stderr, "sublink-connect: --ports: '%s' is not a port (1-65535)\n", p.c_str());
          return 2;
        }
        ports.push_back(static_cast<uint16_t>(v));
      }
    } else {
      fprintf(stderr, "sublink-connect: unknown option '%s' (see --help)\n", a.c_str());
      return 2;
    }
  }
  if (server.empty() || ca_file.empty() || cert_file.empty() || key_file.empty()) {
    fprintf(stderr, "sublink-connect: --server, --ca, --cert and --key are required (see --help)\n");
    return 2;
  }
  if (ports.empty() || ports.size() > ConnectConfig::kMaxPorts) {
    fprintf(stderr, "sublink-connect: --ports takes 1 to %zu ports\n", ConnectConfig::kMaxPorts);
    return 2;
  }
  std::string ca, cert, key;
  for (auto [path, out, what] : {std::tuple{&ca_file, &ca, "--ca"}, std::tuple{&cert_file, &cert, "--cert"},
                                 std::tuple{&key_file, &key, "--key"}}) {
    if (const TextFileError e = read_text_file(*path, *out); !e.ok()) {
      fprintf(stderr, "sublink-connect: %s '%s'%s\n", what, path->c_str(), e.why.c_str());
      return 2;
    }
  }

  SystemMonotonicClock clock;
  SystemWallClock wall;
  SystemRandom random;
  install_tls_wall_clock(&wall);
  ConnectListener narrator(stdout, clock);

  TlsClientConfig tls;
  TlsClientCredentials creds;
  creds.trust_anchors_pem = ca;
  creds.certificate_chain_pem = cert;
  creds.private_key_pem = key;
  Status st = tls.load(creds, random);
  if (!st.ok()) {
    fprintf(stderr, "sublink-connect: cannot use the certificate or key: %s (%d)\n", reason_name(st.reason()),
            static_cast<int>(st.detail()));
    return 2;
  }
  narrator.say("device certificate CN=%.*s", static_cast<int>(tls.device_common_name().size()),
               tls.device_common_name().data());

  ProxyUrl proxy;
  LinkConfig config;
  config.server = server;
  config.connect.port_count = ports.size();
  for (size_t i = 0; i < ports.size(); ++i) config.connect.ports[i] = ports[i];
  config.connect.stagger_ms = stagger;
  config.connect.connect_timeout_ms = timeout_s * 1000;
  if (!proxy_text.empty()) {
    auto p = parse_proxy_url(proxy_text);
    if (!p.ok()) {
      fprintf(stderr, "sublink-connect: --proxy: %s\n", proxy_url_error_text(p.status().detail()));
      return 2;
    }
    proxy = *p;
    config.proxy = &proxy;
    narrator.say("using proxy %.*s:%u", static_cast<int>(proxy.host().size()), proxy.host().data(), proxy.port());
  }

  PosixNetwork net;
  Link link(config, tls, net, random, narrator);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);

  Millis start = clock.now_ms();
  link.start(start);
  bool sent = false;
  int rc = 1;
  while (!g_stop) {
    Millis now = clock.now_ms();
    if (now - start > give_up_s * 1000) {
      narrator.say("giving up after %ld s", give_up_s);
      break;
    }
    if (narrator.up && !sent) {
      if (send_text.empty()) {
        rc = 0;
        break;
      }
      if (link.send_text(send_text).ok()) {
        narrator.say("sent: %s", send_text.c_str());
        sent = true;
      }
    }
    if (narrator.answered) {
      rc = 0;
      break;
    }
    Millis next = link.poll(now);
    Millis wait = next == kNever ? 200 : next - now;
    net.wait(wait < 0 ? 0 : (wait > 200 ? 200 : wait));
  }
  if (link.up()) {
    link.close(1000);
    Millis until = clock.now_ms() + 2000;
    while (!link.idle() && clock.now_ms() < until) {
      link.poll(clock.now_ms());
      net.wait(50);
    }
  }
  install_tls_wall_clock(nullptr);
  return rc;
}
