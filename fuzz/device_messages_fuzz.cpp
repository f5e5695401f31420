// The reader of every device message (firmware/protocol, parse_device_message),
// as the server uses it. Invariants: failures are invalid_payload (not
// UTF-8, not JSON), protocol_violation or message_too_big, as the API
// names; an accepted message keeps every field within its bound (names and
// ids up to 255 bytes, quantities 0..2^32-1, event seq >= 1, a stream of 16
// hex digits, counts and ids exact JSON integers), lists visit again
// without error what the reader checked; what the server counts of a
// license_request names each feature once with the largest quantity asked;
// the JSON the server stores for an event, and a response's result, are
// themselves valid JSON that parses again (an event as an object with the
// same seq and kind).
#include <cJSON.h>

#include <map>
#include <string>
#include <variant>

#include "firmware/json/json_document.h"
#include "firmware/json/json_reader.h"
#include "firmware/protocol/device_messages.h"
#include "fuzz/fuzz_check.h"
#include "net/websocket/utf8_validator.h"
#include "server_core/server_session.h"

using namespace sublink;
using sublink::fuzz::check;

namespace {

constexpr size_t kMaxName = 255;

bool in_json_range(int64_t v) { return v >= -kMaxJsonInteger && v <= kMaxJsonInteger; }
bool valid_name(std::string_view s) { return s.size() <= kMaxName && is_valid_utf8(s); }

/// The compact JSON of a node, as the server stores it ("null" when absent).
std::string printed(const cJSON* node) {
  if (node == nullptr) return "null";
  char* text = cJSON_PrintUnformatted(node);
  check(text != nullptr);
  std::string out(text);
  cJSON_free(text);
  return out;
}

void check_json(const std::string& text) {
  auto doc = JsonDocument::parse(text);
  check(doc.ok());
}

void check_event(const EventMessage& e) {
  check(e.seq >= 1 && in_json_range(e.seq));
  check(!e.time || in_json_range(*e.time));
  check(valid_name(e.kind));
  auto doc = JsonDocument::parse(printed(e.object));
  check(doc.ok());
  JsonReader r(doc->root());
  check(r.integer("seq", 1) == e.seq && r.string("kind", kMaxName) == e.kind && r.ok());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  JsonResult<DeviceMessage> parsed = parse_device_message(sublink::fuzz::as_text(data, size));
  if (!parsed.ok()) {
    const Reason reason = parsed.status().reason();
    check(reason == Reason::invalid_payload || reason == Reason::protocol_violation ||
          reason == Reason::message_too_big);
    return 0;
  }
  const DeviceMessage& m = parsed.value();
  check(valid_name(m.type));
  check(!m.id || in_json_range(*m.id));
  if (const auto* hello = std::get_if<HelloMessage>(&m.body)) {
    check(in_json_range(hello->proto));
    check(valid_name(hello->customer_id) && valid_name(hello->system_id));
    check(hello->boot >= 0 && hello->grace_elapsed_s >= 0);
    if (!hello->event_stream.empty()) check(is_event_stream_id(hello->event_stream));
  } else if (const auto* request = std::get_if<LicenseRequest>(&m.body)) {
    size_t visited = 0;
    for (const FeatureRequest& f : request->features) {
      check(valid_name(f.name) && f.qty >= 0 && f.qty <= kMaxWireQuantity);
      ++visited;
    }
    check(visited == request->features.size());
    // Counted: each name once, with the largest quantity asked for it.
    std::map<std::string, uint32_t> asked = requested_quantities(*request);
    check(asked.size() <= visited);
    for (const FeatureRequest& f : request->features) {
      auto it = asked.find(std::string(f.name));
      check(it != asked.end() && it->second >= f.qty);
    }
  } else if (const auto* audit = std::get_if<LicenseAudit>(&m.body)) {
    check(valid_name(audit->serial));
    for (const FeatureUsage& u : audit->usage) {
      check(valid_name(u.name) && u.in_use >= 0 && u.peak >= 0 && in_json_range(u.in_use) && in_json_range(u.peak));
    }
  } else if (const auto* batch = std::get_if<EventBatch>(&m.body)) {
    if (batch->stream) check(is_event_stream_id(*batch->stream));
    for (const EventMessage& e : batch->events) check_event(e);
  } else if (const auto* response = std::get_if<Response>(&m.body)) {
    check(in_json_range(response->re));
    if (response->ok) {
      check_json(printed(response->result));
    } else {
      check(valid_name(response->error_code));
    }
  }
  return 0;
}
