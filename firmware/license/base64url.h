// base64url (RFC 4648 section 5) as sublink/1 carries licenses and
// signatures: URL alphabet, no padding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "hal/status.h"

namespace sublink {

/// Bytes that `encoded_length` characters of base64url decode to (the
/// buffer size a caller needs); 0 for a length no valid input has.
size_t base64url_decoded_size(size_t encoded_length);

/// Decodes unpadded base64url into `out`. Strict, because signed bytes
/// must have exactly one encoding: '=' padding, characters outside
/// [A-Za-z0-9-_], a length of 4n+1, and non-zero unused trailing bits are
/// invalid_argument (detail: offending offset); out_of_memory when `out` is
/// too small. Returns the decoded length.
Result<size_t> base64url_decode(std::string_view text, std::span<uint8_t> out);

}  // namespace sublink
