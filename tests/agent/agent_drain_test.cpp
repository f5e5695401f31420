// The agent writes to its channel only from its drain step (step(),
// drain(), shutdown()), never from inside the link's reports, so the link
// needs no re-entrancy guards; and the pieces that make that work: the
// Outbox, the management table, the AgentRunner that wires every board.
#include <gtest/gtest.h>

#include "agent/agent_rig.h"
#include "firmware/agent/agent_runner.h"
#include "firmware/agent/outbox.h"
#include "firmware/config/device_config.h"
#include "net/tls/tls_client.h"

namespace sublink::test {
namespace {

class AgentDrainTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(rig.boot().ok()); }
  /// The link's report that the WebSocket is open, as the link makes it:
  /// no drain after it.
  void report_link_up() {
    rig.channel.is_up = true;
    AttemptInfo info;
    info.port = 443;
    rig.agent->on_link_up(info, false);
  }
  std::vector<std::string> types() const {
    std::vector<std::string> out;
    for (const std::string& text : rig.channel.sent) out.push_back(Sent(text).type());
    return out;
  }
  AgentRig rig;
};

TEST_F(AgentDrainTest, NothingIsWrittenFromInsideTheLinksReports) {
  report_link_up();
  EXPECT_TRUE(rig.channel.sent.empty()) << "hello waits for the drain step";
  EXPECT_TRUE(rig.agent->output_pending());
  rig.agent->step(rig.mono.now);
  EXPECT_EQ(types(), (std::vector<std::string>{"hello", "license_request"})) << "in the order they were made";
  EXPECT_FALSE(rig.agent->output_pending());

  rig.agent->on_text(R"({"type":"welcome","time":)" + std::to_string(kT0) + R"(,"heartbeat_s":10,"audit_s":3600})");
  rig.agent->on_text(R"({"type":"request","id":7,"method":"status.get"})");
  EXPECT_EQ(rig.channel.sent.size(), 2u) << "no answer and no events from inside on_text";
  rig.agent->step(rig.mono.now);
  ASSERT_GE(rig.channel.sent.size(), 3u);
  EXPECT_EQ(Sent(rig.channel.sent[2]).type(), "response") << "the answer, first: it was made first";
}

TEST_F(AgentDrainTest, ADisconnectClosesTheChannelAtTheDrainAfterTheAnswersBeforeIt) {
  report_link_up();
  rig.agent->drain();
  rig.agent->on_text(R"({"type":"welcome","time":)" + std::to_string(kT0) + R"(,"heartbeat_s":10,"audit_s":3600})");
  rig.agent->on_text(R"({"type":"request","id":8,"method":"license.refresh"})");
  rig.agent->on_text(R"({"type":"disconnect","reason":"maintenance","retry_after_s":30})");
  EXPECT_TRUE(rig.channel.closes.empty()) << "the close waits for the drain too";
  EXPECT_FALSE(rig.agent->link_accepted()) << "the agent counts the link as gone at once";
  const size_t before = rig.channel.sent.size();
  rig.agent->step(rig.mono.now);
  ASSERT_EQ(rig.channel.closes, (std::vector<uint16_t>{1000}));
  ASSERT_EQ(rig.channel.sent.size(), before + 2) << "the answer and its license_request went out before the close";
  EXPECT_EQ(Sent(rig.channel.sent[before]).type(), "response");
  EXPECT_EQ(Sent(rig.channel.sent[before + 1]).type(), "license_request");
}

TEST_F(AgentDrainTest, WhatWaitsForADeadLinkIsDroppedNotWritten) {
  report_link_up();
  rig.channel.is_up = false;
  rig.agent->on_link_down(Status(Reason::connection_reset));
  EXPECT_FALSE(rig.agent->output_pending());
  rig.agent->step(rig.mono.now);
  EXPECT_TRUE(rig.channel.sent.empty());
  for (const auto& [what, detail] : rig.logs) EXPECT_NE(what, "message not sent") << detail;
}

// ---- Outbox -------------------------------------------------------------------

class OutboxTest : public ::testing::Test {
 protected:
  OutboxTest() { channel.is_up = true; }
  Result<size_t> text(std::string_view s) {
    std::span<char> out = box.space();
    if (s.size() > out.size()) return Status(Reason::out_of_memory);
    std::copy(s.begin(), s.end(), out.begin());
    return s.size();
  }
  FakeChannel channel;
  std::vector<std::string> lines;
  AgentLog log{{[](void* ctx, LogLevel, std::string_view what, std::string_view) {
                  static_cast<OutboxTest*>(ctx)->lines.emplace_back(what);
                },
                this}};
  Outbox box{channel, log};
};

TEST_F(OutboxTest, KeepsMessagesUntilTheDrainThenWritesThemInOrderAndAtOnceUntilItEnds) {
  EXPECT_TRUE(box.commit(text("one")));
  EXPECT_TRUE(box.commit(text("two")));
  EXPECT_TRUE(channel.sent.empty());
  box.begin_drain();
  EXPECT_EQ(channel.sent, (std::vector<std::string>{"one", "two"}));
  EXPECT_TRUE(box.commit(text("three")));
  EXPECT_EQ(channel.sent.back(), "three") << "inside the drain step a message goes out at once";
  box.end_drain();
  EXPECT_TRUE(box.commit(text("four")));
  EXPECT_EQ(channel.sent.size(), 3u);
}

TEST_F(OutboxTest, AMessageThatDoesNotFitBehindOthersIsNotSentAndSaysSo) {
  ASSERT_TRUE(box.commit(text(std::string(Outbox::kBytes - 10, 'a'))));
  EXPECT_FALSE(box.commit(text(std::string(20, 'b'))));
  EXPECT_EQ(lines.back(), "message not sent");
  lines.clear();
  box.discard();
  EXPECT_FALSE(box.commit(text(std::string(Outbox::kBytes + 1, 'c'))));
  EXPECT_EQ(lines.back(), "message not built") << "too large on its own is a build failure";
}

TEST_F(OutboxTest, NothingIsTakenForAChannelThatIsDownOrClosing) {
  channel.is_up = false;
  EXPECT_FALSE(box.commit(text("x")));
  EXPECT_FALSE(box.pending());
  channel.is_up = true;
  ASSERT_TRUE(box.commit(text("last")));
  box.close(1001, "going away");
  EXPECT_FALSE(box.commit(text("after close"))) << "nothing goes behind a close";
  EXPECT_TRUE(channel.closes.empty());
  box.begin_drain();
  box.end_drain();
  EXPECT_EQ(channel.sent, (std::vector<std::string>{"last"}));
  EXPECT_EQ(channel.closes, (std::vector<uint16_t>{1001}));
}

TEST_F(OutboxTest, ANewLinkNumbersFromOneAndForgetsTheOldLinksMessages) {
  EXPECT_EQ(box.next_id(), 1);
  EXPECT_EQ(box.next_id(), 2);
  ASSERT_TRUE(box.commit(text("old")));
  box.restart();
  EXPECT_EQ(box.next_id(), 1);
  box.begin_drain();
  EXPECT_TRUE(channel.sent.empty());
}

// ---- Management table -----------------------------------------------------------

TEST(ManagementTable, EveryMethodTheConfigurationNamesIsAnsweredByItsOwnRow) {
  AgentRig rig;
  std::vector<std::string> names;
  for (size_t i = 0; i < kManagementMethodCount; ++i) {
    names.emplace_back(management_method_name(static_cast<ManagementMethod>(i)));
  }
  std::vector<std::string_view> all(names.begin(), names.end());
  rig.config.allowed_methods = all;
  ASSERT_TRUE(rig.boot().ok());
  rig.link_up();
  rig.welcome(kT0);
  int id = 100;
  for (const std::string& name : names) {
    rig.server(R"({"type":"request","id":)" + std::to_string(++id) + R"(,"method":")" + name + R"(","params":{}})");
    std::unique_ptr<Sent> answer;
    for (auto& m : rig.sent_of("response")) {
      if (m->integer("re") == id) {
        char* text = cJSON_PrintUnformatted(m->root);
        answer = std::make_unique<Sent>(text);
        cJSON_free(text);
      }
    }
    ASSERT_NE(answer, nullptr) << name << " got no answer";
    const cJSON* error = answer->get("error");
    const char* code = cJSON_GetStringValue(cJSON_GetObjectItem(error, "code"));
    EXPECT_TRUE(code == nullptr || std::string(code) != "unknown_method") << name;
  }
}

// ---- AgentRunner ------------------------------------------------------------------

// A socket driver that never connects: the runner's reports are played by hand.
class IdleDriver : public SocketDriver {
 public:
  Result<ResolveId> resolve(std::string_view, SocketEvents&) override { return ResolveId{1}; }
  void cancel_resolve(ResolveId) override {}
  Result<SocketId> open(const IpAddress&, uint16_t, SocketEvents&) override { return SocketId{1}; }
  Result<size_t> send(SocketId, std::span<const uint8_t> bytes) override { return bytes.size(); }
  void close(SocketId) override {}
  void set_receiving(SocketId, bool) override {}
  void shutdown_send(SocketId) override {}
};

// The board's listener: what it heard, and whether the agent had the link accepted then.
class BoardEar : public LinkListener {
 public:
  explicit BoardEar(const Agent* const& agent) : agent_(agent) {}
  void on_link_up(const AttemptInfo&, bool) override { heard.push_back(agent_up("up")); }
  void on_text(std::string_view) override { heard.push_back(agent_up("text")); }
  void on_link_down(Status) override { heard.push_back(agent_up("down")); }
  std::vector<std::string> heard;

 private:
  std::string agent_up(const char* what) const {
    return std::string(what) + (agent_ != nullptr && agent_->link_accepted() ? " (accepted)" : "");
  }
  const Agent* const& agent_;
};

TEST(AgentRunner, TheBoardHearsEachReportBeforeTheAgentAndEachMessageAfterIt) {
  AgentRig rig;
  ASSERT_TRUE(rig.boot().ok());
  const Agent* agent = nullptr;
  BoardEar board(agent);
  AgentRunner runner(&board);
  IdleDriver driver;
  TlsClientConfig tls;
  LinkConfig config;
  config.server = "127.0.0.1";
  Link link(config, tls, driver, rig.random, runner);
  Agent device(rig.config, link, rig.memory, rig.mono, rig.wall, rig.key, rig.random);
  ASSERT_TRUE(device.boot(rig.mono.now).ok());
  agent = &device;
  runner.attach(device, link);

  runner.on_link_up(AttemptInfo{}, false);
  runner.on_text(R"({"type":"welcome","time":)" + std::to_string(kT0) + R"(,"heartbeat_s":10,"audit_s":3600})");
  EXPECT_TRUE(device.link_accepted()) << "the runner handed the message to the agent";
  runner.on_link_down(Status(Reason::connection_reset));
  EXPECT_FALSE(device.link_accepted());
  EXPECT_EQ(board.heard, (std::vector<std::string>{"up", "text (accepted)", "down (accepted)"}))
      << "the board hears welcome once the agent took it, and the link's end before the agent does";
  EXPECT_NE(runner.step(rig.mono.now), kNever) << "the agent's own deadlines (grace, the wall clock) come back";
  runner.detach();
  EXPECT_EQ(runner.step(rig.mono.now), kNever) << "a runner with nothing attached has nothing to do";
}

// Every report by name, in the order the board heard it.
class BoardLog : public LinkListener {
 public:
  void on_resolved(std::string_view name, Status, const AddressList&) override { heard.push_back("resolved " + std::string(name)); }
  void on_attempt_step(const AttemptInfo&, LinkStep) override { heard.push_back("step"); }
  void on_attempt_failed(const AttemptInfo&, Status, std::string_view) override { heard.push_back("attempt failed"); }
  void on_round_failed(Status, Millis) override { heard.push_back("round failed"); }
  void on_link_up(const AttemptInfo&, bool) override { heard.push_back("up"); }
  void on_text(std::string_view) override { heard.push_back("text"); }
  void on_binary(std::span<const uint8_t>) override { heard.push_back("binary"); }
  void on_pong(std::span<const uint8_t>) override { heard.push_back("pong"); }
  void on_link_down(Status) override { heard.push_back("down"); }
  std::vector<std::string> heard;
};

// Plays every report the link can make.
void play_every_report(AgentRunner& runner) {
  const uint8_t bytes[] = {1, 2};
  runner.on_resolved("licensing.example", Status(Reason::dns_failed), AddressList{});
  runner.on_attempt_step(AttemptInfo{}, LinkStep::tcp_connected);
  runner.on_attempt_failed(AttemptInfo{}, Status(Reason::connect_refused), "");
  runner.on_round_failed(Status(Reason::connect_refused), 1000);
  runner.on_link_up(AttemptInfo{}, false);
  runner.on_text(R"({"type":"welcome","time":)" + std::to_string(kT0) + R"(,"heartbeat_s":10,"audit_s":3600})");
  runner.on_binary(bytes);
  runner.on_pong(bytes);
  runner.on_link_down(Status(Reason::connection_reset));
}

TEST(AgentRunner, ReportsBeforeAttachReachTheBoardAloneAndARunnerWithoutABoardServesTheAgent) {
  AgentRig rig;
  ASSERT_TRUE(rig.boot().ok());
  IdleDriver driver;
  TlsClientConfig tls;
  LinkConfig config;
  config.server = "127.0.0.1";

  // A board whose agent is not attached yet (a board starts its console first).
  BoardLog board;
  AgentRunner early(&board);
  play_every_report(early);
  EXPECT_EQ(board.heard, (std::vector<std::string>{"resolved licensing.example", "step", "attempt failed",
                                                   "round failed", "up", "text", "binary", "pong", "down"}))
      << "with no agent the board still hears every report, once, in order";
  EXPECT_EQ(early.step(rig.mono.now), kNever);

  // A board with no listener of its own: every report the agent needs reaches it.
  AgentRunner runner;
  Link link(config, tls, driver, rig.random, runner);
  Agent device(rig.config, link, rig.memory, rig.mono, rig.wall, rig.key, rig.random);
  ASSERT_TRUE(device.boot(rig.mono.now).ok());
  runner.attach(device, link);
  runner.on_resolved("licensing.example", Status(Reason::dns_failed), AddressList{});
  EXPECT_EQ(device.snapshot().last_failure.reason, reason_name(Reason::dns_failed))
      << "a failed lookup is the device's last failure";
  runner.on_attempt_step(AttemptInfo{}, LinkStep::tcp_connected);
  runner.on_round_failed(Status(Reason::connect_refused), 1000);
  runner.on_link_up(AttemptInfo{}, false);
  runner.on_text(R"({"type":"welcome","time":)" + std::to_string(kT0) + R"(,"heartbeat_s":10,"audit_s":3600})");
  EXPECT_TRUE(device.link_accepted()) << "the agent heard the link come up, then welcome";
  const uint8_t pong[] = {7};
  runner.on_pong(pong);
  runner.on_link_down(Status(Reason::connection_reset));
  EXPECT_FALSE(device.link_accepted());
  EXPECT_EQ(device.snapshot().last_failure.reason, reason_name(Reason::connection_reset));
}

}  // namespace
}  // namespace sublink::test
