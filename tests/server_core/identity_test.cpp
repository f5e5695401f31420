// The identity rules of PROTOCOL.md section 4 on the server side: one system
// has at most one link, a newer link replaces the older with `disconnect`
// replaced, two instances taking turns more than 3 times within an hour
// raise duplicate_identity (flagged, or both refused), and a reconnect of
// the same instance never counts as a clone.
#include <gtest/gtest.h>

#include <array>

#include "firmware/protocol/device_messages.h"
#include "hal/hex64.h"
#include "server_core/session_fixture.h"

namespace sublink::test {
namespace {

constexpr std::string_view kOriginal = "0123456789abcdef";
constexpr std::string_view kClone = "fedcba9876543210";
constexpr Millis kMinute = 60 * 1000;

/// One device connection with its own session, as a transport holds it.
struct Link {
  std::unique_ptr<ServerSession> session;
  int wakes = 0;  // how often another session's hello woke this one
  std::vector<std::unique_ptr<Sent>> messages;
  std::optional<CloseRequest> close;

  /// Takes the session's output into `messages` and `close`.
  void take() {
    SessionOutput out = session->take_output();
    for (const std::string& m : out.messages) messages.push_back(std::make_unique<Sent>(m));
    if (out.close) close = out.close;
  }
  bool got(const std::string& type) const {
    for (const auto& m : messages) {
      if (m->type() == type) return true;
    }
    return false;
  }
  const Sent* first(const std::string& type) const {
    for (const auto& m : messages) {
      if (m->type() == type) return m.get();
    }
    return nullptr;
  }
};

class IdentityTest : public SessionTest {
 protected:
  /// Replaces the registry (before any link is opened).
  void use_policy(DuplicateIdentityPolicy policy) {
    registry = std::make_unique<IdentityRegistry>(IdentitySettings{policy, 3600 * 1000, 3});
  }

  /// The device's hello with `instance` (nullopt: the field left out).
  static std::string hello_of(std::optional<std::string_view> instance) {
    std::array<char, 1024> out{};
    HelloMessage h;
    h.customer_id = "C-42";
    h.system_id = "SYS-7";
    h.agent = "0.1.0";
    h.fw = "pbx-9.2";
    h.boot = 3;
    h.instance = instance;
    h.state = "unlicensed";
    return std::string(out.data(), *build_hello(out, 1, h));
  }

  /// A new connection of SYS-7 from `peer` that says hello with `instance`
  /// at `now`; its output is taken.
  std::unique_ptr<Link> connect(std::optional<std::string_view> instance, const std::string& peer = "10.0.0.1:5000") {
    auto link = std::make_unique<Link>();
    link->session = std::make_unique<ServerSession>(settings, directory, signer.license_signer(), *registry,
                                                    PeerInfo{"SYS-7", peer, 443}, now);
    Link* raw = link.get();
    link->session->set_wake_callback([raw] { ++raw->wakes; });
    link->session->on_text(hello_of(instance), now);
    link->take();
    return link;
  }

  /// Two appliances with one identity take turns `turns` times, `gap` apart
  /// (the first link is not a turn); every link is kept open, as clones do.
  void take_turns(int turns, Millis gap) {
    for (int i = 0; i < turns; ++i) {
      now += gap;
      links.push_back(connect(clone_next ? kClone : kOriginal));
      clone_next = !clone_next;
    }
  }

  size_t standing_alarms() const {
    size_t n = 0;
    for (const SystemAlarm& a : directory.alarms()) n += !a.cleared;
    return n;
  }

  std::unique_ptr<IdentityRegistry> registry = std::make_unique<IdentityRegistry>();
  std::vector<std::unique_ptr<Link>> links;  // declared after the registry: gone first
  bool clone_next = true;  // take_turns: the clone takes the next turn (the original linked first)
};

TEST_F(IdentityTest, ANewerLinkReplacesTheOlderWithDisconnectReplaced) {
  settings.replaced_retry_s = 45;
  auto older = connect(kOriginal, "10.0.0.1:5000");
  ASSERT_TRUE(older->got("welcome"));
  now += kMinute;
  auto newer = connect(kClone, "10.0.0.2:6000");
  ASSERT_TRUE(newer->got("welcome")) << "the newer link is kept";
  EXPECT_FALSE(newer->close);

  EXPECT_EQ(older->wakes, 1) << "the transport is told to send the older link's output";
  older->take();
  const Sent* disconnect = older->first("disconnect");
  ASSERT_NE(disconnect, nullptr);
  EXPECT_EQ(disconnect->string("reason"), "replaced");
  EXPECT_EQ(disconnect->integer("retry_after_s"), 45);
  ASSERT_TRUE(older->close);
  EXPECT_EQ(older->close->code, 1000);
  EXPECT_EQ(older->close->reason, "replaced");
  EXPECT_TRUE(older->session->info().replaced);
  EXPECT_TRUE(older->session->closing()) << "one system has at most one link";
  EXPECT_EQ(registry->link_of("SYS-7"), newer->session.get());
  EXPECT_EQ(standing_alarms(), 0u) << "one replacement is no clone";
}

TEST_F(IdentityTest, TheReplacedLinkServesNothingMore) {
  auto older = connect(kOriginal);
  now += kMinute;
  auto newer = connect(kClone);
  older->take();
  older->messages.clear();
  older->session->on_text(R"({"type":"heartbeat","id":5,"seq":1,"uptime_s":9})", now);
  older->session->on_text(license_request(6, R"([{"name":"trunks","qty":5}])"), now);
  older->take();
  EXPECT_TRUE(older->messages.empty()) << "no ack and no license for the replaced appliance";
  EXPECT_FALSE(older->session->push_grant(now));
  EXPECT_FALSE(older->session->request("status.get", "", now));
  EXPECT_TRUE(directory.issued().empty());
}

TEST_F(IdentityTest, MoreThanThreeTurnsWithinAnHourRaiseDuplicateIdentity) {
  links.push_back(connect(kOriginal));
  take_turns(3, 5 * kMinute);
  EXPECT_EQ(standing_alarms(), 0u) << "3 replacements within the hour are allowed";
  take_turns(1, 5 * kMinute);
  ASSERT_EQ(standing_alarms(), 1u) << "the 4th replacement within the hour is one too many";
  const SystemAlarm& alarm = directory.alarms()[0];
  EXPECT_EQ(alarm.system_id, "SYS-7");
  EXPECT_EQ(alarm.kind, "duplicate_identity");
  EXPECT_EQ(alarm.raised, now);
  EXPECT_NE(alarm.detail.find(std::string(kOriginal)), std::string::npos) << alarm.detail;
  EXPECT_NE(alarm.detail.find(std::string(kClone)), std::string::npos) << alarm.detail;
  // The flag policy keeps serving the newer link.
  EXPECT_TRUE(links.back()->got("welcome"));
  EXPECT_FALSE(links.back()->close);

  take_turns(3, kMinute);
  EXPECT_EQ(directory.alarms().size(), 1u) << "an alarm that stands is not raised twice";
}

TEST_F(IdentityTest, TheHourSlides) {
  links.push_back(connect(kOriginal));
  // A turn every 21 minutes: never more than 3 within any hour, for a day.
  take_turns(70, 21 * kMinute);
  EXPECT_EQ(standing_alarms(), 0u);
  EXPECT_EQ(registry->replacements("SYS-7", now), 3u);
  // Then four within the hour that ends now.
  take_turns(1, 10 * kMinute);
  EXPECT_EQ(standing_alarms(), 1u) << "21, 21, 10 minutes apart: four within the hour";
}

TEST_F(IdentityTest, AReplacementExactlyAnHourOldNoLongerCounts) {
  links.push_back(connect(kOriginal));
  take_turns(1, kMinute);
  const Millis first = now;
  take_turns(2, kMinute);
  now = first + 3600 * 1000 - 1;
  EXPECT_EQ(registry->replacements("SYS-7", now), 3u);
  now = first + 3600 * 1000;
  EXPECT_EQ(registry->replacements("SYS-7", now), 2u);
  take_turns(1, 0);
  EXPECT_EQ(standing_alarms(), 0u) << "the first turn left the hour as the fourth came";
}

TEST_F(IdentityTest, AReconnectOfTheSameInstanceNeverCounts) {
  // NAT rebinding, a cut TCP path: the device links again from a new
  // address while the server still holds its dead connection. Again and
  // again, faster than any clone would.
  std::unique_ptr<Link> held = connect(kOriginal, "10.0.0.1:5000");
  for (int i = 0; i < 20; ++i) {
    now += 10 * 1000;
    std::unique_ptr<Link> next = connect(kOriginal, "10.0.0.1:" + std::to_string(5001 + i));
    ASSERT_TRUE(next->got("welcome"));
    held->take();
    EXPECT_TRUE(held->got("disconnect")) << "the dead connection is still replaced";
    EXPECT_TRUE(held->session->closing());
    held = std::move(next);
  }
  EXPECT_EQ(registry->replacements("SYS-7", now), 0u);
  EXPECT_TRUE(directory.alarms().empty());
}

TEST_F(IdentityTest, ADeviceThatDoesNotSayItsInstanceIsNeverCounted) {
  links.push_back(connect(std::nullopt));
  for (int i = 0; i < 6; ++i) {
    now += kMinute;
    links.push_back(connect(i % 2 == 0 ? std::optional<std::string_view>(kClone) : std::nullopt));
  }
  EXPECT_TRUE(directory.alarms().empty()) << "without both instances a clone cannot be told from a reconnect";
  for (size_t i = 0; i + 1 < links.size(); ++i) EXPECT_TRUE(links[i]->session->closing()) << i;
}

TEST_F(IdentityTest, ALinkThatClosedIsNotReplacedNorCounted) {
  for (int i = 0; i < 8; ++i) {
    std::unique_ptr<Link> link = connect(i % 2 == 0 ? kOriginal : kClone);
    ASSERT_TRUE(link->got("welcome"));
    now += kMinute;
    link->session->on_closed(now, "closed_by_peer 1000");
    EXPECT_EQ(registry->link_of("SYS-7"), nullptr);
  }
  EXPECT_TRUE(directory.alarms().empty());
}

TEST_F(IdentityTest, ASessionDroppedWithoutItsCloseLeavesTheRegistry) {
  {
    std::unique_ptr<Link> gone = connect(kOriginal);
    EXPECT_EQ(registry->link_of("SYS-7"), gone->session.get());
  }
  EXPECT_EQ(registry->link_of("SYS-7"), nullptr);
  auto next = connect(kClone);
  EXPECT_TRUE(next->got("welcome"));
  EXPECT_EQ(registry->replacements("SYS-7", now), 0u);
}

TEST_F(IdentityTest, TheRefusePolicyRefusesBothUntilTheAlarmIsCleared) {
  use_policy(DuplicateIdentityPolicy::refuse);
  links.push_back(connect(kOriginal));
  take_turns(3, kMinute);
  ASSERT_TRUE(links.back()->got("welcome"));
  Link& older = *links.back();
  take_turns(1, kMinute);
  Link& newer = *links.back();
  ASSERT_EQ(standing_alarms(), 1u);

  const Sent* refused = newer.first("error");
  ASSERT_NE(refused, nullptr) << "the newer appliance is refused";
  EXPECT_EQ(refused->string("code"), "duplicate_identity");
  EXPECT_EQ(refused->integer("retry_after_s"), settings.duplicate_identity_retry_s);
  EXPECT_FALSE(newer.got("welcome"));
  ASSERT_TRUE(newer.close);
  EXPECT_EQ(newer.close->code, 1008);
  EXPECT_EQ(older.wakes, 1);
  older.take();
  const Sent* older_refused = older.first("error");
  ASSERT_NE(older_refused, nullptr) << "and so is the older one";
  EXPECT_EQ(older_refused->string("code"), "duplicate_identity");
  ASSERT_TRUE(older.close);
  EXPECT_EQ(older.close->code, 1008);
  EXPECT_EQ(registry->link_of("SYS-7"), nullptr);
  EXPECT_EQ(directory.connections().back().down_reason, "duplicate_identity");

  // Either appliance that comes back is refused while the alarm stands.
  for (std::string_view instance : {kOriginal, kClone}) {
    now += 2 * 3600 * 1000;
    std::unique_ptr<Link> again = connect(instance);
    const Sent* e = again->first("error");
    ASSERT_NE(e, nullptr) << instance;
    EXPECT_EQ(e->string("code"), "duplicate_identity");
    EXPECT_FALSE(again->got("welcome"));
  }
  // The operator deals with the clone and clears the alarm.
  ASSERT_TRUE(directory.clear_alarm("SYS-7", kDuplicateIdentityAlarm, now));
  registry->forget_replacements("SYS-7");
  std::unique_ptr<Link> back = connect(kOriginal);
  EXPECT_TRUE(back->got("welcome"));
}

TEST_F(IdentityTest, AProbeLeavesTheLinkAloneAndIsGrantedNothing) {
  auto appliance = connect(kOriginal);
  std::string probe_hello = hello_of(std::nullopt);
  probe_hello.replace(probe_hello.find(R"("role":"primary")"), 16, R"("role":"doctor")");
  auto probe = std::make_unique<Link>();
  probe->session = std::make_unique<ServerSession>(settings, directory, signer.license_signer(), *registry,
                                                   PeerInfo{"SYS-7", "10.0.0.9:7000", 443}, now);
  probe->session->on_text(probe_hello, now);
  probe->session->on_text(license_request(2, R"([{"name":"trunks","qty":5}])"), now);
  probe->take();
  EXPECT_TRUE(probe->got("welcome"));
  const Sent* denied = probe->first("license_denied");
  ASSERT_NE(denied, nullptr);
  EXPECT_EQ(denied->string("code"), "not_primary");
  EXPECT_EQ(appliance->wakes, 0);
  EXPECT_FALSE(appliance->session->closing()) << "the appliance keeps its link";
  EXPECT_EQ(registry->link_of("SYS-7"), appliance->session.get());
}

TEST_F(IdentityTest, TheFlagPolicyServesASystemWithAStandingAlarm) {
  ASSERT_TRUE(directory.raise_alarm({"SYS-7", "duplicate_identity", now, "earlier", std::nullopt}).ok());
  auto link = connect(kOriginal);
  EXPECT_TRUE(link->got("welcome"));
}

TEST_F(IdentityTest, AnInstanceThatIsNotSixteenLowerCaseHexDigitsIsAProtocolViolation) {
  for (const char* bad : {"0123456789ABCDEF", "0123456789abcde", "0123456789abcdef0", "0x23456789abcdef",
                          "0123456789abcdeg", ""}) {
    auto link = connect(bad);
    EXPECT_FALSE(link->got("welcome")) << bad;
    ASSERT_TRUE(link->close) << bad;
    EXPECT_EQ(link->close->code, 1002) << bad;
    EXPECT_NE(link->close->reason.find("instance"), std::string::npos) << link->close->reason;
  }
  std::string numeric = hello_of(kOriginal);
  numeric.replace(numeric.find("\"0123456789abcdef\""), 18, "81985529216486895");
  open();
  say(numeric);
  take();
  ASSERT_TRUE(last_close);
  EXPECT_EQ(last_close->code, 1002) << "an instance is a string";
}

TEST(Hex64Test, FormatsAndParsesExactlySixteenLowerCaseDigits) {
  const Hex64Text text = format_hex64(0x0123456789abcdefULL);
  EXPECT_EQ(std::string_view(text.data(), text.size()), "0123456789abcdef");
  const Hex64Text zero = format_hex64(0);
  EXPECT_EQ(std::string_view(zero.data(), zero.size()), "0000000000000000");
  EXPECT_EQ(parse_hex64("ffffffffffffffff"), UINT64_MAX);
  EXPECT_EQ(parse_hex64("0123456789abcdef"), 0x0123456789abcdefULL);
  EXPECT_FALSE(parse_hex64("0123456789ABCDEF"));
  EXPECT_FALSE(parse_hex64("123456789abcdef"));
  EXPECT_FALSE(parse_hex64(" 123456789abcdef"));
}

}  // namespace
}  // namespace sublink::test
