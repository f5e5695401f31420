#include "net/proxy/http_connect.h"
#include "proxy/print_status.h"

#include <gtest/gtest.h>

#include <string>

namespace sublink {
namespace {

std::span<const uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string text(std::span<const uint8_t> b) { return std::string(b.begin(), b.end()); }

ProxyUrl url(std::string_view s) {
  Result<ProxyUrl> r = parse_proxy_url(s);
  EXPECT_TRUE(r.ok()) << s;
  return *r;
}

HttpConnect plain_connect() { return HttpConnect(url("http://proxy:3128"), "sub.example.com", 443); }

TEST(HttpConnectRequest, ConnectLineAndHostWithoutCredentials) {
  HttpConnect c = plain_connect();
  ASSERT_TRUE(c.prepared().ok());
  EXPECT_EQ(text(c.request()), "CONNECT sub.example.com:443 HTTP/1.1\r\nHost: sub.example.com:443\r\n\r\n");
}

TEST(HttpConnectRequest, BasicCredentials) {
  // RFC 7617 example: "Aladdin:open sesame".
  HttpConnect c(url("http://Aladdin:open%20sesame@proxy:3128"), "sub.example.com", 8443);
  ASSERT_TRUE(c.prepared().ok());
  EXPECT_EQ(text(c.request()),
            "CONNECT sub.example.com:8443 HTTP/1.1\r\nHost: sub.example.com:8443\r\n"
            "Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n");
}

TEST(HttpConnectRequest, LongestCredentialsFit) {
  std::string u(128, 'u'), p(128, 'p');
  HttpConnect c(url("http://" + u + ":" + p + "@proxy:3128"), std::string(255, 'h'), 65535);
  ASSERT_TRUE(c.prepared().ok());
  EXPECT_NE(text(c.request()).find("Proxy-Authorization: Basic dXV1"), std::string::npos);
}

TEST(HttpConnectRequest, Ipv6TargetInBrackets) {
  HttpConnect c(url("http://proxy:3128"), "2001:db8::7", 443);
  EXPECT_EQ(text(c.request()), "CONNECT [2001:db8::7]:443 HTTP/1.1\r\nHost: [2001:db8::7]:443\r\n\r\n");
  HttpConnect bracketed(url("http://proxy:3128"), "[::1]", 8443);
  EXPECT_EQ(text(bracketed.request()), "CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\n\r\n");
}

TEST(HttpConnectRequest, TargetThatCannotGoIntoARequestLineIsRefused) {
  for (std::string_view bad : {"", "sub.example.com\r\nX-Evil: 1", "sub example.com", "[]", "[zz::1]"}) {
    HttpConnect c(url("http://proxy:3128"), bad, 443);
    EXPECT_EQ(c.prepared().reason(), Reason::invalid_argument) << bad;
    EXPECT_TRUE(c.request().empty());
    EXPECT_EQ(c.feed(bytes("HTTP/1.1 200 OK\r\n\r\n")).reason(), Reason::invalid_argument);
  }
  HttpConnect zero_port(url("http://proxy:3128"), "sub.example.com", 0);
  EXPECT_FALSE(zero_port.prepared().ok());
  HttpConnect too_long(url("http://proxy:3128"), std::string(256, 'h'), 443);
  EXPECT_FALSE(too_long.prepared().ok());
}

TEST(HttpConnectAnswer, TwoHundredOpensTheTunnel) {
  HttpConnect c = plain_connect();
  EXPECT_TRUE(c.feed(bytes("HTTP/1.1 200 Connection established\r\n\r\n")).ok());
  EXPECT_TRUE(c.tunnel_open());
  EXPECT_EQ(c.status(), 200);
  EXPECT_TRUE(c.leftover().empty());
  EXPECT_EQ(c.feed(bytes("x")).reason(), Reason::invalid_argument) << "tunnel bytes are not the proxy's";
}

TEST(HttpConnectAnswer, ByteByByteArrival) {
  const std::string answer =
      "HTTP/1.1 200 Connection established\r\nProxy-Agent: test\r\nVia: 1.1 proxy\r\n\r\n\x16\x03\x03";
  HttpConnect c = plain_connect();
  Status s;
  size_t i = 0;
  for (; i < answer.size(); ++i) {
    s = c.feed(bytes(std::string_view(answer).substr(i, 1)));
    if (!s.ok()) {
      ASSERT_EQ(s.reason(), Reason::would_block) << "at byte " << i;
      EXPECT_FALSE(c.tunnel_open());
    } else {
      break;
    }
  }
  EXPECT_EQ(i, answer.size() - 4) << "opens exactly at the blank line";
  EXPECT_TRUE(c.tunnel_open());
  EXPECT_TRUE(c.leftover().empty());
}

TEST(HttpConnectAnswer, ExtraHeadersAreAccepted) {
  HttpConnect c = plain_connect();
  EXPECT_TRUE(c.feed(bytes("HTTP/1.1 200 OK\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\nProxy-Agent: squid/6\r\n"
                           "X-Empty:\r\nContent-Length: 0\r\n\r\n"))
                  .ok());
}

TEST(HttpConnectAnswer, LeftoverBytesBelongToTheTunnel) {
  HttpConnect c = plain_connect();
  const std::string answer = std::string("HTTP/1.1 200 OK\r\n\r\n") + std::string("\x16\x03\x03\x00\x2a", 5);
  // Split in the middle of the terminating blank line.
  EXPECT_EQ(c.feed(bytes(std::string_view(answer).substr(0, 18))).reason(), Reason::would_block);
  EXPECT_TRUE(c.feed(bytes(std::string_view(answer).substr(18))).ok());
  EXPECT_EQ(text(c.leftover()), std::string("\x16\x03\x03\x00\x2a", 5));
}

TEST(HttpConnectAnswer, EverySplitPointGivesTheSameResult) {
  const std::string answer = "HTTP/1.1 200 Connection established\r\nVia: 1.1 p\r\n\r\ntunnel";
  for (size_t split = 0; split <= answer.size(); ++split) {
    HttpConnect c = plain_connect();
    Status first = c.feed(bytes(std::string_view(answer).substr(0, split)));
    Status second = first.ok() ? first : c.feed(bytes(std::string_view(answer).substr(split)));
    ASSERT_TRUE(second.ok()) << "split at " << split;
    // Bytes after the blank line are tunnel bytes whichever call brought them.
    std::string tunnel = text(c.leftover());
    if (first.ok()) tunnel += answer.substr(split);
    EXPECT_EQ(tunnel, "tunnel") << "split at " << split;
  }
}

TEST(HttpConnectAnswer, AnyTwoHundredStatusOpensTheTunnel) {
  for (const char* line : {"HTTP/1.1 204 No Content\r\n\r\n", "HTTP/1.1 299 Whatever\r\n\r\n", "HTTP/1.1 200\r\n\r\n"}) {
    HttpConnect c = plain_connect();
    EXPECT_TRUE(c.feed(bytes(line)).ok()) << line;
  }
}

TEST(HttpConnectAnswer, Http10AndBareLineFeedsAreAccepted) {
  HttpConnect c = plain_connect();
  EXPECT_TRUE(c.feed(bytes("HTTP/1.0 200 Connection established\nProxy-agent: tinyproxy/1.11.1\n\nab")).ok());
  EXPECT_EQ(c.status(), 200);
  EXPECT_EQ(text(c.leftover()), "ab");
}

TEST(HttpConnectAnswer, ProxyAuthenticationRequired) {
  HttpConnect c = plain_connect();
  Status s = c.feed(bytes("HTTP/1.1 407 Proxy Authentication Required\r\n"));
  EXPECT_EQ(s, Status(Reason::proxy_auth_required, 407)) << "decided on the status line";
  EXPECT_EQ(c.status(), 407);
  EXPECT_FALSE(c.tunnel_open());
  EXPECT_TRUE(c.leftover().empty());
  EXPECT_EQ(c.feed(bytes("Proxy-Authenticate: Basic realm=\"x\"\r\n\r\n")), s) << "the verdict stays";
}

TEST(HttpConnectAnswer, UnauthorizedFromTheProxyIsAboutItsCredentialsToo) {
  HttpConnect c = plain_connect();
  EXPECT_EQ(c.feed(bytes("HTTP/1.0 401 Unauthorized\r\n\r\n")), Status(Reason::proxy_auth_required, 401));
}

TEST(HttpConnectAnswer, OtherStatusesFailWithTheStatusAsDetail) {
  for (int code : {403, 502, 503, 301, 100, 101, 404, 599}) {
    HttpConnect c = plain_connect();
    const std::string line = "HTTP/1.1 " + std::to_string(code) + " Something\r\nContent-Length: 5\r\n\r\nerror";
    EXPECT_EQ(c.feed(bytes(line)), Status(Reason::proxy_status, code)) << code;
    EXPECT_EQ(c.status(), code);
  }
}

TEST(HttpConnectAnswer, GarbageIsNotHttp) {
  for (std::string_view garbage :
       {std::string_view("\x16\x03\x03\x00\x02", 5), std::string_view("SSH-2.0-OpenSSH_9.2\r\n"),
        std::string_view("<html>hello</html>\r\n"), std::string_view("http/1.1 200 OK\r\n\r\n"),
        std::string_view("HTTP/2 200\r\n\r\n"), std::string_view("HTTP/1.1 20 OK\r\n\r\n"),
        std::string_view("HTTP/1.1 2000 OK\r\n\r\n"), std::string_view("HTTP/1.1 abc OK\r\n\r\n"),
        std::string_view("HTTP/1.1  200 OK\r\n\r\n"), std::string_view("HTTP/1.1 000 Zero\r\n\r\n"),
        std::string_view("HTTP/1.1 700 Big\r\n\r\n"), std::string_view("HTTP/1.1 200 O\x01K\r\n\r\n"),
        std::string_view("\r\n\r\n")}) {
    HttpConnect c = plain_connect();
    EXPECT_EQ(c.feed(bytes(garbage)).reason(), Reason::proxy_bad_response) << garbage;
    EXPECT_FALSE(c.tunnel_open());
  }
}

TEST(HttpConnectAnswer, NonHttpIsRecognisedFromTheFirstByte) {
  HttpConnect c = plain_connect();
  EXPECT_EQ(c.feed(bytes("\x16")).reason(), Reason::proxy_bad_response);
}

TEST(HttpConnectAnswer, MalformedHeaderLinesAreNotHttp) {
  for (std::string_view answer : {"HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n", "HTTP/1.1 200 OK\r\n: empty name\r\n\r\n",
                                  "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", "HTTP/1.1 200 OK\r\nA: b\x7f\r\n\r\n"}) {
    HttpConnect c = plain_connect();
    EXPECT_EQ(c.feed(bytes(answer)).reason(), Reason::proxy_bad_response) << answer;
  }
}

TEST(HttpConnectAnswer, FoldedHeaderContinuesThePreviousField) {
  HttpConnect c = plain_connect();
  EXPECT_TRUE(c.feed(bytes("HTTP/1.1 200 OK\r\nVia: 1.1 a,\r\n  1.1 b\r\n\t1.1 c\r\n\r\nX")).ok());
  EXPECT_EQ(text(c.leftover()), "X");
}

TEST(HttpConnectAnswer, FoldedLineWithoutAFieldIsNotHttp) {
  HttpConnect c = plain_connect();
  EXPECT_EQ(c.feed(bytes("HTTP/1.1 200 OK\r\n folded\r\n\r\n")).reason(), Reason::proxy_bad_response);
}

TEST(HttpConnectAnswer, OversizedHeaderBlockIsRefusedWithoutOverflow) {
  HttpConnect c = plain_connect();
  ASSERT_EQ(c.feed(bytes("HTTP/1.1 200 OK\r\n")).reason(), Reason::would_block);
  const std::string header = "X-Filler: " + std::string(90, 'f') + "\r\n";
  Status s(Reason::would_block);
  size_t fed = 17;
  while (s.reason() == Reason::would_block && fed < 100000) {
    s = c.feed(bytes(header));
    fed += header.size();
  }
  EXPECT_EQ(s.reason(), Reason::proxy_bad_response);
  EXPECT_LE(fed, HttpConnect::kMaxResponse + header.size());
}

TEST(HttpConnectAnswer, EndlessStatusLineIsRefused) {
  HttpConnect c = plain_connect();
  std::string line = "HTTP/1.1 200 " + std::string(HttpConnect::kMaxResponse, 'x');
  EXPECT_EQ(c.feed(bytes(line)).reason(), Reason::proxy_bad_response);
}

TEST(HttpConnectAnswer, LeftoverThatDoesNotFitIsRefused) {
  HttpConnect c = plain_connect();
  std::string answer = "HTTP/1.1 200 OK\r\n\r\n" + std::string(HttpConnect::kMaxResponse, 'd');
  EXPECT_EQ(c.feed(bytes(answer)).reason(), Reason::proxy_bad_response);
  HttpConnect fits = plain_connect();
  std::string exact = "HTTP/1.1 200 OK\r\n\r\n" + std::string(HttpConnect::kMaxResponse - 19, 'd');
  EXPECT_TRUE(fits.feed(bytes(exact)).ok());
  EXPECT_EQ(fits.leftover().size(), HttpConnect::kMaxResponse - 19);
}

TEST(HttpConnectAnswer, EmptyFeedWaits) {
  HttpConnect c = plain_connect();
  EXPECT_EQ(c.feed({}).reason(), Reason::would_block);
  EXPECT_EQ(c.status(), 0);
}

// The status line, digit by digit and byte by byte: each malformed part is
// "not HTTP" (the proxy port is probably something else), never a status.
TEST(HttpConnectAnswer, EachMalformedPartOfTheStatusLineIsNotHttp) {
  for (std::string_view garbage :
       {"HTTP/1.x 200 OK\r\n\r\n", "HTTP/1.1-200 OK\r\n\r\n", "HTTP/1.1 x00 OK\r\n\r\n",
        "HTTP/1.1 2x0 OK\r\n\r\n", "HTTP/1.1 20x OK\r\n\r\n", "HTTP/1.1 200\x7fOK\r\n\r\n",
        "HTTP/1.1 200 O\x7fK\r\n\r\n", "HTTP/1.1 099 Low\r\n\r\n", "HTTP/1.1 600 High\r\n\r\n"}) {
    HttpConnect c = plain_connect();
    EXPECT_EQ(c.feed(bytes(garbage)).reason(), Reason::proxy_bad_response) << garbage;
  }
  // A tab in the reason phrase and a bare status are fine.
  for (std::string_view fine : {"HTTP/1.1 200 Connection\testablished\r\n\r\n", "HTTP/1.0 200\r\n\r\n"}) {
    HttpConnect c = plain_connect();
    EXPECT_TRUE(c.feed(bytes(fine)).ok()) << fine;
  }
}

// Header lines: a control character anywhere but a tab is not HTTP; header
// names of every token character are accepted, values with tabs too.
TEST(HttpConnectAnswer, HeaderLinesOfEveryTokenCharacterAndNoControlCharacters) {
  HttpConnect c = plain_connect();
  EXPECT_TRUE(c.feed(bytes("HTTP/1.1 200 OK\r\nX-Odd_Name.1!#$%&'*+^`|~: a\tb\r\nVIA: 1.1 Proxy\r\n\r\n")).ok());
  for (std::string_view bad : {"HTTP/1.1 200 OK\r\nA: b\x01c\r\n\r\n", "HTTP/1.1 200 OK\r\nA\x7f: b\r\n\r\n",
                               "HTTP/1.1 200 OK\r\nA(b): c\r\n\r\n"}) {
    HttpConnect other = plain_connect();
    EXPECT_EQ(other.feed(bytes(bad)).reason(), Reason::proxy_bad_response) << bad;
  }
}

// The target host goes into the request line as it is: every host-name
// character and both hex cases of an IPv6 literal pass, anything else not.
TEST(HttpConnectRequest, TargetsOfEveryAllowedCharacter) {
  HttpConnect name(url("http://proxy:3128"), "Sub-1.corp_net.EXAMPLE", 443);
  EXPECT_EQ(text(name.request()), "CONNECT Sub-1.corp_net.EXAMPLE:443 HTTP/1.1\r\nHost: Sub-1.corp_net.EXAMPLE:443\r\n\r\n");
  HttpConnect v6(url("http://proxy:3128"), "2001:DB8:a:F::192.0.2.1", 443);
  EXPECT_EQ(text(v6.request()), "CONNECT [2001:DB8:a:F::192.0.2.1]:443 HTTP/1.1\r\nHost: [2001:DB8:a:F::192.0.2.1]:443\r\n\r\n");
  for (std::string_view bad : {"sub!.example", "2001:db8::g", "[", "sub/x"}) {
    HttpConnect c(url("http://proxy:3128"), bad, 443);
    EXPECT_EQ(c.prepared().reason(), Reason::invalid_argument) << bad;
  }
}

}  // namespace
}  // namespace sublink
