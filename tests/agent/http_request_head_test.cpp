// The status page's request reader (firmware/agent/http_request_head.h):
// the verdict for each kind of request, fed whole or byte by byte, and its
// bounds.
#include <gtest/gtest.h>

#include <string>

#include "firmware/agent/http_request_head.h"

namespace sublink::test {
namespace {

using Verdict = HttpRequestHead::Verdict;

std::span<const uint8_t> bytes(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

Verdict whole(std::string_view request) {
  HttpRequestHead head;
  head.feed(bytes(request));
  return head.verdict();
}

TEST(HttpRequestHead, GetOfTheRootIsServedOnceTheHeadEnds) {
  const std::string request = "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n";
  HttpRequestHead head;
  for (size_t i = 0; i + 1 < request.size(); ++i) {
    EXPECT_EQ(head.feed(bytes(request.substr(i, 1))), 1u);
    ASSERT_EQ(head.verdict(), Verdict::incomplete) << "before the blank line, at byte " << i;
  }
  EXPECT_EQ(head.feed(bytes("\n")), 1u);
  EXPECT_EQ(head.verdict(), Verdict::get_root);
  EXPECT_EQ(head.feed(bytes("more")), 0u) << "what follows the head is not taken";
  EXPECT_EQ(whole("GET / HTTP/1.0\n\n"), Verdict::get_root) << "bare LF line ends";
  EXPECT_EQ(whole("GET / HTTP/1.0\r\n\r\n"), Verdict::get_root);
}

TEST(HttpRequestHead, TheFeedStopsAtTheVerdict) {
  HttpRequestHead head;
  const std::string_view two = "GET / HTTP/1.0\r\n\r\nGET / HTTP/1.0\r\n\r\n";
  EXPECT_EQ(head.feed(bytes(two)), two.size() / 2);
  EXPECT_EQ(head.verdict(), Verdict::get_root);
}

TEST(HttpRequestHead, EachOtherRequestGetsItsError) {
  EXPECT_EQ(whole("POST / HTTP/1.0\r\n"), Verdict::method_not_allowed) << "known at the request line";
  EXPECT_EQ(whole("HEAD / HTTP/1.0\r\n\r\n"), Verdict::method_not_allowed);
  EXPECT_EQ(whole("GET /admin HTTP/1.0\r\n"), Verdict::not_found);
  EXPECT_EQ(whole("GET /?x=1 HTTP/1.0\r\n"), Verdict::not_found);
  EXPECT_EQ(whole("GET / HTTP/2.0\r\n"), Verdict::bad_request);
  EXPECT_EQ(whole("GET /\r\n"), Verdict::bad_request) << "HTTP/0.9";
  EXPECT_EQ(whole("get / HTTP/1.0\r\n"), Verdict::bad_request) << "methods are upper case";
  EXPECT_EQ(whole("GET http://x/ HTTP/1.0\r\n"), Verdict::bad_request);
  EXPECT_EQ(whole(" GET / HTTP/1.0\r\n"), Verdict::bad_request);
  EXPECT_EQ(whole("GET  / HTTP/1.0\r\n"), Verdict::bad_request);
  EXPECT_EQ(whole("\r\n"), Verdict::bad_request);
  EXPECT_EQ(whole(std::string("GET /\x01 HTTP/1.0\r\n")), Verdict::bad_request);
  EXPECT_EQ(whole(std::string("GET / HTTP/1.0\0\r\n", 17)), Verdict::bad_request);
}

TEST(HttpRequestHead, ARequestCutShortIsBad) {
  HttpRequestHead head;
  head.feed(bytes("GET / HTTP/1.0\r\nHost: x\r\n"));
  EXPECT_EQ(head.verdict(), Verdict::incomplete);
  head.end_of_input();
  EXPECT_EQ(head.verdict(), Verdict::bad_request);
  HttpRequestHead empty;
  empty.end_of_input();
  EXPECT_EQ(empty.verdict(), Verdict::bad_request);
}

TEST(HttpRequestHead, ALongRequestLineIs414AndALongHeadIs431) {
  const std::string at_limit = "GET /" + std::string(HttpRequestHead::kMaxLine - 14, 'a') + " HTTP/1.0";
  ASSERT_EQ(at_limit.size(), HttpRequestHead::kMaxLine);
  EXPECT_EQ(whole(at_limit + "\r\n"), Verdict::not_found) << "a line of kMaxLine bytes is read";
  EXPECT_EQ(whole("GET /a" + at_limit.substr(5) + "\r\n"), Verdict::uri_too_long);

  std::string head = "GET / HTTP/1.0\r\nCookie: ";
  head += std::string(HttpRequestHead::kMaxHead - head.size() - 4, 'c') + "\r\n\r\n";
  ASSERT_EQ(head.size(), HttpRequestHead::kMaxHead);
  EXPECT_EQ(whole(head), Verdict::get_root) << "a head of kMaxHead bytes is read";
  head.insert(20, "c");
  HttpRequestHead big;
  EXPECT_EQ(big.feed(bytes(head)), HttpRequestHead::kMaxHead + 1) << "it stops at the first byte over";
  EXPECT_EQ(big.verdict(), Verdict::head_too_large);
}

TEST(HttpRequestHead, StatusLinesNameEachVerdict) {
  EXPECT_EQ(http_status_line(Verdict::get_root), "200 OK");
  EXPECT_EQ(http_status_line(Verdict::bad_request), "400 Bad Request");
  EXPECT_EQ(http_status_line(Verdict::not_found), "404 Not Found");
  EXPECT_EQ(http_status_line(Verdict::method_not_allowed), "405 Method Not Allowed");
  EXPECT_EQ(http_status_line(Verdict::uri_too_long), "414 URI Too Long");
  EXPECT_EQ(http_status_line(Verdict::head_too_large), "431 Request Header Fields Too Large");
  EXPECT_EQ(http_status_line(Verdict::incomplete), "");
}

}  // namespace
}  // namespace sublink::test
