// License grant acceptance (firmware/license) with a real key, so mutated
// licenses get past the signature: the input is the license payload (the
// signed bytes), signed here with a fixed test key (made once from a fixed
// seed) whose public half the verifier trusts. The first input byte picks
// the context (a held license, a server clock); the rest is the payload.
//
// Invariants: an accepted license is within every stated bound (ids ours,
// at most kMaxLicenseFeatures features with names of 1..31 bytes, each
// named once, times in [0, kMaxLicenseTimeMs] with not_before <= expires and
// issued <= expires, the server clock inside the window, issued later than
// the held one's), keeps the exact signed bytes and signature, survives its
// storage record (write, read, verify again: the same terms, the record
// re-encodes to the same bytes), and is refused once its signature changes.
// Two ECDSA operations per input (sign, verify), a third for an accepted one.
#include <cstring>
#include <string>

#include "firmware/json/json_arena.h"
#include "firmware/license/license_acceptance.h"
#include "firmware/license/license_record.h"
#include "fuzz/fuzz_check.h"
#include "hal/sim/deterministic_random.h"
#include "server_core/base64url_encode.h"
#include "server_core/license_signer.h"

using namespace sublink;
using sublink::fuzz::check;

namespace {

constexpr std::string_view kCustomer = "C-42";
constexpr std::string_view kSystem = "SYS-7";
constexpr Millis kServerNow = 1'700'000'000'000;
constexpr Millis kHeldIssued = 1'690'000'000'000;

struct Keys {
  DeterministicRandom entropy{0x5eed'0001ull};
  LicenseSigner signer{entropy};
  LicenseKey key;
  Keys() {
    check(signer.generate().ok());
    check(key.load(signer.public_key_pem()).ok());
  }
};

bool same_terms(const LicenseTerms& a, const LicenseTerms& b) {
  if (a.serial.view() != b.serial.view() || a.customer_id.view() != b.customer_id.view() ||
      a.system_id.view() != b.system_id.view() || a.issued != b.issued || a.not_before != b.not_before ||
      a.expires != b.expires || a.feature_count != b.feature_count) {
    return false;
  }
  for (size_t i = 0; i < a.feature_count; ++i) {
    if (a.features[i].name.view() != b.features[i].name.view() || a.features[i].qty != b.features[i].qty) return false;
  }
  return true;
}

void check_bounds(const LicenseTerms& t, const LicenseContext& context) {
  check(t.customer_id == kCustomer && t.system_id == kSystem);
  check(t.feature_count <= kMaxLicenseFeatures);
  for (size_t i = 0; i < t.feature_count; ++i) {
    const std::string_view name = t.features[i].name.view();
    check(!name.empty() && name.size() <= kMaxFeatureNameLength);
    for (size_t j = 0; j < i; ++j) check(t.features[j].name.view() != name);
  }
  check(t.issued >= 0 && t.issued <= kMaxLicenseTimeMs);
  check(t.not_before >= 0 && t.not_before <= kMaxLicenseTimeMs);
  check(t.expires >= 0 && t.expires <= kMaxLicenseTimeMs);
  check(t.not_before <= t.expires && t.issued <= t.expires);
  check(context.server_now.has_value());
  check(license_window_refusal(t, *context.server_now) == LicenseRefusal::none);
  if (context.held != nullptr) check(t.issued > context.held->terms.issued);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Keys keys;
  alignas(8) static uint8_t memory[12 * 1024];
  static JsonArena arena(memory);
  arena.install();
  if (size < 1) return 0;
  const uint8_t flags = data[0];
  const std::string_view payload = sublink::fuzz::as_text(data + 1, size - 1);

  static License held;
  held.terms.issued = kHeldIssued;
  LicenseContext context{kCustomer, kSystem, std::nullopt, nullptr};
  if (flags & 1) context.server_now = kServerNow + (flags >> 2) * 86'400'000ll;
  if (flags & 2) context.held = &held;

  Result<Es256Signature> sig = keys.signer.sign(payload);
  check(sig.ok());
  const std::string license_text = base64url_encode(payload);
  const std::string sig_text = base64url_encode(std::span<const uint8_t>(sig->data(), sig->size()));
  static License out;
  LicenseDecision decision = accept_license_grant(keys.key, {license_text, sig_text, "ES256"}, context, out);
  check(arena.live_blocks() == 0);
  if (payload.size() > kMaxLicenseBytes) check(decision.refusal == LicenseRefusal::too_large);
  // The signature is good: a refusal is about what the license says.
  check(decision.refusal != LicenseRefusal::bad_signature && decision.refusal != LicenseRefusal::bad_encoding);
  if (!decision.accepted()) return 0;

  check_bounds(out.terms, context);
  check(sublink::fuzz::same_bytes(out.signed_form.license_bytes(), sublink::fuzz::as_bytes(data + 1, size - 1)));
  check(std::memcmp(out.signed_form.signature.data(), sig->data(), sig->size()) == 0);

  // The storage record round trip, verified again as at boot.
  static uint8_t record[kMaxLicenseRecordBytes];
  Result<size_t> written = write_license_record(out.signed_form, record);
  check(written.ok());
  static SignedLicense stored;
  check(read_license_record({record, *written}, stored).ok());
  static uint8_t again[kMaxLicenseRecordBytes];
  Result<size_t> rewritten = write_license_record(stored, again);
  check(rewritten.ok() && sublink::fuzz::same_bytes({record, *written}, {again, *rewritten}));
  static License restored;
  check(verify_stored_license(keys.key, stored, kCustomer, kSystem, restored).accepted());
  check(same_terms(restored.terms, out.terms));

  // The same bytes under another signature are refused before any parsing.
  std::string forged = sig_text;
  forged[forged.size() / 2] = forged[forged.size() / 2] == 'A' ? 'B' : 'A';
  static License scratch;
  check(accept_license_grant(keys.key, {license_text, forged, "ES256"}, context, scratch).refusal ==
        LicenseRefusal::bad_signature);
  return 0;
}
