#include "boards/host/sublinkd/daemon.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "linux_util/control/control_protocol.h"
#include "net/posix/posix_lookups.h"
#include "net/tls/tls_time.h"

namespace sublink {

namespace {

// Mbed TLS: the configuration and the kept sessions, plus up to
// max_parallel_attempts handshakes (about 46 KB each with 16 KB records),
// plus one set of reloaded credentials.
constexpr size_t kTlsArenaBytes = 512 * 1024;
// cJSON: a message of max_message_bytes and the license inside a grant.
constexpr size_t kJsonArenaBytes = 512 * 1024;
// Largest record the agent stores (the event log at its capacity fits).
constexpr size_t kMaxRecordBytes = 64 * 1024;
constexpr Millis kLongestWait = 60 * 1000;
constexpr Millis kCloseWait = 3000;

std::string_view sv(const std::string& s) { return {s.data(), s.size()}; }
std::string str(std::string_view v) { return std::string(v); }

// The appliance's firmware as hello's `fw` says it: on Linux, the kernel.
std::string firmware_version() {
  utsname u{};
  if (uname(&u) != 0) return "linux";
  return std::string("linux-") + u.release;
}

std::string error_json(std::string_view text) {
  std::string out(kMaxControlAnswer, '\0');
  JsonWriter w(out);
  w.begin_object().key("ok").boolean(false).key("error").string(text).end_object();
  Result<size_t> n = w.finish();
  out.resize(n.ok() ? *n : 0);
  return out;
}

}  // namespace

Daemon::Daemon(std::string config_path, StderrLog& log, bool log_level_given)
    : config_path_(std::move(config_path)), log_(log), log_level_given_(log_level_given) {}

Daemon::~Daemon() {
  // The control socket and the agent go before the link, the link before
  // the credentials it borrows, and those before the arena they live in:
  // members are destroyed in reverse order, which the header keeps.
  control_.reset();
  runner_.detach();
  agent_.reset();
  link_.reset();
  if (signal_fd_ >= 0) ::close(signal_fd_);
  install_tls_wall_clock(nullptr);
}

bool Daemon::load_tls(const HostConfig& files, std::unique_ptr<TlsClientConfig>& out) {
  auto tls = std::make_unique<TlsClientConfig>();
  TlsClientCredentials creds;
  creds.trust_anchors_pem = sv(files.ca_pem);
  creds.certificate_chain_pem = sv(files.cert_pem);
  creds.private_key_pem = sv(files.key_pem);
  Status s = tls->load(creds, random_);
  if (!s.ok()) {
    log_.write(LogLevel::error, "cannot use the certificate, key or CA files: %s (Mbed TLS %d) - %s",
               reason_name(s.reason()), static_cast<int>(s.detail()), reason_hint(s.reason()));
    return false;
  }
  out = std::move(tls);
  return true;
}

int Daemon::start() {
  // Signals arrive as readable data on the poll loop, never in the middle
  // of the agent's work; blocked first, so a SIGTERM during start-up waits
  // for the loop instead of killing the process half-way.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGHUP);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  signal(SIGPIPE, SIG_IGN);
  signal_fd_ = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signal_fd_ < 0 || !net_.watch(signal_fd_, static_cast<FdHandler*>(this))) {
    log_.write(LogLevel::error, "cannot watch for signals: %s", strerror(errno));
    return kExitFailure;
  }

  if (const int rc = load(true); rc != 0) return rc;
  const DeviceConfig& config = *host_.config;
  install_tls_certificate_clock(&dates_);

  storage_ = std::make_unique<FileStorage>(file_ops_, config.state_dir.view(), kMaxRecordBytes);
  Status s = storage_->open();
  if (!s.ok()) {
    log_.write(LogLevel::error, "state_dir %s unusable: %s (%s)", str(config.state_dir.view()).c_str(), reason_name(s.reason()),
               strerror(static_cast<int>(s.detail())));
    return kExitFailure;
  }

  static const std::string fw = firmware_version();
  derive_device_settings(config, settings_);
  settings_.agent.fw = fw;
  settings_.agent.agent_version = SUBLINK_VERSION;
  settings_.agent.log = log_.sink();
  settings_.agent.certificate_clock = &dates_;
  settings_.agent.resolver_words = posix_resolver_words;
  settings_.link.user_agent = "sublink/" SUBLINK_VERSION;

  link_ = std::make_unique<Link>(settings_.link, *tls_, net_, random_, runner_);
  agent_ = std::make_unique<Agent>(settings_.agent, *link_, *storage_, mono_, wall_, license_key_, random_);
  agent_->enable_tunnels(net_, *link_);
  runner_.attach(*agent_, *link_);

  control_ = std::make_unique<ControlServer>(net_, static_cast<ControlCommands&>(*this));
  std::string error;
  if (!control_->listen(control_socket_path(config.state_dir.view()), error).ok()) {
    log_.write(LogLevel::error, "control socket: %s", error.c_str());
    return kExitFailure;
  }


  Millis now = mono_.now_ms();
  s = agent_->boot(now);
  if (!s.ok()) {
    log_.write(LogLevel::error, "state_dir %s: %s (%s); started with safe defaults", str(config.state_dir.view()).c_str(),
               reason_name(s.reason()),
               s.reason() == Reason::io_error ? strerror(static_cast<int>(s.detail())) : storage_failure_text(s));
  }
  last_state_ = agent_->state();
  agent_->set_state_callback(&Daemon::on_state, this);
  char ports[64] = {};
  size_t pos = 0;
  for (uint16_t p : config.port_list()) {
    pos += static_cast<size_t>(snprintf(ports + pos, sizeof ports - pos, pos ? ",%u" : "%u", p));
  }
  if (notifier_.watchdog_ms() > 0) {
    log_.write(LogLevel::info, "systemd watchdog: WATCHDOG=1 every %lld ms", static_cast<long long>(notifier_.watchdog_ms() / 2));
  }
  log_.write(LogLevel::notice, "started %s: system %s of customer %s, server %s ports %s%s, state %s, boot %llu",
             SUBLINK_VERSION, str(config.system_id.view()).c_str(), str(config.customer_id.view()).c_str(), str(config.server.view()).c_str(), ports,
             config.has_proxy ? " via proxy" : "", str(state_name(agent_->state())).c_str(),
             static_cast<unsigned long long>(agent_->snapshot().boot));
  agent_->start(now);
  // Serving from here on: the control socket answers and the link runs.
  (void)notifier_.notify("READY=1\nSTATUS=serving: the link starts to " + str(config.server.view()));
  return 0;
}

int Daemon::load(bool create_state_dir) {
  ConfigError e = load_config_file(config_path_, host_, create_state_dir);
  if (!e.ok()) {
    log_.write(LogLevel::error, "%.*s", static_cast<int>(e.message().size()), e.message().data());
    return kExitConfig;
  }
  if (!log_level_given_) log_.set_max_level(static_cast<LogLevel>(host_.config->log_level));

  tls_memory_.resize(kTlsArenaBytes);
  tls_arena_ = std::make_unique<TlsArena>(tls_memory_);
  json_memory_.resize(kJsonArenaBytes);
  json_arena_ = std::make_unique<JsonArena>(json_memory_);
  json_arena_->install();

  Status s = license_key_.load(sv(host_.license_key_pem));
  if (!s.ok()) {
    log_.write(LogLevel::error, "config: 'license_key_file': not an EC P-256 public key (%s)", reason_name(s.reason()));
    return kExitConfig;
  }
  if (!load_tls(host_, tls_)) return kExitConfig;
  return 0;
}

int Daemon::check() {
  if (const int rc = load(false); rc != 0) return rc;
  const DeviceConfig& config = *host_.config;
  std::string ports;
  for (uint16_t p : config.port_list()) ports += (ports.empty() ? "" : ",") + std::to_string(p);
  printf("%s: OK: system %s of customer %s, server %s ports %s%s, certificate CN=%.*s, state_dir %s\n",
         config_path_.c_str(), str(config.system_id.view()).c_str(), str(config.customer_id.view()).c_str(),
         str(config.server.view()).c_str(), ports.c_str(), config.has_proxy ? " via proxy" : "",
         static_cast<int>(tls_->device_common_name().size()), tls_->device_common_name().data(),
         str(config.state_dir.view()).c_str());
  return 0;
}

int Daemon::run() {
  while (!stop_requested_) {
    if (reload_requested_) {
      reload_requested_ = false;
      reload();
    }
    if (prune_tls_) {
      // Reported after the link released its attempt: nothing started
      // before the reload can still use the old credentials.
      retired_tls_.clear();
      prune_tls_ = false;
    }
    Millis now = mono_.now_ms();
    Millis next = std::min(runner_.step(now), notifier_.keep_alive(now));
    Millis wait = std::clamp<Millis>(next - mono_.now_ms(), 0, kLongestWait);
    net_.wait(wait);
  }
  stop();
  return kExitStopped;
}

void Daemon::stop() {
  (void)notifier_.notify("STOPPING=1");
  log_.write(LogLevel::notice, "stopping: closing the link (1001 going away)");
  Millis now = mono_.now_ms();
  agent_->shutdown(now);
  Millis until = now + kCloseWait;
  while (!link_->idle() && mono_.now_ms() < until) {
    link_->poll(mono_.now_ms());
    net_.wait(50);
  }
  log_.write(LogLevel::notice, "stopped (TLS arena peak %zu bytes)", TlsArena::peak_bytes());
}

void Daemon::reload() {
  HostConfig fresh;
  ConfigError e = load_config_file(config_path_, fresh);
  if (!e.ok()) {
    log_.write(LogLevel::error, "reload refused, keeping the current certificates: %.*s",
               static_cast<int>(e.message().size()), e.message().data());
    return;
  }
  if (fresh.config->system_id.view() != host_.config->system_id.view()) {
    log_.write(LogLevel::error, "reload refused: system_id changed to %s (restart sublinkd to change identity)",
               str(fresh.config->system_id.view()).c_str());
    return;
  }
  std::unique_ptr<TlsClientConfig> tls;
  if (!load_tls(fresh, tls)) {
    log_.write(LogLevel::error, "reload refused, keeping the current certificates");
    return;
  }
  retired_tls_.push_back(std::move(tls_));
  tls_ = std::move(tls);
  link_->set_tls(*tls_);
  log_.write(LogLevel::notice,
             "reloaded cert_file, key_file and ca_file (CN=%.*s): the next connection uses them; other settings "
             "change at restart",
             static_cast<int>(tls_->device_common_name().size()), tls_->device_common_name().data());
}

void Daemon::on_readable(int fd) {
  signalfd_siginfo info{};
  while (::read(fd, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
    if (info.ssi_signo == SIGHUP) {
      log_.write(LogLevel::notice, "SIGHUP: reloading certificates");
      reload_requested_ = true;
    } else {
      log_.write(LogLevel::notice, "%s received", info.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
      stop_requested_ = true;
    }
  }
}

// ---- Link events ---------------------------------------------------------------

void Daemon::LinkEvents::emit(LogLevel level, const char* line) { daemon_.log_.write(level, "%s", line); }

void Daemon::LinkEvents::on_link_up(const AttemptInfo& attempt, bool tls_resumed) {
  // Not LINK UP yet: a server that refuses the device (`error`, close 1008)
  // also completes the upgrade. The link is up when `welcome` accepts it.
  say_websocket_open(attempt);
  open_ = attempt;
  resumed_ = tls_resumed;
  announced_ = false;
}

void Daemon::LinkEvents::on_text(std::string_view message) {
  // The agent has handled the message (the runner tells the board after it).
  LinkNarrator::on_text(message);
  if (!announced_ && daemon_.agent_->link_accepted()) {
    announced_ = true;
    announce_link_up(open_, resumed_);
  }
}

void Daemon::LinkEvents::on_link_down(Status why) {
  announced_ = false;
  LinkNarrator::on_link_down(why);
  if (!daemon_.retired_tls_.empty()) daemon_.prune_tls_ = true;
}

void Daemon::LinkEvents::on_round_failed(Status last, Millis retry_at) {
  LinkNarrator::on_round_failed(last, retry_at);
  if (!daemon_.retired_tls_.empty()) daemon_.prune_tls_ = true;
}

// ---- State and control ---------------------------------------------------------

void Daemon::on_state(void* ctx, LicenseState state) {
  auto* d = static_cast<Daemon*>(ctx);
  if (state != d->last_state_) {
    d->log_.write(state == LicenseState::expired ? LogLevel::critical : LogLevel::notice, "state %s -> %s",
                  str(state_name(d->last_state_)).c_str(), str(state_name(state)).c_str());
    d->last_state_ = state;
  }
  if (d->control_) d->control_->broadcast(d->status_json());
}

std::string Daemon::status_json() {
  std::string out(kMaxControlAnswer, '\0');
  JsonWriter w(out);
  write_status_json(w, agent_->snapshot());
  Result<size_t> n = w.finish();
  if (!n.ok()) return error_json("status does not fit the answer");
  out.resize(*n);
  return out;
}

std::string Daemon::answer(std::string_view request, bool& subscribe) {
  std::string_view words[4];
  size_t count = 0;
  size_t i = 0;
  while (i < request.size() && count < 4) {
    while (i < request.size() && request[i] == ' ') ++i;
    size_t start = i;
    while (i < request.size() && request[i] != ' ') ++i;
    if (i > start) words[count++] = request.substr(start, i - start);
  }
  std::string_view command = count > 0 ? words[0] : std::string_view{};
  if (command == "status" && count == 1) return status_json();
  if (command == "watch" && count == 1) {
    subscribe = true;
    return status_json();
  }
  if (command == "feature" && count == 2) {
    std::string out(kMaxControlAnswer, '\0');
    JsonWriter w(out);
    w.begin_object()
        .key("name").string(words[1])
        .key("enabled").boolean(agent_->feature_enabled(words[1]))
        .key("qty").integer(agent_->feature_quantity(words[1]))
        .key("state").string(state_name(agent_->state()))
        .end_object();
    Result<size_t> n = w.finish();
    if (!n.ok()) return error_json("feature name is not valid UTF-8");
    out.resize(*n);
    return out;
  }
  if (command == "usage" && count == 3) {
    std::string count_text(words[2]);
    char* end = nullptr;
    errno = 0;
    long long in_use = strtoll(count_text.c_str(), &end, 10);
    if (count_text.empty() || *end != '\0' || errno != 0) {
      return error_json("usage: COUNT must be a whole number, got '" + count_text + "'");
    }
    if (in_use < 0 || in_use > kMaxFeatureQuantity) {
      return error_json("usage: COUNT " + count_text + " is outside 0.." + std::to_string(kMaxFeatureQuantity));
    }
    Status s = agent_->report_usage(words[1], in_use);
    if (!s.ok()) {
      std::string configured;
      for (const ConfiguredFeature& f : host_.config->feature_list()) {
        configured += (configured.empty() ? "" : ", ") + std::string(f.name.view());
      }
      return error_json("usage: NAME '" + std::string(words[1]) + "' is not a configured feature (configured: " +
                        (configured.empty() ? "none" : configured) + ")");
    }
    return "{\"ok\":true}";
  }
  return error_json("unknown request '" + std::string(request.substr(0, 40)) +
                    "' (status, watch, feature NAME, usage NAME COUNT)");
}

}  // namespace sublink
