#include "firmware/events/event.h"

#include <algorithm>

#include "firmware/events/record_codec.h"

namespace sublink {

namespace {
constexpr std::string_view kKindNames[] = {
    "grace_started", "grace_alarm",     "grace_cleared",  "grace_expired",  "license_applied",
    "license_revoked", "license_refused", "clock_rollback", "clock_skew",     "clock_jump",
    "link_up",       "link_down",       "events_summarised", "license_denied", "audit_overuse",  "record_damaged",
    "storage_failed", "tunnel_opened", "tunnel_closed",
};
static_assert(sizeof(kKindNames) / sizeof(kKindNames[0]) == kEventKindCount,
              "every EventKind needs a name");

constexpr std::string_view kSeverityNames[] = {"info", "warning", "minor", "major", "critical"};
static_assert(sizeof(kSeverityNames) / sizeof(kSeverityNames[0]) == kSeverityCount,
              "every Severity needs a name");
}  // namespace

StreamText stream_text(StreamId id) { return format_hex64(id); }

bool parse_stream_text(std::string_view text, StreamId& out) {
  std::optional<uint64_t> id = parse_hex64(text);
  if (!id || *id == kLegacyStream) return false;
  out = *id;
  return true;
}

const char* record_damage_name(int64_t detail) {
  switch (detail) {
    case kDamageNoIntactCopy: return "no_intact_copy";
    case kDamageNewestCopy: return "newest_copy_damaged";
    case kDamageReadFailed: return "read_failed";
    default: break;
  }
  if (detail > 0 && detail < kDamageNoIntactCopy) return record_fault_name(static_cast<int32_t>(detail));
  return "unknown";
}

std::string_view kind_name(EventKind kind) {
  auto i = static_cast<uint8_t>(kind);
  return i < kEventKindCount ? kKindNames[i] : "unknown";
}

std::string_view severity_name(Severity severity) {
  auto i = static_cast<uint8_t>(severity);
  return i < kSeverityCount ? kSeverityNames[i] : "unknown";
}

void EventPayload::set_text(std::string_view s) {
  size_t n = std::min(s.size(), kTextCapacity - 1);
  // Never split a UTF-8 sequence: back off over continuation bytes.
  if (n < s.size()) {
    while (n > 0 && (static_cast<uint8_t>(s[n]) & 0xC0) == 0x80) --n;
  }
  text.fill('\0');
  std::copy_n(s.begin(), n, text.begin());
}

std::string_view EventPayload::text_view() const {
  size_t n = 0;
  while (n < text.size() && text[n] != '\0') ++n;
  return {text.data(), n};
}

}  // namespace sublink
