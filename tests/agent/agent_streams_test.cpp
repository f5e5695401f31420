// Event streams (PROTOCOL.md section 4), damaged records named with what was
// kept and lost, and storage failures named in the status.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include "agent/agent_rig.h"
#include "support/process.h"
#include "hal/linux/file_ops.h"
#include "hal/linux/file_storage.h"

namespace sublink::test {
namespace {

void license_and_drop(AgentRig& rig) {
  rig.link_up();
  rig.welcome(kT0);
  rig.server(rig.grant_json(LicenseSpec{}));
  rig.link_down();
}

struct Batch {
  std::string stream;
  std::vector<int64_t> seqs;
  std::vector<std::string> kinds;
  int64_t id = 0;
};

Batch batch_of(const Sent& m) {
  Batch b;
  b.stream = m.string("stream");
  b.id = m.integer("id");
  const cJSON* e = nullptr;
  cJSON_ArrayForEach(e, m.get("events")) {
    b.seqs.push_back(static_cast<int64_t>(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(e, "seq"))));
    b.kinds.push_back(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "kind")));
  }
  return b;
}

// Connects and acknowledges every batch the way a server storing by
// (stream, seq) does, until nothing is pending; returns the batches.
std::vector<Batch> deliver_all(AgentRig& rig, Millis server_time) {
  rig.channel.sent.clear();
  rig.link_up();
  rig.welcome(server_time);
  std::vector<Batch> out;
  for (int round = 0; round < 50 && rig.agent->snapshot().events_pending > 0; ++round) {
    auto sent = rig.sent_of("event");
    if (sent.size() <= out.size()) break;
    Batch b = batch_of(*sent[out.size()]);
    out.push_back(b);
    rig.server(R"({"type":"event_ack","re":)" + std::to_string(b.id) + R"(,"stream":")" + b.stream +
               R"(","upto":)" + std::to_string(b.seqs.back()) + "}");
    rig.agent->step(rig.mono.now);
  }
  return out;
}

std::string hello_stream(AgentRig& rig) {
  auto hellos = rig.sent_of("hello");
  return hellos.empty() ? "" : hellos.back()->string("event_stream");
}

bool logged(const AgentRig& rig, const std::string& what, const std::string& detail_part) {
  for (const auto& [w, d] : rig.logs) {
    if (w == what && d.find(detail_part) != std::string::npos) return true;
  }
  return false;
}

bool is_stream_id(const std::string& s) {
  return s.size() == 16 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

TEST(AgentStreams, HelloAndEveryBatchCarryTheStreamWhichAnOrdinaryRebootKeeps) {
  AgentRig rig;
  ASSERT_TRUE(rig.boot().ok());
  license_and_drop(rig);
  const std::string stream(rig.agent->snapshot().event_stream);
  EXPECT_TRUE(is_stream_id(stream)) << stream;
  EXPECT_EQ(hello_stream(rig), stream);
  ASSERT_TRUE(rig.boot().ok());
  EXPECT_EQ(std::string(rig.agent->snapshot().event_stream), stream) << "the log survived: same stream";
  std::vector<Batch> batches = deliver_all(rig, kT0 + kSec);
  EXPECT_EQ(hello_stream(rig), stream);
  ASSERT_FALSE(batches.empty());
  for (const Batch& b : batches) EXPECT_EQ(b.stream, stream);
  EXPECT_EQ(batches.front().seqs.front(), 1);
  EXPECT_EQ(rig.agent->snapshot().events_pending, 0u);
}

TEST(AgentStreams, AWipedStateStartsANewStreamAtSeq1) {
  AgentRig rig;
  ASSERT_TRUE(rig.boot().ok());
  license_and_drop(rig);
  std::vector<Batch> before = deliver_all(rig, kT0 + kSec);
  ASSERT_FALSE(before.empty());
  const std::string old_stream = before.front().stream;

  rig.memory.records.clear();  // state_dir wiped
  ASSERT_TRUE(rig.boot().ok());
  license_and_drop(rig);
  const std::string new_stream(rig.agent->snapshot().event_stream);
  EXPECT_TRUE(is_stream_id(new_stream));
  EXPECT_NE(new_stream, old_stream) << "a log that starts empty is a new stream";
  std::vector<Batch> after = deliver_all(rig, kT0 + 2 * kSec);
  ASSERT_FALSE(after.empty());
  EXPECT_EQ(after.front().stream, new_stream);
  EXPECT_EQ(after.front().seqs.front(), 1) << "a new stream starts at seq 1";
  EXPECT_EQ(rig.agent->snapshot().events_pending, 0u) << "the new stream's acks are accepted";
}

TEST(AgentStreams, AnAckForAnotherStreamAcknowledgesNothing) {
  AgentRig rig;
  ASSERT_TRUE(rig.boot().ok());
  license_and_drop(rig);
  rig.link_up();
  rig.welcome(kT0 + kSec);
  auto sent = rig.sent_of("event");
  ASSERT_FALSE(sent.empty());
  Batch b = batch_of(*sent.back());
  size_t pending = rig.agent->snapshot().events_pending;
  rig.server(R"({"type":"event_ack","re":)" + std::to_string(b.id) + R"(,"stream":"00000000000000aa","upto":)" +
             std::to_string(b.seqs.back()) + "}");
  EXPECT_EQ(rig.agent->snapshot().events_pending, pending);
  EXPECT_TRUE(logged(rig, "event_ack for another stream acknowledges nothing", "00000000000000aa"));
  rig.server(R"({"type":"event_ack","re":)" + std::to_string(b.id) + R"(,"upto":)" + std::to_string(b.seqs.back()) +
             "}");
  EXPECT_EQ(rig.agent->snapshot().events_pending, pending) << "an ack without stream is for legacy events only";
  rig.server(R"({"type":"event_ack","re":)" + std::to_string(b.id) + R"(,"stream":")" + b.stream + R"(","upto":)" +
             std::to_string(b.seqs.back()) + "}");
  EXPECT_LT(rig.agent->snapshot().events_pending, pending);
}

TEST(AgentStreams, ALostEventRecordIsNamedWithWhatWasLostAndStartsANewStream) {
  AgentRig rig;
  ASSERT_TRUE(rig.boot().ok());
  license_and_drop(rig);
  const std::string old_stream(rig.agent->snapshot().event_stream);
  const size_t undelivered = rig.agent->snapshot().events_pending;
  ASSERT_GT(undelivered, 0u);
  std::vector<uint8_t>& record = rig.memory.records[RecordId::events];
  record[record.size() / 2] ^= 0x10;  // one flipped bit: the CRC no longer matches
  ASSERT_TRUE(rig.boot().ok());

  AgentStatus s = rig.agent->snapshot();
  const std::string new_stream(s.event_stream);
  EXPECT_NE(new_stream, old_stream);
  ASSERT_EQ(s.damaged_count, 1u);
  const std::string damage(s.damaged[0]);
  EXPECT_EQ(damage, "events: record damaged (bad_checksum), undelivered events lost, new stream " + new_stream);
  EXPECT_TRUE(logged(rig, "record damaged", damage));
  std::vector<Batch> batches = deliver_all(rig, kT0 + kSec);
  ASSERT_FALSE(batches.empty());
  EXPECT_EQ(batches.front().stream, new_stream);
  EXPECT_EQ(batches.front().seqs.front(), 1);
  EXPECT_EQ(batches.front().kinds.front(), "record_damaged");
  auto sent = rig.sent_of("event");
  const cJSON* first = cJSON_GetArrayItem(sent.front()->get("events"), 0);
  EXPECT_STREQ(cJSON_GetStringValue(cJSON_GetObjectItem(first, "record")), "events");
  EXPECT_STREQ(cJSON_GetStringValue(cJSON_GetObjectItem(first, "fault")), "bad_checksum");

  // Status JSON (sublinkctl status --json, status.get) carries the same words.
  rig.server(R"({"type":"request","id":901,"method":"status.get"})");
  Sent answer(rig.channel.sent.back());
  const cJSON* result = answer.get("result");
  EXPECT_STREQ(cJSON_GetStringValue(cJSON_GetObjectItem(result, "event_stream")), new_stream.c_str());
  EXPECT_STREQ(cJSON_GetStringValue(cJSON_GetObjectItem(result, "storage")), "ok");
  EXPECT_STREQ(cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItem(result, "damaged"), 0)), damage.c_str());
}

TEST(AgentStreams, ARecordInRangeOfItsFramingButOutOfRangeIsNamedWithTheEventsItHeld) {
  AgentRig rig;
  ASSERT_TRUE(rig.boot().ok());
  license_and_drop(rig);
  const size_t undelivered = rig.agent->snapshot().events_pending;
  // Rewrite the record with a next seq past 2^53 and a valid CRC: consistent
  // framing, a value out of range.
  std::vector<uint8_t> record = rig.memory.records[RecordId::events];
  std::vector<uint8_t> body(record.begin() + kRecordHeaderSize, record.end() - kRecordTrailerSize);
  for (int i = 0; i < 8; ++i) body[8 + i] = i == 7 ? 0x40 : 0;
  std::vector<uint8_t> forged(record.size());
  RecordWriter w(forged, {'S', 'L', 'E', 'V'}, 2);
  w.bytes(body);
  ASSERT_TRUE(w.finish().ok());
  rig.memory.records[RecordId::events] = forged;
  ASSERT_TRUE(rig.boot().ok());
  AgentStatus s = rig.agent->snapshot();
  ASSERT_EQ(s.damaged_count, 1u);
  EXPECT_EQ(std::string(s.damaged[0]), "events: record damaged (bad_value), " + std::to_string(undelivered) +
                                           " undelivered events lost, new stream " + std::string(s.event_stream));
}

// A flipped byte in the newest copy of the event log on real files: the
// backend falls back to the older copy, and the agent must not take it for
// the latest (its seqs after the older copy's counter may be at the server).
TEST(AgentStreams, AFlippedByteInTheNewestEventCopyIsNamedAndNoSeqIsReused) {
  TempDir dir;
  PosixFileOps ops;
  AgentRig rig;
  std::string first_stream;
  {
    FileStorage files(ops, dir.path(), 1 << 16);
    ASSERT_TRUE(files.open().ok());
    ASSERT_TRUE(rig.boot(&files).ok());
    license_and_drop(rig);  // several writes of the event log
    first_stream = std::string(rig.agent->snapshot().event_stream);
    rig.agent.reset();
  }
  const std::string a = dir.path() + "/events.a", b = dir.path() + "/events.b";
  const std::string newest = file_sequence(a) > file_sequence(b) ? a : b;
  {
    std::fstream f(newest, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(40);
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x01);
    f.seekp(40);
    f.write(&c, 1);
  }
  FileStorage files(ops, dir.path(), 1 << 16);
  ASSERT_TRUE(files.open().ok());
  ASSERT_TRUE(rig.boot(&files).ok());
  AgentStatus s = rig.agent->snapshot();
  const std::string new_stream(s.event_stream);
  EXPECT_NE(new_stream, first_stream) << "the older copy's seq counter may be behind seqs already sent";
  ASSERT_GE(s.damaged_count, 1u);
  const std::string damage(s.damaged[0]);
  EXPECT_EQ(damage.rfind("events: newest copy damaged, older copy kept (", 0), 0u) << damage;
  EXPECT_NE(damage.find("newer events lost, new stream " + new_stream), std::string::npos) << damage;
  // What the older copy kept goes out in its own stream, then the new stream.
  std::vector<Batch> batches = deliver_all(rig, kT0 + kSec);
  ASSERT_FALSE(batches.empty());
  EXPECT_EQ(batches.front().stream, first_stream);
  EXPECT_EQ(batches.back().stream, new_stream);
  bool named = false;
  for (const Batch& bt : batches) {
    for (const std::string& k : bt.kinds) named = named || (k == "record_damaged" && bt.stream == new_stream);
  }
  EXPECT_TRUE(named);
  EXPECT_EQ(rig.agent->snapshot().events_pending, 0u);
  rig.agent.reset();
}

TEST(AgentStreams, AFailingWriteIsNamedInTheStatusAndReportedOncePerStreak) {
  AgentRig rig;
  ASSERT_TRUE(rig.boot().ok());
  rig.link_up();
  rig.welcome(kT0);
  rig.memory.fail_errno = ENOSPC;
  rig.memory.fail_writes = true;
  rig.server(R"({"type":"license_denied","code":"not_entitled"})");  // an event: the log is written
  rig.server(R"({"type":"license_denied","code":"not_entitled"})");
  AgentStatus s = rig.agent->snapshot();
  EXPECT_EQ(std::string(s.storage), "events: No space left on device");
  EXPECT_TRUE(logged(rig, "events not stored", "No space left on device"));
  rig.server(R"({"type":"request","id":902,"method":"status.get"})");
  Sent answer(rig.channel.sent.back());
  EXPECT_STREQ(cJSON_GetStringValue(cJSON_GetObjectItem(answer.get("result"), "storage")),
               "events: No space left on device");

  rig.memory.fail_writes = false;
  rig.run_for(kSec);
  rig.server(R"({"type":"license_denied","code":"not_entitled"})");
  EXPECT_EQ(std::string(rig.agent->snapshot().storage), "ok") << "a write that succeeds ends the streak";
  int failed_events = 0;
  // Nothing was acknowledged: the events.get page lists every event queued.
  rig.server(R"({"type":"request","id":903,"method":"events.get"})");
  const std::string page = rig.channel.sent.back();
  size_t at = 0;
  while ((at = page.find("storage_failed", at)) != std::string::npos) {
    ++failed_events;
    ++at;
  }
  EXPECT_EQ(failed_events, 1) << "one storage_failed per failure streak, not one per write: " << page;
  EXPECT_NE(page.find(R"("kind":"storage_failed","severity":"major","detail":28,"record":"events")"), std::string::npos) << page;
}

// The storage layer's own outcomes have named reasons in the device; on the
// wire the storage_failed event's `detail` keeps the numbers it always had
// (-1004: no room on the medium), in the status the words.
TEST(AgentStreams, AStorageLayerOutcomeKeepsItsWireNumberInTheEvent) {
  AgentRig rig;
  ASSERT_TRUE(rig.boot().ok());
  rig.link_up();
  rig.welcome(kT0);
  rig.memory.fail_reason = Reason::storage_no_space;
  rig.memory.fail_writes = true;
  rig.server(R"({"type":"license_denied","code":"not_entitled"})");  // an event: the log is written
  EXPECT_EQ(std::string(rig.agent->snapshot().storage), "events: no room on the medium");
  rig.memory.fail_writes = false;
  rig.run_for(kSec);
  rig.server(R"({"type":"request","id":905,"method":"events.get"})");
  const std::string page = rig.channel.sent.back();
  EXPECT_NE(page.find(R"("kind":"storage_failed","severity":"major","detail":-1004,"record":"events")"),
            std::string::npos)
      << page;
}

TEST(AgentStreams, AWriteFailingAtBootIsReportedOnceTheLogIsRestored) {
  AgentRig rig;
  rig.memory.fail_errno = ENOSPC;
  rig.memory.fail_writes = true;
  EXPECT_FALSE(rig.boot().ok()) << "the first platform error is returned";
  EXPECT_EQ(std::string(rig.agent->snapshot().storage), "events: No space left on device");
  rig.memory.fail_writes = false;
  rig.link_up();
  rig.welcome(kT0);
  rig.server(R"({"type":"request","id":904,"method":"events.get"})");
  const std::string page = rig.channel.sent.back();
  EXPECT_NE(page.find(R"("kind":"storage_failed","severity":"major","detail":28,"record":"boot")"), std::string::npos)
      << "the boot counter's failed write, made before the log was read, is not lost with the restore: " << page;
  EXPECT_NE(page.find(R"("kind":"storage_failed","severity":"major","detail":28,"record":"events")"), std::string::npos)
      << page;
}

// A failing write whose platform gives no errno (detail 0) before the log is
// restored: its storage_failed event still comes out, with no detail.
TEST(AgentStreams, AWriteFailingAtBootWithoutAnErrnoIsStillReported) {
  AgentRig rig;
  rig.memory.fail_errno = 0;
  rig.memory.fail_writes = true;
  EXPECT_FALSE(rig.boot().ok());
  rig.memory.fail_writes = false;
  rig.link_up();
  rig.welcome(kT0);
  rig.server(R"({"type":"request","id":906,"method":"events.get"})");
  const std::string page = rig.channel.sent.back();
  EXPECT_NE(page.find(R"("kind":"storage_failed","severity":"major","record":"boot")"), std::string::npos) << page;
}

// An event log written before streams existed: seq 5 and 7, next seq 8,
// both grace_started.
std::vector<uint8_t> version1_event_log() {
  constexpr size_t kV1Event = EventQueue::kEventRecordSize - 8;
  std::vector<uint8_t> body(12 + 2 * kV1Event, 0);
  auto put = [&](size_t at, uint64_t v, size_t n) {
    for (size_t i = 0; i < n; ++i) body[at + i] = static_cast<uint8_t>(v >> (8 * i));
  };
  put(0, 8, 8);
  put(8, 2, 4);
  for (size_t i = 0; i < 2; ++i) {
    put(12 + i * kV1Event, i == 0 ? 5 : 7, 8);
    put(12 + i * kV1Event + 8 + 1 + 8 + 2, static_cast<uint32_t>(-1), 4);  // days_left -1
  }
  std::vector<uint8_t> out(kRecordOverhead + body.size());
  RecordWriter w(out, {'S', 'L', 'E', 'V'}, 1);
  w.bytes(body);
  EXPECT_TRUE(w.finish().ok());
  return out;
}

TEST(AgentStreams, LegacyEventsGoOutWithoutAStreamAndAreAcknowledgedWithoutOne) {
  AgentRig rig;
  rig.memory.records[RecordId::events] = version1_event_log();
  ASSERT_TRUE(rig.boot().ok());
  const std::string stream(rig.agent->snapshot().event_stream);
  EXPECT_TRUE(is_stream_id(stream)) << "new events get a stream of their own";
  rig.link_up();
  rig.welcome(kT0);
  rig.server(R"({"type":"request","id":907,"method":"events.get"})");
  Sent page(rig.channel.sent.back());
  EXPECT_EQ(cJSON_GetObjectItem(page.get("result"), "stream"), nullptr) << "legacy events are listed without stream";
  auto sent = rig.sent_of("event");
  ASSERT_FALSE(sent.empty());
  Batch legacy = batch_of(*sent.front());
  EXPECT_EQ(sent.front()->get("stream"), nullptr) << "as they went before streams existed";
  EXPECT_EQ(legacy.seqs, (std::vector<int64_t>{5, 7}));

  const size_t pending = rig.agent->snapshot().events_pending;
  rig.server(R"({"type":"event_ack","re":)" + std::to_string(legacy.id) + R"(,"stream":"NOT-HEX","upto":7})");
  EXPECT_EQ(rig.agent->snapshot().events_pending, pending);
  EXPECT_TRUE(logged(rig, "event_ack ignored: stream is not 16 lower-case hex digits", "NOT-HEX"));
  rig.server(R"({"type":"event_ack","re":)" + std::to_string(legacy.id) + R"(,"upto":7})");
  EXPECT_EQ(rig.agent->snapshot().events_pending, pending - 2);
  rig.server(R"({"type":"license_denied","code":"not_entitled"})");  // a new event
  rig.agent->step(rig.mono.now);
  sent = rig.sent_of("event");
  ASSERT_GE(sent.size(), 2u) << "then the new stream's events go out";
  EXPECT_EQ(batch_of(*sent.back()).stream, stream);
  EXPECT_EQ(batch_of(*sent.back()).seqs.front(), 1);
}

// A log holding the most streams a record may: three older ones and the
// current one, whose seq space is used up. No new stream fits until an older
// one is delivered; meanwhile a new event is refused by name, not numbered
// out of range, and nothing queued is lost.
TEST(AgentStreams, WithNoRoomForANewStreamAnEventIsRefusedByNameUntilAnOlderStreamIsDelivered) {
  const StreamId current = 0x00000000000000d4;
  std::vector<uint8_t> body(20 + 4 * EventQueue::kEventRecordSize, 0);
  auto put = [&](size_t at, uint64_t v, size_t n) {
    for (size_t i = 0; i < n; ++i) body[at + i] = static_cast<uint8_t>(v >> (8 * i));
  };
  put(0, current, 8);
  put(8, EventQueue::kMaxEventSeq + 1, 8);
  put(16, 4, 4);
  for (size_t i = 0; i < 4; ++i) {
    const size_t at = 20 + i * EventQueue::kEventRecordSize;
    put(at, i == 3 ? current : 0xd1 + i, 8);
    put(at + 8, i == 3 ? EventQueue::kMaxEventSeq : 1, 8);
  }
  AgentRig rig;
  std::vector<uint8_t> record(kRecordOverhead + body.size());
  RecordWriter w(record, {'S', 'L', 'E', 'V'}, 2);
  w.bytes(body);
  ASSERT_TRUE(w.finish().ok());
  rig.memory.records[RecordId::events] = record;
  ASSERT_TRUE(rig.boot().ok());
  rig.link_up();
  rig.welcome(kT0);
  rig.server(R"({"type":"license_denied","code":"not_entitled"})");
  EXPECT_TRUE(logged(rig, "event not queued: no event stream", "license_denied"));
  EXPECT_EQ(rig.agent->snapshot().events_pending, 4u) << "what was queued stays";

  auto sent = rig.sent_of("event");
  ASSERT_FALSE(sent.empty());
  Batch oldest = batch_of(*sent.front());
  EXPECT_EQ(oldest.stream, "00000000000000d1");
  rig.server(R"({"type":"event_ack","re":)" + std::to_string(oldest.id) + R"(,"stream":"00000000000000d1","upto":1})");
  rig.server(R"({"type":"license_denied","code":"not_entitled"})");
  const std::string stream(rig.agent->snapshot().event_stream);
  EXPECT_NE(stream, "00000000000000d4") << "a new stream took over";
  rig.server(R"({"type":"request","id":908,"method":"events.get","params":{"after":0}})");
  EXPECT_EQ(rig.agent->snapshot().events_pending, 4u) << "three old events and the new one";
}

TEST(AgentStreams, AnAckForAnotherStreamLeavesTheBatchInFlightAwaited) {
  AgentRig rig;
  rig.memory.records[RecordId::events] = version1_event_log();
  ASSERT_TRUE(rig.boot().ok());
  rig.link_up();
  rig.welcome(kT0);
  rig.server(R"({"type":"license_denied","code":"not_entitled"})");  // an event of the new stream
  const std::string stream(rig.agent->snapshot().event_stream);
  ASSERT_EQ(rig.sent_of("event").size(), 1u) << "the legacy batch is in flight";
  const size_t pending = rig.agent->snapshot().events_pending;
  // A server that learned the new stream's events from events.get acknowledges them.
  rig.server(R"({"type":"event_ack","stream":")" + stream + R"(","upto":1})");
  rig.agent->step(rig.mono.now);
  EXPECT_EQ(rig.agent->snapshot().events_pending, pending - 1);
  EXPECT_EQ(rig.sent_of("event").size(), 1u) << "no second batch while the legacy one awaits its ack";
  Batch legacy = batch_of(*rig.sent_of("event").front());
  rig.server(R"({"type":"event_ack","re":)" + std::to_string(legacy.id) + R"(,"upto":7})");
  EXPECT_EQ(rig.agent->snapshot().events_pending, pending - 3);
}

}  // namespace
}  // namespace sublink::test
