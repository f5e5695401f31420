#include "boards/host/sublinkctl/status_text.h"

#include <cJSON.h>

#include <cstdio>
#include <ctime>

namespace sublink {

namespace {

const cJSON* item(const cJSON* o, const char* name) { return cJSON_GetObjectItemCaseSensitive(o, name); }

long long number(const cJSON* o, const char* name) {
  return static_cast<long long>(cJSON_GetNumberValue(item(o, name)));
}

std::string line(const char* name, const std::string& value) {
  char head[32];
  snprintf(head, sizeof head, "%-10s", (std::string(name) + ":").c_str());
  return head + value + "\n";
}

std::string utc_text(long long ms) {
  time_t t = static_cast<time_t>(ms / 1000);
  tm parts{};
  char out[32];
  if (gmtime_r(&t, &parts) == nullptr || strftime(out, sizeof out, "%Y-%m-%d %H:%M:%SZ", &parts) == 0) return "?";
  return out;
}

}  // namespace

std::string duration_text(long long seconds) {
  if (seconds < 0) seconds = 0;
  long long d = seconds / 86400, h = seconds % 86400 / 3600, m = seconds % 3600 / 60;
  char out[64];
  if (d > 0) {
    snprintf(out, sizeof out, "%lldd %lldh %lldm", d, h, m);
  } else if (h > 0) {
    snprintf(out, sizeof out, "%lldh %lldm", h, m);
  } else {
    snprintf(out, sizeof out, "%lldm", m);
  }
  return out;
}

std::string status_text(const cJSON* s) {
  std::string out;
  if (const cJSON* state = item(s, "state"); cJSON_IsString(state)) out += line("state", state->valuestring);
  if (const cJSON* link = item(s, "link"); cJSON_IsString(link)) {
    std::string v = link->valuestring;
    if (cJSON_IsNumber(item(s, "port"))) v += " (port " + std::to_string(number(s, "port")) + ")";
    out += line("link", v);
  }
  if (cJSON_IsNumber(item(s, "grace_elapsed_s"))) {
    out += line("grace", duration_text(number(s, "grace_elapsed_s")) + " used, " +
                             duration_text(number(s, "grace_remaining_s")) + " left");
  }
  const cJSON* failure = item(s, "last_failure");
  std::string why;  // "REASON: DETAIL", or "" before any failure
  if (cJSON_IsObject(failure)) {
    const cJSON* reason = item(failure, "reason");
    const cJSON* detail = item(failure, "detail");
    why = std::string(cJSON_IsString(reason) ? reason->valuestring : "?") + ": " +
          (cJSON_IsString(detail) ? detail->valuestring : "");
  }
  if (const cJSON* alarm = item(s, "alarm"); cJSON_IsBool(alarm)) {
    if (cJSON_IsTrue(alarm)) {
      // What an engineer needs at once: how long, how long is left, and why.
      out += line("alarm", "RAISED: no link for " + duration_text(number(s, "grace_elapsed_s")) + ", the licensed "
                           "features turn off in " + duration_text(number(s, "grace_remaining_s")) +
                           (why.empty() ? std::string() : "; last failure " + why));
    } else {
      out += line("alarm", "none");
    }
  }
  if (!why.empty()) {
    const cJSON* when = item(failure, "when");
    out += line("failure", why + (cJSON_IsNumber(when) ? " (at " + utc_text(number(failure, "when")) + ")" : ""));
  }
  if (const cJSON* next = item(s, "next_attempt"); cJSON_IsObject(next)) {
    const cJSON* at = item(next, "at");
    const std::string in = std::to_string(number(next, "in_s")) + " s";
    out += cJSON_IsTrue(item(next, "waiting_for_clock"))
               ? line("retry", "first attempt when the clock is set by NTP, at the latest in " + in + " (ntp_wait_s)")
               : line("retry", "next attempt in " + in +
                                   (cJSON_IsNumber(at) ? " (at " + utc_text(number(next, "at")) + ")" : ""));
  }
  const cJSON* license = item(s, "license");
  if (cJSON_IsObject(license)) {
    const cJSON* serial = item(license, "serial");
    out += line("license", std::string(cJSON_IsString(serial) ? serial->valuestring : "?") + ", expires " +
                               utc_text(number(license, "expires")));
    std::string features;
    const cJSON* f = nullptr;
    cJSON_ArrayForEach(f, item(license, "features")) {
      const cJSON* name = item(f, "name");
      if (!features.empty()) features += ", ";
      features += std::string(cJSON_IsString(name) ? name->valuestring : "?") + " " + std::to_string(number(f, "qty"));
    }
    out += line("features", features.empty() ? "none" : features);
  } else if (license != nullptr) {
    out += line("license", "none held");
  }
  if (cJSON_IsNumber(item(s, "events_pending"))) {
    std::string v = std::to_string(number(s, "events_pending")) + " waiting for delivery";
    if (const cJSON* stream = item(s, "event_stream"); cJSON_IsString(stream)) v += std::string(" (stream ") + stream->valuestring + ")";
    out += line("events", v);
  }
  if (const cJSON* storage = item(s, "storage"); cJSON_IsString(storage)) out += line("storage", storage->valuestring);
  const cJSON* damaged = nullptr;
  cJSON_ArrayForEach(damaged, item(s, "damaged")) {
    if (cJSON_IsString(damaged)) out += line("damaged", damaged->valuestring);
  }
  if (const cJSON* tunnels = item(s, "tunnels"); cJSON_IsArray(tunnels)) {
    const int open = cJSON_GetArraySize(tunnels);
    out += line("tunnels", open == 0 ? "none open" : std::to_string(open) + " open");
  }
  if (cJSON_IsNumber(item(s, "boot"))) out += line("boot", std::to_string(number(s, "boot")));
  // Which clock certificate dates are checked with (PROTOCOL.md 2).
  if (const cJSON* clock = item(s, "clock"); cJSON_IsObject(clock)) {
    const cJSON* source = item(clock, "source");
    const std::string name = cJSON_IsString(source) ? source->valuestring : "?";
    const bool trusted = cJSON_IsTrue(item(clock, "trusted"));
    std::string v = name + (trusted ? " (trusted)" : " (not trusted)");
    if (name == "build") v += ": certificate dates checked against the firmware's build time";
    out += line("clock", v);
  }
  return out;
}

}  // namespace sublink
