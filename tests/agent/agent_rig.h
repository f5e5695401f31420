// Test rig for the agent: a fake MessageChannel that records what the agent
// sends and lets a test play the server, an in-memory Storage (or any other),
// manual clocks, and licenses signed in the test.
#pragma once

#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <cJSON.h>

#include "firmware/agent/agent.h"
#include "firmware/json/json_arena.h"
#include "license/test_license_signer.h"

namespace sublink::test {

inline constexpr Millis kT0 = 1'750'000'000'000;  // server UTC at the first welcome
inline constexpr Millis kSec = 1000;

class FakeChannel : public MessageChannel {
 public:
  void start(Millis now) override { starts.push_back(now); }
  bool up() const override { return is_up; }
  Status send_text(std::string_view message) override {
    if (!is_up) return Status(Reason::would_block);
    sent.emplace_back(message);
    return Status::Ok();
  }
  void close(uint16_t code, std::string_view) override {
    closes.push_back(code);
    is_up = false;
  }
  void drop(Status why) override {
    drops.push_back(why);
    is_up = false;
  }
  void set_retry_floor(Millis delay_ms) override { floors.push_back(delay_ms); }
  void link_accepted() override { ++accepted; }

  bool is_up = false;
  int accepted = 0;  // link_accepted() calls
  std::vector<std::string> sent;
  std::vector<Millis> starts;
  std::vector<uint16_t> closes;
  std::vector<Status> drops;
  std::vector<Millis> floors;
};

class MemoryStorage : public Storage {
 public:
  Result<size_t> read(RecordId id, std::span<uint8_t> out) override;
  Status write(RecordId id, std::span<const uint8_t> data) override;
  size_t max_record_size() const override { return 1 << 16; }

  std::map<RecordId, std::vector<uint8_t>> records;
  std::vector<RecordId> writes;  // in order
  /// errno details in the platform's words, as the file backend says them.
  const char* failure_text(const Status& s) const override {
    return s.reason() == Reason::io_error && s.detail() > 0 ? std::strerror(s.detail()) : storage_failure_text(s);
  }

  bool fail_writes = false;
  int32_t fail_errno = 5;  // the errno a failing write reports (EIO)
  /// The reason a failing write reports: io_error with fail_errno, or one
  /// of the storage layer's own (Reason::storage_no_space, ...).
  Reason fail_reason = Reason::io_error;
};

/// Random bytes a test can predict: each fill gives the next value of a
/// counter (big endian, repeated), or fails while `fail` is set.
class ScriptedRandom : public Random {
 public:
  Status fill(std::span<uint8_t> out) override;
  uint64_t next = 0x5eed000000000001;
  bool fail = false;
};

class ManualClock : public MonotonicClock {
 public:
  Millis now_ms() override { return now; }
  Millis now = 1000;
};

class ManualWall : public WallClock {
 public:
  WallTime now() override { return value; }
  WallTime value;  // unset: a lost RTC
};

/// A parsed sent message (cJSON on malloc), freed with the object.
struct Sent {
  explicit Sent(const std::string& text) : root(cJSON_Parse(text.c_str())) {}
  ~Sent() { cJSON_Delete(root); }
  Sent(const Sent&) = delete;
  std::string type() const;
  const cJSON* get(const char* name) const { return cJSON_GetObjectItemCaseSensitive(root, name); }
  int64_t integer(const char* name) const { return static_cast<int64_t>(cJSON_GetNumberValue(get(name))); }
  std::string string(const char* name) const;
  cJSON* root;
};

struct LicenseSpec {
  std::string serial = "L-1";
  std::string customer = "C-42";
  std::string system = "SYS-7";
  Millis issued = kT0 - 100 * kSec;
  Millis not_before = kT0 - 100 * kSec;
  Millis expires = kT0 + 400LL * 86400 * kSec;
  std::string features = R"([{"name":"trunks","qty":30},{"name":"recording","qty":1}])";
};

/// One device: storage and signer outlive reboots, the agent is rebuilt.
class AgentRig {
 public:
  AgentRig();
  ~AgentRig();

  /// (Re)creates the agent on `storage` and boots it at the current time.
  Status boot(Storage* storage = nullptr);
  /// Opens the link: the agent sends hello and license_request (its drain
  /// follows the callback).
  void link_up(uint16_t port = 443);
  /// The server speaks; the agent's drain follows and writes the answers.
  void server(const std::string& json);
  /// `welcome`, then a step() at the same time, as a board runs right after
  /// the callback: what welcome made due (an audit, events) goes out.
  void welcome(Millis server_time, int heartbeat_s = 10, int audit_s = 3600);
  /// `license_grant` for `spec`, signed with the test key.
  std::string grant_json(const LicenseSpec& spec, const std::string& re = "");
  /// Lets `ms` pass, calling step() at every deadline on the way; while
  /// `auto_ack` the server answers every heartbeat.
  void run_for(Millis ms);
  void link_down();

  /// Sent messages of `type`, oldest first.
  std::vector<std::unique_ptr<Sent>> sent_of(const std::string& type) const;
  std::unique_ptr<Sent> last_sent() const;
  /// Event kinds in the queue's record as the server would get them.
  std::vector<std::string> sent_event_kinds() const;

  bool auto_ack = true;
  std::vector<std::pair<std::string, std::string>> logs;
  std::vector<LogLevel> levels;  // of each line in logs
  std::vector<LicenseState> callbacks;
  std::vector<FeatureRequest> features = {{"trunks", 30}, {"recording", 1}};
  std::vector<std::string_view> allowed = {"status.get", "license.refresh", "audit.now", "events.get"};
  AgentConfig config;
  FakeChannel channel;
  MemoryStorage memory;
  Storage* storage = &memory;
  ManualClock mono;
  ManualWall wall;
  ScriptedRandom random;  // the instance and event stream ids; outlives reboots
  TestLicenseSigner signer;
  LicenseKey key;
  std::vector<uint8_t> arena_storage = std::vector<uint8_t>(1 << 20);
  JsonArena arena{arena_storage};
  std::unique_ptr<Agent> agent;

 private:
  size_t acked_ = 0;
  Millis last_welcome_ = kT0;
  Millis welcome_mono_ = 0;
};

/// The sequence number in the header of one copy of a record file (the
/// "a" or "b" copy FileStorage keeps); 0 when the file is shorter than a header.
uint32_t file_sequence(const std::string& file);

}  // namespace sublink::test
