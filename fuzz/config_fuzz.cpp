// The agent configuration parser (firmware/config) on the device's JSON
// arena. Invariants: an error is one line (no control characters, at most
// ConfigError::kMaxText bytes) with the reason the API names; an accepted
// configuration has every required string, every duration within
// 1 s .. kMaxConfigSeconds (stagger 0 allowed), 1..8 distinct non-zero
// ports, retry_min <= retry_max, grace_alarm_delay <= grace_period, feature
// quantities and counts within their bounds, distinct feature and service
// names; the arena is empty afterwards.
#include "firmware/config/config_parser.h"
#include "firmware/json/json_arena.h"
#include "fuzz/fuzz_check.h"

using namespace sublink;
using sublink::fuzz::check;

namespace {

bool duration_ok(Millis m) { return m >= kSecondMs && m <= kMaxConfigSeconds * kSecondMs && m % kSecondMs == 0; }

void check_accepted(const DeviceConfig& c) {
  check(!c.server.view().empty() && !c.customer_id.view().empty() && !c.system_id.view().empty());
  check(!c.ca_file.view().empty() && !c.cert_file.view().empty() && !c.key_file.view().empty());
  check(!c.license_key_file.view().empty() && !c.state_dir.view().empty());
  check(c.port_count >= 1 && c.port_count <= ConnectConfig::kMaxPorts);
  for (size_t i = 0; i < c.port_count; ++i) {
    check(c.ports[i] != 0);
    for (size_t j = 0; j < i; ++j) check(c.ports[i] != c.ports[j]);
  }
  for (Millis m : {c.connect_timeout, c.retry_min, c.retry_max, c.grace_period, c.grace_alarm_delay,
                   c.grace_alarm_interval, c.checkpoint, c.violation_retry, c.grace_checkpoint}) {
    check(duration_ok(m));
  }
  check(c.stagger >= 0);
  check(c.retry_min <= c.retry_max);
  check(c.grace_alarm_delay <= c.grace_period);
  check(c.feature_count <= kMaxConfigFeatures);
  for (size_t i = 0; i < c.feature_count; ++i) {
    check(!c.features[i].name.view().empty());
    for (size_t j = 0; j < i; ++j) check(c.features[i].name.view() != c.features[j].name.view());
  }
  check(c.service_count <= kMaxConfigServices);
  for (size_t i = 0; i < c.service_count; ++i) {
    check(!c.services[i].name.view().empty() && !c.services[i].host.view().empty() && c.services[i].port != 0);
    for (size_t j = 0; j < i; ++j) check(c.services[i].name.view() != c.services[j].name.view());
  }
  check(c.ntp_count <= kMaxConfigNtpServers);
  for (size_t i = 0; i < c.ntp_count; ++i) check(!c.ntp[i].host.view().empty() && c.ntp[i].port != 0);
  check(c.management_methods < (1u << kManagementMethodCount));
  if (c.has_proxy) check(!c.proxy.host().empty() && c.proxy.port() != 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  alignas(8) static uint8_t memory[12 * 1024];
  static JsonArena arena(memory);
  arena.install();
  static DeviceConfig config;
  ConfigError error = parse_device_config(sublink::fuzz::as_text(data, size), config);
  check(arena.live_blocks() == 0);
  if (error.ok()) {
    check(error.message().empty());
    check_accepted(config);
    return 0;
  }
  check(error.status().reason() == Reason::invalid_argument || error.status().reason() == Reason::out_of_memory ||
        error.status().reason() == Reason::invalid_payload || error.status().reason() == Reason::message_too_big);
  const std::string_view message = error.message();
  check(!message.empty() && message.size() <= ConfigError::kMaxText);
  for (char ch : message) check(static_cast<unsigned char>(ch) >= 0x20 && ch != 0x7f);
  return 0;
}
