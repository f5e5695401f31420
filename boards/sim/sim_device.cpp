#include "boards/sim/sim_device.h"

#include <algorithm>

#include "firmware/events/event.h"
#include "firmware/license/license_key.h"
#include "net/tls/tls_client.h"
#include "net/tls/certificate_date_clock.h"
#include "net/tls/tls_time.h"

namespace sublink {

namespace {
std::string describe(const Event& e) {
  std::string s = "event #" + std::to_string(e.seq) + " " + std::string(kind_name(e.kind)) + " " +
                  std::string(severity_name(e.severity));
  if (e.payload.days_left >= 0) s += " days_left=" + std::to_string(e.payload.days_left);
  if (e.payload.detail != 0) s += " detail=" + std::to_string(e.payload.detail);
  if (!e.payload.text_view().empty()) s += " " + std::string(e.payload.text_view());
  return s;
}
}  // namespace

// The board's ear on the link (the AgentRunner hands each report to it and
// to the agent): notes the reports a reader of the timeline wants.
class SimDevice::Listener final : public LinkListener {
 public:
  explicit Listener(SimDevice& d) : d_(d) {}
  void on_round_failed(Status last, Millis retry_at) override {
    ++d_.failed_rounds_;
    if (last == last_failure_) return;  // a link that keeps failing the same way is one line
    last_failure_ = last;
    d_.note(std::string("link rounds failing: ") + reason_name(last.reason()) + " (next round in " +
            std::to_string((retry_at - d_.boot_clock_.now_ms()) / 1000) + " s)");
  }
  void on_link_up(const AttemptInfo& attempt, bool resumed) override {
    last_failure_ = Status::Ok();
    d_.note("link up port " + std::to_string(attempt.port) + (resumed ? " (tls resumed)" : ""));
  }
  void on_link_down(Status why) override { d_.note(std::string("link down ") + reason_name(why.reason())); }

 private:
  SimDevice& d_;
  Status last_failure_;
};

// What lives only while the device is powered: the board builds it at boot.
struct SimDevice::Running {
  explicit Running(SimDevice& d)
      : dates(d.rtc_, d.boot_clock_),
        runner(d.listener_.get()),
        link(d.settings_.link, tls, d.net_.client(d.setup_.address), d.random_, runner),
        config(with_clock(d.settings_.agent, &dates)),
        agent(config, link, d.storage_, d.boot_clock_, d.rtc_, key, d.random_) {
    runner.attach(agent, link);
    // A device with `services` reaches them as sublinkd does: its local
    // sockets on the same network, its channels on the link.
    if (!d.settings_.agent.tunnels.services.empty()) agent.enable_tunnels(d.net_.client(d.setup_.address), link);
  }
  static AgentConfig with_clock(AgentConfig config, CertificateDateClock* dates) {
    config.certificate_clock = dates;
    return config;
  }
  // The certificate clock, as a board keeps it in RAM: what the server's
  // time taught it is gone at the next boot.
  CertificateDateClock dates;
  TlsClientConfig tls;
  LicenseKey key;
  AgentRunner runner;  // the link reports here: to the board's listener, then the agent
  Link link;
  AgentConfig config;  // the agent's, with this boot's certificate clock
  Agent agent;
};

// While the device's code runs: its JSON arena takes cJSON's allocations and
// its certificate clock (over its RTC) is the clock TLS checks certificates
// with. The server in the same process runs outside any scope (heap, true time).
class SimDevice::Scope {
 public:
  explicit Scope(SimDevice& d)
      : arena_(JsonArena::active()), clock_(installed_tls_wall_clock()), dates_(installed_tls_certificate_clock()) {
    d.arena_.install();
    if (d.running_) {
      install_tls_certificate_clock(&d.running_->dates);
    } else {
      install_tls_wall_clock(&d.rtc_);
    }
  }
  ~Scope() {
    if (arena_ != nullptr) {
      arena_->install();
    } else {
      JsonArena::uninstall();
    }
    if (dates_ != nullptr) {
      install_tls_certificate_clock(dates_);
    } else {
      install_tls_wall_clock(clock_);
    }
  }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  JsonArena* arena_;
  WallClock* clock_;
  CertificateDateClock* dates_;
};

SimDevice::SimDevice(SimNetwork& net, const SimDeviceSetup& setup, SimTimeline& timeline)
    : net_(net),
      setup_(setup),
      timeline_(timeline),
      boot_clock_(net.clock()),
      rtc_(net.clock()),
      random_(setup.seed),
      storage_(setup.flash, setup.layout, setup.seed ^ 0xf1a5),
      arena_bytes_(setup.json_arena_bytes),
      arena_(arena_bytes_),
      listener_(std::make_unique<Listener>(*this)),
      scratch_events_(std::max(setup.event_capacity, EventQueue::kMinCapacity)),
      invariants_(to_grace_config(setup.config)) {
  derive_device_settings(setup_.config, settings_);
  AgentConfig& a = settings_.agent;
  a.fw = setup_.fw;
  a.event_capacity = setup_.event_capacity;
  a.log.write = [](void* ctx, LogLevel, std::string_view what, std::string_view detail) {
    // Events are noted with their seq once they are stored (record_events).
    if (what == "event") return;
    static_cast<SimDevice*>(ctx)->note("log: " + std::string(what) +
                                       (detail.empty() ? std::string() : " (" + std::string(detail) + ")"));
  };
  a.log.ctx = this;

  storage_.on_write([this](const SimWrite& w, std::span<const uint8_t> bytes) {
    if (w.result.ok() && w.record == RecordId::events) record_events(bytes);
    if (w.result.ok() && w.index == wipe_after_write_) {
      wipe_pending_ = true;
      lose_power("power off after storage write #" + std::to_string(w.index) + " (" + record_name(w.record) +
                 "): the state is wiped");
    }
  });
  storage_.on_power_cut([this](const SimWrite& w) {
    lose_power("power cut in storage write #" + std::to_string(w.index) + " (" + record_name(w.record) + ")");
  });
  // Every network event of the host reaches the device's owners (the link)
  // the way a board's loop would run it: only while the device runs, and a
  // power cut inside takes effect once it returns.
  net_.client(setup_.address).set_event_gate([this](const std::function<void()>& event) {
    if (!running_) return;
    {
      Scope scope(*this);
      event();
    }
    after_entry();
  });
  net_.set_host_power(setup_.address, false);
  pollable_ = net_.add_pollable([this](Millis now) { return poll(now); }, setup_.address);
}

SimDevice::~SimDevice() {
  net_.remove_pollable(pollable_);
  {
    Scope scope(*this);
    running_.reset();
  }
  net_.client(setup_.address).set_event_gate(nullptr);
}

void SimDevice::note(std::string what) {
  // After a power cut the CPU is dead: what the code still does until the
  // call unwinds never happened.
  if (cut_pending_) return;
  timeline_.add(net_.now(), setup_.name, std::move(what));
}

// ---- Power ---------------------------------------------------------------------

Status SimDevice::boot() {
  if (running_) return Status::Ok();
  ++power_epoch_;
  boot_clock_.restart();
  rtc_.forget_trust();
  if (setup_.rtc_trusted_at_boot) rtc_.sync_from_ntp();
  cut_pending_ = false;
  net_.set_host_power(setup_.address, true);
  Status mounted = storage_.mount();
  if (!mounted.ok()) {
    note(std::string("boot failed: storage layout ") + reason_name(mounted.reason()));
    net_.set_host_power(setup_.address, false);
    return mounted;
  }
  ++boots_;
  const WallTime wall = rtc_.now();
  note("boot #" + std::to_string(boots_) + (wall.set ? "" : " (rtc not set)"));
  if (boot_observer_) boot_observer_(*this, SimBootPhase::mounted);
  Scope scope(*this);
  auto running = std::make_unique<Running>(*this);
  const SimCredentials& cred = *setup_.credentials;
  Status s = running->tls.load({cred.ca_pem, cred.device_cert_pem, cred.device_key_pem}, random_);
  if (s.ok()) s = running->key.load(cred.license_public_pem);
  if (!s.ok()) {
    note(std::string("boot failed: credentials ") + reason_name(s.reason()));
    storage_.unmount();
    net_.set_host_power(setup_.address, false);
    return s;
  }
  running_ = std::move(running);
  last_state_.reset();
  running_->agent.set_state_callback(
      [](void* ctx, LicenseState state) {
        auto* d = static_cast<SimDevice*>(ctx);
        if (d->last_state_ == state) return;
        d->last_state_ = state;
        d->note("state " + std::string(state_name(state)));
      },
      this);
  // Events already stored were noted when they were written (this run) or
  // belong to an earlier life; only newer ones are noted from here on.
  for (const Event& e : stored_events()) last_logged_seq_[e.stream] = std::max(last_logged_seq_[e.stream], e.seq);
  Status booted = running_->agent.boot(boot_clock_.now_ms());
  if (!booted.ok()) note(std::string("boot: storage error ") + reason_name(booted.reason()));
  const uint64_t refused = storage_.refused_writes(RecordId::grace);
  invariants_.on_boot(running_->agent.snapshot().damaged_count > 0 || refused > grace_writes_refused_);
  grace_writes_refused_ = refused;
  if (cut_pending_) {
    after_entry();
    return Status::Ok();
  }
  if (boot_observer_) boot_observer_(*this, SimBootPhase::booted);
  running_->agent.start(boot_clock_.now_ms());
  schedule_ntp();
  return Status::Ok();
}

void SimDevice::reboot() {
  if (!running_) {
    (void)boot();  // boot() notes its own failure in the timeline
    return;
  }
  if (rebooting_) return;
  note("reboot: orderly shutdown");
  rebooting_ = true;
  reboot_deadline_ = net_.now() + kRebootCloseMs;
  {
    Scope scope(*this);
    running_->agent.shutdown(boot_clock_.now_ms());
  }
  after_entry();
}

void SimDevice::finish_reboot() {
  rebooting_ = false;
  ++power_epoch_;
  {
    Scope scope(*this);
    running_.reset();
  }
  storage_.unmount();
  net_.set_host_power(setup_.address, false);
  (void)boot();  // boot() notes its own failure in the timeline
}

void SimDevice::power_off(Millis for_ms) {
  rebooting_ = false;
  if (running_) lose_power("power off");
  after_entry();
  if (for_ms != kNever) schedule_boot(net_.now() + for_ms, "power back");
}

void SimDevice::lose_power(const std::string& why) {
  // The CPU stops here: nothing more may reach the network. The objects are
  // taken down once the call that was running has returned (after_entry).
  net_.set_host_power(setup_.address, false);
  if (!cut_pending_) note(why);
  cut_pending_ = true;
}

void SimDevice::after_entry() {
  if (!cut_pending_ && running_ && !rebooting_) {
    const uint64_t welcomes = setup_.welcomes_sent ? setup_.welcomes_sent() : 0;
    for (const std::string& broken : invariants_.check(running_->agent, welcomes)) {
      ++invariants_broken_;
      note("INVARIANT " + broken);
      if (setup_.on_invariant_broken) setup_.on_invariant_broken(broken);
    }
  }
  if (!cut_pending_) return;
  cut_pending_ = false;
  ++power_epoch_;
  if (running_) {
    Scope scope(*this);
    running_.reset();
  }
  if (wipe_pending_) {
    for (const Event& e : stored_events()) wiped_events_.push_back(e);
  }
  storage_.unmount();
  if (wipe_pending_) {
    wipe_pending_ = false;
    ++wipes_;
    storage_.wipe();
    schedule_boot(net_.now() + wipe_back_after_, "power back on a wiped state");
  }
  if (storage_.flash().power_lost()) {
    ++power_cuts_;
    if (power_back_after_cut_ != kNever) schedule_boot(net_.now() + power_back_after_cut_, "power back");
  }
}

void SimDevice::schedule_boot(Millis at_world, const char* why) {
  const uint64_t epoch = power_epoch_;
  std::string reason = why;
  net_.at(at_world, [this, epoch, reason] {
    if (epoch != power_epoch_ || running_) return;  // something else powered it meanwhile
    note(reason);
    (void)boot();  // boot() notes its own failure in the timeline
  });
}

void SimDevice::schedule_ntp() {
  if (setup_.ntp_after_boot_ms < 0) return;
  const uint64_t epoch = power_epoch_;
  net_.at(net_.now() + setup_.ntp_after_boot_ms, [this, epoch] {
    if (epoch == power_epoch_ && running_) ntp_sync();
  });
}

void SimDevice::wipe_after_write(uint64_t write_index, Millis back_after_ms) {
  wipe_after_write_ = write_index;
  wipe_back_after_ = back_after_ms;
}

void SimDevice::cut_power_in_write(uint64_t write_index, uint64_t operations_in) {
  storage_.cut_power_in_write(write_index, operations_in);
}

// ---- Clock ---------------------------------------------------------------------

void SimDevice::set_clock(Millis utc_ms) {
  const Millis before = rtc_.now().utc_ms;
  rtc_.set(utc_ms);
  note("rtc set by " + std::to_string((utc_ms - before) / 1000) + " s");
}

void SimDevice::jump_clock(Millis delta_ms) {
  rtc_.jump(delta_ms);
  note("rtc jumped by " + std::to_string(delta_ms / 1000) + " s");
}

void SimDevice::lose_clock() {
  rtc_.lose();
  note("rtc lost (reads 1970)");
}

void SimDevice::ntp_sync() {
  const Millis error = rtc_.is_set() ? rtc_.error_ms() : 0;
  rtc_.sync_from_ntp();
  note("ntp sync" + (error != 0 ? " (rtc was off by " + std::to_string(error / 1000) + " s)" : std::string()));
}

// ---- Observation -----------------------------------------------------------------

Agent* SimDevice::agent() { return running_ ? &running_->agent : nullptr; }

Link* SimDevice::link() { return running_ ? &running_->link : nullptr; }

AgentStatus SimDevice::status() const { return running_ ? running_->agent.snapshot() : AgentStatus{}; }

std::vector<Event> SimDevice::stored_events() {
  std::vector<Event> out;
  if (!running_ && storage_.power_lost()) return out;
  std::vector<uint8_t> record(EventQueue::max_serialized_size(scratch_events_.capacity()));
  Result<size_t> size = storage_.read(RecordId::events, record);
  if (!size.ok() || !scratch_events_.restore({record.data(), *size}).ok()) return out;
  for (const Event& e : scratch_events_.events()) out.push_back(e);
  return out;
}

void SimDevice::record_events(std::span<const uint8_t> record) {
  if (!scratch_events_.restore(record).ok()) return;
  for (const Event& e : scratch_events_.events()) {
    uint64_t& last = last_logged_seq_[e.stream];
    if (e.seq <= last) continue;
    last = e.seq;
    recorded_.push_back(e);
    if (e.kind == EventKind::license_revoked) invariants_.on_revoked(std::string(e.payload.text_view()));
    note(describe(e));
  }
}

// ---- Driving -------------------------------------------------------------------

Millis SimDevice::poll(Millis world_now) {
  if (!running_) return kNever;
  if (rebooting_ && (running_->link.idle() || world_now >= reboot_deadline_)) finish_reboot();
  if (!running_) return kNever;
  Millis next;
  {
    Scope scope(*this);
    const Millis now = boot_clock_.now_ms();
    if (rebooting_) {
      // After shutdown() the agent is not stepped: only the link finishes its close.
      next = cut_pending_ ? kNever : running_->link.poll(now);
    } else if (cut_pending_) {
      next = running_->agent.step(now);  // the power goes at the end of this entry: the link is not polled
    } else {
      next = running_->runner.step(now);
    }
  }
  after_entry();
  if (!running_) return kNever;
  next = boot_clock_.to_world(next);
  return rebooting_ ? std::min(next, reboot_deadline_) : next;
}

}  // namespace sublink
