// The sublinkctl commands that need no running agent: `doctor` and
// `firewall-rules` (boards/host/doctor). Each returns the exit status.
#pragma once

#include <string>

namespace sublink {

inline constexpr int kExitUsage = 2;

/// Prints the doctor's report (text lines and a summary, or --json) for the
/// configuration at `config_path`. 0: the link can work; 1: it cannot.
int run_doctor_command(const std::string& config_path, const std::string& resolv_conf, bool json);

/// Prints the outbound rules of the configuration at `config_path`. 0, or
/// kExitUsage when the configuration cannot be read.
int run_firewall_rules_command(const std::string& config_path, const std::string& resolv_conf, bool json);

}  // namespace sublink
