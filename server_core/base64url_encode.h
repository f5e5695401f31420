// base64url encoding (RFC 4648 section 5, URL alphabet, no padding): how
// sublink/1 carries the license bytes and the signature. The device only
// decodes (firmware/license/base64url.h); encoding is the server's side.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace sublink {

/// `bytes` as unpadded base64url, the exact form the device's strict
/// decoder accepts (unused trailing bits are zero).
std::string base64url_encode(std::span<const uint8_t> bytes);

/// The bytes of `text` as unpadded base64url.
std::string base64url_encode(std::string_view text);

}  // namespace sublink
