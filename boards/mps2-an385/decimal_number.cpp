#include "boards/mps2-an385/decimal_number.h"

#include <cstdint>

namespace sublink::mps2 {

namespace {

// Powers of ten a double holds exactly.
constexpr double kExactPowers[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                   1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
constexpr int kMaxExactPower = 22;
// More digits than this are dropped (the value is scaled instead).
constexpr uint64_t kMantissaLimit = (UINT64_MAX - 9) / 10;
// Exponents beyond this are already far outside a double's range.
constexpr int kExponentLimit = 100000;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Adds a digit to the mantissa, or counts it in the scale once the mantissa
// is full (`dropped_scale`: what a dropped digit is worth, 1 before the
// point and 0 after it).
void take_digit(char c, uint64_t& mantissa, int& scale, int kept_scale, int dropped_scale) {
  if (mantissa <= kMantissaLimit) {
    mantissa = mantissa * 10 + static_cast<uint64_t>(c - '0');
    scale += kept_scale;
  } else {
    scale += dropped_scale;
  }
}

}  // namespace

double parse_decimal(const char* text, const char** end) {
  const char* p = text;
  const bool negative = *p == '-';
  if (*p == '+' || *p == '-') ++p;
  uint64_t mantissa = 0;
  int scale = 0;
  bool digits = false;
  for (; is_digit(*p); ++p, digits = true) take_digit(*p, mantissa, scale, 0, 1);
  if (*p == '.') {
    const char* q = p + 1;
    for (; is_digit(*q); ++q, digits = true) take_digit(*q, mantissa, scale, -1, 0);
    if (digits) p = q;
  }
  if (!digits) {
    *end = text;
    return 0.0;
  }
  if (*p == 'e' || *p == 'E') {
    const char* q = p + 1;
    const bool negative_exponent = *q == '-';
    if (*q == '+' || *q == '-') ++q;
    if (is_digit(*q)) {
      int exponent = 0;
      for (; is_digit(*q); ++q) {
        if (exponent < kExponentLimit) exponent = exponent * 10 + (*q - '0');
      }
      scale += negative_exponent ? -exponent : exponent;
      p = q;
    }
  }
  *end = p;
  double value = static_cast<double>(mantissa);
  for (; scale > kMaxExactPower && value != 0.0; scale -= kMaxExactPower) value *= kExactPowers[kMaxExactPower];
  for (; scale < -kMaxExactPower && value != 0.0; scale += kMaxExactPower) value /= kExactPowers[kMaxExactPower];
  if (scale > 0 && scale <= kMaxExactPower) value *= kExactPowers[scale];
  if (scale < 0 && scale >= -kMaxExactPower) value /= kExactPowers[-scale];
  return negative ? -value : value;
}

}  // namespace sublink::mps2
