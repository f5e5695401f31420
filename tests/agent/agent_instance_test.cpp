// The device's `instance` (PROTOCOL.md section 4, identity): made from the
// random source at the first boot, kept in its own record for the device's
// life, sent in every hello; a damaged or out-of-range record is named and
// replaced. And `disconnect` replaced is handled like any disconnect.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <iterator>

#include "agent/agent_rig.h"
#include "support/process.h"
#include "firmware/agent/device_instance.h"
#include "hal/hex64.h"
#include "hal/linux/file_ops.h"
#include "hal/linux/file_storage.h"

namespace sublink::test {
namespace {

std::string hello_instance(AgentRig& rig) {
  rig.link_up();
  auto hellos = rig.sent_of("hello");
  EXPECT_FALSE(hellos.empty());
  if (hellos.empty()) return "";
  const cJSON* instance = hellos.back()->get("instance");
  return cJSON_IsString(instance) ? instance->valuestring : "<absent>";
}

std::string events_answer(AgentRig& rig) {
  rig.welcome(kT0 + kSec);
  rig.server(R"({"type":"request","id":900,"method":"events.get"})");
  return rig.channel.sent.back();
}

TEST(AgentInstance, TheFirstBootMakesAnInstanceThatHelloCarries) {
  AgentRig rig;
  rig.random.next = 0x0123456789abcdef;
  ASSERT_TRUE(rig.boot().ok());
  EXPECT_EQ(hello_instance(rig), "0123456789abcdef");
  ASSERT_TRUE(rig.memory.records.count(RecordId::identity));
  EXPECT_EQ(*decode_identity_record(rig.memory.records[RecordId::identity]), 0x0123456789abcdefULL);
  EXPECT_EQ(std::string(record_name(RecordId::identity)), "identity");
}

TEST(AgentInstance, TheInstanceIsKeptAcrossReboots) {
  AgentRig rig;
  ASSERT_TRUE(rig.boot().ok());
  const std::string first = hello_instance(rig);
  ASSERT_TRUE(is_hex64(first)) << first;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(rig.boot().ok());
    EXPECT_EQ(hello_instance(rig), first) << "reboot " << i;
  }
}

TEST(AgentInstance, TwoDevicesWithOneConfigurationHaveTwoInstances) {
  // The same certificate and configuration, each with its own state: the
  // server tells them apart by the instance made on each at its first boot.
  AgentRig original;
  AgentRig clone;
  clone.random.next = 0x7777000000000001;
  ASSERT_TRUE(original.boot().ok());
  ASSERT_TRUE(clone.boot().ok());
  EXPECT_NE(hello_instance(original), hello_instance(clone));
}

TEST(AgentInstance, AWipedStateMakesANewInstanceWithoutADamageReport) {
  AgentRig rig;
  ASSERT_TRUE(rig.boot().ok());
  const std::string first = hello_instance(rig);
  rig.memory.records.clear();
  ASSERT_TRUE(rig.boot().ok());
  const std::string second = hello_instance(rig);
  EXPECT_TRUE(is_hex64(second)) << second;
  EXPECT_NE(second, first);
  EXPECT_EQ(events_answer(rig).find(R"("record":"identity")"), std::string::npos) << "missing is not damaged";
}

TEST(AgentInstance, ADamagedRecordIsNamedAndReplaced) {
  AgentRig rig;
  ASSERT_TRUE(rig.boot().ok());
  const std::string first = hello_instance(rig);
  rig.memory.records[RecordId::identity][kRecordOverhead] ^= 0x40;  // one flipped bit: the CRC catches it
  ASSERT_TRUE(rig.boot().ok());
  const std::string second = hello_instance(rig);
  EXPECT_TRUE(is_hex64(second));
  EXPECT_NE(second, first);
  const std::string answer = events_answer(rig);
  EXPECT_NE(answer.find(R"("kind":"record_damaged")"), std::string::npos) << answer;
  EXPECT_NE(answer.find(R"("record":"identity")"), std::string::npos) << answer;
  ASSERT_TRUE(rig.boot().ok());
  EXPECT_EQ(hello_instance(rig), second) << "the new one is stored";
}

TEST(AgentInstance, AnOutOfRangeRecordIsDamaged) {
  // Intact framing (magic, version, CRC), a value no real instance has, or
  // a length that is not exactly 8 bytes.
  const IdentityRecordBytes zero = encode_identity_record(0);
  EXPECT_FALSE(decode_identity_record(zero).ok());
  std::vector<uint8_t> longer(kIdentityRecordSize + 4, 0);
  {
    RecordWriter w(longer, RecordMagic{'S', 'L', 'I', 'D'}, 1);
    w.u64(42);
    w.u32(7);
    ASSERT_TRUE(w.finish().ok());
  }
  EXPECT_FALSE(decode_identity_record(longer).ok());
  EXPECT_EQ(*decode_identity_record(encode_identity_record(42)), 42u);

  AgentRig rig;
  rig.memory.records[RecordId::identity] = std::vector<uint8_t>(zero.begin(), zero.end());
  rig.random.next = 0x00000000000000ab;
  ASSERT_TRUE(rig.boot().ok());
  EXPECT_EQ(hello_instance(rig), "00000000000000ab");
  EXPECT_NE(events_answer(rig).find(R"("record":"identity")"), std::string::npos);
}

TEST(AgentInstance, AZeroDrawIsDrawnAgain) {
  AgentRig rig;
  rig.random.next = 0;  // then 1
  ASSERT_TRUE(rig.boot().ok());
  EXPECT_EQ(hello_instance(rig), "0000000000000001") << "0 is drawn again";
}

TEST(AgentInstance, WithoutRandomnessHelloLeavesTheInstanceOutUntilANextBoot) {
  AgentRig rig;
  rig.random.fail = true;
  ASSERT_TRUE(rig.boot().ok());
  EXPECT_EQ(hello_instance(rig), "<absent>") << "no made-up instance";
  bool logged = false;
  for (const auto& [what, detail] : rig.logs) logged |= what.find("no instance") != std::string::npos;
  EXPECT_TRUE(logged);
  EXPECT_FALSE(rig.memory.records.count(RecordId::identity));
  rig.random.fail = false;
  ASSERT_TRUE(rig.boot().ok());
  EXPECT_TRUE(is_hex64(hello_instance(rig)));
}

// A restart loop on a state that cannot be written would otherwise make a
// new instance every start, which the server would count as a clone.
TEST(AgentInstance, AnInstanceThatCannotBeStoredIsLeftOutOfHelloAndTheFailureReported) {
  AgentRig rig;
  rig.memory.fail_errno = ENOSPC;
  rig.memory.fail_writes = true;
  (void)rig.boot();
  EXPECT_EQ(hello_instance(rig), "<absent>");
  bool logged = false;
  for (const auto& [what, detail] : rig.logs) logged |= what.find("instance not stored") != std::string::npos;
  EXPECT_TRUE(logged);
  rig.memory.fail_writes = false;
  const std::string answer = events_answer(rig);
  EXPECT_NE(answer.find(R"("kind":"storage_failed","severity":"major","detail":28,"record":"identity")"),
            std::string::npos)
      << answer;
  // Once storage works again, the next start makes, stores and sends one.
  ASSERT_TRUE(rig.boot().ok());
  const std::string made = hello_instance(rig);
  EXPECT_TRUE(is_hex64(made)) << made;
  ASSERT_TRUE(rig.boot().ok());
  EXPECT_EQ(hello_instance(rig), made);
}

// The identity record on real files with two copies (the instance stored
// twice), the newest one damaged: the backend falls back to the older copy.
TEST(AgentInstance, AnOlderCopyKeptIsNamedAndStoredAgain) {
  TempDir dir;
  PosixFileOps ops;
  {
    FileStorage files(ops, dir.path(), 1 << 16);
    ASSERT_TRUE(files.open().ok());
    ASSERT_TRUE(files.write(RecordId::identity, encode_identity_record(0x1111111111111111)).ok());
    ASSERT_TRUE(files.write(RecordId::identity, encode_identity_record(0x2222222222222222)).ok());
  }
  const std::string a = dir.path() + "/identity.a", b = dir.path() + "/identity.b";
  const std::string newest = file_sequence(a) > file_sequence(b) ? a : b;
  {
    std::fstream f(newest, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(36);
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x01);
    f.seekp(36);
    f.write(&c, 1);
  }
  AgentRig rig;
  {
    FileStorage files(ops, dir.path(), 1 << 16);
    ASSERT_TRUE(files.open().ok());
    ASSERT_TRUE(rig.boot(&files).ok());
    EXPECT_EQ(hello_instance(rig), "1111111111111111") << "the older copy's instance";
    AgentStatus s = rig.agent->snapshot();
    ASSERT_GE(s.damaged_count, 1u);
    EXPECT_EQ(std::string(s.damaged[0]), "identity: newest copy damaged, older copy of the instance kept");
    const std::string answer = events_answer(rig);
    EXPECT_NE(answer.find(R"("record":"identity")"), std::string::npos) << answer;
    rig.agent.reset();
  }
  FileStorage files(ops, dir.path(), 1 << 16);
  ASSERT_TRUE(files.open().ok());
  ASSERT_TRUE(rig.boot(&files).ok());
  EXPECT_EQ(hello_instance(rig), "1111111111111111");
  EXPECT_EQ(rig.agent->snapshot().damaged_count, 0u) << "stored again: whole at the next boot";
  rig.agent.reset();
}

TEST(AgentInstance, DisconnectReplacedIsHandledLikeAnyDisconnect) {
  AgentRig rig;
  ASSERT_TRUE(rig.boot().ok());
  rig.link_up();
  rig.welcome(kT0);
  const size_t starts = rig.channel.starts.size();
  rig.server(R"({"type":"disconnect","reason":"replaced","retry_after_s":60})");
  ASSERT_EQ(rig.channel.closes.size(), 1u);
  EXPECT_EQ(rig.channel.closes[0], 1000);
  ASSERT_EQ(rig.channel.floors.size(), 1u);
  EXPECT_EQ(rig.channel.floors[0], 60 * kSec) << "the server's delay is a floor for the wait";
  rig.run_for(59 * kSec);
  EXPECT_EQ(rig.channel.starts.size(), starts) << "no faster reconnect";
  rig.run_for(1 * kSec);
  EXPECT_EQ(rig.channel.starts.size(), starts + 1);
}

}  // namespace
}  // namespace sublink::test
