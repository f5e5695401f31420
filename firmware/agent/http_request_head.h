// The head of one HTTP/1.x request (RFC 9112 section 3), read as it
// arrives, sans-I/O, in fixed memory: the request line is kept (up to
// kMaxLine bytes), header lines are only counted and scanned for the blank
// line that ends the head, so a browser's long cookies cost no memory. It
// judges what the status page (status_page.h) serves: GET of "/" only.
//
// Driving it:
//   HttpRequestHead head;
//   bytes in:   n = head.feed(bytes)   (stops taking at the verdict)
//   peer FIN:   head.end_of_input()
//   verdict:    head.verdict() != HttpRequestHead::Verdict::incomplete
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace sublink {

class HttpRequestHead {
 public:
  /// The request line kept: "GET / HTTP/1.1" and a target of ~100 bytes.
  static constexpr size_t kMaxLine = 128;
  /// The whole head (request line and headers) read at most.
  static constexpr size_t kMaxHead = 4096;

  enum class Verdict : uint8_t {
    incomplete,          // the head has not ended yet
    get_root,            // GET / HTTP/1.x, head complete: 200
    bad_request,         // not METHOD SP /TARGET SP HTTP/1.x, or cut short: 400
    not_found,           // GET of a target other than "/": 404
    method_not_allowed,  // a method other than GET: 405
    uri_too_long,        // a request line over kMaxLine: 414
    head_too_large,      // a head over kMaxHead: 431
  };

  /// Reads `bytes`; returns how many it took: all of them until the
  /// verdict, none after it (what follows the head is not its business).
  size_t feed(std::span<const uint8_t> bytes);
  /// The client finished sending: a head not complete is bad_request.
  void end_of_input();
  Verdict verdict() const { return verdict_; }

 private:
  void end_of_request_line();

  Verdict verdict_ = Verdict::incomplete;
  // After the request line: GET / HTTP/1.x, waiting for the blank line.
  bool line_done_ = false;
  uint16_t total_ = 0;        // head bytes read (<= kMaxHead)
  uint16_t line_length_ = 0;  // the request line's bytes kept, or the current header line's (CR excluded)
  std::array<char, kMaxLine> line_{};
};

/// The status code and reason phrase for a verdict ("200 OK",
/// "404 Not Found"); "" for incomplete.
std::string_view http_status_line(HttpRequestHead::Verdict verdict);

}  // namespace sublink
