// The status page (firmware/agent/status_page.h) as a tunnel handler: the
// response to each request, whole and once, its sessions and its bounds.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "firmware/agent/status_page.h"

namespace sublink::test {
namespace {

std::span<const uint8_t> bytes(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

class FixedStatus : public StatusSource {
 public:
  AgentStatus snapshot() const override {
    ++reads;
    return status;
  }
  AgentStatus status;
  mutable int reads = 0;
};

class RecordingReply : public TunnelReply {
 public:
  size_t room() const override { return space; }
  size_t write(std::span<const uint8_t> b) override {
    EXPECT_FALSE(finished) << "bytes after FIN";
    const size_t n = std::min(b.size(), space);
    out.append(reinterpret_cast<const char*>(b.data()), n);
    space -= n;
    return n;
  }
  void finish() override { finished = true; }
  size_t space = 8192;
  std::string out;
  bool finished = false;
};

// The body after the head, checked against the head's Content-Length.
std::string body_of(const std::string& response) {
  const size_t end = response.find("\r\n\r\n");
  EXPECT_NE(end, std::string::npos) << response;
  const size_t at = response.find("Content-Length: ");
  EXPECT_NE(at, std::string::npos) << response;
  const std::string body = response.substr(end + 4);
  EXPECT_EQ(std::stoul(response.substr(at + 16)), body.size()) << "Content-Length is the body's length";
  return body;
}

class StatusPageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    features[0].name.assign("recording");
    features[0].qty = 1;
    features[1].name.assign("trunks");
    features[1].qty = 30;
    AgentStatus& s = source.status;
    s.state = LicenseState::licensed;
    s.link_up = true;
    s.port = 8443;
    s.grace_elapsed_s = 0;
    s.grace_remaining_s = 2592000;
    s.license_held = true;
    s.serial = "L-7";
    s.expires = 1767225600000;
    s.features = features;
  }
  std::string fetch(std::string_view request, uint16_t channel = 1) {
    RecordingReply reply;
    EXPECT_TRUE(page.open(channel, 0));
    EXPECT_EQ(page.on_input(channel, bytes(request), false, reply), request.size());
    EXPECT_TRUE(reply.finished) << "FIN after the answer";
    page.close(channel);
    return reply.out;
  }
  std::array<LicensedFeature, 2> features{};
  FixedStatus source;
  StatusPage page{source, "SYS-0001"};
};

TEST_F(StatusPageTest, GetOfTheRootAnswersTheStatusWholeThenFin) {
  const std::string response = fetch("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(response.rfind("HTTP/1.0 200 OK\r\n", 0), 0u) << response;
  EXPECT_NE(response.find("\r\nContent-Type: text/plain; charset=utf-8\r\n"), std::string::npos);
  EXPECT_EQ(body_of(response),
            "sublink status of SYS-0001\n"
            "state: licensed\n"
            "license: L-7, expires 1767225600000 (UTC ms), features recording=1 trunks=30\n"
            "grace: elapsed 0 s, remaining 2592000 s, alarm off\n"
            "link: up, port 8443\n"
            "last_failure: none\n");
}

TEST_F(StatusPageTest, ThePageShowsGraceAndWhyTheLinkIsDown) {
  AgentStatus& s = source.status;
  s.state = LicenseState::grace;
  s.link_up = false;
  s.grace_elapsed_s = 86400;
  s.grace_remaining_s = 2505600;
  s.alarm = true;
  s.last_failure.reason = "connect_refused";
  s.last_failure.detail = "port 443: connection refused";
  const std::string body = body_of(fetch("GET / HTTP/1.0\r\n\r\n"));
  EXPECT_NE(body.find("\nstate: grace\n"), std::string::npos) << body;
  EXPECT_NE(body.find("\ngrace: elapsed 86400 s, remaining 2505600 s, alarm on\n"), std::string::npos) << body;
  EXPECT_NE(body.find("\nlink: down\n"), std::string::npos) << body;
  EXPECT_NE(body.find("\nlast_failure: connect_refused (port 443: connection refused)\n"), std::string::npos);
  s.license_held = false;
  s.state = LicenseState::unlicensed;
  EXPECT_NE(body_of(fetch("GET / HTTP/1.0\r\n\r\n")).find("\nlicense: none\n"), std::string::npos);
}

TEST_F(StatusPageTest, OtherRequestsGetTheirErrorStatusAndAShortBody) {
  const std::string post = fetch("POST / HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc");
  EXPECT_EQ(post.rfind("HTTP/1.0 405 Method Not Allowed\r\n", 0), 0u) << post;
  EXPECT_NE(post.find("\r\nAllow: GET\r\n"), std::string::npos);
  EXPECT_EQ(body_of(post), "method not allowed: this page is read-only (GET)\n");
  EXPECT_EQ(fetch("GET /x HTTP/1.0\r\n\r\n").rfind("HTTP/1.0 404 Not Found\r\n", 0), 0u);
  EXPECT_EQ(fetch("BREW /pot HTCPCP/1.0\r\n\r\n").rfind("HTTP/1.0 400 Bad Request\r\n", 0), 0u);
  const std::string big = "GET / HTTP/1.0\r\nX: " + std::string(HttpRequestHead::kMaxHead, 'x') + "\r\n\r\n";
  const std::string too_large = fetch(big);
  EXPECT_EQ(too_large.rfind("HTTP/1.0 431 Request Header Fields Too Large\r\n", 0), 0u);
  EXPECT_FALSE(body_of(too_large).empty());
  EXPECT_EQ(source.reads, 0) << "the status is read only for GET /";
}

TEST_F(StatusPageTest, ARequestEndedByTheOperatorsFinIsBad) {
  RecordingReply reply;
  ASSERT_TRUE(page.open(3, 0));
  EXPECT_EQ(page.on_input(3, bytes("GET / HTTP/1.0\r\n"), false, reply), 16u);
  EXPECT_TRUE(reply.out.empty()) << "the head has not ended";
  EXPECT_EQ(page.on_input(3, {}, true, reply), 0u);
  EXPECT_EQ(reply.out.rfind("HTTP/1.0 400 Bad Request\r\n", 0), 0u) << reply.out;
  EXPECT_TRUE(reply.finished);
}

TEST_F(StatusPageTest, TheAnswerWaitsForRoomForAllOfItAndBytesAfterItAreDropped) {
  RecordingReply reply;
  reply.space = 100;
  ASSERT_TRUE(page.open(1, 0));
  const std::string_view request = "GET / HTTP/1.0\r\n\r\n";
  EXPECT_EQ(page.on_input(1, bytes(request), false, reply), request.size());
  EXPECT_TRUE(reply.out.empty()) << "no half page";
  EXPECT_FALSE(reply.finished);
  source.status.port = 443;  // the link moved meanwhile: the page shows now
  reply.space = 8192;
  EXPECT_EQ(page.on_input(1, {}, false, reply), 0u);
  EXPECT_NE(body_of(reply.out).find("link: up, port 443\n"), std::string::npos) << reply.out;
  EXPECT_TRUE(reply.finished);
  EXPECT_EQ(page.on_input(1, bytes("trailing bytes"), false, reply), 14u) << "taken, so credit flows";
}

TEST_F(StatusPageTest, SessionsAreBoundedAndFreedOnClose) {
  ASSERT_TRUE(page.open(1, 0));
  ASSERT_TRUE(page.open(2, 0));
  EXPECT_FALSE(page.open(3, 0)) << "kSessions at once";
  EXPECT_EQ(page.sessions_in_use(), StatusPage::kSessions);
  RecordingReply reply;
  EXPECT_EQ(page.on_input(9, bytes("GET"), false, reply), 3u) << "an unknown channel's bytes are dropped";
  EXPECT_TRUE(reply.out.empty());
  page.close(1);
  EXPECT_TRUE(page.open(3, 0));
  page.close(2);
  page.close(3);
  EXPECT_EQ(page.sessions_in_use(), 0u);
}

TEST_F(StatusPageTest, TheLargestStatusFitsTheResponseBuffer) {
  std::array<LicensedFeature, kMaxLicenseFeatures> many{};
  for (size_t i = 0; i < many.size(); ++i) {
    many[i].name.assign(std::string(kMaxFeatureNameLength - 2, 'f') + std::to_string(10 + i));
    many[i].qty = UINT32_MAX;
  }
  const std::string serial(kMaxLicenseIdLength, 's');
  const std::string detail(128, 'd');
  AgentStatus& s = source.status;
  s.features = many;
  s.serial = serial;
  s.expires = 253'402'300'799'999;
  s.grace_elapsed_s = s.grace_remaining_s = 30LL * 86400 * 1000;
  s.last_failure.reason = "tls_handshake_failed";
  s.last_failure.detail = detail;
  const std::string body = body_of(fetch("GET / HTTP/1.0\r\n\r\n"));
  EXPECT_NE(body.find(" " + std::string(kMaxFeatureNameLength - 2, 'f') + "41=4294967295\n"), std::string::npos)
      << "the last feature is not cut";
  EXPECT_NE(body.find("(" + detail + ")\n"), std::string::npos) << "nor the failure";
}

}  // namespace
}  // namespace sublink::test
