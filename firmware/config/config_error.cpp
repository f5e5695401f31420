#include "firmware/config/config_error.h"

#include "hal/decimal.h"

namespace sublink {

namespace {
constexpr size_t kMaxQuoted = 40;
constexpr std::string_view kEllipsis = "...";
}  // namespace

ConfigError ConfigError::begin(Reason reason) {
  ConfigError e;
  e.status_ = Status(reason);
  e.add("config: ");
  return e;
}

void ConfigError::put(char c) {
  if (cut_) return;
  if (size_ + kEllipsis.size() >= kMaxText) {
    // Keep room for the ellipsis, so a cut message says it was cut.
    for (char d : kEllipsis) text_[size_++] = d;
    cut_ = true;
  } else {
    text_[size_++] = c;
  }
  text_[size_] = '\0';
}

ConfigError& ConfigError::add(std::string_view text) {
  for (char c : text) put(c);
  return *this;
}

ConfigError& ConfigError::add_int(int64_t value) {
  const DecimalText text = decimal_signed(value);  // named: the loop outlives a temporary
  for (char c : text.view()) put(c);
  return *this;
}

ConfigError& ConfigError::add_quoted(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  put('"');
  size_t i = 0;
  for (; i < text.size() && i < kMaxQuoted; ++i) {
    auto u = static_cast<unsigned char>(text[i]);
    if (u == '"' || u == '\\') {
      put('\\');
      put(static_cast<char>(u));
    } else if (u < 0x20 || u == 0x7f) {
      put('\\');
      put('x');
      put(kHex[u >> 4]);
      put(kHex[u & 0xf]);
    } else {
      put(static_cast<char>(u));
    }
  }
  if (i < text.size()) add(kEllipsis);
  put('"');
  return *this;
}

}  // namespace sublink
