#include "hal/decimal.h"

namespace sublink {

DecimalText decimal_text(uint64_t magnitude, bool negative) {
  // Not std::to_chars: in the mps2-an385 image its digit-pair table and
  // conversion took 401 bytes besides this function, which is 128 bytes
  // with the loop; the image's flash must not grow (tools/footprint). tests/hal/decimal_test.cpp
  // checks this loop against std::to_string across the whole range.
  char reversed[DecimalText::kMaxSize];
  size_t n = 0;
  do {
    reversed[n++] = static_cast<char>('0' + magnitude % 10);
    magnitude /= 10;
  } while (magnitude != 0);
  DecimalText out;
  size_t size = 0;
  if (negative) out.text_[size++] = '-';
  while (n > 0) out.text_[size++] = reversed[--n];
  out.size_ = static_cast<uint8_t>(size);
  return out;
}

}  // namespace sublink
