// The device's strict base64url decoder (firmware/license). Invariants: the
// decoded size is what base64url_decoded_size promises; a decoded text is
// the one encoding of its bytes (the server's encoder gives it back
// exactly); a text the decoder refuses is not the encoding of anything, and
// the refused offset lies inside it; a short buffer is out_of_memory.
#include <vector>

#include "firmware/license/base64url.h"
#include "fuzz/fuzz_check.h"
#include "server_core/base64url_encode.h"

using namespace sublink;
using sublink::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = sublink::fuzz::as_text(data, size);
  std::vector<uint8_t> out(base64url_decoded_size(size) + 1);
  Result<size_t> decoded = base64url_decode(text, out);
  if (decoded.ok()) {
    check(*decoded == base64url_decoded_size(size));
    check(base64url_encode(std::span<const uint8_t>(out.data(), *decoded)) == text);
    if (*decoded > 0) {
      std::vector<uint8_t> small(*decoded - 1);
      Result<size_t> short_buffer = base64url_decode(text, small);
      check(!short_buffer.ok() && short_buffer.status().reason() == Reason::out_of_memory);
    }
  } else {
    check(decoded.status().reason() == Reason::invalid_argument);
    check(decoded.status().detail() >= 0 && static_cast<size_t>(decoded.status().detail()) <= size);
  }
  // Encoding any bytes gives a text that decodes back to them.
  const std::string encoded = base64url_encode(std::span<const uint8_t>(data, size));
  std::vector<uint8_t> back(base64url_decoded_size(encoded.size()));
  Result<size_t> round = base64url_decode(encoded, back);
  check(round.ok() && sublink::fuzz::same_bytes({back.data(), *round}, {data, size}));
  return 0;
}
