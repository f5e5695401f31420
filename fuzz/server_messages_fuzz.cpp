// The device's parser of every server message (firmware/protocol), on the
// device's fixed JSON arena (12 KiB, as the mps2-an385 board). Invariants:
// every failure maps to the close code the API names (1007, 1002, 1009);
// every parsed field is within its stated range; the arena is empty again
// once the message is gone (no block outlives its document).
#include <cJSON.h>

#include <variant>

#include "firmware/json/json_arena.h"
#include "firmware/json/json_reader.h"
#include "firmware/protocol/server_messages.h"
#include "fuzz/fuzz_check.h"

using namespace sublink;
using sublink::fuzz::check;

namespace {

constexpr int64_t kMaxDurationS = INT32_MAX;

void check_ranges(const ServerMessage& m) {
  if (const auto* w = std::get_if<Welcome>(&m.body)) {
    check(w->heartbeat_s >= 1 && w->heartbeat_s <= kMaxDurationS);
    check(w->audit_s >= 1 && w->audit_s <= kMaxDurationS);
  } else if (const auto* e = std::get_if<EventAck>(&m.body)) {
    check(e->upto >= 0 && e->upto <= kMaxJsonInteger);
  } else if (const auto* d = std::get_if<Disconnect>(&m.body)) {
    check(!d->retry_after_s || (*d->retry_after_s >= 0 && *d->retry_after_s <= kMaxDurationS));
  } else if (const auto* s = std::get_if<ServerError>(&m.body)) {
    check(!s->retry_after_s || (*s->retry_after_s >= 0 && *s->retry_after_s <= kMaxDurationS));
  } else if (std::holds_alternative<Request>(m.body)) {
    check(m.id.has_value());  // a request is answered by its id
  }
  if (m.id) check(*m.id >= -kMaxJsonInteger && *m.id <= kMaxJsonInteger);
  if (m.re) check(*m.re >= -kMaxJsonInteger && *m.re <= kMaxJsonInteger);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  alignas(8) static uint8_t memory[12 * 1024];
  static JsonArena arena(memory);
  arena.install();
  {
    JsonResult<ServerMessage> parsed = parse_server_message(sublink::fuzz::as_text(data, size));
    if (parsed.ok()) {
      check_ranges(parsed.value());
    } else {
      const uint16_t code = close_code_for(parsed.status());
      check(code == 1007 || code == 1002 || code == 1009);
    }
  }
  check(arena.live_blocks() == 0);
  return 0;
}
