#include "boards/host/doctor/doctor.h"

#include <cJSON.h>
#include <sys/utsname.h>
#include <time.h>

#include <memory>

#include "firmware/json/json_document.h"
#include "linux_util/control/control_client.h"
#include "linux_util/control/control_protocol.h"
#include "boards/host/doctor/clock_checks.h"
#include "boards/host/doctor/config_checks.h"
#include "boards/host/doctor/dns_checks.h"
#include "boards/host/doctor/port_verdicts.h"
#include "boards/host/doctor/resolv_conf.h"
#include "hal/posix/system_clock.h"
#include "hal/posix/system_random.h"
#include "net/tls/tls_time.h"

namespace sublink {

namespace {

// hello's `fw` as sublinkd sends it: the kernel release.
std::string firmware_version() {
  utsname u{};
  if (uname(&u) != 0) return "linux";
  return std::string("linux-") + u.release;
}

// What a running sublinkd says about its license, so the doctor's hello
// tells the server the same story as the agent's would. Without an agent
// the defaults (unlicensed, no serial) stand.
void take_agent_state(const DeviceConfig& config, ProbeSettings& s) {
  ControlClient client;
  std::string error, line;
  if (!client.connect(control_socket_path(config.state_dir.view()), error) || !client.send("status", error) ||
      !client.read_line(line, 1000, error)) {
    return;
  }
  JsonResult<JsonDocument> status = JsonDocument::parse(line);  // checked: no value cut at a NUL
  if (!status.ok()) return;
  const cJSON* state = cJSON_GetObjectItemCaseSensitive(status->root(), "state");
  const cJSON* grace = cJSON_GetObjectItemCaseSensitive(status->root(), "grace_elapsed_s");
  const cJSON* license = cJSON_GetObjectItemCaseSensitive(status->root(), "license");
  const cJSON* serial = cJSON_IsObject(license) ? cJSON_GetObjectItemCaseSensitive(license, "serial") : nullptr;
  if (cJSON_IsString(state)) s.state = state->valuestring;
  if (cJSON_IsNumber(grace)) s.grace_elapsed_s = static_cast<int64_t>(grace->valuedouble);
  if (cJSON_IsString(serial)) s.license_serial = serial->valuestring;
}

class Emitter {
 public:
  Emitter(DoctorReport& report, const std::function<void(const CheckLine&)>& on_line)
      : report_(report), on_line_(on_line) {}
  void add(CheckLine line) {
    if (on_line_) on_line_(line);
    report_.lines.push_back(std::move(line));
  }
  void add(std::vector<CheckLine> lines) {
    for (CheckLine& l : lines) add(std::move(l));
  }

 private:
  DoctorReport& report_;
  const std::function<void(const CheckLine&)>& on_line_;
};

}  // namespace

DoctorReport run_doctor(const DoctorOptions& options, const std::function<void(const CheckLine&)>& on_line) {
  DoctorReport report;
  Emitter emit(report, on_line);

  // 1. Configuration and files.
  auto cfg = std::make_unique<ConfigCheck>();
  check_configuration(options.config_path, system_utc_ms(), *cfg);
  emit.add(cfg->lines);
  if (!cfg->parsed) return report;
  const DeviceConfig& config = *cfg->files.config;

  // 2. Clock.
  SystemWallClock wall;
  WallTime kernel = wall.now();
  emit.add(judge_clock(kernel, ask_ntp_servers(config, options.ntp_timeout_ms)));

  // 3. DNS.
  Resolvers resolvers = outbound_resolvers(options.resolv_conf);
  NameLookup server = resolve_name(config.server.view());
  NameLookup proxy;
  if (config.has_proxy) proxy = resolve_name(config.proxy.host());
  emit.add(judge_dns(server, config.has_proxy ? &proxy : nullptr, resolvers));

  // 4-7. Every port with the agent's own byte path.
  SystemRandom random;
  TlsClientConfig tls;
  TlsClientCredentials creds;
  creds.trust_anchors_pem = cfg->files.ca_pem;
  if (cfg->tls_ready) {
    creds.certificate_chain_pem = cfg->files.cert_pem;
    creds.private_key_pem = cfg->files.key_pem;
  } else {
    emit.add(warn_line("tls", "the port checks run without the device certificate (see the config lines)",
                       "fix cert_file and key_file; until then servers refuse the device"));
  }
  if (!tls.load(creds, random).ok()) {
    emit.add(fail_line("tcp", "the ports are not checked: ca_file cannot be used", "fix ca_file (see above)"));
    return report;
  }
  ProbeSettings settings = options.probe;
  if (settings.agent_version.empty()) settings.agent_version = "unknown";
  if (settings.firmware.empty()) settings.firmware = firmware_version();
  settings.clock_trusted = kernel.set && kernel.trusted;
  take_agent_state(config, settings);

  install_tls_wall_clock(&wall);
  std::vector<PortProbe> probes;
  for (uint16_t port : config.port_list()) probes.push_back(probe_port(config, tls, port, settings));
  install_tls_wall_clock(nullptr);

  PortVerdicts verdicts = judge_ports(config, probes);
  emit.add(std::move(verdicts.lines));
  report.working_ports = verdicts.working_ports;
  report.link_can_work = cfg->ok && !report.working_ports.empty();
  return report;
}

std::string doctor_summary(const DoctorReport& report) {
  size_t failures = 0, warnings = 0;
  for (const CheckLine& l : report.lines) {
    failures += l.verdict == Verdict::fail;
    warnings += l.verdict == Verdict::warn;
  }
  std::string counts = std::to_string(failures) + " FAIL, " + std::to_string(warnings) + " WARN";
  if (!report.link_can_work) return "The link cannot work (" + counts + "): fix the FAIL lines above.";
  std::string ports;
  for (uint16_t p : report.working_ports) ports += (ports.empty() ? "" : ", ") + std::to_string(p);
  return "The link can work on port" + std::string(report.working_ports.size() > 1 ? "s " : " ") + ports + " (" +
         counts + ").";
}

std::string doctor_json(const std::string& config_path, const DoctorReport& report) {
  std::unique_ptr<cJSON, void (*)(cJSON*)> root(cJSON_CreateObject(), cJSON_Delete);
  cJSON_AddStringToObject(root.get(), "config", config_path.c_str());
  cJSON_AddBoolToObject(root.get(), "link_can_work", report.link_can_work);
  cJSON* ports = cJSON_AddArrayToObject(root.get(), "working_ports");
  for (uint16_t p : report.working_ports) cJSON_AddItemToArray(ports, cJSON_CreateNumber(p));
  cJSON* checks = cJSON_AddArrayToObject(root.get(), "checks");
  for (const CheckLine& l : report.lines) {
    cJSON* o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "check", l.check.c_str());
    cJSON_AddStringToObject(o, "verdict", verdict_name(l.verdict));
    cJSON_AddStringToObject(o, "what", l.what.c_str());
    if (l.fix.empty()) cJSON_AddNullToObject(o, "fix");
    else cJSON_AddStringToObject(o, "fix", l.fix.c_str());
    if (l.port != 0) cJSON_AddNumberToObject(o, "port", l.port);
    for (const CheckFact& f : l.facts) {
      cJSON* value =
          f.is_number ? cJSON_CreateNumber(static_cast<double>(f.number)) : cJSON_CreateString(f.text.c_str());
      cJSON* old = cJSON_GetObjectItemCaseSensitive(o, f.name.c_str());
      if (old == nullptr) {
        cJSON_AddItemToObject(o, f.name.c_str(), value);
      } else if (cJSON_IsArray(old)) {
        cJSON_AddItemToArray(old, value);
      } else {
        // A fact given more than once (several addresses) becomes a list.
        cJSON* list = cJSON_CreateArray();
        cJSON_AddItemToArray(list, cJSON_Duplicate(old, true));
        cJSON_AddItemToArray(list, value);
        cJSON_ReplaceItemInObjectCaseSensitive(o, f.name.c_str(), list);
      }
    }
    cJSON_AddItemToArray(checks, o);
  }
  char* text = cJSON_PrintUnformatted(root.get());
  std::string out = text ? text : "";
  cJSON_free(text);
  return out;
}

}  // namespace sublink
