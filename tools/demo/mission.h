// The demo's story, step by step: the link comes up on the first port and
// is licensed; the first port stops and the link fails over; the server goes
// away and grace runs down with rising alarms to expiry; the server comes
// back and the appliance is licensed again with its buffered events
// delivered. Each step is an expectation with a deadline, checked against
// what the agent (log, `sublinkctl watch` and `status --json`) and the
// server (log, `admin devices --json`, database) show.
#pragma once

#include <signal.h>

#include <functional>
#include <optional>
#include <map>
#include <string>
#include <vector>

#include "tools/demo/demo_rig.h"
#include "tools/demo/narrator.h"

namespace sublink::demo {

class Mission {
 public:
  /// The short title of every step, in order (for the Narrator).
  static std::vector<std::string> step_titles();

  /// `interrupted` turns true on Ctrl-C or SIGTERM: the current step then
  /// fails at once.
  Mission(DemoRig& rig, Narrator& narrator, const volatile sig_atomic_t& interrupted);

  /// Runs the steps in order until one does not happen; true when all did.
  /// The rig must be prepared, with the server and the agent started.
  bool run();

 private:
  // Polled every 200 ms (after the rig read its logs) until it returns the
  // step's detail line or `deadline_ms` from now passes; it leaves what it
  // saw last in `seen` for the failure line.
  using Check = std::function<std::optional<std::string>(std::string& seen)>;
  bool await(int64_t deadline_ms, const Check& check);

  bool resolved();
  bool connected_first();
  bool licensed();
  bool heartbeats();
  bool audit_acknowledged();
  bool page_through_link();
  bool first_port_stops();
  bool failover();
  bool server_goes_away();
  bool grace_started();
  bool alarm(const char* severity);
  bool expired();
  bool server_back();
  bool licensed_again();
  bool alarm_cleared();
  bool events_delivered();

  /// The first watch line at or after `mark` whose state is `state`.
  std::optional<AgentStatusView> watched(size_t mark, const std::string& state) const;
  /// Seconds after grace started when the first alarm of `severity` is due.
  int alarm_due_s(const char* severity) const;
  /// "day N of 30": where `elapsed_s` of this demo's grace falls in the
  /// field's 30 days.
  std::string field_day(int64_t elapsed_s) const;

  DemoRig& rig_;
  Narrator& narrator_;
  const volatile sig_atomic_t& interrupted_;
  std::string serial_;           // the license granted first
  size_t port_stop_mark_ = 0;    // agent log when the first port stopped
  size_t outage_mark_ = 0;       // agent log when the server went away
  size_t outage_watch_mark_ = 0;
  int64_t outage_at_ms_ = 0;     // narrator time when grace started
  int64_t seq_before_outage_ = 0;         // highest seq stored in the last stream before the outage
  size_t events_before_outage_ = 0;       // events the server had stored then
  std::map<std::string, int64_t> stream_highest_;  // per stream: the highest seq stored then
  size_t return_watch_mark_ = 0;
};

}  // namespace sublink::demo
