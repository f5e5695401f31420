#include "net/tls/ip_literal.h"

namespace sublink {

namespace {

// Four decimal octets, no leading zeros (which some stacks read as octal).
bool parse_ipv4(std::string_view text, uint8_t* out) {
  int part = 0;
  size_t i = 0;
  while (part < 4) {
    size_t start = i;
    unsigned value = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9' && i - start < 3) {
      value = value * 10 + static_cast<unsigned>(text[i] - '0');
      ++i;
    }
    size_t digits = i - start;
    if (digits == 0 || value > 255 || (digits > 1 && text[start] == '0')) return false;
    out[part++] = static_cast<uint8_t>(value);
    if (part < 4) {
      if (i >= text.size() || text[i] != '.') return false;
      ++i;
    }
  }
  return i == text.size();
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool parse_ipv6(std::string_view text, uint8_t* out) {
  uint16_t groups[8] = {};
  int count = 0;
  int gap = -1;  // index in groups where "::" stands
  size_t i = 0;
  if (text.substr(0, 2) == "::") {
    gap = 0;
    i = 2;
    if (i == text.size()) {
      for (int k = 0; k < 16; ++k) out[k] = 0;
      return true;
    }
  } else if (!text.empty() && text[0] == ':') {
    return false;
  }
  while (i < text.size()) {
    if (count == 8) return false;
    // A dotted IPv4 tail takes the last two groups.
    size_t next_colon = text.find(':', i);
    std::string_view piece = text.substr(i, next_colon == std::string_view::npos ? text.npos : next_colon - i);
    if (next_colon == std::string_view::npos && piece.find('.') != std::string_view::npos) {
      uint8_t v4[4];
      if (count > 6 || !parse_ipv4(piece, v4)) return false;
      groups[count++] = static_cast<uint16_t>(v4[0] << 8 | v4[1]);
      groups[count++] = static_cast<uint16_t>(v4[2] << 8 | v4[3]);
      i = text.size();
      break;
    }
    if (piece.empty() || piece.size() > 4) return false;
    unsigned value = 0;
    for (char c : piece) {
      int h = hex_value(c);
      if (h < 0) return false;
      value = value << 4 | static_cast<unsigned>(h);
    }
    groups[count++] = static_cast<uint16_t>(value);
    i += piece.size();
    if (i == text.size()) break;
    ++i;  // the ':'
    if (i < text.size() && text[i] == ':') {
      if (gap >= 0) return false;  // a second "::"
      gap = count;
      ++i;
    } else if (i == text.size()) {
      return false;  // trailing single ':'
    }
  }
  if (gap < 0 && count != 8) return false;
  if (gap >= 0 && count > 7) return false;
  uint16_t full[8] = {};
  if (gap < 0) {
    for (int k = 0; k < 8; ++k) full[k] = groups[k];
  } else {
    int tail = count - gap;
    for (int k = 0; k < gap; ++k) full[k] = groups[k];
    for (int k = 0; k < tail; ++k) full[8 - tail + k] = groups[gap + k];
  }
  for (int k = 0; k < 8; ++k) {
    out[2 * k] = static_cast<uint8_t>(full[k] >> 8);
    out[2 * k + 1] = static_cast<uint8_t>(full[k] & 0xff);
  }
  return true;
}

}  // namespace

std::optional<IpAddress> parse_ip_literal(std::string_view text) {
  IpAddress address;
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
    if (!parse_ipv6(text.substr(1, text.size() - 2), address.bytes)) return std::nullopt;
    address.size = 16;
    return address;
  }
  if (text.find(':') != std::string_view::npos) {
    if (!parse_ipv6(text, address.bytes)) return std::nullopt;
    address.size = 16;
    return address;
  }
  if (!parse_ipv4(text, address.bytes)) return std::nullopt;
  address.size = 4;
  return address;
}

}  // namespace sublink
