// A fleet of simulated devices, each with its own identity: the test PKI's
// CA issues a certificate for every system_id beyond the world's own device
// (SYS-0001), and each device gets its own address. Shared by the fleet's
// day (bench_fleet_sim) and the reconnection storm (bench_storm_sim).
#ifndef SUBLINK_BENCH_FLEET_SIM_SIM_FLEET_H
#define SUBLINK_BENCH_FLEET_SIM_SIM_FLEET_H

#include <string>
#include <vector>

#include "boards/sim/sim_world.h"

namespace sublink::bench {

class SimFleet {
 public:
  /// Loads the PKI in `pki_dir` (made by tests/pki/make_pki.sh; empty: the
  /// test PKI, made when missing) and issues the certificates of `devices`
  /// - 1 systems. False with `error` set when the PKI cannot be read or
  /// its CA cannot issue.
  bool prepare(size_t devices, const std::string& pki_dir, std::string& error);

  /// The credentials of the world's own device: SimWorldSetup::credentials.
  const SimCredentials* credentials() const { return credentials_; }

  /// Adds every device beyond the first to `world`, at 10.1.x.y.
  void populate(SimWorld& world);

  /// Every device, the world's own first, and their names in the timeline.
  const std::vector<SimDevice*>& devices() const { return devices_; }
  const std::vector<std::string>& names() const { return names_; }

 private:
  SimCredentials loaded_;
  const SimCredentials* credentials_ = nullptr;
  std::vector<std::string> system_ids_;
  std::vector<SimCredentials> fleet_credentials_;
  std::vector<SimDevice*> devices_;
  std::vector<std::string> names_;
};

}  // namespace sublink::bench

#endif
