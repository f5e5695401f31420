// sublinkd: the agent on Linux. It loads and checks the configuration,
// wires the agent to the link (poll(2) sockets, Mbed TLS in a fixed arena),
// to file storage in state_dir and to the system clocks, serves the local
// control socket, and runs until SIGTERM or SIGINT. SIGHUP reloads the
// certificate, key and CA files; new connections use them.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "boards/host/config/config_file.h"
#include "boards/host/link_narrator.h"
#include "boards/host/sublinkd/control_server.h"
#include "boards/host/sublinkd/sd_notify.h"
#include "linux_util/log/stderr_log.h"
#include "firmware/agent/agent.h"
#include "firmware/agent/agent_runner.h"
#include "firmware/agent/device_settings.h"
#include "firmware/json/json_arena.h"
#include "firmware/license/license_key.h"
#include "hal/linux/file_ops.h"
#include "hal/linux/file_storage.h"
#include "hal/posix/system_clock.h"
#include "hal/posix/system_random.h"
#include "net/tls/certificate_date_clock.h"
#include "net/link/link.h"
#include "net/posix/posix_network.h"
#include "net/tls/tls_arena.h"
#include "net/tls/tls_client.h"

namespace sublink {

/// Exit statuses (sysexits-style, so systemd can tell them apart).
inline constexpr int kExitStopped = 0;   // stopped by SIGTERM/SIGINT
inline constexpr int kExitFailure = 1;   // could not keep running
inline constexpr int kExitConfig = 78;   // EX_CONFIG: the configuration stops the start

class Daemon final : private ControlCommands, private FdHandler {
 public:
  /// `log_level_given`: the command line set the log level, which then
  /// wins over the configuration's `log_level`.
  Daemon(std::string config_path, StderrLog& log, bool log_level_given = false);
  ~Daemon() override;
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  /// Loads the configuration and everything it names; on failure logs one
  /// line naming the problem and returns the exit status, else 0.
  int start();
  /// Runs until a stop signal; returns the exit status.
  int run();
  /// sublinkd --check: loads and checks the configuration, its key files and
  /// certificates as start() does, with no network and nothing changed (a
  /// missing state_dir is not created). Returns 0 (and says so on stdout)
  /// or kExitConfig with the problem logged.
  int check();

 private:
  // The board's ear on the link (the runner hands each report to it, and to
  // the agent): narrates into the log, and says LINK UP at `welcome`.
  class LinkEvents final : public LinkNarrator {
   public:
    LinkEvents(Daemon& daemon, MonotonicClock& clock) : LinkNarrator(stderr, clock), daemon_(daemon) {}
    void on_link_up(const AttemptInfo& attempt, bool tls_resumed) override;
    void on_text(std::string_view message) override;
    void on_link_down(Status why) override;
    void on_round_failed(Status last, Millis retry_at) override;

   protected:
    void emit(LogLevel level, const char* line) override;

   private:
    Daemon& daemon_;
    // The open WebSocket, announced as LINK UP once `welcome` accepts it.
    AttemptInfo open_{};
    bool resumed_ = false;
    bool announced_ = false;
  };

  // ControlCommands
  std::string answer(std::string_view request, bool& subscribe) override;
  // FdHandler: the signalfd.
  void on_readable(int fd) override;

  std::string status_json();
  bool load_tls(const HostConfig& files, std::unique_ptr<TlsClientConfig>& out);
  /// The configuration, the arenas, the license key and the TLS
  /// credentials: what start() and check() share. 0 or kExitConfig.
  int load(bool create_state_dir);
  void reload();
  void stop();
  static void on_state(void* ctx, LicenseState state);

  std::string config_path_;
  StderrLog& log_;
  bool log_level_given_;
  SdNotifier notifier_;
  SystemMonotonicClock mono_;
  SystemWallClock wall_;
  // Certificate dates (PROTOCOL.md 2): the kernel clock when NTP keeps it,
  // else the server's time from welcome, else the firmware's build time.
  CertificateDateClock dates_{wall_, mono_};
  SystemRandom random_;
  PosixFileOps file_ops_;
  HostConfig host_;
  LinkEvents link_events_{*this, mono_};
  // The link reports here; it hands to link_events_ and the agent.
  AgentRunner runner_{&link_events_};

  // Mbed TLS allocates from this arena only: every Mbed TLS object below is
  // declared after it, so it is destroyed first.
  std::vector<uint8_t> tls_memory_;
  std::unique_ptr<TlsArena> tls_arena_;
  std::vector<uint8_t> json_memory_;
  std::unique_ptr<JsonArena> json_arena_;
  LicenseKey license_key_;
  std::unique_ptr<TlsClientConfig> tls_;
  // Credentials replaced by SIGHUP, kept until no attempt can use them.
  std::vector<std::unique_ptr<TlsClientConfig>> retired_tls_;
  bool prune_tls_ = false;

  std::unique_ptr<FileStorage> storage_;
  DeviceSettings settings_;
  PosixNetwork net_;
  std::unique_ptr<Link> link_;
  std::unique_ptr<Agent> agent_;
  std::unique_ptr<ControlServer> control_;
  int signal_fd_ = -1;
  bool stop_requested_ = false;
  bool reload_requested_ = false;
  LicenseState last_state_ = LicenseState::unlicensed;
};

}  // namespace sublink
