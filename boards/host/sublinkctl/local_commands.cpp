#include "boards/host/sublinkctl/local_commands.h"

#include <cstdio>
#include <memory>

#include "boards/host/config/config_file.h"
#include "boards/host/doctor/dns_checks.h"
#include "boards/host/doctor/doctor.h"
#include "boards/host/doctor/firewall_rules.h"
#include "firmware/config/config_parser.h"

namespace sublink {

int run_doctor_command(const std::string& config_path, const std::string& resolv_conf, bool json) {
  DoctorOptions options;
  options.config_path = config_path;
  options.resolv_conf = resolv_conf;
  options.probe.agent_version = SUBLINK_VERSION;
  DoctorReport report = run_doctor(options, [&](const CheckLine& line) {
    if (json) return;
    printf("%s\n", check_line_text(line).c_str());
    fflush(stdout);  // the port checks take a while: show what is known
  });
  if (json) {
    printf("%s\n", doctor_json(config_path, report).c_str());
  } else {
    printf("\n%s\n", doctor_summary(report).c_str());
  }
  return report.link_can_work ? 0 : 1;
}

int run_firewall_rules_command(const std::string& config_path, const std::string& resolv_conf, bool json) {
  std::string text;
  auto config = std::make_unique<DeviceConfig>();
  ConfigError e = read_config_file("config file", config_path, text);
  if (e.ok()) e = parse_device_config(text, *config);
  if (!e.ok()) {
    fprintf(stderr, "sublinkctl: %.*s\n", static_cast<int>(e.message().size()), e.message().data());
    return kExitUsage;
  }
  std::vector<FirewallRule> rules =
      firewall_rules(*config, outbound_resolvers(resolv_conf), [](const std::string& name) {
        NameLookup l = resolve_name(name);
        return l.status.ok() ? l.addresses : std::vector<std::string>{};
      });
  fputs(json ? (firewall_json(*config, rules) + "\n").c_str() : firewall_table(*config, rules).c_str(), stdout);
  return 0;
}

}  // namespace sublink
