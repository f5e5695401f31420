// The demo driver's pieces on their own: what it reads from the agent and
// the server, how it follows logs and sums up the story (the commands it
// runs: tests/linux_util/child_process_test.cpp).
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <string>

#include "support/process.h"
#include "tools/demo/demo_rig.h"
#include "tools/demo/line_follower.h"
#include "tools/demo/narrator.h"
#include "tools/demo/status_view.h"

namespace sublink::demo {
namespace {

void append(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::app);
  out << text;
}

TEST(DemoLineFollower, ALineCountsOnceItsNewlineArrived) {
  test::TempDir dir;
  LineFollower log(dir.file("agent.log"));
  log.poll();
  EXPECT_EQ(log.size(), 0u) << "a file that does not exist yet reads as empty";

  append(log.path(), "<6>sublinkd: resolved localhost -> 127.0.0.1\n<5>sublinkd: LINK UP on 127.0");
  log.poll();
  ASSERT_EQ(log.size(), 1u) << "the second line is not complete";
  append(log.path(), ".0.1:4000\n");
  log.poll();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log.lines()[1], "<5>sublinkd: LINK UP on 127.0.0.1:4000");
}

TEST(DemoLineFollower, FindsAndCountsFromAMark) {
  test::TempDir dir;
  LineFollower log(dir.file("server.log"));
  append(log.path(), "heartbeat 1\naudit\nheartbeat 2\n");
  log.poll();
  const size_t mark = log.size();
  append(log.path(), "heartbeat 3\n");
  log.poll();
  EXPECT_EQ(log.count(0, "heartbeat"), 3u);
  EXPECT_EQ(log.count(mark, "heartbeat"), 1u);
  EXPECT_EQ(log.find(1, "heartbeat"), 2u);
  EXPECT_FALSE(log.find(mark, "audit").has_value()) << "the audit came before the mark";
}

TEST(DemoLogMessage, TakesOffTheLevelAndProgramPrefix) {
  EXPECT_EQ(log_message("<4>sublinkd: event: grace_alarm (minor, 1 day left)"), "event: grace_alarm (minor, 1 day left)");
  EXPECT_EQ(log_message("no prefix here"), "no prefix here");
}

TEST(DemoAgentStatus, ReadsTheSection7Object) {
  std::optional<AgentStatusView> s = parse_agent_status(
      R"({"state":"grace","link":"down","grace_elapsed_s":35,"grace_remaining_s":25,"alarm":true,)"
      R"("license":{"serial":"L-1","expires":1,"features":[{"name":"trunks","qty":30},{"name":"recording","qty":1}]},)"
      R"("events_pending":4,"boot":1,"audit_overuse":false})");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->state, "grace");
  EXPECT_FALSE(s->link_up);
  EXPECT_EQ(s->port, 0);
  EXPECT_EQ(s->grace_elapsed_s, 35);
  EXPECT_EQ(s->grace_remaining_s, 25);
  EXPECT_TRUE(s->alarm);
  EXPECT_EQ(s->serial, "L-1");
  EXPECT_EQ(s->feature_text(), "trunks=30 recording=1");
  EXPECT_EQ(s->events_pending, 4);

  std::optional<AgentStatusView> up =
      parse_agent_status(R"({"state":"unlicensed","link":"up","port":8443,"alarm":false,"license":null})");
  ASSERT_TRUE(up);
  EXPECT_TRUE(up->link_up);
  EXPECT_EQ(up->port, 8443);
  EXPECT_TRUE(up->serial.empty());
  EXPECT_EQ(up->feature_text(), "none");

  EXPECT_FALSE(parse_agent_status("sublinkctl: sublinkd is not running"));
  EXPECT_FALSE(parse_agent_status(R"({"ok":false,"error":"x"})")) << "an error answer is not a status";
}

TEST(DemoServerDevices, FindsTheSystemsLine) {
  const std::string out =
      R"({"system_id":"SYS-0002","customer_id":"C","link":"up","port":1,"peer":"x","last_contact":5,"serial":"L-9"})"
      "\n"
      R"({"system_id":"SYS-0001","customer_id":"C","link":"up","port":8443,"peer":"127.0.0.1:5000",)"
      R"("last_contact":null,"serial":"L-2"})"
      "\n";
  std::optional<ServerDeviceView> d = find_server_device(out, "SYS-0001");
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->link_up);
  EXPECT_EQ(d->port, 8443);
  EXPECT_EQ(d->peer, "127.0.0.1:5000");
  EXPECT_FALSE(d->last_contact.has_value());
  EXPECT_EQ(d->serial, "L-2");
  EXPECT_FALSE(find_server_device(out, "SYS-0003"));
  EXPECT_FALSE(find_server_device("not json\n", "SYS-0001"));
}

std::string narrate(const std::function<void(Narrator&)>& story, bool& all) {
  char* text = nullptr;
  size_t size = 0;
  FILE* out = open_memstream(&text, &size);
  {
    Narrator n(out, {"one", "two", "three"});
    story(n);
    all = n.summarize();
  }
  fclose(out);
  std::string s(text, size);
  free(text);
  return s;
}

TEST(DemoNarrator, TheSummarySaysWhetherEveryStepHappened) {
  bool all = false;
  std::string text = narrate([](Narrator& n) {
    n.pass("first");
    n.act("the operator acts");
    n.pass("second");
    n.pass("third");
  }, all);
  EXPECT_TRUE(all) << text;
  EXPECT_NE(text.find("PASS  second"), std::string::npos) << text;
  EXPECT_NE(text.find(">>    the operator acts"), std::string::npos) << text;
  EXPECT_NE(text.find("3 of 3"), std::string::npos) << text;

  text = narrate([](Narrator& n) {
    n.pass("first");
    n.fail("not within 10 s");
  }, all);
  EXPECT_FALSE(all) << text;
  EXPECT_NE(text.find("FAIL  two: not within 10 s"), std::string::npos) << text;
  EXPECT_NE(text.find("1 of 3 steps happened"), std::string::npos) << text;
  EXPECT_NE(text.find("FAILED       two"), std::string::npos) << text;
  EXPECT_NE(text.find("not reached  three"), std::string::npos) << text;

  text = narrate([](Narrator& n) { n.pass("first"); }, all);
  EXPECT_FALSE(all) << "steps that never ran are not a pass\n" << text;
}

TEST(DemoFreePort, IsAnUnprivilegedPort) {
  const int port = free_loopback_port();
  EXPECT_GT(port, 1023);
  EXPECT_LT(port, 65536);
}

}  // namespace
}  // namespace sublink::demo
