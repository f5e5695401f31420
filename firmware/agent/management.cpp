#include "firmware/agent/management.h"

#include <algorithm>

#include "firmware/json/json_reader.h"

namespace sublink {

namespace {
bool params_empty_or_object(const cJSON* params) {
  JsonType t = json_type_of(params);
  return t == JsonType::missing || t == JsonType::null || t == JsonType::object;
}
}  // namespace

// In ManagementMethod order.
const Management::Method Management::kMethods[kManagementMethodCount] = {
    {&Management::status_get, true}, {&Management::license_refresh, true}, {&Management::audit_now, true},
    {&Management::events_get, true}, {&Management::tunnels_list, true},
};

bool Management::allowed(std::string_view method) const {
  return std::find(p_.allowed_methods.begin(), p_.allowed_methods.end(), method) != p_.allowed_methods.end();
}

void Management::answer_error(int64_t id, std::string_view code, std::string_view message) {
  (void)p_.outbox.commit(build_response_error(p_.outbox.space(), id, code, message));
}

void Management::answer_empty(int64_t id) {
  (void)p_.outbox.commit(build_response_ok(p_.outbox.space(), id, [](JsonWriter& w) { w.begin_object().end_object(); }));
}

void Management::on_request(const Request& q, int64_t id, Millis now) {
  ManagementMethod method{};
  if (!find_management_method(q.method, method)) return answer_error(id, "unknown_method", q.method);
  if (!allowed(q.method)) return answer_error(id, "not_allowed", q.method);
  const Method& row = kMethods[static_cast<size_t>(method)];
  if (row.object_params && !params_empty_or_object(q.params)) {
    return answer_error(id, "bad_params", "params must be an object");
  }
  (this->*row.handle)(q, id, now);
}

void Management::status_get(const Request& /*q*/, int64_t id, Millis /*now*/) {
  AgentStatus s = p_.status.snapshot();
  const auto write = [&](JsonWriter& w) { write_status_json(w, s); };
  Result<size_t> built = build_response_ok(p_.outbox.space(), id, write);
  if (!built.ok() && !s.tunnels.empty()) {
    // Many channels with long names beside a large license: the channels
    // go, counted, and tunnels.list (which always fits) lists them.
    s.tunnels_omitted = s.tunnels.size();
    s.tunnels = {};
    built = build_response_ok(p_.outbox.space(), id, write);
  }
  if (!built.ok()) return answer_error(id, "too_big", "the status does not fit one message now");
  (void)p_.outbox.commit(built);
}

void Management::license_refresh(const Request& /*q*/, int64_t id, Millis /*now*/) {
  answer_empty(id);
  p_.license.request();
}

void Management::audit_now(const Request& /*q*/, int64_t id, Millis now) {
  if (!p_.license.held()) return answer_error(id, "bad_params", "no license held: nothing to audit");
  answer_empty(id);
  p_.audit.audit_now(now);
}

void Management::events_get(const Request& q, int64_t id, Millis /*now*/) {
  int64_t after = 0;
  if (json_type_of(q.params) == JsonType::object) {
    JsonReader r(q.params);
    after = r.integer_or("after", 0, 0);
    if (!r.ok()) return answer_error(id, "bad_params", "after must be a seq (integer >= 0)");
  }
  (void)p_.outbox.commit(p_.events.write_pending(p_.outbox.space(), id, static_cast<uint64_t>(after)));
}

// The tunnels.list answer at max_channels, with the longest names and
// numbers, fits one message: {"type":"response","re":ID,"ok":true,
// "result":{"channels":[...]}} around the channels.
static_assert(sizeof(R"({"type":"response","re":,"ok":true,"result":{"channels":[]}})") - 1 + 20 +
                      kMaxTunnelChannels * kTunnelListingMaxBytes <=
                  Outbox::kBytes,
              "tunnels.list at max_channels must fit the outbox");

void Management::tunnels_list(const Request& /*q*/, int64_t id, Millis now) {
  std::span<const TunnelListing> channels;
  if (p_.tunnels != nullptr) channels = p_.tunnels->list(now);
  (void)p_.outbox.commit(build_response_ok(p_.outbox.space(), id, [&](JsonWriter& w) {
    w.begin_object().key("channels");
    write_tunnel_listing(w, channels);
    w.end_object();
  }));
}

}  // namespace sublink
