// Everything the demo sets up and runs, and the ways it looks at it: the
// demo PKI, the server's database, the agent's configuration, the reference
// server, the agent and a `sublinkctl watch`, each with its log. Processes
// are stopped by PID when the rig goes away (agent first, so it stores its
// state; then the watch; then the server), also when a step failed.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "linux_util/process/child_process.h"
#include "tools/demo/line_follower.h"
#include "tools/demo/status_view.h"
#include "server_core/directory.h"

namespace sublink::demo {

/// A TCP port on 127.0.0.1 that was free a moment ago (bound, read,
/// released); 0 when none could be had.
int free_loopback_port();

/// Who the demo appliance is and the short timings that fit the whole
/// story into a few minutes.
struct DemoSettings {
  std::string bin_dir;   // holds sublinkd, sublinkctl and sublink-server
  std::string work_dir;  // PKI, database, configuration, state and logs
  std::string make_pki;  // tests/pki/make_pki.sh
  std::string customer_id = "CUST-1";
  std::string system_id = "SYS-0001";
  std::vector<FeatureQty> entitled = {{"trunks", 30}, {"recording", 1}};
  int heartbeat_s = 2;
  int audit_s = 5;
  int grace_period_s = 60;
  int grace_alarm_delay_s = 5;
  int grace_alarm_interval_s = 10;
};

class DemoRig {
 public:
  explicit DemoRig(DemoSettings settings);
  ~DemoRig();
  DemoRig(const DemoRig&) = delete;
  DemoRig& operator=(const DemoRig&) = delete;

  /// Checks the programs, makes the PKI, a fresh database with the
  /// customer, system and entitlements, two free ports and the agent's
  /// configuration. false with `error` saying what failed.
  bool prepare(std::string& error);
  /// Starts sublink-server on both ports and waits until it serves.
  bool start_server(std::string& error);
  /// SIGTERM to the server; its wait status.
  int stop_server();
  /// Starts sublinkd, waits until its control socket answers, then starts
  /// `sublinkctl watch`.
  bool start_agent(std::string& error);

  /// Starts the appliance's own web manager (Python's http.server on
  /// loopback, a page naming the system) that the agent's `services` maps
  /// `web` to; waits until it listens.
  bool start_appliance_page(std::string& error);
  /// The TCP ports process `pid` listens on (its sockets in LISTEN state).
  static std::vector<int> listening_ports(pid_t pid);
  /// What the appliance's page says, for the operator to find.
  std::string page_marker() const { return "web manager of " + settings_.system_id; }

  /// Reads what the logs and the watch gained since the last call.
  void pump();

  /// `sublink-server admin --control SOCKET ARGS...`.
  CommandResult admin(const std::vector<std::string>& args);
  /// `sublinkctl status --json`, parsed; nullopt when the agent did not answer.
  std::optional<AgentStatusView> status();
  /// `sublinkctl feature NAME`: true on, false off, nullopt when it failed.
  std::optional<bool> feature_on(const std::string& name);
  /// `sublinkctl usage NAME COUNT`; true when the agent took it.
  bool report_usage(const std::string& name, int count);
  /// This system's line of `admin devices --json`; nullopt when the
  /// command failed or did not list it (`error` says which).
  std::optional<ServerDeviceView> server_device(std::string& error);
  /// The events and audits the server stored for this system.
  std::vector<DeviceEvent> stored_events();
  std::vector<AuditRecord> stored_audits();

  const DemoSettings& settings() const { return settings_; }
  int first_port() const { return ports_[0]; }
  int second_port() const { return ports_[1]; }
  const LineFollower& agent_log() const { return *agent_log_; }
  const LineFollower& server_log() const { return *server_log_; }
  const LineFollower& watch() const { return *watch_; }
  pid_t server_pid() const { return server_.pid(); }
  pid_t agent_pid() const { return agent_.pid(); }
  std::string config_path() const { return settings_.work_dir + "/sublinkd.json"; }
  std::string db_path() const { return settings_.work_dir + "/fleet.db"; }
  std::string control_path() const { return settings_.work_dir + "/sublink-server.sock"; }

 private:
  std::string bin(const char* name) const { return settings_.bin_dir + "/" + name; }
  std::string pki(const char* name) const { return settings_.work_dir + "/pki/" + name; }
  bool make_database(std::string& error);
  bool write_config(std::string& error);

  DemoSettings settings_;
  int ports_[2] = {0, 0};
  int page_port_ = 0;  // the appliance's web manager, on loopback
  ChildProcess page_;
  int server_starts_ = 0;
  ChildProcess server_;
  ChildProcess agent_;
  ChildProcess watcher_;
  std::unique_ptr<LineFollower> agent_log_;
  std::unique_ptr<LineFollower> server_log_;
  std::unique_ptr<LineFollower> watch_;
};

}  // namespace sublink::demo
