// The identity rules of PROTOCOL.md section 4, sans-I/O: one system has at
// most one link. The registry knows which session links each system and
// which `instance` said its hello. When a newer hello of the same system
// completes, the older session is the one to replace; a replacement between
// two different instances (two appliances with one identity taking turns)
// is counted per system over a sliding window, and more than
// `max_replacements` within it is a duplicate_identity alarm. A replacement
// by the same instance (a reconnect after a lost TCP connection, NAT
// rebinding: the server still holds the dead socket) or by a device that
// does not say its instance is never counted.
//
// Single-threaded, shared by every session of one server; the sessions
// register and unregister themselves (ServerSession::on_hello, on_closed
// and its destructor), so the registry never holds a session that is gone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "hal/clock.h"

namespace sublink {

class ServerSession;

/// What the server does once a system's instances take turns too often.
enum class DuplicateIdentityPolicy : uint8_t {
  flag,    // records the alarm and keeps serving the newer link
  refuse,  // records the alarm and refuses both (`error` duplicate_identity) until an operator clears it
};

/// Lower-case name ("flag", "refuse"); parse_duplicate_identity_policy reads it back.
std::string_view duplicate_identity_policy_name(DuplicateIdentityPolicy policy);
std::optional<DuplicateIdentityPolicy> parse_duplicate_identity_policy(std::string_view name);

struct IdentitySettings {
  DuplicateIdentityPolicy policy = DuplicateIdentityPolicy::flag;
  /// The sliding window replacements are counted over (section 4: an hour).
  Millis window_ms = 3600 * 1000;
  /// More counted replacements than this within the window raise the alarm.
  size_t max_replacements = 3;
};

/// What a completed hello means for its system.
struct IdentityVerdict {
  /// The session that linked the system until now: it is replaced (nullptr:
  /// the system had no link).
  ServerSession* replaced = nullptr;
  /// The replaced link's instance (nullopt when it said none or there was none).
  std::optional<std::string> replaced_instance;
  /// The replacement was between two different instances: counted.
  bool counted = false;
  /// Counted replacements of the system within the window, this one included.
  size_t replacements_in_window = 0;
  /// More than max_replacements within the window: a duplicate_identity alarm.
  bool duplicate = false;
};

class IdentityRegistry {
 public:
  explicit IdentityRegistry(IdentitySettings settings = {}) : settings_(settings) {}
  IdentityRegistry(const IdentityRegistry&) = delete;
  IdentityRegistry& operator=(const IdentityRegistry&) = delete;

  const IdentitySettings& settings() const { return settings_; }

  /// `session` completed the hello of `system_id` with `instance` at `now`
  /// and links the system from now on. The verdict names the session it
  /// replaces (the caller tells that one) and whether the system's
  /// instances now take turns too often.
  IdentityVerdict link(std::string_view system_id, const std::optional<std::string>& instance,
                       ServerSession& session, Millis now);

  /// `session` no longer links `system_id` (it closed, was refused or is
  /// destroyed). Nothing happens when another session links it now.
  void unlink(std::string_view system_id, const ServerSession& session);

  /// The session linking `system_id`, nullptr when none.
  ServerSession* link_of(std::string_view system_id) const;

  /// Counted replacements of `system_id` within the window ending at `now`.
  size_t replacements(std::string_view system_id, Millis now);

  /// Forgets the counted replacements of `system_id` (an operator cleared
  /// its alarm: the count starts again from nothing).
  void forget_replacements(std::string_view system_id);

 private:
  struct SystemLinks {
    ServerSession* link = nullptr;
    std::optional<std::string> instance;  // of `link`
    std::deque<Millis> replacements;      // counted ones within the window, oldest first
  };
  void prune(SystemLinks& system, Millis now) const;
  /// Drops the entry of a system with no link and nothing counted.
  void tidy(std::map<std::string, SystemLinks, std::less<>>::iterator it);

  IdentitySettings settings_;
  std::map<std::string, SystemLinks, std::less<>> systems_;
};

}  // namespace sublink
