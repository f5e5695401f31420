#include "server_core/identity_registry.h"

namespace sublink {

std::string_view duplicate_identity_policy_name(DuplicateIdentityPolicy policy) {
  return policy == DuplicateIdentityPolicy::refuse ? "refuse" : "flag";
}

std::optional<DuplicateIdentityPolicy> parse_duplicate_identity_policy(std::string_view name) {
  if (name == "flag") return DuplicateIdentityPolicy::flag;
  if (name == "refuse") return DuplicateIdentityPolicy::refuse;
  return std::nullopt;
}

void IdentityRegistry::prune(SystemLinks& system, Millis now) const {
  // A replacement exactly one window ago is out of it: "within an hour".
  while (!system.replacements.empty() && now - system.replacements.front() >= settings_.window_ms) {
    system.replacements.pop_front();
  }
}

void IdentityRegistry::tidy(std::map<std::string, SystemLinks, std::less<>>::iterator it) {
  if (it->second.link == nullptr && it->second.replacements.empty()) systems_.erase(it);
}

IdentityVerdict IdentityRegistry::link(std::string_view system_id, const std::optional<std::string>& instance,
                                       ServerSession& session, Millis now) {
  auto it = systems_.find(system_id);
  if (it == systems_.end()) it = systems_.emplace(std::string(system_id), SystemLinks{}).first;
  SystemLinks& system = it->second;
  prune(system, now);
  IdentityVerdict verdict;
  if (system.link != nullptr && system.link != &session) {
    verdict.replaced = system.link;
    verdict.replaced_instance = system.instance;
    // Only two instances that both said who they are can be told apart: the
    // same instance again is a reconnect, never a clone.
    verdict.counted = instance && system.instance && *instance != *system.instance;
    if (verdict.counted) system.replacements.push_back(now);
  }
  verdict.replacements_in_window = system.replacements.size();
  verdict.duplicate = system.replacements.size() > settings_.max_replacements;
  system.link = &session;
  system.instance = instance;
  return verdict;
}

void IdentityRegistry::unlink(std::string_view system_id, const ServerSession& session) {
  auto it = systems_.find(system_id);
  if (it == systems_.end() || it->second.link != &session) return;
  it->second.link = nullptr;
  // A hello is judged only against a link held at that moment: the
  // instance goes with the link, the count of replacements stays.
  it->second.instance.reset();
  tidy(it);
}

ServerSession* IdentityRegistry::link_of(std::string_view system_id) const {
  auto it = systems_.find(system_id);
  return it == systems_.end() ? nullptr : it->second.link;
}

size_t IdentityRegistry::replacements(std::string_view system_id, Millis now) {
  auto it = systems_.find(system_id);
  if (it == systems_.end()) return 0;
  prune(it->second, now);
  const size_t n = it->second.replacements.size();
  tidy(it);
  return n;
}

void IdentityRegistry::forget_replacements(std::string_view system_id) {
  auto it = systems_.find(system_id);
  if (it == systems_.end()) return;
  it->second.replacements.clear();
  tidy(it);
}

}  // namespace sublink
