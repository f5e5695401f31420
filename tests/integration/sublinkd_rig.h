// Runs the real daemon (sublinkd) against the independent Python sublink/1
// server (tests/peers/sublink1_server.py) on loopback, and reads what each
// side shows: the server's JSON-lines journal and `sublinkctl status --json`.
// Both processes are stopped by PID when the rig goes out of scope.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/process.h"

struct cJSON;

namespace sublink::test {

/// One parsed JSON value that owns its tree; a null Json means "absent".
class Json {
 public:
  Json() = default;
  /// Parses `text`; an empty Json when it is not JSON.
  static Json parse(const std::string& text);

  explicit operator bool() const { return node_ != nullptr; }
  /// Member by dotted path ("msg.features"); an empty Json when missing.
  Json at(const std::string& path) const;
  /// Element `i` of an array; an empty Json when out of range.
  Json item(size_t i) const;
  size_t size() const;
  /// Member names of an object (empty for anything else).
  std::vector<std::string> keys() const;
  bool is_null() const;
  bool is_string() const;
  bool is_number() const;
  bool is_true() const;
  std::string str(const std::string& fallback = "") const;
  /// The number, or `fallback` when this is not a number.
  int64_t num(int64_t fallback = -1) const;
  /// Compact JSON text (for failure messages).
  std::string text() const;

 private:
  std::shared_ptr<cJSON> root_;
  const cJSON* node_ = nullptr;
};

/// One journal line of the server: {"t", "kind", "conn"?, ...}.
struct Record {
  Json json;
  std::string kind() const { return json.at("kind").str(); }
  int64_t t() const { return json.at("t").num(); }
  int64_t conn() const { return json.at("conn").num(); }
  /// msg.type of a recv/send record, "" otherwise.
  std::string type() const { return json.at("msg.type").str(); }
  Json msg() const { return json.at("msg"); }
  bool is(const std::string& k, const std::string& msg_type = "") const {
    return kind() == k && (msg_type.empty() || type() == msg_type);
  }
};

/// The test PKI (tests/pki/make_pki.sh, CN=SYS-0001), made once per program.
const std::string& rig_pki_dir();

/// Polls `done` every 50 ms for up to `timeout_ms`; true when it held.
bool eventually(const std::function<bool()>& done, int timeout_ms);

/// The Python server in its own process with its control file and journal.
class PeerServer {
 public:
  struct Options {
    std::vector<int> ports;  // empty: one free port
    int heartbeat_s = 60;
    int audit_s = 86400;
    std::vector<std::string> entitle{"seats=10", "trunks=2"};
    std::string customer = "CUST-1";
    std::vector<std::string> extra_args;  // more options for the server
  };
  PeerServer(const std::string& dir, Options options);

  int port(size_t i = 0) const { return options_.ports.at(i); }
  /// Appends one control command (a JSON object, one line) for the server.
  void control(const std::string& json_object);
  /// Every journal record so far.
  std::vector<Record> journal() const;
  /// Records of kind `kind` (and msg.type `type` when given) so far.
  std::vector<Record> records(const std::string& kind, const std::string& type = "") const;
  /// The first record matching `match`, waiting up to `timeout_ms`.
  std::optional<Record> wait_for(const std::function<bool(const Record&)>& match, int timeout_ms = 15000) const;
  /// The first recv/send of msg.type `type` (on connection `conn` when > 0).
  std::optional<Record> wait_message(const std::string& kind, const std::string& type, int64_t conn = 0,
                                     int timeout_ms = 15000) const;
  /// Sends a control command and waits for its control_result.
  std::optional<Record> command(const std::string& json_object, int timeout_ms = 10000);
  std::string journal_text() const;
  ChildProcess& process() { return process_; }

 private:
  Options options_;
  std::string journal_path_;
  std::string control_path_;
  ChildProcess process_;
};

/// sublinkd with a configuration written from `Config`, and sublinkctl.
class Daemon {
 public:
  struct Config {
    std::vector<int> ports;
    std::string features = R"([{"name":"seats","qty":5},{"name":"trunks","qty":1}])";
    int retry_min_s = 1;
    int retry_max_s = 2;
    int grace_alarm_delay_s = 1;
    int grace_period_s = 3600;
    int checkpoint_s = 1;
    std::string extra;  // more members, e.g. R"("checkpoint_s":1)" (no leading comma)
    /// NAME=VALUE pairs added to the daemon's environment (through env(1),
    /// so the daemon keeps the PID the test stops), e.g. an LD_PRELOAD.
    std::vector<std::string> env;
  };
  /// Copies the device certificate, key and CA into `dir` (so a test may
  /// replace them), writes `dir`/sublinkd.json and starts the daemon.
  Daemon(const std::string& dir, const Config& config);

  /// Starts the daemon again with the same configuration and state_dir.
  void restart();
  /// SIGTERM; the wait status.
  int stop() { return process_.stop(); }
  pid_t pid() const { return process_.pid(); }
  bool running() { return process_.running(); }
  std::string log() const { return process_.log(); }
  const std::string& config_path() const { return config_path_; }
  const std::string& dir() const { return dir_; }

  /// `sublinkctl -c CONFIG status --json`, parsed (empty when it failed).
  Json status() const;
  /// `sublinkctl status` as an operator reads it (stdout).
  std::string status_text() const;
  /// Waits until `done(status())` holds; the last status either way.
  Json wait_status(const std::function<bool(const Json&)>& done, int timeout_ms = 15000) const;

 private:
  std::string dir_;
  std::string config_path_;
  ChildProcess process_;
  std::vector<std::string> env_;
  int starts_ = 0;
};

/// Feature names and quantities of a status or license ("seats=5,trunks=1").
std::string feature_list(const Json& features);

/// One Json per non-empty line of `text` (JSON Lines, as `admin ... --json` prints).
std::vector<Json> json_lines(const std::string& text);

}  // namespace sublink::test
