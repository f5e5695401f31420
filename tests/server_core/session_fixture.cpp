#include "server_core/session_fixture.h"

#include <array>

#include "firmware/protocol/device_messages.h"

namespace sublink::test {

SessionTest::SessionTest() {
  EXPECT_TRUE(key.load(signer.public_key_pem()).ok());
  directory.put_system({"C-42", "SYS-7", {{"trunks", 30}, {"recording", 1}}});
  directory.put_system({"C-43", "SYS-8", {{"trunks", 5}}});
  settings.heartbeat_s = 10;
  settings.audit_s = 3600;
  settings.kid = "k1";
}

void SessionTest::open(const std::string& cn) {
  session = std::make_unique<ServerSession>(settings, directory, signer.license_signer(), identities,
                                            PeerInfo{cn, "127.0.0.1:40000", 8443}, now);
  last_close.reset();
}

std::string SessionTest::hello(int64_t id, const std::string& customer, const std::string& system, int64_t proto,
                               std::optional<std::string_view> serial) {
  std::array<char, 1024> out{};
  HelloMessage h;
  h.customer_id = customer;
  h.system_id = system;
  h.agent = "0.1.0";
  h.fw = "pbx-9.2";
  h.boot = 3;
  h.state = "unlicensed";
  h.license_serial = serial;
  std::string text(out.data(), *build_hello(out, id, h));
  if (proto != 1) text.replace(text.find(R"("proto":1)"), 9, R"("proto":)" + std::to_string(proto));
  return text;
}

void SessionTest::welcomed() {
  open();
  say(hello());
  auto out = take();
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0]->type(), "welcome");
}

void SessionTest::say(const std::string& text) { session->on_text(text, now); }

std::vector<std::unique_ptr<Sent>> SessionTest::take() {
  SessionOutput out = session->take_output();
  std::vector<std::unique_ptr<Sent>> parsed;
  for (const std::string& m : out.messages) {
    parsed.push_back(std::make_unique<Sent>(m));
    EXPECT_NE(parsed.back()->root, nullptr) << "not JSON: " << m;
  }
  if (out.close) last_close = out.close;
  return parsed;
}

std::unique_ptr<Sent> SessionTest::take_one() {
  auto out = take();
  EXPECT_EQ(out.size(), 1u);
  if (out.size() != 1) return std::make_unique<Sent>("{}");
  return std::move(out[0]);
}

std::string SessionTest::license_request(int64_t id, const std::string& features) {
  return R"({"type":"license_request","id":)" + std::to_string(id) + R"(,"features":)" + features + "}";
}

}  // namespace sublink::test
