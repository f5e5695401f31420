#include <cstdio>

#include "net/address/ip_address.h"

namespace sublink {

namespace {

bool parse_v4(std::string_view t, uint8_t out[4]) {
  int part = 0;
  size_t i = 0;
  while (part < 4) {
    if (i >= t.size() || t[i] < '0' || t[i] > '9') return false;
    unsigned v = 0;
    size_t digits = 0;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') {
      v = v * 10 + static_cast<unsigned>(t[i] - '0');
      if (++digits > 3 || v > 255) return false;
      ++i;
    }
    if (digits > 1 && t[i - digits] == '0') return false;  // no octal-looking parts
    out[part++] = static_cast<uint8_t>(v);
    if (part < 4) {
      if (i >= t.size() || t[i] != '.') return false;
      ++i;
    }
  }
  return i == t.size();
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool parse_v6(std::string_view t, uint8_t out[16]) {
  uint16_t words[8] = {};
  int n = 0, gap = -1;
  size_t i = 0;
  if (t.size() >= 2 && t[0] == ':' && t[1] == ':') {
    gap = 0;
    i = 2;
    if (i == t.size()) goto done;
  } else if (!t.empty() && t[0] == ':') {
    return false;
  }
  while (i < t.size()) {
    if (n == 8) return false;
    // An embedded IPv4 tail (::ffff:1.2.3.4).
    size_t end = t.find(':', i);
    std::string_view group = t.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i);
    if (group.find('.') != std::string_view::npos) {
      uint8_t v4[4];
      if (end != std::string_view::npos || n > 6 || !parse_v4(group, v4)) return false;
      words[n++] = static_cast<uint16_t>(v4[0] << 8 | v4[1]);
      words[n++] = static_cast<uint16_t>(v4[2] << 8 | v4[3]);
      break;
    }
    if (group.empty() || group.size() > 4) return false;
    unsigned v = 0;
    for (char c : group) {
      int h = hex(c);
      if (h < 0) return false;
      v = v << 4 | static_cast<unsigned>(h);
    }
    words[n++] = static_cast<uint16_t>(v);
    if (end == std::string_view::npos) break;
    i = end + 1;
    if (i < t.size() && t[i] == ':') {
      if (gap >= 0) return false;
      gap = n;
      ++i;
    } else if (i == t.size()) {
      return false;  // trailing single colon
    }
  }
done:
  if (gap < 0 && n != 8) return false;
  if (gap >= 0 && n == 8) return false;
  uint16_t full[8] = {};
  if (gap >= 0) {
    int tail = n - gap;
    for (int k = 0; k < gap; ++k) full[k] = words[k];
    for (int k = 0; k < tail; ++k) full[8 - tail + k] = words[gap + k];
  } else {
    for (int k = 0; k < 8; ++k) full[k] = words[k];
  }
  for (int k = 0; k < 8; ++k) {
    out[2 * k] = static_cast<uint8_t>(full[k] >> 8);
    out[2 * k + 1] = static_cast<uint8_t>(full[k]);
  }
  return true;
}

}  // namespace

IpAddress IpAddress::parse(std::string_view text) {
  IpAddress a;
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
    if (parse_v6(text, a.bytes)) a.family = 6;
    return a;
  }
  if (parse_v4(text, a.bytes)) {
    a.family = 4;
  } else if (parse_v6(text, a.bytes)) {
    a.family = 6;
  }
  return a;
}

size_t IpAddress::format(std::span<char> out) const {
  if (out.empty()) return 0;
  int n = 0;
  if (family == 4) {
    n = snprintf(out.data(), out.size(), "%u.%u.%u.%u", bytes[0], bytes[1], bytes[2], bytes[3]);
  } else if (family == 6) {
    // Longest run of zero words becomes "::" (RFC 5952).
    int best = -1, best_len = 0;
    for (int k = 0; k < 8;) {
      if (bytes[2 * k] == 0 && bytes[2 * k + 1] == 0) {
        int s = k;
        while (k < 8 && bytes[2 * k] == 0 && bytes[2 * k + 1] == 0) ++k;
        if (k - s > best_len && k - s > 1) best = s, best_len = k - s;
      } else {
        ++k;
      }
    }
    size_t pos = 0;
    for (int k = 0; k < 8 && pos < out.size(); ++k) {
      if (k == best) {
        pos += static_cast<size_t>(snprintf(out.data() + pos, out.size() - pos, "::"));
        k += best_len - 1;
        continue;
      }
      bool need_colon = pos > 0 && out[pos - 1] != ':';
      pos += static_cast<size_t>(snprintf(out.data() + pos, out.size() - pos, "%s%x", need_colon ? ":" : "",
                                          bytes[2 * k] << 8 | bytes[2 * k + 1]));
    }
    n = static_cast<int>(pos);
  } else {
    n = snprintf(out.data(), out.size(), "-");
  }
  if (n < 0) return 0;
  return static_cast<size_t>(n) < out.size() ? static_cast<size_t>(n) : out.size() - 1;
}

}  // namespace sublink
