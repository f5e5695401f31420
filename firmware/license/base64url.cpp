#include "firmware/license/base64url.h"

namespace sublink {

namespace {
int sextet(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}
}  // namespace

size_t base64url_decoded_size(size_t encoded_length) {
  size_t rest = encoded_length % 4;
  if (rest == 1) return 0;
  return encoded_length / 4 * 3 + (rest == 0 ? 0 : rest - 1);
}

Result<size_t> base64url_decode(std::string_view text, std::span<uint8_t> out) {
  if (text.size() % 4 == 1) return Status(Reason::invalid_argument, static_cast<int32_t>(text.size() - 1));
  size_t needed = base64url_decoded_size(text.size());
  if (needed > out.size()) return Status(Reason::out_of_memory, static_cast<int32_t>(needed));

  uint32_t bits = 0;
  int bit_count = 0;
  size_t written = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    int v = sextet(text[i]);
    if (v < 0) return Status(Reason::invalid_argument, static_cast<int32_t>(i));
    bits = (bits << 6) | static_cast<uint32_t>(v);
    bit_count += 6;
    if (bit_count >= 8) {
      bit_count -= 8;
      out[written++] = static_cast<uint8_t>(bits >> bit_count);
      bits &= (1u << bit_count) - 1;
    }
  }
  // Leftover bits must be zero, or two texts would decode to the same bytes.
  if (bits != 0) return Status(Reason::invalid_argument, static_cast<int32_t>(text.size() - 1));
  return written;
}

}  // namespace sublink
