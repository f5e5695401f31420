#include "hal/decimal.h"

#include <charconv>

namespace sublink {

DecimalText decimal(uint64_t value) {
  DecimalText out;
  // kMaxSize holds every uint64_t, so to_chars cannot fail here.
  const std::to_chars_result r = std::to_chars(out.text_, out.text_ + DecimalText::kMaxSize, value);
  out.size_ = static_cast<uint8_t>(r.ptr - out.text_);
  return out;
}

DecimalText decimal_signed(int64_t value) {
  DecimalText out;
  // kMaxSize holds every int64_t with its sign, so to_chars cannot fail here.
  const std::to_chars_result r = std::to_chars(out.text_, out.text_ + DecimalText::kMaxSize, value);
  out.size_ = static_cast<uint8_t>(r.ptr - out.text_);
  return out;
}

}  // namespace sublink
