// The status page (firmware/agent/status_page): an operator's request bytes
// through a tunnel, in input-chosen chunks, sometimes ended by the
// operator's FIN, with a reply whose room the input also chooses.
// Invariants: the answer is queued whole or not at all, once, then FIN; it
// is "HTTP/1.0 " and a known status, a head ending in a blank line, and a
// body of exactly Content-Length bytes within kMaxResponse; the request
// head is read to at most kMaxHead + 1 bytes; after the answer every byte
// is taken (credit keeps flowing); the sessions are all free again.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "firmware/agent/status_page.h"

using namespace sublink;
using sublink::fuzz::check;

namespace {

class FixedStatus final : public StatusSource {
 public:
  AgentStatus snapshot() const override {
    AgentStatus s;
    s.state = LicenseState::licensed;
    s.link_up = true;
    s.port = 443;
    return s;
  }
};

class Reply final : public TunnelReply {
 public:
  size_t room() const override { return space; }
  size_t write(std::span<const uint8_t> bytes) override {
    check(!finished && bytes.size() <= space);
    out.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    space -= bytes.size();
    return bytes.size();
  }
  void finish() override {
    check(!finished);
    finished = true;
  }
  size_t space = 0;
  std::string out;
  bool finished = false;
};

void check_answer(const std::string& out) {
  check(out.size() <= StatusPage::kMaxResponse);
  check(out.rfind("HTTP/1.0 ", 0) == 0);
  const size_t end = out.find("\r\n\r\n");
  check(end != std::string::npos);
  const size_t at = out.find("\r\nContent-Length: ");
  check(at != std::string::npos && at < end);
  size_t length = 0;
  for (size_t i = at + 18; i < end && out[i] >= '0' && out[i] <= '9'; ++i) length = length * 10 + (out[i] - '0');
  check(length == out.size() - end - 4);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const FixedStatus status;
  StatusPage page(status, "SYS-0001");
  Reply reply;
  check(page.open(7, 0));
  // Byte 0: chunk size; byte 1: the reply's room (in 16-byte units) until
  // the first answer attempt fails; byte 2 odd: the operator sends FIN
  // after the input.
  const size_t chunk = size > 0 ? (data[0] % 64) + 1 : 1;
  reply.space = size > 1 ? size_t{data[1]} * 16 : 4096;
  const bool fin = size > 2 && (data[2] & 1) != 0;
  std::span<const uint8_t> rest = size > 3 ? std::span<const uint8_t>(data + 3, size - 3) : std::span<const uint8_t>();
  std::span<const uint8_t> held;  // offered, not taken yet
  size_t taken_total = 0;
  while (!rest.empty() || !held.empty()) {
    if (held.empty()) {
      const size_t n = rest.size() < chunk ? rest.size() : chunk;
      held = rest.first(n);
      rest = rest.subspan(n);
    }
    const bool was_finished = reply.finished;
    const size_t taken = page.on_input(7, held, false, reply);
    check(taken <= held.size());
    if (was_finished) check(taken == held.size());
    if (reply.finished && !was_finished) check_answer(reply.out);
    if (!reply.finished) check(reply.out.empty());
    taken_total += taken;
    held = held.subspan(taken);
    if (taken == 0) {
      if (reply.space >= StatusPage::kMaxResponse) break;
      reply.space = StatusPage::kMaxResponse;  // room grows: the answer goes now
    }
  }
  if (!reply.finished) check(taken_total <= HttpRequestHead::kMaxHead);
  if (fin && held.empty() && rest.empty()) {
    reply.space = StatusPage::kMaxResponse;
    (void)page.on_input(7, {}, true, reply);
    check(reply.finished);  // a request cut short is answered 400
    check_answer(reply.out);
  }
  page.close(7);
  check(page.sessions_in_use() == 0);
  return 0;
}
