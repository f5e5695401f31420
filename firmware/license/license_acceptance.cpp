#include "firmware/license/license_acceptance.h"

#include "firmware/license/base64url.h"

namespace sublink {

namespace {

LicenseDecision refuse(LicenseRefusal refusal) {
  LicenseDecision d;
  d.refusal = refusal;
  return d;
}

// Shared by grants and stored licenses: everything that does not depend on
// the server's clock or the held license.
LicenseDecision check_signed(const LicenseKey& key, std::string_view customer_id, std::string_view system_id,
                             License& out) {
  if (!key.loaded()) return refuse(LicenseRefusal::no_key);
  if (!key.verify(out.signed_form.license_bytes(), out.signed_form.signature)) {
    return refuse(LicenseRefusal::bad_signature);
  }
  LicenseParseError parsed = parse_license_terms(out.signed_form.license_bytes(), out.terms);
  if (parsed.refusal != LicenseRefusal::none) {
    LicenseDecision d;
    d.refusal = parsed.refusal;
    d.json = parsed.json;
    return d;
  }
  if (out.terms.customer_id.view() != customer_id) return refuse(LicenseRefusal::wrong_customer);
  if (out.terms.system_id.view() != system_id) return refuse(LicenseRefusal::wrong_system);
  return {};
}

}  // namespace

LicenseRefusal license_window_refusal(const LicenseTerms& terms, Millis now) {
  // `now` is the device's estimate of the server's clock, the server time
  // of the latest welcome/heartbeat_ack carried forward: it trails the
  // server's real clock by that message's transit time. A license issued
  // with not_before == issued, right after the welcome, could be refused for
  // that lag alone, so not_before gets kServerClockLagMs of slack. expires
  // gets none: the lag already errs on the device's side there.
  if (now < terms.not_before - kServerClockLagMs) return LicenseRefusal::not_yet_valid;
  if (now > terms.expires) return LicenseRefusal::expired;
  return LicenseRefusal::none;
}

LicenseDecision accept_license_grant(const LicenseKey& key, const LicenseGrantFields& grant,
                                     const LicenseContext& context, License& out) {
  if (grant.alg != "ES256") return refuse(LicenseRefusal::unsupported_alg);
  if (base64url_decoded_size(grant.license.size()) > kMaxLicenseBytes) return refuse(LicenseRefusal::too_large);
  auto size = base64url_decode(grant.license, out.signed_form.bytes);
  if (!size.ok()) return refuse(LicenseRefusal::bad_encoding);
  out.signed_form.size = *size;
  // A signature of the wrong length is decoded into a larger scratch buffer
  // so it is reported as a bad signature, not as bad encoding.
  uint8_t sig[kEs256SignatureBytes + 3];
  auto sig_size = base64url_decode(grant.sig, sig);
  if (!sig_size.ok()) {
    return refuse(sig_size.status().reason() == Reason::out_of_memory ? LicenseRefusal::bad_signature
                                                                      : LicenseRefusal::bad_encoding);
  }
  if (*sig_size != kEs256SignatureBytes) return refuse(LicenseRefusal::bad_signature);
  for (size_t i = 0; i < kEs256SignatureBytes; ++i) out.signed_form.signature[i] = sig[i];

  LicenseDecision d = check_signed(key, context.customer_id, context.system_id, out);
  if (!d.accepted()) return d;
  if (!context.server_now) return refuse(LicenseRefusal::no_server_time);
  LicenseRefusal window = license_window_refusal(out.terms, *context.server_now);
  if (window != LicenseRefusal::none) return refuse(window);
  if (context.held != nullptr && out.terms.issued <= context.held->terms.issued) {
    return refuse(LicenseRefusal::replayed);
  }
  if (out.terms.issued <= context.revoked_issued) return refuse(LicenseRefusal::replayed);
  return {};
}

LicenseDecision verify_stored_license(const LicenseKey& key, const SignedLicense& stored,
                                      std::string_view customer_id, std::string_view system_id, License& out) {
  if (stored.size > kMaxLicenseBytes) return refuse(LicenseRefusal::bad_record);
  if (&out.signed_form != &stored) out.signed_form = stored;
  return check_signed(key, customer_id, system_id, out);
}

}  // namespace sublink
