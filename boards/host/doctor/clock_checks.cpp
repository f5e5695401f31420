#include "boards/host/doctor/clock_checks.h"

#include <cstdio>
#include <cstdlib>

#include "boards/host/doctor/address_text.h"
#include "boards/host/doctor/config_checks.h"

namespace sublink {

std::vector<NtpAnswer> ask_ntp_servers(const DeviceConfig& config, int timeout_ms) {
  std::vector<NtpAnswer> out;
  for (const NtpServer& s : config.ntp_list()) {
    NtpAnswer a;
    a.host = std::string(s.host.view());
    a.port = s.port;
    a.result = query_sntp(a.host, a.port, timeout_ms);
    out.push_back(std::move(a));
  }
  return out;
}

std::string offset_text(Millis offset_ms) {
  char text[64];
  Millis magnitude = std::llabs(offset_ms);
  if (magnitude < 120 * 1000) {
    std::snprintf(text, sizeof text, "%+.3f s", static_cast<double>(offset_ms) / 1000.0);
  } else {
    long long minutes = (magnitude + 30000) / 60000;
    std::snprintf(text, sizeof text, "%+.1f s (%lld h %lld min)", static_cast<double>(offset_ms) / 1000.0,
                  minutes / 60, minutes % 60);
  }
  return text;
}

std::vector<CheckLine> judge_clock(const WallTime& kernel, const std::vector<NtpAnswer>& answers) {
  std::vector<CheckLine> lines;
  std::vector<std::string> names;
  for (const NtpAnswer& a : answers) names.push_back(a.port == kNtpPort ? a.host : host_port_text(a.host, a.port));
  const std::string ntp_names = names.empty() ? std::string("an NTP server") : join_list(names);

  if (!kernel.set) {
    lines.push_back(fail_line("clock", "the system clock is not set (it reads " + utc_text(kernel.utc_ms) + ")",
                              "set the clock and run an NTP client against " + ntp_names));
  } else if (!kernel.trusted) {
    lines.push_back(warn_line("clock", "the kernel does not mark the system clock synchronised",
                              "run an NTP client (systemd-timesyncd, chrony) against " + ntp_names +
                                  "; until then the agent trusts only the server's time"));
  } else {
    lines.push_back(pass_line("clock", "the kernel marks the system clock synchronised"));
  }

  if (answers.empty()) {
    lines.push_back(warn_line("clock", "no NTP servers configured (`ntp` is empty)",
                              "list the NTP servers the appliance uses in `ntp`, so they can be checked"));
  }
  for (const NtpAnswer& a : answers) {
    const SntpQueryResult& r = a.result;
    std::string name = a.port == kNtpPort ? a.host : host_port_text(a.host, a.port);
    bool only_itself = r.addresses.empty() || (r.addresses.size() == 1 && r.addresses[0] == a.host);
    std::string udp = "allow UDP " + std::to_string(a.port) + " to " +
                      (only_itself ? a.host : a.host + " (" + join_list(r.addresses) + ")");
    CheckLine line;
    if (!r.resolved) {
      line = fail_line("clock", "NTP server " + name + " does not resolve (" + r.resolve_error + ")",
                       "check DNS (see the DNS check) or give NTP servers by address in `ntp`");
    } else if (!r.answered) {
      line = fail_line("clock", "no time from NTP server " + name + ": " + r.problem,
                       r.problem.find("no answer") == 0 || r.problem.find("port unreachable") == 0
                           ? udp
                           : "use another NTP server in `ntp`");
    } else {
      const SntpSample& s = r.sample;
      std::string where = name + (r.answered_by == a.host ? "" : " (" + r.answered_by + ")");
      std::string side = s.offset_ms > 0 ? "behind" : "ahead of";
      if (std::llabs(s.offset_ms) > kMaxClockOffsetMs) {
        line = fail_line("clock",
                         "the system clock is " + side + " NTP server " + where + ": offset " +
                             offset_text(-s.offset_ms),
                         "set the clock (timedatectl set-ntp true, or date -s) and keep an NTP client running "
                         "against " + ntp_names);
      } else {
        line = pass_line("clock", "NTP server " + where + ": system clock offset " + offset_text(-s.offset_ms) +
                                      " (stratum " + std::to_string(s.stratum) +
                                      ", delay " + std::to_string(s.delay_ms) + " ms)");
      }
      line.fact("offset_ms", -s.offset_ms).fact("stratum", s.stratum);
    }
    line.fact("server", name);
    lines.push_back(std::move(line));
  }
  return lines;
}

}  // namespace sublink
