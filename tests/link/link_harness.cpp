#include "link/link_harness.h"

#include "support/test_pki.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "net/tls/tls_time.h"

namespace sublink::test {

const std::string& pki_dir() {
  const std::string& path = test_pki_dir();
  if (path.empty()) ADD_FAILURE() << "tests/pki/make_pki.sh failed";
  return path;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

LinkHarness::LinkHarness(const Options& options) : options_(options) {
  install_tls_wall_clock(&wall_);
  std::string ca = read_file(pki_dir() + "/" + options.ca);
  std::string cert = read_file(pki_dir() + "/" + options.cert);
  std::string key = read_file(pki_dir() + "/" + options.key);
  TlsClientCredentials creds;
  creds.trust_anchors_pem = ca;
  creds.certificate_chain_pem = cert;
  creds.private_key_pem = key;
  Status st = tls_.load(creds, random_);
  EXPECT_TRUE(st.ok()) << reason_name(st.reason()) << " " << st.detail();
  LinkConfig config;
  config.server = options_.server;
  config.connect.port_count = options.ports.size();
  for (size_t i = 0; i < options.ports.size(); ++i) config.connect.ports[i] = options.ports[i];
  config.connect.stagger_ms = options.stagger_ms;
  config.connect.connect_timeout_ms = options.connect_timeout_ms;
  config.connect.retry_min_ms = options.retry_min_ms;
  config.connect.retry_max_ms = options.retry_max_ms;
  if (!options.proxy.empty()) {
    auto p = parse_proxy_url(options_.proxy);
    EXPECT_TRUE(p.ok());
    if (p.ok()) {
      proxy_ = *p;
      config.proxy = &proxy_;
    }
  }
  link_ = std::make_unique<Link>(config, tls_, net_, random_, *this);
  started_at = now();
  link_->start(started_at);
}

LinkHarness::~LinkHarness() {
  link_.reset();
  install_tls_wall_clock(nullptr);
}

bool LinkHarness::run_until(const std::function<bool()>& done, Millis timeout_ms) {
  Millis end = now() + timeout_ms;
  while (!done()) {
    Millis t = now();
    if (t >= end) return false;
    Millis next = link_->poll(t);
    Millis wait = next == kNever ? end - t : next - t;
    if (wait > end - t) wait = end - t;
    if (wait < 0) wait = 0;
    net_.wait(wait > 50 ? 50 : wait);
  }
  return true;
}

void LinkHarness::note(const std::string& what) { log.push_back({now() - started_at, what}); }

Millis LinkHarness::first(const std::string& prefix) const {
  for (auto& r : log) {
    if (r.what.rfind(prefix, 0) == 0) return r.at;
  }
  return -1;
}

std::string LinkHarness::dump() const {
  std::string s;
  for (auto& r : log) s += std::to_string(r.at) + "ms " + r.what + "\n";
  return s;
}

void LinkHarness::on_resolved(std::string_view name, Status status, const AddressList& addresses) {
  note("resolved " + std::string(name) + " " + reason_name(status.reason()) + " " +
       std::to_string(addresses.count));
}

void LinkHarness::on_attempt_step(const AttemptInfo& attempt, LinkStep step) {
  note(std::string("step ") + link_step_name(step) + " " + std::to_string(attempt.port));
}

void LinkHarness::on_attempt_failed(const AttemptInfo& attempt, Status why, std::string_view text) {
  attempt_failures.push_back(why);
  failure_ports.push_back(attempt.port);
  note("failed " + std::to_string(attempt.port) + " " + reason_name(why.reason()) + " " +
       std::to_string(why.detail()) + " " + std::string(text));
}

void LinkHarness::on_round_failed(Status last, Millis retry_at) {
  round_waits.push_back(retry_at - link_->last_poll());
  note(std::string("round_failed ") + reason_name(last.reason()));
}

void LinkHarness::on_link_up(const AttemptInfo& attempt, bool tls_resumed) {
  ++ups;
  up_port = attempt.port;
  last_resumed = tls_resumed;
  note("up " + std::to_string(attempt.port) + (tls_resumed ? " resumed" : ""));
}

void LinkHarness::on_text(std::string_view message) {
  texts.emplace_back(message);
  note("text " + std::string(message));
}

void LinkHarness::on_link_down(Status why) {
  ++downs;
  last_down = why;
  note(std::string("down ") + reason_name(why.reason()) + " " + std::to_string(why.detail()));
}

ChildProcess start_ws_peer(int port, const std::vector<std::string>& extra, const std::string& log) {
  std::vector<std::string> argv = {"/usr/bin/python3", source_path("tests/peers/ws_tls_peer.py"), "--port",
                                   std::to_string(port)};
  argv.insert(argv.end(), extra.begin(), extra.end());
  ChildProcess p(argv, log);
  if (!wait_for_port(port, 10000)) ADD_FAILURE() << "ws peer did not start:\n" << p.log();
  return p;
}

}  // namespace sublink::test
