#include "agent/agent_rig.h"

#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

namespace sublink::test {

Result<size_t> MemoryStorage::read(RecordId id, std::span<uint8_t> out) {
  auto it = records.find(id);
  if (it == records.end()) return Status(Reason::storage_not_found);
  if (it->second.size() > out.size()) return Status(Reason::storage_too_big);
  std::copy(it->second.begin(), it->second.end(), out.begin());
  return it->second.size();
}

Status MemoryStorage::write(RecordId id, std::span<const uint8_t> data) {
  if (fail_writes) return fail_reason == Reason::io_error ? Status(Reason::io_error, fail_errno) : Status(fail_reason);
  records[id].assign(data.begin(), data.end());
  writes.push_back(id);
  return Status::Ok();
}

std::string Sent::type() const { return string("type"); }

std::string Sent::string(const char* name) const {
  const char* s = cJSON_GetStringValue(get(name));
  return s ? s : "";
}

AgentRig::AgentRig() {
  arena.install();
  EXPECT_TRUE(key.load(signer.public_key_pem()).ok());
  config.customer_id = "C-42";
  config.system_id = "SYS-7";
  config.agent_version = "0.1.0";
  config.fw = "pbx-9.2";
  config.features = features;
  config.allowed_methods = allowed;
  config.log.write = [](void* ctx, LogLevel level, std::string_view what, std::string_view detail) {
    static_cast<AgentRig*>(ctx)->logs.emplace_back(what, detail);
    static_cast<AgentRig*>(ctx)->levels.push_back(level);
  };
  config.log.ctx = this;
}

Status ScriptedRandom::fill(std::span<uint8_t> out) {
  if (fail) return Status(Reason::io_error, 5);
  const uint64_t value = next++;
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint8_t>(value >> (8 * (7 - i % 8)));
  return Status::Ok();
}

AgentRig::~AgentRig() {
  agent.reset();
  JsonArena::uninstall();
}

Status AgentRig::boot(Storage* s) {
  if (s != nullptr) storage = s;
  agent.reset();
  channel = FakeChannel{};
  agent = std::make_unique<Agent>(config, channel, *storage, mono, wall, key, random);
  agent->set_state_callback([](void* ctx, LicenseState st) { static_cast<AgentRig*>(ctx)->callbacks.push_back(st); },
                            this);
  return agent->boot(mono.now);
}

void AgentRig::link_up(uint16_t port) {
  channel.is_up = true;
  acked_ = channel.sent.size();
  AttemptInfo info;
  info.port = port;
  agent->on_link_up(info, false);
  agent->drain();  // what the callback left goes out
}

void AgentRig::server(const std::string& json) {
  agent->on_text(json);
  agent->drain();  // what the callback left goes out
}

void AgentRig::welcome(Millis server_time, int heartbeat_s, int audit_s) {
  last_welcome_ = server_time;
  welcome_mono_ = mono.now;
  server(R"({"type":"welcome","time":)" + std::to_string(server_time) + R"(,"heartbeat_s":)" +
         std::to_string(heartbeat_s) + R"(,"audit_s":)" + std::to_string(audit_s) + R"(,"session":"s1"})");
  agent->step(mono.now);  // a board steps the agent right after: what welcome made due goes out
}

std::string AgentRig::grant_json(const LicenseSpec& s, const std::string& re) {
  std::string json = R"({"serial":")" + s.serial + R"(","customer_id":")" + s.customer + R"(","system_id":")" +
                     s.system + R"(","issued":)" + std::to_string(s.issued) + R"(,"not_before":)" +
                     std::to_string(s.not_before) + R"(,"expires":)" + std::to_string(s.expires) +
                     R"(,"features":)" + s.features + "}";
  auto sig = signer.sign(json);
  return R"({"type":"license_grant",)" + (re.empty() ? "" : R"("re":)" + re + ",") + R"("license":")" +
         base64url_encode(json) + R"(","sig":")" + base64url_encode(sig) + R"(","alg":"ES256","kid":"k1"})";
}

void AgentRig::run_for(Millis ms) {
  Millis end = mono.now + ms;
  while (true) {
    Millis next = agent->step(mono.now);
    if (auto_ack && channel.is_up) {
      for (size_t i = acked_; i < channel.sent.size(); ++i) {
        Sent m(channel.sent[i]);
        if (m.type() == "heartbeat") {
          server(R"({"type":"heartbeat_ack","re":)" + std::to_string(m.integer("id")) + R"(,"time":)" +
                 std::to_string(last_welcome_ + (mono.now - welcome_mono_)) + "}");
        }
      }
    }
    acked_ = channel.sent.size();
    if (next > end) break;
    mono.now = std::max(next, mono.now + 1);
  }
  mono.now = end;
  agent->step(mono.now);
}

void AgentRig::link_down() {
  channel.is_up = false;
  agent->on_link_down(Status(Reason::connection_reset));
}

std::vector<std::unique_ptr<Sent>> AgentRig::sent_of(const std::string& type) const {
  std::vector<std::unique_ptr<Sent>> out;
  const std::string prefix = R"({"type":")" + type + "\"";
  for (const std::string& text : channel.sent) {
    if (text.rfind(prefix, 0) != 0) continue;
    auto m = std::make_unique<Sent>(text);
    if (m->type() == type) out.push_back(std::move(m));
  }
  return out;
}

std::unique_ptr<Sent> AgentRig::last_sent() const {
  return channel.sent.empty() ? nullptr : std::make_unique<Sent>(channel.sent.back());
}

std::vector<std::string> AgentRig::sent_event_kinds() const {
  std::vector<std::string> kinds;
  for (auto& m : sent_of("event")) {
    const cJSON* e = nullptr;
    cJSON_ArrayForEach(e, m->get("events")) {
      kinds.push_back(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "kind")));
    }
  }
  return kinds;
}

uint32_t file_sequence(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  std::vector<uint8_t> b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (b.size() < 24) return 0;
  return b[8] | b[9] << 8 | b[10] << 16 | static_cast<uint32_t>(b[11]) << 24;
}

}  // namespace sublink::test
