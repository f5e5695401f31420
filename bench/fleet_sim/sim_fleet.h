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

/// The options every fleet benchmark takes.
struct FleetOptions {
  size_t devices = 0;  // the program's default until --devices N
  uint64_t seed = 1;   // --seed S
  std::string pki;     // --pki DIR
  std::string json;    // --json FILE
};

/// Reads argv[i] when it is one of FleetOptions' options (--devices N, at
/// most 60,000: 250 addresses per /24 of 10.1.0.0/16), moving `i` onto its
/// value. False when argv[i] is not one of them, or its value is missing
/// or not a whole number in range (then `bad` is set).
bool read_fleet_option(int argc, char** argv, int& i, FleetOptions& o, bool& bad);

/// `text` as a whole decimal number in [min, max]; false otherwise.
bool parse_count(const char* text, uint64_t min, uint64_t max, uint64_t& out);

/// This process's CPU time so far, in seconds.
double process_cpu_seconds();

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
