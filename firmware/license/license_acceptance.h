// The acceptance rules of PROTOCOL.md section 4 for a `license_grant`, and
// the boot-time check of a stored license.
#pragma once

#include <optional>
#include <string_view>

#include "firmware/license/license.h"

namespace sublink {

/// The device's identity and the server's clock, against which a grant is
/// judged.
struct LicenseContext {
  std::string_view customer_id;
  std::string_view system_id;
  /// Server clock (UTC ms) from `welcome` or the latest `heartbeat_ack`,
  /// advanced by the monotonic time since; nullopt before any.
  std::optional<Millis> server_now;
  /// The license held now, or nullptr: a grant must be issued later.
  const License* held = nullptr;
  /// `issued` of the newest license revoked (0: none): a grant must be
  /// issued later, so a revoked grant is never applied again.
  Millis revoked_issued = 0;
};

/// What a grant decision says; `json` names the field for bad_field and
/// field_too_long.
struct LicenseDecision {
  LicenseRefusal refusal = LicenseRefusal::none;
  JsonError json;
  bool accepted() const { return refusal == LicenseRefusal::none; }
};

/// The `license_grant` fields as received (base64url text).
struct LicenseGrantFields {
  std::string_view license;
  std::string_view sig;
  std::string_view alg;
};

/// Checks a grant in this order: alg is ES256, both fields decode, the
/// signature verifies over the exact license bytes (before any of them is
/// parsed), the JSON is well-formed and within bounds, customer and system
/// are ours, not_before <= server_now <= expires, and issued is later than
/// the held license's. On acceptance fills `out`; otherwise `out` is
/// unspecified (pass a scratch license, not the held one).
LicenseDecision accept_license_grant(const LicenseKey& key, const LicenseGrantFields& grant,
                                     const LicenseContext& context, License& out);

/// Re-checks a license restored from storage at boot: signature, JSON and
/// identity. The validity window waits for the server's clock (check it with
/// license_window_refusal once known); replay does not apply.
LicenseDecision verify_stored_license(const LicenseKey& key, const SignedLicense& stored,
                                      std::string_view customer_id, std::string_view system_id, License& out);

/// How far the device's estimate of the server clock may trail the server
/// (the transit time of the message it was taken from, on a slow link).
inline constexpr Millis kServerClockLagMs = 60 * 1000;

/// not_yet_valid, expired, or none for `now` within
/// [not_before - kServerClockLagMs, expires] (both ends included).
LicenseRefusal license_window_refusal(const LicenseTerms& terms, Millis now);

}  // namespace sublink
