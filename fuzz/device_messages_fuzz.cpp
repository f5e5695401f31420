// The server's parser of every device message (server_core/
// device_message_parser). Invariants: failures are invalid_payload (not
// UTF-8, not JSON), protocol_violation or message_too_big, as the API
// names; an accepted message keeps every field within its bound (names and
// ids up to 255 bytes, quantities 0..2^32-1, event seq >= 1, a stream of 16
// hex digits or "legacy", counts and ids exact JSON integers); the JSON the
// server stores for an event, and a response's result, are themselves valid
// JSON that parses again (an event as an object with the same seq and kind).
#include <cJSON.h>

#include <variant>

#include "firmware/json/json_document.h"
#include "firmware/json/json_reader.h"
#include "fuzz/fuzz_check.h"
#include "net/websocket/utf8_validator.h"
#include "server_core/device_message_parser.h"

using namespace sublink;
using sublink::fuzz::check;

namespace {

constexpr size_t kMaxName = 255;

bool in_json_range(int64_t v) { return v >= -kMaxJsonInteger && v <= kMaxJsonInteger; }
bool valid_name(const std::string& s) { return s.size() <= kMaxName && is_valid_utf8(s); }

void check_json(const std::string& text) {
  auto doc = JsonDocument::parse(text);
  check(doc.ok());
}

void check_event(const DeviceEvent& e) {
  check(e.seq >= 1 && in_json_range(e.seq));
  check(!e.time || in_json_range(*e.time));
  check(valid_name(e.kind));
  check(e.stream == kLegacyEventStream || is_event_stream_id(e.stream));
  auto doc = JsonDocument::parse(e.json);
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
  if (const auto* hello = std::get_if<HelloRequest>(&m.body)) {
    check(in_json_range(hello->proto));
    check(valid_name(hello->customer_id) && valid_name(hello->system_id));
    check(hello->info.boot >= 0 && hello->info.grace_elapsed_s >= 0);
    if (hello->info.event_stream) check(is_event_stream_id(*hello->info.event_stream));
  } else if (const auto* request = std::get_if<LicenseRequestMessage>(&m.body)) {
    for (size_t i = 0; i < request->features.size(); ++i) {
      check(valid_name(request->features[i].name));
      for (size_t j = 0; j < i; ++j) check(request->features[j].name != request->features[i].name);
    }
  } else if (const auto* audit = std::get_if<LicenseAuditMessage>(&m.body)) {
    check(valid_name(audit->serial));
    for (const FeatureUsageReport& u : audit->usage) {
      check(valid_name(u.name) && u.in_use >= 0 && u.peak >= 0 && in_json_range(u.in_use) && in_json_range(u.peak));
    }
  } else if (const auto* batch = std::get_if<EventBatchMessage>(&m.body)) {
    if (batch->stream) check(is_event_stream_id(*batch->stream));
    for (const DeviceEvent& e : batch->events) check_event(e);
  } else if (const auto* response = std::get_if<ResponseMessage>(&m.body)) {
    check(in_json_range(response->response.id));
    if (response->response.ok) {
      check_json(response->response.result_json);
    } else {
      check(valid_name(response->response.error_code));
    }
  }
  return 0;
}
