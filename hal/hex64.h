// 64-bit random identifiers as they travel in sublink/1 (PROTOCOL.md
// section 4: hello's `instance`, the event `stream`): exactly 16 lower-case
// hex digits, most significant first. Nothing else is one: no prefix, no
// upper case, no shorter or longer form, so a value is compared as text.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace sublink {

/// Characters of a 64-bit identifier on the wire.
inline constexpr size_t kHex64Length = 16;

/// `value` as 16 lower-case hex digits (not NUL-terminated).
using Hex64Text = std::array<char, kHex64Length>;
Hex64Text format_hex64(uint64_t value);

/// The value of `text` when it is exactly 16 lower-case hex digits, else
/// nullopt.
std::optional<uint64_t> parse_hex64(std::string_view text);

/// True when `text` is exactly 16 lower-case hex digits.
inline bool is_hex64(std::string_view text) { return parse_hex64(text).has_value(); }

}  // namespace sublink
