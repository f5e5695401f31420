#include "tools/demo/mission.h"

#include <time.h>

#include <algorithm>
#include <memory>

#include <cJSON.h>

namespace sublink::demo {

namespace {

constexpr int kPollMs = 200;
// The field's grace period, to tell where the demo's short one would be.
constexpr int kFieldGraceDays = 30;
const char* const kSeverities[] = {"warning", "minor", "major", "critical"};
// How many of the first entitled feature the application says it uses; the
// audit must carry it.
constexpr int kInUse = 12;

void sleep_ms(int ms) {
  timespec t{ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&t, nullptr);  // a signal cuts it short: the loop checks the flag
}

int severity_rank(std::string_view s) {
  for (int i = 0; i < 4; ++i) {
    if (s == kSeverities[i]) return i;
  }
  return -1;
}

// "grace_alarm (minor, 1 day left)" in an agent log line -> "minor".
std::string alarm_severity(const std::string& line) {
  const std::string key = "event: grace_alarm (";
  size_t at = line.find(key);
  if (at == std::string::npos) return "";
  at += key.size();
  size_t end = line.find_first_of(",)", at);
  return line.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

// The agent's reason for a failed attempt on `port`, from its log line
// "attempt #N to ADDR:PORT FAILED: REASON (DETAIL)[, TEXT] - HINT".
std::optional<std::string> attempt_failure(const LineFollower& log, size_t from, int port) {
  const std::string needle = ":" + std::to_string(port) + " FAILED: ";
  std::optional<size_t> i = log.find(from, needle);
  if (!i) return std::nullopt;
  const std::string& line = log.lines()[*i];
  std::string why = line.substr(line.find(needle) + needle.size());
  size_t detail = why.find(" (");
  size_t hint = why.find(" - ");
  if (detail != std::string::npos && hint != std::string::npos) {
    return why.substr(0, detail) + ": " + why.substr(hint + 3);
  }
  return why;
}

std::string event_severity(const DeviceEvent& e) {
  std::unique_ptr<cJSON, decltype(&cJSON_Delete)> root(cJSON_ParseWithLength(e.json.data(), e.json.size()),
                                                       cJSON_Delete);
  const cJSON* s = root ? cJSON_GetObjectItemCaseSensitive(root.get(), "severity") : nullptr;
  return cJSON_IsString(s) ? s->valuestring : "";
}

std::string last_line(const LineFollower& log) {
  return log.size() ? std::string(log_message(log.lines().back())) : "(nothing logged yet)";
}

}  // namespace

std::vector<std::string> Mission::step_titles() {
  return {"server name resolved",
          "connected on the first port",
          "license granted",
          "heartbeats answered",
          "audit acknowledged",
          "the operator reaches the appliance's page",
          "the first port stops",
          "failover to the second port",
          "the server goes away",
          "grace started, features on",
          "grace alarm: warning",
          "grace alarm: minor",
          "grace alarm: major",
          "grace alarm: critical",
          "grace expired, features off",
          "the server is back",
          "licensed again",
          "alarm cleared",
          "buffered events delivered"};
}

Mission::Mission(DemoRig& rig, Narrator& narrator, const volatile sig_atomic_t& interrupted)
    : rig_(rig), narrator_(narrator), interrupted_(interrupted) {}

bool Mission::run() {
  return resolved() && connected_first() && licensed() && heartbeats() && audit_acknowledged() &&
         page_through_link() && first_port_stops() && failover() && server_goes_away() && grace_started() && alarm("warning") &&
         alarm("minor") && alarm("major") && alarm("critical") && expired() && server_back() && licensed_again() &&
         alarm_cleared() && events_delivered();
}

bool Mission::await(int64_t deadline_ms, const Check& check) {
  const int64_t until = narrator_.elapsed_ms() + deadline_ms;
  std::string seen = "nothing yet";
  for (;;) {
    if (interrupted_) {
      narrator_.fail("interrupted; stopping everything the demo started");
      return false;
    }
    rig_.pump();
    if (std::optional<std::string> detail = check(seen)) {
      narrator_.pass(*detail);
      return true;
    }
    if (narrator_.elapsed_ms() >= until) {
      narrator_.fail("not within " + std::to_string(deadline_ms / 1000) + " s; last seen: " + seen);
      return false;
    }
    sleep_ms(kPollMs);
  }
}

std::optional<AgentStatusView> Mission::watched(size_t mark, const std::string& state) const {
  const LineFollower& watch = rig_.watch();
  for (size_t i = mark; i < watch.size(); ++i) {
    std::optional<AgentStatusView> s = parse_agent_status(watch.lines()[i]);
    if (s && s->state == state) return s;
  }
  return std::nullopt;
}

int Mission::alarm_due_s(const char* severity) const {
  const DemoSettings& s = rig_.settings();
  // PROTOCOL.md section 5: warning below half of the grace period, minor
  // from half, major from two thirds, critical from five sixths.
  const int from[] = {0, s.grace_period_s / 2, s.grace_period_s * 2 / 3, s.grace_period_s * 5 / 6};
  const int threshold = from[std::max(0, severity_rank(severity))];
  int due = s.grace_alarm_delay_s;
  while (due < threshold) due += s.grace_alarm_interval_s;
  return due;
}

std::string Mission::field_day(int64_t elapsed_s) const {
  const int64_t day = elapsed_s * kFieldGraceDays / rig_.settings().grace_period_s;
  return "day " + std::to_string(day) + " of " + std::to_string(kFieldGraceDays) + " in the field";
}

// ---- The link comes up ------------------------------------------------------------

bool Mission::resolved() {
  return await(10000, [&](std::string& seen) -> std::optional<std::string> {
    const LineFollower& log = rig_.agent_log();
    seen = "agent: " + last_line(log);
    std::optional<size_t> i = log.find(0, "resolved ");
    if (!i) return std::nullopt;
    return "name resolved: " + std::string(log_message(log.lines()[*i])) + " (afresh at every connection round)";
  });
}

bool Mission::connected_first() {
  const int a = rig_.first_port();
  const int b = rig_.second_port();
  return await(15000, [&](std::string& seen) -> std::optional<std::string> {
    const LineFollower& log = rig_.agent_log();
    seen = "agent: " + last_line(log);
    if (!log.find(0, "LINK UP on 127.0.0.1:" + std::to_string(a))) return std::nullopt;
    std::optional<AgentStatusView> s = rig_.status();
    if (!s || !s->link_up) return std::nullopt;
    seen = "status: " + s->summary();
    if (s->port != a) return std::nullopt;
    const bool tls = log.find(0, "TLS 1.2 established").has_value();
    return "connected on port " + std::to_string(a) + ", the first in the configured order (" + std::to_string(a) +
           ", then " + std::to_string(b) + ")" + (tls ? ": TLS 1.2, both certificates verified, WebSocket sublink.v1" : "");
  });
}

bool Mission::licensed() {
  bool ok = await(10000, [&](std::string& seen) -> std::optional<std::string> {
    std::optional<AgentStatusView> w = watched(0, "licensed");
    std::optional<AgentStatusView> s = rig_.status();
    if (s) seen = "status: " + s->summary();
    if (!w || !s || s->state != "licensed" || s->serial.empty()) return std::nullopt;
    std::optional<bool> on = rig_.feature_on(rig_.settings().entitled.front().name);
    if (!on || !*on) return std::nullopt;
    serial_ = s->serial;
    return "license " + s->serial + " granted and verified (ES256): " + s->feature_text() +
           "; the watch saw the state turn licensed";
  });
  if (!ok) return false;
  const FeatureQty& f = rig_.settings().entitled.front();
  const std::string n = std::to_string(kInUse);
  narrator_.act("the application reports " + n + " " + f.name + " in use (sublinkctl usage " + f.name + " " + n + ")");
  if (!rig_.report_usage(f.name, kInUse)) {
    narrator_.fail("sublinkctl usage " + f.name + " " + n + " was refused");
    return false;
  }
  return true;
}

bool Mission::heartbeats() {
  const int a = rig_.first_port();
  const int every = rig_.settings().heartbeat_s;
  return await(6000 + 4000 * every, [&](std::string& seen) -> std::optional<std::string> {
    const size_t beats = rig_.server_log().count(0, "\"type\":\"heartbeat\"");
    seen = "the server received " + std::to_string(beats) + " heartbeat(s)";
    if (beats < 3) return std::nullopt;
    std::optional<AgentStatusView> s = rig_.status();
    if (!s || !s->link_up || s->port != a) {
      seen += "; status: " + (s ? s->summary() : std::string("no answer"));
      return std::nullopt;
    }
    return "heartbeats: " + std::to_string(beats) + " sent every " + std::to_string(every) +
           " s and answered; the link stays up (silence for 3 intervals would mean a dead link)";
  });
}

bool Mission::audit_acknowledged() {
  const FeatureQty& f = rig_.settings().entitled.front();
  return await(6000 + 3000 * rig_.settings().audit_s, [&](std::string& seen) -> std::optional<std::string> {
    std::vector<AuditRecord> audits = rig_.stored_audits();
    seen = "the server stored " + std::to_string(audits.size()) + " audit(s)";
    for (const AuditRecord& a : audits) {
      if (a.serial != serial_) continue;
      for (const FeatureUsageReport& u : a.usage) {
        if (u.name != f.name || u.in_use != kInUse) continue;
        return "audit of " + a.serial + " acknowledged: " + f.name + " " + std::to_string(u.in_use) +
               " in use (peak " + std::to_string(u.peak) + ") of " + std::to_string(f.qty) + " licensed -> " +
               std::string(audit_result_name(a.result));
      }
    }
    return std::nullopt;
  });
}

// ---- Incoming traffic through the link ----------------------------------------------

bool Mission::page_through_link() {
  const std::string& system = rig_.settings().system_id;
  std::string error;
  if (!rig_.start_appliance_page(error)) {
    narrator_.fail(error);
    return false;
  }
  narrator_.act("operator: 'sublink-server admin forward " + system +
                " web --listen 127.0.0.1:0' (like ssh -L), then curl through that port");
  CommandResult forward = rig_.admin({"forward", system, "web", "--listen", "127.0.0.1:0", "--operator", "demo"});
  const size_t at = forward.out.find("127.0.0.1:");
  if (forward.exit_code != 0 || at == std::string::npos) {
    narrator_.fail("admin forward failed (exit " + std::to_string(forward.exit_code) + "): " +
                   forward.err.substr(0, forward.err.find('\n')));
    return false;
  }
  const std::string local = forward.out.substr(at, forward.out.find(' ', at) - at);
  const bool reached = await(15000, [&](std::string& seen) -> std::optional<std::string> {
    CommandResult page = run_command({"/usr/bin/curl", "-sS", "--max-time", "5", "http://" + local + "/"});
    if (page.exit_code != 0 || page.out.find(rig_.page_marker()) == std::string::npos) {
      seen = "curl: " + (page.exit_code == 0 ? "a page without '" + rig_.page_marker() + "'"
                                             : page.err.substr(0, page.err.find('\n')));
      return std::nullopt;
    }
    const std::vector<int> open = DemoRig::listening_ports(rig_.agent_pid());
    if (!open.empty()) {
      seen = "sublinkd listens on TCP port " + std::to_string(open.front());
      return std::nullopt;
    }
    return "'" + rig_.page_marker() + "' fetched from http://" + local +
           "/ through the link the appliance opened; sublinkd listens on no TCP port";
  });
  (void)rig_.admin({"forward", "--close", local});
  return reached;
}

// ---- Failover ---------------------------------------------------------------------

bool Mission::first_port_stops() {
  const std::string a = std::to_string(rig_.first_port());
  const std::string& system = rig_.settings().system_id;
  narrator_.act("operator: 'sublink-server admin port " + a + " stop' (port " + a +
                " stops taking devices), then 'drop " + system + "' (its live link is cut)");
  port_stop_mark_ = rig_.agent_log().size();
  for (const std::vector<std::string>& command :
       {std::vector<std::string>{"port", a, "stop"}, std::vector<std::string>{"drop", system}}) {
    CommandResult r = rig_.admin(command);
    if (r.exit_code != 0) {
      std::string why = r.err.substr(0, r.err.find('\n'));
      narrator_.fail("admin " + command[0] + " failed (exit " + std::to_string(r.exit_code) + ")" +
                     (why.empty() ? "" : ": " + why));
      return false;
    }
  }
  return await(10000, [&](std::string& seen) -> std::optional<std::string> {
    const LineFollower& log = rig_.agent_log();
    seen = "agent: " + last_line(log);
    std::optional<size_t> down = log.find(port_stop_mark_, "LINK DOWN");
    if (!down) return std::nullopt;
    return "port " + a + " stopped and the link on it dropped; agent: " + std::string(log_message(log.lines()[*down]));
  });
}

bool Mission::failover() {
  const int a = rig_.first_port();
  const int b = rig_.second_port();
  return await(20000, [&](std::string& seen) -> std::optional<std::string> {
    const LineFollower& log = rig_.agent_log();
    seen = "agent: " + last_line(log);
    if (!log.find(port_stop_mark_, "LINK UP on 127.0.0.1:" + std::to_string(b))) return std::nullopt;
    std::optional<AgentStatusView> s = rig_.status();
    if (!s || !s->link_up || s->port != b) {
      seen = "status: " + (s ? s->summary() : std::string("no answer"));
      return std::nullopt;
    }
    std::string error;
    std::optional<ServerDeviceView> d = rig_.server_device(error);
    if (!d || !d->link_up || d->port != b) {
      seen = d ? "admin devices: link " + std::string(d->link_up ? "up" : "down") + " on port " +
                     std::to_string(d->port)
               : error;
      return std::nullopt;
    }
    std::optional<std::string> why = attempt_failure(log, port_stop_mark_, a);
    const std::string because =
        why ? "port " + std::to_string(a) + " failed (" + *why + "), so the round went on to the next port"
            : "port " + std::to_string(a) + " did not complete within stagger_ms, so port " + std::to_string(b) +
                  " was tried beside it and won";
    return "failover: connected on port " + std::to_string(b) + " because " + because +
           "; the server lists the device up on port " + std::to_string(b);
  });
}

// ---- Grace --------------------------------------------------------------------

bool Mission::server_goes_away() {
  std::vector<DeviceEvent> before = rig_.stored_events();
  seq_before_outage_ = before.empty() ? 0 : before.back().seq;
  events_before_outage_ = before.size();
  stream_highest_.clear();
  for (const DeviceEvent& e : before) stream_highest_[e.stream] = std::max(stream_highest_[e.stream], e.seq);
  outage_mark_ = rig_.agent_log().size();
  outage_watch_mark_ = rig_.watch().size();
  narrator_.act("the server goes away (SIGTERM to sublink-server, pid " + std::to_string(rig_.server_pid()) + ")");
  const std::string exit = describe_wait_status(rig_.stop_server());
  outage_at_ms_ = narrator_.elapsed_ms();
  return await(10000, [&](std::string& seen) -> std::optional<std::string> {
    const LineFollower& log = rig_.agent_log();
    seen = "server " + exit + "; agent: " + last_line(log);
    std::optional<size_t> down = log.find(outage_mark_, "LINK DOWN");
    if (exit != "exit 0" || !down) return std::nullopt;
    return "sublink-server stopped (" + exit + "); agent: " + std::string(log_message(log.lines()[*down]));
  });
}

bool Mission::grace_started() {
  const DemoSettings& settings = rig_.settings();
  return await(10000, [&](std::string& seen) -> std::optional<std::string> {
    std::optional<AgentStatusView> s = rig_.status();
    if (s) seen = "status: " + s->summary();
    if (!watched(outage_watch_mark_, "grace") || !s || s->state != "grace" || s->link_up) return std::nullopt;
    if (!rig_.agent_log().find(outage_mark_, "event: grace_started")) return std::nullopt;
    for (const FeatureQty& f : settings.entitled) {
      std::optional<bool> on = rig_.feature_on(f.name);
      if (!on || !*on) {
        seen += "; feature " + f.name + " is off";
        return std::nullopt;
      }
    }
    return "grace started: link down, every feature still on (" + s->feature_text() + "), " +
           std::to_string(s->grace_remaining_s) + " s of grace left (30 days in the field)";
  });
}

bool Mission::alarm(const char* severity) {
  const int due_s = alarm_due_s(severity);
  const int64_t deadline = outage_at_ms_ + (due_s + 10) * 1000 - narrator_.elapsed_ms();
  return await(std::max<int64_t>(deadline, 1000), [&](std::string& seen) -> std::optional<std::string> {
    const LineFollower& log = rig_.agent_log();
    std::string order;
    std::optional<size_t> hit;
    int highest = -1;
    for (size_t i = outage_mark_; i < log.size(); ++i) {
      const std::string sev = alarm_severity(log.lines()[i]);
      if (sev.empty()) continue;
      order += (order.empty() ? "" : ", ") + sev;
      const int rank = severity_rank(sev);
      if (rank < highest) {
        seen = "alarm severities fell: " + order;
        return std::nullopt;
      }
      highest = rank;
      if (sev == severity && !hit) hit = i;
    }
    seen = "alarms so far: " + (order.empty() ? std::string("none") : order);
    if (!hit) return std::nullopt;
    std::optional<AgentStatusView> s = rig_.status();
    if (!s || s->state != "grace" || !s->alarm) {
      seen += "; status: " + (s ? s->summary() : std::string("no answer"));
      return std::nullopt;
    }
    std::optional<bool> on = rig_.feature_on(rig_.settings().entitled.front().name);
    if (!on || !*on) {
      seen += "; features are off";
      return std::nullopt;
    }
    return "grace alarm, " + std::string(severity) + ": link down " + std::to_string(s->grace_elapsed_s) +
           " s, " + std::to_string(s->grace_remaining_s) + " s left (" + field_day(s->grace_elapsed_s) +
           "); features still on";
  });
}

bool Mission::expired() {
  const DemoSettings& settings = rig_.settings();
  const int64_t deadline = outage_at_ms_ + (settings.grace_period_s + 15) * 1000 - narrator_.elapsed_ms();
  return await(std::max<int64_t>(deadline, 1000), [&](std::string& seen) -> std::optional<std::string> {
    std::optional<AgentStatusView> s = rig_.status();
    if (s) seen = "status: " + s->summary();
    if (!watched(outage_watch_mark_, "expired") || !s || s->state != "expired") return std::nullopt;
    if (!rig_.agent_log().find(outage_mark_, "event: grace_expired")) return std::nullopt;
    std::string off;
    for (const FeatureQty& f : settings.entitled) {
      std::optional<bool> on = rig_.feature_on(f.name);
      if (!on || *on) {
        seen += "; feature " + f.name + " is still on";
        return std::nullopt;
      }
      off += (off.empty() ? "" : ", ") + f.name;
    }
    return "grace ran out after " + std::to_string(settings.grace_period_s) +
           " s: state expired, every feature off (" + off + ")";
  });
}

// ---- The server returns -----------------------------------------------------------

bool Mission::server_back() {
  narrator_.act("the server comes back (sublink-server on ports " + std::to_string(rig_.first_port()) + " and " +
                std::to_string(rig_.second_port()) + ")");
  return_watch_mark_ = rig_.watch().size();
  std::string error;
  if (!rig_.start_server(error)) {
    narrator_.fail(error);
    return false;
  }
  return await(10000, [&](std::string& seen) -> std::optional<std::string> {
    std::string error;
    if (!rig_.server_device(error)) {
      seen = error;
      return std::nullopt;
    }
    return "sublink-server serves again (pid " + std::to_string(rig_.server_pid()) +
           ") and answers its admin socket";
  });
}

bool Mission::licensed_again() {
  const DemoSettings& settings = rig_.settings();
  return await(20000, [&](std::string& seen) -> std::optional<std::string> {
    std::optional<AgentStatusView> s = rig_.status();
    if (s) seen = "status: " + s->summary();
    if (!watched(return_watch_mark_, "licensed") || !s || s->state != "licensed" || !s->link_up) {
      return std::nullopt;
    }
    for (const FeatureQty& f : settings.entitled) {
      std::optional<bool> on = rig_.feature_on(f.name);
      if (!on || !*on) {
        seen += "; feature " + f.name + " is off";
        return std::nullopt;
      }
    }
    std::string error;
    std::optional<ServerDeviceView> d = rig_.server_device(error);
    if (!d || !d->link_up) {
      seen += "; " + (d ? std::string("admin devices: link down") : error);
      return std::nullopt;
    }
    return "licensed again on port " + std::to_string(s->port) + ": license " + s->serial + ", " +
           s->feature_text() + ", features on; the server lists " + settings.system_id + " up on port " +
           std::to_string(d->port);
  });
}

bool Mission::alarm_cleared() {
  return await(10000, [&](std::string& seen) -> std::optional<std::string> {
    std::optional<AgentStatusView> s = rig_.status();
    if (s) seen = "status: " + s->summary();
    if (!s || s->alarm || !rig_.agent_log().find(outage_mark_, "event: grace_cleared")) return std::nullopt;
    return "alarm cleared (event grace_cleared) and grace reset: " + std::to_string(s->grace_remaining_s) +
           " s available again";
  });
}

bool Mission::events_delivered() {
  return await(15000, [&](std::string& seen) -> std::optional<std::string> {
    std::optional<AgentStatusView> s = rig_.status();
    if (!s || s->events_pending != 0) {
      seen = "status: " + (s ? s->summary() : std::string("no answer"));
      return std::nullopt;
    }
    // The server keeps events by (stream, seq): each stream's seqs must go
    // on from where that stream stood before the outage (a new stream from
    // 1), none skipped, none twice.
    std::vector<DeviceEvent> events = rig_.stored_events();
    std::vector<const DeviceEvent*> outage;
    for (size_t i = events_before_outage_; i < events.size(); ++i) outage.push_back(&events[i]);
    std::map<std::string, int64_t> next_in_stream;
    for (const DeviceEvent* e : outage) {
      auto [it, fresh] = next_in_stream.try_emplace(e->stream, 0);
      if (fresh) {
        auto known = stream_highest_.find(e->stream);
        it->second = (known == stream_highest_.end() ? 0 : known->second) + 1;
      }
      if (e->seq != it->second++) {
        seen = "the server's events skip or repeat at seq " + std::to_string(e->seq) + " of stream " + e->stream;
        return std::nullopt;
      }
    }
    std::string list;
    std::string alarms;
    int64_t alarm_first = 0, alarm_last = 0;
    bool started = false, expired = false, cleared = false;
    int highest = -1;
    bool rising = true;
    bool alarms_listed = false;
    // The alarms as one entry: "5-10 grace_alarm warning/.../critical".
    auto list_alarms = [&] {
      if (alarms.empty() || alarms_listed) return;
      alarms_listed = true;
      list += (list.empty() ? "" : ", ") + std::to_string(alarm_first) + "-" + std::to_string(alarm_last) +
              " grace_alarm " + alarms;
    };
    for (const DeviceEvent* e : outage) {
      if (e->kind == "grace_alarm") {
        const std::string sev = event_severity(*e);
        rising = rising && severity_rank(sev) >= highest;
        highest = std::max(highest, severity_rank(sev));
        alarms += (alarms.empty() ? "" : "/") + sev;
        if (!alarm_first) alarm_first = e->seq;
        alarm_last = e->seq;
        continue;
      }
      list_alarms();
      started = started || e->kind == "grace_started";
      expired = expired || e->kind == "grace_expired";
      cleared = cleared || e->kind == "grace_cleared";
      list += (list.empty() ? "" : ", ") + std::to_string(e->seq) + " " + e->kind;
    }
    list_alarms();
    seen = "the server stored after seq " + std::to_string(seq_before_outage_) + ": " +
           (list.empty() ? std::string("nothing") : list);
    if (!started || !expired || !cleared || highest != severity_rank("critical") || !rising) return std::nullopt;
    std::string streams;
    for (const auto& [stream, next] : next_in_stream) streams += (streams.empty() ? "" : ", ") + stream;
    return "buffered events delivered, each seq once in stream " + streams + ": " + list;
  });
}

}  // namespace sublink::demo
