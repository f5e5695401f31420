// Runs the real Link over real sockets (PosixNetwork) against real peers on
// loopback, recording what the LinkListener reports.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "hal/posix/system_clock.h"
#include "hal/posix/system_random.h"
#include "net/link/link.h"
#include "net/posix/posix_network.h"
#include "net/proxy/proxy_url.h"
#include "net/tls/tls_client.h"
#include "support/process.h"

namespace sublink::test {

/// The test PKI (tests/pki/make_pki.sh), made once per test program.
const std::string& pki_dir();
std::string read_file(const std::string& path);

struct Recorded {
  Millis at = 0;
  std::string what;  // "step connecting 443", "failed 443 cert_expired", "up 8443", ...
};

class LinkHarness : public LinkListener {
 public:
  struct Options {
    std::string server = "localhost";
    std::vector<uint16_t> ports;
    Millis stagger_ms = 300;
    Millis connect_timeout_ms = 3000;
    Millis retry_min_ms = 200;
    Millis retry_max_ms = 1000;
    std::string proxy;  // proxy URL, empty for none
    std::string ca = "ca.crt";
    std::string cert = "device.crt";
    std::string key = "device.key";
  };

  explicit LinkHarness(const Options& options);
  ~LinkHarness() override;

  Link& link() { return *link_; }
  Millis now() { return clock_.now_ms(); }

  /// Runs the loop until `done` or `timeout_ms`; returns done().
  bool run_until(const std::function<bool()>& done, Millis timeout_ms);

  // What happened.
  std::vector<Recorded> log;
  std::vector<std::string> texts;
  std::vector<Status> attempt_failures;
  std::vector<uint16_t> failure_ports;
  std::vector<Millis> round_waits;  // retry_at - now of each failed round
  Status last_down;
  int ups = 0, downs = 0;
  bool last_resumed = false;
  uint16_t up_port = 0;
  Millis started_at = 0;

  /// Time of the first log entry starting with `prefix`, or -1.
  Millis first(const std::string& prefix) const;
  std::string dump() const;

  void on_resolved(std::string_view name, Status status, const AddressList& addresses) override;
  void on_attempt_step(const AttemptInfo& attempt, LinkStep step) override;
  void on_attempt_failed(const AttemptInfo& attempt, Status why, std::string_view text) override;
  void on_round_failed(Status last, Millis retry_at) override;
  void on_link_up(const AttemptInfo& attempt, bool tls_resumed) override;
  void on_text(std::string_view message) override;
  void on_link_down(Status why) override;

 private:
  void note(const std::string& what);

  Options options_;
  SystemMonotonicClock clock_;
  SystemWallClock wall_;
  SystemRandom random_;
  PosixNetwork net_;
  TlsClientConfig tls_;
  ProxyUrl proxy_;
  std::unique_ptr<Link> link_;
};

/// The python3-websockets peer (tests/peers/ws_tls_peer.py) on 127.0.0.1.
ChildProcess start_ws_peer(int port, const std::vector<std::string>& extra, const std::string& log);

}  // namespace sublink::test
