#include "firmware/agent/http_request_head.h"

namespace sublink {

namespace {

bool is_token_char(char c) { return c >= 'A' && c <= 'Z'; }
// Visible ASCII: what a request target may hold (RFC 9112 3.2, loosely).
bool is_target_char(char c) { return c > ' ' && c < 0x7f; }

}  // namespace

size_t HttpRequestHead::feed(std::span<const uint8_t> bytes) {
  size_t taken = 0;
  for (uint8_t b : bytes) {
    if (verdict_ != Verdict::incomplete) break;
    ++taken;
    if (++total_ > kMaxHead) {
      verdict_ = Verdict::head_too_large;
      break;
    }
    const char c = static_cast<char>(b);
    if (c == '\r') continue;  // CRLF or a bare LF end a line alike
    if (!line_done_) {
      if (c == '\n') {
        end_of_request_line();
      } else if (line_length_ == kMaxLine) {
        verdict_ = Verdict::uri_too_long;
      } else {
        line_[line_length_++] = c;
      }
      continue;
    }
    if (c != '\n') {
      ++line_length_;
    } else if (line_length_ == 0) {
      verdict_ = Verdict::get_root;  // the blank line ends the head of a GET /
    } else {
      line_length_ = 0;
    }
  }
  return taken;
}

void HttpRequestHead::end_of_input() {
  if (verdict_ == Verdict::incomplete) verdict_ = Verdict::bad_request;
}

// METHOD SP TARGET SP HTTP/1.x: the method decides first (405 whatever the
// target), then the target (404 for anything but "/"). GET / waits for the
// blank line; every other verdict is known now.
void HttpRequestHead::end_of_request_line() {
  const std::string_view line(line_.data(), line_length_);
  line_done_ = true;
  line_length_ = 0;
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || sp1 == 0) {
    verdict_ = Verdict::bad_request;
    return;
  }
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  bool ok = (version == "HTTP/1.0" || version == "HTTP/1.1") && !target.empty() && target[0] == '/';
  for (char c : method) ok = ok && is_token_char(c);
  for (char c : target) ok = ok && is_target_char(c);
  if (!ok) {
    verdict_ = Verdict::bad_request;
  } else if (method != "GET") {
    verdict_ = Verdict::method_not_allowed;
  } else if (target != "/") {
    verdict_ = Verdict::not_found;
  }
}

std::string_view http_status_line(HttpRequestHead::Verdict verdict) {
  using V = HttpRequestHead::Verdict;
  switch (verdict) {
    case V::incomplete: break;
    case V::get_root: return "200 OK";
    case V::bad_request: return "400 Bad Request";
    case V::not_found: return "404 Not Found";
    case V::method_not_allowed: return "405 Method Not Allowed";
    case V::uri_too_long: return "414 URI Too Long";
    case V::head_too_large: return "431 Request Header Fields Too Large";
  }
  return "";
}

}  // namespace sublink
