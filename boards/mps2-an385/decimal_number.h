// Decimal numbers as JSON writes them, parsed without the C library's
// strtod: newlib's is correctly rounded for every input, at the price of
// 10 KB of big-number code in the image. The board's strtod (syscalls.cpp)
// is this function; cJSON is its only caller and hands it nothing but
// digits, signs, '.', 'e' and 'E'.
#pragma once

namespace sublink::mps2 {

/// Parses [+-]digits[.digits][(e|E)[+-]digits] at the start of `text` the
/// way strtod does for such input (a number may also start or end with the
/// '.'). `end` gets the first byte not used, or `text` when there is no
/// number (then 0 is returned). Integers below 2^53 come out exact, and a
/// number whose digits form such an integer and whose power of ten is at
/// most 22 either way comes out as strtod gives it (one correctly rounded
/// operation); others may differ from it in the last bits. Out of range
/// gives infinity or 0, as strtod does (without errno).
double parse_decimal(const char* text, const char** end);

}  // namespace sublink::mps2
